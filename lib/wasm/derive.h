/* Variants made in wasm: each forwarder variant of a compiled object (a stub that generation
 * made in place of a variant, whose body only calls a sibling, inspect.h) gets a copy of that
 * sibling's compiled body, rewritten by rewrites that change no behaviour and no cost:
 *
 * - the function's locals renumbered: locals of one type trade places (a random permutation
 *   per type), which changes the index of nearly every local.get, local.set and local.tee;
 * - the operands of commutative operations swapped (add, mul, and, or, xor, eq, ne of
 *   integers; eq and ne of floats), when both are computed by instructions without effect,
 *   trap or relocation (a constant never moves to the left, where a baseline compiler
 *   cannot fold it into the instruction);
 * - comparisons mirrored, under the same condition: a < b becomes b > a (and <=, >=;
 *   integers signed and unsigned, floats, which compare the same way with NaN);
 * - a constant added becomes its negation subtracted, and the converse (two's complement).
 *
 * A variant so made costs no code generation: generation makes the others with LLVM
 * (variants.c, mewe_generate_options.wasm_derived), and emission fills the stubs here, in
 * each object before the link, in microseconds. It runs at its source's speed: an engine
 * compiles the same operations, with other operand orders and local numbers.
 *
 * The work is done on the relocatable object, not the linked module: the code section is
 * written again with the relocations of its code (reloc.CODE) moved along (an instruction
 * that carries one is copied as it is and never moved), and wasm-ld then lays out the code
 * and the DWARF of the libraries linked with it. An object whose own DWARF or source map
 * names code offsets (a module with debug info gets no stubs) is left as it is: its stubs
 * stay forwarders, correct but one call slower, and the report counts each with its
 * target's body. */
#ifndef MEWE_WASM_DERIVE_H
#define MEWE_WASM_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mewe/common.h>

/* What emission did to a family in an object: spliced its variants into the dispatcher
 * (splice.h), then its bodies as they were, which the linked module no longer holds apart;
 * and how many of its stubs stayed forwarders (a dispatcher that calls one runs its
 * source's code: like a variant compiled as another, it is no variant of its own). */
typedef struct mewe__spliced_family {
    char *name;        /* the dispatcher's, malloc'd */
    bool spliced;      /* else only `alike` is set */
    size_t variants;   /* functions named name.mewe.v<N>, v0 (the original's body) included,
                        * stubs left forwarders not */
    size_t distinct;   /* byte-wise distinct bodies among them */
    double difference; /* mewe__wasm_body_difference, the mean over every pair */
    size_t alike;      /* stubs left forwarders */
} mewe__spliced_family;

typedef struct mewe__derive_stats {
    size_t stubs;        /* forwarders found */
    size_t derived;      /* filled with a body unlike every other of its family */
    size_t alike;        /* left forwarders: no rewrite made them unlike the others (a body
                          * without locals or operands to swap) */
    size_t spliced;      /* calls replaced by their callee's body */
    const char *skipped; /* why nothing was filled (static text), or NULL */
    mewe__spliced_family *families; /* those spliced into or with forwarders, malloc'd */
    size_t family_count;
} mewe__derive_stats;

void mewe__derive_stats_free(mewe__derive_stats *stats);

/* What to do to an object: the build seed, which the rewrites are drawn from with each
 * stub's name, and the dispatchers (sorted byte-wise) whose calls of their own variants are
 * spliced after the stubs are filled: those that hold their variants inline (the link's
 * plan), which LLVM compiled calling them because some were stubs. */
typedef struct mewe__derive_in {
    uint64_t seed;
    const char *const *splice_into;
    size_t splice_count;
} mewe__derive_in;

/* Fills the forwarders of the relocatable object obj[0..size) whose targets are in it, then
 * splices. *out is a malloc'd new object, or NULL when nothing changed (no forwarder and
 * nothing to splice, or an object left as it is: stats->skipped says why). Free *stats with
 * mewe__derive_stats_free. Returns MEWE_OK, MEWE_EPARSE when obj is not a well-formed
 * module, MEWE_ENOMEM. */
int mewe__wasm_derive(const unsigned char *obj, size_t size, const mewe__derive_in *in,
                      unsigned char **out, size_t *out_size, mewe__derive_stats *stats);

#endif /* MEWE_WASM_DERIVE_H */
