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
 *   it was skipped), `"variants"` (variants besides the original), `"dropped_duplicate"`,
 *   `"dropped_invalid"`, and once linked `"dispatcher_id"` and the cost model's plan (since
 *   0.2): `"policy"` (`"call"`, `"every"`, `"invocation"`, `"instance"`), `"period"` (with
 *   `"every"`), `"layout"` (`"inline"`: variants inside the dispatcher; `"call"`: variants
 *   as functions), `"estimated_cycles_per_call"`, `"estimated_dispatch_cycles"`,
 *   `"estimated_variant_overhead"`, `"estimated_overhead"`, `"policy_reason"` and, with a
 *   profile, `"profile_calls"`;
 * - `"totals"`: `"functions"`, `"eligible"`, `"diversified"`, `"dispatchers"`, `"variants"`,
 *   `"coverage"` (diversified over eligible), `"log10_static_paths"` (log10 of the product of
 *   each dispatcher's variant count, the original included), `"instructions_before"`,
 *   `"instructions_after"`, `"bitcode_bytes_before"`, `"bitcode_bytes_after"`, and (since
 *   0.2) `"inlined_dispatchers"` and the dispatchers per policy, `"policy_call"`,
 *   `"policy_instance"`, `"policy_every"`, `"policy_invocation"`;
 * - `"link"`: the dispatch kind, granularity, RNG strategy and tracing, once linked, and
 *   (since 0.2) `"max_overhead"` (null when unlimited), `"period"`, `"inline_limit"` and,
 *   with a profile, `"profile"`: its `"functions"` and `"unmatched"` ones, the run's
 *   `"estimated_cycles_per_run"` and `"estimated_added_cycles_per_run"` (dispatch and
 *   variants), `"estimated_overhead"`, `"calls_to_diversified_per_run"`,
 *   `"choices_per_run"` (fresh choices) and `"redraw_share"` (their share of those calls);
 * - `"wasm"`: after a linked mewe_emit_wasm() of a multivariant module: `"bytes"`,
 *   `"code_bytes"`, and per dispatcher the variants that stayed distinct in the emitted wasm
 *   (`"distinct_in_wasm"`, with the total `"preservation"` = distinct over generated). Only
 *   dispatchers of the `"call"` layout are listed: inlined variants are one wasm function.
 * @{
 */

/**
 * Builds the report as JSON text.
 * @param[out] out_json Receives NUL-terminated JSON, **owned** (free with mewe_free()).
 * @param[out] out_size Receives its length without the NUL; may be NULL.
 * @param[in] module The module; not changed.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments, #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_report_json(char **out_json, size_t *out_size, mewe_module *module);

/**
 * Writes the report to a file (temporary file, then rename).
 * @param[in] module The module; not changed.
 * @param[in] path Destination, **borrowed**.
 * @return #MEWE_OK, #MEWE_EINVAL, #MEWE_EIO, #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_report_write(mewe_module *module, const char *path);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_REPORT_H */
