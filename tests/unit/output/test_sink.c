/* Sinks: every mistake in a sink's map reported at its file:line:col, the
 * filters, the ${field} templates (JSON-escaped, so a hostile title cannot
 * break out of its string), the mail header encoding, and the hashes the
 * webhook signature and idempotency keys rest on (RFC 4231, FIPS 180-2
 * known answers). */
#include <jansson.h>

#include "fixture.h"
#include "output/output_int.h"

static const char *const head =
    "brands:\n  - name: Acme\n"
    "teams:\n  - name: billing\n"
    "sinks:\n";

/* Loads head + one sink; returns its error text ("" when valid). */
static const char *sink_error(const char *sink, char *buf, size_t size)
{
    struct ear_config *cfg;
    struct ear_output__sink *v = NULL;
    struct ear_error err = {0};
    char yaml[2048];
    size_t n = 0;

    snprintf(yaml, sizeof yaml, "%s%s", head, sink);
    cfg = fx_config("sink.yml", yaml);
    buf[0] = '\0';
    CHECK_INT(ear_output__sinks_load(cfg, &v, &n, &err), 0);
    CHECK_INT(n, 1);
    if (n == 1 && !v[0].valid)
        snprintf(buf, size, "%s", v[0].error);
    ear_output__sinks_free(v, n);
    ear_config_free(cfg);
    return buf;
}

#define BAD(sink, where, words) do { \
        char b_[800]; \
        const char *e_ = sink_error(sink, b_, sizeof b_); \
        if (!strstr(e_, where) || !strstr(e_, words)) { \
            fprintf(stderr, "%s:%d: sink error \"%s\", expected %s ... %s\n", \
                    __FILE__, __LINE__, e_, where, words); \
            check_failures++; \
        } \
    } while (0)

#define GOOD(sink) do { \
        char b_[800]; \
        const char *e_ = sink_error(sink, b_, sizeof b_); \
        if (e_[0]) { \
            fprintf(stderr, "%s:%d: unexpected sink error \"%s\"\n", \
                    __FILE__, __LINE__, e_); \
            check_failures++; \
        } \
    } while (0)

static void test_checks(void)
{
    GOOD("  - {name: a, type: jsonl, path: a.jsonl}\n");
    GOOD("  - {name: a, type: webhook, url: 'https://h.example/x', "
         "secret: s, headers: {X-Team: billing}}\n");
    GOOD("  - {name: a, type: slack, url: 'https://hooks.slack.com/x', "
         "severity: high, categories: [billing], brands: [Acme], "
         "teams: [billing], max_per_hour: 10}\n");
    GOOD("  - {name: a, type: smtp, url: 'smtp://mail.example:587', "
         "from: e@example.org, to: [a@example.org, b@example.org]}\n");
    GOOD("  - {name: a, type: http, url: 'https://desk.example/api', "
         "template: '{\"subject\": \"$${summary}\", \"n\": \"$${count}\"}'}\n");

    BAD("  - {name: a, type: jsonl}\n", "sink.yml:6:5", "needs 'path'");
    BAD("  - {name: a, type: webhook, url: 'ftp://x/y'}\n", "sink.yml:6:35",
        "http:// or https://");
    BAD("  - {name: a, type: smtp, url: 'https://x', from: a@b, to: c@d}\n",
        "sink.yml:6:32", "smtp://");
    BAD("  - {name: a, type: smtp, url: 'smtp://x', from: a@b}\n",
        "sink.yml:6", "needs 'to'");
    BAD("  - {name: a, type: smtp, url: 'smtp://x', from: a@b, "
        "to: 'x y@z'}\n", "sink.yml:6", "not an e-mail address");
    BAD("  - {name: a, type: slack, url: 'https://x', template: '{}'}\n",
        "sink.yml:6:46", "'template' does not apply to a slack sink");
    BAD("  - {name: a, type: jsonl, path: p, severity: urgent}\n",
        "sink.yml:6:47", "unknown severity 'urgent'");
    BAD("  - {name: a, type: jsonl, path: p, brands: [Acne]}\n",
        "sink.yml:6", "no brand named 'Acne'");
    BAD("  - {name: a, type: jsonl, path: p, teams: [sales]}\n",
        "sink.yml:6", "no team named 'sales'");
    BAD("  - {name: a, type: jsonl, path: p, max_per_hour: -1}\n",
        "sink.yml:6", "max_per_hour");
    BAD("  - {name: a, type: http, url: 'https://x'}\n", "sink.yml:6",
        "needs 'template'");
    BAD("  - {name: a, type: http, url: 'https://x', "
        "template: '{\"a\": \"$${titel}\"}'}\n", "sink.yml:6",
        "unknown placeholder '${titel}'");
    BAD("  - {name: a, type: http, url: 'https://x', "
        "template: '{\"a\": $${title}}'}\n", "sink.yml:6",
        "template is not JSON");
    BAD("  - {name: a, type: webhook, url: 'https://x', "
        "headers: {'Bad Name': v}}\n", "sink.yml:6", "bad header name");
}

