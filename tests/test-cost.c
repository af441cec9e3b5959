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
    /* The tiny leaf cannot afford a choice per call, nor a counter: it keeps its choice until
     * the next epoch; the long function can, and its variants live inside its dispatcher
     * only if it is small enough. */
    const char *tiny = function_json(json, "tiny");
    ck_assert_str_eq(field(tiny, "policy", buf, sizeof buf), "\"epoch\"");
    ck_assert_str_eq(field(tiny, "layout", buf, sizeof buf), "\"inline\"");
    ck_assert_ptr_nonnull(strstr(field(tiny, "policy_reason", buf, sizeof buf), "counter"));
    const char *heavy = function_json(json, "heavy");
    ck_assert_str_eq(field(heavy, "policy", buf, sizeof buf), "\"call\"");
    ck_assert(atof(field(heavy, "estimated_overhead", buf, sizeof buf)) <= 0.05 + 1e-9);
    ck_assert(atof(field(heavy, "estimated_cycles_per_call", buf, sizeof buf)) > 500);
    ck_assert_ptr_nonnull(strstr(field(heavy, "policy_reason", buf, sizeof buf), "fits"));
    /* Every dispatcher is counted once in the totals: here only the two policies the cost
     * model chooses from. */
    const char *t = strstr(json, "\"policy_call\": ");
    ck_assert_ptr_nonnull(t);
    unsigned call, instance, every, invocation, epoch;
    ck_assert_int_eq(sscanf(t,
                            "\"policy_call\": %u, \"policy_instance\": %u, \"policy_every\": "
                            "%u, \"policy_invocation\": %u, \"policy_epoch\": %u",
                            &call, &instance, &every, &invocation, &epoch),
                     5);
    ck_assert_uint_ge(call, 1);
    ck_assert_uint_ge(epoch, 1);
    /* Epoch dispatchers need a clock: some dispatcher counts its calls. */
    ck_assert_uint_ge(every, 1);
    ck_assert_uint_eq(call + every + epoch, 6);
    ck_assert_uint_eq(instance + invocation, 0);
    free(json);
}
END_TEST

/* The head of the module texts below: target, printf and its format. */
#define IR_HEAD                                           \
    "target triple = \"wasm32-unknown-wasi\"\n"           \
    "@.fmt = private constant [4 x i8] c\"%u\\0A\\00\"\n" \
    "declare i32 @printf(ptr, ...)\n"

/* Appends to ir (n bytes of cap used) `count` instructions %a1 .. %a<count>, each a mul, xor
 * or add (in turn, starting `shift` along) of the one before and the constant 2i + k: a
 * chain nothing folds. Returns the bytes used. */
static size_t append_chain(char *ir, size_t cap, size_t n, int count, int shift, int k)
{
    static const char *const ops[] = {"mul", "xor", "add"};
    for (int i = 1; i <= count; i++)
        n += (size_t)snprintf(ir + n, cap - n, "  %%a%d = %s i32 %%a%d, %d\n", i,
                              ops[(i + shift) % 3], i - 1, 2 * i + k);
    return n;
}

/* Two functions of MEWE__ENGINE_LARGE (1,000) instructions or more: @large, recursive, whose
 * cheapest path (its early return) is short: main calls it once, it calls itself 40 times,
 * and each of those calls then runs a chain of 2,100 instructions; and @long, that chain
 * alone, called once. */
static char *large_ir(void)
{
    size_t cap = 400000, n = 0;
    char *ir = malloc(cap);
    ck_assert_ptr_nonnull(ir);
    n += (size_t)snprintf(ir + n, cap - n,
                          "%s"
                          "define internal i32 @large(i32 %%x, i32 %%d) {\n"
                          "entry:\n  %%c = icmp eq i32 %%d, 0\n"
                          "  br i1 %%c, label %%early, label %%rec\n"
                          "early:\n  ret i32 %%x\n"
                          "rec:\n  %%d1 = sub i32 %%d, 1\n"
                          "  %%a0 = call i32 @large(i32 %%x, i32 %%d1)\n",
                          IR_HEAD);
    n = append_chain(ir, cap, n, 2100, 0, 1);
    /* @long: as large, without the early return, so that a call is long enough for a
     * choice at every call. */
    n += (size_t)snprintf(ir + n, cap - n,
                          "  ret i32 %%a2100\n}\n"
                          "define internal i32 @long(i32 %%x) {\n"
                          "entry:\n  %%a0 = add i32 %%x, 1\n");
    n = append_chain(ir, cap, n, 2100, 1, 3);
    n += (size_t)snprintf(ir + n, cap - n,
                          "  ret i32 %%a2100\n}\n"
                          "define i32 @main() {\n  %%v = call i32 @large(i32 1, i32 40)\n"
                          "  %%p = call i32 (ptr, ...) @printf(ptr @.fmt, i32 %%v)\n"
                          "  %%w = call i32 @long(i32 %%v)\n"
                          "  %%q = call i32 (ptr, ...) @printf(ptr @.fmt, i32 %%w)\n"
                          "  ret i32 0\n}\n");
    ck_assert_uint_lt(n, cap);
    return ir;
}

