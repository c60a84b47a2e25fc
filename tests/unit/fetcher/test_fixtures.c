/*
 * Golden fixtures for the parsers: tests/fixtures/feeds/<case>/ and
 * tests/fixtures/pages/<case>/ hold
 *   input         the document, as bytes
 *   env           optional lines key=value: type, base, content_type,
 *                 preset (a JSON preset), link (the HTTP Link header)
 *   source.yml    optional: a config whose first source is the one the
 *                 document is read as (mapping, selectors)
 *   expected.tsv  the feed line and one line per item (see render()), then
 *                 "next<TAB>url" when the page links a next one, or
 *   error         text the formatted error must contain (parse must fail)
 * Plain feeds go through ear_feed_parse(); a preset, a source.yml or type
 * json / html through struct ear_parser.
 * EAR_FIXTURE_UPDATE=1 rewrites expected.tsv from what the parser does
 * (then read the diff before committing it).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fetcher/fetcher.h"

static void add_field(struct ear_buf *b, const char *s)
{
    const char *p;

    if (!s) {
        ear_buf_adds(b, "-");
        return;
    }
    for (p = s; *p; p++) {
        if (*p == '\n')
            ear_buf_adds(b, "\\n");
        else if (*p == '\t')
            ear_buf_adds(b, "\\t");
        else if (*p == '\\')
            ear_buf_adds(b, "\\\\");
        else
            ear_buf_addc(b, *p);
    }
}

static void add_time(struct ear_buf *b, int64_t t)
{
    char buf[40];

    ear_buf_adds(b, t ? ear_time_fmt(t, buf, sizeof(buf)) : "-");
}

/* feed<TAB>title<TAB>link, then per item:
 * key id title link author published updated rating text */
static void render(struct ear_buf *b, const struct ear_feed_info *fi,
                   const struct ear_mention_list *l)
{
    size_t i;

    ear_buf_adds(b, "feed\t");
    add_field(b, fi->title);
    ear_buf_addc(b, '\t');
    add_field(b, fi->link);
    if (fi->rating > 0)
        ear_buf_addf(b, "\t%.2f\t%lld", fi->rating,
                     (long long)fi->rating_count);
    ear_buf_addc(b, '\n');
    for (i = 0; i < l->n; i++) {
        const struct ear_mention *m = &l->v[i];

        add_field(b, m->key);
        ear_buf_addc(b, '\t');
        add_field(b, m->guid);
        ear_buf_addc(b, '\t');
        add_field(b, m->title);
        ear_buf_addc(b, '\t');
        add_field(b, m->url);
        ear_buf_addc(b, '\t');
        add_field(b, m->author);
        ear_buf_addc(b, '\t');
        add_time(b, m->published);
        ear_buf_addc(b, '\t');
        add_time(b, m->updated);
        ear_buf_addc(b, '\t');
        if (m->rating > 0)
            ear_buf_addf(b, "%.2f", m->rating);
        else
            ear_buf_adds(b, "-");
        ear_buf_addc(b, '\t');
        add_field(b, m->text);
        ear_buf_addc(b, '\n');
    }
}

static char *read_opt(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    char *s = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (ear_file_read(&s, len, path, (size_t)64 << 20, NULL) < 0)
        return NULL;
    return s;
}

