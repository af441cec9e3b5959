/* Built-in diversifier `pipeline`: the variant goes through a different LLVM pass pipeline,
 * the way another compiler (or another -O level) would have built it: one of a fixed list of
 * function pipelines, drawn per variant, run on the variant alone (mewe__run_passes_on):
 * only the variant changes. Registered through the public hook API.
 *
 * The passes are LLVM's, trusted as the compiler is; the differential tests run the fixtures
 * with this diversifier alone. Put it first in a mix: it would simplify what the others add.
 * On input already built at -O2 most pipelines change nothing (the passes have run): the
 * shape-changing ones (loop unrolling, switch lowering, loop rotation, tail-call
 * elimination) make most of its distinct variants there; on -O0 or -O1 input all do. */

#include <llvm-c/Error.h>

#include "ir/irutil.h"
#include "registry.h"

/* Scalar pipelines only: no vectorizers (wasm32 here has no SIMD by default) and no
 * inliner (a variant must stay one function). instcombine without verify-fixpoint, which
 * LLVM 19's pipeline parser turns on: a function that needs one more round would otherwise
 * be a fatal error, the process gone. */
static const char *const pipelines[] = {
    "function(instcombine<no-verify-fixpoint>)",
    "function(early-cse<memssa>,instcombine<no-verify-fixpoint>)",
    "function(reassociate,instcombine<no-verify-fixpoint>)",
    "function(gvn,instcombine<no-verify-fixpoint>)",
    "function(sccp,dce,simplifycfg)",
    "function(loop-simplify,lcssa,loop-mssa(licm),instcombine<no-verify-fixpoint>)",
    "function(jump-threading,simplifycfg)",
    "function(tailcallelim,simplifycfg)",
    "function(loop-simplify,lcssa,loop-unroll<O2>)",
    "function(lower-switch)",
    "function(gvn-sink,simplifycfg)",
    "function(speculative-execution,instcombine<no-verify-fixpoint>)",
    "function(nary-reassociate,instcombine<no-verify-fixpoint>)",
    "function(simplifycfg<hoist-common-insts;sink-common-insts>)",
    "function(loop-simplify,lcssa,loop-rotate<no-header-duplication>)",
    "function(div-rem-pairs,instcombine<no-verify-fixpoint>)",
};
#define PIPELINE_COUNT (sizeof pipelines / sizeof *pipelines)

static int pipeline(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double which;
    int rc = mewe_hook_param_double(&which, hook, "pipeline", -1, -1, PIPELINE_COUNT - 1);
    if (rc != MEWE_OK)
        return rc;
    size_t pick = which < 0 ? mewe_hook_random_below(hook, PIPELINE_COUNT) : (size_t)which;
    /* The variant itself: an optnone original (copied onto the clone) would skip it. */
    if (LLVMGetEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                    LLVMGetEnumAttributeKindForName("optnone", 7)))
        return MEWE_OK; /* the user asked for this function not to be optimized */
    char *msg = NULL;
    rc = mewe__run_passes_on(fn, pipelines[pick], &msg);
    if (rc < 0)
        return MEWE_ENOMEM;
    if (rc > 0) {
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
