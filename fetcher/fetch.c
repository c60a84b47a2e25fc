/*
 * The poller: every queued source is one libcurl easy handle, and all of
 * them run at once on one multi handle (no thread per source). libcurl
 * caps the connections (in total and per host), reuses them across
 * performs, multiplexes HTTP/2, decodes every Content-Encoding it knows and
 * follows redirects. This file adds the rest of a polite, bounded fetch:
 * conditional GET from the stored validators, a cap on the decoded body
 * (the write callback refuses more), low-speed abort, and an outcome per
 * source in words. As each transfer completes its body goes to a parse
 * worker (struct ear_parser, from the source's config; one worker per CPU,
 * living for one perform) while the multi loop goes on driving the other
 * transfers; the worker wakes the loop, and the callback sees the result
 * on the loop's thread. Then everything of that transfer is freed, so
 * memory follows the number of transfers in flight (fetching or parsing,
 * capped), not the number of sources.
 *
 * A transfer may take several steps on its easy handle: robots.txt first
 * (HTML sources, once per site: the answer is cached in the fetcher and
 * sources of the same site wait for the first one to fetch it), then the
 * page, then the next pages a paged source links (up to its max_pages).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "fetcher/fetcher_int.h"

#define LOW_SPEED_LIMIT 10L /* bytes per second ... */
#define LOW_SPEED_TIME 30L  /* ... for this long aborts a transfer */
#define ACCEPT_FEEDS "application/rss+xml, application/atom+xml, " \
    "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, " \
    "application/json;q=0.8, */*;q=0.5"
#define ACCEPT_HTML "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
#define ROBOTS_MAX_BODY ((size_t)512 << 10) /* RFC 9309: at least 500 KiB */
#define ROBOTS_TTL (24 * 3600)              /* cached this long */
#define ROBOTS_TTL_ERROR 3600               /* after a server error */
#define ROBOTS_AGENT "earshot"              /* our product token */
#define PAGE_OVERLAP 3600 /* a page reaching this far before the last
                             successful poll has only seen items */
#define MAX_PARSERS 8     /* parse workers at most */

/* Per-source settings: the source's options over the fetcher's. */
struct source_opts {
    int64_t timeout;
    int64_t connect_timeout;
    long long max_body;
    long long max_redirs;
    const char *ca_file;        /* borrowed from the YAML tree */
};

enum phase {
    PH_WAIT,    /* waiting for another transfer's robots.txt */
    PH_ROBOTS,  /* fetching robots.txt */
    PH_PAGE     /* fetching the source (page 1, 2, ...) */
};

/* What a finished page leads to. */
enum step {
    STEP_DONE,      /* the transfer is finished: report it */
    STEP_NEXT_PAGE, /* armed for its next page: start it again */
    STEP_PARSING    /* a parse worker has the page */
};

/* One site's robots.txt, as far as it is known. */
struct site {
    char *origin;               /* scheme://host:port */
    struct ear_robots *rules;   /* NULL = everything allowed */
    int disallow_all;           /* the file could not be read (5xx) */
    int pending;                /* a transfer is fetching it */
    int64_t expires;
    char note[128];             /* why everything is disallowed */
    struct site *next;
};

struct transfer {
    struct ear_fetcher *f;
    struct source_opts so;
    struct ear_parser *parser;
    CURL *easy;
    const struct ear_source_cfg *src;
    char *url;                  /* page 1, with the query */
    char *page_url;             /* the page being fetched */
    struct curl_slist *headers;
    char *old_etag;
    char *old_last_modified;
    int64_t since;              /* last successful poll, for paging */
    struct ear_buf body;
    int body_rc;            /* failure inside the write callback */
    int pre_rc;             /* failure found before the transfer */
    struct ear_error pre_err;
    enum phase phase;
    int in_multi;
    int started;            /* has been on the multi handle */
    int page;               /* 1-based number of the page being fetched */
    struct site *site;      /* robots.txt of the source's site, or NULL */
    struct ear_fetch_result res; /* pages so far */
    char reason[96];        /* reason phrase of the last status line */
    char errbuf[CURL_ERROR_SIZE];
    /* the page being parsed: what the parser reads besides the body, and
     * what it gives back (written by the worker, read after it is done) */
    int is_file;
    char *pg_url;
    char *pg_ctype;
    char *pg_link;
    char *new_etag;         /* page 1's validators, for after the parse */
    char *new_last_modified;
    size_t before;          /* items before this page */
    int parse_rc;
    char *next_url;
    struct ear_error perr;  /* a later page's parse error (not reported) */
    struct transfer *qnext; /* in the parse pool's todo or done list */
    struct transfer *next;
};

/* Parse workers: the multi loop hands each fetched page over and goes on
 * driving transfers; a worker parses it and wakes the loop, which then
 * reports the source (on its own thread, as before). The workers live for
 * one perform. */
struct parse_pool;
struct worker_arg {
    struct parse_pool *pool;
    struct ear_fetcher *f;
    int idx;
};

struct parse_pool {
    struct worker_arg args[MAX_PARSERS];
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* todo has work, or stop */
    struct transfer *todo, **todo_tail;
    struct transfer *done, **done_tail;
    pthread_t th[MAX_PARSERS];
    int nthreads;
    int stop;
    CURLM *multi;               /* to wake */
};

