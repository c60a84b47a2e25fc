"""earshot serve: the JSON API against a real server on 127.0.0.1.

The store is the offline demo's. Checks authorisation (no session, no CSRF
token, an agent acting as someone else or on someone else's item),
bad input (unknown ids and fields, malformed JSON, huge and chunked bodies,
bad query parameters) with JSON errors naming the field, the login rate
limit, cookies behind a trusted proxy, reload on SIGHUP, /healthz,
/metrics and that no response carries a password hash."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from _harness import EARSHOT, SRC, check, finish, fresh_tmp, run, write  # noqa: E402

TMP = fresh_tmp()
DB = os.path.join(TMP, "web.db")
DEMO = os.path.join(SRC, "examples", "demo.yml")

p = run("--config", DEMO, "--db", DB, "run")
check(p.returncode in (0, 3), "demo run", p.stderr)

# The config the server runs with: the demo's teams, a config user, the
# serve: options under test. Rewritten later and reloaded with SIGHUP.
demo_text = open(DEMO, encoding="utf-8").read()
demo_text = demo_text.replace("store: ./demo.db", "store: ./unused.db")
demo_text = re.sub(r"(?m)^rules: .*$", f"rules: [{os.path.join(SRC, 'rules')}]",
                   demo_text)
demo_text = re.sub(r"url: feeds/", f"url: {os.path.join(SRC, 'examples', 'feeds')}/",
                   demo_text)

p = run("user", "hash", "--password-stdin", stdin="bela-password-1\n")
check(p.returncode == 0 and p.stdout.startswith("$"), "user hash prints a crypt hash",
      p.stdout + p.stderr)
bela_hash = p.stdout.strip()


def config(extra=""):
    return write("earshot.yml", demo_text + f"""
users:
  - name: bela
    team: billing
    role: agent
    password_hash: "{bela_hash}"
