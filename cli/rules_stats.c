/*
 * earshot rules stats: each rule's hits and its precision as judged by the
 * team (output's ear_rule_feedback), so noisy rules are found and fixed.
 *
 *   earshot rules stats [--since 7d|DATE] [--json]
 *
 * cli/rules.c dispatches here when the subcommand is "stats".
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli/cli.h"
#include "output/output.h"

#define BOLD "\033[1m"
#define RED "\033[31m"
#define RESET "\033[0m"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: earshot rules stats [--since 30d|DATE] [--json]\n\n"
        "For every rule seen in verdicts: how many mentions it matched "
        "(hits), how\nmany of those were flagged and queued, and how the "
        "team judged them:\nconfirmed (responded to or resolved) or "
        "dismissed (as not a complaint:\na false alarm). precision = "
        "confirmed / (confirmed + not a complaint);\n\"-\" until the team "
        "has judged one. Most false alarms first.\n\n"
        "options:\n"
        "  --since WHEN  only verdicts from then on: a duration back from "
        "now (7d)\n"
        "                or a date (2026-11-01); default: all\n"
        "  --json        print JSON\n\n"
        "See docs/queue.md.\n");
}

static json_t *row_json(const struct ear_rule_feedback *r)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "rule",
                     r->rule, "hits", (json_int_t)r->hits, "flagged",
                     (json_int_t)r->flagged, "queued", (json_int_t)r->queued,
                     "confirmed", (json_int_t)r->confirmed, "dismissed",
                     (json_int_t)r->dismissed, "not_a_complaint",
                     (json_int_t)r->not_a_complaint, "precision",
                     r->precision < 0 ? json_null()
                                      : json_real(r->precision));
}

int ear_cmd_rules_stats(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    struct ear_rule_feedback *v = NULL;
    struct ear_store *st;
    struct ear_error err;
    const char *since_s = NULL;
    int64_t since = 0;
    size_t n = 0;
    int json = 0, c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': since_s = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        default: return ear_cli_usage(cli, "rules", "bad option");
        }
    }
    /* the positional arguments are "stats" and nothing else */
    for (; optind < argc; optind++)
        if (strcmp(argv[optind], "stats") != 0)
            return ear_cli_usage(cli, "rules", "unexpected argument '%s'",
                                 argv[optind]);
    if (since_s) {
        int64_t d;
        char buf[40];

        if (ear_duration_parse(&d, since_s) == 0 && d > 0) {
            since = ear_now() - d;
        } else if (ear_time_parse(&since, since_s) < 0) {
            snprintf(buf, sizeof buf, "%.12sT00:00:00Z", since_s);
            if (strlen(since_s) != 10 || ear_time_parse(&since, buf) < 0)
                return ear_cli_usage(cli, "rules", "--since: '%s' is "
                                     "neither a duration (7d) nor a date",
                                     since_s);
        }
    }
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    rc = ear_rule_feedback(st, since, &v, &n, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return EAR_EXIT_FAIL;
    }
    if (json) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
            if (json_array_append_new(a, row_json(&v[i])) < 0) {
                json_decref(a);
                a = NULL;
            }
        rc = ear_cli_print_json(a);
    } else if (n == 0) {
        printf("No verdicts yet: run 'earshot run' first.\n");
    } else {
        printf("%s%-40s %6s %7s %6s %9s %9s %6s %9s%s\n",
               cli->color ? BOLD : "", "RULE", "HITS", "FLAGGED", "QUEUED",
               "CONFIRMED", "DISMISSED", "FALSE", "PRECISION",
               cli->color ? RESET : "");
        for (size_t i = 0; i < n; i++) {
            const struct ear_rule_feedback *r = &v[i];
            struct ear_buf name;
            char prec[16] = "-";
            int noisy = r->precision >= 0 && r->precision < 0.5;

            if (r->precision >= 0)
                snprintf(prec, sizeof prec, "%.0f%%", r->precision * 100);
            ear_buf_init(&name, 4096);
            ear_text_snippet(&name, r->rule, 40);
            printf("%-40s %6lld %7lld %6lld %9lld %9lld %6lld %s%9s%s\n",
                   ear_buf_str(&name), (long long)r->hits,
                   (long long)r->flagged, (long long)r->queued,
                   (long long)r->confirmed, (long long)r->dismissed,
                   (long long)r->not_a_complaint,
                   cli->color && noisy ? RED : "", prec,
                   cli->color && noisy ? RESET : "");
            ear_buf_dispose(&name);
        }
    }
    ear_rule_feedback_free(v, n);
    return rc < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}
