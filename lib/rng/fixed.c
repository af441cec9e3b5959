/* Built-in RNG strategy `fixed`: the in-module generator seeded with a build-time value, so
 * that a run's choices, and its trace, are reproducible. */
#include <errno.h>
#include <stdlib.h>

#include "../builtins.h"
#include "common.h"

#define STATE "mewe.rng.fixed.state"
#define POOL "mewe.rng.fixed.pool"
#define SEED_FN "mewe.rng.fixed.seed"

static int seed_value(mewe_hook *hook, uint64_t *out)
{
    const char *text = mewe_hook_param(hook, "seed");
    if (!text) {
        /* The context's build seed: the same for every dispatcher of the module. */
        return mewe_context_get_seed(out, mewe_hook_context(hook));
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (end == text || *end || errno || text[0] == '-') {
        mewe_hook_set_error(hook, "parameter seed must be an unsigned 64-bit integer");
        return MEWE_EINVAL;
    }
    *out = v;
    return MEWE_OK;
}

/* define internal i64 @seed() { ret i64 SEED }: the state starts at 0 like every wasm global
 * that LLVM's backend emits, and takes the build-time value on the first refill. */
static LLVMValueRef seed_function(LLVMModuleRef m, uint64_t seed)
{
    LLVMValueRef f = LLVMGetNamedFunction(m, SEED_FN);
    if (f)
        return f;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    f = LLVMAddFunction(m, SEED_FN, LLVMFunctionType(i64, NULL, 0, 0));
    LLVMSetLinkage(f, LLVMInternalLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
    LLVMBuildRet(b, LLVMConstInt(i64, seed, 0));
    LLVMDisposeBuilder(b);
    return f;
}

static int build(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef n,
                 LLVMValueRef *out, void *user_data)
{
    (void)user_data;
    LLVMModuleRef m = LLVMGetGlobalParent(dispatcher);
    uint64_t seed;
    int rc = seed_value(hook, &seed);
    if (rc != MEWE_OK)
        return rc;
    /* xorshift never leaves 0; scramble so that small seeds give unrelated streams. */
    seed = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    LLVMValueRef state = mewe__rng_global(m, STATE);
    LLVMValueRef pool = mewe__rng_global(m, POOL);
    *out = mewe__rng_draw(b, dispatcher, state, pool, seed_function(m, seed ? seed : 1), n);
    return MEWE_OK;
}

int mewe__register_rng_fixed(mewe_context *ctx)
{
    static const char *const params[] = {"seed", NULL};
    mewe_rng_strategy s = {
        .version = MEWE_RNG_STRATEGY_VERSION,
        .name = "fixed",
        .description = "in-module xorshift64* seeded at build time (seed=N), reproducible",
        .param_names = params,
        .build = build,
    };
    return mewe_rng_strategy_register(ctx, &s);
}
