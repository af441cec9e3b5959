/* aead: ChaCha20-Poly1305 authenticated encryption, written from RFC 8439, modelled on
 * MEWE's encryption edge service.
 *
 * Usage:
 *   aead              self-test: the RFC's examples (sections 2.3.2, 2.4.2, 2.5.2, 2.6.2,
 *                     2.8.2) and appendix A vectors (A.1 to A.5), tamper detection and
 *                     round trips; exit 1 on a mismatch
 *   aead bench N      seal and open a 64 KiB message N times, each round keyed by the
 *                     previous tag; print the last tag and a checksum
 *
 * Plain C11: it is built for wasm32-wasi by the corpus tests and natively by gcc.
 * Poly1305 uses 26-bit limbs and 64-bit products (no __int128), as in poly1305-donna-32.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ChaCha20 (RFC 8439 2.3) */

static uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void store64_le(uint8_t *p, uint64_t v)
{
    store32_le(p, (uint32_t)v);
    store32_le(p + 4, (uint32_t)(v >> 32));
}

static uint32_t rotl32(uint32_t x, int n)
{
    return x << n | x >> (32 - n);
}

#define QUARTER_ROUND(a, b, c, d) \
    do { \
        a += b; d ^= a; d = rotl32(d, 16); \
        c += d; b ^= c; b = rotl32(b, 12); \
        a += b; d ^= a; d = rotl32(d, 8); \
        c += d; b ^= c; b = rotl32(b, 7); \
    } while (0)

/* The block function: 20 rounds over the state built from the constants, the 256-bit key,
 * the 32-bit block counter and the 96-bit nonce, added to the initial state. */
