/* The in-module generators of the `wasi` and `fixed` strategies, run as emitted wasm under
 * node and checked against C references written here: the ChaCha block function (RFC 8439's
 * vectors at 20 rounds, a published ChaCha8 vector, then random inputs at 8, 12 and 20
 * rounds), and the whole stream that dispatchers draw from (key from the build seed, fast key
 * erasure, output order, pool bits, index mapping), for ChaCha8 and for xorshift64*. */
#include <inttypes.h>
#include <math.h>

#include <mewe/sys/llvm.h>
#include <mewe/sys/rng.h>

#include "plugin.h"
#include "rng/common.h"
#include "test-util.h"

/* ---- C references ----------------------------------------------------------------- */

static uint32_t rotl32(uint32_t x, int n)
{
    return x << n | x >> (32 - n);
}

#define QR(a, b, c, d)         \
    do {                       \
        a += b;                \
        d = rotl32(d ^ a, 16); \
        c += d;                \
        b = rotl32(b ^ c, 12); \
        a += b;                \
        d = rotl32(d ^ a, 8);  \
        c += d;                \
        b = rotl32(b ^ c, 7);  \
    } while (0)

static void ref_block(const uint32_t in[16], uint32_t out[16], unsigned rounds)
{
    uint32_t x[16];
    memcpy(x, in, sizeof x);
    for (unsigned r = 0; r < rounds; r += 2) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        out[i] = x[i] + in[i];
}

static const uint32_t sigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The stream of `fixed:seed=S[,gen=G]`, as documented in include/mewe/multivariant.h. */
typedef struct ref_gen {
    int xorshift;
    uint64_t seed;
    /* chacha */
    uint32_t key[8];
    uint64_t counter, out[4];
    int left;
    /* xorshift */
    uint64_t state;
    uint64_t pool;
} ref_gen;

static void ref_init(ref_gen *g, uint64_t seed, int xorshift)
{
    memset(g, 0, sizeof *g);
    g->xorshift = xorshift;
    g->seed = seed;
}

static uint64_t ref_refill(ref_gen *g)
{
    if (g->xorshift) {
        if (g->state == 0) {
            uint64_t s = g->seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
            g->state = s ? s : 1;
        }
        uint64_t s = g->state;
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        g->state = s;
        return (s * 0x2545F4914F6CDD1Dull) >> 16 | (uint64_t)1 << 48;
    }
    if (g->left == 0) {
        uint32_t any = 0;
        for (int i = 0; i < 8; i++)
            any |= g->key[i];
        if (!any) {
            uint64_t sm = g->seed;
            for (int i = 0; i < 4; i++) {
                uint64_t w = splitmix64(&sm);
                g->key[2 * i] = (uint32_t)w;
                g->key[2 * i + 1] = (uint32_t)(w >> 32);
            }
        }
        uint32_t in[16], x[16];
        memcpy(in, sigma, sizeof sigma);
        memcpy(in + 4, g->key, sizeof g->key);
        in[12] = (uint32_t)g->counter;
        in[13] = (uint32_t)(g->counter >> 32);
        in[14] = in[15] = 0;
        ref_block(in, x, 8);
        memcpy(g->key, x, sizeof g->key); /* fast key erasure */
        for (int i = 0; i < 4; i++)
            g->out[i] = x[8 + 2 * i] | (uint64_t)x[9 + 2 * i] << 32;
        g->counter++;
        g->left = 4;
    }
    uint64_t w = g->out[0];
    memmove(g->out, g->out + 1, 3 * sizeof g->out[0]);
    g->out[3] = 0;
    g->left--;
    return w | (uint64_t)1 << 63;
}

static unsigned ref_draw(ref_gen *g, unsigned n)
{
    unsigned k = 16;
    if ((n & (n - 1)) == 0)
        for (k = 0; (1u << k) < n; k++)
            ;
    if (g->pool < ((uint64_t)1 << k))
        g->pool = ref_refill(g);
    unsigned bits = (unsigned)(g->pool & ((1u << k) - 1));
    g->pool >>= k;
    return k == 16 ? (unsigned)(((uint64_t)bits * n) >> 16) : bits;
}

