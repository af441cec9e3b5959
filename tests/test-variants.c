/* mewe_generate_variants and the diversifier hook API: selection, reasons, determinism,
 * dedupe, budgets, plugins that fail or break IR, the selection policy. */
#include <math.h>

#include <stdbool.h>

#include <stddef.h>

#include <mewe/sys/diversifier.h>
#include <mewe/sys/llvm.h>
#include <mewe/sys/rng.h>

#include <llvm-c/DebugInfo.h>

#include "test-util.h"

/* Functions with a reason each to be skipped, and two that can be diversified. */
static const char mixed_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "declare i32 @ext(i32)\n"
    "declare i32 @setjmp(ptr) returns_twice\n"
    "declare i32 @__gxx_personality_v0(...)\n"
    "define i32 @work(i32 %a, i32 %b) {\n"
    "entry:\n  %s = add i32 %a, %b\n  %x = xor i32 %s, %a\n  %c = icmp sgt i32 %x, 10\n"
    "  br i1 %c, label %big, label %small\n"
    "big:\n  %m = sub i32 %x, %b\n  %o = or i32 %m, 3\n  br label %done\n"
    "small:\n  %n = and i32 %x, 255\n  %p = add i32 %n, %a\n  br label %done\n"
    "done:\n  %r = phi i32 [ %o, %big ], [ %p, %small ]\n  %q = add i32 %r, 1\n  ret i32 %q\n}\n"
    "define i32 @other(i32 %a) {\n  %s = add i32 %a, 7\n  %t = xor i32 %s, 5\n"
    "  %u = sub i32 %t, %a\n  %v = or i32 %u, %s\n  ret i32 %v\n}\n"
    "define i32 @tiny(i32 %a) {\n  ret i32 %a\n}\n"
    "define i32 @vararg(i32 %a, ...) {\n  %s = add i32 %a, 1\n  %t = add i32 %s, 2\n"
    "  %u = add i32 %t, 3\n  ret i32 %u\n}\n"
    "define i32 @jumps(ptr %buf) {\n  %r = call i32 @setjmp(ptr %buf)\n  %s = add i32 %r, 1\n"
    "  %t = add i32 %s, 1\n  ret i32 %t\n}\n"
    "define i32 @asm(i32 %a) {\n  %r = call i32 asm \"\", \"=r,r\"(i32 %a)\n"
    "  %s = add i32 %r, 1\n  %t = add i32 %s, 1\n  ret i32 %t\n}\n"
    "define i32 @eh(i32 %a) personality ptr @__gxx_personality_v0 {\n"
    "  %r = invoke i32 @ext(i32 %a) to label %ok unwind label %lp\n"
    "ok:\n  %s = add i32 %r, 1\n  ret i32 %s\n"
    "lp:\n  %l = landingpad { ptr, i32 } cleanup\n  ret i32 0\n}\n";

static mewe_module *load_mixed(void)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, mixed_ll, strlen(mixed_ll), "mixed"));
    return m;
}

static char *text_of(mewe_module *m)
{
    void *t;
    size_t n;
    ck_assert_mewe_ok(mewe_module_write_memory(&t, &n, m, MEWE_FORMAT_TEXT));
    return t;
}

static char *report_of(mewe_module *m)
{
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    return json;
}

/* The report entry of one function, as text up to its closing brace. */
static char *entry_of(const char *json, const char *fn)
{
    char key[256];
    snprintf(key, sizeof key, "{\"name\": \"%s\"", fn);
    const char *p = strstr(json, key);
    ck_assert_msg(p != NULL, "no report entry for %s", fn);
    const char *e = strchr(p, '}');
    char *out = malloc((size_t)(e - p) + 2);
    memcpy(out, p, (size_t)(e - p) + 1);
    out[e - p + 1] = '\0';
    return out;
}

static void assert_entry_has(const char *json, const char *fn, const char *needle)
{
    char *e = entry_of(json, fn);
    ck_assert_msg(strstr(e, needle) != NULL, "entry of %s lacks %s: %s", fn, needle, e);
    free(e);
}

START_TEST(default_generation_and_reasons)
{
    mewe_module *m = load_mixed();
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_module_verify(m));
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    for (int k = 1; k <= 3; k++) {
        char name[64];
        snprintf(name, sizeof name, "work.mewe.v%d", k);
        LLVMValueRef v = LLVMGetNamedFunction(llvm, name);
        ck_assert_msg(v != NULL, "missing %s", name);
        ck_assert_int_eq(LLVMGetLinkage(v), LLVMInternalLinkage);
    }
    char *json = report_of(m);
    assert_entry_has(json, "work", "\"status\": \"diversified\"");
    assert_entry_has(json, "work", "\"variants\": 3");
    assert_entry_has(json, "other", "\"status\": \"diversified\"");
    assert_entry_has(json, "tiny", "\"reason\": \"too small\"");
    assert_entry_has(json, "vararg", "\"reason\": \"variadic\"");
    assert_entry_has(json, "jumps", "\"reason\": \"returns_twice call\"");
    assert_entry_has(json, "asm", "\"reason\": \"inline asm\"");
    assert_entry_has(json, "eh", "\"reason\": \"exception handling\"");
    ck_assert_ptr_nonnull(strstr(json, "\"eligible\": 3")); /* work, other, tiny */
    ck_assert_ptr_nonnull(strstr(json, "\"diversified\": 2"));
    ck_assert_ptr_nonnull(strstr(json, "\"variants\": 6"));
    free(json);
}
END_TEST

START_TEST(allow_and_deny_lists)
{
    mewe_module *m = load_mixed();
    const char *allow[] = {"w*"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.allow = allow;
    o.allow_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    assert_entry_has(json, "work", "diversified");
    assert_entry_has(json, "other", "not in the allow list");
    free(json);

    mewe_module *m2 = load_mixed();
    const char *deny[] = {"other", "nothing-[0-9]"};
    mewe_generate_options o2 = MEWE_GENERATE_OPTIONS_INIT;
    o2.deny = deny;
    o2.deny_count = 2;
    o2.variants = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m2, &o2));
    json = report_of(m2);
    assert_entry_has(json, "other", "in the deny list");
    assert_entry_has(json, "work", "\"variants\": 1");
    free(json);
}
END_TEST

START_TEST(min_instructions_option)
{
    mewe_module *m = load_mixed();
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.min_instructions = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    /* `ret %a` has nothing to diversify: eligible, but no distinct variant exists. */
    assert_entry_has(json, "tiny", "no distinct variant found");
    assert_entry_has(json, "tiny", "\"dropped_duplicate\": 12");
    free(json);
}
END_TEST

static char *generate_text(const char *ll, uint64_t seed, const char *const *divs, size_t n)
{
    mewe_context *ctx;
    ck_assert_int_eq(mewe_context_new(&ctx), MEWE_OK);
    mewe_context_set_seed(ctx, seed);
    mewe_module *m;
    ck_assert_int_eq(mewe_module_load_memory(&m, ctx, ll, strlen(ll), "m"), MEWE_OK);
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = divs;
    o.diversifier_count = n;
    ck_assert_msg(mewe_generate_variants(m, &o) == MEWE_OK, "%s", mewe_context_errmsg(ctx));
    void *t;
    size_t len;
    ck_assert_int_eq(mewe_module_write_memory(&t, &len, m, MEWE_FORMAT_TEXT), MEWE_OK);
    mewe_context_free(ctx);
    return t;
}

