/* A growable string, for messages and for JSON (util/json.h writes through it). Out of
 * memory is sticky: later appends do nothing and mewe__strbuf_take returns NULL. */
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
/* Appends n bytes as they are (NUL bytes included). */
void mewe__strbuf_append(mewe__strbuf *s, const void *data, size_t n);
/* The text (owned by the caller), or NULL after an allocation failure. */
char *mewe__strbuf_take(mewe__strbuf *s, size_t *len);

#endif /* MEWE_STRBUF_H */
