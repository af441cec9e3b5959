/* Loop bodies as functions of their own, so that a long call re-randomizes inside.
 *
 * A function that does all its work in one loop (a hash's block loop, a codec's main loop)
 * is called rarely, and a dispatch per call chooses a variant rarely too: few choices per
 * run. When one iteration of such a loop costs much more than a call, its body becomes a
 * function called once per iteration, diversified and dispatched like any other.
 *
 * LLVM's CodeExtractor does the work (live values in as arguments, out through pointers,
 * exits as a returned index), reached through the loop-extract pass, which outlines whole
 * loops, not bodies: the body is first made a loop of its own, nested in the original, by a
 * back edge that is never taken (a volatile load of a flag that stays 0), so that
 * loop-extract outlines it; that edge is then removed again, and what loop-extract outlined
 * on the way is inlined back. */
#ifndef MEWE_OUTLINE_H
#define MEWE_OUTLINE_H

#include <llvm-c/Core.h>

#include "ir/irutil.h"

/* String attribute on the functions outlined from a function: the original's name, by
 * which the allow and deny lists select them. */
#define MEWE__ATTR_PART_OF "mewe-part-of"

/* The passes these functions run on fn (and on what they make) run within `fence`
 * (irutil.h), which must hold every other function of the module; what they make is in
 * it when they return. */

/* Outlines the body of fn's costliest top-level loop when one iteration costs at least
 * min_cycles (cost.h's estimate, mewe__loop_heaviest); a function with a loop that costly
 * is first put in loop-simplify form, one without is not touched. *body receives the
 * body's function, named "<fn>.loop.body", or NULL when nothing was outlined (no such loop,
 * or LLVM declined to extract it: then fn is left as equivalent code). Functions made on
 * the way (the original loop, other loops of fn that loop-extract outlines with it) are
 * inlined back into fn; one that LLVM cannot inline stays as "<fn>.loop". The body and such
 * functions carry MEWE__ATTR_PART_OF.
 * Returns 0; -1 when out of memory; 1 when LLVM fails, its message in *msg (free with
 * LLVMDisposeErrorMessage); 2 when the result fails verification (a defect of libmewe),
 * with a message in *msg (free with LLVMDisposeMessage). */
int mewe__loop_body_outline(mewe__fence *fence, LLVMValueRef fn, double min_cycles,
                            LLVMValueRef *body, char **msg);

/* Splits fn's costliest light loop (an innermost loop whose iteration costs less than
 * min_cycles, but enough that counting iterations is cheap: mewe__loop_light) in chunks of
 * about min_cycles: the loop counts its iterations, runs its first chunk as before (a short
 * run of the loop pays one counter), and continues in a copy that loop-extract outlines,
 * "<fn>.loop.chunk", called once per chunk of ceil(min_cycles / iteration) iterations and
 * diversified and dispatched like any other function. The chunk carries
 * MEWE__ATTR_TYPICAL_CYCLES (what one call costs: a chunk's iterations) and
 * MEWE__ATTR_PART_OF. Without such a loop fn is not touched; when LLVM declines to
 * extract the copy, *chunk is NULL and fn is left as equivalent code. A loop split so is
 * never chosen again: call this repeatedly for fn's other light loops.
 * Returns like mewe__loop_body_outline. */
int mewe__loop_chunk(mewe__fence *fence, LLVMValueRef fn, double min_cycles, LLVMValueRef *chunk,
                     char **msg);

/* One iteration's cost of the loop mewe__loop_chunk would split first (before fn is put
 * in loop-simplify form: an estimate), or 0 when there is none. fn is not changed. */
double mewe__loop_chunk_candidate(LLVMValueRef fn, double min_cycles);

#endif /* MEWE_OUTLINE_H */
