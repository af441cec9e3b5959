/*
 * clone.h - copy a function body into a new function of the same module.
 *
 * Diversifiers work on clones so that the original stays available (for
 * example as the target of recursive calls and as a fallback variant).
 */
#ifndef MEWE_CLONE_H
#define MEWE_CLONE_H

#include <llvm-c/Core.h>

/*
 * Create in fn's module a function named new_name with fn's type, attributes,
 * calling convention, personality, GC, section, alignment, unnamed_addr,
 * visibility, linkage (the caller is expected to change it), non-debug
 * function metadata, parameter names and a full copy of its body. Debug info
 * is not carried over: no !dbg locations, debug intrinsic calls, debug records
 * or DISubprogram, and llvm.loop metadata that holds source locations is
 * dropped. Calls from the body to fn itself keep calling fn. When fn takes
 * its blocks' addresses (computed goto), the clone's block addresses name its
 * own blocks and the label tables are copied for it (labels.h); a function
 * whose block addresses escape (mewe__labels_check) is not cloned. Delete a
 * clone with mewe__function_delete, which deletes those copies too.
 *
 * Returns the new function, or NULL with nothing added to the module and,
 * if errmsg is not NULL, *errmsg set to a malloc'd message (free() it; it
 * may be NULL if even that allocation failed).
 */
LLVMValueRef mewe__function_clone(LLVMValueRef fn, const char *new_name, char **errmsg);

/* Copies fn's attributes (function, return, parameters) and its function-level properties
 * (linkage, visibility, calling convention, section, alignment, GC, personality, metadata but
 * the DISubprogram) onto dst, which has the same type. 0 on success, -1 out of memory. */
int mewe__function_copy_properties(LLVMValueRef src, LLVMValueRef dst);

#endif /* MEWE_CLONE_H */