static void chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
                           uint8_t out[64])
{
    uint32_t init[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    for (int i = 0; i < 8; i++)
        init[4 + i] = load32_le(key + 4 * i);
    init[12] = counter;
    for (int i = 0; i < 3; i++)
        init[13 + i] = load32_le(nonce + 4 * i);
    uint32_t x[16];
    memcpy(x, init, sizeof x);
    for (int round = 0; round < 10; round++) {
        QUARTER_ROUND(x[0], x[4], x[8], x[12]);
        QUARTER_ROUND(x[1], x[5], x[9], x[13]);
        QUARTER_ROUND(x[2], x[6], x[10], x[14]);
        QUARTER_ROUND(x[3], x[7], x[11], x[15]);
        QUARTER_ROUND(x[0], x[5], x[10], x[15]);
        QUARTER_ROUND(x[1], x[6], x[11], x[12]);
        QUARTER_ROUND(x[2], x[7], x[8], x[13]);
        QUARTER_ROUND(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, x[i] + init[i]);
}

/* Encryption and decryption alike (2.4): XOR with the key stream from block `counter` on.
 * in and out may be the same buffer. */
static void chacha20_xor(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12],
                         const uint8_t *in, uint8_t *out, size_t len)
{
    uint8_t block[64];
    for (size_t off = 0; off < len; off += 64, counter++) {
        chacha20_block(key, counter, nonce, block);
        size_t n = len - off < 64 ? len - off : 64;
        for (size_t i = 0; i < n; i++)
            out[off + i] = in[off + i] ^ block[i];
    }
}

/* ---------------------------------------------------------------- Poly1305 (RFC 8439 2.5) */

struct poly1305 {
    uint32_t r[5], h[5], pad[4];
    uint8_t buf[16];
    size_t used;
};

static void poly1305_init(struct poly1305 *st, const uint8_t key[32])
{
    /* r is clamped (2.5.1) while it is split into 26-bit limbs. */
    st->r[0] = load32_le(key + 0) & 0x3ffffff;
    st->r[1] = (load32_le(key + 3) >> 2) & 0x3ffff03;
    st->r[2] = (load32_le(key + 6) >> 4) & 0x3ffc0ff;
    st->r[3] = (load32_le(key + 9) >> 6) & 0x3f03fff;
    st->r[4] = (load32_le(key + 12) >> 8) & 0x00fffff;
    for (int i = 0; i < 5; i++)
        st->h[i] = 0;
    for (int i = 0; i < 4; i++)
        st->pad[i] = load32_le(key + 16 + 4 * i);
    st->used = 0;
}

/* h = (h + block + hibit * 2^128) * r mod 2^130 - 5, only partially reduced. */
static void poly1305_block(struct poly1305 *st, const uint8_t m[16], uint32_t hibit)
{
    const uint32_t *r = st->r;
    uint32_t *h = st->h;
    uint32_t s1 = r[1] * 5, s2 = r[2] * 5, s3 = r[3] * 5, s4 = r[4] * 5;
    h[0] += load32_le(m + 0) & 0x3ffffff;
    h[1] += (load32_le(m + 3) >> 2) & 0x3ffffff;
    h[2] += (load32_le(m + 6) >> 4) & 0x3ffffff;
    h[3] += (load32_le(m + 9) >> 6) & 0x3ffffff;
    h[4] += (load32_le(m + 12) >> 8) | hibit;
    uint64_t d0 = (uint64_t)h[0] * r[0] + (uint64_t)h[1] * s4 + (uint64_t)h[2] * s3 +
                  (uint64_t)h[3] * s2 + (uint64_t)h[4] * s1;
    uint64_t d1 = (uint64_t)h[0] * r[1] + (uint64_t)h[1] * r[0] + (uint64_t)h[2] * s4 +
                  (uint64_t)h[3] * s3 + (uint64_t)h[4] * s2;
    uint64_t d2 = (uint64_t)h[0] * r[2] + (uint64_t)h[1] * r[1] + (uint64_t)h[2] * r[0] +
                  (uint64_t)h[3] * s4 + (uint64_t)h[4] * s3;
    uint64_t d3 = (uint64_t)h[0] * r[3] + (uint64_t)h[1] * r[2] + (uint64_t)h[2] * r[1] +
                  (uint64_t)h[3] * r[0] + (uint64_t)h[4] * s4;
    uint64_t d4 = (uint64_t)h[0] * r[4] + (uint64_t)h[1] * r[3] + (uint64_t)h[2] * r[2] +
                  (uint64_t)h[3] * r[1] + (uint64_t)h[4] * r[0];
    uint32_t c;
    c = (uint32_t)(d0 >> 26); h[0] = (uint32_t)d0 & 0x3ffffff;
    d1 += c; c = (uint32_t)(d1 >> 26); h[1] = (uint32_t)d1 & 0x3ffffff;
    d2 += c; c = (uint32_t)(d2 >> 26); h[2] = (uint32_t)d2 & 0x3ffffff;
    d3 += c; c = (uint32_t)(d3 >> 26); h[3] = (uint32_t)d3 & 0x3ffffff;
    d4 += c; c = (uint32_t)(d4 >> 26); h[4] = (uint32_t)d4 & 0x3ffffff;
    h[0] += c * 5; c = h[0] >> 26; h[0] &= 0x3ffffff;
    h[1] += c;
}

static void poly1305_update(struct poly1305 *st, const uint8_t *m, size_t len)
{
    if (st->used > 0) {
        size_t take = 16 - st->used < len ? 16 - st->used : len;
        memcpy(st->buf + st->used, m, take);
        st->used += take;
        m += take;
        len -= take;
        if (st->used < 16)
            return;
        poly1305_block(st, st->buf, 1u << 24);
        st->used = 0;
    }
    for (; len >= 16; m += 16, len -= 16)
        poly1305_block(st, m, 1u << 24);
    memcpy(st->buf, m, len);
    st->used = len;
}

static void poly1305_finish(struct poly1305 *st, uint8_t tag[16])
{
    uint32_t *h = st->h;
    if (st->used > 0) {
        /* The last partial block gets its 0x01 byte inside the 16 bytes, so no hibit. */
        st->buf[st->used] = 1;
        for (size_t i = st->used + 1; i < 16; i++)
            st->buf[i] = 0;
        poly1305_block(st, st->buf, 0);
    }
    uint32_t c;
    c = h[1] >> 26; h[1] &= 0x3ffffff;
    h[2] += c; c = h[2] >> 26; h[2] &= 0x3ffffff;
    h[3] += c; c = h[3] >> 26; h[3] &= 0x3ffffff;
    h[4] += c; c = h[4] >> 26; h[4] &= 0x3ffffff;
    h[0] += c * 5; c = h[0] >> 26; h[0] &= 0x3ffffff;
    h[1] += c;
    /* g = h + 5 - 2^130: if it does not borrow, h >= p and the result is g. Selected by a
     * mask rather than a branch, as a constant-time implementation would. */
    uint32_t g[5];
    g[0] = h[0] + 5; c = g[0] >> 26; g[0] &= 0x3ffffff;
    g[1] = h[1] + c; c = g[1] >> 26; g[1] &= 0x3ffffff;
    g[2] = h[2] + c; c = g[2] >> 26; g[2] &= 0x3ffffff;
    g[3] = h[3] + c; c = g[3] >> 26; g[3] &= 0x3ffffff;
    g[4] = h[4] + c - (1u << 26);
    uint32_t keep_g = (g[4] >> 31) - 1;
    for (int i = 0; i < 5; i++)
        h[i] = (h[i] & ~keep_g) | (g[i] & keep_g);
    uint32_t w0 = h[0] | h[1] << 26;
    uint32_t w1 = h[1] >> 6 | h[2] << 20;
    uint32_t w2 = h[2] >> 12 | h[3] << 14;
    uint32_t w3 = h[3] >> 18 | h[4] << 8;
    uint64_t f;
    f = (uint64_t)w0 + st->pad[0]; store32_le(tag + 0, (uint32_t)f);
    f = (uint64_t)w1 + st->pad[1] + (f >> 32); store32_le(tag + 4, (uint32_t)f);
    f = (uint64_t)w2 + st->pad[2] + (f >> 32); store32_le(tag + 8, (uint32_t)f);
    f = (uint64_t)w3 + st->pad[3] + (f >> 32); store32_le(tag + 12, (uint32_t)f);
}

static void poly1305(const uint8_t key[32], const uint8_t *m, size_t len, uint8_t tag[16])
{
    struct poly1305 st;
    poly1305_init(&st, key);
    poly1305_update(&st, m, len);
    poly1305_finish(&st, tag);
}

/* ---------------------------------------------------------------- AEAD (RFC 8439 2.6, 2.8) */

static void poly1305_key_gen(const uint8_t key[32], const uint8_t nonce[12], uint8_t otk[32])
{
    uint8_t block[64];
    chacha20_block(key, 0, nonce, block);
    memcpy(otk, block, 32);
}

static void aead_tag(const uint8_t otk[32], const uint8_t *aad, size_t aad_len,
                     const uint8_t *ct, size_t ct_len, uint8_t tag[16])
{
    static const uint8_t zeros[16];
    uint8_t lengths[16];
    struct poly1305 st;
    poly1305_init(&st, otk);
    poly1305_update(&st, aad, aad_len);
    poly1305_update(&st, zeros, (16 - aad_len % 16) % 16);
    poly1305_update(&st, ct, ct_len);
    poly1305_update(&st, zeros, (16 - ct_len % 16) % 16);
    store64_le(lengths, aad_len);
    store64_le(lengths + 8, ct_len);
    poly1305_update(&st, lengths, 16);
    poly1305_finish(&st, tag);
}

static void aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                      size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16])
{
    uint8_t otk[32];
    poly1305_key_gen(key, nonce, otk);
    chacha20_xor(key, 1, nonce, pt, ct, len);
    aead_tag(otk, aad, aad_len, ct, len, tag);
}

