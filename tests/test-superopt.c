/* The built-in diversifier `superopt` (lib/diversifiers/superopt.c), white box: its prover
 * refutes wrong candidates, what it proves holds (checked again exhaustively at 8 bits, by
 * an evaluator of its own), nothing unproven is applied, its cache changes no answer, and
 * through the pipeline it rewrites functions into variants that differ in IR and in wasm and
 * refuses bad parameters. The differential runs over every fixture are in
 * test-diversifiers.c. */
#include <stdint.h>

#include <mewe/sys/diversifier.h>

#include "../lib/diversifiers/superopt.h"
#include "test-util.h"

/* Shapes such as windows of real code have: one to three operations, one to three leaves. */
static const char *const shapes[] = {
    "a b +",    "a b -",     "a b ^",      "a b &",      "a b |",     "a 1 +",
    "a -1 ^",   "a 1 >>u",   "a 31 >>s",   "a b 1 << +", "a b c & |", "a b & c |",
    "a b c ++", "a b + b +", "a 1 << b |", "a b c + +",
};
#define N_SHAPES (sizeof shapes / sizeof *shapes)
static const unsigned widths[] = {8, 16, 32, 64};

/* An evaluator independent of the library's, for the exhaustive check: an expression
 * compiled to operations on 8-bit numbers. */
typedef struct prog8 {
    char op[16]; /* 'a' 'b' 'c' leaves, 'k' constant, else the operator's key */
    uint8_t k[16];
    int n;
} prog8;

static void compile8(prog8 *p, const char *rpn)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", rpn);
    p->n = 0;
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        ck_assert_int_lt(p->n, 16);
        char op = 'k';
        if (!strcmp(t, "a") || !strcmp(t, "b") || !strcmp(t, "c") || !strcmp(t, "+") ||
            !strcmp(t, "-") || !strcmp(t, "&") || !strcmp(t, "|") || !strcmp(t, "^"))
            op = t[0];
        else if (!strcmp(t, "<<"))
            op = '<';
        else if (!strcmp(t, ">>u"))
            op = 'u';
        else if (!strcmp(t, ">>s"))
            op = 's';
        p->op[p->n] = op;
        p->k[p->n++] = op == 'k' ? (uint8_t)strtol(t, NULL, 10) : 0;
    }
}

static uint8_t run8(const prog8 *p, uint8_t a, uint8_t b, uint8_t c)
{
    uint8_t st[16];
    int d = 0;
    for (int i = 0; i < p->n; i++) {
        char op = p->op[i];
        if (op == 'a' || op == 'b' || op == 'c' || op == 'k') {
            st[d++] = op == 'a' ? a : op == 'b' ? b : op == 'c' ? c : p->k[i];
            continue;
        }
        uint8_t y = st[--d], x = st[d - 1];
        switch (op) {
        case '+': x = (uint8_t)(x + y); break;
        case '-': x = (uint8_t)(x - y); break;
        case '&': x &= y; break;
        case '|': x |= y; break;
        case '^': x ^= y; break;
        case '<': x = (uint8_t)(x << y); break;
        case 'u': x = (uint8_t)(x >> y); break;
        default: x = (uint8_t)((int8_t)x >> y); break;
        }
        st[d - 1] = x;
    }
    return st[0];
}

static bool equal_everywhere8(const char *src, const char *cand)
{
    prog8 ps, pc;
    compile8(&ps, src);
    compile8(&pc, cand);
    unsigned c_step = strchr(src, 'c') || strchr(cand, 'c') ? 1 : 256;
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (unsigned c = 0; c < 256; c += c_step) {
                if (run8(&ps, (uint8_t)a, (uint8_t)b, (uint8_t)c) !=
                    run8(&pc, (uint8_t)a, (uint8_t)b, (uint8_t)c))
                    return false;
            }
        }
    }
    return true;
}

