/* Users of the web inbox: passwords (crypt(3)), the config's users: and
 * serve: sections, and the store's users table merged with the config. */
#include <string.h>

#include "output/fixture.h"
#include "output/web/web.h"

static int load_err(const char *name, const char *yaml,
                    struct ear_error *err)
{
    struct ear_config *cfg = NULL;
    char path[1200];
    FILE *f;
    int rc;

    snprintf(path, sizeof path, "%s", fx_path(name));
    f = fopen(path, "w");
    if (!f)
        return -100;
    fputs(yaml, f);
    fclose(f);
    ear_error_clear(err);
    rc = ear_config_load(&cfg, path, err);
    if (rc == 0)
        rc = ear_web_check_config(cfg, err);
    ear_config_free(cfg);
    return rc;
}

static void test_passwords(void)
{
    struct ear_error err;
    char *h1 = NULL, *h2 = NULL;

    CHECK_INT(ear_web_password_ok("short", &err), EAR_EINVAL);
    CHECK(strstr(err.text, "short") != NULL);
    CHECK_INT(ear_web_password_ok("with\ttab-inside", &err), EAR_EINVAL);
    CHECK_INT(ear_web_password_ok("\xff\xfe-not-utf8", &err), EAR_EINVAL);
    CHECK_INT(ear_web_password_ok("long enough", &err), 0);
    CHECK_INT(ear_web_password_ok("pässwörd-ékezet", &err), 0);

    CHECK_INT(ear_web_password_hash(&h1, "correct horse", &err), 0);
    CHECK_INT(ear_web_password_hash(&h2, "correct horse", &err), 0);
    CHECK(h1 && h2);
    if (!h1 || !h2)
        return;
    CHECK(strncmp(h1, "$y$", 3) == 0 || strncmp(h1, "$6$", 3) == 0);
    CHECK(strcmp(h1, h2) != 0); /* a fresh salt each time */
    CHECK_INT(ear_web_password_verify(h1, "correct horse"), 1);
    CHECK_INT(ear_web_password_verify(h2, "correct horse"), 1);
    CHECK_INT(ear_web_password_verify(h1, "correct horsE"), 0);
    CHECK_INT(ear_web_password_verify(h1, ""), 0);
    CHECK_INT(ear_web_password_verify(NULL, "correct horse"), 0);
    CHECK_INT(ear_web_password_verify("plaintext", "plaintext"), 0);
    CHECK_INT(ear_web_password_verify("$y$broken", "correct horse"), 0);
    CHECK_INT(ear_web_password_verify("*", "*"), 0);
    free(h1);
    free(h2);
    h1 = NULL;
    CHECK_INT(ear_web_password_hash(&h1, "tiny", &err), EAR_EINVAL);
    CHECK(h1 == NULL);
}

static void test_roles(void)
{
    enum ear_role r = EAR_ROLE_NONE;

    CHECK_INT(ear_role_parse(&r, "lead"), 0);
    CHECK_INT(r, EAR_ROLE_LEAD);
    CHECK_INT(ear_role_parse(&r, "Lead"), EAR_EINVAL);
    CHECK_INT(ear_role_parse(&r, NULL), EAR_EINVAL);
    CHECK_STR(ear_role_name(EAR_ROLE_ADMIN), "admin");
    CHECK_STR(ear_role_name(EAR_ROLE_NONE), "none");
}

