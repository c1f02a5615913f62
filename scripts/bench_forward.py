#!/usr/bin/env python3
"""Throughput yardstick: batched float32 forward of a Hugging Face-format
checkpoint (llama/mistral, opt, gpt2) with the independent PyTorch reference.

usage: .venv/bin/python scripts/bench_forward.py --model DIR --batch B --seq T --threads N [--iters K] [--json]

Reads DIR/config.json and DIR/model.safetensors (or the sharded set named by
model.safetensors.index.json) with the hand-written reader in
tests/reference/safetensors_io.py, upcasts weights to float32 once, then times
K full forwards (logits for all B*T positions) on fixed random ids without
padding. Prints tokens/s = B*T*K / seconds and peak RSS (MiB).
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import safetensors_io as st  # noqa: E402
import thread_policy  # noqa: E402
import reference_model as ref  # noqa: E402


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True,
                    help="matrix-product threads, as frugal's --threads")
    ap.add_argument("--intra-op-threads", type=int, default=1,
                    help="torch intra-op (OpenMP) threads, as frugal's --intra-op-threads")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.batch < 1 or a.seq < 1 or a.threads < 1 or a.iters < 1:
        ap.error("batch, seq, threads, iters must be >= 1")

    # The same explicit policy as frugal (tests/reference/thread_policy.py)
    blas = thread_policy.apply(a.threads, a.intra_op_threads)

    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    family = ref.family_of(config)
    tensors = st.load_checkpoint(a.model)
    w = {k: v.to(torch.float32).contiguous() for k, v in tensors.items()}
    del tensors
    max_pos = config.get("max_position_embeddings", config.get("n_positions"))
    if max_pos is not None and a.seq > max_pos:
        ap.error("--seq %d exceeds the model's max positions %d" % (a.seq, max_pos))

    g = torch.Generator().manual_seed(a.seed)
    ids = torch.randint(0, config["vocab_size"], (a.batch, a.seq), generator=g)
    fwd = ref.FORWARDS[family]

    with torch.inference_mode():
        out = fwd(config, w, ids)  # warm-up
        assert out.shape == (a.batch, a.seq, config["vocab_size"])
        t0 = time.perf_counter()
        for _ in range(a.iters):
            out = fwd(config, w, ids)
        dt = time.perf_counter() - t0

    res = {
        "tokens_per_s": a.batch * a.seq * a.iters / dt,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "batch": a.batch,
        "seq": a.seq,
        "threads": a.threads,
        "intra_op_threads": a.intra_op_threads,
        "impl": "python-torch",
        "torch": torch.__version__,
        "blas": blas,
    }
    if a.json:
        print(json.dumps(res))
    else:
        print("%s (%s): batch=%d seq=%d threads=%d iters=%d  %.1f tokens/s  %.3f s/iter  peak RSS %.1f MiB"
              % (os.path.basename(os.path.normpath(a.model)), family, a.batch, a.seq, a.threads, a.iters,
                 res["tokens_per_s"], dt / a.iters, res["peak_rss_mib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
