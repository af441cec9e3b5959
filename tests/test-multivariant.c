/* mewe_link_multivariant, RNG strategies, tracing and external variants, end to end: the
 * multivariant binary must print exactly what the original prints, run after run, while its
 * dispatchers really choose at random. */
#include <math.h>
#include <pthread.h>

#include <mewe/sys/llvm.h>
#include <mewe/sys/rng.h>

#include "test-util.h"

static const char *const fixtures[] = {"loops.c",   "recursion.c", "fnptr.c",
                                       "structs.c", "globals.c",   "computed_goto.c"};
#define N_FIXTURES (int)(sizeof fixtures / sizeof fixtures[0])

typedef struct repeat_result {
    int runs, mismatches, distinct;
    double ratio, entropy;
    char *raw;
} repeat_result;

/* The sanitizer pass (test_quick) repeats the same wasm run a tenth as often. */
static int scaled(int runs)
{
    if (!test_quick())
        return runs;
    return runs / 10 > 3 ? runs / 10 : 3;
}

static double json_number(const char *json, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(json, k);
    ck_assert_msg(p != NULL, "no %s in %s", key, json);
    return strtod(p + strlen(k), NULL);
}

/* Runs a module `runs` times in fresh instances (tests/wasm-repeat.mjs). */
static repeat_result repeat(const char *wasm, int runs, const char *expect_file, int trace)
{
    char *why = NULL;
    ck_assert_msg(wasm_validate(wasm, &why) == 0, "%s is not valid: %s", wasm, why);
    char node_runs[16];
    snprintf(node_runs, sizeof node_runs, "%d", runs);
    const char *argv[12];
    int n = 0;
    argv[n++] = MEWE_NODE;
    argv[n++] = "--no-warnings";
    argv[n++] = MEWE_NODE_FLAG;
    argv[n++] = "--expose-gc";
    argv[n++] = srcpath("wasm-repeat.mjs");
    argv[n++] = "--runs";
    argv[n++] = node_runs;
    if (expect_file) {
        argv[n++] = "--expect";
        argv[n++] = expect_file;
    }
    if (trace)
        argv[n++] = "--trace";
    argv[n++] = wasm;
    argv[n] = NULL;
    wasm_run_result r;
    ck_assert_int_eq(host_run(&r, argv, NULL, 0), 0);
    ck_assert_msg(r.exit_code == 0 || r.exit_code == 1, "wasm-repeat failed: %s", r.err);
    repeat_result out = {0};
    out.raw = strdup(r.out);
    out.runs = (int)json_number(r.out, "runs");
    out.mismatches = (int)json_number(r.out, "mismatches");
    out.distinct = (int)json_number(r.out, "distinct_traces");
    out.ratio = json_number(r.out, "unique_trace_ratio");
    out.entropy = json_number(r.out, "normalized_entropy");
    wasm_run_result_free(&r);
    return out;
}

static void build(mewe_module *m, mewe_dispatch_kind kind, mewe_granularity gran, const char *rng,
                  int trace, const char *out)
{
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.dispatch = kind;
    o.granularity = gran;
    o.rng = rng;
    o.trace = trace;
    ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, out));
}

static const char *expected_path(const char *fixture)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/%.*s.expected", MEWE_TEST_SRCDIR,
             (int)(strrchr(fixture, '.') - fixture), fixture);
    return path;
}

/* A fixture built one way (way / 2: table dispatch, way % 2: per instance) prints what the
 * original prints, 50 times. Per call (and every way in the sanitizer pass), as the mewe
 * command builds a WASI command: without variants for the functions the link drops
 * (mewe_module_exclude_unlinked). */
static void behaves_like_the_original(const char *fixture, int way, uint64_t seed)
{
    mewe_dispatch_kind kind = way / 2 ? MEWE_DISPATCH_TABLE : MEWE_DISPATCH_SWITCH;
    mewe_granularity gran = way % 2 ? MEWE_GRANULARITY_INSTANCE : MEWE_GRANULARITY_CALL;
    mewe_context_set_seed(tctx, seed);
    mewe_module *m = load_fixture(fixture);
    if (test_quick() || gran == MEWE_GRANULARITY_CALL)
        ck_assert_mewe_ok(mewe_module_exclude_unlinked(m, NULL, NULL));
    build(m, kind, gran, NULL, 0, tpath("mv.wasm"));
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    ck_assert_msg(strstr(json, "\"dispatchers\": 0,") == NULL, "%s: no dispatcher", fixture);
    free(json);
    repeat_result r = repeat(tpath("mv.wasm"), scaled(50), expected_path(fixture), 0);
    ck_assert_msg(r.mismatches == 0, "%s (%s, %s): %s", fixture,
                  kind == MEWE_DISPATCH_TABLE ? "table" : "switch",
                  gran == MEWE_GRANULARITY_INSTANCE ? "instance" : "call", r.raw);
    ck_assert_int_eq(r.runs, scaled(50));
    free(r.raw);
}

