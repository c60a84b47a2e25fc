/*
 * JSON APIs through declarative mappings (source type json).
 *
 * A mapping says where the item array is and where each field of an item
 * is, in the path language of jsonpath.c:
 *
 *   items: data.children[*].data      # or a list of fallbacks
 *   require: im:rating.label          # optional: skip items without it
 *   fields:
 *     id: name
 *     title: title
 *     text: selftext                  # plain text
 *     html: selftext_html             # HTML, used when text is absent
 *     link: permalink                 # resolved against the page URL
 *     author: author
 *     published: created_utc          # epoch (s or ms) or a date string
 *     rating: stars                   # scaled by rating_scale
 *     reach: score
 *   feed_title: ..., feed_link: ...
 *   rating_scale: 5                   # or [0, 10]
 *   next_page: ...                    # see docs/fetcher.md
 *   max_pages: 3
 *   query: {raw_json: 1}              # parameters the API wants
 *
 * A field may be a list of alternatives (the first with a value wins) or a
 * template ("https://news.ycombinator.com/item?id={objectID}"). The
 * built-in presets below are such mappings written in YAML and compiled by
 * the same code: a source names one with `preset:` and may override any
 * part of it with `map:` or with its own items / fields / rating_scale /
 * next_page / max_pages.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetcher/fetcher_int.h"

#define MAX_PAGES_LIMIT 50

enum field {
    F_ID, F_LINK, F_TITLE, F_TEXT, F_HTML, F_AUTHOR, F_PUBLISHED,
    F_UPDATED, F_RATING, F_REACH, F_LANG, F_COUNT
};

static const char *const field_names[] = {
    "id", "link", "title", "text", "html", "author", "published",
    "updated", "rating", "reach", "lang", NULL};

static const char *const map_keys[] = {
    "items", "require", "fields", "feed_title", "feed_link", "rating_scale",
    "next_page", "max_pages", "query", NULL};

static const char *const next_keys[] = {"url", "param", "value", "counter",
                                        "start", "total", "max", "header",
                                        NULL};

enum next_kind { NEXT_NONE, NEXT_URL, NEXT_PARAM, NEXT_COUNTER, NEXT_LINK };

/* Alternatives: the first that has a value wins. */
struct alts {
    struct ear_jexpr **v;
    size_t n;
};

struct ear_jsonmap {
    struct ear_yaml *preset;   /* owned: the preset's document */
    struct alts items;
    struct alts require;
    struct alts feed_title;
    struct alts feed_link;
    struct alts fields[F_COUNT];
    double worst, best;        /* rating scale, NAN when not given */
    enum next_kind next;
    struct alts next_expr;     /* NEXT_URL: the URL; NEXT_PARAM: value */
    char *next_param;
    long next_start;
    long next_max;             /* the counter never goes past it; 0 = no */
    struct ear_jpath *next_total;
    int max_pages;             /* 0 = not given */
    const struct ear_ynode *query; /* borrowed: preset or config */
};

/* ------------------------------------------------------------ presets */

struct preset {
    const char *name;
    const char *yaml;
};

/* Apple's customer-review feed:
 *   https://itunes.apple.com/{cc}/rss/customerreviews/page=1/id={app}/
 *   sortby=mostrecent/json
 * Every value sits under "label"; the first entry is the app itself (it
 * has no im:rating); a single review comes as an object, not an array;
 * Apple serves at most 10 pages per country. Every review links to the
 * same app page, so the review id goes in the fragment: one link, one
 * mention. */
static const char appstore_yaml[] =
    "items: feed.entry\n"
    "require: im:rating.label\n"
    "feed_title: feed.title.label\n"
    "feed_link: feed.link[attributes.rel=alternate].attributes.href\n"
    "fields:\n"
    "  id: id.label\n"
    "  title: title.label\n"
    "  text: content.label\n"
    "  author: author.name.label\n"
    "  link: '{link.attributes.href}#review-{id.label}'\n"
    "  rating: im:rating.label\n"
    "  published: updated.label\n"
    "  reach: im:voteCount.label\n"
    "rating_scale: 5\n"
    "next_page: {param: page, counter: true, start: 1, max: 10}\n"
    "max_pages: 10\n";

/* Reddit listings: search.json, /r/NAME/new.json, /r/NAME/search.json,
 * comments. raw_json=1 asks for text without HTML escaping. */
