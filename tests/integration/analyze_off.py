"""analyze: false ("collect only"): a source whose mentions are fetched,
stored, deduplicated and counted (run summary, earshot sources, digest)
but never analyzed, flagged or queued, beside a normal source carrying
the same complaints, which are. A mention a collect-only source stored
first is analyzed when a normal source brings the same link later. A
value other than true/false is an error naming the file and line."""
import os
import sqlite3
from _harness import TMP, check, finish, fresh_tmp, jsonout, run, write

fresh_tmp()
COMPLAINTS = [
    "Terrible service. The parcel never arrived and nobody answers, "
    "I want my money back.",
    "They charged me twice for one order and support ignores my emails. "
    "Worst company ever, I demand a refund!",
    "The kettle arrived broken and the replacement is broken too. "
    "Still waiting for an answer after three weeks.",
]


def feed(name, host, items):
    body = "".join(
        f"<item><title>Review {i}</title><link>https://{host}/r{i}</link>"
        f"<guid>{host}-r{i}</guid>"
        f"<pubDate>Mon, 23 Nov 2026 0{i}:00:00 GMT</pubDate>"
        f"<description>{text}</description></item>"
        for i, text in items)
    return write(name, '<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<rss version="2.0"><channel><title>t</title>'
                 f"<link>https://{host}/</link><description>d</description>"
                 f"{body}</channel></rss>\n")


items = list(enumerate(COMPLAINTS, 1))
svc = feed("svc.xml", "svc.example", items)
market = feed("market.xml", "market.example", items)
# a normal source added later that carries market's first review again
late = feed("late.xml", "market.example", items[:1])
cfg_text = (
    "sources:\n"
    f"  - {{name: svc, url: \"{svc}\", lang: en}}\n"
    f"  - {{name: market, url: \"{market}\", lang: en, analyze: false}}\n")
cfg = write("analyze.yml", cfg_text)
db = os.path.join(TMP, "analyze.db")
G = ["--config", cfg, "--db", db]
env = {"EARSHOT_NOW": "2026-11-23T10:00:00Z"}

p = run(*G, "run", "--json", env=env)
check(p.returncode == 0, "run exits 0", p.stderr)
out = jsonout(p, "run --json") or {"sources": []}
s = {x["name"]: x for x in out["sources"]}
sv, mk = s.get("svc", {}), s.get("market", {})
check(sv.get("new") == 3 and sv.get("flagged") == 3 and sv.get("queued") == 3,
      "the normal source stores, flags and queues its 3 complaints", str(sv))
check(mk.get("status") == "ok" and mk.get("items") == 3
      and mk.get("new") == 3, "the collect-only source stores its 3", str(mk))
check(mk.get("flagged") == 0 and mk.get("queued") == 0,
      "and flags and queues none of them", str(mk))


def rows(sql, *args):
    with sqlite3.connect(db) as c:
        return c.execute(sql, args).fetchall()


per_source = dict(rows(
    "SELECT m.source, count(v.mention_id) FROM mentions m"
    " LEFT JOIN verdicts v ON v.mention_id = m.id GROUP BY m.source"))
check(per_source == {"svc": 3, "market": 0},
      "verdicts: 3 for svc, none for market", str(per_source))
queued = rows("SELECT m.source FROM queue q JOIN mentions m"
              " ON m.id = q.mention_id")
check(sorted(x[0] for x in queued) == ["svc"] * 3,
      "the queue holds svc's mentions only", str(queued))

p = run(*G, "sources", "--json", env=env)
src = {x["name"]: x for x in (jsonout(p, "sources --json")
                              or {"sources": []})["sources"]}
check(src.get("market", {}).get("items") == 3,
      "earshot sources counts the collect-only source's mentions",
      str(src.get("market")))
check(src.get("market", {}).get("analyze") is False
      and src.get("svc", {}).get("analyze") is True,
      "earshot sources --json says which sources are analyzed", str(src))
p = run(*G, "sources", env=env)
table = {ln.split()[0]: ln for ln in p.stdout.splitlines()[1:] if ln.strip()}
check("collect only" in table.get("market", "")
      and "collect only" not in table.get("svc", ""),
      "the table marks the collect-only source", p.stdout)

p = run(*G, "digest", "--since", "7d", "--format", "json", env=env)
d = jsonout(p, "digest --format json") or {}
dump = str(d.get("mentions", d))
check(p.returncode == 0 and "'total': 6" in dump and "'analyzed': 3" in dump,
      "the digest counts 6 mentions, 3 of them analyzed", dump[:600])

# Again: both feeds unchanged, nothing new, nothing analyzed twice.
p = run(*G, "run", "--force", "--json", env=env)
out = jsonout(p, "second run") or {"totals": {}}
check(p.returncode == 0 and out["totals"].get("new") == 0
      and out["totals"].get("queued") == 0, "a second poll adds nothing",
      str(out.get("totals")))

# A normal source brings market's first review (same link): it was never
# analyzed, so it is now, and queued, as one mention (not a new one).
cfg = write("analyze.yml", cfg_text
            + f"  - {{name: late, url: \"{late}\", lang: en}}\n")
p = run(*G, "run", "--source", "late", "--json", env=env)
out = jsonout(p, "run --source late") or {"sources": [{}]}
lt = out["sources"][0]
check(p.returncode == 0 and lt.get("new") == 0 and lt.get("flagged") == 1
      and lt.get("queued") == 1,
      "the collect-only source's mention is analyzed and queued when a "
      "normal source carries it", str(lt))
check(rows("SELECT count(*) FROM mentions") == [(6,)],
      "still one mention per review", str(rows("SELECT count(*) FROM mentions")))
q = rows("SELECT m.source, m.url FROM queue q JOIN mentions m"
         " ON m.id = q.mention_id WHERE m.source = 'market'")
check(q == [("market", "https://market.example/r1")],
      "the queue item is that stored mention", str(q))
p = run(*G, "run", "--source", "late", "--json", env=env)
out = jsonout(p, "run --source late again") or {"sources": [{}]}
lt = out["sources"][0]
check(lt.get("flagged") == 0 and lt.get("queued") == 0,
      "and it is not analyzed again", str(lt))

# Only true or false; the error names the file and the line.
bad = write("bad.yml", "sources:\n"
            f"  - name: svc\n    url: \"{svc}\"\n    analyze: sometimes\n")
p = run("--config", bad, "--db", db, "run")
check(p.returncode != 0 and f"{bad}:4:" in p.stderr
      and "analyze must be true or false, not 'sometimes'" in p.stderr,
      "a bad analyze value is refused, with file and line", p.stderr)
finish()
