/* Proves with Z3 that every fixed rule of the built-in diversifiers holds at every width it is
 * applied at, over bit-vectors:
 *   subst   `a OP b != rpn(a, b)` is UNSAT (the replacement is an identity);
 *   opaque  `rpn(a) != 0` is UNSAT (the guarded block never runs);
 *   blind   `t(a, b) OP d(c, t(a, b)) != c` is UNSAT for every key a, random b and constant c.
 * The rules are read from the same header the library compiles, so a rule cannot be applied
 * without being proven. Negative controls show the prover can fail, for each kind. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <z3.h>

#include "../lib/diversifiers/rules.h"

/* Per query; well under the Check timeout so that a slow proof is reported as UNKNOWN. */
#define Z3_TIMEOUT_MS   10000u
#define CHECK_TIMEOUT_S 60

/* mewe__build_rpn() in ir/irutil.c has a fixed stack of this many values. */
#define RPN_STACK_MAX 16

/* ---- the RPN language, interpreted as subst.c does ------------------------------------ */

typedef enum {
    TOK_A,
    TOK_B,
    TOK_ONE, /* any decimal number; named for the common case */
    TOK_NOT,
    TOK_MUL,
    TOK_ADD,
    TOK_SUB,
    TOK_XOR,
    TOK_OR,
    TOK_AND,
    TOK_SHL,
} tok_kind;

static const struct {
    const char *text;
    tok_kind kind;
    int arity; /* values popped; leaves push one */
} tokens[] = {
    {"a", TOK_A, 0},   {"b", TOK_B, 0},    {"1", TOK_ONE, 0}, {"~", TOK_NOT, 1},
    {"+", TOK_ADD, 2}, {"-", TOK_SUB, 2},  {"^", TOK_XOR, 2}, {"|", TOK_OR, 2},
    {"&", TOK_AND, 2}, {"<<", TOK_SHL, 2}, {"*", TOK_MUL, 2},
};

/* The opcodes subst.c rewrites (its opcode_name()), as the binary token they compute. */
static const struct {
    const char *name;
    tok_kind kind;
} opcodes[] = {
    {"add", TOK_ADD}, {"sub", TOK_SUB}, {"xor", TOK_XOR}, {"or", TOK_OR}, {"and", TOK_AND},
};

#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

/* A value on the RPN stack: a Z3 term when proving, a concrete number always (the concrete
 * side double-checks Z3's counterexamples, and lets the syntax check run without Z3). */
typedef struct {
    Z3_ast ast;   /* NULL when the machine has no Z3 context */
    uint64_t val; /* masked to the width */
    bool is_one;  /* the literal `1` */
} slot;

typedef struct {
    Z3_context ctx; /* NULL: concrete evaluation only */
    unsigned width;
    slot a, b;
} machine;

static uint64_t mask(unsigned width)
{
    return width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
}

static int find_token(const char *text, size_t len)
{
    for (size_t i = 0; i < COUNT(tokens); i++) {
        if (strlen(tokens[i].text) == len && memcmp(tokens[i].text, text, len) == 0)
            return (int)i;
    }
    return -1;
}

