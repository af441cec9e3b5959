/**
 * @file sys/rng.h
 * @brief The RNG strategy hook: a plugin that builds a dispatcher's random choice.
 */
#ifndef MEWE_SYS_RNG_H
#define MEWE_SYS_RNG_H

#include <llvm-c/Core.h>

#include <mewe/sys/hook.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup rng RNG strategies
 * @brief Register your own run-time randomness; the built-ins use this same API.
 *
 * A strategy builds, inside a dispatcher, the IR that computes which variant runs. It is
 * called once per dispatcher at link time (and, with per-instance granularity, the value it
 * builds is computed once per instance). It may add globals and functions to the module:
 * name them `mewe.<strategy>.<what>` (functions named `mewe.*` are libmewe's helpers, never
 * diversified nor reported) and reuse them across calls by looking them up by name.
 *
 * Built-ins: `wasi` (default; parameter `gen`), `host` (parameters `module`, `name`) and
 * `fixed` (parameters `seed`, `gen`). See mewe_link_options.
 * @{
 */

/**
 * Builds the choice of a variant.
 * @param hook The call's handle (build-time random source, parameters, error), **borrowed**.
 * @param builder Positioned in the dispatcher where the choice is computed, **borrowed**; the
 *        callback may add blocks to the dispatcher but must leave the builder at the end of
 *        the block where the returned value is available.
 * @param dispatcher The dispatcher function, **borrowed**.
 * @param variant_count The number of variants N (>= 2), an i32 constant, **borrowed**.
 * @param[out] out_index Receives an i32 value in [0, N). An out-of-range value would be
 *        undefined behaviour of the emitted program.
 * @param user_data The descriptor's @ref mewe_rng_strategy.user_data.
 * @return #MEWE_OK or a negative code, passed back unchanged from mewe_link_multivariant().
 * @since 0.1
 */
typedef int (*mewe_rng_build_fn)(mewe_hook *hook, LLVMBuilderRef builder, LLVMValueRef dispatcher,
                                 LLVMValueRef variant_count, LLVMValueRef *out_index,
                                 void *user_data);

/** Current version of #mewe_rng_strategy. @since 0.1 */
#define MEWE_RNG_STRATEGY_VERSION 1

/**
 * An RNG strategy descriptor. libmewe copies it (and its strings) at registration.
 * @since 0.1
 */
typedef struct mewe_rng_strategy {
    unsigned int version;             /**< #MEWE_RNG_STRATEGY_VERSION. */
    const char *name;                 /**< Unique name used in specs: [A-Za-z0-9_-]+. */
    const char *description;          /**< One line; may be NULL. */
    const char *const *param_names;   /**< NULL-terminated accepted parameter names, or NULL. */
    mewe_rng_build_fn build;          /**< Builds the choice; required. */
    void *user_data;                  /**< Passed to the callbacks. */
    void (*destroy)(void *user_data); /**< Called exactly once: when the context is freed,
                                             or when registration fails. May be NULL. */
} mewe_rng_strategy;

/**
 * Registers an RNG strategy on a context.
 * @param[in] ctx The context.
 * @param[in] desc The descriptor, **borrowed** (copied).
 * @return #MEWE_OK; #MEWE_EINVAL for NULL, a bad name or no callback; #MEWE_EVERSION;
 *         #MEWE_EEXIST if the name is taken; #MEWE_ENOMEM. On failure `destroy` has been
 *         called.
 * @since 0.1
 */
MEWE_API int mewe_rng_strategy_register(mewe_context *ctx, const mewe_rng_strategy *desc);

/**
 * Number of RNG strategies registered on a context (the built-ins included).
 * @param[in] ctx The context; NULL gives 0.
 * @return The count.
 * @since 0.1
 */
MEWE_API size_t mewe_rng_strategy_count(const mewe_context *ctx);

/**
 * Name and description of the index-th registered strategy.
 * @param[out] out_name Receives the name, **borrowed** until the context is freed.
 * @param[out] out_description Receives the description (never NULL); may be NULL.
 * @param[in] ctx The context.
 * @param[in] index 0 to mewe_rng_strategy_count() - 1.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL or an index out of range.
 * @since 0.1
 */
MEWE_API int mewe_rng_strategy_at(const char **out_name, const char **out_description,
                                  const mewe_context *ctx, size_t index);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_SYS_RNG_H */
