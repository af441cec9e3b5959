/* The pipeline on small IR: load (bitcode through the helper), generate, link the
 * dispatchers, report, and compile to a wasm object in memory. Every stage either succeeds
 * or fails with a message; what it makes passes the verifier. */
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) /* small programs: the backend's time grows with the module */
        return 0;
    mewe_context *ctx = fuzz_context();
    mewe_context_set_seed(ctx, size);
    mewe_module *m;
    int rc = mewe_module_load_memory(&m, ctx, data, size, "fuzz.ll");
    fuzz_check(ctx, rc, "mewe_module_load_memory");
    if (rc == MEWE_OK) {
        mewe_generate_options g = MEWE_GENERATE_OPTIONS_INIT;
        g.variants = 2;
        g.min_instructions = 1;
        rc = mewe_generate_variants(m, &g);
        fuzz_check(ctx, rc, "mewe_generate_variants");
    }
    if (rc == MEWE_OK) {
        mewe_link_options l = MEWE_LINK_OPTIONS_INIT;
        rc = mewe_link_multivariant(m, &l);
        fuzz_check(ctx, rc, "mewe_link_multivariant");
    }
    if (rc == MEWE_OK) {
        rc = mewe_module_verify(m);
        if (rc != MEWE_OK) {
            fprintf(stderr, "fuzz: the multivariant module fails verification: %s\n",
                    mewe_context_errmsg(ctx));
            abort();
        }
        char *json;
        size_t json_size;
        rc = mewe_report_json(&json, &json_size, m);
        fuzz_check(ctx, rc, "mewe_report_json");
        if (rc == MEWE_OK)
            mewe_free(json);
        mewe_emit_options e = MEWE_EMIT_OPTIONS_INIT;
        e.kind = MEWE_EMIT_OBJECT;
        void *wasm;
        size_t wasm_size;
        rc = mewe_emit_wasm_memory(&wasm, &wasm_size, m, &e);
        fuzz_check(ctx, rc, "mewe_emit_wasm_memory");
        if (rc == MEWE_OK)
            mewe_free(wasm);
    }
    mewe_context_free(ctx);
    return 0;
}
