/*
 * The digest by e-mail (`earshot digest --mail`).
 *
 *   multipart/alternative
 *   +-- text/plain             the Markdown digest (readable as text)
 *   +-- multipart/related      type="text/html"
 *       +-- text/html          the HTML digest, charts as cid: images
 *       +-- image/png          chart-1@earshot  mentions per day
 *       +-- image/png          chart-2@earshot  flagged by category
 *       +-- image/png          chart-3@earshot  rating distribution
 *
 * Every part is base64, so the message is 7-bit whatever the mentions
 * say, and no boundary (which starts with "=_", impossible in base64) can
 * appear inside a part. The charts are drawn by chart.c from the same JSON
 * the HTML is rendered from.
 */
#include <stdlib.h>
#include <string.h>

#include "output/output_int.h"

static int part_header(struct ear_buf *b, const char *boundary,
                       const char *type, const char *extra)
{
    return ear_buf_addf(b, "--%s\r\nContent-Type: %s\r\n"
                        "Content-Transfer-Encoding: base64\r\n%s\r\n",
                        boundary, type, extra ? extra : "");
}

/* The smtp sink named name (NULL = the first one), in *out. */
static int smtp_sink(const struct ear_output__sink **out,
                     const struct ear_output__sink *v, size_t n,
                     const char *name, struct ear_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != EAR_SINK_SMTP)
            continue;
        if (name && strcmp(v[i].name, name) != 0)
            continue;
        if (!v[i].valid)
            return ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "%s",
                                 v[i].error);
        *out = &v[i];
        return 0;
    }
    if (name && ear_output__sink_find(v, n, name))
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0,
                             "sink '%s' is not an smtp sink", name);
    if (name)
        return ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                             "no sink named '%s' in the config", name);
    return ear_error_set(err, EAR_ENOTFOUND, NULL, 0, 0,
                         "no smtp sink in the config's sinks: (see "
                         "docs/alerts.md)");
}

int ear_digest_mail_build(struct ear_store *st, const struct ear_config *cfg,
                          int64_t since, int64_t until, const char *sink,
                          struct ear_buf *out, struct ear_error *err)
{
    static const struct {
        const char *rows;   /* key of d (or of d.rating) */
        const char *label;
        const char *value;
        const char *part;
        const char *suffix;
    } charts[3] = {
        {"per_day", "name", "mentions", "flagged", ""},
        {"by_category", "name", "flagged", NULL, ""},
        {"distribution", "stars", "count", NULL, " stars"},
    };
    struct ear_output__sink *sinks = NULL;
    const struct ear_output__sink *s = NULL;
    size_t nsinks = 0;
    json_t *d = NULL;
    struct ear_buf text, html, png, subject;
    char boundary[2][64];
    char hex[65];
    char key[96];
    int rc;

    ear_buf_init(&text, EAR_BUF_MAX_DEFAULT);
    ear_buf_init(&html, EAR_BUF_MAX_DEFAULT);
    ear_buf_init(&png, EAR_BUF_MAX_DEFAULT);
    ear_buf_init(&subject, 4096);
    rc = ear_output__sinks_load(cfg, &sinks, &nsinks, err);
    if (rc < 0)
        goto out;
    rc = smtp_sink(&s, sinks, nsinks, sink, err);
    if (rc < 0)
        goto out;
    rc = ear_digest_build(&d, st, cfg, since, until, err);
    if (rc < 0)
        goto out;
    rc = ear_output__digest_md(d, &text);
    if (rc == 0)
        rc = ear_output__digest_html(d, &html, 1);
    if (rc < 0)
        goto oom;

    /* boundaries and the Message-ID from the period and the content */
    snprintf(key, sizeof key, "%lld-%lld-%zu", (long long)since,
             (long long)until, html.len);
    rc = ear_output__sha256_hex(hex, key, strlen(key));
    if (rc < 0)
        goto oom;
    snprintf(boundary[0], sizeof boundary[0], "=_earshot_alt_%.24s", hex);
    snprintf(boundary[1], sizeof boundary[1], "=_earshot_rel_%.24s", hex);

