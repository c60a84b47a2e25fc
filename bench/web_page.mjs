// How fast the inbox is usable: loads the page N times in headless
// chromium (Debian's, driven by playwright-core from tests/e2e) with a
// logged-in session and measures, from the start of navigation, DOM
// interactive, the moment the queue's first page is on screen (the keys
// work from then on) and the moment the first item is shown too. Prints
// one JSON line with the medians and the worst.
// Usage: node bench/web_page.mjs URL SESSION-COOKIE [N]
import { createRequire } from "node:module";
import path from "node:path";

const [url, cookie, nArg] = process.argv.slice(2);
const n = Number(nArg || 15);
const require = createRequire(path.join(import.meta.dirname, "..", "tests", "e2e", "package.json"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: process.env.EAR_CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
});
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const u = new URL(url);
await context.addCookies([{ name: "earshot_session", value: cookie, domain: u.hostname, path: "/",
                            httpOnly: true, sameSite: "Strict" }]);
const runs = [];
for (let i = 0; i < n; i++) {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "commit" });
  // the moment the first row is in the DOM, noted by the page itself
  await page.evaluate(() => {
    window.__rows = 0;
    window.__item = 0;
    const note = () => {
      if (!window.__rows && document.querySelector("#queue li.row")) window.__rows = performance.now();
      if (!window.__item && document.querySelector("#detail .rid")) window.__item = performance.now();
    };
    new MutationObserver(note).observe(document, { childList: true, subtree: true });
    note();
  }).catch(() => {});
  await page.waitForSelector("#queue li.row");
  await page.waitForSelector("#detail .rid");
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { interactive: nav.domInteractive, queue: window.__rows || performance.now(),
             ready: window.__item || performance.now() };
  });
  runs.push(m);
  await page.close();
}
await browser.close();
const med = (k) => { const v = runs.map((r) => r[k]).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const max = (k) => Math.max(...runs.map((r) => r[k]));
console.log(JSON.stringify({
  runs: n, dom_interactive_ms: Math.round(med("interactive")),
  queue_shown_ms: Math.round(med("queue")), queue_and_item_shown_ms: Math.round(med("ready")),
  worst_ms: Math.round(max("ready"))
}));
