/* The cost model and the re-randomization policies: what each dispatcher is planned to do,
 * that the plan is what runs (traces), and that every policy keeps the program's output. */
#include <math.h>
#include <stddef.h>

#include <mewe/sys/llvm.h>

#include "test-util.h"

static void link_emit(mewe_module *m, const mewe_link_options *o, const char *out)
{
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, out));
}

static char *report(mewe_module *m)
{
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    return json;
}

/* The report's object of function `name` (a pointer into json, up to its closing brace). */
static const char *function_json(const char *json, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "{\"name\": \"%s\",", name);
    const char *p = strstr(json, key);
    ck_assert_msg(p != NULL, "no function %s in %s", name, json);
    return p;
}

/* The text value of "key" in the function's object, copied to buf. */
static const char *field(const char *fn_json, const char *key, char *buf, size_t size)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *end = strchr(fn_json, '}');
    const char *p = strstr(fn_json, k);
    ck_assert_msg(p && p < end, "no %s in %.*s", key, (int)(end - fn_json), fn_json);
    p += strlen(k);
    size_t n = strcspn(p, ",}");
    ck_assert_uint_lt(n, size);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static void run_same_as_expected(const char *wasm, const char *fixture, const char *trace)
{
    const char *opts[] = {"--trace", trace, NULL};
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, wasm, trace ? opts : NULL, NULL, NULL, 0), 0);
    ck_assert_int_eq(r.exit_code, 0);
    char *expected = expected_output(fixture);
    ck_assert_str_eq(r.out, expected);
    free(expected);
    wasm_run_result_free(&r);
}

/* The variants function `id` took, in call order, from a trace file. */
static size_t trace_of(const char *path, unsigned id, unsigned *out, size_t max)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    unsigned fn, v;
    size_t n = 0;
    while (fscanf(f, "%u %u", &fn, &v) == 2) {
        if (fn == id && n < max)
            out[n++] = v;
    }
    fclose(f);
    return n;
}

START_TEST(default_plan_follows_the_costs)
{
    mewe_module *m = load_fixture("costs.c");
    link_emit(m, NULL, tpath("c.wasm"));
    run_same_as_expected(tpath("c.wasm"), "costs.c", NULL);
    char *json = report(m), buf[160];
    /* The tiny leaf cannot afford a choice per call: a period, within its budget or the
     * longest one; the long function can, and its variants live inside its dispatcher only
     * if it is small enough. */
    const char *tiny = function_json(json, "tiny");
    ck_assert_str_eq(field(tiny, "policy", buf, sizeof buf), "\"every\"");
    ck_assert_str_eq(field(tiny, "layout", buf, sizeof buf), "\"inline\"");
    ck_assert_int_ge(atoi(field(tiny, "period", buf, sizeof buf)), 64);
    const char *heavy = function_json(json, "heavy");
    ck_assert_str_eq(field(heavy, "policy", buf, sizeof buf), "\"call\"");
    ck_assert(atof(field(heavy, "estimated_overhead", buf, sizeof buf)) <= 0.10 + 1e-9);
    ck_assert(atof(field(heavy, "estimated_cycles_per_call", buf, sizeof buf)) > 500);
    ck_assert_ptr_nonnull(strstr(field(heavy, "policy_reason", buf, sizeof buf), "fits"));
    /* Every dispatcher is counted once in the totals: here only the two policies the cost
     * model chooses from. */
    const char *t = strstr(json, "\"policy_call\": ");
    ck_assert_ptr_nonnull(t);
    unsigned call, instance, every, invocation;
    ck_assert_int_eq(sscanf(t, "\"policy_call\": %u, \"policy_instance\": %u, \"policy_every\": "
                                "%u, \"policy_invocation\": %u", &call, &instance, &every,
                            &invocation), 4);
    ck_assert_uint_ge(call, 1);
    ck_assert_uint_ge(every, 1);
    ck_assert_uint_eq(call + every, 5);
    ck_assert_uint_eq(instance + invocation, 0);
    free(json);
}
END_TEST

