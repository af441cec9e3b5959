/**
 * @file sys/llvm.h
 * @brief Access to the LLVM-C objects behind libmewe's handles, for tools that mix libmewe
 *        with their own LLVM-C code.
 */
#ifndef MEWE_SYS_LLVM_H
#define MEWE_SYS_LLVM_H

#include <llvm-c/Core.h>

#include <mewe/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup sys_llvm LLVM access
 * @brief The LLVM-C handles behind a context and a module.
 *
 * Changes made through these handles must leave the module valid for LLVM's verifier;
 * check with mewe_module_verify().
 * @{
 */

/**
 * The LLVM context owned by a libmewe context.
 * @param[in] ctx The context.
 * @return **Borrowed** until mewe_context_free(); NULL for a NULL @p ctx. Never dispose it.
 * @since 0.1
 */
MEWE_API LLVMContextRef mewe_context_get_llvm(mewe_context *ctx);

/**
 * The LLVM module behind a libmewe module.
 * @param[in] module The module.
 * @return **Borrowed** until mewe_module_free(); NULL for a NULL @p module. Never dispose it.
 * @since 0.1
 */
MEWE_API LLVMModuleRef mewe_module_get_llvm(mewe_module *module);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_SYS_LLVM_H */
