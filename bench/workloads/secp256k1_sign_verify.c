/* secp256k1_sign_verify: a benchmark workload over libsecp256k1's public API, from the
 * sources inside the npm package `secp256k1` (built from src/secp256k1/src/secp256k1.c, a
 * separate translation unit, as the package's binding.gyp builds it).
 *
 * Usage: secp256k1_sign_verify N
 * For N rounds: derive a secret key, compute its public key, sign a 32-byte message
 * (RFC 6979 nonces, so the run is deterministic), verify the signature, and check that a
 * changed message fails to verify. Each round's message depends on the previous signature.
 * Prints a checksum of every serialized public key and signature; exit 1 on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secp256k1.h"

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* splitmix64: a fixed generator for the secret keys. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void random_secret(const secp256k1_context *ctx, uint64_t *state, unsigned char key[32])
{
    do {
        for (int i = 0; i < 4; i++) {
            uint64_t r = next_random(state);
            for (int k = 0; k < 8; k++)
                key[8 * i + k] = (unsigned char)(r >> (8 * k));
        }
    } while (!secp256k1_ec_seckey_verify(ctx, key));
}

static int run(long rounds)
{
    secp256k1_context *ctx =
        secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (!ctx) {
        printf("secp256k1: no context\n");
        return 1;
    }
    uint64_t state = 0x5ec9256b1ull, h = 0xcbf29ce484222325ull;
    unsigned char msg[32] = "libmewe multivariant secp256k1.";
    for (long r = 0; r < rounds; r++) {
        unsigned char key[32], pub[33], sig64[64];
        size_t pub_len = sizeof pub;
        secp256k1_pubkey pubkey;
        secp256k1_ecdsa_signature sig;
        random_secret(ctx, &state, key);
        if (!secp256k1_ec_pubkey_create(ctx, &pubkey, key) ||
            !secp256k1_ec_pubkey_serialize(ctx, pub, &pub_len, &pubkey, SECP256K1_EC_COMPRESSED) ||
            !secp256k1_ecdsa_sign(ctx, &sig, msg, key, NULL, NULL) ||
            !secp256k1_ecdsa_signature_serialize_compact(ctx, sig64, &sig) ||
            !secp256k1_ecdsa_verify(ctx, &sig, msg, &pubkey)) {
            printf("secp256k1: round %ld failed\n", r);
            return 1;
        }
        msg[r % 32] ^= 1;
        if (secp256k1_ecdsa_verify(ctx, &sig, msg, &pubkey)) {
            printf("secp256k1: round %ld verified a changed message\n", r);
            return 1;
        }
        h = fnv1a(h, pub, pub_len);
        h = fnv1a(h, sig64, sizeof sig64);
        /* The next message is this signature folded onto the current one. */
        for (int i = 0; i < 32; i++)
            msg[i] ^= sig64[i] ^ sig64[32 + i];
    }
    secp256k1_context_destroy(ctx);
    printf("secp256k1 sign+verify %ld: %016llx\n", rounds, (unsigned long long)h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: secp256k1_sign_verify N\n");
        return 2;
    }
    return run(strtol(argv[1], NULL, 10));
}
