/* The engines' implementation limits (lib/wasm/limits.c): the check on hand-made modules at
 * and just past each limit, and emitting modules made from generated IR that go over one:
 * the -O0 locals fallback, and the errors that name the function and the limit. White-box:
 * links the uninstalled static library. */
#include <stdarg.h>

#include <mewe/sys/llvm.h>

#include "test-util.h"
#include "wasm/inspect.h"
#include "wasm/limits.h"

/* ---- hand-made modules ---------------------------------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, unsigned v)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    b->p[b->len++] = (unsigned char)v;
}

static void uleb(bytes *b, unsigned long long v)
{
    do {
        unsigned byte = v & 0x7f;
        v >>= 7;
        put(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void append(bytes *b, const bytes *from)
{
    for (size_t i = 0; i < from->len; i++)
        put(b, from->p[i]);
}

static void section(bytes *m, unsigned id, bytes *payload)
{
    put(m, id);
    uleb(m, payload->len);
    append(m, payload);
    free(payload->p);
    *payload = (bytes){0};
}

/* A module with one type (params i32 parameters, no result) and one function "f" of that
 * type, whose body declares `locals` i32 locals and runs `code` (then `end`). */
static bytes module_with(unsigned params, unsigned long long locals, const bytes *code)
{
    bytes m = {0}, s = {0};
    static const unsigned char header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    for (size_t i = 0; i < sizeof header; i++)
        put(&m, header[i]);
    uleb(&s, 1); /* types */
    put(&s, 0x60);
    uleb(&s, params);
    for (unsigned i = 0; i < params; i++)
        put(&s, 0x7f);
    uleb(&s, 0);
    section(&m, 1, &s);
    uleb(&s, 1); /* functions */
    uleb(&s, 0);
    section(&m, 3, &s);
    bytes body = {0};
    uleb(&body, locals ? 1 : 0);
    if (locals) {
        uleb(&body, locals);
        put(&body, 0x7f);
    }
    if (code)
        append(&body, code);
    put(&body, 0x0b);
    uleb(&s, 1); /* code */
    uleb(&s, body.len);
    append(&s, &body);
    free(body.p);
    section(&m, 10, &s);
    /* name section: function 0 is "f" */
    bytes names = {0};
    uleb(&names, 1);
    uleb(&names, 0);
    uleb(&names, 1);
    put(&names, 'f');
    uleb(&s, 4);
    put(&s, 'n');
    put(&s, 'a');
    put(&s, 'm');
    put(&s, 'e');
    put(&s, 1);
    uleb(&s, names.len);
    append(&s, &names);
    free(names.p);
    section(&m, 0, &s);
    return m;
}

/* A body that branches through a br_table of `targets` entries. */
static bytes br_table_code(unsigned long long targets)
{
    bytes c = {0};
    put(&c, 0x02); /* block */
    put(&c, 0x40);
    put(&c, 0x41); /* i32.const 0 */
    put(&c, 0x00);
    put(&c, 0x0e);
    uleb(&c, targets);
    for (unsigned long long i = 0; i <= targets; i++)
        put(&c, 0x00);
    put(&c, 0x0b); /* end of block */
    return c;
}

/* Parses and checks; returns the number of excesses, the first in *first. */
static size_t check_bytes(const bytes *m, mewe__wasm_excess *first)
{
    mewe__wasm_info info;
    ck_assert_int_eq(mewe__wasm_parse(&info, m->p, m->len), MEWE_OK);
    mewe__wasm_excess e[4];
    size_t unscanned;
    size_t n = mewe__wasm_limits_check(&info, e, 4, &unscanned);
    ck_assert_uint_eq(unscanned, 0);
    if (n)
        *first = e[0];
    mewe__wasm_info_free(&info);
    return n;
}

START_TEST(locals_at_and_past_the_limit)
{
    mewe__wasm_excess e;
    bytes m = module_with(0, 50000, NULL);
    ck_assert_uint_eq(check_bytes(&m, &e), 0);
    free(m.p);
    /* Parameters are locals too. */
    m = module_with(1, 50000, NULL);
    ck_assert_uint_eq(check_bytes(&m, &e), 1);
    ck_assert_str_eq(e.what, "locals");
    ck_assert_uint_eq(e.value, 50001);
    ck_assert_uint_eq(e.limit, 50000);
    ck_assert(e.per_function);
    ck_assert_uint_eq(e.func, 0);
    free(m.p);
    m = module_with(0, 4000000000ull, NULL);
    ck_assert_uint_eq(check_bytes(&m, &e), 1);
    ck_assert_uint_eq(e.value, 4000000000ull);
    free(m.p);
}
END_TEST

