/*
 * Who is asking, and may they: sessions, login, logout, CSRF, the login
 * rate limit and the proxies whose forwarding headers are believed.
 *
 * A session is 32 random bytes (hex) in an HttpOnly, SameSite=Strict
 * cookie, Secure when the page came over TLS (a trusted proxy said
 * X-Forwarded-Proto: https) or serve.secure_cookie says always. Sessions
 * live in this process's memory: a restart logs everyone out. Each has its
 * own CSRF token, which the page reads from the login answer or /api/me and
 * sends as X-CSRF-Token with every state change; a cross-site page can
 * neither read it nor send the cookie (SameSite=Strict).
 *
 * A session ends after serve.session_idle without requests, after
 * serve.session_max in any case, at logout, and at the next request after
 * its user was removed or their password, team or role changed (looked up
 * again at most every RECHECK_SECONDS).
 *
 * Failed logins are counted per client address and per user name; after
 * serve.login_attempts failures within serve.login_window, both answer 429
 * until the window has passed, whatever the password.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "output/web/web_int.h"

#define RECHECK_SECONDS 5
#define MAX_LIMITS 8192

struct web_limit {
    char key[96];
    long failures;
    int64_t first;
};

int ear_web__random_hex(char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char buf[64];

    if (n > sizeof buf || RAND_bytes(buf, (int)n) != 1)
        return EAR_EIO;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 15];
    }
    out[2 * n] = '\0';
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

void ear_web__auth_free(struct ear_web *w)
{
    if (w->sessions)
        OPENSSL_cleanse(w->sessions,
                        EAR_WEB_MAX_SESSIONS * sizeof *w->sessions);
    free(w->sessions);
    free(w->limits);
    w->sessions = NULL;
    w->limits = NULL;
    w->nlimits = 0;
}

static int token_eq(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == 64 && strlen(b) == 64 && CRYPTO_memcmp(a, b, n) == 0;
}

/* The part of a crypt(3) string after its last '$' (the digest), cut to
 * 16 characters: enough to notice a password change. */
static void hash_tag(char out[17], const char *hash)
{
    const char *p = hash ? strrchr(hash, '$') : NULL;

    snprintf(out, 17, "%s", p ? p + 1 : "");
}

static void copy_name(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s ? s : "");
}

/* ------------------------------------------------------------ identify */

static int trusted(const struct web_settings *s, const char *ip)
{
    for (size_t i = 0; i < s->ntrusted; i++)
        if (strcmp(s->trusted[i], ip) == 0)
            return 1;
    return 0;
}

static void peer_ip(struct web_req *req)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;

    req->ip[0] = '\0';
    ci = MHD_get_connection_info(req->con,
                                 MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                  req->ip, sizeof req->ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  req->ip, sizeof req->ip);
}

/* Behind a trusted proxy the client is the last X-Forwarded-For entry (the
 * one the proxy added; earlier ones are the client's own claims). */
static void forwarded(struct web_req *req)
{
    const char *xff, *proto, *last;
    char buf[64];
    size_t n;

    xff = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                      "X-Forwarded-For");
    proto = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                        "X-Forwarded-Proto");
    if (proto && strcasecmp(proto, "https") == 0)
        req->secure = 1;
    if (!xff)
        return;
    last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    n = strcspn(last, " ");
    if (n == 0 || n >= sizeof buf)
        return;
    memcpy(buf, last, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, (unsigned char[16]){0}) == 1 ||
        inet_pton(AF_INET6, buf, (unsigned char[16]){0}) == 1)
        memcpy(req->ip, buf, n + 1);
}

static void drop_session(struct ear_web *w, const char *token)
{
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < EAR_WEB_MAX_SESSIONS; i++)
        if (w->sessions[i].token[0] &&
            token_eq(w->sessions[i].token, token))
            OPENSSL_cleanse(&w->sessions[i], sizeof w->sessions[i]);
    pthread_mutex_unlock(&w->lock);
}

