// End-to-end test of the web inbox in a real browser: Debian's chromium
// driven by playwright-core against `earshot serve` on 127.0.0.1, over a
// store filled by the offline demo plus a feed of hostile reviews.
//
// Logs in, sees the queue, moves with j/k, assigns, responds and resolves
// one item with the keyboard and checks the store with `earshot queue
// show`; dismisses one as "not a complaint" and sees the rule statistics
// change; opens the hostile reviews and checks that nothing in them ran; a
// new complaint appears without a reload; the interface switches to
// Hungarian. Screenshots go to $EAR_ARTIFACTS (under the build directory).
//
// Env: EARSHOT (binary), EAR_SRC (source tree), EAR_TMP (scratch),
// EAR_ARTIFACTS (screenshots). Needs `npm ci` in tests/e2e (scripts/
// bootstrap test does it) and /usr/bin/chromium: without them this test
// fails, it never skips.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const EARSHOT = process.env.EARSHOT || "earshot";
const SRC = process.env.EAR_SRC || path.resolve(import.meta.dirname, "../..");
const TMP = process.env.EAR_TMP || "/tmp/earshot-e2e";
const ART = process.env.EAR_ARTIFACTS || path.join(TMP, "artifacts");
const CHROMIUM = process.env.EAR_CHROMIUM || "/usr/bin/chromium";

let failures = 0;
function check(cond, what, detail) {
  if (!cond) {
    failures++;
    console.error("FAIL: " + what + (detail ? "\n  " + String(detail).slice(0, 800) : ""));
  }
  return cond;
}
function die(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}

let chromium;
try {
  const require = createRequire(import.meta.url);
  ({ chromium } = require("playwright-core"));
} catch (e) {
  die("playwright-core is not installed: run 'npm ci' in tests/e2e " +
      "(scripts/bootstrap test does it): " + e.message);
}
if (!fs.existsSync(CHROMIUM))
  die(CHROMIUM + " is missing: apt-get install chromium (scripts/bootstrap test does it)");

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });
fs.mkdirSync(ART, { recursive: true });
const DB = path.join(TMP, "e2e.db");
const DEMO = path.join(SRC, "examples", "demo.yml");

function earshot(args, input) {
  const env = { ...process.env, NO_COLOR: "1" };
  delete env.EARSHOT_CONFIG;
  return spawnSync(EARSHOT, args, { cwd: TMP, input, encoding: "utf8", env, timeout: 120000 });
}

// ------------------------------------------------------------ the store
let p = earshot(["--config", DEMO, "--db", DB, "run"]);
check(p.status === 0 || p.status === 3, "demo run stores the demo", p.stderr);