START_TEST(unlimited_budget_chooses_at_every_call)
{
    mewe_module *m = load_fixture("costs.c");
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.max_overhead = INFINITY;
    link_emit(m, &o, tpath("c.wasm"));
    run_same_as_expected(tpath("c.wasm"), "costs.c", NULL);
    char *json = report(m), buf[160];
    const char *names[] = {"tiny", "heavy", "step", "block", "main"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        ck_assert_str_eq(field(function_json(json, names[i]), "policy", buf, sizeof buf),
                         "\"call\"");
    ck_assert_ptr_nonnull(strstr(json, "\"max_overhead\": null"));
    free(json);
}
END_TEST

/* Every N calls: a choice lasts N calls on average (N/2 to 3N/2), then is drawn again. */
START_TEST(periodic_choice_lasts_about_n_calls)
{
    mewe_module *m = load_fixture("costs.c");
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.granularity = MEWE_GRANULARITY_EVERY;
    o.period = 16;
    o.trace = 1;
    link_emit(m, &o, tpath("e.wasm"));
    run_same_as_expected(tpath("e.wasm"), "costs.c", tpath("e.trace"));
    char *json = report(m), buf[160];
    unsigned id = (unsigned)atoi(field(function_json(json, "tiny"), "dispatcher_id", buf,
                                       sizeof buf));
    ck_assert_str_eq(field(function_json(json, "tiny"), "period", buf, sizeof buf), "16");
    free(json);
    static unsigned seq[20000];
    size_t n = trace_of(tpath("e.trace"), id, seq, 20000);
    ck_assert_uint_eq(n, 20000);
    /* Changes of variant: a new choice repeats the old one with probability 1/4, so
     * 20000 calls at one choice per 16 give about 20000 / 16 * 3/4 = 937 changes. */
    size_t changes = 0, used[8] = {0};
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(seq[i], 8);
        used[seq[i]]++;
        changes += i > 0 && seq[i] != seq[i - 1];
    }
    ck_assert_msg(changes > 600 && changes < 1300, "%zu changes in %zu calls", changes, n);
    for (int v = 0; v < 4; v++)
        ck_assert_msg(used[v] > 20000 / 8, "variant %d ran %zu times", v, used[v]);
}
END_TEST

/* Per invocation: the caller chooses when it starts; its 50 calls share the choice. */
START_TEST(invocation_choice_is_kept_by_the_caller)
{
    mewe_module *m = load_fixture("costs.c");
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.granularity = MEWE_GRANULARITY_INVOCATION;
    o.trace = 1;
    link_emit(m, &o, tpath("i.wasm"));
    run_same_as_expected(tpath("i.wasm"), "costs.c", tpath("i.trace"));
    char *json = report(m), buf[160];
    unsigned id = (unsigned)atoi(field(function_json(json, "step"), "dispatcher_id", buf,
                                       sizeof buf));
    free(json);
    unsigned seq[1000];
    size_t n = trace_of(tpath("i.trace"), id, seq, 1000);
    ck_assert_uint_eq(n, 1000);
    bool differs = false;
    for (size_t i = 0; i < n; i++) {
        if (i % 50)
            ck_assert_msg(seq[i] == seq[i - 1], "call %zu of an invocation changed variant", i);
        else if (i)
            differs |= seq[i] != seq[i - 1];
    }
    ck_assert_msg(differs, "20 invocations all made the same choice");
}
END_TEST

/* Every policy and both dispatch kinds print what the original prints, over several seeds. */
START_TEST(policies_keep_the_output)
{
    static const char *const fixtures[] = {"costs.c", "recursion.c", "fnptr.c",
                                           "computed_goto.c"};
    mewe_granularity g = (mewe_granularity)(_i % 4);
    mewe_dispatch_kind kind = (_i / 4) % 2 ? MEWE_DISPATCH_TABLE : MEWE_DISPATCH_SWITCH;
    const char *fixture = fixtures[_i / 8];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        mewe_context_set_seed(tctx, seed * 7919 + (uint64_t)_i);
        mewe_module *m = load_fixture(fixture);
        mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
        o.granularity = g;
        o.dispatch = kind;
        o.period = 3; /* short periods: many choices even in short runs */
        link_emit(m, &o, tpath("p.wasm"));
        run_same_as_expected(tpath("p.wasm"), fixture, NULL);
        mewe_module_free(m);
    }
}
END_TEST

/* Small functions carry their variants inside the dispatcher; with inline_limit 1 they
 * stay functions, the original body as variant 0. */