void ear_web__identify(struct web_req *req)
{
    struct ear_web *w = req->w;
    const struct web_settings *set = req->set;
    const char *cookie;
    int64_t now = ear_now();
    int found = 0, recheck = 0;

    peer_ip(req);
    if (trusted(set, req->ip))
        forwarded(req);
    cookie = MHD_lookup_connection_value(req->con, MHD_COOKIE_KIND,
                                         EAR_WEB_SESSION_COOKIE);
    if (!cookie || strlen(cookie) != 64)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < EAR_WEB_MAX_SESSIONS; i++) {
        struct web_session *s = &w->sessions[i];

        if (!s->token[0] || !token_eq(s->token, cookie))
            continue;
        if (now - s->last_seen > set->session_idle ||
            now - s->created > set->session_max) {
            OPENSSL_cleanse(s, sizeof *s);
            break;
        }
        s->last_seen = now;
        req->sess = *s;
        found = 1;
        if (now - s->checked >= RECHECK_SECONDS) {
            s->checked = now;
            recheck = 1;
        }
        break;
    }
    pthread_mutex_unlock(&w->lock);
    if (!found)
        return;
    if (recheck) {
        struct ear_web_user u;
        struct ear_error err;
        struct web_thread *th;
        char tag[17];
        int rc;

        ear_error_clear(&err);
        th = ear_web__thread(w, &err);
        if (!th)
            return; /* the store is down: no session either */
        rc = ear_web__user_find(&u, set->users, set->nusers, th->st,
                                req->sess.user, &err);
        if (rc == EAR_ENOTFOUND) {
            drop_session(w, cookie);
            return;
        }
        if (rc == 0) {
            hash_tag(tag, u.password_hash);
            if (!u.password_hash || u.role == EAR_ROLE_NONE ||
                strcmp(tag, req->sess.hash_tag) != 0 ||
                u.role != req->sess.role ||
                strcmp(u.team ? u.team : "", req->sess.team) != 0) {
                ear_web_user_dispose(&u);
                drop_session(w, cookie);
                return;
            }
            ear_web_user_dispose(&u);
        }
    }
    req->authed = 1;
}

int ear_web__require(struct web_req *req, int csrf, enum MHD_Result *ret)
{
    const char *tok;

    if (!req->authed) {
        *ret = ear_web__error(req, 401, NULL, "log in first");
        return 0;
    }
    if (!csrf)
        return 1;
    tok = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                      "X-CSRF-Token");
    if (!tok || !token_eq(tok, req->sess.csrf)) {
        *ret = ear_web__error(req, 403, NULL,
                              "missing or wrong X-CSRF-Token header");
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ rate limit */

/* Seconds until key may try again (0 = now). Under w->lock. */
static int64_t limit_wait(struct ear_web *w, const struct web_settings *set,
                          const char *key, int64_t now)
{
    for (size_t i = 0; i < w->nlimits; i++) {
        struct web_limit *l = &w->limits[i];

        if (strcmp(l->key, key) != 0)
            continue;
        if (now - l->first >= set->login_window)
            return 0;
        if (l->failures >= set->login_attempts)
            return set->login_window - (now - l->first);
        return 0;
    }
    return 0;
}

static void limit_fail(struct ear_web *w, const struct web_settings *set,
                       const char *key, int64_t now)
{
    struct web_limit *l = NULL;
    size_t j = 0;

    /* drop the windows that have passed */
    for (size_t i = 0; i < w->nlimits; i++)
        if (now - w->limits[i].first < set->login_window)
            w->limits[j++] = w->limits[i];
    w->nlimits = j;
    for (size_t i = 0; i < w->nlimits; i++)
        if (strcmp(w->limits[i].key, key) == 0)
            l = &w->limits[i];
    if (!l) {
        if (!w->limits) {
            w->limits = calloc(MAX_LIMITS, sizeof *w->limits);
            if (!w->limits)
                return;
        }
        if (w->nlimits == MAX_LIMITS)
            return; /* full of live windows: the per-user limit still holds */
        l = &w->limits[w->nlimits++];
        memset(l, 0, sizeof *l);
        snprintf(l->key, sizeof l->key, "%s", key);
        l->first = now;
    }
    l->failures++;
}

static void limit_clear(struct ear_web *w, const char *key)
{
    for (size_t i = 0; i < w->nlimits; i++)
        if (strcmp(w->limits[i].key, key) == 0)
            w->limits[i].failures = 0;
}

/* ------------------------------------------------------------ login */

static int new_session(struct ear_web *w, struct web_session *s)
{
    struct web_session *slot = NULL;

    if (ear_web__random_hex(s->token, 32) < 0 ||
        ear_web__random_hex(s->csrf, 32) < 0)
        return EAR_EIO;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < EAR_WEB_MAX_SESSIONS; i++) {
        struct web_session *c = &w->sessions[i];

        if (!c->token[0]) {
            slot = c;
            break;
        }
        if (!slot || c->last_seen < slot->last_seen)
            slot = c; /* full: the least recently used goes */
    }
    *slot = *s;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static json_t *me_json(const struct web_req *req,
                       const struct web_session *s)
{
    const struct web_settings *set = req->set;
    json_t *teams = json_array();
    json_t *j;

    for (size_t i = 0; teams && i < set->nteams; i++) {
        json_t *m = json_array();

        for (size_t k = 0; m && set->teams[i].members[k]; k++)
            json_array_append_new(m, json_string(set->teams[i].members[k]));
        json_array_append_new(teams, json_pack("{s:s, s:o*}", "name",
                                               set->teams[i].name,
                                               "members", m));
    }
    j = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:o*}", "user", s->user,
                  "team", s->team[0] ? s->team : NULL, "role",
                  ear_role_name(s->role), "csrf", s->csrf, "title",
                  set->title, "teams", teams);
    return j;
}

