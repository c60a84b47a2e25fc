"""The offline demo, end to end: earshot run on examples/demo.yml must store
every item, flag the complaints listed in demo_expect.tsv and none of the
praise, queue what is flagged, fail the broken source on its own (exit 3),
and a second run must add nothing. Then queue list, show and digest work on
the result."""
import os
import sqlite3
from _harness import (SRC, TMP, check, finish, fresh_tmp, jsonout, run)

fresh_tmp()
cfg = os.path.join(SRC, "examples", "demo.yml")
db = os.path.join(TMP, "demo.db")
G = ["--config", cfg, "--db", db]

p = run(*G, "run", "--json")
check(p.returncode == 3, "run exits 3 when one source fails",
      f"exit {p.returncode}\n{p.stderr}")
out = jsonout(p, "run --json") or {"sources": []}
by_name = {s["name"]: s for s in out["sources"]}
check(by_name.get("acme-partner", {}).get("status") == "failed",
      "the broken source is reported failed", str(by_name.get("acme-partner")))
check(bool(by_name.get("acme-partner", {}).get("error")),
      "the broken source's error is in words")
for name, s in by_name.items():
    if name != "acme-partner":
        check(s["status"] == "ok", f"source {name} polled ok", str(s))
        check(s["new"] > 0, f"source {name} produced mentions", str(s))

con = sqlite3.connect(db)
expect = []
with open(os.path.join(SRC, "tests", "integration", "demo_expect.tsv"),
          encoding="utf-8") as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        source, guid, flag, category, note = line.rstrip("\n").split("\t")
        expect.append((source, guid, flag == "1", category, note))
check(len(expect) >= 60, "the demo has at least 60 expectations")

wrong = []
for source, guid, flag, category, note in expect:
    row = con.execute(
        "SELECT m.id, v.flag, v.categories, q.id, v.brand FROM mentions m "
        "LEFT JOIN verdicts v ON v.mention_id = m.id "
        "LEFT JOIN queue q ON q.mention_id = m.id "
        "WHERE m.source = ? AND m.guid = ?", (source, guid)).fetchone()
    if not check(row is not None, f"{source} {guid} is stored"):
        continue
    mid, vflag, cats, qid, brand = row
    if bool(vflag) != flag:
        wrong.append(f"{source} {guid}: flag {vflag}, expected {int(flag)} ({note})")
        continue
    if flag and category != "-" and category not in (cats or ""):
        wrong.append(f"{source} {guid}: categories {cats}, expected {category} ({note})")
    if flag and brand:
        check(qid is not None, f"{source} {guid} flagged and about a brand is queued")
    if not flag:
        check(qid is None, f"{source} {guid} not flagged is not queued")
check(not wrong, "demo verdicts match demo_expect.tsv",
      "\n  ".join(wrong))

# News items that name no watched brand are stored but not queued.
n = con.execute("SELECT count(*) FROM queue q JOIN verdicts v ON "
                "v.mention_id = q.mention_id WHERE q.source = 'news' AND "
                "v.brand IS NULL").fetchone()[0]
check(n == 0, "nothing brandless from the general source is queued")
# The detected language is stored with the mention (news has no lang:).
nolang = con.execute("SELECT count(*) FROM mentions WHERE lang IS NULL "
                     "OR lang NOT IN ('hu', 'en')").fetchone()[0]
check(nolang == 0, "every stored mention has its language", str(nolang))
total = con.execute("SELECT count(*) FROM mentions").fetchone()[0]
queued = con.execute("SELECT count(*) FROM queue").fetchone()[0]
con.close()

# A second run: nothing is due; forced, nothing is new.
p = run(*G, "run", "--json")
check(p.returncode == 0, "second run exits 0 (nothing due)", p.stderr)
s2 = jsonout(p, "second run") or {"sources": []}
check(all(s["status"] in ("not-due",) for s in s2["sources"]),
      "second run: every source not due yet", p.stdout[:400])
p = run(*G, "run", "--force", "--json")
s3 = jsonout(p, "forced run") or {"sources": []}
check(sum(s["new"] for s in s3["sources"]) == 0,
      "forced re-run stores no duplicates", p.stdout[:600])
con = sqlite3.connect(db)
check(con.execute("SELECT count(*) FROM mentions").fetchone()[0] == total,
      "mention count unchanged after re-run")
check(con.execute("SELECT count(*) FROM queue").fetchone()[0] == queued,
      "queue unchanged after re-run")
con.close()

# The queue: most urgent first, and every verb works on it.
p = run(*G, "queue", "list", "--json")
check(p.returncode == 0, "queue list --json", p.stderr)
q = jsonout(p, "queue list")
items = q.get("items", q) if isinstance(q, dict) else q
check(isinstance(items, list) and len(items) > 0, "queue list has items")
if items:
    sev_rank = {"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 0}
    ranks = [sev_rank.get(i.get("severity"), 0) for i in items
             if not i.get("overdue")]
    check(ranks == sorted(ranks, reverse=True),
          "queue list sorted by severity", str(ranks))
    first = items[0]["id"]
    p = run(*G, "queue", "show", str(first))
    check(p.returncode == 0 and "queued" in p.stdout, "queue show prints history",
          p.stdout[:300] + p.stderr)
    p = run(*G, "queue", "assign", str(first), "--to", "anna", "--as", "lead")
    check(p.returncode == 0, "queue assign", p.stderr)
    p = run(*G, "queue", "resolve", str(first), "--as", "anna")
    check(p.returncode == 0, "queue resolve", p.stderr)
    p = run(*G, "queue", "show", str(first), "--json")
    shown = jsonout(p, "queue show --json") or {}
    check("resolved" in p.stdout, "resolved state shown", p.stdout[:300])
p = run(*G, "queue", "show", "999999")
check(p.returncode == 1 and "999999" in p.stderr, "unknown queue id named",
      p.stderr)

p = run(*G, "digest", "--since", "7d", "--format", "md")
check(p.returncode == 0, "digest md", p.stderr)
check(len(p.stdout) > 200 and "#" in p.stdout, "digest has content",
      p.stdout[:300])

p = run(*G, "sources", "--json")
src = jsonout(p, "sources --json") or {"sources": []}
broken = [s for s in src["sources"] if s["name"] == "acme-partner"]
check(broken and broken[0]["failures"] >= 1 and broken[0]["last_error"],
      "sources shows the broken source's failures and error", str(broken))
finish()
