/* Call-site dispatch: a direct call of a diversified function chooses its variant in place,
 * so that a call costs one call, not two (the caller's call of the dispatcher, then the
 * dispatcher's call of the variant). The dispatcher stays for every other way in: calls
 * through a pointer, calls from outside the module, exports.
 *   table dispatch, per call:      call table[choose()](args)
 *   table dispatch, per instance:  call (*chosen)(args)   -- chosen starts as the dispatcher,
 *                                                            which stores its choice there
 *   switch dispatch, per call:     switch choose() { case k: call vk(args) }
 *   switch dispatch, per instance: switch choice { case 0: call f(args) -- first call: the
 *                                                  dispatcher chooses; case k+1: call vk } */
#include <stdio.h>
#include <stdlib.h>

#include <llvm-c/DebugInfo.h>

#include "dispatch.h"
#include "irutil.h"

/* Calls that may be rewritten: direct, not musttail (its form is fixed), of f's own type,
 * outside the dispatcher itself. */
static bool rewritable(LLVMValueRef call, LLVMValueRef f)
{
    return LLVMIsACallInst(call) && LLVMGetCalledValue(call) == f &&
           LLVMGetTailCallKind(call) != LLVMTailCallKindMustTail &&
           LLVMGetCalledFunctionType(call) == LLVMGlobalGetValueType(f) &&
           LLVMGetBasicBlockParent(LLVMGetInstructionParent(call)) != f;
}

static int collect(LLVMValueRef f, LLVMValueRef **out, size_t *count)
{
    size_t n = 0, cap = 16;
    LLVMValueRef *calls = malloc(cap * sizeof *calls);
    for (LLVMUseRef u = LLVMGetFirstUse(f); calls && u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!rewritable(user, f))
            continue;
        if (n == cap) {
            LLVMValueRef *bigger = realloc(calls, (cap *= 2) * sizeof *calls);
            if (!bigger)
                free(calls);
            calls = bigger;
        }
        if (calls)
            calls[n++] = user;
    }
    *out = calls;
    *count = n;
    return calls ? MEWE_OK : MEWE_ENOMEM;
}

static void set_callee(LLVMValueRef call, LLVMValueRef callee)
{
    /* The callee is a call's last operand. */
    LLVMSetOperand(call, (unsigned)LLVMGetNumOperands(call) - 1, callee);
}

/* Opens room for the choice before `call`: the call moves to a block of its own, `at`, that
 * the choice's code ends by branching to (or switching over), and the builder is left where
 * that code goes. Returns the block after the call. */
static LLVMBasicBlockRef make_room(mewe__linking *l, LLVMValueRef call, LLVMBasicBlockRef *at)
{
    LLVMBasicBlockRef bb = LLVMGetInstructionParent(call);
    *at = mewe__block_split(l->b, bb, call);
    LLVMBasicBlockRef after = mewe__block_split(l->b, *at, LLVMGetNextInstruction(call));
    LLVMInstructionEraseFromParent(LLVMGetBasicBlockTerminator(bb));
    LLVMPositionBuilderAtEnd(l->b, bb);
    return after;
}

static int table_per_call(mewe__linking *l, mewe__dispatch *d, LLVMValueRef call, size_t site)
{
    LLVMBasicBlockRef at;
    make_room(l, call, &at);
    LLVMValueRef fn = LLVMGetBasicBlockParent(at), index;
    int rc = mewe__build_choice(l, fn, d->name, 0xC411ull + site,
                                LLVMConstInt(l->i32, d->n, 0), &index);
    if (rc != MEWE_OK)
        return rc;
    LLVMValueRef idx[] = {LLVMConstInt(l->i32, 0, 0), index};
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(l->b, LLVMGlobalGetValueType(d->table), d->table,
                                              idx, 2, "");
    LLVMValueRef target = LLVMBuildLoad2(l->b, l->ptr, slot, "");
    LLVMBuildBr(l->b, at);
    set_callee(call, target);
    return MEWE_OK;
}

static void table_per_instance(mewe__linking *l, mewe__dispatch *d, LLVMValueRef call)
{
    LLVMPositionBuilderBefore(l->b, call);
    set_callee(call, LLVMBuildLoad2(l->b, l->ptr, d->chosen, ""));
}

