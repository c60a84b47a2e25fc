/* The small languages inside the fetcher: JSON paths and templates of the
 * mappings, robots.txt rules, ratings onto 1..5, and the URL helpers of
 * pagination (query parameters, page counters, Link headers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fetcher/fetcher_int.h"

static const char doc_text[] =
    "{\"feed\":{\"entry\":[{\"id\":{\"label\":\"7\"},\"im:rating\":"
    "{\"label\":\"4\"}},{\"id\":{\"label\":\"8\"}}],"
    "\"link\":[{\"attributes\":{\"rel\":\"self\",\"href\":\"s\"}},"
    "{\"attributes\":{\"rel\":\"next\",\"href\":\"n\"}}]},"
    "\"a.b\":{\"c\":1.5},\"n\":42,\"empty\":\"\",\"t\":true,"
    "\"list\":[\"x\",\"y\",\"z\"]}";

static char *eval(const char *expr, const json_t *root)
{
    struct ear_jexpr *e = NULL;
    const char *why = NULL;
    char *out = NULL;

    if (ear_jexpr__compile(&e, expr, &why) < 0) {
        fprintf(stderr, "compile '%s': %s\n", expr, why ? why : "?");
        return NULL;
    }
    if (ear_jexpr__eval(&out, e, root) < 0)
        out = NULL;
    ear_jexpr__free(e);
    return out;
}

static int count_visit(const json_t *v, void *payload)
{
    (void)v;
    (*(int *)payload)++;
    return 0;
}

static void test_paths(void)
{
    json_error_t jerr;
    json_t *root = json_loads(doc_text, 0, &jerr);
    struct ear_jpath *p = NULL;
    const char *why;
    char *s;
    int n = 0;

    CHECK(root != NULL);
    s = eval("feed.entry[0].id.label", root);
    CHECK_STR(s, "7");
    free(s);
    s = eval("feed.entry[-1].id.label", root);
    CHECK_STR(s, "8");
    free(s);
    s = eval("feed.entry[0].im:rating.label", root);
    CHECK_STR(s, "4");
    free(s);
    s = eval("feed.link[attributes.rel=next].attributes.href", root);
    CHECK_STR(s, "n");
    free(s);
    s = eval("feed.link[attributes.rel='self'].attributes.href", root);
    CHECK_STR(s, "s");
    free(s);
    s = eval("['a.b'].c", root);
    CHECK_STR(s, "1.5");
    free(s);
    s = eval("a\\.b.c", root);
    CHECK_STR(s, "1.5");
    free(s);
    s = eval("n", root);
    CHECK_STR(s, "42");
    free(s);
    s = eval("t", root);
    CHECK_STR(s, "true");
    free(s);
    CHECK(eval("empty", root) == NULL);    /* "" is no value */
    CHECK(eval("feed.nothing", root) == NULL);
    CHECK(eval("feed.entry[5].id", root) == NULL);
    CHECK(eval("list.x", root) == NULL);   /* a key on an array */
    s = eval("id-{feed.entry[1].id.label}/{n}", root);
    CHECK_STR(s, "id-8/42");
    free(s);
    /* a template with a hole that has no value has no value */
    CHECK(eval("x{feed.entry[1].im:rating.label}", root) == NULL);
    CHECK_INT(ear_jpath__compile(&p, "list[*]", &why), 0);
    ear_jpath__each(p, root, count_visit, &n);
    CHECK_INT(n, 3);
    ear_jpath__free(p);
    n = 0;
    CHECK_INT(ear_jpath__compile(&p, "$", &why), 0);
    ear_jpath__each(p, root, count_visit, &n);
    CHECK_INT(n, 1);
    ear_jpath__free(p);
    n = 0;
    CHECK_INT(ear_jpath__compile(&p, "feed.entry[*].id", &why), 0);
    ear_jpath__each(p, root, count_visit, &n);
    CHECK_INT(n, 2);
    ear_jpath__free(p);

    /* bad paths say why */
    CHECK_INT(ear_jpath__compile(&p, "a..b", &why), EAR_EINVAL);
    CHECK_STR(why, "empty key");
    CHECK_INT(ear_jpath__compile(&p, "a[", &why), EAR_EINVAL);
    CHECK_STR(why, "missing ']'");
    CHECK_INT(ear_jpath__compile(&p, ".a", &why), EAR_EINVAL);
    CHECK_INT(ear_jpath__compile(&p, "a['b]", &why), EAR_EINVAL);
    {
        struct ear_jexpr *e = NULL;

        CHECK_INT(ear_jexpr__compile(&e, "x{a", &why), EAR_EINVAL);
        CHECK(e == NULL);
    }
    json_decref(root);
}

