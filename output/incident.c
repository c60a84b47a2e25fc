/*
 * Complaint surges become incidents.
 *
 * Every queued mention has a brand, a primary category and the time it
 * happened (queue.happened: published, else first seen). After each run,
 * ear_incidents_update() looks at the rows queued since its last pass,
 * pair by pair (brand, category):
 *
 *  - the pair has an open incident: the new rows join it (unless they
 *    happened long before it started: backfilled history), it grows, and
 *    when it has grown by half since its last alert the sinks hear again;
 *  - else the pair's rows around the new ones are swept with a window of
 *    `window` seconds ending at each row; a window that holds a new row and
 *    at least the threshold opens an incident with the rows from the
 *    window's first one on.
 *
 * The threshold comes from the pair's own history: the counts in the same
 * window at the same hour of the week in each of the past baseline_weeks
 * weeks (and the windows just before and after it), so a quiet night and
 * a busy Monday morning are each compared with their like. With at least
 * two weeks of history it is median + sensitivity * max(1.4826 * MAD,
 * sqrt(median), 1), and never below min_rise; with less, the fixed
 * min_count applies (10 in an hour by default).
 *
 * An incident closes once it has been quiet for `quiet`: no member
 * happened and none was added in that time. Opening, growing and closing
 * each write outbox rows for the sinks that want incidents, in the same
 * transaction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/output_int.h"

#define WEEK (7 * 86400)
#define MAX_TERMS 5
#define TERM_MEMBERS 500

static int db_err(struct ear_store *st, struct ear_error *err,
                  const char *what)
{
    return ear_store_error(st, err, what);
}

static int oom(struct ear_error *err)
{
    return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
}

/* ------------------------------------------------------------ options */

static const char *const opt_keys[] = {
    "enabled", "window", "min_count", "min_rise", "sensitivity",
    "baseline_weeks", "quiet", "lookback", NULL
};

int ear_incident_opts_read(struct ear_incident_opts *o,
                           const struct ear_config *cfg,
                           struct ear_error *err)
{
    const struct ear_ynode *map = NULL;
    const char *path = cfg && cfg->path ? cfg->path : "config";
    const struct ear_ynode *n;
    const char *sens = NULL;
    int rc;

    o->enabled = 1;
    o->window = 3600;
    o->min_count = 10;
    o->min_rise = 5;
    o->sensitivity = 3.0;
    o->baseline_weeks = 4;
    o->quiet = 2 * 3600;
    o->lookback = 7 * 86400;
    if (cfg && cfg->doc)
        map = ear_ynode_get(cfg->doc->root, "incidents");
    if (!map)
        return 0;
    if (map->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, map->line, map->col,
                             "'incidents' must be a map (window, "
                             "min_count, quiet, ...)");
    rc = ear_ynode_check_keys(map, opt_keys, path, err);
    if (rc == 0)
        rc = ear_ynode_bool(&o->enabled, ear_ynode_get(map, "enabled"),
                            path, "incidents.enabled", err);
    if (rc == 0)
        rc = ear_ynode_duration(&o->window, ear_ynode_get(map, "window"),
                                path, "incidents.window", err);
    if (rc == 0)
        rc = ear_ynode_int(&o->min_count, ear_ynode_get(map, "min_count"),
                           2, 1000000, path, "incidents.min_count", err);
    if (rc == 0)
        rc = ear_ynode_int(&o->min_rise, ear_ynode_get(map, "min_rise"), 2,
                           1000000, path, "incidents.min_rise", err);
    if (rc == 0)
        rc = ear_ynode_int(&o->baseline_weeks,
                           ear_ynode_get(map, "baseline_weeks"), 0, 52, path,
                           "incidents.baseline_weeks", err);
    if (rc == 0)
        rc = ear_ynode_duration(&o->quiet, ear_ynode_get(map, "quiet"),
                                path, "incidents.quiet", err);
    if (rc == 0)
        rc = ear_ynode_duration(&o->lookback,
                                ear_ynode_get(map, "lookback"), path,
                                "incidents.lookback", err);
    n = ear_ynode_get(map, "sensitivity");
    if (rc == 0)
        rc = ear_ynode_str(&sens, n, path, "incidents.sensitivity", err);
    if (rc < 0)
        return rc;
    if (sens) {
        char *end = NULL;
        double d = strtod(sens, &end);

        if (!end || end == sens || *end || !(d > 0.0 && d <= 100.0))
            return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                                 "incidents.sensitivity: expected a number "
                                 "above 0 (3 = three MADs above the usual), "
                                 "got '%s'", sens);
        o->sensitivity = d;
    }
    n = ear_ynode_get(map, "window");
    if (o->window < 60 || o->window > WEEK)
        return ear_error_set(err, EAR_EINVAL, path, n ? n->line : map->line,
                             n ? n->col : map->col, "incidents.window must "
                             "be between 1m and 7d");
    n = ear_ynode_get(map, "quiet");
    if (o->quiet < 60)
        return ear_error_set(err, EAR_EINVAL, path, n ? n->line : map->line,
                             n ? n->col : map->col, "incidents.quiet must "
                             "be at least 1m");
    n = ear_ynode_get(map, "lookback");
    if (o->lookback < o->window)
        return ear_error_set(err, EAR_EINVAL, path, n ? n->line : map->line,
                             n ? n->col : map->col, "incidents.lookback "
                             "must be at least the window");
    return 0;
}

