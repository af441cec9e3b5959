/* mewe_emit_wasm: commands, reactors and objects that run under node like clang's own
 * output, and every way emitting can fail. */
#include <sys/stat.h>

#include <mewe/sys/llvm.h>

#include "test-util.h"

static const char *const c_fixtures[] = {"loops.c",   "recursion.c", "fnptr.c",
                                         "structs.c", "globals.c",   "computed_goto.c"};

static bool has_name_section(const void *wasm, size_t size);

static void run_ok(wasm_run_result *r, const char *wasm, const char *const *opts,
                   const char *const *argv, const char *in)
{
    ck_assert_msg(wasm_run(r, wasm, opts, argv, in, in ? strlen(in) : 0) == 0,
                  "node did not start");
}

/* The same C program, compiled by clang straight to wasm and pushed through libmewe, must
 * print the same thing. */
static void check_same_as_clang(const char *fixture)
{
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/%s", MEWE_TEST_SRCDIR, fixture);
    char *log = NULL;
    ck_assert_msg(compile_c_to_wasm(src, tpath("direct.wasm"), &log) == 0, "%s", log);
    free(log);
    mewe_module *m = load_fixture(fixture);
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("mewe.wasm")));
    const char *argv[] = {"7", NULL};
    const char *input = "the quick brown fox\njumps over the lazy dog\n";
    wasm_run_result direct, ours;
    run_ok(&direct, tpath("direct.wasm"), NULL, argv, input);
    run_ok(&ours, tpath("mewe.wasm"), NULL, argv, input);
    ck_assert_int_eq(ours.exit_code, direct.exit_code);
    ck_assert_str_eq(ours.out, direct.out);
    ck_assert_str_eq(ours.err, direct.err);
    ck_assert_uint_gt(ours.out_len, 0);
    wasm_run_result_free(&direct);
    wasm_run_result_free(&ours);
    /* And with no arguments and no input, exactly the recorded output. */
    char *expected = expected_output(fixture);
    run_ok(&ours, tpath("mewe.wasm"), NULL, NULL, NULL);
    ck_assert_int_eq(ours.exit_code, 0);
    ck_assert_str_eq(ours.out, expected);
    wasm_run_result_free(&ours);
    free(expected);
}

START_TEST(fixtures_run_like_clang)
{
    check_same_as_clang(c_fixtures[_i]);
}
END_TEST

/* Every variant index up to `last`, chosen by the host at every dispatch (a module linked
 * with rng "host"), prints the fixture's recorded output. */
static void every_choice_prints(const char *wasm, int last, const char *fixture)
{
    char *expected = expected_output(fixture);
    for (int k = 0; k <= last; k++) {
        char index[8];
        snprintf(index, sizeof index, "%d", k);
        const char *opts[] = {"--choose", index, NULL};
        wasm_run_result r;
        run_ok(&r, wasm, opts, NULL, NULL);
        ck_assert_msg(r.exit_code == 0 && strcmp(r.out, expected) == 0,
                      "%s, variant %d: exit %d, %s", fixture, k, r.exit_code, r.err);
        wasm_run_result_free(&r);
    }
    free(expected);
}

/* Variants made in wasm compute what their sources compute: the loops fixture's main (673
 * instructions) gets 6 of its 7 variants so, with locals renumbered and operands swapped in
 * its compiled code; every index, chosen by the host at every dispatch, prints the recorded
 * output, and so does a command stripped of its names (the stubs are filled in the objects,
 * before the link). */
START_TEST(wasm_derived_variants_run_like_their_sources)
{
    static const char *const strip[] = {"-s"};
    for (int stripped = 0; stripped < 2; stripped++) {
        mewe_module *m = load_fixture("loops.c");
        mewe_generate_options go = MEWE_GENERATE_OPTIONS_INIT;
        go.variants = 7;
        go.wasm_derived = 6;
        ck_assert_mewe_ok(mewe_generate_variants(m, &go));
        mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
        lo.rng = "host";
        ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
        mewe_emit_options eo = MEWE_EMIT_OPTIONS_INIT;
        eo.link_args = stripped ? strip : NULL;
        eo.link_arg_count = (size_t)stripped;
        ck_assert_mewe_ok(mewe_emit_wasm(m, &eo, tpath("derived.wasm")));
        size_t size;
        char *wasm = read_file(tpath("derived.wasm"), &size);
        ck_assert(has_name_section(wasm, size) == !stripped);
        if (!stripped) {
            char *json = NULL;
            ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, wasm, size));
            ck_assert_ptr_nonnull(
                strstr(json, "{\"name\": \"__main_argc_argv\", "
                             "\"variants\": 8, \"distinct_in_wasm\": 8, \"difference\": 0."));
            mewe_free(json);
        }
        free(wasm);
        every_choice_prints(tpath("derived.wasm"), 7, "loops.c");
        mewe_module_free(m);
    }
}
END_TEST

/* Dispatchers that hold their variants inline get those made in wasm spliced in (their
 * calls replaced by the filled bodies): every index, chosen by the host at every dispatch,
 * prints the recorded output, the output has no variant of theirs left as a function, and
 * the report counts them spliced. */
static const char *const spliced_fixtures[] = {"recursion.c", "globals.c", "chunks.c"};

START_TEST(spliced_variants_run_like_their_sources)
{
    const char *fixture = spliced_fixtures[_i];
    mewe_module *m = load_fixture(fixture);
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.rng = "host";
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("spliced.wasm")));
    size_t size;
    char *wasm = read_file(tpath("spliced.wasm"), &size);
    char *json = NULL;
    ck_assert_mewe_ok(mewe_report_json_wasm(&json, NULL, m, wasm, size));
    /* Each spliced family: all four bodies distinct, and no function of its left. */
    size_t spliced = 0;
    for (const char *e = strstr(json, "{\"name\": \""); e; e = strstr(e + 1, "{\"name\": \"")) {
        const char *end = strchr(e, '}');
        const char *mark = strstr(e, "\"spliced\": true}");
        if (!mark || mark > end)
            continue;
        spliced++;
        const char *name = e + 10;
        char variant[256];
        snprintf(variant, sizeof variant, "%.*s.mewe.v1", (int)(strchr(name, '"') - name), name);
        ck_assert_msg(memmem(wasm, size, variant, strlen(variant)) == NULL, "%s: %s is left",
                      fixture, variant);
        ck_assert_msg(strstr(e, "\"variants\": 4, \"distinct_in_wasm\": 4, ") < end, "%s: %.*s",
                      fixture, (int)(end - e), e);
    }
    ck_assert_msg(spliced > 0, "%s: nothing spliced: %s", fixture, json);
    mewe_free(json);
    free(wasm);
    every_choice_prints(tpath("spliced.wasm"), 3, fixture);
    mewe_module_free(m);
}
END_TEST

START_TEST(memory_output_equals_file_output)
{
    mewe_module *m = load_fixture("loops.c");
    void *data;
    size_t size;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&data, &size, m, NULL));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("f.wasm")));
    size_t fsize;
    char *file = read_file(tpath("f.wasm"), &fsize);
    ck_assert_uint_eq(size, fsize);
    ck_assert(memcmp(data, file, size) == 0);
    ck_assert(memcmp(data, "\0asm", 4) == 0);
    mewe_free(data);
    free(file);
}
END_TEST

static const char reactor_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define i32 @square(i32 %x) {\n  %r = mul i32 %x, %x\n  ret i32 %r\n}\n"
    "define i32 @hidden(i32 %x) {\n  ret i32 %x\n}\n";

START_TEST(reactor_exports_functions)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, reactor_ll, strlen(reactor_ll), "r"));
    const char *exports[] = {"square"};
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_REACTOR;
    o.exports = exports;
    o.export_count = 1;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("r.wasm")));
    const char *opts[] = {"--reactor", "--invoke", "square", NULL};
    const char *argv[] = {"12", NULL};
    wasm_run_result r;
    run_ok(&r, tpath("r.wasm"), opts, argv, NULL);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, "144\n");
    wasm_run_result_free(&r);
    /* Not exported: the runner cannot find it. */
    const char *opts2[] = {"--reactor", "--invoke", "hidden", NULL};
    run_ok(&r, tpath("r.wasm"), opts2, argv, NULL);
    ck_assert_int_ne(r.exit_code, 0);
    wasm_run_result_free(&r);
}
END_TEST

