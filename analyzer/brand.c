/*
 * Brands: which configured brand a mention is about. A brand is named when
 * one of its names or aliases occurs as words (folded, so "Nyúl" matches
 * "nyul", a hashtag "#acme" and a handle "@acme" count) outside every
 * exclusion ("apple pie"), or, when the brand has a query, when the query
 * holds. Queries use the boolean syntax of social-listening tools:
 *
 *   acme OR "acme corp" AND (refund OR számla*) NOT "acme road"
 *   -term, NEAR/n, trailing *, title:x, author:x, site:example.com
 *
 * AND binds tighter than OR; words next to each other are ANDed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/analyzer_int.h"

/* Alias and exclusion word lists are kept as (char **w, size_t n) pairs
 * behind the char * slots of struct ear_brandc. */
struct ear_wl {
    char **w;
    size_t n;
};

enum { Q_TERM, Q_AND, Q_OR, Q_NOT, Q_NEAR };
enum { F_ANY, F_TITLE, F_AUTHOR, F_SITE };

struct ear_bq {
    int kind;
    int field;
    unsigned dist;
    struct ear_bq *a, *b;
    char **w;          /* folded words of a term or phrase */
    size_t nw;
};

void ear_bq__free(struct ear_bq *q)
{
    size_t i;

    if (!q)
        return;
    ear_bq__free(q->a);
    ear_bq__free(q->b);
    for (i = 0; i < q->nw; i++)
        free(q->w[i]);
    free(q->w);
    free(q);
}

/* Folds s into a new NULL-terminated word list. */
static char **fold_words(struct ear_text *t, const char *s, size_t n,
                         size_t *nw)
{
    char **w;
    size_t i;

    if (ear_text__prep(t, s, n, 1) < 0)
        return NULL;
    w = calloc(t->ntok + 1, sizeof *w);
    if (!w)
        return NULL;
    for (i = 0; i < t->ntok; i++) {
        w[i] = ear_strndup(t->f + t->tok[i].fs, t->tok[i].fe - t->tok[i].fs);
        if (!w[i]) {
            while (i > 0)
                free(w[--i]);
            free(w);
            return NULL;
        }
    }
    *nw = t->ntok;
    return w;
}

static void free_words(char **w)
{
    size_t i;

    for (i = 0; w && w[i]; i++)
        free(w[i]);
    free(w);
}

/* ---------------------------------------------------------------- parser */

struct qp {
    const char *s;
    size_t pos;
    struct ear_text *t;
    const char *brand;
    struct ear_error *err;
    int rc;
};

static int qerr(struct qp *p, const char *msg)
{
    if (p->rc == 0)
        p->rc = ear_error_set(p->err, EAR_EINVAL, p->brand, 1,
                              (int)p->pos + 1, "brand query: %s", msg);
    return p->rc;
}

static void skip_ws(struct qp *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
           p->s[p->pos] == '\n')
        p->pos++;
}

static int at_kw(struct qp *p, const char *kw)
{
    size_t n = strlen(kw);
    char c;

    if (strncmp(p->s + p->pos, kw, n) != 0)
        return 0;
    c = p->s[p->pos + n];
    return c == ' ' || c == '\t' || c == '\n' || c == '(' || c == '"' ||
           c == '\0' || (c == '/' && strcmp(kw, "NEAR") == 0);
}

static struct ear_bq *q_or(struct qp *p);

static struct ear_bq *q_new(struct qp *p, int kind)
{
    struct ear_bq *q = calloc(1, sizeof *q);

    if (!q)
        p->rc = ear_error_set(p->err, EAR_ENOMEM, p->brand, 0, 0,
                              "out of memory");
    else
        q->kind = kind;
    return q;
}

static struct ear_bq *q_leaf(struct qp *p)
{
    struct ear_bq *q;
    int field = F_ANY;
    size_t st, en;

