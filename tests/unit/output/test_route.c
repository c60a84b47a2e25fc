/* Routing (category, brand, source rules in order; the rule's suggestion;
 * default team) and SLA deadlines per severity, from a real config file. */
#include "fixture.h"

static const char *const yaml =
    "brands:\n"
    "  - name: Acme\n"
    "    aliases: [acme]\n"
    "  - name: Villanyasz\n"
    "sources:\n"
    "  - name: acme-reviews\n"
    "    url: feeds/a.xml\n"
    "    brand: Acme\n"
    "  - name: forum\n"
    "    url: feeds/f.xml\n"
    "teams:\n"
    "  - name: billing\n"
    "    members: [anna, bela]\n"
    "  - name: logistics\n"
    "  - name: social\n"
    "  - name: vip\n"
    "  - name: frontdesk\n"
    "default_team: frontdesk\n"
    "routing:\n"
    "  - team: vip\n"
    "    brands: [villanyasz]\n"
    "    categories: [legal, safety]\n"
    "  - team: billing\n"
    "    categories: [billing, pricing]\n"
    "  - team: logistics\n"
    "    categories: [delivery]\n"
    "  - team: social\n"
    "    sources: [forum]\n"
    "sla:\n"
    "  critical: 30m\n"
    "  high: 2h\n";

static const char *route(const struct ear_config *cfg, const char *source,
                         const char *brand, const char *team,
                         const char *cat1, const char *cat2)
{
    static char out[64];
    struct ear_mention m = EAR_MENTION_INIT;
    struct ear_verdict v;

    ear_verdict_init(&v);
    m.source = (char *)source;
    if (cat1)
        ear_verdict_add_category(&v, cat1);
    if (cat2)
        ear_verdict_add_category(&v, cat2);
    ear_str_set(&v.brand, brand);
    ear_str_set(&v.team, team);
    snprintf(out, sizeof out, "%s", ear_route_team(cfg, &m, &v));
    ear_verdict_dispose(&v);
    return out;
}

static void test_routes(const struct ear_config *cfg)
{
    /* Category rules. */
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "billing", NULL),
              "billing");
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "pricing", NULL),
              "billing");
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "delivery", NULL),
              "logistics");
    /* The primary category decides before later routes' categories:
     * delivery first, billing second goes to logistics even though the
     * billing route comes first. */
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "delivery", "billing"),
              "logistics");
    /* A secondary category is tried when the primary matches no route. */
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "defect", "billing"),
              "billing");
    /* Brand and category together (brand compares case-insensitively);
     * the same category for another brand does not match that route. */
    CHECK_STR(route(cfg, "acme-reviews", "Villanyasz", NULL, "legal", NULL),
              "vip");
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "legal", NULL),
              "frontdesk");
    /* Source rule. */
    CHECK_STR(route(cfg, "forum", NULL, NULL, "defect", NULL), "social");
    /* An earlier category route beats the source route. */
    CHECK_STR(route(cfg, "forum", NULL, NULL, "billing", NULL), "billing");
    /* No route: the rule's suggestion when the config has that team,
     * then the default team. */
    CHECK_STR(route(cfg, "acme-reviews", "Acme", "logistics", "warranty",
                    NULL), "logistics");
    CHECK_STR(route(cfg, "acme-reviews", "Acme", "warranty-desk", "warranty",
                    NULL), "frontdesk");
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, "warranty", NULL),
              "frontdesk");
    CHECK_STR(route(cfg, "acme-reviews", "Acme", NULL, NULL, NULL),
              "frontdesk");
}

static void test_brand_from_source(const struct ear_config *cfg)
{
    /* Without v->brand, the source's configured brand is used. */
    struct ear_config *c2 = fx_config("route2.yml",
        "brands:\n  - name: Villanyasz\n"
        "sources:\n  - name: vreviews\n    url: feeds/v.xml\n"
        "    brand: Villanyasz\n"
        "routing:\n  - team: vip\n    brands: [Villanyasz]\n");

    CHECK_STR(route(c2, "vreviews", NULL, NULL, "billing", NULL), "vip");
    CHECK_STR(route(c2, "other", NULL, NULL, "billing", NULL), "support");
    ear_config_free(c2);
    (void)cfg;
}

static void test_no_config(void)
{
    /* No config at all: the rule's suggestion or "support". */
    CHECK_STR(route(NULL, "x", NULL, NULL, "billing", NULL), "support");
    CHECK_STR(route(NULL, "x", NULL, "billing", "billing", NULL), "billing");
    CHECK_INT(ear_sla_seconds(NULL, EAR_SEV_CRITICAL), 3600);
    CHECK_INT(ear_sla_seconds(NULL, EAR_SEV_HIGH), 4 * 3600);
    CHECK_INT(ear_sla_seconds(NULL, EAR_SEV_MEDIUM), 24 * 3600);
    CHECK_INT(ear_sla_seconds(NULL, EAR_SEV_LOW), 72 * 3600);
    CHECK_INT(ear_sla_seconds(NULL, EAR_SEV_NONE), 72 * 3600);
}

static void test_sla(const struct ear_config *cfg)
{
    /* Configured values win, the rest keep the defaults. */
    CHECK_INT(ear_sla_seconds(cfg, EAR_SEV_CRITICAL), 30 * 60);
    CHECK_INT(ear_sla_seconds(cfg, EAR_SEV_HIGH), 2 * 3600);
    CHECK_INT(ear_sla_seconds(cfg, EAR_SEV_MEDIUM), 24 * 3600);
    CHECK_INT(ear_sla_seconds(cfg, EAR_SEV_LOW), 72 * 3600);
}

static void test_queue_due(const struct ear_config *cfg)
{
    /* ear_queue_add puts team and due = now + SLA into the row. */
    static const enum ear_severity sev[] = {EAR_SEV_CRITICAL, EAR_SEV_HIGH,
                                            EAR_SEV_MEDIUM, EAR_SEV_LOW};
    static const int64_t want[] = {30 * 60, 2 * 3600, 24 * 3600, 72 * 3600};
    struct ear_store *st = fx_store("route.db");
    struct ear_error err = {0};

    fx_clock(T0);
    for (int i = 0; i < 4; i++) {
        struct fx_mention fm = {0};
        struct ear_queue_item it;
        char key[16];
        int64_t id;

        snprintf(key, sizeof key, "k%d", i);
        fm.source = "acme-reviews";
        fm.key = key;
        fm.text = "the invoice is wrong";
        fm.reach = -1;
        fm.flag = 1;
        fm.severity = sev[i];
        fm.categories[0] = i == 0 ? "delivery" : "billing";
        id = fx_queue(st, cfg, &fm, T0 + i);
        CHECK_INT(ear_queue_get(st, id, T0, &it, NULL, NULL, &err), 0);
        CHECK_INT(it.due, T0 + i + want[i]);
        CHECK_INT(it.created, T0 + i);
        CHECK_STR(it.team, i == 0 ? "logistics" : "billing");
        /* Brand comes from the source when the verdict has none. */
        CHECK_STR(it.brand, "Acme");
        CHECK(it.severity == sev[i]);
        ear_queue_item_dispose(&it);
    }
    ear_store_close(st);
}

int main(void)
{
    struct ear_config *cfg = fx_config("route.yml", yaml);

    test_routes(cfg);
    test_brand_from_source(cfg);
    test_no_config();
    test_sla(cfg);
    test_queue_due(cfg);
    ear_config_free(cfg);
    return check_result();
}
