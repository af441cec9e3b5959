/* Built-in diversifier `pipeline`: the variant goes through a different LLVM pass pipeline,
 * the way another compiler (or another -O level) would have built it: one of a fixed list of
 * function pipelines, drawn per variant, run with LLVMRunPasses. LLVM 19's C API runs passes
 * on a whole module only, so every other function of the module is marked optnone for the
 * run (the pass manager skips optnone functions) and given back its attributes afterwards:
 * only the variant changes. Registered through the public hook API.
 *
 * The passes are LLVM's, trusted as the compiler is; the differential tests run the fixtures
 * with this diversifier alone. Put it first in a mix: it would simplify what the others add.
 * On input already built at -O2 most pipelines change nothing (the passes have run): the
 * shape-changing ones (loop unrolling, switch lowering, loop rotation, tail-call
 * elimination) make most of its distinct variants there; on -O0 or -O1 input all do. */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Error.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "registry.h"

/* Scalar pipelines only: no vectorizers (wasm32 here has no SIMD by default) and no
 * inliner (a variant must stay one function). */
static const char *const pipelines[] = {
    "function(instcombine)",
    "function(early-cse<memssa>,instcombine)",
    "function(reassociate,instcombine)",
    "function(gvn,instcombine)",
    "function(sccp,dce,simplifycfg)",
    "function(loop-simplify,lcssa,loop-mssa(licm),instcombine)",
    "function(jump-threading,simplifycfg)",
    "function(tailcallelim,simplifycfg)",
    "function(loop-simplify,lcssa,loop-unroll<O2>)",
    "function(lower-switch)",
    "function(gvn-sink,simplifycfg)",
    "function(speculative-execution,instcombine)",
    "function(nary-reassociate,instcombine)",
    "function(simplifycfg<hoist-common-insts;sink-common-insts>)",
    "function(loop-simplify,lcssa,loop-rotate<no-header-duplication>)",
    "function(div-rem-pairs,instcombine)",
};
#define PIPELINE_COUNT (sizeof pipelines / sizeof *pipelines)

static unsigned attr_kind(const char *name)
{
    return LLVMGetEnumAttributeKindForName(name, strlen(name));
}

static bool has_attr(LLVMValueRef f, unsigned kind)
{
    return LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind) != NULL;
}

/* Marks (mark = true) or unmarks every defined function but `keep` optnone + noinline;
 * `added` remembers, two bits per function, what this call added, so unmarking removes
 * exactly that. */
static void fence(LLVMValueRef keep, unsigned char *added, bool mark)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(keep));
    unsigned optnone = attr_kind("optnone"), noinline = attr_kind("noinline");
    unsigned alwaysinline = attr_kind("alwaysinline");
    size_t k = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(LLVMGetGlobalParent(keep)); f;
         f = LLVMGetNextFunction(f), k++) {
        if (f == keep || LLVMIsDeclaration(f))
            continue;
        if (mark) {
            added[k] = 0;
            if (!has_attr(f, optnone)) {
                LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                        LLVMCreateEnumAttribute(c, optnone, 0));
                added[k] |= 1;
            }
            if (!has_attr(f, noinline)) {
                LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                        LLVMCreateEnumAttribute(c, noinline, 0));
                added[k] |= 2;
            }
            if (has_attr(f, alwaysinline)) { /* optnone excludes it: kept aside */
                LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, alwaysinline);
                added[k] |= 4;
            }
        } else {
            if (added[k] & 1)
                LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, optnone);
            if (added[k] & 2)
                LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, noinline);
            if (added[k] & 4)
                LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                        LLVMCreateEnumAttribute(c, alwaysinline, 0));
        }
    }
}

static int pipeline(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double which;
    int rc = mewe_hook_param_double(&which, hook, "pipeline", -1, -1, PIPELINE_COUNT - 1);
    if (rc != MEWE_OK)
        return rc;
    size_t pick = which < 0 ? mewe_hook_random_below(hook, PIPELINE_COUNT) : (size_t)which;
    LLVMModuleRef mod = LLVMGetGlobalParent(fn);
    size_t nf = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        nf++;
    unsigned char *added = calloc(nf ? nf : 1, 1);
    if (!added)
        return MEWE_ENOMEM;
    /* The variant itself: an optnone original (copied onto the clone) would skip it. */
    unsigned optnone = attr_kind("optnone");
    bool own_optnone = has_attr(fn, optnone);
    if (own_optnone) {
        free(added);
        return MEWE_OK; /* the user asked for this function not to be optimized */
    }
    fence(fn, added, true);
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(mod, pipelines[pick], NULL, opts);
    LLVMDisposePassBuilderOptions(opts);
    /* Passes add declarations (intrinsics, library calls) at the end of the function list,
     * after the ones `added` covers. */
    fence(fn, added, false);
    free(added);
    if (err) {
        char *msg = LLVMGetErrorMessage(err);
        mewe_hook_set_error(hook, msg);
        LLVMDisposeErrorMessage(msg);
        return MEWE_EUSER;
    }
    return MEWE_OK;
}

int mewe__register_diversifier_pipeline(mewe_context *ctx)
{
    static const char *const params[] = {"pipeline", NULL};
    static const char *const docs[] = {
        "in [-1,15], default -1: which of the 16 function pipelines (instcombine; early-cse; "
        "reassociate; gvn; sccp; licm; jump-threading; tailcallelim; loop-unroll; "
        "lower-switch; gvn-sink; speculative-execution; nary-reassociate; hoist/sink; "
        "loop-rotate; div-rem-pairs), -1 for one drawn per variant",
    };
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "pipeline",
        .description = "the variant through another LLVM pass pipeline, as another compiler "
                       "would have built it",
        .param_names = params,
        .diversify = pipeline,
        .cost_class = MEWE_COST_CHEAP,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
