/*
 * The HTTP server: a libmicrohttpd daemon with a pool of threads of its
 * own, so that `earshot serve` and `earshot watch --serve` only start it
 * and carry on.
 *
 * A request arrives in on_request() one or more times: first with its
 * headers (a body that says it is too big is refused there), then with
 * pieces of its body (collected up to EAR_WEB_MAX_BODY), then once more to
 * be answered by dispatch(), which routes by method and path. Every
 * response goes through ear_web__respond(), which adds the security
 * headers. on_completed() counts the request for /metrics and frees it.
 *
 * Each pool thread opens its own store connection on first use. Before
 * each request the server reads PRAGMA data_version on one more
 * connection of its own that never writes (the watcher), which changes
 * when any other connection (a server thread, `earshot run`, the poller of
 * `watch`) has committed; that bumps w->gen, the generation the response
 * cache checks, once for each change (each thread's own connection,
 * noticing the change on its own next request, would make the cache new
 * once per thread). So the queue list is answered from memory until the
 * store changes or the next open item passes its deadline (overdue flags
 * and the order move then), at most a minute.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "output/web/web_int.h"

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

int64_t ear_web__mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------ store */

void ear_web__watch(struct ear_web *w)
{
    static const char sql[] = "PRAGMA data_version";
    struct sqlite3_stmt *s;
    struct ear_error ignore;
    int64_t v;

    pthread_mutex_lock(&w->watch_lock);
    if (ear_store_stmt(w->watch, &s, sql, &ignore) == 0) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            v = sqlite3_column_int64(s, 0);
            if (v != w->watch_version)
                atomic_fetch_add(&w->gen, 1);
            w->watch_version = v;
        }
        sqlite3_reset(s);
    } else {
        atomic_fetch_add(&w->gen, 1); /* cannot tell: assume a change */
    }
    pthread_mutex_unlock(&w->watch_lock);
}

struct web_thread *ear_web__thread(struct ear_web *w, struct ear_error *err)
{
    struct web_thread *th = pthread_getspecific(w->key);

    if (!th) {
        th = calloc(1, sizeof *th);
        if (!th) {
            ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            return NULL;
        }
        if (ear_store_open(&th->st, w->store_path, err) < 0) {
            free(th);
            return NULL;
        }
        pthread_setspecific(w->key, th);
        pthread_mutex_lock(&w->lock);
        th->next = w->threads;
        w->threads = th;
        pthread_mutex_unlock(&w->lock);
    }
    ear_web__watch(w);
    return th;
}

void ear_web__changed(struct ear_web *w)
{
    atomic_fetch_add(&w->gen, 1);
}

/* ------------------------------------------------------------ responses */