static int find_opcode(const char *name)
{
    for (size_t i = 0; i < COUNT(opcodes); i++) {
        if (strcmp(opcodes[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static slot leaf(const machine *m, tok_kind kind)
{
    if (kind == TOK_A)
        return m->a;
    if (kind == TOK_B)
        return m->b;
    Z3_ast one = m->ctx ? Z3_mk_int(m->ctx, 1, Z3_mk_bv_sort(m->ctx, m->width)) : NULL;
    return (slot){one, 1, true};
}

static slot apply_not(const machine *m, slot x)
{
    Z3_ast ast = m->ctx ? Z3_mk_bvnot(m->ctx, x.ast) : NULL;
    return (slot){ast, ~x.val & mask(m->width), false};
}

static uint64_t concrete_binary(tok_kind kind, uint64_t x, uint64_t y)
{
    switch (kind) {
    case TOK_ADD: return x + y;
    case TOK_SUB: return x - y;
    case TOK_XOR: return x ^ y;
    case TOK_OR: return x | y;
    case TOK_AND: return x & y;
    case TOK_SHL: return y >= 64 ? 0 : x << y; /* bvshl: shifting everything out gives 0 */
    case TOK_MUL: return x * y;
    default: ck_abort_msg("not a binary token: %d", (int)kind);
    }
    return 0;
}

static Z3_ast symbolic_binary(Z3_context ctx, tok_kind kind, Z3_ast x, Z3_ast y)
{
    switch (kind) {
    case TOK_ADD: return Z3_mk_bvadd(ctx, x, y);
    case TOK_SUB: return Z3_mk_bvsub(ctx, x, y);
    case TOK_XOR: return Z3_mk_bvxor(ctx, x, y);
    case TOK_OR: return Z3_mk_bvor(ctx, x, y);
    case TOK_AND: return Z3_mk_bvand(ctx, x, y);
    case TOK_SHL: return Z3_mk_bvshl(ctx, x, y);
    case TOK_MUL: return Z3_mk_bvmul(ctx, x, y);
    default: ck_abort_msg("not a binary token: %d", (int)kind);
    }
    return NULL;
}

static slot apply_binary(const machine *m, tok_kind kind, slot x, slot y)
{
    Z3_ast ast = m->ctx ? symbolic_binary(m->ctx, kind, x.ast, y.ast) : NULL;
    return (slot){ast, concrete_binary(kind, x.val, y.val) & mask(m->width), false};
}

__attribute__((format(printf, 3, 4))) static bool say_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return false;
}

/* A decimal number, as irutil.c's rpn_next() reads it: 1 to 9 digits. */
static bool parse_number(const char *p, size_t len, uint64_t *out)
{
    if (len < 1 || len > 9)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

static slot number(const machine *m, uint64_t v)
{
    v &= mask(m->width);
    Z3_ast ast = m->ctx ? Z3_mk_unsigned_int64(m->ctx, v, Z3_mk_bv_sort(m->ctx, m->width)) : NULL;
    return (slot){ast, v, v == 1};
}

/* Applies one token to the stack; on error says why. The limits are build_rpn()'s. */
static bool rpn_step(const machine *m, tok_kind kind, int arity, slot *stack, int *sp, char *why,
                     size_t n)
{
    if (arity == 0 && *sp == RPN_STACK_MAX)
        return say_why(why, n, "stack overflow (irutil.c holds %d values)", RPN_STACK_MAX);
    if (*sp < arity)
        return say_why(why, n, "stack underflow");
    if (arity == 0) {
        stack[(*sp)++] = leaf(m, kind);
    } else if (arity == 1) {
        stack[*sp - 1] = apply_not(m, stack[*sp - 1]);
    } else {
        slot y = stack[--*sp];
        /* LLVM's shl by >= the width is poison where Z3's bvshl is 0: the proof only
         * speaks for LLVM when the amount is the constant 1 (and every width is >= 2). */
        if (kind == TOK_SHL && !y.is_one)
            return say_why(why, n, "shift amount is not the constant 1");
        stack[*sp - 1] = apply_binary(m, kind, stack[*sp - 1], y);
    }
    return true;
}

/* Runs an RPN expression; tokens are separated by (runs of) spaces, as in build_rpn(). */
static bool rpn_run(const machine *m, const char *rpn, slot *out, char *why, size_t n)
{
    slot stack[RPN_STACK_MAX];
    int sp = 0;
    for (const char *p = rpn;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ");
        uint64_t num;
        if (parse_number(p, len, &num)) {
            if (sp == RPN_STACK_MAX)
                return say_why(why, n, "stack overflow (irutil.c holds %d values)", RPN_STACK_MAX);
            stack[sp++] = number(m, num);
            p += len;
            continue;
        }
        int t = find_token(p, len);
        if (t < 0)
            return say_why(why, n, "unknown token '%.*s'", (int)len, p);
        if (!rpn_step(m, tokens[t].kind, tokens[t].arity, stack, &sp, why, n))
            return say_why(why + strlen(why), n - strlen(why), " at '%.*s'", (int)len, p);
        p += len;
    }
    if (sp != 1)
        return say_why(why, n, "%d values left on the stack, not 1", sp);
    *out = stack[0];
    return true;
}

/* `a OP b` itself. */
static bool original(const machine *m, const char *op, slot *out, char *why, size_t n)
{
    int o = find_opcode(op);
    if (o < 0)
        return say_why(why, n, "unknown opcode \"%s\"", op);
    *out = apply_binary(m, opcodes[o].kind, m->a, m->b);
    return true;
}

static machine concrete_machine(unsigned width, uint64_t a, uint64_t b)
{
    return (machine){NULL, width, {NULL, a & mask(width), false}, {NULL, b & mask(width), false}};
}

static machine symbolic_machine(Z3_context ctx, unsigned width)
{
    Z3_sort sort = Z3_mk_bv_sort(ctx, width);
    Z3_ast a = Z3_mk_const(ctx, Z3_mk_string_symbol(ctx, "a"), sort);
    Z3_ast b = Z3_mk_const(ctx, Z3_mk_string_symbol(ctx, "b"), sort);
    return (machine){ctx, width, {a, 0, false}, {b, 0, false}};
}

/* ---- the prover ---------------------------------------------------------------------- */

typedef enum { PROVEN, REFUTED, UNDECIDED, MALFORMED } outcome;

typedef struct {
    outcome result;
    uint64_t a, b;     /* REFUTED: the counterexample */
    uint64_t lhs, rhs; /* REFUTED: a OP b and the rule there, computed without Z3 */
    char why[256];     /* UNDECIDED, MALFORMED: the reason */
} verdict;

/* A Z3 error means this test built a bad term: end the check there, as failed. */
static void on_z3_error(Z3_context ctx, Z3_error_code e)
{
    ck_abort_msg("Z3 error: %s", Z3_get_error_msg(ctx, e));
}

static Z3_solver make_solver(Z3_context ctx, const char *budget_key, unsigned budget)
{
    Z3_solver s = Z3_mk_solver(ctx);
    Z3_solver_inc_ref(ctx, s);
    Z3_params p = Z3_mk_params(ctx);
    Z3_params_inc_ref(ctx, p);
    Z3_params_set_uint(ctx, p, Z3_mk_string_symbol(ctx, budget_key), budget);
    Z3_solver_set_params(ctx, s, p);
    Z3_params_dec_ref(ctx, p);
    return s;
}

static uint64_t model_value(Z3_context ctx, Z3_model model, Z3_ast var)
{
    Z3_ast val = NULL;
    uint64_t u = 0;
    /* Completion: a variable the model left free still gets a value. */
    ck_assert(Z3_model_eval(ctx, model, var, true, &val));
    ck_assert(Z3_get_numeral_uint64(ctx, val, &u));
    return u;
}

/* Fills the counterexample from the model, then recomputes both sides in plain C, so a
 * reported counterexample is checked independently of Z3's reading of the terms. */
static void read_counterexample(const machine *m, Z3_solver s, const mewe__subst_rule *r,
                                verdict *v)
{
    Z3_model model = Z3_solver_get_model(m->ctx, s);
    Z3_model_inc_ref(m->ctx, model);
    v->a = model_value(m->ctx, model, m->a.ast);
    v->b = model_value(m->ctx, model, m->b.ast);
    Z3_model_dec_ref(m->ctx, model);
    machine c = concrete_machine(m->width, v->a, v->b);
    slot lhs, rhs;
    ck_assert(original(&c, r->op, &lhs, v->why, sizeof v->why));
    ck_assert(rpn_run(&c, r->rpn, &rhs, v->why, sizeof v->why));
    v->lhs = lhs.val;
    v->rhs = rhs.val;
}

static void decide(const machine *m, Z3_solver s, const mewe__subst_rule *r, verdict *v)
{
    switch (Z3_solver_check(m->ctx, s)) {
    case Z3_L_FALSE: v->result = PROVEN; break;
    case Z3_L_TRUE:
        v->result = REFUTED;
        read_counterexample(m, s, r, v);
        break;
    default:
        v->result = UNDECIDED;
        snprintf(v->why, sizeof v->why, "%s", Z3_solver_get_reason_unknown(m->ctx, s));
        break;
    }
}

/* Asks Z3 whether some a, b of the width make `a OP b` and the rule differ, within a budget
 * (a solver parameter such as "timeout" in ms). */
static void prove_within(const mewe__subst_rule *r, unsigned width, const char *budget_key,
                         unsigned budget, verdict *v)
{
    memset(v, 0, sizeof *v);
    Z3_config cfg = Z3_mk_config();
    Z3_set_param_value(cfg, "model", "true");
    Z3_context ctx = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_set_error_handler(ctx, on_z3_error);
    Z3_solver s = make_solver(ctx, budget_key, budget);
    machine m = symbolic_machine(ctx, width);
    slot lhs, rhs;
    if (original(&m, r->op, &lhs, v->why, sizeof v->why) &&
        rpn_run(&m, r->rpn, &rhs, v->why, sizeof v->why)) {
        Z3_solver_assert(ctx, s, Z3_mk_not(ctx, Z3_mk_eq(ctx, lhs.ast, rhs.ast)));
        decide(&m, s, r, v);
    } else {
        v->result = MALFORMED;
    }
    Z3_solver_dec_ref(ctx, s);
    Z3_del_context(ctx);
}

static void prove(const mewe__subst_rule *r, unsigned width, verdict *v)
{
    prove_within(r, width, "timeout", Z3_TIMEOUT_MS, v);
}

/* The failure message: the rule, the width and, when refuted, the counterexample. */
static void describe(char *buf, size_t n, const mewe__subst_rule *r, unsigned width,
                     const verdict *v)
{
    int k = snprintf(buf, n, "rule {\"%s\", \"%s\"} at width %u: ", r->op, r->rpn, width);
    if (k < 0 || (size_t)k >= n)
        return;
    buf += k;
    n -= (size_t)k;
    switch (v->result) {
    case PROVEN: snprintf(buf, n, "proven"); break;
    case MALFORMED: snprintf(buf, n, "malformed: %s", v->why); break;
    case UNDECIDED: snprintf(buf, n, "Z3 says unknown (%s)", v->why); break;
    case REFUTED:
        snprintf(buf, n,
                 "WRONG, counterexample a = 0x%" PRIx64 ", b = 0x%" PRIx64 ": a %s b = 0x%" PRIx64
                 " but the rule gives 0x%" PRIx64 "%s",
                 v->a, v->b, r->op, v->lhs, v->rhs,
                 v->lhs == v->rhs ? " (Z3 and this test disagree on the semantics!)" : "");
        break;
    }
}

/* ---- tests ---------------------------------------------------------------------------- */

/* One check per (rule, width), so a failure names exactly what is wrong. */
START_TEST(rule_is_identity)
{
    const mewe__subst_rule *r = &mewe__subst_rules[(size_t)_i / MEWE__SUBST_WIDTH_COUNT];
    unsigned width = mewe__subst_widths[(size_t)_i % MEWE__SUBST_WIDTH_COUNT];
    verdict v;
    char msg[512];
    prove(r, width, &v);
    describe(msg, sizeof msg, r, width, &v);
    ck_assert_msg(v.result == PROVEN, "%s", msg);
}
END_TEST

START_TEST(table_is_well_formed)
{
    ck_assert_uint_gt(MEWE__SUBST_WIDTH_COUNT, 0);
    for (size_t i = 0; i < MEWE__SUBST_WIDTH_COUNT; i++) {
        /* >= 2 so that shifting by 1 is defined; <= 64 for the concrete evaluation. */
        ck_assert_uint_ge(mewe__subst_widths[i], 2);
        ck_assert_uint_le(mewe__subst_widths[i], 64);
        ck_assert(i == 0 || mewe__subst_widths[i] > mewe__subst_widths[i - 1]);
    }
    for (size_t i = 0; i < MEWE__SUBST_RULE_COUNT; i++) {
        const mewe__subst_rule *r = &mewe__subst_rules[i];
        machine m = concrete_machine(mewe__subst_widths[0], 0, 0);
        slot out;
        char why[128];
        ck_assert_msg(find_opcode(r->op) >= 0, "rule %zu: unknown opcode \"%s\"", i, r->op);
        ck_assert_msg(rpn_run(&m, r->rpn, &out, why, sizeof why), "rule %zu {\"%s\", \"%s\"}: %s",
                      i, r->op, r->rpn, why);
    }
}
END_TEST

/* The syntax check above must be able to fail too. */
START_TEST(malformed_rpn_is_rejected)
{
    static const char *const bad[] = {
        "",           "b a",
        "a b",        "a +",
        "~",          "a b + +",
        "a b %",      "a b ++",
        "ab +",       "a\tb +",
        "a b 2 << +", "a b <<",
        "a b >> +",   "a 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 + + + + + + + + + + + + + + + +",
    };
    static const char *const good[] = {"a",      "a b +", "  a   b  + ", "a ~ ~",
                                       "a 1 <<", "1",     "a 7 &",       "a b *"};
    machine m = concrete_machine(8, 0, 0);
    slot out;
    char why[128];
    for (size_t i = 0; i < COUNT(bad); i++)
        ck_assert_msg(!rpn_run(&m, bad[i], &out, why, sizeof why), "accepted \"%s\"", bad[i]);
    for (size_t i = 0; i < COUNT(good); i++)
        ck_assert_msg(rpn_run(&m, good[i], &out, why, sizeof why), "\"%s\": %s", good[i], why);
}
END_TEST

static bool same_rule(const mewe__subst_rule *x, const mewe__subst_rule *y)
{
    return strcmp(x->op, y->op) == 0 && strcmp(x->rpn, y->rpn) == 0;
}

/* subst.c picks at random among an opcode's rules: two distinct ones make it a choice. */
START_TEST(every_opcode_has_two_rules)
{
    for (size_t i = 0; i < MEWE__SUBST_RULE_COUNT; i++) {
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(!same_rule(&mewe__subst_rules[i], &mewe__subst_rules[j]),
                          "rule %zu duplicates rule %zu", i, j);
    }
    for (size_t o = 0; o < COUNT(opcodes); o++) {
        unsigned n = 0;
        for (size_t i = 0; i < MEWE__SUBST_RULE_COUNT; i++)
            n += strcmp(mewe__subst_rules[i].op, opcodes[o].name) == 0;
        ck_assert_msg(n >= 2, "opcode %s has %u rules, want >= 2", opcodes[o].name, n);
    }
}
END_TEST

/* Wrong rules, each of which a broken checker could let through: if the checker compared a
 * term with itself, ignored operand order, read `~` as negation or `1` as another constant. */
static const mewe__subst_rule wrong_rules[] = {
    {"add", "a b ^"},                   /* misses the carries */
    {"sub", "b a -"},                   /* operands swapped */
    {"sub", "a b ~ +"},                 /* a - b - 1: right only if ~ were negation */
    {"sub", "a b ~ + 1 ~ -"},           /* a - b + 1: right only if `1` were 0 */
    {"add", "a b ^ a b & 1 << 1 << +"}, /* carries shifted by 2 */
    {"xor", "a b |"},                   /* differs when a & b != 0 */
    {"and", "a b | a b ^ +"},           /* + for - */
};

START_TEST(wrong_rule_is_refuted)
{
    const mewe__subst_rule *r = &wrong_rules[(size_t)_i / MEWE__SUBST_WIDTH_COUNT];
    unsigned width = mewe__subst_widths[(size_t)_i % MEWE__SUBST_WIDTH_COUNT];
    verdict v;
    char msg[512];
    prove(r, width, &v);
    describe(msg, sizeof msg, r, width, &v);
    ck_assert_msg(v.result == REFUTED, "not refuted: %s", msg);
    /* The counterexample is genuine, and the message a real failure would show names it. */
    ck_assert_msg(v.lhs != v.rhs, "%s", msg);
    ck_assert_uint_eq((v.a | v.b) & ~mask(width), 0);
    char expect[96];
    snprintf(expect, sizeof expect, "a = 0x%" PRIx64 ", b = 0x%" PRIx64, v.a, v.b);
    ck_assert_msg(strstr(msg, expect) && strstr(msg, r->rpn), "%s", msg);
    snprintf(expect, sizeof expect, "width %u", width);
    ck_assert_msg(strstr(msg, expect), "%s", msg);
}
END_TEST

/* UNKNOWN must count as a failure, not a proof: starve Z3 of resources on a true rule. */
START_TEST(unknown_is_not_proven)
{
    const mewe__subst_rule *r = &mewe__subst_rules[0];
    verdict v;
    prove_within(r, 64, "rlimit", 1, &v);
    ck_assert_msg(v.result == UNDECIDED, "result %d", (int)v.result);
    char msg[512];
    describe(msg, sizeof msg, r, 64, &v);
    ck_assert_msg(strstr(msg, "unknown"), "%s", msg);
}
END_TEST

/* ---- opaque and blind ------------------------------------------------------------------ */

/* Proves (PROVEN) or refutes `rpn(a, a) != 0` at a width: an opaque rule is 0 everywhere. */
static outcome prove_zero(const char *rpn, unsigned width, uint64_t *counter, char *why, size_t n)
{
    Z3_config cfg = Z3_mk_config();
    Z3_set_param_value(cfg, "model", "true");
    Z3_context ctx = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_set_error_handler(ctx, on_z3_error);
    Z3_solver s = make_solver(ctx, "timeout", Z3_TIMEOUT_MS);
    machine m = symbolic_machine(ctx, width);
    m.b = m.a; /* opaque.c builds the rule with x as both operands */
    slot e;
    outcome o = MALFORMED;
    if (rpn_run(&m, rpn, &e, why, n)) {
        Z3_ast zero = Z3_mk_int(ctx, 0, Z3_mk_bv_sort(ctx, width));
        Z3_solver_assert(ctx, s, Z3_mk_not(ctx, Z3_mk_eq(ctx, e.ast, zero)));
        switch (Z3_solver_check(ctx, s)) {
        case Z3_L_FALSE: o = PROVEN; break;
        case Z3_L_TRUE: {
            o = REFUTED;
            Z3_model model = Z3_solver_get_model(ctx, s);
            Z3_model_inc_ref(ctx, model);
            *counter = model_value(ctx, model, m.a.ast);
            Z3_model_dec_ref(ctx, model);
            /* The counterexample, checked without Z3. */
            machine c = concrete_machine(width, *counter, *counter);
            ck_assert(rpn_run(&c, rpn, &e, why, n));
            ck_assert_msg(e.val != 0, "Z3 and this test disagree on %s", rpn);
            break;
        }
        default:
            o = UNDECIDED;
            snprintf(why, n, "%s", Z3_solver_get_reason_unknown(ctx, s));
            break;
        }
    }
    Z3_solver_dec_ref(ctx, s);
    Z3_del_context(ctx);
    return o;
}

START_TEST(opaque_rule_is_never_true)
{
    const char *rpn = mewe__opaque_rules[(size_t)_i / MEWE__SUBST_WIDTH_COUNT];
    unsigned width = mewe__subst_widths[(size_t)_i % MEWE__SUBST_WIDTH_COUNT];
    uint64_t a = 0;
    char why[256] = "";
    outcome o = prove_zero(rpn, width, &a, why, sizeof why);
    ck_assert_msg(o == PROVEN, "opaque rule \"%s\" at width %u: %s (a = 0x%" PRIx64 ")", rpn, width,
                  o == REFUTED ? "WRONG, true for some a" : why, a);
}
END_TEST

/* Predicates that are sometimes true: a guard on them would run its decoy. */
static const char *const wrong_opaque[] = {
    "a a * 3 &",              /* squares are 0 or 1 modulo 4, not always 0 */
    "a a 1 + * 2 &",          /* a(a+1) is even, not a multiple of 4 */
    "a 1 | a 1 | * 1 - 15 &", /* odd squares are 1 modulo 8, not modulo 16 */
};

START_TEST(wrong_opaque_rule_is_refuted)
{
    const char *rpn = wrong_opaque[(size_t)_i / MEWE__SUBST_WIDTH_COUNT];
    unsigned width = mewe__subst_widths[(size_t)_i % MEWE__SUBST_WIDTH_COUNT];
    uint64_t a = 0;
    char why[256] = "";
    ck_assert_msg(prove_zero(rpn, width, &a, why, sizeof why) == REFUTED, "\"%s\" at %u: %s", rpn,
                  width, why);
}
END_TEST

/* What blind.c computes: `t OP d` with d made at build time from the key's value (here the
 * same a that the load gives), b and c. `inverse` is the op d is computed for; a correct
 * rule has inverse == op. */
static outcome prove_blind(const char *t_rpn, char op, char inverse, unsigned width, char *why,
                           size_t n)
{
    Z3_config cfg = Z3_mk_config();
    Z3_context ctx = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_set_error_handler(ctx, on_z3_error);
    Z3_solver s = make_solver(ctx, "timeout", Z3_TIMEOUT_MS);
    machine m = symbolic_machine(ctx, width);
    Z3_ast c = Z3_mk_const(ctx, Z3_mk_string_symbol(ctx, "c"), Z3_mk_bv_sort(ctx, width));
    slot t;
    outcome o = MALFORMED;
    if (rpn_run(&m, t_rpn, &t, why, n)) {
        Z3_ast d = inverse == '^'   ? Z3_mk_bvxor(ctx, t.ast, c)
                   : inverse == '+' ? Z3_mk_bvsub(ctx, c, t.ast)
                                    : Z3_mk_bvadd(ctx, c, t.ast);
        Z3_ast v = op == '^'   ? Z3_mk_bvxor(ctx, t.ast, d)
                   : op == '+' ? Z3_mk_bvadd(ctx, t.ast, d)
                               : Z3_mk_bvsub(ctx, d, t.ast);
        Z3_solver_assert(ctx, s, Z3_mk_not(ctx, Z3_mk_eq(ctx, v, c)));
        Z3_lbool r = Z3_solver_check(ctx, s);
        o = r == Z3_L_FALSE ? PROVEN : r == Z3_L_TRUE ? REFUTED : UNDECIDED;
        if (o == UNDECIDED)
            snprintf(why, n, "%s", Z3_solver_get_reason_unknown(ctx, s));
    }
    Z3_solver_dec_ref(ctx, s);
    Z3_del_context(ctx);
    return o;
}

START_TEST(blind_rule_gives_the_constant)
{
    const mewe__blind_rule *r = &mewe__blind_rules[(size_t)_i / MEWE__SUBST_WIDTH_COUNT];
    unsigned width = mewe__subst_widths[(size_t)_i % MEWE__SUBST_WIDTH_COUNT];
    char why[256] = "";
    ck_assert_msg(r->op == '^' || r->op == '+' || r->op == '-', "blind rule op '%c'", r->op);
    outcome o = prove_blind(r->t, r->op, r->op, width, why, sizeof why);
    ck_assert_msg(o == PROVEN, "blind rule {\"%s\", '%c'} at width %u: %s", r->t, r->op, width,
                  o == REFUTED ? "WRONG" : why);
}
END_TEST

/* d computed for another operation than the one applied: wrong for some key and constant. */
START_TEST(wrong_blind_rule_is_refuted)
{
    unsigned width = mewe__subst_widths[(size_t)_i % MEWE__SUBST_WIDTH_COUNT];
    static const struct {
        const char *t;
        char op, inverse;
    } wrong[] = {{"a b +", '^', '+'}, {"a b ^", '-', '+'}, {"a b |", '+', '^'}};
    size_t k = (size_t)_i / MEWE__SUBST_WIDTH_COUNT;
    char why[256] = "";
    ck_assert_msg(prove_blind(wrong[k].t, wrong[k].op, wrong[k].inverse, width, why, sizeof why) ==
                      REFUTED,
                  "wrong blind rule %zu at width %u not refuted: %s", k, width, why);
}
END_TEST

static Suite *rules_suite(void)
{
    Suite *s = suite_create("subst-rules");
    TCase *table = tcase_create("table");
    tcase_add_test(table, table_is_well_formed);
    tcase_add_test(table, malformed_rpn_is_rejected);
    tcase_add_test(table, every_opcode_has_two_rules);
    suite_add_tcase(s, table);

    TCase *proofs = tcase_create("proofs");
    tcase_set_timeout(proofs, CHECK_TIMEOUT_S);
    tcase_add_loop_test(proofs, rule_is_identity, 0,
                        (int)(MEWE__SUBST_RULE_COUNT * MEWE__SUBST_WIDTH_COUNT));
    tcase_add_loop_test(proofs, opaque_rule_is_never_true, 0,
                        (int)(MEWE__OPAQUE_RULE_COUNT * MEWE__SUBST_WIDTH_COUNT));
    tcase_add_loop_test(proofs, blind_rule_gives_the_constant, 0,
                        (int)(MEWE__BLIND_RULE_COUNT * MEWE__SUBST_WIDTH_COUNT));
    suite_add_tcase(s, proofs);

    TCase *controls = tcase_create("controls");
    tcase_set_timeout(controls, CHECK_TIMEOUT_S);
    tcase_add_loop_test(controls, wrong_rule_is_refuted, 0,
                        (int)(COUNT(wrong_rules) * MEWE__SUBST_WIDTH_COUNT));
    tcase_add_test(controls, unknown_is_not_proven);
    tcase_add_loop_test(controls, wrong_opaque_rule_is_refuted, 0,
                        (int)(COUNT(wrong_opaque) * MEWE__SUBST_WIDTH_COUNT));
    tcase_add_loop_test(controls, wrong_blind_rule_is_refuted, 0,
                        (int)(3 * MEWE__SUBST_WIDTH_COUNT));
    suite_add_tcase(s, controls);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rules_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
