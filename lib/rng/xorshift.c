/* The fast, non-cryptographic generator (`gen=xorshift`): xorshift64*, whose 64-bit state
 * anyone who sees a few outputs can recover. Kept for its speed and for the streams it gave
 * before ChaCha became the default: the same seed gives the same draws as then. */
#include <stdio.h>

#include "common.h"

static LLVMValueRef k64(LLVMTypeRef i64, uint64_t v)
{
    return LLVMConstInt(i64, v, 0);
}

/* state' = xorshift64*(state); stored back; returns 48 fresh bits with the marker above. */
static LLVMValueRef step(LLVMBuilderRef b, LLVMValueRef state_global, LLVMValueRef s)
{
    LLVMTypeRef i64 = LLVMTypeOf(s);
    s = LLVMBuildXor(b, s, LLVMBuildLShr(b, s, k64(i64, 12), ""), "");
    s = LLVMBuildXor(b, s, LLVMBuildShl(b, s, k64(i64, 25), ""), "");
    s = LLVMBuildXor(b, s, LLVMBuildLShr(b, s, k64(i64, 27), ""), "");
    LLVMBuildStore(b, s, state_global);
    /* The high bits of the xorshift64* output are the good ones. */
    LLVMValueRef x = LLVMBuildMul(b, s, k64(i64, 0x2545F4914F6CDD1Dull), "");
    return LLVMBuildOr(b, LLVMBuildLShr(b, x, k64(i64, 16), ""), k64(i64, 1ull << 48), "");
}

/* Loads the state, calling `seed` first when it is still 0 (seeded lazily). */
static LLVMValueRef load_state(LLVMBuilderRef b, LLVMValueRef f, LLVMValueRef state,
                               LLVMValueRef seed)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(f));
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef s = LLVMBuildLoad2(b, i64, state, "");
    LLVMValueRef unseeded = LLVMBuildICmp(b, LLVMIntEQ, s, k64(i64, 0), "");
    return mewe__rng_call_if(b, f, unseeded, s, seed, "mewe.seed", "mewe.seeded");
}

LLVMValueRef mewe__rng_xorshift_refill(LLVMModuleRef m, const char *prefix, LLVMValueRef seed)
{
    char name[256];
    snprintf(name, sizeof name, "%s.state.refill", prefix);
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef f;
    LLVMBuilderRef b = mewe__rng_helper(&f, m, name, LLVMFunctionType(i64, NULL, 0, 0), false);
    if (!b)
        return f;
    snprintf(name, sizeof name, "%s.state", prefix);
    LLVMValueRef state = mewe__rng_global(m, name);
    LLVMBuildRet(b, step(b, state, load_state(b, f, state, seed)));
    LLVMDisposeBuilder(b);
    return f;
}
