/*
 * Analysing one text: lookup, clauses, lexicon score, rules, fusion, and
 * the verdict. See analyzer_int.h for the flow. Nothing here allocates per
 * text except growing the analyzer's scratch arrays (which then stay) and
 * the strings of the verdict handed back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/analyzer_int.h"

#define GROW(arr, cnt, cap, need) grow_((void **)&(arr), &(cap), (need), \
                                        sizeof *(arr))

static int grow_(void **p, size_t *cap, size_t need, size_t elem)
{
    void *np;

    if (need <= *cap)
        return 0;
    np = ear_grow(*p, cap, need - 1, elem, 64);
    if (!np)
        return EAR_ENOMEM;
    *p = np;
    return 0;
}

/* ---------------------------------------------------------------- lookup */

static inline int word_eq(const struct ear_wpat *w, const char *s, size_t n)
{
    if (w->glob)
        return ear_glob__match(w->text, w->len, s, n);
    /* the first byte settles most mismatches without the call */
    return w->len == n && (n == 0 || (w->text[0] == s[0] &&
                                      memcmp(w->text, s, n) == 0));
}

/* Do the words of term other than its anchor match the tokens around
 * the anchor's token (one sentence)? The term starts at token i. */
static int match_rest(const struct ear_analyzer *an, const struct ear_term *t,
                      size_t i)
{
    const struct ear_text *x = &an->txt;
    uint32_t k;

    if (i + t->nwords > x->ntok)
        return 0;
    for (k = 0; k < t->nwords; k++) {
        const struct ear_tok *tk = &x->tok[i + k];
        if (k && (tk->flags & EAR_TF_SENT))
            return 0;
        if (k == t->anchor)
            continue;
        if ((tk->flags & EAR_TF_URL) ||
            !word_eq(&t->words[k], x->f + tk->fs, tk->fe - tk->fs) ||
            (t->words[k].hashtag && !(tk->flags & EAR_TF_HASHTAG)))
            return 0;
    }
    return 1;
}

static int add_hit(struct ear_analyzer *an, uint32_t term, size_t i)
{
    const struct ear_term *t = &an->terms[term];
    struct ear_hit *h;
    uint32_t hi;

    if (GROW(an->hits, an->nhits, an->hitcap, an->nhits + 1))
        return EAR_ENOMEM;
    hi = (uint32_t)an->nhits++;
    h = &an->hits[hi];
    h->term = term;
    h->t0 = (uint32_t)i;
    h->t1 = (uint32_t)(i + t->nwords);
    h->next = EAR_NONE;
    if (t->node == EAR_NONE) {
        struct ear_tok *tk = &an->txt.tok[i];
        const struct ear_term *o = tk->lex == EAR_NONE ? NULL
                                 : &an->terms[an->hits[tk->lex].term];
        if (!o || o->nwords < t->nwords ||
            (o->nwords == t->nwords && o->literal < t->literal))
            tk->lex = hi;
        return 0;
    }
    {
        struct ear_node *n = &an->nodes[t->node];
        struct ear_rule *r = &an->rules[n->rule];
        if (n->gen != an->gen) {
            n->gen = an->gen;
            n->head = n->tail = EAR_NONE;
        }
        if (n->tail == EAR_NONE)
            n->head = hi;
        else
            an->hits[n->tail].next = hi;
        n->tail = hi;
        if (r->gen != an->gen) {
            r->gen = an->gen;
            r->hit_t0 = h->t0;
            r->hit_t1 = h->t1;
            if (GROW(an->cand, an->ncand, an->candcap, an->ncand + 1))
                return EAR_ENOMEM;
            an->cand[an->ncand++] = n->rule;
        } else {
            if (h->t0 > r->hit_t0)
                r->hit_t0 = h->t0;
            if (h->t1 < r->hit_t1)
                r->hit_t1 = h->t1;
        }
    }
    return 0;
}

/* Hungarian superlatives, "leg" + comparative ("legrosszabb",
 * "legkiábrándítóbb", "legeslegunalmasabb"), take the lexicon entry of
 * the comparative when the whole word has none, so a pattern written for
 * the adjective reaches its superlative. The "bb" of the comparative
 * must follow, which keeps "legalább" and "legény" out. Appends to the nt
 * terms in an->wterms; returns the new count or EAR_ENOMEM. */
static int superlative(struct ear_analyzer *an, const char *w, size_t n,
                       size_t nt)
{
    const struct ear_index *ix = &an->ix[an->lang];
    struct ear_prange pr[72];
    size_t r, np, k, skip = 3;

    if (n < 7 || memcmp(w, "leg", 3) != 0)
        return (int)nt;
    if (n > 10 && memcmp(w, "legesleg", 8) == 0)
        skip = 8;
    if (!memmem(w + skip, n - skip, "bb", 2))
        return (int)nt;
    for (k = 0; k < nt; k++)
        if (an->terms[an->wterms[k]].node == EAR_NONE)
            return (int)nt; /* the word is in the lexicon itself */
    w += skip;
    n -= skip;
    np = ear_index__probe(ix, w, n, pr, 72);
    for (r = 0; r < np; r++) {
        for (k = pr[r].first; k < pr[r].first + pr[r].n; k++) {
            const struct ear_posting *p = &ix->post[k];
            const struct ear_term *t = &an->terms[p->term];
            if (t->node != EAR_NONE || t->nwords != 1 ||
                !(t->langmask & an->lang) || t->words[0].hashtag ||
                (p->verify && !word_eq(&t->words[0], w, n)))
                continue;
            if (GROW(an->wterms, nt, an->wtermcap, nt + 1))
                return EAR_ENOMEM;
            an->wterms[nt++] = p->term;
        }
    }
    return (int)nt;
}

/* The terms anchored on token tk (word w, n bytes) that pass every check
 * that depends on the word alone, in index order, into an->wterms.
 * Returns how many, or EAR_ENOMEM. */
static int word_terms(struct ear_analyzer *an, const struct ear_tok *tk,
                      const char *w, size_t n)
{
    const struct ear_index *ix = &an->ix[an->lang];
    struct ear_prange pr[72];
    size_t r, np, k, nt = 0;

    np = ear_index__probe(ix, w, n, pr, 72);
    for (r = 0; r < np; r++) {
        for (k = pr[r].first; k < pr[r].first + pr[r].n; k++) {
            const struct ear_posting *p = &ix->post[k];
            const struct ear_term *t = &an->terms[p->term];
            if (!(t->langmask & an->lang))
                continue;
            if (p->verify && !word_eq(&t->words[t->anchor], w, n))
                continue;
            if (t->words[t->anchor].hashtag &&
                !(tk->flags & EAR_TF_HASHTAG))
                continue;
            if (GROW(an->wterms, nt, an->wtermcap, nt + 1))
                return EAR_ENOMEM;
            an->wterms[nt++] = p->term;
        }
    }
    for (k = 0; k < ix->ncontains; k++) {
        const struct ear_term *t = &an->terms[ix->contains[k]];
        const struct ear_wpat *aw = &t->words[t->anchor];
        if (!(t->langmask & an->lang) || !word_eq(aw, w, n) ||
            (aw->hashtag && !(tk->flags & EAR_TF_HASHTAG)))
            continue;
        if (GROW(an->wterms, nt, an->wtermcap, nt + 1))
            return EAR_ENOMEM;
        an->wterms[nt++] = ix->contains[k];
    }
    if (an->lang == EAR_LANG_HU)
        return superlative(an, w, n, nt);
    return (int)nt;
}

