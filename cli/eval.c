/*
 * earshot eval FILE.jsonl...: scores the analyzer on labeled lines
 * {"id","text","lang"?,"rating"?,"label":"negative"|"other", ...}.
 *
 * Per file: precision, recall, F1 and MCC of the negative class, the
 * confusion counts, recall per category where lines carry one ("reason"
 * or "category"), the rules behind the most false positives and the most
 * common words in the misses (false negatives), plus the throughput.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "analyzer/analyzer.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot eval [--json] [--top N] FILE.jsonl...\n"
            "\n"
            "Reads labeled lines {\"id\",\"text\",\"lang\",\"label\":"
            "\"negative\"|\"other\"}\n(\"rating\", \"reason\" or "
            "\"category\" optional) and prints per file the\nprecision, "
            "recall, F1 and MCC of the negative class, the confusion "
            "counts,\nrecall per category where the file carries one, the "
            "rules behind the\nmost false positives and the most common "
            "words in the misses.\n"
            "\n"
            "  -j, --json     one JSON object with every file\n"
            "  -n, --top N    how many rules and words to show (default 10)\n"
            "  -h, --help     this help\n");
}

/* A small string -> count table (open addressing). */
struct counter {
    char **keys;
    size_t *counts;
    size_t cap, n;
};

