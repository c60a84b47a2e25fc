/*
 * The outbox: alerts waiting for their sinks.
 *
 * A row is written in the same transaction as what it announces (the queue
 * row of a mention, an incident opening, growing or closing), one per sink
 * that wants it, so an alert exists exactly when its cause does. The row
 * refers to a JSON snapshot of the alert (the payload, in the alerts table,
 * written once however many sinks it goes to), so what is sent later is
 * what was true when it happened, whatever the queue item went through
 * since.
 *
 * Delivery walks the sinks. For each: rows written while the sink's config
 * had a mistake are filtered now; then the due rows go out in order
 * (incidents first, then by severity, then oldest), each status change
 * committed on its own, so a crash between a send and its update means one
 * duplicate (the idempotency key lets the peer drop it), never a loss. A
 * failed send sets exponential backoff on that row and on the sink's other
 * due rows, and the sink is left alone for the rest of the pass.
 *
 * max_per_hour: the rows sent (summaries included) in the last hour use up
 * the budget. When more are due than the budget allows, the last free slot
 * carries one summary of the excess (rows "folded" into it); with no slot
 * left, they are folded into a summary that waits until a slot frees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/output_int.h"

#define BACKOFF_FIRST 60
#define BACKOFF_MAX (6 * 3600)
#define SUMMARY_ITEMS 25
/* An outbox row's payload, in a query on outbox without an alias: in
 * alerts since migration 7, stored once for all the sinks it goes to. */
#define PAYLOAD "(SELECT a.payload FROM alerts a" \
                " WHERE a.id = outbox.alert_id)"

static int db_err(struct ear_store *st, struct ear_error *err,
                  const char *what)
{
    return ear_store_error(st, err, what);
}

static int oom(struct ear_error *err)
{
    return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
}

/* ------------------------------------------------------------ payloads */

static int set(json_t *o, const char *key, json_t *v)
{
    return ear_output__json_set(o, key, v);
}

static json_t *json_int_or_null(int64_t v, int64_t null_value)
{
    return v == null_value ? json_null() : json_integer((json_int_t)v);
}

