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
 * (start/end: byte offsets into text). A bad line is reported on stderr
 * with its number and answered with {"id":...,"error":"..."}; the exit
 * status is then 1, after every line was read.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

static int write_line(json_t *o)
{
    char stackbuf[8192], *p = stackbuf;
    size_t n;
    int rc = 0;

    n = json_dumpb(o, stackbuf, sizeof stackbuf,
                   JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (n > sizeof stackbuf) {
        p = malloc(n);
        if (!p)
            return EAR_ENOMEM;
        n = json_dumpb(o, p, n, JSON_COMPACT | JSON_REAL_PRECISION(6));
    }
    if (n == 0 || fwrite(p, 1, n, stdout) != n || putchar('\n') == EOF)
        rc = EAR_EIO;
    if (p != stackbuf)
        free(p);
    return rc;
}

/* The --jsonl hot path writes its fixed-shape line directly (jansson's
 * object building costs more than the analysis); strings go through
 * put_str, which escapes as RFC 8259 requires. Rule ids, categories,
 * severities and languages are plain ASCII by construction. */
static int put_str(struct ear_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    int rc = ear_buf_addc(b, '"');

    for (i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = ear_buf_addn(b, s + run, i - run);
        run = i + 1;
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
            if (rc == 0)
                rc = ear_buf_addn(b, esc, 6);
            continue;
        }
        if (rc == 0)
            rc = ear_buf_addn(b, esc, 2);
    }
    if (rc == 0)
        rc = ear_buf_addn(b, s + run, n - run);
    if (rc == 0)
        rc = ear_buf_addc(b, '"');
    return rc;
}

static int put_id(struct ear_buf *b, json_t *id)
{
    char *d;
    int rc;

    if (json_is_string(id))
        return put_str(b, json_string_value(id), json_string_length(id));
    if (json_is_integer(id))
        return ear_buf_addf(b, "%" JSON_INTEGER_FORMAT,
                            json_integer_value(id));
    if (!id)
        return ear_buf_adds(b, "null");
    d = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!d)
        return EAR_ENOMEM;
    rc = ear_buf_adds(b, d);
    free(d);
    return rc;
}

static int put_uint(struct ear_buf *b, size_t v)
{
    char d[24];
    size_t i = sizeof d;

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return ear_buf_addn(b, d + i, sizeof d - i);
}

/* Two decimals, as the scores are rounded to. */
static int put_score(struct ear_buf *b, double s)
{
    long long c = llround(s * 100);
    int rc = 0;

    if (c < 0) {
        rc = ear_buf_addc(b, '-');
        c = -c;
    }
    if (rc == 0)
        rc = put_uint(b, (size_t)(c / 100));
    if (rc == 0)
        rc = ear_buf_addc(b, '.');
    if (rc == 0)
        rc = ear_buf_addc(b, (char)('0' + c % 100 / 10));
    if (rc == 0)
        rc = ear_buf_addc(b, (char)('0' + c % 10));
    return rc;
}

static int put_verdict(struct ear_buf *b, json_t *id,
                       const struct ear_verdict *v)
{
    size_t i;
    int rc;

    rc = ear_buf_adds(b, "{\"id\":");
    if (rc == 0)
        rc = put_id(b, id);
    if (rc == 0)
        rc = ear_buf_adds(b, v->flag ? ",\"flag\":true,\"score\":"
                                     : ",\"flag\":false,\"score\":");
    if (rc == 0)
        rc = put_score(b, v->score);
    if (rc == 0)
        rc = ear_buf_adds(b, ",\"severity\":\"");
    if (rc == 0)
        rc = ear_buf_adds(b, ear_severity_name(v->severity));
    if (rc == 0)
        rc = ear_buf_adds(b, "\",\"categories\":[");
    for (i = 0; rc == 0 && i < v->ncategories; i++) {
        rc = ear_buf_adds(b, i ? ",\"" : "\"");
        if (rc == 0)
            rc = ear_buf_adds(b, v->categories[i]);
        if (rc == 0)
            rc = ear_buf_addc(b, '"');
    }
    if (rc == 0)
        rc = ear_buf_adds(b, "],\"lang\":\"");
    if (rc == 0)
        rc = ear_buf_adds(b, v->lang);
    if (rc == 0)
        rc = ear_buf_adds(b, "\",\"matches\":[");
    for (i = 0; rc == 0 && i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];
        rc = ear_buf_adds(b, i ? ",{\"rule\":\"" : "{\"rule\":\"");
        if (rc == 0)
            rc = ear_buf_adds(b, m->rule);
        if (rc == 0)
            rc = ear_buf_adds(b, "\",\"start\":");
        if (rc == 0)
            rc = put_uint(b, m->start);
        if (rc == 0)
            rc = ear_buf_adds(b, ",\"end\":");
        if (rc == 0)
            rc = put_uint(b, m->end);
        if (rc == 0)
            rc = ear_buf_adds(b, ",\"text\":");
        if (rc == 0)
            rc = put_str(b, m->text ? m->text : "",
                         m->text ? strlen(m->text) : 0);
        if (rc == 0)
            rc = ear_buf_addc(b, '}');
    }
    if (rc == 0)
        rc = ear_buf_adds(b, "]}\n");
    return rc;
}

