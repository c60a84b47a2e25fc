/* The triage queue: idempotent add with denormalised fields, priority
 * order, filters, every legal and illegal transition, events with actors,
 * dismiss reasons, get with history, count and export. Fixed clocks. */
#include <jansson.h>
#include <sqlite3.h>

#include "fixture.h"

static const char *const yaml =
    "sources:\n"
    "  - name: shop\n    url: feeds/s.xml\n    brand: Acme\n"
    "  - name: forum\n    url: feeds/f.xml\n"
    "brands:\n  - name: Acme\n"
    "routing:\n"
    "  - team: billing\n    categories: [billing]\n"
    "  - team: logistics\n    categories: [delivery]\n"
    "default_team: support\n"
    "teams:\n  - name: billing\n  - name: logistics\n  - name: support\n";

static struct fx_mention base(const char *key)
{
    struct fx_mention fm = {0};

    fm.source = "shop";
    fm.key = key;
    fm.title = key;
    fm.text = "invoice wrong again";
    fm.reach = -1;
    fm.flag = 1;
    fm.severity = EAR_SEV_MEDIUM;
    fm.categories[0] = "billing";
    fm.lang = "en";
    return fm;
}

/* Number of events of a queue item, and the last one's fields. */
static size_t history(struct ear_store *st, int64_t id,
                      struct ear_queue_event *last)
{
    struct ear_queue_item it;
    struct ear_queue_event *ev = NULL;
    size_t n = 0;
    struct ear_error err = {0};

    if (ear_queue_get(st, id, T0, &it, &ev, &n, &err) < 0)
        return 0;
    if (n > 0 && last) {
        last->id = ev[n - 1].id;
        last->at = ev[n - 1].at;
        last->actor = ear_strdup(ev[n - 1].actor);
        last->kind = ear_strdup(ev[n - 1].kind);
        last->from_state = ear_strdup(ev[n - 1].from_state);
        last->to_state = ear_strdup(ev[n - 1].to_state);
        last->note = ear_strdup(ev[n - 1].note);
    }
    ear_queue_events_free(ev, n);
    ear_queue_item_dispose(&it);
    return n;
}

static void event_clear(struct ear_queue_event *e)
{
    free(e->actor);
    free(e->kind);
    free(e->from_state);
    free(e->to_state);
    free(e->note);
    memset(e, 0, sizeof *e);
}

static char *state_of(struct ear_store *st, int64_t id)
{
    static char s[32];
    struct ear_queue_item it;

    if (ear_queue_get(st, id, T0, &it, NULL, NULL, NULL) < 0)
        return NULL;
    snprintf(s, sizeof s, "%s", it.state);
    ear_queue_item_dispose(&it);
    return s;
}

