/* qr: a QR-code encoder (ISO/IEC 18004), modelled on MEWE's QR-code edge service.
 *
 * Numeric, alphanumeric and byte mode (one segment, the most compact mode that holds the
 * whole input), error correction levels L, M, Q and H, versions 1 to 40 (the smallest that
 * fits), Reed-Solomon codes over GF(256), and the mask with the lowest penalty score.
 *
 * Usage:
 *   qr                      self-test; exit 1 on a mismatch. It checks Reed-Solomon codewords
 *                           of two published examples, the format and version information
 *                           against the standard's tables, whole symbols against reference
 *                           symbols made by another encoder (segno), each symbol by decoding
 *                           it back (format bits, syndromes, segment), and determinism
 *   qr encode L|M|Q|H TEXT  print the symbol of TEXT: a header line, then one line per row,
 *                           '#' for a dark module and '.' for a light one (no quiet zone)
 *   qr bench N              encode N messages of versions 1 to 10, print a checksum
 *
 * Mask evaluation follows ISO/IEC 18004:2015 7.8.3 as segno reads it, so that both pick the
 * same mask: the symbol is scored before format and version information are placed (those
 * modules, and the dark module, count as light), a 1:1:3:1:1 pattern counts when the light
 * area on one side reaches the symbol's edge, and N4 is 10 * floor(|dark% - 50| / 5).
 *
 * Plain C11: it is built for wasm32-wasi by the corpus tests and natively by gcc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QR_MIN_VERSION 1
#define QR_MAX_VERSION 40
#define QR_MAX_SIZE (QR_MAX_VERSION * 4 + 17)
#define QR_MAX_CODEWORDS 3706
#define QR_MAX_ECC 30

enum ecl { ECL_L, ECL_M, ECL_Q, ECL_H };
enum mode { MODE_NUMERIC, MODE_ALNUM, MODE_BYTE };

static const char ECL_NAMES[] = "LMQH";
static const char *const MODE_NAMES[] = {"numeric", "alphanumeric", "byte"};
static const char ALNUM_CHARS[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* Error correction codewords per block and number of blocks, by level and version
 * (ISO/IEC 18004 Table 9). Index 0 is unused. */
static const int8_t ECC_PER_BLOCK[4][41] = {
    {-1, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
     28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
    {-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
     26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28},
    {-1, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
     28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
    {-1, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
     30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
};
static const int8_t NUM_BLOCKS[4][41] = {
    {-1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
     8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25},
    {-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
     17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49},
    {-1, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
     23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68},
    {-1, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
     25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81},
};

struct qr {
    int version, size, ecl, mask;
    enum mode mode;
    unsigned char modules[QR_MAX_SIZE][QR_MAX_SIZE];  /* 1 = dark; [row][column] */
    unsigned char function[QR_MAX_SIZE][QR_MAX_SIZE]; /* 1 = not a data module */
};

/* ---------------------------------------------------------------- GF(256) and Reed-Solomon */

/* GF(256) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d), whose element 2 (alpha) generates the
 * multiplicative group: products go through logarithm tables, filled by gf_init(). */
static unsigned char gf_exp[512], gf_log[256];

static void gf_init(void)
{
    unsigned x = 1;
    for (int i = 0; i < 255; i++) {
        gf_exp[i] = gf_exp[i + 255] = (unsigned char)x;
        gf_log[x] = (unsigned char)i;
        x = (x << 1) ^ ((x >> 7) * 0x11d);
    }
}

static unsigned gf_mul(unsigned a, unsigned b)
{
    return a && b ? gf_exp[gf_log[a] + gf_log[b]] : 0;
}

/* The generator polynomial of degree n, (x - a^0)(x - a^1)...(x - a^(n-1)), as its n
 * coefficients below the leading 1, highest degree first. */
static void rs_generator(int n, unsigned char *gen)
{
    memset(gen, 0, (size_t)n);
    gen[n - 1] = 1;
    unsigned root = 1;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            gen[j] = (unsigned char)gf_mul(gen[j], root);
            if (j + 1 < n)
                gen[j] ^= gen[j + 1];
        }
        root = gf_mul(root, 2);
    }
}

/* The n error correction codewords of data: the remainder of data(x) * x^n / gen(x). */
static void rs_remainder(const unsigned char *data, int len, const unsigned char *gen, int n,
                         unsigned char *ecc)
{
    memset(ecc, 0, (size_t)n);
    for (int i = 0; i < len; i++) {
        unsigned factor = data[i] ^ ecc[0];
        memmove(ecc, ecc + 1, (size_t)n - 1);
        ecc[n - 1] = 0;
        for (int j = 0; j < n; j++)
            ecc[j] ^= (unsigned char)gf_mul(gen[j], factor);
    }
}

/* ---------------------------------------------------------------- capacities */

/* Modules left for data and error correction once the function patterns and the format and
 * version information are taken, remainder bits included. */
static int raw_data_modules(int ver)
{
    int result = (16 * ver + 128) * ver + 64;
    if (ver >= 2) {
        int align = ver / 7 + 2;
        result -= (25 * align - 10) * align - 55;
        if (ver >= 7)
            result -= 36;
    }
    return result;
}

static int data_codewords(int ver, int ecl)
{
    return raw_data_modules(ver) / 8 - ECC_PER_BLOCK[ecl][ver] * NUM_BLOCKS[ecl][ver];
}

/* The centre coordinates of the alignment patterns (ISO/IEC 18004 Annex E); returns how many. */
static int alignment_positions(int ver, int pos[7])
{
    if (ver == 1)
        return 0;
    int count = ver / 7 + 2;
    int size = ver * 4 + 17;
    int step = ver == 32 ? 26 : (ver * 4 + count * 2 + 1) / (count * 2 - 2) * 2;
    pos[0] = 6;
    for (int i = count - 1, p = size - 7; i >= 1; i--, p -= step)
        pos[i] = p;
    return count;
}

static int char_count_bits(enum mode mode, int ver)
{
    static const int bits[3][3] = {{10, 12, 14}, {9, 11, 13}, {8, 16, 16}};
    return bits[mode][ver <= 9 ? 0 : ver <= 26 ? 1 : 2];
}

/* ---------------------------------------------------------------- data encoding */

struct bits {
    unsigned char data[QR_MAX_CODEWORDS];
    int len; /* in bits */
};

static void put_bits(struct bits *b, unsigned value, int n)
{
    for (int i = n - 1; i >= 0; i--, b->len++) {
        if (b->len % 8 == 0)
            b->data[b->len / 8] = 0;
        b->data[b->len / 8] |= (unsigned char)(((value >> i) & 1) << (7 - b->len % 8));
    }
}

static int alnum_value(unsigned char c)
{
    const char *p = c ? strchr(ALNUM_CHARS, c) : NULL;
    return p ? (int)(p - ALNUM_CHARS) : -1;
}

static enum mode choose_mode(const unsigned char *text, size_t len)
{
    int numeric = 1, alnum = 1;
    for (size_t i = 0; i < len; i++) {
        numeric &= text[i] >= '0' && text[i] <= '9';
        alnum &= alnum_value(text[i]) >= 0;
    }
    return numeric ? MODE_NUMERIC : alnum ? MODE_ALNUM : MODE_BYTE;
}

static long segment_bits(enum mode mode, size_t len, int ver)
{
    long data = mode == MODE_NUMERIC ? (long)len / 3 * 10 + (len % 3 == 0 ? 0 : len % 3 == 1 ? 4 : 7)
              : mode == MODE_ALNUM   ? (long)len / 2 * 11 + (long)(len % 2) * 6
                                     : (long)len * 8;
    return 4 + char_count_bits(mode, ver) + data;
}

static void put_segment(struct bits *b, enum mode mode, const unsigned char *text, size_t len,
                        int ver)
{
    static const unsigned indicators[] = {0x1, 0x2, 0x4};
    put_bits(b, indicators[mode], 4);
    put_bits(b, (unsigned)len, char_count_bits(mode, ver));
    size_t i = 0;
    if (mode == MODE_NUMERIC) {
        for (; i + 3 <= len; i += 3)
            put_bits(b, (unsigned)((text[i] - '0') * 100 + (text[i + 1] - '0') * 10 + text[i + 2] - '0'), 10);
        if (len - i == 2)
            put_bits(b, (unsigned)((text[i] - '0') * 10 + text[i + 1] - '0'), 7);
        else if (len - i == 1)
            put_bits(b, (unsigned)(text[i] - '0'), 4);
    } else if (mode == MODE_ALNUM) {
        for (; i + 2 <= len; i += 2)
            put_bits(b, (unsigned)(alnum_value(text[i]) * 45 + alnum_value(text[i + 1])), 11);
        if (i < len)
            put_bits(b, (unsigned)alnum_value(text[i]), 6);
    } else {
        for (; i < len; i++)
            put_bits(b, text[i], 8);
    }
}

/* The data codewords: the segment, a terminator of up to four zero bits, zero bits to the
 * byte boundary, then the pad codewords 0xec 0x11 alternately (7.4.9, 7.4.10). */
static int make_data_codewords(const unsigned char *text, size_t len, enum mode mode, int ver,
                               int ecl, unsigned char *out)
{
    struct bits b = {.len = 0};
    int capacity = data_codewords(ver, ecl) * 8;
    put_segment(&b, mode, text, len, ver);
    int term = capacity - b.len < 4 ? capacity - b.len : 4;
    put_bits(&b, 0, term);
    put_bits(&b, 0, (8 - b.len % 8) % 8);
    for (unsigned pad = 0xec; b.len < capacity; pad ^= 0xec ^ 0x11)
        put_bits(&b, pad, 8);
    memcpy(out, b.data, (size_t)capacity / 8);
    return capacity / 8;
}

/* Splits the data into blocks (the short ones first), appends each block's error
 * correction codewords and interleaves them (7.5, 7.6). */
static int interleave_with_ecc(const unsigned char *data, int ver, int ecl, unsigned char *out)
{
    int blocks = NUM_BLOCKS[ecl][ver], ecc_len = ECC_PER_BLOCK[ecl][ver];
    int raw = raw_data_modules(ver) / 8;
    int short_blocks = blocks - raw % blocks;
    int short_data = raw / blocks - ecc_len;
    unsigned char gen[QR_MAX_ECC], ecc[81][QR_MAX_ECC];
    rs_generator(ecc_len, gen);
    int starts[82];
    for (int i = 0, k = 0; i <= blocks; i++) {
        starts[i] = k;
        k += short_data + (i >= short_blocks);
    }
    for (int i = 0; i < blocks; i++)
        rs_remainder(data + starts[i], starts[i + 1] - starts[i], gen, ecc_len, ecc[i]);
    int n = 0;
    for (int j = 0; j <= short_data; j++)
        for (int i = 0; i < blocks; i++)
            if (j < starts[i + 1] - starts[i])
                out[n++] = data[starts[i] + j];
    for (int j = 0; j < ecc_len; j++)
        for (int i = 0; i < blocks; i++)
            out[n++] = ecc[i][j];
    return n;
}

/* ---------------------------------------------------------------- function patterns */

static void set_function(struct qr *q, int x, int y, int dark)
{
    q->modules[y][x] = (unsigned char)dark;
    q->function[y][x] = 1;
}

static void draw_finder(struct qr *q, int cx, int cy)
{
    for (int dy = -4; dy <= 4; dy++) {
        for (int dx = -4; dx <= 4; dx++) {
            int x = cx + dx, y = cy + dy;
            int dist = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
            if (x >= 0 && x < q->size && y >= 0 && y < q->size)
                set_function(q, x, y, dist != 2 && dist != 4);
        }
    }
}

static void draw_alignment(struct qr *q, int cx, int cy)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++)
            set_function(q, cx + dx, cy + dy, (abs(dx) > abs(dy) ? abs(dx) : abs(dy)) != 1);
}

