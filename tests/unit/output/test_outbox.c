/* The outbox: rows written with the queue row (and rolled back with it),
 * per-sink filters, delivery to JSON Lines files, failures with
 * exponential backoff and nothing lost, retry regardless of backoff,
 * max_per_hour folding into one summary, a misconfigured sink whose alerts
 * wait and are filtered once it is fixed, and "-" through the caller's
 * writer. Fixed clocks; no network. */
#include <jansson.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "fixture.h"
#include "core/store_schema.h"
#include "output/output_int.h"

static int seq;

static const char *const head =
    "sources:\n"
    "  - name: shop\n    url: feeds/s.xml\n    brand: Acme\n"
    "brands:\n  - name: Acme\n  - name: Brightcart\n"
    "routing:\n"
    "  - team: billing\n    categories: [billing]\n"
    "  - team: logistics\n    categories: [delivery]\n"
    "teams:\n  - name: billing\n  - name: logistics\n  - name: support\n"
    "default_team: support\n";

static struct ear_config *config(const char *name, const char *sinks)
{
    char yaml[4096];

    snprintf(yaml, sizeof yaml, "%s%s", head, sinks);
    return fx_config(name, yaml);
}

static int64_t add(struct ear_store *st, const struct ear_config *cfg,
                   const char *cat, enum ear_severity sev, const char *brand,
                   int64_t now)
{
    struct fx_mention fm = {0};
    char key[32];
    char url[64];

    snprintf(key, sizeof key, "k%d", ++seq);
    snprintf(url, sizeof url, "https://example.org/r/%d", seq);
    fm.source = "shop";
    fm.key = key;
    fm.title = "Wrong \"invoice\"\n<b>again</b>";
    fm.text = "invoice wrong, charged twice";
    fm.url = url;
    fm.reach = -1;
    fm.flag = 1;
    fm.severity = sev;
    fm.categories[0] = cat;
    fm.brand = brand;
    fm.rule = "en.billing.invoice";
    fm.first_seen = now;
    fx_clock(now);
    return fx_queue(st, cfg, &fm, now);
}

static int64_t count(struct ear_store *st, const char *where)
{
    char sql[512];
    sqlite3_stmt *q = NULL;
    int64_t n = -1;

    snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox WHERE %s", where);
    if (sqlite3_prepare_v2(ear_store_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

static size_t file_lines(const char *path, json_t **last)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    size_t n = 0;

    if (last)
        *last = NULL;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);

        CHECK(j != NULL); /* every line is one JSON object */
        n++;
        if (last) {
            json_decref(*last);
            *last = j;
        } else {
            json_decref(j);
        }
    }
    fclose(f);
    return n;
}

static void deliver(struct ear_store *st, const struct ear_config *cfg,
                    int64_t now, int force, struct ear_delivery_stats *s)
{
    struct ear_error err = {0};

    fx_clock(now);
    CHECK_INT(ear_outbox_deliver(st, cfg, now, force, NULL, NULL, NULL, s,
                                 &err), 0);
}

