/*
 * earshot queue: the triage queue on the command line.
 *
 *   earshot queue [list] [FILTERS] [--all] [--limit N] [--offset N] [--json]
 *   earshot queue show ID... [--json]
 *   earshot queue assign ID... --to NAME      [--as ACTOR] [--note TEXT]
 *   earshot queue respond|resolve|reopen ID... [--as ACTOR] [--note TEXT]
 *   earshot queue dismiss ID... --reason R    [--as ACTOR] [--note TEXT]
 *   earshot queue route ID... --to TEAM       [--as ACTOR] [--note TEXT]
 *   earshot queue note ID... TEXT             [--as ACTOR]
 *   earshot queue export --format csv|jsonl [FILTERS] [--all] [--out FILE]
 *
 * The changing verbs take ids, or instead of ids a filter (the list
 * filters) that selects the items to change; --dry-run shows which. Every
 * id is tried: a bad one is reported by its id and the exit status is 1,
 * while the others are still changed. docs/queue.md has the details.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <jansson.h>

#include "cli/cli.h"
#include "output/output.h"

#define BOLD "\033[1m"
#define RED "\033[31m"
#define BOLD_RED "\033[1;31m"
#define YELLOW "\033[33m"
#define DIM "\033[2m"
#define RESET "\033[0m"
#define HL_ON "\033[1;4;33m"

enum verb {
    V_LIST,
    V_SHOW,
    V_ASSIGN,
    V_RESPOND,
    V_RESOLVE,
    V_DISMISS,
    V_REOPEN,
    V_ROUTE,
    V_NOTE,
    V_EXPORT
};

static const struct {
    const char *name;
    enum verb verb;
} verbs[] = {
    {"list", V_LIST},       {"show", V_SHOW},       {"assign", V_ASSIGN},
    {"respond", V_RESPOND}, {"resolve", V_RESOLVE}, {"dismiss", V_DISMISS},
    {"reopen", V_REOPEN},   {"route", V_ROUTE},     {"note", V_NOTE},
    {"export", V_EXPORT},
};

/* Options of every verb; each verb checks which it accepts. */
struct qopts {
    struct ear_queue_filter f;
    int nfilters;   /* filter options given */
    int json;
    int dry_run;
    int paged;      /* --limit or --offset given */
    const char *format;
    const char *out;
    const char *to;
    const char *as;
    const char *note;
    const char *reason;
    unsigned given; /* bit per option letter class, for "not allowed" */
};

enum {
    O_FILTER = 1 << 0,
    O_JSON = 1 << 1,
    O_FORMAT = 1 << 2,
    O_OUT = 1 << 3,
    O_TO = 1 << 4,
    O_AS = 1 << 5,
    O_NOTE = 1 << 6,
    O_REASON = 1 << 7,
    O_DRY = 1 << 8,
    O_PAGE = 1 << 9,
    O_ALL = 1 << 10
};

static unsigned allowed(enum verb v)
{
    switch (v) {
    case V_LIST:
        return O_FILTER | O_ALL | O_PAGE | O_JSON;
    case V_SHOW:
        return O_JSON;
    case V_EXPORT:
        return O_FILTER | O_ALL | O_FORMAT | O_OUT;
    case V_ASSIGN:
    case V_ROUTE:
        return O_FILTER | O_TO | O_AS | O_NOTE | O_DRY;
    case V_DISMISS:
        return O_FILTER | O_REASON | O_AS | O_NOTE | O_DRY;
    case V_RESPOND:
    case V_RESOLVE:
    case V_REOPEN:
    case V_NOTE:
        return O_FILTER | O_AS | O_NOTE | O_DRY;
    }
    return 0;
}

static const char *const option_names[] = {
    "--state/--team/--owner/--category/--brand/--source/--lang/--overdue",
    "--json", "--format", "--out", "--to", "--as", "--note", "--reason",
    "--dry-run", "--limit/--offset", "--all"
};

