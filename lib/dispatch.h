/* Shared by the multivariant linker (multivariant.c) and the call-site dispatch
 * (callsite.c): the state of one mewe_link_multivariant call and of one dispatcher. */
#ifndef MEWE_DISPATCH_H
#define MEWE_DISPATCH_H

#include "plugin.h"

typedef struct mewe__linking {
    mewe_context *ctx;
    const mewe_link_options *o;
    LLVMModuleRef llvm;
    LLVMContextRef c;
    LLVMBuilderRef b;
    mewe__spec rng;
    LLVMTypeRef i32, ptr;
    LLVMValueRef trace_fn;
} mewe__linking;

/* One function with variants, once linked. */
typedef struct mewe__dispatch {
    LLVMValueRef f;       /* the dispatcher, under the original's name */
    const char *name;
    unsigned id;
    LLVMValueRef *all;    /* variants 0..n-1 */
    size_t n;
    LLVMValueRef table;   /* [n x ptr] of the variants (table dispatch), or NULL */
    LLVMValueRef choice;  /* i32: chosen index + 1, 0 before the first call (per instance) */
    LLVMValueRef chosen;  /* ptr: the chosen variant, the dispatcher before (per instance,
                             table dispatch) */
} mewe__dispatch;

/* Asks the RNG strategy for an index in [0, n) at the builder's position in `fn`; `salt`
 * tells apart the places that ask for the same function. */
int mewe__build_choice(mewe__linking *l, LLVMValueRef fn, const char *name, uint64_t salt,
                       LLVMValueRef n, LLVMValueRef *out);

/* Makes every direct call of d->f in the module choose its variant in place, saving the call
 * to the dispatcher. */
int mewe__rewrite_call_sites(mewe__linking *l, mewe__dispatch *d);

#endif /* MEWE_DISPATCH_H */
