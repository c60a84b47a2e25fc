/*
 * ear_feed_parse(): one document in, mention records out.
 *
 * The bytes are first sniffed: JSON goes to jsonfeed.c, XML is read by
 * libxml2 into a tree (recovering from what it can), and the root element
 * says which dialect it is: <rss> (0.91, 0.92, 2.0), <rdf:RDF> (RSS 0.90 /
 * 1.0) or <feed> (Atom 0.3 / 1.0). Each item's child elements are sorted
 * into the fields of struct ear_mention by namespace and name, including
 * the extension namespaces that carry content (content:encoded, dc:*,
 * media:description, itunes:*, inline XHTML).
 *
 * Charset: libxml2 honours a BOM and the XML declaration. When the document
 * declares nothing, the HTTP charset (content_type) is passed in. Bytes that
 * must be UTF-8 but are not are replaced by U+FFFD before libxml2 sees them,
 * so invalid input never switches the parser into a guessed encoding.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/encoding.h>
#include <libxml/parser.h>

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

enum dialect { D_RSS, D_RDF, D_ATOM10, D_ATOM03 };

#define WALK_MAX 8 /* how deep items are searched for */

struct ctx {
    xmlDocPtr doc;
    enum dialect dialect;
    const char *source_name;
    struct ear_mention_list *items;
    struct ear_feed_info *info;
    struct ear_html html;
    char *feed_author; /* Atom: entries inherit the feed's author */
    int atom_no_ns;    /* an Atom feed without its namespace */
};

/* ------------------------------------------------------------ helpers */

static int name_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE
           && strcmp((const char *)n->name, name) == 0;
}

static int ns_is(const xmlNode *n, const char *uri)
{
    if (!n->ns || !n->ns->href)
        return uri == NULL;
    return uri && strcmp((const char *)n->ns->href, uri) == 0;
}

/* The media RSS namespace is written with and without a final slash. */
static int ns_media(const xmlNode *n)
{
    return n->ns && n->ns->href
           && strncmp((const char *)n->ns->href, "http://search.yahoo.com/mrss",
                      28) == 0;
}

/* RSS elements: no namespace, or one of the RSS namespaces in use. */
static int ns_rss(const xmlNode *n)
{
    return ns_is(n, NULL) || ns_is(n, NS_RSS10) || ns_is(n, NS_RSS090)
           || ns_is(n, NS_RSS_USERLAND);
}

/* Atom elements; a feed that lacks the Atom namespace has them bare. */
static int ns_atom(const struct ctx *c, const xmlNode *n)
{
    return ns_is(n, NS_ATOM10) || ns_is(n, NS_ATOM03)
           || (c->atom_no_ns && ns_is(n, NULL));
}

static char *prop(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, BAD_CAST name);
}

static int prop_is(const xmlNode *n, const char *name, const char *value)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    int r = v && xmlStrcasecmp(v, BAD_CAST value) == 0;

    xmlFree(v);
    return r;
}

static int64_t node_time(const xmlNode *n)
{
    xmlChar *s;
    int64_t t = 0;

    if (!n)
        return 0;
    s = xmlNodeGetContent(n);
    if (s && ear_time_parse(&t, (const char *)s) < 0)
        t = 0;
    xmlFree(s);
    return t;
}

/* Plain string content, copied (NULL when the node is NULL). */
static int node_plain(char **out, const xmlNode *n)
{
    xmlChar *s;

    *out = NULL;
    if (!n)
        return 0;
    s = xmlNodeGetContent(n);
    if (!s)
        return 0;
    *out = ear_strdup((const char *)s);
    xmlFree(s);
    return *out ? 0 : EAR_ENOMEM;
}

/* Text of an element whose content is HTML (RSS description, title). */
static int node_html(struct ctx *c, char **out, const xmlNode *n, int oneline)
{
    xmlChar *s;
    int rc;

    *out = NULL;
    if (!n)
        return 0;
    s = xmlNodeGetContent(n);
    if (!s)
        return 0;
    rc = ear_html__convert(&c->html, out, (const char *)s,
                           strlen((const char *)s), oneline);
    xmlFree(s);
    return rc;
}

/* A walk of inline XHTML children into a string. */
static int node_xhtml(char **out, const xmlNode *n, int oneline)
{
    struct ear_text t;
    int rc = 0;

    ear_text__init(&t, 0);
    ear_text__node(&t, n);
    *out = ear_text__take(&t, &rc);
    if (*out && oneline) {
        char *p;

        for (p = *out; *p; p++)
            if (*p == '\n')
                *p = ' ';
    }
    return rc;
}

