/* Variants made in wasm (derive.h): forwarders filled with rewritten copies of their
 * targets' bodies, the code section written again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/strbuf.h"
#include "wasm/derive.h"
#include "wasm/edit.h"
#include "wasm/inspect.h"
#include "wasm/objects.h"
#include "wasm/splice.h"

#define SEC_CUSTOM 0
#define SEC_CODE   10

/* Seeds tried per stub before it is left a forwarder. */
#define ATTEMPTS   4
/* More locals than this (LLVM's largest functions have a few thousand) are not renumbered. */
#define LOCALS_MAX (1u << 20)

#define OP_LOCAL_GET  0x20
#define OP_LOCAL_TEE  0x22
#define OP_GLOBAL_GET 0x23
#define OP_I32_CONST  0x41
#define OP_I64_CONST  0x42
#define OP_F64_CONST  0x44

/* splitmix64: each stub's rewrites come from its own name, so the output is the same bytes
 * for the same input. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static bool coin(uint64_t *s)
{
    return next(s) >> 63;
}

/* ---- one body --------------------------------------------------------------------------- */

/* The type of each local the declarations decl[0..len) declare, malloc'd; NULL with
 * *count 0 when there are none or too many, or with *failed when out of memory. */
static unsigned char *local_types(const unsigned char *decl, size_t len, uint32_t *count,
                                  bool *failed)
{
    mewe__reader r = {decl, decl + len};
    uint64_t groups, n, total = 0;
    *count = 0;
    *failed = false;
    if (!mewe__get_uleb(&r, &groups))
        return NULL;
    for (uint64_t g = 0; g < groups; g++) {
        if (!mewe__get_uleb(&r, &n) || r.p == r.end || n > LOCALS_MAX)
            return NULL;
        r.p++;
        total += n;
    }
    if (total == 0 || total > LOCALS_MAX)
        return NULL;
    unsigned char *types = malloc(total);
    *failed = !types;
    r = (mewe__reader){decl, decl + len};
    mewe__get_uleb(&r, &groups);
    for (size_t g = 0, at = 0; types && g < groups; g++) {
        mewe__get_uleb(&r, &n);
        unsigned char t = *r.p++;
        memset(types + at, t, n);
        at += n;
    }
    *count = (uint32_t)total;
    return types;
}

/* A random permutation of the locals among those of the same type: map[i] is the new index
 * of local params + i (the declarations stay as they are). NULL with *count 0 when there
 * are none (or too many), or with *failed when out of memory. */
static uint32_t *locals_map(const unsigned char *decl, size_t len, uint32_t params, uint64_t *rng,
                            uint32_t *count, bool *failed)
{
    unsigned char *types = local_types(decl, len, count, failed);
    if (!types)
        return NULL;
    uint32_t total = *count;
    uint32_t *map = malloc(total * sizeof *map);
    uint32_t *pos = malloc(total * sizeof *pos);
    uint32_t *shuffled = malloc(total * sizeof *shuffled);
    *failed = !map || !pos || !shuffled;
    bool seen[256] = {false};
    for (uint32_t i = 0; !*failed && i < total; i++) {
        if (seen[types[i]])
            continue;
        seen[types[i]] = true;
        uint32_t m = 0;
        for (uint32_t j = i; j < total; j++) {
            if (types[j] == types[i])
                pos[m++] = j;
        }
        for (uint32_t k = 0; k < m; k++) { /* Fisher-Yates, inside-out */
            uint32_t j = (uint32_t)(next(rng) % (k + 1));
            if (j != k)
                shuffled[k] = shuffled[j];
            shuffled[j] = pos[k];
        }
        for (uint32_t k = 0; k < m; k++)
            map[pos[k]] = params + shuffled[k];
    }
    free(types);
    free(pos);
    free(shuffled);
    if (*failed) {
        free(map);
        *count = 0;
        return NULL;
    }
    return map;
}

/* The values on the operand stack that the output's last instructions computed, each
 * from the instructions that computed it (a span of the output) when those have no effect,
 * cannot trap and carry no relocation: two such values in a row may be computed the other
 * way round. A constant (`lone_const`) may be negated, but never moves before the other
 * operand: engines' baseline compilers (V8's Liftoff) fold a constant right-hand operand
 * into the instruction, and one on the left costs a register and a move (keccak's cold
 * runs, one quick benchmark run each: 1.42 times the original's with such swaps, 1.23
 * without, 1.20 with every variant made by LLVM). Any other instruction forgets them all. */
typedef struct span {
    size_t at, len;
    bool movable;    /* no relocation inside */
    bool lone_const; /* one i32.const or i64.const */
} span;

#define SPANS_MAX 16
#define SWAP_MAX  256 /* bytes of two operands swapped at most */

typedef struct operands {
    span v[SPANS_MAX];
    unsigned n;
} operands;

/* How many values instruction p pops to push one, when it is pure (no effect, no trap, no
 * control): 0 to 3; -1 for any other. */
