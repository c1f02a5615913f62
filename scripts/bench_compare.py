#!/usr/bin/env python3
"""Forward throughput of `frugal bench forward` against the same checkpoint run through
Python torch (scripts/bench_forward.py, the independent reference forward), same LibTorch, same
thread count, same batch and sequence length. Prints a Markdown table.

usage: .venv/bin/python scripts/bench_compare.py [--frugal build/release/bin/frugal]
           [--out build/bench-models] [--threads 1,2] [--repeats 3] [--batch 4] [--seq 128]

Each (model, threads) pair runs the two programs alternately `repeats` times; the table shows the
best tokens/s of each (the least disturbed run) and the ratio python / frugal (below 1.0 means
frugal is faster).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = {
    # name: init-model arguments (about 20-30 M parameters each)
    "llama-gqa": ["--type", "llama", "--layers", "8", "--hidden", "512", "--heads", "8",
                  "--kv-heads", "4", "--intermediate", "1376", "--vocab", "8192"],
    "opt": ["--type", "opt", "--layers", "8", "--hidden", "512", "--heads", "8",
            "--vocab", "8192", "--max-positions", "512"],
    "gpt2": ["--type", "gpt2", "--layers", "8", "--hidden", "512", "--heads", "8",
             "--vocab", "8192", "--max-positions", "512"],
}


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frugal", default=os.path.join(HERE, "..", "build", "release", "bin", "frugal"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build", "bench-models"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=5)
    a = ap.parse_args()

    rows = []
    for name, args in MODELS.items():
        model_dir = os.path.join(a.out, name)
        if not os.path.exists(os.path.join(model_dir, "config.json")):
            subprocess.run([a.frugal, "--quiet", "init-model", model_dir, "--seed", "1"] + args,
                           check=True, capture_output=True)
        for threads in [int(t) for t in a.threads.split(",")]:
            common = ["--batch", str(a.batch), "--seq", str(a.seq), "--iters", str(a.iters)]
            best_f, best_p, rss_f, rss_p = 0.0, 0.0, 0.0, 0.0
            for _ in range(a.repeats):
                f = run_json([a.frugal, "--quiet", "--threads", str(threads), "bench", "forward",
                              "--model", model_dir, "--json"] + common)
                p = run_json([sys.executable, os.path.join(HERE, "bench_forward.py"),
                              "--model", model_dir, "--threads", str(threads), "--json"] + common)
                best_f = max(best_f, f["tokens_per_s"])
                best_p = max(best_p, p["tokens_per_s"])
                rss_f, rss_p = f["peak_rss_mib"], p["peak_rss_mib"]
            rows.append((name, threads, best_f, best_p, best_p / best_f, rss_f, rss_p))
            print(f"{name} threads={threads}: frugal {best_f:.0f} tok/s, python torch {best_p:.0f} tok/s",
                  file=sys.stderr)

    print(f"| model | threads | frugal tokens/s | python torch tokens/s | python/frugal | frugal peak RSS MiB | python peak RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, threads, f, p, ratio, rf, rp in rows:
        print(f"| {name} | {threads} | {f:.0f} | {p:.0f} | {ratio:.3f} | {rf:.0f} | {rp:.0f} |")


if __name__ == "__main__":
    main()
