/*
 * core: what every stage of earshot shares.
 *
 * The fetcher, the analyzer and the output stage never include each other's
 * headers; they meet here, at the mention record (struct ear_mention), the
 * verdict (struct ear_verdict), the configuration (struct ear_config) and the
 * store (struct ear_store, SQLite). Small utilities live here too: errors,
 * the bounded buffer, the YAML node tree, time and text helpers.
 *
 * Conventions (docs/internals/conventions.md): functions return 0 on success
 * or a negative enum ear_err; detail goes into an optional caller-owned
 * struct ear_error. Modules never print and never exit.
 */
#ifndef EAR_CORE_H
#define EAR_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sqlite3;

/* ------------------------------------------------------------------ errors */

enum ear_err {
    EAR_OK = 0,
    EAR_ENOMEM = -1,
    EAR_EIO = -2,
    EAR_EHTTP = -3,
    EAR_EPARSE = -4,
    EAR_ETOOBIG = -5,
    EAR_EDB = -6,
    EAR_ENOTFOUND = -7,
    EAR_EINVAL = -8,  /* bad argument or bad configuration value */
    EAR_EBUSY = -9,   /* store locked by another process */
    EAR_ESTATE = -10  /* operation not allowed in the current state */
};

/* Caller-owned error detail, in the manner of jansson's json_error_t.
 * source is a file name, URL or source name; line/col are 1-based, 0 when
 * unknown. */
struct ear_error {
    int code;
    int line;
    int col;
    char source[256];
    char text[512];
};

/* Fills err (when non-NULL) and returns code. source may be NULL. */
int ear_error_set(struct ear_error *err, int code, const char *source,
                  int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void ear_error_clear(struct ear_error *err);
/* "source:line:col: text", "source: text" or "text", into buf. */
const char *ear_error_format(const struct ear_error *err, char *buf,
                             size_t size);
/* A short English word for the code ("out of memory", "parse error", ...). */
const char *ear_strerror(int code);

/* ------------------------------------------------------------------ buffer */

/* A growable, always NUL-terminated byte buffer with a hard size limit
 * (curl's dynbuf). On failure an add frees the buffer and returns EAR_ENOMEM
 * or EAR_ETOOBIG, so a caller only has to return. */
struct ear_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
};

#define EAR_BUF_MAX_DEFAULT ((size_t)64 << 20)

void ear_buf_init(struct ear_buf *b, size_t max); /* cannot fail */
int ear_buf_addn(struct ear_buf *b, const void *p, size_t n);
int ear_buf_adds(struct ear_buf *b, const char *s);
int ear_buf_addc(struct ear_buf *b, char c);
int ear_buf_addf(struct ear_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ear_buf_vaddf(struct ear_buf *b, const char *fmt, va_list ap);
/* Borrowed; "" for an empty buffer; invalid after the next add. */
const char *ear_buf_str(const struct ear_buf *b);
/* New: free with free(); the buffer is reset (still usable). Never NULL
 * unless out of memory. */
char *ear_buf_take(struct ear_buf *b, size_t *len);
void ear_buf_reset(struct ear_buf *b); /* keeps max, frees memory */
void ear_buf_dispose(struct ear_buf *b);

/* ------------------------------------------------------------------ utils */

/* strdup that accepts NULL (returns NULL). */
char *ear_strdup(const char *s);
char *ear_strndup(const char *s, size_t n);
/* Replace *field with a copy of s (NULL allowed). Returns EAR_ENOMEM. */
int ear_str_set(char **field, const char *s);
int ear_str_setn(char **field, const char *s, size_t n);

/* Room for element n in a growable array v of *cap elements of elem
 * bytes: when n >= *cap, the capacity doubles until it holds n + 1 (the
 * first time it starts at first) and the grown array is returned, else v
 * itself. NULL when out of memory or on overflow; v and *cap are then
 * unchanged and v is still valid. Usage:
 *     T *nv = ear_grow(v, &cap, n, sizeof *v, 16);
 *     if (!nv) return EAR_ENOMEM;
 *     v = nv;
 *     v[n++] = x;  */
void *ear_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first);

/* Reads a whole file (at most max bytes: EAR_ETOOBIG beyond). New *out,
 * NUL-terminated; free with free(). */
int ear_file_read(char **out, size_t *len, const char *path, size_t max,
                  struct ear_error *err);
