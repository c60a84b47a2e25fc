/*
 * The triage queue: one row per queued mention in the store's queue table,
 * and one event per change in the event log.
 *
 * ear_queue_add() denormalises what triage sorts and filters on (severity,
 * categories, brand, source, language, rating, reach) into the row, so
 * listing never has to parse verdicts. A state change loads the row inside
 * a write transaction (BEGIN IMMEDIATE, so no other writer can slip in
 * between the check and the update), checks the transition, writes every
 * column of the row back in one UPDATE and appends the event. Rows are never
 * deleted: reopen brings a closed item back, and the event log keeps what
 * happened.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/output_int.h"

const char *const ear_dismiss_reasons[] = {
    "not-a-complaint", "duplicate", "spam", "not-about-us", NULL
};

static const char *const states[] = {
    "new", "assigned", "responded", "resolved", "dismissed", NULL
};

int ear_dismiss_reason_valid(const char *reason)
{
    for (size_t i = 0; reason && ear_dismiss_reasons[i]; i++)
        if (strcmp(reason, ear_dismiss_reasons[i]) == 0)
            return 1;
    return 0;
}

int ear_queue_state_valid(const char *state)
{
    for (size_t i = 0; state && states[i]; i++)
        if (strcmp(state, states[i]) == 0)
            return 1;
    return 0;
}

static int state_closed(const char *state)
{
    return strcmp(state, "resolved") == 0 || strcmp(state, "dismissed") == 0;
}

/* ------------------------------------------------------------ helpers */

char *ear_output__col_str(sqlite3_stmt *stmt, int col, int *oom)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);
    char *s;

    if (!t)
        return NULL;
    s = ear_strdup((const char *)t);
    if (!s)
        *oom = 1;
    return s;
}

static int64_t col_int(sqlite3_stmt *stmt, int col, int64_t null_value)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return null_value;
    return (int64_t)sqlite3_column_int64(stmt, col);
}

json_t *ear_output__json_str(const char *s)
{
    json_t *j;

    if (!s)
        return json_null();
    j = json_string(s);
    /* Not valid UTF-8 (the store should never hold such text): keep what
     * can be kept rather than failing the whole listing. */
    if (!j) {
        size_t n;
        char *clean = ear_utf8_sanitize(s, strlen(s), &n);

        if (!clean)
            return NULL;
        j = json_stringn(clean, n);
        free(clean);
    }
    return j;
}

json_t *ear_output__json_time(int64_t t)
{
    char buf[32];

    if (t == 0)
        return json_null();
    return json_string(ear_time_fmt(t, buf, sizeof buf));
}

int ear_output__json_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return EAR_ENOMEM;
    if (json_object_set_new(obj, key, value) < 0)
        return EAR_ENOMEM;
    return 0;
}

const char *ear_output__brand(const struct ear_config *cfg,
                              const struct ear_mention *m,
                              const struct ear_verdict *v)
{
    const struct ear_source_cfg *src;

    if (v && v->brand && v->brand[0])
        return v->brand;
    if (!cfg || !m || !m->source)
        return NULL;
    src = ear_config_source(cfg, m->source);
    return src ? src->brand : NULL;
}

static int db_err(struct ear_store *st, struct ear_error *err,
                  const char *what)
{
    return ear_store_error(st, err, what);
}

/* ------------------------------------------------------------ items */

void ear_queue_item_dispose(struct ear_queue_item *it)
{
    if (!it)
        return;
    free(it->state);
    free(it->team);
    free(it->owner);
    free(it->category);
    for (size_t i = 0; i < it->ncategories; i++)
        free(it->categories[i]);
    free(it->categories);
    free(it->brand);
    free(it->source);
    free(it->lang);
    free(it->title);
    free(it->text);
    free(it->url);
    free(it->author);
    free(it->dismiss_reason);
    memset(it, 0, sizeof *it);
    it->reach = -1;
}

void ear_queue_items_free(struct ear_queue_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        ear_queue_item_dispose(&items[i]);
    free(items);
}

/* categories is a JSON array of strings; anything else yields none. */
static int parse_categories(struct ear_queue_item *it, const char *text)
{
    json_t *a = NULL;
    size_t n;
    int rc = 0;

    it->categories = calloc(1, sizeof *it->categories);
    if (!it->categories)
        return EAR_ENOMEM;
    if (!text)
        return 0;
    a = json_loads(text, 0, NULL);
    if (!json_is_array(a))
        goto out;
    n = json_array_size(a);
    free(it->categories);
    it->categories = calloc(n + 1, sizeof *it->categories);
    if (!it->categories) {
        rc = EAR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));

        if (!s)
            continue;
        it->categories[it->ncategories] = ear_strdup(s);
        if (!it->categories[it->ncategories]) {
            rc = EAR_ENOMEM;
            goto out;
        }
        it->ncategories++;
    }
out:
    json_decref(a);
    return rc;
}