/* The output of module text `ir`, emitted as it is (expected) or diversified with link
 * options o; the report of the diversified one in *json. */
static char *large_output(const char *ir, const mewe_link_options *o, char **json)
{
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ir, strlen(ir), "large.ll"));
    if (json) {
        ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
        ck_assert_mewe_ok(mewe_link_multivariant(m, o));
        *json = report(m);
    }
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("large.wasm")));
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("large.wasm"), NULL, NULL, NULL, 0), 0);
    ck_assert_int_eq(r.exit_code, 0);
    char *out = strdup(r.out);
    wasm_run_result_free(&r);
    mewe_module_free(m);
    return out;
}

/* An engine compiles and warms up each variant that runs: a large function keeps its
 * choice for the instance, whether its call is short (large: an early return), recursive
 * (which would otherwise count its own calls) or long enough for a choice at every call
 * (long); an unlimited budget still chooses at every call. */
START_TEST(large_functions_keep_their_choice_for_the_instance)
{
    char *ir = large_ir(), *json = NULL, buf[200];
    char *expected = large_output(ir, NULL, NULL);
    char *got = large_output(ir, NULL, &json);
    ck_assert_str_eq(got, expected);
    const char *names[] = {"large", "long"};
    for (size_t i = 0; i < 2; i++) {
        const char *f = function_json(json, names[i]);
        ck_assert_str_eq(field(f, "status", buf, sizeof buf), "\"diversified\"");
        ck_assert_str_eq(field(f, "policy", buf, sizeof buf), "\"instance\"");
        ck_assert_ptr_nonnull(strstr(field(f, "policy_reason", buf, sizeof buf), "large"));
    }
    free(got);
    free(json);
    /* A budget under which @long's call affords a choice at every call: still kept. */
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.max_overhead = 1.2;
    got = large_output(ir, &o, &json);
    ck_assert_str_eq(got, expected);
    for (size_t i = 0; i < 2; i++)
        ck_assert_str_eq(field(function_json(json, names[i]), "policy", buf, sizeof buf),
                         "\"instance\"");
    free(got);
    free(json);
    o.max_overhead = INFINITY;
    got = large_output(ir, &o, &json);
    ck_assert_str_eq(got, expected);
    for (size_t i = 0; i < 2; i++)
        ck_assert_str_eq(field(function_json(json, names[i]), "policy", buf, sizeof buf),
                         "\"call\"");
    free(got);
    free(json);
    free(expected);
    free(ir);
}
END_TEST

/* An outlined loop body of MEWE__ENGINE_LARGE instructions or more is still chosen as
 * often as the budget allows: it exists to be chosen per iteration. */