/* mkdir -p of the directory that will hold path. */
int ear_mkdir_parents(const char *path, struct ear_error *err);

/* Wall clock in seconds since the epoch; overridable for tests with the
 * EARSHOT_NOW environment variable (RFC 3339 or epoch seconds). */
int64_t ear_now(void);
/* RFC 3339 UTC ("2026-11-23T17:22:00Z") into buf (>= 21 bytes). */
const char *ear_time_fmt(int64_t t, char *buf, size_t size);
/* Parses RFC 3339 / ISO 8601 and RFC 822/1123 dates (with the usual
 * deviations) and bare epoch seconds. Returns 0 and *out, or EAR_EPARSE. */
int ear_time_parse(int64_t *out, const char *s);
/* Durations "90", "90s", "15m", "4h", "7d", "1w" into seconds. */
int ear_duration_parse(int64_t *out, const char *s);
/* "3d 4h", "12m", "45s" for humans. */
const char *ear_duration_fmt(int64_t secs, char *buf, size_t size);

/* UTF-8: replaces invalid sequences by U+FFFD. New string. */
char *ear_utf8_sanitize(const char *s, size_t len, size_t *out_len);
int ear_utf8_valid(const char *s, size_t len);

/* Edit distance, for "did you mean" suggestions. */
size_t ear_levenshtein(const char *a, const char *b);

/* Terminal colour: on when stream is a tty and NO_COLOR is unset. */
int ear_color_enabled(FILE *stream);

/* ------------------------------------------------------------------ YAML */

/* A YAML document as a plain tree with positions, for config and rule
 * packs. Scalars keep their text; maps keep keys in order. */
enum ear_ynode_type { EAR_Y_SCALAR, EAR_Y_SEQ, EAR_Y_MAP };

struct ear_ynode {
    enum ear_ynode_type type;
    int line; /* 1-based */
    int col;  /* 1-based */
    int quoted;     /* scalar was quoted: never a number/bool/null */
    char *value;    /* scalar text (NUL-terminated), NULL otherwise */
    size_t n;       /* items (seq) or pairs (map) */
    struct ear_ynode **items; /* seq items, or map values */
    struct ear_ynode **keys;  /* map keys (scalars), NULL for seq */
};

struct ear_yaml {
    char *path; /* as given, for messages */
    struct ear_ynode *root; /* NULL for an empty document */
};

/* Parse a YAML file or text. New *out: free with ear_yaml_free(). Errors
 * read path:line:col. */
int ear_yaml_load(struct ear_yaml **out, const char *path,
                  struct ear_error *err);
int ear_yaml_parse(struct ear_yaml **out, const char *name, const char *text,
                   size_t len, struct ear_error *err);
void ear_yaml_free(struct ear_yaml *doc);
/* Replaces ${VAR} in every scalar by the environment's value ($$ is a
 * literal $). An unset variable is an error at the scalar's position. */
int ear_yaml_expand_env(struct ear_yaml *doc, struct ear_error *err);

/* Borrowed map value for key, NULL when absent or node is not a map. */
const struct ear_ynode *ear_ynode_get(const struct ear_ynode *map,
                                      const char *key);
/* Every key of map must be in known (NULL-terminated). On an unknown key:
 * EAR_EINVAL with "unknown key 'x' (did you mean 'y'?)" at its position. */
int ear_ynode_check_keys(const struct ear_ynode *map,
                         const char *const known[], const char *path,
                         struct ear_error *err);
/* Typed reads that report path:line:col on a wrong type. A missing node
 * (NULL) leaves *out unchanged and returns 0. */
int ear_ynode_str(const char **out, const struct ear_ynode *node,
                  const char *path, const char *what, struct ear_error *err);
int ear_ynode_int(long long *out, const struct ear_ynode *node, long long min,
                  long long max, const char *path, const char *what,
                  struct ear_error *err);
int ear_ynode_bool(int *out, const struct ear_ynode *node, const char *path,
                   const char *what, struct ear_error *err);
int ear_ynode_duration(int64_t *out, const struct ear_ynode *node,
                       const char *path, const char *what,
                       struct ear_error *err);
/* A scalar or a sequence of scalars, as a new NULL-terminated array of
 * borrowed strings (free the array only, with free()). */
int ear_ynode_strlist(const char ***out, size_t *n, const struct ear_ynode *node,
                      const char *path, const char *what,
                      struct ear_error *err);

/* ------------------------------------------------------------------ mention */

