/*
 * The XML half of ear_feed_parse(): RSS 0.90/0.91/0.92/1.0/2.0 and Atom
 * 0.3/1.0 read with libxml2's SAX2 interface. No tree is built: an element
 * stack follows the parser, and the elements an item's fields come from
 * have their text captured as it streams by. The rules are those of a walk
 * over the tree libxml2 would have built from the same events (it builds
 * its trees from these very callbacks), so recovery from broken markup
 * gives the same records:
 *
 *  - the feed root is the document element when it is <rss>, <rdf:RDF> or
 *    <feed>, else the first such element at most 9 levels down (a feed
 *    wrapped in an HTML page);
 *  - items (<item>, <entry>) are found at most 9 levels below the feed
 *    root, also inside other items where recovery nested them (but not
 *    inside an Atom <content> or <summary>), and keep document order
 *    (their place in the list is taken when they start);
 *  - a field takes the first child element of the item that qualifies,
 *    and its value is all the text below that element (xmlNodeGetContent),
 *    or, for inline XHTML, the walk of ear_text__node();
 *  - links resolve against xml:base as xmlNodeGetBase() would.
 *
 * The document is read by libxml2's push parser, which hands a CDATA
 * section over in one piece (the pull parser copies it a character at a
 * time); both give the same events for well-formed markup, but they
 * recover from broken markup differently, so a document the push parser
 * reports an error in is read again by the pull parser (xmlParseDocument),
 * whose recovery the records have always followed.
 *
 * Elements still open when the parser stops (a truncated feed) are closed
 * in order, as the tree would simply have ended there. Capture buffers
 * belong to per-nesting-level item states that are reused from item to
 * item, so a feed costs a few allocations per item, not per node.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>
#include <libxml/valid.h>

#include "fetcher/fetcher_int.h"

#define NS_ATOM10 "http://www.w3.org/2005/Atom"
#define NS_ATOM03 "http://purl.org/atom/ns#"
#define NS_RSS10 "http://purl.org/rss/1.0/"
#define NS_RSS090 "http://my.netscape.com/rdf/simple/0.9/"
#define NS_RSS_USERLAND "http://backend.userland.com/rss2"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_DCTERMS "http://purl.org/dc/terms/"
#define NS_XHTML "http://www.w3.org/1999/xhtml"
#define NS_ITUNES "http://www.itunes.com/dtds/podcast-1.0.dtd"
#define NS_REV "http://purl.org/stuff/rev#"
#define NS_GD "http://schemas.google.com/g/2005"
#define NS_MEDIA "http://search.yahoo.com/mrss" /* with or without '/' */

#define WALK_MAX 8                   /* how deep items are searched for */
#define TEXT_CAP (SIZE_MAX / 4)      /* a field's text: bounded by input */

enum dialect { D_NONE, D_RSS, D_RDF, D_ATOM10, D_ATOM03 };

/* The fields of an item (and of a channel or an Atom feed). Atom reuses
 * GUID for id, DESC for summary, PUB for published, AUPD for updated. */
enum fid {
    F_TITLE, F_LINK, F_GUID, F_DESC, F_CONTENT, F_XBODY, F_MDESC, F_ISUM,
    F_AUTHOR, F_CREATOR, F_IAUTHOR, F_PUB, F_DCDATE, F_ALINK, F_APUB,
    F_AUPD, F_MODIFIED, F_DCTITLE, F_DCDESC, F_MTITLE, F_NAME, F_RATE,
    F_COUNT
};

enum cap_kind { CAP_NONE, CAP_TEXT, CAP_XHTML };

/* Atom text constructs: how the content is to be read. */
enum tmode { TM_TEXT, TM_HTML, TM_XHTML, TM_BINARY };

struct field {
    unsigned char set;       /* an element was chosen for the field */
    unsigned char kind;      /* enum cap_kind */
    unsigned char mode;      /* enum tmode */
    unsigned char flag;      /* guid: isPermaLink="false" */
    unsigned char has_href;
    unsigned char xt_live;   /* xt holds a walk to take or dispose */
    int base_doc;            /* the base is the document URL */
    char *base;              /* else this (new), or NULL */
    struct ear_buf text;     /* CAP_TEXT: the element's text content */
    struct ear_buf href;     /* links: the href attribute */
    size_t mark;             /* text.len before an entity's text */
    struct ear_text xt;      /* CAP_XHTML: the walk so far */
    struct ear_textsax xs;
};

/* Star ratings: the facts an item's children give, replayed in document
 * order when the item ends (see rating_eval()). */
enum rkind { RV_VALUE, RV_MIN, RV_MAX, RV_REVIEW, RV_NOW, RV_COMMUNITY };

struct revent {
    enum rkind kind;
    double v;
};

struct rlist {
    struct revent *v;
    size_t n, cap;
};

struct item {
    int depth;               /* stack index of the item element */
    size_t slot;             /* its place in the mention list */
    int link_html;           /* Atom: the chosen link is an HTML one */
    int has_about;
    struct ear_buf about;    /* RDF: rdf:about */
    struct field f[F_COUNT];
    struct rlist ev;         /* rating facts of the item's children */
    struct rlist sub;        /* ... of a rev:review / media:community */
    int sub_depth;           /* stack index of that element, or -1 */
    enum rkind sub_kind;
    int rate_depth;          /* stack index of an open rating element */
    struct rlist *rate_list; /* the fact its text completes */
    size_t rate_idx;
};

struct elem {
    const xmlChar *name;     /* as the tree names it: "p:x" when the
                              * prefix is undeclared */
    const xmlChar *ns;       /* namespace URI or NULL */
    char *base;              /* xml:base, new, or NULL */
    struct item *media;      /* media:group/content searched for it */
    struct item *person;     /* an author whose <name> fills F_NAME */
    unsigned char no_walk;   /* Atom: below a content/summary */
    unsigned char ncap;      /* captures opened at this element */
};

struct sax {
    xmlParserCtxtPtr ctxt;
    const char *source_name;
    const char *type;
    struct ear_mention_list *items;
    struct ear_feed_info *info;
    struct ear_html html;
    int rc;                  /* first failure, sticky */
    int stop;
    struct ear_error *err;
    int err_set;             /* err already says why (type mismatch) */
    int push;                /* read by the push parser */
    int push_error;          /* it reported an error (not a warning, not
                              * a namespace error) */

    int seen_root;
    const xmlChar *doc_root; /* document element */
    int doc_root_line;
    int root;                /* stack index of the feed root, or -1 */
    int root_done;
    enum dialect dialect;
    int atom_no_ns;

    struct elem *stack;
    size_t n, cap;
    size_t nbase;            /* open elements with xml:base */
    struct field **act;      /* open captures, innermost last */
    size_t nact, actcap;
    int in_entity;           /* text from an entity's content came since
                              * the last event of the document itself */

    struct item *pool[WALK_MAX + 3]; /* item states by nesting level */
    int nitem;               /* open items */
    struct item *head;       /* RSS channel or Atom feed */
    int head_depth;          /* its stack index, or -1 */

    char *feed_author;       /* Atom: entries inherit it */
    int feed_author_known;
    size_t *pending;         /* entries that wait for the feed author */
    size_t npending, pendcap;
};

/* ------------------------------------------------------------ helpers */

/* Element names and namespaces are compared against constants for every
 * element: the first byte, compared inline, settles most of them. */
static int str_is(const xmlChar *a, const char *b)
{
    return a && a[0] == (unsigned char)b[0]
           && strcmp((const char *)a, b) == 0;
}