static unsigned format_bits(int ecl, int mask)
{
    static const unsigned ecl_bits[] = {1, 0, 3, 2}; /* L M Q H */
    unsigned data = ecl_bits[ecl] << 3 | (unsigned)mask;
    unsigned rem = data;
    for (int i = 0; i < 10; i++)
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    return (data << 10 | (rem & 0x3ff)) ^ 0x5412;
}

static unsigned version_bits(int ver)
{
    unsigned rem = (unsigned)ver;
    for (int i = 0; i < 12; i++)
        rem = (rem << 1) ^ ((rem >> 11) * 0x1f25);
    return (unsigned)ver << 12 | (rem & 0xfff);
}

/* Format information, both copies, and the dark module (7.9). With `reserve` every module
 * is light: mask evaluation sees the area that way. */
static void draw_format(struct qr *q, int ecl, int mask, int reserve)
{
    unsigned bits = reserve ? 0 : format_bits(ecl, mask);
    int n = q->size;
    for (int i = 0; i <= 5; i++)
        set_function(q, 8, i, (bits >> i) & 1);
    set_function(q, 8, 7, (bits >> 6) & 1);
    set_function(q, 8, 8, (bits >> 7) & 1);
    set_function(q, 7, 8, (bits >> 8) & 1);
    for (int i = 9; i < 15; i++)
        set_function(q, 14 - i, 8, (bits >> i) & 1);
    for (int i = 0; i < 8; i++)
        set_function(q, n - 1 - i, 8, (bits >> i) & 1);
    for (int i = 8; i < 15; i++)
        set_function(q, 8, n - 15 + i, (bits >> i) & 1);
    set_function(q, 8, n - 8, !reserve);
}

/* Version information, both copies (7.10), for versions 7 and up. */
static void draw_version(struct qr *q, int reserve)
{
    if (q->version < 7)
        return;
    unsigned bits = reserve ? 0 : version_bits(q->version);
    for (int i = 0; i < 18; i++) {
        int a = q->size - 11 + i % 3, b = i / 3, bit = (bits >> i) & 1;
        set_function(q, a, b, bit);
        set_function(q, b, a, bit);
    }
}

static void draw_function_patterns(struct qr *q)
{
    memset(q->modules, 0, sizeof q->modules);
    memset(q->function, 0, sizeof q->function);
    for (int i = 0; i < q->size; i++) {
        set_function(q, 6, i, i % 2 == 0);
        set_function(q, i, 6, i % 2 == 0);
    }
    draw_finder(q, 3, 3);
    draw_finder(q, q->size - 4, 3);
    draw_finder(q, 3, q->size - 4);
    int pos[7], count = alignment_positions(q->version, pos);
    for (int i = 0; i < count; i++)
        for (int j = 0; j < count; j++)
            if (!((i == 0 && j == 0) || (i == 0 && j == count - 1) || (i == count - 1 && j == 0)))
                draw_alignment(q, pos[i], pos[j]);
    draw_format(q, 0, 0, 1);
    draw_version(q, 1);
}

