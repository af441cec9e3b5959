/* Built-in diversifier `superopt`: superoptimizer-style replacement, CROW's idea made fast.
 * A window is a small pure integer expression of the variant (one to three add, sub, and, or,
 * xor, or shifts by a constant, over at most three leaves); superopt replaces it by another
 * expression of at most three instructions that computes the same value, proven so by Z3
 * before it is used. Built only where Z3 is found (lib/diversifiers/meson.build); registered
 * through the public hook API.
 *
 * The search (Massalin's, with observational equivalence as in bottom-up synthesis):
 * - A bank per width and number of leaves holds every expression of up to two instructions
 *   over the leaves and 0, 1, -1 that computes a value no smaller one computes, judged on a
 *   fixed set of test vectors; built once per context, on first use.
 * - A window's alternatives are the expressions `x OP y` (or a shift of x) over bank entries,
 *   of up to three instructions, whose values on the test vectors are the window's. Nearly
 *   every candidate fails at the first vector, so a search costs a few milliseconds.
 * - The survivors that are not the window itself are ordered (those that mix the arithmetic
 *   and the boolean algebra first: code generation does not fold them back, as it folds most
 *   single-algebra ones) and at most PROOFS of them go to Z3, which must show `src != cand`
 *   unsatisfiable. Z3 runs under a resource limit (deterministic, unlike a timeout), each
 *   query in a fresh Z3 context, so a verdict depends on the query alone; a candidate Z3 does
 *   not prove in time is not used.
 * - Verdicts and alternatives are cached per context, keyed by width and the expressions'
 *   text: a window shape met again costs a lookup. The alternatives of a shape are a function
 *   of the shape alone, so the cache changes no output, only how long it takes.
 * Constants of a window other than 0, 1 and -1 (and shift amounts) are leaves: an
 * alternative holds for every value of them, and shapes that differ only in a constant share
 * one search. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <z3.h>

#include "internal.h"
#include "registry.h"
#include "superopt.h"
#include "util/array.h"
#include "util/hash.h"

#define LEAVES         3   /* leaves of a window, at most */
#define MAX_OPS        3   /* instructions of a window or an alternative, at most */
#define VECTORS        32  /* test vectors */
#define TOKENS         32  /* tokens of an expression, at most (3 instructions: 7) */
#define SURVIVORS      512 /* candidates kept from a search before ordering */
#define PROOFS         6   /* Z3 queries per shape, at most */
#define ALTERNATIVES   4   /* proven alternatives per shape, at most: enough to draw from */
/* Resource units per query. A proof of (a & b) + (a | b) = a + b at 32 bits takes about
 * 35,000 (6 ms here); a query that needs more than ten times the largest the search asks for
 * is a candidate not worth the time (about 100 ms). */
#define RLIMIT_DEFAULT 500000u
#define BUCKETS        4096
/* Text of an expression: 7 tokens of at most 20 characters and their spaces fit. */
#define TEXT           160

/* ---- expressions ----------------------------------------------------------------------- */

typedef enum { T_LEAF, T_CONST, T_ADD, T_SUB, T_AND, T_OR, T_XOR, T_SHL, T_LSHR, T_ASHR } tkind;

typedef struct tok {
    tkind k;
    uint64_t v; /* leaf index, or constant masked to the width */
} tok;

typedef struct expr {
    tok t[TOKENS];
    size_t n;
    unsigned width;
} expr;

static const char *const op_text[] = {"", "", "+", "-", "&", "|", "^", "<<", ">>u", ">>s"};

static uint64_t mask_of(unsigned width)
{
    return width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
}

static bool is_shift(tkind k)
{
    return k == T_SHL || k == T_LSHR || k == T_ASHR;
}

static bool commutative(tkind k)
{
    return k == T_ADD || k == T_AND || k == T_OR || k == T_XOR;
}

static bool valid_width(unsigned w)
{
    return w == 8 || w == 16 || w == 32 || w == 64;
}

/* Parses and checks an expression: every operator has its operands, one value is left, and
 * a shift's amount is a constant token below the width. */
static bool parse(expr *e, const char *rpn, unsigned width)
{
    e->n = 0;
    e->width = width;
    bool literal[TOKENS]; /* the stack: is the entry a constant token? */
    size_t depth = 0;
    for (const char *p = rpn; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ");
        if (e->n == TOKENS)
            return false;
        tok t = {T_LEAF, 0};
        size_t k;
        for (k = T_ADD; k <= T_ASHR; k++) {
            if (strlen(op_text[k]) == len && memcmp(op_text[k], p, len) == 0)
                break;
        }
        if (k <= T_ASHR) {
            t.k = (tkind)k;
            if (depth < 2)
                return false;
            if (is_shift(t.k) && (!literal[depth - 1] || e->t[e->n - 1].v >= width))
                return false;
            depth--;
            literal[depth - 1] = false;
        } else if (len == 1 && *p >= 'a' && *p < 'a' + LEAVES) {
            t.v = (uint64_t)(*p - 'a');
            literal[depth++] = false;
        } else {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end != p + len)
                return false;
            t = (tok){T_CONST, (uint64_t)v & mask_of(width)};
            literal[depth++] = true;
        }
        e->t[e->n++] = t;
        p += len;
    }
    return depth == 1;
}

static uint64_t apply(tkind k, uint64_t x, uint64_t y, unsigned width)
{
    uint64_t m = mask_of(width);
    switch (k) {
    case T_ADD: return (x + y) & m;
    case T_SUB: return (x - y) & m;
    case T_AND: return x & y;
    case T_OR: return x | y;
    case T_XOR: return x ^ y;
    case T_SHL: return (x << y) & m;
    case T_LSHR: return x >> y;
    case T_ASHR: {
        uint64_t sign = x >> (width - 1) & 1;
        uint64_t v = x >> y;
        return sign && y ? (v | ~(m >> y)) & m : v;
    }
    default: return 0;
    }
}

static uint64_t eval(const expr *e, const uint64_t *leaves)
{
    uint64_t st[TOKENS];
    size_t d = 0;
    for (size_t i = 0; i < e->n; i++) {
        const tok *t = &e->t[i];
        if (t->k == T_LEAF)
            st[d++] = leaves[t->v] & mask_of(e->width);
        else if (t->k == T_CONST)
            st[d++] = t->v;
        else {
            d--;
            st[d - 1] = apply(t->k, st[d - 1], st[d], e->width);
        }
    }
    return st[0];
}

