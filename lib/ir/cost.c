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
 * smallest power of two N that fits, up to MEWE__PERIOD_MAX. A function too small even for a
 * counter keeps its choice (COST_CACHED: a test and a predictable branch) until the next
 * epoch: the counted functions' redraws are the module's clock, and every so many of them
 * all kept choices are forgotten and drawn again when next needed. Underestimating the work
 * errs towards cheaper dispatch, never towards a dispatch that costs more than its
 * function. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/sys/diversifier.h>

#include "ir/cost.h"
#include "ir/eligibility.h"
#include "ir/family.h"
#include "ir/irutil.h"
#include "ir/outline.h"
#include "ir/ptrmap.h"

#define COST_INSTRUCTION 0.4
#define COST_CALL        8.0
#define COST_DRAW        24.0
#define COST_COUNTER     5.0
#define COST_CACHED      3.0
/* A counted redraw: the draws of the choice and of the next countdown, and the call that
 * ticks the epoch clock (multivariant.c). */
#define COST_REDRAW      (2.0 * COST_DRAW + COST_CALL)
/* A fresh choice at every call also ticks the epoch clock, when there are epochs. */
#define COST_FRESH       (COST_DRAW + COST_CALL + 4.0)
/* Forgetting a kept choice, and drawing it again for the functions the program calls in the
 * next epoch (a guess: a quarter of them). */
#define COST_FORGET      (1.0 + COST_DRAW / 4.0)
/* Iterations of a loop guessed for a typical call, when choosing epoch clocks: few, so that
 * a function whose loop rarely runs is not made to pay much for its counter. */
#define LOOP_TRIPS       8.0
/* Loops deeper than this weigh as much as this deep when variants are compared: the guess
 * of LOOP_TRIPS iterations compounds its error at every level. */
#define WEIGHT_DEPTH_MAX 3u

const char *const mewe__plan_reasons[] = {
    "policy set by the link options",
    "unlimited budget: a fresh choice at every call",
    "a fresh choice at every call fits the budget",
    "a fresh choice at every call exceeds the budget; every N calls fits",
    "too small for a counter of its own: keeps its choice, drawn again after every epoch",
    "profile: never called in the profile run, so a choice per call costs nothing",
    "profile: the whole run's budget affords a choice per call",
    "an epoch clock: a long function, whose typical call affords a counter at the longest "
    "period; its redraws start the epochs of the functions that keep their choice",
    "the module's only epoch clock: no function could afford a counter, so the largest of "
    "those that keep their choice counts its calls for all of them",
    "recursive: a counter of its own at the longest period, since its recursion may run "
    "with nothing else ticking the epoch clock (it ticks it too)",
    "an epoch clock: its cheapest path is short, but its loop, taken a few times, affords a "
    "counter; its redraws start the epochs of the functions that keep their choice",
    "large: the engine compiles and warms up each variant that runs, so it keeps its choice "
    "for the instance",
};
const size_t mewe__plan_reason_count = sizeof mewe__plan_reasons / sizeof *mewe__plan_reasons;

