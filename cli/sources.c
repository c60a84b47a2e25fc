/*
 * earshot sources: every configured source with its polling state from
 * the store: last status, last success, next due, consecutive failures and
 * the last error in words.
 */
#include <getopt.h>
#include <string.h>
#include <jansson.h>
#include "cli/cli.h"

static json_t *time_or_null(int64_t t)
{
    char buf[40];

    return t ? json_string(ear_time_fmt(t, buf, sizeof buf)) : json_null();
}

static const char *ago(int64_t t, int64_t now, char *buf, size_t size)
{
    char d[32];

    if (!t)
        return "never";
    if (t > now)
        snprintf(buf, size, "in %s", ear_duration_fmt(t - now, d, sizeof d));
    else
        snprintf(buf, size, "%s ago", ear_duration_fmt(now - t, d, sizeof d));
    return buf;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: earshot sources [--json]\n\n"
               "Lists the configured sources with their polling state: last "
               "status, last\nsuccess, next due time, consecutive failures "
               "and the last error.\n");
}

int ear_cmd_sources(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ear_config *cfg;
    struct ear_store *st;
    struct ear_error err;
    json_t *arr = NULL;
    int64_t now = ear_now();
    size_t i;
    int c, json = 0, rc;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        default: return ear_cli_usage(cli, "sources", "bad option");
        }
    }
    if (optind < argc)
        return ear_cli_usage(cli, "sources", "unexpected argument '%s'",
                             argv[optind]);
    cfg = ear_cli_config(cli, 1);
    if (!cfg)
        return EAR_EXIT_FAIL;
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    if (json)
        arr = json_array();
    else
        printf("%s%-24s %-7s %-13s %-16s %-16s %4s %6s %6s  %s%s\n",
               cli->color ? "\033[1m" : "", "SOURCE", "TYPE", "STATUS",
               "LAST SUCCESS", "NEXT DUE", "FAIL", "ITEMS", "RATING",
               "LAST ERROR / NOTE", cli->color ? "\033[0m" : "");
    for (i = 0; i < cfg->nsources; i++) {
        const struct ear_source_cfg *src = &cfg->sources[i];
        struct ear_source_state s;
        const char *status;
        char b1[48], b2[48];
        int silent;

        ear_error_clear(&err);
        rc = ear_store_source_get(st, src->name, &s, &err);
        if (rc < 0 && rc != EAR_ENOTFOUND) {
            ear_cli_error(cli, &err);
            json_decref(arr);
            return EAR_EXIT_FAIL;
        }
        silent = ear_source_silent(src, &s, now);
        status = !src->enabled      ? "disabled"
                 : s.last_status    ? s.last_status
                                    : "never-polled";
        if (silent && (strcmp(status, "ok") == 0
                       || strcmp(status, "not-modified") == 0))
            status = "silent"; /* polled fine, but nothing new for long */
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(src->name));
            json_object_set_new(o, "type", src->type ? json_string(src->type)
                                                     : json_null());
            json_object_set_new(o, "url", json_string(src->url));
            json_object_set_new(o, "brand", src->brand
                                                ? json_string(src->brand)
                                                : json_null());
            json_object_set_new(o, "enabled", json_boolean(src->enabled));
            json_object_set_new(o, "analyze", json_boolean(src->analyze));
            json_object_set_new(o, "interval",
                                json_integer((json_int_t)src->interval));
            json_object_set_new(o, "status", json_string(status));
            json_object_set_new(o, "silent", json_boolean(silent));
            json_object_set_new(o, "last_poll", time_or_null(s.last_poll));
            json_object_set_new(o, "last_success",
                                time_or_null(s.last_success));
            json_object_set_new(o, "last_new", time_or_null(s.last_new));
            json_object_set_new(o, "next_due", time_or_null(s.next_due));
            json_object_set_new(o, "failures", json_integer(s.failures));
            json_object_set_new(o, "items",
                                json_integer((json_int_t)s.items_total));
            json_object_set_new(o, "last_error",
                                s.last_error ? json_string(s.last_error)
                                             : json_null());
            /* a review page's own AggregateRating, as last read */
            json_object_set_new(o, "rating", s.rating > 0
                                                 ? json_real(s.rating)
                                                 : json_null());
            json_object_set_new(o, "rating_count",
                                s.rating_count > 0
                                    ? json_integer(s.rating_count)
                                    : json_null());
            json_object_set_new(o, "rating_at", time_or_null(s.rating_at));
            json_array_append_new(arr, o);
        } else {
            int bad = strcmp(status, "failed") == 0;
            char rating[16] = "";

            if (s.rating > 0)
                snprintf(rating, sizeof rating, "%.2f", s.rating);
            printf("%-24s %-7s %s%-13s%s %-16s %-16s %4d %6lld %6s  %s\n",
                   src->name, src->type ? src->type : "auto",
                   bad && cli->color ? "\033[31m" : "", status,
                   bad && cli->color ? "\033[0m" : "",
                   ago(s.last_success, now, b1, sizeof b1),
                   s.next_due ? (s.next_due <= now ? "now"
                                 : ago(s.next_due, now, b2, sizeof b2))
                              : "now",
                   s.failures, (long long)s.items_total, rating,
                   s.last_error ? s.last_error
                   : src->analyze ? "" : "collect only (analyze: false)");
        }
        ear_source_state_dispose(&s);
    }
    if (json && ear_cli_print_json(json_pack("{s:o}", "sources", arr)) < 0)
        return EAR_EXIT_FAIL;
    return EAR_EXIT_OK;
}