serve:
  login_attempts: 3
  login_window: 1m
{extra}""")


CFG = config()
G = ["--config", CFG, "--db", DB]

for name, team, role, pw in [("anna", "billing", "agent", "anna-password-1"),
                             ("dora", "logistics", "agent", "dora-password-1"),
                             ("lena", None, "lead", "lena-password-1"),
                             ("zed", None, "agent", "zed-password-1")]:
    args = ["user", "add", name, "--role", role, "--password-stdin"]
    if team:
        args += ["--team", team]
    p = run(*G, *args, stdin=pw + "\n")
    check(p.returncode == 0, f"user add {name}", p.stderr)

# ---------------------------------------------------------------- user CLI
p = run(*G, "user", "add", "anna", "--password-stdin", stdin="x-password-1\n")
check(p.returncode == 1 and "exists" in p.stderr, "user add refuses a duplicate", p.stderr)
p = run(*G, "user", "add", "bela", "--password-stdin", stdin="x-password-1\n")
check(p.returncode == 1 and "config" in p.stderr, "user add refuses a config user", p.stderr)
p = run(*G, "user", "add", "newbie", "--role", "boss", "--password-stdin", stdin="x\n")
check(p.returncode == 2, "a bad role is a usage error", p.stderr)
p = run(*G, "user", "add", "newbie", "--team", "nosuchteam", "--password-stdin",
        stdin="x-password-1\n")
check(p.returncode == 2 and "nosuchteam" in p.stderr, "an unknown team is refused", p.stderr)
p = run(*G, "user", "add", "newbie", "--password-stdin", stdin="short\n")
check(p.returncode == 1 and "short" in p.stderr, "a short password is refused", p.stderr)
p = run(*G, "user", "add", "bad name", "--password-stdin", stdin="x-password-1\n")
check(p.returncode == 2, "a bad user name is refused", p.stderr)
p = run(*G, "user", "add", "newbie")
check(p.returncode == 2 and "--password-stdin" in p.stderr,
      "without a terminal the password must come from --password-stdin", p.stderr)
p = run(*G, "user", "list", "--json")
users = json.loads(p.stdout) if p.returncode == 0 else []
check({u["name"] for u in users} == {"bela", "anna", "dora", "lena", "zed"},
      "user list shows config and store users", p.stdout)
check("$" not in p.stdout and "hash" not in p.stdout, "user list shows no hashes", p.stdout)
check(any(u["name"] == "bela" and u["in_config"] and not u["in_store"] for u in users),
      "bela comes from the config", p.stdout)
p = run(*G, "user", "remove", "bela")
check(p.returncode == 1 and "config" in p.stderr, "a config user is removed in the config",
      p.stderr)
p = run(*G, "user", "frobnicate")
check(p.returncode == 2, "an unknown user verb is a usage error", p.stderr)
p = run("user", "--help")
check(p.returncode == 0 and "usage: earshot user" in p.stdout, "user --help", p.stderr)
p = run("serve", "--help")
check(p.returncode == 0 and "usage: earshot serve" in p.stdout, "serve --help", p.stderr)
p = run(*G, "serve", "--listen", "nonsense")
check(p.returncode == 2 and "nonsense" in p.stderr, "a bad --listen is a usage error", p.stderr)
bad = write("bad.yml", demo_text + "\nusers:\n  - name: x\n    role: chief\n")
p = run("--config", bad, "--db", DB, "serve", "--listen", "127.0.0.1:0", timeout=20)
check(p.returncode == 1 and re.search(r"bad\.yml:\d+:\d+: .*chief", p.stderr),
      "a bad users: entry is reported with file:line:col", p.stderr)
bad = write("bad2.yml", demo_text + "\nserve:\n  listn: 1\n")
p = run("--config", bad, "--db", DB, "serve", timeout=20)
check(p.returncode == 1 and "did you mean 'listen'" in p.stderr,
      "an unknown serve: key suggests the right one", p.stderr)


# ---------------------------------------------------------------- server
def start(cfg_args):
    e = dict(os.environ)
    e["NO_COLOR"] = "1"
    proc = subprocess.Popen([EARSHOT, *cfg_args, "serve", "--listen", "127.0.0.1:0"],
                            cwd=TMP, stderr=subprocess.PIPE, text=True, env=e)
    line = proc.stderr.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        print("FAIL: serve did not start: " + line + proc.stderr.read(), file=sys.stderr)
        sys.exit(1)
    return proc, int(m.group(1))


server, PORT = start(G)
seen_bodies = []


def req(method, path, body=None, headers=None, cookie=None, raw=None, chunked=False):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = cookie
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if chunked:
        c.putrequest(method, path)
        for k, v in h.items():
            c.putheader(k, v)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        try:
            for i in range(0, len(data), 8192):
                part = data[i:i + 8192]
                c.send(b"%x\r\n%s\r\n" % (len(part), part))
            c.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    else:
        c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.read()
    c.close()
    seen_bodies.append(out)
    return r.status, r, out


def jbody(out):
    try:
        return json.loads(out)
    except ValueError:
        return None


def login(user, pw, headers=None):
    st, r, out = req("POST", "/api/login", {"user": user, "password": pw}, headers=headers)
    cookie = r.getheader("Set-Cookie") or ""
    j = jbody(out) or {}
    return st, cookie, j


def sess(cookie_header):
    m = re.match(r"earshot_session=([0-9a-f]+)", cookie_header)
    return "earshot_session=" + m.group(1) if m else ""


try:
    # ------------------------------------------------------------ open doors
    st, r, out = req("GET", "/healthz")
    check(st == 200 and jbody(out).get("status") == "ok", "/healthz answers ok", out)
    st, r, out = req("GET", "/")
    csp = r.getheader("Content-Security-Policy") or ""
    check(st == 200 and b"<!doctype html>" in out.lower(), "the page is served")
    check("script-src 'self'" in csp and "unsafe-inline" not in csp and
          "frame-ancestors 'none'" in csp, "CSP: no inline script, no framing", csp)
    check(r.getheader("X-Content-Type-Options") == "nosniff", "nosniff")
    check(not re.search(rb'<script(?![^>]*\bsrc=)(?! type="application/json")[^>]*>', out) and
          not re.search(rb"\son[a-z]+\s*=", out) and b"javascript:" not in out,
          "the page has no inline script or handlers")
    st, r, out = req("GET", "/app.js")
    check(st == 200 and "javascript" in (r.getheader("Content-Type") or ""), "app.js is served")
    check(b"innerHTML" not in out and b"insertAdjacentHTML" not in out and
          b"document.write" not in out and b"eval(" not in out,
          "app.js never parses strings as HTML or code")
    etag = r.getheader("ETag")
    st, r, out = req("GET", "/app.js", headers={"If-None-Match": etag})
    check(st == 304, "assets revalidate with their ETag", st)
    st, r, out = req("GET", "/nope")
    check(st == 404, "unknown page is 404")
    out_page = req("GET", "/")[2]
    m = re.search(rb'src="/app\.js\?v=([0-9a-f]+)"', out_page)
    check(m and m.group(1).decode() == etag.strip('"'), "the page names app.js by its hash",
          out_page[:400])
    st, r, out = req("GET", "/app.js?v=" + etag.strip('"'))
    check(st == 200 and "immutable" in (r.getheader("Cache-Control") or ""),
          "app.js under its hash is immutable", r.getheader("Cache-Control"))
    st, r, out = req("GET", "/app.js?v=0123456789abcdef0123")
    check(st == 200 and r.getheader("Cache-Control") == "no-cache",
          "under another hash it is revalidated", r.getheader("Cache-Control"))
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request("GET", "/app.css")
    r = c.getresponse()
    r.read()
    keep = r.getheader("Connection")
    c.request("GET", "/healthz")
    r = c.getresponse()
    check(keep != "close" and r.status == 200 and b"ok" in r.read(),
          "connections are kept alive (the page's requests share one)", keep)
    c.close()

    # ------------------------------------------------------------ no session
    for path in ["/api/queue", "/api/queue/1", "/api/incidents", "/api/kpis",
                 "/api/rules", "/api/users", "/api/me", "/api/nosuch"]:
        st, r, out = req("GET", path)
        check(st == 401 and jbody(out) and jbody(out).get("status") == 401,
              f"GET {path} without a session is 401 JSON", out)
    st, r, out = req("POST", "/api/queue/1/resolve", {})
    check(st == 401, "an action without a session is 401", out)
    st, r, out = req("POST", "/api/queue/1/resolve", {},
                     cookie="earshot_session=" + "0" * 64)
    check(st == 401, "a made-up session is 401", out)

    # ------------------------------------------------------------ login
    st, _, j = login("anna", "wrong-password")
    check(st == 401, "a wrong password is 401", j)
    st, _, j = login("nobody", "whatever-password")
    check(st == 401 and j.get("error") == "wrong user name or password",
          "an unknown user gets the same answer", j)
    st, r, out = req("POST", "/api/login", {"user": "anna"})
    check(st == 400 and jbody(out).get("field") == "password", "missing password names the field", out)
    st, r, out = req("POST", "/api/login", {"user": "anna", "password": "x", "role": "admin"})
    check(st == 400 and jbody(out).get("field") == "role", "an unknown field is named", out)
    st, r, out = req("POST", "/api/login", raw=b'{"user": "anna", "password": ',
                     headers={"Content-Type": "application/json"})
    check(st == 400 and "malformed JSON" in jbody(out).get("error", ""), "malformed JSON is 400", out)
    st, r, out = req("POST", "/api/login", raw=b"user=anna&password=x",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 415, "a form post is refused (415)", out)
    st, r, out = req("POST", "/api/login", {"user": "anna", "password": "anna-password-1"},
                     headers={"Origin": "http://evil.example"})
    check(st == 403, "a cross-origin login is refused", out)
    st, r, out = req("GET", "/api/login")
    check(st == 405 and r.getheader("Allow") == "POST", "GET /api/login is 405", out)

    st, cookie, me = login("anna", "anna-password-1")
    check(st == 200 and me.get("user") == "anna" and me.get("role") == "agent" and
          len(me.get("csrf", "")) == 64, "anna logs in", me)
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie,
          "session cookie: HttpOnly, SameSite=Strict, not Secure over plain HTTP", cookie)
    A = sess(cookie)
    ACSRF = me["csrf"]
    st, cookie_b, me_b = login("bela", "bela-password-1")
    check(st == 200 and me_b.get("team") == "billing", "a config user logs in with its hash", me_b)
    st, cookie_l, me_l = login("lena", "lena-password-1")
    L, LCSRF = sess(cookie_l), me_l.get("csrf", "")
    st, cookie_d, me_d = login("dora", "dora-password-1")
    D, DCSRF = sess(cookie_d), me_d.get("csrf", "")

    # ------------------------------------------------------------ reading
    st, r, out = req("GET", "/api/queue?limit=5", cookie=A)
    q = jbody(out)
    check(st == 200 and len(q["items"]) == 5 and q["total"] >= 40 and q["limit"] == 5,
          "the queue is paged", out[:300])
    etag = r.getheader("ETag")
    st, r, out = req("GET", "/api/queue?limit=5", cookie=A, headers={"If-None-Match": etag})
    check(st == 304, "an unchanged queue is 304 with If-None-Match", st)
    p = run(*G, "queue", "list", "--json", "--limit", "5")
    check([i["id"] for i in q["items"]] == [i["id"] for i in json.loads(p.stdout)],
          "the API's order is the queue's priority order")
    st, r, out = req("GET", "/api/queue?limit=5&offset=5", cookie=A)
    q2 = jbody(out)
    check(st == 200 and not set(i["id"] for i in q2["items"]) & set(i["id"] for i in q["items"]),
          "offset pages on", out[:200])
    st, r, out = req("GET", "/api/queue?team=billing&limit=500", cookie=A)
    qb = jbody(out)
    check(st == 200 and qb["items"] and all(i["team"] == "billing" for i in qb["items"]),
          "team filter", out[:200])
    check(qb["counts"]["open"] == qb["total"], "counts per state follow the filters", qb["counts"])
    st, r, out = req("GET", "/api/queue?q=chargeback", cookie=A)
    qs = jbody(out)
    check(st == 200 and qs["total"] >= 1 and all(
        "chargeback" in ((i["title"] or "") + (i["text"] or "")).lower() for i in qs["items"]),
        "text search", out[:300])
    st, r, out = req("GET", "/api/queue?q=a%25e", cookie=A)
    check(st == 200 and jbody(out)["total"] == 0, "% in a search is a literal", out[:200])
    st, r, out = req("GET", "/api/queue?q=a_e", cookie=A)
    check(st == 200 and jbody(out)["total"] == 0, "_ in a search is a literal", out[:200])
    for qs_, field in [("colour=red", "colour"), ("limit=0", "limit"), ("limit=x", "limit"),
                       ("limit=501", "limit"), ("offset=-1", "offset"), ("state=open2", "state"),
                       ("overdue=maybe", "overdue")]:
        st, r, out = req("GET", "/api/queue?" + qs_, cookie=A)
        check(st == 400 and jbody(out).get("field") == field, f"?{qs_} is 400 naming {field}", out)
    st, r, out = req("DELETE", "/api/queue", cookie=A)
    check(st == 405, "DELETE /api/queue is 405", out)

    st, r, out = req("GET", "/api/queue/999999", cookie=A)
    check(st == 404 and "999999" in jbody(out).get("error", ""), "an unknown id is 404", out)
    st, r, out = req("GET", "/api/queue/abc", cookie=A)
    check(st == 404, "a non-numeric id is 404", out)
    first = q["items"][0]["id"]
    st, r, out = req("GET", f"/api/queue/{first}", cookie=A)
    d = jbody(out)
    check(st == 200 and d["item"]["id"] == first and d["verdict"] and d["history"] and
          any(s["match"] for s in d["highlight"]["text"]), "an item with verdict, history and highlights",
          out[:300])
    check("".join(s["text"] for s in d["highlight"]["text"]) == d["item"]["text"],
          "the highlight segments are the text")
    st, r, out = req("GET", "/api/incidents", cookie=A)
    inc = jbody(out)
    check(st == 200 and len(inc["incidents"]) >= 1 and inc["incidents"][0]["category"] == "billing",
          "the demo's billing surge is an open incident", out[:300])
    st, r, out = req("GET", "/api/kpis", cookie=A)
    k = jbody(out)
    check(st == 200 and k["open"] >= 40 and k["by_state"]["new"] >= 40 and
          k["incidents_open"] >= 1 and k["last_24h"]["mentions"] >= 70 and
          k["last_24h"]["queued"] == k["open"] and
          sum(t["open"] for t in k["by_team"]) == k["open"], "KPIs", out[:300])
    st, r, out = req("GET", "/api/rules", cookie=A)
    check(st == 200 and any(x["rule"].startswith("hu.billing") for x in jbody(out)["rules"]),
          "rule feedback", out[:200])
    st, r, out = req("GET", "/api/users", cookie=A)
    check(st == 200 and {u["name"] for u in jbody(out)["users"]} >= {"anna", "bela", "lena"},
          "users list (names, teams, roles)", out)

    # ------------------------------------------------------------ CSRF, rights
    new_ids = [i["id"] for i in jbody(req("GET", "/api/queue?state=new&limit=20", cookie=A)[2])["items"]]
    a1, a2, a3, a4, a5, a6 = new_ids[:6]
    st, r, out = req("POST", f"/api/queue/{a1}/assign", {"owner": "anna"}, cookie=A)
    check(st == 403 and "CSRF" in jbody(out)["error"], "no CSRF token: 403", out)
    st, r, out = req("POST", f"/api/queue/{a1}/assign", {"owner": "anna"}, cookie=A,
                     headers={"X-CSRF-Token": LCSRF})
    check(st == 403, "another session's CSRF token: 403", out)
    H = {"X-CSRF-Token": ACSRF}
    st, r, out = req("POST", f"/api/queue/{a1}/assign", {"owner": "anna"}, cookie=A, headers=H)
    check(st == 200 and jbody(out)["item"]["owner"] == "anna" and
          jbody(out)["item"]["state"] == "assigned", "anna assigns to herself", out[:200])
    st, r, out = req("GET", "/api/queue?limit=5", cookie=A, headers={"If-None-Match": etag})
    check(st == 200, "a change invalidates the cached list", st)
    st, r, out = req("POST", f"/api/queue/{a2}/note", {"note": "hi", "actor": "lena"},
                     cookie=A, headers=H)
    check(st == 403 and jbody(out).get("field") == "actor", "an agent cannot act as another user", out)
    st, r, out = req("POST", f"/api/queue/{a2}/assign", {"owner": "dora"}, cookie=A, headers=H)
    check(st == 403 and jbody(out).get("field") == "owner", "an agent cannot assign outside the team", out)
    st, r, out = req("POST", f"/api/queue/{a2}/assign", {"owner": "bela"}, cookie=A, headers=H)
    check(st == 200 and jbody(out)["item"]["owner"] == "bela", "an agent assigns to a teammate", out[:200])
    st, r, out = req("POST", f"/api/queue/{a2}/resolve", {}, cookie=A, headers=H)
    check(st == 403 and "bela" in jbody(out)["error"], "an agent cannot change a teammate's item", out)
    st, r, out = req("POST", f"/api/queue/{a2}/note", {"note": "looked at it"}, cookie=A, headers=H)
    check(st == 200, "but can add a note", out[:200])
    LH = {"X-CSRF-Token": LCSRF}
    st, r, out = req("POST", f"/api/queue/{a3}/assign", {"owner": "dora"}, cookie=L, headers=LH)
    check(st == 200 and jbody(out)["item"]["owner"] == "dora", "a lead assigns to anyone", out[:200])
    st, r, out = req("POST", f"/api/queue/{a3}/assign", {"owner": "ghost"}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "owner", "assigning to an unknown person is 400", out)
    st, r, out = req("POST", f"/api/queue/{a2}/resolve", {"note": "done"}, cookie=L, headers=LH)
    check(st == 200 and jbody(out)["item"]["state"] == "resolved", "a lead resolves anyone's item", out[:200])
    st, r, out = req("POST", f"/api/queue/{a2}/resolve", {}, cookie=L, headers=LH)
    check(st == 409 and "already resolved" in jbody(out)["error"],
          "resolving twice is 409 with words", out)
    st, r, out = req("POST", f"/api/queue/{a1}/respond", {"note": "Called back"}, cookie=A, headers=H)
    check(st == 200 and jbody(out)["item"]["state"] == "responded", "respond with a note", out[:200])
    st, r, out = req("POST", f"/api/queue/{a1}/resolve", {}, cookie=A, headers=H)
    check(st == 200, "resolve", out[:200])
    st, r, out = req("POST", f"/api/queue/{a1}/reopen", {"note": "customer wrote again"},
                     cookie=A, headers=H)
    check(st == 200 and jbody(out)["item"]["state"] == "assigned", "reopen (owned: assigned)", out[:200])
    st, r, out = req("POST", f"/api/queue/{a4}/dismiss", {"reason": "spam", "note": "bot"},
                     cookie=A, headers=H)
    check(st == 200 and jbody(out)["item"]["dismiss_reason"] == "spam", "dismiss as spam", out[:200])
    p = run(*G, "queue", "show", str(a1), "--json")
    hist = json.loads(p.stdout)["history"]
    check([(h["kind"], h["actor"]) for h in hist[1:]] ==
          [("assigned", "anna"), ("responded", "anna"), ("resolved", "anna"), ("reopened", "anna")],
          "every action is in the event log with the user", hist)
    check(any(h["note"] == "Called back" for h in hist), "notes are kept", hist)

    # ------------------------------------------------------------ the page's boot data
    BOOT_RE = re.compile(rb'<script type="application/json" id="boot">(.*?)</script>', re.S)

    def page(path="/", cookie=None):
        st, r, out = req("GET", path, cookie=cookie)
        m = BOOT_RE.search(out)
        return st, r, out, (m.group(1) if m else None)

    def boot_of(raw):
        try:
            return json.loads(raw)
        except (TypeError, ValueError):
            return {}

    st, r, out, raw = page()
    check(st == 200 and raw == b"", "without a session the page carries no boot data", raw)
    check(r.getheader("ETag") and r.getheader("Cache-Control") == "no-cache" and
          r.getheader("Vary") == "Cookie",
          "that page is revalidated by its ETag and varies with the cookie",
          [r.getheader("ETag"), r.getheader("Cache-Control"), r.getheader("Vary")])
    st, r, out, raw = page(cookie="earshot_session=" + "0" * 64)
    check(st == 200 and raw == b"", "nor with a made-up session", raw)
    hostile = "</script><script>alert(1)</script><!-- x & y > z \u2028 \"q\""
    st, r, out = req("POST", f"/api/queue/{a1}/note", {"note": hostile}, cookie=A, headers=H)
    check(st == 200, "a note that tries to end the boot block", out[:200])

    st, r, out, raw = page(cookie=A)
    boot = boot_of(raw)
    check(st == 200 and boot.get("me", {}).get("user") == "anna" and
          boot["me"].get("csrf") == ACSRF and boot["me"].get("team") == "billing",
          "the page carries who is logged in and the session's CSRF token", (raw or b"")[:300])
    check("no-store" in (r.getheader("Cache-Control") or "") and not r.getheader("ETag") and
          r.getheader("Vary") == "Cookie", "a page with boot data is never stored",
          r.getheader("Cache-Control"))
    st, r2, out2 = req("GET", "/api/queue?state=open&limit=50", cookie=A)
    q50 = jbody(out2)
    bq = boot.get("queue") or {}
    check([i["id"] for i in bq.get("items", [])] == [i["id"] for i in q50["items"]] and
          bq.get("total") == q50["total"] and bq.get("counts") == q50["counts"] and
          bq.get("limit") == 50, "the boot queue is what the page asks /api/queue first",
          (raw or b"")[:300])
    check(r2.getheader("ETag") == boot.get("queue_etag") or
          q50["generated"] != bq.get("generated"),
          "with its ETag, so the page's first poll is a 304",
          [r2.getheader("ETag"), boot.get("queue_etag")])
    check(boot.get("filters", {}).get("state") == "open" and boot.get("filters", {}).get("q") == "",
          "the default view: open items", boot.get("filters"))
    check(bq.get("items") and boot.get("item", {}).get("item", {}).get("id") == bq["items"][0]["id"]
          and boot["item"].get("history"), "and the first item's detail",
          str(boot.get("item"))[:200])
    check(boot.get("incidents", {}).get("incidents") and
          {"anna", "bela", "lena"} <= {u["name"] for u in boot.get("users", {}).get("users", [])},
          "open incidents and users too", (raw or b"")[-300:])
    # The KPIs come from the cache only (they are slow to compute). Each
    # server thread notices the note above on its next request and makes
    # the cache new, so a few tries may be needed.
    for _ in range(8):
        kpis = jbody(req("GET", "/api/kpis", cookie=A)[2])
        kboot = boot_of(page(cookie=A)[3]).get("kpis")
        if kboot == kpis:
            break
    check(kboot == kpis, "and the KPIs when the cache has them", [kboot, kpis])

    st, r, out, raw = page(f"/?q=%23{a1}", cookie=A)
    boot = boot_of(raw)
    check(boot.get("filters", {}).get("q") == f"#{a1}" and
          [i["id"] for i in boot.get("queue", {}).get("items", [])] == [a1] and
          boot.get("item", {}).get("item", {}).get("id") == a1,
          "the view in the page's URL is the boot view", (raw or b"")[:300])
    check(any(h.get("note") == hostile for h in boot.get("item", {}).get("history", [])),
          "user text in the boot data reads back exactly", str(boot.get("item"))[-400:])
    check(raw and b"<" not in raw and b">" not in raw and b"&" not in raw and
          out.count(b"</script>") == 2, "no <, > or & in the boot block: user text cannot end it",
          (raw or b"")[-400:])
    st, r, out, raw = page("/?q=" + urllib.parse.quote(hostile), cookie=A)
    boot = boot_of(raw)
    check(boot.get("filters", {}).get("q") == hostile and b"<" not in raw and
          out.count(b"</script>") == 2, "a hostile search in the URL stays data", (raw or b"")[:300])
    st, r, out, raw = page("/?owner=me&state=all", cookie=A)
    boot = boot_of(raw)
    mine = jbody(req("GET", "/api/queue?owner=me&state=all&limit=50", cookie=A)[2])
    check(boot.get("filters", {}).get("owner") == "me" and boot.get("queue", {}).get("items") and
          [i["id"] for i in boot["queue"]["items"]] == [i["id"] for i in mine["items"]] and
          all(i["owner"] == "anna" for i in boot["queue"]["items"]),
          "owner=me is the logged-in user's items", (raw or b"")[:300])
    st, r, out, raw = page("/?owner=me&state=all", cookie=L)
    boot = boot_of(raw)
    check(boot.get("me", {}).get("user") == "lena" and
          all(i["owner"] == "lena" for i in boot.get("queue", {}).get("items", [])) and
          a1 not in [i["id"] for i in boot.get("queue", {}).get("items", [])],
          "and another user's boot data is that user's", (raw or b"")[:300])
    # One change to the store makes the cached answers new once, not once
    # per server thread: after a note, the list computed once stays the
    # answer on every thread (new connections land on all of them).
    st, r, out = req("POST", f"/api/queue/{a1}/note", {"note": "cache"}, cookie=A, headers=H)
    gen0 = jbody(req("GET", "/api/queue?limit=7", cookie=A)[2])["generated"]
    time.sleep(1.1)
    gens = {jbody(req("GET", "/api/queue?limit=7", cookie=A)[2])["generated"] for _ in range(16)}
    check(st == 200 and gens == {gen0}, "after one change the list is computed once", [gen0, gens])
    st, r, out, raw = page("/?state=bogus", cookie=A)
    boot = boot_of(raw)
    check(st == 200 and boot.get("me", {}).get("user") == "anna" and "queue" not in boot,
          "a bad filter in the URL: no boot queue (the page asks the API, which names it)",
          (raw or b"")[:300])

    # ------------------------------------------------------------ bad input
    st, r, out = req("POST", "/api/queue/999999/resolve", {}, cookie=L, headers=LH)
    check(st == 404, "an action on an unknown id is 404", out)
    st, r, out = req("POST", f"/api/queue/{a5}/frobnicate", {}, cookie=L, headers=LH)
    check(st == 404 and "frobnicate" in jbody(out)["error"], "an unknown action is 404", out)
    st, r, out = req("GET", f"/api/queue/{a5}/resolve", cookie=L)
    check(st == 405, "GET on an action is 405", out)
    st, r, out = req("POST", f"/api/queue/{a5}/dismiss", {"reason": "boring"}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "reason", "a bad reason names the field", out)
    st, r, out = req("POST", f"/api/queue/{a5}/dismiss", {}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "reason", "a missing reason names the field", out)
    st, r, out = req("POST", f"/api/queue/{a5}/assign", {"note": "x"}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "owner", "a missing owner names the field", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", {}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "note", "a note needs text", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", {"note": 5}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "note", "a wrongly typed field is named", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", {"note": "x" * 5000}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "note", "an overlong note is 400", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", {"nope": "x"}, cookie=L, headers=LH)
    check(st == 400 and jbody(out).get("field") == "nope", "an unknown field is named", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", raw=b"[1,2]", cookie=L,
                     headers={**LH, "Content-Type": "application/json"})
    check(st == 400 and "object" in jbody(out)["error"], "a body that is not an object is 400", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", raw=b'{"note": "a", "note": "b"}', cookie=L,
                     headers={**LH, "Content-Type": "application/json"})
    check(st == 400, "duplicate keys are refused", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", raw=b'{"note": "\xff"}', cookie=L,
                     headers={**LH, "Content-Type": "application/json"})
    check(st == 400, "invalid UTF-8 is refused", out)
    huge = json.dumps({"note": "x" * 200000}).encode()
    st, r, out = req("POST", f"/api/queue/{a5}/note", raw=huge, cookie=L,
                     headers={**LH, "Content-Type": "application/json"})
    check(st == 413 and jbody(out)["status"] == 413, "a huge body is 413", out)
    st, r, out = req("POST", f"/api/queue/{a5}/note", raw=huge, cookie=L,
                     headers={**LH, "Content-Type": "application/json"}, chunked=True)
    check(st == 413, "a huge chunked body is 413", out)
    st, r, out = req("GET", "/healthz")
    check(st == 200, "the server is still fine after bad input")

    # ------------------------------------------------------------ metrics
    st, r, out = req("GET", "/metrics")
    text = out.decode()
    check(st == 200 and "text/plain" in r.getheader("Content-Type"), "/metrics is text", st)
    names = {m.group(1) for m in re.finditer(r"(?m)^([a-z_:][a-z0-9_:]*)(?:\{| )", text)}
    check(names and all(n.startswith("earshot_") for n in names), "every metric is earshot_*",
          sorted(n for n in names if not n.startswith("earshot_")))
    for want in ["earshot_mentions_fetched_total", "earshot_mentions_flagged_total",
                 'earshot_queue_items{state="new"}', "earshot_queue_overdue",
                 'earshot_source_failures{source="acme-partner"} 1',
                 "earshot_fetch_delay_seconds_count", "earshot_analyze_delay_seconds_sum",
                 'earshot_http_requests_total{route="action",code="2xx"}',
                 'earshot_http_request_duration_seconds_bucket{route="queue",le="+Inf"}']:
        check(want in text, f"/metrics has {want}", text[:400])

    # ------------------------------------------------------------ sessions
    st, r, out = req("POST", "/api/logout", {}, cookie=D)
    check(st == 403, "logout needs the CSRF token too", out)
    st, r, out = req("POST", "/api/logout", {}, cookie=D, headers={"X-CSRF-Token": DCSRF})
    check(st == 200 and "Max-Age=0" in (r.getheader("Set-Cookie") or ""), "logout clears the cookie", out)
    st, r, out = req("GET", "/api/me", cookie=D)
    check(st == 401, "after logout the old cookie is worthless", out)
    p = run(*G, "user", "passwd", "lena", "--password-stdin", stdin="lena-password-2\n")
    check(p.returncode == 0, "user passwd", p.stderr)
    time.sleep(6)
    st, r, out = req("GET", "/api/me", cookie=L)
    check(st == 401, "a password change ends the user's sessions", out)
    st, _, j = login("lena", "lena-password-2")
    check(st == 200, "the new password works", j)
    st, _, j = login("lena", "lena-password-1")
    check(st == 401, "the old one does not", j)

    # ------------------------------------------------------------ reload: proxy, rate limit
    CFG = config("  trusted_proxies: [127.0.0.1]\n")
    server.send_signal(signal.SIGHUP)
    time.sleep(1)
    XF = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5, 10.1.1.1"}
    st, cookie, j = login("anna", "anna-password-1", headers=XF)
    check(st == 200 and "; Secure" in cookie,
          "behind a trusted proxy saying https the cookie is Secure (after SIGHUP)", cookie)
    for i in range(3):
        st, _, j = login("zed", "wrong-password", headers={"X-Forwarded-For": "10.9.9.9"})
    check(st == 401, "three failures are 401", j)
    st, r, out = req("POST", "/api/login", {"user": "zed", "password": "zed-password-1"},
                     headers={"X-Forwarded-For": "10.9.9.9"})
    check(st == 429 and int(r.getheader("Retry-After") or 0) > 0,
          "the 4th attempt is rate-limited, right password or not", out)
    st, _, j = login("zed", "zed-password-1", headers={"X-Forwarded-For": "10.9.9.8"})
    check(st == 429, "per user, from any address", j)
    st, _, j = login("anna", "anna-password-1", headers={"X-Forwarded-For": "10.9.9.9"})
    check(st == 429, "per address, for any user", j)
    st, _, j = login("anna", "anna-password-1", headers={"X-Forwarded-For": "10.9.9.7"})
    check(st == 200, "others still log in", j)

    # ------------------------------------------------------------ no secrets
    blob = b"\n".join(seen_bodies)
    check(b"$y$" not in blob and b"$6$" not in blob and b"password_hash" not in blob and
          bela_hash.encode() not in blob, "no response carries a password hash")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        code = -9
    rest = server.stderr.read()
    check(code == 0, "serve exits 0 on SIGTERM", rest)

finish()
