#!/bin/sh
# Parse throughput (issue 3): MB/s of feed files turned into mention records
# (plain text, resolved links, dates, keys) on one core, over the real-world
# feed files in ../shared/fixtures/feeds, against Debian's sfeed (a C parser
# with its own minimal XML reader) and python3-feedparser, on the same bytes
# in the same run.
#
#   earshot      ear_feed_parse() over every file in memory, a driver built
#                here against the build's libraries; user CPU time
#   sfeed        the same files concatenated, through `sfeed`; user time
#                from /usr/bin/time
#   feedparser   feedparser.parse() over every file's bytes in one Python
#                process; time.process_time()
#
# Every tool reads the corpus REPEAT times (default 20, ~90 MB) so start-up
# does not count; each measurement is taken RUNS times (default 5), the
# tools taking turns (one run of each, RUNS times over, so that a change
# in the machine's load hits all of them alike), and the median reported.
# JSON files are left out (sfeed reads XML only). BASE=another-build-dir
# adds an "earshot-base" row: the same driver against that build's
# libraries, for before/after figures from one run.
# Needs: sfeed, python3-feedparser, GNU time, a C compiler, pkg-config.
# Usage: [BASE=dir] bench/fetch_parse.sh [build-dir] [shared-feeds-dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
feeds=${2:-$top/../shared/fixtures/feeds}
out=${EAR_BENCH_OUT:-$build/bench}
repeat=${REPEAT:-20}
runs=${RUNS:-5}
mkdir -p "$out"
command -v sfeed >/dev/null || { echo "apt-get install sfeed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "apt-get install time" >&2; exit 1; }
/usr/bin/python3 -c 'import feedparser' 2>/dev/null ||
    { echo "apt-get install python3-feedparser" >&2; exit 1; }

find "$feeds" -type f ! -name '*.json' ! -name '*.tsv' ! -name '*.md' |
    sort > "$out/files.txt"
nfiles=$(wc -l < "$out/files.txt")
bytes=$(xargs -d '\n' cat < "$out/files.txt" | wc -c)

# the earshot driver: ear_feed_parse() over the files, REPEAT times
cat > "$out/parse_driver.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "fetcher/fetcher.h"

int main(int argc, char **argv)
{
    int repeat = atoi(argv[1]), r, i, n = argc - 2;
    char **body = calloc((size_t)n, sizeof(*body));
    size_t *len = calloc((size_t)n, sizeof(*len)), total = 0, items = 0;
    struct rusage ru;
    double user;

    for (i = 0; i < n; i++) {
        if (ear_file_read(&body[i], &len[i], argv[i + 2], (size_t)64 << 20,
                          NULL) < 0)
            return 1;
        total += len[i];
    }
    for (r = 0; r < repeat; r++)
        for (i = 0; i < n; i++) {
            struct ear_mention_list l = {0};
            struct ear_feed_info fi = {0};

            ear_feed_parse(&l, &fi, body[i], len[i], NULL, NULL, NULL,
                           "bench", NULL);
            items += l.n;
            ear_mention_list_dispose(&l);
            ear_feed_info_dispose(&fi);
        }
    getrusage(RUSAGE_SELF, &ru);
    user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    printf("%zu %zu %.4f\n", total * (size_t)repeat, items, user);
    return 0;
}
EOF
driver() { # build-dir output
    # shellcheck disable=SC2046
    cc -O2 -std=c17 -D_GNU_SOURCE -I"$top" -o "$2" \
        "$out/parse_driver.c" "$1/fetcher/libear_fetcher.a" \
        "$1/core/libear_core.a" \
        $(pkg-config --cflags --libs libcurl libxml-2.0 jansson sqlite3 \
          yaml-0.1) -lm
}
driver "$build" "$out/parse_driver"
tools="earshot sfeed feedparser"
if [ -n "${BASE:-}" ]; then
    driver "$(cd "$BASE" && pwd)" "$out/parse_driver_base"
    tools="earshot earshot-base sfeed feedparser"
fi

cat > "$out/parse_feedparser.py" <<'EOF'
import sys, time, feedparser
repeat = int(sys.argv[1])
bodies = [open(p, "rb").read() for p in sys.argv[2:]]
items = 0
t0 = time.process_time()
for _ in range(repeat):
    for b in bodies:
        items += len(feedparser.parse(b).entries)
print(sum(map(len, bodies)) * repeat, items, "%.4f" % (time.process_time() - t0))
EOF

# sfeed reads one stream: the corpus REPEAT times over
: > "$out/corpus.xml"
r=0
while [ "$r" -lt "$repeat" ]; do
    xargs -d '\n' cat < "$out/files.txt" >> "$out/corpus.xml"
    r=$((r + 1))
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_earshot() {
    xargs -d '\n' "$out/parse_driver" "$repeat" < "$out/files.txt"
}
run_earshot_base() {
    xargs -d '\n' "$out/parse_driver_base" "$repeat" < "$out/files.txt"
}
run_feedparser() {
    xargs -d '\n' /usr/bin/python3 "$out/parse_feedparser.py" "$repeat" \
        < "$out/files.txt"
}
run_sfeed() {
    items=$(/usr/bin/time -f '%U' -o "$out/sfeed.time" sfeed \
        < "$out/corpus.xml" | wc -l)
    echo "$(wc -c < "$out/corpus.xml") $items $(cat "$out/sfeed.time")"
}

echo "== parse throughput: $nfiles files, $bytes bytes, read $repeat times," \
     "median of $runs runs (user CPU)"
printf '%-12s %10s %10s %10s\n' tool items seconds MB/s
for tool in $tools; do
    : > "$out/$tool.runs"
done
k=0
while [ "$k" -lt "$runs" ]; do
    for tool in $tools; do
        "run_$(echo "$tool" | tr - _)" >> "$out/$tool.runs"
    done
    k=$((k + 1))
done
: > "$out/parse.result"
for tool in $tools; do
    secs=$(awk '{print $3}' "$out/$tool.runs" | median)
    total=$(head -1 "$out/$tool.runs" | awk '{print $1}')
    items=$(head -1 "$out/$tool.runs" | awk '{print $2}')
    mbs=$(awk -v b="$total" -v s="$secs" 'BEGIN {printf "%.1f", b / 1e6 / s}')
    printf '%-12s %10s %10s %10s\n' "$tool" "$items" "$secs" "$mbs"
    echo "$tool $mbs" >> "$out/parse.result"
done
rm -f "$out/corpus.xml"
