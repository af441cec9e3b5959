/* What the rewriters of compiled code (derive.c, splice.c) share: LEB128 read from bytes and
 * written to a buffer, and a relocation of the code section. The parser (inspect.c) has its
 * own reader, which checks more and keeps no buffer. */
#ifndef MEWE_WASM_EDIT_H
#define MEWE_WASM_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

typedef struct mewe__reader {
    const unsigned char *p, *end;
} mewe__reader;

static inline bool mewe__get_uleb(mewe__reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; r->p < r->end && shift < 64; shift += 7) {
        unsigned b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static inline bool mewe__get_sleb(mewe__reader *r, int64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0, b;
    do {
        if (r->p == r->end || shift > 63)
            return false;
        b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    *out = (int64_t)v;
    return true;
}

static inline void mewe__put_byte(mewe__strbuf *s, unsigned b)
{
    unsigned char c = (unsigned char)b;
    mewe__strbuf_append(s, &c, 1);
}

static inline void mewe__put_uleb(mewe__strbuf *s, uint64_t v)
{
    do {
        unsigned b = v & 0x7f;
        v >>= 7;
        mewe__put_byte(s, b | (v ? 0x80 : 0));
    } while (v);
}

static inline void mewe__put_sleb(mewe__strbuf *s, int64_t v)
{
    for (;;) {
        unsigned b = (unsigned)v & 0x7f;
        /* An arithmetic shift, written so that it is one whatever the compiler does. */
        v = v < 0 ? ~(~v >> 7) : v >> 7;
        bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
        mewe__put_byte(s, b | (done ? 0 : 0x80));
        if (done)
            return;
    }
}

/* A relocation of the code section (reloc.CODE): where (offset), and the rest of the entry
 * as it is. */
typedef struct mewe__reloc {
    unsigned type;
    uint32_t offset;
    uint32_t index;
    int64_t addend;
    bool has_addend;
} mewe__reloc;

#endif /* MEWE_WASM_EDIT_H */
