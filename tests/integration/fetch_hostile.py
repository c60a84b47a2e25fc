"""Hostile servers through `earshot run`: each bad source fails on its own,
in bounded time, with the cause in words, while a good source beside them
is still polled and stored. Uses per-source limits from the config
(timeout, max_body, max_redirects)."""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd_fixture import FixtureServer  # noqa: E402

EARSHOT = os.environ["EARSHOT"]
TMP = os.environ.get("EAR_TMP", "/tmp/ear_fetch_hostile")
os.makedirs(TMP, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


GOOD = """<rss version="2.0"><channel><title>ok</title>
<item><guid>g1</guid><title>fine</title></item></channel></rss>"""

# a port nobody listens on: bind, note, close
s = socket.socket()
s.bind(("127.0.0.1", 0))
closed_port = s.getsockname()[1]
s.close()

cfg = os.path.join(TMP, "earshot.yml")
db = os.path.join(TMP, "earshot.db")
for p in (db, db + "-wal", db + "-shm"):
    if os.path.exists(p):
        os.remove(p)

with FixtureServer() as srv:
    srv.route("/good.xml", body=GOOD)
    srv.route("/slow.xml", body=GOOD, delay=6)
    srv.route("/drip.xml", body=GOOD * 20, drip=(1, 0.5))
    srv.route("/big.xml", stream=(b" " * 65536, 32))      # 2 MiB
    srv.route("/loop", status=302, location="/loop")
    srv.route("/gone.xml", status=410)
    srv.route("/busy.xml", status=503, headers={"Retry-After": "300"})
    srv.route("/html", content_type="text/html",
              body=b"<html><body>not a feed</body></html>")
    with open(cfg, "w") as f:
        f.write("""sources:
  - name: good
    url: {good}
  - name: slow
    url: {slow}
    timeout: 2s
  - name: drip
    url: {drip}
    timeout: 2s
  - name: big
    url: {big}
    max_body: 100000
  - name: loop
    url: {loop}
    max_redirects: 3
  - name: gone
    url: {gone}
  - name: busy
    url: {busy}
  - name: refused
    url: http://127.0.0.1:{port}/feed.xml
  - name: html
    url: {html}
""".format(good=srv.url("/good.xml"), slow=srv.url("/slow.xml"),
           drip=srv.url("/drip.xml"), big=srv.url("/big.xml"),
           loop=srv.url("/loop"), gone=srv.url("/gone.xml"),
           busy=srv.url("/busy.xml"), port=closed_port,
           html=srv.url("/html")))

    t0 = time.time()
    r = subprocess.run([EARSHOT, "--config", cfg, "--db", db, "run",
                        "--json"], capture_output=True, timeout=120)
    took = time.time() - t0
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 3, "exit 3 with failed sources, got %d: %s"
          % (r.returncode, err))
    check("Sanitizer" not in err and "runtime error" not in err, err)
    # every source runs at once: the whole poll is bounded by the slowest
    # per-source timeout, not by their sum
    check(took < 15, "poll took %.1f s" % took)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {"sources": []}
        check(False, "no JSON: %r" % r.stdout)
    st = {s["name"]: s for s in out.get("sources", [])}

    def failed_with(name, words):
        s = st.get(name, {})
        e = (s.get("error") or "")
        check(s.get("status") == "failed" and words.lower() in e.lower(),
              "%s: expected failure with %r, got %r" % (name, words, s))

    check(st.get("good", {}).get("status") == "ok"
          and st["good"].get("new") == 1, "good source: %r" % st.get("good"))
    failed_with("slow", "timed out")
    failed_with("drip", "timed out")
    failed_with("big", "body exceeds 100000 bytes")
    failed_with("loop", "redirect")
    failed_with("gone", "HTTP 410 Gone")
    failed_with("busy", "HTTP 503 Service Unavailable")
    failed_with("refused", "connect")
    failed_with("html", "not a feed")
    check(len(srv.requests_for("/loop")) <= 4, "redirects capped at 3")

    # the failures are remembered per source, in words
    r = subprocess.run([EARSHOT, "--config", cfg, "--db", db, "sources",
                        "--json"], capture_output=True, timeout=60)
    check(r.returncode == 0, "sources: exit %d" % r.returncode)
    text = r.stdout.decode("utf-8", "replace")
    check("HTTP 410 Gone" in text, "sources shows the last error")

    # a bad source option is a config error: reported up front with its
    # position, and nothing is polled or stored
    before = os.path.getmtime(db), os.path.getsize(db)
    n_good = len(srv.requests_for("/good.xml"))
    bad = os.path.join(TMP, "bad.yml")
    with open(bad, "w") as f:
        f.write("sources:\n  - name: good\n    url: %s\n"
                "  - name: badopt\n    url: %s\n    timeout: forever\n"
                % (srv.url("/good.xml"), srv.url("/good.xml")))
    r = subprocess.run([EARSHOT, "--config", bad, "--db", db, "run",
                        "--force"], capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 1, "bad option: exit 1, got %d" % r.returncode)
    check("bad.yml:6:14: timeout" in err, "bad option named: %r" % err)
    check(len(srv.requests_for("/good.xml")) == n_good,
          "bad config: nothing polled")
    check((os.path.getmtime(db), os.path.getsize(db)) == before,
          "bad config: store untouched")

if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("fetch_hostile: ok (%.1f s)" % took)