START_TEST(deterministic_for_a_seed)
{
    uint64_t seed = (uint64_t)_i * 7919 + 1;
    char *a = generate_text(mixed_ll, seed, NULL, 0);
    char *b = generate_text(mixed_ll, seed, NULL, 0);
    char *c = generate_text(mixed_ll, seed + 1, NULL, 0);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    mewe_free(a);
    mewe_free(b);
    mewe_free(c);
}
END_TEST

/* The body of one function in a module's text, from "define" to the closing brace. */
static char *function_text(const char *text, const char *header)
{
    const char *p = strstr(text, header);
    ck_assert_msg(p != NULL, "no %s", header);
    const char *e = strstr(p, "\n}\n");
    return strndup(p, (size_t)(e - p));
}

START_TEST(adding_a_function_changes_no_other)
{
    static const char extra[] = "define i32 @zzz_new(i32 %a) {\n  %s = add i32 %a, 9\n"
                                "  %t = xor i32 %s, 3\n  %u = sub i32 %t, 1\n  ret i32 %u\n}\n";
    char *bigger = malloc(sizeof mixed_ll + sizeof extra);
    strcpy(bigger, mixed_ll);
    strcat(bigger, extra);
    char *a = generate_text(mixed_ll, 42, NULL, 0);
    char *b = generate_text(bigger, 42, NULL, 0);
    for (int k = 1; k <= 3; k++) {
        char header[64];
        snprintf(header, sizeof header, "@work.mewe.v%d(", k);
        char *fa = function_text(a, header), *fb = function_text(b, header);
        ck_assert_str_eq(fa, fb);
        free(fa);
        free(fb);
    }
    ck_assert_ptr_nonnull(strstr(b, "zzz_new.mewe.v1"));
    free(bigger);
    mewe_free(a);
    mewe_free(b);
}
END_TEST

START_TEST(each_builtin_alone_makes_variants)
{
    /* Each must make variants that survive code generation (the wasm check keeps no other):
     * blocks without shuffling, for one, makes none that do. */
    const char *const specs[] = {"subst", "subst:rate=1", "blocks", "blocks:split=1",
                                 "blind", "opaque",       "pad",    "pipeline",
                                 "swap",  "superopt",     "layout"};
    mewe_module *m = load_fixture("recursion.c");
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = &specs[_i];
    o.diversifier_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    char *json = report_of(m);
    ck_assert_msg(strstr(json, "\"variants\": 0,") == NULL ||
                      strstr(json, "\"diversified\": 0,") == NULL,
                  "%s made no variants: %s", specs[_i], json);
    ck_assert_ptr_null(strstr(json, "\"diversified\": 0,"));
    free(json);
}
END_TEST

START_TEST(variants_survive_write_and_load)
{
    mewe_module *m = load_mixed();
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_module_write(m, tpath("v.bc"), MEWE_FORMAT_BITCODE));
    mewe_module *again;
    ck_assert_mewe_ok(mewe_module_load(&again, tctx, tpath("v.bc")));
    char *json = report_of(again);
    assert_entry_has(json, "work", "\"variants\": 3");
    free(json);
    /* A second call adds more, numbered after the first ones. */
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.variants = 2;
    ck_assert_mewe_ok(mewe_generate_variants(again, &o));
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(mewe_module_get_llvm(again), "work.mewe.v5"));
    json = report_of(again);
    assert_entry_has(json, "work", "\"variants\": 5");
    free(json);
}
END_TEST

START_TEST(bad_options)
{
    mewe_module *m = load_mixed();
    char *before = text_of(m);
    mewe_generate_options o;
    ck_assert_int_eq(mewe_generate_options_init(&o, MEWE_GENERATE_OPTIONS_VERSION + 1),
                     MEWE_EVERSION);
    ck_assert_int_eq(mewe_generate_options_init(&o, 0), MEWE_EVERSION);
    ck_assert_int_eq(mewe_generate_options_init(NULL, MEWE_GENERATE_OPTIONS_VERSION), MEWE_EINVAL);
    ck_assert_mewe_ok(mewe_generate_options_init(&o, MEWE_GENERATE_OPTIONS_VERSION));
    ck_assert_uint_eq(o.variants, 3);
    o.version = 0;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EVERSION, "version 0");
    o.version = MEWE_GENERATE_OPTIONS_VERSION;
    o.variants = 65;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "variants: 65");
    o.variants = 3;
    o.attempts = 101;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "attempts: 101");
    o.attempts = 0; /* the default */
    o.wasm_derived = 65;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "wasm_derived: 65");
    o.wasm_derived = 0;
    o.time_budget = -1;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "time_budget");
    o.time_budget = 0;
    o.size_budget = NAN;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "size_budget");
    o.size_budget = 0;
    const char *holes[] = {"work", NULL};
    o.deny = holes;
    o.deny_count = 2;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "deny: entry 1");
    o.deny_count = 0;
    const char *unknown[] = {"no-such-diversifier"};
    o.diversifiers = unknown;
    o.diversifier_count = 1;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_ENOTFOUND, "no-such-diversifier");
    const char *badparam[] = {"subst:speed=2"};
    o.diversifiers = badparam;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "no parameter 'speed'");
    const char *badvalue[] = {"subst:rate=2.5"};
    o.diversifiers = badvalue;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "rate='2.5'");
    const char *notkv[] = {"blocks:split"};
    o.diversifiers = notkv;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "not key=value");
    const char *twice[] = {"subst:rate=0.5,max=2,rate=0.7"};
    o.diversifiers = twice;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL,
                         "parameter 'rate' given twice");
    ck_assert_int_eq(mewe_generate_variants(NULL, NULL), MEWE_EINVAL);
    char *after = text_of(m);
    ck_assert_str_eq(before, after);
    mewe_free(before);
    mewe_free(after);
}
END_TEST

/* ---- user diversifiers ------------------------------------------------------------ */

typedef struct plugin_state {
    int calls;
    int destroyed;
    int fail_at; /* call number that fails, or 0 */
    int fail_rc; /* what it returns then */
} plugin_state;

static void count_destroy(void *user_data)
{
    ((plugin_state *)user_data)->destroyed++;
}

/* Adds `x + 0` style noise: a harmless extra instruction before the return. */
static int failing_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    plugin_state *st = user_data;
    (void)fn;
    if (++st->calls == st->fail_at) {
        mewe_hook_set_error(hook, "planned failure");
        return st->fail_rc;
    }
    return MEWE_OK;
}

