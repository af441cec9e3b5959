/* Structural comparison of function bodies.
 *
 * Equality numbers each function's arguments, blocks and instructions by position and then
 * walks both bodies in lockstep. The hash needs no such numbering (so it cannot fail): it only
 * looks at what kind of local value an operand is, which keeps it consistent with equality.
 *
 * A function that takes its blocks' addresses has its own label tables in every copy
 * (labels.h): there, constants are compared by structure, a block address by its block's
 * position and a label table of one function by its contents against one of the other. */
#include <stdint.h>
#include <string.h>

#include "ir/fnshape.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"

enum {
    LOCAL_ARG = 1,
    LOCAL_BLOCK = 2,
    LOCAL_INST = 3,
};

bool mewe__instruction_is_debug(LLVMValueRef inst)
{
    if (LLVMGetInstructionOpcode(inst) != LLVMCall)
        return false;
    LLVMValueRef callee = LLVMGetCalledValue(inst);
    if (!callee || !LLVMIsAFunction(callee))
        return false;
    size_t len = 0;
    const char *name = LLVMGetValueName2(callee, &len);
    return len > 9 && memcmp(name, "llvm.dbg.", 9) == 0;
}

static LLVMValueRef skip_debug(LLVMValueRef inst)
{
    while (inst && mewe__instruction_is_debug(inst))
        inst = LLVMGetNextInstruction(inst);
    return inst;
}

static LLVMValueRef next_inst(LLVMValueRef inst)
{
    return skip_debug(LLVMGetNextInstruction(inst));
}

static LLVMValueRef first_inst(LLVMBasicBlockRef bb)
{
    return skip_debug(LLVMGetFirstInstruction(bb));
}

/* ---- hash ---------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= UINT64_C(0x100000001b3);
    return h ^ (h >> 29);
}

/* Token of an operand that equal shapes are guaranteed to share. */
static uint64_t operand_token(LLVMValueRef op)
{
    LLVMValueRef inner;

    if (LLVMIsAInstruction(op))
        return ((uint64_t)LLVMGetInstructionOpcode(op) << 2) | LOCAL_INST;
    if (LLVMIsAArgument(op))
        return LOCAL_ARG;
    if (LLVMValueIsBasicBlock(op))
        return LOCAL_BLOCK;
    if (LLVMIsAValueAsMetadata(op)) {
        LLVMGetMDNodeOperands(op, &inner);
        if (inner && (LLVMIsAInstruction(inner) || LLVMIsAArgument(inner)))
            return operand_token(inner) ^ UINT64_C(0x5a5a);
    }
    /* What equality may match with another constant: a label table (a local global) or a
     * constant built of block addresses or tables. */
    switch (LLVMGetValueKind(op)) {
    case LLVMGlobalVariableValueKind:
        if (LLVMGetLinkage(op) != LLVMInternalLinkage && LLVMGetLinkage(op) != LLVMPrivateLinkage)
            break;
        /* fall through */
    case LLVMBlockAddressValueKind:
    case LLVMConstantArrayValueKind:
    case LLVMConstantStructValueKind:
    case LLVMConstantVectorValueKind:
    case LLVMConstantExprValueKind:
        return ((uint64_t)(uintptr_t)LLVMTypeOf(op) << 4) ^ (uint64_t)LLVMGetValueKind(op);
    default: break;
    }
    return (uint64_t)(uintptr_t)op;
}

static uint64_t inst_hash(uint64_t h, LLVMValueRef inst)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(inst);
    int n = LLVMGetNumOperands(inst);

    h = mix(h, (uint64_t)op);
    h = mix(h, (uint64_t)(uintptr_t)LLVMTypeOf(inst));
    h = mix(h, (uint64_t)n);
    if (op == LLVMICmp)
        h = mix(h, (uint64_t)LLVMGetICmpPredicate(inst));
    else if (op == LLVMFCmp)
        h = mix(h, (uint64_t)LLVMGetFCmpPredicate(inst));
    for (int i = 0; i < n; i++)
        h = mix(h, operand_token(LLVMGetOperand(inst, (unsigned)i)));
    return h;
}