struct ear_fetcher {
    CURLM *multi;
    struct ear_fetch_opts opts;
    char *user_agent;
    struct transfer *head;
    struct transfer **tail;
    struct site *sites;
    int active;             /* transfers on the multi handle */
    int parsing;            /* transfers with a parse worker */
    int max_active;         /* at most this many at once (both) */
    int pool_ready;         /* pool's mutex and condition made */
    struct parse_pool pool;
    ear_fetch_idle_cb idle;
    void *idle_payload;
    ear_fetch_prepare_cb prepare;
    void *prepare_payload;
};

void ear_fetcher_set_prepare(struct ear_fetcher *f, ear_fetch_prepare_cb cb,
                             void *payload)
{
    f->prepare = cb;
    f->prepare_payload = cb ? payload : NULL;
}

void ear_fetcher_set_idle(struct ear_fetcher *f, ear_fetch_idle_cb cb,
                          void *payload)
{
    f->idle = cb;
    f->idle_payload = cb ? payload : NULL;
}

static void transfer_free(struct transfer *t)
{
    if (!t)
        return;
    if (t->phase == PH_ROBOTS && t->site)
        t->site->pending = 0; /* never fetched: the next source will */
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    ear_parser_free(t->parser);
    free(t->url);
    free(t->page_url);
    free(t->old_etag);
    free(t->old_last_modified);
    free(t->pg_url);
    free(t->pg_ctype);
    free(t->pg_link);
    free(t->new_etag);
    free(t->new_last_modified);
    free(t->next_url);
    ear_buf_dispose(&t->body);
    free(t->res.etag);
    free(t->res.last_modified);
    ear_feed_info_dispose(&t->res.feed);
    ear_mention_list_dispose(&t->res.items);
    if (t->res.user && t->res.user_free)
        t->res.user_free(t->res.user);
    free(t);
}

static void sites_free(struct site *s)
{
    struct site *next;

    for (; s; s = next) {
        next = s->next;
        free(s->origin);
        ear_robots__free(s->rules);
        free(s);
    }
}

int ear_fetcher_new(struct ear_fetcher **out, const struct ear_fetch_opts *opts,
                    struct ear_error *err)
{
    static const struct ear_fetch_opts defaults = EAR_FETCH_OPTS_INIT;
    struct ear_fetcher *f = NULL;
    int rc = 0;

    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ear_error_set(err, EAR_EHTTP, NULL, 0, 0,
                             "libcurl failed to initialise");
    f = calloc(1, sizeof(*f));
    if (!f) {
        curl_global_cleanup();
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    f->opts = opts ? *opts : defaults;
    f->tail = &f->head;
    f->user_agent = ear_strdup(f->opts.user_agent ? f->opts.user_agent
                                                  : "earshot/" EAR_VERSION);
    f->opts.user_agent = NULL; /* never used after new: we keep a copy */
    f->multi = curl_multi_init();
    if (!f->user_agent || !f->multi) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    if (f->opts.max_total_conns > 0) {
        curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          f->opts.max_total_conns);
        curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS,
                          f->opts.max_total_conns);
    }
    if (f->opts.max_host_conns > 0)
        curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          f->opts.max_host_conns);
    /* Transfers beyond the connection cap would only wait inside libcurl,
     * each holding an easy handle and its buffers: they wait here, as a
     * few bytes of queue, instead. Twice the cap keeps every connection
     * busy while finished transfers are parsed. */
    f->max_active = f->opts.max_total_conns > 0
                        ? (int)f->opts.max_total_conns * 2 : 64;
    if (f->max_active < 8)
        f->max_active = 8;
    curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    f->pool.multi = f->multi;
    if (pthread_mutex_init(&f->pool.mu, NULL) != 0) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    if (pthread_cond_init(&f->pool.cv, NULL) != 0) {
        pthread_mutex_destroy(&f->pool.mu);
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    f->pool_ready = 1;
    *out = f;
    f = NULL;
out:
    ear_fetcher_free(f);
    return rc;
}

void ear_fetcher_free(struct ear_fetcher *f)
{
    struct transfer *t, *next;

    if (!f)
        return;
    for (t = f->head; t; t = next) {
        next = t->next;
        transfer_free(t);
    }
    if (f->multi)
        curl_multi_cleanup(f->multi);
    sites_free(f->sites);
    free(f->user_agent);
    if (f->pool_ready) {
        pthread_cond_destroy(&f->pool.cv);
        pthread_mutex_destroy(&f->pool.mu);
    }
    free(f);
    curl_global_cleanup();
}

/* ------------------------------------------------------------ callbacks */

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * n;
    int rc;

    rc = ear_buf_addn(&t->body, p, len);
    if (rc < 0) {
        t->body_rc = rc;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    return len;
}

/* Keeps the reason phrase of the last status line ("HTTP/1.1 404 Not
 * Found"); a redirect chain has one per response. Every other header is
 * read afterwards with curl_easy_header(). */
static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * n, i = 0, k = 0;

    if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
        while (i < len && p[i] != ' ')
            i++;
        while (i < len && p[i] == ' ')
            i++;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        while (i < len && p[i] == ' ')
            i++;
        while (i < len && p[i] != '\r' && p[i] != '\n'
               && k + 1 < sizeof(t->reason))
            t->reason[k++] = p[i++];
        t->reason[k] = '\0';
    }
    return len;
}

/* ------------------------------------------------------------ queue */

