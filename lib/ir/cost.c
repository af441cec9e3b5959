/* The cost model: a dispatch must never cost more than the work it guards.
 *
 * One call of a function is estimated from below: its cheapest path from entry to a return,
 * an instruction counting COST_INSTRUCTION cycles (superscalar cores run two or three simple
 * wasm instructions per cycle once compiled) and a call COST_CALL more, plus the call itself.
 * The variants run as often as the original, so what their code costs more on average is
 * taken from the budget first. What the dispatch adds is estimated per policy: a fresh
 * choice costs a draw plus an unpredictable branch (COST_DRAW); a kept choice a predictable
 * counter test and branch (COST_COUNTER); variants kept as functions one more call
 * (COST_CALL). Under the budget B (max_overhead), a function gets a fresh choice at every
 * call when that fits in what is left of (B - 1) times its cost, else every N calls with the
 * smallest power of two N that fits, up to MEWE__PERIOD_MAX. Underestimating the work errs
 * towards cheaper dispatch, never towards a dispatch that costs more than its function. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/sys/diversifier.h>

#include "ir/cost.h"
#include "ir/family.h"

#define COST_INSTRUCTION 0.4
#define COST_CALL        8.0
#define COST_DRAW        24.0
#define COST_COUNTER     5.0
#define COST_CACHED      3.0

const char *const mewe__plan_reasons[] = {
    "policy set by the link options",
    "unlimited budget: a fresh choice at every call",
    "a fresh choice at every call fits the budget",
    "a fresh choice at every call exceeds the budget; every N calls fits",
    "over the budget even at the longest period: the function is very small for a dispatch",
    "profile: never called in the profile run, so a choice per call costs nothing",
    "profile: the whole run's budget affords a choice per call",
};
const size_t mewe__plan_reason_count = sizeof mewe__plan_reasons / sizeof *mewe__plan_reasons;

enum {
    WHY_FORCED,
    WHY_UNLIMITED,
    WHY_CALL_FITS,
    WHY_EVERY_FITS,
    WHY_OVER,
    WHY_UNCALLED,
    WHY_RUN_BUDGET
};

const char *mewe__granularity_name(mewe_granularity g)
{
    switch (g) {
    case MEWE_GRANULARITY_CALL: return "call";
    case MEWE_GRANULARITY_INSTANCE: return "instance";
    case MEWE_GRANULARITY_EVERY: return "every";
    case MEWE_GRANULARITY_INVOCATION: return "invocation";
    }
    return "?";
}

static double instruction_cost(LLVMValueRef inst)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(inst);
    if (op == LLVMPHI)
        return 0.0;
    if (op == LLVMCall || op == LLVMInvoke) {
        LLVMValueRef callee = LLVMGetCalledValue(inst);
        if (callee && LLVMIsAFunction(callee) && LLVMGetIntrinsicID(callee))
            return COST_INSTRUCTION; /* lowered inline, or markers that vanish */
        return COST_INSTRUCTION + COST_CALL;
    }
    return COST_INSTRUCTION;
}

static double block_cost(LLVMBasicBlockRef bb)
{
    double c = 0.0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
        c += instruction_cost(i);
    return c;
}

/* The cheapest path from the entry to a return, by Dijkstra over the blocks (small: a
 * linear scan for the next block is enough). A function that never returns costs its
 * whole body. */
static double cheapest_path(LLVMValueRef fn)
{
    unsigned n = LLVMCountBasicBlocks(fn);
    LLVMBasicBlockRef *bbs = malloc((n ? n : 1) * sizeof *bbs);
    double *dist = malloc((n ? n : 1) * sizeof *dist);
    double *own = malloc((n ? n : 1) * sizeof *own);
    char *done = calloc(n ? n : 1, 1);
    double best = INFINITY, total = 0.0;
    if (!bbs || !dist || !own || !done)
        goto out;
    LLVMGetBasicBlocks(fn, bbs);
    for (unsigned i = 0; i < n; i++) {
        own[i] = block_cost(bbs[i]);
        total += own[i];
        dist[i] = INFINITY;
    }
    if (n)
        dist[0] = own[0];
    for (;;) {
        unsigned at = n;
        for (unsigned i = 0; i < n; i++) {
            if (!done[i] && dist[i] < INFINITY && (at == n || dist[i] < dist[at]))
                at = i;
        }
        if (at == n)
            break;
        done[at] = 1;
        LLVMValueRef term = LLVMGetBasicBlockTerminator(bbs[at]);
        if (!term)
            continue;
        if (LLVMGetInstructionOpcode(term) == LLVMRet) {
            best = dist[at];
            break;
        }
        unsigned ns = LLVMGetNumSuccessors(term);
        for (unsigned s = 0; s < ns; s++) {
            LLVMBasicBlockRef succ = LLVMGetSuccessor(term, s);
            for (unsigned j = 0; j < n; j++) {
                if (bbs[j] == succ && dist[at] + own[j] < dist[j])
                    dist[j] = dist[at] + own[j];
            }
        }
    }
out:
    free(bbs);
    free(dist);
    free(own);
    free(done);
    return isinf(best) ? total : best;
}