/* ---------------------------------------------------------------- placement and masking */

/* Visits the data modules in placement order (7.7.3): two-module columns from the right,
 * alternately upwards and downwards, skipping the vertical timing pattern. */
#define FOR_EACH_DATA_MODULE(q, x, y, body) \
    for (int right_ = (q)->size - 1; right_ >= 1; right_ -= 2) { \
        if (right_ == 6) \
            right_ = 5; \
        for (int vert_ = 0; vert_ < (q)->size; vert_++) { \
            for (int j_ = 0; j_ < 2; j_++) { \
                int x = right_ - j_; \
                int y = ((right_ + 1) & 2) == 0 ? (q)->size - 1 - vert_ : vert_; \
                if (!(q)->function[y][x]) { body } \
            } \
        } \
    }

static void draw_codewords(struct qr *q, const unsigned char *cw, int n)
{
    long i = 0;
    FOR_EACH_DATA_MODULE(q, x, y, {
        /* Remainder bits, after the last codeword, stay light. */
        q->modules[y][x] = i < n * 8L ? (cw[i >> 3] >> (7 - (i & 7))) & 1 : 0;
        i++;
    })
}

static int mask_bit(int mask, int x, int y)
{
    switch (mask) {
    case 0: return (x + y) % 2 == 0;
    case 1: return y % 2 == 0;
    case 2: return x % 3 == 0;
    case 3: return (x + y) % 3 == 0;
    case 4: return (x / 3 + y / 2) % 2 == 0;
    case 5: return x * y % 2 + x * y % 3 == 0;
    case 6: return (x * y % 2 + x * y % 3) % 2 == 0;
    default: return ((x + y) % 2 + x * y % 3) % 2 == 0;
    }
}

/* XOR is its own inverse: applying a mask twice removes it. */
static void apply_mask(struct qr *q, int mask)
{
    for (int y = 0; y < q->size; y++)
        for (int x = 0; x < q->size; x++)
            if (!q->function[y][x])
                q->modules[y][x] ^= (unsigned char)mask_bit(mask, x, y);
}

/* ---------------------------------------------------------------- penalty (7.8.3) */

/* N1: a run of 5 + i modules of one colour scores 3 + i. */
static long run_penalty(const unsigned char *line, int stride, int n)
{
    long score = 0;
    int run = 1;
    for (int i = 1; i <= n; i++) {
        if (i < n && line[i * stride] == line[(i - 1) * stride]) {
            run++;
            continue;
        }
        if (run >= 5)
            score += run - 2;
        run = 1;
    }
    return score;
}

static int all_light(const unsigned char *line, int stride, int from, int to)
{
    for (int i = from; i < to; i++)
        if (line[i * stride])
            return 0;
    return 1;
}

/* N3: dark-light-dark-dark-dark-light-dark with four light modules (or the symbol's edge)
 * on one side scores 40. The search resumes after a scored pattern, else inside it. */
static long finder_penalty(const unsigned char *line, int stride, int n)
{
    static const unsigned char pattern[7] = {1, 0, 1, 1, 1, 0, 1};
    long score = 0;
    int i = 0;
    while (i + 7 <= n) {
        int k = 0;
        while (k < 7 && line[(i + k) * stride] == pattern[k])
            k++;
        if (k < 7) {
            i++;
            continue;
        }
        int before = i - 4 < 0 ? 0 : i - 4, after = i + 11 > n ? n : i + 11;
        if (i == 0 || i == n - 7 || all_light(line, stride, before, i) ||
            all_light(line, stride, i + 7, after)) {
            score += 40;
            i += 7;
        } else {
            i += 4;
        }
    }
    return score;
}

static long penalty(const struct qr *q)
{
    int n = q->size;
    long score = 0, dark = 0;
    for (int i = 0; i < n; i++) {
        score += run_penalty(&q->modules[i][0], 1, n);
        score += run_penalty(&q->modules[0][i], QR_MAX_SIZE, n);
        score += finder_penalty(&q->modules[i][0], 1, n);
        score += finder_penalty(&q->modules[0][i], QR_MAX_SIZE, n);
    }
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
            unsigned char c = q->modules[y][x];
            dark += c;
            if (x > 0 && y > 0 && c == q->modules[y][x - 1] && c == q->modules[y - 1][x] &&
                c == q->modules[y - 1][x - 1])
                score += 3;
        }
    }
    long total = (long)n * n;
    long k = labs(dark * 20 - total * 10) / total;
    return score + 10 * k;
}

/* ---------------------------------------------------------------- encoder */

/* Encodes text at level ecl into q. Returns 0, or -1 if it does not fit in version 40. */
static int qr_encode(const unsigned char *text, size_t len, int ecl, struct qr *q)
{
    enum mode mode = choose_mode(text, len);
    int ver = QR_MIN_VERSION;
    while (segment_bits(mode, len, ver) > data_codewords(ver, ecl) * 8L ||
           len >= (size_t)1 << char_count_bits(mode, ver)) {
        if (++ver > QR_MAX_VERSION)
            return -1;
    }
    unsigned char data[QR_MAX_CODEWORDS], all[QR_MAX_CODEWORDS];
    make_data_codewords(text, len, mode, ver, ecl, data);
    int n = interleave_with_ecc(data, ver, ecl, all);
    q->version = ver;
    q->size = ver * 4 + 17;
    q->ecl = ecl;
    q->mode = mode;
    draw_function_patterns(q);
    draw_codewords(q, all, n);
    long best = -1;
    for (int m = 0; m < 8; m++) {
        apply_mask(q, m);
        long p = penalty(q);
        if (best < 0 || p < best) {
            best = p;
            q->mask = m;
        }
        apply_mask(q, m);
    }
    apply_mask(q, q->mask);
    draw_format(q, ecl, q->mask, 0);
    draw_version(q, 0);
    return 0;
}

/* The text form: one line per row, '#' dark, '.' light. */
static size_t qr_to_text(const struct qr *q, char *out)
{
    size_t k = 0;
    for (int y = 0; y < q->size; y++) {
        for (int x = 0; x < q->size; x++)
            out[k++] = q->modules[y][x] ? '#' : '.';
        out[k++] = '\n';
    }
    out[k] = '\0';
    return k;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t qr_hash(const struct qr *q)
{
    static char text[QR_MAX_SIZE * (QR_MAX_SIZE + 1) + 1];
    size_t n = qr_to_text(q, text);
    return fnv1a(0xcbf29ce484222325ull, text, n);
}

/* ---------------------------------------------------------------- decoder (self-check) */

static unsigned get_bits(const unsigned char *data, long *pos, int n)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++, (*pos)++)
        v = v << 1 | ((data[*pos >> 3] >> (7 - (*pos & 7))) & 1);
    return v;
}

/* Reads a symbol back without trusting the encoder's state beyond its modules: both copies
 * of the format information, the version information, the codewords (the placement order
 * is the only shared code), each block's syndromes, and the segment. Returns 0 when the
 * symbol carries text at level ecl; else a message. */