uint64_t mewe__function_shape_hash(LLVMValueRef fn)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    h = mix(h, (uint64_t)(uintptr_t)LLVMGlobalGetValueType(fn));
    h = mix(h, LLVMCountBasicBlocks(fn));
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        h = mix(h, UINT64_C(0xb10c));
        for (LLVMValueRef i = first_inst(bb); i; i = next_inst(i))
            h = inst_hash(h, i);
    }
    h ^= h >> 31;
    h *= UINT64_C(0x94d049bb133111eb);
    return h ^ (h >> 29);
}

/* ---- positional numbering ------------------------------------------------ */

static void *code_of(size_t idx, unsigned kind)
{
    return (void *)(uintptr_t)(((uintptr_t)idx << 2) | kind);
}

static int number_values(LLVMValueRef fn, mewe__ptrmap *m)
{
    if (mewe__ptrmap_init(m, 64) != MEWE_OK)
        return MEWE_ENOMEM;
    unsigned nparams = LLVMCountParams(fn);
    for (unsigned i = 0; i < nparams; i++) {
        if (mewe__ptrmap_put(m, LLVMGetParam(fn, i), code_of(i, LOCAL_ARG)) != MEWE_OK)
            return MEWE_ENOMEM;
    }
    size_t n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        if (mewe__ptrmap_put(m, LLVMBasicBlockAsValue(bb), code_of(n++, LOCAL_BLOCK)) != MEWE_OK)
            return MEWE_ENOMEM;
    }
    n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = first_inst(bb); i; i = next_inst(i)) {
            if (mewe__ptrmap_put(m, i, code_of(n++, LOCAL_INST)) != MEWE_OK)
                return MEWE_ENOMEM;
        }
    }
    return MEWE_OK;
}

/* ---- equality ------------------------------------------------------------ */

typedef struct pair {
    mewe__ptrmap a;
    mewe__ptrmap b;
    bool labels;         /* a or b takes block addresses */
    mewe__labels la, lb; /* their label tables */
} pair;

/* Deeper constants (or a table naming itself) are taken as different: a missed dedup. */
#define CONST_DEPTH_MAX 16

static bool is_table(const mewe__labels *l, LLVMValueRef g)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->tables[i] == g)
            return true;
    }
    return false;
}

static bool const_equal(const pair *p, LLVMValueRef x, LLVMValueRef y, unsigned depth)
{
    if (x == y)
        return true;
    LLVMValueKind kind = LLVMGetValueKind(x);
    if (depth > CONST_DEPTH_MAX || kind != LLVMGetValueKind(y) || LLVMTypeOf(x) != LLVMTypeOf(y))
        return false;
    switch (kind) {
    case LLVMBlockAddressValueKind: {
        void *cx = mewe__ptrmap_get(&p->a, LLVMBasicBlockAsValue(LLVMGetBlockAddressBasicBlock(x)));
        void *cy = mewe__ptrmap_get(&p->b, LLVMBasicBlockAsValue(LLVMGetBlockAddressBasicBlock(y)));
        return cx && cx == cy;
    }
    case LLVMGlobalVariableValueKind:
        /* Constant or not, nothing writes a label table (mewe__labels_check). */
        return is_table(&p->la, x) && is_table(&p->lb, y) &&
               LLVMGlobalGetValueType(x) == LLVMGlobalGetValueType(y) &&
               LLVMGetAlignment(x) == LLVMGetAlignment(y) &&
               const_equal(p, LLVMGetInitializer(x), LLVMGetInitializer(y), depth + 1);
    case LLVMConstantExprValueKind:
        if (LLVMGetConstOpcode(x) != LLVMGetConstOpcode(y))
            return false;
        if (LLVMGetConstOpcode(x) == LLVMGetElementPtr &&
            (LLVMGetGEPSourceElementType(x) != LLVMGetGEPSourceElementType(y) ||
             LLVMGEPGetNoWrapFlags(x) != LLVMGEPGetNoWrapFlags(y)))
            return false;
        /* fall through */
    case LLVMConstantArrayValueKind:
    case LLVMConstantStructValueKind:
    case LLVMConstantVectorValueKind: {
        int n = LLVMGetNumOperands(x);
        if (n != LLVMGetNumOperands(y))
            return false;
        for (int i = 0; i < n; i++) {
            if (!const_equal(p, LLVMGetOperand(x, (unsigned)i), LLVMGetOperand(y, (unsigned)i),
                             depth + 1))
                return false;
        }
        return true;
    }
    default: return false;
    }
}

