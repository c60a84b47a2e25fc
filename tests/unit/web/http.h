/* A tiny libcurl client for the web unit tests. */
#ifndef EAR_TEST_WEB_HTTP_H
#define EAR_TEST_WEB_HTTP_H

#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct reply {
    long status;
    char body[1 << 20];
    size_t len;
    char cookie[256];
};

static inline size_t on_body(char *p, size_t size, size_t n, void *payload)
{
    struct reply *r = payload;
    size_t len = size * n;

    if (r->len + len >= sizeof r->body)
        len = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = '\0';
    return size * n;
}

static inline size_t on_header(char *p, size_t size, size_t n, void *payload)
{
    struct reply *r = payload;
    size_t len = size * n;

    if (len > 12 && strncasecmp(p, "Set-Cookie: ", 12) == 0) {
        size_t k = strcspn(p + 12, ";\r\n");

        if (k < sizeof r->cookie) {
            memcpy(r->cookie, p + 12, k);
            r->cookie[k] = '\0';
        }
    }
    return len;
}

static inline void http(struct reply *r, const char *base, const char *path,
                 const char *post, const char *cookie, const char *csrf)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], hdr[200];

    memset(r, 0, sizeof *r);
    if (!c)
        return;
    snprintf(url, sizeof url, "%s%s", base, path[0] == '/' ? path + 1 : path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (post) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    }
    if (csrf) {
        snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", csrf);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (cookie)
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

#endif