static const char *qr_decode_check(const struct qr *q, const unsigned char *text, size_t len,
                                   int ecl)
{
    int n = q->size, ver = (n - 17) / 4;
    unsigned f1 = 0, f2 = 0;
    for (int i = 0; i <= 5; i++)
        f1 |= (unsigned)q->modules[i][8] << i;
    f1 |= (unsigned)q->modules[7][8] << 6 | (unsigned)q->modules[8][8] << 7 |
          (unsigned)q->modules[8][7] << 8;
    for (int i = 9; i < 15; i++)
        f1 |= (unsigned)q->modules[8][14 - i] << i;
    for (int i = 0; i < 8; i++)
        f2 |= (unsigned)q->modules[8][n - 1 - i] << i;
    for (int i = 8; i < 15; i++)
        f2 |= (unsigned)q->modules[n - 15 + i][8] << i;
    if (f1 != f2)
        return "format information copies differ";
    int found = -1;
    for (int e = 0; e < 4; e++)
        for (int m = 0; m < 8; m++)
            if (format_bits(e, m) == f1)
                found = e * 8 + m;
    if (found < 0 || found / 8 != ecl)
        return "format information is not that of the level";
    if (!q->modules[n - 8][8])
        return "dark module is light";
    if (ver >= 7) {
        unsigned v1 = 0, v2 = 0;
        for (int i = 0; i < 18; i++) {
            v1 |= (unsigned)q->modules[i / 3][n - 11 + i % 3] << i;
            v2 |= (unsigned)q->modules[n - 11 + i % 3][i / 3] << i;
        }
        if (v1 != v2 || v1 != version_bits(ver))
            return "version information";
    }
    /* Unmask a copy and read the codewords in placement order. */
    static struct qr copy;
    memcpy(&copy, q, sizeof copy);
    copy.version = ver;
    draw_function_patterns(&copy);
    memcpy(copy.modules, q->modules, sizeof copy.modules);
    apply_mask(&copy, found % 8);
    unsigned char all[QR_MAX_CODEWORDS] = {0};
    int raw = raw_data_modules(ver) / 8;
    long bit = 0;
    FOR_EACH_DATA_MODULE(&copy, x, y, {
        if (bit < raw * 8L)
            all[bit >> 3] |= (unsigned char)(copy.modules[y][x] << (7 - (bit & 7)));
        bit++;
    })
    /* De-interleave and check that every block's syndromes are zero. */
    int blocks = NUM_BLOCKS[ecl][ver], ecc_len = ECC_PER_BLOCK[ecl][ver];
    int short_blocks = blocks - raw % blocks, short_data = raw / blocks - ecc_len;
    unsigned char data[QR_MAX_CODEWORDS];
    int data_len = 0;
    for (int b = 0; b < blocks; b++) {
        int dl = short_data + (b >= short_blocks);
        unsigned char block[256];
        for (int j = 0; j < dl; j++) {
            int idx = j < short_data ? j * blocks + b : short_data * blocks + (b - short_blocks);
            block[j] = all[idx];
            data[data_len++] = block[j];
        }
        int ecc_start = short_data * blocks + (blocks - short_blocks);
        for (int j = 0; j < ecc_len; j++)
            block[dl + j] = all[ecc_start + j * blocks + b];
        unsigned alpha = 1;
        for (int s = 0; s < ecc_len; s++, alpha = gf_mul(alpha, 2)) {
            unsigned v = 0;
            for (int j = 0; j < dl + ecc_len; j++)
                v = gf_mul(v, alpha) ^ block[j];
            if (v != 0)
                return "non-zero syndrome";
        }
    }
    /* Parse the one segment. */
    long pos = 0;
#define GET(nbits) get_bits(data, &pos, (nbits))
    unsigned mode_bits = GET(4);
    enum mode mode = mode_bits == 1 ? MODE_NUMERIC : mode_bits == 2 ? MODE_ALNUM : MODE_BYTE;
    if (mode_bits != 1 && mode_bits != 2 && mode_bits != 4)
        return "unknown mode";
    size_t count = GET(char_count_bits(mode, ver));
    if (count != len)
        return "character count";
    unsigned char got[QR_MAX_CODEWORDS];
    for (size_t i = 0; i < count;) {
        if (mode == MODE_NUMERIC) {
            int digits = count - i >= 3 ? 3 : (int)(count - i);
            unsigned v = GET(digits == 3 ? 10 : digits == 2 ? 7 : 4);
            for (int d = digits - 1; d >= 0; d--, v /= 10)
                got[i + (size_t)d] = (unsigned char)('0' + v % 10);
            i += (size_t)digits;
        } else if (mode == MODE_ALNUM) {
            if (count - i >= 2) {
                unsigned v = GET(11);
                got[i++] = (unsigned char)ALNUM_CHARS[v / 45 % 45];
                got[i++] = (unsigned char)ALNUM_CHARS[v % 45];
            } else {
                got[i++] = (unsigned char)ALNUM_CHARS[GET(6) % 45];
            }
        } else {
            got[i++] = (unsigned char)GET(8);
        }
    }
#undef GET
    if (memcmp(got, text, len) != 0)
        return "decoded text differs";
    return NULL;
}

/* ---------------------------------------------------------------- test inputs */

enum pattern { P_DIGITS, P_ALNUM, P_TEXT, P_BINARY };

static const char PANGRAM[] =
    "The quick brown fox jumps over the lazy dog; MEWE serves it at the edge. ";

/* The inputs of the reference cases, made the same way by qr_reference.py. */
static void make_text(enum pattern p, size_t len, unsigned char *out)
{
    for (size_t i = 0; i < len; i++) {
        switch (p) {
        case P_DIGITS: out[i] = (unsigned char)('0' + (i * 7 + 3) % 10); break;
        case P_ALNUM: out[i] = (unsigned char)ALNUM_CHARS[(i * 11 + 5) % 45]; break;
        case P_TEXT: out[i] = (unsigned char)PANGRAM[i % (sizeof PANGRAM - 1)]; break;
        default: out[i] = (unsigned char)((i * 37 + 11) & 0xff); break;
        }
    }
}

/* Symbols made by segno 1.4.1 (a separate encoder) for the same inputs: version, mask and
 * the FNV-1a hash of the text form. Regenerate with tests/corpus/programs/qr_reference.py. */
