#include "handler.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of `key` in a query string "a=1&b=2", or `fallback`. */
static long query_long(const char *query, const char *key, long fallback)
{
    size_t len = strlen(key);
    for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, len) == 0 && p[len] == '=')
            return strtol(p + len + 1, NULL, 10);
    }
    return fallback;
}

/* 64 bits wide on purpose: long is 32 bits on wasm32. */
static uint64_t fib(unsigned n)
{
    uint64_t a = 0, b = 1;
    while (n--) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

int handle(const char *request, char *out, size_t size)
{
    if (strncmp(request, "GET /", 5) != 0) {
        snprintf(out, size, "bad request");
        return 400;
    }
    const char *path = request + 4;
    const char *q = strchr(path, '?');
    const char *query = q ? q + 1 : "";
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    if (plen == 4 && strncmp(path, "/sum", 4) == 0) {
        snprintf(out, size, "%ld", query_long(query, "a", 0) + query_long(query, "b", 0));
        return 200;
    }
    if (plen == 4 && strncmp(path, "/fib", 4) == 0) {
        long n = query_long(query, "n", 10);
        if (n < 0 || n > 90) {
            snprintf(out, size, "n out of range");
            return 422;
        }
        snprintf(out, size, "%" PRIu64, fib((unsigned)n));
        return 200;
    }
    snprintf(out, size, "not found");
    return 404;
}
