/*
 * The JSON API (docs/web.md) over the queue, incidents, KPIs, rule
 * feedback and users. Everything here runs on the calling server thread
 * with that thread's store connection.
 *
 * The queue list uses the output stage's own filtered query
 * (output_int.h), extended by a text search over the mention's title,
 * text and author; its answer is cached (server.c) until the store
 * changes. Item changes go through the queue verbs of output.h with the
 * session's user as the actor, inside one transaction with the rights
 * check, so what was checked is what is changed.
 *
 * The page's boot data (ear_web__boot_json) is what the page would ask
 * this API for first, computed by the same functions (and from the same
 * cache) for the page's own request, so that a logged-in page shows the
 * queue and its first item without a round trip.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "output/output_int.h"
#include "output/web/web_int.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define MAX_PARAM 256

/* ------------------------------------------------------------ bodies */

json_t *ear_web__body_object(struct web_req *req, const char *const *keys,
                             enum MHD_Result *ret)
{
    const char *type = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                                   "Content-Type");
    json_error_t jerr;
    json_t *j;
    const char *key;
    json_t *val;

    if (req->body.len == 0)
        return json_object(); /* no body: no fields */
    if (!type || strncasecmp(type, "application/json", 16) != 0 ||
        (type[16] && type[16] != ';' && type[16] != ' ')) {
        *ret = ear_web__error(req, 415, NULL,
                              "the body must be JSON (Content-Type: "
                              "application/json)");
        return NULL;
    }
    j = json_loadb(req->body.ptr, req->body.len, JSON_REJECT_DUPLICATES,
                   &jerr);
    if (!j) {
        *ret = ear_web__error(req, 400, NULL,
                              "malformed JSON at line %d, column %d: %s",
                              jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *ret = ear_web__error(req, 400, NULL,
                              "the body must be a JSON object");
        return NULL;
    }
    json_object_foreach(j, key, val) {
        size_t i;

        for (i = 0; keys[i]; i++)
            if (strcmp(keys[i], key) == 0)
                break;
        if (!keys[i]) {
            *ret = ear_web__error(req, 400, key, "unknown field '%s'", key);
            json_decref(j);
            return NULL;
        }
        if (!json_is_string(val) && !json_is_null(val)) {
            *ret = ear_web__error(req, 400, key, "%s: expected a string",
                                  key);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* ------------------------------------------------------------ helpers */

static struct ear_store *store_or_fail(struct web_req *req,
                                       enum MHD_Result *ret)
{
    struct ear_error err;
    struct web_thread *th;

    ear_error_clear(&err);
    th = ear_web__thread(req->w, &err);
    if (!th) {
        *ret = ear_web__fail(req, err.code ? err.code : EAR_EDB, NULL);
        return NULL;
    }
    req->th = th;
    return th->st;
}

static json_t *time_json(int64_t t)
{
    char buf[40];

    return t ? json_string(ear_time_fmt(t, buf, sizeof buf)) : json_null();
}

static json_t *str_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ------------------------------------------------------------ queue list */

struct list_params {
    struct web_req *req;
    struct ear_queue_filter f;
    const char *q;
    long long limit;
    long long offset;
    const char *bad;      /* the parameter at fault */
    const char *why;
    int me;               /* owner=me */
};

static int num_param(long long *out, const char *v, long long max)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > max)
        return -1;
    *out = n;
    return 0;
}

static enum MHD_Result on_param(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    struct list_params *p = cls;

    (void)kind;
    if (p->bad)
        return MHD_NO;
    if (!value)
        value = "";
    if (strlen(value) > MAX_PARAM || !ear_utf8_valid(value, strlen(value))) {
        p->bad = key;
        p->why = "too long or not UTF-8";
        return MHD_NO;
    }
    if (*value == '\0')
        return MHD_YES; /* an empty filter filters nothing */
    if (strcmp(key, "state") == 0)
        p->f.state = value;
    else if (strcmp(key, "team") == 0)
        p->f.team = value;
    else if (strcmp(key, "owner") == 0) {
        if (strcmp(value, "me") == 0)
            p->me = 1;
        else
            p->f.owner = value;
    } else if (strcmp(key, "category") == 0)
        p->f.category = value;
    else if (strcmp(key, "brand") == 0)
        p->f.brand = value;
    else if (strcmp(key, "source") == 0)
        p->f.source = value;
    else if (strcmp(key, "lang") == 0)
        p->f.lang = value;
    else if (strcmp(key, "q") == 0)
        p->q = value;
    else if (strcmp(key, "overdue") == 0) {
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
            p->f.overdue_only = 1;
        else if (strcmp(value, "0") != 0 && strcmp(value, "false") != 0) {
            p->bad = key;
            p->why = "expected 1, 0, true or false";
        }
    } else if (strcmp(key, "limit") == 0) {
        if (num_param(&p->limit, value, PAGE_MAX) < 0 || p->limit == 0) {
            p->bad = key;
            p->why = "expected a number from 1 to 500";
        }
    } else if (strcmp(key, "offset") == 0) {
        if (num_param(&p->offset, value, 100000000) < 0) {
            p->bad = key;
            p->why = "expected a number from 0";
        }
    } else if (strcmp(key, "_") != 0) { /* "_" is a cache buster */
        p->bad = key;
        p->why = "unknown parameter (expected state, team, owner, "
                 "category, brand, source, lang, overdue, q, limit, offset)";
    }
    return p->bad ? MHD_NO : MHD_YES;
}

/* The LIKE pattern for a search: %text% with % _ \ escaped. New. */
static char *like_pattern(const char *q)
{
    struct ear_buf b;

    ear_buf_init(&b, 4 * MAX_PARAM);
    if (ear_buf_addc(&b, '%') < 0)
        return NULL;
    for (; *q; q++) {
        if ((*q == '%' || *q == '_' || *q == '\\') &&
            ear_buf_addc(&b, '\\') < 0)
            return NULL;
        if (ear_buf_addc(&b, *q) < 0)
            return NULL;
    }
    if (ear_buf_addc(&b, '%') < 0)
        return NULL;
    return ear_buf_take(&b, NULL);
}

#define SEARCH_JOIN \
    " JOIN mentions ms ON ms.id = q.mention_id AND (" \
    "ms.title LIKE ?99 ESCAPE '\\' OR ms.text LIKE ?99 ESCAPE '\\' OR " \
    "ms.author LIKE ?99 ESCAPE '\\' OR CAST(q.id AS TEXT) = ltrim(?98, '#'))"

static int prepare(struct ear_store *st, const struct ear_queue_filter *f,
                   int64_t now, const char *prefix, const char *suffix,
                   int with_limit, const char *q, const char *pattern,
                   sqlite3_stmt **out, struct ear_error *err)
{
    int rc = ear_output__prepare_filtered(st, f, now, prefix, suffix,
                                          with_limit, out, err);

    if (rc == 0 && q) {
        sqlite3_bind_text(*out, 98, q, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(*out, 99, pattern, -1, SQLITE_TRANSIENT);
    }
    return rc;
}

/* Without a text search: the output stage's own list (which walks its
 * priority indexes for open items). With one: the rows that match, sorted
 * in priority order and cut to the page before they are joined with
 * their mentions' text, the same way. */
static int list_items(json_t *items, struct ear_store *st,
                      const struct ear_queue_filter *f, int64_t now,
                      const char *q, const char *pattern,
                      struct ear_error *err)
{
    struct ear_queue_item *v = NULL;
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    int rc = 0, step;

    if (!q) {
        rc = ear_queue_list(st, f, now, &v, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (json_array_append_new(items, ear_queue_item_json(&v[i])) < 0)
                rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                                   "out of memory");
        ear_queue_items_free(v, n);
        return rc;
    }
    rc = ear_output__prepare_page(st, f, now,
                                  "SELECT " EAR_OUTPUT_ITEM_COLS
                                  " FROM (SELECT q.* FROM queue q"
                                  SEARCH_JOIN,
                                  EAR_OUTPUT_ITEM_ORDER, 1,
                                  EAR_OUTPUT_PAGE_OUTER, &s, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(s, 98, q, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 99, pattern, -1, SQLITE_TRANSIENT);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        struct ear_queue_item it;

        if (ear_output__item_read(s, &it) < 0) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        if (json_array_append_new(items, ear_queue_item_json(&it)) < 0)
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        ear_queue_item_dispose(&it);
        if (rc < 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ear_store_error(st, err, "list queue");
    sqlite3_finalize(s);
    return rc;
}

static int count_one(int64_t *out, struct ear_store *st,
                     const struct ear_queue_filter *f, int64_t now,
                     const char *prefix, const char *q, const char *pattern,
                     struct ear_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    *out = 0;
    rc = prepare(st, f, now, prefix, NULL, 0, q, pattern, &s, err);
    if (rc < 0)
        return rc;
    if (sqlite3_step(s) == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else
        rc = ear_store_error(st, err, "count queue");
    sqlite3_finalize(s);
    return rc;
}

/* How many items f selects, with the text search. */
static int count_total(int64_t *out, struct ear_store *st,
                       const struct ear_queue_filter *f, int64_t now,
                       const char *q, const char *pattern,
                       struct ear_error *err)
{
    return count_one(out, st, f, now,
                     q ? "SELECT count(*) FROM queue q" SEARCH_JOIN
                       : "SELECT count(*) FROM queue q",
                     q, pattern, err);
}

/* Overdue items under every filter but state. The partial index over
 * deadlines answers this in a range scan; the planner prefers the state
 * index unless told. */
static int count_overdue(int64_t *out, struct ear_store *st,
                         const struct ear_queue_filter *f, int64_t now,
                         const char *q, const char *pattern,
                         struct ear_error *err)
{
    struct ear_queue_filter o = *f;
    struct ear_error ignore;

    o.state = "all";
    o.overdue_only = 1;
    if (!q && count_one(out, st, &o, now,
                        "SELECT count(*) FROM queue q INDEXED BY "
                        "queue_overdue", NULL, NULL, &ignore) == 0)
        return 0;
    return count_total(out, st, &o, now, q, pattern, err);
}

/* What a state filter selects from numbers per state (new, assigned,
 * responded, resolved, dismissed). */
static int64_t state_sum(const char *state, const int64_t n[5])
{
    static const char *const states[] = {"new", "assigned", "responded",
                                         "resolved", "dismissed"};

    if (!state || strcmp(state, "open") == 0)
        return n[0] + n[1] + n[2];
    if (strcmp(state, "closed") == 0)
        return n[3] + n[4];
    if (strcmp(state, "all") == 0)
        return n[0] + n[1] + n[2] + n[3] + n[4];
    for (size_t i = 0; i < 5; i++)
        if (strcmp(state, states[i]) == 0)
            return n[i];
    return 0;
}

/* Items per state under every filter but state (and overdue); *total is
 * what f itself selects. With a text search the overdue items are counted
 * in the same pass (each pass reads every mention's text); without one,
 * the partial index over deadlines counts them apart. */
static int count_states(json_t *counts, int64_t *total, struct ear_store *st,
                        const struct ear_queue_filter *f, int64_t now,
                        const char *q, const char *pattern,
                        struct ear_error *err)
{
    static const char *const states[] = {"new", "assigned", "responded",
                                         "resolved", "dismissed", NULL};
    struct ear_queue_filter all = *f;
    sqlite3_stmt *s = NULL;
    int64_t n[5] = {0, 0, 0, 0, 0}, od[5] = {0, 0, 0, 0, 0}, overdue = 0;
    int rc, step;

    all.state = "all";
    all.overdue_only = 0;
    rc = prepare(st, &all, now,
                 q ? "SELECT q.state, count(*), sum(" EAR_OUTPUT_OVERDUE ")"
                     " FROM queue q" SEARCH_JOIN
                   : "SELECT q.state, count(*), 0 FROM queue q",
                 " GROUP BY q.state", 0, q, pattern, &s, err);
    if (rc < 0)
        return rc;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);

        for (size_t i = 0; state && states[i]; i++)
            if (strcmp(state, states[i]) == 0) {
                n[i] = sqlite3_column_int64(s, 1);
                od[i] = sqlite3_column_int64(s, 2);
                overdue += od[i];
            }
    }
    if (step != SQLITE_DONE)
        rc = ear_store_error(st, err, "count queue");
    sqlite3_finalize(s);
    if (rc < 0)
        return rc;
    if (!q) {
        rc = count_overdue(&overdue, st, f, now, q, pattern, err);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; states[i]; i++)
        json_object_set_new(counts, states[i], json_integer((json_int_t)n[i]));
    json_object_set_new(counts, "open", json_integer((json_int_t)(n[0] + n[1]
                                                                  + n[2])));
    json_object_set_new(counts, "overdue", json_integer((json_int_t)overdue));

    /* what f selects, from the same numbers where it can */
    if (f->overdue_only && !q)
        return count_total(total, st, f, now, q, pattern, err);
    *total = state_sum(f->state, f->overdue_only ? od : n);
    return 0;
}

/* Until when an answer computed at now stays right although nothing in
 * the store changes: the next moment an open item passes its deadline
 * (overdue flags and the order move then), at most a minute. */
static int64_t valid_until(struct ear_store *st, int64_t now)
{
    static const char sql[] =
        "SELECT min(due) FROM queue INDEXED BY queue_overdue"
        " WHERE state IN ('new','assigned') AND first_response IS NULL"
        " AND due >= ?1";
    struct sqlite3_stmt *s;
    struct ear_error ignore;
    int64_t until = now + 60;

    if (ear_store_stmt(st, &s, sql, &ignore) < 0)
        return now + 2; /* no such index: a short life */
    sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
    if (sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_type(s, 0) != SQLITE_NULL &&
        sqlite3_column_int64(s, 0) + 1 < until)
        until = sqlite3_column_int64(s, 0) + 1;
    sqlite3_reset(s);
    return until;
}

/* Checks what on_param() collected; 0, or -1 with p->bad and p->why (NULL
 * for an unknown state). */
static int queue_params_ok(struct list_params *p)
{
    if (p->bad)
        return -1;
    if (p->f.state && strcmp(p->f.state, "open") != 0 &&
        strcmp(p->f.state, "closed") != 0 && strcmp(p->f.state, "all") != 0 &&
        !ear_queue_state_valid(p->f.state)) {
        p->bad = "state";
        p->why = NULL; /* the caller names the state */
        return -1;
    }
    if (p->me)
        p->f.owner = p->req->sess.user;
    p->f.limit = (size_t)p->limit;
    p->f.offset = (size_t)p->offset;
    return 0;
}

/* The cache key of a queue view. */
static int queue_key(struct ear_buf *key, const struct list_params *p)
{
    return ear_buf_addf(key, "queue|%s|%s|%s|%s|%s|%s|%s|%d|%s|%lld|%lld",
                        p->f.state ? p->f.state : "",
                        p->f.team ? p->f.team : "",
                        p->f.owner ? p->f.owner : "",
                        p->f.category ? p->f.category : "",
                        p->f.brand ? p->f.brand : "",
                        p->f.source ? p->f.source : "",
                        p->f.lang ? p->f.lang : "", p->f.overdue_only,
                        p->q ? p->q : "", p->limit, p->offset);
}

/* The answer of GET /api/queue for p, computed from the store: new *body
 * (free()), and until when it stays right. */
static int queue_compute(char **body, int64_t *until, struct ear_store *st,
                         const struct list_params *p, int64_t now,
                         struct ear_error *err)
{
    json_t *o = NULL, *items = NULL, *counts = NULL;
    char *pattern = NULL;
    int64_t total = 0;
    int rc = 0;

    *body = NULL;
    if (p->q) {
        pattern = like_pattern(p->q);
        if (!pattern)
            return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                                 "out of memory");
    }
    o = json_object();
    items = json_array();
    counts = json_object();
    if (!o || !items || !counts) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    rc = list_items(items, st, &p->f, now, p->q, pattern, err);
    if (rc == 0)
        rc = count_states(counts, &total, st, &p->f, now, p->q, pattern,
                          err);
    if (rc < 0)
        goto out;
    json_object_set_new(o, "items", items);
    items = NULL;
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "limit", json_integer((json_int_t)p->limit));
    json_object_set_new(o, "offset", json_integer((json_int_t)p->offset));
    json_object_set_new(o, "counts", counts);
    counts = NULL;
    json_object_set_new(o, "generated", time_json(now));
    *body = json_dumps(o, EAR_WEB_JSON_FLAGS);
    if (!*body) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    *until = valid_until(st, now);
out:
    json_decref(o);
    json_decref(items);
    json_decref(counts);
    free(pattern);
    return rc;
}

enum MHD_Result ear_web__api_queue(struct web_req *req)
{
    struct list_params p;
    struct ear_error err;
    struct ear_store *st;
    struct ear_buf key;
    enum MHD_Result ret;
    char *body = NULL;
    int64_t until = 0;
    int rc;

    memset(&p, 0, sizeof p);
    p.req = req;
    p.limit = PAGE_DEFAULT;
    MHD_get_connection_values(req->con, MHD_GET_ARGUMENT_KIND, on_param, &p);
    if (queue_params_ok(&p) < 0) {
        if (!p.why)
            return ear_web__error(req, 400, "state",
                                  "state: unknown state '%s' (expected new, "
                                  "assigned, responded, resolved, dismissed, "
                                  "open, closed or all)", p.f.state);
        return ear_web__error(req, 400, p.bad, "%s: %s", p.bad, p.why);
    }

    ear_buf_init(&key, 8192);
    if (queue_key(&key, &p) < 0)
        return ear_web__error(req, 500, NULL, "out of memory");
    st = store_or_fail(req, &ret);
    if (!st)
        goto done;
    if (ear_web__cache_answer(req, ear_buf_str(&key), &ret))
        goto done;
    ear_error_clear(&err);
    rc = queue_compute(&body, &until, st, &p, ear_now(), &err);
    if (rc < 0) {
        ret = ear_web__fail(req, rc, &err);
        goto done;
    }
    ret = ear_web__cache_put(req, ear_buf_str(&key), body, strlen(body),
                             until);
done:
    ear_buf_dispose(&key);
    return ret;
}

/* ------------------------------------------------------------ one item */

static json_t *verdict_json(const struct ear_verdict *v)
{
    json_t *o = json_object();
    json_t *cats = json_array();
    json_t *ms = json_array();

    if (!o || !cats || !ms) {
        json_decref(o);
        json_decref(cats);
        json_decref(ms);
        return NULL;
    }
    for (size_t i = 0; i < v->ncategories; i++)
        json_array_append_new(cats, json_string(v->categories[i]));
    for (size_t i = 0; i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];

        json_array_append_new(ms, json_pack(
            "{s:o, s:o, s:s, s:I, s:I, s:o, s:f}",
            "rule", str_json(m->rule), "category", str_json(m->category),
            "field", m->field ? m->field : "text", "start",
            (json_int_t)m->start, "end", (json_int_t)m->end, "text",
            str_json(m->text), "weight", m->weight));
    }
    json_object_set_new(o, "flag", json_boolean(v->flag));
    json_object_set_new(o, "score", json_real(v->score));
    json_object_set_new(o, "severity",
                        json_string(ear_severity_name(v->severity)));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "brand", str_json(v->brand));
    json_object_set_new(o, "team", str_json(v->team));
    json_object_set_new(o, "lang", v->lang[0] ? json_string(v->lang)
                                              : json_null());
    json_object_set_new(o, "explain", str_json(v->explain));
    json_object_set_new(o, "matches", ms);
    return o;
}

