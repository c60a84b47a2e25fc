/*
 * earshot parse [--type T] [--preset P] URL|FILE
 * earshot parse --source NAME [URL|FILE]
 *
 * Fetches or reads one source and prints as JSON what earshot sees in it.
 * No store: the fetcher runs on a synthetic source named after the
 * argument, or on a source of the config (with its mapping, selectors and
 * request options), optionally pointed at another URL or file.
 *
 *   {"feed":{"title","link"},
 *    "items":[{"key","id","title","link","author","published","updated",
 *              "text","rating"}]}
 *
 * Times are RFC 3339 UTC; absent values are null. An HTML page's
 * AggregateRating adds "rating" and "rating_count" to "feed".
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "fetcher/fetcher.h"

struct parse_run {
    struct ear_cli *cli;
    json_t *out;   /* the document, once the source succeeded */
    int failed;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot parse [--type T] [--preset P] URL|FILE\n"
            "       earshot parse --source NAME [URL|FILE]\n"
            "\n"
            "Fetches URL (file://, http://, https://) or reads FILE and "
            "prints as JSON\nwhat earshot sees in it:\n"
            "  {\"feed\":{\"title\",\"link\"},\"items\":[{\"key\",\"id\","
            "\"title\",\"link\",\n"
            "   \"author\",\"published\",\"updated\",\"text\",\"rating\"}]}\n"
            "Times are RFC 3339 UTC; absent values are null; ratings are on "
            "a 1-5 scale.\nThe type is detected when not given. An HTML "
            "page's schema.org AggregateRating\nadds \"rating\" and "
            "\"rating_count\" to \"feed\". Needs no store.\n"
            "\n"
            "  -t, --type T      parse as T: rss, atom, rdf, jsonfeed, json "
            "or html\n"
            "  -p, --preset P    a JSON API preset (implies --type json): "
            "appstore, reddit,\n"
            "                    hackernews, mastodon\n"
            "  -s, --source NAME parse as the config's source NAME does "
            "(mapping, selectors,\n"
            "                    headers); URL|FILE, when given, replaces "
            "its url\n"
            "  -h, --help        this help\n");
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t t)
{
    char buf[40];

    return t ? json_string(ear_time_fmt(t, buf, sizeof(buf))) : json_null();
}

static json_t *item_json(const struct ear_mention *m)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    json_object_set_new(o, "key", str_or_null(m->key));
    json_object_set_new(o, "id", str_or_null(m->guid));
    json_object_set_new(o, "title", str_or_null(m->title));
    json_object_set_new(o, "link", str_or_null(m->url));
    json_object_set_new(o, "author", str_or_null(m->author));
    json_object_set_new(o, "published", time_or_null(m->published));
    json_object_set_new(o, "updated", time_or_null(m->updated));
    json_object_set_new(o, "text", str_or_null(m->text));
    json_object_set_new(o, "rating",
                        m->rating > 0 ? json_real(m->rating) : json_null());
    return o;
}

static void on_result(struct ear_fetch_result *res, void *payload)
{
    struct parse_run *pr = payload;
    json_t *feed, *items;
    size_t i;

    if (res->rc < 0) {
        ear_cli_error(pr->cli, &res->err);
        pr->failed = 1;
        return;
    }
    feed = json_object();
    items = json_array();
    pr->out = json_object();
    if (!feed || !items || !pr->out) {
        json_decref(feed);
        json_decref(items);
        ear_cli_err(pr->cli, "%s: out of memory", res->err.source);
        pr->failed = 1;
        return;
    }
    json_object_set_new(feed, "title", str_or_null(res->feed.title));
    json_object_set_new(feed, "link", str_or_null(res->feed.link));
    if (res->feed.rating > 0) {
        json_object_set_new(feed, "rating", json_real(res->feed.rating));
        json_object_set_new(feed, "rating_count",
                            res->feed.rating_count > 0
                                ? json_integer(
                                      (json_int_t)res->feed.rating_count)
                                : json_null());
    }
    for (i = 0; i < res->items.n; i++)
        json_array_append_new(items, item_json(&res->items.v[i]));
    json_object_set_new(pr->out, "feed", feed);
    json_object_set_new(pr->out, "items", items);
}

