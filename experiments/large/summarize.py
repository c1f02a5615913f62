#!/usr/bin/env python3
"""The large-model table of docs/BENCHMARKS.md from experiments/large/run.sh's outputs.

    experiments/large/summarize.py [OUT]   (default /tmp/frugal-large; runs read with `frugal show`)
"""
import json
import os
import re
import subprocess
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/frugal-large"
BIN = os.environ.get("BIN", "build/release/bin/frugal")
SHAPES = ["opt-1.3b", "open-llama-3b", "llama-2-7b"]


def load(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text) if text else None
    except FileNotFoundError:
        return None


def gib(mb):
    return f"{mb / 1024:.2f}"


def shown(name):
    args = [BIN, "show", name] + (["--db", os.environ["DB"]] if os.environ.get("DB") else [])
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    metrics = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s+(\w+/\S+)\s+step (\d+): (\S+)", line)
        if m:
            metrics[m.group(1)] = float(m.group(3).replace(",", ""))
    status = re.search(r"status\s+(\w+)", r.stdout)
    metrics["status"] = status.group(1) if status else "?"
    return metrics


print("| model | parameters | directions | batch | forward s | two-pass step s (passes s) | step / forward | "
      "three-pass step / forward | peak RSS GiB | estimate GiB | AdamW |")
print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|")
for shape in SHAPES:
    adam = load(f"{OUT}/{shape}-bench-adam.json")
    adam_err = open(f"{OUT}/{shape}-bench-adam.err").read() if os.path.exists(f"{OUT}/{shape}-bench-adam.err") else ""
    if adam:
        adam_text = f"ran: {adam['estimate'].split('needs ')[1]}, peak {gib(adam['peak_rss_mb'])} GiB"
    else:
        m = re.search(r"AdamW needs (.*?\)); ([\d.]+ GiB available)", adam_err)
        adam_text = f"refused: {m.group(1)}, {m.group(2)}" if m else "-"
    for direction in ["gaussian", "rademacher"]:
        j = load(f"{OUT}/{shape}-bench-mezo-{direction}.json")
        if not j:
            continue
        print(f"| {shape} | {j['parameters']:,} | {direction} | {j['batch']} × {j['seq']} | {j['forward_ms'] / 1e3:.2f} | "
              f"{j['step_ms'] / 1e3:.2f} ({j['passes_ms'] / 1e3:.2f}) | {j['step_over_forward']:.2f} | "
              f"{j['three_pass_step_over_forward']:.2f} | {gib(j['peak_rss_mb'])} | {gib(j['estimate_mb'])} | "
              f"{adam_text if direction == 'gaussian' else ''} |")

print()
print("| run | status | wall s | peak RSS GiB | estimate GiB | peak / estimate | dev accuracy at step 10 (4 examples) |")
print("|---|---|---:|---:|---:|---:|---|")
for shape in reversed(SHAPES):
    for run in ["mezo-full", "mezo-lora"]:
        m = shown(f"{shape}-{run}")
        if not m:
            continue
        print(f"| {shape} {run} | {m['status']} | {m.get('sys/seconds', float('nan')):.0f} | "
              f"{gib(m.get('mem/peak_rss_mb', float('nan')))} | {gib(m.get('mem/estimate_mb', float('nan')))} | "
              f"{m.get('mem/peak_over_estimate', float('nan')):.3f} | "
              f"{m.get('dev/accuracy', float('nan')):.3f} |")