/* The text cut into pieces, each {"text", "match"}: the page builds them
 * with textContent, so nothing in a review is ever parsed as HTML. The
 * highlighter marks matches with \1 ... \2 (control characters in the
 * text itself become spaces first, so they cannot be confused). */
static json_t *segments(const char *text, const char *field,
                        const struct ear_verdict *v)
{
    struct ear_buf b;
    json_t *a = json_array();
    const char *p, *q;
    int in = 0;

    if (!a || !text)
        return a;
    ear_buf_init(&b, (size_t)16 << 20);
    if (ear_text_highlight(&b, text, field, v ? v->matches : NULL,
                           v ? v->nmatches : 0, "\x01", "\x02") < 0) {
        json_decref(a);
        return NULL;
    }
    p = ear_buf_str(&b);
    while (*p) {
        q = p + strcspn(p, "\x01\x02");
        if (q > p)
            json_array_append_new(a, json_pack("{s:s%, s:b}", "text", p,
                                               (size_t)(q - p), "match",
                                               in));
        if (!*q)
            break;
        in = *q == '\x01';
        p = q + 1;
    }
    ear_buf_dispose(&b);
    return a;
}

static json_t *item_detail(struct ear_store *st, int64_t id, int64_t now,
                           int *rc, struct ear_error *err)
{
    struct ear_queue_item it;
    struct ear_queue_event *ev = NULL;
    struct ear_mention m;
    struct ear_verdict v;
    struct ear_error ignore;
    size_t nev = 0;
    int have_m, have_v;
    json_t *o, *hist, *mj = NULL, *hl;

    *rc = ear_queue_get(st, id, now, &it, &ev, &nev, err);
    if (*rc < 0)
        return NULL;
    ear_mention_init(&m);
    ear_verdict_init(&v);
    have_m = ear_store_mention_get(st, it.mention_id, &m, &ignore) == 0;
    have_v = ear_store_verdict_get(st, it.mention_id, &v, &ignore) == 0;
    o = json_object();
    hist = json_array();
    for (size_t i = 0; hist && i < nev; i++)
        json_array_append_new(hist, ear_queue_event_json(&ev[i]));
    if (have_m)
        mj = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "key",
                       str_json(m.key), "guid", str_json(m.guid),
                       "published", time_json(m.published), "updated",
                       time_json(m.updated), "first_seen",
                       time_json(m.first_seen), "reach",
                       m.reach >= 0 ? json_integer((json_int_t)m.reach)
                                    : json_null());
    hl = json_pack("{s:o*, s:o*}", "title",
                   segments(it.title, "title", have_v ? &v : NULL), "text",
                   segments(it.text, "text", have_v ? &v : NULL));
    if (o) {
        json_object_set_new(o, "item", ear_queue_item_json(&it));
        json_object_set_new(o, "mention", mj ? mj : json_null());
        json_object_set_new(o, "verdict", have_v ? verdict_json(&v)
                                                 : json_null());
        json_object_set_new(o, "history", hist ? hist : json_null());
        json_object_set_new(o, "highlight", hl ? hl : json_null());
        json_object_set_new(o, "linkable", json_boolean(
                                it.url && ear_url_linkable(it.url)));
    } else {
        json_decref(mj);
        json_decref(hist);
        json_decref(hl);
        *rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    ear_queue_item_dispose(&it);
    ear_queue_events_free(ev, nev);
    ear_mention_dispose(&m);
    ear_verdict_dispose(&v);
    return o;
}

