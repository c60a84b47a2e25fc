/*
 * Loading rule packs: YAML (through core's position-keeping node tree) into
 * rules, matcher nodes, terms and the lexicon, all validated with
 * file:line:col errors, then one word index over every term.
 *
 * A pack:   lang, description, defaults, scoring, rules, lexicon, tests.
 * A rule:   id, description, category, severity, team, weight, scope,
 *           needs, matcher keys (terms, regex, all, any, near, not), tests.
 * docs/rules.md describes every key.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/analyzer_int.h"

static const char *const categories[] = {
    "billing", "delivery", "defect", "refund", "warranty", "support",
    "staff", "pricing", "account", "technical", "churn", "legal", "safety",
    "tone", NULL
};

struct ctx {
    struct ear_analyzer *an;
    const char *path;      /* owned by an->strs */
    uint8_t langmask;
    const char *lang;
    /* defaults */
    const char *d_category, *d_team;
    enum ear_severity d_severity;
    int d_scope, d_needs;
    struct ear_error *err;
};

char *ear_an__strdup(struct ear_analyzer *an, const char *s, size_t n)
{
    char **ns;
    char *d;

    ns = ear_grow(an->strs, &an->strcap, an->nstrs, sizeof *ns, 256);
    if (!ns)
        return NULL;
    an->strs = ns;
    d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    an->strs[an->nstrs++] = d;
    return d;
}

static const char *sdup(struct ctx *c, const char *s)
{
    return ear_an__strdup(c->an, s, strlen(s));
}

static int oom(struct ctx *c)
{
    return ear_error_set(c->err, EAR_ENOMEM, c->path, 0, 0,
                         "out of memory");
}

static int at(struct ctx *c, const struct ear_ynode *n, const char *fmt,
              const char *a)
{
    return ear_error_set(c->err, EAR_EINVAL, c->path, n ? n->line : 0,
                         n ? n->col : 0, fmt, a);
}

static int scalar(struct ctx *c, const struct ear_ynode *n, const char *what,
                  const char **out)
{
    if (!n || n->type != EAR_Y_SCALAR || !n->value)
        return ear_error_set(c->err, EAR_EINVAL, c->path, n ? n->line : 0,
                             n ? n->col : 0, "%s: expected a string", what);
    *out = n->value;
    return 0;
}

static int number(struct ctx *c, const struct ear_ynode *n, const char *what,
                  double min, double max, double *out)
{
    char *end;
    double v;

    if (!n || n->type != EAR_Y_SCALAR || !n->value || !*n->value)
        return ear_error_set(c->err, EAR_EINVAL, c->path, n ? n->line : 0,
                             n ? n->col : 0, "%s: expected a number", what);
    errno = 0;
    v = strtod(n->value, &end);
    if (errno || *end || isnan(v) || v < min || v > max)
        return ear_error_set(c->err, EAR_EINVAL, c->path, n->line, n->col,
                             "%s: expected a number from %g to %g, not '%s'",
                             what, min, max, n->value);
    *out = v;
    return 0;
}

static int parse_scope(struct ctx *c, const struct ear_ynode *n, int *out)
{
    const char *s = NULL;
    int rc = scalar(c, n, "scope", &s);

    if (rc < 0)
        return rc;
    if (strcmp(s, "clause") == 0)
        *out = EAR_SC_CLAUSE;
    else if (strcmp(s, "sentence") == 0)
        *out = EAR_SC_SENTENCE;
    else if (strcmp(s, "text") == 0)
        *out = EAR_SC_TEXT;
    else
        return at(c, n, "scope: '%s' is not clause, sentence or text", s);
    return 0;
}

static int parse_severity(struct ctx *c, const struct ear_ynode *n,
                          enum ear_severity *out)
{
    const char *s = NULL;
    int rc = scalar(c, n, "severity", &s);

    if (rc < 0)
        return rc;
    if (ear_severity_parse(out, s) < 0 || *out == EAR_SEV_NONE)
        return at(c, n, "severity: '%s' is not low, medium, high or critical",
                  s);
    return 0;
}

static int parse_category(struct ctx *c, const struct ear_ynode *n,
                          const char **out)
{
    const char *s = NULL;
    size_t i;
    int rc = scalar(c, n, "category", &s);

    if (rc < 0)
        return rc;
    for (i = 0; categories[i]; i++) {
        if (strcmp(categories[i], s) == 0) {
            *out = categories[i];
            return 0;
        }
    }
    {
        const char *best = NULL;
        size_t bd = (size_t)-1, d;
        for (i = 0; categories[i]; i++) {
            d = ear_levenshtein(s, categories[i]);
            if (d < bd) {
                bd = d;
                best = categories[i];
            }
        }
        if (best && bd <= 3)
            return ear_error_set(c->err, EAR_EINVAL, c->path, n->line,
                                 n->col, "unknown category '%s' (did you "
                                 "mean '%s'?)", s, best);
    }
    return at(c, n, "unknown category '%s' (billing, delivery, defect, "
              "refund, warranty, support, staff, pricing, account, technical,"
              " churn, legal, safety or tone)", s);
}

static int parse_needs(struct ctx *c, const struct ear_ynode *n, int *out)
{
    const char *s = NULL;
    int rc = scalar(c, n, "needs", &s);

    if (rc < 0)
        return rc;
    if (strcmp(s, "negative") == 0)
        *out = 1;
    else if (strcmp(s, "any") == 0)
        *out = 0;
    else
        return at(c, n, "needs: '%s' is not negative or any", s);
    return 0;
}

/* ---------------------------------------------------------------- nodes */