/* Atom text construct (1.0 type text/html/xhtml; 0.3 type + mode). */
static int atom_text(struct ctx *c, char **out, const xmlNode *n, int oneline)
{
    char *type, *mode;
    int rc = 0;

    *out = NULL;
    if (!n)
        return 0;
    type = prop(n, "type");
    mode = prop(n, "mode");
    if (mode && strcmp(mode, "base64") == 0) {
        rc = 0; /* binary content is not text */
    } else if (type && (strcmp(type, "xhtml") == 0
                        || strcmp(type, "application/xhtml+xml") == 0
                        || (mode && strcmp(mode, "xml") == 0
                            && strstr(type, "html")))) {
        rc = node_xhtml(out, n, oneline);
    } else if (type && (strcmp(type, "html") == 0
                        || strcmp(type, "text/html") == 0)) {
        rc = node_html(c, out, n, oneline);
    } else {
        xmlChar *s = xmlNodeGetContent(n);

        if (s) {
            struct ear_text t;

            ear_text__init(&t, 0);
            ear_text__add(&t, (const char *)s, strlen((const char *)s),
                          !oneline);
            *out = ear_text__take(&t, &rc);
        }
        xmlFree(s);
    }
    xmlFree(type);
    xmlFree(mode);
    return rc;
}

/* A link element's target (href attribute or content), resolved against
 * xml:base and the document URL. */
static int node_link(struct ctx *c, char **out, const xmlNode *n,
                     int from_href)
{
    xmlChar *ref, *base;

    *out = NULL;
    if (!n)
        return 0;
    ref = from_href ? xmlGetProp(n, BAD_CAST "href") : xmlNodeGetContent(n);
    if (!ref)
        return 0;
    base = xmlNodeGetBase(c->doc, n);
    *out = ear_url__resolve((const char *)ref, (const char *)base);
    xmlFree(base);
    xmlFree(ref);
    return 0;
}

/* An Atom link is an alternate one when rel is absent or "alternate". */
static int atom_alternate(const xmlNode *n)
{
    xmlChar *rel = xmlGetProp(n, BAD_CAST "rel");
    int r = !rel || xmlStrcmp(rel, BAD_CAST "alternate") == 0;

    xmlFree(rel);
    return r;
}

/* media:<what> (description, title) directly or inside media:group /
 * media:content. */
static const xmlNode *media_find(const xmlNode *n, const char *what)
{
    const xmlNode *k;
    const char *l = (const char *)n->name;
    const char *colon = strchr(l, ':');

    if (colon)
        l = colon + 1; /* undeclared "media:" prefix */
    if (strcmp(l, what) == 0)
        return n;
    if (strcmp(l, "group") != 0 && strcmp(l, "content") != 0)
        return NULL;
    for (k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE) {
            const xmlNode *d = media_find(k, what);

            if (d)
                return d;
        }
    return NULL;
}

static int atom_person(const struct ctx *c, char **out, const xmlNode *n)
{
    const xmlNode *k;

    for (k = n->children; k; k = k->next)
        if (name_is(k, "name") && ns_atom(c, k))
            return node_plain(out, k);
    return node_plain(out, n);
}

/* Moves a finished mention into the list. */
static int push(struct ctx *c, struct ear_mention *m)
{
    struct ear_mention *slot;
    int rc;

    rc = ear_str_set(&m->source, c->source_name);
    if (rc == 0)
        rc = ear_item__finish(m);
    if (rc < 0)
        return rc;
    slot = ear_mention_list_push(c->items);
    if (!slot)
        return EAR_ENOMEM;
    *slot = *m;
    ear_mention_init(m);
    return 0;
}

/* ------------------------------------------------------------ RSS, RDF */

struct rss_fields {
    const xmlNode *title, *link, *guid, *desc, *content, *xbody, *mdesc,
        *isum, *author, *creator, *iauthor, *pub, *dcdate, *alink,
        *apub, *aupd, *modified, *dctitle, *dcdesc, *mtitle;
};

/* The namespace and local name of an element. A prefix the document never
 * declared ("content:encoded" in a feed missing xmlns:content) is common
 * enough to be read by convention. */
