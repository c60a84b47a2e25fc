/*
 * The store: one SQLite file holding sources' polling state, mentions,
 * verdicts, the triage queue and the event log.
 *
 * Opened in WAL mode with a busy timeout, so `earshot watch` can write
 * while `earshot queue list` reads. The schema is versioned with
 * PRAGMA user_version and moved forward by store_schema.h's migrations,
 * each in its own transaction. Transactions nest by depth: callers may
 * wrap several writes in one ear_store_begin/commit and the inner calls
 * join it.
 */
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <jansson.h>
#include "core/core.h"
#include "core/store_schema.h"

#define STMT_CACHE 48

struct ear_store {
    sqlite3 *db;
    char *path;
    int depth; /* transaction nesting: 1 = BEGIN, > 1 = SAVEPOINTs */
    struct {
        const char *key;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
    size_t ncache;
    sqlite3_stmt *mention_by_key;
    sqlite3_stmt *mention_by_url;
    sqlite3_stmt *mention_insert;
    sqlite3_stmt *mention_insert_new; /* insert unless stored, one step */
    sqlite3_stmt *verdict_put;
};

int ear_store_error(struct ear_store *st, struct ear_error *err,
                    const char *what)
{
    int code = sqlite3_errcode(st->db);
    int rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? EAR_EBUSY
                                                            : EAR_EDB;

    if (rc == EAR_EBUSY)
        return ear_error_set(err, rc, st->path, 0, 0,
                             "%s: the store is locked by another process "
                             "(%s)",
                             what, sqlite3_errmsg(st->db));
    return ear_error_set(err, rc, st->path, 0, 0, "%s: %s", what,
                         sqlite3_errmsg(st->db));
}

static int exec(struct ear_store *st, const char *sql, struct ear_error *err,
                const char *what)
{
    char *msg = NULL;
    int rc;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    rc = ear_store_error(st, err, what);
    sqlite3_free(msg);
    return rc;
}

static int migrate(struct ear_store *st, struct ear_error *err)
{
    sqlite3_stmt *s = NULL;
    int version = 0, rc, i;
    char sql[64];

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK)
        return ear_store_error(st, err, "read schema version");
    if (sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version > EAR_SCHEMA_VERSION)
        return ear_error_set(err, EAR_EDB, st->path, 0, 0,
                             "store schema version %d is newer than this "
                             "earshot understands (%d); upgrade earshot",
                             version, EAR_SCHEMA_VERSION);
    for (i = version; i < EAR_SCHEMA_VERSION; i++) {
        rc = ear_store_begin(st, err);
        if (rc < 0)
            return rc;
        rc = exec(st, ear_migrations[i], err, "migrate schema");
        if (rc == 0) {
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
            rc = exec(st, sql, err, "set schema version");
        }
        if (rc < 0) {
            ear_store_rollback(st);
            return rc;
        }
        rc = ear_store_commit(st, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int prepare(struct ear_store *st, sqlite3_stmt **s, const char *sql,
                   struct ear_error *err)
{
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
                           NULL) != SQLITE_OK)
        return ear_store_error(st, err, "prepare statement");
    return 0;
}

int ear_store_open(struct ear_store **out, const char *path,
                   struct ear_error *err)
{
    struct ear_store *st;
    int rc;