static void test_add(struct ear_store *st, const struct ear_config *cfg)
{
    struct fx_mention fm = base("add1");
    struct ear_mention m;
    struct ear_verdict v;
    struct ear_queue_item it;
    struct ear_queue_event ev = {0};
    struct ear_error err = {0};
    int64_t id = 0;
    int64_t id2 = 0;
    int is_new = -1;

    fm.rating = 2;
    fm.reach = 1500;
    fm.categories[1] = "support";
    fm.brand = "Acme";
    fm.author = "Kiss Anna";
    fm.url = "https://shop.example/r/1";
    fx_put(st, &fm, &m, &v);
    CHECK_INT(ear_queue_add(st, cfg, &m, &v, T0, &id, &is_new, &err), 0);
    CHECK(id > 0);
    CHECK_INT(is_new, 1);
    /* Again: same id, not new, nothing changes (one event only). */
    CHECK_INT(ear_queue_add(st, cfg, &m, &v, T0 + 50, &id2, &is_new, &err),
              0);
    CHECK_INT(id2, id);
    CHECK_INT(is_new, 0);
    CHECK_INT(history(st, id, &ev), 1);
    CHECK_STR(ev.kind, "queued");
    CHECK_STR(ev.actor, "earshot");
    CHECK_STR(ev.to_state, "new");
    event_clear(&ev);

    CHECK_INT(ear_queue_get(st, id, T0, &it, NULL, NULL, &err), 0);
    CHECK_STR(it.state, "new");
    CHECK_STR(it.team, "billing");
    CHECK(it.owner == NULL);
    CHECK_STR(it.category, "billing");
    CHECK_INT(it.ncategories, 2);
    CHECK_STR(it.categories[1], "support");
    CHECK_STR(it.brand, "Acme");
    CHECK_STR(it.source, "shop");
    CHECK_STR(it.lang, "en");
    CHECK_STR(it.author, "Kiss Anna");
    CHECK_STR(it.url, "https://shop.example/r/1");
    CHECK_STR(it.text, "invoice wrong again");
    CHECK(it.rating == 2.0);
    CHECK_INT(it.reach, 1500);
    CHECK_INT(it.created, T0);
    CHECK_INT(it.due, T0 + 24 * 3600);
    CHECK_INT(it.mention_id, m.id);
    CHECK_INT(it.overdue, 0);
    ear_queue_item_dispose(&it);

    /* The mention can be found by its id. */
    CHECK_INT(ear_queue_find_mention(st, m.id, &id2, &err), 0);
    CHECK_INT(id2, id);
    CHECK_INT(ear_queue_find_mention(st, m.id + 1000, &id2, &err),
              EAR_ENOTFOUND);

    /* An unstored mention is refused. */
    m.id = 0;
    CHECK_INT(ear_queue_add(st, cfg, &m, &v, T0, &id2, &is_new, &err),
              EAR_EINVAL);
    ear_mention_dispose(&m);
    ear_verdict_dispose(&v);

    /* No rating and unknown reach are stored as such. */
    fm = base("add2");
    id = fx_queue(st, cfg, &fm, T0);
    CHECK_INT(ear_queue_get(st, id, T0, &it, NULL, NULL, &err), 0);
    CHECK(it.rating == 0.0);
    CHECK_INT(it.reach, -1);
    ear_queue_item_dispose(&it);
}

static void expect_event(struct ear_store *st, int64_t id, size_t n,
                         const char *kind, const char *actor,
                         const char *from, const char *to, const char *note,
                         int line)
{
    struct ear_queue_event ev = {0};
    size_t got = history(st, id, &ev);

    if (got != n || !ev.kind || strcmp(ev.kind, kind) != 0 ||
        !ev.actor || strcmp(ev.actor, actor) != 0 ||
        !ev.from_state || strcmp(ev.from_state, from) != 0 ||
        !ev.to_state || strcmp(ev.to_state, to) != 0 ||
        (note && (!ev.note || strcmp(ev.note, note) != 0)) ||
        (!note && ev.note) || ev.at != T0 + 100) {
        fprintf(stderr, "line %d: event %zu = %s %s %s->%s '%s' at %lld\n",
                line, got, ev.kind, ev.actor, ev.from_state, ev.to_state,
                ev.note ? ev.note : "(null)", (long long)ev.at);
        check_failures++;
    }
    event_clear(&ev);
}

#define EXPECT_EVENT(id, n, kind, actor, from, to, note) \
    expect_event(st, id, n, kind, actor, from, to, note, __LINE__)

