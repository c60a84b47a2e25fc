/* core utilities: buffer limits, dates, durations, UTF-8 repair. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "core/core.h"

static void test_buf(void)
{
    struct ear_buf b;
    char *s;
    size_t len;

    ear_buf_init(&b, 8);
    CHECK_INT(ear_buf_adds(&b, "abc"), 0);
    CHECK_INT(ear_buf_addf(&b, "%d", 42), 0);
    CHECK_STR(ear_buf_str(&b), "abc42");
    /* Over the limit: error, and the buffer is freed, not left half. */
    CHECK_INT(ear_buf_adds(&b, "toolong"), EAR_ETOOBIG);
    CHECK_INT(b.len, 0);
    CHECK_STR(ear_buf_str(&b), "");
    CHECK_INT(ear_buf_adds(&b, "12345678"), 0);
    s = ear_buf_take(&b, &len);
    CHECK_STR(s, "12345678");
    CHECK_INT(len, 8);
    free(s);
    s = ear_buf_take(&b, &len);
    CHECK_STR(s, "");
    free(s);
}

static void check_time(const char *in, const char *want)
{
    int64_t t = 0;
    char buf[40];
    int rc = ear_time_parse(&t, in);

    if (!want) {
        if (rc == 0)
            fprintf(stderr, "  accepted bad date '%s'\n", in);
        CHECK(rc < 0);
        return;
    }
    if (rc < 0)
        fprintf(stderr, "  rejected '%s'\n", in);
    CHECK_INT(rc, 0);
    CHECK_STR(ear_time_fmt(t, buf, sizeof buf), want);
}

static void test_dates(void)
{
    check_time("Mon, 23 Nov 2026 10:15:00 +0100", "2026-11-23T09:15:00Z");
    check_time("Mon, 23 Nov 2026 10:15:00 GMT", "2026-11-23T10:15:00Z");
    check_time("23 Nov 2026 10:15 EST", "2026-11-23T15:15:00Z");
    check_time("Mon, 23 Nov 26 10:15:00 +0000", "2026-11-23T10:15:00Z");
    check_time("Monday, 23 November 2026 10:15:00 Z", "2026-11-23T10:15:00Z");
    check_time("Mon,23 Nov 2026 10:15:00 -05:00", "2026-11-23T15:15:00Z");
    check_time("Nov 23 2026 10:15:00 PST", "2026-11-23T18:15:00Z");
    check_time("23 Nov 2026", "2026-11-23T00:00:00Z");
    check_time("2026-11-23T10:15:00Z", "2026-11-23T10:15:00Z");
    check_time("2026-11-23T10:15:00.123+02:00", "2026-11-23T08:15:00Z");
    check_time("2026-11-23 10:15:00", "2026-11-23T10:15:00Z");
    check_time("2026-11-23", "2026-11-23T00:00:00Z");
    check_time("1795426500", "2026-11-23T09:35:00Z");
    check_time("Mon, 23 Nov 2026 10:15:00 GMT+1", "2026-11-23T09:15:00Z");
    check_time("Mon, 23 Nov 2026 10:15:00 +0100 (CET)", "2026-11-23T09:15:00Z");
    check_time("2026/11/23", "2026-11-23T00:00:00Z");
    check_time("20261123T101500Z", "2026-11-23T10:15:00Z");
    check_time("20261123", "2026-11-23T00:00:00Z");
    check_time("", NULL);
    check_time("yesterday", NULL);
    check_time("32 Nov 2026 10:00", NULL);
    check_time("2026-13-01", NULL);
    check_time("Mon, 23 Nov 2026 10:15:00 +0100 trailing junk", NULL);
}

static void test_durations(void)
{
    int64_t d = 0;
    char buf[32];

    CHECK_INT(ear_duration_parse(&d, "15m"), 0);
    CHECK_INT(d, 900);
    CHECK_INT(ear_duration_parse(&d, "4h"), 0);
    CHECK_INT(d, 14400);
    CHECK_INT(ear_duration_parse(&d, "7d"), 0);
    CHECK_INT(d, 604800);
    CHECK_INT(ear_duration_parse(&d, "90"), 0);
    CHECK_INT(d, 90);
    CHECK(ear_duration_parse(&d, "15 minutes") < 0);
    CHECK(ear_duration_parse(&d, "-5m") < 0);
    CHECK(ear_duration_parse(&d, "m") < 0);
    CHECK_STR(ear_duration_fmt(3 * 86400 + 4 * 3600, buf, sizeof buf),
              "3d 4h");
    CHECK_STR(ear_duration_fmt(125, buf, sizeof buf), "2m");
}

static void test_utf8(void)
{
    size_t n;
    char *s = ear_utf8_sanitize("ok \xff\xfe \xc3\xa1 \xe2\x82", 11, &n);

    CHECK_STR(s, "ok \xEF\xBF\xBD\xEF\xBF\xBD \xc3\xa1 \xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(ear_utf8_valid(s, n));
    free(s);
    CHECK(!ear_utf8_valid("\xc0\xaf", 2));  /* overlong */
    CHECK(!ear_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    CHECK(ear_utf8_valid("számla \xf0\x9f\x98\xa1", strlen("számla \xf0\x9f\x98\xa1")));
    CHECK_INT(ear_levenshtein("soruces", "sources"), 2);
    CHECK_INT(ear_levenshtein("brand", "brands"), 1);
}

static void test_now_override(void)
{
    setenv("EARSHOT_NOW", "2026-11-23T12:00:00Z", 1);
    CHECK_INT(ear_now(), 1795435200);
    unsetenv("EARSHOT_NOW");
    CHECK(ear_now() > 1795435200 - 86400 * 3650);
}

static void test_grow(void)
{
    int *v = NULL;
    int *nv;
    size_t cap = 0;
    size_t n;

    for (n = 0; n < 100; n++) {
        nv = ear_grow(v, &cap, n, sizeof *v, 4);
        CHECK(nv != NULL);
        if (!nv)
            break;
        v = nv;
        v[n] = (int)n;
    }
    CHECK_INT(cap, 128); /* 4, 8, ... 128 */
    CHECK_INT(v[99], 99);
    /* room left: the same array back, capacity untouched */
    CHECK(ear_grow(v, &cap, 100, sizeof *v, 4) == v);
    CHECK_INT(cap, 128);
    /* an index far past the end: doubled until it fits */
    nv = ear_grow(v, &cap, 1000, sizeof *v, 4);
    CHECK(nv != NULL);
    if (nv) {
        v = nv;
        CHECK_INT(cap, 1024);
        v[1000] = 1000;
        CHECK_INT(v[99], 99);
    }
    /* a capacity that cannot double without overflowing is refused and
     * leaves the array as it was */
    cap = SIZE_MAX / 2 + 1;
    CHECK(ear_grow(v, &cap, cap, sizeof *v, 4) == NULL);
    CHECK(cap == SIZE_MAX / 2 + 1);
    free(v);
}

int main(void)
{
    test_buf();
    test_grow();
    test_dates();
    test_durations();
    test_utf8();
    test_now_override();
    return check_result();
}
