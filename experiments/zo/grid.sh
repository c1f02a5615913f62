#!/bin/sh
# The fine-tuning table of docs/RESULTS.md: the configs in this folder (500 steps, batch 16, dev
# accuracy on all 496 dev examples every 100 steps, test accuracy at the end) over a small
# learning-rate grid each, into one database; then the table from the stored series.
#
#   sh experiments/zo/grid.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/zo/grid.db}
common="--db $DB --experiment zo-table --quiet"
$F run -m experiments/zo/mezo-full-sentiment.toml zo.lr=3e-5,1e-4 $common
$F run -m experiments/zo/mezo-lora-sentiment.toml zo.lr=1e-3,1e-2 $common
$F run -m experiments/zo/mezo-prefix-sentiment.toml zo.lr=1e-2,3e-2 $common
$F run experiments/zo/mezo-prompt-sentiment.toml $common
$F run experiments/zo/fo-adamw-sentiment.toml $common
$F run experiments/zo/fo-adamw-sentiment.toml peft.target=lora fo.lr=1e-3 $common
rm -rf "$DB.export"
$F export $($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))") \
    --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 experiments/zo/summarize.py "$DB.export"