/* Links an object the way another toolchain would, with wasm-ld and wasi-libc. */
static void link_object_by_hand(const char *obj, const char *out)
{
    const char *ld, *sysroot, *builtins;
    ck_assert_mewe_ok(mewe_context_get_tool_path(&ld, tctx, MEWE_TOOL_WASM_LD));
    ck_assert_mewe_ok(mewe_context_get_tool_path(&sysroot, tctx, MEWE_TOOL_WASI_SYSROOT));
    ck_assert_mewe_ok(mewe_context_get_tool_path(&builtins, tctx, MEWE_TOOL_BUILTINS));
    char libdir[4096], crt1[4096];
    snprintf(libdir, sizeof libdir, "-L%s/lib/wasm32-wasi", sysroot);
    snprintf(crt1, sizeof crt1, "%s/lib/wasm32-wasi/crt1-command.o", sysroot);
    const char *argv[] = {ld, "-m", "wasm32", libdir, crt1, obj, "-lc", builtins, "-o", out, NULL};
    wasm_run_result r;
    ck_assert_int_eq(host_run(&r, argv, NULL, 0), 0);
    ck_assert_msg(r.exit_code == 0, "wasm-ld: %s%s", r.out, r.err);
    wasm_run_result_free(&r);
}

START_TEST(object_links_elsewhere)
{
    mewe_module *m = load_fixture("recursion.c");
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("r.o")));
    size_t n;
    char *obj = read_file(tpath("r.o"), &n);
    ck_assert(n > 8 && memcmp(obj, "\0asm", 4) == 0);
    /* A relocatable object carries a "linking" custom section. */
    ck_assert(memmem(obj, n, "linking", 7) != NULL);
    free(obj);
    link_object_by_hand(tpath("r.o"), tpath("r.wasm"));
    wasm_run_result r;
    run_ok(&r, tpath("r.wasm"), NULL, NULL, NULL);
    char *expected = expected_output("recursion.c");
    ck_assert_str_eq(r.out, expected);
    free(expected);
    wasm_run_result_free(&r);
}
END_TEST

START_TEST(object_marks_exports)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, reactor_ll, strlen(reactor_ll), "r"));
    const char *exports[] = {"square"};
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_OBJECT;
    o.exports = exports;
    o.export_count = 1;
    void *data;
    size_t size;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&data, &size, m, &o));
    /* The export name is recorded in the object for the final linker. */
    ck_assert(memmem(data, size, "square", 6) != NULL);
    mewe_free(data);
    const char *missing[] = {"nope"};
    o.exports = missing;
    ck_assert_mewe_fails(mewe_emit_wasm_memory(&data, &size, m, &o), MEWE_ENOTFOUND, "nope");
}
END_TEST

START_TEST(rust_fixture_object_links_and_runs)
{
    mewe_module *m = load_fixture("rust/hello.rs");
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("hello.o")));
    link_object_by_hand(tpath("hello.o"), tpath("hello.wasm"));
    wasm_run_result r;
    run_ok(&r, tpath("hello.wasm"), NULL, NULL, NULL);
    char *expected = expected_output("rust/hello.rs");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, expected);
    free(expected);
    wasm_run_result_free(&r);
    /* And linked by libmewe itself. */
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("hello2.wasm")));
    run_ok(&r, tpath("hello2.wasm"), NULL, NULL, NULL);
    ck_assert_int_eq(r.exit_code, 0);
    wasm_run_result_free(&r);
}
END_TEST

START_TEST(link_args_reach_wasm_ld)
{
    mewe_module *m = load_fixture("loops.c");
    const char *args[] = {"-z", "stack-size=1048576"};
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.link_args = args;
    o.link_arg_count = 2;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("big-stack.wasm")));
    const char *lib[] = {"-lwasi-emulated-signal"};
    o.link_args = lib;
    o.link_arg_count = 1;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("with-lib.wasm")));
    const char *bad[] = {"--no-such-wasm-ld-flag"};
    o.link_args = bad;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("bad.wasm")), MEWE_ELINK,
                         "no-such-wasm-ld-flag");
    ck_assert(!file_exists(tpath("bad.wasm")));
}
END_TEST

/* Emitting module text `ll` fails to link, its message naming `symbol` and `also`, and
 * leaves no output. */
static void link_fails_naming(const char *ll, const char *name, const char *symbol,
                              const char *also)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), name));
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, tpath("u.wasm")), MEWE_ELINK, symbol);
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), also));
    ck_assert(!file_exists(tpath("u.wasm")));
}

START_TEST(undefined_symbol_is_named)
{
    const char ll[] = "target triple = \"wasm32-unknown-wasi\"\n"
                      "declare i32 @not_defined_anywhere()\n"
                      "define i32 @main() {\n  %r = call i32 @not_defined_anywhere()\n"
                      "  ret i32 %r\n}\n";
    link_fails_naming(ll, "undef.ll", "undefined symbol: not_defined_anywhere", "undef.ll");
    /* setjmp and longjmp have a known cause, which the message gives. */
    const char sj[] = "target triple = \"wasm32-unknown-wasi\"\n"
                      "@buf = global [64 x i32] zeroinitializer\n"
                      "declare i32 @setjmp(ptr) returns_twice\n"
                      "define i32 @main() {\n  %r = call i32 @setjmp(ptr @buf)\n"
                      "  ret i32 %r\n}\n";
    link_fails_naming(sj, "sj.ll", "undefined symbol: setjmp",
                      "setjmp and longjmp are not supported");
}
END_TEST

START_TEST(missing_wasm_ld)
{
    mewe_module *m = load_fixture("loops.c");
    write_file(tpath("keep.wasm"), "old", 3);
    ck_assert_mewe_ok(
        mewe_context_set_tool_path(tctx, MEWE_TOOL_WASM_LD, tpath("no-wasm-ld-here")));
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, tpath("keep.wasm")), MEWE_ETOOL,
                         "no-wasm-ld-here");
    size_t n;
    char *kept = read_file(tpath("keep.wasm"), &n);
    ck_assert_uint_eq(n, 3); /* the old file is untouched */
    free(kept);
    /* Objects need no linker. */
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("x.o")));
}
END_TEST

START_TEST(unwritable_output)
{
    mewe_module *m = load_fixture("loops.c");
    int before = dir_entries(tdir);
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, tpath("missing-dir/x.wasm")), MEWE_EIO,
                         "missing-dir/x.wasm");
    ck_assert_int_eq(dir_entries(tdir), before); /* no temporary left behind */
}
END_TEST

START_TEST(other_targets_are_refused)
{
    const char ll[] = "target datalayout = \"e-m:e-i64:64-f80:128-n8:16:32:64-S128\"\n"
                      "target triple = \"x86_64-pc-linux-gnu\"\n"
                      "define i32 @main() {\n  ret i32 0\n}\n";
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), "x86.ll"));
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, tpath("x.wasm")), MEWE_ETARGET,
                         "x86_64-pc-linux-gnu");
    ck_assert(!file_exists(tpath("x.wasm")));
}
END_TEST

START_TEST(target_checked_before_any_work)
{
    static const char body[] = "define i32 @main() {\n  ret i32 0\n}\n";
    static const struct {
        const char *layout, *triple, *needle;
    } cases[] = {
        {"", "wasm32-unknown-wasi", NULL},
        {"e-m:e-p:32:32-p10:8:8-p20:8:8-i64:64-n32:64-S128-ni:1:10:20", "wasm32-unknown-wasi",
         NULL},
        {"", "", NULL},
        {"e-m:e-i64:64-f80:128-n8:16:32:64-S128", "x86_64-pc-linux-gnu", "x86_64-pc-linux-gnu"},
        {"e-m:e-i64:64-f80:128-n8:16:32:64-S128", "wasm32-unknown-wasi", "data layout"},
        {"e-m:e-i64:64-f80:128-n8:16:32:64-S128", "", "data layout"},
        {"e-m:e-p:64:64-i64:64-n32:64-S128", "wasm64-unknown-unknown", "wasm64"},
    };
    ck_assert_int_eq(mewe_module_check_target(NULL), MEWE_EINVAL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ll[512], name[32];
        snprintf(ll, sizeof ll, "%s%s%s%s%s%s%s",
                 cases[i].layout[0] ? "target datalayout = \"" : "", cases[i].layout,
                 cases[i].layout[0] ? "\"\n" : "", cases[i].triple[0] ? "target triple = \"" : "",
                 cases[i].triple, cases[i].triple[0] ? "\"\n" : "", body);
        snprintf(name, sizeof name, "case%zu.ll", i);
        mewe_module *m;
        ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), name));
        if (!cases[i].needle) {
            ck_assert_mewe_ok(mewe_module_check_target(m));
        } else {
            ck_assert_mewe_fails(mewe_module_check_target(m), MEWE_ETARGET, cases[i].needle);
            ck_assert_mewe_fails(mewe_module_check_target(m), MEWE_ETARGET, name);
            /* What the check refuses, emitting refuses too. */
            ck_assert_int_eq(mewe_emit_wasm(m, NULL, tpath("x.wasm")), MEWE_ETARGET);
        }
        mewe_module_free(m);
    }
}
END_TEST

