/* Tests for the test infrastructure itself: tests/wasm-run.mjs (the node
 * WASI runner) driven through the C helpers in tests/wasm-run.c, and the
 * fixtures' .expected files. Every later test that runs wasm relies on these
 * behaving exactly as documented, so each runner feature is checked here. */
/* mkdtemp, lstat and dirent are POSIX.1-2008, not C11. */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-skip.h"
#include "wasm-run.h"

#define PATH_SIZE 4096

static char tmp_dir[PATH_SIZE];

static const char *const c_fixtures[] = {"loops", "recursion", "fnptr", "structs", "globals"};
#define N_C_FIXTURES ((int)(sizeof c_fixtures / sizeof c_fixtures[0]))

/* ---- Test programs, compiled at test time. */

static const char prog_hello[] = "#include <stdio.h>\n"
                                 "#include <stdlib.h>\n"
                                 "int main(void) {\n"
                                 "    printf(\"hello %d\\n\", 42);\n"
                                 "    fprintf(stderr, \"to stderr\\n\");\n"
                                 "    exit(3);\n"
                                 "}\n";

static const char prog_echo[] = "#include <stdio.h>\n"
                                "int main(void) {\n"
                                "    char buf[4096];\n"
                                "    size_t n;\n"
                                "    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)\n"
                                "        fwrite(buf, 1, n, stdout);\n"
                                "    return 0;\n"
                                "}\n";

static const char prog_args[] = "#include <stdio.h>\n"
                                "int main(int argc, char **argv) {\n"
                                "    printf(\"argc=%d\\n\", argc);\n"
                                "    for (int i = 0; i < argc; i++)\n"
                                "        printf(\"[%s]\\n\", argv[i]);\n"
                                "    return argc;\n"
                                "}\n";

static const char prog_trap[] = "#include <stdio.h>\n"
                                "int main(void) {\n"
                                "    puts(\"before\");\n"
                                "    fflush(stdout);\n"
                                "    __builtin_trap();\n"
                                "}\n";

static const char prog_unresolved[] =
    "__attribute__((import_module(\"env\"), import_name(\"missing_fn\")))\n"
    "int missing_fn(void);\n"
    "int main(void) { return missing_fn(); }\n";

/* Records i -> i % 3 for argv[1] calls, then (-1, 7); traps when argv[2]
 * exists, to check the trace survives a trap. */
static const char prog_trace[] =
    "#include <stdlib.h>\n"
    "__attribute__((import_module(\"mewe_trace\"), import_name(\"record\")))\n"
    "void record(int function_id, int variant_id);\n"
    "int main(int argc, char **argv) {\n"
    "    int n = argc > 1 ? atoi(argv[1]) : 5;\n"
    "    for (int i = 0; i < n; i++)\n"
    "        record(i, i % 3);\n"
    "    record(-1, 7);\n"
    "    if (argc > 2)\n"
    "        __builtin_trap();\n"
    "    return 0;\n"
    "}\n";

/* Prints discriminate(argv[1]) argv[2] times, one value a line. */
#define PROG_DISCRIMINATE(MODULE, NAME)                                           \
    "#include <stdio.h>\n"                                                        \
    "#include <stdlib.h>\n"                                                       \
    "__attribute__((import_module(\"" MODULE "\"), import_name(\"" NAME "\")))\n" \
    "int discriminate(int n);\n"                                                  \
    "int main(int argc, char **argv) {\n"                                         \
    "    if (argc < 3) return 2;\n"                                               \
    "    int n = atoi(argv[1]), times = atoi(argv[2]);\n"                         \
    "    for (int i = 0; i < times; i++)\n"                                       \
    "        printf(\"%d\\n\", discriminate(n));\n"                               \
    "    return 0;\n"                                                             \
    "}\n"