static int pure_pops(const unsigned char *p)
{
    unsigned op = p[0];
    if (op == 0x20 || op == 0x23 || (op >= 0x41 && op <= 0x44)) /* local/global.get, const */
        return 0;
    if (op == 0x45 || op == 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) ||
        (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f) || op == 0xa7 || op == 0xac ||
        op == 0xad || (op >= 0xb2 && op <= 0xc4))
        return 1; /* eqz, clz/ctz/popcnt, float unary, wrap, extend, convert, reinterpret */
    if ((op >= 0x46 && op <= 0x66) || (op >= 0x6a && op <= 0x6c) || (op >= 0x71 && op <= 0x78) ||
        (op >= 0x7c && op <= 0x7e) || (op >= 0x83 && op <= 0x8a) || (op >= 0x92 && op <= 0x98) ||
        (op >= 0xa0 && op <= 0xa6))
        return 2;               /* comparisons, and the arithmetic that cannot trap (no div, rem) */
    return op == 0x1b ? 3 : -1; /* select */
}

/* Records the instruction just written at out[at..len): the values it pops become one. */
static void track(operands *o, const unsigned char *p, size_t at, size_t len, bool relocated)
{
    int pops = pure_pops(p);
    if (pops < 0 || (unsigned)pops > o->n || (pops == 0 && o->n == SPANS_MAX)) {
        o->n = 0;
        return;
    }
    span s = {at, len, !relocated, pops == 0 && (p[0] == 0x41 || p[0] == 0x42) && !relocated};
    for (int k = 0; k < pops; k++) {
        const span *in = &o->v[--o->n];
        s.len += s.at - in->at;
        s.at = in->at;
        s.movable &= in->movable;
    }
    o->v[o->n++] = s;
}

/* The comparison with its operands the other way round (a < b is b > a), the operation
 * itself for a commutative one, 0 for others. Floats compare alike both ways, NaN included;
 * float add and mul are left alone (which NaN comes out depends on the order). */
static unsigned swapped_op(unsigned op)
{
    static const unsigned char pairs[][2] = {
        {0x46, 0x46}, {0x47, 0x47}, {0x6a, 0x6a}, {0x6c, 0x6c}, /* i32 eq ne add mul */
        {0x71, 0x71}, {0x72, 0x72}, {0x73, 0x73},               /* i32 and or xor */
        {0x51, 0x51}, {0x52, 0x52}, {0x7c, 0x7c}, {0x7e, 0x7e}, /* i64 eq ne add mul */
        {0x83, 0x83}, {0x84, 0x84}, {0x85, 0x85},               /* i64 and or xor */
        {0x5b, 0x5b}, {0x5c, 0x5c}, {0x61, 0x61}, {0x62, 0x62}, /* f32, f64 eq ne */
        {0x48, 0x4a}, {0x49, 0x4b}, {0x4c, 0x4e}, {0x4d, 0x4f}, /* i32 lt gt, le ge (s, u) */
        {0x53, 0x55}, {0x54, 0x56}, {0x57, 0x59}, {0x58, 0x5a}, /* i64 */
        {0x5d, 0x5e}, {0x5f, 0x60}, {0x63, 0x64}, {0x65, 0x66}, /* f32, f64 lt gt, le ge */
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        if (pairs[i][0] == op)
            return pairs[i][1];
        if (pairs[i][1] == op)
            return pairs[i][0];
    }
    return 0;
}

/* x + c is x - (-c) and the converse, in two's complement: the const opcode of the type for
 * i32 and i64 add and sub, else 0. */
static unsigned negatable(unsigned op)
{
    return op == 0x6a || op == 0x6b ? OP_I32_CONST : op == 0x7c || op == 0x7d ? OP_I64_CONST : 0;
}

static unsigned add_sub_flip(unsigned op)
{
    return op == 0x6a ? 0x6b : op == 0x6b ? 0x6a : op == 0x7c ? 0x7d : 0x7c;
}

/* Rewrites the operands of a binary operation `op` about to be written (the last two
 * values of o), and gives the operation to write. */
static unsigned rewrite_binary(mewe__strbuf *out, unsigned op, operands *o, uint64_t *rng)
{
    if (o->n < 2 || out->failed)
        return op;
    span *first = &o->v[o->n - 2], *last = &o->v[o->n - 1];
    unsigned char *data = (unsigned char *)out->data;
    unsigned cop = negatable(op);
    if (cop && last->lone_const && data[last->at] == cop && last->at + last->len == out->len &&
        coin(rng)) {
        mewe__reader r = {data + last->at + 1, data + last->at + last->len};
        int64_t c;
        if (mewe__get_sleb(&r, &c)) {
            int64_t neg = cop == OP_I32_CONST ? (int64_t)(int32_t)(0u - (uint32_t)c)
                                              : (int64_t)(0u - (uint64_t)c);
            out->len = last->at;
            mewe__put_byte(out, cop);
            mewe__put_sleb(out, neg);
            last->len = out->len - last->at;
            op = add_sub_flip(op);
        }
    }
    unsigned other = swapped_op(op);
    data = (unsigned char *)out->data;
    if (other && !out->failed && first->movable && last->movable && !last->lone_const &&
        first->at + first->len == last->at && last->at + last->len == out->len &&
        first->len + last->len <= SWAP_MAX && coin(rng)) {
        unsigned char both[SWAP_MAX];
        memcpy(both, data + last->at, last->len);
        memcpy(both + last->len, data + first->at, first->len);
        memcpy(data + first->at, both, first->len + last->len);
        size_t first_len = first->len;
        first->len = last->len;
        last->at = first->at + first->len;
        last->len = first_len;
        op = other;
    }
    return op;
}

