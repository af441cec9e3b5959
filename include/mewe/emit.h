/**
 * @file emit.h
 * @brief mewe_emit_wasm(): LLVM's wasm32 backend, then wasm-ld with wasi-libc.
 */
#ifndef MEWE_EMIT_H
#define MEWE_EMIT_H

#include <mewe/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup emit Emitting WebAssembly
 * @brief From a module to a WASI command, a reactor or a relocatable object.
 *
 * Only modules whose target triple is wasm32 (e.g. `wasm32-unknown-wasi`, what
 * `clang --target=wasm32-wasi` and `rustc --target wasm32-wasi` produce) are emitted. A module
 * with no triple and no data layout (or wasm32's) is retargeted to `wasm32-unknown-wasi`; a
 * module made for another target is refused with #MEWE_ETARGET, because its front end has
 * already fixed pointer sizes, struct layouts and calling conventions for that target, and
 * retargeting it would silently change its meaning. Recompile such code for wasm32.
 *
 * Emitting never changes the module, nor its context: code generation runs on a copy in an
 * LLVM context of its own.
 *
 * Every module is checked against the implementation limits that WebAssembly engines share
 * (the WebAssembly JS API's: 50,000 locals per function, parameters included; 7,654,321
 * bytes per function body; 1,000 parameters or results; 1,000,000 functions, types and
 * globals; 100,000 imports, exports and data segments; 10,000,000 table elements; 65,536
 * memory pages; and V8's 65,520 br_table targets), since engines refuse valid modules over
 * them (node: "local count too large"). At opt_level 0, where every value gets a local of
 * its own, a function over the locals or body size limit is compiled at level 1 instead,
 * with a warning logged on the context. Anything else over a limit
 * fails with #MEWE_ETARGET and a message naming the function and the limit, as does a
 * switch that LLVM could turn into a br_table over the limit (LLVM 19 also encodes one of
 * more than 65,535 targets wrongly).
 * @{
 */

/** What mewe_emit_wasm() produces. @since 0.1 */
typedef enum mewe_emit_kind {
    MEWE_EMIT_COMMAND = 0, /**< Linked WASI command: `_start` calls `main`. */
    MEWE_EMIT_REACTOR = 1, /**< Linked WASI reactor: `_initialize` and the exports only. */
    MEWE_EMIT_OBJECT = 2   /**< Relocatable wasm object, for another toolchain's linker. */
} mewe_emit_kind;

/** Current version of #mewe_emit_options. @since 0.1 */
#define MEWE_EMIT_OPTIONS_VERSION 2

/** Most code generation threads that #mewe_emit_options.threads may ask for. @since 0.3 */
#define MEWE_EMIT_MAX_THREADS 1024

/**
 * Options of mewe_emit_wasm(). Fill with #MEWE_EMIT_OPTIONS_INIT or
 * mewe_emit_options_init(); fields are only ever appended. Every version from 1 to
 * #MEWE_EMIT_OPTIONS_VERSION is accepted (a struct of an older version is never read past its
 * last field, and the fields it lacks take their defaults). mewe_option_describe() gives each
 * field's default and range at run time.
 * @since 0.1
 */
typedef struct mewe_emit_options {
    unsigned int version;         /**< #MEWE_EMIT_OPTIONS_VERSION. */
    mewe_emit_kind kind;          /**< Default #MEWE_EMIT_COMMAND. */
    int opt_level;                /**< Code generation level 0..3, default 2. No IR optimisation
                                passes run: they would undo diversification. */
    const char *const *exports;   /**< Functions to export (linked kinds: `--export`; object:
                                     marked `wasm-export-name`). Borrowed for the call. */
    size_t export_count;          /**< Entries in @ref exports. */
    const char *const *link_args; /**< Extra wasm-ld arguments, e.g. "-lwasi-emulated-signal",
                                       "-z", "stack-size=1048576". Borrowed for the call.
                                       Ignored for #MEWE_EMIT_OBJECT. */
    size_t link_arg_count;        /**< Entries in @ref link_args. */
    unsigned int threads;         /**< Code generation threads, 1 to #MEWE_EMIT_MAX_THREADS;
                                       0 (the default) for as many as the processors this
                                       process may run on. A large module is split into
                                       partitions (groups of functions) compiled in
                                       parallel and linked by wasm-ld; the split depends on
                                       the module only, so the output is the same bytes for
                                       every thread count. @since 0.3 (version 2) */
} mewe_emit_options;

/** Initializer with the defaults of #MEWE_EMIT_OPTIONS_VERSION: zero for every field whose
 *  zero means its default; opt_level is set, because 0 is a level of its own. @since 0.1 */
#define MEWE_EMIT_OPTIONS_INIT \
    {MEWE_EMIT_OPTIONS_VERSION, MEWE_EMIT_COMMAND, 2, NULL, 0, NULL, 0, 0}

/**
 * Fills @p opts with the defaults of @p version: the fields of that version only, so that a
 * caller built against an older header may pass its shorter struct.
 * @param[out] opts The struct to fill.
 * @param[in] version 1 to #MEWE_EMIT_OPTIONS_VERSION.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL, #MEWE_EVERSION for an unknown version.
 * @since 0.1
 */
MEWE_API int mewe_emit_options_init(mewe_emit_options *opts, unsigned int version);

/**
 * Says, before any work, whether mewe_emit_wasm() will accept the module's target: its
 * triple must be wasm32 (with a data layout that is empty or wasm32's), or it must have
 * neither triple nor data layout (it is then emitted as `wasm32-unknown-wasi`). Call it
 * right after loading, so that a module made for another target fails at once instead of
 * after variants were generated for it.
 * @param[in] module The module, **borrowed**; not changed.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL; #MEWE_ETARGET with a message naming the module,
 *         its triple and data layout, and how to recompile it.
 * @since 0.3
 */
MEWE_API int mewe_module_check_target(const mewe_module *module);

/**
 * Leaves out of diversification the functions that the link of a command or reactor would
 * drop: wasm-ld keeps only what the program's entry (or a reactor's exports) reaches, so a
 * library's unused functions never reach the output, and variants made for them would only
 * cost time (in the libxml2 catalog program, 38% of the variants). Call it after loading
 * (and mewe_module_link_files()), before mewe_generate_variants(), with the options the
 * module will be emitted with: it compiles and links, with those options, a skeleton of
 * the module in which each body only calls the functions and reads the variables the
 * original names (a small part of the module's code), and marks the functions that link
 * drops, with a key of the options (kind, exports, link arguments, tools). Generation leaves
 * them alone (the report says "dropped by the link", not eligible), and an emission with
 * the same options does not compile them, unless something compiled still names them (a
 * variant added since, modules linked in since), they are exported, or their name is one
 * that code generation may call by itself (memcpy, the C library's mathematics, "__..."
 * helpers: a reference the skeleton cannot see). A module with inline assembly is marked
 * without a key: all its functions are compiled. When the entry points (main, or a
 * reactor's _initialize), the exports, the constructors and llvm.used reach every function
 * through what the code and the variables it reads name, and the link arguments add no
 * roots (only stack and memory sizes, stripping, optimisation), nothing is compiled or
 * linked: the link drops none (most small programs).
 * @param[in,out] module The module: marks are added to its functions.
 * @param[in] opts The emission's options, or NULL for the defaults (a WASI command). For
 *            #MEWE_EMIT_OBJECT nothing is marked: an object keeps every function.
 * @param[out] out_excluded NULL, or receives how many functions were marked.
 * @return #MEWE_OK, or as mewe_emit_wasm_memory() (the module is then unchanged).
 * @since 0.3
 */
MEWE_API int mewe_module_exclude_unlinked(mewe_module *module, const mewe_emit_options *opts,
                                          size_t *out_excluded);

/**
 * Emits the module as WebAssembly into a file, written under a temporary name and renamed:
 * a failure leaves no file behind and an existing file untouched.
 * @param[in] module The module, **borrowed**; not changed, and nothing is kept in it: pass
 *            the emitted wasm to mewe_report_json_wasm() for the report's `"wasm"` section.
 * @param[in] opts Options, or NULL for the defaults.
 * @param[in] path Destination, **borrowed**.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL arguments or a value out of range (named in the
 *         message); #MEWE_EVERSION for an options version newer than this libmewe's (or 0);
 *         #MEWE_ETARGET for a module not made for wasm32, a code generation failure or a
 *         module over the engines' limits;
 *         #MEWE_ETOOL if wasm-ld is missing or cannot run; #MEWE_ELINK if wasm-ld fails (its
 *         message, e.g. an undefined symbol, is in the context's message); #MEWE_EIO;
 *         #MEWE_ENOMEM.
 * @since 0.1 (the module is const since 0.2)
 */
MEWE_API int mewe_emit_wasm(const mewe_module *module, const mewe_emit_options *opts,
                            const char *path);

/**
 * Emits the module as WebAssembly into memory; otherwise as mewe_emit_wasm().
 * @param[out] out_data Receives the bytes, **owned** (free with mewe_free()).
 * @param[out] out_size Receives the size in bytes.
 * @param[in] module The module, **borrowed**; not changed.
 * @param[in] opts Options, or NULL for the defaults.
 * @return As mewe_emit_wasm().
 * @since 0.1 (the module is const since 0.2)
 */
MEWE_API int mewe_emit_wasm_memory(void **out_data, size_t *out_size, const mewe_module *module,
                                   const mewe_emit_options *opts);

/**
 * Links relocatable objects into one WASI command or reactor, as mewe_emit_wasm() links
 * one module: the second half of a per-file build. Each translation unit is emitted on its
 * own as an object (#MEWE_EMIT_OBJECT: its functions get variants and dispatchers inside
 * it, and calls from other units reach its dispatchers by name), by as many processes or
 * machines as the build system likes; this call links them. A multivariant object records
 * the libmewe version and the link settings (dispatch kind, re-randomization, RNG strategy,
 * tracing, budget) that made it, and its report: objects of another libmewe version, or
 * made with other settings than the first one, are refused with a message naming the
 * object. Objects that libmewe did not make (clang's, a library's) link as they are.
 * @param[out] out_report NULL, or receives the objects' reports merged into one JSON
 *             report (their functions, summed totals, the shared settings), **owned** (free
 *             with mewe_free()); NULL on failure.
 * @param[out] out_report_size NULL, or receives the report's length.
 * @param[in] ctx The context (toolchain paths, error message).
 * @param[in] objects Paths of the objects, in link order, **borrowed**.
 * @param[in] count Entries in @p objects, at least 1.
 * @param[in] opts Options, or NULL for the defaults; kind must be #MEWE_EMIT_COMMAND or
 *            #MEWE_EMIT_REACTOR; opt_level and threads do not apply.
 * @param[in] path Destination, **borrowed**, written atomically.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL arguments, no objects or the object kind;
 *         #MEWE_EVERSION for an unknown options version; #MEWE_EIO; #MEWE_EPARSE for a file
 *         that is not a relocatable wasm object; #MEWE_ELINK for an object of another
 *         libmewe version or other settings, or when wasm-ld fails; #MEWE_ETOOL;
 *         #MEWE_ENOMEM.
 * @since 0.3
 */
MEWE_API int mewe_emit_link_objects(char **out_report, size_t *out_report_size, mewe_context *ctx,
                                    const char *const *objects, size_t count,
                                    const mewe_emit_options *opts, const char *path);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_EMIT_H */
