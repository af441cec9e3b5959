/*
 * test-wasm-inspect.c - tests for the WebAssembly inspector on modules that clang-19 and
 * wasm-ld build at test time from textual IR and C, and on malformed input: every prefix of
 * a real module, single-byte corruptions, and hand-made modules with one defect each. Run
 * under -fsanitize=address,undefined, buffers handed to the parser are sized exactly so
 * that any read past the end is reported.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, environ */
#endif

#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "wasm-run.h"
#include "wasm/derive.h"
#include "wasm/inspect.h"
#include "wasm/splice.h"

/* The build passes the clang it found; default to the one on PATH. */
#ifndef MEWE_CLANG
#define MEWE_CLANG "clang-19"
#endif

extern char **environ;

/* ---- building modules --------------------------------------------------- */

/* A built module; bytes is malloc'd with exactly size bytes. */
typedef struct wasm_blob {
    unsigned char *bytes;
    size_t size;
} wasm_blob;

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert(fputs(text, f) >= 0);
    ck_assert(fclose(f) == 0);
}

static wasm_blob read_blob(const char *path)
{
    FILE *f = fopen(path, "rb");
    wasm_blob b = {NULL, 0};
    long len;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert(fseek(f, 0, SEEK_END) == 0);
    len = ftell(f);
    ck_assert(len > 0 && fseek(f, 0, SEEK_SET) == 0);
    b.size = (size_t)len;
    b.bytes = malloc(b.size);
    ck_assert(b.bytes != NULL);
    ck_assert(fread(b.bytes, 1, b.size, f) == b.size);
    fclose(f);
    return b;
}

static void run_clang(char *const argv[])
{
    pid_t pid;
    int status;

    ck_assert_msg(posix_spawnp(&pid, MEWE_CLANG, NULL, NULL, argv, environ) == 0, "cannot run %s",
                  MEWE_CLANG);
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed", MEWE_CLANG);
}

/* Compiles source (file name ending in .ll or .c) to a module in a fresh temporary
 * directory, which is removed again; every function is exported unless internal. With
 * object, to a relocatable object (clang -c). */
static wasm_blob build_at(const char *file_name, const char *source, bool object, const char *level)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], src[600], out[600];
    wasm_blob b;

    snprintf(dir, sizeof dir, "%s/mewe-wasm-inspect-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
    snprintf(src, sizeof src, "%s/%s", dir, file_name);
    snprintf(out, sizeof out, "%s/out.wasm", dir);
    write_text(src, source);
    {
        char *argv[] = {MEWE_CLANG,
                        "--target=wasm32-wasi",
                        "-O2",
                        "-nostdlib",
                        "-Wl,--no-entry",
                        "-Wl,--export-all",
                        "-Wl,--allow-undefined",
                        "-o",
                        out,
                        src,
                        NULL};
        char *cargv[] = {MEWE_CLANG, "--target=wasm32-wasi", (char *)level, "-c", "-o", out, src,
                         NULL};
        run_clang(object ? cargv : argv);
    }
    b = read_blob(out);
    unlink(src);
    unlink(out);
    rmdir(dir);
    return b;
}

static wasm_blob build(const char *file_name, const char *source, bool object)
{
    return build_at(file_name, source, object, "-O2");
}

static wasm_blob build_wasm(const char *file_name, const char *source)
{
    return build(file_name, source, false);
}

/* ---- the main fixture --------------------------------------------------- */

/* Families: f (3 variants, v0 == v1), g (2, equal), h (2, different), k (v10 only; "k.mewe.vx"
 * and "k.mewe.v" are not variants), a.b (dots in the family), f.mewe.v0 (a variant of a
 * variant), a UTF-8 family "café", and a Rust legacy-mangled family with equal bodies. */
#define RUST_FAMILY "_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$GT$17h0123456789abcdefE"

static const char families_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "define internal i32 @\"f.mewe.v0\"(i32 %x) noinline { %r = add i32 %x, 1\n ret i32 %r }\n"
    "define internal i32 @\"f.mewe.v1\"(i32 %x) noinline { %r = add i32 %x, 1\n ret i32 %r }\n"
    "define internal i32 @\"f.mewe.v2\"(i32 %x) noinline { %r = mul i32 %x, 3\n ret i32 %r }\n"
    "define internal i32 @\"g.mewe.v0\"(i32 %x) noinline { %r = xor i32 %x, 5\n ret i32 %r }\n"
    "define internal i32 @\"g.mewe.v1\"(i32 %x) noinline { %r = xor i32 %x, 5\n ret i32 %r }\n"
    "define internal i32 @\"h.mewe.v0\"(i32 %x) noinline { %r = sub i32 %x, 7\n ret i32 %r }\n"
    "define internal i32 @\"h.mewe.v1\"(i32 %x) noinline { %r = shl i32 %x, 2\n ret i32 %r }\n"
    "define internal i32 @\"k.mewe.vx\"(i32 %x) noinline { %r = or i32 %x, 9\n ret i32 %r }\n"
    "define internal i32 @\"k.mewe.v\"(i32 %x) noinline { %r = or i32 %x, 10\n ret i32 %r }\n"
    "define internal i32 @\"k.mewe.v10\"(i32 %x) noinline { %r = or i32 %x, 11\n ret i32 %r }\n"
    "define internal i32 @\"a.b.mewe.v0\"(i32 %x) noinline { %r = or i32 %x, 12\n ret i32 %r }\n"
    "define internal i32 @\"f.mewe.v0.mewe.v1\"(i32 %x) noinline {\n"
    "  %r = or i32 %x, 13\n ret i32 %r }\n"
    "define internal i32 @\"caf\\C3\\A9.mewe.v0\"(i32 %x) noinline {\n"
    "  %r = and i32 %x, 14\n ret i32 %r }\n"
    "define internal i32 @\"caf\\C3\\A9.mewe.v1\"(i32 %x) noinline {\n"
    "  %r = and i32 %x, 15\n ret i32 %r }\n"
    "define internal i32 @\"" RUST_FAMILY ".mewe.v0\"(i32 %x) noinline {\n"
    "  %r = udiv i32 %x, 16\n ret i32 %r }\n"
    "define internal i32 @\"" RUST_FAMILY ".mewe.v1\"(i32 %x) noinline {\n"
    "  %r = udiv i32 %x, 16\n ret i32 %r }\n"
    /* Every call takes %x and all results meet in the sum, so none can be folded away. */
    "define i32 @f(i32 %x) {\n"
    "  %a = call i32 @\"f.mewe.v0\"(i32 %x)\n  %b = call i32 @\"f.mewe.v1\"(i32 %x)\n"
    "  %c = call i32 @\"f.mewe.v2\"(i32 %x)\n  %d = call i32 @\"g.mewe.v0\"(i32 %x)\n"
    "  %e = call i32 @\"g.mewe.v1\"(i32 %x)\n  %f = call i32 @\"h.mewe.v0\"(i32 %x)\n"
    "  %g = call i32 @\"h.mewe.v1\"(i32 %x)\n  %h = call i32 @\"k.mewe.vx\"(i32 %x)\n"
    "  %i = call i32 @\"k.mewe.v\"(i32 %x)\n  %j = call i32 @\"k.mewe.v10\"(i32 %x)\n"
    "  %k = call i32 @\"a.b.mewe.v0\"(i32 %x)\n  %l = call i32 @\"f.mewe.v0.mewe.v1\"(i32 %x)\n"
    "  %m = call i32 @\"caf\\C3\\A9.mewe.v0\"(i32 %x)\n"
    "  %n = call i32 @\"caf\\C3\\A9.mewe.v1\"(i32 %x)\n"
    "  %o = call i32 @\"" RUST_FAMILY ".mewe.v0\"(i32 %x)\n"
    "  %p = call i32 @\"" RUST_FAMILY ".mewe.v1\"(i32 %x)\n"
    "  %s1 = add i32 %a, %b\n  %s2 = add i32 %s1, %c\n  %s3 = add i32 %s2, %d\n"
    "  %s4 = add i32 %s3, %e\n  %s5 = add i32 %s4, %f\n  %s6 = add i32 %s5, %g\n"
    "  %s7 = add i32 %s6, %h\n  %s8 = add i32 %s7, %i\n  %s9 = add i32 %s8, %j\n"
    "  %s10 = add i32 %s9, %k\n  %s11 = add i32 %s10, %l\n  %s12 = add i32 %s11, %m\n"
    "  %s13 = add i32 %s12, %n\n  %s14 = add i32 %s13, %o\n  %s15 = add i32 %s14, %p\n"
    "  ret i32 %s15\n}\n"
    "define i32 @plain(i32 %x) { %r = add i32 %x, 42\n ret i32 %r }\n";