/* A body to rewrite and the relocations in it (offsets from the body's first byte, in
 * order); the rewritten body's relocations go to moved[0..count) (the same entries, offsets
 * from its first byte). */
typedef struct body_in {
    const mewe__wasm_func *f;
    uint32_t params;
    const mewe__reloc *relocs;
    size_t count;
    mewe__reloc *moved;
} body_in;

/* Writes a body rewritten (derive.h) to out. An instruction with a relocation is written as
 * it is, and never moved. Returns MEWE_OK, MEWE_EPARSE, MEWE_ENOMEM. */
static int derive_body(const body_in *in, uint64_t seed, mewe__strbuf *out)
{
    const mewe__wasm_func *base = in->f;
    size_t expr_at;
    if (mewe__wasm_body_expr(base, &expr_at) != MEWE_OK)
        return MEWE_EPARSE;
    uint64_t rng = seed;
    uint32_t nlocals;
    bool failed;
    uint32_t *map = locals_map(base->body, expr_at, in->params, &rng, &nlocals, &failed);
    if (failed)
        return MEWE_ENOMEM;
    mewe__strbuf_append(out, base->body, expr_at);
    const unsigned char *p = base->body + expr_at, *end = base->body + base->body_len;
    operands o = {.n = 0};
    size_t next_reloc = 0;
    int rc = in->count && in->relocs[0].offset < expr_at ? MEWE_EPARSE : MEWE_OK;
    while (rc == MEWE_OK && p < end) {
        size_t n;
        if (mewe__wasm_instr_length(p, end, &n) != MEWE_OK) {
            rc = MEWE_EPARSE;
            break;
        }
        size_t from = (size_t)(p - base->body), at = out->len;
        unsigned op = p[0];
        uint64_t index;
        mewe__reader r = {p + 1, p + n};
        bool relocated = next_reloc < in->count && in->relocs[next_reloc].offset < from + n;
        if (relocated) {
            for (; next_reloc < in->count && in->relocs[next_reloc].offset < from + n;
                 next_reloc++) {
                in->moved[next_reloc] = in->relocs[next_reloc];
                in->moved[next_reloc].offset =
                    (uint32_t)(at + in->relocs[next_reloc].offset - from);
            }
            mewe__strbuf_append(out, p, n);
        } else if (op >= OP_LOCAL_GET && op <= OP_LOCAL_TEE && mewe__get_uleb(&r, &index)) {
            if (index >= in->params && index - in->params < nlocals)
                index = map[index - in->params];
            mewe__put_byte(out, op);
            mewe__put_uleb(out, index);
        } else if (swapped_op(op) || negatable(op)) {
            unsigned char now = (unsigned char)rewrite_binary(out, op, &o, &rng);
            at = out->len; /* a negated constant may have changed its length */
            mewe__put_byte(out, now);
        } else {
            mewe__strbuf_append(out, p, n);
        }
        if (!out->failed) /* the operation as written: a mirrored one pops what it did */
            track(&o, (const unsigned char *)out->data + at, at, out->len - at, relocated);
        p += n;
    }
    free(map);
    if (rc == MEWE_OK && next_reloc != in->count)
        rc = MEWE_EPARSE; /* a relocation outside the body's instructions */
    return out->failed ? MEWE_ENOMEM : rc;
}

/* ---- the object ------------------------------------------------------------------------- */

#define RELOC_CODE "reloc.CODE"

/* Where things are in the object (offsets into it), from one walk of its sections. */
typedef struct layout {
    unsigned sections;         /* sections seen */
    unsigned code_index;       /* the code section's index among them */
    const unsigned char *code; /* its payload */
    size_t code_size;
    const unsigned char *relocs; /* reloc.CODE's payload after its name, or NULL */
    size_t relocs_size;
    bool offsets_named; /* DWARF or a source map names code offsets */
} layout;

static int look(unsigned id, const unsigned char *name, size_t name_len, size_t start, size_t end,
                const unsigned char *payload, size_t payload_size, void *user)
{
    (void)start;
    (void)end;
    layout *l = user;
    static const char *const offsets[] = {".debug", "sourceMappingURL", "external_debug_info",
                                          "reloc..debug"};
    if (id == SEC_CODE) {
        l->code_index = l->sections;
        l->code = payload;
        l->code_size = payload_size;
    } else if (mewe__wasm_custom_is(id, name, name_len, RELOC_CODE)) {
        l->relocs = payload;
        l->relocs_size = payload_size;
    }
    for (size_t i = 0; id == SEC_CUSTOM && i < sizeof offsets / sizeof *offsets; i++) {
        size_t n = strlen(offsets[i]);
        l->offsets_named |= name_len >= n && memcmp(name, offsets[i], n) == 0;
    }
    l->sections++;
    return 0;
}

