/*
 * earshot's entry point: global options, then one subcommand.
 *
 *   earshot [--config FILE] [--db FILE] [--quiet|--verbose] COMMAND ...
 *
 * main() stays thin: parse the global options, initialise the libraries,
 * dispatch, clean up, and check that stdout really was written.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include "cli/cli.h"

struct command {
    const char *name;
    int (*fn)(struct ear_cli *cli, int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", ear_cmd_run, "poll due sources once, analyze, queue, summarise"},
    {"watch", ear_cmd_watch, "run the scheduler until stopped (signals: TERM, HUP, USR1)"},
    {"sources", ear_cmd_sources, "list sources and their polling state"},
    {"parse", ear_cmd_parse, "fetch or read one feed and print what earshot sees"},
    {"check", ear_cmd_check, "analyze a text (or JSON lines) and explain the verdict"},
    {"queue", ear_cmd_queue, "the triage queue: list, show, assign, resolve, dismiss ..."},
    {"digest", ear_cmd_digest, "a digest of a period (Markdown, HTML, JSON)"},
    {"incidents", ear_cmd_incidents, "complaint surges: open incidents (--all: closed too)"},
    {"outbox", ear_cmd_outbox, "alerts waiting for their sinks; retry delivers now"},
    {"rules", ear_cmd_rules, "rule packs: test, list, lint"},
    {"eval", ear_cmd_eval, "score the analyzer on labeled JSON lines"},
    {"serve", ear_cmd_serve, "the web inbox: a page and JSON API over the queue"},
    {"user", ear_cmd_user, "users of the web inbox: add, passwd, remove, list"},
};

static void usage(FILE *f)
{
    size_t i;

    fprintf(f,
            "usage: earshot [--config FILE] [--db FILE] [--quiet|--verbose] "
            "COMMAND [ARGS]\n\n"
            "earshot watches review sites and social feeds, flags complaints "
            "in Hungarian\nand English, and queues them for the service "
            "team.\n\ncommands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nglobal options:\n"
            "  -c, --config FILE  config file (else $EARSHOT_CONFIG, "
            "./earshot.yml,\n"
            "                     $XDG_CONFIG_HOME/earshot/earshot.yml)\n"
            "      --db FILE      store file (overrides the config's store)\n"
            "  -q, --quiet        only errors on stderr\n"
            "  -v, --verbose      more detail on stderr\n"
            "  -h, --help         this help; 'earshot COMMAND --help' for a "
            "command\n"
            "  -V, --version      print the version\n\n"
            "See earshot(1).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    struct ear_cli cli;
    const struct command *cmd = NULL;
    int c, rc;
    size_t i;

    memset(&cli, 0, sizeof cli);
    cli.prog = "earshot";
    /* '+': stop at the first non-option, the subcommand. */
    while ((c = getopt_long(argc, argv, "+c:qvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cli.config_path = optarg; break;
        case 'd': cli.db_path = optarg; break;
        case 'q': cli.quiet = 1; cli.verbose = 0; break;
        case 'v': cli.verbose = 1; cli.quiet = 0; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        case 'V': printf("earshot %s\n", EAR_VERSION); return EAR_EXIT_OK;
        default:
            fprintf(stderr, "try 'earshot --help'\n");
            return EAR_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EAR_EXIT_USAGE;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        const char *best = NULL;
        size_t best_d = (size_t)-1, d;

        for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            d = ear_levenshtein(argv[optind], commands[i].name);
            if (d < best_d) {
                best_d = d;
                best = commands[i].name;
            }
        }
        fprintf(stderr, "earshot: unknown command '%s'", argv[optind]);
        if (best && best_d <= 2)
            fprintf(stderr, " (did you mean '%s'?)", best);
        fprintf(stderr, "\ntry 'earshot --help'\n");
        return EAR_EXIT_USAGE;
    }
    cli.color = ear_color_enabled(stdout);
    cli.color_err = ear_color_enabled(stderr);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "earshot: cannot initialise libcurl\n");
        return EAR_EXIT_FAIL;
    }
    xmlInitParser();
    argc -= optind;
    argv += optind;
    optind = 0; /* getopt_long restarts for the subcommand */
    rc = cmd->fn(&cli, argc, argv);
    ear_store_close(cli.store);
    ear_config_free(cli.cfg);
    xmlCleanupParser();
    curl_global_cleanup();
    if (fflush(stdout) == EOF || ferror(stdout)) {
        fprintf(stderr, "earshot: write error on standard output\n");
        if (rc == EAR_EXIT_OK)
            rc = EAR_EXIT_FAIL;
    }
    return rc;
}