START_TEST(large_loop_bodies_are_not_kept_for_the_instance)
{
    size_t cap = 200000, n = 0;
    char *ir = malloc(cap);
    ck_assert_ptr_nonnull(ir);
    n += (size_t)snprintf(ir + n, cap - n,
                          "%s"
                          "define internal i32 @hot(i32 %%n) {\n"
                          "entry:\n  br label %%loop\n"
                          "loop:\n  %%i = phi i32 [ 0, %%entry ], [ %%i1, %%loop ]\n"
                          "  %%acc = phi i32 [ 1, %%entry ], [ %%a1200, %%loop ]\n"
                          "  %%a0 = add i32 %%acc, %%i\n",
                          IR_HEAD);
    n = append_chain(ir, cap, n, 1200, 0, 1);
    n += (size_t)snprintf(ir + n, cap - n,
                          "  %%i1 = add i32 %%i, 1\n  %%c = icmp ult i32 %%i1, %%n\n"
                          "  br i1 %%c, label %%loop, label %%exit\n"
                          "exit:\n  ret i32 %%a1200\n}\n"
                          "define i32 @main() {\n  %%v = call i32 @hot(i32 64)\n"
                          "  %%p = call i32 (ptr, ...) @printf(ptr @.fmt, i32 %%v)\n"
                          "  ret i32 0\n}\n");
    ck_assert_uint_lt(n, cap);
    char *expected = large_output(ir, NULL, NULL);
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ir, strlen(ir), "hot.ll"));
    mewe_generate_options go = MEWE_GENERATE_OPTIONS_INIT;
    go.outline_loops = 30;
    ck_assert_mewe_ok(mewe_generate_variants(m, &go));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    char *json = report(m), buf[200];
    const char *body = function_json(json, "hot.loop.body");
    ck_assert_str_eq(field(body, "status", buf, sizeof buf), "\"diversified\"");
    ck_assert_uint_ge((unsigned)atoi(field(body, "instructions", buf, sizeof buf)), 1000);
    ck_assert_str_ne(field(body, "policy", buf, sizeof buf), "\"instance\"");
    ck_assert_ptr_null(strstr(field(body, "policy_reason", buf, sizeof buf), "large"));
    free(json);
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("hot.wasm")));
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("hot.wasm"), NULL, NULL, NULL, 0), 0);
    ck_assert_str_eq(r.out, expected);
    wasm_run_result_free(&r);
    mewe_module_free(m);
    free(expected);
    free(ir);
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
    const char *names[] = {"tiny", "heavy", "step", "block", "rare", "__main_argc_argv"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        ck_assert_str_eq(field(function_json(json, names[i]), "policy", buf, sizeof buf),
                         "\"call\"");
    ck_assert_ptr_nonnull(strstr(json, "\"max_overhead\": null"));
    free(json);
}
END_TEST

/* Every N calls: a choice lasts N calls on average (N/2 to 3N/2), then is drawn again. */
/* Whether dispatcher `name` calls a function whose name starts with `prefix`. */
static bool calls_prefixed(LLVMModuleRef llvm, const char *name, const char *prefix)
{
    LLVMValueRef f = LLVMGetNamedFunction(llvm, name);
    ck_assert_ptr_nonnull(f);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            LLVMValueRef callee = LLVMIsACallInst(i) ? LLVMGetCalledValue(i) : NULL;
            size_t len;
            const char *cn =
                callee && LLVMIsAFunction(callee) ? LLVMGetValueName2(callee, &len) : "";
            if (strncmp(cn, prefix, strlen(prefix)) == 0)
                return true;
        }
    }
    return false;
}

/* A counted dispatcher's redraw, and a kept choice's first draw, are functions of their own,
 * "mewe.redraw.<name>": inlined, the random generator's state widened the dispatcher's frame
 * at every call (cJSON's 10,000-deep recursion overflowed V8's stack that way). A choice at
 * every call draws in the dispatcher. */
START_TEST(redraws_are_called_not_inlined)
{
    mewe_module *m = load_fixture("costs.c");
    link_emit(m, NULL, tpath("r.wasm"));
    run_same_as_expected(tpath("r.wasm"), "costs.c", NULL);
    char *json = report(m), buf[160];
    ck_assert_str_eq(field(function_json(json, "block"), "policy", buf, sizeof buf), "\"every\"");
    ck_assert_str_eq(field(function_json(json, "tiny"), "policy", buf, sizeof buf), "\"epoch\"");
    ck_assert_str_eq(field(function_json(json, "heavy"), "policy", buf, sizeof buf), "\"call\"");
    free(json);
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    ck_assert(calls_prefixed(llvm, "block", "mewe.redraw.block"));
    ck_assert(!calls_prefixed(llvm, "block", "mewe.rng."));
    ck_assert(calls_prefixed(llvm, "tiny", "mewe.redraw.tiny"));
    ck_assert(!calls_prefixed(llvm, "tiny", "mewe.rng."));
    ck_assert(calls_prefixed(llvm, "mewe.redraw.block", "mewe.rng."));
    ck_assert_ptr_null(LLVMGetNamedFunction(llvm, "mewe.redraw.heavy"));
}
END_TEST

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
    unsigned id =
        (unsigned)atoi(field(function_json(json, "tiny"), "dispatcher_id", buf, sizeof buf));
    ck_assert_str_eq(field(function_json(json, "tiny"), "period", buf, sizeof buf), "16");
    /* tiny is three instructions: generation keeps only variants distinct in wasm, which
     * may be fewer than asked for. */
    int bodies = 1 + atoi(field(function_json(json, "tiny"), "variants", buf, sizeof buf));
    ck_assert_int_ge(bodies, 2);
    free(json);
    static unsigned seq[22000];
    ck_assert_uint_eq(trace_of(tpath("e.trace"), id, seq, 22000), 22000);
    size_t n = 20000; /* the first loop, where tiny runs alone */
    /* Changes of variant: a new choice repeats the old one with probability 1/4, so
     * 20000 calls at one choice per 16 give about 20000 / 16 * 3/4 = 937 changes. */
    size_t changes = 0, used[8] = {0};
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(seq[i], 8);
        used[seq[i]]++;
        changes += i > 0 && seq[i] != seq[i - 1];
    }
    ck_assert_msg(changes > 600 && changes < 1300, "%zu changes in %zu calls", changes, n);
    for (int v = 0; v < bodies; v++)
        ck_assert_msg(used[v] > 20000 / (2 * (size_t)bodies), "variant %d ran %zu times", v,
                      used[v]);
}
END_TEST

