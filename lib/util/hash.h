/* FNV-1a, the one place it is written: a fast, stable 64-bit hash for cache keys, names made
 * from a seed and identical-bytes checks (not for anything an attacker chooses to collide). */
#ifndef MEWE_HASH_H
#define MEWE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MEWE__FNV_OFFSET 0xCBF29CE484222325ull

/* Goes on hashing n bytes from h (MEWE__FNV_OFFSET to start, or a hash so far). */
static inline uint64_t mewe__fnv1a_more(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static inline uint64_t mewe__fnv1a(const void *data, size_t n)
{
    return mewe__fnv1a_more(MEWE__FNV_OFFSET, data, n);
}

#endif /* MEWE_HASH_H */
