/* Untrusted input: bitcode loaded through the helper mewe-load-check. The inputs under
 * tests/fuzz/corpus/load/regress-* crash, abort or exhaust memory in LLVM's bitcode reader
 * when loaded in-process (see tests/fuzz/README.md); here each must come back as
 * MEWE_EPARSE naming the file, with this process alive. */
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"

static const char *corpus(const char *name)
{
    static char buf[4][4096];
    static int slot;
    char *p = buf[slot++ % 4];
    snprintf(p, sizeof buf[0], "%s", srcpath("fuzz/corpus/load/"));
    strncat(p, name, sizeof buf[0] - strlen(p) - 1);
    return p;
}

START_TEST(setting_round_trips)
{
    int on = -1;
    ck_assert_mewe_ok(mewe_context_get_untrusted_input(&on, tctx));
    ck_assert_int_eq(on, 0); /* off by default: embedders are not surprised by a process */
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 7));
    ck_assert_mewe_ok(mewe_context_get_untrusted_input(&on, tctx));
    ck_assert_int_eq(on, 1);
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 0));
    ck_assert_mewe_ok(mewe_context_get_untrusted_input(&on, tctx));
    ck_assert_int_eq(on, 0);
    ck_assert_int_eq(mewe_context_set_untrusted_input(NULL, 1), MEWE_EINVAL);
    ck_assert_int_eq(mewe_context_get_untrusted_input(NULL, tctx), MEWE_EINVAL);
    ck_assert_int_eq(mewe_context_get_untrusted_input(&on, NULL), MEWE_EINVAL);
    const char *path = NULL;
    ck_assert_mewe_ok(mewe_context_get_tool_path(&path, tctx, MEWE_TOOL_LOAD_CHECK));
    ck_assert_str_eq(path, "");
    ck_assert_mewe_ok(mewe_context_set_tool_path(tctx, MEWE_TOOL_LOAD_CHECK, "/x/check"));
    ck_assert_mewe_ok(mewe_context_get_tool_path(&path, tctx, MEWE_TOOL_LOAD_CHECK));
    ck_assert_str_eq(path, "/x/check");
}
END_TEST

/* Function names of a module, joined, for comparing two loads. */
static char *names(mewe_module *m)
{
    size_t n = mewe_module_function_count(m), len = 1;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        ck_assert_mewe_ok(mewe_module_function_at(&name, m, i));
        len += strlen(name) + 1;
    }
    char *all = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        mewe_module_function_at(&name, m, i);
        strcat(all, name);
        strcat(all, " ");
    }
    return all;
}

START_TEST(good_bitcode_loads_the_same)
{
    const char *path = corpus("calc.bc");
    mewe_module *trusted, *checked;
    ck_assert_mewe_ok(mewe_module_load(&trusted, tctx, path));
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
    ck_assert_mewe_ok(mewe_module_load(&checked, tctx, path));
    char *a = names(trusted), *b = names(checked);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, "calc_mix calc_poly __main_argc_argv ");
    free(a);
    free(b);
    /* The same program: the same report (the name, the measures, every function). */
    char *ja, *jb;
    size_t sa, sb;
    ck_assert_mewe_ok(mewe_report_json(&ja, &sb, trusted));
    ck_assert_mewe_ok(mewe_report_json(&jb, &sa, checked));
    ck_assert_str_eq(ja, jb);
    mewe_free(ja);
    mewe_free(jb);
    /* From memory too, and linked files go through the same check. */
    size_t size;
    char *data = read_file(path, &size);
    mewe_module *mem;
    ck_assert_mewe_ok(mewe_module_load_memory(&mem, tctx, data, size, "calc"));
    ck_assert_uint_eq(mewe_module_function_count(mem), 3);
    ck_assert_mewe_fails(mewe_module_link_file(mem, corpus("regress-segv-1.bc")), MEWE_EPARSE,
                         "regress-segv-1.bc");
    ck_assert_uint_eq(mewe_module_function_count(mem), 3);
    free(data);
}
END_TEST

/* Each of these ends an in-process load (a segfault in the metadata loader, LLVM's fatal
 * "Broken module found", an abort on a huge allocation); the .ll is textual IR with debug
 * info that fails the verifier, which the IR parser answers with the same fatal error. */
static const char *const hostile[] = {
    "regress-segv-1.bc", "regress-segv-2.bc", "regress-segv-3.bc",      "regress-fatal-1.bc",
    "regress-oom-1.bc",  "regress-oom-2.bc",  "regress-fatal-text-1.ll"};

