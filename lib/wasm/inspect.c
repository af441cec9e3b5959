/* A bounds-checked reader of WebAssembly binaries, just deep enough to find each defined
 * function's name and body, and to compare the bodies of variant families.
 *
 * Every read goes through a cursor that knows where its region ends, so malformed input can
 * only make a read fail, never run past the buffer. The name section is located during the
 * section walk and decoded last, once the number of functions is known, because a name map
 * may name imported functions as well as defined ones. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/inspect.h"
#include "util/hash.h"

#define SEC_CUSTOM    0
#define SEC_TYPE      1
#define SEC_IMPORT    2
#define SEC_FUNCTION  3
#define SEC_TABLE     4
#define SEC_MEMORY    5
#define SEC_GLOBAL    6
#define SEC_EXPORT    7
#define SEC_START     8
#define SEC_ELEMENT   9
#define SEC_CODE      10
#define SEC_DATA      11
#define SEC_DATACOUNT 12
#define SEC_TAG       13
#define SEC_MAX       13 /* tag section of the exception-handling proposal */

#define SUB_FUNC_NAMES 1
#define OP_END         0x0b
#define FORM_FUNC      0x60

static const char variant_tag[] = ".mewe.v";
#define TAG_LEN (sizeof variant_tag - 1)

/* A region of the input still to be read: [p, end). */
typedef struct cursor {
    const unsigned char *p;
    const unsigned char *end;
} cursor;

/* What the section walk gathers before functions are built. */
typedef struct section_scan {
    unsigned last_rank;    /* rank of the last non-custom section, to enforce order */
    size_t import_funcs;   /* function imports */
    size_t declared_funcs; /* entries of the function section */
    cursor types;          /* type section payload (empty without one) */
    cursor funcs;          /* function section payload after its count */
    mewe__wasm_counts counts;
    const unsigned char *start, *end; /* the whole module */
    bool have_code;
    cursor code; /* code section payload */
    bool have_names;
    cursor names; /* "name" section payload after its name */
    bool have_linking;
    cursor linking; /* "linking" section payload (relocatable objects) */
    bool have_datacount;
    uint32_t datacount;
    uint32_t data_segments;
} section_scan;

/* A variant function seen by the family counters. */
typedef struct variant {
    const char *family; /* the function's name; the family is its first family_len bytes */
    size_t family_len;
    uint64_t hash; /* FNV-1a of the body, so most comparisons avoid memcmp */
    const unsigned char *body;
    size_t body_len;
} variant;

/* ---- primitive reads ---------------------------------------------------- */

static size_t bytes_left(const cursor *c)
{
    return (size_t)(c->end - c->p);
}

static int read_byte(cursor *c, unsigned *out)
{
    if (c->p == c->end)
        return MEWE_EPARSE;
    *out = *c->p++;
    return MEWE_OK;
}

/* Unsigned LEB128 of at most `bits` bits. Padded encodings are valid wasm (wasm-ld pads
 * relocatable indices to 5 bytes), but more than ceil(bits / 7) bytes, or set bits past
 * `bits` in the last byte, are overlong or overflowing and rejected. */