/* The alert of a freshly queued mention as a jansson object. */
static json_t *mention_object(const struct ear_mention *m,
                              const struct ear_verdict *v, int64_t queue_id,
                              const char *team, const char *brand,
                              int64_t created, int64_t due)
{
    json_t *o = json_object();
    json_t *cats = json_array();
    json_t *terms = json_array();
    int rc = 0;

    if (!o || !cats || !terms)
        goto fail;
    for (size_t i = 0; i < v->ncategories; i++)
        if (v->categories[i] &&
            json_array_append_new(cats, ear_output__json_str(
                                            v->categories[i])) < 0)
            goto fail;
    /* the words that made the verdict, each once, at most eight */
    for (size_t i = 0; i < v->nmatches && json_array_size(terms) < 8; i++) {
        const char *t = v->matches[i].text;
        size_t j;
        json_t *e;

        if (!t || !*t || strlen(t) > 80)
            continue;
        json_array_foreach(terms, j, e)
            if (strcmp(json_string_value(e), t) == 0)
                break;
        if (j == json_array_size(terms) &&
            json_array_append_new(terms, ear_output__json_str(t)) < 0)
            goto fail;
    }
    rc = set(o, "event", json_string("mention"));
    if (rc == 0)
        rc = set(o, "queue_id", json_integer((json_int_t)queue_id));
    if (rc == 0)
        rc = set(o, "mention_id", json_integer((json_int_t)m->id));
    if (rc == 0)
        rc = set(o, "severity", json_string(ear_severity_name(v->severity)));
    if (rc == 0)
        rc = set(o, "category", ear_output__json_str(
                                     v->ncategories ? v->categories[0]
                                                    : NULL));
    if (rc == 0) {
        rc = set(o, "categories", cats);
        cats = NULL;
    }
    if (rc == 0)
        rc = set(o, "team", ear_output__json_str(team));
    if (rc == 0)
        rc = set(o, "brand", ear_output__json_str(brand));
    if (rc == 0)
        rc = set(o, "source", ear_output__json_str(m->source));
    if (rc == 0)
        rc = set(o, "lang", ear_output__json_str(
                                 m->lang[0] ? m->lang
                                            : v->lang[0] ? v->lang : NULL));
    if (rc == 0)
        rc = set(o, "title", ear_output__json_str(m->title));
    if (rc == 0)
        rc = set(o, "text", ear_output__json_str(m->text));
    if (rc == 0)
        rc = set(o, "url", ear_output__json_str(m->url));
    if (rc == 0)
        rc = set(o, "author", ear_output__json_str(m->author));
    if (rc == 0)
        rc = set(o, "rating", m->rating > 0 ? json_real(m->rating)
                                            : json_null());
    if (rc == 0)
        rc = set(o, "reach", json_int_or_null(m->reach < 0 ? -1 : m->reach,
                                              -1));
    if (rc == 0)
        rc = set(o, "published", ear_output__json_time(m->published));
    if (rc == 0)
        rc = set(o, "queued", ear_output__json_time(created));
    if (rc == 0)
        rc = set(o, "due", ear_output__json_time(due));
    if (rc == 0)
        rc = set(o, "explain", ear_output__json_str(v->explain));
    if (rc == 0) {
        rc = set(o, "terms", terms);
        terms = NULL;
    }
    if (rc < 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    json_decref(cats);
    json_decref(terms);
    return NULL;
}

struct dump {
    struct ear_buf *b;
    int rc;
};

static int dump_to_buf(const char *p, size_t n, void *data)
{
    struct dump *d = data;

    d->rc = ear_buf_addn(d->b, p, n);
    return d->rc < 0 ? -1 : 0;
}

int ear_output__mention_payload(struct ear_buf *b,
                                const struct ear_mention *m,
                                const struct ear_verdict *v,
                                int64_t queue_id, const char *team,
                                const char *brand, int64_t created,
                                int64_t due)
{
    json_t *o = mention_object(m, v, queue_id, team, brand, created, due);
    struct dump d = {b, 0};
    size_t len = b->len;

    if (!o)
        return EAR_ENOMEM;
    if (json_dump_callback(o, dump_to_buf, &d, JSON_COMPACT) < 0 &&
        d.rc == 0) {
        /* jansson itself ran out of memory: nothing half-written (a
         * failed add has already let the whole buffer go, as ear_buf
         * does) */
        b->len = len;
        if (b->ptr)
            b->ptr[len] = '\0';
        d.rc = EAR_ENOMEM;
    }
    json_decref(o);
    return d.rc;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static json_int_t jint(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

const char *ear_output__span(int64_t secs, char *buf, size_t size)
{
    int64_t d = secs / 86400, h = secs % 86400 / 3600, m = secs % 3600 / 60;

    if (secs < 60)
        snprintf(buf, size, "%llds", (long long)secs);
    else if (secs % 86400 == 0)
        snprintf(buf, size, "%lldd", (long long)d);
    else if (secs % 3600 == 0)
        snprintf(buf, size, "%lldh", (long long)(secs / 3600));
    else if (secs < 3600)
        snprintf(buf, size, "%lldm", (long long)m);
    else if (d == 0)
        snprintf(buf, size, "%lldh %lldm", (long long)h, (long long)m);
    else
        snprintf(buf, size, "%lldd %lldh", (long long)d, (long long)h);
    return buf;
}

/* Appends s as one line of at most max characters. */
static int snippet(struct ear_buf *out, const char *s, size_t max)
{
    return ear_text_snippet(out, s, max);
}

static int terms_line(struct ear_buf *out, const json_t *terms)
{
    size_t i;
    json_t *t;
    int rc = 0;

    if (!json_is_array(terms) || json_array_size(terms) == 0)
        return 0;
    rc = ear_buf_adds(out, " (top terms: ");
    json_array_foreach(terms, i, t) {
        if (rc == 0 && i > 0)
            rc = ear_buf_adds(out, ", ");
        if (rc == 0)
            rc = snippet(out, json_string_value(t) ? json_string_value(t)
                                                  : "", 40);
        if (i == 4)
            break;
    }
    if (rc == 0)
        rc = ear_buf_adds(out, ")");
    return rc;
}

int ear_output__payload_line(struct ear_buf *out, const json_t *p)
{
    const char *event = jstr(p, "event");
    const char *brand = jstr(p, "brand");
    int rc;

    if (strcmp(event, "mention") == 0) {
        const char *what = jstr(p, "title")[0] ? jstr(p, "title")
                                                : jstr(p, "text");

        rc = ear_buf_addf(out, "[%s] ", jstr(p, "severity"));
        if (rc == 0 && brand[0])
            rc = snippet(out, brand, 40);
        if (rc == 0)
            rc = ear_buf_adds(out, brand[0] ? " / " : "");
        if (rc == 0)
            rc = snippet(out, jstr(p, "category")[0] ? jstr(p, "category")
                                                     : "complaint", 40);
        if (rc == 0)
            rc = ear_buf_adds(out, " on ");
        if (rc == 0)
            rc = snippet(out, jstr(p, "source"), 40);
        if (rc == 0)
            rc = ear_buf_adds(out, ": ");
        if (rc == 0)
            rc = snippet(out, what, 140);
        return rc;
    }
    if (strncmp(event, "incident.", 9) == 0) {
        const char *verb = strcmp(event, "incident.opened") == 0 ? "opened"
                           : strcmp(event, "incident.updated") == 0
                               ? "grew" : "closed";
        char dur[32];

        rc = ear_buf_addf(out, "Incident #%" JSON_INTEGER_FORMAT " %s: %"
                          JSON_INTEGER_FORMAT " ", jint(p, "incident_id"),
                          verb, jint(p, "count"));
        if (rc == 0)
            rc = snippet(out, jstr(p, "category"), 40);
        if (rc == 0)
            rc = ear_buf_adds(out, " complaints");
        if (rc == 0 && brand[0]) {
            rc = ear_buf_adds(out, " about ");
            if (rc == 0)
                rc = snippet(out, brand, 40);
        }
        if (rc == 0)
            rc = ear_buf_addf(out, ", up to %" JSON_INTEGER_FORMAT
                              " within %s", jint(p, "peak"),
                              ear_output__span(jint(p, "window"), dur,
                                               sizeof dur));
        if (rc == 0)
            rc = terms_line(out, json_object_get(p, "terms"));
        return rc;
    }
    if (strcmp(event, "summary") == 0)
        return ear_buf_addf(out, "%" JSON_INTEGER_FORMAT " more alerts, "
                            "folded (at most %" JSON_INTEGER_FORMAT
                            " messages an hour)", jint(p, "count"),
                            jint(p, "max_per_hour"));
    return ear_buf_addf(out, "%s", event);
}

/* The sink filters' view of a stored payload. */
static void subject_of(const json_t *p, struct ear_output__subject *s,
                       const char **cats, size_t max)
{
    const json_t *a = json_object_get(p, "categories");
    size_t i;
    json_t *c;

    memset(s, 0, sizeof *s);
    s->incident = strncmp(jstr(p, "event"), "incident.", 9) == 0;
    if (ear_severity_parse(&s->severity, jstr(p, "severity")) < 0)
        s->severity = EAR_SEV_NONE;
    s->team = json_string_value(json_object_get(p, "team"));
    s->brand = json_string_value(json_object_get(p, "brand"));
    s->cats = cats;
    json_array_foreach(a, i, c)
        if (json_is_string(c) && s->ncats < max)
            cats[s->ncats++] = json_string_value(c);
    if (s->ncats == 0 && json_is_string(json_object_get(p, "category")) &&
        max > 0)
        cats[s->ncats++] = jstr(p, "category");
}

/* ------------------------------------------------------------ writing */

static int idem_key(char out[65], const char *kind, const char *sink,
                    const char *key)
{
    struct ear_buf b;
    int rc;

    ear_buf_init(&b, 1 << 20);
    rc = ear_buf_addf(&b, "%s\x1f%s\x1f%s", kind, sink, key);
    if (rc == 0)
        rc = ear_output__sha256_hex(out, b.ptr, b.len);
    ear_buf_dispose(&b);
    if (rc == 0)
        out[32] = '\0'; /* 128 bits are plenty for a key */
    return rc;
}

static const char sql_alert[] =
    "INSERT INTO alerts (payload) VALUES (?1)";
static const char sql_alert_drop[] = "DELETE FROM alerts WHERE id = ?1";

static const char sql_insert[] =
    "INSERT OR IGNORE INTO outbox (sink, kind, queue_id, incident_id,"
    " severity, idem, checked, created, next_attempt, alert_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)";

/* Stores an alert's payload once (migration 7); *id receives its row. */
static int alert_add(struct ear_store *st, const char *text, size_t len,
                     int64_t *id, struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(st, &q, sql_alert, err);
    if (rc < 0)
        return rc;
    /* text outlives the step */
    sqlite3_bind_text(q, 1, text, (int)len, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_err(st, err, "write alert");
    else
        *id = (int64_t)sqlite3_last_insert_rowid(ear_store_db(st));
    sqlite3_reset(q);
    return rc;
}

int ear_output__outbox_add(struct ear_store *st,
                           const struct ear_output__sink *sinks, size_t n,
                           const struct ear_output__subject *subj,
                           const char *kind, int64_t queue_id,
                           int64_t incident_id, const json_t *payload,
                           const char *key, int64_t now,
                           struct ear_error *err)
{
    char *text = NULL;
    int rc;

    if (!ear_output__sinks_want(sinks, n, subj))
        return 0;
    text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        return oom(err);
    rc = ear_output__outbox_add_text(st, sinks, n, subj, kind, queue_id,
                                     incident_id, text, strlen(text), key,
                                     now, err);
    free(text);
    return rc;
}

int ear_output__outbox_add_text(struct ear_store *st,
                                const struct ear_output__sink *sinks,
                                size_t n,
                                const struct ear_output__subject *subj,
                                const char *kind, int64_t queue_id,
                                int64_t incident_id, const char *text,
                                size_t len, const char *key, int64_t now,
                                struct ear_error *err)
{
    int64_t alert = 0;
    int rows = 0;
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct ear_output__sink *s = &sinks[i];
        sqlite3_stmt *q = NULL;
        char idem[65];

        if (!s->enabled)
            continue;
        if (s->valid && !ear_output__sink_wants(s, subj))
            continue;
        if (alert == 0) {
            rc = alert_add(st, text, len, &alert, err);
            if (rc < 0)
                break;
        }
        rc = idem_key(idem, kind, s->name, key);
        if (rc < 0) {
            rc = ear_error_set(err, rc, NULL, 0, 0, "idempotency key: %s",
                               ear_strerror(rc));
            break;
        }
        /* led by the queue (or incident) id, so new keys go to the end of
         * the unique index instead of all over it */
        {
            char hash[25];

            memcpy(hash, idem, 24);
            hash[24] = '\0';
            snprintf(idem, sizeof idem, "%08llx%s",
                     (unsigned long long)(queue_id > 0 ? queue_id
                                                       : incident_id) &
                         0xffffffffULL, hash);
        }
        rc = ear_store_stmt(st, &q, sql_insert, err);
        if (rc < 0)
            break;
        /* the idempotency key is unique: a row already there (the same
         * alert written again) is left as it is */
        sqlite3_bind_text(q, 1, s->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
        if (queue_id > 0)
            sqlite3_bind_int64(q, 3, (sqlite3_int64)queue_id);
        if (incident_id > 0)
            sqlite3_bind_int64(q, 4, (sqlite3_int64)incident_id);
        sqlite3_bind_int(q, 5, (int)subj->severity);
        sqlite3_bind_text(q, 6, idem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 7, s->valid ? 1 : 0);
        sqlite3_bind_int64(q, 8, (sqlite3_int64)now);
        sqlite3_bind_int64(q, 9, (sqlite3_int64)alert);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(st, err, "write outbox");
        else
            rows += sqlite3_changes(ear_store_db(st));
        sqlite3_reset(q);
    }
    if (rc == 0 && alert > 0 && rows == 0) {
        /* every row was there already: the alert has no reader */
        sqlite3_stmt *q = NULL;

        rc = ear_store_stmt(st, &q, sql_alert_drop, err);
        if (rc == 0) {
            sqlite3_bind_int64(q, 1, (sqlite3_int64)alert);
            if (sqlite3_step(q) != SQLITE_DONE)
                rc = db_err(st, err, "write alert");
            sqlite3_reset(q);
        }
    }
    return rc;
}

/* ------------------------------------------------------------ listing */

void ear_outbox_entries_free(struct ear_outbox_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].sink);
        free(v[i].kind);
        free(v[i].state);
        free(v[i].what);
        free(v[i].last_error);
    }
    free(v);
}

static int64_t col64(sqlite3_stmt *q, int i)
{
    return (int64_t)sqlite3_column_int64(q, i);
}

int ear_outbox_list(struct ear_store *st, int all, const char *sink,
                    struct ear_outbox_entry **out, size_t *n,
                    struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    struct ear_outbox_entry *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0, step;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT id, sink, kind, state, queue_id, incident_id, severity,"
            " " PAYLOAD ", created, attempts, next_attempt, last_attempt,"
            " last_error, sent_at, folded_into FROM outbox"
            " WHERE (?1 OR state = 'pending') AND (?2 IS NULL OR sink = ?2)"
            " ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return db_err(st, err, "read outbox");
    sqlite3_bind_int(q, 1, all ? 1 : 0);
    if (sink)
        sqlite3_bind_text(q, 2, sink, -1, SQLITE_TRANSIENT);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ear_outbox_entry *e;
        json_t *p;
        struct ear_buf line;
        int bad = 0;

        struct ear_outbox_entry *nvv = ear_grow(v, &cap, nv, sizeof *v, 16);

        if (!nvv) {
            rc = oom(err);
            goto out;
        }
        v = nvv;
        e = &v[nv++];
        memset(e, 0, sizeof *e);
        e->id = col64(q, 0);
        e->sink = ear_output__col_str(q, 1, &bad);
        e->kind = ear_output__col_str(q, 2, &bad);
        e->state = ear_output__col_str(q, 3, &bad);
        e->queue_id = col64(q, 4);
        e->incident_id = col64(q, 5);
        e->severity = (enum ear_severity)(sqlite3_column_int(q, 6) & 7);
        if (e->severity > EAR_SEV_CRITICAL)
            e->severity = EAR_SEV_NONE;
        e->created = col64(q, 8);
        e->attempts = sqlite3_column_int(q, 9);
        e->next_attempt = col64(q, 10);
        e->last_attempt = col64(q, 11);
        e->last_error = ear_output__col_str(q, 12, &bad);
        e->sent_at = col64(q, 13);
        e->folded_into = col64(q, 14);
        p = json_loads((const char *)sqlite3_column_text(q, 7), 0, NULL);
        ear_buf_init(&line, 4096);
        if (p && strcmp(jstr(p, "event"), "summary") == 0 &&
            !json_object_get(p, "count"))
            rc = ear_buf_adds(&line, "summary of folded alerts");
        else if (p)
            rc = ear_output__payload_line(&line, p);
        json_decref(p);
        e->what = ear_buf_take(&line, NULL);
        if (rc < 0 || bad || !e->what) {
            rc = oom(err);
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "read outbox");
        goto out;
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    sqlite3_finalize(q);
    ear_outbox_entries_free(v, nv);
    return rc;
}

json_t *ear_outbox_entry_json(const struct ear_outbox_entry *e)
{
    json_t *o = json_object();
    int rc = 0;

    if (!o)
        return NULL;
    rc = set(o, "id", json_integer((json_int_t)e->id));
    if (rc == 0)
        rc = set(o, "sink", ear_output__json_str(e->sink));
    if (rc == 0)
        rc = set(o, "kind", ear_output__json_str(e->kind));
    if (rc == 0)
        rc = set(o, "state", ear_output__json_str(e->state));
    if (rc == 0)
        rc = set(o, "queue_id", json_int_or_null(e->queue_id, 0));
    if (rc == 0)
        rc = set(o, "incident_id", json_int_or_null(e->incident_id, 0));
    if (rc == 0)
        rc = set(o, "severity", json_string(ear_severity_name(e->severity)));
    if (rc == 0)
        rc = set(o, "what", ear_output__json_str(e->what));
    if (rc == 0)
        rc = set(o, "created", ear_output__json_time(e->created));
    if (rc == 0)
        rc = set(o, "attempts", json_integer(e->attempts));
    if (rc == 0)
        rc = set(o, "next_attempt",
                 strcmp(e->state, "pending") == 0
                     ? ear_output__json_time(e->next_attempt)
                     : json_null());
    if (rc == 0)
        rc = set(o, "last_attempt", ear_output__json_time(e->last_attempt));
    if (rc == 0)
        rc = set(o, "last_error", ear_output__json_str(e->last_error));
    if (rc == 0)
        rc = set(o, "sent_at", ear_output__json_time(e->sent_at));
    if (rc == 0)
        rc = set(o, "folded_into", json_int_or_null(e->folded_into, 0));
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------ delivery */

struct row {
    int64_t id;
    char *kind;
    char *payload;
    char *idem;
    int attempts;
};

static void rows_free(struct row *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].kind);
        free(v[i].payload);
        free(v[i].idem);
    }
    free(v);
}