static const char prog_reactor[] =
    "#include <stdint.h>\n"
    "#include <stdio.h>\n"
    "static int32_t base = 0;\n"
    "__attribute__((constructor)) static void init(void) { base = 1000; }\n"
    "__attribute__((export_name(\"add\"))) int32_t add(int32_t a, int32_t b) {\n"
    "    return a + b;\n"
    "}\n"
    "__attribute__((export_name(\"offset\"))) int32_t offset(int32_t a) {\n"
    "    return base + a;\n"
    "}\n"
    "__attribute__((export_name(\"mul64\"))) int64_t mul64(int64_t a, int32_t b) {\n"
    "    return a * b;\n"
    "}\n"
    "__attribute__((export_name(\"greet\"))) void greet(void) {\n"
    "    printf(\"greetings\\n\");\n"
    "    fflush(stdout);\n"
    "}\n";

/* ---- Temporary files. */

static void tmp_path(char *buf, const char *name)
{
    int n = snprintf(buf, PATH_SIZE, "%s/%s", tmp_dir, name);
    ck_assert_msg(n > 0 && n < PATH_SIZE, "path too long: %s/%s", tmp_dir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    size_t len = strlen(text);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Returns a NUL-terminated malloc'd copy of the file. */
static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096;
    size_t len = 0;
    char *data = malloc(cap);
    ck_assert_ptr_nonnull(data);
    for (;;) {
        len += fread(data + len, 1, cap - len - 1, f);
        if (len < cap - 1) {
            break;
        }
        cap *= 2;
        data = realloc(data, cap);
        ck_assert_ptr_nonnull(data);
    }
    ck_assert_int_eq(ferror(f), 0);
    ck_assert_int_eq(fclose(f), 0);
    data[len] = '\0';
    if (len_out != NULL) {
        *len_out = len;
    }
    return data;
}

static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlink(path);
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        return -1;
    }
    int rc = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char child[PATH_SIZE];
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
            continue;
        }
        int n = snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        if (n < 0 || n >= (int)sizeof child || remove_tree(child) != 0) {
            rc = -1;
        }
    }
    if (closedir(dir) != 0) {
        rc = -1;
    }
    return rmdir(path) == 0 ? rc : -1;
}

static int make_tmp_dir(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    int n = snprintf(tmp_dir, sizeof tmp_dir, "%s/mewe-test-runner-XXXXXX", base);
    if (n < 0 || n >= (int)sizeof tmp_dir || mkdtemp(tmp_dir) == NULL) {
        fprintf(stderr, "test-runner: cannot create a temporary directory under %s\n", base);
        return -1;
    }
    return 0;
}

/* ---- Building and running. */

/* Writes NAME.c into the temp dir and compiles it to NAME.wasm in wasm_out. */
static void build_c(const char *name, const char *source, char *wasm_out)
{
    char src[PATH_SIZE];
    char file[256];
    char *log = NULL;
    snprintf(file, sizeof file, "%s.c", name);
    tmp_path(src, file);
    snprintf(file, sizeof file, "%s.wasm", name);
    tmp_path(wasm_out, file);
    write_file(src, source);
    int rc = compile_c_to_wasm(src, wasm_out, &log);
    ck_assert_msg(rc == 0, "compiling %s failed:\n%s", name, log ? log : "(no log)");
    free(log);
}

static void run_ok(wasm_run_result *res, const char *module, const char *const *opts,
                   const char *const *argv, const char *in, size_t in_len)
{
    int rc = wasm_run(res, module, opts, argv, in, in_len);
    ck_assert_msg(rc == 0, "node could not be started for %s", module);
}

static void host_ok(wasm_run_result *res, const char *const *argv)
{
    ck_assert_msg(host_run(res, argv, NULL, 0) == 0, "could not start %s", argv[0]);
    ck_assert_msg(res->exit_code == 0, "%s failed (%d):\n%s%s", argv[0], res->exit_code, res->out,
                  res->err);
}

