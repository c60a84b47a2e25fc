#!/bin/sh
# The analyzer against the sentiment tools teams reach for, on the same
# input, in the same run (issue 4):
#   accuracy: MCC/F1 of the negative class on each dev file in ../shared/data
#   speed:    `earshot check --jsonl` vs VADER and AFINN in node over the
#             airline file repeated to ~60,000 lines, whole process (hyperfine)
#   memory and start-up: /usr/bin/time -v with every pack loaded
# Needs: hyperfine, node/npm (peers installed into bench/peers/node_modules),
# GNU time. Usage: bench/analyzer.sh [path/to/earshot] [path/to/shared/data]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
earshot=${1:-$top/build/cli/earshot}
data=${2:-$top/../shared/data}
out=${EAR_BENCH_OUT:-$top/build/bench}
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "apt-get install hyperfine" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "apt-get install time" >&2; exit 1; }
[ -d "$here/peers/node_modules/vader-sentiment" ] ||
    (cd "$here/peers" && npm install --silent --no-audit --no-fund >/dev/null)
peers="$here/peers"

echo "== accuracy (negative class) on the dev files"
printf '%-32s %-8s %s\n' file tool result
for f in "$data"/*.jsonl; do
    name=$(basename "$f" .dev.jsonl)
    "$earshot" check --jsonl < "$f" > "$out/$name.earshot.jsonl"
    node "$peers/classify.js" vader < "$f" > "$out/$name.vader.jsonl"
    node "$peers/classify.js" afinn < "$f" > "$out/$name.afinn.jsonl"
    for tool in earshot vader afinn; do
        printf '%-32s %-8s %s\n' "$name" "$tool" \
            "$(python3 "$peers/score.py" "$f" "$out/$name.$tool.jsonl")"
    done
done

echo "== throughput: airline tweets repeated to ~60,000 lines"
big="$out/airline-60k.jsonl"
: > "$big"
for i in 1 2 3 4 5 6 7 8 9; do cat "$data/airline-tweets-en.dev.jsonl" >> "$big"; done
lines=$(wc -l < "$big")
echo "$lines lines, $(du -h "$big" | cut -f1)"
hyperfine -N --warmup 1 --runs 10 --export-json "$out/analyzer-hyperfine.json" \
    --input "$big" --output null \
    "$earshot check --jsonl" \
    "node $peers/classify.js vader" \
    "node $peers/classify.js afinn"
python3 - "$out/analyzer-hyperfine.json" "$lines" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]; n = int(sys.argv[2])
base = r[0]["median"]
for x in r:
    print(f'{x["command"]:40s} median {x["median"]:.3f} s  {n / x["median"]:,.0f} lines/s'
          f'  ({x["median"] / base:.1f}x earshot)')
PY

echo "== start-up and memory with every pack loaded"
/usr/bin/time -v "$earshot" check --lang en "the parcel never arrived" 2> "$out/startup.time" >/dev/null
grep -E "Maximum resident|Elapsed" "$out/startup.time"
/usr/bin/time -v "$earshot" check --jsonl < "$big" 2> "$out/jsonl.time" >/dev/null
grep -E "Maximum resident" "$out/jsonl.time"
hyperfine -N --warmup 3 --runs 30 "$earshot check --lang en 'the parcel never arrived'" 2>/dev/null | grep -E "Time|Range"
