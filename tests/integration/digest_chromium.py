"""The HTML digest in a real browser: headless Chromium (Debian's chromium)
loads the offline demo's digest and a digest of hostile mentions from
file://, with networking and a fresh profile. The DOM it builds must hold
the three SVG charts with their bars and the incident; a screenshot must
show the bars' colours; and no script may run: the hostile title's
<script>document.title='pwned'</script> and an onerror handler stay text,
while a control page with a real script shows that the check would catch
one. Fails when chromium is missing: `scripts/bootstrap test` installs it,
so a missing browser is a broken test setup, not a pass."""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

from _harness import SRC, TMP, check, finish, fresh_tmp, run, write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    print("FAIL: chromium is not installed (apt-get install chromium, or "
          "scripts/bootstrap test)", file=sys.stderr)
    sys.exit(1)

fresh_tmp()
NOW = {"EARSHOT_NOW": "2026-11-23T17:00:00Z"}


def chromium(url, *extra):
    profile = os.path.join(TMP, "profile-%d" % len(os.listdir(TMP)))
    p = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-extensions",
         "--user-data-dir=" + profile, *extra, url],
        capture_output=True, text=True, timeout=120, cwd=TMP)
    return p


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def count_colours(path, colours, tol=6):
    """How many pixels are within tol of each colour."""
    w, h, bpp, rows = png_pixels(path)
    counts = [0] * len(colours)
    for row in rows:
        for x in range(0, w * bpp, bpp):
            px = row[x:x + 3]
            for i, rgb in enumerate(colours):
                if all(abs(px[k] - rgb[k]) <= tol for k in range(3)):
                    counts[i] += 1
    return counts


# the control: a page whose script runs changes the title in the DOM
ctl = write("control.html", "<!DOCTYPE html><html><head><title>before"
            "</title></head><body><script>document.title='pwned';"
            "document.body.setAttribute('data-ran','1')</script></body>"
            "</html>")
p = chromium("file://" + ctl, "--dump-dom")
check("<title>pwned</title>" in p.stdout and 'data-ran="1"' in p.stdout,
      "control: a script that runs shows in the dumped DOM", p.stdout[:300])

# the demo's digest
cfg = os.path.join(SRC, "examples", "demo.yml")
G = ["--config", cfg, "--db", os.path.join(TMP, "demo.db")]
p = run(*G, "run", env=NOW)
check(p.returncode == 3, "demo run", p.stderr)
out = os.path.join(TMP, "digest.html")
p = run(*G, "digest", "--since", "7d", "--format", "html", "--out", out,
        env=NOW)
check(p.returncode == 0, "digest --out", p.stderr)
p = chromium("file://" + out, "--dump-dom")
dom = p.stdout
check(p.returncode == 0 and dom.startswith("<!DOCTYPE html>") or
      dom.startswith("<html"), "chromium loaded the digest", p.stderr[-500:])
svgs = re.findall(r"<svg\b.*?</svg>", dom, re.S)
check(len(svgs) == 3, "three SVG charts in the DOM", str(len(svgs)))
check(all(len(re.findall(r"<rect\b", s)) >= 1 for s in svgs),
      "every chart has bars")
check("<title>earshot digest</title>" in dom, "the title is untouched")
check("Incidents" in dom and "Villanyász" in dom,
      "the incident is on the page")
shot = os.path.join(TMP, "digest.png")
# half scale: a quarter of the pixels to decode
p = chromium("file://" + out, "--screenshot=" + shot,
             "--window-size=1000,2600", "--force-device-scale-factor=0.5",
             "--hide-scrollbars")
check(os.path.exists(shot), "chromium took a screenshot", p.stderr[-500:])
if os.path.exists(shot):
    bars, flagged = count_colours(shot, [(0x99, 0xbb, 0xcc),
                                         (0xdd, 0x55, 0x55)])
    check(bars > 500, "the screenshot shows the charts' bars",
          f"{bars} pixels")
    check(flagged > 300, "and the flagged share in red",
          f"{flagged} pixels")

# hostile mentions: markup meant to survive as text is escaped twice
write("h/hostile.xml", """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>h</title><link>https://h.example/</link>
<item><guid>h1</guid>
<title>&amp;lt;script&amp;gt;document.title='pwned'&amp;lt;/script&amp;gt;</title>
<link>javascript:document.title='pwned'</link>
<description>Acme charged me twice for the same order and nobody answers.
&amp;quot;&amp;gt;&amp;lt;img src=x onerror="document.body.setAttribute('data-ran','1')"&amp;gt;
Worst service, refund now!</description>
<pubDate>Mon, 23 Nov 2026 12:00:00 GMT</pubDate></item>
<item><guid>h2</guid>
<title>&amp;lt;svg onload=document.title='pwned'&amp;gt; Acme lost my parcel</title>
<link>https://h.example/t/2</link>
<description>Acme lost my parcel, terrible service, still no refund after
three weeks!</description>
<pubDate>Mon, 23 Nov 2026 13:00:00 GMT</pubDate></item>
</channel></rss>
""")
hcfg = write("h/earshot.yml", f"""rules: [{os.path.join(SRC, "rules")}]
brands:
  - {{name: Acme, aliases: [acme]}}
sources:
  - {{name: hostile, url: hostile.xml, brand: Acme, type: rss, lang: en}}
""")
H = ["--config", hcfg, "--db", os.path.join(TMP, "h.db")]
p = run(*H, "run", env=NOW)
check(p.returncode == 0, "run on the hostile feed", p.stderr)
hout = os.path.join(TMP, "hostile.html")
p = run(*H, "digest", "--format", "html", "--out", hout, env=NOW)
p = chromium("file://" + hout, "--dump-dom")
dom = p.stdout
check("<title>earshot digest</title>" in dom,
      "no script ran: the title is untouched", dom[:400])
check(not re.search(r"data-ran=\"1\"", dom), "no event handler ran")
check("document.title='pwned'" in dom.replace("&#39;", "'"),
      "the hostile title is on the page as text")
with open(hout, encoding="utf-8") as f:
    served = f.read()
check(not re.search(r"<img\b", dom) and not re.search(r"<script\b", dom)
      and len(re.findall(r"<svg\b", dom)) ==
      len(re.findall(r"<svg\b", served)) and
      not re.search(r"<[^>]*\son(load|error)=", dom),
      "no <img>, <script> or <svg onload> element came from a mention")
check('href="javascript' not in dom, "no javascript: link")
finish()
