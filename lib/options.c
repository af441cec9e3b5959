/* The options' defaults and limits (mewe/options.h), and spec checks. The numbers come from
 * the options' own initialisers and from the limits in internal.h that the stages enforce,
 * so that what this file publishes is what the library does. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <mewe/options.h>

#include "ir/cost.h"
#include "plugin.h"

const char *const mewe__default_diversifiers[] = {"subst", "swap", "blocks", "layout"};
const size_t mewe__default_diversifier_count =
    sizeof mewe__default_diversifiers / sizeof *mewe__default_diversifiers;

const char *mewe__dispatch_name(mewe_dispatch_kind kind)
{
    return kind == MEWE_DISPATCH_TABLE ? "table" : "switch";
}

static const char *emit_kind_name(mewe_emit_kind kind)
{
    static const char *const names[] = {"command", "reactor", "object"};
    return (unsigned)kind < sizeof names / sizeof *names ? names[kind] : "?";
}

typedef struct option {
    const char *name;
    const char *text; /* the default as a tool prints it; NULL: computed from the enum */
    double min, max;  /* NaN for names and lists */
} option;

/* In the order of the structs' fields. The numeric defaults are not here: describe() reads
 * them from the initialisers, and the test suite checks that `text` agrees with them. */
static const option options[] = {
    {"generate.variants", "3", 0, MEWE__VARIANTS_MAX},
    {"generate.diversifiers", "subst, swap, blocks, layout", NAN, NAN},
    {"generate.min_instructions", "3", 0, UINT_MAX},
    {"generate.attempts", "4", 1, MEWE__ATTEMPTS_MAX},
    {"generate.time_budget", "0", 0, DBL_MAX},
    {"generate.size_budget", "0", 0, DBL_MAX},
    {"generate.wasm_rounds", "2", 0, 16},
    {"generate.wasm_derived", "all but one", 0, MEWE__VARIANTS_MAX},
    {"generate.outline_loops", "1000", 0, UINT_MAX},
    {"link.dispatch", NULL, NAN, NAN},
    {"link.granularity", NULL, NAN, NAN},
    {"link.rng", MEWE__RNG_DEFAULT, NAN, NAN},
    {"link.max_overhead", "1.05", 1, INFINITY},
    {"link.period", "64", 1, MEWE__PERIOD_LIMIT},
    {"link.inline_limit", "400", 1, UINT_MAX},
    {"emit.kind", NULL, NAN, NAN},
    {"emit.opt_level", "2", 0, MEWE__OPT_LEVEL_MAX},
};
#define OPTION_COUNT (sizeof options / sizeof *options)

size_t mewe_option_count(void)
{
    return OPTION_COUNT;
}

int mewe_option_at(const char **out_name, size_t index)
{
    if (!out_name || index >= OPTION_COUNT)
        return MEWE_EINVAL;
    *out_name = options[index].name;
    return MEWE_OK;
}

/* The default of a numeric option, as the library applies it: from the INIT macros for
 * fields whose zero is a value, else the documented default that a zero stands for. */
static double numeric_default(size_t i)
{
    const mewe_generate_options gen = MEWE_GENERATE_OPTIONS_INIT;
    const mewe_emit_options emit = MEWE_EMIT_OPTIONS_INIT;
    const double defaults[OPTION_COUNT] = {
        gen.variants,
        NAN,
        gen.min_instructions,
        gen.attempts ? gen.attempts : MEWE_ATTEMPTS_DEFAULT,
        gen.time_budget,
        gen.size_budget,
        gen.wasm_rounds ? gen.wasm_rounds : MEWE_WASM_ROUNDS_DEFAULT,
        NAN, /* all but one of a function's variants: no number */
        gen.outline_loops ? gen.outline_loops : MEWE_OUTLINE_LOOPS_DEFAULT,
        NAN,
        NAN,
        NAN,
        MEWE_MAX_OVERHEAD_DEFAULT,
        MEWE_PERIOD_DEFAULT,
        MEWE_INLINE_LIMIT_DEFAULT,
        NAN,
        emit.opt_level,
    };
    return defaults[i];
}

static const char *text_default(size_t i)
{
    if (options[i].text)
        return options[i].text;
    const mewe_link_options link = MEWE_LINK_OPTIONS_INIT;
    const mewe_emit_options emit = MEWE_EMIT_OPTIONS_INIT;
    if (strcmp(options[i].name, "link.dispatch") == 0)
        return mewe__dispatch_name(link.dispatch);
    if (strcmp(options[i].name, "link.granularity") == 0)
        return mewe__granularity_name(link.granularity);
    return emit_kind_name(emit.kind);
}

int mewe_option_describe(const char **out_text, double *out_default, double *out_min,
                         double *out_max, const char *name)
{
    if (!name)
        return MEWE_EINVAL;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (strcmp(options[i].name, name) != 0)
            continue;
        if (out_text)
            *out_text = text_default(i);
        if (out_default)
            *out_default = numeric_default(i);
        if (out_min)
            *out_min = options[i].min;
        if (out_max)
            *out_max = options[i].max;
        return MEWE_OK;
    }
    return MEWE_ENOTFOUND;
}

static int spec_check(mewe_context *ctx, const mewe__registry *r, const char *kind,
                      const char *spec)
{
    if (!ctx)
        return MEWE_EINVAL;
    mewe__spec parsed;
    int rc = mewe__spec_parse(ctx, &parsed, r, kind, spec);
    if (rc == MEWE_OK)
        mewe__spec_fini(&parsed);
    return rc;
}

int mewe_diversifier_spec_check(mewe_context *ctx, const char *spec)
{
    return spec_check(ctx, ctx ? &ctx->diversifiers : NULL, "diversifier", spec);
}

int mewe_rng_strategy_spec_check(mewe_context *ctx, const char *spec)
{
    return spec_check(ctx, ctx ? &ctx->strategies : NULL, "RNG strategy", spec);
}