/* Rows per sink filter, written and rolled back with the queue row. */
static void test_filters(void)
{
    struct ear_store *st = fx_store("filters.db");
    struct ear_config *cfg = config("filters.yml",
        "sinks:\n"
        "  - {name: every, type: jsonl, path: every.jsonl}\n"
        "  - {name: high, type: jsonl, path: high.jsonl, severity: high}\n"
        "  - {name: billing, type: jsonl, path: b.jsonl,"
        " categories: [billing]}\n"
        "  - {name: logi, type: jsonl, path: l.jsonl, teams: [logistics]}\n"
        "  - {name: bright, type: jsonl, path: br.jsonl,"
        " brands: [Brightcart]}\n"
        "  - {name: inc, type: jsonl, path: i.jsonl, incidents_only: true}\n"
        "  - {name: off, type: jsonl, path: o.jsonl, enabled: false}\n");
    struct ear_error err = {0};
    struct fx_mention fm = {0};
    struct ear_mention m;
    struct ear_verdict v;
    int is_new = 0;

    add(st, cfg, "billing", EAR_SEV_MEDIUM, "Acme", T0);
    add(st, cfg, "delivery", EAR_SEV_HIGH, "Acme", T0);
    add(st, cfg, "billing", EAR_SEV_LOW, "Brightcart", T0);
    CHECK_INT(count(st, "sink = 'every'"), 3);
    CHECK_INT(count(st, "sink = 'high'"), 1);
    CHECK_INT(count(st, "sink = 'billing'"), 2);
    CHECK_INT(count(st, "sink = 'logi'"), 1);
    CHECK_INT(count(st, "sink = 'bright'"), 1);
    CHECK_INT(count(st, "sink = 'inc'"), 0);
    CHECK_INT(count(st, "sink = 'off'"), 0);
    /* idempotent: queueing again adds nothing */
    CHECK_INT(count(st, "1"), 8);
    /* each alert's payload is stored once, however many sinks get it */
    CHECK_INT(count(st, "alert_id IS NULL"), 0);
    CHECK_INT(count(st, "alert_id IN (SELECT id FROM alerts)"), 8);
    CHECK_INT(count(st, "id = (SELECT min(id) FROM outbox) AND"
                        " (SELECT count(*) FROM alerts) = 3"), 1);

    /* the outbox row goes with the queue row: an outer rollback takes
     * both away */
    fm.source = "shop";
    fm.key = "rolled-back";
    fm.text = "invoice wrong";
    fm.reach = -1;
    fm.flag = 1;
    fm.severity = EAR_SEV_HIGH;
    fm.categories[0] = "billing";
    fx_put(st, &fm, &m, &v);
    CHECK_INT(ear_store_begin(st, &err), 0);
    CHECK_INT(ear_queue_add(st, cfg, &m, &v, T0, NULL, &is_new, &err), 0);
    CHECK_INT(is_new, 1);
    CHECK_INT(count(st, "1"), 11);
    ear_store_rollback(st);
    CHECK_INT(count(st, "1"), 8);
    CHECK_INT(count(st, "id = (SELECT min(id) FROM outbox) AND"
                        " (SELECT count(*) FROM alerts) = 3"), 1);
    ear_mention_dispose(&m);
    ear_verdict_dispose(&v);
    ear_config_free(cfg);
    ear_store_close(st);
}

/* Failure, backoff, nothing lost, retry, and the repaired sink. */
static void test_failure_backoff(void)
{
    struct ear_store *st = fx_store("backoff.db");
    struct ear_config *bad, *good;
    struct ear_delivery_stats s;
    struct ear_outbox_entry *e = NULL;
    struct ear_error err = {0};
    json_t *last = NULL;
    char yaml[2048];
    char file[1200];
    size_t n = 0;

    /* a path that is a directory: every write fails */
    snprintf(file, sizeof file, "%s", fx_path("fail.jsonl"));
    unlink(file);
    mkdir(file, 0755);
    snprintf(yaml, sizeof yaml, "sinks:\n  - {name: feed, type: jsonl, "
             "path: '%s'}\n", file);
    bad = config("bad.yml", yaml);
    for (int i = 0; i < 3; i++)
        add(st, bad, "billing", EAR_SEV_HIGH, "Acme", T0);

    deliver(st, bad, T0, 0, &s);
    CHECK_INT(s.sent, 0);
    CHECK_INT(s.failed, 1); /* the sink is left alone after one failure */
    CHECK_INT(s.waiting, 3);
    CHECK_INT(s.nproblems, 1);
    CHECK(strstr(s.problems[0], "sink 'feed'") != NULL);
    CHECK(strstr(s.problems[0], "3 alerts wait") != NULL);
    CHECK_INT(count(st, "attempts = 1 AND next_attempt = " "1795420860"), 1);
    CHECK_INT(count(st, "next_attempt = 1795420860"), 3);
    CHECK_INT(ear_outbox_list(st, 0, NULL, &e, &n, &err), 0);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(e[0].state, "pending");
        CHECK(e[0].last_error && strstr(e[0].last_error, file) != NULL);
        CHECK(e[1].last_error && strstr(e[1].last_error, "not tried") !=
              NULL);
    }
    ear_outbox_entries_free(e, n);

    /* not due yet: nothing is tried */
    deliver(st, bad, T0 + 30, 0, &s);
    CHECK_INT(s.failed, 0);
    CHECK_INT(count(st, "attempts = 1"), 1);
    /* due: the second failure doubles the wait (2 minutes) */
    deliver(st, bad, T0 + 60, 0, &s);
    CHECK_INT(s.failed, 1);
    CHECK_INT(count(st, "attempts = 2 AND next_attempt = 1795420980"), 1);
    /* retry ignores the backoff */
    deliver(st, bad, T0 + 61, 1, &s);
    CHECK_INT(s.failed, 1);
    CHECK_INT(count(st, "attempts = 3 AND next_attempt = 1795421101"), 1);
    CHECK_INT(count(st, "state = 'pending'"), 3);

    /* repaired (same sink name, a writable path): everything arrives */
    rmdir(file);
    good = config("good.yml", yaml);
    deliver(st, good, T0 + 62, 1, &s);
    CHECK_INT(s.sent, 3);
    CHECK_INT(s.waiting, 0);
    CHECK_INT(file_lines(file, &last), 3);
    if (last) {
        CHECK_STR(json_string_value(json_object_get(last, "event")),
                  "mention");
        CHECK_STR(json_string_value(json_object_get(last, "sink")), "feed");
        CHECK_INT(strlen(json_string_value(json_object_get(last, "id"))),
                  32);
        CHECK_STR(json_string_value(json_object_get(last, "title")),
                  "Wrong \"invoice\"\n<b>again</b>");
        CHECK_STR(json_string_value(json_object_get(last, "team")),
                  "billing");
        CHECK(json_string_value(json_object_get(last, "summary")) != NULL);
    }
    json_decref(last);
    CHECK_INT(count(st, "state = 'sent' AND sent_at = 1795420862"), 3);
    /* delivered once: a second pass sends nothing */
    deliver(st, good, T0 + 3600, 1, &s);
    CHECK_INT(s.sent, 0);
    CHECK_INT(file_lines(file, NULL), 3);
    ear_config_free(bad);
    ear_config_free(good);
    ear_store_close(st);
}