    *out = NULL;
    st = calloc(1, sizeof *st);
    if (!st)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    st->path = strdup(path);
    if (!st->path) {
        free(st);
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    }
    rc = ear_mkdir_parents(path, err);
    if (rc < 0)
        goto fail;
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = ear_error_set(err, EAR_EDB, path, 0, 0, "cannot open store: %s",
                           st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_extended_result_codes(st->db, 0);
    /* A new store gets 16 KiB pages (SQLite's default is 4 KiB): a
     * mention row is one to two KiB, most of a 4 KiB page, so a first
     * poll of 2,000 feeds wrote a 215 MB file through 190,000 pwrite
     * calls, against 160 MB and 35,000 with 16 KiB pages: a third less
     * system time, the same user time, the poll's wall time down by about
     * a third (docs/BENCHMARKS.md, Polling). It only takes effect
     * before the file has its first table; an existing store keeps its
     * page size. journal_mode answers a row; exec ignores it. A file that
     * is not a database fails here with "file is not a database". */
    if ((rc = exec(st, "PRAGMA page_size = 16384", err, "open store")) < 0 ||
        (rc = exec(st, "PRAGMA journal_mode = WAL", err, "open store")) < 0 ||
        (rc = exec(st, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                       " PRAGMA temp_store = MEMORY",
                   err, "open store")) < 0)
        goto fail;
    rc = migrate(st, err);
    if (rc < 0)
        goto fail;
    if ((rc = prepare(st, &st->mention_by_key,
                      "SELECT id FROM mentions WHERE source = ?1 AND key = ?2",
                      err)) < 0 ||
        (rc = prepare(st, &st->mention_by_url,
                      "SELECT m.id, v.mention_id IS NULL FROM mentions m "
                      "LEFT JOIN verdicts v ON v.mention_id = m.id "
                      "WHERE m.url = ?1 LIMIT 1",
                      err)) < 0 ||
        (rc = prepare(st, &st->mention_insert,
                      "INSERT INTO mentions (source, key, guid, url, author, "
                      "title, text, rating, reach, published, updated, "
                      "first_seen, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                      "?8, ?9, ?10, ?11, ?12, ?13)",
                      err)) < 0 ||
        /* the same, unless (source, key) is stored: the check the
         * insert makes anyway, instead of a lookup before it (not an
         * INSERT ... SELECT with the url check: that reads the table it
         * writes, so SQLite copies each row through a temporary table) */
        (rc = prepare(st, &st->mention_insert_new,
                      "INSERT INTO mentions (source, key, guid, url, author, "
                      "title, text, rating, reach, published, updated, "
                      "first_seen, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                      "?8, ?9, ?10, ?11, ?12, ?13) "
                      "ON CONFLICT (source, key) DO NOTHING",
                      err)) < 0 ||
        (rc = prepare(st, &st->verdict_put,
                      "INSERT OR REPLACE INTO verdicts (mention_id, flag, "
                      "score, severity, categories, matches, brand, team, "
                      "lang, explain, analyzed_at) VALUES (?1, ?2, ?3, ?4, "
                      "?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                      err)) < 0)
        goto fail;
    *out = st;
    return 0;
fail:
    ear_store_close(st);
    return rc;
}

void ear_store_close(struct ear_store *st)
{
    size_t i;

    if (!st)
        return;
    for (i = 0; i < st->ncache; i++)
        sqlite3_finalize(st->cache[i].stmt);
    sqlite3_finalize(st->mention_by_key);
    sqlite3_finalize(st->mention_by_url);
    sqlite3_finalize(st->mention_insert);
    sqlite3_finalize(st->mention_insert_new);
    sqlite3_finalize(st->verdict_put);
    if (st->db)
        sqlite3_close_v2(st->db);
    free(st->path);
    free(st);
}

struct sqlite3 *ear_store_db(struct ear_store *st)
{
    return st->db;
}

const char *ear_store_path(const struct ear_store *st)
{
    return st->path;
}

int ear_store_schema_version(struct ear_store *st)
{
    sqlite3_stmt *s = NULL;
    int v = -1;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The savepoints of the first nesting levels, run as cached statements
 * (a poll opens and releases one per source); deeper ones are parsed at
 * each use. */
static const char *const savepoint_sql[] = {
    NULL, "SAVEPOINT ear_1", "SAVEPOINT ear_2", "SAVEPOINT ear_3"};
static const char *const release_sql[] = {
    NULL, "RELEASE ear_1", "RELEASE ear_2", "RELEASE ear_3"};
#define CACHED_LEVELS 4

/* Runs a statement that returns no rows from the statement cache; sql
 * must be static (the cache keys on its address). */
static int exec_cached(struct ear_store *st, const char *sql,
                       struct ear_error *err, const char *what)
{
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(st, &q, sql, err);
    if (rc < 0)
        return rc;
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(st, err, what);
    sqlite3_reset(q);
    return rc;
}

/* The outermost level is a real transaction (BEGIN IMMEDIATE: take the
 * write lock now, not half-way through); inner levels are savepoints, so an
 * inner rollback undoes only its own writes and the outer transaction goes
 * on. */
int ear_store_begin(struct ear_store *st, struct ear_error *err)
{
    char sql[48];
    int rc;

    if (st->depth == 0) {
        rc = exec(st, "BEGIN IMMEDIATE", err, "begin transaction");
    } else if (st->depth < CACHED_LEVELS) {
        rc = exec_cached(st, savepoint_sql[st->depth], err,
                         "begin nested transaction");
    } else {
        snprintf(sql, sizeof sql, "SAVEPOINT ear_%d", st->depth);
        rc = exec(st, sql, err, "begin nested transaction");
    }
    if (rc == 0)
        st->depth++;
    return rc;
}

int ear_store_commit(struct ear_store *st, struct ear_error *err)
{
    char sql[48];
    int rc;

    if (st->depth == 0)
        return 0;
    if (st->depth > 1) {
        if (st->depth - 1 < CACHED_LEVELS) {
            rc = exec_cached(st, release_sql[st->depth - 1], err,
                             "commit nested transaction");
        } else {
            snprintf(sql, sizeof sql, "RELEASE ear_%d", st->depth - 1);
            rc = exec(st, sql, err, "commit nested transaction");
        }
        if (rc == 0)
            st->depth--;
        return rc;
    }
    rc = exec(st, "COMMIT", err, "commit");
    if (rc < 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->depth = 0;
    return rc;
}

void ear_store_rollback(struct ear_store *st)
{
    char sql[80];

    if (st->depth == 0)
        return;
    if (st->depth > 1) {
        snprintf(sql, sizeof sql, "ROLLBACK TO ear_%d; RELEASE ear_%d",
                 st->depth - 1, st->depth - 1);
        sqlite3_exec(st->db, sql, NULL, NULL, NULL);
        st->depth--;
        return;
    }
    st->depth = 0;
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int ear_store_stmt(struct ear_store *st, sqlite3_stmt **out, const char *sql,
                   struct ear_error *err)
{
    size_t i;
    sqlite3_stmt *s = NULL;

    for (i = 0; i < st->ncache; i++)
        if (st->cache[i].key == sql) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            *out = st->cache[i].stmt;
            return 0;
        }
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
                           NULL) != SQLITE_OK)
        return ear_store_error(st, err, "prepare statement");
    if (st->ncache == STMT_CACHE) {
        /* Full: the oldest entry makes room (callers never hold a
         * statement across another ear_store_stmt call for long). */
        sqlite3_finalize(st->cache[0].stmt);
        memmove(&st->cache[0], &st->cache[1],
                (STMT_CACHE - 1) * sizeof st->cache[0]);
        st->ncache--;
    }
    st->cache[st->ncache].key = sql;
    st->cache[st->ncache].stmt = s;
    st->ncache++;
    *out = s;
    return 0;
}

/* ------------------------------------------------------------------ binds */

/* Text is bound without a copy (SQLITE_STATIC): every statement here is
 * reset right after its step, while the strings are still the caller's,
 * and binds every parameter again at its next use (or is cleared by
 * ear_store_stmt), so SQLite never reads a pointer after the step it was
 * bound for. */
static void bind_static(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, int64_t t)
{
    if (t)
        sqlite3_bind_int64(s, i, t);
    else
        sqlite3_bind_null(s, i);
}

static int col_text(char **dst, sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    return ear_str_set(dst, (const char *)v);
}

/* ------------------------------------------------------------------ sources */

void ear_source_state_init(struct ear_source_state *s)
{
    memset(s, 0, sizeof *s);
}

void ear_source_state_dispose(struct ear_source_state *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->etag);
    free(s->last_modified);
    free(s->last_status);
    free(s->last_error);
    ear_source_state_init(s);
}

int ear_store_source_get(struct ear_store *st, const char *name,
                         struct ear_source_state *s, struct ear_error *err)
{
    static const char sql[] =
        "SELECT etag, last_modified, last_poll, last_success, last_new, "
        "next_due, failures, last_status, last_error, items_total, rating, "
        "rating_count, rating_at FROM sources WHERE name = ?1";
    sqlite3_stmt *q = NULL;
    int rc, step;