/* Leaves an instruction that uses itself: invalid IR the verifier must catch. */
static int breaking_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)hook;
    plugin_state *st = user_data;
    st->calls++;
    LLVMBasicBlockRef bb = LLVMGetEntryBasicBlock(fn);
    LLVMValueRef first = LLVMGetFirstInstruction(bb);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    LLVMPositionBuilderBefore(b, first);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    LLVMValueRef bad = LLVMBuildAdd(b, LLVMGetParam(fn, 0), LLVMConstInt(i32, 1, 0), "bad");
    LLVMSetOperand(bad, 1, bad);
    LLVMDisposeBuilder(b);
    return MEWE_OK;
}

static mewe_diversifier descriptor(const char *name, mewe_diversify_fn fn, plugin_state *st)
{
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = name,
                          .description = "test plugin",
                          .diversify = fn,
                          .user_data = st,
                          .destroy = count_destroy};
    return d;
}

/* A failure that is not about the spec (here MEWE_EUSER) skips the function it happened on,
 * with the plugin's message as the reason; every other function is diversified as usual. */
START_TEST(plugin_failure_skips_the_function)
{
    plugin_state st = {.fail_at = 3, .fail_rc = MEWE_EUSER};
    mewe_diversifier d = descriptor("fails", failing_diversifier, &st);
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    const char *specs[] = {"subst", "fails"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 2;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    char *json = report_of(m);
    /* The first function tried ("work") made two variants, then the third call failed. */
    assert_entry_has(json, "work", "\"status\": \"skipped\"");
    assert_entry_has(json, "work", "diversifier 'fails' failed: planned failure");
    assert_entry_has(json, "work", "\"variants\": 0");
    assert_entry_has(json, "other", "\"status\": \"diversified\"");
    free(json);
    char *text = text_of(m);
    ck_assert_ptr_null(strstr(text, "work.mewe.v"));
    ck_assert_ptr_nonnull(strstr(text, "other.mewe.v"));
    mewe_free(text);
    mewe_context_free(tctx);
    tctx = NULL;
    ck_assert_int_eq(st.destroyed, 1);
}
END_TEST

/* A bad-parameter failure (MEWE_EINVAL) is the caller's error: generation stops, the code is
 * passed back with the plugin's name, and the module is as before. */
START_TEST(plugin_error_is_passed_back_and_module_restored)
{
    plugin_state st = {.fail_at = 3, .fail_rc = MEWE_EINVAL};
    mewe_diversifier d = descriptor("fails", failing_diversifier, &st);
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    char *before = text_of(m);
    const char *specs[] = {"subst", "fails"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 2;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, "planned failure");
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), "'fails'"));
    ck_assert_int_eq(st.calls, 3);
    char *after = text_of(m);
    ck_assert_str_eq(before, after); /* the two variants made before the failure are gone */
    mewe_free(before);
    mewe_free(after);
    ck_assert_int_eq(st.destroyed, 0);
    mewe_context_free(tctx);
    tctx = NULL;
    ck_assert_int_eq(st.destroyed, 1);
}
END_TEST

static int noop_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)hook;
    (void)fn;
    (void)user_data;
    return MEWE_OK;
}

/* Version-2 descriptors carry a cost class and parameter docs, version-1 ones are still
 * accepted (class unspecified) and never read past their end; mewe_diversifier_get gives
 * what was registered. */
START_TEST(descriptor_versions_and_cost_classes)
{
    size_t n = mewe_diversifier_count(tctx);
    const mewe_diversifier *got = NULL;
    for (size_t i = 0; i < n; i++) {
        ck_assert_mewe_ok(mewe_diversifier_get(&got, tctx, i));
        ck_assert_int_eq(got->version, MEWE_DIVERSIFIER_VERSION);
        /* Every built-in says its class and documents every parameter. */
        ck_assert_int_ne(got->cost_class, MEWE_COST_UNSPECIFIED);
        for (size_t k = 0; got->param_names && got->param_names[k]; k++)
            ck_assert_msg(got->param_docs && got->param_docs[k] && got->param_docs[k][0],
                          "%s: parameter %s has no doc", got->name, got->param_names[k]);
        if (strcmp(got->name, "swap") == 0)
            ck_assert_int_eq(got->cost_class, MEWE_COST_FREE);
    }
    ck_assert_mewe_fails(mewe_diversifier_get(&got, tctx, n), MEWE_EINVAL, "out of range");
    ck_assert_mewe_fails(mewe_diversifier_get(NULL, tctx, 0), MEWE_EINVAL, "out is NULL");
    ck_assert_int_eq(mewe_diversifier_get(&got, NULL, 0), MEWE_EINVAL);
    ck_assert_str_eq(mewe_cost_class_str(MEWE_COST_COSTLY), "costly");
    ck_assert_str_eq(mewe_cost_class_str((mewe_cost_class)9), "?");

    /* A version-1 caller's struct ends before cost_class: what lies after must not be read. */
    struct {
        mewe_diversifier d;
        char poison[64];
    } v1;
    memset(&v1, 0xA5, sizeof v1);
    v1.d.version = 1;
    v1.d.name = "old";
    v1.d.description = NULL;
    v1.d.param_names = NULL;
    v1.d.diversify = noop_diversifier;
    v1.d.user_data = NULL;
    v1.d.destroy = NULL;
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &v1.d));
    ck_assert_mewe_ok(mewe_diversifier_get(&got, tctx, n));
    ck_assert_str_eq(got->name, "old");
    ck_assert_int_eq(got->cost_class, MEWE_COST_UNSPECIFIED);
    ck_assert_ptr_null(got->param_docs);

    static const char *const params[] = {"k", NULL};
    static const char *const docs[] = {"the k"};
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = "new",
                          .param_names = params,
                          .diversify = noop_diversifier,
                          .cost_class = MEWE_COST_COSTLY,
                          .param_docs = docs};
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    ck_assert_mewe_ok(mewe_diversifier_get(&got, tctx, n + 1));
    ck_assert_int_eq(got->cost_class, MEWE_COST_COSTLY);
    ck_assert_str_eq(got->param_docs[0], "the k");
    ck_assert_ptr_ne(got->param_docs, docs); /* a copy */

    d.name = "badclass";
    d.cost_class = (mewe_cost_class)7;
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, &d), MEWE_EINVAL, "cost_class 7");
    d.cost_class = MEWE_COST_FREE;
    d.version = MEWE_DIVERSIFIER_VERSION + 1;
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, &d), MEWE_EVERSION, "badclass");
}
END_TEST

/* Adds an instruction per call: a "costly" diversifier whose extra code is known. */
static int padding_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)hook;
    unsigned k = *(unsigned *)user_data;
    LLVMValueRef ret = LLVMGetBasicBlockTerminator(LLVMGetLastBasicBlock(fn));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    LLVMPositionBuilderBefore(b, ret);
    LLVMValueRef v = LLVMGetOperand(ret, 0);
    LLVMTypeRef t = LLVMTypeOf(v);
    for (unsigned i = 0; i < k; i++)
        v = LLVMBuildXor(b, LLVMBuildXor(b, v, LLVMGetParam(fn, 0), ""), LLVMGetParam(fn, 0), "");
    (void)t;
    LLVMSetOperand(ret, 0, v);
    LLVMDisposeBuilder(b);
    return MEWE_OK;
}

