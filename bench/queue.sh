#!/bin/sh
# The queue at scale (issue 5): a store with 1,000,000 mentions and
# 100,000 queue items (bench/queue_data.sql), then
#   queue list, first page (50 items), table and --json   (hyperfine)
#   queueing a run's 10,000 new flagged mentions, outbox rows included,
#   and the incident pass over them                       (bench/queue_add.c)
# Needs: hyperfine, sqlite3, a C compiler, a built tree.
# Usage: bench/queue.sh [build dir] ; bench/queue.sh --data-only [build dir]
# EAR_BENCH_OUT (default BUILD/bench) holds the store, reused when present.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
data_only=0
[ "${1:-}" = "--data-only" ] && { data_only=1; shift; }
build=${1:-$top/build}
earshot=$build/cli/earshot
out=${EAR_BENCH_OUT:-$build/bench}
db=$out/queue-1m.db
mkdir -p "$out"
for t in hyperfine sqlite3 cc; do
    command -v $t >/dev/null || { echo "bench/queue.sh needs $t" >&2; exit 1; }
done
[ -x "$earshot" ] || { echo "no $earshot: build first" >&2; exit 1; }
export EARSHOT_NOW=2026-11-23T17:00:00Z NO_COLOR=1
unset EARSHOT_CONFIG
cd "$out"   # no earshot.yml here: commands run with the empty config

if [ ! -s "$db" ]; then
    echo "== generating $db (1,000,000 mentions, 100,000 queue items)"
    rm -f "$db" "$db-wal" "$db-shm"
    "$earshot" --db "$db" queue list --limit 1 >/dev/null  # schema
    start=$(date +%s)
    sqlite3 "$db" < "$here/queue_data.sql" >/dev/null
    echo "   loaded in $(( $(date +%s) - start ))s, $(du -h "$db" | cut -f1)"
fi
[ $data_only = 1 ] && exit 0
sqlite3 "$db" "SELECT 'mentions', count(*) FROM mentions UNION ALL
               SELECT 'queue', count(*) FROM queue UNION ALL
               SELECT 'open', count(*) FROM queue
               WHERE state IN ('new','assigned','responded')" |
    tr '|' ' ' | sed 's/^/   /'

echo "== queue list, first page"
hyperfine -N --warmup 3 --runs 30 --export-json "$out/queue-list.json" \
    "$earshot --db $db queue list --limit 50" \
    "$earshot --db $db queue list --limit 50 --json" \
    "$earshot --db $db queue list --limit 50 --team team-3 --overdue"

echo "== queueing 10,000 new flagged mentions (2 sinks: 20,000 outbox rows)"
cc -O2 -std=c17 -D_GNU_SOURCE -I"$top" -o "$out/queue_add" \
    "$here/queue_add.c" "$build/output/libear_output.a" \
    "$build/core/libear_core.a" \
    $(pkg-config --libs jansson libcurl libcrypto cairo sqlite3 yaml-0.1) -lm
cat > "$out/queue_add.yml" <<YML
brands: [{name: Acme}, {name: Brightcart}]
teams: [{name: billing}, {name: logistics}, {name: support}]
default_team: support
routing:
  - {team: billing, categories: [billing, refund]}
  - {team: logistics, categories: [delivery]}
sinks:
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/hook"}
  - {name: file, type: jsonl, path: alerts.jsonl}
YML
: > "$out/queue_add.txt"
reset() {  # back to the generated store, so every run starts alike
    sqlite3 "$db" "DELETE FROM outbox; DELETE FROM alerts;
        DELETE FROM incident_mentions;
        DELETE FROM incidents;
        DELETE FROM events WHERE queue_id IN (SELECT id FROM queue WHERE
            mention_id IN (SELECT id FROM mentions WHERE key LIKE 'bench-%'));
        DELETE FROM queue WHERE mention_id IN
            (SELECT id FROM mentions WHERE key LIKE 'bench-%');
        DELETE FROM verdicts WHERE mention_id IN
            (SELECT id FROM mentions WHERE key LIKE 'bench-%');
        DELETE FROM mentions WHERE key LIKE 'bench-%';
        UPDATE output_state SET value = (SELECT max(id) FROM queue)
        WHERE key = 'incidents.last_queue_id';
        PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
}
reset
for i in 1 2 3 4 5; do
    "$out/queue_add" "$db" "$out/queue_add.yml" 10000 "run$$-$i" \
        >> "$out/queue_add.txt"
    reset
done
grep -v '^sinks:\|^  - {name: \(hook\|file\)' "$out/queue_add.yml" \
    > "$out/queue_add_nosinks.yml"
for i in 1 2 3; do
    "$out/queue_add" "$db" "$out/queue_add_nosinks.yml" 10000 "ns$$-$i" |
        sed 's/^queue_add /queue_add_nosinks /' >> "$out/queue_add.txt"
    reset
done
for what in queue_add queue_add_nosinks incidents; do
    grep "^$what " "$out/queue_add.txt" | awk '{print $3, $4}' | sort -n |
        awk -v w="$what" '{v[NR]=$1; c[NR]=$2} END {
            printf "   %-18s median %.3f s wall (%.3f s CPU) of %d runs, " \
                   "min %.3f, max %.3f\n", w, v[int((NR+1)/2)],
                   c[int((NR+1)/2)], NR, v[1], v[NR]}'
done
