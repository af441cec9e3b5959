/* Registers the built-in plugins on a new context. */
#include "builtins.h"
#include "plugin.h"

int mewe__register_builtins(mewe_context *ctx)
{
    int (*const all[])(mewe_context *) = {mewe__register_subst, mewe__register_swap,
                                          mewe__register_blocks,
                                          mewe__register_rng_wasi, mewe__register_rng_host,
                                          mewe__register_rng_fixed};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int rc = all[i](ctx);
        if (rc != MEWE_OK)
            return rc;
    }
    return MEWE_OK;
}