enum MHD_Result ear_web__respond(struct web_req *req, unsigned status,
                                 const char *type, const void *body,
                                 size_t len, int copy,
                                 const char *const *headers)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    int cacheable = 0;

    r = MHD_create_response_from_buffer(len, (void *)body,
                                        copy ? MHD_RESPMEM_MUST_COPY
                                             : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
        if (strcmp(headers[i], "Cache-Control") == 0)
            cacheable = 1;
        MHD_add_response_header(r, headers[i], headers[i + 1]);
    }
    if (!cacheable)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    req->status = (int)status;
    ret = MHD_queue_response(req->con, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result ear_web__json(struct web_req *req, unsigned status,
                              json_t *j)
{
    char *s;
    enum MHD_Result ret;

    if (!j)
        return ear_web__error(req, 500, NULL, "out of memory");
    s = json_dumps(j, EAR_WEB_JSON_FLAGS);
    json_decref(j);
    if (!s)
        return ear_web__error(req, 500, NULL, "out of memory");
    ret = ear_web__respond(req, status, "application/json; charset=utf-8",
                           s, strlen(s), 1, NULL);
    free(s);
    return ret;
}

enum MHD_Result ear_web__error(struct web_req *req, unsigned status,
                               const char *field, const char *fmt, ...)
{
    static const char oom[] =
        "{\"error\":\"out of memory\",\"status\":500}";
    char text[600];
    va_list ap;
    json_t *j;
    char *s;
    enum MHD_Result ret;
    const char *hdr[] = {"WWW-Authenticate", "Cookie realm=\"earshot\"",
                         NULL, NULL};

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    j = json_object();
    if (j) {
        json_object_set_new(j, "error", json_string(text));
        json_object_set_new(j, "status", json_integer(status));
        if (field)
            json_object_set_new(j, "field", json_string(field));
    }
    s = j ? json_dumps(j, EAR_WEB_JSON_FLAGS) : NULL;
    json_decref(j);
    if (!s)
        return ear_web__respond(req, 500, "application/json; charset=utf-8",
                                oom, sizeof oom - 1, 0, NULL);
    ret = ear_web__respond(req, status, "application/json; charset=utf-8",
                           s, strlen(s), 1, status == 401 ? hdr : NULL);
    free(s);
    return ret;
}

enum MHD_Result ear_web__fail(struct web_req *req, int rc,
                              const struct ear_error *err)
{
    const char *text = err && err->text[0] ? err->text : ear_strerror(rc);

    switch (rc) {
    case EAR_ENOTFOUND:
        return ear_web__error(req, 404, NULL, "%s", text);
    case EAR_ESTATE:
        return ear_web__error(req, 409, NULL, "%s", text);
    case EAR_EINVAL:
        return ear_web__error(req, 400, NULL, "%s", text);
    case EAR_EBUSY:
        return ear_web__error(req, 503, NULL,
                              "the store is busy; try again");
    default:
        /* Store and system messages can name files: say only what kind
         * of failure it was. */
        return ear_web__error(req, 500, NULL, "internal error: %s",
                              ear_strerror(rc));
    }
}

/* ------------------------------------------------------------ cache */

static void etag_of(char out[24], const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

static enum MHD_Result answer_etag(struct web_req *req, const char *body,
                                   size_t len, const char *etag)
{
    const char *inm = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                                  "If-None-Match");
    const char *hdr[] = {"ETag", etag, "Cache-Control", "no-cache, private",
                         NULL, NULL};

    if (inm && strcmp(inm, etag) == 0)
        return ear_web__respond(req, 304, NULL, "", 0, 0, hdr);
    return ear_web__respond(req, 200, "application/json; charset=utf-8",
                            body, len, 1, hdr);
}

#define CACHE_WAIT_MS 5000

static struct web_cache_entry *cache_find(struct ear_web *w, const char *key)
{
    for (size_t i = 0; i < EAR_WEB_CACHE_SLOTS; i++)
        if (w->cache[i].key && strcmp(w->cache[i].key, key) == 0)
            return &w->cache[i];
    return NULL;
}

static void cache_wait(struct ear_web *w, int64_t deadline_ms)
{
    struct timespec ts;
    int64_t now = ear_web__mono_ms(), wait = deadline_ms - now;

    if (wait <= 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(wait / 1000);
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cache_done, &w->cache_lock, &ts);
}

/* Under w->cache_lock: 1 when e holds an answer that is still right. */
static int cache_fresh(struct ear_web *w, const struct web_cache_entry *e)
{
    return e && e->body && e->gen == atomic_load(&w->gen) &&
           ear_now() < e->until &&
           ear_web__mono_ms() - e->born_ms < EAR_WEB_CACHE_MAX_MS;
}

/* Under w->cache_lock: the entry for key when its answer is still right
 * (NULL otherwise, after claiming the key for this request when no other
 * request computes it). Waits, up to CACHE_WAIT_MS, for a request that
 * computes it. */
static struct web_cache_entry *cache_lookup(struct web_req *req,
                                            const char *key)
{
    struct ear_web *w = req->w;
    struct web_cache_entry *e;
    int64_t deadline = ear_web__mono_ms() + CACHE_WAIT_MS;

    for (;;) {
        uint64_t gen = atomic_load(&w->gen);

        req->cache_gen = gen;
        e = cache_find(w, key);
        if (e && e->body && e->gen == gen && ear_now() < e->until &&
            ear_web__mono_ms() - e->born_ms < EAR_WEB_CACHE_MAX_MS)
            return e; /* as cache_fresh(), for the generation noted */
        if (e && e->busy && ear_web__mono_ms() < deadline) {
            cache_wait(w, deadline);
            continue;
        }
        /* claim it: this request computes the answer */
        if (!e) {
            for (size_t i = 0; i < EAR_WEB_CACHE_SLOTS && !e; i++) {
                struct web_cache_entry *c =
                    &w->cache[(w->cache_next + i) % EAR_WEB_CACHE_SLOTS];

                if (!c->busy)
                    e = c;
            }
            w->cache_next = (w->cache_next + 1) % EAR_WEB_CACHE_SLOTS;
            if (e) {
                free(e->key);
                free(e->body);
                memset(e, 0, sizeof *e);
                e->key = ear_strdup(key);
                if (!e->key)
                    e = NULL;
            }
        }
        if (e && !e->busy && !req->cache_claim) {
            req->cache_claim = ear_strdup(key);
            if (req->cache_claim)
                e->busy = 1;
        }
        return NULL;
    }
}

int ear_web__cache_answer(struct web_req *req, const char *key,
                          enum MHD_Result *ret)
{
    struct ear_web *w = req->w;
    struct web_cache_entry *e;

    pthread_mutex_lock(&w->cache_lock);
    e = cache_lookup(req, key);
    /* answered under the lock: MHD copies the body */
    if (e)
        *ret = answer_etag(req, e->body, e->len, e->etag);
    pthread_mutex_unlock(&w->cache_lock);
    return e != NULL;
}

/* A copy of a cached answer for the caller (under the cache lock). */
static void copy_entry(const struct web_cache_entry *e, char **body,
                       size_t *len, char etag[24])
{
    *body = malloc(e->len + 1);
    if (*body) {
        memcpy(*body, e->body, e->len + 1);
        *len = e->len;
        memcpy(etag, e->etag, 24);
    }
}

int ear_web__cache_get(struct web_req *req, const char *key, char **body,
                       size_t *len, char etag[24])
{
    struct ear_web *w = req->w;
    struct web_cache_entry *e;

    *body = NULL;
    pthread_mutex_lock(&w->cache_lock);
    e = cache_lookup(req, key);
    if (e)
        copy_entry(e, body, len, etag);
    pthread_mutex_unlock(&w->cache_lock);
    return *body != NULL;
}

int ear_web__cache_peek(struct web_req *req, const char *key, char **body,
                        size_t *len, char etag[24])
{
    struct ear_web *w = req->w;
    struct web_cache_entry *e;

    *body = NULL;
    pthread_mutex_lock(&w->cache_lock);
    e = cache_find(w, key);
    if (cache_fresh(w, e))
        copy_entry(e, body, len, etag);
    pthread_mutex_unlock(&w->cache_lock);
    return *body != NULL;
}

void ear_web__cache_release(struct web_req *req)
{
    struct ear_web *w = req->w;
    struct web_cache_entry *e;

    if (!req->cache_claim)
        return;
    pthread_mutex_lock(&w->cache_lock);
    e = cache_find(w, req->cache_claim);
    if (e)
        e->busy = 0;
    pthread_cond_broadcast(&w->cache_done);
    pthread_mutex_unlock(&w->cache_lock);
    free(req->cache_claim);
    req->cache_claim = NULL;
}

/* Fills the entry req claimed for key (etag given); steals body. */
static void cache_store(struct web_req *req, const char *key, char *body,
                        size_t len, int64_t until, const char etag[24])
{
    struct ear_web *w = req->w;
    struct web_cache_entry *e;

    pthread_mutex_lock(&w->cache_lock);
    e = cache_find(w, key);
    if (e && req->cache_claim && strcmp(req->cache_claim, key) == 0 &&
        e->busy) {
        free(e->body);
        e->body = body;
        body = NULL;
        e->len = len;
        /* The generation from before the queries ran: a change that lands
         * meanwhile makes this entry old at once rather than never. */
        e->gen = req->cache_gen;
        e->until = until;
        e->born_ms = ear_web__mono_ms();
        memcpy(e->etag, etag, sizeof e->etag);
        e->busy = 0;
        pthread_cond_broadcast(&w->cache_done);
    }
    pthread_mutex_unlock(&w->cache_lock);
    free(body);
    ear_web__cache_release(req);
}

void ear_web__cache_keep(struct web_req *req, const char *key, char *body,
                         size_t len, int64_t until, char etag[24])
{
    etag_of(etag, body, len);
    cache_store(req, key, body, len, until, etag);
}

enum MHD_Result ear_web__cache_put(struct web_req *req, const char *key,
                                   char *body, size_t len, int64_t until)
{
    enum MHD_Result ret;
    char etag[24];

    etag_of(etag, body, len);
    ret = answer_etag(req, body, len, etag);
    cache_store(req, key, body, len, until, etag);
    return ret;
}

/* ------------------------------------------------------------ routing */

static const struct ear_web_asset *asset_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < ear_web__nassets; i++)
        if (strcmp(ear_web__assets[i].path, path) == 0)
            return &ear_web__assets[i];
    return NULL;
}

