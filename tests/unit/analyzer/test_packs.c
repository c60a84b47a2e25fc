/* The shipped rule packs (EAR_SRC/rules): they load, lint without errors,
 * every embedded test passes, each language has at least 300 tests, every
 * category has rules in both languages, and a few verdicts hold. */
#include "helpers.h"

static void on_fail(const char *rule_id, const char *file, int line,
                    const char *text, int expected_fire, void *payload)
{
    (void)payload;
    fprintf(stderr, "%s:%d: %s: expected %s: \"%s\"\n", file, line,
            rule_id ? rule_id : "pack", expected_fire ? "fire" : "quiet",
            text);
}

static void on_lint(int level, const char *file, int line,
                    const char *rule_id, const char *message, void *payload)
{
    (void)payload;
    if (level >= 2)
        fprintf(stderr, "%s:%d: %s: %s\n", file, line,
                rule_id ? rule_id : "", message);
}

int main(void)
{
    const char *src = getenv("EAR_SRC");
    char dir[600];
    const char *paths[2];
    struct ear_analyzer *an = NULL;
    struct ear_error err;
    size_t n = 0, failed = 0, i, tests_hu = 0, tests_en = 0;
    static const char *const cats[] = {
        "billing", "delivery", "defect", "refund", "warranty", "support",
        "staff", "pricing", "account", "technical", "churn", "legal",
        "safety", NULL};
    struct ear_verdict v;
    const char *t;

    snprintf(dir, sizeof dir, "%s/rules", src ? src : "..");
    paths[0] = dir;
    paths[1] = NULL;
    if (ear_analyzer_new(&an, paths, &err) < 0) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.source, err.line, err.col,
                err.text);
        CHECK(0);
        return check_result();
    }
    CHECK(ear_analyzer_selftest(an, on_fail, NULL, &n, &failed) == 0);
    CHECK_INT(failed, 0);
    CHECK(n >= 600);
    CHECK_INT(ear_analyzer_lint(an, on_lint, NULL), 0);
    for (i = 0; i < ear_analyzer_rule_count(an); i++) {
        struct ear_rule_info ri;
        if (ear_analyzer_rule_info(an, i, &ri) < 0)
            continue;
        if (strcmp(ri.lang, "hu") == 0)
            tests_hu += ri.ntests;
        else if (strcmp(ri.lang, "en") == 0)
            tests_en += ri.ntests;
    }
    /* rule tests alone; pack tests come on top */
    CHECK(tests_hu >= 150);
    CHECK(tests_en >= 150);
    for (i = 0; cats[i]; i++) {
        size_t k, hu = 0, en = 0;
        for (k = 0; k < ear_analyzer_rule_count(an); k++) {
            struct ear_rule_info ri;
            if (ear_analyzer_rule_info(an, k, &ri) < 0 ||
                strcmp(ri.category, cats[i]) != 0)
                continue;
            hu += strcmp(ri.lang, "hu") == 0;
            en += strcmp(ri.lang, "en") == 0;
        }
        if (!hu || !en)
            fprintf(stderr, "category %s: hu %zu, en %zu rules\n", cats[i],
                    hu, en);
        CHECK(hu > 0 && en > 0);
    }
    /* safety and legal are critical */
    t = "Kigyulladt a töltő éjszaka, a fogyasztóvédelemhez fordulok.";
    CHECK(ear_analyzer_check(an, t, strlen(t), NULL, 0, &v, &err) == 0);
    CHECK_INT(v.flag, 1);
    CHECK_INT(v.severity, EAR_SEV_CRITICAL);
    CHECK(v.ncategories >= 2 && (strcmp(v.categories[0], "safety") == 0 ||
                                 strcmp(v.categories[0], "legal") == 0));
    ear_verdict_dispose(&v);
    t = "I was charged twice and still no refund, contacting my lawyer.";
    CHECK(ear_analyzer_check(an, t, strlen(t), "auto", 0, &v, &err) == 0);
    CHECK_INT(v.flag, 1);
    CHECK_STR(v.lang, "en");
    CHECK_INT(v.severity, EAR_SEV_CRITICAL);
    CHECK_STR(v.categories[0], "legal");
    ear_verdict_dispose(&v);
    t = "Great product, but delivery took three weeks.";
    CHECK(ear_analyzer_check(an, t, strlen(t), NULL, 5, &v, &err) == 0);
    CHECK_INT(v.flag, 1);
    CHECK_INT(v.severity, EAR_SEV_LOW);
    CHECK(v.ncategories == 1 && strcmp(v.categories[0], "delivery") == 0);
    ear_verdict_dispose(&v);
    t = "Not bad at all, and no problem with the delivery.";
    CHECK(ear_analyzer_check(an, t, strlen(t), NULL, 0, &v, &err) == 0);
    CHECK_INT(v.flag, 0);
    ear_verdict_dispose(&v);
    t = "Semmi gond, nem rossz, köszönöm!";
    CHECK(ear_analyzer_check(an, t, strlen(t), NULL, 0, &v, &err) == 0);
    CHECK_INT(v.flag, 0);
    CHECK_STR(v.lang, "hu");
    ear_verdict_dispose(&v);
    ear_analyzer_free(an);
    return check_result();
}
