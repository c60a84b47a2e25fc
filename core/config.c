/*
 * The configuration: one YAML file, validated as a whole before anything
 * runs, so that a bad config changes nothing in the store.
 *
 * Every key is checked against the list of keys its map may hold; an
 * unknown one is an error that names the nearest known key. ${VAR} is
 * expanded from the environment first. Paths (store, rules, file sources)
 * resolve against the config file's directory, so a config runs the same
 * from any working directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/core.h"

#define DEFAULT_INTERVAL (15 * 60)

static const char *const top_keys[] = {
    "store", "rules", "contact", "brands", "sources", "teams",
    "default_team", "routing", "sla", "sinks", "fetch", "incidents",
    "users", "serve", NULL};
static const char *const brand_keys[] = {"name", "aliases", "exclude",
                                         "query", NULL};
/* Source keys: the common ones and every type-specific option the fetcher
 * understands (docs/config.md lists them by type). */
static const char *const source_keys[] = {
    "name", "url", "type", "interval", "brand", "lang", "enabled",
    "analyze", "headers", "query", "timeout", "connect_timeout", "max_body",
    "max_redirects", "ca_file", "charset", "expected_every", "adaptive",
    "min_interval", "max_interval", "robots", "preset", "map", "items",
    "fields", "xpath", "next_page", "max_pages", "rating_scale", NULL};
static const char *const source_types[] = {"rss", "atom", "rdf", "jsonfeed",
                                           "json", "html", NULL};
static const char *const team_keys[] = {"name", "members", NULL};
static const char *const route_keys[] = {"team", "categories", "brands",
                                         "sources", NULL};
static const char *const sla_keys[] = {"critical", "high", "medium", "low",
                                       NULL};
static const char *const sink_keys[] = {
    "name", "type", "url", "path", "to", "from", "secret", "severity",
    "categories", "teams", "brands", "incidents_only", "max_per_hour",
    "template", "headers", "subject", "username", "password", "enabled",
    NULL};
static const char *const sink_types[] = {"jsonl", "webhook", "slack", "teams",
                                         "mattermost", "http", "smtp", NULL};
static const char *const fetch_keys[] = {"max_connections", "max_per_host",
                                         "timeout", "connect_timeout",
                                         "max_body", NULL};

struct loader {
    struct ear_config *cfg;
    const char *path;
    struct ear_error *err;
};

static int oom(struct loader *ld)
{
    return ear_error_set(ld->err, EAR_ENOMEM, ld->path, 0, 0,
                         "out of memory");
}

static int in_list(const char *const list[], const char *s)
{
    size_t i;

    for (i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int want(struct loader *ld, const struct ear_ynode *n,
                enum ear_ynode_type type, const char *what)
{
    static const char *const names[] = {"a single value", "a list", "a map"};

    if (n->type != type)
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, n->line, n->col,
                             "%s must be %s", what, names[type]);
    return 0;
}

/* A path relative to the config's directory, made absolute. */
static char *resolve_path(const struct ear_config *cfg, const char *p)
{
    struct ear_buf b;

    if (p[0] == '/')
        return strdup(p);
    if (p[0] == '~' && p[1] == '/' && getenv("HOME")) {
        ear_buf_init(&b, PATH_MAX * 2);
        if (ear_buf_addf(&b, "%s%s", getenv("HOME"), p + 1) < 0)
            return NULL;
        return ear_buf_take(&b, NULL);
    }
    ear_buf_init(&b, PATH_MAX * 2);
    if (p[0] == '.' && p[1] == '/')
        p += 2;
    if (ear_buf_addf(&b, "%s/%s", cfg->dir, p) < 0)
        return NULL;
    return ear_buf_take(&b, NULL);
}

/* Source URLs: http(s) as given; file: URLs and bare paths resolve against
 * the config's directory and become absolute file:// URLs. */
static int resolve_url(struct loader *ld, const struct ear_ynode *n,
                       char **out)
{
    const char *u = n->value, *path;
    char *abs;
    struct ear_buf b;

    if (!*u)
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, n->line, n->col,
                             "url is empty");
    if (strncasecmp(u, "http://", 7) == 0 ||
        strncasecmp(u, "https://", 8) == 0) {
        *out = strdup(u);
        return *out ? 0 : oom(ld);
    }
    if (strncasecmp(u, "file://", 7) == 0)
        path = u + 7; /* file:///abs or file://rel (lenient) */
    else if (strncasecmp(u, "file:", 5) == 0)
        path = u + 5;
    else if (strstr(u, "://"))
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, n->line, n->col,
                             "unsupported URL scheme in '%s' (use http, "
                             "https, file or a path)",
                             u);
    else
        path = u;
    if (!*path)
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, n->line, n->col,
                             "file URL without a path");
    abs = resolve_path(ld->cfg, path);
    if (!abs)
        return oom(ld);
    ear_buf_init(&b, PATH_MAX * 3);
    if (ear_buf_addf(&b, "file://%s", abs) < 0) {
        free(abs);
        return oom(ld);
    }
    free(abs);
    *out = ear_buf_take(&b, NULL);
    return *out ? 0 : oom(ld);
}