/* ------------------------------------------------------------ usage */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: earshot queue [list] [FILTERS] [--all] [--limit N] "
        "[--offset N] [--json]\n"
        "       earshot queue show ID... [--json]\n"
        "       earshot queue assign ID... --to NAME [--as ACTOR] "
        "[--note TEXT]\n"
        "       earshot queue respond ID... [--as ACTOR] [--note TEXT]\n"
        "       earshot queue resolve ID... [--as ACTOR] [--note TEXT]\n"
        "       earshot queue dismiss ID... --reason REASON [--as ACTOR] "
        "[--note TEXT]\n"
        "       earshot queue reopen ID... [--as ACTOR] [--note TEXT]\n"
        "       earshot queue route ID... --to TEAM [--as ACTOR] "
        "[--note TEXT]\n"
        "       earshot queue note ID... TEXT [--as ACTOR]\n"
        "       earshot queue export --format csv|jsonl [FILTERS] [--all] "
        "[--out FILE]\n\n"
        "The triage queue: flagged mentions, most urgent first (overdue, "
        "then severity,\nrating, reach and age). States: new -> assigned -> "
        "responded -> resolved, or\ndismissed; reopen brings a closed item "
        "back. Every change is recorded with\nits actor (--as, else $USER), "
        "time and note. Nothing is ever deleted.\n\n"
        "filters (list, export, and the changing verbs instead of ids):\n"
        "  --state S       new, assigned, responded, resolved, dismissed, "
        "open, closed, all\n"
        "                  (default: open items; 'reopen' selects closed "
        "ones)\n"
        "  --team T        --owner O (- = unassigned)   --category C\n"
        "  --brand B       --source S   --lang L        --overdue\n"
        "  --all           include resolved and dismissed items\n\n"
        "options:\n"
        "  --limit N       list at most N items (default 50 on a terminal, "
        "0 = all)\n"
        "  --offset N      skip the first N items\n"
        "  --json          JSON instead of a table\n"
        "  --to NAME       owner (assign) or team (route)\n"
        "  --reason R      not-a-complaint, duplicate, spam, not-about-us\n"
        "  --as ACTOR      who makes the change (default $USER)\n"
        "  -m, --note TEXT a note for the history\n"
        "  --dry-run       show which items a change would touch\n"
        "  --format F      export format: csv or jsonl\n"
        "  --out FILE      export to FILE instead of standard output\n\n"
        "See docs/queue.md.\n");
}

static int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* "12" or "#12". */
static int parse_id(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (s[0] == '#')
        s++;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_opts(struct ear_cli *cli, enum verb verb, const char *name,
                      int argc, char **argv, struct qopts *o)
{
    enum {
        OPT_STATE = 256, OPT_TEAM, OPT_OWNER, OPT_CATEGORY, OPT_BRAND,
        OPT_SOURCE, OPT_LANG, OPT_OVERDUE, OPT_ALL, OPT_LIMIT, OPT_OFFSET,
        OPT_JSON, OPT_FORMAT, OPT_OUT, OPT_TO, OPT_AS, OPT_REASON, OPT_DRY
    };
    static const struct option opts[] = {
        {"state", required_argument, NULL, OPT_STATE},
        {"team", required_argument, NULL, OPT_TEAM},
        {"owner", required_argument, NULL, OPT_OWNER},
        {"category", required_argument, NULL, OPT_CATEGORY},
        {"brand", required_argument, NULL, OPT_BRAND},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"lang", required_argument, NULL, OPT_LANG},
        {"overdue", no_argument, NULL, OPT_OVERDUE},
        {"all", no_argument, NULL, OPT_ALL},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"json", no_argument, NULL, OPT_JSON},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"out", required_argument, NULL, OPT_OUT},
        {"to", required_argument, NULL, OPT_TO},
        {"as", required_argument, NULL, OPT_AS},
        {"note", required_argument, NULL, 'm'},
        {"reason", required_argument, NULL, OPT_REASON},
        {"dry-run", no_argument, NULL, OPT_DRY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    char cmd[32];
    unsigned bad;
    int c;

    snprintf(cmd, sizeof cmd, "queue %s", name);
    optind = 0;
    while ((c = getopt_long(argc, argv, "hm:", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STATE: o->f.state = optarg; o->nfilters++; break;
        case OPT_TEAM: o->f.team = optarg; o->nfilters++; break;
        case OPT_OWNER: o->f.owner = optarg; o->nfilters++; break;
        case OPT_CATEGORY: o->f.category = optarg; o->nfilters++; break;
        case OPT_BRAND: o->f.brand = optarg; o->nfilters++; break;
        case OPT_SOURCE: o->f.source = optarg; o->nfilters++; break;
        case OPT_LANG: o->f.lang = optarg; o->nfilters++; break;
        case OPT_OVERDUE: o->f.overdue_only = 1; o->nfilters++; break;
        case OPT_ALL: o->f.include_closed = 1; o->given |= O_ALL; break;
        case OPT_LIMIT:
        case OPT_OFFSET:
            if (parse_size(optarg, c == OPT_LIMIT ? &o->f.limit
                                                  : &o->f.offset) < 0)
                return ear_cli_usage(cli, cmd, "--%s needs a number, not "
                                     "'%s'", c == OPT_LIMIT ? "limit" :
                                     "offset", optarg);
            o->paged |= c == OPT_LIMIT ? 1 : 2;
            o->given |= O_PAGE;
            break;
        case OPT_JSON: o->json = 1; o->given |= O_JSON; break;
        case OPT_FORMAT: o->format = optarg; o->given |= O_FORMAT; break;
        case OPT_OUT: o->out = optarg; o->given |= O_OUT; break;
        case OPT_TO: o->to = optarg; o->given |= O_TO; break;
        case OPT_AS: o->as = optarg; o->given |= O_AS; break;
        case 'm': o->note = optarg; o->given |= O_NOTE; break;
        case OPT_REASON: o->reason = optarg; o->given |= O_REASON; break;
        case OPT_DRY: o->dry_run = 1; o->given |= O_DRY; break;
        case 'h': usage(stdout); return -1;
        default: return ear_cli_usage(cli, cmd, "bad option");
        }
    }
    if (o->nfilters)
        o->given |= O_FILTER;
    bad = o->given & ~allowed(verb);
    for (int i = 0; bad; i++, bad >>= 1)
        if (bad & 1)
            return ear_cli_usage(cli, cmd, "%s does not apply to '%s'",
                                 option_names[i], name);
    return 0;
}

/* ------------------------------------------------------------ table */

static int term_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    size_t n;

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col >= 40)
        return ws.ws_col;
    if (cols && parse_size(cols, &n) == 0 && n >= 40 && n < 1000)
        return (int)n;
    return 120;
}

