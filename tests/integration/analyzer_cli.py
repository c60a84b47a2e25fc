"""earshot check / rules / eval, end to end through the binary: the JSON
contracts, input-order JSON lines with bad lines reported and answered,
rule pack errors with file:line:col, usage errors, eval figures."""
import json
import os
import subprocess

from _harness import (EARSHOT, SRC, check, finish, fresh_tmp, jsonout, run,
                      write)

fresh_tmp()
RULES = {"EARSHOT_RULES": os.path.join(SRC, "rules")}

# --- check TEXT --------------------------------------------------------
p = run("check", "--json", "A számlán kétszer terhelték a kártyámat!",
        env=RULES)
check(p.returncode == 0, "check --json exits 0", p.stderr)
v = jsonout(p, "check --json")
if v:
    check(v["flag"] is True, "double charge flagged", p.stdout)
    check(v["lang"] == "hu", "language detected as hu", p.stdout)
    check("billing" in v["categories"], "billing category", p.stdout)
    check(v["severity"] in ("high", "critical"), "severity high", p.stdout)
    check(any(m["rule"] == "hu.billing.double-charge" for m in v["matches"]),
          "rule named in matches", p.stdout)
    text = "A számlán kétszer terhelték a kártyámat!"
    raw = text.encode()
    for m in v["matches"]:
        check(raw[m["start"]:m["end"]].decode() == m["text"],
              "match offsets are bytes into the text", json.dumps(m))
    check("billing complaint" in v["explain"], "explain in words",
          v["explain"])

p = run("check", "Thanks", "so", "much,", "great", "service!", env=RULES)
check(p.returncode == 0 and "not a complaint" in p.stdout,
      "praise is no complaint (words joined)", p.stdout + p.stderr)

p = run("check", "--rating", "1", "--lang", "en", "It arrived.", env=RULES)
check("COMPLAINT" in p.stdout, "1-star rating flags a neutral text", p.stdout)

p = run("check", "--lang", "fr", "x", env=RULES)
check(p.returncode == 2, "bad --lang is a usage error", p.stderr)
p = run("check", "--rating", "9", "x", env=RULES)
check(p.returncode == 2, "bad --rating is a usage error", p.stderr)
p = run("check", env=RULES)
check(p.returncode == 2 and "check --help" in p.stderr,
      "missing TEXT is a usage error", p.stderr)
p = run("check", "--help")
check(p.returncode == 0 and "--jsonl" in p.stdout, "check --help", p.stdout)

# --- check --jsonl -------------------------------------------------------
lines = [
    json.dumps({"id": "a1", "text": "My package never arrived and nobody "
                "answers the phone."}),
    "{not json",
    json.dumps({"id": 7, "text": "Love it, works perfectly!", "lang": "en"}),
    json.dumps({"id": "no-text"}),
    "",
    json.dumps({"id": "h1", "text": "Nem működik a termék, elromlott.",
                "rating": 1}),
    json.dumps({"id": "tab", "text": "quote \" and\ttab and \\ slash \u0001"}),
    json.dumps({"id": "bad-lang", "text": "x", "lang": "de"}),
]
p = run("check", "--jsonl", stdin="\n".join(lines) + "\n", env=RULES)
check(p.returncode == 1, "bad lines make the exit status 1", p.stderr)
out = p.stdout.splitlines()
check(len(out) == 7, "one output line per non-empty input line", p.stdout)
rows = []
for i, line in enumerate(out):
    try:
        rows.append(json.loads(line))
    except ValueError:
        check(False, f"output line {i + 1} is JSON", line)
        rows.append({})
if len(rows) == 7:
    keys = ["id", "flag", "score", "severity", "categories", "lang",
            "matches"]
    check(list(rows[0].keys()) == keys, "verdict keys in contract order",
          out[0])
    check(rows[0]["id"] == "a1" and rows[0]["flag"] is True,
          "first line flagged, id kept", out[0])
    check("delivery" in rows[0]["categories"], "delivery category", out[0])
    for m in rows[0]["matches"]:
        check(set(m.keys()) == {"rule", "start", "end", "text"},
              "match keys", json.dumps(m))
    check(rows[1].get("id") is None and "error" in rows[1],
          "malformed line answered with an error", out[1])
    check(rows[2]["id"] == 7 and rows[2]["flag"] is False,
          "numeric id kept, praise not flagged", out[2])
    check(rows[3]["id"] == "no-text" and "text" in rows[3].get("error", ""),
          "line without text answered", out[3])
    check(rows[4]["id"] == "h1" and rows[4]["flag"] is True and
          rows[4]["lang"] == "hu", "hu defect flagged", out[4])
    check(rows[5]["id"] == "tab", "escapes survive", out[5])
    check(rows[6]["id"] == "bad-lang" and "language" in rows[6].get(
        "error", ""), "unknown per-line language answered", out[6])
