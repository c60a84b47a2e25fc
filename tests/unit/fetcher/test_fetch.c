/* The poller over file:// sources: every source reported once, failures
 * in words, one broken source never stopping the others, the body cap, and
 * reuse of the fetcher across performs; the same outcomes whether pages
 * are parsed on worker threads or on the perform's thread, and the
 * prepare callback only ever on a worker. (HTTP behaviour is exercised by
 * tests/integration/fetch_http.py against a real loopback server.) */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fetcher/fetcher.h"

struct seen {
    int calls;
    int rc[8];
    size_t items[8];
    char text[8][512];
    char title[8][128];
    char lang[8][8];
    long status[8];
};

static int index_of(const char *name)
{
    static const char *const names[] = {"good", "missing", "notfeed", "big",
                                        "badtype", "barepath", "json", NULL};
    int i;

    for (i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return 7;
}

static void on_result(struct ear_fetch_result *res, void *payload)
{
    struct seen *s = payload;
    int i = index_of(res->src->name);

    s->calls++;
    s->rc[i] = res->rc;
    s->items[i] = res->items.n;
    s->status[i] = res->http_status;
    snprintf(s->text[i], sizeof(s->text[i]), "%s", res->err.text);
    snprintf(s->title[i], sizeof(s->title[i]), "%s",
             res->feed.title ? res->feed.title : "");
    if (res->items.n)
        snprintf(s->lang[i], sizeof(s->lang[i]), "%s", res->items.v[0].lang);
    CHECK_STR(res->err.source, res->src->name);
    /* the callback may take the items */
    if (i == 0) {
        struct ear_mention_list taken = res->items;

        memset(&res->items, 0, sizeof(res->items));
        ear_mention_list_dispose(&taken);
    }
}

/* The prepare callback: runs on a worker, never the perform's thread, for
 * the items of a source that parsed; what it leaves in res->user reaches
 * the result callback and is freed with the result. */
struct prep {
    pthread_t perform_thread;
    int workers;
    int calls;      /* written by workers: read after the perform */
    int wrong;
    pthread_mutex_t mu;
};

static int user_frees;

static void free_user(void *u)
{
    user_frees++; /* on the perform's thread, with the result */
    free(u);
}

static void on_prepare(struct ear_fetch_result *res, size_t from, int worker,
                       void *payload)
{
    struct prep *p = payload;
    size_t *n = malloc(sizeof *n);

    pthread_mutex_lock(&p->mu);
    p->calls++;
    if (pthread_equal(pthread_self(), p->perform_thread)
        || worker < 0 || worker >= p->workers || from != 0
        || res->items.n == 0 || res->user)
        p->wrong++;
    pthread_mutex_unlock(&p->mu);
    if (n) {
        *n = res->items.n;
        res->user = n;
        res->user_free = free_user;
    }
}

static int user_seen;

static void on_result_user(struct ear_fetch_result *res, void *payload)
{
    if (res->user && *(size_t *)res->user == res->items.n)
        user_seen++;
    on_result(res, payload);
}

static void write_file(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(s, 1, n, f);
    fclose(f);
}

static struct ear_source_cfg source(const char *name, char *url)
{
    struct ear_source_cfg c;

    memset(&c, 0, sizeof(c));
    c.name = (char *)name;
    c.url = url;
    c.enabled = 1;
    return c;
}

int main(void)
{
    const char *tmp = getenv("EAR_TMP");
    char dir[512], good[600], nf[600], big[600], js[600];
    char u_good[700], u_missing[700], u_nf[700], u_big[700];
    struct ear_fetch_opts opts = EAR_FETCH_OPTS_INIT;
    struct ear_source_cfg src[7];
    struct ear_fetcher *f = NULL;
    struct ear_source_state st;
    struct seen seen;
    char *bigbody;
    int i;
    static const char feed[] =
        "<rss version=\"2.0\"><channel><title>Good</title>"
        "<item><guid>1</guid><title>one</title></item>"
        "<item><guid>2</guid><title>two</title></item></channel></rss>";
    static const char jfeed[] =
        "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"J\","
        "\"items\":[{\"id\":\"x\",\"content_text\":\"hi\"}]}";

    snprintf(dir, sizeof(dir), "%s", tmp ? tmp : "/tmp/ear_test_fetch");
    snprintf(good, sizeof(good), "%s/good.xml", dir);
    CHECK_INT(ear_mkdir_parents(good, NULL), 0);
    snprintf(nf, sizeof(nf), "%s/notfeed.txt", dir);
    snprintf(big, sizeof(big), "%s/big.xml", dir);
    snprintf(js, sizeof(js), "%s/feed.json", dir);
    write_file(good, feed, strlen(feed));
    write_file(nf, "hello, I am not a feed\n", 23);
    write_file(js, jfeed, strlen(jfeed));
    bigbody = malloc(5000);
    CHECK(bigbody != NULL);
    memset(bigbody, 'x', 5000);
    memcpy(bigbody, "<rss>", 5);
    write_file(big, bigbody, 5000);
    free(bigbody);
    snprintf(u_good, sizeof(u_good), "file://%s", good);
    snprintf(u_missing, sizeof(u_missing), "file://%s/missing.xml", dir);
    snprintf(u_nf, sizeof(u_nf), "file://%s", nf);
    snprintf(u_big, sizeof(u_big), "file://%s", big);

    src[0] = source("good", u_good);
    src[0].lang = (char *)"hu";
    src[1] = source("missing", u_missing);
    src[2] = source("notfeed", u_nf);
    src[3] = source("big", u_big);
    src[4] = source("badtype", u_good);
    src[4].type = (char *)"yaml";
    src[5] = source("barepath", good); /* no scheme: a file path */
    src[6] = source("json", js);

    opts.max_body = 4096;
    CHECK_INT(ear_fetcher_new(&f, &opts, NULL), 0);
    ear_source_state_init(&st);
    for (i = 0; i < 7; i++)
        CHECK_INT(ear_fetcher_add(f, &src[i], i == 0 ? &st : NULL, NULL), 0);
    memset(&seen, 0, sizeof(seen));
    CHECK_INT(ear_fetcher_perform(f, on_result, &seen), 0);
    CHECK_INT(seen.calls, 7);

    CHECK_INT(seen.rc[0], 0);
    CHECK_INT(seen.items[0], 2);
    CHECK_STR(seen.title[0], "Good");
    CHECK_STR(seen.lang[0], "hu");
    CHECK_INT(seen.status[0], 0);

    CHECK_INT(seen.rc[1], EAR_EIO);
    CHECK(strstr(seen.text[1], "missing.xml") != NULL);

    CHECK_INT(seen.rc[2], EAR_EPARSE);
    CHECK(strstr(seen.text[2], "not a feed") != NULL);

    CHECK_INT(seen.rc[3], EAR_ETOOBIG);
    CHECK_STR(seen.text[3], "body exceeds 4096 bytes");

    CHECK_INT(seen.rc[4], EAR_EINVAL);
    CHECK(strstr(seen.text[4], "'yaml'") != NULL);

    CHECK_INT(seen.rc[5], 0);
    CHECK_INT(seen.items[5], 2);

    CHECK_INT(seen.rc[6], 0);
    CHECK_INT(seen.items[6], 1);

    /* the queue is empty after a perform ... */
    memset(&seen, 0, sizeof(seen));
    CHECK_INT(ear_fetcher_perform(f, on_result, &seen), 0);
    CHECK_INT(seen.calls, 0);
    /* ... and the fetcher is reusable */
    CHECK_INT(ear_fetcher_add(f, &src[0], NULL, NULL), 0);
    CHECK_INT(ear_fetcher_perform(f, on_result, &seen), 0);
    CHECK_INT(seen.calls, 1);
    CHECK_INT(seen.items[0], 2);
    /* sources queued but never performed are freed with the fetcher */
    CHECK_INT(ear_fetcher_add(f, &src[1], NULL, NULL), 0);
    ear_fetcher_free(f);

    /* Two parse workers, then none: the same outcomes; the prepare
     * callback runs on the workers for the three sources that parse. */
    for (int threads = 2; threads >= -1; threads -= 3) {
        struct prep p;
        struct seen again;

        opts.parse_threads = threads;
        f = NULL;
        CHECK_INT(ear_fetcher_new(&f, &opts, NULL), 0);
        CHECK_INT(ear_fetcher_workers(f, 7), threads > 0 ? threads : 0);
        CHECK_INT(ear_fetcher_workers(f, 1), 0);
        memset(&p, 0, sizeof(p));
        pthread_mutex_init(&p.mu, NULL);
        p.perform_thread = pthread_self();
        p.workers = ear_fetcher_workers(f, 7);
        ear_fetcher_set_prepare(f, on_prepare, &p);
        for (i = 0; i < 7; i++)
            CHECK_INT(ear_fetcher_add(f, &src[i], NULL, NULL), 0);
        memset(&again, 0, sizeof(again));
        user_seen = user_frees = 0;
        CHECK_INT(ear_fetcher_perform(f, on_result_user, &again), 0);
        CHECK_INT(again.calls, 7);
        CHECK_INT(again.rc[0], 0);
        CHECK_INT(again.items[0], 2);
        CHECK_INT(again.rc[1], EAR_EIO);
        CHECK_INT(again.rc[2], EAR_EPARSE);
        CHECK_INT(again.rc[3], EAR_ETOOBIG);
        CHECK_INT(again.rc[4], EAR_EINVAL);
        CHECK_INT(again.rc[5], 0);
        CHECK_INT(again.items[5], 2);
        CHECK_INT(again.rc[6], 0);
        CHECK_INT(again.items[6], 1);
        CHECK_STR(again.lang[0], "hu");
        CHECK_STR(again.title[0], "Good");
        CHECK_INT(p.wrong, 0);
        /* good, barepath, json parse; none is prepared without workers */
        CHECK_INT(p.calls, threads > 0 ? 3 : 0);
        CHECK_INT(user_seen, threads > 0 ? 3 : 0);
        CHECK_INT(user_frees, threads > 0 ? 3 : 0);
        pthread_mutex_destroy(&p.mu);
        ear_fetcher_free(f);
    }
    return check_result();
}
