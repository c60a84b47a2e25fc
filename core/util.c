/*
 * Small utilities shared by every stage: strings, files, the clock, date
 * and duration parsing, UTF-8 repair, edit distance, terminal colour.
 *
 * Dates: feeds write RFC 822 with every deviation imaginable (two-digit
 * years, no weekday, no seconds, named zones) and RFC 3339 / ISO 8601.
 * libc has no RFC 822 parser that tolerates those, so the fields are read
 * here and handed to timegm(); everything else is libc's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/core.h"

char *ear_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *ear_strndup(const char *s, size_t n)
{
    return s ? strndup(s, n) : NULL;
}

void *ear_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first)
{
    size_t ncap;
    void *nv;

    if (n < *cap)
        return v;
    ncap = *cap ? *cap : (first ? first : 8);
    while (ncap <= n) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (elem == 0 || ncap > SIZE_MAX / elem)
        return NULL;
    nv = realloc(v, ncap * elem);
    if (nv)
        *cap = ncap;
    return nv;
}

int ear_str_set(char **field, const char *s)
{
    char *copy = NULL;

    if (s) {
        copy = strdup(s);
        if (!copy)
            return EAR_ENOMEM;
    }
    free(*field);
    *field = copy;
    return 0;
}

int ear_str_setn(char **field, const char *s, size_t n)
{
    char *copy = NULL;

    if (s) {
        copy = strndup(s, n);
        if (!copy)
            return EAR_ENOMEM;
    }
    free(*field);
    *field = copy;
    return 0;
}

int ear_file_read(char **out, size_t *len, const char *path, size_t max,
                  struct ear_error *err)
{
    FILE *f;
    struct ear_buf b;
    char chunk[65536];
    size_t n;
    int rc = 0;

    f = fopen(path, "rb");
    if (!f)
        return ear_error_set(err, errno == ENOENT ? EAR_ENOTFOUND : EAR_EIO,
                             path, 0, 0, "cannot open: %s", strerror(errno));
    ear_buf_init(&b, max);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = ear_buf_addn(&b, chunk, n);
        if (rc < 0) {
            fclose(f);
            if (rc == EAR_ETOOBIG)
                return ear_error_set(err, rc, path, 0, 0,
                                     "file is larger than %zu bytes", max);
            return ear_error_set(err, rc, path, 0, 0, "out of memory");
        }
    }
    if (ferror(f)) {
        ear_buf_dispose(&b);
        fclose(f);
        return ear_error_set(err, EAR_EIO, path, 0, 0, "read error");
    }
    fclose(f);
    *out = ear_buf_take(&b, len);
    return *out ? 0 : ear_error_set(err, EAR_ENOMEM, path, 0, 0,
                                    "out of memory");
}

int ear_mkdir_parents(const char *path, struct ear_error *err)
{
    char *dir = strdup(path);
    char *p;
    int rc = 0;

    if (!dir)
        return EAR_ENOMEM;
    p = strrchr(dir, '/');
    if (!p || p == dir)
        goto out;
    *p = '\0';
    for (p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            rc = ear_error_set(err, EAR_EIO, dir, 0, 0,
                               "cannot create directory: %s", strerror(errno));
            goto out;
        }
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        rc = ear_error_set(err, EAR_EIO, dir, 0, 0,
                           "cannot create directory: %s", strerror(errno));
out:
    free(dir);
    return rc;
}

int64_t ear_now(void)
{
    const char *fixed = getenv("EARSHOT_NOW");
    int64_t t;

    if (fixed && *fixed && ear_time_parse(&t, fixed) == 0)
        return t;
    return (int64_t)time(NULL);
}

const char *ear_time_fmt(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ",
                                        &tm) == 0)
        snprintf(buf, size, "%lld", (long long)t);
    return buf;
}

/* ------------------------------------------------------------------ dates */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static int read_num(const char **pp, int min_digits, int max_digits, int *out)
{
    const char *p = *pp;
    int v = 0, n = 0;

    while (n < max_digits && isdigit((unsigned char)p[n])) {
        v = v * 10 + (p[n] - '0');
        n++;
    }
    if (n < min_digits)
        return -1;
    *out = v;
    *pp = p + n;
    return n;
}

