/* Partitioned, parallel code generation (lib/wasm/codegen.c). The fixtures are far smaller
 * than a partition, so the tests lower the partition size to split them into many: static
 * functions and variables used across partitions, label tables (computed goto), variants
 * and their dispatchers, constructors, debug information. The output must run as the
 * unsplit one does, keep its function names, and be the same bytes for 1, 2 and 8 threads.
 * White-box: links the uninstalled static library. */
#include <mewe/sys/llvm.h>

#include "test-util.h"
#include "wasm/codegen.h"
#include "wasm/inspect.h"

/* The partition count of the last emit, from the library's debug log. */
static unsigned last_parts;

static void log_parts(mewe_log_level level, const char *msg, void *data)
{
    (void)level;
    (void)data;
    const char *p = strstr(msg, "code generation in ");
    if (p)
        last_parts = (unsigned)strtoul(p + strlen("code generation in "), NULL, 10);
}

/* Runs after test_case's fixture, which made the context. */
static void split_setup(void)
{
    mewe_context_set_log_callback(tctx, log_parts, MEWE_LOG_DEBUG, NULL);
    last_parts = 0;
    mewe__codegen_partition_instructions = 0;
}

static void split_teardown(void)
{
    mewe__codegen_partition_instructions = 0;
}

static void *emit_mem(mewe_module *m, mewe_emit_kind kind, unsigned threads, size_t *size)
{
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = kind;
    o.threads = threads;
    void *data = NULL;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&data, size, m, &o));
    return data;
}

static void run_expect(const void *wasm, size_t size, const char *expected)
{
    write_file(tpath("run.wasm"), wasm, size);
    wasm_run_result r;
    ck_assert_msg(wasm_run(&r, tpath("run.wasm"), NULL, NULL, NULL, 0) == 0, "node did not run");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, expected);
    wasm_run_result_free(&r);
}

/* Function names of a linked module, sorted, one per line. */
static char *function_names(const void *wasm, size_t size)
{
    mewe__wasm_info info;
    ck_assert_int_eq(mewe__wasm_parse(&info, wasm, size), 0);
    size_t cap = 1, n = 0;
    for (size_t i = 0; i < info.func_count; i++)
        cap += info.funcs[i].name ? strlen(info.funcs[i].name) + 1 : 0;
    char **names = calloc(info.func_count + 1, sizeof *names);
    for (size_t i = 0; i < info.func_count; i++)
        if (info.funcs[i].name)
            names[n++] = (char *)info.funcs[i].name;
    for (size_t i = 1; i < n; i++) /* insertion sort: a few hundred names */
        for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            char *t = names[k];
            names[k] = names[k - 1];
            names[k - 1] = t;
        }
    char *out = calloc(cap, 1), *w = out;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s\n", names[i]);
    free(names);
    mewe__wasm_info_free(&info);
    return out;
}

static const char *const fixtures[] = {"computed_goto.c", "fnptr.c", "globals.c", "recursion.c",
                                       "structs.c",       "loops.c", "costs.c",   "rust/hello.rs"};

/* Every fixture, multivariant, split into many partitions: it runs, has the unsplit
 * module's function names, and is the same for 1, 2 and 8 threads. Partitions of 40
 * instructions, and of 2,000 for Rust's hello (110,000 instructions with its standard
 * library): some 50 partitions, where 40 would make the most there can be (256), each an
 * LLVM context of its own, for two thirds of the suite's time in this test. */
