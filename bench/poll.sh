#!/bin/sh
# Polling (issue 3): 2,000 feeds of about 75 KB (50 items each) served by
# nginx on loopback. A full poll of earshot (fetch, parse, store; analyzer
# off: every source has analyze: false) against two peers in the same run,
# and a second poll where every feed answers 304:
#
#   earshot      earshot run --force, fresh store (first poll), then again
#                on the filled store (every source 304); and a first poll
#                with the analyzer on (the same sources analyzed with a
#                pack that matches nothing: every mention is still
#                prepared, scored and given a verdict), reported beside
#   sfeed        sfeed_update polling the same URLs (one curl and one sfeed
#                process per feed, 16 jobs at once)
#   floor        curl --parallel (16 connections) downloading the same URLs,
#                plus sfeed parsing the same bytes
#
# Wall times are hyperfine medians (RUNS runs, default 5), with hyperfine's
# mean user and system CPU times beside them; peak RSS comes from
# /usr/bin/time -v. Every tool gets 16 connections to the one host.
# Needs: nginx, sfeed, curl, hyperfine, GNU time, python3.
# Usage: bench/poll.sh [path/to/earshot]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
earshot=$(realpath "${1:-$top/build/cli/earshot}")
out=${EAR_BENCH_OUT:-$top/build/bench}/poll
nfeeds=${NFEEDS:-2000}
runs=${RUNS:-5}
for t in nginx sfeed sfeed_update curl hyperfine python3; do
    command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$t" >/dev/null || { echo "apt-get install $t" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "apt-get install time" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/www/feeds" "$out/logs"

# --- the feeds: 50 items of about 1.4 KB each, some HTML, real dates
python3 - "$out/www/feeds" "$nfeeds" <<'EOF'
import sys, random, email.utils
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
words = ("delivery invoice refund support order parcel late broken kettle "
         "service price account helpful quick courier warranty screen app "
         "update payment billing customer agent replacement store").split()
def para(k):
    return " ".join(rnd.choice(words) for _ in range(k)).capitalize() + "."
for f in range(n):
    items = []
    for i in range(50):
        t = 1795420800 - (f * 50 + i) * 137
        body = "<p>%s</p><p>%s <b>%s</b> %s</p><ul><li>%s</li><li>%s</li></ul>" % (
            para(40), para(30), para(3), para(50), para(25), para(20))
        items.append(
            "<item><title>%s (%d/%d)</title>"
            "<link>https://reviews.example.com/shop%d/r%d</link>"
            "<guid isPermaLink=\"false\">shop%d-r%d</guid>"
            "<pubDate>%s</pubDate><dc:creator>user%d</dc:creator>"
            "<description><![CDATA[%s]]></description></item>"
            % (para(6), f, i, f, i, f, i,
               email.utils.formatdate(t, usegmt=True), i, body))
    doc = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
           "<channel><title>Shop %d reviews</title>"
           "<link>https://reviews.example.com/shop%d</link>"
           "<description>bench</description>%s</channel></rss>\n"
           % (f, f, "".join(items)))
    open("%s/f%04d.xml" % (d, f), "w").write(doc)
