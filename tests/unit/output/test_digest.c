/* The digest: counts by category, brand, source and language, ratings and
 * their trend, backlog, overdue, SLA, first-response median, dismissals by
 * rule, and escaping of hostile mentions in Markdown and HTML. */
#include <jansson.h>

#include "fixture.h"

#define H 3600

static const char *const yaml =
    "sources:\n"
    "  - name: shop\n    url: feeds/s.xml\n    brand: Acme\n"
    "  - name: forum\n    url: feeds/f.xml\n"
    "brands:\n  - name: Acme\n"
    "routing:\n"
    "  - team: billing\n    categories: [billing]\n"
    "default_team: support\n"
    "teams:\n  - name: billing\n  - name: support\n";

static const char *const hostile_title = "<script>alert(1)</script>";
static const char *const hostile_text =
    "[x](javascript:alert(1)) \"><img src=x onerror=alert(2)> `rm` # hi";

static struct fx_mention mk(const char *key, const char *source,
                            int64_t seen, int flag, enum ear_severity sev,
                            const char *cat, double rating, const char *lang)
{
    struct fx_mention fm = {0};

    fm.source = source;
    fm.key = key;
    fm.title = key;
    fm.text = "some words here";
    fm.reach = -1;
    fm.first_seen = seen;
    fm.flag = flag;
    fm.severity = sev;
    fm.categories[0] = cat;
    fm.rating = rating;
    fm.lang = lang;
    return fm;
}

/* o.a.b as an integer (a path of one or two keys); -999 when absent. */
static json_int_t ji(json_t *o, const char *path)
{
    const char *dot = strchr(path, '.');
    json_t *cur;

    if (dot) {
        char first[64];

        snprintf(first, sizeof first, "%.*s", (int)(dot - path), path);
        cur = json_object_get(json_object_get(o, first), dot + 1);
    } else {
        cur = json_object_get(o, path);
    }
    if (!json_is_integer(cur)) {
        fprintf(stderr, "%s is not an integer\n", path);
        return -999;
    }
    return json_integer_value(cur);
}

static double jr(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(o, a), b);

    return json_is_number(v) ? json_number_value(v) : -999.0;
}

/* count of group name in array a (key k), or -1 */
static json_int_t group(json_t *d, const char *arr, const char *name,
                        const char *k)
{
    size_t i;
    json_t *r;

    json_array_foreach(json_object_get(d, arr), i, r) {
        const char *n = json_string_value(json_object_get(r, "name"));

        if ((!name && !n) || (name && n && strcmp(n, name) == 0))
            return json_integer_value(json_object_get(r, k));
    }
    return -1;
}

/* 1 when needle occurs in s without a backslash escaping it. */
static int raw(const char *s, const char *needle)
{
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        if (p == s || p[-1] != '\\')
            return 1;
    return 0;
}

static void render(struct ear_store *st, const struct ear_config *cfg,
                   const char *fmt, int64_t since, int64_t until,
                   struct ear_buf *out)
{
    struct ear_error err = {0};

    ear_buf_init(out, 8 << 20);
    if (ear_digest_render(st, cfg, since, until, fmt, out, &err) < 0) {
        fprintf(stderr, "digest %s: %s\n", fmt, err.text);
        check_failures++;
    }
}