/* Reports the first differing line: whole outputs would bury it. */
static void assert_same_text(const char *what, const char *got, const char *want)
{
    size_t i = 0;
    size_t line_start = 0;
    int line = 1;
    while (got[i] != '\0' && got[i] == want[i]) {
        if (got[i] == '\n') {
            line++;
            line_start = i + 1;
        }
        i++;
    }
    if (got[i] == want[i]) {
        return;
    }
    const char *g = got + line_start;
    const char *w = want + line_start;
    ck_abort_msg("%s differs at line %d:\n  got:  %.*s\n  want: %.*s", what, line,
                 (int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w);
}

static void assert_expected(const wasm_run_result *res, const char *expected_path)
{
    char *expected = read_file(expected_path, NULL);
    ck_assert_msg(res->exit_code == 0, "exit %d, stderr:\n%s", res->exit_code, res->err);
    ck_assert_str_eq(res->err, "");
    ck_assert_uint_eq(strlen(res->out), res->out_len);
    assert_same_text(expected_path, res->out, expected);
    free(expected);
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text != '\0'; text++) {
        n += *text == '\n';
    }
    return n;
}

/* ---- Basic runner behaviour. */

START_TEST(test_stdout_stderr_exit)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("hello", prog_hello, wasm);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    ck_assert_str_eq(res.out, "hello 42\n");
    ck_assert_str_eq(res.err, "to stderr\n");
    ck_assert_int_eq(res.exit_code, 3);
    wasm_run_result_free(&res);
}
END_TEST

/* wasm_run passes --no-warnings; the script must keep node's WASI
 * ExperimentalWarning off stderr on its own too. */
START_TEST(test_no_warning_without_flag)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("hello_plain", prog_hello, wasm);
    const char *const argv[] = {MEWE_NODE, MEWE_NODE_FLAG, MEWE_TEST_SRCDIR "/wasm-run.mjs", wasm,
                                NULL};
    ck_assert_int_eq(host_run(&res, argv, NULL, 0), 0);
    ck_assert_str_eq(res.err, "to stderr\n");
    ck_assert_int_eq(res.exit_code, 3);
    wasm_run_result_free(&res);
}
END_TEST

/* The module exits without reading: the helper must survive EPIPE (and
 * SIGPIPE) and still report the exit code. */
START_TEST(test_stdin_ignored)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    size_t len = 8u << 20;
    char *data = calloc(len, 1);
    ck_assert_ptr_nonnull(data);
    build_c("hello_ignores_stdin", prog_hello, wasm);
    run_ok(&res, wasm, NULL, NULL, data, len);
    ck_assert_str_eq(res.out, "hello 42\n");
    ck_assert_int_eq(res.exit_code, 3);
    free(data);
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_stdin_echo)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("echo", prog_echo, wasm);
    run_ok(&res, wasm, NULL, NULL, "line one\nline two\n", 18);
    ck_assert_str_eq(res.out, "line one\nline two\n");
    ck_assert_int_eq(res.exit_code, 0);
    wasm_run_result_free(&res);
}
END_TEST

/* Far larger than a pipe buffer in both directions: only works if stdin is
 * written while stdout is being read. */
