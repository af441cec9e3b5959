/*
 * ptrmap.c - linear-probing pointer map; keys are never removed, which keeps
 * probing simple (no tombstones).
 */
#include "ir/ptrmap.h"

#include <stdint.h>
#include <stdlib.h>

#define MEWE__PTRMAP_MIN_CAP 16

static size_t mewe__ptrmap_slot_of(const void *k, size_t cap)
{
    /* Pointers are aligned, so low bits carry little entropy: mix them. */
    uint64_t h = (uint64_t)(uintptr_t)k;
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

/* Smallest power of two that keeps n entries at most half full, or 0 if
 * that would overflow. */
static size_t mewe__ptrmap_cap_for(size_t n)
{
    size_t cap = MEWE__PTRMAP_MIN_CAP;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 2 / sizeof(mewe__ptrmap_slot))
            return 0;
        cap *= 2;
    }
    return cap;
}

int mewe__ptrmap_init(mewe__ptrmap *m, size_t hint)
{
    size_t cap = mewe__ptrmap_cap_for(hint);

    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
    if (cap == 0)
        return -1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots)
        return -1;
    m->cap = cap;
    return 0;
}

void mewe__ptrmap_fini(mewe__ptrmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

static mewe__ptrmap_slot *mewe__ptrmap_find(mewe__ptrmap_slot *slots, size_t cap, const void *k)
{
    size_t i = mewe__ptrmap_slot_of(k, cap);
    while (slots[i].key && slots[i].key != k)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int mewe__ptrmap_grow(mewe__ptrmap *m)
{
    size_t cap = mewe__ptrmap_cap_for(m->len + 1);
    mewe__ptrmap_slot *slots;

    if (cap == 0)
        return -1;
    slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            *mewe__ptrmap_find(slots, cap, m->slots[i].key) = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int mewe__ptrmap_put(mewe__ptrmap *m, const void *k, void *v)
{
    mewe__ptrmap_slot *s;

    if (!k)
        return -1;
    if (m->cap == 0 || m->len + 1 > m->cap / 2) {
        /* An existing key needs no room; look before growing. */
        if (m->cap != 0) {
            s = mewe__ptrmap_find(m->slots, m->cap, k);
            if (s->key) {
                s->val = v;
                return 0;
            }
        }
        if (mewe__ptrmap_grow(m) != 0)
            return -1;
    }
    s = mewe__ptrmap_find(m->slots, m->cap, k);
    if (!s->key) {
        s->key = k;
        m->len++;
    }
    s->val = v;
    return 0;
}

void *mewe__ptrmap_get(const mewe__ptrmap *m, const void *k)
{
    if (!k || m->cap == 0)
        return NULL;
    return mewe__ptrmap_find(m->slots, m->cap, k)->val;
}
