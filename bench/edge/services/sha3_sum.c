/* sha3 endpoint of the local edge (bench/edge): a hashing service over the Keccak code of
 * the npm package `keccak` (XKCP), through the corpus driver tests/corpus/programs/sha3.c,
 * included whole so that the service uses its algorithm table and one-shot sponge call.
 *
 * Usage: sha3 ALGORITHM   ALGORITHM: SHA3-224, SHA3-256, SHA3-384, SHA3-512, SHAKE128,
 *                         SHAKE256 or Keccak-256 (any case); the body on stdin is hashed
 * Prints the digest in hex and a newline. Exit 2 for an unknown algorithm, 1 when out of
 * memory or when the sponge fails.
 */
#define main sha3_corpus_main
#include "sha3.c"
#undef main

#include <strings.h>

static unsigned char *read_stdin(size_t *len)
{
    size_t cap = 1 << 14, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, stdin);
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

int main(int argc, char **argv)
{
    const struct algorithm *a = NULL;
    for (size_t i = 0; argc == 2 && i < sizeof ALGORITHMS / sizeof ALGORITHMS[0]; i++)
        if (strcasecmp(argv[1], ALGORITHMS[i].name) == 0)
            a = &ALGORITHMS[i];
    if (!a) {
        fprintf(stderr, "usage: sha3 SHA3-224|SHA3-256|SHA3-384|SHA3-512|SHAKE128|SHAKE256|"
                        "Keccak-256 < message\n");
        return 2;
    }
    size_t len;
    unsigned char *in = read_stdin(&len);
    if (!in) {
        fprintf(stderr, "sha3: out of memory\n");
        return 1;
    }
    unsigned char digest[64];
    char hex[2 * sizeof digest + 1];
    if (hash_once(a, in, len, digest, a->out_len) != 0) {
        fprintf(stderr, "sha3: sponge error\n");
        return 1;
    }
    to_hex(digest, a->out_len, hex);
    printf("%s\n", hex);
    free(in);
    return 0;
}
