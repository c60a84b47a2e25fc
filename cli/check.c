/*
 * earshot check: the analyzer alone.
 *
 *   earshot check [--lang hu|en|auto] [--rating N] [--json] TEXT...
 *   earshot check --jsonl < lines
 *
 * With --jsonl every input line {"id","text","lang"?,"rating"?} gives one
 * output line, in input order:
 *   {"id","flag","score","severity","categories","lang",
 *    "matches":[{"rule","start","end","text"}]}
 * (start/end: byte offsets into text; "id" is echoed as the line wrote
 * it). A bad line is reported on stderr with its number and answered with
 * {"id":...,"error":"..."}; the exit status is then 1, after every line
 * was read. This path is built for throughput (issue 4: 200,000 lines/s):
 * fields are located without building whole JSON objects, verdicts are
 * borrowed from the analyzer, and output is written by hand.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "analyzer/analyzer.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot check [--lang hu|en|auto] [--rating N] [--json] "
            "TEXT...\n"
            "       earshot check --jsonl [--lang L] < FILE.jsonl\n"
            "\n"
            "Analyzes TEXT (the words joined by spaces; '-' reads stdin) and "
            "prints the\nverdict with its explanation: flag, score, severity, "
            "categories and the\nrules and words behind it.\n"
            "\n"
            "With --jsonl, reads {\"id\",\"text\",\"lang\"?,\"rating\"?} "
            "lines on stdin and\nwrites one verdict a line, in input order:\n"
            "  {\"id\",\"flag\",\"score\",\"severity\",\"categories\","
            "\"lang\",\n"
            "   \"matches\":[{\"rule\",\"start\",\"end\",\"text\"}]}\n"
            "start/end are byte offsets into text. A bad line gets "
            "{\"id\",\"error\"}\nand the exit status 1.\n"
            "\n"
            "  -l, --lang L     hu, en or auto (default: auto; per line "
            "\"lang\" wins)\n"
            "  -r, --rating N   star rating 1..5 fused with the text\n"
            "  -j, --json       the verdict as one JSON object\n"
            "      --jsonl      JSON lines in, JSON lines out\n"
            "  -h, --help       this help\n");
}

static json_t *matches_json(const struct ear_verdict *v, int full)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];
        json_t *o = json_object();
        if (!o)
            break;
        json_object_set_new(o, "rule", json_string(m->rule));
        if (full) {
            json_object_set_new(o, "category", m->category
                                ? json_string(m->category) : json_null());
            json_object_set_new(o, "field", json_string(m->field));
        }
        json_object_set_new(o, "start", json_integer((json_int_t)m->start));
        json_object_set_new(o, "end", json_integer((json_int_t)m->end));
        json_object_set_new(o, "text", json_string(m->text ? m->text : ""));
        if (full)
            json_object_set_new(o, "weight", json_real(m->weight));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *verdict_json(const struct ear_verdict *v, json_t *id,
                            int full)
{
    json_t *o = json_object(), *cats = json_array();
    size_t i;

    if (!o || !cats) {
        json_decref(o);
        json_decref(cats);
        json_decref(id);
        return NULL;
    }
    if (id)
        json_object_set_new(o, "id", id);
    json_object_set_new(o, "flag", json_boolean(v->flag));
    json_object_set_new(o, "score", json_real(v->score));
    json_object_set_new(o, "severity",
                        json_string(ear_severity_name(v->severity)));
    for (i = 0; i < v->ncategories; i++)
        json_array_append_new(cats, json_string(v->categories[i]));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "lang", json_string(v->lang));
    if (full) {
        json_object_set_new(o, "team", v->team ? json_string(v->team)
                                               : json_null());
        json_object_set_new(o, "explain", json_string(v->explain
                                                      ? v->explain : ""));
    }
    json_object_set_new(o, "matches", matches_json(v, full));
    return o;
}

static void print_human(struct ear_cli *cli, const struct ear_verdict *v)
{
    const char *on = cli->color ? (v->flag ? "\033[1;31m" : "\033[1;32m")
                                : "";
    const char *off = cli->color ? "\033[0m" : "";
    size_t i;

    if (v->flag) {
        printf("%sCOMPLAINT%s  severity %s", on, off,
               ear_severity_name(v->severity));
        for (i = 0; i < v->ncategories; i++)
            printf("%s%s", i ? ", " : "  categories ", v->categories[i]);
    } else {
        printf("%snot a complaint%s", on, off);
    }
    printf("  (score %.2f, lang %s%s%s)\n", v->score, v->lang,
           v->team ? ", team " : "", v->team ? v->team : "");
    if (v->explain)
        printf("  %s\n", v->explain);
    for (i = 0; i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];
        printf("    %-34s %zu..%zu  \"%s\"\n", m->rule, m->start, m->end,
               m->text ? m->text : "");
    }
}

static int read_all(FILE *f, struct ear_buf *b)
{
    char chunk[65536];
    size_t n;
    int rc;

    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = ear_buf_addn(b, chunk, n);
        if (rc < 0)
            return rc;
    }
    return ferror(f) ? EAR_EIO : 0;
}

/* The --jsonl hot path writes its fixed-shape line straight into an
 * output buffer (jansson's object building costs more than the analysis;
 * a stdio call per piece too), flushed to stdout when full and at the
 * end. Write errors stick in ferror(stdout), checked after every line.
 * Strings go through put_str, which escapes as RFC 8259 requires; rule
 * ids, categories, severities and languages are plain ASCII by
 * construction. One thread writes. */
