/* The store: schema migration, mention dedup by key and canonical url,
 * verdict round trip, source state, and refusal of bad files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "check.h"
#include "core/core.h"

static char dir[512];

static const char *path_in(const char *name)
{
    static char p[1024];

    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void test_mentions(void)
{
    struct ear_store *st = NULL;
    struct ear_error err;
    struct ear_mention m, again, other, got;
    struct ear_verdict v, v2;
    int is_new = -1;
    const char *p = path_in("mentions.db");

    unlink(p);
    ear_error_clear(&err);
    CHECK_INT(ear_store_open(&st, p, &err), 0);
    if (!st)
        return;
    CHECK_INT(ear_store_schema_version(st), 8);

    ear_mention_init(&m);
    m.source = strdup("acme-reviews");
    m.key = strdup("guid-1");
    m.url = strdup("https://example.org/r/1");
    m.title = strdup("Rossz számla");
    m.text = strdup("Kétszer vonták le a díjat!");
    m.rating = 1;
    m.published = 1795426500;
    snprintf(m.lang, sizeof m.lang, "hu");
    CHECK_INT(ear_store_mention_put(st, &m, &is_new, &err), 0);
    CHECK_INT(is_new, 1);
    CHECK(m.id > 0);
    CHECK(m.first_seen > 0);

    /* Same source and key: the same mention. */
    ear_mention_copy(&again, &m);
    again.id = 0;
    CHECK_INT(ear_store_mention_put(st, &again, &is_new, &err), 0);
    CHECK_INT(is_new, 0);
    CHECK_INT(again.id, m.id);

    /* Another source, same canonical url: still one mention. */
    ear_mention_copy(&other, &m);
    other.id = 0;
    ear_str_set(&other.source, "aggregator");
    ear_str_set(&other.key, "x-99");
    CHECK_INT(ear_store_mention_put(st, &other, &is_new, &err), 0);
    CHECK_INT(is_new, 0);
    CHECK_INT(other.id, m.id);

    CHECK_INT(ear_store_mention_get(st, m.id, &got, &err), 0);
    CHECK_STR(got.text, "Kétszer vonták le a díjat!");
    CHECK_STR(got.lang, "hu");
    CHECK_INT(got.published, 1795426500);
    CHECK(got.rating == 1.0);
    CHECK_INT(got.reach, -1);
    ear_mention_dispose(&got);
    CHECK_INT(ear_store_mention_get(st, 999, &got, &err), EAR_ENOTFOUND);
    /* A language once known is not overwritten by a later detection. */
    CHECK_INT(ear_store_mention_set_lang(st, m.id, "en", &err), 0);
    CHECK_INT(ear_store_mention_get(st, m.id, &got, &err), 0);
    CHECK_STR(got.lang, "hu");
    ear_mention_dispose(&got);

    ear_verdict_init(&v);
    v.flag = 1;
    v.score = 3.5;
    v.severity = EAR_SEV_HIGH;
    ear_verdict_add_category(&v, "billing");
    ear_verdict_add_category(&v, "billing"); /* no duplicates */
    ear_verdict_add_match(&v, "hu.billing.double-charge", "billing", "text",
                          m.text, 0, 8, 2.0);
    v.brand = strdup("Acme");
    snprintf(v.lang, sizeof v.lang, "hu");
    CHECK_INT(v.ncategories, 1);
    CHECK_INT(ear_store_verdict_put(st, m.id, &v, &err), 0);
    CHECK_INT(ear_store_verdict_get(st, m.id, &v2, &err), 0);
    CHECK_INT(v2.flag, 1);
    CHECK_INT(v2.severity, EAR_SEV_HIGH);
    CHECK_INT(v2.ncategories, 1);
    CHECK_STR(v2.categories[0], "billing");
    CHECK_INT(v2.nmatches, 1);
    CHECK_STR(v2.matches[0].rule, "hu.billing.double-charge");
    CHECK_STR(v2.matches[0].text, "Kétszer");
    CHECK_INT(v2.matches[0].end, 8);
    CHECK_STR(v2.brand, "Acme");
    ear_verdict_dispose(&v2);
    ear_verdict_dispose(&v);
    CHECK_INT(ear_store_event(st, 0, m.id, "anna", "note", NULL, NULL, "hi",
                              &err), 0);

    ear_mention_dispose(&m);
    ear_mention_dispose(&again);
    ear_mention_dispose(&other);
    ear_store_close(st);
}

