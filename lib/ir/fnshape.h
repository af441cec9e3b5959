/* Structural identity of function bodies.
 *
 * Lets the driver drop a diversified variant that came out identical to one it already kept.
 * Two bodies have the same shape when they differ at most in value names and the function's
 * own name. Debug intrinsic calls (llvm.dbg.*) are ignored everywhere, since clones never
 * carry them. */
#ifndef MEWE_FNSHAPE_H
#define MEWE_FNSHAPE_H

#include <stdbool.h>
#include <stdint.h>

#include <llvm-c/Core.h>

/* Hash of fn's shape: functions with equal shapes have equal hashes. */
uint64_t mewe__function_shape_hash(LLVMValueRef fn);

/* Whether a and b have the same shape (false also when out of memory, which only costs a
 * missed deduplication). */
bool mewe__function_shape_equal(LLVMValueRef a, LLVMValueRef b);

/* Whether inst is a call to an llvm.dbg.* intrinsic. */
bool mewe__instruction_is_debug(LLVMValueRef inst);

#endif /* MEWE_FNSHAPE_H */
