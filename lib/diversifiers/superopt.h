/* The prover and search of the built-in diversifier `superopt` (superopt.c), exposed to the
 * white-box tests (tests/test-superopt.c). Built only where Z3 is found.
 *
 * Expressions are reverse Polish notation over up to three leaves, at one integer width:
 *   a b c        the leaves (values of the function, or its constants other than 0, 1, -1)
 *   0 1 -1 31    decimal constants of the width
 *   + - & | ^    wrapping add, sub, and, or, xor
 *   << >>u >>s   shl, lshr, ashr; the right operand must be a constant below the width
 * A shift amount is always a constant below the width, so that no expression of the language
 * is ever poison in LLVM, and Z3's bit-vector semantics are LLVM's. */
#ifndef MEWE_SUPEROPT_H
#define MEWE_SUPEROPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mewe__superopt mewe__superopt;

typedef enum mewe__so_verdict {
    MEWE__SO_PROVEN = 0,  /* Z3: `src != cand` is unsatisfiable */
    MEWE__SO_REFUTED = 1, /* a test vector or Z3 found inputs where they differ */
    MEWE__SO_UNKNOWN = 2, /* Z3 ran out of its resource limit: never applied */
} mewe__so_verdict;

typedef struct mewe__so_stats {
    size_t shapes;     /* distinct window shapes searched */
    size_t shape_hits; /* searches answered by the cache */
    size_t survivors;  /* candidates that passed every test vector */
    size_t queries;    /* Z3 queries run (pairs answered by the cache not counted) */
    size_t proven, refuted, unknown;
} mewe__so_stats;

/* One per context (the diversifier's user_data). NULL when out of memory. */
mewe__superopt *mewe__superopt_new(void);
void mewe__superopt_free(mewe__superopt *so);

/* Z3's resource limit per query (deterministic, unlike a timeout); 0 restores the default.
 * Tests make it tiny to show that an unproven candidate is never used. */
void mewe__superopt_set_rlimit(mewe__superopt *so, unsigned rlimit);

/* Is cand equal to src for every value of the leaves, at `width` (8, 16, 32 or 64)? Test
 * vectors first, then Z3; the verdict is cached per (width, src, cand). MEWE_OK, MEWE_EINVAL
 * for a malformed expression or width, MEWE_ENOMEM, MEWE_EUSER when Z3 fails. */
int mewe__superopt_check(mewe__so_verdict *out, mewe__superopt *so, unsigned width, const char *src,
                         const char *cand);

/* Z3 alone, without test vectors or cache: what the check relies on. */
int mewe__superopt_prove(mewe__so_verdict *out, mewe__superopt *so, unsigned width, const char *src,
                         const char *cand);

/* The proven alternatives of src (each an expression of the language, none src itself),
 * searched once per (width, src) and cached: *out is borrowed until the state is freed. The
 * list is a function of (width, src) alone, whatever was searched before. */
int mewe__superopt_alternatives(const char *const **out, size_t *count, mewe__superopt *so,
                                unsigned width, const char *src);

/* Instructions in an expression (its operators). */
unsigned mewe__superopt_size(const char *rpn);

mewe__so_stats mewe__superopt_stats(const mewe__superopt *so);

#endif /* MEWE_SUPEROPT_H */