/* Appends s cut to width columns and padded to it (left-aligned). */
static int cell(struct ear_buf *b, const char *s, size_t width)
{
    size_t start = b->len;
    size_t w;
    int rc;

    if (!s || !s[0])
        s = "-";
    rc = ear_text_snippet(b, s, width);
    if (rc < 0)
        return rc;
    w = ear_text_width(b->ptr + start);
    for (; w < width + 1 && rc == 0; w++)
        rc = ear_buf_addc(b, ' ');
    return rc;
}

static const char *sev_color(enum ear_severity s)
{
    switch (s) {
    case EAR_SEV_CRITICAL: return BOLD_RED;
    case EAR_SEV_HIGH: return RED;
    case EAR_SEV_MEDIUM: return YELLOW;
    default: return DIM;
    }
}

/* "2h late", "in 3h", "answered", "resolved", "-" */
static const char *due_text(const struct ear_queue_item *it, int64_t now,
                            char *buf, size_t size)
{
    char d[32];

    if (strcmp(it->state, "resolved") == 0 ||
        strcmp(it->state, "dismissed") == 0)
        return it->state;
    if (it->first_response)
        return "answered";
    if (!it->due)
        return "-";
    if (it->overdue)
        snprintf(buf, size, "%s late",
                 ear_duration_fmt(now - it->due, d, sizeof d));
    else
        snprintf(buf, size, "in %s",
                 ear_duration_fmt(it->due - now, d, sizeof d));
    return buf;
}

static int print_table(struct ear_cli *cli, const struct ear_queue_item *v,
                       size_t n, int64_t now)
{
    static const size_t wid = 6, wsev = 8, wstate = 9, wteam = 10,
                        wowner = 8, wage = 7, wdue = 12, wsrc = 14,
                        wbrand = 10, wcat = 10;
    size_t fixed = wid + wsev + wstate + wteam + wowner + wage + wdue + wsrc +
                   wbrand + wcat + 10;
    size_t width = (size_t)term_width();
    size_t wtext = width > fixed + 20 ? width - fixed : 20;
    struct ear_buf b;
    int rc = 0;

    ear_buf_init(&b, 1 << 20);
    if (cli->color)
        rc = ear_buf_adds(&b, BOLD);
    if (rc == 0)
        rc = ear_buf_addf(&b, "%-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s "
                          "%-*s %s", (int)wid, "ID", (int)wsev, "SEVERITY",
                          (int)wstate, "STATE", (int)wteam, "TEAM",
                          (int)wowner, "OWNER", (int)wage, "AGE", (int)wdue,
                          "DUE", (int)wsrc, "SOURCE", (int)wbrand, "BRAND",
                          (int)wcat, "CATEGORY", "TEXT");
    if (rc == 0 && cli->color)
        rc = ear_buf_adds(&b, RESET);
    if (rc == 0)
        rc = ear_buf_addc(&b, '\n');
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct ear_queue_item *it = &v[i];
        char idb[32];
        char age[32];
        char due[48];
        const char *text;

        snprintf(idb, sizeof idb, "%s%lld", it->overdue ? "!" : "",
                 (long long)it->id);
        ear_duration_fmt(now - it->created, age, sizeof age);
        rc = ear_buf_addf(&b, "%*s ", (int)wid, idb);
        if (rc == 0 && cli->color)
            rc = ear_buf_adds(&b, sev_color(it->severity));
        if (rc == 0)
            rc = cell(&b, ear_severity_name(it->severity), wsev);
        if (rc == 0 && cli->color)
            rc = ear_buf_adds(&b, RESET);
        if (rc == 0)
            rc = cell(&b, it->state, wstate);
        if (rc == 0)
            rc = cell(&b, it->team, wteam);
        if (rc == 0)
            rc = cell(&b, it->owner, wowner);
        if (rc == 0)
            rc = cell(&b, age, wage);
        if (rc == 0 && cli->color && it->overdue)
            rc = ear_buf_adds(&b, BOLD_RED);
        if (rc == 0)
            rc = cell(&b, due_text(it, now, due, sizeof due), wdue);
        if (rc == 0 && cli->color && it->overdue)
            rc = ear_buf_adds(&b, RESET);
        if (rc == 0)
            rc = cell(&b, it->source, wsrc);
        if (rc == 0)
            rc = cell(&b, it->brand, wbrand);
        if (rc == 0)
            rc = cell(&b, it->category, wcat);
        text = it->title && it->title[0] ? it->title : it->text;
        if (rc == 0)
            rc = ear_text_snippet(&b, text ? text : "", wtext);
        if (rc == 0)
            rc = ear_buf_addc(&b, '\n');
    }
    if (rc < 0) {
        ear_cli_err(cli, "%s", ear_strerror(rc));
        return rc;
    }
    fwrite(b.ptr, 1, b.len, stdout);
    ear_buf_dispose(&b);
    return 0;
}

