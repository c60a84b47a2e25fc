"""Every real-world feed file in ../shared/fixtures/feeds goes through
`earshot parse`: none may crash or trip a sanitizer (a clean parse error is
allowed), and on the entries Debian's python3-feedparser finds, earshot must
agree on title, link and published time for at least 97% of them.

Where the two disagree by design (feedparser keeps markup and Google's
redirect links, reads no JSON Feed, takes an Atom tag: id for a link) the
disagreement still counts against the 97%; they are listed in
tests/fixtures/feeds/README.md."""

import json
import os
import subprocess
import sys
import time

EARSHOT = os.environ["EARSHOT"]
SHARED = os.environ.get("EAR_SHARED",
                        os.path.join(os.environ.get("EAR_SRC", "."), "..",
                                     "shared"))
ROOT = os.path.join(SHARED, "fixtures", "feeds")

try:
    import feedparser
except ImportError:
    # Debian's python3-feedparser lives with the system interpreter; a
    # pyenv or venv python3 may not see it.
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != "/usr/bin/python3" and \
            not os.environ.get("EAR_REEXEC"):
        os.environ["EAR_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    feedparser = None

if not os.path.isdir(ROOT):
    print("no shared fixtures at %s" % ROOT, file=sys.stderr)
    sys.exit(1)

files = []
for dirpath, dirnames, filenames in os.walk(ROOT):
    dirnames.sort()
    for name in sorted(filenames):
        if not name.endswith((".tsv", ".md")):
            files.append(os.path.join(dirpath, name))

failures = []
total = agree = 0
disagreements = []
for path in files:
    r = subprocess.run([EARSHOT, "parse", path], capture_output=True,
                       timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode not in (0, 1) or "Sanitizer" in err \
            or "runtime error" in err:
        failures.append("%s: exit %d: %s" % (path, r.returncode, err[:800]))
        continue
    if r.returncode == 1:
        if not err.startswith("earshot: %s" % path):
            failures.append("%s: error does not name the file: %r"
                            % (path, err))
        ours = []
    else:
        try:
            ours = json.loads(r.stdout)["items"]
        except ValueError as e:
            failures.append("%s: stdout is not JSON: %s" % (path, e))
            continue
        for it in ours:
            if not it.get("key"):
                failures.append("%s: item without a key" % path)
    if feedparser is None:
        continue
    fp = feedparser.parse(path)
    for i, e in enumerate(fp.entries):
        total += 1
        if i >= len(ours):
            disagreements.append((path, i, "missing entry"))
            continue
        o = ours[i]
        probs = []
        t = e.get("title")
        if (" ".join((t or "").split()) or None) != (o["title"] or None):
            probs.append(("title", o["title"], t))
        if (e.get("link") or None) != (o["link"] or None):
            probs.append(("link", o["link"], e.get("link")))
        pp = e.get("published_parsed") or e.get("updated_parsed")
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", pp) if pp else None
        if ts != o["published"]:
            probs.append(("published", o["published"], ts))
        if probs:
            disagreements.append((path, i, probs))
        else:
            agree += 1

print("%d files parsed" % len(files))
if feedparser is not None and total:
    ratio = agree / total
    print("agreement with feedparser: %d/%d entries = %.1f%%"
          % (agree, total, 100 * ratio))
    for d in disagreements:
        print("  disagree:", str(d)[:300])
    if ratio < 0.97:
        failures.append("agreement %.1f%% is below 97%%" % (100 * ratio))
else:
    print("python3-feedparser not available: agreement not measured")
for f in failures:
    print("FAIL:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