struct pass {
    struct ear_store *st;
    const struct ear_config *cfg;
    int64_t now;
    int force;
    ear_write_fn write;
    void *write_payload;
    struct ear_delivery_stats *stats;
    struct ear_error *err;
};

static void problem(struct pass *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct pass *p, const char *fmt, ...)
{
    struct ear_delivery_stats *s = p->stats;
    va_list ap;

    if (s->nproblems >= sizeof s->problems / sizeof s->problems[0])
        return;
    va_start(ap, fmt);
    vsnprintf(s->problems[s->nproblems], sizeof s->problems[0], fmt, ap);
    va_end(ap);
    s->nproblems++;
}

static int count_rows(struct pass *p, const char *sql, const char *sink,
                      int64_t t, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    int rc = 0;

    *out = 0;
    if (sqlite3_prepare_v2(ear_store_db(p->st), sql, -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(p->st, p->err, "read outbox");
    sqlite3_bind_text(q, 1, sink, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = col64(q, 0);
    else
        rc = db_err(p->st, p->err, "read outbox");
    sqlite3_finalize(q);
    return rc;
}

/* Rows of sink in state pending matching extra SQL (with ?2 = now). */
static int load_rows(struct pass *p, const char *sql, const char *sink,
                     struct row **out, size_t *n)
{
    sqlite3_stmt *q = NULL;
    struct row *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0, step;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ear_store_db(p->st), sql, -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(p->st, p->err, "read outbox");
    sqlite3_bind_text(q, 1, sink, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)p->now);
    sqlite3_bind_int(q, 3, p->force ? 1 : 0);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int bad = 0;

        struct row *nvv = ear_grow(v, &cap, nv, sizeof *v, 32);

        if (!nvv) {
            rc = oom(p->err);
            goto out;
        }
        v = nvv;
        memset(&v[nv], 0, sizeof v[nv]);
        v[nv].id = col64(q, 0);
        v[nv].kind = ear_output__col_str(q, 1, &bad);
        v[nv].payload = ear_output__col_str(q, 2, &bad);
        v[nv].idem = ear_output__col_str(q, 3, &bad);
        v[nv].attempts = sqlite3_column_int(q, 4);
        nv++;
        if (bad) {
            rc = oom(p->err);
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(p->st, p->err, "read outbox");
        goto out;
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    sqlite3_finalize(q);
    rows_free(v, nv);
    return rc;
}

static int update_row(struct pass *p, const char *sql, int64_t id,
                      int64_t t, const char *text)
{
    sqlite3_stmt *q = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(ear_store_db(p->st), sql, -1, &q, NULL) !=
        SQLITE_OK)
        return db_err(p->st, p->err, "update outbox");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
    if (text)
        sqlite3_bind_text(q, 3, text, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_err(p->st, p->err, "update outbox");
    sqlite3_finalize(q);
    return rc;
}

/* Rows written while the sink's config was wrong: filter them now. */
static int recheck(struct pass *p, const struct ear_output__sink *s)
{
    struct row *v = NULL;
    size_t n = 0;
    int rc;

    rc = load_rows(p, "SELECT id, kind, " PAYLOAD ", idem, attempts"
                      " FROM outbox"
                      " WHERE sink = ?1 AND state = 'pending' AND checked = 0"
                      " AND kind <> 'summary'",
                   s->name, &v, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *pl = json_loads(v[i].payload, 0, NULL);
        struct ear_output__subject subj;
        const char *cats[16];
        int wants;

        subject_of(pl, &subj, cats, 16);
        wants = pl && ear_output__sink_wants(s, &subj);
        json_decref(pl);
        rc = update_row(p, wants
                        ? "UPDATE outbox SET checked = 1 WHERE id = ?1"
                        : "UPDATE outbox SET checked = 1, state = 'skipped',"
                          " last_error = 'not wanted by the sink''s filters'"
                          " WHERE id = ?1", v[i].id, 0, NULL);
        if (rc == 0 && !wants)
            p->stats->skipped++;
    }
    rows_free(v, n);
    return rc;
}

static int64_t backoff(int attempts)
{
    int64_t d = BACKOFF_FIRST;

    for (int i = 1; i < attempts && d < BACKOFF_MAX; i++)
        d *= 2;
    return d > BACKOFF_MAX ? BACKOFF_MAX : d;
}

/* The summary's payload, from the rows folded into it. */
static json_t *summary_payload(struct pass *p, int64_t id,
                               const struct ear_output__sink *s)
{
    sqlite3_stmt *q = NULL;
    json_t *o = json_object();
    json_t *items = json_array();
    json_t *cats = json_object();
    json_int_t count = 0;
    int step;

    if (!o || !items || !cats)
        goto fail;
    if (sqlite3_prepare_v2(ear_store_db(p->st),
                           "SELECT " PAYLOAD " FROM outbox"
                           " WHERE folded_into = ?1"
                           " ORDER BY severity DESC, id", -1, &q, NULL) !=
        SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *pl = json_loads((const char *)sqlite3_column_text(q, 0), 0,
                                NULL);
        const char *cat;

        count++;
        if (!pl)
            continue;
        cat = jstr(pl, "category")[0] ? jstr(pl, "category") : "other";
        json_object_set_new(cats, cat, json_integer(
            json_integer_value(json_object_get(cats, cat)) + 1));
        if (json_array_size(items) < SUMMARY_ITEMS) {
            struct ear_buf line;
            json_t *it;

            ear_buf_init(&line, 4096);
            ear_output__payload_line(&line, pl);
            it = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:s?}",
                           "event", jstr(pl, "event"), "queue_id",
                           json_object_get(pl, "queue_id"), "incident_id",
                           json_object_get(pl, "incident_id"), "severity",
                           json_object_get(pl, "severity"), "title",
                           json_object_get(pl, "title"), "url",
                           json_object_get(pl, "url"), "line",
                           ear_buf_str(&line));
            ear_buf_dispose(&line);
            if (!it || json_array_append_new(items, it) < 0) {
                json_decref(pl);
                goto fail;
            }
        }
        json_decref(pl);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (step != SQLITE_DONE)
        goto fail;
    if (set(o, "event", json_string("summary")) < 0 ||
        set(o, "count", json_integer(count)) < 0 ||
        set(o, "max_per_hour", json_integer((json_int_t)s->max_per_hour))
            < 0 ||
        set(o, "by_category", cats) < 0) {
        cats = NULL;
        goto fail;
    }
    cats = NULL;
    if (set(o, "items", items) < 0) {
        items = NULL;
        goto fail;
    }
    return o;
fail:
    sqlite3_finalize(q);
    json_decref(o);
    json_decref(items);
    json_decref(cats);
    return NULL;
}

/* Sends one row; 1 when sent, 0 when it failed (recorded), <0 store. */
static int send_row(struct pass *p, const struct ear_output__sink *s,
                    const struct row *r, int64_t *next_try, char *why,
                    size_t whysize)
{
    json_t *pl = NULL;
    char *text = NULL;
    struct ear_error e;
    int64_t retry_after = 0;
    int rc;

    ear_error_clear(&e);
    if (strcmp(r->kind, "summary") == 0)
        pl = summary_payload(p, r->id, s);
    else
        pl = json_loads(r->payload, 0, NULL);
    if (!pl)
        return oom(p->err);
    if (strcmp(r->kind, "summary") == 0) {
        text = json_dumps(pl, JSON_COMPACT);
        if (!text) {
            json_decref(pl);
            return oom(p->err);
        }
    }
    rc = ear_output__send(s, pl, r->idem, p->write, p->write_payload,
                          &retry_after, &e);
    json_decref(pl);
    if (rc == EAR_ENOMEM) {
        free(text);
        return oom(p->err);
    }
    if (rc == 0) {
        /* a summary keeps what it said: its payload with its state */
        rc = ear_store_begin(p->st, p->err);
        if (rc == 0 && text)
            rc = update_row(p, "UPDATE alerts SET payload = ?3 WHERE id ="
                               " (SELECT alert_id FROM outbox WHERE id = ?1)",
                            r->id, p->now, text);
        if (rc == 0)
            rc = update_row(p, "UPDATE outbox SET state = 'sent',"
                               " sent_at = ?2, last_attempt = ?2,"
                               " attempts = attempts + 1 WHERE id = ?1",
                            r->id, p->now, NULL);
        if (rc == 0)
            rc = ear_store_commit(p->st, p->err);
        else
            ear_store_rollback(p->st);
        free(text);
        if (rc < 0)
            return rc;
        p->stats->sent++;
        return 1;
    }
    free(text);
    ear_error_format(&e, why, whysize);
    *next_try = p->now + backoff(r->attempts + 1);
    if (retry_after > 0 && p->now + retry_after > *next_try)
        *next_try = p->now + (retry_after < 86400 ? retry_after : 86400);
    {
        sqlite3_stmt *q = NULL;

        if (sqlite3_prepare_v2(ear_store_db(p->st),
                "UPDATE outbox SET attempts = attempts + 1, last_attempt = ?2,"
                " next_attempt = ?3, last_error = ?4 WHERE id = ?1", -1, &q,
                NULL) != SQLITE_OK)
            return db_err(p->st, p->err, "update outbox");
        sqlite3_bind_int64(q, 1, (sqlite3_int64)r->id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)p->now);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)*next_try);
        sqlite3_bind_text(q, 4, why, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0
                                            : db_err(p->st, p->err,
                                                     "update outbox");
        sqlite3_finalize(q);
        if (rc < 0)
            return rc;
    }
    p->stats->failed++;
    return 0;
}