START_TEST(no_triple_is_retargeted)
{
    const char ll[] = "define i32 @main() {\n  ret i32 5\n}\n";
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), "bare.ll"));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("bare.wasm")));
    wasm_run_result r;
    run_ok(&r, tpath("bare.wasm"), NULL, NULL, NULL);
    ck_assert_int_eq(r.exit_code, 5);
    wasm_run_result_free(&r);
    /* The module itself keeps its empty triple. */
    ck_assert_str_eq(LLVMGetTarget(mewe_module_get_llvm(m)), "");
}
END_TEST

START_TEST(emit_leaves_module_unchanged)
{
    mewe_module *m = load_fixture("structs.c");
    void *before, *after;
    size_t n0, n1;
    ck_assert_mewe_ok(mewe_module_write_memory(&before, &n0, m, MEWE_FORMAT_TEXT));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("s.wasm")));
    ck_assert_mewe_ok(mewe_module_write_memory(&after, &n1, m, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(before, after);
    mewe_free(before);
    mewe_free(after);
}
END_TEST

START_TEST(bad_options)
{
    mewe_module *m = load_fixture("loops.c");
    mewe_emit_options o;
    ck_assert_int_eq(mewe_emit_options_init(&o, 99), MEWE_EVERSION);
    ck_assert_int_eq(mewe_emit_options_init(NULL, MEWE_EMIT_OPTIONS_VERSION), MEWE_EINVAL);
    ck_assert_mewe_ok(mewe_emit_options_init(&o, MEWE_EMIT_OPTIONS_VERSION));
    ck_assert_int_eq(o.kind, MEWE_EMIT_COMMAND);
    ck_assert_int_eq(o.opt_level, 2);
    o.version = 77;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("x.wasm")), MEWE_EVERSION, "version 77");
    o.version = MEWE_EMIT_OPTIONS_VERSION;
    o.opt_level = 4;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("x.wasm")), MEWE_EINVAL, "opt_level");
    o.opt_level = 0;
    o.kind = (mewe_emit_kind)3;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("x.wasm")), MEWE_EINVAL, "kind");
    o.kind = MEWE_EMIT_COMMAND;
    o.export_count = 2;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("x.wasm")), MEWE_EINVAL, "exports");
    const char *holes[] = {"main", NULL};
    o.exports = holes;
    ck_assert_mewe_fails(mewe_emit_wasm(m, &o, tpath("x.wasm")), MEWE_EINVAL, "entry 1");
    ck_assert(!file_exists(tpath("x.wasm")));
    ck_assert_int_eq(mewe_emit_wasm(NULL, NULL, "x"), MEWE_EINVAL);
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, NULL), MEWE_EINVAL, "path is NULL");
    void *d;
    size_t n;
    ck_assert_mewe_fails(mewe_emit_wasm_memory(NULL, &n, m, NULL), MEWE_EINVAL, "NULL output");
    ck_assert_int_eq(mewe_emit_wasm_memory(&d, &n, NULL, NULL), MEWE_EINVAL);
}
END_TEST

START_TEST(opt_levels_all_work)
{
    mewe_module *m = load_fixture("fnptr.c");
    char *expected = expected_output("fnptr.c");
    for (int level = 0; level <= 3; level++) {
        mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
        o.opt_level = level;
        ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("o.wasm")));
        wasm_run_result r;
        run_ok(&r, tpath("o.wasm"), NULL, NULL, NULL);
        ck_assert_str_eq(r.out, expected);
        wasm_run_result_free(&r);
    }
    free(expected);
}
END_TEST

/* A caller's options struct is read only as far as its version reaches (a struct that ends
 * where an inaccessible page begins), for emitting and, through the same pipeline, linking. */
START_TEST(options_are_read_within_their_version)
{
    static const size_t emit_sizes[] = {0, offsetof(mewe_emit_options, threads),
                                        sizeof(mewe_emit_options)};
    _Static_assert(sizeof emit_sizes / sizeof *emit_sizes == MEWE_EMIT_OPTIONS_VERSION + 1,
                   "a size for every version");
    static const size_t link_sizes[] = {0, offsetof(mewe_link_options, max_overhead),
                                        sizeof(mewe_link_options)};
    _Static_assert(sizeof link_sizes / sizeof *link_sizes == MEWE_LINK_OPTIONS_VERSION + 1,
                   "a size for every version");
    char *expected = expected_output("fnptr.c");
    for (unsigned v = 1; v <= MEWE_LINK_OPTIONS_VERSION; v++) {
        mewe_module *m = load_fixture("fnptr.c");
        ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
        mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
        mewe_link_options *l = guarded_copy(&lo, link_sizes[v]);
        ck_assert_mewe_ok(mewe_link_options_init(l, v));
        ck_assert_mewe_ok(mewe_link_multivariant(m, l));
        guarded_free(l, link_sizes[v]);
        unsigned ev = v < MEWE_EMIT_OPTIONS_VERSION ? v : MEWE_EMIT_OPTIONS_VERSION;
        mewe_emit_options eo = MEWE_EMIT_OPTIONS_INIT;
        mewe_emit_options *e = guarded_copy(&eo, emit_sizes[ev]);
        ck_assert_mewe_ok(mewe_emit_options_init(e, ev));
        ck_assert_int_eq(e->opt_level, 2);
        ck_assert_mewe_ok(mewe_emit_wasm(m, e, tpath("v.wasm")));
        e->version = MEWE_EMIT_OPTIONS_VERSION + 1;
        ck_assert_mewe_fails(mewe_emit_wasm(m, e, tpath("w.wasm")), MEWE_EVERSION, "knows 1 to");
        e->version = 0;
        ck_assert_mewe_fails(mewe_emit_wasm(m, e, tpath("w.wasm")), MEWE_EVERSION, "version 0");
        guarded_free(e, emit_sizes[ev]);
        wasm_run_result r;
        run_ok(&r, tpath("v.wasm"), NULL, NULL, NULL);
        ck_assert_str_eq(r.out, expected);
        wasm_run_result_free(&r);
        mewe_module_free(m);
    }
    free(expected);
    mewe_emit_options e;
    ck_assert_int_eq(mewe_emit_options_init(&e, 0), MEWE_EVERSION);
    ck_assert_int_eq(mewe_emit_options_init(&e, MEWE_EMIT_OPTIONS_VERSION + 1), MEWE_EVERSION);
}
END_TEST

static char *report_text(const mewe_module *m, const void *wasm, size_t size)
{
    char *json;
    size_t len;
    ck_assert_mewe_ok(mewe_report_json_wasm(&json, &len, m, wasm, size));
    ck_assert_uint_eq(len, strlen(json));
    return json;
}

/* The report is read from the module, never stored in it: emitting changes nothing it says,
 * and what the wasm preserved comes only from the wasm passed in. */
START_TEST(report_reads_the_module_and_the_wasm_given)
{
    mewe_module *m = load_fixture("recursion.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 1; /* variants as functions: each has its own body in the wasm */
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    char *before = report_text(m, NULL, 0);
    ck_assert_ptr_null(strstr(before, "\"wasm\""));
    void *wasm;
    size_t size;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &size, m, NULL));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("r.wasm")));
    char *after;
    ck_assert_mewe_ok(mewe_report_json(&after, NULL, m));
    ck_assert_str_eq(after, before);
    char *with = report_text(m, wasm, size);
    ck_assert_uint_eq(strncmp(with, before, strlen(before) - 3), 0); /* the same, then more */
    char bytes[64];
    snprintf(bytes, sizeof bytes, "\"wasm\": {\"bytes\": %zu", size);
    ck_assert_msg(strstr(with, bytes) != NULL, "no '%s' in %s", bytes, with);
    ck_assert_ptr_nonnull(strstr(with, "\"distinct_in_wasm\""));
    ck_assert_ptr_nonnull(strstr(with, "{\"name\": \"fib\", \"variants\": "));
    /* Every dispatcher calls its variants here: their bodies and libmewe's helpers are the
     * dispatch machinery, a share of the code section well below the variants' own. */
    const char *share = strstr(with, "\"dispatch_share\": ");
    ck_assert_ptr_nonnull(share);
    double d = strtod(share + strlen("\"dispatch_share\": "), NULL);
    ck_assert_msg(d > 0.0 && d < 0.5, "dispatch share %g", d);
    /* The file form says the same. */
    ck_assert_mewe_ok(mewe_report_write_wasm(m, wasm, size, tpath("r.json")));
    char *file = read_file(tpath("r.json"), NULL);
    ck_assert_str_eq(file, with);
    ck_assert_mewe_ok(mewe_report_write(m, tpath("plain.json")));
    char *plain = read_file(tpath("plain.json"), NULL);
    ck_assert_str_eq(plain, before);
    /* What is not wasm is refused, and so is a size without bytes. */
    char *json = NULL;
    ck_assert_mewe_fails(mewe_report_json_wasm(&json, NULL, m, "not wasm", 8), MEWE_EPARSE,
                         "not a well-formed WebAssembly module");
    ck_assert_ptr_null(json);
    ck_assert_mewe_fails(mewe_report_json_wasm(&json, NULL, m, wasm, size / 2), MEWE_EPARSE,
                         "not a well-formed");
    ck_assert_mewe_fails(mewe_report_json_wasm(&json, NULL, m, NULL, 3), MEWE_EINVAL,
                         "wasm is NULL");
    ck_assert_mewe_fails(mewe_report_write_wasm(m, "x", 1, tpath("bad.json")), MEWE_EPARSE,
                         "not a well-formed");
    ck_assert(!file_exists(tpath("bad.json")));
    ck_assert_int_eq(mewe_report_json_wasm(&json, NULL, NULL, wasm, size), MEWE_EINVAL);
    ck_assert_mewe_fails(mewe_report_json_wasm(NULL, NULL, m, wasm, size), MEWE_EINVAL,
                         "out_json is NULL");
    free(before);
    free(after);
    free(with);
    free(file);
    free(plain);
    mewe_free(wasm);
}
END_TEST

