/*
 * earshot watch: the scheduler, until stopped.
 *
 * Each round polls the sources that are due (ear_poller, as `run` does),
 * then sleeps until the next one falls due, in slices of at most a second
 * so that signals are seen promptly. One fetcher lives for the whole
 * process, so connections to a site are reused from poll to poll.
 *
 *   SIGINT, SIGTERM  let the poll in flight finish and commit, then exit 0
 *                    (a second one ends the process at once)
 *   SIGHUP           reload the config (and the rule packs) between polls;
 *                    an invalid new config is reported and the old one kept
 *   SIGUSR1          poll every source now, due or not
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"
#include "output/web/web.h"

#define SLEEP_SLICE_MS 1000

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t reload_wanted;
static volatile sig_atomic_t kick_wanted;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void on_reload(int sig)
{
    (void)sig;
    reload_wanted = 1;
}

static void on_kick(int sig)
{
    (void)sig;
    kick_wanted = 1;
}

static int install(int sig, void (*fn)(int), int once)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a signal cuts a sleep short */
    sa.sa_flags = once ? (int)SA_RESETHAND : 0;
    return sigaction(sig, &sa, NULL);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot watch [--json] [--serve[=HOST:PORT]]\n\n"
            "Runs the scheduler until stopped: polls every source when it "
            "falls due\n(interval, jitter, backoff, Retry-After, adaptive "
            "intervals), stores,\nanalyzes and queues what is new, and "
            "sleeps in between. Connections are\nreused from poll to "
            "poll.\n\n"
            "  --json      print each poll's summary as one JSON line on "
            "stdout\n"
            "  --serve[=HOST:PORT]\n"
            "              also run the web inbox in this process (as "
            "earshot serve;\n"
            "              default: the config's serve.listen, else "
            "127.0.0.1:8080)\n\n"
            "Signals: SIGINT or SIGTERM finish the poll in flight, commit "
            "and exit 0 (a\nsecond one exits at once); SIGHUP reloads the "
            "config and rule packs (an\ninvalid new config is reported and "
            "the old one kept); SIGUSR1 polls every\nsource now.\n");
}

/* Loads the config again. On success cli->cfg and *an are the new ones;
 * on any error the old ones stay and the error is printed. */
static void reload(struct ear_cli *cli, struct ear_poller *poller,
                   struct ear_analyzer **an, struct ear_web *web)
{
    struct ear_config *old = cli->cfg, *cfg = NULL;
    struct ear_analyzer *nan;
    struct ear_error err;

    ear_error_clear(&err);
    if (ear_config_load(&cfg, old->path, &err) < 0) {
        ear_cli_error(cli, &err);
        ear_cli_err(cli, "reload failed: keeping the config loaded before");
        return;
    }
    if (ear_cli_check_sources(cli, cfg) < 0) {
        ear_config_free(cfg);
        ear_cli_err(cli, "reload failed: keeping the config loaded before");
        return;
    }
    cli->cfg = cfg; /* the analyzer reads its packs and brands from it */
    nan = ear_cli_analyzer(cli);
    if (!nan) {
        cli->cfg = old;
        ear_config_free(cfg);
        ear_cli_err(cli, "reload failed: keeping the config loaded before");
        return;
    }
    if (ear_poller_reconfigure(poller, nan) < 0) {
        cli->cfg = old;
        ear_analyzer_free(nan);
        ear_config_free(cfg);
        ear_poller_reconfigure(poller, *an);
        ear_cli_err(cli, "reload failed: keeping the config loaded before");
        return;
    }
    if ((cfg->store || old->store)
        && (!cfg->store || !old->store || strcmp(cfg->store, old->store)))
        ear_cli_info(cli, "earshot: the store stays %s until a restart",
                     ear_store_path(cli->store));
    ear_analyzer_free(*an);
    *an = nan;
    /* The inbox copies users, teams and serve options; on error it keeps
     * its old ones and the poller runs with the new config regardless. */
    if (web && ear_web_reconfigure(web, cfg, &err) < 0) {
        ear_cli_error(cli, &err);
        ear_cli_err(cli, "the web inbox keeps its previous users and teams");
    }
    ear_config_free(old);
    ear_cli_info(cli, "earshot: reloaded %s (%zu sources)", cfg->path,
                 cfg->nsources);
}

static void print_round(struct ear_cli *cli, struct ear_poller *poller,
                        const struct ear_poll_totals *t, int64_t next,
                        int json)
{
    char when[40];

    if (json) {
        json_t *o = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "time",
            ear_time_fmt(ear_now(), when, sizeof when), "polled",
            (json_int_t)t->polled, "new", (json_int_t)t->fresh, "flagged",
            (json_int_t)t->flagged, "queued", (json_int_t)t->queued,
            "failed", (json_int_t)t->failed, "throttled",
            (json_int_t)t->throttled, "next_due",
            next ? json_string(ear_time_fmt(next, when, sizeof when))
                 : json_null());

        if (o) {
            json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
            fputc('\n', stdout);
            fflush(stdout);
        }
        return;
    }
    if (cli->verbose) {
        ear_poller_print(poller, 0);
        fflush(stdout);
    }
    if (t->polled)
        ear_cli_info(cli,
                     "earshot: polled %zu source%s: %zu new, %zu flagged, "
                     "%zu queued, %zu failed, %zu throttled",
                     t->polled, t->polled == 1 ? "" : "s", t->fresh,
                     t->flagged, t->queued, t->failed, t->throttled);
}

