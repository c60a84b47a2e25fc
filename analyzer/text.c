/*
 * Text preparation: one pass over the UTF-8 input that writes the folded
 * shadow (lowercase, accents removed, typographic punctuation made ASCII,
 * apostrophes inside words dropped so "doesn't" and "doesnt" meet), a byte
 * map from every folded byte back to the original, and the tokens: words,
 * numbers, #hashtags (the word without '#'), @handles (with '@'), URLs,
 * emoji and emoticons, each with the sentence or clause break before it
 * and the '!' / '?' that follow it.
 *
 * Term patterns go through the same function (pattern = 1, where '*' is a
 * letter), so a rule's words and a text's words are cut the same way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/analyzer_int.h"

/* U+00C0..U+017F: lowercase ASCII base letters ("" = not a letter). */
static const char fold_latin[192][3] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
    "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "",
    "o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a",
    "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u",
    "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c",
    "c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e",
    "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i",
    "i", "i", "i", "i", "i", "i", "ij", "ij", "j", "j", "k", "k",
    "k", "l", "l", "l", "l", "l", "l", "l", "l", "l", "l", "n",
    "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s",
    "s", "s", "s", "s", "s", "s", "t", "t", "t", "t", "t", "t",
    "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
    "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
};
/* Bit i set: U+00C0+i is an uppercase letter. */
static const uint32_t fold_latin_upper[6] = {
    0x7f7fffffu, 0x00000000u, 0x55555555u, 0xaa555555u, 0x555554aau,
    0x2b555555u
};

enum cls { C_SPACE, C_LETTER, C_DIGIT, C_APOS, C_PUNCT, C_EMOJI,
           C_SKIP, C_SYMBOL };

/* The class of every ASCII byte (classify() for c < 0x80). */
#define S C_SPACE
#define L C_LETTER
#define D C_DIGIT
#define A C_APOS
#define P C_PUNCT
static const unsigned char ascii_cls[128] = {
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
    S, P, P, P, P, P, P, A, P, P, P, P, P, P, P, P,
    D, D, D, D, D, D, D, D, D, D, P, P, P, P, P, P,
    P, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, P, P, P, P, P,
    A, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, P, P, P, P, S,
};
#undef S
#undef L
#undef D
#undef A
#undef P

/* The folded form of an ASCII byte of class k: lowercase; control
 * characters other than white space become a space. */
static char ascii_fold(uint32_t c, enum cls k)
{
    if (c - 'A' < 26u)
        return (char)(c + 32);
    if (k == C_SPACE && c != ' ' && (c < '\t' || c > '\r'))
        return ' ';
    return (char)c;
}

/* Decodes one code point at s (n bytes left); invalid input yields
 * U+FFFD and consumes one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *adv)
{
    uint32_t c = s[0];
    size_t need, i;
    uint32_t min;

    if (c < 0x80) {
        *adv = 1;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        need = 2; c &= 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 3; c &= 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 4; c &= 0x07; min = 0x10000;
    } else {
        *adv = 1;
        return 0xFFFD;
    }
    if (need > n) {
        *adv = 1;
        return 0xFFFD;
    }
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *adv = 1;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *adv = 1;
        return 0xFFFD;
    }
    *adv = need;
    return c;
}

static size_t utf8_put(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static int is_emoji(uint32_t c)
{
    return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) ||
           (c >= 0x2B00 && c <= 0x2BFF) || (c >= 0x2300 && c <= 0x23FF) ||
           c == 0x203C || c == 0x2049 || c == 0x3030 || c == 0x00A9 ||
           c == 0x00AE;
}

/* Folds c: writes the folded form into o (up to 4 bytes) and returns its
 * class; *upper says whether c was an uppercase letter. */
