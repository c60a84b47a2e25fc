/*
 * HTML review pages (source type html).
 *
 * libxml2's HTML parser reads the page (charset from the source's charset
 * option, the HTTP header or the page's own meta tag; broken markup
 * recovered). Then one of two readers runs:
 *
 * - schema.org data. Every <script type="application/ld+json"> is parsed
 *   with jansson; microdata (itemscope / itemtype / itemprop) and RDFa
 *   Lite (typeof / property) items are turned into the same JSON shape
 *   (as extruct does). One walker then finds every Review (also under
 *   @graph, in arrays, as a Product's review list) and the page's
 *   AggregateRating. Each Review becomes a mention; the AggregateRating
 *   goes into the feed info.
 * - per-source XPath selectors: `item` selects the review elements, the
 *   other selectors (text, title, author, rating, date, link, id) are
 *   evaluated relative to each, `next_page` gives the next page's URL.
 *
 * A review without its own URL gets the page URL with a fragment made from
 * its content, so that two reviews on one page never share a link (links
 * identify mentions across sources).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "fetcher/fetcher_int.h"

#define DEPTH_MAX 64
#define SEL_DEFAULT_PAGES 5
#define SEL_MAX_PAGES 50

enum sel_field {
    S_TEXT, S_TITLE, S_AUTHOR, S_RATING, S_DATE, S_LINK, S_ID, S_COUNT
};

static const char *const sel_names[] = {"text", "title", "author", "rating",
                                        "date", "link", "id", NULL};
static const char *const xpath_keys[] = {"item", "text", "title", "author",
                                         "rating", "date", "link", "id",
                                         NULL};

struct ear_htmlsel {
    xmlXPathCompExprPtr item;
    xmlXPathCompExprPtr field[S_COUNT];
    xmlXPathCompExprPtr next;
    int max_pages;
    double worst, best; /* rating scale, NAN when not given */
};

struct page_ctx {
    const struct ear_page *page;
    const char *source_name;
    struct ear_mention_list *items;
    struct ear_feed_info *info;
    struct ear_html html;
    double agg_best; /* quality of the aggregate taken so far */
    int rc;
};

/* ------------------------------------------------------------ selectors */

void ear_htmlsel__free(struct ear_htmlsel *s)
{
    size_t i;

    if (!s)
        return;
    if (s->item)
        xmlXPathFreeCompExpr(s->item);
    for (i = 0; i < S_COUNT; i++)
        if (s->field[i])
            xmlXPathFreeCompExpr(s->field[i]);
    if (s->next)
        xmlXPathFreeCompExpr(s->next);
    free(s);
}

/* libxml2 reports XPath syntax errors through the generic error handler;
 * they are collected here instead of going to stderr. */
static void quiet_error(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static int compile(xmlXPathCompExprPtr *out, const struct ear_ynode *n,
                   const char *what, const char *path, struct ear_error *err)
{
    if (n->type != EAR_Y_SCALAR || !n->value || !*n->value)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "xpath %s: expected an XPath expression", what);
    xmlSetGenericErrorFunc(NULL, quiet_error);
    *out = xmlXPathCompile(BAD_CAST n->value);
    xmlSetGenericErrorFunc(NULL, NULL);
    if (!*out)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "xpath %s: invalid XPath expression '%s'", what,
                             n->value);
    return 0;
}

static int scale_value(double *out, const struct ear_ynode *n,
                       const char *path, struct ear_error *err)
{
    char *end;

    if (n->type != EAR_Y_SCALAR || !n->value)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "rating_scale: expected a number");
    *out = strtod(n->value, &end);
    if (end == n->value || *end || !isfinite(*out) || *out < 0)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "rating_scale: '%s' is not a number", n->value);
    return 0;
}

