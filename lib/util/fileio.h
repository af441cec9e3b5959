/* File helpers: whole-file reads and atomic writes (temporary file, then rename), so that a
 * failure never leaves a partial output behind. */
#ifndef MEWE_FILEIO_H
#define MEWE_FILEIO_H

#include "internal.h"

/* Reads a whole file; *out is malloc'd (plus a NUL byte not counted in *size). */
int mewe__file_read(mewe_context *ctx, const char *path, char **out, size_t *size);
/* The start of a public `_load(out, ctx, path)` call named `fn`: checks that there is an out
 * parameter (has_out), a context and a path, then reads the file as mewe__file_read does. */
int mewe__file_read_input(mewe_context *ctx, bool has_out, const char *path, const char *fn,
                          char **out, size_t *size);
/* Writes data to path through a temporary file in the same directory. */
int mewe__file_write_atomic(mewe_context *ctx, const char *path, const void *data, size_t size);
/* Creates a fresh private temporary directory; *out is malloc'd. */
int mewe__tempdir_make(mewe_context *ctx, char **out);
/* Removes a temporary directory made by mewe__tempdir_make and its files. */
void mewe__tempdir_remove(const char *dir);

#endif /* MEWE_FILEIO_H */
