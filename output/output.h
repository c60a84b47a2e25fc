/*
 * output: what happens to a flagged mention after the analyzer.
 *
 * The triage queue lives in the store's queue table (one row per queued
 * mention, never deleted) and every change to a row is an event in the
 * store's event log. ear_queue_add() routes a flagged mention to a team and
 * gives it a first-response deadline (SLA); the ear_queue_<verb>() functions
 * move it through its states:
 *
 *   new -> assigned -> responded -> resolved
 *   any open state (new, assigned, responded) -> dismissed (with a reason)
 *   resolved | dismissed -> reopen -> assigned (when it has an owner) | new
 *
 * The digest summarises a period for a team lead, as Markdown, HTML or JSON.
 * Everything user-written is escaped by the renderers here, so a caller never
 * has to. docs/queue.md describes the commands built on this.
 */
#ifndef EAR_OUTPUT_H
#define EAR_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include "core/core.h"

struct json_t;

/* ------------------------------------------------------------ routing, SLA */

/* The team for a flagged mention. The config's routes are tried in order
 * against the verdict's primary category (first of v->categories), the
 * brand (v->brand, else the source's configured brand) and the source name;
 * a route matches when every list it gives contains the value (names compare
 * case-insensitively). When no route matches the primary category, the
 * routes are tried again against the other categories. Then v->team (the
 * strongest rule's suggestion), then cfg->default_team, then "support".
 * Returns: borrowed from cfg or v (or a static string). cfg may be NULL. */
const char *ear_route_team(const struct ear_config *cfg,
                           const struct ear_mention *m,
                           const struct ear_verdict *v);

/* First-response deadline in seconds for a severity: cfg->sla[sev] when
 * positive, else the defaults critical 1h, high 4h, medium 24h, low 72h
 * (EAR_SEV_NONE gets the low deadline). cfg may be NULL. */
int64_t ear_sla_seconds(const struct ear_config *cfg, enum ear_severity sev);

/* ------------------------------------------------------------------ queue */

/* Queues a flagged mention (m->id must be set: the mention is stored).
 * Idempotent: an already queued mention returns its id with *is_new = 0 and
 * changes nothing. Otherwise inserts a row in state "new" with the team from
 * ear_route_team(), due = now + ear_sla_seconds(v->severity), severity,
 * category (first of v->categories), categories (JSON array), brand
 * (v->brand, else the source's brand), source, lang (m->lang, else
 * v->lang), rating and reach, and records a "queued" event by actor "earshot".
 * queue_id and is_new may be NULL. Errors: EAR_EINVAL, EAR_EDB, EAR_EBUSY. */
int ear_queue_add(struct ear_store *st, const struct ear_config *cfg,
                  const struct ear_mention *m, const struct ear_verdict *v,
                  int64_t now, int64_t *queue_id, int *is_new,
                  struct ear_error *err);

/* Selects queue items. NULL / 0 fields do not filter.
 * state: one state name, or "open" (new, assigned, responded), "closed"
 * (resolved, dismissed) or "all". When state is NULL only open items are
 * listed unless include_closed is set. owner "-" selects unassigned items.
 * category matches any of an item's categories, brand and the names compare
 * case-insensitively. limit 0 = no limit. */
struct ear_queue_filter {
    const char *state;
    const char *team;
    const char *owner;
    const char *category;
    const char *brand;
    const char *source;
    const char *lang;
    int overdue_only;
    int include_closed;
    size_t limit;
    size_t offset;
};

#define EAR_QUEUE_FILTER_INIT {NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                               0, 0, 0, 0}

/* One queue row with the mention's title, text, url and author. Strings are
 * owned, NULL when absent. rating 0 = none, reach -1 = unknown, times Unix
 * seconds (0 = not yet). overdue: open, not responded, past its due time. */
struct ear_queue_item {
    int64_t id;
    int64_t mention_id;
    char *state;
    char *team;
    char *owner;
    char *category;        /* primary category */
    char **categories;     /* NULL-terminated, most important first */
    size_t ncategories;
    char *brand;
    char *source;
    char *lang;
    char *title;
    char *text;
    char *url;
    char *author;
    char *dismiss_reason;
    enum ear_severity severity;
    double rating;
    int64_t reach;
    int64_t created;
    int64_t due;           /* 0 = no deadline */
    int64_t first_response;
    int64_t resolved_at;
    int64_t updated;
    int overdue;
};

