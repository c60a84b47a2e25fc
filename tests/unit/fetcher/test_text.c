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