/* The cost model keeps a costly diversifier to variants where its extra code stays within
 * MEWE_COSTLY_SHARE of one call; beyond, the variant is made without it and counted as
 * declined. Variants are marked with their class. */
START_TEST(costly_diversifiers_are_limited_by_the_cost_model)
{
    unsigned k = 50; /* 100 instructions more: far over 5% of "work" */
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = "heavy",
                          .diversify = padding_diversifier,
                          .user_data = &k,
                          .cost_class = MEWE_COST_COSTLY};
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    const char *specs[] = {"heavy", "subst:rate=1"};
    const char *allow[] = {"work"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 2;
    o.allow = allow;
    o.allow_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    assert_entry_has(json, "work", "\"costly_declined\": 3");
    free(json);
    char *text = text_of(m);
    ck_assert_ptr_nonnull(strstr(text, "\"mewe-cost-class\"=\"cheap\""));
    ck_assert_ptr_null(strstr(text, "\"mewe-cost-class\"=\"costly\""));
    mewe_free(text);
}
END_TEST

/* A hot loop of cheap arithmetic (@loopy: nothing to rewrite outside it) and one with work
 * on both sides (@both: two adds before the loop, eight in it). */
static const char loops_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define i32 @loopy(i32 %n, i32 %a) {\n"
    "entry:\n  br label %loop\n"
    "loop:\n  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]\n"
    "  %h = phi i32 [ %a, %entry ], [ %h3, %loop ]\n"
    "  %h1 = xor i32 %h, %i\n  %h2 = add i32 %h1, %a\n  %h3 = or i32 %h2, %n\n"
    "  %i1 = add i32 %i, 1\n  %c = icmp ult i32 %i1, %n\n"
    "  br i1 %c, label %loop, label %done\n"
    "done:\n  ret i32 %h3\n}\n"
    "define i32 @both(i32 %n, i32 %a, i32 %b) {\n"
    "entry:\n  %s = add i32 %a, %b\n  %t = add i32 %s, %n\n  br label %loop\n"
    "loop:\n  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]\n"
    "  %h = phi i32 [ %t, %entry ], [ %h8, %loop ]\n"
    "  %h1 = add i32 %h, %i\n  %h2 = add i32 %h1, %a\n  %h3 = add i32 %h2, %b\n"
    "  %h4 = add i32 %h3, %s\n  %h5 = add i32 %h4, %t\n  %h6 = add i32 %h5, %n\n"
    "  %h7 = add i32 %h6, %i\n  %h8 = add i32 %h7, %h\n"
    "  %i1 = add i32 %i, 1\n  %c = icmp ult i32 %i1, %n\n"
    "  br i1 %c, label %loop, label %done\n"
    "done:\n  ret i32 %h8\n}\n";

static unsigned json_uint_after(const char *from, const char *key);

/* Lines of block `label` in a function's text (its label line to the next blank line). */
static int block_lines(const char *fn_text, const char *label)
{
    const char *p = strstr(fn_text, label);
    ck_assert_msg(p != NULL, "no block %s in %s", label, fn_text);
    int lines = 0;
    for (const char *e = strstr(p, "\n\n"); p && (!e || p < e); p = strchr(p + 1, '\n'))
        lines++;
    return lines;
}

/* The default mix's cheap rewrites stay out of a hot loop: a variant whose loop-weighted
 * extra cost is over MEWE__CHEAP_SHARE is made with free diversifiers only, and counted,
 * while those make new variants. A mix named in the options runs as asked. */
START_TEST(cheap_diversifiers_stay_out_of_hot_loops)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, loops_ll, strlen(loops_ll), "loops"));
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    char *json = report_of(m);
    char *e = entry_of(json, "loopy");
    ck_assert_msg(json_uint_after(e, "\"cheap_declined\": ") > 0, "%s", e);
    free(e);
    free(json);
    /* The first variant is what free diversifiers made: no rewrite (subst pins its operands
     * with freeze). Later ones may pay for rewrites once free ones repeat themselves. */
    char *text = text_of(m);
    char *f = function_text(text, "@loopy.mewe.v1(");
    ck_assert_msg(strstr(f, "freeze") == NULL, "a rewrite in the loop: %s", f);
    free(f);
    mewe_free(text);

    static const char *const named[] = {"subst:rate=1", "swap", "blocks"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = named;
    o.diversifier_count = 3;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, loops_ll, strlen(loops_ll), "loops2"));
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    json = report_of(m);
    e = entry_of(json, "loopy");
    ck_assert_msg(strstr(e, "cheap_declined") == NULL, "%s", e);
    free(e);
    free(json);
}
END_TEST

/* subst rewrites out of loops first: with two rewrites and two candidates before the loop,
 * the loop's block is left as it was. */
START_TEST(subst_prefers_code_out_of_loops)
{
    static const char *const named[] = {"subst:rate=1,max=2"};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        char *text = generate_text(loops_ll, seed, named, 1);
        char *orig = function_text(text, "@both(");
        int loop = block_lines(orig, "\nloop:");
        int outside = block_lines(orig, "\nentry:");
        for (int k = 1; k <= 3; k++) {
            char header[64];
            snprintf(header, sizeof header, "@both.mewe.v%d(", k);
            char *f = function_text(text, header);
            ck_assert_int_eq(block_lines(f, "\nloop:"), loop);
            ck_assert_int_gt(block_lines(f, "\nentry:"), outside);
            free(f);
        }
        free(orig);
        mewe_free(text);
    }
}
END_TEST

/* With a cheap costly diversifier (no extra code) the variants keep it and say so; a mix of
 * free diversifiers marks its variants free. */
START_TEST(variants_carry_their_cost_class)
{
    unsigned k = 0;
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = "light",
                          .diversify = padding_diversifier,
                          .user_data = &k,
                          .cost_class = MEWE_COST_COSTLY};
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    const char *specs[] = {"light", "swap:rate=1"};
    const char *allow[] = {"work"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 2;
    o.allow = allow;
    o.allow_count = 1;
    o.variants = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *text = text_of(m);
    ck_assert_ptr_nonnull(strstr(text, "\"mewe-cost-class\"=\"costly\""));
    mewe_free(text);
    mewe_module *m2 = load_mixed();
    const char *free_specs[] = {"swap:rate=1"};
    o.diversifiers = free_specs;
    o.diversifier_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m2, &o));
    text = text_of(m2);
    ck_assert_ptr_nonnull(strstr(text, "\"mewe-cost-class\"=\"free\""));
    mewe_free(text);
}
END_TEST

