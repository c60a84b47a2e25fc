/*
 * A small path language for JSON documents, for the declarative mappings
 * of JSON APIs (jsonmap.c). A path names where values sit:
 *
 *   feed.entry                  key, then key
 *   data.children[*].data       every element of an array (or object)
 *   hits[0]  items[-1]          one element, counted from the end when < 0
 *   im:rating.label             keys may hold ':' '-' '@' and the like
 *   feed.link[attributes.rel=next].attributes.href
 *                               the elements whose sub-path equals a value
 *   ['a.b']  a\.b               a key with a dot in it
 *   $  (or "")                  the document itself
 *
 * An expression is a path or a template: text with {path} holes
 * ("https://news.ycombinator.com/item?id={objectID}"), which has a value
 * only when every hole has one. Values are jansson nodes, borrowed from
 * the document.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fetcher_int.h"

enum seg_kind { SEG_KEY, SEG_INDEX, SEG_ALL, SEG_FILTER };

struct seg {
    enum seg_kind kind;
    char *key;             /* SEG_KEY; SEG_FILTER: the value to equal */
    long index;            /* SEG_INDEX */
    struct ear_jpath *sub; /* SEG_FILTER: path inside each element */
};

struct ear_jpath {
    struct seg *v;
    size_t n;
};

struct part {
    char *lit;             /* literal text, or NULL for a hole */
    struct ear_jpath *path;
};

struct ear_jexpr {
    struct part *v;
    size_t n;
};

/* ------------------------------------------------------------ compile */

void ear_jpath__free(struct ear_jpath *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++) {
        free(p->v[i].key);
        ear_jpath__free(p->v[i].sub);
    }
    free(p->v);
    free(p);
}

static struct seg *push_seg(struct ear_jpath *p)
{
    struct seg *v = realloc(p->v, (p->n + 1) * sizeof(*v));

    if (!v)
        return NULL;
    p->v = v;
    memset(&v[p->n], 0, sizeof(*v));
    return &v[p->n++];
}

/* A key up to '.', '[' or end (or stop), with '\' escaping one char. */
static int read_key(char **out, const char **s, const char *stop)
{
    struct ear_buf b;
    const char *p = *s;
    int rc = 0;

    ear_buf_init(&b, 4096);
    while (*p && *p != '.' && *p != '[' && !(stop && strchr(stop, *p))) {
        if (*p == '\\' && p[1])
            p++;
        rc = ear_buf_addc(&b, *p++);
        if (rc < 0)
            return rc;
    }
    *s = p;
    *out = b.len ? ear_buf_take(&b, NULL) : NULL;
    ear_buf_dispose(&b);
    return 0;
}

static int parse_path(struct ear_jpath **out, const char **s,
                      const char *stop, const char **why);

static int parse_bracket(struct ear_jpath *p, const char **s,
                         const char **why)
{
    const char *q = *s; /* after '[' */
    struct seg *g = push_seg(p);
    int rc;

    if (!g)
        return EAR_ENOMEM;
    if (*q == '*' && q[1] == ']') {
        g->kind = SEG_ALL;
        *s = q + 2;
        return 0;
    }
    if ((*q == '-' && q[1] >= '0' && q[1] <= '9') || (*q >= '0' && *q <= '9')) {
        char *end;

        g->kind = SEG_INDEX;
        g->index = strtol(q, &end, 10);
        if (*end == ']') {
            *s = end + 1;
            return 0;
        }
    }
    if (*q == '\'' || *q == '"') {
        const char *close = strchr(q + 1, *q);

        if (!close || close[1] != ']') {
            *why = "unterminated quoted key";
            return EAR_EINVAL;
        }
        g->kind = SEG_KEY;
        g->key = ear_strndup(q + 1, (size_t)(close - q - 1));
        if (!g->key)
            return EAR_ENOMEM;
        *s = close + 2;
        return 0;
    }
    if (!strchr(q, ']')) {
        *why = "missing ']'";
        return EAR_EINVAL;
    }
    /* [sub.path=value] */
    g->kind = SEG_FILTER;
    rc = parse_path(&g->sub, &q, "=]", why);
    if (rc < 0)
        return rc;
    if (*q != '=') {
        *why = "expected '*', an index, a quoted key or path=value in []";
        return EAR_EINVAL;
    }
    q++;
    if (*q == '\'' || *q == '"') {
        const char *close = strchr(q + 1, *q);

        if (!close || close[1] != ']') {
            *why = "unterminated quoted value";
            return EAR_EINVAL;
        }
        g->key = ear_strndup(q + 1, (size_t)(close - q - 1));
        q = close + 1;
    } else {
        const char *close = strchr(q, ']');

        if (!close) {
            *why = "missing ']'";
            return EAR_EINVAL;
        }
        g->key = ear_strndup(q, (size_t)(close - q));
        q = close;
    }
    if (!g->key)
        return EAR_ENOMEM;
    *s = q + 1;
    return 0;
}