static bool value_equal(const pair *p, LLVMValueRef x, LLVMValueRef y)
{
    void *cx = mewe__ptrmap_get(&p->a, x);
    void *cy = mewe__ptrmap_get(&p->b, y);
    LLVMValueRef ix, iy;

    if (cx || cy)
        return cx == cy;
    if (x == y)
        return true;
    if (p->labels && x && y && LLVMIsAConstant(x) && LLVMIsAConstant(y))
        return const_equal(p, x, y, 0);
    /* Function-local metadata wraps a local value: compare what it wraps. */
    if (!x || !y || !LLVMIsAValueAsMetadata(x) || !LLVMIsAValueAsMetadata(y))
        return false;
    LLVMGetMDNodeOperands(x, &ix);
    LLVMGetMDNodeOperands(y, &iy);
    return ix && iy && (mewe__ptrmap_get(&p->a, ix) || mewe__ptrmap_get(&p->b, iy)) &&
           mewe__ptrmap_get(&p->a, ix) == mewe__ptrmap_get(&p->b, iy);
}

static bool ordering_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    if (op == LLVMAtomicCmpXchg) {
        if (LLVMGetCmpXchgSuccessOrdering(x) != LLVMGetCmpXchgSuccessOrdering(y) ||
            LLVMGetCmpXchgFailureOrdering(x) != LLVMGetCmpXchgFailureOrdering(y) ||
            LLVMGetWeak(x) != LLVMGetWeak(y))
            return false;
    } else if (LLVMGetOrdering(x) != LLVMGetOrdering(y)) {
        return false;
    } else if (LLVMGetOrdering(x) == LLVMAtomicOrderingNotAtomic) {
        /* The sync scope query aborts on non-atomic accesses. */
        return true;
    }
    return LLVMIsAtomicSingleThread(x) == LLVMIsAtomicSingleThread(y);
}

/* Properties of memory instructions that are not operands. */
static bool memory_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    switch (op) {
    case LLVMAlloca:
        return LLVMGetAllocatedType(x) == LLVMGetAllocatedType(y) &&
               LLVMGetAlignment(x) == LLVMGetAlignment(y);
    case LLVMFence: return ordering_equal(x, y, op);
    case LLVMLoad:
    case LLVMStore:
    case LLVMAtomicRMW:
    case LLVMAtomicCmpXchg:
        if (op == LLVMAtomicRMW && LLVMGetAtomicRMWBinOp(x) != LLVMGetAtomicRMWBinOp(y))
            return false;
        return LLVMGetAlignment(x) == LLVMGetAlignment(y) &&
               LLVMGetVolatile(x) == LLVMGetVolatile(y) && ordering_equal(x, y, op);
    case LLVMGetElementPtr:
        return LLVMGetGEPSourceElementType(x) == LLVMGetGEPSourceElementType(y) &&
               LLVMGEPGetNoWrapFlags(x) == LLVMGEPGetNoWrapFlags(y);
    default: return true;
    }
}

/* Poison-generating and fast-math flags. */
static bool flags_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    switch (op) {
    case LLVMAdd:
    case LLVMSub:
    case LLVMMul:
    case LLVMShl:
        if (LLVMGetNUW(x) != LLVMGetNUW(y) || LLVMGetNSW(x) != LLVMGetNSW(y))
            return false;
        break;
    case LLVMUDiv:
    case LLVMSDiv:
    case LLVMLShr:
    case LLVMAShr:
        if (LLVMGetExact(x) != LLVMGetExact(y))
            return false;
        break;
    case LLVMZExt:
        if (LLVMGetNNeg(x) != LLVMGetNNeg(y))
            return false;
        break;
    case LLVMOr:
        if (LLVMGetIsDisjoint(x) != LLVMGetIsDisjoint(y))
            return false;
        break;
    default: break;
    }
    if (LLVMCanValueUseFastMathFlags(x))
        return LLVMGetFastMathFlags(x) == LLVMGetFastMathFlags(y);
    return true;
}

