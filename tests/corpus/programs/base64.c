/* base64: RFC 4648 base64 and base64url, modelled on MEWE's base64 edge service.
 *
 * Usage:
 *   base64                 self-test: RFC 4648 section 10 vectors, rejection of malformed
 *                          input, and round trips of pseudo-random data; exit 1 on a mismatch
 *   base64 -e | -d         encode standard input (one line, no wrapping) or decode it
 *                          (whitespace ignored); exit 1 on malformed input
 *   base64 bench N         encode and decode a 1 MiB buffer N times, print a checksum
 *
 * Plain C11: it is built for wasm32-wasi by the corpus tests and natively by gcc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char STD_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define B64_INVALID 0xff

struct b64_codec {
    const char *alphabet;
    unsigned char reverse[256];
    int pad; /* the url alphabet is used unpadded (RFC 4648 section 5 allows it) */
};

static void codec_init(struct b64_codec *c, const char *alphabet, int pad)
{
    c->alphabet = alphabet;
    c->pad = pad;
    memset(c->reverse, B64_INVALID, sizeof c->reverse);
    for (int i = 0; i < 64; i++)
        c->reverse[(unsigned char)alphabet[i]] = (unsigned char)i;
}

static size_t encoded_length(const struct b64_codec *c, size_t n)
{
    if (c->pad)
        return (n + 2) / 3 * 4;
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/* Writes encoded_length(n) characters to out (no terminator). */
static size_t b64_encode(const struct b64_codec *c, const unsigned char *in, size_t n, char *out)
{
    const char *a = c->alphabet;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
        out[o++] = a[v & 63];
    }
    size_t rest = n - i;
    if (rest > 0) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (rest == 2)
            out[o++] = a[v >> 6 & 63];
        else if (c->pad)
            out[o++] = '=';
        if (c->pad)
            out[o++] = '=';
    }
    return o;
}

/* Decodes n characters (no whitespace) into out, which holds at least n / 4 * 3 + 2 bytes.
 * Returns the decoded length, or -1 for malformed input: a character outside the alphabet,
 * misplaced or missing padding, a lone trailing character, or non-zero bits in the last
 * character's unused low bits (RFC 4648 section 3.5: canonical encoding only). */
static long b64_decode(const struct b64_codec *c, const char *in, size_t n, unsigned char *out)
{
    if (c->pad) {
        if (n % 4 != 0)
            return -1;
        size_t pads = 0;
        while (pads < 2 && n > 0 && in[n - 1] == '=') {
            n--;
            pads++;
        }
    }
    if (n % 4 == 1)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char d = c->reverse[(unsigned char)in[i + k]];
            if (d == B64_INVALID)
                return -1;
            v = v << 6 | d;
        }
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    size_t rest = n - i;
    if (rest > 0) {
        uint32_t v = 0;
        for (size_t k = 0; k < rest; k++) {
            unsigned char d = c->reverse[(unsigned char)in[i + k]];
            if (d == B64_INVALID)
                return -1;
            v = v << 6 | d;
        }
        if (rest == 2) {
            if (v & 0xf)
                return -1;
            out[o++] = (unsigned char)(v >> 4);
        } else {
            if (v & 0x3)
                return -1;
            out[o++] = (unsigned char)(v >> 10);
            out[o++] = (unsigned char)(v >> 2);
        }
    }
    return (long)o;
}

/* ---------------------------------------------------------------- self-test */

static int failures;
static int checks;

static void check(int ok, const char *what, const char *detail)
{
    checks++;
    if (!ok) {
        failures++;
        printf("FAIL %s: %s\n", what, detail);
    }
}

static void check_vector(const struct b64_codec *c, const char *name, const char *plain,
                         const char *encoded)
{
    char enc[64];
    unsigned char dec[64];
    size_t n = strlen(plain);
    size_t len = b64_encode(c, (const unsigned char *)plain, n, enc);
    enc[len] = '\0';
    check(len == encoded_length(c, n) && strcmp(enc, encoded) == 0, name, enc);
    long d = b64_decode(c, encoded, strlen(encoded), dec);
    check(d == (long)n && memcmp(dec, plain, n) == 0, name, "decode");
    printf("%s(\"", name);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)plain[i];
        printf(ch >= 0x20 && ch < 0x7f ? "%c" : "\\x%02x", ch);
    }
    printf("\") = \"%s\"\n", enc);
}

/* RFC 4648 section 10. */
static void test_rfc4648(const struct b64_codec *std, const struct b64_codec *url)
{
    static const char *const vectors[][3] = {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        check_vector(std, "BASE64", vectors[i][0], vectors[i][1]);
        check_vector(url, "BASE64URL", vectors[i][0], vectors[i][2]);
    }
    /* The two alphabets differ in values 62 and 63 only: 0xfb 0xff -> "+/8". */
    check_vector(std, "BASE64", "\xfb\xff", "+/8=");
    check_vector(url, "BASE64URL", "\xfb\xff", "-_8");
}