check("<stdin>:2:" in p.stderr and "<stdin>:4:" in p.stderr,
      "errors name the line numbers", p.stderr)

# The --jsonl reader finds the fields without building whole objects;
# every line must still read as JSON does (jansson decides what is valid):
# escapes in keys and values, nested and duplicate fields (the last one
# wins), and each kind of bad line, whatever field it is in.
tricky = [
    ('{"id": "e1", "text": "caf\\u00e9 \\"late\\" \\ud83d\\ude21 never '
     'arrived\\n", "x": {"a": [1, {"b": "}"}]}, "lang": "en", '
     '"votes": [-1, 0]}'),
    '{"t\\u0065xt": "the parcel never arrived", "id": "e2"}',
    '{"id": "e3", "text": "fine", "text": "the parcel never arrived"}',
    '  {"id" : 12.5e1 , "text" : "ok thanks" , "lang" : "en" }  ',
    '{"id": "e5", "text": "x", "extra": "bad \\q escape"}',
    '{"id": "e6", "text": "x", "extra": "raw\ttab"}',
    '{"id": "e7", "text": "x"} trailing',
    '{"id": "e8", "text": "x", "n": 01}',
    '{"id": "e9", "text": "x", "nested": {"a": [1, 2}}',
    '{"id": "e10", "text": 5}',
    '[1, 2]',
    '{"id": "e12", "text": "x", "lang": "english"}',
    '{"id": {"k": "v"}, "text": "the parcel never arrived", "rating": 1}',
]
p = run("check", "--jsonl", stdin="\n".join(tricky) + "\n", env=RULES)
outl = p.stdout.splitlines()
check(len(outl) == len(tricky), "one answer per tricky line", p.stdout)
got = []
for line in outl:
    try:
        got.append(json.loads(line))
    except ValueError:
        check(False, "tricky answer is JSON", line)
        got.append({})
if len(got) == len(tricky):
    ok = {0, 1, 2, 3, 12}
    for i, row in enumerate(got):
        if i in ok:
            check("flag" in row, f"tricky line {i + 1} analysed",
                  json.dumps(row))
        else:
            check("error" in row and "flag" not in row,
                  f"tricky line {i + 1} refused", json.dumps(row))
    texts = [m["text"] for m in got[0].get("matches", [])]
    check(got[0].get("id") == "e1" and got[0].get("flag") is True and
          "\U0001F621" in texts and "late" in texts,
          "escaped text decoded (quotes, surrogate pair)", json.dumps(got[0]))
    m = [m for m in got[0].get("matches", []) if m["text"] == "late"]
    check(m and m[0]["start"] == len('café "'.encode()),
          "offsets count the decoded bytes", json.dumps(m))
    check(got[1]["id"] == "e2" and got[1]["flag"] is True,
          "escaped key read as text", json.dumps(got[1]))
    check(got[2]["id"] == "e3" and got[2]["flag"] is True,
          "the last duplicate field wins", json.dumps(got[2]))
    check(got[3]["id"] == 125 and got[3]["flag"] is False,
          "number id and spacing", json.dumps(got[3]))
    check(got[11]["id"] == "e12" and "english" in got[11]["error"],
          "bad language named", json.dumps(got[11]))
    check(got[12]["id"] == {"k": "v"} and got[12]["flag"] is True,
          "object id echoed, rating read", json.dumps(got[12]))
check(p.returncode == 1, "tricky bad lines make the exit status 1")
# invalid UTF-8 anywhere in a line, even in a field nobody reads
e = dict(os.environ, NO_COLOR="1", **RULES)
b = subprocess.run([EARSHOT, "check", "--jsonl"], capture_output=True,
                   input=b'{"id": "e14", "text": "x", "extra": "\xff"}\n'
                         b'{"id": "e15", "text": "late"}\n', env=e)
