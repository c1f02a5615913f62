#!/usr/bin/env python3
"""The evaluation table of docs/RESULTS.md from experiments/smollm2/eval-table.sh's JSON files.

usage: summarize.py OUT
"""
import json
import os
import sys

out = sys.argv[1]


def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


print("| task (test split) | shots | examples | plain | length-normalised | calibrated |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for task in ("movie-sentences", "sentiment", "spam"):
    for shots in (0, 4, 16):
        r = load(f"{task}-{shots}shot")
        if r is None:
            print(f"| {task} | {shots} | not run | | | |")
            continue
        print(f"| {task} | {shots} | {r['examples']} | {r['accuracy']:.4f} | "
              f"{r['accuracy_length_normalised']:.4f} | {r['accuracy_calibrated']:.4f} |")
p = load("moby-dick-ppl")
if p:
    print()
    print(f"Perplexity on Moby Dick: {p['perplexity']:.2f} ({p['protocol']}).")
