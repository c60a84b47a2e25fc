/*
 * Users of the web inbox: the config's users: list and the store's users
 * table, merged by name (case-insensitively), and their crypt(3) hashes.
 *
 * The config is what an administrator declares (name, team, role and,
 * optionally, a password_hash, which may come from ${VAR}); the store is
 * what `earshot user add|passwd` write, because a program rewriting a
 * hand-edited YAML file loses its comments and layout. For a name in both,
 * team and role come from the config and the password from the store when
 * it has one (so `earshot user passwd` works for every user).
 *
 * Hashing is libxcrypt's: crypt_gensalt_rn() with the yescrypt prefix and
 * its own random bytes, crypt_rn() to hash and to verify.
 */
#include <crypt.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "output/web/web_int.h"

static const char *const user_keys[] = {"name", "team", "role",
                                        "password_hash", NULL};

const char *ear_role_name(enum ear_role r)
{
    switch (r) {
    case EAR_ROLE_AGENT: return "agent";
    case EAR_ROLE_LEAD: return "lead";
    case EAR_ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

int ear_role_parse(enum ear_role *out, const char *name)
{
    if (name && strcmp(name, "agent") == 0)
        *out = EAR_ROLE_AGENT;
    else if (name && strcmp(name, "lead") == 0)
        *out = EAR_ROLE_LEAD;
    else if (name && strcmp(name, "admin") == 0)
        *out = EAR_ROLE_ADMIN;
    else
        return EAR_EINVAL;
    return 0;
}

int ear_web__name_ok(const char *name)
{
    size_t n = 0;

    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;

        if (!isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@')
            return 0;
    }
    return n <= 64;
}

void ear_web_user_dispose(struct ear_web_user *u)
{
    if (!u)
        return;
    free(u->name);
    free(u->team);
    free(u->password_hash);
    memset(u, 0, sizeof *u);
}

void ear_web_users_free(struct ear_web_user *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ear_web_user_dispose(&v[i]);
    free(v);
}

static int user_copy(struct ear_web_user *dst, const struct ear_web_user *src)
{
    *dst = *src;
    dst->name = ear_strdup(src->name);
    dst->team = ear_strdup(src->team);
    dst->password_hash = ear_strdup(src->password_hash);
    if (!dst->name || (src->team && !dst->team) ||
        (src->password_hash && !dst->password_hash)) {
        ear_web_user_dispose(dst);
        return EAR_ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------ passwords */

int ear_web_password_ok(const char *password, struct ear_error *err)
{
    size_t n;

    if (!password)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "no password");
    n = strlen(password);
    if (n < 8)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "password too short (at least 8 characters)");
    if (n > 1024)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "password too long (at most 1024 bytes)");
    if (!ear_utf8_valid(password, n))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "password is not valid UTF-8");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
            return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                                 "password contains a control character");
    return 0;
}

int ear_web_password_hash(char **out, const char *password,
                          struct ear_error *err)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = NULL;
    const char *h;
    int rc;

    *out = NULL;
    rc = ear_web_password_ok(password, err);
    if (rc < 0)
        return rc;
    /* NULL random bytes: libxcrypt reads the system's random source. */
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting) &&
        !crypt_gensalt_rn("$6$", 0, NULL, 0, setting, sizeof setting))
        return ear_error_set(err, EAR_EIO, NULL, 0, 0,
                             "cannot make a password salt");
    cd = calloc(1, sizeof *cd);
    if (!cd)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    h = crypt_rn(password, setting, cd, (int)sizeof *cd);
    if (!h || h[0] == '*') {
        rc = ear_error_set(err, EAR_EIO, NULL, 0, 0,
                           "crypt(3) could not hash the password");
        goto out;
    }
    *out = ear_strdup(h);
    if (!*out)
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
out:
    if (cd) {
        OPENSSL_cleanse(cd, sizeof *cd);
        free(cd);
    }
    return rc;
}

