/* Pieces shared by the in-module generators (`wasi` and `fixed`): their globals, and the IR of
 * one draw. */
#ifndef MEWE_RNG_COMMON_H
#define MEWE_RNG_COMMON_H

#include <mewe/sys/rng.h>

/* An internal i64 global of the module named `name` with initial value `init`, made on first
 * use and shared by every dispatcher. */
LLVMValueRef mewe__rng_global(LLVMModuleRef m, const char *name, uint64_t init);

/* Builds one draw of an index in [0, n) at the builder's position, in `dispatcher`.
 * A draw takes 16 bits from a pool of random bits (global `pool`, which holds up to three
 * 16-bit chunks above a marker bit); when the pool is empty it is refilled from one step of
 * xorshift64* on `state`, after `seed` (an i64 () function, or NULL) has given a state that
 * is still 0. The index is (chunk * n) >> 16: each index's probability differs from 1/n by
 * less than 2^-16, with no modulo. The hot path costs a load, a compare, a mask, a shift, a
 * store and a multiply; the state steps once every three draws. */
LLVMValueRef mewe__rng_draw(LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef state,
                            LLVMValueRef pool, LLVMValueRef seed, LLVMValueRef n);

/* Declares a wasm import: a function `name` imported as `module.field`. */
LLVMValueRef mewe__wasm_import(LLVMModuleRef m, const char *name, LLVMTypeRef fn_type,
                               const char *module, const char *field);

#endif /* MEWE_RNG_COMMON_H */
