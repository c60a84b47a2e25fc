/* GET /api/queue lists exactly what ear_queue_list() lists, in the same
 * order, page by page and filter by filter (query parameters mapped to
 * the filter), and its text search (its own query, api.c) keeps that
 * order, with the library's counts. The store has overdue and timely
 * items, every severity, rated and unrated, known and unknown reach, and
 * items in every state. */
#include <jansson.h>

#include "output/fixture.h"
#include "output/web/web.h"
#include "web/http.h"

#define N 240

static struct reply r;

/* The ids of an API answer's items. */
static size_t api_ids(int64_t *ids, size_t max, const char *base,
                      const char *query, const char *cookie)
{
    json_t *j, *items;
    size_t n = 0;

    http(&r, base, query, NULL, cookie, NULL);
    if (r.status != 200) {
        fprintf(stderr, "%s: HTTP %ld %s\n", query, r.status, r.body);
        return (size_t)-1;
    }
    j = json_loads(r.body, 0, NULL);
    items = json_object_get(j, "items");
    for (size_t i = 0; i < json_array_size(items) && n < max; i++)
        ids[n++] = json_integer_value(json_object_get(
            json_array_get(items, i), "id"));
    json_decref(j);
    return n;
}

static size_t lib_ids(int64_t *ids, size_t max, struct ear_store *st,
                      const struct ear_queue_filter *f, int64_t now)
{
    struct ear_queue_item *items = NULL;
    struct ear_error err;
    size_t n = 0, k = 0;

    if (ear_queue_list(st, f, now, &items, &n, &err) < 0)
        return (size_t)-1;
    for (size_t i = 0; i < n && k < max; i++)
        ids[k++] = items[i].id;
    ear_queue_items_free(items, n);
    return k;
}

static void same(const char *what, const int64_t *a, size_t na,
                 const int64_t *b, size_t nb)
{
    int ok = na == nb && na != (size_t)-1;

    for (size_t i = 0; ok && i < na; i++)
        ok = a[i] == b[i];
    if (!ok) {
        fprintf(stderr, "%s: API %zu items, library %zu\n", what, na, nb);
        for (size_t i = 0; i < na && i < 12 && na != (size_t)-1; i++)
            fprintf(stderr, "  %lld %lld\n", (long long)a[i],
                    i < nb ? (long long)b[i] : -1LL);
    }
    CHECK(ok);
}

