/* HTML to plain text: ear_html_to_text(). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fetcher/fetcher.h"

static void expect(const char *html, const char *want)
{
    char *out = NULL;
    int rc = ear_html_to_text(&out, html, strlen(html));

    CHECK_INT(rc, 0);
    CHECK_STR(out, want);
    free(out);
}

int main(void)
{
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