enum {
    WHY_FORCED,
    WHY_UNLIMITED,
    WHY_CALL_FITS,
    WHY_EVERY_FITS,
    WHY_OVER,
    WHY_UNCALLED,
    WHY_RUN_BUDGET,
    WHY_CLOCK,
    WHY_CLOCK_ONLY,
    WHY_RECURSIVE,
    WHY_LOOP,
    WHY_LARGE
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

/* A function's blocks, their own costs and successors by index, for the path searches. */
typedef struct cfg {
    unsigned n;
    LLVMBasicBlockRef *bbs;
    double *own;
    unsigned *succ_start, *succ; /* successors of block i: succ[succ_start[i] .. [i + 1]) */
    bool *returns;
} cfg;

static void cfg_free(cfg *g)
{
    free(g->bbs);
    free(g->own);
    free(g->succ_start);
    free(g->succ);
    free(g->returns);
}

static bool cfg_build(cfg *g, LLVMValueRef fn)
{
    unsigned n = LLVMCountBasicBlocks(fn), edges = 0;
    *g = (cfg){.n = n};
    g->bbs = malloc((n ? n : 1) * sizeof *g->bbs);
    g->own = malloc((n ? n : 1) * sizeof *g->own);
    g->succ_start = malloc((n + 1) * sizeof *g->succ_start);
    g->returns = calloc(n ? n : 1, sizeof *g->returns);
    if (!g->bbs || !g->own || !g->succ_start || !g->returns)
        return false;
    LLVMGetBasicBlocks(fn, g->bbs);
    /* Block -> index + 1: a search per edge would make large functions quadratic. */
    mewe__ptrmap index = {0};
    if (mewe__ptrmap_init(&index, n) != 0)
        return false;
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef term = LLVMGetBasicBlockTerminator(g->bbs[i]);
        edges += term ? LLVMGetNumSuccessors(term) : 0;
        if (mewe__ptrmap_put(&index, g->bbs[i], (void *)(uintptr_t)(i + 1)) != 0) {
            mewe__ptrmap_fini(&index);
            return false;
        }
    }
    g->succ = malloc((edges ? edges : 1) * sizeof *g->succ);
    if (!g->succ) {
        mewe__ptrmap_fini(&index);
        return false;
    }
    unsigned e = 0;
    for (unsigned i = 0; i < n; i++) {
        g->own[i] = block_cost(g->bbs[i]);
        g->succ_start[i] = e;
        LLVMValueRef term = LLVMGetBasicBlockTerminator(g->bbs[i]);
        if (!term)
            continue;
        g->returns[i] = LLVMGetInstructionOpcode(term) == LLVMRet;
        for (unsigned k = 0, ns = LLVMGetNumSuccessors(term); k < ns; k++) {
            uintptr_t j = (uintptr_t)mewe__ptrmap_get(&index, LLVMGetSuccessor(term, k));
            if (j)
                g->succ[e++] = (unsigned)(j - 1);
        }
    }
    g->succ_start[n] = e;
    mewe__ptrmap_fini(&index);
    return true;
}

/* The cheapest path from block `from` (its own cost included) to block `to`, or to any
 * return when `to` is n, by Dijkstra (small graphs: a linear scan for the next block is
 * enough); INFINITY when there is none. */
static double cheapest(const cfg *g, unsigned from, unsigned to)
{
    double *dist = malloc((g->n ? g->n : 1) * sizeof *dist);
    bool *done = calloc(g->n ? g->n : 1, sizeof *done);
    double best = INFINITY;
    if (!dist || !done || from >= g->n)
        goto out;
    for (unsigned i = 0; i < g->n; i++)
        dist[i] = INFINITY;
    dist[from] = g->own[from];
    for (;;) {
        unsigned at = g->n;
        for (unsigned i = 0; i < g->n; i++) {
            if (!done[i] && dist[i] < INFINITY && (at == g->n || dist[i] < dist[at]))
                at = i;
        }
        if (at == g->n)
            break;
        done[at] = true;
        if (to == g->n ? g->returns[at] : at == to) {
            best = dist[at];
            break;
        }
        for (unsigned e = g->succ_start[at]; e < g->succ_start[at + 1]; e++) {
            unsigned j = g->succ[e];
            if (dist[at] + g->own[j] < dist[j])
                dist[j] = dist[at] + g->own[j];
        }
    }
out:
    free(dist);
    free(done);
    return best;
}

/* The cheapest path from the entry to a return. A function that never returns costs its
 * whole body. */
static double cheapest_path(LLVMValueRef fn)
{
    cfg g;
    double best = INFINITY, total = 0.0;
    if (cfg_build(&g, fn) && g.n) {
        best = cheapest(&g, 0, g.n);
        for (unsigned i = 0; i < g.n; i++)
            total += g.own[i];
    }
    cfg_free(&g);
    return isinf(best) ? total : best;
}

/* The back edges u -> h that a depth-first search from the entry finds (from[k] -> to[k]);
 * the arrays hold as many entries as the graph has edges. */
static unsigned back_edges(const cfg *g, unsigned *from, unsigned *to)
{
    unsigned n = g->n, found = 0;
    unsigned char *state = calloc(n ? n : 1, 1); /* 0 new, 1 on the stack, 2 done */
    unsigned *stack = malloc((n ? n : 1) * sizeof *stack);
    unsigned *next = malloc((n ? n : 1) * sizeof *next);
    if (!state || !stack || !next || !n)
        goto out;
    unsigned depth = 0;
    stack[depth++] = 0;
    state[0] = 1;
    next[0] = g->succ_start[0];
    while (depth) {
        unsigned at = stack[depth - 1];
        if (next[at] == g->succ_start[at + 1]) {
            state[at] = 2;
            depth--;
            continue;
        }
        unsigned j = g->succ[next[at]++];
        if (state[j] == 1) {
            from[found] = at;
            to[found++] = j;
        } else if (state[j] == 0) {
            state[j] = 1;
            next[j] = g->succ_start[j];
            stack[depth++] = j;
        }
    }
out:
    free(state);
    free(stack);
    free(next);
    return found;
}

