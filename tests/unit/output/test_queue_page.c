/* The open items' pages come from two priority indexes (overdue ones
 * apart) instead of one sort: whatever the mix of states, deadlines,
 * severities, ratings and reach, every page (limit, offset, filters,
 * --overdue) must be exactly the slice of the full priority order that
 * the general query (state "all", open items first) gives. */
#include "fixture.h"

static const char *const yaml =
    "sources:\n"
    "  - name: shop\n    url: feeds/s.xml\n    brand: Acme\n"
    "brands:\n  - name: Acme\n"
    "routing:\n"
    "  - team: billing\n    categories: [billing]\n"
    "  - team: logistics\n    categories: [delivery]\n"
    "teams:\n  - name: billing\n  - name: logistics\n"
    "default_team: billing\n";

static size_t ids_of(struct ear_store *st, const struct ear_queue_filter *f,
                     int64_t now, int64_t *out, size_t max, int open_only)
{
    struct ear_queue_item *items = NULL;
    struct ear_error err = {0};
    size_t n = 0, k = 0;

    CHECK_INT(ear_queue_list(st, f, now, &items, &n, &err), 0);
    for (size_t i = 0; i < n && k < max; i++) {
        if (open_only && (strcmp(items[i].state, "resolved") == 0 ||
                          strcmp(items[i].state, "dismissed") == 0))
            continue;
        out[k++] = items[i].id;
    }
    ear_queue_items_free(items, n);
    return k;
}

/* The ids of state's items in the general query's order (state "all"),
 * with f's other filters; f->state is left as "all". */
static size_t state_ids(struct ear_store *st, struct ear_queue_filter *f,
                        int64_t now, const char *state, int64_t *out)
{
    struct ear_queue_item *items = NULL;
    struct ear_error err = {0};
    size_t n = 0, k = 0;

    f->state = "all";
    CHECK_INT(ear_queue_list(st, f, now, &items, &n, &err), 0);
    for (size_t i = 0; i < n && k < 200; i++)
        if (strcmp(items[i].state, state) == 0)
            out[k++] = items[i].id;
    ear_queue_items_free(items, n);
    return k;
}

