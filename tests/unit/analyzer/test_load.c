/* Loading: every error names file:line:col; broken regexes name the
 * position in the pattern; unknown keys suggest the nearest; missing
 * files, duplicate ids and bad values are refused. */
#include "helpers.h"

static void expect_error(const char *name, const char *text, int code,
                         int line, int col, const char *needle)
{
    struct ear_error err;
    struct ear_analyzer *an = load_pack(name, text, &err);

    CHECK(an == NULL);
    ear_analyzer_free(an);
    CHECK_INT(err.code, code);
    CHECK(strstr(err.source, name) != NULL);
    CHECK_INT(err.line, line);
    if (col)
        CHECK_INT(err.col, col);
    if (!strstr(err.text, needle)) {
        fprintf(stderr, "%s: '%s' not in '%s'\n", name, needle, err.text);
        CHECK(0);
    }
}

static void test_errors(void)
{
    expect_error("badkey.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    trems: [x]\n",
                 EAR_EINVAL, 7, 5, "did you mean 'terms'");
    expect_error("badregex.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    regex: 'abc(def'\n",
                 EAR_EPARSE, 7, 0, "bad regex 'abc(def'");
    expect_error("badcat.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: biling\n"
                 "    severity: low\n"
                 "    terms: [x]\n",
                 EAR_EINVAL, 5, 15, "did you mean 'billing'");
    expect_error("badsev.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: urgent\n"
                 "    terms: [x]\n",
                 EAR_EINVAL, 6, 15, "'urgent' is not low");
    expect_error("nomatcher.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: low\n",
                 EAR_EINVAL, 3, 0, "no matcher");
    expect_error("badlang.yml", "lang: fr\nrules: []\n", EAR_EINVAL, 1, 7,
                 "'fr' is not hu, en or any");
    expect_error("dup.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    terms: [x]\n"
                 "  - id: a.b\n"
                 "    description: y\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    terms: [y]\n",
                 EAR_EINVAL, 8, 0, "duplicate rule id 'a.b'");
    expect_error("bareglob.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    terms: [\"* refund\"]\n",
                 EAR_EINVAL, 7, 0, "starts with a bare '*'");
    expect_error("badnear.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - id: a.b\n"
                 "    description: x\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    near: {terms: [a], within: 3}\n",
                 EAR_EINVAL, 7, 0, "needs both 'terms' and 'with'");
    expect_error("badweight.yml",
                 "lang: en\n"
                 "lexicon:\n"
                 "  negative:\n"
                 "    - weight: lots\n"
                 "      words: [bad]\n",
                 EAR_EINVAL, 4, 0, "expected a number");
    expect_error("noid.yml",
                 "lang: en\n"
                 "rules:\n"
                 "  - description: x\n"
                 "    category: billing\n"
                 "    severity: low\n"
                 "    terms: [x]\n",
                 EAR_EINVAL, 3, 0, "no id");
    expect_error("syntax.yml", "lang: en\nrules: [\n", EAR_EPARSE, 3, 0,
                 "");
}

static void test_regex_column(void)
{
    struct ear_error err;
    struct ear_analyzer *an = load_pack("regexcol.yml",
                                        "lang: en\n"
                                        "rules:\n"
                                        "  - id: a.b\n"
                                        "    description: x\n"
                                        "    category: billing\n"
                                        "    severity: low\n"
                                        "    regex: 'ab[c'\n", &err);

    CHECK(an == NULL);
    /* the scalar opens at column 12; its text at 13; the error at the
     * end of the pattern (offset 4) */
    CHECK_INT(err.line, 7);
    CHECK_INT(err.col, 12 + 1 + 4);
    CHECK(strstr(err.text, "at offset 4") != NULL);
}

static void test_missing(void)
{
    const char *paths[] = {"/nonexistent/earshot/rules.yml", NULL};
    struct ear_analyzer *an = NULL;
    struct ear_error err;

    ear_error_clear(&err);
    CHECK(ear_analyzer_new(&an, paths, &err) == EAR_ENOTFOUND);
    CHECK(an == NULL);
    CHECK_STR(err.source, "/nonexistent/earshot/rules.yml");
    CHECK(strstr(err.text, "cannot read rule pack") != NULL);
}

