/*
 * analyzer internals, shared by the analyzer's .c files.
 *
 * Data flow for one text (match.c):
 *   text.c   fold + tokenize: folded shadow f[] (lowercase, accents
 *            removed, apostrophes inside words dropped) with map[] back to
 *            original byte offsets; tokens with flags (caps, hashtag, emoji,
 *            emoticon, url, sentence/clause break before).
 *   index.c  every token is looked up once in the word index (exact,
 *            prefix and suffix hash tables keyed on the first word of every
 *            term of every rule and lexicon entry); multiword terms are
 *            verified on the following tokens. Result: hits.
 *   match.c  clauses and sentences (contrast words split clauses), lexicon
 *            score per clause with negation windows, then only the rules
 *            that had a hit (plus the few regex-only rules) are evaluated
 *            over their scope units; rating fusion; the verdict.
 *   load.c   YAML packs -> rules, nodes, terms, index.
 *
 * Everything a text needs at run time lives in preallocated scratch arrays
 * of struct ear_analyzer that grow and are reused, so a check allocates
 * only what the verdict it returns owns.
 */
#ifndef EAR_ANALYZER_INT_H
#define EAR_ANALYZER_INT_H

#include <stdint.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "analyzer/analyzer.h"

#define EAR_NONE UINT32_MAX

enum { EAR_LANG_HU = 1, EAR_LANG_EN = 2, EAR_LANG_ANY = 3 };

/* ------------------------------------------------------------ text.c */

enum {
    EAR_TF_CAPS = 1 << 0,     /* ALL CAPS word of >= 3 letters */
    EAR_TF_HASHTAG = 1 << 1,
    EAR_TF_HANDLE = 1 << 2,   /* @name; the token text keeps the '@' */
    EAR_TF_URL = 1 << 3,      /* never looked up */
    EAR_TF_EMOJI = 1 << 4,
    EAR_TF_EMOTICON = 1 << 5,
    EAR_TF_NUMBER = 1 << 6,
    EAR_TF_SENT = 1 << 7,     /* a sentence starts here */
    EAR_TF_CLAUSE = 1 << 8,   /* a clause starts here */
    EAR_TF_LETTER = 1 << 9,   /* has at least one letter */
    EAR_TF_LOWER = 1 << 10    /* has at least one lowercase letter */
};

struct ear_tok {
    uint32_t fs, fe;   /* span in the folded text */
    uint32_t os, oe;   /* span in the original text */
    uint32_t flags;
    uint32_t clause;   /* index into clauses */
    uint32_t lex;      /* best lexicon hit starting here, or EAR_NONE */
    uint16_t bang;     /* '!' right after this token */
    uint16_t quest;    /* '?' right after this token */
};

enum { EAR_UF_CONTRAST = 1, EAR_UF_CONCESS = 2,
       EAR_UF_INQUIRY = 4 /* sentences: a question that asks (opens with an
                             inquiry word, ends with '?') */ };

struct ear_unit {      /* a clause or a sentence */
    uint32_t t0, t1;   /* token range [t0, t1) */
    uint32_t sent;     /* clauses: their sentence */
    uint32_t flags;    /* clauses: UF_CONTRAST, UF_CONCESS */
    float factor;      /* clauses: contrast weighting */
    float score;       /* lexicon score (negative > 0) */
    uint32_t bang, quest; /* sentences: the '!' and '?' in them */
};

struct ear_text {
    const char *src;
    size_t len;
    char *f;           /* folded, NUL-terminated */
    uint32_t *map;     /* flen + 1 entries */
    size_t flen, fcap;
    struct ear_tok *tok;
    size_t ntok, tokcap;
    int all_caps;      /* no lowercase letter anywhere: caps mean nothing */
    int accents;       /* accented Latin letters seen (language hint) */
};

/* Fold and tokenize src into t (buffers reused). pattern = 1 treats '*' as
 * a letter, for term patterns. */
int ear_text__prep(struct ear_text *t, const char *src, size_t len,
                   int pattern);
void ear_text__dispose(struct ear_text *t);
/* Stop and function words of both languages, for detection and word
 * statistics. */
#define EAR_STOP_SLOTS 512
struct ear_stopset {
    const char *w[EAR_STOP_SLOTS];
    uint8_t len[EAR_STOP_SLOTS];
    uint8_t lang[EAR_STOP_SLOTS];
};
void ear_text__stopset_init(struct ear_stopset *ss);
/* The languages (EAR_LANG_* bits) w is a stop word of, 0 for none. */
int ear_text__is_stop(const struct ear_stopset *ss, const char *w, size_t n);
/* EAR_LANG_HU or EAR_LANG_EN. */
int ear_text__detect(const struct ear_text *t, const struct ear_stopset *ss);

/* ------------------------------------------------------------ terms */

