/*
 * Plain text from HTML, XHTML and plain strings.
 *
 * Every text field of a mention passes through struct ear_text, which
 * normalises whitespace while appending: a run of blanks becomes one space,
 * a line break is written only between two pieces of text. HTML becomes
 * text by one set of rules (block elements become line breaks, script/style
 * and friends are dropped, <pre> keeps its line breaks), applied by
 * ear_text__node() to a tree, by the SAX walk to parser events (libxml2's
 * HTML parser, Atom's inline XHTML in the SAX feed reader), and by
 * html_fast() to simple markup it reads itself, giving up to the parser
 * wherever libxml2 would read the markup its own way.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parserInternals.h>

#include "fetcher/fetcher_int.h"

#define TEXT_MAX ((size_t)4 << 20) /* longer text is cut, not refused */
#define WALK_DEPTH_MAX 512

void ear_text__init(struct ear_text *t, size_t max)
{
    ear_buf_init(&t->buf, max ? max : TEXT_MAX);
    t->pending_space = 0;
    t->pending_break = 0;
    t->rc = 0;
}

static void text_put(struct ear_text *t, const char *s, size_t n)
{
    size_t room;

    if (t->rc < 0 || n == 0)
        return;
    if (t->buf.len > 0) {
        const char *sep = t->pending_break ? "\n" : " ";

        if ((t->pending_break || t->pending_space)
            && t->buf.len < t->buf.max) {
            t->rc = ear_buf_addn(&t->buf, sep, 1);
            if (t->rc < 0)
                return;
        }
    }
    t->pending_break = 0;
    t->pending_space = 0;
    room = t->buf.max - t->buf.len;
    if (n > room) {
        /* Cut at a character boundary; the rest of the text is lost. */
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        t->rc = ear_buf_addn(&t->buf, s, n);
}

/* The bytes that end a run of word characters in ear_text__add(). */
static const unsigned char word_end[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\f'] = 1, ['\v'] = 1, ['\n'] = 1,
    [0xC2] = 1, [0] = 1};

void ear_text__add(struct ear_text *t, const char *s, size_t len,
                   int newlines)
{
    size_t i = 0, start;

    while (i < len && t->rc == 0) {
        unsigned char c = (unsigned char)s[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            t->pending_space = 1;
            i++;
            continue;
        }
        if (c == '\n') {
            if (newlines)
                t->pending_break = 1;
            else
                t->pending_space = 1;
            i++;
            continue;
        }
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0) {
            t->pending_space = 1; /* no-break space */
            i += 2;
            continue;
        }
        start = i;
        while (i < len && !word_end[(unsigned char)s[i]])
            i++;
        if (i < len)
            c = (unsigned char)s[i];
        if (i == start) {
            /* 0xC2 not followed by 0xA0, or a NUL byte */
            if (c == '\0') {
                i++;
                continue;
            }
            i++;
        }
        text_put(t, s + start, i - start);
    }
}

void ear_text__break(struct ear_text *t)
{
    t->pending_break = 1;
}

char *ear_text__take(struct ear_text *t, int *rc)
{
    char *s;

    if (t->rc < 0) {
        *rc = t->rc;
        ear_buf_dispose(&t->buf);
        return NULL;
    }
    s = ear_buf_take(&t->buf, NULL);
    if (!s)
        *rc = EAR_ENOMEM;
    ear_buf_dispose(&t->buf);
    return s;
}

/* ------------------------------------------------------------ the walk */

/* Sorted: looked up with bsearch. */
static const char *const block_tags[] = {
    "address", "article", "aside", "blockquote", "body", "br", "caption",
    "center", "dd", "details", "dialog", "dir", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "legend", "li", "main",
    "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "tfoot", "thead", "tr", "ul"
};

static const char *const dropped_tags[] = {
    "applet", "audio", "button", "canvas", "embed", "head", "iframe",
    "map", "math", "noscript", "object", "script", "select", "style",
    "svg", "template", "textarea", "title", "video"
};

