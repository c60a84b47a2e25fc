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
 * strongest rule's suggestion) when cfg has that team or names no teams,
 * then cfg->default_team, then "support".
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

/* Queueing many mentions, e.g. a run's from one source: the sinks are
 * read from cfg once, and the items share the caller's transaction
 * instead of each taking a savepoint of its own. cfg (may be NULL) and st
 * are borrowed until ear_queue_batch_free(). New *out: free with
 * ear_queue_batch_free(). */
struct ear_queue_batch;
int ear_queue_batch_new(struct ear_queue_batch **out, struct ear_store *st,
                        const struct ear_config *cfg, struct ear_error *err);
/* As ear_queue_add(), inside a transaction the caller holds
 * (ear_store_begin; EAR_EINVAL without one). On failure the item may be
 * partly written: the caller rolls its transaction back. */
int ear_queue_batch_add(struct ear_queue_batch *b,
                        const struct ear_mention *m,
                        const struct ear_verdict *v, int64_t now,
                        int64_t *queue_id, int *is_new,
                        struct ear_error *err);
void ear_queue_batch_free(struct ear_queue_batch *b); /* NULL is fine */

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

/* ------------------------------------------------------------ incidents */

/* A complaint surge: many flagged mentions of one brand and (primary)
 * category within a short window, compared with that pair's own history.
 * Read from the config's top-level `incidents:` map (docs/alerts.md):
 *   enabled (true), window (1h), min_count (10: the count that opens an
 *   incident while the pair has no history), min_rise (5: never fewer with
 *   history), sensitivity (3: robust z, MADs above the baseline median),
 *   baseline_weeks (4: same hour-of-week windows of this many past weeks),
 *   quiet (2h: closes after this long without a new mention), lookback
 *   (7d: windows ending longer ago never open an incident). */
struct ear_incident_opts {
    int enabled;
    int64_t window;
    long long min_count;
    long long min_rise;
    double sensitivity;
    long long baseline_weeks;
    int64_t quiet;
    int64_t lookback;
};

/* The defaults above, then the config's values (cfg may be NULL). Errors
 * name the file, line and column: EAR_EINVAL. */
int ear_incident_opts_read(struct ear_incident_opts *out,
                           const struct ear_config *cfg,
                           struct ear_error *err);

/* One incident. Strings owned, NULL when absent; times Unix seconds.
 * started / last_at are the first and latest member's time (published,
 * else first seen); opened / closed_at / last_added are earshot's clock. */
struct ear_incident {
    int64_t id;
    char *state;            /* "open" or "closed" */
    char *brand;
    char *category;
    char *team;             /* the first mention's team */
    enum ear_severity severity; /* the highest of its mentions */
    int64_t opened;
    int64_t closed_at;
    int64_t started;
    int64_t last_at;
    int64_t last_added;
    int64_t count;          /* mentions grouped */
    int64_t peak;           /* most mentions within one window */
    int64_t window;         /* seconds */
    int64_t threshold;      /* the count that opened it */
    double baseline;        /* median of past windows; -1 = no history */
    char **terms;           /* top terms, most frequent first; NULL-term. */
    size_t nterms;
    char *reason;           /* in words */
    int64_t first_queue_id;
    char *first_title;      /* the first mention */
    char *first_text;
    char *first_url;
    char *first_author;
};

void ear_incident_dispose(struct ear_incident *inc);
void ear_incidents_free(struct ear_incident *v, size_t n);

/* What one update pass did. */
struct ear_incident_stats {
    size_t opened;
    size_t updated;  /* grew */
    size_t closed;
};

/* Looks at the mentions queued since the last pass: adds them to their
 * pair's open incident, or opens one when a window's count is significant
 * (and alerts the sinks that want incidents, through the outbox), then
 * closes the incidents that have been quiet long enough. One transaction.
 * stats may be NULL. Errors: EAR_EINVAL (config), EAR_EDB, EAR_ENOMEM. */
int ear_incidents_update(struct ear_store *st, const struct ear_config *cfg,
                         int64_t now, struct ear_incident_stats *stats,
                         struct ear_error *err);

/* Incidents, newest first: open ones only unless all; with since/until
 * non-zero, those whose mentions fall in [since, until) (open or not).
 * New *out (NULL when *n is 0): ear_incidents_free(). */
int ear_incidents_list(struct ear_store *st, int all, int64_t since,
                       int64_t until, struct ear_incident **out, size_t *n,
                       struct ear_error *err);
/* One incident and, when queue_ids is non-NULL, its mentions' queue ids
 * in time order (new array: free()). EAR_ENOTFOUND for an unknown id. */
int ear_incident_get(struct ear_store *st, int64_t id,
                     struct ear_incident *out, int64_t **queue_ids,
                     size_t *nids, struct ear_error *err);