START_TEST(invalid_variants_are_dropped_and_reported)
{
    plugin_state st = {0};
    mewe_diversifier d = descriptor("breaks", breaking_diversifier, &st);
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    const char *specs[] = {"breaks"};
    const char *allow[] = {"work"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 1;
    o.allow = allow;
    o.allow_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    ck_assert_int_eq(st.calls, 12); /* 3 variants x 4 attempts, all dropped */
    char *json = report_of(m);
    assert_entry_has(json, "work", "\"dropped_invalid\": 12");
    assert_entry_has(json, "work", "every variant failed verification");
    free(json);
    /* `st` lives on this stack: the context, which calls its destroy, must go first. */
    mewe_context_free(tctx);
    tctx = NULL;
    ck_assert_int_eq(st.destroyed, 1);
}
END_TEST

START_TEST(registration_errors_call_destroy)
{
    plugin_state st = {0};
    mewe_diversifier d = descriptor("subst", failing_diversifier, &st);
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, &d), MEWE_EEXIST, "'subst'");
    ck_assert_int_eq(st.destroyed, 1);
    d = descriptor("bad name!", failing_diversifier, &st);
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, &d), MEWE_EINVAL, "bad name!");
    ck_assert_int_eq(st.destroyed, 2);
    d = descriptor("ok", NULL, &st);
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, &d), MEWE_EINVAL, "no callback");
    ck_assert_int_eq(st.destroyed, 3);
    d = descriptor("ok", failing_diversifier, &st);
    d.version = 99;
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, &d), MEWE_EVERSION, "version 99");
    ck_assert_int_eq(st.destroyed, 4);
    ck_assert_int_eq(mewe_diversifier_register(NULL, &d), MEWE_EINVAL);
    ck_assert_int_eq(st.destroyed, 5);
    ck_assert_mewe_fails(mewe_diversifier_register(tctx, NULL), MEWE_EINVAL, "NULL");
}
END_TEST

START_TEST(listing_plugins)
{
    ck_assert_uint_ge(mewe_diversifier_count(tctx), 2);
    const char *name, *desc;
    bool subst = false, blocks = false;
    for (size_t i = 0; i < mewe_diversifier_count(tctx); i++) {
        ck_assert_mewe_ok(mewe_diversifier_at(&name, &desc, tctx, i));
        subst |= strcmp(name, "subst") == 0;
        blocks |= strcmp(name, "blocks") == 0;
        ck_assert_uint_gt(strlen(desc), 10);
    }
    ck_assert(subst && blocks);
    ck_assert_int_eq(mewe_diversifier_at(&name, NULL, tctx, 99), MEWE_EINVAL);
    ck_assert_uint_eq(mewe_diversifier_count(NULL), 0);
    ck_assert_uint_eq(mewe_rng_strategy_count(tctx), 3);
    ck_assert_mewe_ok(mewe_rng_strategy_at(&name, NULL, tctx, 0));
    ck_assert_str_eq(name, "wasi");
}
END_TEST

/* ---- hook helpers ----------------------------------------------------------------- */

typedef struct hook_probe {
    uint32_t counts[5];
    char param[16];
    int rc_param;
    double value;
} hook_probe;

static int probing_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)fn;
    hook_probe *p = user_data;
    for (int i = 0; i < 5000; i++) {
        uint32_t r = mewe_hook_random_below(hook, 5);
        if (r < 5)
            p->counts[r]++;
        else
            return MEWE_EINVAL;
    }
    ck_assert_uint_eq(mewe_hook_random_below(hook, 0), 0);
    ck_assert_ptr_eq(mewe_hook_context(hook), tctx);
    snprintf(p->param, sizeof p->param, "%s", mewe_hook_param(hook, "k"));
    p->rc_param = mewe_hook_param_double(&p->value, hook, "k", 0, 0, 10);
    ck_assert_ptr_null(mewe_hook_param(hook, "absent"));
    return MEWE_OK;
}

START_TEST(hook_random_and_params)
{
    static const char *const params[] = {"k", NULL};
    hook_probe probe = {0};
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = "probe",
                          .param_names = params,
                          .diversify = probing_diversifier,
                          .user_data = &probe};
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    const char *specs[] = {"probe:k=2.5"};
    const char *allow[] = {"other"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 1;
    o.allow = allow;
    o.allow_count = 1;
    o.variants = 1;
    o.attempts = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    for (int i = 0; i < 5; i++)
        ck_assert_msg(probe.counts[i] > 850 && probe.counts[i] < 1150, "bucket %d: %u", i,
                      probe.counts[i]);
    ck_assert_str_eq(probe.param, "2.5");
    ck_assert_int_eq(probe.rc_param, MEWE_OK);
    ck_assert(probe.value == 2.5);
    ck_assert_uint_eq(mewe_hook_random(NULL), 0);
    ck_assert_int_eq(mewe_hook_set_error(NULL, "x"), MEWE_EINVAL);
}
END_TEST

/* A plugin that logs through its hook, then checks what a bad call says. */
typedef struct log_probe {
    int rc_bad_level, rc_null;
    char after_bad_level[128];
} log_probe;

static int logging_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)fn;
    log_probe *p = user_data;
    mewe_hook_log(hook, MEWE_LOG_INFO, "looked at a variant");
    mewe_hook_log(hook, MEWE_LOG_DEBUG, "too detailed for the callback's level");
    p->rc_bad_level = mewe_hook_log(hook, (mewe_log_level)7, "x");
    p->rc_null = mewe_hook_log(hook, MEWE_LOG_WARN, NULL);
    /* The bad calls left their reasons as the hook's error: failing now would show them. */
    return MEWE_OK;
}

typedef struct log_lines {
    int info, debug;
    char first[256];
} log_lines;

static void collect_log(mewe_log_level level, const char *message, void *user_data)
{
    log_lines *l = user_data;
    if (strstr(message, "logger")) {
        l->info += level == MEWE_LOG_INFO;
        l->debug += level == MEWE_LOG_DEBUG;
        if (!l->first[0])
            snprintf(l->first, sizeof l->first, "%s", message);
    }
}

START_TEST(plugins_log_through_the_context)
{
    log_probe probe = {0};
    mewe_diversifier d = {.version = MEWE_DIVERSIFIER_VERSION,
                          .name = "logger",
                          .diversify = logging_diversifier,
                          .user_data = &probe};
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    log_lines lines = {0};
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, collect_log, MEWE_LOG_INFO, &lines));
    mewe_module *m = load_mixed();
    const char *specs[] = {"logger"};
    const char *allow[] = {"other"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 1;
    o.allow = allow;
    o.allow_count = 1;
    o.variants = 1;
    o.attempts = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    ck_assert_int_eq(lines.info, 1);
    ck_assert_int_eq(lines.debug, 0);
    ck_assert_str_eq(lines.first, "plugin 'logger': looked at a variant");
    ck_assert_int_eq(probe.rc_bad_level, MEWE_EINVAL);
    ck_assert_int_eq(probe.rc_null, MEWE_EINVAL);
    ck_assert_int_eq(mewe_hook_log(NULL, MEWE_LOG_INFO, "x"), MEWE_EINVAL);
}
END_TEST

/* A hook call with a bad argument fails with a message, which reaches the context when the
 * plugin passes the failure on. */
static int bad_param_diversifier(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)fn;
    (void)user_data;
    double v;
    int rc = mewe_hook_param_double(&v, hook, NULL, 0, 0, 1);
    return rc != MEWE_OK ? rc : mewe_hook_set_error(hook, NULL);
}