static int cmp_tag(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static int tag_in(const xmlChar *name, const char *const *set, size_t n)
{
    char low[16];
    size_t i;

    for (i = 0; name[i]; i++) {
        if (i + 1 >= sizeof(low))
            return 0;
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32
                                                         : name[i]);
    }
    low[i] = '\0';
    return bsearch(low, set, n, sizeof(*set), cmp_tag) != NULL;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void walk(struct ear_text *t, const xmlNode *node, int depth,
                 int pre)
{
    const xmlNode *c;

    if (depth > WALK_DEPTH_MAX)
        return;
    for (c = node->children; c && t->rc == 0; c = c->next) {
        switch (c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (c->content)
                ear_text__add(t, (const char *)c->content,
                              strlen((const char *)c->content), pre);
            break;
        case XML_ELEMENT_NODE: {
            int block, sub_pre;

            if (tag_in(c->name, dropped_tags, NELEM(dropped_tags)))
                break;
            block = tag_in(c->name, block_tags, NELEM(block_tags));
            sub_pre = pre || xmlStrcasecmp(c->name, BAD_CAST "pre") == 0;
            if (block)
                ear_text__break(t);
            else if (xmlStrcasecmp(c->name, BAD_CAST "td") == 0
                     || xmlStrcasecmp(c->name, BAD_CAST "th") == 0)
                t->pending_space = 1;
            walk(t, c, depth + 1, sub_pre);
            if (block)
                ear_text__break(t);
            break;
        }
        case XML_ENTITY_REF_NODE:
            /* An entity libxml2 could not expand (no DTD): its children
             * hold the replacement when it is known. */
            walk(t, c, depth + 1, pre);
            break;
        default:
            break;
        }
    }
}

void ear_text__node(struct ear_text *t, const xmlNode *node)
{
    walk(t, node, 0, 0);
}

/* ------------------------------------------------------------ HTML */

void ear_html__init(struct ear_html *h)
{
    h->ctxt = NULL;
}

void ear_html__dispose(struct ear_html *h)
{
    if (h->ctxt)
        htmlFreeParserCtxt(h->ctxt);
    h->ctxt = NULL;
}

static int needs_html(const char *s, size_t len)
{
    return memchr(s, '<', len) != NULL || memchr(s, '&', len) != NULL;
}

/* ------------------------------------------------------------ the SAX walk */

/* The same rules as walk(), fed by parser events instead of a tree:
 * block elements break lines, dropped elements are skipped whole, <pre>
 * keeps its line breaks. Used for HTML read by libxml2's HTML parser in
 * SAX mode and for Atom's inline XHTML read by the SAX feed parser. */
void ear_text__sax_init(struct ear_textsax *w, struct ear_text *t)
{
    w->t = t;
    w->skip = 0;
    w->pre = 0;
}

void ear_text__sax_start(struct ear_textsax *w, const xmlChar *name)
{
    if (w->skip) {
        w->skip++;
        return;
    }
    if (tag_in(name, dropped_tags, NELEM(dropped_tags))) {
        w->skip = 1;
        return;
    }
    if (w->pre)
        w->pre++;
    else if (xmlStrcasecmp(name, BAD_CAST "pre") == 0)
        w->pre = 1;
    if (tag_in(name, block_tags, NELEM(block_tags)))
        ear_text__break(w->t);
    else if (xmlStrcasecmp(name, BAD_CAST "td") == 0
             || xmlStrcasecmp(name, BAD_CAST "th") == 0)
        w->t->pending_space = 1;
}

void ear_text__sax_end(struct ear_textsax *w, const xmlChar *name)
{
    if (w->skip) {
        w->skip--;
        return;
    }
    if (w->pre)
        w->pre--;
    if (tag_in(name, block_tags, NELEM(block_tags)))
        ear_text__break(w->t);
}

void ear_text__sax_chars(struct ear_textsax *w, const char *s, size_t len)
{
    if (!w->skip && len > 0)
        ear_text__add(w->t, s, len, w->pre > 0);
}

/* The HTML fragment is read by libxml2's HTML parser in SAX mode: no tree
 * is built, the callbacks below feed the walk above. */
static struct ear_textsax *sax_of(void *ctx)
{
    return ((htmlParserCtxtPtr)ctx)->_private;
}

static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    (void)atts;
    ear_text__sax_start(sax_of(ctx), name);
}