unsigned mewe__superopt_size(const char *rpn)
{
    expr e;
    if (!parse(&e, rpn, 64))
        return 0;
    unsigned n = 0;
    for (size_t i = 0; i < e.n; i++)
        n += e.t[i].k >= T_ADD;
    return n;
}

static size_t leaf_count(const expr *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (e->t[i].k == T_LEAF && e->t[i].v + 1 > n)
            n = (size_t)e->t[i].v + 1;
    }
    return n;
}

/* ---- test vectors ---------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The same for every width (masked at use): edge values crossed between the leaves, then
 * random words, some sparse, some dense, so that carries and sign bits are all exercised. */
static void make_vectors(uint64_t vec[VECTORS][LEAVES])
{
    static const uint64_t edge[] = {0,
                                    1,
                                    UINT64_MAX,
                                    0x8000000080008080ull,
                                    0x7FFFFFFF7FFF7F7Full,
                                    2,
                                    0x5555555555555555ull,
                                    0xAAAAAAAAAAAAAAAAull};
    uint64_t s = 0x6D65776573757065ull;
    for (size_t i = 0; i < VECTORS; i++) {
        for (size_t l = 0; l < LEAVES; l++) {
            if (i < 16)
                vec[i][l] = edge[(i + l * (i / 8 + 1)) % 8];
            else if (i % 3 == 0)
                vec[i][l] = splitmix(&s) & splitmix(&s);
            else if (i % 3 == 1)
                vec[i][l] = splitmix(&s) | splitmix(&s);
            else
                vec[i][l] = splitmix(&s);
        }
    }
}

/* ---- the cache ------------------------------------------------------------------------- */

typedef struct entry {
    struct entry *next;
    char *key;
    mewe__so_verdict verdict; /* pairs */
    char **alts;              /* shapes: the proven alternatives */
    size_t n_alts;
} entry;

/* The bank of one width and leaf count: reps[0 .. start[s+1]) are the expressions of up to s
 * instructions, each with its values on the vectors. */
typedef struct rep {
    uint8_t op, size;
    uint32_t l, r; /* operands (reps); a shift's amount is in imm; a leaf's index too */
    uint64_t imm;
} rep;

typedef struct bank {
    bool built;
    rep *reps;
    uint64_t *vals; /* VECTORS per rep */
    size_t n, cap;
    uint64_t ones;             /* -1 at the bank's width */
    size_t start[MAX_OPS + 1]; /* first rep of each size; start[MAX_OPS] = n */
} bank;

struct mewe__superopt {
    entry *buckets[BUCKETS];
    bank banks[4][LEAVES]; /* widths 8, 16, 32, 64; 1 to 3 leaves */
    uint64_t vec[VECTORS][LEAVES];
    unsigned rlimit;
    mewe__so_stats stats;
};

static size_t width_index(unsigned w)
{
    return w == 8 ? 0 : w == 16 ? 1 : w == 32 ? 2 : 3;
}

static entry *cache_find(mewe__superopt *so, const char *key, bool create)
{
    entry **b = &so->buckets[mewe__fnv1a(key, strlen(key)) % BUCKETS];
    for (entry *e = *b; e; e = e->next) {
        if (strcmp(e->key, key) == 0)
            return e;
    }
    if (!create)
        return NULL;
    entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = mewe__strdup(key))) {
        free(e);
        return NULL;
    }
    e->verdict = MEWE__SO_UNKNOWN;
    e->next = *b;
    *b = e;
    return e;
}

mewe__superopt *mewe__superopt_new(void)
{
    mewe__superopt *so = calloc(1, sizeof *so);
    if (so) {
        make_vectors(so->vec);
        so->rlimit = RLIMIT_DEFAULT;
    }
    return so;
}

void mewe__superopt_free(mewe__superopt *so)
{
    if (!so)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (entry *e = so->buckets[i], *next; e; e = next) {
            next = e->next;
            for (size_t k = 0; k < e->n_alts; k++)
                free(e->alts[k]);
            free(e->alts);
            free(e->key);
            free(e);
        }
    }
    for (size_t w = 0; w < 4; w++) {
        for (size_t l = 0; l < LEAVES; l++) {
            free(so->banks[w][l].reps);
            free(so->banks[w][l].vals);
        }
    }
    free(so);
}

void mewe__superopt_set_rlimit(mewe__superopt *so, unsigned rlimit)
{
    so->rlimit = rlimit ? rlimit : RLIMIT_DEFAULT;
}

mewe__so_stats mewe__superopt_stats(const mewe__superopt *so)
{
    return so->stats;
}

/* ---- Z3 -------------------------------------------------------------------------------- */

/* Z3's default handler exits the process; libmewe never does. Errors are read back with
 * Z3_get_error_code after the calls. */
static void z3_quiet(Z3_context c, Z3_error_code e)
{
    (void)c;
    (void)e;
}

static Z3_ast z3_expr(Z3_context z, const expr *e, Z3_ast *leaves)
{
    Z3_sort bv = Z3_mk_bv_sort(z, e->width);
    Z3_ast st[TOKENS];
    size_t d = 0;
    for (size_t i = 0; i < e->n; i++) {
        const tok *t = &e->t[i];
        if (t->k == T_LEAF) {
            st[d++] = leaves[t->v];
            continue;
        }
        if (t->k == T_CONST) {
            st[d++] = Z3_mk_unsigned_int64(z, t->v, bv);
            continue;
        }
        d--;
        Z3_ast x = st[d - 1], y = st[d];
        switch (t->k) {
        case T_ADD: x = Z3_mk_bvadd(z, x, y); break;
        case T_SUB: x = Z3_mk_bvsub(z, x, y); break;
        case T_AND: x = Z3_mk_bvand(z, x, y); break;
        case T_OR: x = Z3_mk_bvor(z, x, y); break;
        case T_XOR: x = Z3_mk_bvxor(z, x, y); break;
        case T_SHL: x = Z3_mk_bvshl(z, x, y); break;
        case T_LSHR: x = Z3_mk_bvlshr(z, x, y); break;
        default: x = Z3_mk_bvashr(z, x, y); break;
        }
        st[d - 1] = x;
    }
    return st[0];
}