/* The costliest loop of fn: for each back edge u -> h, the cheapest way round (h to u,
 * then the edge). 0 without loops. */
static double costliest_loop(const cfg *g)
{
    unsigned m = g->succ_start[g->n];
    unsigned *from = malloc((m ? m : 1) * sizeof *from);
    unsigned *to = malloc((m ? m : 1) * sizeof *to);
    double worst = 0.0;
    unsigned edges = from && to ? back_edges(g, from, to) : 0;
    for (unsigned k = 0; k < edges; k++) {
        double round = cheapest(g, to[k], from[k]);
        if (round < INFINITY && round > worst)
            worst = round;
    }
    free(from);
    free(to);
    return worst;
}

/* Marks in `in` the natural loop of back edge latch -> header: the header and every block
 * that reaches the latch without passing the header (a search backwards over `pred`).
 * False when some block of it other than the header is entered from outside: the header
 * does not dominate the loop (an irreducible cycle). */
static bool natural_loop(const cfg *g, const unsigned *pred_start, const unsigned *pred,
                         unsigned header, unsigned latch, bool *in, unsigned *work)
{
    memset(in, 0, g->n * sizeof *in);
    in[header] = true;
    unsigned top = 0;
    if (!in[latch])
        in[latch] = true, work[top++] = latch;
    while (top) {
        unsigned b = work[--top];
        for (unsigned e = pred_start[b]; e < pred_start[b + 1]; e++) {
            if (!in[pred[e]])
                in[pred[e]] = true, work[top++] = pred[e];
        }
    }
    for (unsigned b = 0; b < g->n; b++) {
        if (!in[b] || b == header)
            continue;
        for (unsigned e = pred_start[b]; e < pred_start[b + 1]; e++) {
            if (!in[pred[e]])
                return false;
        }
    }
    return true;
}

/* Whether back edge k is the only one into its header, its loop is natural, and no other
 * loop contains its header (a top-level loop). */
static bool top_level_loop(const cfg *g, const unsigned *pred_start, const unsigned *pred,
                           const unsigned *from, const unsigned *to, unsigned edges, unsigned k,
                           bool *in, unsigned *work)
{
    for (unsigned e = 0; e < edges; e++) {
        if (e != k && to[e] == to[k])
            return false;
    }
    for (unsigned e = 0; e < edges; e++) {
        if (to[e] == to[k])
            continue;
        natural_loop(g, pred_start, pred, to[e], from[e], in, work);
        if (in[to[k]])
            return false;
    }
    return natural_loop(g, pred_start, pred, to[k], from[k], in, work);
}

double mewe__loop_costliest(LLVMValueRef fn)
{
    cfg g;
    double loop = cfg_build(&g, fn) ? costliest_loop(&g) : 0.0;
    cfg_free(&g);
    return loop;
}

/* A function's back edges and what finding their natural loops needs. */
typedef struct loops {
    cfg g;
    unsigned edges, *from, *to;  /* back edge k: from[k] -> to[k] */
    unsigned *pred_start, *pred; /* predecessors by index, like cfg's successors */
    unsigned *work;
    bool *in; /* the blocks of the loop natural_loop marked last */
} loops;

static void loops_free(loops *l)
{
    free(l->from);
    free(l->to);
    free(l->pred_start);
    free(l->pred);
    free(l->work);
    free(l->in);
    cfg_free(&l->g);
}

/* False when out of memory, or when fn has no loops or too many to search: each loop's
 * blocks are searched for every other loop, so a function with very many is left as it is. */
