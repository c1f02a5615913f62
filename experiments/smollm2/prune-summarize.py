#!/usr/bin/env python3
"""The SmolLM2 pruning tables of docs/RESULTS.md from experiments/smollm2/prune-table.sh's output:
OUT/runs.json (`frugal list --json`: each run's latest metrics) and OUT/*.eval.json (zero-shot
accuracy of each pruned model on the movie-sentences test split). Unstructured sparsities: each
pruner uniform and under OWL side by side; 2:4: each pruner, and RIA with its channel permutation.

usage: prune-summarize.py OUT
"""
import json
import os
import sys

out = sys.argv[1]
runs = json.load(open(os.path.join(out, "runs.json")))
PRUNERS = ["magnitude", "wanda", "sparsegpt", "ria", "dsnot", "wandapp"]
LABEL = {"magnitude": "magnitude", "wanda": "Wanda", "sparsegpt": "SparseGPT", "ria": "RIA",
         "dsnot": "DSnoT (over Wanda)", "wandapp": "Wanda++", "ria-permute": "RIA + channel permutation"}


def fmt(v, spec=".2f"):
    return "-" if v is None or isinstance(v, str) else format(v, spec)


def row(name):
    """(perplexity, accuracy text, seconds, peak RSS) of run NAME, or None."""
    # the finished run of that name (a row cancelled in one sitting is run again in the next)
    run = next((r for r in runs if r["name"] == "smollm2 " + name and r["method"] == "prune"
                and r.get("status") in (None, "finished")), None)
    if run is None:
        return None
    ev = os.path.join(out, name + ".eval.json")
    acc = "-"
    if os.path.exists(ev) and os.path.getsize(ev) > 0:
        e = json.load(open(ev))
        acc = "%.3f / %.3f" % (e["accuracy"], e["accuracy_calibrated"])
    m = run["latest"]
    return m.get("prune/perplexity"), acc, m.get("prune/seconds"), m.get("sys/peak_rss_mb"), m.get("prune/perplexity_dense")


dense = next((r["latest"]["prune/perplexity_dense"] for r in runs
              if r["method"] == "prune" and "prune/perplexity_dense" in r.get("latest", {})), None)
print("Dense Moby Dick perplexity: %s\n" % fmt(dense))
for sparsity, tag in (("50 %", "0_5"), ("70 %", "0_7")):
    print("%s unstructured:\n" % sparsity)
    print("| pruner | perplexity: uniform | perplexity: OWL | zero-shot (plain / calibrated): uniform | zero-shot: OWL | pruning s: uniform / OWL | peak RSS MiB |")
    print("| --- | ---: | ---: | --- | --- | --- | ---: |")
    for p in PRUNERS:
        u, o = row(f"{p}-{tag}"), row(f"{p}-owl-{tag}")
        if u is None and o is None:
            continue
        g = lambda r, i, spec=".2f": fmt(r[i], spec) if r else "not run"
        print("| %s | %s | %s | %s | %s | %s / %s | %s |" % (
            LABEL[p], g(u, 0), g(o, 0), u[1] if u else "not run", o[1] if o else "not run",
            g(u, 2, ".1f"), g(o, 2, ".1f"), g(u, 3, ".0f")))
    print()
print("2:4:\n")
print("| pruner | perplexity | zero-shot (plain / calibrated) | pruning s | peak RSS MiB |")
print("| --- | ---: | --- | ---: | ---: |")
for p in PRUNERS[:4] + ["ria-permute"] + PRUNERS[4:]:
    r = row(f"{p}-2-4")
    if r is None:
        continue
    print("| %s | %s | %s | %s | %s |" % (LABEL[p], fmt(r[0]), r[1], fmt(r[2], ".1f"), fmt(r[3], ".0f")))
