/*
 * JSON Feed 1.0 / 1.1 (https://jsonfeed.org) read with jansson.
 *
 * The document is recognised by its version URL or, lacking one, by a
 * top-level "items" array. Items map to mentions: id, url (else
 * external_url), title, content_text (else content_html as HTML, else
 * summary), author.name (1.0) or authors[0].name (1.1), date_published /
 * date_modified as RFC 3339 or, leniently, epoch seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fetcher/fetcher_int.h"

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jtime(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    int64_t t = 0;

    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_string(v) && ear_time_parse(&t, json_string_value(v)) == 0)
        return t;
    return 0;
}

/* author.name, else authors[0].name. Borrowed. */
static const char *jauthor(const json_t *o)
{
    const json_t *a = json_object_get(o, "author");
    const json_t *list = json_object_get(o, "authors");

    if (json_is_object(a) && jstr(a, "name"))
        return jstr(a, "name");
    if (json_is_array(list) && json_array_size(list) > 0) {
        a = json_array_get(list, 0);
        if (json_is_object(a))
            return jstr(a, "name");
    }
    return NULL;
}

static int plain(char **out, const char *s, int newlines)
{
    struct ear_text t;
    int rc = 0;

    *out = NULL;
    if (!s)
        return 0;
    ear_text__init(&t, 0);
    ear_text__add(&t, s, strlen(s), newlines);
    *out = ear_text__take(&t, &rc);
    return rc;
}

static int json_item(struct ear_mention_list *items, const json_t *it,
                     const char *base_url, const char *feed_author,
                     const char *source_name, struct ear_html *html)
{
    struct ear_mention m;
    struct ear_mention *slot;
    const json_t *id = json_object_get(it, "id");
    const char *link, *s, *hs, *author;
    char num[32];
    int rc = 0;

    ear_mention_init(&m);
    if (json_is_string(id)) {
        rc = ear_str_set(&m.guid, json_string_value(id));
    } else if (json_is_integer(id)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
        rc = ear_str_set(&m.guid, num);
    }
    if (rc < 0)
        goto out;
    link = jstr(it, "url");
    if (!link)
        link = jstr(it, "external_url");
    if (link)
        m.url = ear_url__resolve(link, base_url);
    rc = plain(&m.title, jstr(it, "title"), 0);
    if (rc < 0)
        goto out;
    s = jstr(it, "content_text");
    hs = jstr(it, "content_html");
    if (s)
        rc = plain(&m.text, s, 1);
    else if (hs)
        rc = ear_html__convert(html, &m.text, hs, strlen(hs), 0);
    else
        rc = plain(&m.text, jstr(it, "summary"), 1);
    if (rc < 0)
        goto out;
    author = jauthor(it);
    rc = ear_str_set(&m.author, author ? author : feed_author);
    if (rc == 0)
        rc = ear_str_set(&m.source, source_name);
    if (rc < 0)
        goto out;
    m.published = jtime(it, "date_published");
    m.updated = jtime(it, "date_modified");
    if (!m.published)
        m.published = m.updated;
    rc = ear_item__finish(&m);
    if (rc < 0)
        goto out;
    slot = ear_mention_list_push(items);
    if (!slot) {
        rc = EAR_ENOMEM;
        goto out;
    }
    *slot = m;
    ear_mention_init(&m);
out:
    ear_mention_dispose(&m);
    return rc;
}

int ear_feed__json(struct ear_mention_list *items, struct ear_feed_info *info,
                   const char *body, size_t len, const char *base_url,
                   const char *source_name, struct ear_error *err)
{
    json_t *root = NULL;
    json_error_t jerr;
    const json_t *list, *it;
    const char *version;
    char *clean = NULL;
    struct ear_html html;
    size_t i;
    int rc = 0;

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
    version = json_is_object(root) ? jstr(root, "version") : NULL;
    list = json_is_object(root) ? json_object_get(root, "items") : NULL;
    if (!json_is_array(list)
        && !(version && strstr(version, "jsonfeed.org/version/"))) {
        rc = ear_error_set(err, EAR_EPARSE, source_name, 1, 1,
                           "not a feed: JSON without a JSON Feed version "
                           "or an \"items\" array");
        goto out;
    }
    if (info) {
        const char *home = jstr(root, "home_page_url");

        rc = plain(&info->title, jstr(root, "title"), 0);
        if (rc < 0)
            goto oom;
        if (home)
            info->link = ear_url__resolve(home, base_url);
    }
    json_array_foreach(list, i, it) {
        if (!json_is_object(it))
            continue;
        rc = json_item(items, it, base_url, jauthor(root), source_name,
                       &html);
        if (rc < 0)
            goto oom;
    }
    goto out;
oom:
    rc = ear_error_set(err, rc, source_name, 0, 0, "%s", ear_strerror(rc));
out:
    json_decref(root);
    free(clean);
    ear_html__dispose(&html);
    return rc;
}
