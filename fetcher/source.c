/*
 * struct ear_parser: what the fetcher reads from one source's config,
 * compiled and validated once, so that a mistake in a mapping or a
 * selector is reported as "config:line:col: message" before anything runs.
 *
 * The type decides the reader: rss / atom / rdf / jsonfeed go to
 * ear_feed_parse(), json to the source's mapping (jsonmap.c), html to its
 * XPath selectors or to the page's schema.org data (html.c). Without a
 * type, mapping keys mean json, xpath means html, and anything else is
 * detected from the document; an HTML page found that way is read for
 * schema.org reviews.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetcher/fetcher_int.h"

enum ptype { P_AUTO, P_FEED, P_JSON, P_HTML };

struct ear_parser {
    const struct ear_source_cfg *src;
    enum ptype type;
    const char *feed_type; /* rss, atom, rdf, jsonfeed, or NULL */
    struct ear_jsonmap *json;
    struct ear_htmlsel *html;
    struct ear_req_opts req;
    char *ctype_override;  /* "text/html; charset=X" from charset: */
};

static const char *const json_keys[] = {"preset", "map", "items", "fields",
                                        NULL};

void ear_parser_free(struct ear_parser *p)
{
    if (!p)
        return;
    ear_jsonmap__free(p->json);
    ear_htmlsel__free(p->html);
    free(p->ctype_override);
    free(p);
}

static const struct ear_ynode *first_key(const struct ear_ynode *o,
                                         const char *const keys[])
{
    size_t i;

    for (i = 0; keys[i]; i++)
        if (ear_ynode_get(o, keys[i]))
            return ear_ynode_get(o, keys[i]);
    return NULL;
}

static int key_for_type(const struct ear_ynode *o, const char *key,
                        const char *type, const char *want,
                        const char *path, struct ear_error *err)
{
    const struct ear_ynode *k;
    size_t i;

    if (!o || o->type != EAR_Y_MAP)
        return 0;
    for (i = 0; i < o->n; i++) {
        k = o->keys[i];
        if (strcmp(k->value, key) == 0)
            return ear_error_set(err, EAR_EINVAL, path, k->line, k->col,
                                 "'%s' applies to type %s, not %s", key,
                                 want, type);
    }
    return 0;
}

static int map_of_scalars(const struct ear_ynode *n, const char *what,
                          const char *path, struct ear_error *err)
{
    size_t i;

    if (!n)
        return 0;
    if (n->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "%s must be a map of name: value", what);
    for (i = 0; i < n->n; i++)
        if (n->items[i]->type != EAR_Y_SCALAR)
            return ear_error_set(err, EAR_EINVAL, path, n->items[i]->line,
                                 n->items[i]->col,
                                 "%s '%s' needs a plain value", what,
                                 n->keys[i]->value);
    return 0;
}

static int read_req(struct ear_parser *p, const char *path,
                    struct ear_error *err)
{
    const struct ear_ynode *o = p->src->opts;
    struct ear_req_opts *r = &p->req;
    int rc;

    r->timeout = -1;
    r->connect_timeout = -1;
    r->max_body = -1;
    r->max_redirs = -1;
    r->robots = p->type == P_HTML;
    if (!o || o->type != EAR_Y_MAP)
        return 0;
    rc = ear_ynode_duration(&r->timeout, ear_ynode_get(o, "timeout"), path,
                            "timeout", err);
    if (rc == 0)
        rc = ear_ynode_duration(&r->connect_timeout,
                                ear_ynode_get(o, "connect_timeout"), path,
                                "connect_timeout", err);
    if (rc == 0)
        rc = ear_ynode_int(&r->max_body, ear_ynode_get(o, "max_body"), 1024,
                           (long long)1 << 31, path, "max_body", err);
    if (rc == 0)
        rc = ear_ynode_int(&r->max_redirs, ear_ynode_get(o, "max_redirects"),
                           0, 50, path, "max_redirects", err);
    if (rc == 0)
        rc = ear_ynode_str(&r->ca_file, ear_ynode_get(o, "ca_file"), path,
                           "ca_file", err);
    if (rc == 0)
        rc = ear_ynode_str(&r->charset, ear_ynode_get(o, "charset"), path,
                           "charset", err);
    if (rc == 0)
        rc = ear_ynode_bool(&r->robots, ear_ynode_get(o, "robots"), path,
                            "robots", err);
    if (rc == 0)
        rc = map_of_scalars(ear_ynode_get(o, "headers"), "header", path, err);
    if (rc == 0)
        rc = map_of_scalars(ear_ynode_get(o, "query"), "query parameter",
                            path, err);
    if (rc < 0)
        return rc;
    if (r->timeout == 0 || r->connect_timeout == 0) {
        const struct ear_ynode *n = ear_ynode_get(o, r->timeout == 0
                                                         ? "timeout"
                                                         : "connect_timeout");

        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "a timeout must be at least 1s");
    }
    if (!ear_ynode_get(o, "timeout"))
        r->timeout = -1;
    if (!ear_ynode_get(o, "connect_timeout"))
        r->connect_timeout = -1;
    r->headers = ear_ynode_get(o, "headers");
    r->query = ear_ynode_get(o, "query");
    return 0;
}