EOF
bytes=$(cat "$out"/www/feeds/*.xml | wc -c)

# --- nginx on a free loopback port; stopped by its own pid file at exit
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# workers as the invoking user: as root, nginx would run them as nobody,
# who may not read the build directory (every answer a 403)
cat > "$out/nginx.conf" <<EOF
user $(id -un);
worker_processes 2;
pid $out/nginx.pid;
error_log $out/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    types { application/rss+xml xml; }
    sendfile on;
    keepalive_requests 100000;
    keepalive_timeout 60;
    client_body_temp_path $out/logs;
    proxy_temp_path $out/logs;
    fastcgi_temp_path $out/logs;
    uwsgi_temp_path $out/logs;
    scgi_temp_path $out/logs;
    server {
        listen 127.0.0.1:$port;
        root $out/www;
        etag on;
    }
}
EOF
nginx -p "$out" -c "$out/nginx.conf"
trap 'nginx -p "$out" -c "$out/nginx.conf" -s stop 2>/dev/null || true' EXIT INT TERM
base=http://127.0.0.1:$port/feeds

# --- earshot
cat > "$out/off.yml" <<'EOF'
# benchmark pack: the analyzer runs, but matches nothing
lang: any
description: matches nothing (benchmarks with the analyzer off)
lexicon:
  negative:
    - weight: 1
      words: ["zzqqxxyyzz"]
tests:
  quiet:
    - "hello"
EOF
# earshot.yml: the target figure, every source collect only (analyze:
# false); analyzed.yml: the same sources analyzed
for conf in earshot analyzed; do
    extra=", analyze: false"
    [ "$conf" = analyzed ] && extra=""
    {
        echo "rules: [off.yml]"
        echo "fetch: {max_connections: 16, max_per_host: 16}"
        echo "sources:"
        i=0
        while [ "$i" -lt "$nfeeds" ]; do
            f=$(printf 'f%04d' "$i")
            echo "  - {name: $f, url: \"$base/$f.xml\", type: rss$extra}"
            i=$((i + 1))
        done
    } > "$out/$conf.yml"
done
db=$out/earshot.db
run="$earshot --config $out/earshot.yml --db $db run --force --json"
db_on=$out/analyzed.db
run_on="$earshot --config $out/analyzed.yml --db $db_on run --force --json"

# --- sfeed_update
{
    echo "sfeedpath=\"$out/sfeed\""
    echo "maxjobs=16"
    echo "feeds() {"
    i=0
    while [ "$i" -lt "$nfeeds" ]; do
        f=$(printf 'f%04d' "$i")
        echo "    feed \"$f\" \"$base/$f.xml\""
        i=$((i + 1))
    done
    echo "}"
} > "$out/sfeedrc"

# --- curl --parallel config
mkdir -p "$out/dl"
i=0
while [ "$i" -lt "$nfeeds" ]; do
    f=$(printf 'f%04d' "$i")
    printf 'url = "%s/%s.xml"\noutput = "%s/dl/%s.xml"\n' "$base" "$f" \
        "$out" "$f"
    i=$((i + 1))
done > "$out/curl.cfg"

echo "== polling $nfeeds feeds ($bytes bytes) from nginx on 127.0.0.1," \
     "hyperfine median of $runs"
hyperfine --style basic --runs "$runs" --export-json "$out/hf.json" \
    --prepare "rm -f $db $db-wal $db-shm" \
    -n "earshot first poll" "$run" \
    --prepare "true" \
    -n "earshot all 304" "$run" \
    --prepare "rm -f $db_on $db_on-wal $db_on-shm" \
    -n "earshot first poll, analyzer on" "$run_on" \
    --prepare "rm -rf $out/sfeed" \
    -n "sfeed_update" "sfeed_update $out/sfeedrc" \
    --prepare "rm -rf $out/dl/*.xml" \
    -n "curl --parallel" \
    "curl -s --parallel --parallel-max 16 -K $out/curl.cfg" \
    --prepare "true" \
    -n "sfeed on the same bytes" \
    "sh -c 'cat $out/dl/*.xml | sfeed > /dev/null'" > "$out/hyperfine.txt"
# ('earshot all 304' runs on the store the first poll left, as prepared)

python3 - "$out/hf.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] for k, v in r.items()}
first, again = med["earshot first poll"], med["earshot all 304"]
floor = med["curl --parallel"] + med["sfeed on the same bytes"]
# CPU times too: on a loaded machine the wall times say more about the
# other load than about the tools (hyperfine's mean user and system time)
print("%-32s %10s %10s %10s" % ("", "wall (med)", "user", "system"))
for k in med:
    print("%-32s %8.3f s %8.3f s %8.3f s"
          % (k, med[k], r[k]["user"], r[k]["system"]))
print("%-32s %8.3f s" % ("floor (curl + sfeed)", floor))
print("earshot / floor            %8.2f   (target <= 2)" % (first / floor))
print("sfeed_update / earshot     %8.2f   (target >= 10)"
      % (med["sfeed_update"] / first))
print("all-304 / first poll       %8.2f   (target <= 0.2)" % (again / first))
on = med["earshot first poll, analyzer on"]
print("analyzer on: / floor %.2f, sfeed_update / it %.2f"
      % (on / floor, med["sfeed_update"] / on))
EOF

rm -f "$db" "$db-wal" "$db-shm" "$db_on" "$db_on-wal" "$db_on-shm"
/usr/bin/time -v $run > /dev/null 2> "$out/time1.txt"
/usr/bin/time -v $run > /dev/null 2> "$out/time2.txt"
/usr/bin/time -v $run_on > /dev/null 2> "$out/time3.txt"
printf 'peak RSS: first poll %s KB, all-304 poll %s KB (target <= 65536);' \
    "$(awk '/Maximum resident/ {print $6}' "$out/time1.txt")" \
    "$(awk '/Maximum resident/ {print $6}' "$out/time2.txt")"
printf ' analyzer on %s KB\n' \
    "$(awk '/Maximum resident/ {print $6}' "$out/time3.txt")"
grep -c '"status": "ok"' /dev/null >/dev/null 2>&1 || true
$run > "$out/check.json" || true
python3 - "$out/check.json" "$nfeeds" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["sources"]
bad = [x for x in s if x["status"] not in ("ok", "not-modified")]
print("check: %d sources, %d not ok/not-modified" % (len(s), len(bad)))
EOF