static void test_defaults_and_filters(void)
{
    struct ear_config *cfg = fx_config("filters.yml",
        "brands:\n  - name: Acme\n"
        "sinks:\n"
        "  - {name: chat, type: slack, url: 'https://x'}\n"
        "  - {name: hook, type: webhook, url: 'https://x'}\n"
        "  - {name: sel, type: jsonl, path: p, severity: high,"
        " categories: [billing, refund], brands: [acme]}\n"
        "  - {name: inc, type: jsonl, path: p, incidents_only: true}\n");
    struct ear_output__sink *v = NULL;
    struct ear_error err = {0};
    struct ear_output__subject s;
    const char *cats[] = {"delivery", "refund"};
    size_t n = 0;

    CHECK_INT(ear_output__sinks_load(cfg, &v, &n, &err), 0);
    CHECK_INT(n, 4);
    if (n != 4)
        goto out;
    CHECK_INT(v[0].max_per_hour, 20); /* chat: at most 20 an hour */
    CHECK_INT(v[1].max_per_hour, 0);  /* machines: no limit */
    CHECK(v[2].path[0] == '/');       /* relative to the config */

    memset(&s, 0, sizeof s);
    s.severity = EAR_SEV_HIGH;
    s.cats = cats;
    s.ncats = 2;
    s.brand = "Acme";
    CHECK(ear_output__sink_wants(&v[2], &s)); /* refund, second category */
    CHECK(!ear_output__sink_wants(&v[3], &s));
    s.severity = EAR_SEV_MEDIUM;
    CHECK(!ear_output__sink_wants(&v[2], &s));
    s.incident = 1; /* incidents pass the severity filter */
    CHECK(ear_output__sink_wants(&v[2], &s));
    CHECK(ear_output__sink_wants(&v[3], &s));
    s.brand = "Other";
    CHECK(!ear_output__sink_wants(&v[2], &s));
    s.brand = NULL;
    CHECK(!ear_output__sink_wants(&v[2], &s));
    CHECK(ear_output__sink_wants(&v[0], &s));
out:
    ear_output__sinks_free(v, n);
    ear_config_free(cfg);
}

