/*
 * The last step every parser takes for an item: its strings made valid
 * UTF-8, its link made canonical, and its key chosen. The key must stay the
 * same across polls for the same item, so it comes from what the source
 * says is the identity (guid / id), else the canonical link, else a hash of
 * what the item says (FNV-1a 64 of title and text).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fetcher_int.h"

uint64_t ear_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int sanitize(char **field)
{
    size_t len, out_len;
    char *s;

    if (!*field)
        return 0;
    len = strlen(*field);
    if (ear_utf8_valid(*field, len))
        return 0;
    s = ear_utf8_sanitize(*field, len, &out_len);
    if (!s)
        return EAR_ENOMEM;
    free(*field);
    *field = s;
    return 0;
}

/* Empty (after trimming) becomes NULL. */
static int trim_field(char **field)
{
    char *s = *field, *start, *end;

    if (!s)
        return 0;
    start = s;
    while (*start == ' ' || *start == '\t' || *start == '\n'
           || *start == '\r')
        start++;
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'
                           || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end == start) {
        free(s);
        *field = NULL;
        return 0;
    }
    if (start != s || *end) {
        memmove(s, start, (size_t)(end - start));
        s[end - start] = '\0';
    }
    return 0;
}

int ear_item__clean(char **field)
{
    int rc = sanitize(field);

    if (rc == 0)
        trim_field(field);
    return rc;
}

int ear_item__finish(struct ear_mention *m)
{
    char **fields[] = {&m->source, &m->guid, &m->url, &m->author,
                       &m->title, &m->text};
    char buf[32];
    size_t i;
    int rc;

    /* libxml2 and jansson hand out UTF-8 only, and the text accumulator
     * cuts at character boundaries: this is the safety net, not the
     * conversion (checked without a copy when the text is valid). */
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        rc = sanitize(fields[i]);
        if (rc < 0)
            return rc;
    }
    trim_field(&m->guid);
    trim_field(&m->url);
    trim_field(&m->author);
    trim_field(&m->title);
    trim_field(&m->text);
    if (m->url) {
        char *canon;

        rc = ear_url_canonical(&canon, m->url);
        if (rc < 0)
            return rc;
        free(m->url);
        m->url = canon;
    }
    free(m->key);
    m->key = NULL;
    if (m->guid)
        return ear_str_set(&m->key, m->guid);
    if (m->url)
        return ear_str_set(&m->key, m->url);
    {
        uint64_t h = EAR_FNV_OFFSET;

        if (m->title)
            h = ear_fnv1a(h, m->title, strlen(m->title));
        h = ear_fnv1a(h, "\n", 1);
        if (m->text)
            h = ear_fnv1a(h, m->text, strlen(m->text));
        snprintf(buf, sizeof(buf), "fnv1a64:%016" PRIx64, h);
    }
    return ear_str_set(&m->key, buf);
}