/* After a failure: the sink's other due rows wait as long, saying why. */
static int hold_sink(struct pass *p, const struct ear_output__sink *s,
                     int64_t next_try, const char *why)
{
    sqlite3_stmt *q = NULL;
    char text[700];
    int rc = 0;

    snprintf(text, sizeof text, "not tried: the sink failed: %s", why);
    if (sqlite3_prepare_v2(ear_store_db(p->st),
            "UPDATE outbox SET next_attempt = ?2, last_error = ?3"
            " WHERE sink = ?1 AND state = 'pending' AND next_attempt < ?2"
            " AND attempts = 0", -1, &q, NULL) != SQLITE_OK)
        return db_err(p->st, p->err, "update outbox");
    sqlite3_bind_text(q, 1, s->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)next_try);
    sqlite3_bind_text(q, 3, text, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_err(p->st, p->err, "update outbox");
    sqlite3_finalize(q);
    /* rows that failed before keep their own (longer) backoff, but
     * must not be tried before this one */
    if (rc == 0) {
        if (sqlite3_prepare_v2(ear_store_db(p->st),
                "UPDATE outbox SET next_attempt = ?2 WHERE sink = ?1"
                " AND state = 'pending' AND next_attempt < ?2", -1, &q,
                NULL) != SQLITE_OK)
            return db_err(p->st, p->err, "update outbox");
        sqlite3_bind_text(q, 1, s->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)next_try);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(p->st, p->err, "update outbox");
        sqlite3_finalize(q);
    }
    return rc;
}