/* Per-file builds: two translation units emitted as multivariant objects on their own,
 * linked into one program that runs, with one report; other settings and other libmewe
 * versions are refused, naming the object. The units load from tables that another unit
 * may change, so that the optimizer cannot fold their loops into closed forms that every
 * variant would compile to (such functions keep no variant). */
static const char unit_a[] = "#include <stdio.h>\n"
                             "int twice(int);\n"
                             "int one[4] = {1, 1, 1, 1};\n"
                             "static int sq(int x) { int r = one[x & 3];"
                             " for (int k = 0; k < x; k++) r += x * one[k & 3]; return r; }\n"
                             "int main(void) { for (int i = 0; i < 4; i++)\n"
                             "  printf(\"%d %d\\n\", sq(i), twice(i)); return 0; }\n";
static const char unit_b[] = "int steps[8] = {2, 2, 2, 2, 2, 2, 2, 2};\n"
                             "int twice(int x) { int y = 0;"
                             " for (int i = 0; i < x; i++) y += steps[i & 7]; return y; }\n";

static const char *unit_object(const char *name, const char *text, mewe_granularity g)
{
    char src[64], bc[64], obj[64];
    snprintf(src, sizeof src, "%s.c", name);
    snprintf(bc, sizeof bc, "%s.bc", name);
    snprintf(obj, sizeof obj, "%s.o", name);
    write_file(tpath(src), text, strlen(text));
    char *log = NULL;
    ck_assert_msg(compile_c_to_bc(tpath(src), tpath(bc), &log) == 0, "%s", log ? log : "");
    free(log);
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath(bc)));
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.granularity = g;
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    mewe_emit_options eo = MEWE_EMIT_OPTIONS_INIT;
    eo.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &eo, tpath(obj)));
    mewe_module_free(m);
    return tpath(obj);
}

/* A dispatcher that nothing calls is dropped by wasm-ld with its variants, as a library's
 * unused functions are in a command: the report says which, and counts only the others as
 * in the output. An object keeps every function. */
static const char unit_unused[] = "#include <stdio.h>\n"
                                  "int one[4] = {1, 1, 1, 1};\n"
                                  "__attribute__((noinline)) int sq(int x) {"
                                  " int r = one[x & 3];"
                                  " for (int k = 0; k < x; k++) r += x * one[k & 3]; return r; }\n"
                                  "__attribute__((noinline)) int unused(int x) {"
                                  " int r = one[(x + 1) & 3];"
                                  " for (int k = 1; k < x; k++) r ^= x * one[k & 3]; return r; }\n"
                                  "int main(void) { for (int i = 0; i < 4; i++)\n"
                                  "  printf(\"%d\\n\", sq(i)); return 0; }\n";

static double json_after(const char *from, const char *key)
{
    const char *p = strstr(from, key);
    ck_assert_msg(p != NULL, "no %s in %s", key, from);
    return strtod(p + strlen(key), NULL);
}

START_TEST(report_counts_what_the_link_kept)
{
    write_file(tpath("u.c"), unit_unused, strlen(unit_unused));
    char *log = NULL;
    ck_assert_msg(compile_c_to_bc(tpath("u.c"), tpath("u.bc"), &log) == 0, "%s", log ? log : "");
    free(log);
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath("u.bc")));
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    void *wasm;
    size_t size;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &size, m, NULL));
    char *json = report_text(m, wasm, size);
    const char *unused = strstr(json, "{\"name\": \"unused\"");
    const char *sq = strstr(json, "{\"name\": \"sq\"");
    ck_assert_ptr_nonnull(unused);
    ck_assert_ptr_nonnull(sq);
    const char *dropped = strstr(unused, "\"in_output\": false");
    ck_assert_msg(dropped && dropped < strchr(unused, '}'), "unused is not dropped: %s", unused);
    const char *sq_end = strchr(sq, '}');
    const char *sq_out = strstr(sq, "\"in_output\"");
    ck_assert_msg(!sq_out || sq_out > sq_end, "sq is called: %.*s", (int)(sq_end - sq), sq);
    double unused_variants = json_after(unused, "\"variants\": ");
    ck_assert_double_gt(unused_variants, 0);
    const char *totals = strstr(json, "\"totals\": {");
    const char *w = strstr(json, "\"wasm\": {");
    ck_assert_ptr_nonnull(totals);
    ck_assert_ptr_nonnull(w);
    ck_assert_double_eq(json_after(w, "\"dispatchers_in_output\": "),
                        json_after(totals, "\"dispatchers\": ") - 1);
    ck_assert_double_eq(json_after(w, "\"variants_in_output\": "),
                        json_after(totals, "\"variants\": ") - unused_variants);
    free(json);
    mewe_free(wasm);
    /* An object keeps every function: all are in it. */
    mewe_emit_options eo = MEWE_EMIT_OPTIONS_INIT;
    eo.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &size, m, &eo));
    json = report_text(m, wasm, size);
    ck_assert_ptr_null(strstr(json, "\"in_output\""));
    totals = strstr(json, "\"totals\": {");
    w = strstr(json, "\"wasm\": {");
    ck_assert_double_eq(json_after(w, "\"variants_in_output\": "),
                        json_after(totals, "\"variants\": "));
    free(json);
    mewe_free(wasm);
    mewe_module_free(m);
}
END_TEST

/* Functions the link drops are left out of diversification when the caller says which
 * output the module is for: they keep no variants and say why, the program runs as before;
 * an object keeps every function, and an export keeps the function it names. */
/* The report entry of one function, as text up to its closing brace. */
static char *entry_text(const char *json, const char *fn)
{
    char key[128];
    snprintf(key, sizeof key, "{\"name\": \"%s\"", fn);
    const char *p = strstr(json, key);
    ck_assert_msg(p != NULL, "no entry for %s in %s", fn, json);
    const char *end = strchr(p, '}');
    ck_assert_ptr_nonnull(end);
    char *out = malloc((size_t)(end - p) + 2);
    ck_assert_ptr_nonnull(out);
    memcpy(out, p, (size_t)(end - p) + 1);
    out[end - p + 1] = '\0';
    return out;
}

static mewe_module *load_unused(void)
{
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath("u.bc")));
    return m;
}