/* ------------------------------------------------------------ list */

static int cmd_list(struct ear_cli *cli, struct qopts *o)
{
    struct ear_store *st;
    struct ear_queue_item *items = NULL;
    struct ear_error err;
    size_t n = 0;
    size_t total = 0;
    int64_t now = ear_now();
    int rc;

    if (!(o->paged & 1) && !o->json && isatty(STDOUT_FILENO))
        o->f.limit = 50;
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    rc = ear_queue_list(st, &o->f, now, &items, &n, &err);
    if (rc == 0)
        rc = ear_queue_count(st, &o->f, now, &total, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        ear_queue_items_free(items, n);
        return rc == EAR_EINVAL ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
    }
    if (o->json) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
            if (json_array_append_new(a, ear_queue_item_json(&items[i])) < 0) {
                json_decref(a);
                a = NULL;
            }
        rc = ear_cli_print_json(a);
    } else if (n == 0) {
        printf("No matching items.\n");
    } else {
        rc = print_table(cli, items, n, now);
        if (rc == 0 && total > o->f.offset + n)
            ear_cli_info(cli, "(%zu of %zu shown; --limit 0 shows all)", n,
                         total - o->f.offset);
    }
    ear_queue_items_free(items, n);
    return rc < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

/* ------------------------------------------------------------ show */

static json_t *verdict_json(const struct ear_verdict *v)
{
    json_t *o = json_object();
    json_t *cats = json_array();
    json_t *ms = json_array();

    if (!o || !cats || !ms) {
        json_decref(o);
        json_decref(cats);
        json_decref(ms);
        return NULL;
    }
    for (size_t i = 0; i < v->ncategories; i++)
        json_array_append_new(cats, json_string(v->categories[i]));
    for (size_t i = 0; i < v->nmatches; i++) {
        const struct ear_match *m = &v->matches[i];
        json_t *j = json_object();

        if (!j)
            continue;
        json_object_set_new(j, "rule", m->rule ? json_string(m->rule)
                                               : json_null());
        json_object_set_new(j, "category", m->category
                                ? json_string(m->category) : json_null());
        json_object_set_new(j, "field", json_string(m->field ? m->field
                                                             : "text"));
        json_object_set_new(j, "start", json_integer((json_int_t)m->start));
        json_object_set_new(j, "end", json_integer((json_int_t)m->end));
        json_object_set_new(j, "text", m->text ? json_string(m->text)
                                               : json_null());
        json_object_set_new(j, "weight", json_real(m->weight));
        json_array_append_new(ms, j);
    }
    json_object_set_new(o, "flag", json_boolean(v->flag));
    json_object_set_new(o, "score", json_real(v->score));
    json_object_set_new(o, "severity",
                        json_string(ear_severity_name(v->severity)));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "brand", v->brand ? json_string(v->brand)
                                             : json_null());
    json_object_set_new(o, "team", v->team ? json_string(v->team)
                                           : json_null());
    json_object_set_new(o, "lang", v->lang[0] ? json_string(v->lang)
                                              : json_null());
    json_object_set_new(o, "explain", v->explain ? json_string(v->explain)
                                                 : json_null());
    json_object_set_new(o, "matches", ms);
    return o;
}

static json_t *time_json(int64_t t)
{
    char buf[40];

    return t ? json_string(ear_time_fmt(t, buf, sizeof buf)) : json_null();
}

static void print_field(struct ear_cli *cli, const char *label,
                        const char *value)
{
    struct ear_buf b;

    if (!value || !value[0])
        return;
    ear_buf_init(&b, 1 << 20);
    if (ear_text_clean(&b, value) == 0)
        printf("%s%-10s%s %s\n", cli->color ? BOLD : "", label,
               cli->color ? RESET : "", ear_buf_str(&b));
    ear_buf_dispose(&b);
}

