/* Registers the built-in plugins on a new context, from the lists meson generates (registry.h). */
#include "plugin.h"
#include "registry.h"

int mewe__register_builtins(mewe_context *ctx)
{
#define MEWE_BUILTIN(kind, name) mewe__register_##kind##_##name,
    int (*const all[])(mewe_context *) = {MEWE_BUILTIN_DIVERSIFIERS MEWE_BUILTIN_RNGS};
#undef MEWE_BUILTIN
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int rc = all[i](ctx);
        if (rc != MEWE_OK)
            return rc;
    }
    /* Registered first, before any of the user's: every plugin so far is ours. */
    for (size_t i = 0; i < ctx->diversifiers.count; i++)
        ctx->diversifiers.items[i].builtin = true;
    for (size_t i = 0; i < ctx->strategies.count; i++)
        ctx->strategies.items[i].builtin = true;
    return MEWE_OK;
}

/* The descriptors' first five fields are the same in every version. */
int mewe__builtin_diversifier(mewe_context *ctx, const char *name, const char *const *params,
                              mewe_diversify_fn fn, const char *description)
{
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = name,
                          .description = description,
                          .param_names = params,
                          .diversify = fn};
    return mewe_diversifier_register(ctx, &d);
}

int mewe__builtin_rng(mewe_context *ctx, const char *name, const char *const *params,
                      mewe_rng_build_fn fn, const char *description)
{
    mewe_rng_strategy s = {MEWE_RNG_STRATEGY_VERSION, name, description, params, fn, NULL, NULL};
    return mewe_rng_strategy_register(ctx, &s);
}