START_TEST(reference_passes_published_vectors)
{
    /* RFC 8439 2.3.2 and a zero key at 8 rounds (draft-strombergson-chacha-test-vectors,
     * TC1): the reference is right before it judges anything. */
    uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, 0x03020100, 0x07060504,
                       0x0b0a0908, 0x0f0e0d0c, 0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
                       0x00000001, 0x09000000, 0x4a000000, 0};
    static const uint32_t rfc[16] = {0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3,
                                     0xc7f4d1c7, 0x0368c033, 0x9aaa2204, 0x4e6cd4c3,
                                     0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
                                     0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2};
    uint32_t out[16];
    ref_block(in, out, 20);
    ck_assert(memcmp(out, rfc, sizeof rfc) == 0);
    static const uint8_t tc1[16] = {0x3e, 0x00, 0xef, 0x2f, 0x89, 0x5f, 0x40, 0xd6,
                                    0x7f, 0x5b, 0xb8, 0xe8, 0x1f, 0x09, 0xa5, 0xa1};
    memset(in + 4, 0, 12 * sizeof in[0]);
    ref_block(in, out, 8);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq((out[i / 4] >> (8 * (i % 4))) & 0xff, tc1[i]);
}
END_TEST

/* ---- the block function, emitted --------------------------------------------------- */

/* Reads lines of 16 hex words; prints each line's block at 8, 12 and 20 rounds. */
static const char block_driver[] =
    "#include <stdint.h>\n#include <stdio.h>\n"
    "void mewe_test_chacha8(const uint32_t *in, uint32_t *out);\n"
    "void mewe_test_chacha12(const uint32_t *in, uint32_t *out);\n"
    "void mewe_test_chacha20(const uint32_t *in, uint32_t *out);\n"
    "static void show(const uint32_t *w) {\n"
    "  for (int i = 0; i < 16; i++) printf(\"%08x%c\", w[i], i == 15 ? '\\n' : ' '); }\n"
    "int main(void) {\n"
    "  uint32_t in[16], out[16];\n"
    "  for (;;) {\n"
    "    for (int i = 0; i < 16; i++) if (scanf(\"%x\", &in[i]) != 1) return 0;\n"
    "    mewe_test_chacha8(in, out); show(out);\n"
    "    mewe_test_chacha12(in, out); show(out);\n"
    "    mewe_test_chacha20(in, out); show(out);\n"
    "  }\n"
    "}\n";

/* Gives the driver's declaration `name` a body: load 16 words, the block, store 16 words. */
static void define_block(LLVMModuleRef llvm, const char *name, unsigned rounds)
{
    LLVMValueRef f = LLVMGetNamedFunction(llvm, name);
    ck_assert_msg(f != NULL, "driver declares no %s", name);
    LLVMContextRef c = LLVMGetModuleContext(llvm);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
    LLVMValueRef x[16], slot[16];
    for (unsigned i = 0; i < 16; i++) {
        LLVMValueRef idx = LLVMConstInt(i32, i, 0);
        x[i] = LLVMBuildLoad2(b, i32, LLVMBuildGEP2(b, i32, LLVMGetParam(f, 0), &idx, 1, ""), "");
        slot[i] = LLVMBuildGEP2(b, i32, LLVMGetParam(f, 1), &idx, 1, "");
    }
    mewe__rng_chacha_block(b, rounds, x);
    for (int i = 0; i < 16; i++)
        LLVMBuildStore(b, x[i], slot[i]);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
}

static mewe_module *load_c(const char *source, const char *name)
{
    write_file(tpath(name), source, strlen(source));
    char bc[4096];
    snprintf(bc, sizeof bc, "%s.bc", tpath(name));
    char *log = NULL;
    ck_assert_msg(compile_c_to_bc(tpath(name), bc, &log) == 0, "%s", log);
    free(log);
    mewe_module *m;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, bc));
    return m;
}

static void append_words(char **text, size_t *len, const uint32_t w[16])
{
    *text = realloc(*text, *len + 16 * 9 + 1);
    ck_assert_ptr_nonnull(*text);
    for (int i = 0; i < 16; i++)
        *len += (size_t)sprintf(*text + *len, "%08" PRIx32 "%c", w[i], i == 15 ? '\n' : ' ');
}

