/* A growable string, for JSON. Out of memory is sticky: later appends do nothing and
 * mewe__strbuf_take returns NULL. */
#ifndef MEWE_STRBUF_H
#define MEWE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mewe__strbuf {
    char *data;
    size_t len, cap;
    bool failed;
} mewe__strbuf;

void mewe__strbuf_add(mewe__strbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a JSON string literal, quotes included: the one place where libmewe writes JSON
 * text, so that any bytes (LLVM names may hold any) give valid JSON. '"', '\\' and control
 * characters are escaped; valid UTF-8 is kept; a byte that is not part of valid UTF-8 becomes
 * the code point of the same value (\u00XX), so that different names stay different. */
void mewe__strbuf_json(mewe__strbuf *s, const char *text, size_t len);
/* mewe__strbuf_json of a NUL-terminated string. */
void mewe__strbuf_json_str(mewe__strbuf *s, const char *text);
/* Appends v as a JSON number with that many decimals, or null when v is not finite (JSON
 * has no NaN or infinity). */
void mewe__strbuf_json_number(mewe__strbuf *s, double v, int decimals);
/* Length of the valid UTF-8 sequence at p (at most n bytes, n > 0), or 0 if it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
size_t mewe__utf8_sequence(const unsigned char *p, size_t n);
/* The text (owned by the caller), or NULL after an allocation failure. */
char *mewe__strbuf_take(mewe__strbuf *s, size_t *len);

#endif /* MEWE_STRBUF_H */
