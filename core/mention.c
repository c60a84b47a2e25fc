/*
 * The mention record and the verdict: the two plain structs that carry a
 * review from the fetcher through the analyzer to the output stage.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/core.h"

void ear_mention_init(struct ear_mention *m)
{
    memset(m, 0, sizeof *m);
    m->reach = -1;
}

void ear_mention_dispose(struct ear_mention *m)
{
    if (!m)
        return;
    free(m->source);
    free(m->key);
    free(m->guid);
    free(m->url);
    free(m->author);
    free(m->title);
    free(m->text);
    ear_mention_init(m);
}

int ear_mention_copy(struct ear_mention *dst, const struct ear_mention *src)
{
    ear_mention_init(dst);
    dst->id = src->id;
    dst->rating = src->rating;
    dst->reach = src->reach;
    dst->published = src->published;
    dst->updated = src->updated;
    dst->first_seen = src->first_seen;
    memcpy(dst->lang, src->lang, sizeof dst->lang);
    if (ear_str_set(&dst->source, src->source) < 0 ||
        ear_str_set(&dst->key, src->key) < 0 ||
        ear_str_set(&dst->guid, src->guid) < 0 ||
        ear_str_set(&dst->url, src->url) < 0 ||
        ear_str_set(&dst->author, src->author) < 0 ||
        ear_str_set(&dst->title, src->title) < 0 ||
        ear_str_set(&dst->text, src->text) < 0) {
        ear_mention_dispose(dst);
        return EAR_ENOMEM;
    }
    return 0;
}

struct ear_mention *ear_mention_list_push(struct ear_mention_list *l)
{
    struct ear_mention *v = ear_grow(l->v, &l->cap, l->n, sizeof *v, 16);

    if (!v)
        return NULL;
    l->v = v;
    ear_mention_init(&l->v[l->n]);
    return &l->v[l->n++];
}

void ear_mention_list_dispose(struct ear_mention_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        ear_mention_dispose(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
    l->cap = 0;
}

/* ------------------------------------------------------------------ verdict */

static const char *const severity_names[] = {"none", "low", "medium", "high",
                                             "critical"};

const char *ear_severity_name(enum ear_severity s)
{
    if ((int)s < 0 || (int)s > EAR_SEV_CRITICAL)
        return "none";
    return severity_names[s];
}

int ear_severity_parse(enum ear_severity *out, const char *name)
{
    int i;

    for (i = 0; i <= EAR_SEV_CRITICAL; i++)
        if (name && strcasecmp(name, severity_names[i]) == 0) {
            *out = (enum ear_severity)i;
            return 0;
        }
    return EAR_EINVAL;
}

void ear_verdict_init(struct ear_verdict *v)
{
    memset(v, 0, sizeof *v);
}

void ear_verdict_dispose(struct ear_verdict *v)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < v->ncategories; i++)
        free(v->categories[i]);
    free(v->categories);
    for (i = 0; i < v->nmatches; i++) {
        free(v->matches[i].rule);
        free(v->matches[i].category);
        free(v->matches[i].field);
        free(v->matches[i].text);
    }
    free(v->matches);
    free(v->brand);
    free(v->team);
    free(v->explain);
    ear_verdict_init(v);
}

int ear_verdict_add_category(struct ear_verdict *v, const char *cat)
{
    char **cats;
    size_t i;

    for (i = 0; i < v->ncategories; i++)
        if (strcmp(v->categories[i], cat) == 0)
            return 0;
    cats = realloc(v->categories, (v->ncategories + 1) * sizeof *cats);
    if (!cats)
        return EAR_ENOMEM;
    v->categories = cats;
    cats[v->ncategories] = strdup(cat);
    if (!cats[v->ncategories])
        return EAR_ENOMEM;
    v->ncategories++;
    return 0;
}

int ear_verdict_add_match(struct ear_verdict *v, const char *rule,
                          const char *category, const char *field,
                          const char *base, size_t start, size_t end,
                          double weight)
{
    struct ear_match *ms, *m;

    ms = realloc(v->matches, (v->nmatches + 1) * sizeof *ms);
    if (!ms)
        return EAR_ENOMEM;
    v->matches = ms;
    m = &ms[v->nmatches];
    memset(m, 0, sizeof *m);
    m->start = start;
    m->end = end;
    m->weight = weight;
    m->rule = ear_strdup(rule);
    m->category = ear_strdup(category);
    m->field = ear_strdup(field ? field : "text");
    m->text = base && end >= start ? strndup(base + start, end - start)
                                   : strdup("");
    v->nmatches++;
    if ((rule && !m->rule) || (category && !m->category) || !m->field ||
        !m->text)
        return EAR_ENOMEM;
    return 0;
}
