/*
 * /metrics in the Prometheus text format (version 0.0.4). Every metric is
 * named earshot_...: what the store knows (mentions fetched, analyzed and
 * flagged, the queue by state, overdue items, open incidents, each
 * source's polling state, how long after publication mentions were fetched
 * and how long after fetching they were analyzed) and the server's own
 * request counts and latencies, kept here per route.
 */
#include <string.h>

#include <sqlite3.h>

#include "output/web/web_int.h"

const double ear_web__buckets[WEB_NBUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};

static const char *const route_names[WEB_R_COUNT] = {
    "page", "asset", "healthz", "metrics", "login", "logout", "me", "users",
    "queue", "item", "action", "incidents", "kpis", "rules", "other"};

void ear_web__count(struct ear_web *w, enum web_route r, unsigned status,
                    double seconds)
{
    struct web_route_stats *s;
    unsigned cls = status / 100;

    if ((int)r < 0 || r >= WEB_R_COUNT)
        r = WEB_R_OTHER;
    s = &w->stats[r];
    pthread_mutex_lock(&w->stats_lock);
    s->by_class[cls <= 5 ? cls : 0]++;
    for (size_t i = 0; i < WEB_NBUCKETS; i++)
        if (seconds <= ear_web__buckets[i])
            s->buckets[i]++;
    s->count++;
    s->sum += seconds;
    pthread_mutex_unlock(&w->stats_lock);
}

/* A label value: backslash, quote and line feed escaped. */
static int label(struct ear_buf *b, const char *s)
{
    int rc = 0;

    for (; s && *s && rc == 0; s++) {
        if (*s == '\\')
            rc = ear_buf_adds(b, "\\\\");
        else if (*s == '"')
            rc = ear_buf_adds(b, "\\\"");
        else if (*s == '\n')
            rc = ear_buf_adds(b, "\\n");
        else
            rc = ear_buf_addc(b, *s);
    }
    return rc;
}

static int head(struct ear_buf *b, const char *name, const char *type,
                const char *help)
{
    return ear_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type);
}

/* One number from sql (NULL counts as 0). */
static int scalar(struct ear_store *st, const char *sql, double *out,
                  struct ear_error *err)
{
    struct sqlite3_stmt *s;
    int rc = ear_store_stmt(st, &s, sql, err);

    *out = 0;
    if (rc < 0)
        return rc;
    if (sqlite3_step(s) == SQLITE_ROW)
        *out = sqlite3_column_double(s, 0);
    else
        rc = ear_store_error(st, err, "metrics");
    sqlite3_reset(s);
    return rc;
}

static int store_metrics(struct ear_buf *b, struct ear_store *st,
                         struct ear_error *err)
{
    static const char q_mentions[] = "SELECT count(*) FROM mentions";
    static const char q_analyzed[] = "SELECT count(*) FROM verdicts";
    static const char q_flagged[] =
        "SELECT count(*) FROM verdicts WHERE flag = 1";
    static const char q_states[] =
        "SELECT state, count(*) FROM queue GROUP BY state";
    static const char q_overdue[] =
        "SELECT count(*) FROM queue WHERE state IN ('new','assigned')"
        " AND first_response IS NULL AND due IS NOT NULL AND due < ?1";
    static const char q_incidents[] =
        "SELECT count(*) FROM incidents WHERE state = 'open'";
    static const char q_fetch[] =
        "SELECT count(*), total(first_seen - published) FROM mentions"
        " WHERE published > 0 AND published <= first_seen";
    static const char q_analyze[] =
        "SELECT count(*), total(v.analyzed_at - m.first_seen) FROM verdicts v"
        " JOIN mentions m ON m.id = v.mention_id"
        " WHERE v.analyzed_at >= m.first_seen";
    static const char q_sources[] =
        "SELECT name, failures, items_total, last_poll, last_success,"
        " coalesce(last_status, '') FROM sources ORDER BY name";
    static const char *const states[] = {"new", "assigned", "responded",
                                         "resolved", "dismissed", NULL};
    struct sqlite3_stmt *s;
    int64_t counts[5] = {0, 0, 0, 0, 0};
    double v, n;
    int rc;

    if ((rc = scalar(st, q_mentions, &v, err)) < 0 ||
        (rc = head(b, "earshot_mentions_fetched_total", "counter",
                   "Mentions fetched and stored (each once).")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_mentions_fetched_total %.0f\n", v)) < 0)
        return rc;
    if ((rc = scalar(st, q_analyzed, &v, err)) < 0 ||
        (rc = head(b, "earshot_mentions_analyzed_total", "counter",
                   "Mentions analyzed.")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_mentions_analyzed_total %.0f\n",
                           v)) < 0)
        return rc;
    if ((rc = scalar(st, q_flagged, &v, err)) < 0 ||
        (rc = head(b, "earshot_mentions_flagged_total", "counter",
                   "Mentions the analyzer flagged as negative.")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_mentions_flagged_total %.0f\n",
                           v)) < 0)
        return rc;

