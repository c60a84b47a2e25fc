/*
 * earshot incidents: complaint surges (docs/alerts.md).
 *
 *   earshot incidents [list] [--all] [--json]
 *   earshot incidents show ID [--json]
 *
 * Incidents are opened, grown and closed by `earshot run` (output's
 * ear_incidents_update); this command only reads them.
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
        "usage: earshot incidents [list] [--all] [--json]\n"
        "       earshot incidents show ID [--json]\n\n"
        "Complaint surges: many flagged mentions of one brand and category "
        "within a\nwindow, against that pair's own history. `earshot run` "
        "opens, grows and\ncloses them and alerts the sinks; this lists "
        "them (open ones unless --all).\n\n"
        "options:\n"
        "  --all     closed incidents too\n"
        "  --json    print JSON\n\n"
        "See docs/alerts.md.\n");
}

/* Prints s with control characters made spaces, at most max columns. */
static void put_text(const char *s, size_t max)
{
    struct ear_buf b;

    ear_buf_init(&b, 1 << 16);
    if (ear_text_snippet(&b, s ? s : "", max) == 0)
        fputs(ear_buf_str(&b), stdout);
    ear_buf_dispose(&b);
}

/* "1h", "90m", "2d" */
static const char *span(int64_t secs, char *buf, size_t size)
{
    if (secs % 86400 == 0)
        snprintf(buf, size, "%lldd", (long long)(secs / 86400));
    else if (secs % 3600 == 0)
        snprintf(buf, size, "%lldh", (long long)(secs / 3600));
    else if (secs % 60 == 0)
        snprintf(buf, size, "%lldm", (long long)(secs / 60));
    else
        snprintf(buf, size, "%llds", (long long)secs);
    return buf;
}

static void print_one(struct ear_cli *cli, const struct ear_incident *inc)
{
    int open = strcmp(inc->state, "open") == 0;
    char t1[32], t2[32], d[32];

    printf("%s#%lld %s%s  ", cli->color ? BOLD : "", (long long)inc->id,
           inc->state, cli->color ? RESET : "");
    printf("%s%lld%s ", cli->color && open ? RED : "",
           (long long)inc->count, cli->color && open ? RESET : "");
    put_text(inc->category, 40);
    printf(" complaints");
    if (inc->brand) {
        printf(" about ");
        put_text(inc->brand, 40);
    }
    printf(", up to %lld within %s\n", (long long)inc->peak,
           span(inc->window, d, sizeof d));
    printf("    from %s to %s", ear_time_fmt(inc->started, t1, sizeof t1),
           ear_time_fmt(inc->last_at, t2, sizeof t2));
    if (inc->team) {
        printf(", team ");
        put_text(inc->team, 40);
    }
    printf(", %s\n", ear_severity_name(inc->severity));
    if (inc->nterms) {
        printf("    top terms: ");
        for (size_t i = 0; i < inc->nterms; i++) {
            if (i)
                printf(", ");
            put_text(inc->terms[i], 40);
        }
        printf("\n");
    }
    printf("    first: #%lld ", (long long)inc->first_queue_id);
    put_text(inc->first_title && inc->first_title[0] ? inc->first_title
                                                     : inc->first_text, 90);
    printf("\n");
    if (inc->first_url) {
        printf("           ");
        put_text(inc->first_url, 120);
        printf("\n");
    }
    printf("    %s", cli->color ? DIM : "");
    put_text(inc->reason, 300);
    if (!open)
        printf("; closed %s", ear_time_fmt(inc->closed_at, t1, sizeof t1));
    printf("%s\n", cli->color ? RESET : "");
}

static int cmd_list(struct ear_cli *cli, int all, int json)
{
    struct ear_store *st = ear_cli_store(cli);
    struct ear_incident *v = NULL;
    struct ear_error err;
    size_t n = 0;
    int rc;

    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    rc = ear_incidents_list(st, all, 0, 0, &v, &n, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return EAR_EXIT_FAIL;
    }
    if (json) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
            if (json_array_append_new(a, ear_incident_json(&v[i])) < 0) {
                json_decref(a);
                a = NULL;
            }
        rc = ear_cli_print_json(a);
    } else if (n == 0) {
        printf(all ? "No incidents.\n"
                   : "No open incidents (--all shows closed ones).\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i)
                printf("\n");
            print_one(cli, &v[i]);
        }
    }
    ear_incidents_free(v, n);
    return rc < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

static int cmd_show(struct ear_cli *cli, const char *arg, int json)
{
    struct ear_store *st;
    struct ear_incident inc;
    struct ear_queue_item it;
    struct ear_error err;
    int64_t *ids = NULL;
    size_t n = 0;
    char *end = NULL;
    long long id;
    int rc;

    if (arg[0] == '#')
        arg++;
    id = strtoll(arg, &end, 10);
    if (!*arg || !end || *end || id <= 0)
        return ear_cli_usage(cli, "incidents", "'%s' is not an incident id",
                             arg);
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    rc = ear_incident_get(st, (int64_t)id, &inc, &ids, &n, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return EAR_EXIT_FAIL;
    }
    if (json) {
        json_t *o = ear_incident_json(&inc);
        json_t *a = json_array();

        for (size_t i = 0; o && a && i < n; i++) {
            if (ear_queue_get(st, ids[i], ear_now(), &it, NULL, NULL,
                              &err) < 0)
                continue;
            json_array_append_new(a, ear_queue_item_json(&it));
            ear_queue_item_dispose(&it);
        }
        if (o && a)
            json_object_set_new(o, "mentions", a);
        else
            json_decref(a);
        rc = ear_cli_print_json(o);
    } else {
        print_one(cli, &inc);
        printf("\n%zu mentions:\n", n);
        for (size_t i = 0; i < n; i++) {
            char t[32];

            if (ear_queue_get(st, ids[i], ear_now(), &it, NULL, NULL,
                              &err) < 0)
                continue;
            printf("  #%-6lld %s  %-9s ", (long long)it.id,
                   ear_time_fmt(it.created, t, sizeof t), it.state);
            put_text(it.title && it.title[0] ? it.title : it.text, 70);
            printf("\n");
            ear_queue_item_dispose(&it);
        }
    }
    free(ids);
    ear_incident_dispose(&inc);
    return rc < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

int ear_cmd_incidents(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    int all = 0, json = 0, c;
    const char *verb = "list";

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': all = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        default: return ear_cli_usage(cli, "incidents", "bad option");
        }
    }
    if (optind < argc)
        verb = argv[optind++];
    if (strcmp(verb, "list") == 0) {
        if (optind < argc)
            return ear_cli_usage(cli, "incidents", "unexpected argument "
                                 "'%s'", argv[optind]);
        return cmd_list(cli, all, json);
    }
    if (strcmp(verb, "show") == 0) {
        if (optind >= argc)
            return ear_cli_usage(cli, "incidents", "show needs an id");
        if (optind + 1 < argc)
            return ear_cli_usage(cli, "incidents", "unexpected argument "
                                 "'%s'", argv[optind + 1]);
        return cmd_show(cli, argv[optind], json);
    }
    return ear_cli_usage(cli, "incidents", "unknown verb '%s' (expected "
                         "list or show)", verb);
}
