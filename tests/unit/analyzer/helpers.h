/* Shared helpers for the analyzer unit tests: write a pack into EAR_TMP,
 * load it, check a text. */
#ifndef EAR_TEST_ANALYZER_HELPERS_H
#define EAR_TEST_ANALYZER_HELPERS_H
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/analyzer.h"
#include "check.h"

static char tmp_dir[512];

static inline const char *tmp_path(const char *name)
{
    static char buf[4][768];
    static int k;
    const char *t = getenv("EAR_TMP");

    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "%s", t && *t ? t
                 : "/tmp/ear_analyzer_test");
        ear_mkdir_parents(tmp_dir, NULL);
        mkdir(tmp_dir, 0755);
    }
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp_dir, name);
    return buf[k];
}

static inline const char *write_file(const char *name, const char *text)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "w");

    if (!f) {
        fprintf(stderr, "cannot write %s\n", p);
        return p;
    }
    fputs(text, f);
    fclose(f);
    return p;
}

/* Loads one pack text; NULL (and err filled) on failure. */
static inline struct ear_analyzer *load_pack(const char *name, const char *text,
                                      struct ear_error *err)
{
    const char *paths[2];
    struct ear_analyzer *an = NULL;

    paths[0] = write_file(name, text);
    paths[1] = NULL;
    ear_error_clear(err);
    if (ear_analyzer_new(&an, paths, err) < 0)
        return NULL;
    return an;
}

static inline int has_match(const struct ear_verdict *v, const char *rule)
{
    size_t i;

    for (i = 0; i < v->nmatches; i++)
        if (strcmp(v->matches[i].rule, rule) == 0)
            return 1;
    return 0;
}

static inline const struct ear_match *find_match(const struct ear_verdict *v,
                                          const char *rule)
{
    size_t i;

    for (i = 0; i < v->nmatches; i++)
        if (strcmp(v->matches[i].rule, rule) == 0)
            return &v->matches[i];
    return NULL;
}

/* Does rule fire on text (lang given)? */
static inline int fires(struct ear_analyzer *an, const char *rule, const char *text,
                 const char *lang)
{
    struct ear_verdict v;
    struct ear_error err;
    int r;

    if (ear_analyzer_check(an, text, strlen(text), lang, 0, &v, &err) < 0) {
        fprintf(stderr, "check failed: %s\n", err.text);
        ear_verdict_dispose(&v);
        return -1;
    }
    r = has_match(&v, rule);
    ear_verdict_dispose(&v);
    return r;
}

static inline int flags(struct ear_analyzer *an, const char *text, const char *lang,
                 double rating)
{
    struct ear_verdict v;
    struct ear_error err;
    int r;

    if (ear_analyzer_check(an, text, strlen(text), lang, rating, &v,
                           &err) < 0) {
        ear_verdict_dispose(&v);
        return -1;
    }
    r = v.flag;
    ear_verdict_dispose(&v);
    return r;
}
#endif
