/* The diversifier and RNG spec parsers ("name:key=value,..."), then the plugins that read
 * the parameters: the input is "DIVERSIFIER-SPEC\nRNG-SPEC", run on a small module through
 * generation and dispatch. */
#include "fuzz-util.h"

static const char module_ir[] =
    "target datalayout = \"e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20\"\n"
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define i32 @mix(i32 %a, i32 %b) {\n"
    "entry:\n"
    "  %x = xor i32 %a, %b\n"
    "  %y = and i32 %a, %b\n"
    "  %z = mul i32 %y, 3\n"
    "  %c = icmp sgt i32 %z, 10\n"
    "  br i1 %c, label %big, label %small\n"
    "big:\n"
    "  %s = add i32 %x, %z\n"
    "  ret i32 %s\n"
    "small:\n"
    "  %t = sub i32 %x, %z\n"
    "  ret i32 %t\n"
    "}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    char *nl = strchr(text, '\n');
    const char *rng = nl ? nl + 1 : NULL;
    if (nl)
        *nl = '\0';
    mewe_context *ctx = fuzz_context();
    /* The module is fixed and known good: no helper needed to load it. */
    if (mewe_context_set_untrusted_input(ctx, 0) != MEWE_OK)
        abort();
    /* The parser alone, against both registries, as tools call it before any work; what it
     * accepts must be what generation and linking accept (checked below). */
    int div_ok = mewe_diversifier_spec_check(ctx, text);
    fuzz_check(ctx, div_ok, "mewe_diversifier_spec_check");
    int rng_ok = rng ? mewe_rng_strategy_spec_check(ctx, rng) : MEWE_OK;
    fuzz_check(ctx, rng_ok, "mewe_rng_strategy_spec_check");
    /* Then what the plugins make of the parameters. */
    mewe_module *m;
    int rc = mewe_module_load_memory(&m, ctx, module_ir, sizeof module_ir - 1, "spec.ll");
    if (rc != MEWE_OK)
        abort();
    mewe_generate_options g = MEWE_GENERATE_OPTIONS_INIT;
    const char *specs[] = {text};
    g.variants = 2;
    g.min_instructions = 1;
    g.diversifiers = specs;
    g.diversifier_count = 1;
    rc = mewe_generate_variants(m, &g);
    fuzz_check(ctx, rc, "mewe_generate_variants");
    /* A spec the check refused is refused by generation too, with the same status. */
    if (div_ok != MEWE_OK && rc != div_ok)
        abort();
    if (rc == MEWE_OK) {
        mewe_link_options l = MEWE_LINK_OPTIONS_INIT;
        l.rng = rng;
        rc = mewe_link_multivariant(m, &l);
        fuzz_check(ctx, rc, "mewe_link_multivariant");
        if (rc == MEWE_OK)
            fuzz_check(ctx, mewe_module_verify(m), "mewe_module_verify");
    }
    mewe_context_free(ctx);
    free(text);
    return 0;
}