START_TEST(br_table_at_and_past_the_limit)
{
    mewe__wasm_excess e;
    bytes code = br_table_code(65520);
    bytes m = module_with(0, 0, &code);
    ck_assert_uint_eq(check_bytes(&m, &e), 0);
    free(m.p);
    free(code.p);
    code = br_table_code(65521);
    m = module_with(0, 0, &code);
    ck_assert_uint_eq(check_bytes(&m, &e), 1);
    ck_assert_str_eq(e.what, "br_table targets");
    ck_assert_uint_eq(e.value, 65521);
    ck_assert_uint_eq(e.limit, 65520);
    free(m.p);
    free(code.p);
}
END_TEST

START_TEST(params_past_the_limit)
{
    mewe__wasm_excess e;
    bytes m = module_with(1000, 0, NULL);
    ck_assert_uint_eq(check_bytes(&m, &e), 0);
    free(m.p);
    m = module_with(1001, 0, NULL);
    ck_assert_uint_eq(check_bytes(&m, &e), 1);
    ck_assert_str_eq(e.what, "parameters");
    ck_assert_uint_eq(e.value, 1001);
    free(m.p);
}
END_TEST

/* Body size: 7654321 bytes is the most; a body of nops just past it is over. */
START_TEST(body_size_past_the_limit)
{
    mewe__wasm_excess e;
    for (unsigned long long size = 7654321; size <= 7654322; size++) {
        bytes code = {0};
        /* body = locals count (1 byte) + nops + end */
        for (unsigned long long i = 0; i + 2 < size; i++)
            put(&code, 0x01);
        bytes m = module_with(0, 0, &code);
        size_t n = check_bytes(&m, &e);
        ck_assert_uint_eq(n, size > 7654321);
        if (n) {
            ck_assert_str_eq(e.what, "body bytes");
            ck_assert_uint_eq(e.value, size);
        }
        free(m.p);
        free(code.p);
    }
}
END_TEST

/* The instruction walk on what clang emits with every feature LLVM 19 can turn on:
 * SIMD, bulk memory, sign extension, saturating conversions, atomics, tail calls. */
static const char features_c[] =
    "#include <wasm_simd128.h>\n"
    "#include <string.h>\n"
    "int sum(const int *a, int n) {\n"
    "  v128_t s = wasm_i32x4_splat(0);\n"
    "  for (int i = 0; i + 4 <= n; i += 4) s = wasm_i32x4_add(s, wasm_v128_load(a + i));\n"
    "  s = wasm_i32x4_replace_lane(s, 1, 7);\n"
    "  return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);\n"
    "}\n"
    "int g0(int), g1(int), g2(int), g3(int), g4(int), g5(int);\n"
    "int sw(int x) { switch (x) { case 0: return g0(x); case 1: return g1(x);\n"
    "  case 2: return g2(x); case 3: return g3(x); case 4: return g4(x);\n"
    "  case 5: return g5(x); default: return -1; } }\n"
    "int conv(float f, signed char c) { return (int)f + c; }\n"
    "void copy(char *d, const char *s, int n) { memcpy(d, s, n); memset(d, 1, n); }\n"
    "int counter;\n"
    "int bump(void) { return __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST); }\n"
    "__attribute__((noinline)) int leaf(int x) { return x * 3; }\n"
    "int tail(int x) { return leaf(x + 1); }\n";

