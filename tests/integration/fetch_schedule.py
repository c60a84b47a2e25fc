"""Scheduling through `earshot run` and `earshot sources`, with the clock
set by EARSHOT_NOW:

- repeated 403s from one host are throttling (status "throttled", backed
  off), not a broken source; the first 403 is an ordinary failure; a
  success from the host ends it;
- failures back off exponentially from the interval, capped at 6 h;
- adaptive: true moves the interval with the item rate, within
  min_interval and max_interval;
- expected_every: a source with nothing new for longer is "silent" in
  `earshot sources` (exit statuses unchanged)."""

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd_fixture import FixtureServer  # noqa: E402

EARSHOT = os.environ["EARSHOT"]
TMP = os.environ.get("EAR_TMP", "/tmp/ear_fetch_schedule")
os.makedirs(TMP, exist_ok=True)
failures = []
T0 = 1795420800  # 2026-11-23T08:00:00Z


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def feed(tag, n):
    return ("<rss version='2.0'><channel><title>%s</title>%s</channel></rss>"
            % (tag, "".join("<item><guid>%s-%d</guid><title>%s %d</title>"
                            "</item>" % (tag, i, tag, i) for i in range(n))))


def epoch(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp())


def run(cfg, db, now, *args):
    env = dict(os.environ, EARSHOT_NOW=str(now), NO_COLOR="1")
    r = subprocess.run([EARSHOT, "--config", cfg, "--db", db, *args,
                        "--json"], capture_output=True, text=True,
                       timeout=120, env=env)
    check("Sanitizer" not in r.stderr and "runtime error" not in r.stderr,
          r.stderr)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        check(False, "%s: no JSON (%d): %s" % (args, r.returncode, r.stderr))
        out = {"sources": []}
    return r.returncode, {s["name"]: s for s in out["sources"]}