    ear_source_state_init(s);
    if (ear_str_set(&s->name, name) < 0)
        return EAR_ENOMEM;
    rc = ear_store_stmt(st, &q, sql, err);
    if (rc < 0)
        return rc;
    bind_static(q, 1, s->name);
    step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        rc = EAR_ENOTFOUND;
    } else if (step != SQLITE_ROW) {
        rc = ear_store_error(st, err, "read source state");
    } else {
        rc = 0;
        if (col_text(&s->etag, q, 0) < 0 ||
            col_text(&s->last_modified, q, 1) < 0 ||
            col_text(&s->last_status, q, 7) < 0 ||
            col_text(&s->last_error, q, 8) < 0)
            rc = EAR_ENOMEM;
        s->last_poll = sqlite3_column_int64(q, 2);
        s->last_success = sqlite3_column_int64(q, 3);
        s->last_new = sqlite3_column_int64(q, 4);
        s->next_due = sqlite3_column_int64(q, 5);
        s->failures = sqlite3_column_int(q, 6);
        s->items_total = sqlite3_column_int64(q, 9);
        s->rating = sqlite3_column_double(q, 10);
        s->rating_count = sqlite3_column_int64(q, 11);
        s->rating_at = sqlite3_column_int64(q, 12);
    }
    sqlite3_reset(q); /* ends the read */
    return rc;
}

int ear_store_source_put(struct ear_store *st,
                         const struct ear_source_state *s,
                         struct ear_error *err)
{
    static const char sql[] =
        "INSERT INTO sources (name, etag, last_modified, last_poll, "
        "last_success, last_new, next_due, failures, last_status, "
        "last_error, items_total, rating, rating_count, rating_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14) ON CONFLICT(name) DO UPDATE SET etag = ?2, "
        "last_modified = ?3, last_poll = ?4, last_success = ?5, "
        "last_new = ?6, next_due = ?7, failures = ?8, last_status = ?9, "
        "last_error = ?10, items_total = ?11, rating = ?12, "
        "rating_count = ?13, rating_at = ?14";
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(st, &q, sql, err);
    if (rc < 0)
        return rc;
    bind_static(q, 1, s->name);
    bind_static(q, 2, s->etag);
    bind_static(q, 3, s->last_modified);
    sqlite3_bind_int64(q, 4, s->last_poll);
    sqlite3_bind_int64(q, 5, s->last_success);
    sqlite3_bind_int64(q, 6, s->last_new);
    sqlite3_bind_int64(q, 7, s->next_due);
    sqlite3_bind_int(q, 8, s->failures);
    bind_static(q, 9, s->last_status);
    bind_static(q, 10, s->last_error);
    sqlite3_bind_int64(q, 11, s->items_total);
    if (s->rating > 0)
        sqlite3_bind_double(q, 12, s->rating);
    else
        sqlite3_bind_null(q, 12);
    sqlite3_bind_int64(q, 13, s->rating_count);
    sqlite3_bind_int64(q, 14, s->rating_at);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(st, err, "save source state");
    sqlite3_reset(q);
    return rc;
}

/* ------------------------------------------------------------------ mentions */

/* Steps a lookup whose row is (id[, no verdict]): *id is 0 when there
 * is none. */
static int lookup_id(struct ear_store *st, sqlite3_stmt *q, int64_t *id,
                     int *unanalyzed, struct ear_error *err)
{
    int step = sqlite3_step(q);
    int rc = 0;

    *id = 0;
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        if (unanalyzed)
            *unanalyzed = sqlite3_column_int(q, 1);
    } else if (step != SQLITE_DONE) {
        rc = ear_store_error(st, err, "look up mention");
    }
    sqlite3_reset(q);
    return rc;
}