static const char reddit_yaml[] =
    "items: data.children[*].data\n"
    "fields:\n"
    "  id: name\n"
    "  title: [title, link_title]\n"
    "  text: [selftext, body]\n"
    "  link: 'https://www.reddit.com{permalink}'\n"
    "  author: author\n"
    "  published: created_utc\n"
    "  reach: score\n"
    "next_page: {param: after, value: data.after}\n"
    "max_pages: 1\n"
    "query: {raw_json: '1'}\n";

/* Hacker News through Algolia: /api/v1/search and search_by_date, stories
 * and comments. The link is the HN item (the discussion), not the story's
 * target, so that one story's URL does not merge its discussions. */
static const char hackernews_yaml[] =
    "items: hits\n"
    "fields:\n"
    "  id: objectID\n"
    "  title: [title, story_title]\n"
    "  html: [comment_text, story_text]\n"
    "  link: 'https://news.ycombinator.com/item?id={objectID}'\n"
    "  author: author\n"
    "  published: [created_at_i, created_at]\n"
    "  reach: points\n"
    "next_page: {param: page, counter: true, start: 0, total: nbPages}\n"
    "max_pages: 1\n";

/* Mastodon: /api/v1/timelines/tag/NAME (an array of statuses) and
 * /api/v2/search?type=statuses (statuses under "statuses"). A boost
 * carries its text in reblog. Older pages are linked from the Link
 * header. A boost is read as the status it boosts (one mention however
 * often it is boosted). */
static const char mastodon_yaml[] =
    "items: [statuses, $]\n"
    "fields:\n"
    "  id: [reblog.uri, uri]\n"
    "  title: [reblog.spoiler_text, spoiler_text]\n"
    "  html: [reblog.content, content]\n"
    "  link: [reblog.url, reblog.uri, url, uri]\n"
    "  author: [reblog.account.acct, account.acct, account.username]\n"
    "  published: [reblog.created_at, created_at]\n"
    "  lang: [reblog.language, language]\n"
    "  reach: [reblog.favourites_count, favourites_count]\n"
    "next_page: {header: link}\n"
    "max_pages: 1\n";

static const struct preset presets[] = {
    {"appstore", appstore_yaml},
    {"reddit", reddit_yaml},
    {"hackernews", hackernews_yaml},
    {"mastodon", mastodon_yaml},
};

static const char *const preset_names[] = {"appstore", "reddit",
                                           "hackernews", "mastodon", NULL};

const char *const *ear_json_presets(void)
{
    return preset_names;
}

/* ------------------------------------------------------------ compile */

static void alts_clear(struct alts *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        ear_jexpr__free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

void ear_jsonmap__free(struct ear_jsonmap *m)
{
    size_t i;

    if (!m)
        return;
    alts_clear(&m->items);
    alts_clear(&m->require);
    alts_clear(&m->feed_title);
    alts_clear(&m->feed_link);
    for (i = 0; i < F_COUNT; i++)
        alts_clear(&m->fields[i]);
    alts_clear(&m->next_expr);
    free(m->next_param);
    ear_jpath__free(m->next_total);
    ear_yaml_free(m->preset);
    free(m);
}

/* A scalar or a list of scalars into alternatives (replacing old ones). */
static int alts_set(struct alts *a, const struct ear_ynode *n,
                    const char *path, const char *what,
                    struct ear_error *err)
{
    const struct ear_ynode *const *list = &n;
    size_t count = 1, i;
    int rc;

    if (n->type == EAR_Y_SEQ) {
        list = (const struct ear_ynode *const *)n->items;
        count = n->n;
        if (count == 0)
            return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                                 "%s: an empty list", what);
    } else if (n->type != EAR_Y_SCALAR) {
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "%s must be a path or a list of paths", what);
    }
    alts_clear(a);
    a->v = calloc(count, sizeof(*a->v));
    if (!a->v)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    for (i = 0; i < count; i++) {
        const struct ear_ynode *s = list[i];
        const char *why = NULL;

        if (s->type != EAR_Y_SCALAR || !s->value)
            return ear_error_set(err, EAR_EINVAL, path, s->line, s->col,
                                 "%s: expected a path", what);
        rc = ear_jexpr__compile(&a->v[i], s->value, &why);
        if (rc == EAR_ENOMEM)
            return ear_error_set(err, rc, path, 0, 0, "out of memory");
        if (rc < 0)
            return ear_error_set(err, EAR_EINVAL, path, s->line, s->col,
                                 "%s: %s in '%s'", what, why, s->value);
        a->n = i + 1;
    }
    return 0;
}