/* A Z3 context, made per search (the queries of one window shape) or per lone query: its
 * answers depend on its own queries alone, never on what other searches left in it. Made
 * once per search, not per query: making one costs as much as a query. */
static Z3_context z3_open(void)
{
    Z3_config cfg = Z3_mk_config();
    if (!cfg)
        return NULL;
    Z3_set_param_value(cfg, "model", "false");
    Z3_context z = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    if (z)
        Z3_set_error_handler(z, z3_quiet);
    return z;
}

/* Is `s != c` unsatisfiable? Under the state's resource limit, counted per query (a solver
 * parameter), deterministic, unlike a timeout. */
static int z3_equal(mewe__so_verdict *out, Z3_context z, unsigned rlimit, const expr *s,
                    const expr *c)
{
    Z3_sort bv = Z3_mk_bv_sort(z, s->width);
    Z3_ast leaves[LEAVES];
    for (int i = 0; i < LEAVES; i++)
        leaves[i] = Z3_mk_const(z, Z3_mk_int_symbol(z, i), bv);
    Z3_solver sol = Z3_mk_solver_for_logic(z, Z3_mk_string_symbol(z, "QF_BV"));
    Z3_solver_inc_ref(z, sol);
    Z3_params p = Z3_mk_params(z);
    Z3_params_inc_ref(z, p);
    Z3_params_set_uint(z, p, Z3_mk_string_symbol(z, "rlimit"), rlimit);
    Z3_solver_set_params(z, sol, p);
    Z3_params_dec_ref(z, p);
    Z3_solver_assert(z, sol,
                     Z3_mk_not(z, Z3_mk_eq(z, z3_expr(z, s, leaves), z3_expr(z, c, leaves))));
    Z3_lbool r = Z3_solver_check(z, sol);
    Z3_error_code err = Z3_get_error_code(z);
    Z3_solver_dec_ref(z, sol);
    if (err != Z3_OK && err != Z3_EXCEPTION)
        return err == Z3_MEMOUT_FAIL ? MEWE_ENOMEM : MEWE_EUSER;
    /* The resource limit reached gives an undefined answer: not proven. */
    *out = r == Z3_L_FALSE ? MEWE__SO_PROVEN : r == Z3_L_TRUE ? MEWE__SO_REFUTED : MEWE__SO_UNKNOWN;
    return MEWE_OK;
}

static int z3_equal_alone(mewe__so_verdict *out, unsigned rlimit, const expr *s, const expr *c)
{
    Z3_context z = z3_open();
    if (!z)
        return MEWE_ENOMEM;
    int rc = z3_equal(out, z, rlimit, s, c);
    Z3_del_context(z);
    return rc;
}

/* The two expressions of a query from outside, checked and parsed. */
static bool parse_query(expr *s, expr *c, const mewe__so_verdict *out, const mewe__superopt *so,
                        unsigned width, const char *src, const char *cand)
{
    return out && so && src && cand && valid_width(width) && parse(s, src, width) &&
           parse(c, cand, width);
}

int mewe__superopt_prove(mewe__so_verdict *out, mewe__superopt *so, unsigned width, const char *src,
                         const char *cand)
{
    expr s, c;
    if (!parse_query(&s, &c, out, so, width, src, cand))
        return MEWE_EINVAL;
    so->stats.queries++;
    return z3_equal_alone(out, so->rlimit, &s, &c);
}

static bool equal_on_vectors(const mewe__superopt *so, const expr *s, const expr *c)
{
    for (size_t i = 0; i < VECTORS; i++) {
        if (eval(s, so->vec[i]) != eval(c, so->vec[i]))
            return false;
    }
    return true;
}

/* z: the search's Z3 context, or NULL for one of the query's own. */
static int check_parsed(mewe__so_verdict *out, mewe__superopt *so, Z3_context z, const char *src,
                        const char *cand, const expr *s, const expr *c)
{
    char *key = mewe__printf("%u:%s|%s", s->width, src, cand);
    entry *e = key ? cache_find(so, key, false) : NULL;
    if (e) {
        free(key);
        *out = e->verdict;
        return MEWE_OK;
    }
    mewe__so_verdict v = MEWE__SO_REFUTED;
    int rc = MEWE_OK;
    if (equal_on_vectors(so, s, c)) {
        so->stats.queries++;
        rc = z ? z3_equal(&v, z, so->rlimit, s, c) : z3_equal_alone(&v, so->rlimit, s, c);
    }
    if (rc == MEWE_OK) {
        so->stats.proven += v == MEWE__SO_PROVEN;
        so->stats.refuted += v == MEWE__SO_REFUTED;
        so->stats.unknown += v == MEWE__SO_UNKNOWN;
        e = key ? cache_find(so, key, true) : NULL;
        if (!e)
            rc = MEWE_ENOMEM;
        else
            e->verdict = v;
    }
    free(key);
    *out = v;
    return rc;
}

int mewe__superopt_check(mewe__so_verdict *out, mewe__superopt *so, unsigned width, const char *src,
                         const char *cand)
{
    expr s, c;
    if (!parse_query(&s, &c, out, so, width, src, cand))
        return MEWE_EINVAL;
    return check_parsed(out, so, NULL, src, cand, &s, &c);
}

/* ---- the bank and the search ----------------------------------------------------------- */

static const tkind binops[] = {T_ADD, T_SUB, T_AND, T_OR, T_XOR};
static const tkind shifts[] = {T_SHL, T_LSHR, T_ASHR};

typedef struct seen {
    uint32_t *slots; /* rep index + 1; 0 empty */
    size_t cap;
} seen;

static uint64_t fp_hash(const uint64_t *v)
{
    return mewe__fnv1a(v, VECTORS * sizeof *v);
}

static bool seen_has(const seen *t, const bank *b, const uint64_t *v)
{
    for (size_t i = fp_hash(v) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->slots[i])
            return false;
        if (memcmp(&b->vals[(size_t)(t->slots[i] - 1) * VECTORS], v, VECTORS * sizeof *v) == 0)
            return true;
    }
}