static int add_header(struct curl_slist **list, const char *name,
                      const char *value)
{
    struct ear_buf b;
    struct curl_slist *l;
    int rc;

    ear_buf_init(&b, 0);
    rc = ear_buf_addf(&b, "%s: %s", name, value);
    if (rc < 0)
        return rc;
    l = curl_slist_append(*list, ear_buf_str(&b));
    ear_buf_dispose(&b);
    if (!l)
        return EAR_ENOMEM;
    *list = l;
    return 0;
}

static int is_file_url(const char *url)
{
    return strncasecmp(url, "file:", 5) == 0;
}

/* The parser's request options over the fetcher's defaults, and the
 * query parameters (the mapping's, then the source's own) on the URL. */
static int apply_source_opts(struct transfer *t, struct ear_error *err)
{
    const struct ear_req_opts *r = ear_parser__req(t->parser);
    const struct ear_ynode *qs[2];
    const char *name = t->src->name;
    size_t i, k;
    int rc;

    t->so.timeout = r->timeout > 0 ? r->timeout : t->f->opts.timeout_s;
    t->so.connect_timeout = r->connect_timeout > 0
                                ? r->connect_timeout
                                : t->f->opts.connect_timeout_s;
    t->so.max_body = r->max_body > 0 ? r->max_body
                                     : (long long)t->f->opts.max_body;
    t->so.max_redirs = r->max_redirs >= 0 ? r->max_redirs
                                          : t->f->opts.max_redirs;
    t->so.ca_file = r->ca_file;
    if (is_file_url(t->url))
        return 0; /* a query means nothing to a file */
    qs[0] = r->api_query;
    qs[1] = r->query;
    for (k = 0; k < 2; k++) {
        for (i = 0; qs[k] && i < qs[k]->n; i++) {
            char *full = NULL;

            rc = ear_url__set_param(&full, t->url, qs[k]->keys[i]->value,
                                    qs[k]->items[i]->value
                                        ? qs[k]->items[i]->value : "");
            if (rc < 0)
                return ear_error_set(err, rc, name, qs[k]->line, qs[k]->col,
                                     rc == EAR_ENOMEM
                                         ? "out of memory"
                                         : "cannot add the query to url %s",
                                     t->url);
            free(t->url);
            t->url = full;
        }
    }
    return 0;
}

/* Request headers for the current phase: conditional ones only for the
 * first page, the source's own for every page of the source. */
static int build_headers(struct transfer *t)
{
    const struct ear_req_opts *r = ear_parser__req(t->parser);
    size_t i;
    int rc = 0;

    curl_slist_free_all(t->headers);
    t->headers = NULL;
    if (t->phase == PH_ROBOTS)
        return add_header(&t->headers, "Accept", "text/plain, */*;q=0.5");
    if (t->page == 1 && t->old_etag)
        rc = add_header(&t->headers, "If-None-Match", t->old_etag);
    if (rc == 0 && t->page == 1 && t->old_last_modified)
        rc = add_header(&t->headers, "If-Modified-Since",
                        t->old_last_modified);
    if (rc == 0)
        rc = add_header(&t->headers, "Accept",
                        r->robots ? ACCEPT_HTML : ACCEPT_FEEDS);
    for (i = 0; rc == 0 && r->headers && i < r->headers->n; i++)
        rc = add_header(&t->headers, r->headers->keys[i]->value,
                        r->headers->items[i]->value
                            ? r->headers->items[i]->value : "");
    return rc;
}

static int setup_easy(struct transfer *t)
{
    long low_time = LOW_SPEED_TIME;
    CURL *e;

    t->easy = curl_easy_init();
    if (!t->easy)
        return EAR_ENOMEM;
    e = t->easy;
    if (t->so.timeout > 0 && t->so.timeout < low_time)
        low_time = (long)t->so.timeout;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "file,http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)t->so.max_redirs);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)t->so.connect_timeout);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)t->so.timeout);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, low_time);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (t->so.ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, t->so.ca_file);
    curl_easy_setopt(e, CURLOPT_USERAGENT, t->f->user_agent);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    return 0;
}

/* Points the easy handle at url for the current phase, with a fresh body
 * buffer and its cap. */
static int arm(struct transfer *t, const char *url)
{
    size_t max = t->phase == PH_ROBOTS ? ROBOTS_MAX_BODY
                                       : (size_t)t->so.max_body;
    int rc;

    ear_buf_dispose(&t->body);
    ear_buf_init(&t->body, max);
    t->body_rc = 0;
    t->reason[0] = '\0';
    t->errbuf[0] = '\0';
    rc = build_headers(t);
    if (rc < 0)
        return rc;
    if (curl_easy_setopt(t->easy, CURLOPT_URL, url) != CURLE_OK)
        return EAR_ENOMEM;
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    return 0;
}

/* scheme://host[:port] of an http(s) URL, or NULL. New. */
static char *origin_of(const char *url, char **path)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *p = NULL, *q = NULL;
    char *out = NULL;
    struct ear_buf b;

    *path = NULL;
    if (!u)
        return NULL;
    ear_buf_init(&b, 0);
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
        && (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        curl_url_get(u, CURLUPART_PATH, &p, 0);
        curl_url_get(u, CURLUPART_QUERY, &q, 0);
        if (ear_buf_addf(&b, "%s://%s:%s", scheme, host,
                         port ? port : "") == 0)
            out = ear_buf_take(&b, NULL);
        ear_buf_reset(&b);
        if (ear_buf_addf(&b, "%s%s%s", p ? p : "/", q ? "?" : "",
                         q ? q : "") == 0)
            *path = ear_buf_take(&b, NULL);
    }
    ear_buf_dispose(&b);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(p);
    curl_free(q);
    curl_url_cleanup(u);
    if (out && !*path) {
        free(out);
        out = NULL;
    }
    return out;
}

