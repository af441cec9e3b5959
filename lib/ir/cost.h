/* The cost model of the multivariant linker: how often each dispatcher chooses (its policy)
 * and whether its variants live inside it, from static estimates of what one call of the
 * function costs and what each policy adds to it. */
#ifndef MEWE_COST_H
#define MEWE_COST_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>

#include <mewe/multivariant.h>

/* String attribute: what one call of a function costs typically, in the model's cycles,
 * where its cheapest path says too little (a chunk of a loop returns early only at the
 * loop's end). The plan takes the larger of the two. */
#define MEWE__ATTR_TYPICAL_CYCLES "mewe-typical-cycles"

/* Link options with every default filled in (any options version). */
typedef struct mewe__link_settings {
    mewe_dispatch_kind dispatch;
    mewe_granularity granularity;
    const char *rng;
    bool trace;
    double max_overhead;
    unsigned period;
    unsigned inline_limit;
    const mewe_profile *profile;
} mewe__link_settings;

/* The longest period the cost model picks: a small hot function still gets a fresh choice
 * every ~1,000 calls, many times per run. */
#define MEWE__PERIOD_MAX 1024u

/* Functions of this many instructions or more keep their choice for the instance (see
 * mewe__plan_dispatcher): an engine compiles and warms up each of their variants that runs.
 * Outlined loop bodies and chunks excepted. */
#define MEWE__ENGINE_LARGE 1000u

/* What the cost model decided for one dispatcher. Costs are in estimated machine cycles. */
typedef struct mewe__plan {
    mewe_granularity policy;
    unsigned period;      /* mean calls per choice with MEWE_GRANULARITY_EVERY, else 0 */
    bool inlined;         /* the variants' bodies are inside the dispatcher */
    bool epoch;           /* MEWE_GRANULARITY_INSTANCE whose choice every epoch forgets */
    size_t variants;      /* bodies to choose from, the original's included */
    double body;          /* one call of the function, its cheapest path */
    double added;         /* what the dispatch adds to one call, on average */
    double calls;         /* calls in the profile run, or -1 without a profile */
    double variant_extra; /* what the bodies cost more than the original, on average */
    unsigned why;         /* index into mewe__plan_reasons */
} mewe__plan;

/* What a profile says about the whole run, under the plans. */
typedef struct mewe__run_estimate {
    double cycles;  /* of every profiled function, their cheapest paths */
    double added;   /* what the dispatchers and the variants' extra code add */
    double calls;   /* calls of diversified functions */
    double choices; /* fresh choices */
} mewe__run_estimate;

extern const char *const mewe__plan_reasons[];
extern const size_t mewe__plan_reason_count;

/* Plans the dispatcher of bodies[0], the original (its body not yet moved), with `variants`
 * bodies (bodies[1..] its variants); `inlinable` tells whether they can move into it. */
void mewe__plan_dispatcher(mewe__plan *out, LLVMValueRef const *bodies, size_t variants,
                           bool inlinable, const mewe__link_settings *s);

/* A function's estimated cycles per call: its cheapest path from entry to a return. */
double mewe__function_cost(LLVMValueRef fn);
/* The estimated cycles of all of a function's code, each instruction once: what variants of
 * one function are compared by. */
double mewe__function_code_cost(LLVMValueRef fn);

/* The most a cheap diversifier may add to a variant, as a share of the original's
 * loop-weighted cost (mewe__function_weighted_cost) and the call: a few instructions are
 * nothing in cold code and a measurable slowdown in a hot loop. */
#define MEWE__CHEAP_SHARE 0.03

/* The loop nesting depth of each of fn's blocks, in function order (malloc'd, one entry per
 * block, all 0 without loops); NULL when out of memory. */
unsigned *mewe__loop_depths(LLVMValueRef fn);
/* What one call of fn costs if each loop runs a few times (every instruction weighs
 * LOOP_TRIPS to the power of its loop depth, freezes and unconditional branches nothing):
 * what a variant's extra run time is estimated against. */
double mewe__function_weighted_cost(LLVMValueRef fn);
/* Whether a variant made with cheap diversifiers stays within MEWE__CHEAP_SHARE of its
 * original, loop-weighted, or adds no more than a counter would (a few rewrites out of
 * loops). */
bool mewe__cheap_affordable(LLVMValueRef original, LLVMValueRef variant);