START_TEST(hostile_bitcode_is_a_parse_error)
{
    const char *name = hostile[_i];
    const char *path = corpus(name);
    struct stat before, after;
    ck_assert_int_eq(stat(path, &before), 0);
    size_t size;
    char *original = read_file(path, &size);
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
    mewe_module *m = (mewe_module *)1;
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, path), MEWE_EPARSE, name);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(mewe_context_errmsg(tctx), "it is corrupt or hostile"), "%s",
                  mewe_context_errmsg(tctx));
    /* Which of crash, abort or limit depends on the build (a sanitizer's runtime reports
     * some of them as its own failure); the plain build names the cause. */
#if !defined(__SANITIZE_ADDRESS__)
    const char *cause = strncmp(name, "regress-segv", 12) == 0    ? "crashed (signal 11"
                        : strncmp(name, "regress-fatal", 13) == 0 ? "Broken module found"
                                                                  : "ran out of memory";
    if (strstr(name, ".ll"))
        cause = "LLVM's IR parser gave up with a fatal error (Broken module found";
    ck_assert_msg(strstr(mewe_context_errmsg(tctx), cause), "%s lacks '%s'",
                  mewe_context_errmsg(tctx), cause);
#endif
    /* The input is read, never changed. */
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert(before.st_mtime == after.st_mtime);
    size_t size2;
    char *again = read_file(path, &size2);
    ck_assert_uint_eq(size, size2);
    ck_assert(memcmp(original, again, size) == 0);
    free(original);
    free(again);
    /* The same bytes from memory, under the buffer's name. */
    original = read_file(path, &size);
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, original, size, "upload-17"),
                         MEWE_EPARSE, "'upload-17'");
    free(original);
}
END_TEST

START_TEST(refuses_what_llvm_cannot_read_back)
{
    /* This mutant loads in-process, but a string attribute's name holds a quote, which
     * LLVM prints unescaped: `mewe x.bc -o x.ll` would write IR that nothing can read. */
    const char *path = corpus("regress-text-roundtrip-1.bc");
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, path));
    void *text;
    size_t size;
    ck_assert_mewe_ok(mewe_module_write_memory(&text, &size, m, MEWE_FORMAT_TEXT));
    mewe_module *again;
    ck_assert_mewe_fails(mewe_module_load_memory(&again, tctx, text, size, "again.ll"), MEWE_EPARSE,
                         "unterminated attribute group");
    mewe_free(text);
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, path), MEWE_EPARSE,
                         "LLVM cannot read back the module it loaded from this input");
    ck_assert_msg(strstr(mewe_context_errmsg(tctx), "regress-text-roundtrip-1.bc"), "%s",
                  mewe_context_errmsg(tctx));
}
END_TEST

START_TEST(ordinary_errors_keep_their_message)
{
    /* A truncated file that the reader rejects cleanly: the helper passes its message on. */
    size_t size;
    char *data = read_file(corpus("calc.bc"), &size);
    mewe_module *m;
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
    int rc = mewe_module_load_memory(&m, tctx, data, 100, "short.bc");
    char *checked = strdup(mewe_context_errmsg(tctx));
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 0));
    int rc2 = mewe_module_load_memory(&m, tctx, data, 100, "short.bc");
    ck_assert_int_eq(rc, MEWE_EPARSE);
    ck_assert_int_eq(rc2, MEWE_EPARSE);
    ck_assert_str_eq(checked, mewe_context_errmsg(tctx));
    free(checked);
    free(data);
}
END_TEST

START_TEST(textual_ir_loads_the_same)
{
    const char *path = corpus("calc.ll");
    mewe_module *trusted, *checked;
    ck_assert_mewe_ok(mewe_module_load(&trusted, tctx, path));
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
    ck_assert_mewe_ok(mewe_module_load(&checked, tctx, path));
    char *ja, *jb;
    size_t sa, sb;
    ck_assert_mewe_ok(mewe_report_json(&ja, &sa, trusted));
    ck_assert_mewe_ok(mewe_report_json(&jb, &sb, checked));
    ck_assert_str_eq(ja, jb);
    mewe_free(ja);
    mewe_free(jb);
    /* Same text back: names, debug info, everything. */
    void *ta, *tb;
    ck_assert_mewe_ok(mewe_module_write_memory(&ta, &sa, trusted, MEWE_FORMAT_TEXT));
    ck_assert_mewe_ok(mewe_module_write_memory(&tb, &sb, checked, MEWE_FORMAT_TEXT));
    ck_assert_uint_eq(sa, sb);
    ck_assert(memcmp(ta, tb, sa) == 0);
    mewe_free(ta);
    mewe_free(tb);
    /* A syntax error keeps the IR parser's message, line and column. */
    static const char bad[] = "define i32 @f() {\n  ret i32 %nope\n}\n";
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, bad, sizeof bad - 1, "bad.ll"),
                         MEWE_EPARSE, "'bad.ll': not valid LLVM IR: ");
}
END_TEST