/* ------------------------------------------------------------ records */

void ear_incident_dispose(struct ear_incident *inc)
{
    if (!inc)
        return;
    free(inc->state);
    free(inc->brand);
    free(inc->category);
    free(inc->team);
    for (size_t i = 0; i < inc->nterms; i++)
        free(inc->terms[i]);
    free(inc->terms);
    free(inc->reason);
    free(inc->first_title);
    free(inc->first_text);
    free(inc->first_url);
    free(inc->first_author);
    memset(inc, 0, sizeof *inc);
}

void ear_incidents_free(struct ear_incident *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        ear_incident_dispose(&v[i]);
    free(v);
}

#define INC_COLS \
    "i.id, i.state, i.brand, i.category, i.team, i.severity, i.opened," \
    " i.closed_at, i.started, i.last_at, i.last_added, i.count, i.peak," \
    " i.span, i.threshold, i.baseline, i.terms, i.reason," \
    " i.first_queue_id, m.title, m.text, m.url, m.author"
#define INC_FROM \
    " FROM incidents i LEFT JOIN queue q ON q.id = i.first_queue_id" \
    " LEFT JOIN mentions m ON m.id = q.mention_id"

static int64_t col64(sqlite3_stmt *q, int i)
{
    return (int64_t)sqlite3_column_int64(q, i);
}

static int read_incident(sqlite3_stmt *q, struct ear_incident *inc)
{
    int bad = 0;
    json_t *terms;
    int sev;

    memset(inc, 0, sizeof *inc);
    inc->id = col64(q, 0);
    inc->state = ear_output__col_str(q, 1, &bad);
    inc->brand = ear_output__col_str(q, 2, &bad);
    inc->category = ear_output__col_str(q, 3, &bad);
    inc->team = ear_output__col_str(q, 4, &bad);
    sev = sqlite3_column_int(q, 5);
    inc->severity = sev < 0 || sev > 4 ? EAR_SEV_NONE
                                       : (enum ear_severity)sev;
    inc->opened = col64(q, 6);
    inc->closed_at = col64(q, 7);
    inc->started = col64(q, 8);
    inc->last_at = col64(q, 9);
    inc->last_added = col64(q, 10);
    inc->count = col64(q, 11);
    inc->peak = col64(q, 12);
    inc->window = col64(q, 13);
    inc->threshold = col64(q, 14);
    inc->baseline = sqlite3_column_type(q, 15) == SQLITE_NULL
                        ? -1.0 : sqlite3_column_double(q, 15);
    inc->reason = ear_output__col_str(q, 17, &bad);
    inc->first_queue_id = col64(q, 18);
    inc->first_title = ear_output__col_str(q, 19, &bad);
    inc->first_text = ear_output__col_str(q, 20, &bad);
    inc->first_url = ear_output__col_str(q, 21, &bad);
    inc->first_author = ear_output__col_str(q, 22, &bad);
    terms = json_loads((const char *)sqlite3_column_text(q, 16), 0, NULL);
    inc->terms = calloc(json_array_size(terms) + 1, sizeof *inc->terms);
    if (!inc->terms) {
        bad = 1;
    } else {
        size_t i;
        json_t *t;

        json_array_foreach(terms, i, t) {
            if (!json_is_string(t))
                continue;
            inc->terms[inc->nterms] = ear_strdup(json_string_value(t));
            if (!inc->terms[inc->nterms]) {
                bad = 1;
                break;
            }
            inc->nterms++;
        }
    }
    json_decref(terms);
    if (bad) {
        ear_incident_dispose(inc);
        return EAR_ENOMEM;
    }
    return 0;
}

int ear_incidents_list(struct ear_store *st, int all, int64_t since,
                       int64_t until, struct ear_incident **out, size_t *n,
                       struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    struct ear_incident *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0, step;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT " INC_COLS INC_FROM
            " WHERE CASE WHEN ?2 > 0 THEN i.last_at >= ?2 AND i.started < ?3"
            " ELSE ?1 OR i.state = 'open' END"
            " ORDER BY i.started DESC, i.id DESC", -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(st, err, "read incidents");
    sqlite3_bind_int(q, 1, all ? 1 : 0);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)since);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)(until > 0 ? until
                                                        : INT64_MAX));
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ear_incident *nvv = ear_grow(v, &cap, nv, sizeof *v, 8);

        if (!nvv) {
            rc = oom(err);
            goto out;
        }
        v = nvv;
        if (read_incident(q, &v[nv]) < 0) {
            rc = oom(err);
            goto out;
        }
        nv++;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "read incidents");
        goto out;
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    sqlite3_finalize(q);
    ear_incidents_free(v, nv);
    return rc;
}

