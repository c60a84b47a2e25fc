/*
 * Embedded tests and lint. Every rule carries texts that must make it fire
 * and texts that must leave it quiet; every pack may carry texts whose
 * whole verdict must flag or stay quiet (negation, contrast, praise).
 * Lint looks at the compiled rules for what loading cannot reject:
 * identical terms in one rule, the same term in two rules of one category,
 * rules another rule of their category always repeats (their terms a
 * subset of its plain term list), rules a 'not' of their own always
 * silences, rules no embedded test makes fire, regex-only rules that run
 * on every text, rules without tests.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/analyzer_int.h"

static int pack_lang(uint8_t mask)
{
    return mask == EAR_LANG_HU ? EAR_LANG_HU
         : mask == EAR_LANG_EN ? EAR_LANG_EN : 0;
}

int ear_analyzer_selftest(struct ear_analyzer *an, ear_rule_test_cb cb,
                          void *payload, size_t *ntests, size_t *nfailed)
{
    size_t i, k;
    int rc;

    *ntests = *nfailed = 0;
    for (i = 0; i < an->nrules; i++) {
        const struct ear_rule *r = &an->rules[i];
        for (k = 0; k < r->ntests; k++) {
            const struct ear_test *t = &r->tests[k];
            int fired;
            rc = ear_an__run(an, t->text, strlen(t->text),
                             pack_lang(r->langmask), 0);
            if (rc < 0)
                return rc;
            fired = ear_an__rule_fired(an, (uint32_t)i);
            (*ntests)++;
            if (fired != t->fire) {
                (*nfailed)++;
                if (cb)
                    cb(r->id, r->file, t->line, t->text, t->fire, payload);
            }
        }
    }
    for (i = 0; i < an->npacks; i++) {
        const struct ear_pack *p = &an->packs[i];
        for (k = 0; k < p->ntests; k++) {
            const struct ear_test *t = &p->tests[k];
            rc = ear_an__run(an, t->text, strlen(t->text),
                             pack_lang(p->langmask), 0);
            if (rc < 0)
                return rc;
            (*ntests)++;
            if (an->flag != t->fire) {
                (*nfailed)++;
                if (cb)
                    cb(NULL, p->path, t->line, t->text, t->fire, payload);
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- lint */

struct lint {
    struct ear_analyzer *an;
    ear_lint_cb cb;
    void *payload;
    int errors;
    struct ear_buf msg;
};

static void report(struct lint *l, int level, const char *file, int line,
                   const char *rule)
{
    if (level == 2)
        l->errors++;
    if (l->cb)
        l->cb(level, file, line, rule, ear_buf_str(&l->msg), l->payload);
    ear_buf_reset(&l->msg);
}

static int term_same(const struct ear_term *a, const struct ear_term *b)
{
    uint32_t k;

    if (a->nwords != b->nwords)
        return 0;
    for (k = 0; k < a->nwords; k++)
        if (a->words[k].len != b->words[k].len ||
            a->words[k].hashtag != b->words[k].hashtag ||
            memcmp(a->words[k].text, b->words[k].text, a->words[k].len))
            return 0;
    return 1;
}

/* Does term p occur wherever term t does: do p's words match a run of
 * t's words ("late*" covers "late delivery")? A hashtag-only word of p
 * needs one in t. */
static int term_covers(const struct ear_term *p, const struct ear_term *t)
{
    uint32_t o, k;

    for (o = 0; o + p->nwords <= t->nwords; o++) {
        for (k = 0; k < p->nwords; k++) {
            const struct ear_wpat *pw = &p->words[k], *tw = &t->words[o + k];
            if ((pw->hashtag && !tw->hashtag) ||
                !ear_glob__match(pw->text, pw->len, tw->text, tw->len))
                break;
        }
        if (k == p->nwords)
            return 1;
    }
    return 0;
}

/* Is node a plain term list of the rule (not inside near/all/not)? */
static int direct_terms(const struct ear_analyzer *an, uint32_t rule,
                        uint32_t node)
{
    const struct ear_node *root = &an->nodes[an->rules[rule].root];
    uint32_t k, j;

    for (k = 0; k < root->nkids; k++) {
        const struct ear_node *kid = &an->nodes[root->kids[k]];
        if (root->kids[k] == node)
            return 1;
        if (kid->kind != EAR_N_ANY)
            continue;
        for (j = 0; j < kid->nkids; j++)
            if (kid->kids[j] == node)
                return 1;
    }
    return 0;
}

static uint32_t rule_of_term(const struct ear_analyzer *an,
                             const struct ear_term *t)
{
    return t->node == EAR_NONE ? EAR_NONE : an->nodes[t->node].rule;
}

