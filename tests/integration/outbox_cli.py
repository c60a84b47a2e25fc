"""earshot outbox and the sinks' config on the command line: a sink with a
mistake never stops a run; its alerts wait, and both run and outbox say
why with file:line:col; once fixed, they go out (filtered by the fixed
sink). A JSON Lines sink on "-" writes to run's standard output. Alerts
for a sink taken out of the config wait and are reported."""
import json
import os
import socket
from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run, write

fresh_tmp()
feeds = os.path.join(SRC, "examples", "feeds")
head = f"""store: ./earshot.db
rules: [{os.path.join(SRC, "rules")}]
brands:
  - name: Acme
    aliases: [acme]
sources:
  - {{name: acme-reviews, url: {feeds}/acme-reviews.xml, brand: Acme, type: atom, lang: en}}
sinks:
"""
NOW = {"EARSHOT_NOW": "2026-11-23T17:00:00Z"}

# a typo in the severity (line 12)
cfg = write("earshot.yml", head + "  - name: file\n    type: jsonl\n"
            "    path: alerts.jsonl\n    severity: hihg\n")
G = ["--config", cfg]
p = run(*G, "run", env=NOW)
check(p.returncode == 0, "a misconfigured sink does not fail the run",
      p.stderr)
check("earshot.yml:12:15" in p.stderr and "hihg" in p.stderr,
      "run names the mistake with file:line:col", p.stderr)
check(not os.path.exists(os.path.join(TMP, "alerts.jsonl")),
      "nothing is written through the broken sink")
p = run(*G, "outbox", "--json", env=NOW)
rows = jsonout(p, "outbox --json") or []
check(len(rows) > 5 and all("hihg" in (r["last_error"] or "") for r in rows),
      "every alert waits, saying why", json.dumps(rows[:1]))
nwait = len(rows)

# fixed: the filter applies now (high and critical only), the rest skipped
write("earshot.yml", head + "  - name: file\n    type: jsonl\n"
      "    path: alerts.jsonl\n    severity: high\n")
p = run(*G, "run", env={"EARSHOT_NOW": "2026-11-23T17:01:00Z"})
check("warning" not in p.stderr, "no warning once fixed", p.stderr)
with open(os.path.join(TMP, "alerts.jsonl"), encoding="utf-8") as f:
    lines = [json.loads(x) for x in f]
check(0 < len(lines) < nwait, "only the alerts the fixed filter wants went "
      "out", f"{len(lines)} of {nwait}")
check(all(x["severity"] in ("high", "critical") for x in lines),
      "all of them high or critical")
p = run(*G, "outbox", "--all", "--json", env=NOW)
allrows = jsonout(p, "outbox --all --json") or []
states = {r["state"] for r in allrows}
check(states == {"sent", "skipped"}, "the rest are marked skipped",
      str(states))
check(len(allrows) == nwait, "no alert vanished", f"{len(allrows)}")
p = run(*G, "outbox", env=NOW)
check("Nothing waits" in p.stdout, "outbox says nothing waits", p.stdout)

# JSON Lines on "-": run's standard output, one object a line
cfg2 = write("stdout.yml", head.replace("./earshot.db", "./out.db") +
             "  - {name: out, type: jsonl, path: '-'}\n")
p = run("--config", cfg2, "run", env=NOW)
objs = []
for line in p.stdout.splitlines():
    if line.startswith("{"):
        objs.append(json.loads(line))
check(len(objs) > 5 and all(o["sink"] == "out" for o in objs),
      "the alerts are JSON lines on stdout", p.stdout[:300])
check("SOURCE" in p.stdout, "the summary table follows them")

# a sink taken out of the config: its alerts wait and are reported
with socket.socket() as s:  # a loopback port nobody listens on
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
cfg3 = write("gone.yml", head.replace("./earshot.db", "./gone.db") +
             f"  - {{name: later, type: webhook, "
             f"url: 'http://127.0.0.1:{closed}/x'}}\n")
p = run("--config", cfg3, "run", env=NOW)
write("gone.yml", head.replace("./earshot.db", "./gone.db")
      .replace("sinks:\n", "sinks: []\n"))
p = run("--config", cfg3, "run", env={"EARSHOT_NOW": "2026-11-23T18:00:00Z"})
check("sink 'later', which is not in the config any more" in p.stderr,
      "alerts for a removed sink are reported", p.stderr)

# usage
p = run(*G, "outbox", "list", "extra")
check(p.returncode == 2, "an extra argument is a usage error")
p = run(*G, "outbox", "retry", "--all")
check(p.returncode == 2, "--all is only for list")
finish()
