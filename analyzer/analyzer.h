/*
 * analyzer: decides whether a text or a mention is a complaint, and says
 * why, from YAML rule packs (the .yml files under rules/hu and rules/en).
 *
 * A pack holds rules (terms with '*' wildcards, PCRE2 regexes, all/any/
 * near/not groups, a scope, embedded tests) and a weighted lexicon
 * (negative and positive words, negators, intensifiers, dampeners,
 * contrast words). docs/rules.md is the reference for the format.
 *
 * One pass folds the text (lowercase, accents removed, with a byte map back
 * to the original), splits it into tokens, clauses and sentences and looks
 * every token up in one word index built from all packs; only rules whose
 * words occurred are then evaluated. The result is a core.h struct
 * ear_verdict whose match offsets point into the original text.
 */
#ifndef EAR_ANALYZER_H
#define EAR_ANALYZER_H

#include <stddef.h>
#include "core/core.h"

struct ear_analyzer; /* opaque: compiled packs, lexicons, brands */

/* Loads and validates every pack. paths: NULL-terminated list of pack files
 * (*.yml) or directories (every *.yml below, sorted by path). Errors read
 * file:line:col. On success *out is new: free with ear_analyzer_free(). */
int ear_analyzer_new(struct ear_analyzer **out, const char *const *paths,
                     struct ear_error *err);
void ear_analyzer_free(struct ear_analyzer *an); /* NULL is fine */

/* Configured brands (name, aliases, exclusions, optional boolean query).
 * Copies; replaces any brands set before. A bad query is EAR_EINVAL with
 * the brand name as err->source and the column in err->col. */
int ear_analyzer_set_brands(struct ear_analyzer *an,
                            const struct ear_brand *brands, size_t n,
                            struct ear_error *err);

/* Analyzes one text. lang: "hu", "en", or NULL/"auto" to detect (anything
 * else is EAR_EINVAL). rating: 1..5, 0 for none. out is initialised by the
 * callee; dispose it with ear_verdict_dispose() even on failure. Match
 * offsets are byte offsets into text. Not thread-safe: an analyzer keeps
 * scratch buffers between calls (use one analyzer per thread). */
int ear_analyzer_check(struct ear_analyzer *an, const char *text, size_t len,
                       const char *lang, double rating,
                       struct ear_verdict *out, struct ear_error *err);

/* Like ear_analyzer_check(), for a caller that reads the verdict and is
 * done with it before the next call: *out is borrowed from the analyzer,
 * valid until the next check of any kind on an or ear_analyzer_free();
 * never dispose it. Spares the allocations an owned verdict needs, which
 * cost as much as the analysis itself (earshot check --jsonl). On failure
 * *out is NULL. */
int ear_analyzer_check_borrowed(struct ear_analyzer *an, const char *text,
                                size_t len, const char *lang, double rating,
                                const struct ear_verdict **out,
                                struct ear_error *err);

/* Whether verdicts carry their one-line explanation (ear_verdict's
 * explain): on by default. Off spares building a string nobody reads
 * (earshot check --jsonl prints none). */
void ear_analyzer_set_explain(struct ear_analyzer *an, int on);

/* Analyzes a mention: its title and text (matches say field "title" or
 * "text", offsets into that field), its rating and its lang (detected when
 * empty). source_brand: the source's configured brand or NULL for a general
 * source. out->brand = source_brand, else the first configured brand the
 * mention names, else NULL. */
int ear_analyzer_mention(struct ear_analyzer *an, const struct ear_mention *m,
                         const char *source_brand, struct ear_verdict *out,
                         struct ear_error *err);

/* The configured brand the text names, or NULL (borrowed from the
 * analyzer's copy; valid until the next ear_analyzer_set_brands()). */
const char *ear_analyzer_brand_of(struct ear_analyzer *an, const char *title,
                                  const char *text, const char *author,
                                  const char *url);

/* Runs every embedded test of every pack: rule tests (fire: the rule must
 * fire, quiet: it must not) and pack tests (flag: the verdict must flag,
 * quiet: it must not; rule_id is then NULL). cb (may be NULL) is called
 * for each failure. *ntests and *nfailed count. Returns 0 or EAR_ENOMEM. */
typedef void (*ear_rule_test_cb)(const char *rule_id, const char *file,
                                 int line, const char *text,
                                 int expected_fire, void *payload);
int ear_analyzer_selftest(struct ear_analyzer *an, ear_rule_test_cb cb,
                          void *payload, size_t *ntests, size_t *nfailed);

/* Rules, for listing. Strings are borrowed from the analyzer; team is NULL
 * when the rule routes nowhere, category is "tone" for rules that only add
 * to the score. */
struct ear_rule_info {
    const char *id;
    const char *category;
    const char *description;
    const char *team;
    const char *file;
    int line;
    enum ear_severity severity;
    const char *lang;
    size_t ntests; /* embedded fire + quiet tests */
};
size_t ear_analyzer_rule_count(const struct ear_analyzer *an);
/* EAR_EINVAL when i is out of range. */
int ear_analyzer_rule_info(const struct ear_analyzer *an, size_t i,
                           struct ear_rule_info *out);

/* Lint findings: level 2 = error, 1 = warning. file/line name the place,
 * rule_id may be NULL. Returns the number of errors (>= 0) or EAR_ENOMEM. */
typedef void (*ear_lint_cb)(int level, const char *file, int line,
                            const char *rule_id, const char *message,
                            void *payload);
int ear_analyzer_lint(struct ear_analyzer *an, ear_lint_cb cb,
                      void *payload);

/* Calls cb for every word token of text after folding (lowercase, accents
 * removed), with is_stop set for the language's stop and function words.
 * For word statistics (earshot eval). lang as for ear_analyzer_check. */
typedef void (*ear_word_cb)(const char *word, size_t len, int is_stop,
                            void *payload);
int ear_analyzer_words(struct ear_analyzer *an, const char *text, size_t len,
                       const char *lang, ear_word_cb cb, void *payload,
                       struct ear_error *err);

/* "hu" or "en" for text, from stop words and letters (static string). */
const char *ear_analyzer_detect_lang(struct ear_analyzer *an,
                                     const char *text, size_t len);

/* The folded shadow of text (lowercase, accents removed) as a new string
 * (free with free()), and when map is non-NULL a new array (free with
 * free()) of flen + 1 original byte offsets, one per folded byte. For
 * tests and tools. Returns 0 or EAR_ENOMEM. */
int ear_analyzer_fold(char **out, size_t *flen, size_t **map,
                      const char *text, size_t len);

#endif