/* A copy of `call` to `callee` in a new block that continues at `after`. */
static LLVMBasicBlockRef case_block(mewe__linking *l, LLVMValueRef call, LLVMValueRef callee,
                                    LLVMBasicBlockRef after, LLVMValueRef *copy)
{
    LLVMValueRef fn = LLVMGetBasicBlockParent(after);
    LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(l->c, fn, "mewe.case");
    LLVMPositionBuilderAtEnd(l->b, bb);
    *copy = LLVMInstructionClone(call);
    LLVMInsertIntoBuilder(l->b, *copy);
    set_callee(*copy, callee);
    LLVMBuildBr(l->b, after);
    return bb;
}

/* switch over `index`: case `first + k` calls variant k; the default, the call as it is in
 * block `at` (given callee `fallback`). The results meet in a phi at the top of `after`. */
static int build_cases(mewe__linking *l, mewe__dispatch *d, LLVMValueRef call, LLVMValueRef index,
                       LLVMBasicBlockRef at, LLVMBasicBlockRef after, size_t first,
                       LLVMValueRef fallback)
{
    size_t ncase = d->n - (first == 0); /* per call, variant 0 is the default */
    LLVMValueRef sw = LLVMBuildSwitch(l->b, index, at, (unsigned)ncase);
    LLVMValueRef *copies = malloc((ncase + 1) * sizeof *copies);
    LLVMBasicBlockRef *blocks = malloc((ncase + 1) * sizeof *blocks);
    if (!copies || !blocks) {
        free(copies);
        free(blocks);
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    }
    set_callee(call, fallback);
    copies[0] = call;
    blocks[0] = at;
    for (size_t k = first == 0 ? 1 : 0, i = 1; k < d->n; k++, i++) {
        blocks[i] = case_block(l, call, d->all[k], after, &copies[i]);
        LLVMAddCase(sw, LLVMConstInt(l->i32, first + k, 0), blocks[i]);
    }
    if (LLVMGetTypeKind(LLVMTypeOf(call)) != LLVMVoidTypeKind) {
        LLVMPositionBuilderBefore(l->b, LLVMGetFirstInstruction(after));
        LLVMValueRef phi = LLVMBuildPhi(l->b, LLVMTypeOf(call), "");
        LLVMReplaceAllUsesWith(call, phi); /* before the incoming values name the call */
        LLVMAddIncoming(phi, copies, blocks, (unsigned)ncase + 1);
    }
    free(copies);
    free(blocks);
    return MEWE_OK;
}

static int switch_per_call(mewe__linking *l, mewe__dispatch *d, LLVMValueRef call, size_t site)
{
    LLVMBasicBlockRef at;
    LLVMBasicBlockRef after = make_room(l, call, &at);
    LLVMValueRef fn = LLVMGetBasicBlockParent(at), index;
    int rc = mewe__build_choice(l, fn, d->name, 0xC411ull + site,
                                LLVMConstInt(l->i32, d->n, 0), &index);
    if (rc != MEWE_OK)
        return rc;
    return build_cases(l, d, call, index, at, after, 0, d->all[0]);
}

static int switch_per_instance(mewe__linking *l, mewe__dispatch *d, LLVMValueRef call)
{
    LLVMBasicBlockRef at;
    LLVMBasicBlockRef after = make_room(l, call, &at);
    LLVMValueRef choice = LLVMBuildLoad2(l->b, l->i32, d->choice, "");
    return build_cases(l, d, call, choice, at, after, 1, d->f);
}

int mewe__rewrite_call_sites(mewe__linking *l, mewe__dispatch *d)
{
    LLVMValueRef *calls;
    size_t n;
    if (collect(d->f, &calls, &n) != MEWE_OK)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    int rc = MEWE_OK;
    bool instance = l->o->granularity == MEWE_GRANULARITY_INSTANCE;
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        /* The builder carries a debug location from wherever it was last positioned, maybe
         * another function: the choice's code takes the call's own (valid in its function). */
        LLVMSetCurrentDebugLocation2(l->b, LLVMInstructionGetDebugLoc(calls[i]));
        if (d->table && instance)
            table_per_instance(l, d, calls[i]);
        else if (d->table)
            rc = table_per_call(l, d, calls[i], i);
        else if (instance)
            rc = switch_per_instance(l, d, calls[i]);
        else
            rc = switch_per_call(l, d, calls[i], i);
    }
    LLVMSetCurrentDebugLocation2(l->b, NULL);
    free(calls);
    return rc;
}