/* Types whose entries carry an addend (LLVM's relocTypeHasAddend): the memory addresses (3,
 * 4, 5, 11, 14 to 17, 21, 23, 25) and the offsets (8, 9, 22). */
static bool has_addend(unsigned type)
{
    const uint32_t with = 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 9 | 1u << 11 | 1u << 14 |
                          1u << 15 | 1u << 16 | 1u << 17 | 1u << 21 | 1u << 22 | 1u << 23 |
                          1u << 25;
    return type < 32 && (with >> type & 1u);
}

#define RELOC_TYPE_MAX 26

/* The entries of reloc.CODE, which must apply to the code section and be in order; NULL with
 * *count 0 when there are none; *bad when they cannot be read so. */
static mewe__reloc *read_relocs(const layout *l, size_t *count, bool *bad)
{
    *count = 0;
    *bad = false;
    if (!l->relocs)
        return NULL;
    mewe__reader r = {l->relocs, l->relocs + l->relocs_size};
    uint64_t target, n;
    if (!mewe__get_uleb(&r, &target) || target != l->code_index || !mewe__get_uleb(&r, &n) ||
        n > l->relocs_size) {
        *bad = true;
        return NULL;
    }
    mewe__reloc *out = malloc((n ? n : 1) * sizeof *out);
    if (!out)
        return NULL; /* *bad stays false: out of memory */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t type, offset, index;
        int64_t addend = 0;
        if (!mewe__get_uleb(&r, &type) || type > RELOC_TYPE_MAX || !mewe__get_uleb(&r, &offset) ||
            offset > UINT32_MAX || !mewe__get_uleb(&r, &index) || index > UINT32_MAX ||
            (has_addend((unsigned)type) && !mewe__get_sleb(&r, &addend)) ||
            (i && offset < out[i - 1].offset)) {
            free(out);
            *bad = true;
            return NULL;
        }
        out[i] = (mewe__reloc){(unsigned)type, (uint32_t)offset, (uint32_t)index, addend,
                               has_addend((unsigned)type)};
    }
    *count = (size_t)n;
    return out;
}

static void put_relocs(mewe__strbuf *s, uint32_t target, const mewe__reloc *r, size_t n)
{
    mewe__put_uleb(s, target);
    mewe__put_uleb(s, n);
    for (size_t i = 0; i < n; i++) {
        mewe__put_uleb(s, r[i].type);
        mewe__put_uleb(s, r[i].offset);
        mewe__put_uleb(s, r[i].index);
        if (r[i].has_addend)
            mewe__put_sleb(s, r[i].addend);
    }
}

/* Per function: its body's offset in the code section's payload, the first of its
 * relocations and how many. */
typedef struct fn_relocs {
    size_t at;
    size_t first, count;
} fn_relocs;

typedef struct filling {
    const mewe__wasm_info *info;
    const mewe__reloc *relocs;
    fn_relocs *of;
    uint64_t *family;     /* per function: hash of its family's name, 0 for a non-variant */
    unsigned char **body; /* per function: its new body, NULL to keep its own */
    size_t *len;
    mewe__reloc **moved; /* per new body: its relocations, offsets from its start */
    size_t *moved_count;
    mewe__derive_stats *stats;
} filling;

static const unsigned char *body_of(const filling *f, size_t i, size_t *len)
{
    *len = f->body[i] ? f->len[i] : f->info->funcs[i].body_len;
    return f->body[i] ? f->body[i] : f->info->funcs[i].body;
}

/* Whether a body equals any of the family of function i, i itself aside. */
static bool in_family(const filling *f, size_t i, const unsigned char *b, size_t n)
{
    for (size_t j = 0; j < f->info->func_count; j++) {
        size_t len;
        const unsigned char *other = body_of(f, j, &len);
        if (j != i && f->family[j] == f->family[i] && len == n && memcmp(other, b, n) == 0)
            return true;
    }
    return false;
}

/* Fills stub i with a rewritten copy of t's body unlike the family's others, if ATTEMPTS
 * draws make one. */
