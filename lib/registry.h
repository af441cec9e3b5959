/* Registration of the built-in diversifiers and RNG strategies. Each registers itself through
 * the public hook API, exactly as a user's plugin would.
 *
 * The built-ins are named once, in the lists of lib/diversifiers/meson.build and
 * lib/rng/meson.build; meson builds each NAME.c there and writes builtins.h, which lists them as X-macros
 * (MEWE_BUILTIN_DIVERSIFIERS, MEWE_BUILTIN_RNGS); each NAME.c defines
 * `mewe__register_diversifier_NAME` or `mewe__register_rng_NAME`. A new built-in is its file and one
 * word in that list. */
#ifndef MEWE_REGISTRY_H
#define MEWE_REGISTRY_H

#include <stdbool.h>

#include <mewe/sys/diversifier.h>
#include <mewe/sys/rng.h>

#include "builtins.h"

#define MEWE_BUILTIN(kind, name) int mewe__register_##kind##_##name(mewe_context *ctx);
MEWE_BUILTIN_DIVERSIFIERS
MEWE_BUILTIN_RNGS
#undef MEWE_BUILTIN

/* A built-in registers itself through the public hook API, as a user's plugin does; these
 * fill in the descriptor (params: NULL-terminated, static). */
int mewe__builtin_diversifier(mewe_context *ctx, const char *name, const char *const *params,
                              mewe_diversify_fn fn, const char *description);
int mewe__builtin_rng(mewe_context *ctx, const char *name, const char *const *params,
                      mewe_rng_build_fn fn, const char *description);

/* Registers every built-in on a new context, diversifiers first, in list order. */
int mewe__register_builtins(mewe_context *ctx);

#endif /* MEWE_REGISTRY_H */
