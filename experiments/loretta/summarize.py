#!/usr/bin/python3
"""The LoRETTA / AdaZeta table of docs/RESULTS.md from `frugal export --json` files.

usage: /usr/bin/python3 experiments/loretta/summarize.py EXPORT_DIR --frugal BIN

Runs are grouped by name (one configuration of experiments/loretta/, one run per seed). For each
group: trainable parameters (`frugal params --config`), seeds, runs that the divergence monitor
stopped, final and best dev accuracy and final dev loss (mean ± std over the seeds), test
accuracy at the end, and the forward passes and wall time each run needed to first reach
MeZO-LoRA's final dev loss (the mean over its seeds), and peak RSS. Every number is read from
the runs' stored series.
"""
import glob
import json
import math
import os
import subprocess
import sys

ORDER = ["mezo-full", "mezo-lora", "mezo-prefix", "loretta-adp-zo", "adazeta", "fo-loretta-adp"]
LABEL = {
    "mezo-full": "MeZO full",
    "mezo-lora": "MeZO-LoRA (q,v r 8)",
    "mezo-prefix": "MeZO-prefix (5 tokens)",
    "loretta-adp-zo": "MeZO on LoRETTA_adp",
    "adazeta": "AdaZeta (LoRETTA_adp + Q schedule)",
    "fo-loretta-adp": "FO AdamW on LoRETTA_adp",
}


def series(metrics, key):
    return [(p[0], p[1], p[2]) for p in metrics.get(key, [])]


def mean_std(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "-"
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return "%.3f ± %.3f" % (m, s)


def mean_std_int(values, unit=""):
    if not values:
        return "-"
    m = sum(values) / len(values)
    s = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return "%s ± %s%s" % (format(round(m), ","), format(round(s), ","), unit)


def passes_at(d, step):
    """Forward passes done by STEP: the run's zo/forward_passes, or one per step (first order)."""
    fp = series(d["metrics"], "zo/forward_passes")
    if not fp:
        return step
    done = 0
    for s, _, v in fp:
        if s <= step:
            done = v
    return done


def runs_by_name(export_dir):
    """The exported runs of EXPORT_DIR (`frugal export --json`), grouped by run name."""
    groups = {}
    for f in sorted(glob.glob(os.path.join(export_dir, "*.json"))):
        d = json.load(open(f))
        groups.setdefault(d["name"], []).append(d)
    return groups


def trainable(frugal, config):
    """`frugal params --config CONFIG`'s trainable count with thousands separators; "-" where the
    config is missing or its method trains no parameter subset."""
    if not os.path.exists(config):
        return "-"
    out = subprocess.run([frugal, "--quiet", "params", "--config", config, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return "-"
    return format(json.loads(out.stdout)["trainable"], ",")


def main():
    if len(sys.argv) < 2 or "--frugal" not in sys.argv:
        print(__doc__)
        return 2
    frugal = sys.argv[sys.argv.index("--frugal") + 1]
    groups = runs_by_name(sys.argv[1])
    finished = lambda runs: [r for r in runs if r["status"] == "finished"]
    lora = finished(groups.get("mezo-lora", []))
    target = sum(series(r["metrics"], "dev/loss")[-1][2] for r in lora) / len(lora) if lora else float("nan")
    print("Target: MeZO-LoRA's final dev loss, mean over %d seeds = %.4f\n" % (len(lora), target))
    print("| method | trainable | seeds (stopped) | dev acc final | dev acc best | dev loss final | test acc | "
          "forward passes to target (reached) | wall s to target | total forward passes | wall s | peak RSS MiB |")
    print("|---|---:|---|---|---|---|---|---|---|---:|---:|---:|")
    for name in ORDER + sorted(set(groups) - set(ORDER)):
        runs = groups.get(name)
        if not runs:
            continue
        ok = finished(runs)
        count = trainable(frugal, os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".toml"))
        seeds = ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"]))
        stopped = len(runs) - len(ok)
        final_acc, best_acc, final_loss, test_acc = [], [], [], []
        reach_passes, reach_wall, total_passes, wall, rss = [], [], [], [], []
        for r in ok:
            m = r["metrics"]
            dev = series(m, "dev/accuracy")
            loss = series(m, "dev/loss")
            final_acc.append(dev[-1][2])
            best_acc.append(max(v for _, _, v in dev))
            final_loss.append(loss[-1][2])
            test = series(m, "test/accuracy")
            test_acc.append(test[-1][2] if test else float("nan"))
            start = min(p[1] for k in m for p in m[k] if not k.startswith("sys/"))
            hit = next(((s, w) for s, w, v in loss if v <= target), None)
            if hit:
                reach_passes.append(passes_at(r, hit[0]))
                reach_wall.append((hit[1] - start) / 1000.0)
            last_step = loss[-1][0]
            total_passes.append(passes_at(r, last_step))
            sec = series(m, "sys/seconds")
            wall.append(sec[-1][2] if sec else float("nan"))
            peak = series(m, "sys/peak_rss_mb")
            rss.append(peak[-1][2] if peak else float("nan"))
        print("| %s | %s | %s (%d) | %s | %s | %s | %s | %s (%d/%d) | %s | %s | %s | %s |" % (
            LABEL.get(name, name), count, seeds, stopped, mean_std(final_acc), mean_std(best_acc),
            mean_std(final_loss), mean_std(test_acc), mean_std_int(reach_passes), len(reach_passes), len(ok),
            mean_std_int(reach_wall), mean_std_int(total_passes), mean_std_int(wall), mean_std_int(rss)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