static bool loops_find(loops *l, LLVMValueRef fn)
{
    *l = (loops){0};
    if (!cfg_build(&l->g, fn) || !l->g.n)
        return false;
    unsigned n = l->g.n, m = l->g.succ_start[n];
    l->from = malloc((m ? m : 1) * sizeof *l->from);
    l->to = malloc((m ? m : 1) * sizeof *l->to);
    l->edges = l->from && l->to ? back_edges(&l->g, l->from, l->to) : 0;
    if (l->edges == 0 || l->edges > 256)
        return false;
    l->pred_start = calloc(n + 1, sizeof *l->pred_start);
    l->pred = malloc((m ? m : 1) * sizeof *l->pred);
    unsigned *fill = calloc(n + 1, sizeof *fill);
    l->work = malloc(n * sizeof *l->work);
    l->in = malloc(n * sizeof *l->in);
    if (!l->pred_start || !l->pred || !fill || !l->work || !l->in) {
        free(fill);
        return false;
    }
    for (unsigned e = 0; e < m; e++)
        l->pred_start[l->g.succ[e] + 1]++;
    for (unsigned b = 0; b < n; b++)
        l->pred_start[b + 1] += l->pred_start[b];
    for (unsigned b = 0; b < n; b++) {
        for (unsigned e = l->g.succ_start[b]; e < l->g.succ_start[b + 1]; e++) {
            unsigned s = l->g.succ[e];
            l->pred[l->pred_start[s] + fill[s]++] = b;
        }
    }
    free(fill);
    return true;
}

bool mewe__loop_heaviest(LLVMValueRef fn, double min_cycles, LLVMBasicBlockRef *header,
                         LLVMBasicBlockRef *latch, double *cycles)
{
    loops l;
    bool found = false;
    double best = 0.0;
    bool any = loops_find(&l, fn);
    for (unsigned k = 0; any && k < l.edges; k++) {
        double round = cheapest(&l.g, l.to[k], l.from[k]);
        if (isinf(round) || round < min_cycles || round <= best ||
            !top_level_loop(&l.g, l.pred_start, l.pred, l.from, l.to, l.edges, k, l.in, l.work))
            continue;
        best = round;
        *header = l.g.bbs[l.to[k]];
        *latch = l.g.bbs[l.from[k]];
        *cycles = round;
        found = true;
    }
    loops_free(&l);
    return found;
}

/* Whether back edge k is the only one into its header, its loop is natural and contains
 * no other loop's header (an innermost loop); its blocks are then marked in l->in. */
static bool innermost_loop(loops *l, unsigned k)
{
    for (unsigned e = 0; e < l->edges; e++) {
        if (e != k && l->to[e] == l->to[k])
            return false;
    }
    if (!natural_loop(&l->g, l->pred_start, l->pred, l->to[k], l->from[k], l->in, l->work))
        return false;
    for (unsigned e = 0; e < l->edges; e++) {
        if (l->to[e] != l->to[k] && l->in[l->to[e]])
            return false;
    }
    return true;
}

static bool named_with(LLVMBasicBlockRef bb, const char *prefix)
{
    size_t len = strlen(prefix);
    const char *name = LLVMGetBasicBlockName(bb);
    return name && strncmp(name, prefix, len) == 0;
}

static bool calls_something(LLVMBasicBlockRef bb)
{
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (LLVMIsACallInst(i) || LLVMIsAInvokeInst(i)) {
            LLVMValueRef callee = LLVMGetCalledValue(i);
            if (!(callee && LLVMIsAFunction(callee) && LLVMGetIntrinsicID(callee)))
                return true;
        }
    }
    return false;
}

/* Whether block b of the marked loop leaves it on a test against a constant (a loop of a
 * fixed count), or does not leave it at all. */
static bool exit_is_fixed(const loops *l, unsigned b)
{
    LLVMValueRef term = LLVMGetBasicBlockTerminator(l->g.bbs[b]);
    bool leaves = false;
    for (unsigned e = l->g.succ_start[b]; e < l->g.succ_start[b + 1]; e++)
        leaves |= !l->in[l->g.succ[e]];
    if (!leaves)
        return true;
    if (!term || LLVMGetInstructionOpcode(term) != LLVMBr || !LLVMIsConditional(term))
        return false;
    LLVMValueRef cond = LLVMGetCondition(term);
    return LLVMIsAICmpInst(cond) && (LLVMIsAConstantInt(LLVMGetOperand(cond, 0)) ||
                                     LLVMIsAConstantInt(LLVMGetOperand(cond, 1)));
}

/* Whether the marked loop may run long with no choice made: it calls nothing (a callee
 * that is diversified chooses on its own; one that is not, a library function, is work of
 * its own) and some exit does not test against a constant (a loop over the input's length,
 * not a fixed count). */
