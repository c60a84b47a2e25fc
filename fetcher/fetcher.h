/*
 * fetcher: turns sources into mention records.
 *
 * Two halves. ear_feed_parse() turns one document (RSS 0.9x/2.0, RSS 1.0
 * RDF, Atom 0.3/1.0, JSON Feed 1.0/1.1) into struct ear_mention records:
 * plain UTF-8 text, resolved and canonical links, stable keys, Unix times.
 * struct ear_parser does the same for any source type, from the source's
 * config: feeds, JSON APIs through declarative mappings (type json, with
 * built-in presets) and HTML review pages (type html: schema.org JSON-LD
 * and microdata, or per-source XPath selectors), with pagination.
 * struct ear_fetcher polls many sources at once on one libcurl multi handle
 * (file://, http://, https://), with conditional GET, compression, caps on
 * size and time, robots.txt for HTML sources, and reports each source's
 * outcome through a callback.
 */
#ifndef EAR_FETCHER_H
#define EAR_FETCHER_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Feed-level metadata. Strings are owned, NULL when absent. An HTML
 * page's schema.org AggregateRating (about the page's main item) lands in
 * rating (1..5, 0 = none) and rating_count (0 = unknown). */
struct ear_feed_info {
    char *title;
    char *link;
    double rating;
    int64_t rating_count;
};

void ear_feed_info_dispose(struct ear_feed_info *fi); /* NULL is fine */

/* Parses one document into mentions, appended to *items (items already in
 * the list stay, also on failure; items parsed before a failure are kept).
 *
 * type: "rss", "atom", "rdf", "jsonfeed", or NULL to detect from the
 * content (root element, JSON shape), then from content_type (may be NULL).
 * A forced type whose root does not match is EAR_EPARSE.
 * base_url (may be NULL) resolves relative links, together with xml:base.
 * content_type may carry a charset, used when the document declares none.
 * source_name (may be NULL) fills m->source and err->source.
 * info (may be NULL) receives the feed's title and link; its old strings
 * are freed first.
 *
 * Returns 0, EAR_EPARSE (err->line when known; malformed XML that libxml2
 * can recover from is not an error), EAR_EINVAL (unknown type) or
 * EAR_ENOMEM. */
int ear_feed_parse(struct ear_mention_list *items, struct ear_feed_info *info,
                   const char *body, size_t len, const char *base_url,
                   const char *type, const char *content_type,
                   const char *source_name, struct ear_error *err);

/* HTML (or an HTML fragment) to plain UTF-8 text: block elements become
 * line breaks, script/style are dropped, entities decoded, whitespace
 * normalised (no empty lines, no leading or trailing space). New *out, free
 * with free(). Returns 0 or EAR_ENOMEM. */
int ear_html_to_text(char **out, const char *html, size_t len);

/* The canonical form of a link: lower-case scheme and host, tracking
 * parameters (utm_*, fbclid, gclid, ...) dropped, Google redirect links
 * (google.com/url?...&url=REAL) unwrapped. New *out (a copy of url when it
 * cannot be parsed). Returns 0 or EAR_ENOMEM. */
int ear_url_canonical(char **out, const char *url);

/* A file path (relative paths against the working directory) as a
 * file:// URL. A string that already has a scheme is copied. New *out.
 * Returns 0, EAR_ENOMEM or EAR_EIO (no working directory). */
int ear_fetch_file_url(char **out, const char *path, struct ear_error *err);

/* ------------------------------------------------------------- sources */

/* One fetched page of a source. Everything is borrowed. */
struct ear_page {
    const char *body;
    size_t len;
    const char *url;          /* where the body came from, after redirects:
                                 the base for links and next pages; NULL
                                 for a local file */
    const char *content_type; /* HTTP Content-Type, NULL when unknown */
    const char *link;         /* HTTP Link header, NULL when none */
};

struct ear_parser; /* opaque: a source's format, compiled from its config */

/* Compiles and validates everything the fetcher reads from a source's
 * config: its type, the JSON mapping (preset, map, items, fields,
 * rating_scale), the HTML selectors (xpath), next_page / max_pages, and
 * the request options (timeout, connect_timeout, max_body, max_redirects,
 * ca_file, headers, query, robots). src is borrowed and must outlive the
 * parser. path names the config file in messages ("path:line:col: ..."),
 * NULL for the source's name. New *out: free with ear_parser_free().
 * Returns 0, EAR_EINVAL (bad option, with its position) or EAR_ENOMEM. */
int ear_parser_new(struct ear_parser **out, const struct ear_source_cfg *src,
                   const char *path, struct ear_error *err);
void ear_parser_free(struct ear_parser *p); /* NULL is fine */
/* How many pages one poll may follow (1 = no pagination). */
int ear_parser_max_pages(const struct ear_parser *p);

/* Parses one page as the source's type says, appending to *items (as
 * ear_feed_parse does). Type json uses the mapping, html the selectors or
 * schema.org data; an undetected type that turns out to be an HTML page
 * is read for schema.org reviews. next_url (may be NULL) receives the
 * next page's URL (new string) when the source pages and this page links
 * one, else NULL. Returns 0, EAR_EPARSE or EAR_ENOMEM. */