/* Every C fixture, both dispatch kinds, the default policy and per instance (every policy
 * on more seeds: test-cost.c). The sanitizer pass (test_quick) builds each fixture in one of
 * the four ways, the fixtures taking them in turn. */
#define FIXTURE_WAYS (test_quick() ? 1 : 4)
START_TEST(fixtures_behave_like_the_original)
{
    behaves_like_the_original(fixtures[_i / FIXTURE_WAYS], _i % 4, (uint64_t)_i + 100);
}
END_TEST

/* Rust's hello with its standard library (110,000 instructions once multivariant, the
 * costliest build of the suite): switch dispatch per call and table dispatch per instance
 * (the latter alone in the sanitizer pass). */
START_TEST(rust_behaves_like_the_original)
{
    behaves_like_the_original("rust/hello.rs", _i ? 3 : 0, (uint64_t)_i + 200);
}
END_TEST

/* The default generator (ChaCha8) with both dispatch kinds, then xorshift64*. */
static const char *const wasi_gens[] = {NULL, NULL, "wasi:gen=xorshift"};

START_TEST(per_call_traces_are_diverse)
{
    mewe_module *m = load_fixture("recursion.c");
    build(m, _i == 1 ? MEWE_DISPATCH_TABLE : MEWE_DISPATCH_SWITCH, MEWE_GRANULARITY_CALL,
          wasi_gens[_i], 1, tpath("t.wasm"));
    int runs = scaled(100);
    repeat_result r = repeat(tpath("t.wasm"), runs, expected_path("recursion.c"), 1);
    ck_assert_int_eq(r.mismatches, 0);
    /* A dispatcher stuck on one variant gives 1 distinct trace; a fair one gives `runs`. */
    ck_assert_msg(r.distinct >= runs * 95 / 100, "only %d distinct traces: %s", r.distinct, r.raw);
    ck_assert(r.entropy >= 0.95);
    free(r.raw);
}
END_TEST

/* Reads a trace file ("function variant" per line) into per-function variant sets. */
static void trace_variants(const char *path, unsigned seen[64][8], size_t *lines)
{
    memset(seen, 0, 64 * 8 * sizeof(unsigned));
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    unsigned fn, v;
    bool in_range = true;
    *lines = 0;
    /* One check after the loop: each passing ck_assert reports its place to Check's parent
     * process (a write per call), which made a million lines take seconds. */
    while (fscanf(f, "%u %u", &fn, &v) == 2) {
        if (fn >= 64 || v >= 8) {
            in_range = false;
            break;
        }
        seen[fn][v]++;
        (*lines)++;
    }
    fclose(f);
    ck_assert_msg(in_range, "trace line %zu: function %u, variant %u out of range", *lines + 1, fn,
                  v);
}

/* How many variants the function of dispatcher `id` has, from a report. */
static unsigned variants_of_dispatcher(const char *json, unsigned id)
{
    char key[64];
    snprintf(key, sizeof key, "\"dispatcher_id\": %u,", id);
    const char *at = strstr(json, key);
    ck_assert_msg(at != NULL, "no dispatcher %u in %s", id, json);
    const char *entry = at;
    while (entry > json && strncmp(entry, "{\"name\"", strlen("{\"name\"")) != 0)
        entry--;
    const char *v = strstr(entry, "\"variants\": ");
    ck_assert_msg(v && v < at, "dispatcher %u: no variants", id);
    return (unsigned)strtoul(v + strlen("\"variants\": "), NULL, 10);
}

static void run_traced(const char *wasm, const char *trace_file)
{
    const char *opts[] = {"--trace", trace_file, NULL};
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, wasm, opts, NULL, NULL, 0), 0);
    ck_assert_int_eq(r.exit_code, 0);
    wasm_run_result_free(&r);
}

START_TEST(per_call_uses_every_variant)
{
    mewe_module *m = load_fixture("recursion.c");
    /* An unlimited budget: a fresh choice at every call, as MEWE makes. */
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.max_overhead = INFINITY;
    o.trace = 1;
    o.rng = wasi_gens[_i + 1];
    ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("t.wasm")));
    run_traced(tpath("t.wasm"), tpath("trace.txt"));
    unsigned seen[64][8];
    size_t lines;
    trace_variants(tpath("trace.txt"), seen, &lines);
    ck_assert_uint_gt(lines, 1000);
    /* fib is called a million times: each of its 4 variants must take a fair share. */
    int fib = -1;
    for (int f = 0; f < 64; f++) {
        unsigned total = seen[f][0] + seen[f][1] + seen[f][2] + seen[f][3];
        if (total > 100000)
            fib = f;
    }
    ck_assert_int_ge(fib, 0);
    unsigned total = seen[fib][0] + seen[fib][1] + seen[fib][2] + seen[fib][3];
    for (int v = 0; v < 4; v++)
        ck_assert_msg(fabs(seen[fib][v] / (double)total - 0.25) < 0.01, "variant %d: %u of %u", v,
                      seen[fib][v], total);
}
END_TEST

/* The dispatcher id of function `name` in a report, after checking that it was diversified
 * with `variants` variants and the given layout. */