    rc = ear_store_stmt(st, &s, q_states, err);
    if (rc < 0)
        return rc;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);

        for (size_t i = 0; state && states[i]; i++)
            if (strcmp(states[i], state) == 0)
                counts[i] = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    rc = head(b, "earshot_queue_items", "gauge",
              "Queue items by state.");
    for (size_t i = 0; rc == 0 && states[i]; i++)
        rc = ear_buf_addf(b, "earshot_queue_items{state=\"%s\"} %lld\n",
                          states[i], (long long)counts[i]);
    if (rc < 0)
        return rc;

    rc = ear_store_stmt(st, &s, q_overdue, err);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)ear_now());
    v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    sqlite3_reset(s);
    if ((rc = head(b, "earshot_queue_overdue", "gauge",
                   "Open items past their first-response deadline.")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_queue_overdue %.0f\n", v)) < 0)
        return rc;
    if ((rc = scalar(st, q_incidents, &v, err)) < 0 ||
        (rc = head(b, "earshot_incidents_open", "gauge",
                   "Complaint surges open now.")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_incidents_open %.0f\n", v)) < 0)
        return rc;

    rc = ear_store_stmt(st, &s, q_fetch, err);
    if (rc < 0)
        return rc;
    n = v = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_double(s, 0);
        v = sqlite3_column_double(s, 1);
    }
    sqlite3_reset(s);
    if ((rc = head(b, "earshot_fetch_delay_seconds", "summary",
                   "From a mention's publication to earshot fetching "
                   "it.")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_fetch_delay_seconds_sum %.0f\n"
                           "earshot_fetch_delay_seconds_count %.0f\n", v,
                           n)) < 0)
        return rc;
    rc = ear_store_stmt(st, &s, q_analyze, err);
    if (rc < 0)
        return rc;
    n = v = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_double(s, 0);
        v = sqlite3_column_double(s, 1);
    }
    sqlite3_reset(s);
    if ((rc = head(b, "earshot_analyze_delay_seconds", "summary",
                   "From fetching a mention to its verdict.")) < 0 ||
        (rc = ear_buf_addf(b, "earshot_analyze_delay_seconds_sum %.0f\n"
                           "earshot_analyze_delay_seconds_count %.0f\n", v,
                           n)) < 0)
        return rc;

    rc = ear_store_stmt(st, &s, q_sources, err);
    if (rc < 0)
        return rc;
    {
        struct ear_buf fail, items, poll, ok, up;
        const size_t max = (size_t)4 << 20;

        ear_buf_init(&fail, max);
        ear_buf_init(&items, max);
        ear_buf_init(&poll, max);
        ear_buf_init(&ok, max);
        ear_buf_init(&up, max);
        while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(s, 0);
            const char *status = (const char *)sqlite3_column_text(s, 5);
            struct ear_buf *all[] = {&fail, &items, &poll, &ok, &up};
            static const char *const names[] = {
                "earshot_source_failures", "earshot_source_items_total",
                "earshot_source_last_poll_timestamp_seconds",
                "earshot_source_last_success_timestamp_seconds",
                "earshot_source_up"};
            long long vals[5];

            vals[0] = sqlite3_column_int64(s, 1);
            vals[1] = sqlite3_column_int64(s, 2);
            vals[2] = sqlite3_column_int64(s, 3);
            vals[3] = sqlite3_column_int64(s, 4);
            vals[4] = status && strcmp(status, "failed") == 0 ? 0 : 1;
            for (size_t i = 0; rc == 0 && i < 5; i++) {
                rc = ear_buf_addf(all[i], "%s{source=\"", names[i]);
                if (rc == 0)
                    rc = label(all[i], name);
                if (rc == 0)
                    rc = ear_buf_addf(all[i], "\"} %lld\n", vals[i]);
            }
        }
        sqlite3_reset(s);
        if (rc == 0 &&
            (rc = head(b, "earshot_source_failures", "gauge",
                       "Consecutive failed polls of a source.")) == 0 &&
            (rc = ear_buf_adds(b, ear_buf_str(&fail))) == 0 &&
            (rc = head(b, "earshot_source_items_total", "counter",
                       "Mentions stored from a source.")) == 0 &&
            (rc = ear_buf_adds(b, ear_buf_str(&items))) == 0 &&
            (rc = head(b, "earshot_source_last_poll_timestamp_seconds",
                       "gauge", "When a source was last polled.")) == 0 &&
            (rc = ear_buf_adds(b, ear_buf_str(&poll))) == 0 &&
            (rc = head(b, "earshot_source_last_success_timestamp_seconds",
                       "gauge",
                       "When a source was last polled successfully.")) ==
                0 &&
            (rc = ear_buf_adds(b, ear_buf_str(&ok))) == 0 &&
            (rc = head(b, "earshot_source_up", "gauge",
                       "1 when a source's last poll did not fail.")) == 0)
            rc = ear_buf_adds(b, ear_buf_str(&up));
        ear_buf_dispose(&fail);
        ear_buf_dispose(&items);
        ear_buf_dispose(&poll);
        ear_buf_dispose(&ok);
        ear_buf_dispose(&up);
    }
    return rc;
}

