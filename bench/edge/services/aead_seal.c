/* aead endpoint of the local edge (bench/edge): ChaCha20-Poly1305 sealing as an HTTP
 * service, MEWE's encryption service. The cipher is the corpus program's own
 * (tests/corpus/programs/aead.c, RFC 8439), included whole so that the service runs the
 * code that the corpus tests check; only the request handling is new.
 *
 * Usage: aead seal KEY NONCE [AAD]   KEY: 64 hex digits, NONCE: 24 hex digits, AAD: text
 *        (the request body on stdin is the plaintext)
 * Prints the ciphertext and then the 16-byte tag, in hex, on one line. Exit 2 on a bad
 * argument, 1 when out of memory.
 */
#define main aead_corpus_main
#include "aead.c"
#undef main

/* Like aead.c's from_hex, but for request input: malformed hex is the client's error, not
 * a bug, so it is reported rather than fatal. Returns the length or -1. */
static long parse_hex(const char *hex, uint8_t *out, size_t want)
{
    if (strlen(hex) != 2 * want)
        return -1;
    for (size_t i = 0; i < want; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)want;
}

static uint8_t *read_stdin(size_t *len)
{
    size_t cap = 1 << 14, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, stdin);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

static void print_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[512];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[used++] = digits[p[i] >> 4];
        chunk[used++] = digits[p[i] & 15];
        if (used == sizeof chunk) {
            fwrite(chunk, 1, used, stdout);
            used = 0;
        }
    }
    fwrite(chunk, 1, used, stdout);
}

int main(int argc, char **argv)
{
    uint8_t key[32], nonce[12], tag[16];
    if ((argc != 4 && argc != 5) || strcmp(argv[1], "seal") != 0 ||
        parse_hex(argv[2], key, sizeof key) < 0 || parse_hex(argv[3], nonce, sizeof nonce) < 0) {
        fprintf(stderr, "usage: aead seal KEY(64 hex) NONCE(24 hex) [AAD] < plaintext\n");
        return 2;
    }
    const char *aad = argc == 5 ? argv[4] : "";
    size_t len;
    uint8_t *pt = read_stdin(&len);
    uint8_t *ct = pt ? malloc(len + 1) : NULL;
    if (!ct) {
        fprintf(stderr, "aead: out of memory\n");
        return 1;
    }
    aead_seal(key, nonce, (const uint8_t *)aad, strlen(aad), pt, len, ct, tag);
    print_hex(ct, len);
    print_hex(tag, sizeof tag);
    putchar('\n');
    free(ct);
    free(pt);
    return 0;
}