START_TEST(body_scan_decodes_llvm_output)
{
    const char *src = tpath("features.c"), *out = tpath("features.wasm");
    write_file(src, features_c, strlen(features_c));
    const char *argv[] = {MEWE_CLANG,
                          "--target=wasm32-wasi",
                          "-O2",
                          "-msimd128",
                          "-mbulk-memory",
                          "-mnontrapping-fptoint",
                          "-msign-ext",
                          "-matomics",
                          "-mtail-call",
                          "-nostdlib",
                          "-Wl,--no-entry",
                          "-Wl,--export-all",
                          "-Wl,--allow-undefined",
                          "-Wl,--shared-memory",
                          "-Wl,--max-memory=1048576",
                          "-Wl,--import-memory",
                          src,
                          "-o",
                          out,
                          NULL};
    char *log = NULL;
    ck_assert_msg(run_compiler(argv, &log) == 0, "%s", log);
    free(log);
    size_t size;
    char *wasm = read_file(out, &size);
    mewe__wasm_info info;
    ck_assert_int_eq(mewe__wasm_parse(&info, wasm, size), MEWE_OK);
    ck_assert_uint_ge(info.func_count, 6);
    bool saw_table = false;
    for (size_t i = 0; i < info.func_count; i++) {
        uint32_t br;
        ck_assert_msg(mewe__wasm_body_scan(&info.funcs[i], &br) == MEWE_OK, "function %zu (%s)", i,
                      info.funcs[i].name ? info.funcs[i].name : "?");
        saw_table |= br >= 6;
    }
    ck_assert(saw_table);
    ck_assert_uint_ge(info.counts.exports, 6);
    ck_assert_uint_eq(info.counts.memories, 1);
    ck_assert_uint_ge(info.counts.imports, 1);
    mewe__wasm_excess e;
    size_t unscanned;
    ck_assert_uint_eq(mewe__wasm_limits_check(&info, &e, 1, &unscanned), 0);
    ck_assert_uint_eq(unscanned, 0);
    mewe__wasm_info_free(&info);
    free(wasm);
}
END_TEST

START_TEST(body_scan_refuses_what_it_does_not_know)
{
    bytes code = {0};
    put(&code, 0xfb); /* the GC proposal's prefix */
    put(&code, 0x00);
    bytes m = module_with(0, 0, &code);
    mewe__wasm_info info;
    ck_assert_int_eq(mewe__wasm_parse(&info, m.p, m.len), MEWE_OK);
    uint32_t br;
    ck_assert_int_eq(mewe__wasm_body_scan(&info.funcs[0], &br), MEWE_EPARSE);
    mewe__wasm_excess e;
    size_t unscanned;
    ck_assert_uint_eq(mewe__wasm_limits_check(&info, &e, 1, &unscanned), 0);
    ck_assert_uint_eq(unscanned, 1);
    mewe__wasm_info_free(&info);
    free(m.p);
    free(code.p);
    /* A br_table cut short, an `end` before the last byte. */
    code = (bytes){0};
    put(&code, 0x0e);
    put(&code, 0x05);
    put(&code, 0x00);
    m = module_with(0, 0, &code);
    ck_assert_int_eq(mewe__wasm_parse(&info, m.p, m.len), MEWE_OK);
    ck_assert_int_eq(mewe__wasm_body_scan(&info.funcs[0], &br), MEWE_EPARSE);
    mewe__wasm_info_free(&info);
    free(m.p);
    free(code.p);
    code = (bytes){0};
    put(&code, 0x0b);
    put(&code, 0x01);
    m = module_with(0, 0, &code);
    ck_assert_int_eq(mewe__wasm_parse(&info, m.p, m.len), MEWE_OK);
    ck_assert_int_eq(mewe__wasm_body_scan(&info.funcs[0], &br), MEWE_EPARSE);
    mewe__wasm_info_free(&info);
    free(m.p);
    free(code.p);
}
END_TEST

/* ---- emitting generated IR ---------------------------------------------------- */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        ck_assert_int_ge(n, 0);
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        ck_assert_ptr_nonnull(t->p);
        if (t->len == 0)
            t->p[0] = '\0';
    }
}

/* @chain(x): n multiplications in a row; at -O0 each value (and each constant) gets a local
 * of its own, at -O1 they stay on the wasm stack. main prints chain(3) & 255. */
static text chain_ll(unsigned n)
{
    text t = {0};
    add(&t, "target triple = \"wasm32-unknown-wasi\"\n"
            "@fmt = private constant [4 x i8] c\"%%d\\0A\\00\"\n"
            "declare i32 @printf(ptr, ...)\n"
            "define i32 @chain(i32 %%x) noinline {\n  %%v0 = add i32 %%x, 1\n");
    for (unsigned i = 1; i < n; i++)
        add(&t, "  %%v%u = mul i32 %%v%u, %u\n", i, i - 1, i % 7 + 3);
    add(&t,
        "  ret i32 %%v%u\n}\n"
        "define i32 @main() {\n  %%r = call i32 @chain(i32 3)\n"
        "  %%m = and i32 %%r, 255\n"
        "  %%p = call i32 (ptr, ...) @printf(ptr @fmt, i32 %%m)\n  ret i32 0\n}\n",
        n - 1);
    return t;
}