int ear_incident_get(struct ear_store *st, int64_t id,
                     struct ear_incident *out, int64_t **queue_ids,
                     size_t *nids, struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;

    memset(out, 0, sizeof *out);
    if (queue_ids) {
        *queue_ids = NULL;
        *nids = 0;
    }
    if (sqlite3_prepare_v2(ear_store_db(st),
                           "SELECT " INC_COLS INC_FROM " WHERE i.id = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return db_err(st, err, "read incident");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    step = sqlite3_step(q);
    if (step == SQLITE_DONE)
        rc = ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                           "no incident #%lld", (long long)id);
    else if (step != SQLITE_ROW)
        rc = db_err(st, err, "read incident");
    else if (read_incident(q, out) < 0)
        rc = oom(err);
    sqlite3_finalize(q);
    q = NULL;
    if (rc < 0 || !queue_ids)
        return rc;
    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT q.id FROM incident_mentions im JOIN queue q"
            " ON q.id = im.queue_id WHERE im.incident_id = ?1"
            " ORDER BY q.happened, q.id", -1, &q, NULL) != SQLITE_OK) {
        rc = db_err(st, err, "read incident");
        goto out;
    }
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t *nv = ear_grow(ids, &cap, n, sizeof *ids, 16);

        if (!nv) {
            rc = oom(err);
            goto out;
        }
        ids = nv;
        ids[n++] = col64(q, 0);
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "read incident");
        goto out;
    }
    *queue_ids = ids;
    *nids = n;
    ids = NULL;
out:
    sqlite3_finalize(q);
    free(ids);
    if (rc < 0)
        ear_incident_dispose(out);
    return rc;
}

json_t *ear_incident_json(const struct ear_incident *inc)
{
    json_t *o = json_object();
    json_t *terms = json_array();
    json_t *first = NULL;
    int rc = 0;

    if (!o || !terms)
        goto fail;
    for (size_t i = 0; i < inc->nterms; i++)
        if (json_array_append_new(terms, ear_output__json_str(inc->terms[i]))
            < 0)
            goto fail;
    first = json_pack("{s:o, s:o, s:o, s:o, s:o}", "queue_id",
                      inc->first_queue_id ? json_integer(
                                                (json_int_t)
                                                inc->first_queue_id)
                                          : json_null(),
                      "title", ear_output__json_str(inc->first_title),
                      "text", ear_output__json_str(inc->first_text), "url",
                      ear_output__json_str(inc->first_url), "author",
                      ear_output__json_str(inc->first_author));
    if (!first)
        goto fail;
#define SET(k, v) do { if (rc == 0) rc = ear_output__json_set(o, k, v); } \
    while (0)
    SET("id", json_integer((json_int_t)inc->id));
    SET("state", ear_output__json_str(inc->state));
    SET("brand", ear_output__json_str(inc->brand));
    SET("category", ear_output__json_str(inc->category));
    SET("team", ear_output__json_str(inc->team));
    SET("severity", json_string(ear_severity_name(inc->severity)));
    SET("count", json_integer((json_int_t)inc->count));
    SET("peak", json_integer((json_int_t)inc->peak));
    SET("window", json_integer((json_int_t)inc->window));
    SET("threshold", json_integer((json_int_t)inc->threshold));
    SET("baseline", inc->baseline < 0 ? json_null()
                                      : json_real(inc->baseline));
    SET("started", ear_output__json_time(inc->started));
    SET("last", ear_output__json_time(inc->last_at));
    SET("opened", ear_output__json_time(inc->opened));
    SET("closed", ear_output__json_time(inc->closed_at));
    SET("last_added", ear_output__json_time(inc->last_added));
    SET("terms", terms);
    terms = NULL;
    SET("reason", ear_output__json_str(inc->reason));
    SET("first_mention", first);
    first = NULL;
#undef SET
    if (rc < 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    json_decref(terms);
    json_decref(first);
    return NULL;
}

/* ------------------------------------------------------------ terms */

/* Appends s lower-cased: ASCII, Latin-1 and Latin Extended-A (which hold
 * every Hungarian letter, ő and ű included). */
static int fold_case(struct ear_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = 0;

    while (*p && rc == 0) {
        if (*p < 0x80) {
            rc = ear_buf_addc(b, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32
                                                              : *p));
            p++;
        } else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            unsigned cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            char enc[2];

            if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
                cp += 0x20;
            else if (cp >= 0x100 && cp <= 0x137 && !(cp & 1) && cp != 0x130)
                cp += 1;
            else if (cp >= 0x139 && cp <= 0x148 && (cp & 1))
                cp += 1;
            else if (cp >= 0x14A && cp <= 0x177 && !(cp & 1))
                cp += 1;
            else if (cp == 0x179 || cp == 0x17B || cp == 0x17D)
                cp += 1;
            enc[0] = (char)(0xC0 | (cp >> 6));
            enc[1] = (char)(0x80 | (cp & 0x3F));
            rc = ear_buf_addn(b, enc, 2);
            p += 2;
        } else {
            rc = ear_buf_addc(b, (char)*p++);
        }
    }
    return rc;
}

struct term {
    char *text;
    int64_t own;     /* mentions where a rule of the category matched it */
    int64_t other;   /* mentions where only other rules did */
    size_t order;
};

static int term_cmp(const void *a, const void *b)
{
    const struct term *x = a, *y = b;

    if (x->own != y->own)
        return x->own > y->own ? -1 : 1;
    if (x->other != y->other)
        return x->other > y->other ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void terms_free(struct term *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].text);
    free(v);
}