START_TEST(test_stdin_large)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    size_t len = 3u << 20;
    char *data = malloc(len);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < len; i++) {
        data[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    }
    build_c("echo_large", prog_echo, wasm);
    run_ok(&res, wasm, NULL, NULL, data, len);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_uint_eq(res.out_len, len);
    ck_assert_int_eq(memcmp(res.out, data, len), 0);
    free(data);
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_empty_stdin)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("echo_empty", prog_echo, wasm);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    ck_assert_str_eq(res.out, "");
    ck_assert_int_eq(res.exit_code, 0);
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_arguments)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    const char *const argv[] = {"one", "two words", "", "--trace", "h\xc3\xa9llo", NULL};
    build_c("args", prog_args, wasm);
    run_ok(&res, wasm, NULL, argv, NULL, 0);
    ck_assert_str_eq(res.out, "argc=6\n[args.wasm]\n[one]\n[two words]\n[]\n[--trace]\n"
                              "[h\xc3\xa9llo]\n");
    ck_assert_str_eq(res.err, "");
    ck_assert_int_eq(res.exit_code, 6);
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_trap)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("trap", prog_trap, wasm);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    ck_assert_int_eq(res.exit_code, 134);
    ck_assert_str_eq(res.out, "before\n");
    ck_assert_msg(strncmp(res.err, "wasm-run: trap: ", 16) == 0, "stderr: %s", res.err);
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_unresolved_import)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("unresolved", prog_unresolved, wasm);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    ck_assert_int_eq(res.exit_code, 127);
    ck_assert_str_eq(res.err, "wasm-run: unresolved import env.missing_fn\n");
    ck_assert_str_eq(res.out, "");
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_usage_errors)
{
    wasm_run_result res;
    char missing[PATH_SIZE];
    const char *const no_module[] = {MEWE_NODE, "--no-warnings", MEWE_NODE_FLAG,
                                     MEWE_TEST_SRCDIR "/wasm-run.mjs", NULL};
    ck_assert_int_eq(host_run(&res, no_module, NULL, 0), 0);
    ck_assert_int_eq(res.exit_code, 127);
    ck_assert_ptr_nonnull(strstr(res.err, "usage:"));
    wasm_run_result_free(&res);

    tmp_path(missing, "does-not-exist.wasm");
    run_ok(&res, missing, NULL, NULL, NULL, 0);
    ck_assert_int_eq(res.exit_code, 127);
    ck_assert_ptr_nonnull(strstr(res.err, "wasm-run: cannot read"));
    wasm_run_result_free(&res);

    const char *const bad_opt[] = {"--no-such-option", NULL};
    run_ok(&res, missing, bad_opt, NULL, NULL, 0);
    ck_assert_int_eq(res.exit_code, 127);
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_host_run_missing_program)
{
    wasm_run_result res;
    const char *const argv[] = {"/nonexistent/mewe-no-such-program", NULL};
    ck_assert_int_eq(host_run(&res, argv, NULL, 0), -1);
    ck_assert_ptr_null(res.out);
}
END_TEST

/* ---- Trace and discriminate imports. */

START_TEST(test_trace)
{
    char wasm[PATH_SIZE];
    char trace[PATH_SIZE];
    wasm_run_result res;
    build_c("trace", prog_trace, wasm);
    tmp_path(trace, "trace.txt");
    const char *const opts[] = {"--trace", trace, NULL};
    run_ok(&res, wasm, opts, NULL, NULL, 0);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_str_eq(res.err, "");
    wasm_run_result_free(&res);
    char *text = read_file(trace, NULL);
    ck_assert_str_eq(text, "0 0\n1 1\n2 2\n3 0\n4 1\n-1 7\n");
    free(text);
}
END_TEST

START_TEST(test_trace_on_trap_and_many_calls)
{
    char wasm[PATH_SIZE];
    char trace[PATH_SIZE];
    wasm_run_result res;
    build_c("trace_trap", prog_trace, wasm);
    tmp_path(trace, "trace_trap.txt");
    const char *const opts[] = {"--trace", trace, NULL};
    const char *const argv[] = {"2500000", "trap", NULL};
    run_ok(&res, wasm, opts, argv, NULL, 0);
    ck_assert_int_eq(res.exit_code, 134);
    wasm_run_result_free(&res);
    size_t len;
    char *text = read_file(trace, &len);
    ck_assert_int_eq(count_lines(text), 2500001);
    static const char tail[] = "2499998 2\n2499999 0\n-1 7\n";
    ck_assert_uint_ge(len, sizeof tail - 1);
    ck_assert_str_eq(text + len - (sizeof tail - 1), tail);
    free(text);
}
END_TEST

START_TEST(test_trace_import_needs_option)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    build_c("trace_noopt", prog_trace, wasm);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    ck_assert_int_eq(res.exit_code, 127);
    ck_assert_str_eq(res.err, "wasm-run: unresolved import mewe_trace.record\n");
    wasm_run_result_free(&res);
}
END_TEST

/* Parses one value a line and counts occurrences in [0, n). */
static void check_discriminations(const char *out, int n, int times, int *seen)
{
    const char *p = out;
    for (int i = 0; i < times; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        ck_assert_msg(end != p && *end == '\n', "bad output near: %.20s", p);
        ck_assert_msg(v >= 0 && v < (n > 0 ? n : 1), "value %ld out of range for n=%d", v, n);
        seen[v]++;
        p = end + 1;
    }
    ck_assert_str_eq(p, "");
}

