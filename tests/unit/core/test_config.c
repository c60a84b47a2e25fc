/* Config: the minimal shape from the foundation issue, path resolution,
 * ${VAR} expansion, and errors that name file:line:col. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "check.h"
#include "core/core.h"

static char tmp[512];

static const char *write_file(const char *name, const char *text)
{
    static char path[1024];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tmp, name);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_minimal(void)
{
    struct ear_config *cfg = NULL;
    struct ear_error err;
    char want[1100];
    const char *path = write_file(
        "minimal.yml",
        "store: ./earshot.db            # optional\n"
        "brands:\n"
        "  - name: Acme\n"
        "    aliases: [acme, \"@acme\", \"#acme\"]\n"
        "    exclude: [\"acme road\"]     # optional\n"
        "sources:\n"
        "  - name: acme-reviews\n"
        "    url: file:///srv/feeds/acme.xml   # or https://\n"
        "    brand: Acme                # optional\n"
        "    type: rss                  # optional, detected when absent\n"
        "    interval: 15m              # optional\n"
        "  - name: relative\n"
        "    url: feeds/x.xml\n"
        "  - name: relative-file-url\n"
        "    url: file:feeds/y.xml\n"
        "  - name: web\n"
        "    url: https://example.org/feed\n");

    ear_error_clear(&err);
    CHECK_INT(ear_config_load(&cfg, path, &err), 0);
    if (!cfg) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.source, err.line, err.col,
                err.text);
        return;
    }
    snprintf(want, sizeof want, "%s/earshot.db", tmp);
    CHECK_STR(cfg->store, want);
    CHECK_INT(cfg->nbrands, 1);
    CHECK_STR(cfg->brands[0].name, "Acme");
    CHECK_STR(cfg->brands[0].aliases[1], "@acme");
    CHECK(cfg->brands[0].aliases[3] == NULL);
    CHECK_STR(cfg->brands[0].exclude[0], "acme road");
    CHECK_INT(cfg->nsources, 4);
    CHECK_STR(cfg->sources[0].url, "file:///srv/feeds/acme.xml");
    CHECK_STR(cfg->sources[0].brand, "Acme");
    CHECK_STR(cfg->sources[0].type, "rss");
    CHECK_INT(cfg->sources[0].interval, 900);
    CHECK_INT(cfg->sources[1].interval, 900); /* default 15 min */
    snprintf(want, sizeof want, "file://%s/feeds/x.xml", tmp);
    CHECK_STR(cfg->sources[1].url, want);
    snprintf(want, sizeof want, "file://%s/feeds/y.xml", tmp);
    CHECK_STR(cfg->sources[2].url, want);
    CHECK_STR(cfg->sources[3].url, "https://example.org/feed");
    CHECK(cfg->sources[1].brand == NULL);
    CHECK_INT(cfg->sla[EAR_SEV_CRITICAL], 3600);
    CHECK_INT(cfg->sla[EAR_SEV_LOW], 72 * 3600);
    CHECK(ear_config_source(cfg, "web") == &cfg->sources[3]);
    ear_config_free(cfg);
}

static void expect_error(const char *text, int line, int col,
                         const char *needle)
{
    struct ear_config *cfg = NULL;
    struct ear_error err;
    const char *path = write_file("bad.yml", text);

    ear_error_clear(&err);
    CHECK(ear_config_load(&cfg, path, &err) < 0);
    CHECK(cfg == NULL);
    CHECK_STR(err.source, path);
    CHECK_INT(err.line, line);
    if (col)
        CHECK_INT(err.col, col);
    if (!strstr(err.text, needle)) {
        fprintf(stderr, "  error text '%s' lacks '%s'\n", err.text, needle);
        CHECK(0);
    }
    ear_config_free(cfg);
}

static void test_errors(void)
{
    expect_error("soruces: []\n", 1, 1,
                 "unknown key 'soruces' (did you mean 'sources'?)");
    expect_error("sources:\n  - name: a\n    url: x.xml\n    intervall: 5m\n",
                 4, 5, "did you mean 'interval'?");
    expect_error("sources:\n  - name: a\n", 2, 5, "needs 'url'");
    expect_error("sources:\n  - name: a\n    url: x\n    interval: soon\n", 4,
                 15, "not a duration");
    expect_error("sources:\n  - name: a\n    url: x\n    brand: Nope\n", 4, 12,
                 "brand 'Nope'");
    expect_error("sources:\n  - {name: a, url: x}\n  - {name: a, url: y}\n",
                 3, 5, "defined twice");
    expect_error("sources: [\n", 2, 0, "");
    expect_error("sources:\n  - name: a\n    url: gopher://x\n", 3, 10,
                 "unsupported URL scheme");
    expect_error("sources:\n  - name: a\n    url: x\n    type: atomic\n", 4,
                 11, "unknown source type");
    expect_error("teams: [{name: billing}]\nrouting:\n  - team: biling\n"
                 "    categories: [billing]\n",
                 3, 11, "not in teams");
    expect_error("store: ${EAR_TEST_UNSET_VARIABLE}/x.db\n", 1, 8,
                 "EAR_TEST_UNSET_VARIABLE is not set");
}

static void test_env(void)
{
    struct ear_config *cfg = NULL;
    struct ear_error err;
    const char *path;

    setenv("EAR_TEST_TOKEN", "s3cret", 1);
    path = write_file("env.yml", "sources:\n  - name: api\n    url: "
                                 "https://example.org/?t=${EAR_TEST_TOKEN}"
                                 "&x=$$1\n");
    CHECK_INT(ear_config_load(&cfg, path, &err), 0);
    if (cfg)
        CHECK_STR(cfg->sources[0].url, "https://example.org/?t=s3cret&x=$1");
    ear_config_free(cfg);
}

static void test_fetch_limits(void)
{
    struct ear_config *cfg = NULL;
    struct ear_error err;
    const char *path = write_file(
        "fetch.yml", "fetch: {max_per_host: 2, timeout: 30, max_body: 4096}\n");

    CHECK_INT(ear_config_load(&cfg, path, &err), 0);
    if (cfg) {
        CHECK_INT(cfg->fetch_max_host, 2);
        CHECK_INT(cfg->fetch_timeout, 30);
        CHECK_INT(cfg->fetch_max_body, 4096);
        CHECK_INT(cfg->fetch_max_conns, 0); /* not given: the default */
    }
    ear_config_free(cfg);
    expect_error("fetch:\n  timeout: 0\n", 2, 12, "between 1 and 3600");
    expect_error("fetch:\n  max_conections: 4\n", 2, 3,
                 "did you mean 'max_connections'?");
}

static void test_locate(void)
{
    struct ear_error err;
    char *p;

    ear_error_clear(&err);
    p = ear_config_locate("/nonexistent/earshot.yml", &err);
    CHECK(p == NULL);
    CHECK_INT(err.code, EAR_ENOTFOUND);
    setenv("EARSHOT_CONFIG", write_file("env-located.yml", "{}\n"), 1);
    p = ear_config_locate(NULL, &err);
    CHECK(p && strstr(p, "env-located.yml"));
    free(p);
    unsetenv("EARSHOT_CONFIG");
}

int main(void)
{
    const char *t = getenv("EAR_TMP");

    snprintf(tmp, sizeof tmp, "%s", t ? t : "/tmp/ear_test_config");
    ear_mkdir_parents(strcat(tmp, "/x"), NULL);
    tmp[strlen(tmp) - 2] = '\0';
    test_minimal();
    test_errors();
    test_env();
    test_fetch_limits();
    test_locate();
    return check_result();
}