/* Finds text in v or appends it (taking it); *at receives the index. */
static int term_add(struct term **v, size_t *n, size_t *cap, char *text,
                    size_t *at)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].text, text) == 0) {
            free(text);
            *at = i;
            return 0;
        }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct term *nv = realloc(*v, ncap * sizeof **v);

        if (!nv) {
            free(text);
            return EAR_ENOMEM;
        }
        *v = nv;
        *cap = ncap;
    }
    memset(&(*v)[*n], 0, sizeof **v);
    (*v)[*n].text = text;
    (*v)[*n].order = *n;
    *at = (*n)++;
    return 0;
}

/* The matched words of one verdict, cleaned and lower-cased, each once. */
static int mention_terms(const struct ear_verdict *v, const char *category,
                         struct term **out, size_t *n, size_t *cap)
{
    int rc = 0;

    for (size_t i = 0; i < v->nmatches && rc == 0; i++) {
        const struct ear_match *m = &v->matches[i];
        struct ear_buf clean, folded;
        size_t at;

        if (!m->text || !*m->text || strlen(m->text) > 60)
            continue;
        ear_buf_init(&clean, 4096);
        ear_buf_init(&folded, 4096);
        rc = ear_text_clean(&clean, m->text);
        if (rc == 0)
            rc = fold_case(&folded, ear_buf_str(&clean));
        ear_buf_dispose(&clean);
        if (rc == 0) {
            char *t = ear_buf_take(&folded, NULL);

            rc = t ? term_add(out, n, cap, t, &at) : EAR_ENOMEM;
            if (rc == 0 && m->category && category &&
                strcasecmp(m->category, category) == 0)
                (*out)[at].own = 1;
        }
        ear_buf_dispose(&folded);
    }
    return rc;
}

/* The most frequent matched words of the members (each counted once per
 * mention), words of the incident's category's rules before the others.
 * New JSON array, NULL on failure (err set). */
static json_t *top_terms(struct ear_store *st, int64_t id,
                         const char *category, struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    struct term *all = NULL;
    size_t nall = 0, capall = 0;
    json_t *out = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT q.mention_id FROM incident_mentions im JOIN queue q"
            " ON q.id = im.queue_id WHERE im.incident_id = ?1"
            " ORDER BY q.happened, q.id LIMIT ?2", -1, &q, NULL) !=
        SQLITE_OK) {
        db_err(st, err, "read incident");
        return NULL;
    }
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    sqlite3_bind_int(q, 2, TERM_MEMBERS);
    while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
        struct ear_verdict v;
        struct ear_error e;
        struct term *one = NULL;
        size_t none = 0, capone = 0;

        ear_verdict_init(&v);
        if (ear_store_verdict_get(st, col64(q, 0), &v, &e) == 0)
            rc = mention_terms(&v, category, &one, &none, &capone);
        ear_verdict_dispose(&v);
        for (size_t i = 0; rc == 0 && i < none; i++) {
            size_t at;

            rc = term_add(&all, &nall, &capall, one[i].text, &at);
            one[i].text = NULL;
            if (rc == 0 && one[i].own)
                all[at].own++;
            else if (rc == 0)
                all[at].other++;
        }
        terms_free(one, none);
    }
    sqlite3_finalize(q);
    if (rc == 0) {
        qsort(all, nall, sizeof *all, term_cmp);
        out = json_array();
        for (size_t i = 0; out && i < nall && i < MAX_TERMS; i++)
            if (json_array_append_new(out, json_string(all[i].text)) < 0) {
                json_decref(out);
                out = NULL;
            }
    }
    terms_free(all, nall);
    if (!out)
        oom(err);
    return out;
}

/* ------------------------------------------------------------ update */

struct upd {
    struct ear_store *st;
    const struct ear_config *cfg;
    struct ear_incident_opts o;
    int64_t now;
    int64_t monitoring_since; /* first first_seen in the store */
    struct ear_output__sink *sinks;
    size_t nsinks;
    struct ear_incident_stats *stats;
    struct ear_error *err;
};

struct pair_row {
    int64_t id;
    int64_t t;
};

static void bind_brand(sqlite3_stmt *q, int i, const char *brand)
{
    if (brand)
        sqlite3_bind_text(q, i, brand, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

/* The pair's rows not in any incident with happened in [lo, hi]. */
static int pair_rows(struct upd *u, const char *brand, const char *category,
                     int64_t lo, int64_t hi, struct pair_row **out,
                     size_t *n)
{
    static const char sql[] =
        "SELECT q.id, q.happened FROM queue q WHERE q.brand IS ?1"
        " AND q.category = ?2 AND q.happened >= ?3 AND q.happened <= ?4"
        " AND NOT EXISTS (SELECT 1 FROM incident_mentions im"
        " WHERE im.queue_id = q.id) ORDER BY q.happened, q.id";
    sqlite3_stmt *q = NULL;
    struct pair_row *v = NULL;
    size_t nv = 0, cap = 0;
    int rc, step;

    *out = NULL;
    *n = 0;
    rc = ear_store_stmt(u->st, &q, sql, u->err);
    if (rc < 0)
        return rc;
    bind_brand(q, 1, brand);
    sqlite3_bind_text(q, 2, category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)lo);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)hi);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct pair_row *nvv = ear_grow(v, &cap, nv, sizeof *v, 64);

        if (!nvv) {
            free(v);
            sqlite3_reset(q);
            return oom(u->err);
        }
        v = nvv;
        v[nv].id = col64(q, 0);
        v[nv].t = col64(q, 1);
        nv++;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(u->st, u->err, "read queue");
        free(v);
        sqlite3_reset(q);
        return rc;
    }
    sqlite3_reset(q);
    *out = v;
    *n = nv;
    return 0;
}

