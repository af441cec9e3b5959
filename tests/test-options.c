/* mewe/options.h: the defaults and limits that tools and bindings take from the library, and
 * the spec checks. What is published must be what the stages do: each limit is checked
 * against the call that enforces it, each default against the initialisers and the stages. */
#include <math.h>

#include "test-util.h"

static const char small_ll[] = "target triple = \"wasm32-unknown-wasi\"\n"
                               "define i32 @work(i32 %a, i32 %b) {\n"
                               "  %s = add i32 %a, %b\n  %x = xor i32 %s, %a\n"
                               "  %o = or i32 %x, 3\n  %q = sub i32 %o, %b\n  ret i32 %q\n}\n";

static mewe_module *load_small(void)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, small_ll, strlen(small_ll), "small"));
    return m;
}

typedef struct described {
    const char *text;
    double def, min, max;
} described;

static described describe(const char *name)
{
    described d;
    int rc = mewe_option_describe(&d.text, &d.def, &d.min, &d.max, name);
    ck_assert_msg(rc == MEWE_OK, "%s: %d", name, rc);
    ck_assert_ptr_nonnull(d.text);
    return d;
}

START_TEST(every_listed_option_is_described)
{
    size_t n = mewe_option_count();
    ck_assert_uint_ge(n, 14);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        ck_assert_mewe_ok(mewe_option_at(&name, i));
        described d = describe(name);
        ck_assert_msg(d.text[0] != '\0', "%s has an empty default", name);
        if (isnan(d.def) && strcmp(name, "generate.wasm_derived") == 0) {
            /* A number, but its default depends on each function's variants. */
            ck_assert_str_eq(d.text, "all but one");
            ck_assert(d.min == 0 && d.max == 64);
            continue;
        }
        if (isnan(d.def)) {
            ck_assert(isnan(d.min) && isnan(d.max));
            continue;
        }
        /* The text a tool prints is the number the library uses. */
        ck_assert_msg(strtod(d.text, NULL) == d.def, "%s: '%s' is not %g", name, d.text, d.def);
        ck_assert_msg(d.min <= d.def && d.def <= d.max, "%s: %g outside %g..%g", name, d.def, d.min,
                      d.max);
    }
    const char *name = "x";
    ck_assert_int_eq(mewe_option_at(&name, n), MEWE_EINVAL);
    ck_assert_int_eq(mewe_option_at(NULL, 0), MEWE_EINVAL);
    ck_assert_int_eq(mewe_option_describe(NULL, NULL, NULL, NULL, NULL), MEWE_EINVAL);
    ck_assert_int_eq(mewe_option_describe(NULL, NULL, NULL, NULL, "variants"), MEWE_ENOTFOUND);
    ck_assert_int_eq(mewe_option_describe(NULL, NULL, NULL, NULL, "generate.select"),
                     MEWE_ENOTFOUND);
    ck_assert_int_eq(mewe_option_describe(NULL, NULL, NULL, NULL, "emit.opt_level"), MEWE_OK);
}
END_TEST

START_TEST(defaults_are_the_initialisers)
{
    mewe_generate_options g;
    mewe_link_options l;
    mewe_emit_options e;
    ck_assert_mewe_ok(mewe_generate_options_init(&g, MEWE_GENERATE_OPTIONS_VERSION));
    ck_assert_mewe_ok(mewe_link_options_init(&l, MEWE_LINK_OPTIONS_VERSION));
    ck_assert_mewe_ok(mewe_emit_options_init(&e, MEWE_EMIT_OPTIONS_VERSION));
    ck_assert(describe("generate.variants").def == g.variants);
    ck_assert(describe("generate.min_instructions").def == g.min_instructions);
    ck_assert(describe("generate.attempts").def == MEWE_ATTEMPTS_DEFAULT);
    ck_assert(describe("generate.time_budget").def == g.time_budget);
    ck_assert(describe("generate.size_budget").def == g.size_budget);
    ck_assert(describe("link.max_overhead").def == MEWE_MAX_OVERHEAD_DEFAULT);
    ck_assert(describe("link.period").def == MEWE_PERIOD_DEFAULT);
    ck_assert(describe("link.inline_limit").def == MEWE_INLINE_LIMIT_DEFAULT);
    ck_assert(describe("emit.opt_level").def == e.opt_level);
    ck_assert_str_eq(describe("link.dispatch").text, "switch");
    ck_assert_int_eq(l.dispatch, MEWE_DISPATCH_SWITCH);
    ck_assert_str_eq(describe("link.granularity").text, "call");
    ck_assert_int_eq(l.granularity, MEWE_GRANULARITY_CALL);
    ck_assert_str_eq(describe("emit.kind").text, "command");
    ck_assert_int_eq(e.kind, MEWE_EMIT_COMMAND);
}
END_TEST