/* By default the tiny leaf keeps its choice between epochs: its variant changes many times
 * in a run (the clock's redraws start new epochs), but far less often than at every call.
 * In its first loop nothing else runs, so nothing ticks: one choice lasts the loop. */
START_TEST(epoch_choices_are_forgotten_and_drawn_again)
{
    mewe_module *m = load_fixture("costs.c");
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.trace = 1;
    link_emit(m, &o, tpath("p.wasm"));
    run_same_as_expected(tpath("p.wasm"), "costs.c", tpath("p.trace"));
    char *json = report(m), buf[160];
    const char *tiny = function_json(json, "tiny");
    ck_assert_str_eq(field(tiny, "policy", buf, sizeof buf), "\"epoch\"");
    unsigned id = (unsigned)atoi(field(tiny, "dispatcher_id", buf, sizeof buf));
    free(json);
    static unsigned seq[22000];
    ck_assert_uint_eq(trace_of(tpath("p.trace"), id, seq, 22000), 22000);
    /* The last 2,000 calls run between calls of heavy, which chooses at every call and so
     * ticks the clock: epochs of 2 ticks (4 functions keep their choice), about 100 of them.
     * A choice per call would change about 3/4 of the time (1,500 changes). */
    size_t changes = 0, kept = 0;
    for (size_t i = 20001; i < 22000; i++) {
        changes += seq[i] != seq[i - 1];
        kept += seq[i] == seq[i - 1];
    }
    ck_assert_msg(changes >= 20 && changes < 500, "%zu changes in 2000 calls", changes);
    ck_assert_uint_gt(kept, 1000);
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
    unsigned id =
        (unsigned)atoi(field(function_json(json, "step"), "dispatcher_id", buf, sizeof buf));
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

/* Every policy and both dispatch kinds print what the original prints, over two seeds (one
 * in the sanitizer pass, test_quick; test-diversifiers.c runs the default mix on more). */
START_TEST(policies_keep_the_output)
{
    static const char *const fixtures[] = {"costs.c", "recursion.c", "fnptr.c", "computed_goto.c"};
    mewe_granularity g = (mewe_granularity)(_i % 4);
    mewe_dispatch_kind kind = (_i / 4) % 2 ? MEWE_DISPATCH_TABLE : MEWE_DISPATCH_SWITCH;
    const char *fixture = fixtures[_i / 8];
    uint64_t seeds = test_quick() ? 1 : 2;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
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

/* The first function of the report outlined as "<owner><suffix>" (suffix ".loop.body" or
 * ".loop.chunk"): its owner's name in owner (empty when there is none). */
static void outlined_owner(const char *json, const char *suffix, char *owner, size_t size)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "%s\"", suffix);
    const char *p = strstr(json, quoted);
    owner[0] = '\0';
    if (!p)
        return;
    const char *start = p;
    while (start > json && start[-1] != '"')
        start--;
    ck_assert_uint_lt((size_t)(p - start), size);
    memcpy(owner, start, (size_t)(p - start));
    owner[p - start] = '\0';
}

/* The first function of the report named "<owner>.loop.chunk..." and diversified: its
 * object, its name in name; NULL when there is none. */
static const char *diversified_chunk(const char *json, char *name, size_t size)
{
    static const char key[] = "{\"name\": \"";
    char buf[64];
    for (const char *p = strstr(json, key); p; p = strstr(p + 1, key)) {
        const char *start = p + strlen(key), *end = strchr(start, '"');
        if (!end || (size_t)(end - start) >= size)
            continue;
        memcpy(name, start, (size_t)(end - start));
        name[end - start] = '\0';
        if (strstr(name, ".loop.chunk") &&
            strcmp(field(p, "status", buf, sizeof buf), "\"diversified\"") == 0)
            return p;
    }
    return NULL;
}