static void test_config(void)
{
    struct ear_error err;
    char *hash = NULL;
    char yaml[2048];

    CHECK_INT(load_err("ok.yml",
                       "teams:\n  - {name: billing, members: [anna]}\n"
                       "users:\n"
                       "  - {name: anna, team: billing, role: agent}\n"
                       "  - {name: lena, role: lead}\n"
                       "serve:\n  listen: 127.0.0.1:9000\n"
                       "  trusted_proxies: [127.0.0.1, '::1']\n"
                       "  session_idle: 2h\n  secure_cookie: always\n",
                       &err), 0);
    CHECK_INT(load_err("role.yml",
                       "users:\n  - name: anna\n    role: chief\n", &err),
              EAR_EINVAL);
    CHECK_INT(err.line, 3);
    CHECK(strstr(err.text, "chief") != NULL);
    CHECK_INT(load_err("key.yml",
                       "users:\n  - name: anna\n    rol: agent\n", &err),
              EAR_EINVAL);
    CHECK(strstr(err.text, "did you mean 'role'") != NULL);
    CHECK_INT(load_err("dup.yml",
                       "users:\n  - {name: anna}\n  - {name: Anna}\n", &err),
              EAR_EINVAL);
    CHECK_INT(err.line, 3);
    CHECK(strstr(err.text, "twice") != NULL);
    CHECK_INT(load_err("team.yml",
                       "teams:\n  - {name: billing}\n"
                       "users:\n  - {name: anna, team: bliling}\n", &err),
              EAR_EINVAL);
    CHECK(strstr(err.text, "bliling") != NULL);
    CHECK_INT(load_err("hash.yml",
                       "users:\n  - {name: anna, password_hash: secret}\n",
                       &err), EAR_EINVAL);
    CHECK(strstr(err.text, "crypt(3)") != NULL);
    CHECK_INT(load_err("name.yml", "users:\n  - {name: 'a b'}\n", &err),
              EAR_EINVAL);
    CHECK_INT(load_err("noname.yml", "users:\n  - {role: lead}\n", &err),
              EAR_EINVAL);
    CHECK_INT(load_err("map.yml", "users: anna\n", &err), EAR_EINVAL);
    CHECK_INT(load_err("serve.yml", "serve:\n  lisen: x\n", &err),
              EAR_EINVAL);
    CHECK(strstr(err.text, "did you mean 'listen'") != NULL);
    CHECK_INT(load_err("proxy.yml",
                       "serve:\n  trusted_proxies: [localhost]\n", &err),
              EAR_EINVAL);
    CHECK(strstr(err.text, "localhost") != NULL);
    CHECK_INT(load_err("secure.yml", "serve:\n  secure_cookie: yes\n", &err),
              EAR_EINVAL);
    CHECK_INT(load_err("threads.yml", "serve:\n  threads: 0\n", &err),
              EAR_EINVAL);

    CHECK_INT(ear_web_password_hash(&hash, "config-password", &err), 0);
    if (!hash)
        return;
    snprintf(yaml, sizeof yaml,
             "users:\n  - {name: bela, password_hash: '%s'}\n", hash);
    CHECK_INT(load_err("goodhash.yml", yaml, &err), 0);
    free(hash);
}