enum MHD_Result ear_web__api_item(struct web_req *req, int64_t id)
{
    struct ear_error err;
    struct ear_store *st;
    enum MHD_Result ret;
    json_t *o;
    int rc;

    st = store_or_fail(req, &ret);
    if (!st)
        return ret;
    ear_error_clear(&err);
    o = item_detail(st, id, ear_now(), &rc, &err);
    if (rc < 0)
        return ear_web__fail(req, rc, &err);
    return ear_web__json(req, 200, o);
}

/* ------------------------------------------------------------ actions */

/* 1 when name is known to the server: a user, or a member of a team. The
 * proper spelling goes to *canon (borrowed from users or set). */
static int known_person(const struct web_settings *set,
                        const struct ear_web_user *users, size_t nusers,
                        const char *name, const char **canon,
                        const char **team)
{
    for (size_t i = 0; i < nusers; i++) {
        if (strcasecmp(users[i].name, name) == 0) {
            *canon = users[i].name;
            *team = users[i].team;
            return 1;
        }
    }
    for (size_t i = 0; i < set->nteams; i++) {
        for (size_t k = 0; set->teams[i].members[k]; k++) {
            if (strcasecmp(set->teams[i].members[k], name) == 0) {
                *canon = set->teams[i].members[k];
                *team = set->teams[i].name;
                return 1;
            }
        }
    }
    return 0;
}

