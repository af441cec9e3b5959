/**
 * @file variants.h
 * @brief mewe_generate_variants(): semantically equivalent variants of a module's functions.
 */
#ifndef MEWE_VARIANTS_H
#define MEWE_VARIANTS_H

#include <mewe/module.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup variants Variant generation
 * @brief Clones each eligible function and diversifies the clones.
 *
 * For every selected function `f`, up to @ref mewe_generate_options.variants variants are
 * made: `f` is cloned into an internal, never-inlined function `f.mewe.vK` (K = 1, 2, ...)
 * and the chosen diversifiers rewrite the clone. A variant that fails LLVM's verifier is
 * dropped (and reported); a variant identical in structure to `f` or to a variant already
 * kept is dropped and another attempt made. The variants are marked in the IR itself
 * (function attributes `mewe-variant-of` and `mewe-variant`), so a module written with
 * mewe_module_write() and loaded again still knows them.
 *
 * A function is skipped, with its reason kept for the report, when it is a declaration,
 * uses exception handling (invoke, landingpad, callbr, ...), calls something
 * `returns_twice`, holds a `musttail` call, is naked, holds inline asm, is variadic, lets
 * the address of one of its blocks escape (see below), is smaller than
 * @ref mewe_generate_options.min_instructions, is excluded by the allow/deny lists, or a
 * budget ran out.
 *
 * Computed goto (GCC's labels as values, `goto *tab[op]`, used by fast interpreters) is
 * diversified: each variant jumps to its own blocks, through its own copies of the label
 * tables. That needs every address of the function's blocks to stay inside one call of it:
 * in label tables (internal globals that only the function reads), in its own stack, or
 * compared and jumped to. An address that is returned, passed to a call, stored elsewhere,
 * or a table that is written or used by other code keeps the function whole (reason "block
 * address escapes the function" or "label table written at run time"). Such a function's
 * dispatcher calls its variants: their bodies cannot move into it.
 *
 * Build-time randomness: each function's choices derive from the context's seed and the
 * function's name only, so the same input, options and seed give byte-identical output, and
 * adding a function does not change the variants of the others. (A time budget that runs out
 * breaks this promise, by nature; the report says when it did.)
 * @{
 */

/**
 * What a selection policy is told about a candidate function.
 * @since 0.1
 */
typedef struct mewe_function_info {
    const char *name;    /**< The function's name, **borrowed** for the call. */
    size_t instructions; /**< Its size in LLVM instructions. */
    size_t call_sites;   /**< Direct calls to it in the module (static count). */
    int address_taken;   /**< Nonzero when it is used other than by direct calls. */
} mewe_function_info;

/**
 * Selection policy: decides, for each function that passed the built-in checks (eligibility,
 * allow/deny lists, minimum size), whether to diversify it and how many variants to make.
 * @param info The candidate, **borrowed** for the call.
 * @param[in,out] variants In: @ref mewe_generate_options::variants; out: how many variants to
 *        make for this function (0 skips it, with the reason "skipped by the selection
 *        policy"; at most 64).
 * @param user_data @ref mewe_generate_options::select_data.
 * @return #MEWE_OK, or a negative code: generation stops, the module is restored and the code
 *         is passed back unchanged.
 * @since 0.1
 */
typedef int (*mewe_select_fn)(const mewe_function_info *info, unsigned int *variants,
                              void *user_data);

/** Current version of #mewe_generate_options: 4 since 0.3 (wasm_rounds, outline_loops in
 *  version 2; threads in 3; wasm_derived in 4). @since 0.1 */
#define MEWE_GENERATE_OPTIONS_VERSION 4

/**
 * Options of mewe_generate_variants(). Fill with #MEWE_GENERATE_OPTIONS_INIT or
 * mewe_generate_options_init(); fields are only ever appended. Every version from 1 to
 * #MEWE_GENERATE_OPTIONS_VERSION is accepted (a struct of an older version is never read past
 * its last field, and the fields it lacks take their defaults). mewe_option_describe() gives
 * each field's default and range at run time.
 *
 * Names in @ref mewe_generate_options::allow and @ref mewe_generate_options::deny are
 * function names or globs (`*`, `?`, `[...]`, as fnmatch(3)). A function is selected when
 * it matches an allow entry (or the allow list is empty) and matches no deny entry.
 *
 * A diversifier spec is a registered diversifier's name, optionally followed by parameters:
 * `"subst"`, `"subst:rate=0.8"`, `"blocks:split=2,shuffle=1"`. They run in the order given on
 * every variant. An empty list means the built-in default set (`"subst"`, `"swap"`,
 * `"blocks"`).
 * @since 0.1
 */
typedef struct mewe_generate_options {
    unsigned int version;            /**< #MEWE_GENERATE_OPTIONS_VERSION. */
    unsigned int variants;           /**< Variants per function besides the original,
                                            default 3, at most 64. */
    const char *const *diversifiers; /**< Diversifier specs, borrowed for the call. */
    size_t diversifier_count;        /**< Entries in @ref diversifiers. */
    const char *const *allow;        /**< Names or globs to diversify (empty: all). */
    size_t allow_count;              /**< Entries in @ref allow. */
    const char *const *deny;         /**< Names or globs never to diversify. */
    size_t deny_count;               /**< Entries in @ref deny. */
    unsigned int min_instructions;   /**< Skip functions with fewer instructions, default 3. */
    unsigned int attempts;           /**< Tries per variant before giving up on a distinct
                                            one, 1 to 100; 0 means the default,
                                            #MEWE_ATTEMPTS_DEFAULT (since 0.2). */
    double time_budget;              /**< Seconds for the whole call; 0 = no limit. */
    double size_budget;              /**< Most instructions the variants may add, as a
                                            multiple of the module's instruction count
                                            (e.g. 2.0); 0 = no limit. */
    mewe_select_fn select;           /**< Selection policy, or NULL. */
    void *select_data;               /**< Passed to @ref select. */
    /** Preservation (version 2, since 0.3): two variants that compile to the same wasm body
     *  are one variant. Generation compiles the diversified functions (with the default mix
     *  those under 400 instructions; in a large module the smaller ones, where code
     *  generation can erase all a variant changes; see the guide's "Preservation") to a wasm
     *  object (code generation at -O2, no link), drops every
     *  variant whose body equals the original's or another variant's, makes new ones in
     *  their place, and checks again, up to this many times; the last check only drops.
     *  Every variant kept of a checked function is then distinct in wasm, and the report
     *  gives per checked function what was generated, distinct in IR, distinct in wasm and
     *  how different the bodies are. 0 means #MEWE_WASM_ROUNDS_DEFAULT; #MEWE_WASM_ROUNDS_OFF
     *  checks nothing (no code generation at this stage). Modules whose target is not wasm32
     *  are not checked. At most 16. */
    unsigned int wasm_rounds;
    /** Loop bodies (version 2, since 0.3): a function whose work is one long loop is called
     *  rarely, and chooses a variant rarely. When one iteration of a function's costliest
     *  top-level loop costs at least this many cycles (the cost model's estimate from below:
     *  its cheapest way round), the loop's body becomes a function of its own,
     *  "<f>.loop.body", called once per iteration and diversified like any other, so the
     *  choice is made per iteration. Cheaper innermost loops (one iteration from about 10
     *  cycles up, at most 400 instructions, up to 4 per function) run in chunks of about this
     *  many cycles: the loop counts its iterations, runs its first chunk in place as before
     *  (a short run pays only the counter), then goes on in a copy outlined as
     *  "<f>.loop.chunk", called once per chunk of ceil(outline_loops / iteration)
     *  iterations, diversified with free diversifiers (cheaper ones run at every
     *  iteration there: they count as costly) and chosen per chunk. The allow and deny
     *  lists select such functions by the original's name; a selection policy (@ref select)
     *  is asked about them under their own names. 0 means #MEWE_OUTLINE_LOOPS_DEFAULT;
     *  #MEWE_OUTLINE_LOOPS_OFF outlines nothing. */
    unsigned int outline_loops;
    /** Threads (version 3, since 0.3) of the preservation check's code generation (see
     *  @ref wasm_rounds), 1 to #MEWE_EMIT_MAX_THREADS; 0 (the default) for as many as the
     *  processors this process may run on, as #mewe_emit_options.threads. The variants
     *  kept do not depend on it. */
    unsigned int threads;
    /** Variants made in wasm (version 4, since 0.3): of the variants of a function of 50
     *  instructions or more, this many are not compiled by LLVM but made
     *  by emission from the compiled body of the original or of a variant (in turn), by
     *  rewrites that change no behaviour and no speed: its locals renumbered, the operands
     *  of commutative operations swapped, comparisons mirrored, added constants subtracted
     *  negated. They cost no code generation, run at the speed of the body they come from,
     *  and each is made unlike every other body of its family when a rewrite allows (the
     *  report's `"wasm"` section counts what stayed distinct). In the module such a variant
     *  is a stub that calls its source (an IR written out keeps it so; emission fills it).
     *  Not made in a module with debug info (its DWARF would name code that moved). Where
     *  the link holds a function's variants inline in its dispatcher, emission splices
     *  them in once made (the report marks the family `"spliced"`). 0 means the
     *  default: all but one (LLVM makes one variant, the others copy it or the original,
     *  in turn); #MEWE_WASM_DERIVED_OFF makes every variant with LLVM; at most 64, and
     *  larger than a function's variants means all of them. */
    unsigned int wasm_derived;
} mewe_generate_options;

/** @ref mewe_generate_options.wasm_derived that makes no variant in wasm. @since 0.3 */
#define MEWE_WASM_DERIVED_OFF 0xFFFFFFFFu

/** Default of @ref mewe_generate_options.wasm_rounds. @since 0.3 */
#define MEWE_WASM_ROUNDS_DEFAULT 2
/** @ref mewe_generate_options.wasm_rounds that turns the check off. @since 0.3 */
#define MEWE_WASM_ROUNDS_OFF     0xFFFFFFFFu

/** Default of @ref mewe_generate_options.outline_loops, in estimated cycles per iteration
 *  (about 2,500 wasm instructions). @since 0.3 */
#define MEWE_OUTLINE_LOOPS_DEFAULT 1000
/** @ref mewe_generate_options.outline_loops that outlines nothing. @since 0.3 */
#define MEWE_OUTLINE_LOOPS_OFF     0xFFFFFFFFu

/** Default of @ref mewe_generate_options.attempts. @since 0.2 */
#define MEWE_ATTEMPTS_DEFAULT 4

/** Initializer with the defaults of #MEWE_GENERATE_OPTIONS_VERSION: zero for every field
 *  whose zero means its default; variants and min_instructions are set, because 0 is a value
 *  of its own for them (no variants, no minimum). @since 0.1 */
/* clang-format off */
#define MEWE_GENERATE_OPTIONS_INIT \
    {MEWE_GENERATE_OPTIONS_VERSION, 3, NULL, 0, NULL, 0, NULL, 0, 3, 0, 0.0, 0.0, NULL, NULL, \
     0, 0, 0, 0}
/* clang-format on */

/**
 * Fills @p opts with the defaults of @p version: the fields of that version only, so that a
 * caller built against an older header may pass its shorter struct.
 * @param[out] opts The struct to fill.
 * @param[in] version 1 to #MEWE_GENERATE_OPTIONS_VERSION.
 * @return #MEWE_OK, #MEWE_EINVAL for NULL, #MEWE_EVERSION for an unknown version.
 * @since 0.1
 */
MEWE_API int mewe_generate_options_init(mewe_generate_options *opts, unsigned int version);

/**
 * Generates variants of the module's eligible functions.
 * @param[in] module The module; on failure it is left as it was, except that loop bodies
 *            outlined by @ref mewe_generate_options.outline_loops stay outlined (the module
 *            computes the same; its functions "<f>.loop.body" and "<f>.loop.chunk"
 *            remain).
 * @param[in] opts Options, or NULL for the defaults.
 * @return #MEWE_OK; #MEWE_EINVAL for NULL or a bad option or parameter (named in the
 *         message); #MEWE_EVERSION for an options version newer than this libmewe's (or 0);
 *         #MEWE_ENOTFOUND for an unknown diversifier name; #MEWE_ESTATE if the module is
 *         already multivariant; the error code of a diversifier or selection callback,
 *         passed back unchanged; #MEWE_EVERIFY if the module fails verification after
 *         diversification (a diversifier changed code outside its variant) or a function
 *         with its loop body outlined does (naming the function); #MEWE_ENOMEM.
 * @since 0.1
 */
MEWE_API int mewe_generate_variants(mewe_module *module, const mewe_generate_options *opts);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MEWE_VARIANTS_H */