static int fill_from(filling *f, size_t i, size_t t, uint64_t seed)
{
    const mewe__wasm_func *stub = &f->info->funcs[i];
    const fn_relocs *tr = &f->of[t];
    body_in in = {&f->info->funcs[t], f->info->types[f->info->funcs[t].type].params,
                  f->relocs + tr->first, tr->count, NULL};
    mewe__reloc *local = malloc((tr->count ? tr->count : 1) * sizeof *local);
    in.moved = malloc((tr->count ? tr->count : 1) * sizeof *in.moved);
    if (!local || !in.moved) {
        free(local);
        free(in.moved);
        return MEWE_ENOMEM;
    }
    for (size_t k = 0; k < tr->count; k++) {
        local[k] = in.relocs[k];
        local[k].offset -= (uint32_t)tr->at;
    }
    in.relocs = local;
    /* The build seed and the stub's name: another seed, other copies. */
    seed = mewe__fnv1a_more(mewe__fnv1a(&seed, sizeof seed), stub->name, strlen(stub->name));
    int rc = MEWE_OK;
    for (unsigned a = 0; rc == MEWE_OK && a < ATTEMPTS && !f->body[i]; a++) {
        mewe__strbuf b = {0};
        rc = derive_body(&in, seed + a * 0x632BE59BD9B4E019ull, &b);
        size_t n = 0;
        unsigned char *bytes = (unsigned char *)mewe__strbuf_take(&b, &n);
        if (rc == MEWE_OK && !bytes)
            rc = MEWE_ENOMEM;
        if (rc == MEWE_OK && !in_family(f, i, bytes, n)) {
            f->body[i] = bytes;
            f->len[i] = n;
            f->stats->derived++;
            bytes = NULL;
        }
        free(bytes);
    }
    free(local);
    if (rc == MEWE_OK && f->body[i]) {
        f->moved[i] = in.moved;
        f->moved_count[i] = tr->count;
    } else {
        free(in.moved);
    }
    return rc;
}

/* Fills stub i, whose target is t, with a rewritten copy of t's body unlike the family's
 * others, or failing that of another of its family's bodies (every one computes the same: a
 * small function's two sources may give a few copies each); one that no rewrite could make
 * so (bodies without locals or operands to swap) stays a forwarder, which costs a call and
 * no code, and counts as its target. */
static int fill(filling *f, size_t i, size_t t, uint64_t seed)
{
    const mewe__wasm_info *info = f->info;
    int rc = fill_from(f, i, t, seed);
    for (size_t j = 0; rc == MEWE_OK && !f->body[i] && j < info->func_count; j++) {
        if (j != t && j != i && f->family[j] == f->family[i] &&
            info->funcs[j].type == info->funcs[i].type && mewe__wasm_forward_target(info, j) < 0)
            rc = fill_from(f, i, j, seed + (j + 1) * 0x9E3779B97F4A7C15ull);
    }
    f->stats->alike += rc == MEWE_OK && !f->body[i];
    return rc;
}

/* Assigns the relocations to the bodies they are in; false when one is in none. */
static bool assign_relocs(filling *f, const layout *l, size_t count)
{
    size_t k = 0;
    for (size_t i = 0; i < f->info->func_count; i++) {
        const mewe__wasm_func *fn = &f->info->funcs[i];
        size_t at = (size_t)(fn->body - l->code), end = at + fn->body_len;
        f->of[i] = (fn_relocs){at, k, 0};
        while (k < count && f->relocs[k].offset < end) {
            if (f->relocs[k].offset < at)
                return false;
            k++;
            f->of[i].count++;
        }
    }
    return k == count;
}

/* Finds and fills every stub whose target is not a stub itself. */
static int fill_all(filling *f, uint64_t seed)
{
    const mewe__wasm_info *info = f->info;
    int rc = MEWE_OK;
    for (size_t i = 0; rc == MEWE_OK && i < info->func_count; i++) {
        size_t flen;
        const char *name = info->funcs[i].name;
        f->family[i] =
            name && mewe__wasm_variant_family(name, &flen) ? mewe__fnv1a(name, flen) | 1 : 0;
    }
    for (size_t i = 0; rc == MEWE_OK && i < info->func_count; i++) {
        long t = mewe__wasm_forward_target(info, i);
        if (t >= 0 && mewe__wasm_forward_target(info, (size_t)t) < 0)
            rc = fill(f, i, (size_t)t, seed);
    }
    return rc;
}

/* ---- splicing (splice.h) ---------------------------------------------------------------- */

/* The functions' code as splicing sees it, made on first use. */
typedef struct resolving {
    filling *f;
    const char *caller; /* the family of the dispatcher spliced into */
    mewe__code *codes;  /* per function; .body NULL until made */
    mewe__reloc **rel;  /* per function: its own relocations, from its first byte */
    size_t members;     /* calls of a variant of the family found in the dispatcher */
    bool failed;
} resolving;

/* Function i's code now: its new body if it has one, else its own. NULL when out of
 * memory. */
static const mewe__code *code_of(resolving *r, size_t i)
{
    mewe__code *c = &r->codes[i];
    const filling *f = r->f;
    if (c->body)
        return c;
    c->type = &f->info->types[f->info->funcs[i].type];
    if (f->body[i]) {
        c->relocs = f->moved[i];
        c->reloc_count = f->moved_count[i];
    } else {
        size_t n = f->of[i].count;
        mewe__reloc *rel = malloc((n ? n : 1) * sizeof *rel);
        if (!rel) {
            r->failed = true;
            return NULL;
        }
        for (size_t k = 0; k < n; k++) {
            rel[k] = f->relocs[f->of[i].first + k];
            rel[k].offset -= (uint32_t)f->of[i].at;
        }
        r->rel[i] = rel;
        c->relocs = rel;
        c->reloc_count = n;
    }
    c->body = body_of(f, i, &c->len);
    return c;
}