static enum cls classify(uint32_t c, char *o, size_t *on, int *upper,
                         int *accent)
{
    *upper = 0;
    *accent = 0;
    if (c < 0x80) {
        enum cls k = (enum cls)ascii_cls[c];
        o[0] = ascii_fold(c, k);
        *on = 1;
        *upper = c - 'A' < 26u;
        return k;
    }
    if (c >= 0xC0 && c < 0x180 && fold_latin[c - 0xC0][0]) {
        const char *b = fold_latin[c - 0xC0];
        size_t i = c - 0xC0;
        o[0] = b[0];
        *on = 1;
        if (b[1]) {
            o[1] = b[1];
            *on = 2;
        }
        *upper = (fold_latin_upper[i / 32] >> (i % 32)) & 1;
        *accent = 1;
        return C_LETTER;
    }
    switch (c) {
    case 0xA0: case 0x2000: case 0x2001: case 0x2002: case 0x2003:
    case 0x2004: case 0x2005: case 0x2006: case 0x2007: case 0x2008:
    case 0x2009: case 0x200A: case 0x202F: case 0x205F: case 0x3000:
    case 0x2028: case 0x2029: case 0x85:
        o[0] = c == 0x2028 || c == 0x2029 || c == 0x85 ? '\n' : ' ';
        *on = 1;
        return C_SPACE;
    case 0x2018: case 0x2019: case 0x201B: case 0x2032: case 0xB4:
        o[0] = '\'';
        *on = 1;
        return C_APOS;
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0xAB:
    case 0xBB: case 0x2033:
        o[0] = '"';
        *on = 1;
        return C_PUNCT;
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
    case 0x2015: case 0x2212:
        o[0] = '-';
        *on = 1;
        return C_PUNCT;
    case 0x2026:
        memcpy(o, "...", 3);
        *on = 3;
        return C_PUNCT;
    case 0xFE0F: case 0xFE0E: case 0x200D: case 0x200B: case 0x200C:
    case 0xFEFF: case 0x2060:
        *on = 0;
        return C_SKIP;
    default:
        break;
    }
    if (c >= 0x1F3FB && c <= 0x1F3FF) { /* skin tones */
        *on = 0;
        return C_SKIP;
    }
    if (is_emoji(c)) {
        *on = utf8_put(o, c);
        return C_EMOJI;
    }
    /* Greek and Cyrillic capitals: simple case offsets. */
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) {
        *upper = 1;
        c += 0x20;
    } else if (c >= 0x410 && c <= 0x42F) {
        *upper = 1;
        c += 0x20;
    } else if (c >= 0x400 && c <= 0x40F) {
        *upper = 1;
        c += 0x50;
    }
    *on = utf8_put(o, c);
    if ((c >= 0x180 && c < 0x2000) || (c >= 0x3040 && c <= 0x9FFF) ||
        (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xC0 && c < 0x180 &&
                                         c != 0xD7 && c != 0xF7))
        return C_LETTER;
    if (c >= 0x300 && c <= 0x36F) /* combining marks: part of the word */
        return C_LETTER;
    return C_SYMBOL;
}

/* Emoticons: written form -> canonical folded form. Longest first. */
static const struct { const char *in, *out; } emoticons[] = {
    {">:-(", ">:("}, {">:(", ">:("}, {":'-(", ":'("}, {":'(", ":'("},
    {":-((", ":("}, {":((", ":("}, {":-(", ":("}, {":(", ":("},
    {":-[", ":("}, {":[", ":("}, {"=(", ":("}, {":-/", ":/"},
    {":/", ":/"}, {":-\\", ":/"}, {":\\", ":/"}, {":-|", ":|"},
    {":|", ":|"}, {":-))", ":)"}, {":))", ":)"}, {":-)", ":)"},
    {":)", ":)"}, {"=)", ":)"}, {":-D", ":d"}, {":D", ":d"},
    {";-)", ";)"}, {";)", ";)"}, {":-P", ":p"}, {":P", ":p"},
    {":p", ":p"}, {"</3", "</3"}, {"<3", "<3"},
    {":@", ":@"}, {":-@", ":@"}, {":S", ":s"}, {":s", ":s"},
};

static int is_wordish(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80;
}

/* Length of the emoticon at s, with its canonical form, or 0. Every
 * emoticon starts with one of ":;=<>", which most punctuation is not. */
static size_t emoticon_at(const char *s, size_t n, size_t pos,
                          const char **canon)
{
    size_t i, k, w;
    char c = s[pos];

    if (c != ':' && c != ';' && c != '=' && c != '<' && c != '>')
        return 0;
    if (pos + 1 >= n)
        return 0; /* every emoticon has two characters or more */
    if (pos > 0 && (c == '<' || c == '=') &&
        is_wordish((unsigned char)s[pos - 1]))
        return 0;
    for (i = 0; i < sizeof emoticons / sizeof emoticons[0]; i++) {
        const char *in = emoticons[i].in;
        if (in[0] != c || in[1] != s[pos + 1])
            continue;
        w = strlen(in);
        if (w > n - pos || memcmp(s + pos, in, w) != 0)
            continue;
        /* repeated last char: ":(((" */
        k = w;
        while (pos + k < n && s[pos + k] == in[w - 1] && k < 16)
            k++;
        if (pos + k < n && is_wordish((unsigned char)s[pos + k]))
            return 0;
        *canon = emoticons[i].out;
        return k;
    }
    return 0;
}