static struct {
    char b[1 << 16];
    size_t n;
} out;

static void put_flush(void)
{
    if (out.n)
        fwrite(out.b, 1, out.n, stdout);
    out.n = 0;
}

static inline void put_n(const char *s, size_t n)
{
    if (n > sizeof out.b - out.n) {
        put_flush();
        if (n > sizeof out.b) {
            fwrite(s, 1, n, stdout);
            return;
        }
    }
    memcpy(out.b + out.n, s, n);
    out.n += n;
}

static inline void put_c(char c)
{
    if (out.n == sizeof out.b)
        put_flush();
    out.b[out.n++] = c;
}

static inline void put_s(const char *s)
{
    put_n(s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define PUT_LIT(lit) put_n((lit), sizeof(lit) - 1)

static inline size_t str_stop(const char *s, size_t n, size_t i);

static void put_str(const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;

    put_c('"');
    while ((i = str_stop(s, n, i)) < n) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        put_n(s + run, i - run);
        run = ++i;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put_n(esc, 6);
            continue;
        }
        put_n(esc, 2);
    }
    put_n(s + run, n - run);
    put_c('"');
}

static void put_uint(size_t v)
{
    char d[24];
    size_t i = sizeof d;

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_n(d + i, sizeof d - i);
}

/* Two decimals, as the scores are rounded to. */
static void put_score(double s)
{
    long long c = llround(s * 100);

    if (c < 0) {
        put_c('-');
        c = -c;
    }
    put_uint((size_t)(c / 100));
    put_c('.');
    put_c((char)('0' + c % 100 / 10));
    put_c((char)('0' + c % 10));
}

