/* The rewrite rules of the `subst` diversifier, as data, so that the test suite proves with
 * Z3 exactly the rules that the library applies. Each rule replaces `a OP b` by an
 * expression in reverse Polish notation over the operands a and b:
 *   a b     the operands
 *   1       the constant one (of the operands' type)
 *   ~       bitwise not (unary)
 *   + - ^ | &   wrapping add, sub, xor, or, and
 *   <<      shift left (the right operand is the constant 1 in every rule)
 * Rules were chosen so that LLVM's instruction selection (DAGCombine) does not fold them back
 * into the original operation; the test suite checks that the variants stay different in the
 * emitted wasm. */
#ifndef MEWE_SUBST_RULES_H
#define MEWE_SUBST_RULES_H

typedef struct mewe__subst_rule {
    const char *op;  /* "add", "sub", "xor", "or", "and" */
    const char *rpn; /* the replacement */
} mewe__subst_rule;

/* Integer widths at which the rules are applied, and proven. */
static const unsigned mewe__subst_widths[] = {8, 16, 32, 64};

static const mewe__subst_rule mewe__subst_rules[] = {
    {"add", "a b ^ a b & 1 << +"},   /* a + b = (a ^ b) + ((a & b) << 1) */
    {"add", "a b | a b & +"},        /* a + b = (a | b) + (a & b) */
    {"sub", "a b ^ a ~ b & 1 << -"}, /* a - b = (a ^ b) - ((~a & b) << 1) */
    {"sub", "a b ~ & a ~ b & -"},    /* a - b = (a & ~b) - (~a & b) */
    {"xor", "a b | a b & -"},        /* a ^ b = (a | b) - (a & b) */
    {"xor", "a b | a b & ~ &"},      /* a ^ b = (a | b) & ~(a & b) */
    {"or", "a b ^ a b & +"},         /* a | b = (a ^ b) + (a & b) */
    {"or", "a b ~ & b +"},           /* a | b = (a & ~b) + b */
    {"and", "a b | a b ^ -"},        /* a & b = (a | b) - (a ^ b) */
    {"and", "a ~ b | a ~ -"},        /* a & b = (~a | b) - ~a */
};

#define MEWE__SUBST_RULE_COUNT  (sizeof mewe__subst_rules / sizeof mewe__subst_rules[0])
#define MEWE__SUBST_WIDTH_COUNT (sizeof mewe__subst_widths / sizeof mewe__subst_widths[0])

#endif /* MEWE_SUBST_RULES_H */