/* Wrong candidates, each close to a right one, are refuted by Z3 alone and by the check. */
START_TEST(wrong_candidates_are_refuted)
{
    static const char *const wrong[][2] = {
        {"a b +", "a b | a b ^ +"},   /* (a|b)+(a^b) is not a+b */
        {"a b ^", "a b | a b & +"},   /* (a|b)+(a&b) is a+b, not a^b */
        {"a b &", "a b + a b ^ -"},   /* (a+b)-(a^b) is 2(a&b) */
        {"a 31 >>u", "a 31 >>s"},     /* differ for negative a */
        {"a b -", "b a -"},           /* not commutative */
        {"a b c & |", "a b | c &"},   /* or does not distribute that way */
        {"a 1 +", "a -1 ^ 1 -"},      /* ~a - 1 is -a - 2 */
        {"a b 1 << +", "a b + 1 <<"}, /* 2(a+b) */
    };
    mewe__superopt *so = mewe__superopt_new();
    ck_assert_ptr_nonnull(so);
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
            if (strstr(wrong[i][0], "31") && widths[w] != 32)
                continue; /* a shift amount must be below the width */
            mewe__so_verdict v;
            ck_assert_int_eq(mewe__superopt_prove(&v, so, widths[w], wrong[i][0], wrong[i][1]),
                             MEWE_OK);
            ck_assert_msg(v == MEWE__SO_REFUTED, "Z3 did not refute %s == %s at width %u: %d",
                          wrong[i][0], wrong[i][1], widths[w], (int)v);
            ck_assert_int_eq(mewe__superopt_check(&v, so, widths[w], wrong[i][0], wrong[i][1]),
                             MEWE_OK);
            ck_assert_int_eq(v, MEWE__SO_REFUTED);
        }
    }
    /* The control: right ones are proven, one that no test vector tells from a wrong one's
     * shape among them ((a >>s 1) << 1 and (a >>u 1) << 1 agree everywhere). */
    mewe__so_verdict v;
    ck_assert_int_eq(mewe__superopt_prove(&v, so, 64, "a 1 >>s 1 <<", "a 1 >>u 1 <<"), MEWE_OK);
    ck_assert_int_eq(v, MEWE__SO_PROVEN);
    ck_assert_int_eq(mewe__superopt_prove(&v, so, 32, "a b +", "a b & a b | +"), MEWE_OK);
    ck_assert_int_eq(v, MEWE__SO_PROVEN);
    /* Malformed expressions are refused, not guessed at. */
    ck_assert_int_eq(mewe__superopt_prove(&v, so, 32, "a b", "a"), MEWE_EINVAL);
    ck_assert_int_eq(mewe__superopt_prove(&v, so, 32, "a b <<", "a"), MEWE_EINVAL);
    ck_assert_int_eq(mewe__superopt_prove(&v, so, 32, "a 32 <<", "a"), MEWE_EINVAL);
    ck_assert_int_eq(mewe__superopt_prove(&v, so, 12, "a", "a"), MEWE_EINVAL);
    ck_assert_int_eq(mewe__superopt_check(&v, so, 32, "a d +", "a"), MEWE_EINVAL);
    mewe__superopt_free(so);
}
END_TEST

/* Every alternative the search returns is proven, is not the window, fits three
 * instructions, and at 8 bits equals the window on every input (an evaluator of its own). */
START_TEST(alternatives_are_proven_and_hold)
{
    mewe__superopt *so = mewe__superopt_new();
    size_t total = 0;
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        for (size_t i = 0; i < N_SHAPES; i++) {
            char src[64];
            snprintf(src, sizeof src, "%s", shapes[i]);
            char *p = strstr(src, "31");
            if (p) /* the sign bit at every width */
                snprintf(src, sizeof src, "a %u >>s", widths[w] - 1);
            const char *const *alts;
            size_t n;
            int rc = mewe__superopt_alternatives(&alts, &n, so, widths[w], src);
            if (!strcmp(shapes[i], "a b c ++")) { /* malformed */
                ck_assert_int_eq(rc, MEWE_EINVAL);
                continue;
            }
            ck_assert_int_eq(rc, MEWE_OK);
            total += n;
            for (size_t k = 0; k < n; k++) {
                ck_assert_str_ne(alts[k], src);
                ck_assert_uint_le(mewe__superopt_size(alts[k]), 3);
                mewe__so_verdict v;
                ck_assert_int_eq(mewe__superopt_prove(&v, so, widths[w], src, alts[k]), MEWE_OK);
                ck_assert_msg(v == MEWE__SO_PROVEN, "%s -> %s at %u: %d", src, alts[k], widths[w],
                              (int)v);
                if (widths[w] == 8)
                    ck_assert_msg(equal_everywhere8(src, alts[k]), "%s -> %s is wrong at 8 bits",
                                  src, alts[k]);
            }
        }
    }
    ck_assert_uint_gt(total, 4 * N_SHAPES); /* the search finds some */
    mewe__superopt_free(so);
}
END_TEST