static const struct {
    enum pattern pattern;
    int len, ecl, version, mask;
    uint64_t hash;
} REFERENCE[] = {
/* BEGIN REFERENCE */
    {P_TEXT, 17, ECL_L, 1, 4, 0xf9560909ab13e61bull},
    {P_TEXT, 32, ECL_L, 2, 4, 0x332c51f8ea24c7d1ull},
    {P_TEXT, 53, ECL_L, 3, 3, 0x213422186629dcf3ull},
    {P_TEXT, 78, ECL_L, 4, 2, 0xf27172904699eb12ull},
    {P_TEXT, 106, ECL_L, 5, 3, 0xf1bda89881bc6fb3ull},
    {P_TEXT, 134, ECL_L, 6, 7, 0x65785dba6c651183ull},
    {P_TEXT, 154, ECL_L, 7, 4, 0x01b9e598dee04ca9ull},
    {P_TEXT, 192, ECL_L, 8, 6, 0xe2742113c16cb7a9ull},
    {P_TEXT, 230, ECL_L, 9, 6, 0x353488333848c05aull},
    {P_TEXT, 271, ECL_L, 10, 2, 0xbad9eff44bd143cdull},
    {P_TEXT, 321, ECL_L, 11, 2, 0x49183c9b766c5ed5ull},
    {P_TEXT, 367, ECL_L, 12, 5, 0x76cea77889471148ull},
    {P_TEXT, 425, ECL_L, 13, 5, 0xd1e364019af3f7ebull},
    {P_TEXT, 458, ECL_L, 14, 2, 0x108aab99018f1febull},
    {P_TEXT, 520, ECL_L, 15, 7, 0xcc1c02784b4491daull},
    {P_TEXT, 586, ECL_L, 16, 6, 0xe1139da9beb6381eull},
    {P_TEXT, 644, ECL_L, 17, 4, 0x9d8c0a428e655a3cull},
    {P_TEXT, 718, ECL_L, 18, 5, 0xb7d799efaec5d1c4ull},
    {P_TEXT, 792, ECL_L, 19, 2, 0xd7b83166a3e72989ull},
    {P_TEXT, 858, ECL_L, 20, 2, 0xb86df1449eb9a6dfull},
    {P_TEXT, 929, ECL_L, 21, 5, 0x0388817e1fd33cd8ull},
    {P_TEXT, 1003, ECL_L, 22, 2, 0x7b5effc3f1d67965ull},
    {P_TEXT, 1091, ECL_L, 23, 4, 0x20fdb524e5c924edull},
    {P_TEXT, 1171, ECL_L, 24, 2, 0x209768bd0b40eebdull},
    {P_TEXT, 1273, ECL_L, 25, 2, 0xd40e784d54e3fd01ull},
    {P_TEXT, 1367, ECL_L, 26, 5, 0x405cdf0560006aa2ull},
    {P_TEXT, 1465, ECL_L, 27, 2, 0xb6723d3d234ea8b5ull},
    {P_TEXT, 1528, ECL_L, 28, 2, 0xffbdc802eb1a161cull},
    {P_TEXT, 1628, ECL_L, 29, 2, 0xbccca3765e9c7819ull},
    {P_TEXT, 1732, ECL_L, 30, 2, 0x642445eb097f67b5ull},
    {P_TEXT, 1840, ECL_L, 31, 2, 0x050750fe79134628ull},
    {P_TEXT, 1952, ECL_L, 32, 2, 0x60b875b820cf2978ull},
    {P_TEXT, 2068, ECL_L, 33, 2, 0xe7c6a58d770a7bbaull},
    {P_TEXT, 2188, ECL_L, 34, 2, 0x417160dae0a9e851ull},
    {P_TEXT, 2303, ECL_L, 35, 4, 0xabbbab48d197d8d5ull},
    {P_TEXT, 2431, ECL_L, 36, 4, 0x6e23dc1a3876b8e9ull},
    {P_TEXT, 2563, ECL_L, 37, 2, 0xbe44d42731b6b9b9ull},
    {P_TEXT, 2699, ECL_L, 38, 2, 0x2be66fec15f2abedull},
    {P_TEXT, 2809, ECL_L, 39, 2, 0x35368e2c8df52ed1ull},
    {P_TEXT, 2953, ECL_L, 40, 4, 0x7772adfbdb89c40full},
    {P_TEXT, 14, ECL_M, 1, 2, 0x1bc0fd673eaea415ull},
    {P_TEXT, 26, ECL_M, 2, 5, 0x6f5367d962efc14eull},
    {P_TEXT, 42, ECL_M, 3, 3, 0x1de5c29032da7923ull},
    {P_TEXT, 62, ECL_M, 4, 7, 0x3ae595d9a353e082ull},
    {P_TEXT, 84, ECL_M, 5, 3, 0x1a7a77437480298full},
    {P_TEXT, 106, ECL_M, 6, 6, 0xd406d21d9b2991c7ull},
    {P_TEXT, 122, ECL_M, 7, 2, 0xad294c0688e33193ull},
    {P_TEXT, 152, ECL_M, 8, 3, 0x5ac4c308564ca45dull},
    {P_TEXT, 180, ECL_M, 9, 2, 0x2fb6bd8e4d092465ull},
    {P_TEXT, 213, ECL_M, 10, 6, 0xc87146c201ad3cc3ull},
    {P_TEXT, 251, ECL_M, 11, 1, 0x3d8fc794e3a3ec7aull},
    {P_TEXT, 287, ECL_M, 12, 5, 0x8eb01a9172018514ull},
    {P_TEXT, 331, ECL_M, 13, 6, 0x45e080ce896463edull},
    {P_TEXT, 362, ECL_M, 14, 6, 0x7e4a6c73d4c604e7ull},
    {P_TEXT, 412, ECL_M, 15, 3, 0x465830632a2f9110ull},
    {P_TEXT, 450, ECL_M, 16, 2, 0x243298f88ce5715eull},
    {P_TEXT, 504, ECL_M, 17, 3, 0xe4983156103559d9ull},
    {P_TEXT, 560, ECL_M, 18, 3, 0x11b17d5cac4bfc0eull},
    {P_TEXT, 624, ECL_M, 19, 2, 0xc42c4ba6819fe12bull},
    {P_TEXT, 666, ECL_M, 20, 2, 0x9ca4f2b62883f0c5ull},
    {P_TEXT, 711, ECL_M, 21, 2, 0x495207fb01b05c8full},
    {P_TEXT, 779, ECL_M, 22, 5, 0x795c2e667966cfb7ull},
    {P_TEXT, 857, ECL_M, 23, 3, 0xed4f6294ae29a065ull},
    {P_TEXT, 911, ECL_M, 24, 3, 0x89be11a308533081ull},
    {P_TEXT, 997, ECL_M, 25, 2, 0x389fe6348b64d115ull},
    {P_TEXT, 1059, ECL_M, 26, 5, 0x9a40510022d788f8ull},
    {P_TEXT, 1125, ECL_M, 27, 2, 0x497d711d9db727efull},
    {P_TEXT, 1190, ECL_M, 28, 4, 0x089d4bd67e45c544ull},
    {P_TEXT, 1264, ECL_M, 29, 2, 0x001deaf569204bb3ull},
    {P_TEXT, 1370, ECL_M, 30, 2, 0xd995b8a726b39383ull},
    {P_TEXT, 1452, ECL_M, 31, 2, 0x675d5f587009ed6eull},
    {P_TEXT, 1538, ECL_M, 32, 2, 0x64b5af6fdf1f942cull},
    {P_TEXT, 1628, ECL_M, 33, 2, 0x34aa473cc869983eull},
    {P_TEXT, 1722, ECL_M, 34, 2, 0x1bd11636fd48a285ull},
    {P_TEXT, 1809, ECL_M, 35, 2, 0x49648dbe21596669ull},
    {P_TEXT, 1911, ECL_M, 36, 5, 0x4b06a6fb1388cbf8ull},
    {P_TEXT, 1989, ECL_M, 37, 4, 0x96244cfab38a7e9dull},
    {P_TEXT, 2099, ECL_M, 38, 6, 0x39e17f228daff3cdull},
    {P_TEXT, 2213, ECL_M, 39, 2, 0x89ac06191e8ba94full},
    {P_TEXT, 2331, ECL_M, 40, 6, 0x4eeff71ea599f761ull},
    {P_TEXT, 11, ECL_Q, 1, 3, 0xfa30c1b45562c56full},
    {P_TEXT, 20, ECL_Q, 2, 6, 0xfce76db0f7711137ull},
    {P_TEXT, 32, ECL_Q, 3, 4, 0x264e772a15e5ed5eull},
    {P_TEXT, 46, ECL_Q, 4, 7, 0xbebf091bdba63b46ull},
    {P_TEXT, 60, ECL_Q, 5, 4, 0x11e4237a3d2f098bull},
    {P_TEXT, 74, ECL_Q, 6, 3, 0xd8142e6f3d944f55ull},
    {P_TEXT, 86, ECL_Q, 7, 5, 0xa0e9b8922026e0c7ull},
    {P_TEXT, 108, ECL_Q, 8, 4, 0x69724775d7b4f7bbull},
    {P_TEXT, 130, ECL_Q, 9, 2, 0x33bcb0795572939bull},
    {P_TEXT, 151, ECL_Q, 10, 1, 0xa455cb2ffa3ee0d0ull},
    {P_TEXT, 177, ECL_Q, 11, 3, 0x88fb5904085c6865ull},
    {P_TEXT, 203, ECL_Q, 12, 4, 0xeadf229f5d581b27ull},
    {P_TEXT, 241, ECL_Q, 13, 2, 0x9b80eef7fc4315fbull},
    {P_TEXT, 258, ECL_Q, 14, 3, 0x9ef0d4dda96144dbull},
    {P_TEXT, 292, ECL_Q, 15, 2, 0x6ac84d80b0329c53ull},
    {P_TEXT, 322, ECL_Q, 16, 3, 0xaf26dc174bbcffe2ull},
    {P_TEXT, 364, ECL_Q, 17, 2, 0x4e4e59c9ed7d0a89ull},
    {P_TEXT, 394, ECL_Q, 18, 1, 0xf6dd59eed337da32ull},
    {P_TEXT, 442, ECL_Q, 19, 2, 0x91ef1af417b0b671ull},
    {P_TEXT, 482, ECL_Q, 20, 2, 0xfa8d238d878f0d9full},
    {P_TEXT, 509, ECL_Q, 21, 3, 0xf681a5e67d50a30dull},
    {P_TEXT, 565, ECL_Q, 22, 3, 0x6420d4d44b060fa1ull},
    {P_TEXT, 611, ECL_Q, 23, 1, 0x7230df052a237284ull},
    {P_TEXT, 661, ECL_Q, 24, 3, 0x8e58ac1f66244065ull},
    {P_TEXT, 715, ECL_Q, 25, 4, 0xf81d06c3a03fc75dull},
    {P_TEXT, 751, ECL_Q, 26, 2, 0x7b62b985ca5ef183ull},
    {P_TEXT, 805, ECL_Q, 27, 3, 0xcdcc285408cc0525ull},
    {P_TEXT, 868, ECL_Q, 28, 7, 0x5da0863f67af8332ull},
    {P_TEXT, 908, ECL_Q, 29, 4, 0xbf1cd5362baa86a4ull},
    {P_TEXT, 982, ECL_Q, 30, 4, 0x67fc8bba2893ac48ull},
    {P_TEXT, 1030, ECL_Q, 31, 4, 0xca754024eea3e137ull},
    {P_TEXT, 1112, ECL_Q, 32, 2, 0xed3cd95fa31fbb62ull},
    {P_TEXT, 1168, ECL_Q, 33, 4, 0x00b08bd7992bc4aaull},
    {P_TEXT, 1228, ECL_Q, 34, 6, 0x85ac9944cabd3093ull},
    {P_TEXT, 1283, ECL_Q, 35, 4, 0x136f5ada6f187e4bull},
    {P_TEXT, 1351, ECL_Q, 36, 4, 0x9ee7544604fdc331ull},
    {P_TEXT, 1423, ECL_Q, 37, 4, 0xfae97ed4365f8703ull},
    {P_TEXT, 1499, ECL_Q, 38, 4, 0x88b21e1bd1cd3e57ull},
    {P_TEXT, 1579, ECL_Q, 39, 2, 0xab817a3aeb56d2c9ull},
    {P_TEXT, 1663, ECL_Q, 40, 4, 0xa7ea608dda1bfd25ull},
    {P_TEXT, 7, ECL_H, 1, 3, 0x16b252af115111a1ull},
    {P_TEXT, 14, ECL_H, 2, 5, 0xce6e9f5c96a154a2ull},
    {P_TEXT, 24, ECL_H, 3, 3, 0x611fa56cac99de9bull},
    {P_TEXT, 34, ECL_H, 4, 2, 0xd368dec5ec1642bcull},
    {P_TEXT, 44, ECL_H, 5, 7, 0xfac7bf8b25707ffbull},
    {P_TEXT, 58, ECL_H, 6, 2, 0xdc0e7524719f1638ull},
    {P_TEXT, 64, ECL_H, 7, 5, 0xefaa6bde6ce50cfbull},
    {P_TEXT, 84, ECL_H, 8, 4, 0xfe323755e69c2039ull},
    {P_TEXT, 98, ECL_H, 9, 2, 0xc6cb29a3573f4837ull},
    {P_TEXT, 119, ECL_H, 10, 1, 0x36c511dc1d1a0b7cull},
    {P_TEXT, 137, ECL_H, 11, 2, 0x2183ce13e54e0a01ull},
    {P_TEXT, 155, ECL_H, 12, 2, 0x1e212b7ca0cbc0c7ull},
    {P_TEXT, 177, ECL_H, 13, 4, 0xa5df02b9f26e9c65ull},
    {P_TEXT, 194, ECL_H, 14, 7, 0xad48948279bfc489ull},
    {P_TEXT, 220, ECL_H, 15, 3, 0x9b3a7d274a4b7a9aull},
    {P_TEXT, 250, ECL_H, 16, 7, 0x22a8be34dda43f1eull},
    {P_TEXT, 280, ECL_H, 17, 2, 0x6b2f504521ef7c1full},
    {P_TEXT, 310, ECL_H, 18, 7, 0x475f9ae9abbaf16aull},
    {P_TEXT, 338, ECL_H, 19, 4, 0x66e60650fb2053bbull},
    {P_TEXT, 382, ECL_H, 20, 6, 0x8d102b263de906a1ull},
    {P_TEXT, 403, ECL_H, 21, 1, 0x53bb51cb83b666b6ull},
    {P_TEXT, 439, ECL_H, 22, 2, 0xaf7e52fc62d391a5ull},
    {P_TEXT, 461, ECL_H, 23, 0, 0xe6cb9d75a759bca9ull},
    {P_TEXT, 511, ECL_H, 24, 3, 0x4b6a7f4e5acfb6d1ull},
    {P_TEXT, 535, ECL_H, 25, 4, 0x9b0413f6376f498bull},
    {P_TEXT, 593, ECL_H, 26, 6, 0x0996e3e3d339ed07ull},
    {P_TEXT, 625, ECL_H, 27, 0, 0xb509a6b6129abee9ull},
    {P_TEXT, 658, ECL_H, 28, 4, 0xe402f9a00a9c1464ull},
    {P_TEXT, 698, ECL_H, 29, 4, 0x9fc773183748384cull},
    {P_TEXT, 742, ECL_H, 30, 4, 0x8893f33401bce8f2ull},
    {P_TEXT, 790, ECL_H, 31, 7, 0xb6adc6ed464bbfe4ull},
    {P_TEXT, 842, ECL_H, 32, 4, 0x7d11d710ae8aa736ull},
    {P_TEXT, 898, ECL_H, 33, 4, 0x4813f36139d99538ull},
    {P_TEXT, 958, ECL_H, 34, 2, 0x1e651f53a9b34eedull},
    {P_TEXT, 983, ECL_H, 35, 4, 0x27183c535c5a14e9ull},
    {P_TEXT, 1051, ECL_H, 36, 4, 0x4e8fbd2a4419d567ull},
    {P_TEXT, 1093, ECL_H, 37, 2, 0x736e2cd47cbca7cfull},
    {P_TEXT, 1139, ECL_H, 38, 2, 0x8692ff51ae4d790dull},
    {P_TEXT, 1219, ECL_H, 39, 2, 0x615e20fbdebec2a3ull},
    {P_TEXT, 1273, ECL_H, 40, 5, 0x0cfab5d441f707bfull},
    {P_DIGITS, 34, ECL_M, 1, 6, 0x1a8c0e4fd27c7f7dull},
    {P_ALNUM, 16, ECL_Q, 1, 5, 0x61f8820a261ba8abull},
    {P_DIGITS, 432, ECL_M, 9, 6, 0x02bb222175a90b8aull},
    {P_ALNUM, 189, ECL_Q, 9, 7, 0xbb2a3118068a4c84ull},
    {P_DIGITS, 513, ECL_M, 10, 4, 0x3efa63c5455066edull},
    {P_ALNUM, 221, ECL_Q, 10, 2, 0x828cc842f2fc6ebfull},
    {P_DIGITS, 2544, ECL_M, 26, 1, 0x514f8a63987a6206ull},
    {P_ALNUM, 1094, ECL_Q, 26, 6, 0x049ab62ab4b119b5ull},
    {P_DIGITS, 2701, ECL_M, 27, 4, 0x74f96f79221e6b55ull},
    {P_ALNUM, 1172, ECL_Q, 27, 2, 0xdaa01913023aa851ull},
    {P_BINARY, 1, ECL_L, 1, 0, 0x9fefd5b35b2d80f7ull},
    {P_BINARY, 1, ECL_H, 1, 0, 0xde8574ef49f13b57ull},
    {P_BINARY, 10, ECL_M, 1, 0, 0xe18d767d8d2a4c29ull},
    {P_BINARY, 100, ECL_Q, 8, 3, 0xd64237afcdce4be9ull},
    {P_BINARY, 1000, ECL_L, 22, 6, 0xab43c0b7401561ebull},
    {P_BINARY, 300, ECL_H, 18, 4, 0xe980a2df4cb55758ull},
    {P_DIGITS, 1, ECL_L, 1, 0, 0x4fd68240620d600bull},
    {P_ALNUM, 1, ECL_H, 1, 3, 0x3442d927bf8c0697ull},
    {P_DIGITS, 2, ECL_L, 1, 0, 0x5ce00c14ea78894dull},
    {P_ALNUM, 2, ECL_H, 1, 0, 0x755e40c0ac1437e5ull},
    {P_DIGITS, 3, ECL_L, 1, 2, 0x2b5b5de8d54acc8full},
    {P_ALNUM, 3, ECL_H, 1, 0, 0x65001686476f1f0full},
    {P_DIGITS, 4, ECL_L, 1, 3, 0x85f7dec9a0861631ull},
    {P_ALNUM, 4, ECL_H, 1, 3, 0xd5570881b9a2d29dull},
    {P_DIGITS, 5, ECL_L, 1, 4, 0xadc52b8b080aacc9ull},
    {P_ALNUM, 5, ECL_H, 1, 0, 0xa427393f1eee7b25ull},
    {P_DIGITS, 17, ECL_L, 1, 7, 0xb896ee392c79ed11ull},
    {P_ALNUM, 17, ECL_H, 2, 4, 0xed69a1927e9dca79ull},
    {P_DIGITS, 41, ECL_L, 1, 6, 0x95010a1a9abe7971ull},
    {P_ALNUM, 41, ECL_H, 4, 6, 0x1b78c6c58daa6fceull},
/* END REFERENCE */
};