/* max_per_hour 3: two alerts and one summary of the rest; later in the
 * hour the excess waits in a summary until a slot frees. */
static void test_folding(void)
{
    struct ear_store *st = fx_store("fold.db");
    struct ear_config *cfg;
    struct ear_delivery_stats s;
    json_t *last = NULL;
    char yaml[2048];
    char file[1200];

    snprintf(file, sizeof file, "%s", fx_path("fold.jsonl"));
    unlink(file);
    snprintf(yaml, sizeof yaml, "sinks:\n  - {name: chat, type: jsonl, "
             "path: '%s', max_per_hour: 3}\n", file);
    cfg = config("fold.yml", yaml);
    for (int i = 0; i < 7; i++)
        add(st, cfg, i == 6 ? "delivery" : "billing",
            i == 6 ? EAR_SEV_CRITICAL : EAR_SEV_MEDIUM, "Acme", T0);
    deliver(st, cfg, T0, 0, &s);
    CHECK_INT(s.sent, 3);
    CHECK_INT(s.folded, 5);
    CHECK_INT(file_lines(file, &last), 3);
    if (last) {
        CHECK_STR(json_string_value(json_object_get(last, "event")),
                  "summary");
        CHECK_INT(json_integer_value(json_object_get(last, "count")), 5);
        CHECK_INT(json_array_size(json_object_get(last, "items")), 5);
    }
    json_decref(last);
    /* the critical one went out on its own, first */
    CHECK_INT(count(st, "kind = 'mention' AND state = 'sent' AND"
                        " severity = 4"), 1);
    CHECK_INT(count(st, "state = 'folded'"), 5);
    /* the sent summary keeps what it said */
    CHECK_INT(count(st, "kind = 'summary' AND state = 'sent' AND"
                        " (SELECT json_extract(a.payload, '$.count') FROM"
                        " alerts a WHERE a.id = alert_id) = 5"), 1);

    /* 20 minutes later, two more: no slot until T0 + 1h */
    add(st, cfg, "billing", EAR_SEV_HIGH, "Acme", T0 + 1200);
    add(st, cfg, "billing", EAR_SEV_HIGH, "Acme", T0 + 1200);
    deliver(st, cfg, T0 + 1200, 0, &s);
    CHECK_INT(s.sent, 0);
    CHECK_INT(s.folded, 2);
    CHECK_INT(s.waiting, 1); /* one summary holds both */
    CHECK_INT(count(st, "kind = 'summary' AND state = 'pending' AND"
                        " next_attempt = 1795424400"), 1);
    deliver(st, cfg, T0 + 3599, 0, &s);
    CHECK_INT(s.sent, 0);
    deliver(st, cfg, T0 + 3601, 0, &s);
    CHECK_INT(s.sent, 1);
    CHECK_INT(file_lines(file, &last), 4);
    if (last)
        CHECK_INT(json_integer_value(json_object_get(last, "count")), 2);
    json_decref(last);
    /* nothing lost: every mention alert was sent or folded into a sent
     * summary */
    CHECK_INT(count(st, "kind = 'mention' AND NOT (state = 'sent' OR"
                        " (state = 'folded' AND folded_into IN (SELECT id"
                        " FROM outbox WHERE state = 'sent')))"), 0);
    ear_config_free(cfg);
    ear_store_close(st);
}