static void test_robots(void)
{
    static const char txt[] =
        "# comment\n"
        "User-agent: *\n"
        "Disallow: /\n"
        "\n"
        "User-agent: Googlebot\n"
        "User-agent: EARSHOT/2\n"      /* product token, any case */
        "Disallow: /private   # trailing comment\n"
        "Allow: /private/open\n"
        "Disallow: /*.pdf$\n"
        "Disallow: /search?*q=\n"
        "Disallow:\n"
        "\n"
        "User-agent: otherbot\n"
        "Allow: /\n";
    struct ear_robots *r = NULL;

    CHECK_INT(ear_robots__parse(&r, txt, strlen(txt), "earshot"), 0);
    CHECK(ear_robots__allowed(r, "/"));
    CHECK(ear_robots__allowed(r, "/reviews/1"));
    CHECK(!ear_robots__allowed(r, "/private"));
    CHECK(!ear_robots__allowed(r, "/private/x"));
    CHECK(ear_robots__allowed(r, "/private/open/y"));  /* longer Allow */
    CHECK(!ear_robots__allowed(r, "/doc/a.pdf"));
    CHECK(ear_robots__allowed(r, "/doc/a.pdf?x=1"));   /* $ anchors */
    CHECK(!ear_robots__allowed(r, "/search?lang=hu&q=acme"));
    CHECK(ear_robots__allowed(r, "/search?lang=hu"));
    CHECK(ear_robots__allowed(r, "/robots.txt"));
    ear_robots__free(r);

    /* no group names us: the "*" group applies */
    CHECK_INT(ear_robots__parse(&r, txt, strlen(txt), "curious"), 0);
    CHECK(!ear_robots__allowed(r, "/reviews/1"));
    ear_robots__free(r);

    /* equal length: Allow wins; wildcards backtrack */
    {
        static const char t2[] = "User-agent: *\nDisallow: /a\nAllow: /a\n"
                                 "Disallow: /*x*y*z\n";

        CHECK_INT(ear_robots__parse(&r, t2, strlen(t2), "earshot"), 0);
        CHECK(ear_robots__allowed(r, "/a/b"));
        CHECK(!ear_robots__allowed(r, "/1x2y3z4"));
        CHECK(ear_robots__allowed(r, "/1x2z3y"));
        ear_robots__free(r);
    }
    /* garbage is no rules at all */
    CHECK_INT(ear_robots__parse(&r, "\x01\xff<html>", 8, "earshot"), 0);
    CHECK(ear_robots__allowed(r, "/x"));
    ear_robots__free(r);
    CHECK(ear_robots__allowed(NULL, "/x"));
}

static void test_ratings(void)
{
    double v, best;

    CHECK(fabs(ear_rating__normalize(4, NAN, NAN) - 4) < 1e-9);
    CHECK(fabs(ear_rating__normalize(1, 1, 5) - 1) < 1e-9);
    CHECK(fabs(ear_rating__normalize(10, 1, 10) - 5) < 1e-9);
    CHECK(fabs(ear_rating__normalize(5, 0, 10) - 3) < 1e-9);
    CHECK(fabs(ear_rating__normalize(80, NAN, NAN) - 4.2) < 1e-9);
    CHECK(fabs(ear_rating__normalize(7, 1, 5) - 5) < 1e-9);  /* clamped */
    CHECK(ear_rating__normalize(0, 1, 5) == 0);     /* 0 stars: none */
    CHECK(ear_rating__normalize(3, 5, 5) == 0);     /* no scale */
    CHECK(ear_rating__normalize(500, NAN, NAN) == 0);
    CHECK(ear_rating__normalize(-1, NAN, NAN) == 0);
    CHECK_INT(ear_rating__text(&v, &best, "4,5 / 5"), 0);
    CHECK(fabs(v - 4.5) < 1e-9 && fabs(best - 5) < 1e-9);
    CHECK_INT(ear_rating__text(&v, &best, "Rated 8 out of 10"), 0);
    CHECK(fabs(v - 8) < 1e-9 && fabs(best - 10) < 1e-9);
    CHECK_INT(ear_rating__text(&v, &best, "3 stars"), 0);
    CHECK(fabs(v - 3) < 1e-9 && best == 0);
    CHECK_INT(ear_rating__text(&v, &best, "no stars"), EAR_EPARSE);
    CHECK_INT(ear_rating__number(&v, ".5"), 0);
    CHECK(fabs(v - 0.5) < 1e-9);
}

static void test_urls(void)
{
    char *s = NULL;
    long n = 0;

    CHECK_INT(ear_url__set_param(&s, "https://x.example/s?q=a&after=1&b=2",
                                 "after", "t3 x&y"), 0);
    CHECK_STR(s, "https://x.example/s?q=a&b=2&after=t3%20x%26y");
    free(s);
    CHECK_INT(ear_url__set_param(&s, "https://x.example/s", "page", "2"), 0);
    CHECK_STR(s, "https://x.example/s?page=2");
    free(s);
    CHECK_INT(ear_url__get_counter(&n, "https://i.example/hu/rss/"
                                       "customerreviews/page=3/id=9/json",
                                   "page"), 0);
    CHECK_INT(n, 3);
    CHECK_INT(ear_url__set_counter(&s, "https://i.example/hu/rss/"
                                       "customerreviews/page=3/id=9/json",
                                   "page", 4), 0);
    CHECK_STR(s, "https://i.example/hu/rss/customerreviews/page=4/id=9/json");
    free(s);
    CHECK_INT(ear_url__get_counter(&n, "https://h.example/s?query=a&page=7",
                                   "page"), 0);
    CHECK_INT(n, 7);
    CHECK_INT(ear_url__get_counter(&n, "https://h.example/s?subpage=7",
                                   "page"), EAR_ENOTFOUND);
    CHECK_INT(ear_url__set_counter(&s, "https://h.example/s?query=a", "page",
                                   1), 0);
    CHECK_STR(s, "https://h.example/s?query=a&page=1");
    free(s);
    s = ear_url__link_next("<https://m.example/a?max_id=1>; rel=\"next\", "
                           "<https://m.example/a?min_id=9>; rel=\"prev\"",
                           "https://m.example/a");
    CHECK_STR(s, "https://m.example/a?max_id=1");
    free(s);
    s = ear_url__link_next("</p?page=2>; rel=\"last next\"",
                           "https://m.example/x/p");
    CHECK_STR(s, "https://m.example/p?page=2");
    free(s);
    CHECK(ear_url__link_next("<https://m.example/a>; rel=\"prev\"",
                             NULL) == NULL);
    CHECK(ear_url__link_next("garbage <", NULL) == NULL);
}

int main(void)
{
    test_paths();
    test_robots();
    test_ratings();
    test_urls();
    return check_result();
}