START_TEST(layouts)
{
    for (int limit = 0; limit < 2; limit++) {
        mewe_module *m = load_fixture("costs.c");
        mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
        o.inline_limit = limit ? 1 : 0;
        link_emit(m, &o, tpath("l.wasm"));
        run_same_as_expected(tpath("l.wasm"), "costs.c", NULL);
        LLVMModuleRef llvm = mewe_module_get_llvm(m);
        ck_assert_ptr_nonnull(LLVMGetNamedFunction(llvm, "tiny"));
        ck_assert(!limit == !LLVMGetNamedFunction(llvm, "tiny.mewe.v1"));
        ck_assert(!limit == !LLVMGetNamedFunction(llvm, "tiny.mewe.v0"));
        char *json = report(m), buf[160];
        ck_assert_str_eq(field(function_json(json, "tiny"), "layout", buf, sizeof buf),
                         limit ? "\"call\"" : "\"inline\"");
        ck_assert_str_eq(field(function_json(json, "tiny"), "variants", buf, sizeof buf), "3");
        free(json);
        mewe_module_free(m);
    }
}
END_TEST

/* Debug info survives both layouts (the verifier wants locations on moved calls). */
START_TEST(layouts_with_debug_info)
{
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/computed_goto.c", MEWE_TEST_SRCDIR);
    const char *const argv[] = {MEWE_CLANG, "--target=wasm32-wasi", "-O2", "-g", "-c",
                                "-emit-llvm", src, "-o", tpath("g.bc"), NULL};
    char *log = NULL;
    ck_assert_msg(run_compiler(argv, &log) == 0, "%s", log ? log : "");
    free(log);
    for (int limit = 0; limit < 2; limit++) {
        mewe_module *m;
        ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath("g.bc")));
        mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
        o.inline_limit = limit ? 1 : 0;
        link_emit(m, &o, tpath("g.wasm"));
        run_same_as_expected(tpath("g.wasm"), "computed_goto.c", NULL);
        mewe_module_free(m);
    }
}
END_TEST

START_TEST(link_options_versions_and_values)
{
    mewe_module *m = load_fixture("costs.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    /* A caller built against version 1 passes the shorter struct: the rest is never read
     * (here it holds garbage) and takes its defaults. */
    union {
        mewe_link_options o;
        unsigned char bytes[sizeof(mewe_link_options)];
    } v1;
    memset(v1.bytes, 0xA5, sizeof v1.bytes);
    ck_assert_int_eq(mewe_link_options_init(&v1.o, 1), MEWE_OK);
    for (size_t i = offsetof(mewe_link_options, max_overhead); i < sizeof v1.bytes; i++)
        ck_assert_uint_eq(v1.bytes[i], 0xA5);
    ck_assert_int_eq(v1.o.granularity, MEWE_GRANULARITY_CALL);
    mewe_link_options bad = MEWE_LINK_OPTIONS_INIT;
    bad.version = MEWE_LINK_OPTIONS_VERSION + 1;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &bad), MEWE_EVERSION, "version");
    ck_assert_int_eq(mewe_link_options_init(&bad, MEWE_LINK_OPTIONS_VERSION + 1),
                     MEWE_EVERSION);
    bad = (mewe_link_options)MEWE_LINK_OPTIONS_INIT;
    bad.max_overhead = 0.5;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &bad), MEWE_EINVAL, "max_overhead: 0.5");
    bad.max_overhead = NAN;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &bad), MEWE_EINVAL, "max_overhead");
    bad = (mewe_link_options)MEWE_LINK_OPTIONS_INIT;
    bad.granularity = (mewe_granularity)4;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &bad), MEWE_EINVAL, "granularity: 4");
    ck_assert_mewe_ok(mewe_link_multivariant(m, &v1.o));
    char *json = report(m);
    ck_assert_ptr_nonnull(strstr(json, "\"max_overhead\": 1.1, \"period\": 64"));
    free(json);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = test_case("cost");
    tcase_add_test(tc, default_plan_follows_the_costs);
    tcase_add_test(tc, unlimited_budget_chooses_at_every_call);
    tcase_add_test(tc, periodic_choice_lasts_about_n_calls);
    tcase_add_test(tc, invocation_choice_is_kept_by_the_caller);
    tcase_add_loop_test(tc, policies_keep_the_output, 0, 4 * 8);
    tcase_add_test(tc, layouts);
    tcase_add_test(tc, layouts_with_debug_info);
    tcase_add_test(tc, link_options_versions_and_values);
    suite_add_tcase(s, tc);
    return test_run(s);
}
