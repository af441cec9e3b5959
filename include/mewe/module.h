/**
 * @file module.h
 * @brief Loading, linking, verifying, listing and writing LLVM modules.
 */
#ifndef MEWE_MODULE_H
#define MEWE_MODULE_H

#include <mewe/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup module Modules
 * @brief A program's LLVM IR, loaded from bitcode or textual IR.
 *
 * A module belongs to the context it was loaded into and must be freed before it (or is
 * freed with it). Every stage of the pipeline either leaves a module valid for LLVM's
 * verifier or fails and leaves it unchanged.
 * @{
 */

/** Opaque module handle. @since 0.1 */
typedef struct mewe_module mewe_module;

/** Serialization format of a module. @since 0.1 */
typedef enum mewe_format {
    MEWE_FORMAT_BITCODE = 0, /**< LLVM bitcode (.bc). */
    MEWE_FORMAT_TEXT = 1     /**< Textual LLVM IR (.ll). */
} mewe_format;

/**
 * Loads a module from a file of LLVM bitcode or textual IR, told apart by content, and
 * verifies it. Bitcode from a newer LLVM than mewe_llvm_version() may not load.
 * @param[out] out Receives the module, **owned** (free with mewe_module_free()).
 * @param[in] ctx The context that will own the module.
 * @param[in] path File to read, **borrowed**; never modified.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL arguments; #MEWE_EIO if the file cannot be read;
 *         #MEWE_EPARSE for an empty, truncated, corrupt or too-new input or an IR syntax
 *         error; #MEWE_EVERIFY if the module fails verification; #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_module_load(mewe_module **out, mewe_context *ctx, const char *path);

/**
 * Loads a module from memory; otherwise as mewe_module_load().
 * @param[out] out Receives the module, **owned**.
 * @param[in] ctx The context that will own the module.
 * @param[in] data Bitcode or textual IR, **borrowed** for the call.
 * @param[in] size Size of @p data in bytes.
 * @param[in] name Name used in messages and as the module identifier, **borrowed**; NULL
 *            means "<memory>".
 * @return As mewe_module_load(), without #MEWE_EIO.
 * @since 0.1
 */
MEWE_API int mewe_module_load_memory(mewe_module **out, mewe_context *ctx, const void *data,
                                     size_t size, const char *name);

/**
 * Links another module into @p dst (LLVM's module linker: definitions are merged, a symbol
 * defined twice is an error). A program often comes as several bitcode files.
 * @param[in] dst The module linked into.
 * @param[in] src **Consumed** on success and on failure alike; must belong to the same
 *            context as @p dst.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL arguments, @p src == @p dst or modules of different
 *         contexts; #MEWE_ELINK if linking fails (@p dst is then unchanged).
 * @since 0.1
 */
MEWE_API int mewe_module_link(mewe_module *dst, mewe_module *src);

/**
 * Loads a file and links it into @p dst: mewe_module_load() then mewe_module_link().
 * @param[in] dst The module linked into.
 * @param[in] path File to read, **borrowed**.
 * @return The codes of mewe_module_load() and mewe_module_link().
 * @since 0.1
 */
MEWE_API int mewe_module_link_file(mewe_module *dst, const char *path);

/**
 * Loads files and links them into @p dst in order, as mewe_module_link_file() does for each,
 * in one step: a program of many bitcode files links in time linear in its size (linking
 * file by file copies the growing module once per file, to keep it unchanged on failure).
 * @param[in] dst The module linked into; unchanged on failure.
 * @param[in] paths @p count files to read, **borrowed**; may be NULL when @p count is 0.
 * @param[in] count How many.
 * @return #MEWE_OK; #MEWE_EINVAL for a NULL @p dst, @p paths or path; the codes of
 *         mewe_module_load() and mewe_module_link(), the message naming the file.
 * @since 0.3
 */
MEWE_API int mewe_module_link_files(mewe_module *dst, const char *const *paths, size_t count);

/**
 * Runs LLVM's verifier on the module.
 * @param[in] module The module.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL, #MEWE_EVERIFY with the verifier's first
 *         complaint in the context's message.
 * @since 0.1
 */
MEWE_API int mewe_module_verify(mewe_module *module);

/**
 * Number of functions defined (with a body) in the module.
 * @param[in] module The module; NULL gives 0.
 * @return The count.
 * @since 0.1
 */
MEWE_API size_t mewe_module_function_count(const mewe_module *module);

/**
 * Name of the index-th defined function, in module order.
 * @param[out] out Receives the name, **borrowed** until the module is next changed or freed.
 * @param[in] module The module.
 * @param[in] index 0 to mewe_module_function_count() - 1.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments or @p index out of range.
 * @since 0.1
 */
MEWE_API int mewe_module_function_at(const char **out, const mewe_module *module, size_t index);

/**
 * Writes the module to a file. The file is written under a temporary name in the same
 * directory and renamed, so a failure never leaves a partial file.
 * @param[in] module The module; not changed.
 * @param[in] path Destination, **borrowed**.
 * @param[in] format #MEWE_FORMAT_BITCODE or #MEWE_FORMAT_TEXT.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL arguments or an unknown format, #MEWE_EIO,
 *         #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_module_write(const mewe_module *module, const char *path, mewe_format format);

/**
 * Writes the module to memory.
 * @param[out] out_data Receives the bytes, **owned** (free with mewe_free()). Text output
 *             is NUL-terminated (the NUL is not counted in @p out_size).
 * @param[out] out_size Receives the size in bytes.
 * @param[in] module The module; not changed.
 * @param[in] format #MEWE_FORMAT_BITCODE or #MEWE_FORMAT_TEXT.
 * @return #MEWE_OK, #MEWE_EINVAL, #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_module_write_memory(void **out_data, size_t *out_size, const mewe_module *module,
                                      mewe_format format);

/**
 * The context a module belongs to.
 * @param[in] module The module.
 * @return **Borrowed** context, or NULL for a NULL @p module.
 * @since 0.1
 */
MEWE_API mewe_context *mewe_module_context(const mewe_module *module);

/**
 * Frees a module.
 * @param[in] module **Consumed**; NULL is accepted.
 * @since 0.1
 */
MEWE_API void mewe_module_free(mewe_module *module);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_MODULE_H */
