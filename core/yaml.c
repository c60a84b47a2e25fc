/*
 * YAML documents as plain trees with positions.
 *
 * libyaml's document API does the parsing; this file copies its nodes into
 * struct ear_ynode so that config and rule loaders can walk maps and
 * sequences and report path:line:col for every value. Aliases are followed
 * once per reference, with a depth and node budget so that a "billion
 * laughs" document fails cleanly instead of exhausting memory.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "core/core.h"

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 1000000
#define YAML_MAX_BYTES ((size_t)16 << 20)

struct conv {
    yaml_document_t *doc;
    size_t budget;
};

static void ynode_free(struct ear_ynode *n)
{
    size_t i;

    if (!n)
        return;
    for (i = 0; i < n->n; i++) {
        ynode_free(n->items[i]);
        if (n->keys)
            ynode_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->value);
    free(n);
}

static struct ear_ynode *convert(struct conv *c, yaml_node_t *yn, int depth)
{
    struct ear_ynode *n;
    size_t i, count;

    if (!yn || depth > YAML_MAX_DEPTH || c->budget == 0)
        return NULL;
    c->budget--;
    n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->line = (int)yn->start_mark.line + 1;
    n->col = (int)yn->start_mark.column + 1;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n->type = EAR_Y_SCALAR;
        n->quoted = yn->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    yn->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    yn->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    yn->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        n->value = strndup((const char *)yn->data.scalar.value,
                           yn->data.scalar.length);
        if (!n->value)
            goto fail;
        return n;
    case YAML_SEQUENCE_NODE:
        n->type = EAR_Y_SEQ;
        count = (size_t)(yn->data.sequence.items.top -
                         yn->data.sequence.items.start);
        n->items = calloc(count ? count : 1, sizeof *n->items);
        if (!n->items)
            goto fail;
        for (i = 0; i < count; i++) {
            yaml_node_t *child = yaml_document_get_node(
                c->doc, yn->data.sequence.items.start[i]);
            n->items[i] = convert(c, child, depth + 1);
            if (!n->items[i])
                goto fail;
            n->n = i + 1;
        }
        return n;
    case YAML_MAPPING_NODE:
        n->type = EAR_Y_MAP;
        count = (size_t)(yn->data.mapping.pairs.top -
                         yn->data.mapping.pairs.start);
        n->items = calloc(count ? count : 1, sizeof *n->items);
        n->keys = calloc(count ? count : 1, sizeof *n->keys);
        if (!n->items || !n->keys)
            goto fail;
        for (i = 0; i < count; i++) {
            yaml_node_pair_t *pair = &yn->data.mapping.pairs.start[i];
            n->keys[i] = convert(c, yaml_document_get_node(c->doc, pair->key),
                                 depth + 1);
            n->items[i] = convert(
                c, yaml_document_get_node(c->doc, pair->value), depth + 1);
            n->n = i + 1;
            if (!n->keys[i] || !n->items[i])
                goto fail;
        }
        return n;
    default:
        break;
    }
fail:
    ynode_free(n);
    return NULL;
}

int ear_yaml_parse(struct ear_yaml **out, const char *name, const char *text,
                   size_t len, struct ear_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ear_yaml *y = NULL;
    struct conv c;
    yaml_node_t *root;
    int rc = 0;

    *out = NULL;
    if (!ear_utf8_valid(text, len))
        return ear_error_set(err, EAR_EPARSE, name, 0, 0,
                             "not valid UTF-8");
    if (!yaml_parser_initialize(&parser))
        return ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *mark = parser.problem ? &parser.problem_mark
                                                 : &parser.context_mark;
        rc = ear_error_set(err, EAR_EPARSE, name, (int)mark->line + 1,
                           (int)mark->column + 1, "%s%s%s",
                           parser.problem ? parser.problem : "invalid YAML",
                           parser.context ? " " : "",
                           parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    y = calloc(1, sizeof *y);
    if (!y || !(y->path = strdup(name))) {
        rc = ear_error_set(err, EAR_ENOMEM, name, 0, 0, "out of memory");
        goto out;
    }
    root = yaml_document_get_root_node(&doc);
    if (root) {
        c.doc = &doc;
        c.budget = YAML_MAX_NODES;
        y->root = convert(&c, root, 0);
        if (!y->root) {
            rc = ear_error_set(err, EAR_ETOOBIG, name, 0, 0,
                               "document too deep or too large (aliases?)");
            goto out;
        }
    }
    *out = y;
    y = NULL;
out:
    ear_yaml_free(y);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int ear_yaml_load(struct ear_yaml **out, const char *path,
                  struct ear_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = ear_file_read(&text, &len, path, YAML_MAX_BYTES, err);
    if (rc < 0)
        return rc;
    rc = ear_yaml_parse(out, path, text, len, err);
    free(text);
    return rc;
}

void ear_yaml_free(struct ear_yaml *doc)
{
    if (!doc)
        return;
    ynode_free(doc->root);
    free(doc->path);
    free(doc);
}

/* ${VAR} from the environment; $$ stays a literal $. An unset variable is
 * an error at the scalar's position: a secret that silently became "" is
 * worse than a refusal to start. */
