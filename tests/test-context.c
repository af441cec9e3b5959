/* Context: creation, errors, status text, seed, log callback, toolchain paths, versions. */
#include <sys/stat.h>

#include <mewe/sys/diversifier.h>
#include <mewe/sys/rng.h>

#include "test-util.h"

START_TEST(new_rejects_null)
{
    ck_assert_int_eq(mewe_context_new(NULL), MEWE_EINVAL);
    mewe_context_free(NULL); /* accepted, no crash */
    ck_assert_str_eq(mewe_context_errmsg(tctx), "");
    ck_assert_ptr_nonnull(mewe_context_errmsg(NULL));
}
END_TEST

START_TEST(status_strings_are_distinct)
{
    const int codes[] = {MEWE_OK,        MEWE_EINVAL,   MEWE_ENOMEM,  MEWE_EIO,   MEWE_EPARSE,
                         MEWE_EVERIFY,   MEWE_EVERSION, MEWE_ETARGET, MEWE_ELINK, MEWE_ETOOL,
                         MEWE_ENOTFOUND, MEWE_EEXIST,   MEWE_EUSER,   MEWE_ESTATE};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_ne(mewe_status_str(codes[i]), "unknown status");
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(mewe_status_str(codes[i]), mewe_status_str(codes[j]));
    }
    ck_assert_str_eq(mewe_status_str(-999), "unknown status");
    ck_assert_str_eq(mewe_status_str(1), "unknown status");
    /* Pinned values: an ABI promise. */
    ck_assert_int_eq(MEWE_EINVAL, -1);
    ck_assert_int_eq(MEWE_ESTATE, -13);
}
END_TEST

START_TEST(seed_round_trips)
{
    uint64_t seed = 1;
    ck_assert_mewe_ok(mewe_context_get_seed(&seed, tctx));
    ck_assert_uint_eq(seed, 0);
    ck_assert_mewe_ok(mewe_context_set_seed(tctx, UINT64_MAX - 5));
    ck_assert_mewe_ok(mewe_context_get_seed(&seed, tctx));
    ck_assert(seed == UINT64_MAX - 5);
    ck_assert_int_eq(mewe_context_set_seed(NULL, 1), MEWE_EINVAL);
    ck_assert_int_eq(mewe_context_get_seed(NULL, tctx), MEWE_EINVAL);
    ck_assert_int_eq(mewe_context_get_seed(&seed, NULL), MEWE_EINVAL);
}
END_TEST

typedef struct {
    int calls;
    mewe_log_level last_level;
    char last[512];
} log_record;

static void record_log(mewe_log_level level, const char *message, void *user_data)
{
    log_record *r = user_data;
    r->calls++;
    r->last_level = level;
    snprintf(r->last, sizeof r->last, "%s", message);
}

START_TEST(log_callback_sees_errors)
{
    log_record rec = {0};
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, record_log, MEWE_LOG_DEBUG, &rec));
    mewe_module *m = NULL;
    ck_assert_int_eq(mewe_module_load(&m, tctx, tpath("missing.bc")), MEWE_EIO);
    ck_assert_int_eq(rec.calls, 1);
    ck_assert_int_eq(rec.last_level, MEWE_LOG_ERROR);
    ck_assert_str_eq(rec.last, mewe_context_errmsg(tctx));
    /* Removing the callback stops logging. */
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, NULL, MEWE_LOG_ERROR, NULL));
    ck_assert_int_eq(mewe_module_load(&m, tctx, tpath("missing.bc")), MEWE_EIO);
    ck_assert_int_eq(rec.calls, 1);
    ck_assert_mewe_fails(mewe_context_set_log_callback(tctx, record_log, 7, &rec), MEWE_EINVAL,
                         "log level 7");
    ck_assert_int_eq(mewe_context_set_log_callback(NULL, record_log, 0, NULL), MEWE_EINVAL);
}
END_TEST