/* "HELLO WORLD" at level M as segno draws it. */
static const char *const HELLO_WORLD_1M[] = {
    "#######...#.#.#######", "#.....#.###...#.....#", "#.###.#...#.#.#.###.#",
    "#.###.#...#.#.#.###.#", "#.###.#.#.###.#.###.#", "#.....#..###..#.....#",
    "#######.#.#.#.#######", ".....................", "#.#.#.#..#..#...#..#.",
    ".####...#..#....#...#", "...#######.#..#.##...", "####.#.##..###.#.###.",
    ".#..####.#.#..###.#.#", "........#.#...#...#.#", "#######.....#..#.##..",
    "#.....#..##...##.#...", "#.###.#.##..#.#######", "#.###.#...##.#.#...#.",
    "#.###.#.####.###.#..#", "#.....#....###...#.##", "#######.##.#.###....#",
};

/* Table C.1 of ISO/IEC 18004: the format information of each level and mask. */
static const char *const FORMAT_TABLE[4][8] = {
    {"111011111000100", "111001011110011", "111110110101010", "111100010011101",
     "110011000101111", "110001100011000", "110110001000001", "110100101110110"},
    {"101010000010010", "101000100100101", "101111001111100", "101101101001011",
     "100010111111001", "100000011001110", "100111110010111", "100101010100000"},
    {"011010101011111", "011000001101000", "011111100110001", "011101000000110",
     "010010010110100", "010000110000011", "010111011011010", "010101111101101"},
    {"001011010001001", "001001110111110", "001110011100111", "001100111010000",
     "000011101100010", "000001001010101", "000110100001100", "000100000111011"},
};