/* s[pos..pos + k) equals the lowercase ASCII p, in any case. */
static inline int prefix_ci(const char *s, const char *p, size_t k)
{
    size_t i;

    for (i = 0; i < k; i++)
        if ((s[i] | 0x20) != p[i])
            return 0;
    return 1;
}

static size_t url_at(const char *s, size_t n, size_t pos)
{
    size_t e;

    if ((s[pos] | 0x20) == 'h') {
        if (!(n - pos >= 7 && prefix_ci(s + pos, "http", 4) &&
              (memcmp(s + pos + 4, "://", 3) == 0 ||
               (n - pos >= 8 && (s[pos + 4] | 0x20) == 's' &&
                memcmp(s + pos + 5, "://", 3) == 0))))
            return 0;
    } else if ((s[pos] | 0x20) == 'w') {
        if (!(n - pos >= 4 && prefix_ci(s + pos, "www", 3) &&
              s[pos + 3] == '.'))
            return 0;
    } else {
        return 0;
    }
    e = pos;
    while (e < n && s[e] != ' ' && s[e] != '\n' && s[e] != '\t' &&
           s[e] != '\r')
        e++;
    return e - pos;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
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

struct prep {
    struct ear_text *t;
    uint32_t open;     /* open token or EAR_NONE */
    uint32_t pend;     /* break flags for the next token */
    uint32_t nup, nlow;
};

static inline int tok_open(struct prep *p, uint32_t fs, uint32_t os,
                           uint32_t fl)
{
    struct ear_text *t = p->t;
    struct ear_tok *k;

    if (t->ntok == t->tokcap &&
        grow((void **)&t->tok, &t->tokcap, t->ntok + 1, sizeof *t->tok))
        return EAR_ENOMEM;
    k = &t->tok[t->ntok];
    k->fs = k->fe = fs;
    k->os = k->oe = os;
    k->flags = fl | p->pend;
    k->clause = 0;
    k->lex = EAR_NONE;
    k->bang = k->quest = 0;
    p->pend = 0;
    p->open = (uint32_t)t->ntok++;
    p->nup = p->nlow = 0;
    return 0;
}

static inline void tok_close(struct prep *p, uint32_t fe, uint32_t oe)
{
    struct ear_tok *k;

    if (p->open == EAR_NONE)
        return;
    k = &p->t->tok[p->open];
    k->fe = fe;
    k->oe = oe;
    if (p->nup >= 4 && p->nlow == 0)
        k->flags |= EAR_TF_CAPS;
    if (p->nlow)
        k->flags |= EAR_TF_LOWER;
    p->open = EAR_NONE;
}

static void mark_last(struct prep *p, int bang, int quest)
{
    struct ear_text *t = p->t;

    if (!t->ntok)
        return;
    if (bang && t->tok[t->ntok - 1].bang < 60000)
        t->tok[t->ntok - 1].bang++;
    if (quest && t->tok[t->ntok - 1].quest < 60000)
        t->tok[t->ntok - 1].quest++;
}

/* Compiled twice (ear_text__prep() below), so the text path does not
 * test for patterns at every character. */
static inline __attribute__((always_inline)) int
prep(struct ear_text *t, const char *src, size_t len, int pattern)
{
    const unsigned char *s = (const unsigned char *)src;
    struct prep p;
    size_t i = 0, adv, on, k, need;
    char o[8];
    int upper, accent, anylow = 0;
    enum cls c;
    uint32_t cp;

    if (len > UINT32_MAX / 4)
        return EAR_ETOOBIG;
    t->src = src;
    t->len = len;
    t->flen = 0;
    t->ntok = 0;
    t->all_caps = 0;
    t->accents = 0;
    /* A folded character is never longer than its UTF-8, except U+FFFD
     * (3 bytes) for an invalid byte; 8 bytes more let readers load whole
     * 64-bit words (lookup's word hash) */
    need = len * 3 + 16 + 8;
    if (need > t->fcap) {
        char *nf = realloc(t->f, need);
        uint32_t *nm;
        if (!nf)
            return EAR_ENOMEM;
        t->f = nf;
        nm = realloc(t->map, need * sizeof *nm);
        if (!nm)
            return EAR_ENOMEM;
        t->map = nm;
        t->fcap = need;
    }
    p.t = t;
    p.open = EAR_NONE;
    p.pend = EAR_TF_SENT | EAR_TF_CLAUSE;
    p.nup = p.nlow = 0;

#define EMIT(bytes, nbytes, orig) do { size_t e_; \
        for (e_ = 0; e_ < (nbytes); e_++) { \
            t->f[t->flen] = (bytes)[e_]; \
            t->map[t->flen++] = (uint32_t)(orig); } } while (0)

    while (i < len) {
        if (s[i] == ' ') { /* the most common separator, shortest path */
            tok_close(&p, (uint32_t)t->flen, (uint32_t)i);
            t->f[t->flen] = ' ';
            t->map[t->flen++] = (uint32_t)i;
            i++;
            continue;
        }
        if (s[i] < 0x80) { /* classify() inline for ASCII */
            cp = s[i];
            adv = 1;
            c = (enum cls)ascii_cls[cp];
            o[0] = ascii_fold(cp, c);
            on = 1;
            upper = cp - 'A' < 26u;
            accent = 0;
        } else {
            cp = utf8_next(s + i, len - i, &adv);
            c = classify(cp, o, &on, &upper, &accent);
        }
        if (pattern && cp == '*')
            c = C_LETTER;
        if (c == C_LETTER || c == C_DIGIT) {
            if (p.open == EAR_NONE) {
                size_t u = (cp | 0x20) == 'h' || (cp | 0x20) == 'w'
                           ? url_at(src, len, i) : 0;
                if (u) {
                    if (tok_open(&p, (uint32_t)t->flen, (uint32_t)i,
                                 EAR_TF_URL))
                        return EAR_ENOMEM;
                    for (k = 0; k < u; k++)
                        EMIT(src + i + k, 1, i + k);
                    i += u;
                    tok_close(&p, (uint32_t)t->flen, (uint32_t)i);
                    continue;
                }
                if (tok_open(&p, (uint32_t)t->flen, (uint32_t)i,
                             c == C_DIGIT ? EAR_TF_NUMBER : 0))
                    return EAR_ENOMEM;
            }
            /* an ASCII letter or digit starts the run below at once */
            if (cp >= 0x80 || cp == '*') {
                if (c == C_LETTER) {
                    struct ear_tok *tk = &t->tok[p.open];
                    if (cp != '*')
                        tk->flags = (tk->flags | EAR_TF_LETTER) &
                                    ~(uint32_t)EAR_TF_NUMBER;
                    if (upper)
                        p.nup++;
                    else if (cp != '*')
                        p.nlow++;
                    if (!upper && cp != '*' &&
                        !(tk->flags & EAR_TF_HANDLE))
                        anylow = 1;
                    t->accents += accent;
                }
                EMIT(o, on, i);
                i += adv;
            }
            if (c == C_LETTER || cp < 0x80) {
                /* the common case: a run of ASCII letters and digits,
                 * which fold by case alone */
                uint32_t *mo = t->map + t->flen;
                char *fo = t->f + t->flen;
                uint32_t nl = 0, nu = 0;
                size_t r = i;

                for (; r < len; r++) {
                    unsigned b = s[r];
                    if (b - 'a' < 26u) {
                        nl++;
                    } else if (b - 'A' < 26u) {
                        nu++;
                        b += 32;
                    } else if (b - '0' >= 10u) {
                        break;
                    }
                    fo[r - i] = (char)b;
                    mo[r - i] = (uint32_t)r;
                }
                p.nlow += nl;
                p.nup += nu;
                if (nl && !(t->tok[p.open].flags & EAR_TF_HANDLE))
                    anylow = 1;
                if (nl + nu)
                    t->tok[p.open].flags = (t->tok[p.open].flags |
                                            EAR_TF_LETTER) &
                                           ~(uint32_t)EAR_TF_NUMBER;
                t->flen += r - i;
                i = r;
            }
            continue;
        }
        if (c == C_SKIP) {
            i += adv;
            continue;
        }
        if (c == C_APOS && p.open != EAR_NONE && i + adv < len) {
            size_t a2, on2;
            char o2[8];
            int u2, ac2;
            uint32_t n2 = utf8_next(s + i + adv, len - i - adv, &a2);
            if (classify(n2, o2, &on2, &u2, &ac2) == C_LETTER) {
                i += adv; /* "doesn't" -> "doesnt" */
                continue;
            }
        }
        if (cp == '_' && p.open != EAR_NONE &&
            (t->tok[p.open].flags & (EAR_TF_HANDLE | EAR_TF_HASHTAG))) {
            EMIT("_", 1, i);
            i++;
            continue;
        }
        /* numbers keep their decimal point: 3.5, 1,200 */
        if ((cp == '.' || cp == ',') && p.open != EAR_NONE &&
            (t->tok[p.open].flags & EAR_TF_NUMBER) && i + 1 < len &&
            s[i + 1] >= '0' && s[i + 1] <= '9') {
            EMIT(o, 1, i);
            i++;
            continue;
        }
        tok_close(&p, (uint32_t)t->flen, (uint32_t)i);
        if (c == C_EMOJI) {
            if (tok_open(&p, (uint32_t)t->flen, (uint32_t)i, EAR_TF_EMOJI))
                return EAR_ENOMEM;
            EMIT(o, on, i);
            i += adv;
            tok_close(&p, (uint32_t)t->flen, (uint32_t)i);
            continue;
        }
        if (c == C_PUNCT && cp != '#' && cp != '@') {
            const char *canon = NULL;
            size_t el = emoticon_at(src, len, i, &canon);
            if (el) {
                size_t cl = strlen(canon);
                if (tok_open(&p, (uint32_t)t->flen, (uint32_t)i,
                             EAR_TF_EMOTICON))
                    return EAR_ENOMEM;
                for (k = 0; k < cl; k++)
                    EMIT(canon + k, 1, i + (k < el ? k : el - 1));
                i += el;
                tok_close(&p, (uint32_t)t->flen, (uint32_t)i);
                continue;
            }
        }
        if ((cp == '#' || cp == '@') && i + 1 < len) {
            size_t a2, on2;
            char o2[8];
            int u2, ac2;
            uint32_t n2 = utf8_next(s + i + 1, len - i - 1, &a2);
            enum cls c2 = classify(n2, o2, &on2, &u2, &ac2);
            if (pattern && n2 == '*')
                c2 = C_LETTER;
            if (c2 == C_LETTER || c2 == C_DIGIT || n2 == '_') {
                EMIT(o, 1, i);
                if (cp == '@') {
                    if (tok_open(&p, (uint32_t)t->flen - 1, (uint32_t)i,
                                 EAR_TF_HANDLE))
                        return EAR_ENOMEM;
                } else if (tok_open(&p, (uint32_t)t->flen, (uint32_t)i + 1,
                                    EAR_TF_HASHTAG)) {
                    return EAR_ENOMEM;
                }
                i++;
                continue;
            }
        }
        if (c == C_SPACE) {
            if (cp == '\n' || o[0] == '\n')
                p.pend |= EAR_TF_SENT | EAR_TF_CLAUSE;
            EMIT(o, on, i);
            i += adv;
            continue;
        }
        switch (cp) {
        case '.':
        case '?':
        case '!':
        case 0x2026:
        case 0x3002:
            p.pend |= EAR_TF_SENT | EAR_TF_CLAUSE;
            mark_last(&p, cp == '!', cp == '?');
            break;
        case ',':
        case ';':
        case ':':
        case '(':
        case ')':
        case '[':
        case ']':
        case '|':
        case 0x2013:
        case 0x2014:
            p.pend |= EAR_TF_CLAUSE;
            break;
        case '-':
            /* " - " between words is a clause break; "e-mail" is not */
            if ((i == 0 || s[i - 1] == ' ') &&
                (i + 1 >= len || s[i + 1] == ' '))
                p.pend |= EAR_TF_CLAUSE;
            break;
        default:
            break;
        }
        EMIT(o, on, i);
        i += adv;
    }
    tok_close(&p, (uint32_t)t->flen, (uint32_t)len);
#undef EMIT
    t->f[t->flen] = '\0';
    t->map[t->flen] = (uint32_t)len;
    t->all_caps = !anylow;
    return 0;
}