int ear_htmlsel__new(struct ear_htmlsel **out, const struct ear_ynode *src,
                     const char *path, struct ear_error *err)
{
    const struct ear_ynode *x = ear_ynode_get(src, "xpath");
    const struct ear_ynode *next = ear_ynode_get(src, "next_page");
    const struct ear_ynode *mp = ear_ynode_get(src, "max_pages");
    const struct ear_ynode *scale = ear_ynode_get(src, "rating_scale");
    struct ear_htmlsel *s;
    size_t i, k;
    int rc = 0;

    *out = NULL;
    if (!x && !next && !mp && !scale)
        return 0;
    s = calloc(1, sizeof(*s));
    if (!s)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    s->worst = NAN;
    s->best = NAN;
    if (x) {
        if (x->type != EAR_Y_MAP) {
            rc = ear_error_set(err, EAR_EINVAL, path, x->line, x->col,
                               "xpath must be a map (item, text, title, "
                               "author, rating, date, link, id)");
            goto out;
        }
        rc = ear_ynode_check_keys(x, xpath_keys, path, err);
        if (rc < 0)
            goto out;
        if (!ear_ynode_get(x, "item")) {
            rc = ear_error_set(err, EAR_EINVAL, path, x->line, x->col,
                               "xpath needs 'item' (the review elements)");
            goto out;
        }
        if (!ear_ynode_get(x, "text") && !ear_ynode_get(x, "title")) {
            rc = ear_error_set(err, EAR_EINVAL, path, x->line, x->col,
                               "xpath needs 'text' or 'title'");
            goto out;
        }
        rc = compile(&s->item, ear_ynode_get(x, "item"), "item", path, err);
        for (i = 0; rc == 0 && i < x->n; i++) {
            for (k = 0; sel_names[k]; k++)
                if (strcmp(sel_names[k], x->keys[i]->value) == 0)
                    break;
            if (sel_names[k])
                rc = compile(&s->field[k], x->items[i], sel_names[k], path,
                             err);
        }
        if (rc < 0)
            goto out;
    }
    if (next) {
        rc = compile(&s->next, next, "next_page", path, err);
        if (rc < 0)
            goto out;
    }
    s->max_pages = next ? SEL_DEFAULT_PAGES : 1;
    if (mp) {
        long long v = 1;

        rc = ear_ynode_int(&v, mp, 1, SEL_MAX_PAGES, path, "max_pages", err);
        if (rc < 0)
            goto out;
        s->max_pages = next ? (int)v : 1;
    }
    if (scale && scale->type == EAR_Y_SEQ && scale->n == 2) {
        rc = scale_value(&s->worst, scale->items[0], path, err);
        if (rc == 0)
            rc = scale_value(&s->best, scale->items[1], path, err);
    } else if (scale) {
        rc = scale_value(&s->best, scale, path, err);
        s->worst = s->best >= 100 ? 0 : 1;
    }
    if (rc == 0 && scale && !(s->best > s->worst))
        rc = ear_error_set(err, EAR_EINVAL, path, scale->line, scale->col,
                           "rating_scale: give best, or [worst, best] with "
                           "best above worst");
    if (rc < 0)
        goto out;
    *out = s;
    s = NULL;
out:
    ear_htmlsel__free(s);
    return rc;
}

int ear_htmlsel__has_items(const struct ear_htmlsel *s)
{
    return s && s->item;
}

int ear_htmlsel__max_pages(const struct ear_htmlsel *s)
{
    return s ? s->max_pages : 1;
}

/* ------------------------------------------------------------ helpers */

static int is_review_type(const char *t)
{
    static const char *const types[] = {"Review", "UserReview",
                                        "CriticReview", "EmployerReview",
                                        "MediaReview", NULL};
    size_t i;

    for (i = 0; types[i]; i++)
        if (strcmp(t, types[i]) == 0)
            return 1;
    return 0;
}

/* "http://schema.org/Review", "schema:Review", "Review" -> "Review" */
static const char *short_type(const char *t)
{
    const char *slash = strrchr(t, '/');
    const char *colon = strrchr(t, ':');

    if (slash && slash[1])
        return slash + 1;
    if (colon && colon[1] && !slash)
        return colon + 1;
    return t;
}

static int has_type(const json_t *o, int (*pred)(const char *))
{
    const json_t *t = json_object_get(o, "@type");
    size_t i;
    const json_t *e;

    if (json_is_string(t))
        return pred(short_type(json_string_value(t)));
    json_array_foreach(t, i, e) {
        if (json_is_string(e) && pred(short_type(json_string_value(e))))
            return 1;
    }
    return 0;
}

static int is_aggregate_type(const char *t)
{
    return strcmp(t, "AggregateRating") == 0;
}

/* A property's value as text: a string, a number, the first element of
 * an array, or an object's name / @value. Borrowed or in buf. */
