/*
 * fetcher internals shared between the fetcher's files.
 *
 * text.c   a text accumulator that normalises whitespace as it goes, and
 *          the walker that turns an HTML/XHTML node tree into plain text;
 * url.c    link resolution (libxml2 xmlBuildURI), canonical links (libcurl
 *          URL API), file paths as URLs;
 * item.c   the last step of every parser: key, canonical url, valid UTF-8;
 * feed.c   ear_feed_parse(): detection, charset, entity repair;
 * feed_sax.c  RSS / RDF / Atom read with libxml2's SAX2 interface;
 * jsonfeed.c  JSON Feed 1.0 / 1.1 (jansson);
 * rating.c  star ratings onto the 1..5 scale;
 * jsonpath.c  the path language of JSON mappings;
 * jsonmap.c   JSON APIs through declarative mappings, and the presets;
 * html.c   HTML review pages: schema.org JSON-LD / microdata, XPath;
 * robots.c robots.txt rules;
 * source.c ear_parser: a source's format compiled from its config;
 * fetch.c  the libcurl multi poller.
 */
#ifndef EAR_FETCHER_INT_H
#define EAR_FETCHER_INT_H

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "fetcher/fetcher.h"

/* ------------------------------------------------------------------ text */

/* Plain text under construction. Whitespace runs become one space, line
 * breaks are only emitted between two pieces of text, so the result never
 * has empty lines or leading/trailing blanks. */
struct ear_text {
    struct ear_buf buf;
    int pending_space;
    int pending_break;
    int rc;                 /* first failure, sticky */
};

void ear_text__init(struct ear_text *t, size_t max);
/* Appends text. newlines = 1 keeps '\n' as a line break (plain text);
 * 0 treats it as a space (HTML). */
void ear_text__add(struct ear_text *t, const char *s, size_t len,
                   int newlines);
void ear_text__break(struct ear_text *t);
/* Walks an HTML or XHTML node's children (not the node itself). */
void ear_text__node(struct ear_text *t, const xmlNode *node);
/* The walk of ear_text__node() fed by parser events (SAX): start and end
 * of each element below the one whose text is wanted, and its text. */
struct ear_textsax {
    struct ear_text *t;
    int skip;               /* depth inside a dropped element */
    int pre;                /* depth inside <pre> */
};
void ear_text__sax_init(struct ear_textsax *w, struct ear_text *t);
void ear_text__sax_start(struct ear_textsax *w, const xmlChar *name);
void ear_text__sax_end(struct ear_textsax *w, const xmlChar *name);
void ear_text__sax_chars(struct ear_textsax *w, const char *s, size_t len);
/* Returns: new string, or NULL with *rc set (EAR_ENOMEM). Disposes t. */
char *ear_text__take(struct ear_text *t, int *rc);

/* HTML-to-text converter state shared by a whole feed (one per parse, so
 * one per thread). The HTML is read by libxml2's parser in SAX mode (no
 * tree); ctxt is that parser's context, made on first use and reset for
 * every fragment after it (NULL until then). */
struct ear_html {
    htmlParserCtxtPtr ctxt;
};

void ear_html__init(struct ear_html *h);
void ear_html__dispose(struct ear_html *h);
/* HTML fragment into t (appends). Returns 0 or EAR_ENOMEM. */
int ear_html__text(struct ear_html *h, struct ear_text *t, const char *html,
                   size_t len);
/* Convenience: what ear_html_to_text() does, with a shared context.
 * oneline = 1 turns line breaks into spaces (titles). Fast path for text
 * without '<' or '&'. New *out. */
int ear_html__convert(struct ear_html *h, char **out, const char *html,
                      size_t len, int oneline);

/* Text that may or may not be HTML (schema.org reviewBody): HTML when it
 * has real tags, else plain text whose line breaks are kept and whose
 * entities are decoded. New *out. */
int ear_html__mixed(struct ear_html *h, char **out, const char *s,
                    size_t len);

/* ------------------------------------------------------------------ robots */

struct ear_robots; /* the rules of one robots.txt that apply to us */

/* Parses a robots.txt for the product token agent ("earshot"). New *out.
 * Returns 0 or EAR_ENOMEM (anything unreadable is ignored, as the RFC
 * asks). */
int ear_robots__parse(struct ear_robots **out, const char *body, size_t len,
                      const char *agent);
void ear_robots__free(struct ear_robots *r);
/* 1 when path (with its query) may be fetched. r NULL allows all. */
int ear_robots__allowed(const struct ear_robots *r, const char *path);

