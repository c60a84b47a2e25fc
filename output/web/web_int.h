/*
 * web internals shared by the library's files.
 *
 *   server.c   the libmicrohttpd daemon: connections, request bodies,
 *              routing, responses with their security headers, the
 *              per-thread store connections and the response cache
 *   auth.c     sessions, login and logout, the CSRF check, the login
 *              rate limit, trusted proxies
 *   api.c      the JSON API over the queue, incidents, KPIs and rules
 *   metrics.c  /metrics (Prometheus text) and the server's own counters
 *   users.c    users from the config and the store, crypt(3) hashes
 *   assets.c   (generated at build time) the page's files as C arrays
 *
 * A request runs entirely on one server thread; that thread's store
 * connection (struct web_thread) is used by nothing else. What threads
 * share (sessions, settings, cache, counters) sits behind mutexes.
 */
#ifndef EAR_WEB_INT_H
#define EAR_WEB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <microhttpd.h>
#include <jansson.h>
#include "output/web/web.h"

#define EAR_WEB_MAX_BODY ((size_t)64 << 10)   /* request bodies */
#define EAR_WEB_MAX_NOTE 4000                 /* bytes of a note */
#define EAR_WEB_MAX_SESSIONS 1024
#define EAR_WEB_CACHE_SLOTS 64
#define EAR_WEB_CACHE_MAX_MS 60000            /* an answer's longest life */
#define EAR_WEB_SESSION_COOKIE "earshot_session"
/* json_dumps() flags for every answer (10 digits: no 0.69140000000000001) */
#define EAR_WEB_JSON_FLAGS \
    (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* ------------------------------------------------------------ assets */

struct ear_web_asset {
    const char *path;          /* "/app.js" */
    const char *type;          /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag;          /* "\"sha256-prefix\"" */
};

extern const struct ear_web_asset ear_web__assets[];
extern const size_t ear_web__nassets;

/* ------------------------------------------------------------ settings */

/* What the server takes from the config; replaced whole on reconfigure and
 * reference-counted so a request keeps the one it started with. */
struct web_team {
    char *name;
    char **members; /* NULL-terminated */
};

struct web_settings {
    int refs;                   /* under ear_web.lock */
    struct ear_web_user *users; /* the config's users */
    size_t nusers;
    struct web_team *teams;
    size_t nteams;
    char *listen;               /* serve.listen, NULL when absent */
    long threads;               /* serve.threads, 0 when absent */
    char **trusted;             /* serve.trusted_proxies (addresses) */
    size_t ntrusted;
    int64_t session_idle;       /* seconds */
    int64_t session_max;
    long login_attempts;        /* failures allowed per window */
    int64_t login_window;
    int secure_cookie;          /* -1 auto (TLS seen via proxy), 0, 1 */
    char *title;                /* serve.title: the page's heading */
};

/* Reads and checks the config (users:, serve:, teams). New *out. */
int ear_web__settings_new(struct web_settings **out,
                          const struct ear_config *cfg,
                          struct ear_error *err);
void ear_web__settings_free(struct web_settings *s);

/* The config's users: list, checked. New *out. */
int ear_web__config_users(struct ear_web_user **out, size_t *n,
                          const struct ear_config *cfg,
                          struct ear_error *err);
/* Looks name up in the config's users (cusers) and the store's table and
 * merges the two. EAR_ENOTFOUND when neither has it. */
int ear_web__user_find(struct ear_web_user *out,
                       const struct ear_web_user *cusers, size_t ncusers,
                       struct ear_store *st, const char *name,
                       struct ear_error *err);
/* Every user, merged (config order, then the store's others). */
int ear_web__users_merge(struct ear_web_user **out, size_t *n,
                         const struct ear_web_user *cusers, size_t ncusers,
                         struct ear_store *st, struct ear_error *err);
/* 1 when name is a valid user name. */
int ear_web__name_ok(const char *name);

/* ------------------------------------------------------------ sessions */

struct web_session {
    char token[65];     /* hex of 32 random bytes; "" = free slot */
    char csrf[65];
    char user[65];
    char team[65];
    enum ear_role role;
    char hash_tag[17];  /* start of the password hash's digest part */
    int64_t created;
    int64_t last_seen;
    int64_t checked;    /* last time the user was looked up again */
};

/* ------------------------------------------------------------ cache */

struct web_cache_entry {
    char *key;
    char *body;
    size_t len;
    uint64_t gen;       /* the store generation it was computed in */
    int64_t until;      /* ear_now() before which it is right */
    int64_t born_ms;
    char etag[24];
    int busy;           /* a thread is computing it: others wait */
};

/* ------------------------------------------------------------ metrics */

enum web_route {
    WEB_R_PAGE, WEB_R_ASSET, WEB_R_HEALTH, WEB_R_METRICS, WEB_R_LOGIN,
    WEB_R_LOGOUT, WEB_R_ME, WEB_R_USERS, WEB_R_QUEUE, WEB_R_ITEM,
    WEB_R_ACTION, WEB_R_INCIDENTS, WEB_R_KPIS, WEB_R_RULES, WEB_R_OTHER,
    WEB_R_COUNT
};

#define WEB_NBUCKETS 10
extern const double ear_web__buckets[WEB_NBUCKETS]; /* seconds */

struct web_route_stats {
    uint64_t by_class[6];       /* 1xx .. 5xx at [1..5] */
    uint64_t buckets[WEB_NBUCKETS];
    uint64_t count;
    double sum;                 /* seconds */
};

/* ------------------------------------------------------------ server */

/* One server thread's own store connection. */
struct web_thread {
    struct ear_store *st;
    struct web_thread *next;
};

struct ear_web {
    struct MHD_Daemon *daemon;
    char *store_path;
    char url[128];
    int port;
    pthread_mutex_t lock;       /* settings, sessions, limits, threads */
    struct web_settings *settings;
    struct web_session *sessions;   /* EAR_WEB_MAX_SESSIONS */
    struct web_limit *limits;
    size_t nlimits;
    pthread_key_t key;          /* -> struct web_thread */
    struct web_thread *threads;
    pthread_mutex_t cache_lock;
    pthread_cond_t cache_done;  /* a busy entry was filled or released */
    struct web_cache_entry cache[EAR_WEB_CACHE_SLOTS];
    size_t cache_next;
    atomic_uint_fast64_t gen;   /* bumped by every store change seen */
    pthread_mutex_t watch_lock; /* watch, watch_version */
    struct ear_store *watch;    /* never writes: sees every commit */
    int64_t watch_version;      /* its last PRAGMA data_version */
    pthread_mutex_t stats_lock;
    struct web_route_stats stats[WEB_R_COUNT];
    int64_t started;
    char *dummy_hash;           /* verified against for unknown users */
};

/* A request in progress: the body as it arrives, then who asks. */
struct web_req {
    struct ear_web *w;
    struct MHD_Connection *con;
    const char *method;
    const char *url;
    enum web_route route;
    struct ear_buf body;
    int too_big;
    size_t discarded;           /* body bytes thrown away after too_big */
    struct web_settings *set;   /* referenced for the request's life */
    struct web_thread *th;
    char ip[64];                /* the client (behind a trusted proxy: its
                                   X-Forwarded-For) */
    int secure;                 /* TLS seen (proxy said https) */
    int authed;
    struct web_session sess;    /* a copy, when authed */
    int status;                 /* what was answered */
    uint64_t cache_gen;         /* generation seen before computing */
    char *cache_claim;          /* key this request computes (busy) */
    int64_t t0_ns;
};

/* The calling thread's store connection (opened on first use). NULL with
 * err filled when it cannot be opened. Also calls ear_web__watch(). */
struct web_thread *ear_web__thread(struct ear_web *w, struct ear_error *err);
/* Notices a commit to the store by any connection or process since the
 * last call (this server's own included) and bumps w->gen, once, for it. */
void ear_web__watch(struct ear_web *w);
/* After something other than the store changed the answers (settings). */
void ear_web__changed(struct ear_web *w);

/* Responses. Each queues the response on req->con and returns the MHD
 * result. Every response carries the security headers (CSP, nosniff,
 * frame and referrer policies) and Cache-Control: no-store unless
 * cacheable. */
enum MHD_Result ear_web__respond(struct web_req *req, unsigned status,
                                 const char *type, const void *body,
                                 size_t len, int copy,
                                 const char *const *headers);
/* Steals j (NULL = out of memory: a 500). */
enum MHD_Result ear_web__json(struct web_req *req, unsigned status,
                              json_t *j);
/* {"error": message, "status": status, "field": field (when non-NULL)} */
enum MHD_Result ear_web__error(struct web_req *req, unsigned status,
                               const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The status for an ear_err from the store or the queue, and the answer. */
enum MHD_Result ear_web__fail(struct web_req *req, int rc,
                              const struct ear_error *err);
/* A cached JSON body for key, answered with its ETag (304 on
 * If-None-Match): 1 when answered, 0 when not cached (or no longer right:
 * the store changed, or its time passed). Call before computing: it notes
 * the store generation the new answer will belong to, and claims the key,
 * so that other requests for it wait for this one's answer instead of
 * computing it too (released by ear_web__cache_put or when the request
 * ends). */
int ear_web__cache_answer(struct web_req *req, const char *key,
                          enum MHD_Result *ret);
/* Stores body under key, right until ear_now() reaches until (and the
 * store changes), and answers it. Steals body (free()). */
enum MHD_Result ear_web__cache_put(struct web_req *req, const char *key,
                                   char *body, size_t len, int64_t until);
/* As ear_web__cache_answer(), for a body used in another answer (the
 * page's boot data): 1 with a copy of the cached body in *body (new; free
 * it), its length and ETag; 0 when not cached, after claiming the key as
 * ear_web__cache_answer() does. A request claims one key at a time. */
int ear_web__cache_get(struct web_req *req, const char *key, char **body,
                       size_t *len, char etag[24]);
/* As ear_web__cache_get(), but only what is there: never waits, never
 * claims the key. */
int ear_web__cache_peek(struct web_req *req, const char *key, char **body,
                        size_t *len, char etag[24]);
/* As ear_web__cache_put() without answering; fills etag. Steals body. */
void ear_web__cache_keep(struct web_req *req, const char *key, char *body,
                         size_t len, int64_t until, char etag[24]);
/* Gives up a claim that ear_web__cache_put() did not fill. */
void ear_web__cache_release(struct web_req *req);
/* Milliseconds on the monotonic clock. */
int64_t ear_web__mono_ms(void);

/* auth.c */
/* Who asks: fills req->ip, req->secure and, with a valid session cookie,
 * req->sess and req->authed. */
void ear_web__identify(struct web_req *req);
/* 1 when the request may change state: a session and the right
 * X-CSRF-Token. Otherwise answers 401/403 into *ret and returns 0. */
int ear_web__require(struct web_req *req, int csrf, enum MHD_Result *ret);
enum MHD_Result ear_web__login(struct web_req *req);
enum MHD_Result ear_web__logout(struct web_req *req);
enum MHD_Result ear_web__me(struct web_req *req);
/* What /api/me answers for the request's session. New reference. */
json_t *ear_web__me_json(const struct web_req *req);
/* Frees the session and rate-limit tables. */
void ear_web__auth_free(struct ear_web *w);
/* Random bytes as lowercase hex (2 * n chars + NUL). EAR_EIO on failure. */
int ear_web__random_hex(char *out, size_t n);

/* api.c */
enum MHD_Result ear_web__api_queue(struct web_req *req);
enum MHD_Result ear_web__api_item(struct web_req *req, int64_t id);
enum MHD_Result ear_web__api_action(struct web_req *req, int64_t id,
                                    const char *verb);
enum MHD_Result ear_web__api_incidents(struct web_req *req);
enum MHD_Result ear_web__api_kpis(struct web_req *req);
enum MHD_Result ear_web__api_rules(struct web_req *req);
enum MHD_Result ear_web__api_users(struct web_req *req);
/* The page's boot data for an authenticated request to the page: what
 * the page would otherwise ask the API for before it shows anything (who
 * is logged in, the first page of the queue for the filters in the page's
 * URL, the first item's detail, counts, open incidents, users, and the
 * KPIs when they are cached: they are slow to compute), as
 * one JSON object in which every <, > and & is escaped as \u003c etc., so
 * that it can sit in a <script type="application/json"> element without
 * user text closing it. A part that cannot be computed is left out (the
 * page asks for it then). New string (free()); NULL when out of memory. */
char *ear_web__boot_json(struct web_req *req, size_t *len);
/* The request body as a JSON object with only the given keys (NULL-term.).
 * Answers 400/415 into *ret and returns NULL otherwise. New reference. */
json_t *ear_web__body_object(struct web_req *req, const char *const *keys,
                             enum MHD_Result *ret);

/* metrics.c */
enum MHD_Result ear_web__metrics(struct web_req *req);
void ear_web__count(struct ear_web *w, enum web_route r, unsigned status,
                    double seconds);

#endif