static void test_transitions(struct ear_store *st,
                             const struct ear_config *cfg)
{
    struct fx_mention fm = base("sm1");
    struct ear_error err = {0};
    struct ear_queue_item it;
    int64_t now = T0 + 100;
    int64_t a;
    int64_t b;

    fx_clock(now);
    a = fx_queue(st, cfg, &fm, T0);

    /* new: respond-less paths that are illegal from new: reopen. */
    CHECK_INT(ear_queue_reopen(st, a, "bob", NULL, now, &err), EAR_ESTATE);
    CHECK(strstr(err.text, "nothing to reopen") != NULL);
    CHECK_STR(state_of(st, a), "new");

    /* new -> assigned */
    CHECK_INT(ear_queue_assign(st, a, "anna", "bob", "call back", now, &err),
              0);
    CHECK_STR(state_of(st, a), "assigned");
    EXPECT_EVENT(a, 2, "assigned", "bob", "new", "assigned",
                 "anna: call back");
    /* assigned -> assigned (another owner) */
    CHECK_INT(ear_queue_assign(st, a, "cecil", "bob", NULL, now, &err), 0);
    EXPECT_EVENT(a, 3, "assigned", "bob", "assigned", "assigned", "cecil");
    CHECK_INT(ear_queue_assign(st, a, "", "bob", NULL, now, &err),
              EAR_EINVAL);
    /* assigned -> responded */
    CHECK_INT(ear_queue_respond(st, a, "cecil", "replied on the forum", now,
                                &err), 0);
    EXPECT_EVENT(a, 4, "responded", "cecil", "assigned", "responded",
                 "replied on the forum");
    CHECK_INT(ear_queue_get(st, a, now, &it, NULL, NULL, &err), 0);
    CHECK_STR(it.state, "responded");
    CHECK_STR(it.owner, "cecil");
    CHECK_INT(it.first_response, now);
    ear_queue_item_dispose(&it);
    /* responded: respond again is illegal; assign keeps the state. */
    CHECK_INT(ear_queue_respond(st, a, "cecil", NULL, now, &err), EAR_ESTATE);
    CHECK(strstr(err.text, "already been responded") != NULL);
    CHECK_INT(ear_queue_assign(st, a, "dora", "bob", NULL, now, &err), 0);
    EXPECT_EVENT(a, 5, "assigned", "bob", "responded", "responded", "dora");
    /* responded -> resolved */
    CHECK_INT(ear_queue_resolve(st, a, "dora", NULL, now, &err), 0);
    EXPECT_EVENT(a, 6, "resolved", "dora", "responded", "resolved", NULL);
    CHECK_INT(ear_queue_get(st, a, now, &it, NULL, NULL, &err), 0);
    CHECK_INT(it.resolved_at, now);
    CHECK_INT(it.first_response, now);
    ear_queue_item_dispose(&it);
    /* resolved: everything but reopen and note is illegal. */
    CHECK_INT(ear_queue_resolve(st, a, "dora", NULL, now, &err), EAR_ESTATE);
    CHECK(strstr(err.text, "already resolved") != NULL);
    CHECK_INT(ear_queue_assign(st, a, "x", "dora", NULL, now, &err),
              EAR_ESTATE);
    CHECK(strstr(err.text, "reopen it first") != NULL);
    CHECK_INT(ear_queue_respond(st, a, "dora", NULL, now, &err), EAR_ESTATE);
    CHECK_INT(ear_queue_dismiss(st, a, "spam", "dora", NULL, now, &err),
              EAR_ESTATE);
    CHECK_INT(ear_queue_route(st, a, "logistics", "dora", NULL, now, &err),
              EAR_ESTATE);
    CHECK_INT(history(st, a, NULL), 6); /* nothing recorded for refusals */
    /* note in any state */
    CHECK_INT(ear_queue_note(st, a, "dora", "customer thanked us", now, &err),
              0);
    EXPECT_EVENT(a, 7, "note", "dora", "resolved", "resolved",
                 "customer thanked us");
    CHECK_INT(ear_queue_note(st, a, "dora", "", now, &err), EAR_EINVAL);
    CHECK_INT(ear_queue_note(st, a, "dora", NULL, now, &err), EAR_EINVAL);
    /* resolved -> reopen -> assigned (it has an owner) */
    CHECK_INT(ear_queue_reopen(st, a, "anna", "not fixed after all", now,
                               &err), 0);
    EXPECT_EVENT(a, 8, "reopened", "anna", "resolved", "assigned",
                 "not fixed after all");
    CHECK_INT(ear_queue_get(st, a, now, &it, NULL, NULL, &err), 0);
    CHECK_INT(it.resolved_at, 0);
    CHECK_STR(it.owner, "dora");
    ear_queue_item_dispose(&it);

    /* new -> dismissed with a reason; reasons are validated. */
    fm = base("sm2");
    b = fx_queue(st, cfg, &fm, T0);
    CHECK_INT(ear_queue_dismiss(st, b, "boring", "bob", NULL, now, &err),
              EAR_EINVAL);
    CHECK(strstr(err.text, "not-a-complaint") != NULL);
    CHECK_INT(ear_queue_dismiss(st, b, NULL, "bob", NULL, now, &err),
              EAR_EINVAL);
    CHECK_STR(state_of(st, b), "new");
    for (size_t i = 0; ear_dismiss_reasons[i]; i++)
        CHECK(ear_dismiss_reason_valid(ear_dismiss_reasons[i]));
    CHECK_INT(ear_queue_dismiss(st, b, "not-a-complaint", "bob", "praise",
                                now, &err), 0);
    EXPECT_EVENT(b, 2, "dismissed", "bob", "new", "dismissed",
                 "not-a-complaint: praise");
    CHECK_INT(ear_queue_get(st, b, now, &it, NULL, NULL, &err), 0);
    CHECK_STR(it.dismiss_reason, "not-a-complaint");
    CHECK_INT(it.first_response, 0);
    ear_queue_item_dispose(&it);
    CHECK_INT(ear_queue_dismiss(st, b, "spam", "bob", NULL, now, &err),
              EAR_ESTATE);
    CHECK(strstr(err.text, "already dismissed") != NULL);
    CHECK_INT(ear_queue_resolve(st, b, "bob", NULL, now, &err), EAR_ESTATE);
    /* dismissed -> reopen -> new (no owner); the reason is cleared */
    CHECK_INT(ear_queue_reopen(st, b, NULL, NULL, now, &err), 0);
    EXPECT_EVENT(b, 3, "reopened", "unknown", "dismissed", "new", NULL);
    CHECK_INT(ear_queue_get(st, b, now, &it, NULL, NULL, &err), 0);
    CHECK(it.dismiss_reason == NULL);
    ear_queue_item_dispose(&it);
    /* new -> responded directly: the actor becomes the owner */
    CHECK_INT(ear_queue_respond(st, b, "erik", NULL, now, &err), 0);
    EXPECT_EVENT(b, 4, "responded", "erik", "new", "responded", NULL);
    CHECK_INT(ear_queue_get(st, b, now, &it, NULL, NULL, &err), 0);
    CHECK_STR(it.owner, "erik");
    ear_queue_item_dispose(&it);
    /* responded -> dismissed is allowed (any open state) */
    CHECK_INT(ear_queue_dismiss(st, b, "duplicate", "erik", NULL, now, &err),
              0);
    EXPECT_EVENT(b, 5, "dismissed", "erik", "responded", "dismissed",
                 "duplicate");
    /* dismissed -> reopen -> assigned now that it has an owner */
    CHECK_INT(ear_queue_reopen(st, b, "erik", NULL, now, &err), 0);
    CHECK_STR(state_of(st, b), "assigned");

    /* new -> resolved directly sets first_response too. */
    fm = base("sm3");
    b = fx_queue(st, cfg, &fm, T0);
    CHECK_INT(ear_queue_route(st, b, "logistics", "bob", "wrong desk", now,
                              &err), 0);
    EXPECT_EVENT(b, 2, "routed", "bob", "new", "new",
                 "billing -> logistics: wrong desk");
    CHECK_INT(ear_queue_resolve(st, b, "bob", NULL, now, &err), 0);
    CHECK_INT(ear_queue_get(st, b, now, &it, NULL, NULL, &err), 0);
    CHECK_STR(it.team, "logistics");
    CHECK_INT(it.first_response, now);
    ear_queue_item_dispose(&it);

    /* A refusal inside a caller's transaction does not roll back what
     * the caller already wrote in it. */
    CHECK_INT(ear_store_begin(st, &err), 0);
    fm = base("sm4");
    b = fx_queue(st, cfg, &fm, T0);
    CHECK_INT(ear_queue_resolve(st, a, "x", NULL, now, &err), 0);
    CHECK_INT(ear_queue_resolve(st, a, "x", NULL, now, &err), EAR_ESTATE);
    CHECK_INT(ear_queue_note(st, 999999, "x", "n", now, &err),
              EAR_ENOTFOUND);
    CHECK_INT(ear_store_commit(st, &err), 0);
    CHECK_STR(state_of(st, b), "new");
    CHECK_STR(state_of(st, a), "resolved");

    /* An unknown id names the id. */
    CHECK_INT(ear_queue_assign(st, 999999, "anna", "bob", NULL, now, &err),
              EAR_ENOTFOUND);
    CHECK(strstr(err.text, "#999999") != NULL);
    CHECK_INT(ear_queue_note(st, 999999, "bob", "x", now, &err),
              EAR_ENOTFOUND);
}