/* Folds rows [from, n) into the sink's open summary (made when there is
 * none), which is sent not before not_before. *summary receives its id. */
static int fold(struct pass *p, const struct ear_output__sink *s,
                const struct row *v, size_t from, size_t n,
                int64_t not_before, int64_t *summary)
{
    sqlite3_stmt *q = NULL;
    int rc;

    if (from >= n && *summary == 0)
        return 0;
    rc = ear_store_begin(p->st, p->err);
    if (rc < 0)
        return rc;
    if (*summary == 0) {
        char key[80];
        char idem[65];

        snprintf(key, sizeof key, "%lld\x1f%lld", (long long)p->now,
                 (long long)v[from].id);
        static const char empty[] = "{\"event\":\"summary\"}";
        int64_t alert = 0;

        rc = idem_key(idem, "summary", s->name, key);
        /* its payload is written when it is sent */
        if (rc == 0)
            rc = alert_add(p->st, empty, sizeof empty - 1, &alert, p->err);
        if (rc == 0 && sqlite3_prepare_v2(ear_store_db(p->st),
                "INSERT INTO outbox (sink, kind, severity, alert_id, idem,"
                " created, next_attempt) VALUES (?1, 'summary', 0, ?5, ?2,"
                " ?3, ?4)", -1, &q, NULL) != SQLITE_OK)
            rc = db_err(p->st, p->err, "write outbox");
        if (rc == 0) {
            sqlite3_bind_text(q, 1, s->name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 2, idem, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 3, (sqlite3_int64)p->now);
            sqlite3_bind_int64(q, 4, (sqlite3_int64)not_before);
            sqlite3_bind_int64(q, 5, (sqlite3_int64)alert);
            if (sqlite3_step(q) != SQLITE_DONE)
                rc = db_err(p->st, p->err, "write outbox");
            else
                *summary = (int64_t)sqlite3_last_insert_rowid(
                    ear_store_db(p->st));
        }
        sqlite3_finalize(q);
        q = NULL;
    } else {
        rc = update_row(p, "UPDATE outbox SET next_attempt ="
                           " max(next_attempt, ?2) WHERE id = ?1",
                        *summary, not_before, NULL);
    }
    if (rc == 0 && sqlite3_prepare_v2(ear_store_db(p->st),
            "UPDATE outbox SET state = 'folded', folded_into = ?2"
            " WHERE id = ?1", -1, &q, NULL) != SQLITE_OK)
        rc = db_err(p->st, p->err, "update outbox");
    for (size_t i = from; rc == 0 && i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, (sqlite3_int64)v[i].id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)*summary);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = db_err(p->st, p->err, "update outbox");
        else
            p->stats->folded++;
    }
    sqlite3_finalize(q);
    if (rc == 0)
        rc = ear_store_commit(p->st, p->err);
    else
        ear_store_rollback(p->st);
    return rc;
}

