/* round_robin: a custom RNG strategy that is not random at all.
 *
 *   round_robin PROGRAM.bc OUT.wasm [REPORT.json]
 *
 * Each dispatcher calls its variants in turn: 0, 1, ..., N-1, 0, 1, ... A strategy builds,
 * inside every dispatcher, the IR that computes the index of the variant to call; here that
 * IR reads and advances a counter kept in a global of the module. Useful to test that every
 * variant of every function works (each one gets its turn), and it shows the shape of a real
 * strategy. The output is linked with tracing on: every dispatch calls the import
 * mewe_trace.record(function id, variant), so a run shows the cycle.
 *
 * The counters are per dispatcher, `mewe.round_robin.counter.<function>`: one counter shared
 * by all would interleave the functions' cycles. Names starting with `mewe.` mark libmewe's
 * helpers, which are never diversified nor listed in the report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/mewe.h>
#include <mewe/sys/rng.h> /* the hook API: needs LLVM-C's headers */

/* The dispatcher's counter: an internal i32 starting at 0. Looked up first, as strategies
 * should, so that a second build for the same function reuses it. */
static LLVMValueRef counter_for(LLVMModuleRef m, LLVMValueRef dispatcher, LLVMTypeRef i32)
{
    size_t len;
    const char *fn = LLVMGetValueName2(dispatcher, &len);
    static const char prefix[] = "mewe.round_robin.counter.";
    char *name = malloc(sizeof prefix + len);
    if (!name)
        return NULL;
    memcpy(name, prefix, sizeof prefix - 1);
    memcpy(name + sizeof prefix - 1, fn, len + 1);
    LLVMValueRef g = LLVMGetNamedGlobal(m, name);
    if (!g) {
        g = LLVMAddGlobal(m, i32, name);
        LLVMSetLinkage(g, LLVMInternalLinkage); /* nothing outside the module sees it */
        LLVMSetInitializer(g, LLVMConstInt(i32, 0, 0));
    }
    free(name);
    return g;
}

/* The mewe_rng_build_fn, called once per dispatcher at link time. It emits, at the
 * builder's position:  index = counter; counter = index + 1 == N ? 0 : index + 1.
 * Wrapping with a compare rather than a remainder keeps the cycle exact forever. */
static int build(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher,
                 LLVMValueRef variant_count, LLVMValueRef *out_index, void *user_data)
{
    unsigned *built = user_data;
    LLVMTypeRef i32 = LLVMTypeOf(variant_count);
    LLVMValueRef counter = counter_for(LLVMGetGlobalParent(dispatcher), dispatcher, i32);
    if (!counter) {
        mewe_hook_set_error(hook, "out of memory"); /* becomes the context's message */
        return MEWE_ENOMEM;
    }
    LLVMValueRef index = LLVMBuildLoad2(b, i32, counter, "rr.index");
    LLVMValueRef next = LLVMBuildAdd(b, index, LLVMConstInt(i32, 1, 0), "rr.next");
    LLVMValueRef wrap = LLVMBuildICmp(b, LLVMIntEQ, next, variant_count, "rr.wrap");
    LLVMBuildStore(b, LLVMBuildSelect(b, wrap, LLVMConstInt(i32, 0, 0), next, ""), counter);
    *out_index = index; /* always in [0, N): the dispatcher trusts it */
    ++*built;
    return MEWE_OK;
}

static int run(mewe_context *ctx, const char *in, const char *out, const char *report)
{
    mewe_link_options link = MEWE_LINK_OPTIONS_INIT;
    link.rng = "round_robin"; /* a spec, like "fixed:seed=1"; ours takes no parameters */
    link.trace = 1;
    /* An unlimited budget: every call asks the strategy, so the trace shows its cycle (by
     * default the cost model asks it every N calls where a choice per call costs too much). */
    link.max_overhead = INFINITY;
    mewe_module *mod = NULL;
    int rc = mewe_module_load(&mod, ctx, in);
    if (rc == MEWE_OK)
        rc = mewe_generate_variants(mod, NULL);
    if (rc == MEWE_OK)
        rc = mewe_link_multivariant(mod, &link);
    if (rc == MEWE_OK)
        rc = mewe_emit_wasm(mod, NULL, out);
    if (rc == MEWE_OK && report) /* maps dispatcher ids, as traced, to function names */
        rc = mewe_report_write(mod, report);
    mewe_module_free(mod);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s PROGRAM.bc OUT.wasm [REPORT.json]\n", argv[0]);
        return 2;
    }
    mewe_context *ctx = NULL;
    int rc = mewe_context_new(&ctx);
    if (rc != MEWE_OK) {
        fprintf(stderr, "round_robin: %s\n", mewe_status_str(rc));
        return 1;
    }
    /* user_data may point anywhere that outlives the context; a local needs no destroy. */
    unsigned built = 0;
    mewe_rng_strategy s = {
        .version = MEWE_RNG_STRATEGY_VERSION,
        .name = "round_robin",
        .description = "each dispatcher calls its variants in turn (not random: for tests)",
        .build = build,
        .user_data = &built,
    };
    rc = mewe_rng_strategy_register(ctx, &s);
    if (rc == MEWE_OK)
        rc = run(ctx, argv[1], argv[2], argc == 4 ? argv[3] : NULL);
    if (rc == MEWE_OK)
        printf("round_robin built %u dispatchers; wrote %s\n", built, argv[2]);
    else
        fprintf(stderr, "round_robin: %s: %s\n", mewe_status_str(rc), mewe_context_errmsg(ctx));
    mewe_context_free(ctx);
    return rc == MEWE_OK ? 0 : 1;
}
