/* Matching: wildcard terms over the accent-folded shadow, near/not/all/any,
 * scope, regex, negation windows, contrast, rating fusion, brands. */
#include "helpers.h"

static const char pack[] =
    "lang: hu\n"
    "defaults:\n"
    "  scope: sentence\n"
    "rules:\n"
    "  - id: hu.billing.wrong-vat\n"
    "    description: wrong VAT on the invoice\n"
    "    category: billing\n"
    "    severity: high\n"
    "    team: billing\n"
    "    all:\n"
    "      - terms: [\"számla*\", \"számláz*\"]\n"
    "      - any: [\"áfa*\", \"hibás*\"]\n"
    "    not: [\"nem hibás\"]\n"
    "  - id: hu.delivery.late\n"
    "    description: late delivery\n"
    "    category: delivery\n"
    "    severity: medium\n"
    "    near:\n"
    "      terms: [\"csomag*\", futár]\n"
    "      with: [késik, \"késés*\"]\n"
    "      within: 2\n"
    "  - id: hu.support.clause\n"
    "    description: clause scope\n"
    "    category: support\n"
    "    severity: low\n"
    "    scope: clause\n"
    "    all: [\"ügyfélszolgálat*\", \"nem segít*\"]\n"
    "  - id: hu.support.text\n"
    "    description: text scope\n"
    "    category: support\n"
    "    severity: low\n"
    "    scope: text\n"
    "    all: [\"ügyfélszolgálat*\", \"nem segít*\"]\n"
    "  - id: hu.refund.regex\n"
    "    description: a regex on the folded text\n"
    "    category: refund\n"
    "    severity: medium\n"
    "    terms: [\"visszautal*\"]\n"
    "    regex: '\\d+ (napja|hete)'\n"
    "  - id: hu.pricing.needs\n"
    "    description: needs negative tone\n"
    "    category: pricing\n"
    "    severity: low\n"
    "    terms: [ár, árak]\n"
    "    needs: negative\n"
    "  - id: hu.tone.praise\n"
    "    description: praise\n"
    "    category: tone\n"
    "    severity: low\n"
    "    weight: -3\n"
    "    terms: [\"köszönöm szépen\"]\n"
    "lexicon:\n"
    "  negative:\n"
    "    - weight: 2\n"
    "      words: [rossz, drága, gond, \"probléma*\"]\n"
    "  positive:\n"
    "    - weight: 2\n"
    "      words: [jó, remek, kedves]\n"
    "  negated:\n"
    "    - weight: 2\n"
    "      words: [\"működik\"]\n"
    "  negators: [nem, semmi, nincs]\n"
    "  intensifiers: [nagyon]\n"
    "  contrast: [de, viszont]\n";

static struct ear_analyzer *an;

static void test_terms(void)
{
    /* accent- and case-insensitive wildcards */
    CHECK_INT(fires(an, "hu.billing.wrong-vat", "A SZÁMLÁN rossz az ÁFA.",
                    "hu"), 1);
    CHECK_INT(fires(an, "hu.billing.wrong-vat", "a szamlat hibasan "
                    "allitottak ki", "hu"), 1);
    CHECK_INT(fires(an, "hu.billing.wrong-vat", "A számlázás hibás volt.",
                    "hu"), 1);
    /* all: both groups needed */
    CHECK_INT(fires(an, "hu.billing.wrong-vat", "Megjött a számla.", "hu"),
              0);
    /* not */
    CHECK_INT(fires(an, "hu.billing.wrong-vat", "A számla nem hibás, az áfa "
                    "jó.", "hu"), 0);
    /* another language's text does not see a hu rule */
    CHECK_INT(fires(an, "hu.billing.wrong-vat", "szamla afa", "en"), 0);
}

static void test_near(void)
{
    CHECK_INT(fires(an, "hu.delivery.late", "A csomagom megint késik.",
                    "hu"), 1);
    CHECK_INT(fires(an, "hu.delivery.late", "Késik a futár.", "hu"), 1);
    /* too far apart (3 words between, within: 2) */
    CHECK_INT(fires(an, "hu.delivery.late", "A csomag szerintem nagyon "
                    "sokat késik.", "hu"), 0);
    /* not across sentences */
    CHECK_INT(fires(an, "hu.delivery.late", "Csomag. Késik.", "hu"), 0);
}

