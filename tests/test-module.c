/* Modules: loading (bitcode, text, memory), bad input, linking, listing, writing. */
#include <malloc.h>
#include <sys/stat.h>

#include <mewe/sys/llvm.h>

#include "test-util.h"

static const char add_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define i32 @add(i32 %a, i32 %b) {\n  %s = add i32 %a, %b\n  ret i32 %s\n}\n"
    "declare i32 @ext(i32)\n"
    "define internal i32 @twice(i32 %a) {\n  %r = call i32 @add(i32 %a, i32 %a)\n"
    "  ret i32 %r\n}\n";

static const char use_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "declare i32 @add(i32, i32)\n"
    "define i32 @use(i32 %x) {\n  %r = call i32 @add(i32 %x, i32 1)\n  ret i32 %r\n}\n";

static mewe_module *load_text(const char *text, const char *name)
{
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, text, strlen(text), name));
    return m;
}

START_TEST(loads_text_and_lists_functions)
{
    write_file(tpath("add.ll"), add_ll, strlen(add_ll));
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, tpath("add.ll")));
    ck_assert_uint_eq(mewe_module_function_count(m), 2); /* declarations are not listed */
    const char *name;
    ck_assert_mewe_ok(mewe_module_function_at(&name, m, 0));
    ck_assert_str_eq(name, "add");
    ck_assert_mewe_ok(mewe_module_function_at(&name, m, 1));
    ck_assert_str_eq(name, "twice");
    ck_assert_mewe_fails(mewe_module_function_at(&name, m, 2), MEWE_EINVAL, "out of range");
    ck_assert_ptr_eq(mewe_module_context(m), tctx);
    mewe_module_free(m);
}
END_TEST

START_TEST(format_is_told_by_content)
{
    /* Bitcode named .ll and text named .bc both load. */
    mewe_module *m = load_text(add_ll, "add");
    ck_assert_mewe_ok(mewe_module_write(m, tpath("really-bitcode.ll"), MEWE_FORMAT_BITCODE));
    ck_assert_mewe_ok(mewe_module_write(m, tpath("really-text.bc"), MEWE_FORMAT_TEXT));
    mewe_module *a, *b;
    ck_assert_mewe_ok(mewe_module_load(&a, tctx, tpath("really-bitcode.ll")));
    ck_assert_mewe_ok(mewe_module_load(&b, tctx, tpath("really-text.bc")));
    ck_assert_uint_eq(mewe_module_function_count(a), 2);
    ck_assert_uint_eq(mewe_module_function_count(b), 2);
    size_t n;
    char *bytes = read_file(tpath("really-bitcode.ll"), &n);
    ck_assert(n > 4 && memcmp(bytes, "BC\xC0\xDE", 4) == 0);
    free(bytes);
    bytes = read_file(tpath("really-text.bc"), &n);
    ck_assert_ptr_nonnull(strstr(bytes, "define i32 @add"));
    free(bytes);
}
END_TEST

START_TEST(write_memory_round_trips)
{
    mewe_module *m = load_text(add_ll, "add");
    void *bc;
    size_t bc_size;
    ck_assert_mewe_ok(mewe_module_write_memory(&bc, &bc_size, m, MEWE_FORMAT_BITCODE));
    mewe_module *again;
    ck_assert_mewe_ok(mewe_module_load_memory(&again, tctx, bc, bc_size, "again"));
    void *t1, *t2;
    size_t n1, n2;
    ck_assert_mewe_ok(mewe_module_write_memory(&t1, &n1, m, MEWE_FORMAT_TEXT));
    ck_assert_mewe_ok(mewe_module_write_memory(&t2, &n2, again, MEWE_FORMAT_TEXT));
    ck_assert_uint_eq(strlen(t1), n1);
    /* Same IR apart from the module identifier line. */
    ck_assert_str_eq(strstr(t1, "target triple"), strstr(t2, "target triple"));
    mewe_free(bc);
    mewe_free(t1);
    mewe_free(t2);
    ck_assert_mewe_fails(mewe_module_write_memory(&t1, &n1, m, (mewe_format)9), MEWE_EINVAL,
                         "unknown module format 9");
    ck_assert_int_eq(mewe_module_write_memory(NULL, &n1, m, MEWE_FORMAT_TEXT), MEWE_EINVAL);
}
END_TEST

