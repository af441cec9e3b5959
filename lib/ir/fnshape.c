/*
 * fnshape.c - structural comparison of function bodies.
 *
 * Equality numbers each function's arguments, blocks and instructions by
 * position and then walks both bodies in lockstep. The hash needs no such
 * numbering (so it cannot fail): it only looks at what kind of local value an
 * operand is, which keeps it consistent with equality.
 *
 * A function that takes its blocks' addresses has its own label tables in every copy
 * (labels.h): there, constants are compared by structure, a block address by its block's
 * position and a label table of one function by its contents against one of the other.
 */
#include "ir/fnshape.h"

#include <stdint.h>
#include <string.h>

#include "ir/labels.h"
#include "ir/ptrmap.h"

enum {
    MEWE__LOCAL_ARG = 1,
    MEWE__LOCAL_BLOCK = 2,
    MEWE__LOCAL_INST = 3,
};

int mewe__instruction_is_debug(LLVMValueRef inst)
{
    LLVMValueRef callee;
    const char *name;
    size_t len = 0;

    if (LLVMGetInstructionOpcode(inst) != LLVMCall)
        return 0;
    callee = LLVMGetCalledValue(inst);
    if (!callee || !LLVMIsAFunction(callee))
        return 0;
    name = LLVMGetValueName2(callee, &len);
    return len > 9 && memcmp(name, "llvm.dbg.", 9) == 0;
}

static LLVMValueRef mewe__inst_skip_debug(LLVMValueRef inst)
{
    while (inst && mewe__instruction_is_debug(inst))
        inst = LLVMGetNextInstruction(inst);
    return inst;
}

static LLVMValueRef mewe__inst_next(LLVMValueRef inst)
{
    return mewe__inst_skip_debug(LLVMGetNextInstruction(inst));
}

static LLVMValueRef mewe__inst_first(LLVMBasicBlockRef bb)
{
    return mewe__inst_skip_debug(LLVMGetFirstInstruction(bb));
}

/* ---- hash ---------------------------------------------------------------- */

static uint64_t mewe__shape_mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= UINT64_C(0x100000001b3);
    return h ^ (h >> 29);
}

/* Token of an operand that equal shapes are guaranteed to share. */
static uint64_t mewe__shape_operand_token(LLVMValueRef op)
{
    LLVMValueRef inner;

    if (LLVMIsAInstruction(op))
        return ((uint64_t)LLVMGetInstructionOpcode(op) << 2) | MEWE__LOCAL_INST;
    if (LLVMIsAArgument(op))
        return MEWE__LOCAL_ARG;
    if (LLVMValueIsBasicBlock(op))
        return MEWE__LOCAL_BLOCK;
    if (LLVMIsAValueAsMetadata(op)) {
        LLVMGetMDNodeOperands(op, &inner);
        if (inner && (LLVMIsAInstruction(inner) || LLVMIsAArgument(inner)))
            return mewe__shape_operand_token(inner) ^ UINT64_C(0x5a5a);
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

static uint64_t mewe__shape_inst_hash(uint64_t h, LLVMValueRef inst)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(inst);
    int n = LLVMGetNumOperands(inst);

    h = mewe__shape_mix(h, (uint64_t)op);
    h = mewe__shape_mix(h, (uint64_t)(uintptr_t)LLVMTypeOf(inst));
    h = mewe__shape_mix(h, (uint64_t)n);
    if (op == LLVMICmp)
        h = mewe__shape_mix(h, (uint64_t)LLVMGetICmpPredicate(inst));
    else if (op == LLVMFCmp)
        h = mewe__shape_mix(h, (uint64_t)LLVMGetFCmpPredicate(inst));
    for (int i = 0; i < n; i++)
        h = mewe__shape_mix(h, mewe__shape_operand_token(LLVMGetOperand(inst, (unsigned)i)));
    return h;
}

uint64_t mewe__function_shape_hash(LLVMValueRef fn)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    h = mewe__shape_mix(h, (uint64_t)(uintptr_t)LLVMGlobalGetValueType(fn));
    h = mewe__shape_mix(h, LLVMCountBasicBlocks(fn));
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        h = mewe__shape_mix(h, UINT64_C(0xb10c));
        for (LLVMValueRef i = mewe__inst_first(bb); i; i = mewe__inst_next(i))
            h = mewe__shape_inst_hash(h, i);
    }
    h ^= h >> 31;
    h *= UINT64_C(0x94d049bb133111eb);
    return h ^ (h >> 29);
}

