"""Shared helpers for earshot's integration tests (imported, not run).

Every test gets the built binary in $EARSHOT, the source tree in $EAR_SRC
and a scratch directory in $EAR_TMP (emptied here)."""
import json
import os
import shutil
import subprocess
import sys

EARSHOT = os.environ.get("EARSHOT", "earshot")
SRC = os.environ.get("EAR_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
TMP = os.environ.get("EAR_TMP", "/tmp/earshot-itest")

failures = []


def fresh_tmp():
    shutil.rmtree(TMP, ignore_errors=True)
    os.makedirs(TMP, exist_ok=True)
    return TMP


def run(*args, stdin=None, env=None, timeout=120):
    e = dict(os.environ)
    e["NO_COLOR"] = "1"
    e.pop("EARSHOT_CONFIG", None)
    if env:
        e.update(env)
    p = subprocess.run([EARSHOT, *args], input=stdin, capture_output=True,
                       text=True, env=e, timeout=timeout, cwd=TMP)
    return p


def check(cond, what, detail=""):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}" + (f"\n  {detail}" if detail else ""), file=sys.stderr)
    return cond


def write(name, text, mode="w"):
    path = os.path.join(TMP, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)
    return path


def jsonout(p, what):
    try:
        return json.loads(p.stdout)
    except ValueError:
        check(False, f"{what}: stdout is JSON", p.stdout[:500] + p.stderr[:500])
        return None


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("ok")