START_TEST(no_helper_no_load)
{
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
    ck_assert_mewe_ok(mewe_context_set_tool_path(tctx, MEWE_TOOL_LOAD_CHECK, "/nonexistent/x"));
    mewe_module *m;
    /* Fail closed, naming the helper and the way out; text and bitcode alike. */
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_ETOOL,
                         "/nonexistent/x");
    ck_assert_msg(strstr(mewe_context_errmsg(tctx), "MEWE_TOOL_LOAD_CHECK"), "%s",
                  mewe_context_errmsg(tctx));
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.ll")), MEWE_ETOOL,
                         "/nonexistent/x");
    /* Trusted input needs no helper. */
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 0));
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, corpus("calc.ll")));
}
END_TEST

/* A stand-in helper (a shell script) for the failures the real one cannot be made to show
 * on demand. */
static void fake_helper(const char *body)
{
    const char *path = tpath("fake-check");
    char script[1024];
    snprintf(script, sizeof script, "#!/bin/sh\n%s\n", body);
    write_file(path, script, strlen(script));
    ck_assert_int_eq(chmod(path, 0755), 0);
    ck_assert_mewe_ok(mewe_context_set_tool_path(tctx, MEWE_TOOL_LOAD_CHECK, path));
    ck_assert_mewe_ok(mewe_context_set_untrusted_input(tctx, 1));
}

START_TEST(helper_over_its_cpu_limit)
{
    /* SIGXCPU is what the real helper gets from its RLIMIT_CPU. */
    fake_helper("cat >/dev/null; ulimit -S -t 1; while :; do :; done");
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EPARSE,
                         "took more than 20 s");
}
END_TEST

START_TEST(helper_answers_nonsense)
{
    mewe_module *m;
    fake_helper("cat >/dev/null; echo hello");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EPARSE,
                         "failed (exit status 0)");
    fake_helper("cat >/dev/null; printf 'mewe-load-check 1 ok 999\\nBC'");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EPARSE, "calc.bc");
    fake_helper("cat >/dev/null; printf 'mewe-load-check 1 err 5\\nfive'; exit 1");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EPARSE,
                         "exit status 1");
    fake_helper("cat >/dev/null; echo 'usage' >&2; exit 2");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_ETOOL,
                         "refused its arguments");
    /* A helper that reads nothing and dies: the host gets EPIPE, never SIGPIPE. */
    fake_helper("kill -SEGV $$");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EPARSE,
                         "crashed (signal 11");
}
END_TEST

START_TEST(helper_status_is_passed_on)
{
    mewe_module *m;
    fake_helper("cat >/dev/null; printf 'mewe-load-check 1 err -5\\nthe verifier says no'; "
                "exit 1");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EVERIFY,
                         "the verifier says no");
    fake_helper("cat >/dev/null; printf 'mewe-load-check 1 fatal\\nsomething broke\\n'; "
                "exit 3");
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, corpus("calc.bc")), MEWE_EPARSE,
                         "fatal error (something broke)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("load-check");
    TCase *tc = test_case("load-check");
    tcase_add_test(tc, setting_round_trips);
    tcase_add_test(tc, good_bitcode_loads_the_same);
    tcase_add_loop_test(tc, hostile_bitcode_is_a_parse_error, 0,
                        (int)(sizeof hostile / sizeof hostile[0]));
    tcase_add_test(tc, refuses_what_llvm_cannot_read_back);
    tcase_add_test(tc, ordinary_errors_keep_their_message);
    tcase_add_test(tc, textual_ir_loads_the_same);
    tcase_add_test(tc, no_helper_no_load);
    tcase_add_test(tc, helper_over_its_cpu_limit);
    tcase_add_test(tc, helper_answers_nonsense);
    tcase_add_test(tc, helper_status_is_passed_on);
    suite_add_tcase(s, tc);
    return test_run(s);
}
