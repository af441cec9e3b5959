/* A minimal reader of LLVM's bitstream container, just enough to read the identification
 * block that LLVM >= 3.8 writes first. LLVM-C has no call for it, and its bitcode reader
 * reports a newer producer only as an unrelated-looking "Invalid record" or version error. */
#include <stdint.h>
#include <string.h>

#include "ir/bitcode_id.h"

enum { ID_BLOCK = 13, ID_CODE_STRING = 1, MAX_ABBREVS = 8, MAX_OPS = 8 };
enum { ENC_LITERAL = 0, ENC_FIXED = 1, ENC_VBR = 2, ENC_ARRAY = 3, ENC_CHAR6 = 4, ENC_BLOB = 5 };

typedef struct {
    const unsigned char *data;
    size_t size_bits;
    size_t pos; /* in bits */
    int bad;
} bitreader;

typedef struct {
    int enc;
    uint64_t value;
} abbrev_op;

typedef struct {
    abbrev_op ops[MAX_OPS];
    int count;
} abbrev;

static uint64_t read_fixed(bitreader *r, unsigned width)
{
    uint64_t v = 0;
    if (width > 64 || r->pos + width > r->size_bits) {
        r->bad = 1;
        return 0;
    }
    for (unsigned i = 0; i < width; i++, r->pos++)
        v |= (uint64_t)((r->data[r->pos / 8] >> (r->pos % 8)) & 1) << i;
    return v;
}

static uint64_t read_vbr(bitreader *r, unsigned width)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint64_t hi = (uint64_t)1 << (width - 1);
    for (;;) {
        uint64_t piece = read_fixed(r, width);
        if (r->bad || shift > 63)
            return r->bad = 1, 0;
        v |= (piece & (hi - 1)) << shift;
        if (!(piece & hi))
            return v;
        shift += width - 1;
    }
}

static void align32(bitreader *r)
{
    r->pos = (r->pos + 31) & ~(size_t)31;
}

static char char6(uint64_t v)
{
    static const char table[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._";
    return table[v & 63];
}

static int read_abbrev_def(bitreader *r, abbrev *a)
{
    uint64_t n = read_vbr(r, 5);
    if (n > MAX_OPS)
        return -1;
    a->count = (int)n;
    for (int i = 0; i < a->count; i++) {
        if (read_fixed(r, 1)) {
            a->ops[i].enc = ENC_LITERAL;
            a->ops[i].value = read_vbr(r, 8);
            continue;
        }
        a->ops[i].enc = (int)read_fixed(r, 3);
        a->ops[i].value = 0;
        if (a->ops[i].enc == ENC_FIXED || a->ops[i].enc == ENC_VBR)
            a->ops[i].value = read_vbr(r, 5);
    }
    return r->bad ? -1 : 0;
}

static uint64_t read_scalar(bitreader *r, const abbrev_op *op)
{
    switch (op->enc) {
    case ENC_LITERAL: return op->value;
    case ENC_FIXED: return read_fixed(r, (unsigned)op->value);
    case ENC_VBR: return op->value ? read_vbr(r, (unsigned)op->value) : 0;
    case ENC_CHAR6: return (uint64_t)(unsigned char)char6(read_fixed(r, 6));
    }
    r->bad = 1;
    return 0;
}

/* Reads an abbreviated record; the string record is code then an array of characters. */
static int read_abbrev_record(bitreader *r, const abbrev *a, uint64_t *code, char *out, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < a->count && !r->bad; i++) {
        const abbrev_op *op = &a->ops[i];
        if (op->enc == ENC_ARRAY) {
            if (i + 1 >= a->count)
                return -1;
            uint64_t n = read_vbr(r, 6);
            for (uint64_t k = 0; k < n && !r->bad; k++) {
                uint64_t c = read_scalar(r, &a->ops[i + 1]);
                if (len + 1 < cap)
                    out[len++] = (char)c;
            }
            break;
        }
        if (op->enc == ENC_BLOB)
            return -1;
        uint64_t v = read_scalar(r, op);
        if (i == 0)
            *code = v;
        else if (len + 1 < cap)
            out[len++] = (char)v;
    }
    out[len] = '\0';
    return r->bad ? -1 : 0;
}

static int read_unabbrev_record(bitreader *r, uint64_t *code, char *out, size_t cap)
{
    *code = read_vbr(r, 6);
    uint64_t n = read_vbr(r, 6);
    size_t len = 0;
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        uint64_t c = read_vbr(r, 6);
        if (len + 1 < cap)
            out[len++] = (char)c;
    }
    out[len] = '\0';
    return r->bad ? -1 : 0;
}

static int read_id_block(bitreader *r, unsigned width, char *out, size_t cap)
{
    abbrev abbrevs[MAX_ABBREVS];
    int n_abbrevs = 0;
    while (!r->bad) {
        uint64_t id = read_fixed(r, width);
        uint64_t code = 0;
        int rc;
        if (id == 0) /* END_BLOCK */
            return -1;
        if (id == 1) /* a nested block: not expected here */
            return -1;
        if (id == 2) {
            if (n_abbrevs == MAX_ABBREVS || read_abbrev_def(r, &abbrevs[n_abbrevs]) != 0)
                return -1;
            n_abbrevs++;
            continue;
        }
        if (id == 3)
            rc = read_unabbrev_record(r, &code, out, cap);
        else if (id - 4 < (uint64_t)n_abbrevs)
            rc = read_abbrev_record(r, &abbrevs[id - 4], &code, out, cap);
        else
            return -1;
        if (rc != 0)
            return -1;
        if (code == ID_CODE_STRING)
            return 0;
    }
    return -1;
}

int mewe__is_bitcode(const unsigned char *data, size_t size)
{
    static const unsigned char raw[4] = {'B', 'C', 0xC0, 0xDE};
    static const unsigned char wrapper[4] = {0xDE, 0xC0, 0x17, 0x0B};
    return size >= 4 && (memcmp(data, raw, 4) == 0 || memcmp(data, wrapper, 4) == 0);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int mewe__bitcode_producer(const unsigned char *data, size_t size, char *out, size_t cap)
{
    if (cap == 0 || !mewe__is_bitcode(data, size))
        return -1;
    out[0] = '\0';
    if (data[0] == 0xDE) { /* wrapper: offset and size of the raw bitcode follow */
        if (size < 20)
            return -1;
        uint32_t off = le32(data + 8), len = le32(data + 12);
        if (off > size || len > size - off || len < 4)
            return -1;
        data += off;
        size = len;
    }
    bitreader r = {data, size * 8, 32, 0};
    if (read_fixed(&r, 2) != 1) /* ENTER_SUBBLOCK at abbrev width 2 */
        return -1;
    uint64_t block = read_vbr(&r, 8);
    unsigned width = (unsigned)read_vbr(&r, 4);
    align32(&r);
    read_fixed(&r, 32); /* block length in words */
    if (r.bad || block != ID_BLOCK || width == 0 || width > 32)
        return -1;
    return read_id_block(&r, width, out, cap);
}
