#!/usr/bin/python3
"""The ZO head-to-head table of docs/RESULTS.md from `frugal export --json` files of
experiments/smollm2/zo-table.sh's runs (named by their row, tagged seed-N).

usage: /usr/bin/python3 experiments/smollm2/zo-summarize.py EXPORT_DIR

For each row, mean ± std over its finished seeds of: dev accuracy (first 200 dev examples) and dev
loss at the budget, test accuracy at the budget (the whole split, scored once at the end), the
forward passes to reach MeZO's final dev loss (the mean over MeZO's seeds; the first evaluation
after step 0 at or below it, and how many seeds reached it), training forward passes, wall time and peak RSS.
Every number is read from the runs' stored series.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "loretta"))
from summarize import mean_std, mean_std_int, passes_at, runs_by_name, series  # noqa: E402

ORDER = ["mezo", "momentum", "nesterov", "sign", "conservative", "adam", "lion", "fzoo", "lezo", "lozo", "hizoo", "svrg"]
LABEL = {
    "mezo": "MeZO (ZO-SGD)",
    "momentum": "ZO-SGD momentum",
    "nesterov": "ZO-SGD Nesterov",
    "sign": "ZO-SignSGD",
    "conservative": "ZO-SGD conservative",
    "adam": "ZO-Adam",
    "lion": "ZO-Lion",
    "fzoo": "FZOO (batch 8)",
    "lezo": "LeZO (¼ of the blocks)",
    "lozo": "LOZO (r 2, ν 50)",
    "hizoo": "HiZOO (α 1e-6)",
    "svrg": "MeZO-SVRG (q 2, large batch 64)",
}


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    groups = runs_by_name(sys.argv[1])
    finished = lambda runs: [r for r in runs if r["status"] == "finished"]
    mezo = finished(groups.get("mezo", []))
    target = sum(series(r["metrics"], "dev/loss")[-1][2] for r in mezo) / len(mezo) if mezo else float("nan")
    print("Target: MeZO's final dev loss, mean over %d seeds = %.4f\n" % (len(mezo), target))
    print("| row | seeds (stopped) | dev acc at budget | dev loss step 0 → budget | test acc at budget | "
          "forward passes to MeZO's final dev loss (seeds reaching it) | forward passes | wall s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---:|---:|---:|")
    for name in ORDER + sorted(set(groups) - set(ORDER)):
        # a run cancelled by hand is no outcome of its row (the table is grown in sittings)
        runs = [r for r in groups.get(name, []) if r["status"] != "cancelled"]
        if not runs:
            continue
        ok = finished(runs)
        seeds = ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"]))
        acc, loss0, lossf, test, reach, passes, wall, rss = ([] for _ in range(8))
        for r in ok:
            m = r["metrics"]
            dev = series(m, "dev/accuracy")
            loss = series(m, "dev/loss")
            acc.append(dev[-1][2])
            loss0.append(loss[0][2])
            lossf.append(loss[-1][2])
            t = series(m, "test/accuracy")
            test.append(t[-1][2] if t else float("nan"))
            hit = next((s for s, _, v in loss if s > 0 and v <= target), None)  # after training began
            if hit is not None:
                reach.append(passes_at(r, hit))
            passes.append(passes_at(r, loss[-1][0]))
            sec = series(m, "sys/seconds")
            wall.append(sec[-1][2] if sec else float("nan"))
            peak = series(m, "sys/peak_rss_mb")
            rss.append(peak[-1][2] if peak else float("nan"))
        print("| %s | %s (%d) | %s | %s → %s | %s | %s (%d/%d) | %s | %s | %s |" % (
            LABEL.get(name, name), seeds, len(runs) - len(ok), mean_std(acc), mean_std(loss0), mean_std(lossf),
            mean_std(test), mean_std_int(reach), len(reach), len(ok), mean_std_int(passes), mean_std_int(wall),
            mean_std_int(rss)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