START_TEST(missing_file)
{
    mewe_module *m = (mewe_module *)1;
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, tpath("nope.bc")), MEWE_EIO, "nope.bc");
    ck_assert_ptr_null(m);
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, tdir), MEWE_EIO, "directory");
}
END_TEST

START_TEST(empty_file)
{
    write_file(tpath("empty.bc"), "", 0);
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, tpath("empty.bc")), MEWE_EPARSE, "empty");
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, NULL, 0, "buf"), MEWE_EPARSE,
                         "'buf' is empty");
}
END_TEST

START_TEST(truncated_and_corrupt_bitcode)
{
    mewe_module *m = load_fixture("loops.c");
    void *bc;
    size_t size;
    ck_assert_mewe_ok(mewe_module_write_memory(&bc, &size, m, MEWE_FORMAT_BITCODE));
    /* Cut at many points: every one must fail cleanly, none may crash. */
    for (size_t cut = 4; cut < size; cut += size / 37 + 1) {
        mewe_module *t = (mewe_module *)1;
        ck_assert_mewe_fails(mewe_module_load_memory(&t, tctx, bc, cut, "cut.bc"), MEWE_EPARSE,
                             "cut.bc");
        ck_assert_ptr_null(t);
    }
    /* Garbage after a valid magic number. */
    unsigned char junk[256];
    memcpy(junk, "BC\xC0\xDE", 4);
    for (size_t i = 4; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, junk, sizeof junk, "junk.bc"),
                         MEWE_EPARSE, "junk.bc");
    mewe_free(bc);
}
END_TEST

START_TEST(ir_syntax_error_names_line)
{
    const char bad[] = "define i32 @f(i32 %a) {\n  %b = addd i32 %a, 1\n  ret i32 %b\n}\n";
    write_file(tpath("bad.ll"), bad, strlen(bad));
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, tpath("bad.ll")), MEWE_EPARSE, "bad.ll:2:");
}
END_TEST

START_TEST(newer_llvm_bitcode)
{
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, srcpath("data/newer-llvm22.bc")), MEWE_EPARSE,
                         "newer than this libmewe's LLVM 19");
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), "LLVM22.1.2"));
}
END_TEST

START_TEST(verifier_failure)
{
    const char bad[] = "define i32 @f(i32 %a) {\n  %b = add i32 %c, 1\n  %c = add i32 %a, 1\n"
                       "  ret i32 %b\n}\n";
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, bad, strlen(bad), "dom.ll"),
                         MEWE_EVERIFY, "does not dominate");
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), "dom.ll"));
}
END_TEST

START_TEST(foreign_binaries_are_named)
{
    const char wasm[] = "\0asm\1\0\0\0";
    mewe_module *m;
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, wasm, 8, "x.wasm"), MEWE_EPARSE,
                         "WebAssembly binary");
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, "\177ELF\2\1\1", 7, "a.out"),
                         MEWE_EPARSE, "ELF");
}
END_TEST

typedef struct {
    char *bytes;
    size_t size;
    struct stat st;
} file_snapshot;

static file_snapshot snapshot(const char *path)
{
    file_snapshot f;
    f.bytes = read_file(path, &f.size);
    ck_assert_ptr_nonnull(f.bytes);
    ck_assert_int_eq(stat(path, &f.st), 0);
    return f;
}

static void assert_unchanged(const char *path, file_snapshot *before)
{
    file_snapshot now = snapshot(path);
    ck_assert_uint_eq(now.size, before->size);
    ck_assert_msg(memcmp(now.bytes, before->bytes, now.size) == 0, "%s was modified", path);
    ck_assert(now.st.st_mtim.tv_sec == before->st.st_mtim.tv_sec &&
              now.st.st_mtim.tv_nsec == before->st.st_mtim.tv_nsec);
    free(now.bytes);
    free(before->bytes);
}

START_TEST(inputs_are_never_modified)
{
    const char *structs = fixture_bc("structs.c");
    const char *other = fixture_bc("fnptr.c");
    file_snapshot s0 = snapshot(structs), o0 = snapshot(other);
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, structs));
    /* Both define main: the failed link must not touch either file. */
    ck_assert_mewe_fails(mewe_module_link_file(m, other), MEWE_ELINK, "main");
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("out.wasm")));
    ck_assert_mewe_ok(mewe_module_write(m, tpath("out.bc"), MEWE_FORMAT_BITCODE));
    assert_unchanged(structs, &s0);
    assert_unchanged(other, &o0);
}
END_TEST

