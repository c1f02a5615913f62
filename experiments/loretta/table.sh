#!/bin/sh
# The LoRETTA / AdaZeta table and figure of docs/RESULTS.md: six configurations of this folder
# (MeZO full, MeZO-LoRA, MeZO-prefix, MeZO on LoRETTA_adp, AdaZeta, FO AdamW on LoRETTA_adp) on
# the built-in model and sentiment task, seeds 0, 1 and 2 each (batches, directions and adapter
# init), two runs at a time on one thread each, into one database; then the table and the figure
# of dev loss against forward passes (docs/img/loretta-dev-loss.png).
#
#   sh experiments/loretta/table.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/loretta/runs.db}
common="--db $DB --experiment loretta-table --quiet"
for cfg in mezo-full mezo-lora mezo-prefix loretta-adp-zo adazeta fo-loretta-adp; do
    case $cfg in fo-*) t=fo ;; *) t=zo ;; esac
    for seed in 0 1 2; do
        $F --threads 1 run experiments/loretta/$cfg.toml $t.seed=$seed peft.seed=$seed \
            --name $cfg $common > /dev/null || echo "stopped or failed: $cfg seed $seed" &
        [ $seed = 1 ] && wait
    done
    wait
done
rm -rf "$DB.export"
ids=$($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
$F export $ids --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 experiments/loretta/summarize.py "$DB.export" --frugal "$F"
finished=$($F list --db "$DB" --status finished --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in sorted(json.load(sys.stdin), key=lambda r: r['id'])))")
for ext in png svg; do
    $F plot $finished --db "$DB" --metric dev/loss --x passes --log-x --log-y \
        --title "Dev loss vs forward passes (mean of 3 seeds)" --out docs/img/loretta-dev-loss.$ext
done