START_TEST(test_discriminate_default)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    int seen[5] = {0};
    build_c("disc", PROG_DISCRIMINATE("env", "discriminate"), wasm);
    const char *const argv[] = {"5", "1000", NULL};
    run_ok(&res, wasm, NULL, argv, NULL, 0);
    ck_assert_int_eq(res.exit_code, 0);
    check_discriminations(res.out, 5, 1000, seen);
    for (int v = 0; v < 5; v++) {
        ck_assert_msg(seen[v] > 0, "value %d never drawn in 1000 calls", v);
    }
    wasm_run_result_free(&res);
}
END_TEST

START_TEST(test_discriminate_nonpositive)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    int seen[1] = {0};
    build_c("disc_zero", PROG_DISCRIMINATE("env", "discriminate"), wasm);
    const char *const zero[] = {"0", "20", NULL};
    const char *const negative[] = {"-3", "20", NULL};
    run_ok(&res, wasm, NULL, zero, NULL, 0);
    check_discriminations(res.out, 0, 20, seen);
    wasm_run_result_free(&res);
    run_ok(&res, wasm, NULL, negative, NULL, 0);
    check_discriminations(res.out, 0, 20, seen);
    wasm_run_result_free(&res);
    ck_assert_int_eq(seen[0], 40);
}
END_TEST