static int contains_node(const struct ear_analyzer *an, uint32_t root,
                         uint32_t target)
{
    const struct ear_node *n = &an->nodes[root];
    uint32_t k;

    if (root == target)
        return 1;
    for (k = 0; k < n->nkids; k++)
        if (contains_node(an, n->kids[k], target))
            return 1;
    return 0;
}

/* The rule's single plain term list, when that is all its matcher is
 * (no regex, group, near or not), else EAR_NONE. */
static uint32_t plain_terms(const struct ear_analyzer *an,
                            const struct ear_rule *r)
{
    const struct ear_node *root = &an->nodes[r->root];

    if (root->kind != EAR_N_ALL || root->nkids != 1 ||
        an->nodes[root->kids[0]].kind != EAR_N_TERMS)
        return EAR_NONE;
    return root->kids[0];
}

/* Is every term of node a covered by some term of node b? */
static int node_covered(const struct ear_analyzer *an, uint32_t a, uint32_t b)
{
    size_t i, j;
    int any = 0;

    for (i = 0; i < an->nterms; i++) {
        int covered = 0;
        if (an->terms[i].node != a)
            continue;
        any = 1;
        for (j = 0; j < an->nterms && !covered; j++)
            covered = an->terms[j].node == b &&
                      term_covers(&an->terms[j], &an->terms[i]);
        if (!covered)
            return 0;
    }
    return any;
}

/* Does node (all of which must hold) need one of the terms of bt: is it,
 * or one of its 'all' parts, a term list bt covers? */
static int needs_covered(const struct ear_analyzer *an, uint32_t node,
                         uint32_t bt)
{
    const struct ear_node *n = &an->nodes[node];
    uint32_t k;

    if (n->kind == EAR_N_TERMS)
        return node_covered(an, node, bt);
    if (n->kind != EAR_N_ALL)
        return 0;
    for (k = 0; k < n->nkids; k++)
        if (needs_covered(an, n->kids[k], bt))
            return 1;
    return 0;
}

/* Rule a fires only where rule b fires too: b is a plain term list of the
 * same category, language, scope or wider, and no 'needs' of its own, and
 * a needs a term list (at its top or inside 'all') that b's covers. */
static int rule_within(const struct ear_analyzer *an, size_t a, size_t b)
{
    const struct ear_rule *ra = &an->rules[a], *rb = &an->rules[b];
    uint32_t bt = plain_terms(an, rb);

    if (bt == EAR_NONE || strcmp(ra->category, rb->category) != 0 ||
        (ra->langmask & ~rb->langmask) || rb->scope < ra->scope ||
        (rb->needs_neg && !ra->needs_neg))
        return 0;
    return needs_covered(an, ra->root, bt);
}

/* Marks in fired[] every rule that some embedded test text (of any rule
 * or pack, run in its pack's language) makes fire. */
static int run_all_tests(struct ear_analyzer *an, uint8_t *fired)
{
    size_t i, k, f;
    int rc;

    for (i = 0; i < an->nrules + an->npacks; i++) {
        const struct ear_test *tests;
        size_t n;
        uint8_t mask;
        if (i < an->nrules) {
            tests = an->rules[i].tests;
            n = an->rules[i].ntests;
            mask = an->rules[i].langmask;
        } else {
            tests = an->packs[i - an->nrules].tests;
            n = an->packs[i - an->nrules].ntests;
            mask = an->packs[i - an->nrules].langmask;
        }
        for (k = 0; k < n; k++) {
            rc = ear_an__run(an, tests[k].text, strlen(tests[k].text),
                             pack_lang(mask), 0);
            if (rc < 0)
                return rc;
            for (f = 0; f < an->nfired; f++)
                fired[an->fired[f]] = 1;
        }
    }
    return 0;
}

/* The top-level NOT under the rule's root, if any. */
static uint32_t top_not(const struct ear_analyzer *an, const struct ear_rule *r)
{
    const struct ear_node *root = &an->nodes[r->root];
    uint32_t k;

    for (k = 0; k < root->nkids; k++)
        if (an->nodes[root->kids[k]].kind == EAR_N_NOT)
            return root->kids[k];
    return EAR_NONE;
}