static bool may_run_long(const loops *l)
{
    bool fixed = true;
    for (unsigned b = 0; b < l->g.n; b++) {
        if (!l->in[b])
            continue;
        if (calls_something(l->g.bbs[b]))
            return false;
        fixed &= exit_is_fixed(l, b);
    }
    return !fixed;
}

bool mewe__loop_light(LLVMValueRef fn, const mewe__light_loop_limits *lim, mewe__light_loop *out)
{
    loops l;
    bool found = false;
    double best = 0.0;
    bool any = loops_find(&l, fn);
    for (unsigned k = 0; any && k < l.edges; k++) {
        double round = cheapest(&l.g, l.to[k], l.from[k]);
        if (isinf(round) || round < lim->min_cycles || round >= lim->max_cycles || round <= best ||
            named_with(l.g.bbs[l.to[k]], lim->skip_prefix) || !innermost_loop(&l, k) ||
            !may_run_long(&l))
            continue;
        unsigned size = 0, blocks = 0;
        for (unsigned b = 0; b < l.g.n; b++) {
            if (!l.in[b])
                continue;
            blocks++;
            for (LLVMValueRef i = LLVMGetFirstInstruction(l.g.bbs[b]); i;
                 i = LLVMGetNextInstruction(i))
                size++;
        }
        if (size > lim->max_instructions)
            continue;
        LLVMBasicBlockRef *bbs = malloc(blocks * sizeof *bbs);
        if (!bbs)
            break;
        for (unsigned b = 0, j = 0; b < l.g.n; b++) {
            if (l.in[b])
                bbs[j++] = l.g.bbs[b];
        }
        free(out->blocks);
        *out = (mewe__light_loop){.header = l.g.bbs[l.to[k]],
                                  .latch = l.g.bbs[l.from[k]],
                                  .cycles = round,
                                  .blocks = bbs,
                                  .count = blocks};
        best = round;
        found = true;
    }
    loops_free(&l);
    return found;
}

unsigned *mewe__loop_depths(LLVMValueRef fn)
{
    unsigned n = LLVMCountBasicBlocks(fn);
    unsigned *depth = calloc(n ? n : 1, sizeof *depth);
    bool *loop = malloc((n ? n : 1) * sizeof *loop);
    loops l;
    if (depth && loop && loops_find(&l, fn)) {
        /* The loop of a header is the union of its back edges' natural loops. */
        for (unsigned k = 0; k < l.edges; k++) {
            bool seen = false;
            for (unsigned e = 0; e < k && !seen; e++)
                seen = l.to[e] == l.to[k];
            if (seen)
                continue;
            memset(loop, 0, n * sizeof *loop);
            for (unsigned e = k; e < l.edges; e++) {
                if (l.to[e] != l.to[k])
                    continue;
                natural_loop(&l.g, l.pred_start, l.pred, l.to[e], l.from[e], l.in, l.work);
                for (unsigned b = 0; b < n; b++)
                    loop[b] |= l.in[b];
            }
            for (unsigned b = 0; b < n; b++)
                depth[b] += loop[b];
        }
    }
    if (depth && loop)
        loops_free(&l);
    free(loop);
    return depth;
}

/* What an instruction costs each time it runs, as variants are compared: a freeze emits
 * nothing and an unconditional branch becomes a fall-through once code generation lays
 * out the blocks (what block splitting adds). */
static double run_cost(LLVMValueRef inst)
{
    switch (LLVMGetInstructionOpcode(inst)) {
    case LLVMFreeze: return 0.0;
    case LLVMBr: return LLVMIsConditional(inst) ? COST_INSTRUCTION : 0.0;
    default: return instruction_cost(inst);
    }
}

double mewe__function_weighted_cost(LLVMValueRef fn)
{
    unsigned *depth = mewe__loop_depths(fn);
    double c = 0.0;
    unsigned b = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        unsigned d = depth ? depth[b++] : 0;
        double weight = pow(LOOP_TRIPS, d < WEIGHT_DEPTH_MAX ? d : WEIGHT_DEPTH_MAX);
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            c += weight * run_cost(i);
    }
    free(depth);
    return c;
}