    skip_ws(p);
    if (strncmp(p->s + p->pos, "title:", 6) == 0) {
        field = F_TITLE;
        p->pos += 6;
    } else if (strncmp(p->s + p->pos, "author:", 7) == 0) {
        field = F_AUTHOR;
        p->pos += 7;
    } else if (strncmp(p->s + p->pos, "site:", 5) == 0) {
        field = F_SITE;
        p->pos += 5;
    }
    if (p->s[p->pos] == '"') {
        st = ++p->pos;
        while (p->s[p->pos] && p->s[p->pos] != '"')
            p->pos++;
        if (!p->s[p->pos]) {
            qerr(p, "unterminated quoted phrase");
            return NULL;
        }
        en = p->pos++;
    } else {
        st = p->pos;
        while (p->s[p->pos] && !strchr(" \t\n()\"", p->s[p->pos]))
            p->pos++;
        en = p->pos;
    }
    if (en == st) {
        qerr(p, "expected a word or a quoted phrase");
        return NULL;
    }
    q = q_new(p, Q_TERM);
    if (!q)
        return NULL;
    q->field = field;
    if (field == F_SITE) {
        q->w = calloc(2, sizeof *q->w);
        if (q->w)
            q->w[0] = ear_strndup(p->s + st, en - st);
        if (!q->w || !q->w[0]) {
            ear_bq__free(q);
            p->rc = ear_error_set(p->err, EAR_ENOMEM, p->brand, 0, 0,
                                  "out of memory");
            return NULL;
        }
        q->nw = 1;
        return q;
    }
    q->w = fold_words(p->t, p->s + st, en - st, &q->nw);
    if (!q->w || q->nw == 0) {
        ear_bq__free(q);
        qerr(p, "a term has no words");
        return NULL;
    }
    return q;
}

static struct ear_bq *q_unary(struct qp *p)
{
    struct ear_bq *q, *k;

    skip_ws(p);
    if (at_kw(p, "NOT") || p->s[p->pos] == '-') {
        p->pos += p->s[p->pos] == '-' ? 1 : 3;
        k = q_unary(p);
        if (!k)
            return NULL;
        q = q_new(p, Q_NOT);
        if (!q) {
            ear_bq__free(k);
            return NULL;
        }
        q->a = k;
        return q;
    }
    if (p->s[p->pos] == '(') {
        p->pos++;
        q = q_or(p);
        if (!q)
            return NULL;
        skip_ws(p);
        if (p->s[p->pos] != ')') {
            ear_bq__free(q);
            qerr(p, "expected ')'");
            return NULL;
        }
        p->pos++;
        return q;
    }
    if (p->s[p->pos] == ')' || !p->s[p->pos]) {
        qerr(p, "expected a word, a phrase or '('");
        return NULL;
    }
    q = q_leaf(p);
    if (!q)
        return NULL;
    skip_ws(p);
    while (at_kw(p, "NEAR")) {
        struct ear_bq *n, *r;
        char *end;
        unsigned long d = 5;
        p->pos += 4;
        if (p->s[p->pos] == '/') {
            d = strtoul(p->s + p->pos + 1, &end, 10);
            if (end == p->s + p->pos + 1 || d > 100) {
                ear_bq__free(q);
                qerr(p, "NEAR/n needs a distance from 0 to 100");
                return NULL;
            }
            p->pos = (size_t)(end - p->s);
        }
        r = q_leaf(p);
        if (!r) {
            ear_bq__free(q);
            return NULL;
        }
        if (q->kind != Q_TERM || q->field == F_SITE ||
            q->field == F_AUTHOR || r->field == F_SITE ||
            r->field == F_AUTHOR) {
            ear_bq__free(q);
            ear_bq__free(r);
            qerr(p, "NEAR/n joins two words or phrases");
            return NULL;
        }
        n = q_new(p, Q_NEAR);
        if (!n) {
            ear_bq__free(q);
            ear_bq__free(r);
            return NULL;
        }
        n->a = q;
        n->b = r;
        n->dist = (unsigned)d;
        q = n;
        skip_ws(p);
    }
    return q;
}

static struct ear_bq *q_and(struct qp *p)
{
    struct ear_bq *q = q_unary(p), *r, *n;

    while (q) {
        skip_ws(p);
        if (!p->s[p->pos] || p->s[p->pos] == ')' || at_kw(p, "OR"))
            return q;
        if (at_kw(p, "AND"))
            p->pos += 3;
        r = q_unary(p);
        if (!r) {
            ear_bq__free(q);
            return NULL;
        }
        n = q_new(p, Q_AND);
        if (!n) {
            ear_bq__free(q);
            ear_bq__free(r);
            return NULL;
        }
        n->a = q;
        n->b = r;
        q = n;
    }
    return NULL;
}

static struct ear_bq *q_or(struct qp *p)
{
    struct ear_bq *q = q_and(p), *r, *n;

    while (q) {
        skip_ws(p);
        if (!at_kw(p, "OR"))
            return q;
        p->pos += 2;
        r = q_and(p);
        if (!r) {
            ear_bq__free(q);
            return NULL;
        }
        n = q_new(p, Q_OR);
        if (!n) {
            ear_bq__free(q);
            ear_bq__free(r);
            return NULL;
        }
        n->a = q;
        n->b = r;
        q = n;
    }
    return NULL;
}