/* "Z", "+0100", "+01:00", "-05", "GMT", "EST", ... into seconds east. */
static int read_zone(const char **pp, long *off)
{
    static const struct { const char *name; int hours; } names[] = {
        {"UTC", 0}, {"UT", 0}, {"GMT", 0}, {"Z", 0}, {"EST", -5},
        {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6},
        {"PST", -8}, {"PDT", -7}, {"CET", 1}, {"CEST", 2}, {"BST", 1},
        {"EET", 2}, {"EEST", 3}, {"IST", 5}, {"JST", 9}, {"AEST", 10},
    };
    const char *p = skip_ws(*pp);
    size_t i;

    *off = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, h = 0, m = 0;
        const char *q = p + 1;
        int nd = read_num(&q, 1, 4, &h);

        if (nd < 0)
            return -1;
        if (nd == 4) {
            m = h % 100;
            h /= 100;
        } else if (*q == ':') {
            q++;
            if (read_num(&q, 2, 2, &m) < 0)
                return -1;
        }
        if (h > 14 || m > 59)
            return -1;
        *off = sign * (h * 3600L + m * 60L);
        *pp = q;
        return 0;
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i].name);
        if (strncasecmp(p, names[i].name, n) == 0 &&
            !isalpha((unsigned char)p[n])) {
            *off = names[i].hours * 3600L;
            p += n;
            /* "GMT+1", "UTC+01:00": an offset written after the name. */
            if ((*p == '+' || *p == '-') && *off == 0)
                return read_zone(&p, off) < 0 ? -1 : (*pp = p, 0);
            *pp = p;
            return 0;
        }
    }
    if (*p == '\0')
        return 0; /* no zone: UTC */
    /* A single military letter or an unknown name: UTC, as feedparser. */
    if (isalpha((unsigned char)*p)) {
        while (isalpha((unsigned char)*p))
            p++;
        *pp = p;
        return 0;
    }
    return -1;
}

static int month_index(const char *p, const char **end)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may",
                                         "jun", "jul", "aug", "sep", "oct",
                                         "nov", "dec"};
    int i;

    for (i = 0; i < 12; i++)
        if (strncasecmp(p, months[i], 3) == 0) {
            p += 3;
            while (isalpha((unsigned char)*p))
                p++;
            if (*p == '.')
                p++;
            *end = p;
            return i;
        }
    return -1;
}

static int finish(int64_t *out, struct tm *tm, long off, const char *p)
{
    time_t t;

    p = skip_ws(p);
    /* A zone name in parentheses after the offset, "+0100 (CET)". */
    if (*p == '(') {
        const char *close = strchr(p, ')');
        if (close)
            p = skip_ws(close + 1);
    }
    if (*p)
        return EAR_EPARSE;
    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
        tm->tm_mday > 31 || tm->tm_hour > 24 || tm->tm_min > 59 ||
        tm->tm_sec > 60)
        return EAR_EPARSE;
    t = timegm(tm);
    if (t == (time_t)-1 && tm->tm_year != 69)
        return EAR_EPARSE;
    *out = (int64_t)t - off;
    return 0;
}