static const char *const families_names[] = {
    "f.mewe.v0",
    "f.mewe.v1",
    "f.mewe.v2",
    "g.mewe.v0",
    "g.mewe.v1",
    "h.mewe.v0",
    "h.mewe.v1",
    "k.mewe.vx",
    "k.mewe.v",
    "k.mewe.v10",
    "a.b.mewe.v0",
    "f.mewe.v0.mewe.v1",
    "caf\xc3\xa9.mewe.v0",
    "caf\xc3\xa9.mewe.v1",
    RUST_FAMILY ".mewe.v0",
    RUST_FAMILY ".mewe.v1",
    "f",
    "plain",
};
#define FAMILIES_NAMES (sizeof families_names / sizeof families_names[0])

static wasm_blob families_wasm(void)
{
    return build_wasm("families.ll", families_ll);
}

static void parse_ok(mewe__wasm_info *info, const wasm_blob *b)
{
    int rc = mewe__wasm_parse(info, b->bytes, b->size);

    ck_assert_msg(rc == MEWE_OK, "mewe__wasm_parse returned %d", rc);
}

static const mewe__wasm_func *func_named(const mewe__wasm_info *info, const char *name)
{
    const mewe__wasm_func *found = NULL;

    for (size_t i = 0; i < info->func_count; i++) {
        if (info->funcs[i].name && strcmp(info->funcs[i].name, name) == 0) {
            ck_assert_msg(found == NULL, "two functions named %s", name);
            found = &info->funcs[i];
        }
    }
    ck_assert_msg(found != NULL, "no function named %s", name);
    return found;
}

static int same_body(const mewe__wasm_func *a, const mewe__wasm_func *b)
{
    return a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0;
}

static void assert_family(const mewe__wasm_info *info, const char *family, size_t variants,
                          size_t distinct)
{
    size_t v = 99, d = 99;

    ck_assert_int_eq(mewe__wasm_family_distinct(info, family, &v, &d), MEWE_OK);
    ck_assert_msg(v == variants && d == distinct,
                  "family %s: %zu variants, %zu distinct; "
                  "expected %zu, %zu",
                  family, v, d, variants, distinct);
}

/* ---- tests on real modules ---------------------------------------------- */

START_TEST(test_names_and_bodies)
{
    wasm_blob b = families_wasm();
    mewe__wasm_info info;
    size_t total = 0;

    parse_ok(&info, &b);
    ck_assert_uint_eq(info.import_func_count, 0);
    ck_assert_uint_ge(info.func_count, FAMILIES_NAMES);
    ck_assert_uint_gt(info.code_size, 0);
    for (size_t i = 0; i < FAMILIES_NAMES; i++)
        func_named(&info, families_names[i]);
    for (size_t i = 0; i < info.func_count; i++) {
        const mewe__wasm_func *f = &info.funcs[i];

        ck_assert_msg(f->name != NULL, "function %zu has no name", i);
        ck_assert_uint_ge(f->body_len, 2);
        ck_assert(f->body >= b.bytes && f->body + f->body_len <= b.bytes + b.size);
        ck_assert_uint_eq(f->body[f->body_len - 1], 0x0b); /* end */
        total += f->body_len;
    }
    ck_assert_uint_lt(total, info.code_size);
    ck_assert(same_body(func_named(&info, "f.mewe.v0"), func_named(&info, "f.mewe.v1")));
    ck_assert(!same_body(func_named(&info, "f.mewe.v0"), func_named(&info, "f.mewe.v2")));
    ck_assert(!same_body(func_named(&info, "h.mewe.v0"), func_named(&info, "h.mewe.v1")));
    mewe__wasm_info_free(&info);
    ck_assert_ptr_null(info.funcs);
    ck_assert_uint_eq(info.func_count, 0);
    mewe__wasm_info_free(&info); /* freeing twice is harmless */
    free(b.bytes);
}
END_TEST

START_TEST(test_family_distinct)
{
    wasm_blob b = families_wasm();
    mewe__wasm_info info;
    size_t v, d;

    parse_ok(&info, &b);
    assert_family(&info, "f", 3, 2);
    assert_family(&info, "g", 2, 1);
    assert_family(&info, "h", 2, 2);
    assert_family(&info, "k", 1, 1);
    assert_family(&info, "a.b", 1, 1);
    assert_family(&info, "f.mewe.v0", 1, 1);
    assert_family(&info, "caf\xc3\xa9", 2, 2);
    assert_family(&info, RUST_FAMILY, 2, 1);
    assert_family(&info, "plain", 0, 0);
    assert_family(&info, "nope", 0, 0);
    assert_family(&info, "", 0, 0);
    assert_family(&info, "f.mewe", 0, 0);
    ck_assert_int_eq(mewe__wasm_family_distinct(NULL, "f", &v, &d), MEWE_EINVAL);
    ck_assert_int_eq(mewe__wasm_family_distinct(&info, NULL, &v, &d), MEWE_EINVAL);
    ck_assert_int_eq(mewe__wasm_family_distinct(&info, "f", NULL, &d), MEWE_EINVAL);
    mewe__wasm_info_free(&info);
    free(b.bytes);
}
END_TEST

START_TEST(test_families_bulk)
{
    static const struct {
        const char *family;
        size_t variants, distinct;
    } want[] = {
        /* byte-wise order: '_' < 'a' < 'c' < 'f' */
        {RUST_FAMILY, 2, 1}, {"a.b", 1, 1}, {"caf\xc3\xa9", 2, 2}, {"f", 3, 2},
        {"f.mewe.v0", 1, 1}, {"g", 2, 1},   {"h", 2, 2},           {"k", 1, 1},
    };
    wasm_blob b = families_wasm();
    mewe__wasm_info info;
    mewe__wasm_family *fam = NULL;
    size_t n = 0;

    parse_ok(&info, &b);
    ck_assert_int_eq(mewe__wasm_families(&info, &fam, &n), MEWE_OK);
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        size_t v, d;

        ck_assert_str_eq(fam[i].family, want[i].family);
        ck_assert_uint_eq(fam[i].variants, want[i].variants);
        ck_assert_uint_eq(fam[i].distinct, want[i].distinct);
        /* The bulk form agrees with the per-family one. */
        ck_assert_int_eq(mewe__wasm_family_distinct(&info, fam[i].family, &v, &d), MEWE_OK);
        ck_assert_uint_eq(v, fam[i].variants);
        ck_assert_uint_eq(d, fam[i].distinct);
    }
    mewe__wasm_families_free(fam, n);
    ck_assert_int_eq(mewe__wasm_families(&info, NULL, &n), MEWE_EINVAL);
    ck_assert_int_eq(mewe__wasm_families(NULL, &fam, &n), MEWE_EINVAL);
    ck_assert_ptr_null(fam);
    ck_assert_uint_eq(n, 0);
    mewe__wasm_families_free(NULL, 0);
    mewe__wasm_info_free(&info);
    free(b.bytes);
}
END_TEST

/* C with an imported function, so defined functions start at index 1 and the name map
 * also names an import; asm labels give the C functions dotted names. */
static const char imports_c[] =
    "extern int ext_get(int);\n"
    "__attribute__((noinline)) static int q0(int x) __asm__(\"q.mewe.v0\");\n"
    "__attribute__((noinline)) static int q1(int x) __asm__(\"q.mewe.v1\");\n"
    "__attribute__((noinline)) static int q0(int x) { return ext_get(x) * 2; }\n"
    "__attribute__((noinline)) static int q1(int x) { return ext_get(x) * 2; }\n"
    "__attribute__((export_name(\"q\"))) int q(int x) { return q0(x) + q1(x + 1); }\n";