static unsigned chain_expected(unsigned n)
{
    unsigned v = 3 + 1;
    for (unsigned i = 1; i < n; i++)
        v *= i % 7 + 3;
    return v & 255;
}

typedef struct captured {
    char text[4096];
    int warnings;
} captured;

static void capture(mewe_log_level level, const char *message, void *user_data)
{
    captured *c = user_data;
    if (level != MEWE_LOG_WARN)
        return;
    c->warnings++;
    size_t len = strlen(c->text);
    snprintf(c->text + len, sizeof c->text - len, "%s\n", message);
}

static mewe_module *load_text(const text *t, const char *name)
{
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load_memory(&m, tctx, t->p, t->len, name));
    return m;
}

static void assert_runs(const char *wasm, const char *expected)
{
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, wasm, NULL, NULL, NULL, 0), 0);
    ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
    ck_assert_str_eq(r.out, expected);
    wasm_run_result_free(&r);
}

/* 30000 multiplications: about 60000 locals at -O0, over V8's 50000 ("local count too
 * large"); libmewe emits at -O1 instead, says so, and the module runs. */
START_TEST(too_many_locals_at_O0_falls_back_to_O1)
{
    enum { N = 30000 };
    captured log = {"", 0};
    mewe_context_set_log_callback(tctx, capture, MEWE_LOG_WARN, &log);
    text t = chain_ll(N);
    mewe_module *m = load_text(&t, "chain.ll");
    free(t.p);
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.opt_level = 0;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("chain.wasm")));
    ck_assert_int_eq(log.warnings, 1);
    ck_assert_msg(strstr(log.text, "function 'chain': ") &&
                      strstr(log.text, " locals, over "
                                       "the engines' limit of 50000") &&
                      strstr(log.text, "emitted at -O1"),
                  "%s", log.text);
    size_t size;
    char *wasm = read_file(tpath("chain.wasm"), &size);
    mewe__wasm_info info;
    ck_assert_int_eq(mewe__wasm_parse(&info, wasm, size), MEWE_OK);
    for (size_t i = 0; i < info.func_count; i++)
        ck_assert_uint_le(info.funcs[i].locals, 50000);
    mewe__wasm_info_free(&info);
    free(wasm);
    char expected[16];
    snprintf(expected, sizeof expected, "%u\n", chain_expected(N));
    assert_runs(tpath("chain.wasm"), expected);
}
END_TEST

/* The same for a dispatcher that carries its variants inside it: a warning says what was
 * done (the report describes the module, not one emission of it). */
START_TEST(inlined_dispatcher_fallback_is_in_the_report)
{
    enum { N = 3000 };
    captured log = {"", 0};
    mewe_context_set_log_callback(tctx, capture, MEWE_LOG_WARN, &log);
    text t = chain_ll(N);
    mewe_module *m = load_text(&t, "chain.ll");
    free(t.p);
    const char *allow[] = {"chain"};
    mewe_generate_options g = MEWE_GENERATE_OPTIONS_INIT;
    g.variants = 12;
    g.allow = allow;
    g.allow_count = 1;
    /* At -O2 the multiplications fold into one and the 12 variants into about 4 bodies,
     * which generation's wasm check would keep; this test needs 12 bodies at -O0. */
    g.wasm_rounds = MEWE_WASM_ROUNDS_OFF;
    g.wasm_derived = MEWE_WASM_DERIVED_OFF; /* 12 bodies of LLVM's, to hold inline */
    ck_assert_mewe_ok(mewe_generate_variants(m, &g));
    mewe_link_options l = MEWE_LINK_OPTIONS_INIT;
    l.inline_limit = 1000000;
    ck_assert_mewe_ok(mewe_link_multivariant(m, &l));
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.opt_level = 0;
    ck_assert_mewe_ok(mewe_emit_wasm(m, &o, tpath("mv.wasm")));
    ck_assert_msg(strstr(log.text, "function 'chain': ") && strstr(log.text, "emitted at -O1"),
                  "%s", log.text);
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    ck_assert_msg(strstr(json, "\"inlined_dispatchers\": 1"), "%s", json);
    mewe_free(json);
    char expected[16];
    snprintf(expected, sizeof expected, "%u\n", chain_expected(N));
    assert_runs(tpath("mv.wasm"), expected);
}
END_TEST