static int parse_time_of_day(const char **pp, struct tm *tm)
{
    const char *p = *pp;

    if (read_num(&p, 1, 2, &tm->tm_hour) < 0 || *p != ':')
        return -1;
    p++;
    if (read_num(&p, 2, 2, &tm->tm_min) < 0)
        return -1;
    if (*p == ':') {
        p++;
        if (read_num(&p, 2, 2, &tm->tm_sec) < 0)
            return -1;
        if (*p == '.' || *p == ',') {
            p++;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    *pp = p;
    return 0;
}

static int parse_iso(int64_t *out, const char *p)
{
    struct tm tm;
    long off = 0;

    char sep;

    memset(&tm, 0, sizeof tm);
    if (read_num(&p, 4, 4, &tm.tm_year) < 0)
        return EAR_EPARSE;
    sep = *p;
    if (isdigit((unsigned char)sep)) {
        /* Basic format: 20260301T100000Z */
        if (read_num(&p, 2, 2, &tm.tm_mon) < 0 ||
            read_num(&p, 2, 2, &tm.tm_mday) < 0)
            return EAR_EPARSE;
        if (*p == 'T' && isdigit((unsigned char)p[1])) {
            p++;
            if (read_num(&p, 2, 2, &tm.tm_hour) < 0 ||
                read_num(&p, 2, 2, &tm.tm_min) < 0)
                return EAR_EPARSE;
            if (isdigit((unsigned char)*p) &&
                read_num(&p, 2, 2, &tm.tm_sec) < 0)
                return EAR_EPARSE;
            if (read_zone(&p, &off) < 0)
                return EAR_EPARSE;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return finish(out, &tm, off, p);
    }
    if (sep != '-' && sep != '/')
        return EAR_EPARSE;
    p++;
    if (read_num(&p, 1, 2, &tm.tm_mon) < 0 || *p++ != sep)
        return EAR_EPARSE;
    if (read_num(&p, 1, 2, &tm.tm_mday) < 0)
        return EAR_EPARSE;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        const char *q = p + 1;
        if (isdigit((unsigned char)*q)) {
            if (parse_time_of_day(&q, &tm) < 0)
                return EAR_EPARSE;
            p = q;
            if (read_zone(&p, &off) < 0)
                return EAR_EPARSE;
        }
    }
    return finish(out, &tm, off, p);
}

static int parse_822(int64_t *out, const char *p)
{
    struct tm tm;
    long off = 0;
    int year, nd, m;
    const char *q;

    memset(&tm, 0, sizeof tm);
    p = skip_ws(p);
    /* Optional weekday, with or without comma ("Mon, ", "Monday "). */
    if (isalpha((unsigned char)*p) && month_index(p, &q) < 0) {
        while (isalpha((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
        p = skip_ws(p);
    }
    if (isalpha((unsigned char)*p)) {
        /* "Jan 02 2006 15:04:05 GMT" */
        m = month_index(p, &p);
        if (m < 0)
            return EAR_EPARSE;
        p = skip_ws(p);
        if (read_num(&p, 1, 2, &tm.tm_mday) < 0)
            return EAR_EPARSE;
        if (*p == ',')
            p++;
    } else {
        if (read_num(&p, 1, 2, &tm.tm_mday) < 0)
            return EAR_EPARSE;
        p = skip_ws(p);
        if (*p == '-')
            p++;
        m = month_index(p, &p);
        if (m < 0)
            return EAR_EPARSE;
    }
    tm.tm_mon = m;
    p = skip_ws(p);
    if (*p == '-')
        p++;
    nd = read_num(&p, 2, 4, &year);
    if (nd != 2 && nd != 4)
        return EAR_EPARSE;
    if (nd == 2)
        year += year < 70 ? 2000 : 1900;
    tm.tm_year = year - 1900;
    p = skip_ws(p);
    if (isdigit((unsigned char)*p)) {
        if (parse_time_of_day(&p, &tm) < 0)
            return EAR_EPARSE;
        if (read_zone(&p, &off) < 0)
            return EAR_EPARSE;
    }
    return finish(out, &tm, off, p);
}

int ear_time_parse(int64_t *out, const char *s)
{
    const char *p;
    char *end;
    long long v;

    if (!s)
        return EAR_EPARSE;
    p = skip_ws(s);
    if (!*p)
        return EAR_EPARSE;
    if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
        isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) &&
        (p[4] == '-' || p[4] == '/' ||
         (isdigit((unsigned char)p[4]) && strlen(p) >= 8 &&
          (p[8] == 'T' || p[8] == '\0') && isdigit((unsigned char)p[7]))))
        return parse_iso(out, p);
    errno = 0;
    v = strtoll(p, &end, 10);
    if (end != p && errno == 0 && *skip_ws(end) == '\0') {
        *out = (int64_t)v;
        return 0;
    }
    return parse_822(out, p);
}

int ear_duration_parse(int64_t *out, const char *s)
{
    char *end;
    long long v;
    int64_t mul = 1;

    if (!s || !isdigit((unsigned char)*s))
        return EAR_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || v < 0)
        return EAR_EINVAL;
    if (*end) {
        switch (*end) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        case 'w': mul = 7 * 86400; break;
        default: return EAR_EINVAL;
        }
        if (end[1])
            return EAR_EINVAL;
    }
    if (v > INT64_MAX / mul)
        return EAR_EINVAL;
    *out = (int64_t)v * mul;
    return 0;
}

const char *ear_duration_fmt(int64_t secs, char *buf, size_t size)
{
    const char *sign = secs < 0 ? "-" : "";
    int64_t s = secs < 0 ? -secs : secs;

    if (s >= 86400)
        snprintf(buf, size, "%s%lldd %lldh", sign, (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(buf, size, "%s%lldh %lldm", sign, (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(buf, size, "%s%lldm", sign, (long long)(s / 60));
    else
        snprintf(buf, size, "%s%llds", sign, (long long)s);
    return buf;
}

/* ------------------------------------------------------------------ UTF-8 */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0;
        if (c == 0xED && p[1] > 0x9F)
            return 0; /* surrogates */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0;
        if (c == 0xF4 && p[1] > 0x8F)
            return 0;
        return 4;
    }
    return 0;
}

int ear_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        /* ASCII fast path, eight bytes at a time: most feed text is. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        n = utf8_seq(p + i, len - i);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

char *ear_utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    struct ear_buf b;
    size_t i = 0, n, run = 0;

    ear_buf_init(&b, len * 3 + 16);
    while (i < len) {
        n = p[i] ? utf8_seq(p + i, len - i) : 0;
        if (n) {
            i += n;
            run += n;
            continue;
        }
        if (run && ear_buf_addn(&b, p + i - run, run) < 0)
            return NULL;
        run = 0;
        if (p[i] == '\0') { /* NUL bytes are dropped, never kept */
            i++;
            continue;
        }
        if (ear_buf_addn(&b, "\xEF\xBF\xBD", 3) < 0)
            return NULL;
        i++;
    }
    if (run && ear_buf_addn(&b, p + i - run, run) < 0)
        return NULL;
    return ear_buf_take(&b, out_len);
}

size_t ear_levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t *row, prev, tmp, best;

    if (la > 256 || lb > 256)
        return la > lb ? la : lb;
    row = malloc((lb + 1) * sizeof *row);
    if (!row)
        return la > lb ? la : lb;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            tmp = row[j];
            best = prev + (tolower((unsigned char)a[i - 1]) !=
                           tolower((unsigned char)b[j - 1]));
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = tmp;
        }
    }
    best = row[lb];
    free(row);
    return best;
}

int ear_color_enabled(FILE *stream)
{
    const char *nc = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    if (nc && *nc)
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(stream));
}