static const char *prop_text(const json_t *o, const char *key, char *buf,
                             size_t size)
{
    const json_t *v = json_object_get(o, key);
    const char *s = NULL;
    int guard = 0;

    while (v && guard++ < 4) {
        if (json_is_array(v)) {
            v = json_array_get(v, 0);
            continue;
        }
        if (json_is_object(v)) {
            const json_t *n = json_object_get(v, "name");

            if (!n)
                n = json_object_get(v, "@value");
            v = n;
            continue;
        }
        break;
    }
    if (!v || ear_json__scalar(buf, size, &s, v) < 0)
        return NULL;
    return s;
}

static double prop_number(const json_t *o, const char *key)
{
    char buf[64];
    const char *s = prop_text(o, key, buf, sizeof(buf));
    double v;

    if (!s || ear_rating__number(&v, s) < 0)
        return NAN;
    return v;
}

static double rating_of(const json_t *r)
{
    double v, worst, best;

    if (json_is_array(r))
        r = json_array_get(r, 0);
    if (json_is_string(r) || json_is_number(r)) {
        /* "reviewRating": "4" : a bare value on the default scale */
        char buf[64];
        const char *s;

        if (ear_json__scalar(buf, sizeof(buf), &s, r) < 0
            || ear_rating__number(&v, s) < 0)
            return 0;
        return ear_rating__normalize(v, NAN, v <= 5 ? 5 : NAN);
    }
    if (!json_is_object(r))
        return 0;
    v = prop_number(r, "ratingValue");
    if (isnan(v))
        return 0;
    worst = prop_number(r, "worstRating");
    best = prop_number(r, "bestRating");
    /* schema.org: bestRating defaults to 5, worstRating to 1 */
    if (isnan(best) && v <= 5)
        best = 5;
    return ear_rating__normalize(v, worst, best);
}

static int text_field(struct page_ctx *c, char **out, const char *s,
                      int oneline)
{
    *out = NULL;
    if (!s)
        return 0;
    if (!oneline)
        return ear_html__mixed(&c->html, out, s, strlen(s));
    return ear_html__convert(&c->html, out, s, strlen(s), oneline);
}

/* author: a string, a Person / Organization, or a list of them */
static const char *author_of(const json_t *o, char *buf, size_t size)
{
    return prop_text(o, "author", buf, size);
}

/* ------------------------------------------------------------ reviews */

static int push(struct page_ctx *c, struct ear_mention *m)
{
    struct ear_mention *slot;
    int rc;

    if (!m->title && !m->text && !(m->rating > 0))
        return 0; /* nothing to read: not a review */
    rc = ear_str_set(&m->source, c->source_name);
    if (rc == 0 && !m->url && c->page->url) {
        /* A link of its own, from what the review says. */
        uint64_t h = EAR_FNV_OFFSET;
        char frag[48];
        const char *parts[4];
        size_t i;

        parts[0] = m->author;
        parts[1] = m->title;
        parts[2] = m->text;
        parts[3] = m->guid;
        for (i = 0; i < 4; i++) {
            if (parts[i])
                h = ear_fnv1a(h, parts[i], strlen(parts[i]));
            h = ear_fnv1a(h, "\n", 1);
        }
        h = ear_fnv1a(h, &m->published, sizeof(m->published));
        snprintf(frag, sizeof(frag), "#review-%016" PRIx64, h);
        m->url = ear_url__resolve(frag, c->page->url);
    }
    if (rc == 0)
        rc = ear_item__finish(m);
    if (rc < 0)
        return rc;
    slot = ear_mention_list_push(c->items);
    if (!slot)
        return EAR_ENOMEM;
    *slot = *m;
    ear_mention_init(m);
    return 0;
}