/* ---- positional numbering ------------------------------------------------ */

static void *mewe__shape_code(size_t idx, unsigned kind)
{
    return (void *)(uintptr_t)(((uintptr_t)idx << 2) | kind);
}

static int mewe__shape_number(LLVMValueRef fn, mewe__ptrmap *m)
{
    unsigned nparams = LLVMCountParams(fn);
    size_t n = 0;

    if (mewe__ptrmap_init(m, 64) != 0)
        return -1;
    for (unsigned i = 0; i < nparams; i++) {
        if (mewe__ptrmap_put(m, LLVMGetParam(fn, i), mewe__shape_code(i, MEWE__LOCAL_ARG)))
            return -1;
    }
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        void *code = mewe__shape_code(n++, MEWE__LOCAL_BLOCK);
        if (mewe__ptrmap_put(m, LLVMBasicBlockAsValue(bb), code) != 0)
            return -1;
    }
    n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = mewe__inst_first(bb); i; i = mewe__inst_next(i)) {
            if (mewe__ptrmap_put(m, i, mewe__shape_code(n++, MEWE__LOCAL_INST)) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- equality ------------------------------------------------------------ */

typedef struct mewe__shape_pair {
    mewe__ptrmap a;
    mewe__ptrmap b;
    bool labels;         /* a or b takes block addresses */
    mewe__labels la, lb; /* their label tables */
} mewe__shape_pair;

/* Deeper constants (or a table naming itself) are taken as different: a missed dedup. */
#define MEWE__SHAPE_CONST_DEPTH 16

static bool mewe__shape_is_table(const mewe__labels *l, LLVMValueRef g)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->tables[i] == g)
            return true;
    }
    return false;
}

static int mewe__shape_const_equal(const mewe__shape_pair *p, LLVMValueRef x, LLVMValueRef y,
                                   unsigned depth)
{
    LLVMValueKind kind = LLVMGetValueKind(x);
    unsigned n;

    if (x == y)
        return 1;
    if (depth > MEWE__SHAPE_CONST_DEPTH || kind != LLVMGetValueKind(y) ||
        LLVMTypeOf(x) != LLVMTypeOf(y))
        return 0;
    switch (kind) {
    case LLVMBlockAddressValueKind: {
        void *cx = mewe__ptrmap_get(&p->a, LLVMBasicBlockAsValue(LLVMGetBlockAddressBasicBlock(x)));
        void *cy = mewe__ptrmap_get(&p->b, LLVMBasicBlockAsValue(LLVMGetBlockAddressBasicBlock(y)));
        return cx && cx == cy;
    }
    case LLVMGlobalVariableValueKind:
        /* Constant or not, nothing writes a label table (mewe__labels_check). */
        return mewe__shape_is_table(&p->la, x) && mewe__shape_is_table(&p->lb, y) &&
               LLVMGlobalGetValueType(x) == LLVMGlobalGetValueType(y) &&
               LLVMGetAlignment(x) == LLVMGetAlignment(y) &&
               mewe__shape_const_equal(p, LLVMGetInitializer(x), LLVMGetInitializer(y), depth + 1);
    case LLVMConstantExprValueKind:
        if (LLVMGetConstOpcode(x) != LLVMGetConstOpcode(y))
            return 0;
        if (LLVMGetConstOpcode(x) == LLVMGetElementPtr &&
            (LLVMGetGEPSourceElementType(x) != LLVMGetGEPSourceElementType(y) ||
             LLVMGEPGetNoWrapFlags(x) != LLVMGEPGetNoWrapFlags(y)))
            return 0;
        /* fall through */
    case LLVMConstantArrayValueKind:
    case LLVMConstantStructValueKind:
    case LLVMConstantVectorValueKind:
        n = (unsigned)LLVMGetNumOperands(x);
        if (n != (unsigned)LLVMGetNumOperands(y))
            return 0;
        for (unsigned i = 0; i < n; i++) {
            if (!mewe__shape_const_equal(p, LLVMGetOperand(x, i), LLVMGetOperand(y, i), depth + 1))
                return 0;
        }
        return 1;
    default: return 0;
    }
}