static void seen_put(seen *t, const uint64_t *v, uint32_t idx)
{
    size_t i = fp_hash(v) & (t->cap - 1);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = idx + 1;
}

/* "x y op" into out (cap >= TEXT; the language's expressions always fit). */
static void join3(char *out, size_t cap, const char *x, const char *y, const char *op)
{
    size_t lx = strlen(x), ly = strlen(y), lo = strlen(op);
    if (lx + ly + lo + 3 > cap) {
        out[0] = 0;
        return;
    }
    memcpy(out, x, lx);
    out[lx] = ' ';
    memcpy(out + lx + 1, y, ly);
    out[lx + 1 + ly] = ' ';
    memcpy(out + lx + ly + 2, op, lo + 1);
}

/* A rep as an expression, commutative operands in a fixed order (the text's), so that two
 * spellings of the same tree compare equal. */
static void rep_text(const bank *b, uint32_t i, char *out, size_t cap)
{
    const rep *r = &b->reps[i];
    if (r->op == T_LEAF) {
        snprintf(out, cap, "%c", (char)('a' + r->imm));
        return;
    }
    if (r->op == T_CONST) {
        snprintf(out, cap, "%lld", r->imm == UINT64_MAX || r->imm > 1 ? -1LL : (long long)r->imm);
        return;
    }
    char x[TEXT], y[TEXT];
    rep_text(b, r->l, x, sizeof x);
    if (is_shift(r->op))
        snprintf(y, sizeof y, "%llu", (unsigned long long)r->imm);
    else
        rep_text(b, r->r, y, sizeof y);
    if (commutative(r->op) && strcmp(x, y) > 0)
        join3(out, cap, y, x, op_text[r->op]);
    else
        join3(out, cap, x, y, op_text[r->op]);
}

/* The same canonical text for a parsed expression (the window). */
static size_t expr_text(const expr *e, size_t end, char *out, size_t cap)
{
    const tok *t = &e->t[end];
    if (t->k == T_LEAF) {
        snprintf(out, cap, "%c", (char)('a' + t->v));
        return end;
    }
    if (t->k == T_CONST) {
        uint64_t m = mask_of(e->width);
        snprintf(out, cap, "%lld", t->v == m && m != 1 ? -1LL : (long long)t->v);
        return end;
    }
    char x[TEXT], y[TEXT];
    size_t ys = expr_text(e, end - 1, y, sizeof y);
    size_t xs = expr_text(e, ys - 1, x, sizeof x);
    if (commutative(t->k) && strcmp(x, y) > 0)
        join3(out, cap, y, x, op_text[t->k]);
    else
        join3(out, cap, x, y, op_text[t->k]);
    return xs;
}

typedef struct cand {
    uint8_t op;
    uint32_t l, r; /* reps; a shift's amount in r */
    int rank;      /* lower first */
    size_t order;  /* enumeration order: ties */
} cand;

/* Operator families within which code generation (DAGCombine) reassociates and cancels. */
static int family(uint8_t op)
{
    return op == T_ADD || op == T_SUB ? 1 : op;
}

/* The operands of the largest subtree at x of op's family ((x + (y - z)) - w gives x, y, z,
 * w): code generation reassociates within it. At most 4 (trees of 3 instructions). */
static size_t flatten(const bank *b, int fam, uint32_t x, uint32_t *out, size_t n)
{
    const rep *r = &b->reps[x];
    if (r->op > T_CONST && !is_shift(r->op) && family(r->op) == fam) {
        n = flatten(b, fam, r->l, out, n);
        return flatten(b, fam, r->r, out, n);
    }
    if (n < 8)
        out[n++] = x;
    return n;
}

/* Would code generation (DAGCombine) fold the node `op(x, y)` (y unused for shifts) into
 * something shorter or into another candidate of the search? A shift of a shift of the same
 * kind is merged. Within a family: two constants are combined ((x + 1) - 1), an identity or
 * absorbing constant vanishes (x - (0 - y), x & -1), an operand met twice cancels or
 * absorbs (a ^ (a ^ y), x & (x & y), (y - a) + a); x - C is canonicalized to x + -C and
 * -1 - x to x ^ -1. */
static bool is_const(const bank *b, uint32_t i, uint64_t v)
{
    return b->reps[i].op == T_CONST && b->reps[i].imm == v;
}

static bool is_not(const bank *b, uint32_t i, uint64_t ones)
{
    const rep *r = &b->reps[i];
    return r->op == T_XOR && (is_const(b, r->l, ones) || is_const(b, r->r, ones));
}

static bool is_bitwise(uint8_t op)
{
    return op == T_AND || op == T_OR || op == T_XOR;
}

static bool folds(const bank *b, uint8_t op, uint32_t x, uint32_t y)
{
    uint64_t ones = b->ones;
    const rep *rx = &b->reps[x], *ry = &b->reps[y];
    if (is_shift(op)) {
        if (rx->op == op)
            return true;
        /* Demanded bits: under a shift, a bitwise operation with a constant or a shifted
         * operand often touches only bits shifted out. */
        return is_bitwise(rx->op) && (b->reps[rx->l].op == T_CONST || is_shift(b->reps[rx->l].op) ||
                                      b->reps[rx->r].op == T_CONST || is_shift(b->reps[rx->r].op));
    }
    /* (x << 1) ^ (y << 1) is hoisted to (x ^ y) << 1. */
    if (is_bitwise(op) && is_shift(rx->op) && rx->op == ry->op && rx->imm == ry->imm)
        return true;
    if (op == T_SUB && (ry->op == T_CONST || is_const(b, x, ones)))
        return true;
    /* (x ^ y) | y is x | y: across the bitwise operations, an operand met twice absorbs. */
    if (is_bitwise(op) && ((is_bitwise(rx->op) && (rx->l == y || rx->r == y)) ||
                           (is_bitwise(ry->op) && (ry->l == x || ry->r == x))))
        return true;
    uint32_t f[8];
    int fam = family(op);
    size_t n = flatten(b, fam, y, f, flatten(b, fam, x, f, 0));
    size_t consts = 0, nots = 0;
    for (size_t i = 0; i < n; i++) {
        const rep *r = &b->reps[f[i]];
        if (r->op == T_CONST) {
            consts++;
            if (r->imm == 0 || (r->imm == ones && (op == T_AND || op == T_OR)))
                return true;
        }
        for (size_t j = 0; j < n; j++) {
            if (j < i && f[j] == f[i])
                return true;
            /* x - (x & y) becomes x & ~y, and (x & ~y) + y becomes x | y. */
            if (fam == 1 && (r->op == T_AND || r->op == T_OR) && (r->l == f[j] || r->r == f[j]))
                return true;
        }
        nots += fam == 1 && is_not(b, f[i], ones);
    }
    /* ~x + 1 is -x; ~x - ~y is y - x. */
    return consts >= 2 || nots >= 2 || (nots && consts);
}

