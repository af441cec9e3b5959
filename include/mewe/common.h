/**
 * @file common.h
 * @brief Status codes, memory release and version queries shared by every libmewe header.
 */
#ifndef MEWE_COMMON_H
#define MEWE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <mewe/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup common Common definitions
 * @brief Status codes, mewe_free() and version queries.
 *
 * Every fallible libmewe function returns an `int`: #MEWE_OK (0) on success or one of the
 * negative #mewe_status values. The detailed message of a failure is kept on the context
 * (mewe_context_errmsg()). libmewe never aborts, exits or prints.
 * @{
 */

/** Marks a function exported from the shared library. */
#if defined(__GNUC__)
#define MEWE_API __attribute__((visibility("default")))
#else
#define MEWE_API
#endif

/**
 * Status codes. Values are pinned: new codes are only appended.
 * @since 0.1
 */
typedef enum mewe_status {
    MEWE_OK = 0,      /**< Success. */
    MEWE_EINVAL = -1, /**< Invalid argument: NULL, out of range, malformed value. */
    MEWE_ENOMEM = -2, /**< Out of memory. */
    MEWE_EIO = -3,    /**< A file could not be read or written. */
    MEWE_EPARSE =
        -4, /**< Input is not valid LLVM bitcode or textual IR (or, since 0.2, a malformed profile). */
    MEWE_EVERIFY = -5,    /**< A module or function fails LLVM's verifier. */
    MEWE_EVERSION = -6,   /**< Unknown version of an options struct or descriptor. */
    MEWE_ETARGET = -7,    /**< The module's target is unsupported or code generation failed. */
    MEWE_ELINK = -8,      /**< Linking failed (module linking or wasm-ld). */
    MEWE_ETOOL = -9,      /**< An external tool (wasm-ld) is missing or could not run. */
    MEWE_ENOTFOUND = -10, /**< A named thing (function, diversifier, strategy) does not exist. */
    MEWE_EEXIST = -11,    /**< A name is already registered. */
    MEWE_EUSER = -12,     /**< A user callback failed without a libmewe status of its own. */
    MEWE_ESTATE = -13     /**< The call does not fit the object's state. */
} mewe_status;

/**
 * Static text for a status code.
 * @param[in] status A #mewe_status value (any int is accepted).
 * @return Borrowed static string, never NULL; "unknown status" for values not listed.
 * @since 0.1
 */
MEWE_API const char *mewe_status_str(int status);

/**
 * Releases memory that libmewe allocated for the caller (buffers from the `_memory`
 * functions, reports).
 * @param[in] ptr Owned pointer to release; NULL is accepted and ignored.
 * @since 0.1
 */
MEWE_API void mewe_free(void *ptr);

/**
 * Run-time version of the library.
 * @return Borrowed static string "MAJOR.MINOR.PATCH".
 * @since 0.1
 */
MEWE_API const char *mewe_version(void);

/**
 * Run-time version as a number comparable with #MEWE_VERSION_NUMBER.
 * @return MAJOR * 10000 + MINOR * 100 + PATCH.
 * @since 0.1
 */
MEWE_API unsigned int mewe_version_number(void);

/**
 * Version of the LLVM that this libmewe was built with, e.g. "19.1.7".
 * Bitcode from a newer LLVM may not load.
 * @return Borrowed static string.
 * @since 0.1
 */
MEWE_API const char *mewe_llvm_version(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_COMMON_H */
