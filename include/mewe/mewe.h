/**
 * @file mewe.h
 * @brief Umbrella header of libmewe: multi-variant execution for WebAssembly.
 *
 * The pipeline: mewe_module_load() → mewe_generate_variants() → mewe_link_multivariant()
 * → mewe_emit_wasm(). The hook API for custom diversifiers and RNG strategies, which exposes
 * LLVM-C types, is in the headers under `mewe/sys/`.
 */
#ifndef MEWE_MEWE_H
#define MEWE_MEWE_H

#include <mewe/common.h>
#include <mewe/context.h>
#include <mewe/emit.h>
#include <mewe/module.h>
#include <mewe/multivariant.h>
#include <mewe/options.h>
#include <mewe/profile.h>
#include <mewe/report.h>
#include <mewe/variants.h>
#include <mewe/version.h>

#endif /* MEWE_MEWE_H */
