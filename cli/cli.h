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

/* Subcommands: argv[0] is the subcommand name; getopt_long resets. */
int ear_cmd_run(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_check(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_parse(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_queue(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_digest(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_rules(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_sources(struct ear_cli *cli, int argc, char **argv);
int ear_cmd_eval(struct ear_cli *cli, int argc, char **argv);

#endif