static void fail(struct sax *st, int rc)
{
    if (st->rc == 0)
        st->rc = rc;
    st->stop = 1;
    xmlStopParser(st->ctxt);
}

static void buf_clear(struct ear_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

/* RSS elements: no namespace, or one of the RSS namespaces in use. */
static int ns_rss(const xmlChar *ns)
{
    return !ns || str_is(ns, NS_RSS10) || str_is(ns, NS_RSS090)
           || str_is(ns, NS_RSS_USERLAND);
}

static int ns_media(const xmlChar *ns)
{
    return ns && strncmp((const char *)ns, NS_MEDIA, 28) == 0;
}

/* Atom elements; a feed that lacks the Atom namespace has them bare. */
static int ns_atom(const struct sax *st, const xmlChar *ns)
{
    return str_is(ns, NS_ATOM10) || str_is(ns, NS_ATOM03)
           || (st->atom_no_ns && !ns);
}

/* The namespace and local name of an element. A prefix the document never
 * declared ("content:encoded" in a feed missing xmlns:content) is common
 * enough to be read by convention. */
static const char *elem_ns(const struct elem *e, const char **local)
{
    static const char *const prefixes[][2] = {
        {"content", NS_CONTENT}, {"dc", NS_DC}, {"dcterms", NS_DCTERMS},
        {"media", "http://search.yahoo.com/mrss/"}, {"atom", NS_ATOM10},
        {"itunes", NS_ITUNES}, {"xhtml", NS_XHTML}, {"rev", NS_REV},
        {"gd", NS_GD}};
    const char *name = (const char *)e->name;
    const char *colon;
    size_t i;

    *local = name;
    if (e->ns)
        return (const char *)e->ns;
    colon = strchr(name, ':');
    if (!colon)
        return NULL;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strlen(prefixes[i][0]) == (size_t)(colon - name)
            && strncmp(name, prefixes[i][0], (size_t)(colon - name)) == 0) {
            *local = colon + 1;
            return prefixes[i][1];
        }
    return NULL;
}

static int name_is(const char *a, const char *b)
{
    return a[0] == b[0] && strcmp(a, b) == 0;
}

static int uri_is(const char *ns, const char *uri)
{
    return ns && ns[0] == uri[0] && strcmp(ns, uri) == 0;
}

/* ------------------------------------------------------------ attributes */

/* SAX2 hands attributes as (localname, prefix, URI, value, end). */
#define A_LOCAL(a, i) ((a)[(i) * 5])
#define A_PREFIX(a, i) ((a)[(i) * 5 + 1])
#define A_URI(a, i) ((a)[(i) * 5 + 2])
#define A_VALUE(a, i) ((a)[(i) * 5 + 3])
#define A_END(a, i) ((a)[(i) * 5 + 4])

struct attrs {
    int n;
    const xmlChar **v;
};

/* The attribute xmlGetProp(name) would find: the first one so named in
 * any namespace (one with an undeclared prefix is named "p:x" in a tree),
 * else a default from the internal DTD subset. Its value into out, with
 * entity and character references decoded as the tree would hold them.
 * Returns 1 when found, 0 when not, or a negative error. */
static int attr_decode(struct sax *st, struct ear_buf *out,
                       const xmlChar *v, const xmlChar *end)
{
    xmlDocPtr doc;
    xmlNodePtr list;
    xmlChar *s;
    int rc;

    if (!memchr(v, '&', (size_t)(end - v)))
        return ear_buf_addn(out, v, (size_t)(end - v));
    /* references left in the value: as xmlSAX2AttributeNs() stores them
     * and xmlGetProp() reads them back */
    doc = st->ctxt->myDoc;
    list = xmlStringLenGetNodeList(doc, v, (int)(end - v));
    s = list ? xmlNodeListGetString(doc, list, 1) : NULL;
    rc = s ? ear_buf_adds(out, (const char *)s) : 0;
    xmlFree(s);
    xmlFreeNodeList(list);
    return rc;
}