static void sax_end(void *ctx, const xmlChar *name)
{
    ear_text__sax_end(sax_of(ctx), name);
}

static void sax_chars(void *ctx, const xmlChar *ch, int len)
{
    if (len > 0)
        ear_text__sax_chars(sax_of(ctx), (const char *)ch, (size_t)len);
}

/* ------------------------------------------------------------ fast HTML */

/* Most descriptions are simple HTML: a few inline and block elements,
 * properly nested, and entity references. For those the text is what
 * libxml2's HTML parser and the walk make of them, without the parser:
 * inline elements change nothing, blocks and void elements break lines,
 * references become their characters. Anything else (tables, <pre>,
 * dropped elements, comments, document structure, tags libxml2 does not
 * know, mismatched nesting, references it would read its own way, bytes
 * it would complain about) makes html_fast() give up, and the fragment
 * goes to libxml2. Sorted by name. */
enum fast_kind { FK_INLINE, FK_VOID, FK_BLOCK, FK_CELL, FK_RAW };

static const struct fast_tag {
    const char *name;
    enum fast_kind kind;
} fast_tags[] = {
    {"a", FK_INLINE},       {"abbr", FK_INLINE},   {"acronym", FK_INLINE},
    {"address", FK_BLOCK},  {"b", FK_INLINE},      {"big", FK_INLINE},
    {"blockquote", FK_BLOCK}, {"br", FK_VOID},     {"caption", FK_BLOCK},
    {"center", FK_BLOCK},   {"cite", FK_INLINE},   {"code", FK_INLINE},
    {"dd", FK_BLOCK},       {"del", FK_INLINE},    {"dfn", FK_INLINE},
    {"div", FK_BLOCK},      {"dl", FK_BLOCK},      {"dt", FK_BLOCK},
    {"em", FK_INLINE},      {"font", FK_INLINE},   {"h1", FK_BLOCK},
    {"h2", FK_BLOCK},       {"h3", FK_BLOCK},      {"h4", FK_BLOCK},
    {"h5", FK_BLOCK},       {"h6", FK_BLOCK},      {"hr", FK_VOID},
    {"i", FK_INLINE},       {"img", FK_VOID},      {"ins", FK_INLINE},
    {"kbd", FK_INLINE},     {"li", FK_BLOCK},      {"ol", FK_BLOCK},
    {"p", FK_BLOCK},        {"q", FK_INLINE},      {"s", FK_INLINE},
    {"samp", FK_INLINE},    {"script", FK_RAW},    {"small", FK_INLINE},
    {"span", FK_INLINE},    {"strike", FK_INLINE}, {"strong", FK_INLINE},
    {"style", FK_RAW},      {"sub", FK_INLINE},    {"sup", FK_INLINE},
    {"table", FK_BLOCK},    {"tbody", FK_BLOCK},   {"td", FK_CELL},
    {"tfoot", FK_BLOCK},    {"th", FK_CELL},       {"thead", FK_BLOCK},
    {"tr", FK_BLOCK},       {"tt", FK_INLINE},     {"u", FK_INLINE},
    {"ul", FK_BLOCK},       {"var", FK_INLINE}};

#define FAST_DEPTH 64

struct fast_elem {
    char name[16];           /* lowercased, as libxml2 names it */
    enum fast_kind kind;
    int block;               /* breaks lines (block_tags) */
};

static int cmp_fast(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const struct fast_tag *)elem)->name);
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_hblank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A tag name at s (ASCII letters and digits): one of the set above, or
 * one libxml2 does not know (HTML5's section, figure: it keeps them as
 * plain elements) unless its text is dropped. 0 and *used, or -1. */
