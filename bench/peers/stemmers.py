#!/usr/bin/env python3
"""Snowball (libstemmer) against Hunspell hu_HU for the Hungarian lexicon
layer, measured on the Hungarian dev files (issue 4).

What a stemmer would add to the lexicon: a word of the text whose stem
equals the stem of a lexicon word that its own wildcard pattern does not
reach ("kezét" for "kéz", "boltot" for "bolt"). The test simulates that
exactly: every word form of the texts that a stemmer joins to a lexicon
entry (and that no lexicon pattern already covers) is added to a copy of
the packs with the entry's kind and weight, and `earshot eval` scores the
copy. Speed and memory come from stemmers.c.

usage: stemmers.py EARSHOT STEMMERS_BIN RULES_DIR OUTDIR FILE.jsonl...
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata

import yaml

earshot, binary, rules, out = sys.argv[1:5]
files = sys.argv[5:]


def fold(s):
    s = unicodedata.normalize("NFD", s.lower())
    return "".join(c for c in s if not unicodedata.combining(c))


def glob_re(pat):
    return re.compile("^" + ".*".join(map(re.escape, fold(pat).split("*")))
                      + "$")


# lexicon entries of the Hungarian packs: (kind, weight, pattern)
entries = []
for name in sorted(os.listdir(os.path.join(rules, "hu"))):
    doc = yaml.safe_load(open(os.path.join(rules, "hu", name),
                              encoding="utf-8"))
    lex = (doc or {}).get("lexicon") or {}
    for kind in ("negative", "positive", "negated"):
        for group in lex.get(kind) or []:
            for w in group.get("words") or []:
                if " " not in w and not w.startswith("*") and "#" not in w:
                    entries.append((kind, group.get("weight", 1), w))
every = [glob_re(w) for _, _, w in entries]

tokens = {}
for path in files:
    for line in open(path, encoding="utf-8"):
        for t in re.findall(r"[^\W\d_]+", json.loads(line)["text"].lower()):
            tokens[t] = tokens.get(t, 0) + 1
lexwords = sorted({w.rstrip("*") for _, _, w in entries})
words = sorted(set(tokens) | set(lexwords))
p = subprocess.run([binary], input="\n".join(words) + "\n",
                   capture_output=True, text=True, check=True)
print(p.stderr.strip())
stem = {"snowball": {}, "hunspell": {}}
for row in p.stdout.splitlines():
    w, sb, hs = row.split("\t")
    stem["snowball"][w] = {sb}
    stem["hunspell"][w] = set() if hs == "-" else set(hs.split(","))

# a form already covered by some lexicon pattern is left alone
covered = {t for t in tokens if any(r.match(fold(t)) for r in every)}
print(f"{len(tokens)} distinct words ({sum(tokens.values())} in all) in "
      f"{len(files)} files; {len(entries)} single-word lexicon entries; "
      f"{len(covered)} distinct words already matched by a pattern")
# "guarded": only words written without a wildcard (the ones a pattern
# cannot stretch), stems of five letters or more, and forms that share the
# entry's first three letters; the plain variant takes every stem match.
def guarded(w, s, t):
    return "*" not in w and len(s) >= 5 and fold(t)[:3] == fold(w)[:3]


for which in ("none", "snowball", "hunspell", "snowball-guarded",
              "hunspell-guarded"):
    algo = which.split("-")[0]
    guard = which.endswith("guarded")
    d = os.path.join(out, which)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(rules, d)
    added = {}
    if which != "none":
        by_stem = {}
        for t in tokens:
            if t in covered:
                continue
            for s in stem[algo][t]:
                by_stem.setdefault(s, []).append(t)
        for kind, weight, w in entries:
            for s in stem[algo][w.rstrip("*")]:
                for t in by_stem.get(s, []):
                    if not guard or guarded(w, s, t):
                        added.setdefault((kind, weight), set()).add(t)
        lex = {}
        for (kind, weight), ws in sorted(added.items()):
            lex.setdefault(kind, []).append({"weight": weight,
                                             "words": sorted(ws)})
        with open(os.path.join(d, "hu", "zz-stemmed.yml"), "w",
                  encoding="utf-8") as f:
            yaml.safe_dump({"lang": "hu", "description": f"{which} forms",
                            "lexicon": lex}, f, allow_unicode=True)
    n = sum(len(v) for v in added.values())
    occ = sum(tokens[t] for v in added.values() for t in v)
    ev = subprocess.run([earshot, "eval", "--json"] + files,
                        env=dict(os.environ, EARSHOT_RULES=d),
                        capture_output=True, text=True)
    res = json.loads(ev.stdout)
    print(f"{which:16s} +{n:5d} forms ({occ:6d} occurrences): " + "  ".join(
        f'{os.path.basename(f["file"]).split(".")[0]}.{f["file"].split(".")[-2]} '
        f'MCC {f["mcc"]:.3f}' for f in res["files"]))
