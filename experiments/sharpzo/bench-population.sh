#!/bin/sh
# Stage 1 of SharpZO with its points one forward each (population_batch = 1) and batched
# (population_batch = popsize: that many soft prompts over replicas of one batch a forward), at the
# spec's size (d = 512, popsize 40, 2·512 CGE points) and at the committed configs' size
# (d = 32, popsize 16), into one database; then the per-generation times from the stored series
# (docs/BENCHMARKS.md). About 25 minutes on 2 cores.
#
#   sh experiments/sharpzo/bench-population.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/sharpzo/bench-population.db}
cfg=experiments/sharpzo/sharpzo-prompt-sentiment.toml
stage1="sharpzo.patience=0 sharpzo.steps=1 sharpzo.eval_limit=8 sharpzo.max_forwards=0 sharpzo.sharpness_probes=0"
for pb in 1 40; do
    $F run $cfg sharpzo.dim=512 sharpzo.popsize=40 sharpzo.generations=3 sharpzo.separable=true $stage1 \
        sharpzo.population_batch=$pb --db "$DB" --name "d512-pb$pb" --quiet
done
for pb in 1 16; do
    $F run $cfg sharpzo.generations=12 $stage1 sharpzo.population_batch=$pb --db "$DB" --name "d32-pb$pb" --quiet
done
rm -rf "$DB.export"
$F export $($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))") \
    --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 experiments/sharpzo/bench_population.py "$DB.export"
