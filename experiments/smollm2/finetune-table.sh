#!/bin/sh
# The SmolLM2 fine-tuning table of docs/RESULTS.md: the eight ft-*.toml configs of this folder
# (MeZO full, MeZO-LoRA, MeZO-prefix, MeZO on LoRETTA_adp at two learning rates, AdaZeta, SharpZO
# on a soft prompt and first-order AdamW-LoRA) on SmolLM2-135M-Instruct and the movie-sentences task, seeds 0, 1 and 2
# (batches, directions, adapter init), two runs at a time on one thread each, into one database;
# then the table from the stored series and the figure of dev loss against forward passes
# (docs/img/smollm2-finetune-dev-loss.png). About 80 minutes on 2 cores. A run already in the
# database under its name (the config) and tag (seed-N), finished or still running, is not
# started again.
#
#   sh experiments/smollm2/finetune-table.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/smollm2/finetune.db}
here=experiments/smollm2
names() {  # "NAME/TAG" of the runs of DB with status finished or running
    [ -f "$DB" ] && $F list --db "$DB" --json | /usr/bin/python3 -c \
        "import json,sys; print(' '.join(r['name'] + '/' + t for r in json.load(sys.stdin) if r['status'] in ('finished', 'running') for t in r['tags']))"
}
have=" $(names) "
for cfg in mezo-full mezo-lora mezo-prefix loretta-adp loretta-adp-lr1e-4 adazeta sharpzo-prompt fo-adamw-lora; do
    case $cfg in fo-*) t=fo ;; sharpzo-*) t=sharpzo ;; *) t=zo ;; esac
    for seed in 0 1 2; do
        case "$have" in *" $cfg/seed-$seed "*) continue ;; esac
        echo "$cfg $t $seed"
    done
done | xargs -r -P 2 -L 1 sh -c '"$0" --threads 1 run '$here'/ft-$1.toml $2.seed=$3 peft.seed=$3 --name $1 --tag seed-$3 \
    --db '"$DB"' --experiment smollm2-finetune --quiet > /dev/null || echo "stopped or failed: $1 seed $3"' "$F"
rm -rf "$DB.export"
ids=$($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
$F export $ids --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 $here/finetune-summarize.py "$DB.export" --frugal "$F"
finished=$($F list --db "$DB" --status finished --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in sorted(json.load(sys.stdin), key=lambda r: r['id'])))")
for ext in png svg; do
    $F plot $finished --db "$DB" --metric dev/loss --x passes \
        --title "SmolLM2-135M, movie sentences: dev loss vs forward passes" --out docs/img/smollm2-finetune-dev-loss.$ext
done
