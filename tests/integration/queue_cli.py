"""earshot queue on the offline demo: list (priority order, filters, table,
--json), show (mention, verdict with highlighted matches, history), every
changing verb with its events and actors, bad ids reported while the others
are still changed, refused transitions, bulk changes by filter, and export
as CSV and JSON Lines. The clock is fixed with EARSHOT_NOW."""
import csv
import io
import json
import os
import sqlite3

from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run

fresh_tmp()
NOW = {"EARSHOT_NOW": "2026-11-23T20:00:00Z", "USER": "tester"}
cfg = os.path.join(SRC, "examples", "demo.yml")
db = os.path.join(TMP, "q.db")
G = ["--config", cfg, "--db", db]


def q(*args, env=None):
    e = dict(NOW)
    if env:
        e.update(env)
    return run(*G, "queue", *args, env=e)


def items(*args):
    p = q("list", "--json", "--limit", "0", *args)
    check(p.returncode == 0, f"queue list {' '.join(args)} exits 0",
          p.stderr)
    return jsonout(p, "queue list --json") or []


def show(qid):
    p = q("show", str(qid), "--json")
    check(p.returncode == 0, f"queue show {qid} --json exits 0", p.stderr)
    return jsonout(p, "queue show --json") or {}


def events():
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    return n


p = run(*G, "run", env=NOW)
check(p.returncode in (0, 3), "run on the demo succeeds (3: the broken "
      "source)", p.stderr)
open_items = items()
if not check(len(open_items) >= 5, "the demo queues at least 5 complaints",
             f"{len(open_items)} queued; are the rule packs in rules/?"):
    finish()

# Priority order: open, overdue first, then severity, rating (unrated last),
# reach (unknown last), age.
SEV = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def key(it):
    rating = it["rating"]
    reach = it["reach"]
    return (not it["overdue"], -SEV[it["severity"]],
            rating is None, rating or 0,
            reach is None, -(reach or 0), it["created"], it["id"])


check([i["id"] for i in open_items] ==
      [i["id"] for i in sorted(open_items, key=key)],
      "queue list is in priority order",
      str([(i["id"], i["severity"], i["overdue"]) for i in open_items]))
check(all(i["state"] in ("new", "assigned", "responded") for i in open_items),
      "queue list shows open items only by default")
for it in open_items:
    check(it["team"], f"#{it['id']} has a team")
    check(it["due"] and it["due"] > it["created"], f"#{it['id']} has a due "
          "time after its creation")

# The table: a header, every id, no colour (NO_COLOR and not a terminal).
p = q("list")
check(p.returncode == 0, "queue list (table) exits 0", p.stderr)
lines = p.stdout.splitlines()
check(lines and lines[0].split()[:3] == ["ID", "SEVERITY", "STATE"],
      "the table has a header", p.stdout[:300])
ids_in_table = {ln.split()[0].lstrip("!") for ln in lines[1:]}
check(ids_in_table == {str(i["id"]) for i in open_items},
      "the table lists every open item", p.stdout[:2000])
check("\033" not in p.stdout, "no colour when not on a terminal")
p = q("list", "--limit", "2", "--json")
check(len(jsonout(p, "limit") or []) == 2, "--limit 2 lists two items")

# Show: mention, verdict with matches that point into the text, history.
first = open_items[0]
s = show(first["id"])
check(s.get("item", {}).get("id") == first["id"], "show --json has the item")
check(s.get("verdict") and s["verdict"]["flag"] is True,
      "show --json has the flagged verdict")
hist = s.get("history") or []
check(hist and hist[0]["kind"] == "queued" and hist[0]["to"] == "new",
      "the history starts with 'queued'", str(hist))
text = (s.get("item", {}).get("text") or "").encode()
title = (s.get("item", {}).get("title") or "").encode()
for m in (s.get("verdict") or {}).get("matches", []):
    base = title if m["field"] == "title" else text
    check(0 <= m["start"] < m["end"] <= len(base),
          f"match {m['rule']} offsets lie in the {m['field']}", str(m))
    if m["text"] is not None:
        check(base[m["start"]:m["end"]].decode(errors="replace") == m["text"],
              f"match {m['rule']} offsets select its text", str(m))