/* Whether function t is a variant of the dispatcher named `of`. */
static bool member_of(const mewe__wasm_func *t, const char *of)
{
    size_t flen;
    return t->name && mewe__wasm_variant_family(t->name, &flen) && flen == strlen(of) &&
           memcmp(t->name, of, flen) == 0;
}

/* A stub left a forwarder runs its target's code: the function whose code t runs. */
static size_t runs(const filling *f, size_t t)
{
    for (unsigned hops = 0; !f->body[t] && hops < 8; hops++) {
        long next = mewe__wasm_forward_target(f->info, t);
        if (next < 0)
            break;
        t = (size_t)next;
    }
    return t;
}

static const mewe__code *callee_of(uint32_t index, void *user)
{
    resolving *r = user;
    const mewe__wasm_info *info = r->f->info;
    if (index < info->import_func_count || index - info->import_func_count >= info->func_count)
        return NULL;
    size_t t = index - info->import_func_count;
    if (!member_of(&info->funcs[t], r->caller))
        return NULL;
    r->members++;
    t = runs(r->f, t);
    return mewe__wasm_forward_target(info, t) < 0 || r->f->body[t] ? code_of(r, t) : NULL;
}

static int add_family(filling *f, mewe__spliced_family fam)
{
    mewe__spliced_family *grown =
        fam.name ? realloc(f->stats->families, (f->stats->family_count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(fam.name);
        return MEWE_ENOMEM;
    }
    f->stats->families = grown;
    f->stats->families[f->stats->family_count++] = fam;
    return MEWE_OK;
}

/* Whether function i is a stub that stayed a forwarder. */
static bool left_alike(const filling *f, size_t i)
{
    return !f->body[i] && mewe__wasm_forward_target(f->info, i) >= 0;
}

/* The report's account of a family spliced into its dispatcher: its bodies before, a stub
 * left a forwarder aside. */
static int record_family(filling *f, const char *name)
{
    const mewe__wasm_info *info = f->info;
    mewe__wasm_grams *g = malloc((info->func_count ? info->func_count : 1) * sizeof *g);
    if (!g)
        return MEWE_ENOMEM;
    size_t n = 0, distinct = 0, pairs = 0, alike = 0;
    double sum = 0.0;
    int rc = MEWE_OK;
    for (size_t i = 0; rc == MEWE_OK && i < info->func_count; i++) {
        if (!member_of(&info->funcs[i], name))
            continue;
        if (left_alike(f, i)) {
            alike++;
            continue;
        }
        size_t len;
        const unsigned char *b = body_of(f, i, &len);
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= g[k].len == len && memcmp(g[k].body, b, len) == 0;
        rc = mewe__wasm_grams_make(&g[n], b, len);
        if (rc != MEWE_OK)
            break;
        for (size_t k = 0; k < n; k++, pairs++)
            sum += mewe__wasm_grams_difference(&g[k], &g[n]);
        distinct += !seen;
        n++;
    }
    for (size_t k = 0; k < n; k++)
        mewe__wasm_grams_free(&g[k]);
    free(g);
    if (rc != MEWE_OK)
        return rc;
    return add_family(f, (mewe__spliced_family){mewe__strdup(name), true, n, distinct,
                                                pairs ? sum / (double)pairs : 0, alike});
}

/* The families not spliced whose stubs some stayed forwarders, for the report. */
static int record_alike(filling *f)
{
    const mewe__wasm_info *info = f->info;
    int rc = MEWE_OK;
    for (size_t i = 0; rc == MEWE_OK && i < info->func_count; i++) {
        size_t flen;
        const char *name = info->funcs[i].name;
        if (!name || !left_alike(f, i) || !mewe__wasm_variant_family(name, &flen))
            continue;
        mewe__spliced_family *known = NULL;
        for (size_t k = 0; !known && k < f->stats->family_count; k++) {
            const char *fam = f->stats->families[k].name;
            if (strlen(fam) == flen && memcmp(fam, name, flen) == 0)
                known = &f->stats->families[k];
        }
        if (known && !known->spliced)
            known->alike++;
        else if (!known)
            rc = add_family(f, (mewe__spliced_family){mewe__printf("%.*s", (int)flen, name), false,
                                                      0, 0, 0.0, 1});
    }
    return rc;
}

static int by_name_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The family whose dispatcher a function named `name` is, when `in` names it, else NULL.
 * The backend renames a `main` without parameters __original_main (and adds a `main` that
 * calls it, which has no variant to splice). */
static const char *spliced_family(const mewe__derive_in *in, const char *name)
{
    if (name && strcmp(name, "__original_main") == 0)
        name = "main";
    const char *const *hit = name ? bsearch(&name, in->splice_into, in->splice_count,
                                            sizeof *in->splice_into, by_name_str)
                                  : NULL;
    return hit ? *hit : NULL;
}

/* Splices the calls of function i (the dispatcher of `family`) of its variants; a body that
 * does not decode is left as it is. */
static int splice_one(filling *f, resolving *r, size_t i, const char *family)
{
    r->caller = family;
    r->members = 0;
    const mewe__code *caller = code_of(r, i);
    if (!caller)
        return MEWE_ENOMEM;
    mewe__strbuf b = {0};
    mewe__reloc *rel;
    size_t count, spliced;
    int rc = mewe__splice_calls(caller, callee_of, r, &b, &rel, &count, &spliced);
    if (r->failed)
        rc = MEWE_ENOMEM;
    if (rc != MEWE_OK || !spliced) {
        free(b.data);
        free(rel);
        return rc == MEWE_EPARSE ? MEWE_OK : rc;
    }
    /* The report counts the family from here only when no variant is called any more;
     * otherwise the output holds the others, and it counts what it finds there. */
    if (spliced == r->members)
        rc = record_family(f, r->caller);
    size_t len;
    unsigned char *bytes = (unsigned char *)mewe__strbuf_take(&b, &len);
    if (rc != MEWE_OK || !bytes) {
        free(bytes);
        free(rel);
        return MEWE_ENOMEM;
    }
    free(f->body[i]);
    free(f->moved[i]);
    f->body[i] = bytes;
    f->len[i] = len;
    f->moved[i] = rel;
    f->moved_count[i] = count;
    r->codes[i] = (mewe__code){0}; /* made again if asked */
    f->stats->spliced += spliced;
    return MEWE_OK;
}

/* Splices the calls of each dispatcher named in `in` of its own variants. */
static int splice_all(filling *f, const mewe__derive_in *in)
{
    size_t n = f->info->func_count;
    if (!in->splice_count || !n)
        return MEWE_OK;
    resolving r = {f, NULL, calloc(n, sizeof *r.codes), calloc(n, sizeof *r.rel), 0, false};
    int rc = r.codes && r.rel ? MEWE_OK : MEWE_ENOMEM;
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        const char *family = spliced_family(in, f->info->funcs[i].name);
        if (family)
            rc = splice_one(f, &r, i, family);
    }
    for (size_t i = 0; r.rel && i < n; i++)
        free(r.rel[i]);
    free(r.rel);
    free(r.codes);
    return rc;
}

