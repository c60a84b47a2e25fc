/*
 * fetcher internals shared between the fetcher's files.
 *
 * text.c   a text accumulator that normalises whitespace as it goes, and
 *          the walker that turns an HTML/XHTML node tree into plain text;
 * url.c    link resolution (libxml2 xmlBuildURI), canonical links (libcurl
 *          URL API), file paths as URLs;
 * item.c   the last step of every parser: key, canonical url, valid UTF-8;
 * feed.c   ear_feed_parse(): detection, charset, RSS / RDF / Atom;
 * jsonfeed.c  JSON Feed 1.0 / 1.1 (jansson);
 * fetch.c  the libcurl multi poller.
 */
#ifndef EAR_FETCHER_INT_H
#define EAR_FETCHER_INT_H

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
/* Returns: new string, or NULL with *rc set (EAR_ENOMEM). Disposes t. */
char *ear_text__take(struct ear_text *t, int *rc);

/* Reusable HTML-to-text converter: one libxml2 HTML parser context for the
 * whole feed. */
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

/* ------------------------------------------------------------------ url */

/* Resolves ref (trimmed) against base (may be NULL). New string, NULL on
 * OOM or when ref is empty. */
char *ear_url__resolve(const char *ref, const char *base);

/* ------------------------------------------------------------------ item */

/* Finishes a parsed item: UTF-8 sanitised strings, url made canonical, key
 * from guid, else url, else a hash of title and text. Returns 0 or
 * EAR_ENOMEM. */
int ear_item__finish(struct ear_mention *m);

/* FNV-1a 64-bit over bytes, continuing from h (start with
 * EAR_FNV_OFFSET). */
#define EAR_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t ear_fnv1a(uint64_t h, const void *p, size_t n);

/* ------------------------------------------------------------------ feeds */

int ear_feed__json(struct ear_mention_list *items, struct ear_feed_info *info,
                   const char *body, size_t len, const char *base_url,
                   const char *source_name, struct ear_error *err);

#endif
