/* Growable strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"

static bool reserve(mewe__strbuf *s, size_t extra)
{
    if (s->failed)
        return false;
    if (s->len + extra + 1 <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < s->len + extra + 1)
        cap *= 2;
    char *d = realloc(s->data, cap);
    if (!d) {
        s->failed = true;
        return false;
    }
    s->data = d;
    s->cap = cap;
    return true;
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

void mewe__strbuf_json(mewe__strbuf *s, const char *text, size_t len)
{
    if (!reserve(s, len * 6 + 2))
        return;
    char *o = s->data + s->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            o += sprintf(o, "\\u%04x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    s->len = (size_t)(o - s->data);
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