static unsigned dispatcher_of(const char *json, const char *name, int variants, const char *layout)
{
    char key[128], want[64];
    snprintf(key, sizeof key, "{\"name\": \"%s\",", name);
    const char *p = strstr(json, key);
    ck_assert_msg(p != NULL, "no function %s in %s", name, json);
    const char *end = strchr(p, '}');
    snprintf(want, sizeof want, "\"variants\": %d,", variants);
    const char *v = strstr(p, want);
    ck_assert_msg(v && v < end, "%s: not %d variants: %.*s", name, variants, (int)(end - p), p);
    snprintf(want, sizeof want, "\"layout\": \"%s\"", layout);
    const char *l = strstr(p, want);
    ck_assert_msg(l && l < end, "%s: not the %s layout: %.*s", name, layout, (int)(end - p), p);
    const char *id = strstr(p, "\"dispatcher_id\": ");
    ck_assert_msg(id && id < end, "%s: no dispatcher", name);
    return (unsigned)atoi(id + strlen("\"dispatcher_id\": "));
}

/* The computed-goto fixture, from -O2 bitcode or (o0) from -O0 bitcode. */
static mewe_module *load_computed_goto(bool o0)
{
    if (!o0)
        return load_fixture("computed_goto.c");
    const char *const argv[] = {
        MEWE_CLANG, "--target=wasm32-wasi", "-O0",
        "-c",       "-emit-llvm",           srcpath("fixtures/computed_goto.c"),
        "-o",       tpath("cg0.bc"),        NULL};
    char *log = NULL;
    ck_assert_msg(run_compiler(argv, &log) == 0, "%s", log ? log : "");
    free(log);
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath("cg0.bc")));
    return m;
}

/* Computed goto: each interpreter loop gets variants that jump through label tables of their
 * own, and every variant of each runs the program right. Its dispatcher calls the variants
 * (a block whose address is taken cannot move into the dispatcher). From -O2 and -O0
 * bitcode; a fresh choice at every call, runs repeated until every variant was seen. */
START_TEST(computed_goto_every_variant_runs)
{
    static const char *const loops[] = {"leaf", "run", "local_table", "offsets"};
    enum { LOOPS = 4, VARIANTS = 4 };
    mewe_module *m = load_computed_goto(_i == 1);
    /* The default mix named: the default one leaves the loops of these small functions the
     * variants that free diversifiers make (cost.h), and this test wants all four bodies. */
    static const char *const mix[] = {"subst", "swap", "blocks", "layout"};
    mewe_generate_options g = MEWE_GENERATE_OPTIONS_INIT;
    g.diversifiers = mix;
    g.diversifier_count = 4;
    ck_assert_mewe_ok(mewe_generate_variants(m, &g));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.max_overhead = INFINITY;
    o.trace = 1;
    ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("cg.wasm")));
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    unsigned ids[LOOPS];
    for (int k = 0; k < LOOPS; k++)
        ids[k] = dispatcher_of(json, loops[k], VARIANTS - 1, "call");
    free(json);
    char *expected = expected_output("computed_goto.c");
    unsigned seen[LOOPS][VARIANTS] = {{0}};
    int missing = LOOPS * VARIANTS;
    /* Each loop runs once per run: 16 variants are all seen after about 40 runs, a miss
     * after 120 is a chance of about 1e-14. */
    for (int run = 0; run < 120 && missing > 0; run++) {
        const char *opts[] = {"--trace", tpath("cg.trace"), NULL};
        remove(tpath("cg.trace")); /* the runner appends */
        wasm_run_result r;
        ck_assert_int_eq(wasm_run(&r, tpath("cg.wasm"), opts, NULL, NULL, 0), 0);
        ck_assert_msg(r.exit_code == 0, "run %d exited %d: %s", run, r.exit_code, r.err);
        ck_assert_str_eq(r.out, expected);
        wasm_run_result_free(&r);
        FILE *f = fopen(tpath("cg.trace"), "r");
        ck_assert_ptr_nonnull(f);
        unsigned fn, v;
        while (fscanf(f, "%u %u", &fn, &v) == 2) {
            for (int k = 0; k < LOOPS; k++) {
                if (fn != ids[k])
                    continue;
                ck_assert_uint_lt(v, VARIANTS);
                if (seen[k][v]++ == 0)
                    missing--;
            }
        }
        fclose(f);
    }
    for (int k = 0; k < LOOPS; k++)
        for (int v = 0; v < VARIANTS; v++)
            ck_assert_msg(seen[k][v] > 0, "variant %d of %s never ran", v, loops[k]);
    free(expected);
    mewe_module_free(m);
}
END_TEST