static const char *elem_ns(const xmlNode *n, const char **local)
{
    static const char *const prefixes[][2] = {
        {"content", NS_CONTENT}, {"dc", NS_DC}, {"dcterms", NS_DCTERMS},
        {"media", "http://search.yahoo.com/mrss/"}, {"atom", NS_ATOM10},
        {"itunes", NS_ITUNES}, {"xhtml", NS_XHTML}, {"rev", NS_REV},
        {"gd", NS_GD}};
    const char *name = (const char *)n->name;
    const char *colon;
    size_t i;

    *local = name;
    if (n->ns && n->ns->href)
        return (const char *)n->ns->href;
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

static int uri_is(const char *ns, const char *uri)
{
    return ns && strcmp(ns, uri) == 0;
}

static void rss_collect(struct rss_fields *f, const xmlNode *item)
{
    const xmlNode *n;

    for (n = item->children; n; n = n->next) {
        const char *ns, *l;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        ns = elem_ns(n, &l);
        if (!ns || uri_is(ns, NS_RSS10) || uri_is(ns, NS_RSS090)
            || uri_is(ns, NS_RSS_USERLAND)) {
            if (strcmp(l, "title") == 0 && !f->title)
                f->title = n;
            else if (strcmp(l, "link") == 0 && !f->link)
                f->link = n;
            else if (strcmp(l, "guid") == 0 && !f->guid)
                f->guid = n;
            else if (strcmp(l, "description") == 0 && !f->desc)
                f->desc = n;
            else if (strcmp(l, "author") == 0 && !f->author)
                f->author = n;
            else if ((strcmp(l, "pubDate") == 0 || strcmp(l, "pubdate") == 0)
                     && !f->pub)
                f->pub = n;
        } else if (uri_is(ns, NS_CONTENT)) {
            if (strcmp(l, "encoded") == 0 && !f->content)
                f->content = n;
        } else if (uri_is(ns, NS_DC)) {
            if (strcmp(l, "creator") == 0 && !f->creator)
                f->creator = n;
            else if (strcmp(l, "date") == 0 && !f->dcdate)
                f->dcdate = n;
            else if (strcmp(l, "title") == 0 && !f->dctitle)
                f->dctitle = n;
            else if (strcmp(l, "description") == 0 && !f->dcdesc)
                f->dcdesc = n;
        } else if (uri_is(ns, NS_DCTERMS)) {
            if (strcmp(l, "modified") == 0 && !f->modified)
                f->modified = n;
            else if (strcmp(l, "created") == 0 && !f->dcdate)
                f->dcdate = n;
        } else if (strncmp(ns, "http://search.yahoo.com/mrss", 28) == 0) {
            if (!f->mdesc)
                f->mdesc = media_find(n, "description");
            if (!f->mtitle)
                f->mtitle = media_find(n, "title");
        } else if (uri_is(ns, NS_ATOM10)) {
            if (strcmp(l, "link") == 0 && !f->alink && atom_alternate(n))
                f->alink = n;
            else if (strcmp(l, "published") == 0 && !f->apub)
                f->apub = n;
            else if (strcmp(l, "updated") == 0 && !f->aupd)
                f->aupd = n;
        } else if (uri_is(ns, NS_XHTML)) {
            if (strcmp(l, "body") == 0 && !f->xbody)
                f->xbody = n;
        } else if (uri_is(ns, NS_ITUNES)) {
            if (strcmp(l, "summary") == 0 && !f->isum)
                f->isum = n;
            else if (strcmp(l, "author") == 0 && !f->iauthor)
                f->iauthor = n;
        }
    }
}

/* ------------------------------------------------------------ ratings */

static double node_number(const xmlNode *n, const char *attr)
{
    xmlChar *s = attr ? xmlGetProp(n, BAD_CAST attr) : xmlNodeGetContent(n);
    double v = NAN;

    if (s && ear_rating__number(&v, (const char *)s) < 0)
        v = NAN;
    xmlFree(s);
    return v;
}

/* A star rating carried by an extension element of an item:
 *   <rev:rating>4</rev:rating> <rev:minRating>1</rev:minRating>
 *   <rev:maxRating>5</rev:maxRating> (RDF Review vocabulary, also inside
 *   a rev:review / rev:Review element),
 *   <gd:rating value="4" min="1" max="5"/> (Google Data, also average=),
 *   <media:starRating average="4.2" min="1" max="5"/> (Media RSS, inside
 *   media:community).
 * Normalised to 1..5; 0 when there is none. */
static double item_rating(const xmlNode *item, int depth)
{
    const xmlNode *n;
    double value = NAN, worst = NAN, best = NAN;
    double r;

    for (n = item->children; n; n = n->next) {
        const char *ns, *l;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        ns = elem_ns(n, &l);
        if (uri_is(ns, NS_REV)) {
            if (strcmp(l, "rating") == 0 && isnan(value))
                value = node_number(n, NULL);
            else if (strcmp(l, "minRating") == 0)
                worst = node_number(n, NULL);
            else if (strcmp(l, "maxRating") == 0)
                best = node_number(n, NULL);
            else if ((strcmp(l, "review") == 0 || strcmp(l, "Review") == 0)
                     && depth == 0 && isnan(value)) {
                r = item_rating(n, 1);
                if (r > 0)
                    return r;
            }
        } else if ((uri_is(ns, NS_GD) && strcmp(l, "rating") == 0)
                   || (ns && strncmp(ns, "http://search.yahoo.com/mrss", 28)
                                == 0
                       && strcmp(l, "starRating") == 0)) {
            double v = node_number(n, "value");

            if (isnan(v))
                v = node_number(n, "average");
            if (!isnan(v)) {
                r = ear_rating__normalize(v, node_number(n, "min"),
                                          node_number(n, "max"));
                if (r > 0)
                    return r;
            }
        } else if (ns && strncmp(ns, "http://search.yahoo.com/mrss", 28) == 0
                   && strcmp(l, "community") == 0 && depth == 0) {
            r = item_rating(n, 1);
            if (r > 0)
                return r;
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

static int rss_item(struct ctx *c, const xmlNode *item)
{
    struct rss_fields f;
    struct ear_mention m;
    const xmlNode *body;
    int rc = 0;

    memset(&f, 0, sizeof(f));
    ear_mention_init(&m);
    rss_collect(&f, item);

    rc = node_html(c, &m.title, f.title ? f.title
                                : f.dctitle ? f.dctitle
                                            : f.mtitle, 1);
    if (rc < 0)
        goto out;
    if (f.link)
        rc = node_link(c, &m.url, f.link, 0);
    else if (f.alink)
        rc = node_link(c, &m.url, f.alink, 1);
    if (rc < 0)
        goto out;
    if (f.guid) {
        rc = node_plain(&m.guid, f.guid);
        if (rc < 0)
            goto out;
        /* A permalink guid is the item's link when it has no other. */
        if (!m.url && m.guid && !prop_is(f.guid, "isPermaLink", "false")
            && (strncmp(m.guid, "http://", 7) == 0
                || strncmp(m.guid, "https://", 8) == 0))
            m.url = ear_url__resolve(m.guid, NULL);
    } else if (c->dialect == D_RDF) {
        m.guid = prop((const xmlNode *)item, "about");
    }
    if (f.xbody) {
        rc = node_xhtml(&m.text, f.xbody, 0);
    } else {
        body = f.content ? f.content
               : f.desc  ? f.desc
               : f.dcdesc ? f.dcdesc
               : f.mdesc ? f.mdesc
                         : f.isum;
        rc = node_html(c, &m.text, body, 0);
    }
    if (rc < 0)
        goto out;
    rc = node_plain(&m.author, f.author ? f.author
                               : f.creator ? f.creator
                                           : f.iauthor);
    if (rc < 0)
        goto out;
    m.published = node_time(f.pub ? f.pub : f.dcdate ? f.dcdate : f.apub);
    m.updated = node_time(f.aupd ? f.aupd : f.modified);
    if (!m.published)
        m.published = m.updated;
    m.rating = item_rating(item, 0);
    rc = push(c, &m);
out:
    ear_mention_dispose(&m);
    return rc;
}

static int rss_channel_info(struct ctx *c, const xmlNode *chan)
{
    const xmlNode *n, *title = NULL, *link = NULL, *alink = NULL;
    int rc;

    if (!c->info || c->info->title)
        return 0;
    for (n = chan->children; n; n = n->next) {
        if (name_is(n, "title") && ns_rss(n) && !title)
            title = n;
        else if (name_is(n, "link") && ns_rss(n) && !link)
            link = n;
        else if (name_is(n, "link") && ns_is(n, NS_ATOM10) && !alink
                 && atom_alternate(n))
            alink = n;
    }
    rc = node_html(c, &c->info->title, title, 1);
    if (rc == 0 && !c->info->link)
        rc = link ? node_link(c, &c->info->link, link, 0)
                  : node_link(c, &c->info->link, alink, 1);
    return rc;
}

/* <rss><channel>...<item/>...</channel></rss>; RSS 0.90/1.0 put items
 * beside the channel, and some feeds put them where they should not be,
 * so both levels are searched. */
static int rss_walk(struct ctx *c, const xmlNode *parent, int depth)
{
    const xmlNode *n;
    int rc = 0;

    for (n = parent->children; n && rc == 0; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (name_is(n, "item") && ns_rss(n)) {
            rc = rss_item(c, n);
        } else if (name_is(n, "channel") && ns_rss(n) && depth == 0) {
            rc = rss_channel_info(c, n);
        }
        /* libxml2's recovery nests what follows an unclosed element
         * inside it (an item, an itunes:category): search below too. */
        if (rc == 0 && depth < WALK_MAX && n->children)
            rc = rss_walk(c, n, depth + 1);
    }
    return rc;
}

/* ------------------------------------------------------------ Atom */

struct atom_fields {
    const xmlNode *id, *title, *link, *content, *summary, *author,
        *published, *updated, *mdesc, *creator, *dcdate, *mtitle;
};

static int atom_entry(struct ctx *c, const xmlNode *entry)
{
    struct atom_fields f;
    struct ear_mention m;
    const xmlNode *n;
    int rc = 0;
    int link_html = 0;

    memset(&f, 0, sizeof(f));
    ear_mention_init(&m);
    for (n = entry->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (ns_atom(c, n)) {
            if (name_is(n, "id") && !f.id)
                f.id = n;
            else if (name_is(n, "title") && !f.title)
                f.title = n;
            else if (name_is(n, "link") && atom_alternate(n)) {
                /* prefer an HTML alternate over other types */
                xmlChar *type = xmlGetProp(n, BAD_CAST "type");
                int html = !type || xmlStrstr(type, BAD_CAST "html");

                xmlFree(type);
                if (!f.link || (html && !link_html)) {
                    f.link = n;
                    link_html = html;
                }
            } else if (name_is(n, "content") && !f.content) {
                xmlChar *src = xmlGetProp(n, BAD_CAST "src");

                if (!src)
                    f.content = n;
                xmlFree(src);
            } else if (name_is(n, "summary") && !f.summary)
                f.summary = n;
            else if (name_is(n, "author") && !f.author)
                f.author = n;
            else if ((name_is(n, "published") || name_is(n, "issued")
                      || name_is(n, "created"))
                     && !f.published)
                f.published = n;
            else if ((name_is(n, "updated") || name_is(n, "modified"))
                     && !f.updated)
                f.updated = n;
        } else if (ns_media(n)) {
            if (!f.mdesc)
                f.mdesc = media_find(n, "description");
            if (!f.mtitle)
                f.mtitle = media_find(n, "title");
        } else if (ns_is(n, NS_DC)) {
            if (name_is(n, "creator") && !f.creator)
                f.creator = n;
            else if (name_is(n, "date") && !f.dcdate)
                f.dcdate = n;
        }
    }
    rc = node_plain(&m.guid, f.id);
    if (rc == 0)
        rc = atom_text(c, &m.title, f.title, 1);
    if (rc == 0 && !m.title && f.mtitle)
        rc = node_plain(&m.title, f.mtitle);
    if (rc == 0)
        rc = node_link(c, &m.url, f.link, 1);
    if (rc == 0 && f.content)
        rc = atom_text(c, &m.text, f.content, 0);
    if (rc == 0 && !m.text && f.summary)
        rc = atom_text(c, &m.text, f.summary, 0);
    if (rc == 0 && !m.text && f.mdesc)
        rc = node_html(c, &m.text, f.mdesc, 0);
    if (rc == 0 && f.author)
        rc = atom_person(c, &m.author, f.author);
    else if (rc == 0 && f.creator)
        rc = node_plain(&m.author, f.creator);
    else if (rc == 0 && c->feed_author)
        rc = ear_str_set(&m.author, c->feed_author);
    if (rc < 0)
        goto out;
    m.published = node_time(f.published ? f.published : f.dcdate);
    m.updated = node_time(f.updated);
    if (!m.published)
        m.published = m.updated;
    m.rating = item_rating(entry, 0);
    rc = push(c, &m);
out:
    ear_mention_dispose(&m);
    return rc;
}

/* Entries, also where recovery nested them inside unclosed elements. */
static int atom_walk(struct ctx *c, const xmlNode *parent, int depth)
{
    const xmlNode *n;
    int rc = 0;

    for (n = parent->children; n && rc == 0; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (name_is(n, "entry") && ns_atom(c, n))
            rc = atom_entry(c, n);
        if (rc == 0 && depth < WALK_MAX && n->children
            && !(name_is(n, "content") || name_is(n, "summary")))
            rc = atom_walk(c, n, depth + 1);
    }
    return rc;
}

static int atom_feed(struct ctx *c, const xmlNode *root)
{
    const xmlNode *n, *title = NULL, *link = NULL;
    int rc = 0;

    for (n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !ns_atom(c, n))
            continue;
        if (name_is(n, "title") && !title)
            title = n;
        else if (name_is(n, "link") && !link && atom_alternate(n))
            link = n;
        else if (name_is(n, "author") && !c->feed_author)
            rc = atom_person(c, &c->feed_author, n);
        if (rc < 0)
            return rc;
    }
    if (c->info && !c->info->title) {
        rc = atom_text(c, &c->info->title, title, 1);
        if (rc == 0 && !c->info->link)
            rc = node_link(c, &c->info->link, link, 1);
        if (rc < 0)
            return rc;
    }
    return atom_walk(c, root, 0);
}

/* ------------------------------------------------------------ sniffing */

static int is_blank(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static int ci_prefix(const char *s, size_t len, const char *pre)
{
    size_t n = strlen(pre);

    return len >= n && strncasecmp(s, pre, n) == 0;
}

/* A charset parameter of a Content-Type, into buf ("" when none). */
static void content_type_charset(char *buf, size_t size, const char *ct)
{
    const char *p;
    size_t n = 0;

    buf[0] = '\0';
    if (!ct)
        return;
    for (p = ct; *p; p++)
        if (ci_prefix(p, strlen(p), "charset="))
            break;
    if (!*p)
        return;
    p += 8;
    if (*p == '"' || *p == '\'')
        p++;
    while (p[n] && p[n] != '"' && p[n] != '\'' && p[n] != ';'
           && !is_blank((unsigned char)p[n]) && n + 1 < size) {
        buf[n] = p[n];
        n++;
    }
    buf[n] = '\0';
}

/* The encoding named by an XML declaration at s, into buf ("" when none). */
static void xml_decl_encoding(char *buf, size_t size, const char *s,
                              size_t len)
{
    const char *end, *p;
    size_t n = 0;
    char q;

    buf[0] = '\0';
    if (!ci_prefix(s, len, "<?xml"))
        return;
    end = memchr(s, '>', len < 512 ? len : 512);
    if (!end)
        return;
    for (p = s; p + 8 < end; p++)
        if (strncmp(p, "encoding", 8) == 0)
            break;
    if (p + 8 >= end)
        return;
    p += 8;
    while (p < end && is_blank((unsigned char)*p))
        p++;
    if (p >= end || *p++ != '=')
        return;
    while (p < end && is_blank((unsigned char)*p))
        p++;
    if (p >= end || (*p != '"' && *p != '\''))
        return;
    q = *p++;
    while (p + n < end && p[n] != q && n + 1 < size) {
        buf[n] = p[n];
        n++;
    }
    buf[n] = '\0';
}

static int is_utf8_name(const char *enc)
{
    return strcasecmp(enc, "utf-8") == 0 || strcasecmp(enc, "utf8") == 0;
}

static int looks_utf16(const unsigned char *s, size_t len)
{
    if (len >= 2 && ((s[0] == 0xFE && s[1] == 0xFF)
                     || (s[0] == 0xFF && s[1] == 0xFE)))
        return 1;
    return len >= 2 && (s[0] == 0 || s[1] == 0);
}

enum kind { K_NONE, K_XML, K_JSON };

/* Skips a UTF-8 BOM, blanks and junk before the markup ("stray text
 * before the XML declaration"). *lines counts the newlines skipped, so
 * that error lines still point into the original document. */
static enum kind sniff(const char **body, size_t *len, int *lines)
{
    const char *s = *body, *lt;
    size_t n = *len, i;

    *lines = 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    if (looks_utf16((const unsigned char *)s, n))
        return K_XML;
    i = 0;
    while (i < n && is_blank((unsigned char)s[i]))
        i++;
    if (i < n && (s[i] == '{' || s[i] == '['))
        return K_JSON;
    if (i >= n)
        return K_NONE;
    if (s[i] != '<') {
        size_t window = n - i < 4096 ? n - i : 4096;

        lt = memmem(s + i, window, "<?xml", 5);
        if (!lt)
            lt = memchr(s + i, '<', window);
        if (!lt)
            return K_NONE;
        i = (size_t)(lt - s);
    }
    {
        size_t k;

        for (k = 0; k < i; k++)
            if (s[k] == '\n')
                (*lines)++;
    }
    *body = s + i;
    *len = n - i;
    return K_XML;
}

/* Text that is not UTF-8 at all (high bytes, but not one well-formed
 * multi-byte sequence) is in a legacy 8-bit charset: windows-1250 when the
 * bytes of Hungarian ő/ű/Ő/Ű outnumber those of western letters that
 * Central European text rarely has (Portuguese õ is the same byte as ő,
 * but comes with ã), else windows-1252. NULL when the text looks like UTF-8 with
 * damage, which then gets U+FFFD. */
static const char *legacy_charset(const char *body, size_t len)
{
    const unsigned char *s = (const unsigned char *)body;
    size_t i, high = 0, hu = 0, west = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x80)
            continue;
        if (s[i] >= 0xC2 && s[i] <= 0xF4 && i + 1 < len
            && (s[i + 1] & 0xC0) == 0x80) {
            size_t need = s[i] >= 0xF0 ? 3 : s[i] >= 0xE0 ? 2 : 1, k;

            for (k = 1; k <= need && i + k < len; k++)
                if ((s[i + k] & 0xC0) != 0x80)
                    break;
            if (k > need)
                return NULL; /* a real UTF-8 sequence */
        }
        high++;
        switch (s[i]) {
        case 0xF5: case 0xFB: case 0xD5: case 0xDB: /* ő ű Ő Ű */
            hu++;
            break;
        /* ã è ñ à ê ò ù ì Ã Ñ À È: western letters that are rare
         * Central European ones (ă č ń ŕ ę ň ů ě) in windows-1250 */
        case 0xE3: case 0xE8: case 0xF1: case 0xE0: case 0xEA: case 0xF2:
        case 0xF9: case 0xEC: case 0xC3: case 0xD1: case 0xC0: case 0xC8:
            west++;
            break;
        default:
            break;
        }
    }
    if (!high)
        return NULL;
    return hu > west ? "windows-1250" : "windows-1252";
}

/* Feeds are full of HTML entities XML does not know (&nbsp; &eacute;) and
 * of bare ampersands (Ben & Jerry, ?a=1&b=2). libxml2 drops both while
 * recovering, losing text, so they are rewritten before it reads the
 * document: a known HTML entity becomes a character reference (from
 * libxml2's own HTML entity table), a bare '&' becomes "&amp;". CDATA
 * sections and comments are left alone. *out is NULL when nothing
 * needed rewriting. */
static int fix_entities(char **out, size_t *out_len, const char *s,
                        size_t len)
{
    struct ear_buf b;
    const char *next_amp = NULL;
    size_t i = 0, done = 0;
    int rc = 0, declares, amp_known = 0;

    *out = NULL;
    declares = memmem(s, len, "<!ENTITY", 8) != NULL;
    ear_buf_init(&b, len * 5 + 16);
    while (i < len) {
        const char *amp, *end;
        const htmlEntityDesc *ent = NULL;
        size_t k;
        char num[16];
        int bare = 0;

        if (!amp_known || (next_amp && next_amp < s + i)) {
            next_amp = memchr(s + i, '&', len - i);
            amp_known = 1;
        }
        amp = next_amp;
        {
            /* a CDATA section or a comment before it is skipped whole */
            const char *lim = amp ? amp : s + len;
            const char *p = s + i, *lt, *open = NULL, *close;
            int cdata = 0;

            while (p < lim) {
                lt = memchr(p, '<', (size_t)(lim - p));
                if (!lt)
                    break;
                if ((size_t)(s + len - lt) >= 9
                    && memcmp(lt, "<![CDATA[", 9) == 0) {
                    open = lt;
                    cdata = 1;
                    break;
                }
                if ((size_t)(s + len - lt) >= 4 && memcmp(lt, "<!--", 4) == 0) {
                    open = lt;
                    break;
                }
                p = lt + 1;
            }
            if (open) {
                close = memmem(open, len - (size_t)(open - s),
                               cdata ? "]]>" : "-->", 3);
                i = close ? (size_t)(close - s) + 3 : len;
                continue;
            }
        }
        if (!amp)
            break;
        k = (size_t)(amp - s) + 1;
        if (k < len && s[k] == '#') {
            i = k;
            continue;
        }
        end = s + k;
        while (end < s + len && end - (s + k) < 32
               && ((*end >= 'a' && *end <= 'z') || (*end >= 'A' && *end <= 'Z')
                   || (*end >= '0' && *end <= '9')))
            end++;
        if (end == s + k || end >= s + len || *end != ';') {
            bare = 1;
        } else {
            char name[40];
            size_t n = (size_t)(end - (s + k));

            memcpy(name, s + k, n);
            name[n] = '\0';
            if (strcmp(name, "amp") == 0 || strcmp(name, "lt") == 0
                || strcmp(name, "gt") == 0 || strcmp(name, "quot") == 0
                || strcmp(name, "apos") == 0) {
                i = (size_t)(end - s) + 1;
                continue;
            }
            ent = htmlEntityLookup(BAD_CAST name);
            if (!ent && declares) {
                i = (size_t)(end - s) + 1;
                continue; /* perhaps declared in the document's DTD */
            }
            bare = !ent; /* undefined: shown as written, like a browser */
        }
        rc = ear_buf_addn(&b, s + done, (size_t)(amp - s) - done);
        if (rc < 0)
            return rc;
        if (bare) {
            rc = ear_buf_adds(&b, "&amp;");
            done = k;
        } else {
            snprintf(num, sizeof(num), "&#%u;", ent->value);
            rc = ear_buf_adds(&b, num);
            done = (size_t)(end - s) + 1;
        }
        if (rc < 0)
            return rc;
        i = done;
    }
    if (done == 0) {
        ear_buf_dispose(&b);
        return 0;
    }
    rc = ear_buf_addn(&b, s + done, len - done);
    if (rc < 0)
        return rc;
    *out = ear_buf_take(&b, out_len);
    ear_buf_dispose(&b);
    return *out ? 0 : EAR_ENOMEM;
}

/* ------------------------------------------------------------ XML */

static int is_feed_root(const xmlNode *n)
{
    return name_is(n, "rss") || name_is(n, "feed")
           || (name_is(n, "RDF") && ns_is(n, NS_RDF));
}

static const xmlNode *find_feed_root(const xmlNode *parent, int depth)
{
    const xmlNode *n, *found;

    if (depth > WALK_MAX)
        return NULL;
    for (n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_feed_root(n))
            return n;
        found = find_feed_root(n, depth + 1);
        if (found)
            return found;
    }
    return NULL;
}

static int parse_xml(struct ctx *c, const char *body, size_t len,
                     const char *base_url, const char *type,
                     const char *content_type, int skipped_lines,
                     struct ear_error *err)
{
    xmlParserCtxtPtr pctx = NULL;
    xmlNodePtr root;
    char decl[64], http[64];
    const char *encoding = NULL;
    char *clean = NULL, *fixed = NULL;
    size_t fixed_len = 0;
    int opts = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR
               | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA
               | XML_PARSE_COMPACT;
    int check_utf8 = 0, invalid;
    int rc = 0;

    if (len > INT_MAX)
        return ear_error_set(err, EAR_ETOOBIG, c->source_name, 0, 0,
                             "document too large for the XML parser");
    if (!looks_utf16((const unsigned char *)body, len)) {
        xml_decl_encoding(decl, sizeof(decl), body, len);
        content_type_charset(http, sizeof(http), content_type);
        if (decl[0]) {
            check_utf8 = is_utf8_name(decl);
        } else if (http[0] && !is_utf8_name(http)) {
            xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(http);

            if (h) {
                xmlCharEncCloseFunc(h);
                encoding = http;
                opts |= XML_PARSE_IGNORE_ENC;
            } else {
                check_utf8 = 1;
            }
        } else {
            check_utf8 = 1;
        }
    }
    invalid = check_utf8 && !ear_utf8_valid(body, len);
    if (invalid)
        encoding = legacy_charset(body, len);
    if (invalid && encoding) {
        opts |= XML_PARSE_IGNORE_ENC; /* not UTF-8, whatever it says */
    } else if (invalid) {
        size_t clean_len;

        clean = ear_utf8_sanitize(body, len, &clean_len);
        if (!clean)
            return ear_error_set(err, EAR_ENOMEM, c->source_name, 0, 0,
                                 "out of memory");
        if (clean_len > INT_MAX) {
            rc = ear_error_set(err, EAR_ETOOBIG, c->source_name, 0, 0,
                               "document too large for the XML parser");
            goto out;
        }
        body = clean;
        len = clean_len;
    }

    if (!looks_utf16((const unsigned char *)body, len)) {
        rc = fix_entities(&fixed, &fixed_len, body, len);
        if (rc < 0) {
            rc = ear_error_set(err, rc, c->source_name, 0, 0,
                               "out of memory");
            goto out;
        }
        if (fixed && fixed_len <= INT_MAX) {
            body = fixed;
            len = fixed_len;
        }
    }
    pctx = xmlNewParserCtxt();
    if (!pctx) {
        rc = ear_error_set(err, EAR_ENOMEM, c->source_name, 0, 0,
                           "out of memory");
        goto out;
    }
    c->doc = xmlCtxtReadMemory(pctx, body, (int)len, base_url, encoding,
                               opts);
    root = c->doc ? xmlDocGetRootElement(c->doc) : NULL;
    if (!root) {
        const xmlError *e = xmlCtxtGetLastError(pctx);
        char msg[256];
        size_t n;

        snprintf(msg, sizeof(msg), "%s",
                 e && e->message ? e->message : "not well-formed");
        n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        rc = ear_error_set(err, EAR_EPARSE, c->source_name,
                           e && e->line ? e->line + skipped_lines : 0,
                           e ? e->int2 : 0, "malformed XML: %s", msg);
        goto out;
    }

    if (!is_feed_root(root)) {
        const xmlNode *inner = find_feed_root(root, 0);

        if (inner)
            root = (xmlNodePtr)inner; /* a feed wrapped in an HTML page */
    }
    if (name_is(root, "rss")) {
        c->dialect = D_RSS;
    } else if (name_is(root, "RDF") && ns_is(root, NS_RDF)) {
        c->dialect = D_RDF;
    } else if (name_is(root, "feed") && ns_is(root, NS_ATOM03)) {
        c->dialect = D_ATOM03;
    } else if (name_is(root, "feed")) {
        c->dialect = D_ATOM10; /* also an Atom feed missing its namespace */
    } else if (strcasecmp((const char *)root->name, "html") == 0) {
        rc = ear_error_set(err, EAR_EPARSE, c->source_name, root->line, 0,
                           "not a feed: an HTML page (root element <%s>)",
                           (const char *)root->name);
        goto out;
    } else {
        rc = ear_error_set(err, EAR_EPARSE, c->source_name, root->line, 0,
                           "not a feed: unknown root element <%s>",
                           (const char *)root->name);
        goto out;
    }
    if (type && ((strcmp(type, "atom") == 0)
                 != (c->dialect == D_ATOM10 || c->dialect == D_ATOM03))) {
        rc = ear_error_set(err, EAR_EPARSE, c->source_name, root->line, 0,
                           "type is '%s' but the document's root element "
                           "is <%s>", type, (const char *)root->name);
        goto out;
    }
    if (c->dialect == D_ATOM10 || c->dialect == D_ATOM03) {
        c->atom_no_ns = ns_is(root, NULL);
        rc = atom_feed(c, root);
    } else {
        rc = rss_walk(c, root, 0);
    }
    if (rc < 0)
        rc = ear_error_set(err, rc, c->source_name, 0, 0, "%s",
                           ear_strerror(rc));
out:
    if (pctx)
        xmlFreeParserCtxt(pctx);
    free(clean);
    free(fixed);
    return rc;
}

/* ------------------------------------------------------------ entry */

void ear_feed_info_dispose(struct ear_feed_info *fi)
{
    if (!fi)
        return;
    free(fi->title);
    free(fi->link);
    fi->title = NULL;
    fi->link = NULL;
}

static int is_json_type(const char *ct)
{
    return ct && (strstr(ct, "json") != NULL);
}

static int is_xml_type(const char *ct)
{
    return ct && (strstr(ct, "xml") != NULL);
}

int ear_feed_parse(struct ear_mention_list *items, struct ear_feed_info *info,
                   const char *body, size_t len, const char *base_url,
                   const char *type, const char *content_type,
                   const char *source_name, struct ear_error *err)
{
    struct ctx c;
    enum kind kind;
    int lines = 0;
    int rc;

    if (type && strcmp(type, "rss") != 0 && strcmp(type, "atom") != 0
        && strcmp(type, "rdf") != 0 && strcmp(type, "jsonfeed") != 0)
        return ear_error_set(err, EAR_EINVAL, source_name, 0, 0,
                             "unknown feed type '%s' (expected rss, atom, "
                             "rdf or jsonfeed)", type);
    if (info) {
        ear_feed_info_dispose(info);
    }
    kind = sniff(&body, &len, &lines);
    if (type)
        kind = strcmp(type, "jsonfeed") == 0 ? K_JSON : K_XML;
    else if (kind == K_NONE && is_json_type(content_type))
        kind = K_JSON;
    else if (kind == K_NONE && is_xml_type(content_type) && len > 0)
        kind = K_XML;
    if (kind == K_NONE && len == 0)
        return ear_error_set(err, EAR_EPARSE, source_name, 0, 0,
                             "empty document, not a feed");
    if (kind == K_NONE)
        return ear_error_set(err, EAR_EPARSE, source_name, 1, 0,
                             "not a feed: neither XML nor JSON "
                             "(content type %s)",
                             content_type ? content_type : "unknown");
    if (kind == K_JSON)
        return ear_feed__json(items, info, body, len, base_url, source_name,
                              err);

    xmlInitParser();
    memset(&c, 0, sizeof(c));
    c.source_name = source_name;
    c.items = items;
    c.info = info;
    ear_html__init(&c.html);
    rc = parse_xml(&c, body, len, base_url, type, content_type, lines, err);
    ear_html__dispose(&c.html);
    free(c.feed_author);
    if (c.doc)
        xmlFreeDoc(c.doc);
    return rc;
}