static int bad_line(struct ear_cli *cli, size_t lineno, json_t *id,
                    const char *msg)
{
    json_t *o = json_object();

    ear_cli_err(cli, "<stdin>:%zu: %s", lineno, msg);
    if (!o) {
        json_decref(id);
        return EAR_ENOMEM;
    }
    json_object_set_new(o, "id", id ? id : json_null());
    json_object_set_new(o, "error", json_string(msg));
    write_line(o);
    json_decref(o);
    return 0;
}

static int check_jsonl(struct ear_cli *cli, struct ear_analyzer *an,
                       const char *dflt_lang)
{
    static char outbuf[1 << 20];
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int bad = 0, rc = 0;
    struct ear_buf ob;

    ear_buf_init(&ob, EAR_BUF_MAX_DEFAULT);
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    while ((n = getline(&line, &cap, stdin)) != -1) {
        struct ear_verdict v;
        struct ear_error err;
        json_error_t jerr;
        json_t *j, *id, *jt, *jl, *jr;
        const char *lang = dflt_lang;
        double rating = 0;
        char msg[600];

        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strspn(line, " \t") == (size_t)n)
            continue;
        j = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
        if (!j) {
            snprintf(msg, sizeof msg, "bad JSON at column %d: %s",
                     jerr.column, jerr.text);
            bad = 1;
            if (bad_line(cli, lineno, NULL, msg) < 0)
                break;
            continue;
        }
        id = json_object_get(j, "id");
        jt = json_object_get(j, "text");
        jl = json_object_get(j, "lang");
        jr = json_object_get(j, "rating");
        if (!json_is_object(j) || !json_is_string(jt)) {
            bad = 1;
            rc = bad_line(cli, lineno, json_incref(id),
                          json_is_object(j) ? "no \"text\" string"
                                            : "not a JSON object");
            json_decref(j);
            if (rc < 0)
                break;
            continue;
        }
        if (json_is_string(jl) && json_string_length(jl))
            lang = json_string_value(jl);
        if (json_is_number(jr))
            rating = json_number_value(jr);
        ear_error_clear(&err);
        rc = ear_analyzer_check(an, json_string_value(jt),
                                json_string_length(jt), lang, rating, &v,
                                &err);
        if (rc < 0) {
            bad = 1;
            rc = bad_line(cli, lineno, json_incref(id), err.text);
            ear_verdict_dispose(&v);
            json_decref(j);
            if (rc < 0)
                break;
            continue;
        }
        ear_buf_reset(&ob);
        rc = put_verdict(&ob, id, &v);
        ear_verdict_dispose(&v);
        json_decref(j);
        if (rc < 0)
            break;
        if (fwrite(ob.ptr, 1, ob.len, stdout) != ob.len) {
            rc = EAR_EIO;
            break;
        }
    }
    ear_buf_dispose(&ob);
    free(line);
    if (fflush(stdout) == EOF || rc == EAR_EIO) {
        ear_cli_err(cli, "write error: <stdout>");
        return EAR_EXIT_FAIL;
    }
    if (ferror(stdin)) {
        ear_cli_err(cli, "read error: <stdin>");
        return EAR_EXIT_FAIL;
    }
    if (rc == EAR_ENOMEM) {
        ear_cli_err(cli, "out of memory");
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
