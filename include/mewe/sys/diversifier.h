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
 * Each diversifier has a run-time cost class (#mewe_cost_class) that the cost model reads:
 * a variant's class is the highest of the diversifiers that made it. `mewe --list-diversifiers`
 * lists the registered ones with their class and parameters; the built-ins are described
 * there and in doc/guide.md. Code generation undoes part of what some diversifiers do; the
 * report's `distinct_in_wasm` shows what survived.
 *
 * A diversifier that fails on one function (any code but #MEWE_EINVAL, #MEWE_ENOMEM and
 * #MEWE_EVERSION) makes generation skip that function: its variants are removed and the
 * report gives the plugin's message as the reason; the rest of the module goes on.
 * @{
 */

/**
 * Rewrites one variant.
 * @param hook The call's handle (random source, parameters, error message), **borrowed**.
 * @param function The variant, an `LLVMValueRef` of a function, **borrowed** for the call.
 * @param user_data The descriptor's @ref mewe_diversifier.user_data.
 * @return #MEWE_OK, or a negative code. #MEWE_EINVAL (a bad parameter: say which with
 *         mewe_hook_set_error()), #MEWE_ENOMEM and #MEWE_EVERSION stop generation: the module
 *         is restored and the code is passed back unchanged from mewe_generate_variants().
 *         Any other code (#MEWE_EUSER, for one) skips this function only (since 0.3; before,
 *         every failure stopped generation).
 * @since 0.1
 */
typedef int (*mewe_diversify_fn)(mewe_hook *hook, LLVMValueRef function, void *user_data);

/** Current version of #mewe_diversifier: 2 since 0.3 (cost_class, param_docs). Version 1
 * descriptors are still accepted, their cost class unspecified. @since 0.1 */
#define MEWE_DIVERSIFIER_VERSION 2

/**
 * What a diversifier's variants cost at run time, as the cost model reads it. Values are
 * pinned.
 * @since 0.3
 */
typedef enum mewe_cost_class {
    /** Not said (every version-1 descriptor): treated as #MEWE_COST_CHEAP. */
    MEWE_COST_UNSPECIFIED = 0,
    /** Changes the code, not its speed (operand order, layout, frame layout): the cost model
     * counts no extra cost for a variant made by free diversifiers only. */
    MEWE_COST_FREE = 1,
    /** A few instructions more per variant, bounded whatever the function's size: the cost
     * model estimates the variant's extra code and takes it from the overhead budget. Since
     * 0.3, with the default mix, a variant whose extra code, weighted by how often its loops run it, costs more
     * than 3 % of a call of the original (and more than a few cycles) is made again with free
     * diversifiers only. */
    MEWE_COST_CHEAP = 2,
    /** May slow the code in proportion to its size: applied to a variant only when its
     * estimated extra cost stays within #MEWE_COSTLY_SHARE of one call of the function (cold
     * or large code), otherwise the variant is made without it. */
    MEWE_COST_COSTLY = 3
} mewe_cost_class;

/** The most a costly diversifier may add to a variant, as a share of the estimated cycles of
 * one call of the original function. @since 0.3 */
#define MEWE_COSTLY_SHARE 0.05

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
    /* Version 2 (0.3). */
    mewe_cost_class cost_class;    /**< Run-time cost class; 0 for unspecified. */
    const char *const *param_docs; /**< NULL, or one line per entry of param_names, same
                                         order (range, default, meaning) for listings. */
} mewe_diversifier;

/**
 * Registers a diversifier on a context.
 * @param[in] ctx The context.
 * @param[in] desc The descriptor, **borrowed** (copied).
 * @return #MEWE_OK; #MEWE_EINVAL for NULL, a bad name, no callback or a cost_class that is
 *         not a #mewe_cost_class; #MEWE_EVERSION (versions 1 and 2 are accepted);
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

/**
 * The index-th registered diversifier as libmewe holds it: a version-#MEWE_DIVERSIFIER_VERSION
 * descriptor whose strings are libmewe's copies (param_docs NULL when not given; cost_class
 * as registered, #MEWE_COST_UNSPECIFIED included).
 * @param[out] out Receives the descriptor, **borrowed** until the context is freed.
 * @param[in] ctx The context.
 * @param[in] index 0 to mewe_diversifier_count() - 1.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL or an index out of range.
 * @since 0.3
 */
MEWE_API int mewe_diversifier_get(const mewe_diversifier **out, const mewe_context *ctx,
                                  size_t index);

/**
 * Name of a cost class: "unspecified", "free", "cheap", "costly".
 * @param[in] cost_class The class.
 * @return Static text; "?" for a value that is not a class.
 * @since 0.3
 */
MEWE_API const char *mewe_cost_class_str(mewe_cost_class cost_class);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_SYS_DIVERSIFIER_H */
