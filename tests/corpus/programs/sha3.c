/* sha3: a driver for the Keccak sponge of the npm package `keccak` (XKCP's
 * KeccakSpongeWidth1600 with either of its KeccakP-1600 implementations, src/libkeccak-32
 * or src/libkeccak-64), checked against known digests.
 *
 * Usage:
 *   sha3              self-test: SHA3-224/256/384/512 and SHAKE128/256 (FIPS 202) of the
 *                     usual test messages, Keccak-256 (the pre-standard padding that
 *                     Ethereum uses, the npm package's main use), a million 'a' absorbed in
 *                     uneven pieces, and long SHAKE outputs squeezed in pieces; exit 1 on a
 *                     mismatch
 *   sha3 bench N      hash N MiB with SHA3-256, chaining the digests; print the last one
 *
 * The expected values come from Python's hashlib (OpenSSL) and, for Keccak-256, from the
 * JavaScript implementation inside the same npm package.
 *
 * Plain C11: it is built for wasm32-wasi by the corpus tests and natively by gcc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "KeccakSpongeWidth1600.h"

struct algorithm {
    const char *name;
    unsigned int rate, capacity;
    unsigned char suffix; /* the domain bits and the first padding bit (FIPS 202 B.2) */
    size_t out_len;
};

enum { SHA3_224, SHA3_256, SHA3_384, SHA3_512, SHAKE128, SHAKE256, KECCAK_256 };

static const struct algorithm ALGORITHMS[] = {
    [SHA3_224] = {"SHA3-224", 1152, 448, 0x06, 28},
    [SHA3_256] = {"SHA3-256", 1088, 512, 0x06, 32},
    [SHA3_384] = {"SHA3-384", 832, 768, 0x06, 48},
    [SHA3_512] = {"SHA3-512", 576, 1024, 0x06, 64},
    [SHAKE128] = {"SHAKE128", 1344, 256, 0x1f, 32},
    [SHAKE256] = {"SHAKE256", 1088, 512, 0x1f, 64},
    [KECCAK_256] = {"Keccak-256", 1088, 512, 0x01, 32},
};

enum { MSG_EMPTY, MSG_ABC, MSG_ABC448, MSG_ABC896, MSG_A3X200, MSG_COUNT };

static const char *const MESSAGE_NAMES[] = {
    "\"\"", "\"abc\"", "448-bit \"abcdbcde...\"", "896-bit \"abcdefgh...\"", "200 x 0xa3",
};

static unsigned char a3x200[200];

static const unsigned char *message(int id, size_t *len)
{
    static const char abc896[] =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
        "klmnopqrlmnopqrsmnopqrstnopqrstu";
    static const char *const texts[] = {
        "", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", abc896,
    };
    if (id == MSG_A3X200) {
        memset(a3x200, 0xa3, sizeof a3x200);
        *len = sizeof a3x200;
        return a3x200;
    }
    *len = strlen(texts[id]);
    return (const unsigned char *)texts[id];
}

