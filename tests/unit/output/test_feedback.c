/* Rule feedback: hits, queued, confirmed and dismissed per rule, and the
 * precision the team's judgements give. */
#include "fixture.h"

static const struct ear_rule_feedback *find(const struct ear_rule_feedback *v,
                                            size_t n, const char *rule)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].rule && strcmp(v[i].rule, rule) == 0)
            return &v[i];
    return NULL;
}

static struct fx_mention mk(const char *key, const char *rule, int flag)
{
    struct fx_mention fm = {0};

    fm.source = "shop";
    fm.key = key;
    fm.text = "double charged again";
    fm.reach = -1;
    fm.flag = flag;
    fm.severity = flag ? EAR_SEV_MEDIUM : EAR_SEV_NONE;
    fm.categories[0] = flag ? "billing" : NULL;
    fm.rule = rule;
    return fm;
}

int main(void)
{
    struct ear_store *st = fx_store("feedback.db");
    struct ear_rule_feedback *v = NULL;
    const struct ear_rule_feedback *f;
    struct ear_error err = {0};
    struct fx_mention fm;
    struct ear_mention m;
    struct ear_verdict vd;
    size_t n = 0;
    int64_t a, b, c, d;

    fx_clock(T0);
    fm = mk("a", "r.good", 1);
    a = fx_queue(st, NULL, &fm, T0);
    fm = mk("b", "r.good", 1);
    b = fx_queue(st, NULL, &fm, T0);
    fm = mk("c", "r.noisy", 1);
    c = fx_queue(st, NULL, &fm, T0);
    fm = mk("d", "r.noisy", 1);
    d = fx_queue(st, NULL, &fm, T0);
    fm = mk("e", "r.noisy", 0); /* matched, not flagged, not queued */
    fx_put(st, &fm, &m, &vd);
    ear_mention_dispose(&m);
    ear_verdict_dispose(&vd);

    CHECK_INT(ear_queue_resolve(st, a, "x", NULL, T0, &err), 0);
    CHECK_INT(ear_queue_respond(st, b, "x", NULL, T0, &err), 0);
    CHECK_INT(ear_queue_dismiss(st, c, "not-a-complaint", "x", NULL, T0,
                                &err), 0);
    CHECK_INT(ear_queue_dismiss(st, d, "spam", "x", NULL, T0, &err), 0);

    CHECK_INT(ear_rule_feedback(st, 0, &v, &n, &err), 0);
    CHECK_INT(n, 2);
    CHECK(n > 0 && strcmp(v[0].rule, "r.noisy") == 0); /* most false alarms */
    f = find(v, n, "r.noisy");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->hits, 3);
        CHECK_INT(f->flagged, 2);
        CHECK_INT(f->queued, 2);
        CHECK_INT(f->confirmed, 0);
        CHECK_INT(f->dismissed, 2);
        CHECK_INT(f->not_a_complaint, 1);
        CHECK(f->precision == 0.0);
    }
    f = find(v, n, "r.good");
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(f->hits, 2);
        CHECK_INT(f->confirmed, 2);
        CHECK_INT(f->not_a_complaint, 0);
        CHECK(f->precision == 1.0);
    }
    ear_rule_feedback_free(v, n);

    /* Verdicts before since are left out. */
    CHECK_INT(ear_rule_feedback(st, T0 + 1, &v, &n, &err), 0);
    CHECK_INT(n, 0);
    ear_rule_feedback_free(v, n);
    ear_store_close(st);
    return check_result();
}