static int review(struct page_ctx *c, const json_t *o)
{
    struct ear_mention m;
    char buf[64], abuf[64];
    const char *s;
    int64_t t;
    int rc = 0;

    ear_mention_init(&m);
    s = prop_text(o, "@id", buf, sizeof(buf));
    if (!s)
        s = prop_text(o, "identifier", buf, sizeof(buf));
    if (s && (s[0] == '#' || s[0] == '/' || s[0] == '.') && c->page->url) {
        m.guid = ear_url__resolve(s, c->page->url); /* "#review-1" */
        if (!m.guid)
            rc = EAR_ENOMEM;
    } else {
        rc = ear_str_set(&m.guid, s);
    }
    if (rc < 0)
        goto out;
    s = prop_text(o, "url", buf, sizeof(buf));
    if (!s && m.guid && (strncmp(m.guid, "http", 4) == 0 || m.guid[0] == '#'))
        s = m.guid;
    if (s)
        m.url = ear_url__resolve(s, c->page->url);
    s = prop_text(o, "name", buf, sizeof(buf));
    if (!s)
        s = prop_text(o, "headline", buf, sizeof(buf));
    rc = text_field(c, &m.title, s, 1);
    if (rc < 0)
        goto out;
    s = prop_text(o, "reviewBody", buf, sizeof(buf));
    if (!s)
        s = prop_text(o, "description", buf, sizeof(buf));
    if (!s)
        s = prop_text(o, "text", buf, sizeof(buf));
    rc = text_field(c, &m.text, s, 0);
    if (rc < 0)
        goto out;
    s = author_of(o, abuf, sizeof(abuf));
    rc = text_field(c, &m.author, s, 1);
    if (rc < 0)
        goto out;
    s = prop_text(o, "datePublished", buf, sizeof(buf));
    if (!s)
        s = prop_text(o, "dateCreated", buf, sizeof(buf));
    if (s && ear_time_parse(&t, s) == 0)
        m.published = t;
    s = prop_text(o, "dateModified", buf, sizeof(buf));
    if (s && ear_time_parse(&t, s) == 0)
        m.updated = t;
    if (!m.published)
        m.published = m.updated;
    m.rating = rating_of(json_object_get(o, "reviewRating"));
    rc = push(c, &m);
out:
    ear_mention_dispose(&m);
    return rc;
}

/* The page's AggregateRating: the first one found, unless a later one is
 * about the page's main entity and the first was not. */
static void aggregate(struct page_ctx *c, const json_t *o, int main_entity)
{
    double r = rating_of(o);
    double count;
    double quality = main_entity ? 2 : 1;

    if (!c->info || !(r > 0) || quality <= c->agg_best)
        return;
    c->agg_best = quality;
    c->info->rating = r;
    count = prop_number(o, "ratingCount");
    if (isnan(count))
        count = prop_number(o, "reviewCount");
    c->info->rating_count = isnan(count) ? 0 : (int64_t)count;
}

static void walk(struct page_ctx *c, const json_t *v, int depth, int top)
{
    size_t i;
    const json_t *e;
    const char *key;

    if (c->rc < 0 || depth > DEPTH_MAX)
        return;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            walk(c, e, depth + 1, top);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    if (has_type(v, is_review_type)) {
        c->rc = review(c, v);
        return;
    }
    if (has_type(v, is_aggregate_type)) {
        aggregate(c, v, 0);
        return;
    }
    json_object_foreach((json_t *)v, key, e) {
        if (strcmp(key, "aggregateRating") == 0
            && (json_is_object(e) || json_is_array(e))) {
            aggregate(c, json_is_array(e) ? json_array_get(e, 0) : e, top);
            continue;
        }
        walk(c, e, depth + 1, 0);
    }
}

/* ------------------------------------------------------------ JSON-LD */

/* The JSON inside a script element, without the wrappers pages put
 * around it (HTML comments, CDATA) and with raw control characters (a
 * common error: line breaks inside strings) made blanks. */
