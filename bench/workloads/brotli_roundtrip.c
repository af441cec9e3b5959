/* brotli_roundtrip: a benchmark workload over Brotli's public C API, from the sources inside
 * the npm package `iltorb` (brotli/c, Brotli 1.0.7, built as the package's binding.gyp
 * builds it).
 *
 * Usage: brotli_roundtrip N
 * For N rounds: make a 192 KiB buffer of web-server-log-like text (fixed generator, a new
 * seed each round), compress it in one call at a quality that cycles through 1, 5, 7 and
 * 9 (window 2^22), decompress it with the streaming decoder into 4 KiB pieces, and check
 * that the round trip gives the buffer back. Prints the total compressed size and a
 * checksum of every compressed stream; exit 1 on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <brotli/encode.h>

#define INPUT_SIZE (192u * 1024u)
#define PIECE 4096u

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* xorshift64*: the text generator. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static const char *const WORDS[] = {
    "index", "api", "v1", "v2", "users", "orders", "items", "search", "static", "img",
    "css", "js", "login", "logout", "cart", "checkout", "product", "category", "edge",
    "health", "metrics", "assets", "fonts", "news", "blog", "post", "comments", "feed",
};
static const char *const AGENTS[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/118.0",
    "curl/8.4.0", "Wget/1.21.4", "python-requests/2.31.0",
};
static const char *const METHODS[] = {"GET", "GET", "GET", "POST", "PUT", "HEAD"};
static const int STATUS[] = {200, 200, 200, 200, 304, 404, 500, 301};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Fills buf with INPUT_SIZE bytes of log lines; the last line may be cut. */
static void make_input(uint8_t *buf, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    size_t n = 0;
    char line[512];
    while (n < INPUT_SIZE) {
        uint64_t r = next_random(&s);
        int len = snprintf(line, sizeof line, "10.%u.%u.%u - - [%02u/Oct/2023:%02u:%02u:%02u] \"%s /",
                           (unsigned)(r & 255), (unsigned)(r >> 8 & 255),
                           (unsigned)(r >> 16 & 255), (unsigned)(r >> 24 & 31) + 1,
                           (unsigned)(r >> 29 & 15), (unsigned)(r >> 33) % 60,
                           (unsigned)(r >> 40) % 60, METHODS[(r >> 46) % COUNT(METHODS)]);
        int depth = 1 + (int)(r >> 50) % 4;
        for (int d = 0; d < depth; d++) {
            uint64_t w = next_random(&s);
            len += snprintf(line + len, sizeof line - len, "%s%s", d ? "/" : "",
                            WORDS[w % COUNT(WORDS)]);
        }
        uint64_t t = next_random(&s);
        len += snprintf(line + len, sizeof line - len, "?id=%u HTTP/1.1\" %d %u \"%s\"\n",
                        (unsigned)(t % 100000), STATUS[(t >> 20) % COUNT(STATUS)],
                        (unsigned)(t >> 24) % 65536, AGENTS[(t >> 40) % COUNT(AGENTS)]);
        size_t take = (size_t)len < INPUT_SIZE - n ? (size_t)len : INPUT_SIZE - n;
        memcpy(buf + n, line, take);
        n += take;
    }
}

/* Streaming decompression into PIECE-byte pieces; returns the decoded size or -1. */
static long decompress(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap)
{
    BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!st)
        return -1;
    size_t avail_in = in_size, total = 0;
    const uint8_t *next_in = in;
    BrotliDecoderResult res;
    do {
        size_t room = out_cap - total < PIECE ? out_cap - total : PIECE;
        size_t avail_out = room;
        uint8_t *next_out = out + total;
        res = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out,
                                            NULL);
        total += room - avail_out;
        if (res == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT && total == out_cap)
            break;
    } while (res == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
    BrotliDecoderDestroyInstance(st);
    return res == BROTLI_DECODER_RESULT_SUCCESS && avail_in == 0 ? (long)total : -1;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 8;
    static const int QUALITY[] = {1, 5, 7, 9};
    size_t cap = BrotliEncoderMaxCompressedSize(INPUT_SIZE);
    uint8_t *input = malloc(INPUT_SIZE), *packed = malloc(cap), *output = malloc(INPUT_SIZE);
    if (!input || !packed || !output) {
        printf("brotli: out of memory\n");
        return 1;
    }
    uint64_t h = 0xcbf29ce484222325ull, total = 0;
    for (long r = 0; r < rounds; r++) {
        int q = QUALITY[r % COUNT(QUALITY)];
        make_input(input, (uint64_t)r + 1);
        size_t size = cap;
        if (!BrotliEncoderCompress(q, 22, BROTLI_MODE_TEXT, INPUT_SIZE, input, &size, packed)) {
            printf("brotli: round %ld: compression failed\n", r);
            return 1;
        }
        long got = decompress(packed, size, output, INPUT_SIZE);
        if (got != (long)INPUT_SIZE || memcmp(input, output, INPUT_SIZE) != 0) {
            printf("brotli: round %ld: the round trip differs (%ld bytes)\n", r, got);
            return 1;
        }
        h = fnv1a(h, packed, size);
        total += size;
    }
    printf("brotli round trip %ld x %u KiB: %llu bytes compressed, %016llx\n", rounds,
           INPUT_SIZE / 1024u, (unsigned long long)total, (unsigned long long)h);
    free(input);
    free(packed);
    free(output);
    return 0;
}
