/**
 * @file sys/hook.h
 * @brief What a plugin callback (diversifier or RNG strategy) may ask of libmewe during a call.
 */
#ifndef MEWE_SYS_HOOK_H
#define MEWE_SYS_HOOK_H

#include <mewe/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup hook Plugin calls
 * @brief The handle passed to every plugin callback.
 *
 * A #mewe_hook is **borrowed** for the duration of one callback and invalid afterwards. It
 * carries the call's deterministic random source (derived from the build seed, the function's
 * name and the variant), the plugin's parameters from its spec (`"name:key=value,..."`), a
 * place for an error message and a way to log (mewe_hook_log()).
 * @{
 */

/** Opaque per-call handle. @since 0.1 */
typedef struct mewe_hook mewe_hook;

/**
 * Next 64 random bits of the call's deterministic stream.
 * @param[in] hook The call's handle.
 * @return The bits; 0 for a NULL @p hook.
 * @since 0.1
 */
MEWE_API uint64_t mewe_hook_random(mewe_hook *hook);

/**
 * A uniformly distributed integer in [0, @p bound), without modulo bias.
 * @param[in] hook The call's handle.
 * @param[in] bound Upper bound (exclusive); 0 and 1 give 0.
 * @return The integer.
 * @since 0.1
 */
MEWE_API uint32_t mewe_hook_random_below(mewe_hook *hook, uint32_t bound);

/**
 * A parameter's text from the plugin's spec.
 * @param[in] hook The call's handle.
 * @param[in] key Parameter name.
 * @return **Borrowed** until the call returns, or NULL when the spec does not set @p key.
 * @since 0.1
 */
MEWE_API const char *mewe_hook_param(mewe_hook *hook, const char *key);

/**
 * A parameter as a number.
 * @param[out] out Receives the value, or @p fallback when the spec does not set @p key.
 * @param[in] hook The call's handle.
 * @param[in] key Parameter name.
 * @param[in] fallback Default value.
 * @param[in] min Smallest accepted value.
 * @param[in] max Largest accepted value.
 * @return #MEWE_OK; #MEWE_EINVAL, with a message naming the plugin, key and value, when the
 *         text is not a number or lies outside [@p min, @p max]. Return it from the callback.
 * @since 0.1
 */
MEWE_API int mewe_hook_param_double(double *out, mewe_hook *hook, const char *key, double fallback,
                                    double min, double max);

/**
 * Sets the error message of a failing callback; the callback then returns its error code.
 * @param[in] hook The call's handle.
 * @param[in] message Borrowed, copied.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments.
 * @since 0.1
 */
MEWE_API int mewe_hook_set_error(mewe_hook *hook, const char *message);

/**
 * The context the call runs in (e.g. for LLVM types through mewe_context_get_llvm()).
 * @param[in] hook The call's handle.
 * @return **Borrowed** context.
 * @since 0.1
 */
MEWE_API mewe_context *mewe_hook_context(mewe_hook *hook);

/**
 * Logs a message through the context's log callback (mewe_context_set_log_callback()),
 * prefixed with "plugin 'NAME': ". Without a callback, or above its level, nothing happens.
 * A failure is reported with mewe_hook_set_error() and the callback's return value instead.
 * @param[in] hook The call's handle.
 * @param[in] level #MEWE_LOG_WARN, #MEWE_LOG_INFO or #MEWE_LOG_DEBUG (#MEWE_LOG_ERROR is
 *            accepted too, for messages that go with a failure).
 * @param[in] message The text, **borrowed** for the call.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL arguments or a level out of range (the hook's
 *         error message says which).
 * @since 0.2
 */
MEWE_API int mewe_hook_log(mewe_hook *hook, mewe_log_level level, const char *message);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_SYS_HOOK_H */