int ear_web_password_verify(const char *hash, const char *password)
{
    struct crypt_data *cd;
    const char *h;
    int ok = 0;

    if (!hash || !password || hash[0] != '$' ||
        crypt_checksalt(hash) != CRYPT_SALT_OK)
        return 0;
    cd = calloc(1, sizeof *cd);
    if (!cd)
        return 0;
    h = crypt_rn(password, hash, cd, (int)sizeof *cd);
    if (h && h[0] != '*' && strlen(h) == strlen(hash))
        ok = CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
    OPENSSL_cleanse(cd, sizeof *cd);
    free(cd);
    return ok;
}

/* ------------------------------------------------------------ config */

static int has_team(const struct ear_config *cfg, const char *team)
{
    for (size_t i = 0; i < cfg->nteams; i++)
        if (strcasecmp(cfg->teams[i].name, team) == 0)
            return 1;
    return 0;
}

static int read_user(struct ear_web_user *u, const struct ear_config *cfg,
                     const struct ear_ynode *n, struct ear_error *err)
{
    const char *path = cfg->path;
    const char *name = NULL, *team = NULL, *role = NULL, *hash = NULL;
    const struct ear_ynode *nn;
    int rc;

    if (n->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "users: each user is a map (name, team, role, "
                             "password_hash)");
    if ((rc = ear_ynode_check_keys(n, user_keys, path, err)) < 0 ||
        (rc = ear_ynode_str(&name, ear_ynode_get(n, "name"), path,
                            "users: name", err)) < 0 ||
        (rc = ear_ynode_str(&team, ear_ynode_get(n, "team"), path,
                            "users: team", err)) < 0 ||
        (rc = ear_ynode_str(&role, ear_ynode_get(n, "role"), path,
                            "users: role", err)) < 0 ||
        (rc = ear_ynode_str(&hash, ear_ynode_get(n, "password_hash"), path,
                            "users: password_hash", err)) < 0)
        return rc;
    if (!name)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "users: a user needs a name");
    nn = ear_ynode_get(n, "name");
    if (!ear_web__name_ok(name))
        return ear_error_set(err, EAR_EINVAL, path, nn->line, nn->col,
                             "users: bad name '%s' (1-64 letters, digits, "
                             "'.', '_', '-', '@')", name);
    memset(u, 0, sizeof *u);
    u->line = nn->line;
    u->col = nn->col;
    u->in_config = 1;
    u->role = EAR_ROLE_AGENT;
    if (role && ear_role_parse(&u->role, role) < 0) {
        nn = ear_ynode_get(n, "role");
        return ear_error_set(err, EAR_EINVAL, path, nn->line, nn->col,
                             "users: unknown role '%s' (expected agent, "
                             "lead or admin)", role);
    }
    if (team && *team && cfg->nteams > 0 && !has_team(cfg, team)) {
        nn = ear_ynode_get(n, "team");
        return ear_error_set(err, EAR_EINVAL, path, nn->line, nn->col,
                             "users: unknown team '%s' (not in teams:)",
                             team);
    }
    if (hash && *hash && (hash[0] != '$' ||
                          crypt_checksalt(hash) != CRYPT_SALT_OK)) {
        nn = ear_ynode_get(n, "password_hash");
        return ear_error_set(err, EAR_EINVAL, path, nn->line, nn->col,
                             "users: password_hash of '%s' is not a "
                             "crypt(3) hash this system accepts (make one "
                             "with 'earshot user hash')", name);
    }
    u->name = ear_strdup(name);
    u->team = team && *team ? ear_strdup(team) : NULL;
    u->password_hash = hash && *hash ? ear_strdup(hash) : NULL;
    if (!u->name || (team && *team && !u->team) ||
        (hash && *hash && !u->password_hash)) {
        ear_web_user_dispose(u);
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    return 0;
}

