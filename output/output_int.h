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

/* An open item is overdue: not answered, past its deadline (?1 = now). */
#define EAR_OUTPUT_OVERDUE \
    "q.state IN ('new','assigned') AND q.first_response IS NULL" \
    " AND q.due IS NOT NULL AND q.due < ?1"

/* The priority order within open items that are all overdue or all not:
 * the order of the indexes queue_overdue_prio and queue_open_prio. */
#define EAR_OUTPUT_PRIO_ORDER \
    " ORDER BY q.severity DESC, (q.rating IS NULL OR q.rating <= 0) ASC," \
    " q.rating ASC, (q.reach IS NULL OR q.reach < 0) ASC, q.reach DESC," \
    " q.created ASC, q.id ASC"

#define EAR_OUTPUT_ITEM_JOIN " LEFT JOIN mentions m ON m.id = q.mention_id"

/* A page of items: the queue rows are filtered, ordered and cut to the
 * page first (prefix + WHERE + order + LIMIT), and only that page is
 * joined with its mentions (outer), so a first page never reads the
 * text of every open item. */
#define EAR_OUTPUT_PAGE_PREFIX \
    "SELECT " EAR_OUTPUT_ITEM_COLS " FROM (SELECT q.* FROM queue q"
#define EAR_OUTPUT_PAGE_OUTER \
    ") q LEFT JOIN mentions m ON m.id = q.mention_id" EAR_OUTPUT_ITEM_ORDER

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
/* The same with outer (may be NULL) appended after the LIMIT: for
 * EAR_OUTPUT_PAGE_PREFIX / EAR_OUTPUT_PAGE_OUTER. */
