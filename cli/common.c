/*
 * What the subcommands share: loading the config, the store and the
 * analyzer once, printing messages and errors in one format, and the
 * JSON printer.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"

void ear_cli_err(struct ear_cli *cli, const char *fmt, ...)
{
    va_list ap;

    (void)cli;
    fputs("earshot: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void ear_cli_info(struct ear_cli *cli, const char *fmt, ...)
{
    va_list ap;

    if (cli->quiet)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void ear_cli_error(struct ear_cli *cli, const struct ear_error *err)
{
    char buf[1024];

    ear_cli_err(cli, "%s", ear_error_format(err, buf, sizeof buf));
}

int ear_cli_usage(struct ear_cli *cli, const char *cmd, const char *fmt, ...)
{
    va_list ap;

    (void)cli;
    fprintf(stderr, "earshot %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'earshot %s --help'\n", cmd);
    return EAR_EXIT_USAGE;
}

const char *ear_cli_actor(const char *as)
{
    const char *user;

    if (as && *as)
        return as;
    user = getenv("USER");
    if (user && *user)
        return user;
    user = getenv("LOGNAME");
    return user && *user ? user : "unknown";
}

int ear_cli_print_json(struct json_t *j)
{
    int rc;

    if (!j)
        return EAR_ENOMEM;
    rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    fputc('\n', stdout);
    return rc < 0 ? EAR_EIO : 0;
}

struct ear_config *ear_cli_config(struct ear_cli *cli, int required)
{
    struct ear_error err;
    char *path;
    int rc;

    if (cli->cfg)
        return cli->cfg;
    ear_error_clear(&err);
    path = ear_config_locate(cli->config_path, &err);
    if (!path) {
        if (!required && !cli->config_path && err.code == EAR_ENOTFOUND) {
            if (ear_config_empty(&cli->cfg) < 0) {
                ear_cli_err(cli, "out of memory");
                return NULL;
            }
            return cli->cfg;
        }
        ear_cli_error(cli, &err);
        return NULL;
    }
    rc = ear_config_load(&cli->cfg, path, &err);
    free(path);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return NULL;
    }
    return cli->cfg;
}

struct ear_store *ear_cli_store(struct ear_cli *cli)
{
    struct ear_error err;
    char *def = NULL;
    const char *path;
    int rc;

    if (cli->store)
        return cli->store;
    path = cli->db_path;
    if (!path) {
        struct ear_config *cfg = ear_cli_config(cli, 0);
        if (!cfg)
            return NULL;
        path = cfg->store;
    }
    if (!path) {
        def = ear_default_store_path();
        if (!def) {
            ear_cli_err(cli, "out of memory");
            return NULL;
        }
        path = def;
    }
    ear_error_clear(&err);
    rc = ear_store_open(&cli->store, path, &err);
    free(def);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return NULL;
    }
    return cli->store;
}

static int is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The packs installed beside this binary: <bindir>/../share/earshot/rules,
 * so an install under any prefix finds its own packs. */
static const char *rules_beside_binary(void)
{
    static char path[PATH_MAX + 64];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash;

    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    snprintf(path, sizeof path, "%s/../share/earshot/rules", exe);
    return is_dir(path) ? path : NULL;
}

const char *const *ear_cli_rule_paths(struct ear_cli *cli)
{
    static const char *installed[] = {EAR_RULES_DIR, NULL};
    static const char *source[] = {EAR_SOURCE_RULES_DIR, NULL};
    static const char *one[2];
    const char *env = getenv("EARSHOT_RULES");
    struct ear_config *cfg = ear_cli_config(cli, 0);

    if (env && *env) {
        one[0] = env;
        return one;
    }
    if (cfg && cfg->rules)
        return (const char *const *)cfg->rules;
    one[0] = rules_beside_binary();
    if (one[0])
        return one;
    if (is_dir(EAR_RULES_DIR))
        return installed;
    return source;
}

struct ear_analyzer *ear_cli_analyzer(struct ear_cli *cli)
{
    struct ear_analyzer *an = NULL;
    struct ear_config *cfg = ear_cli_config(cli, 0);
    struct ear_error err;

    if (!cfg)
        return NULL;
    ear_error_clear(&err);
    if (ear_analyzer_new(&an, ear_cli_rule_paths(cli), &err) < 0 ||
        ear_analyzer_set_brands(an, cfg->brands, cfg->nbrands, &err) < 0) {
        ear_cli_error(cli, &err);
        ear_analyzer_free(an);
        return NULL;
    }
    return an;
}
