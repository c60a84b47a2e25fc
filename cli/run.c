/*
 * earshot run: one pass through the three stages; and the poller that
 * earshot watch repeats.
 *
 * Every due source is queued on the fetcher, which polls them all at once.
 * As each source finishes, its new mentions are stored, analyzed and, when
 * flagged, queued, and its polling state (validators, next due time,
 * failures) saved: all of it in one savepoint per source, so a source
 * that fails half-way leaves nothing half-written and never touches what
 * the others stored. The sources finishing within a quarter of a second
 * share one transaction (a batch), committed when it is that old, holds
 * BATCH_MENTIONS mentions, the fetcher has to wait for the network anyway,
 * or the poll ends: a bulk poll commits a few times a second instead of
 * once per source, and the write lock is never held much longer than
 * BATCH_MS. A crash loses at most the batch in flight, whose sources'
 * polling state goes with it (they are fetched again). The summary says,
 * per source, what came of it.
 *
 * The fetcher parses on worker threads; while they are at it, each worker
 * looks up which items are stored already (on a read connection of its
 * own) and analyzes the others, with an analyzer of its own loaded from
 * the same packs. What a worker saw stored is not looked up again here
 * (mentions are never deleted); the others are inserted in one statement
 * that checks (source, key) and the url at the same time, since this
 * poll or another process may have stored them since. A verdict from a
 * worker is only used when storing finds the mention new; a new mention
 * without one is analyzed here, as before. So the verdicts are the same
 * either way, and this thread is left with the store.
 *
 * A source with analyze: false is collected only: its new mentions are
 * stored and counted like any other's, but never analyzed, so they have
 * no verdict and are never flagged or queued.
 *
 * Scheduling lives here too. A source is due again after its interval
 * (±10% jitter), or, with adaptive: true, after an interval that follows
 * its item rate between min_interval and max_interval. A failure backs off
 * exponentially (capped); a 429 or 503 waits as long as Retry-After says;
 * repeated 403s from one host are throttling (Reddit answers a block with
 * 403), not a broken source: status "throttled", backed off the same way.
 * A source with expected_every that has produced nothing new for longer
 * is "silent" (earshot sources).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <sqlite3.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"
#include "fetcher/fetcher.h"
#include "output/output.h"

#define BACKOFF_CAP (6 * 3600)
#define RETRY_AFTER_CAP (7 * 24 * 3600) /* a server's wish, within reason */
#define MIN_INTERVAL 60
#define BATCH_MS 250          /* a batch is committed when this old ... */
#define BATCH_MENTIONS 4000   /* ... or when it has stored this many */
#define CHECKPOINT_FRAMES 1000 /* SQLite's own autocheckpoint threshold */

/* ------------------------------------------------------------ options */

/* A source's scheduling options (docs/fetcher.md). */
struct sched_opts {
    int64_t expected_every; /* 0 = not watched for silence */
    int adaptive;
    int64_t min_interval;
    int64_t max_interval;
};

static int sched_read(struct sched_opts *o, const struct ear_source_cfg *src,
                      const char *path, struct ear_error *err)
{
    const struct ear_ynode *m = src->opts, *n;
    int rc;

    memset(o, 0, sizeof *o);
    o->min_interval = src->interval / 4;
    if (o->min_interval < MIN_INTERVAL)
        o->min_interval = MIN_INTERVAL;
    o->max_interval = src->interval * 4;
    if (!m || m->type != EAR_Y_MAP)
        return 0;
    rc = ear_ynode_duration(&o->expected_every,
                            ear_ynode_get(m, "expected_every"), path,
                            "expected_every", err);
    if (rc == 0)
        rc = ear_ynode_bool(&o->adaptive, ear_ynode_get(m, "adaptive"), path,
                            "adaptive", err);
    if (rc == 0)
        rc = ear_ynode_duration(&o->min_interval,
                                ear_ynode_get(m, "min_interval"), path,
                                "min_interval", err);
    if (rc == 0)
        rc = ear_ynode_duration(&o->max_interval,
                                ear_ynode_get(m, "max_interval"), path,
                                "max_interval", err);
    if (rc < 0)
        return rc;
    n = ear_ynode_get(m, "min_interval");
    if (n && o->min_interval < MIN_INTERVAL)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "min_interval must be at least 1m");
    n = ear_ynode_get(m, "max_interval");
    if (n && o->max_interval < o->min_interval)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "max_interval must not be below min_interval");
    n = ear_ynode_get(m, "expected_every");
    if (n && o->expected_every <= 0)
        return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                             "expected_every must be a positive duration");
    if (o->max_interval < o->min_interval)
        o->max_interval = o->min_interval;
    return 0;
}