/* The record every stage shares. Strings are owned (malloc'd), NULL when
 * absent. Times are Unix seconds, 0 when unknown. */
struct ear_mention {
    int64_t id;       /* store row id, 0 before it is stored */
    char *source;     /* source name from the config */
    char *key;        /* stable key within the source (guid, link or hash) */
    char *guid;       /* id as the source gives it */
    char *url;        /* canonical link to the original */
    char *author;
    char *title;
    char *text;       /* plain UTF-8, whitespace normalised */
    double rating;    /* 1..5 normalised; 0 = no rating */
    int64_t reach;    /* followers, votes, score; -1 = unknown */
    int64_t published;
    int64_t updated;
    int64_t first_seen;
    char lang[8];     /* "hu", "en", or "" when not known */
};

#define EAR_MENTION_INIT {0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0.0, \
                          -1, 0, 0, 0, {0}}

void ear_mention_init(struct ear_mention *m);
void ear_mention_dispose(struct ear_mention *m); /* frees the strings */
int ear_mention_copy(struct ear_mention *dst, const struct ear_mention *src);

struct ear_mention_list {
    struct ear_mention *v;
    size_t n;
    size_t cap;
};

/* Borrowed pointer to a new, initialised element at the end; NULL on OOM. */
struct ear_mention *ear_mention_list_push(struct ear_mention_list *l);
void ear_mention_list_dispose(struct ear_mention_list *l);

/* ------------------------------------------------------------------ verdict */

enum ear_severity {
    EAR_SEV_NONE = 0,
    EAR_SEV_LOW = 1,
    EAR_SEV_MEDIUM = 2,
    EAR_SEV_HIGH = 3,
    EAR_SEV_CRITICAL = 4
};

const char *ear_severity_name(enum ear_severity s); /* "low", ... "none" */
/* Returns 0 and *out, or EAR_EINVAL for an unknown name. */
int ear_severity_parse(enum ear_severity *out, const char *name);

/* One piece of evidence behind a verdict. start/end are byte offsets into
 * the analysed field (the mention's text unless field says "title"). */
struct ear_match {
    char *rule;      /* rule id, e.g. "hu.billing.wrong-vat" or "lexicon" */
    char *category;  /* NULL for tone/lexicon evidence */
    char *field;     /* "text" or "title" */
    size_t start;
    size_t end;
    char *text;      /* copy of the matched bytes */
    double weight;
};

struct ear_verdict {
    int flag;                 /* 1 = negative mention / complaint */
    double score;             /* higher = more negative */
    enum ear_severity severity;
    char **categories;        /* owned; most important first */
    size_t ncategories;
    struct ear_match *matches; /* owned */
    size_t nmatches;
    char *brand;              /* brand the mention is about, NULL if none */
    char *team;               /* team suggested by the strongest rule */
    char lang[8];
    char *explain;            /* one line in words, owned, may be NULL */
};

void ear_verdict_init(struct ear_verdict *v);
void ear_verdict_dispose(struct ear_verdict *v);
int ear_verdict_add_category(struct ear_verdict *v, const char *cat);
/* Appends a copy of the fields; text is copied from base[start..end). */
int ear_verdict_add_match(struct ear_verdict *v, const char *rule,
                          const char *category, const char *field,
                          const char *base, size_t start, size_t end,
                          double weight);

/* ------------------------------------------------------------------ config */

struct ear_brand {
    char *name;
    char **aliases;   /* NULL-terminated */
    char **exclude;   /* NULL-terminated */
    char *query;      /* boolean brand query, NULL when not given */
};

/* A source as configured. Type-specific options are kept as the YAML node
 * they came from (opts, borrowed from the config's document) so each
 * fetcher format can validate its own keys. */
struct ear_source_cfg {
    char *name;
    char *url;        /* resolved: relative file paths made absolute */
    char *type;       /* NULL = detect */
    char *brand;      /* NULL = general source */
    char *lang;       /* NULL = detect per mention */
    int64_t interval; /* seconds */
    int enabled;
    int analyze;      /* 1 (default); 0 = collect only: the source's
                         mentions are stored, deduplicated and counted,
                         never analyzed, flagged or queued */
    const struct ear_ynode *opts; /* the whole source map */
    int line;         /* position in the config file */
    int col;
};

struct ear_team {
    char *name;
    char **members;   /* NULL-terminated */
};