int ear_output__item_read(sqlite3_stmt *stmt, struct ear_queue_item *it)
{
    int oom = 0;
    int64_t sev;

    memset(it, 0, sizeof *it);
    it->id = (int64_t)sqlite3_column_int64(stmt, 0);
    it->mention_id = (int64_t)sqlite3_column_int64(stmt, 1);
    it->state = ear_output__col_str(stmt, 2, &oom);
    it->team = ear_output__col_str(stmt, 3, &oom);
    it->owner = ear_output__col_str(stmt, 4, &oom);
    it->category = ear_output__col_str(stmt, 5, &oom);
    it->brand = ear_output__col_str(stmt, 7, &oom);
    it->source = ear_output__col_str(stmt, 8, &oom);
    it->lang = ear_output__col_str(stmt, 9, &oom);
    it->title = ear_output__col_str(stmt, 10, &oom);
    it->text = ear_output__col_str(stmt, 11, &oom);
    it->url = ear_output__col_str(stmt, 12, &oom);
    it->author = ear_output__col_str(stmt, 13, &oom);
    it->dismiss_reason = ear_output__col_str(stmt, 14, &oom);
    sev = col_int(stmt, 15, 0);
    it->severity = sev < 0 || sev > 4 ? EAR_SEV_NONE : (enum ear_severity)sev;
    it->rating = sqlite3_column_type(stmt, 16) == SQLITE_NULL
                     ? 0.0 : sqlite3_column_double(stmt, 16);
    it->reach = col_int(stmt, 17, -1);
    it->created = col_int(stmt, 18, 0);
    it->due = col_int(stmt, 19, 0);
    it->first_response = col_int(stmt, 20, 0);
    it->resolved_at = col_int(stmt, 21, 0);
    it->updated = col_int(stmt, 22, 0);
    it->overdue = sqlite3_column_int(stmt, 23) != 0;
    if (!oom && parse_categories(it, (const char *)
                                 sqlite3_column_text(stmt, 6)) < 0)
        oom = 1;
    if (oom) {
        ear_queue_item_dispose(it);
        return EAR_ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------ filters */

#define MAX_BINDS 8

int ear_output__prepare_filtered(struct ear_store *st,
                                 const struct ear_queue_filter *f,
                                 int64_t now, const char *prefix,
                                 const char *suffix, int with_limit,
                                 sqlite3_stmt **out, struct ear_error *err)
{
    return ear_output__prepare_page(st, f, now, prefix, suffix, with_limit,
                                    NULL, out, err);
}

/* Appends the filter's conditions to sql, the first preceded by *and
 * (" WHERE " or " AND "), the state's only when with_state. Values go to
 * binds as ?2, ?3, ... (?1 is now). */
static int conds(struct ear_buf *sql, const struct ear_queue_filter *f,
                 const char **and, int with_state, const char **binds,
                 int *nb, struct ear_error *err)
{
    int rc = 0;

    *nb = 0;
#define COND(text) do { \
        rc = ear_buf_adds(sql, *and); \
        if (rc == 0) \
            rc = ear_buf_adds(sql, text); \
        if (rc < 0) \
            return rc; \
        *and = " AND "; \
    } while (0)
#define COND_BIND(fmt, value) do { \
        binds[*nb] = (value); \
        (*nb)++; \
        rc = ear_buf_adds(sql, *and); \
        if (rc == 0) \
            rc = ear_buf_addf(sql, fmt, *nb + 1); \
        if (rc < 0) \
            return rc; \
        *and = " AND "; \
    } while (0)

    if (!with_state) {
        /* the caller has them */
    } else if (!f->state) {
        if (!f->include_closed)
            COND("q.state IN " EAR_OUTPUT_OPEN_STATES);
    } else if (strcmp(f->state, "open") == 0) {
        COND("q.state IN " EAR_OUTPUT_OPEN_STATES);
    } else if (strcmp(f->state, "closed") == 0) {
        COND("q.state IN ('resolved','dismissed')");
    } else if (strcmp(f->state, "all") == 0) {
        /* no condition */
    } else if (ear_queue_state_valid(f->state)) {
        COND_BIND("q.state = ?%d", f->state);
    } else {
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "unknown state '%s' (expected new, assigned, "
                             "responded, resolved, dismissed, open, closed "
                             "or all)", f->state);
    }
    if (f->team)
        COND_BIND("q.team = ?%d COLLATE NOCASE", f->team);
    if (f->owner && strcmp(f->owner, "-") == 0)
        COND("q.owner IS NULL");
    else if (f->owner)
        COND_BIND("q.owner = ?%d COLLATE NOCASE", f->owner);
    if (f->category)
        COND_BIND("EXISTS (SELECT 1 FROM json_each(q.categories) c "
                  "WHERE c.value = ?%d COLLATE NOCASE)", f->category);
    if (f->brand)
        COND_BIND("q.brand = ?%d COLLATE NOCASE", f->brand);
    if (f->source)
        COND_BIND("q.source = ?%d", f->source);
    if (f->lang)
        COND_BIND("q.lang = ?%d COLLATE NOCASE", f->lang);
    if (f->overdue_only && with_state)
        COND(EAR_OUTPUT_OVERDUE);
#undef COND
#undef COND_BIND
    return 0;
}

static int prepare_bind(struct ear_store *st, const struct ear_buf *sql,
                        int64_t now, const char **binds, int nb,
                        sqlite3_stmt **out, struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(ear_store_db(st), ear_buf_str(sql), -1, &stmt,
                           NULL) != SQLITE_OK)
        return db_err(st, err, "query queue");
    /* Binding ?1 is harmless when the statement does not use it. */
    if (sqlite3_bind_parameter_count(stmt) >= 1)
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
    for (int i = 0; i < nb; i++)
        sqlite3_bind_text(stmt, i + 2, binds[i], -1, SQLITE_TRANSIENT);
    *out = stmt;
    return 0;
}

int ear_output__prepare_page(struct ear_store *st,
                             const struct ear_queue_filter *f, int64_t now,
                             const char *prefix, const char *suffix,
                             int with_limit, const char *outer,
                             sqlite3_stmt **out, struct ear_error *err)
{
    static const struct ear_queue_filter none = EAR_QUEUE_FILTER_INIT;
    struct ear_buf sql;
    const char *binds[MAX_BINDS];
    const char *and = " WHERE ";
    int nb = 0;
    int rc = 0;

    if (!f)
        f = &none;
    ear_buf_init(&sql, 16384);
    rc = ear_buf_adds(&sql, prefix);
    if (rc == 0)
        rc = conds(&sql, f, &and, 1, binds, &nb, err);
    if (rc == 0 && suffix)
        rc = ear_buf_adds(&sql, suffix);
    if (rc == 0 && with_limit && (f->limit > 0 || f->offset > 0))
        rc = ear_buf_addf(&sql, " LIMIT %lld OFFSET %lld",
                          f->limit > 0 ? (long long)f->limit : -1LL,
                          (long long)f->offset);
    if (rc == 0 && outer)
        rc = ear_buf_adds(&sql, outer);
    if (rc == 0)
        rc = prepare_bind(st, &sql, now, binds, nb, out, err);
    if (rc == EAR_ENOMEM || rc == EAR_ETOOBIG)
        ear_error_set(err, rc, NULL, 0, 0, "building queue query: %s",
                      ear_strerror(rc));
    ear_buf_dispose(&sql);
    return rc;
}

/* The open items' pages, from two indexes that hold them in priority
 * order (migration 5): the overdue ones (queue_overdue_prio) and the rest
 * (queue_open_prio), each cut to limit + offset before they are merged
 * and joined with their mentions. A first page reads about a page of rows
 * instead of sorting every open item. The filter's state conditions go
 * into both scans too, so one open state (new, assigned, responded) is
 * read the same way. */
