/*
 * labels.c - which functions with computed goto may be copied, and their label tables.
 *
 * The check follows every value derived from an address of the function's blocks (and from
 * the globals holding such addresses) through its uses, as a taint: through constants into
 * label tables, through loads, casts, arithmetic, phis and selects, into the function's own
 * stack slots. Anything else that receives one (a call, a return, a store outside the
 * function's stack, another function, a global the linker may share) lets an address outlive
 * the invocation, and the function keeps its single copy.
 */
#include "ir/labels.h"

#include <stdlib.h>
#include <string.h>

#include "ir/ptrmap.h"

static const char escapes[] = "block address escapes the function";
static const char written[] = "label table written at run time";
static const char uncopyable[] = "block address in a constant libmewe cannot copy";
static const char no_memory[] = "out of memory";

bool mewe__labels_taken(LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
            if (LLVMGetValueKind(LLVMGetUser(u)) == LLVMBlockAddressValueKind)
                return true;
        }
    }
    return false;
}

bool mewe__function_has_users(LLVMValueRef fn)
{
    for (LLVMUseRef u = LLVMGetFirstUse(fn); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMGetValueKind(user) != LLVMBlockAddressValueKind ||
            LLVMGetBlockAddressFunction(user) != fn)
            return true;
    }
    return false;
}

/* ---- constants ----------------------------------------------------------- */

bool mewe__labels_rebuildable(LLVMValueRef c)
{
    switch (LLVMGetValueKind(c)) {
    case LLVMBlockAddressValueKind:
    case LLVMConstantArrayValueKind:
    case LLVMConstantStructValueKind:
    case LLVMConstantVectorValueKind: return true;
    case LLVMConstantExprValueKind:
        switch (LLVMGetConstOpcode(c)) {
        case LLVMGetElementPtr:
        case LLVMTrunc:
        case LLVMPtrToInt:
        case LLVMIntToPtr:
        case LLVMBitCast:
        case LLVMAddrSpaceCast:
        case LLVMAdd:
        case LLVMSub:
        case LLVMMul:
        case LLVMXor: return true;
        default: return false;
        }
    default: return false;
    }
}

static LLVMValueRef rebuild_expr(LLVMValueRef c, LLVMValueRef *ops)
{
    LLVMTypeRef t = LLVMTypeOf(c);
    switch (LLVMGetConstOpcode(c)) {
    case LLVMGetElementPtr:
        return LLVMConstGEPWithNoWrapFlags(LLVMGetGEPSourceElementType(c), ops[0], ops + 1,
                                           (unsigned)LLVMGetNumOperands(c) - 1,
                                           LLVMGEPGetNoWrapFlags(c));
    case LLVMTrunc: return LLVMConstTrunc(ops[0], t);
    case LLVMPtrToInt: return LLVMConstPtrToInt(ops[0], t);
    case LLVMIntToPtr: return LLVMConstIntToPtr(ops[0], t);
    case LLVMBitCast: return LLVMConstBitCast(ops[0], t);
    case LLVMAddrSpaceCast: return LLVMConstAddrSpaceCast(ops[0], t);
    case LLVMAdd: return LLVMConstAdd(ops[0], ops[1]);
    case LLVMSub: return LLVMConstSub(ops[0], ops[1]);
    case LLVMMul: return LLVMConstMul(ops[0], ops[1]);
    case LLVMXor: return LLVMConstXor(ops[0], ops[1]);
    default: return NULL;
    }
}

LLVMValueRef mewe__labels_rebuild(LLVMValueRef c, LLVMValueRef *ops)
{
    LLVMTypeRef t = LLVMTypeOf(c);
    unsigned n = (unsigned)LLVMGetNumOperands(c);
    switch (LLVMGetValueKind(c)) {
    case LLVMBlockAddressValueKind: return LLVMBlockAddress(ops[0], LLVMValueAsBasicBlock(ops[1]));
    case LLVMConstantArrayValueKind: return LLVMConstArray2(LLVMGetElementType(t), ops, n);
    case LLVMConstantVectorValueKind: return LLVMConstVector(ops, n);
    case LLVMConstantStructValueKind:
        if (LLVMGetStructName(t))
            return LLVMConstNamedStruct(t, ops, n);
        return LLVMConstStructInContext(LLVMGetTypeContext(t), ops, n, LLVMIsPackedStruct(t));
    case LLVMConstantExprValueKind: return rebuild_expr(c, ops);
    default: return NULL;
    }
}

/* ---- the taint walk ------------------------------------------------------ */

typedef struct walk {
    LLVMValueRef fn;
    mewe__ptrmap seen;
    LLVMValueRef *todo;
    size_t n, cap;
    mewe__labels *out;
} walk;

