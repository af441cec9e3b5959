/* Differential runs of the built-in diversifiers: every fixture, each diversifier alone and
 * the default mix, two seeds, built end to end (generate, link, emit) and run under node; the
 * output must be the original's, byte for byte. One seed keeps every variant a function of
 * its own (inline_limit 1), so that the emitted wasm shows each variant's body: there every
 * variant the report counts must be distinct in the wasm (preservation 1.0). */
#include "test-util.h"

/* The Rust fixture (a 1.4 MB module with its standard library) runs with the default mix
 * only, in its own test: it takes as long as all the C ones. */
static const char *const fixtures[] = {"loops.c",   "recursion.c",     "fnptr.c", "structs.c",
                                       "globals.c", "computed_goto.c", "costs.c", "chunks.c"};
#define N_FIXTURES (int)(sizeof fixtures / sizeof fixtures[0])

/* NULL: the default mix. */
static const char *const specs[] = {NULL,    "subst",  "swap", "blocks",   "layout",
                                    "blind", "opaque", "pad",  "pipeline", "superopt"};
#define N_SPECS (int)(sizeof specs / sizeof specs[0])
#define N_SEEDS 2

static double json_number_after(const char *from, const char *key)
{
    const char *p = strstr(from, key);
    return p ? strtod(p + strlen(key), NULL) : -1.0;
}

static void check(const char *fixture, const char *spec, int seed, int _i);

/* Seeds per fixture and spec: one in the sanitizer pass (MEWE_TEST_QUICK), which looks for
 * memory errors in the library, not for seeds that break a program. */
static int seeds(void)
{
    return test_quick() ? 1 : N_SEEDS;
}

START_TEST(output_is_the_original)
{
    int n = seeds();
    check(fixtures[_i / (N_SPECS * n)], specs[_i / n % N_SPECS], _i % n, _i);
}
END_TEST

START_TEST(rust_output_is_the_original)
{
    check("rust/hello.rs", NULL, _i, 1000 + _i);
}
END_TEST

/* One build and one run: `seed` 1 keeps every variant a function of its own. (A second run
 * of the same build, for other choices, cost a third of this suite's time; the other seed
 * and the other fixtures and specs make many more choices.) */
static void check(const char *fixture, const char *spec, int seed, int _i)
{
    mewe_context_set_seed(tctx, 1000 + (uint64_t)_i);
    mewe_module *m = load_fixture(fixture);
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.variants = 4;
    if (spec) {
        o.diversifiers = &spec;
        o.diversifier_count = 1;
    }
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = seed == 0 ? 0 : 1;
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    ck_assert_mewe_ok(mewe_module_verify(m));
    void *wasm = NULL;
    size_t size = 0;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &size, m, NULL));
    write_file(tpath("d.wasm"), wasm, size);
    char *json = NULL;
    ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, wasm, size));
    mewe_free(wasm);
    const char *w = strstr(json, "\"wasm\": {");
    ck_assert_ptr_nonnull(w);
    double variants = json_number_after(strstr(w, "\"dispatchers\": ["), "],\n    \"variants\": ");
    if (seed == 1 && variants > 0)
        ck_assert_msg(json_number_after(w, "\"preservation\": ") == 1.0,
                      "%s with %s: variants alike in wasm: %s", fixture, spec ? spec : "the mix",
                      w);
    mewe_free(json);
    char *expected = expected_output(fixture);
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("d.wasm"), NULL, NULL, NULL, 0), 0);
    ck_assert_msg(r.exit_code == 0 && strcmp(r.out, expected) == 0,
                  "%s with %s, seed %d: exit %d, output differs:\n%s\nstderr: %s", fixture,
                  spec ? spec : "the default mix", seed, r.exit_code, r.out, r.err);
    wasm_run_result_free(&r);
    free(expected);
}

int main(void)
{
    if (!wasm_run_available()) {
        printf("SKIP: node with node:wasi not found; differential runs need it\n");
        return 77;
    }
    Suite *s = suite_create("diversifiers");
    TCase *tc = test_case("diversifiers");
    tcase_add_loop_test(tc, output_is_the_original, 0, N_FIXTURES * N_SPECS * seeds());
    /* Rust's hello (110,000 instructions once multivariant) goes through the sanitizer pass
     * in test-multivariant.c and test-codegen.c. */
    if (!test_quick())
        tcase_add_loop_test(tc, rust_output_is_the_original, 0, seeds());
    suite_add_tcase(s, tc);
    return test_run(s);
}
