/* Growable arrays: the one place where libmewe decides how an array grows.
 *
 * An array is a pointer, a count and a capacity kept by its owner, under whatever names suit
 * it. mewe__array_reserve makes room; MEWE__ARRAY_PUSH appends one element:
 *
 *     if (!MEWE__ARRAY_PUSH(list->items, list->count, list->cap, item))
 *         return MEWE_ENOMEM;
 *
 * On failure the array is left as it was (still owned by its owner, who frees it). */
#ifndef MEWE_ARRAY_H
#define MEWE_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *items (the address of a pointer to elements of `size` bytes, with room for *cap of
 * them) hold at least `need` elements, doubling the capacity from at least 8. Returns false,
 * with *items and *cap unchanged, when out of memory or when the size would overflow. */
bool mewe__array_reserve(void *items, size_t *cap, size_t need, size_t size);

/* Appends value to the array (items, count, cap), each an lvalue evaluated more than once;
 * true on success. */
#define MEWE__ARRAY_PUSH(items, count, cap, value)                       \
    (mewe__array_reserve(&(items), &(cap), (count) + 1, sizeof *(items)) \
         ? ((items)[(count)++] = (value), true)                          \
         : false)

#endif /* MEWE_ARRAY_H */