static struct site *site_get(struct ear_fetcher *f, const char *origin,
                             int64_t now)
{
    struct site *s, **pp;

    for (pp = &f->sites; (s = *pp) != NULL; pp = &s->next) {
        if (strcmp(s->origin, origin) != 0)
            continue;
        if (!s->pending && s->expires <= now) {
            /* stale: read it again */
            ear_robots__free(s->rules);
            s->rules = NULL;
            s->disallow_all = 0;
            s->note[0] = '\0';
            s->pending = 0;
            s->expires = 0;
        }
        return s;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->origin = ear_strdup(origin);
    if (!s->origin) {
        free(s);
        return NULL;
    }
    s->next = f->sites;
    f->sites = s;
    return s;
}

/* Is the source's page allowed by its site's rules (known by now)? */
static int robots_check(struct transfer *t)
{
    char *path = NULL, *origin = origin_of(t->url, &path);
    int ok = 1;

    if (t->site->disallow_all)
        ok = 0;
    else if (path)
        ok = ear_robots__allowed(t->site->rules, path);
    if (!ok)
        t->pre_rc = ear_error_set(
            &t->pre_err, EAR_EHTTP, t->src->name, 0, 0, "%s",
            t->site->disallow_all ? t->site->note
                                  : "disallowed by the site's robots.txt "
                                    "(set robots: false to override)");
    free(origin);
    free(path);
    return ok;
}

/* Decides whether the source must wait for, or fetch, its site's
 * robots.txt. */
static int plan_robots(struct transfer *t)
{
    char *path = NULL, *origin;
    int rc = 0;

    if (!ear_parser__req(t->parser)->robots || is_file_url(t->url)) {
        t->phase = PH_PAGE;
        return 0;
    }
    origin = origin_of(t->url, &path);
    free(path);
    if (!origin) {
        t->phase = PH_PAGE;
        return 0;
    }
    t->site = site_get(t->f, origin, ear_now());
    if (!t->site) {
        rc = EAR_ENOMEM;
    } else if (t->site->pending) {
        t->phase = PH_WAIT;
    } else if (t->site->expires) {
        t->phase = PH_PAGE;
        robots_check(t);
    } else {
        struct ear_buf b;

        t->site->pending = 1;
        t->phase = PH_ROBOTS;
        ear_buf_init(&b, 0);
        rc = ear_buf_addf(&b, "%s/robots.txt", origin);
        if (rc == 0) {
            free(t->page_url);
            t->page_url = ear_buf_take(&b, NULL);
            if (!t->page_url)
                rc = EAR_ENOMEM;
        }
        ear_buf_dispose(&b);
    }
    free(origin);
    return rc;
}

int ear_fetcher_add(struct ear_fetcher *f, const struct ear_source_cfg *src,
                    const struct ear_source_state *state,
                    struct ear_error *err)
{
    struct transfer *t;
    const char *name = src->name ? src->name : src->url;
    int rc = 0;

    t = calloc(1, sizeof(*t));
    if (!t)
        return ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
    t->f = f;
    t->src = src;
    t->page = 1;
    t->phase = PH_PAGE;
    ear_buf_init(&t->body, f->opts.max_body);
    if (state) {
        t->old_etag = ear_strdup(state->etag);
        t->old_last_modified = ear_strdup(state->last_modified);
        t->since = state->last_success;
        if ((state->etag && !t->old_etag)
            || (state->last_modified && !t->old_last_modified)) {
            rc = ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
            goto out;
        }
    }
    if (!src->url || !*src->url) {
        t->pre_rc = ear_error_set(&t->pre_err, EAR_EINVAL, name, 0, 0,
                                  "no url");
        goto queue;
    }
    t->pre_rc = ear_parser_new(&t->parser, src, NULL, &t->pre_err);
    if (t->pre_rc == 0)
        t->pre_rc = ear_fetch_file_url(&t->url, src->url, &t->pre_err);
    if (t->pre_rc == 0)
        t->pre_rc = apply_source_opts(t, &t->pre_err);
    if (t->pre_rc == EAR_ENOMEM) {
        rc = ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
        goto out;
    }
    if (t->pre_rc < 0)
        goto queue;
    rc = plan_robots(t);
    if (rc == 0 && t->pre_rc == 0 && t->phase != PH_ROBOTS) {
        t->page_url = ear_strdup(t->url);
        if (!t->page_url)
            rc = EAR_ENOMEM;
    }
    /* the easy handle is made when the transfer starts: a queue of
     * thousands of sources costs little until they run */
    if (rc < 0) {
        ear_error_set(err, rc, name, 0, 0, "out of memory");
        goto out;
    }
queue:
    *f->tail = t;
    f->tail = &t->next;
    t = NULL;
out:
    transfer_free(t);
    return rc;
}

/* ------------------------------------------------------------ results */

static const char *status_text(long code)
{
    switch (code) {
    case 200: return "OK";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 511: return "Network Authentication Required";
    default: return NULL;
    }
}

static int header_dup(char **out, CURL *e, const char *name,
                      const char *fallback)
{
    struct curl_header *h = NULL;

    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK
        && h && h->value && *h->value)
        return ear_str_set(out, h->value);
    return ear_str_set(out, fallback);
}

