#!/bin/sh
# bf16 against fp32 weights on this machine: 10 MeZO steps (batch 8) of the default experiment on
# SmolLM2-135M and the movie-sentences task, then the whole test split (500 examples) scored;
# prints seconds a step (the mean of 1 / sys/steps_per_s) and the seconds the test split took
# (its metric's time less the last dev point's), for each dtype. Runs go to a scratch database.
#
#   sh experiments/smollm2/dtype-speed.sh [FRUGAL_BINARY]
F=${1:-build/release/bin/frugal}
tmp=$(mktemp -d)
for dt in fp32 bf16; do
    $F run experiments/zo/mezo-full-smollm2-movie.toml zo.steps=10 zo.eval_every=1000 zo.eval_limit=1 \
        zo.dtype=$dt --name "dtype-$dt" --db "$tmp/runs.db" --quiet > /dev/null || exit 1
done
ids=$($F list --db "$tmp/runs.db" --json | /usr/bin/python3 -c \
    "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
$F export $ids --db "$tmp/runs.db" --json "$tmp/export" > /dev/null
/usr/bin/python3 - "$tmp/export" <<'PY'
import glob, json, sys
print("| weights | s / step (10 MeZO steps, batch 8) | test split, 500 examples: s |")
print("|---|---:|---:|")
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    d = json.load(open(f))
    m = d["metrics"]
    rates = [p[2] for p in m["sys/steps_per_s"] if p[2] > 0]
    test_ms = m["test/accuracy"][-1][1] - m["dev/accuracy"][-1][1]
    print("| %s | %.2f | %.1f |" % (d["name"].split("-")[1], len(rates) / sum(rates), test_ms / 1000.0))
PY
rm -rf "$tmp"
