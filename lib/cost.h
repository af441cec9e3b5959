/* The cost model of the multivariant linker: how often each dispatcher chooses (its policy)
 * and whether its variants live inside it, from static estimates of what one call of the
 * function costs and what each policy adds to it. */
#ifndef MEWE_COST_H
#define MEWE_COST_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>

#include <mewe/multivariant.h>

/* Link options with every default filled in (any options version). */
typedef struct mewe__link_settings {
    mewe_dispatch_kind dispatch;
    mewe_granularity granularity;
    const char *rng;
    bool trace;
    double max_overhead;
    unsigned period;
    unsigned inline_limit;
} mewe__link_settings;

/* The longest period the cost model picks: a small hot function still gets a fresh choice
 * every ~1,000 calls, many times per run. */
#define MEWE__PERIOD_MAX 1024u

/* What the cost model decided for one dispatcher. Costs are in estimated machine cycles. */
typedef struct mewe__plan {
    mewe_granularity policy;
    unsigned period;  /* mean calls per choice with MEWE_GRANULARITY_EVERY, else 0 */
    bool inlined;     /* the variants' bodies are inside the dispatcher */
    size_t variants;  /* bodies to choose from, the original's included */
    double body;      /* one call of the function, its cheapest path */
    double added;     /* what the dispatch adds to one call, on average */
    unsigned why;     /* index into mewe__plan_reasons */
} mewe__plan;

extern const char *const mewe__plan_reasons[];
extern const size_t mewe__plan_reason_count;

/* Plans the dispatcher of `original` (its body not yet moved) with `variants` bodies;
 * `inlinable` tells whether its variants can be moved into it. */
void mewe__plan_dispatcher(mewe__plan *out, LLVMValueRef original, size_t variants,
                           bool inlinable, const mewe__link_settings *s);

/* The plan as a string attribute value, and back (false when `text` is not one). The
 * report reads it from the dispatcher, so that it describes the module it is given. */
void mewe__plan_format(const mewe__plan *p, char *buf, size_t size);
bool mewe__plan_parse(mewe__plan *out, const char *text, size_t len);

/* Name of a policy as the CLI and the report spell it. */
const char *mewe__granularity_name(mewe_granularity g);

#endif /* MEWE_COST_H */
