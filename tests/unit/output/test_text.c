/* Text for people: highlighting, cleaning, snippets, Markdown and HTML
 * escaping, link safety. */
#include "check.h"
#include "output/output.h"

static struct ear_buf b;

static const char *md(const char *s)
{
    ear_buf_reset(&b);
    if (ear_md_escape(&b, s) < 0)
        return NULL;
    return ear_buf_str(&b);
}

static const char *html(const char *s)
{
    ear_buf_reset(&b);
    if (ear_html_escape(&b, s) < 0)
        return NULL;
    return ear_buf_str(&b);
}

static const char *enc(const char *s)
{
    ear_buf_reset(&b);
    if (ear_url_encode(&b, s) < 0)
        return NULL;
    return ear_buf_str(&b);
}

static const char *clean(const char *s)
{
    ear_buf_reset(&b);
    if (ear_text_clean(&b, s) < 0)
        return NULL;
    return ear_buf_str(&b);
}

static const char *snip(const char *s, size_t cols)
{
    ear_buf_reset(&b);
    if (ear_text_snippet(&b, s, cols) < 0)
        return NULL;
    return ear_buf_str(&b);
}

static void add_match(struct ear_verdict *v, const char *field,
                      const char *base, size_t start, size_t end)
{
    ear_verdict_add_match(v, "r", NULL, field, base, start, end, 1);
    /* ear_verdict_add_match copies the text; offsets are what matter. */
    v->matches[v->nmatches - 1].start = start;
    v->matches[v->nmatches - 1].end = end;
}

static const char *hl(const struct ear_verdict *v, const char *text,
                      const char *field)
{
    ear_buf_reset(&b);
    if (ear_text_highlight(&b, text, field, v->matches, v->nmatches, "[[",
                           "]]") < 0)
        return NULL;
    return ear_buf_str(&b);
}

static void test_highlight(void)
{
    const char *t = "A számla hibás, kétszer vonták le!";
    struct ear_verdict v;

    ear_verdict_init(&v);
    CHECK_STR(hl(&v, t, "text"), t); /* no matches: text unchanged */
    add_match(&v, "text", t, 2, 9);   /* "számla" */
    CHECK_STR(hl(&v, t, "text"), "A [[számla]] hibás, kétszer vonták le!");
    /* Overlapping and touching ranges merge; order does not matter. */
    add_match(&v, "text", t, 18, 26); /* "kétszer" */
    add_match(&v, "text", t, 10, 18); /* "hibás, " touching the next */
    add_match(&v, "text", t, 4, 8);   /* inside "számla" */
    CHECK_STR(hl(&v, t, "text"),
              "A [[számla]] [[hibás, kétszer]] vonták le!");
    /* Matches of the other field are not applied. */
    CHECK_STR(hl(&v, t, "title"), t);
    ear_verdict_dispose(&v);

    /* A range that cuts a UTF-8 sequence is widened; past the end is
     * clipped; an empty or reversed range is ignored. */
    ear_verdict_init(&v);
    add_match(&v, "text", t, 5, 6);   /* second byte of "á" */
    add_match(&v, "text", t, 31, 999);
    add_match(&v, "text", t, 20, 20);
    add_match(&v, "text", t, 22, 21);
    CHECK_STR(hl(&v, t, "text"), "A sz[[á]]mla hibás, kétszer vont[[ák le!]]");
    ear_verdict_dispose(&v);

    /* NULL field in a match counts as text; control characters in the
     * text are made harmless. */
    ear_verdict_init(&v);
    add_match(&v, NULL, "ab\x1b[2Jcd", 0, 2);
    CHECK_STR(hl(&v, "ab\x1b[2Jcd", "text"), "[[ab]] [2Jcd");
    ear_verdict_dispose(&v);
}

static void test_clean(void)
{
    CHECK_STR(clean("plain ő"), "plain ő");
    CHECK_STR(clean("a\tb\nc\x7f" "d"), "a b c d");
    /* C1 control (U+009B, CSI) and an invalid byte. */
    CHECK_STR(clean("x\xC2\x9B" "1m y\xFFz"), "x 1m y\xEF\xBF\xBDz");
    CHECK_INT(ear_text_width("árvíztűrő"), 9);
    CHECK_INT(ear_text_width("😡!"), 3);
    CHECK_STR(snip("short", 10), "short");
    CHECK_STR(snip("exactly10!", 10), "exactly10!");
    CHECK_STR(snip("longer than ten", 10), "longer th…");
    CHECK_STR(snip("ááááááááááááá", 5), "áááá…");
    CHECK_STR(snip("😡😡😡😡", 5), "😡😡…");
}

static void test_markdown(void)
{
    CHECK_STR(md("plain text, ékezetes"), "plain text, ékezetes");
    CHECK_STR(md("[x](javascript:alert(1))"),
              "\\[x\\]\\(javascript:alert\\(1\\)\\)");
    CHECK_STR(md("<script>alert(1)</script>"),
              "\\<script\\>alert\\(1\\)\\</script\\>");
    CHECK_STR(md("`code` *bold* _it_ a|b ~x~ &amp;"),
              "\\`code\\` \\*bold\\* \\_it\\_ a\\|b \\~x\\~ \\&amp;");
    CHECK_STR(md("# heading"), "\\# heading");
    CHECK_STR(md("  - item"), "  \\- item");
    CHECK_STR(md("1. first"), "1\\. first");
    CHECK_STR(md("a # b - c 1. d"), "a # b - c 1. d");
    CHECK_STR(md("line\nbreak\r\n# no"), "line break  # no");
    CHECK_STR(md("back\\slash"), "back\\\\slash");
}

static void test_html(void)
{
    CHECK_STR(html("<script>alert(1)</script>"),
              "&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK_STR(html("\"><img src=x onerror=alert(1)>"),
              "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    CHECK_STR(html("a & b 'c' ű"), "a &amp; b &#39;c&#39; ű");
}

static void test_urls(void)
{
    CHECK(ear_url_linkable("https://example.org/x"));
    CHECK(ear_url_linkable("HTTP://example.org"));
    CHECK(!ear_url_linkable("javascript:alert(1)"));
    CHECK(!ear_url_linkable("JavaScript:alert(1)"));
    CHECK(!ear_url_linkable(" https://example.org"));
    CHECK(!ear_url_linkable("data:text/html,<script>"));
    CHECK(!ear_url_linkable("file:///etc/passwd"));
    CHECK(!ear_url_linkable("https://"));
    CHECK(!ear_url_linkable("http:///x"));
    CHECK(!ear_url_linkable(NULL));
    CHECK_STR(enc("https://e.org/a b?q=(1)&r=\"x\"<y>"),
              "https://e.org/a%20b?q=%281%29&r=%22x%22%3Cy%3E");
    CHECK_STR(enc("https://e.hu/árvíz"), "https://e.hu/%C3%A1rv%C3%ADz");
    CHECK_STR(enc("https://e.org/%41'`"), "https://e.org/%41%27%60");
}

int main(void)
{
    ear_buf_init(&b, 1 << 20);
    test_highlight();
    test_clean();
    test_markdown();
    test_html();
    test_urls();
    ear_buf_dispose(&b);
    return check_result();
}