START_TEST(per_instance_keeps_one_variant)
{
    mewe_module *m = load_fixture("recursion.c");
    build(m, MEWE_DISPATCH_SWITCH, MEWE_GRANULARITY_INSTANCE, NULL, 1, tpath("i.wasm"));
    unsigned first[64][8];
    bool differs = false;
    int runs = scaled(8);
    for (int run = 0; run < runs; run++) {
        run_traced(tpath("i.wasm"), tpath("trace.txt"));
        unsigned seen[64][8];
        size_t lines;
        trace_variants(tpath("trace.txt"), seen, &lines);
        for (int f = 0; f < 64; f++) {
            int used = 0;
            for (int v = 0; v < 8; v++)
                used += seen[f][v] > 0;
            ck_assert_msg(used <= 1, "function %d used %d variants in one instance", f, used);
        }
        if (run == 0)
            memcpy(first, seen, sizeof seen);
        else
            differs |= memcmp(first, seen, sizeof seen) != 0;
    }
    ck_assert_msg(differs, "%d instances all made the same choices", runs);
}
END_TEST

START_TEST(fixed_strategy_is_reproducible)
{
    const char *specs[] = {"fixed:seed=1", "fixed:seed=1", "fixed:seed=2"};
    const char *xorshift[] = {"fixed:seed=1,gen=xorshift", "fixed:gen=xorshift,seed=1",
                              "fixed:seed=2,gen=xorshift"};
    char *traces[3];
    for (int k = 0; k < 3; k++) {
        mewe_context *ctx;
        ck_assert_int_eq(mewe_context_new(&ctx), MEWE_OK);
        mewe_module *m;
        ck_assert_int_eq(mewe_module_load(&m, ctx, fixture_bc("recursion.c")), MEWE_OK);
        ck_assert_int_eq(mewe_generate_variants(m, NULL), MEWE_OK);
        mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
        o.rng = _i ? xorshift[k] : specs[k];
        o.trace = 1;
        ck_assert_int_eq(mewe_link_multivariant(m, &o), MEWE_OK);
        ck_assert_int_eq(mewe_emit_wasm(m, NULL, tpath("f.wasm")), MEWE_OK);
        mewe_context_free(ctx);
        repeat_result r = repeat(tpath("f.wasm"), scaled(10), expected_path("recursion.c"), 1);
        ck_assert_int_eq(r.mismatches, 0);
        ck_assert_msg(r.distinct == 1, "fixed seed gave %d traces over %d runs", r.distinct,
                      r.runs);
        free(r.raw);
        run_traced(tpath("f.wasm"), tpath("trace.txt"));
        traces[k] = read_file(tpath("trace.txt"), NULL);
    }
    ck_assert_str_eq(traces[0], traces[1]);
    ck_assert_str_ne(traces[0], traces[2]);
    /* Reproducible, yet random: fib (a million calls) uses each of its variants. */
    write_file(tpath("trace.txt"), traces[0], strlen(traces[0]));
    unsigned seen[64][8];
    size_t lines;
    trace_variants(tpath("trace.txt"), seen, &lines);
    int busiest = 0;
    for (int f = 1; f < 64; f++) {
        if (seen[f][0] + seen[f][1] > seen[busiest][0] + seen[busiest][1])
            busiest = f;
    }
    for (int v = 0; v < 4; v++)
        ck_assert_msg(seen[busiest][v] > lines / 20, "fixed stream never picks variant %d", v);
    for (int k = 0; k < 3; k++)
        free(traces[k]);
}
END_TEST

START_TEST(host_strategy_calls_discriminate)
{
    mewe_module *m = load_fixture("fnptr.c");
    build(m, MEWE_DISPATCH_SWITCH, MEWE_GRANULARITY_CALL, "host:module=env,name=discriminate", 1,
          tpath("h.wasm"));
    size_t n;
    char *wasm = read_file(tpath("h.wasm"), &n);
    ck_assert(memmem(wasm, n, "discriminate", 12) != NULL);
    free(wasm);
    repeat_result r = repeat(tpath("h.wasm"), 30, expected_path("fnptr.c"), 1);
    ck_assert_int_eq(r.mismatches, 0);
    ck_assert_int_ge(r.distinct, 25);
    free(r.raw);
}
END_TEST

START_TEST(same_seed_same_bytes)
{
    size_t sizes[3];
    char *bytes[3];
    for (int k = 0; k < 3; k++) {
        mewe_context *ctx;
        ck_assert_int_eq(mewe_context_new(&ctx), MEWE_OK);
        mewe_context_set_seed(ctx, k < 2 ? 7 : 8);
        mewe_module *m;
        ck_assert_int_eq(mewe_module_load(&m, ctx, fixture_bc("fnptr.c")), MEWE_OK);
        ck_assert_int_eq(mewe_generate_variants(m, NULL), MEWE_OK);
        ck_assert_int_eq(mewe_link_multivariant(m, NULL), MEWE_OK);
        void *w;
        ck_assert_int_eq(mewe_emit_wasm_memory(&w, &sizes[k], m, NULL), MEWE_OK);
        bytes[k] = w;
        mewe_context_free(ctx);
    }
    ck_assert(sizes[0] == sizes[1] && memcmp(bytes[0], bytes[1], sizes[0]) == 0);
    ck_assert(sizes[0] != sizes[2] || memcmp(bytes[0], bytes[2], sizes[0]) != 0);
    for (int k = 0; k < 3; k++)
        mewe_free(bytes[k]);
}
END_TEST