/* A sink with a mistake: its alerts wait (all of them, unfiltered), the
 * mistake is reported with its position; once fixed, the filter applies. */
static void test_misconfigured(void)
{
    struct ear_store *st = fx_store("miscfg.db");
    struct ear_config *bad, *good;
    struct ear_delivery_stats s;
    struct ear_error err = {0};
    char file[1200];
    char yaml[2048];

    snprintf(file, sizeof file, "%s", fx_path("mis.jsonl"));
    unlink(file);
    snprintf(yaml, sizeof yaml, "sinks:\n  - name: ops\n    type: jsonl\n"
             "    path: '%s'\n    severity: hihg\n", file);
    bad = config("mis.yml", yaml);
    CHECK_INT(ear_output_check(bad, &err), EAR_EINVAL);
    CHECK(strstr(err.text, "mis.yml:22:15:") != NULL);
    CHECK(strstr(err.text, "hihg") != NULL);
    add(st, bad, "billing", EAR_SEV_LOW, "Acme", T0);
    add(st, bad, "billing", EAR_SEV_HIGH, "Acme", T0);
    CHECK_INT(count(st, "checked = 0"), 2);
    deliver(st, bad, T0, 0, &s);
    CHECK_INT(s.sent, 0);
    CHECK_INT(s.nproblems, 1);
    CHECK(strstr(s.problems[0], "misconfigured") != NULL);
    CHECK(strstr(s.problems[0], "hihg") != NULL);
    CHECK_INT(count(st, "last_error LIKE '%hihg%'"), 2);

    snprintf(yaml, sizeof yaml, "sinks:\n  - name: ops\n    type: jsonl\n"
             "    path: '%s'\n    severity: high\n", file);
    good = config("mis2.yml", yaml);
    CHECK_INT(ear_output_check(good, &err), 0);
    deliver(st, good, T0 + 10, 0, &s);
    CHECK_INT(s.sent, 1);
    CHECK_INT(s.skipped, 1);
    CHECK_INT(file_lines(file, NULL), 1);
    ear_config_free(bad);
    ear_config_free(good);
    ear_store_close(st);
}

struct capture {
    struct ear_buf b;
};

static int capture_write(const char *p, size_t n, void *payload)
{
    struct capture *c = payload;

    return ear_buf_addn(&c->b, p, n);
}

/* path "-": the caller's writer; without one, the alert waits. */
static void test_stdout(void)
{
    struct ear_store *st = fx_store("stdout.db");
    struct ear_config *cfg = config("stdout.yml", "sinks:\n  - {name: out, "
                                    "type: jsonl, path: '-'}\n");
    struct ear_delivery_stats s;
    struct ear_error err = {0};
    struct capture c;

    ear_buf_init(&c.b, 1 << 20);
    add(st, cfg, "billing", EAR_SEV_HIGH, "Acme", T0);
    deliver(st, cfg, T0, 0, &s);
    CHECK_INT(s.failed, 1);
    CHECK_INT(ear_outbox_deliver(st, cfg, T0 + 1, 1, "out", capture_write,
                                 &c, &s, &err), 0);
    CHECK_INT(s.sent, 1);
    CHECK(c.b.len > 0 && c.b.ptr[c.b.len - 1] == '\n');
    CHECK(strstr(ear_buf_str(&c.b), "\"event\":\"mention\"") != NULL);
    CHECK_INT(ear_outbox_deliver(st, cfg, T0 + 1, 1, "nope", NULL, NULL, &s,
                                 &err), EAR_ENOTFOUND);
    ear_buf_dispose(&c.b);
    ear_config_free(cfg);
    ear_store_close(st);
}

