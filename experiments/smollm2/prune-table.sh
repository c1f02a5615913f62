#!/usr/bin/env bash
# The pruning tables of docs/RESULTS.md for SmolLM2-135M-Instruct: every pruner of the score table
# at 2:4, 50 % and 70 % (experiments/smollm2/prune-smollm2.toml), and beside each unstructured row
# the same pruner under OWL's layer-wise sparsities (prune.owl = true, OWL's defaults M = 5,
# λ = 0.08). RIA at 2:4 once more with its channel permutation. Each pruned model is saved and
# scored zero-shot on the movie-sentences test split. Runs in DB, pruned models and JSON in OUT;
# a row whose JSON exists is skipped, so the table can be grown in several sittings. A failed row
# is named on stderr and the table goes on.
#
#   experiments/smollm2/prune-table.sh [OUT] [DB]
#
# FRUGAL_BIN names another frugal binary; FRUGAL_THREADS sets --threads (default: one per core);
# PRUNERS the rows to run (default: every one below); SPARSITIES likewise.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/build/smollm2-prune}"
db="${2:-$out/runs.db}"
frugal="${FRUGAL_BIN:-$root/build/release/bin/frugal}"
threads=${FRUGAL_THREADS:+--threads $FRUGAL_THREADS}
pruners="${PRUNERS:-magnitude wanda sparsegpt ria dsnot wandapp}"
sparsities="${SPARSITIES:-0.5 0.7 2:4}"
mkdir -p "$out"
cd "$root"

# row NAME OVERRIDES...: prune with OVERRIDES, save as OUT/NAME, score it zero-shot.
row() {
  local name="$1"; shift
  [ -s "$out/$name.eval.json" ] && return
  echo "== $name ($(date +%T))"
  "$frugal" $threads -q run experiments/smollm2/prune-smollm2.toml "$@" \
    --db "$db" --name "smollm2 $name" --out "$out/$name" || { echo "prune-table: $name FAILED" >&2; return; }
  "$frugal" $threads eval task --model "$out/$name" --task movie-sentences --db "$db" --name "smollm2 $name zero-shot" \
    --json > "$out/$name.eval.json" || { echo "prune-table: $name zero-shot FAILED" >&2; rm -f "$out/$name.eval.json"; }
  rm -rf "$out/$name"  # the pruned weights (0.5 GB a row); the run keeps its masks' figures
}

for sparsity in $sparsities; do
  tag=$(echo "$sparsity" | tr ':.' '-_')
  for method in $pruners; do
    row "$method-$tag" prune.method=$method prune.sparsity=$sparsity
    case "$sparsity" in
      *:*) [ "$method" = ria ] && row "ria-permute-$tag" prune.method=ria prune.sparsity=$sparsity prune.ria_permute=true ;;
      *) row "$method-owl-$tag" prune.method=$method prune.sparsity=$sparsity prune.owl=true ;;
    esac
  done
done
"$frugal" list --db "$db" --json > "$out/runs.json"
"$root/.venv/bin/python" "$root/experiments/smollm2/prune-summarize.py" "$out"
