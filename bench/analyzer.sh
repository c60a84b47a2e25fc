#!/bin/sh
# The analyzer against the sentiment tools teams reach for, on the same
# input, in the same run (issue 4; figures in docs/BENCHMARKS.md):
#   accuracy: MCC/F1 of the negative class on each dev file in shared/data,
#             and on its two halves by id hash (bench/peers/halves.py):
#             A is the half rules were tuned on, B the check
#   speed:    `earshot check --jsonl` vs VADER and AFINN in node over the
#             airline file repeated to ~60,000 lines, whole process
#             (hyperfine: medians and ratios)
#   user CPU: medians of /usr/bin/time runs, same input
#   instructions per mention: valgrind callgrind (when installed)
#   memory and start-up: /usr/bin/time -v with every pack loaded
# Needs: hyperfine, node/npm (the peers are installed into
# bench/peers/node_modules on first use), GNU time.
# Usage: bench/analyzer.sh [path/to/earshot] [path/to/shared/data]
# EAR_BENCH_RUNS (default 10) sets the hyperfine runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
earshot=$(cd "$(dirname "${1:-$top/build/cli/earshot}")" &&
          pwd)/$(basename "${1:-$top/build/cli/earshot}")
data=$(cd "${2:-$top/../shared/data}" && pwd)
out=${EAR_BENCH_OUT:-$top/build/bench}
runs=${EAR_BENCH_RUNS:-10}
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "apt-get install hyperfine" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "apt-get install time" >&2; exit 1; }
[ -d "$here/peers/node_modules/vader-sentiment" ] ||
    (cd "$here/peers" && npm install --silent --no-audit --no-fund >/dev/null)
peers="$here/peers"
export EARSHOT_RULES="${EARSHOT_RULES:-$top/rules}"

score() { python3 "$peers/score.py" "$1" "$2"; }

echo "== accuracy (negative class) on the dev files and their halves"
python3 "$peers/halves.py" "$out/halves" "$data"/*.dev.jsonl
printf '%-34s %-8s %s\n' file tool result
for f in "$data"/*.dev.jsonl; do
    name=$(basename "$f" .dev.jsonl)
    "$earshot" check --jsonl < "$f" > "$out/$name.earshot.jsonl"
    node "$peers/classify.js" vader < "$f" > "$out/$name.vader.jsonl"
    node "$peers/classify.js" afinn < "$f" > "$out/$name.afinn.jsonl"
    for tool in earshot vader afinn; do
        printf '%-34s %-8s %s\n' "$name" "$tool" \
            "$(score "$f" "$out/$name.$tool.jsonl")"
    done
    for h in A B; do
        printf '%-34s %-8s %s\n' "$name.$h" earshot \
            "$(score "$out/halves/$name.$h.jsonl" "$out/$name.earshot.jsonl")"
    done
done

echo "== throughput: airline tweets repeated to ~60,000 lines"
big="$out/airline-60k.jsonl"
: > "$big"
for i in 1 2 3 4 5 6 7 8 9; do
    cat "$data/airline-tweets-en.dev.jsonl" >> "$big"
done
lines=$(wc -l < "$big")
echo "$lines lines, $(du -h "$big" | cut -f1)"
# hyperfine runs each command through a shell (for the redirections) and
# subtracts the shell's own start-up
hyperfine --warmup 1 --runs "$runs" --export-json "$out/analyzer-hyperfine.json" \
    "'$earshot' check --jsonl < '$big' > /dev/null" \
    "node '$peers/classify.js' vader < '$big' > /dev/null" \
    "node '$peers/classify.js' afinn < '$big' > /dev/null" >/dev/null
python3 - "$out/analyzer-hyperfine.json" "$lines" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]; n = int(sys.argv[2])
names = ["earshot", "VADER", "AFINN"]
base = r[0]["median"]
for name, x in zip(names, r):
    print(f'{name:8s} median {x["median"]:.3f} s (min {x["min"]:.3f})  '
          f'{n / x["median"]:>9,.0f} lines/s  '
          f'{x["median"] / base:5.1f}x earshot\'s time')
PY

echo "== user CPU, median of runs (the machine is shared: CPU time moves less than wall time)"
# /usr/bin/time per run; VADER takes 30 s a run, so it gets fewer runs
ucpu() {
    n=$1; shift
    i=0
    while [ "$i" -lt "$n" ]; do
        /usr/bin/time -f '%U' "$@" < "$big" 2>&1 >/dev/null | tail -1
        i=$((i + 1))
    done | sort -n | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f\n", m }'
}
ue=$(ucpu "$runs" "$earshot" check --jsonl)
ua=$(ucpu "$runs" node "$peers/classify.js" afinn)
uv=$(ucpu 3 node "$peers/classify.js" vader)
python3 - "$lines" "$ue" "$uv" "$ua" <<'PY'
import sys
n = int(sys.argv[1]); e, v, a = map(float, sys.argv[2:5])
for name, t in (("earshot", e), ("VADER", v), ("AFINN", a)):
    print(f'{name:8s} user {t:.3f} s  {n / t:>9,.0f} lines/s of CPU  '
          f'{t / e:5.1f}x earshot\'s CPU')
PY

if command -v valgrind >/dev/null; then
    echo "== instructions per mention (callgrind: 12,404 lines minus 1 line, start-up excluded)"
    head -12404 "$big" > "$out/cg.jsonl"
    head -1 "$big" > "$out/cg1.jsonl"
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$earshot" check --jsonl < "$1" 2>&1 >/dev/null |
            sed -n 's/.*refs: *//p' | tr -d ,
    }
    a=$(ir "$out/cg.jsonl"); b=$(ir "$out/cg1.jsonl")
    echo "$(( (a - b) / 12403 )) instructions per mention (start-up: $b)"
fi

echo "== start-up and memory with every pack loaded"
t() { /usr/bin/time -f '%e s elapsed, %M KB max RSS' "$@"; }
printf 'earshot check TEXT:     '
t "$earshot" check --lang en "the parcel never arrived" 2>&1 >/dev/null | tail -1
printf 'earshot check --jsonl:  '
t "$earshot" check --jsonl < "$big" 2>&1 >/dev/null | tail -1
printf 'node VADER --jsonl:     '
t node "$peers/classify.js" vader < "$big" 2>&1 >/dev/null | tail -1
printf 'node AFINN --jsonl:     '
t node "$peers/classify.js" afinn < "$big" 2>&1 >/dev/null | tail -1
hyperfine --warmup 3 --runs 30 -N \
    "$earshot check --lang en 'the parcel never arrived'" 2>/dev/null |
    grep -E "Time|Range"