static int member_of(const struct web_settings *set, const char *team,
                     const char *name)
{
    for (size_t i = 0; i < set->nteams; i++) {
        if (strcasecmp(set->teams[i].name, team) != 0)
            continue;
        for (size_t k = 0; set->teams[i].members[k]; k++)
            if (strcasecmp(set->teams[i].members[k], name) == 0)
                return 1;
    }
    return 0;
}

struct action {
    const char *verb;
    const char *const *keys;
};

static const char *const k_assign[] = {"owner", "note", "actor", NULL};
static const char *const k_dismiss[] = {"reason", "note", "actor", NULL};
static const char *const k_plain[] = {"note", "actor", NULL};

static const struct action actions[] = {
    {"assign", k_assign}, {"respond", k_plain}, {"resolve", k_plain},
    {"dismiss", k_dismiss}, {"reopen", k_plain}, {"note", k_plain},
};

/* Decides whether the session may do verb to it; answers 400/403 into
 * *ret and returns 0 when not. owner_out gets the canonical assignee. */
static int allowed(struct web_req *req, struct ear_store *st,
                   const struct ear_queue_item *it, const char *verb,
                   const char *owner, const char **owner_out,
                   struct ear_web_user **users, size_t *nusers,
                   enum MHD_Result *ret)
{
    const struct web_session *s = &req->sess;
    const char *canon = NULL, *team = NULL;
    struct ear_error err;
    int rc;

