"""Alerts through real HTTP peers on 127.0.0.1: a generic webhook (HMAC
signature, idempotency key), Slack, Microsoft Teams, Mattermost and a
templated help-desk POST, plus a JSON Lines file. The receiver is down at
first: every alert must wait in the outbox (and say why), be retried with
backoff on later runs (Retry-After honoured), and arrive exactly once when
the peer is back: nothing lost. Slack's max_per_hour folds the rest into
one summary. A hostile mention (markup, a javascript: link, <!channel>)
must arrive as harmless text in every shape."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run, write
from webhook_fixture import WebhookServer, body, signature_ok

fresh_tmp()
feeds = os.path.join(SRC, "examples", "feeds")
srv = WebhookServer()
SECRET = "s3cret-hook"

hostile = write("hostile.xml", """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Acme forum</title>
<link>https://forum.example.com/</link>
<item><guid>h-1</guid>
<title>&quot;&gt;&lt;img src=x onerror=alert(1)&gt; Acme charged me twice</title>
<link>javascript:alert(1)</link>
<pubDate>Mon, 23 Nov 2026 15:00:00 GMT</pubDate>
<description>Acme charged me twice and support never answered. Terrible!
&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(2))
@here *bold* &lt;https://evil.example|click&gt;</description></item>
</channel></rss>
""")

config = f"""
store: ./earshot.db
rules: [{os.path.join(SRC, "rules")}]
brands:
  - name: Villanyász
    aliases: [villanyász, villanyasz]
  - name: Acme
    aliases: [acme]
sources:
  - {{name: villanyasz-social, url: {feeds}/villanyasz-social.xml, brand: Villanyász, type: atom, lang: hu}}
  - {{name: acme-reviews, url: {feeds}/acme-reviews.xml, brand: Acme, type: atom, lang: en}}
  - {{name: acme-forum, url: {hostile}, brand: Acme, type: rss, lang: en}}
teams:
  - {{name: billing}}
  - {{name: support}}
default_team: support
routing:
  - {{team: billing, categories: [billing]}}
sinks:
  - {{name: hook, type: webhook, url: "{srv.url('/hook')}", secret: {SECRET}}}
  - {{name: chat, type: slack, url: "{srv.url('/slack')}", max_per_hour: 4}}
  - {{name: chat2, type: slack, url: "{srv.url('/slack2')}", brands: [Acme], categories: [billing], max_per_hour: 0}}
  - {{name: teams, type: teams, url: "{srv.url('/teams')}", incidents_only: true}}
  - {{name: mm, type: mattermost, url: "{srv.url('/mm')}", brands: [Acme], severity: high}}
  - name: desk
    type: http
    url: "{srv.url('/desk')}"
    categories: [billing]
    headers: {{Authorization: "Bearer ${{DESK_TOKEN}}"}}
    template: '{{"ticket": {{"subject": "$${{summary}}", "comment": {{"body": "$${{text}}\\n$${{url}}"}}, "priority": "$${{severity}}", "tags": ["earshot", "$${{category}}"], "external_id": "$${{id}}"}}}}'
  - {{name: file, type: jsonl, path: alerts.jsonl}}