static int count_window(struct upd *u, const char *brand,
                        const char *category, int64_t end, int64_t *out)
{
    static const char sql[] =
        "SELECT count(*) FROM queue WHERE brand IS ?1 AND category = ?2"
        " AND happened > ?3 AND happened <= ?4";
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(u->st, &q, sql, u->err);
    if (rc < 0)
        return rc;
    bind_brand(q, 1, brand);
    sqlite3_bind_text(q, 2, category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)(end - u->o.window));
    sqlite3_bind_int64(q, 4, (sqlite3_int64)end);
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = col64(q, 0);
    else
        rc = db_err(u->st, u->err, "count queue");
    sqlite3_reset(q);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* The count a window ending at end must reach; *baseline = -1 without
 * history. */
static int threshold(struct upd *u, const char *brand, const char *category,
                     int64_t end, int64_t *thr, double *baseline,
                     size_t *nsamples)
{
    double samples[3 * 52];
    double dev[3 * 52];
    size_t n = 0;
    int rc;

    for (long long k = 1; k <= u->o.baseline_weeks; k++) {
        int64_t c = end - k * WEEK;

        /* a week counts only when earshot was already watching then */
        if (c - 2 * u->o.window < u->monitoring_since)
            break;
        for (int off = -1; off <= 1; off++) {
            int64_t cnt = 0;

            rc = count_window(u, brand, category, c + off * u->o.window,
                              &cnt);
            if (rc < 0)
                return rc;
            samples[n++] = (double)cnt;
        }
    }
    *nsamples = n;
    if (n < 6) {
        *thr = u->o.min_count;
        *baseline = -1.0;
        return 0;
    }
    {
        double med = median(samples, n);
        double mad, sigma, t;

        for (size_t i = 0; i < n; i++)
            dev[i] = fabs(samples[i] - med);
        mad = median(dev, n);
        sigma = 1.4826 * mad;
        if (sigma < sqrt(med))
            sigma = sqrt(med);
        if (sigma < 1.0)
            sigma = 1.0;
        t = ceil(med + u->o.sensitivity * sigma);
        *thr = (int64_t)t;
        if (*thr < u->o.min_rise)
            *thr = u->o.min_rise;
        *baseline = med;
    }
    return 0;
}

static int64_t peak_of(const struct pair_row *v, size_t n, int64_t window)
{
    int64_t best = 0;

    for (size_t i = 0, j = 0; j < n; j++) {
        while (v[j].t - v[i].t >= window)
            i++;
        if ((int64_t)(j - i + 1) > best)
            best = (int64_t)(j - i + 1);
    }
    return best;
}

/* Recomputes count, times, peak, severity, team, first mention and terms
 * from the members. */
static int refresh(struct upd *u, int64_t id, const char *category)
{
    static const char sql_members[] =
        "SELECT q.id, q.happened, q.severity, q.team FROM incident_mentions"
        " im JOIN queue q ON q.id = im.queue_id WHERE im.incident_id = ?1"
        " ORDER BY q.happened, q.id";
    sqlite3_stmt *q = NULL;
    struct pair_row *v = NULL;
    size_t n = 0, cap = 0;
    int sev = 0;
    char *team = NULL;
    json_t *terms = NULL;
    char *terms_text = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(ear_store_db(u->st), sql_members, -1, &q, NULL)
        != SQLITE_OK)
        return db_err(u->st, u->err, "read incident");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct pair_row *nv = ear_grow(v, &cap, n, sizeof *v, 64);

        if (!nv) {
            rc = oom(u->err);
            goto out;
        }
        v = nv;
        v[n].id = col64(q, 0);
        v[n].t = col64(q, 1);
        if (sqlite3_column_int(q, 2) > sev)
            sev = sqlite3_column_int(q, 2);
        if (n == 0 && sqlite3_column_text(q, 3)) {
            team = ear_strdup((const char *)sqlite3_column_text(q, 3));
            if (!team) {
                rc = oom(u->err);
                goto out;
            }
        }
        n++;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(u->st, u->err, "read incident");
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (n == 0)
        goto out;
    terms = top_terms(u->st, id, category, u->err);
    terms_text = terms ? json_dumps(terms, JSON_COMPACT) : NULL;
    if (!terms_text) {
        rc = oom(u->err);
        goto out;
    }
    if (sqlite3_prepare_v2(ear_store_db(u->st),
            "UPDATE incidents SET count = ?2, started = ?3, last_at = ?4,"
            " peak = max(peak, ?5), severity = ?6, team = ?7,"
            " first_queue_id = ?8, terms = ?9 WHERE id = ?1", -1, &q, NULL)
        != SQLITE_OK) {
        rc = db_err(u->st, u->err, "update incident");
        goto out;
    }
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)n);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)v[0].t);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)v[n - 1].t);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)peak_of(v, n, u->o.window));
    sqlite3_bind_int(q, 6, sev);
    if (team)
        sqlite3_bind_text(q, 7, team, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)v[0].id);
    sqlite3_bind_text(q, 9, terms_text, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_err(u->st, u->err, "update incident");
out:
    sqlite3_finalize(q);
    free(v);
    free(team);
    json_decref(terms);
    free(terms_text);
    return rc;
}