/* The sum of a report's "dropped_in_output" counts. */
static unsigned dropped_in_output(const char *json)
{
    unsigned n = 0;
    for (const char *p = json; (p = strstr(p, "\"dropped_in_output\": ")); p++)
        n += (unsigned)strtoul(p + strlen("\"dropped_in_output\": "), NULL, 10);
    return n;
}

START_TEST(variants_stay_distinct_in_wasm)
{
    /* Each built-in alone, then the default set: what code generation leaves distinct, on
     * average over a few seeds (one seed's 21 variants vary by a few). The output holds
     * only distinct variants (the others are left out as twins: preservation 1); the share
     * kept is what code generation left distinct. */
    const char *const specs[] = {"subst", "swap", NULL};
    const double floors[] = {0.9, 0.5, 0.9};
    double sum = 0;
    for (uint64_t seed = 0; seed < 3; seed++) {
        mewe_context_set_seed(tctx, seed);
        mewe_module *m = load_fixture("recursion.c");
        mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
        if (specs[_i]) {
            o.diversifiers = &specs[_i];
            o.diversifier_count = 1;
        }
        ck_assert_mewe_ok(mewe_generate_variants(m, &o));
        /* Variants kept as functions, so that the wasm shows each body on its own. */
        mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
        lo.inline_limit = 1;
        ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
        void *wasm;
        size_t wasm_size;
        ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &wasm_size, m, NULL));
        char *json;
        ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, wasm, wasm_size));
        mewe_free(wasm);
        const char *w = strstr(json, "\"wasm\"");
        ck_assert_ptr_nonnull(w);
        const char *pres = strstr(w, "\"preservation\": ");
        ck_assert_double_eq(strtod(pres + 16, NULL), 1.0);
        /* The section's own count, after its dispatchers' and before its preservation. */
        const char *v = NULL;
        for (const char *p = w; (p = strstr(p, "\"variants\": ")) && p < pres; p++)
            v = p;
        ck_assert_ptr_nonnull(v);
        double kept = strtod(v + 12, NULL);
        sum += kept / (kept + dropped_in_output(json));
        free(json);
        mewe_module_free(m);
    }
    ck_assert_msg(sum / 3 >= floors[_i], "%s: %.3f of the variants distinct in wasm",
                  specs[_i] ? specs[_i] : "default", sum / 3);
}
END_TEST

START_TEST(dispatcher_keeps_its_face)
{
    mewe_module *m = load_fixture("structs.c");
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    llvm = mewe_module_get_llvm(m);
    /* Find a diversified function and remember how it looks from outside. */
    LLVMValueRef f = NULL;
    for (LLVMValueRef g = LLVMGetFirstFunction(llvm); g && !f; g = LLVMGetNextFunction(g)) {
        char name[512];
        size_t len;
        const char *n = LLVMGetValueName2(g, &len);
        snprintf(name, sizeof name, "%.*s.mewe.v1", (int)len, n);
        if (LLVMGetNamedFunction(llvm, name))
            f = g;
    }
    ck_assert_ptr_nonnull(f);
    size_t len;
    const char *fname = LLVMGetValueName2(f, &len);
    char *name = strndup(fname, len);
    LLVMTypeRef type = LLVMGlobalGetValueType(f);
    LLVMLinkage linkage = LLVMGetLinkage(f);
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 1; /* the original body becomes variant 0 (test-cost.c: layouts) */
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    llvm = mewe_module_get_llvm(m);
    LLVMValueRef d = LLVMGetNamedFunction(llvm, name);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_eq(LLVMGlobalGetValueType(d), type);
    ck_assert_int_eq(LLVMGetLinkage(d), linkage);
    char v0[600];
    snprintf(v0, sizeof v0, "%s.mewe.v0", name);
    LLVMValueRef body = LLVMGetNamedFunction(llvm, v0);
    ck_assert_ptr_nonnull(body);
    ck_assert_int_eq(LLVMGetLinkage(body), LLVMInternalLinkage);
    unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
    ck_assert_ptr_nonnull(LLVMGetEnumAttributeAtIndex(body, LLVMAttributeFunctionIndex, noinline));
    free(name);
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    ck_assert_ptr_nonnull(strstr(json, "\"dispatcher_id\": 0"));
    ck_assert_ptr_nonnull(strstr(json, "\"link\": {\"dispatch\": \"switch\""));
    free(json);
}
END_TEST