START_TEST(block_function_matches_reference)
{
    mewe_module *m = load_c(block_driver, "block.c");
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    define_block(llvm, "mewe_test_chacha8", 8);
    define_block(llvm, "mewe_test_chacha12", 12);
    define_block(llvm, "mewe_test_chacha20", 20);
    ck_assert_mewe_ok(mewe_module_verify(m));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("block.wasm")));
    /* Inputs: RFC 8439 2.3.2, zeros, ones, then random words. */
    uint32_t inputs[23][16] = {
        {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, 0x03020100, 0x07060504, 0x0b0a0908,
         0x0f0e0d0c, 0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c, 0x00000001, 0x09000000,
         0x4a000000, 0},
        {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574},
    };
    memset(inputs[2], 0xff, sizeof inputs[2]);
    uint64_t sm = 0x5eed;
    for (int k = 3; k < 23; k++)
        for (int i = 0; i < 16; i++)
            inputs[k][i] = (uint32_t)splitmix64(&sm);
    char *in_text = NULL, *expected = NULL;
    size_t in_len = 0, exp_len = 0;
    for (int k = 0; k < 23; k++) {
        append_words(&in_text, &in_len, inputs[k]);
        static const unsigned rounds[] = {8, 12, 20};
        for (int r = 0; r < 3; r++) {
            uint32_t out[16];
            ref_block(inputs[k], out, rounds[r]);
            append_words(&expected, &exp_len, out);
        }
    }
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("block.wasm"), NULL, NULL, in_text, in_len), 0);
    ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
    /* The third line is RFC 8439 2.3.2's block, the fourth TC1's at 8 rounds. */
    ck_assert_msg(strncmp(r.out + 2 * 144, "e4e7f110 15593bd1", 17) == 0, "%.*s", 144,
                  r.out + 2 * 144);
    ck_assert_msg(strncmp(r.out + 3 * 144, "2fef003e d6405f89", 17) == 0, "%.*s", 144,
                  r.out + 3 * 144);
    ck_assert_uint_eq(r.out_len, exp_len);
    for (size_t line = 0; line < exp_len / 144; line++)
        ck_assert_msg(memcmp(r.out + line * 144, expected + line * 144, 144) == 0,
                      "input %zu, %u rounds:\n got  %.143s\n want %.143s", line / 3,
                      line % 3 == 0   ? 8
                      : line % 3 == 1 ? 12
                                      : 20,
                      r.out + line * 144, expected + line * 144);
    wasm_run_result_free(&r);
    free(in_text);
    free(expected);
}
END_TEST

/* ---- the stream dispatchers draw from --------------------------------------------- */

/* One diversified function, called in a loop whose every call depends on the last. */
static const char stream_program[] = "#include <stdio.h>\n"
                                     "__attribute__((noinline)) unsigned work(unsigned x) {\n"
                                     "  unsigned h = x * 2654435761u;\n"
                                     "  h ^= h >> 15; h *= 0x2c1b3c6du; h ^= h >> 12;\n"
                                     "  h += (x & 7) ? 3u : 5u; return h ^ (h >> 7); }\n"
                                     "int main(void) { unsigned s = 0;\n"
                                     "  for (unsigned i = 0; i < 3000; i++) s += work(i + s);\n"
                                     "  printf(\"%u\\n\", s); return 0; }\n";

static unsigned variants_of_work(mewe_module *m)
{
    char *json;
    ck_assert_mewe_ok(mewe_report_json(&json, NULL, m));
    const char *p = strstr(json, "\"name\": \"work\"");
    ck_assert_ptr_nonnull(p);
    p = strstr(p, "\"variants\": ");
    ck_assert_ptr_nonnull(p);
    unsigned v = (unsigned)strtoul(p + 12, NULL, 10);
    free(json);
    return v + 1;
}

/* Builds stream_program with `rng` and per-call dispatch, traced; returns the trace (each
 * line "0 VARIANT") and the variant count. */
static char *traced_stream(const char *rng, unsigned variants, uint64_t ctx_seed, unsigned *n)
{
    mewe_context_set_seed(tctx, ctx_seed);
    mewe_module *m = load_c(stream_program, "stream.c");
    const char *allow[] = {"work"};
    mewe_generate_options g = MEWE_GENERATE_OPTIONS_INIT;
    g.allow = allow;
    g.allow_count = 1;
    g.variants = variants;
    ck_assert_mewe_ok(mewe_generate_variants(m, &g));
    *n = variants_of_work(m);
    ck_assert_uint_ge(*n, 2);
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.rng = rng;
    o.trace = 1;
    o.max_overhead = INFINITY; /* a draw at every call, so that the trace is the stream */
    ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
    ck_assert_mewe_ok(mewe_emit_wasm(m, NULL, tpath("stream.wasm")));
    mewe_module_free(m);
    const char *opts[] = {"--trace", tpath("trace.txt"), NULL};
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("stream.wasm"), opts, NULL, NULL, 0), 0);
    ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
    wasm_run_result_free(&r);
    return read_file(tpath("trace.txt"), NULL);
}

