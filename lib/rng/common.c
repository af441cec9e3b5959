/* Shared IR of the in-module generators: globals, helpers and the inline draw. */
#include <string.h>

#include "common.h"
#include "ir/irutil.h"

#define CHUNK_BITS 16

LLVMValueRef mewe__rng_global_of(LLVMModuleRef m, const char *name, LLVMTypeRef type)
{
    LLVMValueRef g = LLVMGetNamedGlobal(m, name);
    if (g)
        return g;
    /* Address space 1 makes it a wasm global (global.get/global.set) instead of a slot in
     * linear memory: the engine keeps it out of memory, off the dispatch's critical path, and
     * out of reach of the program's own memory bugs. */
    g = LLVMAddGlobalInAddressSpace(m, type, name, 1);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, LLVMConstInt(type, 0, 0));
    return g;
}

LLVMValueRef mewe__rng_global(LLVMModuleRef m, const char *name)
{
    return mewe__rng_global_of(m, name, LLVMInt64TypeInContext(LLVMGetModuleContext(m)));
}

static LLVMValueRef k64(LLVMTypeRef i64, uint64_t v)
{
    return LLVMConstInt(i64, v, 0);
}

LLVMBuilderRef mewe__rng_helper(LLVMValueRef *out, LLVMModuleRef m, const char *name,
                                LLVMTypeRef fn_type, bool cold)
{
    *out = LLVMGetNamedFunction(m, name);
    if (*out)
        return NULL;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMValueRef f = LLVMAddFunction(m, name, fn_type);
    *out = f;
    LLVMSetLinkage(f, LLVMInternalLinkage);
    const char *attrs[] = {"noinline", cold ? "cold" : NULL};
    for (size_t i = 0; i < 2 && attrs[i]; i++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
        LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c, kind, 0));
    }
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
    return b;
}

LLVMValueRef mewe__rng_random_get(LLVMModuleRef m)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
    LLVMTypeRef args[] = {LLVMPointerTypeInContext(c, 0), i32};
    return mewe__wasm_import(m, "mewe.rng.random_get", LLVMFunctionType(i32, args, 2, 0),
                             "wasi_snapshot_preview1", "random_get");
}

int mewe__rng_gen_param(mewe__rng_gen *out, mewe_hook *hook)
{
    const char *gen = mewe_hook_param(hook, "gen");
    if (!gen || strcmp(gen, "chacha") == 0)
        *out = MEWE__RNG_CHACHA;
    else if (strcmp(gen, "xorshift") == 0)
        *out = MEWE__RNG_XORSHIFT;
    else {
        mewe_hook_set_error(hook, "parameter gen must be chacha or xorshift");
        return MEWE_EINVAL;
    }
    return MEWE_OK;
}

/* Bits taken per draw: log2(n) when n is a power of two (then the index is exactly uniform
 * and a refill of b bits lasts b / log2(n) draws), else 16 for the multiply-shift mapping. */
static unsigned bits_per_draw(LLVMValueRef n)
{
    unsigned long long v = LLVMIsAConstantInt(n) ? LLVMConstIntGetZExtValue(n) : 0;
    if (v >= 2 && v <= (1u << CHUNK_BITS) && (v & (v - 1)) == 0) {
        unsigned k = 0;
        while ((1ull << k) < v)
            k++;
        return k;
    }
    return CHUNK_BITS;
}

/* The refill is out of line: it runs once every 63 / k draws (48 / k with xorshift), and
 * keeping it out of the dispatch sites keeps them small (engines inline small functions, and
 * a variant with the refill inlined at each of its call sites is no longer small). */
LLVMValueRef mewe__rng_call_if(LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef cond,
                               LLVMValueRef value, LLVMValueRef callee, const char *call_block,
                               const char *join_block)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef calling = LLVMAppendBasicBlockInContext(c, fn, call_block);
    LLVMBasicBlockRef joined = LLVMAppendBasicBlockInContext(c, fn, join_block);
    LLVMBuildCondBr(b, cond, calling, joined);
    LLVMPositionBuilderAtEnd(b, calling);
    LLVMValueRef fresh = LLVMBuildCall2(b, LLVMGlobalGetValueType(callee), callee, NULL, 0, "");
    LLVMBuildBr(b, joined);
    LLVMPositionBuilderAtEnd(b, joined);
    LLVMValueRef phi = LLVMBuildPhi(b, LLVMTypeOf(value), "");
    LLVMValueRef vals[] = {value, fresh};
    LLVMBasicBlockRef from[] = {here, calling};
    LLVMAddIncoming(phi, vals, from, 2);
    return phi;
}

LLVMValueRef mewe__rng_draw(LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef pool,
                            LLVMValueRef refill_fn, LLVMValueRef n)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    unsigned k = bits_per_draw(n);
    LLVMValueRef p = LLVMBuildLoad2(b, i64, pool, "");
    /* Fewer than k bits above the marker (or nothing at all, at start). */
    LLVMValueRef empty = LLVMBuildICmp(b, LLVMIntULT, p, k64(i64, 1ull << k), "");
    LLVMValueRef bits = mewe__rng_call_if(b, fn, empty, p, refill_fn, "mewe.refill", "mewe.draw");
    LLVMValueRef chunk = LLVMBuildAnd(b, bits, k64(i64, (1ull << k) - 1), "");
    LLVMBuildStore(b, LLVMBuildLShr(b, bits, k64(i64, k), ""), pool);
    if (k != CHUNK_BITS)
        return LLVMBuildTrunc(b, chunk, LLVMTypeOf(n), "mewe.index");
    LLVMValueRef scaled = LLVMBuildMul(b, chunk, LLVMBuildZExt(b, n, i64, ""), "");
    return LLVMBuildTrunc(b, LLVMBuildLShr(b, scaled, k64(i64, CHUNK_BITS), ""), LLVMTypeOf(n),
                          "mewe.index");
}

LLVMValueRef mewe__wasm_import(LLVMModuleRef m, const char *name, LLVMTypeRef fn_type,
                               const char *module, const char *field)
{
    LLVMValueRef f = LLVMGetNamedFunction(m, name);
    if (f)
        return f;
    f = LLVMAddFunction(m, name, fn_type);
    mewe__fn_string_attr_set(f, "wasm-import-module", module);
    mewe__fn_string_attr_set(f, "wasm-import-name", field);
    return f;
}
