/**
 * @file profile.h
 * @brief Profiles for the cost model: an instrumented build counts calls, its run writes
 *        the counts, and mewe_link_multivariant() plans with them.
 */
#ifndef MEWE_PROFILE_H
#define MEWE_PROFILE_H

#include <mewe/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup profile Profiles
 * @brief Call counts from a real run, so that the cost model spends its budget where calls
 *        are rare and saves it where they are many.
 *
 * The workflow: mewe_module_instrument_profile() on the program as loaded, emit it as a
 * WASI command and run it on a representative input; when `main` returns or the program
 * calls `exit`, it writes its counts to standard error, one line each, every line starting
 * with `mewe-profile ` (the program's own output is left as it is; a profile file may
 * hold both, lines without the prefix are ignored). mewe_profile_load() reads them back,
 * and @ref mewe_link_options.profile hands them to the cost model.
 *
 * The lines: `mewe-profile 1` (format version), then `mewe-profile fn COUNT NAME` for each
 * function and `mewe-profile site COUNT CALLER INDEX CALLEE` for each direct call site
 * (the INDEX-th call of CALLEE in CALLER, counting from 0), then `mewe-profile end N` with
 * N the number of `fn` lines: a file without it was cut short.
 * @{
 */

/** Call counts read from a profile run. @since 0.2 */
typedef struct mewe_profile mewe_profile;

/**
 * Instruments a module: every defined function counts its calls and every direct call site
 * its executions, and `main` registers (with `atexit`) a function that writes the counts.
 * The module should be the program as loaded, without variants: the counts are looked up
 * by function name at link time.
 * @param[in] module The module; unchanged on failure.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL; #MEWE_ESTATE if the module already has variants
 *         or dispatchers, or is already instrumented; #MEWE_ENOTFOUND if it defines no
 *         `main` (the counts are written when the program ends); #MEWE_ELINK if it declares
 *         `atexit` or `dprintf` with another type; #MEWE_ENOMEM.
 * @since 0.2
 */
MEWE_API int mewe_module_instrument_profile(mewe_module *module);

/**
 * Reads a profile written by an instrumented run.
 * @param[out] out Receives the profile, **owned** (mewe_profile_free()).
 * @param[in] ctx The context, for error messages.
 * @param[in] path The file: the run's standard error, or any file holding its lines.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL; #MEWE_EIO if the file cannot be read;
 *         #MEWE_EPARSE if it holds no profile, a line is malformed (file and line named),
 *         the format version is unknown, or it was cut short; #MEWE_ENOMEM.
 * @since 0.2
 */
MEWE_API int mewe_profile_load(mewe_profile **out, mewe_context *ctx, const char *path);

/**
 * Number of functions in a profile.
 * @param[in] profile The profile; NULL gives 0.
 * @return The count.
 * @since 0.2
 */
MEWE_API size_t mewe_profile_function_count(const mewe_profile *profile);

/**
 * Calls counted for a function.
 * @param[out] out_calls Receives the count (0 when the function is not in the profile).
 * @param[in] profile The profile.
 * @param[in] name The function's name, **borrowed**.
 * @return #MEWE_OK; #MEWE_ENOTFOUND if the profile does not name it; #MEWE_EINVAL for NULL.
 * @since 0.2
 */
MEWE_API int mewe_profile_calls(unsigned long long *out_calls, const mewe_profile *profile,
                                const char *name);

/**
 * Frees a profile.
 * @param[in] profile **Consumed**; NULL is accepted.
 * @since 0.2
 */
MEWE_API void mewe_profile_free(mewe_profile *profile);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_PROFILE_H */