int ear_parser_new(struct ear_parser **out, const struct ear_source_cfg *src,
                   const char *path, struct ear_error *err)
{
    struct ear_parser *p;
    const struct ear_ynode *o = src->opts;
    const char *where = path ? path : src->name;
    const char *t = src->type;
    int rc = 0;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return ear_error_set(err, EAR_ENOMEM, where, 0, 0, "out of memory");
    p->src = src;
    if (o && o->type != EAR_Y_MAP)
        o = NULL;
    if (!t) {
        if (first_key(o, json_keys))
            p->type = P_JSON;
        else if (ear_ynode_get(o, "xpath"))
            p->type = P_HTML;
        else
            p->type = P_AUTO;
    } else if (strcmp(t, "json") == 0) {
        p->type = P_JSON;
    } else if (strcmp(t, "html") == 0) {
        p->type = P_HTML;
    } else if (strcmp(t, "rss") == 0 || strcmp(t, "atom") == 0
               || strcmp(t, "rdf") == 0 || strcmp(t, "jsonfeed") == 0) {
        p->type = P_FEED;
        p->feed_type = t;
    } else {
        rc = ear_error_set(err, EAR_EINVAL, where, src->line, src->col,
                           "unknown source type '%s' (known: rss, atom, "
                           "rdf, jsonfeed, json, html)", t);
        goto out;
    }
    if (p->type != P_JSON) {
        size_t i;

        for (i = 0; json_keys[i] && rc == 0; i++)
            rc = key_for_type(o, json_keys[i], t ? t : "auto", "json",
                              where, err);
    }
    if (rc == 0 && p->type != P_HTML)
        rc = key_for_type(o, "xpath", t ? t : "auto", "html", where, err);
    if (rc == 0 && p->type != P_HTML && p->type != P_JSON) {
        rc = key_for_type(o, "next_page", t ? t : "auto", "json or html",
                          where, err);
        if (rc == 0)
            rc = key_for_type(o, "max_pages", t ? t : "auto",
                              "json or html", where, err);
    }
    if (rc < 0)
        goto out;
    if (p->type == P_JSON)
        rc = ear_jsonmap__new(&p->json, o ? o : src->opts, where, err);
    else if (p->type == P_HTML && o)
        rc = ear_htmlsel__new(&p->html, o, where, err);
    if (rc == 0)
        rc = read_req(p, where, err);
    if (rc < 0)
        goto out;
    if (p->json)
        p->req.api_query = ear_jsonmap__query(p->json);
    if (p->req.charset) {
        struct ear_buf b;

        ear_buf_init(&b, 0);
        rc = ear_buf_addf(&b, "%s; charset=%s",
                          p->type == P_HTML ? "text/html"
                                            : "application/xml",
                          p->req.charset);
        if (rc == 0)
            p->ctype_override = ear_buf_take(&b, NULL);
        ear_buf_dispose(&b);
        if (rc < 0 || !p->ctype_override) {
            rc = ear_error_set(err, EAR_ENOMEM, where, 0, 0,
                               "out of memory");
            goto out;
        }
    }
    *out = p;
    p = NULL;
out:
    ear_parser_free(p);
    return rc;
}

int ear_parser_max_pages(const struct ear_parser *p)
{
    if (p->json)
        return ear_jsonmap__max_pages(p->json);
    if (p->html)
        return ear_htmlsel__max_pages(p->html);
    return 1;
}

const struct ear_req_opts *ear_parser__req(const struct ear_parser *p)
{
    return &p->req;
}

/* Does the document look like an HTML page (and not a feed)? */
static int looks_html(const char *body, size_t len)
{
    size_t n = len < 2048 ? len : 2048, i;

    for (i = 0; i + 5 <= n; i++)
        if (body[i] == '<'
            && (strncasecmp(body + i, "<html", 5) == 0
                || (i + 14 <= n
                    && strncasecmp(body + i, "<!doctype html", 14) == 0)))
            return 1;
    return 0;
}

int ear_parser_parse(struct ear_parser *p, struct ear_mention_list *items,
                     struct ear_feed_info *info, const struct ear_page *page,
                     char **next_url, struct ear_error *err)
{
    const char *name = p->src->name;
    const char *ctype = p->ctype_override ? p->ctype_override
                                          : page->content_type;
    struct ear_error ferr;
    size_t before = items->n;
    int rc;

    if (next_url)
        *next_url = NULL;
    if (info) {
        ear_feed_info_dispose(info);
        info->rating = 0;
        info->rating_count = 0;
    }
    switch (p->type) {
    case P_JSON:
        return ear_jsonmap__parse(p->json, items, info, page, name, next_url,
                                  err);
    case P_HTML:
        rc = ear_html__page(p->html, items, info, page, p->req.charset,
                            name, next_url, err);
        if (rc == 0 && !(p->html && ear_htmlsel__has_items(p->html))
            && items->n == before && !(info && info->rating > 0))
            rc = ear_error_set(err, EAR_EPARSE, name, 0, 0,
                               "no schema.org Review or AggregateRating "
                               "on the page (give xpath selectors)");
        return rc;
    case P_FEED:
        return ear_feed_parse(items, info, page->body, page->len, page->url,
                              p->feed_type, ctype, name, err);
    case P_AUTO:
        break;
    }
    ear_error_clear(&ferr);
    rc = ear_feed_parse(items, info, page->body, page->len, page->url, NULL,
                        ctype, name, &ferr);
    if (rc != EAR_EPARSE || !looks_html(page->body, page->len)) {
        if (rc < 0 && err)
            *err = ferr;
        return rc;
    }
    /* an HTML page: its schema.org reviews, if it has any */
    rc = ear_html__page(NULL, items, info, page, p->req.charset, name, NULL,
                        err);
    if (rc == 0 && items->n == before && !(info && info->rating > 0))
        return ear_error_set(err, EAR_EPARSE, name, 0, 0,
                             "not a feed: an HTML page without schema.org "
                             "reviews (for other pages give type: html and "
                             "xpath selectors)");
    return rc;
}