    if (strcmp(verb, "assign") == 0) {
        ear_error_clear(&err);
        rc = ear_web__users_merge(users, nusers, req->set->users,
                                  req->set->nusers, st, &err);
        if (rc < 0) {
            *ret = ear_web__fail(req, rc, &err);
            return 0;
        }
        if (!known_person(req->set, *users, *nusers, owner, &canon, &team)) {
            *ret = ear_web__error(req, 400, "owner",
                                  "owner: no user or team member '%s'",
                                  owner);
            return 0;
        }
        *owner_out = canon;
    }
    if (s->role >= EAR_ROLE_LEAD || strcmp(verb, "note") == 0)
        return 1;
    /* an agent: their own items and unowned ones */
    if (it->owner && strcasecmp(it->owner, s->user) != 0) {
        *ret = ear_web__error(req, 403, NULL,
                              "#%lld belongs to %s: only a lead can change "
                              "it", (long long)it->id, it->owner);
        return 0;
    }
    if (strcmp(verb, "assign") == 0 && strcasecmp(canon, s->user) != 0) {
        int mate = s->team[0] &&
                   ((team && strcasecmp(team, s->team) == 0) ||
                    member_of(req->set, s->team, canon));

        if (!mate) {
            *ret = ear_web__error(req, 403, "owner",
                                  "owner: an agent assigns to themselves "
                                  "or a teammate, and %s is not in team %s",
                                  canon, s->team[0] ? s->team : "(none)");
            return 0;
        }
    }
    return 1;
}

static int run_verb(struct ear_store *st, const char *verb, int64_t id,
                    const char *owner, const char *reason, const char *actor,
                    const char *note, int64_t now, struct ear_error *err)
{
    if (strcmp(verb, "assign") == 0)
        return ear_queue_assign(st, id, owner, actor, note, now, err);
    if (strcmp(verb, "respond") == 0)
        return ear_queue_respond(st, id, actor, note, now, err);
    if (strcmp(verb, "resolve") == 0)
        return ear_queue_resolve(st, id, actor, note, now, err);
    if (strcmp(verb, "dismiss") == 0)
        return ear_queue_dismiss(st, id, reason, actor, note, now, err);
    if (strcmp(verb, "reopen") == 0)
        return ear_queue_reopen(st, id, actor, note, now, err);
    return ear_queue_note(st, id, actor, note, now, err);
}

enum MHD_Result ear_web__api_action(struct web_req *req, int64_t id,
                                    const char *verb)
{
    const struct action *act = NULL;
    struct ear_web_user *users = NULL;
    struct ear_queue_item it;
    struct ear_error err;
    struct ear_store *st;
    enum MHD_Result ret;
    const char *owner = NULL, *reason = NULL, *note = NULL, *actor = NULL;
    const char *canon = NULL;
    size_t nusers = 0;
    int64_t now = ear_now();
    int have_it = 0, in_tx = 0, rc;
    json_t *body, *o;

    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].verb, verb) == 0)
            act = &actions[i];
    if (!act)
        return ear_web__error(req, 404, NULL,
                              "no action '%s' (expected assign, respond, "
                              "resolve, dismiss, reopen or note)", verb);
    body = ear_web__body_object(req, act->keys, &ret);
    if (!body)
        return ret;
    owner = json_string_value(json_object_get(body, "owner"));
    reason = json_string_value(json_object_get(body, "reason"));
    note = json_string_value(json_object_get(body, "note"));
    actor = json_string_value(json_object_get(body, "actor"));
    if (actor && strcasecmp(actor, req->sess.user) != 0) {
        ret = ear_web__error(req, 403, "actor",
                             "actor: you act as yourself (%s), not as %s",
                             req->sess.user, actor);
        goto out;
    }
    if (note && strlen(note) > EAR_WEB_MAX_NOTE) {
        ret = ear_web__error(req, 400, "note",
                             "note: at most %d bytes", EAR_WEB_MAX_NOTE);
        goto out;
    }
    if (note && !*note)
        note = NULL;
    if (strcmp(verb, "assign") == 0 && (!owner || !*owner)) {
        ret = ear_web__error(req, 400, "owner",
                             "owner: whom to assign it to is required");
        goto out;
    }
    if (strcmp(verb, "dismiss") == 0 && !ear_dismiss_reason_valid(reason)) {
        ret = ear_web__error(req, 400, "reason",
                             "reason: expected not-a-complaint, duplicate, "
                             "spam or not-about-us");
        goto out;
    }
    if (strcmp(verb, "note") == 0 && !note) {
        ret = ear_web__error(req, 400, "note", "note: the text is required");
        goto out;
    }
    st = store_or_fail(req, &ret);
    if (!st)
        goto out;

    ear_error_clear(&err);
    rc = ear_store_begin(st, &err);
    if (rc < 0) {
        ret = ear_web__fail(req, rc, &err);
        goto out;
    }
    in_tx = 1;
    rc = ear_queue_get(st, id, now, &it, NULL, NULL, &err);
    if (rc < 0) {
        ret = ear_web__fail(req, rc, &err);
        goto out;
    }
    have_it = 1;
    if (!allowed(req, st, &it, verb, owner, &canon, &users, &nusers, &ret))
        goto out;
    rc = run_verb(st, verb, id, canon, reason, req->sess.user, note, now,
                  &err);
    if (rc == 0)
        rc = ear_store_commit(st, &err);
    if (rc < 0) {
        ret = ear_web__fail(req, rc, &err);
        goto out;
    }
    in_tx = 0;
    ear_web__watch(req->w); /* at once, for the answers that follow */
    o = item_detail(st, id, now, &rc, &err);
    ret = rc < 0 ? ear_web__fail(req, rc, &err) : ear_web__json(req, 200, o);
