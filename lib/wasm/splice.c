/* Calls inlined in compiled code (splice.h). */
#include <stdlib.h>
#include <string.h>

#include "wasm/splice.h"

#define OP_BLOCK     0x02
#define OP_LOOP      0x03
#define OP_IF        0x04
#define OP_END       0x0b
#define OP_BR        0x0c
#define OP_RETURN    0x0f
#define OP_CALL      0x10
#define OP_LOCAL_GET 0x20
#define OP_LOCAL_SET 0x21
#define OP_LOCAL_TEE 0x22
#define BLOCK_EMPTY  0x40

/* The most locals a function may have: V8's limit (kV8MaxWasmFunctionLocals), which the
 * other engines' are not below. A caller that would need more keeps its calls. */
#define LOCALS_MAX 50000u

/* A body's locals, parameters first: the value type of each. */
typedef struct locals {
    unsigned char *type; /* malloc'd */
    uint32_t count;
    size_t expr_at; /* where the instructions start in the body */
} locals;

/* The one-byte value types: numbers, v128, funcref, externref, exnref. */
static bool value_type(unsigned t)
{
    return (t >= 0x7b && t <= 0x7f) || t == 0x70 || t == 0x6f || t == 0x69;
}

/* Reads the local declarations of c; false when they do not decode, or declare too many,
 * or out of memory (*failed). */
static bool read_locals(const mewe__code *c, locals *out, bool *failed)
{
    mewe__reader r = {c->body, c->body + c->len};
    uint64_t groups, n = 0, total = c->type->params;
    *out = (locals){0};
    if (!mewe__get_uleb(&r, &groups) || groups > LOCALS_MAX)
        return false;
    const unsigned char *decl = r.p;
    for (uint64_t g = 0; g < groups; g++) {
        if (!mewe__get_uleb(&r, &n) || r.p == r.end || n > LOCALS_MAX)
            return false;
        r.p++;
        total += n;
        if (total > LOCALS_MAX)
            return false;
    }
    out->expr_at = (size_t)(r.p - c->body);
    out->type = malloc(total ? total : 1);
    if (!out->type) {
        *failed = true;
        return false;
    }
    memcpy(out->type, c->type->param_types, c->type->params);
    r = (mewe__reader){decl, c->body + out->expr_at};
    bool known = true;
    for (uint32_t at = c->type->params; r.p < r.end;) {
        mewe__get_uleb(&r, &n);
        known &= value_type(*r.p);
        memset(out->type + at, *r.p++, (size_t)n);
        at += (uint32_t)n;
    }
    for (uint32_t i = 0; i < c->type->params; i++)
        known &= value_type(out->type[i]);
    out->count = (uint32_t)total;
    if (!known) { /* a type of more than a byte, or not one */
        free(out->type);
        *out = (locals){0};
    }
    return known;
}

/* Instructions that mean something else in another function: tail calls (they would return
 * from the caller) and exception handling's blocks (a `delegate` may name the function). */
static bool foreign(unsigned op)
{
    return op == 0x06 || op == 0x07 || op == 0x12 || op == 0x13 || op == 0x15 || op == 0x18 ||
           op == 0x19 || op == 0x1f;
}

/* Whether callee c can be spliced: at most one result, instructions that decode and mean
 * the same in the caller, blocks that close where they should (the body's own `end` last),
 * local indices in range, no relocation in the declarations, on a local or on a return. */
static bool spliceable(const mewe__code *c, const locals *l)
{
    if (c->type->results > 1 || (c->reloc_count && c->relocs[0].offset < l->expr_at))
        return false;
    const unsigned char *p = c->body + l->expr_at, *end = c->body + c->len;
    size_t next = 0, depth = 0;
    bool closed = false;
    while (p < end) {
        size_t n;
        if (closed || mewe__wasm_instr_length(p, end, &n) != MEWE_OK || foreign(p[0]))
            return false;
        depth += p[0] == OP_BLOCK || p[0] == OP_LOOP || p[0] == OP_IF;
        if (p[0] == OP_END)
            closed = depth-- == 0;
        size_t from = (size_t)(p - c->body);
        bool relocated = false;
        for (; next < c->reloc_count && c->relocs[next].offset < from + n; next++)
            relocated |= c->relocs[next].offset >= from;
        if ((p[0] >= OP_LOCAL_GET && p[0] <= OP_LOCAL_TEE) || p[0] == OP_RETURN) {
            mewe__reader r = {p + 1, p + n};
            uint64_t index;
            if (relocated ||
                (p[0] != OP_RETURN && (!mewe__get_uleb(&r, &index) || index >= l->count)))
                return false;
        }
        p += n;
    }
    return closed && next == c->reloc_count;
}