/* Lists items matching f (NULL = open items) in priority order:
 *   open items before closed ones (only matters with closed included),
 *   overdue first, then severity (critical first), then rating (lowest
 *   first; unrated after every rated item), then reach (highest first;
 *   unknown last), then age (oldest first), then id.
 * now decides what is overdue. New *items (NULL when *n is 0): free with
 * ear_queue_items_free(). Errors: EAR_EINVAL (bad state), EAR_EDB. */
int ear_queue_list(struct ear_store *st, const struct ear_queue_filter *f,
                   int64_t now, struct ear_queue_item **items, size_t *n,
                   struct ear_error *err);
/* How many items match f, ignoring its limit and offset. */
int ear_queue_count(struct ear_store *st, const struct ear_queue_filter *f,
                    int64_t now, size_t *n, struct ear_error *err);
void ear_queue_item_dispose(struct ear_queue_item *it);
void ear_queue_items_free(struct ear_queue_item *items, size_t n);

/* One entry of an item's history. Strings owned, NULL when absent. */
struct ear_queue_event {
    int64_t id;
    int64_t at;
    char *actor;
    char *kind;   /* queued, assigned, responded, resolved, dismissed,
                     reopened, routed, note */
    char *from_state;
    char *to_state;
    char *note;
};

/* Fills *out (caller-owned, disposed with ear_queue_item_dispose()) and,
 * when events is non-NULL, a new array of the item's events, oldest first
 * (free with ear_queue_events_free()). Errors: EAR_ENOTFOUND, EAR_EDB. */
int ear_queue_get(struct ear_store *st, int64_t id, int64_t now,
                  struct ear_queue_item *out, struct ear_queue_event **events,
                  size_t *nevents, struct ear_error *err);
void ear_queue_events_free(struct ear_queue_event *ev, size_t n);
/* The queue id of a mention. EAR_ENOTFOUND when it is not queued. */
int ear_queue_find_mention(struct ear_store *st, int64_t mention_id,
                           int64_t *queue_id, struct ear_error *err);

/* State changes. Each runs in one transaction and records one event with
 * actor (NULL = "unknown"), time now and note (NULL allowed). An unknown id
 * is EAR_ENOTFOUND; a change the current state does not allow is
 * EAR_ESTATE, with words saying why ("#12 is resolved: reopen it first").
 *
 * assign: new -> assigned; assigned -> assigned (a new owner); responded
 *   keeps its state and takes the new owner. owner must be non-empty.
 * respond: new | assigned -> responded; sets first_response (kept when
 *   already set) and makes the actor the owner when there is none.
 * resolve: new | assigned | responded -> resolved; sets resolved_at, and
 *   first_response when still unset (a resolution answers the customer).
 * dismiss: new | assigned | responded -> dismissed; reason is one of
 *   ear_dismiss_reasons (EAR_EINVAL otherwise); the event's note reads
 *   "reason" or "reason: note".
 * reopen: resolved | dismissed -> assigned when the item has an owner, else
 *   new; clears resolved_at and the dismiss reason (the history keeps them).
 * route: moves an open item to another team (state unchanged).
 * note: any state; note must be non-empty (EAR_EINVAL). */
int ear_queue_assign(struct ear_store *st, int64_t id, const char *owner,
                     const char *actor, const char *note, int64_t now,
                     struct ear_error *err);
int ear_queue_respond(struct ear_store *st, int64_t id, const char *actor,
                      const char *note, int64_t now, struct ear_error *err);
int ear_queue_resolve(struct ear_store *st, int64_t id, const char *actor,
                      const char *note, int64_t now, struct ear_error *err);
int ear_queue_dismiss(struct ear_store *st, int64_t id, const char *reason,
                      const char *actor, const char *note, int64_t now,
                      struct ear_error *err);
int ear_queue_reopen(struct ear_store *st, int64_t id, const char *actor,
                     const char *note, int64_t now, struct ear_error *err);
int ear_queue_route(struct ear_store *st, int64_t id, const char *team,
                    const char *actor, const char *note, int64_t now,
                    struct ear_error *err);
int ear_queue_note(struct ear_store *st, int64_t id, const char *actor,
                   const char *note, int64_t now, struct ear_error *err);

/* "not-a-complaint", "duplicate", "spam", "not-about-us"; NULL-terminated. */
extern const char *const ear_dismiss_reasons[];
int ear_dismiss_reason_valid(const char *reason); /* 1 or 0 */
/* 1 for new, assigned, responded, resolved, dismissed; else 0. */
int ear_queue_state_valid(const char *state);

/* The item as a JSON object (keys as in docs/queue.md; absent values null,
 * times RFC 3339 UTC). Returns: new reference, NULL on OOM. */
struct json_t *ear_queue_item_json(const struct ear_queue_item *it);
struct json_t *ear_queue_event_json(const struct ear_queue_event *ev);