static int read_uleb(cursor *c, unsigned bits, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    unsigned b;

    for (;;) {
        if (read_byte(c, &b))
            return MEWE_EPARSE;
        if (bits - shift <= 7) {
            /* Last byte allowed: no continuation, nothing above `bits`. */
            if (b >> (bits - shift))
                return MEWE_EPARSE;
            v |= (uint64_t)b << shift;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *out = v;
    return MEWE_OK;
}

static int read_u32(cursor *c, uint32_t *out)
{
    uint64_t v;

    if (read_uleb(c, 32, &v))
        return MEWE_EPARSE;
    *out = (uint32_t)v;
    return MEWE_OK;
}

/* A vector length that cannot exceed the bytes left, since every element takes at least
 * one byte; this keeps allocations sized by hostile counts bounded by the input. */
static int read_count(cursor *c, size_t *out)
{
    uint32_t n;

    if (read_u32(c, &n) || n > bytes_left(c))
        return MEWE_EPARSE;
    *out = n;
    return MEWE_OK;
}

/* Splits the next n bytes off into *sub. */
static int take(cursor *c, size_t n, cursor *sub)
{
    if (n > bytes_left(c))
        return MEWE_EPARSE;
    sub->p = c->p;
    sub->end = c->p + n;
    c->p += n;
    return MEWE_OK;
}

/* Length of the UTF-8 sequence that lead byte b starts, 0 if b cannot start one. */
static size_t utf8_len(unsigned b)
{
    if (b < 0x80)
        return 1;
    if (b < 0xc0)
        return 0; /* continuation byte */
    if (b < 0xe0)
        return 2;
    if (b < 0xf0)
        return 3;
    return b < 0xf8 ? 4 : 0;
}

/* 1 when s[0..n) is well-formed UTF-8: no overlong forms, surrogates or code points past
 * U+10FFFF, as the binary format requires of names. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0;

    while (i < n) {
        unsigned b = s[i];
        size_t len = utf8_len(b);
        uint32_t cp = b & (0x7fu >> len); /* payload bits of the lead byte */

        if (len == 0 || n - i < len)
            return false;
        if (len == 1) {
            i++;
            continue;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* A name: length-prefixed UTF-8 bytes. */
static int read_name(cursor *c, cursor *name)
{
    uint32_t len;

    if (read_u32(c, &len) || take(c, len, name))
        return MEWE_EPARSE;
    return utf8_ok(name->p, len) ? MEWE_OK : MEWE_EPARSE;
}

/* Value types of the MVP, SIMD, reference-types and exception-handling (exnref) proposals,
 * all one byte; the GC proposal's multi-byte reference types are not supported. */
static bool valtype_ok(unsigned t)
{
    return (t >= 0x7b && t <= 0x7f) || t == 0x70 || t == 0x6f || t == 0x69;
}

/* ---- import section ----------------------------------------------------- */

/* Table or memory limits; flag bit 0 = has max, bit 1 = shared, bit 2 = 64-bit. *largest
 * receives the larger of the initial size and, when `with_max`, the maximum. */
static int read_limits(cursor *c, bool with_max, uint64_t *largest)
{
    unsigned flags;
    uint64_t v;
    unsigned bits;

    if (read_byte(c, &flags) || flags > 7)
        return MEWE_EPARSE;
    bits = (flags & 4) ? 64 : 32;
    if (read_uleb(c, bits, &v))
        return MEWE_EPARSE;
    if (v > *largest)
        *largest = v;
    if ((flags & 1) && read_uleb(c, bits, &v))
        return MEWE_EPARSE;
    if ((flags & 1) && with_max && v > *largest)
        *largest = v;
    return MEWE_OK;
}

static bool reftype_ok(unsigned t)
{
    return t == 0x70 || t == 0x6f || t == 0x69;
}

/* A table type: reference type, limits (the initial size is what engines limit). */
static int read_table_type(cursor *c, mewe__wasm_counts *n)
{
    unsigned b;

    if (read_byte(c, &b) || !reftype_ok(b))
        return MEWE_EPARSE;
    n->tables++;
    return read_limits(c, false, &n->table_initial_max);
}

static int read_memory_type(cursor *c, mewe__wasm_counts *n)
{
    n->memories++;
    return read_limits(c, true, &n->memory_pages_max);
}

/* Reads one import descriptor and counts it by kind. */
static int read_import_desc(cursor *c, section_scan *s)
{
    unsigned kind, b;
    uint32_t idx;

    if (read_byte(c, &kind))
        return MEWE_EPARSE;
    switch (kind) {
    case 0: /* function: type index */ s->import_funcs++; return read_u32(c, &idx);
    case 1: /* table: reference type, limits */ return read_table_type(c, &s->counts);
    case 2: /* memory */ return read_memory_type(c, &s->counts);
    case 3: /* global: value type, mutability */
        s->counts.globals++;
        if (read_byte(c, &b) || !valtype_ok(b))
            return MEWE_EPARSE;
        return read_byte(c, &b) || b > 1 ? MEWE_EPARSE : MEWE_OK;
    case 4: /* tag: attribute (0 = exception), type index */
        s->counts.tags++;
        if (read_byte(c, &b) || b != 0)
            return MEWE_EPARSE;
        return read_u32(c, &idx);
    default: return MEWE_EPARSE;
    }
}

static int read_imports(cursor c, section_scan *s)
{
    size_t n;
    cursor module, field;

    if (read_count(&c, &n))
        return MEWE_EPARSE;
    s->counts.imports = n;
    for (size_t i = 0; i < n; i++) {
        if (read_name(&c, &module) || read_name(&c, &field) || read_import_desc(&c, s))
            return MEWE_EPARSE;
    }
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

/* ---- instructions ------------------------------------------------------- */

/* Skips a LEB128 number of at most max_bytes bytes (signed or unsigned: only its length
 * matters here). */
static int skip_leb(cursor *c, unsigned max_bytes)
{
    unsigned b;

    for (unsigned i = 0; i < max_bytes; i++) {
        if (read_byte(c, &b))
            return MEWE_EPARSE;
        if (!(b & 0x80))
            return MEWE_OK;
    }
    return MEWE_EPARSE;
}

static int skip_bytes(cursor *c, size_t n)
{
    cursor unused;

    return take(c, n, &unused);
}

/* Reads `n` u32 immediates (indices), discarding them. */
static int read_indices(cursor *c, unsigned n)
{
    uint32_t v;

    for (unsigned i = 0; i < n; i++) {
        if (read_u32(c, &v))
            return MEWE_EPARSE;
    }
    return MEWE_OK;
}

/* A memory argument: alignment (bit 6 announces a memory index, multi-memory), then the
 * offset (64 bits wide for memory64). */
static int read_memarg(cursor *c)
{
    uint32_t align;
    uint64_t offset;

    if (read_u32(c, &align) || ((align & 0x40) && read_indices(c, 1)))
        return MEWE_EPARSE;
    return read_uleb(c, 64, &offset);
}

/* Immediates of the 0xfc prefix: saturating conversions, bulk memory, table operations. */
static int read_op_fc(cursor *c)
{
    /* Index immediates of sub-opcodes 0..17. */
    static const unsigned char indices[18] = {0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1};
    uint32_t sub;

    if (read_u32(c, &sub) || sub >= sizeof indices)
        return MEWE_EPARSE;
    return read_indices(c, indices[sub]);
}

/* Immediates of the 0xfd prefix: SIMD and relaxed SIMD. */
static int read_op_simd(cursor *c)
{
    uint32_t sub;

    if (read_u32(c, &sub))
        return MEWE_EPARSE;
    if (sub <= 11 || sub == 92 || sub == 93) /* loads, splat loads, store, zero loads */
        return read_memarg(c);
    if (sub == 12 || sub == 13) /* v128.const, i8x16.shuffle */
        return skip_bytes(c, 16);
    if (sub >= 21 && sub <= 34) /* extract and replace lane */
        return skip_bytes(c, 1);
    if (sub >= 84 && sub <= 91) /* load and store lane */
        return read_memarg(c) || skip_bytes(c, 1) ? MEWE_EPARSE : MEWE_OK;
    return sub <= 0x113 ? MEWE_OK : MEWE_EPARSE;
}

/* Immediates of the 0xfe prefix: atomics. */
static int read_op_atomic(cursor *c)
{
    uint32_t sub;

    if (read_u32(c, &sub))
        return MEWE_EPARSE;
    if (sub == 0x03) /* atomic.fence: a zero byte */
        return skip_bytes(c, 1);
    if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e))
        return read_memarg(c);
    return MEWE_EPARSE;
}

/* try_table's catch clauses: kind, then a tag index (kinds 0 and 1) and a label. */
static int read_catches(cursor *c)
{
    size_t n;
    unsigned kind;

    if (read_count(c, &n))
        return MEWE_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (read_byte(c, &kind) || kind > 3 || read_indices(c, kind < 2 ? 2 : 1))
            return MEWE_EPARSE;
    }
    return MEWE_OK;
}

static int read_br_table(cursor *c, uint32_t *max_br_table)
{
    size_t n;

    if (read_count(c, &n) || read_indices(c, 1)) /* ... and the default */
        return MEWE_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (read_indices(c, 1))
            return MEWE_EPARSE;
    }
    if (n > *max_br_table)
        *max_br_table = (uint32_t)n;
    return MEWE_OK;
}

