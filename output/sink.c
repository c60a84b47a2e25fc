/*
 * Sinks as configured: each `sinks:` map of the config checked against its
 * type (which keys apply, which are required, what the values look like),
 * and the per-sink filters that decide which alerts it receives.
 *
 * Core accepts the keys; the meaning of each belongs here. A sink with a
 * mistake is not dropped: it is kept with valid = 0 and the mistake as
 * path:line:col, so alerts for it wait in the outbox (and say why) until
 * the config is fixed. docs/alerts.md describes every key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/output_int.h"

static const char *const type_names[] = {
    "jsonl", "webhook", "slack", "teams", "mattermost", "http", "smtp", NULL
};

/* Keys beyond name, type, filters and enabled, per type. */
static const char *const http_keys[] = {"url", "headers", "username",
                                        "password", NULL};
static const char *const webhook_keys[] = {"url", "secret", "headers",
                                           "username", "password", NULL};
static const char *const http_tmpl_keys[] = {"url", "secret", "headers",
                                             "template", "username",
                                             "password", NULL};
static const char *const jsonl_keys[] = {"path", NULL};
static const char *const smtp_keys[] = {"url", "to", "from", "subject",
                                        "username", "password", NULL};
static const char *const common_keys[] = {
    "name", "type", "severity", "categories", "teams", "brands",
    "incidents_only", "max_per_hour", "enabled", NULL};

const char *const ear_output__fields[] = {
    "event", "id", "summary", "queue_id", "mention_id", "incident_id",
    "severity", "category", "categories", "team", "brand", "source", "lang",
    "title", "text", "url", "author", "rating", "reach", "published",
    "queued", "due", "explain", "terms", "count", "peak", "window",
    "started", "last", "reason", "sink", NULL
};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

static const char *const *type_keys(enum ear_sink_type t)
{
    switch (t) {
    case EAR_SINK_JSONL: return jsonl_keys;
    case EAR_SINK_WEBHOOK: return webhook_keys;
    case EAR_SINK_HTTP: return http_tmpl_keys;
    case EAR_SINK_SMTP: return smtp_keys;
    case EAR_SINK_SLACK:
    case EAR_SINK_TEAMS:
    case EAR_SINK_MATTERMOST: return http_keys;
    }
    return http_keys;
}

void ear_output__sinks_free(struct ear_output__sink *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].to);
        free(v[i].categories);
        free(v[i].teams);
        free(v[i].brands);
        free(v[i].path_owned);
    }
    free(v);
}

const struct ear_output__sink *ear_output__sink_find(
    const struct ear_output__sink *v, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* ------------------------------------------------------------ templates */

static int field_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

int ear_output__template_check(const char *tmpl, const char **bad,
                               size_t *badlen)
{
    const char *p = tmpl;
    char name[40];

    while ((p = strstr(p, "${")) != NULL) {
        const char *q = p + 2;
        size_t len;

        while (field_name_char(*q))
            q++;
        len = (size_t)(q - p - 2);
        if (*q != '}' || len == 0 || len >= sizeof name) {
            *bad = p;
            *badlen = *q == '}' ? len + 3 : len + 2;
            return EAR_EINVAL;
        }
        memcpy(name, p + 2, len);
        name[len] = '\0';
        if (!in_list(ear_output__fields, name)) {
            *bad = p;
            *badlen = len + 3;
            return EAR_EINVAL;
        }
        p = q + 1;
    }
    return 0;
}

static int add_value(struct ear_buf *out, const json_t *v, int json)
{
    char *s;
    int rc;

    if (json_is_string(v)) {
        if (!json)
            return ear_buf_adds(out, json_string_value(v));
        /* json_dumps of a string gives it quoted and escaped */
        s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!s)
            return EAR_ENOMEM;
        rc = ear_buf_addn(out, s + 1, strlen(s) - 2);
        free(s);
        return rc;
    }
    if (json_is_integer(v))
        return ear_buf_addf(out, "%" JSON_INTEGER_FORMAT,
                            json_integer_value(v));
    if (json_is_real(v))
        return ear_buf_addf(out, "%g", json_real_value(v));
    if (json_is_true(v))
        return ear_buf_adds(out, "true");
    if (json_is_false(v))
        return ear_buf_adds(out, "false");
    if (json_is_array(v)) {
        size_t i;
        json_t *item;

        json_array_foreach(v, i, item) {
            if (!json_is_string(item) && !json_is_number(item))
                continue;
            if (i > 0 && (rc = ear_buf_adds(out, ", ")) < 0)
                return rc;
            if ((rc = add_value(out, item, json)) < 0)
                return rc;
        }
    }
    return 0;
}