    {
        const json_t *m = json_object_get(d, "mentions");
        const json_t *p = json_object_get(d, "period");

        rc = ear_buf_addf(&subject, "earshot digest: %lld new, %lld "
                          "flagged, %zu incidents (%s to %s)",
                          (long long)json_integer_value(
                              json_object_get(m, "total")),
                          (long long)json_integer_value(
                              json_object_get(m, "flagged")),
                          json_array_size(json_object_get(d, "incidents")),
                          json_string_value(json_object_get(p, "since")),
                          json_string_value(json_object_get(p, "until")));
    }
    if (rc == 0) {
        char msgid[80];

        snprintf(msgid, sizeof msgid, "digest.%.32s", hex);
        rc = ear_output__mail_headers(out, s, ear_buf_str(&subject), msgid);
    }
    if (rc == 0)
        rc = ear_buf_addf(out, "Content-Type: multipart/alternative; "
                          "boundary=\"%s\"\r\n\r\n"
                          "This is a MIME message: the earshot digest.\r\n",
                          boundary[0]);
    if (rc == 0)
        rc = part_header(out, boundary[0], "text/plain; charset=UTF-8",
                         NULL);
    if (rc == 0)
        rc = ear_output__base64(out, text.ptr ? text.ptr : "", text.len, 1);
    if (rc == 0)
        rc = ear_buf_addf(out, "--%s\r\nContent-Type: multipart/related; "
                          "type=\"text/html\"; boundary=\"%s\"\r\n\r\n",
                          boundary[0], boundary[1]);
    if (rc == 0)
        rc = part_header(out, boundary[1], "text/html; charset=UTF-8",
                         NULL);
    if (rc == 0)
        rc = ear_output__base64(out, html.ptr ? html.ptr : "", html.len, 1);
    if (rc < 0)
        goto oom;
    for (int i = 0; i < 3; i++) {
        const json_t *rows = i == 2
            ? json_object_get(json_object_get(d, "rating"), charts[i].rows)
            : json_object_get(d, charts[i].rows);
        char extra[160];

        ear_buf_reset(&png);
        rc = ear_output__chart_png(&png, rows, charts[i].label,
                                   charts[i].value, charts[i].part,
                                   charts[i].suffix, NULL, err);
        if (rc < 0)
            goto out;
        snprintf(extra, sizeof extra, "Content-ID: <chart-%d@earshot>\r\n"
                 "Content-Disposition: inline; filename=\"chart-%d.png\""
                 "\r\n", i + 1, i + 1);
        rc = part_header(out, boundary[1], "image/png", extra);
        if (rc == 0)
            rc = ear_output__base64(out, png.ptr, png.len, 1);
        if (rc < 0)
            goto oom;
    }
    rc = ear_buf_addf(out, "--%s--\r\n--%s--\r\n", boundary[1],
                      boundary[0]);
    if (rc == 0)
        goto out;
oom:
    rc = ear_error_set(err, rc, NULL, 0, 0, "building the digest mail: %s",
                       ear_strerror(rc));
out:
    json_decref(d);
    ear_buf_dispose(&text);
    ear_buf_dispose(&html);
    ear_buf_dispose(&png);
    ear_buf_dispose(&subject);
    ear_output__sinks_free(sinks, nsinks);
    return rc;
}

int ear_digest_mail(struct ear_store *st, const struct ear_config *cfg,
                    int64_t since, int64_t until, const char *sink,
                    struct ear_error *err)
{
    struct ear_output__sink *sinks = NULL;
    const struct ear_output__sink *s = NULL;
    size_t nsinks = 0;
    struct ear_buf msg;
    int rc;

    ear_buf_init(&msg, EAR_BUF_MAX_DEFAULT);
    rc = ear_digest_mail_build(st, cfg, since, until, sink, &msg, err);
    if (rc < 0)
        goto out;
    rc = ear_output__sinks_load(cfg, &sinks, &nsinks, err);
    if (rc < 0)
        goto out;
    rc = smtp_sink(&s, sinks, nsinks, sink, err);
    if (rc == 0)
        rc = ear_output__smtp_send(s, msg.ptr, msg.len, err);
out:
    ear_output__sinks_free(sinks, nsinks);
    ear_buf_dispose(&msg);
    return rc;
}
