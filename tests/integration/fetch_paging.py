"""Sources that take more than one request, through `earshot run` against
loopback servers:

- JSON APIs that page: a counter parameter (the hackernews preset, stopped
  by nbPages and by max_pages), the Link header (the mastodon preset) and
  a next-URL path in a user's own mapping; the mapping's own query
  parameters (reddit's raw_json=1) and the source's headers reach the API;
- HTML pages that page through an XPath next_page selector;
- robots.txt for HTML sources: read once per site and honoured (the group
  naming earshot wins over "*", Allow beats a shorter Disallow), an
  unreachable robots.txt (503) forbids the site, a missing one (404)
  allows it, `robots: false` opts out, and feeds never ask for it."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd_fixture import FixtureServer  # noqa: E402

EARSHOT = os.environ["EARSHOT"]
TMP = os.environ.get("EAR_TMP", "/tmp/ear_fetch_paging")
os.makedirs(TMP, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def hn(page, pages, tag, n=2):
    hits = [{"objectID": "%s%d%02d" % (tag, page, i), "author": "u%d" % i,
             "title": "Acme story %d.%d" % (page, i),
             "created_at_i": 1795425164 - page * 1000 - i, "points": i}
            for i in range(n)]
    return json.dumps({"hits": hits, "page": page, "nbPages": pages})


def status(text, i):
    return {"id": str(i), "uri": "https://m.example/s/%d" % i,
            "url": "https://m.example/@x/%d" % i,
            "created_at": "2026-11-23T10:00:0%dZ" % i,
            "content": "<p>%s</p>" % text, "account": {"acct": "x"}}


def page_html(n, next_href):
    reviews = "".join(
        '<li class="r"><p class="t">Review %d.%d: the kettle leaks</p>'
        '<span class="a">Buyer %d</span></li>' % (n, i, i) for i in range(2))
    nxt = '<a rel="next" href="%s">next</a>' % next_href if next_href else ""
    return "<html><body><ul>%s</ul>%s</body></html>" % (reviews, nxt)


LD = ('<html><head><script type="application/ld+json">{"@type":"Review",'
      '"reviewBody":"%s","author":"A","reviewRating":{"ratingValue":2}}'
      '</script></head><body></body></html>')

cfg = os.path.join(TMP, "earshot.yml")
db = os.path.join(TMP, "earshot.db")
for p in (db, db + "-wal", db + "-shm"):
    if os.path.exists(p):
        os.remove(p)

with FixtureServer() as srv, FixtureServer() as down, \
        FixtureServer() as bare:
    # JSON paging
    srv.route("/hn?query=acme", body=hn(0, 5, "1"), content_type="application/json")
    for p in range(1, 5):
        srv.route("/hn?query=acme&page=%d" % p, body=hn(p, 5, "1"),
                  content_type="application/json")
    srv.route("/hn2?query=x", body=hn(0, 2, "2"), content_type="application/json")
    srv.route("/hn2?query=x&page=1", body=hn(1, 2, "2"),
              content_type="application/json")
    srv.route("/m/tag", content_type="application/json",
              body=json.dumps([status("one", 1), status("two", 2)]),
              headers={"Link": '<%s>; rel="next", <%s>; rel="prev"'
                       % (srv.url("/m/tag?max_id=2"), srv.url("/m/tag?min_id=9"))})
    srv.route("/m/tag?max_id=2", content_type="application/json",
              body=json.dumps([status("three", 3)]))
    srv.route("/api/reviews", content_type="application/json",
              body=json.dumps({"next": "/api/reviews?cursor=b", "data": [
                  {"id": "r1", "text": "first"}, {"id": "r2", "text": "x"}]}))
    srv.route("/api/reviews?cursor=b", content_type="application/json",
              body=json.dumps({"next": None, "data": [
                  {"id": "r3", "text": "last"}]}))
    srv.route("/r/search.json?q=acme&raw_json=1",
              content_type="application/json",
              body=json.dumps({"data": {"after": None, "children": [
                  {"data": {"name": "t3_a", "title": "Acme & co",
                            "selftext": "hi", "permalink": "/r/x/a/",
                            "created_utc": 1795425164}}]}}))
    # HTML paging and robots
    srv.route("/robots.txt", content_type="text/plain", body=(
        "User-agent: *\nDisallow: /\n\n"
        "# earshot may read reviews, not the secret pages\n"
        "User-agent: earshot\nDisallow: /secret\nAllow: /secret/ok\n"))
    srv.route("/shop/p1.html", content_type="text/html",
              body=page_html(1, "p2.html"))
    srv.route("/shop/p2.html", content_type="text/html",
              body=page_html(2, "p3.html"))
    srv.route("/shop/p3.html", content_type="text/html",
              body=page_html(3, "p4.html"))
    srv.route("/secret/x.html", content_type="text/html", body=LD % "hidden")
    srv.route("/secret/ok.html", content_type="text/html", body=LD % "ok page")
    srv.route("/secret/forced.html", content_type="text/html",
              body=LD % "forced")
    srv.route("/feed.xml", body="<rss version='2.0'><channel><title>f</title>"
              "<item><guid>f1</guid><title>t</title></item></channel></rss>")
    down.route("/robots.txt", status=503)
    down.route("/page.html", content_type="text/html", body=LD % "down")
    bare.route("/page.html", content_type="text/html", body=LD % "bare")

    xpath = """    xpath:
      item: //li[@class='r']
      text: .//p[@class='t']
      author: .//span[@class='a']