static enum MHD_Result serve_asset(struct web_req *req,
                                   const struct ear_web_asset *a)
{
    const char *inm = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                                  "If-None-Match");
    const char *v = MHD_lookup_connection_value(req->con,
                                                MHD_GET_ARGUMENT_KIND, "v");
    const char *hdr[] = {"ETag", a->etag, "Cache-Control", "no-cache",
                         NULL, NULL, NULL};
    size_t vlen = strlen(a->etag) - 2; /* the hash inside the quotes */

    /* The page names its files with their hash (embed.cmake): that URL
     * always answers the same bytes, so a browser need not ask again. */
    if (v && strlen(v) == vlen && strncmp(v, a->etag + 1, vlen) == 0)
        hdr[3] = "public, max-age=31536000, immutable";
    /* the page itself differs with a session (serve_page) */
    if (req->route == WEB_R_PAGE) {
        hdr[4] = "Vary";
        hdr[5] = "Cookie";
    }
    if (inm && strcmp(inm, a->etag) == 0)
        return ear_web__respond(req, 304, NULL, "", 0, 0, hdr);
    return ear_web__respond(req, 200, a->type, a->data, a->len, 0, hdr);
}

/* The page for a logged-in user: index.html with the boot data (what the
 * page would otherwise ask the API for first) inside its
 * <script type="application/json" id="boot"> element, so that it shows the
 * queue and the first item without a round trip. The element is data, not
 * script (the CSP allows no inline script); the JSON has <, > and &
 * escaped, so no text in it can end the element. Without a session the
 * page is the plain file, cacheable by its ETag. */