static int fast_name(struct fast_elem *fe, const char *s, size_t len,
                     size_t *used)
{
    const struct fast_tag *ft;
    size_t n = 0;
    int known;

    while (n < len && (is_alpha((unsigned char)s[n])
                       || is_digit((unsigned char)s[n]))) {
        if (n + 1 >= sizeof(fe->name))
            return -1;
        fe->name[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] + 32 : s[n]);
        n++;
    }
    if (n == 0 || !is_alpha((unsigned char)s[0]))
        return -1;
    if (n < len && (s[n] == '-' || s[n] == '_' || s[n] == ':'
                    || s[n] == '.'))
        return -1; /* a longer name than ours */
    fe->name[n] = '\0';
    *used = n;
    ft = bsearch(fe->name, fast_tags, NELEM(fast_tags), sizeof(*ft),
                 cmp_fast);
    if (ft) {
        /* all of HTML 4, which libxml2 knows (htmlTagLookup() is a
         * linear search: not asked again) */
        fe->kind = ft->kind;
        fe->block = ft->kind == FK_BLOCK
                    || (ft->kind == FK_VOID && fe->name[0] != 'i');
        return 0;
    }
    known = htmlTagLookup(BAD_CAST fe->name) != NULL;
    if (known || tag_in(BAD_CAST fe->name, dropped_tags,
                        NELEM(dropped_tags)))
        return -1;
    fe->kind = FK_INLINE;
    fe->block = tag_in(BAD_CAST fe->name, block_tags, NELEM(block_tags));
    return 0;
}

/* The attributes of a start tag up to its end, as htmlParseStartTag()
 * reads them. *self_close for "/>". Returns the bytes used, 0 to give
 * up. */
static size_t fast_attrs(const char *s, size_t len, int *self_close)
{
    size_t i = 0;

    *self_close = 0;
    for (;;) {
        while (i < len && is_hblank((unsigned char)s[i]))
            i++;
        if (i >= len)
            return 0;
        if (s[i] == '>')
            return i + 1;
        if (s[i] == '/' && i + 1 < len && s[i + 1] == '>') {
            *self_close = 1;
            return i + 2;
        }
        if (!is_alpha((unsigned char)s[i]))
            return 0;
        {
            size_t start = i;

            while (i < len && (is_alpha((unsigned char)s[i])
                               || is_digit((unsigned char)s[i])
                               || s[i] == '-' || s[i] == '_'
                               || s[i] == ':' || s[i] == '.'))
                i++;
            if (i - start >= 100)
                return 0;
        }
        while (i < len && is_hblank((unsigned char)s[i]))
            i++;
        if (i < len && s[i] == '=') {
            i++;
            while (i < len && is_hblank((unsigned char)s[i]))
                i++;
            if (i >= len)
                return 0;
            if (s[i] == '"' || s[i] == '\'') {
                const char *q = memchr(s + i + 1, s[i], len - i - 1);

                if (!q)
                    return 0;
                i = (size_t)(q - s) + 1;
            } else {
                size_t start = i;

                while (i < len && !is_hblank((unsigned char)s[i])
                       && s[i] != '>' && s[i] != '<' && s[i] != '&'
                       && s[i] != '"' && s[i] != '\'')
                    i++;
                if (i == start || (s[i - 1] == '/' && i < len
                                   && s[i] == '>'))
                    return 0;
            }
        }
    }
}