/* Pages from the priority indexes: the open items, and the new ones (most
 * of them, usually). Assigned and responded items are a few among many:
 * the state index and a sort of those few is quicker than walking every
 * open item in priority order to find them (on 100,884 new items: state
 * new 0.15 s -> 0.02 s this way; assigned, with none, 0.01 s the general
 * way, 0.05 s this way). */
static int open_state(const char *state)
{
    return strcmp(state, "open") == 0 || strcmp(state, "new") == 0;
}

static int prepare_open_page(struct ear_store *st,
                             const struct ear_queue_filter *f, int64_t now,
                             sqlite3_stmt **out, struct ear_error *err)
{
    struct ear_buf sql;
    const char *binds[MAX_BINDS];
    const char *and;
    long long n = f->limit > 0 ? (long long)(f->limit + f->offset) : -1LL;
    int nb = 0;
    int rc;

    ear_buf_init(&sql, 16384);
    rc = ear_buf_adds(&sql, "SELECT " EAR_OUTPUT_ITEM_COLS " FROM ("
                      "SELECT * FROM (SELECT q.* FROM queue q INDEXED BY "
                      "queue_overdue_prio WHERE " EAR_OUTPUT_OVERDUE);
    and = " AND ";
    if (rc == 0)
        rc = conds(&sql, f, &and, 1, binds, &nb, err);
    if (rc == 0)
        rc = ear_buf_addf(&sql, EAR_OUTPUT_PRIO_ORDER " LIMIT %lld)", n);
    if (rc == 0 && !f->overdue_only) {
        rc = ear_buf_adds(&sql, " UNION ALL SELECT * FROM (SELECT q.* FROM "
                          "queue q INDEXED BY queue_open_prio WHERE q.state "
                          "IN " EAR_OUTPUT_OPEN_STATES " AND NOT ("
                          EAR_OUTPUT_OVERDUE ")");
        and = " AND ";
        if (rc == 0)
            rc = conds(&sql, f, &and, 1, binds, &nb, err);
        if (rc == 0)
            rc = ear_buf_addf(&sql, EAR_OUTPUT_PRIO_ORDER " LIMIT %lld)",
                              n);
    }
    if (rc == 0)
        rc = ear_buf_adds(&sql, ") q" EAR_OUTPUT_ITEM_JOIN
                          EAR_OUTPUT_ITEM_ORDER);
    if (rc == 0 && (f->limit > 0 || f->offset > 0))
        rc = ear_buf_addf(&sql, " LIMIT %lld OFFSET %lld",
                          f->limit > 0 ? (long long)f->limit : -1LL,
                          (long long)f->offset);
    if (rc == 0)
        rc = prepare_bind(st, &sql, now, binds, nb, out, err);
    if (rc == EAR_ENOMEM || rc == EAR_ETOOBIG)
        ear_error_set(err, rc, NULL, 0, 0, "building queue query: %s",
                      ear_strerror(rc));
    ear_buf_dispose(&sql);
    return rc;
}

/* ------------------------------------------------------------ add */

static char *categories_json(const struct ear_verdict *v)
{
    json_t *a = json_array();
    char *s = NULL;

    if (!a)
        return NULL;
    for (size_t i = 0; i < v->ncategories; i++) {
        if (!v->categories[i])
            continue;
        if (json_array_append_new(a, ear_output__json_str(v->categories[i]))
            < 0)
            goto out;
    }
    s = json_dumps(a, JSON_COMPACT);
out:
    json_decref(a);
    return s;
}

static int find_mention(struct ear_store *st, int64_t mention_id,
                        int64_t *queue_id, struct ear_error *err)
{
    static const char sql[] = "SELECT id FROM queue WHERE mention_id = ?1";
    sqlite3_stmt *stmt = NULL;
    int rc;

    rc = ear_store_stmt(st, &stmt, sql, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)mention_id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *queue_id = (int64_t)sqlite3_column_int64(stmt, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = EAR_ENOTFOUND;
    } else {
        rc = db_err(st, err, "look up queue item");
    }
    sqlite3_reset(stmt);
    return rc;
}

int ear_queue_find_mention(struct ear_store *st, int64_t mention_id,
                           int64_t *queue_id, struct ear_error *err)
{
    int rc = find_mention(st, mention_id, queue_id, err);

    if (rc == EAR_ENOTFOUND)
        return ear_error_set(err, rc, NULL, 0, 0,
                             "mention %lld is not queued",
                             (long long)mention_id);
    return rc;
}

static const char sql_queue_insert[] =
    "INSERT INTO queue (mention_id, state, severity, category,"
    " categories, team, owner, brand, source, lang, rating, reach,"
    " created, due, updated, happened)"
    " VALUES (?1, 'new', ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10,"
    " ?11, ?12, ?11, ?13)";

/* The outbox rows for a new queue item: one per sink that wants it, in the
 * caller's transaction. */
static int queue_alerts(struct ear_store *st,
                        const struct ear_output__sink *sinks, size_t nsinks,
                        const struct ear_mention *m,
                        const struct ear_verdict *v, int64_t qid,
                        const char *team, const char *brand, int64_t now,
                        int64_t due, struct ear_buf *payload,
                        struct ear_error *err)
{
    struct ear_output__subject subj;
    struct ear_buf key;
    int rc;

    if (nsinks == 0)
        return 0;
    memset(&subj, 0, sizeof subj);
    subj.severity = v->severity;
    subj.cats = (const char *const *)v->categories;
    subj.ncats = v->ncategories;
    subj.team = team;
    subj.brand = brand;
    if (!ear_output__sinks_want(sinks, nsinks, &subj))
        return 0;
    ear_buf_init(&key, 1 << 16);
    payload->len = 0;
    if (payload->ptr)
        payload->ptr[0] = '\0';
    rc = ear_output__mention_payload(payload, m, v, qid, team, brand, now,
                                     due);
    if (rc == 0)
        rc = ear_buf_addf(&key, "%s\x1f%s", m->source, m->key ? m->key : "");
    if (rc < 0) {
        rc = ear_error_set(err, rc, NULL, 0, 0, "alert for mention %lld: %s",
                           (long long)m->id, ear_strerror(rc));
        goto out;
    }
    rc = ear_output__outbox_add_text(st, sinks, nsinks, &subj, "mention",
                                     qid, 0, ear_buf_str(payload),
                                     payload->len, ear_buf_str(&key), now,
                                     err);
out:
    ear_buf_dispose(&key);
    return rc;
}

