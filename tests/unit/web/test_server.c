/* The server as `earshot watch --serve` embeds it: ear_web_start() in the
 * caller's process on port 0, requests over loopback with libcurl,
 * ear_web_reconfigure() and ear_web_stop(). */
#include "output/fixture.h"
#include "output/web/web.h"
#include "web/http.h"

static void test_serve(void)
{
    struct ear_store *st = fx_store("server.db");
    struct ear_config *cfg, *cfg2;
    struct ear_web *w = NULL, *w2 = NULL;
    struct ear_web_opts o = EAR_WEB_OPTS_INIT;
    struct ear_error err;
    static struct reply r;
    char listen[64], csrf[65] = "";
    const char *p;
    static const struct fx_mention m1 = {
        "acme-reviews", "k1", "Broken on arrival", "Broken and nobody "
        "answers", "https://shop.example/r/1", "Eve", "en", 1.0, -1, T0, 1,
        EAR_SEV_HIGH, {"defect", NULL, NULL, NULL}, "Acme", NULL,
        "en.defect", 0};
    int64_t id;

    fx_clock(T0 + 60);
    cfg = fx_config("server.yml",
                    "teams:\n  - {name: quality, members: [anna]}\n"
                    "users:\n  - {name: lena, role: lead}\n"
                    "serve:\n  threads: 2\n");
    id = fx_queue(st, cfg, &m1, T0);
    CHECK_INT(ear_web_user_add(st, cfg, "anna", "quality", EAR_ROLE_AGENT,
                               "anna-password", &err), 0);

    o.store_path = ear_store_path(st);
    o.listen = "127.0.0.1:0";
    CHECK_INT(ear_web_start(&w, cfg, &o, &err), 0);
    if (!w)
        return;
    CHECK(ear_web_port(w) > 0);
    snprintf(listen, sizeof listen, "http://127.0.0.1:%d/", ear_web_port(w));
    CHECK_STR(ear_web_url(w), listen);

    /* the same port again: a clear error, nothing started */
    snprintf(listen, sizeof listen, "127.0.0.1:%d", ear_web_port(w));
    o.listen = listen;
    CHECK_INT(ear_web_start(&w2, cfg, &o, &err), EAR_EIO);
    CHECK(strstr(err.text, "cannot listen") != NULL);
    CHECK(w2 == NULL);
    o.listen = "127.0.0.1:99999";
    CHECK_INT(ear_web_start(&w2, cfg, &o, &err), EAR_EINVAL);
    o.listen = "no-port";
    CHECK_INT(ear_web_start(&w2, cfg, &o, &err), EAR_EINVAL);
    o.listen = "127.0.0.1:0";
    o.store_path = NULL;
    CHECK_INT(ear_web_start(&w2, cfg, &o, &err), EAR_EINVAL);

    http(&r, ear_web_url(w), "/healthz", NULL, NULL, NULL);
    CHECK_INT(r.status, 200);
    CHECK(strstr(r.body, "\"ok\"") != NULL);
    http(&r, ear_web_url(w), "/", NULL, NULL, NULL);
    CHECK_INT(r.status, 200);
    CHECK(strstr(r.body, "/app.js") != NULL);
    http(&r, ear_web_url(w), "/api/queue", NULL, NULL, NULL);
    CHECK_INT(r.status, 401);

    http(&r, ear_web_url(w), "/api/login",
         "{\"user\":\"anna\",\"password\":\"wrong-password\"}", NULL, NULL);
    CHECK_INT(r.status, 401);
    http(&r, ear_web_url(w), "/api/login",
         "{\"user\":\"lena\",\"password\":\"no-hash-at-all\"}", NULL, NULL);
    CHECK_INT(r.status, 401); /* a config user without a hash */
    http(&r, ear_web_url(w), "/api/login",
         "{\"user\":\"anna\",\"password\":\"anna-password\"}", NULL, NULL);
    CHECK_INT(r.status, 200);
    CHECK(strncmp(r.cookie, "earshot_session=", 16) == 0);
    p = strstr(r.body, "\"csrf\":\"");
    if (p)
        snprintf(csrf, sizeof csrf, "%.64s", p + 8);
    {
        char cookie[256];

        snprintf(cookie, sizeof cookie, "%s", r.cookie);
        http(&r, ear_web_url(w), "/api/queue", NULL, cookie, NULL);
        CHECK_INT(r.status, 200);
        CHECK(strstr(r.body, "Broken on arrival") != NULL);
        CHECK(strstr(r.body, "\"total\":1") != NULL);

        http(&r, ear_web_url(w), "/api/queue/1/assign", "{\"owner\":\"anna\"}",
             cookie, csrf);
        CHECK_INT(r.status, 200);
        CHECK(id == 1);
        CHECK(strstr(r.body, "\"owner\":\"anna\"") != NULL);

        /* the store the caller holds sees the change */
        {
            struct ear_queue_item it;

            CHECK_INT(ear_queue_get(st, id, T0 + 60, &it, NULL, NULL, &err),
                      0);
            CHECK_STR(it.owner, "anna");
            CHECK_STR(it.state, "assigned");
            ear_queue_item_dispose(&it);
        }
        /* and the server sees changes the caller makes */
        CHECK_INT(ear_queue_note(st, id, "earshot", "from outside", T0 + 60,
                                 &err), 0);
        CHECK_INT(ear_queue_resolve(st, id, "lena", NULL, T0 + 60, &err), 0);
        http(&r, ear_web_url(w), "/api/queue?state=resolved", NULL, cookie,
             NULL);
        CHECK(strstr(r.body, "\"total\":1") != NULL);

        /* reconfigure: a broken config is refused, the old one stays */
        cfg2 = fx_config("server2.yml", "serve:\n  title: Quality desk\n");
        CHECK_INT(ear_web_reconfigure(w, cfg2, &err), 0);
        ear_config_free(cfg2);
        http(&r, ear_web_url(w), "/api/me", NULL, cookie, NULL);
        CHECK_INT(r.status, 200);
        CHECK(strstr(r.body, "Quality desk") != NULL);
    }

    ear_config_free(cfg); /* the server keeps its own copies */
    http(&r, ear_web_url(w), "/healthz", NULL, NULL, NULL);
    CHECK_INT(r.status, 200);
    ear_web_stop(w);
    ear_web_stop(NULL);
    ear_store_close(st);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_serve();
    curl_global_cleanup();
    return check_result();
}
