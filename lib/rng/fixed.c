/* Built-in RNG strategy `fixed`: the in-module generator seeded with a build-time value, so
 * that a run's choices, and its trace, are reproducible. */
#include <errno.h>
#include <stdlib.h>

#include "registry.h"
#include "plugin.h"
#include "common.h"

#define PREFIX           "mewe.rng.fixed"
#define POOL             PREFIX ".pool"
#define XORSHIFT_SEED_FN PREFIX ".seed"

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
static LLVMValueRef xorshift_seed(LLVMModuleRef m, uint64_t seed)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef f;
    LLVMBuilderRef b =
        mewe__rng_helper(&f, m, XORSHIFT_SEED_FN, LLVMFunctionType(i64, NULL, 0, 0), true);
    if (!b)
        return f;
    LLVMBuildRet(b, LLVMConstInt(i64, seed, 0));
    LLVMDisposeBuilder(b);
    return f;
}

static LLVMValueRef xorshift_refill(LLVMModuleRef m, uint64_t seed)
{
    /* xorshift never leaves 0; scramble so that small seeds give unrelated streams. */
    seed = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    return mewe__rng_xorshift_refill(m, PREFIX, xorshift_seed(m, seed ? seed : 1));
}

static LLVMValueRef chacha_refill(LLVMModuleRef m, uint64_t seed)
{
    /* The key is the first four outputs of splitmix64 seeded with the seed, low word first:
     * small seeds give unrelated keys. */
    uint32_t key[8];
    for (int i = 0; i < 4; i++) {
        uint64_t w = mewe__mix64(seed + (uint64_t)i * 0x9E3779B97F4A7C15ull);
        key[2 * i] = (uint32_t)w;
        key[2 * i + 1] = (uint32_t)(w >> 32);
    }
    return mewe__rng_chacha_refill(m, PREFIX ".chacha", key, MEWE__CHACHA_ROUNDS);
}

static int build(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef n,
                 LLVMValueRef *out, void *user_data)
{
    (void)user_data;
    LLVMModuleRef m = LLVMGetGlobalParent(dispatcher);
    uint64_t seed;
    mewe__rng_gen gen;
    int rc = seed_value(hook, &seed);
    if (rc == MEWE_OK)
        rc = mewe__rng_gen_param(&gen, hook);
    if (rc != MEWE_OK)
        return rc;
    LLVMValueRef refill =
        gen == MEWE__RNG_XORSHIFT ? xorshift_refill(m, seed) : chacha_refill(m, seed);
    *out = mewe__rng_draw(b, dispatcher, mewe__rng_global(m, POOL), refill, n);
    return MEWE_OK;
}

int mewe__register_rng_fixed(mewe_context *ctx)
{
    return mewe__builtin_rng(ctx, "fixed", (const char *const[]){"seed", "gen", NULL}, build,
                             "in-module ChaCha8 keyed at build time (seed=N), reproducible "
                             "(gen=xorshift: xorshift64*)");
}