int ear_web__config_users(struct ear_web_user **out, size_t *n,
                          const struct ear_config *cfg, struct ear_error *err)
{
    const struct ear_ynode *root, *list;
    struct ear_web_user *v = NULL;
    size_t nv = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    root = cfg && cfg->doc ? cfg->doc->root : NULL;
    list = ear_ynode_get(root, "users");
    if (!list)
        return 0;
    if (list->type != EAR_Y_SEQ)
        return ear_error_set(err, EAR_EINVAL, cfg->path, list->line,
                             list->col, "users: expected a list of users");
    v = calloc(list->n ? list->n : 1, sizeof *v);
    if (!v)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < list->n; i++) {
        rc = read_user(&v[nv], cfg, list->items[i], err);
        if (rc < 0)
            goto out;
        nv++;
        for (size_t j = 0; j + 1 < nv; j++) {
            if (strcasecmp(v[j].name, v[nv - 1].name) == 0) {
                rc = ear_error_set(err, EAR_EINVAL, cfg->path,
                                   v[nv - 1].line, v[nv - 1].col,
                                   "users: '%s' is listed twice (first at "
                                   "line %d)", v[nv - 1].name, v[j].line);
                goto out;
            }
        }
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    ear_web_users_free(v, nv);
    return rc;
}

int ear_web_check_config(const struct ear_config *cfg, struct ear_error *err)
{
    struct web_settings *s = NULL;
    int rc = ear_web__settings_new(&s, cfg, err);

    ear_web__settings_free(s);
    return rc;
}

/* ------------------------------------------------------------ store */

static int db_err(struct ear_store *st, struct ear_error *err,
                  const char *what)
{
    return ear_store_error(st, err, what);
}

/* The store's row for name into u (fields only; in_store set). 1 when
 * found, 0 when not, or a negative error. */
static int store_row(struct ear_web_user *u, struct ear_store *st,
                     const char *name, struct ear_error *err)
{
    static const char sql[] =
        "SELECT name, team, role, password_hash, updated FROM users "
        "WHERE name = ?1";
    struct sqlite3_stmt *s;
    const char *role;
    int rc, step;

    rc = ear_store_stmt(st, &s, sql, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(s);
    if (step == SQLITE_DONE) {
        sqlite3_reset(s);
        return 0;
    }
    if (step != SQLITE_ROW) {
        rc = db_err(st, err, "read user");
        sqlite3_reset(s);
        return rc;
    }
    memset(u, 0, sizeof *u);
    u->in_store = 1;
    u->name = ear_strdup((const char *)sqlite3_column_text(s, 0));
    u->team = ear_strdup((const char *)sqlite3_column_text(s, 1));
    role = (const char *)sqlite3_column_text(s, 2);
    if (ear_role_parse(&u->role, role) < 0)
        u->role = EAR_ROLE_NONE;
    u->password_hash = ear_strdup((const char *)sqlite3_column_text(s, 3));
    u->updated = sqlite3_column_int64(s, 4);
    sqlite3_reset(s);
    if (!u->name) {
        ear_web_user_dispose(u);
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    return 1;
}

static const struct ear_web_user *config_user(const struct ear_web_user *cu,
                                              size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(cu[i].name, name) == 0)
            return &cu[i];
    return NULL;
}

/* Merges the store row s (may be NULL) into a copy of the config user c
 * (may be NULL). */
static int merge(struct ear_web_user *out, const struct ear_web_user *c,
                 struct ear_web_user *s)
{
    if (!c) {
        *out = *s;
        memset(s, 0, sizeof *s);
        return 0;
    }
    if (user_copy(out, c) < 0)
        return EAR_ENOMEM;
    if (s) {
        out->in_store = 1;
        out->updated = s->updated;
        if (s->password_hash) {
            free(out->password_hash);
            out->password_hash = s->password_hash;
            s->password_hash = NULL;
        }
    }
    return 0;
}

int ear_web__user_find(struct ear_web_user *out,
                       const struct ear_web_user *cusers, size_t ncusers,
                       struct ear_store *st, const char *name,
                       struct ear_error *err)
{
    const struct ear_web_user *c;
    struct ear_web_user s;
    int found, rc;

    memset(out, 0, sizeof *out);
    if (!name || !*name)
        return ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0, "no user name");
    c = config_user(cusers, ncusers, name);
    memset(&s, 0, sizeof s);
    found = st ? store_row(&s, st, name, err) : 0;
    if (found < 0)
        return found;
    if (!c && !found)
        return ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                             "no user '%s'", name);
    rc = merge(out, c, found ? &s : NULL);
    ear_web_user_dispose(&s);
    if (rc < 0)
        return ear_error_set(err, rc, NULL, 0, 0, "out of memory");
    return 0;
}

