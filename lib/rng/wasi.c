/* Built-in RNG strategy `wasi` (the default): an in-module xorshift64* generator, seeded on
 * the first dispatch of an instance from wasi_snapshot_preview1.random_get. Per dispatch it
 * costs a load, a few shifts and multiplies and a store; no host call. */
#include "../builtins.h"
#include "common.h"

#define STATE "mewe.rng.wasi.state"
#define SEED_FN "mewe.rng.wasi.seed"

/* define internal i64 @seed(): random_get(&buf, 8); return buf | 1 (never 0, the "unseeded"
 * mark). Kept out of line and cold: it runs once per instance. */
static LLVMValueRef seed_function(LLVMModuleRef m)
{
    LLVMValueRef f = LLVMGetNamedFunction(m, SEED_FN);
    if (f)
        return f;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c), i32 = LLVMInt32TypeInContext(c);
    LLVMTypeRef ptr = LLVMPointerTypeInContext(c, 0);
    LLVMTypeRef get_args[] = {ptr, i32};
    LLVMTypeRef get_ty = LLVMFunctionType(i32, get_args, 2, 0);
    LLVMValueRef random_get = mewe__wasm_import(m, "mewe.rng.wasi.random_get", get_ty,
                                                "wasi_snapshot_preview1", "random_get");
    f = LLVMAddFunction(m, SEED_FN, LLVMFunctionType(i64, NULL, 0, 0));
    LLVMSetLinkage(f, LLVMInternalLinkage);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    unsigned cold = LLVMGetEnumAttributeKindForName("cold", 4);
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c, noinline, 0));
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c, cold, 0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
    LLVMValueRef buf = LLVMBuildAlloca(b, i64, "buf");
    LLVMBuildStore(b, LLVMConstInt(i64, 0x9E3779B97F4A7C15ull, 0), buf);
    LLVMValueRef args[] = {buf, LLVMConstInt(i32, 8, 0)};
    LLVMBuildCall2(b, get_ty, random_get, args, 2, "");
    LLVMValueRef v = LLVMBuildLoad2(b, i64, buf, "");
    LLVMBuildRet(b, LLVMBuildOr(b, v, LLVMConstInt(i64, 1, 0), ""));
    LLVMDisposeBuilder(b);
    return f;
}

static int build(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef n,
                 LLVMValueRef *out, void *user_data)
{
    (void)hook;
    (void)user_data;
    LLVMModuleRef m = LLVMGetGlobalParent(dispatcher);
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef state = mewe__rng_state(m, STATE, 0);
    LLVMValueRef seed = seed_function(m);
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
    LLVMBasicBlockRef seeding = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.seed");
    LLVMBasicBlockRef step = LLVMAppendBasicBlockInContext(c, dispatcher, "mewe.step");
    LLVMValueRef s = LLVMBuildLoad2(b, i64, state, "");
    LLVMValueRef unseeded = LLVMBuildICmp(b, LLVMIntEQ, s, LLVMConstInt(i64, 0, 0), "");
    LLVMBuildCondBr(b, unseeded, seeding, step);
    LLVMPositionBuilderAtEnd(b, seeding);
    LLVMValueRef fresh = LLVMBuildCall2(b, LLVMFunctionType(i64, NULL, 0, 0), seed, NULL, 0, "");
    LLVMBuildBr(b, step);
    LLVMPositionBuilderAtEnd(b, step);
    LLVMValueRef phi = LLVMBuildPhi(b, i64, "");
    LLVMValueRef vals[] = {s, fresh};
    LLVMBasicBlockRef from[] = {here, seeding};
    LLVMAddIncoming(phi, vals, from, 2);
    *out = mewe__rng_step(b, state, phi, n);
    return MEWE_OK;
}

int mewe__register_rng_wasi(mewe_context *ctx)
{
    mewe_rng_strategy s = {
        .version = MEWE_RNG_STRATEGY_VERSION,
        .name = "wasi",
        .description = "in-module xorshift64* seeded once from WASI random_get (default)",
        .build = build,
    };
    return mewe_rng_strategy_register(ctx, &s);
}