static bool push_table(mewe__labels *l, LLVMValueRef g)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        LLVMValueRef *t = realloc(l->tables, cap * sizeof *t);
        if (!t)
            return false;
        l->tables = t;
        l->cap = cap;
    }
    l->tables[l->count++] = g;
    return true;
}

/* Adds v to the values whose uses are checked; false when out of memory. */
static bool taint(walk *w, LLVMValueRef v)
{
    if (mewe__ptrmap_get(&w->seen, v))
        return true;
    if (mewe__ptrmap_put(&w->seen, v, v) != 0)
        return false;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 32;
        LLVMValueRef *t = realloc(w->todo, cap * sizeof *t);
        if (!t)
            return false;
        w->todo = t;
        w->cap = cap;
    }
    w->todo[w->n++] = v;
    return true;
}

static bool in_fn(const walk *w, LLVMValueRef inst)
{
    return LLVMGetBasicBlockParent(LLVMGetInstructionParent(inst)) == w->fn;
}

/* The alloca of fn that pointer p points into, through GEPs and casts; NULL when p may point
 * anywhere else. */
static LLVMValueRef local_slot(const walk *w, LLVMValueRef p)
{
    for (;;) {
        if (LLVMIsAAllocaInst(p))
            return in_fn(w, p) ? p : NULL;
        if (LLVMIsAGetElementPtrInst(p) || LLVMIsABitCastInst(p) || LLVMIsAAddrSpaceCastInst(p))
            p = LLVMGetOperand(p, 0);
        else
            return NULL;
    }
}

static bool is_intrinsic(LLVMValueRef call, const char *prefix)
{
    LLVMValueRef callee = LLVMGetCalledValue(call);
    size_t len = 0, plen = strlen(prefix);
    if (!callee || !LLVMIsAFunction(callee) || LLVMGetIntrinsicID(callee) == 0)
        return false;
    const char *name = LLVMGetValueName2(callee, &len);
    return len >= plen && memcmp(name, prefix, plen) == 0;
}

/* Memory intrinsics may copy labels into fn's stack; lifetime markers only mark it. */
static const char *call_use(walk *w, LLVMValueRef call, LLVMValueRef v)
{
    if (is_intrinsic(call, "llvm.lifetime."))
        return NULL;
    if (is_intrinsic(call, "llvm.memcpy") || is_intrinsic(call, "llvm.memmove") ||
        is_intrinsic(call, "llvm.memset")) {
        LLVMValueRef slot = local_slot(w, LLVMGetOperand(call, 0));
        if (!slot)
            return LLVMGetOperand(call, 0) == v ? written : escapes;
        return taint(w, slot) ? NULL : no_memory;
    }
    return escapes;
}

/* Store of value `val` to `ptr`, one of which is tainted: both must stay in fn's stack. */
static const char *store_use(walk *w, LLVMValueRef store, LLVMValueRef v)
{
    LLVMValueRef val = LLVMGetOperand(store, 0), ptr = LLVMGetOperand(store, 1);
    LLVMValueRef slot = local_slot(w, ptr);
    if (!slot)
        return val == v ? escapes : written;
    return taint(w, slot) ? NULL : no_memory;
}

/* What an instruction of fn that uses tainted v does with it. */
static const char *instruction_use(walk *w, LLVMValueRef inst, LLVMValueRef v)
{
    switch (LLVMGetInstructionOpcode(inst)) {
    case LLVMIndirectBr:
    case LLVMICmp: return NULL;
    case LLVMStore: return store_use(w, inst, v);
    case LLVMCall: return call_use(w, inst, v);
    case LLVMLoad:
    case LLVMGetElementPtr:
    case LLVMTrunc:
    case LLVMZExt:
    case LLVMSExt:
    case LLVMPtrToInt:
    case LLVMIntToPtr:
    case LLVMBitCast:
    case LLVMAddrSpaceCast:
    case LLVMAdd:
    case LLVMSub:
    case LLVMMul:
    case LLVMShl:
    case LLVMLShr:
    case LLVMAShr:
    case LLVMAnd:
    case LLVMOr:
    case LLVMXor:
    case LLVMUDiv:
    case LLVMSDiv:
    case LLVMURem:
    case LLVMSRem:
    case LLVMPHI:
    case LLVMSelect:
    case LLVMFreeze:
    case LLVMExtractValue:
    case LLVMInsertValue:
    case LLVMExtractElement:
    case LLVMInsertElement:
    case LLVMShuffleVector: return taint(w, inst) ? NULL : no_memory;
    default: return escapes;
    }
}

/* A global holding a label (in its initializer) may be copied with fn when nothing outside
 * this module can name it; whether only fn uses it is checked by following its uses. */