START_TEST(test_discriminate_named)
{
    char wasm[PATH_SIZE];
    wasm_run_result res;
    int seen[3] = {0};
    build_c("disc_named", PROG_DISCRIMINATE("mewe", "pick"), wasm);
    const char *const argv[] = {"3", "300", NULL};
    const char *const opts[] = {"--discriminate", "mewe.pick", NULL};
    run_ok(&res, wasm, NULL, argv, NULL, 0);
    ck_assert_int_eq(res.exit_code, 127);
    ck_assert_str_eq(res.err, "wasm-run: unresolved import mewe.pick\n");
    wasm_run_result_free(&res);
    run_ok(&res, wasm, opts, argv, NULL, 0);
    ck_assert_int_eq(res.exit_code, 0);
    check_discriminations(res.out, 3, 300, seen);
    ck_assert(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    wasm_run_result_free(&res);
}
END_TEST

/* ---- Reactor mode. */

static void build_reactor(char *wasm)
{
    char src[PATH_SIZE];
    wasm_run_result res;
    tmp_path(src, "reactor.c");
    tmp_path(wasm, "reactor.wasm");
    write_file(src, prog_reactor);
    const char *const argv[] = {
        MEWE_CLANG, "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", src, "-o", wasm, NULL,
    };
    host_ok(&res, argv);
    wasm_run_result_free(&res);
}

static void invoke(const char *wasm, const char *name, const char *const *args,
                   const char *expected_out)
{
    wasm_run_result res;
    const char *const opts[] = {"--reactor", "--invoke", name, NULL};
    run_ok(&res, wasm, opts, args, NULL, 0);
    ck_assert_msg(res.exit_code == 0, "%s: exit %d: %s", name, res.exit_code, res.err);
    ck_assert_str_eq(res.out, expected_out);
    ck_assert_str_eq(res.err, "");
    wasm_run_result_free(&res);
}

START_TEST(test_reactor)
{
    char wasm[PATH_SIZE];
    build_reactor(wasm);
    const char *const add_args[] = {"2", "40", NULL};
    const char *const neg_args[] = {"-7", "-8", NULL};
    const char *const offset_args[] = {"5", NULL};
    const char *const mul_args[] = {"10000000000", "-3", NULL};
    invoke(wasm, "add", add_args, "42\n");
    invoke(wasm, "add", neg_args, "-15\n");
    /* 1005 only if _initialize ran the constructors. */
    invoke(wasm, "offset", offset_args, "1005\n");
    invoke(wasm, "mul64", mul_args, "-30000000000\n");
    invoke(wasm, "greet", NULL, "greetings\n");
}
END_TEST

/* ---- Fixtures. */

static void fixture_path(char *buf, const char *name, const char *ext)
{
    int n = snprintf(buf, PATH_SIZE, "%s/fixtures/%s%s", MEWE_TEST_SRCDIR, name, ext);
    ck_assert(n > 0 && n < PATH_SIZE);
}

static void compile_fixture(const char *name, char *wasm)
{
    char src[PATH_SIZE];
    char file[256];
    char *log = NULL;
    fixture_path(src, name, ".c");
    snprintf(file, sizeof file, "fixture-%s.wasm", name);
    tmp_path(wasm, file);
    int rc = compile_c_to_wasm(src, wasm, &log);
    ck_assert_msg(rc == 0, "compiling %s failed:\n%s", src, log ? log : "(no log)");
    free(log);
}

START_TEST(test_c_fixture)
{
    const char *name = c_fixtures[_i];
    char wasm[PATH_SIZE];
    char expected[PATH_SIZE];
    wasm_run_result res;
    compile_fixture(name, wasm);
    fixture_path(expected, name, ".expected");
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    assert_expected(&res, expected);
    wasm_run_result_free(&res);
}
END_TEST

/* The bitcode path is what libmewe consumes; linking it must give the same
 * program as compiling straight to wasm. */
START_TEST(test_c_fixture_via_bitcode)
{
    const char *name = c_fixtures[_i];
    char src[PATH_SIZE];
    char bc[PATH_SIZE];
    char wasm[PATH_SIZE];
    char expected[PATH_SIZE];
    char file[256];
    char *log = NULL;
    wasm_run_result res;
    fixture_path(src, name, ".c");
    fixture_path(expected, name, ".expected");
    snprintf(file, sizeof file, "bc-%s.bc", name);
    tmp_path(bc, file);
    snprintf(file, sizeof file, "bc-%s.wasm", name);
    tmp_path(wasm, file);
    ck_assert_msg(compile_c_to_bc(src, bc, &log) == 0, "%s", log ? log : "(no log)");
    free(log);
    const char *const link[] = {MEWE_CLANG, "--target=wasm32-wasi", "-O2", bc, "-o", wasm, NULL};
    host_ok(&res, link);
    wasm_run_result_free(&res);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    assert_expected(&res, expected);
    wasm_run_result_free(&res);
}
END_TEST

/* Inputs without an .expected file are checked against a native build. */
static void compare_with_native(const char *name, const char *const *args, const char *in)
{
    char src[PATH_SIZE];
    char wasm[PATH_SIZE];
    char exe[PATH_SIZE];
    char file[256];
    wasm_run_result native;
    wasm_run_result wasm_res;
    const char *native_argv[8] = {exe};
    size_t in_len = in ? strlen(in) : 0;
    compile_fixture(name, wasm);
    fixture_path(src, name, ".c");
    snprintf(file, sizeof file, "native-%s", name);
    tmp_path(exe, file);
    const char *const cc[] = {MEWE_CLANG, "-O2", src, "-o", exe, "-lm", NULL};
    host_ok(&native, cc);
    wasm_run_result_free(&native);
    for (size_t i = 0; args != NULL && args[i] != NULL && i < 6; i++) {
        native_argv[i + 1] = args[i];
    }
    ck_assert_int_eq(host_run(&native, native_argv, in, in_len), 0);
    run_ok(&wasm_res, wasm, NULL, args, in, in_len);
    ck_assert_int_eq(wasm_res.exit_code, native.exit_code);
    assert_same_text("stdout", wasm_res.out, native.out);
    assert_same_text("stderr", wasm_res.err, native.err);
    wasm_run_result_free(&native);
    wasm_run_result_free(&wasm_res);
}

START_TEST(test_fixtures_match_native)
{
    const char *const loops_args[] = {"9", NULL};
    const char *const bad_args[] = {"-1", NULL};
    compare_with_native("loops", loops_args, NULL);
    compare_with_native("loops", bad_args, NULL);
    compare_with_native("globals", NULL,
                        "Hello, World!\nthe 2nd line has 5 words\n\n  tabs\tand   spaces ");
}
END_TEST

static int rustc_available(void)
{
    wasm_run_result res;
    const char *const argv[] = {MEWE_RUSTC, "--version", NULL};
    int ok = host_run(&res, argv, NULL, 0) == 0 && res.exit_code == 0;
    wasm_run_result_free(&res);
    return ok;
}

START_TEST(test_rust_fixture)
{
    char src[PATH_SIZE];
    char bc[PATH_SIZE];
    char wasm[PATH_SIZE];
    char expected[PATH_SIZE];
    char *log = NULL;
    wasm_run_result res;
    fixture_path(src, "rust/hello", ".rs");
    fixture_path(expected, "rust/hello", ".expected");
    tmp_path(bc, "hello-rs.bc");
    tmp_path(wasm, "hello-rs.wasm");
    ck_assert_msg(compile_rust_to_bc(src, bc, &log) == 0, "%s", log ? log : "(no log)");
    free(log);
    const char *const link[] = {MEWE_CLANG, "--target=wasm32-wasi", "-O2", bc, "-o", wasm, NULL};
    host_ok(&res, link);
    wasm_run_result_free(&res);
    run_ok(&res, wasm, NULL, NULL, NULL, 0);
    assert_expected(&res, expected);
    wasm_run_result_free(&res);
}
END_TEST

/* ---- Suite. */

/* Check's 4 s default is too short for compiling and starting node many
 * times, more so when the build runs test suites in parallel. */
static TCase *make_tcase(const char *name, int timeout)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    return tc;
}