/* Queue ids in list order for filter f at time now. */
static void list_ids(struct ear_store *st, const struct ear_queue_filter *f,
                     int64_t now, int64_t *out, size_t *n)
{
    struct ear_queue_item *items = NULL;
    struct ear_error err = {0};

    *n = 0;
    if (ear_queue_list(st, f, now, &items, n, &err) < 0) {
        fprintf(stderr, "list: %s\n", err.text);
        check_failures++;
        return;
    }
    for (size_t i = 0; i < *n; i++)
        out[i] = items[i].id;
    ear_queue_items_free(items, *n);
}

static void test_priority(const struct ear_config *cfg)
{
    struct ear_store *st = fx_store("prio.db");
    struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
    struct ear_error err = {0};
    struct fx_mention fm;
    int64_t id[10];
    int64_t got[16];
    size_t n;

    fx_clock(T0);
    /* 0: low, old -> due T0 + 72h */
    fm = base("p0");
    fm.severity = EAR_SEV_LOW;
    id[0] = fx_queue(st, cfg, &fm, T0);
    /* 1..6: high, created T0 + 23h (5: 22h30m), due 4h later: never
     * overdue in the checks below. 1: rated 1 */
    fm = base("p1");
    fm.severity = EAR_SEV_HIGH;
    fm.rating = 1;
    id[1] = fx_queue(st, cfg, &fm, T0 + 23 * 3600);
    /* 2: high, rated 3 */
    fm = base("p2");
    fm.severity = EAR_SEV_HIGH;
    fm.rating = 3;
    id[2] = fx_queue(st, cfg, &fm, T0 + 23 * 3600);
    /* 3: high, unrated, big reach */
    fm = base("p3");
    fm.severity = EAR_SEV_HIGH;
    fm.reach = 100000;
    id[3] = fx_queue(st, cfg, &fm, T0 + 23 * 3600);
    /* 4: high, unrated, small reach */
    fm = base("p4");
    fm.severity = EAR_SEV_HIGH;
    fm.reach = 10;
    id[4] = fx_queue(st, cfg, &fm, T0 + 23 * 3600);
    /* 5: high, unrated, unknown reach, older than 6 */
    fm = base("p5");
    fm.severity = EAR_SEV_HIGH;
    id[5] = fx_queue(st, cfg, &fm, T0 + 22 * 3600 + 1800);
    /* 6: high, unrated, unknown reach, newer */
    fm = base("p6");
    fm.severity = EAR_SEV_HIGH;
    id[6] = fx_queue(st, cfg, &fm, T0 + 23 * 3600);
    /* 7: medium, created at T0 -> due T0 + 24h: overdue at T0 + 25h */
    fm = base("p7");
    fm.severity = EAR_SEV_MEDIUM;
    id[7] = fx_queue(st, cfg, &fm, T0);
    /* 8: critical, created T0 + 24h -> due T0 + 25h: not yet overdue */
    fm = base("p8");
    fm.severity = EAR_SEV_CRITICAL;
    id[8] = fx_queue(st, cfg, &fm, T0 + 24 * 3600);
    /* 9: critical but resolved */
    fm = base("p9");
    fm.severity = EAR_SEV_CRITICAL;
    id[9] = fx_queue(st, cfg, &fm, T0);
    CHECK_INT(ear_queue_resolve(st, id[9], "x", NULL, T0 + 60, &err), 0);

    /* At T0 + 24h + 30m: item 7 (due T0+24h) is overdue and first. */
    list_ids(st, &f, T0 + 24 * 3600 + 1800, got, &n);
    CHECK_INT(n, 9);
    if (n == 9) {
        CHECK_INT(got[0], id[7]); /* overdue */
        CHECK_INT(got[1], id[8]); /* critical */
        CHECK_INT(got[2], id[1]); /* high, rating 1 */
        CHECK_INT(got[3], id[2]); /* high, rating 3 */
        CHECK_INT(got[4], id[3]); /* high, unrated, reach 100000 */
        CHECK_INT(got[5], id[4]); /* reach 10 */
        CHECK_INT(got[6], id[5]); /* unknown reach, older */
        CHECK_INT(got[7], id[6]);
        CHECK_INT(got[8], id[0]); /* low */
    }
    /* Later, the critical one is overdue too: overdue items by severity. */
    list_ids(st, &f, T0 + 26 * 3600, got, &n);
    CHECK(n == 9 && got[0] == id[8] && got[1] == id[7]);
    /* A responded item is never overdue. */
    CHECK_INT(ear_queue_respond(st, id[7], "x", NULL, T0 + 60, &err), 0);
    list_ids(st, &f, T0 + 26 * 3600, got, &n);
    CHECK(n == 9 && got[0] == id[8] && got[1] == id[1]);

    /* Filters. */
    f.overdue_only = 1;
    list_ids(st, &f, T0 + 26 * 3600, got, &n);
    CHECK(n == 1 && got[0] == id[8]);
    f.overdue_only = 0;
    f.include_closed = 1;
    list_ids(st, &f, T0 + 26 * 3600, got, &n);
    CHECK_INT(n, 10);
    CHECK_INT(got[9], id[9]); /* closed last */
    f.include_closed = 0;
    f.state = "resolved";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == id[9]);
    f.state = "closed";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == id[9]);
    f.state = "responded";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == id[7]);
    f.state = "all";
    f.limit = 3;
    f.offset = 1;
    list_ids(st, &f, T0 + 26 * 3600, got, &n);
    CHECK(n == 3 && got[0] == id[1]);
    {
        size_t count = 0;

        CHECK_INT(ear_queue_count(st, &f, T0, &count, &err), 0);
        CHECK_INT(count, 10); /* limit and offset ignored */
    }
    f.limit = 0;
    f.offset = 0;
    f.state = "bogus";
    {
        struct ear_queue_item *items = NULL;

        CHECK_INT(ear_queue_list(st, &f, T0, &items, &n, &err), EAR_EINVAL);
        CHECK(strstr(err.text, "bogus") != NULL);
    }
    ear_store_close(st);
}

