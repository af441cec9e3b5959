/**
 * @file multivariant.h
 * @brief mewe_link_multivariant(): dispatchers that pick a variant at random, and variants
 *        made by other tools.
 */
#ifndef MEWE_MULTIVARIANT_H
#define MEWE_MULTIVARIANT_H

#include <mewe/module.h>
#include <mewe/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup multivariant Multivariant linking
 * @brief Turns every function with variants into a dispatcher.
 *
 * For each function `f` with variants, `f`'s body moves to a new variant 0 (`f.mewe.v0`) and
 * `f` becomes a dispatcher that keeps its name, linkage, signature and attributes (except
 * memory-effect attributes such as `memory(none)` and `speculatable`, which a dispatcher that
 * updates a random state no longer satisfies; they are also removed from the variants and from
 * call sites). Every caller, including variants and code that takes `f`'s address, therefore
 * goes through the dispatcher. Variants are internal and `noinline`.
 *
 * Small functions (up to @ref mewe_link_options.inline_limit IR instructions) carry their
 * variants inside the dispatcher: the dispatcher chooses, then branches (`br_table`) to the
 * chosen body, so that every call, direct or through a function pointer, costs one call.
 * Larger functions keep their variants as functions that the dispatcher calls, through a
 * `br_table` over direct calls (switch) or a `call_indirect` through a table (table): the
 * second call is small next to the body.
 *
 * How often a dispatcher chooses is its policy (#mewe_granularity). By default a cost
 * model estimates each function's cost per call from its code (the cheapest path from
 * entry to return, calls included) and what each policy adds, and picks, per function,
 * a fresh choice at every call when that stays within the budget
 * (@ref mewe_link_options.max_overhead), else a fresh choice every N calls with the
 * smallest N that does. The report gives each dispatcher's policy, layout and estimates.
 *
 * Each dispatcher gets an id, 0 to N-1 in module order; the report maps ids to names.
 * With tracing on, each dispatch calls the import `mewe_trace.record(i32 id, i32 variant)`,
 * so that every call's variant is recorded.
 * @{
 */

/** How a dispatcher reaches the chosen variant. @since 0.1 */
typedef enum mewe_dispatch_kind {
    MEWE_DISPATCH_SWITCH = 0, /**< A `br_table` over direct calls (MEWE's choice). */
    MEWE_DISPATCH_TABLE = 1   /**< A `call_indirect` through a table of the variants. */
} mewe_dispatch_kind;

/**
 * How often a dispatcher chooses (its re-randomization policy).
 *
 * The default, #MEWE_GRANULARITY_CALL, lets the cost model decide per function: a fresh
 * choice at every call where that fits the overhead budget
 * (@ref mewe_link_options.max_overhead), else a fresh choice every N calls with the
 * smallest N that fits, else one kept until the next epoch; a function of 1,000 IR
 * instructions or more keeps its choice for the instance (since 0.3: the engine compiles
 * and warms up each of its variants that runs). The other values force one policy on every
 * dispatcher.
 * @since 0.1
 */
typedef enum mewe_granularity {
    MEWE_GRANULARITY_CALL = 0,      /**< As often as the budget allows: every call where
                                          affordable (with an unlimited budget, every call,
                                          as MEWE does), else every N calls. */
    MEWE_GRANULARITY_INSTANCE = 1,  /**< One choice per function at its first call, kept
                                          for the instance's life. */
    MEWE_GRANULARITY_EVERY = 2,     /**< A fresh choice every N calls of the function, N =
                                          @ref mewe_link_options.period on average (each
                                          period is drawn at random in [N/2, 3N/2), so an
                                          observer cannot tell when the next choice comes).
                                          @since 0.2 */
    MEWE_GRANULARITY_INVOCATION = 3 /**< A fresh choice for each callee whenever one of its
                                          direct callers starts, reused for every call the
                                          caller makes (e.g. in its loops); calls through
                                          pointers reuse the latest. @since 0.2 */
} mewe_granularity;

/** Current version of #mewe_link_options. @since 0.1 */
#define MEWE_LINK_OPTIONS_VERSION 2

/**
 * Options of mewe_link_multivariant(). Fill with #MEWE_LINK_OPTIONS_INIT or
 * mewe_link_options_init(); fields are only ever appended. mewe_option_describe() gives each
 * field's default and range at run time.
 *
 * The RNG spec names a registered strategy with optional parameters:
 * - `"wasi"` (default), `"wasi:gen=xorshift"`: an in-module generator seeded on the first
 *   dispatch from `wasi_snapshot_preview1.random_get`; no host call per dispatch. Each
 *   dispatch takes bits from a pool held in a wasm global: log2(n) of them when the variant
 *   count n is a power of two (exactly uniform), else 16 mapped to an index as
 *   (bits * n) >> 16, so that each variant's probability differs from 1/n by less than
 *   2^-16 (no modulo bias). Only when the pool runs dry does an out-of-line function refill
 *   it, from the generator named by `gen`:
 *   - `chacha` (default): ChaCha8 (the ChaCha20 block function of RFC 8439 with 8 rounds, a
 *     64-bit block counter in words 12-13 and a zero nonce), with fast key erasure: each
 *     block's first 256 bits (words 0-7) become the next key, the other 256 bits are four
 *     output words (words 8+2i and 9+2i, low first), taken in order, 63 bits of each (the
 *     low ones) per refill; a taken word is cleared. A key that observed choices do not
 *     reveal, and a state (key, counter, unread output, pool: wasm globals, never linear
 *     memory) that does not reveal past choices. The key is 32 bytes of random_get.
 *   - `xorshift`: xorshift64* (48 high output bits per refill), faster to refill but
 *     predictable: a few observed choices give away its 64-bit state and every later choice.
 * - `"host"`, `"host:module=env,name=discriminate"`: MEWE's import
 *   `discriminate(i32 n) -> i32`, called at every choice.
 * - `"fixed"`, `"fixed:seed=42"`, `"fixed:seed=42,gen=xorshift"`: the in-module generator
 *   seeded with a build-time value N (default: the context's seed), for reproducible traces.
 *   With ChaCha8, the key is the first four outputs of splitmix64 seeded with N (each
 *   output two words, low first); with xorshift64*, the state is N * 0x9E3779B97F4A7C15 +
 *   0x632BE59BD9B4E019 (1 if that is 0).
 * @since 0.1
 */
typedef struct mewe_link_options {
    unsigned int version;         /**< #MEWE_LINK_OPTIONS_VERSION. */
    mewe_dispatch_kind dispatch;  /**< Default #MEWE_DISPATCH_SWITCH. */
    mewe_granularity granularity; /**< Default #MEWE_GRANULARITY_CALL. */
    const char *rng;              /**< RNG strategy spec; NULL means "wasi". Borrowed. */
    int trace;                    /**< Nonzero: dispatchers call `mewe_trace.record`. */
    /** The overhead budget of the cost model (version 2): the run time a dispatcher may add
     *  to one call of its function, as a factor of the function's estimated cost (1.10:
     *  at most 10 % more). 0 means the default, #MEWE_MAX_OVERHEAD_DEFAULT; values below 1
     *  are refused; `INFINITY` gives MEWE's every-call choice everywhere. Used with
     *  #MEWE_GRANULARITY_CALL. @since 0.2 */
    double max_overhead;
    /** N of #MEWE_GRANULARITY_EVERY (version 2); 0 means #MEWE_PERIOD_DEFAULT; at most 2^24
     *  (refused above since 0.3). @since 0.2 */
    unsigned int period;
    /** Largest function, in IR instructions, whose variants are inlined into its dispatcher
     *  (version 2): a call then costs one call, also through a function pointer; larger
     *  functions keep their variants as functions that the dispatcher calls. 0 means
     *  #MEWE_INLINE_LIMIT_DEFAULT; 1 inlines nothing. @since 0.2 */
    unsigned int inline_limit;
    /** Call counts of a profile run (version 2), or NULL: the cost model then spends the
     *  budget over the whole run (rarely called functions choose at every call, the budget
     *  left over goes to the next rarest) and the report gives choices per run. Profile
     *  names that the module lacks are counted in a warning; a profile that names none of
     *  its functions is an error. **Borrowed** for the call. @since 0.2 */
    const mewe_profile *profile;
} mewe_link_options;

/** Default of @ref mewe_link_options.max_overhead, 5 % (1.10 before 0.3: the estimates are
 *  from below, and measured overheads came out near the whole budget). @since 0.2 */
#define MEWE_MAX_OVERHEAD_DEFAULT 1.05
/** Default of @ref mewe_link_options.period. @since 0.2 */
#define MEWE_PERIOD_DEFAULT       64
/** Default of @ref mewe_link_options.inline_limit. @since 0.2 */
#define MEWE_INLINE_LIMIT_DEFAULT 400

/** Initializer with the defaults of #MEWE_LINK_OPTIONS_VERSION. @since 0.1 */
#define MEWE_LINK_OPTIONS_INIT  \
    {MEWE_LINK_OPTIONS_VERSION, \
     MEWE_DISPATCH_SWITCH,      \
     MEWE_GRANULARITY_CALL,     \
     NULL,                      \
     0,                         \
     0.0,                       \
     0,                         \
     0,                         \
     NULL}

/**
 * Fills @p opts with the defaults of @p version.
 * @param[out] opts The struct to fill.
 * @param[in] version #MEWE_LINK_OPTIONS_VERSION.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL, #MEWE_EVERSION for an unknown version.
 * @since 0.1
 */
MEWE_API int mewe_link_options_init(mewe_link_options *opts, unsigned int version);

/**
 * Makes every function that has variants a dispatcher.
 * @param[in] module The module; on failure it is left as it was.
 * @param[in] opts Options, or NULL for the defaults.
 * @return #MEWE_OK (also when no function has variants: nothing changes); #MEWE_EINVAL for
 *         NULL or a bad option or parameter; #MEWE_EVERSION; #MEWE_ENOTFOUND for an unknown
 *         RNG strategy; #MEWE_ESTATE if the module is already multivariant; the error code of
 *         a strategy callback, passed back unchanged; #MEWE_EVERIFY if a strategy built
 *         invalid IR; #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_link_multivariant(mewe_module *module, const mewe_link_options *opts);

/**
 * Adds variants made elsewhere (MEWE's linker interface, so that any external diversifier
 * fits). @p variants is a module of the same program in which some functions have other
 * bodies: each defined function of @p variants whose name and type match a function of
 * @p module that can have variants, and whose body differs from the original and from the
 * variants already kept, becomes a new variant of it. Everything else in @p variants is
 * ignored: its other functions and its mutable globals resolve to @p module's own (by name),
 * its constant data is copied.
 * @param[out] out_added Receives the number of variants added; may be NULL.
 * @param[in] module The module that receives the variants; unchanged on failure.
 * @param[in] variants **Consumed** on success and on failure alike; same context.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL or modules of different contexts; #MEWE_ESTATE if
 *         @p module is already multivariant; #MEWE_ELINK when @p variants refers to a mutable
 *         global that @p module lacks (named in the message); #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_module_add_variants(size_t *out_added, mewe_module *module,
                                      mewe_module *variants);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_MULTIVARIANT_H */