static int parse_path(struct ear_jpath **out, const char **s,
                      const char *stop, const char **why)
{
    struct ear_jpath *p;
    const char *q = *s;
    int rc = 0, rooted = 0;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return EAR_ENOMEM;
    if (*q == '$') {
        q++;
        rooted = 1;
    } else if (*q == '.' && (q[1] == '\0' || (stop && strchr(stop, q[1])))) {
        q++; /* "." alone is the document */
    }
    while (rc == 0 && *q && !(stop && strchr(stop, *q))) {
        struct seg *g;

        if (*q == '[') {
            q++;
            rc = parse_bracket(p, &q, why);
            continue;
        }
        if (*q == '.') {
            if (p->n == 0 && !rooted) {
                *why = "a path cannot start with '.'";
                rc = EAR_EINVAL;
                break;
            }
            q++;
        }
        g = push_seg(p);
        if (!g) {
            rc = EAR_ENOMEM;
            break;
        }
        g->kind = SEG_KEY;
        rc = read_key(&g->key, &q, stop);
        if (rc == 0 && !g->key) {
            *why = "empty key";
            rc = EAR_EINVAL;
        }
    }
    if (rc < 0) {
        ear_jpath__free(p);
        return rc;
    }
    *s = q;
    *out = p;
    return 0;
}

int ear_jpath__compile(struct ear_jpath **out, const char *s,
                       const char **why)
{
    const char *q = s;
    int rc;

    *why = NULL;
    rc = parse_path(out, &q, NULL, why);
    if (rc == EAR_EINVAL && !*why)
        *why = "bad path";
    return rc;
}

void ear_jexpr__free(struct ear_jexpr *e)
{
    size_t i;

    if (!e)
        return;
    for (i = 0; i < e->n; i++) {
        free(e->v[i].lit);
        ear_jpath__free(e->v[i].path);
    }
    free(e->v);
    free(e);
}

static struct part *push_part(struct ear_jexpr *e)
{
    struct part *v = realloc(e->v, (e->n + 1) * sizeof(*v));

    if (!v)
        return NULL;
    e->v = v;
    memset(&v[e->n], 0, sizeof(*v));
    return &v[e->n++];
}

int ear_jexpr__compile(struct ear_jexpr **out, const char *s,
                       const char **why)
{
    struct ear_jexpr *e;
    struct part *pt;
    const char *p = s;
    int rc = 0;

    *out = NULL;
    *why = NULL;
    e = calloc(1, sizeof(*e));
    if (!e)
        return EAR_ENOMEM;
    if (!strchr(s, '{')) {
        pt = push_part(e);
        rc = pt ? ear_jpath__compile(&pt->path, s, why) : EAR_ENOMEM;
        goto out;
    }
    while (*p && rc == 0) {
        const char *open = strchr(p, '{'), *close;

        if (open != p) {
            size_t n = open ? (size_t)(open - p) : strlen(p);

            pt = push_part(e);
            if (!pt || !(pt->lit = ear_strndup(p, n))) {
                rc = EAR_ENOMEM;
                break;
            }
            p += n;
            continue;
        }
        close = strchr(open, '}');
        if (!close) {
            *why = "'{' without '}' in template";
            rc = EAR_EINVAL;
            break;
        }
        pt = push_part(e);
        if (!pt) {
            rc = EAR_ENOMEM;
            break;
        }
        {
            char *inner = ear_strndup(open + 1, (size_t)(close - open - 1));

            if (!inner) {
                rc = EAR_ENOMEM;
                break;
            }
            rc = ear_jpath__compile(&pt->path, inner, why);
            free(inner);
        }
        p = close + 1;
    }
out:
    if (rc < 0) {
        ear_jexpr__free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* ------------------------------------------------------------ evaluate */

int ear_json__scalar(char *buf, size_t size, const char **out,
                     const json_t *v)
{
    *out = NULL;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        if (!**out)
            *out = NULL; /* "" is as good as absent */
    } else if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = buf;
    } else if (json_is_real(v)) {
        snprintf(buf, size, "%.15g", json_real_value(v));
        *out = buf;
    } else if (json_is_boolean(v)) {
        *out = json_is_true(v) ? "true" : "false";
    }
    return *out ? 0 : EAR_ENOTFOUND;
}

static int walk(const struct ear_jpath *p, size_t i, const json_t *v,
                ear_jvisit_fn fn, void *payload, int depth);

