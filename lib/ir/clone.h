/* Copies a function body into a new function of the same module.
 *
 * Diversifiers work on clones so that the original stays available (for example as the target
 * of recursive calls and as a fallback variant). */
#ifndef MEWE_CLONE_H
#define MEWE_CLONE_H

#include "internal.h"

/* Creates in fn's module a function named new_name with fn's type, attributes, calling
 * convention, personality, GC, section, alignment, unnamed_addr, visibility, linkage (the
 * caller is expected to change it), non-debug function metadata, parameter names and a full
 * copy of its body. Debug info is not carried over: no !dbg locations, debug intrinsic calls,
 * debug records or DISubprogram, and llvm.loop metadata that holds source locations is
 * dropped. Calls from the body to fn itself keep calling fn. When fn takes its blocks'
 * addresses (computed goto), the clone's block addresses name its own blocks and the label
 * tables are copied for it (labels.h); delete such a clone with mewe__function_delete, which
 * deletes those copies too.
 *
 * Returns MEWE_OK with *out the new function; else nothing is added to the module, *out is
 * NULL and the context's message names fn: MEWE_EINVAL (fn is not a function with a body, or
 * new_name is empty, or fn's block addresses escape it: mewe__labels_check's reason),
 * MEWE_EEXIST (new_name is taken), MEWE_ENOMEM, or MEWE_EVERIFY (the copy
 * fails the verifier, quoting its first complaint; a body the verifier rejects makes a broken
 * copy). */
int mewe__function_clone(LLVMValueRef *out, mewe_context *ctx, LLVMValueRef fn,
                         const char *new_name);

/* Copies fn's attributes (function, return, parameters) and its function-level properties
 * (linkage, visibility, calling convention, section, alignment, GC, personality, metadata but
 * the DISubprogram) onto dst, which has the same type. MEWE_OK or MEWE_ENOMEM. */
int mewe__function_copy_properties(LLVMValueRef src, LLVMValueRef dst);

#endif /* MEWE_CLONE_H */
