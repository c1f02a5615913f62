#!/usr/bin/env bash
# The movie-sentences template, chosen on the dev split only: SmolLM2-135M-Instruct's zero-shot
# accuracy (plain, length-normalised, calibrated) on all 500 dev examples for each candidate.
# The task's template (core/data/builtin.cpp) is the best by plain accuracy. About 5 minutes.
#
#   experiments/smollm2/templates.sh [DB]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
db="${1:-$root/build/smollm2-templates.db}"
cd "$root"
while IFS= read -r t; do
  t="${t//\\n/$'\n'}"
  printf '%s\t' "$(printf '%s' "$t" | sed ':a;N;$!ba;s/\n/\\n/g')"
  build/release/bin/frugal eval task --model smollm2-135m --task movie-sentences:dev --template "$t" \
    --labels negative,positive --db "$db" --json 2>/dev/null |
    "$root/.venv/bin/python" -c 'import json,sys; r=json.load(sys.stdin); print(f"{r[\"accuracy\"]:.3f}\t{r[\"accuracy_length_normalised\"]:.3f}\t{r[\"accuracy_calibrated\"]:.3f}")'
done <<'TEMPLATES'
{text} It was {terrible|great}.
Review: {text}\nSentiment: {negative|positive}
{text} Overall, the movie was {bad|good}.
{text} This movie is {bad|good}.
Is this movie review positive or negative?\n{text}\nAnswer: {negative|positive}
{text} In short, {terrible|great}.
TEMPLATES
