/* Shared internals of libmewe: the context and module structs, error and log helpers.
 * Never installed. */
#ifndef MEWE_INTERNAL_H
#define MEWE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>

#include <llvm-c/Core.h>

#include <mewe/mewe.h>
#include <mewe/sys/diversifier.h>
#include <mewe/sys/llvm.h>
#include <mewe/sys/rng.h>

#define MEWE_TOOL_COUNT_ 5

typedef union mewe__plugin_fn {
    mewe_diversify_fn diversify;
    mewe_rng_build_fn build;
} mewe__plugin_fn;

typedef struct mewe__plugin {
    char *name;
    char *description;
    char **param_names; /* NULL-terminated, or NULL */
    char **param_docs;  /* one per parameter name, or NULL */
    mewe_cost_class cost_class;
    /* For mewe_diversifier_get: the registered descriptor, its strings pointing at the copies
     * above (filled when the plugin is a diversifier). */
    mewe_diversifier desc;
    mewe__plugin_fn fn;
    void *user_data;
    void (*destroy)(void *user_data);
    bool builtin; /* registered by libmewe itself (mewe__register_builtins) */
} mewe__plugin;

typedef struct mewe__registry {
    mewe__plugin *items;
    size_t count, cap;
} mewe__registry;

/* What generation decided about one function of the input, for the report. */
typedef struct mewe__fnrec {
    char *name;
    const char *reason; /* static text, or own_reason; NULL when diversified */
    char *own_reason;   /* a message of a failing diversifier, owned */
    char *part_of;      /* the function whose loop body this is (outline.h), owned, or NULL */
    bool eligible;      /* passed the structural checks (eligibility.h) */
    unsigned instructions;
    unsigned variants;
    unsigned dropped_duplicate;
    unsigned dropped_invalid;
    unsigned costly_declined; /* variants made without their costly diversifiers (cost.h) */
    unsigned cheap_declined;  /* variants made with free diversifiers only (cost.h) */
    /* Filled by emission checks of generation (preservation): variants whose wasm body was
     * the same as another's, dropped; and how many kept variants were compared in wasm. */
    unsigned dropped_wasm_duplicate;
    unsigned distinct_in_wasm;
    bool wasm_checked;      /* the fields above are measured */
    bool escalated;         /* new variants were made with the default mix's fallback */
    unsigned next_index;    /* the index of the next variant generation makes, 0 before any */
    unsigned derived;       /* of the variants, those made in wasm (stubs until emission) */
    double wasm_difference; /* mean pairwise share of differing body bytes, -1 unknown */
} mewe__fnrec;

/* What the last mewe_link_multivariant was asked and what its cost model estimated, for the
 * report (report.c writes it; nothing here is JSON). */
typedef struct mewe__link_record {
    mewe_dispatch_kind dispatch;
    mewe_granularity granularity;
    char *rng; /* the spec as given */
    bool trace;
    double max_overhead;
    unsigned period, inline_limit, dispatchers;
    bool profiled; /* the fields below were estimated from a profile */
    size_t profile_functions, profile_unmatched;
    double run_cycles, run_added, run_calls, run_choices;
} mewe__link_record;

struct mewe_context {
    LLVMContextRef llvm;
    char *errmsg;
    const char *errstatic; /* the status's text when errmsg could not be allocated */
    /* LLVM reports some errors only through the diagnostic handler; it collects them here
     * while a libmewe call runs, so the call can put them into its own message. */
    char *diag;
    mewe_log_fn log_fn;
    void *log_data;
    mewe_log_level log_max;
    mewe_progress_fn progress_fn;
    void *progress_data;
    int progress_tenth; /* the last tenth of the current stage logged, -1 at a stage start */
    uint64_t seed;
    char *tools[MEWE_TOOL_COUNT_];
    bool untrusted_input; /* bitcode is loaded by the helper first (load_check.h) */
    mewe_module *modules; /* every live module, freed with the context */
    mewe__registry diversifiers;
    mewe__registry strategies;
};

struct mewe_module {
    mewe_context *ctx;
    LLVMModuleRef llvm;
    char *name;      /* file or buffer name, for messages */
    char **fn_names; /* cache of defined function names; NULL when stale */
    size_t fn_count;
    mewe_module *prev, *next; /* in ctx->modules */
    /* Measures of the module as loaded, for the report's before/after; taken when first
     * needed (mewe__module_measure_before) while before_pending. */
    size_t instructions_before, bitcode_before;
    bool before_pending;
    /* The module's size in bitcode as it is now, when code generation has just written it
     * (bitcode_now_known): the report needs it, and writing a large module again takes
     * most of a second. Forgotten by mewe__module_changed, and never kept for a module lent
     * out by mewe_module_get_llvm(), whose borrower may change it at any time. */
    size_t bitcode_now;
    bool bitcode_now_known, lent;
    mewe__fnrec *records; /* from the last mewe_generate_variants, or NULL */
    size_t record_count;
    bool time_budget_hit;
    bool multivariant;       /* mewe_link_multivariant has run */
    mewe__link_record *link; /* from mewe_link_multivariant, or NULL */
    /* The families whose variants the last emission spliced into their dispatchers
     * (wasm/splice.h), as they were before: the linked module no longer holds those bodies
     * apart, and the report counts them from here. */
    struct mewe__spliced_family *spliced;
    size_t spliced_count;
};