/* Whether a variant made with a costly diversifier stays within MEWE_COSTLY_SHARE of one
 * call of its original: its extra code against the original's cheapest path and the call. */
bool mewe__costly_affordable(LLVMValueRef original, LLVMValueRef variant);

/* A profiled run's estimated cycles: each counted call costs its function's cheapest path
 * plus the call itself (wherever it came from, through a pointer too). */
double mewe__run_cycles(LLVMModuleRef llvm, const mewe_profile *profile);

/* With a profile, spends the budget over the whole run: functions the run never called
 * choose at every call, then the others in order of what a choice per call would add,
 * while the run's estimated overhead stays within the budget. Only plans that count calls
 * or keep their choice for an epoch are upgraded (not the large functions' instance
 * plans). `plans[i].calls` must be set; `run_cycles` is the run's estimated cycles. Fills
 * `est`. */
void mewe__plan_with_profile(mewe__plan *plans, size_t n, double run_cycles,
                             const mewe__link_settings *s, mewe__run_estimate *est);

/* The plan as a string attribute value, and back (false when `text` is not one). The
 * report reads it from the dispatcher, so that it describes the module it is given. */
void mewe__plan_format(const mewe__plan *p, char *buf, size_t size);
bool mewe__plan_parse(mewe__plan *out, const char *text, size_t len);

/* Name of a policy as the CLI and the report spell it. */
const char *mewe__granularity_name(mewe_granularity g);
/* The plan's policy as the report spells it: a granularity, or "epoch". */
const char *mewe__plan_policy_name(const mewe__plan *p);

/* The cheapest way round fn's costliest loop (any loop, any back edge), in the model's
 * cycles; 0 without loops. */
double mewe__loop_costliest(LLVMValueRef fn);

/* The top-level loop of fn whose cheapest way round (header to latch, cost of one
 * iteration from below, in the model's cycles) costs most, if that is at least min_cycles:
 * its header and its only latch. Only natural loops (the header dominates them) with one
 * back edge count, as after LLVM's loop-simplify. False when there is none. */
bool mewe__loop_heaviest(LLVMValueRef fn, double min_cycles, LLVMBasicBlockRef *header,
                         LLVMBasicBlockRef *latch, double *cycles);

/* Which light loops mewe__loop_light considers. */
typedef struct mewe__light_loop_limits {
    double min_cycles, max_cycles; /* one iteration's cheapest way round, in [min, max) */
    unsigned max_instructions;     /* of all the loop's blocks */
    const char *skip_prefix;       /* loops whose header's name starts so are left out */
} mewe__light_loop_limits;

/* An innermost loop: header, only latch, one iteration's cost and its blocks (malloc'd,
 * the header among them). */
typedef struct mewe__light_loop {
    LLVMBasicBlockRef header, latch;
    double cycles;
    LLVMBasicBlockRef *blocks;
    unsigned count;
} mewe__light_loop;

/* The innermost natural loop of fn with one back edge whose cheapest way round costs most
 * within the limits, among those that may run long with no choice made: that call nothing
 * (but intrinsics) and do not only leave on tests against constants; false when there is
 * none (or out of memory). Frees out->blocks before replacing it: *out starts zeroed, and its
 * blocks are the caller's to free. */
bool mewe__loop_light(LLVMValueRef fn, const mewe__light_loop_limits *lim, mewe__light_loop *out);

/* What one epoch costs (forgetting `kept` choices and drawing them again as they are
 * needed), and the epoch length in counted redraws that keeps it within a redraw's own
 * cost: see multivariant.c. */
unsigned mewe__epoch_length(size_t kept);

/* True when an epoch dispatcher over `original` (body not yet moved) should also be one of
 * the module's epoch clocks: a long function (under MEWE__ENGINE_LARGE), whose typical call
 * is taken as a quarter of all its code, can afford a counter with the longest period; a
 * recursive one needs it (then the plan's reason says so). */
bool mewe__plan_clock_fits(mewe__plan *p, LLVMValueRef original, const mewe__link_settings *s);
/* Makes the plan an epoch clock: a counter with the longest period; `only` when no function
 * fits (mewe__plan_clock_fits) and this is the largest. */
void mewe__plan_make_clock(mewe__plan *p, bool only);

#endif /* MEWE_COST_H */
