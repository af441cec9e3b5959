/* Calls inlined in compiled code: a body whose calls of some functions are replaced by those
 * functions' bodies, in a relocatable object, after code generation.
 *
 * A dispatcher that holds small variants inline gets them so when some are made in wasm
 * (derive.h): LLVM compiles the dispatcher calling its variants, emission fills the stubs,
 * and then the calls are spliced: each becomes
 *
 *     local.set  (the arguments, last first, into locals of the callee's)
 *     block (result)
 *       the callee's instructions, its locals renumbered, `return` a branch to this block
 *     end
 *
 * The callee's locals come from a pool added to the caller's, shared by every call spliced
 * into it (one slot per local of each type that the largest callee needs): an engine zeroes
 * every local on entry, and a dispatcher of nine variants would zero nine times as many.
 * Sharing is sound for code LLVM made, which never reads a local it has not written on the
 * way there (an undefined value may read any). Instructions with a relocation are copied as
 * they are; the relocations move along. A callee with instructions that do not carry over
 * to another function (tail calls, exception handling, several results) stays called. */
#ifndef MEWE_WASM_SPLICE_H
#define MEWE_WASM_SPLICE_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"
#include "wasm/edit.h"
#include "wasm/inspect.h"

/* A compiled body (local declarations included) and its relocations, offsets from its first
 * byte, in order; its type gives the parameters and results. */
typedef struct mewe__code {
    const unsigned char *body;
    size_t len;
    const mewe__reloc *relocs;
    size_t reloc_count;
    const mewe__wasm_functype *type;
} mewe__code;

/* The code to splice in place of a call of function `index` (the object's own function
 * index space), or NULL to keep the call. */
typedef const mewe__code *(*mewe__callee_fn)(uint32_t index, void *user);

/* Writes caller's body with the calls that `callee` names spliced in to out, and its
 * relocations (offsets from the new body's first byte) to *relocs (malloc'd, *count of
 * them); *spliced = how many calls were. With none, out receives the body as it is.
 * Returns MEWE_OK, MEWE_EPARSE when the caller's body does not decode, MEWE_ENOMEM. */
int mewe__splice_calls(const mewe__code *caller, mewe__callee_fn callee, void *user,
                       mewe__strbuf *out, mewe__reloc **relocs, size_t *count, size_t *spliced);

#endif /* MEWE_WASM_SPLICE_H */