static void set_lang(struct ear_mention_list *l, const char *lang)
{
    size_t i;

    if (!lang || !*lang)
        return;
    for (i = 0; i < l->n; i++)
        if (!l->v[i].lang[0])
            snprintf(l->v[i].lang, sizeof(l->v[i].lang), "%s", lang);
}

static void transfer_failed(struct transfer *t, struct ear_fetch_result *res,
                            const char *name, CURLcode code, int is_file)
{
    const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);

    if (t->body_rc == EAR_ETOOBIG || code == CURLE_FILESIZE_EXCEEDED)
        res->rc = ear_error_set(&res->err, EAR_ETOOBIG, name, 0, 0,
                                "body exceeds %lld bytes",
                                t->so.max_body);
    else if (t->body_rc == EAR_ENOMEM)
        res->rc = ear_error_set(&res->err, EAR_ENOMEM, name, 0, 0,
                                "out of memory");
    else if (is_file)
        res->rc = ear_error_set(&res->err, EAR_EIO, name, 0, 0,
                                "%s (%s)", why, t->url);
    else
        res->rc = ear_error_set(&res->err, EAR_EHTTP, name, 0, 0, "%s",
                                why);
}

static const char *source_name(const struct transfer *t)
{
    return t->src->name ? t->src->name : t->src->url;
}

/* Reports the transfer's result to the callback and frees what it held. */
static void report(struct transfer *t, ear_fetch_cb cb, void *payload)
{
    struct ear_fetch_result *res = &t->res;
    const char *name = source_name(t);

    res->src = t->src;
    if (res->rc < 0 && !res->err.text[0])
        ear_error_set(&res->err, res->rc, name, 0, 0, "%s",
                      ear_strerror(res->rc));
    snprintf(res->err.source, sizeof(res->err.source), "%s",
             name ? name : "");
    set_lang(&res->items, t->src->lang);
    ear_buf_dispose(&t->body);
    cb(res, payload);
}

/* The oldest publication time on the page is before the last successful
 * poll: the pages after it hold nothing new. */
