/*
 * Text for people: highlighting matches, cleaning what a terminal would
 * interpret, cutting snippets to a width, and escaping user-written text
 * for Markdown and HTML.
 *
 * Every function appends to a caller's struct ear_buf. Input is expected to
 * be UTF-8 (the store sanitises mentions), but nothing here trusts that: a
 * byte that does not start a valid sequence is replaced by U+FFFD, and C0,
 * DEL and C1 control characters become spaces, so a hostile title cannot
 * move the cursor or rewrite a terminal's title bar.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/output.h"

#define REPLACEMENT "\xEF\xBF\xBD"

/* Length of the valid UTF-8 sequence at s (at most avail bytes), with its
 * code point in *cp; 0 when the bytes there are not a valid sequence. */
static size_t utf8_seq(const unsigned char *s, size_t avail, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned v;
    unsigned min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (avail < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static int is_control(unsigned cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

/* Columns a terminal gives a code point: 0 for combining marks, 2 for wide
 * East Asian characters and most emoji, else 1. An approximation of
 * wcwidth() that does not depend on the locale. */
static size_t cp_width(unsigned cp)
{
    if ((cp >= 0x0300 && cp <= 0x036F) || cp == 0x200D ||
        (cp >= 0xFE00 && cp <= 0xFE0F))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

/* Appends s[0..len) cleaned. */
static int clean_n(struct ear_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    size_t run = 0; /* start of the pending run of bytes to copy as is */
    int rc;

    while (i < len) {
        unsigned cp;
        size_t n = utf8_seq(p + i, len - i, &cp);

        if (n > 0 && !is_control(cp)) {
            i += n;
            continue;
        }
        rc = ear_buf_addn(out, s + run, i - run);
        if (rc < 0)
            return rc;
        rc = ear_buf_adds(out, n == 0 ? REPLACEMENT : " ");
        if (rc < 0)
            return rc;
        i += n == 0 ? 1 : n;
        run = i;
    }
    return ear_buf_addn(out, s + run, i - run);
}

int ear_text_clean(struct ear_buf *out, const char *s)
{
    if (!s)
        return 0;
    return clean_n(out, s, strlen(s));
}

size_t ear_text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = s ? strlen(s) : 0;
    size_t i = 0;
    size_t w = 0;

    while (i < len) {
        unsigned cp;
        size_t n = utf8_seq(p + i, len - i, &cp);

        if (n == 0) {
            w++;
            i++;
            continue;
        }
        w += is_control(cp) ? 1 : cp_width(cp);
        i += n;
    }
    return w;
}

int ear_text_snippet(struct ear_buf *out, const char *s, size_t max_cols)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = s ? strlen(s) : 0;
    size_t i = 0;
    size_t w = 0;
    size_t cut = 0;     /* byte offset where "…" would go */
    int cut_set = 0;

    if (!s || max_cols == 0)
        return 0;
    while (i < len) {
        unsigned cp;
        size_t n = utf8_seq(p + i, len - i, &cp);
        size_t cw = n == 0 || is_control(cp) ? 1 : cp_width(cp);

        if (n == 0)
            n = 1;
        /* Remember the last place where the rest plus "…" still fits. */
        if (!cut_set && w + cw > max_cols - 1) {
            cut = i;
            cut_set = 1;
        }
        if (w + cw > max_cols) {
            int rc = clean_n(out, s, cut);

            if (rc < 0)
                return rc;
            return ear_buf_adds(out, "\xE2\x80\xA6");
        }
        w += cw;
        i += n;
    }
    return clean_n(out, s, len);
}

/* ------------------------------------------------------------ highlight */

struct range {
    size_t start;
    size_t end;
};

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a;
    const struct range *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static int is_cont(const char *s, size_t i)
{
    return ((unsigned char)s[i] & 0xC0) == 0x80;
}

int ear_text_highlight(struct ear_buf *out, const char *text,
                       const char *field, const struct ear_match *matches,
                       size_t n, const char *open, const char *close)
{
    struct range *r = NULL;
    size_t nr = 0;
    size_t len = text ? strlen(text) : 0;
    size_t pos = 0;
    int rc = 0;

    if (!text)
        return 0;
    if (!field)
        field = "text";
    if (n > 0) {
        r = malloc(n * sizeof *r);
        if (!r) {
            ear_buf_dispose(out);
            return EAR_ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *mf = matches[i].field ? matches[i].field : "text";
        size_t s = matches[i].start;
        size_t e = matches[i].end;

        if (strcmp(mf, field) != 0 || s >= len || e <= s)
            continue;
        if (e > len)
            e = len;
        while (s > 0 && is_cont(text, s))
            s--;
        while (e < len && is_cont(text, e))
            e++;
        r[nr].start = s;
        r[nr].end = e;
        nr++;
    }
    if (nr > 1)
        qsort(r, nr, sizeof *r, range_cmp);
    for (size_t i = 0; i < nr; i++) {
        size_t s = r[i].start;
        size_t e = r[i].end;

        /* Merge every later range that overlaps or touches this one. */
        while (i + 1 < nr && r[i + 1].start <= e) {
            if (r[i + 1].end > e)
                e = r[i + 1].end;
            i++;
        }
        if (s < pos)
            s = pos;
        if (e <= s)
            continue;
        rc = clean_n(out, text + pos, s - pos);
        if (rc == 0)
            rc = ear_buf_adds(out, open ? open : "");
        if (rc == 0)
            rc = clean_n(out, text + s, e - s);
        if (rc == 0)
            rc = ear_buf_adds(out, close ? close : "");
        if (rc < 0)
            goto out;
        pos = e;
    }
    rc = clean_n(out, text + pos, len - pos);
out:
    free(r);
    return rc;
}

/* ------------------------------------------------------------ escaping */

int ear_md_escape(struct ear_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = s ? strlen(s) : 0;
    size_t i = 0;
    int at_start = 1; /* only spaces so far: block markers matter here */
    int rc = 0;

    while (i < len && rc == 0) {
        unsigned cp;
        size_t n = utf8_seq(p + i, len - i, &cp);
        unsigned char c = p[i];

        if (n == 0) {
            rc = ear_buf_adds(out, REPLACEMENT);
            i++;
            at_start = 0;
            continue;
        }
        if (is_control(cp)) {
            rc = ear_buf_addc(out, ' ');
            i += n;
            continue;
        }
        if (n > 1) {
            rc = ear_buf_addn(out, s + i, n);
            i += n;
            at_start = 0;
            continue;
        }
        if (c == ' ') {
            rc = ear_buf_addc(out, ' ');
            i++;
            continue;
        }
        if (strchr("\\`*_[](){}<>|~&", c) ||
            (at_start && strchr("#+-=!", c))) {
            rc = ear_buf_addc(out, '\\');
            if (rc == 0)
                rc = ear_buf_addc(out, (char)c);
        } else if (at_start && c >= '0' && c <= '9') {
            /* "1. text" or "1) text" at the start would open a list. */
            size_t j = i;

            while (j < len && p[j] >= '0' && p[j] <= '9')
                j++;
            rc = ear_buf_addn(out, s + i, j - i);
            if (rc == 0 && j < len && (p[j] == '.' || p[j] == ')')) {
                rc = ear_buf_addc(out, '\\');
                if (rc == 0)
                    rc = ear_buf_addc(out, (char)p[j]);
                j++;
            }
            i = j;
            at_start = 0;
            continue;
        } else {
            rc = ear_buf_addc(out, (char)c);
        }
        i++;
        at_start = 0;
    }
    return rc;
}

int ear_html_escape(struct ear_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = s ? strlen(s) : 0;
    size_t i = 0;
    int rc = 0;

    while (i < len && rc == 0) {
        unsigned cp;
        size_t n = utf8_seq(p + i, len - i, &cp);

        if (n == 0) {
            rc = ear_buf_adds(out, REPLACEMENT);
            i++;
            continue;
        }
        if (is_control(cp)) {
            rc = ear_buf_addc(out, ' ');
        } else if (n > 1) {
            rc = ear_buf_addn(out, s + i, n);
        } else {
            switch (p[i]) {
            case '&':
                rc = ear_buf_adds(out, "&amp;");
                break;
            case '<':
                rc = ear_buf_adds(out, "&lt;");
                break;
            case '>':
                rc = ear_buf_adds(out, "&gt;");
                break;
            case '"':
                rc = ear_buf_adds(out, "&quot;");
                break;
            case '\'':
                rc = ear_buf_adds(out, "&#39;");
                break;
            default:
                rc = ear_buf_addc(out, (char)p[i]);
                break;
            }
        }
        i += n;
    }
    return rc;
}

int ear_url_linkable(const char *url)
{
    const char *rest;

    if (!url)
        return 0;
    if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
        return 0;
    /* A host must follow: "http:///x" and "http://" alone are not links. */
    if (*rest == '\0' || *rest == '/' || *rest == '?' || *rest == '#')
        return 0;
    return 1;
}

int ear_url_encode(struct ear_buf *out, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)url;
    int rc = 0;

    if (!url)
        return 0;
    for (; *p && rc == 0; p++) {
        unsigned char c = *p;

        if (c > 0x20 && c < 0x7F && !strchr("\"'()<>[]\\`{}|^ ", c)) {
            rc = ear_buf_addc(out, (char)c);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};

            rc = ear_buf_addn(out, enc, 3);
        }
    }
    return rc;
}
