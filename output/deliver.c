/*
 * Sending one alert: the payload rendered in the shape each sink type
 * expects, then handed over (appended to a file, POSTed with libcurl, or
 * mailed over SMTP with libcurl).
 *
 *   jsonl       the payload plus "id" (idempotency key) and "sink", one line
 *   webhook     the same JSON, POSTed, with Idempotency-Key and, with a
 *               secret, X-Earshot-Signature: sha256=HMAC-SHA256(body)
 *   slack       {"text", "blocks"} (mrkdwn, & < > escaped)
 *   mattermost  {"text"} in Markdown (escaped, links only for http(s))
 *   teams       an Adaptive Card message (Workflows / incoming webhook)
 *   http        the sink's template, ${field}s JSON-escaped
 *   smtp        a text/plain UTF-8 mail, base64, RFC 2047 subject
 *
 * Everything a mention's author wrote is escaped for the target's markup;
 * only http: and https: URLs become links.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "output/output_int.h"

#define HTTP_TIMEOUT 20L
#define HTTP_CONNECT_TIMEOUT 10L
#define RESPONSE_KEEP 300

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static int is_summary(const json_t *p)
{
    return strcmp(jstr(p, "event"), "summary") == 0;
}

/* ------------------------------------------------------------ escaping */

/* Slack mrkdwn: & < > as entities (so "<!channel>" or "<http://x|y>"
 * written by a customer stays text), control characters as spaces. */
static int slack_escape(struct ear_buf *b, const char *s, size_t max)
{
    struct ear_buf clean;
    const char *p;
    int rc;

    ear_buf_init(&clean, 1 << 20);
    rc = ear_text_snippet(&clean, s, max);
    for (p = ear_buf_str(&clean); rc == 0 && *p; p++) {
        if (*p == '&')
            rc = ear_buf_adds(b, "&amp;");
        else if (*p == '<')
            rc = ear_buf_adds(b, "&lt;");
        else if (*p == '>')
            rc = ear_buf_adds(b, "&gt;");
        else
            rc = ear_buf_addc(b, *p);
    }
    ear_buf_dispose(&clean);
    return rc;
}

static int md_snippet(struct ear_buf *b, const char *s, size_t max)
{
    struct ear_buf clean;
    int rc;

    ear_buf_init(&clean, 1 << 20);
    rc = ear_text_snippet(&clean, s, max);
    if (rc == 0)
        rc = ear_md_escape(b, ear_buf_str(&clean));
    ear_buf_dispose(&clean);
    return rc;
}

/* ------------------------------------------------------------ bodies */

/* The payload with id, sink and summary added. New reference. */
static json_t *full_payload(const json_t *pl, const char *idem,
                            const char *sink)
{
    json_t *o = json_deep_copy(pl);
    struct ear_buf line;

    if (!o)
        return NULL;
    ear_buf_init(&line, 1 << 16);
    if (ear_output__payload_line(&line, pl) < 0 ||
        json_object_set_new(o, "id", json_string(idem)) < 0 ||
        json_object_set_new(o, "sink", json_string(sink)) < 0 ||
        json_object_set_new(o, "summary",
                            ear_output__json_str(ear_buf_str(&line))) < 0) {
        json_decref(o);
        o = NULL;
    }
    ear_buf_dispose(&line);
    return o;
}

static int dump_into(struct ear_buf *b, const json_t *o)
{
    char *s;
    int rc;

    if (!o)
        return EAR_ENOMEM;
    s = json_dumps(o, JSON_COMPACT);
    if (!s)
        return EAR_ENOMEM;
    rc = ear_buf_adds(b, s);
    free(s);
    return rc;
}

