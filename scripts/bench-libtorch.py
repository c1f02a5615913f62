#!/usr/bin/env python3
"""One LibTorch against another: the same Frugal commands on the same seeded models, run through
two `frugal` binaries built against different LibTorch builds. Standard library only.

usage: python3 scripts/bench-libtorch.py --frugal LABEL=BIN [--frugal LABEL=BIN ...]
           [--models DIR] [--repeats 3] [--json FILE]

Figures, for each binary (the binaries alternate in every repeat, so a busy neighbour hurts both):
  start        `frugal --help`: wall seconds and peak RSS of the whole process (median of 7)
  forward      `frugal bench forward`, llama-gqa (20.6 M parameters), batch 4 x 128, fp32, tokens/s,
               for each thread setting (--threads, --intra-op-threads): 1 1, 2 1, 1 2, 2 2 (best run)
  zo           `frugal bench zo` on the 33.5 M LLaMA of docs/BENCHMARKS.md, batch 8 x 128:
               forward ms in fp32 and bf16 (tokens/s), MeZO step / forward in fp32, peak RSS
               (median of the repeats)
Prints a Markdown table per figure; --json writes every raw result.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODELS = {
    "llama-gqa": ["--type", "llama", "--layers", "8", "--hidden", "512", "--heads", "8",
                  "--kv-heads", "4", "--intermediate", "1376", "--vocab", "8192"],
    "llama-33m": ["--layers", "8", "--hidden", "512", "--heads", "8", "--vocab", "8000",
                  "--intermediate", "1376", "--max-positions", "256"],
}
THREADS = [(1, 1), (2, 1), (1, 2), (2, 2)]


def timed(cmd):
    """Wall seconds and stdout of one finished child process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"bench-libtorch: {' '.join(cmd)} exited {p.returncode}: {err.decode()[-2000:]}")
    return wall, out.decode()


def peak_rss_mib(cmd):
    """Wall seconds and peak RSS (MiB) of one child process, from its own rusage (wait4)."""
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(cmd[0], cmd)
    start = time.perf_counter()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench-libtorch: {' '.join(cmd)} failed")
    return wall, usage.ru_maxrss / 1024.0


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frugal", action="append", required=True, help="LABEL=PATH of a frugal binary")
    ap.add_argument("--models", default="/tmp/frugal-bench-libtorch")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    bins = []
    for item in a.frugal:
        label, _, path = item.partition("=")
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"bench-libtorch: --frugal {item}: expected LABEL=PATH of an executable")
        bins.append((label, os.path.abspath(path)))

    os.makedirs(a.models, exist_ok=True)
    for name, args in MODELS.items():
        d = os.path.join(a.models, name)
        if not os.path.exists(os.path.join(d, "config.json")):
            subprocess.run([bins[0][1], "--quiet", "init-model", d, "--seed", "1"] + args,
                           check=True, capture_output=True)

    raw = {label: {"start": [], "forward": {}, "zo": {}} for label, _ in bins}
    for label, b in bins:  # warm the page cache
        timed([b, "--help"])
    for _ in range(7):
        for label, b in bins:
            raw[label]["start"].append(peak_rss_mib([b, "--help"]))
    for r in range(a.repeats):
        for label, b in bins:
            for t, i in THREADS:
                j = last_json(timed([b, "--quiet", "--threads", str(t), "--intra-op-threads", str(i),
                                     "bench", "forward", "--model", os.path.join(a.models, "llama-gqa"),
                                     "--batch", "4", "--seq", "128", "--iters", "5", "--json"])[1])
                raw[label]["forward"].setdefault(f"{t} {i}", []).append(j)
            for key, extra in (("forward fp32", ["--method", "forward"]),
                               ("forward bf16", ["--method", "forward", "--dtype", "bf16"]),
                               ("mezo fp32", ["--method", "mezo"])):
                j = last_json(timed([b, "--quiet", "bench", "zo", "--model",
                                     os.path.join(a.models, "llama-33m"), "--steps", "10", "--json"]
                                    + extra)[1])
                raw[label]["zo"].setdefault(key, []).append(j)
            print(f"bench-libtorch: repeat {r + 1}/{a.repeats} of {label} done", file=sys.stderr)

    labels = [label for label, _ in bins]

    def header(title):
        print(f"\n| {title} | " + " | ".join(labels) + " |")
        print("| --- |" + " --- |" * len(labels))

    def row(name, cell):
        print(f"| {name} | " + " | ".join(cell(l) for l in labels) + " |")

    header("process start (`frugal --help`, median of 7)")
    row("wall seconds", lambda l: f"{statistics.median(w for w, _ in raw[l]['start']):.3f}")
    row("peak RSS MiB", lambda l: f"{statistics.median(m for _, m in raw[l]['start']):.0f}")

    header(f"forward, llama-gqa, 4 x 128, fp32, tokens/s (best of {a.repeats})")
    for t, i in THREADS:
        row(f"--threads {t} --intra-op-threads {i}",
            lambda l: f"{max(j['tokens_per_s'] for j in raw[l]['forward'][f'{t} {i}']):,.0f}")
    row("peak RSS MiB (2 1)",
        lambda l: f"{statistics.median(j['peak_rss_mib'] for j in raw[l]['forward']['2 1']):.0f}")

    header(f"33.5 M LLaMA, 8 x 128, default threads (median of {a.repeats})")

    def med(l, key, field):
        return statistics.median(j[field] for j in raw[l]["zo"][key])

    for key in ("forward fp32", "forward bf16"):
        row(f"{key}: ms (tokens/s)", lambda l: f"{med(l, key, 'forward_ms'):.0f} "
                                               f"({1024 / med(l, key, 'forward_ms') * 1000:,.0f})")
        row(f"{key}: peak RSS MiB", lambda l: f"{med(l, key, 'peak_rss_mb'):.0f}")
    row("MeZO step ms", lambda l: f"{med(l, 'mezo fp32', 'step_ms'):.0f}")
    row("MeZO step / forward", lambda l: f"{med(l, 'mezo fp32', 'step_over_forward'):.3f}")
    row("MeZO peak RSS MiB", lambda l: f"{med(l, 'mezo fp32', 'peak_rss_mb'):.0f}")
    row("BLAS, threads", lambda l: "{blas}, {blas_threads} + {intra_op_threads} intra-op".format(
        **raw[l]["zo"]["mezo fp32"][0]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
