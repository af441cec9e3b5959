/* Runs an external tool (wasm-ld) and collects what it prints, without a shell. */
#ifndef MEWE_UTIL_PROCESS_H
#define MEWE_UTIL_PROCESS_H

#include "internal.h"

/* Runs argv[0] (searched in PATH when it has no slash) with its output and error streams
 * captured into *output (malloc'd, NUL-terminated). *exit_status gets the exit code, or 128 +
 * the signal number. Returns MEWE_ETOOL, with a message, when the tool cannot be started. */
int mewe__spawn(mewe_context *ctx, const char *const *argv, int *exit_status, char **output);

#endif /* MEWE_UTIL_PROCESS_H */
