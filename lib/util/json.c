/* JSON writing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

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

static void quoted(mewe__strbuf *s, const char *text, size_t len)
{
    const unsigned char *in = (const unsigned char *)text;
    mewe__strbuf_append(s, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = in[i];
        size_t seq = c >= 0x80 ? mewe__utf8_sequence(in + i, len - i) : 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            mewe__strbuf_append(s, esc, 2);
        } else if (c < 0x20 || seq == 0) {
            mewe__strbuf_add(s, "\\u%04x", c);
        } else {
            mewe__strbuf_append(s, in + i, seq);
        }
        i += seq ? seq : 1;
    }
    mewe__strbuf_append(s, "\"", 1);
}

/* Writes the separator and the key before a value. */
static void member(mewe__json *j, const char *key)
{
    int d = j->depth;
    if (d > 0) {
        if (!j->empty[d])
            mewe__strbuf_append(&j->out, ",", 1);
        if (j->broken[d])
            mewe__strbuf_add(&j->out, "\n%*s", 2 * d, "");
        else if (!j->empty[d])
            mewe__strbuf_append(&j->out, " ", 1);
        j->empty[d] = false;
    }
    if (key) {
        quoted(&j->out, key, strlen(key));
        mewe__strbuf_append(&j->out, ": ", 2);
    }
}

static void open_container(mewe__json *j, const char *key, bool broken, bool array)
{
    member(j, key);
    mewe__strbuf_append(&j->out, array ? "[" : "{", 1);
    if (j->depth + 1 >= MEWE__JSON_DEPTH) {
        j->out.failed = true; /* a writer's bug: refuse rather than write nonsense */
        return;
    }
    j->depth++;
    j->empty[j->depth] = true;
    j->broken[j->depth] = broken;
    j->array[j->depth] = array;
}

void mewe__json_object(mewe__json *j, const char *key, bool broken)
{
    open_container(j, key, broken, false);
}

void mewe__json_array(mewe__json *j, const char *key, bool broken)
{
    open_container(j, key, broken, true);
}

void mewe__json_end(mewe__json *j)
{
    int d = j->depth;
    if (d == 0) {
        j->out.failed = true;
        return;
    }
    if (j->broken[d] && !j->empty[d])
        mewe__strbuf_add(&j->out, "\n%*s", 2 * (d - 1), "");
    mewe__strbuf_append(&j->out, j->array[d] ? "]" : "}", 1);
    j->depth--;
}

void mewe__json_string_n(mewe__json *j, const char *key, const char *text, size_t len)
{
    member(j, key);
    quoted(&j->out, text, len);
}

void mewe__json_string(mewe__json *j, const char *key, const char *text)
{
    mewe__json_string_n(j, key, text, strlen(text));
}

void mewe__json_bool(mewe__json *j, const char *key, bool v)
{
    member(j, key);
    mewe__strbuf_add(&j->out, "%s", v ? "true" : "false");
}

void mewe__json_uint(mewe__json *j, const char *key, unsigned long long v)
{
    member(j, key);
    mewe__strbuf_add(&j->out, "%llu", v);
}

void mewe__json_int(mewe__json *j, const char *key, long long v)
{
    member(j, key);
    mewe__strbuf_add(&j->out, "%lld", v);
}

/* A finite number in printf's %.*f or %.*g, else null. */
static void number(mewe__json *j, const char *key, double v, int precision, bool fixed)
{
    member(j, key);
    if (!isfinite(v))
        mewe__strbuf_add(&j->out, "null");
    else
        mewe__strbuf_add(&j->out, fixed ? "%.*f" : "%.*g", precision, v);
}

void mewe__json_fixed(mewe__json *j, const char *key, double v, int decimals)
{
    number(j, key, v, decimals, true);
}

void mewe__json_real(mewe__json *j, const char *key, double v, int digits)
{
    number(j, key, v, digits, false);
}

char *mewe__json_take(mewe__json *j, size_t *len)
{
    if (j->depth != 0)
        j->out.failed = true; /* an unclosed container: a writer's bug */
    mewe__strbuf_append(&j->out, "\n", 1);
    return mewe__strbuf_take(&j->out, len);
}