/* ear_store_mention_add: what it came to, by either path (lookup first,
 * or the one-statement insert of a likely new mention), and the lookup a
 * reader makes: the same answers. */
static void test_mention_fates(void)
{
    struct ear_store *st = NULL;
    struct ear_error err;
    struct ear_mention a, b;
    struct ear_verdict v;
    enum ear_mention_fate fate;
    int64_t id = -1;
    int likely;
    const char *p = path_in("fates.db");

    unlink(p);
    ear_error_clear(&err);
    CHECK_INT(ear_store_open(&st, p, &err), 0);
    if (!st)
        return;
    for (likely = 0; likely <= 1; likely++) {
        char key[32], url[64];

        ear_mention_init(&a);
        snprintf(key, sizeof key, "k%d", likely);
        snprintf(url, sizeof url, "https://example.org/%d", likely);
        a.source = strdup("collector");
        a.key = strdup(key);
        a.url = strdup(url);
        a.text = strdup("text");
        fate = EAR_MENTION_KNOWN;
        CHECK_INT(ear_store_mention_lookup(st, "collector", &a, &id, &fate,
                                           &err), 0);
        CHECK_INT(id, 0);
        CHECK_INT(fate, EAR_MENTION_NEW);
        CHECK_INT(ear_store_mention_add(st, &a, likely, &fate, &err), 0);
        CHECK_INT(fate, EAR_MENTION_NEW);
        CHECK(a.id > 0);

        /* the same (source, key) again, with another url: known */
        ear_mention_copy(&b, &a);
        b.id = 0;
        ear_str_set(&b.url, "https://example.org/elsewhere");
        CHECK_INT(ear_store_mention_add(st, &b, likely, &fate, &err), 0);
        CHECK_INT(fate, EAR_MENTION_KNOWN);
        CHECK_INT(b.id, a.id);

        /* another source, same url, no verdict yet: unanalyzed */
        ear_str_set(&b.source, "shop");
        ear_str_set(&b.key, "s1");
        ear_str_set(&b.url, url);
        b.id = 0;
        CHECK_INT(ear_store_mention_add(st, &b, !likely, &fate, &err), 0);
        CHECK_INT(fate, EAR_MENTION_UNANALYZED);
        CHECK_INT(b.id, a.id);
        CHECK_INT(ear_store_mention_lookup(st, "shop", &b, &id, &fate, &err),
                  0);
        CHECK_INT(fate, EAR_MENTION_UNANALYZED);
        CHECK_INT(id, a.id);

        /* with a verdict: known */
        ear_verdict_init(&v);
        CHECK_INT(ear_store_verdict_put(st, a.id, &v, &err), 0);
        ear_verdict_dispose(&v);
        b.id = 0;
        CHECK_INT(ear_store_mention_add(st, &b, likely, &fate, &err), 0);
        CHECK_INT(fate, EAR_MENTION_KNOWN);
        CHECK_INT(b.id, a.id);
        ear_mention_dispose(&b);
        ear_mention_dispose(&a);
    }
    /* no url: only the key tells */
    ear_mention_init(&a);
    a.source = strdup("collector");
    a.key = strdup("no-url");
    CHECK_INT(ear_store_mention_add(st, &a, 1, &fate, &err), 0);
    CHECK_INT(fate, EAR_MENTION_NEW);
    id = a.id;
    a.id = 0;
    CHECK_INT(ear_store_mention_add(st, &a, 1, &fate, &err), 0);
    CHECK_INT(fate, EAR_MENTION_KNOWN);
    CHECK_INT(a.id, id);
    ear_str_set(&a.key, NULL);
    CHECK_INT(ear_store_mention_add(st, &a, 1, &fate, &err), EAR_EINVAL);
    ear_mention_dispose(&a);
    ear_store_close(st);
}