/* A routing rule: a mention whose category, brand or source matches goes to
 * team. Rules are tried in order; the first that matches wins. */
struct ear_route {
    char *team;
    char **categories; /* NULL-terminated, NULL = any */
    char **brands;
    char **sources;
};

struct ear_sink_cfg {
    char *name;
    char *type;       /* jsonl, webhook, slack, teams, mattermost, http, smtp */
    const struct ear_ynode *opts; /* the whole sink map */
    int line;
    int col;
};

struct ear_config {
    char *path;       /* the file it was read from */
    char *dir;        /* its directory, for relative paths */
    char *store;      /* resolved store path, NULL = default */
    char **rules;     /* rule pack files or directories, NULL-terminated;
                         NULL = the installed packs */
    struct ear_brand *brands;
    size_t nbrands;
    struct ear_source_cfg *sources;
    size_t nsources;
    struct ear_team *teams;
    size_t nteams;
    char *default_team;
    struct ear_route *routes;
    size_t nroutes;
    int64_t sla[5];   /* first-response deadline per severity, seconds */
    struct ear_sink_cfg *sinks;
    size_t nsinks;
    char *contact;    /* contact URL for the User-Agent */
    /* fetch: global fetcher limits; 0 = the fetcher's default */
    long long fetch_max_conns;
    long long fetch_max_host;
    long long fetch_timeout;
    long long fetch_connect_timeout;
    long long fetch_max_body;
    struct ear_yaml *doc; /* owned; opts nodes point into it */
};

/* Finds the config file: path if given, else $EARSHOT_CONFIG, else
 * ./earshot.yml, else $XDG_CONFIG_HOME/earshot/earshot.yml. New string, or
 * NULL when none exists (*err says where it looked). */
char *ear_config_locate(const char *path, struct ear_error *err);
/* Reads and validates. New *out: free with ear_config_free(). */
int ear_config_load(struct ear_config **out, const char *path,
                    struct ear_error *err);
/* An empty config (no sources), for commands that can run without one. */
int ear_config_empty(struct ear_config **out);
void ear_config_free(struct ear_config *cfg);
const struct ear_source_cfg *ear_config_source(const struct ear_config *cfg,
                                               const char *name);
const struct ear_brand *ear_config_brand(const struct ear_config *cfg,
                                         const char *name);
/* $XDG_DATA_HOME/earshot/earshot.db or ~/.local/share/earshot/earshot.db.
 * New string. */
char *ear_default_store_path(void);

/* ------------------------------------------------------------------ store */

struct ear_store; /* opaque */

/* Polling state of one source, as kept in the store. */
struct ear_source_state {
    char *name;
    char *etag;
    char *last_modified;
    int64_t last_poll;
    int64_t last_success;
    int64_t last_new;       /* last time a poll produced a new item */
    int64_t next_due;
    int failures;           /* consecutive */
    char *last_status;      /* "ok", "not-modified", "failed" */
    char *last_error;       /* words, NULL when the last poll succeeded */
    int64_t items_total;    /* mentions stored from this source */
    double rating;          /* the page's AggregateRating, 1-5; 0 = none */
    int64_t rating_count;   /* ratings behind it; 0 = unknown */
    int64_t rating_at;      /* when it was last read; 0 = never */
};

void ear_source_state_init(struct ear_source_state *s);
void ear_source_state_dispose(struct ear_source_state *s);

/* Opens (creating the file and its directory) and migrates the schema.
 * WAL, busy timeout, foreign keys. A store newer than this binary is
 * refused. */
int ear_store_open(struct ear_store **out, const char *path,
                   struct ear_error *err);
void ear_store_close(struct ear_store *st); /* NULL is fine */
/* Borrowed handle, for modules that keep their own tables (output). */
struct sqlite3 *ear_store_db(struct ear_store *st);
const char *ear_store_path(const struct ear_store *st);
int ear_store_schema_version(struct ear_store *st);

/* Transactions nest: the outermost begin is BEGIN IMMEDIATE (the write
 * lock at once), inner ones are savepoints. An inner rollback undoes only
 * the inner writes; the outer transaction continues. */
int ear_store_begin(struct ear_store *st, struct ear_error *err);
int ear_store_commit(struct ear_store *st, struct ear_error *err);
void ear_store_rollback(struct ear_store *st);

/* Converts the last SQLite error into EAR_EDB (or EAR_EBUSY) with its
 * message; what names the operation ("insert mention"). */