/* What cannot be fixed fails with the function and the limit in the message, and leaves no
 * file. */
START_TEST(too_many_parameters_is_an_error)
{
    text t = {0};
    add(&t, "target triple = \"wasm32-unknown-wasi\"\ndefine i32 @wide(");
    for (unsigned i = 0; i < 1001; i++)
        add(&t, "%si32 %%p%u", i ? ", " : "", i);
    add(&t, ") noinline {\n  %%s = add i32 %%p0, %%p1000\n  ret i32 %%s\n}\n"
            "define i32 @main() {\n  %%r = call i32 @wide(");
    for (unsigned i = 0; i < 1001; i++)
        add(&t, "%si32 %u", i ? ", " : "", i);
    add(&t, ")\n  ret i32 0\n}\n");
    mewe_module *m = load_text(&t, "wide.ll");
    free(t.p);
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, tpath("wide.wasm")), MEWE_ETARGET,
                         "function 'wide': 1001 parameters, over the engines' limit of 1000");
    ck_assert(!file_exists(tpath("wide.wasm")));
    /* At -O0 as well: a fallback to -O1 cannot help. */
    mewe_emit_options o = MEWE_EMIT_OPTIONS_INIT;
    o.opt_level = 0;
    void *data = (void *)1;
    size_t size = 1;
    ck_assert_mewe_fails(mewe_emit_wasm_memory(&data, &size, m, &o), MEWE_ETARGET,
                         "'wide.ll' would not load in WebAssembly engines");
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(size, 0);
}
END_TEST

/* The checks around code generation, with a stand-in for it that returns hand-made
 * modules: level 0 gives `at_O0`, the others `at_O1`. */
typedef struct fake {
    bytes at_O0, at_O1;
    int calls[4];
} fake;

static int fake_emit(void *user, int level, void **out, size_t *out_size)
{
    fake *f = user;
    f->calls[level]++;
    const bytes *b = level == 0 ? &f->at_O0 : &f->at_O1;
    *out = malloc(b->len);
    ck_assert_ptr_nonnull(*out);
    memcpy(*out, b->p, b->len);
    *out_size = b->len;
    return MEWE_OK;
}

static int fake_run(fake *f, mewe_module *m, int level, char *note, size_t note_size)
{
    void *out = NULL;
    size_t size = 0;
    int rc = mewe__wasm_limits_emit(tctx, "fake.ll", m ? mewe_module_get_llvm(m) : NULL, level,
                                    fake_emit, f, &out, &size, note, note_size);
    ck_assert(rc == MEWE_OK ? out != NULL : out == NULL);
    free(out);
    return rc;
}

START_TEST(fallback_only_when_it_helps)
{
    char note[640] = "";
    fake f = {module_with(0, 60000, NULL), module_with(0, 10, NULL), {0}};
    ck_assert_mewe_ok(fake_run(&f, NULL, 0, note, sizeof note));
    ck_assert_int_eq(f.calls[0], 1);
    ck_assert_int_eq(f.calls[1], 1);
    ck_assert_str_eq(note, "at -O0, function 'f': 60000 locals, over the engines' limit of "
                           "50000; emitted at -O1 instead");
    /* Asked for -O2: no retry, an error. */
    fake f2 = {module_with(0, 10, NULL), module_with(0, 60000, NULL), {0}};
    note[0] = '\0';
    ck_assert_int_eq(fake_run(&f2, NULL, 2, note, sizeof note), MEWE_ETARGET);
    ck_assert_int_eq(f2.calls[2], 1);
    ck_assert_int_eq(f2.calls[1], 0);
    ck_assert_str_eq(note, "");
    ck_assert_str_eq(mewe_context_errmsg(tctx),
                     "'fake.ll' would not load in WebAssembly "
                     "engines: function 'f': 60000 locals, over the engines' limit of 50000; "
                     "split the function in the source");
    free(f2.at_O0.p);
    free(f2.at_O1.p);
    free(f.at_O1.p);
    /* Still over at -O1: an error that says so. */
    f.at_O1 = module_with(0, 50001, NULL);
    memset(f.calls, 0, sizeof f.calls);
    ck_assert_int_eq(fake_run(&f, NULL, 0, note, sizeof note), MEWE_ETARGET);
    ck_assert_int_eq(f.calls[1], 1);
    ck_assert_msg(strstr(mewe_context_errmsg(tctx), "function 'f': 50001 locals, over the "
                                                    "engines' limit of 50000 (at -O1 too)"),
                  "%s", mewe_context_errmsg(tctx));
    ck_assert_str_eq(note, "");
    free(f.at_O0.p);
    free(f.at_O1.p);
    /* A limit that optimizing does not change: no retry. */
    f.at_O0 = module_with(1001, 0, NULL);
    f.at_O1 = module_with(0, 0, NULL);
    memset(f.calls, 0, sizeof f.calls);
    ck_assert_int_eq(fake_run(&f, NULL, 0, note, sizeof note), MEWE_ETARGET);
    ck_assert_int_eq(f.calls[1], 0);
    free(f.at_O0.p);
    free(f.at_O1.p);
}
END_TEST