static int deliver_sink(struct pass *p, const struct ear_output__sink *s)
{
    struct row *v = NULL;
    size_t n = 0, nsend = 0, i;
    int64_t summary = 0;
    int64_t summary_due = 0;
    int64_t budget = -1; /* unlimited */
    int64_t next_try = 0;
    char why[600];
    int rc = 0;

    if (!s->valid) {
        int64_t waiting;

        {
            sqlite3_stmt *q = NULL;

            if (sqlite3_prepare_v2(ear_store_db(p->st),
                    "UPDATE outbox SET last_error = ?2 WHERE sink = ?1"
                    " AND state = 'pending'", -1, &q, NULL) != SQLITE_OK)
                return db_err(p->st, p->err, "update outbox");
            sqlite3_bind_text(q, 1, s->name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 2, s->error, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(q) != SQLITE_DONE)
                rc = db_err(p->st, p->err, "update outbox");
            sqlite3_finalize(q);
        }
        if (rc == 0)
            rc = count_rows(p, "SELECT count(*) FROM outbox WHERE sink = ?1"
                               " AND state = 'pending' ",
                            s->name, 0, &waiting);
        if (rc == 0)
            problem(p, "sink '%s' is misconfigured (%lld alerts wait): %s",
                    s->name, (long long)waiting, s->error);
        return rc;
    }
    if (!s->enabled)
        return 0;
    rc = recheck(p, s);
    if (rc < 0)
        return rc;

    /* the open summary, if any */
    {
        int64_t id = 0;

        rc = count_rows(p, "SELECT coalesce(max(id), 0) FROM outbox WHERE"
                           " sink = ?1 AND kind = 'summary' AND state ="
                           " 'pending' ", s->name, 0, &id);
        if (rc < 0)
            return rc;
        summary = id;
    }
    rc = load_rows(p, "SELECT id, kind, " PAYLOAD ", idem, attempts"
                      " FROM outbox"
                      " WHERE sink = ?1 AND state = 'pending'"
                      " AND kind <> 'summary'"
                      " AND (?3 OR next_attempt <= ?2)"
                      " ORDER BY (kind LIKE 'incident%') DESC, severity DESC,"
                      " id", s->name, &v, &n);
    if (rc < 0)
        return rc;
    nsend = n;
    if (s->max_per_hour > 0) {
        int64_t used = 0;

        rc = count_rows(p, "SELECT count(*) FROM outbox WHERE sink = ?1"
                           " AND state = 'sent' AND sent_at > ?2", s->name,
                        p->now - 3600, &used);
        if (rc < 0)
            goto out;
        budget = s->max_per_hour - used;
        if (budget < 0)
            budget = 0;
        if (budget == 0 || summary) {
            int64_t oldest = 0;

            rc = count_rows(p, "SELECT coalesce(min(sent_at), 0) FROM outbox"
                               " WHERE sink = ?1 AND state = 'sent'"
                               " AND sent_at > ?2", s->name, p->now - 3600,
                            &oldest);
            if (rc < 0)
                goto out;
            summary_due = budget > 0 || !oldest ? p->now : oldest + 3600;
        }
        if (budget == 0 && !p->force) {
            /* no slot: everything due waits in the summary */
            rc = fold(p, s, v, 0, n, summary_due, &summary);
            goto out;
        }
        if (budget == 0)
            budget = 1; /* retry: the summary goes out anyway */
        if ((int64_t)n + (summary ? 1 : 0) > budget) {
            size_t keep = (size_t)(budget - 1);

            rc = fold(p, s, v, keep < n ? keep : n, n, p->now, &summary);
            if (rc < 0)
                goto out;
            if (keep < nsend)
                nsend = keep;
        }
    }
    for (i = 0; i < nsend; i++) {
        rc = send_row(p, s, &v[i], &next_try, why, sizeof why);
        if (rc < 0)
            goto out;
        if (rc == 0)
            goto failed;
    }
    if (summary) {
        struct row r;
        int64_t due = 0;

        rc = count_rows(p, "SELECT next_attempt FROM outbox WHERE id = ?2"
                           " AND sink = ?1", s->name, summary, &due);
        if (rc < 0)
            goto out;
        /* not before its backoff, or (folded with no slot left) until a
         * slot frees */
        if (!p->force && due > p->now)
            goto out;
        memset(&r, 0, sizeof r);
        r.id = summary;
        r.kind = (char *)"summary";
        {
            sqlite3_stmt *q = NULL;

            if (sqlite3_prepare_v2(ear_store_db(p->st),
                    "SELECT idem, attempts FROM outbox WHERE id = ?1", -1,
                    &q, NULL) != SQLITE_OK) {
                rc = db_err(p->st, p->err, "read outbox");
                goto out;
            }
            sqlite3_bind_int64(q, 1, (sqlite3_int64)summary);
            if (sqlite3_step(q) == SQLITE_ROW) {
                int bad = 0;

                r.idem = ear_output__col_str(q, 0, &bad);
                r.attempts = sqlite3_column_int(q, 1);
            }
            sqlite3_finalize(q);
        }
        if (!r.idem) {
            rc = oom(p->err);
            goto out;
        }
        rc = send_row(p, s, &r, &next_try, why, sizeof why);
        free(r.idem);
        if (rc < 0)
            goto out;
        if (rc == 0)
            goto failed;
    }
    rc = 0;
    goto out;
failed:
    rc = hold_sink(p, s, next_try, why);
    if (rc == 0) {
        int64_t waiting = 0;
        char when[32];

        rc = count_rows(p, "SELECT count(*) FROM outbox WHERE sink = ?1"
                           " AND state = 'pending' ", s->name, 0,
                        &waiting);
        if (rc == 0)
            problem(p, "sink '%s': %s; %lld alerts wait, next try %s",
                    s->name, why, (long long)waiting,
                    ear_time_fmt(next_try, when, sizeof when));
    }
out:
    rows_free(v, n);
    return rc;
}

