/* Pieces shared by the in-module generators (`wasi` and `fixed`): the state global and the
 * xorshift64* step that turns it into an index. */
#ifndef MEWE_RNG_COMMON_H
#define MEWE_RNG_COMMON_H

#include <mewe/sys/rng.h>

/* The module's generator state: an internal i64 global named `name` with initial value
 * `init`, made on first use and shared by every dispatcher. */
LLVMValueRef mewe__rng_state(LLVMModuleRef m, const char *name, uint64_t init);

/* Advances the state with xorshift64* and maps the output to [0, n) by multiply-shift:
 * index = (hi32(x * M) * n) >> 32. Each index's probability differs from 1/n by less than
 * 2^-32 (no modulo bias beyond that bound). Builds at the builder's position. */
LLVMValueRef mewe__rng_step(LLVMBuilderRef b, LLVMValueRef state_global, LLVMValueRef state,
                            LLVMValueRef n);

/* Declares a wasm import: a function `name` imported as `module.field`. */
LLVMValueRef mewe__wasm_import(LLVMModuleRef m, const char *name, LLVMTypeRef fn_type,
                               const char *module, const char *field);

#endif /* MEWE_RNG_COMMON_H */