int ear_output__template(struct ear_buf *out, const char *tmpl,
                         const json_t *payload, int json)
{
    const char *p = tmpl;
    int rc = 0;

    while (*p && rc == 0) {
        const char *q;
        char name[40];
        size_t len;

        if (p[0] != '$' || p[1] != '{') {
            const char *next = strstr(p, "${");
            size_t n = next ? (size_t)(next - p) : strlen(p);

            if (n == 0)
                n = 1;
            rc = ear_buf_addn(out, p, n);
            p += n;
            continue;
        }
        q = p + 2;
        while (field_name_char(*q))
            q++;
        len = (size_t)(q - p - 2);
        if (*q != '}' || len == 0 || len >= sizeof name) {
            rc = ear_buf_addn(out, p, 2);
            p += 2;
            continue;
        }
        memcpy(name, p + 2, len);
        name[len] = '\0';
        rc = add_value(out, json_object_get(payload, name), json);
        p = q + 1;
    }
    return rc;
}

/* ------------------------------------------------------------ checking */

struct checker {
    const struct ear_config *cfg;
    struct ear_output__sink *s;
    const char *path;
    struct ear_error err;
};

static int bad(struct checker *c, const struct ear_ynode *at,
               const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(struct checker *c, const struct ear_ynode *at,
               const char *fmt, ...)
{
    const struct ear_ynode *pos = at ? at : c->s->cfg->opts;
    char text[sizeof c->err.text];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return ear_error_set(&c->err, EAR_EINVAL, c->path,
                         pos ? pos->line : c->s->cfg->line,
                         pos ? pos->col : c->s->cfg->col, "%s", text);
}

static int want_str(struct checker *c, const char *key, const char **out,
                    int required)
{
    const struct ear_ynode *n = ear_ynode_get(c->s->cfg->opts, key);
    int rc;

    if (!n) {
        if (required)
            return bad(c, NULL, "sink '%s' (%s) needs '%s'", c->s->name,
                       c->s->cfg->type, key);
        return 0;
    }
    rc = ear_ynode_str(out, n, c->path, key, &c->err);
    if (rc == 0 && (!*out || !**out))
        return bad(c, n, "'%s' must not be empty", key);
    return rc;
}

static int check_url(struct checker *c, int smtp)
{
    const char *u = c->s->url;
    const struct ear_ynode *n = ear_ynode_get(c->s->cfg->opts, "url");

    if (smtp) {
        if (strncasecmp(u, "smtp://", 7) != 0 &&
            strncasecmp(u, "smtps://", 8) != 0)
            return bad(c, n, "url '%s' of an smtp sink must start with "
                       "smtp:// (STARTTLS) or smtps://", u);
        return 0;
    }
    if (strncasecmp(u, "http://", 7) != 0 &&
        strncasecmp(u, "https://", 8) != 0)
        return bad(c, n, "url '%s' must start with http:// or https://",
                   u);
    return 0;
}

static int check_headers(struct checker *c)
{
    const struct ear_ynode *h = ear_ynode_get(c->s->cfg->opts, "headers");

    if (!h)
        return 0;
    if (h->type != EAR_Y_MAP)
        return bad(c, h, "'headers' must be a map of header names to "
                   "values");
    for (size_t i = 0; i < h->n; i++) {
        const char *k = h->keys[i]->value;
        const struct ear_ynode *v = h->items[i];

        if (!k || !*k || strpbrk(k, ": \t\r\n"))
            return bad(c, h->keys[i], "bad header name '%s'",
                       k ? k : "");
        if (v->type != EAR_Y_SCALAR || !v->value)
            return bad(c, v, "header '%s' needs a single value", k);
        if (strpbrk(v->value, "\r\n"))
            return bad(c, v, "header '%s' must be one line", k);
    }
    return 0;
}

static int check_template(struct checker *c, const char *key,
                          const char *tmpl, int json)
{
    const struct ear_ynode *n = ear_ynode_get(c->s->cfg->opts, key);
    const char *b = NULL;
    size_t blen = 0;
    char what[48];
    struct ear_buf out;
    json_t *sample = NULL;
    json_t *parsed = NULL;
    json_error_t jerr;
    int rc;

    if (ear_output__template_check(tmpl, &b, &blen) < 0) {
        snprintf(what, sizeof what, "%.*s", (int)(blen < 40 ? blen : 40), b);
        return bad(c, n, "unknown placeholder '%s' in %s (see docs/alerts.md "
                   "for the fields)", what, key);
    }
    if (!json)
        return 0;
    /* Filled with sample values, the body must be JSON. */
    sample = json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:I}", "title",
                       "a \"quoted\" title", "text", "line\nbreak", "event",
                       "mention", "severity", "high", "categories",
                       "billing", "refund", "queue_id", (json_int_t)1);
    if (!sample)
        return EAR_ENOMEM;
    ear_buf_init(&out, 1 << 20);
    rc = ear_output__template(&out, tmpl, sample, 1);
    if (rc == 0) {
        parsed = json_loads(ear_buf_str(&out), JSON_DECODE_ANY, &jerr);
        if (!parsed)
            rc = bad(c, n, "%s is not JSON once filled in: %s",
                     key, jerr.text);
    }
    json_decref(parsed);
    json_decref(sample);
    ear_buf_dispose(&out);
    return rc;
}