/* The documented keys of a mention alert, in their order
 * (docs/alerts.md). */
static const char *const payload_keys[] = {
    "event", "queue_id", "mention_id", "severity", "category",
    "categories", "team", "brand", "source", "lang", "title", "text",
    "url", "author", "rating", "reach", "published", "queued", "due",
    "explain", "terms"};

/* The payload of m and v is one line of compact JSON that holds exactly
 * the documented keys in their order, with the values of want (JSON). */
static void payload_case(const struct ear_mention *m,
                         const struct ear_verdict *v, const char *team,
                         const char *brand, int64_t due, const char *want)
{
    struct ear_buf b;
    json_error_t jerr;
    json_t *got, *exp = json_loads(want, 0, &jerr);
    const char *key;
    json_t *val;
    size_t k = 0;

    CHECK(exp != NULL);
    ear_buf_init(&b, EAR_OUTPUT_PAYLOAD_MAX);
    CHECK_INT(ear_output__mention_payload(&b, m, v, 42, team, brand, T0,
                                          due), 0);
    CHECK(strchr(ear_buf_str(&b), '\n') == NULL);
    got = json_loads(ear_buf_str(&b), JSON_DISABLE_EOF_CHECK, &jerr);
    CHECK(got != NULL);
    if (got) {
        char *compact = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);

        /* one object and nothing after it, written compactly */
        CHECK_INT(jerr.position, (int)b.len);
        CHECK(compact != NULL);
        if (compact)
            CHECK_STR(ear_buf_str(&b), compact);
        free(compact);
        json_object_foreach(got, key, val) {
            CHECK(k < sizeof payload_keys / sizeof *payload_keys);
            if (k < sizeof payload_keys / sizeof *payload_keys)
                CHECK_STR(key, payload_keys[k]);
            k++;
        }
        CHECK_INT(k, sizeof payload_keys / sizeof *payload_keys);
        CHECK(json_equal(got, exp));
        if (!json_equal(got, exp))
            fprintf(stderr, "got  %s\nwant %s\n", ear_buf_str(&b), want);
    }
    json_decref(got);
    json_decref(exp);
    ear_buf_dispose(&b);
}

/* The payload is the documented object (docs/alerts.md), key for key and
 * in that order: escapes, control characters, non-ASCII and broken UTF-8,
 * nulls, reals, terms each once and at most eight. */