START_TEST(hook_argument_errors_have_messages)
{
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION, .name = "badarg", .diversify = bad_param_diversifier};
    ck_assert_mewe_ok(mewe_diversifier_register(tctx, &d));
    mewe_module *m = load_mixed();
    const char *specs[] = {"badarg"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 1;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL,
                         "mewe_hook_param_double: NULL argument");
}
END_TEST

/* A version's struct as its callers had it: up to its last field, with the tail padding that
 * made it a multiple of its alignment. */
#define VERSION_SIZE(end)                                                              \
    (((end) + _Alignof(mewe_generate_options) - 1) / _Alignof(mewe_generate_options) * \
     _Alignof(mewe_generate_options))

/* A caller's options struct is read only as far as its version reaches (here: a struct that
 * ends where an inaccessible page begins), and the zero fields take their defaults. */
START_TEST(options_are_read_within_their_version)
{
    static const size_t sizes[] = {0, VERSION_SIZE(offsetof(mewe_generate_options, wasm_rounds)),
                                   VERSION_SIZE(offsetof(mewe_generate_options, threads)),
                                   VERSION_SIZE(offsetof(mewe_generate_options, wasm_derived)),
                                   sizeof(mewe_generate_options)};
    _Static_assert(sizeof sizes / sizeof *sizes == MEWE_GENERATE_OPTIONS_VERSION + 1,
                   "a size for every version");
    for (unsigned v = 1; v <= MEWE_GENERATE_OPTIONS_VERSION; v++) {
        mewe_context_set_seed(tctx, v);
        mewe_module *m = load_mixed();
        unsigned char zeros[sizeof(mewe_generate_options)] = {0};
        mewe_generate_options *o = guarded_copy(zeros, sizes[v]);
        ck_assert_mewe_ok(mewe_generate_options_init(o, v));
        ck_assert_uint_eq(o->version, v);
        ck_assert_uint_eq(o->attempts, 0); /* zero: the default */
        ck_assert_mewe_ok(mewe_generate_variants(m, o));
        char *json = report_of(m);
        /* With the defaults: 3 variants of each function worth diversifying, 4 attempts
         * each at most. */
        assert_entry_has(json, "work", "\"variants\": 3");
        free(json);
        o->version = MEWE_GENERATE_OPTIONS_VERSION + 1;
        mewe_module *m2 = load_mixed();
        ck_assert_mewe_fails(mewe_generate_variants(m2, o), MEWE_EVERSION, "knows 1 to");
        guarded_free(o, sizes[v]);
    }
}
END_TEST

static unsigned json_uint_after(const char *from, const char *key)
{
    const char *p = strstr(from, key);
    ck_assert_msg(p != NULL, "no %s in %s", key, from);
    return (unsigned)strtoul(p + strlen(key), NULL, 10);
}

/* Preservation: generation compiles the module's diversified functions to wasm (in a large
 * module, only the smaller ones: variants.c, choose_checked) and keeps only variants whose
 * bodies differ from the original's and each other's. `swap` alone makes many variants that
 * compile to the same code: they are dropped and counted, and what is reported kept of a
 * checked function is exactly what is distinct in wasm. */
START_TEST(variants_are_distinct_in_wasm)
{
    mewe_module *m = load_fixture("recursion.c");
    const char *specs[] = {"swap"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = 1;
    o.variants = 8;
    o.wasm_derived = MEWE_WASM_DERIVED_OFF; /* every variant swap's, checked in wasm */
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    const char *totals = strstr(json, "\"totals\"");
    ck_assert_ptr_nonnull(totals);
    unsigned in_ir = json_uint_after(totals, "\"distinct_in_ir\": ");
    unsigned in_wasm = json_uint_after(totals, "\"distinct_in_wasm\": ");
    unsigned checked = 0, kept_checked = 0;
    for (const char *f = strstr(json, "{\"name\": "); f && f < totals;
         f = strstr(f + 1, "{\"name\": ")) {
        const char *end = strchr(f, '}');
        const char *w = strstr(f, "\"distinct_in_wasm\": ");
        if (!w || w > end) {
            /* A small module is checked whole: only functions without variants have no wasm
             * counts. */
            ck_assert_uint_eq(json_uint_after(f, "\"variants\": "), 0);
            continue;
        }
        unsigned v = json_uint_after(f, "\"variants\": ");
        ck_assert_uint_eq(v, json_uint_after(f, "\"distinct_in_wasm\": "));
        checked++;
        kept_checked += v;
    }
    ck_assert_uint_gt(checked, 0);
    ck_assert_uint_eq(in_wasm, kept_checked);
    ck_assert_msg(in_ir > in_wasm, "swap alone should make IR-only differences: %s", totals);
    ck_assert_ptr_nonnull(strstr(totals, "\"wasm_difference_min\": "));

    /* The check on one thread keeps the same variants as on every processor. */
    mewe_module *m1 = load_fixture("recursion.c");
    o.threads = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m1, &o));
    char *json1 = report_of(m1);
    ck_assert_str_eq(json1, json);
    free(json1);
    o.threads = 0;
    free(json);

    /* The same with the check off: more variants, no wasm fields. */
    mewe_module *m2 = load_fixture("recursion.c");
    o.wasm_rounds = MEWE_WASM_ROUNDS_OFF;
    ck_assert_mewe_ok(mewe_generate_variants(m2, &o));
    json = report_of(m2);
    totals = strstr(json, "\"totals\"");
    ck_assert_ptr_null(strstr(json, "distinct_in_ir"));
    ck_assert_uint_gt(json_uint_after(totals, "\"variants\": "), in_wasm);
    free(json);

    o.wasm_rounds = 17;
    ck_assert_mewe_fails(mewe_generate_variants(m2, &o), MEWE_EINVAL, "wasm_rounds: 17");
    o.wasm_rounds = 0;
    o.threads = MEWE_EMIT_MAX_THREADS + 1;
    ck_assert_mewe_fails(mewe_generate_variants(m2, &o), MEWE_EINVAL, "threads: 1025");
}
END_TEST

/* With the default mix, the check leaves out the functions of 400 instructions or more
 * (variants.c, CHECK_NEVER): no duplicate in wasm was ever seen among them, and compiling
 * them was most of the pipeline's time in programs of large functions. A small function
 * next to one is checked. Diversifiers chosen by the caller keep the large one checked. */
