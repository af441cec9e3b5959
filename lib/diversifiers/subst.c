/* Built-in diversifier `subst`: replaces integer add, sub, xor, or and and by equivalent
 * expressions from subst_rules.h (proven by Z3 in tests/test-rules.c). Registered through the
 * public hook API like any user diversifier. */
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "subst_rules.h"
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

/* Evaluates a rule's RPN with the builder; returns NULL on a malformed rule. */
static LLVMValueRef build_rpn(LLVMBuilderRef b, const char *rpn, LLVMValueRef a, LLVMValueRef bv)
{
    LLVMValueRef stack[16];
    int sp = 0;
    LLVMTypeRef t = LLVMTypeOf(a);
    for (const char *p = rpn; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && *p != ' ')
            p++;
        size_t len = (size_t)(p - tok);
        LLVMValueRef x = NULL, y = NULL;
        if (len == 1 && (*tok == 'a' || *tok == 'b' || *tok == '1')) {
            if (sp == 16)
                return NULL;
            stack[sp++] = *tok == 'a' ? a : *tok == 'b' ? bv : LLVMConstInt(t, 1, 0);
            continue;
        }
        if (len == 1 && *tok == '~') {
            if (sp < 1)
                return NULL;
            stack[sp - 1] = LLVMBuildNot(b, stack[sp - 1], "");
            continue;
        }
        if (sp < 2)
            return NULL;
        y = stack[--sp];
        x = stack[--sp];
        if (len == 2 && memcmp(tok, "<<", 2) == 0)
            stack[sp++] = LLVMBuildShl(b, x, y, "");
        else if (len == 1 && *tok == '+')
            stack[sp++] = LLVMBuildAdd(b, x, y, "");
        else if (len == 1 && *tok == '-')
            stack[sp++] = LLVMBuildSub(b, x, y, "");
        else if (len == 1 && *tok == '^')
            stack[sp++] = LLVMBuildXor(b, x, y, "");
        else if (len == 1 && *tok == '|')
            stack[sp++] = LLVMBuildOr(b, x, y, "");
        else if (len == 1 && *tok == '&')
            stack[sp++] = LLVMBuildAnd(b, x, y, "");
        else
            return NULL;
    }
    return sp == 1 ? stack[0] : NULL;
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
    LLVMValueRef v =
        build_rpn(b, rpn, pinned(b, LLVMGetOperand(inst, 0)), pinned(b, LLVMGetOperand(inst, 1)));
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

/* Keeps `max` of the n candidates, chosen at random (a partial Fisher-Yates shuffle). */
static size_t keep_at_most(mewe_hook *hook, LLVMValueRef *todo, size_t n, size_t max)
{
    if (n <= max)
        return n;
    for (size_t i = 0; i < max; i++) {
        size_t j = i + mewe_hook_random_below(hook, (uint32_t)(n - i));
        LLVMValueRef t = todo[i];
        todo[i] = todo[j];
        todo[j] = t;
    }
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
    /* Collect first: rewriting while walking would visit the replacements too. */
    LLVMValueRef *todo = NULL;
    size_t n = 0, cap = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (!candidate(i) || (double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 >= rate)
                continue;
            if (!MEWE__ARRAY_PUSH(todo, n, cap, i)) {
                free(todo);
                return MEWE_ENOMEM;
            }
        }
    }
    /* A rewrite costs two or three instructions each time it runs: a few per variant make it
     * distinct, while rewriting a share of a long hot body would slow it in proportion. */
    n = keep_at_most(hook, todo, n, (size_t)max);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    for (size_t k = 0; rc == MEWE_OK && k < n; k++)
        rc = rewrite(hook, b, todo[k]);
    LLVMDisposeBuilder(b);
    free(todo);
    return rc;
}

int mewe__register_diversifier_subst(mewe_context *ctx)
{
    return mewe__builtin_diversifier(
        ctx, "subst", (const char *const[]){"rate", "max", NULL}, subst,
        "instruction substitution by arithmetic and boolean identities "
        "(rate=0.6: share of add/sub/xor/or/and considered; max=4: rewrites "
        "per variant at most)");
}