p = q("show", str(first["id"]))
check(p.returncode == 0, "queue show exits 0", p.stderr)
check("History" in p.stdout and "queued" in p.stdout,
      "queue show prints the history", p.stdout)
has_text_match = any(m["field"] != "title"
                     for m in (s.get("verdict") or {}).get("matches", []))
if has_text_match:
    check("[[" in p.stdout and "]]" in p.stdout,
          "matches are highlighted with [[ ]] off a terminal", p.stdout)

# Changes, each recorded with its actor.
a, b, c = open_items[0]["id"], open_items[1]["id"], open_items[2]["id"]
p = q("assign", str(a), "--to", "anna", "--as", "bob", "--note", "call back")
check(p.returncode == 0, "assign exits 0", p.stderr)
it = show(a)
check(it["item"]["state"] == "assigned" and it["item"]["owner"] == "anna",
      "assign sets state and owner", str(it["item"]))
last = it["history"][-1]
check((last["kind"], last["actor"], last["from"], last["to"], last["note"]) ==
      ("assigned", "bob", "new", "assigned", "anna: call back"),
      "assign is recorded with actor and note", str(last))
check(last["at"] == "2026-11-23T20:00:00Z", "events use the fixed clock",
      str(last))

p = q("respond", str(a))
check(p.returncode == 0, "respond exits 0", p.stderr)
it = show(a)
check(it["item"]["state"] == "responded" and
      it["item"]["first_response"] == "2026-11-23T20:00:00Z",
      "respond sets the first response time", str(it["item"]))
check(it["history"][-1]["actor"] == "tester", "the actor defaults to $USER",
      str(it["history"][-1]))
p = q("resolve", str(a), "--note", "refund sent")
check(p.returncode == 0, "resolve exits 0", p.stderr)
n_before = events()
p = q("resolve", str(a))
check(p.returncode == 1 and f"#{a}" in p.stderr and "already resolved"
      in p.stderr, "resolving twice is refused with words",
      p.stderr)
p = q("assign", str(a), "--to", "x")
check(p.returncode == 1 and "reopen it first" in p.stderr,
      "assigning a resolved item is refused", p.stderr)
check(events() == n_before, "refused changes record nothing")
p = q("reopen", str(a))
check(p.returncode == 0 and show(a)["item"]["state"] == "assigned",
      "reopen brings an owned item back to assigned", p.stderr)

# Bad ids are named; the good ones are still changed.
p = q("note", str(b), "999999", "abc", str(c), "checked the invoice")
check(p.returncode == 1, "a bad id makes the exit status 1", p.stderr)
check("#999999" in p.stderr and "'abc'" in p.stderr,
      "each bad id is named", p.stderr)
for x in (b, c):
    last = show(x)["history"][-1]
    check(last["kind"] == "note" and last["note"] == "checked the invoice",
          f"#{x} got the note despite the bad ids", str(last))

# Dismiss: reasons are validated.
p = q("dismiss", str(b), "--reason", "boring")
check(p.returncode == 2 and "not-a-complaint" in p.stderr,
      "an unknown dismiss reason is a usage error", p.stderr)
p = q("dismiss", str(b))
check(p.returncode == 2, "dismiss without --reason is a usage error")
p = q("dismiss", str(b), "--reason", "not-a-complaint", "--as", "kata")
check(p.returncode == 0, "dismiss exits 0", p.stderr)
it = show(b)
check(it["item"]["state"] == "dismissed" and
      it["item"]["dismiss_reason"] == "not-a-complaint",
      "dismiss keeps the reason", str(it["item"]))
check(b not in [i["id"] for i in items()], "a dismissed item leaves the "
      "default list")
check(b in [i["id"] for i in items("--state", "dismissed")],
      "--state dismissed lists it")