START_TEST(split_runs_and_is_the_same_for_any_thread_count)
{
    const char *fixture = fixtures[_i];
    char *expected = expected_output(fixture);
    mewe_module *m = load_fixture(fixture);
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    size_t whole_size;
    mewe__codegen_partition_instructions = SIZE_MAX / 4;
    void *whole = emit_mem(m, MEWE_EMIT_COMMAND, 1, &whole_size);
    ck_assert_uint_eq(last_parts, 1);
    mewe__codegen_partition_instructions = strstr(fixture, ".rs") ? 2000 : 40;
    size_t size1, size2, size8;
    void *one = emit_mem(m, MEWE_EMIT_COMMAND, 1, &size1);
    ck_assert_msg(last_parts > 2, "%s: %u partitions", fixture, last_parts);
    void *two = emit_mem(m, MEWE_EMIT_COMMAND, 2, &size2);
    void *eight = emit_mem(m, MEWE_EMIT_COMMAND, 8, &size8);
    ck_assert_uint_eq(size1, size2);
    ck_assert_uint_eq(size1, size8);
    ck_assert(memcmp(one, two, size1) == 0);
    ck_assert(memcmp(one, eight, size1) == 0);
    run_expect(one, size1, expected);
    run_expect(whole, whole_size, expected);
    char *a = function_names(whole, whole_size), *b = function_names(one, size1);
    ck_assert_str_eq(b, a);
    free(a);
    free(b);
    free(one);
    free(two);
    free(eight);
    free(whole);
    free(expected);
}
END_TEST

/* A split relocatable object is one object (wasm-ld -r), the same for any thread count,
 * and links into a program that runs. */
START_TEST(split_object_links)
{
    char *expected = expected_output("computed_goto.c");
    mewe_module *m = load_fixture("computed_goto.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    mewe__codegen_partition_instructions = 40;
    size_t s1, s8;
    void *o1 = emit_mem(m, MEWE_EMIT_OBJECT, 1, &s1);
    ck_assert_uint_gt(last_parts, 2);
    void *o8 = emit_mem(m, MEWE_EMIT_OBJECT, 8, &s8);
    ck_assert_uint_eq(s1, s8);
    ck_assert(memcmp(o1, o8, s1) == 0);
    write_file(tpath("split.o"), o1, s1);
    /* The object links like any other, with clang's driver. */
    const char *argv[] = {MEWE_CLANG, "--target=wasm32-wasi", tpath("split.o"),
                          "-o",       tpath("split.wasm"),    NULL};
    char *log = NULL;
    ck_assert_msg(run_compiler(argv, &log) == 0, "linking the split object: %s", log ? log : "");
    free(log);
    size_t size;
    char *wasm = read_file(tpath("split.wasm"), &size);
    run_expect(wasm, size, expected);
    free(wasm);
    free(o1);
    free(o8);
    free(expected);
}
END_TEST

/* Debug information survives the split: every partition carries what its functions need. */
START_TEST(split_with_debug_info)
{
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/structs.c", MEWE_TEST_SRCDIR);
    const char *argv[] = {MEWE_CLANG, "--target=wasm32-wasi", "-O1", "-g", "-c", "-emit-llvm", src,
                          "-o",       tpath("g.bc"),          NULL};
    char *log = NULL;
    ck_assert_msg(run_compiler(argv, &log) == 0, "%s", log ? log : "");
    free(log);
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath("g.bc")));
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    mewe__codegen_partition_instructions = 40;
    size_t s1, s2;
    void *one = emit_mem(m, MEWE_EMIT_COMMAND, 1, &s1);
    ck_assert_uint_gt(last_parts, 2);
    void *two = emit_mem(m, MEWE_EMIT_COMMAND, 2, &s2);
    ck_assert_uint_eq(s1, s2);
    ck_assert(memcmp(one, two, s1) == 0);
    char *expected = expected_output("structs.c");
    run_expect(one, s1, expected);
    free(expected);
    free(one);
    free(two);
}
END_TEST

/* Constructors, llvm.used and static functions called only through a pointer table held
 * in another partition. */