static int attr_get(struct sax *st, struct ear_buf *out,
                    const struct attrs *a, const struct elem *e,
                    const char *name)
{
    int i, rc;

    buf_clear(out);
    for (i = 0; i < a->n; i++) {
        if (!str_is(A_LOCAL(a->v, i), name)
            || (A_PREFIX(a->v, i) && !A_URI(a->v, i)))
            continue;
        rc = attr_decode(st, out, A_VALUE(a->v, i), A_END(a->v, i));
        return rc < 0 ? rc : 1;
    }
    if (st->ctxt->myDoc && st->ctxt->myDoc->intSubset) {
        xmlAttributePtr d = xmlGetDtdAttrDesc(st->ctxt->myDoc->intSubset,
                                              e->name, BAD_CAST name);

        if (d && d->defaultValue) {
            rc = ear_buf_adds(out, (const char *)d->defaultValue);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

/* A scratch attribute value: NULL when absent (or on failure, then
 * recorded in st). Borrowed until the next call with the same buffer. */
static const char *attr(struct sax *st, struct ear_buf *scratch,
                        const struct attrs *a, const struct elem *e,
                        const char *name)
{
    int rc = attr_get(st, scratch, a, e, name);

    if (rc < 0) {
        fail(st, rc);
        return NULL;
    }
    return rc ? ear_buf_str(scratch) : NULL;
}

/* An Atom link is an alternate one when rel is absent or "alternate". */
static int atom_alternate(struct sax *st, struct ear_buf *scratch,
                          const struct attrs *a, const struct elem *e)
{
    const char *rel = attr(st, scratch, a, e, "rel");

    return !rel || strcmp(rel, "alternate") == 0;
}

static double attr_number(struct sax *st, struct ear_buf *scratch,
                          const struct attrs *a, const struct elem *e,
                          const char *name)
{
    const char *s = attr(st, scratch, a, e, name);
    double v = NAN;

    if (s && ear_rating__number(&v, s) < 0)
        v = NAN;
    return v;
}

/* ------------------------------------------------------------ fields */

static void field_reset(struct field *f)
{
    f->set = 0;
    f->kind = CAP_NONE;
    f->mode = TM_TEXT;
    f->flag = 0;
    f->has_href = 0;
    f->base_doc = 0;
    free(f->base);
    f->base = NULL;
    buf_clear(&f->text);
    buf_clear(&f->href);
    if (f->xt_live)
        ear_buf_dispose(&f->xt.buf);
    f->xt_live = 0;
}

static void field_dispose(struct field *f)
{
    field_reset(f);
    ear_buf_dispose(&f->text);
    ear_buf_dispose(&f->href);
}

/* The element at the top of the stack starts filling f. */
static void cap_open(struct sax *st, struct field *f, enum cap_kind kind)
{
    struct elem *e = &st->stack[st->n - 1];

    f->set = 1;
    f->kind = (unsigned char)kind;
    buf_clear(&f->text);
    if (kind == CAP_XHTML) {
        if (f->xt_live)
            ear_buf_dispose(&f->xt.buf);
        ear_text__init(&f->xt, 0);
        ear_text__sax_init(&f->xs, &f->xt);
        f->xt_live = 1;
    }
    if (st->nact == st->actcap) {
        size_t cap = st->actcap ? st->actcap * 2 : 16;
        struct field **v = realloc(st->act, cap * sizeof(*v));

        if (!v) {
            fail(st, EAR_ENOMEM);
            return;
        }
        st->act = v;
        st->actcap = cap;
    }
    st->act[st->nact++] = f;
    e->ncap++;
}

/* xmlNodeGetBase() at the top of the stack, into f. */
static void field_base(struct sax *st, struct field *f)
{
    const xmlChar *url = st->ctxt->myDoc ? st->ctxt->myDoc->URL : NULL;
    xmlChar *old = NULL, *nb;
    size_t i;

    free(f->base);
    f->base = NULL;
    f->base_doc = 0;
    if (st->nbase == 0) {
        f->base_doc = url != NULL;
        return;
    }
    for (i = st->n; i-- > 0;) {
        const char *b = st->stack[i].base;

        if (!b)
            continue;
        if (old) {
            nb = xmlBuildURI(old, BAD_CAST b);
            xmlFree(old);
            if (!nb)
                return;
            old = nb;
        } else {
            old = xmlStrdup(BAD_CAST b);
            if (!old) {
                fail(st, EAR_ENOMEM);
                return;
            }
        }
        if (!xmlStrncmp(old, BAD_CAST "http://", 7)
            || !xmlStrncmp(old, BAD_CAST "ftp://", 6)
            || !xmlStrncmp(old, BAD_CAST "urn:", 4)) {
            f->base = (char *)old;
            return;
        }
    }
    if (url) {
        nb = xmlBuildURI(old, url);
        xmlFree(old);
        old = nb;
    }
    f->base = (char *)old;
}

/* A link from the href attribute of the element at the top. */
static void field_href(struct sax *st, struct field *f,
                       const struct attrs *a, const struct elem *e)
{
    int rc;

    f->set = 1;
    rc = attr_get(st, &f->href, a, e, "href");
    if (rc < 0) {
        fail(st, rc);
        return;
    }
    f->has_href = rc == 1;
    field_base(st, f);
}

/* How an Atom text construct reads (1.0 type text/html/xhtml; 0.3 type
 * and mode). */
static enum tmode text_mode(struct sax *st, struct ear_buf *scratch,
                            const struct attrs *a, const struct elem *e)
{
    char *type, *mode;
    enum tmode m = TM_TEXT;

    type = ear_strdup(attr(st, scratch, a, e, "type"));
    mode = ear_strdup(attr(st, scratch, a, e, "mode"));
    if (mode && strcmp(mode, "base64") == 0)
        m = TM_BINARY; /* binary content is not text */
    else if (type && (strcmp(type, "xhtml") == 0
                      || strcmp(type, "application/xhtml+xml") == 0
                      || (mode && strcmp(mode, "xml") == 0
                          && strstr(type, "html"))))
        m = TM_XHTML;
    else if (type && (strcmp(type, "html") == 0
                      || strcmp(type, "text/html") == 0))
        m = TM_HTML;
    free(type);
    free(mode);
    return m;
}

static void cap_atom_text(struct sax *st, struct field *f,
                          struct ear_buf *scratch, const struct attrs *a,
                          const struct elem *e)
{
    enum tmode m = text_mode(st, scratch, a, e);

    cap_open(st, f, m == TM_XHTML ? CAP_XHTML : CAP_TEXT);
    f->mode = (unsigned char)m;
}

/* ------------------------------------------------------------ values */

static const struct field *first(const struct field *a,
                                 const struct field *b,
                                 const struct field *c)
{
    return a->set ? a : b && b->set ? b : c && c->set ? c : NULL;
}

/* Plain string content, copied (NULL when the field is not set). */
static int fld_plain(char **out, const struct field *f)
{
    *out = NULL;
    if (!f || !f->set)
        return 0;
    *out = ear_strdup(ear_buf_str(&f->text));
    return *out ? 0 : EAR_ENOMEM;
}

static int64_t fld_time(const struct field *f)
{
    int64_t t = 0;

    if (!f || !f->set)
        return 0;
    if (ear_time_parse(&t, ear_buf_str(&f->text)) < 0)
        t = 0;
    return t;
}

/* Text of an element whose content is HTML (RSS description, title). */
static int fld_html(struct sax *st, char **out, const struct field *f,
                    int oneline)
{
    *out = NULL;
    if (!f || !f->set)
        return 0;
    return ear_html__convert(&st->html, out, ear_buf_str(&f->text),
                             f->text.len, oneline);
}

/* The walk of inline XHTML, taken from the field. */
static int fld_xhtml(char **out, struct field *f, int oneline)
{
    int rc = 0;

    *out = NULL;
    if (!f->xt_live)
        return 0;
    f->xt_live = 0;
    *out = ear_text__take(&f->xt, &rc);
    if (*out && oneline) {
        char *p;

        for (p = *out; *p; p++)
            if (*p == '\n')
                *p = ' ';
    }
    return rc;
}

/* Atom text construct. */
static int fld_atom_text(struct sax *st, char **out, struct field *f,
                         int oneline)
{
    struct ear_text t;
    int rc = 0;

    *out = NULL;
    if (!f->set)
        return 0;
    switch ((enum tmode)f->mode) {
    case TM_BINARY:
        return 0;
    case TM_XHTML:
        return fld_xhtml(out, f, oneline);
    case TM_HTML:
        return fld_html(st, out, f, oneline);
    case TM_TEXT:
    default:
        ear_text__init(&t, 0);
        ear_text__add(&t, ear_buf_str(&f->text), f->text.len, !oneline);
        *out = ear_text__take(&t, &rc);
        return rc;
    }
}

/* A link's target (href attribute or content) resolved against its
 * base. */
static int fld_link(struct sax *st, char **out, const struct field *f,
                    int from_href)
{
    const xmlChar *url = st->ctxt->myDoc ? st->ctxt->myDoc->URL : NULL;
    const char *ref;

    *out = NULL;
    if (!f || !f->set)
        return 0;
    if (from_href && !f->has_href)
        return 0;
    ref = from_href ? ear_buf_str(&f->href) : ear_buf_str(&f->text);
    *out = ear_url__resolve(ref, f->base_doc ? (const char *)url : f->base);
    return 0;
}

/* ------------------------------------------------------------ ratings */

static struct revent *rlist_add(struct sax *st, struct rlist *l,
                                enum rkind kind, double v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct revent *n = realloc(l->v, cap * sizeof(*n));

        if (!n) {
            fail(st, EAR_ENOMEM);
            return NULL;
        }
        l->v = n;
        l->cap = cap;
    }
    l->v[l->n].kind = kind;
    l->v[l->n].v = v;
    return &l->v[l->n++];
}

/* A star rating carried by extension elements of an item:
 *   <rev:rating>4</rev:rating> <rev:minRating>1</rev:minRating>
 *   <rev:maxRating>5</rev:maxRating> (RDF Review vocabulary, also inside
 *   a rev:review / rev:Review element),
 *   <gd:rating value="4" min="1" max="5"/> (Google Data, also average=),
 *   <media:starRating average="4.2" min="1" max="5"/> (Media RSS, inside
 *   media:community).
 * The facts are replayed in document order: the first rating that can be
 * normalised wins, else rev:rating on its scale. Normalised to 1..5; 0
 * when there is none. */
static double rating_eval(const struct rlist *l)
{
    double value = NAN, worst = NAN, best = NAN;
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct revent *e = &l->v[i];

        switch (e->kind) {
        case RV_VALUE:
            if (isnan(value))
                value = e->v;
            break;
        case RV_MIN:
            worst = e->v;
            break;
        case RV_MAX:
            best = e->v;
            break;
        case RV_REVIEW:
            if (isnan(value) && e->v > 0)
                return e->v;
            break;
        case RV_NOW:
        case RV_COMMUNITY:
            if (e->v > 0)
                return e->v;
            break;
        default:
            break;
        }
    }
    if (isnan(value))
        return 0;
    /* RVW defaults are minRating 1, maxRating 5; a larger value without
     * a maximum is on some other scale, which normalize() guesses. */
    if (isnan(best) && value <= 5)
        best = 5;
    return ear_rating__normalize(value, worst, best);
}

/* A child of an item (depth 0) or of its rev:review / media:community
 * (depth 1) that may carry a rating. */
static void rating_child(struct sax *st, struct item *it, int depth,
                         const struct elem *e, const struct attrs *a,
                         struct ear_buf *scratch)
{
    struct rlist *l = depth ? &it->sub : &it->ev;
    const char *ns, *local;
    enum rkind kind;

    ns = elem_ns(e, &local);
    if (uri_is(ns, NS_REV)) {
        if (name_is(local, "rating"))
            kind = RV_VALUE;
        else if (name_is(local, "minRating"))
            kind = RV_MIN;
        else if (name_is(local, "maxRating"))
            kind = RV_MAX;
        else if ((name_is(local, "review")
                  || name_is(local, "Review")) && depth == 0) {
            it->sub.n = 0;
            it->sub_depth = (int)st->n - 1;
            it->sub_kind = RV_REVIEW;
            return;
        } else {
            return;
        }
        /* the number is the element's text, known at its end */
        if (!rlist_add(st, l, kind, NAN))
            return;
        it->rate_list = l;
        it->rate_idx = l->n - 1;
        it->rate_depth = (int)st->n - 1;
        cap_open(st, &it->f[F_RATE], CAP_TEXT);
    } else if ((uri_is(ns, NS_GD) && name_is(local, "rating"))
               || (ns && strncmp(ns, NS_MEDIA, 28) == 0
                   && name_is(local, "starRating"))) {
        double v = attr_number(st, scratch, a, e, "value"), r = 0;

        if (isnan(v))
            v = attr_number(st, scratch, a, e, "average");
        if (!isnan(v)) {
            double lo = attr_number(st, scratch, a, e, "min");

            r = ear_rating__normalize(v, lo,
                                      attr_number(st, scratch, a, e, "max"));
        }
        rlist_add(st, l, RV_NOW, r);
    } else if (ns && strncmp(ns, NS_MEDIA, 28) == 0
               && name_is(local, "community") && depth == 0) {
        it->sub.n = 0;
        it->sub_depth = (int)st->n - 1;
        it->sub_kind = RV_COMMUNITY;
    }
}

/* ------------------------------------------------------------ items */

static struct item *item_state(struct sax *st, int level)
{
    struct item *it = st->pool[level];
    int i;

    if (!it) {
        it = calloc(1, sizeof(*it));
        if (!it) {
            fail(st, EAR_ENOMEM);
            return NULL;
        }
        ear_buf_init(&it->about, TEXT_CAP);
        for (i = 0; i < F_COUNT; i++) {
            ear_buf_init(&it->f[i].text, TEXT_CAP);
            ear_buf_init(&it->f[i].href, TEXT_CAP);
        }
        st->pool[level] = it;
    }
    for (i = 0; i < F_COUNT; i++)
        field_reset(&it->f[i]);
    it->depth = (int)st->n - 1;
    it->link_html = 0;
    it->has_about = 0;
    buf_clear(&it->about);
    it->ev.n = 0;
    it->sub.n = 0;
    it->sub_depth = -1;
    it->rate_depth = -1;
    it->rate_list = NULL;
    return it;
}

static void item_free(struct item *it)
{
    int i;

    if (!it)
        return;
    for (i = 0; i < F_COUNT; i++)
        field_dispose(&it->f[i]);
    ear_buf_dispose(&it->about);
    free(it->ev.v);
    free(it->sub.v);
    free(it);
}

/* An item starts: its place in the list is taken now, so that items
 * nested by recovery come after the one around them. */
static void item_start(struct sax *st, const struct attrs *a,
                       const struct elem *e)
{
    struct item *it;

    if (st->nitem >= WALK_MAX + 2)
        return; /* deeper than items are searched for */
    it = item_state(st, st->nitem);
    if (!it)
        return;
    if (!ear_mention_list_push(st->items)) {
        fail(st, EAR_ENOMEM);
        return;
    }
    it->slot = st->items->n - 1;
    st->nitem++;
    if (st->dialect == D_RDF) {
        int rc = attr_get(st, &it->about, a, e, "about");

        if (rc < 0)
            fail(st, rc);
        it->has_about = rc == 1;
    }
}

/* A media:* child of an item, or an element below a media:group /
 * media:content: the first media:description and media:title, looked
 * for as media_find() did (only group and content are searched). */
static void media_elem(struct sax *st, struct item *it, struct elem *e)
{
    const char *l = (const char *)e->name, *colon = strchr(l, ':');

    if (colon)
        l = colon + 1; /* undeclared "media:" prefix */
    if (name_is(l, "description")) {
        if (!it->f[F_MDESC].set)
            cap_open(st, &it->f[F_MDESC], CAP_TEXT);
    } else if (name_is(l, "title")) {
        if (!it->f[F_MTITLE].set)
            cap_open(st, &it->f[F_MTITLE], CAP_TEXT);
    } else if (name_is(l, "group") || name_is(l, "content")) {
        e->media = it;
    }
}

static void rss_child(struct sax *st, struct item *it, struct elem *e,
                      const struct attrs *a, struct ear_buf *scratch)
{
    struct field *f = it->f;
    const char *ns, *l;

    ns = elem_ns(e, &l);
    if (!ns || uri_is(ns, NS_RSS10) || uri_is(ns, NS_RSS090)
        || uri_is(ns, NS_RSS_USERLAND)) {
        if (name_is(l, "title") && !f[F_TITLE].set) {
            cap_open(st, &f[F_TITLE], CAP_TEXT);
        } else if (name_is(l, "link") && !f[F_LINK].set) {
            cap_open(st, &f[F_LINK], CAP_TEXT);
            field_base(st, &f[F_LINK]);
        } else if (name_is(l, "guid") && !f[F_GUID].set) {
            const char *pl = attr(st, scratch, a, e, "isPermaLink");

            cap_open(st, &f[F_GUID], CAP_TEXT);
            f[F_GUID].flag = pl && xmlStrcasecmp(BAD_CAST pl,
                                                 BAD_CAST "false") == 0;
        } else if (name_is(l, "description") && !f[F_DESC].set) {
            cap_open(st, &f[F_DESC], CAP_TEXT);
        } else if (name_is(l, "author") && !f[F_AUTHOR].set) {
            cap_open(st, &f[F_AUTHOR], CAP_TEXT);
        } else if ((name_is(l, "pubDate") || name_is(l, "pubdate"))
                   && !f[F_PUB].set) {
            cap_open(st, &f[F_PUB], CAP_TEXT);
        }
    } else if (uri_is(ns, NS_CONTENT)) {
        if (name_is(l, "encoded") && !f[F_CONTENT].set)
            cap_open(st, &f[F_CONTENT], CAP_TEXT);
    } else if (uri_is(ns, NS_DC)) {
        if (name_is(l, "creator") && !f[F_CREATOR].set)
            cap_open(st, &f[F_CREATOR], CAP_TEXT);
        else if (name_is(l, "date") && !f[F_DCDATE].set)
            cap_open(st, &f[F_DCDATE], CAP_TEXT);
        else if (name_is(l, "title") && !f[F_DCTITLE].set)
            cap_open(st, &f[F_DCTITLE], CAP_TEXT);
        else if (name_is(l, "description") && !f[F_DCDESC].set)
            cap_open(st, &f[F_DCDESC], CAP_TEXT);
    } else if (uri_is(ns, NS_DCTERMS)) {
        if (name_is(l, "modified") && !f[F_MODIFIED].set)
            cap_open(st, &f[F_MODIFIED], CAP_TEXT);
        else if (name_is(l, "created") && !f[F_DCDATE].set)
            cap_open(st, &f[F_DCDATE], CAP_TEXT);
    } else if (strncmp(ns, NS_MEDIA, 28) == 0) {
        media_elem(st, it, e);
    } else if (uri_is(ns, NS_ATOM10)) {
        if (name_is(l, "link") && !f[F_ALINK].set
            && atom_alternate(st, scratch, a, e))
            field_href(st, &f[F_ALINK], a, e);
        else if (name_is(l, "published") && !f[F_APUB].set)
            cap_open(st, &f[F_APUB], CAP_TEXT);
        else if (name_is(l, "updated") && !f[F_AUPD].set)
            cap_open(st, &f[F_AUPD], CAP_TEXT);
    } else if (uri_is(ns, NS_XHTML)) {
        if (name_is(l, "body") && !f[F_XBODY].set)
            cap_open(st, &f[F_XBODY], CAP_XHTML);
    } else if (uri_is(ns, NS_ITUNES)) {
        if (name_is(l, "summary") && !f[F_ISUM].set)
            cap_open(st, &f[F_ISUM], CAP_TEXT);
        else if (name_is(l, "author") && !f[F_IAUTHOR].set)
            cap_open(st, &f[F_IAUTHOR], CAP_TEXT);
    }
}

static void atom_child(struct sax *st, struct item *it, struct elem *e,
                       const struct attrs *a, struct ear_buf *scratch)
{
    struct field *f = it->f;
    const xmlChar *n = e->name;

    if (ns_atom(st, e->ns)) {
        if (str_is(n, "id") && !f[F_GUID].set) {
            cap_open(st, &f[F_GUID], CAP_TEXT);
        } else if (str_is(n, "title") && !f[F_TITLE].set) {
            cap_atom_text(st, &f[F_TITLE], scratch, a, e);
        } else if (str_is(n, "link") && atom_alternate(st, scratch, a, e)) {
            /* prefer an HTML alternate over other types */
            const char *type = attr(st, scratch, a, e, "type");
            int html = !type || strstr(type, "html");

            if (!f[F_LINK].set || (html && !it->link_html)) {
                field_href(st, &f[F_LINK], a, e);
                it->link_html = html;
            }
        } else if (str_is(n, "content") && !f[F_CONTENT].set) {
            if (!attr(st, scratch, a, e, "src"))
                cap_atom_text(st, &f[F_CONTENT], scratch, a, e);
        } else if (str_is(n, "summary") && !f[F_DESC].set) {
            cap_atom_text(st, &f[F_DESC], scratch, a, e);
        } else if (str_is(n, "author") && !f[F_AUTHOR].set) {
            cap_open(st, &f[F_AUTHOR], CAP_TEXT);
            e->person = it;
        } else if ((str_is(n, "published") || str_is(n, "issued")
                    || str_is(n, "created"))
                   && !f[F_PUB].set) {
            cap_open(st, &f[F_PUB], CAP_TEXT);
        } else if ((str_is(n, "updated") || str_is(n, "modified"))
                   && !f[F_AUPD].set) {
            cap_open(st, &f[F_AUPD], CAP_TEXT);
        }
    } else if (ns_media(e->ns)) {
        media_elem(st, it, e);
    } else if (str_is(e->ns, NS_DC)) {
        if (str_is(n, "creator") && !f[F_CREATOR].set)
            cap_open(st, &f[F_CREATOR], CAP_TEXT);
        else if (str_is(n, "date") && !f[F_DCDATE].set)
            cap_open(st, &f[F_DCDATE], CAP_TEXT);
    }
}

/* A finished mention into the place its item took. */
static int item_store(struct sax *st, struct item *it, struct ear_mention *m)
{
    int rc;

    rc = ear_str_set(&m->source, st->source_name);
    if (rc == 0)
        rc = ear_item__finish(m);
    if (rc < 0)
        return rc;
    ear_mention_dispose(&st->items->v[it->slot]);
    st->items->v[it->slot] = *m;
    ear_mention_init(m);
    return 0;
}

static int rss_item_end(struct sax *st, struct item *it)
{
    struct field *f = it->f;
    struct ear_mention m;
    int rc;

    ear_mention_init(&m);
    rc = fld_html(st, &m.title, first(&f[F_TITLE], &f[F_DCTITLE],
                                      &f[F_MTITLE]), 1);
    if (rc < 0)
        goto out;
    if (f[F_LINK].set)
        rc = fld_link(st, &m.url, &f[F_LINK], 0);
    else if (f[F_ALINK].set)
        rc = fld_link(st, &m.url, &f[F_ALINK], 1);
    if (rc < 0)
        goto out;
    if (f[F_GUID].set) {
        rc = fld_plain(&m.guid, &f[F_GUID]);
        if (rc < 0)
            goto out;
        /* A permalink guid is the item's link when it has no other. */
        if (!m.url && m.guid && !f[F_GUID].flag
            && (strncmp(m.guid, "http://", 7) == 0
                || strncmp(m.guid, "https://", 8) == 0))
            m.url = ear_url__resolve(m.guid, NULL);
    } else if (st->dialect == D_RDF && it->has_about) {
        m.guid = ear_strdup(ear_buf_str(&it->about));
        if (!m.guid) {
            rc = EAR_ENOMEM;
            goto out;
        }
    }
    if (f[F_XBODY].set) {
        rc = fld_xhtml(&m.text, &f[F_XBODY], 0);
    } else {
        const struct field *body = first(&f[F_CONTENT], &f[F_DESC],
                                         &f[F_DCDESC]);

        if (!body)
            body = first(&f[F_MDESC], &f[F_ISUM], NULL);
        rc = fld_html(st, &m.text, body, 0);
    }
    if (rc < 0)
        goto out;
    rc = fld_plain(&m.author, first(&f[F_AUTHOR], &f[F_CREATOR],
                                    &f[F_IAUTHOR]));
    if (rc < 0)
        goto out;
    m.published = fld_time(first(&f[F_PUB], &f[F_DCDATE], &f[F_APUB]));
    m.updated = fld_time(first(&f[F_AUPD], &f[F_MODIFIED], NULL));
    if (!m.published)
        m.published = m.updated;
    m.rating = rating_eval(&it->ev);
    rc = item_store(st, it, &m);
out:
    ear_mention_dispose(&m);
    return rc;
}

/* An author given later is the feed's: a string made valid UTF-8 and
 * trimmed, as ear_item__finish() leaves every field. */
static int set_author(struct ear_mention *m, const char *author)
{
    free(m->author);
    m->author = NULL;
    if (!author)
        return 0;
    m->author = ear_strdup(author);
    if (!m->author)
        return EAR_ENOMEM;
    return ear_item__clean(&m->author);
}

/* The text of an Atom person: its <name>, else all of it. */
static int person(char **out, const struct item *it)
{
    return fld_plain(out, it->f[F_NAME].set ? &it->f[F_NAME]
                                             : &it->f[F_AUTHOR]);
}

static int atom_entry_end(struct sax *st, struct item *it)
{
    struct field *f = it->f;
    struct ear_mention m;
    int rc, pending = 0;

    ear_mention_init(&m);
    rc = fld_plain(&m.guid, &f[F_GUID]);
    if (rc == 0)
        rc = fld_atom_text(st, &m.title, &f[F_TITLE], 1);
    if (rc == 0 && !m.title && f[F_MTITLE].set)
        rc = fld_plain(&m.title, &f[F_MTITLE]);
    if (rc == 0)
        rc = fld_link(st, &m.url, &f[F_LINK], 1);
    if (rc == 0 && f[F_CONTENT].set)
        rc = fld_atom_text(st, &m.text, &f[F_CONTENT], 0);
    if (rc == 0 && !m.text && f[F_DESC].set)
        rc = fld_atom_text(st, &m.text, &f[F_DESC], 0);
    if (rc == 0 && !m.text && f[F_MDESC].set)
        rc = fld_html(st, &m.text, &f[F_MDESC], 0);
    if (rc == 0 && f[F_AUTHOR].set)
        rc = person(&m.author, it);
    else if (rc == 0 && f[F_CREATOR].set)
        rc = fld_plain(&m.author, &f[F_CREATOR]);
    else if (rc == 0 && st->feed_author_known && st->feed_author)
        rc = ear_str_set(&m.author, st->feed_author);
    else if (rc == 0 && !st->feed_author_known && !st->root_done)
        pending = 1; /* the feed's author may still come */
    if (rc < 0)
        goto out;
    m.published = fld_time(first(&f[F_PUB], &f[F_DCDATE], NULL));
    m.updated = fld_time(&f[F_AUPD]);
    if (!m.published)
        m.published = m.updated;
    m.rating = rating_eval(&it->ev);
    rc = item_store(st, it, &m);
    if (rc == 0 && pending) {
        if (st->npending == st->pendcap) {
            size_t cap = st->pendcap ? st->pendcap * 2 : 16;
            size_t *v = realloc(st->pending, cap * sizeof(*v));

            if (!v) {
                rc = EAR_ENOMEM;
                goto out;
            }
            st->pending = v;
            st->pendcap = cap;
        }
        st->pending[st->npending++] = it->slot;
    }
out:
    ear_mention_dispose(&m);
    return rc;
}

/* ------------------------------------------------------------ feed level */

static void head_child(struct sax *st, struct elem *e, const struct attrs *a,
                       struct ear_buf *scratch)
{
    struct field *f = st->head->f;
    const xmlChar *n = e->name;

    if (st->dialect == D_RSS || st->dialect == D_RDF) {
        if (str_is(n, "title") && ns_rss(e->ns) && !f[F_TITLE].set) {
            cap_open(st, &f[F_TITLE], CAP_TEXT);
        } else if (str_is(n, "link") && ns_rss(e->ns) && !f[F_LINK].set) {
            cap_open(st, &f[F_LINK], CAP_TEXT);
            field_base(st, &f[F_LINK]);
        } else if (str_is(n, "link") && str_is(e->ns, NS_ATOM10)
                   && !f[F_ALINK].set && atom_alternate(st, scratch, a, e)) {
            field_href(st, &f[F_ALINK], a, e);
        }
        return;
    }
    if (!ns_atom(st, e->ns))
        return;
    if (str_is(n, "title") && !f[F_TITLE].set) {
        cap_atom_text(st, &f[F_TITLE], scratch, a, e);
    } else if (str_is(n, "link") && !f[F_LINK].set
               && atom_alternate(st, scratch, a, e)) {
        field_href(st, &f[F_LINK], a, e);
    } else if (str_is(n, "author") && !f[F_AUTHOR].set) {
        cap_open(st, &f[F_AUTHOR], CAP_TEXT);
        e->person = st->head;
    }
}

/* <channel> ends: the first channel with a title names the feed. */
static int channel_end(struct sax *st)
{
    struct field *f = st->head->f;
    int rc;

    if (!st->info || st->info->title)
        return 0;
    rc = fld_html(st, &st->info->title, f[F_TITLE].set ? &f[F_TITLE] : NULL,
                  1);
    if (rc == 0 && !st->info->link)
        rc = f[F_LINK].set ? fld_link(st, &st->info->link, &f[F_LINK], 0)
                           : fld_link(st, &st->info->link, &f[F_ALINK], 1);
    return rc;
}

/* The Atom feed's author element ends: entries inherit it. */
static int feed_author_end(struct sax *st)
{
    int rc = person(&st->feed_author, st->head);

    st->feed_author_known = 1;
    return rc;
}

/* The Atom feed ends: its title and link, and the author of the entries
 * that came before it. */
static int atom_feed_end(struct sax *st)
{
    struct field *f = st->head->f;
    size_t i;
    int rc = 0;

    if (st->info && !st->info->title) {
        rc = fld_atom_text(st, &st->info->title, &f[F_TITLE], 1);
        if (rc == 0 && !st->info->link)
            rc = fld_link(st, &st->info->link, &f[F_LINK], 1);
        if (rc < 0)
            return rc;
    }
    for (i = 0; i < st->npending && rc == 0; i++)
        if (st->feed_author)
            rc = set_author(&st->items->v[st->pending[i]], st->feed_author);
    st->npending = 0;
    return rc;
}

/* ------------------------------------------------------------ SAX */

static struct sax *sax_of(void *ctx)
{
    struct sax *st = ((xmlParserCtxtPtr)ctx)->_private;

    return st && !st->stop ? st : NULL;
}

static int is_feed_root(const xmlChar *name, const xmlChar *ns)
{
    return str_is(name, "rss") || str_is(name, "feed")
           || (str_is(name, "RDF") && str_is(ns, NS_RDF));
}

static void root_start(struct sax *st, const struct elem *e, int line)
{
    const xmlChar *n = e->name;

    st->root = (int)st->n - 1;
    if (str_is(n, "rss"))
        st->dialect = D_RSS;
    else if (str_is(n, "RDF"))
        st->dialect = D_RDF;
    else if (str_is(e->ns, NS_ATOM03))
        st->dialect = D_ATOM03;
    else
        st->dialect = D_ATOM10; /* also an Atom feed missing its namespace */
    if (st->type && ((strcmp(st->type, "atom") == 0)
                     != (st->dialect == D_ATOM10
                         || st->dialect == D_ATOM03))) {
        ear_error_set(st->err, EAR_EPARSE, st->source_name, line, 0,
                      "type is '%s' but the document's root element "
                      "is <%s>", st->type, (const char *)n);
        st->err_set = 1;
        fail(st, EAR_EPARSE);
        return;
    }
    if (st->dialect == D_ATOM10 || st->dialect == D_ATOM03) {
        st->atom_no_ns = e->ns == NULL;
        st->head = item_state(st, WALK_MAX + 2);
        st->head_depth = st->root;
    }
}

static void on_start(void *ctx, const xmlChar *localname,
                     const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted,
                     const xmlChar **attributes)
{
    struct sax *st = sax_of(ctx);
    struct ear_buf scratch;
    struct attrs a;
    struct elem *e, *parent;
    size_t i;
    int depth, rel, rc, line;

    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    if (!st || ctx != st->ctxt)
        return; /* markup inside an entity: a tree keeps it below an
                 * entity reference, where no field is looked for */
    st->in_entity = 0;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 32;
        struct elem *v = realloc(st->stack, cap * sizeof(*v));

        if (!v) {
            fail(st, EAR_ENOMEM);
            return;
        }
        st->stack = v;
        st->cap = cap;
    }
    e = &st->stack[st->n++];
    memset(e, 0, sizeof(*e));
    e->name = localname;
    if (prefix && !uri) {
        /* an undeclared prefix: the tree names the element "p:x" */
        const xmlChar *q = xmlDictQLookup(st->ctxt->dict, prefix,
                                          localname);

        if (q)
            e->name = q;
    }
    e->ns = uri;
    a.n = nb_attributes;
    a.v = attributes;
    for (i = 0; i < (size_t)nb_attributes; i++)
        if (str_is(A_LOCAL(attributes, i), "base")
            && str_is(A_URI(attributes, i),
                      "http://www.w3.org/XML/1998/namespace")) {
            ear_buf_init(&scratch, TEXT_CAP);
            rc = attr_decode(st, &scratch, A_VALUE(attributes, i),
                             A_END(attributes, i));
            if (rc < 0) {
                fail(st, rc);
                return;
            }
            e->base = ear_buf_take(&scratch, NULL);
            ear_buf_dispose(&scratch);
            if (!e->base) {
                fail(st, EAR_ENOMEM);
                return;
            }
            if (e->base)
                st->nbase++;
            break;
        }
    for (i = 0; i < st->nact; i++)
        if (st->act[i]->kind == CAP_XHTML)
            ear_text__sax_start(&st->act[i]->xs, e->name);

    depth = (int)st->n - 1;
    line = st->ctxt->input ? st->ctxt->input->line : 0;
    if (line > 65535)
        line = 65535; /* what a tree node keeps */
    if (!st->seen_root) {
        st->seen_root = 1;
        st->doc_root = e->name;
        st->doc_root_line = line;
    }
    if (st->root < 0) {
        if (depth <= WALK_MAX + 1 && is_feed_root(e->name, e->ns))
            root_start(st, e, line);
        return;
    }
    if (st->root_done)
        return;
    rel = depth - st->root;
    parent = &st->stack[depth - 1];
    ear_buf_init(&scratch, TEXT_CAP);
    if (parent->media)
        media_elem(st, parent->media, e);
    if (parent->person && str_is(e->name, "name") && ns_atom(st, e->ns)
        && !parent->person->f[F_NAME].set)
        cap_open(st, &parent->person->f[F_NAME], CAP_TEXT);
    if (st->nitem > 0) {
        struct item *it = st->pool[st->nitem - 1];

        if (it->sub_depth == depth - 1)
            rating_child(st, it, 1, e, &a, &scratch);
        if (it->depth == depth - 1) {
            if (st->dialect == D_RSS || st->dialect == D_RDF)
                rss_child(st, it, e, &a, &scratch);
            else
                atom_child(st, it, e, &a, &scratch);
            rating_child(st, it, 0, e, &a, &scratch);
        }
    }
    if (st->head && st->head_depth == depth - 1)
        head_child(st, e, &a, &scratch);
    if (st->dialect == D_RSS || st->dialect == D_RDF) {
        if (rel <= WALK_MAX + 1 && str_is(e->name, "item") && ns_rss(e->ns))
            item_start(st, &a, e);
        else if (rel == 1 && str_is(e->name, "channel") && ns_rss(e->ns)) {
            st->head = item_state(st, WALK_MAX + 2);
            st->head_depth = depth;
        }
    } else {
        e->no_walk = parent->no_walk
                     || (depth - 1 > st->root
                         && (str_is(parent->name, "content")
                             || str_is(parent->name, "summary")));
        if (rel <= WALK_MAX + 1 && !e->no_walk && str_is(e->name, "entry")
            && ns_atom(st, e->ns))
            item_start(st, &a, e);
    }
    ear_buf_dispose(&scratch);
}

