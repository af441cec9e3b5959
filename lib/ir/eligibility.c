/* Reasons a function must be left alone, and the one instruction count. */
#include <string.h>

#include "ir/eligibility.h"
#include "ir/fnshape.h"

static bool fn_has_attr(LLVMValueRef fn, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    return kind != 0 && LLVMGetEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind) != NULL;
}

static bool call_has_attr(LLVMValueRef call, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    if (kind == 0)
        return false;
    if (LLVMGetCallSiteEnumAttribute(call, LLVMAttributeFunctionIndex, kind))
        return true;
    LLVMValueRef callee = LLVMGetCalledValue(call);
    return callee && LLVMIsAFunction(callee) && fn_has_attr(callee, name);
}

static const char *call_reason(LLVMValueRef call)
{
    LLVMValueRef callee = LLVMGetCalledValue(call);
    if (callee && LLVMIsAInlineAsm(callee))
        return "inline asm";
    if (call_has_attr(call, "returns_twice"))
        return "returns_twice call";
    if (LLVMGetTailCallKind(call) == LLVMTailCallKindMustTail)
        return "musttail call";
    return NULL;
}

static const char *inst_reason(LLVMValueRef inst)
{
    switch (LLVMGetInstructionOpcode(inst)) {
    case LLVMInvoke:
    case LLVMLandingPad:
    case LLVMResume:
    case LLVMCatchSwitch:
    case LLVMCatchPad:
    case LLVMCleanupPad:
    case LLVMCatchRet:
    case LLVMCleanupRet:
    case LLVMCallBr: return "exception handling";
    case LLVMIndirectBr: return "indirectbr or blockaddress";
    case LLVMCall: return call_reason(inst);
    default: return NULL;
    }
}

/* A block used by anything but an instruction is used by a blockaddress
 * constant: its address escapes, and a copy would have different blocks. */
static bool block_address_taken(LLVMBasicBlockRef bb)
{
    for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
        if (!LLVMIsAInstruction(LLVMGetUser(u)))
            return true;
    }
    return false;
}

static const char *body_reason(LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        if (block_address_taken(bb))
            return "indirectbr or blockaddress";
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            const char *why = inst_reason(i);
            if (why)
                return why;
        }
    }
    return NULL;
}

static bool is_intrinsic(LLVMValueRef fn)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(fn, &len);
    return LLVMGetIntrinsicID(fn) != 0 || (len >= 5 && memcmp(name, "llvm.", 5) == 0);
}

const char *mewe__function_ineligible_reason(LLVMValueRef fn)
{
    if (is_intrinsic(fn))
        return "intrinsic";
    if (LLVMIsDeclaration(fn))
        return "declaration";
    if (LLVMGetLinkage(fn) == LLVMAvailableExternallyLinkage)
        return "available_externally";
    if (fn_has_attr(fn, "naked"))
        return "naked";
    if (LLVMIsFunctionVarArg(LLVMGlobalGetValueType(fn)))
        return "variadic";
    return body_reason(fn);
}

unsigned mewe__function_instruction_count(LLVMValueRef fn)
{
    unsigned n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            n += !mewe__instruction_is_debug(i);
    }
    return n;
}

size_t mewe__module_instruction_count(LLVMModuleRef m)
{
    size_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        n += mewe__function_instruction_count(f);
    return n;
}