static void test_scope(void)
{
    const char *t = "Az ügyfélszolgálat kedves volt, de nem segítettek.";

    CHECK_INT(fires(an, "hu.support.clause", t, "hu"), 0);
    CHECK_INT(fires(an, "hu.support.text", t, "hu"), 1);
    CHECK_INT(fires(an, "hu.support.clause", "Az ügyfélszolgálat nem "
                    "segített.", "hu"), 1);
    CHECK_INT(fires(an, "hu.support.text", "Ügyfélszolgálat. Aztán nem "
                    "segítettek.", "hu"), 1);
}

static void test_regex(void)
{
    struct ear_verdict v;
    struct ear_error err;
    const char *t = "A visszautalás 12 NAPJA nem jött meg.";
    const struct ear_match *m;

    CHECK(ear_analyzer_check(an, t, strlen(t), "hu", 0, &v, &err) == 0);
    CHECK(has_match(&v, "hu.refund.regex"));
    m = NULL;
    {
        size_t i;
        for (i = 0; i < v.nmatches; i++)
            if (strcmp(v.matches[i].rule, "hu.refund.regex") == 0 &&
                v.matches[i].text && strstr(v.matches[i].text, "NAPJA"))
                m = &v.matches[i];
    }
    CHECK(m != NULL);
    if (m) {
        CHECK_STR(m->text, "12 NAPJA");
        CHECK_INT(m->start, (size_t)(strstr(t, "12") - t));
    }
    ear_verdict_dispose(&v);
    CHECK_INT(fires(an, "hu.refund.regex", "A visszautalás megjött.", "hu"),
              0);
}

static void test_lexicon(void)
{
    /* negation windows */
    CHECK_INT(flags(an, "Nem rossz.", "hu", 0), 0);
    CHECK_INT(flags(an, "Rossz.", "hu", 0), 1);
    CHECK_INT(flags(an, "Nem jó.", "hu", 0), 1);
    CHECK_INT(flags(an, "Semmi gond.", "hu", 0), 0);
    CHECK_INT(flags(an, "Nem működik.", "hu", 0), 1);
    CHECK_INT(flags(an, "Működik.", "hu", 0), 0);
    /* the window ends with the clause */
    CHECK_INT(flags(an, "Nem tudom, de rossz.", "hu", 0), 1);
    /* contrast: what follows "de" weighs more */
    CHECK_INT(flags(an, "Drága, de nagyon jó.", "hu", 0), 0);
    CHECK_INT(flags(an, "Jó, de drága.", "hu", 0), 1);
    /* praise rule outweighs a mild complaint */
    CHECK_INT(flags(an, "Köszönöm szépen, egy kis gond volt.", "hu", 0), 0);
    /* needs: negative */
    CHECK_INT(fires(an, "hu.pricing.needs", "Jók az árak.", "hu"), 0);
    CHECK_INT(fires(an, "hu.pricing.needs", "Rosszak az árak, drága.", "hu"),
              1);
}

static void test_rating(void)
{
    struct ear_verdict v;
    struct ear_error err;
    const char *t = "Remek termék, de a csomag késik.";

    /* a 1-star review with a neutral text is negative */
    CHECK_INT(flags(an, "Megjött.", "hu", 1), 1);
    /* ... unless the text clearly says otherwise */
    CHECK_INT(flags(an, "Remek, kedves, jó.", "hu", 1), 0);
    /* a 5-star review with a complaint keeps the category, low severity */
    CHECK(ear_analyzer_check(an, t, strlen(t), "hu", 5, &v, &err) == 0);
    CHECK_INT(v.flag, 1);
    CHECK_INT(v.severity, EAR_SEV_LOW);
    CHECK(v.ncategories >= 1 && strcmp(v.categories[0], "delivery") == 0);
    ear_verdict_dispose(&v);
    /* the same without rating is medium */
    CHECK(ear_analyzer_check(an, t, strlen(t), "hu", 0, &v, &err) == 0);
    CHECK_INT(v.severity, EAR_SEV_MEDIUM);
    ear_verdict_dispose(&v);
    /* a 5-star review with only a negative word is not a complaint */
    CHECK_INT(flags(an, "Drága.", "hu", 5), 0);
    /* bad ratings are refused */
    CHECK(ear_analyzer_check(an, "x", 1, "hu", 7, &v, &err) == EAR_EINVAL);
    ear_verdict_dispose(&v);
    CHECK(ear_analyzer_check(an, "x", 1, "fr", 0, &v, &err) == EAR_EINVAL);
    ear_verdict_dispose(&v);
}

