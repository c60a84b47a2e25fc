#!/bin/sh
# The web inbox under load (issue 6), with 100,000 queue entries:
#   - the queue list API under wrk, 50 connections on loopback: the inbox's
#     default view (what 50 polling agents ask; answered from the cache),
#     and 540 other views (team x state x language x page: computed)
#   - the same JSON body served as a static file by nginx, in the same run:
#     the ceiling for answering a request on this machine
#   - the page in headless chromium: until the queue and the first item show
#   - the server's memory (VmHWM, the peak resident set)
# Needs: wrk, nginx, chromium, node with tests/e2e's node_modules (npm ci).
# Usage: bench/web.sh [path/to/earshot]   (EAR_WEB_N mentions, default
# 110,000, of which the analyzer flags and queues a bit more than 100,000)
# EAR_WEB_PART=page measures only the page (no wrk, no nginx);
# EAR_WEB_REUSE=1 keeps the store of an earlier run in the output directory
# (so that two binaries can be compared on the same store in the same hour);
# EAR_WEB_LOADS page loads (default 15); EAR_WEB_PEER=path/to/other/earshot
# measures the page of that build too, on the same store, its loads
# alternating with this build's in one browser (web_page.mjs: "a" is this
# build, "b" the peer); EAR_WEB_SAME_TAB=1 reloads one tab instead of
# opening a new one for each load.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
earshot=${1:-$top/build/cli/earshot}
out=${EAR_BENCH_OUT:-$top/build/bench}/web
n=${EAR_WEB_N:-110000}
dur=${EAR_WEB_SECONDS:-20}
part=${EAR_WEB_PART:-all}
loads=${EAR_WEB_LOADS:-15}
tools="node curl python3"
[ "$part" = page ] || tools="wrk nginx $tools"
for t in $tools; do
    command -v $t >/dev/null || { echo "bench/web.sh: $t is missing" >&2; exit 1; }
done
[ -d "$top/tests/e2e/node_modules/playwright-core" ] ||
    (cd "$top/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)

cfg="$out/earshot.yml"
db="$out/web.db"
if [ "${EAR_WEB_REUSE:-0}" = 1 ] && [ -f "$out/store.ok" ]; then
    echo "== store: reusing $db"
    rm -rf "$out/static" "$out/nginx"
    mkdir -p "$out/static"
else
rm -rf "$out"
mkdir -p "$out/static"
echo "== store: $n synthetic reviews through earshot run"
python3 "$here/web_feed.py" "$n" "$out" "$top/rules"
start=$(date +%s)
"$earshot" --config "$cfg" --db "$db" run > "$out/run.log" 2>&1 || true
queued=$("$earshot" --config "$cfg" --db "$db" queue list --state all --json --limit 0 |
         python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "queued $queued items in $(( $(date +%s) - start )) s"
[ "$queued" -ge 100000 ] || { echo "bench/web.sh: fewer than 100,000 queue entries" >&2; exit 1; }
printf 'bench-password-1\n' |
    "$earshot" --config "$cfg" --db "$db" user add bench --team billing --role lead --password-stdin
touch "$out/store.ok"
fi

"$earshot" --config "$cfg" --db "$db" serve --listen 127.0.0.1:0 2> "$out/serve.log" &
pid=$!
# set +e: a server that is already gone must not fail the script
trap 'set +e; kill $pid 2>/dev/null; [ -f "$out/nginx.pid" ] && kill "$(cat "$out/nginx.pid")" 2>/dev/null; true' EXIT
for i in $(seq 50); do grep -q listening "$out/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$out/serve.log")
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
         -d '{"user":"bench","password":"bench-password-1"}' "${url}api/login" |
         sed -n 's/^Set-Cookie: earshot_session=\([0-9a-f]*\).*/\1/p')
[ -n "$cookie" ] || { echo "bench/web.sh: login failed" >&2; exit 1; }
H="Cookie: earshot_session=$cookie"
peer_args=""
if [ -n "${EAR_WEB_PEER:-}" ]; then
    "$EAR_WEB_PEER" --config "$cfg" --db "$db" serve --listen 127.0.0.1:0 2> "$out/serve-peer.log" &
    peer=$!
    trap 'set +e; kill $pid $peer 2>/dev/null; [ -f "$out/nginx.pid" ] && kill "$(cat "$out/nginx.pid")" 2>/dev/null; true' EXIT
    for i in $(seq 50); do grep -q listening "$out/serve-peer.log" && break; sleep 0.1; done
    url2=$(grep -o 'http://127.0.0.1:[0-9]*/' "$out/serve-peer.log")
    cookie2=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
              -d '{"user":"bench","password":"bench-password-1"}' "${url2}api/login" |
              sed -n 's/^Set-Cookie: earshot_session=\([0-9a-f]*\).*/\1/p')
    [ -n "$cookie2" ] || { echo "bench/web.sh: login to the peer failed" >&2; exit 1; }
    peer_args="$url2 $cookie2"