"""
cfgpath = write("earshot.yml", config)
G = ["--config", cfgpath]
ENV = {"DESK_TOKEN": "t0ken"}


def at(t):
    e = dict(ENV)
    e["EARSHOT_NOW"] = t
    return e


def outbox(state=None):
    p = run(*G, "outbox", "--all", "--json", env=at("2026-11-23T17:00:00Z"))
    rows = jsonout(p, "outbox --all --json") or []
    return [r for r in rows if state is None or r["state"] == state]


# 1. the peer is down: everything waits, one try per sink
srv.fail_next = 10 ** 6
p = run(*G, "run", env=at("2026-11-23T17:00:00Z"))
check(p.returncode == 0, "run succeeds while the sinks are down (alerts "
      "never change its status)", f"{p.returncode}\n{p.stderr}")
for sink in ("hook", "chat", "chat2", "teams", "mm", "desk"):
    check(f"sink '{sink}'" in p.stderr and "HTTP 503" in p.stderr,
          f"run warns that sink {sink} failed", p.stderr)
check(len(srv.calls) == 6, "one failed attempt per sink, not one per alert",
      str(len(srv.calls)))
pending = outbox("pending")
sinks_waiting = {r["sink"] for r in pending}
check(sinks_waiting == {"hook", "chat", "chat2", "teams", "mm", "desk"},
      "every HTTP sink's alerts wait", str(sinks_waiting))
check(all(r["last_error"] and "503" in r["last_error"] for r in pending),
      "each waiting alert says why", str(pending[:2]))
check(all(r["next_attempt"] == "2026-11-23T17:01:00Z" for r in pending),
      "the next try is one minute later", str({r["next_attempt"] for r in
                                               pending}))
lines = open(os.path.join(TMP, "alerts.jsonl"), encoding="utf-8").read() \
    .splitlines()
check(len(lines) == len([r for r in outbox() if r["sink"] == "file"]) and
      len(lines) > 20, "the JSON Lines file got every alert at once",
      str(len(lines)))
p = run(*G, "outbox", env=at("2026-11-23T17:00:00Z"))
check(p.returncode == 0 and "why:" in p.stdout and "503" in p.stdout,
      "outbox shows what waits and why", p.stdout[:500])

# 2. not due yet: nothing is tried
p = run(*G, "run", env=at("2026-11-23T17:00:30Z"))
check(len(srv.calls) == 6, "nothing is retried before the backoff ends",
      str(len(srv.calls)))

# 3. still down at the next try: the wait doubles
p = run(*G, "run", env=at("2026-11-23T17:01:00Z"))
check(len(srv.calls) == 12, "one more try per sink when due",
      str(len(srv.calls)))
tried = [r for r in outbox("pending") if r["attempts"] == 2]
check(len(tried) == 6 and all(r["next_attempt"] == "2026-11-23T17:03:00Z"
                              for r in tried),
      "the second failure waits two minutes", str(tried[:1]))

# 4. outbox retry while down: exit 3, says why
p = run(*G, "outbox", "retry", env=at("2026-11-23T17:01:10Z"))
check(p.returncode == 3 and "503" in p.stderr,
      "outbox retry exits 3 while a sink fails", f"{p.returncode} {p.stderr}")

# 5. the peer is back: everything arrives, once (the retry above pushed
# the next try to 17:05:10)
srv.fail_next = 0
p = run(*G, "run", env=at("2026-11-23T17:05:00Z"))
check(len(srv.delivered()) == 0, "nothing before the backoff ends")
p = run(*G, "run", env=at("2026-11-23T17:05:10Z"))
check(p.returncode == 0 and "warning" not in p.stderr,
      "the run after recovery delivers without warnings", p.stderr)
check(outbox("pending") == [], "nothing waits after recovery",
      str(outbox("pending")[:3]))

hook = srv.delivered("/hook")
db = sqlite3.connect(os.path.join(TMP, "earshot.db"))
want = {r[0] for r in db.execute(
    "SELECT idem FROM outbox WHERE sink = 'hook'")}
got = [body(c)["id"] for c in hook]
check(len(got) == len(set(got)), "no alert arrived twice",
      f"{len(got)} calls, {len(set(got))} ids")
check(set(got) == want, "every hook alert arrived: nothing lost",
      f"missing {len(want - set(got))}")
nq = db.execute("SELECT count(*) FROM queue").fetchone()[0]
check(len([c for c in hook if body(c)["event"] == "mention"]) == nq,
      "one hook alert per queued mention", f"{len(hook)} vs {nq}")
check(any(body(c)["event"] == "incident.opened" for c in hook),
      "the surge's incident reached the hook")
check(all(signature_ok(c, SECRET) for c in hook),
      "every hook call carries a valid X-Earshot-Signature")
check(all(c["headers"].get("Idempotency-Key") == body(c)["id"] for c in
          hook), "the Idempotency-Key header is the alert's id")
check(all(c["headers"].get("Content-Type") == "application/json" for c in
          hook), "JSON content type")
m = next((body(c) for c in hook if body(c).get("source") == "acme-forum"),
         None)
check(m is not None and m["title"].startswith('">') and
      m["url"] == "javascript:alert(1)",
      "the webhook carries the hostile title and link as data", str(m))

# Slack: at most 4 messages this hour, the last a summary of the rest
slack = srv.delivered("/slack")
check(len(slack) == 4, "slack got 4 messages (max_per_hour)",
      str(len(slack)))
sb = [body(c) for c in slack]
check(all("blocks" in b and "text" in b for b in sb),
      "slack messages have text and blocks")
check("more alerts, folded" in sb[-1]["text"], "the last slack message is "
      "the summary", sb[-1]["text"])
folded = db.execute("SELECT count(*) FROM outbox WHERE sink = 'chat' AND "
                    "state = 'folded'").fetchone()[0]
check(folded > 0 and str(folded) in sb[-1]["text"],
      "the summary counts what was folded", f"{folded}: {sb[-1]['text']}")
alltext = json.dumps(sb)
s2 = [body(c) for c in srv.delivered("/slack2")]
hs = next((b["blocks"][0]["text"]["text"] for b in s2
           if "charged me twice and support" in json.dumps(b, ensure_ascii=False)),
          "")
check('"&gt; Acme charged me twice' in hs and "&lt;!channel&gt;" in hs,
      "the hostile mention reached slack with < > escaped", hs)
check(hs != "" and "<javascript" not in hs and "|Open the original>" not in
      hs, "its javascript: link is not a slack link", hs)
alltext += json.dumps(s2)
check("<!channel>" not in alltext and "<script>" not in alltext and
      "<javascript" not in alltext,
      "slack text never carries live <!channel>, <script> or links")

# Teams: incidents only, as Adaptive Cards
teams = [body(c) for c in srv.delivered("/teams")]
check(len(teams) == 1, "teams got only the incident", str(len(teams)))
if teams:
    card = teams[0]["attachments"][0]
    check(card["contentType"] == "application/vnd.microsoft.card.adaptive"
          and card["content"]["type"] == "AdaptiveCard",
          "the teams message is an Adaptive Card", json.dumps(teams[0])[:300])
    check("Incident #1" in card["content"]["body"][0]["text"],
          "the card names the incident")

# Mattermost: Acme, high and above; the hostile mention escaped
mm = [body(c)["text"] for c in srv.delivered("/mm")]
check(len(mm) > 0, "mattermost got alerts", str(len(mm)))
h = next((t for t in mm if "charged me twice" in t), "")
check(h != "", "the hostile mention reached mattermost", str(mm[:2]))
check("<!channel>" not in h and "\\<!channel\\>" in h and
      "\\*bold\\*" in h, "markup in mattermost text is escaped", h)
check("](javascript" not in h and "[Open the original]" not in h,
      "a javascript: URL never becomes a link", h)

# the help desk: the template, filled in and valid JSON
desk = srv.delivered("/desk")
check(len(desk) > 0, "the help desk got tickets", str(len(desk)))
for c in desk:
    t = body(c)["ticket"]
    if not (len(t["external_id"]) == 32 and t["tags"][0] == "earshot" and
            t["priority"] in ("low", "medium", "high", "critical") and
            c["headers"].get("Authorization") == "Bearer t0ken"):
        check(False, "help desk ticket filled in", json.dumps(t))
        break

# 6. Retry-After: a 429 asking for two minutes is honoured
srv.fail_next = 1
srv.fail_status = 429
srv.retry_after = 120
write("more.xml", """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>x</title><link>https://x.example/</link>
<item><guid>h-2</guid><title>Acme double charge</title>
<link>https://forum.example.com/t/2</link>
<pubDate>Mon, 23 Nov 2026 17:20:00 GMT</pubDate>
<description>Acme charged me twice again, refund now!</description></item>
</channel></rss>
""")
config2 = config.replace(
    "  - {name: acme-forum,",
    f"  - {{name: acme-more, url: {os.path.join(TMP, 'more.xml')}, "
    "brand: Acme, type: rss, lang: en}\n  - {name: acme-forum,")
cfg2 = write("earshot2.yml", config2.replace(
    "  - {name: chat, type: slack", "  - {name: chat, enabled: false, "
    "type: slack").replace("  - {name: chat2,", "  - {name: chat2, "
                           "enabled: false,").replace("  - {name: teams,", "  - {name: teams, "
                           "enabled: false,").replace(
    "  - {name: mm,", "  - {name: mm, enabled: false,").replace(
    "    type: http\n", "    type: http\n    enabled: false\n"))
G2 = ["--config", cfg2]
n0 = len(srv.delivered("/hook"))
p = run(*G2, "run", "--source", "acme-more", env=at("2026-11-23T17:30:00Z"))
check("HTTP 429" in p.stderr, "the 429 is reported", p.stderr)
p = run(*G2, "run", "--source", "acme-more", env=at("2026-11-23T17:31:30Z"))
check(len(srv.delivered("/hook")) == n0,
      "not retried before Retry-After ends (backoff alone would have)")
p = run(*G2, "run", "--source", "acme-more", env=at("2026-11-23T17:32:00Z"))
check(len(srv.delivered("/hook")) == n0 + 1, "delivered after Retry-After",
      str(len(srv.delivered("/hook")) - n0))

# 7. usage
p = run(*G, "outbox", "--help")
check(p.returncode == 0 and "usage: earshot outbox" in p.stdout,
      "outbox --help")
p = run(*G, "outbox", "resend")
check(p.returncode == 2, "an unknown verb is a usage error")
p = run(*G, "outbox", "retry", "--sink", "nope", env=ENV)
check(p.returncode == 2 and "no sink named 'nope'" in p.stderr,
      "retry of an unknown sink is a usage error", p.stderr)
p = run(*G, "outbox", "retry", "--json", env=at("2026-11-23T18:00:00Z"))
r = jsonout(p, "outbox retry --json") or {}
check(p.returncode == 0 and r.get("failed") == 0 and r.get("waiting") == 0,
      "retry with nothing waiting exits 0", p.stdout + p.stderr)

srv.close()
finish()
