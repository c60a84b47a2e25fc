/*
 * What the server takes from the config, checked and copied so that the
 * config can be freed or reloaded while the server runs: the users: list,
 * the teams and their members (for "assign to a teammate") and the serve:
 * map:
 *
 *   serve:
 *     listen: 127.0.0.1:8080
 *     threads: 4
 *     trusted_proxies: [127.0.0.1]   # may set X-Forwarded-For / -Proto
 *     session_idle: 12h
 *     session_max: 7d
 *     login_attempts: 5              # failures per window, per user and
 *     login_window: 15m              # per client address
 *     secure_cookie: auto            # auto | always | never
 *     title: Acme service inbox
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "output/web/web_int.h"

static const char *const serve_keys[] = {
    "listen", "threads", "trusted_proxies", "session_idle", "session_max",
    "login_attempts", "login_window", "secure_cookie", "title", NULL};

void ear_web__settings_free(struct web_settings *s)
{
    if (!s)
        return;
    ear_web_users_free(s->users, s->nusers);
    for (size_t i = 0; i < s->nteams; i++) {
        free(s->teams[i].name);
        for (size_t j = 0; s->teams[i].members && s->teams[i].members[j];
             j++)
            free(s->teams[i].members[j]);
        free(s->teams[i].members);
    }
    free(s->teams);
    free(s->listen);
    for (size_t i = 0; i < s->ntrusted; i++)
        free(s->trusted[i]);
    free(s->trusted);
    free(s->title);
    free(s);
}

static int copy_teams(struct web_settings *s, const struct ear_config *cfg)
{
    if (!cfg || cfg->nteams == 0)
        return 0;
    s->teams = calloc(cfg->nteams, sizeof *s->teams);
    if (!s->teams)
        return EAR_ENOMEM;
    s->nteams = cfg->nteams;
    for (size_t i = 0; i < cfg->nteams; i++) {
        size_t n = 0;

        while (cfg->teams[i].members && cfg->teams[i].members[n])
            n++;
        s->teams[i].name = ear_strdup(cfg->teams[i].name);
        s->teams[i].members = calloc(n + 1, sizeof (char *));
        if (!s->teams[i].name || !s->teams[i].members)
            return EAR_ENOMEM;
        for (size_t j = 0; j < n; j++) {
            s->teams[i].members[j] = ear_strdup(cfg->teams[i].members[j]);
            if (!s->teams[i].members[j])
                return EAR_ENOMEM;
        }
    }
    return 0;
}

static int address_ok(const char *a)
{
    unsigned char buf[sizeof (struct in6_addr)];

    return inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1;
}

static int read_serve(struct web_settings *s, const struct ear_config *cfg,
                      const struct ear_ynode *n, struct ear_error *err)
{
    const char *path = cfg->path;
    const char *listen = NULL, *secure = NULL, *title = NULL;
    const struct ear_ynode *t;
    long long threads = 0, attempts = s->login_attempts;
    const char **list = NULL;
    size_t nlist = 0;
    int rc;

    if (n->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "serve: expected a map");
    if ((rc = ear_ynode_check_keys(n, serve_keys, path, err)) < 0 ||
        (rc = ear_ynode_str(&listen, ear_ynode_get(n, "listen"), path,
                            "serve: listen", err)) < 0 ||
        (rc = ear_ynode_int(&threads, ear_ynode_get(n, "threads"), 1, 64,
                            path, "serve: threads", err)) < 0 ||
        (rc = ear_ynode_duration(&s->session_idle,
                                 ear_ynode_get(n, "session_idle"), path,
                                 "serve: session_idle", err)) < 0 ||
        (rc = ear_ynode_duration(&s->session_max,
                                 ear_ynode_get(n, "session_max"), path,
                                 "serve: session_max", err)) < 0 ||
        (rc = ear_ynode_int(&attempts, ear_ynode_get(n, "login_attempts"),
                            1, 1000, path, "serve: login_attempts",
                            err)) < 0 ||
        (rc = ear_ynode_duration(&s->login_window,
                                 ear_ynode_get(n, "login_window"), path,
                                 "serve: login_window", err)) < 0 ||
        (rc = ear_ynode_str(&secure, ear_ynode_get(n, "secure_cookie"), path,
                            "serve: secure_cookie", err)) < 0 ||
        (rc = ear_ynode_str(&title, ear_ynode_get(n, "title"), path,
                            "serve: title", err)) < 0)
        return rc;
    s->threads = (long)threads;
    s->login_attempts = (long)attempts;
    if (s->session_idle <= 0 || s->session_max <= 0 || s->login_window <= 0)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "serve: session_idle, session_max and "
                             "login_window must be positive");
    if (secure) {
        if (strcmp(secure, "auto") == 0)
            s->secure_cookie = -1;
        else if (strcmp(secure, "always") == 0)
            s->secure_cookie = 1;
        else if (strcmp(secure, "never") == 0)
            s->secure_cookie = 0;
        else {
            t = ear_ynode_get(n, "secure_cookie");
            return ear_error_set(err, EAR_EINVAL, path, t->line, t->col,
                                 "serve: secure_cookie is auto, always or "
                                 "never, not '%s'", secure);
        }
    }
    if (listen && (s->listen = ear_strdup(listen)) == NULL)
        return EAR_ENOMEM;
    if (title && (s->title = ear_strdup(title)) == NULL)
        return EAR_ENOMEM;
    t = ear_ynode_get(n, "trusted_proxies");
    rc = ear_ynode_strlist(&list, &nlist, t, path, "serve: trusted_proxies",
                           err);
    if (rc < 0)
        return rc;
    if (nlist) {
        s->trusted = calloc(nlist, sizeof (char *));
        if (!s->trusted) {
            free(list);
            return EAR_ENOMEM;
        }
    }
    for (size_t i = 0; i < nlist; i++) {
        if (!address_ok(list[i])) {
            const struct ear_ynode *item =
                t->type == EAR_Y_SEQ ? t->items[i] : t;

            rc = ear_error_set(err, EAR_EINVAL, path, item->line, item->col,
                               "serve: trusted_proxies: '%s' is not an IP "
                               "address", list[i]);
            break;
        }
        s->trusted[s->ntrusted] = ear_strdup(list[i]);
        if (!s->trusted[s->ntrusted]) {
            rc = EAR_ENOMEM;
            break;
        }
        s->ntrusted++;
    }
    free(list);
    return rc;
}

int ear_web__settings_new(struct web_settings **out,
                          const struct ear_config *cfg,
                          struct ear_error *err)
{
    struct web_settings *s;
    const struct ear_ynode *root, *n;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    s->session_idle = 12 * 3600;
    s->session_max = 7 * 86400;
    s->login_attempts = 5;
    s->login_window = 15 * 60;
    s->secure_cookie = -1;
    rc = ear_web__config_users(&s->users, &s->nusers, cfg, err);
    if (rc < 0)
        goto out;
    rc = copy_teams(s, cfg);
    if (rc < 0)
        goto out;
    root = cfg && cfg->doc ? cfg->doc->root : NULL;
    n = ear_ynode_get(root, "serve");
    if (n) {
        rc = read_serve(s, cfg, n, err);
        if (rc < 0)
            goto out;
    }
    *out = s;
    s = NULL;
out:
    if (rc == EAR_ENOMEM)
        ear_error_set(err, rc, NULL, 0, 0, "out of memory");
    ear_web__settings_free(s);
    return rc;
}