/* The contract: a candidate is used only once Z3 proved it. With a resource limit too small
 * for any proof, candidates still pass every test vector, yet none is returned. */
START_TEST(nothing_unproven_is_used)
{
    mewe__superopt *so = mewe__superopt_new();
    mewe__superopt_set_rlimit(so, 1);
    const char *const *alts;
    size_t n;
    ck_assert_int_eq(mewe__superopt_alternatives(&alts, &n, so, 32, "a b +"), MEWE_OK);
    mewe__so_stats st = mewe__superopt_stats(so);
    ck_assert_uint_gt(st.survivors, 0);
    ck_assert_uint_gt(st.unknown, 0);
    ck_assert_uint_eq(st.proven, 0);
    ck_assert_uint_eq(n, 0);
    mewe__superopt_free(so);
    /* With the default limit, the same search proves some. */
    so = mewe__superopt_new();
    ck_assert_int_eq(mewe__superopt_alternatives(&alts, &n, so, 32, "a b +"), MEWE_OK);
    ck_assert_uint_gt(n, 0);
    mewe__superopt_free(so);
}
END_TEST

/* A shape searched again is a cache hit with the same answer, and the answer does not depend
 * on what was searched before (output must not depend on the order functions come in). */
START_TEST(cache_changes_no_answer)
{
    mewe__superopt *a = mewe__superopt_new(), *b = mewe__superopt_new();
    const char *const *la, *const *lb, *const *again;
    size_t na, nb, n;
    for (size_t i = 0; i < N_SHAPES; i++) {
        if (strcmp(shapes[i], "a b c ++") && strcmp(shapes[i], "a b ^"))
            ck_assert_int_eq(mewe__superopt_alternatives(&la, &na, a, 32, shapes[i]), MEWE_OK);
    }
    ck_assert_int_eq(mewe__superopt_alternatives(&la, &na, a, 32, "a b ^"), MEWE_OK);
    ck_assert_int_eq(mewe__superopt_alternatives(&lb, &nb, b, 32, "a b ^"), MEWE_OK);
    ck_assert_uint_eq(na, nb);
    for (size_t k = 0; k < na; k++)
        ck_assert_str_eq(la[k], lb[k]);
    size_t hits = mewe__superopt_stats(a).shape_hits, queries = mewe__superopt_stats(a).queries;
    ck_assert_int_eq(mewe__superopt_alternatives(&again, &n, a, 32, "a b ^"), MEWE_OK);
    ck_assert_ptr_eq(again, la);
    ck_assert_uint_eq(mewe__superopt_stats(a).shape_hits, hits + 1);
    ck_assert_uint_eq(mewe__superopt_stats(a).queries, queries);
    /* A pair's verdict is cached as well: no second query. */
    mewe__so_verdict v;
    ck_assert_int_eq(mewe__superopt_check(&v, a, 32, "a b ^", la[0]), MEWE_OK);
    ck_assert_int_eq(v, MEWE__SO_PROVEN);
    ck_assert_uint_eq(mewe__superopt_stats(a).queries, queries);
    mewe__superopt_free(a);
    mewe__superopt_free(b);
}
END_TEST

static char *report_of(mewe_module *m)
{
    char *json = NULL;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    return json;
}

/* A number of the report's totals. */
static double number_after(const char *json, const char *key)
{
    const char *p = strstr(json, "\"totals\": {");
    ck_assert_ptr_nonnull(p);
    p = strstr(p, key);
    ck_assert_msg(p != NULL, "no %s in %s", key, json);
    return strtod(p + strlen(key), NULL);
}

