/* Growable arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

#define FIRST_CAP 8

bool mewe__array_reserve(void *items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap > FIRST_CAP ? *cap : FIRST_CAP;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return false;
        n *= 2;
    }
    if (size && n > SIZE_MAX / size)
        return false;
    /* items is a T **: read and write the pointer through memcpy, as void ** would not be
     * compatible with it. */
    void *old;
    memcpy(&old, items, sizeof old);
    void *grown = realloc(old, n * size);
    if (!grown)
        return false;
    memcpy(items, &grown, sizeof grown);
    *cap = n;
    return true;
}
