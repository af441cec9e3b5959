/* Built-in diversifier `subst`: replaces integer add, sub, xor, or and and by equivalent
 * expressions from rules.h (proven by Z3 in tests/test-rules.c). Registered through the
 * public hook API like any user diversifier. */
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "ir/cost.h"
#include "ir/irutil.h"
#include "rules.h"
#include "util/array.h"

static const char *opcode_name(LLVMOpcode op)
{
    switch (op) {
    case LLVMAdd: return "add";
    case LLVMSub: return "sub";
    case LLVMXor: return "xor";
    case LLVMOr: return "or";
    case LLVMAnd: return "and";
    default: return NULL;
    }
}

static bool proven_width(LLVMTypeRef t)
{
    if (LLVMGetTypeKind(t) != LLVMIntegerTypeKind)
        return false;
    unsigned w = LLVMGetIntTypeWidth(t);
    for (size_t i = 0; i < MEWE__SUBST_WIDTH_COUNT; i++) {
        if (mewe__subst_widths[i] == w)
            return true;
    }
    return false;
}

/* Picks one of the rules for this opcode at random. */
static const char *pick_rule(mewe_hook *hook, const char *op)
{
    unsigned n = 0;
    for (size_t i = 0; i < MEWE__SUBST_RULE_COUNT; i++)
        n += strcmp(mewe__subst_rules[i].op, op) == 0;
    unsigned k = mewe_hook_random_below(hook, n);
    for (size_t i = 0; i < MEWE__SUBST_RULE_COUNT; i++) {
        if (strcmp(mewe__subst_rules[i].op, op) == 0 && k-- == 0)
            return mewe__subst_rules[i].rpn;
    }
    return NULL;
}

/* Rules use an operand more than once. An undef operand may take a different value at each
 * use, which would make the rewrite wrong; freeze pins one value (and costs nothing in wasm). */
static LLVMValueRef pinned(LLVMBuilderRef b, LLVMValueRef v)
{
    return LLVMIsAConstant(v) ? v : LLVMBuildFreeze(b, v, "");
}

static int rewrite(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef inst)
{
    const char *rpn = pick_rule(hook, opcode_name(LLVMGetInstructionOpcode(inst)));
    LLVMPositionBuilderBefore(b, inst);
    LLVMValueRef v = mewe__build_rpn(b, rpn, pinned(b, LLVMGetOperand(inst, 0)),
                                     pinned(b, LLVMGetOperand(inst, 1)));
    if (!v) {
        mewe_hook_set_error(hook, "malformed rewrite rule");
        return MEWE_EINVAL;
    }
    size_t len;
    const char *name = LLVMGetValueName2(inst, &len);
    if (len && !LLVMIsAConstant(v))
        LLVMSetValueName2(v, name, len);
    LLVMReplaceAllUsesWith(inst, v);
    LLVMInstructionEraseFromParent(inst);
    return MEWE_OK;
}

static bool candidate(LLVMValueRef inst)
{
    return opcode_name(LLVMGetInstructionOpcode(inst)) && proven_width(LLVMTypeOf(inst));
}

/* A candidate instruction and the loop depth of its block. */
typedef struct candidate_at {
    LLVMValueRef inst;
    unsigned depth;
} candidate_at;

static int by_depth(const void *a, const void *b)
{
    const candidate_at *x = a, *y = b;
    return (x->depth > y->depth) - (x->depth < y->depth);
}

/* Keeps `max` of the n candidates, the least deep in loops first and at random among
 * equals: a shuffle, then a sort by depth that keeps ties in shuffled order (qsort is not
 * stable, so the shuffle's order is made part of the key). */
static size_t keep_at_most(mewe_hook *hook, candidate_at *todo, size_t n, size_t max)
{
    if (n <= max)
        return n;
    for (size_t i = 0; i + 1 < n; i++) {
        size_t j = i + mewe_hook_random_below(hook, (uint32_t)(n - i));
        candidate_at t = todo[i];
        todo[i] = todo[j];
        todo[j] = t;
    }
    /* Depths are small: the shuffled position below it keeps the order among equals. */
    for (size_t i = 0; i < n; i++)
        todo[i].depth = todo[i].depth * (unsigned)n + (unsigned)i;
    qsort(todo, n, sizeof *todo, by_depth);
    return max;
}

static int subst(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double rate, max;
    int rc = mewe_hook_param_double(&rate, hook, "rate", 0.6, 0.0, 1.0);
    if (rc == MEWE_OK)
        rc = mewe_hook_param_double(&max, hook, "max", 4, 0, 1e9);
    if (rc != MEWE_OK)
        return rc;
    unsigned *depths = mewe__loop_depths(fn);
    if (!depths)
        return MEWE_ENOMEM;
    /* Collect first: rewriting while walking would visit the replacements too. */
    candidate_at *todo = NULL;
    size_t n = 0, cap = 0;
    unsigned b = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb;
         bb = LLVMGetNextBasicBlock(bb), b++) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (!candidate(i) || (double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 >= rate)
                continue;
            if (!MEWE__ARRAY_PUSH(todo, n, cap, ((candidate_at){i, depths[b]}))) {
                free(todo);
                free(depths);
                return MEWE_ENOMEM;
            }
        }
    }
    free(depths);
    /* A rewrite costs two or three instructions each time it runs: a few per variant make it
     * distinct, while rewriting a share of a long hot body would slow it in proportion. Out
     * of loops, it runs once per call. */
    n = keep_at_most(hook, todo, n, (size_t)max);
    LLVMBuilderRef bld = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    for (size_t k = 0; rc == MEWE_OK && k < n; k++)
        rc = rewrite(hook, bld, todo[k].inst);
    LLVMDisposeBuilder(bld);
    free(todo);
    return rc;
}

int mewe__register_diversifier_subst(mewe_context *ctx)
{
    static const char *const params[] = {"rate", "max", NULL};
    static const char *const docs[] = {
        "in [0,1], default 0.6: share of add/sub/xor/or/and considered",
        "in [0,1e9], default 4: rewrites per variant at most (each costs 2-3 instructions; "
        "those outside loops are taken first)",
    };
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "subst",
        .description = "instruction substitution by arithmetic, boolean and mixed "
                       "boolean-arithmetic identities, each proven by Z3 in the tests",
        .param_names = params,
        .diversify = subst,
        .cost_class = MEWE_COST_CHEAP,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
