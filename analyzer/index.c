/*
 * The word index: every term of every rule and lexicon entry is keyed on
 * its first word, so one pass over a text's tokens finds every term that
 * can occur in it (the prefilter) and rules without a hit are never looked
 * at. A first word without '*' goes into the exact table, "abc*" (or
 * "abc*x") under its literal prefix into the prefix table, "*abc" under its
 * suffix into the suffix table, and the rare "*abc*" into a short list that
 * is globbed per token. Tables are open-addressing hash tables of FNV-1a
 * hashes; the prefix probe reuses the running hash of the token, and a
 * length bitmask skips prefix lengths no key has.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/analyzer_int.h"

#define FNV_OFF 2166136261u
#define FNV_PRIME 16777619u

/* '*' matches any run of bytes (possibly empty). */
int ear_glob__match(const char *pat, size_t plen, const char *s, size_t n)
{
    size_t p = 0, i = 0, star_p = (size_t)-1, star_i = 0;

    while (i < n) {
        if (p < plen && pat[p] == '*') {
            star_p = p++;
            star_i = i;
        } else if (p < plen && pat[p] == s[i]) {
            p++;
            i++;
        } else if (star_p != (size_t)-1) {
            p = star_p + 1;
            i = ++star_i;
        } else {
            return 0;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

/* The slot of a pair of bytes in plen/slen (a token's first two, or its
 * last two, last first). Collisions only cost a probe. */
static unsigned pair(unsigned char a, unsigned char b)
{
    return ((unsigned)a << 6 ^ b) & (EAR_IX_PAIRS - 1);
}

struct ent {
    int kind;
    const char *key;
    uint32_t len;
    uint32_t hash;
    uint32_t term;
    uint8_t verify;
};

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    int r;

    if (x->kind != y->kind)
        return x->kind - y->kind;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    r = memcmp(x->key, y->key, x->len);
    if (r)
        return r;
    return x->term < y->term ? -1 : x->term > y->term;
}

static uint32_t hash_fwd(const char *s, size_t n)
{
    uint32_t h = FNV_OFF;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    return h;
}

static uint32_t hash_rev(const char *s, size_t n)
{
    uint32_t h = FNV_OFF;
    size_t i;

    for (i = n; i > 0; i--)
        h = (h ^ (unsigned char)s[i - 1]) * FNV_PRIME;
    return h;
}

static void tab_insert(struct ear_itab *t, const struct ent *e,
                       uint32_t first, uint32_t n)
{
    size_t i = e->hash & t->mask;

    while (t->slots[i].key)
        i = (i + 1) & t->mask;
    t->slots[i].hash = e->hash;
    t->slots[i].len = e->len;
    t->slots[i].key = e->key;
    t->slots[i].first = first;
    t->slots[i].n = n;
    t->lenmask |= (uint64_t)1 << (e->len < 63 ? e->len : 63);
    t->bloom[(e->hash % EAR_BLOOM_BITS) >> 3] |=
        (uint8_t)(1u << (e->hash % EAR_BLOOM_BITS & 7));
}

int ear_index__build(struct ear_index *ix, const struct ear_term *terms,
                     size_t nterms, int langmask)
{
    struct ent *ents = NULL;
    size_t ne = 0, i, j, nkeys[EAR_IK_NKINDS] = {0, 0, 0}, ncont = 0;
    int rc = 0, k;

    memset(ix, 0, sizeof *ix);
    ents = calloc(nterms ? nterms : 1, sizeof *ents);
    ix->contains = calloc(nterms ? nterms : 1, sizeof *ix->contains);
    if (!ents || !ix->contains) {
        rc = EAR_ENOMEM;
        goto out;
    }
    for (i = 0; i < nterms; i++) {
        const struct ear_wpat *w = &terms[i].words[terms[i].anchor];
        const char *star = memchr(w->text, '*', w->len);
        struct ent *e = &ents[ne];

        if (!(terms[i].langmask & langmask))
            continue;
        e->term = (uint32_t)i;
        e->verify = 0;
        if (!star) {
            e->kind = EAR_IK_EXACT;
            e->key = w->text;
            e->len = w->len;
        } else if (star != w->text) {
            e->kind = EAR_IK_PREFIX;
            e->key = w->text;
            e->len = (uint32_t)(star - w->text);
            e->verify = star != w->text + w->len - 1;
        } else {
            const char *last = w->text + w->len - 1;
            size_t sl = 0;
            while (sl < w->len && w->text[w->len - 1 - sl] != '*')
                sl++;
            if (*last == '*' || sl == 0) {
                ix->contains[ncont++] = (uint32_t)i;
                continue;
            }
            e->kind = EAR_IK_SUFFIX;
            e->key = w->text + w->len - sl;
            e->len = (uint32_t)sl;
            e->verify = 1;
        }
        e->hash = e->kind == EAR_IK_SUFFIX ? hash_rev(e->key, e->len)
                                           : hash_fwd(e->key, e->len);
        ne++;
    }
    ix->ncontains = ncont;
    qsort(ents, ne, sizeof *ents, cmp_ent);
    for (i = 0; i < ne; i = j) {
        for (j = i + 1; j < ne && ents[j].kind == ents[i].kind &&
             ents[j].len == ents[i].len &&
             memcmp(ents[j].key, ents[i].key, ents[i].len) == 0; j++)
            ;
        nkeys[ents[i].kind]++;
    }
    for (k = 0; k < EAR_IK_NKINDS; k++) {
        size_t cap = 16;
        while (cap < nkeys[k] * 2 + 2)
            cap *= 2;
        ix->tab[k].slots = calloc(cap, sizeof *ix->tab[k].slots);
        ix->tab[k].bloom = calloc(EAR_BLOOM_BITS / 8, 1);
        if (!ix->tab[k].slots || !ix->tab[k].bloom) {
            rc = EAR_ENOMEM;
            goto out;
        }
        ix->tab[k].mask = cap - 1;
    }
    ix->plen = calloc(EAR_IX_PAIRS, sizeof *ix->plen);
    ix->slen = calloc(EAR_IX_PAIRS, sizeof *ix->slen);
    ix->post = calloc(ne ? ne : 1, sizeof *ix->post);
    if (!ix->plen || !ix->slen || !ix->post) {
        rc = EAR_ENOMEM;
        goto out;
    }
    ix->npost = ne;
    for (i = 0; i < ne; i++) {
        const unsigned char *key = (const unsigned char *)ents[i].key;
        uint32_t len = ents[i].len;
        uint64_t bit = (uint64_t)1 << (len < 63 ? len : 63);

        ix->post[i].term = ents[i].term;
        ix->post[i].verify = ents[i].verify;
        if (ents[i].kind == EAR_IK_PREFIX && len == 1)
            ix->pre1[key[0] >> 3] |= (uint8_t)(1u << (key[0] & 7));
        else if (ents[i].kind == EAR_IK_PREFIX)
            ix->plen[pair(key[0], key[1])] |= bit;
        else if (ents[i].kind == EAR_IK_SUFFIX && len == 1)
            ix->suf1[key[0] >> 3] |= (uint8_t)(1u << (key[0] & 7));
        else if (ents[i].kind == EAR_IK_SUFFIX)
            ix->slen[pair(key[len - 1], key[len - 2])] |= bit;
    }
    for (i = 0; i < ne; i = j) {
        for (j = i + 1; j < ne && ents[j].kind == ents[i].kind &&
             ents[j].len == ents[i].len &&
             memcmp(ents[j].key, ents[i].key, ents[i].len) == 0; j++)
            ;
        tab_insert(&ix->tab[ents[i].kind], &ents[i], (uint32_t)i,
                   (uint32_t)(j - i));
    }
out:
    free(ents);
    if (rc < 0)
        ear_index__dispose(ix);
    return rc;
}

void ear_index__dispose(struct ear_index *ix)
{
    int k;

    for (k = 0; k < EAR_IK_NKINDS; k++) {
        free(ix->tab[k].slots);
        free(ix->tab[k].bloom);
    }
    free(ix->post);
    free(ix->plen);
    free(ix->slen);
    free(ix->contains);
    memset(ix, 0, sizeof *ix);
}

static const struct ear_islot *tab_find(const struct ear_itab *t, uint32_t h,
                                        const char *key, size_t len)
{
    size_t i = h & t->mask;

    if (!((t->bloom[(h % EAR_BLOOM_BITS) >> 3] >> (h % EAR_BLOOM_BITS & 7)) &
          1))
        return NULL;
    for (;;) {
        const struct ear_islot *s = &t->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
            return s;
        i = (i + 1) & t->mask;
    }
}

size_t ear_index__probe(const struct ear_index *ix, const char *w, size_t n,
                        struct ear_prange *out, size_t cap)
{
    const unsigned char *u = (const unsigned char *)w;
    const struct ear_itab *pt = &ix->tab[EAR_IK_PREFIX];
    const struct ear_itab *st = &ix->tab[EAR_IK_SUFFIX];
    const struct ear_islot *s;
    uint32_t h = FNV_OFF;
    uint64_t m;
    size_t p, no = 0;

    if (!n)
        return 0;
    /* prefix keys: only the lengths some key starting with these two
     * bytes has; the running hash is the exact key's hash at the end */
    m = n > 1 ? ix->plen[pair(u[0], u[1])] : 0;
    if ((ix->pre1[u[0] >> 3] >> (u[0] & 7)) & 1)
        m |= 2;
    for (p = 1; p <= n; p++) {
        h = (h ^ u[p - 1]) * FNV_PRIME;
        if (!((m >> (p < 63 ? p : 63)) & 1) || no == cap)
            continue;
        s = tab_find(pt, h, w, p);
        if (s) {
            out[no].first = s->first;
            out[no++].n = s->n;
        }
    }
    s = no < cap ? tab_find(&ix->tab[EAR_IK_EXACT], h, w, n) : NULL;
    if (s) {
        out[no].first = s->first;
        out[no++].n = s->n;
    }
    if (!st->lenmask)
        return no;
    m = n > 1 ? ix->slen[pair(u[n - 1], u[n - 2])] : 0;
    if ((ix->suf1[u[n - 1] >> 3] >> (u[n - 1] & 7)) & 1)
        m |= 2;
    h = FNV_OFF;
    for (p = 1; p <= n && m >> (p < 63 ? p : 63) && no < cap; p++) {
        h = (h ^ u[n - p]) * FNV_PRIME;
        if (!((m >> (p < 63 ? p : 63)) & 1))
            continue;
        s = tab_find(st, h, w + n - p, p);
        if (s) {
            out[no].first = s->first;
            out[no++].n = s->n;
        }
    }
    return no;
}