static size_t hash_str(const char *s, size_t n)
{
    size_t h = 14695981039346656037u;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static int counter_add(struct counter *c, const char *s, size_t n)
{
    size_t i;

    if (c->n * 2 >= c->cap) {
        struct counter nc;
        size_t k;
        nc.cap = c->cap ? c->cap * 2 : 1024;
        nc.n = 0;
        nc.keys = calloc(nc.cap, sizeof *nc.keys);
        nc.counts = calloc(nc.cap, sizeof *nc.counts);
        if (!nc.keys || !nc.counts) {
            free(nc.keys);
            free(nc.counts);
            return EAR_ENOMEM;
        }
        for (k = 0; k < c->cap; k++) {
            if (!c->keys[k])
                continue;
            i = hash_str(c->keys[k], strlen(c->keys[k])) & (nc.cap - 1);
            while (nc.keys[i])
                i = (i + 1) & (nc.cap - 1);
            nc.keys[i] = c->keys[k];
            nc.counts[i] = c->counts[k];
            nc.n++;
        }
        free(c->keys);
        free(c->counts);
        *c = nc;
    }
    i = hash_str(s, n) & (c->cap - 1);
    while (c->keys[i]) {
        if (strlen(c->keys[i]) == n && memcmp(c->keys[i], s, n) == 0) {
            c->counts[i]++;
            return 0;
        }
        i = (i + 1) & (c->cap - 1);
    }
    c->keys[i] = ear_strndup(s, n);
    if (!c->keys[i])
        return EAR_ENOMEM;
    c->counts[i] = 1;
    c->n++;
    return 0;
}

static void counter_dispose(struct counter *c)
{
    size_t i;

    for (i = 0; i < c->cap; i++)
        free(c->keys[i]);
    free(c->keys);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

struct kv {
    const char *k;
    size_t v;
};

static int cmp_kv(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;

    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return strcmp(x->k, y->k);
}

/* New array of the entries, most frequent first. */
static struct kv *counter_sorted(const struct counter *c)
{
    struct kv *v = calloc(c->n ? c->n : 1, sizeof *v);
    size_t i, k = 0;

    if (!v)
        return NULL;
    for (i = 0; i < c->cap; i++) {
        if (c->keys[i]) {
            v[k].k = c->keys[i];
            v[k++].v = c->counts[i];
        }
    }
    qsort(v, k, sizeof *v, cmp_kv);
    return v;
}

struct cat {
    char *name;
    size_t n, flagged;
    struct counter ours; /* our categories on its flagged lines */
};

struct fstats {
    size_t lines, bad, tp, fp, fn, tn;
    struct cat *cats;
    size_t ncats;
    struct counter fp_rules, miss_words;
    double secs;
};

static void on_word(const char *w, size_t n, int is_stop, void *payload)
{
    struct counter *c = payload;

    if (!is_stop && n > 2 && !(w[0] >= '0' && w[0] <= '9'))
        counter_add(c, w, n);
}

static struct cat *cat_get(struct fstats *s, const char *name)
{
    size_t i;
    struct cat *nc;

    for (i = 0; i < s->ncats; i++)
        if (strcmp(s->cats[i].name, name) == 0)
            return &s->cats[i];
    nc = realloc(s->cats, (s->ncats + 1) * sizeof *nc);
    if (!nc)
        return NULL;
    s->cats = nc;
    memset(&nc[s->ncats], 0, sizeof *nc);
    nc[s->ncats].name = ear_strdup(name);
    if (!nc[s->ncats].name)
        return NULL;
    return &s->cats[s->ncats++];
}

static int eval_file(struct ear_cli *cli, struct ear_analyzer *an,
                     const char *path, struct fstats *s)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    struct timespec t0, t1;

    if (!f) {
        ear_cli_err(cli, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((n = getline(&line, &cap, f)) != -1) {
        json_error_t jerr;
        json_t *j, *jt, *jl, *jlab, *jr, *jc;
        struct ear_verdict v;
        struct ear_error err;
        const char *lab, *lang = NULL;
        int neg;
        size_t i;

        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)n)
            continue;
        j = json_loadb(line, (size_t)n, 0, &jerr);
        if (!j) {
            ear_cli_err(cli, "%s:%zu: bad JSON: %s", path, lineno,
                        jerr.text);
            s->bad++;
            continue;
        }
        jt = json_object_get(j, "text");
        jl = json_object_get(j, "lang");
        jlab = json_object_get(j, "label");
        jr = json_object_get(j, "rating");
        jc = json_object_get(j, "reason");
        if (!jc)
            jc = json_object_get(j, "category");
        lab = json_string_value(jlab);
        if (!json_is_string(jt) || !lab ||
            (strcmp(lab, "negative") && strcmp(lab, "other"))) {
            ear_cli_err(cli, "%s:%zu: needs \"text\" and \"label\": "
                        "\"negative\" or \"other\"", path, lineno);
            s->bad++;
            json_decref(j);
            continue;
        }
        if (json_is_string(jl))
            lang = json_string_value(jl);
        neg = strcmp(lab, "negative") == 0;
        ear_error_clear(&err);
        if (ear_analyzer_check(an, json_string_value(jt),
                               json_string_length(jt), lang,
                               json_is_number(jr) ? json_number_value(jr)
                                                  : 0, &v, &err) < 0) {
            ear_cli_err(cli, "%s:%zu: %s", path, lineno, err.text);
            s->bad++;
            ear_verdict_dispose(&v);
            json_decref(j);
            continue;
        }
        s->lines++;
        if (neg && v.flag)
            s->tp++;
        else if (neg)
            s->fn++;
        else if (v.flag)
            s->fp++;
        else
            s->tn++;
        if (!neg && v.flag) {
            for (i = 0; i < v.nmatches; i++) {
                size_t k;
                for (k = 0; k < i; k++)
                    if (strcmp(v.matches[k].rule, v.matches[i].rule) == 0)
                        break;
                if (k == i)
                    counter_add(&s->fp_rules, v.matches[i].rule,
                                strlen(v.matches[i].rule));
            }
        }
        if (neg && !v.flag)
            ear_analyzer_words(an, json_string_value(jt),
                               json_string_length(jt), lang, on_word,
                               &s->miss_words, NULL);
        if (neg && json_is_string(jc)) {
            struct cat *c = cat_get(s, json_string_value(jc));
            if (c) {
                c->n++;
                c->flagged += v.flag != 0;
                if (v.flag && v.ncategories)
                    counter_add(&c->ours, v.categories[0],
                                strlen(v.categories[0]));
            }
        }
        ear_verdict_dispose(&v);
        json_decref(j);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->secs = (double)(t1.tv_sec - t0.tv_sec) +
              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    free(line);
    if (ferror(f)) {
        ear_cli_err(cli, "%s: read error", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static double mcc(const struct fstats *s)
{
    double tp = (double)s->tp, fp = (double)s->fp, fn = (double)s->fn,
           tn = (double)s->tn;
    double d = sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));

    return d > 0 ? (tp * tn - fp * fn) / d : 0;
}

static json_t *top_json(const struct counter *c, const char *key, size_t top)
{
    json_t *a = json_array();
    struct kv *v = counter_sorted(c);
    size_t i;

    for (i = 0; v && a && i < c->n && i < top; i++) {
        json_t *o = json_object();
        json_object_set_new(o, key, json_string(v[i].k));
        json_object_set_new(o, "count", json_integer((json_int_t)v[i].v));
        json_array_append_new(a, o);
    }
    free(v);
    return a;
}

static void print_top(const struct counter *c, size_t top)
{
    struct kv *v = counter_sorted(c);
    size_t i;

    for (i = 0; v && i < c->n && i < top; i++)
        printf("%s%s (%zu)", i ? ", " : "", v[i].k, v[i].v);
    if (!c->n)
        printf("none");
    printf("\n");
    free(v);
}

static json_t *file_json(const char *path, const struct fstats *s,
                         size_t top)
{
    json_t *o = json_object(), *cats = json_array();
    double p = ratio((double)s->tp, (double)(s->tp + s->fp));
    double r = ratio((double)s->tp, (double)(s->tp + s->fn));
    size_t i;

    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "lines", json_integer((json_int_t)s->lines));
    json_object_set_new(o, "bad_lines", json_integer((json_int_t)s->bad));
    json_object_set_new(o, "negative",
                        json_integer((json_int_t)(s->tp + s->fn)));
    json_object_set_new(o, "tp", json_integer((json_int_t)s->tp));
    json_object_set_new(o, "fp", json_integer((json_int_t)s->fp));
    json_object_set_new(o, "fn", json_integer((json_int_t)s->fn));
    json_object_set_new(o, "tn", json_integer((json_int_t)s->tn));
    json_object_set_new(o, "precision", json_real(p));
    json_object_set_new(o, "recall", json_real(r));
    json_object_set_new(o, "f1", json_real(ratio(2 * p * r, p + r)));
    json_object_set_new(o, "mcc", json_real(mcc(s)));
    json_object_set_new(o, "seconds", json_real(s->secs));
    for (i = 0; i < s->ncats; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "category", json_string(s->cats[i].name));
        json_object_set_new(c, "n", json_integer((json_int_t)s->cats[i].n));
        json_object_set_new(c, "flagged",
                            json_integer((json_int_t)s->cats[i].flagged));
        json_object_set_new(c, "recall",
                            json_real(ratio((double)s->cats[i].flagged,
                                            (double)s->cats[i].n)));
        json_object_set_new(c, "our_categories",
                            top_json(&s->cats[i].ours, "category", 3));
        json_array_append_new(cats, c);
    }
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "fp_rules", top_json(&s->fp_rules, "rule", top));
    json_object_set_new(o, "miss_words",
                        top_json(&s->miss_words, "word", top));
    return o;
}