static void test_filters(const struct ear_config *cfg)
{
    struct ear_store *st = fx_store("filter.db");
    struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
    struct ear_error err = {0};
    struct fx_mention fm;
    int64_t a, b, c;
    int64_t got[8];
    size_t n;

    fx_clock(T0);
    fm = base("f1");
    fm.categories[0] = "delivery";
    fm.categories[1] = "refund";
    fm.lang = "hu";
    a = fx_queue(st, cfg, &fm, T0);
    fm = base("f2");
    fm.source = "forum";
    fm.brand = "Villanyasz";
    b = fx_queue(st, cfg, &fm, T0);
    fm = base("f3");
    c = fx_queue(st, cfg, &fm, T0);
    CHECK_INT(ear_queue_assign(st, c, "Anna", "x", NULL, T0, &err), 0);

    f.team = "LOGISTICS";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == a);
    f.team = NULL;
    f.category = "refund"; /* a secondary category matches too */
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == a);
    f.category = NULL;
    f.lang = "hu";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == a);
    f.lang = NULL;
    f.source = "forum";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == b);
    f.source = NULL;
    f.brand = "villanyasz";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == b);
    f.brand = "acme"; /* from the source's brand */
    list_ids(st, &f, T0, got, &n);
    CHECK_INT(n, 2);
    f.brand = NULL;
    f.owner = "anna";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == c);
    f.owner = "-";
    list_ids(st, &f, T0, got, &n);
    CHECK_INT(n, 2);
    f.owner = NULL;
    f.team = "billing";
    f.state = "new";
    list_ids(st, &f, T0, got, &n);
    CHECK(n == 1 && got[0] == b);
    ear_store_close(st);
}

