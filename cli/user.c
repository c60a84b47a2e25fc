/*
 * earshot user add|passwd|remove|list|hash: who may log in to the web
 * inbox (earshot serve).
 *
 * Users made here live in the store's users table; users of the config's
 * users: list are listed too, and passwd works for them as well (the
 * store's hash then wins over the config's password_hash). docs/web.md
 * says why the store and not the YAML file.
 *
 * A password is asked on the terminal (twice, without echo) or read as
 * one line from standard input with --password-stdin; it never appears
 * on the command line, where other users could see it in ps.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "output/web/web.h"

#define PW_MAX 1100

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot user add NAME [--team T] [--role R] "
            "[--password-stdin]\n"
            "       earshot user passwd NAME [--password-stdin]\n"
            "       earshot user remove NAME\n"
            "       earshot user list [--json]\n"
            "       earshot user hash [--password-stdin]\n\n"
            "Users of the web inbox (earshot serve). add and passwd store a "
            "crypt(3)\n(yescrypt) hash of the password in the store; hash "
            "prints one for the\nconfig's users: list instead.\n\n"
            "  -t, --team T          the user's team (one of the config's "
            "teams)\n"
            "  -r, --role R          agent (default), lead or admin\n"
            "      --password-stdin  read the password as one line from "
            "standard input\n"
            "                        (else it is asked on the terminal)\n"
            "  -j, --json            JSON output (list)\n"
            "  -h, --help            this help\n\n"
            "Roles: an agent works unowned items and their own, and assigns "
            "to themselves\nor a teammate; a lead and an admin change any "
            "item and assign to anyone.\n");
}

static void chomp(char *s)
{
    size_t n = strlen(s);

    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Reads a line from the terminal with echo off. 0, or -1 at EOF. */