static void test_payload_text(void)
{
    static const char base[] = "double charged; DOUBLE charged; refund "
                               "\"now\" \\ please";
    struct ear_mention m;
    struct ear_verdict v;
    char longword[100];

    ear_mention_init(&m);
    ear_verdict_init(&v);
    m.id = 7;
    ear_str_set(&m.source, "shop");
    ear_str_set(&m.title, "Wrong \"invoice\"\n<b>again</b>\t/ \x01\x1f\x7f");
    ear_str_set(&m.text, "Rossz sz\xc3\xa1mla \xe2\x9c\x93, broken \xff"
                         "\xfe end \\ \r\b\f");
    m.rating = 4.5;
    m.reach = -1;
    payload_case(&m, &v, "support", NULL, 0,
                 "{\"event\": \"mention\", \"queue_id\": 42, "
                 "\"mention_id\": 7, \"severity\": \"none\", "
                 "\"category\": null, \"categories\": [], "
                 "\"team\": \"support\", \"brand\": null, "
                 "\"source\": \"shop\", \"lang\": null, "
                 "\"title\": \"Wrong \\\"invoice\\\"\\n<b>again</b>\\t/ "
                 "\\u0001\\u001f\x7f\", "
                 /* broken bytes become U+FFFD */
                 "\"text\": \"Rossz sz\xc3\xa1mla \xe2\x9c\x93, broken "
                 "\\ufffd\\ufffd end \\\\ \\r\\b\\f\", "
                 "\"url\": null, \"author\": null, \"rating\": 4.5, "
                 "\"reach\": null, \"published\": null, "
                 "\"queued\": \"2026-11-23T08:00:00Z\", \"due\": null, "
                 "\"explain\": null, \"terms\": []}");

    snprintf(m.lang, sizeof m.lang, "hu");
    ear_str_set(&m.url, "https://example.org/r/1?a=1&b=\"2\"");
    ear_str_set(&m.author, "J\xc3\xa1nos");
    m.rating = 3.7;
    m.reach = 1234;
    m.published = T0 - 60;
    ear_verdict_add_category(&v, "billing");
    ear_verdict_add_category(&v, "refund");
    ear_str_set(&v.explain, "rule en.billing.double-charge (2.0)");
    v.severity = EAR_SEV_HIGH;
    memset(longword, 'x', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    ear_verdict_add_match(&v, "r", "billing", "text", base, 0, 14, 1.0);
    ear_verdict_add_match(&v, "r", "billing", "text", base, 0, 14, 1.0);
    ear_verdict_add_match(&v, "r", "billing", "text", base, 16, 30, 1.0);
    ear_verdict_add_match(&v, "r", "billing", "text", base, 30, 30, 1.0);
    ear_verdict_add_match(&v, "r", "billing", "text", longword, 0, 99, 1.0);
    ear_verdict_add_match(&v, "r", "refund", "text", base, 32,
                          sizeof base - 1, 1.0);
    for (size_t i = 0; i < 10; i++)
        ear_verdict_add_match(&v, "r", "refund", "text", base, i, i + 3,
                              1.0);
    /* categories in order, the first as category; terms each once,
     * none empty or over 80 bytes, at most eight */
    payload_case(&m, &v, "billing", "Acme", T0 + 3600,
                 "{\"event\": \"mention\", \"queue_id\": 42, "
                 "\"mention_id\": 7, \"severity\": \"high\", "
                 "\"category\": \"billing\", "
                 "\"categories\": [\"billing\", \"refund\"], "
                 "\"team\": \"billing\", \"brand\": \"Acme\", "
                 "\"lang\": \"hu\", \"rating\": 3.7, "
                 "\"source\": \"shop\", "
                 "\"title\": \"Wrong \\\"invoice\\\"\\n<b>again</b>\\t/ "
                 "\\u0001\\u001f\x7f\", "
                 "\"text\": \"Rossz sz\xc3\xa1mla \xe2\x9c\x93, broken "
                 "\\ufffd\\ufffd end \\\\ \\r\\b\\f\", "
                 "\"url\": \"https://example.org/r/1?a=1&b=\\\"2\\\"\", "
                 "\"author\": \"J\xc3\xa1nos\", \"reach\": 1234, "
                 "\"published\": \"2026-11-23T07:59:00Z\", "
                 "\"queued\": \"2026-11-23T08:00:00Z\", "
                 "\"due\": \"2026-11-23T09:00:00Z\", "
                 "\"explain\": \"rule en.billing.double-charge (2.0)\", "
                 "\"terms\": [\"double charged\", \"DOUBLE charged\", "
                 "\"refund \\\"now\\\" \\\\ please\", \"dou\", \"oub\", "
                 "\"ubl\", \"ble\", \"le \"]}");
    m.rating = 5.0;
    m.lang[0] = '\0';
    snprintf(v.lang, sizeof v.lang, "en");
    /* no language on the mention: the verdict's */
    payload_case(&m, &v, "billing", "Acme \"Inc\"", T0 + 3600,
                 "{\"event\": \"mention\", \"queue_id\": 42, "
                 "\"mention_id\": 7, \"severity\": \"high\", "
                 "\"category\": \"billing\", "
                 "\"categories\": [\"billing\", \"refund\"], "
                 "\"team\": \"billing\", \"brand\": \"Acme \\\"Inc\\\"\", "
                 "\"lang\": \"en\", \"rating\": 5.0, "
                 "\"source\": \"shop\", "
                 "\"title\": \"Wrong \\\"invoice\\\"\\n<b>again</b>\\t/ "
                 "\\u0001\\u001f\x7f\", "
                 "\"text\": \"Rossz sz\xc3\xa1mla \xe2\x9c\x93, broken "
                 "\\ufffd\\ufffd end \\\\ \\r\\b\\f\", "
                 "\"url\": \"https://example.org/r/1?a=1&b=\\\"2\\\"\", "
                 "\"author\": \"J\xc3\xa1nos\", \"reach\": 1234, "
                 "\"published\": \"2026-11-23T07:59:00Z\", "
                 "\"queued\": \"2026-11-23T08:00:00Z\", "
                 "\"due\": \"2026-11-23T09:00:00Z\", "
                 "\"explain\": \"rule en.billing.double-charge (2.0)\", "
                 "\"terms\": [\"double charged\", \"DOUBLE charged\", "
                 "\"refund \\\"now\\\" \\\\ please\", \"dou\", \"oub\", "
                 "\"ubl\", \"ble\", \"le \"]}");
    ear_mention_dispose(&m);
    ear_verdict_dispose(&v);
}

/* A rows dump of queue, events, outbox and alerts, ids included. */
static char *dump(struct ear_store *st)
{
    static const char *const sql[] = {
        "SELECT id, mention_id, state, severity, category, categories, team,"
        " owner, brand, source, lang, rating, reach, created, due, updated,"
        " happened FROM queue ORDER BY id",
        "SELECT id, at, queue_id, mention_id, actor, kind, from_state,"
        " to_state, note FROM events ORDER BY id",
        "SELECT id, sink, kind, queue_id, severity, alert_id, idem, state,"
        " checked, created, next_attempt FROM outbox ORDER BY id",
        "SELECT id, payload FROM alerts ORDER BY id",
    };
    struct ear_buf b;

    ear_buf_init(&b, 1 << 24);
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *q = NULL;

        if (sqlite3_prepare_v2(ear_store_db(st), sql[i], -1, &q, NULL) !=
            SQLITE_OK)
            break;
        while (sqlite3_step(q) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(q); c++) {
                const unsigned char *t = sqlite3_column_text(q, c);

                ear_buf_addf(&b, "%s|", t ? (const char *)t : "NULL");
            }
            ear_buf_addc(&b, '\n');
        }
        sqlite3_finalize(q);
    }
    return ear_buf_take(&b, NULL);
}