// Titles and descriptions are HTML to the fetcher: markup meant to reach
// the store as text is escaped twice.
function hostileFeed(items) {
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>hostile</title><link>https://shop.example/</link>
${items}
</channel></rss>`;
}
const hostileItems = `
<item><guid>x1</guid>
  <title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; Acme refund scam</title>
  <link>javascript:alert(1)</link>
  <description>Acme charged me twice for the same order and nobody answers my
  emails. Worst service ever, I want a refund now! &amp;lt;script&amp;gt;alert(2)&amp;lt;/script&amp;gt;</description>
  <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
<item><guid>x2</guid>
  <title>Parcel lost xyzzyhostile</title>
  <link>https://shop.example/r/2?a=1&amp;b=(2)</link>
  <description>&amp;quot;&amp;gt;&amp;lt;img src=x onerror=alert(3)&amp;gt; Acme lost my
  parcel, terrible service, still no refund after three weeks! &amp;lt;a href="javascript:alert(4)"&amp;gt;click&amp;lt;/a&amp;gt;</description>
  <pubDate>Mon, 23 Nov 2026 11:00:00 GMT</pubDate></item>`;
fs.writeFileSync(path.join(TMP, "hostile.xml"), hostileFeed(hostileItems));
const HCFG = path.join(TMP, "hostile.yml");
fs.writeFileSync(HCFG, `
rules: [${path.join(SRC, "rules")}]
brands:
  - name: Acme
    aliases: [acme]
sources:
  - name: hostile
    url: hostile.xml
    brand: Acme
    type: rss
    lang: en
  - name: later
    url: later.xml
    brand: Acme
    type: rss
    lang: en
`);
fs.writeFileSync(path.join(TMP, "later.xml"), hostileFeed(""));
p = earshot(["--config", HCFG, "--db", DB, "run"]);
check(p.status === 0, "the hostile feed is stored", p.stderr);
p = earshot(["--config", DEMO, "--db", DB, "queue", "list", "--json", "--state", "all"]);
const queued = JSON.parse(p.stdout || "[]");
const hostile = queued.filter((it) => it.source === "hostile");
check(hostile.length === 2, "both hostile reviews are queued", p.stdout.slice(0, 300));

p = earshot(["--config", DEMO, "--db", DB, "user", "add", "anna", "--team", "billing",
             "--role", "agent", "--password-stdin"], "anna-password-1\n");
check(p.status === 0, "user add anna", p.stderr);
p = earshot(["--config", DEMO, "--db", DB, "user", "add", "lena", "--role", "lead",
             "--password-stdin"], "lena-password-1\n");
check(p.status === 0, "user add lena", p.stderr);

// ------------------------------------------------------------ the server
const server = spawn(EARSHOT, ["--config", DEMO, "--db", DB, "serve", "--listen", "127.0.0.1:0"],
                     { cwd: TMP, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
let serverErr = "";
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("serve did not start: " + serverErr)), 15000);
  server.stderr.on("data", (d) => {
    serverErr += d;
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(serverErr);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  server.on("exit", (code) => reject(new Error("serve exited " + code + ": " + serverErr)));
}).catch((e) => die(e.message));

// playwright gives every launch a new, empty --user-data-dir of its own
const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
}).catch((e) => { server.kill("SIGTERM"); die("chromium did not start: " + e.message); });

let exitCode = 0;
try {
  const context = await browser.newContext({ locale: "en-US", viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const dialogs = [];
  const pageErrors = [];
  const consoleErrors = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  const offsite = [];
  page.on("request", (r) => { if (!r.url().startsWith(url)) offsite.push(r.url()); });

  // the item's times read as Intl's medium date and short time would
  // write them (the page writes them out itself)
  const timesAsIntl = async (locale) => {
    const id = Number((await page.textContent("#detail .rid")).slice(1));
    const it = (await (await page.request.get(url + "api/queue/" + id)).json()).item;
    const want = await page.evaluate(([c, l]) => new Intl.DateTimeFormat(l, {
      dateStyle: "medium", timeStyle: "short" }).format(new Date(c)), [it.created, locale]);
    const dds = await page.$$eval("#detail .meta dd", (d) => d.map((x) => x.textContent));
    check(dds.includes(want), "times read as " + locale + " writes them", want + " in " + dds.join(" | "));
  };

  // ---------------------------------------------------------- log in
  const appHash = /app\.js\?v=([0-9a-f]+)/.exec(await (await fetch(url)).text())?.[1];
  check(appHash, "the page names app.js by its hash");
  await page.goto(url);
  await page.waitForSelector("#login-form", { state: "visible" });
  await page.fill("#login-user", "anna");
  await page.fill("#login-password", "wrong-password");
  await page.click("#login-submit");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  check((await page.textContent("#login-error")).includes("Wrong"), "a wrong password is refused");
  await page.fill("#login-password", "anna-password-1");
  await page.click("#login-submit");
  await page.waitForSelector("#queue li.row");
  const cookies = await context.cookies();
  const sess = cookies.find((c) => c.name === "earshot_session");
  check(sess && sess.httpOnly && sess.sameSite === "Strict", "the session cookie is HttpOnly, SameSite=Strict",
        JSON.stringify(sess));
  check(!(await page.evaluate(() => document.cookie)).includes("earshot_session"),
        "the page's script cannot read the session cookie");

  // ---------------------------------------------------------- the queue
  const rows = await page.$$eval("#queue li.row", (ls) => ls.map((l) => ({
    id: Number(l.dataset.id), cls: l.className })));
  const openApi = queued.filter((it) => ["new", "assigned", "responded"].includes(it.state));
  check(rows.length === Math.min(50, openApi.length), "the queue lists the open items (a page of 50)",
        rows.length + " vs " + openApi.length);
  p = earshot(["--config", DEMO, "--db", DB, "queue", "list", "--json", "--limit", "50"]);
  const cliOrder = JSON.parse(p.stdout).map((it) => it.id);
  check(JSON.stringify(rows.map((r) => r.id)) === JSON.stringify(cliOrder),
        "most urgent first: the same order as earshot queue list", rows.map((r) => r.id).join(","));
  const counts = await page.textContent("#counts");
  check(/\d+\s*open/.test(counts) && /overdue/.test(counts), "counts per state are shown", counts);
  const banner = await page.textContent("#incidents");
  check(await page.isVisible("#incidents") && /Surge/.test(banner),
        "the open incident shows as a banner", banner);
  await page.screenshot({ path: path.join(ART, "inbox.png") });

  // ---------------------------------------------------------- keyboard
  const detailId = async () => Number((await page.textContent("#detail .rid") || "#0").slice(1));
  await page.waitForSelector("#detail .rid");
  const first = await detailId();
  check(first === rows[0].id, "the first item is opened", first);
  await page.locator("#queue").focus();
  await page.keyboard.press("j");
  await page.waitForFunction((id) => document.querySelector("#detail .rid")?.textContent === "#" + id,
                             rows[1].id);
  check(await page.getAttribute(`#queue li[data-id="${rows[1].id}"]`, "aria-selected") === "true",
        "j selects the next item");
  await page.keyboard.press("k");
  await page.waitForFunction((id) => document.querySelector("#detail .rid")?.textContent === "#" + id,
                             rows[0].id);
  const target = await detailId();
  check(target === rows[0].id, "k goes back");
  const stateOf = () => page.$eval("#detail .d-head .st", (e) => e.textContent);

  await page.keyboard.press("a");
  await page.waitForFunction(() => document.querySelector("#detail .d-head .st")?.textContent === "assigned");
  await page.keyboard.press("r");
  await page.waitForSelector("#dlg[open]");
  await page.keyboard.type("Called the customer back");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#dlg", { state: "hidden" });
  await page.waitForFunction(() => document.querySelector("#detail .d-head .st")?.textContent === "responded");
  check(await stateOf() === "responded", "r marks it responded");
  await page.keyboard.press("e");
  await page.waitForFunction((id) => !document.querySelector(`#queue li[data-id="${id}"]`), target);
  p = earshot(["--config", DEMO, "--db", DB, "queue", "show", String(target), "--json"]);
  const shown = JSON.parse(p.stdout);
  check(shown.item.state === "resolved" && shown.item.owner === "anna",
        "the store has it resolved, owned by anna", JSON.stringify(shown.item).slice(0, 300));
  const kinds = shown.history.map((h) => h.kind + ":" + h.actor);
  check(kinds.includes("assigned:anna") && kinds.includes("responded:anna") &&
        kinds.includes("resolved:anna"), "every action is in the event log with the user", kinds.join(" "));
  check(shown.history.some((h) => h.kind === "responded" && h.note === "Called the customer back"),
        "the response note is kept", JSON.stringify(shown.history));

  // ---------------------------------------------------------- dismiss, rule stats
  const rulesOf = async () => {
    const r = await page.request.get(url + "api/rules");
    const m = {};
    for (const x of (await r.json()).rules) m[x.rule] = x.not_a_complaint;
    return m;
  };
  const before = await rulesOf();
  await page.waitForFunction((id) => {
    const d = document.querySelector("#detail .rid");
    const sel = document.querySelector("#queue li.sel");
    return d && sel && d.textContent !== "#" + id && d.textContent === "#" + sel.dataset.id;
  }, target);
  const victim = await detailId();
  const vd = await (await page.request.get(url + "api/queue/" + victim)).json();
  const vrules = [...new Set(vd.verdict.matches.map((m) => m.rule))];
  await page.locator("#queue").focus();
  await page.keyboard.press("d");
  await page.waitForSelector("#dlg[open]");
  await page.keyboard.press("1");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#dlg", { state: "hidden" });
  await page.waitForFunction((id) => !document.querySelector(`#queue li[data-id="${id}"]`), victim);
  const after = await rulesOf();
  check(vrules.length > 0 && vrules.every((r) => (after[r] || 0) === (before[r] || 0) + 1),
        "dismissing as not-a-complaint counts against each rule that flagged it",
        JSON.stringify({ vrules, before: vrules.map((r) => before[r]), after: vrules.map((r) => after[r]) }));
  p = earshot(["--config", DEMO, "--db", DB, "queue", "show", String(victim), "--json"]);
  const dis = JSON.parse(p.stdout);
  check(dis.item.state === "dismissed" && dis.item.dismiss_reason === "not-a-complaint",
        "the store has it dismissed as not-a-complaint", JSON.stringify(dis.item).slice(0, 200));

  // ---------------------------------------------------------- hostile reviews
  await page.keyboard.press("/");
  await page.keyboard.type("xyzzyhostile");
  await page.waitForFunction(() => document.querySelectorAll("#queue li.row").length === 1);
  await page.locator("#queue").focus();
  await page.waitForFunction(() => /xyzzyhostile/.test(document.querySelector("#detail .d-title")?.textContent || ""));
  const text2 = await page.textContent("#detail .d-text");
  check(text2.includes("<img src=x onerror=alert(3)>") && text2.includes('<a href="javascript:alert(4)">'),
        "hostile markup shows as text", text2);
  check(await page.$$eval("#detail img, #detail script, #detail iframe", (e) => e.length) === 0,
        "no element was made from the review");
  check(await page.$$eval("#detail a", (as) => as.every((a) => /^https?:/.test(a.href))),
        "links are http(s) only");
  await page.screenshot({ path: path.join(ART, "hostile.png") });

  await page.fill("#f-q", "refund scam");
  await page.waitForFunction(() => /refund scam/.test(document.querySelector("#detail .d-title")?.textContent || ""));
  const title1 = await page.textContent("#detail .d-title");
  check(title1.includes("<script>alert(1)</script>"), "a <script> title shows as text", title1);
  check(await page.$$eval("#detail a", (as) => as.length) === 0,
        "a javascript: link is not a link");
  check((await page.textContent("#detail .meta")).includes("(no safe link)"),
        "the unsafe link is named, not linked");
  check(dialogs.length === 0, "no script from a review ran (no alert)", dialogs.join(", "));
  const scripts = () => page.evaluate(() => [...document.scripts].map((s) => s.type || s.src));
  check(JSON.stringify(await scripts()) === JSON.stringify([url + "app.js?v=" + appHash, "application/json"]),
        "the only script is app.js (and the boot data block, empty before login)",
        JSON.stringify(await scripts()));

  // ---------------------------------------------------------- reload: the page brings its data
  check(new URL(page.url()).searchParams.get("q") === "refund scam", "the view is in the page's URL",
        page.url());
  const apiSeen = [];
  // (the KPIs of the header line are asked for after, unless cached)
  const onApi = (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith("/api/") && p !== "/api/kpis") apiSeen.push(r.url());
  };
  page.on("request", onApi);
  await page.reload();
  await page.waitForFunction(() => /refund scam/.test(document.querySelector("#detail .d-title")?.textContent || ""));
  page.off("request", onApi);
  check(apiSeen.length === 0, "after a reload the queue and the item show without asking the API",
        apiSeen.join(" "));
  check(await page.inputValue("#f-q") === "refund scam", "the search field comes from the URL");
  const title3 = await page.textContent("#detail .d-title");
  check(title3.includes("<script>alert(1)</script>"), "a <script> title from the boot data shows as text",
        title3);
  check(await page.$$eval("#detail script, #detail img", (e) => e.length) === 0 && dialogs.length === 0,
        "nothing in the boot data ran", dialogs.join(", "));
  check(JSON.stringify(await scripts()) === JSON.stringify([url + "app.js?v=" + appHash, "application/json"]),
        "the boot data is a JSON block, the only script app.js", JSON.stringify(await scripts()));
  check(await page.$eval("#boot", (e) => e.textContent) === "",
        "the boot data (with its CSRF token) is taken out of the DOM once read");
  check(await page.$eval("#who", (e) => e.textContent).then((t) => t.startsWith("anna")),
        "the boot data's user is shown");
  await timesAsIntl("en-GB");

  // ---------------------------------------------------------- new items without reload
  await page.fill("#f-q", "");
  await page.waitForFunction(() => document.querySelectorAll("#queue li.row").length > 1);
  fs.writeFileSync(path.join(TMP, "later.xml"), hostileFeed(`
<item><guid>late1</guid><title>Acme double charge plugh</title>
  <link>https://shop.example/r/9</link>
  <description>Acme charged my card twice and support never answers. Terrible, I want my money back now!</description>
  <pubDate>Mon, 23 Nov 2026 12:00:00 GMT</pubDate></item>`));
  p = earshot(["--config", HCFG, "--db", DB, "run", "--source", "later"]);
  check(p.status === 0, "a new complaint is stored", p.stderr);
  await page.fill("#f-q", "plugh");
  await page.waitForFunction(() => document.querySelectorAll("#queue li.row").length === 1, null, { timeout: 15000 });
  check(true, "the new complaint appears");
  await page.fill("#f-q", "");
  const latest = JSON.parse(earshot(["--config", DEMO, "--db", DB, "queue", "list", "--json", "--limit", "0"]).stdout)
    .find((it) => (it.title || "").includes("plugh"));
  fs.writeFileSync(path.join(TMP, "later.xml"), hostileFeed(`
<item><guid>late2</guid><title>Acme xyzzy second surprise</title>
  <link>https://shop.example/r/10</link>
  <description>Acme lost my parcel again, terrible service, I want a refund!</description>
  <pubDate>Mon, 23 Nov 2026 12:30:00 GMT</pubDate></item>`));
  earshot(["--config", HCFG, "--db", DB, "run", "--source", "later"]);
  const polled = await page.waitForFunction(() => {
    return [...document.querySelectorAll("#queue .rtitle")].some((e) => /second surprise/.test(e.textContent));
  }, null, { timeout: 20000 }).then(() => true, () => false);
  check(polled && latest, "a new item appears in the open list without a reload (polling)");

  // ---------------------------------------------------------- Hungarian
  await page.click("header .lang-switch");
  check((await page.textContent("#logout")) === "Kilépés", "the interface switches to Hungarian");
  await page.screenshot({ path: path.join(ART, "inbox-hu.png") });
  await timesAsIntl("hu-HU");
  const huContext = await browser.newContext({ locale: "hu-HU" });
  const hu = await huContext.newPage();
  await hu.goto(url);
  await hu.waitForSelector("#login-form", { state: "visible" });
  check((await hu.textContent("#login-submit")) === "Belépés", "a Hungarian browser gets Hungarian text");
  await huContext.close();

  // ---------------------------------------------------------- the rest
  check(pageErrors.length === 0, "no script errors", pageErrors.join("\n"));
  check(!consoleErrors.some((m) => /Content Security Policy|Refused/.test(m)),
        "no CSP violations", consoleErrors.join("\n"));
  check(offsite.length === 0, "the page loads nothing from elsewhere", offsite.join("\n"));
  await context.close();
} catch (e) {
  console.error("FAIL: " + (e && e.stack || e));
  exitCode = 1;
} finally {
  await browser.close();
  server.kill("SIGTERM");
  const code = await new Promise((resolve) => server.on("exit", resolve));
  check(code === 0, "serve stops cleanly on SIGTERM", serverErr);
}
if (failures || exitCode) {
  console.error(failures + " check(s) failed");
  process.exit(1);
}
console.log("ok; screenshots in " + ART);
