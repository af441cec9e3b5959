/* The fixed rules of the built-in diversifiers `subst`, `blind` and `opaque`, as data, so that
 * the test suite (tests/test-rules.c) proves with Z3 exactly the rules that the library
 * applies, at every width it applies them at. Expressions are in reverse Polish notation
 * over two values a and b (mewe__build_rpn in ir/irutil.h):
 *   a b     the values
 *   1 7     decimal constants (of the values' type)
 *   ~       bitwise not (unary)
 *   + - * ^ | &   wrapping add, sub, mul, xor, or, and
 *   <<      shift left (the right operand is the constant 1 in every rule)
 * Rules were chosen so that LLVM's instruction selection (DAGCombine) does not fold them back:
 * each was compiled at -O2 for wasm32 and compared with the original operation (a rule that
 * was folded, such as (a & ~b) + b for a | b, is not in the table). */
#ifndef MEWE_RULES_H
#define MEWE_RULES_H

/* ---- subst: `a OP b` is replaced by the expression ------------------------------------- */

typedef struct mewe__subst_rule {
    const char *op;  /* "add", "sub", "xor", "or", "and" */
    const char *rpn; /* the replacement */
} mewe__subst_rule;

/* Integer widths at which the rules of every table here are applied, and proven. */
static const unsigned mewe__subst_widths[] = {8, 16, 32, 64};

/* The first two of each opcode are plain identities; the others mixed boolean-arithmetic
 * (MBA) ones, which mix the two algebras so that neither alone simplifies them. */
static const mewe__subst_rule mewe__subst_rules[] = {
    {"add", "a b ^ a b & 1 << +"},       /* a + b = (a ^ b) + ((a & b) << 1) */
    {"add", "a b | a b & +"},            /* a + b = (a | b) + (a & b) */
    {"add", "a ~ b - ~"},                /* a + b = ~(~a - b) */
    {"add", "a b | 1 << a b ^ -"},       /* a + b = 2(a | b) - (a ^ b) */
    {"add", "a b | a ~ b | + a ~ -"},    /* a + b = (a | b) + (~a | b) - ~a */
    {"sub", "a b ^ a ~ b & 1 << -"},     /* a - b = (a ^ b) - ((~a & b) << 1) */
    {"sub", "a b ~ & a ~ b & -"},        /* a - b = (a & ~b) - (~a & b) */
    {"sub", "a ~ b + ~"},                /* a - b = ~(~a + b) */
    {"sub", "a b ~ & 1 << a b ^ -"},     /* a - b = 2(a & ~b) - (a ^ b) */
    {"xor", "a b | a b & -"},            /* a ^ b = (a | b) - (a & b) */
    {"xor", "a b | a b & ~ &"},          /* a ^ b = (a | b) & ~(a & b) */
    {"xor", "a b + a b & 1 << -"},       /* a ^ b = (a + b) - 2(a & b) */
    {"xor", "a ~ b & a b ~ & |"},        /* a ^ b = (~a & b) | (a & ~b) */
    {"or", "a b ^ a b & +"},             /* a | b = (a ^ b) + (a & b) */
    {"or", "a b + a b & -"},             /* a | b = (a + b) - (a & b) */
    {"or", "a b & a b ^ +"},             /* a | b = (a & b) + (a ^ b) */
    {"or", "a b ~ & a ~ b & | a b & |"}, /* a | b = (a & ~b) | (~a & b) | (a & b) */
    {"and", "a b | a b ^ -"},            /* a & b = (a | b) - (a ^ b) */
    {"and", "a ~ b | a ~ -"},            /* a & b = (~a | b) - ~a */
    {"and", "a b + a b | -"},            /* a & b = (a + b) - (a | b) */
    {"and", "a b | a b ^ ^"},            /* a & b = (a | b) ^ (a ^ b) */
    {"and", "a ~ b | a ~ ^"},            /* a & b = (~a | b) ^ ~a */
};

#define MEWE__SUBST_RULE_COUNT  (sizeof mewe__subst_rules / sizeof mewe__subst_rules[0])
#define MEWE__SUBST_WIDTH_COUNT (sizeof mewe__subst_widths / sizeof mewe__subst_widths[0])

/* ---- opaque: expressions of a (b unused) that are 0 for every a --------------------------
 * `expr != 0` is a predicate that is never true, yet no known-bits reasoning of the backend
 * decides it: a * (a + 1) is even (one of two consecutive numbers is), and the square of an
 * odd number is 1 modulo 8. */
static const char *const mewe__opaque_rules[] = {
    "a a 1 + * 1 &",         /* (a * (a + 1)) & 1 */
    "a a * a + 1 &",         /* (a * a + a) & 1 */
    "a 1 | a 1 | * 1 - 7 &", /* ((a | 1)^2 - 1) & 7 */
};
#define MEWE__OPAQUE_RULE_COUNT (sizeof mewe__opaque_rules / sizeof mewe__opaque_rules[0])

/* ---- blind: a constant c becomes `t OP d` ------------------------------------------------
 * t is an expression of a key word a loaded from memory at run time and a random constant b;
 * d is computed at build time from the key's known value, b and c, so that `t OP d` is c:
 *   op '^': d = t ^ c      op '+': d = c - t      op '-': v = d - t, d = c + t
 * The proof obligation is that identity for every a, b and c. */
typedef struct mewe__blind_rule {
    const char *t; /* RPN over a (the key) and b (the random constant) */
    char op;       /* '^', '+' or '-' */
} mewe__blind_rule;

static const mewe__blind_rule mewe__blind_rules[] = {
    {"a b +", '^'}, {"a b ^", '+'}, {"a b |", '-'}, {"a b * b +", '^'}, {"a b & a +", '+'},
};
#define MEWE__BLIND_RULE_COUNT (sizeof mewe__blind_rules / sizeof mewe__blind_rules[0])

#endif /* MEWE_RULES_H */