static const char ctor_ir[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@llvm.global_ctors = appending global [2 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 "
    "65535, ptr @init_a, ptr null }, { i32, ptr, ptr } { i32 65535, ptr @init_b, ptr null }]\n"
    "@llvm.used = appending global [1 x ptr] [ptr @kept], section \"llvm.metadata\"\n"
    "@counter = internal global i32 0\n"
    "@table = internal constant [2 x ptr] [ptr @inc, ptr @dbl]\n"
    "@.str = private unnamed_addr constant [4 x i8] c\"%d\\0A\\00\"\n"
    "declare i32 @printf(ptr, ...)\n"
    "define internal void @init_a() { %v = load i32, ptr @counter\n"
    "  %w = add i32 %v, 10\n store i32 %w, ptr @counter\n ret void }\n"
    "define internal void @init_b() { %v = load i32, ptr @counter\n"
    "  %w = mul i32 %v, 3\n store i32 %w, ptr @counter\n ret void }\n"
    "define internal i32 @inc(i32 %x) { %y = add i32 %x, 1\n ret i32 %y }\n"
    "define internal i32 @dbl(i32 %x) { %y = shl i32 %x, 1\n ret i32 %y }\n"
    "define internal void @kept() { ret void }\n"
    "define i32 @main() {\n"
    "  %p0 = load ptr, ptr @table\n"
    "  %q = getelementptr [2 x ptr], ptr @table, i32 0, i32 1\n"
    "  %p1 = load ptr, ptr %q\n"
    "  %c = load i32, ptr @counter\n"
    "  %a = call i32 %p0(i32 %c)\n"
    "  %b = call i32 %p1(i32 %a)\n"
    "  %r = call i32 (ptr, ...) @printf(ptr @.str, i32 %b)\n"
    "  ret i32 0 }\n";

/* Emits module text `ir` whole, then split in partitions of `part` instructions (2
 * threads); both must print `expected`. Returns the number of partitions of the split. */
static unsigned whole_and_split_print(const char *ir, const char *name, size_t part,
                                      const char *expected)
{
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ir, strlen(ir), name));
    size_t s0, s1;
    void *whole = emit_mem(m, MEWE_EMIT_COMMAND, 1, &s0);
    mewe__codegen_partition_instructions = part;
    void *split = emit_mem(m, MEWE_EMIT_COMMAND, 2, &s1);
    unsigned parts = last_parts;
    run_expect(whole, s0, expected);
    run_expect(split, s1, expected);
    free(whole);
    free(split);
    mewe_module_free(m);
    return parts;
}

START_TEST(split_keeps_constructors_and_tables)
{
    /* The constructors run in the same order: wasm-ld runs those of one priority in reverse
     * (init_b, then init_a: 10), then inc and dbl make 22. */
    ck_assert_uint_gt(whole_and_split_print(ctor_ir, "ctors.ll", 2, "22\n"), 3);
}
END_TEST

/* A static function called only by a function whose labels are taken, both in the second
 * partition, defined in that order (as variants are, after the functions they call): the
 * labels' function is read in every partition, and the first partition must not take its
 * call for a use of the static function there (its body goes too). */
