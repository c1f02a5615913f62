#!/bin/sh
# SharpZO against plain ZO-SGD on the same soft prompt at the same forward budget (docs/RESULTS.md):
# three seeds of each config in this folder and of SharpZO with rho = 0 into one database, then the table from the stored
# series. About 70 minutes on 2 cores.
#
#   sh experiments/sharpzo/compare.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/sharpzo/compare.db}
common="--db $DB --experiment sharpzo-vs-zo --quiet"
$F run -m experiments/sharpzo/sharpzo-prompt-sentiment.toml sharpzo.seed=0,1,2 $common
$F run -m experiments/sharpzo/sharpzo-plain-zo-sentiment.toml sharpzo.seed=0,1,2 $common
# the same CMA-ES warm start without the sharpness-aware shift (plain CMA-ES, 17 forwards a
# generation): what the shift itself adds
$F run -m experiments/sharpzo/sharpzo-prompt-sentiment.toml sharpzo.seed=0,1,2 sharpzo.rho=0 $common
rm -rf "$DB.export"
$F export $($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))") \
    --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 experiments/sharpzo/summarize.py "$DB.export"
