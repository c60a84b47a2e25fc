/* Complaint surges: the options, the fixed minimum without history, the
 * pair's own hour-of-week baseline (a busy Monday is not a surge, a few
 * complaints in a quiet night are), growth with one update alert per 50%,
 * closing after the quiet period, backfill and lookback. Fixed clocks. */
#include <jansson.h>
#include <sqlite3.h>

#include "fixture.h"
#include "output/output_int.h"

#define WEEK ((int64_t)7 * 86400)
#define HOUR ((int64_t)3600)

static const char *const yaml =
    "sources:\n"
    "  - name: shop\n    url: feeds/s.xml\n    brand: Acme\n"
    "  - name: social\n    url: feeds/x.xml\n    brand: Acme\n"
    "brands:\n  - name: Acme\n  - name: Brightcart\n"
    "routing:\n"
    "  - team: billing\n    categories: [billing]\n"
    "default_team: support\n"
    "teams:\n  - name: billing\n  - name: support\n"
    "sinks:\n"
    "  - name: ops\n    type: jsonl\n    path: ops.jsonl\n"
    "    incidents_only: true\n"
    "  - name: all\n    type: jsonl\n    path: all.jsonl\n";

static int seq;

/* One flagged mention of brand/category published at t, queued at t+60
 * (first seen then too). */
static int64_t complaint(struct ear_store *st, const struct ear_config *cfg,
                         const char *brand, const char *cat, int64_t t,
                         const char *text)
{
    struct fx_mention fm = {0};
    char key[32];

    snprintf(key, sizeof key, "m%d", ++seq);
    fm.source = "shop";
    fm.key = key;
    fm.text = text ? text : "invoice wrong";
    fm.reach = -1;
    fm.flag = 1;
    fm.severity = EAR_SEV_HIGH;
    fm.categories[0] = cat;
    fm.brand = brand;
    fm.rule = "en.billing.invoice";
    fm.lang = "en";
    fm.published = t;
    fm.first_seen = t + 60;
    fx_clock(t + 60);
    return fx_queue(st, cfg, &fm, t + 60);
}

static size_t open_count(struct ear_store *st)
{
    struct ear_incident *v = NULL;
    size_t n = 0;
    struct ear_error err = {0};

    CHECK_INT(ear_incidents_list(st, 0, 0, 0, &v, &n, &err), 0);
    ear_incidents_free(v, n);
    return n;
}