static int server_metrics(struct ear_buf *b, struct ear_web *w)
{
    struct web_route_stats st[WEB_R_COUNT];
    size_t sessions = 0;
    int64_t now = ear_now();
    int rc;

    pthread_mutex_lock(&w->stats_lock);
    memcpy(st, w->stats, sizeof st);
    pthread_mutex_unlock(&w->stats_lock);
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < EAR_WEB_MAX_SESSIONS; i++)
        if (w->sessions[i].token[0] &&
            now - w->sessions[i].last_seen <= w->settings->session_idle)
            sessions++;
    pthread_mutex_unlock(&w->lock);

    rc = head(b, "earshot_http_requests_total", "counter",
              "HTTP requests answered, by route and status class.");
    for (size_t r = 0; rc == 0 && r < WEB_R_COUNT; r++)
        for (unsigned c = 1; rc == 0 && c <= 5; c++)
            if (st[r].by_class[c])
                rc = ear_buf_addf(b, "earshot_http_requests_total{route=\"%s\","
                                  "code=\"%uxx\"} %llu\n", route_names[r], c,
                                  (unsigned long long)st[r].by_class[c]);
    if (rc == 0)
        rc = head(b, "earshot_http_request_duration_seconds", "histogram",
                  "Time to answer an HTTP request, by route.");
    for (size_t r = 0; rc == 0 && r < WEB_R_COUNT; r++) {
        if (!st[r].count)
            continue;
        for (size_t i = 0; rc == 0 && i < WEB_NBUCKETS; i++)
            rc = ear_buf_addf(b, "earshot_http_request_duration_seconds_bucket"
                              "{route=\"%s\",le=\"%g\"} %llu\n",
                              route_names[r], ear_web__buckets[i],
                              (unsigned long long)st[r].buckets[i]);
        if (rc == 0)
            rc = ear_buf_addf(b, "earshot_http_request_duration_seconds_bucket"
                              "{route=\"%s\",le=\"+Inf\"} %llu\n"
                              "earshot_http_request_duration_seconds_sum"
                              "{route=\"%s\"} %.6f\n"
                              "earshot_http_request_duration_seconds_count"
                              "{route=\"%s\"} %llu\n", route_names[r],
                              (unsigned long long)st[r].count, route_names[r],
                              st[r].sum, route_names[r],
                              (unsigned long long)st[r].count);
    }
    if (rc == 0)
        rc = head(b, "earshot_web_sessions", "gauge",
                  "Web sessions active within their idle timeout.");
    if (rc == 0)
        rc = ear_buf_addf(b, "earshot_web_sessions %zu\n", sessions);
    if (rc == 0)
        rc = head(b, "earshot_web_start_time_seconds", "gauge",
                  "When this server started.");
    if (rc == 0)
        rc = ear_buf_addf(b, "earshot_web_start_time_seconds %lld\n",
                          (long long)w->started);
    return rc;
}

enum MHD_Result ear_web__metrics(struct web_req *req)
{
    struct ear_error err;
    struct web_thread *th;
    struct ear_buf b;
    enum MHD_Result ret;
    int rc;

    ear_error_clear(&err);
    th = ear_web__thread(req->w, &err);
    if (!th)
        return ear_web__fail(req, err.code ? err.code : EAR_EDB, NULL);
    ear_buf_init(&b, (size_t)16 << 20);
    rc = store_metrics(&b, th->st, &err);
    if (rc == 0)
        rc = server_metrics(&b, req->w);
    if (rc < 0) {
        ear_buf_dispose(&b);
        return ear_web__fail(req, rc, &err);
    }
    ret = ear_web__respond(req, 200, "text/plain; version=0.0.4; "
                           "charset=utf-8", b.ptr ? b.ptr : "", b.len, 1,
                           NULL);
    ear_buf_dispose(&b);
    return ret;
}