static int reached_known(const struct transfer *t, size_t from)
{
    size_t i;

    if (!t->since)
        return 0;
    for (i = from; i < t->res.items.n; i++) {
        int64_t p = t->res.items.v[i].published;

        if (p && p < t->since - PAGE_OVERLAP)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ parsing */

static enum step parsed(struct transfer *t);

/* Parses the page the transfer holds (t->pg_*): on a parse worker, or on
 * the calling thread when there are none. Touches only the transfer's
 * parser, body, result and parse fields, never its easy handle. The body
 * is freed as soon as it is read. */
static void parse_page(struct transfer *t, int worker)
{
    struct ear_fetcher *f = t->f;
    struct ear_page pg;
    size_t from = t->page > 1 ? t->before : 0;

    memset(&pg, 0, sizeof(pg));
    pg.body = t->body.ptr ? t->body.ptr : "";
    pg.len = t->body.len;
    pg.url = t->pg_url;
    pg.content_type = t->pg_ctype;
    pg.link = t->pg_link;
    if (t->page > 1) {
        ear_error_clear(&t->perr);
        t->parse_rc = ear_parser_parse(t->parser, &t->res.items, NULL, &pg,
                                       &t->next_url, &t->perr);
    } else {
        t->parse_rc = ear_parser_parse(t->parser, &t->res.items,
                                       &t->res.feed, &pg, &t->next_url,
                                       &t->res.err);
    }
    ear_buf_dispose(&t->body);
    if (worker >= 0 && t->parse_rc == 0 && f->prepare
        && t->res.items.n > from) {
        t->res.src = t->src;
        f->prepare(&t->res, from, worker, f->prepare_payload);
    }
}

/* Hands a fetched page to the parse workers. Returns STEP_PARSING, or
 * what parsed() says when there are no workers and it was parsed here. */
static enum step submit(struct ear_fetcher *f, struct transfer *t)
{
    struct parse_pool *p = &f->pool;

    if (p->nthreads == 0) {
        parse_page(t, -1);
        return parsed(t);
    }
    t->qnext = NULL;
    pthread_mutex_lock(&p->mu);
    *p->todo_tail = t;
    p->todo_tail = &t->qnext;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    f->parsing++;
    return STEP_PARSING;
}

static void *parse_worker(void *arg)
{
    struct worker_arg *a = arg;
    struct parse_pool *p = a->pool;
    struct transfer *t;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->todo && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        t = p->todo;
        if (!t)
            break; /* stopping, and nothing left to parse */
        p->todo = t->qnext;
        if (!p->todo)
            p->todo_tail = &p->todo;
        pthread_mutex_unlock(&p->mu);
        parse_page(t, a->idx);
        pthread_mutex_lock(&p->mu);
        t->qnext = NULL;
        *p->done_tail = t;
        p->done_tail = &t->qnext;
        /* the multi loop may be asleep in curl_multi_poll() */
        curl_multi_wakeup(p->multi);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int ear_fetcher_workers(const struct ear_fetcher *f, size_t n)
{
    long cpus;
    int want = f->opts.parse_threads;

    if (want < 0 || n < 2)
        return 0;
    if (want == 0) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        want = cpus > 0 ? (int)cpus : 1;
    }
    if (want > MAX_PARSERS)
        want = MAX_PARSERS;
    if ((size_t)want > n)
        want = (int)n;
    return want;
}

static void pool_start(struct ear_fetcher *f, size_t ntransfers)
{
    struct parse_pool *p = &f->pool;
    int want = ear_fetcher_workers(f, ntransfers);

    p->todo = p->done = NULL;
    p->todo_tail = &p->todo;
    p->done_tail = &p->done;
    p->stop = 0;
    p->nthreads = 0;
    if (want == 0)
        return;
    /* libxml2's global set-up happens here, once, before any worker
     * parses (the fetcher keeps no mutable state of its own outside a
     * parse) */
    xmlInitParser();
    while (p->nthreads < want) {
        struct worker_arg *a = &p->args[p->nthreads];

        a->pool = p;
        a->f = f;
        a->idx = p->nthreads;
        if (pthread_create(&p->th[p->nthreads], NULL, parse_worker, a) != 0)
            break;
        p->nthreads++;
    }
    /* no thread at all: every page is parsed on this thread instead */
}

/* Lets the workers finish what they hold and joins them. */
static void pool_stop(struct ear_fetcher *f)
{
    struct parse_pool *p = &f->pool;
    int i;

    if (p->nthreads == 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nthreads; i++)
        pthread_join(p->th[i], NULL);
    p->nthreads = 0;
}

/* The parsed pages, in the order they were finished. */
static struct transfer *pool_take(struct ear_fetcher *f)
{
    struct parse_pool *p = &f->pool;
    struct transfer *list;

    if (f->parsing == 0)
        return NULL;
    pthread_mutex_lock(&p->mu);
    list = p->done;
    p->done = NULL;
    p->done_tail = &p->done;
    pthread_mutex_unlock(&p->mu);
    return list;
}

/* ------------------------------------------------------------ pages */

/* One page has arrived (phase PH_PAGE). What the parser needs is copied
 * from the easy handle, so the parse may run elsewhere while the handle
 * sits idle. */
static enum step page_done(struct ear_fetcher *f, struct transfer *t,
                           CURLcode code)
{
    struct ear_fetch_result *res = &t->res;
    const char *name = source_name(t);
    const char *scheme = NULL, *ctype = NULL, *eff = NULL;
    long status = 0;
    double secs = 0;
    curl_off_t retry = 0;
    int is_file, rc = 0;

    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &secs);
    curl_easy_getinfo(t->easy, CURLINFO_SCHEME, &scheme);
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
    is_file = scheme && strcasecmp(scheme, "file") == 0;
    t->is_file = is_file;
    res->seconds += secs;
    res->bytes += t->body.len;
    if (t->page > 1) {
        /* A later page that fails ends the paging; what the earlier
         * pages gave is kept. */
        if (code != CURLE_OK || status < 200 || status > 299)
            return STEP_DONE;
        rc = ear_str_set(&t->pg_url, eff ? eff : t->page_url);
        if (rc == 0)
            rc = ear_str_set(&t->pg_ctype, ctype);
        if (rc == 0)
            rc = header_dup(&t->pg_link, t->easy, "Link", NULL);
        if (rc < 0) {
            res->rc = ear_error_set(&res->err, EAR_ENOMEM, name, 0, 0,
                                    "out of memory");
            return STEP_DONE;
        }
        t->before = res->items.n;
        return submit(f, t);
    }
    res->http_status = is_file ? 0 : status;
    if (code != CURLE_OK) {
        transfer_failed(t, res, name, code, is_file);
    } else if (!is_file && status == 304) {
        res->not_modified = 1;
    } else if (!is_file && (status < 200 || status > 299)) {
        const char *words = status_text(status);

        if (!words)
            words = t->reason;
        res->rc = ear_error_set(&res->err, EAR_EHTTP, name, 0, 0,
                                "HTTP %ld%s%s", status, *words ? " " : "",
                                words);
        if (status == 429 || status == 503) {
            curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry);
            res->retry_after = retry > 0 ? (int64_t)retry : 0;
        }
    } else {
        /* Relative links resolve against the URL the body came from
         * after redirects; a local file is no base for web links. The
         * validators this response sent are kept for after the parse. */
        rc = ear_str_set(&t->pg_url, is_file ? NULL
                                     : eff    ? eff
                                              : t->page_url);
        if (rc == 0)
            rc = ear_str_set(&t->pg_ctype, ctype);
        if (rc == 0 && !is_file)
            rc = header_dup(&t->pg_link, t->easy, "Link", NULL);
        if (rc == 0 && !is_file)
            rc = header_dup(&t->new_etag, t->easy, "ETag", NULL);
        if (rc == 0 && !is_file)
            rc = header_dup(&t->new_last_modified, t->easy,
                            "Last-Modified", NULL);
        if (rc == 0)
            return submit(f, t);
        res->rc = ear_error_set(&res->err, rc, name, 0, 0, "out of memory");
    }
    /* Validators: after a 304 or a failure the old ones stay unless the
     * server sent new ones. */
    rc = 0;
    if (!is_file) {
        rc = header_dup(&res->etag, t->easy, "ETag", t->old_etag);
        if (rc == 0)
            rc = header_dup(&res->last_modified, t->easy, "Last-Modified",
                            t->old_last_modified);
    }
    if (rc < 0 && res->rc == 0)
        res->rc = ear_error_set(&res->err, rc, name, 0, 0, "out of memory");
    return STEP_DONE;
}

/* A page has been parsed (back on the multi loop's thread): the
 * validators, and whether the next page is wanted. */