static int64_t outbox_rows(struct ear_store *st, const char *sink,
                           const char *kind)
{
    sqlite3_stmt *q = NULL;
    int64_t n = -1;

    if (sqlite3_prepare_v2(ear_store_db(st),
                           "SELECT count(*) FROM outbox WHERE sink = ?1"
                           " AND kind = ?2", -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, sink, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

static void update(struct ear_store *st, const struct ear_config *cfg,
                   int64_t now, struct ear_incident_stats *s)
{
    struct ear_error err = {0};

    fx_clock(now);
    CHECK_INT(ear_incidents_update(st, cfg, now, s, &err), 0);
    if (err.text[0])
        fprintf(stderr, "update: %s\n", err.text);
}

static void test_options(void)
{
    struct ear_config *cfg;
    struct ear_incident_opts o;
    struct ear_error err = {0};

    CHECK_INT(ear_incident_opts_read(&o, NULL, &err), 0);
    CHECK_INT(o.window, 3600);
    CHECK_INT(o.min_count, 10);
    CHECK_INT(o.quiet, 7200);
    CHECK(o.enabled);

    cfg = fx_config("opt.yml", "incidents:\n  window: 30m\n  min_count: 6\n"
                               "  sensitivity: 2.5\n  quiet: 4h\n");
    CHECK_INT(ear_incident_opts_read(&o, cfg, &err), 0);
    CHECK_INT(o.window, 1800);
    CHECK_INT(o.min_count, 6);
    CHECK(o.sensitivity > 2.49 && o.sensitivity < 2.51);
    CHECK_INT(o.quiet, 4 * 3600);
    ear_config_free(cfg);

    cfg = fx_config("opt2.yml", "incidents:\n  window: 1h\n  min_cont: 6\n");
    CHECK_INT(ear_incident_opts_read(&o, cfg, &err), EAR_EINVAL);
    CHECK_INT(err.line, 3);
    CHECK_INT(err.col, 3);
    CHECK(strstr(err.text, "min_count") != NULL);
    ear_config_free(cfg);

    cfg = fx_config("opt3.yml", "incidents:\n  sensitivity: lots\n");
    CHECK_INT(ear_incident_opts_read(&o, cfg, &err), EAR_EINVAL);
    CHECK_INT(err.line, 2);
    CHECK(strstr(err.text, "sensitivity") != NULL);
    ear_config_free(cfg);

    cfg = fx_config("opt4.yml", "incidents:\n  window: 10s\n");
    CHECK_INT(ear_incident_opts_read(&o, cfg, &err), EAR_EINVAL);
    CHECK_INT(err.line, 2);
    ear_config_free(cfg);
}

/* No history: the fixed minimum of 10 within an hour. */
static void test_minimum(void)
{
    struct ear_store *st = fx_store("minimum.db");
    struct ear_config *cfg = fx_config("minimum.yml", yaml);
    struct ear_incident_stats s;
    struct ear_incident *v = NULL;
    struct ear_error err = {0};
    int64_t *ids = NULL;
    size_t n = 0, nids = 0;
    int64_t first;
    int64_t t = T0 + HOUR;

    /* nine in 45 minutes, then a tenth two hours later: never 10 within
     * one hour */
    first = complaint(st, cfg, "Acme", "billing", t, "Invoice charged twice");
    for (int i = 1; i < 9; i++)
        complaint(st, cfg, "Acme", "billing", t + i * 300, NULL);
    /* other pairs do not add up with it */
    for (int i = 0; i < 5; i++) {
        complaint(st, cfg, "Brightcart", "billing", t + i * 60, NULL);
        complaint(st, cfg, "Acme", "delivery", t + i * 60, NULL);
    }
    update(st, cfg, t + HOUR, &s);
    CHECK_INT(s.opened, 0);
    CHECK_INT(open_count(st), 0);

    /* the tenth within the hour of the first: an incident */
    complaint(st, cfg, "Acme", "billing", t + 50 * 60, NULL);
    update(st, cfg, t + HOUR + 300, &s);
    CHECK_INT(s.opened, 1);
    CHECK_INT(ear_incidents_list(st, 0, 0, 0, &v, &n, &err), 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(v[0].state, "open");
        CHECK_STR(v[0].brand, "Acme");
        CHECK_STR(v[0].category, "billing");
        CHECK_STR(v[0].team, "billing");
        CHECK_INT(v[0].count, 10);
        CHECK_INT(v[0].peak, 10);
        CHECK_INT(v[0].threshold, 10);
        CHECK(v[0].baseline < 0);
        CHECK_INT(v[0].started, t);
        CHECK_INT(v[0].last_at, t + 50 * 60);
        CHECK_INT(v[0].first_queue_id, first);
        CHECK_STR(v[0].first_text, "Invoice charged twice");
        CHECK(v[0].nterms >= 1);
        if (v[0].nterms >= 1)
            CHECK_STR(v[0].terms[0], "invoice");
        CHECK(strstr(v[0].reason, "no history") != NULL);
        struct ear_incident one;

        CHECK_INT(ear_incident_get(st, v[0].id, &one, &ids, &nids, &err),
                  0);
        CHECK_INT(one.count, 10);
        CHECK_INT(nids, 10);
        if (nids == 10)
            CHECK_INT(ids[0], first);
        free(ids);
        ear_incident_dispose(&one);
    }
    ear_incidents_free(v, n);
    /* alerted once, to the sinks that want incidents */
    CHECK_INT(outbox_rows(st, "ops", "incident"), 1);
    CHECK_INT(outbox_rows(st, "all", "incident"), 1);
    CHECK_INT(outbox_rows(st, "ops", "mention"), 0);
    CHECK_INT(outbox_rows(st, "all", "mention"), 20);

    /* a second pass with nothing new changes nothing */
    update(st, cfg, t + HOUR + 600, &s);
    CHECK_INT(s.opened + s.updated + s.closed, 0);
    CHECK_INT(outbox_rows(st, "ops", "incident"), 1);

    ear_config_free(cfg);
    ear_store_close(st);
}

/* Growth: one update alert when it has grown by half; closing after the
 * quiet period; then the pair can open a new one. */
static void test_grow_close(void)
{
    struct ear_store *st = fx_store("grow.db");
    struct ear_config *cfg = fx_config("grow.yml", yaml);
    struct ear_incident_stats s;
    struct ear_incident *v = NULL;
    struct ear_error err = {0};
    size_t n = 0;
    int64_t t = T0;

    for (int i = 0; i < 10; i++)
        complaint(st, cfg, "Acme", "billing", t + i * 120, NULL);
    update(st, cfg, t + 1500, &s);
    CHECK_INT(s.opened, 1);

    /* +4: grows, no new alert (14 < 15) */
    for (int i = 0; i < 4; i++)
        complaint(st, cfg, "Acme", "billing", t + 1800 + i * 60, NULL);
    update(st, cfg, t + 2400, &s);
    CHECK_INT(s.updated, 1);
    CHECK_INT(outbox_rows(st, "ops", "incident-update"), 0);
    /* +1: 15 = 1.5 x 10: one update alert */
    complaint(st, cfg, "Acme", "billing", t + 2500, NULL);
    update(st, cfg, t + 2700, &s);
    CHECK_INT(s.updated, 1);
    CHECK_INT(outbox_rows(st, "ops", "incident-update"), 1);
    /* +1: 16 < 22.5: none */
    complaint(st, cfg, "Acme", "billing", t + 2800, NULL);
    update(st, cfg, t + 3000, &s);
    CHECK_INT(outbox_rows(st, "ops", "incident-update"), 1);
    CHECK_INT(ear_incidents_list(st, 0, 0, 0, &v, &n, &err), 0);
    CHECK_INT(n, 1);
    if (n == 1)
        CHECK_INT(v[0].count, 16);
    ear_incidents_free(v, n);

    /* a mention that happened a day before the incident (backfill) does
     * not join it */
    complaint(st, cfg, "Acme", "billing", t - 86400, NULL);
    update(st, cfg, t + 3100, &s);
    CHECK_INT(s.updated, 0);

    /* quiet for 2 h after the last addition: closed, one closing alert */
    update(st, cfg, t + 3000 + 2 * HOUR - 1, &s);
    CHECK_INT(s.closed, 0);
    update(st, cfg, t + 3100 + 2 * HOUR, &s);
    CHECK_INT(s.closed, 1);
    CHECK_INT(open_count(st), 0);
    CHECK_INT(outbox_rows(st, "ops", "incident-closed"), 1);
    CHECK_INT(ear_incidents_list(st, 1, 0, 0, &v, &n, &err), 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(v[0].state, "closed");
        CHECK_INT(v[0].closed_at, t + 3100 + 2 * HOUR);
    }
    ear_incidents_free(v, n);

    /* the digest's view: incidents whose mentions fall in the period */
    CHECK_INT(ear_incidents_list(st, 0, t - HOUR, t + HOUR, &v, &n, &err),
              0);
    CHECK_INT(n, 1);
    ear_incidents_free(v, n);
    CHECK_INT(ear_incidents_list(st, 0, t + 5 * HOUR, t + 6 * HOUR, &v, &n,
                                 &err), 0);
    CHECK_INT(n, 0);
    ear_incidents_free(v, n);

    /* a surge older than the lookback (7 days) never opens one */
    for (int i = 0; i < 12; i++)
        complaint(st, cfg, "Acme", "delivery", t - 8 * 86400 + i * 60,
                  NULL);
    update(st, cfg, t + 6 * HOUR, &s);
    CHECK_INT(s.opened, 0);

    ear_config_free(cfg);
    ear_store_close(st);
}

/* The pair's own history: a busy Monday morning (20 an hour every week) is
 * not a surge once two weeks are known; twice that is. A quiet night with
 * six complaints is one, where a fresh store would wait for ten. */
static void test_baseline(void)
{
    struct ear_store *st = fx_store("baseline.db");
    struct ear_config *cfg = fx_config("baseline.yml", yaml);
    struct ear_incident_stats s;
    struct ear_incident *v = NULL;
    struct ear_error err = {0};
    size_t n = 0;
    /* T0 is Monday 08:00 UTC; history starts five weeks before */
    int64_t monday = T0;
    size_t opened[6] = {0};

    /* monitoring began: one unrelated mention first seen then */
    complaint(st, cfg, "Brightcart", "delivery", monday - 5 * WEEK - 86400,
              NULL);
    for (int k = 5; k >= 1; k--) {
        int64_t base = monday - k * WEEK;

        /* 08:00-11:00: one complaint every 3 minutes */
        for (int i = 0; i < 60; i++)
            complaint(st, cfg, "Acme", "billing", base + i * 180, NULL);
        update(st, cfg, base + 3 * HOUR, &s);
        opened[k] = s.opened;
        /* and it closes by the next week */
        update(st, cfg, base + 3 * HOUR + 86400, &s);
    }
    /* no history the first two weeks: 20 an hour passes the minimum */
    CHECK_INT(opened[5], 1);
    CHECK_INT(opened[4], 1);
    /* from then on it is a normal Monday */
    CHECK_INT(opened[3], 0);
    CHECK_INT(opened[2], 0);
    CHECK_INT(opened[1], 0);

    /* this Monday: the usual load, then a surge of 40 more in an hour */
    for (int i = 0; i < 20; i++)
        complaint(st, cfg, "Acme", "billing", monday + i * 180, NULL);
    update(st, cfg, monday + HOUR, &s);
    CHECK_INT(s.opened, 0);
    for (int i = 0; i < 40; i++)
        complaint(st, cfg, "Acme", "billing", monday + HOUR + i * 80, NULL);
    update(st, cfg, monday + 2 * HOUR, &s);
    CHECK_INT(s.opened, 1);
    CHECK_INT(ear_incidents_list(st, 0, 0, 0, &v, &n, &err), 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK(v[0].baseline >= 15 && v[0].baseline <= 25);
        CHECK(v[0].threshold > 20);
        CHECK(v[0].count >= v[0].threshold);
        CHECK(strstr(v[0].reason, "usual") != NULL);
    }
    ear_incidents_free(v, n);

    /* a quiet night (Tuesday 03:00, usually nothing): six complaints */
    {
        int64_t night = monday + 19 * HOUR;

        for (int i = 0; i < 6; i++)
            complaint(st, cfg, "Acme", "refund", night + i * 300, NULL);
        update(st, cfg, night + HOUR, &s);
        CHECK_INT(s.opened, 1);
    }

    ear_config_free(cfg);
    ear_store_close(st);

    /* the same six in a store with no history: below the minimum */
    st = fx_store("night.db");
    cfg = fx_config("night.yml", yaml);
    for (int i = 0; i < 6; i++)
        complaint(st, cfg, "Acme", "refund", T0 + i * 300, NULL);
    update(st, cfg, T0 + HOUR, &s);
    CHECK_INT(s.opened, 0);
    ear_config_free(cfg);
    ear_store_close(st);
}

/* Disabled by config: nothing happens. */
static void test_disabled(void)
{
    struct ear_store *st = fx_store("off.db");
    struct ear_config *cfg = fx_config("off.yml",
                                       "incidents: {enabled: false}\n");
    struct ear_incident_stats s;

    for (int i = 0; i < 12; i++)
        complaint(st, cfg, NULL, "billing", T0 + i * 60, NULL);
    update(st, cfg, T0 + HOUR, &s);
    CHECK_INT(s.opened, 0);
    ear_config_free(cfg);
    cfg = fx_config("on.yml", "incidents: {enabled: true}\n");
    update(st, cfg, T0 + HOUR, &s);
    CHECK_INT(s.opened, 1); /* no brand configured: the pair is (none) */
    ear_config_free(cfg);
    ear_store_close(st);
}

int main(void)
{
    test_options();
    test_minimum();
    test_grow_close();
    test_baseline();
    test_disabled();
    return check_result();
}