static Suite *runner_suite(void)
{
    Suite *s = suite_create("wasm-run");
    TCase *basic = make_tcase("basic", 300);
    tcase_add_test(basic, test_stdout_stderr_exit);
    tcase_add_test(basic, test_no_warning_without_flag);
    tcase_add_test(basic, test_stdin_echo);
    tcase_add_test(basic, test_stdin_ignored);
    tcase_add_test(basic, test_stdin_large);
    tcase_add_test(basic, test_empty_stdin);
    tcase_add_test(basic, test_arguments);
    tcase_add_test(basic, test_trap);
    tcase_add_test(basic, test_unresolved_import);
    tcase_add_test(basic, test_usage_errors);
    tcase_add_test(basic, test_host_run_missing_program);
    suite_add_tcase(s, basic);

    TCase *imports = make_tcase("imports", 300);
    tcase_add_test(imports, test_trace);
    tcase_add_test(imports, test_trace_on_trap_and_many_calls);
    tcase_add_test(imports, test_trace_import_needs_option);
    tcase_add_test(imports, test_discriminate_default);
    tcase_add_test(imports, test_discriminate_nonpositive);
    tcase_add_test(imports, test_discriminate_named);
    tcase_add_test(imports, test_reactor);
    suite_add_tcase(s, imports);

    TCase *fixtures = make_tcase("fixtures", 300);
    tcase_add_loop_test(fixtures, test_c_fixture, 0, N_C_FIXTURES);
    tcase_add_loop_test(fixtures, test_c_fixture_via_bitcode, 0, N_C_FIXTURES);
    tcase_add_test(fixtures, test_fixtures_match_native);
    if (rustc_available())
        tcase_add_test(fixtures, test_rust_fixture);
    else
        test_skip(1, "%s not available: the Rust fixture is not run", MEWE_RUSTC);
    suite_add_tcase(s, fixtures);
    return s;
}

static int clang_available(void)
{
    wasm_run_result res;
    const char *const argv[] = {MEWE_CLANG, "--version", NULL};
    int ok = host_run(&res, argv, NULL, 0) == 0 && res.exit_code == 0;
    wasm_run_result_free(&res);
    return ok;
}

int main(void)
{
    if (!wasm_run_available()) {
        printf("SKIP: %s with node:wasi not available\n", MEWE_NODE);
        return 77;
    }
    if (!clang_available()) {
        printf("SKIP: %s not available\n", MEWE_CLANG);
        return 77;
    }
    if (make_tmp_dir() != 0) {
        return 1;
    }
    SRunner *sr = srunner_create(runner_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (remove_tree(tmp_dir) != 0) {
        fprintf(stderr, "test-runner: could not remove %s\n", tmp_dir);
    }
    return test_exit_status(failed);
}