static json_t *load_ld(const char *s)
{
    static const char *const wrappers[] = {"<!--", "//<![CDATA[",
                                           "/*<![CDATA[*/", "<![CDATA[",
                                           NULL};
    char *copy, *p, *start;
    json_t *j;
    json_error_t jerr;
    size_t i;

    copy = ear_strdup(s);
    if (!copy)
        return NULL;
    for (p = copy; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    start = copy;
    for (;;) {
        while (*start == ' ')
            start++;
        for (i = 0; wrappers[i]; i++)
            if (strncmp(start, wrappers[i], strlen(wrappers[i])) == 0)
                break;
        if (!wrappers[i])
            break;
        start += strlen(wrappers[i]);
    }
    j = (*start == '{' || *start == '[')
            ? json_loads(start, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY,
                         &jerr)
            : NULL;
    free(copy);
    return j;
}

static void json_ld(struct page_ctx *c, xmlXPathContextPtr xp)
{
    xmlXPathObjectPtr r;
    int i;

    r = xmlXPathEvalExpression(BAD_CAST "//script[@type]", xp);
    if (!r)
        return;
    for (i = 0; r->nodesetval && i < r->nodesetval->nodeNr && c->rc == 0;
         i++) {
        xmlNodePtr n = r->nodesetval->nodeTab[i];
        xmlChar *type = xmlGetProp(n, BAD_CAST "type");
        xmlChar *body;
        const char *t = (const char *)type;
        json_t *j;

        while (t && (*t == ' ' || *t == '\t'))
            t++;
        if (!t || strncasecmp(t, "application/ld+json", 19) != 0) {
            xmlFree(type);
            continue;
        }
        xmlFree(type);
        body = xmlNodeGetContent(n);
        if (!body)
            continue;
        j = load_ld((const char *)body);
        xmlFree(body);
        if (j) {
            walk(c, j, 0, 1);
            json_decref(j);
        }
    }
    xmlXPathFreeObject(r);
}

/* ------------------------------------------------------------ microdata */

/* Microdata and RDFa Lite name the same things differently. */
struct vocab {
    const char *scope; /* attribute that opens an item */
    const char *type;
    const char *prop;
    const char *id;
};

static const struct vocab microdata = {"itemscope", "itemtype", "itemprop",
                                       "itemid"};
static const struct vocab rdfa = {"typeof", "typeof", "property",
                                  "resource"};

static int has_attr(const xmlNode *n, const char *name)
{
    return xmlHasProp(n, BAD_CAST name) != NULL;
}

static int tag_is(const xmlNode *n, const char *const *tags)
{
    size_t i;

    for (i = 0; tags[i]; i++)
        if (xmlStrcasecmp(n->name, BAD_CAST tags[i]) == 0)
            return 1;
    return 0;
}

/* The value of a property element (HTML microdata's rules; RDFa's
 * content= wins everywhere). */
static json_t *prop_value(struct page_ctx *c, const xmlNode *n,
                          const struct vocab *vo)
{
    static const char *const src_tags[] = {"audio", "embed", "iframe",
                                           "img", "source", "track",
                                           "video", NULL};
    static const char *const href_tags[] = {"a", "area", "link", NULL};
    static const char *const value_tags[] = {"data", "meter", NULL};
    xmlChar *v = NULL;
    json_t *j;
    int is_url = 0;

    if (vo == &rdfa || xmlStrcasecmp(n->name, BAD_CAST "meta") == 0)
        v = xmlGetProp(n, BAD_CAST "content");
    if (!v && tag_is(n, src_tags)) {
        v = xmlGetProp(n, BAD_CAST "src");
        is_url = 1;
    } else if (!v && tag_is(n, href_tags)) {
        v = xmlGetProp(n, BAD_CAST "href");
        is_url = 1;
    } else if (!v && xmlStrcasecmp(n->name, BAD_CAST "object") == 0) {
        v = xmlGetProp(n, BAD_CAST "data");
        is_url = 1;
    } else if (!v && tag_is(n, value_tags)) {
        v = xmlGetProp(n, BAD_CAST "value");
    } else if (!v && xmlStrcasecmp(n->name, BAD_CAST "time") == 0) {
        v = xmlGetProp(n, BAD_CAST "datetime");
    }
    if (!v) {
        struct ear_text t;
        char *s;
        int rc = 0;

        ear_text__init(&t, 0);
        ear_text__node(&t, n);
        s = ear_text__take(&t, &rc);
        j = json_string(s ? s : "");
        free(s);
        return j;
    }
    if (is_url && c->page->url) {
        char *abs = ear_url__resolve((const char *)v, c->page->url);

        j = json_string(abs ? abs : (const char *)v);
        free(abs);
    } else {
        j = json_string((const char *)v);
    }
    xmlFree(v);
    return j;
}

static json_t *item_json(struct page_ctx *c, const xmlNode *n,
                         const struct vocab *vo, int depth);

/* The next blank-separated token of a list attribute, NUL-terminated in
 * place (the attribute is a private copy). NULL at the end. */
static char *next_token(char **p)
{
    char *s = *p, *start;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!*s)
        return NULL;
    start = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
        s++;
    if (*s)
        *s++ = '\0';
    *p = s;
    return start;
}