static mewe_module *generate_with(const char *fixture, unsigned outline, const char *allow,
                                  const char *deny)
{
    mewe_module *m = load_fixture(fixture);
    mewe_generate_options go = MEWE_GENERATE_OPTIONS_INIT;
    go.outline_loops = outline;
    go.allow = &allow;
    go.allow_count = allow ? 1 : 0;
    go.deny = &deny;
    go.deny_count = deny ? 1 : 0;
    ck_assert_mewe_ok(mewe_generate_variants(m, &go));
    return m;
}

/* A costly loop's body becomes a function called once per iteration and chosen per
 * iteration (a low threshold here, so that the fixture's loops qualify); the output stays
 * the original's over seeds and both dispatch kinds; the lists select the body by its
 * owner's name; off outlines nothing. */
START_TEST(loop_bodies_are_chosen_per_iteration)
{
    static const char *const fixtures[] = {"loops.c", "fnptr.c"};
    const char *fixture = fixtures[_i];
    char owner[128], name[160], buf[160];
    for (uint64_t seed = 1; seed <= 2; seed++) {
        mewe_context_set_seed(tctx, seed * 104729 + (uint64_t)_i);
        mewe_module *m = generate_with(fixture, 30, NULL, NULL);
        mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
        o.trace = 1;
        o.dispatch = seed == 1 ? MEWE_DISPATCH_SWITCH : MEWE_DISPATCH_TABLE;
        ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
        ck_assert_mewe_ok(mewe_module_verify(m));
        ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("p.wasm")));
        run_same_as_expected(tpath("p.wasm"), fixture, tpath("p.trace"));
        char *json = report(m);
        outlined_owner(json, ".loop.body", owner, sizeof owner);
        ck_assert_msg(owner[0], "no loop body outlined in %s", fixture);
        snprintf(name, sizeof name, "%s.loop.body", owner);
        const char *body = function_json(json, name);
        ck_assert_str_eq(field(body, "status", buf, sizeof buf), "\"diversified\"");
        char quoted[200];
        snprintf(quoted, sizeof quoted, "\"%s\"", owner);
        ck_assert_str_eq(field(body, "loop_body_of", buf, sizeof buf), quoted);
        /* The loop around the body, outlined on the way, was inlined back. */
        snprintf(quoted, sizeof quoted, "\"name\": \"%s.loop\"", owner);
        ck_assert_ptr_null(strstr(json, quoted));
        unsigned id = (unsigned)atoi(field(body, "dispatcher_id", buf, sizeof buf));
        free(json);
        /* Called once per iteration, and not always the same variant. */
        static unsigned seq[4096];
        size_t n = trace_of(tpath("p.trace"), id, seq, 4096);
        ck_assert_uint_gt(n, 1);
        size_t changes = 0;
        for (size_t k = 1; k < n; k++)
            changes += seq[k] != seq[k - 1];
        ck_assert_msg(n < 8 || changes > 0, "%zu calls of %s, always variant %u", n, name, seq[0]);
        mewe_module_free(m);
    }
    /* Off: nothing outlined. */
    mewe_module *m = generate_with(fixture, MEWE_OUTLINE_LOOPS_OFF, NULL, NULL);
    char *json = report(m);
    ck_assert_ptr_null(strstr(json, ".loop.body"));
    free(json);
    mewe_module_free(m);
    /* Allowed by its owner's name: outlined and diversified. */
    m = generate_with(fixture, 30, owner, NULL);
    json = report(m);
    ck_assert_str_eq(field(function_json(json, name), "status", buf, sizeof buf),
                     "\"diversified\"");
    free(json);
    mewe_module_free(m);
    /* The owner denied: left as it is. */
    m = generate_with(fixture, 30, NULL, owner);
    json = report(m);
    ck_assert_ptr_null(strstr(json, name));
    free(json);
    mewe_module_free(m);
}
END_TEST

/* A light loop (an iteration cheaper than the threshold, over a length known at run time)
 * runs its first chunk in place and the rest in a function called once per chunk of
 * iterations, chosen per chunk; the output stays the original's over seeds and both
 * dispatch kinds, with loops shorter and longer than a chunk and one left early. A lower
 * threshold here (200 cycles: chunks of a few dozen iterations), so that more runs of the
 * fixture's loops go past their first chunk. */
