#!/bin/sh
# Wanda++'s regional-optimisation learning rate on SmolLM2-135M at 2:4: the paper's 3e-7 is the
# row of prune-table.sh; this runs 1e-5 and 1e-4 (the range the frugal-tiny table found better)
# with everything else as prune-smollm2.toml, and prints each run's Moby Dick perplexity before
# and after. Runs go to DB; the pruned models are not saved.
#
#   sh experiments/smollm2/wandapp-lr.sh [FRUGAL_BINARY] [DB]
#
# FRUGAL_THREADS sets --threads (default: one per core).
F=${1:-build/release/bin/frugal}
threads=${FRUGAL_THREADS:+--threads $FRUGAL_THREADS}
DB=${2:-build/smollm2-prune/wandapp-lr.db}
mkdir -p "$(dirname "$DB")"
for lr in 1e-5 1e-4; do
    $F $threads run experiments/smollm2/prune-smollm2.toml prune.method=wandapp prune.sparsity=2:4 \
        prune.ro_lr=$lr prune.save=false --db "$DB" --name "smollm2 wandapp 2:4 ro_lr $lr" --quiet \
        > /dev/null || echo "failed: ro_lr $lr"
done
$F list --db "$DB" --json | /usr/bin/python3 -c '
import json, sys
print("| Wanda++ 2:4, RO lr | Moby Dick perplexity: dense → pruned | pruning s |")
print("|---|---|---:|")
for r in sorted(json.load(sys.stdin), key=lambda r: r["id"]):
    m = r["latest"]
    print("| %s | %.2f → %.2f | %.1f |" % (r["name"].split()[-1], m.get("prune/perplexity_dense", float("nan")),
          m.get("prune/perplexity", float("nan")), m.get("prune/seconds", float("nan"))))'