static void add_prop(json_t *obj, const char *name, json_t *val)
{
    json_t *old = json_object_get(obj, name);

    if (!val)
        return;
    if (!old) {
        json_object_set_new(obj, name, val);
    } else if (json_is_array(old)) {
        json_array_append_new(old, val);
    } else {
        json_t *arr = json_array();

        json_array_append(arr, old);
        json_array_append_new(arr, val);
        json_object_set_new(obj, name, arr);
    }
}

/* The properties below n (not crossing into other items) into obj. */
static void collect(struct page_ctx *c, json_t *obj, const xmlNode *n,
                    const struct vocab *vo, int depth)
{
    const xmlNode *k;

    if (depth > DEPTH_MAX)
        return;
    for (k = n->children; k; k = k->next) {
        xmlChar *props;
        int scoped;

        if (k->type != XML_ELEMENT_NODE)
            continue;
        scoped = has_attr(k, vo->scope);
        props = xmlGetProp(k, BAD_CAST vo->prop);
        if (props) {
            json_t *val = scoped ? item_json(c, k, vo, depth + 1)
                                 : prop_value(c, k, vo);
            char *cur = (char *)props, *tok;
            int first = 1;

            /* itemprop may name several properties */
            while ((tok = next_token(&cur)) != NULL) {
                const char *name = short_type(tok);

                add_prop(obj, name, first ? val : json_deep_copy(val));
                first = 0;
            }
            if (first)
                json_decref(val);
            xmlFree(props);
        }
        if (!scoped)
            collect(c, obj, k, vo, depth + 1);
    }
}

static json_t *item_json(struct page_ctx *c, const xmlNode *n,
                         const struct vocab *vo, int depth)
{
    json_t *obj = json_object();
    xmlChar *type, *id;

    if (!obj)
        return NULL;
    type = xmlGetProp(n, BAD_CAST vo->type);
    if (type) {
        char *cur = (char *)type, *tok;
        json_t *types = json_array();

        while ((tok = next_token(&cur)) != NULL)
            json_array_append_new(types, json_string(short_type(tok)));
        json_object_set_new(obj, "@type", types);
        xmlFree(type);
    }
    id = xmlGetProp(n, BAD_CAST vo->id);
    if (id) {
        json_object_set_new(obj, "@id", json_string((const char *)id));
        xmlFree(id);
    }
    if (depth <= DEPTH_MAX)
        collect(c, obj, n, vo, depth);
    return obj;
}

/* Top-level items: scoped elements that are no other item's property,
 * and property items whose item is lost (a second <body itemscope>,
 * which the HTML parser drops, as browsers merge it into the first). */
static void embedded(struct page_ctx *c, const xmlNode *n,
                     const struct vocab *vo, int depth, int in_item)
{
    const xmlNode *k;

    for (k = n->children; k && c->rc == 0; k = k->next) {
        int scoped;

        if (k->type != XML_ELEMENT_NODE)
            continue;
        scoped = has_attr(k, vo->scope);
        if (scoped && (!in_item || !has_attr(k, vo->prop))) {
            json_t *item = item_json(c, k, vo, 0);

            if (item) {
                walk(c, item, 0, 1);
                json_decref(item);
            }
        }
        if (depth < 256)
            embedded(c, k, vo, depth + 1, in_item || scoped);
    }
}

/* ------------------------------------------------------------ selectors */

static xmlXPathObjectPtr eval_at(xmlXPathCompExprPtr e, xmlXPathContextPtr xp,
                                 xmlNodePtr at)
{
    xp->node = at;
    return xmlXPathCompiledEval(e, xp);
}

/* The string value of a selector at a node; for a node set, the text of
 * its first node (block elements as line breaks). New string or NULL. */