static void print_highlighted(struct ear_cli *cli, const char *label,
                              const char *text, const char *field,
                              const struct ear_verdict *v)
{
    struct ear_buf b;

    if (!text || !text[0])
        return;
    ear_buf_init(&b, 8 << 20);
    if (ear_text_highlight(&b, text, field, v ? v->matches : NULL,
                           v ? v->nmatches : 0, cli->color ? HL_ON : "[[",
                           cli->color ? RESET : "]]") == 0)
        printf("\n%s%s%s\n%s\n", cli->color ? BOLD : "", label,
               cli->color ? RESET : "", ear_buf_str(&b));
    ear_buf_dispose(&b);
}

static int show_one(struct ear_cli *cli, struct ear_store *st, int64_t id,
                    int json, int first)
{
    struct ear_queue_item it;
    struct ear_queue_event *ev = NULL;
    struct ear_mention m;
    struct ear_verdict v;
    struct ear_error err;
    size_t nev = 0;
    int64_t now = ear_now();
    int have_m = 0;
    int have_v = 0;
    int rc;
    char t1[40];
    char d[32];

    ear_error_clear(&err);
    rc = ear_queue_get(st, id, now, &it, &ev, &nev, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return rc;
    }
    ear_mention_init(&m);
    ear_verdict_init(&v);
    if (ear_store_mention_get(st, it.mention_id, &m, &err) == 0)
        have_m = 1;
    if (ear_store_verdict_get(st, it.mention_id, &v, &err) == 0)
        have_v = 1;

    if (json) {
        json_t *o = json_object();
        json_t *hist = json_array();
        json_t *mj = json_object();

        for (size_t i = 0; hist && i < nev; i++)
            json_array_append_new(hist, ear_queue_event_json(&ev[i]));
        if (mj && have_m) {
            json_object_set_new(mj, "key", json_string(m.key));
            json_object_set_new(mj, "guid", m.guid ? json_string(m.guid)
                                                   : json_null());
            json_object_set_new(mj, "published", time_json(m.published));
            json_object_set_new(mj, "updated", time_json(m.updated));
            json_object_set_new(mj, "first_seen", time_json(m.first_seen));
        }
        if (o) {
            json_object_set_new(o, "item", ear_queue_item_json(&it));
            json_object_set_new(o, "mention", mj ? mj : json_null());
            json_object_set_new(o, "verdict", have_v ? verdict_json(&v)
                                                     : json_null());
            json_object_set_new(o, "history", hist ? hist : json_null());
        } else {
            json_decref(mj);
            json_decref(hist);
        }
        rc = ear_cli_print_json(o);
        goto out;
    }

    if (!first)
        printf("\n");
    printf("%s#%lld%s  %s%s%s", cli->color ? BOLD : "", (long long)it.id,
           cli->color ? RESET : "", cli->color ? sev_color(it.severity) : "",
           ear_severity_name(it.severity), cli->color ? RESET : "");
    if (it.overdue)
        printf("  %sOVERDUE%s", cli->color ? BOLD_RED : "",
               cli->color ? RESET : "");
    printf("  %s\n", it.state);
    print_field(cli, "team", it.team);
    print_field(cli, "owner", it.owner);
    print_field(cli, "source", it.source);
    print_field(cli, "brand", it.brand);
    print_field(cli, "language", it.lang);
    print_field(cli, "author", it.author);
    print_field(cli, "url", it.url);
    if (it.rating > 0) {
        snprintf(t1, sizeof t1, "%.1f / 5", it.rating);
        print_field(cli, "rating", t1);
    }
    if (it.reach >= 0) {
        snprintf(t1, sizeof t1, "%lld", (long long)it.reach);
        print_field(cli, "reach", t1);
    }
    if (have_m && m.published)
        print_field(cli, "published", ear_time_fmt(m.published, t1,
                                                    sizeof t1));
    if (have_m && m.first_seen)
        print_field(cli, "seen", ear_time_fmt(m.first_seen, t1, sizeof t1));
    print_field(cli, "queued", ear_time_fmt(it.created, t1, sizeof t1));
    if (it.due) {
        char due[96];

        snprintf(due, sizeof due, "%s (%s)", ear_time_fmt(it.due, t1,
                 sizeof t1), due_text(&it, now, d, sizeof d));
        print_field(cli, "due", due);
    }
    if (it.first_response)
        print_field(cli, "answered", ear_time_fmt(it.first_response, t1,
                                                   sizeof t1));
    if (it.resolved_at)
        print_field(cli, "resolved", ear_time_fmt(it.resolved_at, t1,
                                                   sizeof t1));
    print_field(cli, "dismissed", it.dismiss_reason);

    print_highlighted(cli, "Title", it.title, "title", have_v ? &v : NULL);
    print_highlighted(cli, "Text", it.text, "text", have_v ? &v : NULL);

    if (have_v) {
        printf("\n%sVerdict%s\n%s, score %.2f, severity %s",
               cli->color ? BOLD : "", cli->color ? RESET : "",
               v.flag ? "flagged" : "not flagged", v.score,
               ear_severity_name(v.severity));
        for (size_t i = 0; i < v.ncategories; i++)
            printf("%s%s", i ? ", " : "; categories ", v.categories[i]);
        printf("\n");
        if (v.explain) {
            struct ear_buf b;

            ear_buf_init(&b, 1 << 20);
            if (ear_text_clean(&b, v.explain) == 0)
                printf("%s\n", ear_buf_str(&b));
            ear_buf_dispose(&b);
        }
        for (size_t i = 0; i < v.nmatches; i++) {
            const struct ear_match *mt = &v.matches[i];
            struct ear_buf b;

            ear_buf_init(&b, 1 << 20);
            ear_text_clean(&b, mt->text ? mt->text : "");
            printf("  %-32s %-10s %s %zu-%zu \"%s\"\n",
                   mt->rule ? mt->rule : "-",
                   mt->category ? mt->category : "-",
                   mt->field ? mt->field : "text", mt->start, mt->end,
                   ear_buf_str(&b));
            ear_buf_dispose(&b);
        }
    }

    printf("\n%sHistory%s\n", cli->color ? BOLD : "",
           cli->color ? RESET : "");
    for (size_t i = 0; i < nev; i++) {
        struct ear_buf b;

        ear_buf_init(&b, 1 << 20);
        ear_buf_addf(&b, "  %s  %-10s %-9s ", ear_time_fmt(ev[i].at, t1,
                     sizeof t1), ev[i].kind ? ev[i].kind : "-",
                     ev[i].actor ? ev[i].actor : "-");
        if (ev[i].from_state && ev[i].to_state &&
            strcmp(ev[i].from_state, ev[i].to_state) != 0)
            ear_buf_addf(&b, "%s -> %s", ev[i].from_state, ev[i].to_state);
        else if (ev[i].to_state)
            ear_buf_addf(&b, "%s", ev[i].to_state);
        if (ev[i].note) {
            ear_buf_adds(&b, "  ");
            ear_text_clean(&b, ev[i].note);
        }
        /* The whole line is cleaned: actor names come from the outside
         * too. */
        {
            struct ear_buf c;

            ear_buf_init(&c, 1 << 20);
            ear_text_clean(&c, ear_buf_str(&b));
            printf("%s\n", ear_buf_str(&c));
            ear_buf_dispose(&c);
        }
        ear_buf_dispose(&b);
    }
    rc = 0;
out:
    ear_queue_item_dispose(&it);
    ear_queue_events_free(ev, nev);
    ear_mention_dispose(&m);
    ear_verdict_dispose(&v);
    return rc;
}

