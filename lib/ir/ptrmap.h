/* A small open-addressing hash map from pointer to pointer.
 *
 * Used while cloning and comparing functions to translate values of one function into values
 * of another. The struct is public so a map can live on the stack; treat its fields as
 * private. */
#ifndef MEWE_PTRMAP_H
#define MEWE_PTRMAP_H

#include <stddef.h>

#include <mewe/common.h>

typedef struct mewe__ptrmap_slot {
    const void *key;
    void *val;
} mewe__ptrmap_slot;

typedef struct mewe__ptrmap {
    mewe__ptrmap_slot *slots;
    size_t cap; /* power of two, or 0 when unallocated */
    size_t len;
} mewe__ptrmap;

/* Prepares m for about `hint` entries: MEWE_OK or MEWE_ENOMEM (m is then still safe to pass
 * to fini and get). */
int mewe__ptrmap_init(mewe__ptrmap *m, size_t hint);

/* Releases the storage of m; m may then be initialised again. */
void mewe__ptrmap_fini(mewe__ptrmap *m);

/* Maps k to v, replacing any previous value: MEWE_OK, MEWE_EINVAL for a NULL k, or
 * MEWE_ENOMEM. */
int mewe__ptrmap_put(mewe__ptrmap *m, const void *k, void *v);

/* The value mapped to k, or NULL when k is absent. */
void *mewe__ptrmap_get(const mewe__ptrmap *m, const void *k);

#endif /* MEWE_PTRMAP_H */
