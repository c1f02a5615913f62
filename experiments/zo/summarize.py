#!/usr/bin/python3
"""Table of fine-tuning runs from `frugal export --json` files (docs/RESULTS.md).

usage: /usr/bin/python3 experiments/zo/summarize.py EXPORT_DIR [--frugal BIN --db DB]

One row per run: method, target, lr, trainable parameters, steps, forward (and backward) passes,
dev accuracy at each evaluation, final and best dev accuracy, test accuracy at the end, wall time
and peak RSS, all read from the run's own stored series. With --frugal and --db, also the test
accuracy of each ZO run's best-dev checkpoint (MeZO's protocol), rebuilt with
`frugal replay RUN --step BEST` and scored with `frugal eval task --task TASK:test`.
"""
import subprocess
import tempfile
import glob
import json
import os
import sys


def series(metrics, key):
    return [(p[0], p[2]) for p in metrics.get(key, [])]


def last(metrics, key, default=float("nan")):
    s = series(metrics, key)
    return s[-1][1] if s else default


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    args = sys.argv[2:]
    frugal = args[args.index("--frugal") + 1] if "--frugal" in args else None
    db = args[args.index("--db") + 1] if "--db" in args else None
    rows = []
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        d = json.load(open(f))
        m, p = d["metrics"], d["params"]
        table = d["method"] if d["method"] in ("zo", "fo", "mezo") else None
        if table is None or d["status"] != "finished":
            continue
        dev = series(m, "dev/accuracy")
        steps = int(p.get(table + ".steps", "0"))
        if d["method"] == "fo":
            passes = "%d F + %d B" % (steps, steps)
            method = "FO " + p.get("fo.optimizer", "adamw")
        else:
            passes = "%d F" % last(m, "zo/forward_passes", 0)
            method = "ZO " + p.get(table + ".optimizer", "sgd")
        best_step = max(dev, key=lambda p: (p[1], -p[0]))[0] if dev else 0
        test_best = float("nan")
        if frugal and db and d["method"] in ("zo", "mezo") and dev:
            if best_step == dev[-1][0]:
                test_best = last(m, "test/accuracy")
            else:
                with tempfile.TemporaryDirectory() as out:
                    subprocess.run([frugal, "--quiet", "replay", str(d["id"]), "--db", db, "--out", out,
                                    "--step", str(best_step)], check=True, stdout=subprocess.DEVNULL)
                    res = subprocess.run([frugal, "--quiet", "eval", "task", "--model", out, "--task",
                                          p.get(table + ".task", "sentiment") + ":test", "--json"],
                                         check=True, capture_output=True, text=True)
                    test_best = json.loads(res.stdout)["accuracy"]
        rows.append({
            "best_step": best_step, "test_best": test_best,
            "id": d["id"], "method": method, "target": p.get("peft.target", "full"),
            "lr": p.get(table + ".lr", "?"), "trainable": int(last(m, "params/trainable", 0)),
            "steps": steps, "passes": passes,
            "dev": " ".join("%.3f" % v for _, v in dev),
            "final": dev[-1][1] if dev else float("nan"),
            "best": max(v for _, v in dev) if dev else float("nan"),
            "test": last(m, "test/accuracy"), "seconds": last(m, "sys/seconds"),
            "rss": last(m, "sys/peak_rss_mb"), "status": d["status"],
        })
    head = ["run", "method", "target", "lr", "trainable", "steps", "passes", "dev accuracy by eval",
            "final dev", "best dev (step)", "test at the end", "test at best dev", "wall s",
            "peak RSS MiB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in sorted(rows, key=lambda r: r["id"]):
        print("| %d | %s | %s | %s | %s | %d | %s | %s | %.3f | %.3f (%d) | %.3f | %s | %.0f | %.0f |" % (
            r["id"], r["method"], r["target"], r["lr"], format(r["trainable"], ","), r["steps"],
            r["passes"], r["dev"], r["final"], r["best"], r["best_step"], r["test"],
            "-" if r["test_best"] != r["test_best"] else "%.3f" % r["test_best"], r["seconds"], r["rss"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
