/* nop_padding: a custom diversifier, registered and used alone.
 *
 *   nop_padding PROGRAM.bc OUT.wasm [RATE]
 *
 * The diversifier pads a variant with harmless work: before each instruction, with
 * probability RATE (the spec parameter `rate`, default 0.2), it stores a random constant to a
 * stack slot that nothing ever reads. The variant computes exactly what the original does,
 * but its code differs in where the padding sits and in the constants it stores.
 *
 * The store is volatile: libmewe runs no IR optimisation, but code generation still deletes
 * dead code, and a plain store to a slot never read is dead. A volatile access is kept by
 * every LLVM pass, so the padding reaches the emitted wasm, where diversity counts. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/mewe.h>
#include <mewe/sys/diversifier.h> /* the hook API: needs LLVM-C's headers */

/* What the diversifier keeps across calls: its descriptor's user_data. */
typedef struct pad_stats {
    unsigned long calls; /* variants it was asked to rewrite */
    unsigned long pads;  /* volatile stores it inserted */
} pad_stats;

/* True with probability `rate`. The bits come from mewe_hook_random(), which derives them
 * from the build seed, the function and the variant: the same seed gives the same wasm. */
static int chance(mewe_hook *hook, double rate)
{
    return (double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 < rate;
}

/* The slot lives at the top of the entry block, so that it dominates every use, and is
 * made only for a variant that gets padding (an unused alloca would be noise). LLVM counts
 * a volatile access as a side effect, so the clone of a function that touched no memory
 * must lose its `memory(none)`: a variant's attributes have to stay true. */
static LLVMValueRef pad_slot(LLVMBuilderRef b, LLVMValueRef fn, LLVMTypeRef i32)
{
    unsigned memory = LLVMGetEnumAttributeKindForName("memory", strlen("memory"));
    LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, memory);
    LLVMPositionBuilderBefore(b, LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(fn)));
    return LLVMBuildAlloca(b, i32, "mewe.pad");
}

static void pad_before(LLVMBuilderRef b, LLVMValueRef inst, LLVMValueRef slot, LLVMTypeRef i32,
                       mewe_hook *hook)
{
    LLVMPositionBuilderBefore(b, inst);
    LLVMValueRef k = LLVMConstInt(i32, mewe_hook_random(hook) & 0xffffffffu, 0);
    LLVMSetVolatile(LLVMBuildStore(b, k, slot), 1);
}

/* The mewe_diversify_fn. `fn` is a fresh clone of the function, already in the module;
 * rewriting it is all a diversifier may do. */
static int nop_padding(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    pad_stats *stats = user_data;
    double rate;
    /* Parameters come from the spec ("nop_padding:rate=0.5"); a bad value fails here with
     * a message naming the parameter, and returning the code stops generation. */
    int rc = mewe_hook_param_double(&rate, hook, "rate", 0.2, 0.0, 1.0);
    if (rc != MEWE_OK)
        return rc;
    stats->calls++;
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMValueRef slot = NULL;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef next;
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = next) {
            next = LLVMGetNextInstruction(i);
            /* PHIs must stay first in their block. (Eligible functions have no exception
             * handling, so there are no landing pads to respect.) */
            if (LLVMIsAPHINode(i) || i == slot || !chance(hook, rate))
                continue;
            if (!slot)
                slot = pad_slot(b, fn, i32);
            pad_before(b, i, slot, i32, hook);
            stats->pads++;
        }
    }
    LLVMDisposeBuilder(b);
    return MEWE_OK;
}

/* libmewe copies the descriptor; user_data is ours to read until `destroy`, which runs
 * exactly once: at mewe_context_free(), or before a failed registration returns. */
static int register_nop_padding(mewe_context *ctx, pad_stats **out)
{
    static const char *const params[] = {"rate", NULL}; /* other keys in a spec are refused */
    pad_stats *stats = calloc(1, sizeof *stats);
    if (!stats)
        return MEWE_ENOMEM;
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "nop_padding",
        .description = "volatile stores to an unused stack slot (rate=0.2)",
        .param_names = params,
        .diversify = nop_padding,
        .user_data = stats,
        .destroy = free,
    };
    int rc = mewe_diversifier_register(ctx, &d);
    *out = rc == MEWE_OK ? stats : NULL; /* on failure it is already freed */
    return rc;
}