/* The element at the top of the stack ends. */
static void end_elem(struct sax *st)
{
    struct elem *e = &st->stack[st->n - 1];
    int depth = (int)st->n - 1, rc = 0;
    size_t i;

    st->nact -= e->ncap;
    for (i = 0; i < st->nact; i++)
        if (st->act[i]->kind == CAP_XHTML)
            ear_text__sax_end(&st->act[i]->xs, e->name);
    if (st->root >= 0 && !st->root_done && st->nitem > 0) {
        struct item *it = st->pool[st->nitem - 1];

        if (it->rate_depth == depth) {
            const char *s = ear_buf_str(&it->f[F_RATE].text);
            double v = NAN;

            if (ear_rating__number(&v, s) < 0)
                v = NAN;
            it->rate_list->v[it->rate_idx].v = v;
            it->rate_depth = -1;
        }
        if (it->sub_depth == depth) {
            double r = rating_eval(&it->sub);

            it->sub_depth = -1;
            rlist_add(st, &it->ev, it->sub_kind, r);
        }
        if (it->depth == depth) {
            rc = st->dialect == D_RSS || st->dialect == D_RDF
                     ? rss_item_end(st, it)
                     : atom_entry_end(st, it);
            st->nitem--;
        }
    }
    if (rc == 0 && st->head && !st->root_done) {
        if (e->person == st->head)
            rc = feed_author_end(st);
        if (rc == 0 && st->head_depth == depth) {
            rc = st->dialect == D_RSS || st->dialect == D_RDF
                     ? channel_end(st)
                     : atom_feed_end(st);
            st->head_depth = -1;
        }
    }
    if (rc == 0 && st->root == depth)
        st->root_done = 1;
    if (e->base) {
        free(e->base);
        st->nbase--;
    }
    st->n--;
    if (rc < 0)
        fail(st, rc);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                   const xmlChar *uri)
{
    struct sax *st = sax_of(ctx);

    (void)localname;
    (void)prefix;
    (void)uri;
    if (st && ctx == st->ctxt)
        st->in_entity = 0;
    if (st && ctx == st->ctxt && st->n > 0)
        end_elem(st);
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct sax *st = sax_of(ctx);
    size_t i;

    if (!st || len <= 0)
        return;
    if (ctx == st->ctxt) {
        st->in_entity = 0;
    } else if (!st->in_entity) {
        /* an entity's content: kept unless it fails to parse */
        st->in_entity = 1;
        for (i = 0; i < st->nact; i++)
            st->act[i]->mark = st->act[i]->text.len;
    }
    for (i = 0; i < st->nact; i++) {
        struct field *f = st->act[i];

        if (f->kind == CAP_XHTML) {
            ear_text__sax_chars(&f->xs, (const char *)ch, (size_t)len);
        } else {
            int rc = ear_buf_addn(&f->text, ch, (size_t)len);

            if (rc < 0) {
                fail(st, rc);
                return;
            }
        }
    }
}