/* A batch writes what ear_queue_add writes, in the caller's transaction
 * (and only there); a rollback takes the whole batch away. */
static void test_batch(void)
{
    static const char *const sinks =
        "sinks:\n"
        "  - {name: every, type: jsonl, path: every.jsonl}\n"
        "  - {name: high, type: jsonl, path: high.jsonl, severity: high}\n";
    struct ear_config *cfg = config("batch.yml", sinks);
    struct ear_store *one = fx_store("batch-one.db");
    struct ear_store *many = fx_store("batch-many.db");
    struct ear_queue_batch *b = NULL;
    struct ear_error err = {0};
    struct ear_mention m[4];
    struct ear_verdict v[4];
    char *a, *z;
    int64_t qid = 0;
    int is_new = -1;

    for (int i = 0; i < 4; i++) {
        struct fx_mention fm = {0};
        char key[16];

        snprintf(key, sizeof key, "b%d", i);
        fm.source = "shop";
        fm.key = key;
        fm.title = "Charged \"twice\"";
        fm.text = "invoice wrong, charged twice";
        fm.reach = i * 10 - 1;
        fm.rating = i;
        fm.flag = 1;
        fm.severity = (enum ear_severity)(1 + i % 4);
        fm.categories[0] = i % 2 ? "delivery" : "billing";
        fm.rule = "en.billing.invoice";
        fx_put(one, &fm, &m[i], &v[i]);
        ear_mention_dispose(&m[i]);
        ear_verdict_dispose(&v[i]);
        fx_put(many, &fm, &m[i], &v[i]);
    }
    for (int i = 0; i < 4; i++)
        CHECK_INT(ear_queue_add(one, cfg, &m[i], &v[i], T0, NULL, NULL,
                                &err), 0);

    CHECK_INT(ear_queue_batch_new(&b, many, cfg, &err), 0);
    /* outside a transaction: refused, nothing written */
    CHECK_INT(ear_queue_batch_add(b, &m[0], &v[0], T0, NULL, NULL, &err),
              EAR_EINVAL);
    CHECK_INT(count(many, "1"), 0);
    /* rolled back: nothing stays */
    CHECK_INT(ear_store_begin(many, &err), 0);
    CHECK_INT(ear_queue_batch_add(b, &m[0], &v[0], T0, &qid, &is_new, &err),
              0);
    CHECK_INT(is_new, 1);
    ear_store_rollback(many);
    CHECK_INT(count(many, "1"), 0);
    /* committed: as ear_queue_add one by one; again: nothing new */
    CHECK_INT(ear_store_begin(many, &err), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(ear_queue_batch_add(b, &m[i], &v[i], T0, &qid, &is_new,
                                      &err), 0);
        CHECK_INT(is_new, 1);
    }
    CHECK_INT(ear_queue_batch_add(b, &m[2], &v[2], T0, &qid, &is_new, &err),
              0);
    CHECK_INT(is_new, 0);
    CHECK_INT(ear_store_commit(many, &err), 0);
    ear_queue_batch_free(b);
    CHECK_INT(count(many, "1"), 6); /* 4 to every, 2 to high */
    a = dump(one);
    z = dump(many);
    CHECK(a && z && strlen(a) > 500);
    if (a && z) /* (the rolled-back rows left no trace, not even ids) */
        CHECK_STR(z, a);
    free(a);
    free(z);
    for (int i = 0; i < 4; i++) {
        ear_mention_dispose(&m[i]);
        ear_verdict_dispose(&v[i]);
    }
    ear_config_free(cfg);
    ear_store_close(one);
    ear_store_close(many);
}

