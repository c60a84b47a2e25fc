/*
 * The digest: what happened in a period, for a team lead to read in two
 * minutes.
 *
 * ear_digest_build() gathers every number with a handful of SQL queries
 * over mentions (by first_seen), verdicts, the queue and the event log into
 * one JSON object; that object is the "json" format, and the Markdown and
 * HTML renderers only read it, so the three formats can never disagree.
 * Everything that came from outside (mention text, titles, authors, URLs,
 * and even source, brand and rule names) goes through ear_md_escape() or
 * ear_html_escape() on its way out, and only http(s) URLs become links.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/output_int.h"

#define URGENT_MAX 10
#define SNIPPET_COLS 140

/* ------------------------------------------------------------ queries */

struct digest_ctx {
    struct ear_store *st;
    int64_t since;
    int64_t until;
    struct ear_error *err;
};

static int prepare(struct digest_ctx *c, const char *sql, sqlite3_stmt **q)
{
    if (sqlite3_prepare_v2(ear_store_db(c->st), sql, -1, q, NULL) !=
        SQLITE_OK)
        return ear_store_error(c->st, c->err, "digest query");
    /* Every query takes the period as ?1, ?2 (and may ignore them). */
    if (sqlite3_bind_parameter_count(*q) >= 1)
        sqlite3_bind_int64(*q, 1, (sqlite3_int64)c->since);
    if (sqlite3_bind_parameter_count(*q) >= 2)
        sqlite3_bind_int64(*q, 2, (sqlite3_int64)c->until);
    return 0;
}

static int oom(struct digest_ctx *c)
{
    return ear_error_set(c->err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
}

/* A column as JSON: integer, real, text or null. */
static json_t *col_json(sqlite3_stmt *q, int i)
{
    switch (sqlite3_column_type(q, i)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(q, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(q, i));
    case SQLITE_NULL:
        return json_null();
    default:
        return ear_output__json_str((const char *)sqlite3_column_text(q, i));
    }
}

/* Runs sql and sets keys[i] of obj to column i of its one row. */
static int query_row(struct digest_ctx *c, const char *sql,
                     const char *const keys[], json_t *obj)
{
    sqlite3_stmt *q = NULL;
    int rc = prepare(c, sql, &q);
    int step;

    if (rc < 0)
        return rc;
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        for (int i = 0; keys[i] && rc == 0; i++)
            if (ear_output__json_set(obj, keys[i], col_json(q, i)) < 0)
                rc = oom(c);
    } else if (step != SQLITE_DONE) {
        rc = ear_store_error(c->st, c->err, "digest query");
    }
    sqlite3_finalize(q);
    return rc;
}

/* Runs sql and appends one object per row to arr, keyed by keys. */
static int query_rows(struct digest_ctx *c, const char *sql,
                      const char *const keys[], json_t *arr)
{
    sqlite3_stmt *q = NULL;
    int rc = prepare(c, sql, &q);
    int step;

    if (rc < 0)
        return rc;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *o = json_object();

        if (!o || json_array_append_new(arr, o) < 0) {
            rc = oom(c);
            break;
        }
        for (int i = 0; keys[i] && rc == 0; i++)
            if (ear_output__json_set(o, keys[i], col_json(q, i)) < 0)
                rc = oom(c);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ear_store_error(c->st, c->err, "digest query");
    sqlite3_finalize(q);
    return rc;
}

/* Median of the query's first column (integers), or null. */
static int query_median(struct digest_ctx *c, const char *sql, json_t **out)
{
    sqlite3_stmt *q = NULL;
    int64_t *v = NULL;
    size_t n = 0;
    size_t cap = 0;
    int rc = prepare(c, sql, &q);
    int step;

    *out = NULL;
    if (rc < 0)
        return rc;
    /* The query orders its values, so the median is the middle row. */
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t *nv = ear_grow(v, &cap, n, sizeof *v, 64);

        if (!nv) {
            rc = oom(c);
            goto out;
        }
        v = nv;
        v[n++] = (int64_t)sqlite3_column_int64(q, 0);
    }
    if (step != SQLITE_DONE) {
        rc = ear_store_error(c->st, c->err, "digest query");
        goto out;
    }
    if (n == 0)
        *out = json_null();
    else if (n % 2 == 1)
        *out = json_integer((json_int_t)v[n / 2]);
    else
        *out = json_integer((json_int_t)((v[n / 2 - 1] + v[n / 2]) / 2));
    if (!*out)
        rc = oom(c);
out:
    free(v);
    sqlite3_finalize(q);
    return rc;
}

/* ------------------------------------------------------------ sections */

#define PERIOD "m.first_seen >= ?1 AND m.first_seen < ?2"
#define MV " FROM mentions m LEFT JOIN verdicts v ON v.mention_id = m.id "
/* The period's mentions, joined with their verdicts once into a temporary
 * table (fill_period) that the counts and groups then read: one pass over
 * the store instead of one per table of the digest. */
#define PT " FROM temp.ear_digest_period p "

static int exec_sql(struct digest_ctx *c, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int rc = prepare(c, sql, &q);

    if (rc < 0)
        return rc;
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(c->st, c->err, "digest query");
    sqlite3_finalize(q);
    return rc;
}

static int fill_period(struct digest_ctx *c)
{
    int rc;

    rc = exec_sql(c, "CREATE TEMP TABLE IF NOT EXISTS ear_digest_period ("
                     " cat TEXT, brand TEXT, source TEXT, lang TEXT,"
                     " day TEXT, analyzed INTEGER, flag INTEGER,"
                     " rating REAL)");
    if (rc == 0)
        rc = exec_sql(c, "DELETE FROM temp.ear_digest_period");
    if (rc == 0)
        rc = exec_sql(c, "INSERT INTO temp.ear_digest_period"
                         " SELECT json_extract(v.categories, '$[0]'),"
                         " v.brand, m.source,"
                         " coalesce(nullif(m.lang, ''), v.lang),"
                         " date(m.first_seen, 'unixepoch'),"
                         " v.mention_id IS NOT NULL, v.flag = 1, m.rating"
                         MV "WHERE " PERIOD);
    return rc;
}

static int add_mentions(struct digest_ctx *c, json_t *d)
{
    static const char *const keys[] = {"total", "analyzed", "flagged",
                                       "negative_share", NULL};
    json_t *o = json_object();
    int rc;

    if (!o || ear_output__json_set(d, "mentions", o) < 0)
        return oom(c);
    rc = query_row(c,
        "SELECT count(*), coalesce(sum(p.analyzed), 0), "
        " coalesce(sum(p.flag), 0), "
        " CASE WHEN sum(p.analyzed) > 0 THEN "
        "  round(1.0 * sum(p.flag) / sum(p.analyzed), 4) END" PT, keys, o);
    return rc;
}