fi

# The server's own time for the page loads, by route (from /metrics):
# requests and seconds spent answering them.
server_time() {
    curl -s "${1}metrics" | awk -F'[{}," ]+' '
        /^earshot_http_request_duration_seconds_(sum|count)\{/ {
            v[$3 " " ($1 ~ /sum$/ ? "s" : "n")] = $NF; r[$3] = 1 }
        END { for (k in r) if (v[k " n"] > 0)
                  printf "  %-22s %6d requests %8.1f ms\n", k, v[k " n"], v[k " s"] * 1000 }' |
        sort
}
if [ "$part" = page ]; then
    echo "== the page in headless chromium ($loads loads, logged in)"
    node "$here/web_page.mjs" "$url" "$cookie" "$loads" $peer_args | tee "$out/page.json"
    echo "== server time for those loads (a: $earshot)"
    server_time "$url"
    if [ -n "$peer_args" ]; then
        echo "== server time for those loads (b: $EAR_WEB_PEER)"
        server_time "$url2"
    fi
    grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tee "$out/memory.txt"
    exit 0
fi
echo "== one request each, computed from the store (ms)"
for q in "" "?offset=50" "?offset=50000" "?team=billing" "?q=refund" "?state=all" "?overdue=1"; do
    curl -s -H "$H" -o /dev/null -w "%{time_total}" "${url}api/queue$q" |
        awk -v q="/api/queue$q" '{printf "  %-28s %6.1f\n", q, $1 * 1000}'
done
curl -s -H "$H" -o "$out/static/queue.json" "${url}api/queue"

echo "== wrk: the default view (GET /api/queue), 50 connections, ${dur}s"
wrk -t2 -c50 -d"${dur}s" --latency -H "$H" "${url}api/queue" | tee "$out/wrk-cached.txt"
echo "== server-side time to answer it (from /metrics: requests answered within le seconds)"
curl -s "${url}metrics" | grep 'earshot_http_request_duration_seconds_bucket{route="queue"' |
    tee "$out/metrics-cached.txt"
echo "== the page in headless chromium ($loads loads, logged in)"
node "$here/web_page.mjs" "$url" "$cookie" "$loads" $peer_args | tee "$out/page.json"

echo "== wrk: other views, each computed from the store (random team, state,"
echo "   language and page of the first ten: 540 views, more than the cache holds)"
cat > "$out/random.lua" <<'LUA'
math.randomseed(6)
local teams = {"billing", "support", "legal", "logistics", "quality", "social"}
local states = {"open", "new", "assigned"}
local langs = {"en", "hu", ""}
request = function()
  return wrk.format("GET", "/api/queue?team=" .. teams[math.random(#teams)] ..
    "&state=" .. states[math.random(#states)] .. "&lang=" .. langs[math.random(#langs)] ..
    "&offset=" .. (50 * math.random(0, 9)))
end
LUA
wrk -t2 -c50 -d"${dur}s" --latency -s "$out/random.lua" -H "$H" "${url}" | tee "$out/wrk-random.txt"
sleep 5   # let the server finish what wrk left in flight
echo "== server-side, all GET /api/queue so far (from /metrics)"
curl -s "${url}metrics" | grep 'route="queue"' | tee "$out/metrics-queue.txt"

echo "== peer: nginx serving the same JSON as a static file"
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$out/nginx"
cat > "$out/nginx.conf" <<NGINX
daemon on; worker_processes 1; pid $out/nginx.pid; error_log $out/nginx/error.log;
user $(id -un);
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $out/nginx; proxy_temp_path $out/nginx;
  fastcgi_temp_path $out/nginx; uwsgi_temp_path $out/nginx; scgi_temp_path $out/nginx;
  server { listen 127.0.0.1:$port2; root $out/static; default_type application/json; }
}
NGINX
nginx -c "$out/nginx.conf"
wrk -t2 -c50 -d"${dur}s" --latency "http://127.0.0.1:$port2/queue.json" | tee "$out/wrk-nginx.txt"
kill "$(cat "$out/nginx.pid")"

echo "== memory"
grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tee "$out/memory.txt"
kill "$pid"
wait "$pid" 2>/dev/null || true
echo "== summary"
for f in cached random nginx; do
    printf '%-8s %s req/s, p50 %s, p99 %s\n' "$f" \
        "$(awk '/Requests\/sec/ {print $2}' "$out/wrk-$f.txt")" \
        "$(awk '$1 == "50%" {print $2}' "$out/wrk-$f.txt")" \
        "$(awk '$1 == "99%" {print $2}' "$out/wrk-$f.txt")"
done
