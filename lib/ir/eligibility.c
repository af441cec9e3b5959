/* Reasons a function must be left alone, and the one instruction count. */
#include <string.h>

#include "ir/eligibility.h"
#include "ir/fnshape.h"
#include "ir/labels.h"

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
    case LLVMCall: return call_reason(inst);
    default: return NULL;
    }
}

/* Computed goto (indirectbr, blockaddress) is fine as long as the blocks' addresses stay
 * inside an invocation: a copy then gets addresses and label tables of its own (labels.h). */
static const char *body_reason(LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            const char *why = inst_reason(i);
            if (why)
                return why;
        }
    }
    return mewe__labels_check(fn, NULL);
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
    if (LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, MEWE__ATTR_UNLINKED,
                                      sizeof MEWE__ATTR_UNLINKED - 1))
        return "dropped by the link"; /* mewe_module_exclude_unlinked */
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