/* What queueing needs besides the mention, loaded once for many. */
struct ear_queue_batch {
    struct ear_store *st;
    const struct ear_config *cfg;
    struct ear_output__sink *sinks;
    size_t nsinks;
    struct ear_buf payload; /* reused for every alert */
};

/* Queues one mention in the caller's transaction; on failure it may be
 * partly written (the caller rolls back). 1 = queued now, 0 = was queued
 * already. */
static int queue_one(struct ear_queue_batch *b, const struct ear_mention *m,
                     const struct ear_verdict *v, int64_t now,
                     int64_t *queue_id, struct ear_error *err)
{
    struct ear_store *st = b->st;
    const struct ear_config *cfg = b->cfg;
    sqlite3_stmt *stmt = NULL;
    char *cats = NULL;
    const char *team;
    const char *brand;
    const char *lang = NULL;
    int64_t qid = 0;
    int64_t due;
    int step;
    int rc;
    char note[200];
    char when[32];

    if (!m || !v || m->id <= 0 || !m->source) {
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "queue: the mention must be stored first "
                             "(it has no id or no source)");
    }
    rc = find_mention(st, m->id, &qid, err);
    if (rc == 0) {
        *queue_id = qid;
        return 0; /* already queued: nothing changes */
    }
    if (rc != EAR_ENOTFOUND)
        return rc;

    cats = categories_json(v);
    if (!cats)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    team = ear_route_team(cfg, m, v);
    brand = ear_output__brand(cfg, m, v);
    due = now + ear_sla_seconds(cfg, v->severity);
    if (m->lang[0])
        lang = m->lang;
    else if (v->lang[0])
        lang = v->lang;

    rc = ear_store_stmt(st, &stmt, sql_queue_insert, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)m->id);
    sqlite3_bind_int(stmt, 2, (int)v->severity);
    if (v->ncategories > 0 && v->categories[0])
        sqlite3_bind_text(stmt, 3, v->categories[0], -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 4, cats, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 5, team, -1, SQLITE_TRANSIENT);
    if (brand)
        sqlite3_bind_text(stmt, 6, brand, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 7, m->source, -1, SQLITE_TRANSIENT);
    if (lang)
        sqlite3_bind_text(stmt, 8, lang, -1, SQLITE_TRANSIENT);
    if (m->rating > 0)
        sqlite3_bind_double(stmt, 9, m->rating);
    if (m->reach >= 0)
        sqlite3_bind_int64(stmt, 10, (sqlite3_int64)m->reach);
    sqlite3_bind_int64(stmt, 11, (sqlite3_int64)now);
    sqlite3_bind_int64(stmt, 12, (sqlite3_int64)due);
    /* when it happened, for incident windows: published (never later than
     * now: a clock ahead of ours is not the future), else first seen */
    sqlite3_bind_int64(stmt, 13, (sqlite3_int64)(
        m->published > 0 ? (m->published < now ? m->published : now)
                         : m->first_seen > 0 ? m->first_seen : now));
    step = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "queue mention");
        goto out;
    }
    qid = (int64_t)sqlite3_last_insert_rowid(ear_store_db(st));
    snprintf(note, sizeof note, "team %s, %s, due %s", team,
             ear_severity_name(v->severity),
             ear_time_fmt(due, when, sizeof when));
    rc = ear_store_event_at(st, now, qid, m->id, "earshot", "queued", NULL,
                            "new", note, err);
    if (rc < 0)
        goto out;
    rc = queue_alerts(st, b->sinks, b->nsinks, m, v, qid, team, brand, now,
                      due, &b->payload, err);
    if (rc < 0)
        goto out;
    *queue_id = qid;
    rc = 1;
out:
    free(cats);
    return rc;
}

static void batch_init(struct ear_queue_batch *b, struct ear_store *st,
                       const struct ear_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->st = st;
    b->cfg = cfg;
    ear_buf_init(&b->payload, EAR_OUTPUT_PAYLOAD_MAX);
}

static void batch_dispose(struct ear_queue_batch *b)
{
    ear_output__sinks_free(b->sinks, b->nsinks);
    ear_buf_dispose(&b->payload);
}

int ear_queue_batch_new(struct ear_queue_batch **out, struct ear_store *st,
                        const struct ear_config *cfg, struct ear_error *err)
{
    struct ear_queue_batch *b;
    int rc;

    *out = NULL;
    if (!st)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "queue: no store");
    b = malloc(sizeof *b);
    if (!b)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    batch_init(b, st, cfg);
    rc = ear_output__sinks_load(cfg, &b->sinks, &b->nsinks, err);
    if (rc < 0) {
        batch_dispose(b);
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void ear_queue_batch_free(struct ear_queue_batch *b)
{
    if (!b)
        return;
    batch_dispose(b);
    free(b);
}

int ear_queue_batch_add(struct ear_queue_batch *b,
                        const struct ear_mention *m,
                        const struct ear_verdict *v, int64_t now,
                        int64_t *queue_id, int *is_new,
                        struct ear_error *err)
{
    int64_t qid = 0;
    int rc;

    if (is_new)
        *is_new = 0;
    if (!b)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "queue: no batch");
    if (sqlite3_get_autocommit(ear_store_db(b->st)))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "queue: a batch needs the caller's "
                             "transaction (ear_store_begin)");
    rc = queue_one(b, m, v, now, &qid, err);
    if (rc < 0)
        return rc;
    if (queue_id)
        *queue_id = qid;
    if (is_new)
        *is_new = rc;
    return 0;
}

int ear_queue_add(struct ear_store *st, const struct ear_config *cfg,
                  const struct ear_mention *m, const struct ear_verdict *v,
                  int64_t now, int64_t *queue_id, int *is_new,
                  struct ear_error *err)
{
    struct ear_queue_batch b;
    int64_t qid = 0;
    int rc;

    if (is_new)
        *is_new = 0;
    if (!st || !m || !v || m->id <= 0 || !m->source) {
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "queue: the mention must be stored first "
                             "(it has no id or no source)");
    }
    batch_init(&b, st, cfg);
    rc = ear_store_begin(st, err);
    if (rc < 0)
        goto out;
    /* the sinks only when the mention is new to the queue */
    rc = find_mention(st, m->id, &qid, err);
    if (rc == EAR_ENOTFOUND)
        rc = ear_output__sinks_load(cfg, &b.sinks, &b.nsinks, err);
    if (rc == 0 || rc == EAR_ENOTFOUND)
        rc = queue_one(&b, m, v, now, &qid, err);
    if (rc >= 0) {
        int added = rc;

        rc = ear_store_commit(st, err);
        if (rc == 0 && queue_id)
            *queue_id = qid;
        if (rc == 0 && is_new)
            *is_new = added;
    } else {
        ear_store_rollback(st);
    }
