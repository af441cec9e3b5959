/* Shared IR of the in-module generators. */
#include <stdio.h>
#include <string.h>

#include "common.h"

#define CHUNK_BITS 16
#define MARKER ((uint64_t)1 << 48) /* above three 16-bit chunks */

LLVMValueRef mewe__rng_global(LLVMModuleRef m, const char *name)
{
    LLVMValueRef g = LLVMGetNamedGlobal(m, name);
    if (g)
        return g;
    LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(m));
    /* Address space 1 makes it a wasm global (global.get/global.set) instead of a slot in
     * linear memory: the engine keeps it out of memory, off the dispatch's critical path. */
    g = LLVMAddGlobalInAddressSpace(m, i64, name, 1);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, LLVMConstInt(i64, 0, 0));
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

/* Bits taken per draw: log2(n) when n is a power of two (then the index is exactly uniform
 * and a refill lasts 48 / log2(n) draws), else 16 for the multiply-shift mapping. */
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

/* The refill, out of line: it runs once every 48 / k draws, and keeping it out of the
 * dispatch sites keeps them small (engines inline small functions, and a variant with the
 * refill inlined at each of its call sites is no longer small). */
static LLVMValueRef refill_function(LLVMModuleRef m, LLVMValueRef state, LLVMValueRef seed)
{
    size_t len;
    const char *sname = LLVMGetValueName2(state, &len);
    char name[256];
    snprintf(name, sizeof name, "%.*s.refill", (int)len, sname);
    LLVMValueRef f = LLVMGetNamedFunction(m, name);
    if (f)
        return f;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    f = LLVMAddFunction(m, name, LLVMFunctionType(i64, NULL, 0, 0));
    LLVMSetLinkage(f, LLVMInternalLinkage);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c, noinline, 0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
    LLVMBuildRet(b, refill(b, state, load_state(b, f, state, seed)));
    LLVMDisposeBuilder(b);
    return f;
}

LLVMValueRef mewe__rng_draw(LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef state,
                            LLVMValueRef pool, LLVMValueRef seed, LLVMValueRef n)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(dispatcher));
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    unsigned k = bits_per_draw(n);
    LLVMValueRef refill_fn = refill_function(LLVMGetGlobalParent(dispatcher), state, seed);
    LLVMValueRef p = LLVMBuildLoad2(b, i64, pool, "");
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef filling = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.refill");
    LLVMBasicBlockRef ready = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.draw");
    /* Fewer than k bits above the marker (or nothing at all, at start). */
    LLVMValueRef empty = LLVMBuildICmp(b, LLVMIntULT, p, k64(i64, 1ull << k), "");
    LLVMBuildCondBr(b, empty, filling, ready);
    LLVMPositionBuilderAtEnd(b, filling);
    LLVMValueRef fresh = LLVMBuildCall2(b, LLVMGlobalGetValueType(refill_fn), refill_fn, NULL, 0,
                                        "");
    LLVMBuildBr(b, ready);
    LLVMPositionBuilderAtEnd(b, ready);
    LLVMValueRef bits = LLVMBuildPhi(b, i64, "");
    LLVMValueRef vals[] = {p, fresh};
    LLVMBasicBlockRef from[] = {here, filling};
    LLVMAddIncoming(bits, vals, from, 2);
    LLVMValueRef chunk = LLVMBuildAnd(b, bits, k64(i64, (1ull << k) - 1), "");
    LLVMBuildStore(b, LLVMBuildLShr(b, bits, k64(i64, k), ""), pool);
    if (k != CHUNK_BITS)
        return LLVMBuildTrunc(b, chunk, LLVMTypeOf(n), "mewe.index");
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