START_TEST(light_loops_run_in_chunks)
{
    static const char *const fixtures[] = {"chunks.c"};
    const char *fixture = fixtures[_i];
    char owner[128], name[160], buf[160], quoted[200];
    for (uint64_t seed = 1; seed <= 2; seed++) {
        mewe_context_set_seed(tctx, seed * 7919 + (uint64_t)_i);
        mewe_module *m = generate_with(fixture, 200, NULL, NULL);
        mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
        o.trace = 1;
        o.dispatch = seed == 1 ? MEWE_DISPATCH_SWITCH : MEWE_DISPATCH_TABLE;
        ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
        ck_assert_mewe_ok(mewe_module_verify(m));
        ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("c.wasm")));
        run_same_as_expected(tpath("c.wasm"), fixture, tpath("c.trace"));
        char *json = report(m);
        /* A chunk whose variants all compile alike is left out (only free diversifiers
         * run on it): the fixture's heavier loop always has some. */
        const char *chunk = diversified_chunk(json, name, sizeof name);
        ck_assert_msg(chunk != NULL, "no light loop of %s in chunks and diversified", fixture);
        snprintf(owner, sizeof owner, "%.*s", (int)(strstr(name, ".loop.chunk") - name), name);
        snprintf(quoted, sizeof quoted, "\"%s\"", owner);
        ck_assert_str_eq(field(chunk, "loop_body_of", buf, sizeof buf), quoted);
        /* Planned by what a chunk costs, not by its cheapest path (one iteration). */
        ck_assert_double_ge(atof(field(chunk, "estimated_cycles_per_call", buf, sizeof buf)),
                            200.0);
        /* What the extraction made on the way was inlined back. */
        snprintf(quoted, sizeof quoted, "\"name\": \"%s.loop\"", owner);
        ck_assert_ptr_null(strstr(json, quoted));
        unsigned id = (unsigned)atoi(field(chunk, "dispatcher_id", buf, sizeof buf));
        free(json);
        /* Not always the same variant within a run. The countdowns ramp up from the run's
         * start, so the chunk's 44 calls make only 8 redraws, each a fresh draw that may
         * repeat the last (between 2 variants here: 1 run in 2^7 keeps one throughout).
         * Runs again, with fresh random_get seeds, while none changed: a chunk that never
         * redraws still fails every run, a chance failure is down to 2^-28. */
        static unsigned seq[4096];
        size_t n = 0, changes = 0;
        int runs = 0;
        for (; runs < 4 && changes == 0; runs++) {
            if (runs > 0)
                run_same_as_expected(tpath("c.wasm"), fixture, tpath("c.trace"));
            n = trace_of(tpath("c.trace"), id, seq, 4096);
            ck_assert_msg(n > 8, "%s called %zu times", name, n);
            for (size_t k = 1; k < n; k++)
                changes += seq[k] != seq[k - 1];
        }
        ck_assert_msg(changes > 0, "%zu calls of %s in each of %d runs, always one variant (%u)", n,
                      name, runs, seq[0]);
        mewe_module_free(m);
    }
    /* Off: no chunks either. */
    mewe_module *m = generate_with(fixture, MEWE_OUTLINE_LOOPS_OFF, NULL, NULL);
    char *json = report(m);
    ck_assert_ptr_null(strstr(json, ".loop.chunk"));
    free(json);
    mewe_module_free(m);
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
        /* What generation kept (variants distinct in wasm), whatever the layout. */
        ck_assert_int_ge(atoi(field(function_json(json, "tiny"), "variants", buf, sizeof buf)), 2);
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
    const char *const argv[] = {
        MEWE_CLANG, "--target=wasm32-wasi", "-O2", "-g", "-c", "-emit-llvm", src,
        "-o",       tpath("g.bc"),          NULL};
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
    ck_assert_int_eq(mewe_link_options_init(&bad, MEWE_LINK_OPTIONS_VERSION + 1), MEWE_EVERSION);
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
    ck_assert_ptr_nonnull(strstr(json, "\"max_overhead\": 1.05, \"period\": 64"));
    free(json);
}
END_TEST

/* An instrumented build of costs.c, run: its profile (standard error) in tpath(name). */
static void profile_run(const char *name)
{
    mewe_module *m = load_fixture("costs.c");
    ck_assert_mewe_ok(mewe_module_instrument_profile(m));
    ck_assert_mewe_fails(mewe_module_instrument_profile(m), MEWE_ESTATE, "already");
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("prof.wasm")));
    mewe_module_free(m);
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("prof.wasm"), NULL, NULL, NULL, 0), 0);
    ck_assert_int_eq(r.exit_code, 0);
    char *expected = expected_output("costs.c");
    ck_assert_str_eq(r.out, expected); /* the program's own output is untouched */
    free(expected);
    write_file(tpath(name), r.err, strlen(r.err));
    wasm_run_result_free(&r);
}