/* Does the tree of rep i compute the target somewhere (the target wrapped in identities,
 * such as x & -1 or (x ^ b) ^ b), or hold a node that folds? */
static bool trivial_tree(const bank *b, uint32_t i, const uint64_t *target)
{
    const rep *r = &b->reps[i];
    if (memcmp(&b->vals[(size_t)i * VECTORS], target, VECTORS * sizeof *target) == 0)
        return true;
    if (r->op <= T_CONST)
        return false;
    if (folds(b, r->op, r->l, is_shift(r->op) ? 0 : r->r))
        return true;
    return trivial_tree(b, r->l, target) || (!is_shift(r->op) && trivial_tree(b, r->r, target));
}

/* Adds a rep whose values are in `v`, unless an earlier one has them all, or it is constant
 * (an expression of constants only, which the IR builder folds). */
static bool bank_offer(bank *b, seen *t, rep r, const uint64_t *v, bool atom, bool *nomem)
{
    /* A node that folds is no representative: the value's next spelling may not. */
    if (!atom && folds(b, r.op, r.l, r.r))
        return false;
    if (!atom) {
        size_t i = 1;
        while (i < VECTORS && v[i] == v[0])
            i++;
        if (i == VECTORS)
            return false;
    }
    if (seen_has(t, b, v))
        return false;
    /* Keep the table at most half full (its capacity bounds the bank). */
    if ((b->n + 1) * 2 > t->cap)
        return false;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        rep *reps = realloc(b->reps, cap * sizeof *reps);
        if (reps)
            b->reps = reps;
        uint64_t *vals = reps ? realloc(b->vals, cap * VECTORS * sizeof *vals) : NULL;
        if (!vals) {
            *nomem = true;
            return false;
        }
        b->vals = vals;
        b->cap = cap;
    }
    b->reps[b->n] = r;
    memcpy(&b->vals[b->n * VECTORS], v, VECTORS * sizeof *v);
    seen_put(t, v, (uint32_t)b->n);
    b->n++;
    return true;
}

static int bank_build(mewe__superopt *so, bank *b, unsigned width, size_t leaves)
{
    seen t = {calloc(1u << 17, sizeof(uint32_t)), 1u << 17};
    if (!t.slots)
        return MEWE_ENOMEM;
    bool nomem = false;
    uint64_t v[VECTORS], m = mask_of(width);
    b->start[0] = 0;
    b->ones = m;
    for (size_t l = 0; l < leaves; l++) {
        for (size_t i = 0; i < VECTORS; i++)
            v[i] = so->vec[i][l] & m;
        bank_offer(b, &t, (rep){T_LEAF, 0, 0, 0, l}, v, true, &nomem);
    }
    const uint64_t consts[] = {0, 1, m};
    for (size_t c = 0; c < 3; c++) {
        for (size_t i = 0; i < VECTORS; i++)
            v[i] = consts[c];
        bank_offer(b, &t, (rep){T_CONST, 0, 0, 0, consts[c]}, v, true, &nomem);
    }
    for (size_t s = 1; s < MAX_OPS && !nomem; s++) {
        b->start[s] = b->n;
        for (size_t k = 0; k < sizeof binops / sizeof *binops; k++) {
            tkind op = binops[k];
            for (size_t si = 0; si < s; si++) {
                size_t sj = s - 1 - si;
                if (commutative(op) && si > sj)
                    continue;
                for (size_t i = b->start[si]; i < b->start[si + 1]; i++) {
                    const uint64_t *x = &b->vals[i * VECTORS];
                    size_t j0 = commutative(op) && si == sj ? i : b->start[sj];
                    for (size_t j = j0; j < b->start[sj + 1]; j++) {
                        const uint64_t *y = &b->vals[j * VECTORS];
                        for (size_t q = 0; q < VECTORS; q++)
                            v[q] = apply(op, x[q], y[q], width);
                        bank_offer(b, &t,
                                   (rep){(uint8_t)op, (uint8_t)s, (uint32_t)i, (uint32_t)j, 0}, v,
                                   false, &nomem);
                        /* x may have moved: the bank grows */
                        x = &b->vals[i * VECTORS];
                    }
                }
            }
        }
        for (size_t k = 0; k < sizeof shifts / sizeof *shifts; k++) {
            const uint64_t amounts[] = {1, width - 1};
            for (size_t a = 0; a < 2; a++) {
                for (size_t i = b->start[s - 1]; i < b->start[s]; i++) {
                    for (size_t q = 0; q < VECTORS; q++)
                        v[q] = apply(shifts[k], b->vals[i * VECTORS + q], amounts[a], width);
                    bank_offer(b, &t,
                               (rep){(uint8_t)shifts[k], (uint8_t)s, (uint32_t)i, 0, amounts[a]}, v,
                               false, &nomem);
                }
            }
        }
    }
    b->start[MAX_OPS] = b->n;
    free(t.slots);
    b->built = !nomem;
    return nomem ? MEWE_ENOMEM : MEWE_OK;
}

/* Mixed boolean-arithmetic candidates first: code generation has no rule across the two
 * algebras, while it simplifies much within one. */
