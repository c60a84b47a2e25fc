"""Bad input at every door gets a clear message naming the place, and loses
nothing already stored: usage errors, malformed config, missing rule file,
broken regex, unreadable and locked store, malformed feed, invalid UTF-8."""
import os
import sqlite3
import threading
import time
from _harness import (SRC, TMP, check, finish, fresh_tmp, jsonout, run, write)

fresh_tmp()

# --- usage errors: exit 2, message on stderr, nothing on stdout
p = run("frobnicate")
check(p.returncode == 2, "unknown command exits 2", str(p.returncode))
check("unknown command 'frobnicate'" in p.stderr, "unknown command named", p.stderr)
p = run("queu")
check("did you mean 'queue'" in p.stderr, "near-miss command suggested", p.stderr)
p = run("run", "--bogus")
check(p.returncode == 2 and p.stdout == "", "bad option exits 2", p.stderr)
p = run()
check(p.returncode == 2, "no command exits 2")
for cmd in ("run", "sources", "parse", "check", "queue", "digest", "rules", "eval"):
    p = run(cmd, "--help")
    check(p.returncode == 0 and "usage" in p.stdout.lower(),
          f"{cmd} --help prints usage on stdout", p.stdout[:200] + p.stderr[:200])
p = run("--version")
check(p.returncode == 0 and p.stdout.startswith("earshot "), "--version")

# --- a good config and store to protect
feed = write("feeds/good.xml", """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Good</title><link>https://example.org/</link>
<item><guid>g1</guid><title>Hibás számla</title>
<description>Kétszer vonták le a havidíjat, senki nem veszi fel a telefont.</description>
<pubDate>Mon, 23 Nov 2026 10:00:00 +0100</pubDate></item>
<item><guid>g2</guid><title>Szuper</title>
<description>Gyors és kedves ügyintézés, köszönöm!</description></item>
</channel></rss>
""")
good = write("good.yml", """store: ./store.db
brands: [{name: Acme, aliases: [acme]}]
sources:
  - {name: good, url: feeds/good.xml, brand: Acme}
""")
db = os.path.join(TMP, "store.db")
p = run("--config", good, "run")
check(p.returncode == 0, "good config runs", p.stderr)


def snapshot():
    con = sqlite3.connect(db)
    rows = [con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("mentions", "verdicts", "queue", "sources")]
    con.close()
    return rows


before = snapshot()
check(len(before[0]) == 2, "two mentions stored", str(len(before[0])))


def bad_config(name, text, where, words):
    path = write(name, text)
    p = run("--config", path, "run")
    check(p.returncode == 1, f"{name}: exit 1", f"exit {p.returncode}")
    if where is not None:
        check(f"{path}:{where}" in p.stderr, f"{name}: error names {path}:{where}",
              p.stderr)
    check(words in p.stderr, f"{name}: error says '{words}'", p.stderr)
    check(snapshot() == before, f"{name}: store unchanged")


bad_config("typo.yml", "store: ./store.db\nsoruces: []\n", "2:1:",
           "did you mean 'sources'")
bad_config("badyaml.yml", "store: ./store.db\nsources: [\n  - {name: x\n", "", "")
bad_config("badinterval.yml",
           "store: ./store.db\nsources:\n  - {name: good, url: feeds/good.xml, interval: often}\n",
           "3:", "not a duration")
# The missing pack is named by its own path, resolved against the config.
bad_config("norules.yml",
           "store: ./store.db\nrules: [missing-pack.yml]\nsources:\n  - {name: good, url: feeds/good.xml}\n",
           None, os.path.join(TMP, "missing-pack.yml"))
p = run("--config", os.path.join(TMP, "nope.yml"), "run")
check(p.returncode == 1 and "nope.yml" in p.stderr, "missing config file named", p.stderr)
write("latin2.yml", "store: ./store.db\n# \xe1rv\xedz\n".encode("latin-1").decode("latin-1"), "w")
with open(os.path.join(TMP, "latin2.yml"), "wb") as f:
    f.write(b"store: ./store.db\n# \xe1rv\xedz\n")
