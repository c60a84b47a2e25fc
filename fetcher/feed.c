/*
 * ear_feed_parse(): one document in, mention records out.
 *
 * The bytes are first sniffed: JSON goes to jsonfeed.c, XML to
 * feed_sax.c, which reads it with libxml2's SAX2 interface (no tree,
 * recovering from what it can) and sorts each item's child elements into
 * the fields of struct ear_mention by dialect (<rss> 0.91/0.92/2.0,
 * <rdf:RDF> RSS 0.90/1.0, <feed> Atom 0.3/1.0), namespace and name,
 * including the extension namespaces that carry content (content:encoded,
 * dc:*, media:description, itunes:*, inline XHTML).
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

/* The first occurrence of the three bytes t in s[0..n), as memmem() finds
 * it; memchr() for the first byte (rare in text: ']' and '-') is faster
 * than glibc's generic memmem() over long CDATA sections. */
static const char *find3(const char *s, size_t n, const char *t)
{
    const char *end = s + n, *p = s;

    while (end - p >= 3) {
        p = memchr(p, t[0], (size_t)(end - p) - 2);
        if (!p)
            return NULL;
        if (p[1] == t[1] && p[2] == t[2])
            return p;
        p++;
    }
    return NULL;
}

/* Feeds are full of HTML entities XML does not know (&nbsp; &eacute;) and
 * of bare ampersands (Ben & Jerry, ?a=1&b=2). libxml2 drops both while
 * recovering, losing text, so they are rewritten before it reads the
 * document: a known HTML entity becomes a character reference (from
 * libxml2's own HTML entity table), a bare '&' becomes "&amp;". CDATA
 * sections and comments are left alone. *out is NULL when nothing
 * needed rewriting.
 *
 * numeric = 1 is for a document known to be broken: after its first
 * error, libxml2 2.9 drops every entity reference it reads, XML's own
 * five included ("Tom &amp; Jerry" becomes "Tom  Jerry"), but still
 * reads character references. So those five and bare '&' become
 * character references too. A document that declares entities of its
 * own is left as it is. */
int ear_feed__fix_entities(char **out, size_t *out_len, const char *s,
                           size_t len, int numeric)
{
    static const struct {
        const char *name;
        const char *ref;
    } predefined[] = {{"amp", "&#38;"}, {"lt", "&#60;"}, {"gt", "&#62;"},
                      {"quot", "&#34;"}, {"apos", "&#39;"}};
    struct ear_buf b;
    const char *next_amp = NULL;
    size_t i = 0, done = 0;
    int rc = 0, declares = -1, amp_known = 0;

    *out = NULL;
    if (numeric && memmem(s, len, "<!ENTITY", 8))
        return 0; /* a reference in a declaration is no text to keep */
    ear_buf_init(&b, len * 5 + 16);
    while (i < len) {
        const char *amp, *end;
        const htmlEntityDesc *ent = NULL;
        const char *ref = NULL;
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
                close = find3(open, len - (size_t)(open - s),
                              cdata ? "]]>" : "-->");
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
            for (size_t p = 0; p < sizeof predefined / sizeof *predefined;
                 p++)
                if (strcmp(name, predefined[p].name) == 0)
                    ref = predefined[p].ref;
            if (ref && !numeric) {
                i = (size_t)(end - s) + 1;
                continue;
            }
            if (!ref)
                ent = htmlEntityLookup(BAD_CAST name);
            if (!ent && declares < 0) /* looked for once, when needed */
                declares = memmem(s, len, "<!ENTITY", 8) != NULL;
            if (!ent && declares) {
                i = (size_t)(end - s) + 1;
                continue; /* perhaps declared in the document's DTD */
            }
            bare = !ent && !ref; /* undefined: shown as written, like a
                                  * browser */
        }
        rc = ear_buf_addn(&b, s + done, (size_t)(amp - s) - done);
        if (rc < 0)
            return rc;
        if (bare) {
            rc = ear_buf_adds(&b, numeric ? "&#38;" : "&amp;");
            done = k;
        } else if (ref) {
            rc = ear_buf_adds(&b, ref);
            done = (size_t)(end - s) + 1;
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

static int parse_xml(struct ear_mention_list *items,
                     struct ear_feed_info *info, const char *body,
                     size_t len, const char *base_url, const char *type,
                     const char *content_type, int skipped_lines,
                     const char *source_name, struct ear_error *err)
{
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
        return ear_error_set(err, EAR_ETOOBIG, source_name, 0, 0,
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
            return ear_error_set(err, EAR_ENOMEM, source_name, 0, 0,
                                 "out of memory");
        if (clean_len > INT_MAX) {
            rc = ear_error_set(err, EAR_ETOOBIG, source_name, 0, 0,
                               "document too large for the XML parser");
            goto out;
        }
        body = clean;
        len = clean_len;
    }

    if (!looks_utf16((const unsigned char *)body, len)) {
        rc = ear_feed__fix_entities(&fixed, &fixed_len, body, len, 0);
        if (rc < 0) {
            rc = ear_error_set(err, rc, source_name, 0, 0,
                               "out of memory");
            goto out;
        }
        if (fixed && fixed_len <= INT_MAX) {
            body = fixed;
            len = fixed_len;
        }
    }
    rc = ear_feed__xml(items, info, body, len, base_url, encoding, opts,
                       type, skipped_lines, !looks_utf16((const unsigned char *)
                                                            body, len),
                       source_name, err);
out:
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
    enum kind kind;
    int lines = 0;

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
    return parse_xml(items, info, body, len, base_url, type, content_type,
                     lines, source_name, err);
}
