/* Linear-probing pointer map; keys are never removed, which keeps probing simple (no
 * tombstones). */
#include <stdint.h>
#include <stdlib.h>

#include "ir/ptrmap.h"

#define MIN_CAP 16

static size_t slot_of(const void *k, size_t cap)
{
    /* Pointers are aligned, so low bits carry little entropy: mix them. */
    uint64_t h = (uint64_t)(uintptr_t)k;
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

/* Smallest power of two that keeps n entries at most half full, or 0 if that would
 * overflow. */
static size_t cap_for(size_t n)
{
    size_t cap = MIN_CAP;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 2 / sizeof(mewe__ptrmap_slot))
            return 0;
        cap *= 2;
    }
    return cap;
}

int mewe__ptrmap_init(mewe__ptrmap *m, size_t hint)
{
    size_t cap = cap_for(hint);
    *m = (mewe__ptrmap){0};
    m->slots = cap ? calloc(cap, sizeof *m->slots) : NULL;
    if (!m->slots)
        return MEWE_ENOMEM;
    m->cap = cap;
    return MEWE_OK;
}

void mewe__ptrmap_fini(mewe__ptrmap *m)
{
    free(m->slots);
    *m = (mewe__ptrmap){0};
}

static mewe__ptrmap_slot *find(mewe__ptrmap_slot *slots, size_t cap, const void *k)
{
    size_t i = slot_of(k, cap);
    while (slots[i].key && slots[i].key != k)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(mewe__ptrmap *m)
{
    size_t cap = cap_for(m->len + 1);
    mewe__ptrmap_slot *slots = cap ? calloc(cap, sizeof *slots) : NULL;
    if (!slots)
        return MEWE_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            *find(slots, cap, m->slots[i].key) = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return MEWE_OK;
}

int mewe__ptrmap_put(mewe__ptrmap *m, const void *k, void *v)
{
    if (!k)
        return MEWE_EINVAL;
    if (m->cap == 0 || m->len + 1 > m->cap / 2) {
        /* An existing key needs no room; look before growing. */
        mewe__ptrmap_slot *s = m->cap ? find(m->slots, m->cap, k) : NULL;
        if (s && s->key) {
            s->val = v;
            return MEWE_OK;
        }
        if (grow(m) != MEWE_OK)
            return MEWE_ENOMEM;
    }
    mewe__ptrmap_slot *s = find(m->slots, m->cap, k);
    if (!s->key) {
        s->key = k;
        m->len++;
    }
    s->val = v;
    return MEWE_OK;
}

void *mewe__ptrmap_get(const mewe__ptrmap *m, const void *k)
{
    if (!k || m->cap == 0)
        return NULL;
    return find(m->slots, m->cap, k)->val;
}