static int scalar_double(double *out, const struct ear_ynode *n,
                         const char *path, const char *what,
                         struct ear_error *err)
{
    char *end;

    if (n->type != EAR_Y_SCALAR || !n->value)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "%s: expected a number", what);
    *out = strtod(n->value, &end);
    if (end == n->value || *end || !isfinite(*out))
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "%s: '%s' is not a number", what, n->value);
    return 0;
}

/* rating_scale: 5 (1..5), 10 (1..10), 100 (0..100), or [worst, best] */
static int set_scale(struct ear_jsonmap *m, const struct ear_ynode *n,
                     const char *path, struct ear_error *err)
{
    double w, b;
    int rc;

    if (n->type == EAR_Y_SEQ) {
        if (n->n != 2)
            return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                                 "rating_scale: give [worst, best]");
        rc = scalar_double(&w, n->items[0], path, "rating_scale", err);
        if (rc == 0)
            rc = scalar_double(&b, n->items[1], path, "rating_scale", err);
        if (rc < 0)
            return rc;
    } else {
        rc = scalar_double(&b, n, path, "rating_scale", err);
        if (rc < 0)
            return rc;
        w = b >= 100 ? 0 : 1;
    }
    if (!(b > w) || w < 0)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "rating_scale: the best rating must be above "
                             "the worst, both at least 0");
    m->worst = w;
    m->best = b;
    return 0;
}

static int set_next(struct ear_jsonmap *m, const struct ear_ynode *n,
                    const char *path, struct ear_error *err)
{
    const struct ear_ynode *url, *param, *value, *counter, *start, *total,
        *header, *max;
    int rc, on = 0;

    alts_clear(&m->next_expr);
    free(m->next_param);
    m->next_param = NULL;
    ear_jpath__free(m->next_total);
    m->next_total = NULL;
    m->next = NEXT_NONE;
    if (n->type != EAR_Y_MAP) {
        m->next = NEXT_URL;
        return alts_set(&m->next_expr, n, path, "next_page", err);
    }
    rc = ear_ynode_check_keys(n, next_keys, path, err);
    if (rc < 0)
        return rc;
    url = ear_ynode_get(n, "url");
    param = ear_ynode_get(n, "param");
    value = ear_ynode_get(n, "value");
    counter = ear_ynode_get(n, "counter");
    start = ear_ynode_get(n, "start");
    total = ear_ynode_get(n, "total");
    max = ear_ynode_get(n, "max");
    header = ear_ynode_get(n, "header");
    if (header) {
        if (header->type != EAR_Y_SCALAR || !header->value
            || strcasecmp(header->value, "link") != 0)
            return ear_error_set(err, EAR_EINVAL, path, header->line,
                                 header->col,
                                 "next_page: header must be 'link'");
        m->next = NEXT_LINK;
        return 0;
    }
    if (url) {
        m->next = NEXT_URL;
        return alts_set(&m->next_expr, url, path, "next_page url", err);
    }
    if (!param || param->type != EAR_Y_SCALAR || !param->value)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "next_page needs url, header: link, or param "
                             "with value or counter");
    m->next_param = ear_strdup(param->value);
    if (!m->next_param)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    rc = ear_ynode_bool(&on, counter, path, "counter", err);
    if (rc < 0)
        return rc;
    if (value) {
        m->next = NEXT_PARAM;
        return alts_set(&m->next_expr, value, path, "next_page value", err);
    }
    if (!on)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "next_page with param needs value: PATH or "
                             "counter: true");
    m->next = NEXT_COUNTER;
    m->next_start = 1;
    if (start) {
        long long s = 1;

        rc = ear_ynode_int(&s, start, 0, 1000000, path, "start", err);
        if (rc < 0)
            return rc;
        m->next_start = (long)s;
    }
    m->next_max = 0;
    if (max) {
        long long v = 0;

        rc = ear_ynode_int(&v, max, 1, 1000000, path, "max", err);
        if (rc < 0)
            return rc;
        m->next_max = (long)v;
    }
    if (total) {
        const char *why = NULL;

        if (total->type != EAR_Y_SCALAR || !total->value)
            return ear_error_set(err, EAR_EINVAL, path, total->line,
                                 total->col, "total: expected a path");
        rc = ear_jpath__compile(&m->next_total, total->value, &why);
        if (rc == EAR_ENOMEM)
            return ear_error_set(err, rc, path, 0, 0, "out of memory");
        if (rc < 0)
            return ear_error_set(err, EAR_EINVAL, path, total->line,
                                 total->col, "total: %s", why);
    }
    return 0;
}