int ear_store_mention_lookup(struct ear_store *st, const char *source,
                             const struct ear_mention *m, int64_t *id,
                             enum ear_mention_fate *fate,
                             struct ear_error *err)
{
    sqlite3_stmt *q;
    int rc, unanalyzed = 0;

    *id = 0;
    *fate = EAR_MENTION_NEW;
    if (!source || !m->key)
        return ear_error_set(err, EAR_EINVAL, source, 0, 0,
                             "mention without source or key");
    q = st->mention_by_key;
    bind_static(q, 1, source);
    bind_static(q, 2, m->key);
    rc = lookup_id(st, q, id, NULL, err);
    if (rc == 0 && *id)
        *fate = EAR_MENTION_KNOWN;
    if (rc < 0 || *id || !m->url)
        return rc;
    /* The same review seen through two sources is one mention. */
    q = st->mention_by_url;
    bind_static(q, 1, m->url);
    rc = lookup_id(st, q, id, &unanalyzed, err);
    if (rc == 0 && *id)
        *fate = unanalyzed ? EAR_MENTION_UNANALYZED : EAR_MENTION_KNOWN;
    return rc;
}

static void bind_mention(sqlite3_stmt *q, const struct ear_mention *m)
{
    bind_static(q, 1, m->source);
    bind_static(q, 2, m->key);
    bind_static(q, 3, m->guid);
    bind_static(q, 4, m->url);
    bind_static(q, 5, m->author);
    bind_static(q, 6, m->title);
    bind_static(q, 7, m->text);
    if (m->rating > 0)
        sqlite3_bind_double(q, 8, m->rating);
    else
        sqlite3_bind_null(q, 8);
    if (m->reach >= 0)
        sqlite3_bind_int64(q, 9, m->reach);
    else
        sqlite3_bind_null(q, 9);
    bind_time(q, 10, m->published);
    bind_time(q, 11, m->updated);
    sqlite3_bind_int64(q, 12, m->first_seen);
    bind_static(q, 13, m->lang[0] ? m->lang : NULL);
}