static int sel_string(char **out, xmlXPathCompExprPtr e,
                      xmlXPathContextPtr xp, xmlNodePtr at, int as_text)
{
    xmlXPathObjectPtr r;
    int rc = 0;

    *out = NULL;
    if (!e)
        return 0;
    r = eval_at(e, xp, at);
    if (!r)
        return 0;
    if (r->type == XPATH_NODESET) {
        xmlNodeSetPtr ns = r->nodesetval;

        if (ns && ns->nodeNr > 0) {
            xmlNodePtr n = ns->nodeTab[0];

            if (as_text && n->type == XML_ELEMENT_NODE) {
                struct ear_text t;

                ear_text__init(&t, 0);
                ear_text__node(&t, n);
                *out = ear_text__take(&t, &rc);
            } else {
                xmlChar *s = xmlNodeGetContent(n);

                if (s) {
                    *out = ear_strdup((const char *)s);
                    if (!*out)
                        rc = EAR_ENOMEM;
                }
                xmlFree(s);
            }
        }
    } else {
        xmlChar *s = xmlXPathCastToString(r);

        if (s && *s) {
            *out = ear_strdup((const char *)s);
            if (!*out)
                rc = EAR_ENOMEM;
        }
        xmlFree(s);
    }
    xmlXPathFreeObject(r);
    return rc;
}

static int one_selected(struct page_ctx *c, const struct ear_htmlsel *sel,
                        xmlXPathContextPtr xp, xmlNodePtr item)
{
    struct ear_mention m;
    char *s = NULL;
    int rc;

    ear_mention_init(&m);
    rc = sel_string(&s, sel->field[S_TEXT], xp, item, 1);
    if (rc == 0 && s) {
        struct ear_text t;

        ear_text__init(&t, 0);
        ear_text__add(&t, s, strlen(s), 1);
        m.text = ear_text__take(&t, &rc);
    }
    free(s);
    s = NULL;
    if (rc == 0)
        rc = sel_string(&s, sel->field[S_TITLE], xp, item, 0);
    if (rc == 0 && s)
        rc = text_field(c, &m.title, s, 1);
    free(s);
    s = NULL;
    if (rc == 0)
        rc = sel_string(&s, sel->field[S_AUTHOR], xp, item, 0);
    if (rc == 0 && s)
        rc = text_field(c, &m.author, s, 1);
    free(s);
    s = NULL;
    if (rc == 0)
        rc = sel_string(&m.guid, sel->field[S_ID], xp, item, 0);
    if (rc == 0)
        rc = sel_string(&s, sel->field[S_LINK], xp, item, 0);
    if (rc == 0 && s)
        m.url = ear_url__resolve(s, c->page->url);
    free(s);
    s = NULL;
    if (rc == 0)
        rc = sel_string(&s, sel->field[S_DATE], xp, item, 0);
    if (rc == 0 && s) {
        int64_t t;

        if (ear_time_parse(&t, s) == 0)
            m.published = t;
    }
    free(s);
    s = NULL;
    if (rc == 0)
        rc = sel_string(&s, sel->field[S_RATING], xp, item, 0);
    if (rc == 0 && s) {
        double value, best;

        if (ear_rating__text(&value, &best, s) == 0)
            m.rating = ear_rating__normalize(
                value, sel->worst, !isnan(sel->best) ? sel->best
                                   : best > 0        ? best
                                                     : NAN);
    }
    free(s);
    if (rc == 0)
        rc = push(c, &m);
    ear_mention_dispose(&m);
    return rc;
}

static int selected(struct page_ctx *c, const struct ear_htmlsel *sel,
                    xmlDocPtr doc, xmlXPathContextPtr xp,
                    struct ear_error *err)
{
    xmlXPathObjectPtr r;
    int i, rc = 0, n = 0;

    r = eval_at(sel->item, xp, (xmlNodePtr)doc);
    if (r && r->type == XPATH_NODESET && r->nodesetval)
        n = r->nodesetval->nodeNr;
    for (i = 0; i < n && rc == 0; i++)
        rc = one_selected(c, sel, xp, r->nodesetval->nodeTab[i]);
    if (r)
        xmlXPathFreeObject(r);
    if (rc < 0)
        return ear_error_set(err, rc, c->source_name, 0, 0, "%s",
                             ear_strerror(rc));
    if (n == 0)
        return ear_error_set(err, EAR_EPARSE, c->source_name, 0, 0,
                             "xpath item matched nothing on the page "
                             "(has the page changed?)");
    return 0;
}

/* ------------------------------------------------------------ page */