/* Two things a tree does that the events do not say. libxml2 drops an
 * element whose start tag does not end ("<name x y") from its node stack
 * without an end event: the tree keeps it, empty, and what follows goes
 * to its parent; the stack follows the tree. And the text of an entity
 * whose content fails to parse is delivered, then left out of the tree. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    struct sax *st = sax_of(ctx);
    size_t i;

    if (!st || !e || ctx != st->ctxt)
        return;
    if (e->level >= XML_ERR_ERROR && e->domain != XML_FROM_NAMESPACE)
        st->push_error = st->push;
    if (st->in_entity && e->code == XML_ERR_UNDECLARED_ENTITY
        && e->message && strstr(e->message, "failed to parse")) {
        /* a tree drops the content of an entity that does not parse */
        for (i = 0; i < st->nact; i++)
            if (st->act[i]->kind == CAP_TEXT
                && st->act[i]->text.len >= st->act[i]->mark) {
                st->act[i]->text.len = st->act[i]->mark;
                if (st->act[i]->text.ptr)
                    st->act[i]->text.ptr[st->act[i]->mark] = '\0';
            }
        st->in_entity = 0;
        return;
    }
    if (e->code == XML_ERR_GT_REQUIRED && e->message
        && strncmp(e->message, "Couldn't find end of Start Tag", 30) == 0
        && st->n > 0)
        end_elem(st);
}