static int add_groups(struct digest_ctx *c, json_t *d)
{
    static const char *const cat_keys[] = {"name", "flagged", NULL};
    static const char *const grp_keys[] = {"name", "mentions", "flagged",
                                           NULL};
    static const struct {
        const char *key;
        const char *sql;
        const char *const *keys;
    } groups[] = {
        {"by_category",
         "SELECT p.cat AS name, count(*) AS n" PT "WHERE p.flag = 1"
         " GROUP BY name ORDER BY n DESC, name", cat_keys},
        {"by_brand",
         "SELECT p.brand AS name, count(*) AS n,"
         " coalesce(sum(p.flag), 0) AS f" PT
         " GROUP BY name ORDER BY f DESC, n DESC, name", grp_keys},
        {"by_source",
         "SELECT p.source AS name, count(*) AS n,"
         " coalesce(sum(p.flag), 0) AS f" PT
         " GROUP BY name ORDER BY f DESC, n DESC, name", grp_keys},
        {"by_lang",
         "SELECT p.lang AS name, count(*) AS n,"
         " coalesce(sum(p.flag), 0) AS f" PT
         " GROUP BY name ORDER BY n DESC, name", grp_keys},
        {"per_day",
         "SELECT p.day AS name, count(*) AS n,"
         " coalesce(sum(p.flag), 0) AS f" PT
         " GROUP BY name ORDER BY name", grp_keys},
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof groups / sizeof groups[0] && rc == 0; i++) {
        json_t *a = json_array();

        if (!a || ear_output__json_set(d, groups[i].key, a) < 0)
            return oom(c);
        rc = query_rows(c, groups[i].sql, groups[i].keys, a);
    }
    return rc;
}

static int add_rating(struct digest_ctx *c, json_t *d)
{
    static const char *const keys[] = {"average", "count",
                                       "previous_average", "previous_count",
                                       NULL};
    static const char *const dist_keys[] = {"stars", "count", NULL};
    json_t *o = json_object();
    json_t *dist = json_array();
    json_t *avg;
    json_t *prev;
    int rc;

    if (!o || ear_output__json_set(d, "rating", o) < 0) {
        json_decref(dist);
        return oom(c);
    }
    if (!dist || ear_output__json_set(o, "distribution", dist) < 0)
        return oom(c);
    /* The previous period is as long as this one and ends where it
     * starts: ?2 - ?1 seconds before ?1. */
    rc = query_row(c,
        "SELECT round((SELECT avg(p.rating)" PT "WHERE p.rating > 0), 2),"
        " (SELECT count(*)" PT "WHERE p.rating > 0),"
        " round((SELECT avg(rating) FROM mentions m"
        "  WHERE m.first_seen >= 2 * ?1 - ?2 AND m.first_seen < ?1"
        "  AND rating > 0), 2),"
        " (SELECT count(*) FROM mentions m"
        "  WHERE m.first_seen >= 2 * ?1 - ?2 AND m.first_seen < ?1"
        "  AND rating > 0)", keys, o);
    if (rc < 0)
        return rc;
    avg = json_object_get(o, "average");
    prev = json_object_get(o, "previous_average");
    if (json_is_number(avg) && json_is_number(prev)) {
        double t = json_number_value(avg) - json_number_value(prev);

        rc = ear_output__json_set(o, "trend", json_real(round(t * 100) / 100));
    } else {
        rc = ear_output__json_set(o, "trend", json_null());
    }
    if (rc < 0)
        return oom(c);
    return query_rows(c,
        "SELECT CAST(round(p.rating) AS INTEGER) AS stars, count(*)"
        PT "WHERE p.rating > 0 GROUP BY stars ORDER BY stars", dist_keys,
        dist);
}

static int add_queue(struct digest_ctx *c, json_t *d)
{
    static const char *const keys[] = {
        "queued", "open", "overdue", "responded", "resolved", "dismissed",
        "average_resolution_seconds", "sla_met", "sla_counted", NULL
    };
    static const char *const team_keys[] = {"name", "open", "overdue", NULL};
    json_t *o = json_object();
    json_t *teams = json_array();
    json_t *median = NULL;
    json_t *met;
    json_t *counted;
    int rc;

    if (!o || ear_output__json_set(d, "queue", o) < 0) {
        json_decref(teams);
        return oom(c);
    }
    if (!teams || ear_output__json_set(o, "open_by_team", teams) < 0)
        return oom(c);
    /* SLA: items created in the period that are not dismissed and whose
     * deadline has passed by the end of the period or that were answered;
     * met when the first response came by the deadline. */
    /* every count from an index that holds it (migration 6) */
    rc = query_row(c,
        "SELECT"
        " (SELECT count(*) FROM queue WHERE created >= ?1 AND created < ?2),"
        " (SELECT count(*) FROM queue WHERE state IN "
        EAR_OUTPUT_OPEN_STATES "),"
        " (SELECT count(*) FROM queue WHERE state IN ('new','assigned')"
        "  AND first_response IS NULL AND due IS NOT NULL AND due < ?2),"
        " (SELECT count(*) FROM queue WHERE first_response >= ?1"
        "  AND first_response < ?2),"
        " (SELECT count(*) FROM queue WHERE state = 'resolved'"
        "  AND resolved_at >= ?1 AND resolved_at < ?2),"
        " (SELECT count(DISTINCT queue_id) FROM events WHERE"
        "  kind = 'dismissed' AND at >= ?1 AND at < ?2),"
        " (SELECT CAST(round(avg(resolved_at - created)) AS INTEGER)"
        "  FROM queue WHERE state = 'resolved' AND resolved_at >= ?1"
        "  AND resolved_at < ?2),"
        " (SELECT count(*) FROM queue WHERE created >= ?1 AND created < ?2"
        "  AND state <> 'dismissed' AND first_response IS NOT NULL"
        "  AND (due IS NULL OR first_response <= due)),"
        " (SELECT count(*) FROM queue WHERE created >= ?1 AND created < ?2"
        "  AND state <> 'dismissed' AND (first_response IS NOT NULL"
        "  OR (due IS NOT NULL AND due < ?2)))", keys, o);
    if (rc < 0)
        return rc;
    met = json_object_get(o, "sla_met");
    counted = json_object_get(o, "sla_counted");
    if (json_integer_value(counted) > 0)
        rc = ear_output__json_set(o, "sla_share", json_real(
            round(10000.0 * (double)json_integer_value(met) /
                  (double)json_integer_value(counted)) / 10000.0));
    else
        rc = ear_output__json_set(o, "sla_share", json_null());
    if (rc < 0)
        return oom(c);
    rc = query_median(c,
        "SELECT first_response - created FROM queue"
        " WHERE first_response >= ?1 AND first_response < ?2"
        " ORDER BY 1", &median);
    if (rc < 0)
        return rc;
    if (ear_output__json_set(o, "median_first_response_seconds", median) < 0)
        return oom(c);
    return query_rows(c,
        "SELECT team, count(*) AS n, coalesce(sum(state IN"
        " ('new','assigned') AND first_response IS NULL AND due IS NOT NULL"
        " AND due < ?2), 0) AS late FROM queue INDEXED BY queue_team_open"
        " WHERE state IN "
        EAR_OUTPUT_OPEN_STATES " GROUP BY team ORDER BY late DESC, n DESC,"
        " team", team_keys, teams);
}

