"""The shared real-world review pages (../shared/fixtures/review-pages: extruct's
test pages and schema.org's own examples in JSON-LD, microdata and RDFa) go
through `earshot parse --type html`. None may crash; where the expected data
beside a page (extruct's .json / .jsonld, schema.org's .expected.jsonld)
holds Reviews, each must come out with its text and its rating, and where
it holds an AggregateRating, the page's rating must match it."""

import glob
import json
import os
import re
import subprocess
import sys

EARSHOT = os.environ["EARSHOT"]
SHARED = os.environ.get("EAR_SHARED",
                        os.path.join(os.path.dirname(__file__), "..", "..",
                                     "..", "shared"))
ROOT = os.path.join(SHARED, "fixtures", "review-pages")
failures = []
stats = {"pages": 0, "reviews": 0, "found": 0, "aggregates": 0}


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def short(t):
    if isinstance(t, list):
        return [short(x) for x in t]
    return t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if isinstance(t, str) else t


def normalise(x):
    """extruct's microdata shape ({"type", "properties"}) as JSON-LD."""
    if isinstance(x, list):
        return [normalise(v) for v in x]
    if not isinstance(x, dict):
        return x
    if "properties" in x and "type" in x:
        out = {k: normalise(v) for k, v in x["properties"].items()}
        out["@type"] = short(x["type"])
        return out
    return {k: normalise(v) for k, v in x.items()}


def types(o):
    t = o.get("@type")
    t = t if isinstance(t, list) else [t]
    return [short(v) for v in t if isinstance(v, str)]


def first(v):
    while isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, dict):
        v = v.get("name", v.get("@value"))
        return first(v)
    return v


def collect(x, reviews, aggs):
    if isinstance(x, list):
        for v in x:
            collect(v, reviews, aggs)
    elif isinstance(x, dict):
        ts = types(x)
        if "Review" in ts:
            reviews.append(x)
            return
        if "AggregateRating" in ts:
            aggs.append(x)
            return
        for v in x.values():
            collect(v, reviews, aggs)


def number(v):
    v = first(v)
    if v is None:
        return None
    m = re.search(r"\d+(?:[.,]\d+)?", str(v))
    return float(m.group(0).replace(",", ".")) if m else None


def stars(r):
    """schema.org rating onto 1..5, as earshot does."""
    if not isinstance(r, dict):
        r = first(r) if not isinstance(r, list) else r[0]
        if not isinstance(r, dict):
            return None
    v = number(r.get("ratingValue"))
    if v is None:
        return None
    best = number(r.get("bestRating"))
    worst = number(r.get("worstRating"))
    if best is None:
        best = 5 if v <= 5 else 10 if v <= 10 else 100
    if worst is None:
        worst = 0 if best >= 100 else 1
    s = 1 + 4 * (v - worst) / (best - worst)
    return round(min(5, max(1, s)), 2)


def words(s):
    return " ".join(str(s).split()) if s else None


def expected_for(page):
    base = os.path.basename(page)
    d = os.path.dirname(page)
    m = re.match(r"(.*)\.(jsonld|microdata|rdfa)\.html$", base)
    if m:
        cands = [m.group(1) + ".expected.jsonld"]
    else:
        stem = base[:-5]
        cands = [stem + ".jsonld", stem + ".json"]
    for c in cands:
        p = os.path.join(d, c)
        if os.path.exists(p):
            return p
    return None


pages = sorted(glob.glob(os.path.join(ROOT, "**", "*.html"), recursive=True))
check(len(pages) >= 20, "shared review pages found: %d in %s"
      % (len(pages), ROOT))
for page in pages:
    stats["pages"] += 1
    name = os.path.relpath(page, ROOT)
    r = subprocess.run([EARSHOT, "parse", "--type", "html", page],
                       capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    if not check(r.returncode in (0, 1), "%s: exit %d %s"
                 % (name, r.returncode, err[:300])):
        continue
    check("Sanitizer" not in err and "runtime error" not in err,
          "%s: %s" % (name, err[:500]))
    if r.returncode == 1:
        check(err.startswith("earshot: ") and page in err,
              "%s: error names the page: %r" % (name, err))
        out = {"feed": {}, "items": []}
    else:
        out = json.loads(r.stdout)
    exp = expected_for(page)
    with open(page, "rb") as f:
        raw = f.read()
    if not exp or not any(k in raw for k in (b"itemscope", b"typeof",
                                                b"ld+json")):
        continue  # schema.org's examples say TODO for some forms
    with open(exp, encoding="utf-8") as f:
        data = normalise(json.load(f))
    reviews, aggs = [], []
    collect(data, reviews, aggs)
    items = out["items"]
    # the forms of one schema.org example do not all carry everything
    if b"Review" not in raw:
        reviews = []
    if b"AggregateRating" not in raw:
        aggs = []
    for rv in reviews:
        stats["reviews"] += 1
        body = words(first(rv.get("reviewBody")) or
                     first(rv.get("description")))
        title = words(first(rv.get("name")))
        want = stars(rv.get("reviewRating"))
        hit = None
        for it in items:
            if (body and words(it.get("text")) == body) or \
               (not body and title and words(it.get("title")) == title):
                hit = it
                break
        if check(hit is not None, "%s: review %r not found in %s"
                 % (name, (body or title or "")[:60],
                    [(i.get("title"), (i.get("text") or "")[:40])
                     for i in items])):
            stats["found"] += 1
            if want is not None:
                check(hit.get("rating") is not None
                      and abs(hit["rating"] - want) < 0.011,
                      "%s: rating %r, expected %r" % (name, hit.get("rating"),
                                                      want))
            author = first(rv.get("author"))
            if isinstance(author, str) and author.strip():
                check(words(hit.get("author")) == words(author),
                      "%s: author %r, expected %r" % (name, hit.get("author"),
                                                      author))
    want_aggs = [stars(a) for a in aggs if stars(a) is not None]
    if want_aggs:
        stats["aggregates"] += 1
        got = out["feed"].get("rating")
        check(got is not None and any(abs(got - w) < 0.011
                                      for w in want_aggs),
              "%s: page rating %r, expected one of %r" % (name, got,
                                                         want_aggs))

print("fetch_review_pages: %(pages)d pages, %(found)d of %(reviews)d reviews "
      "found, %(aggregates)d aggregate ratings checked" % stats)
if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