START_TEST(unlinked_functions_are_left_out)
{
    write_file(tpath("u.c"), unit_unused, strlen(unit_unused));
    char *log = NULL;
    ck_assert_msg(compile_c_to_bc(tpath("u.c"), tpath("u.bc"), &log) == 0, "%s", log ? log : "");
    free(log);
    mewe_module *m = load_unused();
    size_t n = 99;
    ck_assert_mewe_ok(mewe_module_exclude_unlinked(m, NULL, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("u.wasm")));
    void *wasm;
    size_t size;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &size, m, NULL));
    char *json = report_text(m, wasm, size);
    mewe_free(wasm);
    char *unused = entry_text(json, "unused");
    ck_assert_ptr_nonnull(strstr(unused, "\"reason\": \"dropped by the link\""));
    ck_assert_ptr_nonnull(strstr(unused, "\"eligible\": false"));
    free(unused);
    char *sq = entry_text(json, "sq");
    ck_assert_ptr_nonnull(strstr(sq, "\"status\": \"diversified\""));
    free(sq);
    ck_assert_ptr_null(strstr(json, "\"in_output\": false"));
    free(json);
    wasm_run_result r;
    run_ok(&r, tpath("u.wasm"), NULL, NULL, NULL);
    ck_assert_str_eq(r.out, "1\n2\n5\n10\n");
    wasm_run_result_free(&r);
    /* Marked once: a second call finds nothing more. */
    ck_assert_mewe_ok(mewe_module_exclude_unlinked(m, NULL, &n));
    ck_assert_uint_eq(n, 0);
    mewe_module_free(m);

    /* An object keeps every function. */
    m = load_unused();
    mewe_emit_options eo = MEWE_EMIT_OPTIONS_INIT;
    eo.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_ok(mewe_module_exclude_unlinked(m, &eo, &n));
    ck_assert_uint_eq(n, 0);
    /* A reactor keeps what it exports. */
    const char *exports[] = {"unused"};
    eo.kind = MEWE_EMIT_REACTOR;
    eo.exports = exports;
    eo.export_count = 1;
    ck_assert_mewe_ok(mewe_module_exclude_unlinked(m, &eo, &n));
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    char *plain;
    ck_assert_mewe_ok(mewe_report_json(&plain, NULL, m));
    unused = entry_text(plain, "unused");
    ck_assert_ptr_nonnull(strstr(unused, "\"status\": \"diversified\""));
    free(unused);
    mewe_free(plain);
    /* Bad options: refused, nothing marked. */
    eo.kind = (mewe_emit_kind)7;
    ck_assert_mewe_fails(mewe_module_exclude_unlinked(m, &eo, &n), MEWE_EINVAL, "kind");
    ck_assert_int_eq(mewe_module_exclude_unlinked(NULL, NULL, &n), MEWE_EINVAL);
    mewe_module_free(m);
}
END_TEST

/* The cases of mewe_module_exclude_unlinked that real builds bring: debug info, a stripped
 * output, K&R calls and aliases. The modules are IR text, so that what calls what, and
 * through which type, is exactly what the test says. Each test asserts which functions are
 * marked and which are not, and that the search did not give up with a warning (it then
 * leaves nothing out, which is safe but is the regression these tests look for). */
typedef struct warnings {
    char text[2048];
    int count;
} warnings;

static void record_warning(mewe_log_level level, const char *message, void *user_data)
{
    warnings *w = user_data;
    if (level > MEWE_LOG_WARN)
        return;
    w->count++;
    size_t used = strlen(w->text);
    snprintf(w->text + used, sizeof w->text - used, "%s\n", message);
}

/* Leaves out what the link with `opts` drops, and asserts that `expected` functions were
 * marked without a warning and that the module still verifies. */
static void exclude_expecting(mewe_module *m, const mewe_emit_options *opts, size_t expected)
{
    warnings w = {"", 0};
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, record_warning, MEWE_LOG_WARN, &w));
    size_t n = 99;
    int rc = mewe_module_exclude_unlinked(m, opts, &n);
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, NULL, MEWE_LOG_ERROR, NULL));
    ck_assert_mewe_ok(rc);
    ck_assert_msg(w.count == 0, "mewe_module_exclude_unlinked warned: %s", w.text);
    ck_assert_uint_eq(n, expected);
    ck_assert_mewe_ok(mewe_module_verify(m));
}

static mewe_module *load_ll(const char *ll, const char *name)
{
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, ll, strlen(ll), name));
    return m;
}

/* Whether the report gives fn the reason "dropped by the link". */
static bool left_out(const mewe_module *m, const char *fn)
{
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    char *entry = entry_text(json, fn);
    bool out = strstr(entry, "\"reason\": \"dropped by the link\"") != NULL;
    free(entry);
    mewe_free(json);
    return out;
}

/* Every function of `dropped` is left out, none of `kept` is; both lists end with NULL. */
static void assert_marks(const mewe_module *m, const char *const *dropped, const char *const *kept)
{
    for (size_t i = 0; dropped[i]; i++)
        ck_assert_msg(left_out(m, dropped[i]), "%s is not left out", dropped[i]);
    for (size_t i = 0; kept[i]; i++)
        ck_assert_msg(!left_out(m, kept[i]), "%s is left out, yet the program calls it", kept[i]);
}

/* Diversifies what is left, emits with `opts`, runs, and checks main's exit code. */
static void assert_runs_with_exit(mewe_module *m, const mewe_emit_options *opts, int exit_code)
{
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    ck_assert_mewe_ok(mewe_emit_wasm(m, opts, tpath("x.wasm")));
    wasm_run_result r;
    run_ok(&r, tpath("x.wasm"), NULL, NULL, NULL);
    ck_assert_msg(r.exit_code == exit_code, "exit %d, expected %d: %s", r.exit_code, exit_code,
                  r.err);
    wasm_run_result_free(&r);
}

/* As clang -g makes it: every call has a location, which the verifier requires of a call
 * to a function with debug info from a function with debug info. The skeleton's calls have
 * none: unless it drops the debug info it does not verify, and nothing is left out. Both
 * dead functions go, the static one although the external one calls it. */
static const char dbg_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@one = global [4 x i32] [i32 1, i32 2, i32 3, i32 4]\n"
    "declare void @llvm.dbg.value(metadata, metadata, metadata)\n"
    "define i32 @sq(i32 %x) !dbg !10 {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 %x, !dbg !11\n"
    "  %v = load i32, ptr %p, !dbg !11\n"
    "  %m = mul i32 %x, %v, !dbg !11\n"
    "  %r = add i32 %m, %x, !dbg !11\n"
    "  call void @llvm.dbg.value(metadata i32 %r, metadata !12, metadata !DIExpression()), "
    "!dbg !11\n"
    "  ret i32 %r, !dbg !11\n}\n"
    "define internal i32 @dead_static(i32 %x) !dbg !20 {\n"
    "  %r = add i32 %x, 1, !dbg !21\n  ret i32 %r, !dbg !21\n}\n"
    "define i32 @dead_extern(i32 %x) !dbg !30 {\n"
    "  %r = call i32 @dead_static(i32 %x), !dbg !31\n  ret i32 %r, !dbg !31\n}\n"
    "define i32 @main() !dbg !40 {\n"
    "  %r = call i32 @sq(i32 3), !dbg !41\n  ret i32 %r, !dbg !41\n}\n"
    "!llvm.dbg.cu = !{!0}\n"
    "!llvm.module.flags = !{!2, !3}\n"
    "!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: \"test\", "
    "isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug)\n"
    "!1 = !DIFile(filename: \"dbg.c\", directory: \"/tmp\")\n"
    "!2 = !{i32 7, !\"Dwarf Version\", i32 5}\n"
    "!3 = !{i32 2, !\"Debug Info Version\", i32 3}\n"
    "!4 = !DIBasicType(name: \"int\", size: 32, encoding: DW_ATE_signed)\n"
    "!5 = !DISubroutineType(types: !{!4, !4})\n"
    "!10 = distinct !DISubprogram(name: \"sq\", scope: !1, file: !1, line: 1, type: !5, "
    "scopeLine: 1, spFlags: DISPFlagDefinition, unit: !0)\n"
    "!11 = !DILocation(line: 1, column: 20, scope: !10)\n"
    "!12 = !DILocalVariable(name: \"r\", scope: !10, file: !1, line: 1, type: !4)\n"
    "!20 = distinct !DISubprogram(name: \"dead_static\", scope: !1, file: !1, line: 2, "
    "type: !5, scopeLine: 2, spFlags: DISPFlagLocalToUnit | DISPFlagDefinition, unit: !0)\n"
    "!21 = !DILocation(line: 2, column: 20, scope: !20)\n"
    "!30 = distinct !DISubprogram(name: \"dead_extern\", scope: !1, file: !1, line: 3, "
    "type: !5, scopeLine: 3, spFlags: DISPFlagDefinition, unit: !0)\n"
    "!31 = !DILocation(line: 3, column: 20, scope: !30)\n"
    "!40 = distinct !DISubprogram(name: \"main\", scope: !1, file: !1, line: 4, type: !5, "
    "scopeLine: 4, spFlags: DISPFlagDefinition, unit: !0)\n"
    "!41 = !DILocation(line: 4, column: 20, scope: !40)\n";

START_TEST(unlinked_with_debug_info)
{
    mewe_module *m = load_ll(dbg_ll, "dbg.ll");
    exclude_expecting(m, NULL, 2);
    const char *dropped[] = {"dead_static", "dead_extern", NULL};
    const char *kept[] = {"sq", "main", NULL};
    assert_marks(m, dropped, kept);
    /* The module keeps its debug info (only the skeleton loses it), builds and runs. */
    ck_assert_uint_eq(LLVMGetNamedMetadataNumOperands(mewe_module_get_llvm(m), "llvm.dbg.cu"), 1);
    assert_runs_with_exit(m, NULL, 3 * 4 + 3);
    assert_marks(m, dropped, kept);
    mewe_module_free(m);
}
END_TEST