static int expand_scalar(struct ear_ynode *n, const char *path,
                         struct ear_error *err)
{
    struct ear_buf b;
    const char *p = n->value, *close, *val;
    char name[128];
    int rc;

    if (!strchr(p, '$'))
        return 0;
    ear_buf_init(&b, 1 << 20);
    while (*p) {
        if (p[0] == '$' && p[1] == '$') {
            rc = ear_buf_addc(&b, '$');
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            close = strchr(p + 2, '}');
            if (!close || (size_t)(close - p - 2) >= sizeof name ||
                close == p + 2) {
                ear_buf_dispose(&b);
                return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                                     "malformed ${VAR} reference");
            }
            memcpy(name, p + 2, (size_t)(close - p - 2));
            name[close - p - 2] = '\0';
            val = getenv(name);
            if (!val) {
                ear_buf_dispose(&b);
                return ear_error_set(err, EAR_EINVAL, path, n->line, n->col,
                                     "environment variable %s is not set",
                                     name);
            }
            rc = ear_buf_adds(&b, val);
            p = close + 1;
        } else {
            rc = ear_buf_addc(&b, *p++);
        }
        if (rc < 0)
            return ear_error_set(err, rc, path, n->line, n->col,
                                 "value too long");
    }
    free(n->value);
    n->value = ear_buf_take(&b, NULL);
    n->quoted = 1; /* an expanded value is a string, never a number */
    return n->value ? 0 : EAR_ENOMEM;
}

static int expand_node(struct ear_ynode *n, const char *path,
                       struct ear_error *err)
{
    size_t i;
    int rc;

