/* Built-in diversifier `opaque`: opaque predicates guarding plausible but never-taken blocks.
 * A block is split at a random point and a branch inserted on `e(x) != 0`, where x is an
 * integer value available there (an argument or an earlier result of the block) and e an
 * expression that is 0 for every x (rules.h, proven by Z3 in tests/test-rules.c) but that no
 * known-bits reasoning of the backend decides, so the branch survives code generation. The
 * guarded block computes from the values at hand and either stores the result through an
 * available pointer and rejoins (it looks like an update on a rare path), or ends in a trap
 * (it looks like a failed check). Registered through the public hook API. */
#include <stdlib.h>

#include "ir/irutil.h"
#include "registry.h"
#include "rules.h"

static bool usable_int(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    if (LLVMGetTypeKind(t) != LLVMIntegerTypeKind)
        return false;
    unsigned w = LLVMGetIntTypeWidth(t);
    for (size_t i = 0; i < MEWE__SUBST_WIDTH_COUNT; i++) {
        if (mewe__subst_widths[i] == w)
            return true;
    }
    return false;
}

/* Values available at the end of the part of `bb` before `at`: the arguments and that part's
 * results (they dominate the split point). Fills ints and ptrs, at most `cap` each. */
static void available(LLVMValueRef fn, LLVMBasicBlockRef bb, LLVMValueRef at, LLVMValueRef *ints,
                      unsigned *ni, LLVMValueRef *ptrs, unsigned *np, unsigned cap)
{
    *ni = *np = 0;
    unsigned n = LLVMCountParams(fn);
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef p = LLVMGetParam(fn, i);
        if (usable_int(p) && *ni < cap)
            ints[(*ni)++] = p;
        else if (LLVMGetTypeKind(LLVMTypeOf(p)) == LLVMPointerTypeKind && *np < cap)
            ptrs[(*np)++] = p;
    }
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i && i != at;
         i = LLVMGetNextInstruction(i)) {
        if (usable_int(i) && *ni < cap)
            ints[(*ni)++] = i;
        else if (LLVMGetTypeKind(LLVMTypeOf(i)) == LLVMPointerTypeKind && *np < cap)
            ptrs[(*np)++] = i;
    }
}

/* A split point: after the phis, the allocas and any EH pad, the terminator excluded. */
static LLVMValueRef pick_point(mewe_hook *hook, LLVMBasicBlockRef bb)
{
    unsigned n = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (LLVMIsAPHINode(i) || LLVMIsAAllocaInst(i) || LLVMIsALandingPadInst(i) ||
            LLVMIsAFuncletPadInst(i) || LLVMIsACatchSwitchInst(i))
            n = 0; /* only points after every one of these */
        else
            n++;
    }
    if (n == 0)
        return NULL;
    unsigned k = mewe_hook_random_below(hook, n), seen = 0;
    LLVMValueRef last = LLVMGetLastInstruction(bb);
    unsigned total = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
        total++;
    /* The last n instructions are the candidates (the terminator among them is the point
     * "just before the end"). */
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (seen++ == total - n + k)
            return i;
    }
    return last;
}

static LLVMValueRef any_of(mewe_hook *hook, LLVMValueRef *v, unsigned n)
{
    return v[mewe_hook_random_below(hook, n)];
}

/* An integer of type t from x: the same width, or zero-extended/truncated. */
static LLVMValueRef fit(LLVMBuilderRef b, LLVMValueRef x, LLVMTypeRef t)
{
    unsigned from = LLVMGetIntTypeWidth(LLVMTypeOf(x)), to = LLVMGetIntTypeWidth(t);
    if (from == to)
        return x;
    return from < to ? LLVMBuildZExt(b, x, t, "") : LLVMBuildTrunc(b, x, t, "");
}

/* The never-taken block: one to three operations over the values at hand, then a store
 * through an available pointer and back to `cont`, or a trap. */
