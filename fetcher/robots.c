/*
 * robots.txt (RFC 9309): which paths of a site earshot may fetch.
 *
 * The file is read once per site and kept by the fetcher. Of its groups,
 * the ones whose user-agent line names earshot's product token apply;
 * when none does, the "*" groups do. Within them the longest matching
 * Allow or Disallow rule decides (Allow wins a tie); '*' matches any run
 * of characters and a final '$' anchors the end of the path.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetcher/fetcher_int.h"

#define ROBOTS_RULES_MAX 2048

struct rule {
    char *pattern;
    int allow;
};

struct rules {
    struct rule *v;
    size_t n;
};

struct ear_robots {
    struct rules mine; /* groups that name the agent */
    struct rules any;  /* "*" groups */
    int named;         /* a group named the agent */
};

static void rules_free(struct rules *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        free(r->v[i].pattern);
    free(r->v);
}

void ear_robots__free(struct ear_robots *r)
{
    if (!r)
        return;
    rules_free(&r->mine);
    rules_free(&r->any);
    free(r);
}

static int rules_add(struct rules *r, const char *p, size_t n, int allow)
{
    struct rule *v;

    if (r->n >= ROBOTS_RULES_MAX)
        return 0;
    v = realloc(r->v, (r->n + 1) * sizeof(*v));
    if (!v)
        return EAR_ENOMEM;
    r->v = v;
    v[r->n].pattern = ear_strndup(p, n);
    if (!v[r->n].pattern)
        return EAR_ENOMEM;
    v[r->n].allow = allow;
    r->n++;
    return 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'
                  || (*s)[*n - 1] == '\r'))
        (*n)--;
}

int ear_robots__parse(struct ear_robots **out, const char *body, size_t len,
                      const char *agent)
{
    struct ear_robots *r;
    const char *p = body, *end = body + len;
    int in_agents = 0; /* the last line was a user-agent line */
    int mine = 0, any = 0;
    int rc = 0;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return EAR_ENOMEM;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line = p, *colon, *hash;
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t klen, vlen;
        const char *val;

        p = nl ? nl + 1 : end;
        hash = memchr(line, '#', n);
        if (hash)
            n = (size_t)(hash - line);
        colon = memchr(line, ':', n);
        if (!colon)
            continue;
        klen = (size_t)(colon - line);
        val = colon + 1;
        vlen = n - klen - 1;
        trim(&line, &klen);
        trim(&val, &vlen);
        if (klen == 10 && strncasecmp(line, "user-agent", 10) == 0) {
            size_t alen = strlen(agent);

            if (!in_agents) {
                mine = 0;
                any = 0;
            }
            in_agents = 1;
            if (vlen == 1 && val[0] == '*')
                any = 1;
            else if (vlen >= alen && strncasecmp(val, agent, alen) == 0
                     && (vlen == alen || val[alen] == '/'
                         || val[alen] == ' '))
                mine = 1;
            if (mine)
                r->named = 1;
            continue;
        }
        in_agents = 0;
        if ((klen == 5 && strncasecmp(line, "allow", 5) == 0)
            || (klen == 8 && strncasecmp(line, "disallow", 8) == 0)) {
            int allow = klen == 5;

            if (vlen == 0)
                continue; /* "Disallow:" with nothing allows everything */
            if (mine)
                rc = rules_add(&r->mine, val, vlen, allow);
            if (rc == 0 && any)
                rc = rules_add(&r->any, val, vlen, allow);
        }
    }
    if (rc < 0) {
        ear_robots__free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Does the pattern match path? Without a final '$' a pattern matches
 * any path it is a prefix of. Wildcards backtrack iteratively, in time
 * linear in path length times pattern length at worst. */
static int match(const char *pat, const char *path)
{
    size_t plen = strlen(pat);
    int anchored = plen > 0 && pat[plen - 1] == '$';
    const char *p = pat, *pe, *s = path, *star = NULL, *ss = NULL;

    if (anchored)
        plen--;
    pe = pat + plen;
    while (*s) {
        if (p < pe && *p == '*') {
            star = p++;
            ss = s;
            continue;
        }
        if (p < pe && *p == *s) {
            p++;
            s++;
            continue;
        }
        if (p == pe && !anchored)
            return 1;
        if (star) {
            p = star + 1;
            s = ++ss;
            continue;
        }
        return 0;
    }
    while (p < pe && *p == '*')
        p++;
    return p == pe;
}

int ear_robots__allowed(const struct ear_robots *r, const char *path)
{
    const struct rules *rs;
    size_t i, best = 0;
    int allow = 1, found = 0;

    if (!r)
        return 1;
    rs = r->named ? &r->mine : &r->any;
    if (!path || !*path)
        path = "/";
    for (i = 0; i < rs->n; i++) {
        size_t len = strlen(rs->v[i].pattern);

        if (!match(rs->v[i].pattern, path))
            continue;
        if (!found || len > best || (len == best && rs->v[i].allow)) {
            best = len;
            allow = rs->v[i].allow;
            found = 1;
        }
    }
    if (strcmp(path, "/robots.txt") == 0)
        return 1;
    return allow;
}
