/**
 * @file report.h
 * @brief The JSON report: what was diversified, why the rest was not, and the measures.
 */
#ifndef MEWE_REPORT_H
#define MEWE_REPORT_H

#include <mewe/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup report Report
 * @brief A JSON description of a module's diversification.
 *
 * The report is one JSON object:
 * - `"module"`: the module's name; `"seed"`: the build seed;
 * - `"functions"`: one object per defined function of the input, in module order, with
 *   `"name"`, `"instructions"`, `"status"` (`"diversified"` or `"skipped"`), `"reason"` (why
 *   it was skipped), `"variants"` (variants besides the original), `"wasm_derived"`
 *   (since 0.3, when some are: how many of them are made in wasm from the compiled
 *   original or variants, mewe_generate_options.wasm_derived), `"dropped_duplicate"`,
 *   `"dropped_invalid"`, and once linked `"dispatcher_id"` and the cost model's plan (since
 *   0.2): `"policy"` (`"call"`, `"every"`, `"invocation"`, `"instance"`), `"period"` (with
 *   `"every"`), `"layout"` (`"inline"`: variants inside the dispatcher; `"call"`: variants
 *   as functions), `"estimated_cycles_per_call"`, `"estimated_dispatch_cycles"`,
 *   `"estimated_variant_overhead"`, `"estimated_overhead"`, `"policy_reason"` and, with a
 *   profile, `"profile_calls"`;
 * - `"totals"`: `"functions"`, `"eligible"`, `"diversified"`, `"dispatchers"`, `"variants"`,
 *   `"wasm_derived"` (since 0.3), `"coverage"` (diversified over eligible),
 *   `"log10_static_paths"` (log10 of the product of each dispatcher's variant count, the
 *   original included), `"instructions_before"`,
 *   `"instructions_after"`, `"bitcode_bytes_before"`, `"bitcode_bytes_after"`, and (since
 *   0.2) `"inlined_dispatchers"` and the dispatchers per policy, `"policy_call"`,
 *   `"policy_instance"`, `"policy_every"`, `"policy_invocation"`, `"policy_epoch"`; after
 *   generation's wasm check, `"generated"`, `"distinct_in_ir"`, `"distinct_in_wasm"` and
 *   `"generation_preservation"` (distinct in wasm over distinct in IR; null when none is
 *   distinct in IR, since 0.3);
 * - `"link"`: the dispatch kind, granularity, RNG strategy and tracing, once linked, and
 *   (since 0.2) `"max_overhead"` (null when unlimited), `"period"`, `"inline_limit"` and,
 *   with a profile, `"profile"`: its `"functions"` and `"unmatched"` ones, the run's
 *   `"estimated_cycles_per_run"` and `"estimated_added_cycles_per_run"` (dispatch and
 *   variants), `"estimated_overhead"`, `"calls_to_diversified_per_run"`,
 *   `"choices_per_run"` (fresh choices) and `"redraw_share"` (their share of those calls);
 * - `"wasm"`: only when the caller passes the wasm emitted from the module
 *   (mewe_report_json_wasm(), mewe_report_write_wasm(), since 0.2): `"bytes"`,
 *   `"code_bytes"`, and per dispatcher the variants that stayed distinct in that wasm
 *   (`"distinct_in_wasm"`, with the total `"preservation"` = distinct over generated; null
 *   when there are none, since 0.3: 0 before). Only dispatchers of the `"call"` layout are
 *   listed: inlined variants are one wasm function; but a dispatcher into which emission
 *   spliced variants made in wasm (mewe_generate_options.wasm_derived) is listed too, with
 *   `"spliced": true` (since 0.3), its bodies counted as the compiled object held them
 *   before (the same code, as the dispatcher holds it), as the last emission from this
 *   module found them. A variant made in wasm
 *   that emission could not fill (a stub that calls its source) counts as its source. Since
 *   0.3, each dispatcher's `"difference"` (the mean over every pair of its bodies, the
 *   original's included, of the distance that generation's `"wasm_difference"` measures)
 *   and, over the dispatchers, `"difference_mean"` and `"difference_min"` (null without
 *   any).
 *   Emission leaves out a `"call"`-layout variant that compiled to the same code as
 *   another of its family (its dispatcher calls the other): with the wasm that emission
 *   made, the function entry's `"variants"` counts only the distinct ones, and
 *   `"dropped_in_output"` (since 0.3) how many went: the family's variants that the wasm
 *   lacks while it holds others, and its variants made in wasm that no rewrite made unlike
 *   the others (stubs that call their source, whose code they run: twins too).
 *   `"dispatch_bytes"` and `"dispatch_share"` (of the code section, since 0.3): the bodies
 *   of `"call"`-layout dispatchers and of libmewe's own helpers (RNG, epoch clock); the few
 *   instructions of choice at the head of an inline dispatcher are not told apart.
 *   `"dispatchers_in_output"` and `"variants_in_output"` (since 0.3): the totals'
 *   dispatchers that the wasm holds, and their variants; wasm-ld drops a function that
 *   nothing calls (in a command, most of a library's unused API), and then its function
 *   entry says `"in_output": false` (C++ and Rust functions, whose names wasm-ld
 *   demangles in the wasm, always count as kept).
 *   Pass a linked command or reactor: an object's variants are only final once linked.
 *
 * The report is computed from the module at each call and never stored in it: reporting
 * changes nothing that a later call reports, and emitting little: what the output left
 * out (`"dropped_in_output"`) is read from the wasm passed, but for what the last emission
 * recorded of the families it spliced and of its stubs left forwarders. Strings are valid
 * JSON whatever bytes the module's names hold: a byte that is not part of valid UTF-8
 * appears as the code point of the same value (`\u00XX`); a number that is not finite (an
 * estimate from a plan that the IR brought in) is `null`.
 * @{
 */

/**
 * Builds the report as JSON text, without a `"wasm"` section.
 * @param[out] out_json Receives NUL-terminated JSON, **owned** (free with mewe_free()).
 * @param[out] out_size Receives its length without the NUL; may be NULL.
 * @param[in] module The module, **borrowed**; not changed.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments, #MEWE_ENOMEM.
 * @since 0.1 (the module is const since 0.2)
 */
MEWE_API int mewe_report_json(char **out_json, size_t *out_size, const mewe_module *module);

/**
 * Builds the report as JSON text, with a `"wasm"` section on what stayed distinct in the
 * wasm emitted from the module (by mewe_emit_wasm_memory(), or read back from the file that
 * mewe_emit_wasm() wrote).
 * @param[out] out_json Receives NUL-terminated JSON, **owned** (free with mewe_free()).
 * @param[out] out_size Receives its length without the NUL; may be NULL.
 * @param[in] module The module, **borrowed**; not changed.
 * @param[in] wasm The emitted wasm, **borrowed** for the call; NULL (with @p wasm_size 0)
 *            leaves the section out, as mewe_report_json() does.
 * @param[in] wasm_size Size of @p wasm in bytes.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL arguments or a NULL @p wasm with a size;
 *         #MEWE_EPARSE if @p wasm is not a well-formed WebAssembly module; #MEWE_ENOMEM.
 * @since 0.2
 */
MEWE_API int mewe_report_json_wasm(char **out_json, size_t *out_size, const mewe_module *module,
                                   const void *wasm, size_t wasm_size);

/**
 * Writes the report, without a `"wasm"` section, to a file (temporary file, then rename).
 * @param[in] module The module, **borrowed**; not changed.
 * @param[in] path Destination, **borrowed**.
 * @return #MEWE_OK, #MEWE_EINVAL, #MEWE_EIO, #MEWE_ENOMEM.
 * @since 0.1 (the module is const since 0.2)
 */
MEWE_API int mewe_report_write(const mewe_module *module, const char *path);

/**
 * Writes the report with its `"wasm"` section (see mewe_report_json_wasm()) to a file
 * (temporary file, then rename).
 * @param[in] module The module, **borrowed**; not changed.
 * @param[in] wasm The wasm emitted from the module, **borrowed** for the call; NULL (with
 *            @p wasm_size 0) leaves the section out.
 * @param[in] wasm_size Size of @p wasm in bytes.
 * @param[in] path Destination, **borrowed**.
 * @return #MEWE_OK; #MEWE_EINVAL; #MEWE_EPARSE if @p wasm is not a well-formed WebAssembly
 *         module; #MEWE_EIO; #MEWE_ENOMEM.
 * @since 0.2
 */
MEWE_API int mewe_report_write_wasm(const mewe_module *module, const void *wasm, size_t wasm_size,
                                    const char *path);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_REPORT_H */
