/* IR surgery that LLVM-C lacks, shared by the diversifiers and the multivariant linker. */
#ifndef MEWE_IRUTIL_H
#define MEWE_IRUTIL_H

#include <stdbool.h>

#include <llvm-c/Core.h>

/* Moves `at` and everything after it in `bb` into a new block placed after `bb`, ends `bb`
 * with a branch to it, and makes the successors' phis name the new block. Returns it. */
LLVMBasicBlockRef mewe__block_split(LLVMBuilderRef b, LLVMBasicBlockRef bb, LLVMValueRef at);

/* A copy of `m` in the same LLVM context, or NULL when out of memory. LLVMCloneModule cannot be
 * used alone: it maps global initializers before function bodies, so a `blockaddress` in a
 * global (the label table of a computed goto) keeps naming the ORIGINAL function's block,
 * and code generation of the copy turns every entry into `inttoptr (i32 1)`. Modules that
 * take a block's address are therefore copied through bitcode, which has no such order. */
LLVMModuleRef mewe__module_clone(LLVMModuleRef m);

/* Sets fn's string attribute `key` (a function attribute) to value, replacing any. */
void mewe__fn_string_attr_set(LLVMValueRef fn, const char *key, const char *value);
/* The value of fn's string attribute `key` (borrowed from LLVM, not NUL-terminated: *len
 * bytes), or NULL when fn is NULL or lacks it. */
const char *mewe__fn_string_attr_get(LLVMValueRef fn, const char *key, unsigned *len);

/* Sets (on) or removes the enum attribute `name` (e.g. "noinline") on function fn. */
void mewe__fn_enum_attr_set(LLVMValueRef fn, const char *name, bool on);

#endif /* MEWE_IRUTIL_H */
