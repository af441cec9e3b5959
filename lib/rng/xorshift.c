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
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef seeding = LLVMAppendBasicBlockInContext(c, f, "mewe.seed");
    LLVMBasicBlockRef seeded = LLVMAppendBasicBlockInContext(c, f, "mewe.seeded");
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

LLVMValueRef mewe__rng_xorshift_refill(LLVMModuleRef m, const char *prefix, LLVMValueRef seed)
{
    char name[256];
    snprintf(name, sizeof name, "%s.state.refill", prefix);
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef f = mewe__rng_helper(m, name, LLVMFunctionType(i64, NULL, 0, 0), 0);
    if (!f)
        return LLVMGetNamedFunction(m, name);
    snprintf(name, sizeof name, "%s.state", prefix);
    LLVMValueRef state = mewe__rng_global(m, name);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMGetEntryBasicBlock(f));
    LLVMBuildRet(b, step(b, state, load_state(b, f, state, seed)));
    LLVMDisposeBuilder(b);
    return f;
}
