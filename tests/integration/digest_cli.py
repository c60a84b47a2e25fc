"""earshot digest: the numbers agree with the store, the three formats agree
with each other, the output is deterministic under a fixed clock, --out
writes a file, bad options are usage errors, and hostile mentions
(<script>, "><img onerror>, javascript: links, Markdown links) render as
harmless text in Markdown and HTML."""
import json
import os
import re
import sqlite3

from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run, write

fresh_tmp()
RUN_AT = {"EARSHOT_NOW": "2026-11-23T19:00:00Z"}
NOW = {"EARSHOT_NOW": "2026-11-23T20:00:00Z"}

# ---------------------------------------------------------------- demo
cfg = os.path.join(SRC, "examples", "demo.yml")
db = os.path.join(TMP, "demo.db")
G = ["--config", cfg, "--db", db]
p = run(*G, "run", env=RUN_AT)
check(p.returncode in (0, 3), "run on the demo succeeds", p.stderr)

p = run(*G, "digest", "--since", "24h", "--format", "json", env=NOW)
check(p.returncode == 0, "digest --format json exits 0", p.stderr)
d = jsonout(p, "digest json") or {}
con = sqlite3.connect(db)
since = 1795464001 - 24 * 3600  # until = now + 1s (now inclusive)
total, flagged = con.execute(
    "SELECT count(*), coalesce(sum(v.flag = 1), 0) FROM mentions m "
    "LEFT JOIN verdicts v ON v.mention_id = m.id WHERE m.first_seen >= ?",
    (since,)).fetchone()
opened = con.execute("SELECT count(*) FROM queue WHERE state IN "
                     "('new','assigned','responded')").fetchone()[0]
check(total > 0, "the demo stored mentions in the last 24h")
check(d.get("mentions", {}).get("total") == total,
      "digest counts the period's mentions", f"{d.get('mentions')} vs {total}")
check(d.get("mentions", {}).get("flagged") == flagged,
      "digest counts the flagged ones", f"{d.get('mentions')} vs {flagged}")
check(d.get("queue", {}).get("open") == opened,
      "digest counts the open backlog", f"{d.get('queue')} vs {opened}")
check(sum(x["mentions"] for x in d.get("by_source", [])) == total,
      "by_source adds up to the total")
check(sum(x["flagged"] for x in d.get("by_category", [])) == flagged,
      "by_category adds up to the flagged")
names = {x["name"] for x in d.get("by_source", [])}
check(names <= {"villanyasz-reviews", "villanyasz-forum", "villanyasz-social",
                "acme-reviews", "acme-social", "news"},
      "by_source names configured sources", str(names))
check(len(d.get("urgent", [])) == min(10, opened),
      "the urgent list holds the top open items")

p = run(*G, "digest", "--since", "24h", "--format", "md", env=NOW)
check(p.returncode == 0, "digest --format md exits 0", p.stderr)
md = p.stdout
check(md.startswith("# earshot digest"), "Markdown starts with a title")
check(f"**{total}** new mentions, **{flagged}** flagged" in md,
      "Markdown and JSON agree", md[:400])
if d.get("urgent"):
    check(f"**#{d['urgent'][0]['id']}**" in md,
          "the most urgent item is in the Markdown")
p2 = run(*G, "digest", "--since", "24h", "--format", "md", env=NOW)
check(p2.stdout == md, "the digest is deterministic under a fixed clock")
p = run(*G, "digest", "--since", "2026-11-23", "--format", "json", env=NOW)
d2 = jsonout(p, "digest --since DATE") or {}
check(d2.get("period", {}).get("since") == "2026-11-23T00:00:00Z",
      "--since takes a bare date", str(d2.get("period")))
p = run(*G, "digest", "--since", "2026-11-20T00:00:00Z", "--until",
        "2026-11-21T00:00:00Z", "--format", "json", env=NOW)
d3 = jsonout(p, "digest --until") or {}
check(d3.get("mentions", {}).get("total") == 0,
      "a period before the run has no mentions", str(d3.get("mentions")))

out = os.path.join(TMP, "out", "digest.html")
p = run(*G, "digest", "--format", "html", "--out", out, env=NOW)
check(p.returncode == 0 and p.stdout == "", "digest --out writes a file",
      p.stderr)
with open(out, encoding="utf-8") as f:
    html = f.read()
check(html.startswith("<!DOCTYPE html>") and "<svg" in html,
      "the HTML digest has inline SVG charts")
# the team lead's backlog table, as in the Markdown: a row per team
teams = d.get("queue", {}).get("open_by_team", [])
check(bool(teams) and "<h2>Open backlog by team</h2>" in html and all(
          f'<tr><td>{t["name"]}</td><td class="n">{t["open"]}</td>'
          f'<td class="n">{t["overdue"]}</td></tr>' in html for t in teams),
      "the HTML digest has the open backlog by team", str(teams))
