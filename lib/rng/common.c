/* Shared IR of the in-module generators. */
#include <string.h>

#include "common.h"

LLVMValueRef mewe__rng_state(LLVMModuleRef m, const char *name, uint64_t init)
{
    LLVMValueRef g = LLVMGetNamedGlobal(m, name);
    if (g)
        return g;
    LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(m));
    g = LLVMAddGlobal(m, i64, name);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, LLVMConstInt(i64, init, 0));
    LLVMSetAlignment(g, 8);
    return g;
}

LLVMValueRef mewe__rng_step(LLVMBuilderRef b, LLVMValueRef state_global, LLVMValueRef s,
                            LLVMValueRef n)
{
    LLVMTypeRef i64 = LLVMTypeOf(s);
    LLVMTypeRef i32 = LLVMTypeOf(n);
    s = LLVMBuildXor(b, s, LLVMBuildLShr(b, s, LLVMConstInt(i64, 12, 0), ""), "");
    s = LLVMBuildXor(b, s, LLVMBuildShl(b, s, LLVMConstInt(i64, 25, 0), ""), "");
    s = LLVMBuildXor(b, s, LLVMBuildLShr(b, s, LLVMConstInt(i64, 27, 0), ""), "");
    LLVMBuildStore(b, s, state_global);
    LLVMValueRef x = LLVMBuildMul(b, s, LLVMConstInt(i64, 0x2545F4914F6CDD1Dull, 0), "");
    LLVMValueRef hi = LLVMBuildLShr(b, x, LLVMConstInt(i64, 32, 0), "");
    LLVMValueRef scaled = LLVMBuildMul(b, hi, LLVMBuildZExt(b, n, i64, ""), "");
    return LLVMBuildTrunc(b, LLVMBuildLShr(b, scaled, LLVMConstInt(i64, 32, 0), ""), i32,
                          "mewe.index");
}

static void add_string_attr(LLVMValueRef fn, const char *key, const char *value)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(c, key, (unsigned)strlen(key), value,
                                                      (unsigned)strlen(value)));
}

LLVMValueRef mewe__wasm_import(LLVMModuleRef m, const char *name, LLVMTypeRef fn_type,
                               const char *module, const char *field)
{
    LLVMValueRef f = LLVMGetNamedFunction(m, name);
    if (f)
        return f;
    f = LLVMAddFunction(m, name, fn_type);
    add_string_attr(f, "wasm-import-module", module);
    add_string_attr(f, "wasm-import-name", field);
    return f;
}
