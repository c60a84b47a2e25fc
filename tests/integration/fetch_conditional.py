"""Conditional GET through `earshot run`: the first poll stores the ETag /
Last-Modified, the second sends them back and the server's 304 shows as
"not-modified" with nothing new. A source answering 429 with Retry-After
fails on its own (exit 3) without stopping the other, and per-source
request headers from the config reach the server."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd_fixture import FixtureServer  # noqa: E402

EARSHOT = os.environ["EARSHOT"]
TMP = os.environ.get("EAR_TMP", "/tmp/ear_fetch_conditional")
os.makedirs(TMP, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Conditional</title>
<item><guid>c1</guid><title>Praise</title><description>Great shop, fast delivery.</description></item>
<item><guid>c2</guid><title>Second item</title><description>Nothing special.</description></item>
</channel></rss>
"""

cfg = os.path.join(TMP, "earshot.yml")
db = os.path.join(TMP, "earshot.db")
for p in (db, db + "-wal", db + "-shm"):
    if os.path.exists(p):
        os.remove(p)


def run(now):
    env = dict(os.environ, EARSHOT_NOW=str(now), EARSHOT_TEST_TOKEN="s3cret")
    r = subprocess.run([EARSHOT, "--config", cfg, "--db", db, "run",
                        "--json"], capture_output=True, timeout=120, env=env)
    err = r.stderr.decode("utf-8", "replace")
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = None
        check(False, "run --json printed no JSON: %r %r" % (r.stdout, err))
    return r.returncode, out, err


def by_name(out, name):
    for s in (out or {}).get("sources", []):
        if s.get("name") == name:
            return s
    return {}


with FixtureServer() as srv:
    srv.route("/feed.xml", body=RSS, etag='"rev-1"',
              last_modified="Mon, 23 Nov 2026 10:00:00 GMT")
    srv.route("/busy.xml", status=429, headers={"Retry-After": "120"},
              body=b"slow down\n", content_type="text/plain")
    with open(cfg, "w") as f:
        f.write("""sources:
  - name: cond
    url: %s
    headers:
      X-Earshot-Test: ${EARSHOT_TEST_TOKEN}
  - name: busy
    url: %s
""" % (srv.url("/feed.xml"), srv.url("/busy.xml")))

    now = int(time.time())
    rc, out, err = run(now)
    check(rc == 3, "first run: exit 3 (one source failed), got %d: %s"
          % (rc, err))
    cond = by_name(out, "cond")
    check(cond.get("status") == "ok", "first run: cond ok: %r" % cond)
    check(cond.get("new") == 2, "first run: two new: %r" % cond)
    busy = by_name(out, "busy")
    check(busy.get("status") == "throttled", "busy throttled: %r" % busy)
    check("HTTP 429 Too Many Requests" in (busy.get("error") or ""),
          "busy error in words: %r" % busy)
    first = srv.requests_for("/feed.xml")
    check(len(first) == 1, "one request in the first run")
    if first:
        h = first[0]["headers"]
        check("If-None-Match" not in h, "first request is unconditional")
        check(h.get("X-Earshot-Test") == "s3cret",
              "per-source header with ${VAR}: %r" % h.get("X-Earshot-Test"))

    # two hours later every source is due again
    rc, out, err = run(now + 7200)
    cond = by_name(out, "cond")
    check(cond.get("status") == "not-modified",
          "second run: not-modified: %r %s" % (cond, err))
    check(cond.get("new") == 0, "second run: nothing new: %r" % cond)
    reqs = srv.requests_for("/feed.xml")
    check(len(reqs) == 2, "two requests in all: %d" % len(reqs))
    if len(reqs) == 2:
        h = reqs[1]["headers"]
        check(h.get("If-None-Match") == '"rev-1"',
              "second request carried If-None-Match: %r" % h)
        check(h.get("If-Modified-Since") == "Mon, 23 Nov 2026 10:00:00 GMT",
              "second request carried If-Modified-Since: %r" % h)
    # busy said Retry-After 120 s: two hours later it is due again
    check(len(srv.requests_for("/busy.xml")) == 2, "busy polled again")

    # the feed changes: a fresh 200 with a new ETag is parsed again
    srv.route("/feed.xml", body=RSS.replace("c2", "c3"), etag='"rev-2"')
    rc, out, err = run(now + 14400)
    cond = by_name(out, "cond")
    check(cond.get("status") == "ok" and cond.get("new") == 1,
          "third run: one new item after a change: %r %s" % (cond, err))

if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("fetch_conditional: ok")