int ear_web__users_merge(struct ear_web_user **out, size_t *n,
                         const struct ear_web_user *cusers, size_t ncusers,
                         struct ear_store *st, struct ear_error *err)
{
    static const char sql[] =
        "SELECT name, team, role, password_hash, updated FROM users "
        "ORDER BY name";
    struct sqlite3_stmt *s = NULL;
    struct ear_web_user *v = NULL;
    size_t nv = 0, cap = ncusers + 16;
    int rc = 0, step;

    *out = NULL;
    *n = 0;
    v = calloc(cap, sizeof *v);
    if (!v)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < ncusers; i++) {
        if (user_copy(&v[nv], &cusers[i]) < 0) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
        nv++;
    }
    if (!st)
        goto done;
    rc = ear_store_stmt(st, &s, sql, err);
    if (rc < 0)
        goto out;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *hash = (const char *)sqlite3_column_text(s, 3);
        struct ear_web_user *u = NULL;

        for (size_t i = 0; i < ncusers; i++)
            if (name && strcasecmp(v[i].name, name) == 0)
                u = &v[i];
        if (u) {
            u->in_store = 1;
            u->updated = sqlite3_column_int64(s, 4);
            if (hash && ear_str_set(&u->password_hash, hash) < 0) {
                rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                                   "out of memory");
                goto out;
            }
            continue;
        }
        u = ear_grow(v, &cap, nv, sizeof *v, 8);
        if (!u) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
        v = u;
        u = &v[nv];
        memset(u, 0, sizeof *u);
        u->in_store = 1;
        u->name = ear_strdup(name);
        u->team = ear_strdup((const char *)sqlite3_column_text(s, 1));
        if (ear_role_parse(&u->role,
                           (const char *)sqlite3_column_text(s, 2)) < 0)
            u->role = EAR_ROLE_NONE;
        u->password_hash = ear_strdup(hash);
        u->updated = sqlite3_column_int64(s, 4);
        nv++;
        if (!u->name) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, "list users");
        goto out;
    }
done:
    if (nv == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    if (s)
        sqlite3_reset(s);
    ear_web_users_free(v, nv);
    return rc;
}

int ear_web_users_list(struct ear_web_user **out, size_t *n,
                       const struct ear_config *cfg, struct ear_store *st,
                       struct ear_error *err)
{
    struct ear_web_user *cu = NULL;
    size_t ncu = 0;
    int rc;

    *out = NULL;
    *n = 0;
    rc = ear_web__config_users(&cu, &ncu, cfg, err);
    if (rc == 0)
        rc = ear_web__users_merge(out, n, cu, ncu, st, err);
    ear_web_users_free(cu, ncu);
    return rc;
}

int ear_web_user_get(struct ear_web_user *out, const struct ear_config *cfg,
                     struct ear_store *st, const char *name,
                     struct ear_error *err)
{
    struct ear_web_user *cu = NULL;
    size_t ncu = 0;
    int rc;

    memset(out, 0, sizeof *out);
    rc = ear_web__config_users(&cu, &ncu, cfg, err);
    if (rc == 0)
        rc = ear_web__user_find(out, cu, ncu, st, name, err);
    ear_web_users_free(cu, ncu);
    return rc;
}