static int rank_of(const bank *b, const cand *c)
{
    unsigned arith = 0, boolean = 0, shift = 0, ops = 0;
    uint32_t stack[8];
    size_t d = 0;
    /* Walk the candidate: its top operator, then its operand reps' trees. */
    tkind top = (tkind)c->op;
    arith += top == T_ADD || top == T_SUB;
    boolean += top == T_AND || top == T_OR || top == T_XOR;
    shift += is_shift(top);
    ops++;
    stack[d++] = c->l;
    if (!is_shift(top))
        stack[d++] = c->r;
    while (d) {
        const rep *r = &b->reps[stack[--d]];
        if (r->op <= T_CONST)
            continue;
        arith += r->op == T_ADD || r->op == T_SUB;
        boolean += r->op == T_AND || r->op == T_OR || r->op == T_XOR;
        shift += is_shift(r->op);
        ops++;
        stack[d++] = r->l;
        if (!is_shift(r->op))
            stack[d++] = r->r;
    }
    int mixed = (arith > 0) + (boolean > 0) + (shift > 0) >= 2;
    return (mixed ? 0 : 10) + (int)ops;
}

static int cand_cmp(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static void cand_text(const bank *b, const cand *c, char *out, size_t cap)
{
    char x[TEXT], y[TEXT];
    rep_text(b, c->l, x, sizeof x);
    if (is_shift(c->op))
        snprintf(y, sizeof y, "%u", c->r);
    else
        rep_text(b, c->r, y, sizeof y);
    if (commutative(c->op) && strcmp(x, y) > 0)
        join3(out, cap, y, x, op_text[c->op]);
    else
        join3(out, cap, x, y, op_text[c->op]);
}

/* Every `x OP y` over bank reps of up to MAX_OPS instructions whose values are target's. */
static size_t enumerate(const bank *b, unsigned width, const uint64_t *target, cand *out)
{
    size_t n = 0, order = 0;
    for (size_t s = 1; s <= MAX_OPS; s++) {
        for (size_t k = 0; k < sizeof binops / sizeof *binops; k++) {
            tkind op = binops[k];
            for (size_t si = 0; si < s; si++) {
                size_t sj = s - 1 - si;
                if (commutative(op) && si > sj)
                    continue;
                for (size_t i = b->start[si]; i < b->start[si + 1]; i++) {
                    const uint64_t *x = &b->vals[i * VECTORS];
                    size_t j0 = commutative(op) && si == sj ? i : b->start[sj];
                    for (size_t j = j0; j < b->start[sj + 1]; j++) {
                        const uint64_t *y = &b->vals[j * VECTORS];
                        if (apply(op, x[0], y[0], width) != target[0])
                            continue;
                        size_t q = 1;
                        while (q < VECTORS && apply(op, x[q], y[q], width) == target[q])
                            q++;
                        if (q == VECTORS && n < SURVIVORS &&
                            !folds(b, (uint8_t)op, (uint32_t)i, (uint32_t)j) &&
                            !trivial_tree(b, (uint32_t)i, target) &&
                            !trivial_tree(b, (uint32_t)j, target))
                            out[n++] = (cand){(uint8_t)op, (uint32_t)i, (uint32_t)j, 0, order++};
                    }
                }
            }
        }
        for (size_t k = 0; k < sizeof shifts / sizeof *shifts; k++) {
            const uint32_t amounts[] = {1, width - 1};
            for (size_t a = 0; a < 2; a++) {
                for (size_t i = b->start[s - 1]; i < b->start[s]; i++) {
                    const uint64_t *x = &b->vals[i * VECTORS];
                    size_t q = 0;
                    while (q < VECTORS && apply(shifts[k], x[q], amounts[a], width) == target[q])
                        q++;
                    if (q == VECTORS && n < SURVIVORS &&
                        !folds(b, (uint8_t)shifts[k], (uint32_t)i, 0) &&
                        !trivial_tree(b, (uint32_t)i, target))
                        out[n++] = (cand){(uint8_t)shifts[k], (uint32_t)i, amounts[a], 0, order++};
                }
            }
        }
    }
    return n;
}

int mewe__superopt_alternatives(const char *const **out, size_t *count, mewe__superopt *so,
                                unsigned width, const char *src)
{
    expr s;
    if (!out || !count || !so || !src || !valid_width(width) || !parse(&s, src, width))
        return MEWE_EINVAL;
    size_t leaves = leaf_count(&s);
    if (leaves == 0 || leaves > LEAVES)
        return MEWE_EINVAL;
    char *key = mewe__printf("%u:%s", width, src);
    if (!key)
        return MEWE_ENOMEM;
    entry *e = cache_find(so, key, false);
    if (e) {
        free(key);
        so->stats.shape_hits++;
        *out = (const char *const *)e->alts;
        *count = e->n_alts;
        return MEWE_OK;
    }
    so->stats.shapes++;
    bank *b = &so->banks[width_index(width)][leaves - 1];
    int rc = b->built ? MEWE_OK : bank_build(so, b, width, leaves);
    cand *cands = rc == MEWE_OK ? malloc(SURVIVORS * sizeof *cands) : NULL;
    if (!cands) {
        free(key);
        return MEWE_ENOMEM;
    }
    uint64_t target[VECTORS];
    for (size_t i = 0; i < VECTORS; i++)
        target[i] = eval(&s, so->vec[i]);
    size_t n = enumerate(b, width, target, cands);
    so->stats.survivors += n;
    for (size_t i = 0; i < n; i++)
        cands[i].rank = rank_of(b, &cands[i]);
    qsort(cands, n, sizeof *cands, cand_cmp);
    char self[TEXT];
    expr_text(&s, s.n - 1, self, sizeof self);
    e = cache_find(so, key, true);
    free(key);
    if (!e) {
        free(cands);
        return MEWE_ENOMEM;
    }
    Z3_context z = NULL;
    for (size_t i = 0, tried = 0;
         rc == MEWE_OK && i < n && tried < PROOFS && e->n_alts < ALTERNATIVES; i++) {
        char text[TEXT];
        cand_text(b, &cands[i], text, sizeof text);
        expr c;
        if (strcmp(text, self) == 0 || !parse(&c, text, width))
            continue; /* the window itself */
        tried++;
        mewe__so_verdict v;
        if (!z && !(z = z3_open())) {
            rc = MEWE_ENOMEM;
            break;
        }
        rc = check_parsed(&v, so, z, src, text, &s, &c);
        if (rc != MEWE_OK || v != MEWE__SO_PROVEN)
            continue;
        char *copy = mewe__strdup(text);
        char **alts = copy ? realloc(e->alts, (e->n_alts + 1) * sizeof *alts) : NULL;
        if (!alts) {
            free(copy);
            rc = MEWE_ENOMEM;
            break;
        }
        e->alts = alts;
        e->alts[e->n_alts++] = copy;
    }
    if (z)
        Z3_del_context(z);
    free(cands);
    *out = (const char *const *)e->alts;
    *count = e->n_alts;
    return rc;
}

/* ---- the diversifier ------------------------------------------------------------------- */

typedef struct window {
    LLVMValueRef ops[MAX_OPS]; /* pre-order: ops[0] is the root */
    size_t n_ops;
    LLVMValueRef leaves[LEAVES];
    size_t n_leaves;
    unsigned width;
    char rpn[160];
    size_t len;
} window;

/* What a window may hold: integer add, sub, and, or, xor, and shifts by a constant below the
 * width (a larger one is poison, which no alternative reproduces). Flags (nsw, nuw, exact,
 * disjoint) only make the original poison more often: an alternative without them refines
 * it. */
static tkind window_op(LLVMValueRef v, unsigned width)
{
    if (!LLVMIsAInstruction(v))
        return T_LEAF;
    switch (LLVMGetInstructionOpcode(v)) {
    case LLVMAdd: return T_ADD;
    case LLVMSub: return T_SUB;
    case LLVMAnd: return T_AND;
    case LLVMOr: return T_OR;
    case LLVMXor: return T_XOR;
    case LLVMShl:
    case LLVMLShr:
    case LLVMAShr: {
        LLVMValueRef amount = LLVMGetOperand(v, 1);
        if (!LLVMIsAConstantInt(amount) || LLVMConstIntGetZExtValue(amount) >= width)
            return T_LEAF;
        LLVMOpcode o = LLVMGetInstructionOpcode(v);
        return o == LLVMShl ? T_SHL : o == LLVMLShr ? T_LSHR : T_ASHR;
    }
    default: return T_LEAF;
    }
}

static unsigned int_width(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMIntegerTypeKind ? LLVMGetIntTypeWidth(t) : 0;
}

static bool emit(window *w, const char *text)
{
    int k = snprintf(w->rpn + w->len, sizeof w->rpn - w->len, "%s%s", w->len ? " " : "", text);
    if (k < 0 || (size_t)k >= sizeof w->rpn - w->len)
        return false;
    w->len += (size_t)k;
    return true;
}

static bool one_use(LLVMValueRef v)
{
    LLVMUseRef u = LLVMGetFirstUse(v);
    return u && !LLVMGetNextUse(u);
}

/* Adds v to the window: as an operation when it is the root, or an operation of the root's
 * block whose only use is in the window (it dies with the window) and room is left; else as
 * a leaf (0, 1 and -1 as themselves). False when a fourth leaf would be needed. */
static bool add_value(window *w, LLVMValueRef v, LLVMBasicBlockRef bb, size_t max_ops, bool root)
{
    tkind k = window_op(v, w->width);
    if (k != T_LEAF &&
        (root || (w->n_ops < max_ops && LLVMGetInstructionParent(v) == bb && one_use(v)))) {
        w->ops[w->n_ops++] = v;
        if (!add_value(w, LLVMGetOperand(v, 0), bb, max_ops, false))
            return false;
        if (is_shift(k)) {
            char amount[24];
            snprintf(amount, sizeof amount, "%llu",
                     (unsigned long long)LLVMConstIntGetZExtValue(LLVMGetOperand(v, 1)));
            if (!emit(w, amount))
                return false;
        } else if (!add_value(w, LLVMGetOperand(v, 1), bb, max_ops, false)) {
            return false;
        }
        return emit(w, op_text[k]);
    }
    if (LLVMIsAConstantInt(v)) {
        uint64_t c = LLVMConstIntGetZExtValue(v) & mask_of(w->width);
        if (c == 0 || c == 1 || c == mask_of(w->width))
            return emit(w, c == 0 ? "0" : c == 1 ? "1" : "-1");
    }
    size_t i = 0;
    while (i < w->n_leaves && w->leaves[i] != v)
        i++;
    if (i == LEAVES)
        return false;
    if (i == w->n_leaves)
        w->leaves[w->n_leaves++] = v;
    char leaf[2] = {(char)('a' + i), 0};
    return emit(w, leaf);
}

/* The window at root of at most max_ops operations and three leaves. */
static bool window_at(window *w, LLVMValueRef root, size_t max_ops)
{
    memset(w, 0, sizeof *w);
    w->width = int_width(root);
    return add_value(w, root, LLVMGetInstructionParent(root), max_ops, true);
}

static bool candidate_root(LLVMValueRef i)
{
    unsigned w = int_width(i);
    return valid_width(w) && window_op(i, w) != T_LEAF;
}

/* Builds e before the builder's position. A leaf used more than once is frozen: an undef
 * operand may take another value at each use, and the alternative is equal to the window
 * only for one value per leaf (freeze costs nothing in wasm). */
static LLVMValueRef build(LLVMBuilderRef b, const expr *e, LLVMTypeRef ty, LLVMValueRef *leaves,
                          size_t n_leaves)
{
    LLVMValueRef pinned[LEAVES];
    for (size_t l = 0; l < n_leaves; l++) {
        size_t uses = 0;
        for (size_t i = 0; i < e->n; i++)
            uses += e->t[i].k == T_LEAF && e->t[i].v == l;
        pinned[l] =
            uses > 1 && !LLVMIsAConstant(leaves[l]) ? LLVMBuildFreeze(b, leaves[l], "") : leaves[l];
    }
    LLVMValueRef st[TOKENS];
    size_t d = 0;
    for (size_t i = 0; i < e->n; i++) {
        const tok *t = &e->t[i];
        if (t->k == T_LEAF) {
            if (t->v >= n_leaves)
                return NULL;
            st[d++] = pinned[t->v];
            continue;
        }
        if (t->k == T_CONST) {
            st[d++] = LLVMConstInt(ty, t->v, 0);
            continue;
        }
        d--;
        LLVMValueRef x = st[d - 1], y = st[d];
        switch (t->k) {
        case T_ADD: x = LLVMBuildAdd(b, x, y, ""); break;
        case T_SUB: x = LLVMBuildSub(b, x, y, ""); break;
        case T_AND: x = LLVMBuildAnd(b, x, y, ""); break;
        case T_OR: x = LLVMBuildOr(b, x, y, ""); break;
        case T_XOR: x = LLVMBuildXor(b, x, y, ""); break;
        case T_SHL: x = LLVMBuildShl(b, x, y, ""); break;
        case T_LSHR: x = LLVMBuildLShr(b, x, y, ""); break;
        default: x = LLVMBuildAShr(b, x, y, ""); break;
        }
        st[d - 1] = x;
    }
    return st[0];
}

/* Replaces the window by one of its proven alternatives of at most n_ops + extra
 * instructions, drawn from the call's stream; *done says whether there was one. */
static int rewrite(mewe_hook *hook, mewe__superopt *so, LLVMBuilderRef b, window *w, unsigned extra,
                   bool *done)
{
    *done = false;
    const char *const *alts;
    size_t n;
    int rc = mewe__superopt_alternatives(&alts, &n, so, w->width, w->rpn);
    if (rc == MEWE_ENOMEM)
        return rc;
    if (rc != MEWE_OK) {
        char *msg =
            mewe__printf("the prover failed on the window `%s` at width %u", w->rpn, w->width);
        mewe_hook_set_error(hook, msg ? msg : "the prover failed");
        free(msg);
        return MEWE_EUSER;
    }
    size_t fits = 0;
    for (size_t i = 0; i < n; i++)
        fits += mewe__superopt_size(alts[i]) <= w->n_ops + extra;
    if (!fits)
        return MEWE_OK;
    size_t k = mewe_hook_random_below(hook, (uint32_t)fits);
    const char *pick = NULL;
    for (size_t i = 0; !pick && i < n; i++) {
        if (mewe__superopt_size(alts[i]) <= w->n_ops + extra && k-- == 0)
            pick = alts[i];
    }
    expr e;
    LLVMValueRef root = w->ops[0];
    LLVMPositionBuilderBefore(b, root);
    LLVMValueRef v =
        parse(&e, pick, w->width) ? build(b, &e, LLVMTypeOf(root), w->leaves, w->n_leaves) : NULL;
    if (!v) {
        mewe_hook_set_error(hook, "malformed alternative");
        return MEWE_EUSER;
    }
    size_t len;
    const char *name = LLVMGetValueName2(root, &len);
    if (len && !LLVMIsAConstant(v))
        LLVMSetValueName2(v, name, len);
    LLVMReplaceAllUsesWith(root, v);
    /* Pre-order: each operation's only user is erased before it. */
    for (size_t i = 0; i < w->n_ops; i++) {
        if (!LLVMGetFirstUse(w->ops[i]))
            LLVMInstructionEraseFromParent(w->ops[i]);
    }
    *done = true;
    return MEWE_OK;
}

static int superopt(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    mewe__superopt *so = user_data;
    double rate, max, extra;
    int rc = mewe_hook_param_double(&rate, hook, "rate", 0.6, 0.0, 1.0);
    if (rc == MEWE_OK)
        rc = mewe_hook_param_double(&max, hook, "max", 4, 0, 1e6);
    if (rc == MEWE_OK)
        rc = mewe_hook_param_double(&extra, hook, "extra", 2, 0, 2);
    if (rc != MEWE_OK)
        return rc;
    LLVMValueRef *todo = NULL;
    size_t n = 0, cap = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (!candidate_root(i) || (double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 >= rate)
                continue;
            if (!MEWE__ARRAY_PUSH(todo, n, cap, i)) {
                free(todo);
                return MEWE_ENOMEM;
            }
        }
    }
    /* Windows are tried in a random order, at most 4 * max of them: the number of searches
     * per variant is bounded whatever the function's size, and a search that finds nothing
     * (or a shape met before) does not make another window's turn depend on the cache. */
    size_t tries = n < 4 * (size_t)max ? n : 4 * (size_t)max, applied = 0;
    LLVMValueRef *gone = NULL; /* operations of applied windows: erased */
    size_t n_gone = 0, gone_cap = 0;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    for (size_t t = 0; rc == MEWE_OK && t < tries && applied < (size_t)max; t++) {
        size_t j = t + mewe_hook_random_below(hook, (uint32_t)(n - t));
        LLVMValueRef root = todo[j];
        todo[j] = todo[t];
        todo[t] = root;
        bool erased = false;
        for (size_t g = 0; g < n_gone; g++)
            erased |= gone[g] == root;
        /* The largest window first; a smaller one at the same root when it has no
         * alternative (three instructions rarely suffice for a three-instruction window). */
        window w;
        bool done = false;
        for (size_t ops = MAX_OPS; !erased && rc == MEWE_OK && !done && ops >= 1; ops--) {
            if (window_at(&w, root, ops) && (ops == 1 || w.n_ops == ops))
                rc = rewrite(hook, so, b, &w, (unsigned)extra, &done);
        }
        if (done) {
            applied++;
            for (size_t i = 0; rc == MEWE_OK && i < w.n_ops; i++) {
                if (!MEWE__ARRAY_PUSH(gone, n_gone, gone_cap, w.ops[i]))
                    rc = MEWE_ENOMEM;
            }
        }
    }
    LLVMDisposeBuilder(b);
    free(gone);
    free(todo);
    return rc;
}

static void superopt_destroy(void *user_data)
{
    mewe__superopt_free(user_data);
}

int mewe__register_diversifier_superopt(mewe_context *ctx)
{
    static const char *const params[] = {"rate", "max", "extra", NULL};
    static const char *const docs[] = {
        "in [0,1], default 0.6: share of integer operations considered as window roots",
        "in [0,1e6], default 4: windows replaced per variant at most",
        "in [0,2], default 2: instructions an alternative may add to its window",
    };
    mewe__superopt *so = mewe__superopt_new();
    if (!so)
        return MEWE_ENOMEM;
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "superopt",
        .description = "superoptimizer-style replacement: small integer expressions replaced "
                       "by enumerated alternatives of up to 3 instructions, each proven by Z3 "
                       "before use",
        .param_names = params,
        .diversify = superopt,
        .user_data = so,
        .destroy = superopt_destroy,
        .cost_class = MEWE_COST_CHEAP,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