START_TEST(test_imports_shift_indices)
{
    wasm_blob b = build_wasm("imports.c", imports_c);
    mewe__wasm_info info;
    mewe__wasm_family *fam;
    size_t n;

    parse_ok(&info, &b);
    ck_assert_uint_eq(info.import_func_count, 1);
    func_named(&info, "q");
    ck_assert(same_body(func_named(&info, "q.mewe.v0"), func_named(&info, "q.mewe.v1")));
    for (size_t i = 0; i < info.func_count; i++) /* the import is not a defined function */
        ck_assert(info.funcs[i].name == NULL || strcmp(info.funcs[i].name, "ext_get") != 0);
    assert_family(&info, "q", 2, 1);
    ck_assert_int_eq(mewe__wasm_families(&info, &fam, &n), MEWE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(fam[0].family, "q");
    mewe__wasm_families_free(fam, n);
    mewe__wasm_info_free(&info);
    free(b.bytes);
}
END_TEST

/* ---- malformed input ---------------------------------------------------- */

/* Parses a private, exactly sized copy so that ASan sees any read past the end. */
static int parse_copy(const unsigned char *data, size_t size, mewe__wasm_info *info)
{
    unsigned char *copy = malloc(size ? size : 1);
    int rc;

    ck_assert(copy != NULL);
    if (size)
        memcpy(copy, data, size);
    rc = mewe__wasm_parse(info, copy, size);
    if (rc == MEWE_OK) {
        mewe__wasm_family *fam;
        size_t n;

        ck_assert_int_eq(mewe__wasm_families(info, &fam, &n), MEWE_OK);
        mewe__wasm_families_free(fam, n);
    }
    mewe__wasm_info_free(info);
    free(copy);
    return rc;
}

static int parse_bytes(const unsigned char *data, size_t size)
{
    mewe__wasm_info info;
    int rc = parse_copy(data, size, &info);

    ck_assert_msg(rc == MEWE_OK || rc == MEWE_EPARSE, "parse returned %d", rc);
    return rc;
}

#define PARSE(...) \
    parse_bytes((const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__}))
#define HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

START_TEST(test_not_wasm)
{
    mewe__wasm_info info;

    memset(&info, 0xa5, sizeof info);
    ck_assert_int_eq(mewe__wasm_parse(&info, "", 0), MEWE_EPARSE);
    ck_assert_ptr_null(info.funcs); /* zeroed on failure */
    ck_assert_uint_eq(info.func_count, 0);
    ck_assert_int_eq(mewe__wasm_parse(&info, NULL, 0), MEWE_EINVAL);
    ck_assert_int_eq(mewe__wasm_parse(NULL, "\0asm\1\0\0\0", 8), MEWE_EINVAL);
    ck_assert_int_eq(PARSE(0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00),
                     MEWE_EPARSE); /* magic */
    ck_assert_int_eq(PARSE(0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00), MEWE_EPARSE); /* ELF */
    ck_assert_int_eq(PARSE(0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00),
                     MEWE_EPARSE); /* version */
    ck_assert_int_eq(PARSE(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00),
                     MEWE_EPARSE); /* component */
    ck_assert_int_eq(PARSE(0x00, 0x61, 0x73, 0x6d), MEWE_EPARSE);
    /* The empty module is well-formed. */
    ck_assert_int_eq(mewe__wasm_parse(&info, "\0asm\1\0\0\0", 8), MEWE_OK);
    ck_assert_uint_eq(info.func_count, 0);
    ck_assert_uint_eq(info.code_size, 0);
    mewe__wasm_info_free(&info);
}
END_TEST

/* Offsets where a section starts, and the end; a prefix ending at one of these is itself a
 * sequence of whole sections. */
static size_t section_bounds(const wasm_blob *b, size_t *bounds, size_t max)
{
    size_t pos = 8, n = 0;

    while (pos < b->size && n < max) {
        size_t size = 0;
        unsigned shift = 0;

        bounds[n++] = pos++;
        do {
            size |= (size_t)(b->bytes[pos] & 0x7f) << shift;
            shift += 7;
        } while (b->bytes[pos++] & 0x80);
        pos += size;
    }
    ck_assert_uint_eq(pos, b->size);
    ck_assert_uint_lt(n, max);
    bounds[n++] = pos;
    return n;
}

static int is_bound(const size_t *bounds, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++) {
        if (bounds[i] == off)
            return 1;
    }
    return 0;
}

/* A prefix cut inside the header or a section is malformed. A prefix of whole sections is a
 * well-formed module unless it declares functions without their code section, so it must
 * fail exactly up to the code section. */
START_TEST(test_truncated_everywhere)
{
    wasm_blob b = families_wasm();
    size_t bounds[64], nb = section_bounds(&b, bounds, 64);
    size_t func_start = 0, code_end = 0, ok_prefixes = 0;
    mewe__wasm_info info;

    for (size_t i = 0; i + 1 < nb; i++) {
        if (b.bytes[bounds[i]] == 3)
            func_start = bounds[i];
        if (b.bytes[bounds[i]] == 10)
            code_end = bounds[i + 1];
    }
    ck_assert_uint_gt(func_start, 0);
    ck_assert_uint_gt(code_end, func_start);
    for (size_t len = 0; len <= b.size; len++) {
        int rc = parse_copy(b.bytes, len, &info);
        int want_ok = is_bound(bounds, nb, len) && (len <= func_start || len >= code_end);

        ck_assert_msg(rc == (want_ok ? MEWE_OK : MEWE_EPARSE), "prefix of %zu of %zu bytes: %d",
                      len, b.size, rc);
        ok_prefixes += rc == MEWE_OK;
    }
    ck_assert_uint_ge(ok_prefixes, 3); /* the empty module, up to code, the whole module */
    free(b.bytes);
}
END_TEST

/* Every byte replaced by a few telling values: parsing must never crash or leak; a fair
 * share of the corruptions (about 30% with clang-19) must be caught. */
START_TEST(test_corrupted_bytes)
{
    static const unsigned char values[] = {0x00, 0x80, 0xff, 0x0b};
    wasm_blob b = families_wasm();
    size_t rejected = 0, tried = 0;

    for (size_t i = 0; i < b.size; i++) {
        unsigned char saved = b.bytes[i];

        for (size_t k = 0; k < sizeof values; k++) {
            if (values[k] == saved)
                continue;
            b.bytes[i] = values[k];
            rejected += parse_bytes(b.bytes, b.size) != MEWE_OK;
            tried++;
        }
        b.bytes[i] = saved;
    }
    ck_assert_uint_gt(rejected, tried / 8);
    ck_assert_int_eq(parse_bytes(b.bytes, b.size), MEWE_OK);
    free(b.bytes);
}
END_TEST

/* A hand-made module: one type () -> (), one function, body "0 locals; end", named. */
#define TYPE_SEC 0x01, 0x04, 0x01, 0x60, 0x00, 0x00
#define FUNC_SEC 0x03, 0x02, 0x01, 0x00
#define CODE_SEC 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b
#define NAME_SEC                                                                                 \
    0x00, 0x13, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x0c, 0x01, 0x00, 0x09, 'a', '.', 'm', 'e', 'w', \
        'e', '.', 'v', '0'

START_TEST(test_handmade_module)
{
    static const unsigned char mod[] = {HEADER, TYPE_SEC, FUNC_SEC, CODE_SEC, NAME_SEC};
    mewe__wasm_info info;

    ck_assert_int_eq(mewe__wasm_parse(&info, mod, sizeof mod), MEWE_OK);
    ck_assert_uint_eq(info.func_count, 1);
    ck_assert_uint_eq(info.code_size, 4);
    ck_assert_str_eq(info.funcs[0].name, "a.mewe.v0");
    ck_assert_uint_eq(info.funcs[0].body_len, 2);
    ck_assert_ptr_eq(info.funcs[0].body, mod + 8 + 6 + 4 + 4);
    assert_family(&info, "a", 1, 1);
    mewe__wasm_info_free(&info);
    /* No name section: unnamed but fine. */
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, FUNC_SEC, CODE_SEC), MEWE_OK);
    /* Padded (non-minimal) LEB128 within 5 bytes is valid, as wasm-ld writes it. */
    ck_assert_int_eq(PARSE(HEADER, 0x01, 0x84, 0x80, 0x80, 0x80, 0x00, 0x01, 0x60, 0x00, 0x00,
                           FUNC_SEC, CODE_SEC),
                     MEWE_OK);
    /* Other custom sections are skipped; a second "name" section is ignored. */
    ck_assert_int_eq(PARSE(HEADER, 0x00, 0x03, 0x02, 'h', 'i', TYPE_SEC, FUNC_SEC, CODE_SEC,
                           NAME_SEC, 0x00, 0x07, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x00),
                     MEWE_OK);
}
END_TEST

