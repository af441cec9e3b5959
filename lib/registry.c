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
    return MEWE_OK;
}