static int add_urgent(struct digest_ctx *c, json_t *d)
{
    struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
    struct ear_queue_item *items = NULL;
    size_t n = 0;
    json_t *a = json_array();
    int rc;

    if (!a || ear_output__json_set(d, "urgent", a) < 0)
        return oom(c);
    f.limit = URGENT_MAX;
    rc = ear_queue_list(c->st, &f, c->until, &items, &n, c->err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *j = ear_queue_item_json(&items[i]);

        if (!j || json_array_append_new(a, j) < 0)
            rc = oom(c);
    }
    ear_queue_items_free(items, n);
    return rc;
}

static int add_dismissals(struct digest_ctx *c, json_t *d)
{
    static const char *const keys[] = {"rule", "dismissed",
                                       "not_a_complaint", NULL};
    json_t *a = json_array();

    if (!a || ear_output__json_set(d, "dismissals_by_rule", a) < 0)
        return oom(c);
    /* Each rule counts once per dismissed item, however often it matched
     * that item's text. */
    return query_rows(c,
        "SELECT rule, count(*) AS n, sum(reason = 'not-a-complaint') AS nac"
        " FROM (SELECT DISTINCT q.id AS qid, q.dismiss_reason AS reason,"
        "  json_extract(j.value, '$.rule') AS rule"
        "  FROM queue q JOIN verdicts v ON v.mention_id = q.mention_id,"
        "  json_each(v.matches) j"
        "  WHERE q.state = 'dismissed' AND q.id IN (SELECT queue_id FROM"
        "  events WHERE kind = 'dismissed' AND at >= ?1 AND at < ?2))"
        " WHERE rule IS NOT NULL"
        " GROUP BY rule ORDER BY nac DESC, n DESC, rule LIMIT 10", keys, a);
}

/* Incidents whose mentions fall in the period (open or closed). */
static int add_incidents(struct digest_ctx *c, json_t *d)
{
    struct ear_incident *v = NULL;
    json_t *a = json_array();
    size_t n = 0;
    int rc;

    if (!a)
        return oom(c);
    rc = ear_incidents_list(c->st, 0, c->since, c->until, &v, &n, c->err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (json_array_append_new(a, ear_incident_json(&v[i])) < 0)
            rc = oom(c);
    ear_incidents_free(v, n);
    if (rc == 0)
        rc = ear_output__json_set(d, "incidents", a);
    else
        json_decref(a);
    return rc == EAR_ENOMEM ? oom(c) : rc;
}

/* Sources that need a look, as they stand when the digest is made (until):
 * failing or throttled, silent (nothing new for longer than their
 * expected_every), never polled. Disabled sources are left out. */
static int add_sources(struct digest_ctx *c, const struct ear_config *cfg,
                       json_t *d)
{
    json_t *a = json_array();
    int rc = 0;

    if (!a)
        return oom(c);
    for (size_t i = 0; rc == 0 && cfg && i < cfg->nsources; i++) {
        const struct ear_source_cfg *src = &cfg->sources[i];
        struct ear_source_state s;
        const char *status;
        int silent;
        json_t *o;

        if (!src->enabled)
            continue;
        rc = ear_store_source_get(c->st, src->name, &s, c->err);
        if (rc == EAR_ENOTFOUND)
            rc = 0;
        if (rc < 0)
            break;
        silent = ear_source_silent(src, &s, c->until);
        status = s.last_status ? s.last_status : "never-polled";
        if (silent && (strcmp(status, "ok") == 0 ||
                       strcmp(status, "not-modified") == 0))
            status = "silent";
        if (strcmp(status, "ok") != 0 && strcmp(status, "not-modified") != 0) {
            o = json_object();
            if (!o || json_array_append_new(a, o) < 0 ||
                ear_output__json_set(o, "name", json_string(src->name)) < 0 ||
                ear_output__json_set(o, "status", json_string(status)) < 0 ||
                ear_output__json_set(o, "failures",
                                     json_integer(s.failures)) < 0 ||
                ear_output__json_set(o, "last_success",
                                     s.last_success
                                         ? ear_output__json_time(s.last_success)
                                         : json_null()) < 0 ||
                ear_output__json_set(o, "last_new",
                                     s.last_new
                                         ? ear_output__json_time(s.last_new)
                                         : json_null()) < 0 ||
                ear_output__json_set(o, "last_error",
                                     s.last_error ? json_string(s.last_error)
                                                  : json_null()) < 0)
                rc = EAR_ENOMEM;
        }
        ear_source_state_dispose(&s);
    }
    if (rc == 0)
        rc = ear_output__json_set(d, "sources_attention", a);
    else
        json_decref(a);
    return rc == EAR_ENOMEM ? oom(c) : rc;
}

int ear_digest_build(json_t **out, struct ear_store *st,
                     const struct ear_config *cfg, int64_t since,
                     int64_t until, struct ear_error *err)
{
    struct digest_ctx c = {st, since, until, err};
    json_t *d = NULL;
    json_t *period = NULL;
    int rc = 0;

    *out = NULL;
    if (until <= since)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "digest: the period is empty (until must be "
                             "after since)");
    d = json_object();
    period = json_object();
    if (!d || !period) {
        json_decref(period);
        rc = oom(&c);
        goto out;
    }
    if (ear_output__json_set(d, "period", period) < 0 ||
        ear_output__json_set(period, "since", ear_output__json_time(since)) <
            0 ||
        ear_output__json_set(period, "until", ear_output__json_time(until)) <
            0 ||
        ear_output__json_set(period, "seconds",
                             json_integer((json_int_t)(until - since))) < 0) {
        rc = oom(&c);
        goto out;
    }
    rc = fill_period(&c);
    if (rc == 0)
        rc = add_mentions(&c, d);
    if (rc == 0)
        rc = add_groups(&c, d);
    if (rc == 0)
        rc = add_rating(&c, d);
    if (rc == 0)
        rc = add_queue(&c, d);
    if (rc == 0)
        rc = add_urgent(&c, d);
    if (rc == 0)
        rc = add_incidents(&c, d);
    if (rc == 0)
        rc = add_dismissals(&c, d);
    if (rc == 0)
        rc = add_sources(&c, cfg, d);
    if (rc < 0)
        goto out;
    *out = d;
    d = NULL;
out:
    /* the period's rows are not kept beyond the digest */
    sqlite3_exec(ear_store_db(st), "DELETE FROM temp.ear_digest_period",
                 NULL, NULL, NULL);
    json_decref(d);
    return rc;
}

/* ------------------------------------------------------------ helpers */

