/*
 * earshot serve: the web inbox (output/web) until stopped.
 *
 * Opens the store (creating and migrating it, as every command does),
 * starts the server's threads and waits for a signal in this thread:
 *
 *   SIGINT, SIGTERM  finish the requests in flight and exit 0
 *   SIGHUP           reload the config (users, teams, serve: options);
 *                    an invalid new config is reported and the old kept
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "output/web/web.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot serve [--listen ADDR:PORT] [--threads N]\n\n"
            "Serves the triage inbox (a web page and its JSON API) over the "
            "store that\n'earshot run' and 'earshot watch' fill. Users log "
            "in with the passwords\nset by 'earshot user add|passwd' (or "
            "the config's users:).\n\n"
            "  -l, --listen ADDR:PORT  where to listen (default: the "
            "config's serve.listen,\n"
            "                          else 127.0.0.1:8080; port 0 picks a "
            "free port;\n"
            "                          [::1]:8080 for IPv6)\n"
            "  -t, --threads N         server threads (default 4)\n"
            "  -h, --help              this help\n\n"
            "Put it behind a reverse proxy for TLS (docs/web.md). Signals: "
            "SIGINT or\nSIGTERM stop it; SIGHUP reloads the config.\n");
}

/* Loads the config again; on success hands it to the server. */
static void reload(struct ear_cli *cli, struct ear_web *web)
{
    struct ear_config *old = cli->cfg;
    struct ear_error err;

    cli->cfg = NULL;
    if (!ear_cli_config(cli, 0)) {
        ear_cli_err(cli, "reload failed: keeping the previous config");
        cli->cfg = old;
        return;
    }
    ear_error_clear(&err);
    if (ear_web_reconfigure(web, cli->cfg, &err) < 0) {
        ear_cli_error(cli, &err);
        ear_cli_err(cli, "reload failed: keeping the previous config");
        ear_config_free(cli->cfg);
        cli->cfg = old;
        return;
    }
    ear_config_free(old);
    ear_cli_info(cli, "earshot serve: config reloaded");
}

static void warn_no_users(struct ear_cli *cli, struct ear_store *st)
{
    struct ear_web_user *u = NULL;
    struct ear_error err;
    size_t n = 0, usable = 0;

    ear_error_clear(&err);
    if (ear_web_users_list(&u, &n, cli->cfg, st, &err) < 0)
        return; /* the server's start reports config errors */
    for (size_t i = 0; i < n; i++)
        if (u[i].password_hash && u[i].role != EAR_ROLE_NONE)
            usable++;
    ear_web_users_free(u, n);
    if (!usable)
        ear_cli_err(cli, "no user can log in yet: add one with 'earshot "
                    "user add NAME --role lead'");
}

int ear_cmd_serve(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ear_web_opts wo = EAR_WEB_OPTS_INIT;
    struct ear_web *web = NULL;
    struct ear_store *st;
    struct ear_error err;
    sigset_t set, old;
    char *end;
    long n;
    int c, sig = 0, rc;

    while ((c = getopt_long(argc, argv, "l:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            wo.listen = optarg;
            break;
        case 't':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 1 || n > 64)
                return ear_cli_usage(cli, "serve", "--threads: expected a "
                                     "number from 1 to 64, not '%s'",
                                     optarg);
            wo.threads = (unsigned)n;
            break;
        case 'h':
            usage(stdout);
            return EAR_EXIT_OK;
        default:
            return ear_cli_usage(cli, "serve", "unknown option");
        }
    }
    if (optind < argc)
        return ear_cli_usage(cli, "serve", "unexpected argument '%s'",
                             argv[optind]);
    if (!ear_cli_config(cli, 0))
        return EAR_EXIT_FAIL;
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    wo.store_path = ear_store_path(st);

    /* Wait for these in this thread (sigwait), not in handlers. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    ear_error_clear(&err);
    rc = ear_web_start(&web, cli->cfg, &wo, &err);
    if (rc < 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        ear_cli_error(cli, &err);
        return rc == EAR_EINVAL && wo.listen && !err.source[0]
                   ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
    }
    warn_no_users(cli, st);
    ear_cli_info(cli, "earshot serve: listening on %s (Ctrl-C stops)",
                 ear_web_url(web));
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(cli, web);
            continue;
        }
        break;
    }
    ear_cli_info(cli, "earshot serve: stopping (%s)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    ear_web_stop(web);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return EAR_EXIT_OK;
}
