/*
 * Feedback from triage to the rules: for each rule, how often it matched,
 * how often its mentions were queued, and how the team judged them
 * (answered or resolved = a real complaint; dismissed as not a complaint =
 * a false alarm). `earshot rules stats` prints this so noisy rules are
 * found and fixed.
 *
 * One query: the verdicts' matches (a JSON array written by core) are
 * expanded with json_each, made distinct per mention and rule, joined to
 * the queue and counted.
 */
#include <stdlib.h>
#include <string.h>

#include "output/output_int.h"

void ear_rule_feedback_free(struct ear_rule_feedback *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].rule);
    free(v);
}

int ear_rule_feedback(struct ear_store *st, int64_t since,
                      struct ear_rule_feedback **out, size_t *n,
                      struct ear_error *err)
{
    sqlite3_stmt *q = NULL;
    struct ear_rule_feedback *v = NULL;
    size_t nv = 0;
    size_t cap = 0;
    int rc = 0;
    int step;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ear_store_db(st),
            "SELECT rule, count(*), sum(flag = 1), sum(qid IS NOT NULL),"
            " sum(state IN ('responded','resolved')),"
            " sum(state = 'dismissed'),"
            " sum(state = 'dismissed' AND reason = 'not-a-complaint')"
            " FROM (SELECT DISTINCT v.mention_id AS mid,"
            "  json_extract(j.value, '$.rule') AS rule, v.flag AS flag,"
            "  q.id AS qid, q.state AS state, q.dismiss_reason AS reason"
            "  FROM verdicts v JOIN json_each(v.matches) j"
            "  LEFT JOIN queue q ON q.mention_id = v.mention_id"
            "  WHERE v.analyzed_at >= ?1)"
            " WHERE rule IS NOT NULL GROUP BY rule"
            " ORDER BY 7 DESC, 2 DESC, rule", -1, &q, NULL) != SQLITE_OK)
        return ear_store_error(st, err, "rule feedback");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)since);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ear_rule_feedback *nvv = ear_grow(v, &cap, nv, sizeof *v, 32);
        struct ear_rule_feedback *f;
        int oom = 0;

        if (!nvv) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
        v = nvv;
        f = &v[nv++];
        memset(f, 0, sizeof *f);
        f->rule = ear_output__col_str(q, 0, &oom);
        if (oom) {
            rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
        f->hits = (int64_t)sqlite3_column_int64(q, 1);
        f->flagged = (int64_t)sqlite3_column_int64(q, 2);
        f->queued = (int64_t)sqlite3_column_int64(q, 3);
        f->confirmed = (int64_t)sqlite3_column_int64(q, 4);
        f->dismissed = (int64_t)sqlite3_column_int64(q, 5);
        f->not_a_complaint = (int64_t)sqlite3_column_int64(q, 6);
        f->precision = f->confirmed + f->not_a_complaint > 0
            ? (double)f->confirmed /
              (double)(f->confirmed + f->not_a_complaint)
            : -1.0;
    }
    if (step != SQLITE_DONE) {
        rc = ear_store_error(st, err, "rule feedback");
        goto out;
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    sqlite3_finalize(q);
    ear_rule_feedback_free(v, nv);
    return rc;
}