enum ear_lexkind {
    EAR_LX_NONE = 0,   /* a rule term */
    EAR_LX_NEG,        /* negative word */
    EAR_LX_POS,        /* positive word */
    EAR_LX_NEGATED,    /* negative only inside a negation window */
    EAR_LX_NEGATOR,
    EAR_LX_INTENS,
    EAR_LX_DAMP,
    EAR_LX_CONTRAST,
    EAR_LX_CONCESS,
    EAR_LX_INQUIRY,    /* opens a question: the sentence is an inquiry */
    EAR_LX_POSTNEG     /* negates the word before it ("gond nincs") */
};

struct ear_wpat {
    char *text;        /* folded, may hold '*' */
    uint32_t len;
    uint8_t glob;      /* has a '*' */
    uint8_t hashtag;   /* written "#word": only a hashtag matches */
};

struct ear_term {
    uint32_t node;     /* owning TERMS node, EAR_NONE for lexicon */
    uint8_t lexkind;
    uint8_t langmask;
    uint8_t selfneg;   /* a sentiment phrase that opens with a negator word
                          ("not acceptable", "no help"): no outer negator
                          flips it */
    float weight;
    uint32_t nwords;
    uint32_t anchor;   /* the word the index keys on: the most specific
                          one, so "the worst" is looked up under "worst" */
    uint32_t literal;  /* letters that are not '*': the more specific term
                          wins a lexicon tie ("hihetetlen" over "*etlen") */
    struct ear_wpat *words;
    const char *src;   /* as written (borrowed from the pack's strings) */
    const char *file;
    int line, col;
};

/* ------------------------------------------------------------ index.c */

enum { EAR_IK_EXACT, EAR_IK_PREFIX, EAR_IK_SUFFIX, EAR_IK_NKINDS };

struct ear_islot {
    uint32_t hash;
    uint32_t len;
    const char *key;   /* borrowed from a term's word */
    uint32_t first, n; /* postings[first .. first + n) */
};

#define EAR_BLOOM_BITS 65536u
#define EAR_IX_PAIRS 4096u

struct ear_itab {
    struct ear_islot *slots;
    size_t mask;       /* slots - 1, power of two; 0 when empty */
    uint64_t lenmask;  /* bit p: some key of length p (63 = longer) */
    uint8_t *bloom;    /* bit (hash % EAR_BLOOM_BITS) of every key: most
                          misses never touch the table */
};

struct ear_posting {
    uint32_t term;
    uint8_t verify;    /* first word needs a full glob check */
};

struct ear_index {
    struct ear_itab tab[EAR_IK_NKINDS];
    struct ear_posting *post;
    size_t npost;
    uint64_t *plen;    /* EAR_IX_PAIRS masks by a token's first two
                          bytes: bit p, some prefix key of length p >= 2
                          starts so (63 = longer); a superset */
    uint64_t *slen;    /* the same for suffix keys, by the last two
                          bytes */
    uint8_t pre1[32];  /* bit per first byte of 1-byte prefix keys */
    uint8_t suf1[32];  /* bit per last byte of 1-byte suffix keys */
    uint32_t *contains; /* terms whose first word is '*x*': glob each */
    size_t ncontains;
};

struct ear_hit {
    uint32_t term;
    uint32_t t0, t1;   /* token range */
    uint32_t next;     /* next hit of the same node, EAR_NONE */
};

struct ear_prange {
    uint32_t first, n; /* postings */
};

/* Posting ranges whose key matches the token w (prefix, exact, suffix).
 * Returns how many were written to out (at most cap). */
size_t ear_index__probe(const struct ear_index *ix, const char *w, size_t n,
                        struct ear_prange *out, size_t cap);
/* Indexes the terms whose langmask meets langmask. */
int ear_index__build(struct ear_index *ix, const struct ear_term *terms,
                     size_t nterms, int langmask);
void ear_index__dispose(struct ear_index *ix);
int ear_glob__match(const char *pat, size_t plen, const char *s, size_t n);

/* ------------------------------------------------------------ rules */

enum ear_nodekind { EAR_N_TERMS, EAR_N_REGEX, EAR_N_ALL, EAR_N_ANY,
                    EAR_N_NOT, EAR_N_NEAR };
enum ear_scope { EAR_SC_CLAUSE, EAR_SC_SENTENCE, EAR_SC_TEXT };

struct ear_node {
    uint8_t kind;
    int8_t scope;      /* NOT nodes: own scope, -1 = the rule's */
    uint8_t ordered;   /* NEAR */
    uint32_t rule;
    uint32_t *kids;
    uint32_t nkids;
    uint32_t within;   /* NEAR */
    pcre2_code *re;
    const char *re_src;
    int line, col;
    /* per-text scratch */
    uint32_t gen, head, tail;
};

struct ear_test {
    const char *text;
    int line;
    int fire;          /* 1 = must fire / flag, 0 = must stay quiet */
};

struct ear_rule {
    const char *id, *description, *category, *team, *file;
    int line, col;
    enum ear_severity severity;
    float weight;
    uint8_t scope;
    uint8_t needs_neg;
    uint8_t langmask;
    uint8_t has_terms; /* fires only where one of its terms occurred:
                          evaluated only after an index hit */
    uint32_t root;
    struct ear_test *tests;
    size_t ntests;
    /* per-text scratch */
    uint32_t gen;
    uint32_t hit_t0, hit_t1; /* the last start and the first end of its
                                hits: a unit holds one of them only if it
                                reaches both */
    uint8_t unit_ok;   /* fired in a unit that does not read positive */
    uint8_t asked;     /* fired only inside questions that ask */
};