static const char *table_use(walk *w, LLVMValueRef g)
{
    LLVMLinkage link = LLVMGetLinkage(g);
    if ((link != LLVMInternalLinkage && link != LLVMPrivateLinkage) ||
        LLVMIsExternallyInitialized(g))
        return escapes;
    if (mewe__ptrmap_get(&w->seen, g))
        return NULL;
    if (w->out && !push_table(w->out, g))
        return no_memory;
    return taint(w, g) ? NULL : no_memory;
}

static const char *use_of(walk *w, LLVMValueRef v, LLVMValueRef user)
{
    if (LLVMIsAGlobalVariable(user))
        return table_use(w, user);
    if (LLVMIsAInstruction(user))
        return in_fn(w, user) ? instruction_use(w, user, v) : escapes;
    if (LLVMIsAConstant(user) && !LLVMIsAGlobalValue(user)) {
        if (!mewe__labels_rebuildable(user))
            return uncopyable;
        return taint(w, user) ? NULL : no_memory;
    }
    return escapes; /* an alias, an ifunc */
}

const char *mewe__labels_check(LLVMValueRef fn, mewe__labels *out)
{
    if (!mewe__labels_taken(fn))
        return NULL;
    walk w = {.fn = fn, .out = out};
    const char *why = mewe__ptrmap_init(&w.seen, 64) == 0 ? NULL : no_memory;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); !why && bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); !why && u;
             u = LLVMGetNextUse(u)) {
            LLVMValueRef ba = LLVMGetUser(u);
            if (LLVMGetValueKind(ba) == LLVMBlockAddressValueKind && !taint(&w, ba))
                why = no_memory;
        }
    }
    while (!why && w.n > 0) {
        LLVMValueRef v = w.todo[--w.n];
        for (LLVMUseRef u = LLVMGetFirstUse(v); !why && u; u = LLVMGetNextUse(u))
            why = use_of(&w, v, LLVMGetUser(u));
    }
    free(w.todo);
    mewe__ptrmap_fini(&w.seen);
    return why;
}

void mewe__labels_fini(mewe__labels *l)
{
    free(l->tables);
    memset(l, 0, sizeof *l);
}

/* ---- deleting ------------------------------------------------------------ */

/* Whether anything but constants that are themselves unused refers to v. LLVM keeps dead
 * constant expressions around (only C++ can drop them), still naming what they use. */
static bool live(LLVMValueRef v)
{
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsAConstant(user) || LLVMIsAGlobalValue(user) || live(user))
            return true;
    }
    return false;
}

/* Deletes the tables nothing uses any more, last found first (a table found later may be
 * the one that named an earlier one). */
void mewe__labels_delete_dead(mewe__labels *l)
{
    for (size_t i = l->count; i-- > 0;) {
        LLVMValueRef g = l->tables[i];
        if (live(g))
            continue;
        /* Dead constants that still name g would be left pointing at freed memory. */
        LLVMReplaceAllUsesWith(g, LLVMGetPoison(LLVMTypeOf(g)));
        LLVMDeleteGlobal(g);
    }
}

void mewe__function_delete(LLVMValueRef fn)
{
    mewe__labels l = {0};
    if (mewe__labels_taken(fn))
        mewe__labels_check(fn, &l); /* the tables found before any reason to stop are enough */
    LLVMDeleteFunction(fn);
    mewe__labels_delete_dead(&l);
    mewe__labels_fini(&l);
}

void mewe__function_delete_body(LLVMValueRef fn)
{
    mewe__labels l = {0};
    if (mewe__labels_taken(fn))
        mewe__labels_check(fn, &l);
    /* The body moves into a function that is then deleted: LLVM drops every reference first,
     * then deletes each block with its debug records (erasing instructions one by one would
     * leave the records of the last as the block's "trailing" records, in a map keyed by the
     * block's address, for a later block at that address to inherit), and replaces the
     * addresses taken of a block by a dummy constant. A block moved to another function
     * keeps naming fn in its block addresses, which is harmless for the instant before its
     * deletion. */
    LLVMModuleRef m = LLVMGetGlobalParent(fn);
    LLVMValueRef tmp = LLVMAddFunction(m, "mewe.body.tmp", LLVMGlobalGetValueType(fn));
    LLVMBasicBlockRef anchor =
        LLVMAppendBasicBlockInContext(LLVMGetModuleContext(m), tmp, "mewe.anchor");
    LLVMBasicBlockRef pos = anchor;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb;) {
        LLVMBasicBlockRef next = LLVMGetNextBasicBlock(bb);
        LLVMMoveBasicBlockAfter(bb, pos);
        pos = bb;
        bb = next;
    }
    LLVMDeleteFunction(tmp);
    mewe__labels_delete_dead(&l);
    mewe__labels_fini(&l);
}
