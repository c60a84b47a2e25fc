/*
 * The poller: every queued source is one libcurl easy handle, and all of
 * them run at once on one multi handle (no thread per source). libcurl
 * caps the connections (in total and per host), reuses them across
 * performs, multiplexes HTTP/2, decodes every Content-Encoding it knows and
 * follows redirects. This file adds the rest of a polite, bounded fetch:
 * conditional GET from the stored validators, a cap on the decoded body
 * (the write callback refuses more), low-speed abort, and an outcome per
 * source in words. As each transfer completes its body is parsed
 * (ear_feed_parse) and the callback sees the result; then everything of
 * that transfer is freed, so memory follows the number of transfers in
 * flight, not the number of sources.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fetcher/fetcher_int.h"

#define LOW_SPEED_LIMIT 10L /* bytes per second ... */
#define LOW_SPEED_TIME 30L  /* ... for this long aborts a transfer */
#define ACCEPT_FEEDS "application/rss+xml, application/atom+xml, " \
    "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, " \
    "application/json;q=0.8, */*;q=0.5"

/* Per-source settings from the source's YAML map (src->opts). */
struct source_opts {
    int64_t timeout;
    int64_t connect_timeout;
    long long max_body;
    long long max_redirs;
    const char *ca_file;        /* borrowed from the YAML tree */
};

struct transfer {
    struct ear_fetcher *f;
    struct source_opts so;
    CURL *easy;
    const struct ear_source_cfg *src;
    char *url;
    struct curl_slist *headers;
    char *old_etag;
    char *old_last_modified;
    struct ear_buf body;
    int body_rc;            /* failure inside the write callback */
    int pre_rc;             /* failure found before the transfer */
    struct ear_error pre_err;
    char reason[96];        /* reason phrase of the last status line */
    char errbuf[CURL_ERROR_SIZE];
    struct transfer *next;
};

struct ear_fetcher {
    CURLM *multi;
    struct ear_fetch_opts opts;
    char *user_agent;
    struct transfer *head;
    struct transfer **tail;
};

static void transfer_free(struct transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t->old_etag);
    free(t->old_last_modified);
    ear_buf_dispose(&t->body);
    free(t);
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
    curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
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
    free(f->user_agent);
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

static int feed_type_ok(const char *type)
{
    return !type || strcmp(type, "rss") == 0 || strcmp(type, "atom") == 0
           || strcmp(type, "rdf") == 0 || strcmp(type, "jsonfeed") == 0;
}

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

/* Reads the source's own limits and request extras: timeout,
 * connect_timeout (durations), max_body, max_redirects, ca_file, headers
 * (a map) and query (a map, appended to the URL). A wrong value fails the
 * source with its position, not the whole poll. */