/* Returns 0 and writes the plaintext when the tag is right; -1, writing nothing, otherwise. */
static int aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                     size_t aad_len, const uint8_t *ct, size_t len, const uint8_t tag[16],
                     uint8_t *pt)
{
    uint8_t otk[32], want[16];
    poly1305_key_gen(key, nonce, otk);
    aead_tag(otk, aad, aad_len, ct, len, want);
    uint8_t diff = 0;
    for (int i = 0; i < 16; i++)
        diff |= want[i] ^ tag[i];
    if (diff != 0)
        return -1;
    chacha20_xor(key, 1, nonce, ct, pt, len);
    return 0;
}

/* ---------------------------------------------------------------- test vectors */

static const char IETF_TEXT[] =
    "Any submission to the IETF intended by the Contributor for publication as all or part "
    "of an IETF Internet-Draft or RFC and any statement made within the context of an IETF "
    "activity is considered an \"IETF Contribution\". Such statements include oral "
    "statements in IETF sessions, as well as written and electronic communications made at "
    "any time or place, which are addressed to";
static const char JABBERWOCKY[] =
    "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\n"
    "All mimsy were the borogoves,\nAnd the mome raths outgrabe.";
static const char SUNSCREEN[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";
/* A.5's plaintext, with its curly quotes in UTF-8 and the stray slashes of the RFC. */
static const char DRAFTS[] =
    "Internet-Drafts are draft documents valid for a maximum of six months and may be "
    "updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
    "use Internet-Drafts as reference material or to cite them other than as "
    "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";

static const char KEY_SEQ[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char KEY_80[] = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char KEY_1C[] = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char KEY_ZERO[] = "0000000000000000000000000000000000000000000000000000000000000000";
static const char KEY_ONE[] = "0000000000000000000000000000000000000000000000000000000000000001";
static const char KEY_FF[] = "00ff000000000000000000000000000000000000000000000000000000000000";
static const char NONCE_ZERO[] = "000000000000000000000000";
static const char NONCE_TWO[] = "000000000000000000000002";

/* Key stream blocks: 2.3.2 and A.1. */
static const struct {
    const char *name, *key, *nonce;
    uint32_t counter;
    const char *block;
} BLOCKS[] = {
    {"2.3.2", KEY_SEQ, "000000090000004a00000000", 1,
     "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
     "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"},
    {"A.1 #1", KEY_ZERO, NONCE_ZERO, 0,
     "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
     "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"},
    {"A.1 #2", KEY_ZERO, NONCE_ZERO, 1,
     "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
     "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"},
    {"A.1 #3", KEY_ONE, NONCE_ZERO, 1,
     "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
     "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"},
    {"A.1 #4", KEY_FF, NONCE_ZERO, 2,
     "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
     "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096"},
    {"A.1 #5", KEY_ZERO, NONCE_TWO, 0,
     "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
     "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"},
};

/* Encryption: 2.4.2 and A.2. A NULL text means 64 zero bytes. */
static const struct {
    const char *name, *key, *nonce;
    uint32_t counter;
    const char *text, *cipher;
} ENCRYPTIONS[] = {
    {"2.4.2", KEY_SEQ, "000000000000004a00000000", 1, SUNSCREEN,
     "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
     "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
     "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
     "5af90bbf74a35be6b40b8eedf2785e42874d"},
    {"A.2 #1", KEY_ZERO, NONCE_ZERO, 0, NULL,
     "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
     "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"},
    {"A.2 #2", KEY_ONE, NONCE_TWO, 1, IETF_TEXT,
     "a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec"
     "2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d"
     "4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e527950"
     "42bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85a"
     "d00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259d"
     "c4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b"
     "0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6c"
     "cc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0b"
     "c39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f"
     "5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e6"
     "98ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab"
     "7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221"},
    {"A.2 #3", KEY_1C, NONCE_TWO, 42, JABBERWOCKY,
     "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf"
     "166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb"
     "f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f77"
     "04c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1"},
};

/* Poly1305: 2.5.2 and A.3. Messages are hex, or text when `text` is set. */
static const struct {
    const char *name, *key, *message;
    int text;
    const char *tag;
} MACS[] = {
    {"2.5.2", "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
     "Cryptographic Forum Research Group", 1, "a8061dc1305136c6c22b8baf0c0127a9"},
    {"A.3 #1", KEY_ZERO,
     "0000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000", 0,
     "00000000000000000000000000000000"},
    {"A.3 #2", "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e",
     IETF_TEXT, 1, "36e5f6b5c5e06070f0efca96227a863e"},
    {"A.3 #3", "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000",
     IETF_TEXT, 1, "f3477e7cd95417af89a6b8794c310cf0"},
    {"A.3 #4", KEY_1C, JABBERWOCKY, 1, "4541669a7eaaee61e708dc7cbcc5eb62"},
    {"A.3 #5", "0200000000000000000000000000000000000000000000000000000000000000",
     "ffffffffffffffffffffffffffffffff", 0, "03000000000000000000000000000000"},
    {"A.3 #6", "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
     "02000000000000000000000000000000", 0, "03000000000000000000000000000000"},
    {"A.3 #7", "0100000000000000000000000000000000000000000000000000000000000000",
     "ffffffffffffffffffffffffffffffff"
     "f0ffffffffffffffffffffffffffffff"
     "11000000000000000000000000000000", 0, "05000000000000000000000000000000"},
    {"A.3 #8", "0100000000000000000000000000000000000000000000000000000000000000",
     "ffffffffffffffffffffffffffffffff"
     "fbfefefefefefefefefefefefefefefe"
     "01010101010101010101010101010101", 0, "00000000000000000000000000000000"},
    {"A.3 #9", "0200000000000000000000000000000000000000000000000000000000000000",
     "fdffffffffffffffffffffffffffffff", 0, "faffffffffffffffffffffffffffffff"},
    {"A.3 #10", "0100000000000000040000000000000000000000000000000000000000000000",
     "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
     "0000000000000000000000000000000001000000000000000000000000000000", 0,
     "14000000000000005500000000000000"},
    {"A.3 #11", "0100000000000000040000000000000000000000000000000000000000000000",
     "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
     "00000000000000000000000000000000", 0, "13000000000000000000000000000000"},
};

/* One-time key generation: 2.6.2 and A.4. */
static const struct {
    const char *name, *key, *nonce, *otk;
} KEYGENS[] = {
    {"2.6.2", KEY_80, "000000000001020304050607",
     "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646"},
    {"A.4 #1", KEY_ZERO, NONCE_ZERO,
     "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"},
    {"A.4 #2", KEY_ONE, NONCE_TWO,
     "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739"},
    {"A.4 #3", KEY_1C, NONCE_TWO,
     "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae"},
};

static const char AEAD_282_CT[] =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
static const char AEAD_A5_CT[] =
    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
    "a6ad5cb4022b02709b";

/* ---------------------------------------------------------------- self-test */

static int failures;
static int checks;

static void report(int ok, const char *what)
{
    checks++;
    if (!ok)
        failures++;
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes a hex string into out (at most cap bytes); returns the length. The vectors are
 * constants of this file, so malformed hex is a bug here: it aborts loudly. */
static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap) {
        printf("bad vector: %.32s...\n", hex);
        exit(3);
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            printf("bad vector: %.32s...\n", hex);
            exit(3);
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

static void test_blocks(void)
{
    char what[64];
    for (size_t i = 0; i < sizeof BLOCKS / sizeof BLOCKS[0]; i++) {
        uint8_t key[32], nonce[12], want[64], got[64];
        from_hex(BLOCKS[i].key, key, 32);
        from_hex(BLOCKS[i].nonce, nonce, 12);
        from_hex(BLOCKS[i].block, want, 64);
        chacha20_block(key, BLOCKS[i].counter, nonce, got);
        snprintf(what, sizeof what, "chacha20 block %s", BLOCKS[i].name);
        report(memcmp(got, want, 64) == 0, what);
    }
}

static void test_encryptions(void)
{
    char what[64];
    for (size_t i = 0; i < sizeof ENCRYPTIONS / sizeof ENCRYPTIONS[0]; i++) {
        uint8_t key[32], nonce[12], want[512], got[512], back[512], zeros[64] = {0};
        from_hex(ENCRYPTIONS[i].key, key, 32);
        from_hex(ENCRYPTIONS[i].nonce, nonce, 12);
        size_t len = from_hex(ENCRYPTIONS[i].cipher, want, sizeof want);
        const uint8_t *text = ENCRYPTIONS[i].text ? (const uint8_t *)ENCRYPTIONS[i].text : zeros;
        int ok = ENCRYPTIONS[i].text ? strlen(ENCRYPTIONS[i].text) == len : len == 64;
        chacha20_xor(key, ENCRYPTIONS[i].counter, nonce, text, got, len);
        chacha20_xor(key, ENCRYPTIONS[i].counter, nonce, got, back, len);
        ok = ok && memcmp(got, want, len) == 0 && memcmp(back, text, len) == 0;
        snprintf(what, sizeof what, "chacha20 encryption %s (%zu bytes)", ENCRYPTIONS[i].name, len);
        report(ok, what);
    }
}

static void test_macs(void)
{
    char what[64];
    for (size_t i = 0; i < sizeof MACS / sizeof MACS[0]; i++) {
        uint8_t key[32], msg[512], want[16], got[16], split[16];
        from_hex(MACS[i].key, key, 32);
        from_hex(MACS[i].tag, want, 16);
        size_t len;
        if (MACS[i].text) {
            len = strlen(MACS[i].message);
            memcpy(msg, MACS[i].message, len);
        } else {
            len = from_hex(MACS[i].message, msg, sizeof msg);
        }
        poly1305(key, msg, len, got);
        /* The same message fed in uneven pieces exercises the buffering of partial blocks. */
        struct poly1305 st;
        poly1305_init(&st, key);
        for (size_t off = 0, step = 1; off < len; off += step, step = step % 23 + 4)
            poly1305_update(&st, msg + off, off + step <= len ? step : len - off);
        poly1305_finish(&st, split);
        snprintf(what, sizeof what, "poly1305 %s (%zu bytes)", MACS[i].name, len);
        report(memcmp(got, want, 16) == 0 && memcmp(split, want, 16) == 0, what);
    }
}

static void test_keygens(void)
{
    char what[64];
    for (size_t i = 0; i < sizeof KEYGENS / sizeof KEYGENS[0]; i++) {
        uint8_t key[32], nonce[12], want[32], got[32];
        from_hex(KEYGENS[i].key, key, 32);
        from_hex(KEYGENS[i].nonce, nonce, 12);
        from_hex(KEYGENS[i].otk, want, 32);
        poly1305_key_gen(key, nonce, got);
        snprintf(what, sizeof what, "poly1305 key generation %s", KEYGENS[i].name);
        report(memcmp(got, want, 32) == 0, what);
    }
}

/* 2.8.2: seal gives the RFC's ciphertext and tag; open gives the plaintext back. */
static void test_aead_282(void)
{
    uint8_t key[32], nonce[12], aad[12], want[200], tag[16], want_tag[16], ct[200], pt[200];
    from_hex(KEY_80, key, 32);
    from_hex("070000004041424344454647", nonce, 12);
    from_hex("50515253c0c1c2c3c4c5c6c7", aad, 12);
    size_t len = from_hex(AEAD_282_CT, want, sizeof want);
    from_hex("1ae10b594f09e26a7e902ecbd0600691", want_tag, 16);
    aead_seal(key, nonce, aad, 12, (const uint8_t *)SUNSCREEN, len, ct, tag);
    report(len == strlen(SUNSCREEN) && memcmp(ct, want, len) == 0, "aead 2.8.2 seal ciphertext");
    report(memcmp(tag, want_tag, 16) == 0, "aead 2.8.2 seal tag");
    int rc = aead_open(key, nonce, aad, 12, ct, len, tag, pt);
    report(rc == 0 && memcmp(pt, SUNSCREEN, len) == 0, "aead 2.8.2 open");
}

/* A.5: open the RFC's ciphertext and check the plaintext. */
static void test_aead_a5(void)
{
    uint8_t key[32], nonce[12], aad[12], ct[300], tag[16], pt[300];
    from_hex(KEY_1C, key, 32);
    from_hex("000000000102030405060708", nonce, 12);
    from_hex("f33388860000000000004e91", aad, 12);
    size_t len = from_hex(AEAD_A5_CT, ct, sizeof ct);
    from_hex("eead9d67890cbb22392336fea1851f38", tag, 16);
    int rc = aead_open(key, nonce, aad, 12, ct, len, tag, pt);
    report(rc == 0 && len == strlen(DRAFTS) && memcmp(pt, DRAFTS, len) == 0, "aead A.5 open");
}

/* Every single-bit change of ciphertext, tag or associated data must be refused, and a
 * refused message must leave the output buffer untouched. */
static void test_tamper(void)
{
    uint8_t key[32], nonce[12], aad[12], ct[114], tag[16], out[114];
    from_hex(KEY_80, key, 32);
    from_hex("070000004041424344454647", nonce, 12);
    from_hex("50515253c0c1c2c3c4c5c6c7", aad, 12);
    aead_seal(key, nonce, aad, 12, (const uint8_t *)SUNSCREEN, sizeof ct, ct, tag);
    int accepted = 0, touched = 0;
    uint8_t *parts[] = {ct, tag, aad, nonce, key};
    size_t sizes[] = {sizeof ct, sizeof tag, sizeof aad, sizeof nonce, sizeof key};
    for (size_t p = 0; p < 5; p++) {
        for (size_t bit = 0; bit < sizes[p] * 8; bit++) {
            parts[p][bit / 8] ^= (uint8_t)(1u << bit % 8);
            memset(out, 0xa5, sizeof out);
            if (aead_open(key, nonce, aad, 12, ct, sizeof ct, tag, out) == 0)
                accepted++;
            for (size_t i = 0; i < sizeof out; i++)
                touched += out[i] != 0xa5;
            parts[p][bit / 8] ^= (uint8_t)(1u << bit % 8);
        }
    }
    /* A shorter ciphertext (truncation) must fail too. */
    accepted += aead_open(key, nonce, aad, 12, ct, sizeof ct - 1, tag, out) == 0;
    accepted += aead_open(key, nonce, aad, 11, ct, sizeof ct, tag, out) == 0;
    printf("tamper: %d forgeries accepted, %d output bytes written on refusal\n", accepted,
           touched);
    report(accepted == 0 && touched == 0, "aead tamper detection");
    report(aead_open(key, nonce, aad, 12, ct, sizeof ct, tag, out) == 0 &&
               memcmp(out, SUNSCREEN, sizeof out) == 0,
           "aead untampered message still opens");
}

static uint32_t next_random(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void test_round_trips(void)
{
    enum { MAX = 300 };
    uint8_t key[32], nonce[12], aad[40], pt[MAX], ct[MAX], back[MAX], tag[16];
    uint32_t seed = 0x2545f491u;
    int bad = 0;
    for (size_t len = 0; len < MAX; len += 7) {
        for (size_t i = 0; i < 32; i++)
            key[i] = (uint8_t)next_random(&seed);
        for (size_t i = 0; i < 12; i++)
            nonce[i] = (uint8_t)next_random(&seed);
        size_t aad_len = next_random(&seed) % sizeof aad;
        for (size_t i = 0; i < aad_len; i++)
            aad[i] = (uint8_t)next_random(&seed);
        for (size_t i = 0; i < len; i++)
            pt[i] = (uint8_t)next_random(&seed);
        aead_seal(key, nonce, aad, aad_len, pt, len, ct, tag);
        if (aead_open(key, nonce, aad, aad_len, ct, len, tag, back) != 0 ||
            memcmp(back, pt, len) != 0)
            bad++;
    }
    report(bad == 0, "aead round trips of 0..299 bytes");
}

static int self_test(void)
{
    test_blocks();
    test_encryptions();
    test_macs();
    test_keygens();
    test_aead_282();
    test_aead_a5();
    test_tamper();
    test_round_trips();
    if (failures) {
        printf("aead: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("aead: all %d checks passed\n", checks);
    return 0;
}

/* ---------------------------------------------------------------- bench */

static int bench(long rounds)
{
    enum { SIZE = 64 * 1024 };
    uint8_t key[32], nonce[12] = {0}, aad[16], tag[16] = {0};
    uint8_t *pt = malloc(SIZE), *ct = malloc(SIZE), *back = malloc(SIZE);
    if (!pt || !ct || !back) {
        fprintf(stderr, "aead: out of memory\n");
        return 1;
    }
    uint32_t seed = 0x6a09e667u;
    for (size_t i = 0; i < 32; i++)
        key[i] = (uint8_t)next_random(&seed);
    for (size_t i = 0; i < sizeof aad; i++)
        aad[i] = (uint8_t)next_random(&seed);
    for (size_t i = 0; i < SIZE; i++)
        pt[i] = (uint8_t)next_random(&seed);
    uint64_t sum = 0;
    for (long r = 0; r < rounds; r++) {
        store64_le(nonce + 4, (uint64_t)r);
        aead_seal(key, nonce, aad, sizeof aad, pt, SIZE, ct, tag);
        if (aead_open(key, nonce, aad, sizeof aad, ct, SIZE, tag, back) != 0 ||
            memcmp(back, pt, SIZE) != 0) {
            printf("aead bench: round %ld does not round-trip\n", r);
            return 1;
        }
        /* Chain the rounds: the next key depends on this round's tag and ciphertext. */
        for (int i = 0; i < 16; i++) {
            key[i] ^= tag[i];
            key[16 + i] ^= ct[(size_t)(r * 4099 + i) % SIZE];
        }
        sum = sum * 31 + load32_le(tag);
    }
    printf("aead bench %ld: tag ", rounds);
    for (int i = 0; i < 16; i++)
        printf("%02x", tag[i]);
    printf(" sum %016llx\n", (unsigned long long)sum);
    free(pt);
    free(ct);
    free(back);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return self_test();
    if (argc == 3 && strcmp(argv[1], "bench") == 0)
        return bench(strtol(argv[2], NULL, 10));
    fprintf(stderr, "usage: aead [bench N]\n");
    return 2;
}
