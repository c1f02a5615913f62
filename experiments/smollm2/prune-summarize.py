#!/usr/bin/env python3
"""The SmolLM2 pruning table of docs/RESULTS.md from experiments/smollm2/prune-table.sh's output:
OUT/runs.json (`frugal list --json`: each run's latest metrics) and OUT/*.eval.json (zero-shot
accuracy of each pruned model on the movie-sentences test split).

usage: prune-summarize.py OUT
"""
import json
import os
import sys

out = sys.argv[1]
runs = json.load(open(os.path.join(out, "runs.json")))


def fmt(v, spec=".2f"):
    return "-" if v is None or isinstance(v, str) else format(v, spec)


print("| method | sparsity | Moby Dick perplexity: dense → pruned | zero-shot movie-sentences test (plain / calibrated) | pruning s | peak RSS MiB |")
print("| --- | --- | --- | --- | ---: | ---: |")
for sparsity in ("2:4", "0.5"):
    tag = sparsity.replace(":", "-").replace(".", "_")
    for method in ("magnitude", "wanda", "sparsegpt", "wandapp"):
        run = next((r for r in runs if r["name"] == f"smollm2 {method} {sparsity}" and r["method"] == "prune"), None)
        ev = os.path.join(out, f"{method}-{tag}.eval.json")
        acc = "-"
        if os.path.exists(ev) and os.path.getsize(ev) > 0:
            e = json.load(open(ev))
            acc = f"{e['accuracy']:.3f} / {e['accuracy_calibrated']:.3f}"
        if run is None:
            print(f"| {method} | {sparsity} | not run | | | |")
            continue
        m = run["latest"]
        print(f"| {method} | {'2:4' if sparsity == '2:4' else '50 %'} | {fmt(m.get('prune/perplexity_dense'))} → "
              f"{fmt(m.get('prune/perplexity'))} | {acc} | {fmt(m.get('prune/seconds'), '.1f')} | "
              f"{fmt(m.get('sys/peak_rss_mb'), '.0f')} |")
