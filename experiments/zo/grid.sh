#!/bin/sh
# The fine-tuning table of docs/RESULTS.md: the configs in this folder (500 steps, batch 16, dev
# accuracy on all 496 dev examples every 100 steps, test accuracy at the end) over a small
# learning-rate grid each, then a second round of 1,000-step runs, into one database; then the
# table from the stored series. About 75 minutes on 2 cores.
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
# the second round: LoRA and prefix had not left the majority-label plateau after 500 steps
$F run experiments/zo/mezo-lora-sentiment.toml zo.lr=3e-3 zo.steps=1000 $common
$F run -m experiments/zo/mezo-prefix-sentiment.toml zo.lr=1e-1,3e-1 zo.steps=1000 $common
$F run experiments/zo/mezo-lora-sentiment.toml zo.lr=1e-3 zo.steps=2000 zo.eval_every=200 $common
$F run experiments/zo/mezo-full-sentiment.toml zo.lr=3e-4 $common   # diverges: stopped, failed
rm -rf "$DB.export"
$F export $($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))") \
    --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 experiments/zo/summarize.py "$DB.export" --frugal "$F" --db "$DB"