static enum MHD_Result serve_page(struct web_req *req,
                                  const struct ear_web_asset *a)
{
    static const char mark[] = "id=\"boot\">";
    const char *hdr[] = {"Cache-Control", "no-store, private",
                         "Vary", "Cookie", NULL, NULL};
    const char *html = (const char *)a->data, *at;
    struct ear_buf page;
    enum MHD_Result ret;
    char *boot, *body;
    size_t blen = 0, head, len = 0;

    ear_web__identify(req);
    at = strstr(html, mark);
    if (!req->authed || !at)
        return serve_asset(req, a);
    boot = ear_web__boot_json(req, &blen);
    if (!boot)
        return serve_asset(req, a);
    head = (size_t)(at - html) + sizeof mark - 1;
    ear_buf_init(&page, a->len + blen + 16);
    if (ear_buf_addn(&page, html, head) < 0 ||
        ear_buf_addn(&page, boot, blen) < 0 ||
        ear_buf_addn(&page, html + head, a->len - head) < 0) {
        free(boot);
        return ear_web__error(req, 500, NULL, "out of memory");
    }
    free(boot);
    body = ear_buf_take(&page, &len);
    if (!body)
        return ear_web__error(req, 500, NULL, "out of memory");
    ret = ear_web__respond(req, 200, a->type, body, len, 1, hdr);
    free(body);
    return ret;
}

static enum MHD_Result health(struct web_req *req)
{
    struct ear_error err;
    struct web_thread *th;
    json_t *j;

    ear_error_clear(&err);
    th = ear_web__thread(req->w, &err);
    if (!th)
        return ear_web__error(req, 503, NULL, "store unavailable: %s",
                              ear_strerror(err.code));
    j = json_pack("{s:s, s:i, s:s}", "status", "ok", "schema",
                  ear_store_schema_version(th->st), "version", EAR_VERSION);
    return ear_web__json(req, 200, j);
}

static enum MHD_Result method_not_allowed(struct web_req *req,
                                          const char *allow)
{
    const char *hdr[] = {"Allow", allow, NULL, NULL};
    static const char body[] =
        "{\"error\":\"method not allowed\",\"status\":405}";

    return ear_web__respond(req, 405, "application/json; charset=utf-8",
                            body, sizeof body - 1, 0, hdr);
}