static void test_verdict(void)
{
    struct ear_verdict v;
    struct ear_error err;
    const char *t = "A számlán hibás az ÁFA, és a csomag késik.";

    CHECK(ear_analyzer_check(an, t, strlen(t), NULL, 0, &v, &err) == 0);
    CHECK_INT(v.flag, 1);
    CHECK_STR(v.lang, "hu");
    CHECK_INT(v.severity, EAR_SEV_HIGH);
    CHECK_INT(v.ncategories, 2);
    if (v.ncategories == 2) {
        CHECK_STR(v.categories[0], "billing");
        CHECK_STR(v.categories[1], "delivery");
    }
    CHECK_STR(v.team, "billing");
    CHECK(v.explain && strstr(v.explain, "billing/delivery complaint, high")
          && strstr(v.explain, "hu.billing.wrong-vat"));
    ear_verdict_dispose(&v);
    /* empty text */
    CHECK(ear_analyzer_check(an, "", 0, "hu", 0, &v, &err) == 0);
    CHECK_INT(v.flag, 0);
    CHECK(v.explain != NULL);
    ear_verdict_dispose(&v);
}

static void test_mention(void)
{
    struct ear_mention m = EAR_MENTION_INIT;
    struct ear_verdict v;
    struct ear_error err;
    struct ear_brand b[2];
    static char acme[] = "acme", atacme[] = "@acme", hacme[] = "#acme",
                road[] = "acme road", nyul[] = "Nyúl", n0[] = "Acme",
                n1[] = "Nyúl Kft", title[] = "Hibás számla",
                t1[] = "Az ÁFA rossz a számlán. Acme, ez így nem megy.",
                t2[] = "Lakunk az Acme road mellett.",
                t3[] = "a nyul kft-nel rossz volt";
    char *al0[] = {acme, atacme, hacme, NULL}, *ex0[] = {road, NULL};
    char *al1[] = {nyul, NULL};
    const struct ear_match *mm;

    memset(b, 0, sizeof b);
    b[0].name = n0;
    b[0].aliases = al0;
    b[0].exclude = ex0;
    b[1].name = n1;
    b[1].aliases = al1;
    CHECK(ear_analyzer_set_brands(an, b, 2, &err) == 0);
    m.title = title;
    m.text = t1;
    CHECK(ear_analyzer_mention(an, &m, NULL, &v, &err) == 0);
    CHECK_INT(v.flag, 1);
    CHECK_STR(v.brand, "Acme");
    mm = find_match(&v, "hu.billing.wrong-vat");
    CHECK(mm != NULL);
    if (mm) {
        CHECK_STR(mm->field, "title");
        CHECK_INT(mm->start, 7);  /* "számla" in "Hibás számla" */
        CHECK_INT(mm->end, 14);
        CHECK_STR(mm->text, "számla");
    }
    ear_verdict_dispose(&v);
    /* exclusions; accent-free aliases; source brand wins */
    m.title = NULL;
    m.text = t2;
    CHECK(ear_analyzer_mention(an, &m, NULL, &v, &err) == 0);
    CHECK(v.brand == NULL);
    ear_verdict_dispose(&v);
    m.text = t3;
    CHECK(ear_analyzer_mention(an, &m, NULL, &v, &err) == 0);
    CHECK_STR(v.brand, "Nyúl Kft");
    ear_verdict_dispose(&v);
    CHECK(ear_analyzer_mention(an, &m, "Acme", &v, &err) == 0);
    CHECK_STR(v.brand, "Acme");
    ear_verdict_dispose(&v);
    CHECK(ear_analyzer_set_brands(an, NULL, 0, &err) == 0);
}

static void test_query(void)
{
    struct ear_brand b;
    struct ear_error err;
    static char name[] = "Acme",
                q1[] = "(acme OR \"acme corp\") AND NOT \"acme road\" -pie",
                q2[] = "title:refund* NEAR/2 acme OR site:acme.com OR "
                       "author:\"Jane Doe\"",
                q3[] = "acme AND (refund", q4[] = "acme NEAR/x refund";
    char *al[] = {NULL};

    memset(&b, 0, sizeof b);
    b.name = name;
    b.aliases = al;
    b.query = q1;
    CHECK(ear_analyzer_set_brands(an, &b, 1, &err) == 0);
    CHECK_STR(ear_analyzer_brand_of(an, NULL, "Acme corp billed me twice",
                                    NULL, NULL), "Acme");
    CHECK(ear_analyzer_brand_of(an, NULL, "acme pie recipe", NULL, NULL) ==
          NULL);
    CHECK(ear_analyzer_brand_of(an, NULL, "I live on Acme Road", NULL,
                                NULL) == NULL);
    b.query = q2;
    CHECK(ear_analyzer_set_brands(an, &b, 1, &err) == 0);
    CHECK_STR(ear_analyzer_brand_of(an, "Refunds from ACME", "x", NULL,
                                    NULL), "Acme");
    CHECK(ear_analyzer_brand_of(an, "x", "Refunds from ACME", NULL, NULL) ==
          NULL);
    CHECK_STR(ear_analyzer_brand_of(an, NULL, "x", NULL,
                                    "https://shop.acme.com/p/1"), "Acme");
    CHECK(ear_analyzer_brand_of(an, NULL, "x", NULL,
                                "https://notacme.com/") == NULL);
    CHECK_STR(ear_analyzer_brand_of(an, NULL, "x", "jane doe", NULL),
              "Acme");
    /* syntax errors name the column */
    b.query = q3;
    CHECK(ear_analyzer_set_brands(an, &b, 1, &err) == EAR_EINVAL);
    CHECK_STR(err.source, "Acme");
    CHECK(strstr(err.text, "')'") != NULL);
    CHECK_INT(err.col, 17);
    b.query = q4;
    CHECK(ear_analyzer_set_brands(an, &b, 1, &err) == EAR_EINVAL);
    CHECK(ear_analyzer_set_brands(an, NULL, 0, &err) == 0);
}

