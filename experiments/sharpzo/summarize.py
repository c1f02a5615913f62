#!/usr/bin/python3
"""SharpZO against plain ZO from `frugal export --json` files (docs/RESULTS.md).

usage: /usr/bin/python3 experiments/sharpzo/summarize.py EXPORT_DIR

One row per run, read from its stored series: the arm (SharpZO: generations > 0), seed, CMA-ES
generations, dev accuracy after stage 1, final and best dev accuracy, test accuracy, training
forwards to the target dev loss, the sharpness where ZO starts (Hutchinson trace ± its standard
error, the ε-ball rise), training forwards, wall time; then the mean ± standard deviation per arm.
"""
import glob
import json
import math
import os
import statistics
import sys


def values(metrics, key):
    return [p[2] for p in metrics.get(key, [])]


def last(metrics, key):
    v = values(metrics, key)
    return v[-1] if v else float("nan")


def fmt(x, digits=3):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def sharpzo_runs(export_dir):
    """(file, run) for each SharpZO run of a `frugal export --json` folder."""
    for f in sorted(glob.glob(os.path.join(export_dir, "*.json"))):
        d = json.load(open(f))
        if d["method"] == "sharpzo":
            yield f, d


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    rows = []
    for f, d in sharpzo_runs(sys.argv[1]):
        m, p = d["metrics"], d["params"]
        gens = int(p.get("sharpzo.generations", "100"))
        target = values(m, "sharpzo/forwards_to_target")
        dev = values(m, "dev/accuracy")
        devloss = m.get("dev/loss", [])
        stage1_steps = [pt[0] for pt in m.get("sharpzo/stage1_dev_accuracy", [])]
        loss_after1 = [pt[2] for pt in devloss if stage1_steps and pt[0] == stage1_steps[0]]
        rows.append({
            "run": d["id"] if "id" in d else os.path.basename(f),
            "arm": ("SharpZO" if float(p.get("sharpzo.rho", "0.05")) > 0 else "CMA-ES, rho = 0") if gens > 0
                   else "plain ZO",
            "seed": int(p.get("sharpzo.seed", "0")),
            "generations": len(values(m, "cma/sigma")),
            "stage1": last(m, "sharpzo/stage1_dev_accuracy") if gens > 0 else float("nan"),
            "final": dev[-1] if dev else float("nan"),
            "loss0": devloss[0][2] if devloss else float("nan"),
            "loss1": loss_after1[-1] if loss_after1 else float("nan"),
            "lossf": devloss[-1][2] if devloss else float("nan"),
            "best": max(dev) if dev else float("nan"),
            "test": last(m, "test/accuracy"),
            "to_target": target[0] if target else None,
            "trace": last(m, "sharpness/hutchinson_trace"),
            "trace_se": last(m, "sharpness/hutchinson_stderr"),
            "eps_ball": last(m, "sharpness/eps_ball"),
            "forwards": last(m, "train/forwards"),
            "seconds": last(m, "sys/seconds"),
        })
    print("| arm | seed | CMA-ES generations | dev acc. after stage 1 | final dev acc. | best dev acc. | test acc. "
          "| dev loss: start, after stage 1, final | forwards to target dev loss | Hutchinson trace at ZO start "
          "| eps-ball rise at ZO start | training forwards | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    arms = ("SharpZO", "CMA-ES, rho = 0", "plain ZO")
    for r in sorted(rows, key=lambda r: (arms.index(r["arm"]), r["seed"])):
        print(f"| {r['arm']} | {r['seed']} | {r['generations']} | {fmt(r['stage1'])} | {fmt(r['final'])} | "
              f"{fmt(r['best'])} | {fmt(r['test'])} | {fmt(r['loss0'])}, {fmt(r['loss1'])}, {fmt(r['lossf'])} | {'not reached' if r['to_target'] is None else int(r['to_target'])} | "
              f"{fmt(r['trace'], 3)} ± {fmt(r['trace_se'], 3)} | {fmt(r['eps_ball'], 5)} | {int(r['forwards'])} | "
              f"{fmt(r['seconds'], 0)} |")
    print()
    print("| arm | runs | dev acc. after stage 1 | final dev acc. | test acc. | dev loss after stage 1 | final dev loss "
          "| runs reaching the target | forwards to target (reached) | Hutchinson trace at ZO start | eps-ball rise at ZO start |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def ms(xs, digits=3):
        xs = [x for x in xs if x is not None and not math.isnan(x)]
        if not xs:
            return "-"
        sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
        return f"{statistics.mean(xs):.{digits}f} ± {sd:.{digits}f}"

    for arm in arms:
        rs = [r for r in rows if r["arm"] == arm]
        if not rs:
            continue
        reached = [r["to_target"] for r in rs if r["to_target"] is not None]
        print(f"| {arm} | {len(rs)} | {ms([r['stage1'] for r in rs])} | {ms([r['final'] for r in rs])} | "
              f"{ms([r['test'] for r in rs])} | {ms([r['loss1'] for r in rs])} | {ms([r['lossf'] for r in rs])} | {len(reached)} of {len(rs)} | {ms(reached, 0)} | "
              f"{ms([r['trace'] for r in rs])} | {ms([r['eps_ball'] for r in rs], 5)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