out:
    if (in_tx)
        ear_store_rollback(st);
    if (have_it)
        ear_queue_item_dispose(&it);
    ear_web_users_free(users, nusers);
    json_decref(body);
    return ret;
}

/* ------------------------------------------------------------ the rest */

/* {"incidents": [...]}: open ones, or all when all. New; NULL with *rc. */
static json_t *incidents_json(struct ear_store *st, int all, int *rc,
                              struct ear_error *err)
{
    struct ear_incident *v = NULL;
    size_t n = 0;
    json_t *a;

    *rc = ear_incidents_list(st, all, 0, 0, &v, &n, err);
    if (*rc < 0)
        return NULL;
    a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, ear_incident_json(&v[i]));
    ear_incidents_free(v, n);
    if (!a) {
        *rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    return json_pack("{s:o}", "incidents", a);
}

enum MHD_Result ear_web__api_incidents(struct web_req *req)
{
    const char *all = MHD_lookup_connection_value(req->con,
                                                  MHD_GET_ARGUMENT_KIND,
                                                  "all");
    struct ear_error err;
    struct ear_store *st;
    enum MHD_Result ret;
    json_t *j;
    int rc;

    if (all && strcmp(all, "1") != 0 && strcmp(all, "0") != 0 &&
        strcmp(all, "true") != 0 && strcmp(all, "false") != 0)
        return ear_web__error(req, 400, "all", "all: expected 1 or 0");
    st = store_or_fail(req, &ret);
    if (!st)
        return ret;
    ear_error_clear(&err);
    j = incidents_json(st, all && (all[0] == '1' || all[0] == 't'), &rc,
                       &err);
    if (rc < 0)
        return ear_web__fail(req, rc, &err);
    return ear_web__json(req, 200, j);
}

/* One number from sql with ?1 bound to a time. */
static int kpi_num(int64_t *out, struct ear_store *st, const char *sql,
                   int64_t t, struct ear_error *err)
{
    struct sqlite3_stmt *s;
    int rc = ear_store_stmt(st, &s, sql, err);

    *out = 0;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)t);
    if (sqlite3_step(s) == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else
        rc = ear_store_error(st, err, "KPIs");
    sqlite3_reset(s);
    return rc;
}

/* Open and overdue items per team, most open first. The store's index
 * over (team, state, first_response, due) answers it without reading the
 * queue rows; when a schema lacks it, the same query runs without the
 * hint. */
static int kpi_teams(json_t *a, struct ear_store *st, int64_t now,
                     struct ear_error *err)
{
#define KPI_TEAMS(hint) \
    "SELECT coalesce(team, ''), count(*), sum(state IN ('new','assigned')" \
    " AND first_response IS NULL AND due IS NOT NULL AND due < ?1)" \
    " FROM queue" hint " WHERE state IN ('new','assigned','responded')" \
    " GROUP BY team COLLATE NOCASE ORDER BY 2 DESC, 1"
    static const char hinted[] = KPI_TEAMS(" INDEXED BY queue_team_open");
    static const char plain[] = KPI_TEAMS("");
#undef KPI_TEAMS
    struct sqlite3_stmt *s;
    struct ear_error ignore;
    int rc, step;

    if (ear_store_stmt(st, &s, hinted, &ignore) < 0) {
        rc = ear_store_stmt(st, &s, plain, err);
        if (rc < 0)
            return rc;
    }
    sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        json_array_append_new(a, json_pack(
            "{s:s, s:I, s:I}", "team", (const char *)sqlite3_column_text(s, 0),
            "open", (json_int_t)sqlite3_column_int64(s, 1), "overdue",
            (json_int_t)sqlite3_column_int64(s, 2)));
    rc = step == SQLITE_DONE ? 0 : ear_store_error(st, err, "KPIs");
    sqlite3_reset(s);
    return rc;
}

/* The median time to a first response of the items first answered since
 * t; -1 when none was. */
static int kpi_median(int64_t *out, struct ear_store *st, int64_t t,
                      struct ear_error *err)
{
    static const char count[] =
        "SELECT count(*) FROM queue WHERE first_response >= ?1";
    static const char nth[] =
        "SELECT first_response - created FROM queue"
        " WHERE first_response >= ?1 ORDER BY 1 LIMIT 1 OFFSET ?2";
    struct sqlite3_stmt *s;
    int64_t n;
    int rc;

    *out = -1;
    rc = kpi_num(&n, st, count, t, err);
    if (rc < 0 || n == 0)
        return rc;
    rc = ear_store_stmt(st, &s, nth, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)t);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)(n / 2));
    if (sqlite3_step(s) == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else
        rc = ear_store_error(st, err, "KPIs");
    sqlite3_reset(s);
    return rc;
}

/* The answer of GET /api/kpis at now: new *body (free()). */
static int kpis_compute(char **body, struct ear_store *st, int64_t now,
                        struct ear_error *err)
{
    static const char *const states[] = {"new", "assigned", "responded",
                                         "resolved", "dismissed", NULL};
    static const char q_mentions[] =
        "SELECT count(*) FROM mentions WHERE first_seen >= ?1";
    static const char q_flagged[] =
        "SELECT count(*) FROM mentions m JOIN verdicts v"
        " ON v.mention_id = m.id WHERE m.first_seen >= ?1 AND v.flag = 1";
    static const char q_queued[] =
        "SELECT count(*) FROM events WHERE kind = 'queued' AND at >= ?1";
    static const char q_responded[] =
        "SELECT count(*) FROM events WHERE kind = 'responded' AND at >= ?1";
    static const char q_resolved[] =
        "SELECT count(*) FROM events WHERE kind = 'resolved' AND at >= ?1";
    static const char q_dismissed[] =
        "SELECT count(*) FROM events WHERE kind = 'dismissed' AND at >= ?1";
    struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
    struct ear_incident *inc = NULL;
    json_t *o = NULL, *by = NULL, *day = NULL, *teams = NULL;
    int64_t since = now - 86400, v, open = 0, median;
    int64_t late = 0;
    size_t ninc = 0, n;
    int rc = 0;