static const char strip_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@one = global [4 x i32] [i32 1, i32 2, i32 3, i32 4]\n"
    "define i32 @sq(i32 %x) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 %x\n"
    "  %v = load i32, ptr %p\n  %m = mul i32 %x, %v\n  %r = add i32 %m, %x\n  ret i32 %r\n}\n"
    "define i32 @unused(i32 %x) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 %x\n"
    "  %v = load i32, ptr %p\n  %r = sub i32 %v, %x\n  ret i32 %r\n}\n"
    "define i32 @main() {\n  %r = call i32 @sq(i32 2)\n  ret i32 %r\n}\n";

/* A stripped output has no name section, from which the search reads what the link kept:
 * the skeleton's link leaves -s and --strip-all out, wherever they stand among the user's
 * arguments, while the output itself is still stripped as asked. */
static bool has_name_section(const void *wasm, size_t size)
{
    return memmem(wasm, size, "\x04name", 5) != NULL;
}

START_TEST(unlinked_with_strip_link_args)
{
    static const char *const cases[][3] = {
        {"-s", NULL, NULL},
        {"--strip-all", NULL, NULL},
        {"-z", "stack-size=1048576", "-s"},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    for (size_t i = 0; i < N; i++) {
        size_t count = 0;
        while (count < 3 && cases[i][count])
            count++;
        mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
        o.link_args = cases[i];
        o.link_arg_count = count;
        mewe_module *m = load_ll(strip_ll, "strip.ll");
        exclude_expecting(m, &o, 1);
        assert_marks(m, (const char *[]){"unused", NULL}, (const char *[]){"sq", "main", NULL});
        if (i == N - 1) {
            assert_runs_with_exit(m, &o, 2 * 3 + 2);
            size_t size;
            char *wasm = read_file(tpath("x.wasm"), &size);
            ck_assert_ptr_nonnull(wasm);
            ck_assert_msg(!has_name_section(wasm, size), "the output is not stripped");
            free(wasm);
            /* Not stripped, it has one: the check above can fail. */
            void *plain;
            ck_assert_mewe_ok(mewe_emit_wasm_memory(&plain, &size, m, NULL));
            ck_assert(has_name_section(plain, size));
            mewe_free(plain);
        }
        mewe_module_free(m);
    }
}
END_TEST

/* Two translation units, linked as a program's bitcode files are: the caller's declares f
 * and g without a prototype (`int f();`) and calls f(20, 22) and g(7, 8), while g takes one
 * argument where it is defined, so that main calls g through a type of its own (the backend
 * calls it through a wrapper); llabs, from wasi-libc, is declared the same way. The
 * skeleton must call each function as the program does: called through its declared type,
 * (...), llabs would be an import of another signature than wasi-libc's, which wasm-ld
 * only warns about; --fatal-warnings makes that a failed link. Only the function that
 * nothing calls is left out. */
static const char kr_main_ll[] = "target triple = \"wasm32-unknown-wasi\"\n"
                                 "declare i32 @f(...) #0\n"
                                 "declare i32 @g(...) #0\n"
                                 "declare i64 @llabs(...) #0\n"
                                 "define i32 @main() {\n"
                                 "  %a = call i32 @f(i32 20, i32 22)\n"
                                 "  %b = call i32 @g(i32 7, i32 8)\n"
                                 "  %c = call i64 @llabs(i64 -5)\n"
                                 "  %d = trunc i64 %c to i32\n"
                                 "  %s = add i32 %a, %b\n  %r = add i32 %s, %d\n  ret i32 %r\n}\n"
                                 "attributes #0 = { \"no-prototype\" }\n";
static const char kr_defs_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@one = global [4 x i32] [i32 1, i32 2, i32 3, i32 4]\n"
    "define i32 @f(i32 %a, i32 %b) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 0\n"
    "  %v = load i32, ptr %p\n  %s = add i32 %a, %b\n  %r = mul i32 %s, %v\n  ret i32 %r\n}\n"
    "define i32 @g(i32 %a) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 1\n"
    "  %v = load i32, ptr %p\n  %r = mul i32 %a, %v\n  ret i32 %r\n}\n"
    "define i32 @dead(i32 %x) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 %x\n"
    "  %v = load i32, ptr %p\n  %r = sub i32 %v, %x\n  ret i32 %r\n}\n";

START_TEST(unlinked_with_kr_calls)
{
    mewe_module *m = load_ll(kr_main_ll, "kr-main.ll");
    ck_assert_mewe_ok(mewe_module_link(m, load_ll(kr_defs_ll, "kr-defs.ll")));
    /* The case is there: main calls g through another type than g's. */
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    LLVMValueRef g = LLVMGetNamedFunction(llvm, "g");
    ck_assert(g && !LLVMIsDeclaration(g));
    LLVMValueRef call_g = NULL;
    LLVMValueRef main_fn = LLVMGetNamedFunction(llvm, "main");
    for (LLVMValueRef i = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(main_fn)); i;
         i = LLVMGetNextInstruction(i)) {
        if (LLVMIsACallInst(i) && LLVMGetCalledValue(i) == g)
            call_g = i;
    }
    ck_assert_ptr_nonnull(call_g);
    ck_assert_ptr_ne(LLVMGetCalledFunctionType(call_g), LLVMGlobalGetValueType(g));
    const char *fatal[] = {"--fatal-warnings"};
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.link_args = fatal;
    o.link_arg_count = 1;
    exclude_expecting(m, &o, 1);
    assert_marks(m, (const char *[]){"dead", NULL}, (const char *[]){"f", "g", "main", NULL});
    assert_runs_with_exit(m, &o, (20 + 22) * 1 + 7 * 2 + 5);
    mewe_module_free(m);
}
END_TEST

/* Functions that the program reaches only through an alias, an internal and an external
 * one: main comes first, so that the aliases are the first symbols of their functions in
 * the object, and wasm-ld names the functions after them. They must not be left out for
 * that. A dead alias takes its dead aliasee along. */
static const char alias_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@one = global [4 x i32] [i32 1, i32 2, i32 3, i32 4]\n"
    "@twice = alias i32 (i32), ptr @impl\n"
    "@thrice = alias i32 (i32), ptr @ext_impl\n"
    "@dead_alias = alias i32 (i32), ptr @dead_impl\n"
    "define i32 @main() {\n"
    "  %a = call i32 @twice(i32 10)\n  %b = call i32 @thrice(i32 4)\n"
    "  %r = add i32 %a, %b\n  ret i32 %r\n}\n"
    "define internal i32 @impl(i32 %x) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 1\n"
    "  %v = load i32, ptr %p\n  %m = mul i32 %x, %v\n  %r = add i32 %m, 0\n  ret i32 %r\n}\n"
    "define i32 @ext_impl(i32 %x) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 2\n"
    "  %v = load i32, ptr %p\n  %m = mul i32 %x, %v\n  %r = add i32 %m, 0\n  ret i32 %r\n}\n"
    "define i32 @dead_impl(i32 %x) {\n"
    "  %p = getelementptr inbounds [4 x i32], ptr @one, i32 0, i32 3\n"
    "  %v = load i32, ptr %p\n  %r = sub i32 %v, %x\n  ret i32 %r\n}\n";

START_TEST(unlinked_through_aliases)
{
    mewe_module *m = load_ll(alias_ll, "alias.ll");
    exclude_expecting(m, NULL, 1);
    assert_marks(m, (const char *[]){"dead_impl", NULL},
                 (const char *[]){"impl", "ext_impl", "main", NULL});
    assert_runs_with_exit(m, NULL, 10 * 2 + 4 * 3);
    mewe_module_free(m);
}
END_TEST

START_TEST(objects_link_into_one_program)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", unit_object("a", unit_a, MEWE_GRANULARITY_CALL));
    snprintf(b, sizeof b, "%s", unit_object("b", unit_b, MEWE_GRANULARITY_CALL));
    const char *objs[] = {a, b};
    char *report = NULL;
    size_t size = 0;
    ck_assert_mewe_ok(
        mewe_emit_link_objects(&report, &size, tctx, objs, 2, NULL, tpath("ab.wasm")));
    ck_assert_uint_eq(strlen(report), size);
    ck_assert_ptr_nonnull(strstr(report, "\"name\": \"twice\""));
    ck_assert_ptr_nonnull(strstr(report, "\"name\": \"main\""));
    ck_assert_ptr_nonnull(strstr(report, "\"granularity\": \"call\""));
    mewe_free(report);
    wasm_run_result r;
    run_ok(&r, tpath("ab.wasm"), NULL, NULL, NULL);
    ck_assert_str_eq(r.out, "1 0\n2 2\n5 4\n10 6\n");
    wasm_run_result_free(&r);
    /* The notes are for the link only. */
    size_t wsize;
    char *wasm = read_file(tpath("ab.wasm"), &wsize);
    ck_assert_ptr_null(memmem(wasm, wsize, "mewe.object", 11));
    free(wasm);
    /* No report asked for: still linked. */
    ck_assert_mewe_ok(mewe_emit_link_objects(NULL, NULL, tctx, objs, 2, NULL, tpath("c.wasm")));
}
END_TEST