/* ------------------------------------------------------------ entry */

/* Frees what one run of the parser kept in st. */
static void sax_dispose(struct sax *st)
{
    size_t i;

    for (i = 0; i < st->n; i++)
        free(st->stack[i].base);
    free(st->stack);
    free(st->act);
    for (i = 0; i < sizeof(st->pool) / sizeof(st->pool[0]); i++)
        item_free(st->pool[i]);
    free(st->pending);
    free(st->feed_author);
    ear_html__dispose(&st->html);
}

static void sax_init(struct sax *st, struct ear_mention_list *items,
                     struct ear_feed_info *info, const char *type,
                     const char *source_name, struct ear_error *err)
{
    memset(st, 0, sizeof(*st));
    st->source_name = source_name;
    st->type = type;
    st->items = items;
    st->info = info;
    st->err = err;
    st->root = -1;
    st->head_depth = -1;
    ear_html__init(&st->html);
}

/* One run of libxml2 over the document into st. push = 1 uses the push
 * parser (xmlParseChunk), 0 the pull parser (xmlParseDocument); for a
 * well-formed document both give the same events, and the push parser
 * reads a CDATA section as one block where the pull parser copies it a
 * character at a time. They recover from broken markup differently, so
 * the caller re-reads a document the push parser found broken with the
 * pull parser (*broken = 1). NULL when out of memory. */