/* As JSON (docs/alerts.md). New reference, NULL on OOM. */
struct json_t *ear_incident_json(const struct ear_incident *inc);

/* ------------------------------------------------------------ outbox */

/* Alerts wait in the store's outbox until their sink has them. Every
 * queued mention a sink wants gets a row in the same transaction as its
 * queue row (ear_queue_add), every incident opened, grown or closed gets
 * one too. Delivery is at least once: a failed send stays pending and is
 * retried with exponential backoff (1 min doubling to 6 h, or what the
 * peer asked with Retry-After), never dropped. A sink's max_per_hour caps
 * the messages it gets in any hour; the rest are folded into one summary
 * message. docs/alerts.md has the details. */
struct ear_outbox_entry {
    int64_t id;
    char *sink;
    char *kind;       /* mention, incident, incident-update,
                         incident-closed, summary */
    char *state;      /* pending, sent, folded, skipped */
    int64_t queue_id; /* 0 = none */
    int64_t incident_id;
    enum ear_severity severity;
    char *what;       /* one line: what the alert says */
    int64_t created;
    int attempts;
    int64_t next_attempt;
    int64_t last_attempt;
    char *last_error; /* why it waits, NULL when it never failed */
    int64_t sent_at;
    int64_t folded_into;
};

void ear_outbox_entries_free(struct ear_outbox_entry *v, size_t n);

/* Pending entries (and, with all, the rest too), oldest first; sink NULL
 * = every sink. New *out: ear_outbox_entries_free(). */
int ear_outbox_list(struct ear_store *st, int all, const char *sink,
                    struct ear_outbox_entry **out, size_t *n,
                    struct ear_error *err);
struct json_t *ear_outbox_entry_json(const struct ear_outbox_entry *e);

/* What a delivery pass did, and why sinks failed (up to 8 lines, such as
 * "sink 'ops': HTTP 503 Service Unavailable; 3 alerts wait, next try
 * 2026-11-23T09:05:00Z"). */
struct ear_delivery_stats {
    size_t sent;
    size_t failed;     /* send attempts that failed */
    size_t folded;     /* alerts folded into summaries */
    size_t skipped;    /* no longer wanted by their sink */
    size_t waiting;    /* still pending after the pass */
    size_t nproblems;
    char problems[8][400];
};

/* Delivers every pending alert that is due (all of them with force), sink
 * by sink (only the sink named, when sink is non-NULL). A sink that fails
 * is not tried again in this pass; its alerts wait. A jsonl sink with path
 * "-" hands its lines to write (NULL: they wait with an error). stats may
 * be NULL. Returns 0 even when sends fail (see stats); EAR_EDB or
 * EAR_ENOMEM when the store fails. */
int ear_outbox_deliver(struct ear_store *st, const struct ear_config *cfg,
                       int64_t now, int force, const char *sink,
                       ear_write_fn write, void *write_payload,
                       struct ear_delivery_stats *stats,
                       struct ear_error *err);

/* Checks the config's sinks and incidents maps (EAR_EINVAL with
 * path:line:col). */
int ear_output_check(const struct ear_config *cfg, struct ear_error *err);

/* What `earshot run` does after every source is processed: incidents
 * (ear_incidents_update), then delivery of what is due
 * (ear_outbox_deliver). Config mistakes in sinks and incidents become
 * problems in stats too, never a failure of the run. */
struct ear_output_stats {
    struct ear_incident_stats incidents;
    struct ear_delivery_stats delivery;
};

int ear_output_after_run(struct ear_store *st, const struct ear_config *cfg,
                         int64_t now, ear_write_fn write,
                         void *write_payload, struct ear_output_stats *stats,
                         struct ear_error *err);

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

/* The digest for [since, until) as an e-mail for the smtp sink named sink
 * (NULL = the first smtp sink of cfg): From/To from the sink, then
 * multipart/alternative of the Markdown digest (text/plain) and a
 * multipart/related part whose text/html root shows the charts as PNG
 * images (image/png parts, drawn with cairo, linked by cid:). Every part
 * is base64; the message is 7-bit and CRLF. Appended to out.
 * Errors: EAR_ENOTFOUND (no such smtp sink), EAR_EINVAL (the sink's map
 * has a mistake), EAR_EDB, EAR_ENOMEM. */
int ear_digest_mail_build(struct ear_store *st, const struct ear_config *cfg,
                          int64_t since, int64_t until, const char *sink,
                          struct ear_buf *out, struct ear_error *err);
/* Builds it and sends it over the sink (libcurl SMTP, see docs/alerts.md).
 * Errors as above, and EAR_EHTTP when the server refuses or is down. */
int ear_digest_mail(struct ear_store *st, const struct ear_config *cfg,
                    int64_t since, int64_t until, const char *sink,
                    struct ear_error *err);

#endif
