/*
 * Links: resolution, canonical form, file paths as URLs.
 *
 * Relative links are resolved by libxml2 (xmlBuildURI, RFC 3986). The
 * canonical form is what identifies a page across feeds: libcurl's URL API
 * splits it, tracking parameters are dropped from the query, and Google's
 * redirect links (Google Alerts) are unwrapped to the page they point to.
 * A link that does not parse is kept as it is.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/uri.h>

#include "fetcher/fetcher_int.h"

static void trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;

    while (n && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

char *ear_url__resolve(const char *ref, const char *base)
{
    size_t len = strlen(ref);
    char *r, *abs;
    xmlChar *built;

    trim(&ref, &len);
    if (len == 0)
        return NULL;
    r = ear_strndup(ref, len);
    if (!r || !base || !*base)
        return r;
    built = xmlBuildURI(BAD_CAST r, BAD_CAST base);
    if (!built)
        return r; /* not a valid reference: keep what the feed says */
    abs = ear_strdup((const char *)built);
    xmlFree(built);
    if (!abs)
        return r;
    free(r);
    return abs;
}

/* Query parameters that only track the click, never select the page. */
static int is_tracking(const char *name, size_t len)
{
    static const char *const names[] = {
        "fbclid", "gclid", "dclid", "gclsrc", "gbraid", "wbraid", "msclkid",
        "mc_cid", "mc_eid", "yclid", "igshid", "_ga", "_gl", "_hsenc",
        "_hsmi", "mkt_tok", "twclid", "ttclid", "li_fat_id", "oly_anon_id",
        "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "wickedid", NULL
    };
    size_t i;

    if (len > 4 && strncmp(name, "utm_", 4) == 0)
        return 1;
    for (i = 0; names[i]; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* www.google.com, google.hu, news.google.co.uk, ... */
static int is_google_host(const char *host)
{
    const char *p = host;

    while (p) {
        if (strncmp(p, "google.", 7) == 0)
            return strchr(p + 7, '.') == NULL
                   || strncmp(p + 7, "co.", 3) == 0
                   || strncmp(p + 7, "com.", 4) == 0;
        p = strchr(p, '.');
        if (p)
            p++;
    }
    return 0;
}

/* The decoded value of parameter name in query, or NULL. New string. */
static char *query_param(const char *query, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = query;

    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);

        if (plen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            char *raw = ear_strndup(p + nlen + 1, plen - nlen - 1);
            char *v, *dec;

            if (!raw)
                return NULL;
            for (v = raw; *v; v++)
                if (*v == '+')
                    *v = ' ';
            dec = xmlURIUnescapeString(raw, 0, NULL);
            free(raw);
            if (!dec)
                return NULL;
            v = ear_strdup(dec);
            xmlFree(dec);
            return v;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static int canonical(char **out, const char *url, int depth)
{
    CURLU *u = NULL;
    char *host = NULL, *path = NULL, *query = NULL, *full = NULL;
    char *target = NULL, *nq = NULL;
    size_t qlen, i;
    int rc = 0, changed = 0;
    const char *p;

    *out = NULL;
    if (!strchr(url, '?'))
        goto keep; /* no query: nothing to drop, nothing to unwrap */
    u = curl_url();
    if (!u)
        return EAR_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME)
        != CURLUE_OK)
        goto keep;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK || !query)
        goto keep;
    if (depth == 0
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK
        && is_google_host(host) && strcmp(path, "/url") == 0) {
        target = query_param(query, "url");
        if (!target)
            target = query_param(query, "q");
        if (target && (strncmp(target, "http://", 7) == 0
                       || strncmp(target, "https://", 8) == 0)) {
            rc = canonical(out, target, depth + 1);
            goto out;
        }
    }
    qlen = strlen(query);
    nq = malloc(qlen + 1);
    if (!nq) {
        rc = EAR_ENOMEM;
        goto out;
    }
    i = 0;
    for (p = query; *p;) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        size_t name_len = strcspn(p, "=&");

        if (name_len > plen)
            name_len = plen;
        if (plen == 0 || is_tracking(p, name_len)) {
            changed = 1;
        } else {
            if (i)
                nq[i++] = '&';
            memcpy(nq + i, p, plen);
            i += plen;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    nq[i] = '\0';
    if (!changed)
        goto keep;
    if (curl_url_set(u, CURLUPART_QUERY, i ? nq : NULL, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
        goto keep;
    *out = ear_strdup(full);
    if (!*out)
        rc = EAR_ENOMEM;
    goto out;
keep:
    *out = ear_strdup(url);
    if (!*out)
        rc = EAR_ENOMEM;
out:
    free(target);
    free(nq);
    curl_free(host);
    curl_free(path);
    curl_free(query);
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

int ear_url_canonical(char **out, const char *url)
{
    return canonical(out, url, 0);
}

static int has_scheme(const char *s)
{
    const char *p = s;

    if (!isalpha((unsigned char)*p))
        return 0;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    return *p == ':' && p - s >= 2;
}

/* Appends s percent-encoded (path characters kept). */
static int add_escaped(struct ear_buf *b, const char *s)
{
    xmlChar *esc = xmlURIEscapeStr(BAD_CAST s, BAD_CAST "/:@&=+$,;");
    int rc;

    if (!esc)
        return EAR_ENOMEM;
    rc = ear_buf_adds(b, (const char *)esc);
    xmlFree(esc);
    return rc;
}

int ear_fetch_file_url(char **out, const char *path, struct ear_error *err)
{
    struct ear_buf b;
    char *cwd = NULL;
    int rc;

    *out = NULL;
    ear_buf_init(&b, 0);
    if (has_scheme(path)) {
        rc = ear_buf_adds(&b, path);
        goto done;
    }
    rc = ear_buf_adds(&b, "file://");
    if (rc == 0 && path[0] != '/') {
        cwd = getcwd(NULL, 0);
        if (!cwd) {
            rc = ear_error_set(err, EAR_EIO, path, 0, 0,
                               "cannot resolve a relative path: %s",
                               strerror(errno));
            goto out;
        }
        rc = add_escaped(&b, cwd);
        if (rc == 0 && cwd[strlen(cwd) - 1] != '/')
            rc = ear_buf_addc(&b, '/');
    }
    if (rc == 0)
        rc = add_escaped(&b, path);
done:
    if (rc == 0)
        *out = ear_buf_take(&b, NULL);
    if (rc < 0 || !*out)
        rc = ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
out:
    free(cwd);
    ear_buf_dispose(&b);
    return rc;
}

/* ------------------------------------------------------------ paging */

/* The query without any name=... parameter, plus name=value (encoded). */
int ear_url__set_param(char **out, const char *url, const char *name,
                       const char *value)
{
    CURLU *u;
    char *query = NULL, *full = NULL, *enc = NULL;
    struct ear_buf b;
    const char *p;
    size_t nlen = strlen(name);
    int rc = 0;

    *out = NULL;
    u = curl_url();
    if (!u)
        return EAR_ENOMEM;
    ear_buf_init(&b, 0);
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        rc = EAR_EINVAL;
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    for (p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);

        if (plen && !(plen >= nlen && strncmp(p, name, nlen) == 0
                      && (plen == nlen || p[nlen] == '='))) {
            if (b.len)
                rc = ear_buf_addc(&b, '&');
            if (rc == 0)
                rc = ear_buf_addn(&b, p, plen);
            if (rc < 0)
                goto out;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    enc = curl_easy_escape(NULL, value, 0);
    if (!enc) {
        rc = EAR_ENOMEM;
        goto out;
    }
    rc = ear_buf_addf(&b, "%s%s=%s", b.len ? "&" : "", name, enc);
    if (rc < 0)
        goto out;
    if (curl_url_set(u, CURLUPART_QUERY, ear_buf_str(&b), 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
        rc = EAR_EINVAL;
        goto out;
    }
    *out = ear_strdup(full);
    if (!*out)
        rc = EAR_ENOMEM;
out:
    curl_free(enc);
    curl_free(query);
    curl_free(full);
    curl_url_cleanup(u);
    ear_buf_dispose(&b);
    return rc;
}

/* Where "name=N" sits in url: in a path segment ("/name=N/", Apple's
 * /page=2/) or as a query parameter. Returns a pointer to the digits. */
static const char *find_counter(const char *url, const char *name,
                                int *in_path)
{
    size_t nlen = strlen(name);
    const char *q = strchr(url, '?');
    const char *frag = strchr(url, '#');
    const char *p;

    if (frag && (!q || frag < q))
        q = NULL;
    for (p = url; (p = strstr(p, name)) != NULL; p++) {
        const char *d = p + nlen;

        if (q && p > q)
            break;
        if (p > url && p[-1] == '/' && *d == '=' && d[1] >= '0'
            && d[1] <= '9') {
            *in_path = 1;
            return d + 1;
        }
    }
    for (p = q; p && (p = strstr(p, name)) != NULL; p++) {
        const char *d = p + nlen;

        if (frag && p > frag)
            break;
        if ((p[-1] == '?' || p[-1] == '&') && *d == '=' && d[1] >= '0'
            && d[1] <= '9') {
            *in_path = 0;
            return d + 1;
        }
    }
    return NULL;
}

int ear_url__get_counter(long *value, const char *url, const char *name)
{
    int in_path;
    const char *d = find_counter(url, name, &in_path);

    if (!d)
        return EAR_ENOTFOUND;
    *value = strtol(d, NULL, 10);
    return 0;
}

int ear_url__set_counter(char **out, const char *url, const char *name,
                         long value)
{
    int in_path;
    const char *d = find_counter(url, name, &in_path);
    char num[32];
    struct ear_buf b;
    size_t end;
    int rc;

    snprintf(num, sizeof(num), "%ld", value);
    if (!d)
        return ear_url__set_param(out, url, name, num);
    end = (size_t)(d - url);
    while (url[end] >= '0' && url[end] <= '9')
        end++;
    ear_buf_init(&b, 0);
    rc = ear_buf_addn(&b, url, (size_t)(d - url));
    if (rc == 0)
        rc = ear_buf_adds(&b, num);
    if (rc == 0)
        rc = ear_buf_adds(&b, url + end);
    if (rc < 0)
        return rc;
    *out = ear_buf_take(&b, NULL);
    ear_buf_dispose(&b);
    return *out ? 0 : EAR_ENOMEM;
}

/* Link: <https://x/api?max_id=1>; rel="next", <...>; rel="prev" */
char *ear_url__link_next(const char *link, const char *base)
{
    const char *p = link;

    while (p && *p) {
        const char *lt = strchr(p, '<'), *gt, *next_lt, *params;

        if (!lt)
            break;
        gt = strchr(lt, '>');
        if (!gt)
            break;
        next_lt = strchr(gt, '<');
        params = gt + 1;
        /* the parameters of this link run up to the next '<' */
        {
            size_t plen = next_lt ? (size_t)(next_lt - params)
                                  : strlen(params);
            char *ps = ear_strndup(params, plen);
            int is_next = 0;

            if (!ps)
                return NULL;
            {
                char *r = strstr(ps, "rel=");

                if (r) {
                    r += 4;
                    if (*r == '"')
                        r++;
                    /* rel may hold several space-separated types */
                    while (*r && *r != '"' && *r != ';' && *r != ',') {
                        size_t n = strcspn(r, " \";,");

                        if (n == 4 && strncasecmp(r, "next", 4) == 0)
                            is_next = 1;
                        r += n;
                        while (*r == ' ')
                            r++;
                    }
                }
            }
            free(ps);
            if (is_next) {
                char *ref = ear_strndup(lt + 1, (size_t)(gt - lt - 1));
                char *abs;

                if (!ref)
                    return NULL;
                abs = ear_url__resolve(ref, base);
                free(ref);
                return abs;
            }
        }
        p = next_lt;
    }
    return NULL;
}