int ear_text__prep(struct ear_text *t, const char *src, size_t len,
                   int pattern)
{
    return pattern ? prep(t, src, len, 1) : prep(t, src, len, 0);
}

void ear_text__dispose(struct ear_text *t)
{
    free(t->f);
    free(t->map);
    free(t->tok);
    memset(t, 0, sizeof *t);
}

/* Stop and function words, folded, sorted (for bsearch). */
static const char *const stop_hu[] = {
    "a", "abban", "ahogy", "akar", "aki", "akik", "akkor", "alatt", "amely",
    "amelyek", "amelyet", "ami", "amiert", "amikor", "amit", "annak", "arra",
    "az", "azert", "azonban", "azt", "bar", "be", "csak", "de", "egy",
    "egyik", "el", "eleg", "en", "es", "ez", "ezt", "fel", "hanem", "hat",
    "hogy", "igen", "is", "itt", "kell", "ki", "kozott", "le", "lehet",
    "lesz", "lett", "majd", "meg", "mert", "mi", "mikor", "milyen", "minden",
    "mindig", "mint", "mit", "most", "nagyon", "nekem", "neki", "nem",
    "nincs", "o", "ok", "oket", "olyan", "ott", "pedig", "sem", "semmi",
    "sok", "szamara", "szerint", "tehat", "tobb", "ugy", "utan", "vagy",
    "vagyok", "van", "vannak", "vele", "volt", "voltak",
};
static const char *const stop_en[] = {
    "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "but", "by", "can", "cant", "could", "did", "didnt", "do",
    "does", "doesnt", "dont", "for", "from", "get", "got", "had", "has",
    "have", "he", "her", "his", "how", "i", "if", "im", "in", "is", "isnt",
    "it", "its", "ive", "just", "me", "my", "no", "not", "now", "of", "on",
    "or", "our", "out", "she", "so", "that", "the", "their", "them", "there",
    "they", "this", "to", "up", "us", "was", "we", "were", "what", "when",
    "which", "who", "why", "will", "with", "would", "you", "your",
};