START_TEST(memory_effects_are_dropped)
{
    static const char ll[] =
        "target triple = \"wasm32-unknown-wasi\"\n"
        "define i32 @pure(i32 %a, i32 %b) memory(none) {\n  %s = add i32 %a, %b\n"
        "  %t = xor i32 %s, %a\n  %u = mul i32 %t, %b\n  ret i32 %u\n}\n"
        "define i32 @main() {\n  %r = call i32 @pure(i32 3, i32 4) memory(none)\n"
        "  ret i32 %r\n}\n";
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), "pure.ll"));
    const char *allow[] = {"pure"};
    mewe_generate_options g = MEWE_GENERATE_OPTIONS_INIT;
    g.allow = allow;
    g.allow_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &g));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    void *text;
    size_t n;
    ck_assert_mewe_ok(mewe_module_write_memory(&text, &n, m, MEWE_FORMAT_TEXT));
    ck_assert_msg(strstr(text, "memory(none)") == NULL, "%s", (char *)text);
    mewe_free(text);
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("pure.wasm")));
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("pure.wasm"), NULL, NULL, NULL, 0), 0);
    ck_assert_int_eq(r.exit_code, 16); /* ((3 + 4) ^ 3) * 4 */
    wasm_run_result_free(&r);
}
END_TEST

/* ---- custom strategies and errors ------------------------------------------------- */

typedef struct strategy_state {
    int calls, destroyed;
    int fail;
    int wrong_type;
} strategy_state;

static void strategy_destroy(void *user_data)
{
    ((strategy_state *)user_data)->destroyed++;
}

/* Always the last variant: easy to see in a trace. */
static int last_variant(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef n,
                        LLVMValueRef *out, void *user_data)
{
    (void)dispatcher;
    strategy_state *st = user_data;
    st->calls++;
    if (st->fail) {
        mewe_hook_set_error(hook, "no entropy today");
        return MEWE_EUSER;
    }
    LLVMTypeRef t = LLVMTypeOf(n);
    if (st->wrong_type) {
        *out = LLVMConstInt(LLVMInt64TypeInContext(LLVMGetTypeContext(t)), 0, 0);
        return MEWE_OK;
    }
    *out = LLVMBuildSub(b, n, LLVMConstInt(t, 1, 0), "last");
    return MEWE_OK;
}

static void register_last(strategy_state *st)
{
    mewe_rng_strategy s = {
        MEWE_RNG_STRATEGY_VERSION, "last", "always the last variant", NULL, last_variant, st,
        strategy_destroy};
    ck_assert_mewe_ok(mewe_rng_strategy_register(tctx, &s));
}

START_TEST(custom_strategy_is_used)
{
    strategy_state st = {0};
    register_last(&st);
    mewe_module *m = load_fixture("recursion.c");
    build(m, MEWE_DISPATCH_SWITCH, MEWE_GRANULARITY_CALL, "last", 1, tpath("l.wasm"));
    ck_assert_int_ge(st.calls, 3);
    run_traced(tpath("l.wasm"), tpath("trace.txt"));
    unsigned seen[64][8];
    size_t lines;
    trace_variants(tpath("trace.txt"), seen, &lines);
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    /* Always the last body: the one after each function's variants. */
    for (unsigned f = 0; f < 64; f++) {
        for (unsigned v = 0; v < 8; v++) {
            if (seen[f][v])
                ck_assert_uint_eq(v, variants_of_dispatcher(json, f));
        }
    }
    free(json);
    ck_assert_uint_gt(lines, 0);
    mewe_context_free(tctx);
    tctx = NULL;
    ck_assert_int_eq(st.destroyed, 1);
}
END_TEST

