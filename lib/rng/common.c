/* Shared IR of the in-module generators. */
#include <string.h>

#include "common.h"

#define CHUNK_BITS 16
#define MARKER ((uint64_t)1 << 48) /* above three 16-bit chunks */

LLVMValueRef mewe__rng_global(LLVMModuleRef m, const char *name, uint64_t init)
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

static LLVMValueRef k64(LLVMTypeRef i64, uint64_t v)
{
    return LLVMConstInt(i64, v, 0);
}

/* state' = xorshift64*(state); stored back; returns 48 fresh bits with the marker above. */
static LLVMValueRef refill(LLVMBuilderRef b, LLVMValueRef state_global, LLVMValueRef s)
{
    LLVMTypeRef i64 = LLVMTypeOf(s);
    s = LLVMBuildXor(b, s, LLVMBuildLShr(b, s, k64(i64, 12), ""), "");
    s = LLVMBuildXor(b, s, LLVMBuildShl(b, s, k64(i64, 25), ""), "");
    s = LLVMBuildXor(b, s, LLVMBuildLShr(b, s, k64(i64, 27), ""), "");
    LLVMBuildStore(b, s, state_global);
    /* The high bits of the xorshift64* output are the good ones. */
    LLVMValueRef x = LLVMBuildMul(b, s, k64(i64, 0x2545F4914F6CDD1Dull), "");
    return LLVMBuildOr(b, LLVMBuildLShr(b, x, k64(i64, 16), ""), k64(i64, MARKER), "");
}

/* Loads the state, calling `seed` first when it is still 0 (wasi: seeded lazily). */
static LLVMValueRef load_state(LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef state,
                               LLVMValueRef seed)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(dispatcher));
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef s = LLVMBuildLoad2(b, i64, state, "");
    if (!seed)
        return s;
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef seeding = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.seed");
    LLVMBasicBlockRef seeded = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.seeded");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, s, k64(i64, 0), ""), seeding, seeded);
    LLVMPositionBuilderAtEnd(b, seeding);
    LLVMValueRef fresh = LLVMBuildCall2(b, LLVMFunctionType(i64, NULL, 0, 0), seed, NULL, 0, "");
    LLVMBuildBr(b, seeded);
    LLVMPositionBuilderAtEnd(b, seeded);
    LLVMValueRef phi = LLVMBuildPhi(b, i64, "");
    LLVMValueRef vals[] = {s, fresh};
    LLVMBasicBlockRef from[] = {here, seeding};
    LLVMAddIncoming(phi, vals, from, 2);
    return phi;
}

LLVMValueRef mewe__rng_draw(LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef state,
                            LLVMValueRef pool, LLVMValueRef seed, LLVMValueRef n)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(dispatcher));
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef p = LLVMBuildLoad2(b, i64, pool, "");
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef filling = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.refill");
    LLVMBasicBlockRef ready = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.draw");
    /* Only the marker (or nothing, at start) left: fewer than 16 bits. */
    LLVMValueRef empty = LLVMBuildICmp(b, LLVMIntULT, p, k64(i64, 1u << CHUNK_BITS), "");
    LLVMBuildCondBr(b, empty, filling, ready);
    LLVMPositionBuilderAtEnd(b, filling);
    LLVMValueRef fresh = refill(b, state, load_state(b, dispatcher, state, seed));
    LLVMBasicBlockRef filled = LLVMGetInsertBlock(b);
    LLVMBuildBr(b, ready);
    LLVMPositionBuilderAtEnd(b, ready);
    LLVMValueRef bits = LLVMBuildPhi(b, i64, "");
    LLVMValueRef vals[] = {p, fresh};
    LLVMBasicBlockRef from[] = {here, filled};
    LLVMAddIncoming(bits, vals, from, 2);
    LLVMValueRef chunk = LLVMBuildAnd(b, bits, k64(i64, (1u << CHUNK_BITS) - 1), "");
    LLVMBuildStore(b, LLVMBuildLShr(b, bits, k64(i64, CHUNK_BITS), ""), pool);
    LLVMValueRef scaled = LLVMBuildMul(b, chunk, LLVMBuildZExt(b, n, i64, ""), "");
    return LLVMBuildTrunc(b, LLVMBuildLShr(b, scaled, k64(i64, CHUNK_BITS), ""), LLVMTypeOf(n),
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