static int set_fields(struct ear_jsonmap *m, const struct ear_ynode *n,
                      const char *path, struct ear_error *err)
{
    size_t i, k;
    int rc;

    if (n->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "fields must be a map of field: path (fields: "
                             "id, link, title, text, html, author, "
                             "published, updated, rating, reach, lang)");
    rc = ear_ynode_check_keys(n, field_names, path, err);
    if (rc < 0)
        return rc;
    for (i = 0; i < n->n; i++) {
        for (k = 0; field_names[k]; k++)
            if (strcmp(field_names[k], n->keys[i]->value) == 0)
                break;
        rc = alts_set(&m->fields[k], n->items[i], path, field_names[k],
                      err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Applies one level of mapping keys. all = 0 for a source map, whose other
 * keys belong to the source (checked by the config loader). */
static int apply(struct ear_jsonmap *m, const struct ear_ynode *n,
                 const char *path, int all, struct ear_error *err)
{
    const struct ear_ynode *v;
    int rc = 0;

    if (!n)
        return 0;
    if (n->type != EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "map must be a map (items, fields, ...)");
    if (all) {
        rc = ear_ynode_check_keys(n, map_keys, path, err);
        if (rc < 0)
            return rc;
    }
    if ((v = ear_ynode_get(n, "items")) != NULL)
        rc = alts_set(&m->items, v, path, "items", err);
    if (rc == 0 && (v = ear_ynode_get(n, "fields")) != NULL)
        rc = set_fields(m, v, path, err);
    if (rc == 0 && (v = ear_ynode_get(n, "rating_scale")) != NULL)
        rc = set_scale(m, v, path, err);
    if (rc == 0 && (v = ear_ynode_get(n, "next_page")) != NULL)
        rc = set_next(m, v, path, err);
    if (rc == 0 && (v = ear_ynode_get(n, "max_pages")) != NULL) {
        long long mp = 1;

        rc = ear_ynode_int(&mp, v, 1, MAX_PAGES_LIMIT, path, "max_pages",
                           err);
        m->max_pages = (int)mp;
    }
    if (!all || rc < 0)
        return rc;
    if ((v = ear_ynode_get(n, "require")) != NULL)
        rc = alts_set(&m->require, v, path, "require", err);
    if (rc == 0 && (v = ear_ynode_get(n, "feed_title")) != NULL)
        rc = alts_set(&m->feed_title, v, path, "feed_title", err);
    if (rc == 0 && (v = ear_ynode_get(n, "feed_link")) != NULL)
        rc = alts_set(&m->feed_link, v, path, "feed_link", err);
    if (rc == 0 && (v = ear_ynode_get(n, "query")) != NULL) {
        if (v->type != EAR_Y_MAP)
            return ear_error_set(err, EAR_EINVAL, path, v->line, v->col,
                                 "query must be a map of name: value");
        m->query = v;
    }
    return rc;
}

int ear_jsonmap__new(struct ear_jsonmap **out, const struct ear_ynode *src,
                     const char *path, struct ear_error *err)
{
    struct ear_jsonmap *m;
    const struct ear_ynode *preset = ear_ynode_get(src, "preset");
    int rc = 0;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return ear_error_set(err, EAR_ENOMEM, path, 0, 0, "out of memory");
    m->worst = NAN;
    m->best = NAN;
    if (preset) {
        size_t i;
        char name[64];

        if (preset->type != EAR_Y_SCALAR || !preset->value) {
            rc = ear_error_set(err, EAR_EINVAL, path, preset->line,
                               preset->col, "preset must be a name");
            goto out;
        }
        for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
            if (strcmp(presets[i].name, preset->value) == 0)
                break;
        if (i == sizeof(presets) / sizeof(presets[0])) {
            rc = ear_error_set(err, EAR_EINVAL, path, preset->line,
                               preset->col,
                               "unknown preset '%s' (known: appstore, "
                               "reddit, hackernews, mastodon)",
                               preset->value);
            goto out;
        }
        snprintf(name, sizeof(name), "preset %s", presets[i].name);
        rc = ear_yaml_parse(&m->preset, name, presets[i].yaml,
                            strlen(presets[i].yaml), err);
        if (rc == 0)
            rc = apply(m, m->preset->root, name, 1, err);
        if (rc < 0)
            goto out;
    }
    rc = apply(m, ear_ynode_get(src, "map"), path, 1, err);
    if (rc == 0)
        rc = apply(m, src, path, 0, err);
    if (rc < 0)
        goto out;
    if (!m->items.n) {
        rc = ear_error_set(err, EAR_EINVAL, path, src ? src->line : 0,
                           src ? src->col : 0,
                           "a json source needs a preset or a mapping "
                           "(items: and fields:)");
        goto out;
    }
    if (!m->fields[F_TEXT].n && !m->fields[F_HTML].n
        && !m->fields[F_TITLE].n) {
        rc = ear_error_set(err, EAR_EINVAL, path, src ? src->line : 0,
                           src ? src->col : 0,
                           "a json mapping needs at least one of the "
                           "fields text, html or title");
        goto out;
    }
    *out = m;
    m = NULL;
out:
    ear_jsonmap__free(m);
    return rc;
}

int ear_jsonmap__max_pages(const struct ear_jsonmap *m)
{
    if (m->max_pages)
        return m->next == NEXT_NONE ? 1 : m->max_pages;
    return m->next == NEXT_NONE ? 1 : 5;
}

const struct ear_ynode *ear_jsonmap__query(const struct ear_jsonmap *m)
{
    return m->query;
}

/* ------------------------------------------------------------ parse */

/* The first alternative with a value, as a string. New *out or NULL. */
static int alts_str(char **out, const struct alts *a, const json_t *root)
{
    size_t i;
    int rc;

    *out = NULL;
    for (i = 0; i < a->n; i++) {
        rc = ear_jexpr__eval(out, a->v[i], root);
        if (rc == 0)
            return 0;
        if (rc != EAR_ENOTFOUND)
            return rc;
    }
    return 0;
}

static const json_t *alts_node(const struct alts *a, const json_t *root)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        const json_t *v = ear_jexpr__node(a->v[i], root);

        if (v)
            return v;
    }
    return NULL;
}

/* Seconds, milliseconds (anything past the year 5138 in seconds) or a
 * date string. 0 when there is none. */
static int64_t alts_time(const struct alts *a, const json_t *root)
{
    size_t i;
    int64_t t = 0;

    for (i = 0; i < a->n; i++) {
        const json_t *v = ear_jexpr__node(a->v[i], root);
        char *s = NULL;
        double d = NAN;

        if (json_is_integer(v))
            d = (double)json_integer_value(v);
        else if (json_is_real(v))
            d = json_real_value(v);
        if (!isnan(d)) {
            if (d > 1e11)
                d /= 1000.0;
            if (d > 0)
                return (int64_t)d;
            continue;
        }
        if (ear_jexpr__eval(&s, a->v[i], root) == 0 && s) {
            if (ear_time_parse(&t, s) < 0)
                t = 0;
            else if (t > (int64_t)100000000000LL)
                t /= 1000;
        }
        free(s);
        if (t)
            return t;
    }
    return 0;
}

static int plain(char **out, char *s, int newlines)
{
    struct ear_text t;
    int rc = 0;

    *out = NULL;
    if (!s)
        return 0;
    ear_text__init(&t, 0);
    ear_text__add(&t, s, strlen(s), newlines);
    free(s);
    *out = ear_text__take(&t, &rc);
    return rc;
}

static int map_item(const struct ear_jsonmap *m, const json_t *it,
                    const struct ear_page *page, const char *source_name,
                    struct ear_html *html, struct ear_mention_list *items)
{
    struct ear_mention mn;
    struct ear_mention *slot;
    char *s = NULL;
    const json_t *v;
    int rc;

    ear_mention_init(&mn);
    rc = alts_str(&mn.guid, &m->fields[F_ID], it);
    if (rc == 0)
        rc = alts_str(&s, &m->fields[F_LINK], it);
    if (rc == 0 && s) {
        mn.url = ear_url__resolve(s, page->url);
        free(s);
        s = NULL;
    }
    if (rc == 0)
        rc = alts_str(&s, &m->fields[F_TITLE], it);
    if (rc == 0 && s) {
        rc = ear_html__convert(html, &mn.title, s, strlen(s), 1);
        free(s);
        s = NULL;
    }
    if (rc == 0)
        rc = alts_str(&s, &m->fields[F_TEXT], it);
    if (rc == 0) {
        rc = plain(&mn.text, s, 1);
        s = NULL;
    }
    if (rc == 0 && !mn.text)
        rc = alts_str(&s, &m->fields[F_HTML], it);
    if (rc == 0 && s) {
        rc = ear_html__convert(html, &mn.text, s, strlen(s), 0);
        free(s);
        s = NULL;
    }
    if (rc == 0)
        rc = alts_str(&s, &m->fields[F_AUTHOR], it);
    if (rc == 0) {
        rc = plain(&mn.author, s, 0);
        s = NULL;
    }
    if (rc == 0)
        rc = alts_str(&s, &m->fields[F_RATING], it);
    if (rc == 0 && s) {
        double value, best;

        if (ear_rating__text(&value, &best, s) == 0)
            mn.rating = ear_rating__normalize(
                value, m->worst, !isnan(m->best) ? m->best
                                 : best > 0     ? best
                                                : NAN);
        free(s);
        s = NULL;
    }
    if (rc == 0)
        rc = alts_str(&s, &m->fields[F_LANG], it);
    if (rc == 0 && s) {
        if ((strncmp(s, "hu", 2) == 0 || strncmp(s, "en", 2) == 0)
            && (s[2] == '\0' || s[2] == '-' || s[2] == '_'))
            snprintf(mn.lang, sizeof(mn.lang), "%.2s", s);
        free(s);
        s = NULL;
    }
    if (rc < 0)
        goto out;
    v = alts_node(&m->fields[F_REACH], it);
    if (json_is_integer(v))
        mn.reach = (int64_t)json_integer_value(v);
    else if (json_is_real(v))
        mn.reach = (int64_t)json_real_value(v);
    else if (json_is_string(v) && json_string_value(v)[0] >= '0'
             && json_string_value(v)[0] <= '9')
        mn.reach = strtoll(json_string_value(v), NULL, 10);
    mn.published = alts_time(&m->fields[F_PUBLISHED], it);
    mn.updated = alts_time(&m->fields[F_UPDATED], it);
    if (!mn.published)
        mn.published = mn.updated;
    if (!mn.title && !mn.text)
        goto out; /* nothing to read: not a mention (an error object) */
    rc = ear_str_set(&mn.source, source_name);
    if (rc == 0)
        rc = ear_item__finish(&mn);
    if (rc < 0)
        goto out;
    slot = ear_mention_list_push(items);
    if (!slot) {
        rc = EAR_ENOMEM;
        goto out;
    }
    *slot = mn;
    ear_mention_init(&mn);
out:
    free(s);
    ear_mention_dispose(&mn);
    return rc;
}

struct collect {
    const json_t **v;
    size_t n, cap;
    int rc;
};

static int collect_one(struct collect *c, const json_t *v)
{
    const json_t **nv;

    if (!json_is_object(v))
        return 0;
    nv = ear_grow(c->v, &c->cap, c->n, sizeof *nv, 64);
    if (!nv) {
        c->rc = EAR_ENOMEM;
        return 1;
    }
    c->v = nv;
    c->v[c->n++] = v;
    return 0;
}

/* An items path may end at the array itself (feed.entry) or at its
 * elements (children[*]); Apple sends a lone entry as an object. */
static int collect_visit(const json_t *v, void *payload)
{
    struct collect *c = payload;
    size_t i;
    const json_t *e;

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (collect_one(c, e))
                return 1;
        }
        return 0;
    }
    return collect_one(c, v);
}