/* The lines of a summary's items ("- line"), for chat messages. */
static int summary_lines(struct ear_buf *b, const json_t *pl, int slack)
{
    const json_t *items = json_object_get(pl, "items");
    json_int_t count = json_integer_value(json_object_get(pl, "count"));
    size_t i;
    json_t *it;
    int rc = 0;

    json_array_foreach(items, i, it) {
        const char *url = jstr(it, "url");

        rc = ear_buf_adds(b, "\n- ");
        if (rc == 0)
            rc = slack ? slack_escape(b, jstr(it, "line"), 160)
                       : md_snippet(b, jstr(it, "line"), 160);
        if (rc == 0 && ear_url_linkable(url)) {
            rc = ear_buf_adds(b, slack ? " <" : " [open](");
            if (rc == 0)
                rc = ear_url_encode(b, url);
            if (rc == 0)
                rc = ear_buf_adds(b, slack ? "|open>" : ")");
        }
        if (rc < 0)
            return rc;
    }
    if (count > (json_int_t)json_array_size(items))
        rc = ear_buf_addf(b, "\n... and %" JSON_INTEGER_FORMAT " more",
                          count - (json_int_t)json_array_size(items));
    return rc;
}

/* The body text of a chat message (title line excluded). */
static int chat_details(struct ear_buf *b, const json_t *pl, int slack)
{
    const char *text = jstr(pl, "text");
    const char *url = jstr(pl, "url");
    int rc = 0;

    if (is_summary(pl))
        return summary_lines(b, pl, slack);
    if (text[0]) {
        rc = ear_buf_adds(b, slack ? "\n>" : "\n> ");
        if (rc == 0)
            rc = slack ? slack_escape(b, text, 400)
                       : md_snippet(b, text, 400);
    }
    if (rc == 0 && ear_url_linkable(url)) {
        rc = ear_buf_adds(b, slack ? "\n<" : "\n[Open the original](");
        if (rc == 0)
            rc = ear_url_encode(b, url);
        if (rc == 0)
            rc = ear_buf_adds(b, slack ? "|Open the original>" : ")");
    }
    if (rc == 0 && json_is_integer(json_object_get(pl, "queue_id")))
        rc = ear_buf_addf(b, "\nqueue #%" JSON_INTEGER_FORMAT ", team ",
                          json_integer_value(json_object_get(pl,
                                                             "queue_id")));
    if (rc == 0 && json_is_integer(json_object_get(pl, "queue_id")))
        rc = slack ? slack_escape(b, jstr(pl, "team"), 40)
                   : md_snippet(b, jstr(pl, "team"), 40);
    if (rc == 0 && jstr(pl, "reason")[0]) {
        rc = ear_buf_adds(b, "\n");
        if (rc == 0)
            rc = slack ? slack_escape(b, jstr(pl, "reason"), 300)
                       : md_snippet(b, jstr(pl, "reason"), 300);
    }
    return rc;
}

static int render_slack(struct ear_buf *b, const json_t *pl)
{
    struct ear_buf title, text;
    json_t *o = NULL;
    int rc;

    ear_buf_init(&title, 1 << 16);
    ear_buf_init(&text, 1 << 20);
    rc = ear_output__payload_line(&title, pl);
    if (rc == 0)
        rc = ear_buf_adds(&text, "*");
    if (rc == 0)
        rc = slack_escape(&text, ear_buf_str(&title), 300);
    if (rc == 0)
        rc = ear_buf_adds(&text, "*");
    if (rc == 0)
        rc = chat_details(&text, pl, 1);
    if (rc == 0) {
        struct ear_buf fallback;

        ear_buf_init(&fallback, 1 << 16);
        rc = slack_escape(&fallback, ear_buf_str(&title), 300);
        /* Slack caps a section's text at 3000 characters */
        if (rc == 0 && text.len > 2900) {
            size_t cut = 2900;

            while (cut > 0 && ((unsigned char)text.ptr[cut] & 0xC0) == 0x80)
                cut--;
            text.ptr[cut] = '\0';
            text.len = cut;
        }
        if (rc == 0)
            o = json_pack("{s:s, s:[{s:s, s:{s:s, s:s}}]}", "text",
                          ear_buf_str(&fallback), "blocks", "type",
                          "section", "text", "type", "mrkdwn", "text",
                          ear_buf_str(&text));
        ear_buf_dispose(&fallback);
        rc = rc < 0 ? rc : dump_into(b, o);
    }
    json_decref(o);
    ear_buf_dispose(&title);
    ear_buf_dispose(&text);
    return rc;
}