/* The borrowed verdict says what the owned one says, over many texts in a
 * row (its arrays and texts are reused), and stays readable until the
 * next call; an owned check in between leaves it alone. */
static void test_borrowed(void)
{
    static const char *const texts[] = {
        "A számlán hibás az ÁFA, és a csomag késik.",
        "Rossz.", "", "Nem rossz.", "Remek termék, de a csomag késik.",
        "A számla hibás, a számla hibás, a számla hibás, rossz, rossz!",
        "Köszönöm szépen, egy kis gond volt."
    };
    const struct ear_verdict *b = NULL;
    struct ear_verdict v, keep;
    struct ear_error err;
    size_t i, k, round;

    for (round = 0; round < 2; round++) {
        for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            const char *t = texts[i];
            CHECK(ear_analyzer_check(an, t, strlen(t), "hu", 0, &v,
                                     &err) == 0);
            CHECK(ear_analyzer_check_borrowed(an, t, strlen(t), "hu", 0,
                                              &b, &err) == 0 && b);
            if (!b) {
                ear_verdict_dispose(&v);
                continue;
            }
            CHECK_INT(b->flag, v.flag);
            CHECK(b->score == v.score);
            CHECK_INT(b->severity, v.severity);
            CHECK_STR(b->lang, v.lang);
            CHECK_INT(b->ncategories, v.ncategories);
            for (k = 0; k < v.ncategories && k < b->ncategories; k++)
                CHECK_STR(b->categories[k], v.categories[k]);
            CHECK((b->team == NULL) == (v.team == NULL));
            if (b->team && v.team)
                CHECK_STR(b->team, v.team);
            CHECK_INT(b->nmatches, v.nmatches);
            for (k = 0; k < v.nmatches && k < b->nmatches; k++) {
                CHECK_STR(b->matches[k].rule, v.matches[k].rule);
                CHECK_STR(b->matches[k].text, v.matches[k].text);
                CHECK_STR(b->matches[k].field, v.matches[k].field);
                CHECK_INT(b->matches[k].start, v.matches[k].start);
                CHECK_INT(b->matches[k].end, v.matches[k].end);
            }
            ear_verdict_dispose(&v);
        }
    }
    /* an owned check does not disturb the borrowed verdict */
    CHECK(ear_analyzer_check_borrowed(an, texts[0], strlen(texts[0]), "hu",
                                      0, &b, &err) == 0 && b);
    CHECK(ear_analyzer_check(an, "Remek.", 6, "hu", 0, &keep, &err) == 0);
    CHECK(b && b->flag == 1 && b->nmatches > 0 &&
          strcmp(b->matches[0].rule, "hu.billing.wrong-vat") == 0);
    ear_verdict_dispose(&keep);
    /* failures leave *out NULL */
    CHECK(ear_analyzer_check_borrowed(an, "x", 1, "fr", 0, &b, &err) ==
          EAR_EINVAL);
    CHECK(b == NULL);
}

/* The word cache keeps what the index says about a word per language and
 * hashtag flag: a cached answer must never leak across either. */
