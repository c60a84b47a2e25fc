/* Shared set-up for the output unit tests: a fresh store in $EAR_TMP, a
 * config from YAML text, and stored mentions with verdicts made through
 * core's API (never by writing SQL behind its back). */
#ifndef EAR_TEST_OUTPUT_FIXTURE_H
#define EAR_TEST_OUTPUT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "output/output.h"

/* 2026-11-23T08:00:00Z */
#define T0 ((int64_t)1795420800)

static char fx_dir[1024];

/* Makes $EAR_TMP (or /tmp) and returns dir/name in a static buffer. */
static inline const char *fx_path(const char *name)
{
    static char path[1200];
    const char *tmp = getenv("EAR_TMP");

    snprintf(fx_dir, sizeof fx_dir, "%s", tmp && tmp[0] ? tmp : "/tmp");
    snprintf(path, sizeof path, "%s/%s", fx_dir, name);
    if (ear_mkdir_parents(path, NULL) < 0) {
        fprintf(stderr, "cannot create %s\n", fx_dir);
        exit(1);
    }
    return path;
}

/* A new empty store at $EAR_TMP/name (any old file removed). */
static inline struct ear_store *fx_store(const char *name)
{
    struct ear_store *st = NULL;
    struct ear_error err = {0};
    char path[1200];
    char side[1300];

    snprintf(path, sizeof path, "%s", fx_path(name));
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    if (ear_store_open(&st, path, &err) < 0) {
        fprintf(stderr, "store: %s\n", err.text);
        exit(1);
    }
    return st;
}

/* A config loaded from YAML text written to $EAR_TMP/name. */
static inline struct ear_config *fx_config(const char *name,
                                           const char *yaml)
{
    struct ear_config *cfg = NULL;
    struct ear_error err = {0};
    char path[1200];
    FILE *f;

    snprintf(path, sizeof path, "%s", fx_path(name));
    f = fopen(path, "w");
    if (!f || fputs(yaml, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    if (ear_config_load(&cfg, path, &err) < 0) {
        char buf[1024];

        fprintf(stderr, "config: %s\n", ear_error_format(&err, buf,
                                                         sizeof buf));
        exit(1);
    }
    return cfg;
}

/* What a test mention looks like; NULL/0 fields are left out. */
struct fx_mention {
    const char *source;
    const char *key;
    const char *title;
    const char *text;
    const char *url;
    const char *author;
    const char *lang;
    double rating;
    int64_t reach;      /* -1 = unknown */
    int64_t first_seen;
    int flag;
    enum ear_severity severity;
    const char *categories[4];
    const char *brand;
    const char *team;   /* the rule's suggestion */
    const char *rule;   /* one match over the first word of text */
    int64_t published;  /* 0 = unknown */
};

/* Stores the mention and its verdict; fills m and v (caller disposes). */
static inline void fx_put(struct ear_store *st, const struct fx_mention *fm,
                          struct ear_mention *m, struct ear_verdict *v)
{
    struct ear_error err = {0};
    int is_new = 0;

    ear_mention_init(m);
    ear_verdict_init(v);
    if (ear_str_set(&m->source, fm->source) < 0 ||
        ear_str_set(&m->key, fm->key) < 0 ||
        ear_str_set(&m->title, fm->title) < 0 ||
        ear_str_set(&m->text, fm->text) < 0 ||
        ear_str_set(&m->url, fm->url) < 0 ||
        ear_str_set(&m->author, fm->author) < 0)
        exit(1);
    if (fm->lang)
        snprintf(m->lang, sizeof m->lang, "%s", fm->lang);
    m->rating = fm->rating;
    m->reach = fm->reach;
    m->first_seen = fm->first_seen ? fm->first_seen : T0;
    m->published = fm->published;
    if (ear_store_mention_put(st, m, &is_new, &err) < 0 || !is_new) {
        fprintf(stderr, "mention_put %s: %s\n", fm->key, err.text);
        exit(1);
    }
    v->flag = fm->flag;
    v->severity = fm->severity;
    v->score = fm->flag ? 2.0 : 0.0;
    for (size_t i = 0; i < 4 && fm->categories[i]; i++)
        if (ear_verdict_add_category(v, fm->categories[i]) < 0)
            exit(1);
    if (ear_str_set(&v->brand, fm->brand) < 0 ||
        ear_str_set(&v->team, fm->team) < 0)
        exit(1);
    if (fm->lang)
        snprintf(v->lang, sizeof v->lang, "%s", fm->lang);
    if (fm->rule && fm->text) {
        size_t end = strcspn(fm->text, " ");

        if (ear_verdict_add_match(v, fm->rule, fm->categories[0], "text",
                                  fm->text, 0, end, 1.0) < 0)
            exit(1);
    }
    if (ear_store_verdict_put(st, m->id, v, &err) < 0) {
        fprintf(stderr, "verdict_put %s: %s\n", fm->key, err.text);
        exit(1);
    }
}

/* Stores and queues; returns the queue id. */
static inline int64_t fx_queue(struct ear_store *st,
                               const struct ear_config *cfg,
                               const struct fx_mention *fm, int64_t now)
{
    struct ear_mention m;
    struct ear_verdict v;
    struct ear_error err = {0};
    int64_t id = 0;
    int is_new = 0;

    fx_put(st, fm, &m, &v);
    if (ear_queue_add(st, cfg, &m, &v, now, &id, &is_new, &err) < 0 ||
        !is_new) {
        fprintf(stderr, "queue_add %s: %s\n", fm->key, err.text);
        exit(1);
    }
    ear_mention_dispose(&m);
    ear_verdict_dispose(&v);
    return id;
}

/* Sets EARSHOT_NOW, so core's own clock (events) agrees with the test's. */
static inline void fx_clock(int64_t t)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%lld", (long long)t);
    setenv("EARSHOT_NOW", buf, 1);
}

#endif