/* ------------------------------------------------------------------ url */

/* Resolves ref (trimmed) against base (may be NULL). New string, NULL on
 * OOM or when ref is empty. */
char *ear_url__resolve(const char *ref, const char *base);

/* ------------------------------------------------------------------ item */

/* Finishes a parsed item: UTF-8 sanitised strings, url made canonical, key
 * from guid, else url, else a hash of title and text. Returns 0 or
 * EAR_ENOMEM. */
int ear_item__finish(struct ear_mention *m);
/* One text field as ear_item__finish() leaves it: valid UTF-8, trimmed,
 * NULL when empty. Returns 0 or EAR_ENOMEM. */
int ear_item__clean(char **field);

/* FNV-1a 64-bit over bytes, continuing from h (start with
 * EAR_FNV_OFFSET). */
#define EAR_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t ear_fnv1a(uint64_t h, const void *p, size_t n);

/* ------------------------------------------------------------------ rating */

/* The first number in s ("4", "4.5", "4,5", "Rated 4 stars"). Returns 0
 * or EAR_EPARSE. */
int ear_rating__number(double *out, const char *s);
/* A rating as text: the value and, when the text says it ("4 / 5", "4 out
 * of 5"), the best value (else *best = 0). Returns 0 or EAR_EPARSE. */
int ear_rating__text(double *value, double *best, const char *s);
/* value on the scale [worst, best] mapped onto 1..5 (two decimals), or 0
 * when it cannot be. worst = NAN and best = NAN (or 0) when unknown: the
 * scale is then guessed from the value (<= 5, <= 10, <= 100). */
double ear_rating__normalize(double value, double worst, double best);

/* ------------------------------------------------------------------ json */

struct ear_jpath; /* a compiled path: feed.entry[*].title.label */
struct ear_jexpr; /* a path or a template with {path} holes */

/* New *out, free with ear_jpath__free(). EAR_EINVAL with *why (static
 * text) on a bad path, or EAR_ENOMEM. */
int ear_jpath__compile(struct ear_jpath **out, const char *s,
                       const char **why);
void ear_jpath__free(struct ear_jpath *p);
int ear_jexpr__compile(struct ear_jexpr **out, const char *s,
                       const char **why);
void ear_jexpr__free(struct ear_jexpr *e);

/* Visitor: returns nonzero to stop the walk. */
typedef int (*ear_jvisit_fn)(const json_t *v, void *payload);
/* Calls fn for every node the path reaches (null nodes are skipped).
 * Returns what the last fn call returned. */
int ear_jpath__each(const struct ear_jpath *p, const json_t *root,
                    ear_jvisit_fn fn, void *payload);
/* Borrowed: the first non-null, non-empty node the path reaches. */
const json_t *ear_jpath__first(const struct ear_jpath *p, const json_t *root);
/* The expression's value as a string (numbers written out). New *out;
 * EAR_ENOTFOUND when a path in it has no scalar value. */
int ear_jexpr__eval(char **out, const struct ear_jexpr *e, const json_t *root);
/* ear_jpath__each() for a bare-path expression; nothing for templates. */
int ear_jexpr__each(const struct ear_jexpr *e, const json_t *root,
                    ear_jvisit_fn fn, void *payload);
/* Borrowed node of a bare-path expression; NULL for templates. */
const json_t *ear_jexpr__node(const struct ear_jexpr *e, const json_t *root);
/* A scalar as text: *out borrowed from v or written into buf. "" and
 * null, arrays, objects are EAR_ENOTFOUND. */
int ear_json__scalar(char *buf, size_t size, const char **out,
                     const json_t *v);

struct ear_jsonmap; /* a compiled mapping */

/* Compiles the mapping of a source map (src: preset, map, items, fields,
 * rating_scale, next_page, max_pages): preset first, then map:, then the
 * source's own keys, each overriding the one before. path names the
 * config file for messages. New *out. */
int ear_jsonmap__new(struct ear_jsonmap **out, const struct ear_ynode *src,
                     const char *path, struct ear_error *err);
void ear_jsonmap__free(struct ear_jsonmap *m);
int ear_jsonmap__max_pages(const struct ear_jsonmap *m);
/* Query parameters the mapping's API wants (raw_json=1), as a YAML map
 * node (borrowed) or NULL. */