static const mewe_diversifier *superopt_descriptor(void)
{
    for (size_t i = 0; i < mewe_diversifier_count(tctx); i++) {
        const mewe_diversifier *d;
        ck_assert_mewe_ok(mewe_diversifier_get(&d, tctx, i));
        if (!strcmp(d->name, "superopt"))
            return d;
    }
    ck_abort_msg("superopt is not registered: this build has Z3 (the tests need it)");
    return NULL;
}

/* On a fixture with arithmetic, variants are made that differ from the original in IR and
 * survive into the wasm. */
START_TEST(rewrites_into_distinct_wasm)
{
    const mewe_diversifier *d = superopt_descriptor();
    ck_assert_int_eq(d->cost_class, MEWE_COST_CHEAP);
    mewe_context_set_seed(tctx, 11 + (uint64_t)_i);
    mewe_module *m = load_fixture("costs.c");
    const char *spec = "superopt";
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = &spec;
    o.diversifier_count = 1;
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    ck_assert_mewe_ok(mewe_module_verify(m));
    char *json = report_of(m);
    ck_assert_msg(number_after(json, "\"distinct_in_ir\": ") >= 4, "%s", json);
    ck_assert_msg(number_after(json, "\"distinct_in_wasm\": ") >= 4, "%s", json);
    mewe_free(json);
    mewe__so_stats st = mewe__superopt_stats(d->user_data);
    ck_assert_uint_gt(st.proven, 0);
    ck_assert_uint_gt(st.shape_hits, 0); /* windows met again cost a lookup */
}
END_TEST

/* Through the pipeline: with a prover that proves nothing, superopt changes nothing, so
 * every variant it would make is a copy of the original and none is kept. */
START_TEST(unproven_changes_no_function)
{
    const mewe_diversifier *d = superopt_descriptor();
    mewe__superopt_set_rlimit(d->user_data, 1);
    mewe_module *m = load_fixture("costs.c");
    const char *spec = "superopt:rate=1,max=50";
    mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
    o.diversifiers = &spec;
    o.diversifier_count = 1;
    o.wasm_rounds = MEWE_WASM_ROUNDS_OFF;
    o.wasm_derived = MEWE_WASM_DERIVED_OFF; /* superopt alone makes every variant */
    ck_assert_mewe_ok(mewe_generate_variants(m, &o));
    char *json = report_of(m);
    /* Every attempt was a copy of the original, dropped as such. */
    ck_assert_msg(number_after(json, "\"diversified\": ") == 0, "%s", json);
    ck_assert_msg(number_after(json, "\"variants\": ") == 0, "%s", json);
    ck_assert_msg(strstr(json, "\"dropped_duplicate\": 12") != NULL, "%s", json);
    mewe_free(json);
    mewe__so_stats st = mewe__superopt_stats(d->user_data);
    ck_assert_uint_gt(st.survivors, 0);
    ck_assert_uint_eq(st.proven, 0);
}
END_TEST

START_TEST(bad_parameters_are_named)
{
    static const char *const bad[][2] = {
        {"superopt:rate=2", "rate='2'"},
        {"superopt:max=-1", "max='-1'"},
        {"superopt:extra=3", "extra='3'"},
        {"superopt:extra=x", "extra='x'"},
        {"superopt:size=2", "no parameter 'size'"},
    };
    mewe_module *m = load_fixture("costs.c");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
        o.diversifiers = &bad[i][0];
        o.diversifier_count = 1;
        ck_assert_mewe_fails(mewe_generate_variants(m, &o), MEWE_EINVAL, bad[i][1]);
    }
    ck_assert_mewe_ok(mewe_diversifier_spec_check(tctx, "superopt:rate=1,max=2,extra=0"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("superopt");
    TCase *tc = test_case("superopt");
    tcase_add_test(tc, wrong_candidates_are_refuted);
    tcase_add_test(tc, alternatives_are_proven_and_hold);
    tcase_add_test(tc, nothing_unproven_is_used);
    tcase_add_test(tc, cache_changes_no_answer);
    tcase_add_loop_test(tc, rewrites_into_distinct_wasm, 0, 3);
    tcase_add_test(tc, unproven_changes_no_function);
    tcase_add_test(tc, bad_parameters_are_named);
    suite_add_tcase(s, tc);
    return test_run(s);
}
