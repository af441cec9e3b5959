/* IR surgery that LLVM-C lacks: splitting a block (with the successors' phis fixed), copying
 * a module that takes block addresses. */
#include <stddef.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>

#include <string.h>

#include "ir/irutil.h"

/* The C API cannot retarget a phi's incoming block, so a phi that names `from` is rebuilt
 * with `to` in its place. */
static void retarget_phi(LLVMBuilderRef b, LLVMValueRef phi, LLVMBasicBlockRef from,
                         LLVMBasicBlockRef to)
{
    unsigned n = LLVMCountIncoming(phi);
    bool names_from = false;
    for (unsigned i = 0; i < n; i++)
        names_from |= LLVMGetIncomingBlock(phi, i) == from;
    if (!names_from)
        return;
    LLVMPositionBuilderBefore(b, phi);
    LLVMValueRef fresh = LLVMBuildPhi(b, LLVMTypeOf(phi), "");
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef v = LLVMGetIncomingValue(phi, i);
        LLVMBasicBlockRef bb = LLVMGetIncomingBlock(phi, i);
        if (bb == from)
            bb = to;
        LLVMAddIncoming(fresh, &v, &bb, 1);
    }
    size_t len;
    const char *name = LLVMGetValueName2(phi, &len);
    LLVMReplaceAllUsesWith(phi, fresh);
    LLVMSetValueName2(fresh, name, len);
    LLVMInstructionEraseFromParent(phi);
}

static void retarget_successor_phis(LLVMBuilderRef b, LLVMValueRef term, LLVMBasicBlockRef from,
                                    LLVMBasicBlockRef to)
{
    unsigned n = LLVMGetNumSuccessors(term);
    for (unsigned s = 0; s < n; s++) {
        LLVMBasicBlockRef succ = LLVMGetSuccessor(term, s);
        /* A successor listed twice (switch cases) is handled at its first visit. */
        LLVMValueRef i = LLVMGetFirstInstruction(succ);
        while (i && LLVMIsAPHINode(i)) {
            LLVMValueRef next = LLVMGetNextInstruction(i);
            retarget_phi(b, i, from, to);
            i = next;
        }
    }
}

LLVMBasicBlockRef mewe__block_split(LLVMBuilderRef b, LLVMBasicBlockRef bb, LLVMValueRef at)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(at));
    LLVMBasicBlockRef tail = LLVMInsertBasicBlockInContext(c, bb, "");
    LLVMMoveBasicBlockAfter(tail, bb);
    LLVMPositionBuilderAtEnd(b, tail);
    for (LLVMValueRef i = at; i;) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        LLVMInstructionRemoveFromParent(i);
        LLVMInsertIntoBuilder(b, i);
        i = next;
    }
    LLVMPositionBuilderAtEnd(b, bb);
    LLVMBuildBr(b, tail);
    retarget_successor_phis(b, LLVMGetBasicBlockTerminator(tail), bb, tail);
    return tail;
}

/* Whether some block of `m` has its address taken: a BlockAddress constant uses the block. */
static bool takes_block_address(LLVMModuleRef m)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u;
                 u = LLVMGetNextUse(u)) {
                if (LLVMGetValueKind(LLVMGetUser(u)) == LLVMBlockAddressValueKind)
                    return true;
            }
        }
    }
    return false;
}

LLVMModuleRef mewe__module_clone(LLVMModuleRef m)
{
    if (!takes_block_address(m))
        return LLVMCloneModule(m);
    LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(m);
    if (!bc)
        return NULL;
    LLVMModuleRef copy = NULL;
    if (LLVMParseBitcodeInContext2(LLVMGetModuleContext(m), bc, &copy))
        copy = NULL;
    LLVMDisposeMemoryBuffer(bc);
    return copy;
}

void mewe__fn_string_attr_set(LLVMValueRef fn, const char *key, const char *value)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMAddAttributeAtIndex(
        fn, LLVMAttributeFunctionIndex,
        LLVMCreateStringAttribute(c, key, (unsigned)strlen(key), value, (unsigned)strlen(value)));
}

const char *mewe__fn_string_attr_get(LLVMValueRef fn, const char *key, unsigned *len)
{
    LLVMAttributeRef a = fn ? LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, key,
                                                            (unsigned)strlen(key))
                            : NULL;
    *len = 0;
    return a ? LLVMGetStringAttributeValue(a, len) : NULL;
}

void mewe__fn_enum_attr_set(LLVMValueRef fn, const char *name, bool on)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
    if (on) {
        LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(c, kind, 0));
    }
}