static void test_template(void)
{
    json_t *p = json_pack("{s:s, s:s, s:I, s:n, s:[s,s], s:f}", "title",
                          "\"}, \"evil\": true, \"x\": \"\\\n<",
                          "text", "é ő 😀", "queue_id", (json_int_t)12,
                          "url", "terms", "27% áfa", "double",
                          "rating", 1.5);
    struct ear_buf b;
    json_t *parsed;
    const char *bad = NULL;
    size_t badlen = 0;

    ear_buf_init(&b, 1 << 16);
    CHECK_INT(ear_output__template(&b, "{\"t\": \"${title}\", \"x\": "
                                   "\"${text}\", \"q\": ${queue_id}, "
                                   "\"u\": \"${url}\", \"terms\": "
                                   "\"${terms}\", \"r\": \"${rating}\", "
                                   "\"z\": \"$${x} ${ and $\"}", p, 1), 0);
    parsed = json_loads(ear_buf_str(&b), 0, NULL);
    CHECK(parsed != NULL);
    if (parsed) {
        CHECK_STR(json_string_value(json_object_get(parsed, "t")),
                  "\"}, \"evil\": true, \"x\": \"\\\n<");
        CHECK(json_object_get(parsed, "evil") == NULL);
        CHECK_STR(json_string_value(json_object_get(parsed, "x")),
                  "é ő 😀");
        CHECK_INT(json_integer_value(json_object_get(parsed, "q")), 12);
        CHECK_STR(json_string_value(json_object_get(parsed, "u")), "");
        CHECK_STR(json_string_value(json_object_get(parsed, "terms")),
                  "27% áfa, double");
        CHECK_STR(json_string_value(json_object_get(parsed, "r")), "1.5");
    }
    json_decref(parsed);
    /* text mode (mail subjects): as is */
    ear_buf_reset(&b);
    CHECK_INT(ear_output__template(&b, "[${queue_id}] ${text}", p, 0), 0);
    CHECK_STR(ear_buf_str(&b), "[12] é ő 😀");
    ear_buf_dispose(&b);
    json_decref(p);

    CHECK_INT(ear_output__template_check("a ${title} b ${summary}", &bad,
                                         &badlen), 0);
    CHECK_INT(ear_output__template_check("a ${nope} b", &bad, &badlen),
              EAR_EINVAL);
    CHECK(bad && strncmp(bad, "${nope}", badlen) == 0 && badlen == 7);
    CHECK_INT(ear_output__template_check("a ${Title}", &bad, &badlen),
              EAR_EINVAL);
}

static void test_hashes(void)
{
    char hex[65];
    struct ear_buf b;

    /* FIPS 180-2: SHA-256("abc") */
    CHECK_INT(ear_output__sha256_hex(hex, "abc", 3), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
                   "b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231, test case 2 */
    CHECK_INT(ear_output__hmac_sha256_hex(hex, "Jefe",
                                          "what do ya want for nothing?",
                                          28), 0);
    CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c7"
                   "5a003f089d2739839dec58b964ec3843");
    /* RFC 4648 */
    ear_buf_init(&b, 4096);
    CHECK_INT(ear_output__base64(&b, "foobar", 6, 0), 0);
    CHECK_STR(ear_buf_str(&b), "Zm9vYmFy");
    ear_buf_reset(&b);
    CHECK_INT(ear_output__base64(&b, "fo", 2, 1), 0);
    CHECK_STR(ear_buf_str(&b), "Zm8=\r\n");
    /* a long input wraps at 76 characters */
    ear_buf_reset(&b);
    CHECK_INT(ear_output__base64(&b, "0123456789012345678901234567890123"
                                     "4567890123456789012345678901234567"
                                     "89", 70, 1), 0);
    CHECK(strstr(ear_buf_str(&b), "\r\n") - ear_buf_str(&b) == 76);
    /* RFC 2047 words never split a UTF-8 sequence */
    ear_buf_reset(&b);
    CHECK_INT(ear_output__mail_header_word(&b, "Árvíztűrő tükörfúrógép "
                                              "és még egy kicsit hosszabb "
                                              "tárgy"), 0);
    CHECK(strncmp(ear_buf_str(&b), "=?UTF-8?B?", 10) == 0);
    CHECK(strstr(ear_buf_str(&b), "?=\r\n =?UTF-8?B?") != NULL);
    ear_buf_dispose(&b);
}

int main(void)
{
    test_checks();
    test_defaults_and_filters();
    test_template();
    test_hashes();
    return check_result();
}
