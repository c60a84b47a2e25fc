/*
 * earshot's web inbox: one page over the JSON API of `earshot serve`.
 *
 * Nothing a review, a title, an author or a note contains is ever parsed as
 * HTML: every piece of it goes into the page with textContent, links only
 * for http(s) URLs the server calls linkable. The page is served with a
 * Content-Security-Policy that allows no inline script at all.
 *
 * State is one object (S); the queue is polled every few seconds with
 * If-None-Match, so new items appear without a reload and an unchanged
 * queue costs a 304.
 */
"use strict";

(function () {
  const POLL_MS = 5000;
  const INCIDENT_POLL_MS = 30000;
  const PAGE = 50;
  const REASONS = ["not-a-complaint", "duplicate", "spam", "not-about-us"];

  const T = {
    en: {
      otherLang: "Magyar", loginHint: "Sign in to the service inbox",
      user: "User", password: "Password", logIn: "Log in", logOut: "Log out",
      helpButton: "Keys (?)", queue: "Queue", search: "Search (/)",
      team: "team", owner: "owner", category: "category", brand: "brand",
      source: "source", language: "language", overdueOnly: "overdue only",
      stOpen: "open", stNew: "new", stAssigned: "assigned",
      stResponded: "responded", stResolved: "resolved",
      stDismissed: "dismissed", stClosed: "closed", stAll: "all",
      stOverdue: "overdue",
      dismissSelected: "Dismiss selected", clearSelection: "Clear",
      prev: "‹ previous", next: "next ›",
      nothingSelected: "Select an item (j/k).", empty: "Nothing here.",
      assignTo: "Assign to", note: "Note", cancel: "Cancel", ok: "OK",
      keysTitle: "Keyboard", close: "Close",
      wrongLogin: "Wrong user name or password.",
      author: "Author", rating: "Rating", published: "Published",
      queued: "Queued", due: "Due", link: "Original",
      noLink: "(no safe link)", verdict: "Verdict", history: "History",
      complaint: "complaint", rules: "rules", noVerdict: "no verdict stored",
      sevcritical: "critical", sevhigh: "high", sevmedium: "medium",
      sevlow: "low", sevnone: "none", overdue: "OVERDUE",
      assignMe: "Assign to me (a)", assignOther: "Assign to…",
      respond: "Responded (r)", resolve: "Resolve (e)",
      dismiss: "Dismiss (d)", reopen: "Reopen (u)", addNote: "Note (n)",
      respondTitle: "Mark #%s responded", respondNote: "What was answered (optional)",
      dismissTitle: "Dismiss #%s", noteTitle: "Note on #%s",
      assignTitle: "Assign #%s", resolveDone: "#%s resolved",
      "not-a-complaint": "not a complaint (1)", duplicate: "duplicate (2)",
      spam: "spam (3)", "not-about-us": "not about us (4)",
      selected: "%s selected", dismissedN: "%s dismissed",
      failedN: "%s failed: %s", newItems: "%s new item(s)",
      incident: "Surge", incidentText: "%s: %s mentions about %s since %s",
      state: "state", unassigned: "unassigned",
      kj: "next item", kk: "previous item", ka: "assign to me",
      kr: "mark responded (with a note)", ke: "resolve",
      kd: "dismiss with a reason (then 1-4)", ku: "reopen", kn: "add a note",
      kx: "select for bulk dismiss", kslash: "search", kq: "this help",
      kesc: "close a dialog, leave the search",
      sessionEnded: "Your session ended: log in again.",
      conflict: "Changed meanwhile: %s", error: "Error: %s",
      reach: "Reach", lang: "Language", explain: "Why",
      dSource: "Source", dTeam: "Team", dOwner: "Owner",
      kpiLine: "%s open · %s overdue · %s surge(s)"
    },
    hu: {
      otherLang: "English", loginHint: "Bejelentkezés az ügyfélszolgálati postafiókba",
      user: "Felhasználó", password: "Jelszó", logIn: "Belépés",
      logOut: "Kilépés", helpButton: "Billentyűk (?)", queue: "Sor",
      search: "Keresés (/)", team: "csapat", owner: "felelős",
      category: "kategória", brand: "márka", source: "forrás",
      language: "nyelv", overdueOnly: "csak késésben",
      stOpen: "nyitott", stNew: "új", stAssigned: "kiosztva",
      stResponded: "megválaszolva", stResolved: "megoldva",
      stDismissed: "elvetve", stClosed: "lezárt", stAll: "mind",
      stOverdue: "késésben",
      dismissSelected: "Kijelöltek elvetése", clearSelection: "Törlés",
      prev: "‹ előző", next: "következő ›",
      nothingSelected: "Válasszon egy tételt (j/k).", empty: "Nincs találat.",
      assignTo: "Kinek", note: "Megjegyzés", cancel: "Mégse", ok: "OK",
      keysTitle: "Billentyűk", close: "Bezárás",
      wrongLogin: "Hibás felhasználónév vagy jelszó.",
      author: "Szerző", rating: "Értékelés", published: "Megjelent",
      queued: "Sorba került", due: "Határidő", link: "Eredeti",
      noLink: "(nincs biztonságos link)", verdict: "Ítélet",
      history: "Előzmények", complaint: "panasz", rules: "szabályok",
      noVerdict: "nincs tárolt ítélet",
      sevcritical: "kritikus", sevhigh: "magas", sevmedium: "közepes",
      sevlow: "alacsony", sevnone: "nincs", overdue: "KÉSÉSBEN",
      assignMe: "Magamhoz (a)", assignOther: "Kiosztás…",
      respond: "Megválaszolva (r)", resolve: "Megoldva (e)",
      dismiss: "Elvetés (d)", reopen: "Újranyitás (u)",
      addNote: "Megjegyzés (n)",
      respondTitle: "#%s megválaszolva", respondNote: "Mit válaszoltunk (nem kötelező)",
      dismissTitle: "#%s elvetése", noteTitle: "Megjegyzés: #%s",
      assignTitle: "#%s kiosztása", resolveDone: "#%s megoldva",
      "not-a-complaint": "nem panasz (1)", duplicate: "ismétlés (2)",
      spam: "spam (3)", "not-about-us": "nem rólunk szól (4)",
      selected: "%s kijelölve", dismissedN: "%s elvetve",
      failedN: "%s sikertelen: %s", newItems: "%s új tétel",
      incident: "Hullám", incidentText: "%s: %s említés, téma: %s, kezdete: %s",
      state: "állapot", unassigned: "nincs kiosztva",
      kj: "következő tétel", kk: "előző tétel", ka: "magamhoz veszem",
      kr: "megválaszolva (megjegyzéssel)", ke: "megoldva",
      kd: "elvetés indokkal (utána 1-4)", ku: "újranyitás",
      kn: "megjegyzés", kx: "kijelölés tömeges elvetéshez",
      kslash: "keresés", kq: "ez a súgó",
      kesc: "párbeszéd bezárása, kilépés a keresésből",
      sessionEnded: "A munkamenet lejárt: lépjen be újra.",
      conflict: "Közben megváltozott: %s", error: "Hiba: %s",
      reach: "Elérés", lang: "Nyelv", explain: "Miért",
      dSource: "Forrás", dTeam: "Csapat", dOwner: "Felelős",
      kpiLine: "%s nyitott · %s késésben · %s hullám"
    }
  };

  const S = {
    lang: "en", me: null, csrf: "", items: [], total: 0, offset: 0,
    sel: -1, selId: 0, detail: null, etag: "", seen: new Set(),
    checked: new Set(), polling: 0, incidentTimer: 0, firstLoad: true,
    users: [], counts: null, loading: false
  };

  const $ = (id) => document.getElementById(id);

  /* ------------------------------------------------------------ text */

  function t(key, ...args) {
    const table = T[S.lang] || T.en;
    let s = key in table ? table[key] : (key in T.en ? T.en[key] : key);
    for (const a of args) s = s.replace("%s", String(a));
    return s;
  }

  function pickLang() {
    let saved = null;
    try { saved = localStorage.getItem("earshot.lang"); } catch (e) { saved = null; }
    if (saved === "hu" || saved === "en") return saved;
    const langs = navigator.languages || [navigator.language || "en"];
    for (const l of langs) {
      if (/^hu\b/i.test(l)) return "hu";
      if (/^en\b/i.test(l)) return "en";
    }
    return "en";
  }

  function applyLang() {
    document.documentElement.lang = S.lang;
    for (const el of document.querySelectorAll("[data-t]"))
      el.textContent = t(el.dataset.t);
    for (const el of document.querySelectorAll("[data-tp]"))
      el.placeholder = t(el.dataset.tp);
    fillReasons($("bulk-reason"));
    fillHelp();
  }

  function switchLang() {
    S.lang = S.lang === "hu" ? "en" : "hu";
    try { localStorage.setItem("earshot.lang", S.lang); } catch (e) { /* private mode */ }
    applyLang();
    if (S.me) {
      renderQueue();
      renderDetail();
      loadIncidents();
    }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* Month names as en-GB and hu-HU write them in a medium date. */
  const MONTHS = {
    en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"],
    hu: ["jan.", "febr.", "márc.", "ápr.", "máj.", "jún.", "júl.", "aug.", "szept.", "okt.",
         "nov.", "dec."]
  };

  /* Local date and time, "23 Nov 2026, 09:05" or "2026. nov. 23. 9:05"
   * (what Intl's medium date and short time give for en-GB and hu-HU,
   * written out here: the first Intl formatter of a page costs tens of
   * milliseconds before the first item can show). */
  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    const p2 = (n) => String(n).padStart(2, "0");
    const m = p2(d.getMinutes());
    if (S.lang === "hu")
      return d.getFullYear() + ". " + MONTHS.hu[d.getMonth()] + " " + d.getDate() + ". " +
             d.getHours() + ":" + m;
    return d.getDate() + " " + MONTHS.en[d.getMonth()] + " " + d.getFullYear() + ", " +
           p2(d.getHours()) + ":" + m;
  }


  function ago(iso) {
    if (!iso) return "";
    const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 3600) return Math.round(s / 60) + "m";
    if (s < 86400) return Math.round(s / 3600) + "h";
    return Math.round(s / 86400) + "d";
  }

  function toast(msg, bad) {
    const e = $("toast");
    e.textContent = msg;
    e.className = "toast show" + (bad ? " bad" : "");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { e.className = "toast"; }, 3500);
  }

  /* ------------------------------------------------------------ api */

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || ("HTTP " + status));
      this.status = status;
      this.field = body && body.field;
    }
  }

  async function api(method, path, body, headers) {
    const h = Object.assign({ "Accept": "application/json" }, headers || {});
    const opt = { method, headers: h, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") {
      h["Content-Type"] = "application/json";
      if (S.csrf) h["X-CSRF-Token"] = S.csrf;
      opt.body = JSON.stringify(body || {});
    }
    const r = await fetch(path, opt);
    if (r.status === 304) return { notModified: true };
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401 && path !== "/api/login") {
      sessionEnded();
      throw new ApiError(401, data);
    }
    if (!r.ok) throw new ApiError(r.status, data);
    if (data && typeof data === "object")
      Object.defineProperty(data, "_etag", { value: r.headers.get("ETag") || "" });
    return data;
  }

  function sessionEnded() {
    if (!S.me) return;
    stopPolling();
    S.me = null;
    S.csrf = "";
    showLogin(t("sessionEnded"));
  }

  /* ------------------------------------------------------------ login */

  function showLogin(msg) {
    $("splash").hidden = true;
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = msg || "";
    $("login-user").focus();
  }

  async function login(ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    try {
      const me = await api("POST", "/api/login", {
        user: $("login-user").value, password: $("login-password").value });
      $("login-password").value = "";
      start(me);
    } catch (e) {
      $("login-error").textContent = e.status === 401 ? t("wrongLogin") : e.message;
    } finally {
      $("login-submit").disabled = false;
    }
  }

  async function logout() {
    try { await api("POST", "/api/logout", {}); } catch (e) { /* gone anyway */ }
    stopPolling();
    S.me = null;
    S.csrf = "";
    showLogin("");
  }

  /* ------------------------------------------------------------ start */

  /* boot: what the server put into the page (bootData()), or null */
  function start(me, early, boot) {
    S.me = me;
    S.csrf = me.csrf;
    $("splash").hidden = true;
    $("login").hidden = true;
    $("app").hidden = false;
    $("title").textContent = me.title || "earshot";
    $("who").textContent = me.user + (me.team ? " · " + me.team : "") +
                           " · " + me.role;
    for (const tm of me.teams || []) addOption("dl-team", tm.name);
    S.etag = "";
    S.firstLoad = true;
    const b = boot || {};
    if (b.users) useUsers(b.users); else loadUsers();
    if (b.queue && bootFits(b.filters)) {
      if (b.item && b.queue.items.length && b.item.item.id === b.queue.items[0].id) {
        S.detail = b.item;
        S.selId = b.item.item.id;
      }
      S.lastQuery = query();
      showQueue(b.queue, b.queue_etag, true);
      if (S.detail) renderDetail();
    } else {
      loadQueue(true, early);
    }
    if (b.incidents) showIncidents(b.incidents); else fetchIncidents();
    if (b.kpis) showKpis(b.kpis); else loadKpis();
    startPolling();
    /* The keys work without it (they are read on the document); focusing
     * now would force a layout before the queue and the item are in. */
    requestAnimationFrame(() => {
      if (!document.activeElement || document.activeElement === document.body)
        $("queue").focus({ preventScroll: true });
    });
  }

  /* The filters the boot queue was computed for are the ones shown. */
  function bootFits(f) {
    if (!f) return false;
    for (const k in FILTERS)
      if ((f[k] || "") !== $(FILTERS[k]).value.trim()) return false;
    return !!f.overdue === $("f-overdue").checked && (f.offset || 0) === S.offset;
  }

  function startPolling() {
    stopPolling();
    S.polling = setInterval(() => { if (!document.hidden) loadQueue(false); }, POLL_MS);
    S.incidentTimer = setInterval(() => { if (!document.hidden) loadIncidents(); },
                                  INCIDENT_POLL_MS);
  }

  function stopPolling() {
    clearInterval(S.polling);
    clearInterval(S.incidentTimer);
  }

  async function loadUsers() {
    try {
      useUsers(await api("GET", "/api/users"));
    } catch (e) { S.users = []; }
  }

  function useUsers(r) {
    S.users = r.users || [];
    for (const u of S.users) addOption("dl-owner", u.name);
  }

  function addOption(listId, value) {
    if (!value) return;
    const dl = $(listId);
    for (const o of dl.options) if (o.value === value) return;
    const o = document.createElement("option");
    o.value = value;
    dl.appendChild(o);
  }

  /* ------------------------------------------------------------ queue */

  /* query parameter -> filter field */
  const FILTERS = { state: "f-state", team: "f-team", owner: "f-owner",
                    category: "f-category", brand: "f-brand",
                    source: "f-source", lang: "f-lang", q: "f-q" };

  /* The view (filters, page) without the page size: the page's own URL
   * holds it, so a reload or a link shows the same view, and the server
   * puts that view's first page into the page. */
  function view() {
    const p = new URLSearchParams();
    for (const k in FILTERS) {
      const v = $(FILTERS[k]).value.trim();
      if (v) p.set(k, v);
    }
    if ($("f-overdue").checked) p.set("overdue", "1");
    if (S.offset) p.set("offset", String(S.offset));
    return p;
  }

  function query() {
    const p = view();
    p.set("limit", String(PAGE));
    return p.toString();
  }

  /* The filter fields from the page's URL. */
  function viewFromUrl() {
    const p = new URLSearchParams(location.search);
    for (const k in FILTERS) if (p.has(k)) $(FILTERS[k]).value = p.get(k);
    $("f-overdue").checked = p.get("overdue") === "1" || p.get("overdue") === "true";
    const off = Number(p.get("offset"));
    S.offset = Number.isInteger(off) && off > 0 ? off : 0;
  }

  function viewToUrl() {
    const q = view().toString();
    const want = location.pathname + (q ? "?" + q : "");
    if (want !== location.pathname + location.search)
      history.replaceState(null, "", want);
  }

  /* early: the first page, asked for while /api/me was on its way */
  async function loadQueue(reset, early) {
    if (S.loading && !reset) return;
    S.loading = true;
    const q = query();
    viewToUrl();
    try {
      const hdr = reset || !S.etag || S.lastQuery !== q ? {} : { "If-None-Match": S.etag };
      const r = (early && await early) || await api("GET", "/api/queue?" + q, null, hdr);
      if (r.notModified) return;
      S.lastQuery = q;
      showQueue(r, r._etag, reset);
    } catch (e) {
      if (e.status !== 401) toast(t("error", e.message), true);
    } finally {
      S.loading = false;
    }
  }

  /* Shows an answer of /api/queue (from the API or the boot data). */
  function showQueue(r, etag, reset) {
    S.etag = etag || "";
    const fresh = [];
    for (const it of r.items) {
      if (!S.firstLoad && !S.seen.has(it.id)) fresh.push(it.id);
      S.seen.add(it.id);
      addOption("dl-team", it.team);
      addOption("dl-owner", it.owner);
      for (const c of it.categories || []) addOption("dl-category", c);
      addOption("dl-brand", it.brand);
      addOption("dl-source", it.source);
      addOption("dl-lang", it.lang);
    }
    S.fresh = new Set(fresh);
    if (fresh.length && !reset) toast(t("newItems", fresh.length));
    const first = S.firstLoad;
    S.firstLoad = false;
    S.items = r.items;
    S.total = r.total;
    S.counts = r.counts;
    /* keep the selection on the same item when it is still listed */
    let idx = S.items.findIndex((it) => it.id === S.selId);
    if (idx < 0) idx = S.items.length ? Math.min(Math.max(S.sel, 0), S.items.length - 1) : -1;
    renderQueue();
    /* not on the first render: the first row is in view, and scrolling
     * would force the page's first layout in the middle of the script */
    select(idx, idx >= 0 && S.items[idx].id !== S.selId, !first);
    if (idx >= 0 && S.items[idx].id === S.selId && S.detail &&
        S.detail.item.updated !== S.items[idx].updated)
      loadDetail(S.selId);
  }

  function renderCounts() {
    const c = S.counts;
    const box = $("counts");
    box.textContent = "";
    if (!c) return;
    const states = [["open", "stOpen"], ["new", "stNew"], ["assigned", "stAssigned"],
                    ["responded", "stResponded"], ["resolved", "stResolved"],
                    ["dismissed", "stDismissed"]];
    for (const [k, label] of states) {
      const b = el("button", "count" + ($("f-state").value === k ? " on" : ""));
      b.type = "button";
      b.dataset.state = k;
      b.appendChild(el("span", "n", c[k] || 0));
      b.appendChild(el("span", "l", t(label)));
      b.addEventListener("click", () => {
        $("f-state").value = k;
        S.offset = 0;
        loadQueue(true);
      });
      box.appendChild(b);
    }
    const o = el("button", "count overdue" + ($("f-overdue").checked ? " on" : ""));
    o.type = "button";
    o.appendChild(el("span", "n", c.overdue || 0));
    o.appendChild(el("span", "l", t("stOverdue")));
    o.addEventListener("click", () => {
      $("f-overdue").checked = !$("f-overdue").checked;
      S.offset = 0;
      loadQueue(true);
    });
    box.appendChild(o);
  }

  async function loadKpis() {
    try {
      showKpis(await api("GET", "/api/kpis"));
    } catch (e) { /* the header line waits for the next poll */ }
  }

  function showKpis(k) {
    S.kpis = k;
    $("kpi").textContent = t("kpiLine", k.open, k.overdue, k.incidents_open);
  }

  /* The rows are built apart and put in at once (one layout, not 50);
   * clicks reach them through one listener on the list (onQueueClick). */
  function renderQueue() {
    renderCounts();
    const ul = $("queue");
    const rows = document.createDocumentFragment();
    if (!S.items.length) {
      rows.appendChild(el("li", "empty", t("empty")));
    }
    S.items.forEach((it, i) => {
      const li = el("li", "row sev-" + it.severity +
                    (it.overdue ? " is-overdue" : "") +
                    (i === S.sel ? " sel" : "") +
                    (S.fresh && S.fresh.has(it.id) ? " fresh" : ""));
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === S.sel ? "true" : "false");
      li.dataset.id = it.id;
      const cb = el("input", "pick");
      cb.type = "checkbox";
      cb.checked = S.checked.has(it.id);
      cb.title = t("kx");
      li.appendChild(cb);
      const main = el("div", "row-main");
      const l1 = el("div", "l1");
      l1.appendChild(el("span", "sev", t("sev" + it.severity)));
      if (it.overdue) l1.appendChild(el("span", "late", t("overdue")));
      l1.appendChild(el("span", "rid", "#" + it.id));
      l1.appendChild(el("span", "rtitle", it.title || (it.text || "").slice(0, 80)));
      main.appendChild(l1);
      const l2 = el("div", "l2");
      l2.appendChild(el("span", "st st-" + it.state, stateName(it.state)));
      l2.appendChild(el("span", null, it.source || ""));
      if (it.brand) l2.appendChild(el("span", null, it.brand));
      if (it.category) l2.appendChild(el("span", "cat", it.category));
      l2.appendChild(el("span", "owner", it.owner || "–"));
      if (it.rating > 0) l2.appendChild(el("span", "stars", stars(it.rating)));
      l2.appendChild(el("span", "age", ago(it.created)));
      main.appendChild(l2);
      li.appendChild(main);
      rows.appendChild(li);
    });
    ul.replaceChildren(rows);
    const from = S.total ? S.offset + 1 : 0;
    $("page").textContent = from + "–" + (S.offset + S.items.length) + " / " + S.total;
    $("prev").disabled = S.offset === 0;
    $("next").disabled = S.offset + S.items.length >= S.total;
    renderBulk();
  }

  function onQueueClick(ev) {
    const li = ev.target.closest("li.row");
    if (!li || !$("queue").contains(li)) return;
    const id = Number(li.dataset.id);
    if (ev.target.classList.contains("pick")) {
      toggleCheck(id);
      return;
    }
    const i = S.items.findIndex((it) => it.id === id);
    if (i >= 0) select(i, true);
  }

  function stateName(s) {
    return t("st" + s.charAt(0).toUpperCase() + s.slice(1));
  }

  function stars(r) {
    const n = Math.round(r);
    return "★".repeat(n) + "☆".repeat(Math.max(0, 5 - n));
  }

  function select(i, load, scroll = true) {
    if (i < 0 || i >= S.items.length) {
      S.sel = -1;
      S.selId = 0;
      S.detail = null;
      renderDetail();
      return;
    }
    const ul = $("queue");
    const rows = ul.querySelectorAll("li.row");
    if (rows[S.sel]) {
      rows[S.sel].classList.remove("sel");
      rows[S.sel].setAttribute("aria-selected", "false");
    }
    S.sel = i;
    S.selId = S.items[i].id;
    if (rows[i]) {
      rows[i].classList.add("sel");
      rows[i].setAttribute("aria-selected", "true");
      if (scroll) rows[i].scrollIntoView({ block: "nearest" });
    }
    if (load) loadDetail(S.selId);
  }

  function move(d) {
    if (!S.items.length) return;
    let i = S.sel + d;
    if (i < 0) i = 0;
    if (i >= S.items.length) {
      if (S.offset + S.items.length < S.total) { page(1); return; }
      i = S.items.length - 1;
    }
    select(i, true);
  }

  function page(dir) {
    S.offset = Math.max(0, S.offset + dir * PAGE);
    S.sel = dir > 0 ? 0 : PAGE - 1;
    S.selId = 0;
    loadQueue(true);
  }

  /* ------------------------------------------------------------ detail */

  async function loadDetail(id) {
    try {
      const d = await api("GET", "/api/queue/" + id);
      if (id !== S.selId) return;
      S.detail = d;
      renderDetail();
    } catch (e) {
      if (e.status !== 401) toast(t("error", e.message), true);
    }
  }

  function field(dl, label, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(el("dt", null, label));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    dl.appendChild(dd);
  }

  function segmentsTo(parent, segs, fallback) {
    if (!segs) { parent.textContent = fallback || ""; return; }
    for (const s of segs) {
      if (s.match) parent.appendChild(el("mark", null, s.text));
      else parent.appendChild(document.createTextNode(s.text));
    }
  }

  function safeLink(url, linkable) {
    if (!url || !linkable) return null;
    let u;
    try { u = new URL(url); } catch (e) { return null; }
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    const a = el("a", "orig", url);
    a.href = u.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function verdictWords(v, it) {
    if (!v) return t("noVerdict");
    const cat = (v.categories && v.categories[0]) || it.category || "";
    const rules = [];
    for (const m of v.matches || [])
      if (m.rule && m.rule !== "lexicon" && rules.indexOf(m.rule) < 0) rules.push(m.rule);
    let s = (cat ? cat + " " : "") + t("complaint") + ", " + t("sev" + v.severity);
    if (rules.length) s += ": " + t("rules") + " " + rules.join(", ");
    return s;
  }

  function renderDetail() {
    const box = $("detail");
    box.textContent = "";
    const d = S.detail;
    if (!d) {
      box.appendChild(el("p", "muted", t("nothingSelected")));
      return;
    }
    const it = d.item;
    const head = el("div", "d-head sev-" + it.severity);
    head.appendChild(el("span", "rid", "#" + it.id));
    head.appendChild(el("span", "sev", t("sev" + it.severity)));
    head.appendChild(el("span", "st st-" + it.state, stateName(it.state)));
    if (it.overdue) head.appendChild(el("span", "late", t("overdue")));
    if (it.dismiss_reason) head.appendChild(el("span", "reason", it.dismiss_reason));
    box.appendChild(head);

    const title = el("h2", "d-title");
    segmentsTo(title, d.highlight && d.highlight.title, it.title);
    box.appendChild(title);

    const dl = el("dl", "meta");
    field(dl, t("author"), it.author);
    field(dl, t("dSource"), it.source + (it.brand ? " · " + it.brand : ""));
    if (it.rating > 0) field(dl, t("rating"), stars(it.rating) + " " + it.rating + "/5");
    if (d.mention && d.mention.reach !== null && d.mention.reach !== undefined)
      field(dl, t("reach"), d.mention.reach);
    field(dl, t("lang"), it.lang);
    field(dl, t("published"), fmtTime(d.mention && (d.mention.published || d.mention.first_seen)));
    field(dl, t("queued"), fmtTime(it.created));
    field(dl, t("due"), fmtTime(it.due));
    field(dl, t("dTeam"), it.team);
    field(dl, t("dOwner"), it.owner || t("unassigned"));
    field(dl, t("link"), safeLink(it.url, d.linkable) || (it.url ? t("noLink") : ""));
    box.appendChild(dl);

    const text = el("div", "d-text");
    segmentsTo(text, d.highlight && d.highlight.text, it.text);
    box.appendChild(text);

    const v = el("div", "d-verdict");
    v.appendChild(el("h3", null, t("verdict")));
    v.appendChild(el("p", "words", verdictWords(d.verdict, it)));
    if (d.verdict && d.verdict.explain) v.appendChild(el("p", "explain", d.verdict.explain));
    box.appendChild(v);

    const acts = el("div", "actions");
    const b = (label, fn, enabled) => {
      const x = el("button", null, t(label));
      x.type = "button";
      x.disabled = !enabled;
      x.addEventListener("click", fn);
      acts.appendChild(x);
    };
    const open = ["new", "assigned", "responded"].indexOf(it.state) >= 0;
    b("assignMe", assignMe, open);
    b("assignOther", assignOther, open);
    b("respond", respond, it.state === "new" || it.state === "assigned");
    b("resolve", resolve, open);
    b("dismiss", dismiss, open);
    b("reopen", reopen, !open);
    b("addNote", addNote, true);
    box.appendChild(acts);

    const h = el("div", "d-history");
    h.appendChild(el("h3", null, t("history")));
    const ol = el("ol");
    for (const ev of d.history || []) {
      const li = el("li");
      li.appendChild(el("time", null, fmtTime(ev.at)));
      li.appendChild(el("span", "actor", ev.actor || ""));
      li.appendChild(el("span", "kind", ev.kind));
      if (ev.from || ev.to)
        li.appendChild(el("span", "move", (ev.from || "") + " → " + (ev.to || "")));
      if (ev.note) li.appendChild(el("span", "note", ev.note));
      ol.appendChild(li);
    }
    h.appendChild(ol);
    box.appendChild(h);
  }

  /* ------------------------------------------------------------ actions */

  function current() {
    return S.detail && S.detail.item.id === S.selId ? S.detail.item : null;
  }

  async function act(id, verb, body) {
    const d = await api("POST", "/api/queue/" + id + "/" + verb, body);
    if (id === S.selId) {
      S.detail = d;
      renderDetail();
    }
    loadQueue(true);
    loadKpis();
    return d;
  }

  function report(e) {
    if (e.status === 401) return;
    toast(e.status === 409 ? t("conflict", e.message) : t("error", e.message), true);
  }

  async function assignMe() {
    const it = current();
    if (!it) return;
    try { await act(it.id, "assign", { owner: S.me.user }); } catch (e) { report(e); }
  }

  function teammates() {
    const names = [];
    const mine = (S.me.team || "").toLowerCase();
    for (const u of S.users) {
      if (S.me.role !== "agent" || u.name === S.me.user ||
          (mine && (u.team || "").toLowerCase() === mine))
        names.push(u.name);
    }
    for (const tm of S.me.teams || [])
      if (S.me.role !== "agent" || tm.name.toLowerCase() === mine)
        for (const m of tm.members || []) if (names.indexOf(m) < 0) names.push(m);
    return names;
  }

  function assignOther() {
    const it = current();
    if (!it) return;
    const sel = $("dlg-owner");
    sel.textContent = "";
    for (const n of teammates()) {
      const o = el("option", null, n);
      o.value = n;
      sel.appendChild(o);
    }
    dialog({ title: t("assignTitle", it.id), owner: true, note: true },
           (v) => act(it.id, "assign", { owner: v.owner, note: v.note }));
  }

  function respond() {
    const it = current();
    if (!it) return;
    dialog({ title: t("respondTitle", it.id), note: true, noteLabel: t("respondNote") },
           (v) => act(it.id, "respond", { note: v.note }));
  }

  async function resolve() {
    const it = current();
    if (!it) return;
    try {
      await act(it.id, "resolve", {});
      toast(t("resolveDone", it.id));
    } catch (e) { report(e); }
  }

  function dismiss() {
    const it = current();
    if (!it) return;
    dialog({ title: t("dismissTitle", it.id), reasons: true, note: true },
           (v) => act(it.id, "dismiss", { reason: v.reason, note: v.note }));
  }

  async function reopen() {
    const it = current();
    if (!it) return;
    try { await act(it.id, "reopen", {}); } catch (e) { report(e); }
  }

  function addNote() {
    const it = current();
    if (!it) return;
    dialog({ title: t("noteTitle", it.id), note: true, noteRequired: true },
           (v) => act(it.id, "note", { note: v.note }));
  }

  /* ------------------------------------------------------------ bulk */

  function toggleCheck(id) {
    if (S.checked.has(id)) S.checked.delete(id); else S.checked.add(id);
    const row = $("queue").querySelector('li[data-id="' + Number(id) + '"] input.pick');
    if (row) row.checked = S.checked.has(id);
    renderBulk();
  }

  function renderBulk() {
    $("bulk").hidden = S.checked.size === 0;
    $("bulk-count").textContent = t("selected", S.checked.size);
  }

  function fillReasons(sel) {
    const keep = sel.value || "spam";
    sel.textContent = "";
    for (const r of REASONS) {
      const o = el("option", null, t(r).replace(/ \(\d\)$/, ""));
      o.value = r;
      sel.appendChild(o);
    }
    sel.value = keep;
  }

  async function bulkDismiss() {
    const reason = $("bulk-reason").value;
    const ids = Array.from(S.checked);
    let ok = 0;
    const failed = [];
    for (const id of ids) {
      try {
        await api("POST", "/api/queue/" + id + "/dismiss", { reason });
        ok++;
        S.checked.delete(id);
      } catch (e) {
        if (e.status === 401) return;
        failed.push("#" + id + " " + e.message);
      }
    }
    toast(failed.length ? t("failedN", failed.length, failed.join("; ")) : t("dismissedN", ok),
          failed.length > 0);
    if (S.selId) loadDetail(S.selId);
    loadQueue(true);
  }

  /* ------------------------------------------------------------ dialog */

  let dlgSubmit = null;

  function dialog(opts, submit) {
    const d = $("dlg");
    $("dlg-title").textContent = opts.title;
    $("dlg-error").textContent = "";
    $("dlg-note").value = "";
    $("dlg-note-row").hidden = !opts.note;
    $("dlg-note-label").textContent = opts.noteLabel || t("note");
    $("dlg-note").required = !!opts.noteRequired;
    $("dlg-owner-row").hidden = !opts.owner;
    const rs = $("dlg-reasons");
    rs.hidden = !opts.reasons;
    rs.textContent = "";
    if (opts.reasons) {
      REASONS.forEach((r, i) => {
        const lab = el("label", "reason");
        const inp = el("input");
        inp.type = "radio";
        inp.name = "reason";
        inp.value = r;
        inp.checked = i === 0;
        lab.appendChild(inp);
        lab.appendChild(el("span", null, t(r)));
        rs.appendChild(lab);
      });
    }
    dlgSubmit = async () => {
      const v = { note: $("dlg-note").value.trim(), owner: $("dlg-owner").value };
      const checked = rs.querySelector("input:checked");
      if (checked) v.reason = checked.value;
      if (opts.noteRequired && !v.note) {
        $("dlg-note").focus();
        return;
      }
      $("dlg-ok").disabled = true;
      try {
        await submit(v);
        d.close();
      } catch (e) {
        $("dlg-error").textContent = e.message;
      } finally {
        $("dlg-ok").disabled = false;
      }
    };
    d.showModal();
    if (opts.owner) $("dlg-owner").focus();
    else if (opts.reasons) rs.querySelector("input").focus();
    else $("dlg-note").focus();
  }

  function dialogKeys(ev) {
    const rs = $("dlg-reasons");
    if (!rs.hidden && /^[1-4]$/.test(ev.key) && document.activeElement !== $("dlg-note")) {
      const inp = rs.querySelectorAll("input")[Number(ev.key) - 1];
      if (inp) inp.checked = true;
      ev.preventDefault();
      return;
    }
    if (ev.key === "Enter" && !ev.shiftKey && ev.target.tagName !== "BUTTON") {
      ev.preventDefault();
      if (dlgSubmit) dlgSubmit();
    }
  }

  /* ------------------------------------------------------------ help */

  function fillHelp() {
    const dl = $("help-keys");
    dl.textContent = "";
    const keys = [["j", "kj"], ["k", "kk"], ["a", "ka"], ["r", "kr"], ["e", "ke"],
                  ["d", "kd"], ["u", "ku"], ["n", "kn"], ["x", "kx"], ["/", "kslash"],
                  ["?", "kq"], ["Esc", "kesc"]];
    for (const [k, d] of keys) {
      dl.appendChild(el("dt", null, k));
      dl.appendChild(el("dd", null, t(d)));
    }
  }

  /* ------------------------------------------------------------ incidents */

  function loadIncidents() {
    loadKpis();
    fetchIncidents();
  }

  async function fetchIncidents() {
    let r;
    try { r = await api("GET", "/api/incidents"); } catch (e) { return; }
    showIncidents(r);
  }

  function showIncidents(r) {
    const box = $("incidents");
    box.textContent = "";
    const list = r.incidents || [];
    box.hidden = list.length === 0;
    for (const inc of list) {
      const p = el("p", "incident sev-" + inc.severity);
      p.appendChild(el("strong", null, t("incident")));
      p.appendChild(document.createTextNode(" " + t("incidentText",
        (inc.brand ? inc.brand + " / " : "") + inc.category, inc.count,
        (inc.terms || []).slice(0, 3).join(", ") || inc.category,
        fmtTime(inc.started))));
      const f = el("button", "link", "→");
      f.type = "button";
      f.addEventListener("click", () => {
        $("f-category").value = inc.category;
        $("f-brand").value = inc.brand || "";
        S.offset = 0;
        loadQueue(true);
      });
      p.appendChild(f);
      box.appendChild(p);
    }
  }

  /* ------------------------------------------------------------ keys */

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
                      target.tagName === "SELECT" || target.isContentEditable);
  }

  function onKey(ev) {
    if (!S.me || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if ($("dlg").open) {
      dialogKeys(ev);
      return;
    }
    if ($("help").open) return;
    if (ev.key === "Escape" && typing(ev.target)) {
      ev.target.blur();
      $("queue").focus();
      return;
    }
    if (typing(ev.target)) return;
    const keys = {
      j: () => move(1), k: () => move(-1), ArrowDown: () => move(1),
      ArrowUp: () => move(-1), a: assignMe, r: respond, e: resolve,
      d: dismiss, u: reopen, n: addNote,
      x: () => { if (S.selId) toggleCheck(S.selId); },
      "/": () => { $("f-q").focus(); $("f-q").select(); },
      "?": () => $("help").showModal()
    };
    const fn = keys[ev.key];
    if (!fn) return;
    ev.preventDefault();
    fn();
  }

  /* ------------------------------------------------------------ boot */

  function debounce(fn, ms) {
    let timer = 0;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  async function boot() {
    S.lang = pickLang();
    applyLang();
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    for (const b of document.querySelectorAll(".lang-switch"))
      b.addEventListener("click", switchLang);
    $("help-open").addEventListener("click", () => $("help").showModal());
    $("dlg-form").addEventListener("submit", (ev) => { ev.preventDefault(); if (dlgSubmit) dlgSubmit(); });
    $("dlg-cancel").addEventListener("click", () => $("dlg").close());
    $("prev").addEventListener("click", () => page(-1));
    $("next").addEventListener("click", () => page(1));
    $("bulk-dismiss").addEventListener("click", bulkDismiss);
    $("bulk-clear").addEventListener("click", () => { S.checked.clear(); renderQueue(); });
    const refilter = () => { S.offset = 0; S.sel = 0; S.selId = 0; loadQueue(true); };
    $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); refilter(); });
    $("filters").addEventListener("change", refilter);
    $("f-q").addEventListener("input", debounce(refilter, 250));
    document.addEventListener("keydown", onKey);
    $("queue").addEventListener("click", onQueueClick);
    viewFromUrl();
    /* Logged in: the server put who we are, the first page of the queue,
     * its first item and the rest into the page; nothing to ask for. */
    const boot = bootData();
    if (boot && boot.me) {
      start(boot.me, null, boot);
      return;
    }
    /* the queue's first page and who we are, at the same time */
    const early = api("GET", "/api/queue?" + query()).catch(() => null);
    try {
      const me = await api("GET", "/api/me");
      start(me, early);
    } catch (e) {
      showLogin("");
    }
  }

  /* The JSON data block the server filled (text, parsed as JSON only). */
  function bootData() {
    const e = $("boot");
    const text = e ? e.textContent.trim() : "";
    if (!text) return null;
    e.textContent = "";  /* the CSRF token need not stay in the DOM */
    try { return JSON.parse(text); } catch (err) { return null; }
  }

  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", boot);
  else
    boot();
})();