/* "/api/queue/12/assign" -> id 12, verb "assign"; "/api/queue/12" -> id,
 * verb "". 0 when the path is not of that shape. */
static int parse_item_path(const char *rest, int64_t *id, const char **verb)
{
    char *end;
    long long v;

    if (*rest < '0' || *rest > '9')
        return 0;
    errno = 0;
    v = strtoll(rest, &end, 10);
    if (errno || v <= 0)
        return 0;
    *id = (int64_t)v;
    if (*end == '\0') {
        *verb = "";
        return 1;
    }
    if (*end != '/' || !end[1] || strchr(end + 1, '/'))
        return 0;
    *verb = end + 1;
    return 1;
}

static enum MHD_Result dispatch(struct web_req *req)
{
    const char *url = req->url;
    int get = strcmp(req->method, "GET") == 0 ||
              strcmp(req->method, "HEAD") == 0;
    int post = strcmp(req->method, "POST") == 0;
    const struct ear_web_asset *a;
    enum MHD_Result ret;
    int64_t id = 0;
    const char *verb = "";

    if (strncmp(url, "/api/", 5) != 0) {
        if (strcmp(url, "/healthz") == 0) {
            req->route = WEB_R_HEALTH;
            return get ? health(req) : method_not_allowed(req, "GET, HEAD");
        }
        if (strcmp(url, "/metrics") == 0) {
            req->route = WEB_R_METRICS;
            return get ? ear_web__metrics(req)
                       : method_not_allowed(req, "GET, HEAD");
        }
        a = asset_find(url);
        if (a) {
            req->route = strcmp(a->path, "/index.html") == 0 ? WEB_R_PAGE
                                                             : WEB_R_ASSET;
            if (!get)
                return method_not_allowed(req, "GET, HEAD");
            return req->route == WEB_R_PAGE ? serve_page(req, a)
                                            : serve_asset(req, a);
        }
        return ear_web__error(req, 404, NULL, "no such page");
    }

    ear_web__identify(req);
    url += 5;
    if (strcmp(url, "login") == 0) {
        req->route = WEB_R_LOGIN;
        return post ? ear_web__login(req) : method_not_allowed(req, "POST");
    }
    if (strcmp(url, "logout") == 0) {
        req->route = WEB_R_LOGOUT;
        return post ? ear_web__logout(req) : method_not_allowed(req, "POST");
    }
    if (strcmp(url, "me") == 0) {
        req->route = WEB_R_ME;
        return get ? ear_web__me(req) : method_not_allowed(req, "GET, HEAD");
    }
    if (strcmp(url, "users") == 0)
        req->route = WEB_R_USERS;
    else if (strcmp(url, "queue") == 0)
        req->route = WEB_R_QUEUE;
    else if (strcmp(url, "incidents") == 0)
        req->route = WEB_R_INCIDENTS;
    else if (strcmp(url, "kpis") == 0)
        req->route = WEB_R_KPIS;
    else if (strcmp(url, "rules") == 0)
        req->route = WEB_R_RULES;
    else if (strncmp(url, "queue/", 6) == 0 &&
             parse_item_path(url + 6, &id, &verb))
        req->route = *verb ? WEB_R_ACTION : WEB_R_ITEM;
    else {
        if (!ear_web__require(req, 0, &ret))
            return ret;
        return ear_web__error(req, 404, NULL, "no such API endpoint");
    }
    if (req->route == WEB_R_ACTION) {
        if (!post)
            return method_not_allowed(req, "POST");
        if (!ear_web__require(req, 1, &ret))
            return ret;
        return ear_web__api_action(req, id, verb);
    }
    if (!get)
        return method_not_allowed(req, "GET, HEAD");
    if (!ear_web__require(req, 0, &ret))
        return ret;
    switch (req->route) {
    case WEB_R_USERS: return ear_web__api_users(req);
    case WEB_R_QUEUE: return ear_web__api_queue(req);
    case WEB_R_ITEM: return ear_web__api_item(req, id);
    case WEB_R_INCIDENTS: return ear_web__api_incidents(req);
    case WEB_R_KPIS: return ear_web__api_kpis(req);
    default: return ear_web__api_rules(req);
    }
}

/* ------------------------------------------------------------ requests */