/* A scalar-or-list into a new NULL-terminated array of copies. */
static int copy_strlist(struct loader *ld, const struct ear_ynode *n,
                        const char *what, char ***out)
{
    const char **list = NULL;
    size_t count = 0, i;
    char **copy;
    int rc;

    *out = NULL;
    if (!n)
        return 0;
    rc = ear_ynode_strlist(&list, &count, n, ld->path, what, ld->err);
    if (rc < 0)
        return rc;
    copy = calloc(count + 1, sizeof *copy);
    if (!copy) {
        free(list);
        return oom(ld);
    }
    for (i = 0; i < count; i++) {
        copy[i] = strdup(list[i]);
        if (!copy[i]) {
            free(list);
            *out = copy;
            return oom(ld);
        }
    }
    free(list);
    *out = copy;
    return 0;
}

static void free_strlist(char **l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; l[i]; i++)
        free(l[i]);
    free(l);
}

static int req_str(struct loader *ld, const struct ear_ynode *map,
                   const char *key, const char *what, char **out)
{
    const struct ear_ynode *n = ear_ynode_get(map, key);
    const char *s = NULL;
    int rc;

    if (!n)
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, map->line,
                             map->col, "%s needs '%s'", what, key);
    rc = ear_ynode_str(&s, n, ld->path, key, ld->err);
    if (rc < 0)
        return rc;
    if (!*s)
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, n->line, n->col,
                             "'%s' must not be empty", key);
    *out = strdup(s);
    return *out ? 0 : oom(ld);
}

static int opt_str(struct loader *ld, const struct ear_ynode *map,
                   const char *key, char **out)
{
    const struct ear_ynode *n = ear_ynode_get(map, key);
    const char *s = NULL;
    int rc;

    if (!n)
        return 0;
    rc = ear_ynode_str(&s, n, ld->path, key, ld->err);
    if (rc < 0)
        return rc;
    *out = strdup(s);
    return *out ? 0 : oom(ld);
}

static int load_brands(struct loader *ld, const struct ear_ynode *n)
{
    struct ear_config *cfg = ld->cfg;
    size_t i, j;
    int rc;

    if (!n)
        return 0;
    rc = want(ld, n, EAR_Y_SEQ, "brands");
    if (rc < 0)
        return rc;
    cfg->brands = calloc(n->n ? n->n : 1, sizeof *cfg->brands);
    if (!cfg->brands)
        return oom(ld);
    for (i = 0; i < n->n; i++) {
        const struct ear_ynode *b = n->items[i];
        struct ear_brand *br = &cfg->brands[i];

        if ((rc = want(ld, b, EAR_Y_MAP, "a brand")) < 0 ||
            (rc = ear_ynode_check_keys(b, brand_keys, ld->path, ld->err)) <
                0)
            return rc;
        cfg->nbrands = i + 1;
        if ((rc = req_str(ld, b, "name", "a brand", &br->name)) < 0 ||
            (rc = copy_strlist(ld, ear_ynode_get(b, "aliases"), "aliases",
                               &br->aliases)) < 0 ||
            (rc = copy_strlist(ld, ear_ynode_get(b, "exclude"), "exclude",
                               &br->exclude)) < 0 ||
            (rc = opt_str(ld, b, "query", &br->query)) < 0)
            return rc;
        for (j = 0; j < i; j++)
            if (strcasecmp(cfg->brands[j].name, br->name) == 0)
                return ear_error_set(ld->err, EAR_EINVAL, ld->path, b->line,
                                     b->col, "brand '%s' is defined twice",
                                     br->name);
    }
    return 0;
}