int ear_cli_check_sources(struct ear_cli *cli, const struct ear_config *cfg)
{
    struct ear_error err;
    struct sched_opts so;
    size_t i;

    for (i = 0; i < cfg->nsources; i++) {
        struct ear_parser *p = NULL;
        int rc;

        ear_error_clear(&err);
        rc = ear_parser_new(&p, &cfg->sources[i], cfg->path, &err);
        ear_parser_free(p);
        if (rc == 0)
            rc = sched_read(&so, &cfg->sources[i], cfg->path, &err);
        if (rc < 0) {
            ear_cli_error(cli, &err);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ poller */

/* Checkpoints during a poll: SQLite would copy the WAL into the database
 * (and wait for the disk twice) inside the commit that crosses
 * CHECKPOINT_FRAMES, on the thread that writes the store. During a poll
 * that commit only wakes this thread, which runs the same (passive)
 * checkpoint on a connection of its own while the poll goes on. After the
 * poll the store's connection checkpoints by itself again. */
struct checkpointer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ear_store *st;   /* its own connection */
    int want, stop, running;
};

static void *checkpoint_main(void *arg)
{
    struct checkpointer *c = arg;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->want)
            break;
        c->want = 0;
        pthread_mutex_unlock(&c->mu);
        /* a failure (busy: a reader or another checkpoint) is retried at
         * the next commit, or by the store itself after the poll */
        sqlite3_wal_checkpoint_v2(ear_store_db(c->st), NULL,
                                  SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* The store's wal hook during a poll (after each commit). */
static int checkpoint_hook(void *arg, sqlite3 *db, const char *name,
                           int frames)
{
    struct checkpointer *c = arg;

    (void)db;
    (void)name;
    if (frames >= CHECKPOINT_FRAMES) {
        pthread_mutex_lock(&c->mu);
        c->want = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

/* Starts the checkpointer for a poll; when it cannot, the store goes on
 * checkpointing by itself. */
static void checkpoint_start(struct checkpointer *c, struct ear_store *st)
{
    struct ear_error err;

    memset(c, 0, sizeof *c);
    ear_error_clear(&err);
    if (ear_store_open(&c->st, ear_store_path(st), &err) < 0)
        return;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        ear_store_close(c->st);
        return;
    }
    if (pthread_cond_init(&c->cv, NULL) != 0) {
        pthread_mutex_destroy(&c->mu);
        ear_store_close(c->st);
        return;
    }
    if (pthread_create(&c->th, NULL, checkpoint_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        ear_store_close(c->st);
        return;
    }
    c->running = 1;
    sqlite3_wal_hook(ear_store_db(st), checkpoint_hook, c);
}

static void checkpoint_stop(struct checkpointer *c, struct ear_store *st)
{
    if (!c->running)
        return;
    /* back to SQLite's own checkpoints (this replaces the hook) */
    sqlite3_wal_autocheckpoint(ear_store_db(st), CHECKPOINT_FRAMES);
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    ear_store_close(c->st);
    c->running = 0;
}

/* One parse worker's own analyzer and read connection to the store. */
struct prep_worker {
    struct ear_analyzer *an;
    struct ear_store *st;
};

/* What a worker found out about a source's items.v[i], in state[i]:
 *   PREP_NONE        nothing (not looked at, or the lookup failed)
 *   PREP_KNOWN       stored as id[i] (with a verdict, or under this
 *                    source's key): nothing to do; mentions are never
 *                    deleted, so what a reader saw stored stays stored
 *   PREP_UNANALYZED  stored as id[i] by another source, no verdict yet
 *   PREP_FRESH       not stored when the worker looked
 *   PREP_READY       the same, and v[i] is its verdict */
enum { PREP_NONE, PREP_KNOWN, PREP_UNANALYZED, PREP_FRESH, PREP_READY };
struct prepared {
    size_t n;
    struct ear_verdict *v;
    int64_t *id;
    unsigned char *state;
};

static void prepared_free(void *p)
{
    struct prepared *pr = p;
    size_t i;

    if (!pr)
        return;
    for (i = 0; i < pr->n; i++)
        if (pr->state[i] == PREP_READY)
            ear_verdict_dispose(&pr->v[i]);
    free(pr->v);
    free(pr->id);
    free(pr->state);
    free(pr);
}

/* Room for n items; the new slots are PREP_NONE. */
static int prepared_grow(struct prepared *pr, size_t n)
{
    struct ear_verdict *v;
    int64_t *id;
    unsigned char *s;

    if (n <= pr->n)
        return 0;
    v = realloc(pr->v, n * sizeof *v);
    if (!v)
        return EAR_ENOMEM;
    pr->v = v;
    id = realloc(pr->id, n * sizeof *id);
    if (!id)
        return EAR_ENOMEM;
    pr->id = id;
    s = realloc(pr->state, n);
    if (!s)
        return EAR_ENOMEM;
    pr->state = s;
    memset(pr->state + pr->n, PREP_NONE, n - pr->n);
    pr->n = n;
    return 0;
}

struct source_report {
    const struct ear_source_cfg *src;
    const char *status; /* ok, not-modified, failed, throttled, not-due,
                           disabled */
    size_t items, fresh, flagged, queued;
    long http_status;
    double seconds;
    int64_t next_due;
    char error[600];
};

/* Consecutive 403 answers per host, across the polls of one process. */
struct host_count {
    char *host;
    int forbidden;
};

struct ear_poller {
    struct ear_cli *cli;
    struct ear_config *cfg;   /* borrowed: cli->cfg */
    struct ear_store *st;     /* borrowed: cli->store */
    struct ear_analyzer *an;  /* borrowed */
    struct ear_fetcher *fetcher;
    struct ear_fetch_opts fopts;
    char ua[512];
    struct source_report *reports;
    size_t nreports;
    struct host_count *hosts;
    size_t nhosts;
    struct prep_worker *work; /* one per parse worker, made at first use */
    int nwork;
    int work_an;              /* the workers have analyzers */
    int work_failed;          /* could not be made: analyze here */
    int64_t now;
    int fatal;
    /* the batch: sources whose writes share the open transaction */
    int batch;
    int64_t batch_ms;            /* when it began (monotonic) */
    size_t batch_mentions;
    struct source_report **batch_reps;
    size_t nbatch;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens the batch's transaction unless one is open. */
static int batch_open(struct ear_poller *r, struct ear_error *err)
{
    int rc;

    if (r->batch)
        return 0;
    rc = ear_store_begin(r->st, err);
    if (rc < 0)
        return rc;
    r->batch = 1;
    r->batch_ms = mono_ms();
    r->batch_mentions = 0;
    r->nbatch = 0;
    return 0;
}

/* Commits the batch. When that fails nothing of it was stored: every
 * source in it is reported failed, and the store's failure is fatal. */
static void batch_close(struct ear_poller *r)
{
    struct ear_error err;
    char buf[1024];
    const char *msg;
    size_t i;

    if (!r->batch)
        return;
    r->batch = 0;
    ear_error_clear(&err);
    if (ear_store_commit(r->st, &err) == 0)
        return;
    msg = ear_error_format(&err, buf, sizeof buf);
    ear_cli_err(r->cli, "%s", msg);
    r->fatal = 1;
    for (i = 0; i < r->nbatch; i++) {
        struct source_report *rep = r->batch_reps[i];

        rep->status = "failed";
        rep->fresh = rep->flagged = rep->queued = 0;
        snprintf(rep->error, sizeof rep->error, "%s", msg);
    }
    r->nbatch = 0;
}

/* The source's writes are in the batch: commit it when it is big or old
 * enough. */
static void batch_add(struct ear_poller *r, struct source_report *rep,
                      size_t mentions)
{
    if (!r->batch)
        return;
    r->batch_reps[r->nbatch++] = rep;
    r->batch_mentions += mentions;
    if (r->batch_mentions >= BATCH_MENTIONS
        || mono_ms() - r->batch_ms >= BATCH_MS)
        batch_close(r);
}

/* The fetcher is about to wait: an old enough batch is committed now
 * rather than after the wait, and the wait ends when it would be. */
static long on_idle(void *payload)
{
    struct ear_poller *r = payload;
    int64_t age;

    if (!r->batch)
        return -1;
    age = mono_ms() - r->batch_ms;
    if (age >= BATCH_MS) {
        batch_close(r);
        return -1;
    }
    return (long)(BATCH_MS - age);
}

static struct source_report *report_for(struct ear_poller *r,
                                        const struct ear_source_cfg *src)
{
    size_t i;

    for (i = 0; i < r->nreports; i++)
        if (r->reports[i].src == src)
            return &r->reports[i];
    return NULL;
}

/* Interval with up to ±10% jitter, so sources configured alike do not all
 * fall due in the same second. Derived from the name and the time, not a
 * global RNG. */
static int64_t jittered(const struct ear_source_cfg *src, int64_t interval,
                        int64_t now)
{
    uint64_t h = 1469598103934665603ULL;
    const char *p;
    int64_t span = interval / 10;

    for (p = src->name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h ^= (uint64_t)now;
    h *= 1099511628211ULL;
    if (span <= 0)
        return interval;
    return interval - span + (int64_t)(h % (uint64_t)(2 * span + 1));
}

/* interval, 2x, 4x, ... per consecutive failure, capped at 6 h, or at the
 * interval itself when that is longer (a retry never comes later than the
 * next regular poll would). */
static int64_t backoff(const struct ear_source_cfg *src, int failures)
{
    int64_t d = src->interval;
    int64_t cap = src->interval > BACKOFF_CAP ? src->interval : BACKOFF_CAP;
    int i;

    for (i = 1; i < failures && d < cap; i++)
        d *= 2;
    return d < cap ? d : cap;
}

/* Adaptive interval: aim at about a quarter of the feed being new per
 * poll, so nothing scrolls out between polls and quiet sources are asked
 * less. prev is the interval the last poll used. */
static int64_t adapt(const struct sched_opts *so, int64_t prev, size_t fresh,
                     size_t items)
{
    double target = items >= 8 ? (double)items / 4.0 : 2.0;
    double next;

    if (prev <= 0)
        prev = so->min_interval;
    if (fresh == 0)
        next = (double)prev * 1.5;
    else
        next = (double)prev * target / (double)fresh;
    if (next < (double)prev / 4)
        next = (double)prev / 4;
    if (next > (double)prev * 2)
        next = (double)prev * 2;
    if (fresh >= items && items > 0 && next > (double)prev / 2)
        next = (double)prev / 2; /* all new: items may have been missed */
    if (next < (double)so->min_interval)
        next = (double)so->min_interval;
    if (next > (double)so->max_interval)
        next = (double)so->max_interval;
    return (int64_t)next;
}

static int64_t next_interval(const struct ear_source_cfg *src,
                             const struct ear_source_state *state,
                             size_t fresh, size_t items)
{
    struct sched_opts so;

    if (sched_read(&so, src, NULL, NULL) < 0 || !so.adaptive)
        return src->interval;
    return adapt(&so, state->next_due && state->last_poll
                          && state->next_due > state->last_poll
                          ? state->next_due - state->last_poll
                          : src->interval,
                 fresh, items);
}

/* The host (with its port) of a URL, lower-cased, into buf ("" when
 * none): what one server answers for. */
static void url_host(char *buf, size_t size, const char *url)
{
    const char *p = strstr(url ? url : "", "://");
    const char *at;
    size_t n = 0, len;

    buf[0] = '\0';
    if (!p)
        return;
    p += 3;
    len = strcspn(p, "/?#");
    at = memchr(p, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    while (n < len && n + 1 < size) {
        buf[n] = (char)(p[n] >= 'A' && p[n] <= 'Z' ? p[n] + 32 : p[n]);
        n++;
    }
    buf[n] = '\0';
}

static struct host_count *host_for(struct ear_poller *r, const char *url)
{
    char host[256];
    struct host_count *v;
    size_t i;

    url_host(host, sizeof host, url);
    if (!host[0])
        return NULL;
    for (i = 0; i < r->nhosts; i++)
        if (strcmp(r->hosts[i].host, host) == 0)
            return &r->hosts[i];
    v = realloc(r->hosts, (r->nhosts + 1) * sizeof *v);
    if (!v)
        return NULL;
    r->hosts = v;
    v[r->nhosts].host = ear_strdup(host);
    v[r->nhosts].forbidden = 0;
    if (!v[r->nhosts].host)
        return NULL;
    return &v[r->nhosts++];
}

static void work_free(struct ear_poller *p)
{
    int i;

    for (i = 0; i < p->nwork; i++) {
        ear_analyzer_free(p->work[i].an);
        ear_store_close(p->work[i].st);
    }
    free(p->work);
    p->work = NULL;
    p->nwork = 0;
    p->work_an = 0;
    p->work_failed = 0;
}

/* The workers' connections and (when a source of the poll is analyzed:
 * analyze) analyzers, for a poll of n sources; none when the fetcher
 * parses on this thread. Loaded like ear_cli_analyzer() from the config
 * the poller runs with. Failing is no error: the items are then looked
 * up and analyzed here. */
static void work_setup(struct ear_poller *p, size_t n, int analyze)
{
    const char *path = ear_store_path(p->st);
    struct ear_error err;
    int want = ear_fetcher_workers(p->fetcher, n), i;

    if (p->work_failed || (want <= p->nwork && (p->work_an || !analyze)))
        return;
    work_free(p);
    p->work = calloc((size_t)want, sizeof *p->work);
    if (!p->work) {
        p->work_failed = 1;
        return;
    }
    p->nwork = want;
    p->work_an = analyze;
    for (i = 0; i < want; i++) {
        ear_error_clear(&err);
        if ((analyze
             && (ear_analyzer_new(&p->work[i].an, ear_cli_rule_paths(p->cli),
                                  &err) < 0
                 || ear_analyzer_set_brands(p->work[i].an, p->cfg->brands,
                                            p->cfg->nbrands, &err) < 0))
            || ear_store_open(&p->work[i].st, path, &err) < 0) {
            work_free(p);
            p->work_failed = 1;
            return;
        }
    }
}

/* On parse worker number worker: the verdicts of the page's items that
 * are not stored yet (fetcher's prepare callback). */
static void on_prepare(struct ear_fetch_result *res, size_t from, int worker,
                       void *payload)
{
    struct ear_poller *r = payload;
    const struct ear_source_cfg *src = res->src;
    struct prepared *pr = res->user;
    struct prep_worker *w;
    struct ear_error err;
    size_t i;

    if (worker < 0 || worker >= r->nwork)
        return;
    w = &r->work[worker];
    if (!pr) {
        pr = calloc(1, sizeof *pr);
        if (!pr)
            return;
        res->user = pr;
        res->user_free = prepared_free;
    }
    if (prepared_grow(pr, res->items.n) < 0)
        return;
    for (i = from; i < res->items.n; i++) {
        struct ear_mention *m = &res->items.v[i];
        enum ear_mention_fate fate;
        int64_t id = 0;

        /* as take_items() does before storing */
        if (src->lang && !m->lang[0])
            snprintf(m->lang, sizeof m->lang, "%s", src->lang);
        ear_error_clear(&err);
        if (ear_store_mention_lookup(w->st, src->name, m, &id, &fate, &err)
            < 0)
            continue; /* PREP_NONE: looked up again when stored */
        pr->id[i] = id;
        if (fate == EAR_MENTION_KNOWN
            || (fate == EAR_MENTION_UNANALYZED && !src->analyze)) {
            pr->state[i] = PREP_KNOWN;
            continue;
        }
        if (fate == EAR_MENTION_UNANALYZED) {
            /* analyzed when stored, unless this poll already did it */
            pr->state[i] = PREP_UNANALYZED;
            continue;
        }
        pr->state[i] = PREP_FRESH;
        if (!src->analyze || !w->an)
            continue; /* collect only (or analyzed when stored) */
        if (ear_analyzer_mention(w->an, m, src->brand, &pr->v[i], &err)
            == 0)
            pr->state[i] = PREP_READY;
        else
            ear_verdict_dispose(&pr->v[i]);
    }
}

/* Stores, analyzes and queues one source's items, inside the caller's
 * transaction. */
static int take_items(struct ear_poller *r, struct ear_fetch_result *res,
                      struct source_report *rep, struct ear_error *err)
{
    const struct ear_source_cfg *src = res->src;
    struct ear_queue_batch *queue = NULL;
    struct prepared *pr = res->user;
    size_t i;
    int rc;

    rc = 0;
    for (i = 0; i < res->items.n; i++) {
        struct ear_mention *m = &res->items.v[i];
        int prep = pr && i < pr->n ? pr->state[i] : PREP_NONE;
        enum ear_mention_fate fate;
        struct ear_verdict v;

        rep->items++;
        if (ear_str_set(&m->source, src->name) < 0) {
            rc = EAR_ENOMEM;
            break;
        }
        if (src->lang && !m->lang[0])
            snprintf(m->lang, sizeof m->lang, "%s", src->lang);
        m->first_seen = r->now;
        if (prep == PREP_KNOWN) {
            /* a worker's read connection saw it stored: it still is, and
             * this thread has nothing to add (the lookup is not made
             * twice) */
            m->id = pr->id[i];
            continue;
        }
        /* not stored when a worker looked: most likely new, but this
         * poll (an earlier source of the batch, or the same item twice
         * in one page) or another process may have stored it since;
         * ear_store_mention_add checks both (source, key) and the url */
        rc = ear_store_mention_add(r->st, m,
                                   prep == PREP_FRESH || prep == PREP_READY,
                                   &fate, err);
        if (rc < 0)
            break;
        if (fate == EAR_MENTION_KNOWN)
            continue;
        if (fate == EAR_MENTION_NEW)
            rep->fresh++;
        /* new, or stored before by a collect-only source and never
         * analyzed: analyzed now, unless this source is collect-only
         * too (stored and counted, no verdict) */
        if (!src->analyze)
            continue;
        if (prep == PREP_READY) {
            v = pr->v[i]; /* made on a worker, as the next line would */
            pr->state[i] = PREP_NONE;
            rc = 0;
        } else {
            rc = ear_analyzer_mention(r->an, m, src->brand, &v, err);
        }
        if (rc == 0 && !m->lang[0] && v.lang[0]) {
            snprintf(m->lang, sizeof m->lang, "%s", v.lang);
            rc = ear_store_mention_set_lang(r->st, m->id, m->lang, err);
        }
        if (rc == 0)
            rc = ear_store_verdict_put(r->st, m->id, &v, err);
        /* Queue what is flagged and about a watched brand; with no brands
         * configured there is nothing to filter on, so queue every flag. */
        if (rc == 0 && v.flag) {
            rep->flagged++;
            if (v.brand || r->cfg->nbrands == 0) {
                int queued = 0;

                /* the source's flagged mentions are queued in its
                 * transaction, by one batch made at the first of them */
                if (!queue)
                    rc = ear_queue_batch_new(&queue, r->st, r->cfg, err);
                if (rc == 0)
                    rc = ear_queue_batch_add(queue, m, &v, r->now, NULL,
                                             &queued, err);
                if (rc == 0 && queued)
                    rep->queued++;
            }
        }
        ear_verdict_dispose(&v);
        if (rc < 0)
            break;
    }
    ear_queue_batch_free(queue);
    return rc < 0 ? rc : 0;
}

/* Was the source's previous answer a 403 too? */
static int was_forbidden(const struct ear_source_state *state)
{
    return state->last_status
           && (strcmp(state->last_status, "throttled") == 0
               || (state->last_error
                   && strncmp(state->last_error, "HTTP 403", 8) == 0));
}

static void save_failure(struct ear_poller *r, struct ear_source_state *state,
                         const struct ear_fetch_result *res,
                         struct source_report *rep, int throttled)
{
    struct ear_error err;
    int64_t wait;

    state->failures++;
    wait = backoff(res->src, state->failures);
    if (res->retry_after > 0)
        wait = res->retry_after < RETRY_AFTER_CAP ? res->retry_after
                                                   : RETRY_AFTER_CAP;
    state->next_due = r->now + wait;
    state->last_poll = r->now;
    ear_str_set(&state->last_status, throttled ? "throttled" : "failed");
    ear_str_set(&state->last_error, rep->error);
    rep->next_due = state->next_due;
    ear_error_clear(&err);
    if (ear_store_begin(r->st, &err) < 0 ||
        ear_store_source_put(r->st, state, &err) < 0 ||
        ear_store_event(r->st, 0, 0, "earshot",
                        throttled ? "source-throttled" : "source-failed",
                        NULL, NULL, rep->error, &err) < 0 ||
        ear_store_commit(r->st, &err) < 0) {
        char buf[1024];
        ear_store_rollback(r->st);
        ear_cli_err(r->cli, "%s", ear_error_format(&err, buf, sizeof buf));
        r->fatal = 1;
    }
}

/* The store failed while taking a source's result: the source is failed,
 * the error goes where errors go, and the run stops. */
static void store_failed(struct ear_poller *r, struct source_report *rep,
                         const char *name, const struct ear_error *err)
{
    char buf[1024];

    rep->status = "failed";
    snprintf(rep->error, sizeof rep->error, "%s",
             ear_error_format(err, buf, sizeof buf));
    ear_cli_err(r->cli, "%s: %s", name, rep->error);
    r->fatal = 1;
}

static void on_result(struct ear_fetch_result *res, void *payload)
{
    struct ear_poller *r = payload;
    struct source_report *rep = report_for(r, res->src);
    struct host_count *host = host_for(r, res->src->url);
    struct ear_source_state state;
    struct ear_error err;
    char buf[1024];
    int rc;

    if (!rep)
        return;
    rep->http_status = res->http_status;
    rep->seconds = res->seconds;
    ear_error_clear(&err);
    rc = batch_open(r, &err);
    if (rc < 0) {
        store_failed(r, rep, res->src->name, &err);
        return;
    }
    rc = ear_store_source_get(r->st, res->src->name, &state, &err);
    if (rc < 0 && rc != EAR_ENOTFOUND) {
        store_failed(r, rep, res->src->name, &err);
        return;
    }
    if (res->rc < 0) {
        int throttled = res->http_status == 429;

        if (res->http_status == 403) {
            /* a second 403 from the host, in this run or the last poll
             * of this source: the host is blocking us for now */
            if (host && host->forbidden)
                throttled = 1;
            if (was_forbidden(&state))
                throttled = 1;
            if (host)
                host->forbidden++;
        }
        rep->status = throttled ? "throttled" : "failed";
        snprintf(rep->error, sizeof rep->error, "%s%s", res->err.text[0]
                     ? res->err.text : ear_strerror(res->rc),
                 throttled && res->http_status == 403
                     ? " (repeated: treated as throttling)" : "");
        save_failure(r, &state, res, rep, throttled);
        ear_source_state_dispose(&state);
        batch_add(r, rep, 0);
        return;
    }
    if (host)
        host->forbidden = 0;
    rep->error[0] = '\0';
    rc = ear_store_begin(r->st, &err);
    if (rc == 0 && !res->not_modified)
        rc = take_items(r, res, rep, &err);
    if (rc == 0) {
        int64_t interval = next_interval(res->src, &state, rep->fresh,
                                         res->items.n);

        if (!res->not_modified) {
            /* Validators only change with a new body. */
            ear_str_set(&state.etag, res->etag);
            ear_str_set(&state.last_modified, res->last_modified);
        }
        state.last_poll = r->now;
        state.last_success = r->now;
        state.failures = 0;
        state.items_total += (int64_t)rep->fresh;
        if (rep->fresh)
            state.last_new = r->now;
        if (!res->not_modified && res->feed.rating > 0) {
            /* the review page's own AggregateRating, as read now */
            state.rating = res->feed.rating;
            state.rating_count = res->feed.rating_count;
            state.rating_at = r->now;
        }
        state.next_due = r->now + jittered(res->src, interval, r->now);
        rep->next_due = state.next_due;
        ear_str_set(&state.last_status,
                    res->not_modified ? "not-modified" : "ok");
        ear_str_set(&state.last_error, NULL);
        rc = ear_store_source_put(r->st, &state, &err);
    }
    if (rc == 0)
        rc = ear_store_commit(r->st, &err);
    if (rc < 0) {
        ear_store_rollback(r->st);
        rep->status = "failed";
        rep->fresh = rep->flagged = rep->queued = 0;
        snprintf(rep->error, sizeof rep->error, "%s",
                 ear_error_format(&err, buf, sizeof buf));
        if (rc == EAR_EDB || rc == EAR_EBUSY || rc == EAR_ENOMEM) {
            /* The store itself failed: say so where errors go, not only
             * in the summary. Nothing of this source was written. */
            ear_cli_err(r->cli, "%s: %s", res->src->name, rep->error);
            r->fatal = 1;
        } else
            save_failure(r, &state, res, rep, 0);
    } else {
        rep->status = res->not_modified ? "not-modified" : "ok";
        rep->error[0] = '\0';
    }
    ear_source_state_dispose(&state);
    batch_add(r, rep, rep->fresh);
}

static int user_agent(char *buf, size_t size, const struct ear_config *cfg)
{
    return snprintf(buf, size, "earshot/%s (+%s)", EAR_VERSION,
                    cfg->contact ? cfg->contact
                                 : "https://github.com/earshot/earshot");
}

static void fetch_opts(struct ear_poller *p)
{
    struct ear_fetch_opts d = EAR_FETCH_OPTS_INIT;
    const struct ear_config *cfg = p->cfg;

    p->fopts = d;
    user_agent(p->ua, sizeof p->ua, cfg);
    p->fopts.user_agent = p->ua;
    if (cfg->fetch_max_conns)
        p->fopts.max_total_conns = cfg->fetch_max_conns;
    if (cfg->fetch_max_host)
        p->fopts.max_host_conns = cfg->fetch_max_host;
    if (cfg->fetch_timeout)
        p->fopts.timeout_s = cfg->fetch_timeout;
    if (cfg->fetch_connect_timeout)
        p->fopts.connect_timeout_s = cfg->fetch_connect_timeout;
    if (cfg->fetch_max_body)
        p->fopts.max_body = (size_t)cfg->fetch_max_body;
}

void ear_poller_free(struct ear_poller *p)
{
    size_t i;

    if (!p)
        return;
    ear_fetcher_free(p->fetcher);
    work_free(p);
    free(p->batch_reps);
    for (i = 0; i < p->nhosts; i++)
        free(p->hosts[i].host);
    free(p->hosts);
    free(p->reports);
    free(p);
}

int ear_poller_reconfigure(struct ear_poller *p, struct ear_analyzer *an)
{
    struct ear_fetch_opts old = p->fopts;
    char old_ua[sizeof p->ua];
    struct source_report *reports, **batch_reps;
    struct ear_error err;

    memcpy(old_ua, p->ua, sizeof old_ua);
    p->cfg = p->cli->cfg;
    p->an = an;
    reports = calloc(p->cfg->nsources ? p->cfg->nsources : 1,
                     sizeof *reports);
    batch_reps = calloc(p->cfg->nsources ? p->cfg->nsources : 1,
                        sizeof *batch_reps);
    if (!reports || !batch_reps) {
        free(reports);
        free(batch_reps);
        ear_cli_err(p->cli, "out of memory");
        return -1;
    }
    free(p->reports);
    p->reports = reports;
    free(p->batch_reps);
    p->batch_reps = batch_reps;
    work_free(p); /* new packs or brands: made again at the next poll */
    p->nreports = 0;
    fetch_opts(p);
    if (p->fetcher && old.max_total_conns == p->fopts.max_total_conns
        && old.max_host_conns == p->fopts.max_host_conns
        && old.timeout_s == p->fopts.timeout_s
        && old.connect_timeout_s == p->fopts.connect_timeout_s
        && old.max_body == p->fopts.max_body
        && strcmp(old_ua, p->ua) == 0)
        return 0; /* keep the fetcher and its open connections */
    ear_fetcher_free(p->fetcher);
    p->fetcher = NULL;
    ear_error_clear(&err);
    if (ear_fetcher_new(&p->fetcher, &p->fopts, &err) < 0) {
        ear_cli_error(p->cli, &err);
        return -1;
    }
    return 0;
}

struct ear_poller *ear_poller_new(struct ear_cli *cli,
                                  struct ear_analyzer *an)
{
    struct ear_poller *p;

    if (!cli->cfg || !cli->store)
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p) {
        ear_cli_err(cli, "out of memory");
        return NULL;
    }
    p->cli = cli;
    p->st = cli->store;
    if (ear_poller_reconfigure(p, an) < 0) {
        ear_poller_free(p);
        return NULL;
    }
    return p;
}

int ear_poller_poll(struct ear_poller *p, int force,
                    const char *const *only, struct ear_poll_totals *t,
                    int64_t *next_due)
{
    struct ear_error err;
    struct checkpointer ckpt;
    size_t i, j, nqueued = 0;
    int64_t soonest = 0;
    int analyze = 0;

    p->now = ear_now();
    p->nreports = 0;
    p->fatal = 0;
    memset(t, 0, sizeof *t);
    for (i = 0; i < p->cfg->nsources; i++) {
        const struct ear_source_cfg *src = &p->cfg->sources[i];
        struct source_report *rep;
        struct ear_source_state state;
        int selected = !only || !only[0];
        int rc;

        for (j = 0; only && only[j]; j++)
            selected |= strcmp(only[j], src->name) == 0;
        if (!selected)
            continue;
        rep = &p->reports[p->nreports++];
        memset(rep, 0, sizeof *rep);
        rep->src = src;
        if (!src->enabled) {
            rep->status = "disabled";
            continue;
        }
        ear_error_clear(&err);
        rc = ear_store_source_get(p->st, src->name, &state, &err);
        if (rc < 0 && rc != EAR_ENOTFOUND) {
            ear_cli_error(p->cli, &err);
            return -1;
        }
        if (!force && state.next_due > p->now) {
            rep->status = "not-due";
            rep->next_due = state.next_due;
        } else {
            rep->status = "failed";
            snprintf(rep->error, sizeof rep->error, "not polled");
            if (ear_fetcher_add(p->fetcher, src, &state, &err) < 0) {
                ear_source_state_dispose(&state);
                ear_cli_error(p->cli, &err);
                return -1;
            }
            nqueued++;
            analyze |= src->analyze;
        }
        ear_source_state_dispose(&state);
    }
    work_setup(p, nqueued, analyze);
    ear_fetcher_set_idle(p->fetcher, on_idle, p);
    ear_fetcher_set_prepare(p->fetcher, p->nwork ? on_prepare : NULL, p);
    memset(&ckpt, 0, sizeof ckpt);
    if (nqueued > 1)
        checkpoint_start(&ckpt, p->st);
    if (ear_fetcher_perform(p->fetcher, on_result, p) < 0)
        ear_cli_err(p->cli, "polling stopped early; unreported sources are "
                            "counted as failed");
    batch_close(p);
    checkpoint_stop(&ckpt, p->st);
    { /* incidents and alert delivery (output); never change the status */
        struct ear_output_stats os;

        ear_error_clear(&err);
        if (ear_output_after_run(p->st, p->cfg, p->now, ear_cli_write_stdout,
                                 NULL, &os, &err) < 0)
            ear_cli_error(p->cli, &err);
        for (j = 0; j < os.delivery.nproblems; j++)
            ear_cli_err(p->cli, "warning: %s", os.delivery.problems[j]);
        if (os.incidents.opened)
            ear_cli_info(p->cli, "%zu new incident(s): earshot incidents",
                         os.incidents.opened);
    }
    for (i = 0; i < p->nreports; i++) {
        const struct source_report *rep = &p->reports[i];

        if (strcmp(rep->status, "disabled") == 0)
            continue;
        if (strcmp(rep->status, "not-due") != 0)
            t->polled++;
        t->fresh += rep->fresh;
        t->flagged += rep->flagged;
        t->queued += rep->queued;
        t->failed += strcmp(rep->status, "failed") == 0;
        t->throttled += strcmp(rep->status, "throttled") == 0;
        if (rep->next_due && (!soonest || rep->next_due < soonest))
            soonest = rep->next_due;
    }
    if (next_due)
        *next_due = soonest;
    return p->fatal ? -1 : 0;
}

void ear_poller_print(struct ear_poller *r, int json)
{
    size_t i, fresh = 0, flagged = 0, queued = 0, failed = 0;
    int bold = r->cli->color;
    char when[40];

    if (json) {
        json_t *root = json_object(), *arr = json_array();

        for (i = 0; i < r->nreports; i++) {
            const struct source_report *rep = &r->reports[i];
            json_t *o = json_object();

            json_object_set_new(o, "name", json_string(rep->src->name));
            json_object_set_new(o, "status", json_string(rep->status));
            json_object_set_new(o, "items",
                                json_integer((json_int_t)rep->items));
            json_object_set_new(o, "new",
                                json_integer((json_int_t)rep->fresh));
            json_object_set_new(o, "flagged",
                                json_integer((json_int_t)rep->flagged));
            json_object_set_new(o, "queued",
                                json_integer((json_int_t)rep->queued));
            json_object_set_new(o, "http_status",
                                rep->http_status
                                    ? json_integer(rep->http_status)
                                    : json_null());
            json_object_set_new(o, "seconds", json_real(rep->seconds));
            json_object_set_new(o, "next_due",
                                rep->next_due
                                    ? json_string(ear_time_fmt(
                                          rep->next_due, when, sizeof when))
                                    : json_null());
            json_object_set_new(o, "error", rep->error[0]
                                                ? json_string(rep->error)
                                                : json_null());
            json_array_append_new(arr, o);
            fresh += rep->fresh;
            flagged += rep->flagged;
            queued += rep->queued;
            failed += strcmp(rep->status, "failed") == 0
                      || strcmp(rep->status, "throttled") == 0;
        }
        json_object_set_new(root, "sources", arr);
        json_object_set_new(root, "totals",
                            json_pack("{s:I, s:I, s:I, s:I}", "new",
                                      (json_int_t)fresh, "flagged",
                                      (json_int_t)flagged, "queued",
                                      (json_int_t)queued, "failed",
                                      (json_int_t)failed));
        ear_cli_print_json(root);
        return;
    }
    printf("%s%-24s %-13s %5s %8s %7s  %s%s\n", bold ? "\033[1m" : "",
           "SOURCE", "STATUS", "NEW", "FLAGGED", "QUEUED", "NOTE",
           bold ? "\033[0m" : "");
    for (i = 0; i < r->nreports; i++) {
        const struct source_report *rep = &r->reports[i];
        const char *colour = "";
        char note[700] = "";

        if (strcmp(rep->status, "failed") == 0
            || strcmp(rep->status, "throttled") == 0) {
            failed++;
            colour = strcmp(rep->status, "failed") == 0 ? "\033[31m"
                                                         : "\033[33m";
            snprintf(note, sizeof note, "%s", rep->error);
        } else if (strcmp(rep->status, "not-due") == 0) {
            snprintf(note, sizeof note, "next poll %s",
                     ear_time_fmt(rep->next_due, when, sizeof when));
        } else if (strcmp(rep->status, "not-modified") == 0) {
            snprintf(note, sizeof note, "unchanged since last poll");
        } else if (strcmp(rep->status, "ok") == 0) {
            snprintf(note, sizeof note, "%zu items read", rep->items);
        }
        fresh += rep->fresh;
        flagged += rep->flagged;
        queued += rep->queued;
        printf("%-24s %s%-13s%s %5zu %8zu %7zu  %s\n", rep->src->name,
               r->cli->color ? colour : "", rep->status,
               r->cli->color && *colour ? "\033[0m" : "", rep->fresh,
               rep->flagged, rep->queued, note);
    }
    printf("%-24s %-13s %5zu %8zu %7zu  %zu of %zu sources failed\n", "total",
           "", fresh, flagged, queued, failed, r->nreports);
}

/* ------------------------------------------------------------ run */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: earshot run [--force] [--source NAME]... [--json]\n\n"
            "Polls every due source once, stores new mentions, analyzes "
            "them, queues the\nflagged ones and prints a summary per "
            "source.\n\n"
            "  -f, --force        poll every source, due or not\n"
            "  -s, --source NAME  poll only this source (repeatable; "
            "implies --force)\n"
            "      --json         print the summary as JSON\n\n"
            "Exit status: 0 every source succeeded, 3 some failed or were "
            "throttled (the\nothers are processed and stored), 1 the store "
            "failed, 2 usage error.\n");
}

int ear_cmd_run(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"source", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ear_poller *poller = NULL;
    struct ear_analyzer *an = NULL;
    struct ear_config *cfg;
    struct ear_poll_totals totals;
    const char **only = NULL;
    size_t nonly = 0, i;
    int c, force = 0, json = 0, rc = EAR_EXIT_OK;

    only = calloc((size_t)argc + 1, sizeof *only);
    if (!only)
        return EAR_EXIT_FAIL;
    while ((c = getopt_long(argc, argv, "fs:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': force = 1; break;
        case 's': only[nonly++] = optarg; force = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); free(only); return EAR_EXIT_OK;
        default: free(only); return ear_cli_usage(cli, "run", "bad option");
        }
    }
    if (optind < argc) {
        free(only);
        return ear_cli_usage(cli, "run", "unexpected argument '%s'",
                             argv[optind]);
    }
    cfg = ear_cli_config(cli, 1);
    if (!cfg) {
        free(only);
        return EAR_EXIT_FAIL;
    }
    for (i = 0; i < nonly; i++)
        if (!ear_config_source(cfg, only[i])) {
            const char *name = only[i]; /* points into argv */
            free(only);
            return ear_cli_usage(cli, "run", "no source named '%s' in %s",
                                 name, cfg->path);
        }
    /* Everything that can fail on bad input is checked before the store
     * is touched: a bad mapping or rule pack changes nothing. */
    if (ear_cli_check_sources(cli, cfg) < 0) {
        free(only);
        return EAR_EXIT_FAIL;
    }
    an = ear_cli_analyzer(cli);
    if (!an) {
        free(only);
        return EAR_EXIT_FAIL;
    }
    if (!ear_cli_store(cli)) {
        rc = EAR_EXIT_FAIL;
        goto out;
    }
    poller = ear_poller_new(cli, an);
    if (!poller) {
        rc = EAR_EXIT_FAIL;
        goto out;
    }
    if (ear_poller_poll(poller, force, only, &totals, NULL) < 0)
        rc = EAR_EXIT_FAIL;
    ear_poller_print(poller, json);
    if (rc == EAR_EXIT_OK && (totals.failed || totals.throttled))
        rc = EAR_EXIT_PARTIAL;
out:
    ear_poller_free(poller);
    ear_analyzer_free(an);
    free(only);
    return rc;
}