static int strlist(struct checker *c, const char *key, const char ***out,
                   size_t *n)
{
    return ear_ynode_strlist(out, n, ear_ynode_get(c->s->cfg->opts, key),
                             c->path, key, &c->err);
}

static int check_sink(struct checker *c)
{
    struct ear_output__sink *s = c->s;
    const struct ear_ynode *opts = s->cfg->opts;
    const char *const *allowed = type_keys(s->type);
    const char *sev = NULL;
    long long mph = -1;
    int rc;

    /* keys that do not apply to this type */
    for (size_t i = 0; opts && opts->type == EAR_Y_MAP && i < opts->n; i++) {
        const char *k = opts->keys[i]->value;

        if (!k || in_list(common_keys, k) || in_list(allowed, k))
            continue;
        return bad(c, opts->keys[i], "'%s' does not apply to a %s sink",
                   k, s->cfg->type);
    }
    if ((rc = ear_ynode_bool(&s->enabled, ear_ynode_get(opts, "enabled"),
                             c->path, "enabled", &c->err)) < 0 ||
        (rc = ear_ynode_bool(&s->incidents_only,
                             ear_ynode_get(opts, "incidents_only"), c->path,
                             "incidents_only", &c->err)) < 0 ||
        (rc = ear_ynode_int(&mph, ear_ynode_get(opts, "max_per_hour"), 0,
                            100000, c->path, "max_per_hour", &c->err)) < 0 ||
        (rc = want_str(c, "severity", &sev, 0)) < 0 ||
        (rc = strlist(c, "categories", &s->categories, &s->ncategories)) < 0
        || (rc = strlist(c, "teams", &s->teams, &s->nteams)) < 0 ||
        (rc = strlist(c, "brands", &s->brands, &s->nbrands)) < 0)
        return rc;
    if (mph >= 0)
        s->max_per_hour = mph;
    if (sev && ear_severity_parse(&s->min_severity, sev) < 0)
        return bad(c, ear_ynode_get(opts, "severity"), "unknown severity "
                   "'%s' (expected low, medium, high or critical)", sev);
    if (s->brands)
        for (size_t i = 0; i < s->nbrands; i++)
            if (!ear_config_brand(c->cfg, s->brands[i]))
                return bad(c, ear_ynode_get(opts, "brands"), "no brand "
                           "named '%s' in brands:", s->brands[i]);
    for (size_t i = 0; s->teams && i < s->nteams; i++) {
        size_t j;

        for (j = 0; j < c->cfg->nteams; j++)
            if (strcasecmp(c->cfg->teams[j].name, s->teams[i]) == 0)
                break;
        if (j == c->cfg->nteams && c->cfg->nteams > 0 &&
            !(c->cfg->default_team &&
              strcasecmp(c->cfg->default_team, s->teams[i]) == 0))
            return bad(c, ear_ynode_get(opts, "teams"), "no team named "
                       "'%s' in teams:", s->teams[i]);
    }

    switch (s->type) {
    case EAR_SINK_JSONL:
        if ((rc = want_str(c, "path", &s->path, 1)) < 0)
            return rc;
        if (strcmp(s->path, "-") != 0 && s->path[0] != '/' && c->cfg->dir) {
            size_t len = strlen(c->cfg->dir) + strlen(s->path) + 2;

            s->path_owned = malloc(len);
            if (!s->path_owned)
                return EAR_ENOMEM;
            snprintf(s->path_owned, len, "%s/%s", c->cfg->dir, s->path);
            s->path = s->path_owned;
        }
        break;
    case EAR_SINK_SMTP:
        if ((rc = want_str(c, "url", &s->url, 1)) < 0 ||
            (rc = check_url(c, 1)) < 0 ||
            (rc = want_str(c, "from", &s->from, 1)) < 0 ||
            (rc = strlist(c, "to", &s->to, &s->nto)) < 0 ||
            (rc = want_str(c, "subject", &s->subject, 0)) < 0 ||
            (rc = want_str(c, "username", &s->username, 0)) < 0 ||
            (rc = want_str(c, "password", &s->password, 0)) < 0)
            return rc;
        if (!s->to || s->nto == 0)
            return bad(c, NULL, "sink '%s' (smtp) needs 'to'", s->name);
        for (size_t i = 0; i < s->nto; i++)
            if (!strchr(s->to[i], '@') || strpbrk(s->to[i], "<>\r\n ,"))
                return bad(c, ear_ynode_get(opts, "to"), "'%s' is not an "
                           "e-mail address", s->to[i]);
        if (!strchr(s->from, '@') || strpbrk(s->from, "<>\r\n ,"))
            return bad(c, ear_ynode_get(opts, "from"), "'%s' is not an "
                       "e-mail address", s->from);
        if (s->subject && (rc = check_template(c, "subject", s->subject,
                                               0)) < 0)
            return rc;
        if (s->max_per_hour < 0)
            s->max_per_hour = 20;
        break;
    default:
        if ((rc = want_str(c, "url", &s->url, 1)) < 0 ||
            (rc = check_url(c, 0)) < 0 ||
            (rc = check_headers(c)) < 0 ||
            (rc = want_str(c, "username", &s->username, 0)) < 0 ||
            (rc = want_str(c, "password", &s->password, 0)) < 0)
            return rc;
        s->headers = ear_ynode_get(opts, "headers");
        if (s->type == EAR_SINK_WEBHOOK || s->type == EAR_SINK_HTTP)
            if ((rc = want_str(c, "secret", &s->secret, 0)) < 0)
                return rc;
        if (s->type == EAR_SINK_HTTP) {
            if ((rc = want_str(c, "template", &s->tmpl, 1)) < 0 ||
                (rc = check_template(c, "template", s->tmpl, 1)) < 0)
                return rc;
        }
        if (s->max_per_hour < 0)
            s->max_per_hour = s->type == EAR_SINK_WEBHOOK ||
                              s->type == EAR_SINK_HTTP ? 0 : 20;
        break;
    }
    if (s->max_per_hour < 0)
        s->max_per_hour = 0;
    return 0;
}

