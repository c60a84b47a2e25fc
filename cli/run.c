/*
 * earshot run: one pass through the three stages.
 *
 * Every due source is queued on the fetcher, which polls them all at once.
 * As each source finishes, its new mentions are stored, analyzed and, when
 * flagged, queued, and its polling state (validators, next due time,
 * failures) saved: all of it in one transaction per source, so a source
 * that fails half-way leaves nothing half-written and never touches what
 * the others stored. The summary says, per source, what came of it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"
#include "fetcher/fetcher.h"
#include "output/output.h"

#define BACKOFF_CAP (6 * 3600)

struct source_report {
    const struct ear_source_cfg *src;
    const char *status; /* ok, not-modified, failed, not-due, disabled */
    size_t items, fresh, flagged, queued;
    long http_status;
    double seconds;
    int64_t next_due;
    char error[600];
};

struct run {
    struct ear_cli *cli;
    struct ear_config *cfg;
    struct ear_store *st;
    struct ear_analyzer *an;
    struct source_report *reports;
    size_t nreports;
    int64_t now;
    int fatal;
};

static struct source_report *report_for(struct run *r,
                                        const struct ear_source_cfg *src)
{
    size_t i;

    for (i = 0; i < r->nreports; i++)
        if (r->reports[i].src == src)
            return &r->reports[i];
    return NULL;
}

/* Interval with up to ±10% jitter, so sources configured alike do not all
 * fall due in the same second. Derived from the name and the time, not a
 * global RNG. */
