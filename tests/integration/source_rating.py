"""A review page's own rating (schema.org AggregateRating) is kept with its
source by `earshot run` and shown by `earshot sources`: the value on the
1-5 scale, how many ratings are behind it and when it was read; a new
value replaces it at the next poll. A feed has none."""
import os
import shutil
from _harness import (SRC, TMP, check, finish, fresh_tmp, jsonout, run,
                      write)

fresh_tmp()
pages = os.path.join(SRC, "tests", "fixtures", "pages")
page = os.path.join(TMP, "shop.html")
shutil.copy(os.path.join(pages, "jsonld_product", "input"), page)
feed = os.path.join(SRC, "examples", "feeds", "acme-reviews.xml")
cfg = write("rating.yml",
            "sources:\n"
            f"  - {{name: shop, url: \"{page}\", type: html}}\n"
            f"  - {{name: feed, url: \"{feed}\"}}\n")
db = os.path.join(TMP, "rating.db")
G = ["--config", cfg, "--db", db]
env = dict(os.environ, EARSHOT_NOW="2026-11-23T10:00:00Z")


def sources():
    p = run(*G, "sources", "--json", env=env)
    check(p.returncode == 0, "sources --json exits 0", p.stderr)
    out = jsonout(p, "sources --json") or {"sources": []}
    return {s["name"]: s for s in out["sources"]}


p = run(*G, "run", env=env)
check(p.returncode == 0, "run exits 0", p.stderr)
s = sources()
shop, fd = s.get("shop", {}), s.get("feed", {})
check(shop.get("rating") == 3.4, "the page's rating is kept", str(shop))
check(shop.get("rating_count") == 128, "with its count", str(shop))
check(shop.get("rating_at") == "2026-11-23T10:00:00Z",
      "and when it was read", str(shop))
check(fd.get("rating") is None and fd.get("rating_count") is None
      and fd.get("rating_at") is None, "a feed has no page rating", str(fd))
p = run(*G, "sources", env=env)
check(" 3.40 " in p.stdout, "the table shows it", p.stdout)

# The page changes its rating: the new one replaces it at the next poll.
with open(page, encoding="utf-8") as f:
    html = f.read()
check('"ratingValue": "3,4"' in html and '"ratingCount": "128"' in html,
      "the fixture carries 3,4 of 128 (a decimal comma)")
with open(page, "w", encoding="utf-8") as f:
    f.write(html.replace('"ratingValue": "3,4"', '"ratingValue": "2,9"')
            .replace('"ratingCount": "128"', '"ratingCount": "131"'))
env["EARSHOT_NOW"] = "2026-11-23T12:00:00Z"
p = run(*G, "run", "--force", env=env)
check(p.returncode == 0, "second run exits 0", p.stderr)
shop = sources().get("shop", {})
check(shop.get("rating") == 2.9 and shop.get("rating_count") == 131,
      "the new rating replaces the old", str(shop))
check(shop.get("rating_at") == "2026-11-23T12:00:00Z", "read again",
      str(shop))
finish()