/* Words are read eight bytes at a time: the folded buffer has 8 bytes of
 * room past its end (ear_text__prep()), and bytes past a word are masked
 * off before anything depends on them. keep[k]: the first k bytes. */
static const uint64_t keep[9] = {
    0, 0xffu, 0xffffu, 0xffffffu, 0xffffffffu, 0xffffffffffu,
    0xffffffffffffu, 0xffffffffffffffu, 0xffffffffffffffffu
};

static inline uint64_t load8(const char *p)
{
    uint64_t c;

    memcpy(&c, p, 8);
    return c;
}

static inline uint64_t wc_mix(uint64_t h, uint64_t c)
{
    h = (h ^ c) * 0xff51afd7ed558ccdu;
    return h ^ (h >> 29);
}

/* The word cache's hash of a word of 1..EAR_WC_WORD bytes. */
static inline uint32_t word_hash(const char *w, size_t n, unsigned key)
{
    uint64_t h = ((uint64_t)key << 8 | n) * 0x9e3779b97f4a7c15u;
    size_t j;

    for (j = 0; j + 8 < n; j += 8)
        h = wc_mix(h, load8(w + j));
    h = wc_mix(h, load8(w + j) & keep[n - j]);
    return (uint32_t)(h ^ (h >> 32));
}

/* Does cache entry e hold the word w (n bytes, as many as e's)? Entries
 * keep their word zero-padded to the next eight bytes. */
static inline int wc_same(const struct ear_wcent *e, const char *w, size_t n)
{
    size_t j;

    for (j = 0; j + 8 < n; j += 8)
        if (load8(e->word + j) != load8(w + j))
            return 0;
    return load8(e->word + j) == (load8(w + j) & keep[n - j]);
}

static inline void wc_put_word(struct ear_wcent *e, const char *w, size_t n)
{
    size_t j;
    uint64_t c;

    for (j = 0; j + 8 < n; j += 8) {
        c = load8(w + j);
        memcpy(e->word + j, &c, 8);
    }
    c = load8(w + j) & keep[n - j];
    memcpy(e->word + j, &c, 8);
}