/* The code section's payload again, and the relocations with their new offsets. */
static int new_code(const filling *f, mewe__strbuf *code, mewe__reloc **out, size_t *out_count)
{
    const mewe__wasm_info *info = f->info;
    size_t total = 0, k = 0;
    for (size_t i = 0; i < info->func_count; i++)
        total += f->body[i] ? f->moved_count[i] : f->of[i].count;
    mewe__reloc *r = malloc((total ? total : 1) * sizeof *r);
    if (!r)
        return MEWE_ENOMEM;
    mewe__put_uleb(code, info->func_count);
    for (size_t i = 0; i < info->func_count; i++) {
        size_t len;
        const unsigned char *b = body_of(f, i, &len);
        mewe__put_uleb(code, len);
        size_t at = code->len;
        mewe__strbuf_append(code, b, len);
        for (size_t j = 0; f->body[i] && j < f->moved_count[i]; j++, k++) {
            r[k] = f->moved[i][j];
            r[k].offset += (uint32_t)at;
        }
        for (size_t j = 0; !f->body[i] && j < f->of[i].count; j++, k++) {
            r[k] = f->relocs[f->of[i].first + j];
            r[k].offset = (uint32_t)(r[k].offset - f->of[i].at + at);
        }
    }
    *out = r;
    *out_count = total;
    return code->failed ? MEWE_ENOMEM : MEWE_OK;
}

/* Writes the object's sections again, the code section and reloc.CODE new. */
typedef struct writing {
    const unsigned char *obj;
    mewe__strbuf *out;
    const mewe__strbuf *code;
    const mewe__reloc *relocs;
    size_t count;
    unsigned code_index;
} writing;

static int write_section(unsigned id, const unsigned char *name, size_t name_len, size_t start,
                         size_t end, const unsigned char *payload, size_t payload_size, void *user)
{
    (void)payload;
    (void)payload_size;
    writing *w = user;
    if (id == SEC_CODE) {
        mewe__put_byte(w->out, SEC_CODE);
        mewe__put_uleb(w->out, w->code->len);
        mewe__strbuf_append(w->out, w->code->data, w->code->len);
    } else if (mewe__wasm_custom_is(id, name, name_len, RELOC_CODE)) {
        mewe__strbuf p = {0};
        mewe__put_uleb(&p, name_len);
        mewe__strbuf_append(&p, name, name_len);
        put_relocs(&p, w->code_index, w->relocs, w->count);
        mewe__put_byte(w->out, SEC_CUSTOM);
        mewe__put_uleb(w->out, p.len);
        mewe__strbuf_append(w->out, p.data, p.len);
        w->out->failed |= p.failed;
        free(p.data);
    } else {
        mewe__strbuf_append(w->out, w->obj + start, end - start);
    }
    return 0;
}