/* 1 for the opcodes without immediates. */
static bool is_plain_op(unsigned op)
{
    switch (op) {
    case 0x00:
    case 0x01:
    case 0x05:
    case 0x0a:
    case 0x0f:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0xd1:
    case 0xd3:
    case 0xd5: return true;
    default: return op >= 0x45 && op <= 0xc4; /* numeric, sign extension */
    }
}

/* Reads the immediates of one instruction and follows the nesting of blocks in *depth. */
static int read_instr(cursor *c, unsigned op, long *depth, uint32_t *max_br_table)
{
    size_t n;

    switch (op) {
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06: /* block, loop, if, try: a block type */ ++*depth; return skip_leb(c, 5);
    case 0x1f: /* try_table */
        ++*depth;
        return skip_leb(c, 5) || read_catches(c) ? MEWE_EPARSE : MEWE_OK;
    case 0x0b: /* end */ --*depth; return MEWE_OK;
    case 0x18: /* delegate ends a try */ --*depth; return read_indices(c, 1);
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0c:
    case 0x0d:
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x15:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x3f:
    case 0x40:
    case 0xd2:
    case 0xd4:
    case 0xd6: return read_indices(c, 1);
    case 0x11:
    case 0x13: /* call_indirect, return_call_indirect: type, table */ return read_indices(c, 2);
    case 0x0e: return read_br_table(c, max_br_table);
    case 0x1c: /* select with value types */
        return read_count(c, &n) || skip_bytes(c, n) ? MEWE_EPARSE : MEWE_OK;
    case 0x41: return skip_leb(c, 5);
    case 0x42: return skip_leb(c, 10);
    case 0x43: return skip_bytes(c, 4);
    case 0x44: return skip_bytes(c, 8);
    case 0xd0: /* ref.null: a heap type */ return skip_leb(c, 5);
    case 0xfc: return read_op_fc(c);
    case 0xfd: return read_op_simd(c);
    case 0xfe: return read_op_atomic(c);
    default:
        if (op >= 0x28 && op <= 0x3e) /* loads and stores */
            return read_memarg(c);
        return is_plain_op(op) ? MEWE_OK : MEWE_EPARSE;
    }
}

/* Reads instructions up to the `end` that closes the expression. */
static int read_expr(cursor *c, uint32_t *max_br_table)
{
    long depth = 0;
    unsigned op;

    while (depth >= 0) {
        if (read_byte(c, &op) || read_instr(c, op, &depth, max_br_table))
            return MEWE_EPARSE;
    }
    return MEWE_OK;
}

/* ---- section walk ------------------------------------------------------- */