int ear_output__prepare_page(struct ear_store *st,
                             const struct ear_queue_filter *f, int64_t now,
                             const char *prefix, const char *suffix,
                             int with_limit, const char *outer,
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

/* ------------------------------------------------------------ sinks */

enum ear_sink_type {
    EAR_SINK_JSONL,
    EAR_SINK_WEBHOOK,
    EAR_SINK_SLACK,
    EAR_SINK_TEAMS,
    EAR_SINK_MATTERMOST,
    EAR_SINK_HTTP,
    EAR_SINK_SMTP
};

/* A sink as configured and checked (sink.c). Strings are borrowed from the
 * config; the lists are new arrays of borrowed strings. A sink whose map
 * has an error keeps valid = 0 and the error (path:line:col: text) in
 * error, so alerts for it are kept until the config is fixed. */
struct ear_output__sink {
    const struct ear_sink_cfg *cfg;
    const char *name;
    enum ear_sink_type type;
    const char *url;
    const char *path;       /* jsonl: resolved file, or "-" */
    char *path_owned;
    const char **to;        /* smtp recipients */
    size_t nto;
    const char *from;
    const char *secret;
    const char *tmpl;       /* http body template */
    const char *subject;    /* smtp subject template */
    const char *username;
    const char *password;
    const struct ear_ynode *headers; /* map, may be NULL */
    const char **categories;
    size_t ncategories;
    const char **teams;
    size_t nteams;
    const char **brands;
    size_t nbrands;
    enum ear_severity min_severity;
    int incidents_only;
    long long max_per_hour; /* 0 = no limit */
    int enabled;
    int valid;
    char error[700];
};

/* Every sink of cfg (checked, in order); a bad sink is returned with
 * valid = 0. Fails only on OOM. New *out: ear_output__sinks_free(). */
int ear_output__sinks_load(const struct ear_config *cfg,
                           struct ear_output__sink **out, size_t *n,
                           struct ear_error *err);
void ear_output__sinks_free(struct ear_output__sink *v, size_t n);
const struct ear_output__sink *ear_output__sink_find(
    const struct ear_output__sink *v, size_t n, const char *name);

/* What an alert is about, for the sink filters. cats may be NULL. */
struct ear_output__subject {
    int incident;           /* incident messages pass the severity filter */
    enum ear_severity severity;
    const char *const *cats;
    size_t ncats;
    const char *team;
    const char *brand;
};
/* 1 when the (valid, enabled) sink wants alerts about s. */
int ear_output__sink_wants(const struct ear_output__sink *sink,
                           const struct ear_output__subject *s);
/* 1 when any of the n sinks gets an outbox row for s: an enabled one that
 * wants it, or one whose config is wrong (its rows are filtered later). */
int ear_output__sinks_want(const struct ear_output__sink *sinks, size_t n,
                           const struct ear_output__subject *s);

/* The placeholders a template may use (NULL-terminated). */
extern const char *const ear_output__fields[];
/* Appends tmpl with each ${field} replaced by the payload's value (strings
 * JSON-escaped without quotes when json is set; arrays joined with ", ";
 * null and unknown fields empty). */
int ear_output__template(struct ear_buf *out, const char *tmpl,
                         const json_t *payload, int json);
/* Checks a template's placeholders; EAR_EINVAL naming the first unknown
 * one in *bad (borrowed from tmpl, length *badlen). */
int ear_output__template_check(const char *tmpl, const char **bad,
                               size_t *badlen);

/* ------------------------------------------------------------ outbox */

/* Writes one outbox row per sink that wants the alert, inside the caller's
 * transaction. payload is borrowed; key is what makes the alert unique
 * across retries (e.g. "mention\x1fsource\x1fkey"). */
int ear_output__outbox_add(struct ear_store *st,
                           const struct ear_output__sink *sinks, size_t n,
                           const struct ear_output__subject *subj,
                           const char *kind, int64_t queue_id,
                           int64_t incident_id, const json_t *payload,
                           const char *key, int64_t now,
                           struct ear_error *err);

/* The same with the payload already encoded (text, len bytes, borrowed):
 * it is stored once (the alerts table) and every row refers to it. */
int ear_output__outbox_add_text(struct ear_store *st,
                                const struct ear_output__sink *sinks,
                                size_t n,
                                const struct ear_output__subject *subj,
                                const char *kind, int64_t queue_id,
                                int64_t incident_id, const char *text,
                                size_t len, const char *key, int64_t now,
                                struct ear_error *err);

/* An alert's payload at most (a mention's text is far smaller). */
#define EAR_OUTPUT_PAYLOAD_MAX (16u << 20)

/* Appends the alert for a freshly queued mention (a JSON object, as
 * json_dumps(JSON_COMPACT) writes it) to b. EAR_ENOMEM or EAR_ETOOBIG. */
struct ear_buf;
int ear_output__mention_payload(struct ear_buf *b,
                                const struct ear_mention *m,
                                const struct ear_verdict *v,
                                int64_t queue_id, const char *team,
                                const char *brand, int64_t created,
                                int64_t due);

/* A window length for humans: "1h", "90m" as "1h 30m", "2d", "45s". */
const char *ear_output__span(int64_t secs, char *buf, size_t size);

/* One line for humans about a payload ("[high] Acme · billing: ..."). */
int ear_output__payload_line(struct ear_buf *out, const json_t *payload);

/* ------------------------------------------------------------ delivery */

/* Renders payload for the sink and sends it. On failure fills err and
 * *retry_after (seconds the peer asked to wait, 0 = none). idem is the
 * idempotency key. write/write_payload receive a jsonl sink's "-" lines. */
int ear_output__send(const struct ear_output__sink *sink,
                     const json_t *payload, const char *idem,
                     ear_write_fn write, void *write_payload,
                     int64_t *retry_after, struct ear_error *err);

/* An e-mail over the smtp sink: the message (headers and body, CRLF) is
 * sent as given. */
int ear_output__smtp_send(const struct ear_output__sink *sink,
                          const char *msg, size_t len,
                          struct ear_error *err);

/* Mail: text as RFC 2047 encoded words (UTF-8, base64, folded); the
 * From, To, Subject, Date, Message-ID and MIME-Version headers of a mail
 * over sink (CRLF-ended; msgid without the angle brackets or domain). */
int ear_output__mail_header_word(struct ear_buf *b, const char *text);
int ear_output__mail_headers(struct ear_buf *b,
                             const struct ear_output__sink *s,
                             const char *subject, const char *msgid);

/* ------------------------------------------------------------ digest */

/* The digest's JSON (ear_digest_build) rendered as Markdown, or as HTML;
 * with mail set, the charts are <img src="cid:chart-N@earshot"> for N =
 * 1 (per day), 2 (by category), 3 (ratings) instead of inline SVG. */
int ear_output__digest_md(const json_t *d, struct ear_buf *b);
int ear_output__digest_html(const json_t *d, struct ear_buf *b, int mail);

/* A horizontal bar chart of rows as a PNG (cairo), appended to out; the
 * image's height in pixels in *height (may be NULL). */
int ear_output__chart_png(struct ear_buf *out, const json_t *rows,
                          const char *label_key, const char *value_key,
                          const char *part_key, const char *suffix,
                          int *height, struct ear_error *err);

/* ------------------------------------------------------------ crypto */

int ear_output__sha256_hex(char out[65], const void *data, size_t n);
int ear_output__hmac_sha256_hex(char out[65], const char *key,
                                const void *data, size_t n);
/* Appends base64 of data, in 76-character CRLF lines when wrap is set. */
int ear_output__base64(struct ear_buf *out, const void *data, size_t n,
                       int wrap);

#endif
