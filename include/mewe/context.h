/**
 * @file context.h
 * @brief The context: one LLVM context, error messages, logging, the build seed and the
 *        wasm toolchain.
 */
#ifndef MEWE_CONTEXT_H
#define MEWE_CONTEXT_H

#include <mewe/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup context Context
 * @brief Owns everything libmewe makes; one per thread.
 *
 * A context owns one LLVM context and every module loaded into it. Use a context from one
 * thread at a time; separate contexts may be used from separate threads at once.
 * @{
 */

/** Opaque context handle. @since 0.1 */
typedef struct mewe_context mewe_context;

/** Severity of a log message. @since 0.1 */
typedef enum mewe_log_level {
    MEWE_LOG_ERROR = 0, /**< An operation failed; the same text is in mewe_context_errmsg(). */
    MEWE_LOG_WARN = 1,  /**< Something was skipped or dropped (a variant, a function). */
    MEWE_LOG_INFO = 2,  /**< Progress of a pipeline stage. */
    MEWE_LOG_DEBUG = 3  /**< Details for libmewe's developers. */
} mewe_log_level;

/**
 * Log callback.
 * @param level Severity of the message.
 * @param message Borrowed for the duration of the call.
 * @param user_data The pointer given to mewe_context_set_log_callback().
 * @since 0.1
 */
typedef void (*mewe_log_fn)(mewe_log_level level, const char *message, void *user_data);

/**
 * Progress callback: a long pipeline stage says how far it is.
 * @param stage Static text naming the stage: "generating variants" (units: the module's
 *        functions), "making dispatchers" (units: dispatchers), "compiling to wasm" and
 *        "linking wasm" (one unit each). **Borrowed** for the duration of the call.
 * @param done Units done so far: 0 when the stage starts, @p total when it ends.
 * @param total Units in the stage.
 * @param user_data The pointer given to mewe_context_set_progress_callback().
 * @since 0.3
 */
typedef void (*mewe_progress_fn)(const char *stage, size_t done, size_t total, void *user_data);

/** External tools and files used by mewe_emit_wasm(). @since 0.1 */
typedef enum mewe_tool {
    MEWE_TOOL_WASM_LD = 0,      /**< The wasm-ld executable. */
    MEWE_TOOL_WASI_SYSROOT = 1, /**< Sysroot holding lib/wasm32-wasi/libc.a and crt1 files. */
    MEWE_TOOL_BUILTINS = 2,     /**< libclang_rt.builtins-wasm32.a ("" to link without it). */
    MEWE_TOOL_WASI_SDK = 3,     /**< A wasi-sdk directory: setting it sets the three above. */
    /** mewe-load-check, the helper that loads untrusted input in a child process (see
     *  mewe_context_set_untrusted_input()); "" (the default) finds the one installed with
     *  libmewe. @since 0.2 */
    MEWE_TOOL_LOAD_CHECK = 4
} mewe_tool;

/**
 * Creates a context. The toolchain paths start at the values found when libmewe was
 * configured; the build seed starts at 0.
 * @param[out] out Receives the new context, **owned** (free with mewe_context_free()).
 * @return #MEWE_OK, #MEWE_EINVAL if @p out is NULL, #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_context_new(mewe_context **out);

/**
 * Frees a context and every module, diversifier and strategy it owns; registered plugins'
 * `destroy` callbacks run here.
 * @param[in] ctx **Consumed**; NULL is accepted.
 * @since 0.1
 */
MEWE_API void mewe_context_free(mewe_context *ctx);

/**
 * Message of the most recent failure on this context. It names the thing at fault (file,
 * function, option, value).
 * @param[in] ctx The context; NULL gives a fixed message.
 * @return **Borrowed** until the next failing call on @p ctx or its free; "" if nothing
 *         failed yet. Never NULL.
 * @since 0.1
 */
MEWE_API const char *mewe_context_errmsg(const mewe_context *ctx);

/**
 * Sets the log callback. Without one, libmewe stays silent.
 * @param[in] ctx The context.
 * @param[in] fn Callback, or NULL to stop logging.
 * @param[in] max_level Messages above this level are not passed.
 * @param[in] user_data Passed back to @p fn, **borrowed** for as long as the callback is set.
 * @return #MEWE_OK, #MEWE_EINVAL for a NULL @p ctx or a level out of range.
 * @since 0.1
 */
MEWE_API int mewe_context_set_log_callback(mewe_context *ctx, mewe_log_fn fn,
                                           mewe_log_level max_level, void *user_data);

/**
 * Sets the progress callback, called from the calling thread during mewe_generate_variants()
 * (after each function), mewe_link_multivariant() (after each dispatcher) and
 * mewe_emit_wasm() (before and after code generation and linking). The same progress also
 * reaches the log callback at #MEWE_LOG_INFO, as "STAGE: DONE/TOTAL" when a stage starts,
 * at each tenth of it and when it ends, whether or not a progress callback is set.
 * @param[in] ctx The context.
 * @param[in] fn Callback, or NULL to stop.
 * @param[in] user_data Passed back to @p fn, **borrowed** for as long as the callback is set.
 * @return #MEWE_OK, #MEWE_EINVAL for a NULL @p ctx.
 * @since 0.3
 */
MEWE_API int mewe_context_set_progress_callback(mewe_context *ctx, mewe_progress_fn fn,
                                                void *user_data);

/**
 * Sets the build seed. Every build-time random choice derives from it (and each function's
 * choices from it and the function's name): the same inputs, options and seed give
 * byte-identical output.
 * @param[in] ctx The context.
 * @param[in] seed Any value.
 * @return #MEWE_OK, #MEWE_EINVAL for a NULL @p ctx.
 * @since 0.1
 */
MEWE_API int mewe_context_set_seed(mewe_context *ctx, uint64_t seed);

/**
 * Reads the build seed.
 * @param[out] out Receives the seed.
 * @param[in] ctx The context.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments.
 * @since 0.1
 */
MEWE_API int mewe_context_get_seed(uint64_t *out, const mewe_context *ctx);

/**
 * Sets the path of an external tool. Setting #MEWE_TOOL_WASI_SDK sets wasm-ld
 * (SDK/bin/wasm-ld), the sysroot (SDK/share/wasi-sysroot) and the builtins
 * (SDK/lib/clang/N/lib/wasi/libclang_rt.builtins-wasm32.a) from one wasi-sdk directory.
 * Paths are not checked here; mewe_emit_wasm() reports a missing tool.
 * @param[in] ctx The context.
 * @param[in] tool Which tool.
 * @param[in] path Borrowed, copied. For #MEWE_TOOL_WASI_SDK it must be a directory.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments or an unknown @p tool, #MEWE_ENOTFOUND
 *         when a wasi-sdk directory lacks one of its parts, #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_context_set_tool_path(mewe_context *ctx, mewe_tool tool, const char *path);

/**
 * Reads the path of an external tool.
 * @param[out] out Receives the path, **borrowed** until the next change of that tool or the
 *             context's free. For #MEWE_TOOL_WASI_SDK, "" unless one was set.
 * @param[in] ctx The context.
 * @param[in] tool Which tool.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments or an unknown @p tool.
 * @since 0.1
 */
MEWE_API int mewe_context_get_tool_path(const char **out, const mewe_context *ctx, mewe_tool tool);

/**
 * Says whether the modules that this context loads may be corrupt or hostile. LLVM's
 * readers are not hardened against such input: the bitcode reader can crash, abort on a
 * huge allocation or run for minutes, and the IR parser ends the process when a module
 * with debug info fails the verifier; both run inside the calling process. With untrusted
 * input on, mewe_module_load(), mewe_module_load_memory() and mewe_module_link_file() first
 * load the input (bitcode or textual IR) in a child process, the helper mewe-load-check
 * (see ::MEWE_TOOL_LOAD_CHECK), limited to 1 GiB of address space plus 32 bytes per input
 * byte and 20 CPU seconds plus 2 per MiB; this process then parses only the bitcode that
 * the helper's LLVM wrote back from the verified module. A crash, an abort or a limit in
 * the helper becomes #MEWE_EPARSE with a message naming the input; if the helper cannot
 * run, the load fails with #MEWE_ETOOL. Each load costs one process start and a second
 * parse. Off by default; the mewe command turns it on (its `--trusted-input` turns it off).
 * @param[in] ctx The context.
 * @param[in] untrusted Non-zero to load through the helper, 0 to load in this process.
 * @return #MEWE_OK, #MEWE_EINVAL for a NULL @p ctx.
 * @since 0.2
 */
MEWE_API int mewe_context_set_untrusted_input(mewe_context *ctx, int untrusted);

/**
 * Reads the setting of mewe_context_set_untrusted_input().
 * @param[out] out Receives 1 when inputs are loaded through the helper, else 0.
 * @param[in] ctx The context.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments.
 * @since 0.2
 */
MEWE_API int mewe_context_get_untrusted_input(int *out, const mewe_context *ctx);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_CONTEXT_H */