int ear_cmd_parse(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"preset", required_argument, NULL, 'p'},
        {"source", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char *const types[] = {"rss", "atom", "rdf", "jsonfeed",
                                        "json", "html", NULL};
    struct ear_fetch_opts fopts = EAR_FETCH_OPTS_INIT;
    struct ear_fetcher *fetcher = NULL;
    struct ear_source_cfg src;
    struct ear_yaml *doc = NULL;
    struct parse_run pr;
    struct ear_error err;
    const char *type = NULL, *preset = NULL, *source = NULL;
    const char *const *presets = ear_json_presets();
    char ua[512];
    int c, i, rc = EAR_EXIT_FAIL;

    optind = 0;
    while ((c = getopt_long(argc, argv, "t:p:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            type = optarg;
            break;
        case 'p':
            preset = optarg;
            break;
        case 's':
            source = optarg;
            break;
        case 'h':
            usage(stdout);
            return EAR_EXIT_OK;
        default:
            return ear_cli_usage(cli, "parse", "bad option");
        }
    }
    if (type) {
        for (i = 0; types[i] && strcmp(types[i], type) != 0; i++)
            ;
        if (!types[i])
            return ear_cli_usage(cli, "parse", "unknown type '%s' (expected "
                                 "rss, atom, rdf, jsonfeed, json or html)",
                                 type);
    }
    if (preset) {
        for (i = 0; presets[i] && strcmp(presets[i], preset) != 0; i++)
            ;
        if (!presets[i])
            return ear_cli_usage(cli, "parse", "unknown preset '%s' "
                                 "(expected appstore, reddit, hackernews "
                                 "or mastodon)", preset);
        if (type && strcmp(type, "json") != 0)
            return ear_cli_usage(cli, "parse", "--preset needs type json, "
                                 "not %s", type);
    }
    if (source && (type || preset))
        return ear_cli_usage(cli, "parse", "--source takes the type and "
                             "mapping from the config: no --type or "
                             "--preset with it");
    if (optind >= argc && !source)
        return ear_cli_usage(cli, "parse", "missing URL or FILE");
    if (optind + 1 < argc)
        return ear_cli_usage(cli, "parse", "unexpected argument '%s'",
                             argv[optind + 1]);

    memset(&src, 0, sizeof(src));
    memset(&pr, 0, sizeof(pr));
    pr.cli = cli;
    ear_error_clear(&err);
    if (source) {
        struct ear_config *cfg = ear_cli_config(cli, 1);
        const struct ear_source_cfg *s;

        if (!cfg)
            return EAR_EXIT_FAIL;
        s = ear_config_source(cfg, source);
        if (!s)
            return ear_cli_usage(cli, "parse", "no source named '%s' in %s",
                                 source, cfg->path);
        src = *s;
        src.url = NULL;
        snprintf(ua, sizeof(ua), "earshot/%s (+%s)", EAR_VERSION,
                 cfg->contact ? cfg->contact
                              : "https://github.com/earshot/earshot");
        fopts.user_agent = ua;
        rc = ear_fetch_file_url(&src.url, optind < argc ? argv[optind]
                                                        : s->url, &err);
    } else {
        src.name = argv[optind];
        src.type = (char *)(preset ? "json" : type);
        src.enabled = 1;
        rc = 0;
        if (preset) {
            char text[96];

            snprintf(text, sizeof(text), "preset: %s\n", preset);
            rc = ear_yaml_parse(&doc, "--preset", text, strlen(text), &err);
            if (rc == 0)
                src.opts = doc->root;
        }
        if (rc == 0)
            rc = ear_fetch_file_url(&src.url, argv[optind], &err);
    }
    if (rc == 0)
        rc = ear_fetcher_new(&fetcher, &fopts, &err);
    if (rc == 0)
        rc = ear_fetcher_add(fetcher, &src, NULL, &err);
    if (rc == 0)
        rc = ear_fetcher_perform(fetcher, on_result, &pr);
    if (rc < 0) {
        if (err.text[0])
            ear_cli_error(cli, &err);
        else
            ear_cli_err(cli, "%s: %s", src.name, ear_strerror(rc));
        rc = EAR_EXIT_FAIL;
        goto out;
    }
    if (pr.failed || !pr.out) {
        rc = EAR_EXIT_FAIL;
        goto out;
    }
    rc = ear_cli_print_json(pr.out) < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
    pr.out = NULL;
out:
    json_decref(pr.out);
    ear_fetcher_free(fetcher);
    ear_yaml_free(doc);
    free(src.url);
    return rc;
}