/* Outbox rows about incident id: kind incident, incident-update or
 * incident-closed. */
static int alert(struct upd *u, int64_t id, const char *kind)
{
    struct ear_incident inc;
    struct ear_output__subject subj;
    const char *cats[1];
    json_t *p = NULL;
    const char *event = strcmp(kind, "incident") == 0 ? "incident.opened"
                        : strcmp(kind, "incident-update") == 0
                            ? "incident.updated" : "incident.closed";
    char key[300];
    int rc;

    if (u->nsinks == 0)
        return 0;
    rc = ear_incident_get(u->st, id, &inc, NULL, NULL, u->err);
    if (rc < 0)
        return rc;
    p = ear_incident_json(&inc);
    if (!p ||
        ear_output__json_set(p, "event", json_string(event)) < 0 ||
        ear_output__json_set(p, "incident_id",
                             json_integer((json_int_t)inc.id)) < 0 ||
        ear_output__json_set(p, "queue_id",
                             inc.first_queue_id
                                 ? json_integer((json_int_t)
                                                inc.first_queue_id)
                                 : json_null()) < 0 ||
        ear_output__json_set(p, "title",
                             ear_output__json_str(inc.first_title)) < 0 ||
        ear_output__json_set(p, "text",
                             ear_output__json_str(inc.first_text)) < 0 ||
        ear_output__json_set(p, "url",
                             ear_output__json_str(inc.first_url)) < 0 ||
        ear_output__json_set(p, "author",
                             ear_output__json_str(inc.first_author)) < 0 ||
        ear_output__json_set(p, "categories",
                             json_pack("[s?]", inc.category)) < 0) {
        rc = oom(u->err);
        goto out;
    }
    memset(&subj, 0, sizeof subj);
    subj.incident = 1;
    subj.severity = inc.severity;
    cats[0] = inc.category;
    subj.cats = cats;
    subj.ncats = 1;
    subj.team = inc.team;
    subj.brand = inc.brand;
    snprintf(key, sizeof key, "%lld\x1f%lld\x1f%lld", (long long)inc.id,
             (long long)inc.started, (long long)inc.count);
    rc = ear_output__outbox_add(u->st, u->sinks, u->nsinks, &subj, kind, 0,
                                inc.id, p, key, u->now, u->err);
out:
    json_decref(p);
    ear_incident_dispose(&inc);
    return rc;
}

static int attach(struct upd *u, int64_t id, const char *brand,
                  const char *category, int64_t from, int64_t *added)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO incident_mentions (incident_id, queue_id)"
        " SELECT ?1, q.id FROM queue q WHERE q.brand IS ?2"
        " AND q.category = ?3 AND q.happened >= ?4 AND q.happened <= ?5"
        " AND NOT EXISTS (SELECT 1 FROM incident_mentions im"
        " WHERE im.queue_id = q.id)";
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(u->st, &q, sql, u->err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    bind_brand(q, 2, brand);
    sqlite3_bind_text(q, 3, category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)from);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)u->now);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_err(u->st, u->err, "group incident");
    else
        *added = sqlite3_changes(ear_store_db(u->st));
    sqlite3_reset(q);
    return rc;
}

/* The open incident of a pair grows by the new rows. */
static int grow(struct upd *u, int64_t id, const char *brand,
                const char *category, int64_t started, int64_t count,
                int64_t alerted)
{
    int64_t added = 0;
    int rc;

    rc = attach(u, id, brand, category, started - u->o.window, &added);
    if (rc < 0 || added == 0)
        return rc;
    count += added;
    rc = refresh(u, id, category);
    if (rc == 0) {
        sqlite3_stmt *q = NULL;

        if (sqlite3_prepare_v2(ear_store_db(u->st),
                "UPDATE incidents SET last_added = ?2,"
                " alerted_count = CASE WHEN count * 2 >= alerted_count * 3"
                " THEN count ELSE alerted_count END WHERE id = ?1", -1, &q,
                NULL) != SQLITE_OK)
            return db_err(u->st, u->err, "update incident");
        sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)u->now);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(u->st, u->err, "update incident");
        sqlite3_finalize(q);
    }
    if (rc < 0)
        return rc;
    u->stats->updated++;
    /* a new alert once it has grown by half since the last one */
    if (count * 2 >= alerted * 3)
        rc = alert(u, id, "incident-update");
    return rc;
}

