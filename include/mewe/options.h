/**
 * @file options.h
 * @brief The options' defaults and limits as this libmewe applies them, and spec checks.
 */
#ifndef MEWE_OPTIONS_H
#define MEWE_OPTIONS_H

#include <mewe/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup options Defaults and limits
 * @brief What a field of the options structs means when left at zero, and what it accepts.
 *
 * Tools and bindings ask the library instead of repeating its numbers: a command-line tool
 * states the defaults in its help and checks ranges before any work, a binding fills its
 * keyword defaults, documentation generators list them. The answers are those of the
 * library that runs, which may be newer than the headers a caller was built with.
 *
 * Options are named `"STRUCT.FIELD"`, STRUCT being `generate` (#mewe_generate_options),
 * `link` (#mewe_link_options) or `emit` (#mewe_emit_options): `generate.variants`,
 * `generate.diversifiers`, `generate.min_instructions`, `generate.attempts`,
 * `generate.time_budget`, `generate.size_budget`, `generate.wasm_rounds`,
 * `generate.wasm_derived`, `generate.outline_loops`, `link.dispatch`, `link.granularity`,
 * `link.rng`, `link.max_overhead`, `link.period`, `link.inline_limit`, `emit.kind` and
 * `emit.opt_level`; mewe_option_count() and mewe_option_at() list them. Options that only
 * switch something on, or that name things (allow and deny lists, exports), have no entry.
 * @{
 */

/**
 * Number of options that mewe_option_describe() knows.
 * @return The count.
 * @since 0.3
 */
MEWE_API size_t mewe_option_count(void);

/**
 * Name of the index-th option, in the order of the structs' fields (generate, link, emit).
 * @param[out] out_name Receives the name, **borrowed** static text.
 * @param[in] index 0 to mewe_option_count() - 1.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL or an index out of range.
 * @since 0.3
 */
MEWE_API int mewe_option_at(const char **out_name, size_t index);

/**
 * An option's default and accepted range.
 *
 * The default is what the library uses when the field is left at its zero value or, for
 * fields whose zero is a value of its own (`variants`, `min_instructions`, `opt_level`),
 * what the options' `_INIT` macro and `_init()` function set. Numbers are accepted from
 * `*out_min` to `*out_max`, both included (`link.max_overhead` accepts `INFINITY`, its
 * maximum); a field whose zero means "the default" also accepts 0.
 * @param[out] out_text Receives the default as text, as a tool would print it ("3",
 *        "1.10", "switch", "subst,swap,blocks"), **borrowed** static text; may be NULL.
 * @param[out] out_default Receives the default as a number; NaN for options whose value
 *        is a name or a list (`generate.diversifiers`, `link.dispatch`, `link.granularity`,
 *        `link.rng`, `emit.kind`), and for `generate.wasm_derived`, whose default depends on
 *        each function's variants ("all but one"); may be NULL.
 * @param[out] out_min Receives the smallest accepted number (NaN for the options whose value
 *        is a name or a list); may be NULL.
 * @param[out] out_max Receives the largest accepted number (NaN for the options whose value
 *        is a name or a list); may be NULL.
 * @param[in] name The option, e.g. `"generate.variants"`.
 * @return #MEWE_OK, #MEWE_EINVAL for a NULL @p name, #MEWE_ENOTFOUND for a name that is
 *         not one of the options above.
 * @since 0.3
 */
MEWE_API int mewe_option_describe(const char **out_text, double *out_default, double *out_min,
                                  double *out_max, const char *name);

/**
 * Checks a diversifier spec (`NAME[:KEY=VALUE,...]`, as in
 * @ref mewe_generate_options.diversifiers) against the diversifiers registered on a context,
 * without running anything: the name must be registered and every key one of its
 * parameters. Parameter values are checked by the diversifier when it runs.
 * @param[in] ctx The context; its message names the spec at fault.
 * @param[in] spec The spec, **borrowed**.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL, an empty spec, a parameter that is not
 *         `KEY=VALUE` or a key the diversifier does not take; #MEWE_ENOTFOUND for an
 *         unknown name; #MEWE_ENOMEM.
 * @since 0.3
 */
MEWE_API int mewe_diversifier_spec_check(mewe_context *ctx, const char *spec);

/**
 * Checks an RNG strategy spec (as in @ref mewe_link_options.rng) against the strategies
 * registered on a context, as mewe_diversifier_spec_check() does for diversifiers.
 * @param[in] ctx The context; its message names the spec at fault.
 * @param[in] spec The spec, **borrowed**.
 * @return As mewe_diversifier_spec_check().
 * @since 0.3
 */
MEWE_API int mewe_rng_strategy_spec_check(mewe_context *ctx, const char *spec);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_OPTIONS_H */