int ear_outbox_deliver(struct ear_store *st, const struct ear_config *cfg,
                       int64_t now, int force, const char *sink,
                       ear_write_fn write, void *write_payload,
                       struct ear_delivery_stats *stats,
                       struct ear_error *err)
{
    struct ear_delivery_stats local;
    struct ear_output__sink *sinks = NULL;
    size_t nsinks = 0;
    struct pass p;
    sqlite3_stmt *q = NULL;
    int64_t waiting = 0;
    int rc;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    memset(&p, 0, sizeof p);
    p.st = st;
    p.cfg = cfg;
    p.now = now;
    p.force = force;
    p.write = write;
    p.write_payload = write_payload;
    p.stats = stats;
    p.err = err;
    rc = ear_output__sinks_load(cfg, &sinks, &nsinks, err);
    if (rc < 0)
        return rc;
    if (sink && !ear_output__sink_find(sinks, nsinks, sink)) {
        rc = ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                           "no sink named '%s' in the config", sink);
        goto out;
    }
    for (size_t i = 0; i < nsinks && rc == 0; i++)
        if (!sink || strcmp(sinks[i].name, sink) == 0)
            rc = deliver_sink(&p, &sinks[i]);
    if (rc < 0)
        goto out;
    /* alerts for sinks the config no longer has */
    if (sqlite3_prepare_v2(ear_store_db(st),
                           "SELECT sink, count(*) FROM outbox WHERE state ="
                           " 'pending' GROUP BY sink", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = db_err(st, err, "read outbox");
        goto out;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);

        waiting += col64(q, 1);
        if (name && !ear_output__sink_find(sinks, nsinks, name))
            problem(&p, "%lld alerts wait for sink '%s', which is not in "
                    "the config any more", (long long)col64(q, 1), name);
    }
    stats->waiting = (size_t)waiting;
