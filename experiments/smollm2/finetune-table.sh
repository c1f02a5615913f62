#!/bin/sh
# The SmolLM2 fine-tuning table of docs/RESULTS.md: the seven ft-*.toml configs of this folder
# (MeZO full, MeZO-LoRA, MeZO-prefix, MeZO on LoRETTA_adp, AdaZeta, SharpZO on a soft prompt and
# first-order AdamW-LoRA) on SmolLM2-135M-Instruct and the movie-sentences task, seeds 0, 1 and 2
# (batches, directions, adapter init), two runs at a time on one thread each, into one database;
# then the table from the stored series. About 75 minutes on 2 cores. A run already finished in
# the database under its name (config and seed) is not run again.
#
#   sh experiments/smollm2/finetune-table.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/smollm2/finetune.db}
here=experiments/smollm2
common="--db $DB --experiment smollm2-finetune --quiet"
done_already() {  # run name
    [ -f "$DB" ] && $F list --db "$DB" --status finished --json | /usr/bin/python3 -c \
        "import json,sys; sys.exit(0 if any(r['name'] == '$1' for r in json.load(sys.stdin)) else 1)"
}
for cfg in mezo-full mezo-lora mezo-prefix loretta-adp adazeta sharpzo-prompt fo-adamw-lora; do
    case $cfg in fo-*) t=fo ;; sharpzo-*) t=sharpzo ;; *) t=zo ;; esac
    for seed in 0 1 2; do
        if done_already "$cfg-s$seed"; then continue; fi
        $F --threads 1 run $here/ft-$cfg.toml $t.seed=$seed peft.seed=$seed \
            --name $cfg-s$seed $common > /dev/null || echo "stopped or failed: $cfg seed $seed" &
        [ $seed = 1 ] && wait
    done
    wait
done
rm -rf "$DB.export"
ids=$($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
$F export $ids --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 $here/finetune-summarize.py "$DB.export" --frugal "$F"