int main(void)
{
    struct ear_config *cfg = fx_config("digest.yml", yaml);
    struct ear_store *st = fx_store("digest.db");
    struct ear_error err = {0};
    struct fx_mention fm;
    struct ear_buf out;
    json_t *d = NULL;
    json_t *urgent;
    int64_t q1, q2, q5, q6;
    int64_t since = T0;
    int64_t until = T0 + 12 * H;

    /* In the period [T0, T0 + 12h): */
    fx_clock(T0 + H);
    fm = mk("m1", "shop", T0 + H, 1, EAR_SEV_HIGH, "billing", 1, "en");
    fm.title = hostile_title;
    fm.text = hostile_text;
    fm.url = "javascript:alert(1)";
    fm.author = "<b>Eve</b>";
    q1 = fx_queue(st, cfg, &fm, T0 + H);  /* due T0+5h: overdue at end */
    fm = mk("m2", "shop", T0 + H, 1, EAR_SEV_MEDIUM, "delivery", 2, "en");
    fm.url = "https://shop.example/r/2?a=1&b=(2)";
    fm.title = "Late parcel";
    q2 = fx_queue(st, cfg, &fm, T0 + H);
    fm = mk("m3", "forum", T0 + 2 * H, 0, EAR_SEV_NONE, NULL, 5, "hu");
    {
        struct ear_mention m;
        struct ear_verdict v;

        fx_put(st, &fm, &m, &v); /* praise: stored, not queued */
        ear_mention_dispose(&m);
        ear_verdict_dispose(&v);
        fm = mk("m4", "forum", T0 + 2 * H, 0, EAR_SEV_NONE, NULL, 0, "hu");
        fx_put(st, &fm, &m, &v);
        ear_mention_dispose(&m);
        ear_verdict_dispose(&v);
    }
    fm = mk("m5", "shop", T0 + 2 * H, 1, EAR_SEV_LOW, "billing", 0, "en");
    fm.rule = "en.billing.noise";
    q5 = fx_queue(st, cfg, &fm, T0 + 2 * H);
    /* Before the period: counts for the rating trend and the backlog. */
    fm = mk("m6", "forum", T0 - 2 * H, 1, EAR_SEV_CRITICAL, "safety", 4,
            "en");
    q6 = fx_queue(st, cfg, &fm, T0 - 2 * H);

    fx_clock(T0 + 2 * H);
    CHECK_INT(ear_queue_respond(st, q2, "anna", NULL, T0 + 2 * H, &err), 0);
    fx_clock(T0 + 3 * H);
    CHECK_INT(ear_queue_dismiss(st, q5, "not-a-complaint", "anna", NULL,
                                T0 + 3 * H, &err), 0);
    /* A dismissal after the period does not count. */
    (void)q6;

    CHECK_INT(ear_digest_build(&d, st, cfg, since, until, &err), 0);
    CHECK(d != NULL);
    if (!d)
        return check_result();
    CHECK_INT(ji(d, "mentions.total"), 5);
    CHECK_INT(ji(d, "mentions.analyzed"), 5);
    CHECK_INT(ji(d, "mentions.flagged"), 3);
    CHECK(jr(d, "mentions", "negative_share") == 0.6);
    CHECK_INT(group(d, "by_category", "billing", "flagged"), 2);
    CHECK_INT(group(d, "by_category", "delivery", "flagged"), 1);
    CHECK_INT(group(d, "by_category", "safety", "flagged"), -1);
    CHECK_INT(group(d, "by_source", "shop", "mentions"), 3);
    CHECK_INT(group(d, "by_source", "shop", "flagged"), 3);
    CHECK_INT(group(d, "by_source", "forum", "mentions"), 2);
    CHECK_INT(group(d, "by_source", "forum", "flagged"), 0);
    CHECK_INT(group(d, "by_lang", "en", "mentions"), 3);
    CHECK_INT(group(d, "by_lang", "hu", "mentions"), 2);
    CHECK_INT(group(d, "by_brand", NULL, "mentions"), 5); /* verdict brands */
    CHECK_INT(group(d, "per_day", "2026-11-23", "mentions"), 5);
    CHECK_INT(group(d, "per_day", "2026-11-23", "flagged"), 3);
    CHECK(jr(d, "rating", "average") == 2.67);
    CHECK_INT(ji(d, "rating.count"), 3);
    CHECK(jr(d, "rating", "previous_average") == 4.0);
    CHECK(jr(d, "rating", "trend") == -1.33);
    CHECK_INT(json_array_size(json_object_get(json_object_get(d, "rating"),
                                              "distribution")), 3);
    CHECK_INT(ji(d, "queue.queued"), 3);
    CHECK_INT(ji(d, "queue.open"), 3);     /* m1, m2 (responded), m6 */
    CHECK_INT(ji(d, "queue.overdue"), 2);  /* m1, m6 */
    CHECK_INT(ji(d, "queue.responded"), 1);
    CHECK_INT(ji(d, "queue.resolved"), 0);
    CHECK_INT(ji(d, "queue.dismissed"), 1);
    CHECK_INT(ji(d, "queue.sla_met"), 1);      /* m2 */
    CHECK_INT(ji(d, "queue.sla_counted"), 2);  /* m1 late, m2 */
    CHECK(jr(d, "queue", "sla_share") == 0.5);
    CHECK_INT(ji(d, "queue.median_first_response_seconds"), H);
    urgent = json_object_get(d, "urgent");
    CHECK_INT(json_array_size(urgent), 3);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(urgent, 0),
                                                 "id")), q6);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(urgent, 1),
                                                 "id")), q1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(urgent, 2),
                                                 "id")), q2);
    {
        json_t *r = json_array_get(json_object_get(d, "dismissals_by_rule"),
                                   0);

        CHECK_STR(json_string_value(json_object_get(r, "rule")),
                  "en.billing.noise");
        CHECK_INT(json_integer_value(json_object_get(r, "dismissed")), 1);
        CHECK_INT(json_integer_value(json_object_get(r, "not_a_complaint")),
                  1);
    }
    json_decref(d);

    /* An earlier window sees none of it, and nothing was dismissed then. */
    CHECK_INT(ear_digest_build(&d, st, cfg, T0 - 48 * H, T0 - 24 * H, &err),
              0);
    CHECK_INT(ji(d, "mentions.total"), 0);
    CHECK_INT(ji(d, "queue.dismissed"), 0);
    CHECK(json_is_null(json_object_get(json_object_get(d, "mentions"),
                                       "negative_share")));
    CHECK_INT(json_array_size(json_object_get(d, "dismissals_by_rule")), 0);
    json_decref(d);

    /* Markdown: readable, hostile text neutralised, unsafe URL not linked,
     * a safe URL linked and encoded. */
    render(st, cfg, "md", since, until, &out);
    CHECK(strstr(ear_buf_str(&out), "# earshot digest") != NULL);
    CHECK(strstr(ear_buf_str(&out), "**5** new mentions, **3** flagged")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "<script>") == NULL);
    CHECK(strstr(ear_buf_str(&out), "\\<script\\>alert\\(1\\)") != NULL);
    CHECK(strstr(ear_buf_str(&out), "](javascript") == NULL);
    CHECK(strstr(ear_buf_str(&out), "\\[x\\]\\(javascript:alert\\(1\\)\\)")
          != NULL);
    CHECK(!raw(ear_buf_str(&out), "<img"));
    CHECK(!raw(ear_buf_str(&out), "<b>"));
    CHECK(strstr(ear_buf_str(&out), "\\<img src=x onerror=alert\\(2\\)\\>")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "\\`rm\\`") != NULL);
    CHECK(strstr(ear_buf_str(&out), "by \\<b\\>Eve\\</b\\>") != NULL);
    CHECK(strstr(ear_buf_str(&out),
                 "[Late parcel](<https://shop.example/r/2?a=1&b=%282%29>)")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "**OVERDUE**") != NULL);
    CHECK(strstr(ear_buf_str(&out), "| en.billing.noise | 1 | 1 |") != NULL);
    CHECK(strstr(ear_buf_str(&out), "50%** answered within SLA") != NULL);
    ear_buf_dispose(&out);

    /* HTML: fully escaped, no javascript: link, a CSP that forbids
     * scripts, charts as inline SVG. */
    render(st, cfg, "html", since, until, &out);
    CHECK(strstr(ear_buf_str(&out), "<script") == NULL);
    CHECK(strstr(ear_buf_str(&out), "&lt;script&gt;alert(1)&lt;/script&gt;")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "<img") == NULL);
    CHECK(strstr(ear_buf_str(&out), "&quot;&gt;&lt;img src=x") != NULL);
    CHECK(strstr(ear_buf_str(&out), "javascript:alert(1)\"") == NULL);
    CHECK(strstr(ear_buf_str(&out), "href=\"javascript") == NULL);
    CHECK(strstr(ear_buf_str(&out), "&lt;b&gt;Eve&lt;/b&gt;") != NULL);
    CHECK(strstr(ear_buf_str(&out),
                 "href=\"https://shop.example/r/2?a=1&amp;b=%282%29\"")
          != NULL);
    CHECK(strstr(ear_buf_str(&out), "default-src 'none'") != NULL);
    CHECK(strstr(ear_buf_str(&out), "<svg") != NULL);
    ear_buf_dispose(&out);

    /* JSON parses and carries the same numbers. */
    render(st, cfg, "json", since, until, &out);
    d = json_loads(ear_buf_str(&out), 0, NULL);
    CHECK(d != NULL);
    CHECK_INT(ji(d, "mentions.flagged"), 3);
    CHECK_STR(json_string_value(json_object_get(json_object_get(d, "period"),
                                                "since")),
              "2026-11-23T08:00:00Z");
    json_decref(d);
    ear_buf_dispose(&out);

    /* Bad format and an empty period are refused. */
    ear_buf_init(&out, 1 << 20);
    CHECK_INT(ear_digest_render(st, cfg, since, until, "pdf", &out, &err),
              EAR_EINVAL);
    CHECK(strstr(err.text, "pdf") != NULL);
    CHECK_INT(ear_digest_render(st, cfg, until, since, "md", &out, &err),
              EAR_EINVAL);
    ear_buf_dispose(&out);

    ear_store_close(st);
    ear_config_free(cfg);
    return check_result();
}