static int render_mattermost(struct ear_buf *b, const json_t *pl)
{
    struct ear_buf title, text;
    json_t *o = NULL;
    int rc;

    ear_buf_init(&title, 1 << 16);
    ear_buf_init(&text, 1 << 20);
    rc = ear_output__payload_line(&title, pl);
    if (rc == 0)
        rc = ear_buf_adds(&text, "**");
    if (rc == 0)
        rc = md_snippet(&text, ear_buf_str(&title), 300);
    if (rc == 0)
        rc = ear_buf_adds(&text, "**");
    if (rc == 0)
        rc = chat_details(&text, pl, 0);
    if (rc == 0) {
        o = json_pack("{s:s}", "text", ear_buf_str(&text));
        rc = dump_into(b, o);
    }
    json_decref(o);
    ear_buf_dispose(&title);
    ear_buf_dispose(&text);
    return rc;
}

static int render_teams(struct ear_buf *b, const json_t *pl)
{
    struct ear_buf title, text;
    json_t *card = NULL;
    json_t *body;
    json_t *actions;
    const char *url = jstr(pl, "url");
    int rc;

    ear_buf_init(&title, 1 << 16);
    ear_buf_init(&text, 1 << 20);
    rc = ear_output__payload_line(&title, pl);
    if (rc == 0)
        rc = chat_details(&text, pl, 0);
    if (rc < 0)
        goto out;
    body = json_pack("[{s:s, s:s, s:s, s:s, s:b}, {s:s, s:s, s:b}]",
                     "type", "TextBlock", "size", "Medium", "weight",
                     "Bolder", "text", ear_buf_str(&title), "wrap", 1,
                     "type", "TextBlock", "text",
                     text.len ? ear_buf_str(&text) + 1 : "", "wrap", 1);
    actions = json_array();
    if (body && actions && ear_url_linkable(url) && !is_summary(pl)) {
        struct ear_buf enc;

        ear_buf_init(&enc, 1 << 16);
        if (ear_url_encode(&enc, url) == 0)
            json_array_append_new(actions, json_pack(
                "{s:s, s:s, s:s}", "type", "Action.OpenUrl", "title",
                "Open the original", "url", ear_buf_str(&enc)));
        ear_buf_dispose(&enc);
    }
    card = json_pack("{s:s, s:[{s:s, s:n, s:{s:s, s:s, s:s, s:o, s:o}}]}",
                     "type", "message", "attachments", "contentType",
                     "application/vnd.microsoft.card.adaptive", "contentUrl",
                     "content", "$schema",
                     "http://adaptivecards.io/schemas/adaptive-card.json",
                     "type", "AdaptiveCard", "version", "1.4", "body", body,
                     "actions", actions);
    rc = dump_into(b, card);
out:
    json_decref(card);
    ear_buf_dispose(&title);
    ear_buf_dispose(&text);
    return rc;
}

/* ------------------------------------------------------------ HTTP */

struct response {
    char text[RESPONSE_KEEP];
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
    struct response *r = data;
    size_t len = size * n;
    size_t room = sizeof r->text - 1 - r->len;
    size_t take = len < room ? len : room;

    memcpy(r->text + r->len, p, take);
    r->len += take;
    r->text[r->len] = '\0';
    return len;
}

static int add_header(struct curl_slist **h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_header(struct curl_slist **h, const char *fmt, ...)
{
    char line[1024];
    struct curl_slist *n;
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof line)
        return EAR_EINVAL;
    n = curl_slist_append(*h, line);
    if (!n)
        return EAR_ENOMEM;
    *h = n;
    return 0;
}

static int has_header(const struct ear_ynode *headers, const char *name)
{
    for (size_t i = 0; headers && i < headers->n; i++)
        if (headers->keys[i]->value &&
            strcasecmp(headers->keys[i]->value, name) == 0)
            return 1;
    return 0;
}

