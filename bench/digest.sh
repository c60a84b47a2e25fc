#!/bin/sh
# The digest at scale (issue 5): the store of bench/queue.sh (1,000,000
# mentions over 30 days, 100,000 queue items), then a 24-hour digest in
# each format, and a 7-day one, with hyperfine.
# Usage: bench/digest.sh [build dir]    (EAR_BENCH_OUT as for queue.sh)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${1:-$top/build}
earshot=$build/cli/earshot
out=${EAR_BENCH_OUT:-$build/bench}
db=$out/queue-1m.db
"$here/queue.sh" --data-only "$build"
export EARSHOT_NOW=2026-11-23T17:00:00Z NO_COLOR=1
unset EARSHOT_CONFIG
cd "$out"
echo "== digest of the last 24 hours (~33,000 mentions, ~3,300 queued)"
hyperfine -N --warmup 2 --runs 15 --export-json "$out/digest.json" \
    "$earshot --db $db digest --since 24h --format json" \
    "$earshot --db $db digest --since 24h --format md" \
    "$earshot --db $db digest --since 24h --format html" \
    "$earshot --db $db digest --since 7d --format json"
