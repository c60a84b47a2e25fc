"""earshot rules stats: the team's judgement flows back to the rules. On
the offline demo, two items a rule flagged are dismissed as not a
complaint and one is resolved: that rule's precision must read 1/3, most
false alarms first, in the table and in JSON; --since limits the verdicts
counted."""
import os
import sqlite3
from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run

fresh_tmp()
cfg = os.path.join(SRC, "examples", "demo.yml")
db = os.path.join(TMP, "demo.db")
G = ["--config", cfg, "--db", db]
NOW = {"EARSHOT_NOW": "2026-11-23T17:00:00Z", "USER": "tester"}

p = run(*G, "run", env=NOW)
check(p.returncode == 3, "demo run", p.stderr)

p = run(*G, "rules", "stats", "--json", env=NOW)
before = {r["rule"]: r for r in (jsonout(p, "rules stats --json") or [])}
check(len(before) > 5, "rules stats lists the rules seen", str(len(before)))
check(all(r["precision"] is None for r in before.values()),
      "no precision before the team judged anything")

con = sqlite3.connect(db)
rule = "hu.billing.dispute"
ids = [r[0] for r in con.execute(
    "SELECT q.id FROM queue q JOIN verdicts v ON v.mention_id = q.mention_id"
    " WHERE EXISTS (SELECT 1 FROM json_each(v.matches) j"
    " WHERE json_extract(j.value, '$.rule') = ?) ORDER BY q.id", (rule,))]
check(len(ids) >= 3, f"{rule} flagged at least three queued items",
      str(ids))
p = run(*G, "queue", "dismiss", str(ids[0]), str(ids[1]), "--reason",
        "not-a-complaint", env=NOW)
check(p.returncode == 0, "dismiss two as not a complaint", p.stderr)
p = run(*G, "queue", "resolve", str(ids[2]), env=NOW)
check(p.returncode == 0, "resolve one", p.stderr)

p = run(*G, "rules", "stats", "--json", env=NOW)
rows = jsonout(p, "rules stats --json after") or []
r = next((x for x in rows if x["rule"] == rule), {})
check(r.get("hits") == before[rule]["hits"], "hits unchanged", str(r))
check(r.get("not_a_complaint") == 2 and r.get("dismissed") == 2,
      "two false alarms", str(r))
check(r.get("confirmed") == 1, "one confirmed", str(r))
check(abs((r.get("precision") or 0) - 1 / 3) < 1e-6, "precision 1/3",
      str(r))
check(rows and rows[0]["not_a_complaint"] >= 2,
      "most false alarms first", str(rows[:1]))

p = run(*G, "rules", "stats", env=NOW)
check(p.returncode == 0 and "PRECISION" in p.stdout and rule in p.stdout
      and "33%" in p.stdout, "the table shows the precision", p.stdout[:600])
p = run(*G, "rules", "stats", "--since", "1h", "--json",
        env={"EARSHOT_NOW": "2026-11-24T17:00:00Z"})
check(jsonout(p, "rules stats --since") == [],
      "--since 1h a day later counts nothing", p.stdout[:200])
p = run(*G, "rules", "stats", "--since", "soon")
check(p.returncode == 2, "a bad --since is a usage error", p.stderr)
p = run(*G, "rules", "stats", "--help")
check(p.returncode == 0 and "precision" in p.stdout, "rules stats --help")
finish()