/* The report's link section says which strategy a link without one used. */
START_TEST(default_rng_is_what_link_uses)
{
    mewe_module *m = load_small();
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    char want[64];
    snprintf(want, sizeof want, "\"rng\": \"%s\"", describe("link.rng").text);
    ck_assert_msg(strstr(json, want), "%s not in %s", want, json);
    mewe_free(json);
}
END_TEST

/* An empty diversifier list means the published default set: the same bytes. */
START_TEST(default_diversifiers_are_what_generate_uses)
{
    char list[128];
    snprintf(list, sizeof list, "%s", describe("generate.diversifiers").text);
    const char *specs[8];
    size_t n = 0;
    for (char *p = strtok(list, ", "); p && n < 8; p = strtok(NULL, ", "))
        specs[n++] = p;
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++)
        ck_assert_mewe_ok(mewe_diversifier_spec_check(tctx, specs[i]));
    mewe_module *by_default = load_small(), *named = load_small();
    ck_assert_mewe_ok(mewe_generate_variants(by_default, NULL));
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = specs;
    o.diversifier_count = n;
    ck_assert_mewe_ok(mewe_generate_variants(named, &o));
    void *a, *b;
    size_t na, nb;
    ck_assert_mewe_ok(mewe_module_write_memory(&a, &na, by_default, MEWE_FORMAT_TEXT));
    ck_assert_mewe_ok(mewe_module_write_memory(&b, &nb, named, MEWE_FORMAT_TEXT));
    /* The module names differ only in the ModuleID line. */
    const char *ta = strchr(a, '\n'), *tb = strchr(b, '\n');
    ck_assert_ptr_nonnull(strstr(ta, "work.mewe.v1"));
    ck_assert_str_eq(ta, tb);
    mewe_free(a);
    mewe_free(b);
}
END_TEST

/* Generation with the given options on a fresh module: its status. */
static int generate_with(const mewe_generate_options *o)
{
    return mewe_generate_variants(load_small(), o);
}

START_TEST(generate_limits_are_enforced)
{
    described v = describe("generate.variants"), a = describe("generate.attempts");
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.min_instructions = (unsigned)describe("generate.min_instructions").max; /* no work */
    o.variants = (unsigned)v.max;
    ck_assert_mewe_ok(generate_with(&o));
    o.variants = (unsigned)v.max + 1;
    ck_assert_mewe_fails(generate_with(&o), MEWE_EINVAL, "variants");
    o.variants = (unsigned)v.min;
    ck_assert_mewe_ok(generate_with(&o));
    o.attempts = (unsigned)a.max;
    ck_assert_mewe_ok(generate_with(&o));
    o.attempts = (unsigned)a.max + 1;
    ck_assert_mewe_fails(generate_with(&o), MEWE_EINVAL, "attempts");
    o.attempts = 0;
    o.time_budget = -1;
    ck_assert_mewe_fails(generate_with(&o), MEWE_EINVAL, "time_budget");
    o.time_budget = describe("generate.time_budget").max;
    ck_assert_mewe_ok(generate_with(&o));
    o.size_budget = -0.5;
    ck_assert_mewe_fails(generate_with(&o), MEWE_EINVAL, "size_budget");
}
END_TEST

static int link_with(const mewe_link_options *o)
{
    return mewe_link_multivariant(load_small(), o);
}