out:
    batch_dispose(&b);
    return rc;
}

/* ------------------------------------------------------------ list */

int ear_queue_list(struct ear_store *st, const struct ear_queue_filter *f,
                   int64_t now, struct ear_queue_item **items, size_t *n,
                   struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct ear_queue_item *v = NULL;
    size_t nv = 0;
    size_t cap = 0;
    int rc;
    int step;

    *items = NULL;
    *n = 0;
    if (f && (f->state ? open_state(f->state) : !f->include_closed))
        rc = prepare_open_page(st, f, now, &stmt, err);
    else
        rc = ear_output__prepare_page(st, f, now, EAR_OUTPUT_PAGE_PREFIX,
                                      EAR_OUTPUT_ITEM_ORDER, 1,
                                      EAR_OUTPUT_PAGE_OUTER, &stmt, err);
    if (rc < 0)
        return rc;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct ear_queue_item *nvv = ear_grow(v, &cap, nv, sizeof *v, 16);

        if (!nvv) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                               "out of memory");
            goto out;
        }
        v = nvv;
        if (ear_output__item_read(stmt, &v[nv]) < 0) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
        nv++;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "list queue");
        goto out;
    }
    *items = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    sqlite3_finalize(stmt);
    ear_queue_items_free(v, nv);
    return rc;
}

int ear_queue_count(struct ear_store *st, const struct ear_queue_filter *f,
                    int64_t now, size_t *n, struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    *n = 0;
    rc = ear_output__prepare_filtered(st, f, now,
                                      "SELECT count(*) FROM queue q", NULL, 0,
                                      &stmt, err);
    if (rc < 0)
        return rc;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(stmt, 0);
    else
        rc = db_err(st, err, "count queue");
    sqlite3_finalize(stmt);
    return rc;
}

/* ------------------------------------------------------------ get */

void ear_queue_events_free(struct ear_queue_event *ev, size_t n)
{
    for (size_t i = 0; ev && i < n; i++) {
        free(ev[i].actor);
        free(ev[i].kind);
        free(ev[i].from_state);
        free(ev[i].to_state);
        free(ev[i].note);
    }
    free(ev);
}

static int load_events(struct ear_store *st, int64_t id,
                       struct ear_queue_event **out, size_t *nout,
                       struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct ear_queue_event *v = NULL;
    size_t nv = 0;
    size_t cap = 0;
    int rc = 0;
    int step;

    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT id, at, actor, kind, from_state, to_state, note"
            " FROM events WHERE queue_id = ?1 ORDER BY id", -1, &stmt,
            NULL) != SQLITE_OK)
        return db_err(st, err, "read history");
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)id);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct ear_queue_event *e;
        struct ear_queue_event *nvv = ear_grow(v, &cap, nv, sizeof *v, 8);
        int oom = 0;

        if (!nvv) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                               "out of memory");
            goto out;
        }
        v = nvv;
        e = &v[nv++];
        memset(e, 0, sizeof *e);
        e->id = (int64_t)sqlite3_column_int64(stmt, 0);
        e->at = (int64_t)sqlite3_column_int64(stmt, 1);
        e->actor = ear_output__col_str(stmt, 2, &oom);
        e->kind = ear_output__col_str(stmt, 3, &oom);
        e->from_state = ear_output__col_str(stmt, 4, &oom);
        e->to_state = ear_output__col_str(stmt, 5, &oom);
        e->note = ear_output__col_str(stmt, 6, &oom);
        if (oom) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "read history");
        goto out;
    }
    *out = v;
    *nout = nv;
    v = NULL;
    nv = 0;
out:
    sqlite3_finalize(stmt);
    ear_queue_events_free(v, nv);
    return rc;
}

int ear_queue_get(struct ear_store *st, int64_t id, int64_t now,
                  struct ear_queue_item *out, struct ear_queue_event **events,
                  size_t *nevents, struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = 0;
    int step;

    memset(out, 0, sizeof *out);
    out->reach = -1;
    if (events) {
        *events = NULL;
        *nevents = 0;
    }
    if (sqlite3_prepare_v2(ear_store_db(st),
                           "SELECT " EAR_OUTPUT_ITEM_COLS EAR_OUTPUT_ITEM_FROM
                           " WHERE q.id = ?2", -1, &stmt, NULL) != SQLITE_OK)
        return db_err(st, err, "read queue item");
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)id);
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                           "no queue item #%lld", (long long)id);
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = db_err(st, err, "read queue item");
        goto out;
    }
    if (ear_output__item_read(stmt, out) < 0) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    if (events) {
        rc = load_events(st, id, events, nevents, err);
        if (rc < 0)
            ear_queue_item_dispose(out);
    }
out:
    sqlite3_finalize(stmt);
    return rc;
}

/* ------------------------------------------------------------ changes */

enum op {
    OP_ASSIGN,
    OP_RESPOND,
    OP_RESOLVE,
    OP_DISMISS,
    OP_REOPEN,
    OP_ROUTE,
    OP_NOTE
};

static const char *const op_kinds[] = {
    "assigned", "responded", "resolved", "dismissed", "reopened", "routed",
    "note"
};

/* The columns a change may touch, as loaded and as written back. */
struct row {
    int64_t mention_id;
    char *state;
    char *owner;
    char *team;
    int64_t first_response;
    int64_t resolved_at;
    char *dismiss_reason;
};

static void row_dispose(struct row *r)
{
    free(r->state);
    free(r->owner);
    free(r->team);
    free(r->dismiss_reason);
}

