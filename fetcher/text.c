/*
 * Plain text from HTML, XHTML and plain strings.
 *
 * Every text field of a mention passes through struct ear_text, which
 * normalises whitespace while appending: a run of blanks becomes one space,
 * a line break is written only between two pieces of text. HTML becomes
 * text by one set of rules (block elements become line breaks, script/style
 * and friends are dropped, <pre> keeps its line breaks), applied by
 * ear_text__node() to a tree and by the SAX walk to parser events
 * (libxml2's HTML parser, Atom's inline XHTML in the SAX feed reader). Text
 * with no markup and no reference at all skips the parser; everything else
 * is read by libxml2.
 */
#include <limits.h>
#include <stdint.h>
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

/* The length of the run at s (a word character) of words apart by one
 * space: the bytes before the first one of word_end[] that is not a
 * single space between two words. Eight bytes at a time while none is
 * below ' ' or 0xC2 and every space in them is followed by a word
 * character, then one at a time. */
static size_t run_len(const char *s, size_t len)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;

    while (i + 8 <= len) {
        uint64_t v, x, sp;

        memcpy(&v, s + i, 8);
        x = v ^ (0xC2 * ones);
        if ((((v - 0x20 * ones) & ~v) | ((x - ones) & ~x)) & high)
            break;
        x = v ^ (0x20 * ones);
        sp = ~(((x & low7) + low7) | x | low7); /* 0x80 at each space */
        if (sp & (sp >> 8))
            break; /* two spaces */
        if ((sp >> 63)
            && (i + 8 >= len || word_end[(unsigned char)s[i + 8]]))
            break; /* the last byte is a space, not followed by a word */
        i += 8;
    }
#endif
    for (;;) {
        while (i < len && !word_end[(unsigned char)s[i]])
            i++;
        if (i > 0 && i + 1 < len && s[i] == ' '
            && !word_end[(unsigned char)s[i + 1]]) {
            i++;
            continue;
        }
        return i;
    }
}

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
        if (!word_end[c]) {
            /* Words apart by one space come out as they are: the run of
             * them goes in at once when it fits whole (text_put() cuts a
             * piece that does not fit, so a long text is cut word by
             * word, as before). */
            size_t sep = t->buf.len > 0
                         && (t->pending_break || t->pending_space);

            i += run_len(s + i, len - i);
            if (t->buf.len + sep + (i - start) > t->buf.max)
                for (i = start; i < len && !word_end[(unsigned char)s[i]];)
                    i++;
        }
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

/* What the text rules do with an element. Sorted by name: looked up
 * with bsearch, once per start and end tag. */
enum { T_BLOCK = 1, T_DROP = 2, T_PRE = 4, T_CELL = 8 };

struct tag_rule {
    const char *name;
    int flags;
};

static const struct tag_rule tag_rules[] = {
    {"address", T_BLOCK}, {"applet", T_DROP}, {"article", T_BLOCK},
    {"aside", T_BLOCK}, {"audio", T_DROP}, {"blockquote", T_BLOCK},
    {"body", T_BLOCK}, {"br", T_BLOCK}, {"button", T_DROP},
    {"canvas", T_DROP}, {"caption", T_BLOCK}, {"center", T_BLOCK},
    {"dd", T_BLOCK}, {"details", T_BLOCK}, {"dialog", T_BLOCK},
    {"dir", T_BLOCK}, {"div", T_BLOCK}, {"dl", T_BLOCK}, {"dt", T_BLOCK},
    {"embed", T_DROP}, {"fieldset", T_BLOCK}, {"figcaption", T_BLOCK},
    {"figure", T_BLOCK}, {"footer", T_BLOCK}, {"form", T_BLOCK},
    {"h1", T_BLOCK}, {"h2", T_BLOCK}, {"h3", T_BLOCK}, {"h4", T_BLOCK},
    {"h5", T_BLOCK}, {"h6", T_BLOCK}, {"head", T_DROP},
    {"header", T_BLOCK}, {"hr", T_BLOCK}, {"html", T_BLOCK},
    {"iframe", T_DROP}, {"legend", T_BLOCK}, {"li", T_BLOCK},
    {"main", T_BLOCK}, {"map", T_DROP}, {"math", T_DROP},
    {"menu", T_BLOCK}, {"nav", T_BLOCK}, {"noscript", T_DROP},
    {"object", T_DROP}, {"ol", T_BLOCK}, {"p", T_BLOCK},
    {"pre", T_BLOCK | T_PRE}, {"script", T_DROP}, {"section", T_BLOCK},
    {"select", T_DROP}, {"style", T_DROP}, {"summary", T_BLOCK},
    {"svg", T_DROP}, {"table", T_BLOCK}, {"tbody", T_BLOCK},
    {"td", T_CELL}, {"template", T_DROP}, {"textarea", T_DROP},
    {"tfoot", T_BLOCK}, {"th", T_CELL}, {"thead", T_BLOCK},
    {"title", T_DROP}, {"tr", T_BLOCK}, {"ul", T_BLOCK}, {"video", T_DROP}
};