static xmlParserCtxtPtr sax_run(struct sax *st, const char *body, size_t len,
                                const char *base_url, const char *encoding,
                                int opts, int push, int *broken)
{
    xmlParserCtxtPtr ctxt;
    xmlSAXHandlerPtr sax;
    int head = len < 4 ? (int)len : 4, rc = 0;

    /* The push parser detects the charset from the first bytes, as
     * xmlParseDocument() does: they go in first, the rest after the
     * options, the encoding and the base are set. */
    ctxt = push ? xmlCreatePushParserCtxt(NULL, NULL, body, head, NULL)
                : xmlCreateMemoryParserCtxt(body, (int)len);
    if (!ctxt)
        return NULL;
    st->ctxt = ctxt;
    st->push = push;
    /* libxml2's own SAX2 handlers keep the document, its DTD and its
     * entities (cheap, and what entity references need); elements and
     * text come to us and build nothing */
    sax = ctxt->sax;
    xmlSAXVersion(sax, 2);
    sax->startElementNs = on_start;
    sax->endElementNs = on_end;
    sax->characters = on_chars;
    sax->ignorableWhitespace = on_chars;
    sax->cdataBlock = on_chars;
    sax->reference = NULL;
    sax->comment = NULL;
    sax->processingInstruction = NULL;
    ctxt->_private = st;
    /* what xmlCtxtReadMemory() does before it parses */
    xmlCtxtUseOptions(ctxt, opts);
    sax->serror = on_error;
    if (encoding) {
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(encoding);

        if (ctxt->encoding)
            xmlFree((xmlChar *)ctxt->encoding);
        ctxt->encoding = xmlStrdup(BAD_CAST encoding);
        if (h)
            xmlSwitchToEncoding(ctxt, h);
    }
    if (base_url && ctxt->input && !ctxt->input->filename)
        ctxt->input->filename = (char *)xmlStrdup(BAD_CAST base_url);
    if (push)
        rc = xmlParseChunk(ctxt, body + head, (int)len - head, 1);
    else
        xmlParseDocument(ctxt);
    /* an error, or a stop without one (a failed conversion) */
    *broken = push && st->rc != EAR_ENOMEM
              && (!ctxt->wellFormed || st->push_error || rc < 0);
    return ctxt;
}