START_TEST(test_bad_framing)
{
    /* Section length pointing past the end. */
    ck_assert_int_eq(PARSE(HEADER, 0x01, 0x10, 0x01, 0x60), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, FUNC_SEC, 0x0a, 0x05, 0x01, 0x02, 0x00, 0x0b),
                     MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f), MEWE_EPARSE);
    /* Code entry length past its section. */
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, FUNC_SEC, 0x0a, 0x04, 0x01, 0x03, 0x00, 0x0b),
                     MEWE_EPARSE);
    /* Overlong LEB128: six bytes, or bits beyond 32 in the fifth. */
    ck_assert_int_eq(PARSE(HEADER, 0x00, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, 0x00, 0x81, 0x80, 0x80, 0x80, 0x10, 0x00), MEWE_EPARSE);
    ck_assert_int_eq(
        PARSE(HEADER, TYPE_SEC, 0x03, 0x06, 0x81, 0x80, 0x80, 0x80, 0x70, 0x00, CODE_SEC),
        MEWE_EPARSE);
    /* Truncated LEB128 at the very end. */
    ck_assert_int_eq(PARSE(HEADER, 0x01, 0x80), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, 0x01), MEWE_EPARSE);
    /* Unknown section id, sections out of order, a section twice. */
    ck_assert_int_eq(PARSE(HEADER, 0x0e, 0x00), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, FUNC_SEC, TYPE_SEC, CODE_SEC), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, TYPE_SEC, FUNC_SEC, CODE_SEC), MEWE_EPARSE);
    /* A custom section whose name runs past the section. */
    ck_assert_int_eq(PARSE(HEADER, 0x00, 0x02, 0x05, 'n', 0x00, 0x00, 0x00, 0x00), MEWE_EPARSE);
}
END_TEST

START_TEST(test_bad_contents)
{
    /* Function and code counts disagree, or code is missing. */
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, FUNC_SEC), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, 0x03, 0x03, 0x02, 0x00, 0x00, CODE_SEC), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, CODE_SEC), MEWE_EPARSE);
    /* Trailing bytes in the function section; a body without `end`; bad local type. */
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, 0x03, 0x03, 0x01, 0x00, 0x00, CODE_SEC), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, FUNC_SEC, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x01),
                     MEWE_EPARSE);
    ck_assert_int_eq(
        PARSE(HEADER, TYPE_SEC, FUNC_SEC, 0x0a, 0x06, 0x01, 0x04, 0x01, 0x01, 0x40, 0x0b),
        MEWE_EPARSE);
    /* More locals than 2^32 - 1 in all. */
    ck_assert_int_eq(PARSE(HEADER, TYPE_SEC, FUNC_SEC, 0x0a, 0x10, 0x01, 0x0e, 0x02, 0xff, 0xff,
                           0xff, 0xff, 0x0f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b),
                     MEWE_EPARSE);
    /* Import of an unknown kind; a data-count section that does not match. */
    ck_assert_int_eq(PARSE(HEADER, 0x02, 0x05, 0x01, 0x00, 0x00, 0x05, 0x00), MEWE_EPARSE);
    ck_assert_int_eq(PARSE(HEADER, 0x0c, 0x01, 0x01), MEWE_EPARSE);
    ck_assert_int_eq(
        PARSE(HEADER, 0x0c, 0x01, 0x02, 0x0b, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00),
        MEWE_EPARSE);
    ck_assert_int_eq(
        PARSE(HEADER, 0x0c, 0x01, 0x01, 0x0b, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00), MEWE_OK);
}
END_TEST

/* The hand-made module with a "name" section whose payload after its name is the given
 * subsections; sizes are computed so that each case differs from a valid one only where
 * intended. */
static int parse_names(const unsigned char *subs, size_t len)
{
    static const unsigned char head[] = {HEADER, TYPE_SEC, FUNC_SEC, CODE_SEC};
    unsigned char mod[sizeof head + 7 + 120];
    size_t n = sizeof head;

    ck_assert_uint_lt(len, 120);
    memcpy(mod, head, n);
    mod[n++] = 0x00;
    mod[n++] = (unsigned char)(5 + len);
    memcpy(mod + n, "\4name", 5);
    n += 5;
    memcpy(mod + n, subs, len);
    return parse_bytes(mod, n + len);
}

#define NAMES(...) \
    parse_names((const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__}))

START_TEST(test_bad_names)
{
    mewe__wasm_info info;

    /* Valid twins of the cases below. */
    ck_assert_int_eq(NAMES(0x01, 0x04, 0x01, 0x00, 0x01, 'a'), MEWE_OK);
    ck_assert_int_eq(NAMES(0x01, 0x05, 0x01, 0x00, 0x02, 0xc3, 0xa9), MEWE_OK);
    ck_assert_int_eq(
        NAMES(0x00, 0x02, 0x01, 'm', 0x01, 0x04, 0x01, 0x00, 0x01, 'a', 0x02, 0x01, 0x00), MEWE_OK);
    /* Function index past the functions; the same index twice. */
    ck_assert_int_eq(NAMES(0x01, 0x04, 0x01, 0x01, 0x01, 'a'), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x07, 0x02, 0x00, 0x01, 'a', 0x00, 0x01, 'b'), MEWE_EPARSE);
    /* Invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate, past U+10FFFF,
     * a sequence cut short. */
    ck_assert_int_eq(NAMES(0x01, 0x04, 0x01, 0x00, 0x01, 0x80), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x05, 0x01, 0x00, 0x02, 0xc0, 0xaf), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x06, 0x01, 0x00, 0x03, 0xed, 0xa0, 0x80), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x07, 0x01, 0x00, 0x04, 0xf4, 0x90, 0x80, 0x80), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x05, 0x01, 0x00, 0x02, 'a', 0xc3), MEWE_EPARSE);
    /* Subsection length past the section; subsections out of order or repeated; name length
     * past the subsection; trailing bytes; an overlong count. */
    ck_assert_int_eq(NAMES(0x01, 0x09, 0x01, 0x00, 0x01, 'a'), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x02, 0x01, 0x00, 0x01, 0x04, 0x01, 0x00, 0x01, 'a'), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x01, 0x00, 0x01, 0x01, 0x00), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x04, 0x01, 0x00, 0x02, 'a'), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x05, 0x01, 0x00, 0x01, 'a', 0x00), MEWE_EPARSE);
    ck_assert_int_eq(NAMES(0x01, 0x09, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x01, 'a'),
                     MEWE_EPARSE);
    /* A name holding a NUL byte leaves the function unnamed rather than misnamed. */
    {
        static const unsigned char mod[] = {HEADER, TYPE_SEC, FUNC_SEC, CODE_SEC, 0x00, 0x0c,
                                            0x04,   'n',      'a',      'm',      'e',  0x01,
                                            0x05,   0x01,     0x00,     0x02,     'a',  0x00};

        ck_assert_int_eq(mewe__wasm_parse(&info, mod, sizeof mod), MEWE_OK);
        ck_assert_uint_eq(info.func_count, 1);
        ck_assert_ptr_null(info.funcs[0].name);
        mewe__wasm_info_free(&info);
    }
}
END_TEST

/* ---- difference ---------------------------------------------------------- */