static int load_sources(struct loader *ld, const struct ear_ynode *n)
{
    struct ear_config *cfg = ld->cfg;
    const struct ear_ynode *v;
    size_t i, j;
    int rc;

    if (!n)
        return 0;
    rc = want(ld, n, EAR_Y_SEQ, "sources");
    if (rc < 0)
        return rc;
    cfg->sources = calloc(n->n ? n->n : 1, sizeof *cfg->sources);
    if (!cfg->sources)
        return oom(ld);
    for (i = 0; i < n->n; i++) {
        const struct ear_ynode *s = n->items[i];
        struct ear_source_cfg *src = &cfg->sources[i];

        if ((rc = want(ld, s, EAR_Y_MAP, "a source")) < 0 ||
            (rc = ear_ynode_check_keys(s, source_keys, ld->path, ld->err)) <
                0)
            return rc;
        cfg->nsources = i + 1;
        src->opts = s;
        src->line = s->line;
        src->col = s->col;
        src->interval = DEFAULT_INTERVAL;
        src->enabled = 1;
        src->analyze = 1;
        if ((rc = req_str(ld, s, "name", "a source", &src->name)) < 0)
            return rc;
        for (j = 0; j < i; j++)
            if (strcmp(cfg->sources[j].name, src->name) == 0)
                return ear_error_set(ld->err, EAR_EINVAL, ld->path, s->line,
                                     s->col, "source '%s' is defined twice",
                                     src->name);
        v = ear_ynode_get(s, "url");
        if (!v)
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, s->line,
                                 s->col, "source '%s' needs 'url'",
                                 src->name);
        if ((rc = want(ld, v, EAR_Y_SCALAR, "url")) < 0 ||
            (rc = resolve_url(ld, v, &src->url)) < 0)
            return rc;
        if ((rc = opt_str(ld, s, "type", &src->type)) < 0)
            return rc;
        if (src->type && !in_list(source_types, src->type)) {
            v = ear_ynode_get(s, "type");
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                 v->col,
                                 "unknown source type '%s' (known: rss, "
                                 "atom, rdf, jsonfeed, json, html)",
                                 src->type);
        }
        if ((rc = opt_str(ld, s, "brand", &src->brand)) < 0)
            return rc;
        if (src->brand && !ear_config_brand(cfg, src->brand)) {
            v = ear_ynode_get(s, "brand");
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                 v->col, "source '%s' names brand '%s', "
                                 "which is not in brands",
                                 src->name, src->brand);
        }
        if ((rc = opt_str(ld, s, "lang", &src->lang)) < 0)
            return rc;
        if (src->lang && strcmp(src->lang, "hu") != 0 &&
            strcmp(src->lang, "en") != 0) {
            if (strcmp(src->lang, "auto") != 0) {
                v = ear_ynode_get(s, "lang");
                return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                     v->col,
                                     "lang must be hu, en or auto, not '%s'",
                                     src->lang);
            }
            free(src->lang);
            src->lang = NULL;
        }
        if ((rc = ear_ynode_duration(&src->interval,
                                     ear_ynode_get(s, "interval"), ld->path,
                                     "interval", ld->err)) < 0)
            return rc;
        if (src->interval < 60) {
            v = ear_ynode_get(s, "interval");
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                 v->col, "interval must be at least 1m");
        }
        if ((rc = ear_ynode_bool(&src->enabled, ear_ynode_get(s, "enabled"),
                                 ld->path, "enabled", ld->err)) < 0 ||
            (rc = ear_ynode_bool(&src->analyze, ear_ynode_get(s, "analyze"),
                                 ld->path, "analyze", ld->err)) < 0)
            return rc;
    }
    return 0;
}

static int team_known(const struct ear_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->nteams; i++)
        if (strcmp(cfg->teams[i].name, name) == 0)
            return 1;
    return 0;
}