    *body = NULL;
    o = json_object();
    by = json_object();
    day = json_object();
    teams = json_array();
    if (!o || !by || !day || !teams) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; states[i]; i++) {
        f.state = states[i];
        rc = ear_queue_count(st, &f, now, &n, err);
        if (rc < 0)
            goto out;
        json_object_set_new(by, states[i], json_integer((json_int_t)n));
        if (i < 3)
            open += (int64_t)n;
    }
    f.state = NULL;
    rc = count_overdue(&late, st, &f, now, NULL, NULL, err);
    if (rc < 0)
        goto out;
    rc = ear_incidents_list(st, 0, 0, 0, &inc, &ninc, err);
    ear_incidents_free(inc, ninc);
    if (rc < 0)
        goto out;
    json_object_set_new(o, "open", json_integer((json_int_t)open));
    json_object_set_new(o, "overdue", json_integer((json_int_t)late));
    json_object_set_new(o, "incidents_open", json_integer((json_int_t)ninc));
    json_object_set_new(o, "by_state", by);
    by = NULL;
    rc = kpi_teams(teams, st, now, err);
    if (rc < 0)
        goto out;
    json_object_set_new(o, "by_team", teams);
    teams = NULL;
#define DAY(key, sql) do { \
        rc = kpi_num(&v, st, sql, since, err); \
        if (rc < 0) \
            goto out; \
        json_object_set_new(day, key, json_integer((json_int_t)v)); \
    } while (0)
    DAY("mentions", q_mentions);
    DAY("flagged", q_flagged);
    DAY("queued", q_queued);
    DAY("responded", q_responded);
    DAY("resolved", q_resolved);
    DAY("dismissed", q_dismissed);
#undef DAY
    rc = kpi_median(&median, st, since, err);
    if (rc < 0)
        goto out;
    json_object_set_new(day, "median_first_response_seconds",
                        median < 0 ? json_null()
                                   : json_integer((json_int_t)median));
    json_object_set_new(day, "since", time_json(since));
    json_object_set_new(o, "last_24h", day);
    day = NULL;
    json_object_set_new(o, "generated", time_json(now));
    *body = json_dumps(o, EAR_WEB_JSON_FLAGS);
    if (!*body)
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
out:
    json_decref(o);
    json_decref(by);
    json_decref(day);
    json_decref(teams);
    return rc;
}

/* How long the KPIs are answered from the cache (seconds). */
#define KPI_LIFE 10

enum MHD_Result ear_web__api_kpis(struct web_req *req)
{
    struct ear_error err;
    struct ear_store *st;
    enum MHD_Result ret;
    int64_t now = ear_now();
    char *body = NULL;
    int rc;

    st = store_or_fail(req, &ret);
    if (!st)
        return ret;
    if (ear_web__cache_answer(req, "kpis", &ret))
        return ret;
    ear_error_clear(&err);
    rc = kpis_compute(&body, st, now, &err);
    if (rc < 0)
        return ear_web__fail(req, rc, &err);
    return ear_web__cache_put(req, "kpis", body, strlen(body),
                              now + KPI_LIFE);
}

enum MHD_Result ear_web__api_rules(struct web_req *req)
{
    const char *since_s = MHD_lookup_connection_value(req->con,
                                                      MHD_GET_ARGUMENT_KIND,
                                                      "since");
    struct ear_rule_feedback *v = NULL;
    struct ear_error err;
    struct ear_store *st;
    enum MHD_Result ret;
    int64_t since = 0, d;
    size_t n = 0;
    json_t *a;
    int rc;

    if (since_s && *since_s) {
        if (ear_duration_parse(&d, since_s) == 0)
            since = ear_now() - d;
        else if (ear_time_parse(&since, since_s) < 0)
            return ear_web__error(req, 400, "since",
                                  "since: expected a duration (7d) or a "
                                  "date");
    }
    st = store_or_fail(req, &ret);
    if (!st)
        return ret;
    ear_error_clear(&err);
    rc = ear_rule_feedback(st, since, &v, &n, &err);
    if (rc < 0)
        return ear_web__fail(req, rc, &err);
    a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "rule", v[i].rule,
            "hits", (json_int_t)v[i].hits, "flagged",
            (json_int_t)v[i].flagged, "queued", (json_int_t)v[i].queued,
            "confirmed", (json_int_t)v[i].confirmed, "dismissed",
            (json_int_t)v[i].dismissed, "not_a_complaint",
            (json_int_t)v[i].not_a_complaint, "precision",
            v[i].precision < 0 ? json_null() : json_real(v[i].precision)));
    ear_rule_feedback_free(v, n);
    return ear_web__json(req, 200, a ? json_pack("{s:o}", "rules", a) : NULL);
}

/* {"users": [...]}: who may be assigned items. New; NULL with *rc. */
static json_t *users_json(struct web_req *req, struct ear_store *st, int *rc,
                          struct ear_error *err)
{
    struct ear_web_user *u = NULL;
    size_t n = 0;
    json_t *a;

    *rc = ear_web__users_merge(&u, &n, req->set->users, req->set->nusers, st,
                               err);
    if (*rc < 0)
        return NULL;
    a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (u[i].role == EAR_ROLE_NONE)
            continue; /* a password row left behind by a removed user */
        json_array_append_new(a, json_pack("{s:s, s:s?, s:s}", "name",
                                           u[i].name, "team", u[i].team,
                                           "role", ear_role_name(u[i].role)));
    }
    ear_web_users_free(u, n);
    if (!a) {
        *rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    return json_pack("{s:o}", "users", a);
}