static int cmp_word(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The Jaccard distance of two bodies' 4-gram sets, the plain way: the reference that the
 * library's sorted sets must agree with. */
static double naive_difference(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    if (na == nb && memcmp(a, b, na) == 0)
        return 0.0;
    const unsigned char *body[2] = {a, b};
    size_t len[2] = {na, nb}, count[2];
    uint32_t *set[2];
    for (int k = 0; k < 2; k++) {
        set[k] = malloc((len[k] + 1) * sizeof **set);
        size_t m = 0;
        for (size_t i = 0; i + 4 <= len[k]; i++)
            set[k][m++] = (uint32_t)body[k][i] | (uint32_t)body[k][i + 1] << 8 |
                          (uint32_t)body[k][i + 2] << 16 | (uint32_t)body[k][i + 3] << 24;
        qsort(set[k], m, sizeof **set, cmp_word);
        size_t u = 0;
        for (size_t i = 0; i < m; i++)
            if (u == 0 || set[k][u - 1] != set[k][i])
                set[k][u++] = set[k][i];
        count[k] = u;
    }
    size_t common = 0;
    for (size_t i = 0; i < count[0]; i++)
        common += bsearch(&set[0][i], set[1], count[1], sizeof **set, cmp_word) != NULL;
    free(set[0]);
    free(set[1]);
    double d = 1.0 - (double)common / (double)(count[0] + count[1] - common);
    return d > 0.0 ? d : 1e-6;
}

START_TEST(test_body_difference)
{
    const unsigned char *abcdef = (const unsigned char *)"abcdef";
    const unsigned char *abcdeX = (const unsigned char *)"abcdeX";
    ck_assert(mewe__wasm_body_difference(abcdef, 6, abcdef, 6) == 0.0);
    /* {abcd, bcde, cdef} against {abcd, bcde, cdeX}: 2 shared of 4. */
    ck_assert_double_eq_tol(mewe__wasm_body_difference(abcdef, 6, abcdeX, 6), 0.5, 1e-12);
    ck_assert_double_eq_tol(mewe__wasm_body_difference(abcdef, 6, (const unsigned char *)"wxyz", 4),
                            1.0, 1e-12);
    /* The same 4-grams in different bytes still differ, a little. */
    double d = mewe__wasm_body_difference((const unsigned char *)"aaaaa", 5,
                                          (const unsigned char *)"aaaaaa", 6);
    ck_assert(d > 0.0 && d < 1e-3);
    /* Short bodies are one gram each. */
    ck_assert_double_eq_tol(
        mewe__wasm_body_difference((const unsigned char *)"ab", 2, (const unsigned char *)"ac", 2),
        1.0, 1e-12);
    /* Large bodies of few byte values (many shared grams, every byte position of the words
     * sorted on), made once and compared many times, as the check does. */
    enum { N = 6, LEN = 5000 };
    unsigned char *bodies[N];
    mewe__wasm_grams grams[N];
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < N; k++) {
        bodies[k] = malloc(LEN);
        for (size_t i = 0; i < LEN; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            bodies[k][i] = (unsigned char)(k < 3 ? x % 7 : x >> 56);
        }
        ck_assert_int_eq(mewe__wasm_grams_make(&grams[k], bodies[k], LEN - (size_t)k), MEWE_OK);
    }
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            double want = naive_difference(bodies[i], LEN - (size_t)i, bodies[j], LEN - (size_t)j);
            ck_assert_double_eq_tol(mewe__wasm_grams_difference(&grams[i], &grams[j]), want, 1e-12);
            ck_assert_double_eq_tol(
                mewe__wasm_body_difference(bodies[i], LEN - (size_t)i, bodies[j], LEN - (size_t)j),
                want, 1e-12);
        }
    }
    for (int k = 0; k < N; k++) {
        mewe__wasm_grams_free(&grams[k]);
        free(bodies[k]);
    }
}
END_TEST

/* ---- variants made in wasm (derive.h) ----------------------------------- */

/* f.mewe.v1 reads a global, calls an import and loops (locals to renumber, relocations to
 * move, operands to swap); f.mewe.v2 and f.mewe.v3 are stubs of it, as generation makes
 * them; g.mewe.v1 calls a function of another family, so it is no stub. */
/* f.mewe.v1, a loop that reads a global and calls a function, and v2, a stub of it. */
#define V1_AND_ITS_STUB                                                                         \
    "define internal i32 @\"f.mewe.v1\"(i32 %a, i32 %b) noinline {\n"                           \
    "entry:\n  %x = load i32, ptr @g\n  br label %loop\n"                                       \
    "loop:\n  %i = phi i32 [ 0, %entry ], [ %i2, %loop ]\n"                                     \
    "  %s = phi i32 [ %a, %entry ], [ %s3, %loop ]\n"                                           \
    "  %m = mul i32 %s, %b\n  %s2 = add i32 %m, %x\n  %c = icmp slt i32 %s2, %i\n"              \
    "  %u = call i32 @ext(i32 %s2)\n  %s3 = select i1 %c, i32 %u, i32 %s2\n"                    \
    "  %i2 = add i32 %i, 1\n  %d = icmp ult i32 %i2, %b\n  br i1 %d, label %loop, label %out\n" \
    "out:\n  %r = sub i32 %s3, 7\n  ret i32 %r\n}\n"                                            \
    "define internal i32 @\"f.mewe.v2\"(i32 %a, i32 %b) noinline {\n"                           \
    "  %r = tail call i32 @\"f.mewe.v1\"(i32 %a, i32 %b)\n  ret i32 %r\n}\n"

static const char derive_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@g = global i32 3\n"
    "declare i32 @ext(i32)\n" V1_AND_ITS_STUB
    "define internal i32 @\"f.mewe.v3\"(i32 %a, i32 %b) noinline {\n"
    "  %r = tail call i32 @\"f.mewe.v1\"(i32 %a, i32 %b)\n  ret i32 %r\n}\n"
    "define internal i32 @\"g.mewe.v1\"(i32 %a, i32 %b) noinline {\n"
    "  %r = tail call i32 @\"f.mewe.v1\"(i32 %a, i32 %b)\n  ret i32 %r\n}\n"
    "define i32 @use(i32 %a, i32 %b) {\n"
    "  %1 = call i32 @\"f.mewe.v1\"(i32 %a, i32 %b)\n"
    "  %2 = call i32 @\"f.mewe.v2\"(i32 %a, i32 %b)\n"
    "  %3 = call i32 @\"f.mewe.v3\"(i32 %a, i32 %b)\n"
    "  %4 = call i32 @\"g.mewe.v1\"(i32 %a, i32 %b)\n"
    "  %5 = add i32 %1, %2\n  %6 = add i32 %3, %4\n  %7 = add i32 %5, %6\n  ret i32 %7\n}\n";

static size_t index_of(const mewe__wasm_info *info, const char *name)
{
    return (size_t)(func_named(info, name) - info->funcs);
}

/* The entries of the object's reloc.CODE that fall in body f, as (type, index, bytes at the
 * offset, offset from the body's start) lines; read here independently of derive.c. */
static char *relocs_in(const wasm_blob *b, const mewe__wasm_info *info, const mewe__wasm_func *f)
{
    const unsigned char *code = NULL, *rel = NULL, *p = b->bytes + 8, *end = b->bytes + b->size;
    size_t rel_size = 0;
    while (p < end) {
        unsigned id = *p++;
        uint64_t size = 0, shift = 0;
        for (unsigned char c = 0x80; c & 0x80; shift += 7)
            size |= (uint64_t)((c = *p++) & 0x7f) << shift;
        if (id == 10)
            code = p;
        if (id == 0 && p[0] == 10 && memcmp(p + 1, "reloc.CODE", 10) == 0) {
            rel = p + 11;
            rel_size = size - 11;
        }
        p += size;
    }
    ck_assert(code && rel);
    (void)info;
    char *out = calloc(1, 65536);
    size_t len = 0, at = (size_t)(f->body - code);
    const unsigned char *r = rel, *rend = rel + rel_size;
    uint64_t v[5];
    for (int k = 0; k < 2; k++) { /* target section, count */
        v[k] = 0;
        for (uint64_t shift = 0, c = 0x80; c & 0x80; shift += 7)
            v[k] |= ((c = *r++) & 0x7f) << shift;
    }
    for (uint64_t n = v[1]; n > 0; n--) {
        for (int k = 0; k < 3; k++) {
            v[k] = 0;
            for (uint64_t shift = 0, c = 0x80; c & 0x80; shift += 7)
                v[k] |= ((c = *r++) & 0x7f) << shift;
        }
        if (v[0] == 3 || v[0] == 4 || v[0] == 5) /* addends of memory addresses */
            while (*r++ & 0x80)
                ;
        if (v[1] >= at && v[1] < at + f->body_len)
            len += (size_t)snprintf(out + len, 65536 - len, "%u %u %02x%02x%02x%02x%02x\n",
                                    (unsigned)v[0], (unsigned)v[2], code[v[1]], code[v[1] + 1],
                                    code[v[1] + 2], code[v[1] + 3], code[v[1] + 4]);
    }
    ck_assert(r == rend);
    return out;
}

/* mewe__wasm_derive of an object built here, which must succeed: the new object. */
static unsigned char *derive_ok(const wasm_blob *b, uint64_t seed, const char *const *into,
                                size_t n, size_t *size, mewe__derive_stats *st)
{
    unsigned char *out = NULL;
    ck_assert_int_eq(
        mewe__wasm_derive(b->bytes, b->size, &(mewe__derive_in){seed, into, n}, &out, size, st),
        MEWE_OK);
    return out;
}