static int row_load(struct ear_store *st, int64_t id, struct row *r,
                    struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int oom = 0;
    int rc = 0;
    int step;

    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT mention_id, state, owner, team, first_response,"
            " resolved_at, dismiss_reason FROM queue WHERE id = ?1", -1,
            &stmt, NULL) != SQLITE_OK)
        return db_err(st, err, "read queue item");
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)id);
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                           "no queue item #%lld", (long long)id);
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = db_err(st, err, "read queue item");
        goto out;
    }
    r->mention_id = (int64_t)sqlite3_column_int64(stmt, 0);
    r->state = ear_output__col_str(stmt, 1, &oom);
    r->owner = ear_output__col_str(stmt, 2, &oom);
    r->team = ear_output__col_str(stmt, 3, &oom);
    r->first_response = col_int(stmt, 4, 0);
    r->resolved_at = col_int(stmt, 5, 0);
    r->dismiss_reason = ear_output__col_str(stmt, 6, &oom);
    if (oom || !r->state)
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
out:
    sqlite3_finalize(stmt);
    return rc;
}

static int row_store(struct ear_store *st, int64_t id, const struct row *r,
                     int64_t now, struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(ear_store_db(st),
            "UPDATE queue SET state = ?2, owner = ?3, team = ?4,"
            " first_response = ?5, resolved_at = ?6, dismiss_reason = ?7,"
            " updated = ?8 WHERE id = ?1", -1, &stmt, NULL) != SQLITE_OK)
        return db_err(st, err, "update queue item");
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)id);
    sqlite3_bind_text(stmt, 2, r->state, -1, SQLITE_TRANSIENT);
    if (r->owner)
        sqlite3_bind_text(stmt, 3, r->owner, -1, SQLITE_TRANSIENT);
    if (r->team)
        sqlite3_bind_text(stmt, 4, r->team, -1, SQLITE_TRANSIENT);
    if (r->first_response)
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)r->first_response);
    if (r->resolved_at)
        sqlite3_bind_int64(stmt, 6, (sqlite3_int64)r->resolved_at);
    if (r->dismiss_reason)
        sqlite3_bind_text(stmt, 7, r->dismiss_reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 8, (sqlite3_int64)now);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        rc = db_err(st, err, "update queue item");
    sqlite3_finalize(stmt);
    return rc;
}

static int set_state(struct row *r, const char *state)
{
    return ear_str_set(&r->state, state);
}

/* 0 when the item may take op in its current state, else EAR_ESTATE with
 * words saying why. */
static int check_transition(const struct row *r, int64_t id, enum op op,
                            struct ear_error *err)
{
    const char *s = r->state;
    long long lid = (long long)id;

    switch (op) {
    case OP_ASSIGN:
    case OP_ROUTE:
    case OP_RESPOND:
    case OP_RESOLVE:
    case OP_DISMISS:
        if (op == OP_RESOLVE && strcmp(s, "resolved") == 0)
            return ear_error_set(err, EAR_ESTATE, NULL, 0, 0,
                                 "#%lld is already resolved", lid);
        if (op == OP_DISMISS && strcmp(s, "dismissed") == 0)
            return ear_error_set(err, EAR_ESTATE, NULL, 0, 0,
                                 "#%lld is already dismissed", lid);
        if (state_closed(s))
            return ear_error_set(err, EAR_ESTATE, NULL, 0, 0,
                                 "#%lld is %s: reopen it first", lid, s);
        if (op == OP_RESPOND && strcmp(s, "responded") == 0)
            return ear_error_set(err, EAR_ESTATE, NULL, 0, 0,
                                 "#%lld has already been responded to "
                                 "(add a note, or resolve it)", lid);
        return 0;
    case OP_REOPEN:
        if (!state_closed(s))
            return ear_error_set(err, EAR_ESTATE, NULL, 0, 0,
                                 "#%lld is %s, not resolved or dismissed: "
                                 "nothing to reopen", lid, s);
        return 0;
    case OP_NOTE:
        return 0;
    }
    return ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "unknown change");
}

/* "detail" or "detail: note" or "note" or NULL, new. */
static int compose_note(char **out, const char *detail, const char *note)
{
    struct ear_buf b;
    int rc = 0;

    *out = NULL;
    if (note && !note[0])
        note = NULL;
    if (!detail && !note)
        return 0;
    ear_buf_init(&b, 1 << 20);
    if (detail)
        rc = ear_buf_adds(&b, detail);
    if (rc == 0 && detail && note)
        rc = ear_buf_adds(&b, ": ");
    if (rc == 0 && note)
        rc = ear_buf_adds(&b, note);
    if (rc == 0) {
        *out = ear_buf_take(&b, NULL);
        if (!*out)
            rc = EAR_ENOMEM;
    }
    ear_buf_dispose(&b);
    return rc;
}

static int change(struct ear_store *st, int64_t id, enum op op,
                  const char *arg, const char *actor, const char *note,
                  int64_t now, struct ear_error *err)
{
    struct row r = {0};
    char *old_state = NULL;
    char *event_note = NULL;
    char detail[300];
    const char *det = NULL;
    int wrote = 0;
    int rc;

    if (!actor || !actor[0])
        actor = "unknown";
    if ((op == OP_ASSIGN || op == OP_ROUTE) && (!arg || !arg[0]))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "%s needs a name",
                             op == OP_ASSIGN ? "assign" : "route");
    if (op == OP_DISMISS && !ear_dismiss_reason_valid(arg))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "unknown dismiss reason '%s' (expected "
                             "not-a-complaint, duplicate, spam or "
                             "not-about-us)", arg ? arg : "");
    if (op == OP_NOTE && (!note || !note[0]))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "a note needs some text");

    rc = ear_store_begin(st, err);
    if (rc < 0)
        return rc;
    rc = row_load(st, id, &r, err);
    if (rc < 0)
        goto out;
    rc = check_transition(&r, id, op, err);
    if (rc < 0)
        goto out;
    old_state = ear_strdup(r.state);
    if (!old_state) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }

    switch (op) {
    case OP_ASSIGN:
        if (strcmp(r.state, "new") == 0)
            rc = set_state(&r, "assigned");
        if (rc == 0)
            rc = ear_str_set(&r.owner, arg);
        det = arg;
        break;
    case OP_RESPOND:
        rc = set_state(&r, "responded");
        if (!r.first_response)
            r.first_response = now;
        if (rc == 0 && !r.owner)
            rc = ear_str_set(&r.owner, actor);
        break;
    case OP_RESOLVE:
        rc = set_state(&r, "resolved");
        r.resolved_at = now;
        if (!r.first_response)
            r.first_response = now;
        break;
    case OP_DISMISS:
        rc = set_state(&r, "dismissed");
        if (rc == 0)
            rc = ear_str_set(&r.dismiss_reason, arg);
        det = arg;
        break;
    case OP_REOPEN:
        rc = set_state(&r, r.owner ? "assigned" : "new");
        r.resolved_at = 0;
        free(r.dismiss_reason);
        r.dismiss_reason = NULL;
        break;
    case OP_ROUTE:
        snprintf(detail, sizeof detail, "%s -> %s",
                 r.team ? r.team : "(none)", arg);
        det = detail;
        rc = ear_str_set(&r.team, arg);
        break;
    case OP_NOTE:
        break;
    }
    if (rc == 0)
        rc = compose_note(&event_note, det, note);
    if (rc < 0) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    wrote = 1;
    rc = row_store(st, id, &r, now, err);
    if (rc < 0)
        goto out;
    rc = ear_store_event(st, id, r.mention_id, actor, op_kinds[op],
                         old_state, r.state, event_note, err);