/* Variants are named f.mewe.vK (K >= 1) until linking adds each f's variant 0. */
static unsigned count_variants(const mewe_module *mod)
{
    unsigned n = 0;
    for (size_t i = 0; i < mewe_module_function_count(mod); i++) {
        const char *name;
        if (mewe_module_function_at(&name, mod, i) == MEWE_OK && strstr(name, ".mewe.v"))
            n++;
    }
    return n;
}

/* The report's "preservation": variants still distinct in the emitted wasm over variants
 * made. Code generation undoes some rewrites; this shows how much of ours survived. The
 * report inspects the wasm it is given. */
static int print_preservation(const mewe_module *mod, const void *wasm, size_t wasm_size)
{
    char *json = NULL;
    int rc = mewe_report_json_wasm(&json, NULL, mod, wasm, wasm_size);
    static const char key[] = "\"preservation\":";
    const char *p = rc == MEWE_OK ? strstr(json, key) : NULL;
    if (p)
        printf("distinct in the wasm: %.4f of them\n", strtod(p + sizeof key - 1, NULL));
    mewe_free(json);
    return rc;
}

static int run(mewe_context *ctx, const pad_stats *stats, const char *in, const char *out,
               const char *rate)
{
    char spec[64];
    snprintf(spec, sizeof spec, "nop_padding:rate=%s", rate);
    /* Only our diversifier: an empty list would mean the built-in set instead. */
    const char *const diversifiers[] = {spec};
    mewe_generate_options gen = MEWE_GENERATE_OPTIONS_INIT;
    gen.diversifiers = diversifiers;
    gen.diversifier_count = 1;
    mewe_module *mod = NULL;
    int rc = mewe_module_load(&mod, ctx, in);
    if (rc == MEWE_OK)
        rc = mewe_generate_variants(mod, &gen);
    /* Fewer variants than calls: a rewrite identical to a kept body is dropped. */
    if (rc == MEWE_OK)
        printf("nop_padding ran %lu times, inserted %lu stores, made %u variants\n", stats->calls,
               stats->pads, count_variants(mod));
    /* Variants kept as functions (small ones would live inside their dispatcher), so that
     * the report can compare each variant's wasm body with the others. */
    mewe_link_options link = MEWE_LINK_OPTIONS_INIT;
    link.inline_limit = 1;
    if (rc == MEWE_OK)
        rc = mewe_link_multivariant(mod, &link);
    /* Emitted to memory, so that the same bytes go to the report and to the file. */
    void *wasm = NULL;
    size_t wasm_size = 0;
    if (rc == MEWE_OK)
        rc = mewe_emit_wasm_memory(&wasm, &wasm_size, mod, NULL);
    if (rc == MEWE_OK)
        rc = print_preservation(mod, wasm, wasm_size);
    if (rc == MEWE_OK) {
        FILE *f = fopen(out, "wb");
        bool written = f && fwrite(wasm, 1, wasm_size, f) == wasm_size;
        if ((f && fclose(f) != 0) || !written) {
            fprintf(stderr, "nop_padding: cannot write %s\n", out);
            rc = MEWE_EIO;
        }
    }
    mewe_free(wasm);
    mewe_module_free(mod);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s PROGRAM.bc OUT.wasm [RATE]\n", argv[0]);
        return 2;
    }
    mewe_context *ctx = NULL;
    int rc = mewe_context_new(&ctx);
    if (rc != MEWE_OK) {
        fprintf(stderr, "nop_padding: %s\n", mewe_status_str(rc));
        return 1;
    }
    pad_stats *stats = NULL;
    rc = register_nop_padding(ctx, &stats);
    if (rc == MEWE_OK)
        rc = run(ctx, stats, argv[1], argv[2], argc == 4 ? argv[3] : "0.2");
    if (rc == MEWE_OK)
        printf("wrote %s\n", argv[2]);
    else
        fprintf(stderr, "nop_padding: %s: %s\n", mewe_status_str(rc), mewe_context_errmsg(ctx));
    mewe_context_free(ctx); /* runs `destroy`: frees the stats */
    return rc == MEWE_OK ? 0 : 1;
}