START_TEST(test_derive_fills_stubs)
{
    wasm_blob b = build("derive.ll", derive_ll, true);
    mewe__wasm_info in, out;
    parse_ok(&in, &b);
    size_t v1 = index_of(&in, "f.mewe.v1"), v2 = index_of(&in, "f.mewe.v2");
    ck_assert_int_eq(mewe__wasm_forward_target(&in, v2), (long)v1);
    ck_assert_int_eq(mewe__wasm_forward_target(&in, index_of(&in, "f.mewe.v3")), (long)v1);
    ck_assert_int_eq(mewe__wasm_forward_target(&in, index_of(&in, "g.mewe.v1")), -1);
    ck_assert_int_eq(mewe__wasm_forward_target(&in, v1), -1);
    /* Until filled, the twin review leaves the stubs alone, and counts them as their
     * target's code. */
    mewe__wasm_twin *t = NULL;
    size_t nt = 9;
    ck_assert_int_eq(mewe__wasm_twins(&in, &t, &nt), MEWE_OK);
    ck_assert_uint_eq(nt, 0);
    assert_family(&in, "f", 3, 1);

    unsigned char *filled = NULL;
    size_t size = 0;
    mewe__derive_stats st;
    filled = derive_ok(&b, 1, NULL, 0, &size, &st);
    ck_assert_ptr_null(st.skipped);
    ck_assert_uint_eq(st.stubs, 2);
    ck_assert_uint_eq(st.derived, 2);
    ck_assert_uint_eq(st.alike, 0);
    wasm_blob fb = {filled, size};
    parse_ok(&out, &fb);
    const mewe__wasm_func *src = func_named(&out, "f.mewe.v1");
    const mewe__wasm_func *d2 = func_named(&out, "f.mewe.v2");
    const mewe__wasm_func *d3 = func_named(&out, "f.mewe.v3");
    ck_assert_int_eq(mewe__wasm_forward_target(&out, index_of(&out, "f.mewe.v2")), -1);
    ck_assert(same_body(src, func_named(&in, "f.mewe.v1")));
    ck_assert(!same_body(d2, src) && !same_body(d3, src) && !same_body(d2, d3));
    ck_assert(same_body(func_named(&out, "g.mewe.v1"), func_named(&in, "g.mewe.v1")));
    assert_family(&out, "f", 3, 3);
    /* The same locals, the same instructions but for operand order and numbering. */
    ck_assert_uint_eq(d2->locals, src->locals);
    ck_assert_int_eq((int)d2->body_len - (int)src->body_len, 0);
    /* Every relocation of the source is in each copy, with the same bytes, in order; the
     * stubs' calls went with them, the others stayed. */
    char *rs = relocs_in(&fb, &out, src), *r2 = relocs_in(&fb, &out, d2);
    char *r3 = relocs_in(&fb, &out, d3), *rg = relocs_in(&b, &in, func_named(&in, "g.mewe.v1"));
    char *rg2 = relocs_in(&fb, &out, func_named(&out, "g.mewe.v1"));
    size_t lines = 0;
    for (const char *c = rs; *c; c++)
        lines += *c == '\n';
    ck_assert_uint_eq(lines, 2); /* the global's address and the import's call */
    ck_assert_str_eq(r2, rs);
    ck_assert_str_eq(r3, rs);
    ck_assert_str_eq(rg2, rg);
    free(rs);
    free(r2);
    free(r3);
    free(rg);
    free(rg2);
    /* The same object and seed again: the same bytes; another seed, other copies. */
    unsigned char *again = NULL;
    size_t again_size = 0;
    again = derive_ok(&b, 1, NULL, 0, &again_size, &st);
    ck_assert(again_size == size && memcmp(again, filled, size) == 0);
    free(again);
    again = derive_ok(&b, 2, NULL, 0, &again_size, &st);
    wasm_blob ab = {again, again_size};
    mewe__wasm_info other;
    parse_ok(&other, &ab);
    ck_assert(!same_body(func_named(&other, "f.mewe.v2"), d2));
    mewe__wasm_info_free(&other);
    free(again);
    /* Filled stubs are stubs no more: nothing to do. */
    ck_assert_int_eq(
        mewe__wasm_derive(filled, size, &(mewe__derive_in){1, NULL, 0}, &again, &again_size, &st),
        MEWE_OK);
    free(again);
    ck_assert_ptr_null(again);
    ck_assert_uint_eq(st.stubs, 0);
    mewe__wasm_info_free(&in);
    mewe__wasm_info_free(&out);
    free(filled);
    free(b.bytes);
}
END_TEST

/* Code generation at -O0 passes a stub's result through a local and returns it: a stub
 * still, filled like the others. */
START_TEST(test_derive_fills_stubs_at_o0)
{
    wasm_blob b = build_at("derive.ll", derive_ll, true, "-O0");
    mewe__wasm_info in;
    parse_ok(&in, &b);
    ck_assert_int_eq(mewe__wasm_forward_target(&in, index_of(&in, "f.mewe.v2")),
                     (long)index_of(&in, "f.mewe.v1"));
    unsigned char *filled = NULL;
    size_t size = 0;
    mewe__derive_stats st;
    filled = derive_ok(&b, 1, NULL, 0, &size, &st);
    ck_assert_uint_eq(st.derived, 2);
    wasm_blob fb = {filled, size};
    mewe__wasm_info out;
    parse_ok(&out, &fb);
    assert_family(&out, "f", 3, 3);
    mewe__wasm_info_free(&in);
    mewe__wasm_info_free(&out);
    free(filled);
    free(b.bytes);
}
END_TEST

/* An object whose DWARF names code offsets is left as it is, stubs and all; so is one whose
 * code relocations name another section. */
START_TEST(test_derive_leaves_what_it_cannot_move)
{
    wasm_blob b = build("derive.ll", derive_ll, true);
    static const unsigned char debug[] = {0,   12,  11,  '.', 'd', 'e', 'b',
                                          'u', 'g', '_', 'i', 'n', 'f', 'o'};
    unsigned char *with = malloc(b.size + sizeof debug);
    memcpy(with, b.bytes, b.size);
    memcpy(with + b.size, debug, sizeof debug);
    unsigned char *filled = (unsigned char *)1;
    size_t size = 1;
    mewe__derive_stats st;
    ck_assert_int_eq(mewe__wasm_derive(with, b.size + sizeof debug, &(mewe__derive_in){1, NULL, 0},
                                       &filled, &size, &st),
                     MEWE_OK);
    ck_assert_ptr_null(filled);
    ck_assert_uint_eq(size, 0);
    ck_assert_uint_eq(st.stubs, 2);
    ck_assert_uint_eq(st.derived + st.alike, 0);
    ck_assert_ptr_nonnull(strstr(st.skipped, "DWARF"));
    unsigned char *rel = memmem(b.bytes, b.size, "reloc.CODE", 10);
    ck_assert_ptr_nonnull(rel);
    rel[10] ^= 1; /* the section index the relocations apply to */
    filled = derive_ok(&b, 1, NULL, 0, &size, &st);
    ck_assert_ptr_null(filled);
    ck_assert_ptr_nonnull(strstr(st.skipped, "relocations"));
    /* Not a module at all. */
    ck_assert_int_eq(
        mewe__wasm_derive(with, 7, &(mewe__derive_in){1, NULL, 0}, &filled, &size, &st),
        MEWE_EPARSE);
    free(with);
    free(b.bytes);
}
END_TEST

/* A dispatcher f that calls its variants: v0 returns from inside a loop and a block, v1 reads
 * a global and calls a function, v2 and v3 are stubs of v1 and v0. main calls f with every
 * variant chosen in turn and prints what it returns. */