static int next_url(char **out, const struct ear_jsonmap *m,
                    const json_t *root, const struct ear_page *page,
                    size_t nitems)
{
    char *v = NULL;
    int rc = 0;

    *out = NULL;
    if (!page->url || m->next == NEXT_NONE)
        return 0;
    switch (m->next) {
    case NEXT_URL:
        rc = alts_str(&v, &m->next_expr, root);
        if (rc == 0 && v)
            *out = ear_url__resolve(v, page->url);
        break;
    case NEXT_PARAM:
        rc = alts_str(&v, &m->next_expr, root);
        if (rc == 0 && v && strcmp(v, "null") != 0) {
            rc = ear_url__set_param(out, page->url, m->next_param, v);
            if (rc == EAR_EINVAL)
                rc = 0;
        }
        break;
    case NEXT_COUNTER: {
        long cur = m->next_start;
        const json_t *t;

        if (nitems == 0)
            break; /* an empty page is the last one */
        if (ear_url__get_counter(&cur, page->url, m->next_param) < 0)
            cur = m->next_start;
        if (m->next_max && cur + 1 > m->next_max)
            break;
        if (m->next_total) {
            t = ear_jpath__first(m->next_total, root);
            if (!json_is_integer(t) || cur + 1 >= json_integer_value(t))
                break;
        }
        rc = ear_url__set_counter(out, page->url, m->next_param, cur + 1);
        if (rc == EAR_EINVAL)
            rc = 0;
        break;
    }
    case NEXT_LINK:
        if (page->link)
            *out = ear_url__link_next(page->link, page->url);
        break;
    case NEXT_NONE:
        break;
    }
    free(v);
    if (rc == 0 && *out && strcmp(*out, page->url) == 0) {
        free(*out); /* a page that links itself is the last */
        *out = NULL;
    }
    return rc;
}