/* Table D.1: the version information of versions 7 to 40. */
static const uint32_t VERSION_TABLE[34] = {
    0x07c94, 0x085bc, 0x09a99, 0x0a4d3, 0x0bbf6, 0x0c762, 0x0d847, 0x0e60d, 0x0f928,
    0x10b78, 0x1145d, 0x12a17, 0x13532, 0x149a6, 0x15683, 0x168c9, 0x177ec, 0x18ec4,
    0x191e1, 0x1afab, 0x1b08e, 0x1cc1a, 0x1d33f, 0x1ed75, 0x1f250, 0x209d5, 0x216f0,
    0x228ba, 0x2379f, 0x24b0b, 0x2542e, 0x26a64, 0x27541, 0x28c69,
};

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

static int parse_ecl(const char *s)
{
    const char *p = s[0] && !s[1] ? strchr(ECL_NAMES, s[0]) : NULL;
    return p ? (int)(p - ECL_NAMES) : -1;
}

static int bytes_equal_hex(const unsigned char *got, int n, const char *hex)
{
    for (int i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || v != got[i])
            return 0;
    }
    return (int)strlen(hex) == 2 * n;
}

/* Data and error correction codewords of two published 1-M examples: "01234567" from the
 * standard's Annex I and "HELLO WORLD" from Thonky's QR code tutorial. */
