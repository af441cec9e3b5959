/* libxml2_catalog: a benchmark workload over libxml2, from the sources inside the npm
 * package `libxmljs2` (vendor/libxml, libxml2 2.9.9, the files its binding.gyp builds).
 *
 * Usage: libxml2_catalog N
 * For N rounds: write a product catalog of about 40 KiB as XML text (namespaces, entities,
 * CDATA, comments; a fixed generator, a new seed each round), parse it, validate it
 * against an XML Schema, run XPath queries over it (counts, sums, predicates, string
 * functions), change the tree (new attributes, removed nodes), and serialize it both plainly
 * and as Exclusive XML Canonicalization. The schema is parsed once. Prints a checksum of the
 * serializations and query results; exit 1 on any failure (a parse error, an invalid
 * document, a failing query).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NS "urn:example:catalog"

static const char SCHEMA[] =
    "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' targetNamespace='" NS "'\n"
    "           xmlns:c='" NS "' elementFormDefault='qualified'>\n"
    " <xs:simpleType name='sku'><xs:restriction base='xs:string'>\n"
    "   <xs:pattern value='[A-Z]{3}-[0-9]{5}'/></xs:restriction></xs:simpleType>\n"
    " <xs:simpleType name='category'><xs:restriction base='xs:token'>\n"
    "   <xs:enumeration value='books'/><xs:enumeration value='music'/>\n"
    "   <xs:enumeration value='garden'/><xs:enumeration value='tools'/>\n"
    "   <xs:enumeration value='toys'/></xs:restriction></xs:simpleType>\n"
    " <xs:complexType name='price'><xs:simpleContent><xs:extension base='xs:decimal'>\n"
    "   <xs:attribute name='currency' type='xs:string' use='required'/>\n"
    " </xs:extension></xs:simpleContent></xs:complexType>\n"
    " <xs:element name='catalog'><xs:complexType><xs:sequence>\n"
    "   <xs:element name='item' maxOccurs='unbounded'><xs:complexType><xs:sequence>\n"
    "     <xs:element name='title' type='xs:string'/>\n"
    "     <xs:element name='price' type='c:price'/>\n"
    "     <xs:element name='stock' type='xs:nonNegativeInteger'/>\n"
    "     <xs:element name='tag' type='xs:NCName' minOccurs='0' maxOccurs='5'/>\n"
    "     <xs:element name='description' type='xs:string' minOccurs='0'/>\n"
    "   </xs:sequence>\n"
    "   <xs:attribute name='sku' type='c:sku' use='required'/>\n"
    "   <xs:attribute name='category' type='c:category' use='required'/>\n"
    "   <xs:attribute name='added' type='xs:date'/>\n"
    "   <xs:attribute name='premium' type='xs:boolean'/>\n"
    "   </xs:complexType></xs:element>\n"
    " </xs:sequence><xs:attribute name='version' type='xs:string'/></xs:complexType>\n"
    " <xs:unique name='uniqueSku'><xs:selector xpath='c:item'/><xs:field xpath='@sku'/>"
    "</xs:unique></xs:element>\n"
    "</xs:schema>\n";

static const char *const QUERIES[] = {
    "count(//c:item)",
    "sum(//c:item/c:price) div count(//c:item)",
    "count(//c:item[@category='books' and c:stock > 10])",
    "string(//c:item[not(c:price < //c:item/c:price)]/c:title)",
    "sum(//c:item[c:tag='sale']/c:stock)",
    "count(//c:item[contains(c:title, 'Edition')][position() mod 2 = 1])",
    "string(//c:item[last()]/@sku)",
    "count(//c:tag[not(. = preceding::c:tag)])",
    "sum(//c:item[starts-with(@added, '2023-0')]/c:price)",
    "concat(substring-before(//c:item[3]/c:title, ' '), '|', translate(//c:item[5]/@sku, "
    "'0123456789', 'abcdefghij'))",
    "count(//c:item[string-length(normalize-space(c:description)) > 40])",
    "//c:item[@category='tools']/c:title",
};

static const char *const WORDS[] = {"Garden", "Silver", "Quiet", "Rapid", "Hidden", "Paper",
                                    "River", "Copper", "Morning", "Winter", "Electric",
                                    "Second", "Edition", "Atlas", "Lantern", "Harbor"};
static const char *const CATEGORIES[] = {"books", "music", "garden", "tools", "toys"};
static const char *const TAGS[] = {"sale", "new", "gift", "eco", "limited", "bundle"};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* A growable text buffer for the generated document. */
struct text {
    char *p;
    size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n + 1;
        t->p = realloc(t->p, t->cap);
        if (!t->p) {
            printf("libxml2: out of memory\n");
            exit(1);
        }
    }
}