static void req_free(struct web_req *req)
{
    struct ear_web *w;

    if (!req)
        return;
    w = req->w;
    ear_web__cache_release(req);
    if (req->set) {
        pthread_mutex_lock(&w->lock);
        if (--req->set->refs == 0 && req->set != w->settings)
            ear_web__settings_free(req->set);
        pthread_mutex_unlock(&w->lock);
    }
    ear_buf_dispose(&req->body);
    free(req);
}

static void on_completed(void *cls, struct MHD_Connection *con,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct web_req *req = *con_cls;

    (void)cls;
    (void)con;
    (void)toe;
    if (!req)
        return;
    ear_web__count(req->w, req->route, (unsigned)req->status,
                   (double)(mono_ns() - req->t0_ns) / 1e9);
    req_free(req);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct ear_web *w = cls;
    struct web_req *req = *con_cls;

    (void)version;
    if (!req) {
        const char *cl;

        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->w = w;
        req->con = con;
        req->method = method;
        req->url = url;
        req->route = WEB_R_OTHER;
        req->t0_ns = mono_ns();
        ear_buf_init(&req->body, EAR_WEB_MAX_BODY);
        pthread_mutex_lock(&w->lock);
        req->set = w->settings;
        req->set->refs++;
        pthread_mutex_unlock(&w->lock);
        *con_cls = req;
        cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                         "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > EAR_WEB_MAX_BODY)
            return ear_web__error(req, 413, NULL,
                                  "request body too large (at most %zu "
                                  "bytes)", EAR_WEB_MAX_BODY);
        /* Answered in the next call, also without a body: libmicrohttpd
         * closes the connection after a response queued in the first
         * call, which would cost the browser a new connection for each
         * of the page's requests. */
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_big &&
            ear_buf_addn(&req->body, upload_data, *upload_data_size) < 0)
            req->too_big = 1; /* the buffer freed itself */
        if (req->too_big) {
            /* count what is thrown away; a stream that never ends is cut */
            req->discarded += *upload_data_size;
            if (req->discarded > 16 * EAR_WEB_MAX_BODY)
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_big)
        return ear_web__error(req, 413, NULL,
                              "request body too large (at most %zu bytes)",
                              EAR_WEB_MAX_BODY);
    return dispatch(req);
}

/* ------------------------------------------------------------ start/stop */

static int parse_listen(const char *addr, struct sockaddr_storage *ss,
                        socklen_t *sslen, struct ear_error *err)
{
    char host[256];
    const char *port, *colon;
    struct addrinfo hints, *res = NULL;
    int rc;

    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');

        if (!rb || rb[1] != ':' || (size_t)(rb - addr) >= sizeof host)
            return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                                 "bad listen address '%s' (expected "
                                 "[v6-address]:port)", addr);
        memcpy(host, addr + 1, (size_t)(rb - addr - 1));
        host[rb - addr - 1] = '\0';
        port = rb + 2;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host)
            return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                                 "bad listen address '%s' (expected "
                                 "host:port, e.g. 127.0.0.1:8080)", addr);
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        port = colon + 1;
    }
    if (!*port || strspn(port, "0123456789") != strlen(port) ||
        strtol(port, NULL, 10) > 65535)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "bad port in listen address '%s'", addr);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0 || !res)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "cannot resolve listen address '%s': %s",
                             addr, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int open_socket(int *out, const char *addr, struct sockaddr_storage *ss,
                       struct ear_error *err)
{
    socklen_t sslen = 0;
    int fd, one = 1, rc;

    *out = -1;
    rc = parse_listen(addr, ss, &sslen, err);
    if (rc < 0)
        return rc;
    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return ear_error_set(err, EAR_EIO, NULL, 0, 0, "socket: %s",
                             strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)ss, sslen) < 0 || listen(fd, 512) < 0) {
        rc = ear_error_set(err, EAR_EIO, NULL, 0, 0,
                           "cannot listen on %s: %s", addr, strerror(errno));
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

static void make_url(struct ear_web *w, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        snprintf(w->url, sizeof w->url, "http://[%s]:%d/", host, w->port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(w->url, sizeof w->url, "http://%s:%d/", host, w->port);
    }
}

static void web_free(struct ear_web *w)
{
    struct web_thread *th, *next;

    if (!w)
        return;
    for (th = w->threads; th; th = next) {
        next = th->next;
        ear_store_close(th->st);
        free(th);
    }
    ear_store_close(w->watch);
    for (size_t i = 0; i < EAR_WEB_CACHE_SLOTS; i++) {
        free(w->cache[i].key);
        free(w->cache[i].body);
    }
    ear_web__auth_free(w);
    ear_web__settings_free(w->settings);
    free(w->store_path);
    free(w->dummy_hash);
    pthread_key_delete(w->key);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->cache_lock);
    pthread_mutex_destroy(&w->watch_lock);
    pthread_cond_destroy(&w->cache_done);
    pthread_mutex_destroy(&w->stats_lock);
    free(w);
}