static int http_post(const struct ear_output__sink *s, const char *body,
                     size_t len, const char *idem, const char *event,
                     int64_t *retry_after, struct ear_error *err)
{
    CURL *c = NULL;
    struct curl_slist *h = NULL;
    struct response resp;
    char sig[65];
    char errbuf[CURL_ERROR_SIZE];
    long status = 0;
    CURLcode cc;
    int rc = 0;

    memset(&resp, 0, sizeof resp);
    errbuf[0] = '\0';
    c = curl_easy_init();
    if (!c)
        return ear_error_set(err, EAR_ENOMEM, s->name, 0, 0,
                             "cannot start libcurl");
    if (!has_header(s->headers, "Content-Type"))
        rc = add_header(&h, "Content-Type: application/json");
    if (rc == 0)
        rc = add_header(&h, "Idempotency-Key: %s", idem);
    if (rc == 0)
        rc = add_header(&h, "X-Earshot-Delivery: %s", idem);
    if (rc == 0)
        rc = add_header(&h, "X-Earshot-Event: %s", event);
    if (rc == 0 && s->secret) {
        rc = ear_output__hmac_sha256_hex(sig, s->secret, body, len);
        if (rc == 0)
            rc = add_header(&h, "X-Earshot-Signature: sha256=%s", sig);
    }
    if (rc == 0 && !has_header(s->headers, "Expect"))
        rc = add_header(&h, "Expect:");
    for (size_t i = 0; rc == 0 && s->headers && i < s->headers->n; i++)
        rc = add_header(&h, "%s: %s", s->headers->keys[i]->value,
                        s->headers->items[i]->value);
    if (rc < 0) {
        rc = ear_error_set(err, rc, NULL, 0, 0, "building headers: %s",
                           ear_strerror(rc));
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "earshot/" EAR_VERSION);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    if (s->username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD,
                         s->password ? s->password : "");
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = ear_error_set(err, EAR_EHTTP, NULL, 0, 0, "%s",
                           errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        curl_off_t wait = 0;
        char *nl;

        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &wait) == CURLE_OK &&
            wait > 0)
            *retry_after = (int64_t)wait;
        while ((nl = strpbrk(resp.text, "\r\n\t")) != NULL)
            *nl = ' ';
        rc = ear_error_set(err, EAR_EHTTP, NULL, 0, 0, "HTTP %ld%s%.200s",
                           status, resp.len ? ": " : "", resp.text);
    }
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

/* ------------------------------------------------------------ SMTP */

struct upload {
    const char *p;
    size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *data)
{
    struct upload *u = data;
    size_t room = size * n;
    size_t take = u->left < room ? u->left : room;

    memcpy(buf, u->p, take);
    u->p += take;
    u->left -= take;
    return take;
}

static int is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int yes = 0;

    if (!u)
        return 0;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
            CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
        yes = strcmp(host, "localhost") == 0 ||
              strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0;
    curl_free(host);
    curl_url_cleanup(u);
    return yes;
}

int ear_output__smtp_send(const struct ear_output__sink *s, const char *msg,
                          size_t len, struct ear_error *err)
{
    CURL *c = NULL;
    struct curl_slist *rcpt = NULL;
    struct upload up = {msg, len};
    char errbuf[CURL_ERROR_SIZE];
    char from[400];
    const char *user = s->username;
    const char *pass = s->password;
    CURLcode cc;
    int rc = 0;

    errbuf[0] = '\0';
    if (!user)
        user = getenv("EARSHOT_SMTP_USERNAME");
    if (!pass)
        pass = getenv("EARSHOT_SMTP_PASSWORD");
    c = curl_easy_init();
    if (!c)
        return ear_error_set(err, EAR_ENOMEM, s->name, 0, 0,
                             "cannot start libcurl");
    for (size_t i = 0; i < s->nto; i++) {
        char to[400];
        struct curl_slist *n;

        snprintf(to, sizeof to, "<%s>", s->to[i]);
        n = curl_slist_append(rcpt, to);
        if (!n) {
            rc = ear_error_set(err, EAR_ENOMEM, s->name, 0, 0,
                               "out of memory");
            goto out;
        }
        rcpt = n;
    }
    snprintf(from, sizeof from, "<%s>", s->from);
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    /* smtps:// is TLS from the start; smtp:// must upgrade with STARTTLS,
     * except to a relay on this machine (which may not offer it). */
    if (strncasecmp(s->url, "smtp://", 7) == 0)
        curl_easy_setopt(c, CURLOPT_USE_SSL, is_loopback(s->url)
                                                 ? (long)CURLUSESSL_TRY
                                                 : (long)CURLUSESSL_ALL);
    if (user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, pass ? pass : "");
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        rc = ear_error_set(err, EAR_EHTTP, NULL, 0, 0, "SMTP: %s",
                           errbuf[0] ? errbuf : curl_easy_strerror(cc));
out:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rc;
}