static void put_verdict(const char *id, size_t idlen,
                        const struct ear_verdict *v)
{
    size_t i;

    PUT_LIT("{\"id\":");
    put_n(id, idlen);
    if (v->flag)
        PUT_LIT(",\"flag\":true,\"score\":");
    else
        PUT_LIT(",\"flag\":false,\"score\":");
    put_score(v->score);
    PUT_LIT(",\"severity\":\"");
    put_s(ear_severity_name(v->severity));
    PUT_LIT("\",\"categories\":[");
    for (i = 0; i < v->ncategories; i++) {
        if (i)
            put_c(',');
        put_c('"');
        put_s(v->categories[i]);
        put_c('"');
    }
    PUT_LIT("],\"lang\":\"");
    put_s(v->lang);
    PUT_LIT("\",\"matches\":[");
    for (i = 0; i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];
        if (i)
            put_c(',');
        PUT_LIT("{\"rule\":\"");
        put_s(m->rule);
        PUT_LIT("\",\"start\":");
        put_uint(m->start);
        PUT_LIT(",\"end\":");
        put_uint(m->end);
        PUT_LIT(",\"text\":");
        put_str(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
        put_c('}');
    }
    PUT_LIT("]}\n");
}

/* One input line's fields. id is the raw JSON text of the "id" value
 * ("null" when absent), echoed as it came; text and lang are decoded
 * strings, pointing into the line itself or into a jansson value held in
 * keep[]. */
struct line {
    const char *id;
    size_t idlen;
    const char *text;  /* NULL: no "text" string */
    size_t tlen;
    const char *lang;  /* NULL: none */
    size_t langlen;
    double rating;
    json_t *keep[8];
    size_t nkeep;
    char *iddump;      /* slow path: new JSON text of the id */
};

static void line_clear(struct line *ln)
{
    size_t i;

    for (i = 0; i < ln->nkeep; i++)
        json_decref(ln->keep[i]);
    free(ln->iddump);
    memset(ln, 0, sizeof *ln);
    ln->id = "null";
    ln->idlen = 4;
}

/*
 * Locating the fields of a line. jansson has no event interface, and
 * json_loadb() builds a whole object per line (a hashtable, every key and
 * every unused field a malloc'd copy), which cost more than the analysis
 * itself. So a line that is valid UTF-8 is first walked over its
 * top-level members. Plain strings without escapes (the common case) are
 * used in place; every string with an escape and every value that is not
 * a string is handed to jansson (json_loadb of its bytes), so jansson
 * decodes every escape and decides what is valid JSON; nothing here
 * decodes JSON.
 * A line the walk does not accept goes to json_loadb() whole, which
 * decodes it or words the error.
 */
static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline size_t skip_ws(const char *s, size_t n, size_t i)
{
    if (i < n && (unsigned char)s[i] > ' ')
        return i; /* the common case: no white space */
    while (i < n && is_ws(s[i]))
        i++;
    return i;
}

/* The index of the first byte at or after i that is '"', '\\' or a
 * control character, or n. Sixteen bytes at a time with SSE2, then eight
 * (the bit tricks of "Bit Twiddling Hacks": a zero byte / a byte less
 * than k). */
static inline size_t str_stop(const char *s, size_t n, size_t i)
{
#if defined(__SSE2__)
    /* sixteen bytes at a time (SSE2 is part of x86-64) */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);

    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
            _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x)); /* x <= 0x1f */
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;

    while (i + 8 <= n) {
        uint64_t w, q, b, t;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        t = (((q - ones) & ~q) | ((b - ones) & ~b) |
             ((w - ones * 0x20) & ~w)) & high;
        if (t)
            return i + (size_t)(__builtin_ctzll(t) >> 3);
        i += 8;
    }
#endif
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' &&
           s[i] != '\\')
        i++;
    return i;
}

/* s[i] is '"': the index after the closing quote, or 0 when the string
 * does not end or holds a raw control character. *esc: it has escapes. */
static inline size_t str_end(const char *s, size_t n, size_t i,
                             int *esc)
{
    *esc = 0;
    for (i++; (i = str_stop(s, n, i)) < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        *esc = 1; /* a backslash: skip what it escapes */
        i++;
    }
    return 0;
}

/* The end of the value at s[i] (not a string), or 0: brackets are
 * balanced (strings inside skipped), a scalar runs to the next
 * delimiter. jansson then judges the bytes. */