/* A cross-site form or fetch names its own origin; the page's requests
 * name ours (or none, from older browsers and API clients). */
static int origin_ok(struct web_req *req)
{
    const char *origin = MHD_lookup_connection_value(req->con,
                                                     MHD_HEADER_KIND,
                                                     "Origin");
    const char *host = MHD_lookup_connection_value(req->con, MHD_HEADER_KIND,
                                                   "Host");
    const char *p;

    if (!origin)
        return 1;
    if (!host)
        return 0;
    p = strstr(origin, "://");
    return p && strcmp(p + 3, host) == 0;
}

enum MHD_Result ear_web__login(struct web_req *req)
{
    static const char *const keys[] = {"user", "password", NULL};
    struct ear_web *w = req->w;
    const struct web_settings *set = req->set;
    struct web_session s;
    struct ear_web_user u;
    struct ear_error err;
    struct web_thread *th;
    enum MHD_Result ret;
    const char *name = NULL, *password = NULL;
    char ukey[96], ikey[96], cookie[256];
    int64_t now = ear_now(), wait;
    json_t *body, *j;
    int rc, ok;

    if (!origin_ok(req))
        return ear_web__error(req, 403, NULL, "cross-origin login refused");
    body = ear_web__body_object(req, keys, &ret);
    if (!body)
        return ret;
    name = json_string_value(json_object_get(body, "user"));
    password = json_string_value(json_object_get(body, "password"));
    if (!name || !*name) {
        json_decref(body);
        return ear_web__error(req, 400, "user", "user: a name is required");
    }
    if (!password) {
        json_decref(body);
        return ear_web__error(req, 400, "password",
                              "password: a string is required");
    }
    snprintf(ukey, sizeof ukey, "u:%.80s", name);
    for (char *p = ukey; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(ikey, sizeof ikey, "i:%s", req->ip);
    pthread_mutex_lock(&w->lock);
    wait = limit_wait(w, set, ikey, now);
    if (wait == 0)
        wait = limit_wait(w, set, ukey, now);
    pthread_mutex_unlock(&w->lock);
    if (wait > 0) {
        char retry[32];
        const char *hdr[] = {"Retry-After", retry, NULL, NULL};
        char msg[160];
        json_t *e;
        char *txt;

        json_decref(body);
        snprintf(retry, sizeof retry, "%lld", (long long)wait);
        snprintf(msg, sizeof msg, "too many failed logins: try again in "
                 "%lld s", (long long)wait);
        e = json_pack("{s:s, s:i}", "error", msg, "status", 429);
        txt = e ? json_dumps(e, EAR_WEB_JSON_FLAGS) : NULL;
        json_decref(e);
        if (!txt)
            return ear_web__error(req, 500, NULL, "out of memory");
        ret = ear_web__respond(req, 429, "application/json; charset=utf-8",
                               txt, strlen(txt), 1, hdr);
        free(txt);
        return ret;
    }

    ear_error_clear(&err);
    th = ear_web__thread(w, &err);
    if (!th) {
        json_decref(body);
        return ear_web__fail(req, err.code ? err.code : EAR_EDB, NULL);
    }
    rc = ear_web__user_find(&u, set->users, set->nusers, th->st, name, &err);
    if (rc < 0 && rc != EAR_ENOTFOUND) {
        json_decref(body);
        return ear_web__fail(req, rc, NULL);
    }
    if (rc == EAR_ENOTFOUND) {
        /* as slow as a wrong password, so names cannot be probed */
        memset(&u, 0, sizeof u);
        ear_web_password_verify(w->dummy_hash, password);
        ok = 0;
    } else {
        ok = u.role != EAR_ROLE_NONE && u.password_hash &&
             ear_web_password_verify(u.password_hash, password);
    }
    json_decref(body);
    if (!ok) {
        ear_web_user_dispose(&u);
        pthread_mutex_lock(&w->lock);
        limit_fail(w, set, ikey, now);
        limit_fail(w, set, ukey, now);
        pthread_mutex_unlock(&w->lock);
        return ear_web__error(req, 401, NULL,
                              "wrong user name or password");
    }
    pthread_mutex_lock(&w->lock);
    limit_clear(w, ukey);
    pthread_mutex_unlock(&w->lock);

    memset(&s, 0, sizeof s);
    copy_name(s.user, sizeof s.user, u.name);
    copy_name(s.team, sizeof s.team, u.team);
    s.role = u.role;
    hash_tag(s.hash_tag, u.password_hash);
    s.created = now;
    s.last_seen = now;
    s.checked = now;
    ear_web_user_dispose(&u);
    if (new_session(w, &s) < 0)
        return ear_web__error(req, 500, NULL, "no randomness for a session");
    ear_store_event(th->st, 0, 0, s.user, "login", NULL, NULL,
                    req->ip[0] ? req->ip : NULL, NULL);
    snprintf(cookie, sizeof cookie,
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
             EAR_WEB_SESSION_COOKIE, s.token, (long long)set->session_max,
             set->secure_cookie == 1 ||
             (set->secure_cookie == -1 && req->secure) ? "; Secure" : "");
    j = me_json(req, &s);
    OPENSSL_cleanse(&s, sizeof s);
    {
        const char *hdr[] = {"Set-Cookie", cookie, NULL, NULL};
        char *txt = j ? json_dumps(j, EAR_WEB_JSON_FLAGS)
                      : NULL;

        json_decref(j);
        if (!txt)
            return ear_web__error(req, 500, NULL, "out of memory");
        ret = ear_web__respond(req, 200, "application/json; charset=utf-8",
                               txt, strlen(txt), 1, hdr);
        free(txt);
    }
    OPENSSL_cleanse(cookie, sizeof cookie);
    return ret;
}

enum MHD_Result ear_web__logout(struct web_req *req)
{
    char cookie[160];
    const char *hdr[] = {"Set-Cookie", cookie, NULL, NULL};
    static const char body[] = "{\"ok\":true}";
    struct ear_error err;
    struct web_thread *th;
    enum MHD_Result ret;

    if (!ear_web__require(req, 1, &ret))
        return ret;
    drop_session(req->w, req->sess.token);
    ear_error_clear(&err);
    th = ear_web__thread(req->w, &err);
    if (th)
        ear_store_event(th->st, 0, 0, req->sess.user, "logout", NULL, NULL,
                        NULL, NULL);
    snprintf(cookie, sizeof cookie,
             "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
             EAR_WEB_SESSION_COOKIE);
    return ear_web__respond(req, 200, "application/json; charset=utf-8",
                            body, sizeof body - 1, 0, hdr);
}

enum MHD_Result ear_web__me(struct web_req *req)
{
    enum MHD_Result ret;

    if (!ear_web__require(req, 0, &ret))
        return ret;
    return ear_web__json(req, 200, me_json(req, &req->sess));
}

json_t *ear_web__me_json(const struct web_req *req)
{
    return me_json(req, &req->sess);
}
