/*
 * earshot rules test|list|lint: the loaded rule packs.
 *
 *   test   runs every embedded test; prints each failure as
 *          file:line: rule: expected fire|quiet: "text"; exit 1 on any
 *   list   id, category, severity, language, team, tests, place
 *   lint   duplicate and overlapping terms, overlapping rules (one another
 *          of its category always repeats), unreachable rules (silenced by
 *          their own 'not', or fired by no embedded test), regex-only
 *          rules, rules without tests; exit 1 on errors
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/analyzer.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot rules test [--verbose]\n"
            "       earshot rules list [--json] [--lang hu|en] "
            "[--category C]\n"
            "       earshot rules lint [--json]\n"
            "\n"
            "The rule packs earshot loads (the config's 'rules', else the "
            "installed packs,\nelse the source tree's rules/).\n"
            "\n"
            "  test   run every embedded test (rule fire/quiet tests and "
            "pack flag/quiet\n         tests); print the failures; exit 1 "
            "on any failure\n"
            "  list   every rule: id, category, severity, language, team, "
            "tests, file:line\n"
            "  lint   duplicate and overlapping terms, overlapping rules, "
            "unreachable rules\n         (silenced by their own 'not', or "
            "fired by no embedded test),\n         regex-only rules, rules "
            "without tests; exit 1 on errors\n"
            "\n"
            "  -j, --json       JSON output (list, lint)\n"
            "  -l, --lang L     list only rules of language L\n"
            "  -c, --category C list only rules of category C\n"
            "  -h, --help       this help\n");
}

struct test_run {
    struct ear_cli *cli;
};

static void on_fail(const char *rule_id, const char *file, int line,
                    const char *text, int expected_fire, void *payload)
{
    struct test_run *tr = payload;

    (void)tr;
    if (rule_id)
        printf("%s:%d: %s: expected %s: \"%s\"\n", file, line, rule_id,
               expected_fire ? "fire" : "quiet", text);
    else
        printf("%s:%d: pack test: expected %s: \"%s\"\n", file, line,
               expected_fire ? "flag" : "quiet", text);
}

static int cmd_test(struct ear_cli *cli, struct ear_analyzer *an)
{
    struct test_run tr = {cli};
    size_t ntests = 0, nfailed = 0;

    if (ear_analyzer_selftest(an, on_fail, &tr, &ntests, &nfailed) < 0) {
        ear_cli_err(cli, "out of memory");
        return EAR_EXIT_FAIL;
    }
    printf("rules test: %zu passed, %zu failed\n", ntests - nfailed,
           nfailed);
    if (nfailed)
        ear_cli_err(cli, "%zu of %zu rule tests failed", nfailed, ntests);
    return nfailed ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

static int cmd_list(struct ear_cli *cli, struct ear_analyzer *an, int json,
                    const char *lang, const char *cat)
{
    size_t i, n = ear_analyzer_rule_count(an);
    json_t *arr = json ? json_array() : NULL;

    if (json && !arr) {
        ear_cli_err(cli, "out of memory");
        return EAR_EXIT_FAIL;
    }
    for (i = 0; i < n; i++) {
        struct ear_rule_info ri;
        if (ear_analyzer_rule_info(an, i, &ri) < 0)
            continue;
        if (lang && strcmp(lang, ri.lang) != 0)
            continue;
        if (cat && strcmp(cat, ri.category) != 0)
            continue;
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_string(ri.id));
            json_object_set_new(o, "category", json_string(ri.category));
            json_object_set_new(o, "severity",
                                json_string(ear_severity_name(ri.severity)));
            json_object_set_new(o, "lang", json_string(ri.lang));
            json_object_set_new(o, "team", ri.team ? json_string(ri.team)
                                                   : json_null());
            json_object_set_new(o, "description",
                                json_string(ri.description));
            json_object_set_new(o, "tests",
                                json_integer((json_int_t)ri.ntests));
            json_object_set_new(o, "file", json_string(ri.file));
            json_object_set_new(o, "line", json_integer(ri.line));
            json_array_append_new(arr, o);
        } else {
            printf("%-38s %-9s %-8s %-3s %3zu  %s\n", ri.id, ri.category,
                   ear_severity_name(ri.severity), ri.lang, ri.ntests,
                   ri.description);
        }
    }
    if (json)
        return ear_cli_print_json(arr) < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
    return EAR_EXIT_OK;
}

struct lint_run {
    json_t *arr;
    size_t nerr, nwarn;
};

static void on_lint(int level, const char *file, int line,
                    const char *rule_id, const char *message, void *payload)
{
    struct lint_run *lr = payload;

    if (level >= 2)
        lr->nerr++;
    else
        lr->nwarn++;
    if (lr->arr) {
        json_t *o = json_object();
        json_object_set_new(o, "level", json_string(level >= 2 ? "error"
                                                                : "warning"));
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "line", json_integer(line));
        json_object_set_new(o, "rule", rule_id ? json_string(rule_id)
                                               : json_null());
        json_object_set_new(o, "message", json_string(message));
        json_array_append_new(lr->arr, o);
        return;
    }
    printf("%s:%d: %s: %s%s%s\n", file, line,
           level >= 2 ? "error" : "warning", rule_id ? rule_id : "",
           rule_id ? ": " : "", message);
}

static int cmd_lint(struct ear_cli *cli, struct ear_analyzer *an, int json)
{
    struct lint_run lr = {NULL, 0, 0};
    int rc;

    if (json)
        lr.arr = json_array();
    rc = ear_analyzer_lint(an, on_lint, &lr);
    if (rc < 0) {
        json_decref(lr.arr);
        ear_cli_err(cli, "out of memory");
        return EAR_EXIT_FAIL;
    }
    if (json)
        ear_cli_print_json(lr.arr);
    else
        printf("rules lint: %zu rules, %zu errors, %zu warnings\n",
               ear_analyzer_rule_count(an), lr.nerr, lr.nwarn);
    return lr.nerr ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

int ear_cmd_rules(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"lang", required_argument, NULL, 'l'},
        {"category", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *lang = NULL, *cat = NULL, *sub;
    struct ear_analyzer *an;
    int json = 0, c, rc;

    if (argc > 1 && strcmp(argv[1], "stats") == 0) /* cli/rules_stats.c */
        return ear_cmd_rules_stats(cli, argc, argv);
    optind = 0;
    while ((c = getopt_long(argc, argv, "+jl:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'l':
            lang = optarg;
            break;
        case 'c':
            cat = optarg;
            break;
        case 'h':
            usage(stdout);
            return EAR_EXIT_OK;
        default:
            return ear_cli_usage(cli, "rules", "unknown option");
        }
    }
    if (optind >= argc)
        return ear_cli_usage(cli, "rules", "which: test, list or lint?");
    sub = argv[optind];
    if (strcmp(sub, "test") && strcmp(sub, "list") && strcmp(sub, "lint"))
        return ear_cli_usage(cli, "rules", "unknown subcommand '%s' (test, "
                             "list or lint)", sub);
    /* options may follow the subcommand too */
    {
        int sargc = argc - optind;
        char **sargv = argv + optind;
        optind = 0;
        while ((c = getopt_long(sargc, sargv, "jl:c:h", opts, NULL)) != -1) {
            switch (c) {
            case 'j':
                json = 1;
                break;
            case 'l':
                lang = optarg;
                break;
            case 'c':
                cat = optarg;
                break;
            case 'h':
                usage(stdout);
                return EAR_EXIT_OK;
            default:
                return ear_cli_usage(cli, "rules", "unknown option");
            }
        }
        if (optind < sargc)
            return ear_cli_usage(cli, "rules", "unexpected argument '%s'",
                                 sargv[optind]);
    }
    if (lang && strcmp(lang, "hu") && strcmp(lang, "en") &&
        strcmp(lang, "any"))
        return ear_cli_usage(cli, "rules", "--lang: '%s' is not hu, en or "
                             "any", lang);
    an = ear_cli_analyzer(cli);
    if (!an)
        return EAR_EXIT_FAIL;
    if (strcmp(sub, "test") == 0)
        rc = cmd_test(cli, an);
    else if (strcmp(sub, "list") == 0)
        rc = cmd_list(cli, an, json, lang, cat);
    else
        rc = cmd_lint(cli, an, json);
    ear_analyzer_free(an);
    return rc;
}