static int rebuild(const unsigned char *obj, size_t size, const filling *f, const layout *l,
                   unsigned char **out, size_t *out_size)
{
    mewe__strbuf code = {0}, s = {0};
    mewe__reloc *relocs = NULL;
    size_t count = 0;
    int rc = new_code(f, &code, &relocs, &count);
    if (rc == MEWE_OK) {
        writing w = {obj, &s, &code, relocs, count, l->code_index};
        mewe__strbuf_append(&s, obj, 8); /* magic and version */
        mewe__wasm_sections(obj, size, write_section, &w);
        *out = (unsigned char *)mewe__strbuf_take(&s, out_size);
        rc = *out ? MEWE_OK : MEWE_ENOMEM;
    }
    free(s.data);
    free(code.data);
    free(relocs);
    return rc;
}

static void filling_free(filling *f)
{
    for (size_t i = 0; i < f->info->func_count; i++) {
        free(f->body ? f->body[i] : NULL);
        free(f->moved ? f->moved[i] : NULL);
    }
    free(f->of);
    free(f->family);
    free(f->body);
    free(f->len);
    free(f->moved);
    free(f->moved_count);
}

/* Fills what it can, or says in stats->skipped why it cannot. */
static int fill_object(const unsigned char *obj, size_t size, const mewe__derive_in *in,
                       const mewe__wasm_info *info, const layout *l, unsigned char **out,
                       size_t *out_size, mewe__derive_stats *stats)
{
    if (l->offsets_named) {
        stats->skipped = "its DWARF or source map names code offsets";
        return MEWE_OK;
    }
    size_t count;
    bool bad;
    mewe__reloc *relocs = read_relocs(l, &count, &bad);
    if (bad) {
        stats->skipped = "its code relocations are not as LLVM writes them";
        return MEWE_OK;
    }
    if (!relocs && l->relocs)
        return MEWE_ENOMEM;
    size_t n = info->func_count;
    filling f = {info,
                 relocs,
                 calloc(n, sizeof *f.of),
                 calloc(n, sizeof *f.family),
                 calloc(n, sizeof *f.body),
                 calloc(n, sizeof *f.len),
                 calloc(n, sizeof *f.moved),
                 calloc(n, sizeof *f.moved_count),
                 stats};
    int rc =
        f.of && f.family && f.body && f.len && f.moved && f.moved_count ? MEWE_OK : MEWE_ENOMEM;
    if (rc == MEWE_OK && !assign_relocs(&f, l, count))
        stats->skipped = "a code relocation is outside every body";
    else if (rc == MEWE_OK)
        rc = fill_all(&f, in->seed);
    if (rc == MEWE_OK && !stats->skipped)
        rc = splice_all(&f, in);
    if (rc == MEWE_OK && !stats->skipped)
        rc = record_alike(&f);
    if (rc == MEWE_EPARSE) { /* an instruction the reader does not know: left as it is */
        rc = MEWE_OK;
        stats->skipped = "a body does not decode";
        stats->derived = stats->alike = stats->spliced = 0;
        mewe__derive_stats_free(stats);
    } else if (rc == MEWE_OK && !stats->skipped && (stats->derived || stats->spliced)) {
        rc = rebuild(obj, size, &f, l, out, out_size);
    }
    filling_free(&f);
    free(relocs);
    return rc;
}

/* Whether the object defines a dispatcher to splice into. */
static bool names_a_dispatcher(const mewe__wasm_info *info, const mewe__derive_in *in)
{
    for (size_t i = 0; in->splice_count && i < info->func_count; i++) {
        if (spliced_family(in, info->funcs[i].name))
            return true;
    }
    return false;
}

void mewe__derive_stats_free(mewe__derive_stats *stats)
{
    for (size_t i = 0; i < stats->family_count; i++)
        free(stats->families[i].name);
    free(stats->families);
    stats->families = NULL;
    stats->family_count = 0;
}

int mewe__wasm_derive(const unsigned char *obj, size_t size, const mewe__derive_in *in,
                      unsigned char **out, size_t *out_size, mewe__derive_stats *stats)
{
    *out = NULL;
    *out_size = 0;
    *stats = (mewe__derive_stats){0};
    mewe__wasm_info info;
    int rc = mewe__wasm_parse(&info, obj, size);
    if (rc != MEWE_OK)
        return rc;
    layout l = {0};
    for (size_t i = 0; i < info.func_count; i++)
        stats->stubs += mewe__wasm_forward_target(&info, i) >= 0;
    if (mewe__wasm_sections(obj, size, look, &l) < 0 || !l.code)
        rc = stats->stubs ? MEWE_EPARSE : MEWE_OK;
    else if (stats->stubs || names_a_dispatcher(&info, in))
        rc = fill_object(obj, size, in, &info, &l, out, out_size, stats);
    mewe__wasm_info_free(&info);
    return rc;
}
