"""`earshot watch` as a real process driven by signals, against a loopback
HTTP server:

- the first round polls every source; SIGUSR1 polls again at once, and the
  second request arrives on the same connection (one fetcher for the whole
  process) as a conditional GET answered 304;
- SIGHUP with a broken config reports the error and keeps the old config;
  SIGHUP with a good config adds its new source, which is polled;
- SIGTERM while a slow source is in flight lets it finish and commit, then
  exits 0;
- SIGINT while idle exits 0 at once."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd_fixture import FixtureServer  # noqa: E402

EARSHOT = os.environ["EARSHOT"]
TMP = os.environ.get("EAR_TMP", "/tmp/ear_watch_signals")
os.makedirs(TMP, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def feed(tag, n):
    items = "".join("<item><guid>%s-%d</guid><title>%s item %d</title>"
                    "<description>text %d</description></item>"
                    % (tag, i, tag, i, i) for i in range(n))
    return ("<rss version='2.0'><channel><title>%s</title>%s</channel></rss>"
            % (tag, items))


class Watch:
    def __init__(self, cfg, db):
        env = dict(os.environ, NO_COLOR="1")
        env.pop("EARSHOT_NOW", None)
        self.p = subprocess.Popen(
            [EARSHOT, "--config", cfg, "--db", db, "watch", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            text=True)
        self.lines = queue.Queue()
        self.err = []
        threading.Thread(target=self._read, args=(self.p.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    @staticmethod
    def _read(f, q):
        for line in f:
            q.put(line)

    def _drain(self):
        for line in self.p.stderr:
            self.err.append(line)

    def round(self, timeout=20):
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            return None

    def signal(self, sig):
        self.p.send_signal(sig)

    def stderr(self):
        return "".join(self.err)


def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


cfg = os.path.join(TMP, "earshot.yml")
db = os.path.join(TMP, "earshot.db")
for p in (db, db + "-wal", db + "-shm"):
    if os.path.exists(p):
        os.remove(p)

with FixtureServer() as srv:
    srv.route("/a.xml", body=feed("a", 3), etag='"a1"')
    srv.route("/b.xml", body=feed("b", 2))
    srv.route("/slow.xml", body=feed("slow", 1), delay=2)
    good = """sources:
  - name: a
    url: %s
    interval: 1h
""" % srv.url("/a.xml")
    with open(cfg, "w") as f:
        f.write(good)

    w = Watch(cfg, db)
    r1 = w.round()
    check(r1 is not None and r1["polled"] == 1 and r1["new"] == 3,
          "first round polls a: %r %s" % (r1, w.stderr()))

    # SIGUSR1: poll now; a answers 304 to the stored ETag, on the same
    # connection
    w.signal(signal.SIGUSR1)
    r2 = w.round()
    check(r2 is not None and r2["polled"] == 1 and r2["new"] == 0
          and r2["failed"] == 0, "SIGUSR1 polls again: %r" % r2)
    reqs = srv.requests_for("/a.xml")
    check(len(reqs) == 2, "a requested twice: %d" % len(reqs))
    if len(reqs) == 2:
        check(reqs[1]["headers"].get("If-None-Match") == '"a1"',
              "second request is conditional: %r" % reqs[1]["headers"])
        check(reqs[0]["client"] == reqs[1]["client"],
              "connection reused across polls: ports %d, %d"
              % (reqs[0]["client"], reqs[1]["client"]))

    # SIGHUP with a broken config: reported, old config kept
    with open(cfg, "w") as f:
        f.write(good + "  - name: b\n    url: %s\n    intervall: 1h\n"
                % srv.url("/b.xml"))
    w.signal(signal.SIGHUP)
    check(wait_for(lambda: "reload failed" in w.stderr()),
          "broken config reported: %r" % w.stderr())
    check("earshot.yml:7:5: unknown key 'intervall'" in w.stderr(),
          "error names file:line:col: %r" % w.stderr())
    check(w.p.poll() is None, "still running after a bad reload")
    w.round(timeout=5)  # the round after the failed reload
    check(len(srv.requests_for("/b.xml")) == 0, "b not polled (old config)")

    # SIGHUP with a good config: b and slow are new, and polled
    with open(cfg, "w") as f:
        f.write(good + "  - name: b\n    url: %s\n    interval: 1h\n"
                "  - name: slow\n    url: %s\n    interval: 1h\n"
                % (srv.url("/b.xml"), srv.url("/slow.xml")))
    w.signal(signal.SIGHUP)
    r3 = w.round()
    check(r3 is not None and r3["polled"] == 2 and r3["new"] == 3,
          "new sources polled after reload: %r %s" % (r3, w.stderr()))
    check(len(srv.requests_for("/b.xml")) == 1, "b polled once")
    check("reloaded" in w.stderr(), "reload reported")

    # SIGTERM while the slow source is in flight: it finishes and commits
    n_slow = len(srv.requests_for("/slow.xml"))
    w.signal(signal.SIGUSR1)
    check(wait_for(lambda: len(srv.requests_for("/slow.xml")) > n_slow),
          "slow source requested")
    t0 = time.time()
    w.signal(signal.SIGTERM)
    try:
        rc = w.p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        w.p.kill()
        rc = None
    took = time.time() - t0
    check(rc == 0, "SIGTERM: exit 0, got %r: %s" % (rc, w.stderr()))
    check(took >= 1.0, "in-flight poll finished first (%.2f s)" % took)
    check("terminated" in w.stderr(), "stop reported: %r" % w.stderr())
    r = subprocess.run([EARSHOT, "--config", cfg, "--db", db, "sources",
                        "--json"], capture_output=True, text=True, timeout=30)
    st = {s["name"]: s for s in json.loads(r.stdout)["sources"]} \
        if r.returncode == 0 else {}
    check(st.get("slow", {}).get("status") == "ok"
          and st["slow"].get("items") == 1, "slow committed: %r" % st)

    # SIGINT while sleeping: exit 0 at once
    w = Watch(cfg, db)
    check(wait_for(lambda: "watching" in w.stderr()), "second watch started")
    time.sleep(0.5)
    t0 = time.time()
    w.signal(signal.SIGINT)
    try:
        rc = w.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        w.p.kill()
        rc = None
    check(rc == 0, "SIGINT: exit 0, got %r" % rc)
    check(time.time() - t0 < 3, "SIGINT handled promptly")
    check("Sanitizer" not in w.stderr() and "runtime error" not in w.stderr(),
          w.stderr())

if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("watch_signals: ok")