static int lookup(struct ear_analyzer *an)
{
    const struct ear_text *x = &an->txt;
    size_t i, k;
    int rc;

    /* the hashes first, each cache entry asked for at once: the entries
     * are then fetched from memory side by side, not one after another */
    if (GROW(an->whash, 0, an->whashcap, x->ntok))
        return EAR_ENOMEM;
    for (i = 0; i < x->ntok; i++) {
        const struct ear_tok *tk = &x->tok[i];
        size_t n = tk->fe - tk->fs;
        if (n == 0 || n > EAR_WC_WORD)
            continue;
        an->whash[i] = word_hash(x->f + tk->fs, n, (unsigned)an->lang |
                                 ((tk->flags & EAR_TF_HASHTAG) ? 16u : 0u));
        __builtin_prefetch(&an->wcache[an->whash[i] & (EAR_WC_SLOTS - 1)]);
    }

    for (i = 0; i < x->ntok; i++) {
        const struct ear_tok *tk = &x->tok[i];
        const char *w = x->f + tk->fs;
        size_t n = tk->fe - tk->fs, nt;
        const uint32_t *terms;
        struct ear_wcent *e = NULL;
        unsigned key = (unsigned)an->lang |
                       ((tk->flags & EAR_TF_HASHTAG) ? 16u : 0u);
        uint32_t h = 0;

        if (tk->flags & EAR_TF_URL)
            continue;
        if (n > 0 && n <= EAR_WC_WORD) {
            h = an->whash[i];
            e = &an->wcache[h & (EAR_WC_SLOTS - 1)];
            if (e->hash == h && e->len == n && e->key == key &&
                wc_same(e, w, n)) {
                terms = e->term;
                nt = e->nterm;
                goto have;
            }
        }
        rc = word_terms(an, tk, w, n);
        if (rc < 0)
            return rc;
        terms = an->wterms;
        nt = (size_t)rc;
        if (e && nt <= EAR_WC_TERMS) {
            e->hash = h;
            e->len = (uint8_t)n;
            e->key = (uint8_t)key;
            e->nterm = (uint8_t)nt;
            wc_put_word(e, w, n);
            if (nt)
                memcpy(e->term, terms, nt * sizeof *terms);
        }
have:
        for (k = 0; k < nt; k++) {
            const struct ear_term *t = &an->terms[terms[k]];
            if (t->anchor > i)
                continue;
            if (t->nwords > 1 && !match_rest(an, t, i - t->anchor))
                continue;
            rc = add_hit(an, terms[k], i - t->anchor);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- units */

static int lexkind_at(const struct ear_analyzer *an, size_t i)
{
    uint32_t h = an->txt.tok[i].lex;
    return h == EAR_NONE ? EAR_LX_NONE : an->terms[an->hits[h].term].lexkind;
}

static int segment(struct ear_analyzer *an)
{
    struct ear_text *x = &an->txt;
    size_t i, pos = 0, need = x->ntok + 1;
    struct ear_unit *c = NULL, *s = NULL;

    if (GROW(an->clauses, 0, an->unitcap, need) ||
        GROW(an->sents, 0, an->sentcap, need))
        return EAR_ENOMEM;
    an->nclauses = an->nsents = 0;
    for (i = 0; i < x->ntok; i++) {
        struct ear_tok *tk = &x->tok[i];
        int lk, split;

        /* most words: no break before them, no lexicon word */
        if (c && !(tk->flags & (EAR_TF_CLAUSE | EAR_TF_SENT)) &&
            tk->lex == EAR_NONE) {
            tk->clause = (uint32_t)(an->nclauses - 1);
            s->bang += tk->bang;
            s->quest += tk->quest;
            pos++;
            continue;
        }
        lk = lexkind_at(an, i);
        split = (tk->flags & (EAR_TF_CLAUSE | EAR_TF_SENT)) || !c;

        if (!split && (lk == EAR_LX_CONTRAST || lk == EAR_LX_CONCESS) &&
            pos >= 2)
            split = 1;
        if (tk->flags & EAR_TF_SENT || !s) {
            if (s)
                s->t1 = (uint32_t)i;
            s = &an->sents[an->nsents++];
            memset(s, 0, sizeof *s);
            s->t0 = (uint32_t)i;
            s->factor = 1;
        }
        if (split) {
            if (c)
                c->t1 = (uint32_t)i;
            c = &an->clauses[an->nclauses++];
            memset(c, 0, sizeof *c);
            c->t0 = (uint32_t)i;
            c->sent = (uint32_t)(an->nsents - 1);
            c->factor = 1;
            pos = 0;
        }
        if (pos < 2 && lk == EAR_LX_CONTRAST)
            c->flags |= EAR_UF_CONTRAST;
        if (pos < 2 && lk == EAR_LX_CONCESS)
            c->flags |= EAR_UF_CONCESS;
        tk->clause = (uint32_t)(an->nclauses - 1);
        s->bang += tk->bang;
        s->quest += tk->quest;
        pos++;
    }
    if (c)
        c->t1 = (uint32_t)x->ntok;
    if (s)
        s->t1 = (uint32_t)x->ntok;
    /* contrast: what comes before "but" weighs less, what follows more */
    for (i = 0; i < an->nclauses; i++) {
        struct ear_unit *cl = &an->clauses[i];
        size_t j;
        int same;
        if (cl->flags & EAR_UF_CONCESS)
            cl->factor *= 0.5f;
        if (!(cl->flags & EAR_UF_CONTRAST))
            continue;
        same = i > 0 && an->clauses[i - 1].sent == cl->sent;
        for (j = i; j > 0; j--) {
            struct ear_unit *p = &an->clauses[j - 1];
            if (same ? p->sent != cl->sent : p->sent + 1 != cl->sent)
                break;
            p->factor *= 0.5f;
        }
        for (j = i; j < an->nclauses && an->clauses[j].sent == cl->sent;
             j++)
            an->clauses[j].factor *= 1.5f;
    }
    return 0;
}

/* ---------------------------------------------------------------- lexicon */

static int push_span(struct ear_analyzer *an, uint32_t fs, uint32_t fe,
                     uint32_t rule, float w)
{
    struct ear_fspan *sp;

    if (GROW(an->spans, an->nspans, an->spancap, an->nspans + 1))
        return EAR_ENOMEM;
    sp = &an->spans[an->nspans++];
    sp->fs = fs;
    sp->fe = fe;
    sp->rule = rule;
    sp->weight = w;
    return 0;
}

static int lexscore(struct ear_analyzer *an)
{
    const struct ear_text *x = &an->txt;
    const struct ear_langset *set = &an->set[an->lang];
    size_t ci, i, si;
    float inquiry;
    int rc;

    an->lex = an->lexneg = an->lexpos = 0;
    an->intensity = 0;
    for (ci = 0; ci < an->nclauses; ci++) {
        struct ear_unit *c = &an->clauses[ci];
        uint32_t neg_left = 0, boost_left = 0;
        float boost = 1, sum = 0, pend = 0, last_v = 0;
        uint32_t pend_fs = 0, pend_fe = 0, last_tok = 0;
        size_t last_span = 0;

        for (i = c->t0; i < c->t1; i++) {
            const struct ear_tok *tk = &x->tok[i];
            uint32_t hi = tk->lex, skip_to = (uint32_t)i;
            int setwin = 0;

            if ((tk->flags & EAR_TF_CAPS) && !x->all_caps)
                an->intensity = 1;
            /* most words: no lexicon entry and no window open, so
             * nothing below would change (no window: nothing pending) */
            if (hi == EAR_NONE && !neg_left && !boost_left && pend <= 0)
                continue;
            if (hi != EAR_NONE) {
                const struct ear_hit *h = &an->hits[hi];
                const struct ear_term *t = &an->terms[h->term];
                float v;
                uint32_t k;
                int caps = 0;

                skip_to = h->t1 - 1;
                switch (t->lexkind) {
                case EAR_LX_NEGATOR:
                    /* a negator that finds nothing to flip keeps its own
                     * (small) weight: "I'm not booked", "can't get a seat" */
                    if (pend > 0) {
                        rc = push_span(an, pend_fs, pend_fe, EAR_NONE, pend);
                        if (rc < 0)
                            return rc;
                        sum += pend;
                    }
                    pend = t->weight;
                    pend_fs = x->tok[h->t0].fs;
                    pend_fe = x->tok[h->t1 - 1].fe;
                    neg_left = set->negwin;
                    setwin = 1;
                    break;
                case EAR_LX_INTENS:
                case EAR_LX_DAMP:
                    boost = t->weight;
                    /* "not very good" is milder than "not good" */
                    if (neg_left && t->lexkind == EAR_LX_INTENS)
                        boost = 1.0f / t->weight;
                    boost_left = 2;
                    setwin = 1;
                    break;
                case EAR_LX_POSTNEG:
                    /* "gond nincs": flips the word right before it */
                    if (last_v != 0 && last_tok + 1 == h->t0) {
                        float nv = last_v > 0 ? -0.5f * last_v
                                              : -0.8f * last_v;
                        sum += nv - last_v;
                        an->spans[last_span].weight = nv;
                        last_v = 0;
                        pend = 0;
                        break;
                    }
                    if (pend > 0) {
                        rc = push_span(an, pend_fs, pend_fe, EAR_NONE, pend);
                        if (rc < 0)
                            return rc;
                        sum += pend;
                    }
                    pend = t->weight;
                    pend_fs = x->tok[h->t0].fs;
                    pend_fe = x->tok[h->t1 - 1].fe;
                    neg_left = set->negwin;
                    setwin = 1;
                    break;
                case EAR_LX_NEG:
                case EAR_LX_POS:
                case EAR_LX_NEGATED:
                    v = t->lexkind == EAR_LX_POS ? -t->weight : t->weight;
                    if (neg_left)
                        pend = 0; /* the negator found its word */
                    if (t->lexkind == EAR_LX_NEGATED) {
                        if (!neg_left)
                            v = 0;
                    } else if (neg_left && t->selfneg) {
                        neg_left = 0; /* its own negation wins */
                    } else if (neg_left &&
                               !(tk->flags & (EAR_TF_EMOJI |
                                              EAR_TF_EMOTICON))) {
                        v = v > 0 ? -0.5f * v : -0.8f * v;
                    }
                    if (boost_left)
                        v *= boost;
                    for (k = h->t0; k < h->t1; k++)
                        caps |= (x->tok[k].flags & EAR_TF_CAPS) != 0;
                    if (caps && !x->all_caps)
                        v *= 1.5f;
                    if (v != 0) {
                        rc = push_span(an, x->tok[h->t0].fs,
                                       x->tok[h->t1 - 1].fe, EAR_NONE, v);
                        if (rc < 0)
                            return rc;
                        last_span = an->nspans - 1;
                    }
                    sum += v;
                    last_v = v;
                    last_tok = h->t1 - 1;
                    break;
                default:
                    break;
                }
            }
            if (!setwin) {
                uint32_t adv = skip_to - (uint32_t)i + 1;
                neg_left = neg_left > adv ? neg_left - adv : 0;
                boost_left = boost_left > adv ? boost_left - adv : 0;
            }
            /* else the window starts after the negator / booster itself,
             * however many words it has ("unable to", "no one") */
            i = skip_to;
            if (!neg_left && pend > 0) {
                rc = push_span(an, pend_fs, pend_fe, EAR_NONE, pend);
                if (rc < 0)
                    return rc;
                sum += pend;
                pend = 0;
            }
        }
        if (pend > 0) {
            rc = push_span(an, pend_fs, pend_fe, EAR_NONE, pend);
            if (rc < 0)
                return rc;
            sum += pend;
        }
        c->score = sum;
    }
    /* '!' amplifies its sentence; then contrast weights */
    inquiry = 0;
    for (si = 0, ci = 0; si < an->nsents; si++) {
        struct ear_unit *s = &an->sents[si];
        unsigned bang = s->bang, quest = s->quest;
        float amp;
        if (bang >= 2 || quest >= 3)
            an->intensity = 1;
        amp = 1.0f + 0.15f * (float)(bang < 3 ? bang : 3);
        /* "How can I change my flight?" asks; it does not complain. A
         * text that opens with a question stays an inquiry in the calm
         * sentences that follow. */
        if (quest && !bang && s->t1 > s->t0 && x->tok[s->t1 - 1].quest) {
            uint32_t f = s->t0;
            while (f + 1 < s->t1 && (x->tok[f].flags & EAR_TF_HANDLE))
                f++;
            if (lexkind_at(an, f) == EAR_LX_INQUIRY) {
                float w = an->terms[an->hits[x->tok[f].lex].term].weight;
                amp *= w;
                s->flags |= EAR_UF_INQUIRY;
                if (si == 0 || (si == 1 && inquiry < 0))
                    inquiry = w;
            }
        } else if (inquiry > 0 && !bang && !quest) {
            amp *= inquiry;
        }
        if (si == 0 && inquiry == 0 && s->t1 > s->t0) {
            /* a first "sentence" of handles only ("@acme") does not count */
            uint32_t f = s->t0;
            while (f < s->t1 && (x->tok[f].flags & EAR_TF_HANDLE))
                f++;
            if (f == s->t1)
                inquiry = -1;
        }
        s->score = 0;
        /* a sentence's clauses follow one another */
        for (; ci < an->nclauses && an->clauses[ci].sent == si; ci++) {
            struct ear_unit *c = &an->clauses[ci];
            c->score *= amp * c->factor;
            s->score += c->score;
        }
    }
    for (ci = 0; ci < an->nclauses; ci++) {
        float v = an->clauses[ci].score;
        an->lex += v;
    }
    /* a whole text in capitals is shouting */
    if (x->all_caps && an->nclauses) {
        size_t words = 0;
        for (i = 0; i < x->ntok; i++)
            words += (x->tok[i].flags & EAR_TF_LETTER) &&
                     !(x->tok[i].flags & (EAR_TF_HANDLE | EAR_TF_URL)) &&
                     x->tok[i].fe - x->tok[i].fs >= 2;
        if (words >= 4) {
            an->lex += 1.0f;
            an->intensity = 1;
        }
    }
    /* positive / negative totals from the evidence (after weighting) */
    for (i = 0; i < an->nspans; i++) {
        if (an->spans[i].weight > 0)
            an->lexneg += an->spans[i].weight;
        else
            an->lexpos -= an->spans[i].weight;
    }
    return 0;
}

/* ---------------------------------------------------------------- rules */

static void unit_range(const struct ear_analyzer *an, int scope, uint32_t tok,
                       uint32_t *lo, uint32_t *hi)
{
    const struct ear_text *x = &an->txt;
    const struct ear_unit *u;

    if (scope == EAR_SC_TEXT || x->ntok == 0) {
        *lo = 0;
        *hi = (uint32_t)x->ntok;
        return;
    }
    if (tok >= x->ntok)
        tok = (uint32_t)x->ntok - 1;
    u = &an->clauses[x->tok[tok].clause];
    if (scope == EAR_SC_SENTENCE)
        u = &an->sents[u->sent];
    *lo = u->t0;
    *hi = u->t1;
}

static int eval(struct ear_analyzer *an, uint32_t ni, uint32_t lo,
                uint32_t hi);

static int eval_terms(struct ear_analyzer *an, const struct ear_node *n,
                      uint32_t lo, uint32_t hi)
{
    const struct ear_text *x = &an->txt;
    uint32_t h;
    int found = 0;

    if (n->gen != an->gen)
        return 0;
    for (h = n->head; h != EAR_NONE; h = an->hits[h].next) {
        const struct ear_hit *hp = &an->hits[h];
        if (hp->t0 < lo || hp->t1 > hi)
            continue;
        if (push_span(an, x->tok[hp->t0].fs, x->tok[hp->t1 - 1].fe,
                      an->cur_rule, 0) < 0)
            return -1;
        found = 1;
    }
    return found;
}

static int eval_regex(struct ear_analyzer *an, const struct ear_node *n,
                      uint32_t lo, uint32_t hi)
{
    const struct ear_text *x = &an->txt;
    size_t fs = lo == 0 ? 0 : x->tok[lo].fs;
    size_t fe = hi >= x->ntok ? x->flen : x->tok[hi].fs;
    PCRE2_SIZE *ov;
    int rc;

    rc = pcre2_match(n->re, (PCRE2_SPTR)x->f, fe, fs, 0, an->md, NULL);
    if (rc < 0)
        return 0;
    ov = pcre2_get_ovector_pointer(an->md);
    if (ov[1] > ov[0] &&
        push_span(an, (uint32_t)ov[0], (uint32_t)ov[1], an->cur_rule, 0) < 0)
        return -1;
    return 1;
}

static int eval_near(struct ear_analyzer *an, const struct ear_node *n,
                     uint32_t lo, uint32_t hi)
{
    const struct ear_text *x = &an->txt;
    const struct ear_node *a = &an->nodes[n->kids[0]];
    const struct ear_node *b = &an->nodes[n->kids[1]];
    uint32_t ha, hb;
    int found = 0;

    if (a->gen != an->gen || b->gen != an->gen)
        return 0;
    for (ha = a->head; ha != EAR_NONE; ha = an->hits[ha].next) {
        const struct ear_hit *pa = &an->hits[ha];
        if (pa->t0 < lo || pa->t1 > hi)
            continue;
        for (hb = b->head; hb != EAR_NONE; hb = an->hits[hb].next) {
            const struct ear_hit *pb = &an->hits[hb];
            uint32_t d;
            if (pb->t0 < lo || pb->t1 > hi)
                continue;
            if (pb->t0 >= pa->t1)
                d = pb->t0 - pa->t1;
            else if (n->ordered)
                continue;
            else if (pa->t0 >= pb->t1)
                d = pa->t0 - pb->t1;
            else
                d = 0;
            if (d > n->within)
                continue;
            if (push_span(an, x->tok[pa->t0].fs, x->tok[pa->t1 - 1].fe,
                          an->cur_rule, 0) < 0 ||
                push_span(an, x->tok[pb->t0].fs, x->tok[pb->t1 - 1].fe,
                          an->cur_rule, 0) < 0)
                return -1;
            found = 1;
        }
    }
    return found;
}

/* 1 = matches in tokens [lo, hi), 0 = not, -1 = out of memory. Spans of
 * a failed branch are dropped. */
static int eval(struct ear_analyzer *an, uint32_t ni, uint32_t lo,
                uint32_t hi)
{
    const struct ear_node *n = &an->nodes[ni];
    size_t save = an->nspans;
    uint32_t k, l2, h2;
    int r, any = 0;

    switch (n->kind) {
    case EAR_N_TERMS:
        return eval_terms(an, n, lo, hi);
    case EAR_N_REGEX:
        return eval_regex(an, n, lo, hi);
    case EAR_N_NEAR:
        return eval_near(an, n, lo, hi);
    case EAR_N_ALL:
        for (k = 0; k < n->nkids; k++) {
            r = eval(an, n->kids[k], lo, hi);
            if (r <= 0) {
                an->nspans = save;
                return r;
            }
        }
        return 1;
    case EAR_N_ANY:
        for (k = 0; k < n->nkids; k++) {
            r = eval(an, n->kids[k], lo, hi);
            if (r < 0)
                return r;
            any |= r;
        }
        return any;
    case EAR_N_NOT:
        l2 = lo;
        h2 = hi;
        if (n->scope >= 0)
            unit_range(an, n->scope, lo, &l2, &h2);
        r = eval(an, n->kids[0], l2, h2);
        an->nspans = save;
        return r < 0 ? r : !r;
    default:
        return 0;
    }
}

static float unit_score(const struct ear_analyzer *an, int scope, uint32_t lo)
{
    const struct ear_text *x = &an->txt;

    if (scope == EAR_SC_TEXT || x->ntok == 0)
        return an->lex;
    if (scope == EAR_SC_CLAUSE)
        return an->clauses[x->tok[lo].clause].score;
    return an->sents[an->clauses[x->tok[lo].clause].sent].score;
}

/* Is unit u of scope inside a question that asks ("Will my flight be
 * delayed?")? A whole text never is, nor the statements after a question
 * ("Where is my parcel? It never came."). */
static int asking(const struct ear_analyzer *an, int scope, size_t u)
{
    if (scope == EAR_SC_SENTENCE)
        return (an->sents[u].flags & EAR_UF_INQUIRY) != 0;
    if (scope == EAR_SC_CLAUSE)
        return (an->sents[an->clauses[u].sent].flags & EAR_UF_INQUIRY) != 0;
    return 0;
}

static int eval_rule(struct ear_analyzer *an, uint32_t ri)
{
    const struct ear_rule *r = &an->rules[ri];
    const struct ear_text *x = &an->txt;
    const struct ear_unit *units;
    size_t nunits, u;
    int fired = 0, outside = 0, rc;

    if (x->ntok == 0)
        return 0;
    an->cur_rule = ri;
    an->rules[ri].unit_ok = 0;
    an->rules[ri].asked = 0;
    if (r->scope == EAR_SC_TEXT) {
        units = NULL;
        nunits = 1;
    } else if (r->scope == EAR_SC_CLAUSE) {
        units = an->clauses;
        nunits = an->nclauses;
    } else {
        units = an->sents;
        nunits = an->nsents;
    }
    for (u = 0; u < nunits; u++) {
        uint32_t lo = units ? units[u].t0 : 0;
        uint32_t hi = units ? units[u].t1 : (uint32_t)x->ntok;
        size_t save = an->nspans;
        if (lo >= hi)
            continue;
        /* a rule that needs a hit of its terms cannot match in a unit
         * that holds none (eval_terms() and eval_near() take only hits
         * inside [lo, hi)) */
        if (r->has_terms && (lo > r->hit_t0 || hi < r->hit_t1))
            continue;
        rc = eval(an, r->root, lo, hi);
        if (rc < 0)
            return rc;
        if (rc && unit_score(an, r->scope, lo) >= 0)
            an->rules[ri].unit_ok = 1;
        if (rc && r->needs_neg) {
            /* negative tone: the unit, or the text without the unit
             * being positive, scores as much as a flag needs */
            float s = unit_score(an, r->scope, lo);
            float th = an->set[an->lang].threshold;
            int neg = s >= th || (an->lex >= th && s >= 0) ||
                      (an->rating >= 1 && an->rating <= 2.5);
            if (!neg) {
                an->nspans = save;
                rc = 0;
            }
        }
        fired |= rc;
        if (rc && !asking(an, r->scope, u))
            outside = 1;
    }
    an->rules[ri].asked = (uint8_t)(fired && !outside);
    return fired;
}

int ear_an__rule_fired(const struct ear_analyzer *an, uint32_t rule)
{
    size_t i;

    for (i = 0; i < an->nfired; i++)
        if (an->fired[i] == rule)
            return 1;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A text has a handful of candidate rules, for which qsort()'s set-up
 * costs more than the sorting: insertion sort, unless there are many. */
static void sort_u32(uint32_t *v, size_t n)
{
    size_t i, j;

    if (n > 32) {
        qsort(v, n, sizeof *v, cmp_u32);
        return;
    }
    for (i = 1; i < n; i++) {
        uint32_t x = v[i];
        for (j = i; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static int run_rules(struct ear_analyzer *an)
{
    size_t i, nc;
    int rc;

    for (i = 0; i < an->nalways; i++) {
        uint32_t ri = an->always[i];
        if (!(an->rules[ri].langmask & an->lang) ||
            an->rules[ri].gen == an->gen)
            continue;
        an->rules[ri].gen = an->gen;
        if (GROW(an->cand, an->ncand, an->candcap, an->ncand + 1))
            return EAR_ENOMEM;
        an->cand[an->ncand++] = ri;
    }
    /* pack order, so verdicts do not depend on where words occurred */
    sort_u32(an->cand, an->ncand);
    nc = an->ncand;
    if (GROW(an->fired, an->nfired, an->firedcap, nc))
        return EAR_ENOMEM;
    an->nfired = 0;
    for (i = 0; i < nc; i++) {
        rc = eval_rule(an, an->cand[i]);
        if (rc < 0)
            return rc;
        if (rc)
            an->fired[an->nfired++] = an->cand[i];
    }
    return 0;
}

/* ---------------------------------------------------------------- fusion */

static int is_tone(const struct ear_rule *r)
{
    return r->category[0] == 't' && strcmp(r->category, "tone") == 0;
}

static int is_critical_cat(const char *c)
{
    return strcmp(c, "safety") == 0 || strcmp(c, "legal") == 0;
}

static void fuse(struct ear_analyzer *an)
{
    const struct ear_langset *set = &an->set[an->lang];
    double r = an->rating, radj = 0;
    float cw = 0, tw = 0;
    enum ear_severity sev = EAR_SEV_NONE;
    int critical = 0, unit_ok = 0;
    size_t i;

    for (i = 0; i < an->nfired; i++) {
        const struct ear_rule *ru = &an->rules[an->fired[i]];
        if (is_tone(ru)) {
            tw += ru->weight;
        } else if (ru->asked && !is_critical_cat(ru->category) &&
                   ru->severity != EAR_SEV_CRITICAL) {
            /* a complaint's words inside a question that asks ("Any
             * delays on flight 12?"): some weight, no complaint */
            tw += ru->weight * 0.5f;
        } else {
            cw += ru->weight;
            unit_ok |= ru->unit_ok;
            if (is_critical_cat(ru->category) ||
                ru->severity == EAR_SEV_CRITICAL)
                critical = 1;
        }
    }
    if (r >= 1) {
        if (r <= 1.5)
            radj = 3;
        else if (r <= 2.5)
            radj = 2;
        else if (r >= 4.5)
            radj = -3;
        else if (r >= 3.5)
            radj = -2;
        if (radj > 0 && cw == 0 && an->lex + tw <= -2)
            radj = 0; /* low rating, clearly positive text */
    }
    an->rulew = cw + tw;
    an->score = (float)(an->lex + tw + cw + radj);
    /* a complaint rule counts unless praise outweighs it, both in the
     * whole text and where it fired ("Five stars for the product, but
     * delivery took three weeks" is still a delivery complaint) */
    an->complaint = cw > 0 && (cw + an->lex + tw > 0 || unit_ok);
    an->flag = an->complaint || critical ||
               an->score >= set->threshold;
    if (!an->flag) {
        an->severity = EAR_SEV_NONE;
        return;
    }
    if (an->complaint || critical) {
        for (i = 0; i < an->nfired; i++) {
            const struct ear_rule *ru = &an->rules[an->fired[i]];
            if (ru->weight > 0 && ru->severity > sev)
                sev = ru->severity;
            if (!is_tone(ru) && is_critical_cat(ru->category))
                sev = EAR_SEV_CRITICAL;
        }
    } else {
        sev = an->score < 3 ? EAR_SEV_LOW
            : an->score < 6 ? EAR_SEV_MEDIUM : EAR_SEV_HIGH;
        for (i = 0; i < an->nfired; i++) {
            const struct ear_rule *ru = &an->rules[an->fired[i]];
            if (ru->weight > 0 && ru->severity > sev)
                sev = ru->severity;
        }
        if (an->intensity && sev < EAR_SEV_HIGH)
            sev = (enum ear_severity)(sev + 1);
    }
    if (r >= 3.5 && sev < EAR_SEV_CRITICAL)
        sev = EAR_SEV_LOW;
    an->severity = sev;
}

int ear_an__run(struct ear_analyzer *an, const char *text, size_t len,
                int lang, double rating)
{
    size_t i;
    int rc;

    if (++an->gen == 0) {
        for (i = 0; i < an->nrules; i++)
            an->rules[i].gen = 0;
        for (i = 0; i < an->nnodes; i++)
            an->nodes[i].gen = 0;
        an->gen = 1;
    }
    an->nhits = an->ncand = an->nfired = an->nspans = 0;
    an->rating = rating;
    rc = ear_text__prep(&an->txt, text, len, 0);
    if (rc < 0)
        return rc;
    an->lang = lang ? lang : ear_text__detect(&an->txt, &an->stop);
    rc = lookup(an);
    if (rc == 0)
        rc = segment(an);
    if (rc == 0)
        rc = lexscore(an);
    if (rc == 0)
        rc = run_rules(an);
    if (rc < 0)
        return rc;
    fuse(an);
    return 0;
}

/* ---------------------------------------------------------------- verdict */

struct catinfo {
    const char *cat;
    enum ear_severity sev;
    float w;
    size_t first;
};

static int cmp_cat(const void *a, const void *b)
{
    const struct catinfo *x = a, *y = b;
    int cx = is_critical_cat(x->cat), cy = is_critical_cat(y->cat);

    if (cx != cy)
        return cy - cx;
    if (x->sev != y->sev)
        return (int)y->sev - (int)x->sev;
    if (x->w != y->w)
        return x->w < y->w ? 1 : -1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int add_quoted_words(struct ear_buf *b, struct ear_analyzer *an,
                            int positive, size_t max)
{
    const struct ear_text *x = &an->txt;
    size_t i, n = 0;
    int rc = 0;

    for (i = 0; i < an->nspans && n < max && rc == 0; i++) {
        const struct ear_fspan *s = &an->spans[i];
        size_t os, oe;
        if (s->rule != EAR_NONE || (positive ? s->weight >= 0
                                             : s->weight <= 0))
            continue;
        os = x->map[s->fs];
        oe = x->map[s->fe];
        rc = ear_buf_adds(b, n ? ", '" : "'");
        if (rc == 0)
            rc = ear_buf_addn(b, x->src + os, oe - os);
        if (rc == 0)
            rc = ear_buf_addc(b, '\'');
        n++;
    }
    return rc;
}

static int explain(struct ear_analyzer *an, struct ear_verdict *v)
{
    struct ear_buf b;
    size_t i, n, nrules = 0;
    const char *tail = "";
    int rc = 0;

    ear_buf_init(&b, 4096);
    for (i = 0; i < an->nfired; i++)
        nrules += an->rules[an->fired[i]].weight > 0;
    if (v->flag) {
        if (v->ncategories) {
            for (i = 0; i < v->ncategories && rc == 0; i++) {
                rc = ear_buf_adds(&b, i ? "/" : "");
                if (rc == 0)
                    rc = ear_buf_adds(&b, v->categories[i]);
            }
            if (rc == 0)
                rc = ear_buf_adds(&b, " complaint, ");
            tail = ": rules ";
        } else if (nrules) {
            rc = ear_buf_adds(&b, "negative tone, ");
            tail = ": rules ";
        } else if (an->lexneg > 0) {
            rc = ear_buf_adds(&b, "negative tone, ");
            tail = ": words ";
        } else {
            rc = ear_buf_adds(&b, "negative rating, ");
        }
        if (rc == 0)
            rc = ear_buf_adds(&b, ear_severity_name(v->severity));
        if (rc == 0)
            rc = ear_buf_adds(&b, tail);
        for (i = 0, n = 0; i < an->nfired && rc == 0; i++) {
            const struct ear_rule *r = &an->rules[an->fired[i]];
            if (r->weight <= 0)
                continue;
            rc = ear_buf_adds(&b, n++ ? ", " : "");
            if (rc == 0)
                rc = ear_buf_adds(&b, r->id);
        }
        if (rc == 0 && an->lexneg > 0) {
            rc = ear_buf_adds(&b, nrules ? "; words " : "");
            if (rc == 0)
                rc = add_quoted_words(&b, an, 0, 4);
        }
    } else {
        rc = ear_buf_adds(&b, "no complaint: ");
        if (rc == 0 && an->rulew > 0 && an->lexpos > 0) {
            rc = ear_buf_adds(&b, "outweighed by positive words ");
            if (rc == 0)
                rc = add_quoted_words(&b, an, 1, 4);
        } else if (rc == 0 && an->lex < 0) {
            rc = ear_buf_adds(&b, "positive tone, words ");
            if (rc == 0)
                rc = add_quoted_words(&b, an, 1, 4);
        } else if (rc == 0 && an->rating >= 3.5) {
            rc = ear_buf_addf(&b, "rating %g\xe2\x98\x85", an->rating);
        } else if (rc == 0 && (an->lexneg > 0 || an->rulew != 0)) {
            rc = ear_buf_addf(&b, "signals too weak (score %.2f, needs "
                              "%.2f)", (double)an->score,
                              (double)an->set[an->lang].threshold);
        } else if (rc == 0) {
            rc = ear_buf_adds(&b, "no negative signals");
        }
    }
    if (rc == 0 && an->rating >= 1)
        rc = ear_buf_addf(&b, "; rating %g\xe2\x98\x85", an->rating);
    if (rc < 0)
        return rc;
    v->explain = ear_buf_take(&b, NULL);
    return v->explain ? 0 : EAR_ENOMEM;
}

/* Which pass of the verdict's matches span i goes into: 0 (rule spans of
 * rules that fired), 1 (negative lexicon words), or 2 (none: the wrong
 * sign, a rule that did not fire, or not the first of its kind). */
static uint8_t span_pass(const struct ear_analyzer *an, size_t i)
{
    const struct ear_fspan *s = &an->spans[i];
    size_t j;

    if (s->rule == EAR_NONE && s->weight <= 0)
        return 2;
    if (s->rule != EAR_NONE && !ear_an__rule_fired(an, s->rule))
        return 2;
    for (j = 0; j < i; j++) {
        if (an->spans[j].rule == s->rule && an->spans[j].fs == s->fs &&
            an->spans[j].fe == s->fe)
            return 2;
    }
    return s->rule != EAR_NONE ? 0 : 1;
}

/* ear_verdict_add_match() into the array allocated for all of them; a
 * borrowed verdict's strings are the rules' own and its text goes to the
 * arena at *at, which was sized for every match. */
static int put_match(struct ear_analyzer *an, struct ear_verdict *v,
                     int borrowed, size_t *at, const char *rule,
                     const char *category, const char *field,
                     const char *base, size_t start, size_t end,
                     double weight)
{
    struct ear_match *m = &v->matches[v->nmatches++];
    size_t len = end > start ? end - start : 0;

    m->start = start;
    m->end = end;
    m->weight = weight;
    if (borrowed) {
        /* never freed: ear_analyzer_check_borrowed() says so */
        m->rule = (char *)rule;
        m->category = (char *)category;
        m->field = (char *)field;
        m->text = an->barena + *at;
        memcpy(m->text, base + start, len);
        m->text[len] = '\0';
        *at += len + 1;
        return 0;
    }
    m->rule = ear_strdup(rule);
    m->category = ear_strdup(category);
    m->field = ear_strdup(field);
    m->text = ear_strndup(base + start, len);
    if (!m->rule || (category && !m->category) || !m->field || !m->text)
        return EAR_ENOMEM;
    return 0;
}

static int add_category(struct ear_analyzer *an, struct ear_verdict *v,
                        int borrowed, const char *cat)
{
    if (!borrowed)
        return ear_verdict_add_category(v, cat);
    if (GROW(an->bcats, v->ncategories, an->bcatcap, v->ncategories + 1))
        return EAR_ENOMEM;
    v->categories = an->bcats;
    v->categories[v->ncategories++] = (char *)cat;
    return 0;
}

int ear_an__verdict(struct ear_analyzer *an, const char *field_split_name,
                    size_t split, struct ear_verdict *v, int borrowed)
{
    const struct ear_text *x = &an->txt;
    struct catinfo cats[16];
    size_t ncats = 0, i, j, k, n, bytes = 0, at = 0;
    const struct ear_rule *teamr = NULL;
    int rc;

    if (borrowed)
        free(v->explain);
    ear_verdict_init(v);
    v->flag = an->flag;
    v->score = round((double)an->score * 100) / 100;
    v->severity = an->severity;
    memcpy(v->lang, an->lang == EAR_LANG_HU ? "hu" : "en", 3);
    if (an->flag) {
        for (i = 0; i < an->nfired; i++) {
            const struct ear_rule *r = &an->rules[an->fired[i]];
            if (is_tone(r))
                continue;
            if (!teamr || r->severity > teamr->severity ||
                (!teamr->team && r->team && r->severity == teamr->severity))
                teamr = r;
            for (j = 0; j < ncats; j++)
                if (strcmp(cats[j].cat, r->category) == 0)
                    break;
            if (j == ncats) {
                if (ncats == 16)
                    continue;
                cats[ncats].cat = r->category;
                cats[ncats].sev = r->severity;
                cats[ncats].w = 0;
                cats[ncats].first = i;
                ncats++;
            }
            if (r->severity > cats[j].sev)
                cats[j].sev = r->severity;
            cats[j].w += r->weight;
        }
        if (ncats > 1)
            qsort(cats, ncats, sizeof *cats, cmp_cat);
        for (j = 0; j < ncats; j++) {
            rc = add_category(an, v, borrowed, cats[j].cat);
            if (rc < 0)
                return rc;
        }
        if (teamr && teamr->team && borrowed) {
            v->team = (char *)teamr->team;
        } else if (teamr && teamr->team) {
            v->team = ear_strdup(teamr->team);
            if (!v->team)
                return EAR_ENOMEM;
        }
    }
    /* evidence: rule spans, then negative lexicon words; counted first
     * so the array (and a borrowed verdict's texts) is allocated once */
    if (GROW(an->swant, 0, an->swantcap, an->nspans))
        return EAR_ENOMEM;
    for (n = 0, i = 0; i < an->nspans; i++) {
        an->swant[i] = span_pass(an, i);
        if (an->swant[i] == 2)
            continue;
        n++;
        bytes += x->map[an->spans[i].fe] - x->map[an->spans[i].fs] + 1;
    }
    if (n && borrowed) {
        if (GROW(an->bmatches, 0, an->bmatchcap, n) ||
            GROW(an->barena, 0, an->barenacap, bytes))
            return EAR_ENOMEM;
        v->matches = an->bmatches;
    } else if (n) {
        v->matches = calloc(n, sizeof *v->matches);
        if (!v->matches)
            return EAR_ENOMEM;
    }
    for (k = 0; k < 2; k++) {
        for (i = 0; i < an->nspans; i++) {
            const struct ear_fspan *s = &an->spans[i];
            const struct ear_rule *r = s->rule == EAR_NONE ? NULL
                                     : &an->rules[s->rule];
            size_t os = x->map[s->fs], oe = x->map[s->fe];
            const char *field = "text";
            size_t base = 0;
            if (an->swant[i] != k)
                continue;
            while (oe > os && (x->src[oe - 1] == ' ' ||
                               x->src[oe - 1] == '\n'))
                oe--;
            if (field_split_name) {
                if (os < split) {
                    field = field_split_name;
                    if (oe > split)
                        oe = split - 1;
                } else {
                    base = split;
                }
            }
            rc = put_match(an, v, borrowed, &at, r ? r->id : "lexicon",
                           r && !is_tone(r) ? r->category : NULL, field,
                           x->src + base, os - base, oe - base,
                           r ? (double)r->weight : (double)s->weight);
            if (rc < 0)
                return rc;
        }
    }
    return an->no_explain ? 0 : explain(an, v);
}

/* ---------------------------------------------------------------- API */

void ear_analyzer_set_explain(struct ear_analyzer *an, int on)
{
    an->no_explain = !on;
}

static int parse_lang(const char *lang, int *out, struct ear_error *err)
{
    if (!lang || !*lang || strcmp(lang, "auto") == 0)
        *out = 0;
    else if (strcmp(lang, "hu") == 0)
        *out = EAR_LANG_HU;
    else if (strcmp(lang, "en") == 0)
        *out = EAR_LANG_EN;
    else
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "unknown language '%s' (hu, en or auto)", lang);
    return 0;
}

int ear_analyzer_check(struct ear_analyzer *an, const char *text, size_t len,
                       const char *lang, double rating,
                       struct ear_verdict *out, struct ear_error *err)
{
    int l, rc;

    ear_verdict_init(out);
    rc = parse_lang(lang, &l, err);
    if (rc < 0)
        return rc;
    if (rating < 0 || rating > 5 || (rating > 0 && rating < 1) ||
        isnan(rating))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "rating %g is not 1..5 (or 0 for none)", rating);
    rc = ear_an__run(an, text ? text : "", text ? len : 0, l, rating);
    if (rc == 0) {
        ear_verdict_dispose(out);
        rc = ear_an__verdict(an, NULL, 0, out, 0);
    }
    if (rc < 0)
        return ear_error_set(err, rc, NULL, 0, 0, "%s", ear_strerror(rc));
    return 0;
}

int ear_analyzer_check_borrowed(struct ear_analyzer *an, const char *text,
                                size_t len, const char *lang, double rating,
                                const struct ear_verdict **out,
                                struct ear_error *err)
{
    int l, rc;

    *out = NULL;
    rc = parse_lang(lang, &l, err);
    if (rc < 0)
        return rc;
    if (rating < 0 || rating > 5 || (rating > 0 && rating < 1) ||
        isnan(rating))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "rating %g is not 1..5 (or 0 for none)", rating);
    rc = ear_an__run(an, text ? text : "", text ? len : 0, l, rating);
    if (rc == 0)
        rc = ear_an__verdict(an, NULL, 0, &an->bv, 1);
    if (rc < 0)
        return ear_error_set(err, rc, NULL, 0, 0, "%s", ear_strerror(rc));
    *out = &an->bv;
    return 0;
}

/* "Re: ...", "Válasz: ...", "AW: ...": a reply repeats its thread's title,
 * which says nothing about the reply itself. */
static int quoted_title(const char *t)
{
    static const char *const pre[] = {"re:", "re :", "aw:", "sv:", "vs:",
                                      "fw:", "fwd:", "válasz:", "valasz:",
                                      NULL};
    size_t i;

    while (*t == ' ' || *t == '[')
        t++;
    for (i = 0; pre[i]; i++)
        if (strncasecmp(t, pre[i], strlen(pre[i])) == 0)
            return 1;
    return 0;
}

int ear_analyzer_mention(struct ear_analyzer *an, const struct ear_mention *m,
                         const char *source_brand, struct ear_verdict *out,
                         struct ear_error *err)
{
    const char *brand;
    size_t split = 0;
    double rating = m->rating;
    int l = 0, rc;

    ear_verdict_init(out);
    if (m->lang[0]) {
        rc = parse_lang(m->lang, &l, err);
        if (rc < 0)
            return rc;
    }
    if (rating < 1 || rating > 5 || isnan(rating))
        rating = 0;
    ear_buf_reset(&an->scratch);
    rc = 0;
    if (m->title && *m->title && !quoted_title(m->title)) {
        rc = ear_buf_adds(&an->scratch, m->title);
        if (rc == 0)
            rc = ear_buf_addc(&an->scratch, '\n');
        split = an->scratch.len;
    }
    if (rc == 0 && m->text)
        rc = ear_buf_adds(&an->scratch, m->text);
    if (rc == 0)
        rc = ear_an__run(an, ear_buf_str(&an->scratch), an->scratch.len, l,
                         rating);
    if (rc == 0) {
        ear_verdict_dispose(out);
        rc = ear_an__verdict(an, split ? "title" : NULL, split, out, 0);
    }
    if (rc == 0) {
        brand = source_brand ? source_brand
                             : ear_analyzer_brand_of(an, m->title, m->text,
                                                     m->author, m->url);
        if (brand) {
            out->brand = ear_strdup(brand);
            if (!out->brand)
                rc = EAR_ENOMEM;
        }
    }
    if (rc < 0)
        return ear_error_set(err, rc, m->source, 0, 0, "%s",
                             ear_strerror(rc));
    return 0;
}

const char *ear_analyzer_detect_lang(struct ear_analyzer *an,
                                     const char *text, size_t len)
{
    if (ear_text__prep(&an->tmp, text, len, 0) < 0)
        return "en";
    return ear_text__detect(&an->tmp, &an->stop) == EAR_LANG_HU ? "hu" : "en";
}

int ear_analyzer_words(struct ear_analyzer *an, const char *text, size_t len,
                       const char *lang, ear_word_cb cb, void *payload,
                       struct ear_error *err)
{
    struct ear_text *x = &an->tmp;
    size_t i;
    int l, rc = parse_lang(lang, &l, err);

    if (rc < 0)
        return rc;
    rc = ear_text__prep(x, text, len, 0);
    if (rc < 0)
        return ear_error_set(err, rc, NULL, 0, 0, "%s", ear_strerror(rc));
    if (!l)
        l = ear_text__detect(x, &an->stop);
    for (i = 0; i < x->ntok; i++) {
        const struct ear_tok *k = &x->tok[i];
        size_t n = k->fe - k->fs;
        if (!(k->flags & (EAR_TF_LETTER | EAR_TF_EMOJI | EAR_TF_EMOTICON)) ||
            (k->flags & (EAR_TF_URL | EAR_TF_HANDLE)))
            continue;
        cb(x->f + k->fs, n, (ear_text__is_stop(&an->stop, x->f + k->fs, n) & l) != 0,
           payload);
    }
    return 0;
}

int ear_analyzer_fold(char **out, size_t *flen, size_t **map,
                      const char *text, size_t len)
{
    struct ear_text t;
    size_t i;
    int rc;

    memset(&t, 0, sizeof t);
    *out = NULL;
    if (map)
        *map = NULL;
    rc = ear_text__prep(&t, text, len, 0);
    if (rc < 0)
        goto out;
    *out = ear_strndup(t.f, t.flen);
    if (!*out) {
        rc = EAR_ENOMEM;
        goto out;
    }
    if (flen)
        *flen = t.flen;
    if (map) {
        *map = malloc((t.flen + 1) * sizeof **map);
        if (!*map) {
            free(*out);
            *out = NULL;
            rc = EAR_ENOMEM;
            goto out;
        }
        for (i = 0; i <= t.flen; i++)
            (*map)[i] = t.map[i];
    }
out:
    ear_text__dispose(&t);
    return rc;
}