def fresh_db(name):
    db = os.path.join(TMP, name)
    for p in (db, db + "-wal", db + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    return db


with FixtureServer() as srv, FixtureServer() as other:
    # r1 and r2 share a host (and port); solo is another server
    srv.route("/r1.json", status=403, content_type="text/html",
              body="<h1>blocked</h1>")
    srv.route("/r2.json", status=403, content_type="text/html",
              body="<h1>blocked</h1>")
    other.route("/solo.xml", status=403)
    srv.route("/gone.xml", status=500)
    srv.route("/busy.xml", body=feed("busy", 12))
    srv.route("/quiet.xml", body=feed("quiet", 3), etag='"q"')
    srv.route("/plain.xml", body=feed("plain", 2))

    # --- 403 throttling and backoff
    cfg = os.path.join(TMP, "throttle.yml")
    db = fresh_db("throttle.db")
    with open(cfg, "w") as f:
        f.write("""sources:
  - {name: r1, url: "%s", interval: 15m}
  - {name: r2, url: "%s", interval: 15m}
  - {name: solo, url: "%s", interval: 15m}
  - {name: gone, url: "%s", interval: 1h}
""" % (srv.url("/r1.json"), srv.url("/r2.json"), other.url("/solo.xml"),
       srv.url("/gone.xml")))
    rc, st = run(cfg, db, T0, "run")
    check(rc == 3, "throttled/failed sources: exit 3, got %d" % rc)
    both = sorted([st["r1"]["status"], st["r2"]["status"]])
    check(both == ["failed", "throttled"],
          "two 403s from one host: one failed, then throttled: %r" % both)
    check(st["solo"]["status"] == "failed", "a lone 403 is a failure: %r"
          % st["solo"])
    check("HTTP 403 Forbidden" in (st["solo"]["error"] or ""),
          "403 in words: %r" % st["solo"])
    rc, st = run(cfg, db, T0 + 7200, "run")
    check(st["solo"]["status"] == "throttled" and st["r1"]["status"]
          == "throttled" and st["r2"]["status"] == "throttled",
          "a 403 after a 403: throttled: %r" % st)
    check("treated as throttling" in (st["solo"]["error"] or ""),
          "the note says why: %r" % st["solo"])
    rc, src = run(cfg, db, T0 + 7200, "sources")
    check(src["r1"]["status"] == "throttled" and src["r1"]["failures"] == 2,
          "sources shows throttled: %r" % src["r1"])
    # backoff: 2nd failure waits 2x the interval
    check(epoch(src["gone"]["next_due"]) - (T0 + 7200) == 2 * 3600,
          "backoff doubles: %r" % src["gone"]["next_due"])
    for k in range(3, 8):
        run(cfg, db, T0 + 7200 * k, "run", "--force")
    rc, src = run(cfg, db, T0 + 7200 * 7, "sources")
    check(epoch(src["gone"]["next_due"]) - (T0 + 7200 * 7) == 6 * 3600,
          "backoff capped at 6 h: %r" % src["gone"]["next_due"])
    # the host answers again: throttling ends
    srv.route("/r1.json", body=feed("r1", 1))
    rc, st = run(cfg, db, T0 + 7200 * 8, "run", "--force")
    check(st["r1"]["status"] == "ok", "r1 back: %r" % st["r1"])
    rc, src = run(cfg, db, T0 + 7200 * 8, "sources")
    check(src["r1"]["failures"] == 0 and src["r1"]["status"] == "ok",
          "failures reset on success: %r" % src["r1"])

    # --- adaptive interval
    cfg = os.path.join(TMP, "adaptive.yml")
    db = fresh_db("adaptive.db")
    with open(cfg, "w") as f:
        f.write("""sources:
  - name: busy
    url: %s
    interval: 1h
    adaptive: true
    min_interval: 10m
    max_interval: 4h
  - name: quiet
    url: %s
    interval: 1h
    adaptive: true
    max_interval: 2h
  - name: plain
    url: %s
    interval: 1h
    expected_every: 3h
""" % (srv.url("/busy.xml"), srv.url("/quiet.xml"), srv.url("/plain.xml")))
    rc, st = run(cfg, db, T0, "run")
    check(rc == 0, "adaptive run: exit 0, got %d" % rc)

    def interval(st, name, now):
        return epoch(st[name]["next_due"]) - now

    # busy: every item new (12 of 12, aiming at a quarter) -> a quarter of
    # the interval, the most one step may shorten it (±10% jitter)
    iv = interval(st, "busy", T0)
    check(810 <= iv <= 990, "busy: all new, 15 min: %d" % iv)
    # more new items at the next poll: 12 fresh of 24 -> shorter again
    srv.route("/busy.xml", body=feed("busy", 24))
    t1 = T0 + iv
    rc, st = run(cfg, db, t1, "run")
    iv2 = interval(st, "busy", t1)
    check(540 <= iv2 <= 660, "busy: many new, down to min_interval 10m: "
          "%d -> %d" % (iv, iv2))
    # quiet: nothing new (304) -> longer, up to max_interval
    t = T0
    for k in range(6):
        t += 7200 * 2
        rc, st = run(cfg, db, t, "run", "--force")
        check(st["quiet"]["status"] == "not-modified", "quiet 304: %r"
              % st["quiet"])
    ivq = interval(st, "quiet", t)
    check(6480 <= ivq <= 7920, "quiet: grows to max_interval 2h: %d" % ivq)
    # plain is not adaptive
    ivp = interval(st, "plain", t)
    check(3240 <= ivp <= 3960, "plain: interval kept: %d" % ivp)

    # --- silence
    rc, src = run(cfg, db, t, "sources")
    check(src["plain"]["status"] == "silent" and src["plain"]["silent"],
          "plain: nothing new for > 3h: silent: %r" % src["plain"])
    check(rc == 0, "silent does not change the exit status: %d" % rc)
    check(src["busy"]["silent"] is False, "busy is not watched for silence")
    srv.route("/plain.xml", body=feed("plain", 3))
    rc, st = run(cfg, db, t + 60, "run", "--force")
    check(rc == 0, "run: exit 0 (silence is no failure): %d" % rc)
    rc, src = run(cfg, db, t + 120, "sources")
    check(src["plain"]["status"] == "ok" and not src["plain"]["silent"],
          "plain speaks again: %r" % src["plain"])

if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("fetch_schedule: ok")
