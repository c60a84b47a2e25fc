#!/usr/bin/env python3
"""Splits labeled JSON lines into two halves by a hash of each line's id, so
rules can be tuned on one half (A) and checked on the other (B), which
stands in for the held-out texts the targets are finally measured on.
usage: halves.py OUTDIR FILE.jsonl...  -> OUTDIR/NAME.A.jsonl, NAME.B.jsonl
The split is stable: the same id always lands in the same half."""
import hashlib
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for path in sys.argv[2:]:
    name = os.path.basename(path).split(".")[0]
    halves = {h: open(os.path.join(out, f"{name}.{h}.jsonl"), "w",
                      encoding="utf-8") for h in "AB"}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            # the id as written (string or number), so no JSON decoding
            # is needed to place a line
            start = line.find('"id"')
            key = line[start:line.find(",", start)] if start >= 0 else line
            h = hashlib.sha1(key.encode()).digest()[0] & 1
            halves["AB"[h]].write(line)
    for fh in halves.values():
        fh.close()