static void test_word_cache(void)
{
    struct ear_error err;
    struct ear_analyzer *a2 = load_pack("cache.yml",
        "lang: en\n"
        "rules:\n"
        "  - id: en.tag.only\n"
        "    description: the hashtag only\n"
        "    category: tone\n"
        "    severity: low\n"
        "    terms: [\"#boom\"]\n"
        "  - id: en.delivery.delayed\n"
        "    description: a delay\n"
        "    category: delivery\n"
        "    severity: low\n"
        "    terms: [delayed]\n"
        "lexicon:\n"
        "  negative:\n"
        "    - weight: 2\n"
        "      words: [drat, \"not acceptable\"]\n"
        "  positive:\n"
        "    - weight: 2\n"
        "      words: [lovely]\n"
        "  negators: [no, not]\n"
        "  inquiry:\n"
        "    - weight: 0.5\n"
        "      words: [any, will]\n", &err);
    struct ear_analyzer *a3 = load_pack("cache-hu.yml",
        "lang: hu\n"
        "lexicon:\n"
        "  negative:\n"
        "    - weight: 2\n"
        "      words: [\"rossz*\", unalmas]\n"
        "  positive:\n"
        "    - weight: 2\n"
        "      words: [jobb]\n", &err);
    int i;

    CHECK(a2 != NULL && a3 != NULL);
    if (!a2 || !a3) {
        ear_analyzer_free(a2);
        ear_analyzer_free(a3);
        return;
    }
    for (i = 0; i < 3; i++) { /* the second and third round hit the cache */
        CHECK_INT(fires(a2, "en.tag.only", "big #boom", "en"), 1);
        CHECK_INT(fires(a2, "en.tag.only", "big boom", "en"), 0);
        CHECK_INT(flags(a2, "drat", "en", 0), 1);
        CHECK_INT(flags(a2, "drat", "hu", 0), 0); /* an en word */
        /* a phrase with its own negation is not flipped by a negator
         * before it */
        CHECK_INT(flags(a2, "no reply is not acceptable", "en", 0), 1);
        CHECK_INT(flags(a2, "not lovely", "en", 0), 1);
        /* a complaint rule inside a question that asks is no complaint;
         * it weighs half, like the question's words */
        CHECK_INT(flags(a2, "Will my flight be delayed?", "en", 0), 0);
        CHECK_INT(fires(a2, "en.delivery.delayed",
                        "Will my flight be delayed?", "en"), 1);
        CHECK_INT(flags(a2, "My flight is delayed.", "en", 0), 1);
        CHECK_INT(flags(a2, "Why is my flight delayed?", "en", 0), 1);
        /* a question, then the complaint as a statement */
        CHECK_INT(flags(a2, "Will it ever come? It is delayed.", "en", 0), 1);
        /* Hungarian superlatives take their comparative's entry */
        CHECK_INT(flags(a3, "a legrosszabb", "hu", 0), 1);
        CHECK_INT(flags(a3, "a legeslegrosszabb", "hu", 0), 1);
        CHECK_INT(flags(a3, "a legunalmasabb", "hu", 0), 0); /* no '*' */
        CHECK_INT(flags(a3, "legalább", "hu", 0), 0);
        CHECK_INT(flags(a3, "a legjobb", "hu", 0), 0);
    }
    ear_analyzer_free(a2);
    ear_analyzer_free(a3);
}

static void test_selftest_api(void)
{
    size_t n = 0, failed = 9, i, count = ear_analyzer_rule_count(an);
    struct ear_rule_info ri;

    CHECK(ear_analyzer_selftest(an, NULL, NULL, &n, &failed) == 0);
    CHECK_INT(n, 0);
    CHECK_INT(failed, 0);
    CHECK_INT(count, 7);
    CHECK(ear_analyzer_rule_info(an, 0, &ri) == 0);
    CHECK_STR(ri.id, "hu.billing.wrong-vat");
    CHECK_STR(ri.category, "billing");
    CHECK_STR(ri.team, "billing");
    CHECK_STR(ri.lang, "hu");
    CHECK_INT(ri.severity, EAR_SEV_HIGH);
    CHECK_INT(ri.line, 5);
    CHECK(ear_analyzer_rule_info(an, count, &ri) == EAR_EINVAL);
    for (i = 0; i < count; i++)
        CHECK(ear_analyzer_rule_info(an, i, &ri) == 0 && ri.file != NULL);
}

int main(void)
{
    struct ear_error err;

    an = load_pack("match.yml", pack, &err);
    CHECK(an != NULL);
    if (!an) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.source, err.line, err.col,
                err.text);
        return check_result();
    }
    test_terms();
    test_near();
    test_scope();
    test_regex();
    test_lexicon();
    test_rating();
    test_verdict();
    test_mention();
    test_query();
    test_borrowed();
    test_word_cache();
    test_selftest_api();
    ear_analyzer_free(an);
    return check_result();
}