static void test_store(void)
{
    struct ear_store *st = fx_store("users.db");
    struct ear_config *cfg;
    struct ear_web_user u, *all = NULL;
    struct ear_error err;
    char *hash = NULL;
    char yaml[2048];
    size_t n = 0;

    CHECK_INT(ear_web_password_hash(&hash, "config-password", &err), 0);
    if (!hash)
        return;
    snprintf(yaml, sizeof yaml,
             "teams:\n  - {name: billing, members: [anna, bela]}\n"
             "  - {name: logistics}\n"
             "users:\n"
             "  - {name: bela, team: billing, role: lead, "
             "password_hash: '%s'}\n"
             "  - {name: cili, role: agent}\n", hash);
    cfg = fx_config("users.yml", yaml);
    free(hash);

    CHECK_INT(ear_web_user_add(st, cfg, "anna", "billing", EAR_ROLE_AGENT,
                               "anna-password", &err), 0);
    CHECK_INT(ear_web_user_add(st, cfg, "ANNA", NULL, EAR_ROLE_AGENT,
                               "anna-password", &err), EAR_ESTATE);
    CHECK_INT(ear_web_user_add(st, cfg, "bela", NULL, EAR_ROLE_AGENT,
                               "bela-password", &err), EAR_ESTATE);
    CHECK(strstr(err.text, "config") != NULL);
    CHECK_INT(err.line, 5);
    CHECK_INT(ear_web_user_add(st, cfg, "dora", "nosuch", EAR_ROLE_AGENT,
                               "dora-password", &err), EAR_EINVAL);
    CHECK_INT(ear_web_user_add(st, cfg, "dora", NULL, EAR_ROLE_NONE,
                               "dora-password", &err), EAR_EINVAL);
    CHECK_INT(ear_web_user_add(st, cfg, "dora", NULL, EAR_ROLE_AGENT, "x",
                               &err), EAR_EINVAL);
    CHECK_INT(ear_web_user_add(st, cfg, "d/ora", NULL, EAR_ROLE_AGENT,
                               "dora-password", &err), EAR_EINVAL);
    CHECK_INT(ear_web_user_add(st, cfg, "zoe", "logistics", EAR_ROLE_ADMIN,
                               "zoe-password", &err), 0);

    CHECK_INT(ear_web_user_get(&u, cfg, st, "Anna", &err), 0);
    CHECK_STR(u.name, "anna");
    CHECK_STR(u.team, "billing");
    CHECK_INT(u.role, EAR_ROLE_AGENT);
    CHECK(u.in_store && !u.in_config);
    CHECK_INT(ear_web_password_verify(u.password_hash, "anna-password"), 1);
    ear_web_user_dispose(&u);

    /* passwd on a config user: the store's hash wins, team and role stay */
    CHECK_INT(ear_web_user_get(&u, cfg, st, "bela", &err), 0);
    CHECK_INT(ear_web_password_verify(u.password_hash, "config-password"),
              1);
    ear_web_user_dispose(&u);
    CHECK_INT(ear_web_user_passwd(st, cfg, "bela", "new-bela-pass", &err),
              0);
    CHECK_INT(ear_web_user_get(&u, cfg, st, "bela", &err), 0);
    CHECK(u.in_store && u.in_config);
    CHECK_INT(u.role, EAR_ROLE_LEAD);
    CHECK_STR(u.team, "billing");
    CHECK_INT(ear_web_password_verify(u.password_hash, "new-bela-pass"), 1);
    CHECK_INT(ear_web_password_verify(u.password_hash, "config-password"),
              0);
    ear_web_user_dispose(&u);
    CHECK_INT(ear_web_user_passwd(st, cfg, "nobody", "whatever-1", &err),
              EAR_ENOTFOUND);

    /* config order first, then the store's others by name */
    CHECK_INT(ear_web_users_list(&all, &n, cfg, st, &err), 0);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_STR(all[0].name, "bela");
        CHECK_STR(all[1].name, "cili");
        CHECK(all[1].password_hash == NULL); /* cannot log in */
        CHECK_STR(all[2].name, "anna");
        CHECK_STR(all[3].name, "zoe");
        CHECK_INT(all[3].role, EAR_ROLE_ADMIN);
    }
    ear_web_users_free(all, n);

    CHECK_INT(ear_web_user_remove(st, cfg, "bela", &err), EAR_ESTATE);
    CHECK_INT(ear_web_user_remove(st, cfg, "zoe", &err), 0);
    CHECK_INT(ear_web_user_get(&u, cfg, st, "zoe", &err), EAR_ENOTFOUND);
    CHECK_INT(ear_web_user_remove(st, cfg, "zoe", &err), EAR_ENOTFOUND);

    /* without a config the store alone answers */
    CHECK_INT(ear_web_user_get(&u, NULL, st, "anna", &err), 0);
    ear_web_user_dispose(&u);
    ear_config_free(cfg);
    ear_store_close(st);
}

int main(void)
{
    test_passwords();
    test_roles();
    test_config();
    test_store();
    return check_result();
}