static int mewe__shape_value_equal(const mewe__shape_pair *p, LLVMValueRef x, LLVMValueRef y)
{
    void *cx = mewe__ptrmap_get(&p->a, x);
    void *cy = mewe__ptrmap_get(&p->b, y);
    LLVMValueRef ix, iy;

    if (cx || cy)
        return cx == cy;
    if (x == y)
        return 1;
    if (p->labels && x && y && LLVMIsAConstant(x) && LLVMIsAConstant(y))
        return mewe__shape_const_equal(p, x, y, 0);
    /* Function-local metadata wraps a local value: compare what it wraps. */
    if (!x || !y || !LLVMIsAValueAsMetadata(x) || !LLVMIsAValueAsMetadata(y))
        return 0;
    LLVMGetMDNodeOperands(x, &ix);
    LLVMGetMDNodeOperands(y, &iy);
    return ix && iy && (mewe__ptrmap_get(&p->a, ix) || mewe__ptrmap_get(&p->b, iy)) &&
           mewe__ptrmap_get(&p->a, ix) == mewe__ptrmap_get(&p->b, iy);
}

static int mewe__shape_ordering_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    if (op == LLVMAtomicCmpXchg) {
        if (LLVMGetCmpXchgSuccessOrdering(x) != LLVMGetCmpXchgSuccessOrdering(y) ||
            LLVMGetCmpXchgFailureOrdering(x) != LLVMGetCmpXchgFailureOrdering(y) ||
            LLVMGetWeak(x) != LLVMGetWeak(y))
            return 0;
    } else if (LLVMGetOrdering(x) != LLVMGetOrdering(y)) {
        return 0;
    } else if (LLVMGetOrdering(x) == LLVMAtomicOrderingNotAtomic) {
        /* The sync scope query aborts on non-atomic accesses. */
        return 1;
    }
    return LLVMIsAtomicSingleThread(x) == LLVMIsAtomicSingleThread(y);
}

/* Properties of memory instructions that are not operands. */
static int mewe__shape_memory_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    switch (op) {
    case LLVMAlloca:
        return LLVMGetAllocatedType(x) == LLVMGetAllocatedType(y) &&
               LLVMGetAlignment(x) == LLVMGetAlignment(y);
    case LLVMFence: return mewe__shape_ordering_equal(x, y, op);
    case LLVMLoad:
    case LLVMStore:
    case LLVMAtomicRMW:
    case LLVMAtomicCmpXchg:
        if (op == LLVMAtomicRMW && LLVMGetAtomicRMWBinOp(x) != LLVMGetAtomicRMWBinOp(y))
            return 0;
        return LLVMGetAlignment(x) == LLVMGetAlignment(y) &&
               LLVMGetVolatile(x) == LLVMGetVolatile(y) && mewe__shape_ordering_equal(x, y, op);
    case LLVMGetElementPtr:
        return LLVMGetGEPSourceElementType(x) == LLVMGetGEPSourceElementType(y) &&
               LLVMGEPGetNoWrapFlags(x) == LLVMGEPGetNoWrapFlags(y);
    default: return 1;
    }
}

/* Poison-generating and fast-math flags. */
static int mewe__shape_flags_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    switch (op) {
    case LLVMAdd:
    case LLVMSub:
    case LLVMMul:
    case LLVMShl:
        if (LLVMGetNUW(x) != LLVMGetNUW(y) || LLVMGetNSW(x) != LLVMGetNSW(y))
            return 0;
        break;
    case LLVMUDiv:
    case LLVMSDiv:
    case LLVMLShr:
    case LLVMAShr:
        if (LLVMGetExact(x) != LLVMGetExact(y))
            return 0;
        break;
    case LLVMZExt:
        if (LLVMGetNNeg(x) != LLVMGetNNeg(y))
            return 0;
        break;
    case LLVMOr:
        if (LLVMGetIsDisjoint(x) != LLVMGetIsDisjoint(y))
            return 0;
        break;
    default: break;
    }
    if (LLVMCanValueUseFastMathFlags(x))
        return LLVMGetFastMathFlags(x) == LLVMGetFastMathFlags(y);
    return 1;
}

