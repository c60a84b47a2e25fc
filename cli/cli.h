/*
 * cli: the only place that wires the stages together. main.c parses the
 * global options and dispatches to one function per subcommand (one file
 * each). A subcommand returns the process exit status:
 *   0 success, 1 failure, 2 usage error, 3 some sources failed (run).
 * Data goes to stdout, messages to stderr.
 */
#ifndef EAR_CLI_H
#define EAR_CLI_H

#include <stdio.h>
#include "core/core.h"

enum {
    EAR_EXIT_OK = 0,
    EAR_EXIT_FAIL = 1,
    EAR_EXIT_USAGE = 2,
    EAR_EXIT_PARTIAL = 3
};

struct ear_analyzer;

/* Global options and lazily loaded shared state. */
struct ear_cli {
    const char *prog;        /* "earshot" */
    const char *config_path; /* --config, NULL = locate */
    const char *db_path;     /* --db */
    int quiet;
    int verbose;
    int color;               /* colour on stdout */
    int color_err;           /* colour on stderr */
    struct ear_config *cfg;  /* owned, after ear_cli_config() */
    struct ear_store *store; /* owned, after ear_cli_store() */
};

/* Loads the config once. required = 0 lets a command run with an empty
 * config when none is found. Prints the error and returns NULL on failure. */
struct ear_config *ear_cli_config(struct ear_cli *cli, int required);
/* Opens the store once: --db, else the config's store, else the default.
 * Prints the error and returns NULL on failure. */
struct ear_store *ear_cli_store(struct ear_cli *cli);
/* Rule pack paths: the config's rules, else the installed packs, else the
 * source tree's rules/ (so an uninstalled build works). Borrowed,
 * NULL-terminated. */
const char *const *ear_cli_rule_paths(struct ear_cli *cli);
/* Loads the analyzer with every rule pack and the config's brands. Prints
 * the error and returns NULL on failure. New: free with ear_analyzer_free. */
struct ear_analyzer *ear_cli_analyzer(struct ear_cli *cli);

/* "earshot: message" on stderr (respecting --quiet for info). */
void ear_cli_err(struct ear_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ear_cli_info(struct ear_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints a struct ear_error as "earshot: source:line:col: text". */
void ear_cli_error(struct ear_cli *cli, const struct ear_error *err);
/* Usage error: prints message and "try 'earshot CMD --help'"; returns 2. */
int ear_cli_usage(struct ear_cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The actor for queue changes: --as NAME, else $USER, else "unknown". */
const char *ear_cli_actor(const char *as);

/* Prints JSON (jansson json_t *) to stdout followed by a newline; steals. */
struct json_t;
int ear_cli_print_json(struct json_t *j);

/* Polling, shared by run and watch (cli/run.c). */
struct ear_poller; /* the fetch -> analyze -> store -> queue pass */

struct ear_poll_totals {
    size_t polled, fresh, flagged, queued, failed, throttled;
};

/* Checks every source's fetcher and scheduling options of cfg before
 * anything runs (type, mapping, selectors, limits, expected_every,
 * adaptive ...). Prints the first error as path:line:col; returns 0 or
 * -1. */
int ear_cli_check_sources(struct ear_cli *cli, const struct ear_config *cfg);
/* New poller on cli->cfg and cli->store (both loaded first) with the
 * analyzer an (borrowed; must outlive the poller or the next
 * reconfigure). Keeps one fetcher, so connections are reused across
 * polls. Prints errors; NULL on failure. */
struct ear_poller *ear_poller_new(struct ear_cli *cli,
                                  struct ear_analyzer *an);
/* After cli->cfg was replaced (reload): takes the new config and analyzer;
 * the fetcher (and its connections) is kept unless the fetch limits or
 * the User-Agent changed. 0 or -1 (printed). */
int ear_poller_reconfigure(struct ear_poller *p, struct ear_analyzer *an);
/* One pass over the due sources (all with force; only the names in only,
 * NULL-terminated, when it is non-NULL and non-empty). Fills *t;
 * *next_due (may be NULL) receives the earliest next due time set in this
 * pass (0 when none). Returns 0, or -1 when the store failed. */
int ear_poller_poll(struct ear_poller *p, int force,
                    const char *const *only, struct ear_poll_totals *t,
                    int64_t *next_due);
/* The last pass's summary on stdout: a table, or JSON. */
void ear_poller_print(struct ear_poller *p, int json);
void ear_poller_free(struct ear_poller *p); /* NULL is fine */

/* Subcommands: argv[0] is the subcommand name; getopt_long resets. */
int ear_cmd_run(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_check(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_parse(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_queue(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_digest(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_rules(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_sources(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_eval(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_watch(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_serve(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_user(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_incidents(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_outbox(struct ear_cli *cli, int argc, char **argv);
/* `earshot rules stats`, dispatched from ear_cmd_rules (cli/rules_stats.c) */
int ear_cmd_rules_stats(struct ear_cli *cli, int argc, char **argv);

/* An ear_write_fn that writes to stdout (a jsonl sink with path "-");
 * payload is unused. */
int ear_cli_write_stdout(const char *p, size_t n, void *payload);

#endif