START_TEST(large_functions_are_not_checked)
{
    size_t cap = 64 * 1024, len = 0;
    char *ll = malloc(cap);
    ck_assert_ptr_nonnull(ll);
    len += (size_t)snprintf(ll + len, cap - len,
                            "target triple = \"wasm32-unknown-wasi\"\n"
                            "define i32 @large(i32 %%a, i32 %%b) {\n  %%v0 = add i32 %%a, %%b\n");
    for (int i = 1; i < 420; i++)
        len += (size_t)snprintf(ll + len, cap - len, "  %%v%d = %s i32 %%v%d, %d\n", i,
                                i % 3 == 0   ? "xor"
                                : i % 3 == 1 ? "mul"
                                             : "add",
                                i - 1, i * 7 + 1);
    len += (size_t)snprintf(ll + len, cap - len,
                            "  ret i32 %%v419\n}\n"
                            "define i32 @small(i32 %%a) {\n  %%s = add i32 %%a, 7\n"
                            "  %%t = xor i32 %%s, 5\n  %%u = sub i32 %%t, %%a\n"
                            "  %%v = or i32 %%u, %%s\n  ret i32 %%v\n}\n");
    const char *chosen[] = {"subst", "blocks"};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    for (int k = 0; k < 2; k++) {
        mewe_module *m;
        ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, len, "large"));
        if (k == 1) {
            o.diversifiers = chosen;
            o.diversifier_count = 2;
        }
        ck_assert_mewe_ok(mewe_generate_variants(m, &o));
        char *json = report_of(m);
        char *large = entry_of(json, "large"), *small = entry_of(json, "small");
        ck_assert_msg(strstr(large, "\"status\": \"diversified\"") != NULL, "%s", large);
        if (k == 0)
            ck_assert_msg(strstr(large, "distinct_in_wasm") == NULL, "checked: %s", large);
        else
            ck_assert_msg(strstr(large, "\"distinct_in_wasm\": ") != NULL, "not checked: %s",
                          large);
        ck_assert_msg(strstr(small, "\"distinct_in_wasm\": ") != NULL, "small not checked: %s",
                      small);
        free(large);
        free(small);
        free(json);
        mewe_module_free(m);
    }
    free(ll);
}
END_TEST

/* The report of m with the wasm emitted from it (its "wasm" section asserted present); free
 * with mewe_free. */
static char *wasm_report(mewe_module *m)
{
    void *wasm = NULL;
    size_t size = 0;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &size, m, NULL));
    char *json = NULL;
    ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, wasm, size));
    mewe_free(wasm);
    ck_assert_ptr_nonnull(strstr(json, "\"wasm\": {"));
    return json;
}

/* With the default mix, every kept variant's body is distinct in the emitted wasm too: the
 * final module's families (functions kept as functions) are fully preserved. */
START_TEST(emitted_variants_are_all_distinct)
{
    mewe_module *m = load_fixture("loops.c");
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.variants = 8;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 1; /* every variant stays a function, so the wasm shows each */
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    char *json = wasm_report(m);
    const char *w = strstr(json, "\"wasm\": {");
    ck_assert_ptr_nonnull(strstr(w, "\"preservation\": 1.0000"));
    mewe_free(json);
}
END_TEST

static void keep_warning(mewe_log_level level, const char *message, void *user_data)
{
    if (level == MEWE_LOG_WARN)
        snprintf(user_data, 512, "%s", message);
}

/* When every dispatcher holds its variants inline, the output has no variant function to
 * compare: preservation is null, not 0 (which would read as every variant lost). The
 * variants main was to get in wasm are dropped there, with a warning that says how to
 * have them all. */
START_TEST(inlined_variants_leave_preservation_null)
{
    mewe_module *m = load_fixture("loops.c");
    mewe_generate_options go = MEWE_GENERATE_OPTIONS_INIT;
    go.wasm_derived = MEWE_WASM_DERIVED_OFF; /* every variant made by LLVM, and inlined */
    ck_assert_mewe_ok(mewe_generate_variants(m, &go));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 100000; /* every variant inlined */
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    char *json = wasm_report(m);
    const char *w = strstr(json, "\"wasm\": {");
    ck_assert_ptr_nonnull(strstr(w, "\"variants\": 0,"));
    ck_assert_ptr_nonnull(strstr(w, "\"preservation\": null"));
    mewe_free(json);
}
END_TEST

/* A dispatcher that holds its variants inline, some of them made in wasm, calls them all in
 * the IR; emission splices the calls once the stubs are filled, and the report counts the
 * family as the object held it, before: every variant distinct, marked spliced. */
START_TEST(inlined_variants_made_in_wasm_are_spliced)
{
    mewe_module *m = load_fixture("loops.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 100000;
    char warning[512] = "";
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, keep_warning, MEWE_LOG_WARN, warning));
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    char *json = wasm_report(m);
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, NULL, MEWE_LOG_WARN, NULL));
    ck_assert_str_eq(warning, "");
    const char *w = strstr(json, "\"wasm\": {");
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(strstr(w, "{\"name\": \"__main_argc_argv\", \"variants\": 4, "
                                    "\"distinct_in_wasm\": 4, \"difference\": 0."));
    ck_assert_ptr_nonnull(strstr(w, "\"spliced\": true}"));
    ck_assert_ptr_nonnull(strstr(w, "\"preservation\": 1.0"));
    mewe_free(json);
}
END_TEST

/* Variants made in wasm (mewe_generate_options.wasm_derived): stubs in the IR, each named,
 * marked and counted as a variant, and in the output each a body of its own, unlike every
 * other of its family; only functions of 50 instructions or more get them. */
START_TEST(wasm_derived_variants_are_distinct_in_the_output)
{
    mewe_module *m = load_fixture("loops.c");
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.variants = 8;
    o.wasm_derived = 6;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    /* main (673 instructions) has 2 variants made by LLVM and 6 stubs; the functions under
     * 50 instructions have 8 made by LLVM. */
    unsigned stubs = 0, main_variants = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        unsigned len;
        LLVMAttributeRef of =
            LLVMGetStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, "mewe-variant-of", 15);
        const char *name = of ? LLVMGetStringAttributeValue(of, &len) : NULL;
        bool stub = LLVMGetStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, "mewe-derived",
                                                  12) != NULL;
        bool in_main = name && len == 16 && memcmp(name, "__main_argc_argv", 16) == 0;
        main_variants += in_main;
        ck_assert(!stub || in_main);
        stubs += stub;
    }
    ck_assert_uint_eq(main_variants, 8);
    ck_assert_uint_eq(stubs, 6);
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    char *json = wasm_report(m);
    assert_entry_has(json, "__main_argc_argv", "\"variants\": 8, \"wasm_derived\": 6,");
    ck_assert_uint_eq(json_uint_after(strstr(json, "\"totals\""), "\"wasm_derived\": "), 6);
    const char *w = strstr(json, "\"wasm\": {");
    assert_entry_has(w, "__main_argc_argv", "\"variants\": 9, \"distinct_in_wasm\": 9, ");
    char *e = entry_of(w, "__main_argc_argv");
    double difference = strtod(strstr(e, "\"difference\": ") + 14, NULL);
    ck_assert_msg(difference > 0.2 && difference < 1.0, "%s", e);
    free(e);
    ck_assert_double_eq_tol(strtod(strstr(w, "\"difference_mean\": ") + 19, NULL), difference,
                            1e-4);
    ck_assert_ptr_nonnull(strstr(w, "\"preservation\": 1.0000"));
    mewe_free(json);
}
END_TEST

/* Off, or in a module with debug info (whose DWARF would name code that moved): every
 * variant is made by LLVM. */