static int load_teams(struct loader *ld, const struct ear_ynode *n)
{
    struct ear_config *cfg = ld->cfg;
    size_t i;
    int rc;

    if (!n)
        return 0;
    if ((rc = want(ld, n, EAR_Y_SEQ, "teams")) < 0)
        return rc;
    cfg->teams = calloc(n->n ? n->n : 1, sizeof *cfg->teams);
    if (!cfg->teams)
        return oom(ld);
    for (i = 0; i < n->n; i++) {
        const struct ear_ynode *t = n->items[i];
        struct ear_team *team = &cfg->teams[i];
        char *name = NULL;

        if ((rc = want(ld, t, EAR_Y_MAP, "a team")) < 0 ||
            (rc = ear_ynode_check_keys(t, team_keys, ld->path, ld->err)) < 0 ||
            (rc = req_str(ld, t, "name", "a team", &name)) < 0)
            return rc;
        if (team_known(cfg, name)) {
            free(name);
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, t->line,
                                 t->col, "team is defined twice");
        }
        team->name = name;
        cfg->nteams = i + 1;
        if ((rc = copy_strlist(ld, ear_ynode_get(t, "members"), "members",
                               &team->members)) < 0)
            return rc;
    }
    return 0;
}

static int check_names(struct loader *ld, const struct ear_ynode *n,
                       char **names, int kind)
{
    size_t i;

    if (!names)
        return 0;
    for (i = 0; names[i]; i++) {
        const struct ear_ynode *at = n->type == EAR_Y_SEQ ? n->items[i] : n;
        int ok = 0;

        if (kind == 'b')
            ok = ear_config_brand(ld->cfg, names[i]) != NULL;
        else if (kind == 's')
            ok = ear_config_source(ld->cfg, names[i]) != NULL;
        else
            ok = 1;
        if (!ok)
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, at->line,
                                 at->col, "unknown %s '%s'",
                                 kind == 'b' ? "brand" : "source", names[i]);
    }
    return 0;
}

static int load_routing(struct loader *ld, const struct ear_ynode *n)
{
    struct ear_config *cfg = ld->cfg;
    const struct ear_ynode *v;
    size_t i;
    int rc;

    if (!n)
        return 0;
    if ((rc = want(ld, n, EAR_Y_SEQ, "routing")) < 0)
        return rc;
    cfg->routes = calloc(n->n ? n->n : 1, sizeof *cfg->routes);
    if (!cfg->routes)
        return oom(ld);
    for (i = 0; i < n->n; i++) {
        const struct ear_ynode *r = n->items[i];
        struct ear_route *route = &cfg->routes[i];

        if ((rc = want(ld, r, EAR_Y_MAP, "a route")) < 0 ||
            (rc = ear_ynode_check_keys(r, route_keys, ld->path, ld->err)) <
                0)
            return rc;
        cfg->nroutes = i + 1;
        if ((rc = req_str(ld, r, "team", "a route", &route->team)) < 0)
            return rc;
        if (cfg->nteams && !team_known(cfg, route->team)) {
            v = ear_ynode_get(r, "team");
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                 v->col, "route names team '%s', which is "
                                 "not in teams",
                                 route->team);
        }
        if ((rc = copy_strlist(ld, ear_ynode_get(r, "categories"),
                               "categories", &route->categories)) < 0 ||
            (rc = copy_strlist(ld, ear_ynode_get(r, "brands"), "brands",
                               &route->brands)) < 0 ||
            (rc = copy_strlist(ld, ear_ynode_get(r, "sources"), "sources",
                               &route->sources)) < 0)
            return rc;
        if ((rc = check_names(ld, ear_ynode_get(r, "brands"), route->brands,
                              'b')) < 0 ||
            (rc = check_names(ld, ear_ynode_get(r, "sources"),
                              route->sources, 's')) < 0)
            return rc;
        if (!route->categories && !route->brands && !route->sources)
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, r->line,
                                 r->col, "a route needs categories, brands "
                                 "or sources");
    }
    return 0;
}