/* Limits of the options, enforced where each stage reads its options and published by
 * mewe_option_describe (options.c), so that tools never repeat them. */
#define MEWE__VARIANTS_MAX  64
#define MEWE__ATTEMPTS_MAX  100
#define MEWE__PERIOD_LIMIT  (1u << 24) /* a dispatcher's countdown is an i32 */
#define MEWE__OPT_LEVEL_MAX 3
/* Defaults that no public macro states. */
#define MEWE__RNG_DEFAULT   "wasi"
extern const char *const mewe__default_diversifiers[];
extern const size_t mewe__default_diversifier_count;
/* "switch" or "table", as the CLI and the report spell it. */
const char *mewe__dispatch_name(mewe_dispatch_kind kind);

/* Sets the context's message from a printf format and returns status, so that error paths
 * read `return mewe__error(ctx, MEWE_EIO, "...", ...)`. Logs it at MEWE_LOG_ERROR too. */
int mewe__error(mewe_context *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An options array of `count` non-empty strings; `what` names it in the message. */
int mewe__check_strings(mewe_context *ctx, const char *const *list, size_t count, const char *what);
/* Versioned options structs (first field `unsigned int version`), whose older versions are
 * shorter: `sizes[v]` is version v's size, for v = 1 to `current`.
 * mewe__options_init fills `opts` with `defaults` as of `version`, never writing past that
 * version's size (MEWE_EVERSION for an unknown one). mewe__options_read copies a caller's
 * struct of any known version over `dst`, which holds the defaults, never reading past its
 * size; `what` names the struct in the message of an unknown version. */
int mewe__options_init(void *opts, const void *defaults, unsigned int version, const size_t *sizes,
                       unsigned int current);
int mewe__options_read(mewe_context *ctx, void *dst, const void *opts, const size_t *sizes,
                       unsigned int current, const char *what);
void mewe__log(mewe_context *ctx, mewe_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A stage's progress to the progress callback and, at each tenth, to the log (INFO). `stage`
 * is static text (see mewe_progress_fn). */
void mewe__progress(mewe_context *ctx, const char *stage, size_t done, size_t total);

/* The diagnostic handler of every LLVM context libmewe makes (data: the mewe_context): it
 * records errors and warnings for mewe__diag_take instead of printing them. */
void mewe__diag_handler(LLVMDiagnosticInfoRef info, void *data);
/* Diagnostics captured from LLVM since the last take; owned string or NULL. */
char *mewe__diag_take(mewe_context *ctx);
void mewe__diag_clear(mewe_context *ctx);

/* Runs LLVM's verifier; on failure the message starts with `what` and quotes the verifier's
 * first complaints. */
int mewe__verify(mewe_context *ctx, LLVMModuleRef llvm, const char *what);
/* Counts instructions and bitcode bytes, for the report's before/after. */
void mewe__module_measure(LLVMModuleRef llvm, size_t *instructions, size_t *bitcode_bytes);
/* The module's size in bitcode now: known from code generation, else measured. */
size_t mewe__module_bitcode_now(const mewe_module *module);
/* Code generation wrote the module, unchanged, in `bytes` of bitcode. */
void mewe__module_bitcode_seen(const mewe_module *module, size_t bytes);
/* The last emission's spliced families (wasm/derive.h): forgotten, added to (taking fams,
 * which is freed, also on failure: MEWE_ENOMEM), looked up by dispatcher name (NULL when
 * not spliced). */
void mewe__module_spliced_clear(const mewe_module *module);
int mewe__module_spliced_add(const mewe_module *module, struct mewe__spliced_family *fams,
                             size_t n);
const struct mewe__spliced_family *mewe__module_spliced(const mewe_module *module,
                                                        const char *name);
void mewe__module_records_clear(mewe_module *module);
/* Marks the module's cached function list stale after a change. */
void mewe__module_changed(mewe_module *module);
/* Takes the "before" measures if they are pending. Measuring writes the module's bitcode:
 * loading or linking only marks them pending (linking fifty files must not write the growing
 * module fifty times), and every function that changes the module, or reads the measures,
 * calls this first. */
void mewe__module_measure_before(mewe_module *module);
/* The arguments of a call that consumes `src` into `dst` (`fn` names the call, `same` says
 * why a module cannot be both): MEWE_OK, or MEWE_EINVAL after freeing src. */
int mewe__module_pair_check(mewe_module *dst, mewe_module *src, const char *fn, const char *same);
/* Wraps an LLVM module (consumed) into a new mewe_module. */
int mewe__module_wrap(mewe_module **out, mewe_context *ctx, LLVMModuleRef llvm, const char *name);

/* Code generation of the module as it is, at `level` (0..3) on `threads` threads (0: every
 * processor), into relocatable wasm objects
 * (wasm/codegen.h: one per partition, no linking): what generation compares variants'
 * bodies by. With `keep`, only the functions it names keep their bodies (the others become
 * declarations in a copy), so only they are compiled. Errors as mewe_emit_wasm's; the
 * module and its context are unchanged. */
struct mewe__objects;
int mewe__emit_object(const mewe_module *m, int level, unsigned threads,
                      bool (*keep)(const char *name, void *data), void *keep_data,
                      struct mewe__objects *out);

char *mewe__strdup(const char *s);
char *mewe__printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mewe__vprintf(const char *fmt, va_list ap);

#endif /* MEWE_INTERNAL_H */