int ear_web_user_add(struct ear_store *st, const struct ear_config *cfg,
                     const char *name, const char *team, enum ear_role role,
                     const char *password, struct ear_error *err)
{
    static const char sql[] =
        "INSERT INTO users (name, team, role, password_hash, created,"
        " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
    struct ear_web_user *cu = NULL;
    struct ear_web_user row;
    const struct ear_web_user *c;
    struct sqlite3_stmt *s;
    size_t ncu = 0;
    char *hash = NULL;
    int rc, found;

    memset(&row, 0, sizeof row);
    if (!ear_web__name_ok(name))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "bad user name '%s' (1-64 letters, digits, "
                             "'.', '_', '-', '@')", name ? name : "");
    if (role == EAR_ROLE_NONE)
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "a user needs a role (agent, lead or admin)");
    if (team && *team && cfg && cfg->nteams > 0 && !has_team(cfg, team))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "unknown team '%s' (the config's teams: "
                             "list does not have it)", team);
    rc = ear_web__config_users(&cu, &ncu, cfg, err);
    if (rc < 0)
        goto out;
    c = config_user(cu, ncu, name);
    if (c) {
        rc = ear_error_set(err, EAR_ESTATE, cfg->path, c->line, c->col,
                           "user '%s' is defined in the config: change "
                           "team and role there, the password with "
                           "'earshot user passwd'", c->name);
        goto out;
    }
    found = store_row(&row, st, name, err);
    if (found < 0) {
        rc = found;
        goto out;
    }
    if (found) {
        rc = ear_error_set(err, EAR_ESTATE, NULL, 0, 0,
                           "user '%s' exists already (change the password "
                           "with 'earshot user passwd')", row.name);
        goto out;
    }
    rc = ear_web_password_hash(&hash, password, err);
    if (rc < 0)
        goto out;
    rc = ear_store_stmt(st, &s, sql, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    if (team && *team)
        sqlite3_bind_text(s, 2, team, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, ear_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)ear_now());
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_err(st, err, "add user");
    sqlite3_reset(s);
out:
    free(hash);
    ear_web_user_dispose(&row);
    ear_web_users_free(cu, ncu);
    return rc;
}

int ear_web_user_passwd(struct ear_store *st, const struct ear_config *cfg,
                        const char *name, const char *password,
                        struct ear_error *err)
{
    static const char sql[] =
        "INSERT INTO users (name, password_hash, created, updated)"
        " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET"
        " password_hash = excluded.password_hash,"
        " updated = excluded.updated";
    struct ear_web_user u;
    struct sqlite3_stmt *s;
    char *hash = NULL;
    int rc;

    rc = ear_web_user_get(&u, cfg, st, name, err);
    if (rc < 0)
        return rc;
    rc = ear_web_password_hash(&hash, password, err);
    if (rc < 0)
        goto out;
    rc = ear_store_stmt(st, &s, sql, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_text(s, 1, u.name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)ear_now());
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_err(st, err, "set password");
    sqlite3_reset(s);
out:
    free(hash);
    ear_web_user_dispose(&u);
    return rc;
}

int ear_web_user_remove(struct ear_store *st, const struct ear_config *cfg,
                        const char *name, struct ear_error *err)
{
    static const char sql[] = "DELETE FROM users WHERE name = ?1";
    struct ear_web_user u;
    struct sqlite3_stmt *s;
    int rc;

    rc = ear_web_user_get(&u, cfg, st, name, err);
    if (rc < 0)
        return rc;
    if (u.in_config) {
        rc = ear_error_set(err, EAR_ESTATE, cfg ? cfg->path : NULL, u.line,
                           u.col, "user '%s' is defined in the config: "
                           "remove it there", u.name);
        goto out;
    }
    rc = ear_store_stmt(st, &s, sql, err);
    if (rc < 0)
        goto out;
    sqlite3_bind_text(s, 1, u.name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_err(st, err, "remove user");
    sqlite3_reset(s);
out:
    ear_web_user_dispose(&u);
    return rc;
}