static const char *env_get(char *env, const char *key, char *buf,
                           size_t size)
{
    size_t klen = strlen(key);
    const char *p = env;

    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(buf, size, "%.*s", (int)(n - klen - 1), p + klen + 1);
            return buf;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Parses through struct ear_parser, as the fetcher does. */
static int parse_source(struct ear_mention_list *items,
                        struct ear_feed_info *fi, char **next,
                        const char *dir, const char *input, size_t len,
                        const char *type, const char *preset,
                        const char *base, const char *ctype,
                        const char *link, struct ear_error *err)
{
    struct ear_config *cfg = NULL;
    struct ear_yaml *doc = NULL;
    struct ear_parser *p = NULL;
    struct ear_source_cfg src;
    struct ear_page page;
    char path[2300];
    FILE *f;
    int rc;

    memset(&src, 0, sizeof(src));
    snprintf(path, sizeof(path), "%s/source.yml", dir);
    f = fopen(path, "r");
    if (f) {
        fclose(f);
        rc = ear_config_load(&cfg, path, err);
        if (rc < 0)
            return rc;
        CHECK(cfg->nsources >= 1);
        if (cfg->nsources < 1) {
            ear_config_free(cfg);
            return EAR_EINVAL;
        }
        src = cfg->sources[0];
    } else {
        char text[128];

        snprintf(text, sizeof(text), "preset: %s\n", preset ? preset : "");
        if (preset) {
            rc = ear_yaml_parse(&doc, "env", text, strlen(text), err);
            if (rc < 0)
                return rc;
            src.opts = doc->root;
        }
        src.type = (char *)(type ? type : preset ? "json" : NULL);
    }
    src.name = (char *)"input";
    rc = ear_parser_new(&p, &src, "source.yml", err);
    if (rc == 0) {
        memset(&page, 0, sizeof(page));
        page.body = input;
        page.len = len;
        page.url = base;
        page.content_type = ctype;
        page.link = link;
        rc = ear_parser_parse(p, items, fi, &page, next, err);
    }
    ear_parser_free(p);
    ear_config_free(cfg);
    ear_yaml_free(doc);
    return rc;
}

static void run_case(const char *root, const char *name)
{
    char dir[2048], tbuf[64], bbuf[1024], cbuf[256], ebuf[1024];
    char pbuf[64], lbuf[1024], spath[2300];
    struct ear_mention_list items = {0};
    struct ear_feed_info fi = {0};
    struct ear_error err;
    struct ear_buf out;
    char *input, *env, *expected, *experr, *next = NULL;
    const char *type, *base, *ctype, *preset, *link;
    size_t len, elen;
    FILE *sf;
    int rc, via_parser;

    snprintf(dir, sizeof(dir), "%s/%s", root, name);
    input = read_opt(dir, "input", &len);
    if (!input) {
        fprintf(stderr, "%s: no input\n", name);
        CHECK(input != NULL);
        return;
    }
    env = read_opt(dir, "env", &elen);
    type = env_get(env, "type", tbuf, sizeof(tbuf));
    base = env_get(env, "base", bbuf, sizeof(bbuf));
    ctype = env_get(env, "content_type", cbuf, sizeof(cbuf));
    preset = env_get(env, "preset", pbuf, sizeof(pbuf));
    link = env_get(env, "link", lbuf, sizeof(lbuf));
    snprintf(spath, sizeof(spath), "%s/source.yml", dir);
    sf = fopen(spath, "r");
    if (sf)
        fclose(sf);
    via_parser = sf || preset
                 || (type && (strcmp(type, "json") == 0
                              || strcmp(type, "html") == 0));
    ear_error_clear(&err);
    if (via_parser)
        rc = parse_source(&items, &fi, &next, dir, input, len, type, preset,
                          base, ctype, link, &err);
    else
        rc = ear_feed_parse(&items, &fi, input, len, base, type, ctype,
                            "input", &err);
    experr = read_opt(dir, "error", &elen);
    if (experr) {
        while (elen && experr[elen - 1] == '\n')
            experr[--elen] = '\0';
        ear_error_format(&err, ebuf, sizeof(ebuf));
        if (rc >= 0 || !strstr(ebuf, experr))
            fprintf(stderr, "%s: error \"%s\", expected \"%s\"\n", name,
                    rc < 0 ? ebuf : "(none)", experr);
        CHECK(rc < 0);
        CHECK(strstr(ebuf, experr) != NULL);
    } else {
        ear_buf_init(&out, 0);
        if (rc < 0)
            fprintf(stderr, "%s: %s\n", name,
                    ear_error_format(&err, ebuf, sizeof(ebuf)));
        CHECK_INT(rc, 0);
        render(&out, &fi, &items);
        if (next) {
            ear_buf_adds(&out, "next\t");
            add_field(&out, next);
            ear_buf_addc(&out, '\n');
        }
        expected = read_opt(dir, "expected.tsv", &elen);
        if (getenv("EAR_FIXTURE_UPDATE")) {
            char path[4096];
            FILE *f;

            snprintf(path, sizeof(path), "%s/expected.tsv", dir);
            f = fopen(path, "w");
            CHECK(f != NULL);
            if (f) {
                fputs(ear_buf_str(&out), f);
                fclose(f);
            }
        } else if (!expected || strcmp(expected, ear_buf_str(&out)) != 0) {
            fprintf(stderr, "%s: output differs from expected.tsv:\n%s\n",
                    name, ear_buf_str(&out));
            CHECK(!"output matches expected.tsv");
        }
        free(expected);
        ear_buf_dispose(&out);
    }
    /* Every item must be complete whatever the input. */
    {
        size_t i;

        for (i = 0; i < items.n; i++) {
            CHECK(items.v[i].key != NULL);
            CHECK_STR(items.v[i].source, "input");
        }
    }
    free(next);
    free(experr);
    free(env);
    free(input);
    ear_feed_info_dispose(&fi);
    ear_mention_list_dispose(&items);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t run_suite(const char *src, const char *suite)
{
    char root[1024];
    char *names[512];
    size_t n = 0, i;
    DIR *d;
    struct dirent *de;

    snprintf(root, sizeof(root), "%s/tests/fixtures/%s", src, suite);
    d = opendir(root);
    CHECK(d != NULL);
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL && n < 512) {
        if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
            continue; /* README.md and friends */
        names[n++] = ear_strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    for (i = 0; i < n; i++) {
        run_case(root, names[i]);
        free(names[i]);
    }
    return n;
}

int main(void)
{
    const char *src = getenv("EAR_SRC");

    if (!src)
        src = "..";
    CHECK(run_suite(src, "feeds") >= 10);
    CHECK(run_suite(src, "pages") >= 5);
    return check_result();
}