bool mewe__cheap_affordable(LLVMValueRef original, LLVMValueRef variant)
{
    double base = mewe__function_weighted_cost(original);
    double extra = mewe__function_weighted_cost(variant) - base;
    /* A few cycles per call are allowed anyway: out of loops, the few rewrites a cheap
     * diversifier makes cost about what a kept choice's counter costs. */
    return extra <= MEWE__CHEAP_SHARE * (base + COST_CALL) || extra <= COST_COUNTER;
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

const char *mewe__plan_policy_name(const mewe__plan *p)
{
    return p->epoch ? "epoch" : mewe__granularity_name(p->policy);
}

unsigned mewe__epoch_length(size_t kept)
{
    double n = ceil((double)kept * COST_FORGET / COST_DRAW);
    return n < 1.0 ? 1u : n > 1e6 ? 1000000u : (unsigned)n;
}

static bool calls_itself(LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (LLVMIsACallInst(i) && LLVMGetCalledValue(i) == fn)
                return true;
        }
    }
    return false;
}

bool mewe__plan_clock_fits(mewe__plan *p, LLVMValueRef original, const mewe__link_settings *s)
{
    if (!p->epoch)
        return false;
    /* A recursive function can run for long with nothing else called in between: only a
     * counter of its own re-randomizes it there. */
    if (calls_itself(original)) {
        p->why = WHY_RECURSIVE;
        p->period = MEWE__PERIOD_MAX;
        return true;
    }
    /* The cheapest path says little about a large function (an early return is enough to
     * make it short) or one with a loop: a quarter of all its code, or its cheapest path
     * with its costliest loop taken LOOP_TRIPS times, is the guess for a typical call. */
    double loop = mewe__loop_costliest(original);
    double typical = mewe__function_code_cost(original) / 4.0;
    if (p->body + (LOOP_TRIPS - 1) * loop > typical)
        typical = p->body + (LOOP_TRIPS - 1) * loop;
    /* The longest period: a clock needs only to tick now and then (the ramp makes it tick
     * often early in a run), and a guessed loop may run once. */
    if (COST_COUNTER - COST_CACHED + COST_REDRAW / MEWE__PERIOD_MAX >
        (s->max_overhead - 1.0) * typical)
        return false;
    p->why = loop > 0.0 ? WHY_LOOP : WHY_CLOCK;
    p->period = MEWE__PERIOD_MAX;
    return true;
}

void mewe__plan_make_clock(mewe__plan *p, bool only)
{
    p->policy = MEWE_GRANULARITY_EVERY;
    p->epoch = false;
    if (only || !p->period)
        p->period = MEWE__PERIOD_MAX;
    p->added = (p->inlined ? 0.0 : COST_CALL) + COST_COUNTER + COST_REDRAW / p->period;
    if (only)
        p->why = WHY_CLOCK_ONLY;
}

static void plan_forced(mewe__plan *p, const mewe__link_settings *s)
{
    double extra = p->inlined ? 0.0 : COST_CALL;
    p->policy = s->granularity;
    p->why = WHY_FORCED;
    switch (s->granularity) {
    case MEWE_GRANULARITY_EVERY:
        p->period = s->period;
        p->added = extra + COST_COUNTER + COST_REDRAW / s->period;
        break;
    case MEWE_GRANULARITY_CALL: p->added = extra + COST_DRAW; break;
    default: p->added = extra + COST_CACHED; break;
    }
}

/* One call's cost: its cheapest path, or what the function says a typical call costs. */
static double typical_cost(LLVMValueRef fn)
{
    double c = mewe__function_cost(fn);
    LLVMAttributeRef a =
        LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, MEWE__ATTR_TYPICAL_CYCLES,
                                      (unsigned)strlen(MEWE__ATTR_TYPICAL_CYCLES));
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    char buf[32];
    if (v && len > 0 && len < sizeof buf) {
        memcpy(buf, v, len);
        buf[len] = '\0';
        double typical = strtod(buf, NULL);
        if (typical > c)
            c = typical;
    }
    return c;
}