START_TEST(tool_paths_set_and_get)
{
    const char *p = NULL;
    ck_assert_mewe_ok(mewe_context_get_tool_path(&p, tctx, MEWE_TOOL_WASM_LD));
    ck_assert(strstr(p, "wasm-ld") != NULL);
    ck_assert_mewe_ok(mewe_context_get_tool_path(&p, tctx, MEWE_TOOL_WASI_SDK));
    ck_assert_str_eq(p, "");
    ck_assert_mewe_ok(mewe_context_set_tool_path(tctx, MEWE_TOOL_WASM_LD, "/opt/x/wasm-ld"));
    ck_assert_mewe_ok(mewe_context_get_tool_path(&p, tctx, MEWE_TOOL_WASM_LD));
    ck_assert_str_eq(p, "/opt/x/wasm-ld");
    ck_assert_mewe_fails(mewe_context_set_tool_path(tctx, (mewe_tool)42, "/x"), MEWE_EINVAL,
                         "unknown tool 42");
    ck_assert_mewe_fails(mewe_context_set_tool_path(tctx, MEWE_TOOL_WASM_LD, NULL), MEWE_EINVAL,
                         "NULL");
    ck_assert_int_eq(mewe_context_get_tool_path(&p, tctx, (mewe_tool)-1), MEWE_EINVAL);
    ck_assert_int_eq(mewe_context_get_tool_path(NULL, tctx, MEWE_TOOL_WASM_LD), MEWE_EINVAL);
}
END_TEST

static void make_fake_sdk(const char *root, int with_builtins)
{
    char p[4096];
    const char *dirs[] = {
        "bin",       "share",        "share/wasi-sysroot", "lib",
        "lib/clang", "lib/clang/99", "lib/clang/99/lib",   "lib/clang/99/lib/wasi"};
    mkdir(root, 0755);
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/bin/wasm-ld", root);
    write_file(p, "", 0);
    if (with_builtins) {
        snprintf(p, sizeof p, "%s/lib/clang/99/lib/wasi/libclang_rt.builtins-wasm32.a", root);
        write_file(p, "", 0);
    }
}

START_TEST(wasi_sdk_sets_all_three)
{
    make_fake_sdk(tpath("sdk"), 1);
    ck_assert_mewe_ok(mewe_context_set_tool_path(tctx, MEWE_TOOL_WASI_SDK, tpath("sdk")));
    const char *p;
    char want[4096];
    ck_assert_mewe_ok(mewe_context_get_tool_path(&p, tctx, MEWE_TOOL_WASM_LD));
    snprintf(want, sizeof want, "%s/bin/wasm-ld", tpath("sdk"));
    ck_assert_str_eq(p, want);
    ck_assert_mewe_ok(mewe_context_get_tool_path(&p, tctx, MEWE_TOOL_WASI_SYSROOT));
    snprintf(want, sizeof want, "%s/share/wasi-sysroot", tpath("sdk"));
    ck_assert_str_eq(p, want);
    ck_assert_mewe_ok(mewe_context_get_tool_path(&p, tctx, MEWE_TOOL_BUILTINS));
    snprintf(want, sizeof want, "%s/lib/clang/99/lib/wasi/libclang_rt.builtins-wasm32.a",
             tpath("sdk"));
    ck_assert_str_eq(p, want);
}
END_TEST

START_TEST(incomplete_wasi_sdk_changes_nothing)
{
    const char *before;
    ck_assert_mewe_ok(mewe_context_get_tool_path(&before, tctx, MEWE_TOOL_WASM_LD));
    char *saved = strdup(before);
    make_fake_sdk(tpath("sdk"), 0);
    ck_assert_mewe_fails(mewe_context_set_tool_path(tctx, MEWE_TOOL_WASI_SDK, tpath("sdk")),
                         MEWE_ENOTFOUND, "libclang_rt.builtins-wasm32.a");
    const char *after;
    ck_assert_mewe_ok(mewe_context_get_tool_path(&after, tctx, MEWE_TOOL_WASM_LD));
    ck_assert_str_eq(after, saved);
    free(saved);
    ck_assert_mewe_fails(mewe_context_set_tool_path(tctx, MEWE_TOOL_WASI_SDK, tpath("nope")),
                         MEWE_EINVAL, "not a directory");
}
END_TEST