static void print_file(const char *path, const struct fstats *s, size_t top)
{
    double p = ratio((double)s->tp, (double)(s->tp + s->fp));
    double r = ratio((double)s->tp, (double)(s->tp + s->fn));
    size_t i;

    printf("%s: %zu lines, %zu negative", path, s->lines, s->tp + s->fn);
    if (s->bad)
        printf(", %zu bad lines", s->bad);
    printf(" (%.0f lines/s)\n", ratio((double)s->lines, s->secs));
    printf("  precision %.3f  recall %.3f  F1 %.3f  MCC %.3f\n", p, r,
           ratio(2 * p * r, p + r), mcc(s));
    printf("  confusion: TP %zu  FP %zu  FN %zu  TN %zu\n", s->tp, s->fp,
           s->fn, s->tn);
    if (s->ncats) {
        printf("  recall per category (negative lines):\n");
        for (i = 0; i < s->ncats; i++) {
            struct kv *v = counter_sorted(&s->cats[i].ours);
            printf("    %-28s %6zu  flagged %6zu  recall %.3f", s->cats[i].name,
                   s->cats[i].n, s->cats[i].flagged,
                   ratio((double)s->cats[i].flagged, (double)s->cats[i].n));
            if (v && s->cats[i].ours.n)
                printf("  mostly %s", v[0].k);
            printf("\n");
            free(v);
        }
    }
    printf("  rules behind false positives: ");
    print_top(&s->fp_rules, top);
    printf("  common words in misses: ");
    print_top(&s->miss_words, top);
}

static void fstats_dispose(struct fstats *s)
{
    size_t i;

    for (i = 0; i < s->ncats; i++) {
        free(s->cats[i].name);
        counter_dispose(&s->cats[i].ours);
    }
    free(s->cats);
    counter_dispose(&s->fp_rules);
    counter_dispose(&s->miss_words);
}

int ear_cmd_eval(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"top", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct ear_analyzer *an;
    json_t *files = NULL;
    size_t top = 10;
    int json = 0, c, i, failed = 0;
    char *end;

    optind = 0;
    while ((c = getopt_long(argc, argv, "jn:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'n':
            top = strtoul(optarg, &end, 10);
            if (*end || end == optarg || top > 10000)
                return ear_cli_usage(cli, "eval", "--top: '%s' is not a "
                                     "count", optarg);
            break;
        case 'h':
            usage(stdout);
            return EAR_EXIT_OK;
        default:
            return ear_cli_usage(cli, "eval", "unknown option");
        }
    }
    if (optind >= argc)
        return ear_cli_usage(cli, "eval", "no FILE.jsonl");
    an = ear_cli_analyzer(cli);
    if (!an)
        return EAR_EXIT_FAIL;
    if (json)
        files = json_array();
    for (i = optind; i < argc; i++) {
        struct fstats s;
        memset(&s, 0, sizeof s);
        if (eval_file(cli, an, argv[i], &s) < 0) {
            failed = 1;
            fstats_dispose(&s);
            continue;
        }
        if (s.bad)
            failed = 1;
        if (json)
            json_array_append_new(files, file_json(argv[i], &s, top));
        else
            print_file(argv[i], &s, top);
        fstats_dispose(&s);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "files", files);
        ear_cli_print_json(o);
    }
    ear_analyzer_free(an);
    return failed ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}