static int open_incident(struct upd *u, const char *brand,
                         const char *category, int64_t start, int64_t end,
                         int64_t count, int64_t thr, double baseline,
                         size_t nsamples)
{
    sqlite3_stmt *q = NULL;
    struct ear_buf reason;
    char dur[32], wdur[32];
    int64_t id, added = 0;
    int rc;

    ear_buf_init(&reason, 4096);
    ear_output__span(end - start > 0 ? end - start : 60, dur, sizeof dur);
    ear_output__span(u->o.window, wdur, sizeof wdur);
    if (baseline < 0)
        rc = ear_buf_addf(&reason, "%lld within %s; no history yet, so the "
                          "minimum of %lld within %s applies",
                          (long long)count, dur, (long long)thr, wdur);
    else
        rc = ear_buf_addf(&reason, "%lld within %s where %.1f is usual "
                          "(median of %zu windows at this hour of the week "
                          "in past weeks); the threshold was %lld",
                          (long long)count, wdur, baseline, nsamples,
                          (long long)thr);
    if (rc < 0)
        return oom(u->err);
    if (sqlite3_prepare_v2(ear_store_db(u->st),
            "INSERT INTO incidents (state, brand, category, opened, started,"
            " last_at, last_added, count, peak, span, threshold, baseline,"
            " alerted_count, reason) VALUES ('open', ?1, ?2, ?3, ?4, ?5, ?3,"
            " ?6, ?6, ?7, ?8, ?9, 0, ?10)", -1, &q, NULL) != SQLITE_OK) {
        rc = db_err(u->st, u->err, "open incident");
        goto out;
    }
    bind_brand(q, 1, brand);
    sqlite3_bind_text(q, 2, category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)u->now);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)start);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)end);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)count);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)u->o.window);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)thr);
    if (baseline >= 0)
        sqlite3_bind_double(q, 9, baseline);
    sqlite3_bind_text(q, 10, ear_buf_str(&reason), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = db_err(u->st, u->err, "open incident");
        goto out;
    }
    id = (int64_t)sqlite3_last_insert_rowid(ear_store_db(u->st));
    rc = attach(u, id, brand, category, start, &added);
    if (rc == 0)
        rc = refresh(u, id, category);
    if (rc == 0) {
        sqlite3_finalize(q);
        q = NULL;
        if (sqlite3_prepare_v2(ear_store_db(u->st),
                "UPDATE incidents SET alerted_count = count WHERE id = ?1",
                -1, &q, NULL) != SQLITE_OK) {
            rc = db_err(u->st, u->err, "open incident");
            goto out;
        }
        sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(u->st, u->err, "open incident");
    }
    if (rc == 0)
        rc = alert(u, id, "incident");
    if (rc == 0)
        u->stats->opened++;
out:
    sqlite3_finalize(q);
    ear_buf_dispose(&reason);
    return rc;
}

/* Sweeps the pair's rows around the new ones [tmin, tmax] for a window
 * that reaches its threshold. */
static int detect(struct upd *u, const char *brand, const char *category,
                  int64_t tmin, int64_t tmax)
{
    struct pair_row *v = NULL;
    size_t n = 0;
    int64_t floor_count = u->o.min_count < u->o.min_rise ? u->o.min_count
                                                         : u->o.min_rise;
    int64_t horizon = u->now - u->o.lookback;
    int rc;

    if (tmax < horizon)
        return 0;
    if (tmin < horizon)
        tmin = horizon;
    rc = pair_rows(u, brand, category, tmin - u->o.window + 1,
                   tmax + u->o.window - 1, &v, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0, j = 0; j < n; j++) {
        int64_t count, thr = 0;
        double baseline = -1;
        size_t nsamples = 0;

        while (v[j].t - v[i].t >= u->o.window)
            i++;
        count = (int64_t)(j - i + 1);
        /* the window must hold a new row, and the next row must not be
         * in it too (the sweep takes each window at its fullest) */
        if (v[j].t < tmin || v[i].t > tmax || count < floor_count)
            continue;
        if (j + 1 < n && v[j + 1].t - v[i].t < u->o.window)
            continue;
        rc = threshold(u, brand, category, v[j].t, &thr, &baseline,
                       &nsamples);
        if (rc < 0)
            break;
        if (count >= thr) {
            rc = open_incident(u, brand, category, v[i].t, v[j].t, count,
                               thr, baseline, nsamples);
            break;
        }
    }
    free(v);
    return rc;
}

static int close_quiet(struct upd *u)
{
    sqlite3_stmt *q = NULL;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;

    if (sqlite3_prepare_v2(ear_store_db(u->st),
            "SELECT id FROM incidents WHERE state = 'open'"
            " AND max(last_at, last_added) + ?1 <= ?2", -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(u->st, u->err, "read incidents");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)u->o.quiet);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)u->now);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t *nv = ear_grow(ids, &cap, n, sizeof *ids, 8);

        if (!nv) {
            rc = oom(u->err);
            goto out;
        }
        ids = nv;
        ids[n++] = col64(q, 0);
    }
    if (step != SQLITE_DONE) {
        rc = db_err(u->st, u->err, "read incidents");
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (n && sqlite3_prepare_v2(ear_store_db(u->st),
            "UPDATE incidents SET state = 'closed', closed_at = ?2"
            " WHERE id = ?1", -1, &q, NULL) != SQLITE_OK) {
        rc = db_err(u->st, u->err, "close incident");
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, (sqlite3_int64)ids[i]);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)u->now);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(u->st, u->err, "close incident");
        if (rc == 0)
            rc = alert(u, ids[i], "incident-closed");
        if (rc == 0)
            u->stats->closed++;
    }
out:
    sqlite3_finalize(q);
    free(ids);
    return rc;
}