static const char splice_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@sel = global i32 0\n@g = global i32 3\n"
    "@fmt = private constant [4 x i8] c\"%d\\0A\\00\"\n"
    "declare i32 @printf(ptr, ...)\n"
    "define i32 @ext(i32 %x) noinline {\n  %y = xor i32 %x, 5\n  ret i32 %y\n}\n"
    "define internal i32 @\"f.mewe.v0\"(i32 %a, i32 %b) noinline {\n"
    "entry:\n  %c = icmp sgt i32 %a, 20\n  br i1 %c, label %big, label %small\n"
    "big:\n  %x = mul i32 %a, %b\n  ret i32 %x\n"
    "small:\n  br label %loop\n"
    "loop:\n  %i = phi i32 [ 0, %small ], [ %i2, %body ]\n"
    "  %s = phi i32 [ %a, %small ], [ %s2, %body ]\n"
    "  %d = icmp ult i32 %i, %b\n  br i1 %d, label %body, label %out\n"
    "body:\n  %s2 = add i32 %s, %i\n  %e = icmp eq i32 %s2, 13\n  %i2 = add i32 %i, 1\n"
    "  br i1 %e, label %early, label %loop\n"
    "early:\n  ret i32 99\n"
    "out:\n  ret i32 %s\n}\n" V1_AND_ITS_STUB
    "define internal i32 @\"f.mewe.v3\"(i32 %a, i32 %b) noinline {\n"
    "  %r = tail call i32 @\"f.mewe.v0\"(i32 %a, i32 %b)\n  ret i32 %r\n}\n"
    "define i32 @f(i32 %a, i32 %b) noinline {\n"
    "entry:\n  %k = load volatile i32, ptr @sel\n"
    "  switch i32 %k, label %c0 [ i32 1, label %c1\n i32 2, label %c2\n i32 3, label %c3 ]\n"
    "c0:\n  %r0 = call i32 @\"f.mewe.v0\"(i32 %a, i32 %b)\n  ret i32 %r0\n"
    "c1:\n  %r1 = call i32 @\"f.mewe.v1\"(i32 %a, i32 %b)\n  ret i32 %r1\n"
    "c2:\n  %r2 = call i32 @\"f.mewe.v2\"(i32 %a, i32 %b)\n  ret i32 %r2\n"
    "c3:\n  %r3 = call i32 @\"f.mewe.v3\"(i32 %a, i32 %b)\n  ret i32 %r3\n}\n"
    "define i32 @main() {\n"
    "entry:\n  br label %loop\n"
    "loop:\n  %i = phi i32 [ 0, %entry ], [ %i2, %loop ]\n  %s = urem i32 %i, 4\n"
    "  store volatile i32 %s, ptr @sel\n  %r = call i32 @f(i32 %i, i32 7)\n"
    "  %p = call i32 (ptr, ...) @printf(ptr @fmt, i32 %r)\n"
    "  %i2 = add i32 %i, 1\n  %c = icmp ult i32 %i2, 40\n  br i1 %c, label %loop, label %done\n"
    "done:\n  ret i32 0\n}\n";

/* Links an object with wasi-libc into a command, validates it and runs it: its output. */
static char *link_and_run(const wasm_blob *obj)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], o[600], out[600];
    snprintf(dir, sizeof dir, "%s/mewe-splice-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(o, sizeof o, "%s/in.o", dir);
    snprintf(out, sizeof out, "%s/out.wasm", dir);
    FILE *f = fopen(o, "wb");
    ck_assert(f && fwrite(obj->bytes, 1, obj->size, f) == obj->size && fclose(f) == 0);
    char *log = NULL;
    ck_assert_msg(wasm_validate(o, &log) == 0, "the object does not validate: %s", log);
    char *argv[] = {MEWE_CLANG, "--target=wasm32-wasi", "-o", out, o, NULL};
    run_clang(argv);
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, out, NULL, NULL, NULL, 0), 0);
    ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
    char *text = strdup(r.out);
    wasm_run_result_free(&r);
    unlink(o);
    unlink(out);
    rmdir(dir);
    return text;
}

/* A dispatcher's calls of its variants become their bodies once the stubs are filled: the
 * program prints what it printed, the dispatcher calls none of them, and the stats count the
 * family as it was before (four bodies, all different). */
START_TEST(test_derive_splices_calls_into_the_dispatcher)
{
    wasm_blob b = build("splice.ll", splice_ll, true);
    char *expected = link_and_run(&b);
    ck_assert_uint_eq(strlen(expected) > 0 && expected[strlen(expected) - 1] == '\n', 1);
    static const char *const into[] = {"f"};
    unsigned char *spliced = NULL, *filled = NULL;
    size_t size = 0, filled_size = 0;
    mewe__derive_stats st;
    filled = derive_ok(&b, 1, NULL, 0, &filled_size, &st);
    ck_assert_uint_eq(st.spliced, 0);
    ck_assert_uint_eq(st.family_count, 0);
    mewe__derive_stats_free(&st);
    spliced = derive_ok(&b, 1, into, 1, &size, &st);
    ck_assert_ptr_null(st.skipped);
    ck_assert_uint_eq(st.derived, 2);
    ck_assert_uint_eq(st.spliced, 4);
    ck_assert_uint_eq(st.family_count, 1);
    ck_assert_str_eq(st.families[0].name, "f");
    ck_assert_uint_eq(st.families[0].variants, 4);
    ck_assert_uint_eq(st.families[0].distinct, 4);
    ck_assert(st.families[0].difference > 0.0 && st.families[0].difference <= 1.0);
    mewe__derive_stats_free(&st);

    wasm_blob fb = {filled, filled_size}, sb = {spliced, size};
    mewe__wasm_info fi, si;
    parse_ok(&fi, &fb);
    parse_ok(&si, &sb);
    /* The variants are still there (the linker drops them); f holds them. */
    const mewe__wasm_func *f_filled = func_named(&fi, "f"), *f_spliced = func_named(&si, "f");
    ck_assert(same_body(func_named(&si, "f.mewe.v2"), func_named(&fi, "f.mewe.v2")));
    size_t members = 0;
    for (int k = 0; k < 4; k++) {
        char name[16];
        snprintf(name, sizeof name, "f.mewe.v%d", k);
        members += func_named(&fi, name)->body_len;
    }
    ck_assert_uint_gt(f_spliced->body_len, members);
    ck_assert_uint_gt(f_spliced->locals, f_filled->locals);
    /* f's relocations are those of the bodies it holds: no call of a variant is left. */
    char *rf = relocs_in(&sb, &si, f_spliced);
    char *r1 = relocs_in(&sb, &si, func_named(&si, "f.mewe.v1"));
    char *r2 = relocs_in(&sb, &si, func_named(&si, "f.mewe.v2"));
    char *r3 = relocs_in(&sb, &si, func_named(&si, "f.mewe.v3"));
    char *held = malloc(strlen(r1) + strlen(r2) + strlen(r3) + 1);
    strcpy(held, r1);
    strcat(held, r2);
    strcat(held, r3); /* v0 has no relocation; f's own load of @sel comes first */
    ck_assert_ptr_nonnull(strstr(rf, held));
    size_t lines = 0;
    for (const char *c = rf; *c; c++)
        lines += *c == '\n';
    ck_assert_uint_eq(lines, 1 + 2 * 2);
    free(rf);
    free(r1);
    free(r2);
    free(r3);
    free(held);

    char *got_filled = link_and_run(&fb), *got_spliced = link_and_run(&sb);
    ck_assert_str_eq(got_filled, expected);
    ck_assert_str_eq(got_spliced, expected);
    free(got_filled);
    free(got_spliced);
    free(expected);
    mewe__wasm_info_free(&fi);
    mewe__wasm_info_free(&si);
    free(filled);
    free(spliced);
    free(b.bytes);
}
END_TEST

/* A body with no locals to renumber, whose operations' operands are computed rather than
 * read: copies differ by computing them the other way round, and compute the same. */
static const char computed_ll[] =
    "target triple = \"wasm32-unknown-wasi\"\n"
    "@fmt = private constant [4 x i8] c\"%d\\0A\\00\"\n"
    "declare i32 @printf(ptr, ...)\n"
    "define internal i32 @\"f.mewe.v1\"(i32 %a, i32 %b) noinline {\n"
    "  %x = mul i32 %a, 3\n  %y = xor i32 %b, 5\n  %s = add i32 %x, %y\n"
    "  %u = mul i32 %a, 7\n  %v = and i32 %b, 9\n  %w = or i32 %u, %v\n"
    "  %r = xor i32 %s, %w\n  ret i32 %r\n}\n"
    "define internal i32 @\"f.mewe.v2\"(i32 %a, i32 %b) noinline {\n"
    "  %r = tail call i32 @\"f.mewe.v1\"(i32 %a, i32 %b)\n  ret i32 %r\n}\n"
    "define i32 @main() {\n"
    "entry:\n  br label %loop\n"
    "loop:\n  %i = phi i32 [ -20, %entry ], [ %i2, %loop ]\n"
    "  %j = mul i32 %i, 7\n"
    "  %r1 = call i32 @\"f.mewe.v1\"(i32 %i, i32 %j)\n"
    "  %r2 = call i32 @\"f.mewe.v2\"(i32 %i, i32 %j)\n  %r = xor i32 %r1, %r2\n"
    "  %p1 = call i32 (ptr, ...) @printf(ptr @fmt, i32 %r1)\n"
    "  %p2 = call i32 (ptr, ...) @printf(ptr @fmt, i32 %r)\n"
    "  %i2 = add i32 %i, 1\n  %c = icmp slt i32 %i2, 20\n  br i1 %c, label %loop, label %done\n"
    "done:\n  ret i32 0\n}\n";