/* Steps an insert of m; *inserted says whether a row was added. */
static int insert_mention(struct ear_store *st, sqlite3_stmt *q,
                          struct ear_mention *m, int *inserted,
                          struct ear_error *err)
{
    int rc = 0;

    *inserted = 0;
    if (!m->first_seen)
        m->first_seen = ear_now();
    bind_mention(q, m);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(st, err, "insert mention");
    else if (sqlite3_changes(st->db) > 0)
        *inserted = 1;
    sqlite3_reset(q);
    if (*inserted)
        m->id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

int ear_store_mention_add(struct ear_store *st, struct ear_mention *m,
                          int likely_new, enum ear_mention_fate *fate,
                          struct ear_error *err)
{
    int64_t id = 0;
    int rc, inserted = 0;

    *fate = EAR_MENTION_KNOWN;
    if (!m->source || !m->key)
        return ear_error_set(err, EAR_EINVAL, m->source, 0, 0,
                             "mention without source or key");
    if (likely_new) {
        /* the url first; then the insert checks (source, key) itself */
        if (m->url) {
            bind_static(st->mention_by_url, 1, m->url);
            rc = lookup_id(st, st->mention_by_url, &id, NULL, err);
            if (rc < 0)
                return rc;
        }
        if (!id) {
            rc = insert_mention(st, st->mention_insert_new, m, &inserted,
                                err);
            if (rc < 0 || inserted) {
                if (inserted)
                    *fate = EAR_MENTION_NEW;
                return rc;
            }
        }
        /* stored after all: what did it come to (the key decides first,
         * as below) */
    }
    rc = ear_store_mention_lookup(st, m->source, m, &id, fate, err);
    if (rc < 0)
        return rc;
    if (id) {
        m->id = id;
        return 0;
    }
    if (likely_new) /* not inserted, yet not stored: cannot be */
        return ear_error_set(err, EAR_EDB, st->path, 0, 0,
                             "insert mention: '%s' neither stored nor "
                             "found", m->key);
    rc = insert_mention(st, st->mention_insert, m, &inserted, err);
    if (rc == 0)
        *fate = EAR_MENTION_NEW;
    return rc;
}

int ear_store_mention_put(struct ear_store *st, struct ear_mention *m,
                          int *is_new, struct ear_error *err)
{
    enum ear_mention_fate fate;
    int rc;

    rc = ear_store_mention_add(st, m, 0, &fate, err);
    *is_new = rc == 0 && fate == EAR_MENTION_NEW;
    return rc;
}

int ear_store_mention_get(struct ear_store *st, int64_t id,
                          struct ear_mention *m, struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    const unsigned char *lang;
    int rc = 0, step;

    ear_mention_init(m);
    if (sqlite3_prepare_v2(st->db,
                           "SELECT source, key, guid, url, author, title, "
                           "text, rating, reach, published, updated, "
                           "first_seen, lang FROM mentions WHERE id = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return ear_store_error(st, err, "read mention");
    sqlite3_bind_int64(q, 1, id);
    step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        rc = ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                           "no mention with id %lld", (long long)id);
    } else if (step != SQLITE_ROW) {
        rc = ear_store_error(st, err, "read mention");
    } else {
        m->id = id;
        if (col_text(&m->source, q, 0) < 0 || col_text(&m->key, q, 1) < 0 ||
            col_text(&m->guid, q, 2) < 0 || col_text(&m->url, q, 3) < 0 ||
            col_text(&m->author, q, 4) < 0 || col_text(&m->title, q, 5) < 0 ||
            col_text(&m->text, q, 6) < 0)
            rc = EAR_ENOMEM;
        m->rating = sqlite3_column_type(q, 7) == SQLITE_NULL
                        ? 0.0
                        : sqlite3_column_double(q, 7);
        m->reach = sqlite3_column_type(q, 8) == SQLITE_NULL
                       ? -1
                       : sqlite3_column_int64(q, 8);
        m->published = sqlite3_column_int64(q, 9);
        m->updated = sqlite3_column_int64(q, 10);
        m->first_seen = sqlite3_column_int64(q, 11);
        lang = sqlite3_column_text(q, 12);
        if (lang)
            snprintf(m->lang, sizeof m->lang, "%s", (const char *)lang);
    }
    sqlite3_finalize(q);
    if (rc < 0)
        ear_mention_dispose(m);
    return rc;
}

int ear_store_mention_set_lang(struct ear_store *st, int64_t id,
                               const char *lang, struct ear_error *err)
{
    static const char sql[] =
        "UPDATE mentions SET lang = ?2 WHERE id = ?1 AND "
        "(lang IS NULL OR lang = '')";
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(st, &q, sql, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, id);
    bind_static(q, 2, lang);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(st, err, "record mention language");
    sqlite3_reset(q);
    return rc;
}

/* ------------------------------------------------------------------ verdicts */

static char *verdict_categories_json(const struct ear_verdict *v)
{
    json_t *a = json_array();
    char *s;
    size_t i;

    if (!a)
        return NULL;
    for (i = 0; i < v->ncategories; i++)
        json_array_append_new(a, json_string(v->categories[i]));
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static char *verdict_matches_json(const struct ear_verdict *v)
{
    json_t *a = json_array(), *o;
    char *s;
    size_t i;

    if (!a)
        return NULL;
    for (i = 0; i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];
        o = json_pack("{s:s?, s:s?, s:s?, s:I, s:I, s:s?, s:f}", "rule",
                      m->rule, "category", m->category, "field", m->field,
                      "start", (json_int_t)m->start, "end",
                      (json_int_t)m->end, "text", m->text, "weight",
                      m->weight);
        if (o)
            json_array_append_new(a, o);
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

int ear_store_verdict_put(struct ear_store *st, int64_t mention_id,
                          const struct ear_verdict *v, struct ear_error *err)
{
    sqlite3_stmt *q = st->verdict_put;
    char *cats = verdict_categories_json(v);
    char *matches = verdict_matches_json(v);
    int rc = 0;

    if (!cats || !matches) {
        free(cats);
        free(matches);
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    sqlite3_bind_int64(q, 1, mention_id);
    sqlite3_bind_int(q, 2, v->flag ? 1 : 0);
    sqlite3_bind_double(q, 3, v->score);
    sqlite3_bind_int(q, 4, (int)v->severity);
    bind_static(q, 5, cats);
    bind_static(q, 6, matches);
    bind_static(q, 7, v->brand);
    bind_static(q, 8, v->team);
    bind_static(q, 9, v->lang[0] ? v->lang : NULL);
    bind_static(q, 10, v->explain);
    sqlite3_bind_int64(q, 11, ear_now());
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(st, err, "save verdict");
    sqlite3_reset(q);
    free(cats);
    free(matches);
    return rc;
}

static int parse_verdict_json(struct ear_verdict *v, const char *cats,
                              const char *matches)
{
    json_t *a, *o;
    size_t i;
    int rc = 0;

    a = cats ? json_loads(cats, 0, NULL) : NULL;
    if (json_is_array(a))
        json_array_foreach(a, i, o)
            if (json_is_string(o) &&
                ear_verdict_add_category(v, json_string_value(o)) < 0)
                rc = EAR_ENOMEM;
    json_decref(a);
    a = matches ? json_loads(matches, 0, NULL) : NULL;
    if (json_is_array(a))
        json_array_foreach(a, i, o) {
            struct ear_match *m;
            const char *text = json_string_value(json_object_get(o, "text"));
            size_t start = (size_t)json_integer_value(
                json_object_get(o, "start"));
            size_t end = (size_t)json_integer_value(json_object_get(o, "end"));

            if (ear_verdict_add_match(
                    v, json_string_value(json_object_get(o, "rule")),
                    json_string_value(json_object_get(o, "category")),
                    json_string_value(json_object_get(o, "field")), NULL, 0,
                    0, json_real_value(json_object_get(o, "weight"))) < 0) {
                rc = EAR_ENOMEM;
                continue;
            }
            m = &v->matches[v->nmatches - 1];
            m->start = start;
            m->end = end;
            if (text && ear_str_set(&m->text, text) < 0)
                rc = EAR_ENOMEM;
        }
    json_decref(a);
    return rc;
}

int ear_store_verdict_get(struct ear_store *st, int64_t mention_id,
                          struct ear_verdict *v, struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    const unsigned char *lang;
    int rc = 0, step;

    ear_verdict_init(v);
    if (sqlite3_prepare_v2(st->db,
                           "SELECT flag, score, severity, categories, "
                           "matches, brand, team, lang, explain FROM "
                           "verdicts WHERE mention_id = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return ear_store_error(st, err, "read verdict");
    sqlite3_bind_int64(q, 1, mention_id);
    step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        rc = ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                           "mention %lld has no verdict",
                           (long long)mention_id);
    } else if (step != SQLITE_ROW) {
        rc = ear_store_error(st, err, "read verdict");
    } else {
        v->flag = sqlite3_column_int(q, 0);
        v->score = sqlite3_column_double(q, 1);
        v->severity = (enum ear_severity)sqlite3_column_int(q, 2);
        rc = parse_verdict_json(v, (const char *)sqlite3_column_text(q, 3),
                                (const char *)sqlite3_column_text(q, 4));
        if (rc == 0 && (col_text(&v->brand, q, 5) < 0 ||
                        col_text(&v->team, q, 6) < 0 ||
                        col_text(&v->explain, q, 8) < 0))
            rc = EAR_ENOMEM;
        lang = sqlite3_column_text(q, 7);
        if (lang)
            snprintf(v->lang, sizeof v->lang, "%s", (const char *)lang);
    }
    sqlite3_finalize(q);
    if (rc < 0)
        ear_verdict_dispose(v);
    return rc;
}

/* ------------------------------------------------------------------ events */

int ear_store_event(struct ear_store *st, int64_t queue_id,
                    int64_t mention_id, const char *actor, const char *kind,
                    const char *from_state, const char *to_state,
                    const char *note, struct ear_error *err)
{
    return ear_store_event_at(st, 0, queue_id, mention_id, actor, kind,
                              from_state, to_state, note, err);
}

int ear_store_event_at(struct ear_store *st, int64_t at, int64_t queue_id,
                       int64_t mention_id, const char *actor,
                       const char *kind, const char *from_state,
                       const char *to_state, const char *note,
                       struct ear_error *err)
{
    static const char sql[] =
        "INSERT INTO events (at, queue_id, mention_id, actor, kind, "
        "from_state, to_state, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    sqlite3_stmt *q = NULL;
    int rc;

    rc = ear_store_stmt(st, &q, sql, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(q, 1, at ? at : ear_now());
    if (queue_id)
        sqlite3_bind_int64(q, 2, queue_id);
    if (mention_id)
        sqlite3_bind_int64(q, 3, mention_id);
    bind_static(q, 4, actor);
    bind_static(q, 5, kind);
    bind_static(q, 6, from_state);
    bind_static(q, 7, to_state);
    bind_static(q, 8, note);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = ear_store_error(st, err, "record event");
    sqlite3_reset(q);
    return rc;
}