/* The library, its generated header and the build agree on one version: meson's project
 * version and the LLVM that meson configured reach this test from the build, not from
 * mewe/version.h. */
START_TEST(versions_agree)
{
    ck_assert_str_eq(mewe_version(), MEWE_TEST_PROJECT_VERSION);
    ck_assert_str_eq(MEWE_VERSION_STRING, MEWE_TEST_PROJECT_VERSION);
    unsigned major, minor, patch;
    int end = 0;
    ck_assert_int_eq(sscanf(MEWE_TEST_PROJECT_VERSION, "%u.%u.%u%n", &major, &minor, &patch, &end),
                     3);
    ck_assert_uint_eq((size_t)end, strlen(MEWE_TEST_PROJECT_VERSION));
    ck_assert_uint_eq(MEWE_VERSION_MAJOR, major);
    ck_assert_uint_eq(MEWE_VERSION_MINOR, minor);
    ck_assert_uint_eq(MEWE_VERSION_PATCH, patch);
    ck_assert_uint_eq(mewe_version_number(), major * 10000 + minor * 100 + patch);
    ck_assert_uint_eq(MEWE_VERSION_NUMBER, major * 10000 + minor * 100 + patch);
    ck_assert_str_eq(mewe_llvm_version(), MEWE_TEST_LLVM_VERSION);
}
END_TEST

/* Every failure on a context leaves a message there that names the call or the value. */
START_TEST(every_failure_has_a_message)
{
    const struct {
        int status;
        const char *needle;
    } expected[] = {
        {MEWE_EINVAL, "mewe_context_get_seed: out is NULL"},
        {MEWE_EINVAL, "mewe_context_get_tool_path: out is NULL"},
        {MEWE_EINVAL, "unknown tool 9"},
        {MEWE_EINVAL, "mewe_diversifier_at: out_name is NULL"},
        {MEWE_EINVAL, "mewe_diversifier_at: index 99 out of range"},
        {MEWE_EINVAL, "mewe_rng_strategy_at: out_name is NULL"},
        {MEWE_EINVAL, "mewe_rng_strategy_at: index 99 out of range"},
        {MEWE_EINVAL, "mewe_module_function_at: out is NULL"},
        {MEWE_EINVAL, "mewe_profile_load: out is NULL"},
    };
    mewe_module *m;
    static const char ll[] = "define i32 @f() {\n  ret i32 1\n}\n";
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), "m"));
    const char *s;
    int got[sizeof expected / sizeof *expected];
    char messages[sizeof expected / sizeof *expected][256];
    size_t n = 0;
#define TRY(call)                                                                     \
    do {                                                                              \
        got[n] = (call);                                                              \
        snprintf(messages[n++], sizeof messages[0], "%s", mewe_context_errmsg(tctx)); \
    } while (0)
    TRY(mewe_context_get_seed(NULL, tctx));
    TRY(mewe_context_get_tool_path(NULL, tctx, MEWE_TOOL_WASM_LD));
    TRY(mewe_context_get_tool_path(&s, tctx, (mewe_tool)9));
    TRY(mewe_diversifier_at(NULL, NULL, tctx, 0));
    TRY(mewe_diversifier_at(&s, NULL, tctx, 99));
    TRY(mewe_rng_strategy_at(NULL, NULL, tctx, 0));
    TRY(mewe_rng_strategy_at(&s, NULL, tctx, 99));
    TRY(mewe_module_function_at(NULL, m, 0));
    TRY(mewe_profile_load(NULL, tctx, "p"));
#undef TRY
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(got[i] == expected[i].status, "call %zu returned %d", i, got[i]);
        ck_assert_msg(strstr(messages[i], expected[i].needle) != NULL,
                      "call %zu: message '%s' lacks '%s'", i, messages[i], expected[i].needle);
    }
}
END_TEST

