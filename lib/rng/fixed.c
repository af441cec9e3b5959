/* Built-in RNG strategy `fixed`: the in-module generator seeded with a build-time value, so
 * that a run's choices, and its trace, are reproducible. */
#include <errno.h>
#include <stdlib.h>

#include "../builtins.h"
#include "common.h"

#define STATE "mewe.rng.fixed.state"
#define POOL "mewe.rng.fixed.pool"

static int seed_value(mewe_hook *hook, uint64_t *out)
{
    const char *text = mewe_hook_param(hook, "seed");
    if (!text) {
        /* Derived from the build seed through the hook's deterministic stream. */
        *out = mewe_hook_random(hook);
        return MEWE_OK;
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
    LLVMValueRef state = mewe__rng_global(m, STATE, seed ? seed : 1);
    LLVMValueRef pool = mewe__rng_global(m, POOL, 0);
    *out = mewe__rng_draw(b, dispatcher, state, pool, NULL, n);
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