check(not [n for n in os.listdir(os.path.dirname(out)) if ".tmp." in n],
      "no temporary file is left behind")

for args, what in ((["--format", "pdf"], "an unknown format"),
                   (["--since", "yesterday"], "an unparsable --since"),
                   (["--since", "2026-11-24", "--until", "2026-11-23"],
                    "since after until"),
                   (["extra"], "a stray argument")):
    p = run(*G, "digest", *args, env=NOW)
    check(p.returncode == 2, f"{what} is a usage error", p.stderr)
p = run(*G, "digest", "--help")
check(p.returncode == 0 and "usage: earshot digest" in p.stdout,
      "digest --help prints usage")

# ---------------------------------------------------------------- hostile
# Titles and descriptions are HTML to the fetcher, so markup meant to
# survive as text is escaped twice.
feed = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>hostile</title><link>https://shop.example/</link>
<item>
  <guid>h1</guid>
  <title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;</title>
  <link>javascript:alert(1)</link>
  <dc:creator>&lt;b&gt;Eve&lt;/b&gt;</dc:creator>
  <description>Acme charged me twice for the same order and nobody answers
  my emails. Worst service ever, I want a refund now!</description>
  <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
</item>
<item>
  <guid>h2</guid>
  <title>[x](javascript:alert(1)) # `pwn`</title>
  <link>https://shop.example/r/2?a=1&amp;b=(2)</link>
  <description>&amp;quot;&amp;gt;&amp;lt;img src=x onerror=alert(1)&amp;gt; Acme lost my
  parcel, terrible service, still no refund after three weeks!</description>
  <pubDate>Mon, 23 Nov 2026 11:00:00 GMT</pubDate>
</item>
</channel></rss>
"""
write("h/hostile.xml", feed)
hcfg = write("h/earshot.yml", f"""
rules: [{os.path.join(SRC, "rules")}]
brands:
  - name: Acme
    aliases: [acme]
sources:
  - name: hostile
    url: hostile.xml
    brand: Acme
    type: rss
    lang: en
""")
H = ["--config", hcfg, "--db", os.path.join(TMP, "h.db")]
p = run(*H, "run", env=RUN_AT)
check(p.returncode == 0, "run on the hostile feed succeeds", p.stderr)
p = run(*H, "queue", "list", "--json", env=NOW)
queued = jsonout(p, "hostile queue") or []
check(len(queued) == 2, "both hostile complaints are queued",
      json.dumps(queued)[:500])

p = run(*H, "digest", "--format", "md", env=NOW)
md = p.stdout
check(p.returncode == 0, "hostile digest md exits 0", p.stderr)


def raw(s, needle):
    """needle occurs without a backslash escaping it"""
    return any(m.start() == 0 or s[m.start() - 1] != "\\"
               for m in re.finditer(re.escape(needle), s))


check(not raw(md, "<script"), "Markdown: no live <script>", md)
check(not raw(md, "<img"), "Markdown: no live <img>", md)
check(not raw(md, "<b>"), "Markdown: no live <b>", md)
check("](javascript" not in md and "](<javascript" not in md,
      "Markdown: no javascript: link", md)
check(not raw(md, "[x]"), "Markdown: a link in a title is neutralised", md)
check(not raw(md, "`pwn`"), "Markdown: backticks are neutralised", md)
if len(queued) == 2:
    check("\\<script\\>alert\\(1\\)" in md,
          "Markdown: the hostile title is shown as text", md)

p = run(*H, "digest", "--format", "html", env=NOW)
html = p.stdout
check(p.returncode == 0, "hostile digest html exits 0", p.stderr)
check("<script" not in html.lower(), "HTML: no <script>", html[-3000:])
check("<img" not in html.lower(), "HTML: no <img>", html[-3000:])
check("<b>eve" not in html.lower(), "HTML: no live author markup")
check('href="javascript' not in html.lower(), "HTML: no javascript: href")
check("onerror=" not in html.replace("onerror=alert(1)&gt;", ""),
      "HTML: onerror only as escaped text")
check("default-src 'none'" in html, "HTML: a CSP forbids scripts")
if len(queued) == 2:
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in html,
          "HTML: the hostile title is shown as text", html[-3000:])

# The queue table and show do not pass terminal escapes or markup through
# unchanged either: they print the text, cleaned of control characters.
p = run(*H, "queue", "show", str(queued[0]["id"]) if queued else "1",
        env=NOW)
check(p.returncode == 0 and "\033" not in p.stdout,
      "queue show prints no escape sequences", p.stderr)

finish()
