/* The digest's "sources needing attention": failing and throttled sources,
 * silent ones (nothing new for longer than their expected_every) and those
 * never polled; healthy and disabled sources are left out; the source's
 * words (its last error) are escaped in Markdown and HTML. */
#include <jansson.h>

#include "fixture.h"

#define H 3600

static const char *const yaml =
    "sources:\n"
    "  - name: healthy\n    url: feeds/a.xml\n    expected_every: 1d\n"
    "  - name: quiet\n    url: feeds/b.xml\n    expected_every: 6h\n"
    "  - name: never-new\n    url: feeds/c.xml\n    expected_every: 6h\n"
    "  - name: broken\n    url: feeds/d.xml\n"
    "  - name: fresh\n    url: feeds/e.xml\n"
    "  - name: off\n    url: feeds/f.xml\n    enabled: false\n"
    "  - name: no-expectation\n    url: feeds/g.xml\n";

static void put(struct ear_store *st, const char *name, const char *status,
                int64_t success, int64_t last_new, int failures,
                const char *error)
{
    struct ear_source_state s;
    struct ear_error err = {0};

    ear_source_state_init(&s);
    s.name = (char *)name;
    s.last_status = (char *)status;
    s.last_poll = T0 + 11 * H;
    s.last_success = success;
    s.last_new = last_new;
    s.failures = failures;
    s.last_error = (char *)error;
    if (ear_store_source_put(st, &s, &err) < 0) {
        fprintf(stderr, "source put: %s\n", err.text);
        check_failures++;
    }
}

static const json_t *find(const json_t *a, const char *name)
{
    size_t i;
    json_t *o;

    json_array_foreach(a, i, o)
        if (strcmp(json_string_value(json_object_get(o, "name")), name) == 0)
            return o;
    return NULL;
}

static const char *field(const json_t *a, const char *name, const char *key)
{
    const json_t *o = find(a, name);

    return o ? json_string_value(json_object_get(o, key)) : NULL;
}

int main(void)
{
    struct ear_config *cfg = fx_config("digest_src.yml", yaml);
    struct ear_store *st = fx_store("digest_src.db");
    struct ear_error err = {0};
    struct ear_buf out;
    const json_t *a;
    json_t *d = NULL;
    int64_t until = T0 + 12 * H;

    /* healthy: new items an hour ago; quiet: the last new item 10 h before
     * until, over its 6 h; never-new: polled fine, never anything new;
     * broken: three failures, an error with markup in it; off: disabled
     * and failing; no-expectation: old news but no expected_every; fresh
     * has never been polled. */
    put(st, "healthy", "ok", T0 + 11 * H, T0 + 11 * H, 0, NULL);
    put(st, "quiet", "not-modified", T0 + 11 * H, T0 + 2 * H, 0, NULL);
    put(st, "never-new", "ok", T0 + 11 * H, 0, 0, NULL);
    put(st, "broken", "failed", T0 - 48 * H, T0 - 48 * H, 3,
        "HTTP 500 <b>boom</b>");
    put(st, "off", "failed", 0, 0, 9, "gone");
    put(st, "no-expectation", "ok", T0 + 11 * H, T0 - 400 * H, 0, NULL);

    CHECK_INT(ear_digest_build(&d, st, cfg, T0, until, &err), 0);
    a = json_object_get(d, "sources_attention");
    CHECK(json_is_array(a));
    CHECK_INT(json_array_size(a), 4);
    CHECK_STR(field(a, "quiet", "status"), "silent");
    CHECK_STR(field(a, "quiet", "last_new"), "2026-11-23T10:00:00Z");
    CHECK_STR(field(a, "never-new", "status"), "silent");
    CHECK(json_is_null(json_object_get(find(a, "never-new"), "last_new")));
    CHECK_STR(field(a, "broken", "status"), "failed");
    CHECK_INT(json_integer_value(json_object_get(find(a, "broken"),
                                                 "failures")), 3);
    CHECK_STR(field(a, "broken", "last_error"), "HTTP 500 <b>boom</b>");
    CHECK_STR(field(a, "fresh", "status"), "never-polled");
    CHECK(find(a, "healthy") == NULL);
    CHECK(find(a, "off") == NULL);
    CHECK(find(a, "no-expectation") == NULL);
    json_decref(d);

    /* Six hours earlier, quiet was not silent yet (8 h - 2 h = 6 h, not
     * over its expected_every). */
    CHECK_INT(ear_digest_build(&d, st, cfg, T0, T0 + 8 * H, &err), 0);
    a = json_object_get(d, "sources_attention");
    CHECK(find(a, "quiet") == NULL);
    CHECK(find(a, "never-new") != NULL);
    json_decref(d);

    ear_buf_init(&out, 1 << 20);
    CHECK_INT(ear_digest_render(st, cfg, T0, until, "md", &out, &err), 0);
    CHECK(strstr(ear_buf_str(&out), "## Sources needing attention") != NULL);
    CHECK(strstr(ear_buf_str(&out), "- quiet: silent, nothing new since "
                                    "2026-11-23T10:00:00Z") != NULL);
    CHECK(strstr(ear_buf_str(&out), "- broken: failed, 3 failed polls in a "
                                    "row, last success 2026-11-21T08:00:00Z; "
                                    "HTTP 500 \\<b\\>boom\\</b\\>") != NULL);
    CHECK(strstr(ear_buf_str(&out), "- fresh: never-polled\n") != NULL);
    ear_buf_dispose(&out);

    ear_buf_init(&out, 1 << 20);
    CHECK_INT(ear_digest_render(st, cfg, T0, until, "html", &out, &err), 0);
    CHECK(strstr(ear_buf_str(&out), "<h2>Sources needing attention</h2>")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "HTTP 500 &lt;b&gt;boom&lt;/b&gt;")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "<b>boom") == NULL);
    ear_buf_dispose(&out);

    ear_store_close(st);
    ear_config_free(cfg);
    return check_result();
}
