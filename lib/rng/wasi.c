/* Built-in RNG strategy `wasi` (the default): an in-module xorshift64* generator, seeded on
 * the first dispatch of an instance from wasi_snapshot_preview1.random_get. Each dispatch
 * takes 16 bits from a pool refilled every third draw (see common.h); no host call. */
#include "../builtins.h"
#include "common.h"

#define STATE "mewe.rng.wasi.state"
#define POOL "mewe.rng.wasi.pool"
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
    LLVMValueRef state = mewe__rng_global(m, STATE);
    LLVMValueRef pool = mewe__rng_global(m, POOL);
    *out = mewe__rng_draw(b, dispatcher, state, pool, seed_function(m), n);
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