double mewe__function_code_cost(LLVMValueRef fn)
{
    double c = 0.0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        c += block_cost(bb);
    return c < COST_INSTRUCTION ? COST_INSTRUCTION : c;
}

double mewe__function_cost(LLVMValueRef fn)
{
    double c = cheapest_path(fn);
    return c < COST_INSTRUCTION ? COST_INSTRUCTION : c;
}

static bool free_variant(LLVMValueRef fn)
{
    LLVMAttributeRef a =
        LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, MEWE_ATTR_COST_CLASS,
                                      (unsigned)strlen(MEWE_ATTR_COST_CLASS));
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    return v && len == 4 && memcmp(v, "free", 4) == 0;
}

bool mewe__costly_affordable(LLVMValueRef original, LLVMValueRef variant)
{
    double extra = mewe__function_code_cost(variant) - mewe__function_code_cost(original);
    return extra <= MEWE_COSTLY_SHARE * (mewe__function_cost(original) + COST_CALL);
}

static void plan_forced(mewe__plan *p, const mewe__link_settings *s)
{
    double extra = p->inlined ? 0.0 : COST_CALL;
    p->policy = s->granularity;
    p->why = WHY_FORCED;
    switch (s->granularity) {
    case MEWE_GRANULARITY_EVERY:
        p->period = s->period;
        p->added = extra + COST_COUNTER + COST_DRAW / s->period;
        break;
    case MEWE_GRANULARITY_CALL: p->added = extra + COST_DRAW; break;
    default: p->added = extra + COST_CACHED; break;
    }
}

void mewe__plan_dispatcher(mewe__plan *out, LLVMValueRef const *bodies, size_t variants,
                           bool inlinable, const mewe__link_settings *s)
{
    LLVMValueRef original = bodies[0];
    mewe__plan p = {.variants = variants, .calls = -1.0};
    unsigned size = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(original); bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            size++;
    }
    p.inlined = inlinable && s->dispatch == MEWE_DISPATCH_SWITCH && size <= s->inline_limit;
    p.body = mewe__function_cost(original) + COST_CALL;
    /* The variants run as often as the original: what they cost more on average is spent
     * before the dispatch gets its share. Compared over their whole code, not the cheapest
     * path, which an early return can make much shorter than the usual one. */
    double code = mewe__function_code_cost(original), sum = 0.0;
    for (size_t k = 1; k < variants; k++) {
        /* A variant that only free diversifiers made runs at the original's speed, whatever
         * its instruction count says (split blocks become fall-throughs, swapped operands
         * cost the same). */
        if (!free_variant(bodies[k]))
            sum += mewe__function_code_cost(bodies[k]) - code;
    }
    p.variant_extra = sum / (double)variants / p.body;
    /* Only the default policy is the cost model's to choose; explicit ones are obeyed.
     * Tracing changes nothing here: a trace shows the program as it runs untraced. */
    if (s->granularity != MEWE_GRANULARITY_CALL) {
        plan_forced(&p, s);
        *out = p;
        return;
    }
    double extra = p.inlined ? 0.0 : COST_CALL;
    double allowed = (s->max_overhead - 1.0 - p.variant_extra) * p.body;
    if (isinf(s->max_overhead) || extra + COST_DRAW <= allowed) {
        p.policy = MEWE_GRANULARITY_CALL;
        p.added = extra + COST_DRAW;
        p.why = isinf(s->max_overhead) ? WHY_UNLIMITED : WHY_CALL_FITS;
        *out = p;
        return;
    }
    p.policy = MEWE_GRANULARITY_EVERY;
    p.why = WHY_OVER;
    for (p.period = 2; p.period <= MEWE__PERIOD_MAX; p.period *= 2) {
        if (extra + COST_COUNTER + COST_DRAW / p.period <= allowed) {
            p.why = WHY_EVERY_FITS;
            break;
        }
    }
    if (p.period > MEWE__PERIOD_MAX)
        p.period = MEWE__PERIOD_MAX;
    p.added = extra + COST_COUNTER + COST_DRAW / p.period;
    *out = p;
}

