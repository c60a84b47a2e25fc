"""Writes N synthetic reviews as RSS feeds (1,000 items a feed) and an
earshot config over them, for bench/web.sh: complaints in English and
Hungarian with varied wording and dates, so that the analyzer
flags them and `earshot run` queues them like real ones.

Usage: python3 bench/web_feed.py N OUTDIR RULESDIR"""
import os
import random
import sys
from xml.sax.saxutils import escape

n = int(sys.argv[1])
out = sys.argv[2]
rules = sys.argv[3]
rnd = random.Random(6)
os.makedirs(os.path.join(out, "feeds"), exist_ok=True)

EN = [
    "Acme charged me twice for order {n} and nobody answers my emails. I want a refund now!",
    "My parcel {n} is lost, terrible service, still no refund after three weeks.",
    "The blender broke after {d} days and Acme refused the warranty. Never again.",
    "Support hung up on me twice about invoice {n}. Worst customer service ever.",
    "Acme cancelled my order {n} and kept the money. I am filing a chargeback.",
    "Delivery was {d} days late and the box arrived damaged. Very disappointed.",
    "Wrong item delivered again (order {n}), and the return label never came.",
]
HU = [
    "Hibás számla, és senki nem felel: kétszer vonták le a {n} Ft-ot a Villanyásztól.",
    "A Villanyász {d} napja nem válaszol, a panaszomra se reagáltak. Felháborító!",
    "Megint hibás a számlám ({n} Ft), az ügyfélszolgálat le se szarja.",
    "Kikapcsolták az áramot, pedig befizettem a {n} Ft-ot. Visszakérem a pénzem!",
]
TITLES_EN = ["Charged twice", "Lost parcel", "Broken after days", "Rude support",
             "Order cancelled", "Late delivery", "Wrong item"]
TITLES_HU = ["Hibás számla", "Nem válaszolnak", "Dupla terhelés", "Áramszünet"]

feeds = (n + 999) // 1000
names = []
i = 0
for f in range(feeds):
    hu = f % 3 == 2
    name = f"bench-{f:03d}"
    names.append((name, hu))
    items = []
    for k in range(min(1000, n - i)):
        i += 1
        t = rnd.randrange(len(HU if hu else EN))
        text = (HU if hu else EN)[t].format(n=rnd.randrange(1000, 99999), d=rnd.randrange(2, 40))
        title = (TITLES_HU if hu else TITLES_EN)[t % len(TITLES_HU if hu else TITLES_EN)]
        day = 1 + (i % 28)
        hour = i % 24
        items.append(
            f"<item><guid>b{i}</guid><title>{escape(title)} {i}</title>"
            f"<link>https://reviews.example/{name}/{i}</link>"
            f"<author>user{i}@example.com (User {i})</author>"
            f"<description>{escape(text)}</description>"
            f"<pubDate>Mon, {day:02d} Nov 2026 {hour:02d}:00:00 GMT</pubDate>"
            "</item>")
    with open(os.path.join(out, "feeds", name + ".xml"), "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                 f"<title>{name}</title><link>https://reviews.example/</link>\n")
        fh.write("\n".join(items))
        fh.write("\n</channel></rss>\n")

with open(os.path.join(out, "earshot.yml"), "w", encoding="utf-8") as fh:
    fh.write(f"rules: [{rules}]\n")
    fh.write("brands:\n  - {name: Acme, aliases: [acme]}\n"
             "  - {name: Villanyász, aliases: [villanyász, villanyasz]}\n")
    fh.write("teams:\n  - {name: billing, members: [bench]}\n  - {name: support}\n")
    fh.write("sources:\n")
    for name, hu in names:
        fh.write(f"  - {{name: {name}, url: feeds/{name}.xml, type: rss, "
                 f"brand: {'Villanyász' if hu else 'Acme'}, lang: {'hu' if hu else 'en'}}}\n")
