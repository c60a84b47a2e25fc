// How fast the inbox is usable: loads the page N times in headless
// chromium (Debian's, driven by playwright-core from tests/e2e) with a
// logged-in session and measures, from the start of navigation, DOM
// interactive, the moment the queue's first page is on screen (the keys
// work from then on) and the moment the first item is shown too. The
// page notes those moments itself (a MutationObserver installed before any
// of its scripts run), and the end of the first frame drawn after the first
// item is in (requestAnimationFrame, then a task), and chromium's first
// contentful paint. Prints one JSON line with the medians and the worst,
// the median of when each of the page's own requests ended (resource
// timing, ms from the start of navigation) and how many there were before
// the first item showed.
// With two servers (URL2 COOKIE2: another build over the same store), the
// loads alternate between them in one browser, so that both see the same
// machine at the same moments: one line each, the first named "a", the
// second "b".
// Each load opens a new tab (a new renderer process: what opening the
// inbox costs); with EAR_WEB_SAME_TAB=1 the loads navigate one tab again
// and again (what a reload costs: the renderer is reused).
// Usage: node bench/web_page.mjs URL SESSION-COOKIE [N [URL2 COOKIE2]]
import { createRequire } from "node:module";
import path from "node:path";

const [url, cookie, nArg, url2, cookie2] = process.argv.slice(2);
const n = Number(nArg || 15);
const require = createRequire(path.join(import.meta.dirname, "..", "tests", "e2e", "package.json"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: process.env.EAR_CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
});

async function target(name, url, cookie) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const u = new URL(url);
  await context.addCookies([{ name: "earshot_session", value: cookie, domain: u.hostname, path: "/",
                              httpOnly: true, sameSite: "Strict" }]);
  // the moments the first row and the first item are in the DOM, noted by
  // the page itself from before its first script runs
  await context.addInitScript(() => {
    window.__rows = 0;
    window.__item = 0;
    window.__painted = 0;
    const note = () => {
      if (!window.__rows && document.querySelector("#queue li.row")) window.__rows = performance.now();
      if (!window.__item && document.querySelector("#detail .rid")) {
        window.__item = performance.now();
        requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); }, 0));
      }
    };
    new MutationObserver(note).observe(document, { childList: true, subtree: true });
  });
  return { name, url, context, runs: [], res: {} };
}

const sameTab = process.env.EAR_WEB_SAME_TAB === "1";

async function load(t) {
  const page = sameTab ? (t.page = t.page || await t.context.newPage()) : await t.context.newPage();
  await page.goto(t.url, { waitUntil: "commit" });
  await page.waitForSelector("#queue li.row");
  await page.waitForSelector("#detail .rid");
  await page.waitForFunction(() => window.__painted > 0 &&
                             performance.getEntriesByName("first-contentful-paint").length > 0);
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const ready = window.__item || performance.now();
    const r = { html: nav.responseEnd };
    let before = 0;
    for (const e of performance.getEntriesByType("resource")) {
      const u = new URL(e.name);
      const k = u.pathname.replace(/\/\d+$/, "/{id}");
      if (!(k in r)) r[k] = e.responseEnd;
      if (e.startTime < ready) before++;
    }
    return { interactive: nav.domInteractive, queue: window.__rows || performance.now(),
             ready, painted: window.__painted,
             fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime, before, r };
  });
  t.runs.push(m);
  for (const k in m.r) (t.res[k] = t.res[k] || []).push(m.r[k]);
  if (!sameTab) await page.close();
}

const targets = [await target(url2 ? "a" : undefined, url, cookie)];
if (url2) targets.push(await target("b", url2, cookie2));
for (let i = 0; i < n; i++)
  for (const t of targets) await load(t);
await browser.close();

for (const t of targets) {
  const med = (k) => { const v = t.runs.map((r) => r[k]).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
  const max = (k) => Math.max(...t.runs.map((r) => r[k]));
  console.log(JSON.stringify({
    ...(t.name ? { server: t.name } : {}), ...(sameTab ? { same_tab: true } : {}),
    runs: n, dom_interactive_ms: Math.round(med("interactive")),
    queue_shown_ms: Math.round(med("queue")), queue_and_item_shown_ms: Math.round(med("ready")),
    worst_ms: Math.round(max("ready")), first_frame_after_item_ms: Math.round(med("painted")),
    first_contentful_paint_ms: Math.round(med("fcp")), requests_before_item: med("before"),
    ends_ms: Object.fromEntries(Object.entries(t.res).map(([k, v]) => {
      v.sort((a, b) => a - b);
      return [k + (v.length < n ? " (" + v.length + " of " + n + " loads)" : ""),
              Math.round(v[Math.floor(v.length / 2)])];
    }))
  }));
}