/* A switch over more values than a br_table may have: refused before code generation (LLVM
 * 19 would also encode it wrongly past 65535 targets); a sparse one of as many cases is
 * fine. */
static text switch_ll(unsigned cases, unsigned stride)
{
    text t = {0};
    add(&t, "target triple = \"wasm32-unknown-wasi\"\n"
            "define i32 @sw(i32 %%x) noinline {\nentry:\n  switch i32 %%x, label %%d [\n");
    for (unsigned i = 0; i < cases; i++)
        add(&t, "    i32 %u, label %%c%u\n", i * stride, i % 3);
    add(&t,
        "  ]\nc0:\n  ret i32 0\nc1:\n  ret i32 1\nc2:\n  ret i32 2\nd:\n  ret i32 3\n}\n"
        "define i32 @main() {\n  %%r = call i32 @sw(i32 %u)\n  ret i32 %%r\n}\n",
        stride * 2);
    return t;
}

START_TEST(switch_too_wide_for_a_br_table_is_an_error)
{
    text t = switch_ll(65600, 1);
    mewe_module *m = load_text(&t, "switch.ll");
    free(t.p);
    ck_assert_mewe_fails(mewe_emit_wasm(m, NULL, tpath("sw.wasm")), MEWE_ETARGET,
                         "function 'sw': a switch with 65600 cases from 0 to 65599");
    ck_assert_msg(strstr(mewe_context_errmsg(tctx), "limit of 65520"), "%s",
                  mewe_context_errmsg(tctx));
    ck_assert(!file_exists(tpath("sw.wasm")));
    /* Dense only in part: 7000 cases, 6600 of them consecutive, refused too; every eleventh
     * value (below LLVM's 10 % density for a jump table) is fine. The stand-in for code
     * generation keeps this fast: LLVM takes half a minute over such switches. */
    fake f = {module_with(0, 0, NULL), module_with(0, 0, NULL), {0}};
    char note[64] = "";
    t = switch_ll(7000, 11);
    m = load_text(&t, "sparse.ll");
    free(t.p);
    ck_assert_mewe_ok(fake_run(&f, m, 2, note, sizeof note));
    t = switch_ll(7000, 10);
    m = load_text(&t, "dense.ll");
    free(t.p);
    ck_assert_int_eq(fake_run(&f, m, 2, note, sizeof note), MEWE_ETARGET);
    ck_assert_int_eq(f.calls[2], 1);
    free(f.at_O0.p);
    free(f.at_O1.p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limits");
    TCase *check = test_case("check");
    tcase_add_test(check, locals_at_and_past_the_limit);
    tcase_add_test(check, br_table_at_and_past_the_limit);
    tcase_add_test(check, params_past_the_limit);
    tcase_add_test(check, body_size_past_the_limit);
    tcase_add_test(check, body_scan_decodes_llvm_output);
    tcase_add_test(check, body_scan_refuses_what_it_does_not_know);
    suite_add_tcase(s, check);
    TCase *emit = test_case("emit");
    tcase_add_test(emit, too_many_locals_at_O0_falls_back_to_O1);
    tcase_add_test(emit, inlined_dispatcher_fallback_is_in_the_report);
    tcase_add_test(emit, too_many_parameters_is_an_error);
    tcase_add_test(emit, fallback_only_when_it_helps);
    tcase_add_test(emit, switch_too_wide_for_a_br_table_is_an_error);
    suite_add_tcase(s, emit);
    return test_run(s);
}