static uint32_t stop_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

static void stop_put(struct ear_stopset *ss, const char *w, int lang)
{
    size_t n = strlen(w);
    uint32_t i = stop_hash(w, n) & (EAR_STOP_SLOTS - 1);

    while (ss->w[i] && strcmp(ss->w[i], w) != 0)
        i = (i + 1) & (EAR_STOP_SLOTS - 1);
    ss->w[i] = w;
    ss->len[i] = (uint8_t)n;
    ss->lang[i] |= (uint8_t)lang;
}

void ear_text__stopset_init(struct ear_stopset *ss)
{
    size_t i;

    memset(ss, 0, sizeof *ss);
    for (i = 0; i < sizeof stop_hu / sizeof stop_hu[0]; i++)
        stop_put(ss, stop_hu[i], EAR_LANG_HU);
    for (i = 0; i < sizeof stop_en / sizeof stop_en[0]; i++)
        stop_put(ss, stop_en[i], EAR_LANG_EN);
}

int ear_text__is_stop(const struct ear_stopset *ss, const char *w, size_t n)
{
    uint32_t i;

    if (n == 0 || n > 12)
        return 0;
    i = stop_hash(w, n) & (EAR_STOP_SLOTS - 1);
    while (ss->w[i]) {
        if (ss->len[i] == n && memcmp(ss->w[i], w, n) == 0)
            return ss->lang[i];
        i = (i + 1) & (EAR_STOP_SLOTS - 1);
    }
    return 0;
}

int ear_text__detect(const struct ear_text *t, const struct ear_stopset *ss)
{
    size_t i;
    long hu = 0, en = 0;

    for (i = 0; i < t->ntok; i++) {
        const struct ear_tok *k = &t->tok[i];
        size_t n = k->fe - k->fs;
        int l;
        if (!(k->flags & EAR_TF_LETTER) ||
            (k->flags & (EAR_TF_URL | EAR_TF_HANDLE)))
            continue;
        if (n == 1 && t->f[k->fs] == 'a')
            continue; /* both languages */
        l = ear_text__is_stop(ss, t->f + k->fs, n);
        if (l & EAR_LANG_HU)
            hu += 2;
        if (l & EAR_LANG_EN)
            en += 2;
    }
    hu += t->accents < 6 ? t->accents : 6;
    if (hu > en)
        return EAR_LANG_HU;
    return EAR_LANG_EN;
}