static json_int_t jint(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *dur(json_int_t secs, char *buf, size_t size)
{
    return ear_duration_fmt((int64_t)secs, buf, size);
}

/* Bar of width cells for value out of max, in block characters. */
static int bar(struct ear_buf *b, json_int_t value, json_int_t max,
               int width)
{
    int cells = max > 0 ? (int)((value * width + max - 1) / max) : 0;
    int rc = 0;

    for (int i = 0; i < cells && rc == 0; i++)
        rc = ear_buf_adds(b, "\xE2\x96\x88");
    return rc;
}

/* ------------------------------------------------------------ Markdown */

/* md: escaped text, or "—" for null/empty. */
static int md_text(struct ear_buf *b, const char *s)
{
    if (!s || !s[0])
        return ear_buf_adds(b, "\xE2\x80\x94");
    return ear_md_escape(b, s);
}

/* text as a link to url when url is http(s), else plain; both escaped.
 * Markdown: [text](<url>) with the URL percent-encoded where it could end
 * the destination. */
static int md_link(struct ear_buf *b, const char *text, const char *url)
{
    int rc;

    if (!ear_url_linkable(url))
        return ear_md_escape(b, text);
    rc = ear_buf_adds(b, "[");
    if (rc == 0)
        rc = ear_md_escape(b, text);
    if (rc == 0)
        rc = ear_buf_adds(b, "](<");
    if (rc == 0)
        rc = ear_url_encode(b, url);
    if (rc == 0)
        rc = ear_buf_adds(b, ">)");
    return rc;
}

/* The same in HTML: <a href rel="noopener noreferrer">. */
static int html_link(struct ear_buf *b, const char *text, const char *url)
{
    struct ear_buf enc;
    int rc;

    if (!ear_url_linkable(url))
        return ear_html_escape(b, text);
    ear_buf_init(&enc, 1 << 20);
    rc = ear_url_encode(&enc, url);
    if (rc == 0)
        rc = ear_buf_adds(b, "<a href=\"");
    if (rc == 0)
        rc = ear_html_escape(b, ear_buf_str(&enc));
    if (rc == 0)
        rc = ear_buf_adds(b, "\" rel=\"noopener noreferrer\">");
    if (rc == 0)
        rc = ear_html_escape(b, text);
    if (rc == 0)
        rc = ear_buf_adds(b, "</a>");
    ear_buf_dispose(&enc);
    return rc;
}

/* An incident's first mention: its title (else text) cut to cols, linked
 * by link. */
static int first_mention(struct ear_buf *b, const json_t *inc, size_t cols,
                         int (*link)(struct ear_buf *, const char *,
                                     const char *))
{
    const json_t *first = json_object_get(inc, "first_mention");
    const char *title = json_string_value(json_object_get(first, "title"));
    struct ear_buf snip;
    int rc;

    if (!title || !title[0])
        title = json_string_value(json_object_get(first, "text"));
    ear_buf_init(&snip, 4096);
    rc = ear_text_snippet(&snip, title ? title : "", cols);
    if (rc == 0)
        rc = link(b, ear_buf_str(&snip),
                  json_string_value(json_object_get(first, "url")));
    ear_buf_dispose(&snip);
    return rc;
}

/* A table's column: its heading and the row's key. The first column is
 * text (escaped), the others are counts. */
struct col {
    const char *head;
    const char *key;
};

static int h(struct ear_buf *b, const char *s);

/* A titled table of rows (nothing when there are none), in Markdown or in
 * HTML. */
static int table(struct ear_buf *b, int html, const char *title,
                 const struct col *cols, size_t ncols, const json_t *rows)
{
    size_t i, c;
    json_t *r;
    int rc;

    if (json_array_size(rows) == 0)
        return 0;
    rc = ear_buf_addf(b, html ? "<h2>%s</h2>\n<table><tr>" : "\n## %s\n\n|",
                      title);
    for (c = 0; c < ncols && rc == 0; c++)
        rc = ear_buf_addf(b, html ? "<th>%s</th>" : " %s |", cols[c].head);
    if (rc == 0)
        rc = ear_buf_adds(b, html ? "</tr>\n" : "\n|---|");
    for (c = 1; c < ncols && rc == 0 && !html; c++)
        rc = ear_buf_adds(b, "---:|");
    if (rc == 0 && !html)
        rc = ear_buf_adds(b, "\n");
    json_array_foreach(rows, i, r) {
        if (rc == 0)
            rc = ear_buf_adds(b, html ? "<tr><td>" : "| ");
        if (rc == 0)
            rc = html ? h(b, jstr(r, cols[0].key))
                      : md_text(b, jstr(r, cols[0].key));
        for (c = 1; c < ncols && rc == 0; c++)
            rc = ear_buf_addf(b, html ? "</td><td class=\"n\">%lld" : " | %lld",
                              (long long)jint(r, cols[c].key));
        if (rc == 0)
            rc = ear_buf_adds(b, html ? "</td></tr>\n" : " |\n");
    }
    if (rc == 0 && html)
        rc = ear_buf_adds(b, "</table>\n");
    return rc;
}

/* The digest's tables, the same in both markups. */
static int counts_table(struct ear_buf *b, int html, const char *title,
                        const char *head, const json_t *rows,
                        int with_mentions)
{
    const struct col cols[] = {
        {head, "name"}, {"mentions", "mentions"}, {"flagged", "flagged"}};

    if (with_mentions)
        return table(b, html, title, cols, 3, rows);
    return table(b, html, title, (const struct col[]){cols[0], cols[2]}, 2,
                 rows);
}

static int team_table(struct ear_buf *b, int html, const json_t *rows)
{
    static const struct col cols[] = {
        {"team", "name"}, {"open", "open"}, {"overdue", "overdue"}};

    return table(b, html, "Open backlog by team", cols, 3, rows);
}

static int dismissals_table(struct ear_buf *b, int html, const json_t *rows)
{
    static const struct col cols[] = {{"rule", "rule"},
                                      {"dismissed", "dismissed"},
                                      {"not a complaint", "not_a_complaint"}};

    return table(b, html, "Rules with most dismissals", cols, 3, rows);
}

static int md_urgent(struct ear_buf *b, const json_t *urgent)
{
    size_t i;
    json_t *it;
    int rc;

    if (json_array_size(urgent) == 0)
        return ear_buf_adds(b, "\n## Most urgent open items\n\n"
                               "Nothing open.\n");
    rc = ear_buf_adds(b, "\n## Most urgent open items\n\n");
    json_array_foreach(urgent, i, it) {
        const char *title = jstr(it, "title");
        const char *text = jstr(it, "text");
        const char *url = jstr(it, "url");
        struct ear_buf snip;

        if (rc == 0)
            rc = ear_buf_addf(b, "%zu. **#%lld** %s%s", i + 1,
                              (long long)jint(it, "id"),
                              jstr(it, "severity"),
                              json_is_true(json_object_get(it, "overdue"))
                                  ? " **OVERDUE**" : "");
        if (rc == 0)
            rc = ear_buf_adds(b, " \xC2\xB7 ");
        if (rc == 0)
            rc = md_text(b, jstr(it, "category"));
        if (rc == 0)
            rc = ear_buf_adds(b, " \xC2\xB7 ");
        if (rc == 0)
            rc = md_text(b, jstr(it, "brand"));
        if (rc == 0)
            rc = ear_buf_adds(b, " \xC2\xB7 ");
        if (rc == 0)
            rc = md_text(b, jstr(it, "source"));
        if (rc == 0)
            rc = ear_buf_adds(b, " \xC2\xB7 team ");
        if (rc == 0)
            rc = md_text(b, jstr(it, "team"));
        if (rc == 0 && jstr(it, "owner")) {
            rc = ear_buf_adds(b, ", owner ");
            if (rc == 0)
                rc = md_text(b, jstr(it, "owner"));
        }
        if (rc == 0)
            rc = ear_buf_adds(b, "\n   ");
        if (rc == 0 && (!title || !title[0]))
            title = NULL;
        if (rc == 0 && !title && !ear_url_linkable(url))
            rc = ear_buf_adds(b, "_(no title)_");
        else if (rc == 0)
            rc = md_link(b, title ? title : "link", url);
        if (rc == 0 && jstr(it, "author")) {
            rc = ear_buf_adds(b, " by ");
            if (rc == 0)
                rc = ear_md_escape(b, jstr(it, "author"));
        }
        if (rc == 0 && text && text[0]) {
            ear_buf_init(&snip, 4096);
            rc = ear_text_snippet(&snip, text, SNIPPET_COLS);
            if (rc == 0)
                rc = ear_buf_adds(b, "\n   > ");
            if (rc == 0)
                rc = ear_md_escape(b, ear_buf_str(&snip));
            ear_buf_dispose(&snip);
        }
        if (rc == 0)
            rc = ear_buf_adds(b, "\n");
    }
    return rc;
}

static int md_bars(struct ear_buf *b, const char *title, const json_t *rows,
                   const char *label_key, const char *value_key,
                   const char *extra_key, const char *star)
{
    json_int_t max = 0;
    size_t i;
    json_t *r;
    int rc;

    if (json_array_size(rows) == 0)
        return 0;
    json_array_foreach(rows, i, r)
        if (jint(r, value_key) > max)
            max = jint(r, value_key);
    rc = ear_buf_addf(b, "\n## %s\n\n```\n", title);
    json_array_foreach(rows, i, r) {
        json_t *label = json_object_get(r, label_key);

        if (rc == 0 && json_is_integer(label))
            rc = ear_buf_addf(b, "%lld%s", (long long)json_integer_value(label),
                              star);
        else if (rc == 0)
            rc = ear_text_clean(b, json_string_value(label));
        if (rc == 0)
            rc = ear_buf_adds(b, "  ");
        if (rc == 0)
            rc = bar(b, jint(r, value_key), max, 40);
        if (rc == 0)
            rc = ear_buf_addf(b, " %lld", (long long)jint(r, value_key));
        if (rc == 0 && extra_key)
            rc = ear_buf_addf(b, " (%lld flagged)",
                              (long long)jint(r, extra_key));
        if (rc == 0)
            rc = ear_buf_adds(b, "\n");
    }
    if (rc == 0)
        rc = ear_buf_adds(b, "```\n");
    return rc;
}

/* jstr, but "" for a missing or null value. */
static const char *jstr0(const json_t *o, const char *key)
{
    const char *v = jstr(o, key);

    return v ? v : "";
}

/* "#3 open: 15 billing complaints about Acme, up to 14 within 1h,
 * 08:04Z to 10:30Z", with words from outside escaped by esc. */
static int incident_line(struct ear_buf *b, const json_t *inc,
                         int (*esc)(struct ear_buf *, const char *))
{
    char span[32];
    int rc;

    rc = ear_buf_addf(b, "#%lld %s: %lld ", (long long)jint(inc, "id"),
                      jstr0(inc, "state"), (long long)jint(inc, "count"));
    if (rc == 0)
        rc = esc(b, jstr0(inc, "category"));
    if (rc == 0)
        rc = ear_buf_adds(b, " complaints");
    if (rc == 0 && jstr0(inc, "brand")[0]) {
        rc = ear_buf_adds(b, " about ");
        if (rc == 0)
            rc = esc(b, jstr0(inc, "brand"));
    }
    if (rc == 0)
        rc = ear_buf_addf(b, ", up to %lld within %s, %s to %s",
                          (long long)jint(inc, "peak"),
                          ear_output__span(jint(inc, "window"), span,
                                           sizeof span),
                          jstr0(inc, "started"), jstr0(inc, "last"));
    if (rc == 0 && json_array_size(json_object_get(inc, "terms")) > 0) {
        size_t i;
        json_t *t;

        rc = ear_buf_adds(b, "; top terms: ");
        json_array_foreach(json_object_get(inc, "terms"), i, t) {
            if (rc == 0 && i > 0)
                rc = ear_buf_adds(b, ", ");
            if (rc == 0)
                rc = esc(b, json_string_value(t));
        }
    }
    return rc;
}

/* "name: silent, last new item 2026-11-20T…, last success …" and for a
 * failing source its failures and the last error, escaped by esc. */
static int source_line(struct ear_buf *b, const json_t *o,
                       int (*esc)(struct ear_buf *, const char *))
{
    const char *status = jstr0(o, "status");
    int rc;

    rc = esc(b, jstr0(o, "name"));
    if (rc == 0)
        rc = ear_buf_adds(b, ": ");
    if (rc == 0)
        rc = esc(b, status);
    if (rc == 0 && jint(o, "failures") > 0)
        rc = ear_buf_addf(b, ", %lld failed poll%s in a row",
                          (long long)jint(o, "failures"),
                          jint(o, "failures") == 1 ? "" : "s");
    if (rc == 0 && strcmp(status, "silent") == 0)
        rc = ear_buf_addf(b, ", nothing new since %s",
                          jstr0(o, "last_new")[0] ? jstr0(o, "last_new")
                                                  : "it was first polled");
    if (rc == 0 && strcmp(status, "never-polled") != 0)
        rc = ear_buf_addf(b, ", last success %s",
                          jstr0(o, "last_success")[0]
                              ? jstr0(o, "last_success") : "never");
    if (rc == 0 && jstr0(o, "last_error")[0]) {
        rc = ear_buf_adds(b, "; ");
        if (rc == 0)
            rc = esc(b, jstr0(o, "last_error"));
    }
    return rc;
}

/* An incident as a list item: its line, then its first mention. */
static int incident_item(struct ear_buf *b, int html, const json_t *inc)
{
    int rc;

    if (html)
        rc = ear_buf_addf(b, "<li class=\"%s\"><b>",
                          strcmp(jstr0(inc, "state"), "open") == 0 ? "open"
                                                                   : "closed");
    else
        rc = ear_buf_adds(b, "- **");
    if (rc == 0)
        rc = incident_line(b, inc, html ? ear_html_escape : md_text);
    if (rc == 0)
        rc = ear_buf_adds(b, html ? "</b><br><small>first: "
                                  : "**\n  first: ");
    if (rc == 0)
        rc = html ? first_mention(b, inc, SNIPPET_COLS * 2, html_link)
                  : first_mention(b, inc, SNIPPET_COLS, md_link);
    if (rc == 0)
        rc = ear_buf_adds(b, html ? "</small></li>\n" : "\n");
    return rc;
}

static int source_item(struct ear_buf *b, int html, const json_t *o)
{
    int rc = ear_buf_adds(b, html ? "<li>" : "- ");

    if (rc == 0)
        rc = source_line(b, o, html ? ear_html_escape : md_text);
    if (rc == 0)
        rc = ear_buf_adds(b, html ? "</li>\n" : "\n");
    return rc;
}

/* A titled list of rows, one item() each (nothing when there are none),
 * in Markdown or in HTML (a list of class cls). */
static int list(struct ear_buf *b, int html, const char *title,
                const char *cls, const json_t *rows,
                int (*item)(struct ear_buf *, int, const json_t *))
{
    size_t i;
    json_t *r;
    int rc;

    if (json_array_size(rows) == 0)
        return 0;
    rc = html ? ear_buf_addf(b, "<h2>%s</h2>\n<ul class=\"%s\">\n", title,
                             cls)
              : ear_buf_addf(b, "\n## %s\n\n", title);
    json_array_foreach(rows, i, r) {
        if (rc == 0)
            rc = item(b, html, r);
    }
    if (rc == 0 && html)
        rc = ear_buf_adds(b, "</ul>\n");
    return rc;
}

int ear_output__digest_md(const json_t *d, struct ear_buf *b)
{
    const json_t *period = json_object_get(d, "period");
    const json_t *m = json_object_get(d, "mentions");
    const json_t *rating = json_object_get(d, "rating");
    const json_t *q = json_object_get(d, "queue");
    const json_t *share = json_object_get(m, "negative_share");
    const json_t *avg = json_object_get(rating, "average");
    const json_t *trend = json_object_get(rating, "trend");
    const json_t *median = json_object_get(q, "median_first_response_seconds");
    const json_t *sla = json_object_get(q, "sla_share");
    const json_t *res = json_object_get(q, "average_resolution_seconds");
    char t1[64];
    char t2[64];
    int rc;

    rc = ear_buf_addf(b, "# earshot digest\n\n%s to %s\n\n",
                      jstr(period, "since"), jstr(period, "until"));
    if (rc == 0)
        rc = ear_buf_addf(b, "- **%lld** new mentions, **%lld** flagged",
                          (long long)jint(m, "total"),
                          (long long)jint(m, "flagged"));
    if (rc == 0 && json_is_number(share))
        rc = ear_buf_addf(b, " (%.0f%% negative)",
                          100.0 * json_number_value(share));
    if (rc == 0 && json_is_number(avg)) {
        rc = ear_buf_addf(b, "\n- average rating **%.2f** of %lld rated",
                          json_number_value(avg),
                          (long long)jint(rating, "count"));
        if (rc == 0 && json_is_number(trend))
            rc = ear_buf_addf(b, ", %+.2f against the period before",
                              json_number_value(trend));
    } else if (rc == 0) {
        rc = ear_buf_adds(b, "\n- no rated mentions");
    }
    if (rc == 0)
        rc = ear_buf_addf(b, "\n- open backlog **%lld**, **%lld** overdue; "
                          "%lld queued, %lld answered, %lld resolved, "
                          "%lld dismissed in the period",
                          (long long)jint(q, "open"),
                          (long long)jint(q, "overdue"),
                          (long long)jint(q, "queued"),
                          (long long)jint(q, "responded"),
                          (long long)jint(q, "resolved"),
                          (long long)jint(q, "dismissed"));
    if (rc == 0 && json_is_integer(median))
        rc = ear_buf_addf(b, "\n- median first response **%s**",
                          dur(json_integer_value(median), t1, sizeof t1));
    if (rc == 0 && json_is_number(sla))
        rc = ear_buf_addf(b, "; **%.0f%%** answered within SLA (%lld of "
                          "%lld)", 100.0 * json_number_value(sla),
                          (long long)jint(q, "sla_met"),
                          (long long)jint(q, "sla_counted"));
    if (rc == 0 && json_is_integer(res))
        rc = ear_buf_addf(b, "\n- average resolution time %s",
                          dur(json_integer_value(res), t2, sizeof t2));
    if (rc == 0)
        rc = ear_buf_adds(b, "\n");
    if (rc == 0)
        rc = list(b, 0, "Incidents", "incidents",
                  json_object_get(d, "incidents"), incident_item);
    if (rc == 0)
        rc = list(b, 0, "Sources needing attention", "sources",
                  json_object_get(d, "sources_attention"), source_item);
    if (rc == 0)
        rc = md_urgent(b, json_object_get(d, "urgent"));
    if (rc == 0)
        rc = counts_table(b, 0, "Flagged by category", "category",
                          json_object_get(d, "by_category"), 0);
    if (rc == 0)
        rc = counts_table(b, 0, "By brand", "brand",
                          json_object_get(d, "by_brand"), 1);
    if (rc == 0)
        rc = counts_table(b, 0, "By source", "source",
                          json_object_get(d, "by_source"), 1);
    if (rc == 0)
        rc = counts_table(b, 0, "By language", "language",
                          json_object_get(d, "by_lang"), 1);
    if (rc == 0)
        rc = team_table(b, 0, json_object_get(q, "open_by_team"));
    if (rc == 0)
        rc = md_bars(b, "Mentions per day", json_object_get(d, "per_day"),
                     "name", "mentions", "flagged", "");
    if (rc == 0)
        rc = md_bars(b, "Ratings", json_object_get(rating, "distribution"),
                     "stars", "count", NULL, "\xE2\x98\x85");
    if (rc == 0)
        rc = dismissals_table(b, 0, json_object_get(d, "dismissals_by_rule"));
    return rc;
}

/* ------------------------------------------------------------ HTML */

static int h(struct ear_buf *b, const char *s)
{
    if (!s || !s[0])
        return ear_buf_adds(b, "&mdash;");
    return ear_html_escape(b, s);
}

/* A chart label: escaped and cut to what fits left of the bars. */
static int svg_label(struct ear_buf *b, const char *s)
{
    struct ear_buf cut;
    int rc;

    ear_buf_init(&cut, 4096);
    rc = ear_text_snippet(&cut, s, 22);
    if (rc == 0)
        rc = h(b, ear_buf_str(&cut));
    ear_buf_dispose(&cut);
    return rc;
}

/* A horizontal bar chart as inline SVG: one row per entry, value_key bars
 * with an optional second series (part_key, drawn over it) for flagged. */
static int svg_bars(struct ear_buf *b, const json_t *rows,
                    const char *label_key, const char *value_key,
                    const char *part_key, const char *suffix)
{
    json_int_t max = 0;
    size_t n = json_array_size(rows);
    size_t i;
    json_t *r;
    int rc;

    if (n == 0)
        return ear_buf_adds(b, "<p class=\"none\">No data.</p>\n");
    json_array_foreach(rows, i, r)
        if (jint(r, value_key) > max)
            max = jint(r, value_key);
    rc = ear_buf_addf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                      "role=\"img\" width=\"720\" height=\"%zu\" "
                      "viewBox=\"0 0 720 %zu\">\n", n * 22 + 4, n * 22 + 4);
    json_array_foreach(rows, i, r) {
        json_t *label = json_object_get(r, label_key);
        json_int_t v = jint(r, value_key);
        json_int_t part = part_key ? jint(r, part_key) : 0;
        /* Whole pixels: printf's %f would follow LC_NUMERIC. */
        long long w = max > 0 ? (long long)(400 * v / max) : 0;
        long long pw = max > 0 ? (long long)(400 * part / max) : 0;
        size_t y = i * 22 + 2;

        if (rc == 0)
            rc = ear_buf_addf(b, "<text x=\"0\" y=\"%zu\" class=\"l\">",
                              y + 15);
        if (rc == 0 && json_is_integer(label))
            rc = ear_buf_addf(b, "%lld%s", (long long)json_integer_value(label),
                              suffix);
        else if (rc == 0)
            rc = svg_label(b, json_string_value(label));
        if (rc == 0)
            rc = ear_buf_addf(b, "</text><rect x=\"150\" y=\"%zu\" "
                              "width=\"%lld\" height=\"18\" class=\"all\"/>",
                              y, w);
        if (rc == 0 && part_key)
            rc = ear_buf_addf(b, "<rect x=\"150\" y=\"%zu\" width=\"%lld\" "
                              "height=\"18\" class=\"neg\"/>", y, pw);
        if (rc == 0 && part_key)
            rc = ear_buf_addf(b, "<text x=\"%lld\" y=\"%zu\">%lld "
                              "(%lld flagged)</text>\n", 156 + w, y + 15,
                              (long long)v, (long long)part);
        else if (rc == 0)
            rc = ear_buf_addf(b, "<text x=\"%lld\" y=\"%zu\">%lld</text>\n",
                              156 + w, y + 15, (long long)v);
    }
    if (rc == 0)
        rc = ear_buf_adds(b, "</svg>\n");
    return rc;
}