void mewe__plan_dispatcher(mewe__plan *out, LLVMValueRef const *bodies, size_t variants,
                           bool inlinable, const mewe__link_settings *s)
{
    LLVMValueRef original = bodies[0];
    mewe__plan p = {.variants = variants, .calls = -1.0};
    unsigned size = mewe__function_instruction_count(original);
    p.inlined = inlinable && s->dispatch == MEWE_DISPATCH_SWITCH && size <= s->inline_limit;
    p.body = typical_cost(original) + COST_CALL;
    /* The variants run as often as the original: what they cost more on average is spent
     * before the dispatch gets its share. Compared over their whole code, not the cheapest
     * path, which an early return can make much shorter than the usual one. */
    double code = mewe__function_code_cost(original), sum = 0.0;
    for (size_t k = 1; k < variants; k++) {
        /* A variant that only free diversifiers made runs at the original's speed, whatever
         * its instruction count says (split blocks become fall-throughs, swapped operands
         * cost the same); one made in wasm, at its source's. */
        LLVMValueRef source = mewe__derived_source(bodies[k]);
        LLVMValueRef body = source ? source : bodies[k];
        if (!free_variant(body) && body != original)
            sum += mewe__function_code_cost(body) - code;
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
    /* An engine compiles each variant that runs, and warms each up on its own (a tier-up
     * counts one function's calls, a branch predictor learns one copy's branches): a large
     * function whose variants take turns pays for that once per variant and turn, which no
     * estimate per call sees, and most in a short run. Each run a node process of its own:
     * QuickJS on a short script (JS_CallInternal, 10,091 instructions) 1.79 times the
     * original's time with a choice every 1,024 calls, 1.54 with one per epoch, 1.05 with
     * one per instance; Duktape 1.60 -> 1.22 from 2,000 instructions, 1.14 from 1,000 (its
     * property lookups, 1,100 to 1,250 instructions, are its hottest functions). The choice
     * is kept for the instance (on the edge, typically one request). Not a part of a
     * function (an outlined loop body or chunk): it exists to be chosen per iteration, and
     * its loop warms it up. */
    unsigned part_len;
    bool part = mewe__fn_string_attr_get(original, MEWE__ATTR_PART_OF, &part_len) != NULL;
    if (size >= MEWE__ENGINE_LARGE && !part && !isinf(s->max_overhead)) {
        p.policy = MEWE_GRANULARITY_INSTANCE;
        p.period = 0;
        p.added = extra + COST_CACHED;
        p.why = WHY_LARGE;
        *out = p;
        return;
    }
    double allowed = (s->max_overhead - 1.0 - p.variant_extra) * p.body;
    if (isinf(s->max_overhead) || extra + COST_FRESH <= allowed) {
        p.policy = MEWE_GRANULARITY_CALL;
        p.added = extra + COST_FRESH;
        p.why = isinf(s->max_overhead) ? WHY_UNLIMITED : WHY_CALL_FITS;
        *out = p;
        return;
    }
    for (p.period = 2; p.period <= MEWE__PERIOD_MAX; p.period *= 2) {
        if (extra + COST_COUNTER + COST_REDRAW / p.period <= allowed) {
            p.policy = MEWE_GRANULARITY_EVERY;
            p.added = extra + COST_COUNTER + COST_REDRAW / p.period;
            p.why = WHY_EVERY_FITS;
            *out = p;
            return;
        }
    }
    p.policy = MEWE_GRANULARITY_INSTANCE;
    p.epoch = true;
    p.period = 0;
    p.added = extra + COST_CACHED;
    p.why = WHY_OVER;
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
    return (p->inlined ? 0.0 : COST_CALL) + COST_FRESH;
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
        if (plans[i].policy == MEWE_GRANULARITY_EVERY || plans[i].epoch)
            ups[m++] = (upgrade){i, plans[i].calls * (per_call_cost(&plans[i]) - plans[i].added)};
    }
    if (ups)
        qsort(ups, m, sizeof *ups, by_extra);
    double budget = (s->max_overhead - 1.0) * run_cycles;
    for (size_t k = 0; k < m && (ups[k].extra <= 0 || est->added + ups[k].extra <= budget); k++) {
        mewe__plan *p = &plans[ups[k].plan];
        est->added += ups[k].extra;
        p->policy = MEWE_GRANULARITY_CALL;
        p->epoch = false;
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
    snprintf(buf, size, "%s %u %s %zu %.2f %.2f %u %.0f %.4f", mewe__plan_policy_name(p), p->period,
             p->inlined ? "inline" : "call", p->variants, p->body, p->added, p->why, p->calls,
             p->variant_extra);
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
    if (strcmp(policy, "epoch") == 0) {
        p.policy = MEWE_GRANULARITY_INSTANCE;
        p.epoch = known = true;
    }
    p.inlined = strcmp(layout, "inline") == 0;
    if (!known || (!p.inlined && strcmp(layout, "call") != 0))
        return false;
    *out = p;
    return true;
}