int ear_analyzer_lint(struct ear_analyzer *an, ear_lint_cb cb, void *payload)
{
    struct lint l;
    size_t i, j;
    int rc = 0;

    l.an = an;
    l.cb = cb;
    l.payload = payload;
    l.errors = 0;
    ear_buf_init(&l.msg, 4096);
    /* duplicate terms: in one node, in one rule, across rules of a
     * category */
    for (i = 0; i < an->nterms && rc == 0; i++) {
        const struct ear_term *a = &an->terms[i];
        uint32_t ra = rule_of_term(an, a);
        for (j = i + 1; j < an->nterms && rc == 0; j++) {
            const struct ear_term *b = &an->terms[j];
            uint32_t rb = rule_of_term(an, b);
            if (!(a->langmask & b->langmask) || !term_same(a, b))
                continue;
            if (ra == EAR_NONE && rb == EAR_NONE) {
                /* one token takes one lexicon entry: the other is dead */
                rc = ear_buf_addf(&l.msg, "lexicon word '%s' listed twice "
                                  "(first at %s:%d)", b->src, a->file,
                                  a->line);
                if (rc == 0)
                    report(&l, 1, b->file, b->line, NULL);
                continue;
            }
            if (ra == EAR_NONE || rb == EAR_NONE)
                continue;
            if (a->node == b->node) {
                rc = ear_buf_addf(&l.msg, "term '%s' listed twice",
                                  b->src);
                if (rc == 0)
                    report(&l, 1, b->file, b->line, an->rules[rb].id);
            } else if (ra != rb &&
                       strcmp(an->rules[ra].category,
                              an->rules[rb].category) == 0 &&
                       direct_terms(an, ra, a->node) &&
                       direct_terms(an, rb, b->node)) {
                rc = ear_buf_addf(&l.msg, "term '%s' also in rule '%s' of "
                                  "the same category (%s:%d): overlapping"
                                  " rules", b->src, an->rules[ra].id,
                                  a->file, a->line);
                if (rc == 0)
                    report(&l, 1, b->file, b->line, an->rules[rb].id);
            }
        }
    }
    /* unreachable: a rule whose plain terms are all covered by its own
     * top-level NOT terms never fires */
    for (i = 0; i < an->nrules && rc == 0; i++) {
        const struct ear_rule *r = &an->rules[i];
        uint32_t nn = top_not(an, r);
        size_t npos = 0, ncov = 0;
        if (nn != EAR_NONE) {
            for (j = 0; j < an->nterms; j++) {
                const struct ear_term *t = &an->terms[j];
                size_t k;
                int covered = 0;
                if (rule_of_term(an, t) != i || contains_node(an, nn, t->node))
                    continue;
                npos++;
                for (k = 0; k < an->nterms && !covered; k++) {
                    const struct ear_term *x = &an->terms[k];
                    if (rule_of_term(an, x) == i &&
                        an->nodes[x->node].kind == EAR_N_TERMS &&
                        contains_node(an, nn, x->node) &&
                        term_covers(x, t))
                        covered = 1;
                }
                if (covered)
                    ncov++;
            }
            if (npos && npos == ncov) {
                rc = ear_buf_addf(&l.msg, "unreachable: every term is "
                                  "excluded by the rule's own 'not'");
                if (rc == 0)
                    report(&l, 2, r->file, r->line, r->id);
            }
        }
        if (rc == 0 && !r->has_terms) {
            rc = ear_buf_addf(&l.msg, "runs on every text: it can fire "
                              "without any of its terms (a regex or a 'not' "
                              "alone); add terms to prefilter it");
            if (rc == 0)
                report(&l, 1, r->file, r->line, r->id);
        }
        if (rc == 0) {
            size_t nf = 0, k;
            for (k = 0; k < r->ntests; k++)
                if (r->tests[k].fire)
                    nf++;
            if (nf == 0) {
                rc = ear_buf_addf(&l.msg, "no 'fire' test");
                if (rc == 0)
                    report(&l, 1, r->file, r->line, r->id);
            }
        }
    }
    /* overlapping: a rule every firing of which another rule of its
     * category repeats adds nothing but a second match */
    for (i = 0; i < an->nrules && rc == 0; i++) {
        for (j = 0; j < an->nrules && rc == 0; j++) {
            if (i == j || !rule_within(an, i, j) ||
                (rule_within(an, j, i) && j > i))
                continue; /* two equal rules: reported once */
            rc = ear_buf_addf(&l.msg, "overlapping: every text that fires "
                              "it fires '%s' (%s:%d) too: its terms are "
                              "among that rule's, same category '%s'",
                              an->rules[j].id, an->rules[j].file,
                              an->rules[j].line, an->rules[i].category);
            if (rc == 0)
                report(&l, 1, an->rules[i].file, an->rules[i].line,
                       an->rules[i].id);
        }
    }
    /* unreachable in practice: no embedded test text makes it fire */
    if (rc == 0 && an->nrules) {
        uint8_t *fired = calloc(an->nrules, 1);
        rc = fired ? run_all_tests(an, fired) : EAR_ENOMEM;
        for (i = 0; i < an->nrules && rc == 0; i++) {
            const struct ear_rule *r = &an->rules[i];
            if (fired[i])
                continue;
            rc = ear_buf_addf(&l.msg, "no embedded test makes it fire "
                              "(%zu tests of its own)", r->ntests);
            if (rc == 0)
                report(&l, 1, r->file, r->line, r->id);
        }
        free(fired);
    }
    ear_buf_dispose(&l.msg);
    return rc < 0 ? rc : l.errors;
}