static int state_get(struct upd *u, const char *key, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    int rc = 0;

    *out = 0;
    if (sqlite3_prepare_v2(ear_store_db(u->st),
                           "SELECT value FROM output_state WHERE key = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return db_err(u->st, u->err, "read output state");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = col64(q, 0);
    sqlite3_finalize(q);
    return rc;
}

static int state_set(struct upd *u, const char *key, int64_t value)
{
    sqlite3_stmt *q = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(ear_store_db(u->st),
                           "INSERT OR REPLACE INTO output_state (key, value)"
                           " VALUES (?1, ?2)", -1, &q, NULL) != SQLITE_OK)
        return db_err(u->st, u->err, "write output state");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)value);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_err(u->st, u->err, "write output state");
    sqlite3_finalize(q);
    return rc;
}

struct new_row {
    int64_t id;
    char *brand;
    char *category;
    int64_t t;
};

static int pass(struct upd *u)
{
    sqlite3_stmt *q = NULL;
    struct new_row *v = NULL;
    size_t n = 0, cap = 0;
    int64_t last = 0, maxid = 0;
    int rc, step;

    rc = state_get(u, "incidents.last_queue_id", &last);
    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(ear_store_db(u->st),
            "SELECT id, brand, category, happened FROM queue WHERE id > ?1"
            " ORDER BY brand, category, happened, id", -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(u->st, u->err, "read queue");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)last);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int bad = 0;
        int64_t id = col64(q, 0);

        if (id > maxid)
            maxid = id;
        if (sqlite3_column_type(q, 2) == SQLITE_NULL ||
            sqlite3_column_type(q, 3) == SQLITE_NULL)
            continue;
        struct new_row *nv = ear_grow(v, &cap, n, sizeof *v, 64);

        if (!nv) {
            rc = oom(u->err);
            goto out;
        }
        v = nv;
        v[n].id = id;
        v[n].brand = ear_output__col_str(q, 1, &bad);
        v[n].category = ear_output__col_str(q, 2, &bad);
        v[n].t = col64(q, 3);
        n++;
        if (bad) {
            rc = oom(u->err);
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(u->st, u->err, "read queue");
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;
    /* what has been quiet long enough closes first, so new rows of its
     * pair start a new incident instead of reviving it */
    rc = close_quiet(u);
    /* pair by pair (the rows are sorted by brand, category, time) */
    for (size_t i = 0, j; i < n && rc == 0; i = j) {
        const char *brand = v[i].brand;
        const char *cat = v[i].category;
        int64_t inc = 0, started = 0, count = 0, alerted = 0;

        for (j = i; j < n; j++) {
            int same_brand = (!brand && !v[j].brand) ||
                             (brand && v[j].brand &&
                              strcmp(brand, v[j].brand) == 0);

            if (!same_brand || strcmp(cat, v[j].category) != 0)
                break;
        }
        if (sqlite3_prepare_v2(ear_store_db(u->st),
                "SELECT id, started, count, alerted_count FROM incidents"
                " WHERE state = 'open' AND brand IS ?1 AND category = ?2",
                -1, &q, NULL) != SQLITE_OK) {
            rc = db_err(u->st, u->err, "read incidents");
            break;
        }
        bind_brand(q, 1, brand);
        sqlite3_bind_text(q, 2, cat, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW) {
            inc = col64(q, 0);
            started = col64(q, 1);
            count = col64(q, 2);
            alerted = col64(q, 3);
        }
        sqlite3_finalize(q);
        q = NULL;
        if (inc)
            rc = grow(u, inc, brand, cat, started, count, alerted);
        else
            rc = detect(u, brand, cat, v[i].t, v[j - 1].t);
    }
    if (rc == 0 && maxid > last)
        rc = state_set(u, "incidents.last_queue_id", maxid);
out:
    sqlite3_finalize(q);
    for (size_t i = 0; i < n; i++) {
        free(v[i].brand);
        free(v[i].category);
    }
    free(v);
    return rc;
}

int ear_incidents_update(struct ear_store *st, const struct ear_config *cfg,
                         int64_t now, struct ear_incident_stats *stats,
                         struct ear_error *err)
{
    struct ear_incident_stats local;
    struct upd u;
    sqlite3_stmt *q = NULL;
    int rc;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    memset(&u, 0, sizeof u);
    u.st = st;
    u.cfg = cfg;
    u.now = now;
    u.stats = stats;
    u.err = err;
    rc = ear_incident_opts_read(&u.o, cfg, err);
    if (rc < 0 || !u.o.enabled)
        return rc;
    rc = ear_output__sinks_load(cfg, &u.sinks, &u.nsinks, err);
    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(ear_store_db(st),
                           "SELECT coalesce(min(first_seen), 0) FROM mentions",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_err(st, err, "read mentions");
        goto out;
    }
    if (sqlite3_step(q) == SQLITE_ROW)
        u.monitoring_since = col64(q, 0);
    sqlite3_finalize(q);
    rc = ear_store_begin(st, err);
    if (rc < 0)
        goto out;
    rc = pass(&u);
    if (rc == 0) {
        rc = ear_store_commit(st, err);
    } else {
        ear_store_rollback(st);
        memset(stats, 0, sizeof *stats);
    }
out:
    ear_output__sinks_free(u.sinks, u.nsinks);
    return rc;
}