int ear_output__sinks_load(const struct ear_config *cfg,
                           struct ear_output__sink **out, size_t *n,
                           struct ear_error *err)
{
    struct ear_output__sink *v;
    size_t nv;

    *out = NULL;
    *n = 0;
    if (!cfg || cfg->nsinks == 0)
        return 0;
    v = calloc(cfg->nsinks, sizeof *v);
    if (!v)
        return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
    for (nv = 0; nv < cfg->nsinks; nv++) {
        struct checker c;
        struct ear_output__sink *s = &v[nv];
        size_t t;
        int rc;

        memset(&c, 0, sizeof c);
        c.cfg = cfg;
        c.s = s;
        c.path = cfg->path;
        s->cfg = &cfg->sinks[nv];
        s->name = s->cfg->name;
        s->enabled = 1;
        s->max_per_hour = -1;
        for (t = 0; type_names[t]; t++)
            if (s->cfg->type && strcmp(s->cfg->type, type_names[t]) == 0)
                break;
        if (!type_names[t]) {
            ear_error_set(&c.err, EAR_EINVAL, cfg->path, s->cfg->line,
                          s->cfg->col, "unknown sink type '%s'",
                          s->cfg->type ? s->cfg->type : "");
            rc = EAR_EINVAL;
        } else {
            s->type = (enum ear_sink_type)t;
            rc = check_sink(&c);
        }
        if (rc == EAR_ENOMEM) {
            ear_output__sinks_free(v, nv + 1);
            return ear_error_set(err, EAR_ENOMEM, NULL, 0, 0,
                                 "out of memory");
        }
        s->valid = rc == 0;
        if (!s->valid)
            ear_error_format(&c.err, s->error, sizeof s->error);
    }
    *out = v;
    *n = nv;
    return 0;
}