/* One call to splice: where it is in the caller, and the callee's locals mapped into the
 * pool (map[i]: the caller's index for the callee's local i). */
typedef struct site {
    size_t at;
    const mewe__code *code;
    locals l;
    uint32_t *map;
} site;

typedef struct splicing {
    const mewe__code *caller;
    locals own;
    site *sites;
    size_t count;
    uint32_t need[256]; /* the pool: slots of each value type */
    mewe__strbuf *out;
    size_t start; /* where the new body starts in out */
    mewe__reloc *relocs;
    size_t reloc_count, reloc_cap;
    bool failed;
} splicing;

static void push_reloc(splicing *s, mewe__reloc r, size_t at)
{
    if (s->reloc_count == s->reloc_cap) {
        size_t cap = s->reloc_cap ? 2 * s->reloc_cap : 16;
        mewe__reloc *grown = realloc(s->relocs, cap * sizeof *grown);
        if (!grown) {
            s->failed = true;
            return;
        }
        s->relocs = grown;
        s->reloc_cap = cap;
    }
    r.offset = (uint32_t)(at - s->start);
    s->relocs[s->reloc_count++] = r;
}

/* Finds the calls to splice, and sizes the pool. */
static int find_sites(splicing *s, mewe__callee_fn callee, void *user)
{
    const mewe__code *c = s->caller;
    const unsigned char *p = c->body + s->own.expr_at, *end = c->body + c->len;
    while (p < end) {
        size_t n;
        if (mewe__wasm_instr_length(p, end, &n) != MEWE_OK)
            return MEWE_EPARSE;
        mewe__reader r = {p + 1, p + n};
        uint64_t index;
        const mewe__code *code =
            p[0] == OP_CALL && mewe__get_uleb(&r, &index) && index <= UINT32_MAX
                ? callee((uint32_t)index, user)
                : NULL;
        site st = {(size_t)(p - c->body), code, {0}, NULL};
        if (code && read_locals(code, &st.l, &s->failed) && spliceable(code, &st.l)) {
            site *grown = realloc(s->sites, (s->count + 1) * sizeof *grown);
            if (!grown) {
                free(st.l.type);
                return MEWE_ENOMEM;
            }
            s->sites = grown;
            s->sites[s->count++] = st;
        } else {
            free(st.l.type);
        }
        if (s->failed)
            return MEWE_ENOMEM;
        p += n;
    }
    return MEWE_OK;
}

/* Gives each site's locals their pool slots: a callee's k-th local of a type takes the k-th
 * slot of that type. False when the caller would have too many locals. */
static bool map_sites(splicing *s)
{
    for (size_t k = 0; k < s->count; k++) {
        uint32_t seen[256] = {0};
        for (uint32_t i = 0; i < s->sites[k].l.count; i++) {
            unsigned t = s->sites[k].l.type[i];
            if (++seen[t] > s->need[t])
                s->need[t] = seen[t];
        }
    }
    uint64_t total = s->own.count;
    uint32_t base[256];
    for (unsigned t = 0; t < 256; t++) {
        base[t] = (uint32_t)total;
        total += s->need[t];
    }
    if (total > LOCALS_MAX)
        return false;
    for (size_t k = 0; k < s->count; k++) {
        site *st = &s->sites[k];
        uint32_t seen[256] = {0};
        st->map = malloc((st->l.count ? st->l.count : 1) * sizeof *st->map);
        if (!st->map) {
            s->failed = true;
            return false;
        }
        for (uint32_t i = 0; i < st->l.count; i++)
            st->map[i] = base[st->l.type[i]] + seen[st->l.type[i]]++;
    }
    return true;
}

/* The caller's local declarations, and the pool's after them. */
static void write_locals(splicing *s)
{
    mewe__reader r = {s->caller->body, s->caller->body + s->own.expr_at};
    uint64_t groups = 0;
    mewe__get_uleb(&r, &groups); /* read_locals decoded them */
    size_t pool = 0;
    for (unsigned t = 0; t < 256; t++)
        pool += s->need[t] > 0;
    mewe__put_uleb(s->out, groups + pool);
    mewe__strbuf_append(s->out, r.p, (size_t)(r.end - r.p));
    for (unsigned t = 0; t < 256; t++) {
        if (s->need[t]) {
            mewe__put_uleb(s->out, s->need[t]);
            mewe__put_byte(s->out, t);
        }
    }
}