static void test_source_state(void)
{
    struct ear_store *st = NULL;
    struct ear_error err;
    struct ear_source_state s, got;

    CHECK_INT(ear_store_open(&st, path_in("mentions.db"), &err), 0);
    if (!st)
        return;
    CHECK_INT(ear_store_source_get(st, "new-source", &got, &err),
              EAR_ENOTFOUND);
    CHECK_STR(got.name, "new-source");
    ear_source_state_dispose(&got);
    ear_source_state_init(&s);
    s.name = strdup("acme");
    s.etag = strdup("\"abc\"");
    s.failures = 2;
    s.next_due = 1795426500;
    s.last_status = strdup("failed");
    s.last_error = strdup("HTTP 503 Service Unavailable");
    CHECK_INT(ear_store_source_put(st, &s, &err), 0);
    free(s.etag);
    s.etag = strdup("\"def\"");
    CHECK_INT(ear_store_source_put(st, &s, &err), 0); /* upsert */
    CHECK_INT(ear_store_source_get(st, "acme", &got, &err), 0);
    CHECK_STR(got.etag, "\"def\"");
    CHECK_INT(got.failures, 2);
    CHECK_STR(got.last_error, "HTTP 503 Service Unavailable");
    ear_source_state_dispose(&got);
    ear_source_state_dispose(&s);

    /* An inner rollback undoes only the inner writes. */
    {
        sqlite3_stmt *q;
        int n = -1;
        CHECK_INT(ear_store_begin(st, &err), 0);
        CHECK_INT(ear_store_event(st, 0, 0, "t", "outer", NULL, NULL, NULL,
                                  &err), 0);
        CHECK_INT(ear_store_begin(st, &err), 0);
        CHECK_INT(ear_store_event(st, 0, 0, "t", "inner", NULL, NULL, NULL,
                                  &err), 0);
        ear_store_rollback(st);
        CHECK_INT(ear_store_commit(st, &err), 0);
        sqlite3_prepare_v2(ear_store_db(st), "SELECT count(*) FROM events "
                           "WHERE kind IN ('outer', 'inner')", -1, &q, NULL);
        if (sqlite3_step(q) == SQLITE_ROW)
            n = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        CHECK_INT(n, 1);
        CHECK_INT(ear_store_event_at(st, 1234, 0, 0, "t", "dated", NULL, NULL,
                                     NULL, &err), 0);
        sqlite3_prepare_v2(ear_store_db(st), "SELECT at FROM events WHERE "
                           "kind = 'dated'", -1, &q, NULL);
        CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) == 1234);
        sqlite3_finalize(q);
    }
    /* Nested transactions: the inner commit does not end the outer one. */
    CHECK_INT(ear_store_begin(st, &err), 0);
    CHECK_INT(ear_store_begin(st, &err), 0);
    CHECK_INT(ear_store_event(st, 0, 0, "t", "x", NULL, NULL, NULL, &err), 0);
    CHECK_INT(ear_store_commit(st, &err), 0);
    CHECK(!sqlite3_get_autocommit(ear_store_db(st)));
    ear_store_rollback(st);
    CHECK(sqlite3_get_autocommit(ear_store_db(st)));
    ear_store_close(st);
}

static void test_bad_files(void)
{
    struct ear_store *st = NULL;
    struct ear_error err;
    const char *p = path_in("garbage.db");
    FILE *f = fopen(p, "w");
    sqlite3 *db;

    fputs("this is not a database, just some text that is long enough to "
          "be read as a header by sqlite and rejected as such.\n", f);
    fclose(f);
    ear_error_clear(&err);
    CHECK(ear_store_open(&st, p, &err) < 0);
    CHECK(st == NULL);
    CHECK(strstr(err.source, "garbage.db") != NULL);
    CHECK(strstr(err.text, "not a database") != NULL);

    /* A store from a newer earshot is refused, not downgraded. */
    p = path_in("future.db");
    unlink(p);
    sqlite3_open(p, &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(ear_store_open(&st, p, &err) < 0);
    CHECK(strstr(err.text, "newer") != NULL);

    /* Nested directories are created. */
    p = path_in("a/b/c/store.db");
    CHECK_INT(ear_store_open(&st, p, &err), 0);
    ear_store_close(st);
}

int main(void)
{
    const char *t = getenv("EAR_TMP");

    snprintf(dir, sizeof dir, "%s", t ? t : "/tmp/ear_test_store");
    ear_mkdir_parents(path_in("x"), NULL);
    test_mentions();
    test_mention_fates();
    test_source_state();
    test_bad_files();
    return check_result();
}