START_TEST(objects_of_other_settings_or_versions_are_refused)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", unit_object("a", unit_a, MEWE_GRANULARITY_CALL));
    snprintf(b, sizeof b, "%s", unit_object("b", unit_b, MEWE_GRANULARITY_INSTANCE));
    const char *objs[] = {a, b};
    ck_assert_mewe_fails(mewe_emit_link_objects(NULL, NULL, tctx, objs, 2, NULL, tpath("x.wasm")),
                         MEWE_ELINK, "b.o' was made with other settings than");
    ck_assert(!file_exists(tpath("x.wasm")));
    /* An object of another libmewe: its note names another version. */
    snprintf(b, sizeof b, "%s", unit_object("b", unit_b, MEWE_GRANULARITY_CALL));
    size_t size;
    char *data = read_file(b, &size);
    char want[64];
    snprintf(want, sizeof want, "\"libmewe\": \"%s\"", mewe_version());
    char *at = memmem(data, size, want, strlen(want));
    ck_assert_ptr_nonnull(at);
    at[strlen("\"libmewe\": \"")] = '9';
    write_file(b, data, size);
    free(data);
    ck_assert_mewe_fails(mewe_emit_link_objects(NULL, NULL, tctx, objs, 2, NULL, tpath("x.wasm")),
                         MEWE_ELINK, "b.o' was made by libmewe 9");
    /* Not objects at all, and bad arguments. */
    write_file(tpath("junk.o"), "junk", 4);
    const char *junk[] = {a, tpath("junk.o")};
    ck_assert_mewe_fails(mewe_emit_link_objects(NULL, NULL, tctx, junk, 2, NULL, tpath("x.wasm")),
                         MEWE_EPARSE, "junk.o' is not a WebAssembly object");
    ck_assert_int_eq(mewe_emit_link_objects(NULL, NULL, NULL, objs, 2, NULL, tpath("x.wasm")),
                     MEWE_EINVAL);
    ck_assert_mewe_fails(mewe_emit_link_objects(NULL, NULL, tctx, objs, 0, NULL, tpath("x.wasm")),
                         MEWE_EINVAL, "no objects");
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_OBJECT;
    ck_assert_mewe_fails(mewe_emit_link_objects(NULL, NULL, tctx, objs, 1, &o, tpath("x.wasm")),
                         MEWE_EINVAL, "kind object");
    ck_assert(!file_exists(tpath("x.wasm")));
}
END_TEST

/* Counts what the debug log says emission left out: the code of functions the link drops. */
static void count_not_compiled(mewe_log_level level, const char *message, void *user_data)
{
    (void)level;
    const char *q;
    if (strstr(message, "the link drops not compiled") && (q = strstr(message, "': ")))
        *(unsigned *)user_data = (unsigned)strtoul(q + 3, NULL, 10);
}

static unsigned emit_counting_skipped(mewe_module *m, const mewe_emit_options *opts)
{
    unsigned skipped = 0;
    ck_assert_mewe_ok(
        mewe_context_set_log_callback(tctx, count_not_compiled, MEWE_LOG_DEBUG, &skipped));
    int rc = mewe_emit_wasm(m, opts, tpath("skip.wasm"));
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, NULL, MEWE_LOG_ERROR, NULL));
    ck_assert_mewe_ok(rc);
    return skipped;
}

/* A module that defines its own memcpy, which only code generation calls (lowering the
 * intrinsic): the skeleton cannot see that call, so memcpy is marked as dropped; emission
 * must compile it all the same, or libc's would run instead (exit 0, not 1). `dead` is
 * dropped for real. */
static const char own_memcpy_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@calls = global i32 0\n"
    "@len = global i32 8\n"
    "declare void @llvm.memcpy.p0.p0.i32(ptr, ptr, i32, i1)\n"
    "define ptr @memcpy(ptr %d, ptr %s, i32 %n) {\n"
    "entry:\n  %c = load i32, ptr @calls\n  %c1 = add i32 %c, 1\n  store i32 %c1, ptr @calls\n"
    "  %z = icmp eq i32 %n, 0\n  br i1 %z, label %done, label %loop\n"
    "loop:\n  %i = phi i32 [0, %entry], [%i1, %loop]\n"
    "  %sp = getelementptr i8, ptr %s, i32 %i\n  %dp = getelementptr i8, ptr %d, i32 %i\n"
    "  %b = load i8, ptr %sp\n  store i8 %b, ptr %dp\n  %i1 = add i32 %i, 1\n"
    "  %more = icmp ult i32 %i1, %n\n  br i1 %more, label %loop, label %done\n"
    "done:\n  ret ptr %d\n}\n"
    "define i32 @dead(i32 %x) {\n  %r = mul i32 %x, 7\n  ret i32 %r\n}\n"
    "define i32 @main() {\n"
    "  %a = alloca [16 x i8]\n  %b = alloca [16 x i8]\n"
    "  store i64 1, ptr %a\n"
    "  %n = load volatile i32, ptr @len\n"
    "  call void @llvm.memcpy.p0.p0.i32(ptr %b, ptr %a, i32 %n, i1 false)\n"
    "  %v = load i8, ptr %b\n  %v32 = zext i8 %v to i32\n"
    "  %c = load i32, ptr @calls\n  %r = mul i32 %c, %v32\n  ret i32 %r\n}\n";

/* Emission does not compile what the link drops, when its options are those the functions
 * were marked for (with other exports or link arguments it compiles them all); memcpy, a
 * name code generation may call by itself, is always compiled. */
START_TEST(unlinked_code_is_not_compiled)
{
    mewe_module *m = load_ll(own_memcpy_ll, "memcpy.ll");
    exclude_expecting(m, NULL, 2); /* memcpy (the skeleton's blind spot) and dead */
    const char *dropped[] = {"memcpy", "dead", NULL};
    const char *kept[] = {"main", NULL};
    assert_marks(m, dropped, kept);
    ck_assert_uint_eq(emit_counting_skipped(m, NULL), 1); /* dead; not memcpy */
    wasm_run_result r;
    run_ok(&r, tpath("skip.wasm"), NULL, NULL, NULL);
    ck_assert_msg(r.exit_code == 1, "exit %d: the module's memcpy did not run", r.exit_code);
    wasm_run_result_free(&r);
    /* Exporting `dead` links it: other options, another key, every function compiled. */
    const char *exports[] = {"dead"};
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.exports = exports;
    o.export_count = 1;
    ck_assert_uint_eq(emit_counting_skipped(m, &o), 0);
    const char *more[] = {"-z", "stack-size=65536"};
    o.exports = NULL;
    o.export_count = 0;
    o.link_args = more;
    o.link_arg_count = 2;
    ck_assert_uint_eq(emit_counting_skipped(m, &o), 0);
    /* And diversified, as mewe does it. */
    assert_runs_with_exit(m, NULL, 1);
    mewe_module_free(m);
}
END_TEST

/* Inline assembly may call what no skeleton sees: its module's marks carry no key, and
 * emission compiles every function. */
START_TEST(unlinked_with_asm_compiles_all)
{
    static const char asm_ll[] =
        "target triple = \"wasm32-unknown-wasi\"\n"
        "module asm \"# nothing but a comment\"\n"
        "define i32 @dead(i32 %x) {\n  %r = mul i32 %x, 7\n  ret i32 %r\n}\n"
        "define i32 @main() {\n  ret i32 5\n}\n";
    mewe_module *m = load_ll(asm_ll, "asm.ll");
    exclude_expecting(m, NULL, 1);
    ck_assert_uint_eq(emit_counting_skipped(m, NULL), 0);
    mewe_module_free(m);
}
END_TEST

/* A call whose result only feeds the return value of a function that only reads memory:
 * with the skeleton's unreachable bodies, the backend at -O0 dropped such calls as dead
 * code, and `pure` was marked as dropped although main calls it. */
