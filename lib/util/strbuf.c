/* Growable strings. */
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/strbuf.h"

/* Room for `extra` more bytes and the terminating NUL. */
static bool reserve(mewe__strbuf *s, size_t extra)
{
    if (s->failed)
        return false;
    if (extra > SIZE_MAX - s->len - 1 ||
        !mewe__array_reserve(&s->data, &s->cap, s->len + extra + 1, 1))
        s->failed = true;
    return !s->failed;
}

void mewe__strbuf_append(mewe__strbuf *s, const void *data, size_t n)
{
    if (!reserve(s, n))
        return;
    memcpy(s->data + s->len, data, n);
    s->len += n;
    s->data[s->len] = '\0';
}

void mewe__strbuf_add(mewe__strbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(s, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

char *mewe__strbuf_take(mewe__strbuf *s, size_t *len)
{
    if (s->failed || !reserve(s, 0)) {
        free(s->data);
        s->data = NULL;
        return NULL;
    }
    s->data[s->len] = '\0';
    char *d = s->data;
    if (len)
        *len = s->len;
    s->data = NULL;
    s->len = s->cap = 0;
    return d;
}