static int node_new(struct ctx *c, int kind, uint32_t rule,
                    const struct ear_ynode *pos, uint32_t *out)
{
    struct ear_analyzer *an = c->an;
    struct ear_node *n;

    n = ear_grow(an->nodes, &an->nodecap, an->nnodes, sizeof *n, 256);
    if (!n)
        return oom(c);
    an->nodes = n;
    n = &an->nodes[an->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->scope = -1;
    n->rule = rule;
    n->line = pos ? pos->line : 0;
    n->col = pos ? pos->col : 0;
    n->head = n->tail = EAR_NONE;
    *out = (uint32_t)an->nnodes++;
    return 0;
}

static int node_add_kid(struct ctx *c, uint32_t node, uint32_t kid)
{
    struct ear_node *n = &c->an->nodes[node];
    uint32_t *nk = realloc(n->kids, (n->nkids + 1) * sizeof *nk);

    if (!nk)
        return oom(c);
    nk[n->nkids++] = kid;
    n->kids = nk;
    return 0;
}

/* Compiles one term pattern into c->an->terms. */
static int term_add(struct ctx *c, const struct ear_ynode *n, uint32_t node,
                    int lexkind, double weight)
{
    struct ear_analyzer *an = c->an;
    struct ear_term *t;
    const char *s = NULL;
    size_t i;
    int rc = scalar(c, n, "term", &s);

    if (rc < 0)
        return rc;
    rc = ear_text__prep(&an->tmp, s, strlen(s), 1);
    if (rc < 0)
        return oom(c);
    if (an->tmp.ntok == 0)
        return at(c, n, "term '%s' has no words", s);
    t = ear_grow(an->terms, &an->termcap, an->nterms, sizeof *t, 1024);
    if (!t)
        return oom(c);
    an->terms = t;
    t = &an->terms[an->nterms];
    memset(t, 0, sizeof *t);
    t->node = node;
    t->lexkind = (uint8_t)lexkind;
    t->langmask = c->langmask;
    t->weight = (float)weight;
    t->file = c->path;
    t->line = n->line;
    t->col = n->col;
    t->src = sdup(c, s);
    t->words = calloc(an->tmp.ntok, sizeof *t->words);
    if (!t->src || !t->words) {
        free(t->words);
        return oom(c);
    }
    t->nwords = (uint32_t)an->tmp.ntok;
    for (i = 0; i < an->tmp.ntok; i++) {
        const struct ear_tok *k = &an->tmp.tok[i];
        size_t wl = k->fe - k->fs;
        const char *w = an->tmp.f + k->fs;
        size_t j, stars = 0;

        for (j = 0; j < wl; j++)
            stars += w[j] == '*';
        if (i == 0 && stars == wl) {
            free(t->words);
            return at(c, n, "term '%s' starts with a bare '*'", s);
        }
        t->words[i].text = ear_an__strdup(an, w, wl);
        if (!t->words[i].text) {
            free(t->words);
            return oom(c);
        }
        t->words[i].len = (uint32_t)wl;
        t->words[i].glob = stars > 0;
        t->literal += (uint32_t)(wl - stars);
        t->words[i].hashtag = (k->flags & EAR_TF_HASHTAG) != 0;
    }
    /* anchor: the word with the most literal letters (first on a tie) */
    {
        uint32_t best = 0, bl = 0;
        for (i = 0; i < t->nwords; i++) {
            uint32_t j, l = 0;
            for (j = 0; j < t->words[i].len; j++)
                l += t->words[i].text[j] != '*';
            if (l > bl) {
                bl = l;
                best = (uint32_t)i;
            }
        }
        t->anchor = best;
    }
    an->nterms++;
    return 0;
}

static int compile_terms(struct ctx *c, uint32_t rule,
                         const struct ear_ynode *v, uint32_t *out)
{
    size_t i;
    int rc = node_new(c, EAR_N_TERMS, rule, v, out);

    if (rc < 0)
        return rc;
    if (v->type == EAR_Y_SCALAR)
        return term_add(c, v, *out, EAR_LX_NONE, 0);
    if (v->type != EAR_Y_SEQ || v->n == 0)
        return at(c, v, "%s: expected a term or a list of terms", "terms");
    for (i = 0; i < v->n; i++) {
        rc = term_add(c, v->items[i], *out, EAR_LX_NONE, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Regexes run on the folded text, so accented letters in the pattern are
 * folded too (ASCII is left alone: escapes like \D keep their meaning). */
static int compile_regex(struct ctx *c, uint32_t rule,
                         const struct ear_ynode *v, uint32_t *out)
{
    struct ear_analyzer *an = c->an;
    const char *s = NULL;
    struct ear_buf b;
    size_t i, *omap = NULL, k;
    int rc, ec;
    PCRE2_SIZE eoff;
    pcre2_code *re;

    rc = scalar(c, v, "regex", &s);
    if (rc < 0)
        return rc;
    ear_buf_init(&b, 1 << 16);
    omap = calloc(strlen(s) * 2 + 2, sizeof *omap);
    if (!omap)
        return oom(c);
    rc = ear_text__prep(&an->tmp, s, strlen(s), 1);
    if (rc < 0)
        goto nomem;
    /* take folded bytes only for non-ASCII source characters */
    for (i = 0; i < an->tmp.flen;) {
        size_t o = an->tmp.map[i];
        if ((unsigned char)s[o] < 0x80) {
            rc = ear_buf_addc(&b, s[o]);
            omap[b.len - 1] = o;
            i++;
            continue;
        }
        for (k = i; k < an->tmp.flen && an->tmp.map[k] == o; k++) {
            rc = ear_buf_addc(&b, an->tmp.f[k]);
            if (rc < 0)
                break;
            omap[b.len - 1] = o;
        }
        if (rc < 0)
            goto nomem;
        i = k;
    }
    if (rc < 0)
        goto nomem;
    omap[b.len] = strlen(s);
    re = pcre2_compile((PCRE2_SPTR)ear_buf_str(&b), b.len,
                       PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eoff,
                       NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        size_t o = eoff <= b.len ? omap[eoff] : 0;
        pcre2_get_error_message(ec, msg, sizeof msg);
        rc = ear_error_set(c->err, EAR_EPARSE, c->path, v->line,
                           v->col + (int)o + (v->quoted ? 1 : 0),
                           "bad regex '%s': %s at offset %zu", s,
                           (const char *)msg, o);
        goto out;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back when absent */
    rc = node_new(c, EAR_N_REGEX, rule, v, out);
    if (rc < 0) {
        pcre2_code_free(re);
        goto out;
    }
    an->nodes[*out].re = re;
    an->nodes[*out].re_src = sdup(c, s);
    if (!an->nodes[*out].re_src)
        goto nomem;
    goto out;
nomem:
    rc = oom(c);
out:
    free(omap);
    ear_buf_dispose(&b);
    return rc;
}

static int compile_matcher(struct ctx *c, uint32_t rule,
                           const struct ear_ynode *map, int is_rule,
                           uint32_t *out);

/* A list whose items are matcher maps or plain strings (terms). */
static int compile_group(struct ctx *c, uint32_t rule, int kind,
                         const struct ear_ynode *v, const char *what,
                         uint32_t *out)
{
    uint32_t terms = EAR_NONE, kid;
    size_t i;
    int rc;

    if (v->type == EAR_Y_MAP)
        return compile_matcher(c, rule, v, 0, out);
    if (v->type == EAR_Y_SCALAR && kind == EAR_N_ANY)
        return compile_terms(c, rule, v, out);
    if (v->type != EAR_Y_SEQ || v->n == 0)
        return at(c, v, "%s: expected a list of matchers or terms", what);
    rc = node_new(c, kind, rule, v, out);
    if (rc < 0)
        return rc;
    for (i = 0; i < v->n; i++) {
        const struct ear_ynode *it = v->items[i];
        if (it->type == EAR_Y_SCALAR && kind == EAR_N_ANY) {
            if (terms == EAR_NONE) {
                rc = node_new(c, EAR_N_TERMS, rule, it, &terms);
                if (rc == 0)
                    rc = node_add_kid(c, *out, terms);
                if (rc < 0)
                    return rc;
            }
            rc = term_add(c, it, terms, EAR_LX_NONE, 0);
        } else if (it->type == EAR_Y_SCALAR) {
            rc = compile_terms(c, rule, it, &kid);
            if (rc == 0)
                rc = node_add_kid(c, *out, kid);
        } else if (it->type == EAR_Y_MAP) {
            rc = compile_matcher(c, rule, it, 0, &kid);
            if (rc == 0)
                rc = node_add_kid(c, *out, kid);
        } else {
            rc = at(c, it, "%s: an item is a matcher map or a term", what);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int compile_near(struct ctx *c, uint32_t rule,
                        const struct ear_ynode *v, uint32_t *out)
{
    static const char *const keys[] = {"terms", "with", "within", "ordered",
                                       NULL};
    const struct ear_ynode *a, *b, *w, *o;
    uint32_t ka, kb;
    long long within = 5;
    int ordered = 0, rc;

    if (v->type != EAR_Y_MAP)
        return at(c, v, "%s: expected a map with terms, with and within",
                  "near");
    rc = ear_ynode_check_keys(v, keys, c->path, c->err);
    if (rc < 0)
        return rc;
    a = ear_ynode_get(v, "terms");
    b = ear_ynode_get(v, "with");
    w = ear_ynode_get(v, "within");
    o = ear_ynode_get(v, "ordered");
    if (!a || !b)
        return at(c, v, "%s: needs both 'terms' and 'with'", "near");
    rc = ear_ynode_int(&within, w, 0, 50, c->path, "near.within", c->err);
    if (rc == 0)
        rc = ear_ynode_bool(&ordered, o, c->path, "near.ordered", c->err);
    if (rc == 0)
        rc = node_new(c, EAR_N_NEAR, rule, v, out);
    if (rc == 0)
        rc = compile_terms(c, rule, a, &ka);
    if (rc == 0)
        rc = compile_terms(c, rule, b, &kb);
    if (rc == 0)
        rc = node_add_kid(c, *out, ka);
    if (rc == 0)
        rc = node_add_kid(c, *out, kb);
    if (rc < 0)
        return rc;
    c->an->nodes[*out].within = (uint32_t)within;
    c->an->nodes[*out].ordered = (uint8_t)ordered;
    return 0;
}

static int compile_not(struct ctx *c, uint32_t rule,
                       const struct ear_ynode *v, uint32_t *out)
{
    uint32_t kid;
    int rc, scope = -1;

    if (v->type == EAR_Y_MAP && ear_ynode_get(v, "scope")) {
        rc = parse_scope(c, ear_ynode_get(v, "scope"), &scope);
        if (rc < 0)
            return rc;
    }
    rc = compile_group(c, rule, EAR_N_ANY, v, "not", &kid);
    if (rc == 0)
        rc = node_new(c, EAR_N_NOT, rule, v, out);
    if (rc == 0)
        rc = node_add_kid(c, *out, kid);
    if (rc == 0)
        c->an->nodes[*out].scope = (int8_t)scope;
    return rc;
}

static int compile_matcher(struct ctx *c, uint32_t rule,
                           const struct ear_ynode *map, int is_rule,
                           uint32_t *out)
{
    static const char *const keys[] = {"terms", "regex", "all", "any",
                                       "near", "not", "scope", NULL};
    const struct ear_ynode *v;
    uint32_t all, kid;
    int rc, npos = 0;

    if (!is_rule) {
        rc = ear_ynode_check_keys(map, keys, c->path, c->err);
        if (rc < 0)
            return rc;
    }
    rc = node_new(c, EAR_N_ALL, rule, map, &all);
    if (rc < 0)
        return rc;
    v = ear_ynode_get(map, "terms");
    if (v) {
        rc = compile_terms(c, rule, v, &kid);
        if (rc == 0)
            rc = node_add_kid(c, all, kid);
        if (rc < 0)
            return rc;
        npos++;
    }
    v = ear_ynode_get(map, "regex");
    if (v) {
        if (v->type == EAR_Y_SEQ) {
            size_t i;
            uint32_t any;
            if (v->n == 0)
                return at(c, v, "%s: empty list", "regex");
            rc = node_new(c, EAR_N_ANY, rule, v, &any);
            for (i = 0; rc == 0 && i < v->n; i++) {
                rc = compile_regex(c, rule, v->items[i], &kid);
                if (rc == 0)
                    rc = node_add_kid(c, any, kid);
            }
            kid = any;
        } else {
            rc = compile_regex(c, rule, v, &kid);
        }
        if (rc == 0)
            rc = node_add_kid(c, all, kid);
        if (rc < 0)
            return rc;
        npos++;
    }
    v = ear_ynode_get(map, "all");
    if (v) {
        rc = compile_group(c, rule, EAR_N_ALL, v, "all", &kid);
        if (rc == 0)
            rc = node_add_kid(c, all, kid);
        if (rc < 0)
            return rc;
        npos++;
    }
    v = ear_ynode_get(map, "any");
    if (v) {
        rc = compile_group(c, rule, EAR_N_ANY, v, "any", &kid);
        if (rc == 0)
            rc = node_add_kid(c, all, kid);
        if (rc < 0)
            return rc;
        npos++;
    }
    v = ear_ynode_get(map, "near");
    if (v) {
        rc = compile_near(c, rule, v, &kid);
        if (rc == 0)
            rc = node_add_kid(c, all, kid);
        if (rc < 0)
            return rc;
        npos++;
    }
    if (npos == 0)
        return at(c, map, "%s: no matcher (terms, regex, all, any or near)",
                  is_rule ? "rule" : "group");
    v = ear_ynode_get(map, "not");
    if (v) {
        rc = compile_not(c, rule, v, &kid);
        if (rc == 0)
            rc = node_add_kid(c, all, kid);
        if (rc < 0)
            return rc;
    }
    *out = all;
    return 0;
}

/* ---------------------------------------------------------------- tests */

static int load_tests(struct ctx *c, const struct ear_ynode *v,
                      const char *yes, struct ear_test **out, size_t *n)
{
    const char *keys[] = {yes, "quiet", NULL};
    const struct ear_ynode *lists[2];
    size_t i, k, total = 0;
    struct ear_test *t;
    int rc;

    if (v->type != EAR_Y_MAP)
        return at(c, v, "tests: expected a map with '%s' and 'quiet'", yes);
    rc = ear_ynode_check_keys(v, keys, c->path, c->err);
    if (rc < 0)
        return rc;
    lists[0] = ear_ynode_get(v, yes);
    lists[1] = ear_ynode_get(v, "quiet");
    for (k = 0; k < 2; k++) {
        if (!lists[k])
            continue;
        if (lists[k]->type != EAR_Y_SEQ)
            return at(c, lists[k], "tests.%s: expected a list of texts",
                      k ? "quiet" : yes);
        total += lists[k]->n;
    }
    t = calloc(total ? total : 1, sizeof *t);
    if (!t)
        return oom(c);
    *out = t;
    *n = 0;
    for (k = 0; k < 2; k++) {
        if (!lists[k])
            continue;
        for (i = 0; i < lists[k]->n; i++) {
            const char *s = NULL;
            rc = scalar(c, lists[k]->items[i], "test", &s);
            if (rc < 0)
                return rc;
            t[*n].text = sdup(c, s);
            if (!t[*n].text)
                return oom(c);
            t[*n].line = lists[k]->items[i]->line;
            t[*n].fire = k == 0;
            (*n)++;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- rules */

static int valid_id(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return 0;
    }
    return 1;
}

static double default_weight(enum ear_severity s)
{
    switch (s) {
    case EAR_SEV_LOW: return 1.0;
    case EAR_SEV_MEDIUM: return 2.0;
    case EAR_SEV_HIGH: return 3.0;
    case EAR_SEV_CRITICAL: return 5.0;
    default: return 1.0;
    }
}

static int load_rule(struct ctx *c, const struct ear_ynode *m)
{
    static const char *const keys[] = {
        "id", "description", "category", "severity", "team", "weight",
        "scope", "needs", "terms", "regex", "all", "any", "near", "not",
        "tests", NULL};
    struct ear_analyzer *an = c->an;
    struct ear_rule *r;
    const struct ear_ynode *v;
    const char *s = NULL;
    uint32_t ri, root;
    int rc, scope = c->d_scope, needs = c->d_needs;
    double w;

    if (m->type != EAR_Y_MAP)
        return at(c, m, "%s: expected a map", "rule");
    rc = ear_ynode_check_keys(m, keys, c->path, c->err);
    if (rc < 0)
        return rc;
    r = ear_grow(an->rules, &an->rulecap, an->nrules, sizeof *r, 64);
    if (!r)
        return oom(c);
    an->rules = r;
    ri = (uint32_t)an->nrules++;
    r = &an->rules[ri];
    memset(r, 0, sizeof *r);
    r->file = c->path;
    r->line = m->line;
    r->col = m->col;
    r->langmask = c->langmask;
    r->category = c->d_category;
    r->team = c->d_team;
    r->severity = c->d_severity;
    r->root = EAR_NONE;

    v = ear_ynode_get(m, "id");
    if (!v)
        return at(c, m, "%s: rule has no id", "rule");
    rc = scalar(c, v, "id", &s);
    if (rc < 0)
        return rc;
    if (!valid_id(s))
        return at(c, v, "id '%s': use lowercase letters, digits, '.', '-' "
                  "and '_' (e.g. hu.billing.wrong-vat)", s);
    r->id = sdup(c, s);
    if (!r->id)
        return oom(c);
    v = ear_ynode_get(m, "description");
    if (!v)
        return at(c, m, "rule '%s' has no description", r->id);
    rc = scalar(c, v, "description", &s);
    if (rc < 0)
        return rc;
    r->description = sdup(c, s);
    if (!r->description)
        return oom(c);
    v = ear_ynode_get(m, "category");
    if (v) {
        rc = parse_category(c, v, &r->category);
        if (rc < 0)
            return rc;
    }
    if (!r->category)
        return at(c, m, "rule '%s' has no category (set it or "
                  "defaults.category)", r->id);
    v = ear_ynode_get(m, "severity");
    if (v) {
        rc = parse_severity(c, v, &r->severity);
        if (rc < 0)
            return rc;
    }
    if (r->severity == EAR_SEV_NONE)
        return at(c, m, "rule '%s' has no severity (set it or "
                  "defaults.severity)", r->id);
    v = ear_ynode_get(m, "team");
    if (v) {
        rc = scalar(c, v, "team", &s);
        if (rc < 0)
            return rc;
        r->team = sdup(c, s);
        if (!r->team)
            return oom(c);
    }
    w = default_weight(r->severity);
    v = ear_ynode_get(m, "weight");
    if (v) {
        rc = number(c, v, "weight", -20, 20, &w);
        if (rc < 0)
            return rc;
        if (w <= 0 && strcmp(r->category, "tone") != 0)
            return at(c, v, "weight: only tone rules may weigh <= 0 (rule "
                      "'%s')", r->id);
    }
    r->weight = (float)w;
    v = ear_ynode_get(m, "scope");
    if (v) {
        rc = parse_scope(c, v, &scope);
        if (rc < 0)
            return rc;
    }
    r->scope = (uint8_t)scope;
    v = ear_ynode_get(m, "needs");
    if (v) {
        rc = parse_needs(c, v, &needs);
        if (rc < 0)
            return rc;
    }
    r->needs_neg = (uint8_t)needs;
    rc = compile_matcher(c, ri, m, 1, &root);
    if (rc < 0)
        return rc;
    r = &an->rules[ri];
    r->root = root;
    v = ear_ynode_get(m, "tests");
    if (v) {
        rc = load_tests(c, v, "fire", &an->rules[ri].tests,
                        &an->rules[ri].ntests);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- lexicon */

static int load_lexlist(struct ctx *c, const struct ear_ynode *v,
                        const char *what, int kind, double dflt, int zero)
{
    static const char *const keys[] = {"weight", "words", NULL};
    size_t i, j;
    int rc;

    if (v->type != EAR_Y_SEQ)
        return at(c, v, "lexicon.%s: expected a list of words or of "
                  "{weight, words} maps", what);
    for (i = 0; i < v->n; i++) {
        const struct ear_ynode *it = v->items[i];
        if (it->type == EAR_Y_SCALAR) {
            rc = term_add(c, it, EAR_NONE, kind, dflt);
        } else if (it->type == EAR_Y_MAP) {
            const struct ear_ynode *words = ear_ynode_get(it, "words");
            double w = dflt;
            rc = ear_ynode_check_keys(it, keys, c->path, c->err);
            if (rc == 0 && ear_ynode_get(it, "weight"))
                rc = number(c, ear_ynode_get(it, "weight"), "weight", 0, 20,
                            &w);
            if (zero)
                w = 0;
            if (rc < 0)
                return rc;
            if (!words || words->type != EAR_Y_SEQ)
                return at(c, it, "lexicon.%s: 'words' must be a list", what);
            for (j = 0; rc == 0 && j < words->n; j++)
                rc = term_add(c, words->items[j], EAR_NONE, kind, w);
        } else {
            rc = at(c, it, "lexicon.%s: expected a word or a map", what);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int load_lexicon(struct ctx *c, const struct ear_ynode *m)
{
    static const char *const keys[] = {
        "negative", "positive", "negated", "negators", "intensifiers",
        "dampeners", "contrast", "concessive", "inquiry", "neutral",
        "postnegators", NULL};
    static const struct { const char *key; int kind; double w; } lists[] = {
        {"negative", EAR_LX_NEG, 1.0}, {"positive", EAR_LX_POS, 1.0},
        {"negated", EAR_LX_NEGATED, 1.0}, {"negators", EAR_LX_NEGATOR, 0.0},
        {"intensifiers", EAR_LX_INTENS, 1.5}, {"dampeners", EAR_LX_DAMP, 0.5},
        {"contrast", EAR_LX_CONTRAST, 1.0},
        {"concessive", EAR_LX_CONCESS, 1.0},
        {"inquiry", EAR_LX_INQUIRY, 0.5},
        {"neutral", EAR_LX_POS, 0.0},
        {"postnegators", EAR_LX_POSTNEG, 0.0},
    };
    size_t i;
    int rc;

    if (m->type != EAR_Y_MAP)
        return at(c, m, "%s: expected a map", "lexicon");
    rc = ear_ynode_check_keys(m, keys, c->path, c->err);
    if (rc < 0)
        return rc;
    for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const struct ear_ynode *v = ear_ynode_get(m, lists[i].key);
        if (!v)
            continue;
        rc = load_lexlist(c, v, lists[i].key, lists[i].kind, lists[i].w,
                          strcmp(lists[i].key, "neutral") == 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- packs */

static int load_defaults(struct ctx *c, const struct ear_ynode *m)
{
    static const char *const keys[] = {"category", "severity", "team",
                                       "scope", "needs", NULL};
    const struct ear_ynode *v;
    const char *s = NULL;
    int rc;

    if (m->type != EAR_Y_MAP)
        return at(c, m, "%s: expected a map", "defaults");
    rc = ear_ynode_check_keys(m, keys, c->path, c->err);
    if (rc < 0)
        return rc;
    if ((v = ear_ynode_get(m, "category")) != NULL &&
        (rc = parse_category(c, v, &c->d_category)) < 0)
        return rc;
    if ((v = ear_ynode_get(m, "severity")) != NULL &&
        (rc = parse_severity(c, v, &c->d_severity)) < 0)
        return rc;
    if ((v = ear_ynode_get(m, "scope")) != NULL &&
        (rc = parse_scope(c, v, &c->d_scope)) < 0)
        return rc;
    if ((v = ear_ynode_get(m, "needs")) != NULL &&
        (rc = parse_needs(c, v, &c->d_needs)) < 0)
        return rc;
    if ((v = ear_ynode_get(m, "team")) != NULL) {
        rc = scalar(c, v, "team", &s);
        if (rc < 0)
            return rc;
        c->d_team = sdup(c, s);
        if (!c->d_team)
            return oom(c);
    }
    return 0;
}

static int load_scoring(struct ctx *c, const struct ear_ynode *m)
{
    static const char *const keys[] = {"threshold", "negation_window", NULL};
    double th;
    long long win;
    int rc, l;

    if (m->type != EAR_Y_MAP)
        return at(c, m, "%s: expected a map", "scoring");
    rc = ear_ynode_check_keys(m, keys, c->path, c->err);
    if (rc < 0)
        return rc;
    for (l = 1; l <= 2; l++) {
        if (!(c->langmask & l))
            continue;
        th = c->an->set[l].threshold;
        win = c->an->set[l].negwin;
        if (ear_ynode_get(m, "threshold")) {
            rc = number(c, ear_ynode_get(m, "threshold"), "threshold", 0.01,
                        100, &th);
            if (rc < 0)
                return rc;
        }
        rc = ear_ynode_int(&win, ear_ynode_get(m, "negation_window"), 0, 10,
                           c->path, "negation_window", c->err);
        if (rc < 0)
            return rc;
        c->an->set[l].threshold = (float)th;
        c->an->set[l].negwin = (uint32_t)win;
    }
    return 0;
}

static int load_pack(struct ear_analyzer *an, const char *path,
                     struct ear_error *err)
{
    static const char *const keys[] = {"lang", "description", "defaults",
                                       "scoring", "rules", "lexicon",
                                       "tests", NULL};
    struct ear_yaml *doc = NULL;
    const struct ear_ynode *root, *v;
    struct ctx c;
    struct ear_pack *pk;
    const char *s = NULL;
    size_t i;
    int rc;

    memset(&c, 0, sizeof c);
    c.an = an;
    c.err = err;
    c.d_scope = EAR_SC_SENTENCE;
    c.path = ear_an__strdup(an, path, strlen(path));
    if (!c.path)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    rc = ear_yaml_load(&doc, path, err);
    if (rc < 0)
        return rc;
    root = doc->root;
    if (!root || root->type != EAR_Y_MAP) {
        rc = ear_error_set(err, EAR_EINVAL, path, root ? root->line : 1,
                           root ? root->col : 1, "a rule pack is a map with "
                           "lang and rules or lexicon");
        goto out;
    }
    rc = ear_ynode_check_keys(root, keys, path, err);
    if (rc < 0)
        goto out;
    v = ear_ynode_get(root, "lang");
    if (!v) {
        rc = ear_error_set(err, EAR_EINVAL, path, root->line, root->col,
                           "pack has no lang (hu, en or any)");
        goto out;
    }
    rc = scalar(&c, v, "lang", &s);
    if (rc < 0)
        goto out;
    if (strcmp(s, "hu") == 0)
        c.langmask = EAR_LANG_HU;
    else if (strcmp(s, "en") == 0)
        c.langmask = EAR_LANG_EN;
    else if (strcmp(s, "any") == 0)
        c.langmask = EAR_LANG_ANY;
    else {
        rc = at(&c, v, "lang: '%s' is not hu, en or any", s);
        goto out;
    }
    v = ear_ynode_get(root, "description");
    if (v && (rc = scalar(&c, v, "description", &s)) < 0)
        goto out;
    if ((v = ear_ynode_get(root, "defaults")) != NULL &&
        (rc = load_defaults(&c, v)) < 0)
        goto out;
    if ((v = ear_ynode_get(root, "scoring")) != NULL &&
        (rc = load_scoring(&c, v)) < 0)
        goto out;
    pk = ear_grow(an->packs, &an->packcap, an->npacks, sizeof *pk, 16);
    if (!pk) {
        rc = oom(&c);
        goto out;
    }
    an->packs = pk;
    pk = &an->packs[an->npacks++];
    memset(pk, 0, sizeof *pk);
    pk->path = c.path;
    pk->langmask = c.langmask;
    v = ear_ynode_get(root, "rules");
    if (v) {
        if (v->type != EAR_Y_SEQ) {
            rc = at(&c, v, "%s: expected a list of rules", "rules");
            goto out;
        }
        for (i = 0; i < v->n; i++) {
            rc = load_rule(&c, v->items[i]);
            if (rc < 0)
                goto out;
        }
    }
    v = ear_ynode_get(root, "lexicon");
    if (v && (rc = load_lexicon(&c, v)) < 0)
        goto out;
    v = ear_ynode_get(root, "tests");
    if (v) {
        pk = &an->packs[an->npacks - 1];
        rc = load_tests(&c, v, "flag", &pk->tests, &pk->ntests);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    ear_yaml_free(doc);
    return rc;
}

/* ---------------------------------------------------------------- files */

struct pathlist {
    char **v;
    size_t n, cap;
};

static int pl_add(struct pathlist *pl, const char *p)
{
    char **nv = ear_grow(pl->v, &pl->cap, pl->n, sizeof *nv, 32);

    if (!nv)
        return EAR_ENOMEM;
    pl->v = nv;
    pl->v[pl->n] = ear_strdup(p);
    if (!pl->v[pl->n])
        return EAR_ENOMEM;
    pl->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct pathlist *pl, const char *dir, int depth,
                struct ear_error *err)
{
    DIR *d;
    struct dirent *e;
    struct ear_buf p;
    int rc = 0;

    if (depth > 8)
        return 0;
    d = opendir(dir);
    if (!d)
        return ear_error_set(err, EAR_EIO, dir, 0, 0, "%s", strerror(errno));
    ear_buf_init(&p, 4096);
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        ear_buf_reset(&p);
        rc = ear_buf_addf(&p, "%s/%s", dir, e->d_name);
        if (rc < 0)
            break;
        if (stat(ear_buf_str(&p), &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = walk(pl, ear_buf_str(&p), depth + 1, err);
        else if (l > 4 && strcmp(e->d_name + l - 4, ".yml") == 0)
            rc = pl_add(pl, ear_buf_str(&p));
        if (rc < 0)
            break;
    }
    closedir(d);
    ear_buf_dispose(&p);
    if (rc == EAR_ENOMEM)
        ear_error_set(err, rc, dir, 0, 0, "out of memory");
    return rc;
}

static int cmp_rule_id(const void *a, const void *b, void *arg)
{
    const struct ear_rule *rules = arg;
    return strcmp(rules[*(const uint32_t *)a].id,
                  rules[*(const uint32_t *)b].id);
}

static int check_ids(struct ear_analyzer *an, struct ear_error *err)
{
    uint32_t *ix = malloc((an->nrules ? an->nrules : 1) * sizeof *ix);
    size_t i;
    int rc = 0;

    if (!ix)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    for (i = 0; i < an->nrules; i++)
        ix[i] = (uint32_t)i;
    qsort_r(ix, an->nrules, sizeof *ix, cmp_rule_id, an->rules);
    for (i = 1; i < an->nrules; i++) {
        const struct ear_rule *a = &an->rules[ix[i - 1]];
        const struct ear_rule *b = &an->rules[ix[i]];
        if (strcmp(a->id, b->id) == 0) {
            const struct ear_rule *first = ix[i - 1] < ix[i] ? a : b;
            const struct ear_rule *dup = first == a ? b : a;
            rc = ear_error_set(err, EAR_EINVAL, dup->file, dup->line,
                               dup->col, "duplicate rule id '%s' (first "
                               "defined at %s:%d)", dup->id, first->file,
                               first->line);
            break;
        }
    }
    free(ix);
    return rc;
}

_Static_assert(sizeof(struct ear_wcent) == 64,
               "a word cache entry is one cache line");

/* Can node hold only where one of its terms occurred? Then a rule whose
 * root is such a node is evaluated only after an index hit; otherwise
 * (a regex, a 'not', an 'any' with a branch of those) on every text. */
static int needs_hit(const struct ear_analyzer *an, uint32_t ni)
{
    const struct ear_node *n = &an->nodes[ni];
    uint32_t k;

    switch (n->kind) {
    case EAR_N_TERMS:
    case EAR_N_NEAR:
        return 1;
    case EAR_N_ALL:
        for (k = 0; k < n->nkids; k++)
            if (needs_hit(an, n->kids[k]))
                return 1;
        return 0;
    case EAR_N_ANY:
        for (k = 0; k < n->nkids; k++)
            if (!needs_hit(an, n->kids[k]))
                return 0;
        return n->nkids > 0;
    default:
        return 0;
    }
}

/* Sentiment phrases whose first word is a negator of their language
 * carry their own negation: "no communication is not acceptable" must not
 * read "not acceptable" as flipped into praise. */
static int mark_selfneg(struct ear_analyzer *an)
{
    uint32_t *neg;
    size_t i, j, nneg = 0;

    neg = malloc((an->nterms ? an->nterms : 1) * sizeof *neg);
    if (!neg)
        return EAR_ENOMEM;
    /* the single-word negators first: a few dozen */
    for (j = 0; j < an->nterms; j++)
        if ((an->terms[j].lexkind == EAR_LX_NEGATOR ||
             an->terms[j].lexkind == EAR_LX_POSTNEG) &&
            an->terms[j].nwords == 1)
            neg[nneg++] = (uint32_t)j;
    for (i = 0; i < an->nterms; i++) {
        struct ear_term *t = &an->terms[i];
        if (t->nwords < 2 || (t->lexkind != EAR_LX_NEG &&
                              t->lexkind != EAR_LX_POS))
            continue;
        for (j = 0; j < nneg && !t->selfneg; j++) {
            const struct ear_term *n = &an->terms[neg[j]];
            t->selfneg = (n->langmask & t->langmask) &&
                         ear_glob__match(n->words[0].text, n->words[0].len,
                                         t->words[0].text, t->words[0].len);
        }
    }
    free(neg);
    return 0;
}

int ear_analyzer_new(struct ear_analyzer **out, const char *const *paths,
                     struct ear_error *err)
{
    struct ear_analyzer *an;
    struct pathlist pl = {NULL, 0, 0};
    size_t i, nalw = 0;
    int rc = 0;

    *out = NULL;
    an = calloc(1, sizeof *an);
    if (!an)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    for (i = 0; i < 3; i++) {
        an->set[i].threshold = 1.0f;
        an->set[i].negwin = 3;
    }
    ear_buf_init(&an->scratch, (size_t)64 << 20);
    ear_text__stopset_init(&an->stop);
    for (i = 0; paths && paths[i]; i++) {
        struct stat st;
        size_t first = pl.n;
        if (stat(paths[i], &st) != 0) {
            rc = ear_error_set(err, errno == ENOENT ? EAR_ENOTFOUND : EAR_EIO,
                               paths[i], 0, 0, "cannot read rule pack: %s",
                               strerror(errno));
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk(&pl, paths[i], 0, err);
            if (rc < 0)
                goto out;
            if (pl.n - first > 1)
                qsort(pl.v + first, pl.n - first, sizeof *pl.v, cmp_str);
        } else {
            rc = pl_add(&pl, paths[i]);
            if (rc < 0) {
                rc = ear_error_set(err, rc, NULL, 0, 0, "out of memory");
                goto out;
            }
        }
    }
    for (i = 0; i < pl.n; i++) {
        rc = load_pack(an, pl.v[i], err);
        if (rc < 0)
            goto out;
    }
    rc = check_ids(an, err);
    if (rc < 0)
        goto out;
    rc = mark_selfneg(an);
    if (rc == 0)
        rc = ear_index__build(&an->ix[EAR_LANG_HU], an->terms, an->nterms,
                              EAR_LANG_HU);
    if (rc == 0)
        rc = ear_index__build(&an->ix[EAR_LANG_EN], an->terms, an->nterms,
                              EAR_LANG_EN);
    if (rc < 0) {
        rc = ear_error_set(err, rc, NULL, 0, 0, "out of memory");
        goto out;
    }
    for (i = 0; i < an->nrules; i++) {
        an->rules[i].has_terms = (uint8_t)needs_hit(an, an->rules[i].root);
        nalw += !an->rules[i].has_terms;
    }
    an->always = calloc(nalw ? nalw : 1, sizeof *an->always);
    an->md = pcre2_match_data_create(4, NULL);
    /* one cache line per entry, so a lookup touches one line */
    an->wcache = aligned_alloc(64, EAR_WC_SLOTS * sizeof *an->wcache);
    if (an->wcache)
        memset(an->wcache, 0, EAR_WC_SLOTS * sizeof *an->wcache);
    if (!an->always || !an->md || !an->wcache) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    for (i = 0; i < an->nrules; i++)
        if (!an->rules[i].has_terms)
            an->always[an->nalways++] = (uint32_t)i;
    *out = an;
    an = NULL;
out:
    for (i = 0; i < pl.n; i++)
        free(pl.v[i]);
    free(pl.v);
    ear_analyzer_free(an);
    return rc;
}

void ear_analyzer_free(struct ear_analyzer *an)
{
    size_t i;

    if (!an)
        return;
    for (i = 0; i < an->nnodes; i++) {
        free(an->nodes[i].kids);
        if (an->nodes[i].re)
            pcre2_code_free(an->nodes[i].re);
    }
    free(an->nodes);
    for (i = 0; i < an->nterms; i++)
        free(an->terms[i].words);
    free(an->terms);
    for (i = 0; i < an->nrules; i++)
        free(an->rules[i].tests);
    free(an->rules);
    for (i = 0; i < an->npacks; i++)
        free(an->packs[i].tests);
    free(an->packs);
    for (i = 0; i < an->nstrs; i++)
        free(an->strs[i]);
    free(an->strs);
    ear_index__dispose(&an->ix[EAR_LANG_HU]);
    ear_index__dispose(&an->ix[EAR_LANG_EN]);
    free(an->always);
    ear_brands__free(an);
    if (an->md)
        pcre2_match_data_free(an->md);
    ear_text__dispose(&an->txt);
    ear_text__dispose(&an->tmp);
    free(an->bcats);
    free(an->bmatches);
    free(an->barena);
    free(an->bv.explain);
    free(an->wcache);
    free(an->wterms);
    free(an->whash);
    free(an->hits);
    free(an->clauses);
    free(an->sents);
    free(an->cand);
    free(an->fired);
    free(an->spans);
    free(an->swant);
    ear_buf_dispose(&an->scratch);
    free(an);
}

size_t ear_analyzer_rule_count(const struct ear_analyzer *an)
{
    return an->nrules;
}

int ear_analyzer_rule_info(const struct ear_analyzer *an, size_t i,
                           struct ear_rule_info *out)
{
    const struct ear_rule *r;

    if (i >= an->nrules)
        return EAR_EINVAL;
    r = &an->rules[i];
    out->id = r->id;
    out->category = r->category;
    out->description = r->description;
    out->team = r->team;
    out->file = r->file;
    out->line = r->line;
    out->severity = r->severity;
    out->lang = r->langmask == EAR_LANG_HU ? "hu"
              : r->langmask == EAR_LANG_EN ? "en" : "any";
    out->ntests = r->ntests;
    return 0;
}