START_TEST(profile_counts_calls)
{
    profile_run("p.txt");
    mewe_profile *p;
    ck_assert_mewe_ok(mewe_profile_load(&p, tctx, tpath("p.txt")));
    static const struct {
        const char *name;
        unsigned long long calls;
    } want[] = {{"tiny", 22000}, {"heavy", 400}, {"block", 20},
                {"step", 1000},  {"rare", 0},    {"mix", 400 * 96}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        unsigned long long calls = 99;
        ck_assert_int_eq(mewe_profile_calls(&calls, p, want[i].name), MEWE_OK);
        ck_assert_msg(calls == want[i].calls, "%s: %llu calls", want[i].name, calls);
    }
    unsigned long long calls;
    ck_assert_int_eq(mewe_profile_calls(&calls, p, "nowhere"), MEWE_ENOTFOUND);
    ck_assert_uint_eq(mewe_profile_function_count(p), 7); /* main and mix too */
    mewe_profile_free(p);
    /* Per call site: block calls step 50 times per call. */
    char *text = read_file(tpath("p.txt"), NULL);
    ck_assert_ptr_nonnull(strstr(text, "mewe-profile site 1000 block 0 step\n"));
    ck_assert_ptr_nonnull(strstr(text, "mewe-profile end 7\n"));
    /* Two runs in one file add up. */
    size_t len = strlen(text);
    char *twice = malloc(2 * len + 1);
    memcpy(twice, text, len);
    memcpy(twice + len, text, len + 1);
    write_file(tpath("p2.txt"), twice, 2 * len);
    ck_assert_mewe_ok(mewe_profile_load(&p, tctx, tpath("p2.txt")));
    ck_assert_int_eq(mewe_profile_calls(&calls, p, "tiny"), MEWE_OK);
    ck_assert_uint_eq(calls, 44000);
    mewe_profile_free(p);
    free(twice);
    free(text);
}
END_TEST

static void on_log(mewe_log_level level, const char *message, void *data)
{
    if (level == MEWE_LOG_WARN && strstr(message, "profile"))
        snprintf((char *)data, 512, "%s", message);
}

START_TEST(profile_guides_the_plan)
{
    profile_run("p.txt");
    mewe_profile *p;
    ck_assert_mewe_ok(mewe_profile_load(&p, tctx, tpath("p.txt")));
    mewe_module *m = load_fixture("costs.c");
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.profile = p;
    link_emit(m, &o, tpath("g.wasm"));
    run_same_as_expected(tpath("g.wasm"), "costs.c", NULL);
    char *json = report(m), buf[200];
    /* Never called: a choice per call is free. Called 22000 times in a tiny body: the
     * whole run cannot afford it. */
    const char *rare = function_json(json, "rare");
    ck_assert_str_eq(field(rare, "policy", buf, sizeof buf), "\"call\"");
    ck_assert_str_eq(field(rare, "profile_calls", buf, sizeof buf), "0");
    ck_assert_ptr_nonnull(strstr(field(rare, "policy_reason", buf, sizeof buf), "never"));
    const char *tiny = function_json(json, "tiny");
    ck_assert_str_eq(field(tiny, "profile_calls", buf, sizeof buf), "22000");
    const char *prof = strstr(json, "\"profile\": {");
    ck_assert_ptr_nonnull(prof);
    double overhead = strtod(strstr(prof, "\"estimated_overhead\": ") + 22, NULL);
    double choices = strtod(strstr(prof, "\"choices_per_run\": ") + 19, NULL);
    ck_assert_ptr_nonnull(strstr(prof, "\"unmatched\": 0"));
    ck_assert_msg(choices >= 20000.0 / 1024, "%.0f choices per run", choices);
    ck_assert_msg(overhead > 0, "estimated overhead %.4f", overhead);
    free(json);
    /* A profile of another version of the program: a warning counts what is missing. */
    char warning[512] = "";
    mewe_context_set_log_callback(tctx, on_log, MEWE_LOG_WARN, warning);
    static const char other[] = "mewe-profile 1\nmewe-profile fn 5 tiny\n"
                                "mewe-profile fn 9 gone\nmewe-profile end 2\n";
    write_file(tpath("other.txt"), other, strlen(other));
    mewe_profile *q;
    ck_assert_mewe_ok(mewe_profile_load(&q, tctx, tpath("other.txt")));
    mewe_module *m2 = load_fixture("costs.c");
    ck_assert_mewe_ok(mewe_generate_variants(m2, NULL));
    o.profile = q;
    ck_assert_mewe_ok(mewe_link_multivariant(m2, &o));
    ck_assert_msg(strstr(warning, "1 of the profile's 2 functions") != NULL, "%s", warning);
    mewe_profile_free(q);
    /* ... and one of another program: nothing matches, an error. */
    static const char alien[] = "mewe-profile 1\nmewe-profile fn 5 alien\nmewe-profile end 1\n";
    write_file(tpath("alien.txt"), alien, strlen(alien));
    ck_assert_mewe_ok(mewe_profile_load(&q, tctx, tpath("alien.txt")));
    mewe_module *m3 = load_fixture("costs.c");
    ck_assert_mewe_ok(mewe_generate_variants(m3, NULL));
    o.profile = q;
    ck_assert_mewe_fails(mewe_link_multivariant(m3, &o), MEWE_EINVAL, "none of its 1");
    /* The failed link left the module as it was: variants, no dispatcher. */
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(mewe_module_get_llvm(m3), "tiny.mewe.v1"));
    mewe_profile_free(q);
    mewe_profile_free(p);
}
END_TEST

