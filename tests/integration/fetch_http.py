"""earshot parse against a real HTTP server on 127.0.0.1 (httpd_fixture):
200, 404/500 in words, gzip, bodies over the cap (declared, chunked and a
decompression bomb), malformed XML (recovered and not), the HTTP charset,
redirects and a redirect loop, JSON Feed, local files, usage errors."""

import gzip
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpd_fixture import FixtureServer  # noqa: E402

EARSHOT = os.environ["EARSHOT"]
TMP = os.environ.get("EAR_TMP", "/tmp/ear_fetch_http")
os.makedirs(TMP, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def parse(*args):
    r = subprocess.run([EARSHOT, "parse", *args], capture_output=True,
                       timeout=120)
    out = None
    if r.returncode == 0:
        out = json.loads(r.stdout)
    return r.returncode, out, r.stderr.decode("utf-8", "replace")


def no_sanitizer(err, what):
    check("Sanitizer" not in err and "runtime error" not in err,
          what + ": sanitizer report: " + err[:500])


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Loopback feed</title><link>/</link>
<item><guid>r1</guid><title>Késik a csomag</title><link>items/1</link>
<pubDate>Mon, 23 Nov 2026 17:22:00 +0100</pubDate>
<description>&lt;p&gt;Három hete várok.&lt;/p&gt;</description></item>
<item><guid>r2</guid><title>Second</title><link>/abs/2?utm_source=x</link></item>
</channel></rss>
"""

MIB = 1 << 20
CAP = 16 * MIB

with FixtureServer() as srv:
    srv.route("/feed.xml", body=RSS, content_type="application/rss+xml")
    srv.route("/dir/feed.xml", body=RSS, content_type="application/rss+xml")
    srv.route("/missing.xml", status=404, body=b"not here\n",
              content_type="text/plain")
    srv.route("/error.xml", status=500, body=b"oops\n",
              content_type="text/plain")
    srv.route("/gz.xml", body=RSS, gzip=True)
    srv.route("/big-declared.xml", stream=(b"<rss>" + b" " * (MIB - 5), 17))
    srv.route("/big-chunked.xml", stream=(b" " * MIB, 17), chunked=True)
    bomb = b"<rss>" + b" " * (20 * MIB)
    srv.route("/bomb.xml", body=bomb, gzip=True)
    srv.route("/broken.xml", body=b"<?xml version='1.0'?>\n\n<<<garbage")
    srv.route("/recoverable.xml",
              body=b"<rss version='2.0'><channel><title>R & D</title>"
                   b"<item><guid>x</guid><title>Ben & Jerry</title></item>"
                   b"<item><guid>y</guid><title>cut")
    latin = ("<rss version='2.0'><channel><title>Ügyfélszolgálat</title>"
             "<item><guid>c</guid><title>Hűtőgép hibás, őrület</title>"
             "</item></channel></rss>").encode("cp1250")
    srv.route("/charset.xml", body=latin,
              content_type="application/rss+xml; charset=windows-1250")
    srv.route("/moved", status=301, location="/dir/feed.xml", body=b"")
    srv.route("/loop", status=302, location="/loop", body=b"")
    srv.route("/feed.json", content_type="application/feed+json",
              body=json.dumps({"version": "https://jsonfeed.org/version/1.1",
                               "title": "J", "items": [
                                   {"id": "1", "url": "/j/1",
                                    "content_text": "json item"}]}))
    srv.route("/page.html", content_type="text/html",
              body=b"<!DOCTYPE html><html><body>hi</body></html>")

    # 200, with the request earshot sent
    rc, out, err = parse(srv.url("/feed.xml"))
    check(rc == 0, "200: exit %d: %s" % (rc, err))
    if out:
        check(out["feed"]["title"] == "Loopback feed", "200: feed title")
        check(out["feed"]["link"] == srv.url("/"), "200: feed link")
        items = out["items"]
        check(len(items) == 2, "200: two items")
        check(items[0]["link"] == srv.url("/items/1"),
              "200: relative link resolved: %s" % items[0]["link"])
        check(items[0]["text"] == "Három hete várok.", "200: text")
        check(items[0]["published"] == "2026-11-23T16:22:00Z",
              "200: published")
        check(items[1]["link"] == srv.url("/abs/2"),
              "200: tracking parameter dropped: %s" % items[1]["link"])
        check(items[1]["updated"] is None and items[1]["rating"] is None,
              "200: absent values are null")
    req = srv.requests_for("/feed.xml")[-1]["headers"]
    check(req.get("User-Agent", "").startswith("earshot/"),
          "User-Agent names earshot: %r" % req.get("User-Agent"))
    check("gzip" in req.get("Accept-Encoding", ""),
          "Accept-Encoding offers gzip: %r" % req.get("Accept-Encoding"))
    check("If-None-Match" not in req, "no validator without state")

    # HTTP errors in words, naming the source
    rc, out, err = parse(srv.url("/missing.xml"))
    check(rc == 1, "404: exit 1, got %d" % rc)
    check(err.strip() == "earshot: %s: HTTP 404 Not Found"
          % srv.url("/missing.xml"), "404: message: %r" % err)
    rc, out, err = parse(srv.url("/error.xml"))
    check(rc == 1 and "HTTP 500 Internal Server Error" in err,
          "500: %d %r" % (rc, err))

    # gzip-compressed body
    rc, out, err = parse(srv.url("/gz.xml"))
    check(rc == 0 and out and len(out["items"]) == 2,
          "gzip: %d %r" % (rc, err))

    # bodies over the cap: declared length, chunked, decompression bomb
    for path in ("/big-declared.xml", "/big-chunked.xml", "/bomb.xml"):
        rc, out, err = parse(srv.url(path))
        check(rc == 1 and ("%s: body exceeds %d bytes" % (srv.url(path), CAP))
              in err, "%s: %d %r" % (path, rc, err))
        no_sanitizer(err, path)

    # malformed XML
    rc, out, err = parse(srv.url("/broken.xml"))
    check(rc == 1 and srv.url("/broken.xml") in err
          and "malformed XML" in err, "broken: %d %r" % (rc, err))
    check(":3:" in err, "broken: error names the line: %r" % err)
    rc, out, err = parse(srv.url("/recoverable.xml"))
    check(rc == 0 and out and [i["title"] for i in out["items"]]
          == ["Ben & Jerry", "cut"], "recoverable: %d %r %r" % (rc, out, err))

    # charset from the Content-Type header
    rc, out, err = parse(srv.url("/charset.xml"))
    check(rc == 0 and out and out["items"][0]["title"]
          == "Hűtőgép hibás, őrület", "http charset: %r %r" % (out, err))

    # redirects: followed, links resolved against the final URL
    rc, out, err = parse(srv.url("/moved"))
    check(rc == 0 and out and out["items"][0]["link"]
          == srv.url("/dir/items/1"), "redirect: %r %r" % (out, err))
    rc, out, err = parse(srv.url("/loop"))
    check(rc == 1 and "redirect" in err.lower(), "loop: %d %r" % (rc, err))
    check(len(srv.requests_for("/loop")) <= 7, "loop: bounded requests")

    # JSON Feed over HTTP
    rc, out, err = parse(srv.url("/feed.json"))
    check(rc == 0 and out and out["items"][0]["link"] == srv.url("/j/1")
          and out["items"][0]["text"] == "json item",
          "jsonfeed: %r %r" % (out, err))

    # an HTML page is not a feed
    rc, out, err = parse(srv.url("/page.html"))
    check(rc == 1 and "not a feed" in err, "html: %d %r" % (rc, err))

    # a forced type that does not match
    rc, out, err = parse("--type", "atom", srv.url("/feed.xml"))
    check(rc == 1 and "type is 'atom'" in err, "type: %d %r" % (rc, err))

# local files: a path and a file:// URL, a missing file
path = os.path.join(TMP, "local feed.xml")
with open(path, "w", encoding="utf-8") as f:
    f.write(RSS)
rc, out, err = parse(path)
check(rc == 0 and out and len(out["items"]) == 2, "file path: %r" % err)
if out:
    check(out["items"][0]["link"] == "items/1",
          "file: relative link kept: %r" % out["items"][0]["link"])
rc, out, err = parse("file://" + path.replace(" ", "%20"))
check(rc == 0 and out and len(out["items"]) == 2, "file url: %r" % err)
rc, out, err = parse(os.path.join(TMP, "nope.xml"))
check(rc == 1 and err.startswith("earshot: %s: " % os.path.join(TMP, "nope.xml")),
      "missing file: %d %r" % (rc, err))

# usage
rc, out, err = parse()
check(rc == 2, "no argument: exit 2, got %d" % rc)
rc, out, err = parse("--type", "yaml", path)
check(rc == 2 and "unknown type" in err, "bad type: %d %r" % (rc, err))
r = subprocess.run([EARSHOT, "parse", "--help"], capture_output=True)
check(r.returncode == 0 and b"usage: earshot parse" in r.stdout, "--help")

if failures:
    print("%d failure(s)" % len(failures), file=sys.stderr)
    sys.exit(1)
print("fetch_http: ok")