static const char labels_ir[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@.str = private unnamed_addr constant [4 x i8] c\"%d\\0A\\00\"\n"
    "@seed = global i32 1\n"
    "declare i32 @printf(ptr, ...)\n"
    "define i32 @main() {\n"
    "  %s0 = load volatile i32, ptr @seed\n  %s1 = mul i32 %s0, %s0\n"
    "  %s2 = add i32 %s1, %s0\n  %s3 = mul i32 %s2, %s1\n  %s4 = add i32 %s3, %s2\n"
    "  %s5 = mul i32 %s4, %s3\n  %s6 = add i32 %s5, %s4\n  %s7 = mul i32 %s6, %s5\n"
    "  %s8 = and i32 %s7, 1\n  %s9 = xor i32 %s8, 1\n"
    "  %a = call i32 @interp(i32 %s9)\n  %b = call i32 @interp(i32 %s8)\n"
    "  %s = add i32 %a, %b\n"
    "  %r = call i32 (ptr, ...) @printf(ptr @.str, i32 %s)\n  ret i32 0\n}\n"
    "define internal i32 @helper(i32 %x) {\n  %y = mul i32 %x, 3\n  %z = add i32 %y, 1\n"
    "  ret i32 %z\n}\n"
    "@targets = internal constant [2 x ptr] [ptr blockaddress(@interp, %one), "
    "ptr blockaddress(@interp, %two)]\n"
    "define i32 @interp(i32 %op) {\nentry:\n"
    "  %p = getelementptr [2 x ptr], ptr @targets, i32 0, i32 %op\n"
    "  %t = load ptr, ptr %p\n  indirectbr ptr %t, [label %one, label %two]\n"
    "one:\n  %h = call i32 @helper(i32 5)\n  ret i32 %h\n"
    "two:\n  ret i32 100\n}\n";

START_TEST(split_static_callee_of_labels)
{
    ck_assert_uint_eq(whole_and_split_print(labels_ir, "labels.ll", 14, "116\n"), 2);
}
END_TEST

/* Blanks the numbers of the report's keys that hold `word`. */
static void blank_values(char *json, const char *word)
{
    for (char *p = json; (p = strstr(p, word)) != NULL;) {
        p += strcspn(p, ":,}");
        if (*p != ':')
            continue;
        for (p++; *p == ' ' || *p == '-' || *p == '.' || (*p >= '0' && *p <= '9'); p++)
            *p = ' ';
    }
}

/* The preservation check compiles a module's families in partitions too, and compares
 * bodies byte for byte: the indices a call or an address leaves in a body are its object's
 * own, so a family split across partitions would look distinct where it is not. Generation
 * decides the same with partitions of 40 instructions as unsplit. */
START_TEST(check_is_the_same_when_split)
{
    const char *fixture = fixtures[_i];
    char *report[2];
    size_t size[2];
    const size_t part[2] = {SIZE_MAX / 4, 40};
    for (int k = 0; k < 2; k++) {
        mewe_module *m = load_fixture(fixture);
        mewe_generate_options o = MEWE_GENERATE_OPTIONS_INIT;
        o.variants = 4;
        mewe__codegen_partition_instructions = part[k];
        ck_assert_mewe_ok(mewe_generate_variants(m, &o));
        ck_assert_mewe_ok(mewe_report_json(&report[k], &size[k], m));
        /* A body's addresses are its object's own: in another split, the bytes a family
         * differs by may change, not its verdicts. The bitcode's size depends on its type
         * names, which the second load of a fixture in a context makes unique. */
        blank_values(report[k], "difference");
        blank_values(report[k], "bitcode_bytes");
        mewe_module_free(m);
    }
    ck_assert_msg(strstr(report[0], "\"distinct_in_wasm\""), "%s: nothing checked", fixture);
    size_t at = 0;
    while (report[0][at] && report[0][at] == report[1][at])
        at++;
    size_t from = at > 200 ? at - 200 : 0;
    ck_assert_msg(
        report[0][at] == report[1][at],
        "%s: the check decided otherwise on a split module, from: %.300s\nunsplit: %.300s", fixture,
        report[1] + from, report[0] + from);
    mewe_free(report[0]);
    mewe_free(report[1]);
}
END_TEST

/* A program whose f gets two variants from elsewhere: one with a dead instruction, which
 * code generation removes (the original's code again), and one that goes through the stack
 * (its own code). The third body is one too many. */
#define TWINS_IR(f_body)                                              \
    "target triple = \"wasm32-unknown-wasi\"\n"                       \
    "@fmt = private unnamed_addr constant [4 x i8] c\"%d\\0A\\00\"\n" \
    "declare i32 @printf(ptr, ...)\n"                                 \
    "define i32 @f(i32 %a, i32 %b) noinline {\n" f_body "}\n"         \
    "define i32 @main() {\n"                                          \
    "entry:\n  br label %loop\n"                                      \
    "loop:\n  %i = phi i32 [0, %entry], [%i1, %loop]\n"               \
    "  %s = phi i32 [0, %entry], [%s1, %loop]\n"                      \
    "  %v = call i32 @f(i32 %i, i32 3)\n  %s1 = add i32 %s, %v\n"     \
    "  %i1 = add i32 %i, 1\n  %c = icmp slt i32 %i1, 100\n"           \
    "  br i1 %c, label %loop, label %done\n"                          \
    "done:\n  %r = call i32 (ptr, ...) @printf(ptr @fmt, i32 %s1)\n  ret i32 0\n}\n"

static const char twins_original[] =
    TWINS_IR("  %x = mul i32 %a, %b\n  %y = add i32 %x, 7\n  ret i32 %y\n");
static const char twins_dead[] = TWINS_IR(
    "  %x = mul i32 %a, %b\n  %dead = mul i32 %a, 5\n  %y = add i32 %x, 7\n  ret i32 %y\n");
static const char twins_stack[] =
    TWINS_IR("  %p = alloca i32\n  %x = mul i32 %a, %b\n  store volatile i32 %x, ptr %p\n"
             "  %l = load volatile i32, ptr %p\n  %y = add i32 %l, 7\n  ret i32 %y\n");

static mewe_module *load_ll(const char *ll, const char *name)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), name));
    return m;
}

