/* Built-in RNG strategy `wasi` (the default): an in-module generator seeded on the first
 * dispatch of an instance from wasi_snapshot_preview1.random_get; no host call after that.
 * Each dispatch takes a few bits from a pool (see common.h), refilled out of line from
 * ChaCha8 (gen=chacha, the default; see chacha.c) or xorshift64* (gen=xorshift). */
#include "registry.h"
#include "common.h"

#define PREFIX           "mewe.rng.wasi"
#define POOL             PREFIX ".pool"
#define XORSHIFT_SEED_FN PREFIX ".seed"

/* define internal i64 @seed(): random_get(&buf, 8); return buf | 1 (never 0, the "unseeded"
 * mark). Kept out of line and cold: it runs once per instance. */
static LLVMValueRef xorshift_seed(LLVMModuleRef m)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c), i32 = LLVMInt32TypeInContext(c);
    LLVMValueRef f;
    LLVMBuilderRef b =
        mewe__rng_helper(&f, m, XORSHIFT_SEED_FN, LLVMFunctionType(i64, NULL, 0, 0), true);
    if (!b)
        return f;
    LLVMValueRef random_get = mewe__rng_random_get(m);
    LLVMValueRef buf = LLVMBuildAlloca(b, i64, "buf");
    LLVMBuildStore(b, LLVMConstInt(i64, 0x9E3779B97F4A7C15ull, 0), buf);
    LLVMValueRef args[] = {buf, LLVMConstInt(i32, 8, 0)};
    LLVMBuildCall2(b, LLVMGlobalGetValueType(random_get), random_get, args, 2, "");
    LLVMValueRef v = LLVMBuildLoad2(b, i64, buf, "");
    LLVMBuildRet(b, LLVMBuildOr(b, v, LLVMConstInt(i64, 1, 0), ""));
    LLVMDisposeBuilder(b);
    return f;
}

static int build(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef n,
                 LLVMValueRef *out, void *user_data)
{
    (void)user_data;
    mewe__rng_gen gen;
    int rc = mewe__rng_gen_param(&gen, hook);
    if (rc != MEWE_OK)
        return rc;
    LLVMModuleRef m = LLVMGetGlobalParent(dispatcher);
    LLVMValueRef refill =
        gen == MEWE__RNG_XORSHIFT
            ? mewe__rng_xorshift_refill(m, PREFIX, xorshift_seed(m))
            : mewe__rng_chacha_refill(m, PREFIX ".chacha", NULL, MEWE__CHACHA_ROUNDS);
    *out = mewe__rng_draw(b, dispatcher, mewe__rng_global(m, POOL), refill, n);
    return MEWE_OK;
}

int mewe__register_rng_wasi(mewe_context *ctx)
{
    return mewe__builtin_rng(ctx, "wasi", (const char *const[]){"gen", NULL}, build,
                             "in-module ChaCha8 seeded once from WASI random_get (default; "
                             "gen=xorshift: xorshift64*, faster, predictable)");
}