static int read_source_opts(struct transfer *t, struct ear_error *err)
{
    const struct ear_ynode *o = t->src->opts, *h, *q;
    const char *name = t->src->name;
    size_t i;
    int rc;

    t->so.timeout = t->f->opts.timeout_s;
    t->so.connect_timeout = t->f->opts.connect_timeout_s;
    t->so.max_body = (long long)t->f->opts.max_body;
    t->so.max_redirs = t->f->opts.max_redirs;
    if (!o || o->type != EAR_Y_MAP)
        return 0;
    rc = ear_ynode_duration(&t->so.timeout, ear_ynode_get(o, "timeout"),
                            name, "timeout", err);
    if (rc == 0)
        rc = ear_ynode_duration(&t->so.connect_timeout,
                                ear_ynode_get(o, "connect_timeout"), name,
                                "connect_timeout", err);
    if (rc == 0)
        rc = ear_ynode_int(&t->so.max_body, ear_ynode_get(o, "max_body"),
                           1024, (long long)1 << 31, name, "max_body", err);
    if (rc == 0)
        rc = ear_ynode_int(&t->so.max_redirs,
                           ear_ynode_get(o, "max_redirects"), 0, 50, name,
                           "max_redirects", err);
    if (rc == 0)
        rc = ear_ynode_str(&t->so.ca_file, ear_ynode_get(o, "ca_file"), name,
                           "ca_file", err);
    if (rc < 0)
        return rc;
    h = ear_ynode_get(o, "headers");
    if (h && h->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, name, h->line, h->col,
                             "headers must be a map of name: value");
    for (i = 0; h && i < h->n; i++) {
        if (h->items[i]->type != EAR_Y_SCALAR)
            return ear_error_set(err, EAR_EINVAL, name, h->items[i]->line,
                                 h->items[i]->col,
                                 "header '%s' needs a plain value",
                                 h->keys[i]->value);
        rc = add_header(&t->headers, h->keys[i]->value,
                        h->items[i]->value);
        if (rc < 0)
            return ear_error_set(err, rc, name, 0, 0, "out of memory");
    }
    q = ear_ynode_get(o, "query");
    if (q && q->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, name, q->line, q->col,
                             "query must be a map of name: value");
    if (q && q->n) {
        CURLU *u = curl_url();
        char *full = NULL;
        struct ear_buf b;

        if (!u)
            return ear_error_set(err, EAR_ENOMEM, name, 0, 0,
                                 "out of memory");
        rc = curl_url_set(u, CURLUPART_URL, t->url, 0) == CURLUE_OK
                 ? 0 : EAR_EINVAL;
        for (i = 0; rc == 0 && i < q->n; i++) {
            ear_buf_init(&b, 0);
            rc = ear_buf_addf(&b, "%s=%s", q->keys[i]->value,
                              q->items[i]->value ? q->items[i]->value : "");
            if (rc == 0
                && curl_url_set(u, CURLUPART_QUERY, ear_buf_str(&b),
                                CURLU_APPENDQUERY | CURLU_URLENCODE)
                       != CURLUE_OK)
                rc = EAR_EINVAL;
            ear_buf_dispose(&b);
        }
        if (rc == 0 && curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
            rc = ear_str_set(&t->url, full);
        curl_free(full);
        curl_url_cleanup(u);
        if (rc < 0)
            return ear_error_set(err, rc, name, q->line, q->col,
                                 "cannot add the query to url %s", t->url);
    }
    return 0;
}

static int setup_easy(struct transfer *t)
{
    long low_time = LOW_SPEED_TIME;
    CURL *e;
    int rc = 0;

    t->easy = curl_easy_init();
    if (!t->easy)
        return EAR_ENOMEM;
    e = t->easy;
    if (t->so.timeout > 0 && t->so.timeout < low_time)
        low_time = (long)t->so.timeout;
    if (t->old_etag)
        rc = add_header(&t->headers, "If-None-Match", t->old_etag);
    if (rc == 0 && t->old_last_modified)
        rc = add_header(&t->headers, "If-Modified-Since",
                        t->old_last_modified);
    if (rc == 0)
        rc = add_header(&t->headers, "Accept", ACCEPT_FEEDS);
    if (rc < 0)
        return rc;
    if (curl_easy_setopt(e, CURLOPT_URL, t->url) != CURLE_OK)
        return EAR_ENOMEM;
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
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)t->so.max_body);
    if (t->so.ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, t->so.ca_file);
    curl_easy_setopt(e, CURLOPT_USERAGENT, t->f->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    return 0;
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
    ear_buf_init(&t->body, f->opts.max_body);
    if (state) {
        t->old_etag = ear_strdup(state->etag);
        t->old_last_modified = ear_strdup(state->last_modified);
        if ((state->etag && !t->old_etag)
            || (state->last_modified && !t->old_last_modified)) {
            rc = ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
            goto out;
        }
    }
    if (!src->url || !*src->url) {
        t->pre_rc = ear_error_set(&t->pre_err, EAR_EINVAL, name, 0, 0,
                                  "no url");
    } else if (!feed_type_ok(src->type)) {
        t->pre_rc = ear_error_set(&t->pre_err, EAR_EINVAL, name, 0, 0,
                                  "source type '%s' is not supported by "
                                  "this version", src->type);
    } else {
        rc = ear_fetch_file_url(&t->url, src->url, &t->pre_err);
        if (rc == EAR_ENOMEM) {
            ear_error_set(err, rc, name, 0, 0, "out of memory");
            goto out;
        }
        t->pre_rc = rc;
        rc = 0;
        if (t->pre_rc == 0)
            t->pre_rc = read_source_opts(t, &t->pre_err);
        if (t->pre_rc == EAR_ENOMEM) {
            rc = ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
            goto out;
        }
        if (t->pre_rc == 0) {
            t->body.max = (size_t)t->so.max_body;
            rc = setup_easy(t);
            if (rc < 0) {
                ear_error_set(err, rc, name, 0, 0, "out of memory");
                goto out;
            }
        }
    }
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

static void finish(struct transfer *t, CURLcode code, ear_fetch_cb cb,
                   void *payload)
{
    struct ear_fetch_result res;
    const char *name = t->src->name ? t->src->name : t->src->url;
    const char *scheme = NULL, *ctype = NULL, *eff = NULL;
    int is_file = 0, rc = 0;
    curl_off_t retry = 0;

    memset(&res, 0, sizeof(res));
    res.src = t->src;
    ear_error_clear(&res.err);
    snprintf(res.err.source, sizeof(res.err.source), "%s",
             name ? name : "");
    if (t->pre_rc < 0) {
        res.rc = t->pre_rc;
        res.err = t->pre_err;
        snprintf(res.err.source, sizeof(res.err.source), "%s",
                 name ? name : "");
        rc = ear_str_set(&res.etag, t->old_etag);
        if (rc == 0)
            rc = ear_str_set(&res.last_modified, t->old_last_modified);
        goto report;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &res.seconds);
    curl_easy_getinfo(t->easy, CURLINFO_SCHEME, &scheme);
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
    is_file = scheme && strcasecmp(scheme, "file") == 0;
    if (is_file)
        res.http_status = 0;
    res.bytes = t->body.len;

    if (code != CURLE_OK) {
        transfer_failed(t, &res, name, code, is_file);
    } else if (!is_file && res.http_status == 304) {
        res.not_modified = 1;
    } else if (!is_file && (res.http_status < 200 || res.http_status > 299)) {
        const char *words = status_text(res.http_status);

        if (!words)
            words = t->reason;
        res.rc = ear_error_set(&res.err, EAR_EHTTP, name, 0, 0,
                               "HTTP %ld%s%s", res.http_status,
                               *words ? " " : "", words);
        if (res.http_status == 429 || res.http_status == 503) {
            curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry);
            res.retry_after = retry > 0 ? (int64_t)retry : 0;
        }
    } else {
        /* Relative links resolve against the URL the body came from
         * after redirects; a local file is no base for web links. */
        res.rc = ear_feed_parse(&res.items, &res.feed,
                                t->body.ptr ? t->body.ptr : "", t->body.len,
                                is_file ? NULL : eff ? eff : t->url,
                                t->src->type, ctype,
                                name, &res.err);
        set_lang(&res.items, t->src->lang);
    }
    /* Validators: a fresh response says which are current; after a 304
     * or a failure the old ones stay unless the server sent new ones. */
    if (!is_file && res.rc == 0 && !res.not_modified) {
        rc = header_dup(&res.etag, t->easy, "ETag", NULL);
        if (rc == 0)
            rc = header_dup(&res.last_modified, t->easy, "Last-Modified",
                            NULL);
    } else if (!is_file) {
        rc = header_dup(&res.etag, t->easy, "ETag", t->old_etag);
        if (rc == 0)
            rc = header_dup(&res.last_modified, t->easy, "Last-Modified",
                            t->old_last_modified);
    }
report:
    if (rc < 0 && res.rc == 0)
        res.rc = ear_error_set(&res.err, rc, name, 0, 0, "out of memory");
    ear_buf_dispose(&t->body); /* parsed: the bytes are not needed now */
    cb(&res, payload);
    free(res.etag);
    free(res.last_modified);
    ear_feed_info_dispose(&res.feed);
    ear_mention_list_dispose(&res.items);
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

static void complete(struct ear_fetcher *f, struct transfer *t,
                     CURLcode code, ear_fetch_cb cb, void *payload)
{
    if (t->easy && t->pre_rc == 0)
        curl_multi_remove_handle(f->multi, t->easy);
    unlink_transfer(f, t);
    finish(t, code, cb, payload);
    transfer_free(t);
}

int ear_fetcher_perform(struct ear_fetcher *f, ear_fetch_cb cb, void *payload)
{
    struct transfer *t, *next;
    CURLMcode mc = CURLM_OK;
    int running = 0;
    int rc = 0;

    /* Sources that cannot even start are reported first. */
    for (t = f->head; t; t = next) {
        next = t->next;
        if (t->pre_rc < 0) {
            complete(f, t, CURLE_OK, cb, payload);
            continue;
        }
        mc = curl_multi_add_handle(f->multi, t->easy);
        if (mc != CURLM_OK) {
            t->pre_rc = ear_error_set(&t->pre_err, EAR_EHTTP,
                                      t->src->name, 0, 0,
                                      "cannot start the transfer: %s",
                                      curl_multi_strerror(mc));
            complete(f, t, CURLE_OK, cb, payload);
        }
    }
    for (;;) {
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
                complete(f, done, msg->data.result, cb, payload);
        }
        if (!running)
            break;
        mc = curl_multi_poll(f->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            break;
    }
    if (mc != CURLM_OK) {
        rc = mc == CURLM_OUT_OF_MEMORY ? EAR_ENOMEM : EAR_EHTTP;
        /* Whatever is left is reported, never silently dropped. */
        while (f->head) {
            t = f->head;
            t->pre_rc = ear_error_set(&t->pre_err, rc, t->src->name, 0, 0,
                                      "transfer aborted: %s",
                                      curl_multi_strerror(mc));
            curl_multi_remove_handle(f->multi, t->easy);
            unlink_transfer(f, t);
            finish(t, CURLE_OK, cb, payload);
            transfer_free(t);
        }
    }
    return rc;
}
