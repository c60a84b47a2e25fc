/* Text preparation: case and accent folding, the byte map back to the
 * original, tokens that survive folding, language detection. */
#include "helpers.h"

static void test_fold(void)
{
    char *f = NULL;
    size_t n = 0, *map = NULL;
    const char *s = "SZÁMLA Árvíztűrő TÜKÖRFÚRÓGÉP";

    CHECK(ear_analyzer_fold(&f, &n, &map, s, strlen(s)) == 0);
    CHECK_STR(f, "szamla arvizturo tukorfurogep");
    CHECK_INT(n, strlen("szamla arvizturo tukorfurogep"));
    /* "á" (2 bytes) folds to one byte that maps to its first byte */
    CHECK_INT(map[0], 0);
    CHECK_INT(map[2], 2);  /* 'a' from the two bytes of 'Á' at 2..3 */
    CHECK_INT(map[3], 4);  /* 'm' after "SZÁ" */
    CHECK_INT(map[n], strlen(s));
    free(f);
    free(map);

    /* apostrophes inside words vanish; typographic ones too */
    CHECK(ear_analyzer_fold(&f, &n, NULL, "Doesn\xe2\x80\x99t don't",
                            strlen("Doesn\xe2\x80\x99t don't")) == 0);
    CHECK_STR(f, "doesnt dont");
    free(f);

    /* ő/ű and their capitals, and other Latin letters */
    CHECK(ear_analyzer_fold(&f, &n, NULL, "ŐŰőű Ñandú façade Straße",
                            strlen("ŐŰőű Ñandú façade Straße")) == 0);
    CHECK_STR(f, "ouou nandu facade strasse");
    free(f);

    /* invalid UTF-8 becomes U+FFFD in the shadow, mapped back per byte */
    CHECK(ear_analyzer_fold(&f, &n, &map, "a\xff\xfe b", 5) == 0);
    CHECK_INT(n, 9);
    CHECK_INT(map[1], 1);
    CHECK_INT(map[4], 2);
    CHECK_INT(map[7], 3);
    CHECK_INT(map[8], 4);
    CHECK_INT(map[9], 5);
    free(f);
    free(map);

    /* a long run of invalid bytes triples in the shadow (the buffers
     * once held only twice the input: an overflow under ASan) */
    {
        char bad[64];
        memset(bad, 0xff, sizeof bad);
        CHECK(ear_analyzer_fold(&f, &n, &map, bad, sizeof bad) == 0);
        CHECK_INT(n, 3 * sizeof bad);
        CHECK_INT(map[n - 1], sizeof bad - 1);
        CHECK_INT(map[n], sizeof bad);
        free(f);
        free(map);
    }
}

static void test_detect(void)
{
    const char *paths[] = {NULL};
    struct ear_analyzer *an = NULL;
    struct ear_error err;

    CHECK(ear_analyzer_new(&an, paths, &err) == 0);
    if (!an)
        return;
    CHECK_STR(ear_analyzer_detect_lang(an, "A csomag még mindig nem "
                                       "érkezett meg, és senki nem válaszol.",
                                       60), "hu");
    CHECK_STR(ear_analyzer_detect_lang(an, "My package has not arrived and "
                                       "nobody answers the phone.", 55),
              "en");
    /* accent-free Hungarian still reads as Hungarian */
    CHECK_STR(ear_analyzer_detect_lang(an, "a szamla hibas es nem kaptam "
                                       "meg a penzem", 41), "hu");
    CHECK_STR(ear_analyzer_detect_lang(an, "Számla", 7), "hu");
    CHECK_STR(ear_analyzer_detect_lang(an, "@united thanks", 14), "en");
    ear_analyzer_free(an);
}

static const char pack[] =
    "lang: any\n"
    "rules:\n"
    "  - id: t.hashtag\n"
    "    description: hashtags count as words\n"
    "    category: support\n"
    "    severity: low\n"
    "    terms: [neverflyingagain, csalodas]\n"
    "  - id: t.only-hashtag\n"
    "    description: a '#' term needs a hashtag\n"
    "    category: support\n"
    "    severity: low\n"
    "    terms: [\"#fail\"]\n"
    "  - id: t.handle\n"
    "    description: handles keep their '@'\n"
    "    category: support\n"
    "    severity: low\n"
    "    terms: [\"@acme\"]\n"
    "  - id: t.emoticon\n"
    "    description: emoticons are tokens\n"
    "    category: tone\n"
    "    severity: low\n"
    "    terms: [\":(\", \"😡\"]\n";

static void test_tokens(void)
{
    struct ear_error err;
    struct ear_analyzer *an = load_pack("tokens.yml", pack, &err);
    struct ear_verdict v;
    const struct ear_match *m;
    const char *t;

    CHECK(an != NULL);
    if (!an) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.source, err.line, err.col,
                err.text);
        return;
    }
    CHECK_INT(fires(an, "t.hashtag", "so done #NeverFlyingAgain", "en"), 1);
    CHECK_INT(fires(an, "t.hashtag", "Ez egy nagy #csalódás", "hu"), 1);
    CHECK_INT(fires(an, "t.only-hashtag", "what a #FAIL", "en"), 1);
    CHECK_INT(fires(an, "t.only-hashtag", "they fail again", "en"), 0);
    CHECK_INT(fires(an, "t.handle", "hey @ACME why", "en"), 1);
    CHECK_INT(fires(an, "t.handle", "acme road", "en"), 0);
    CHECK_INT(fires(an, "t.emoticon", "late again :-((", "en"), 1);
    CHECK_INT(fires(an, "t.emoticon", "late again \xf0\x9f\x98\xa1\xef\xb8\x8f",
                    "en"), 1);
    /* URLs are not words */
    CHECK_INT(fires(an, "t.hashtag", "see https://x.io/neverflyingagain",
                    "en"), 0);
    /* offsets point into the original text */
    t = "Ma: NeverFlyingAgain!";
    CHECK(ear_analyzer_check(an, t, strlen(t), "en", 0, &v, &err) == 0);
    m = find_match(&v, "t.hashtag");
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->start, 4);
        CHECK_INT(m->end, 20);
        CHECK_STR(m->text, "NeverFlyingAgain");
    }
    ear_verdict_dispose(&v);
    ear_analyzer_free(an);
}

int main(void)
{
    test_fold();
    test_detect();
    test_tokens();
    return check_result();
}