static void make_catalog(struct text *t, uint64_t seed, int items)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 3;
    t->len = 0;
    add(t, "<?xml version='1.0' encoding='UTF-8'?>\n"
           "<!DOCTYPE catalog [\n  <!ENTITY shop 'Example &amp; Sons'>\n"
           "  <!ENTITY note 'Ships in 2&#8211;3 days'>\n]>\n"
           "<catalog xmlns='" NS "' xmlns:x='urn:example:extra' version='%u.%u'>\n",
        (unsigned)(seed % 7), (unsigned)(seed % 13));
    for (int i = 0; i < items; i++) {
        uint64_t r = next_random(&s);
        add(t, "  <!-- item %d -->\n  <item sku='%c%c%c-%05u' category='%s' added='2023-%02u-%02u'>\n"
               "    <title>%s %s%s</title>\n"
               "    <price currency='EUR'>%u.%02u</price>\n    <stock>%u</stock>\n",
            i, 'A' + (int)(r % 26), 'A' + (int)((r >> 5) % 26), 'A' + (int)((r >> 10) % 26),
            (unsigned)(i * 7919 + (int)(seed % 1000)) % 100000,
            CATEGORIES[(r >> 15) % COUNT(CATEGORIES)], (unsigned)(r >> 18) % 12 + 1,
            (unsigned)(r >> 22) % 28 + 1, WORDS[(r >> 27) % COUNT(WORDS)],
            WORDS[(r >> 31) % COUNT(WORDS)], (r >> 35) % 3 ? "" : " Edition",
            (unsigned)(r >> 37) % 200, (unsigned)(r >> 45) % 100, (unsigned)(r >> 52) % 40);
        int tags = (int)(r >> 58) % 4;
        for (int k = 0; k < tags; k++)
            add(t, "    <tag>%s</tag>\n", TAGS[(next_random(&s) >> 7) % COUNT(TAGS)]);
        if (r & 1)
            add(t, "    <description>Sold by &shop;. &note;. <![CDATA[Fits <all> sizes & "
                   "shapes]]> &#169; %u</description>\n", (unsigned)(r >> 40) % 2024);
        add(t, "  </item>\n");
    }
    add(t, "</catalog>\n");
}

/* One query's result into the checksum; 0 on success. */
static int query(xmlXPathContextPtr xp, const char *expr, uint64_t *h)
{
    xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST expr, xp);
    if (!res) {
        printf("libxml2: query failed: %s\n", expr);
        return 1;
    }
    switch (res->type) {
    case XPATH_NUMBER:
        *h = fnv(*h, &res->floatval, sizeof res->floatval);
        break;
    case XPATH_STRING:
        *h = fnv(*h, res->stringval, strlen((const char *)res->stringval));
        break;
    case XPATH_NODESET:
        for (int i = 0; res->nodesetval && i < res->nodesetval->nodeNr; i++) {
            xmlChar *v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
            *h = fnv(*h, v, strlen((const char *)v));
            xmlFree(v);
        }
        break;
    default:
        *h = fnv(*h, &res->type, sizeof res->type);
    }
    xmlXPathFreeObject(res);
    return 0;
}

/* Marks expensive items, drops the descriptions of items out of stock. */
static void edit(xmlDocPtr doc, xmlXPathContextPtr xp)
{
    xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST "//c:item[c:price > 100]", xp);
    for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++)
        xmlSetNsProp(res->nodesetval->nodeTab[i], NULL, BAD_CAST "premium", BAD_CAST "true");
    xmlXPathFreeObject(res);
    res = xmlXPathEvalExpression(BAD_CAST "//c:item[c:stock = 0]/c:description", xp);
    for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++) {
        xmlNodePtr n = res->nodesetval->nodeTab[i];
        xmlUnlinkNode(n);
        xmlFreeNode(n);
        res->nodesetval->nodeTab[i] = NULL;
    }
    xmlXPathFreeObject(res);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNewChild(root, NULL, BAD_CAST "item", NULL); /* makes it invalid: checked below */
}

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 4;
    LIBXML_TEST_VERSION
    xmlSetGenericErrorFunc(NULL, quiet);
    xmlSchemaParserCtxtPtr pctx = xmlSchemaNewMemParserCtxt(SCHEMA, (int)strlen(SCHEMA));
    xmlSchemaPtr schema = pctx ? xmlSchemaParse(pctx) : NULL;
    if (!schema) {
        printf("libxml2: the schema does not parse\n");
        return 1;
    }
    struct text t = {malloc(1 << 16), 0, 1 << 16};
    uint64_t h = 0xcbf29ce484222325ull;
    size_t bytes = 0;
    for (long r = 0; r < rounds; r++) {
        make_catalog(&t, (uint64_t)r + 1, 150);
        xmlDocPtr doc = xmlReadMemory(t.p, (int)t.len, "catalog.xml", NULL,
                                      XML_PARSE_NOENT | XML_PARSE_NONET);
        if (!doc) {
            printf("libxml2: round %ld: the catalog does not parse\n", r);
            return 1;
        }
        xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(schema);
        int valid = xmlSchemaValidateDoc(vctx, doc);
        if (valid != 0) {
            printf("libxml2: round %ld: the catalog is not valid (%d)\n", r, valid);
            return 1;
        }
        xmlXPathContextPtr xp = xmlXPathNewContext(doc);
        xmlXPathRegisterNs(xp, BAD_CAST "c", BAD_CAST NS);
        for (size_t q = 0; q < COUNT(QUERIES); q++)
            if (query(xp, QUERIES[q], &h))
                return 1;
        edit(doc, xp);
        if (xmlSchemaValidateDoc(vctx, doc) == 0) {
            printf("libxml2: round %ld: the edited catalog should not be valid\n", r);
            return 1;
        }
        xmlChar *out = NULL, *c14n = NULL;
        int len = 0;
        xmlDocDumpFormatMemory(doc, &out, &len, 1);
        int clen = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, &c14n);
        if (!out || clen < 0) {
            printf("libxml2: round %ld: serialization failed\n", r);
            return 1;
        }
        h = fnv(h, out, (size_t)len);
        h = fnv(h, c14n, (size_t)clen);
        bytes += (size_t)len + (size_t)clen;
        xmlFree(out);
        xmlFree(c14n);
        xmlXPathFreeContext(xp);
        xmlSchemaFreeValidCtxt(vctx);
        xmlFreeDoc(doc);
    }
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pctx);
    xmlCleanupParser();
    free(t.p);
    printf("libxml2 catalog %ld: %zu bytes serialized, %016llx\n", rounds, bytes,
           (unsigned long long)h);
    return 0;
}