out:
    /* A refusal wrote nothing: end our part of the transaction normally,
     * so that a caller's enclosing transaction is not rolled back with
     * it. */
    if (rc == 0)
        rc = ear_store_commit(st, err);
    else if (!wrote)
        ear_store_commit(st, NULL);
    else
        ear_store_rollback(st);
    free(old_state);
    free(event_note);
    row_dispose(&r);
    return rc;
}

int ear_queue_assign(struct ear_store *st, int64_t id, const char *owner,
                     const char *actor, const char *note, int64_t now,
                     struct ear_error *err)
{
    return change(st, id, OP_ASSIGN, owner, actor, note, now, err);
}

int ear_queue_respond(struct ear_store *st, int64_t id, const char *actor,
                      const char *note, int64_t now, struct ear_error *err)
{
    return change(st, id, OP_RESPOND, NULL, actor, note, now, err);
}

int ear_queue_resolve(struct ear_store *st, int64_t id, const char *actor,
                      const char *note, int64_t now, struct ear_error *err)
{
    return change(st, id, OP_RESOLVE, NULL, actor, note, now, err);
}

int ear_queue_dismiss(struct ear_store *st, int64_t id, const char *reason,
                      const char *actor, const char *note, int64_t now,
                      struct ear_error *err)
{
    return change(st, id, OP_DISMISS, reason, actor, note, now, err);
}

int ear_queue_reopen(struct ear_store *st, int64_t id, const char *actor,
                     const char *note, int64_t now, struct ear_error *err)
{
    return change(st, id, OP_REOPEN, NULL, actor, note, now, err);
}

int ear_queue_route(struct ear_store *st, int64_t id, const char *team,
                    const char *actor, const char *note, int64_t now,
                    struct ear_error *err)
{
    return change(st, id, OP_ROUTE, team, actor, note, now, err);
}

int ear_queue_note(struct ear_store *st, int64_t id, const char *actor,
                   const char *note, int64_t now, struct ear_error *err)
{
    return change(st, id, OP_NOTE, NULL, actor, note, now, err);
}

/* ------------------------------------------------------------ JSON */

json_t *ear_queue_item_json(const struct ear_queue_item *it)
{
    json_t *o = json_object();
    json_t *cats = json_array();
    int rc = 0;

    if (!o || !cats)
        goto fail;
    for (size_t i = 0; i < it->ncategories; i++)
        if (json_array_append_new(cats,
                                  ear_output__json_str(it->categories[i])) < 0)
            goto fail;
    rc |= ear_output__json_set(o, "id", json_integer(it->id));
    rc |= ear_output__json_set(o, "mention_id", json_integer(it->mention_id));
    rc |= ear_output__json_set(o, "state", ear_output__json_str(it->state));
    rc |= ear_output__json_set(o, "severity",
                               json_string(ear_severity_name(it->severity)));
    rc |= ear_output__json_set(o, "overdue", json_boolean(it->overdue));
    rc |= ear_output__json_set(o, "team", ear_output__json_str(it->team));
    rc |= ear_output__json_set(o, "owner", ear_output__json_str(it->owner));
    rc |= ear_output__json_set(o, "category",
                               ear_output__json_str(it->category));
    rc |= ear_output__json_set(o, "categories", cats);
    cats = NULL;
    rc |= ear_output__json_set(o, "brand", ear_output__json_str(it->brand));
    rc |= ear_output__json_set(o, "source", ear_output__json_str(it->source));
    rc |= ear_output__json_set(o, "lang", ear_output__json_str(it->lang));
    rc |= ear_output__json_set(o, "rating", it->rating > 0
                               ? json_real(it->rating) : json_null());
    rc |= ear_output__json_set(o, "reach", it->reach >= 0
                               ? json_integer(it->reach) : json_null());
    rc |= ear_output__json_set(o, "created",
                               ear_output__json_time(it->created));
    rc |= ear_output__json_set(o, "due", ear_output__json_time(it->due));
    rc |= ear_output__json_set(o, "first_response",
                               ear_output__json_time(it->first_response));
    rc |= ear_output__json_set(o, "resolved_at",
                               ear_output__json_time(it->resolved_at));
    rc |= ear_output__json_set(o, "updated",
                               ear_output__json_time(it->updated));
    rc |= ear_output__json_set(o, "dismiss_reason",
                               ear_output__json_str(it->dismiss_reason));
    rc |= ear_output__json_set(o, "author", ear_output__json_str(it->author));
    rc |= ear_output__json_set(o, "url", ear_output__json_str(it->url));
    rc |= ear_output__json_set(o, "title", ear_output__json_str(it->title));
    rc |= ear_output__json_set(o, "text", ear_output__json_str(it->text));
    if (rc != 0)
        goto fail;
    return o;
fail:
    json_decref(cats);
    json_decref(o);
    return NULL;
}