int ear_web_start(struct ear_web **out, const struct ear_config *cfg,
                  const struct ear_web_opts *opts, struct ear_error *err)
{
    struct ear_web *w = NULL;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    const char *addr;
    unsigned threads;
    sigset_t all, old;
    int fd = -1, rc;

    *out = NULL;
    if (!opts || !opts->store_path)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "the server needs a store path");
    w = calloc(1, sizeof *w);
    if (!w)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->cache_lock, NULL);
    pthread_mutex_init(&w->watch_lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cache_done, &ca);
        pthread_condattr_destroy(&ca);
    }
    pthread_mutex_init(&w->stats_lock, NULL);
    atomic_init(&w->gen, 1);
    if (pthread_key_create(&w->key, NULL) != 0) {
        free(w);
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                             "cannot create a thread key");
    }
    w->started = ear_now();
    w->store_path = ear_strdup(opts->store_path);
    w->sessions = calloc(EAR_WEB_MAX_SESSIONS, sizeof *w->sessions);
    if (!w->store_path || !w->sessions) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    rc = ear_web__settings_new(&w->settings, cfg, err);
    if (rc < 0)
        goto out;
    w->settings->refs = 1;
    {
        char pw[33];

        rc = ear_web__random_hex(pw, 16);
        if (rc == 0)
            rc = ear_web_password_hash(&w->dummy_hash, pw, err);
        if (rc < 0) {
            ear_error_set(err, rc, NULL, 0, 0, "no randomness for hashes");
            goto out;
        }
    }
    /* Fail here, in the caller's thread, when the store cannot be opened
     * (the threads open their own connections later). This connection
     * stays, as the watcher of changes (ear_web__watch). */
    rc = ear_store_open(&w->watch, w->store_path, err);
    if (rc < 0)
        goto out;
    ear_web__watch(w);
    addr = opts->listen ? opts->listen
           : w->settings->listen ? w->settings->listen : "127.0.0.1:8080";
    rc = open_socket(&fd, addr, &ss, err);
    if (rc < 0)
        goto out;
    threads = opts->threads ? opts->threads
              : w->settings->threads > 0 ? (unsigned)w->settings->threads : 4;
    /* The server's threads inherit this mask: signals stay with the
     * caller's thread, where its handlers expect them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    w->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | (ss.ss_family == AF_INET6
                                        ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, on_request, w,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!w->daemon) {
        close(fd);
        rc = ear_error_set(err, EAR_EIO, NULL, 0, 0,
                           "cannot start the HTTP server on %s", addr);
        goto out;
    }
    info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info ? (int)info->port : 0;
    make_url(w, &ss);
    *out = w;
    w = NULL;
out:
    web_free(w);
    return rc;
}

int ear_web_reconfigure(struct ear_web *w, const struct ear_config *cfg,
                        struct ear_error *err)
{
    struct web_settings *s = NULL, *old;
    int rc = ear_web__settings_new(&s, cfg, err);

    if (rc < 0)
        return rc;
    pthread_mutex_lock(&w->lock);
    old = w->settings;
    s->refs = 1;
    w->settings = s;
    if (--old->refs == 0)
        ear_web__settings_free(old);
    pthread_mutex_unlock(&w->lock);
    ear_web__changed(w);
    return 0;
}

const char *ear_web_url(const struct ear_web *w)
{
    return w->url;
}

int ear_web_port(const struct ear_web *w)
{
    return w->port;
}

void ear_web_stop(struct ear_web *w)
{
    if (!w)
        return;
    if (w->daemon)
        MHD_stop_daemon(w->daemon);
    web_free(w);
}
