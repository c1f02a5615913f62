#!/usr/bin/python3
"""The SmolLM2 fine-tuning table of docs/RESULTS.md from `frugal export --json` files.

usage: /usr/bin/python3 experiments/smollm2/finetune-summarize.py EXPORT_DIR --frugal BIN

Runs are named by their config (experiments/smollm2/finetune-table.sh: ft-CONFIG.toml, tagged
seed-N) and grouped by name. For
each group, mean ± std over its finished seeds of: dev accuracy at step 0 (the zero-shot prompt,
or SharpZO's starting prompt), best dev accuracy and the steps it was reached at, final dev
accuracy and loss, test accuracy (the test split is scored once, at the end), training forward
passes, wall time, seconds a step and peak RSS; trainable parameters from `frugal params`. Every
number is read from the runs' stored series.
"""
import math
import os
import statistics
import sys

ORDER = ["mezo-full", "mezo-lora", "mezo-prefix", "loretta-adp", "loretta-adp-lr1e-4", "adazeta", "sharpzo-prompt", "fo-adamw-lora"]
LABEL = {
    "mezo-full": "MeZO full (fp32)",
    "mezo-lora": "MeZO-LoRA (q,v r 8)",
    "mezo-prefix": "MeZO-prefix (5 tokens)",
    "loretta-adp": "MeZO on LoRETTA_adp (lr 1e-3)",
    "loretta-adp-lr1e-4": "MeZO on LoRETTA_adp (lr 1e-4)",
    "adazeta": "AdaZeta (LoRETTA_adp, Q schedule, lr 1e-3)",
    "sharpzo-prompt": "SharpZO (4-token soft prompt)",
    "fo-adamw-lora": "FO AdamW-LoRA (reference)",
}


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "loretta"))
from summarize import mean_std, mean_std_int, runs_by_name, series, trainable  # noqa: E402  (the LoRETTA table's helpers)


def ms(values, digits=3):
    if digits == 3:
        return mean_std(values)
    values = [v for v in values if v is not None and not math.isnan(v)]
    return "%.*f ± %.*f" % (digits, statistics.mean(values), digits,
                            statistics.stdev(values) if len(values) > 1 else 0.0) if values else "-"


def main():
    if len(sys.argv) < 2 or "--frugal" not in sys.argv:
        print(__doc__)
        return 2
    frugal = sys.argv[sys.argv.index("--frugal") + 1]
    groups = runs_by_name(sys.argv[1])
    print("| method | trainable | seeds (stopped) | dev acc step 0 | dev acc best (at step) | dev acc final | "
          "test acc (end) | dev loss step 0 → final | forward passes | wall s | s / step | peak RSS MiB |")
    print("|---|---:|---|---|---|---|---|---|---:|---:|---:|---:|")
    for name in ORDER + sorted(set(groups) - set(ORDER)):
        runs = groups.get(name)
        if not runs:
            continue
        ok = [r for r in runs if r["status"] == "finished"]
        here = os.path.dirname(os.path.abspath(__file__))
        count = trainable(frugal, os.path.join(here, "ft-" + name + ".toml"))
        if count == "-" and ok and series(ok[0]["metrics"], "params/trainable"):
            # `frugal params` counts zo, mezo and fo configs; SharpZO logs the dimension it searches
            count = format(round(series(ok[0]["metrics"], "params/trainable")[0][2]), ",") + " (searched)"
        seeds = ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"]))
        acc0, best, best_at, final, test, loss0, lossf, passes, wall, per_step, rss = ([] for _ in range(11))
        for r in ok:
            m = r["metrics"]
            dev = series(m, "dev/accuracy")
            loss = series(m, "dev/loss")
            acc0.append(dev[0][2])
            top = max(v for _, _, v in dev)
            best.append(top)
            best_at.append("/".join(str(s) for s, _, v in dev if v == top))
            final.append(dev[-1][2])
            t = series(m, "test/accuracy")
            test.append(t[-1][2] if t else float("nan"))
            loss0.append(loss[0][2])
            lossf.append(loss[-1][2])
            fp = series(m, "zo/forward_passes")
            steps = max(s for k in m for s, _, _ in series(m, k))
            passes.append(fp[-1][2] if fp else steps)  # first order: one forward (and backward) a step
            sec = series(m, "sys/seconds")
            wall.append(sec[-1][2] if sec else float("nan"))
            sps = [v for _, _, v in series(m, "sys/steps_per_s") if v > 0]
            per_step.append(len(sps) / sum(sps) if sps else float("nan"))  # mean of 1/rate
            peak = series(m, "sys/peak_rss_mb")
            rss.append(peak[-1][2] if peak else float("nan"))
        fo = name.startswith("fo-")
        print("| %s | %s | %s (%d) | %s | %s (%s) | %s | %s | %s → %s | %s%s | %s | %s | %s |" % (
            LABEL.get(name, name), count, seeds, len(runs) - len(ok), ms(acc0), ms(best), "; ".join(best_at),
            ms(final), ms(test), ms(loss0), ms(lossf), mean_std_int(passes), " (+ backward)" if fo else "",
            mean_std_int(wall), ms(per_step, 2), mean_std_int(rss)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