static size_t utf8_put(char *out, unsigned int c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* A reference at s ('&'): its characters into out (4 bytes at most).
 * Returns the bytes used, 0 to give up. */
static size_t fast_ref(const char *s, size_t len, char *out, size_t *n)
{
    size_t i = 1;
    unsigned int v = 0;

    if (len < 2 || is_hblank((unsigned char)s[1])) {
        out[0] = '&'; /* a bare ampersand stays */
        *n = 1;
        return 1;
    }
    if (s[1] == '#') {
        int hex = len > 2 && (s[2] == 'x' || s[2] == 'X');
        size_t start;

        i = hex ? 3 : 2;
        start = i;
        while (i < len && i - start < 8
               && (is_digit((unsigned char)s[i])
                   || (hex && ((s[i] >= 'a' && s[i] <= 'f')
                               || (s[i] >= 'A' && s[i] <= 'F'))))) {
            unsigned char c = (unsigned char)s[i];

            v = v * (hex ? 16u : 10u)
                + (unsigned int)(is_digit(c) ? c - '0'
                                 : c >= 'a' ? c - 'a' + 10 : c - 'A' + 10);
            i++;
        }
        if (i == start || i >= len || s[i] != ';')
            return 0;
        /* what libxml2 takes as a character (IS_CHAR) */
        if (!(v == 0x9 || v == 0xA || (v >= 0x20 && v < 0x80)
              || (v >= 0xA0 && v <= 0xD7FF)
              || (v >= 0xE000 && v <= 0xFFFD)
              || (v >= 0x10000 && v <= 0x10FFFF)))
            return 0;
        *n = utf8_put(out, v);
        return i + 1;
    }
    {
        char name[32];
        const htmlEntityDesc *ent;

        while (i < len && i - 1 < sizeof(name) - 1
               && (is_alpha((unsigned char)s[i])
                   || (i > 1 && is_digit((unsigned char)s[i]))))
            i++;
        if (i == 1 || i >= len || s[i] != ';')
            return 0;
        memcpy(name, s + 1, i - 1);
        name[i - 1] = '\0';
        ent = htmlEntityLookup(BAD_CAST name);
        if (!ent || ent->value == 0 || ent->value > 0x10FFFF)
            return 0;
        *n = utf8_put(out, ent->value);
        return i + 1;
    }
}

/* Whether libxml2 closes an open oldtag when newtag starts (<div> closes
 * <p>): its own table, asked through htmlAutoCloseTag() with a node that
 * stands for the new element. The end then comes earlier than the source
 * says, and the text after it lands elsewhere: not for the fast path. */
static int auto_closes(const char *newtag, const char *oldtag)
{
    static const char *const self[] = {"a", "li", "p", "tbody", "td", "th",
                                       "tr"};
    xmlNode n;
    size_t i;

    if (strcmp(newtag, oldtag) == 0) {
        for (i = 0; i < NELEM(self); i++)
            if (strcmp(newtag, self[i]) == 0)
                return 1;
        return 0;
    }
    memset(&n, 0, sizeof(n));
    n.type = XML_ELEMENT_NODE;
    n.name = BAD_CAST newtag;
    return htmlAutoCloseTag(NULL, BAD_CAST oldtag, &n) == 1;
}

/* The end of a raw text element (script, style) whose content starts at
 * s: libxml2 ends it at the first "</name" (any case). Returns the bytes
 * up to and with its end tag, 0 to give up. */
static size_t fast_raw(const char *s, size_t len, const char *name)
{
    size_t n = strlen(name), i = 0;

    for (;;) {
        const char *lt = memchr(s + i, '<', len - i);

        if (!lt)
            return 0;
        i = (size_t)(lt - s);
        if (i + 2 + n < len && s[i + 1] == '/'
            && strncasecmp(s + i + 2, name, n) == 0) {
            i += 2 + n;
            if (s[i] != '>' && !is_hblank((unsigned char)s[i]))
                return 0; /* "</scripts": libxml2 reads on */
            while (i < len && is_hblank((unsigned char)s[i]))
                i++;
            return i < len && s[i] == '>' ? i + 1 : 0;
        }
        i++;
    }
}

/* The fragment into t without a parser; 0, or 1 when it is not simple
 * enough (t is then as it was). */
static int html_fast(struct ear_text *t, const char *s, size_t len)
{
    struct fast_elem stack[FAST_DEPTH], fe;
    int depth = 0, self_close, seen = 0;
    size_t i = 0, run = 0, used, n;
    size_t keep_len = t->buf.len;
    int keep_space = t->pending_space, keep_break = t->pending_break;
    char out[4];

    if (!ear_utf8_valid(s, len))
        return 1;
    while (i < len && t->rc == 0) {
        unsigned char c = (unsigned char)s[i];

        if (c != '<' && c != '&') {
            if ((c < 0x20 && c != '\t' && c != '\n')
                || (c == 0xEF && i + 2 < len
                    && (unsigned char)s[i + 1] == 0xBF
                    && (unsigned char)s[i + 2] >= 0xBE))
                goto give_up; /* characters libxml2 objects to */
            if (!seen && !is_hblank(c))
                seen = 1;
            i++;
            continue;
        }
        if (i > run)
            ear_text__add(t, s + run, i - run, 0);
        if (c == '&') {
            used = fast_ref(s + i, len - i, out, &n);
            if (!used)
                goto give_up;
            ear_text__add(t, out, n, 0);
            seen = 1;
            i += used;
        } else if (i + 3 < len && memcmp(s + i, "<!--", 4) == 0) {
            const char *end = memmem(s + i + 4, len - i - 4, "-->", 3);
            size_t k;

            if (!end)
                goto give_up;
            for (k = i + 4; k < (size_t)(end - s); k++)
                if ((unsigned char)s[k] < 0x20 && !is_hblank(
                        (unsigned char)s[k]))
                    goto give_up;
            i = (size_t)(end - s) + 3; /* comments say nothing */
        } else if (i + 1 < len && s[i + 1] == '/') {
            if (fast_name(&fe, s + i + 2, len - i - 2, &used) < 0)
                goto give_up;
            i += 2 + used;
            while (i < len && is_hblank((unsigned char)s[i]))
                i++;
            if (i >= len || s[i] != '>')
                goto give_up;
            i++;
            if (depth > 0 && strcmp(stack[depth - 1].name, fe.name) == 0) {
                depth--;
                if (fe.block)
                    ear_text__break(t);
            } else if (strcmp(fe.name, "img") != 0) {
                goto give_up; /* "</img>" alone is ignored */
            }
        } else {
            if (fast_name(&fe, s + i + 1, len - i - 1, &used) < 0)
                goto give_up;
            n = fast_attrs(s + i + 1 + used, len - i - 1 - used,
                           &self_close);
            if (!n)
                goto give_up;
            i += 1 + used + n;
            if (fe.kind == FK_RAW) {
                /* first in the fragment, it would open an implied <head> */
                if (!seen || self_close)
                    goto give_up;
                n = fast_raw(s + i, len - i, fe.name);
                if (!n)
                    goto give_up;
                i += n; /* its text is dropped */
                run = i;
                continue;
            }
            if (depth > 0 && auto_closes(fe.name, stack[depth - 1].name))
                goto give_up;
            /* a cell closes an open <p> (not a block: no break); only
             * in a row, where there is none */
            if (fe.kind == FK_CELL
                && (depth == 0 || strcmp(stack[depth - 1].name, "tr") != 0))
                goto give_up;
            seen = 1;
            if (fe.block)
                ear_text__break(t);
            else if (fe.kind == FK_CELL)
                t->pending_space = 1;
            if (fe.kind == FK_VOID || self_close) {
                if (fe.block)
                    ear_text__break(t);
            } else {
                if (depth == FAST_DEPTH)
                    goto give_up;
                stack[depth++] = fe;
            }
        }
        run = i;
    }
    if (i > run && t->rc == 0)
        ear_text__add(t, s + run, i - run, 0);
    return 0;
give_up:
    if (t->rc < 0)
        return 0; /* out of memory: nothing to retry */
    t->buf.len = keep_len;
    if (t->buf.ptr)
        t->buf.ptr[keep_len] = '\0';
    t->pending_space = keep_space;
    t->pending_break = keep_break;
    return 1;
}

int ear_html__text(struct ear_html *h, struct ear_text *t, const char *html,
                   size_t len)
{
    static htmlSAXHandler sax;
    static int sax_ready;
    struct ear_textsax st;
    htmlParserCtxtPtr ctxt;
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR
               | HTML_PARSE_NOWARNING | HTML_PARSE_NONET
               | HTML_PARSE_NODEFDTD | HTML_PARSE_COMPACT
               | HTML_PARSE_IGNORE_ENC;

    (void)h;
    if (len == 0)
        return 0;
    if (!needs_html(html, len)) {
        ear_text__add(t, html, len, 0);
        return t->rc;
    }
    if (html_fast(t, html, len) == 0)
        return t->rc;
    if (len > INT_MAX)
        len = INT_MAX;
    if (!sax_ready) {
        /* only text and elements matter: everything else is ignored */
        memset(&sax, 0, sizeof(sax));
        sax.startElement = sax_start;
        sax.endElement = sax_end;
        sax.characters = sax_chars;
        sax.cdataBlock = sax_chars;
        sax.ignorableWhitespace = sax_chars;
        sax_ready = 1;
    }
    ctxt = htmlCreateMemoryParserCtxt(html, (int)len);
    if (!ctxt)
        return EAR_ENOMEM;
    ear_text__sax_init(&st, t);
    if (ctxt->sax)
        xmlFree(ctxt->sax);
    ctxt->sax = &sax;
    ctxt->userData = ctxt;
    ctxt->_private = &st;
    htmlCtxtUseOptions(ctxt, opts);
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    htmlParseDocument(ctxt);
    ctxt->sax = NULL; /* static: not to be freed */
    if (ctxt->myDoc)
        xmlFreeDoc(ctxt->myDoc);
    htmlFreeParserCtxt(ctxt);
    return t->rc;
}

/* Whether s has a tag libxml2 knows as HTML ("<b>", "</p>"), as opposed
 * to text that merely contains '<' ("5 < 6", "<ok>"). */
static int has_html_tag(const char *s, size_t len)
{
    const char *p = s, *end = s + len;

    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        char name[16];
        size_t n = 0;

        if (!lt)
            return 0;
        p = lt + 1;
        if (p < end && *p == '/')
            p++;
        while (p < end && n + 1 < sizeof(name)
               && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                   || (*p >= '0' && *p <= '9'))) {
            name[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            p++;
        }
        name[n] = '\0';
        if (n && p < end && (*p == '>' || *p == ' ' || *p == '/')
            && htmlTagLookup(BAD_CAST name))
            return 1;
    }
    return 0;
}