static void fill_decoy(mewe_hook *hook, LLVMBuilderRef b, LLVMModuleRef mod, LLVMBasicBlockRef bb,
                       LLVMBasicBlockRef cont, LLVMValueRef x, LLVMValueRef *ints, unsigned ni,
                       LLVMValueRef *ptrs, unsigned np)
{
    LLVMPositionBuilderAtEnd(b, bb);
    LLVMTypeRef t = LLVMTypeOf(x);
    LLVMValueRef v = x;
    unsigned ops = 1 + mewe_hook_random_below(hook, 3);
    for (unsigned k = 0; k < ops; k++) {
        LLVMValueRef y = mewe_hook_random_below(hook, 2)
                             ? fit(b, LLVMBuildFreeze(b, any_of(hook, ints, ni), ""), t)
                             : LLVMConstInt(t, mewe_hook_random(hook), 0);
        switch (mewe_hook_random_below(hook, 5)) {
        case 0: v = LLVMBuildAdd(b, v, y, ""); break;
        case 1: v = LLVMBuildXor(b, v, y, ""); break;
        case 2: v = LLVMBuildMul(b, v, y, ""); break;
        case 3: v = LLVMBuildSub(b, v, y, ""); break;
        default: v = LLVMBuildOr(b, v, y, ""); break;
        }
    }
    if (np) {
        LLVMValueRef st = LLVMBuildStore(b, v, any_of(hook, ptrs, np));
        LLVMSetAlignment(st, 1);
        LLVMBuildBr(b, cont);
        return;
    }
    unsigned id = LLVMLookupIntrinsicID("llvm.trap", 9);
    LLVMValueRef trap = LLVMGetIntrinsicDeclaration(mod, id, NULL, 0);
    LLVMBuildCall2(b, LLVMGlobalGetValueType(trap), trap, NULL, 0, "");
    LLVMBuildUnreachable(b);
}

/* Guards one point; false when the chosen block offers no integer value to test. */
static bool guard(mewe_hook *hook, LLVMValueRef fn, LLVMBasicBlockRef bb, LLVMBuilderRef b)
{
    LLVMValueRef at = pick_point(hook, bb);
    if (!at)
        return false;
    /* Split first, then look: the split rebuilds the phis of bb's successors, which are bb's
     * own when it loops to itself. */
    LLVMBasicBlockRef cont = mewe__block_split(b, bb, at);
    LLVMValueRef br = LLVMGetBasicBlockTerminator(bb);
    LLVMValueRef ints[64], ptrs[64];
    unsigned ni, np;
    available(fn, bb, br, ints, &ni, ptrs, &np, 64);
    if (ni == 0)
        return false; /* a split block, no guard: valid all the same */
    LLVMPositionBuilderBefore(b, br);
    /* freeze: an undef or poison x must not make the predicate anything but false. */
    LLVMValueRef x = LLVMBuildFreeze(b, any_of(hook, ints, ni), "");
    const char *rule = mewe__opaque_rules[mewe_hook_random_below(hook, MEWE__OPAQUE_RULE_COUNT)];
    LLVMValueRef e = mewe__build_rpn(b, rule, x, x);
    LLVMValueRef p = LLVMBuildICmp(b, LLVMIntNE, e, LLVMConstNull(LLVMTypeOf(x)), "");
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMBasicBlockRef decoy = LLVMAppendBasicBlockInContext(c, fn, "");
    /* Somewhere in the layout, not necessarily at the end. */
    unsigned nb = LLVMCountBasicBlocks(fn);
    LLVMBasicBlockRef after = LLVMGetFirstBasicBlock(fn);
    for (unsigned k = mewe_hook_random_below(hook, nb - 1); k > 0; k--)
        after = LLVMGetNextBasicBlock(after);
    if (after != decoy)
        LLVMMoveBasicBlockAfter(decoy, after);
    LLVMBuildCondBr(b, p, decoy, cont);
    LLVMInstructionEraseFromParent(br);
    fill_decoy(hook, b, LLVMGetGlobalParent(fn), decoy, cont, x, ints, ni, ptrs, np);
    return true;
}

static int opaque(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double max;
    int rc = mewe_hook_param_double(&max, hook, "max", 1, 0, 64);
    if (rc != MEWE_OK)
        return rc;
    unsigned n = LLVMCountBasicBlocks(fn);
    LLVMBasicBlockRef *bbs = malloc((n ? n : 1) * sizeof *bbs);
    if (!bbs)
        return MEWE_ENOMEM;
    LLVMGetBasicBlocks(fn, bbs);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    /* A few tries per guard: some blocks have no integer value at hand. */
    unsigned done = 0;
    for (unsigned tries = 0; done < (unsigned)max && tries < 4 * (unsigned)max + 4; tries++)
        done += guard(hook, fn, bbs[mewe_hook_random_below(hook, n)], b);
    LLVMDisposeBuilder(b);
    free(bbs);
    return MEWE_OK;
}

int mewe__register_diversifier_opaque(mewe_context *ctx)
{
    static const char *const params[] = {"max", NULL};
    static const char *const docs[] = {
        "in [0,64], default 1: guarded blocks per variant (each guard costs 4-5 operations "
        "and a branch each time it runs)",
    };
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "opaque",
        .description = "opaque predicates: never-true tests of values at hand guarding "
                       "plausible blocks that never run",
        .param_names = params,
        .diversify = opaque,
        .cost_class = MEWE_COST_CHEAP,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