/* Receives output in pieces; returns 0 or a negative enum ear_err to stop. */
typedef int (*ear_write_fn)(const char *p, size_t n, void *payload);

/* Every item matching f in priority order, as CSV (RFC 4180, header row,
 * cells that a spreadsheet would run as a formula prefixed with ') or JSON
 * Lines (one ear_queue_item_json() object a line). format: "csv" or
 * "jsonl" (EAR_EINVAL otherwise). write is called once a row. */
int ear_queue_export(struct ear_store *st, const struct ear_queue_filter *f,
                     int64_t now, const char *format, ear_write_fn write,
                     void *payload, struct ear_error *err);

/* ------------------------------------------------------------ feedback */

/* How the team judged one rule's flags (for `earshot rules stats`). Counts
 * are mentions (a rule counts once per mention however often it matched).
 * confirmed: queued and responded to or resolved; not_a_complaint:
 * dismissed with that reason. precision = confirmed / (confirmed +
 * not_a_complaint), or -1 while the team has judged none of them. */
struct ear_rule_feedback {
    char *rule;
    int64_t hits;           /* verdicts with a match of the rule */
    int64_t flagged;        /* of those, flagged */
    int64_t queued;
    int64_t confirmed;
    int64_t dismissed;      /* for any reason */
    int64_t not_a_complaint;
    double precision;
};

/* Every rule seen in verdicts analysed at or after since (0 = all), most
 * dismissed as not a complaint first, then most hits. New *out: free with
 * ear_rule_feedback_free(). Errors: EAR_EDB, EAR_ENOMEM. */
int ear_rule_feedback(struct ear_store *st, int64_t since,
                      struct ear_rule_feedback **out, size_t *n,
                      struct ear_error *err);
void ear_rule_feedback_free(struct ear_rule_feedback *v, size_t n);

/* ------------------------------------------------------------ rendering */

/* Appends text to out, wrapping each match of field ("text" or "title";
 * a match with field NULL counts as "text") in open ... close. Overlapping
 * and touching matches are merged; ranges past the end are clipped and
 * ranges that cut a UTF-8 sequence are widened to whole characters.
 * Control characters (C0, DEL, C1) become spaces, so the result is safe to
 * print on a terminal. Returns 0, EAR_ENOMEM or EAR_ETOOBIG (out freed). */
int ear_text_highlight(struct ear_buf *out, const char *text,
                       const char *field, const struct ear_match *matches,
                       size_t n, const char *open, const char *close);
/* Appends s with control characters made spaces (see above). */
int ear_text_clean(struct ear_buf *out, const char *s);
/* Appends at most max_cols characters of s (control characters made
 * spaces), ending with "..." when cut; never splits a UTF-8 sequence. */
int ear_text_snippet(struct ear_buf *out, const char *s, size_t max_cols);
/* Display width of s in characters (UTF-8 sequences count as one). */
size_t ear_text_width(const char *s);

/* Appends s escaped for Markdown inline text: \ ` * _ [ ] ( ) { } < > | ~
 * & and, at the start, # + - = ! and the dot of "1." are backslash-escaped;
 * line breaks and control characters become spaces. */
int ear_md_escape(struct ear_buf *out, const char *s);
/* Appends s escaped for HTML text and attribute values (& < > " '). */
int ear_html_escape(struct ear_buf *out, const char *s);
/* 1 when url is an absolute http: or https: URL that may be rendered as a
 * link (javascript:, data:, file: and the rest are refused); else 0. */
int ear_url_linkable(const char *url);
/* Appends url (which must be linkable) with every byte that could end a
 * Markdown link destination or an HTML attribute, or is not printable
 * ASCII, percent-encoded. */
int ear_url_encode(struct ear_buf *out, const char *url);

/* ------------------------------------------------------------------ digest */

/* The digest's data for [since, until), as a new JSON object (the "json"
 * format; keys in docs/queue.md). Open backlog, overdue and the most urgent
 * items are the state at until. Errors: EAR_EINVAL, EAR_EDB, EAR_ENOMEM. */
int ear_digest_build(struct json_t **out, struct ear_store *st,
                     const struct ear_config *cfg, int64_t since,
                     int64_t until, struct ear_error *err);
/* Renders the digest for [since, until) as format "md", "html" or "json"
 * (EAR_EINVAL otherwise), appended to out. */
int ear_digest_render(struct ear_store *st, const struct ear_config *cfg,
                      int64_t since, int64_t until, const char *format,
                      struct ear_buf *out, struct ear_error *err);

#endif