static int load_sla(struct loader *ld, const struct ear_ynode *n)
{
    static const enum ear_severity sev[] = {EAR_SEV_CRITICAL, EAR_SEV_HIGH,
                                            EAR_SEV_MEDIUM, EAR_SEV_LOW};
    size_t i;
    int rc;

    if (!n)
        return 0;
    if ((rc = want(ld, n, EAR_Y_MAP, "sla")) < 0 ||
        (rc = ear_ynode_check_keys(n, sla_keys, ld->path, ld->err)) < 0)
        return rc;
    for (i = 0; i < 4; i++) {
        rc = ear_ynode_duration(&ld->cfg->sla[sev[i]],
                                ear_ynode_get(n, sla_keys[i]), ld->path,
                                sla_keys[i], ld->err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int load_sinks(struct loader *ld, const struct ear_ynode *n)
{
    struct ear_config *cfg = ld->cfg;
    const struct ear_ynode *v;
    size_t i, j;
    int rc;

    if (!n)
        return 0;
    if ((rc = want(ld, n, EAR_Y_SEQ, "sinks")) < 0)
        return rc;
    cfg->sinks = calloc(n->n ? n->n : 1, sizeof *cfg->sinks);
    if (!cfg->sinks)
        return oom(ld);
    for (i = 0; i < n->n; i++) {
        const struct ear_ynode *s = n->items[i];
        struct ear_sink_cfg *sink = &cfg->sinks[i];

        if ((rc = want(ld, s, EAR_Y_MAP, "a sink")) < 0 ||
            (rc = ear_ynode_check_keys(s, sink_keys, ld->path, ld->err)) < 0)
            return rc;
        cfg->nsinks = i + 1;
        sink->opts = s;
        sink->line = s->line;
        sink->col = s->col;
        if ((rc = req_str(ld, s, "name", "a sink", &sink->name)) < 0 ||
            (rc = req_str(ld, s, "type", "a sink", &sink->type)) < 0)
            return rc;
        if (!in_list(sink_types, sink->type)) {
            v = ear_ynode_get(s, "type");
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                 v->col, "unknown sink type '%s' (known: "
                                 "jsonl, webhook, slack, teams, mattermost, "
                                 "http, smtp)",
                                 sink->type);
        }
        for (j = 0; j < i; j++)
            if (strcmp(cfg->sinks[j].name, sink->name) == 0)
                return ear_error_set(ld->err, EAR_EINVAL, ld->path, s->line,
                                     s->col, "sink '%s' is defined twice",
                                     sink->name);
    }
    return 0;
}

static int load_root(struct loader *ld, const struct ear_ynode *root)
{
    struct ear_config *cfg = ld->cfg;
    const struct ear_ynode *v;
    char **rules = NULL;
    size_t i;
    int rc;

    if (!root)
        return 0; /* empty file: no sources, defaults everywhere */
    if ((rc = want(ld, root, EAR_Y_MAP, "the configuration")) < 0 ||
        (rc = ear_ynode_check_keys(root, top_keys, ld->path, ld->err)) < 0)
        return rc;
    v = ear_ynode_get(root, "store");
    if (v) {
        const char *s = NULL;
        if ((rc = ear_ynode_str(&s, v, ld->path, "store", ld->err)) < 0)
            return rc;
        if (!*s)
            return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line,
                                 v->col, "store must not be empty");
        cfg->store = resolve_path(cfg, s);
        if (!cfg->store)
            return oom(ld);
    }
    if ((rc = copy_strlist(ld, ear_ynode_get(root, "rules"), "rules",
                           &rules)) < 0) {
        free_strlist(rules);
        return rc;
    }
    if (rules) {
        for (i = 0; rules[i]; i++) {
            char *abs = resolve_path(cfg, rules[i]);
            if (!abs) {
                free_strlist(rules);
                return oom(ld);
            }
            free(rules[i]);
            rules[i] = abs;
        }
        cfg->rules = rules;
    }
    if ((rc = opt_str(ld, root, "contact", &cfg->contact)) < 0 ||
        (rc = load_brands(ld, ear_ynode_get(root, "brands"))) < 0 ||
        (rc = load_sources(ld, ear_ynode_get(root, "sources"))) < 0 ||
        (rc = load_teams(ld, ear_ynode_get(root, "teams"))) < 0 ||
        (rc = opt_str(ld, root, "default_team", &cfg->default_team)) < 0 ||
        (rc = load_routing(ld, ear_ynode_get(root, "routing"))) < 0 ||
        (rc = load_sla(ld, ear_ynode_get(root, "sla"))) < 0 ||
        (rc = load_sinks(ld, ear_ynode_get(root, "sinks"))) < 0)
        return rc;
    if (cfg->default_team && cfg->nteams &&
        !team_known(cfg, cfg->default_team)) {
        v = ear_ynode_get(root, "default_team");
        return ear_error_set(ld->err, EAR_EINVAL, ld->path, v->line, v->col,
                             "default_team '%s' is not in teams",
                             cfg->default_team);
    }
    v = ear_ynode_get(root, "fetch");
    if (v) {
        const struct {
            const char *key;
            long long min, max;
            long long *out;
        } limits[] = {
            {"max_connections", 1, 1024, &cfg->fetch_max_conns},
            {"max_per_host", 1, 256, &cfg->fetch_max_host},
            {"timeout", 1, 3600, &cfg->fetch_timeout},
            {"connect_timeout", 1, 600, &cfg->fetch_connect_timeout},
            {"max_body", 1024, (long long)1 << 31, &cfg->fetch_max_body},
        };
        size_t k;

        if ((rc = want(ld, v, EAR_Y_MAP, "fetch")) < 0 ||
            (rc = ear_ynode_check_keys(v, fetch_keys, ld->path, ld->err)) < 0)
            return rc;
        for (k = 0; k < sizeof limits / sizeof limits[0]; k++) {
            rc = ear_ynode_int(limits[k].out, ear_ynode_get(v, limits[k].key),
                               limits[k].min, limits[k].max, ld->path,
                               limits[k].key, ld->err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static void set_defaults(struct ear_config *cfg)
{
    cfg->sla[EAR_SEV_NONE] = 72 * 3600;
    cfg->sla[EAR_SEV_LOW] = 72 * 3600;
    cfg->sla[EAR_SEV_MEDIUM] = 24 * 3600;
    cfg->sla[EAR_SEV_HIGH] = 4 * 3600;
    cfg->sla[EAR_SEV_CRITICAL] = 3600;
}

int ear_config_empty(struct ear_config **out)
{
    struct ear_config *cfg = calloc(1, sizeof *cfg);

    *out = NULL;
    if (!cfg)
        return EAR_ENOMEM;
    set_defaults(cfg);
    cfg->dir = getcwd(NULL, 0);
    if (!cfg->dir) {
        free(cfg);
        return EAR_EIO;
    }
    *out = cfg;
    return 0;
}

int ear_config_load(struct ear_config **out, const char *path,
                    struct ear_error *err)
{
    struct ear_config *cfg = NULL;
    struct loader ld;
    char *real = NULL, *slash;
    int rc;

    *out = NULL;
    cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    set_defaults(cfg);
    cfg->path = strdup(path);
    if (!cfg->path) {
        rc = ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
        goto out;
    }
    rc = ear_yaml_load(&cfg->doc, path, err);
    if (rc < 0)
        goto out;
    rc = ear_yaml_expand_env(cfg->doc, err);
    if (rc < 0)
        goto out;
    real = realpath(path, NULL);
    if (!real) {
        rc = ear_error_set(err, EAR_EIO, path, 0, 0, "%s", strerror(errno));
        goto out;
    }
    slash = strrchr(real, '/');
    cfg->dir = slash == real ? strdup("/") : strndup(real, (size_t)(slash - real));
    if (!cfg->dir) {
        rc = ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
        goto out;
    }
    ld.cfg = cfg;
    ld.path = path;
    ld.err = err;
    rc = load_root(&ld, cfg->doc->root);
    if (rc < 0)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    free(real);
    ear_config_free(cfg);
    return rc;
}

void ear_config_free(struct ear_config *cfg)
{
    size_t i;

    if (!cfg)
        return;
    for (i = 0; i < cfg->nbrands; i++) {
        free(cfg->brands[i].name);
        free_strlist(cfg->brands[i].aliases);
        free_strlist(cfg->brands[i].exclude);
        free(cfg->brands[i].query);
    }
    free(cfg->brands);
    for (i = 0; i < cfg->nsources; i++) {
        free(cfg->sources[i].name);
        free(cfg->sources[i].url);
        free(cfg->sources[i].type);
        free(cfg->sources[i].brand);
        free(cfg->sources[i].lang);
    }
    free(cfg->sources);
    for (i = 0; i < cfg->nteams; i++) {
        free(cfg->teams[i].name);
        free_strlist(cfg->teams[i].members);
    }
    free(cfg->teams);
    for (i = 0; i < cfg->nroutes; i++) {
        free(cfg->routes[i].team);
        free_strlist(cfg->routes[i].categories);
        free_strlist(cfg->routes[i].brands);
        free_strlist(cfg->routes[i].sources);
    }
    free(cfg->routes);
    for (i = 0; i < cfg->nsinks; i++) {
        free(cfg->sinks[i].name);
        free(cfg->sinks[i].type);
    }
    free(cfg->sinks);
    free_strlist(cfg->rules);
    free(cfg->default_team);
    free(cfg->contact);
    free(cfg->store);
    free(cfg->dir);
    free(cfg->path);
    ear_yaml_free(cfg->doc);
    free(cfg);
}

const struct ear_source_cfg *ear_config_source(const struct ear_config *cfg,
                                               const char *name)
{
    size_t i;

    for (i = 0; i < cfg->nsources; i++)
        if (cfg->sources[i].name && strcmp(cfg->sources[i].name, name) == 0)
            return &cfg->sources[i];
    return NULL;
}

int ear_source_silent(const struct ear_source_cfg *src,
                      const struct ear_source_state *st, int64_t now)
{
    int64_t every = 0;

    if (!src->enabled || !st->last_success ||
        ear_ynode_duration(&every, ear_ynode_get(src->opts, "expected_every"),
                           NULL, "expected_every", NULL) < 0 ||
        every <= 0)
        return 0;
    if (!st->last_new)
        return 1;
    return now - st->last_new > every;
}

const struct ear_brand *ear_config_brand(const struct ear_config *cfg,
                                         const char *name)
{
    size_t i;

    for (i = 0; i < cfg->nbrands; i++)
        if (cfg->brands[i].name && strcasecmp(cfg->brands[i].name, name) == 0)
            return &cfg->brands[i];
    return NULL;
}

static int file_exists(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *ear_config_locate(const char *path, struct ear_error *err)
{
    const char *env = getenv("EARSHOT_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    struct ear_buf b;

    if (path) {
        if (file_exists(path))
            return strdup(path);
        ear_error_set(err, EAR_ENOTFOUND, path, 0, 0,
                      "config file not found");
        return NULL;
    }
    if (env && *env) {
        if (file_exists(env))
            return strdup(env);
        ear_error_set(err, EAR_ENOTFOUND, env, 0, 0,
                      "config file named by $EARSHOT_CONFIG not found");
        return NULL;
    }
    if (file_exists("earshot.yml"))
        return strdup("earshot.yml");
    ear_buf_init(&b, PATH_MAX * 2);
    if (xdg && *xdg)
        ear_buf_addf(&b, "%s/earshot/earshot.yml", xdg);
    else if (home && *home)
        ear_buf_addf(&b, "%s/.config/earshot/earshot.yml", home);
    if (b.len && file_exists(ear_buf_str(&b)))
        return ear_buf_take(&b, NULL);
    ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                  "no config file: give --config FILE, set $EARSHOT_CONFIG, "
                  "or create ./earshot.yml or %s",
                  b.len ? ear_buf_str(&b) : "~/.config/earshot/earshot.yml");
    ear_buf_dispose(&b);
    return NULL;
}

char *ear_default_store_path(void)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    struct ear_buf b;

    ear_buf_init(&b, PATH_MAX * 2);
    if (xdg && *xdg)
        ear_buf_addf(&b, "%s/earshot/earshot.db", xdg);
    else
        ear_buf_addf(&b, "%s/.local/share/earshot/earshot.db",
                     home && *home ? home : ".");
    return ear_buf_take(&b, NULL);
}
