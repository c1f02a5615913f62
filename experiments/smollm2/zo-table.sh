#!/bin/sh
# The ZO head-to-head table of docs/RESULTS.md: every row of the ZO optimiser table (sgd = MeZO,
# momentum, nesterov, sign, conservative, adam, lion) and every ZO scheme (FZOO, LeZO, LOZO,
# HiZOO, MeZO-SVRG) on SmolLM2-135M-Instruct and movie-sentences (experiments/smollm2/zo-h2h.toml), seeds 0,
# 1 and 2, at one budget of BUDGET training forward passes (default 160): each row takes
# floor(BUDGET / its forwards a step) steps and evaluates dev at every quarter. Runs go into one
# database, seed by seed; a run already there under its name and tag (seed-N), finished or
# running, is not started again, so the table can be grown in several sittings. JOBS runs at a
# time (default 1), each on one thread. Then the table (experiments/smollm2/zo-summarize.py).
#
#   sh experiments/smollm2/zo-table.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-experiments/smollm2/zo-h2h.db}
BUDGET=${BUDGET:-160}
here=experiments/smollm2
names() {  # "NAME/TAG" of the runs of DB with status finished or running
    [ -f "$DB" ] && $F list --db "$DB" --json | /usr/bin/python3 -c \
        "import json,sys; print(' '.join(r['name'] + '/' + t for r in json.load(sys.stdin) if r['status'] in ('finished', 'running') for t in r['tags']))"
}
# name, forwards a step, overrides
rows() {
    cat <<ROWS
mezo 2 zo.optimizer=sgd
momentum 2 zo.optimizer=momentum
nesterov 2 zo.optimizer=nesterov
sign 2 zo.optimizer=sign
conservative 5 zo.optimizer=conservative
adam 2 zo.optimizer=adam
lion 2 zo.optimizer=lion
fzoo 9 zo.scheme=fzoo
lezo 2 zo.scheme=lezo
lozo 2 zo.scheme=lozo
hizoo 3 zo.scheme=hizoo
svrg 10 zo.scheme=svrg
ROWS
}
have=" $(names) "
for seed in 0 1 2; do
    rows | while read -r name fps overrides; do
        case "$have" in *" $name/seed-$seed "*) continue ;; esac
        steps=$((BUDGET / fps))
        every=$((steps / 4)); [ "$every" -ge 1 ] || every=1
        echo "$name $seed $steps $every $overrides"
    done
done | xargs -r -P "${JOBS:-1}" -L 1 sh -c '"$0" --threads 1 run '$here'/zo-h2h.toml "$5" zo.seed=$2 peft.seed=$2 \
    zo.steps=$3 zo.eval_every=$4 --name "$1" --tag seed-$2 --db '"$DB"' --experiment smollm2-zo-h2h --quiet > /dev/null \
    || echo "stopped or failed: $1 seed $2"' "$F"
rm -rf "$DB.export"
ids=$($F list --db "$DB" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
$F export $ids --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 $here/zo-summarize.py "$DB.export"