/* The callee of site st in place of its call (spliceable() checked what this trusts). */
static void write_site(splicing *s, const site *st)
{
    const mewe__code *c = st->code;
    for (uint32_t i = c->type->params; i-- > 0;) {
        mewe__put_byte(s->out, OP_LOCAL_SET);
        mewe__put_uleb(s->out, st->map[i]);
    }
    mewe__put_byte(s->out, OP_BLOCK);
    mewe__put_byte(s->out, c->type->results ? c->type->result_types[0] : BLOCK_EMPTY);
    const unsigned char *p = c->body + st->l.expr_at, *end = c->body + c->len;
    size_t next = 0;
    uint32_t depth = 0; /* blocks open in the callee: a `return` branches out of them all */
    while (p < end) {
        size_t n;
        mewe__wasm_instr_length(p, end, &n);
        size_t from = (size_t)(p - c->body);
        unsigned op = p[0];
        if (op >= OP_LOCAL_GET && op <= OP_LOCAL_TEE) {
            mewe__reader r = {p + 1, p + n};
            uint64_t index = 0;
            mewe__get_uleb(&r, &index); /* in range: spliceable() */
            mewe__put_byte(s->out, op);
            mewe__put_uleb(s->out, st->map[index]);
        } else if (op == OP_RETURN) {
            mewe__put_byte(s->out, OP_BR);
            mewe__put_uleb(s->out, depth);
        } else {
            for (; next < c->reloc_count && c->relocs[next].offset < from + n; next++)
                push_reloc(s, c->relocs[next], s->out->len + c->relocs[next].offset - from);
            mewe__strbuf_append(s->out, p, n);
            depth += op == OP_BLOCK || op == OP_LOOP || op == OP_IF;
            depth -= op == OP_END && depth > 0;
        }
        p += n;
    }
}

/* The caller's instructions, with each site's call replaced. */
static int write_body(splicing *s)
{
    const mewe__code *c = s->caller;
    const unsigned char *p = c->body + s->own.expr_at, *end = c->body + c->len;
    size_t next = 0, k = 0;
    while (p < end) {
        size_t n;
        if (mewe__wasm_instr_length(p, end, &n) != MEWE_OK)
            return MEWE_EPARSE;
        size_t from = (size_t)(p - c->body);
        bool here = k < s->count && s->sites[k].at == from;
        for (; next < c->reloc_count && c->relocs[next].offset < from + n; next++) {
            if (!here)
                push_reloc(s, c->relocs[next], s->out->len + c->relocs[next].offset - from);
        }
        if (here)
            write_site(s, &s->sites[k++]);
        else
            mewe__strbuf_append(s->out, p, n);
        p += n;
    }
    return next == c->reloc_count ? MEWE_OK : MEWE_EPARSE;
}

static void splicing_free(splicing *s)
{
    for (size_t k = 0; k < s->count; k++) {
        free(s->sites[k].l.type);
        free(s->sites[k].map);
    }
    free(s->sites);
    free(s->own.type);
}

int mewe__splice_calls(const mewe__code *caller, mewe__callee_fn callee, void *user,
                       mewe__strbuf *out, mewe__reloc **relocs, size_t *count, size_t *spliced)
{
    *relocs = NULL;
    *count = 0;
    *spliced = 0;
    splicing s = {.caller = caller, .out = out, .start = out->len};
    int rc = MEWE_OK;
    if (!read_locals(caller, &s.own, &s.failed))
        rc = s.failed ? MEWE_ENOMEM : MEWE_EPARSE;
    else if (caller->reloc_count && caller->relocs[0].offset < s.own.expr_at)
        rc = MEWE_EPARSE;
    if (rc == MEWE_OK)
        rc = find_sites(&s, callee, user);
    if (rc == MEWE_OK && !map_sites(&s)) {
        rc = s.failed ? MEWE_ENOMEM : MEWE_OK;
        splicing_free(&s);
        s = (splicing){.caller = caller, .out = out, .start = out->len}; /* no site */
        if (rc == MEWE_OK && !read_locals(caller, &s.own, &s.failed))
            rc = s.failed ? MEWE_ENOMEM : MEWE_EPARSE;
    }
    if (rc == MEWE_OK) {
        write_locals(&s);
        rc = write_body(&s);
    }
    if (rc == MEWE_OK && (s.failed || out->failed))
        rc = MEWE_ENOMEM;
    if (rc == MEWE_OK) {
        *relocs = s.relocs;
        *count = s.reloc_count;
        *spliced = s.count;
    } else {
        free(s.relocs);
        out->len = s.start;
    }
    splicing_free(&s);
    return rc;
}