/* ------------------------------------------------------------ filters */

static int list_has(const char **list, size_t n, const char *value)
{
    if (!list)
        return 1;
    if (!value)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i], value) == 0)
            return 1;
    return 0;
}

int ear_output__sink_wants(const struct ear_output__sink *sink,
                           const struct ear_output__subject *s)
{
    int cat_ok = 0;

    if (!sink->valid || !sink->enabled)
        return 0;
    if (sink->incidents_only && !s->incident)
        return 0;
    if (!s->incident && s->severity < sink->min_severity)
        return 0;
    if (!list_has(sink->teams, sink->nteams, s->team) ||
        !list_has(sink->brands, sink->nbrands, s->brand))
        return 0;
    if (!sink->categories)
        return 1;
    for (size_t i = 0; i < s->ncats && !cat_ok; i++)
        cat_ok = list_has(sink->categories, sink->ncategories, s->cats[i]);
    return cat_ok;
}

int ear_output__sinks_want(const struct ear_output__sink *sinks, size_t n,
                           const struct ear_output__subject *s)
{
    for (size_t i = 0; i < n; i++)
        if (sinks[i].enabled &&
            (!sinks[i].valid || ear_output__sink_wants(&sinks[i], s)))
            return 1;
    return 0;
}

int ear_output_check(const struct ear_config *cfg, struct ear_error *err)
{
    struct ear_output__sink *v = NULL;
    size_t n = 0;
    int rc;

    rc = ear_output__sinks_load(cfg, &v, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!v[i].valid)
            rc = ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "%s",
                               v[i].error);
    ear_output__sinks_free(v, n);
    if (rc == 0) {
        struct ear_incident_opts o;

        rc = ear_incident_opts_read(&o, cfg, err);
    }
    return rc;
}