static void check_trace(const char *trace, unsigned n, uint64_t seed, int xorshift)
{
    ref_gen g;
    ref_init(&g, seed, xorshift);
    unsigned calls = 0, seen[64] = {0};
    unsigned fn, v;
    int used;
    for (const char *p = trace; sscanf(p, "%u %u%n", &fn, &v, &used) == 2; p += used) {
        ck_assert_uint_eq(fn, 0);
        unsigned want = ref_draw(&g, n);
        ck_assert_msg(v == want, "call %u: variant %u, the reference draws %u (n = %u)", calls, v,
                      want, n);
        seen[v]++;
        calls++;
    }
    ck_assert_uint_eq(calls, 3000);
    for (unsigned k = 0; k < n; k++)
        ck_assert_msg(seen[k] > 0, "variant %u never drawn", k);
}

static const uint64_t stream_seeds[] = {0, 1, 42, UINT64_MAX};
static const unsigned stream_variants[] = {3, 2, 1, 4}; /* n = 4, 3, 2, 5 */

START_TEST(fixed_stream_matches_reference)
{
    int xorshift = _i >= 4;
    uint64_t seed = stream_seeds[_i % 4];
    char rng[64];
    snprintf(rng, sizeof rng, "fixed:seed=%" PRIu64 "%s", seed, xorshift ? ",gen=xorshift" : "");
    unsigned n;
    char *trace = traced_stream(rng, stream_variants[_i % 4], 5, &n);
    check_trace(trace, n, seed, xorshift);
    free(trace);
}
END_TEST

START_TEST(fixed_defaults_to_the_build_seed)
{
    unsigned n;
    char *trace = traced_stream("fixed", 3, 0xC0FFEE, &n);
    check_trace(trace, n, 0xC0FFEE, 0);
    free(trace);
    trace = traced_stream("fixed:gen=chacha", 3, 0xC0FFEE, &n);
    check_trace(trace, n, 0xC0FFEE, 0);
    free(trace);
}
END_TEST

/* The default stream is seeded from random_get: no reference can predict it, yet it must be
 * fair and differ from run to run. */
START_TEST(wasi_streams_are_fresh)
{
    unsigned n;
    char *a = traced_stream(_i ? "wasi:gen=xorshift" : NULL, 3, 5, &n);
    ck_assert_uint_eq(n, 4);
    const char *opts[] = {"--trace", tpath("trace.txt"), NULL};
    wasm_run_result r;
    ck_assert_int_eq(wasm_run(&r, tpath("stream.wasm"), opts, NULL, NULL, 0), 0);
    ck_assert_int_eq(r.exit_code, 0);
    wasm_run_result_free(&r);
    char *b = read_file(tpath("trace.txt"), NULL);
    ck_assert_str_ne(a, b);
    unsigned seen[4] = {0}, fn, v;
    int used;
    for (const char *p = a; sscanf(p, "%u %u%n", &fn, &v, &used) == 2; p += used) {
        ck_assert_uint_lt(v, 4);
        seen[v]++;
    }
    /* 3000 draws: each share within 6 standard deviations (sd = 23.7) of 750. */
    for (int k = 0; k < 4; k++)
        ck_assert_msg(seen[k] > 750 - 143 && seen[k] < 750 + 143, "variant %d: %u of 3000", k,
                      seen[k]);
    free(a);
    free(b);
}
END_TEST

/* ---- where the state lives ---------------------------------------------------------- */

