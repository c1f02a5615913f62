#!/bin/sh
# The learning-rate grid behind the configs in this folder (docs/RESULTS.md): 400 steps each,
# dev accuracy on the first 200 dev examples every 100 steps, into one database.
#
#   sh experiments/zo/grid.sh [FRUGAL_BINARY] [DB]

F=${1:-build/release/bin/frugal}
DB=${2:-experiments/zo/grid.db}
common="--db $DB --experiment zo-grid --quiet"
short="steps=400 eval_every=100 eval_limit=200"
z() { for kv in $short; do printf 'zo.%s ' "$kv"; done; }
f() { for kv in $short; do printf 'fo.%s ' "$kv"; done; }
$F run -m experiments/zo/mezo-full-sentiment.toml $(z) zo.lr=3e-5,1e-4,3e-4 $common
$F run -m experiments/zo/mezo-lora-sentiment.toml $(z) zo.lr=1e-3,3e-3,1e-2 $common
$F run -m experiments/zo/mezo-prefix-sentiment.toml $(z) zo.lr=3e-3,1e-2,3e-2 $common
$F run -m experiments/zo/mezo-prompt-sentiment.toml $(z) zo.lr=1e-3,1e-2 $common
$F run -m experiments/zo/fo-adamw-sentiment.toml $(f) fo.lr=1e-5,1e-4 $common
$F run -m experiments/zo/fo-adamw-sentiment.toml $(f) peft.target=lora fo.lr=1e-3 $common