int ear_feed__xml(struct ear_mention_list *items, struct ear_feed_info *info,
                  const char *body, size_t len, const char *base_url,
                  const char *encoding, int opts, const char *type,
                  int skipped_lines, int refs, const char *source_name,
                  struct ear_error *err)
{
    struct sax st;
    struct ear_error err0;
    xmlParserCtxtPtr ctxt;
    size_t n0 = items->n, num_len = 0;
    char *num = NULL;
    int rc = 0, broken = 0;

    if (err)
        err0 = *err;
    sax_init(&st, items, info, type, source_name, err);
    /* the pull parser's limit on one text node (XML_PARSE_HUGE is not
     * set), which the push parser does not check in CDATA sections */
    ctxt = sax_run(&st, body, len, base_url, encoding, opts,
                   len < XML_MAX_TEXT_LENGTH, &broken);
    if (ctxt && broken) {
        /* broken markup: recovered as the pull parser recovers */
        sax_dispose(&st);
        while (items->n > n0)
            ear_mention_dispose(&items->v[--items->n]);
        ear_feed_info_dispose(info);
        if (err)
            *err = err0;
        if (ctxt->myDoc)
            xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
        xmlFreeParserCtxt(ctxt);
        /* past its first error libxml2 drops entity references, not
         * character references: the text they stand for is kept */
        if (refs
            && ear_feed__fix_entities(&num, &num_len, body, len, 1) == 0
            && num && num_len <= INT_MAX) {
            body = num;
            len = num_len;
        }
        sax_init(&st, items, info, type, source_name, err);
        ctxt = sax_run(&st, body, len, base_url, encoding, opts, 0, &broken);
    }
    if (!ctxt) {
        sax_dispose(&st);
        free(num);
        return ear_error_set(err, EAR_ENOMEM, source_name, 0, 0,
                             "out of memory");
    }

    /* a truncated document: what is open ends here */
    st.stop = st.rc < 0;
    while (st.n > 0 && !st.stop)
        end_elem(&st);

    if (st.err_set) {
        rc = st.rc;
    } else if (st.rc < 0) {
        rc = ear_error_set(err, st.rc, source_name, 0, 0, "%s",
                           ear_strerror(st.rc));
    } else if (!st.seen_root) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[256];
        size_t n;

        snprintf(msg, sizeof(msg), "%s",
                 e && e->message ? e->message : "not well-formed");
        n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        rc = ear_error_set(err, EAR_EPARSE, source_name,
                           e && e->line ? e->line + skipped_lines : 0,
                           e ? e->int2 : 0, "malformed XML: %s", msg);
    } else if (st.root < 0) {
        if (strcasecmp((const char *)st.doc_root, "html") == 0)
            rc = ear_error_set(err, EAR_EPARSE, source_name,
                               st.doc_root_line, 0,
                               "not a feed: an HTML page (root element "
                               "<%s>)", (const char *)st.doc_root);
        else
            rc = ear_error_set(err, EAR_EPARSE, source_name,
                               st.doc_root_line, 0,
                               "not a feed: unknown root element <%s>",
                               (const char *)st.doc_root);
    }

    sax_dispose(&st);
    if (ctxt->myDoc)
        xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);
    free(num);
    return rc;
}