check(b in [i["id"] for i in items("--all")], "--all lists it")
p = q("reopen", str(b))
check(p.returncode == 0 and show(b)["item"]["state"] == "new",
      "reopen brings an unowned item back to new", p.stderr)

# Route to another team.
p = q("route", str(c), "--to", "legal", "--note", "threatens to sue")
check(p.returncode == 0 and show(c)["item"]["team"] == "legal",
      "route moves the item to another team", p.stderr)

# Filters.
for flt, field in (("--team", "team"), ("--source", "source"),
                   ("--brand", "brand"), ("--lang", "lang")):
    value = open_items[0][field]
    if value:
        got = items(flt, value)
        check(got and all((i[field] or "").lower() == value.lower()
                          for i in got), f"{flt} filters", str(got)[:300])
cat = open_items[0]["category"]
if cat:
    got = items("--category", cat)
    check(got and all(cat in i["categories"] for i in got),
          "--category filters")
got = items("--owner", "anna")
check([i["id"] for i in got] == [a], "--owner filters", str(got)[:300])
got = items("--overdue")
check(all(i["overdue"] for i in got), "--overdue lists overdue items only")
p = q("list", "--state", "bogus")
check(p.returncode == 2 and "bogus" in p.stderr, "an unknown state is a "
      "usage error", p.stderr)

# Bulk by filter, with a dry run first.
team = open_items[3]["team"] if len(open_items) > 3 else open_items[0]["team"]
targets = [i["id"] for i in items("--team", team, "--state", "new")]
p = q("assign", "--team", team, "--state", "new", "--to", "peter",
      "--dry-run")
check(p.returncode == 0 and
      sorted(int(x.lstrip("#")) for x in p.stdout.split()) == sorted(targets),
      "--dry-run prints the items a filter selects", p.stdout + p.stderr)
check(all(i["owner"] != "peter" for i in items("--all")),
      "--dry-run changes nothing")
p = q("assign", "--team", team, "--state", "new", "--to", "peter")
check(p.returncode == 0, "bulk assign by filter exits 0", p.stderr)
check(sorted(i["id"] for i in items("--owner", "peter")) == sorted(targets),
      "bulk assign changed exactly the filtered items")
p = q("resolve")
check(p.returncode == 2, "a change with neither ids nor filter is a usage "
      "error")
p = q("resolve", str(a), "--team", "x")
check(p.returncode == 2, "ids and a filter together are a usage error")

# Export.
everything = items("--all")
p = q("export", "--format", "csv", "--all")
check(p.returncode == 0, "export csv exits 0", p.stderr)
rows = list(csv.DictReader(io.StringIO(p.stdout, newline="")))
check([int(r["id"]) for r in rows] == [i["id"] for i in everything],
      "CSV export has every item in list order")
check(rows and set(rows[0]) >= {"id", "severity", "state", "team", "owner",
                                "source", "url", "title", "text"},
      "CSV export has the expected columns", str(rows[:1]))
out = os.path.join(TMP, "export", "q.jsonl")
p = q("export", "--format", "jsonl", "--all", "--out", out)
check(p.returncode == 0 and p.stdout == "", "export --out writes the file",
      p.stderr)
with open(out, encoding="utf-8") as f:
    lines = [json.loads(x) for x in f]
check([x["id"] for x in lines] == [i["id"] for i in everything],
      "JSON Lines export has every item")
p = q("export", "--format", "xml")
check(p.returncode == 2, "an unknown export format is a usage error")

# Usage.
p = q("--help")
check(p.returncode == 0 and "usage: earshot queue" in p.stdout,
      "queue --help prints usage on stdout")
p = q("asign", "1")
check(p.returncode == 2 and "assign" in p.stderr,
      "an unknown verb suggests the nearest", p.stderr)
p = q("list", "--limit", "many")
check(p.returncode == 2, "a bad --limit is a usage error")
p = q("show", "--reason", "spam", "1")
check(p.returncode == 2, "an option a verb does not take is a usage error")
p = q("show", "424242")
check(p.returncode == 1 and "#424242" in p.stderr,
      "show of an unknown id names it", p.stderr)

finish()