static void content_charset(char *buf, size_t size, const char *ct)
{
    const char *p = ct ? strcasestr(ct, "charset=") : NULL;
    size_t n = 0;

    buf[0] = '\0';
    if (!p)
        return;
    p += 8;
    if (*p == '"' || *p == '\'')
        p++;
    while (p[n] && p[n] != '"' && p[n] != '\'' && p[n] != ';' && p[n] != ' '
           && n + 1 < size) {
        buf[n] = p[n];
        n++;
    }
    buf[n] = '\0';
}

int ear_html__page(const struct ear_htmlsel *sel,
                   struct ear_mention_list *items, struct ear_feed_info *info,
                   const struct ear_page *page, const char *charset,
                   const char *source_name, char **next,
                   struct ear_error *err)
{
    struct page_ctx c;
    htmlDocPtr doc = NULL;
    xmlXPathContextPtr xp = NULL;
    char cs[64];
    const char *enc = NULL;
    int rc = 0;

    if (next)
        *next = NULL;
    if (page->len > INT32_MAX)
        return ear_error_set(err, EAR_ETOOBIG, source_name, 0, 0,
                             "page too large for the HTML parser");
    memset(&c, 0, sizeof(c));
    c.page = page;
    c.source_name = source_name;
    c.items = items;
    c.info = info;
    ear_html__init(&c.html);
    content_charset(cs, sizeof(cs), page->content_type);
    if (charset && *charset) {
        enc = charset;
    } else if (cs[0]) {
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(cs);

        if (h) {
            xmlCharEncCloseFunc(h);
            enc = cs;
        }
    }
    xmlInitParser();
    doc = htmlReadMemory(page->body, (int)page->len, page->url, enc,
                         HTML_PARSE_RECOVER | HTML_PARSE_NOERROR
                             | HTML_PARSE_NOWARNING | HTML_PARSE_NONET
                             | HTML_PARSE_COMPACT);
    if (!doc || !xmlDocGetRootElement(doc)) {
        rc = ear_error_set(err, EAR_EPARSE, source_name, 0, 0,
                           page->len ? "not an HTML page"
                                     : "empty document, not a page");
        goto out;
    }
    xp = xmlXPathNewContext(doc);
    if (!xp) {
        rc = ear_error_set(err, EAR_ENOMEM, source_name, 0, 0,
                           "out of memory");
        goto out;
    }
    if (info && !info->title) {
        xmlXPathObjectPtr r = xmlXPathEvalExpression(
            BAD_CAST "normalize-space(//title)", xp);

        if (r && r->stringval && *r->stringval) {
            info->title = ear_strdup((const char *)r->stringval);
            if (!info->title)
                c.rc = EAR_ENOMEM;
        }
        if (r)
            xmlXPathFreeObject(r);
        if (page->url && !info->link)
            info->link = ear_strdup(page->url);
    }
    if (sel && sel->item) {
        rc = selected(&c, sel, doc, xp, err);
        if (rc < 0)
            goto out;
    } else {
        /* A page that gives its reviews in JSON-LD often repeats them in
         * microdata: the first form that has reviews is the one read. */
        size_t before = items->n;

        json_ld(&c, xp);
        if (c.rc == 0 && items->n == before)
            embedded(&c, (const xmlNode *)doc, &microdata, 0, 0);
        if (c.rc == 0 && items->n == before)
            embedded(&c, (const xmlNode *)doc, &rdfa, 0, 0);
    }
    if (c.rc < 0) {
        rc = ear_error_set(err, c.rc, source_name, 0, 0, "%s",
                           ear_strerror(c.rc));
        goto out;
    }
    if (next && sel && sel->next && page->url) {
        char *s = NULL;

        rc = sel_string(&s, sel->next, xp, (xmlNodePtr)doc, 0);
        if (rc == 0 && s) {
            *next = ear_url__resolve(s, page->url);
            if (*next && strcmp(*next, page->url) == 0) {
                free(*next);
                *next = NULL;
            }
        }
        free(s);
        if (rc < 0) {
            rc = ear_error_set(err, rc, source_name, 0, 0, "out of memory");
            goto out;
        }
    }
out:
    if (xp)
        xmlXPathFreeContext(xp);
    if (doc)
        xmlFreeDoc(doc);
    ear_html__dispose(&c.html);
    return rc;
}
