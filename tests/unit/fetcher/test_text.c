/* HTML to plain text: ear_html_to_text(), the text accumulator, and one
 * converter (one libxml2 HTML parser context) used for many fragments. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fetcher/fetcher_int.h"

static void expect(const char *html, const char *want)
{
    char *out = NULL;
    int rc = ear_html_to_text(&out, html, strlen(html));

    CHECK_INT(rc, 0);
    CHECK_STR(out, want);
    free(out);
}

/* ear_text__add() of s into a text of at most max bytes (0: default). */
static void expect_add(size_t max, const char *s, int newlines,
                       const char *want)
{
    struct ear_text t;
    char *out;
    int rc = 0;

    ear_text__init(&t, max);
    ear_text__add(&t, s, strlen(s), newlines);
    out = ear_text__take(&t, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(out, want);
    free(out);
}

/* Fragments through one converter: nothing of one (an element left open,
 * <pre>, a dropped element) reaches the next. */
static void expect_shared(struct ear_html *h, const char *html,
                          const char *want)
{
    char *out = NULL;

    CHECK_INT(ear_html__convert(h, &out, html, strlen(html), 0), 0);
    CHECK_STR(out, want);
    free(out);
}

int main(void)
{
    struct ear_html h;

    expect_add(0, "one two  three\n four\t", 0, "one two three four");
    expect_add(0, " one two\n\nthree ", 1, "one two\nthree");
    expect_add(0, "a\xC2\xA0" "b c\xC2\xA9 d\xC2", 0, "a b c\xC2\xA9 d\xC2");
    /* long words, read eight bytes at a time */
    expect_add(0, "abcdefghij\tklmnopqrstu   vwxyzabcdefgh\r\n", 0,
               "abcdefghij klmnopqrstu vwxyzabcdefgh");
    expect_add(0, "abcdefgh\x01ijklmnopq r", 0, "abcdefgh\x01ijklmnopq r");
    expect_add(0, "abcdefghijk\xC2\xA0lmnopqrstuvwxyz", 0,
               "abcdefghijk lmnopqrstuvwxyz");
    expect_add(0, "abcdefghij\xC2\xA9klmnopqrs\xC2", 0,
               "abcdefghij\xC2\xA9klmnopqrs\xC2");
    expect_add(0, "\xE2\x80\x9Cquoted\xE2\x80\x9D words\nand\vmore", 1,
               "\xE2\x80\x9Cquoted\xE2\x80\x9D words\nand more");
    expect_add(0, "abcdefg  hijklmno pq", 0, "abcdefg hijklmno pq");
    expect_add(0, "abcdefg hijklmn\tpq rs tuvwxyz ", 0,
               "abcdefg hijklmn pq rs tuvwxyz");
    expect_add(0, "one two three four five six seven\n", 1,
               "one two three four five six seven");
    expect_add(12, "abcdefg hijklmnop qr", 0, "abcdefg hijk");
    /* a text that does not fit is cut piece by piece, each piece at a
     * character boundary */
    expect_add(5, "aaa bbb", 0, "aaa b");
    expect_add(3, "aaa bbb", 0, "aaa");
    expect_add(4, "ab \xE2\x82\xAC" "x y", 0, "ab  ");
    expect_add(6, "ab \xE2\x82\xAC" "x y", 0, "ab \xE2\x82\xAC");

    ear_html__init(&h);
    expect_shared(&h, "<script>never closed <p>x", "");
    expect_shared(&h, "<p>one</p>two", "one\ntwo");
    expect_shared(&h, "<pre>a\nb", "a\nb");
    expect_shared(&h, "c\n<b>d</b>", "c d");
    expect_shared(&h, "<table><tr><td>1", "1");
    expect_shared(&h, "caf&eacute; <i>x", "caf\xc3\xa9 x");
    ear_html__dispose(&h);

    expect("", "");
    expect("plain text", "plain text");
    expect("  lots \t of\n\n   space  ", "lots of space");
    expect("<p>one</p><p>two</p>", "one\ntwo");
    expect("a<br>b<br/>c", "a\nb\nc");
    expect("<div><p>nested</p></div><div></div><p> </p>end", "nested\nend");
    expect("<script>var x = '<p>no</p>';</script>yes", "yes");
    expect("<style>p{}</style><noscript>enable js</noscript>ok", "ok");
    expect("caf&eacute; &amp; &lt;tag&gt; &#337;&#x171; &nbsp;x",
           "caf\xc3\xa9 & <tag> \xc5\x91\xc5\xb1 x");
    expect("<ul><li>a</li><li>b <b>bold</b></li></ul>", "a\nb bold");
    expect("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>",
           "1 2\n3");
    expect("<pre>line1\n  line2</pre>", "line1\nline2");
    expect("unclosed <b>bold <i>italic", "unclosed bold italic");
    expect("<h1>Title</h1>Body", "Title\nBody");
    expect("x<img src=a.png alt=picture>y", "xy");
    expect("5 < 6 and 7 > 3", "5 < 6 and 7 > 3");
    expect("<html><head><title>T</title></head><body>B</body></html>", "B");
    /* Simple markup is read without libxml2's HTML parser; these give
     * what the parser gives (auto-closed elements, implied <head>,
     * references it reads its own way), whichever path takes them. */
    expect("<b>x</b> &amp; <i>y</i>", "x & y");
    expect("&foo; bar", "&foo; bar");
    expect("<!-- c --><p>a</p><p>b</p>", "a\nb");
    expect("x<script>if (a</b) {}</script>y", "xy");
    expect("<script>x</script>y", "y");
    expect("a<p>b<div>c</div>d</p>e", "a\nb\nc\nde");
    expect("text<td>cell", "text\ncell");
    expect("<section>a</section><figure>b</figure>c", "a\nb\nc");
    expect("<img src=x></img>after", "after");
    expect("AT&T and &#0; &#x110000; ok", "AT&T and ok");
    expect("a&nbsp;b<br />c", "a b\nc");
    expect("<table><tr><td>1<td>2</tr></table>", "1 2");
    expect("<P CLASS=\"x\">Up</P>per", "Up\nper");
    expect("<a href='x' title=\"a>b\">link</a> t", "link t");
    /* deep nesting stays bounded */
    {
        char *deep = malloc(5 * 3000 + 16);
        size_t i, n = 0;

        for (i = 0; i < 3000; i++) {
            memcpy(deep + n, "<div>", 5);
            n += 5;
        }
        memcpy(deep + n, "deep", 5);
        {
            char *out = NULL;

            CHECK_INT(ear_html_to_text(&out, deep, strlen(deep)), 0);
            CHECK(out != NULL);
            free(out);
        }
        free(deep);
    }
    return check_result();
}
