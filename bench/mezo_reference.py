#!/usr/bin/env python3
"""MeZO step as the reference implementation writes it, for `frugal bench zo` to beat.

usage: .venv/bin/python bench/mezo_reference.py --model DIR --batch B --seq T --threads N
                                                [--steps K] [--json]

The same model (Hugging Face folder, read with tests/reference/safetensors_io.py and run by the
independent forward in tests/reference/reference_model.py), the same random-token batch and the
same next-token loss as `frugal bench zo --method mezo`. The step follows MeZO's trainer
(zo_perturb_parameters / zo_forward / zo_update): the global torch RNG is reseeded with the step's
seed and `torch.normal` draws z per parameter tensor four times per step (+eps, -2 eps, +eps to
restore, then the update), each `param = param + c * z` allocating a new tensor; weight decay is
skipped for bias and norm tensors. Prints the median step time, the median no-grad forward and
the peak RSS.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import safetensors_io as st  # noqa: E402
import reference_model as ref  # noqa: E402
import thread_policy  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, required=True,
                    help="matrix-product threads, as frugal's --threads (intra-op as frugal's default)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    thread_policy.apply(a.threads, 1)

    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    family = ref.family_of(config)
    w = {k: v.to(torch.float32).contiguous() for k, v in st.load_checkpoint(a.model).items()}
    names = sorted(w)  # a fixed order, as named_parameters() gives one
    fwd = ref.FORWARDS[family]
    g = torch.Generator().manual_seed(a.seed)
    ids = torch.randint(0, config["vocab_size"], (a.batch, a.seq), generator=g)
    eps, lr, wd = 1e-3, 1e-6, 0.0

    def loss():
        with torch.inference_mode():
            logits = fwd(config, w, ids)
            return torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).item()

    def perturb(seed, scaling):
        torch.manual_seed(seed)
        for n in names:
            z = torch.normal(mean=0, std=1, size=w[n].size(), dtype=w[n].dtype)
            w[n] = w[n] + scaling * z * eps

    def update(seed, projected_grad):
        torch.manual_seed(seed)
        for n in names:
            z = torch.normal(mean=0, std=1, size=w[n].size(), dtype=w[n].dtype)
            if "bias" not in n and "norm" not in n:
                w[n] = w[n] - lr * (projected_grad * z + wd * w[n])
            else:
                w[n] = w[n] - lr * (projected_grad * z)

    forwards = []
    for i in range(a.steps + 1):
        t0 = time.perf_counter()
        loss()
        if i:
            forwards.append(time.perf_counter() - t0)
    rng = np.random.default_rng(a.seed)
    steps = []
    for i in range(a.steps + 1):
        seed = int(rng.integers(1_000_000_000))
        t0 = time.perf_counter()
        perturb(seed, 1)
        plus = loss()
        perturb(seed, -2)
        minus = loss()
        projected_grad = (plus - minus) / (2 * eps)
        perturb(seed, 1)
        update(seed, projected_grad)
        if i:
            steps.append(time.perf_counter() - t0)
    res = {
        "method": "mezo",
        "impl": "python-torch (MeZO reference style)",
        "step_ms": statistics.median(steps) * 1000,
        "forward_ms": statistics.median(forwards) * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "batch": a.batch, "seq": a.seq, "steps": a.steps, "threads": a.threads,
        "parameters": sum(t.numel() for t in w.values()),
    }
    res["step_over_forward"] = res["step_ms"] / res["forward_ms"]
    if a.json:
        print(json.dumps(res))
    else:
        print("MeZO reference step %.1f ms, forward %.1f ms (x%.2f), peak RSS %.1f MiB"
              % (res["step_ms"], res["forward_ms"], res["step_over_forward"], res["peak_rss_mb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