int ear_store_error(struct ear_store *st, struct ear_error *err,
                    const char *what);

/* Source polling state. get: EAR_ENOTFOUND when never polled (s is then
 * initialised with the name). put upserts by name. */
int ear_store_source_get(struct ear_store *st, const char *name,
                         struct ear_source_state *s, struct ear_error *err);
int ear_store_source_put(struct ear_store *st,
                         const struct ear_source_state *s,
                         struct ear_error *err);
/* 1 when src is enabled, has an expected_every (a valid duration) and,
 * once polled successfully, has produced nothing new for longer than that
 * (never producing anything counts as silent). `earshot sources` and the
 * digest report such a source as silent. */
int ear_source_silent(const struct ear_source_cfg *src,
                      const struct ear_source_state *st, int64_t now);

/* What storing a mention came to (ear_store_mention_add). */
enum ear_mention_fate {
    EAR_MENTION_KNOWN,      /* stored before: under the source's own key,
                               or through its url with a verdict */
    EAR_MENTION_NEW,        /* inserted now */
    EAR_MENTION_UNANALYZED  /* stored before through its url (by another
                               source, e.g. a collect-only one) and never
                               analyzed: no verdict */
};

/* The id of the stored mention that ear_store_mention_put() would take
 * for m coming from source (same source and key, or the same url), or 0
 * in *id when there is none; *fate says whether a mention found through
 * its url has a verdict: EAR_MENTION_NEW when *id is 0 (nothing stored),
 * else EAR_MENTION_KNOWN or EAR_MENTION_UNANALYZED. Reads only. */
int ear_store_mention_lookup(struct ear_store *st, const char *source,
                             const struct ear_mention *m, int64_t *id,
                             enum ear_mention_fate *fate,
                             struct ear_error *err);

/* ear_store_mention_put() saying what it came to in *fate, with m->id
 * set either way. likely_new: the caller has reason to think m is not
 * stored (a reader did not find it a moment ago); the insert is then
 * tried first, in one statement that also checks the url, and the
 * lookup only made when it inserted nothing. The result is the same
 * either way. m's strings must stay valid during the call only. */
int ear_store_mention_add(struct ear_store *st, struct ear_mention *m,
                          int likely_new, enum ear_mention_fate *fate,
                          struct ear_error *err);

/* Inserts a mention unless (source, key) is already stored, or (for a
 * non-NULL url) the same canonical url was stored from any source. Sets
 * m->id either way; *is_new says which. first_seen is set to now when 0. */
int ear_store_mention_put(struct ear_store *st, struct ear_mention *m,
                          int *is_new, struct ear_error *err);
int ear_store_mention_get(struct ear_store *st, int64_t id,
                          struct ear_mention *out, struct ear_error *err);
/* Records the language of a stored mention whose source did not say it
 * (the analyzer detects it after the mention is stored, since only new
 * mentions are analyzed). lang "hu" or "en"; a mention that already has a
 * language keeps it. */
int ear_store_mention_set_lang(struct ear_store *st, int64_t id,
                               const char *lang, struct ear_error *err);

int ear_store_verdict_put(struct ear_store *st, int64_t mention_id,
                          const struct ear_verdict *v, struct ear_error *err);
/* EAR_ENOTFOUND when the mention has no verdict. */
int ear_store_verdict_get(struct ear_store *st, int64_t mention_id,
                          struct ear_verdict *out, struct ear_error *err);

/* Appends to the event log at time now. queue_id / mention_id may be 0. */
int ear_store_event(struct ear_store *st, int64_t queue_id,
                    int64_t mention_id, const char *actor, const char *kind,
                    const char *from_state, const char *to_state,
                    const char *note, struct ear_error *err);
/* The same at a given time (0 = now), for callers with their own clock. */
int ear_store_event_at(struct ear_store *st, int64_t at, int64_t queue_id,
                       int64_t mention_id, const char *actor,
                       const char *kind, const char *from_state,
                       const char *to_state, const char *note,
                       struct ear_error *err);

/* A prepared statement for sql, cached for the store's lifetime and
 * finalized on close. sql must be a string with static storage (its address
 * is the cache key). The statement comes reset with bindings cleared;
 * borrowed: do not finalize it. */
struct sqlite3_stmt;
int ear_store_stmt(struct ear_store *st, struct sqlite3_stmt **out,
                   const char *sql, struct ear_error *err);

#endif
