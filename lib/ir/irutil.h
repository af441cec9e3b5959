/* IR surgery that LLVM-C lacks, shared by the diversifiers and the multivariant linker. */
#ifndef MEWE_IRUTIL_H
#define MEWE_IRUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <llvm-c/Core.h>

/* Moves `at` and everything after it in `bb` into a new block placed after `bb`, ends `bb`
 * with a branch to it, and makes the successors' phis name the new block. Returns it. */
LLVMBasicBlockRef mewe__block_split(LLVMBuilderRef b, LLVMBasicBlockRef bb, LLVMValueRef at);

/* Lays out fn's blocks (all but the entry; with !loops_too, only those outside loops) in an
 * order drawn from the hook's stream (Fisher-Yates over their positions); the others keep
 * theirs. The code is unchanged; only its order is. MEWE_OK or MEWE_ENOMEM. */
struct mewe_hook;
int mewe__blocks_shuffle(struct mewe_hook *hook, LLVMValueRef fn, bool loops_too);

/* Rebuilds `phi` with incoming block `to` wherever it names `from` (the C API cannot set a
 * phi's incoming block), or without those entries when `to` is NULL; the builder is left
 * before the new phi. */
void mewe__phi_retarget(LLVMBuilderRef b, LLVMValueRef phi, LLVMBasicBlockRef from,
                        LLVMBasicBlockRef to);

/* Runs the new pass manager's `pipeline` (LLVMRunPasses syntax, module passes allowed) on
 * function fn alone: LLVM 19's C API runs passes on a whole module only, so every other
 * defined function is marked optnone + noinline for the run (the passes skip optnone
 * functions) and given back exactly its attributes afterwards. Returns 0; -1 when out of
 * memory; 1 when LLVM fails, with its message in *msg (free with LLVMDisposeErrorMessage). */
int mewe__run_passes_on(LLVMValueRef fn, const char *pipeline, char **msg);
/* The same on the functions fns[0 .. n) (n >= 1, all of one module) together. */
int mewe__run_passes_on_all(LLVMValueRef const *fns, size_t n, const char *pipeline, char **msg);

/* The functions of a module fenced off from pass runs for a while, as mewe__run_passes_on
 * fences them for one: many runs on one function at a time then pay for fencing every
 * function once, not at every run (in a module of thousands of functions, most of a run's
 * time). Functions made while it lasts are not fenced until mewe__fence_add_new. */
typedef struct mewe__fence mewe__fence;
/* Fences every defined function of m; NULL when out of memory. */
mewe__fence *mewe__fence_new(LLVMModuleRef m);
/* Fences the defined functions made since (0, or -1 when out of memory). */
int mewe__fence_add_new(mewe__fence *f);
/* Gives every fenced function back exactly its attributes; f may be NULL. */
void mewe__fence_free(mewe__fence *f);
/* mewe__run_passes_on_all within the fence: fns are let through for the run. */
int mewe__run_passes_in(mewe__fence *f, LLVMValueRef const *fns, size_t n, const char *pipeline,
                        char **msg);

/* A copy of `m` in the same LLVM context, or NULL when out of memory. LLVMCloneModule cannot be
 * used alone: it maps global initializers before function bodies, so a `blockaddress` in a
 * global (the label table of a computed goto) keeps naming the ORIGINAL function's block,
 * and code generation of the copy turns every entry into `inttoptr (i32 1)`. Modules that
 * take a block's address are therefore copied through bitcode, which has no such order. */
LLVMModuleRef mewe__module_clone(LLVMModuleRef m);

/* A module's state kept in bitcode, so that a change made in place can be undone: cheaper
 * than working on a clone (for libxml2 once diversified, 0.5 s to write against 1.5 s to
 * clone, and a small share of the memory). NULL when out of memory. */
LLVMMemoryBufferRef mewe__module_backup(LLVMModuleRef m);
/* The module as it was backed up, in the LLVM context `c`; the backup stays the caller's.
 * NULL when out of memory. */
LLVMModuleRef mewe__module_restore(LLVMContextRef c, LLVMMemoryBufferRef backup);

/* Builds an expression of the rules language (diversifiers/rules.h) over a and b, which have
 * the same integer type, before the builder's position. NULL for a malformed expression. */
LLVMValueRef mewe__build_rpn(LLVMBuilderRef b, const char *rpn, LLVMValueRef a, LLVMValueRef bv);

/* The same expression on numbers of `width` bits (1 to 64), for values the build computes
 * ahead; false for a malformed expression. */
bool mewe__eval_rpn(const char *rpn, unsigned width, uint64_t a, uint64_t b, uint64_t *out);

/* Sets fn's string attribute `key` (a function attribute) to value, replacing any. */
void mewe__fn_string_attr_set(LLVMValueRef fn, const char *key, const char *value);
/* The value of fn's string attribute `key` (borrowed from LLVM, not NUL-terminated: *len
 * bytes), or NULL when fn is NULL or lacks it. */
const char *mewe__fn_string_attr_get(LLVMValueRef fn, const char *key, unsigned *len);

/* Sets (on) or removes the enum attribute `name` (e.g. "noinline") on function fn. */
void mewe__fn_enum_attr_set(LLVMValueRef fn, const char *name, bool on);

#endif /* MEWE_IRUTIL_H */