START_TEST(strategy_errors_leave_module_unchanged)
{
    strategy_state st = {.fail = 1};
    register_last(&st);
    mewe_module *m = load_fixture("fnptr.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    void *before, *after;
    size_t n;
    ck_assert_mewe_ok(mewe_module_write_memory(&before, &n, m, MEWE_FORMAT_TEXT));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.rng = "last";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EUSER, "no entropy today");
    st.fail = 0;
    st.wrong_type = 1;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "no i32 index");
    o.rng = "no-such-rng";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_ENOTFOUND, "no-such-rng");
    o.rng = "fixed:seed=banana";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "seed");
    o.rng = "host:module=";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "must not be empty");
    o.rng = "wasi:gen=banana";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "gen must be");
    o.rng = "wasi:x=1";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "no parameter 'x'");
    o.rng = NULL;
    o.version = 5;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EVERSION, "version 5");
    o.version = MEWE_LINK_OPTIONS_VERSION;
    o.dispatch = (mewe_dispatch_kind)9;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "dispatch");
    o.dispatch = MEWE_DISPATCH_SWITCH;
    o.granularity = (mewe_granularity)-1;
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "granularity");
    ck_assert_mewe_ok(mewe_module_write_memory(&after, &n, m, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(before, after);
    mewe_free(before);
    mewe_free(after);
    mewe_link_options d;
    ck_assert_int_eq(mewe_link_options_init(&d, 3), MEWE_EVERSION);
    ck_assert_int_eq(mewe_link_options_init(&d, MEWE_LINK_OPTIONS_VERSION), MEWE_OK);
    ck_assert_int_eq(mewe_link_multivariant(NULL, NULL), MEWE_EINVAL);
    /* `st` lives on this stack: the context, which calls its destroy, must go first. */
    mewe_context_free(tctx);
    tctx = NULL;
    ck_assert_int_eq(st.destroyed, 1);
}
END_TEST

START_TEST(link_twice_and_link_without_variants)
{
    mewe_module *m = load_fixture("loops.c");
    void *before, *after;
    size_t n;
    ck_assert_mewe_ok(mewe_module_write_memory(&before, &n, m, MEWE_FORMAT_TEXT));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL)); /* nothing to do */
    ck_assert_mewe_ok(mewe_module_write_memory(&after, &n, m, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(before, after);
    mewe_free(before);
    mewe_free(after);
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    ck_assert_mewe_fails(mewe_link_multivariant(m, NULL), MEWE_ESTATE, "already multivariant");
}
END_TEST

/* ---- variants made elsewhere ------------------------------------------------------ */

static const char prog_a[] =
    "#include <stdio.h>\n"
    "static int calls;\n"
    "__attribute__((noinline)) int sum_to(int n) { int s = 0; calls++;\n"
    "  for (int i = 1; i <= n; i++) s += i; return s; }\n"
    "int main(void) { long t = 0; for (int k = 0; k < 200; k++) t += sum_to(k);\n"
    "  printf(\"%ld %d\\n\", t, calls); return 0; }\n";
static const char prog_b[] = /* the same program, sum_to written another way */
    "#include <stdio.h>\n"
    "static int calls;\n"
    "__attribute__((noinline)) int sum_to(int n) { calls += 1;\n"
    "  return n <= 0 ? 0 : (int)((long long)n * (n + 1) / 2); }\n"
    "int main(void) { long t = 0; for (int k = 0; k < 200; k++) t += sum_to(k);\n"
    "  printf(\"%ld %d\\n\", t, calls); return 0; }\n";

static mewe_module *load_c(const char *source, const char *name)
{
    write_file(tpath(name), source, strlen(source));
    char bc[4096];
    snprintf(bc, sizeof bc, "%s.bc", tpath(name));
    char *log = NULL;
    ck_assert_msg(compile_c_to_bc(tpath(name), bc, &log) == 0, "%s", log);
    free(log);
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, bc));
    return m;
}

START_TEST(external_variants_join_the_dispatcher)
{
    mewe_module *a = load_c(prog_a, "a.c");
    mewe_module *b = load_c(prog_b, "b.c");
    mewe_module *same = load_c(prog_a, "a2.c");
    size_t added = 99;
    ck_assert_mewe_ok(mewe_module_add_variants(&added, a, same));
    ck_assert_uint_eq(added, 0); /* identical bodies are not variants */
    ck_assert_mewe_ok(mewe_module_add_variants(&added, a, b));
    ck_assert_uint_eq(added, 1); /* sum_to; main is the same in both */
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(mewe_module_get_llvm(a), "sum_to.mewe.v1"));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.trace = 1;
    o.max_overhead = INFINITY; /* 200 calls: a fresh choice at each, for distinct traces */
    ck_assert_mewe_ok(mewe_link_multivariant(a, &o));
    ck_assert_mewe_ok(mewe_emit_wasm(a, NULL, tpath("ext.wasm")));
    /* One shared `calls` counter: a copied global would print fewer calls. */
    write_file(tpath("ext.expected"), "1333300 200\n", 12);
    repeat_result r = repeat(tpath("ext.wasm"), 20, tpath("ext.expected"), 1);
    ck_assert_msg(r.mismatches == 0, "%s", r.raw);
    ck_assert_int_ge(r.distinct, 19);
    free(r.raw);
}
END_TEST

/* Bodies of another build with computed goto join as variants: each jumps through label
 * tables of its own (those of its copy, not those of the other module). */
START_TEST(external_variants_with_computed_goto)
{
    mewe_module *a = load_computed_goto(_i == 1);
    mewe_module *b = load_computed_goto(_i == 0);
    size_t added = 0;
    ck_assert_mewe_ok(mewe_module_add_variants(&added, a, b));
    ck_assert_uint_ge(added, 4); /* the four loops at least: -O0 and -O2 bodies differ */
    LLVMModuleRef llvm = mewe_module_get_llvm(a);
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(llvm, "run.mewe.v1"));
    ck_assert_mewe_ok(mewe_generate_variants(a, NULL));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.max_overhead = INFINITY;
    ck_assert_mewe_ok(mewe_link_multivariant(a, &o));
    ck_assert_mewe_ok(mewe_module_verify(a));
    ck_assert_mewe_ok(mewe_emit_wasm(a, NULL, tpath("cgx.wasm")));
    repeat_result r = repeat(tpath("cgx.wasm"), scaled(20), expected_path("computed_goto.c"), 0);
    ck_assert_msg(r.mismatches == 0, "%s", r.raw);
    free(r.raw);
    mewe_module_free(a);
}
END_TEST

