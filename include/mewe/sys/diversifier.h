/**
 * @file sys/diversifier.h
 * @brief The diversifier hook: a plugin that rewrites a variant's body.
 */
#ifndef MEWE_SYS_DIVERSIFIER_H
#define MEWE_SYS_DIVERSIFIER_H

#include <llvm-c/Core.h>

#include <mewe/sys/hook.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup diversifier Diversifiers
 * @brief Register your own variant generator; the built-ins use this same API.
 *
 * A diversifier receives a fresh clone of a function (its variant, already in the module,
 * internal) and rewrites its body into something semantically equivalent but different. It
 * must leave the function valid; a variant that fails LLVM's verifier is dropped and
 * reported, and generation goes on. The clone carries the original's attributes: a
 * diversifier that adds memory accesses must remove memory-effect attributes such as
 * `memory(none)` that would no longer hold. Parameters are checked by the diversifier
 * itself, at its first call. It must not touch other functions. Randomness must come
 * from mewe_hook_random() so builds stay reproducible.
 *
 * Built-ins: `subst` (instruction substitution by arithmetic and boolean identities, each
 * proven by Z3 in the test suite; parameters `rate` in [0,1], default 0.6, the share of
 * candidate instructions considered, and `max`, default 4, the most rewrites per variant),
 * `swap` (operand swaps of commutative integer operations and mirrored comparisons, free at
 * run time;
 * parameter `rate`, default 0.5) and `blocks` (block splitting and layout shuffling;
 * parameters `split` in [0,1], default 0.5, and `shuffle` 0 or 1, default 1). Code generation
 * undoes part of what `blocks` does (it merges split blocks and re-sorts the layout); the
 * report's `distinct_in_wasm` shows what survived.
 * @{
 */

/**
 * Rewrites one variant.
 * @param hook The call's handle (random source, parameters, error message), **borrowed**.
 * @param function The variant, an `LLVMValueRef` of a function, **borrowed** for the call.
 * @param user_data The descriptor's @ref mewe_diversifier.user_data.
 * @return #MEWE_OK, or a negative code: generation stops, the module is restored, and the
 *         code is passed back unchanged from mewe_generate_variants().
 * @since 0.1
 */
typedef int (*mewe_diversify_fn)(mewe_hook *hook, LLVMValueRef function, void *user_data);

/** Current version of #mewe_diversifier. @since 0.1 */
#define MEWE_DIVERSIFIER_VERSION 1

/**
 * A diversifier descriptor. libmewe copies it (and its strings) at registration.
 * @since 0.1
 */
typedef struct mewe_diversifier {
    unsigned int version;             /**< #MEWE_DIVERSIFIER_VERSION. */
    const char *name;                 /**< Unique name used in specs: [A-Za-z0-9_-]+. */
    const char *description;          /**< One line for `--help` and reports; may be NULL. */
    const char *const *param_names;   /**< NULL-terminated accepted parameter names, or NULL
                                             for none; other names in a spec are refused. */
    mewe_diversify_fn diversify;      /**< The rewrite; required. */
    void *user_data;                  /**< Passed to the callbacks. */
    void (*destroy)(void *user_data); /**< Called exactly once: when the context is freed,
                                             or when registration fails. May be NULL. */
} mewe_diversifier;

/**
 * Registers a diversifier on a context.
 * @param[in] ctx The context.
 * @param[in] desc The descriptor, **borrowed** (copied).
 * @return #MEWE_OK; #MEWE_EINVAL for NULL, a bad name or no callback; #MEWE_EVERSION;
 *         #MEWE_EEXIST if the name is taken; #MEWE_ENOMEM. On failure `destroy` has been
 *         called.
 * @since 0.1
 */
MEWE_API int mewe_diversifier_register(mewe_context *ctx, const mewe_diversifier *desc);

/**
 * Number of diversifiers registered on a context (the built-ins included).
 * @param[in] ctx The context; NULL gives 0.
 * @return The count.
 * @since 0.1
 */
MEWE_API size_t mewe_diversifier_count(const mewe_context *ctx);

/**
 * Name and description of the index-th registered diversifier.
 * @param[out] out_name Receives the name, **borrowed** until the context is freed.
 * @param[out] out_description Receives the description (never NULL); may be NULL.
 * @param[in] ctx The context.
 * @param[in] index 0 to mewe_diversifier_count() - 1.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL or an index out of range.
 * @since 0.1
 */
MEWE_API int mewe_diversifier_at(const char **out_name, const char **out_description,
                                 const mewe_context *ctx, size_t index);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_SYS_DIVERSIFIER_H */
