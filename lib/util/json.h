/* The one JSON writer of libmewe: the report and everything in it are written through it, so
 * that every string is escaped and every separator is in its place.
 *
 * Members are written in order; containers nest up to MEWE__JSON_DEPTH deep. A container is
 * either on one line ({"a": 1, "b": 2}) or broken, each member on a line of its own indented
 * by two spaces per level. `key` is the member's name inside an object and NULL inside an
 * array or for the document itself. Out of memory is sticky: mewe__json_take then returns
 * NULL. */
#ifndef MEWE_JSON_H
#define MEWE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

#define MEWE__JSON_DEPTH 8

typedef struct mewe__json {
    mewe__strbuf out;
    int depth;
    bool empty[MEWE__JSON_DEPTH];  /* no member written yet at this level */
    bool broken[MEWE__JSON_DEPTH]; /* members on lines of their own */
    bool array[MEWE__JSON_DEPTH];  /* an array, else an object */
} mewe__json;

/* Opens an object or an array; `broken` puts its members on lines of their own. */
void mewe__json_object(mewe__json *j, const char *key, bool broken);
void mewe__json_array(mewe__json *j, const char *key, bool broken);
/* Closes the innermost object or array. */
void mewe__json_end(mewe__json *j);

/* A string of any bytes: '"', '\\' and control characters are escaped; valid UTF-8 is kept;
 * a byte that is not part of valid UTF-8 becomes the code point of the same value (\u00XX),
 * so that different names stay different. */
void mewe__json_string_n(mewe__json *j, const char *key, const char *text, size_t len);
void mewe__json_string(mewe__json *j, const char *key, const char *text);
void mewe__json_bool(mewe__json *j, const char *key, bool v);
void mewe__json_uint(mewe__json *j, const char *key, unsigned long long v);
void mewe__json_int(mewe__json *j, const char *key, long long v);
/* v with that many decimals (%.*f), or null when v is not finite (JSON has neither NaN nor
 * infinity). */
void mewe__json_fixed(mewe__json *j, const char *key, double v, int decimals);
/* v with at most that many significant digits (%.*g), or null when v is not finite. */
void mewe__json_real(mewe__json *j, const char *key, double v, int digits);

/* Length of the valid UTF-8 sequence at p (at most n > 0 bytes, p[0] >= 0x80), or 0 if it is
 * not one: no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). Also what
 * makes a name fit for a wasm name section (wasm/names.c). */
size_t mewe__utf8_sequence(const unsigned char *p, size_t n);

/* The document, followed by a newline (owned by the caller), or NULL after an allocation
 * failure. */
char *mewe__json_take(mewe__json *j, size_t *len);

#endif /* MEWE_JSON_H */