/* RFC 5322 date, in English whatever the locale. */
static void mail_date(char *buf, size_t size, int64_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
                                       "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                         "Jun", "Jul", "Aug", "Sep", "Oct",
                                         "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* text as RFC 2047 encoded words (UTF-8, base64), folded. */
int ear_output__mail_header_word(struct ear_buf *b, const char *text)
{
    const char *p = text;
    size_t left = strlen(text);
    int first = 1;
    int rc = 0;

    while (left > 0 && rc == 0) {
        size_t take = left > 45 ? 45 : left;

        /* never split a UTF-8 sequence */
        while (take < left && take > 0 &&
               ((unsigned char)p[take] & 0xC0) == 0x80)
            take--;
        rc = ear_buf_adds(b, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?");
        if (rc == 0)
            rc = ear_output__base64(b, p, take, 0);
        if (rc == 0)
            rc = ear_buf_adds(b, "?=");
        p += take;
        left -= take;
        first = 0;
    }
    return rc;
}

/* From, To, Subject, Date, Message-ID and MIME-Version, CRLF-ended. */
int ear_output__mail_headers(struct ear_buf *b,
                             const struct ear_output__sink *s,
                             const char *subject, const char *msgid)
{
    struct ear_buf clean;
    char date[64];
    int rc;

    mail_date(date, sizeof date, ear_now());
    rc = ear_buf_addf(b, "From: earshot <%s>\r\nTo: ", s->from);
    for (size_t i = 0; rc == 0 && i < s->nto; i++)
        rc = ear_buf_addf(b, "%s%s", i ? ", " : "", s->to[i]);
    if (rc == 0)
        rc = ear_buf_adds(b, "\r\nSubject: ");
    ear_buf_init(&clean, 4096);
    if (rc == 0)
        rc = ear_text_snippet(&clean, subject, 200);
    if (rc == 0)
        rc = ear_output__mail_header_word(b, ear_buf_str(&clean));
    ear_buf_dispose(&clean);
    if (rc == 0)
        rc = ear_buf_addf(b, "\r\nDate: %s\r\nMessage-ID: <%s@earshot>\r\n"
                          "MIME-Version: 1.0\r\n", date, msgid);
    return rc;
}

static int render_mail(struct ear_buf *b, const struct ear_output__sink *s,
                       const json_t *pl, const char *idem)
{
    struct ear_buf subject, text;
    int rc;

    ear_buf_init(&subject, 1 << 16);
    ear_buf_init(&text, 1 << 20);
    if (s->subject)
        rc = ear_output__template(&subject, s->subject, pl, 0);
    else
        rc = ear_buf_adds(&subject, "[earshot] ");
    if (rc == 0 && !s->subject)
        rc = ear_output__payload_line(&subject, pl);
    /* the body is plain text: nothing in it is ever interpreted */
    if (rc == 0)
        rc = ear_output__payload_line(&text, pl);
    if (rc == 0)
        rc = ear_buf_adds(&text, "\n");
    if (rc == 0 && is_summary(pl)) {
        const json_t *items = json_object_get(pl, "items");
        size_t i;
        json_t *it;

        json_array_foreach(items, i, it) {
            rc = ear_buf_adds(&text, "\n- ");
            if (rc == 0)
                rc = ear_text_clean(&text, jstr(it, "line"));
            if (rc == 0 && jstr(it, "url")[0])
                rc = ear_buf_addf(&text, "\n  %s", jstr(it, "url"));
            if (rc < 0)
                break;
        }
    } else if (rc == 0) {
        static const char *const keys[] = {"title", "text", "url", "author",
                                           "team", "due", "reason", NULL};

        for (size_t i = 0; rc == 0 && keys[i]; i++) {
            const char *v = jstr(pl, keys[i]);

            if (!v[0])
                continue;
            rc = ear_buf_addf(&text, "\n%s: ", keys[i]);
            if (rc == 0)
                rc = ear_text_clean(&text, v);
        }
    }
    if (rc == 0)
        rc = ear_buf_adds(&text, "\n\n-- \nearshot\n");
    if (rc == 0)
        rc = ear_output__mail_headers(b, s, ear_buf_str(&subject), idem);
    if (rc == 0)
        rc = ear_buf_addf(b, "X-Earshot-Event: %s\r\n"
                          "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n",
                          jstr(pl, "event"));
    if (rc == 0)
        rc = ear_output__base64(b, text.ptr ? text.ptr : "", text.len, 1);
    ear_buf_dispose(&subject);
    ear_buf_dispose(&text);
    return rc;
}

/* ------------------------------------------------------------ files */

static int append_line(const char *path, const char *line, size_t len,
                       struct ear_error *err)
{
    int fd;
    ssize_t w;
    size_t done = 0;
    int rc = 0;

    rc = ear_mkdir_parents(path, err);
    if (rc < 0)
        return rc;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ear_error_set(err, EAR_EIO, path, 0, 0, "%s",
                             strerror(errno));
    /* One write(2) of a whole line, so concurrent writers (run and watch)
     * never interleave within a line. */
    while (done < len) {
        w = write(fd, line + done, len - done);
        if (w < 0) {
            rc = ear_error_set(err, EAR_EIO, path, 0, 0, "%s",
                               strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && rc == 0)
        rc = ear_error_set(err, EAR_EIO, path, 0, 0, "%s", strerror(errno));
    return rc;
}

/* ------------------------------------------------------------ send */

int ear_output__send(const struct ear_output__sink *s, const json_t *pl,
                     const char *idem, ear_write_fn write,
                     void *write_payload, int64_t *retry_after,
                     struct ear_error *err)
{
    struct ear_buf body;
    json_t *full = NULL;
    const char *event = jstr(pl, "event");
    int rc = 0;

    *retry_after = 0;
    ear_buf_init(&body, EAR_BUF_MAX_DEFAULT);
    full = full_payload(pl, idem, s->name);
    if (!full) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    switch (s->type) {
    case EAR_SINK_JSONL:
    case EAR_SINK_WEBHOOK:
        rc = dump_into(&body, full);
        break;
    case EAR_SINK_SLACK:
        rc = render_slack(&body, pl);
        break;
    case EAR_SINK_MATTERMOST:
        rc = render_mattermost(&body, pl);
        break;
    case EAR_SINK_TEAMS:
        rc = render_teams(&body, pl);
        break;
    case EAR_SINK_HTTP:
        rc = ear_output__template(&body, s->tmpl, full, 1);
        break;
    case EAR_SINK_SMTP:
        rc = render_mail(&body, s, full, idem);
        break;
    }
    if (rc < 0) {
        rc = ear_error_set(err, rc, NULL, 0, 0, "rendering the alert: %s",
                           ear_strerror(rc));
        goto out;
    }
    switch (s->type) {
    case EAR_SINK_JSONL:
        rc = ear_buf_addc(&body, '\n');
        if (rc < 0)
            break;
        if (strcmp(s->path, "-") == 0) {
            if (!write)
                rc = ear_error_set(err, EAR_EIO, NULL, 0, 0,
                                   "standard output is not available here; "
                                   "the alert waits for 'earshot run'");
            else
                rc = write(body.ptr, body.len, write_payload);
        } else {
            rc = append_line(s->path, body.ptr, body.len, err);
        }
        break;
    case EAR_SINK_SMTP:
        rc = ear_output__smtp_send(s, body.ptr, body.len, err);
        break;
    default:
        rc = http_post(s, body.ptr, body.len, idem, event, retry_after, err);
        break;
    }
out:
    json_decref(full);
    ear_buf_dispose(&body);
    return rc;
}