/* A variant that compiles to the same code as another of its family is left out of the
 * output, and its dispatcher calls the other; only the partition that holds it is compiled
 * again; the report counts what the output holds. */
START_TEST(twins_leave_the_output)
{
    mewe_module *m = load_ll(twins_original, "twins.ll");
    size_t added;
    ck_assert_mewe_ok(mewe_module_add_variants(&added, m, load_ll(twins_dead, "dead.ll")));
    ck_assert_uint_eq(added, 1); /* f.mewe.v1: distinct in IR */
    ck_assert_mewe_ok(mewe_module_add_variants(&added, m, load_ll(twins_stack, "stack.ll")));
    ck_assert_uint_eq(added, 1); /* f.mewe.v2 */
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 1; /* variants as functions: each has its own body */
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    mewe__codegen_partition_instructions = 10; /* f's family alone in one of several */
    size_t size, size2;
    void *wasm = emit_mem(m, MEWE_EMIT_COMMAND, 1, &size);
    ck_assert_uint_eq(last_parts, 1); /* the second compilation: f's partition only */
    void *wasm2 = emit_mem(m, MEWE_EMIT_COMMAND, 2, &size2);
    ck_assert(size == size2 && memcmp(wasm, wasm2, size) == 0);
    run_expect(wasm, size, "15550\n");
    char *names = function_names(wasm, size);
    ck_assert_msg(strstr(names, "f.mewe.v0\n") && strstr(names, "f.mewe.v2\n") &&
                      !strstr(names, "f.mewe.v1\n"),
                  "%s", names);
    free(names);
    char *json;
    ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, wasm, size));
    ck_assert_msg(strstr(json, "\"dropped_in_output\": 1"), "%s", json);
    const char *w = strstr(json, "\"wasm\"");
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(strstr(w, "\"variants\": 2, \"distinct_in_wasm\": 2"));
    ck_assert_ptr_nonnull(strstr(w, "\"preservation\": 1.0000"));
    ck_assert_ptr_nonnull(strstr(w, "\"variants_in_output\": 1"));
    free(json);
    /* The module is unchanged: its own report, without the wasm, still has both. */
    ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, NULL, 0));
    ck_assert_ptr_null(strstr(json, "dropped_in_output"));
    free(json);
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(mewe_module_get_llvm(m), "f.mewe.v1"));
    free(wasm);
    free(wasm2);
}
END_TEST

START_TEST(threads_out_of_range)
{
    mewe_module *m = load_fixture("fnptr.c");
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.threads = MEWE_EMIT_MAX_THREADS + 1;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("x.wasm")), MEWE_EINVAL, "threads");
    ck_assert(!file_exists(tpath("x.wasm")));
    o.threads = MEWE_EMIT_MAX_THREADS;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("x.wasm")));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codegen");
    TCase *tc = test_case("split");
    tcase_add_checked_fixture(tc, split_setup, split_teardown);
    /* The sanitizer pass (test_quick) leaves out Rust's hello, the last and by far the
     * largest (some 50 partitions, four times): the other pass splits it. */
    tcase_add_loop_test(tc, split_runs_and_is_the_same_for_any_thread_count, 0,
                        (int)(sizeof fixtures / sizeof *fixtures) - (test_quick() ? 1 : 0));
    tcase_add_test(tc, split_object_links);
    tcase_add_test(tc, split_with_debug_info);
    tcase_add_test(tc, split_keeps_constructors_and_tables);
    tcase_add_test(tc, split_static_callee_of_labels);
    tcase_add_loop_test(tc, check_is_the_same_when_split, 0, 2);
    tcase_add_test(tc, twins_leave_the_output);
    tcase_add_test(tc, threads_out_of_range);
    suite_add_tcase(s, tc);
    return test_run(s);
}
