/* Canonical links and file URLs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fetcher/fetcher.h"

static void canon(const char *in, const char *want)
{
    char *out = NULL;

    CHECK_INT(ear_url_canonical(&out, in), 0);
    CHECK_STR(out, want);
    free(out);
}

int main(void)
{
    char *u = NULL;
    char cwd[1024], want[1200];

    canon("https://example.com/a?b=1", "https://example.com/a?b=1");
    canon("https://example.com/a?utm_source=x&b=1&utm_medium=y",
          "https://example.com/a?b=1");
    canon("https://example.com/a?fbclid=1", "https://example.com/a");
    canon("https://example.com/a?gclid=1&x=2#frag",
          "https://example.com/a?x=2#frag");
    canon("https://example.com/a?utm=keep&futm_source=keep",
          "https://example.com/a?utm=keep&futm_source=keep");
    canon("https://www.google.com/url?rct=j&sa=t&url=https://n.example/p%3Fid%3D1%26utm_campaign%3Dz&ct=ga",
          "https://n.example/p?id=1");
    canon("https://www.google.co.uk/url?q=https://uk.example/x&sa=U",
          "https://uk.example/x");
    canon("https://www.google.com/url?url=javascript:alert(1)",
          "https://www.google.com/url?url=javascript:alert(1)");
    canon("https://notgoogle.com.evil.example/url?url=https://x.example/",
          "https://notgoogle.com.evil.example/url?url=https://x.example/");
    canon("not a url at all", "not a url at all");
    canon("tag:example.com,2026:1", "tag:example.com,2026:1");

    CHECK_INT(ear_fetch_file_url(&u, "/tmp/a b.xml", NULL), 0);
    CHECK_STR(u, "file:///tmp/a%20b.xml");
    free(u);
    CHECK_INT(ear_fetch_file_url(&u, "https://x.example/f", NULL), 0);
    CHECK_STR(u, "https://x.example/f");
    free(u);
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    snprintf(want, sizeof(want), "file://%s/rel/f.xml", cwd);
    CHECK_INT(ear_fetch_file_url(&u, "rel/f.xml", NULL), 0);
    if (!strchr(cwd, ' '))
        CHECK_STR(u, want);
    free(u);
    return check_result();
}