static size_t value_end(const char *s, size_t n, size_t i)
{
    size_t depth = 0;
    int esc;

    if (s[i] != '[' && s[i] != '{') {
        while (i < n && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' &&
               s[i] != ']')
            i++;
        return i;
    }
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            i = str_end(s, n, i, &esc);
            if (!i)
                return 0;
            continue;
        }
        if (c == '[' || c == '{')
            depth++;
        else if ((c == ']' || c == '}') && --depth == 0)
            return i + 1;
        i++;
    }
    return 0;
}

/* jansson's judgement of s[0..n), kept in ln; NULL when invalid or
 * when ln cannot hold more. */
static json_t *decode(struct line *ln, const char *s, size_t n)
{
    json_t *v;

    if (ln->nkeep == sizeof ln->keep / sizeof ln->keep[0])
        return NULL;
    v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (v)
        ln->keep[ln->nkeep++] = v;
    return v;
}

/* Releases the value decode() kept last. */
static void drop_last(struct line *ln)
{
    json_decref(ln->keep[--ln->nkeep]);
}

enum { F_OTHER, F_ID, F_TEXT, F_LANG, F_RATING };

static int field_of(const char *k, size_t n)
{
    if (n == 2 && memcmp(k, "id", 2) == 0)
        return F_ID;
    if (n == 4 && memcmp(k, "text", 4) == 0)
        return F_TEXT;
    if (n == 4 && memcmp(k, "lang", 4) == 0)
        return F_LANG;
    if (n == 6 && memcmp(k, "rating", 6) == 0)
        return F_RATING;
    return F_OTHER;
}

/* No byte >= 0x80: valid UTF-8 at a glance (most lines of English). */
static int ascii_only(const char *s, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    __m128i acc = _mm_setzero_si128();

    for (; i + 16 <= n; i += 16)
        acc = _mm_or_si128(acc, _mm_loadu_si128((const __m128i *)
                                                (const void *)(s + i)));
    if (_mm_movemask_epi8(acc))
        return 0;
#endif
    for (; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* 0, or -1 when the line needs the whole-line parse. */
static int locate(struct line *ln, const char *s, size_t n)
{
    size_t i, e;
    int esc, f;
    json_t *v;

    if (!ascii_only(s, n) && !ear_utf8_valid(s, n))
        return -1;
    i = skip_ws(s, n, 0);
    if (i >= n || s[i] != '{')
        return -1;
    i = skip_ws(s, n, i + 1);
    if (i < n && s[i] == '}')
        goto end;
    for (;;) {
        const char *vs, *k;
        size_t kn;

        if (i >= n || s[i] != '"')
            return -1;
        e = str_end(s, n, i, &esc);
        if (!e)
            return -1;
        k = s + i + 1;
        kn = e - i - 2;
        if (esc) {
            v = decode(ln, s + i, e - i);
            if (!v)
                return -1;
            k = json_string_value(v);
            kn = json_string_length(v);
        }
        f = field_of(k, kn);
        if (esc)
            drop_last(ln);
        i = skip_ws(s, n, e);
        if (i >= n || s[i] != ':')
            return -1;
        i = skip_ws(s, n, i + 1);
        if (i >= n)
            return -1;
        vs = s + i;
        v = NULL;
        if (s[i] == '"') {
            e = str_end(s, n, i, &esc);
            if (!e)
                return -1;
        } else {
            e = value_end(s, n, i);
            if (!e || e == i)
                return -1;
            esc = 1; /* not a string: jansson judges it */
        }
        if (esc) {
            v = decode(ln, vs, e - i);
            if (!v)
                return -1;
        }
        switch (f) {
        case F_ID:
            ln->id = vs;
            ln->idlen = e - i;
            break;
        case F_TEXT:
        case F_LANG: {
            const char *t = v ? json_string_value(v) : vs + 1;
            size_t tn = v ? json_string_length(v) : e - i - 2;
            if (v && !json_is_string(v))
                t = NULL;
            if (f == F_TEXT) {
                ln->text = t;
                ln->tlen = tn;
            } else {
                ln->lang = t;
                ln->langlen = tn;
            }
            break;
        }
        case F_RATING:
            ln->rating = json_is_number(v) ? json_number_value(v) : 0;
            break;
        default:
            break;
        }
        if (v && f != F_TEXT && f != F_LANG)
            drop_last(ln); /* judged and read: not needed any more */
        i = skip_ws(s, n, e);
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
            continue;
        }
        if (i < n && s[i] == '}')
            break;
        return -1;
    }
end:
    return skip_ws(s, n, i + 1) == n ? 0 : -1;
}

/* The whole-line parse: 0, or the message for a line that is not a JSON
 * object, in msg. */
static int locate_slow(struct line *ln, const char *s, size_t n, char *msg,
                       size_t msize)
{
    json_error_t jerr;
    json_t *j, *id, *jt, *jl, *jr;

    line_clear(ln);
    j = json_loadb(s, n, JSON_ALLOW_NUL, &jerr);
    if (!j) {
        snprintf(msg, msize, "bad JSON at column %d: %s", jerr.column,
                 jerr.text);
        return -1;
    }
    ln->keep[ln->nkeep++] = j;
    if (!json_is_object(j)) {
        snprintf(msg, msize, "not a JSON object");
        return -1;
    }
    id = json_object_get(j, "id");
    jt = json_object_get(j, "text");
    jl = json_object_get(j, "lang");
    jr = json_object_get(j, "rating");
    if (id) {
        ln->iddump = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!ln->iddump) {
            snprintf(msg, msize, "out of memory");
            return -1;
        }
        ln->id = ln->iddump;
        ln->idlen = strlen(ln->iddump);
    }
    if (json_is_string(jt)) {
        ln->text = json_string_value(jt);
        ln->tlen = json_string_length(jt);
    }
    if (json_is_string(jl)) {
        ln->lang = json_string_value(jl);
        ln->langlen = json_string_length(jl);
    }
    if (json_is_number(jr))
        ln->rating = json_number_value(jr);
    return 0;
}