static enum step parsed(struct transfer *t)
{
    struct ear_fetch_result *res = &t->res;
    const char *name = source_name(t);
    char *next = t->next_url;
    int rc = 0;

    t->next_url = NULL;
    if (t->page > 1) {
        if (t->parse_rc == EAR_ENOMEM) {
            res->rc = ear_error_set(&res->err, t->parse_rc, name, 0, 0,
                                    "out of memory");
            goto last;
        }
        if (t->parse_rc < 0 || reached_known(t, t->before))
            goto last;
        goto more;
    }
    res->rc = t->parse_rc;
    /* Validators: a fresh response says which are current; after a
     * failure the old ones stay unless the server sent new ones. */
    if (!t->is_file && res->rc == 0) {
        res->etag = t->new_etag;
        res->last_modified = t->new_last_modified;
        t->new_etag = t->new_last_modified = NULL;
    } else if (!t->is_file) {
        rc = ear_str_set(&res->etag,
                         t->new_etag ? t->new_etag : t->old_etag);
        if (rc == 0)
            rc = ear_str_set(&res->last_modified, t->new_last_modified
                                                      ? t->new_last_modified
                                                      : t->old_last_modified);
    }
    if (rc < 0 && res->rc == 0)
        res->rc = ear_error_set(&res->err, rc, name, 0, 0, "out of memory");
    if (res->rc < 0 || reached_known(t, 0))
        goto last;
more:
    if (next && t->page < ear_parser_max_pages(t->parser)) {
        t->page++;
        if (arm(t, next) == 0) {
            free(t->page_url);
            t->page_url = next;
            return STEP_NEXT_PAGE;
        }
    }
last:
    free(next);
    return STEP_DONE;
}

/* robots.txt has arrived: the site's rules are known, for this transfer
 * and every one waiting on the same site. */
static void robots_done(struct ear_fetcher *f, struct transfer *t,
                        CURLcode code)
{
    struct site *site = t->site;
    long status = 0;
    int64_t now = ear_now();

    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    site->pending = 0;
    site->expires = now + ROBOTS_TTL;
    if (code == CURLE_OK && status >= 200 && status <= 299) {
        if (ear_robots__parse(&site->rules, t->body.ptr ? t->body.ptr : "",
                              t->body.len, ROBOTS_AGENT) < 0) {
            site->disallow_all = 1;
            snprintf(site->note, sizeof(site->note),
                     "out of memory reading robots.txt");
        }
    } else if (code == CURLE_OK && status >= 400 && status <= 499
               && status != 429) {
        /* no robots.txt: everything is allowed */
    } else {
        /* RFC 9309: an unreachable robots.txt forbids everything for now */
        site->disallow_all = 1;
        site->expires = now + ROBOTS_TTL_ERROR;
        if (code != CURLE_OK)
            snprintf(site->note, sizeof(site->note),
                     "robots.txt unreachable (%.80s): not fetching",
                     t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
        else
            snprintf(site->note, sizeof(site->note),
                     "robots.txt unreachable (HTTP %ld): not fetching",
                     status);
    }
    (void)f;
}

/* ------------------------------------------------------------ perform */

static struct transfer *unlink_transfer(struct ear_fetcher *f,
                                        struct transfer *t)
{
    struct transfer **pp;

    for (pp = &f->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            if (f->tail == &t->next)
                f->tail = pp;
            t->next = NULL;
            return t;
        }
    }
    return t;
}

/* Takes the transfer off the multi handle (when it is on it). */
static void detach(struct ear_fetcher *f, struct transfer *t)
{
    if (!t->in_multi)
        return;
    curl_multi_remove_handle(f->multi, t->easy);
    t->in_multi = 0;
    f->active--;
}

static void complete(struct ear_fetcher *f, struct transfer *t,
                     ear_fetch_cb cb, void *payload)
{
    detach(f, t);
    unlink_transfer(f, t);
    report(t, cb, payload);
    transfer_free(t);
}

/* Reports a transfer that cannot run (an earlier failure, robots.txt said
 * no) with the validators it came with. */
static void refuse(struct ear_fetcher *f, struct transfer *t,
                   ear_fetch_cb cb, void *payload)
{
    t->res.rc = t->pre_rc;
    t->res.err = t->pre_err;
    if (ear_str_set(&t->res.etag, t->old_etag) < 0
        || ear_str_set(&t->res.last_modified, t->old_last_modified) < 0)
        t->res.rc = ear_error_set(&t->res.err, EAR_ENOMEM, source_name(t), 0,
                                  0, "out of memory");
    complete(f, t, cb, payload);
}

/* Puts a transfer on the multi handle, making its easy handle on the
 * first start, or reports it when it cannot run. */
static void start(struct ear_fetcher *f, struct transfer *t, ear_fetch_cb cb,
                  void *payload)
{
    CURLMcode mc;

    if (t->pre_rc == 0 && !t->easy
        && (setup_easy(t) < 0 || arm(t, t->page_url) < 0))
        t->pre_rc = ear_error_set(&t->pre_err, EAR_ENOMEM, source_name(t),
                                  0, 0, "out of memory");
    if (t->pre_rc < 0) {
        refuse(f, t, cb, payload);
        return;
    }
    mc = curl_multi_add_handle(f->multi, t->easy);
    if (mc != CURLM_OK) {
        t->res.rc = ear_error_set(&t->res.err, EAR_EHTTP, source_name(t), 0,
                                  0, "cannot start the transfer: %s",
                                  curl_multi_strerror(mc));
        complete(f, t, cb, payload);
        return;
    }
    t->in_multi = 1;
    t->started = 1;
    f->active++;
}

