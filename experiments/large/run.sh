#!/usr/bin/env bash
# Issue #17's table: MeZO on random models of OPT-1.3B's, OpenLLaMA-3B's and LLaMA-2-7B's shapes,
# weights in bf16, on this machine. For each shape: a seeded random checkpoint (written once),
# `frugal bench zo` (forward, the two-pass MeZO step beside the three-pass one, peak RSS, the
# guard's estimate), AdamW refused by the guard, and 10-step MeZO and MeZO-LoRA runs stored in the
# experiment database. Results: $OUT/*.json and *.txt; summarise with summarize.py.
#
#   experiments/large/run.sh [SHAPE ...]     (default: opt-1.3b open-llama-3b llama-2-7b)
#   env: OUT (default /tmp/frugal-large), BATCH (bench batch, default 4), SEQ (128), DB (frugal's),
#        PHASES ("bench runs": the timed benches, then the stored runs)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/release/bin/frugal}
OUT=${OUT:-/tmp/frugal-large}
BATCH=${BATCH:-4}
SEQ=${SEQ:-128}
DBARG=()
[ -n "${DB:-}" ] && DBARG=(--db "$DB")
mkdir -p "$OUT"
shapes=("$@")
[ ${#shapes[@]} -eq 0 ] && shapes=(opt-1.3b open-llama-3b llama-2-7b)
PHASES=${PHASES:-bench runs}
# the timed benches of every shape first, then the stored runs
[[ " $PHASES " == *" bench "* ]] && for shape in "${shapes[@]}"; do
    config=experiments/models/$shape/config.json
    dir=$OUT/models/$shape
    if [ ! -f "$dir/config.json" ]; then
        echo "== $shape: init-model"
        /usr/bin/time -v "$BIN" init-model "$dir" --like "$config" --dtype BF16 --seed 0 2> "$OUT/$shape-init.time" || exit 1
    fi
    cp resources/models/frugal-tiny/tokenizer.json "$dir/"
    for direction in gaussian rademacher; do
        echo "== $shape: bench zo (mezo, $direction, batch $BATCH x $SEQ)"
        "$BIN" bench zo --model "$dir" --dtype bf16 --method mezo --direction $direction --batch "$BATCH" --seq "$SEQ" \
            --steps 1 --json > "$OUT/$shape-bench-mezo-$direction.json" 2> "$OUT/$shape-bench-mezo-$direction.err"
    done
    echo "== $shape: bench zo (adam: the guard)"
    "$BIN" bench zo --model "$dir" --dtype bf16 --method adam --batch "$BATCH" --seq "$SEQ" --steps 1 --json \
        > "$OUT/$shape-bench-adam.json" 2> "$OUT/$shape-bench-adam.err"
    echo "exit $?" >> "$OUT/$shape-bench-adam.err"
done
# the largest first: the runs that matter most finish first
[[ " $PHASES " == *" runs "* ]] && for (( k=${#shapes[@]}-1; k>=0; k-- )); do
    shape=${shapes[$k]}
    dir=$OUT/models/$shape
    for run in mezo-full mezo-lora; do
        echo "== $shape: $run"
        /usr/bin/time -v "$BIN" run experiments/large/$run.toml mezo.model="\"$dir\"" --name "$shape-$run" \
            --experiment large-bf16 "${DBARG[@]}" > "$OUT/$shape-$run.txt" 2>&1
        echo "exit $?" >> "$OUT/$shape-$run.txt"
    done
done