/* The earliest next_due of the enabled sources, from the store. */
static int64_t next_wake(struct ear_cli *cli, int64_t now)
{
    const struct ear_config *cfg = cli->cfg;
    int64_t soonest = 0;
    size_t i;

    for (i = 0; i < cfg->nsources; i++) {
        struct ear_source_state s;
        struct ear_error err;
        int rc;

        if (!cfg->sources[i].enabled)
            continue;
        ear_error_clear(&err);
        rc = ear_store_source_get(cli->store, cfg->sources[i].name, &s,
                                  &err);
        if (rc < 0 && rc != EAR_ENOTFOUND) {
            ear_cli_error(cli, &err);
            return now + 60; /* look again in a minute */
        }
        if (!soonest || s.next_due < soonest)
            soonest = s.next_due;
        ear_source_state_dispose(&s);
    }
    return soonest ? soonest : now + 3600;
}

/* Sleeps until wake (wall clock), in slices, unless a signal comes. */
static void sleep_until(int64_t wake)
{
    while (!stop_signal && !reload_wanted && !kick_wanted) {
        int64_t now = ear_now();
        struct timespec ts;

        if (now >= wake)
            return;
        ts.tv_sec = SLEEP_SLICE_MS / 1000;
        ts.tv_nsec = (long)(SLEEP_SLICE_MS % 1000) * 1000000L;
        if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
            return;
    }
}

int ear_cmd_watch(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"serve", optional_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ear_poller *poller = NULL;
    struct ear_web *web = NULL;
    struct ear_error err;
    const char *listen = NULL;
    int serve = 0;
    struct ear_analyzer *an = NULL;
    struct ear_poll_totals totals;
    int c, json = 0, rc = EAR_EXIT_OK;
    int64_t next = 0;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 's': serve = 1; listen = optarg; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        default: return ear_cli_usage(cli, "watch", "bad option");
        }
    }
    if (optind < argc)
        return ear_cli_usage(cli, "watch", "unexpected argument '%s'",
                             argv[optind]);
    if (!ear_cli_config(cli, 1) || ear_cli_check_sources(cli, cli->cfg) < 0)
        return EAR_EXIT_FAIL;
    an = ear_cli_analyzer(cli);
    if (!an)
        return EAR_EXIT_FAIL;
    if (!ear_cli_store(cli)) {
        ear_analyzer_free(an);
        return EAR_EXIT_FAIL;
    }
    poller = ear_poller_new(cli, an);
    if (!poller) {
        ear_analyzer_free(an);
        return EAR_EXIT_FAIL;
    }
    if (serve) {
        struct ear_web_opts wo = EAR_WEB_OPTS_INIT;

        wo.listen = listen;
        wo.store_path = ear_store_path(cli->store);
        ear_error_clear(&err);
        if (ear_web_start(&web, cli->cfg, &wo, &err) < 0) {
            ear_cli_error(cli, &err);
            rc = EAR_EXIT_FAIL;
            goto out;
        }
        ear_cli_info(cli, "earshot: web inbox on %s", ear_web_url(web));
    }
    stop_signal = 0;
    reload_wanted = 0;
    kick_wanted = 0;
    if (install(SIGINT, on_stop, 1) < 0 || install(SIGTERM, on_stop, 1) < 0
        || install(SIGHUP, on_reload, 0) < 0
        || install(SIGUSR1, on_kick, 0) < 0) {
        ear_cli_err(cli, "cannot install signal handlers");
        rc = EAR_EXIT_FAIL;
        goto out;
    }
    ear_cli_info(cli, "earshot: watching %zu sources from %s (pid %ld)",
                 cli->cfg->nsources, cli->cfg->path, (long)getpid());
    while (!stop_signal) {
        int force = kick_wanted;

        if (reload_wanted) {
            reload_wanted = 0;
            reload(cli, poller, &an, web); /* new sources: due at once */
        }
        kick_wanted = 0;
        if (ear_poller_poll(poller, force, NULL, &totals, &next) < 0) {
            ear_cli_err(cli, "the store failed: stopping");
            rc = EAR_EXIT_FAIL;
            break;
        }
        print_round(cli, poller, &totals, next, json);
        if (stop_signal)
            break;
        sleep_until(next_wake(cli, ear_now()));
    }
    if (stop_signal)
        ear_cli_info(cli, "earshot: %s: stopped after the poll in flight",
                     stop_signal == SIGINT ? "interrupted" : "terminated");
out:
    /* the default actions come back for the rest of main() */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    ear_web_stop(web); /* lets requests in flight finish */
    ear_poller_free(poller);
    ear_analyzer_free(an);
    return rc;
}