static int ask(const char *prompt, char *buf, size_t size)
{
    struct termios t, quiet;
    int have = tcgetattr(STDIN_FILENO, &t) == 0;
    char *ok;

    fputs(prompt, stderr);
    fflush(stderr);
    if (have) {
        quiet = t;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    ok = fgets(buf, (int)size, stdin);
    if (have)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
    fputc('\n', stderr);
    if (!ok)
        return -1;
    chomp(buf);
    return 0;
}

/* The new password into buf. Returns an exit status (0 = got it). */
static int read_password(struct ear_cli *cli, const char *cmd, int from_stdin,
                         char *buf, size_t size)
{
    char again[PW_MAX];
    struct ear_error err;

    if (from_stdin) {
        if (!fgets(buf, (int)size, stdin)) {
            ear_cli_err(cli, "no password on standard input");
            return EAR_EXIT_FAIL;
        }
        chomp(buf);
    } else {
        if (!isatty(STDIN_FILENO))
            return ear_cli_usage(cli, cmd, "no terminal to ask for the "
                                 "password: use --password-stdin");
        if (ask("New password: ", buf, size) < 0 ||
            ask("Again: ", again, sizeof again) < 0) {
            ear_cli_err(cli, "no password given");
            return EAR_EXIT_FAIL;
        }
        if (strcmp(buf, again) != 0) {
            memset(again, 0, sizeof again);
            ear_cli_err(cli, "the two passwords differ; nothing changed");
            return EAR_EXIT_FAIL;
        }
        memset(again, 0, sizeof again);
    }
    ear_error_clear(&err);
    if (ear_web_password_ok(buf, &err) < 0) {
        ear_cli_error(cli, &err);
        return EAR_EXIT_FAIL;
    }
    return EAR_EXIT_OK;
}

static int cmd_list(struct ear_cli *cli, struct ear_store *st, int json)
{
    struct ear_web_user *u = NULL;
    struct ear_error err;
    size_t n = 0;

    ear_error_clear(&err);
    if (ear_web_users_list(&u, &n, cli->cfg, st, &err) < 0) {
        ear_cli_error(cli, &err);
        return EAR_EXIT_FAIL;
    }
    if (json) {
        json_t *a = json_array();
        char t[40];

        for (size_t i = 0; a && i < n; i++)
            json_array_append_new(a, json_pack(
                "{s:s, s:s?, s:s, s:b, s:b, s:b, s:s?}", "name", u[i].name,
                "team", u[i].team, "role", ear_role_name(u[i].role),
                "password_set", u[i].password_hash != NULL, "in_config",
                u[i].in_config, "in_store", u[i].in_store, "updated",
                u[i].updated ? ear_time_fmt(u[i].updated, t, sizeof t)
                             : NULL));
        ear_web_users_free(u, n);
        return ear_cli_print_json(a) < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
    }
    if (n == 0)
        printf("No users. Add one with 'earshot user add NAME --role "
               "lead'.\n");
    else
        printf("%-20s %-14s %-6s %-13s %s\n", "NAME", "TEAM", "ROLE",
               "DEFINED IN", "PASSWORD");
    for (size_t i = 0; i < n; i++)
        printf("%-20s %-14s %-6s %-13s %s\n", u[i].name,
               u[i].team ? u[i].team : "-", ear_role_name(u[i].role),
               u[i].in_config && u[i].in_store ? "config+store"
               : u[i].in_config ? "config" : "store",
               u[i].password_hash ? "set" : "none (cannot log in)");
    ear_web_users_free(u, n);
    return EAR_EXIT_OK;
}

int ear_cmd_user(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"team", required_argument, NULL, 't'},
        {"role", required_argument, NULL, 'r'},
        {"password-stdin", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char *const verbs[] = {"add", "passwd", "remove", "list",
                                        "hash", NULL};
    const char *verb, *team = NULL, *role_s = NULL, *name = NULL;
    char cmd[32], pw[PW_MAX];
    enum ear_role role = EAR_ROLE_AGENT;
    struct ear_error err;
    struct ear_store *st;
    int c, json = 0, from_stdin = 0, rc;
    size_t i;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EAR_EXIT_USAGE : EAR_EXIT_OK;
    }
    for (i = 0; verbs[i]; i++)
        if (strcmp(argv[1], verbs[i]) == 0)
            break;
    if (!verbs[i])
        return ear_cli_usage(cli, "user", "unknown verb '%s' (expected add, "
                             "passwd, remove, list or hash)", argv[1]);
    verb = verbs[i];
    snprintf(cmd, sizeof cmd, "user %s", verb);
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "t:r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 't': team = optarg; break;
        case 'r': role_s = optarg; break;
        case 'p': from_stdin = 1; break;
        case 'j': json = 1; break;
        case 'h':
            usage(stdout);
            return EAR_EXIT_OK;
        default:
            return ear_cli_usage(cli, cmd, "unknown option");
        }
    }
    argc -= optind;
    argv += optind;
    if ((team || role_s) && strcmp(verb, "add") != 0)
        return ear_cli_usage(cli, cmd, "--team and --role go with 'add' "
                             "(change a config user in the config)");
    if (json && strcmp(verb, "list") != 0)
        return ear_cli_usage(cli, cmd, "--json goes with 'list'");
    if (from_stdin && (strcmp(verb, "list") == 0 ||
                       strcmp(verb, "remove") == 0))
        return ear_cli_usage(cli, cmd, "--password-stdin goes with add, "
                             "passwd and hash");
    if (strcmp(verb, "list") == 0 || strcmp(verb, "hash") == 0) {
        if (argc > 0)
            return ear_cli_usage(cli, cmd, "unexpected argument '%s'",
                                 argv[0]);
    } else if (argc != 1) {
        return ear_cli_usage(cli, cmd, argc ? "one user name, please"
                                            : "which user?");
    } else {
        name = argv[0];
    }
    if (role_s && ear_role_parse(&role, role_s) < 0)
        return ear_cli_usage(cli, cmd, "--role: expected agent, lead or "
                             "admin, not '%s'", role_s);

    if (strcmp(verb, "hash") == 0) {
        char *hash = NULL;

        rc = read_password(cli, cmd, from_stdin, pw, sizeof pw);
        if (rc != EAR_EXIT_OK)
            return rc;
        ear_error_clear(&err);
        rc = ear_web_password_hash(&hash, pw, &err);
        memset(pw, 0, sizeof pw);
        if (rc < 0) {
            ear_cli_error(cli, &err);
            return EAR_EXIT_FAIL;
        }
        printf("%s\n", hash);
        free(hash);
        return EAR_EXIT_OK;
    }
    if (!ear_cli_config(cli, 0))
        return EAR_EXIT_FAIL;
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    if (strcmp(verb, "list") == 0)
        return cmd_list(cli, st, json);

    ear_error_clear(&err);
    if (strcmp(verb, "remove") == 0) {
        rc = ear_web_user_remove(st, cli->cfg, name, &err);
    } else {
        rc = read_password(cli, cmd, from_stdin, pw, sizeof pw);
        if (rc != EAR_EXIT_OK)
            return rc;
        if (strcmp(verb, "add") == 0)
            rc = ear_web_user_add(st, cli->cfg, name, team, role, pw, &err);
        else
            rc = ear_web_user_passwd(st, cli->cfg, name, pw, &err);
        memset(pw, 0, sizeof pw);
    }
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return rc == EAR_EINVAL ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
    }
    if (strcmp(verb, "add") == 0)
        ear_cli_info(cli, "earshot: added %s (%s%s%s)", name,
                     ear_role_name(role), team ? ", team " : "",
                     team ? team : "");
    else if (strcmp(verb, "passwd") == 0)
        ear_cli_info(cli, "earshot: password of %s changed (their open "
                     "sessions end within seconds)", name);
    else
        ear_cli_info(cli, "earshot: removed %s", name);
    return EAR_EXIT_OK;
}
