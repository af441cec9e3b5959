/* Built-in diversifier `swap`: swaps the operands of commutative integer operations and
 * mirrors integer comparisons (a < b becomes b > a). Free at run time, and it survives code
 * generation: the wasm operand order follows the IR's. Registered through the public hook
 * API. Floating-point operations are left alone: swapping them could change which NaN
 * payload propagates. */
#include <stdlib.h>

#include "registry.h"

static bool commutative(LLVMOpcode op)
{
    return op == LLVMAdd || op == LLVMMul || op == LLVMAnd || op == LLVMOr || op == LLVMXor;
}

static LLVMIntPredicate mirror(LLVMIntPredicate p)
{
    switch (p) {
    case LLVMIntSGT: return LLVMIntSLT;
    case LLVMIntSLT: return LLVMIntSGT;
    case LLVMIntSGE: return LLVMIntSLE;
    case LLVMIntSLE: return LLVMIntSGE;
    case LLVMIntUGT: return LLVMIntULT;
    case LLVMIntULT: return LLVMIntUGT;
    case LLVMIntUGE: return LLVMIntULE;
    case LLVMIntULE: return LLVMIntUGE;
    default: return p; /* eq, ne */
    }
}

static bool is_int(LLVMValueRef v)
{
    LLVMTypeKind k = LLVMGetTypeKind(LLVMTypeOf(v));
    return k == LLVMIntegerTypeKind || k == LLVMVectorTypeKind;
}

/* Constants stay on the right: instruction selection would move them back anyway. */
static bool swappable(LLVMValueRef inst)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(inst);
    if (op != LLVMICmp && !commutative(op))
        return false;
    LLVMValueRef a = LLVMGetOperand(inst, 0), b = LLVMGetOperand(inst, 1);
    return is_int(a) && !LLVMIsAConstant(a) && !LLVMIsAConstant(b) && a != b;
}

/* The C API cannot change a comparison's predicate: build the mirrored one instead. */
static void mirror_icmp(LLVMBuilderRef b, LLVMValueRef inst)
{
    LLVMPositionBuilderBefore(b, inst);
    LLVMValueRef m = LLVMBuildICmp(b, mirror(LLVMGetICmpPredicate(inst)), LLVMGetOperand(inst, 1),
                                   LLVMGetOperand(inst, 0), "");
    size_t len;
    const char *name = LLVMGetValueName2(inst, &len);
    LLVMReplaceAllUsesWith(inst, m);
    LLVMSetValueName2(m, name, len);
    LLVMInstructionEraseFromParent(inst);
}

static void swap_operands(LLVMValueRef inst)
{
    LLVMValueRef a = LLVMGetOperand(inst, 0), b = LLVMGetOperand(inst, 1);
    LLVMSetOperand(inst, 0, b);
    LLVMSetOperand(inst, 1, a);
}

static int swap(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double rate;
    int rc = mewe_hook_param_double(&rate, hook, "rate", 0.5, 0.0, 1.0);
    if (rc != MEWE_OK)
        return rc;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef next;
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = next) {
            next = LLVMGetNextInstruction(i);
            if (!swappable(i) || (double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 >= rate)
                continue;
            if (LLVMGetInstructionOpcode(i) == LLVMICmp)
                mirror_icmp(b, i);
            else
                swap_operands(i);
        }
    }
    LLVMDisposeBuilder(b);
    return MEWE_OK;
}

int mewe__register_diversifier_swap(mewe_context *ctx)
{
    return mewe__builtin_diversifier(ctx, "swap", (const char *const[]){"rate", NULL}, swap,
                                     "operand swaps of commutative integer operations and mirrored "
                                     "comparisons (rate=0.5), free at run time");
}