    if (!n)
        return 0;
    if (n->type == EAR_Y_SCALAR)
        return expand_scalar(n, path, err);
    for (i = 0; i < n->n; i++) {
        rc = expand_node(n->items[i], path, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int ear_yaml_expand_env(struct ear_yaml *doc, struct ear_error *err)
{
    return expand_node(doc->root, doc->path, err);
}

/* ------------------------------------------------------------------ access */

const struct ear_ynode *ear_ynode_get(const struct ear_ynode *map,
                                      const char *key)
{
    size_t i;

    if (!map || map->type != EAR_Y_MAP)
        return NULL;
    for (i = 0; i < map->n; i++)
        if (map->keys[i]->type == EAR_Y_SCALAR &&
            strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

int ear_ynode_check_keys(const struct ear_ynode *map,
                         const char *const known[], const char *path,
                         struct ear_error *err)
{
    size_t i, j, k, best_d, d;
    const char *key, *best;

    if (!map || map->type != EAR_Y_MAP)
        return 0;
    for (i = 0; i < map->n; i++) {
        key = map->keys[i]->type == EAR_Y_SCALAR ? map->keys[i]->value : "";
        for (k = 0; known[k]; k++)
            if (strcmp(known[k], key) == 0)
                break;
        if (known[k]) {
            for (j = 0; j < i; j++)
                if (map->keys[j]->type == EAR_Y_SCALAR &&
                    strcmp(map->keys[j]->value, key) == 0)
                    return ear_error_set(err, EAR_EINVAL, path,
                                         map->keys[i]->line,
                                         map->keys[i]->col,
                                         "duplicate key '%s'", key);
            continue;
        }
        best = NULL;
        best_d = (size_t)-1;
        for (k = 0; known[k]; k++) {
            d = ear_levenshtein(key, known[k]);
            if (d < best_d) {
                best_d = d;
                best = known[k];
            }
        }
        if (best && best_d <= 1 + strlen(key) / 3)
            return ear_error_set(err, EAR_EINVAL, path, map->keys[i]->line,
                                 map->keys[i]->col,
                                 "unknown key '%s' (did you mean '%s'?)", key,
                                 best);
        return ear_error_set(err, EAR_EINVAL, path, map->keys[i]->line,
                             map->keys[i]->col, "unknown key '%s'", key);
    }
    return 0;
}

static int want_scalar(const struct ear_ynode *node, const char *path,
                       const char *what, struct ear_error *err)
{
    if (node->type != EAR_Y_SCALAR)
        return ear_error_set(err, EAR_EINVAL, path, node->line, node->col,
                             "%s must be a single value, not a %s", what,
                             node->type == EAR_Y_MAP ? "map" : "list");
    return 0;
}

int ear_ynode_str(const char **out, const struct ear_ynode *node,
                  const char *path, const char *what, struct ear_error *err)
{
    int rc;

    if (!node)
        return 0;
    rc = want_scalar(node, path, what, err);
    if (rc < 0)
        return rc;
    *out = node->value;
    return 0;
}

int ear_ynode_int(long long *out, const struct ear_ynode *node, long long min,
                  long long max, const char *path, const char *what,
                  struct ear_error *err)
{
    char *end;
    long long v;
    int rc;

    if (!node)
        return 0;
    rc = want_scalar(node, path, what, err);
    if (rc < 0)
        return rc;
    errno = 0;
    v = strtoll(node->value, &end, 10);
    if (errno || end == node->value || *end)
        return ear_error_set(err, EAR_EINVAL, path, node->line, node->col,
                             "%s must be a whole number, not '%s'", what,
                             node->value);
    if (v < min || v > max)
        return ear_error_set(err, EAR_EINVAL, path, node->line, node->col,
                             "%s must be between %lld and %lld", what, min,
                             max);
    *out = v;
    return 0;
}

int ear_ynode_bool(int *out, const struct ear_ynode *node, const char *path,
                   const char *what, struct ear_error *err)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    int rc, i;

    if (!node)
        return 0;
    rc = want_scalar(node, path, what, err);
    if (rc < 0)
        return rc;
    for (i = 0; yes[i]; i++)
        if (strcasecmp(node->value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
    for (i = 0; no[i]; i++)
        if (strcasecmp(node->value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    return ear_error_set(err, EAR_EINVAL, path, node->line, node->col,
                         "%s must be true or false, not '%s'", what,
                         node->value);
}

int ear_ynode_duration(int64_t *out, const struct ear_ynode *node,
                       const char *path, const char *what,
                       struct ear_error *err)
{
    int rc;

    if (!node)
        return 0;
    rc = want_scalar(node, path, what, err);
    if (rc < 0)
        return rc;
    if (ear_duration_parse(out, node->value) < 0)
        return ear_error_set(err, EAR_EINVAL, path, node->line, node->col,
                             "%s: '%s' is not a duration (like 90s, 15m, "
                             "4h, 7d)",
                             what, node->value);
    return 0;
}

int ear_ynode_strlist(const char ***out, size_t *n,
                      const struct ear_ynode *node, const char *path,
                      const char *what, struct ear_error *err)
{
    const char **list;
    size_t i, count;

    if (!node)
        return 0;
    if (node->type == EAR_Y_MAP)
        return ear_error_set(err, EAR_EINVAL, path, node->line, node->col,
                             "%s must be a value or a list of values", what);
    count = node->type == EAR_Y_SEQ ? node->n : 1;
    list = calloc(count + 1, sizeof *list);
    if (!list)
        return EAR_ENOMEM;
    if (node->type == EAR_Y_SCALAR) {
        list[0] = node->value;
    } else {
        for (i = 0; i < count; i++) {
            if (node->items[i]->type != EAR_Y_SCALAR) {
                free(list);
                return ear_error_set(err, EAR_EINVAL, path,
                                     node->items[i]->line,
                                     node->items[i]->col,
                                     "%s: each item must be a single value",
                                     what);
            }
            list[i] = node->items[i]->value;
        }
    }
    *out = list;
    if (n)
        *n = count;
    return 0;
}
