/* Reads the producer string ("LLVM19.1.7") from a bitcode file's identification block, so
 * that bitcode from a newer LLVM is reported as such rather than as corrupt. */
#ifndef MEWE_BITCODE_ID_H
#define MEWE_BITCODE_ID_H

#include <stddef.h>

/* True when data starts with bitcode's magic (raw or inside the Darwin wrapper). */
int mewe__is_bitcode(const unsigned char *data, size_t size);
/* Copies the producer into out (NUL-terminated, truncated to cap); 0 on success, -1 when the
 * data has no readable identification block. */
int mewe__bitcode_producer(const unsigned char *data, size_t size, char *out, size_t cap);

#endif /* MEWE_BITCODE_ID_H */
