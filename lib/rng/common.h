/* Pieces shared by the in-module generators (`wasi` and `fixed`): their globals, and the IR of
 * one draw. */
#ifndef MEWE_RNG_COMMON_H
#define MEWE_RNG_COMMON_H

#include <mewe/sys/rng.h>

/* An internal i64 wasm global of the module named `name`, starting at 0, made on first use
 * and shared by every dispatcher. It starts at 0 because LLVM's wasm backend emits every wasm
 * global (address space 1) with a zero initializer, whatever the IR says. */
LLVMValueRef mewe__rng_global(LLVMModuleRef m, const char *name);

/* Builds one draw of an index in [0, n) at the builder's position, in `dispatcher`.
 * A draw takes bits from a pool (global `pool`: up to 48 random bits below a marker bit);
 * when fewer are left than a draw needs, the pool is refilled from one step of xorshift64*
 * on `state`, after `seed` (an i64 () function, or NULL) has given a state that is still 0.
 * For n a power of two a draw takes log2(n) bits and the index is exactly uniform; otherwise
 * it takes 16 bits and the index is (bits * n) >> 16, each index's probability differing
 * from 1/n by less than 2^-16, with no modulo. The hot path costs a load, a compare, a mask,
 * a shift and a store (and a multiply for other n). */
LLVMValueRef mewe__rng_draw(LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef state,
                            LLVMValueRef pool, LLVMValueRef seed, LLVMValueRef n);

/* Declares a wasm import: a function `name` imported as `module.field`. */
LLVMValueRef mewe__wasm_import(LLVMModuleRef m, const char *name, LLVMTypeRef fn_type,
                               const char *module, const char *field);

#endif /* MEWE_RNG_COMMON_H */
