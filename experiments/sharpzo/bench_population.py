#!/usr/bin/python3
"""Stage 1 with its points one forward each against batched, from `frugal export --json` files
(experiments/sharpzo/bench-population.sh, docs/BENCHMARKS.md).

usage: /usr/bin/python3 experiments/sharpzo/bench_population.py EXPORT_DIR

One row per SharpZO run: d, popsize, population_batch, generations, the median per generation
of the popsize candidate evaluations and of the 2d CGE evaluations, each per point, and the dev
loss and sigma after the last generation (the batched and the one-by-one runs follow the same
search up to the last bits of the losses).
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summarize import sharpzo_runs, values  # noqa: E402


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    rows = []
    for _, d in sharpzo_runs(sys.argv[1]):
        m, p = d["metrics"], d["params"]
        dim, pop = int(p["sharpzo.dim"]), int(p["sharpzo.popsize"])
        cand, cge = values(m, "cma/candidate_seconds"), values(m, "cma/cge_seconds")
        dev = values(m, "dev/loss")
        rows.append((dim, pop, int(p.get("sharpzo.population_batch", "0")), len(cand), med(cand), med(cand) / pop,
                     med(cge), med(cge) / (2 * dim) if cge else float("nan"),
                     dev[-1] if dev else float("nan"), values(m, "cma/sigma")[-1]))
    print("| d | popsize | population_batch | generations | candidates per generation, s (median) | per point, ms "
          "| CGE per generation, s (median) | per point, ms | dev loss after stage 1 | sigma after stage 1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (-r[0], -r[2])):
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {1e3 * r[5]:.1f} | {r[6]:.2f} | {1e3 * r[7]:.1f} "
              f"| {r[8]:.6f} | {r[9]:.6f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
