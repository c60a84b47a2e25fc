/*
 * Error detail and the bounded buffer: the two helpers every module uses.
 * struct ear_error is caller-owned (jansson's json_error_t); struct ear_buf
 * is curl's dynbuf: always NUL-terminated, never larger than its max, and
 * freed by a failing add so the caller only returns.
 */
#include <stdlib.h>
#include <string.h>
#include "core/core.h"

int ear_error_set(struct ear_error *err, int code, const char *source,
                  int line, int col, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    err->line = line;
    err->col = col;
    if (source)
        snprintf(err->source, sizeof err->source, "%s", source);
    else
        err->source[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
    return code;
}

void ear_error_clear(struct ear_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *ear_error_format(const struct ear_error *err, char *buf,
                             size_t size)
{
    const char *text;

    if (!err) {
        snprintf(buf, size, "unknown error");
        return buf;
    }
    text = err->text[0] ? err->text : ear_strerror(err->code);
    if (err->source[0] && err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", err->source, err->line, err->col,
                 text);
    else if (err->source[0] && err->line > 0)
        snprintf(buf, size, "%s:%d: %s", err->source, err->line, text);
    else if (err->source[0])
        snprintf(buf, size, "%s: %s", err->source, text);
    else
        snprintf(buf, size, "%s", text);
    return buf;
}

const char *ear_strerror(int code)
{
    switch (code) {
    case EAR_OK: return "success";
    case EAR_ENOMEM: return "out of memory";
    case EAR_EIO: return "input/output error";
    case EAR_EHTTP: return "transfer failed";
    case EAR_EPARSE: return "parse error";
    case EAR_ETOOBIG: return "too large";
    case EAR_EDB: return "store error";
    case EAR_ENOTFOUND: return "not found";
    case EAR_EINVAL: return "invalid value";
    case EAR_EBUSY: return "store is locked by another process";
    case EAR_ESTATE: return "not allowed in this state";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------------ buf */

void ear_buf_init(struct ear_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : EAR_BUF_MAX_DEFAULT;
}

static int buf_grow(struct ear_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > b->max || b->len > b->max - extra) {
        ear_buf_dispose(b);
        return EAR_ETOOBIG;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = realloc(b->ptr, cap);
    if (!p) {
        ear_buf_dispose(b);
        return EAR_ENOMEM;
    }
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int ear_buf_addn(struct ear_buf *b, const void *p, size_t n)
{
    int rc = buf_grow(b, n);

    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int ear_buf_adds(struct ear_buf *b, const char *s)
{
    return ear_buf_addn(b, s, strlen(s));
}

int ear_buf_addc(struct ear_buf *b, char c)
{
    return ear_buf_addn(b, &c, 1);
}

int ear_buf_vaddf(struct ear_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        ear_buf_dispose(b);
        return EAR_EINVAL;
    }
    rc = buf_grow(b, (size_t)n);
    if (rc < 0)
        return rc;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int ear_buf_addf(struct ear_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ear_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *ear_buf_str(const struct ear_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *ear_buf_take(struct ear_buf *b, size_t *len)
{
    char *p = b->ptr;

    if (len)
        *len = b->len;
    if (!p)
        p = calloc(1, 1);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void ear_buf_reset(struct ear_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void ear_buf_dispose(struct ear_buf *b)
{
    ear_buf_reset(b);
}