static bool indices_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    unsigned n;

    if (op == LLVMShuffleVector) {
        n = LLVMGetNumMaskElements(x);
        if (n != LLVMGetNumMaskElements(y))
            return false;
        for (unsigned i = 0; i < n; i++) {
            if (LLVMGetMaskValue(x, i) != LLVMGetMaskValue(y, i))
                return false;
        }
        return true;
    }
    if (op != LLVMExtractValue && op != LLVMInsertValue)
        return true;
    n = LLVMGetNumIndices(x);
    return n == LLVMGetNumIndices(y) &&
           memcmp(LLVMGetIndices(x), LLVMGetIndices(y), n * sizeof(unsigned)) == 0;
}

static bool misc_equal(const pair *p, LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    unsigned n;

    switch (op) {
    case LLVMICmp: return LLVMGetICmpPredicate(x) == LLVMGetICmpPredicate(y);
    case LLVMFCmp: return LLVMGetFCmpPredicate(x) == LLVMGetFCmpPredicate(y);
    case LLVMCall:
        return LLVMGetCalledFunctionType(x) == LLVMGetCalledFunctionType(y) &&
               LLVMGetInstructionCallConv(x) == LLVMGetInstructionCallConv(y) &&
               LLVMGetTailCallKind(x) == LLVMGetTailCallKind(y);
    case LLVMPHI:
        n = LLVMCountIncoming(x);
        if (n != LLVMCountIncoming(y))
            return false;
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef bx = LLVMBasicBlockAsValue(LLVMGetIncomingBlock(x, i));
            LLVMValueRef by = LLVMBasicBlockAsValue(LLVMGetIncomingBlock(y, i));
            if (!value_equal(p, bx, by))
                return false;
        }
        return true;
    default: return indices_equal(x, y, op);
    }
}

static bool inst_equal(const pair *p, LLVMValueRef x, LLVMValueRef y)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(x);
    int n = LLVMGetNumOperands(x);

    if (op != LLVMGetInstructionOpcode(y) || LLVMTypeOf(x) != LLVMTypeOf(y) ||
        n != LLVMGetNumOperands(y))
        return false;
    for (int i = 0; i < n; i++) {
        LLVMValueRef ox = LLVMGetOperand(x, (unsigned)i);
        LLVMValueRef oy = LLVMGetOperand(y, (unsigned)i);
        if (!value_equal(p, ox, oy))
            return false;
    }
    return memory_equal(x, y, op) && flags_equal(x, y, op) && misc_equal(p, x, y, op);
}

static bool block_equal(const pair *p, LLVMBasicBlockRef a, LLVMBasicBlockRef b)
{
    LLVMValueRef x = first_inst(a);
    LLVMValueRef y = first_inst(b);

    while (x && y) {
        if (!inst_equal(p, x, y))
            return false;
        x = next_inst(x);
        y = next_inst(y);
    }
    return !x && !y;
}

static bool body_equal(const pair *p, LLVMValueRef a, LLVMValueRef b)
{
    LLVMBasicBlockRef ba = LLVMGetFirstBasicBlock(a);
    LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(b);

    while (ba && bb) {
        if (!block_equal(p, ba, bb))
            return false;
        ba = LLVMGetNextBasicBlock(ba);
        bb = LLVMGetNextBasicBlock(bb);
    }
    return !ba && !bb;
}

bool mewe__function_shape_equal(LLVMValueRef a, LLVMValueRef b)
{
    if (a == b)
        return true;
    if (LLVMGlobalGetValueType(a) != LLVMGlobalGetValueType(b) ||
        LLVMCountBasicBlocks(a) != LLVMCountBasicBlocks(b))
        return false;
    pair p = {0};
    p.labels = mewe__labels_taken(a) || mewe__labels_taken(b);
    /* Only tables found by a check that passed are known to be private to their function. */
    if (p.labels && (mewe__labels_check(a, &p.la) || mewe__labels_check(b, &p.lb))) {
        p.la.count = 0;
        p.lb.count = 0;
    }
    bool eq = number_values(a, &p.a) == MEWE_OK && number_values(b, &p.b) == MEWE_OK &&
              body_equal(&p, a, b);
    mewe__ptrmap_fini(&p.a);
    mewe__ptrmap_fini(&p.b);
    mewe__labels_fini(&p.la);
    mewe__labels_fini(&p.lb);
    return eq;
}
