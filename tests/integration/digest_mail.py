"""earshot digest --mail through a real SMTP server on 127.0.0.1 (Debian's
python3-aiosmtpd): the offline demo's digest arrives as
multipart/alternative of the Markdown text and a multipart/related HTML
part whose three charts are PNG images (drawn with cairo) linked by cid:,
with the period's incident, hostile mentions escaped, no script and no
remote image. Bad uses are usage errors; a server that is down fails the
command (exit 1)."""
import os
import re
import struct
import sys

try:
    import aiosmtpd  # noqa: F401
except ImportError:
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != "/usr/bin/python3" and \
            not os.environ.get("EAR_REEXEC"):
        os.environ["EAR_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("digest_mail needs python3-aiosmtpd (apt-get install "
          "python3-aiosmtpd)", file=sys.stderr)
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import SRC, TMP, check, finish, fresh_tmp, run, write
from smtpd_fixture import SmtpServer, free_port

fresh_tmp()
srv = SmtpServer()
down = free_port()
with open(os.path.join(SRC, "examples", "demo.yml"), encoding="utf-8") as f:
    demo = f.read()
demo = demo.replace("url: feeds/", "url: " + os.path.join(
    SRC, "examples", "feeds") + "/")
demo = demo.replace("rules: [../rules]", "rules: [" + os.path.join(
    SRC, "rules") + "]")
demo = demo.replace("store: ./demo.db", "store: ./earshot.db")
# a hostile source: markup meant to survive as text is escaped twice
write("hostile.xml", """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>h</title><link>https://h.example/</link>
<item><guid>h1</guid>
<title>&amp;lt;script&amp;gt;document.title='pwned'&amp;lt;/script&amp;gt;</title>
<link>javascript:alert(1)</link>
<description>Acme charged me twice for the same order and nobody answers.
&amp;quot;&amp;gt;&amp;lt;img src=x onerror=alert(1)&amp;gt; Worst service, refund now!</description>
<pubDate>Mon, 23 Nov 2026 12:00:00 GMT</pubDate></item>
</channel></rss>
""")
demo = demo.replace("sinks: []", f"""sinks:
  - {{name: down, type: smtp, url: "smtp://127.0.0.1:{down}", from: digest@example.org, to: lead@example.org, incidents_only: true, brands: [Acme], categories: [none]}}
  - {{name: lead, type: smtp, url: "{srv.url()}", from: digest@example.org, to: [lead@example.org, ops@example.org], incidents_only: true, brands: [Acme], categories: [none]}}
""")
cfg = write("earshot.yml", demo)
G = ["--config", cfg]
NOW = {"EARSHOT_NOW": "2026-11-23T17:00:00Z"}

p = run(*G, "run", env=NOW)
check(p.returncode == 3, "demo run (one source broken on purpose)",
      p.stderr)
check(srv.messages == [], "the sinks' filters let no alert through")

p = run(*G, "digest", "--since", "7d", "--mail", "--sink", "lead", env=NOW)
check(p.returncode == 0, "digest --mail exits 0", p.stderr)
check(p.stdout == "", "nothing on stdout", p.stdout[:200])
check(len(srv.messages) == 1, "one message arrived", str(len(srv.messages)))
raw = srv.messages[0] if srv.messages else {"data": b"", "to": []}
check(sorted(raw["to"]) == ["lead@example.org", "ops@example.org"],
      "to every recipient", str(raw["to"]))
check(all(b < 128 for b in raw["data"]), "the message is 7-bit")
check(all(len(x) <= 998 for x in raw["data"].split(b"\r\n")),
      "no line is too long for SMTP")
msg = srv.parsed()[0] if srv.messages else None
if msg is None:
    finish()

check(msg.get_content_type() == "multipart/alternative",
      "the message is multipart/alternative", msg.get_content_type())
check(msg["Subject"].startswith("earshot digest: 81 new, 56 flagged, "
                                "1 incidents"), "the subject sums it up",
      msg["Subject"])
parts = msg.get_payload()
check(len(parts) == 2 and parts[0].get_content_type() == "text/plain" and
      parts[1].get_content_type() == "multipart/related",
      "text/plain, then multipart/related",
      str([x.get_content_type() for x in parts]))
plain = parts[0].get_content()
check(plain.startswith("# earshot digest") and "## Incidents" in plain,
      "the text part is the Markdown digest with its incident")
rel = parts[1]
check(rel.get_param("type") == "text/html", "related type is text/html")
inner = rel.get_payload()
check(inner[0].get_content_type() == "text/html",
      "the HTML is the related root")
html = inner[0].get_content()
pngs = {x["Content-ID"].strip("<>"): x.get_payload(decode=True)
        for x in inner[1:] if x.get_content_type() == "image/png"}
check(sorted(pngs) == ["chart-1@earshot", "chart-2@earshot",
                       "chart-3@earshot"], "three PNG charts",
      str(sorted(pngs)))
cids = re.findall(r'<img src="cid:([^"]+)" width="(\d+)" height="(\d+)"',
                  html)
check(sorted(c[0] for c in cids) == sorted(pngs),
      "the HTML shows each chart by its cid", str(cids))
for cid, w, h in cids:
    data = pngs.get(cid, b"")
    ok = data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    if ok:
        pw, ph = struct.unpack(">II", data[16:24])
        ok = (pw, ph) == (int(w), int(h))
    check(ok, f"{cid} is a PNG of the size the HTML says", f"{w}x{h}")
check("<h2>Incidents</h2>" in html and "Villanyász" in html,
      "the HTML has the incident")
check("<script" not in html.lower(), "no <script> in the HTML")
check(not re.search(r'src="https?:', html), "no remote image")
check("img-src cid:" in html and "default-src 'none'" in html,
      "a CSP that allows only cid: images and no script")

# hostile mentions: a store holding only them, so they are the urgent ones
hcfg = write("hostile.yml", f"""store: ./hostile.db
rules: [{os.path.join(SRC, "rules")}]
brands:
  - {{name: Acme, aliases: [acme]}}
sources:
  - {{name: hostile, url: {os.path.join(TMP, "hostile.xml")}, brand: Acme, type: rss, lang: en}}
sinks:
  - {{name: lead, type: smtp, url: "{srv.url()}", from: digest@example.org, to: lead@example.org, incidents_only: true, brands: [Acme], categories: [none]}}
""")
p = run("--config", hcfg, "run", env=NOW)
p = run("--config", hcfg, "digest", "--mail", env=NOW)
check(p.returncode == 0 and len(srv.messages) == 2, "the hostile digest is "
      "mailed", p.stderr)
if len(srv.messages) == 2:
    hm = srv.parsed()[1]
    html = hm.get_payload()[1].get_payload()[0].get_content()
    plain = hm.get_payload()[0].get_content()
    check("<script" not in html.lower(), "hostile: no <script> in the HTML")
    check("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"
          in html, "hostile: the title shows as text",
          html[html.find("pwned") - 100:html.find("pwned") + 50])
    check("<img src=x" not in html and "onerror=alert" not in
          html.replace("onerror=alert(1)&gt;", ""),
          "hostile: the <img> is text")
    check('href="javascript' not in html, "hostile: no javascript: link")
    check("\\<script\\>" in plain, "hostile: the text part escapes it "
          "too", plain[:1500])

# errors
p = run(*G, "digest", "--mail", "--sink", "down", env=NOW)
check(p.returncode == 1 and "SMTP" in p.stderr,
      "a server that is down fails the command", p.stderr)
p = run(*G, "digest", "--mail", "--sink", "nope", env=NOW)
check(p.returncode == 2 and "no sink named 'nope'" in p.stderr,
      "an unknown sink is a usage error", p.stderr)
p = run(*G, "digest", "--sink", "lead", env=NOW)
check(p.returncode == 2, "--sink without --mail is a usage error")
nomail = write("plain.yml", demo.split("sinks:")[0] + "sinks: []\n")
p = run("--config", nomail, "digest", "--mail", env=NOW)
check(p.returncode == 2 and "no smtp sink" in p.stderr,
      "--mail without an smtp sink says so", p.stderr)

srv.close()
finish()