static int mewe__shape_indices_equal(LLVMValueRef x, LLVMValueRef y, LLVMOpcode op)
{
    unsigned n;

    if (op == LLVMShuffleVector) {
        n = LLVMGetNumMaskElements(x);
        if (n != LLVMGetNumMaskElements(y))
            return 0;
        for (unsigned i = 0; i < n; i++) {
            if (LLVMGetMaskValue(x, i) != LLVMGetMaskValue(y, i))
                return 0;
        }
        return 1;
    }
    if (op != LLVMExtractValue && op != LLVMInsertValue)
        return 1;
    n = LLVMGetNumIndices(x);
    return n == LLVMGetNumIndices(y) &&
           memcmp(LLVMGetIndices(x), LLVMGetIndices(y), n * sizeof(unsigned)) == 0;
}

static int mewe__shape_misc_equal(const mewe__shape_pair *p, LLVMValueRef x, LLVMValueRef y,
                                  LLVMOpcode op)
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
            return 0;
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef bx = LLVMBasicBlockAsValue(LLVMGetIncomingBlock(x, i));
            LLVMValueRef by = LLVMBasicBlockAsValue(LLVMGetIncomingBlock(y, i));
            if (!mewe__shape_value_equal(p, bx, by))
                return 0;
        }
        return 1;
    default: return mewe__shape_indices_equal(x, y, op);
    }
}

static int mewe__shape_inst_equal(const mewe__shape_pair *p, LLVMValueRef x, LLVMValueRef y)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(x);
    int n = LLVMGetNumOperands(x);

    if (op != LLVMGetInstructionOpcode(y) || LLVMTypeOf(x) != LLVMTypeOf(y) ||
        n != LLVMGetNumOperands(y))
        return 0;
    for (int i = 0; i < n; i++) {
        LLVMValueRef ox = LLVMGetOperand(x, (unsigned)i);
        LLVMValueRef oy = LLVMGetOperand(y, (unsigned)i);
        if (!mewe__shape_value_equal(p, ox, oy))
            return 0;
    }
    return mewe__shape_memory_equal(x, y, op) && mewe__shape_flags_equal(x, y, op) &&
           mewe__shape_misc_equal(p, x, y, op);
}

static int mewe__shape_block_equal(const mewe__shape_pair *p, LLVMBasicBlockRef a,
                                   LLVMBasicBlockRef b)
{
    LLVMValueRef x = mewe__inst_first(a);
    LLVMValueRef y = mewe__inst_first(b);

    while (x && y) {
        if (!mewe__shape_inst_equal(p, x, y))
            return 0;
        x = mewe__inst_next(x);
        y = mewe__inst_next(y);
    }
    return !x && !y;
}

static int mewe__shape_body_equal(const mewe__shape_pair *p, LLVMValueRef a, LLVMValueRef b)
{
    LLVMBasicBlockRef ba = LLVMGetFirstBasicBlock(a);
    LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(b);

    while (ba && bb) {
        if (!mewe__shape_block_equal(p, ba, bb))
            return 0;
        ba = LLVMGetNextBasicBlock(ba);
        bb = LLVMGetNextBasicBlock(bb);
    }
    return !ba && !bb;
}

int mewe__function_shape_equal(LLVMValueRef a, LLVMValueRef b)
{
    mewe__shape_pair p;
    int eq = 0;

    memset(&p, 0, sizeof p);
    if (a == b)
        return 1;
    if (LLVMGlobalGetValueType(a) != LLVMGlobalGetValueType(b) ||
        LLVMCountBasicBlocks(a) != LLVMCountBasicBlocks(b))
        return 0;
    p.labels = mewe__labels_taken(a) || mewe__labels_taken(b);
    /* Only tables found by a check that passed are known to be private to their function. */
    if (p.labels && (mewe__labels_check(a, &p.la) || mewe__labels_check(b, &p.lb))) {
        p.la.count = 0;
        p.lb.count = 0;
    }
    if (mewe__shape_number(a, &p.a) == 0 && mewe__shape_number(b, &p.b) == 0)
        eq = mewe__shape_body_equal(&p, a, b);
    mewe__ptrmap_fini(&p.a);
    mewe__ptrmap_fini(&p.b);
    mewe__labels_fini(&p.la);
    mewe__labels_fini(&p.lb);
    return eq;
}
