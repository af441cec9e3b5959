/* Untrusted input is first loaded by a helper program, mewe-load-check, in a child process
 * with memory and CPU limits: LLVM's readers are not hardened against hostile input (the
 * bitcode reader crashes, aborts on huge allocations, loops; both it and the IR parser end
 * the process when a module with debug info fails the verifier), and a library must not let
 * an input end its host. The helper answers with the module written back by LLVM's own
 * bitcode writer, which is what the host then parses: the reader in the host process only
 * ever sees bitcode that LLVM wrote from a module that passed the verifier. */
#ifndef MEWE_LOAD_CHECK_H
#define MEWE_LOAD_CHECK_H

#include "internal.h"

/* The helper's protocol, on its standard output. The first line is one of
 *   "mewe-load-check 1 ok SIZE\n"   then SIZE bytes of bitcode
 *   "mewe-load-check 1 err STATUS\n" then the message (the load's mewe_context_errmsg)
 *   "mewe-load-check 1 fatal\n"     then LLVM's fatal-error reason
 * with exit status 0, 1 and 3 respectively; 2 is a usage error. The input comes on
 * standard input, exactly --size bytes. */
#define MEWE__LOAD_CHECK_MAGIC "mewe-load-check 1"
enum {
    MEWE__LOAD_CHECK_OK = 0,
    MEWE__LOAD_CHECK_ERR = 1,
    MEWE__LOAD_CHECK_USAGE = 2,
    MEWE__LOAD_CHECK_FATAL = 3
};

/* The limits the helper gets for an input of `size` bytes: address space in MiB and CPU
 * seconds. Generous for real programs (LLVM needs some tens of bytes of memory per byte of
 * bitcode), far below what a corrupt size field asks for. */
unsigned long mewe__load_check_memory_mb(size_t size);
unsigned long mewe__load_check_cpu_seconds(size_t size);

/* Checks data (bitcode or textual IR, `name` for messages) in the helper. On MEWE_OK, *out (malloc'd) and
 * *out_size hold the bitcode that the helper wrote back; on failure the context has the
 * message: MEWE_EPARSE (or another load status) for a bad input, whether the helper
 * rejected it or died on it, MEWE_ETOOL when the helper cannot run, MEWE_ENOMEM. */
int mewe__load_check(mewe_context *ctx, const void *data, size_t size, const char *name, void **out,
                     size_t *out_size);

#endif /* MEWE_LOAD_CHECK_H */