json_t *ear_queue_event_json(const struct ear_queue_event *ev)
{
    json_t *o = json_object();
    int rc = 0;

    if (!o)
        return NULL;
    rc |= ear_output__json_set(o, "id", json_integer(ev->id));
    rc |= ear_output__json_set(o, "at", ear_output__json_time(ev->at));
    rc |= ear_output__json_set(o, "actor", ear_output__json_str(ev->actor));
    rc |= ear_output__json_set(o, "kind", ear_output__json_str(ev->kind));
    rc |= ear_output__json_set(o, "from",
                               ear_output__json_str(ev->from_state));
    rc |= ear_output__json_set(o, "to", ear_output__json_str(ev->to_state));
    rc |= ear_output__json_set(o, "note", ear_output__json_str(ev->note));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------ export */

static int csv_cell(struct ear_buf *b, const char *s, int first)
{
    int rc = 0;

    if (!first)
        rc = ear_buf_addc(b, ',');
    if (rc < 0 || !s)
        return rc;
    rc = ear_buf_addc(b, '"');
    /* A cell a spreadsheet would evaluate as a formula gets a quote. */
    if (rc == 0 && strchr("=+-@\t\r", s[0]) && s[0])
        rc = ear_buf_addc(b, '\'');
    for (; *s && rc == 0; s++) {
        if (*s == '"')
            rc = ear_buf_adds(b, "\"\"");
        else
            rc = ear_buf_addc(b, *s);
    }
    if (rc == 0)
        rc = ear_buf_addc(b, '"');
    return rc;
}

static int csv_row(struct ear_buf *b, const struct ear_queue_item *it)
{
    char t[5][32];
    char num[3][32];
    struct ear_buf cats;
    int rc = 0;

    ear_buf_init(&cats, 4096);
    for (size_t i = 0; i < it->ncategories && rc == 0; i++)
        rc = ear_buf_addf(&cats, "%s%s", i ? ";" : "", it->categories[i]);
    if (rc < 0)
        return rc;
    snprintf(num[0], sizeof num[0], "%lld", (long long)it->id);
    snprintf(num[1], sizeof num[1], "%g", it->rating);
    snprintf(num[2], sizeof num[2], "%lld", (long long)it->reach);
    ear_time_fmt(it->created, t[0], sizeof t[0]);
    ear_time_fmt(it->due, t[1], sizeof t[1]);
    ear_time_fmt(it->first_response, t[2], sizeof t[2]);
    ear_time_fmt(it->resolved_at, t[3], sizeof t[3]);
    ear_time_fmt(it->updated, t[4], sizeof t[4]);
    rc = csv_cell(b, num[0], 1);
    if (rc == 0)
        rc = csv_cell(b, ear_severity_name(it->severity), 0);
    if (rc == 0)
        rc = csv_cell(b, it->state, 0);
    if (rc == 0)
        rc = csv_cell(b, it->overdue ? "yes" : "no", 0);
    if (rc == 0)
        rc = csv_cell(b, it->team, 0);
    if (rc == 0)
        rc = csv_cell(b, it->owner, 0);
    if (rc == 0)
        rc = csv_cell(b, ear_buf_str(&cats), 0);
    if (rc == 0)
        rc = csv_cell(b, it->brand, 0);
    if (rc == 0)
        rc = csv_cell(b, it->source, 0);
    if (rc == 0)
        rc = csv_cell(b, it->lang, 0);
    if (rc == 0)
        rc = csv_cell(b, it->rating > 0 ? num[1] : NULL, 0);
    if (rc == 0)
        rc = csv_cell(b, it->reach >= 0 ? num[2] : NULL, 0);
    if (rc == 0)
        rc = csv_cell(b, t[0], 0);
    if (rc == 0)
        rc = csv_cell(b, it->due ? t[1] : NULL, 0);
    if (rc == 0)
        rc = csv_cell(b, it->first_response ? t[2] : NULL, 0);
    if (rc == 0)
        rc = csv_cell(b, it->resolved_at ? t[3] : NULL, 0);
    if (rc == 0)
        rc = csv_cell(b, t[4], 0);
    if (rc == 0)
        rc = csv_cell(b, it->dismiss_reason, 0);
    if (rc == 0)
        rc = csv_cell(b, it->author, 0);
    if (rc == 0)
        rc = csv_cell(b, it->url, 0);
    if (rc == 0)
        rc = csv_cell(b, it->title, 0);
    if (rc == 0)
        rc = csv_cell(b, it->text, 0);
    if (rc == 0)
        rc = ear_buf_adds(b, "\r\n");
    ear_buf_dispose(&cats);
    return rc;
}

static const char csv_header[] =
    "id,severity,state,overdue,team,owner,categories,brand,source,lang,"
    "rating,reach,created,due,first_response,resolved_at,updated,"
    "dismiss_reason,author,url,title,text\r\n";

int ear_queue_export(struct ear_store *st, const struct ear_queue_filter *f,
                     int64_t now, const char *format, ear_write_fn write,
                     void *payload, struct ear_error *err)
{
    sqlite3_stmt *stmt = NULL;
    struct ear_buf b;
    int csv;
    int rc;
    int step;

    if (!format || (strcmp(format, "csv") != 0 &&
                    strcmp(format, "jsonl") != 0))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "unknown export format '%s' (expected csv or "
                             "jsonl)", format ? format : "");
    csv = strcmp(format, "csv") == 0;
    ear_buf_init(&b, EAR_BUF_MAX_DEFAULT);
    rc = ear_output__prepare_page(st, f, now, EAR_OUTPUT_PAGE_PREFIX,
                                  EAR_OUTPUT_ITEM_ORDER, 1,
                                  EAR_OUTPUT_PAGE_OUTER, &stmt, err);
    if (rc < 0)
        return rc;
    if (csv) {
        rc = write(csv_header, sizeof csv_header - 1, payload);
        if (rc < 0) {
            ear_error_set(err, rc, NULL, 0, 0, "export: write failed: %s",
                          ear_strerror(rc));
            goto out;
        }
    }
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct ear_queue_item it;

        if (ear_output__item_read(stmt, &it) < 0) {
            rc = EAR_ENOMEM;
            goto out;
        }
        ear_buf_reset(&b);
        if (csv) {
            rc = csv_row(&b, &it);
        } else {
            json_t *j = ear_queue_item_json(&it);
            char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

            rc = s ? ear_buf_adds(&b, s) : EAR_ENOMEM;
            if (rc == 0)
                rc = ear_buf_addc(&b, '\n');
            free(s);
            json_decref(j);
        }
        ear_queue_item_dispose(&it);
        if (rc < 0)
            goto out;
        rc = write(b.ptr, b.len, payload);
        if (rc < 0) {
            ear_error_set(err, rc, NULL, 0, 0, "export: write failed: %s",
                          ear_strerror(rc));
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        rc = db_err(st, err, "export queue");
out:
    if (rc == EAR_ENOMEM || rc == EAR_ETOOBIG)
        ear_error_set(err, rc, NULL, 0, 0, "export: %s", ear_strerror(rc));
    sqlite3_finalize(stmt);
    ear_buf_dispose(&b);
    return rc;
}
