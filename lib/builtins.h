/* Registration of the built-in diversifiers and RNG strategies. Each registers itself through
 * the public hook API, exactly as a user's plugin would. */
#ifndef MEWE_BUILTINS_H
#define MEWE_BUILTINS_H

#include <stdbool.h>

#include <mewe/sys/diversifier.h>
#include <mewe/sys/rng.h>

int mewe__register_subst(mewe_context *ctx);
int mewe__register_blocks(mewe_context *ctx);
int mewe__register_swap(mewe_context *ctx);
int mewe__register_rng_wasi(mewe_context *ctx);
int mewe__register_rng_host(mewe_context *ctx);
int mewe__register_rng_fixed(mewe_context *ctx);

#endif /* MEWE_BUILTINS_H */