START_TEST(wasm_derived_variants_off_or_with_debug_info)
{
    for (int with_debug = 0; with_debug < 2; with_debug++) {
        mewe_module *m = load_fixture("loops.c");
        LLVMModuleRef llvm = mewe_module_get_llvm(m);
        if (with_debug) {
            LLVMDIBuilderRef di = LLVMCreateDIBuilder(llvm);
            LLVMMetadataRef file = LLVMDIBuilderCreateFile(di, "loops.c", 7, ".", 1);
            LLVMDIBuilderCreateCompileUnit(di, LLVMDWARFSourceLanguageC, file, "clang", 5, 0, "", 0,
                                           0, "", 0, LLVMDWARFEmissionFull, 0, 0, 0, "", 0, "", 0);
            LLVMDIBuilderFinalize(di);
            LLVMDisposeDIBuilder(di);
        }
        mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
        o.wasm_derived = with_debug ? 2 : MEWE_WASM_DERIVED_OFF;
        ck_assert_mewe_ok(mewe_generate_variants(m, &o));
        char *json = NULL;
        ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
        ck_assert_uint_eq(json_uint_after(strstr(json, "\"totals\""), "\"wasm_derived\": "), 0);
        assert_entry_has(json, "__main_argc_argv", "\"variants\": 3, \"dropped");
        mewe_free(json);
        mewe_module_free(m);
    }
}
END_TEST

/* ---- selection policy ------------------------------------------------------------- */

typedef struct policy_log {
    int calls;
    size_t work_calls, work_size;
    int fail;
} policy_log;

static int policy(const mewe_function_info *info, unsigned int *variants, void *user_data)
{
    policy_log *log = user_data;
    log->calls++;
    if (log->fail)
        return MEWE_EUSER;
    if (strcmp(info->name, "other") == 0)
        *variants = 0;
    if (strcmp(info->name, "work") == 0) {
        log->work_size = info->instructions;
        log->work_calls = info->call_sites;
        *variants = 1;
    }
    return MEWE_OK;
}

START_TEST(selection_policy_decides)
{
    static const char caller[] = "define i32 @caller(i32 %x) {\n"
                                 "  %a = call i32 @work(i32 %x, i32 1)\n"
                                 "  %b = call i32 @work(i32 %a, i32 2)\n  ret i32 %b\n}\n";
    char *ll = malloc(sizeof mixed_ll + sizeof caller);
    strcpy(ll, mixed_ll);
    strcat(ll, caller);
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), "policy"));
    free(ll);
    policy_log log = {0};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.select = policy;
    o.select_data = &log;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    ck_assert_int_eq(log.calls, 3); /* work, other, caller: the others fail built-in checks */
    ck_assert_uint_eq(log.work_calls, 2);
    ck_assert_uint_eq(log.work_size, 13);
    char *json = report_of(m);
    assert_entry_has(json, "work", "\"variants\": 1");
    assert_entry_has(json, "other", "skipped by the selection policy");
    /* Left at the default by the policy: as many variants as the diversifiers could find. */
    char *entry = entry_of(json, "caller");
    ck_assert_ptr_null(strstr(entry, "selection policy"));
    ck_assert_ptr_nonnull(strstr(entry, "\"eligible\": true"));
    free(entry);
    free(json);
}
END_TEST

START_TEST(selection_policy_error_restores_module)
{
    mewe_module *m = load_mixed();
    char *before = text_of(m);
    policy_log log = {.fail = 1};
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.select = policy;
    o.select_data = &log;
    ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EUSER, "selection policy");
    char *after = text_of(m);
    ck_assert_str_eq(before, after);
    mewe_free(before);
    mewe_free(after);
}
END_TEST

/* ---- budgets ---------------------------------------------------------------------- */

START_TEST(size_budget_limits_growth)
{
    mewe_module *m = load_fixture("recursion.c");
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.size_budget = 0.5;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    ck_assert_ptr_nonnull(strstr(json, "size budget"));
    /* Growth stays within half of the original instruction count. */
    long before = 0, after = 0;
    sscanf(strstr(json, "\"instructions_before\": "), "\"instructions_before\": %ld", &before);
    sscanf(strstr(json, "\"instructions_after\": "), "\"instructions_after\": %ld", &after);
    ck_assert_int_le(after - before, before / 2);
    free(json);
}
END_TEST

START_TEST(time_budget_stops_generation)
{
    mewe_module *m = load_fixture("recursion.c");
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.time_budget = 1e-9;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    ck_assert_ptr_nonnull(strstr(json, "\"reason\": \"time budget\""));
    ck_assert_ptr_nonnull(strstr(json, "\"time_budget_hit\": true"));
    free(json);
}
END_TEST

START_TEST(generate_after_link_is_refused)
{
    mewe_module *m = load_mixed();
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    ck_assert_mewe_fails(mewe_generate_variants(m, NULL), MEWE_ESTATE, "already multivariant");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("variants");
    TCase *tc = test_case("variants");
    tcase_add_test(tc, default_generation_and_reasons);
    tcase_add_test(tc, allow_and_deny_lists);
    tcase_add_test(tc, min_instructions_option);
    tcase_add_loop_test(tc, deterministic_for_a_seed, 0, 5);
    tcase_add_test(tc, adding_a_function_changes_no_other);
    tcase_add_loop_test(tc, each_builtin_alone_makes_variants, 0, 11);
    tcase_add_test(tc, variants_survive_write_and_load);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, plugin_error_is_passed_back_and_module_restored);
    tcase_add_test(tc, plugin_failure_skips_the_function);
    tcase_add_test(tc, descriptor_versions_and_cost_classes);
    tcase_add_test(tc, costly_diversifiers_are_limited_by_the_cost_model);
    tcase_add_test(tc, variants_carry_their_cost_class);
    tcase_add_test(tc, cheap_diversifiers_stay_out_of_hot_loops);
    tcase_add_test(tc, subst_prefers_code_out_of_loops);
    tcase_add_test(tc, invalid_variants_are_dropped_and_reported);
    tcase_add_test(tc, registration_errors_call_destroy);
    tcase_add_test(tc, listing_plugins);
    tcase_add_test(tc, hook_random_and_params);
    tcase_add_test(tc, plugins_log_through_the_context);
    tcase_add_test(tc, hook_argument_errors_have_messages);
    tcase_add_test(tc, options_are_read_within_their_version);
    tcase_add_test(tc, selection_policy_decides);
    tcase_add_test(tc, selection_policy_error_restores_module);
    tcase_add_test(tc, size_budget_limits_growth);
    tcase_add_test(tc, time_budget_stops_generation);
    tcase_add_test(tc, generate_after_link_is_refused);
    tcase_add_test(tc, variants_are_distinct_in_wasm);
    tcase_add_test(tc, large_functions_are_not_checked);
    tcase_add_test(tc, emitted_variants_are_all_distinct);
    tcase_add_test(tc, inlined_variants_leave_preservation_null);
    tcase_add_test(tc, inlined_variants_made_in_wasm_are_spliced);
    tcase_add_test(tc, wasm_derived_variants_are_distinct_in_the_output);
    tcase_add_test(tc, wasm_derived_variants_off_or_with_debug_info);
    suite_add_tcase(s, tc);
    return test_run(s);
}