static void test_rejects(const struct b64_codec *std, const struct b64_codec *url)
{
    static const char *const bad_std[] = {
        "Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm9v=", "Zm$v", "Zm9vY", "=Zm9", "Zg==Zg==", "-_8=",
    };
    static const char *const bad_url[] = {"Z", "Zh", "Zm9", "+/8", "Zg=="};
    unsigned char out[64];
    for (size_t i = 0; i < sizeof bad_std / sizeof bad_std[0]; i++)
        check(b64_decode(std, bad_std[i], strlen(bad_std[i]), out) < 0, "reject", bad_std[i]);
    for (size_t i = 0; i < sizeof bad_url / sizeof bad_url[0]; i++)
        check(b64_decode(url, bad_url[i], strlen(bad_url[i]), out) < 0, "reject-url", bad_url[i]);
}

/* xorshift32: a fixed generator, so the self-test is the same everywhere. */
static uint32_t next_random(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void test_round_trips(const struct b64_codec *c, const char *name)
{
    enum { MAX = 300 };
    unsigned char plain[MAX] = {0}, back[MAX + 2];
    char enc[MAX / 3 * 4 + 8];
    uint32_t seed = 0x9e3779b9u;
    int bad = 0;
    for (size_t n = 0; n < MAX; n++) {
        for (size_t i = 0; i < n; i++)
            plain[i] = (unsigned char)next_random(&seed);
        size_t len = b64_encode(c, plain, n, enc);
        long d = b64_decode(c, enc, len, back);
        if (len != encoded_length(c, n) || d != (long)n || memcmp(plain, back, n) != 0)
            bad++;
    }
    check(bad == 0, name, "round trips");
    printf("%s: %d round trips of 0..%d bytes\n", name, MAX, MAX - 1);
}

static int self_test(void)
{
    struct b64_codec std, url;
    codec_init(&std, STD_ALPHABET, 1);
    codec_init(&url, URL_ALPHABET, 0);
    test_rfc4648(&std, &url);
    test_rejects(&std, &url);
    test_round_trips(&std, "base64");
    test_round_trips(&url, "base64url");
    if (failures) {
        printf("base64: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("base64: all %d checks passed\n", checks);
    return 0;
}

/* ---------------------------------------------------------------- stdin mode */

static unsigned char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

static int encode_stdin(const struct b64_codec *c)
{
    size_t n;
    unsigned char *in = read_all(stdin, &n);
    char *out = in ? malloc(encoded_length(c, n) + 1) : NULL;
    if (!out) {
        fprintf(stderr, "base64: out of memory\n");
        return 1;
    }
    size_t len = b64_encode(c, in, n, out);
    out[len++] = '\n';
    fwrite(out, 1, len, stdout);
    free(out);
    free(in);
    return 0;
}

static int decode_stdin(const struct b64_codec *c)
{
    size_t n;
    unsigned char *in = read_all(stdin, &n);
    if (!in) {
        fprintf(stderr, "base64: out of memory\n");
        return 1;
    }
    /* Whitespace may wrap the text (as in MIME); squeeze it out in place. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t'))
            in[k++] = in[i];
    unsigned char *out = malloc(k / 4 * 3 + 3);
    long d = out ? b64_decode(c, (const char *)in, k, out) : -1;
    if (d < 0) {
        fprintf(stderr, "base64: malformed input\n");
        free(out);
        free(in);
        return 1;
    }
    fwrite(out, 1, (size_t)d, stdout);
    free(out);
    free(in);
    return 0;
}

/* ---------------------------------------------------------------- bench */

/* FNV-1a over the decoded data and the encoded text of every round, so that every round's
 * work reaches the printed value. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static int bench(long rounds)
{
    enum { SIZE = 1 << 20 };
    struct b64_codec std;
    codec_init(&std, STD_ALPHABET, 1);
    unsigned char *plain = malloc(SIZE), *back = malloc(SIZE + 3);
    char *enc = malloc(encoded_length(&std, SIZE));
    if (!plain || !back || !enc) {
        fprintf(stderr, "base64: out of memory\n");
        return 1;
    }
    uint32_t seed = 12345;
    for (size_t i = 0; i < SIZE; i++)
        plain[i] = (unsigned char)next_random(&seed);
    uint64_t h = 0xcbf29ce484222325ull;
    for (long r = 0; r < rounds; r++) {
        /* Each round encodes a different length so rounds cannot be folded together. */
        size_t n = SIZE - (size_t)(r % 3);
        size_t len = b64_encode(&std, plain, n, enc);
        long d = b64_decode(&std, enc, len, back);
        if (d != (long)n) {
            printf("base64 bench: round %ld does not round-trip\n", r);
            return 1;
        }
        h = fnv1a(h, enc + r % 1024, 64);
        plain[r % SIZE] ^= back[(r * 7919) % n];
    }
    h = fnv1a(h, plain, SIZE);
    printf("base64 bench %ld: %016llx\n", rounds, (unsigned long long)h);
    free(plain);
    free(back);
    free(enc);
    return 0;
}

int main(int argc, char **argv)
{
    struct b64_codec std;
    codec_init(&std, STD_ALPHABET, 1);
    if (argc == 1)
        return self_test();
    if (argc == 2 && strcmp(argv[1], "-e") == 0)
        return encode_stdin(&std);
    if (argc == 2 && strcmp(argv[1], "-d") == 0)
        return decode_stdin(&std);
    if (argc == 3 && strcmp(argv[1], "bench") == 0)
        return bench(strtol(argv[2], NULL, 10));
    fprintf(stderr, "usage: base64 [-e | -d | bench N]\n");
    return 2;
}
