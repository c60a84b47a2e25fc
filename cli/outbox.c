/*
 * earshot outbox: alerts waiting for their sinks (docs/alerts.md).
 *
 *   earshot outbox [list] [--all] [--sink NAME] [--json]
 *   earshot outbox retry [--sink NAME] [--json]
 *
 * `list` shows what waits and why (the last error, the next try); `retry`
 * delivers everything waiting now, backoff or not.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli/cli.h"
#include "output/output.h"

#define BOLD "\033[1m"
#define RED "\033[31m"
#define DIM "\033[2m"
#define RESET "\033[0m"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: earshot outbox [list] [--all] [--sink NAME] [--json]\n"
        "       earshot outbox retry [--sink NAME] [--json]\n\n"
        "Alerts wait in the outbox until their sink has them. `earshot run` "
        "delivers\nwhat is due after every run; a failed delivery is "
        "retried with backoff\n(1 minute, doubling to 6 hours). list shows "
        "what waits and why; retry\ndelivers everything waiting now.\n\n"
        "options:\n"
        "  --all        sent, folded and skipped alerts too\n"
        "  --sink NAME  only this sink\n"
        "  --json       print JSON\n\n"
        "Exit status of retry: 0 everything was delivered, 3 some sink "
        "failed (its\nalerts wait), 1 the store or config failed.\n"
        "See docs/alerts.md.\n");
}

int ear_cli_write_stdout(const char *p, size_t n, void *payload)
{
    (void)payload;
    if (n > 0 && fwrite(p, 1, n, stdout) != n)
        return EAR_EIO;
    return fflush(stdout) == 0 ? 0 : EAR_EIO;
}

static void put_text(const char *s, size_t max)
{
    struct ear_buf b;

    ear_buf_init(&b, 1 << 16);
    if (ear_text_snippet(&b, s ? s : "", max) == 0)
        fputs(ear_buf_str(&b), stdout);
    ear_buf_dispose(&b);
}

static int cmd_list(struct ear_cli *cli, int all, const char *sink,
                    int json)
{
    struct ear_store *st = ear_cli_store(cli);
    struct ear_outbox_entry *v = NULL;
    struct ear_error err;
    size_t n = 0;
    int rc;

    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    rc = ear_outbox_list(st, all, sink, &v, &n, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return EAR_EXIT_FAIL;
    }
    if (json) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
            if (json_array_append_new(a, ear_outbox_entry_json(&v[i])) < 0) {
                json_decref(a);
                a = NULL;
            }
        rc = ear_cli_print_json(a);
    } else if (n == 0) {
        printf(all ? "The outbox is empty.\n"
                   : "Nothing waits: every alert was delivered.\n");
    } else {
        printf("%s%-6s %-16s %-16s %-8s %4s  %-20s  %s%s\n",
               cli->color ? BOLD : "", "ID", "SINK", "KIND", "STATE", "TRY",
               "NEXT TRY", "WHAT", cli->color ? RESET : "");
        for (size_t i = 0; i < n; i++) {
            const struct ear_outbox_entry *e = &v[i];
            int pending = strcmp(e->state, "pending") == 0;
            char when[32] = "-";

            if (pending)
                ear_time_fmt(e->next_attempt, when, sizeof when);
            else if (e->sent_at)
                ear_time_fmt(e->sent_at, when, sizeof when);
            printf("%-6lld %-16.16s %-16s %-8s %4d  %-20s  ",
                   (long long)e->id, e->sink, e->kind, e->state,
                   e->attempts, when);
            put_text(e->what, 70);
            printf("\n");
            if (e->last_error && pending) {
                printf("%s%33s", cli->color ? RED : "", "why: ");
                put_text(e->last_error, 200);
                printf("%s\n", cli->color ? RESET : "");
            }
        }
    }
    ear_outbox_entries_free(v, n);
    return rc < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

static int cmd_retry(struct ear_cli *cli, const char *sink, int json)
{
    struct ear_config *cfg = ear_cli_config(cli, 1);
    struct ear_store *st;
    struct ear_delivery_stats s;
    struct ear_error err;
    int rc;

    if (!cfg)
        return EAR_EXIT_FAIL;
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    rc = ear_outbox_deliver(st, cfg, ear_now(), 1, sink,
                            ear_cli_write_stdout, NULL, &s, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return rc == EAR_ENOTFOUND ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
    }
    for (size_t i = 0; i < s.nproblems; i++)
        ear_cli_err(cli, "%s", s.problems[i]);
    if (json) {
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "sent",
                              (json_int_t)s.sent, "failed",
                              (json_int_t)s.failed, "folded",
                              (json_int_t)s.folded, "skipped",
                              (json_int_t)s.skipped, "waiting",
                              (json_int_t)s.waiting);
        json_t *p = json_array();

        for (size_t i = 0; p && i < s.nproblems; i++)
            json_array_append_new(p, json_string(s.problems[i]));
        if (o && p)
            json_object_set_new(o, "problems", p);
        else
            json_decref(p);
        ear_cli_print_json(o);
    } else {
        ear_cli_info(cli, "%zu sent, %zu failed, %zu folded into summaries, "
                     "%zu waiting", s.sent, s.failed, s.folded, s.waiting);
    }
    return s.failed || s.nproblems ? EAR_EXIT_PARTIAL : EAR_EXIT_OK;
}

int ear_cmd_outbox(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"sink", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    int all = 0, json = 0, c;
    const char *sink = NULL;
    const char *verb = "list";

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': all = 1; break;
        case 's': sink = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        default: return ear_cli_usage(cli, "outbox", "bad option");
        }
    }
    if (optind < argc)
        verb = argv[optind++];
    if (optind < argc)
        return ear_cli_usage(cli, "outbox", "unexpected argument '%s'",
                             argv[optind]);
    if (strcmp(verb, "list") == 0)
        return cmd_list(cli, all, sink, json);
    if (strcmp(verb, "retry") == 0) {
        if (all)
            return ear_cli_usage(cli, "outbox", "--all is for list");
        return cmd_retry(cli, sink, json);
    }
    return ear_cli_usage(cli, "outbox", "unknown verb '%s' (expected list "
                         "or retry)", verb);
}