static int parse_query(struct ear_analyzer *an, const char *brand,
                       const char *s, struct ear_bq **out,
                       struct ear_error *err)
{
    struct qp p = {s, 0, &an->tmp, brand, err, 0};
    struct ear_bq *q = q_or(&p);

    if (q) {
        skip_ws(&p);
        if (p.s[p.pos]) {
            ear_bq__free(q);
            q = NULL;
            qerr(&p, p.s[p.pos] == ')' ? "unbalanced ')'"
                                        : "unexpected text");
        }
    }
    *out = q;
    return q ? 0 : (p.rc ? p.rc : EAR_EINVAL);
}

/* ---------------------------------------------------------------- eval */

struct bctx {
    const struct ear_text *t;  /* title "\n" text */
    size_t split;              /* tokens before: title */
    const struct ear_text *au; /* author */
    const char *host;
    size_t hostlen;
};

static int tok_is(const struct ear_text *t, size_t i, const char *w)
{
    const struct ear_tok *k = &t->tok[i];
    const char *s = t->f + k->fs;
    size_t n = k->fe - k->fs;

    if (w[0] != '@' && (k->flags & EAR_TF_HANDLE)) {
        s++;
        n--;
    }
    if (strchr(w, '*'))
        return ear_glob__match(w, strlen(w), s, n);
    return strlen(w) == n && memcmp(w, s, n) == 0;
}

static int seq_at(const struct ear_text *t, size_t i, char *const *w,
                  size_t nw)
{
    size_t k;

    if (i + nw > t->ntok)
        return 0;
    for (k = 0; k < nw; k++) {
        if (k && (t->tok[i + k].flags & EAR_TF_SENT))
            return 0;
        if (!tok_is(t, i + k, w[k]))
            return 0;
    }
    return 1;
}

static int in_field(const struct bctx *c, int field, size_t i)
{
    if (field == F_TITLE)
        return i < c->split;
    return 1;
}

static int q_eval(const struct bctx *c, const struct ear_bq *q)
{
    size_t i, j;

    switch (q->kind) {
    case Q_AND:
        return q_eval(c, q->a) && q_eval(c, q->b);
    case Q_OR:
        return q_eval(c, q->a) || q_eval(c, q->b);
    case Q_NOT:
        return !q_eval(c, q->a);
    case Q_NEAR:
        for (i = 0; i < c->t->ntok; i++) {
            if (!in_field(c, q->a->field, i) ||
                !seq_at(c->t, i, q->a->w, q->a->nw))
                continue;
            for (j = 0; j < c->t->ntok; j++) {
                size_t d;
                if (!in_field(c, q->b->field, j) ||
                    !seq_at(c->t, j, q->b->w, q->b->nw))
                    continue;
                if (j >= i + q->a->nw)
                    d = j - (i + q->a->nw);
                else if (i >= j + q->b->nw)
                    d = i - (j + q->b->nw);
                else
                    d = 0;
                if (d <= q->dist)
                    return 1;
            }
        }
        return 0;
    default:
        break;
    }
    if (q->field == F_SITE) {
        size_t n = strlen(q->w[0]);
        if (!c->host || n > c->hostlen)
            return 0;
        if (strncasecmp(c->host + c->hostlen - n, q->w[0], n) != 0)
            return 0;
        return n == c->hostlen || c->host[c->hostlen - n - 1] == '.';
    }
    if (q->field == F_AUTHOR) {
        for (i = 0; c->au && i < c->au->ntok; i++)
            if (seq_at(c->au, i, q->w, q->nw))
                return 1;
        return 0;
    }
    for (i = 0; i < c->t->ntok; i++)
        if (in_field(c, q->field, i) && seq_at(c->t, i, q->w, q->nw))
            return 1;
    return 0;
}

/* Is the brand named by its aliases outside its exclusions? */
static int alias_named(const struct ear_text *t, const struct ear_brandc *b)
{
    size_t i, a, e, j;

    for (i = 0; i < t->ntok; i++) {
        for (a = 0; b->alias[a]; a++) {
            const struct ear_wl *al = (const void *)b->alias[a];
            int excluded = 0;
            if (!seq_at(t, i, al->w, al->n))
                continue;
            for (e = 0; b->exclude && b->exclude[e] && !excluded; e++) {
                const struct ear_wl *ex = (const void *)b->exclude[e];
                /* an exclusion occurrence that covers token i */
                for (j = i + 1 > ex->n ? i + 1 - ex->n : 0; j <= i; j++)
                    if (seq_at(t, j, ex->w, ex->n) && j + ex->n >= i + al->n)
                        excluded = 1;
            }
            if (!excluded)
                return 1;
        }
    }
    return 0;
}

