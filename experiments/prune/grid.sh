#!/bin/sh
# The pruning table of docs/RESULTS.md: the built-in model at 2:4 and at 50% unstructured by
# magnitude, Wanda, SparseGPT, Wanda++ (RGS only) and Wanda++ (RGS + regional optimisation), then
# MeZO recovery (pruned weights kept at zero) of the Wanda and Wanda++ 2:4 models, and the
# recovered models' perplexity. Runs go to experiments/prune/grid.db; models to
# experiments/prune/models/. About 40 minutes on 2 cores. A failed run is named on stderr and the
# grid goes on. docs/RESULTS.md's table also has four runs of a sensitivity check made by hand:
#   $BIN run $CONFIG prune.method=wandapp prune.ro=off prune.alpha=1000 (and 10000) prune.sparsity=2:4
#   $BIN run $CONFIG prune.method=wandapp prune.ro_lr=1e-5 (and 1e-4) prune.sparsity=2:4
#
#   sh experiments/prune/grid.sh
BIN=${BIN:-build/release/bin/frugal}
DB=experiments/prune/grid.db
OUT=experiments/prune/models
CONFIG=experiments/prune/prune-tiny.toml
mkdir -p "$OUT"
for sparsity in 2:4 0.5; do
  tag=$(echo "$sparsity" | tr ':.' '-_')
  for variant in magnitude wanda sparsegpt wandapp-rgs wandapp; do
    case $variant in
      wandapp-rgs) extra="prune.method=wandapp prune.ro=off" ;;
      *) extra="prune.method=$variant" ;;
    esac
    $BIN -q run $CONFIG $extra prune.sparsity=$sparsity --db $DB --name "$variant $sparsity" \
      --out "$OUT/$variant-$tag" || echo "grid.sh: $variant $sparsity FAILED" >&2
  done
done
for variant in wanda wandapp; do
  parent=$($BIN list --db $DB --json | /usr/bin/python3 -c "import json,sys; print([r['id'] for r in json.load(sys.stdin) if r['name']=='$variant 2:4'][0])")
  $BIN -q run experiments/prune/recover-zo.toml zo.model="$OUT/$variant-2-4" --db $DB --parent "$parent" \
    --name "recover $variant 2:4" --out "$OUT/$variant-2-4-recovered"
  $BIN -q eval ppl --model "$OUT/$variant-2-4-recovered" --text resources/data/text/moby-dick.txt \
    --seq-len 256 --batch 8
done
