/* Pieces shared by the in-module generators (`wasi` and `fixed`): their globals, the IR of one
 * draw, and the two generators that refill the draws' pool (ChaCha8, the default, and
 * xorshift64*, the fast non-cryptographic option). */
#ifndef MEWE_RNG_COMMON_H
#define MEWE_RNG_COMMON_H

#include <stdbool.h>

#include <mewe/sys/rng.h>

/* Rounds of the default generator's ChaCha: see chacha.c for why 8. */
#define MEWE__CHACHA_ROUNDS 8

/* An internal wasm global of the module named `name`, of integer type `type`, starting at 0,
 * made on first use and shared by every dispatcher. It starts at 0 because LLVM's wasm
 * backend emits every wasm global (address space 1) with a zero initializer, whatever the IR
 * says: the generators detect "not seeded yet" as zero. */
LLVMValueRef mewe__rng_global_of(LLVMModuleRef m, const char *name, LLVMTypeRef type);
/* The same for an i64 global. */
LLVMValueRef mewe__rng_global(LLVMModuleRef m, const char *name);

/* Builds one draw of an index in [0, n) at the builder's position, in `fn`.
 * A draw takes bits from a pool (the i64 global `pool`: random bits below a marker bit);
 * when fewer are left than a draw needs, it calls `refill` (an out-of-line i64 () function
 * from mewe__rng_chacha_refill() or mewe__rng_xorshift_refill()) for fresh bits with the
 * marker above them. For n a power of two a draw takes log2(n) bits and the index is exactly
 * uniform; otherwise it takes 16 bits and the index is (bits * n) >> 16, each index's
 * probability differing from 1/n by less than 2^-16, with no modulo. The hot path costs a
 * load, a compare, a mask, a shift and a store (and a multiply for other n). */
LLVMValueRef mewe__rng_draw(LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef pool,
                            LLVMValueRef refill, LLVMValueRef n);

/* Declares a wasm import: a function `name` imported as `module.field`. */
LLVMValueRef mewe__wasm_import(LLVMModuleRef m, const char *name, LLVMTypeRef fn_type,
                               const char *module, const char *field);

/* wasi_snapshot_preview1.random_get(ptr buf, i32 len) -> i32 errno, declared once. */
LLVMValueRef mewe__rng_random_get(LLVMModuleRef m);

/* The internal, never inlined function `name` of type `fn_type` (cold if asked), in *out.
 * When the module lacks it, it is made with an empty entry block and the result is a builder
 * at the end of that block, for the caller to fill and dispose; when the module has it
 * already, the result is NULL. */
LLVMBuilderRef mewe__rng_helper(LLVMValueRef *out, LLVMModuleRef m, const char *name,
                                LLVMTypeRef fn_type, bool cold);

/* At b's position in fn: `value`, or where `cond` holds what the call of `callee` (no
 * arguments, returning value's type) gives instead. The call gets a block of its own,
 * `call_block`; the builder is left in the join block, `join_block`. */
LLVMValueRef mewe__rng_call_if(LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef cond,
                               LLVMValueRef value, LLVMValueRef callee, const char *call_block,
                               const char *join_block);

/* The in-module generators, chosen by the parameter `gen` of `wasi` and `fixed`. */
typedef enum mewe__rng_gen {
    MEWE__RNG_CHACHA = 0, /* "chacha": ChaCha8 with fast key erasure (default) */
    MEWE__RNG_XORSHIFT    /* "xorshift": xorshift64*, fast, predictable from its output */
} mewe__rng_gen;

/* Reads the hook's parameter `gen`; MEWE_EINVAL (with the hook's error set) if unknown. */
int mewe__rng_gen_param(mewe__rng_gen *out, mewe_hook *hook);

/* The refill function of a ChaCha generator whose globals are named `prefix`.*: key (8 i32),
 * counter (i64), out0..3 (i64, the unread output) and left (i32, how many out words are
 * unread). Each refill returns the next out word's 63 low bits under a marker at bit 63;
 * when none is left, one ChaCha block (`rounds` rounds, 64-bit counter, zero nonce) gives
 * 512 bits: the first 256 become the next key (fast key erasure), the other 256 the four out
 * words. A key that is still all zero is seeded first: with `key` (8 words) when not NULL,
 * else from wasi random_get. */
LLVMValueRef mewe__rng_chacha_refill(LLVMModuleRef m, const char *prefix, const uint32_t *key,
                                     unsigned rounds);

/* Builds the ChaCha block function on the 16 i32 values `x` (constants, key, counter and
 * nonce, in RFC 8439's order): `rounds` rounds (even), then the input added word by word.
 * On return `x` holds the 16 output words. Exposed for the tests' RFC 8439 vectors. */
void mewe__rng_chacha_block(LLVMBuilderRef b, unsigned rounds, LLVMValueRef x[16]);

/* The refill function of an xorshift64* generator whose state is the i64 global `state`
 * (named `prefix`.state): one step, whose 48 high output bits come back under a marker at
 * bit 48; a state still 0 first takes the value of `seed` (an i64 () function, never 0). */
LLVMValueRef mewe__rng_xorshift_refill(LLVMModuleRef m, const char *prefix, LLVMValueRef seed);

#endif /* MEWE_RNG_COMMON_H */