START_TEST(bad_profiles)
{
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"", "holds no profile"},
        {"hello\nworld\n", "holds no profile"},
        {"mewe-profile 2\n", "version '2' unknown"},
        {"mewe-profile 1\nmewe-profile fn 3 f\n", "cut short"},
        {"mewe-profile 1\nmewe-profile fn many f\nmewe-profile end 1\n", "line 2: malformed"},
        {"mewe-profile 1\nmewe-profile fn 3\nmewe-profile end 1\n", "line 2: malformed"},
        {"mewe-profile 1\nmewe-profile fn 3 f\nmewe-profile end 2\n", "announces 2"},
        {"mewe-profile 1\nmewe-profile site 3 f\nmewe-profile end 0\n", "line 2: malformed"},
        {"mewe-profile 1\nmewe-profile bogus\nmewe-profile end 0\n", "line 2: malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_file(tpath("bad.txt"), cases[i].text, strlen(cases[i].text));
        mewe_profile *p = (mewe_profile *)1;
        ck_assert_mewe_fails(mewe_profile_load(&p, tctx, tpath("bad.txt")), MEWE_EPARSE,
                             cases[i].needle);
        ck_assert_ptr_null(p);
    }
    mewe_profile *p;
    ck_assert_mewe_fails(mewe_profile_load(&p, tctx, tpath("missing.txt")), MEWE_EIO,
                         "missing.txt");
    ck_assert_int_eq(mewe_profile_load(NULL, tctx, "x"), MEWE_EINVAL);
    mewe_profile_free(NULL);
    /* Instrumenting needs a main, and the program as loaded. */
    mewe_module *m;
    static const char lib[] = "target triple = \"wasm32-unknown-wasi\"\n"
                              "define i32 @f(i32 %x) {\n  ret i32 %x\n}\n";
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, lib, sizeof lib - 1, "lib.ll"));
    ck_assert_mewe_fails(mewe_module_instrument_profile(m), MEWE_ENOTFOUND, "defines no main");
    mewe_module *v = load_fixture("costs.c");
    ck_assert_mewe_ok(mewe_generate_variants(v, NULL));
    ck_assert_mewe_fails(mewe_module_instrument_profile(v), MEWE_ESTATE, "variants");
    ck_assert_int_eq(mewe_module_instrument_profile(NULL), MEWE_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = test_case("cost");
    tcase_add_test(tc, default_plan_follows_the_costs);
    tcase_add_test(tc, large_functions_keep_their_choice_for_the_instance);
    tcase_add_test(tc, large_loop_bodies_are_not_kept_for_the_instance);
    tcase_add_test(tc, redraws_are_called_not_inlined);
    tcase_add_test(tc, unlimited_budget_chooses_at_every_call);
    tcase_add_test(tc, periodic_choice_lasts_about_n_calls);
    tcase_add_test(tc, epoch_choices_are_forgotten_and_drawn_again);
    tcase_add_test(tc, invocation_choice_is_kept_by_the_caller);
    tcase_add_loop_test(tc, policies_keep_the_output, 0, 4 * 8);
    tcase_add_loop_test(tc, loop_bodies_are_chosen_per_iteration, 0, 2);
    tcase_add_loop_test(tc, light_loops_run_in_chunks, 0, 1);
    tcase_add_test(tc, layouts);
    tcase_add_test(tc, layouts_with_debug_info);
    tcase_add_test(tc, link_options_versions_and_values);
    tcase_add_test(tc, profile_counts_calls);
    tcase_add_test(tc, profile_guides_the_plan);
    tcase_add_test(tc, bad_profiles);
    suite_add_tcase(s, tc);
    return test_run(s);
}