int main(void)
{
    struct ear_store *st = fx_store("page.db");
    struct ear_config *cfg = fx_config("page.yml", yaml);
    struct ear_error err = {0};
    int64_t all[200], page[200];
    int64_t now = T0 + 30 * 3600;
    size_t nall;

    /* 120 items queued over 30 hours: deadlines before and after now */
    for (int i = 0; i < 120; i++) {
        struct fx_mention fm = {0};
        char key[16];
        int64_t qid;

        snprintf(key, sizeof key, "p%d", i);
        fm.source = "shop";
        fm.key = key;
        fm.text = "invoice wrong";
        fm.flag = 1;
        fm.severity = (enum ear_severity)(1 + (i * 7) % 4);
        fm.categories[0] = i % 3 ? "billing" : "delivery";
        fm.rating = i % 4 == 0 ? 0.0 : (double)(1 + i % 5);
        fm.reach = i % 5 == 0 ? -1 : (i * 37) % 1000;
        fm.first_seen = T0 + i * 900;
        fx_clock(T0 + i * 900);
        qid = fx_queue(st, cfg, &fm, T0 + i * 900);
        /* every state, answered or not */
        switch (i % 7) {
        case 1:
            CHECK_INT(ear_queue_assign(st, qid, "anna", "lead", NULL,
                                       T0 + i * 900 + 60, &err), 0);
            break;
        case 2:
            CHECK_INT(ear_queue_respond(st, qid, "bela", NULL,
                                        T0 + i * 900 + 120, &err), 0);
            break;
        case 3:
            CHECK_INT(ear_queue_resolve(st, qid, "bela", NULL,
                                        T0 + i * 900 + 120, &err), 0);
            break;
        case 4:
            CHECK_INT(ear_queue_dismiss(st, qid, "spam", "bela", NULL,
                                        T0 + i * 900 + 120, &err), 0);
            break;
        default:
            break;
        }
    }

    {
        struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;

        f.state = "all";
        nall = ids_of(st, &f, now, all, 200, 1);
    }
    CHECK(nall > 60 && nall < 120);
    /* the default listing, whole and in pages */
    {
        struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
        size_t n = ids_of(st, &f, now, page, 200, 0);

        CHECK_INT(n, nall);
        CHECK(memcmp(page, all, n * sizeof *page) == 0);
        for (size_t off = 0; off < nall; off += 7) {
            size_t k;

            f.limit = 7;
            f.offset = off;
            k = ids_of(st, &f, now, page, 200, 0);
            CHECK_INT(k, nall - off < 7 ? nall - off : 7);
            CHECK(memcmp(page, all + off, k * sizeof *page) == 0);
        }
        f.state = "open";
        f.limit = 10;
        f.offset = 0;
        CHECK_INT(ids_of(st, &f, now, page, 200, 0), 10);
        CHECK(memcmp(page, all, 10 * sizeof *page) == 0);
    }
    /* with filters: the same slice of the filtered order */
    {
        static const char *const teams[] = {"billing", "logistics",
                                            "LOGISTICS"};

        for (int t = 0; t < 3; t++) {
            struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
            int64_t want[200];
            size_t nw, n;

            f.state = "all";
            f.team = teams[t];
            nw = ids_of(st, &f, now, want, 200, 1);
            f.state = NULL;
            f.limit = 5;
            f.offset = 3;
            n = ids_of(st, &f, now, page, 200, 0);
            CHECK(nw > 8);
            CHECK_INT(n, 5);
            CHECK(memcmp(page, want + 3, 5 * sizeof *page) == 0);
        }
    }
    /* one open state: the same slice of that state's general order */
    {
        static const char *const states[] = {"new", "assigned", "responded"};

        for (int k = 0; k < 3; k++) {
            struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
            int64_t want[200];
            size_t nw;

            /* the general query's order, restricted to the state */
            nw = state_ids(st, &f, now, states[k], want);
            CHECK(nw > 5);
            f.state = states[k];
            CHECK_INT(ids_of(st, &f, now, page, 200, 0), nw);
            CHECK(memcmp(page, want, nw * sizeof *page) == 0);
            for (size_t off = 0; off < nw; off += 4) {
                size_t got;

                f.limit = 4;
                f.offset = off;
                got = ids_of(st, &f, now, page, 200, 0);
                CHECK_INT(got, nw - off < 4 ? nw - off : 4);
                CHECK(memcmp(page, want + off, got * sizeof *page) == 0);
            }
            f.limit = 0;
            f.offset = 0;
            f.team = "logistics";
            nw = state_ids(st, &f, now, states[k], want);
            f.state = states[k];
            CHECK_INT(ids_of(st, &f, now, page, 200, 0), nw);
            CHECK(memcmp(page, want, nw * sizeof *page) == 0);
        }
    }
    /* --overdue */
    {
        struct ear_queue_filter f = EAR_QUEUE_FILTER_INIT;
        struct ear_queue_item *items = NULL;
        size_t n = 0, overdue = 0;
        int64_t want[200];
        size_t nw = 0;

        CHECK_INT(ear_queue_list(st, &f, now, &items, &n, &err), 0);
        for (size_t i = 0; i < n; i++)
            if (items[i].overdue)
                want[nw++] = items[i].id;
            else
                break; /* overdue ones come first */
        for (size_t i = 0; i < n; i++)
            if (items[i].overdue)
                overdue++;
        CHECK_INT(nw, overdue);
        CHECK(overdue > 5 && overdue < n);
        ear_queue_items_free(items, n);
        f.overdue_only = 1;
        CHECK_INT(ids_of(st, &f, now, page, 200, 0), nw);
        CHECK(memcmp(page, want, nw * sizeof *page) == 0);
    }
    ear_config_free(cfg);
    ear_store_close(st);
    return check_result();
}