/* The rule flags of an element name, in any case (0: inline). A binary
 * search in strcmp() order that compares first bytes inline: most steps
 * end there, the call is left for the names that share one. */
static int tag_class(const xmlChar *name)
{
    size_t lo = 0, hi = sizeof(tag_rules) / sizeof(tag_rules[0]), i;
    char low[16];

    for (i = 0; name[i]; i++) {
        if (i + 1 >= sizeof(low))
            return 0;
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32
                                                         : name[i]);
    }
    low[i] = '\0';
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *r = tag_rules[mid].name;
        int c = (unsigned char)low[0] - (unsigned char)r[0];

        if (c == 0 && low[0])
            c = strcmp(low + 1, r + 1);
        if (c == 0)
            return tag_rules[mid].flags;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

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
            int cls = tag_class(c->name), block, sub_pre;

            if (cls & T_DROP)
                break;
            block = cls & T_BLOCK;
            sub_pre = pre || (cls & T_PRE);
            if (block)
                ear_text__break(t);
            else if (cls & T_CELL)
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
    int cls;

    if (w->skip) {
        w->skip++;
        return;
    }
    cls = tag_class(name);
    if (cls & T_DROP) {
        w->skip = 1;
        return;
    }
    if (w->pre)
        w->pre++;
    else if (cls & T_PRE)
        w->pre = 1;
    if (cls & T_BLOCK)
        ear_text__break(w->t);
    else if (cls & T_CELL)
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
    if (tag_class(name) & T_BLOCK)
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

/* The converter's HTML parser context, made on first use with a handler
 * of its own (the parse may write to it, and parses run on several
 * threads): only text and elements matter, everything else is ignored.
 * Later fragments reuse it after htmlCtxtReset(), which keeps the handler
 * and the dictionary and clears the parser's state (inputs, stacks,
 * document, errors, charset). NULL when out of memory. */
static htmlParserCtxtPtr html_ctxt(struct ear_html *h)
{
    htmlParserCtxtPtr ctxt = h->ctxt;

    if (ctxt) {
        htmlCtxtReset(ctxt);
        return ctxt;
    }
    ctxt = htmlNewParserCtxt();
    if (!ctxt || !ctxt->sax) {
        htmlFreeParserCtxt(ctxt);
        return NULL;
    }
    memset(ctxt->sax, 0, sizeof(*ctxt->sax));
    ctxt->sax->startElement = sax_start;
    ctxt->sax->endElement = sax_end;
    ctxt->sax->characters = sax_chars;
    ctxt->sax->cdataBlock = sax_chars;
    ctxt->sax->ignorableWhitespace = sax_chars;
    ctxt->userData = ctxt;
    h->ctxt = ctxt;
    return ctxt;
}

int ear_html__text(struct ear_html *h, struct ear_text *t, const char *html,
                   size_t len)
{
    struct ear_textsax st;
    htmlParserCtxtPtr ctxt;
    xmlParserInputBufferPtr buf;
    xmlParserInputPtr in;
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR
               | HTML_PARSE_NOWARNING | HTML_PARSE_NONET
               | HTML_PARSE_NODEFDTD | HTML_PARSE_COMPACT
               | HTML_PARSE_IGNORE_ENC;

    if (len == 0)
        return 0;
    if (!needs_html(html, len)) {
        ear_text__add(t, html, len, 0);
        return t->rc;
    }
    if (len > INT_MAX)
        len = INT_MAX;
    ctxt = html_ctxt(h);
    if (!ctxt)
        return EAR_ENOMEM;
    /* the input htmlCreateMemoryParserCtxt() would make: a copy of the
     * bytes, read as UTF-8 */
    buf = xmlParserInputBufferCreateMem(html, (int)len,
                                        XML_CHAR_ENCODING_NONE);
    in = buf ? xmlNewIOInputStream(ctxt, buf, XML_CHAR_ENCODING_NONE) : NULL;
    if (!in) {
        xmlFreeParserInputBuffer(buf);
        return EAR_ENOMEM;
    }
    if (inputPush(ctxt, in) < 0) {
        xmlFreeInputStream(in);
        return EAR_ENOMEM;
    }
    ear_text__sax_init(&st, t);
    ctxt->_private = &st;
    htmlCtxtUseOptions(ctxt, opts);
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    htmlParseDocument(ctxt);
    ctxt->_private = NULL;
    if (ctxt->myDoc)
        xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = NULL;
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