/* A store of schema 6 (before alerts) with a waiting alert opens, moves
 * the payload over, lists and delivers it. */
static void test_migrate(void)
{
    static const char payload[] =
        "{\"event\":\"mention\",\"queue_id\":1,\"severity\":\"high\","
        "\"category\":\"billing\",\"categories\":[\"billing\"],"
        "\"team\":\"billing\",\"brand\":\"Acme\",\"title\":\"Old alert\","
        "\"text\":\"written by schema 6\"}";
    struct ear_config *cfg = config("migrate.yml", "sinks:\n  - {name: f, "
                                    "type: jsonl, path: migrate.jsonl}\n");
    struct ear_outbox_entry *v = NULL;
    struct ear_delivery_stats s;
    struct ear_store *st = NULL;
    struct ear_error err = {0};
    char path[1200];
    sqlite3 *db = NULL;
    json_t *last = NULL;
    size_t n = 0;

    unlink(fx_path("migrate.jsonl"));
    snprintf(path, sizeof path, "%s", fx_path("migrate.db"));
    unlink(path);
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; i < 6; i++)
        CHECK_INT(sqlite3_exec(db, ear_migrations[i], NULL, NULL, NULL),
                  SQLITE_OK);
    {
        sqlite3_stmt *q = NULL;

        CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO outbox (sink, kind,"
                                     " queue_id, severity, payload, idem,"
                                     " created, next_attempt) VALUES ('f',"
                                     " 'mention', 1, 3, ?1, 'i1', ?2, ?2)",
                                     -1, &q, NULL), SQLITE_OK);
        sqlite3_bind_text(q, 1, payload, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)T0);
        CHECK_INT(sqlite3_step(q), SQLITE_DONE);
        sqlite3_finalize(q);
    }
    CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 6", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);

    CHECK_INT(ear_store_open(&st, path, &err), 0);
    if (!st)
        return;
    CHECK_INT(ear_store_schema_version(st), EAR_SCHEMA_VERSION);
    CHECK_INT(count(st, "alert_id = id"), 1);
    CHECK_INT(ear_outbox_list(st, 0, NULL, &v, &n, &err), 0);
    CHECK_INT((int)n, 1);
    if (n == 1)
        CHECK(strstr(v[0].what, "Old alert") != NULL);
    ear_outbox_entries_free(v, n);
    deliver(st, cfg, T0, 0, &s);
    CHECK_INT(s.sent, 1);
    CHECK_INT(file_lines(fx_path("migrate.jsonl"), &last), 1);
    CHECK_STR(json_string_value(json_object_get(last, "text")),
              "written by schema 6");
    json_decref(last);
    ear_config_free(cfg);
    ear_store_close(st);
}

int main(void)
{
    test_filters();
    test_failure_backoff();
    test_folding();
    test_misconfigured();
    test_stdout();
    test_migrate();
    test_payload_text();
    test_batch();
    return check_result();
}