"""
    with open(cfg, "w") as f:
        f.write("""sources:
  - name: hn
    url: {hn}
    preset: hackernews
    max_pages: 3
  - name: hn2
    url: {hn2}
    preset: hackernews
    max_pages: 10
  - name: masto
    url: {masto}
    preset: mastodon
    max_pages: 2
    headers: {{Authorization: "Bearer ${{EAR_TEST_TOKEN}}"}}
  - name: custom
    url: {custom}
    type: json
    items: data
    fields: {{id: id, text: text}}
    next_page: next
  - name: reddit
    url: {reddit}
    preset: reddit
  - name: shop
    url: {shop}
    type: html
{xpath}    next_page: //a[@rel='next']/@href
    max_pages: 2
  - name: secret
    url: {secret}
    type: html
  - name: secret-ok
    url: {secret_ok}
    type: html
  - name: forced
    url: {forced}
    type: html
    robots: false
  - name: feed
    url: {feed}
  - name: down
    url: {down}
    type: html
  - name: bare
    url: {bare}
    type: html
""".format(hn=srv.url("/hn?query=acme"), hn2=srv.url("/hn2?query=x"),
           masto=srv.url("/m/tag"), custom=srv.url("/api/reviews"),
           reddit=srv.url("/r/search.json?q=acme"),
           shop=srv.url("/shop/p1.html"), xpath=xpath,
           secret=srv.url("/secret/x.html"),
           secret_ok=srv.url("/secret/ok.html"),
           forced=srv.url("/secret/forced.html"), feed=srv.url("/feed.xml"),
           down=down.url("/page.html"), bare=bare.url("/page.html")))

    env = dict(os.environ, EAR_TEST_TOKEN="t0ken", NO_COLOR="1")
    r = subprocess.run([EARSHOT, "--config", cfg, "--db", db, "run", "--json"],
                       capture_output=True, text=True, timeout=120, env=env)
    err = r.stderr
    check(r.returncode == 3, "exit 3 (down and secret fail): %d %s"
          % (r.returncode, err))
    check("Sanitizer" not in err and "runtime error" not in err, err)
    out = json.loads(r.stdout) if r.stdout.startswith("{") else {"sources": []}
    st = {s["name"]: s for s in out["sources"]}

    def ok(name, new):
        s = st.get(name, {})
        check(s.get("status") == "ok" and s.get("new") == new,
              "%s: ok with %d new, got %r" % (name, new, s))

    ok("hn", 6)         # pages 0, 1, 2 of 5: max_pages 3
    check(len(srv.requests_for("/hn?query=acme&page=3")) == 0,
          "hn: no fourth page")
    ok("hn2", 4)        # nbPages 2 stops it before max_pages
    ok("masto", 3)      # Link rel=next
    check(len(srv.requests_for("/m/tag?min_id=9")) == 0, "rel=prev ignored")
    mreq = srv.requests_for("/m/tag")
    check(mreq and mreq[0]["headers"].get("Authorization") == "Bearer t0ken",
          "header with ${VAR} reaches the API: %r"
          % (mreq[0]["headers"] if mreq else None))
    ok("custom", 3)     # a next-URL path in the user's mapping
    ok("reddit", 1)     # raw_json=1 added by the preset
    ok("shop", 4)       # two HTML pages: max_pages 2
    check(len(srv.requests_for("/shop/p3.html")) == 0, "shop: no third page")
    ok("secret-ok", 1)  # Allow: /secret/ok beats Disallow: /secret
    ok("forced", 1)     # robots: false
    ok("feed", 1)
    ok("bare", 1)       # no robots.txt (404): allowed
    s = st.get("secret", {})
    check(s.get("status") == "failed" and "robots.txt" in (s.get("error") or ""),
          "secret: refused by robots.txt: %r" % s)
    check(len(srv.requests_for("/secret/x.html")) == 0, "secret never fetched")
    s = st.get("down", {})
    check(s.get("status") == "failed"
          and "robots.txt unreachable (HTTP 503)" in (s.get("error") or ""),
          "down: robots.txt 503 forbids: %r" % s)
    check(len(down.requests_for("/page.html")) == 0, "down page not fetched")
    check(len(srv.requests_for("/robots.txt")) == 1,
          "robots.txt read once for the site: %d"
          % len(srv.requests_for("/robots.txt")))
    check(len(bare.requests_for("/robots.txt")) == 1, "bare: robots asked")
    ua = srv.requests_for("/robots.txt")[0]["headers"].get("User-Agent", "")
    check(ua.startswith("earshot/") and "(+" in ua, "User-Agent: %r" % ua)

    # parse follows the pages too, and prints the page's own view
    r = subprocess.run([EARSHOT, "--config", cfg, "parse", "--source", "hn2"],
                       capture_output=True, text=True, timeout=60, env=env)
    items = json.loads(r.stdout)["items"] if r.returncode == 0 else []
    check(len(items) == 4 and items[0]["link"]
          == "https://news.ycombinator.com/item?id=2000",
          "parse --source pages: %r %s" % (items[:1], r.stderr))

# parse --preset on a file, and its usage errors
src = os.environ.get("EAR_SRC", os.path.join(os.path.dirname(__file__),
                                             "..", ".."))
apple = os.path.join(src, "tests", "fixtures", "feeds", "json_appstore",
                     "input")
r = subprocess.run([EARSHOT, "parse", "--preset", "appstore", apple],
                   capture_output=True, text=True, timeout=60)
items = json.loads(r.stdout)["items"] if r.returncode == 0 else []
check([i["rating"] for i in items] == [1.0, 5.0, 3.0],
      "parse --preset appstore: %r %s" % (items, r.stderr))
r = subprocess.run([EARSHOT, "parse", "--preset", "myspace", apple],
                   capture_output=True, text=True, timeout=60)
check(r.returncode == 2 and "unknown preset 'myspace'" in r.stderr,
      "unknown preset: %d %r" % (r.returncode, r.stderr))
r = subprocess.run([EARSHOT, "parse", "--type", "rss", "--preset", "reddit",
                    apple], capture_output=True, text=True, timeout=60)
check(r.returncode == 2, "--preset with another type: exit 2")
r = subprocess.run([EARSHOT, "parse", "--type", "json", apple],
                   capture_output=True, text=True, timeout=60)
check(r.returncode == 1 and "needs a preset or a mapping" in r.stderr,
      "json without a mapping: %d %r" % (r.returncode, r.stderr))

if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("fetch_paging: ok")