/* Every progress report, in order: stage, done, total. */
typedef struct {
    size_t count;
    const char *stage[256];
    size_t done[256], total[256];
    int info_lines; /* INFO log lines about "generating variants" */
    bool info_start, info_end;
} progress_record;

static void record_progress(const char *stage, size_t done, size_t total, void *user_data)
{
    progress_record *p = user_data;
    if (p->count < 256) {
        p->stage[p->count] = stage;
        p->done[p->count] = done;
        p->total[p->count] = total;
    }
    p->count++;
}

static void record_progress_log(mewe_log_level level, const char *message, void *user_data)
{
    progress_record *p = user_data;
    if (level != MEWE_LOG_INFO || strncmp(message, "generating variants: ", 21) != 0)
        return;
    p->info_lines++;
    size_t done, total;
    ck_assert_int_eq(sscanf(message + 21, "%zu/%zu", &done, &total), 2);
    p->info_start |= done == 0;
    p->info_end |= done == total && total > 0;
}

/* The reports of one stage: from 0 to its total, one step at a time. */
static size_t check_stage(const progress_record *p, const char *stage)
{
    size_t first = SIZE_MAX, last = 0, n = 0;
    for (size_t i = 0; i < p->count && i < 256; i++) {
        if (strcmp(p->stage[i], stage) != 0)
            continue;
        if (first == SIZE_MAX)
            first = i;
        ck_assert_uint_eq(p->done[i], n);
        last = i;
        n++;
    }
    ck_assert_msg(first != SIZE_MAX, "no progress for '%s'", stage);
    ck_assert_uint_eq(p->done[last], p->total[first]);
    return p->total[first];
}

START_TEST(progress_reaches_callback_and_log)
{
    progress_record p = {0};
    ck_assert_int_eq(mewe_context_set_progress_callback(NULL, record_progress, &p), MEWE_EINVAL);
    ck_assert_mewe_ok(mewe_context_set_progress_callback(tctx, record_progress, &p));
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, record_progress_log, MEWE_LOG_INFO, &p));
    mewe_module *m = load_fixture("recursion.c");
    size_t functions = mewe_module_function_count(m);
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("p.wasm")));
    ck_assert_uint_eq(check_stage(&p, "generating variants"), functions);
    ck_assert_uint_gt(check_stage(&p, "making dispatchers"), 0);
    ck_assert_uint_eq(check_stage(&p, "compiling to wasm"), 1);
    ck_assert_uint_eq(check_stage(&p, "linking wasm"), 1);
    /* The log gets the start, the end and at most each tenth between. */
    ck_assert(p.info_start && p.info_end);
    ck_assert_int_le(p.info_lines, 12);
    /* Removed, it is called no more. */
    size_t before = p.count;
    ck_assert_mewe_ok(mewe_context_set_progress_callback(tctx, NULL, NULL));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("q.wasm")));
    ck_assert_uint_eq(p.count, before);
}
END_TEST

START_TEST(contexts_are_independent)
{
    mewe_context *other;
    ck_assert_mewe_ok(mewe_context_new(&other));
    mewe_module *m;
    ck_assert_int_eq(mewe_module_load(&m, other, tpath("nothing.bc")), MEWE_EIO);
    ck_assert_str_eq(mewe_context_errmsg(tctx), "");
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(other), "nothing.bc"));
    mewe_context_free(other);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("context");
    TCase *tc = test_case("context");
    tcase_add_test(tc, new_rejects_null);
    tcase_add_test(tc, status_strings_are_distinct);
    tcase_add_test(tc, seed_round_trips);
    tcase_add_test(tc, log_callback_sees_errors);
    tcase_add_test(tc, tool_paths_set_and_get);
    tcase_add_test(tc, wasi_sdk_sets_all_three);
    tcase_add_test(tc, incomplete_wasi_sdk_changes_nothing);
    tcase_add_test(tc, versions_agree);
    tcase_add_test(tc, every_failure_has_a_message);
    tcase_add_test(tc, contexts_are_independent);
    tcase_add_test(tc, progress_reaches_callback_and_log);
    suite_add_tcase(s, tc);
    return test_run(s);
}
