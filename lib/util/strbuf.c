/* Growable strings. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

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

size_t mewe__utf8_sequence(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2, min = 0x80, cp = p[0] & 0x1Fu;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        len = 3, min = 0x800, cp = p[0] & 0x0Fu;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4, min = 0x10000, cp = p[0] & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void mewe__strbuf_json(mewe__strbuf *s, const char *text, size_t len)
{
    if (!reserve(s, len * 6 + 2))
        return;
    const unsigned char *in = (const unsigned char *)text;
    char *o = s->data + s->len;
    *o++ = '"';
    for (size_t i = 0; i < len;) {
        unsigned char c = in[i];
        size_t seq = c >= 0x80 ? mewe__utf8_sequence(in + i, len - i) : 1;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || seq == 0) {
            o += sprintf(o, "\\u%04x", c);
        } else {
            memcpy(o, in + i, seq);
            o += seq;
        }
        i += seq ? seq : 1;
    }
    *o++ = '"';
    *o = '\0';
    s->len = (size_t)(o - s->data);
}

void mewe__strbuf_json_str(mewe__strbuf *s, const char *text)
{
    mewe__strbuf_json(s, text, strlen(text));
}

void mewe__strbuf_json_number(mewe__strbuf *s, double v, int decimals)
{
    if (isfinite(v))
        mewe__strbuf_add(s, "%.*f", decimals, v);
    else
        mewe__strbuf_add(s, "null");
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
