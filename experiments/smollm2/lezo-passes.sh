#!/bin/sh
# LeZO's saving, measured: full-parameter ZO on SmolLM2-135M-Instruct (fp32 weights, batch 8,
# movie-sentences), STEPS steps (default 10) with every block perturbed (lezo_fraction = 1: MeZO's
# three passes and update, unfused) and with a quarter of them (LeZO's default), and MeZO's own
# step (two fused passes) for reference; one thread each, one run at a time. Prints the mean time
# a step spends in the passes over the weights (lezo/pass_seconds) against the whole step
# (lezo/step_seconds), from the runs' stored series, and MeZO's seconds a step.
#
#   sh experiments/smollm2/lezo-passes.sh [FRUGAL_BINARY] [DB]
F=${1:-build/release/bin/frugal}
DB=${2:-build/lezo-passes.db}
STEPS=${STEPS:-10}
rm -f "$DB"
common="zo.steps=$STEPS zo.eval_every=1000 zo.eval_limit=8 zo.dtype=fp32 zo.lr=1e-6 zo.eps=1e-3 peft.target=full"
for arm in "lezo-1.0 zo.scheme=lezo zo.lezo_fraction=1.0" "lezo-0.25 zo.scheme=lezo zo.lezo_fraction=0.25" "mezo zo.scheme=mezo"; do
    set -- $arm
    name=$1; shift
    $F --threads 1 run experiments/smollm2/zo-h2h.toml $common "$@" --name "$name" --db "$DB" --quiet > /dev/null \
        || echo "failed: $name"
done
ids=$($F list --db "$DB" --json | /usr/bin/python3 -c "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
rm -rf "$DB.export"
$F export $ids --db "$DB" --json "$DB.export" > /dev/null
/usr/bin/python3 - "$DB.export" <<'PY'
import glob, json, statistics, sys
print("| arm | share of weights perturbed | passes s / step | step s | passes / step |")
print("|---|---:|---:|---:|---:|")
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    d = json.load(open(f))
    m = d["metrics"]
    get = lambda k: [p[2] for p in m.get(k, [])]
    if d["name"].startswith("lezo"):
        passes, step, share = get("lezo/pass_seconds"), get("lezo/step_seconds"), get("lezo/perturbed_fraction")
        p, s = statistics.mean(passes[1:]), statistics.mean(step[1:])  # the first step warms up
        print("| %s | %.3f | %.3f | %.3f | %.2f |" % (d["name"], statistics.mean(share), p, s, p / s))
    else:
        rate = [v for v in get("sys/steps_per_s") if v > 0]
        print("| %s (two fused passes) | 1 | - | %.3f | - |" % (d["name"], statistics.mean([1 / v for v in rate[1:]])))
PY