outb = b.stdout.decode().splitlines()
check(len(outb) == 2 and "error" in json.loads(outb[0]) and
      json.loads(outb[1])["id"] == "e15",
      "invalid UTF-8 refused, the next line read", b.stdout.decode())

p = run("check", "--jsonl", stdin="", env=RULES)
check(p.returncode == 0 and p.stdout == "", "empty input, empty output",
      p.stderr)

# --- rules test / list / lint ------------------------------------------
p = run("rules", "test", env=RULES)
check(p.returncode == 0, "shipped packs pass their tests", p.stdout[-2000:])
check(" passed, 0 failed" in p.stdout, "test summary", p.stdout[-300:])

p = run("rules", "list", "--json", env=RULES)
rules = jsonout(p, "rules list --json")
if rules:
    ids = [r["id"] for r in rules]
    check(len(ids) == len(set(ids)) and len(ids) > 40, "rule ids unique",
          str(len(ids)))
    cats = {r["category"] for r in rules}
    for c in ["billing", "delivery", "defect", "refund", "warranty",
              "support", "staff", "pricing", "account", "technical",
              "churn", "legal", "safety"]:
        check(c in cats, f"category {c} covered")
    check(all(r["severity"] == "critical" for r in rules
              if r["category"] in ("legal", "safety")),
          "legal and safety rules are critical")
    check(all(r["tests"] > 0 for r in rules), "every rule has tests")

p = run("rules", "list", "--lang", "hu", "--category", "billing", env=RULES)
check(p.returncode == 0 and "hu.billing." in p.stdout and
      "en.billing" not in p.stdout, "rules list filters", p.stdout)

p = run("rules", "lint", env=RULES)
check(p.returncode == 0 and "0 errors" in p.stdout, "shipped packs lint",
      p.stdout)
p = run("rules", env=RULES)
check(p.returncode == 2, "rules without subcommand is a usage error")
p = run("rules", "frobnicate", env=RULES)
check(p.returncode == 2, "unknown rules subcommand is a usage error")

# a failing embedded test is reported with file:line and exit 1
bad = write("packs/bad.yml", """lang: en
rules:
  - id: t.refund
    description: refund
    category: refund
    severity: low
    terms: [refund]
    tests:
      fire: ["where is my refund", "this one will not fire"]
      quiet: ["no money back"]
""")
p = run("rules", "test", env={"EARSHOT_RULES": bad})
check(p.returncode == 1, "failing rule test exits 1", p.stdout + p.stderr)
check(f"{bad}:9: t.refund: expected fire: \"this one will not fire\""
      in p.stdout, "failure names file:line, rule and text", p.stdout)
check("2 passed, 1 failed" in p.stdout, "failure summary", p.stdout)

# lint: overlapping rules and rules no embedded test fires, as JSON and
# as file:line warnings (exit 0: warnings only); an own 'not' that
# silences a rule is an error (exit 1)
over = write("packs/lint/over.yml", """lang: en
defaults: {severity: low}
rules:
  - id: t.wide
    description: wide
    category: delivery
    terms: ["late*", parcel]
    tests: {fire: ["parcel late"]}
  - id: t.narrow
    description: narrow
    category: delivery
    all: ["late delivery", {any: [again, still]}]
    tests: {fire: ["late delivery again"]}
  - id: t.idle
    description: idle
    category: refund
    terms: [chargeback]
    tests: {fire: ["charge back please"]}
""")
p = run("rules", "lint", "--json", env={"EARSHOT_RULES": over})
found = jsonout(p, "rules lint --json")
if isinstance(found, dict):
    found = found.get("findings", [])
msgs = json.dumps(found)
check(p.returncode == 0, "warnings alone exit 0", p.stdout + p.stderr)
check("t.narrow" in msgs and "overlapping: every text" in msgs and
      "t.wide" in msgs, "overlapping rule named with the one covering it",
      msgs)
check("t.idle" in msgs and "no embedded test makes it fire" in msgs,
      "rule no test fires is named", msgs)