static void test_directory(void)
{
    const char *paths[2];
    struct ear_analyzer *an = NULL;
    struct ear_error err;
    struct ear_rule_info ri;
    const char *dir = tmp_path("packdir");
    char p[900];
    FILE *f;

    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    /* written out of order: loading sorts by path */
    snprintf(p, sizeof p, "%s/sub/b.yml", dir);
    f = fopen(p, "w");
    if (f) {
        fputs("lang: en\nrules:\n  - id: z.second\n    description: x\n"
              "    category: refund\n    severity: low\n    terms: [x]\n", f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/a.yml", dir);
    f = fopen(p, "w");
    if (f) {
        fputs("lang: en\nrules:\n  - id: a.first\n    description: x\n"
              "    category: refund\n    severity: low\n    terms: [y]\n", f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/ignored.txt", dir);
    f = fopen(p, "w");
    if (f) {
        fputs("not yaml: [", f);
        fclose(f);
    }
    paths[0] = dir;
    paths[1] = NULL;
    CHECK(ear_analyzer_new(&an, paths, &err) == 0);
    if (!an)
        return;
    CHECK_INT(ear_analyzer_rule_count(an), 2);
    CHECK(ear_analyzer_rule_info(an, 0, &ri) == 0);
    CHECK_STR(ri.id, "a.first");
    CHECK(ear_analyzer_rule_info(an, 1, &ri) == 0);
    CHECK_STR(ri.id, "z.second");
    ear_analyzer_free(an);
}

struct lintc {
    int errors, warnings;
    int saw_unreachable, saw_dup;
    int overlap_narrow, overlap_other, never_fired;
};

static void on_lint(int level, const char *file, int line,
                    const char *rule_id, const char *message, void *payload)
{
    struct lintc *c = payload;

    (void)file;
    (void)line;
    if (level >= 2)
        c->errors++;
    else
        c->warnings++;
    if (strstr(message, "unreachable"))
        c->saw_unreachable = 1;
    if (strstr(message, "listed twice"))
        c->saw_dup = 1;
    if (strstr(message, "overlapping: every text") && rule_id &&
        strcmp(rule_id, "b.narrow") == 0 && strstr(message, "'b.wide'"))
        c->overlap_narrow = 1;
    else if (strstr(message, "overlapping: every text"))
        c->overlap_other = 1;
    if (strstr(message, "no embedded test makes it fire") && rule_id &&
        strcmp(rule_id, "b.untested") == 0)
        c->never_fired++;
}

static void test_lint(void)
{
    struct ear_error err;
    struct lintc c = {0, 0, 0, 0, 0, 0, 0};
    struct ear_analyzer *an = load_pack("lint.yml",
        "lang: en\n"
        "rules:\n"
        "  - id: a.never\n"
        "    description: excluded by itself\n"
        "    category: refund\n"
        "    severity: low\n"
        "    terms: [refund, refunds]\n"
        "    not: [\"refund*\"]\n"
        "    tests: {fire: [\"refund\"]}\n"
        "  - id: a.twice\n"
        "    description: a term twice\n"
        "    category: billing\n"
        "    severity: low\n"
        "    terms: [bill, Bill]\n"
        "    tests: {fire: [\"bill\"]}\n", &err);

    CHECK(an != NULL);
    if (!an)
        return;
    CHECK_INT(ear_analyzer_lint(an, on_lint, &c), 1);
    CHECK_INT(c.errors, 1);
    CHECK(c.saw_unreachable);
    CHECK(c.saw_dup);
    ear_analyzer_free(an);
}

/* Overlap (a rule whose terms another plain rule of its category covers)
 * and rules no embedded test fires; a rule with a narrowing 'not' or of
 * another category is no overlap. */
static void test_lint_overlap(void)
{
    struct ear_error err;
    struct lintc c = {0, 0, 0, 0, 0, 0, 0};
    struct ear_analyzer *an = load_pack("overlap.yml",
        "lang: en\n"
        "defaults: {severity: low}\n"
        "rules:\n"
        "  - id: b.wide\n"
        "    description: d\n"
        "    category: delivery\n"
        "    terms: [\"late*\", parcel, \"never arrived\"]\n"
        "    tests: {fire: [\"the parcel is late\"]}\n"
        "  - id: b.narrow\n"
        "    description: d\n"
        "    category: delivery\n"
        "    scope: clause\n"
        "    all:\n"
        "      - terms: [lately, \"late delivery\"]\n"
        "      - any: [again, still]\n"
        "    tests: {fire: [\"late delivery again\"]}\n"
        "  - id: b.guarded\n"
        "    description: d\n"
        "    category: delivery\n"
        "    terms: [parcel]\n"
        "    tests: {fire: [\"a parcel\"]}\n"
        "  - id: b.other-cat\n"
        "    description: d\n"
        "    category: refund\n"
        "    terms: [parcel]\n"
        "    tests: {fire: [\"parcel\"]}\n"
        "  - id: b.wide-not\n"
        "    description: d\n"
        "    category: billing\n"
        "    terms: [invoice]\n"
        "    not: [paid]\n"
        "    tests: {fire: [\"invoice\"]}\n"
        "  - id: b.billing\n"
        "    description: d\n"
        "    category: billing\n"
        "    terms: [invoice]\n"
        "    tests: {fire: [\"the invoice\"]}\n"
        "  - id: b.untested\n"
        "    description: d\n"
        "    category: refund\n"
        "    terms: [chargeback]\n"
        "    tests: {fire: [\"charge back\"]}\n", &err);

    CHECK(an != NULL);
    if (!an)
        return;
    CHECK_INT(ear_analyzer_lint(an, on_lint, &c), 0);
    CHECK(c.overlap_narrow);       /* b.narrow within b.wide */
    /* b.guarded within b.wide too, and b.wide-not within b.billing (its
     * 'not' only narrows it); b.billing is not within b.wide-not, whose
     * 'not' makes it no plain term list; b.other-cat is another
     * category */
    CHECK(c.overlap_other);
    CHECK_INT(c.never_fired, 1);   /* its only test does not fire it */
    CHECK_INT(c.errors, 0);
    ear_analyzer_free(an);
}

int main(void)
{
    test_errors();
    test_regex_column();
    test_missing();
    test_directory();
    test_lint();
    test_lint_overlap();
    return check_result();
}