static int filter_match(const struct seg *g, const json_t *e)
{
    const json_t *sub = ear_jpath__first(g->sub, e);
    const char *s;
    char buf[64];

    if (!sub || ear_json__scalar(buf, sizeof(buf), &s, sub) < 0)
        return 0;
    return strcmp(s, g->key) == 0;
}

static int walk(const struct ear_jpath *p, size_t i, const json_t *v,
                ear_jvisit_fn fn, void *payload, int depth)
{
    const struct seg *g;
    int r = 0;

    if (!v || json_is_null(v))
        return 0;
    if (i == p->n)
        return fn(v, payload);
    if (depth > 64)
        return 0;
    g = &p->v[i];
    switch (g->kind) {
    case SEG_KEY:
        if (json_is_object(v))
            r = walk(p, i + 1, json_object_get(v, g->key), fn, payload,
                     depth + 1);
        break;
    case SEG_INDEX:
        if (json_is_array(v)) {
            long n = (long)json_array_size(v);
            long k = g->index < 0 ? n + g->index : g->index;

            if (k >= 0 && k < n)
                r = walk(p, i + 1, json_array_get(v, (size_t)k), fn,
                         payload, depth + 1);
        }
        break;
    case SEG_ALL:
        if (json_is_array(v)) {
            size_t k;
            const json_t *e;

            json_array_foreach(v, k, e) {
                r = walk(p, i + 1, e, fn, payload, depth + 1);
                if (r)
                    break;
            }
        } else if (json_is_object(v)) {
            const char *key;
            const json_t *e;

            json_object_foreach((json_t *)v, key, e) {
                r = walk(p, i + 1, e, fn, payload, depth + 1);
                if (r)
                    break;
            }
        }
        break;
    case SEG_FILTER:
        if (json_is_array(v)) {
            size_t k;
            const json_t *e;

            json_array_foreach(v, k, e) {
                if (filter_match(g, e))
                    r = walk(p, i + 1, e, fn, payload, depth + 1);
                if (r)
                    break;
            }
        } else if (json_is_object(v) && filter_match(g, v)) {
            r = walk(p, i + 1, v, fn, payload, depth + 1);
        }
        break;
    }
    return r;
}

int ear_jpath__each(const struct ear_jpath *p, const json_t *root,
                    ear_jvisit_fn fn, void *payload)
{
    return walk(p, 0, root, fn, payload, 0);
}

struct first_ctx {
    const json_t *found;
};

static int take_first(const json_t *v, void *payload)
{
    struct first_ctx *fc = payload;

    /* a value that says nothing (null, "") lets the next match speak */
    if (json_is_string(v) && !*json_string_value(v))
        return 0;
    fc->found = v;
    return 1;
}

const json_t *ear_jpath__first(const struct ear_jpath *p, const json_t *root)
{
    struct first_ctx fc = {NULL};

    walk(p, 0, root, take_first, &fc, 0);
    return fc.found;
}

int ear_jexpr__eval(char **out, const struct ear_jexpr *e, const json_t *root)
{
    struct ear_buf b;
    const json_t *v;
    const char *s;
    char num[64];
    size_t i;
    int rc = 0;

    *out = NULL;
    if (e->n == 1 && !e->v[0].lit) {
        /* a bare path: the node itself, which may be a number */
        v = ear_jpath__first(e->v[0].path, root);
        if (!v || ear_json__scalar(num, sizeof(num), &s, v) < 0)
            return EAR_ENOTFOUND;
        *out = ear_strdup(s);
        return *out ? 0 : EAR_ENOMEM;
    }
    ear_buf_init(&b, (size_t)8 << 20);
    for (i = 0; i < e->n; i++) {
        const struct part *pt = &e->v[i];

        if (pt->lit) {
            rc = ear_buf_adds(&b, pt->lit);
        } else {
            v = ear_jpath__first(pt->path, root);
            if (!v || ear_json__scalar(num, sizeof(num), &s, v) < 0) {
                ear_buf_dispose(&b);
                return EAR_ENOTFOUND;
            }
            rc = ear_buf_adds(&b, s);
        }
        if (rc < 0)
            return rc;
    }
    *out = ear_buf_take(&b, NULL);
    ear_buf_dispose(&b);
    return *out ? 0 : EAR_ENOMEM;
}

const json_t *ear_jexpr__node(const struct ear_jexpr *e, const json_t *root)
{
    if (e->n == 1 && !e->v[0].lit)
        return ear_jpath__first(e->v[0].path, root);
    return NULL;
}

int ear_jexpr__each(const struct ear_jexpr *e, const json_t *root,
                    ear_jvisit_fn fn, void *payload)
{
    if (e->n == 1 && !e->v[0].lit)
        return walk(e->v[0].path, 0, root, fn, payload, 0);
    return 0;
}
