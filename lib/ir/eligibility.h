/*
 * eligibility.h - which functions may be cloned and diversified.
 *
 * Some functions cannot be duplicated safely (their identity or control flow
 * is observable, e.g. returns_twice, or a block address that escapes) or cannot be copied with
 * the LLVM-C API (exception-handling pads); the driver skips them and reports
 * why.
 */
#ifndef MEWE_ELIGIBILITY_H
#define MEWE_ELIGIBILITY_H

#include <llvm-c/Core.h>

/*
 * NULL when fn can be cloned and diversified, else a static reason, one of:
 * "intrinsic", "declaration", "available_externally", "naked", "variadic",
 * "exception handling", "returns_twice call", "musttail call", "inline asm",
 * or one of mewe__labels_check's reasons (a block address that escapes the
 * function, labels.h). When several apply, the first in that order wins (body
 * checks report the first offending instruction).
 */
const char *mewe__function_ineligible_reason(LLVMValueRef fn);

/* Instructions in fn's body, not counting debug intrinsic calls. */
unsigned mewe__function_instruction_count(LLVMValueRef fn);

#endif /* MEWE_ELIGIBILITY_H */