/* ------------------------------------------------------------ changes */

struct idlist {
    int64_t *v;
    size_t n;
};

/* Ids from the positional arguments; a bad one is reported and counted in
 * *bad. */
static int collect_ids(struct ear_cli *cli, char **args, int nargs,
                       struct idlist *ids, int *bad)
{
    ids->v = calloc((size_t)nargs + 1, sizeof *ids->v);
    ids->n = 0;
    if (!ids->v) {
        ear_cli_err(cli, "out of memory");
        return -1;
    }
    for (int i = 0; i < nargs; i++) {
        int64_t id;

        if (parse_id(args[i], &id) < 0) {
            ear_cli_err(cli, "'%s' is not a queue id", args[i]);
            (*bad)++;
            continue;
        }
        ids->v[ids->n++] = id;
    }
    return 0;
}

/* Ids selected by a filter (snapshot before any change). */
static int filter_ids(struct ear_cli *cli, struct ear_store *st,
                      struct qopts *o, enum verb verb, struct idlist *ids)
{
    struct ear_queue_item *items = NULL;
    struct ear_error err;
    size_t n = 0;
    int rc;

    if (!o->f.state && verb == V_REOPEN)
        o->f.state = "closed";
    o->f.limit = 0;
    o->f.offset = 0;
    ear_error_clear(&err);
    rc = ear_queue_list(st, &o->f, ear_now(), &items, &n, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        return rc;
    }
    ids->v = calloc(n + 1, sizeof *ids->v);
    if (!ids->v) {
        ear_queue_items_free(items, n);
        ear_cli_err(cli, "out of memory");
        return EAR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        ids->v[i] = items[i].id;
    ids->n = n;
    ear_queue_items_free(items, n);
    return 0;
}

static int apply(struct ear_store *st, enum verb verb, int64_t id,
                 const struct qopts *o, const char *actor, int64_t now,
                 struct ear_error *err)
{
    switch (verb) {
    case V_ASSIGN:
        return ear_queue_assign(st, id, o->to, actor, o->note, now, err);
    case V_RESPOND:
        return ear_queue_respond(st, id, actor, o->note, now, err);
    case V_RESOLVE:
        return ear_queue_resolve(st, id, actor, o->note, now, err);
    case V_DISMISS:
        return ear_queue_dismiss(st, id, o->reason, actor, o->note, now,
                                 err);
    case V_REOPEN:
        return ear_queue_reopen(st, id, actor, o->note, now, err);
    case V_ROUTE:
        return ear_queue_route(st, id, o->to, actor, o->note, now, err);
    case V_NOTE:
        return ear_queue_note(st, id, actor, o->note, now, err);
    default:
        return ear_error_set(err, EAR_EINVAL, NULL, 0, 0, "not a change");
    }
}

static const char *done_word(enum verb verb)
{
    switch (verb) {
    case V_ASSIGN: return "assigned";
    case V_RESPOND: return "marked responded";
    case V_RESOLVE: return "resolved";
    case V_DISMISS: return "dismissed";
    case V_REOPEN: return "reopened";
    case V_ROUTE: return "routed";
    case V_NOTE: return "noted";
    default: return "changed";
    }
}

static int cmd_change(struct ear_cli *cli, enum verb verb, const char *name,
                      struct qopts *o, char **args, int nargs)
{
    struct ear_store *st;
    struct idlist ids = {NULL, 0};
    const char *actor = ear_cli_actor(o->as);
    int64_t now = ear_now();
    int bad = 0;
    size_t done = 0;
    char cmd[32];