/* Type indices are checked against the type section later, in read_code. */
static int read_functions(cursor c, section_scan *s)
{
    uint32_t type;

    if (read_count(&c, &s->declared_funcs))
        return MEWE_EPARSE;
    s->funcs = c;
    for (size_t i = 0; i < s->declared_funcs; i++) {
        if (read_u32(&c, &type))
            return MEWE_EPARSE;
    }
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

/* A vector of value types; *n receives its length, *types where its bytes start. */
static int read_valtypes(cursor *c, uint32_t *n, const unsigned char **types)
{
    size_t len;
    unsigned t;

    if (read_count(c, &len))
        return MEWE_EPARSE;
    *types = c->p;
    for (size_t i = 0; i < len; i++) {
        if (read_byte(c, &t) || !valtype_ok(t))
            return MEWE_EPARSE;
    }
    *n = (uint32_t)len;
    return MEWE_OK;
}

/* The type section: function types only (the GC proposal's forms are not supported). With
 * `out` NULL it is only checked; otherwise out[i] receives type i. */
static int read_types(cursor c, mewe__wasm_functype *out, size_t *count)
{
    size_t n;
    unsigned form;
    mewe__wasm_functype t;

    if (read_count(&c, &n))
        return MEWE_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (read_byte(&c, &form) || form != FORM_FUNC ||
            read_valtypes(&c, &t.params, &t.param_types) ||
            read_valtypes(&c, &t.results, &t.result_types))
            return MEWE_EPARSE;
        if (out)
            out[i] = t;
    }
    *count = n;
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

/* A section that is a vector of items read by `item`. */
static int read_vector(cursor c, size_t *count, int (*item)(cursor *c, mewe__wasm_counts *n),
                       mewe__wasm_counts *n)
{
    if (read_count(&c, count))
        return MEWE_EPARSE;
    for (size_t i = 0; i < *count; i++) {
        if (item(&c, n))
            return MEWE_EPARSE;
    }
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

static int read_export(cursor *c, mewe__wasm_counts *n)
{
    cursor name;
    unsigned kind;

    (void)n;
    if (read_name(c, &name) || read_byte(c, &kind) || kind > 4)
        return MEWE_EPARSE;
    return read_indices(c, 1);
}

/* An element segment, in any of its eight forms (flags bit 0: passive or declarative, bit 1:
 * explicit table index or declarative, bit 2: expressions rather than function indices). */
static int read_element(cursor *c, mewe__wasm_counts *n)
{
    uint32_t flags, unused = 0;
    size_t entries;
    unsigned kind;

    if (read_u32(c, &flags) || flags > 7)
        return MEWE_EPARSE;
    if ((flags & 3) == 2 && read_indices(c, 1)) /* table index */
        return MEWE_EPARSE;
    if (!(flags & 1) && read_expr(c, &unused)) /* active: the offset */
        return MEWE_EPARSE;
    /* Forms other than 0 and 4 give the element kind (0x00) or reference type. */
    if ((flags & 3) && (read_byte(c, &kind) || ((flags & 4) ? !reftype_ok(kind) : kind != 0)))
        return MEWE_EPARSE;
    if (read_count(c, &entries))
        return MEWE_EPARSE;
    for (size_t i = 0; i < entries; i++) {
        if ((flags & 4) ? read_expr(c, &unused) : read_indices(c, 1))
            return MEWE_EPARSE;
    }
    if (entries > n->elem_entries_max)
        n->elem_entries_max = entries;
    return MEWE_OK;
}

/* A section that holds exactly one u32 (start, data count). */
static int read_single_u32(cursor c, uint32_t *out)
{
    if (read_u32(&c, out))
        return MEWE_EPARSE;
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

static int read_custom(cursor c, section_scan *s)
{
    cursor name;

    if (read_name(&c, &name))
        return MEWE_EPARSE;
    /* Only the first "name" section counts, as tools that read names do. */
    if (!s->have_names && bytes_left(&name) == 4 && memcmp(name.p, "name", 4) == 0) {
        s->have_names = true;
        s->names = c;
    }
    if (!s->have_linking && bytes_left(&name) == 7 && memcmp(name.p, "linking", 7) == 0) {
        s->have_linking = true;
        s->linking = c;
    }
    return MEWE_OK;
}

/* Position of a section id in the required order, 0 for unknown ids. The data-count section
 * (12) sits between element (9) and code (10); the tag section (13) between memory (5) and
 * global (6). */
static unsigned section_rank(unsigned id)
{
    static const unsigned char rank[SEC_MAX + 1] = {
        0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6,
    };
    return id <= SEC_MAX ? rank[id] : 0;
}

static int read_section(unsigned id, cursor c, section_scan *s)
{
    uint32_t v;
    size_t n;
    unsigned rank = section_rank(id);

    if (id == SEC_CUSTOM)
        return read_custom(c, s);
    if (rank == 0 || rank <= s->last_rank) /* unknown, out of order or repeated */
        return MEWE_EPARSE;
    s->last_rank = rank;
    switch (id) {
    case SEC_TYPE: s->types = c; return read_types(c, NULL, &s->counts.types);
    case SEC_IMPORT: return read_imports(c, s);
    case SEC_FUNCTION: return read_functions(c, s);
    case SEC_TABLE: return read_vector(c, &n, read_table_type, &s->counts);
    case SEC_MEMORY: return read_vector(c, &n, read_memory_type, &s->counts);
    case SEC_GLOBAL:
        if (read_u32(&c, &v))
            return MEWE_EPARSE;
        s->counts.globals += v;
        return MEWE_OK;
    case SEC_EXPORT: return read_vector(c, &s->counts.exports, read_export, &s->counts);
    case SEC_START: return read_single_u32(c, &v);
    case SEC_ELEMENT: return read_vector(c, &s->counts.elem_segments, read_element, &s->counts);
    case SEC_DATACOUNT: s->have_datacount = true; return read_single_u32(c, &s->datacount);
    case SEC_DATA: return read_u32(&c, &s->data_segments);
    case SEC_TAG:
        if (read_u32(&c, &v))
            return MEWE_EPARSE;
        s->counts.tags += v;
        return MEWE_OK;
    case SEC_CODE:
        s->have_code = true;
        s->code = c;
        return MEWE_OK;
    default: return MEWE_OK; /* framed only */
    }
}

static int walk_sections(cursor c, section_scan *s)
{
    static const unsigned char header[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    cursor sec;
    unsigned id;
    uint32_t size;

    if (bytes_left(&c) < sizeof header || memcmp(c.p, header, sizeof header) != 0)
        return MEWE_EPARSE;
    c.p += sizeof header;
    while (c.p != c.end) {
        if (read_byte(&c, &id) || read_u32(&c, &size) || take(&c, size, &sec) ||
            read_section(id, sec, s))
            return MEWE_EPARSE;
    }
    /* A data-count section promises the number of data segments. */
    if (s->have_datacount && s->datacount != s->data_segments)
        return MEWE_EPARSE;
    return MEWE_OK;
}

/* ---- code and name sections --------------------------------------------- */

/* A body is local declarations (at most 2^32 - 1 locals in all) then an expression, which
 * always ends with `end`. *count receives the number of locals; *code, when not NULL, the
 * expression. */
static int body_locals(const unsigned char *body, size_t len, uint32_t *count, cursor *code)
{
    cursor c = {body, body + len};
    uint32_t groups, n;
    uint64_t locals = 0;
    unsigned type;

    if (read_u32(&c, &groups))
        return MEWE_EPARSE;
    for (uint32_t i = 0; i < groups; i++) {
        if (read_u32(&c, &n) || read_byte(&c, &type) || !valtype_ok(type))
            return MEWE_EPARSE;
        locals += n;
        if (locals > UINT32_MAX)
            return MEWE_EPARSE;
    }
    *count = (uint32_t)locals;
    if (code)
        *code = c;
    return c.p != c.end && c.end[-1] == OP_END ? MEWE_OK : MEWE_EPARSE;
}

int mewe__wasm_body_scan(const mewe__wasm_func *f, uint32_t *max_br_table)
{
    cursor code;
    uint32_t locals;

    if (!f || !max_br_table)
        return MEWE_EINVAL;
    *max_br_table = 0;
    if (body_locals(f->body, f->body_len, &locals, &code) || read_expr(&code, max_br_table))
        return MEWE_EPARSE;
    return code.p == code.end ? MEWE_OK : MEWE_EPARSE;
}

/* Fills info->funcs from the code section; its entry count must match the function
 * section's, and their types must exist. */
static int read_code(const section_scan *s, mewe__wasm_info *info)
{
    cursor c = s->code, body, types = s->funcs;
    size_t n = 0;
    uint32_t len;

    if (s->have_code && read_count(&c, &n))
        return MEWE_EPARSE;
    if (n != s->declared_funcs)
        return MEWE_EPARSE;
    info->import_func_count = s->import_funcs;
    info->code_size = s->have_code ? bytes_left(&s->code) : 0;
    if (n == 0)
        return MEWE_OK;
    info->funcs = calloc(n, sizeof *info->funcs);
    if (!info->funcs)
        return MEWE_ENOMEM;
    info->func_count = n;
    for (size_t i = 0; i < n; i++) {
        if (read_u32(&c, &len) || take(&c, len, &body) ||
            body_locals(body.p, len, &info->funcs[i].locals, NULL) ||
            read_u32(&types, &info->funcs[i].type) || info->funcs[i].type >= info->type_count)
            return MEWE_EPARSE;
        info->funcs[i].body = body.p;
        info->funcs[i].body_len = len;
    }
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

/* Copies the function types (checked by the walk) and the counts into info. */
static int fill_types(const section_scan *s, mewe__wasm_info *info)
{
    size_t n = s->counts.types;

    info->counts = s->counts;
    info->counts.functions = s->import_funcs + s->declared_funcs;
    info->counts.data_segments = s->data_segments;
    info->counts.bytes = (size_t)(s->end - s->start);
    if (n == 0)
        return MEWE_OK;
    info->types = calloc(n, sizeof *info->types);
    if (!info->types)
        return MEWE_ENOMEM;
    info->type_count = n;
    return read_types(s->types, info->types, &n);
}

/* Gives the defined function `f` a NUL-terminated copy of name. A name holding a NUL byte
 * cannot be a C string, so that function stays unnamed rather than misnamed. */
static int set_name(mewe__wasm_func *f, cursor name)
{
    size_t len = bytes_left(&name);
    char *copy;

    if (memchr(name.p, '\0', len))
        return MEWE_OK;
    copy = malloc(len + 1);
    if (!copy)
        return MEWE_ENOMEM;
    memcpy(copy, name.p, len);
    copy[len] = '\0';
    f->name = copy;
    return MEWE_OK;
}

/* The function-names subsection: a name map whose indices must strictly increase (so no
 * function is named twice) and refer to existing functions. */
static int read_func_names(cursor c, mewe__wasm_info *info)
{
    size_t n, total = info->import_func_count + info->func_count;
    uint32_t idx;
    uint64_t prev = UINT64_MAX; /* stands for "none yet" */
    cursor name;
    int rc;

    if (read_count(&c, &n))
        return MEWE_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (read_u32(&c, &idx) || read_name(&c, &name))
            return MEWE_EPARSE;
        if (idx >= total || (prev != UINT64_MAX && idx <= prev))
            return MEWE_EPARSE;
        prev = idx;
        if (idx < info->import_func_count)
            continue;
        rc = set_name(&info->funcs[idx - info->import_func_count], name);
        if (rc != MEWE_OK)
            return rc;
    }
    return c.p == c.end ? MEWE_OK : MEWE_EPARSE;
}

/* Subsections come once each in increasing id order; all but function names are skipped. */
static int read_names(cursor c, mewe__wasm_info *info)
{
    unsigned id;
    int last = -1;
    uint32_t size;
    cursor sub;
    int rc;

    while (c.p != c.end) {
        if (read_byte(&c, &id) || (int)id <= last || read_u32(&c, &size) || take(&c, size, &sub))
            return MEWE_EPARSE;
        last = (int)id;
        if (id == SUB_FUNC_NAMES) {
            rc = read_func_names(sub, info);
            if (rc != MEWE_OK)
                return rc;
        }
    }
    return MEWE_OK;
}

#define MEWE__WASM_LINK_SYMTAB   8
#define MEWE__WASM_SYM_FUNCTION  0
#define MEWE__WASM_SYM_DATA      1
#define MEWE__WASM_SYM_UNDEFINED 0x10
#define MEWE__WASM_SYM_EXPLICIT  0x40

/* One entry of a linking section's symbol table; a defined function's name is kept. */
static int read_symbol(cursor *c, mewe__wasm_info *info)
{
    unsigned kind;
    uint32_t flags, idx;
    cursor name;
    if (read_byte(c, &kind) || read_u32(c, &flags))
        return MEWE_EPARSE;
    if (kind == MEWE__WASM_SYM_DATA) {
        if (read_name(c, &name))
            return MEWE_EPARSE;
        if (!(flags & MEWE__WASM_SYM_UNDEFINED) &&
            (read_u32(c, &idx) || skip_leb(c, 5) || skip_leb(c, 5)))
            return MEWE_EPARSE;
        return 0;
    }
    if (read_u32(c, &idx))
        return MEWE_EPARSE;
    if (kind == 3) /* section symbol: an index only */
        return 0;
    if (kind > 5)
        return MEWE_EPARSE;
    int named = !(flags & MEWE__WASM_SYM_UNDEFINED) || (flags & MEWE__WASM_SYM_EXPLICIT);
    if (named && read_name(c, &name))
        return MEWE_EPARSE;
    if (kind != MEWE__WASM_SYM_FUNCTION || (flags & MEWE__WASM_SYM_UNDEFINED) || !named)
        return 0;
    if (idx < info->import_func_count || idx - info->import_func_count >= info->func_count)
        return MEWE_EPARSE;
    mewe__wasm_func *f = &info->funcs[idx - info->import_func_count];
    return f->name ? 0 : set_name(f, name);
}

/* A relocatable object (what code generation makes before wasm-ld) has no "name" section;
 * its defined functions are named by the symbol table of its "linking" section (version 2,
 * as in the tool conventions' Linking.md). */
static int read_link_names(cursor c, mewe__wasm_info *info)
{
    uint32_t version, size, n;
    unsigned id;
    cursor sub;
    if (read_u32(&c, &version) || version != 2)
        return MEWE_EPARSE;
    while (c.p != c.end) {
        if (read_byte(&c, &id) || read_u32(&c, &size) || take(&c, size, &sub))
            return MEWE_EPARSE;
        if (id != MEWE__WASM_LINK_SYMTAB)
            continue;
        if (read_u32(&sub, &n))
            return MEWE_EPARSE;
        for (uint32_t i = 0; i < n; i++) {
            int rc = read_symbol(&sub, info);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int mewe__wasm_parse(mewe__wasm_info *out, const void *data, size_t size)
{
    section_scan s;
    cursor c;
    int rc;

    if (!out)
        return MEWE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!data)
        return MEWE_EINVAL;
    memset(&s, 0, sizeof s);
    c.p = data;
    c.end = c.p + size;
    s.start = c.p;
    s.end = c.end;
    rc = walk_sections(c, &s);
    if (rc == MEWE_OK)
        rc = fill_types(&s, out);
    if (rc == MEWE_OK)
        rc = read_code(&s, out);
    if (rc == MEWE_OK && s.have_names)
        rc = read_names(s.names, out);
    if (rc == MEWE_OK && !s.have_names && s.have_linking)
        rc = read_link_names(s.linking, out);
    if (rc != MEWE_OK)
        mewe__wasm_info_free(out);
    return rc;
}

void mewe__wasm_info_free(mewe__wasm_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->func_count; i++)
        free((char *)info->funcs[i].name);
    free(info->funcs);
    free(info->types);
    memset(info, 0, sizeof *info);
}

/* ---- instructions and forwarders ----------------------------------------- */

int mewe__wasm_body_expr(const mewe__wasm_func *f, size_t *expr_at)
{
    cursor code;
    uint32_t locals;

    if (!f || !expr_at || body_locals(f->body, f->body_len, &locals, &code))
        return f && expr_at ? MEWE_EPARSE : MEWE_EINVAL;
    *expr_at = (size_t)(code.p - f->body);
    return MEWE_OK;
}

int mewe__wasm_instr_length(const unsigned char *p, const unsigned char *end, size_t *len)
{
    cursor c = {p, end};
    unsigned op;
    long depth = 0;
    uint32_t max_br_table = 0;

    if (!p || !end || !len)
        return MEWE_EINVAL;
    if (read_byte(&c, &op) || read_instr(&c, op, &depth, &max_br_table))
        return MEWE_EPARSE;
    *len = (size_t)(c.p - p);
    return MEWE_OK;
}

/* Whether two functions are variants of one family. */
static bool siblings(const mewe__wasm_func *a, const mewe__wasm_func *b)
{
    size_t la, lb;

    return a->name && b->name && mewe__wasm_variant_family(a->name, &la) &&
           mewe__wasm_variant_family(b->name, &lb) && la == lb && memcmp(a->name, b->name, la) == 0;
}

/* After a forwarder's call: its result through a local (local.set X, local.get X) and a
 * return, as code generation at -O0 writes it, then the end. */
static bool forward_tail(cursor c)
{
    uint32_t set, get;
    unsigned b;

    if (c.end - c.p >= 4 && c.p[0] == 0x21) {
        c.p++;
        if (read_u32(&c, &set) || read_byte(&c, &b) || b != 0x20 || read_u32(&c, &get) ||
            get != set)
            return false;
    }
    if (c.p < c.end && c.p[0] == 0x0f) /* return */
        c.p++;
    return read_byte(&c, &b) == MEWE_OK && b == OP_END && c.p == c.end;
}

long mewe__wasm_forward_target(const mewe__wasm_info *info, size_t i)
{
    const mewe__wasm_func *f = &info->funcs[i];
    cursor c;
    uint32_t locals, index;
    unsigned b;

    if (body_locals(f->body, f->body_len, &locals, &c) || locals > 1)
        return -1;
    for (uint32_t k = 0; k < info->types[f->type].params; k++) {
        if (read_byte(&c, &b) || b != 0x20 || read_u32(&c, &index) || index != k)
            return -1;
    }
    if (read_byte(&c, &b) || b != 0x10 || read_u32(&c, &index) || !forward_tail(c) ||
        index < info->import_func_count || index - info->import_func_count >= info->func_count)
        return -1;
    size_t t = index - info->import_func_count;
    const mewe__wasm_func *g = &info->funcs[t];
    if (t == i || g->type != f->type || !siblings(f, g))
        return -1;
    return (long)t;
}

/* ---- variant families --------------------------------------------------- */

/* Scanning the digits from the end finds the only ".mewe.v" that can match: any earlier one
 * is followed by non-digits. */
bool mewe__wasm_variant_family(const char *name, size_t *family_len)
{
    size_t end = strlen(name), i = end;

    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    if (i == end || i < TAG_LEN)
        return false;
    i -= TAG_LEN;
    if (memcmp(name + i, variant_tag, TAG_LEN) != 0)
        return false;
    *family_len = i;
    return true;
}

/* Total order on bodies: hash first (cheap), then length and bytes, so equal bodies sort
 * next to each other even when different bodies collide. */
static int body_cmp(const variant *a, const variant *b)
{
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (a->body_len != b->body_len)
        return a->body_len < b->body_len ? -1 : 1;
    return a->body_len ? memcmp(a->body, b->body, a->body_len) : 0;
}

static int family_cmp(const variant *a, const variant *b)
{
    size_t n = a->family_len < b->family_len ? a->family_len : b->family_len;
    int d = n ? memcmp(a->family, b->family, n) : 0;

    if (d != 0)
        return d;
    if (a->family_len != b->family_len)
        return a->family_len < b->family_len ? -1 : 1;
    return 0;
}

static int qsort_body(const void *a, const void *b)
{
    return body_cmp(a, b);
}

static int qsort_variant(const void *a, const void *b)
{
    int d = family_cmp(a, b);

    return d ? d : body_cmp(a, b);
}

/* What collect_variants does with a forwarder (mewe__wasm_forward_target): a stub that
 * wasm derivation did not fill runs its target's code, so it counts with its target's body;
 * the twin review leaves stubs alone (their bodies are alike until derivation fills them). */
typedef enum { FORWARDERS_AS_TARGET, FORWARDERS_SKIPPED } forwarders;

/* Collects the variant functions of `family` (every family when NULL) into a malloc'd
 * array; *out is NULL when there are none. */
static int collect_variants(const mewe__wasm_info *info, const char *family, forwarders fw,
                            variant **out, size_t *count)
{
    size_t want = family ? strlen(family) : 0, n = 0, flen;
    variant *v;

    *out = NULL;
    *count = 0;
    if (info->func_count == 0)
        return MEWE_OK;
    v = malloc(info->func_count * sizeof *v);
    if (!v)
        return MEWE_ENOMEM;
    for (size_t i = 0; i < info->func_count; i++) {
        const mewe__wasm_func *f = &info->funcs[i];

        if (!f->name || !mewe__wasm_variant_family(f->name, &flen))
            continue;
        if (family && (flen != want || memcmp(f->name, family, want) != 0))
            continue;
        long target = mewe__wasm_forward_target(info, i);
        if (target >= 0 && fw == FORWARDERS_SKIPPED)
            continue;
        const mewe__wasm_func *code = target >= 0 ? &info->funcs[target] : f;
        v[n] = (variant){f->name, flen, mewe__fnv1a(code->body, code->body_len), code->body,
                         code->body_len};
        n++;
    }
    if (n == 0) {
        free(v);
        return MEWE_OK;
    }
    *out = v;
    *count = n;
    return MEWE_OK;
}

/* Distinct bodies in a run sorted by body_cmp. */
static size_t count_distinct(const variant *v, size_t n)
{
    size_t distinct = n ? 1 : 0;

    for (size_t i = 1; i < n; i++)
        distinct += body_cmp(&v[i - 1], &v[i]) != 0;
    return distinct;
}

int mewe__wasm_family_distinct(const mewe__wasm_info *info, const char *family, size_t *variants,
                               size_t *distinct)
{
    variant *v;
    size_t n;
    int rc;

    if (!info || !family || !variants || !distinct)
        return MEWE_EINVAL;
    *variants = 0;
    *distinct = 0;
    rc = collect_variants(info, family, FORWARDERS_AS_TARGET, &v, &n);
    if (rc != MEWE_OK)
        return rc;
    if (n > 1)
        qsort(v, n, sizeof *v, qsort_body);
    *variants = n;
    *distinct = count_distinct(v, n);
    free(v);
    return MEWE_OK;
}

double mewe__wasm_family_difference(const mewe__wasm_info *info, const char *family)
{
    variant *v;
    size_t n;
    if (!info || !family || collect_variants(info, family, FORWARDERS_AS_TARGET, &v, &n))
        return -1.0;
    mewe__wasm_grams *g = calloc(n ? n : 1, sizeof *g);
    bool ok = g != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = mewe__wasm_grams_make(&g[i], v[i].body, v[i].body_len) == MEWE_OK;
    double sum = 0.0;
    size_t pairs = 0;
    for (size_t i = 0; ok && i < n; i++) {
        for (size_t k = i + 1; k < n; k++, pairs++)
            sum += mewe__wasm_grams_difference(&g[i], &g[k]);
    }
    for (size_t i = 0; g && i < n; i++)
        mewe__wasm_grams_free(&g[i]);
    free(g);
    free(v);
    return !ok ? -1.0 : pairs ? sum / (double)pairs : 0.0;
}

/* Length of the run of variants sharing v[0]'s family. */
static size_t family_run(const variant *v, size_t n)
{
    size_t k = 1;

    while (k < n && family_cmp(&v[0], &v[k]) == 0)
        k++;
    return k;
}

static size_t count_runs(const variant *v, size_t n)
{
    size_t runs = 0;

    for (size_t i = 0; i < n; i += family_run(v + i, n - i))
        runs++;
    return runs;
}

/* Fills fam[0..] from the sorted variants, one entry per family. */
static int fill_families(const variant *v, size_t n, mewe__wasm_family *fam)
{
    size_t j = 0;

    for (size_t i = 0, k; i < n; i += k, j++) {
        k = family_run(v + i, n - i);
        fam[j].family = malloc(v[i].family_len + 1);
        if (!fam[j].family)
            return MEWE_ENOMEM;
        memcpy(fam[j].family, v[i].family, v[i].family_len);
        fam[j].family[v[i].family_len] = '\0';
        fam[j].variants = k;
        fam[j].distinct = count_distinct(v + i, k);
    }
    return MEWE_OK;
}

int mewe__wasm_families(const mewe__wasm_info *info, mewe__wasm_family **out, size_t *count)
{
    variant *v;
    mewe__wasm_family *fam;
    size_t n, groups;
    int rc;

    if (!out || !count)
        return MEWE_EINVAL;
    *out = NULL;
    *count = 0;
    if (!info)
        return MEWE_EINVAL;
    rc = collect_variants(info, NULL, FORWARDERS_AS_TARGET, &v, &n);
    if (rc != MEWE_OK || n == 0)
        return rc;
    qsort(v, n, sizeof *v, qsort_variant);
    groups = count_runs(v, n);
    fam = calloc(groups, sizeof *fam);
    rc = fam ? fill_families(v, n, fam) : MEWE_ENOMEM;
    free(v);
    if (rc) {
        mewe__wasm_families_free(fam, fam ? groups : 0);
        return rc;
    }
    *out = fam;
    *count = groups;
    return MEWE_OK;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int mewe__wasm_name_set_make(mewe__wasm_name_set *out, const mewe__wasm_info *info)
{
    out->count = 0;
    out->names = malloc((info->func_count ? info->func_count : 1) * sizeof *out->names);
    if (!out->names)
        return MEWE_ENOMEM;
    for (size_t i = 0; i < info->func_count; i++) {
        if (info->funcs[i].name)
            out->names[out->count++] = info->funcs[i].name;
    }
    qsort(out->names, out->count, sizeof *out->names, by_str);
    return MEWE_OK;
}

bool mewe__wasm_name_set_has(const mewe__wasm_name_set *set, const char *name)
{
    return set->count && bsearch(&name, set->names, set->count, sizeof *set->names, by_str);
}

void mewe__wasm_name_set_free(mewe__wasm_name_set *set)
{
    free(set->names);
    set->names = NULL;
    set->count = 0;
}

/* The variant's number N, from "X.mewe.v<N>" (saturated: only an order is needed). */
static unsigned long variant_number(const variant *v)
{
    unsigned long n = 0;
    for (const char *p = v->family + v->family_len + TAG_LEN; *p; p++)
        n = n > (ULONG_MAX - 9) / 10 ? ULONG_MAX : n * 10 + (unsigned long)(*p - '0');
    return n;
}

/* Family, then body, then the variant's number: in a run of equal bodies of one family, the
 * lowest-numbered variant comes first. */
static int qsort_twin(const void *a, const void *b)
{
    int d = qsort_variant(a, b);
    if (d)
        return d;
    unsigned long x = variant_number(a), y = variant_number(b);
    return (x > y) - (x < y);
}

int mewe__wasm_twins(const mewe__wasm_info *info, mewe__wasm_twin **out, size_t *count)
{
    if (!out || !count)
        return MEWE_EINVAL;
    *out = NULL;
    *count = 0;
    if (!info)
        return MEWE_EINVAL;
    variant *v;
    size_t n;
    int rc = collect_variants(info, NULL, FORWARDERS_SKIPPED, &v, &n);
    if (rc != MEWE_OK || n == 0)
        return rc;
    qsort(v, n, sizeof *v, qsort_twin);
    mewe__wasm_twin *t = malloc(n * sizeof *t);
    if (!t) {
        free(v);
        return MEWE_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 1, first = 0; i < n; i++) {
        if (family_cmp(&v[first], &v[i]) != 0 || body_cmp(&v[first], &v[i]) != 0)
            first = i;
        else
            t[m++] = (mewe__wasm_twin){v[i].family, v[first].family};
    }
    free(v);
    if (m == 0) {
        free(t);
        t = NULL;
    }
    *out = t;
    *count = m;
    return MEWE_OK;
}

void mewe__wasm_families_free(mewe__wasm_family *families, size_t count)
{
    if (!families)
        return;
    for (size_t i = 0; i < count; i++)
        free(families[i].family);
    free(families);
}

/* ---- difference ----------------------------------------------------------- */

/* Sorts words in place by their bytes, lowest first (LSD radix: bodies have thousands of
 * 4-grams, and a comparison callback per step made this the check's slowest part). */
static int sort_u32(uint32_t *g, size_t m)
{
    uint32_t *tmp = malloc((m ? m : 1) * sizeof *tmp);
    if (!tmp)
        return MEWE_ENOMEM;
    uint32_t *from = g, *to = tmp;
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < m; i++)
            count[((from[i] >> shift) & 0xff) + 1]++;
        for (size_t b = 1; b < 257; b++)
            count[b] += count[b - 1];
        for (size_t i = 0; i < m; i++)
            to[count[(from[i] >> shift) & 0xff]++] = from[i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    free(tmp); /* four passes: the sorted words are back in g */
    return MEWE_OK;
}

int mewe__wasm_grams_make(mewe__wasm_grams *out, const unsigned char *p, size_t len)
{
    *out = (mewe__wasm_grams){p, len, NULL, 0};
    size_t m = len >= 4 ? len - 3 : (len ? 1 : 0);
    uint32_t *g = malloc((m ? m : 1) * sizeof *g);
    if (!g)
        return MEWE_ENOMEM;
    if (len < 4 && len) {
        uint32_t w = 0;
        memcpy(&w, p, len);
        g[0] = w ^ (uint32_t)len << 28; /* short bodies: the whole body is one gram */
    }
    for (size_t i = 0; len >= 4 && i < m; i++)
        g[i] = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
               (uint32_t)p[i + 3] << 24;
    if (sort_u32(g, m) != MEWE_OK) {
        free(g);
        return MEWE_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k == 0 || g[k - 1] != g[i])
            g[k++] = g[i];
    }
    out->g = g;
    out->n = k;
    return MEWE_OK;
}

void mewe__wasm_grams_free(mewe__wasm_grams *g)
{
    free(g->g);
    g->g = NULL;
    g->n = 0;
}

double mewe__wasm_grams_difference(const mewe__wasm_grams *a, const mewe__wasm_grams *b)
{
    if (a->len == b->len && (a->len == 0 || memcmp(a->body, b->body, a->len) == 0))
        return 0.0;
    size_t i = 0, j = 0, common = 0;
    while (i < a->n && j < b->n) {
        if (a->g[i] == b->g[j]) {
            common++;
            i++;
            j++;
        } else if (a->g[i] < b->g[j]) {
            i++;
        } else {
            j++;
        }
    }
    size_t all = a->n + b->n - common;
    double d = all ? 1.0 - (double)common / (double)all : 0.0;
    /* Different bytes that happen to have the same 4-grams still differ. */
    return d > 0.0 ? d : 1e-6;
}

double mewe__wasm_body_difference(const unsigned char *a, size_t a_len, const unsigned char *b,
                                  size_t b_len)
{
    if (a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0))
        return 0.0;
    mewe__wasm_grams ga, gb;
    if (mewe__wasm_grams_make(&ga, a, a_len) != MEWE_OK)
        return -1.0;
    if (mewe__wasm_grams_make(&gb, b, b_len) != MEWE_OK) {
        mewe__wasm_grams_free(&ga);
        return -1.0;
    }
    double d = mewe__wasm_grams_difference(&ga, &gb);
    mewe__wasm_grams_free(&ga);
    mewe__wasm_grams_free(&gb);
    return d;
}