double mewe__run_cycles(LLVMModuleRef llvm, const mewe_profile *profile)
{
    double total = 0.0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        unsigned long long calls;
        if (!LLVMIsDeclaration(f) && mewe_profile_calls(&calls, profile, name) == MEWE_OK)
            total += (double)calls * (mewe__function_cost(f) + COST_CALL);
    }
    return total;
}

static double per_call_cost(const mewe__plan *p)
{
    return (p->inlined ? 0.0 : COST_CALL) + COST_DRAW;
}

typedef struct upgrade {
    size_t plan;
    double extra; /* cycles per run that a choice per call would add */
} upgrade;

static int by_extra(const void *a, const void *b)
{
    double x = ((const upgrade *)a)->extra, y = ((const upgrade *)b)->extra;
    return x < y ? -1 : x > y;
}

void mewe__plan_with_profile(mewe__plan *plans, size_t n, double run_cycles,
                             const mewe__link_settings *s, mewe__run_estimate *est)
{
    *est = (mewe__run_estimate){.cycles = run_cycles};
    for (size_t i = 0; i < n; i++)
        est->added += plans[i].calls * (plans[i].added + plans[i].variant_extra * plans[i].body);
    upgrade *ups = malloc((n ? n : 1) * sizeof *ups);
    size_t m = 0;
    for (size_t i = 0; ups && s->granularity == MEWE_GRANULARITY_CALL && i < n; i++) {
        if (plans[i].policy == MEWE_GRANULARITY_EVERY)
            ups[m++] = (upgrade){i, plans[i].calls * (per_call_cost(&plans[i]) - plans[i].added)};
    }
    if (ups)
        qsort(ups, m, sizeof *ups, by_extra);
    double budget = (s->max_overhead - 1.0) * run_cycles;
    for (size_t k = 0; k < m && (ups[k].extra <= 0 || est->added + ups[k].extra <= budget); k++) {
        mewe__plan *p = &plans[ups[k].plan];
        est->added += ups[k].extra;
        p->policy = MEWE_GRANULARITY_CALL;
        p->period = 0;
        p->added = per_call_cost(p);
        p->why = p->calls == 0 ? WHY_UNCALLED : WHY_RUN_BUDGET;
    }
    free(ups);
    for (size_t i = 0; i < n; i++) {
        est->calls += plans[i].calls;
        switch (plans[i].policy) {
        case MEWE_GRANULARITY_CALL: est->choices += plans[i].calls; break;
        case MEWE_GRANULARITY_EVERY: est->choices += plans[i].calls / plans[i].period; break;
        default: break; /* per instance or invocation: not known from call counts */
        }
    }
}

void mewe__plan_format(const mewe__plan *p, char *buf, size_t size)
{
    snprintf(buf, size, "%s %u %s %zu %.2f %.2f %u %.0f %.4f", mewe__granularity_name(p->policy),
             p->period, p->inlined ? "inline" : "call", p->variants, p->body, p->added, p->why,
             p->calls, p->variant_extra);
}

bool mewe__plan_parse(mewe__plan *out, const char *text, size_t len)
{
    char buf[200], policy[16], layout[16];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    mewe__plan p = {0};
    if (sscanf(buf, "%15s %u %15s %zu %lf %lf %u %lf %lf", policy, &p.period, layout, &p.variants,
               &p.body, &p.added, &p.why, &p.calls, &p.variant_extra) != 9 ||
        p.why >= mewe__plan_reason_count)
        return false;
    static const mewe_granularity all[] = {MEWE_GRANULARITY_CALL, MEWE_GRANULARITY_INSTANCE,
                                           MEWE_GRANULARITY_EVERY, MEWE_GRANULARITY_INVOCATION};
    bool known = false;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (strcmp(policy, mewe__granularity_name(all[i])) == 0) {
            p.policy = all[i];
            known = true;
        }
    }
    p.inlined = strcmp(layout, "inline") == 0;
    if (!known || (!p.inlined && strcmp(layout, "call") != 0))
        return false;
    *out = p;
    return true;
}
