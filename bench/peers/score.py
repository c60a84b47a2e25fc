#!/usr/bin/env python3
"""Scores decisions against labels: precision, recall, F1 and MCC of the
negative class. usage: score.py LABELED.jsonl DECISIONS.jsonl
DECISIONS lines carry {"id", "flag"} (earshot check --jsonl or classify.js)."""
import json
import math
import sys

labels = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        o = json.loads(line)
        labels[o["id"]] = o["label"] == "negative"
tp = fp = fn = tn = 0
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        o = json.loads(line)
        if o.get("id") not in labels:
            continue
        gold, got = labels[o["id"]], bool(o.get("flag"))
        tp += gold and got
        fp += got and not gold
        fn += gold and not got
        tn += not gold and not got
p = tp / (tp + fp) if tp + fp else 0.0
r = tp / (tp + fn) if tp + fn else 0.0
f1 = 2 * p * r / (p + r) if p + r else 0.0
d = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
mcc = (tp * tn - fp * fn) / d if d else 0.0
print(json.dumps({"precision": round(p, 3), "recall": round(r, 3),
                  "f1": round(f1, 3), "mcc": round(mcc, 3),
                  "tp": tp, "fp": fp, "fn": fn, "tn": tn}))
