/*
 * output internals shared by the module's files: reading columns out of
 * SQLite statements, the queue filter turned into SQL, and JSON helpers.
 *
 * queue.c owns the queue table; digest.c only reads it (and mentions,
 * verdicts, events) with its own queries; text.c is pure string work.
 */
#ifndef EAR_OUTPUT_INT_H
#define EAR_OUTPUT_INT_H

#include <sqlite3.h>
#include <jansson.h>
#include "output/output.h"

/* The queue states, in order, as stored. */
#define EAR_OUTPUT_OPEN_STATES "('new','assigned','responded')"

/* Columns of a queue item in ear_output__item_read() order, for
 * "SELECT " EAR_OUTPUT_ITEM_COLS " FROM queue q LEFT JOIN mentions m ...".
 * The one bound parameter ?1 is now (for overdue). */
#define EAR_OUTPUT_ITEM_COLS \
    "q.id, q.mention_id, q.state, q.team, q.owner, q.category, " \
    "q.categories, q.brand, q.source, q.lang, m.title, m.text, m.url, " \
    "m.author, q.dismiss_reason, q.severity, q.rating, q.reach, " \
    "q.created, q.due, q.first_response, q.resolved_at, q.updated, " \
    "(q.state IN ('new','assigned') AND q.first_response IS NULL " \
    " AND q.due IS NOT NULL AND q.due < ?1)"

#define EAR_OUTPUT_ITEM_FROM \
    " FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id"

/* Priority order, see ear_queue_list(). */
#define EAR_OUTPUT_ITEM_ORDER \
    " ORDER BY (q.state IN ('resolved','dismissed')) ASC, " \
    "(q.state IN ('new','assigned') AND q.first_response IS NULL " \
    " AND q.due IS NOT NULL AND q.due < ?1) DESC, " \
    "q.severity DESC, (q.rating IS NULL OR q.rating <= 0) ASC, " \
    "q.rating ASC, (q.reach IS NULL OR q.reach < 0) ASC, q.reach DESC, " \
    "q.created ASC, q.id ASC"

/* Reads one row selected with EAR_OUTPUT_ITEM_COLS into it (initialised
 * here). EAR_ENOMEM on failure (it is then disposed). */
int ear_output__item_read(sqlite3_stmt *stmt, struct ear_queue_item *it);

/* Appends " WHERE ..." for f to sql and prepares, binding now as ?1 and the
 * filter values after it; adds LIMIT/OFFSET when with_limit. prefix is the
 * SELECT ... FROM part, suffix (may be NULL) goes before LIMIT. */
int ear_output__prepare_filtered(struct ear_store *st,
                                 const struct ear_queue_filter *f,
                                 int64_t now, const char *prefix,
                                 const char *suffix, int with_limit,
                                 sqlite3_stmt **out, struct ear_error *err);

/* New copy of a text column, NULL for SQL NULL; *oom set on failure. */
char *ear_output__col_str(sqlite3_stmt *stmt, int col, int *oom);

/* The brand a queued mention is about: v->brand, else its source's
 * configured brand, else NULL. Borrowed. */
const char *ear_output__brand(const struct ear_config *cfg,
                              const struct ear_mention *m,
                              const struct ear_verdict *v);

/* JSON helpers: a string or null; an RFC 3339 time or null for 0. New
 * references. */
json_t *ear_output__json_str(const char *s);
json_t *ear_output__json_time(int64_t t);

/* Sets key to value in obj; steals value; returns EAR_ENOMEM when value is
 * NULL or the set fails. */
int ear_output__json_set(json_t *obj, const char *key, json_t *value);

#endif