p = run("rules", "lint", env={"EARSHOT_RULES": over})
check(f"{over}:9: warning: t.narrow: overlapping" in p.stdout,
      "lint warnings read file:line", p.stdout)
dead = write("packs/lint2/dead.yml", """lang: en
rules:
  - id: t.dead
    description: dead
    category: refund
    severity: low
    terms: [refund]
    not: ["refund*"]
    tests: {fire: ["refund"]}
""")
p = run("rules", "lint", env={"EARSHOT_RULES": dead})
check(p.returncode == 1 and "unreachable" in p.stdout,
      "a rule its own 'not' silences is an error", p.stdout + p.stderr)

# broken packs stop every command with file:line:col
broken = write("packs/broken.yml", """lang: en
rules:
  - id: t.x
    description: x
    category: billing
    severity: high
    regex: 'charged (twice'
""")
p = run("check", "x", env={"EARSHOT_RULES": broken})
check(p.returncode == 1, "broken regex fails the command", p.stderr)
check(f"{broken}:7:" in p.stderr and "bad regex" in p.stderr,
      "broken regex names file:line:col", p.stderr)
typo = write("packs/typo.yml", """lang: en
rules:
  - id: t.x
    description: x
    category: billing
    severty: high
    terms: [x]
""")
p = run("rules", "list", env={"EARSHOT_RULES": typo})
check(p.returncode == 1 and f"{typo}:6:5:" in p.stderr and
      "did you mean 'severity'" in p.stderr, "unknown key suggests nearest",
      p.stderr)
p = run("rules", "list", env={"EARSHOT_RULES": os.path.join(
    "/nonexistent", "rules.yml")})
check(p.returncode == 1 and "/nonexistent/rules.yml" in p.stderr,
      "missing pack named", p.stderr)

# --- eval ----------------------------------------------------------------
data = write("eval.jsonl", "\n".join(json.dumps(d) for d in [
    {"id": "1", "text": "Worst airline ever, lost my bag again",
     "lang": "en", "label": "negative", "reason": "Lost Luggage"},
    {"id": "2", "text": "Thank you so much, great crew!", "lang": "en",
     "label": "other"},
    {"id": "3", "text": "Flight delayed 4 hours, no information",
     "lang": "en", "label": "negative", "reason": "Late Flight"},
    {"id": "4", "text": "What time does boarding start?", "lang": "en",
     "label": "other"},
    {"id": "5", "text": "A film unalmas és kiszámítható.", "lang": "hu",
     "label": "negative"},
    {"id": "6", "text": "Nice view from the window seat", "lang": "en",
     "label": "negative", "reason": "Bad Flight"},
]) + "\n")
p = run("eval", "--json", data, env=RULES)
check(p.returncode == 0, "eval exits 0", p.stderr)
ev = jsonout(p, "eval --json")
if ev:
    f = ev["files"][0]
    check((f["tp"], f["fp"], f["fn"], f["tn"]) == (3, 0, 1, 2),
          "confusion counts", json.dumps(f))
    check(abs(f["precision"] - 1.0) < 1e-9 and abs(f["recall"] - 0.75) < 1e-9,
          "precision and recall", json.dumps(f))
    check(abs(f["mcc"] - 0.7071) < 1e-3, "MCC", json.dumps(f))
    cats = {c["category"]: c for c in f["categories"]}
    check(cats.get("Bad Flight", {}).get("recall") == 0.0 and
          cats.get("Lost Luggage", {}).get("flagged") == 1,
          "per-category figures", json.dumps(f["categories"]))
    check(any(w["word"] == "window" for w in f["miss_words"]),
          "words in misses", json.dumps(f["miss_words"]))
p = run("eval", data, env=RULES)
check("MCC 0.707" in p.stdout and "confusion: TP 3  FP 0  FN 1  TN 2"
      in p.stdout, "eval human output", p.stdout)
badeval = write("bad.jsonl", '{"text": "x"}\n{"text": "y", "label": "neg"}\n')
p = run("eval", badeval, env=RULES)
check(p.returncode == 1 and "bad.jsonl:1:" in p.stderr and
      "bad.jsonl:2:" in p.stderr, "eval names bad lines", p.stderr)
p = run("eval", env=RULES)
check(p.returncode == 2, "eval without files is a usage error")

finish()