/* {"id":...,"error":"..."} for a line that could not be analysed. */
static void bad_line(struct ear_cli *cli, size_t lineno,
                     const struct line *ln, const char *msg)
{
    ear_cli_err(cli, "<stdin>:%zu: %s", lineno, msg);
    put_s("{\"id\":");
    put_n(ln->id, ln->idlen);
    put_s(",\"error\":");
    put_str(msg, strlen(msg));
    put_s("}\n");
}

static int check_jsonl(struct ear_cli *cli, struct ear_analyzer *an,
                       const char *dflt_lang)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int bad = 0;
    struct line ln;

    memset(&ln, 0, sizeof ln);
    ear_analyzer_set_explain(an, 0); /* not printed here */
    while ((n = getline(&line, &cap, stdin)) != -1 && !ferror(stdout)) {
        const struct ear_verdict *v;
        struct ear_error err;
        const char *lang = dflt_lang;
        char msg[600], lbuf[32];

        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strspn(line, " \t") == (size_t)n)
            continue;
        line_clear(&ln);
        if (locate(&ln, line, (size_t)n) < 0 &&
            locate_slow(&ln, line, (size_t)n, msg, sizeof msg) < 0) {
            bad = 1;
            bad_line(cli, lineno, &ln, msg);
            continue;
        }
        if (!ln.text) {
            bad = 1;
            bad_line(cli, lineno, &ln, "no \"text\" string");
            continue;
        }
        if (ln.lang && ln.langlen) {
            /* in place, the name is not terminated; a name too long
             * for lbuf is no language and the analyzer says so */
            size_t k = ln.langlen < sizeof lbuf ? ln.langlen
                                                : sizeof lbuf - 1;
            memcpy(lbuf, ln.lang, k);
            lbuf[k] = '\0';
            lang = lbuf;
        }
        err.text[0] = '\0';
        if (ear_analyzer_check_borrowed(an, ln.text, ln.tlen, lang,
                                        ln.rating, &v, &err) < 0) {
            bad = 1;
            bad_line(cli, lineno, &ln, err.text);
        } else {
            put_verdict(ln.id, ln.idlen, v);
        }
    }
    line_clear(&ln);
    free(line);
    put_flush();
    if (fflush(stdout) == EOF || ferror(stdout)) {
        ear_cli_err(cli, "write error: <stdout>");
        return EAR_EXIT_FAIL;
    }
    if (ferror(stdin)) {
        ear_cli_err(cli, "read error: <stdin>");
        return EAR_EXIT_FAIL;
    }
    return bad ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