int ear_jsonmap__parse(const struct ear_jsonmap *m,
                       struct ear_mention_list *items,
                       struct ear_feed_info *info,
                       const struct ear_page *page, const char *source_name,
                       char **next, struct ear_error *err)
{
    json_t *root = NULL;
    json_error_t jerr;
    struct collect c = {NULL, 0, 0, 0};
    struct ear_html html;
    const char *body = page->body;
    size_t len = page->len, i, k, before = items->n;
    char *clean = NULL, *s = NULL;
    int rc = 0;

    if (next)
        *next = NULL;
    ear_html__init(&html);
    if (!ear_utf8_valid(body, len)) {
        size_t clean_len;

        clean = ear_utf8_sanitize(body, len, &clean_len);
        if (!clean)
            return ear_error_set(err, EAR_ENOMEM, source_name, 0, 0,
                                 "out of memory");
        body = clean;
        len = clean_len;
    }
    root = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        rc = ear_error_set(err, EAR_EPARSE, source_name, jerr.line,
                           jerr.column > 0 ? jerr.column : 0,
                           "malformed JSON: %s", jerr.text);
        goto out;
    }
    if (info) {
        rc = alts_str(&s, &m->feed_title, root);
        if (rc == 0 && s)
            rc = ear_html__convert(&html, &info->title, s, strlen(s), 1);
        free(s);
        s = NULL;
        if (rc == 0)
            rc = alts_str(&s, &m->feed_link, root);
        if (rc == 0 && s)
            info->link = ear_url__resolve(s, page->url);
        free(s);
        s = NULL;
        if (rc < 0)
            goto oom;
    }
    for (i = 0; i < m->items.n && c.n == 0 && c.rc == 0; i++)
        ear_jexpr__each(m->items.v[i], root, collect_visit, &c);
    rc = c.rc;
    for (k = 0; rc == 0 && k < c.n; k++) {
        if (m->require.n) {
            char *r = NULL;
            int have;

            rc = alts_str(&r, &m->require, c.v[k]);
            have = r != NULL;
            free(r);
            if (rc < 0)
                break;
            if (!have)
                continue;
        }
        rc = map_item(m, c.v[k], page, source_name, &html, items);
    }
    if (rc < 0)
        goto oom;
    if (next) {
        rc = next_url(next, m, root, page, items->n - before);
        if (rc < 0)
            goto oom;
    }
    goto out;
oom:
    rc = ear_error_set(err, rc, source_name, 0, 0, "%s", ear_strerror(rc));
out:
    free(c.v);
    json_decref(root);
    free(clean);
    ear_html__dispose(&html);
    return rc;
}