static const struct {
    int algorithm, message;
    const char *digest;
} VECTORS[] = {
    {SHA3_224, MSG_EMPTY,
     "6b4e03423667dbb73b6e15454f0eb1abd4597f9a1b078e3f5b5a6bc7"},
    {SHA3_256, MSG_EMPTY,
     "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"},
    {SHA3_384, MSG_EMPTY,
     "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2a"
     "c3713831264adb47fb6bd1e058d5f004"},
    {SHA3_512, MSG_EMPTY,
     "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
     "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26"},
    {SHAKE128, MSG_EMPTY,
     "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26"},
    {SHAKE256, MSG_EMPTY,
     "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
     "d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be"},
    {SHA3_224, MSG_ABC,
     "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"},
    {SHA3_256, MSG_ABC,
     "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
    {SHA3_384, MSG_ABC,
     "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2"
     "98d88cea927ac7f539f1edf228376d25"},
    {SHA3_512, MSG_ABC,
     "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
     "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
    {SHAKE128, MSG_ABC,
     "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc8"},
    {SHAKE256, MSG_ABC,
     "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739"
     "d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4"},
    {SHA3_224, MSG_ABC448,
     "8a24108b154ada21c9fd5574494479ba5c7e7ab76ef264ead0fcce33"},
    {SHA3_256, MSG_ABC448,
     "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376"},
    {SHA3_384, MSG_ABC448,
     "991c665755eb3a4b6bbdfb75c78a492e8c56a22c5c4d7e429bfdbc32b9d4ad5a"
     "a04a1f076e62fea19eef51acd0657c22"},
    {SHA3_512, MSG_ABC448,
     "04a371e84ecfb5b8b77cb48610fca8182dd457ce6f326a0fd3d7ec2f1e91636d"
     "ee691fbe0c985302ba1b0d8dc78c086346b533b49c030d99a27daf1139d6e75e"},
    {SHAKE128, MSG_ABC448,
     "1a96182b50fb8c7e74e0a707788f55e98209b8d91fade8f32f8dd5cff7bf21f5"},
    {SHAKE256, MSG_ABC448,
     "4d8c2dd2435a0128eefbb8c36f6f87133a7911e18d979ee1ae6be5d4fd2e3329"
     "40d8688a4e6a59aa8060f1f9bc996c05aca3c696a8b66279dc672c740bb224ec"},
    {SHA3_224, MSG_ABC896,
     "543e6868e1666c1a643630df77367ae5a62a85070a51c14cbf665cbc"},
    {SHA3_256, MSG_ABC896,
     "916f6061fe879741ca6469b43971dfdb28b1a32dc36cb3254e812be27aad1d18"},
    {SHA3_384, MSG_ABC896,
     "79407d3b5916b59c3e30b09822974791c313fb9ecc849e406f23592d04f625dc"
     "8c709b98b43b3852b337216179aa7fc7"},
    {SHA3_512, MSG_ABC896,
     "afebb2ef542e6579c50cad06d2e578f9f8dd6881d7dc824d26360feebf18a4fa"
     "73e3261122948efcfd492e74e82e2189ed0fb440d187f382270cb455f21dd185"},
    {SHAKE128, MSG_ABC896,
     "7b6df6ff181173b6d7898d7ff63fb07b7c237daf471a5ae5602adbccef9ccf4b"},
    {SHAKE256, MSG_ABC896,
     "98be04516c04cc73593fef3ed0352ea9f6443942d6950e29a372a681c3deaf45"
     "35423709b02843948684e029010badcc0acd8303fc85fdad3eabf4f78cae1656"},
    {SHA3_224, MSG_A3X200,
     "9376816aba503f72f96ce7eb65ac095deee3be4bf9bbc2a1cb7e11e0"},
    {SHA3_256, MSG_A3X200,
     "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787"},
    {SHA3_384, MSG_A3X200,
     "1881de2ca7e41ef95dc4732b8f5f002b189cc1e42b74168ed1732649ce1dbcdd"
     "76197a31fd55ee989f2d7050dd473e8f"},
    {SHA3_512, MSG_A3X200,
     "e76dfad22084a8b1467fcf2ffa58361bec7628edf5f3fdc0e4805dc48caeeca8"
     "1b7c13c30adf52a3659584739a2df46be589c51ca1a4a8416df6545a1ce8ba00"},
    {SHAKE128, MSG_A3X200,
     "131ab8d2b594946b9c81333f9bb6e0ce75c3b93104fa3469d3917457385da037"},
    {SHAKE256, MSG_A3X200,
     "cd8a920ed141aa0407a22d59288652e9d9f1a7ee0c1e7c1ca699424da84a904d"
     "2d700caae7396ece96604440577da4f3aa22aeb8857f961c4cd8e06f0ae6610b"},
    {KECCAK_256, MSG_EMPTY,
     "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
    {KECCAK_256, MSG_ABC,
     "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
};

/* A million 'a', absorbed in pieces of uneven sizes. */
static const struct {
    int algorithm;
    const char *digest;
} MILLION_A[] = {
    {SHA3_224, "d69335b93325192e516a912e6d19a15cb51c6ed5c15243e7a7fd653c"},
    {SHA3_256, "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1"},
    {SHA3_384, "eee9e24d78c1855337983451df97c8ad9eedf256c6334f8e948d252d5e0e7684"
               "7aa0774ddb90a842190d2c558b4b8340"},
    {SHA3_512, "3c3a876da14034ab60627c077bb98f7e120a2a5370212dffb3385a18d4f38859"
               "ed311d0a9d5141ce9cc5c66ee689b266a8aa18ace8282a0e0db596c90b0a7b87"},
    {SHAKE128, "9d222c79c4ff9d092cf6ca86143aa411e369973808ef97093255826c5572ef58"},
    {SHAKE256, "3578a7a4ca9137569cdf76ed617d31bb994fca9c1bbf8b184013de8234dfd13a"
               "3fd124d4df76c0a539ee7dd2f6e1ec346124c815d9410e145eb561bcd97b18ab"},
};

/* The last 32 of 1000 bytes of output, squeezed in pieces across many permutations. */
static const struct {
    int algorithm, message;
    const char *tail;
} LONG_OUTPUTS[] = {
    {SHAKE128, MSG_EMPTY, "6bc9d29f799bbb2d76a0a5f138b8c73ba484d6588764e331d70c378c0641f2d9"},
    {SHAKE256, MSG_ABC, "9a0703bba438f0aef297b75a033d0c5a6bfbb24e7edfd1e666a4b37f64d405bb"},
};

/* ---------------------------------------------------------------- checks */

static int failures;
static int checks;

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void report(int ok, const char *alg, const char *what, const char *got)
{
    checks++;
    if (!ok)
        failures++;
    printf("%s %s(%s) = %s\n", ok ? "ok  " : "FAIL", alg, what, got);
}

/* The one-shot API, as the npm addon's callers use it through initialize/absorb/squeeze. */
static int hash_once(const struct algorithm *a, const unsigned char *in, size_t len,
                     unsigned char *out, size_t out_len)
{
    return KeccakWidth1600_Sponge(a->rate, a->capacity, in, len, a->suffix, out, out_len);
}

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        const struct algorithm *a = &ALGORITHMS[VECTORS[i].algorithm];
        size_t len;
        const unsigned char *in = message(VECTORS[i].message, &len);
        unsigned char out[64];
        char hex[129];
        int rc = hash_once(a, in, len, out, a->out_len);
        to_hex(out, a->out_len, hex);
        report(rc == 0 && strcmp(hex, VECTORS[i].digest) == 0, a->name,
               MESSAGE_NAMES[VECTORS[i].message], hex);
    }
}

static void test_million_a(void)
{
    enum { PIECE = 4099 };
    unsigned char piece[PIECE];
    memset(piece, 'a', sizeof piece);
    for (size_t i = 0; i < sizeof MILLION_A / sizeof MILLION_A[0]; i++) {
        const struct algorithm *a = &ALGORITHMS[MILLION_A[i].algorithm];
        KeccakWidth1600_SpongeInstance sponge;
        int rc = KeccakWidth1600_SpongeInitialize(&sponge, a->rate, a->capacity);
        size_t left = 1000000, step = 1;
        while (left > 0) {
            size_t n = step < left ? step : left;
            rc |= KeccakWidth1600_SpongeAbsorb(&sponge, piece, n);
            left -= n;
            step = (step * 7 + 3) % PIECE + 1;
        }
        unsigned char out[64];
        char hex[129];
        rc |= KeccakWidth1600_SpongeAbsorbLastFewBits(&sponge, a->suffix);
        rc |= KeccakWidth1600_SpongeSqueeze(&sponge, out, a->out_len);
        to_hex(out, a->out_len, hex);
        report(rc == 0 && strcmp(hex, MILLION_A[i].digest) == 0, a->name, "1000000 x 'a'", hex);
    }
}

static void test_long_outputs(void)
{
    for (size_t i = 0; i < sizeof LONG_OUTPUTS / sizeof LONG_OUTPUTS[0]; i++) {
        const struct algorithm *a = &ALGORITHMS[LONG_OUTPUTS[i].algorithm];
        size_t len;
        const unsigned char *in = message(LONG_OUTPUTS[i].message, &len);
        unsigned char whole[1000], pieces[1000];
        KeccakWidth1600_SpongeInstance sponge;
        int rc = hash_once(a, in, len, whole, sizeof whole);
        rc |= KeccakWidth1600_SpongeInitialize(&sponge, a->rate, a->capacity);
        rc |= KeccakWidth1600_SpongeAbsorb(&sponge, in, len);
        rc |= KeccakWidth1600_SpongeAbsorbLastFewBits(&sponge, a->suffix);
        for (size_t off = 0, step = 1; off < sizeof pieces; off += step, step = step * 3 % 97 + 1)
            rc |= KeccakWidth1600_SpongeSqueeze(&sponge, pieces + off,
                                                off + step <= sizeof pieces ? step
                                                                            : sizeof pieces - off);
        char hex[65], what[64];
        to_hex(whole + sizeof whole - 32, 32, hex);
        snprintf(what, sizeof what, "%s, 1000 bytes; bytes 968..999",
                 MESSAGE_NAMES[LONG_OUTPUTS[i].message]);
        int ok = rc == 0 && strcmp(hex, LONG_OUTPUTS[i].tail) == 0 &&
                 memcmp(whole, pieces, sizeof whole) == 0;
        report(ok, a->name, what, hex);
    }
}

static int self_test(void)
{
    test_vectors();
    test_million_a();
    test_long_outputs();
    if (failures) {
        printf("sha3: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("sha3: all %d checks passed\n", checks);
    return 0;
}

/* ---------------------------------------------------------------- bench */

static int bench(long mebibytes)
{
    enum { SIZE = 1 << 20 };
    unsigned char *buf = malloc(SIZE);
    if (!buf) {
        fprintf(stderr, "sha3: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < SIZE; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 24);
    unsigned char digest[32] = {0};
    const struct algorithm *a = &ALGORITHMS[SHA3_256];
    for (long r = 0; r < mebibytes; r++) {
        /* Each round hashes data that depends on the previous digest. */
        memcpy(buf + (size_t)(r * 32) % (SIZE - 32), digest, 32);
        if (hash_once(a, buf, SIZE, digest, sizeof digest) != 0) {
            printf("sha3 bench: sponge error\n");
            return 1;
        }
    }
    char hex[65];
    to_hex(digest, sizeof digest, hex);
    printf("sha3 bench %ld MiB: %s\n", mebibytes, hex);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return self_test();
    if (argc == 3 && strcmp(argv[1], "bench") == 0)
        return bench(strtol(argv[2], NULL, 10));
    fprintf(stderr, "usage: sha3 [bench N]\n");
    return 2;
}