struct sink {
    struct ear_buf b;
    int calls;
};

static int sink_write(const char *p, size_t n, void *payload)
{
    struct sink *s = payload;

    s->calls++;
    return ear_buf_addn(&s->b, p, n);
}

static int fail_write(const char *p, size_t n, void *payload)
{
    (void)p;
    (void)n;
    (void)payload;
    return EAR_EIO;
}

static void test_export(const struct ear_config *cfg)
{
    struct ear_store *st = fx_store("export.db");
    struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
    struct ear_error err = {0};
    struct fx_mention fm;
    struct sink s;
    json_t *j;
    const char *line2;

    fx_clock(T0);
    fm = base("e1");
    fm.title = "=HYPERLINK(\"http://evil\")";
    fm.text = "says \"hi\", twice";
    fm.severity = EAR_SEV_HIGH;
    fx_queue(st, cfg, &fm, T0);
    fm = base("e2");
    fm.text = "second\nline";
    fx_queue(st, cfg, &fm, T0);

    ear_buf_init(&s.b, 1 << 20);
    s.calls = 0;
    CHECK_INT(ear_queue_export(st, &f, T0, "csv", sink_write, &s, &err), 0);
    CHECK_INT(s.calls, 3);
    CHECK(strncmp(ear_buf_str(&s.b), "id,severity,state,", 18) == 0);
    /* The formula is defused and quotes are doubled. */
    CHECK(strstr(ear_buf_str(&s.b), "\"'=HYPERLINK(\"\"http://evil\"\")\"")
          != NULL);
    CHECK(strstr(ear_buf_str(&s.b), "\"says \"\"hi\"\", twice\"") != NULL);
    CHECK(strstr(ear_buf_str(&s.b), "\"second\nline\"") != NULL);
    ear_buf_dispose(&s.b);

    ear_buf_init(&s.b, 1 << 20);
    s.calls = 0;
    CHECK_INT(ear_queue_export(st, &f, T0, "jsonl", sink_write, &s, &err), 0);
    CHECK_INT(s.calls, 2);
    j = json_loads(ear_buf_str(&s.b), JSON_DISABLE_EOF_CHECK, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "severity")), "high");
    CHECK_STR(json_string_value(json_object_get(j, "state")), "new");
    CHECK_STR(json_string_value(json_object_get(j, "created")),
              "2026-11-23T08:00:00Z");
    CHECK(json_is_null(json_object_get(j, "rating")));
    CHECK(json_is_false(json_object_get(j, "overdue")));
    json_decref(j);
    line2 = strchr(ear_buf_str(&s.b), '\n');
    j = line2 ? json_loads(line2 + 1, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(j, "text")), "second\nline");
    json_decref(j);
    ear_buf_dispose(&s.b);

    CHECK_INT(ear_queue_export(st, &f, T0, "xml", sink_write, &s, &err),
              EAR_EINVAL);
    CHECK_INT(ear_queue_export(st, &f, T0, "csv", fail_write, NULL, &err),
              EAR_EIO);
    CHECK(strstr(err.text, "write failed") != NULL);
    ear_store_close(st);
}

int main(void)
{
    struct ear_config *cfg = fx_config("queue.yml", yaml);
    struct ear_store *st = fx_store("queue.db");

    test_add(st, cfg);
    test_transitions(st, cfg);
    ear_store_close(st);
    test_priority(cfg);
    test_filters(cfg);
    test_export(cfg);
    ear_config_free(cfg);
    return check_result();
}
