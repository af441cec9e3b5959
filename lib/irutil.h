/* IR surgery that LLVM-C lacks, shared by the diversifiers and the multivariant linker. */
#ifndef MEWE_IRUTIL_H
#define MEWE_IRUTIL_H

#include <stdbool.h>

#include <llvm-c/Core.h>

/* Moves `at` and everything after it in `bb` into a new block placed after `bb`, ends `bb`
 * with a branch to it, and makes the successors' phis name the new block. Returns it. */
LLVMBasicBlockRef mewe__block_split(LLVMBuilderRef b, LLVMBasicBlockRef bb, LLVMValueRef at);

#endif /* MEWE_IRUTIL_H */