static void test_codewords(void)
{
    static const struct {
        const char *text, *data, *ecc;
    } examples[] = {
        {"01234567", "10200c56618 0ec11ec11ec11ec11ec11", "a524d4c1ed36c7872c55"},
        {"HELLO WORLD", "205b0b78d172dc4d4340ec11ec11ec11", "c4232777ebd7e7e25d17"},
    };
    for (size_t i = 0; i < 2; i++) {
        const unsigned char *text = (const unsigned char *)examples[i].text;
        size_t len = strlen(examples[i].text);
        unsigned char data[32], gen[QR_MAX_ECC], ecc[QR_MAX_ECC];
        char want[64], what[80];
        /* The Annex I data string is written with a space in it; drop it. */
        size_t k = 0;
        for (const char *p = examples[i].data; *p; p++)
            if (*p != ' ')
                want[k++] = *p;
        want[k] = '\0';
        int n = make_data_codewords(text, len, choose_mode(text, len), 1, ECL_M, data);
        rs_generator(10, gen);
        rs_remainder(data, n, gen, 10, ecc);
        snprintf(what, sizeof what, "codewords of \"%s\" 1-M: data", examples[i].text);
        report(n == 16 && bytes_equal_hex(data, n, want), what);
        snprintf(what, sizeof what, "codewords of \"%s\" 1-M: error correction", examples[i].text);
        report(bytes_equal_hex(ecc, 10, examples[i].ecc), what);
    }
}

static void test_format_and_version_tables(void)
{
    int bad = 0;
    for (int e = 0; e < 4; e++)
        for (int m = 0; m < 8; m++)
            bad += format_bits(e, m) != (unsigned)strtoul(FORMAT_TABLE[e][m], NULL, 2);
    report(bad == 0, "format information of the 32 level/mask pairs (Table C.1)");
    bad = 0;
    for (int v = 7; v <= 40; v++)
        bad += version_bits(v) != VERSION_TABLE[v - 7];
    report(bad == 0, "version information of versions 7 to 40 (Table D.1)");
}

static struct qr symbol, again;
static unsigned char text_buf[3000];

static void test_hello_world(void)
{
    const unsigned char *text = (const unsigned char *)"HELLO WORLD";
    int ok = qr_encode(text, 11, ECL_M, &symbol) == 0 && symbol.size == 21;
    for (int y = 0; ok && y < 21; y++)
        for (int x = 0; x < 21; x++)
            ok &= (symbol.modules[y][x] ? '#' : '.') == HELLO_WORLD_1M[y][x];
    report(ok, "symbol of \"HELLO WORLD\" 1-M, module by module");
}

/* Every reference case: same version, mask and symbol as segno, decodes back to its text,
 * and encodes the same way twice even when the output starts out dirty. */
static void test_reference_symbols(void)
{
    int bad = 0, undecodable = 0, unstable = 0;
    for (size_t i = 0; i < sizeof REFERENCE / sizeof REFERENCE[0]; i++) {
        size_t len = (size_t)REFERENCE[i].len;
        make_text(REFERENCE[i].pattern, len, text_buf);
        memset(&symbol, 0x5a, sizeof symbol);
        int rc = qr_encode(text_buf, len, REFERENCE[i].ecl, &symbol);
        uint64_t h = rc == 0 ? qr_hash(&symbol) : 0;
        int same = rc == 0 && symbol.version == REFERENCE[i].version &&
                   symbol.mask == REFERENCE[i].mask && h == REFERENCE[i].hash;
        const char *why = rc == 0 ? qr_decode_check(&symbol, text_buf, len, REFERENCE[i].ecl)
                                  : "does not fit";
        memset(&again, 0xa5, sizeof again);
        qr_encode(text_buf, len, REFERENCE[i].ecl, &again);
        int stable = rc == 0 && qr_hash(&again) == h && again.mask == symbol.mask;
        if (!same || why || !stable)
            printf("     case %zu (%s, %zu bytes, level %c): version %d mask %d hash %016llx; "
                   "segno: version %d mask %d hash %016llx; decode: %s\n",
                   i, MODE_NAMES[symbol.mode], len, ECL_NAMES[REFERENCE[i].ecl], symbol.version,
                   symbol.mask, (unsigned long long)h, REFERENCE[i].version, REFERENCE[i].mask,
                   (unsigned long long)REFERENCE[i].hash, why ? why : "ok");
        bad += !same;
        undecodable += why != NULL;
        unstable += !stable;
    }
    char what[96];
    size_t n = sizeof REFERENCE / sizeof REFERENCE[0];
    snprintf(what, sizeof what, "%zu symbols (versions 1 to 40) equal segno's", n);
    report(bad == 0, what);
    snprintf(what, sizeof what, "%zu symbols decode back to their text", n);
    report(undecodable == 0, what);
    snprintf(what, sizeof what, "%zu symbols encode the same way twice", n);
    report(unstable == 0, what);
}

/* The largest byte input of level L (2953 bytes) fits in version 40; one more does not. */
static void test_limits(void)
{
    make_text(P_BINARY, 2954, text_buf);
    int fits = qr_encode(text_buf, 2953, ECL_L, &symbol) == 0 && symbol.version == 40;
    int too_long = qr_encode(text_buf, 2954, ECL_L, &symbol) == -1;
    report(fits && too_long, "capacity limit of version 40-L (2953 bytes)");
}

static int self_test(void)
{
    test_codewords();
    test_format_and_version_tables();
    test_hello_world();
    test_reference_symbols();
    test_limits();
    if (failures) {
        printf("qr: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("qr: all %d checks passed\n", checks);
    return 0;
}

/* ---------------------------------------------------------------- CLI */

static int encode_command(const char *level, const char *text)
{
    int ecl = parse_ecl(level);
    size_t len = strlen(text);
    if (ecl < 0) {
        fprintf(stderr, "qr: level must be L, M, Q or H\n");
        return 2;
    }
    if (qr_encode((const unsigned char *)text, len, ecl, &symbol) != 0) {
        fprintf(stderr, "qr: text too long for level %c\n", ECL_NAMES[ecl]);
        return 1;
    }
    static char out[QR_MAX_SIZE * (QR_MAX_SIZE + 1) + 1];
    qr_to_text(&symbol, out);
    printf("version %d level %c mask %d mode %s\n%s", symbol.version, ECL_NAMES[ecl],
           symbol.mask, MODE_NAMES[symbol.mode], out);
    return 0;
}

static int bench(long rounds)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (long r = 0; r < rounds; r++) {
        size_t len = 1 + (size_t)(r * 37 % 120);
        make_text((enum pattern)(r % 4), len, text_buf);
        text_buf[0] = (unsigned char)('A' + r % 26);
        if (qr_encode(text_buf, len, (int)(r % 4), &symbol) != 0) {
            printf("qr bench: round %ld does not fit\n", r);
            return 1;
        }
        h = fnv1a(h, &symbol.mask, sizeof symbol.mask);
        h ^= qr_hash(&symbol);
    }
    printf("qr bench %ld: %016llx\n", rounds, (unsigned long long)h);
    return 0;
}

int main(int argc, char **argv)
{
    gf_init();
    if (argc == 1)
        return self_test();
    if (argc == 4 && strcmp(argv[1], "encode") == 0)
        return encode_command(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "bench") == 0)
        return bench(strtol(argv[2], NULL, 10));
    fprintf(stderr, "usage: qr [encode L|M|Q|H TEXT | bench N]\n");
    return 2;
}