int main(void)
{
    static const char *const cats[] = {"billing", "delivery", "defect"};
    struct ear_store *st;
    struct ear_config *cfg;
    struct ear_web *w = NULL;
    struct ear_web_opts o = EAR_WEB_OPTS_INIT;
    struct ear_error err;
    int64_t now = T0 + 3600, api[N], lib[N];
    char key[32], text[128], cookie[256], query[256];
    size_t na, nb;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    fx_clock(now);
    st = fx_store("list.db");
    cfg = fx_config("list.yml",
                    "routing:\n  - {team: billing, categories: [billing]}\n"
                    "  - {team: logistics, categories: [delivery]}\n");
    for (int i = 0; i < N; i++) {
        struct fx_mention m;
        int64_t id, at;

        memset(&m, 0, sizeof m);
        snprintf(key, sizeof key, "k%d", i);
        snprintf(text, sizeof text, "%s review %d %s", i % 11 ? "Plain"
                 : "Needle", i, cats[i % 3]);
        m.source = i % 2 ? "reviews" : "social";
        m.key = key;
        m.title = text;
        m.text = text;
        m.lang = i % 3 ? "en" : "hu";
        m.rating = i % 7 == 0 ? 0.0 : (double)(i % 5 + 1);
        m.reach = i % 4 == 0 ? -1 : (int64_t)((i * 37) % 1000);
        m.first_seen = T0 - 4 * 86400;
        m.flag = 1;
        m.severity = (enum ear_severity)(i % 5);
        m.categories[0] = cats[i % 3];
        m.brand = "Acme";
        m.rule = "en.test";
        /* a third were queued days ago: past every deadline */
        at = i % 3 == 0 ? T0 - 4 * 86400 + i : T0 - i * 60;
        id = fx_queue(st, cfg, &m, at);
        if (i % 5 == 1)
            ear_queue_assign(st, id, i % 2 ? "anna" : "bela", "lena", NULL,
                             now, &err);
        else if (i % 5 == 2)
            ear_queue_respond(st, id, "anna", NULL, now, &err);
        else if (i % 10 == 3)
            ear_queue_resolve(st, id, "anna", NULL, now, &err);
        else if (i % 10 == 8)
            ear_queue_dismiss(st, id, "spam", "anna", NULL, now, &err);
    }
    CHECK_INT(ear_web_user_add(st, cfg, "lena", NULL, EAR_ROLE_LEAD,
                               "lena-password", &err), 0);
    o.store_path = ear_store_path(st);
    o.listen = "127.0.0.1:0";
    CHECK_INT(ear_web_start(&w, cfg, &o, &err), 0);
    if (!w)
        return check_result();
    http(&r, ear_web_url(w), "/api/login",
         "{\"user\":\"lena\",\"password\":\"lena-password\"}", NULL, NULL);
    CHECK_INT(r.status, 200);
    snprintf(cookie, sizeof cookie, "%s", r.cookie);

    {
        static const struct {
            const char *query;
            struct ear_queue_filter f;
        } cases[] = {
            {"", {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0}},
            {"state=open", {"open", NULL, NULL, NULL, NULL, NULL, NULL,
                            0, 0, 0, 0}},
            {"state=new", {"new", NULL, NULL, NULL, NULL, NULL, NULL,
                           0, 0, 0, 0}},
            {"state=assigned", {"assigned", NULL, NULL, NULL, NULL, NULL,
                                NULL, 0, 0, 0, 0}},
            {"state=responded", {"responded", NULL, NULL, NULL, NULL, NULL,
                                 NULL, 0, 0, 0, 0}},
            {"state=all", {"all", NULL, NULL, NULL, NULL, NULL, NULL,
                           0, 0, 0, 0}},
            {"state=closed", {"closed", NULL, NULL, NULL, NULL, NULL, NULL,
                              0, 0, 0, 0}},
            {"team=billing", {NULL, "billing", NULL, NULL, NULL, NULL, NULL,
                              0, 0, 0, 0}},
            {"owner=anna", {NULL, NULL, "anna", NULL, NULL, NULL, NULL,
                            0, 0, 0, 0}},
            {"owner=-", {NULL, NULL, "-", NULL, NULL, NULL, NULL,
                         0, 0, 0, 0}},
            {"category=delivery&lang=hu", {NULL, NULL, NULL, "delivery",
                                           NULL, NULL, "hu", 0, 0, 0, 0}},
            {"source=reviews&state=new", {"new", NULL, NULL, NULL, NULL,
                                          "reviews", NULL, 0, 0, 0, 0}},
            {"overdue=1", {NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                           1, 0, 0, 0}},
            {"overdue=1&state=assigned", {"assigned", NULL, NULL, NULL,
                                          NULL, NULL, NULL, 1, 0, 0, 0}},
        };
        static const size_t pages[][2] = {{7, 0}, {7, 7}, {13, 30},
                                          {50, 0}, {50, 50}, {500, 0},
                                          {5, 150}, {10, 300}};

        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
                struct ear_queue_filter f = cases[c].f;

                f.limit = pages[p][0];
                f.offset = pages[p][1];
                snprintf(query, sizeof query, "/api/queue?%s%slimit=%zu&"
                         "offset=%zu", cases[c].query,
                         cases[c].query[0] ? "&" : "", f.limit, f.offset);
                na = api_ids(api, N, ear_web_url(w), query, cookie);
                nb = lib_ids(lib, N, st, &f, now);
                same(query, api, na, lib, nb);
            }
        }
    }

    /* the text search keeps the queue's order */
    {
        struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
        struct ear_queue_item *items = NULL;
        size_t n = 0, k = 0;

        na = api_ids(api, N, ear_web_url(w), "/api/queue?q=needle&limit=500",
                     cookie);
        f.limit = 0;
        CHECK_INT(ear_queue_list(st, &f, now, &items, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
            if (strstr(items[i].text, "Needle"))
                lib[k++] = items[i].id;
        ear_queue_items_free(items, n);
        CHECK(k > 5);
        same("q=needle", api, na, lib, k);
        na = api_ids(api, N, ear_web_url(w),
                     "/api/queue?q=needle&limit=3&offset=2", cookie);
        same("q=needle page", api, na, lib + 2, 3);
    }

    /* the search's counts per state and of overdue items, and the totals
     * with overdue=1, are the library's numbers for the matching items */
    {
        static const char *const states[] = {"new", "assigned", "responded",
                                             "resolved", "dismissed"};
        struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
        struct ear_queue_item *items = NULL;
        long long want[5] = {0, 0, 0, 0, 0}, late = 0, late_assigned = 0;
        long long all = 0;
        size_t n = 0;
        json_t *j, *counts;

        f.state = "all";
        f.limit = 0;
        CHECK_INT(ear_queue_list(st, &f, now, &items, &n, &err), 0);
        for (size_t i = 0; i < n; i++) {
            if (!strstr(items[i].text, "Needle"))
                continue;
            all++;
            for (size_t k = 0; k < 5; k++)
                if (strcmp(items[i].state, states[k]) == 0)
                    want[k]++;
            if (items[i].overdue) {
                late++;
                if (strcmp(items[i].state, "assigned") == 0)
                    late_assigned++;
            }
        }
        ear_queue_items_free(items, n);
        CHECK(late > 0 && late < all && late_assigned > 0);
        http(&r, ear_web_url(w), "/api/queue?q=needle&state=all", NULL,
             cookie, NULL);
        j = json_loads(r.body, 0, NULL);
        counts = json_object_get(j, "counts");
        CHECK(json_integer_value(json_object_get(j, "total")) == all);
        for (size_t k = 0; k < 5; k++)
            CHECK(json_integer_value(json_object_get(counts, states[k])) ==
                  want[k]);
        CHECK(json_integer_value(json_object_get(counts, "overdue")) == late);
        json_decref(j);
        http(&r, ear_web_url(w), "/api/queue?q=needle&state=all&overdue=1",
             NULL, cookie, NULL);
        j = json_loads(r.body, 0, NULL);
        CHECK(json_integer_value(json_object_get(j, "total")) == late);
        json_decref(j);
        http(&r, ear_web_url(w),
             "/api/queue?q=needle&state=assigned&overdue=1", NULL, cookie,
             NULL);
        j = json_loads(r.body, 0, NULL);
        CHECK(json_integer_value(json_object_get(j, "total")) ==
              late_assigned);
        json_decref(j);
    }

    ear_web_stop(w);
    ear_config_free(cfg);
    ear_store_close(st);
    curl_global_cleanup();
    return check_result();
}