START_TEST(test_derive_swaps_computed_operands)
{
    wasm_blob b = build("computed.ll", computed_ll, true);
    mewe__wasm_info in;
    parse_ok(&in, &b);
    /* No local to renumber, and no operation of two reads. */
    ck_assert_uint_eq(func_named(&in, "f.mewe.v1")->locals, 0);
    char *expected = link_and_run(&b);
    unsigned char *filled = NULL;
    size_t size = 0;
    mewe__derive_stats st;
    filled = derive_ok(&b, 1, NULL, 0, &size, &st);
    ck_assert_uint_eq(st.derived, 1);
    ck_assert_uint_eq(st.alike, 0);
    mewe__derive_stats_free(&st);
    wasm_blob fb = {filled, size};
    mewe__wasm_info out;
    parse_ok(&out, &fb);
    const mewe__wasm_func *src = func_named(&out, "f.mewe.v1"), *d = func_named(&out, "f.mewe.v2");
    ck_assert(!same_body(src, d));
    ck_assert_uint_eq(d->body_len, src->body_len); /* the same instructions, reordered */
    char *got = link_and_run(&fb);
    ck_assert_str_eq(got, expected);
    free(got);
    free(expected);
    mewe__wasm_info_free(&in);
    mewe__wasm_info_free(&out);
    free(filled);
    free(b.bytes);
}
END_TEST

/* ---- splicing bodies (splice.h) --------------------------------------------------------- */

static const unsigned char i32[] = {0x7f};
static const mewe__wasm_functype unary = {1, 1, i32, i32};
static const mewe__wasm_functype two_results = {1, 2, i32, (const unsigned char[]){0x7f, 0x7f}};

/* The callee every call names in these tests (function index 1). */
static const mewe__code *the_callee(uint32_t index, void *user)
{
    return index == 1 ? user : NULL;
}

/* Splices `callee` into a caller that returns callee(x) for its parameter x; the new body. */
static mewe__strbuf splice_into_caller(const mewe__code *callee, size_t *spliced)
{
    static const unsigned char caller[] = {0x00, 0x20, 0x00, 0x10, 0x01, 0x0b};
    mewe__code c = {caller, sizeof caller, NULL, 0, &unary};
    mewe__strbuf out = {0};
    mewe__reloc *relocs = (mewe__reloc *)1;
    size_t count = 9;
    ck_assert_int_eq(
        mewe__splice_calls(&c, the_callee, (void *)callee, &out, &relocs, &count, spliced),
        MEWE_OK);
    ck_assert_uint_eq(count, 0);
    free(relocs);
    return out;
}

static void assert_bytes(const mewe__strbuf *b, const unsigned char *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    ck_assert_msg(memcmp(b->data, want, n) == 0, "other bytes");
}

/* A callee's parameter becomes a local of the pool, its `return` a branch out of the block
 * it is spliced in, out of the `if` around it too. */
START_TEST(test_splice_body)
{
    static const unsigned char add1[] = {0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b};
    mewe__code callee = {add1, sizeof add1, NULL, 0, &unary};
    size_t spliced;
    mewe__strbuf b = splice_into_caller(&callee, &spliced);
    ck_assert_uint_eq(spliced, 1);
    static const unsigned char want[] = {0x01, 0x01, 0x7f, 0x20, 0x00, 0x21, 0x01, 0x02,
                                         0x7f, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x0b, 0x0b};
    assert_bytes(&b, want, sizeof want);
    free(b.data);

    static const unsigned char early[] = {0x00, 0x20, 0x00, 0x04, 0x40, 0x41,
                                          0x07, 0x0f, 0x0b, 0x20, 0x00, 0x0b};
    callee = (mewe__code){early, sizeof early, NULL, 0, &unary};
    b = splice_into_caller(&callee, &spliced);
    ck_assert_uint_eq(spliced, 1);
    static const unsigned char want_early[] = {0x01, 0x01, 0x7f, 0x20, 0x00, 0x21, 0x01, 0x02,
                                               0x7f, 0x20, 0x01, 0x04, 0x40, 0x41, 0x07, 0x0c,
                                               0x01, 0x0b, 0x20, 0x01, 0x0b, 0x0b};
    assert_bytes(&b, want_early, sizeof want_early);
    free(b.data);
}
END_TEST

/* What does not carry over to another function stays called: the caller comes out as it
 * was. */
START_TEST(test_splice_keeps_what_it_cannot_carry)
{
    static const unsigned char caller[] = {0x00, 0x20, 0x00, 0x10, 0x01, 0x0b};
    static const unsigned char tail_call[] = {0x00, 0x20, 0x00, 0x12, 0x01, 0x0b};
    static const unsigned char early_end[] = {0x00, 0x20, 0x00, 0x0b, 0x20, 0x00, 0x0b};
    static const unsigned char no_end[] = {0x00, 0x20, 0x00, 0x02, 0x40, 0x0b};
    static const unsigned char odd_local[] = {0x01, 0x01, 0x40, 0x20, 0x00, 0x0b};
    static const unsigned char far_local[] = {0x00, 0x20, 0x05, 0x0b};
    static const unsigned char try_block[] = {0x00, 0x06, 0x40, 0x0b, 0x20, 0x00, 0x0b};
    static const unsigned char plain[] = {0x00, 0x20, 0x00, 0x0b};
    const mewe__code cases[] = {
        {tail_call, sizeof tail_call, NULL, 0, &unary},
        {early_end, sizeof early_end, NULL, 0, &unary},
        {no_end, sizeof no_end, NULL, 0, &unary},
        {odd_local, sizeof odd_local, NULL, 0, &unary},
        {far_local, sizeof far_local, NULL, 0, &unary},
        {try_block, sizeof try_block, NULL, 0, &unary},
        {plain, sizeof plain, NULL, 0, &two_results},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t spliced = 9;
        mewe__strbuf b = splice_into_caller(&cases[k], &spliced);
        ck_assert_msg(spliced == 0, "case %zu spliced", k);
        assert_bytes(&b, caller, sizeof caller);
        free(b.data);
    }
}
END_TEST

static Suite *wasm_inspect_suite(void)
{
    Suite *s = suite_create("wasm_inspect");
    TCase *real = tcase_create("real");
    TCase *bad = tcase_create("malformed");
    TCase *diff = tcase_create("difference");

    /* Each real test runs clang and wasm-ld, under sanitizers. */
    tcase_set_timeout(real, 300);
    tcase_set_timeout(bad, 300);
    tcase_add_test(real, test_names_and_bodies);
    tcase_add_test(real, test_family_distinct);
    tcase_add_test(real, test_families_bulk);
    tcase_add_test(real, test_imports_shift_indices);
    tcase_add_test(real, test_derive_fills_stubs);
    tcase_add_test(real, test_derive_fills_stubs_at_o0);
    tcase_add_test(real, test_derive_leaves_what_it_cannot_move);
    tcase_add_test(real, test_derive_splices_calls_into_the_dispatcher);
    tcase_add_test(real, test_derive_swaps_computed_operands);
    tcase_add_test(real, test_splice_body);
    tcase_add_test(real, test_splice_keeps_what_it_cannot_carry);
    tcase_add_test(bad, test_not_wasm);
    tcase_add_test(bad, test_truncated_everywhere);
    tcase_add_test(bad, test_corrupted_bytes);
    tcase_add_test(bad, test_handmade_module);
    tcase_add_test(bad, test_bad_framing);
    tcase_add_test(bad, test_bad_contents);
    tcase_add_test(bad, test_bad_names);
    suite_add_tcase(s, real);
    suite_add_tcase(s, bad);
    tcase_add_test(diff, test_body_difference);
    suite_add_tcase(s, diff);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wasm_inspect_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
