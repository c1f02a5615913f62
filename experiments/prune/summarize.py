#!/usr/bin/env python3
"""The pruning tables of docs/RESULTS.md from the runs of experiments/prune/grid.sh, read through
`frugal list --json` (each run's latest metrics).

    /usr/bin/python3 experiments/prune/summarize.py [DB]   (default experiments/prune/grid.db)
"""
import json
import subprocess
import sys

db = sys.argv[1] if len(sys.argv) > 1 else "experiments/prune/grid.db"
runs = json.loads(subprocess.run(["build/release/bin/frugal", "--quiet", "list", "--db", db, "--json"],
                                 check=True, capture_output=True, text=True).stdout)
runs.sort(key=lambda r: r["id"])


def fmt(v, spec=".2f"):
    return "-" if v is None or isinstance(v, str) else format(v, spec)


print("| run | name | held-out perplexity: dense → pruned | last block's relative error | "
      "pruning s | × one calibration forward | mean(α·G)/mean(‖X‖), last block | peak RSS MiB |")
print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
for r in runs:
    if r["method"] != "prune":
        continue
    m = r["latest"]
    print(f"| {r['id']} | {r['name']} | {fmt(m.get('prune/perplexity_dense'))} → {fmt(m.get('prune/perplexity'))} | "
          f"{fmt(m.get('prune/block_error'), '.4f')} | {fmt(m.get('prune/seconds'), '.1f')} | "
          f"{fmt(m.get('prune/time_over_forward'))} | {fmt(m.get('prune/rgs_gradient_share'), '.3f')} | "
          f"{fmt(m.get('sys/peak_rss_mb'), '.0f')} |")
print()
print("| run | name | dev accuracy (end) | test accuracy | forward passes | wall s |")
print("| ---: | --- | ---: | ---: | ---: | ---: |")
for r in runs:
    if r["method"] != "zo":
        continue
    m = r["latest"]
    print(f"| {r['id']} | {r['name']} | {fmt(m.get('dev/accuracy'), '.3f')} | {fmt(m.get('test/accuracy'), '.3f')} | "
          f"{fmt(m.get('zo/forward_passes'), '.0f')} | {fmt(m.get('sys/seconds'), '.0f')} |")
