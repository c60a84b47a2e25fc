/*
 * Routing and first-response deadlines: which team gets a flagged mention,
 * and by when it must be answered.
 *
 * Both are pure functions of the config and the mention/verdict, so the
 * queue can call them inside its transaction and tests can call them alone.
 */
#include <strings.h>

#include "output/output_int.h"

static int list_has(char *const *list, const char *value)
{
    if (!list)
        return 1; /* no list: any value */
    if (!value)
        return 0;
    for (; *list; list++)
        if (strcasecmp(*list, value) == 0)
            return 1;
    return 0;
}

static const struct ear_route *route_find(const struct ear_config *cfg,
                                          const char *category,
                                          const char *brand,
                                          const char *source)
{
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const struct ear_route *r = &cfg->routes[i];

        if (!r->team)
            continue;
        if (list_has(r->categories, category) && list_has(r->brands, brand) &&
            list_has(r->sources, source))
            return r;
    }
    return NULL;
}

static int team_known(const struct ear_config *cfg, const char *team)
{
    size_t i;

    if (!cfg || cfg->nteams == 0)
        return 1;
    for (i = 0; i < cfg->nteams; i++)
        if (strcasecmp(cfg->teams[i].name, team) == 0)
            return 1;
    return 0;
}

const char *ear_route_team(const struct ear_config *cfg,
                           const struct ear_mention *m,
                           const struct ear_verdict *v)
{
    const char *brand = ear_output__brand(cfg, m, v);
    const char *source = m ? m->source : NULL;
    const struct ear_route *r = NULL;

    if (cfg && cfg->nroutes > 0) {
        const char *primary =
            v && v->ncategories > 0 ? v->categories[0] : NULL;

        r = route_find(cfg, primary, brand, source);
        for (size_t i = 1; !r && v && i < v->ncategories; i++)
            r = route_find(cfg, v->categories[i], brand, source);
    }
    if (r)
        return r->team;
    /* The rule's suggestion, when it names a team this config has (or the
     * config names no teams at all): packs are shared between companies,
     * and an item routed to a team nobody belongs to is an item nobody
     * sees. */
    if (v && v->team && v->team[0] && team_known(cfg, v->team))
        return v->team;
    if (cfg && cfg->default_team && cfg->default_team[0])
        return cfg->default_team;
    return "support";
}

int64_t ear_sla_seconds(const struct ear_config *cfg, enum ear_severity sev)
{
    static const int64_t defaults[5] = {
        72 * 3600, /* none: as low */
        72 * 3600, /* low */
        24 * 3600, /* medium */
        4 * 3600,  /* high */
        1 * 3600   /* critical */
    };
    int i = (int)sev;

    if (i < 0 || i > 4)
        i = 0;
    if (cfg) {
        if (cfg->sla[i] > 0)
            return cfg->sla[i];
        if (i == 0 && cfg->sla[EAR_SEV_LOW] > 0)
            return cfg->sla[EAR_SEV_LOW];
    }
    return defaults[i];
}