START_TEST(links_modules)
{
    mewe_module *a = load_text(add_ll, "add.ll");
    mewe_module *b = load_text(use_ll, "use.ll");
    ck_assert_mewe_ok(mewe_module_link(a, b)); /* b consumed */
    ck_assert_uint_eq(mewe_module_function_count(a), 3);
    ck_assert_mewe_ok(mewe_module_verify(a));
    /* From a file too. */
    const char other[] = "define i32 @third() {\n  ret i32 3\n}\n";
    write_file(tpath("third.ll"), other, strlen(other));
    ck_assert_mewe_ok(mewe_module_link_file(a, tpath("third.ll")));
    ck_assert_uint_eq(mewe_module_function_count(a), 4);
}
END_TEST

/* The number after `"key": ` in a report. */
static unsigned long report_number(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    ck_assert_msg(p != NULL, "no %s in the report", key);
    return strtoul(p + strlen(pat), NULL, 10);
}

/* Many files in one step, as the CLI links its inputs: in order, and all or nothing. */
START_TEST(links_many_files_at_once)
{
    mewe_module *a = load_text(add_ll, "add.ll");
    const char *files[4] = {tpath("use.ll"), tpath("third.ll"), tpath("third-again.ll"), NULL};
    const char third[] = "define i32 @third() {\n  ret i32 3\n}\n";
    write_file(files[0], use_ll, strlen(use_ll));
    write_file(files[1], third, strlen(third));
    write_file(files[2], third, strlen(third)); /* defines @third a second time */
    ck_assert_mewe_ok(mewe_module_link_files(a, files, 0));
    ck_assert_mewe_ok(mewe_module_link_files(a, files, 2));
    ck_assert_uint_eq(mewe_module_function_count(a), 4);
    const char *last;
    ck_assert_mewe_ok(mewe_module_function_at(&last, a, 3));
    ck_assert_str_eq(last, "third");
    /* The report's "before" is the linked program, measured once it is needed. */
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, a));
    ck_assert_uint_eq(report_number(json, "instructions_before"), 7);
    ck_assert_uint_eq(report_number(json, "instructions_after"), 7);
    mewe_free(json);
    /* A failure on the third file leaves a as it was, and names the file. */
    const char solo[] = "define i32 @solo() {\n  ret i32 0\n}\n";
    mewe_module *b = load_text(solo, "solo.ll");
    void *t0, *t1;
    size_t n0, n1;
    ck_assert_mewe_ok(mewe_module_write_memory(&t0, &n0, b, MEWE_FORMAT_TEXT));
    ck_assert_mewe_fails(mewe_module_link_files(b, files, 3), MEWE_ELINK, "third-again.ll");
    ck_assert_mewe_ok(mewe_module_write_memory(&t1, &n1, b, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(t0, t1);
    mewe_free(t1);
    const char *missing[2] = {files[1], tpath("missing.ll")};
    ck_assert_mewe_fails(mewe_module_link_files(b, missing, 2), MEWE_EIO, "missing.ll");
    ck_assert_mewe_ok(mewe_module_write_memory(&t1, &n1, b, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(t0, t1);
    mewe_free(t0);
    mewe_free(t1);
    ck_assert_mewe_fails(mewe_module_link_files(b, files + 2, 2), MEWE_EINVAL, "path 1 is NULL");
    ck_assert_int_eq(mewe_module_link_files(b, NULL, 1), MEWE_EINVAL);
    ck_assert_int_eq(mewe_module_link_files(NULL, files, 1), MEWE_EINVAL);
}
END_TEST

/* The report's size in bitcode after emission is the module's (code generation measured it
 * on its way), and it is measured again once the module was lent out and changed. */
START_TEST(report_size_is_the_module_s)
{
    mewe_module *m = load_fixture("loops.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    ck_assert_mewe_ok(mewe_link_multivariant(m, NULL));
    void *wasm, *bc;
    size_t wasm_size, bc_size;
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &wasm_size, m, NULL));
    mewe_free(wasm);
    ck_assert_mewe_ok(mewe_module_write_memory(&bc, &bc_size, m, MEWE_FORMAT_BITCODE));
    mewe_free(bc);
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    ck_assert_uint_eq(report_number(json, "bitcode_bytes_after"), bc_size);
    mewe_free(json);
    /* Lent out, then emitted, then changed behind the library's back. */
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    ck_assert_mewe_ok(mewe_emit_wasm_memory(&wasm, &wasm_size, m, NULL));
    mewe_free(wasm);
    LLVMContextRef c = mewe_context_get_llvm(tctx);
    LLVMValueRef f = LLVMAddFunction(llvm, "added_later",
                                     LLVMFunctionType(LLVMInt32TypeInContext(c), NULL, 0, 0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
    LLVMBuildRet(b, LLVMConstInt(LLVMInt32TypeInContext(c), 7, 0));
    LLVMDisposeBuilder(b);
    size_t grown;
    ck_assert_mewe_ok(mewe_module_write_memory(&bc, &grown, m, MEWE_FORMAT_BITCODE));
    mewe_free(bc);
    ck_assert_uint_gt(grown, bc_size);
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    ck_assert_uint_eq(report_number(json, "bitcode_bytes_after"), grown);
    mewe_free(json);
}
END_TEST

START_TEST(link_conflict_leaves_destination_unchanged)
{
    mewe_module *a = load_text(add_ll, "add.ll");
    mewe_module *b = load_text(add_ll, "add-again.ll"); /* defines @add a second time */
    void *t0;
    size_t n0;
    ck_assert_mewe_ok(mewe_module_write_memory(&t0, &n0, a, MEWE_FORMAT_TEXT));
    ck_assert_mewe_fails(mewe_module_link(a, b), MEWE_ELINK, "add-again.ll");
    ck_assert_ptr_nonnull(strstr(mewe_context_errmsg(tctx), "add"));
    void *t1;
    size_t n1;
    ck_assert_mewe_ok(mewe_module_write_memory(&t1, &n1, a, MEWE_FORMAT_TEXT));
    ck_assert_str_eq(t0, t1);
    mewe_free(t0);
    mewe_free(t1);
}
END_TEST

START_TEST(link_rejects_bad_arguments)
{
    mewe_module *a = load_text(add_ll, "a");
    ck_assert_mewe_fails(mewe_module_link(a, a), MEWE_EINVAL, "itself");
    ck_assert_mewe_fails(mewe_module_link(a, NULL), MEWE_EINVAL, "NULL");
    mewe_context *other;
    ck_assert_mewe_ok(mewe_context_new(&other));
    mewe_module *foreign;
    ck_assert_int_eq(mewe_module_load_memory(&foreign, other, use_ll, strlen(use_ll), "u"),
                     MEWE_OK);
    ck_assert_mewe_fails(mewe_module_link(a, foreign), MEWE_EINVAL, "different contexts");
    mewe_context_free(other);
    ck_assert_int_eq(mewe_module_link_file(NULL, "x"), MEWE_EINVAL);
}
END_TEST

START_TEST(unwritable_output_leaves_nothing)
{
    mewe_module *m = load_text(add_ll, "a");
    ck_assert_mewe_fails(mewe_module_write(m, tpath("no/such/dir/out.bc"), MEWE_FORMAT_BITCODE),
                         MEWE_EIO, "no/such/dir/out.bc");
    /* A directory in the way of the final rename: the temporary file must be cleaned up. */
    mkdir(tpath("taken"), 0755);
    int before = dir_entries(tdir);
    ck_assert_mewe_fails(mewe_module_write(m, tpath("taken"), MEWE_FORMAT_TEXT), MEWE_EIO, "taken");
    ck_assert_int_eq(dir_entries(tdir), before);
    ck_assert_mewe_fails(mewe_module_write(m, "", MEWE_FORMAT_TEXT), MEWE_EINVAL, "empty");
    ck_assert_mewe_fails(mewe_module_write(m, NULL, MEWE_FORMAT_TEXT), MEWE_EINVAL, "NULL");
}
END_TEST

START_TEST(null_arguments)
{
    mewe_module *m;
    ck_assert_int_eq(mewe_module_load(NULL, tctx, "x"), MEWE_EINVAL);
    ck_assert_int_eq(mewe_module_load(&m, NULL, "x"), MEWE_EINVAL);
    ck_assert_mewe_fails(mewe_module_load(&m, tctx, NULL), MEWE_EINVAL, "path is NULL");
    ck_assert_mewe_fails(mewe_module_load_memory(&m, tctx, NULL, 5, "b"), MEWE_EINVAL,
                         "data is NULL");
    ck_assert_int_eq(mewe_module_verify(NULL), MEWE_EINVAL);
    ck_assert_uint_eq(mewe_module_function_count(NULL), 0);
    ck_assert_int_eq(mewe_module_write(NULL, "x", MEWE_FORMAT_TEXT), MEWE_EINVAL);
    ck_assert_ptr_null(mewe_module_context(NULL));
    ck_assert_ptr_null(mewe_module_get_llvm(NULL));
    ck_assert_ptr_null(mewe_context_get_llvm(NULL));
    mewe_module_free(NULL);
}
END_TEST

/* Modules left to their context are freed with it: once warm, rounds of a context with
 * modules, some freed before it and some left to it, do not grow the heap. Malloc's
 * per-thread cache counts as in use and fills as it goes: tests/meson.build turns it off.
 * (The sanitizers replace malloc, so that mallinfo2 sees nothing there; LeakSanitizer checks
 * the same instead.) */
START_TEST(modules_freed_with_context)
{
    const char *tunables = getenv("GLIBC_TUNABLES");
    ck_assert_msg(tunables && strstr(tunables, "glibc.malloc.tcache_count=0"),
                  "run with GLIBC_TUNABLES=glibc.malloc.tcache_count=0, as meson test does");
    size_t warm = 0;
    for (int round = 0; round < 210; round++) {
        mewe_context *ctx;
        ck_assert_int_eq(mewe_context_new(&ctx), MEWE_OK);
        mewe_module *m[3];
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(mewe_module_load_memory(&m[i], ctx, i == 1 ? use_ll : add_ll,
                                                     strlen(i == 1 ? use_ll : add_ll),
                                                     "a module with a long name, kept with it"),
                             MEWE_OK);
        ck_assert_uint_eq(mewe_module_function_count(m[0]), 2);
        mewe_module_free(m[round % 3]);
        mewe_context_free(ctx);
        if (round == 9)
            warm = mallinfo2().uordblks;
    }
    size_t after = mallinfo2().uordblks;
    /* Two modules leaked per round would be 200 rounds of a few hundred bytes each; LLVM
     * may still grow a buffer of its own once. */
    ck_assert_msg(after <= warm + 8192, "the heap grew by %zu bytes over 200 rounds", after - warm);
}
END_TEST

START_TEST(llvm_handles_are_exposed)
{
    mewe_module *m = load_text(add_ll, "a");
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    ck_assert_ptr_eq(LLVMGetModuleContext(llvm), mewe_context_get_llvm(tctx));
    /* A change through LLVM-C shows in the function list. */
    LLVMTypeRef fty =
        LLVMFunctionType(LLVMVoidTypeInContext(mewe_context_get_llvm(tctx)), NULL, 0, 0);
    LLVMValueRef f = LLVMAddFunction(llvm, "added", fty);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(mewe_context_get_llvm(tctx));
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(mewe_context_get_llvm(tctx), f, "e"));
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    ck_assert_uint_eq(mewe_module_function_count(m), 3);
    ck_assert_mewe_ok(mewe_module_verify(m));
}
END_TEST

int main(void)
{
    if (!wasm_run_available())
        printf("note: node not found; module tests do not need it\n");
    Suite *s = suite_create("module");
    TCase *tc = test_case("module");
    tcase_add_test(tc, loads_text_and_lists_functions);
    tcase_add_test(tc, format_is_told_by_content);
    tcase_add_test(tc, write_memory_round_trips);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, empty_file);
    tcase_add_test(tc, truncated_and_corrupt_bitcode);
    tcase_add_test(tc, ir_syntax_error_names_line);
    tcase_add_test(tc, newer_llvm_bitcode);
    tcase_add_test(tc, verifier_failure);
    tcase_add_test(tc, foreign_binaries_are_named);
    tcase_add_test(tc, inputs_are_never_modified);
    tcase_add_test(tc, links_modules);
    tcase_add_test(tc, links_many_files_at_once);
    tcase_add_test(tc, report_size_is_the_module_s);
    tcase_add_test(tc, link_conflict_leaves_destination_unchanged);
    tcase_add_test(tc, link_rejects_bad_arguments);
    tcase_add_test(tc, unwritable_output_leaves_nothing);
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, modules_freed_with_context);
    tcase_add_test(tc, llvm_handles_are_exposed);
    suite_add_tcase(s, tc);
    return test_run(s);
}