int ear_html__convert(struct ear_html *h, char **out, const char *html,
                      size_t len, int oneline)
{
    struct ear_text t;
    int rc;

    ear_text__init(&t, 0);
    /* A title is HTML only when it has real tags or entities. */
    if (oneline && memchr(html, '<', len) && !has_html_tag(html, len)) {
        ear_text__add(&t, html, len, 0);
        rc = t.rc;
    } else {
        rc = ear_html__text(h, &t, html, len);
    }
    if (rc < 0) {
        ear_buf_dispose(&t.buf);
        return rc;
    }
    rc = 0;
    *out = ear_text__take(&t, &rc);
    if (*out && oneline) {
        char *p;

        for (p = *out; *p; p++)
            if (*p == '\n')
                *p = ' ';
    }
    return rc;
}

int ear_html__mixed(struct ear_html *h, char **out, const char *s,
                    size_t len)
{
    struct ear_text t;
    struct ear_buf b;
    size_t i;
    int rc = 0;

    if (has_html_tag(s, len))
        return ear_html__convert(h, out, s, len, 0);
    if (!memchr(s, '&', len)) {
        ear_text__init(&t, 0);
        ear_text__add(&t, s, len, 1);
        *out = ear_text__take(&t, &rc);
        return rc;
    }
    /* entities to decode, line breaks to keep: as HTML with <br> */
    ear_buf_init(&b, len * 4 + 16);
    for (i = 0; i < len && rc == 0; i++)
        rc = s[i] == '\n' ? ear_buf_adds(&b, "<br>")
                          : ear_buf_addc(&b, s[i]);
    if (rc == 0)
        rc = ear_html__convert(h, out, ear_buf_str(&b), b.len, 0);
    ear_buf_dispose(&b);
    return rc;
}

int ear_html_to_text(char **out, const char *html, size_t len)
{
    struct ear_html h;
    int rc;

    ear_html__init(&h);
    rc = ear_html__convert(&h, out, html, len, 0);
    ear_html__dispose(&h);
    return rc;
}