int ear_cmd_check(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"lang", required_argument, NULL, 'l'},
        {"rating", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"jsonl", no_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *lang = NULL;
    double rating = 0;
    int json = 0, jsonl = 0, c, i, rc = EAR_EXIT_FAIL;
    struct ear_analyzer *an = NULL;
    struct ear_buf text;
    struct ear_verdict v;
    struct ear_error err;
    char *clean = NULL, *end;
    size_t clen;

    ear_buf_init(&text, EAR_BUF_MAX_DEFAULT);
    ear_verdict_init(&v);
    optind = 0;
    while ((c = getopt_long(argc, argv, "l:r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (strcmp(optarg, "hu") && strcmp(optarg, "en") &&
                strcmp(optarg, "auto"))
                return ear_cli_usage(cli, "check", "--lang: '%s' is not hu,"
                                     " en or auto", optarg);
            lang = optarg;
            break;
        case 'r':
            rating = strtod(optarg, &end);
            if (*end || end == optarg || rating < 1 || rating > 5)
                return ear_cli_usage(cli, "check", "--rating: '%s' is not "
                                     "a number from 1 to 5", optarg);
            break;
        case 'j':
            json = 1;
            break;
        case 'L':
            jsonl = 1;
            break;
        case 'h':
            usage(stdout);
            return EAR_EXIT_OK;
        default:
            return ear_cli_usage(cli, "check", "unknown option");
        }
    }
    if (jsonl && optind < argc)
        return ear_cli_usage(cli, "check", "--jsonl reads stdin; no TEXT");
    if (!jsonl && optind >= argc)
        return ear_cli_usage(cli, "check", "no TEXT (or use --jsonl)");
    an = ear_cli_analyzer(cli);
    if (!an)
        return EAR_EXIT_FAIL;
    if (jsonl) {
        rc = check_jsonl(cli, an, lang);
        goto out;
    }
    if (argc - optind == 1 && strcmp(argv[optind], "-") == 0) {
        if (read_all(stdin, &text) < 0) {
            ear_cli_err(cli, "read error: <stdin>");
            goto out;
        }
    } else {
        for (i = optind; i < argc; i++) {
            if ((i > optind && ear_buf_addc(&text, ' ') < 0) ||
                ear_buf_adds(&text, argv[i]) < 0) {
                ear_cli_err(cli, "out of memory");
                goto out;
            }
        }
    }
    clean = ear_utf8_sanitize(ear_buf_str(&text), text.len, &clen);
    if (!clean) {
        ear_cli_err(cli, "out of memory");
        goto out;
    }
    ear_error_clear(&err);
    if (ear_analyzer_check(an, clean, clen, lang, rating, &v, &err) < 0) {
        ear_cli_error(cli, &err);
        goto out;
    }
    if (json)
        ear_cli_print_json(verdict_json(&v, NULL, 1));
    else
        print_human(cli, &v);
    rc = EAR_EXIT_OK;
out:
    free(clean);
    ear_verdict_dispose(&v);
    ear_buf_dispose(&text);
    ear_analyzer_free(an);
    return rc;
}