static const char pure_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define internal fastcc i32 @pure(i32 noundef %x) memory(none) nounwind willreturn {\n"
    "  %r = mul i32 %x, 3\n  ret i32 %r\n}\n"
    "define i32 @dead(i32 %x) {\n  %r = mul i32 %x, 7\n  ret i32 %r\n}\n"
    "define i32 @main() {\n  %r = call fastcc i32 @pure(i32 5)\n  ret i32 %r\n}\n";

START_TEST(unlinked_at_o0_keeps_pure_callees)
{
    mewe_module *m = load_ll(pure_ll, "pure.ll");
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.opt_level = 0;
    exclude_expecting(m, &o, 1);
    const char *dropped[] = {"dead", NULL};
    const char *kept[] = {"pure", "main", NULL};
    assert_marks(m, dropped, kept);
    assert_runs_with_exit(m, &o, 15);
    mewe_module_free(m);
}
END_TEST

/* Marks are checked against what the module has become: a variant added after the
 * exclusion (here from another build, through mewe_module_add_variants) calls a function
 * the skeleton found dropped; emission compiles it all the same. */
static const char marked_a_ll[] = "target triple = \"wasm32-unknown-wasi\"\n"
                                  "define i32 @helper() noinline {\n  ret i32 5\n}\n"
                                  "define i32 @f() noinline {\n  ret i32 5\n}\n"
                                  "define i32 @main() {\n  %r = call i32 @f()\n  ret i32 %r\n}\n";
static const char marked_b_ll[] = "target triple = \"wasm32-unknown-wasi\"\n"
                                  "define i32 @helper() noinline {\n  ret i32 5\n}\n"
                                  "define i32 @f() noinline {\n  %r = call i32 @helper()\n"
                                  "  ret i32 %r\n}\n"
                                  "define i32 @main() {\n  %r = call i32 @f()\n  ret i32 %r\n}\n";

START_TEST(unlinked_marks_follow_later_changes)
{
    mewe_module *m = load_ll(marked_a_ll, "a.ll");
    exclude_expecting(m, NULL, 1);
    const char *dropped[] = {"helper", NULL};
    const char *kept[] = {"f", "main", NULL};
    assert_marks(m, dropped, kept);
    mewe_module *b = load_ll(marked_b_ll, "b.ll");
    size_t added = 0;
    ck_assert_mewe_ok(mewe_module_add_variants(&added, m, b));
    ck_assert_uint_eq(added, 1);
    mewe_link_options lo = MEWE_LINK_OPTIONS_INIT;
    lo.inline_limit = 1;
    ck_assert_mewe_ok(mewe_link_multivariant(m, &lo));
    ck_assert_uint_eq(emit_counting_skipped(m, NULL), 0); /* f.mewe.v1 calls helper */
    wasm_run_result r;
    run_ok(&r, tpath("skip.wasm"), NULL, NULL, NULL);
    ck_assert_int_eq(r.exit_code, 5);
    wasm_run_result_free(&r);
    mewe_module_free(m);
}
END_TEST

/* A module whose entry points reach every function: through a call, a pointer in a variable
 * main reads, the constructor list. */
#define REACHED_LL                                                                          \
    "target triple = \"wasm32-unknown-wasi\"\n"                                             \
    "@g = internal global i32 0\n"                                                          \
    "@table = internal global ptr @via_table\n"                                             \
    "@llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] "                        \
    "[{ i32, ptr, ptr } { i32 65535, ptr @ctor, ptr null }]\n"                              \
    "define internal i32 @via_table(i32 %x) {\n  %r = mul i32 %x, 3\n  ret i32 %r\n}\n"     \
    "define internal void @ctor() {\n  store i32 10, ptr @g\n  ret void\n}\n"               \
    "define i32 @callee(i32 %x) {\n  %r = add i32 %x, 1\n  ret i32 %r\n}\n"                 \
    "define i32 @main() {\n  %f = load volatile ptr, ptr @table\n"                          \
    "  %a = call i32 %f(i32 2)\n  %b = call i32 @callee(i32 %a)\n  %c = load i32, ptr @g\n" \
    "  %r = add i32 %b, %c\n  ret i32 %r\n}\n"

static void note_shortcut(mewe_log_level level, const char *message, void *user_data)
{
    (void)level;
    if (strstr(message, "reach every function"))
        *(bool *)user_data = true;
}

/* Excludes with opts; true when no skeleton was linked (every function was reached). */
static bool exclude_shortcut(mewe_module *m, const mewe_emit_options *opts, size_t expected)
{
    bool shortcut = false;
    size_t n = 99;
    ck_assert_mewe_ok(
        mewe_context_set_log_callback(tctx, note_shortcut, MEWE_LOG_DEBUG, &shortcut));
    int rc = mewe_module_exclude_unlinked(m, opts, &n);
    ck_assert_mewe_ok(mewe_context_set_log_callback(tctx, NULL, MEWE_LOG_ERROR, NULL));
    ck_assert_mewe_ok(rc);
    ck_assert_uint_eq(n, expected);
    return shortcut;
}

/* When the entry points reach every function, no skeleton is linked to find what the link
 * drops (none); a function only a variable nobody reads names is not reached, and the search
 * runs and finds it; link arguments that may add roots (an export) make it run too. */
START_TEST(unlinked_search_skipped_when_all_reached)
{
    mewe_module *m = load_ll(REACHED_LL, "reached.ll");
    ck_assert(exclude_shortcut(m, NULL, 0));
    assert_runs_with_exit(m, NULL, 17);
    mewe_module_free(m);

    m = load_ll(REACHED_LL "@unread = internal global ptr @only_in_unread\n"
                           "define internal i32 @only_in_unread(i32 %x) {\n"
                           "  %r = mul i32 %x, 9\n  ret i32 %r\n}\n",
                "unread.ll");
    ck_assert(!exclude_shortcut(m, NULL, 1));
    const char *dropped[] = {"only_in_unread", NULL};
    const char *kept[] = {"via_table", "ctor", "callee", "main", NULL};
    assert_marks(m, dropped, kept);
    mewe_module_free(m);

    m = load_ll(REACHED_LL, "reached.ll");
    const char *args[] = {"--export=callee"};
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.link_args = args;
    o.link_arg_count = 1;
    ck_assert(!exclude_shortcut(m, &o, 0));
    /* A reactor starts from its exports: main exported reaches the rest. */
    const char *exports[] = {"main"};
    o = (mewe_emit_options)MEWE_EMIT_OPTIONS_INIT;
    o.kind = MEWE_EMIT_REACTOR;
    o.exports = exports;
    o.export_count = 1;
    ck_assert(exclude_shortcut(m, &o, 0));
    mewe_module_free(m);
}
END_TEST

int main(void)
{
    if (!wasm_run_available()) {
        printf("SKIP: node with node:wasi not found; emit tests need it\n");
        return 77;
    }
    Suite *s = suite_create("emit");
    TCase *tc = test_case("emit");
    tcase_add_loop_test(tc, fixtures_run_like_clang, 0,
                        (int)(sizeof c_fixtures / sizeof c_fixtures[0]));
    tcase_add_test(tc, wasm_derived_variants_run_like_their_sources);
    tcase_add_loop_test(tc, spliced_variants_run_like_their_sources, 0,
                        (int)(sizeof spliced_fixtures / sizeof *spliced_fixtures));
    tcase_add_test(tc, memory_output_equals_file_output);
    tcase_add_test(tc, reactor_exports_functions);
    tcase_add_test(tc, object_links_elsewhere);
    tcase_add_test(tc, object_marks_exports);
    tcase_add_test(tc, rust_fixture_object_links_and_runs);
    tcase_add_test(tc, link_args_reach_wasm_ld);
    tcase_add_test(tc, undefined_symbol_is_named);
    tcase_add_test(tc, missing_wasm_ld);
    tcase_add_test(tc, unwritable_output);
    tcase_add_test(tc, other_targets_are_refused);
    tcase_add_test(tc, target_checked_before_any_work);
    tcase_add_test(tc, no_triple_is_retargeted);
    tcase_add_test(tc, emit_leaves_module_unchanged);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, opt_levels_all_work);
    tcase_add_test(tc, options_are_read_within_their_version);
    tcase_add_test(tc, report_reads_the_module_and_the_wasm_given);
    tcase_add_test(tc, report_counts_what_the_link_kept);
    tcase_add_test(tc, unlinked_functions_are_left_out);
    tcase_add_test(tc, unlinked_with_debug_info);
    tcase_add_test(tc, unlinked_with_strip_link_args);
    tcase_add_test(tc, unlinked_with_kr_calls);
    tcase_add_test(tc, unlinked_through_aliases);
    tcase_add_test(tc, unlinked_code_is_not_compiled);
    tcase_add_test(tc, unlinked_with_asm_compiles_all);
    tcase_add_test(tc, unlinked_at_o0_keeps_pure_callees);
    tcase_add_test(tc, unlinked_marks_follow_later_changes);
    tcase_add_test(tc, unlinked_search_skipped_when_all_reached);
    tcase_add_test(tc, objects_link_into_one_program);
    tcase_add_test(tc, objects_of_other_settings_or_versions_are_refused);
    suite_add_tcase(s, tc);
    return test_run(s);
}