out:
    sqlite3_finalize(q);
    ear_output__sinks_free(sinks, nsinks);
    return rc;
}

/* ------------------------------------------------------------ after run */

int ear_output_after_run(struct ear_store *st, const struct ear_config *cfg,
                         int64_t now, ear_write_fn write,
                         void *write_payload, struct ear_output_stats *stats,
                         struct ear_error *err)
{
    struct ear_output_stats local;
    struct ear_error e;
    int rc;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    ear_error_clear(&e);
    rc = ear_incidents_update(st, cfg, now, &stats->incidents, &e);
    if (rc == EAR_EINVAL) {
        /* a config mistake: say so, deliver what waits anyway */
        struct ear_delivery_stats *d = &stats->delivery;
        char buf[600];

        ear_error_format(&e, buf, sizeof buf);
        rc = ear_outbox_deliver(st, cfg, now, 0, NULL, write, write_payload,
                                d, err);
        if (d->nproblems < sizeof d->problems / sizeof d->problems[0]) {
            memmove(&d->problems[1], &d->problems[0],
                    d->nproblems * sizeof d->problems[0]);
            snprintf(d->problems[0], sizeof d->problems[0],
                     "incidents not updated: %.370s", buf);
            d->nproblems++;
        }
        return rc;
    }
    if (rc < 0) {
        if (err)
            *err = e;
        return rc;
    }
    return ear_outbox_deliver(st, cfg, now, 0, NULL, write, write_payload,
                              &stats->delivery, err);
}