    snprintf(cmd, sizeof cmd, "queue %s", name);
    if (verb == V_NOTE && !o->note) {
        if (nargs < 1)
            return ear_cli_usage(cli, cmd, "give the note's text");
        o->note = args[nargs - 1];
        nargs--;
    }
    if ((verb == V_ASSIGN || verb == V_ROUTE) && (!o->to || !o->to[0]))
        return ear_cli_usage(cli, cmd, "--to %s is required",
                             verb == V_ASSIGN ? "NAME" : "TEAM");
    if (verb == V_DISMISS && !o->reason)
        return ear_cli_usage(cli, cmd, "--reason is required "
                             "(not-a-complaint, duplicate, spam or "
                             "not-about-us)");
    if (verb == V_DISMISS && !ear_dismiss_reason_valid(o->reason))
        return ear_cli_usage(cli, cmd, "unknown reason '%s' (expected "
                             "not-a-complaint, duplicate, spam or "
                             "not-about-us)", o->reason);
    if (verb == V_NOTE && !o->note[0])
        return ear_cli_usage(cli, cmd, "the note is empty");
    if (nargs > 0 && o->nfilters > 0)
        return ear_cli_usage(cli, cmd, "give ids or a filter, not both");
    if (nargs == 0 && o->nfilters == 0)
        return ear_cli_usage(cli, cmd, "give one or more ids, or a filter "
                             "such as --team T or --state S");
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    if (nargs > 0) {
        if (collect_ids(cli, args, nargs, &ids, &bad) < 0)
            return EAR_EXIT_FAIL;
    } else {
        int rc = filter_ids(cli, st, o, verb, &ids);

        if (rc < 0)
            return rc == EAR_EINVAL ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
        if (ids.n == 0)
            ear_cli_info(cli, "no item matches the filter");
    }
    for (size_t i = 0; i < ids.n; i++) {
        struct ear_error err;
        int rc;

        if (o->dry_run) {
            printf("#%lld\n", (long long)ids.v[i]);
            continue;
        }
        ear_error_clear(&err);
        rc = apply(st, verb, ids.v[i], o, actor, now, &err);
        if (rc < 0) {
            /* The error's words name the id ("#12 is resolved ..."). */
            ear_cli_error(cli, &err);
            bad++;
            continue;
        }
        done++;
        if (verb == V_ASSIGN || verb == V_ROUTE)
            ear_cli_info(cli, "#%lld %s to %s", (long long)ids.v[i],
                         done_word(verb), o->to);
        else
            ear_cli_info(cli, "#%lld %s", (long long)ids.v[i],
                         done_word(verb));
    }
    if (o->dry_run)
        ear_cli_info(cli, "dry run: %zu item(s) would be %s", ids.n,
                     done_word(verb));
    else if (ids.n > 1 || bad)
        ear_cli_info(cli, "%zu item(s) %s, %d failed", done, done_word(verb),
                     bad);
    free(ids.v);
    return bad ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

/* ------------------------------------------------------------ export */

static int file_write(const char *p, size_t n, void *payload)
{
    if (n > 0 && fwrite(p, 1, n, payload) != n)
        return EAR_EIO;
    return 0;
}

static int cmd_export(struct ear_cli *cli, struct qopts *o)
{
    struct ear_store *st;
    struct ear_error err;
    struct ear_buf tmp;
    FILE *f = stdout;
    int rc;

    if (!o->format)
        return ear_cli_usage(cli, "queue export", "--format csv|jsonl is "
                             "required");
    if (strcmp(o->format, "csv") != 0 && strcmp(o->format, "jsonl") != 0)
        return ear_cli_usage(cli, "queue export", "unknown format '%s' "
                             "(expected csv or jsonl)", o->format);
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    ear_buf_init(&tmp, 4096);
    ear_error_clear(&err);
    if (o->out) {
        /* Written beside the target and renamed, so a failed export never
         * leaves half a file under the real name. */
        if (ear_mkdir_parents(o->out, &err) < 0 ||
            ear_buf_addf(&tmp, "%s.tmp.%ld", o->out, (long)getpid()) < 0) {
            ear_cli_error(cli, &err);
            return EAR_EXIT_FAIL;
        }
        f = fopen(ear_buf_str(&tmp), "wb");
        if (!f) {
            ear_cli_err(cli, "%s: %s", o->out, strerror(errno));
            ear_buf_dispose(&tmp);
            return EAR_EXIT_FAIL;
        }
    }
    rc = ear_queue_export(st, &o->f, ear_now(), o->format, file_write, f,
                          &err);
    if (o->out) {
        if (fclose(f) != 0 && rc == 0)
            rc = ear_error_set(&err, EAR_EIO, o->out, 0, 0, "%s",
                               strerror(errno));
        if (rc == 0 && rename(ear_buf_str(&tmp), o->out) != 0)
            rc = ear_error_set(&err, EAR_EIO, o->out, 0, 0, "%s",
                               strerror(errno));
        if (rc < 0)
            unlink(ear_buf_str(&tmp));
    }
    ear_buf_dispose(&tmp);
    if (rc < 0) {
        if (o->out && err.source[0] == '\0')
            snprintf(err.source, sizeof err.source, "%s", o->out);
        ear_cli_error(cli, &err);
        return rc == EAR_EINVAL ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
    }
    return EAR_EXIT_OK;
}

/* ------------------------------------------------------------ dispatch */

int ear_cmd_queue(struct ear_cli *cli, int argc, char **argv)
{
    struct qopts o;
    enum verb verb = V_LIST;
    const char *name = "list";
    int rc;
    int first = 1;
    int failed = 0;

    memset(&o, 0, sizeof o);
    /* "earshot queue" alone, or with options first, lists. */
    if (argc >= 2 && argv[1][0] != '-') {
        size_t i;

        for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
            if (strcmp(argv[1], verbs[i].name) == 0)
                break;
        if (i == sizeof verbs / sizeof verbs[0]) {
            const char *best = NULL;
            size_t best_d = (size_t)-1;

            for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
                size_t d = ear_levenshtein(argv[1], verbs[i].name);

                if (d < best_d) {
                    best_d = d;
                    best = verbs[i].name;
                }
            }
            if (best && best_d <= 2)
                return ear_cli_usage(cli, "queue", "unknown verb '%s' (did "
                                     "you mean '%s'?)", argv[1], best);
            return ear_cli_usage(cli, "queue", "unknown verb '%s'",
                                 argv[1]);
        }
        verb = verbs[i].verb;
        name = verbs[i].name;
        argc--;
        argv++;
    } else if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                             strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return EAR_EXIT_OK;
    }
    rc = parse_opts(cli, verb, name, argc, argv, &o);
    if (rc < 0)
        return EAR_EXIT_OK; /* --help */
    if (rc > 0)
        return rc;
    argc -= optind;
    argv += optind;

    switch (verb) {
    case V_LIST:
        if (argc > 0)
            return ear_cli_usage(cli, "queue list", "unexpected argument "
                                 "'%s'", argv[0]);
        return cmd_list(cli, &o);
    case V_EXPORT:
        if (argc > 0)
            return ear_cli_usage(cli, "queue export", "unexpected argument "
                                 "'%s'", argv[0]);
        return cmd_export(cli, &o);
    case V_SHOW: {
        struct ear_store *st;

        if (argc == 0)
            return ear_cli_usage(cli, "queue show", "give a queue id");
        st = ear_cli_store(cli);
        if (!st)
            return EAR_EXIT_FAIL;
        for (int i = 0; i < argc; i++) {
            int64_t id;

            if (parse_id(argv[i], &id) < 0) {
                ear_cli_err(cli, "'%s' is not a queue id", argv[i]);
                failed = 1;
                continue;
            }
            if (show_one(cli, st, id, o.json, first) < 0)
                failed = 1;
            first = 0;
        }
        return failed ? EAR_EXIT_FAIL : EAR_EXIT_OK;
    }
    default:
        return cmd_change(cli, verb, name, &o, argv, argc);
    }
}