p = run("--config", os.path.join(TMP, "latin2.yml"), "run")
check(p.returncode == 1 and "UTF-8" in p.stderr, "non-UTF-8 config refused", p.stderr)

# --- the store: not a database, a path that cannot be created, locked
notdb = write("notdb.db", "this is a text file, not an SQLite database at all.\n" * 20)
p = run("--config", good, "--db", notdb, "run")
check(p.returncode == 1 and "notdb.db" in p.stderr and "not a database" in p.stderr,
      "a non-database store is refused by name", p.stderr)
p = run("--config", good, "--db", os.path.join(notdb, "sub", "x.db"), "run")
check(p.returncode == 1 and "notdb.db" in p.stderr, "uncreatable store path named",
      p.stderr)

# Lock the store for writing from another connection: run must fail cleanly
# after its busy timeout, then succeed once the lock is gone.
write("feeds/good.xml", open(feed).read().replace(
    "</channel>", "<item><guid>g3</guid><title>Új</title><description>"
    "Elveszett a csomagom, két hete nem jön.</description></item></channel>"))
con = sqlite3.connect(db, isolation_level=None, timeout=0)
con.execute("BEGIN EXCLUSIVE")
p = run("--config", good, "run", "--force")
check(p.returncode == 1, "run on a locked store exits 1", f"{p.returncode} {p.stderr}")
check("locked" in p.stderr, "locked store named as locked", p.stderr)
con.execute("ROLLBACK")
con.close()
check(snapshot()[0] == before[0], "locked run stored nothing half")
p = run("--config", good, "run", "--force")
check(p.returncode == 0, "after the lock, run succeeds", p.stderr)
check(len(snapshot()[0]) == 3, "the new item is stored after the lock")

# --- malformed feed and invalid UTF-8: the source fails alone / is repaired
# No root element at all: nothing libxml2 can recover.
write("feeds/broken.xml", "<?xml version=\"1.0\"?>\n<!-- generated -->\n"
      "PHP Fatal error: Allowed memory size exhausted in feed.php on line 3\n")
write("feeds/badutf.xml", "")
with open(os.path.join(TMP, "feeds/badutf.xml"), "wb") as f:
    # Mostly good UTF-8 with a few stray bytes: damaged, not another charset.
    f.write(b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            b'<title>t</title><item><guid>u1</guid><title>Sz\xc3\xa1mla</title>'
            b'<description>rossz \xff\xfe b\xc3\xa1jt \xc5\x91rj\xc3\xadt\xc5\x91'
            b'</description></item></channel></rss>')
mixed = write("mixed.yml", """store: ./mixed.db
sources:
  - {name: good, url: feeds/good.xml}
  - {name: broken, url: feeds/broken.xml}
  - {name: badutf, url: feeds/badutf.xml}
  - {name: missing, url: feeds/does-not-exist.xml}
""")
p = run("--config", mixed, "run", "--json")
check(p.returncode == 3, "some sources failed: exit 3", f"{p.returncode} {p.stderr}")
out = jsonout(p, "mixed run") or {"sources": []}
st = {s["name"]: s for s in out["sources"]}
check(st.get("good", {}).get("status") == "ok" and st["good"]["new"] == 3,
      "the good source is processed despite broken ones", str(st.get("good")))
check(st.get("broken", {}).get("status") == "failed" and st["broken"]["error"],
      "malformed feed fails with a reason", str(st.get("broken")))
check(st.get("missing", {}).get("status") == "failed" and st["missing"]["error"],
      "missing file fails with a reason", str(st.get("missing")))
check(st.get("badutf", {}).get("status") == "ok", "invalid UTF-8 is repaired, not fatal",
      str(st.get("badutf")))
con = sqlite3.connect(os.path.join(TMP, "mixed.db"))
row = con.execute("SELECT title, text FROM mentions WHERE source='badutf'").fetchone()
con.close()
check(row is not None and "\ufffd" in (row[0] or "") + (row[1] or ""),
      "invalid bytes became U+FFFD", str(row))
finish()