const struct ear_ynode *ear_jsonmap__query(const struct ear_jsonmap *m);
/* One page of JSON into mentions; *next_url (may be NULL) receives the
 * next page's URL, new, or NULL when there is none. */
int ear_jsonmap__parse(const struct ear_jsonmap *m,
                       struct ear_mention_list *items,
                       struct ear_feed_info *info,
                       const struct ear_page *page, const char *source_name,
                       char **next_url, struct ear_error *err);

/* ------------------------------------------------------------------ html */

struct ear_htmlsel; /* per-source XPath selectors */

/* Compiles xpath: {item, text, author, rating, date, link, title, id} and
 * next_page (an XPath giving the next page's URL) of a source map, with
 * rating_scale. New *out; *out stays NULL when the source gives no xpath
 * and no next_page (schema.org data is read then). */
int ear_htmlsel__new(struct ear_htmlsel **out, const struct ear_ynode *src,
                     const char *path, struct ear_error *err);
void ear_htmlsel__free(struct ear_htmlsel *s);
int ear_htmlsel__max_pages(const struct ear_htmlsel *s);
/* 1 when the selectors name the review elements (xpath item). */
int ear_htmlsel__has_items(const struct ear_htmlsel *s);
/* One HTML page into mentions: by the selectors when sel has items,
 * else from schema.org Review / AggregateRating in JSON-LD and
 * microdata. charset (may be NULL) overrides what the page says.
 * *next (may be NULL) receives the next page's URL. */
int ear_html__page(const struct ear_htmlsel *sel,
                   struct ear_mention_list *items, struct ear_feed_info *info,
                   const struct ear_page *page, const char *charset,
                   const char *source_name, char **next,
                   struct ear_error *err);

/* ------------------------------------------------------------------ source */

/* The request options of a source, validated by ear_parser_new(). -1 (or
 * NULL) = not given: the fetcher's default applies. */
struct ear_req_opts {
    int64_t timeout;
    int64_t connect_timeout;
    long long max_body;
    long long max_redirs;
    const char *ca_file;            /* borrowed from the config */
    const char *charset;
    const struct ear_ynode *headers; /* map name: value, or NULL */
    const struct ear_ynode *query;   /* map name: value, or NULL */
    const struct ear_ynode *api_query; /* the mapping's own parameters */
    int robots;                     /* honour robots.txt */
};

const struct ear_req_opts *ear_parser__req(const struct ear_parser *p);

/* ------------------------------------------------------------------ url */

/* url with query parameter name set to value (replacing any). New *out;
 * EAR_EINVAL when url does not parse. */
int ear_url__set_param(char **out, const char *url, const char *name,
                       const char *value);
/* The value of a counter in url: "/name=N" in the path (Apple's
 * /page=2/) or "name=N" in the query. 0 and *value when found, else
 * EAR_ENOTFOUND. */
int ear_url__get_counter(long *value, const char *url, const char *name);
/* url with the counter set to value, where it was found (path or query;
 * added to the query when absent). New *out. */
int ear_url__set_counter(char **out, const char *url, const char *name,
                         long value);
/* The rel="next" target of an HTTP Link header (RFC 8288), resolved
 * against base. New string, or NULL. */
char *ear_url__link_next(const char *link, const char *base);

/* ------------------------------------------------------------------ feeds */

/* An XML feed (sniffed, with its charset settled and its entities fixed
 * by feed.c) read with libxml2's SAX2 interface into items and info.
 * encoding (may be NULL) is passed to libxml2 as xmlReadMemory() takes
 * it, opts are libxml2 parser options, type (may be NULL) the configured
 * feed type, skipped_lines the lines cut before body (for error lines),
 * refs says body is ASCII-compatible (not UTF-16), so that references in
 * it may be rewritten (ear_feed__fix_entities). len must not exceed
 * INT_MAX. */
int ear_feed__xml(struct ear_mention_list *items, struct ear_feed_info *info,
                  const char *body, size_t len, const char *base_url,
                  const char *encoding, int opts, const char *type,
                  int skipped_lines, int refs, const char *source_name,
                  struct ear_error *err);
/* Rewrites the entity references of an XML document that libxml2 would
 * lose (see feed.c). *out is new (free()), NULL when nothing changed. */
int ear_feed__fix_entities(char **out, size_t *out_len, const char *s,
                           size_t len, int numeric);
int ear_feed__json(struct ear_mention_list *items, struct ear_feed_info *info,
                   const char *body, size_t len, const char *base_url,
                   const char *source_name, struct ear_error *err);

#endif
