#!/usr/bin/env bash
# The pruning table of docs/RESULTS.md for SmolLM2-135M-Instruct: magnitude, Wanda, SparseGPT and
# Wanda++ (regional gradients + regional optimisation) at 2:4 and at 50 % unstructured
# (experiments/smollm2/prune-smollm2.toml), each pruned model saved and scored zero-shot on the
# movie-sentences test split. Runs in DB, pruned models and JSON in OUT. A failed row is named on
# stderr and the table goes on.
#
#   experiments/smollm2/prune-table.sh [OUT] [DB]
#
# FRUGAL_BIN names another frugal binary; FRUGAL_THREADS sets --threads (default: one per core).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/build/smollm2-prune}"
db="${2:-$out/runs.db}"
frugal="${FRUGAL_BIN:-$root/build/release/bin/frugal}"
threads=${FRUGAL_THREADS:+--threads $FRUGAL_THREADS}
mkdir -p "$out"
cd "$root"
for sparsity in 2:4 0.5; do
  tag=$(echo "$sparsity" | tr ':.' '-_')
  for method in magnitude wanda sparsegpt wandapp; do
    name="$method-$tag"
    [ -s "$out/$name.eval.json" ] && continue
    echo "== $name"
    "$frugal" $threads -q run experiments/smollm2/prune-smollm2.toml prune.method=$method prune.sparsity=$sparsity \
      --db "$db" --name "smollm2 $method $sparsity" --out "$out/$name" || { echo "prune-table: $name FAILED" >&2; continue; }
    "$frugal" $threads eval task --model "$out/$name" --task movie-sentences --db "$db" --name "smollm2 $name zero-shot" \
      --json > "$out/$name.eval.json" || echo "prune-table: $name zero-shot FAILED" >&2
  done
done
"$frugal" list --db "$db" --json > "$out/runs.json"
"$root/.venv/bin/python" "$root/experiments/smollm2/prune-summarize.py" "$out"
