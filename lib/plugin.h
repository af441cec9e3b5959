/* Plugin registries (diversifiers, RNG strategies), plugin specs ("name:key=value,...") and
 * the per-call hook handed to plugin callbacks. */
#ifndef MEWE_PLUGIN_H
#define MEWE_PLUGIN_H

#include <mewe/sys/diversifier.h>
#include <mewe/sys/rng.h>

#include "internal.h"

/* One key=value setting of a spec. */
typedef struct mewe__param {
    char *key, *value;
} mewe__param;

/* A parsed spec: the plugin it names and its parameters. */
typedef struct mewe__spec {
    const mewe__plugin *plugin;
    char *text; /* the spec as given, for messages */
    mewe__param *params;
    size_t n_params, params_cap;
} mewe__spec;

struct mewe_hook {
    mewe_context *ctx;
    const mewe__spec *spec;
    uint64_t state; /* splitmix64 */
    char *error;
};

void mewe__registry_free(mewe__registry *r);
/* Copies a descriptor's fields into the registry; `kind` names it in messages. */
int mewe__registry_add(mewe_context *ctx, mewe__registry *r, const char *kind, const char *name,
                       const char *description, const char *const *param_names, mewe__plugin_fn fn,
                       void *user_data, void (*destroy)(void *));
const mewe__plugin *mewe__registry_find(const mewe__registry *r, const char *name);

/* Parses "name[:key=value[,key=value...]]" against a registry. */
int mewe__spec_parse(mewe_context *ctx, mewe__spec *out, const mewe__registry *r, const char *kind,
                     const char *text);
void mewe__spec_fini(mewe__spec *spec);

void mewe__hook_init(mewe_hook *hook, mewe_context *ctx, const mewe__spec *spec, uint64_t seed);
/* Turns a failing callback's code and message into the context's error. */
int mewe__hook_finish(mewe_hook *hook, int rc, const char *what);

/* Registers the built-in diversifiers and strategies (each through the public API). */
int mewe__register_builtins(mewe_context *ctx);

/* Deterministic seeds: a 64-bit mix (a bijection), and the seed of one build-time stream of a
 * function, derived from the build seed, the function's name (so that adding a function
 * changes no other function's choices) and a salt that tells the function's streams apart.
 * For one build seed, two streams differ when their names' hashes or their salts differ:
 * every step is a bijection of each. */
uint64_t mewe__mix64(uint64_t x);
uint64_t mewe__seed_for(uint64_t seed, const char *name, uint64_t salt);

/* Salts, packed so that no two uses share one: diversifier pass `pass` of attempt `attempt`
 * at variant `index` of a function (top bit clear), and the linker's choices (top bit set). */
#define MEWE__SALT_INDEX_LIMIT   (1ull << 23)
#define MEWE__SALT_ATTEMPT_LIMIT (1ull << 20)
#define MEWE__SALT_PASS_LIMIT    (1ull << 20)
#define MEWE__SALT_LINK          (1ull << 63)
static inline uint64_t mewe__variant_salt(uint64_t index, uint64_t attempt, uint64_t pass)
{
    return index << 40 | attempt << 20 | pass;
}

#endif /* MEWE_PLUGIN_H */