/* Starts queued transfers while there is room. */
static void fill(struct ear_fetcher *f, ear_fetch_cb cb, void *payload)
{
    struct transfer *t, *next;

    for (t = f->head; t && f->active + f->parsing < f->max_active;
         t = next) {
        next = t->next;
        if (!t->in_multi && !t->started && t->phase != PH_WAIT)
            start(f, t, cb, payload);
    }
}

/* Sources waiting on a site whose robots.txt is now known may go ahead
 * (fill() starts them) or are refused now. */
static void release_waiting(struct ear_fetcher *f, const struct site *site,
                            ear_fetch_cb cb, void *payload)
{
    struct transfer *t, *next;

    for (t = f->head; t; t = next) {
        next = t->next;
        if (t->phase != PH_WAIT || t->site != site)
            continue;
        t->phase = PH_PAGE;
        if (!robots_check(t))
            refuse(f, t, cb, payload);
    }
}

static void on_done(struct ear_fetcher *f, struct transfer *t, CURLcode code,
                    ear_fetch_cb cb, void *payload)
{
    detach(f, t);
    if (t->phase == PH_ROBOTS) {
        struct site *site = t->site; /* refuse() frees t */

        robots_done(f, t, code);
        t->phase = PH_PAGE;
        if (!robots_check(t)) {
            refuse(f, t, cb, payload);
        } else {
            free(t->page_url);
            t->page_url = ear_strdup(t->url);
            if (!t->page_url || arm(t, t->page_url) < 0) {
                t->pre_rc = ear_error_set(&t->pre_err, EAR_ENOMEM,
                                          source_name(t), 0, 0,
                                          "out of memory");
                refuse(f, t, cb, payload);
            } else {
                start(f, t, cb, payload);
            }
        }
        release_waiting(f, site, cb, payload);
        return;
    }
    switch (page_done(f, t, code)) {
    case STEP_NEXT_PAGE:
        start(f, t, cb, payload); /* the next page, on the same handle */
        break;
    case STEP_DONE:
        complete(f, t, cb, payload);
        break;
    case STEP_PARSING:
        break; /* back through collect() */
    }
}

/* Pages the workers have parsed go on: the next page, or the report. */
static void collect(struct ear_fetcher *f, ear_fetch_cb cb, void *payload)
{
    struct transfer *t, *next;

    for (t = pool_take(f); t; t = next) {
        next = t->qnext;
        t->qnext = NULL;
        f->parsing--;
        if (parsed(t) == STEP_NEXT_PAGE)
            start(f, t, cb, payload);
        else
            complete(f, t, cb, payload);
    }
}

int ear_fetcher_perform(struct ear_fetcher *f, ear_fetch_cb cb, void *payload)
{
    struct transfer *t, *next;
    CURLMcode mc = CURLM_OK;
    size_t n = 0;
    int running = 0, wait;
    int rc = 0;

    /* Sources that cannot even start are reported first. */
    for (t = f->head; t; t = next) {
        next = t->next;
        if (t->pre_rc < 0)
            refuse(f, t, cb, payload);
        else
            n++;
    }
    pool_start(f, n);
    fill(f, cb, payload);
    while (f->head) {
        struct CURLMsg *msg;
        int left;

        mc = curl_multi_perform(f->multi, &running);
        if (mc != CURLM_OK)
            break;
        for (;;) {
            struct transfer *done = NULL;

            msg = curl_multi_info_read(f->multi, &left);
            if (!msg)
                break;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                              (char **)&done);
            if (done)
                on_done(f, done, msg->data.result, cb, payload);
        }
        collect(f, cb, payload);
        fill(f, cb, payload);
        if (!f->head)
            break;
        if (f->active == 0 && f->parsing == 0) {
            /* nothing runs, yet transfers remain: ones waiting for a
             * robots.txt that nobody fetches (cannot happen, but a loop
             * that cannot end must not be left to chance) */
            while (f->head) {
                t = f->head;
                t->pre_rc = ear_error_set(&t->pre_err, EAR_EHTTP,
                                          source_name(t), 0, 0,
                                          "robots.txt never arrived");
                refuse(f, t, cb, payload);
            }
            break;
        }
        /* a worker finishing a parse wakes this */
        wait = 1000;
        if (f->idle) {
            long want = f->idle(f->idle_payload);

            if (want >= 0 && want < wait)
                wait = (int)want;
        }
        mc = curl_multi_poll(f->multi, NULL, 0, wait, NULL);
        if (mc != CURLM_OK)
            break;
    }
    /* The workers finish what they hold (only after a failure of the
     * multi handle can there be any) and are gone. */
    pool_stop(f);
    for (t = pool_take(f); t; t = next) {
        next = t->qnext;
        t->qnext = NULL;
        f->parsing--;
    }
    if (mc != CURLM_OK) {
        rc = mc == CURLM_OUT_OF_MEMORY ? EAR_ENOMEM : EAR_EHTTP;
        /* Whatever is left is reported, never silently dropped. */
        while (f->head) {
            t = f->head;
            t->res.rc = ear_error_set(&t->res.err, rc, source_name(t), 0, 0,
                                      "transfer aborted: %s",
                                      curl_multi_strerror(mc));
            complete(f, t, cb, payload);
        }
    }
    return rc;
}
