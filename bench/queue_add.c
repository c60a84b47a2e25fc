/*
 * Queueing a run's new flagged mentions, including their outbox rows:
 * stores N new mentions with their verdicts (not timed), then times
 * queueing each of them as run does (ear_queue_batch_add() in one
 * transaction per source), 1,000 per transaction (EAR_BENCH_BATCH=N for
 * N), with two sinks configured so every item also writes two outbox
 * rows; then times ear_incidents_update() over them.
 *
 *   queue_add STORE CONFIG N TAG
 *
 * Prints "queue_add N wall-seconds cpu-seconds pages-written pages-read"
 * (SQLite's count of the pages the queueing wrote to the WAL and read
 * from the file: unlike the times, they do not depend on the machine's
 * load), "checkpoint 0 wall-seconds cpu-seconds" (the WAL written back
 * to the database file after the queueing) and "incidents OPENED
 * wall-seconds cpu-seconds". bench/queue.sh
 * builds and runs it; TAG keeps the keys of each run apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sqlite3.h>

#include "output/output.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const struct ear_error *err)
{
    char buf[1024];

    fprintf(stderr, "queue_add: %s: %s\n", what,
            ear_error_format(err, buf, sizeof buf));
    exit(1);
}

int main(int argc, char **argv)
{
    static const char *const cats[] = {"billing", "delivery", "support",
                                       "defect", "refund", "legal"};
    struct ear_store *st = NULL;
    struct ear_config *cfg = NULL;
    struct ear_queue_batch *qb = NULL;
    struct ear_error err;
    struct ear_mention *m;
    struct ear_verdict *v;
    struct ear_incident_stats is;
    int64_t now = 1795453200; /* 2026-11-23T17:00:00Z */
    long n;
    long batch = 1000;
    double t0, t1, c0, c1;
    int cur, hi, written, read;

    if (argc != 5) {
        fprintf(stderr, "usage: queue_add STORE CONFIG N TAG\n");
        return 2;
    }
    n = strtol(argv[3], NULL, 10);
    /* EAR_BENCH_BATCH: items per transaction (default 1,000) */
    if (getenv("EAR_BENCH_BATCH"))
        batch = strtol(getenv("EAR_BENCH_BATCH"), NULL, 10);
    if (batch < 1)
        batch = 1;
    memset(&err, 0, sizeof err);
    if (ear_store_open(&st, argv[1], &err) < 0)
        die("store", &err);
    if (ear_config_load(&cfg, argv[2], &err) < 0)
        die("config", &err);
    /* EAR_BENCH_PRAGMA="cache_size = -32768; wal_autocheckpoint = 10000":
     * settings core's store does not make (yet), to measure what they
     * would gain */
    if (getenv("EAR_BENCH_PRAGMA")) {
        const char *p = getenv("EAR_BENCH_PRAGMA");

        while (*p) {
            const char *end = strchr(p, ';');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char sql[256];

            snprintf(sql, sizeof sql, "PRAGMA %.*s", (int)len, p);
            if (len > 0 && sqlite3_exec(ear_store_db(st), sql, NULL, NULL,
                                        NULL) != SQLITE_OK) {
                fprintf(stderr, "queue_add: %s: %s\n", sql,
                        sqlite3_errmsg(ear_store_db(st)));
                return 1;
            }
            p += len + (end ? 1 : 0);
        }
    }
    m = calloc((size_t)n, sizeof *m);
    v = calloc((size_t)n, sizeof *v);
    if (!m || !v)
        return 1;
    /* the run's new mentions, stored and analysed (not timed) */
    if (ear_store_begin(st, &err) < 0)
        die("begin", &err);
    for (long i = 0; i < n; i++) {
        char buf[256];
        int is_new = 0;

        ear_mention_init(&m[i]);
        ear_verdict_init(&v[i]);
        snprintf(buf, sizeof buf, "bench-%s-%ld", argv[4], i);
        m[i].source = strdup("source-1");
        m[i].key = strdup(buf);
        snprintf(buf, sizeof buf, "https://new.example/%s/%ld", argv[4], i);
        m[i].url = strdup(buf);
        snprintf(buf, sizeof buf, "The invoice for order %ld was charged "
                 "twice and nobody answers. Refund now!", i);
        m[i].text = strdup(buf);
        m[i].rating = (double)(1 + i % 5);
        m[i].reach = i % 1000;
        m[i].published = now - 3600 + i % 3600;
        m[i].first_seen = now;
        snprintf(m[i].lang, sizeof m[i].lang, "en");
        if (ear_store_mention_put(st, &m[i], &is_new, &err) < 0)
            die("mention", &err);
        v[i].flag = 1;
        v[i].severity = (enum ear_severity)(1 + i % 4);
        v[i].score = 2.0;
        if (ear_verdict_add_category(&v[i], cats[i % 6]) < 0 ||
            ear_verdict_add_match(&v[i], "en.billing.double-charge",
                                  cats[i % 6], "text", m[i].text, 22, 42,
                                  1.0) < 0 ||
            ear_str_set(&v[i].brand, i % 2 ? "Acme" : "Brightcart") < 0)
            return 1;
        if (ear_store_verdict_put(st, m[i].id, &v[i], &err) < 0)
            die("verdict", &err);
    }
    if (ear_store_commit(st, &err) < 0)
        die("commit", &err);

    /* queueing, with the outbox rows, one transaction per 1,000 */
    sqlite3_db_status(ear_store_db(st), SQLITE_DBSTATUS_CACHE_WRITE, &cur,
                      &hi, 1);
    sqlite3_db_status(ear_store_db(st), SQLITE_DBSTATUS_CACHE_MISS, &cur,
                      &hi, 1);
    t0 = now_s();
    c0 = cpu_s();
    for (long i = 0; i < n; i++) {
        int is_new = 0;

        if (i % batch == 0 && (ear_store_begin(st, &err) < 0 ||
                               ear_queue_batch_new(&qb, st, cfg, &err) < 0))
            die("begin", &err);
        if (ear_queue_batch_add(qb, &m[i], &v[i], now, NULL, &is_new,
                                &err) < 0)
            die("queue", &err);
        if (i % batch == batch - 1 || i == n - 1) {
            ear_queue_batch_free(qb);
            qb = NULL;
            if (ear_store_commit(st, &err) < 0)
                die("commit", &err);
        }
    }
    t1 = now_s();
    c1 = cpu_s();
    sqlite3_db_status(ear_store_db(st), SQLITE_DBSTATUS_CACHE_WRITE,
                      &written, &hi, 0);
    sqlite3_db_status(ear_store_db(st), SQLITE_DBSTATUS_CACHE_MISS, &read,
                      &hi, 0);
    printf("queue_add %ld %.4f %.4f %d %d\n", n, t1 - t0, c1 - c0, written,
           read);

    /* what the WAL still holds goes to the database file some time: here,
     * timed apart (with wal_autocheckpoint = 0 in EAR_BENCH_PRAGMA, all of
     * the queueing's writes wait for this) */
    t0 = now_s();
    c0 = cpu_s();
    if (sqlite3_wal_checkpoint_v2(ear_store_db(st), NULL,
                                  SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "queue_add: checkpoint: %s\n",
                sqlite3_errmsg(ear_store_db(st)));
        return 1;
    }
    t1 = now_s();
    c1 = cpu_s();
    printf("checkpoint 0 %.4f %.4f\n", t1 - t0, c1 - c0);

    t0 = now_s();
    c0 = cpu_s();
    if (ear_incidents_update(st, cfg, now, &is, &err) < 0)
        die("incidents", &err);
    t1 = now_s();
    c1 = cpu_s();
    printf("incidents %zu %.4f %.4f\n", is.opened, t1 - t0, c1 - c0);

    for (long i = 0; i < n; i++) {
        ear_mention_dispose(&m[i]);
        ear_verdict_dispose(&v[i]);
    }
    free(m);
    free(v);
    ear_config_free(cfg);
    ear_store_close(st);
    return 0;
}