static void wl_free(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++) {
        struct ear_wl *l = (struct ear_wl *)(void *)v[i];
        free_words(l->w);
        free(l);
    }
    free(v);
}

void ear_brands__free(struct ear_analyzer *an)
{
    size_t i;

    for (i = 0; i < an->nbrands; i++) {
        free(an->brands[i].name);
        wl_free(an->brands[i].alias);
        wl_free(an->brands[i].exclude);
        ear_bq__free(an->brands[i].query);
    }
    free(an->brands);
    an->brands = NULL;
    an->nbrands = 0;
}

static int wl_build(struct ear_analyzer *an, char ***out, const char *first,
                    char *const *src)
{
    size_t n = 0, i, k = 0;
    char **v;

    for (i = 0; src && src[i]; i++)
        n++;
    v = calloc(n + 2, sizeof *v);
    if (!v)
        return EAR_ENOMEM;
    *out = v;
    for (i = 0; i < n + 1; i++) {
        const char *s = i == 0 ? first : src[i - 1];
        struct ear_wl *l;
        if (!s)
            continue;
        l = calloc(1, sizeof *l);
        if (!l)
            return EAR_ENOMEM;
        l->w = fold_words(&an->tmp, s, strlen(s), &l->n);
        if (!l->w) {
            free(l);
            return EAR_ENOMEM;
        }
        if (l->n == 0) {
            free_words(l->w);
            free(l);
            continue;
        }
        v[k++] = (char *)(void *)l;
    }
    return 0;
}

int ear_analyzer_set_brands(struct ear_analyzer *an,
                            const struct ear_brand *brands, size_t n,
                            struct ear_error *err)
{
    size_t i;
    int rc = 0;

    ear_brands__free(an);
    if (n == 0)
        return 0;
    an->brands = calloc(n, sizeof *an->brands);
    if (!an->brands)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    an->nbrands = n;
    for (i = 0; i < n && rc == 0; i++) {
        struct ear_brandc *b = &an->brands[i];
        b->name = ear_strdup(brands[i].name);
        if (!b->name) {
            rc = EAR_ENOMEM;
            break;
        }
        rc = wl_build(an, &b->alias, brands[i].name, brands[i].aliases);
        if (rc == 0)
            rc = wl_build(an, &b->exclude, NULL, brands[i].exclude);
        if (rc == 0 && brands[i].query && *brands[i].query)
            rc = parse_query(an, brands[i].name, brands[i].query, &b->query,
                             err);
        if (rc == EAR_ENOMEM)
            break;
    }
    if (rc == EAR_ENOMEM)
        rc = ear_error_set(err, rc, NULL, 0, 0, "out of memory");
    if (rc < 0)
        ear_brands__free(an);
    return rc;
}

const char *ear_analyzer_brand_of(struct ear_analyzer *an, const char *title,
                                  const char *text, const char *author,
                                  const char *url)
{
    struct ear_buf b;
    struct ear_text au;
    struct bctx c;
    const char *found = NULL;
    size_t i, split = 0;

    if (an->nbrands == 0)
        return NULL;
    memset(&au, 0, sizeof au);
    memset(&c, 0, sizeof c);
    ear_buf_init(&b, EAR_BUF_MAX_DEFAULT);
    if (title && ear_buf_adds(&b, title) == 0)
        ear_buf_addc(&b, '\n');
    split = b.len;
    if (text)
        ear_buf_adds(&b, text);
    if (ear_text__prep(&an->tmp, ear_buf_str(&b), b.len, 0) < 0)
        goto out;
    c.t = &an->tmp;
    for (i = 0; i < an->tmp.ntok && an->tmp.tok[i].os < split; i++)
        ;
    c.split = i;
    if (author && ear_text__prep(&au, author, strlen(author), 0) == 0)
        c.au = &au;
    if (url) {
        const char *h = strstr(url, "://");
        h = h ? h + 3 : url;
        c.host = h;
        c.hostlen = strcspn(h, "/?#:");
    }
    for (i = 0; i < an->nbrands && !found; i++) {
        const struct ear_brandc *br = &an->brands[i];
        if (br->query ? q_eval(&c, br->query) : alias_named(c.t, br))
            found = br->name;
    }
out:
    ear_text__dispose(&au);
    ear_buf_dispose(&b);
    return found;
}
