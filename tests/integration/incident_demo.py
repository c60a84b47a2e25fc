"""Complaint surges on the offline demo: earshot run on examples/demo.yml
must open one incident for the billing surge on villanyasz-social (14
complaints 08:04-08:55Z on 2026-11-23), name its first mention and top
terms, list it in `earshot incidents` (table, --json, show) and in the
digest (md, json, html); a second run must not open another; once the
pair has been quiet for two hours the next run closes it, and
`incidents --all` still shows it. No other pair of the demo reaches the
minimum."""
import json
import os
from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run

fresh_tmp()
cfg = os.path.join(SRC, "examples", "demo.yml")
db = os.path.join(TMP, "demo.db")
G = ["--config", cfg, "--db", db]
AT = {"EARSHOT_NOW": "2026-11-23T17:00:00Z"}

p = run(*G, "run", env=AT)
check(p.returncode == 3, "demo run exits 3 (one source broken on purpose)",
      f"exit {p.returncode}\n{p.stderr}")
check("new incident" in p.stderr, "run says an incident was opened",
      p.stderr)

# --json: exactly one open incident, the surge
p = run(*G, "incidents", "--json", env=AT)
check(p.returncode == 0, "incidents --json exits 0", p.stderr)
inc = jsonout(p, "incidents --json") or []
check(len(inc) == 1, "the demo has exactly one incident", json.dumps(inc))
i = inc[0] if inc else {}
check(i.get("state") == "open", "the incident is open", str(i))
check(i.get("brand") == "Villanyász", "it is about Villanyász", str(i))
check(i.get("category") == "billing", "it is about billing", str(i))
check(i.get("team") == "billing", "its team is billing", str(i))
check(i.get("count", 0) >= 14, "it groups the 14 surge complaints",
      str(i.get("count")))
check(i.get("peak", 0) >= 14 and i.get("window") == 3600,
      "14 within one hour", str(i))
check(i.get("started") == "2026-11-23T08:04:00Z",
      "it started with the first surge post", str(i.get("started")))
check(i.get("threshold") == 10 and i.get("baseline") is None,
      "no history: the minimum of 10 applied", str(i))
first = i.get("first_mention") or {}
check(first.get("url") == "https://social.example.hu/post/vs-2007",
      "the first mention is vs-2007", str(first))
check("27%" in (first.get("text") or ""), "the first mention's text is "
      "there", str(first))
terms = i.get("terms") or []
check(len(terms) >= 3, "top terms are named", str(terms))
check(any("számla" in t or "áfa" in t for t in terms),
      "the top terms are about the invoice", str(terms))
check("no history" in (i.get("reason") or ""), "the reason says why",
      str(i.get("reason")))

# the table and show
p = run(*G, "incidents", env=AT)
check(p.returncode == 0 and "#1 open" in p.stdout and "Villanyász" in
      p.stdout and "billing" in p.stdout, "incidents lists it", p.stdout)
check("vs-2007" in p.stdout, "the table shows the first mention's link",
      p.stdout)
p = run(*G, "incidents", "show", "1", "--json", env=AT)
one = jsonout(p, "incidents show --json") or {}
members = one.get("mentions") or []
check(len(members) == i.get("count"), "show lists every mention",
      f"{len(members)} vs {i.get('count')}")
check(all(m.get("category") == "billing" for m in members),
      "every member is a billing complaint")
check(all(m.get("brand") == "Villanyász" for m in members),
      "every member is about Villanyász")
p = run(*G, "incidents", "show", "1", env=AT)
check(p.returncode == 0 and "mentions:" in p.stdout, "show prints a table",
      p.stdout)

# the digest shows the period's incident
p = run(*G, "digest", "--since", "7d", "--format", "json", env=AT)
d = jsonout(p, "digest json") or {}
check(len(d.get("incidents", [])) == 1 and
      d["incidents"][0].get("category") == "billing",
      "the digest JSON has the incident", str(d.get("incidents")))
p = run(*G, "digest", "--since", "7d", env=AT)
check("## Incidents" in p.stdout and "#1 open" in p.stdout,
      "the Markdown digest has an Incidents section", p.stdout[:2000])
p = run(*G, "digest", "--since", "7d", "--format", "html", env=AT)
check("<h2>Incidents</h2>" in p.stdout, "the HTML digest has it too")
# a digest of a day before has none
p = run(*G, "digest", "--since", "2026-11-20", "--until", "2026-11-21",
        "--format", "json", env=AT)
d = jsonout(p, "digest json earlier") or {}
check(d.get("incidents") == [], "an earlier period has no incident",
      str(d.get("incidents")))

# a second run: nothing new, no second incident
p = run(*G, "run", "--force", env={"EARSHOT_NOW": "2026-11-23T17:30:00Z"})
check(p.returncode == 3, "second run exits 3", p.stderr)
check("new incident" not in p.stderr, "a second run reports no new "
      "incident", p.stderr)
p = run(*G, "incidents", "--all", "--json", env=AT)
check(len(jsonout(p, "incidents --all") or []) == 1,
      "a second run opens nothing", p.stdout)

# quiet for two hours after the last addition (17:00): closed at 19:00
p = run(*G, "run", env={"EARSHOT_NOW": "2026-11-23T18:59:00Z"})
p = run(*G, "incidents", "--json", env=AT)
check(len(jsonout(p, "incidents before quiet") or []) == 1,
      "still open before two quiet hours", p.stdout)
p = run(*G, "run", env={"EARSHOT_NOW": "2026-11-23T19:00:00Z"})
p = run(*G, "incidents", "--json", env=AT)
check(jsonout(p, "incidents after quiet") == [],
      "closed after two quiet hours", p.stdout)
p = run(*G, "incidents", env=AT)
check("No open incidents" in p.stdout, "the table says none is open",
      p.stdout)
p = run(*G, "incidents", "--all", "--json", env=AT)
allinc = jsonout(p, "incidents --all after close") or []
check(len(allinc) == 1 and allinc[0].get("state") == "closed" and
      allinc[0].get("closed") == "2026-11-23T19:00:00Z",
      "--all shows it closed at 19:00", p.stdout)

# usage
p = run(*G, "incidents", "--help")
check(p.returncode == 0 and "usage: earshot incidents" in p.stdout,
      "incidents --help")
p = run(*G, "incidents", "frobnicate")
check(p.returncode == 2, "an unknown verb is a usage error", p.stderr)
p = run(*G, "incidents", "show", "x1")
check(p.returncode == 2, "a bad id is a usage error", p.stderr)
p = run(*G, "incidents", "show", "99")
check(p.returncode == 1 and "no incident #99" in p.stderr,
      "an unknown id fails with words", p.stderr)

# a bad incidents map: run still works, says why, names the line
bad = os.path.join(TMP, "bad.yml")
with open(cfg, encoding="utf-8") as f:
    text = f.read()
text = text.replace("store: ./demo.db", "store: ./demo.db\nincidents: "
                    "{window: 1h, min_cuont: 3}")
text = text.replace("url: feeds/", "url: " + os.path.join(
    SRC, "examples", "feeds") + "/")
text = text.replace("rules: [../rules]", "rules: [" + os.path.join(
    SRC, "rules") + "]")
with open(bad, "w", encoding="utf-8") as f:
    f.write(text)
p = run("--config", bad, "--db", os.path.join(TMP, "bad.db"), "run",
        env=AT)
check(p.returncode == 3, "run with a bad incidents map still runs",
      p.stderr)
check("min_cuont" in p.stderr and "bad.yml:" in p.stderr,
      "the bad key is named with its file and line", p.stderr)

finish()