START_TEST(external_variants_errors)
{
    mewe_module *a = load_c(prog_a, "a.c");
    static const char odd[] = "target triple = \"wasm32-unknown-wasi\"\n"
                              "@only_here = global i32 0\n"
                              "define i32 @sum_to(i32 %n) {\n  %v = load i32, ptr @only_here\n"
                              "  %s = add i32 %v, %n\n  %t = add i32 %s, 1\n  ret i32 %t\n}\n";
    mewe_module *o;
    ck_assert_mewe_ok(mewe_module_load_memory(&o, tctx, odd, strlen(odd), "odd.ll"));
    void *before, *after;
    size_t n;
    ck_assert_mewe_ok(mewe_module_write_memory(&before, &n, a, MEWE_FORMAT_TEXT));
    ck_assert_mewe_fails(mewe_module_add_variants(NULL, a, o), MEWE_ELINK, "only_here");
    ck_assert_mewe_ok(mewe_module_write_memory(&after, &n, a, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(before, after);
    mewe_free(before);
    mewe_free(after);
    ck_assert_mewe_fails(mewe_module_add_variants(NULL, a, a), MEWE_EINVAL, "its own");
    ck_assert_mewe_fails(mewe_module_add_variants(NULL, a, NULL), MEWE_EINVAL, "NULL");
    ck_assert_mewe_ok(mewe_generate_variants(a, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(a, NULL));
    mewe_module *late = load_c(prog_b, "b.c");
    ck_assert_mewe_fails(mewe_module_add_variants(NULL, a, late), MEWE_ESTATE,
                         "already multivariant");
}
END_TEST

/* ---- threads ---------------------------------------------------------------------- */

typedef struct pipeline_job {
    const char *bc;
    void *wasm;
    size_t size;
    int rc;
} pipeline_job;

/* The whole pipeline in a context of its own, as a thread of a build system would run it. */
static void *run_pipeline(void *arg)
{
    pipeline_job *job = arg;
    mewe_context *ctx;
    mewe_module *m;
    job->rc = mewe_context_new(&ctx);
    if (job->rc != MEWE_OK)
        return NULL;
    mewe_context_set_seed(ctx, 99);
    if ((job->rc = mewe_module_load(&m, ctx, job->bc)) == MEWE_OK &&
        (job->rc = mewe_generate_variants(m, NULL)) == MEWE_OK &&
        (job->rc = mewe_link_multivariant(m, NULL)) == MEWE_OK)
        job->rc = mewe_emit_wasm_memory(&job->wasm, &job->size, m, NULL);
    mewe_context_free(ctx);
    return NULL;
}

START_TEST(contexts_work_in_parallel_threads)
{
    const char *bcs[] = {fixture_bc("recursion.c"), fixture_bc("fnptr.c")};
    pipeline_job jobs[4], alone[2];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (pipeline_job){.bc = bcs[i % 2]};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, run_pipeline, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        alone[i] = (pipeline_job){.bc = bcs[i]};
        run_pipeline(&alone[i]);
        ck_assert_int_eq(alone[i].rc, MEWE_OK);
    }
    /* Same input and seed: the same bytes, whatever ran beside them. */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(jobs[i].rc, MEWE_OK);
        ck_assert_uint_eq(jobs[i].size, alone[i % 2].size);
        ck_assert(memcmp(jobs[i].wasm, alone[i % 2].wasm, jobs[i].size) == 0);
        mewe_free(jobs[i].wasm);
    }
    mewe_free(alone[0].wasm);
    mewe_free(alone[1].wasm);
}
END_TEST

int main(void)
{
    if (!wasm_run_available()) {
        printf("SKIP: node with node:wasi not found; multivariant tests need it\n");
        return 77;
    }
    Suite *s = suite_create("multivariant");
    TCase *tc = test_case("multivariant");
    tcase_add_loop_test(tc, fixtures_behave_like_the_original, 0, N_FIXTURES * FIXTURE_WAYS);
    tcase_add_loop_test(tc, rust_behaves_like_the_original, test_quick() ? 1 : 0, 2);
    tcase_add_loop_test(tc, per_call_traces_are_diverse, 0, 3);
    tcase_add_loop_test(tc, per_call_uses_every_variant, 0, 2);
    tcase_add_test(tc, per_instance_keeps_one_variant);
    tcase_add_loop_test(tc, computed_goto_every_variant_runs, 0, 2);
    tcase_add_loop_test(tc, fixed_strategy_is_reproducible, 0, 2);
    tcase_add_test(tc, host_strategy_calls_discriminate);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_loop_test(tc, variants_stay_distinct_in_wasm, 0, 3);
    tcase_add_test(tc, dispatcher_keeps_its_face);
    tcase_add_test(tc, memory_effects_are_dropped);
    tcase_add_test(tc, custom_strategy_is_used);
    tcase_add_test(tc, strategy_errors_leave_module_unchanged);
    tcase_add_test(tc, link_twice_and_link_without_variants);
    tcase_add_test(tc, external_variants_join_the_dispatcher);
    tcase_add_loop_test(tc, external_variants_with_computed_goto, 0, 2);
    tcase_add_test(tc, external_variants_errors);
    tcase_add_test(tc, contexts_work_in_parallel_threads);
    suite_add_tcase(s, tc);
    return test_run(s);
}