enum MHD_Result ear_web__api_users(struct web_req *req)
{
    struct ear_error err;
    struct ear_store *st;
    enum MHD_Result ret;
    json_t *j;
    int rc;

    st = store_or_fail(req, &ret);
    if (!st)
        return ret;
    ear_error_clear(&err);
    j = users_json(req, st, &rc, &err);
    if (rc < 0)
        return ear_web__fail(req, rc, &err);
    return ear_web__json(req, 200, j);
}

/* ------------------------------------------------------------ boot data */

/* The page's URL takes the queue's filters (not its page size: the page
 * asks for PAGE_DEFAULT rows). */
static enum MHD_Result on_page_param(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value)
{
    if (strcmp(key, "limit") == 0)
        return MHD_YES;
    return on_param(cls, kind, key, value);
}

/* The filters the boot queue was computed for, as the page's filter
 * fields hold them, so the page can tell that it is the view it shows. */
static json_t *filters_json(const struct list_params *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I}",
                     "state", p->f.state ? p->f.state : "",
                     "team", p->f.team ? p->f.team : "",
                     "owner", p->me ? "me" : p->f.owner ? p->f.owner : "",
                     "category", p->f.category ? p->f.category : "",
                     "brand", p->f.brand ? p->f.brand : "",
                     "source", p->f.source ? p->f.source : "",
                     "lang", p->f.lang ? p->f.lang : "",
                     "q", p->q ? p->q : "", "overdue", p->f.overdue_only,
                     "offset", (json_int_t)p->offset);
}

/* The queue view of the page's URL, from the cache the API answers from
 * (so that the page's first poll is a 304), and the first item's detail.
 * Sets "filters", "queue", "queue_etag" and "item" in boot. */
static int boot_queue(json_t *boot, struct web_req *req,
                      struct ear_store *st, int64_t now,
                      struct ear_error *err)
{
    struct list_params p;
    struct ear_buf key;
    json_error_t jerr;
    json_t *q = NULL, *items, *first, *item;
    char *body = NULL, etag[24];
    size_t len = 0;
    int64_t until = 0, id;
    int rc;

    memset(&p, 0, sizeof p);
    p.req = req;
    p.limit = PAGE_DEFAULT;
    MHD_get_connection_values(req->con, MHD_GET_ARGUMENT_KIND, on_page_param,
                              &p);
    if (!p.f.state && !p.bad)
        p.f.state = "open"; /* what the page's state field starts at */
    if (queue_params_ok(&p) < 0)
        return 0; /* the page asks the API, which names the fault */
    ear_buf_init(&key, 8192);
    rc = queue_key(&key, &p);
    if (rc < 0)
        return rc;
    if (!ear_web__cache_get(req, ear_buf_str(&key), &body, &len, etag)) {
        rc = queue_compute(&body, &until, st, &p, now, err);
        if (rc < 0) {
            ear_web__cache_release(req);
            goto out;
        }
        len = strlen(body);
        q = json_loadb(body, len, 0, &jerr);
        /* steals body; fills etag */
        ear_web__cache_keep(req, ear_buf_str(&key), body, len, until, etag);
        body = NULL;
    } else {
        q = json_loadb(body, len, 0, &jerr);
    }
    if (!q) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "boot queue: %s",
                           jerr.text);
        goto out;
    }
    json_object_set_new(boot, "filters", filters_json(&p));
    json_object_set_new(boot, "queue_etag", json_string(etag));
    items = json_object_get(q, "items");
    first = json_array_get(items, 0);
    id = (int64_t)json_integer_value(json_object_get(first, "id"));
    json_object_set_new(boot, "queue", q);
    if (id > 0) {
        item = item_detail(st, id, now, &rc, err);
        if (rc < 0)
            goto out;
        json_object_set_new(boot, "item", item);
    }
out:
    free(body);
    ear_buf_dispose(&key);
    return rc;
}

/* The KPIs when the cache the API answers from has them. Computing them
 * reads every mention of the last day (hundreds of milliseconds with
 * 100,000): that the page asks for after it shows the queue. */
static void boot_kpis(json_t *boot, struct web_req *req)
{
    char *body = NULL, etag[24];
    size_t len = 0;
    json_t *k;

    if (!ear_web__cache_peek(req, "kpis", &body, &len, etag))
        return;
    k = json_loadb(body, len, 0, NULL);
    free(body);
    if (k)
        json_object_set_new(boot, "kpis", k);
}

/* Writes s with <, > and & as JSON escapes: inside a string (the only
 * place JSON text holds them) \u003c reads back as <. */
static char *escape_for_script(const char *s, size_t *len)
{
    struct ear_buf b;
    const char *p = s;

    ear_buf_init(&b, (size_t)64 << 20);
    while (*p) {
        size_t n = strcspn(p, "<>&");

        if (n && ear_buf_addn(&b, p, n) < 0)
            return NULL;
        p += n;
        if (!*p)
            break;
        if (ear_buf_addf(&b, "\\u%04x", (unsigned)(unsigned char)*p) < 0)
            return NULL;
        p++;
    }
    return ear_buf_take(&b, len);
}

char *ear_web__boot_json(struct web_req *req, size_t *len)
{
    struct ear_error err;
    struct web_thread *th;
    json_t *boot = json_object(), *j;
    int64_t now = ear_now();
    char *raw, *out;
    int rc;

    if (!boot)
        return NULL;
    json_object_set_new(boot, "me", ear_web__me_json(req));
    ear_error_clear(&err);
    th = ear_web__thread(req->w, &err);
    if (th) {
        req->th = th;
        /* each part is optional: what fails here, the page asks for */
        boot_queue(boot, req, th->st, now, &err);
        boot_kpis(boot, req);
        ear_error_clear(&err);
        j = incidents_json(th->st, 0, &rc, &err);
        if (j)
            json_object_set_new(boot, "incidents", j);
        ear_error_clear(&err);
        j = users_json(req, th->st, &rc, &err);
        if (j)
            json_object_set_new(boot, "users", j);
    }
    raw = json_dumps(boot, EAR_WEB_JSON_FLAGS);
    json_decref(boot);
    if (!raw)
        return NULL;
    out = escape_for_script(raw, len);
    free(raw);
    return out;
}
