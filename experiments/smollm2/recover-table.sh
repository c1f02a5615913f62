#!/usr/bin/env bash
# The recovery rows of docs/RESULTS.md's SmolLM2 pruning table (Wanda++'s "combined with
# recovering training"): Wanda 2:4 and Wanda++ 2:4 (regional optimisation at lr 1e-4, the better
# lr of wandapp-lr.sh) pruned as prune-smollm2.toml prunes them, then each recovered with LoRA
# masked by its pruned weights (recover-fo-lora.toml: AdamW; recover-mezo-lora.toml: MeZO-LoRA,
# forwards only) on Jane Austen's novels, and every model's Moby Dick perplexity scored by the
# pruning table's protocol (the first 50 windows of 256 tokens) and its zero-shot accuracy on the
# movie-sentences test split. Runs in DB, models and JSON in
# OUT; a pruned model already in OUT/NAME is used as it is. Recoveries run FRUGAL_JOBS (2) at a
# time, one thread each. A failed row is named on stderr and the table goes on.
#
#   experiments/smollm2/recover-table.sh [OUT] [DB]
#
# FRUGAL_BIN names another frugal binary.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/build/smollm2-recover}"
db="${2:-$out/runs.db}"
frugal="${FRUGAL_BIN:-$root/build/release/bin/frugal}"
jobs="${FRUGAL_JOBS:-2}"
mkdir -p "$out"
cd "$root"
scripts/fetch-data --corpus > /dev/null  # the training text, .cache/corpus/austen.txt (checked; built once)
ppl() {  # MODEL_DIR NAME: Moby Dick perplexity as the pruning table scores it
  [ -s "$out/$2.ppl.json" ] && return 0
  "$frugal" --threads 1 eval ppl --model "$1" --text resources/data/text/moby-dick.txt --seq-len 256 --limit-windows 50 \
    --batch 4 --db "$db" --name "smollm2 $2 moby-dick ppl" --json > "$out/$2.ppl.json.part" &&
    mv "$out/$2.ppl.json.part" "$out/$2.ppl.json" || echo "recover-table: $2 perplexity FAILED" >&2
}
acc() {  # MODEL_DIR NAME: zero-shot accuracy on the movie-sentences test split
  [ -s "$out/$2.eval.json" ] && return 0
  "$frugal" --threads 1 eval task --model "$1" --task movie-sentences --db "$db" --name "smollm2 $2 zero-shot" \
    --json > "$out/$2.eval.json.part" && mv "$out/$2.eval.json.part" "$out/$2.eval.json" ||
    echo "recover-table: $2 zero-shot FAILED" >&2
}
export -f ppl acc
export out db frugal
for pruned in "wanda-2-4 prune.method=wanda" "wandapp-2-4-lr1e-4 prune.method=wandapp prune.ro_lr=1e-4"; do
  set -- $pruned
  name=$1; shift
  if [ ! -s "$out/$name/model.safetensors" ]; then
    echo "== prune $name"
    "$frugal" -q run experiments/smollm2/prune-smollm2.toml "$@" prune.sparsity=2:4 --db "$db" --name "smollm2 $name" \
      --out "$out/$name" || { echo "recover-table: prune $name FAILED" >&2; continue; }
  fi
done
# the recoveries, then each model's perplexity (the pruned ones too, by the same command)
# (KIND-lrX: the config of KIND at lr X)
printf '%s\n' "wandapp-2-4-lr1e-4 fo" "wandapp-2-4-lr1e-4 mezo" "wanda-2-4 fo" "wanda-2-4 mezo" \
  "wandapp-2-4-lr1e-4 mezo-lr1e-3" "wanda-2-4 mezo-lr1e-3" |
  xargs -r -P "$jobs" -L 1 bash -c '
    pruned=$1 kind=$2 name="$1-$2-lora" config=${2%%-lr*} table=$([ "$2" = fo ] && echo fo || echo zo)
    lr=$(case $kind in *-lr*) echo "$table.lr=${kind#*-lr}" ;; esac)
    [ -s "$out/$pruned/model.safetensors" ] || exit 0
    if [ ! -s "$out/$name/model.safetensors" ]; then
      echo "== recover $name"
      "$frugal" --threads 1 -q run experiments/smollm2/recover-$config-lora.toml "$table.model=\"$out/$pruned\"" $lr \
        --db "$db" --name "smollm2 $name" --out "$out/$name" > "$out/$name.log" 2>&1 ||
        { echo "recover-table: $name FAILED (see $out/$name.log)" >&2; exit 0; }
    fi
    ppl "$out/$name" "$name"
    acc "$out/$name" "$name"
  ' _
for pruned in wanda-2-4 wandapp-2-4-lr1e-4; do
  [ -s "$out/$pruned/model.safetensors" ] && ppl "$out/$pruned" "$pruned" && acc "$out/$pruned" "$pruned"
done
rm -rf "$out/export"
ids=$("$frugal" list --db "$db" --json | "$root/.venv/bin/python" -c \
  "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
"$frugal" export $ids --db "$db" --json "$out/export" > /dev/null
"$root/.venv/bin/python" "$root/experiments/smollm2/recover-summarize.py" "$out"
