#!/usr/bin/env python3
"""The recovery rows of docs/RESULTS.md's SmolLM2 pruning table from experiments/smollm2/recover-table.sh's
output: OUT/NAME.ppl.json (`frugal eval ppl --json` of each pruned and each recovered model: Moby
Dick, the first 50 windows of 256 tokens), OUT/NAME.eval.json (`frugal eval task --json`: zero-shot
accuracy on the movie-sentences test split) and OUT/export (`frugal export --json` of every run: each
recovery's dev perplexity curve, wall time and peak RSS). It also checks from the saved models that
every weight zero in the pruned model is still +0.0 after recovery (the masks were kept).

usage: recover-summarize.py OUT
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "loretta"))
from summarize import runs_by_name, series  # noqa: E402

out = sys.argv[1]
runs = runs_by_name(os.path.join(out, "export"))


def ppl(name):
    path = os.path.join(out, f"{name}.ppl.json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    return json.load(open(path))["perplexity"]


def acc(name):
    path = os.path.join(out, f"{name}.eval.json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    return json.load(open(path))["accuracy"]


def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def zeros_kept(pruned, recovered):
    """Whether every weight that is 0 in PRUNED's decoder matrices is +0.0 in RECOVERED's, with how
    many zeros were checked; None where torch or safetensors is missing."""
    try:
        import torch
        from safetensors.torch import load_file
    except ImportError:
        return None
    a = load_file(os.path.join(out, pruned, "model.safetensors"))
    b = load_file(os.path.join(out, recovered, "model.safetensors"))
    zeros = 0
    for key, wa in a.items():
        if wa.dim() != 2 or ".layers." not in key:
            continue
        zero = wa == 0
        zeros += int(zero.sum())
        wb = b[key]
        if bool((wb[zero] != 0).any()) or bool(torch.signbit(wb[zero]).any()):
            return False, zeros
    return True, zeros


print("| pruned model (2:4) | recovery: LoRA r 8 on every projection, masked | steps | Moby Dick perplexity "
      "(50 × 256): pruned → recovered | zero-shot movie-sentences test: pruned → recovered "
      "| dev perplexity (Moby Dick, 20 × 128): start → end | pruned zeros kept | wall s | peak RSS MiB |")
print("| --- | --- | ---: | --- | --- | --- | --- | ---: | ---: |")
for pruned, label in (("wanda-2-4", "Wanda"), ("wandapp-2-4-lr1e-4", "Wanda++ (RO lr 1e-4)")):
    for kind, how in (("fo", "AdamW, lr 3e-4 (first order)"), ("mezo", "MeZO-SGD, lr 3e-3, ε 1e-2 (forwards only)"),
                      ("mezo-lr1e-3", "MeZO-SGD, lr 1e-3, ε 1e-2 (forwards only)")):
        name = f"{pruned}-{kind}-lora"
        found = runs.get(f"smollm2 {name}")
        if not found:
            print(f"| {label} | {how} | not run | | | | | | |")
            continue
        d = found[-1]
        m = d["metrics"]
        dev = series(m, "dev/perplexity")
        last = lambda key: (series(m, key) or [(None, None, None)])[-1][2]  # noqa: E731
        steps = (series(m, "train/loss") or [(None, None, None)])[-1][0]
        kept = None
        if os.path.exists(os.path.join(out, name, "model.safetensors")):
            kept = zeros_kept(pruned, name)
        kept_text = "-" if kept is None else f"{'yes' if kept[0] else 'NO'} ({kept[1]:,})"
        status = "" if d.get("status") == "finished" else f" ({d.get('status')})"
        if dev and dev[-1][2] > min(p[2] for p in dev) * 1.5:  # the dev perplexity ran away from its best
            status += f" (diverged: dev perplexity {min(p[2] for p in dev):.1f} at best)"
        print(f"| {label} | {how}{status} | {steps} | {fmt(ppl(pruned))} → {fmt(ppl(name))} | "
              f"{fmt(acc(pruned), '.3f')} → {fmt(acc(name), '.3f')} | {fmt(dev[0][2] if dev else None)} → {fmt(dev[-1][2] if dev else None)} | {kept_text} | "
              f"{fmt(last('sys/seconds'), '.0f')} | {fmt(last('sys/peak_rss_mb'), '.0f')} |")
