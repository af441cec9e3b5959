/* Which functions may be cloned and diversified, and how big they are.
 *
 * Some functions cannot be duplicated safely (their identity or control flow is observable,
 * e.g. returns_twice, or a block address that escapes) or cannot be copied with the LLVM-C
 * API (exception-handling pads); the driver skips them and reports why. */
#ifndef MEWE_ELIGIBILITY_H
#define MEWE_ELIGIBILITY_H

#include <stddef.h>

#include <llvm-c/Core.h>

/* The mark of a function the link drops (mewe_module_exclude_unlinked): its value is the
 * key of the link options that drop it (16 hex digits and a NUL: MEWE__LINKING_KEY_SIZE),
 * or empty when the module has inline assembly. */
#define MEWE__ATTR_UNLINKED    "mewe-unlinked"
#define MEWE__LINKING_KEY_SIZE 17

/* NULL when fn can be cloned and diversified, else a static reason, one of: "intrinsic",
 * "declaration", "available_externally", "naked", "variadic", "dropped by the link"
 * (mewe_module_exclude_unlinked), "exception handling", "returns_twice call", "musttail
 * call", "inline asm", or one of mewe__labels_check's (a block address that escapes the
 * function, labels.h). When several apply, the first in that order wins (body checks report
 * the first offending instruction). */
const char *mewe__function_ineligible_reason(LLVMValueRef fn);

/* Instructions in fn's body, not counting debug intrinsic calls (a build with -g must not
 * look bigger). The only instruction count in libmewe: the minimum size, the size budget and
 * the report's before/after all use it, so they compare like with like. */
unsigned mewe__function_instruction_count(LLVMValueRef fn);

/* The sum of mewe__function_instruction_count over the module's functions. */
size_t mewe__module_instruction_count(LLVMModuleRef m);

#endif /* MEWE_ELIGIBILITY_H */