int ear_parser_parse(struct ear_parser *p, struct ear_mention_list *items,
                     struct ear_feed_info *info, const struct ear_page *page,
                     char **next_url, struct ear_error *err);

/* The built-in JSON presets, NULL-terminated ("appstore", "reddit", ...).
 * Borrowed, static. */
const char *const *ear_json_presets(void);

/* ------------------------------------------------------------- polling */

struct ear_fetch_opts {
    long max_total_conns;   /* connections over all hosts */
    long max_host_conns;    /* connections to one host */
    long connect_timeout_s;
    long timeout_s;         /* whole transfer */
    size_t max_body;        /* decompressed body bytes */
    long max_redirs;
    const char *user_agent; /* NULL = "earshot/VERSION" */
    int parse_threads;      /* threads parsing fetched pages while the
                               transfers go on: 0 = one per CPU (at most
                               8), -1 = none (parse between transfers) */
};

#define EAR_FETCH_OPTS_INIT {16, 4, 10, 60, (size_t)16 << 20, 5, NULL, 0}

/* What one source's poll produced. Everything is owned by the result and
 * valid only during the callback; the callback may move items out (steal
 * items.v and zero the list), and likewise etag / last_modified (take the
 * pointer and set the field to NULL). */
struct ear_fetch_result {
    const struct ear_source_cfg *src; /* borrowed: as given to add */
    int rc;                  /* 0 ok, or negative enum ear_err */
    int not_modified;        /* 304: nothing parsed */
    long http_status;        /* 0 for file:// */
    char *etag;              /* validators to store, NULL when none */
    char *last_modified;
    int64_t retry_after;     /* seconds from a 429/503 Retry-After, or 0 */
    struct ear_feed_info feed;
    struct ear_mention_list items;
    struct ear_error err;    /* err.source = source name; text in words */
    size_t bytes;            /* body bytes received, after decoding */
    double seconds;          /* whole transfer */
    void *user;              /* the prepare callback's, or NULL: freed
                                with user_free unless taken (set NULL) */
    void (*user_free)(void *user);
};

typedef void (*ear_fetch_cb)(struct ear_fetch_result *res, void *payload);

struct ear_fetcher; /* opaque: one libcurl multi handle */

/* New *out: free with ear_fetcher_free(). opts may be NULL (defaults);
 * copies opts. Returns 0, EAR_ENOMEM or EAR_EHTTP (libcurl refused). */
int ear_fetcher_new(struct ear_fetcher **out, const struct ear_fetch_opts *opts,
                    struct ear_error *err);

/* Queues one source for the next perform. src is borrowed and must stay
 * valid until that perform returns; state (may be NULL) gives the etag and
 * last_modified for a conditional GET and is copied. A URL without a
 * scheme is taken as a file path. Returns 0 or EAR_ENOMEM. */
int ear_fetcher_add(struct ear_fetcher *f, const struct ear_source_cfg *src,
                    const struct ear_source_state *state,
                    struct ear_error *err);

/* Runs every queued source at once on the multi handle and calls cb once
 * per source as each finishes (success, 304 or failure); one broken source
 * never stops the others. An HTML source first reads its site's
 * robots.txt (once per site, cached in the fetcher for a day; robots:
 * false opts out); a paged source follows its next pages up to its
 * max_pages and reports them as one result (only the first page is a
 * conditional request). Fetched pages are parsed on parse_threads
 * worker threads (started and joined within the perform) while the
 * transfers go on; cb is always called on the calling thread. At most
 * twice max_total_conns transfers are under way at once (fetching or
 * parsing); the rest wait in the queue. The queue is empty afterwards; connections stay
 * cached for the next perform. Returns 0 when every source was polled
 * (whatever their outcome), or EAR_ENOMEM / EAR_EHTTP when the multi handle
 * itself failed (sources not yet reported are then reported as failed). */
int ear_fetcher_perform(struct ear_fetcher *f, ear_fetch_cb cb, void *payload);

/* Called on the perform's thread whenever its loop is about to wait for
 * the network or the parse workers (never in the middle of a report).
 * Returns how many milliseconds it may wait at most before the next call
 * (the loop wakes then even with nothing to do), or -1 for no limit of its
 * own. cb NULL removes it. */
typedef long (*ear_fetch_idle_cb)(void *payload);
void ear_fetcher_set_idle(struct ear_fetcher *f, ear_fetch_idle_cb cb,
                          void *payload);

/* Called on parse worker number worker (0 .. workers - 1) each time one
 * of a source's pages has been parsed without error, for the items that
 * page added (from index from on): per-item work of the caller's own, off
 * the perform's thread, with state of its own per worker. It may modify
 * the items and keep what it makes in res->user (with res->user_free).
 * Never called for a page parsed on the perform's thread. cb NULL removes
 * it. */
typedef void (*ear_fetch_prepare_cb)(struct ear_fetch_result *res,
                                     size_t from, int worker, void *payload);
void ear_fetcher_set_prepare(struct ear_fetcher *f, ear_fetch_prepare_cb cb,
                             void *payload);

/* How many parse workers a perform of n queued sources starts (0: the
 * pages are parsed on the perform's thread). */
int ear_fetcher_workers(const struct ear_fetcher *f, size_t n);

void ear_fetcher_free(struct ear_fetcher *f); /* NULL is fine */

#endif