static int html_urgent(struct ear_buf *b, const json_t *urgent)
{
    size_t i;
    json_t *it;
    int rc = ear_buf_adds(b, "<h2>Most urgent open items</h2>\n");

    if (rc == 0 && json_array_size(urgent) == 0)
        return ear_buf_adds(b, "<p class=\"none\">Nothing open.</p>\n");
    if (rc == 0)
        rc = ear_buf_adds(b, "<ol class=\"urgent\">\n");
    json_array_foreach(urgent, i, it) {
        const char *title = jstr(it, "title");
        const char *url = jstr(it, "url");
        const char *text = jstr(it, "text");
        int overdue = json_is_true(json_object_get(it, "overdue"));

        if (!title || !title[0])
            title = "(untitled)";
        if (rc == 0)
            rc = ear_buf_addf(b, "<li><span class=\"sev %s\">%s</span>%s "
                              "<b>#%lld</b> ", jstr(it, "severity"),
                              jstr(it, "severity"),
                              overdue ? " <span class=\"late\">overdue"
                                        "</span>" : "",
                              (long long)jint(it, "id"));
        if (rc == 0)
            rc = html_link(b, title, url);
        if (rc == 0)
            rc = ear_buf_adds(b, "<br><small>");
        if (rc == 0)
            rc = h(b, jstr(it, "category"));
        if (rc == 0)
            rc = ear_buf_adds(b, " &middot; ");
        if (rc == 0)
            rc = h(b, jstr(it, "brand"));
        if (rc == 0)
            rc = ear_buf_adds(b, " &middot; ");
        if (rc == 0)
            rc = h(b, jstr(it, "source"));
        if (rc == 0)
            rc = ear_buf_adds(b, " &middot; team ");
        if (rc == 0)
            rc = h(b, jstr(it, "team"));
        if (rc == 0 && jstr(it, "author")) {
            rc = ear_buf_adds(b, " &middot; by ");
            if (rc == 0)
                rc = h(b, jstr(it, "author"));
        }
        if (rc == 0)
            rc = ear_buf_adds(b, "</small>");
        if (rc == 0 && text && text[0]) {
            struct ear_buf snip;

            ear_buf_init(&snip, 4096);
            rc = ear_text_snippet(&snip, text, SNIPPET_COLS * 2);
            if (rc == 0)
                rc = ear_buf_adds(b, "<blockquote>");
            if (rc == 0)
                rc = ear_html_escape(b, ear_buf_str(&snip));
            if (rc == 0)
                rc = ear_buf_adds(b, "</blockquote>");
            ear_buf_dispose(&snip);
        }
        if (rc == 0)
            rc = ear_buf_adds(b, "</li>\n");
    }
    if (rc == 0)
        rc = ear_buf_adds(b, "</ol>\n");
    return rc;
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    /* No script can run, whatever a review contains. */
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
    "'none'; style-src 'unsafe-inline'; img-src data:\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<title>earshot digest</title>\n<style>\n"
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto;"
    "padding:0 1em;color:#222}\n"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border-bottom:1px solid #ddd;padding:.2em .8em;text-align:left}\n"
    "td.n{text-align:right}.none{color:#777}\n"
    ".sev{font-weight:bold;padding:0 .3em;border-radius:3px}"
    ".critical{background:#b00;color:#fff}.high{background:#e55;color:#fff}"
    ".medium{background:#fc6}.low{background:#ddd}\n"
    ".late{color:#b00;font-weight:bold}\n"
    ".incidents li.open b{color:#b00}\n"
    "blockquote{margin:.3em 0 .8em 1em;color:#555}\n"
    "svg text{font-size:12px;fill:#222}svg .all{fill:#9bc}"
    "svg .neg{fill:#d55}\n"
    ".kpi{display:flex;flex-wrap:wrap;gap:1em}.kpi div{background:#f4f4f4;"
    "padding:.5em 1em;border-radius:4px}.kpi b{font-size:1.4em;"
    "display:block}\n"
    "</style></head><body>\n";

/* The same for a mail, whose images are cid: parts of the message. */
static const char html_head_mail[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
    "'none'; style-src 'unsafe-inline'; img-src cid: data:\">\n"
    "<title>earshot digest</title>\n<style>\n"
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto;"
    "padding:0 1em;color:#222}\n"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border-bottom:1px solid #ddd;padding:.2em .8em;text-align:left}\n"
    "td.n{text-align:right}.none{color:#777}\n"
    ".sev{font-weight:bold;padding:0 .3em;border-radius:3px}"
    ".critical{background:#b00;color:#fff}.high{background:#e55;color:#fff}"
    ".medium{background:#fc6}.low{background:#ddd}\n"
    ".late{color:#b00;font-weight:bold}\n"
    ".incidents li.open b{color:#b00}\n"
    "blockquote{margin:.3em 0 .8em 1em;color:#555}\n"
    ".kpi div{display:inline-block;background:#f4f4f4;margin:0 .5em .5em 0;"
    "padding:.5em 1em}.kpi b{font-size:1.4em;display:block}\n"
    "</style></head><body>\n";

static int html_kpi(struct ear_buf *b, const char *label, const char *value)
{
    int rc = ear_buf_adds(b, "<div><b>");

    if (rc == 0)
        rc = ear_html_escape(b, value);
    if (rc == 0)
        rc = ear_buf_addf(b, "</b>%s</div>\n", label);
    return rc;
}

/* A chart: inline SVG, or in a mail the cid: image of chart number id
 * (drawn by chart.c with the same rows). */
static int chart(struct ear_buf *b, int mail, int id, const json_t *rows,
                 const char *label_key, const char *value_key,
                 const char *part_key, const char *suffix, const char *alt)
{
    size_t n = json_array_size(rows);

    if (!mail)
        return svg_bars(b, rows, label_key, value_key, part_key, suffix);
    return ear_buf_addf(b, "<img src=\"cid:chart-%d@earshot\" width=\"720\" "
                        "height=\"%zu\" alt=\"%s\">\n", id,
                        (n ? n : 1) * 22 + 4, alt);
}

int ear_output__digest_html(const json_t *d, struct ear_buf *b, int mail)
{
    const json_t *period = json_object_get(d, "period");
    const json_t *m = json_object_get(d, "mentions");
    const json_t *rating = json_object_get(d, "rating");
    const json_t *q = json_object_get(d, "queue");
    const json_t *share = json_object_get(m, "negative_share");
    const json_t *avg = json_object_get(rating, "average");
    const json_t *median = json_object_get(q, "median_first_response_seconds");
    const json_t *sla = json_object_get(q, "sla_share");
    char v[64];
    char t[64];
    int rc;

    rc = ear_buf_adds(b, mail ? html_head_mail : html_head);
    if (rc == 0)
        rc = ear_buf_adds(b, "<h1>earshot digest</h1>\n<p>");
    if (rc == 0)
        rc = h(b, jstr(period, "since"));
    if (rc == 0)
        rc = ear_buf_adds(b, " to ");
    if (rc == 0)
        rc = h(b, jstr(period, "until"));
    if (rc == 0)
        rc = ear_buf_adds(b, "</p>\n<div class=\"kpi\">\n");
    snprintf(v, sizeof v, "%lld", (long long)jint(m, "total"));
    if (rc == 0)
        rc = html_kpi(b, "new mentions", v);
    snprintf(v, sizeof v, "%lld", (long long)jint(m, "flagged"));
    if (rc == 0)
        rc = html_kpi(b, "flagged", v);
    if (json_is_number(share))
        snprintf(v, sizeof v, "%.0f%%", 100.0 * json_number_value(share));
    else
        snprintf(v, sizeof v, "-");
    if (rc == 0)
        rc = html_kpi(b, "negative", v);
    if (json_is_number(avg))
        snprintf(v, sizeof v, "%.2f", json_number_value(avg));
    else
        snprintf(v, sizeof v, "-");
    if (rc == 0)
        rc = html_kpi(b, "average rating", v);
    snprintf(v, sizeof v, "%lld / %lld", (long long)jint(q, "open"),
             (long long)jint(q, "overdue"));
    if (rc == 0)
        rc = html_kpi(b, "open / overdue", v);
    snprintf(v, sizeof v, "%s", json_is_integer(median)
             ? dur(json_integer_value(median), t, sizeof t) : "-");
    if (rc == 0)
        rc = html_kpi(b, "median first response", v);
    if (json_is_number(sla))
        snprintf(v, sizeof v, "%.0f%%", 100.0 * json_number_value(sla));
    else
        snprintf(v, sizeof v, "-");
    if (rc == 0)
        rc = html_kpi(b, "answered within SLA", v);
    if (rc == 0)
        rc = ear_buf_adds(b, "</div>\n");
    if (rc == 0)
        rc = list(b, 1, "Incidents", "incidents",
                  json_object_get(d, "incidents"), incident_item);
    if (rc == 0)
        rc = list(b, 1, "Sources needing attention", "sources",
                  json_object_get(d, "sources_attention"), source_item);
    if (rc == 0)
        rc = html_urgent(b, json_object_get(d, "urgent"));
    if (rc == 0)
        rc = ear_buf_adds(b, "<h2>Mentions per day</h2>\n");
    if (rc == 0)
        rc = chart(b, mail, 1, json_object_get(d, "per_day"), "name",
                   "mentions", "flagged", "", "mentions per day, flagged "
                   "in red");
    if (rc == 0)
        rc = ear_buf_adds(b, "<h2>Flagged by category</h2>\n");
    if (rc == 0)
        rc = chart(b, mail, 2, json_object_get(d, "by_category"), "name",
                   "flagged", NULL, "", "flagged mentions by category");
    if (rc == 0)
        rc = ear_buf_adds(b, "<h2>Ratings</h2>\n");
    if (rc == 0)
        rc = chart(b, mail, 3, json_object_get(rating, "distribution"),
                   "stars", "count", NULL, " \xE2\x98\x85",
                   "rating distribution");
    if (rc == 0)
        rc = counts_table(b, 1, "By brand", "brand",
                          json_object_get(d, "by_brand"), 1);
    if (rc == 0)
        rc = counts_table(b, 1, "By source", "source",
                          json_object_get(d, "by_source"), 1);
    if (rc == 0)
        rc = counts_table(b, 1, "By language", "language",
                          json_object_get(d, "by_lang"), 1);
    if (rc == 0)
        rc = team_table(b, 1, json_object_get(q, "open_by_team"));
    if (rc == 0)
        rc = dismissals_table(b, 1, json_object_get(d, "dismissals_by_rule"));
    if (rc == 0)
        rc = ear_buf_adds(b, "</body></html>\n");
    return rc;
}

/* ------------------------------------------------------------ render */

int ear_digest_render(struct ear_store *st, const struct ear_config *cfg,
                      int64_t since, int64_t until, const char *format,
                      struct ear_buf *out, struct ear_error *err)
{
    json_t *d = NULL;
    int rc;

    if (!format || (strcmp(format, "md") != 0 &&
                    strcmp(format, "html") != 0 &&
                    strcmp(format, "json") != 0))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "unknown digest format '%s' (expected md, html "
                             "or json)", format ? format : "");
    rc = ear_digest_build(&d, st, cfg, since, until, err);
    if (rc < 0)
        return rc;
    if (strcmp(format, "json") == 0) {
        char *s = json_dumps(d, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        rc = s ? ear_buf_adds(out, s) : EAR_ENOMEM;
        if (rc == 0)
            rc = ear_buf_addc(out, '\n');
        free(s);
    } else if (strcmp(format, "md") == 0) {
        rc = ear_output__digest_md(d, out);
    } else {
        rc = ear_output__digest_html(d, out, 0);
    }
    if (rc < 0)
        ear_error_set(err, rc, NULL, 0, 0, "rendering the digest: %s",
                      ear_strerror(rc));
    json_decref(d);
    return rc;
}