START_TEST(state_stays_in_wasm_globals)
{
    static const char *const specs[] = {"wasi", "fixed:seed=3", "wasi:gen=xorshift",
                                        "fixed:gen=xorshift"};
    mewe_module *m = load_fixture("recursion.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.rng = specs[_i];
    ck_assert_mewe_ok(mewe_link_multivariant(m, &o));
    LLVMModuleRef llvm = mewe_module_get_llvm(m);
    unsigned globals = 0;
    for (LLVMValueRef g = LLVMGetFirstGlobal(llvm); g; g = LLVMGetNextGlobal(g)) {
        size_t len;
        const char *name = LLVMGetValueName2(g, &len);
        if (strncmp(name, "mewe.rng.", 9) != 0)
            continue;
        globals++;
        ck_assert_msg(LLVMGetPointerAddressSpace(LLVMTypeOf(g)) == 1, "%s is in linear memory",
                      name);
        ck_assert_int_eq(LLVMGetLinkage(g), LLVMInternalLinkage);
    }
    /* chacha: 8 key words, counter, 4 output words, left, pool; xorshift: state, pool. */
    ck_assert_uint_eq(globals, _i < 2 ? 15 : 2);
    /* Only wasi draws on random_get. */
    LLVMValueRef rg = LLVMGetNamedFunction(llvm, "mewe.rng.random_get");
    ck_assert_int_eq(rg != NULL, _i % 2 == 0);
}
END_TEST

START_TEST(gen_parameter_is_checked)
{
    mewe_module *m = load_fixture("fnptr.c");
    ck_assert_mewe_ok(mewe_generate_variants(m, NULL));
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    o.rng = _i ? "fixed:seed=1,gen=chacha20" : "wasi:gen=";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL,
                         "gen must be chacha or xorshift");
    o.rng = "host:gen=xorshift";
    ck_assert_mewe_fails(mewe_link_multivariant(m, &o), MEWE_EINVAL, "no parameter 'gen'");
}
END_TEST

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Build-time streams: each diversifier pass of each attempt at each variant of a function
 * has a seed of its own (the former salt, index * 1000 + attempt, gave attempt 1000 of
 * variant 1 the seed of attempt 0 of variant 2), and the linker's salts are apart from all
 * of them. The same inputs still give the same seed. */
START_TEST(build_streams_never_share_a_seed)
{
    enum { INDICES = 65, ATTEMPTS = 2000, PASSES = 3 };
    size_t n = 0, cap = (size_t)INDICES * ATTEMPTS * PASSES;
    uint64_t *seeds = malloc(cap * sizeof *seeds);
    ck_assert_ptr_nonnull(seeds);
    for (unsigned index = 1; index <= INDICES; index++)
        for (unsigned attempt = 0; attempt < ATTEMPTS; attempt++)
            for (unsigned pass = 0; pass < PASSES; pass++) {
                uint64_t salt = mewe__variant_salt(index, attempt, pass);
                ck_assert((salt & MEWE__SALT_LINK) == 0);
                seeds[n++] = mewe__seed_for(42, "function", salt);
            }
    qsort(seeds, n, sizeof *seeds, compare_u64);
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(seeds[i] != seeds[i - 1], "two streams share seed %016" PRIx64, seeds[i]);
    free(seeds);
    ck_assert(mewe__seed_for(42, "function", mewe__variant_salt(3, 7, 1)) ==
              mewe__seed_for(42, "function", mewe__variant_salt(3, 7, 1)));
    ck_assert(mewe__seed_for(42, "function", 5) != mewe__seed_for(42, "functioN", 5));
    ck_assert(mewe__seed_for(42, "function", 5) != mewe__seed_for(43, "function", 5));
}
END_TEST

int main(void)
{
    if (!wasm_run_available()) {
        printf("SKIP: node with node:wasi not found; the generators run as wasm\n");
        return 77;
    }
    Suite *s = suite_create("rng");
    TCase *tc = test_case("rng");
    tcase_add_test(tc, reference_passes_published_vectors);
    tcase_add_test(tc, block_function_matches_reference);
    tcase_add_loop_test(tc, fixed_stream_matches_reference, 0, 8);
    tcase_add_test(tc, fixed_defaults_to_the_build_seed);
    tcase_add_loop_test(tc, wasi_streams_are_fresh, 0, 2);
    tcase_add_loop_test(tc, state_stays_in_wasm_globals, 0, 4);
    tcase_add_loop_test(tc, gen_parameter_is_checked, 0, 2);
    tcase_add_test(tc, build_streams_never_share_a_seed);
    suite_add_tcase(s, tc);
    return test_run(s);
}