static int64_t jittered(const struct ear_source_cfg *src, int64_t now)
{
    uint64_t h = 1469598103934665603ULL;
    const char *p;
    int64_t span = src->interval / 10;

    for (p = src->name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h ^= (uint64_t)now;
    h *= 1099511628211ULL;
    if (span <= 0)
        return src->interval;
    return src->interval - span + (int64_t)(h % (uint64_t)(2 * span + 1));
}

static int64_t backoff(const struct ear_source_cfg *src, int failures)
{
    int64_t d = src->interval;
    int i;

    for (i = 1; i < failures && d < BACKOFF_CAP; i++)
        d *= 2;
    return d < BACKOFF_CAP ? d : BACKOFF_CAP;
}

/* Stores, analyzes and queues one source's items, inside the caller's
 * transaction. */
static int take_items(struct run *r, struct ear_fetch_result *res,
                      struct source_report *rep, struct ear_error *err)
{
    const struct ear_source_cfg *src = res->src;
    size_t i;
    int rc, is_new;

    for (i = 0; i < res->items.n; i++) {
        struct ear_mention *m = &res->items.v[i];
        struct ear_verdict v;

        rep->items++;
        if (ear_str_set(&m->source, src->name) < 0)
            return EAR_ENOMEM;
        if (src->lang && !m->lang[0])
            snprintf(m->lang, sizeof m->lang, "%s", src->lang);
        m->first_seen = r->now;
        rc = ear_store_mention_put(r->st, m, &is_new, err);
        if (rc < 0)
            return rc;
        if (!is_new)
            continue;
        rep->fresh++;
        rc = ear_analyzer_mention(r->an, m, src->brand, &v, err);
        if (rc == 0 && !m->lang[0] && v.lang[0])
            snprintf(m->lang, sizeof m->lang, "%s", v.lang);
        if (rc == 0)
            rc = ear_store_verdict_put(r->st, m->id, &v, err);
        /* Queue what is flagged and about a watched brand; with no brands
         * configured there is nothing to filter on, so queue every flag. */
        if (rc == 0 && v.flag) {
            rep->flagged++;
            if (v.brand || r->cfg->nbrands == 0) {
                int queued = 0;
                rc = ear_queue_add(r->st, r->cfg, m, &v, r->now, NULL,
                                   &queued, err);
                if (rc == 0 && queued)
                    rep->queued++;
            }
        }
        ear_verdict_dispose(&v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void save_failure(struct run *r, struct ear_source_state *state,
                         const struct ear_fetch_result *res,
                         struct source_report *rep)
{
    struct ear_error err;
    int64_t wait;

    state->failures++;
    wait = backoff(res->src, state->failures);
    if (res->retry_after > 0)
        wait = res->retry_after;
    state->next_due = r->now + wait;
    state->last_poll = r->now;
    ear_str_set(&state->last_status, "failed");
    ear_str_set(&state->last_error, rep->error);
    rep->next_due = state->next_due;
    ear_error_clear(&err);
    if (ear_store_begin(r->st, &err) < 0 ||
        ear_store_source_put(r->st, state, &err) < 0 ||
        ear_store_event(r->st, 0, 0, "earshot", "source-failed", NULL, NULL,
                        rep->error, &err) < 0 ||
        ear_store_commit(r->st, &err) < 0) {
        char buf[1024];
        ear_store_rollback(r->st);
        ear_cli_err(r->cli, "%s", ear_error_format(&err, buf, sizeof buf));
        r->fatal = 1;
    }
}

static void on_result(struct ear_fetch_result *res, void *payload)
{
    struct run *r = payload;
    struct source_report *rep = report_for(r, res->src);
    struct ear_source_state state;
    struct ear_error err;
    char buf[1024];
    int rc;

    if (!rep)
        return;
    rep->http_status = res->http_status;
    rep->seconds = res->seconds;
    ear_error_clear(&err);
    rc = ear_store_source_get(r->st, res->src->name, &state, &err);
    if (rc < 0 && rc != EAR_ENOTFOUND) {
        rep->status = "failed";
        snprintf(rep->error, sizeof rep->error, "%s",
                 ear_error_format(&err, buf, sizeof buf));
        ear_cli_err(r->cli, "%s: %s", res->src->name, rep->error);
        r->fatal = 1;
        return;
    }
    if (res->rc < 0) {
        rep->status = "failed";
        snprintf(rep->error, sizeof rep->error, "%s", res->err.text[0]
                     ? res->err.text : ear_strerror(res->rc));
        save_failure(r, &state, res, rep);
        ear_source_state_dispose(&state);
        return;
    }
    rc = ear_store_begin(r->st, &err);
    if (rc == 0 && !res->not_modified)
        rc = take_items(r, res, rep, &err);
    if (rc == 0) {
        if (!res->not_modified) {
            /* Validators only change with a new body. */
            ear_str_set(&state.etag, res->etag);
            ear_str_set(&state.last_modified, res->last_modified);
        }
        state.last_poll = r->now;
        state.last_success = r->now;
        state.failures = 0;
        state.items_total += (int64_t)rep->fresh;
        if (rep->fresh)
            state.last_new = r->now;
        state.next_due = r->now + jittered(res->src, r->now);
        rep->next_due = state.next_due;
        ear_str_set(&state.last_status,
                    res->not_modified ? "not-modified" : "ok");
        ear_str_set(&state.last_error, NULL);
        rc = ear_store_source_put(r->st, &state, &err);
    }
    if (rc == 0)
        rc = ear_store_commit(r->st, &err);
    if (rc < 0) {
        ear_store_rollback(r->st);
        rep->status = "failed";
        rep->fresh = rep->flagged = rep->queued = 0;
        snprintf(rep->error, sizeof rep->error, "%s",
                 ear_error_format(&err, buf, sizeof buf));
        if (rc == EAR_EDB || rc == EAR_EBUSY || rc == EAR_ENOMEM) {
            /* The store itself failed: say so where errors go, not only
             * in the summary. Nothing of this source was written. */
            ear_cli_err(r->cli, "%s: %s", res->src->name, rep->error);
            r->fatal = 1;
        } else
            save_failure(r, &state, res, rep);
    } else {
        rep->status = res->not_modified ? "not-modified" : "ok";
    }
    ear_source_state_dispose(&state);
}

static void print_table(struct run *r)
{
    size_t i, fresh = 0, flagged = 0, queued = 0, failed = 0;
    int bold = r->cli->color;

    printf("%s%-24s %-13s %5s %8s %7s  %s%s\n", bold ? "\033[1m" : "",
           "SOURCE", "STATUS", "NEW", "FLAGGED", "QUEUED", "NOTE",
           bold ? "\033[0m" : "");
    for (i = 0; i < r->nreports; i++) {
        const struct source_report *rep = &r->reports[i];
        const char *colour = "";
        char note[700] = "";
        char when[40];

        if (strcmp(rep->status, "failed") == 0) {
            failed++;
            colour = "\033[31m";
            snprintf(note, sizeof note, "%s", rep->error);
        } else if (strcmp(rep->status, "not-due") == 0) {
            snprintf(note, sizeof note, "next poll %s",
                     ear_time_fmt(rep->next_due, when, sizeof when));
        } else if (strcmp(rep->status, "not-modified") == 0) {
            snprintf(note, sizeof note, "unchanged since last poll");
        } else if (strcmp(rep->status, "ok") == 0) {
            snprintf(note, sizeof note, "%zu items read", rep->items);
        }
        fresh += rep->fresh;
        flagged += rep->flagged;
        queued += rep->queued;
        printf("%-24s %s%-13s%s %5zu %8zu %7zu  %s\n", rep->src->name,
               r->cli->color ? colour : "", rep->status,
               r->cli->color && *colour ? "\033[0m" : "", rep->fresh,
               rep->flagged, rep->queued, note);
    }
    printf("%-24s %-13s %5zu %8zu %7zu  %zu of %zu sources failed\n", "total",
           "", fresh, flagged, queued, failed, r->nreports);
}

static int print_json(struct run *r)
{
    json_t *root = json_object(), *arr = json_array();
    size_t i, fresh = 0, flagged = 0, queued = 0, failed = 0;
    char when[40];

    for (i = 0; i < r->nreports; i++) {
        const struct source_report *rep = &r->reports[i];
        json_t *o = json_object();

        json_object_set_new(o, "name", json_string(rep->src->name));
        json_object_set_new(o, "status", json_string(rep->status));
        json_object_set_new(o, "items", json_integer((json_int_t)rep->items));
        json_object_set_new(o, "new", json_integer((json_int_t)rep->fresh));
        json_object_set_new(o, "flagged",
                            json_integer((json_int_t)rep->flagged));
        json_object_set_new(o, "queued",
                            json_integer((json_int_t)rep->queued));
        json_object_set_new(o, "http_status",
                            rep->http_status ? json_integer(rep->http_status)
                                             : json_null());
        json_object_set_new(o, "seconds", json_real(rep->seconds));
        json_object_set_new(o, "next_due",
                            rep->next_due ? json_string(ear_time_fmt(
                                                rep->next_due, when,
                                                sizeof when))
                                          : json_null());
        json_object_set_new(o, "error", rep->error[0]
                                            ? json_string(rep->error)
                                            : json_null());
        json_array_append_new(arr, o);
        fresh += rep->fresh;
        flagged += rep->flagged;
        queued += rep->queued;
        failed += strcmp(rep->status, "failed") == 0;
    }
    json_object_set_new(root, "sources", arr);
    json_object_set_new(root, "totals",
                        json_pack("{s:I, s:I, s:I, s:I}", "new",
                                  (json_int_t)fresh, "flagged",
                                  (json_int_t)flagged, "queued",
                                  (json_int_t)queued, "failed",
                                  (json_int_t)failed));
    return ear_cli_print_json(root);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot run [--force] [--source NAME]... [--json]\n\n"
            "Polls every due source once, stores new mentions, analyzes "
            "them, queues the\nflagged ones and prints a summary per "
            "source.\n\n"
            "  -f, --force        poll every source, due or not\n"
            "  -s, --source NAME  poll only this source (repeatable; "
            "implies --force)\n"
            "      --json         print the summary as JSON\n\n"
            "Exit status: 0 every source succeeded, 3 some failed (the "
            "others are\nprocessed and stored), 1 the store failed, 2 usage "
            "error.\n");
}

static int user_agent(char *buf, size_t size, const struct ear_config *cfg)
{
    return snprintf(buf, size, "earshot/%s (+%s)", EAR_VERSION,
                    cfg->contact ? cfg->contact
                                 : "https://github.com/earshot/earshot");
}

int ear_cmd_run(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"source", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ear_fetch_opts fopts = EAR_FETCH_OPTS_INIT;
    struct ear_fetcher *fetcher = NULL;
    struct ear_error err;
    struct run r;
    const char **only = NULL;
    size_t nonly = 0, i, j, failed = 0;
    int c, force = 0, json = 0, rc = EAR_EXIT_OK;
    char ua[512];

    memset(&r, 0, sizeof r);
    r.cli = cli;
    only = calloc((size_t)argc + 1, sizeof *only);
    if (!only)
        return EAR_EXIT_FAIL;
    while ((c = getopt_long(argc, argv, "fs:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': force = 1; break;
        case 's': only[nonly++] = optarg; force = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); free(only); return EAR_EXIT_OK;
        default: free(only); return ear_cli_usage(cli, "run", "bad option");
        }
    }
    if (optind < argc) {
        free(only);
        return ear_cli_usage(cli, "run", "unexpected argument '%s'",
                             argv[optind]);
    }
    r.cfg = ear_cli_config(cli, 1);
    if (!r.cfg) {
        free(only);
        return EAR_EXIT_FAIL;
    }
    for (i = 0; i < nonly; i++)
        if (!ear_config_source(r.cfg, only[i])) {
            const char *name = only[i]; /* points into argv */
            free(only);
            return ear_cli_usage(cli, "run", "no source named '%s' in %s",
                                 name, r.cfg->path);
        }
    /* Everything that can fail on bad input is loaded before the store is
     * touched: a bad rule pack changes nothing. */
    r.an = ear_cli_analyzer(cli);
    if (!r.an) {
        free(only);
        return EAR_EXIT_FAIL;
    }
    r.st = ear_cli_store(cli);
    if (!r.st) {
        ear_analyzer_free(r.an);
        free(only);
        return EAR_EXIT_FAIL;
    }
    r.now = ear_now();
    r.reports = calloc(r.cfg->nsources ? r.cfg->nsources : 1,
                       sizeof *r.reports);
    user_agent(ua, sizeof ua, r.cfg);
    fopts.user_agent = ua;
    if (r.cfg->fetch_max_conns)
        fopts.max_total_conns = r.cfg->fetch_max_conns;
    if (r.cfg->fetch_max_host)
        fopts.max_host_conns = r.cfg->fetch_max_host;
    if (r.cfg->fetch_timeout)
        fopts.timeout_s = r.cfg->fetch_timeout;
    if (r.cfg->fetch_connect_timeout)
        fopts.connect_timeout_s = r.cfg->fetch_connect_timeout;
    if (r.cfg->fetch_max_body)
        fopts.max_body = (size_t)r.cfg->fetch_max_body;
    ear_error_clear(&err);
    if (!r.reports || ear_fetcher_new(&fetcher, &fopts, &err) < 0) {
        ear_cli_error(cli, &err);
        rc = EAR_EXIT_FAIL;
        goto out;
    }
    for (i = 0; i < r.cfg->nsources; i++) {
        const struct ear_source_cfg *src = &r.cfg->sources[i];
        struct source_report *rep;
        struct ear_source_state state;
        int selected = nonly == 0;

        for (j = 0; j < nonly; j++)
            selected |= strcmp(only[j], src->name) == 0;
        if (!selected)
            continue;
        rep = &r.reports[r.nreports++];
        rep->src = src;
        if (!src->enabled) {
            rep->status = "disabled";
            continue;
        }
        rc = ear_store_source_get(r.st, src->name, &state, &err);
        if (rc < 0 && rc != EAR_ENOTFOUND) {
            ear_cli_error(cli, &err);
            rc = EAR_EXIT_FAIL;
            goto out;
        }
        rc = EAR_EXIT_OK;
        if (!force && state.next_due > r.now) {
            rep->status = "not-due";
            rep->next_due = state.next_due;
        } else {
            rep->status = "failed";
            snprintf(rep->error, sizeof rep->error, "not polled");
            if (ear_fetcher_add(fetcher, src, &state, &err) < 0) {
                ear_source_state_dispose(&state);
                ear_cli_error(cli, &err);
                rc = EAR_EXIT_FAIL;
                goto out;
            }
        }
        ear_source_state_dispose(&state);
    }
    if (ear_fetcher_perform(fetcher, on_result, &r) < 0)
        ear_cli_err(cli, "polling stopped early; unreported sources are "
                         "counted as failed");
    if (json)
        print_json(&r);
    else
        print_table(&r);
    for (i = 0; i < r.nreports; i++)
        failed += strcmp(r.reports[i].status, "failed") == 0;
    if (r.fatal)
        rc = EAR_EXIT_FAIL;
    else if (failed)
        rc = EAR_EXIT_PARTIAL;
out:
    ear_fetcher_free(fetcher);
    ear_analyzer_free(r.an);
    free(r.reports);
    free(only);
    return rc;
}
