/*
 * web: the triage inbox in a browser, part of the output stage.
 *
 * An embedded HTTP server (libmicrohttpd, its own threads) serves one page
 * (HTML, CSS and JavaScript compiled into the binary) and the JSON API the
 * page is built on, over the same store that `earshot run` and `watch`
 * write. Each server thread opens its own connection to the store by path;
 * the caller's struct ear_store is never touched from another thread.
 *
 * Who may log in comes from two places (docs/web.md): the config's
 * top-level `users:` list and the store's users table, which `earshot user
 * add|passwd` write. Passwords are crypt(3) hashes (yescrypt).
 *
 * Like every module this one never prints and never exits.
 */
#ifndef EAR_WEB_H
#define EAR_WEB_H

#include <stddef.h>
#include <stdint.h>
#include "core/core.h"

/* ------------------------------------------------------------ users */

enum ear_role {
    EAR_ROLE_NONE = 0,
    EAR_ROLE_AGENT = 1,  /* works items: their own, unowned ones */
    EAR_ROLE_LEAD = 2,   /* any item, assigns to anyone */
    EAR_ROLE_ADMIN = 3   /* as lead (users are managed on the command line) */
};

/* "agent", "lead", "admin" ("none" for EAR_ROLE_NONE). */
const char *ear_role_name(enum ear_role r);
/* EAR_EINVAL for anything else. */
int ear_role_parse(enum ear_role *out, const char *name);

/* One user as the server sees it, merged from the config and the store.
 * Strings owned, NULL when absent. */
struct ear_web_user {
    char *name;
    char *team;
    enum ear_role role;
    char *password_hash;  /* crypt(3) string; NULL = cannot log in */
    int in_config;        /* defined in the config's users: list */
    int in_store;         /* has a row in the store's users table */
    int line;             /* position in the config, 0 when not there */
    int col;
    int64_t updated;      /* store row's last change, 0 when none */
};

void ear_web_user_dispose(struct ear_web_user *u);
void ear_web_users_free(struct ear_web_user *v, size_t n);

/* Checks the config's users: list (a sequence of maps with name, team,
 * role agent|lead|admin, password_hash) and its serve: map (docs/web.md).
 * Names are unique (case-insensitively); a team must be one of the
 * config's teams when the config names any; a password_hash must be a
 * crypt(3) setting this system can verify. EAR_EINVAL with path:line:col.
 * cfg may have neither section. */
int ear_web_check_config(const struct ear_config *cfg, struct ear_error *err);

/* Every user (config first in config order, then the store's others by
 * name). New *out (NULL when *n is 0): ear_web_users_free(). cfg may be
 * NULL. Errors: EAR_EINVAL (config), EAR_EDB, EAR_ENOMEM. */
int ear_web_users_list(struct ear_web_user **out, size_t *n,
                       const struct ear_config *cfg, struct ear_store *st,
                       struct ear_error *err);
/* One user by name (case-insensitive). *out is caller-owned (dispose it).
 * EAR_ENOTFOUND when neither the config nor the store has it. */
int ear_web_user_get(struct ear_web_user *out, const struct ear_config *cfg,
                     struct ear_store *st, const char *name,
                     struct ear_error *err);

/* Adds a user to the store with a new password. name: 1-64 characters of
 * letters, digits, '.', '_', '-', '@'. team may be NULL. Refused
 * (EAR_ESTATE) when the name exists in the store or in the config (whose
 * users are changed in the config). Password rules: see
 * ear_web_password_ok(). Errors: EAR_EINVAL, EAR_ESTATE, EAR_EDB. */
int ear_web_user_add(struct ear_store *st, const struct ear_config *cfg,
                     const char *name, const char *team, enum ear_role role,
                     const char *password, struct ear_error *err);
/* Sets a user's password. For a user of the config this stores a hash in
 * the store that takes precedence over the config's password_hash.
 * EAR_ENOTFOUND for an unknown user. */
int ear_web_user_passwd(struct ear_store *st, const struct ear_config *cfg,
                        const char *name, const char *password,
                        struct ear_error *err);
/* Removes a user's store row (a user of the config stays: EAR_ESTATE).
 * EAR_ENOTFOUND when there is no such row. */
int ear_web_user_remove(struct ear_store *st, const struct ear_config *cfg,
                        const char *name, struct ear_error *err);

/* 0 when password is acceptable: 8 to 1024 bytes of valid UTF-8 with no
 * control characters; else EAR_EINVAL with the reason in err. */
int ear_web_password_ok(const char *password, struct ear_error *err);
/* A new crypt(3) hash of password with a fresh random salt, yescrypt
 * ("$y$") or SHA-512 ("$6$") where yescrypt is missing. New *out: free().
 * Errors: EAR_EINVAL (password), EAR_EIO (no randomness, crypt failed). */
int ear_web_password_hash(char **out, const char *password,
                          struct ear_error *err);
/* 1 when password matches hash, else 0 (also for a NULL or malformed
 * hash). Constant time in the comparison. */
int ear_web_password_verify(const char *hash, const char *password);

/* ------------------------------------------------------------ server */

struct ear_web; /* opaque: the running server */

struct ear_web_opts {
    const char *listen;     /* "127.0.0.1:8080", "[::1]:8080", "host:port";
                               NULL = the config's serve.listen, else
                               127.0.0.1:8080. Port 0 picks a free one. */
    const char *store_path; /* the store the threads open (required) */
    unsigned threads;       /* 0 = the config's serve.threads, else 4 */
};

#define EAR_WEB_OPTS_INIT {NULL, NULL, 0}

/* Starts the server in threads of its own and returns at once; the caller
 * carries on with its own loop (earshot serve waits for a signal, earshot
 * watch polls its sources). Copies what it needs from cfg (users, teams,
 * serve options): cfg may be freed afterwards. Signals are blocked in the
 * server's threads, so the caller's handlers run in the caller's thread.
 * New *out: stop with ear_web_stop(). Errors: EAR_EINVAL (options,
 * config), EAR_EIO (cannot listen: address in use, permission), EAR_EDB
 * (cannot open the store). */
int ear_web_start(struct ear_web **out, const struct ear_config *cfg,
                  const struct ear_web_opts *opts, struct ear_error *err);
/* After the caller reloaded its config: takes the new users, teams and
 * serve options (the listen address and thread count stay). Sessions of
 * users who no longer exist end at their next request. On error the old
 * settings stay. */
int ear_web_reconfigure(struct ear_web *w, const struct ear_config *cfg,
                        struct ear_error *err);
/* The address it listens on, as a URL ("http://127.0.0.1:8080/").
 * Borrowed, valid until ear_web_stop(). */
const char *ear_web_url(const struct ear_web *w);
/* The port it listens on (the real one when 0 was asked for). */
int ear_web_port(const struct ear_web *w);
/* Stops accepting, finishes the requests in flight, joins the threads,
 * closes the store connections and frees w. NULL is fine. */
void ear_web_stop(struct ear_web *w);

#endif