START_TEST(link_limits_are_enforced)
{
    described p = describe("link.period"), mo = describe("link.max_overhead");
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.granularity = MEWE_GRANULARITY_EVERY;
    o.period = (unsigned)p.max;
    ck_assert_mewe_ok(link_with(&o));
    o.period = (unsigned)p.max + 1;
    ck_assert_mewe_fails(link_with(&o), MEWE_EINVAL, "period");
    o.period = 0;
    o.max_overhead = nextafter(mo.min, 0);
    ck_assert_mewe_fails(link_with(&o), MEWE_EINVAL, "max_overhead");
    o.max_overhead = mo.max;
    ck_assert(isinf(mo.max));
    ck_assert_mewe_ok(link_with(&o));
}
END_TEST

START_TEST(emit_limits_are_enforced)
{
    described l = describe("emit.opt_level");
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.opt_level = (int)l.max + 1;
    ck_assert_mewe_fails(mewe_emit_wasm(load_small(), &o, tpath("x.wasm")), MEWE_EINVAL,
                         "opt_level");
    o.opt_level = (int)l.min - 1;
    ck_assert_mewe_fails(mewe_emit_wasm(load_small(), &o, tpath("x.wasm")), MEWE_EINVAL,
                         "opt_level");
}
END_TEST

START_TEST(diversifier_specs_are_checked)
{
    ck_assert_mewe_ok(mewe_diversifier_spec_check(tctx, "subst"));
    ck_assert_mewe_ok(mewe_diversifier_spec_check(tctx, "subst:rate=0.8,max=2"));
    ck_assert_mewe_fails(mewe_diversifier_spec_check(tctx, "shuffle-all"), MEWE_ENOTFOUND,
                         "unknown diversifier 'shuffle-all'");
    ck_assert_mewe_fails(mewe_diversifier_spec_check(tctx, "subst:speed=2"), MEWE_EINVAL,
                         "no parameter 'speed'");
    ck_assert_mewe_fails(mewe_diversifier_spec_check(tctx, "subst:rate"), MEWE_EINVAL,
                         "not key=value");
    ck_assert_mewe_fails(mewe_diversifier_spec_check(tctx, ""), MEWE_EINVAL, "empty");
    ck_assert_mewe_fails(mewe_diversifier_spec_check(tctx, NULL), MEWE_EINVAL, "NULL");
    ck_assert_int_eq(mewe_diversifier_spec_check(NULL, "subst"), MEWE_EINVAL);
    /* A strategy is not a diversifier. */
    ck_assert_mewe_fails(mewe_diversifier_spec_check(tctx, "wasi"), MEWE_ENOTFOUND, "'wasi'");
}
END_TEST

START_TEST(rng_specs_are_checked)
{
    ck_assert_mewe_ok(mewe_rng_strategy_spec_check(tctx, "wasi"));
    ck_assert_mewe_ok(mewe_rng_strategy_spec_check(tctx, "fixed:seed=3,gen=xorshift"));
    ck_assert_mewe_ok(mewe_rng_strategy_spec_check(tctx, describe("link.rng").text));
    ck_assert_mewe_fails(mewe_rng_strategy_spec_check(tctx, "dice"), MEWE_ENOTFOUND,
                         "unknown RNG strategy 'dice'");
    ck_assert_mewe_fails(mewe_rng_strategy_spec_check(tctx, "host:port=1"), MEWE_EINVAL,
                         "no parameter 'port'");
    ck_assert_int_eq(mewe_rng_strategy_spec_check(NULL, "wasi"), MEWE_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("options");
    TCase *tc = test_case("core");
    tcase_add_test(tc, every_listed_option_is_described);
    tcase_add_test(tc, defaults_are_the_initialisers);
    tcase_add_test(tc, default_rng_is_what_link_uses);
    tcase_add_test(tc, default_diversifiers_are_what_generate_uses);
    tcase_add_test(tc, generate_limits_are_enforced);
    tcase_add_test(tc, link_limits_are_enforced);
    tcase_add_test(tc, emit_limits_are_enforced);
    tcase_add_test(tc, diversifier_specs_are_checked);
    tcase_add_test(tc, rng_specs_are_checked);
    suite_add_tcase(s, tc);
    return test_run(s);
}