struct ear_pack {
    const char *path;
    uint8_t langmask;
    struct ear_test *tests; /* verdict-level tests */
    size_t ntests;
};

struct ear_langset {
    float threshold;
    uint32_t negwin;
};

struct ear_brandc {
    char *name;
    char **alias;      /* folded patterns, NULL-terminated */
    char **exclude;
    struct ear_bq *query; /* NULL when none */
};

/* The word cache: what the index says about a word (the terms anchored on
 * it that pass every check that depends on the word alone: language,
 * full glob, hashtag) is the same every time the word occurs, and words
 * repeat (Zipf), so the answer for recent words is kept. Direct-mapped,
 * keyed on the folded word, the language and the hashtag flag. */
#define EAR_WC_SLOTS 16384u
#define EAR_WC_WORD 24u     /* longer words are not cached */
#define EAR_WC_TERMS 8u     /* nor words anchoring more terms */

struct ear_wcent {     /* 64 bytes: one cache line */
    uint32_t hash;
    uint8_t len;       /* 0 = empty slot */
    uint8_t key;       /* language | hashtag << 4 */
    uint8_t nterm;
    uint8_t pad;
    char word[EAR_WC_WORD];
    uint32_t term[EAR_WC_TERMS];
};

/* A span of evidence in folded bytes. */
struct ear_fspan {
    uint32_t fs, fe;
    uint32_t rule;     /* EAR_NONE = lexicon */
    float weight;
};

struct ear_analyzer {
    /* compiled */
    struct ear_rule *rules;
    size_t nrules, rulecap;
    struct ear_node *nodes;
    size_t nnodes, nodecap;
    struct ear_term *terms;
    size_t nterms, termcap;
    struct ear_pack *packs;
    size_t npacks, packcap;
    char **strs;       /* every owned string, freed at the end */
    size_t nstrs, strcap;
    struct ear_index ix[3]; /* by EAR_LANG_HU / EAR_LANG_EN */
    struct ear_langset set[3]; /* by EAR_LANG_HU / EAR_LANG_EN */
    uint32_t *always;  /* rules without terms (regex only) */
    size_t nalways;
    struct ear_brandc *brands;
    size_t nbrands;
    pcre2_match_data *md;
    struct ear_stopset stop;
    int no_explain;    /* ear_analyzer_set_explain(an, 0) */
    /* scratch, reused between texts */
    struct ear_text txt;
    struct ear_text tmp; /* for patterns and brand checks */
    struct ear_hit *hits;
    size_t nhits, hitcap;
    struct ear_unit *clauses, *sents;
    size_t nclauses, nsents, unitcap, sentcap;
    /* the verdict ear_analyzer_check_borrowed() lends: its arrays and
     * match texts live here, its other strings are the rules' own */
    struct ear_verdict bv;
    char **bcats;
    size_t bcatcap;
    struct ear_match *bmatches;
    size_t bmatchcap;
    char *barena;      /* the match texts, NUL-terminated, one after another */
    size_t barenacap;
    struct ear_wcent *wcache; /* EAR_WC_SLOTS entries */
    uint32_t *whash;   /* each token's word cache hash */
    size_t whashcap;
    uint32_t *wterms;  /* terms of the current word (cache miss) */
    size_t wtermcap;
    uint32_t *cand;    /* candidate rules */
    size_t ncand, candcap;
    uint32_t *fired;   /* rules that fired */
    size_t nfired, firedcap;
    struct ear_fspan *spans;
    size_t nspans, spancap;
    uint8_t *swant;    /* per span: the verdict pass it goes into */
    size_t swantcap;
    uint32_t gen;
    /* results of the last run */
    int lang;
    float lex, lexneg, lexpos, rulew, score;
    int flag, complaint, intensity;
    double rating;
    uint32_t cur_rule;   /* rule whose spans are being collected */
    enum ear_severity severity;
    struct ear_buf scratch;
};

char *ear_an__strdup(struct ear_analyzer *an, const char *s, size_t n);

/* match.c: analyse into the scratch state (lang: EAR_LANG_* or 0 = detect).
 * Then ear_an__verdict() builds the caller's verdict. */
int ear_an__run(struct ear_analyzer *an, const char *text, size_t len,
                int lang, double rating);
/* borrowed = 1 builds an->bv, whose strings the analyzer owns (see
 * ear_analyzer_check_borrowed()); 0 an owned verdict. */
int ear_an__verdict(struct ear_analyzer *an, const char *field_split_name,
                    size_t split, struct ear_verdict *out, int borrowed);
int ear_an__rule_fired(const struct ear_analyzer *an, uint32_t rule);

/* brand.c */
void ear_brands__free(struct ear_analyzer *an);
void ear_bq__free(struct ear_bq *q);

#endif
