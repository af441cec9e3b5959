/* Loop bodies as functions of their own: see outline.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "internal.h"
#include "ir/cost.h"
#include "ir/irutil.h"
#include "ir/outline.h"
#include "ir/ptrmap.h"

/* The flag the never-taken back edge tests. */
#define NEVER_FLAG "mewe.loop.never"

static LLVMValueRef never_flag(LLVMModuleRef m)
{
    LLVMValueRef g = LLVMGetNamedGlobal(m, NEVER_FLAG);
    if (g)
        return g;
    LLVMTypeRef i8 = LLVMInt8TypeInContext(LLVMGetModuleContext(m));
    g = LLVMAddGlobal(m, i8, NEVER_FLAG);
    LLVMSetInitializer(g, LLVMConstInt(i8, 0, false));
    LLVMSetLinkage(g, LLVMInternalLinkage);
    return g;
}

/* Makes the blocks of the loop after its header's phis a loop of their own: the header is
 * split after its phis into h (phis) and b0 (the rest), and the latch's edge to h now goes
 * through a new block that branches back to b0 when the flag is set (never) and on to h
 * otherwise. Returns the flag's load. */
static LLVMValueRef nest_body(LLVMBuilderRef b, LLVMValueRef fn, LLVMBasicBlockRef h,
                              LLVMBasicBlockRef latch)
{
    LLVMValueRef at = LLVMGetFirstInstruction(h);
    while (at && LLVMIsAPHINode(at))
        at = LLVMGetNextInstruction(at);
    LLVMBasicBlockRef b0 = mewe__block_split(b, h, at);
    if (latch == h) /* a one-block loop: its back edge now leaves b0 */
        latch = b0;
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMBasicBlockRef fake = LLVMAppendBasicBlockInContext(c, fn, "mewe.loop.latch");
    LLVMPositionBuilderAtEnd(b, fake);
    LLVMTypeRef i8 = LLVMInt8TypeInContext(c);
    LLVMValueRef load = LLVMBuildLoad2(b, i8, never_flag(LLVMGetGlobalParent(fn)), "");
    LLVMSetVolatile(load, true);
    LLVMValueRef set = LLVMBuildICmp(b, LLVMIntNE, load, LLVMConstInt(i8, 0, false), "");
    LLVMBuildCondBr(b, set, b0, h);
    LLVMValueRef term = LLVMGetBasicBlockTerminator(latch);
    for (unsigned s = 0, n = LLVMGetNumSuccessors(term); s < n; s++) {
        if (LLVMGetSuccessor(term, s) == h)
            LLVMSetSuccessor(term, s, fake);
    }
    for (LLVMValueRef i = LLVMGetFirstInstruction(h); i && LLVMIsAPHINode(i);) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        mewe__phi_retarget(b, i, latch, fake);
        i = next;
    }
    return load;
}

/* Replaces the never-taken branch by a plain branch to where it goes, wherever it is now;
 * the block it no longer enters loses its phis' entries for it, and the flag goes once
 * nothing tests it. */
static void unnest(LLVMBuilderRef b, LLVMValueRef load)
{
    LLVMBasicBlockRef fake = LLVMGetInstructionParent(load);
    LLVMModuleRef m = LLVMGetGlobalParent(LLVMGetBasicBlockParent(fake));
    LLVMValueRef term = LLVMGetBasicBlockTerminator(fake);
    LLVMValueRef set = LLVMGetCondition(term);
    LLVMBasicBlockRef back = LLVMGetSuccessor(term, 0), on = LLVMGetSuccessor(term, 1);
    for (LLVMValueRef i = LLVMGetFirstInstruction(back); i && LLVMIsAPHINode(i);) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        mewe__phi_retarget(b, i, fake, NULL);
        i = next;
    }
    LLVMPositionBuilderBefore(b, term);
    LLVMBuildBr(b, on);
    LLVMInstructionEraseFromParent(term);
    LLVMInstructionEraseFromParent(set);
    LLVMInstructionEraseFromParent(load);
    LLVMValueRef flag = LLVMGetNamedGlobal(m, NEVER_FLAG);
    if (flag && !LLVMGetFirstUse(flag))
        LLVMDeleteGlobal(flag);
}

/* How many of block from's terminator's successors are `to` (a switch may list it twice:
 * then the never-taken edge could not stand for them with one phi entry). */
static unsigned edges_between(LLVMBasicBlockRef from, LLVMBasicBlockRef to)
{
    LLVMValueRef term = LLVMGetBasicBlockTerminator(from);
    unsigned n = 0;
    for (unsigned s = 0, ns = term ? LLVMGetNumSuccessors(term) : 0; s < ns; s++)
        n += LLVMGetSuccessor(term, s) == to;
    return n;
}

static bool takes_labels(LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
            if (LLVMGetValueKind(LLVMGetUser(u)) == LLVMBlockAddressValueKind)
                return true;
        }
    }
    return false;
}

static int remember_functions(LLVMModuleRef m, mewe__ptrmap *known)
{
    size_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        n++;
    if (mewe__ptrmap_init(known, n) != 0)
        return -1;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (mewe__ptrmap_put(known, f, f) != 0)
            return -1;
    }
    return 0;
}

/* Inlines back every function the extraction made but the body: loop-extract outlines the
 * original loop (and any other top-level loop of fn) on its way to the body, and such a
 * function would be plumbing of no use, one call more per run of the loop and a function
 * whose variants all compile alike. LLVM's always-inliner does it, in one run on fn and
 * those functions (it looks at every function of the module: one run, not one each);
 * what it cannot inline stays, as plumbing. The values they passed through stack slots
 * (CodeExtractor stores an output where it is defined, in a loop at every iteration) are
 * then put back in registers. */
static int inline_wrappers(mewe__fence *fence, LLVMValueRef fn, const mewe__ptrmap *known,
                           LLVMValueRef body, char **msg)
{
    LLVMModuleRef m = LLVMGetGlobalParent(fn);
    size_t n = 1;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        n++;
    LLVMValueRef *set = malloc(n * sizeof *set);
    char **names = calloc(n, sizeof *names);
    int rc = set && names ? 0 : -1;
    size_t k = 0;
    if (rc == 0)
        set[k++] = fn;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); rc == 0 && f; f = LLVMGetNextFunction(f)) {
        if (f == body || LLVMIsDeclaration(f) || mewe__ptrmap_get(known, f))
            continue;
        size_t len;
        const char *own = LLVMGetValueName2(f, &len);
        names[k] = mewe__printf("%.*s", (int)len, own);
        if (!names[k])
            rc = -1;
        mewe__fn_enum_attr_set(f, "noinline", false);
        mewe__fn_enum_attr_set(f, "optnone", false);
        mewe__fn_enum_attr_set(f, "alwaysinline", true);
        set[k++] = f;
    }
    if (rc == 0 && k > 1)
        rc = mewe__run_passes_in(fence, set, k, "always-inline", msg);
    /* The inliner may have deleted them: looked up again by name. */
    for (size_t i = 1; names && i < k; i++) {
        LLVMValueRef left = names[i] ? LLVMGetNamedFunction(m, names[i]) : NULL;
        free(names[i]);
        if (!left)
            continue;
        if (!LLVMGetFirstUse(left))
            LLVMDeleteFunction(left);
        else
            mewe__fn_enum_attr_set(left, "alwaysinline", false);
    }
    free(set);
    free(names);
    if (rc == 0)
        rc = mewe__run_passes_in(fence, &fn, 1, "function(mem2reg)", msg);
    return rc;
}

/* Names and marks the functions the extraction made: `body` "<fn>.<suffix>", any other
 * "<fn>.loop". */
static int name_new_functions(LLVMValueRef fn, const mewe__ptrmap *known, LLVMValueRef body,
                              const char *suffix)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    char *own = mewe__printf("%.*s", (int)len, name);
    char *loop = mewe__printf("%s.loop", own ? own : "");
    char *inner = mewe__printf("%s.%s", own ? own : "", suffix);
    int rc = own && loop && inner ? 0 : -1;
    for (LLVMValueRef f = LLVMGetFirstFunction(LLVMGetGlobalParent(fn)); rc == 0 && f;
         f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f) || mewe__ptrmap_get(known, f))
            continue;
        const char *to = f == body ? inner : loop;
        LLVMSetValueName2(f, to, strlen(to)); /* LLVM makes it unique */
        mewe__fn_string_attr_set(f, MEWE__ATTR_PART_OF, own);
    }
    free(own);
    free(loop);
    free(inner);
    return rc;
}

int mewe__loop_body_outline(mewe__fence *fence, LLVMValueRef fn, double min_cycles,
                            LLVMValueRef *body, char **msg)
{
    *body = NULL;
    *msg = NULL;
    /* Most functions have no such loop: they are not touched at all. Nor are those that
     * take their blocks' addresses (CodeExtractor keeps such blocks where they are). */
    if (mewe__loop_costliest(fn) < min_cycles || takes_labels(fn))
        return 0;
    int rc = mewe__run_passes_in(fence, &fn, 1, "function(loop-simplify)", msg);
    LLVMBasicBlockRef h, latch;
    double cycles;
    if (rc != 0 || !mewe__loop_heaviest(fn, min_cycles, &h, &latch, &cycles) ||
        edges_between(latch, h) != 1)
        return rc;
    mewe__ptrmap known = {0};
    if (remember_functions(LLVMGetGlobalParent(fn), &known) != 0) {
        mewe__ptrmap_fini(&known);
        return -1;
    }
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    LLVMValueRef load = nest_body(b, fn, h, latch);
    /* loop-extract outlines the top-level loops of a function, or, when the function does
     * nothing but run its one loop, that loop's subloops: the original loop first, then the
     * body inside what was outlined. */
    for (int run = 0; rc == 0 && run < 2; run++) {
        LLVMValueRef holder = LLVMGetBasicBlockParent(LLVMGetInstructionParent(load));
        if (holder != LLVMGetBasicBlockParent(h))
            break;
        rc = mewe__run_passes_in(fence, &holder, 1, "function(loop-simplify),loop-extract", msg);
    }
    LLVMValueRef holder = LLVMGetBasicBlockParent(LLVMGetInstructionParent(load));
    if (holder != LLVMGetBasicBlockParent(h))
        *body = holder;
    unnest(b, load);
    LLVMDisposeBuilder(b);
    if (rc == 0)
        rc = inline_wrappers(fence, fn, &known, *body, msg);
    if (rc == 0 && name_new_functions(fn, &known, *body, "loop.body") != 0)
        rc = -1;
    mewe__ptrmap_fini(&known);
    if (rc == 0 && mewe__fence_add_new(fence) != 0)
        rc = -1;
    /* The surgery above is ours, not LLVM's: checked before anything builds on it. */
    if (rc == 0 && (LLVMVerifyFunction(fn, LLVMReturnStatusAction) ||
                    (*body && LLVMVerifyFunction(*body, LLVMReturnStatusAction)))) {
        *msg = LLVMCreateMessage("the function with its loop body outlined fails verification");
        rc = 2;
    }
    return rc;
}

/* ------------------------------------------------------------------ chunks of light loops */

/* Names of the blocks chunking makes in fn: a loop whose header is so named is chunked
 * already (the inline copy and the loop of chunk calls). */
#define CHUNKED                "mewe.chunked"
/* Iterations cheaper than this are not chunked: the counter would cost too much of them. */
#define CHUNK_MIN_CYCLES       10.0
/* Loops larger than this are not chunked: their code would be there twice. */
#define CHUNK_MAX_INSTRUCTIONS 400u

/* A loop and the copy of it that runs in chunks. */
typedef struct chunking {
    LLVMBuilderRef b;
    LLVMContextRef c;
    LLVMValueRef fn;
    mewe__light_loop loop;
    LLVMBasicBlockRef preheader, count; /* count: the counter's block, the loop's latch now */
    LLVMBasicBlockRef outer;            /* the loop of chunk calls: its header */
    LLVMValueRef counter;               /* the header's phi counting iterations */
    mewe__ptrmap in;                    /* the loop's blocks, count included */
    mewe__ptrmap map;                   /* loop value or block (as a value) -> its copy */
    mewe__ptrmap copies;                /* the copied blocks */
    LLVMValueRef never;                 /* the copy's never-taken edge: its flag's load */
} chunking;

static LLVMValueRef mapped(const chunking *k, LLVMValueRef v)
{
    LLVMValueRef to = mewe__ptrmap_get(&k->map, v);
    return to ? to : v;
}

static LLVMBasicBlockRef mapped_block(const chunking *k, LLVMBasicBlockRef bb)
{
    return LLVMValueAsBasicBlock(mapped(k, LLVMBasicBlockAsValue(bb)));
}

/* Whether CodeExtractor could take the loop, as far as we can tell before changing fn:
 * no exception handling, no indirect branches, no va_start. */
static bool extractable(const mewe__light_loop *l)
{
    for (unsigned i = 0; i < l->count; i++) {
        for (LLVMValueRef in = LLVMGetFirstInstruction(l->blocks[i]); in;
             in = LLVMGetNextInstruction(in)) {
            switch (LLVMGetInstructionOpcode(in)) {
            case LLVMInvoke:
            case LLVMCallBr:
            case LLVMIndirectBr:
            case LLVMLandingPad:
            case LLVMCatchPad:
            case LLVMCleanupPad:
            case LLVMCatchSwitch:
            case LLVMResume:
            case LLVMVAArg: return false;
            case LLVMCall: {
                LLVMValueRef callee = LLVMGetCalledValue(in);
                size_t len = 0;
                const char *name =
                    callee && LLVMIsAFunction(callee) ? LLVMGetValueName2(callee, &len) : "";
                if (len >= 13 && strncmp(name, "llvm.va_start", 13) == 0)
                    return false;
                break;
            }
            default: break;
            }
        }
    }
    return true;
}

static LLVMBasicBlockRef outside_pred(const chunking *k, LLVMBasicBlockRef h)
{
    LLVMBasicBlockRef found = NULL;
    for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(h)); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsATerminatorInst(user))
            continue;
        LLVMBasicBlockRef from = LLVMGetInstructionParent(user);
        if (mewe__ptrmap_get(&k->in, from))
            continue;
        if (found && found != from)
            return NULL;
        found = from;
    }
    return found;
}

/* Counts the loop's iterations: the latch's edge to the header now goes through a block
 * that goes on to the header while fewer than `per_chunk` iterations ran, to k->outer
 * otherwise. */
static void add_counter(chunking *k, unsigned per_chunk)
{
    LLVMBasicBlockRef h = k->loop.header, latch = k->loop.latch;
    LLVMTypeRef i32 = LLVMInt32TypeInContext(k->c);
    k->outer = LLVMAppendBasicBlockInContext(k->c, k->fn, CHUNKED ".outer");
    k->count = LLVMAppendBasicBlockInContext(k->c, k->fn, CHUNKED ".count");
    LLVMValueRef term = LLVMGetBasicBlockTerminator(latch);
    for (unsigned s = 0, n = LLVMGetNumSuccessors(term); s < n; s++) {
        if (LLVMGetSuccessor(term, s) == h)
            LLVMSetSuccessor(term, s, k->count);
    }
    for (LLVMValueRef i = LLVMGetFirstInstruction(h); i && LLVMIsAPHINode(i);) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        mewe__phi_retarget(k->b, i, latch, k->count);
        i = next;
    }
    LLVMPositionBuilderBefore(k->b, LLVMGetFirstInstruction(h));
    LLVMValueRef n = LLVMBuildPhi(k->b, i32, CHUNKED ".n");
    k->counter = n;
    LLVMPositionBuilderAtEnd(k->b, k->count);
    LLVMValueRef next = LLVMBuildNUWAdd(k->b, n, LLVMConstInt(i32, 1, false), "");
    LLVMValueRef more =
        LLVMBuildICmp(k->b, LLVMIntULT, next, LLVMConstInt(i32, per_chunk, false), "");
    LLVMBuildCondBr(k->b, more, h, k->outer);
    LLVMValueRef zero = LLVMConstInt(i32, 0, false);
    LLVMAddIncoming(n, &zero, &k->preheader, 1);
    LLVMAddIncoming(n, &next, &k->count, 1);
    LLVMSetValueName2(LLVMBasicBlockAsValue(h), CHUNKED, strlen(CHUNKED));
}

static bool is_debug_intrinsic(LLVMValueRef in)
{
    if (!LLVMIsACallInst(in))
        return false;
    LLVMValueRef callee = LLVMGetCalledValue(in);
    size_t len = 0;
    const char *name = callee && LLVMIsAFunction(callee) ? LLVMGetValueName2(callee, &len) : "";
    return len > 9 && strncmp(name, "llvm.dbg.", 9) == 0;
}

/* Copies every block of the loop (the counter's too) and its instructions; the copies'
 * operands still name the originals. Phis are made empty, filled by fill_phis. */
static int copy_blocks(chunking *k, LLVMBasicBlockRef *bbs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        LLVMBasicBlockRef to = LLVMAppendBasicBlockInContext(k->c, k->fn, "mewe.chunk");
        if (mewe__ptrmap_put(&k->map, LLVMBasicBlockAsValue(bbs[i]), LLVMBasicBlockAsValue(to)) ||
            mewe__ptrmap_put(&k->copies, to, to))
            return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        LLVMPositionBuilderAtEnd(k->b, mapped_block(k, bbs[i]));
        for (LLVMValueRef in = LLVMGetFirstInstruction(bbs[i]); in;
             in = LLVMGetNextInstruction(in)) {
            if (is_debug_intrinsic(in))
                continue;
            LLVMValueRef copy;
            if (LLVMIsAPHINode(in)) {
                copy = LLVMBuildPhi(k->b, LLVMTypeOf(in), "");
            } else {
                copy = LLVMInstructionClone(in);
                LLVMInsertIntoBuilder(k->b, copy);
            }
            if (mewe__ptrmap_put(&k->map, in, copy) != 0)
                return -1;
        }
    }
    return 0;
}

/* Points the copies' operands at the copies, phis included; the copy of the header is
 * entered from k->outer, with the state the loop of chunk calls carries in its own phis. */
static void wire_copies(chunking *k, LLVMBasicBlockRef *bbs, unsigned n)
{
    LLVMBasicBlockRef h = k->loop.header;
    for (unsigned i = 0; i < n; i++) {
        for (LLVMValueRef in = LLVMGetFirstInstruction(bbs[i]); in;
             in = LLVMGetNextInstruction(in)) {
            LLVMValueRef copy = mewe__ptrmap_get(&k->map, in);
            if (!copy)
                continue;
            if (!LLVMIsAPHINode(in)) {
                for (int o = 0, no = LLVMGetNumOperands(in); o < no; o++)
                    LLVMSetOperand(copy, (unsigned)o, mapped(k, LLVMGetOperand(in, o)));
                continue;
            }
            for (unsigned e = 0, ne = LLVMCountIncoming(in); e < ne; e++) {
                LLVMValueRef v = LLVMGetIncomingValue(in, e);
                LLVMBasicBlockRef from = LLVMGetIncomingBlock(in, e);
                if (in == k->counter && from == k->preheader) {
                    v = LLVMConstNull(LLVMTypeOf(in)); /* each chunk counts from 0 */
                    from = k->outer;
                } else if (bbs[i] == h && from == k->preheader) {
                    /* The state from the chunk before: the value the loop had when its
                     * counter sent it to k->outer, or the copy's at the end of a chunk. */
                    LLVMPositionBuilderAtEnd(k->b, k->outer);
                    LLVMValueRef carried = LLVMBuildPhi(k->b, LLVMTypeOf(in), "");
                    LLVMValueRef last = NULL;
                    for (unsigned j = 0; j < ne; j++) {
                        if (LLVMGetIncomingBlock(in, j) == k->count)
                            last = LLVMGetIncomingValue(in, j);
                    }
                    LLVMValueRef last_copy = mapped(k, last);
                    LLVMBasicBlockRef count_copy = mapped_block(k, k->count);
                    LLVMAddIncoming(carried, &last, &k->count, 1);
                    LLVMAddIncoming(carried, &last_copy, &count_copy, 1);
                    v = carried;
                    from = k->outer;
                } else {
                    v = mapped(k, v);
                    from = mapped_block(k, from);
                }
                LLVMAddIncoming(copy, &v, &from, 1);
            }
        }
    }
    LLVMPositionBuilderAtEnd(k->b, k->outer);
    LLVMBuildBr(k->b, mapped_block(k, h));
}

/* The loop's exits are entered from the copy's exiting blocks too: their phis (all uses of
 * the loop's values outside it are such phis, in LCSSA form) get the copies' values. */
static void join_exits(chunking *k, LLVMBasicBlockRef *bbs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef term = LLVMGetBasicBlockTerminator(bbs[i]);
        LLVMBasicBlockRef from = mapped_block(k, bbs[i]);
        for (unsigned s = 0, ns = LLVMGetNumSuccessors(term); s < ns; s++) {
            LLVMBasicBlockRef exit = LLVMGetSuccessor(term, s);
            bool seen = false;
            for (unsigned t = 0; t < s; t++)
                seen |= LLVMGetSuccessor(term, t) == exit;
            if (seen || exit == k->outer || mewe__ptrmap_get(&k->in, exit))
                continue;
            for (LLVMValueRef phi = LLVMGetFirstInstruction(exit); phi && LLVMIsAPHINode(phi);
                 phi = LLVMGetNextInstruction(phi)) {
                for (unsigned e = 0, ne = LLVMCountIncoming(phi); e < ne; e++) {
                    if (LLVMGetIncomingBlock(phi, e) != bbs[i])
                        continue;
                    LLVMValueRef v = mapped(k, LLVMGetIncomingValue(phi, e));
                    LLVMAddIncoming(phi, &v, &from, 1);
                }
            }
        }
    }
}

/* An edge out of the copy of the loop, now through a block of its own. */
typedef struct exit_edge {
    LLVMBasicBlockRef from, to, via;
    unsigned exit; /* index of `to` among the distinct exits */
} exit_edge;

static bool is_copy(const chunking *k, LLVMBasicBlockRef bb)
{
    return mewe__ptrmap_get(&k->copies, bb) != NULL;
}

/* Sends every edge out of the copy through one block inside it, `hub`, whose phis carry
 * what the exits need and which is part of the loop through a never-taken edge to the
 * copy's header: CodeExtractor stores a value the code after the loop needs right where it
 * is defined, so that a value of the loop's own would be stored at every iteration; the
 * hub's phis are stored once per chunk. After the hub, a switch goes on to the exit taken. */
static int route_exits(chunking *k, LLVMBasicBlockRef *bbs, unsigned n)
{
    unsigned cap = 0;
    for (unsigned i = 0; i < n; i++)
        cap += LLVMGetNumSuccessors(LLVMGetBasicBlockTerminator(bbs[i]));
    exit_edge *edges = malloc((cap ? cap : 1) * sizeof *edges);
    LLVMBasicBlockRef *exits = malloc((cap ? cap : 1) * sizeof *exits);
    if (!edges || !exits) {
        free(edges);
        free(exits);
        return -1;
    }
    unsigned ne = 0, nx = 0;
    for (unsigned i = 0; i < n; i++) {
        LLVMBasicBlockRef from = mapped_block(k, bbs[i]);
        LLVMValueRef term = LLVMGetBasicBlockTerminator(from);
        for (unsigned s = 0, ns = LLVMGetNumSuccessors(term); s < ns; s++) {
            LLVMBasicBlockRef to = LLVMGetSuccessor(term, s);
            if (is_copy(k, to))
                continue;
            unsigned e = 0;
            while (e < ne && !(edges[e].from == from && edges[e].to == to))
                e++;
            if (e == ne) {
                unsigned x = 0;
                while (x < nx && exits[x] != to)
                    x++;
                if (x == nx)
                    exits[nx++] = to;
                LLVMBasicBlockRef via =
                    LLVMAppendBasicBlockInContext(k->c, k->fn, "mewe.chunk.out");
                edges[ne++] = (exit_edge){from, to, via, x};
            }
            LLVMSetSuccessor(term, s, edges[e].via);
        }
    }
    LLVMBasicBlockRef hub = LLVMAppendBasicBlockInContext(k->c, k->fn, "mewe.chunk.hub");
    LLVMBasicBlockRef leave = LLVMAppendBasicBlockInContext(k->c, k->fn, "mewe.chunked.leave");
    for (unsigned e = 0; e < ne; e++) {
        LLVMPositionBuilderAtEnd(k->b, edges[e].via);
        LLVMBuildBr(k->b, hub);
    }
    LLVMTypeRef i32 = LLVMInt32TypeInContext(k->c);
    LLVMPositionBuilderAtEnd(k->b, hub);
    LLVMValueRef which = LLVMBuildPhi(k->b, i32, "");
    for (unsigned e = 0; e < ne; e++) {
        LLVMValueRef x = LLVMConstInt(i32, edges[e].exit, false);
        LLVMAddIncoming(which, &x, &edges[e].via, 1);
    }
    /* Each exit's phis: the copy's entries move to a phi of the hub, entered from `leave`. */
    for (unsigned x = 0; x < nx; x++) {
        for (LLVMValueRef phi = LLVMGetFirstInstruction(exits[x]); phi && LLVMIsAPHINode(phi);) {
            LLVMValueRef next = LLVMGetNextInstruction(phi);
            LLVMPositionBuilderAtEnd(k->b, hub);
            LLVMValueRef carry = LLVMBuildPhi(k->b, LLVMTypeOf(phi), "");
            for (unsigned e = 0; e < ne; e++) {
                LLVMValueRef v = LLVMGetPoison(LLVMTypeOf(phi));
                for (unsigned j = 0, nj = LLVMCountIncoming(phi); edges[e].exit == x && j < nj;
                     j++) {
                    if (LLVMGetIncomingBlock(phi, j) == edges[e].from)
                        v = LLVMGetIncomingValue(phi, j);
                }
                LLVMAddIncoming(carry, &v, &edges[e].via, 1);
            }
            LLVMPositionBuilderBefore(k->b, phi);
            LLVMValueRef fresh = LLVMBuildPhi(k->b, LLVMTypeOf(phi), "");
            for (unsigned j = 0, nj = LLVMCountIncoming(phi); j < nj; j++) {
                LLVMBasicBlockRef from = LLVMGetIncomingBlock(phi, j);
                LLVMValueRef v = LLVMGetIncomingValue(phi, j);
                if (!is_copy(k, from))
                    LLVMAddIncoming(fresh, &v, &from, 1);
            }
            LLVMAddIncoming(fresh, &carry, &leave, 1);
            LLVMReplaceAllUsesWith(phi, fresh);
            LLVMInstructionEraseFromParent(phi);
            phi = next;
        }
    }
    LLVMPositionBuilderAtEnd(k->b, hub);
    LLVMTypeRef i8 = LLVMInt8TypeInContext(k->c);
    k->never = LLVMBuildLoad2(k->b, i8, never_flag(LLVMGetGlobalParent(k->fn)), "");
    LLVMSetVolatile(k->never, true);
    LLVMValueRef set = LLVMBuildICmp(k->b, LLVMIntNE, k->never, LLVMConstInt(i8, 0, false), "");
    /* The never-taken edge goes to the header (any later block would no longer be
     * dominated by the loop's values that reach it), with nothing for its phis. */
    LLVMBasicBlockRef head = mapped_block(k, k->loop.header);
    LLVMBuildCondBr(k->b, set, head, leave);
    for (LLVMValueRef phi = LLVMGetFirstInstruction(head); phi && LLVMIsAPHINode(phi);
         phi = LLVMGetNextInstruction(phi)) {
        LLVMValueRef none = LLVMGetPoison(LLVMTypeOf(phi));
        LLVMAddIncoming(phi, &none, &hub, 1);
    }
    LLVMPositionBuilderAtEnd(k->b, leave);
    if (nx == 1) {
        LLVMBuildBr(k->b, exits[0]);
    } else {
        LLVMValueRef sw = LLVMBuildSwitch(k->b, which, exits[0], nx - 1);
        for (unsigned x = 1; x < nx; x++)
            LLVMAddCase(sw, LLVMConstInt(i32, x, false), exits[x]);
    }
    free(edges);
    free(exits);
    return 0;
}

/* Makes the loop run its first per_chunk iterations as before, then the rest in a copy
 * that returns to a new enclosing loop every per_chunk iterations: the copy is the loop
 * loop-extract will outline. Returns the copy's header. */
static LLVMBasicBlockRef split_in_chunks(chunking *k, unsigned per_chunk, int *rc)
{
    *rc = 0;
    add_counter(k, per_chunk);
    unsigned n = k->loop.count + 1;
    LLVMBasicBlockRef *bbs = malloc(n * sizeof *bbs);
    if (!bbs || mewe__ptrmap_init(&k->in, n) != 0 || mewe__ptrmap_init(&k->map, 64) != 0 ||
        mewe__ptrmap_init(&k->copies, n) != 0) {
        free(bbs);
        *rc = -1;
        return NULL;
    }
    memcpy(bbs, k->loop.blocks, k->loop.count * sizeof *bbs);
    bbs[k->loop.count] = k->count;
    for (unsigned i = 0; i < n; i++) {
        if (mewe__ptrmap_put(&k->in, bbs[i], bbs[i]) != 0)
            *rc = -1;
    }
    if (*rc == 0)
        *rc = copy_blocks(k, bbs, n);
    LLVMBasicBlockRef head = NULL;
    if (*rc == 0) {
        wire_copies(k, bbs, n);
        join_exits(k, bbs, n);
        *rc = route_exits(k, bbs, n);
        head = mapped_block(k, k->loop.header);
    }
    free(bbs);
    return head;
}

static unsigned count_functions(LLVMModuleRef m)
{
    unsigned n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        n++;
    return n;
}

/* Runs loop-extract on whatever function holds `inner` until it is outlined away from
 * `outer` (each run outlines one level of loops around it), or LLVM declines. */
static int extract_inner(mewe__fence *fence, LLVMBasicBlockRef inner, LLVMBasicBlockRef outer,
                         char **msg)
{
    int rc = 0;
    for (int run = 0; rc == 0 && run < 16; run++) {
        LLVMValueRef holder = LLVMGetBasicBlockParent(inner);
        if (holder != LLVMGetBasicBlockParent(outer))
            break;
        LLVMModuleRef m = LLVMGetGlobalParent(holder);
        unsigned before = count_functions(m);
        rc = mewe__run_passes_in(fence, &holder, 1, "function(loop-simplify),loop-extract", msg);
        if (rc == 0 && count_functions(m) == before)
            break;
    }
    return rc;
}

double mewe__loop_chunk_candidate(LLVMValueRef fn, double min_cycles)
{
    mewe__light_loop_limits lim = {CHUNK_MIN_CYCLES, min_cycles, CHUNK_MAX_INSTRUCTIONS, CHUNKED};
    mewe__light_loop l = {0};
    double cycles = 0.0;
    if (mewe__loop_costliest(fn) >= CHUNK_MIN_CYCLES && !takes_labels(fn) &&
        mewe__loop_light(fn, &lim, &l))
        cycles = l.cycles;
    free(l.blocks);
    return cycles;
}

int mewe__loop_chunk(mewe__fence *fence, LLVMValueRef fn, double min_cycles, LLVMValueRef *chunk,
                     char **msg)
{
    *chunk = NULL;
    *msg = NULL;
    mewe__light_loop_limits lim = {CHUNK_MIN_CYCLES, min_cycles, CHUNK_MAX_INSTRUCTIONS, CHUNKED};
    chunking k = {.fn = fn};
    if (mewe__loop_costliest(fn) < CHUNK_MIN_CYCLES || takes_labels(fn) ||
        !mewe__loop_light(fn, &lim, &k.loop))
        goto out_free;
    int rc = mewe__run_passes_in(fence, &fn, 1, "function(loop-simplify,lcssa)", msg);
    if (rc != 0)
        goto out_rc;
    free(k.loop.blocks);
    k.loop = (mewe__light_loop){0};
    if (!mewe__loop_light(fn, &lim, &k.loop) || edges_between(k.loop.latch, k.loop.header) != 1 ||
        !extractable(&k.loop))
        goto out_free;
    mewe__ptrmap known = {0};
    if (remember_functions(LLVMGetGlobalParent(fn), &known) != 0 ||
        mewe__ptrmap_init(&k.in, k.loop.count) != 0) {
        rc = -1;
        goto out_known;
    }
    for (unsigned i = 0; i < k.loop.count; i++) {
        if (mewe__ptrmap_put(&k.in, k.loop.blocks[i], k.loop.blocks[i]) != 0)
            rc = -1;
    }
    k.preheader = rc == 0 ? outside_pred(&k, k.loop.header) : NULL;
    mewe__ptrmap_fini(&k.in);
    k.in = (mewe__ptrmap){0};
    if (rc != 0 || !k.preheader)
        goto out_known;
    k.c = LLVMGetTypeContext(LLVMTypeOf(fn));
    k.b = LLVMCreateBuilderInContext(k.c);
    double per = ceil(min_cycles / k.loop.cycles);
    unsigned per_chunk = per < 2.0 ? 2u : per > 65536.0 ? 65536u : (unsigned)per;
    LLVMBasicBlockRef head = split_in_chunks(&k, per_chunk, &rc);
    LLVMDisposeBuilder(k.b);
    if (rc == 0 && LLVMVerifyFunction(fn, LLVMReturnStatusAction)) {
        *msg = LLVMCreateMessage("the function with a loop split in chunks fails verification");
        rc = 2;
    }
    if (rc == 0)
        rc = extract_inner(fence, head, k.outer, msg);
    if (rc == 0 && LLVMGetBasicBlockParent(head) != LLVMGetBasicBlockParent(k.outer))
        *chunk = LLVMGetBasicBlockParent(head);
    if (k.never) {
        LLVMBuilderRef b = LLVMCreateBuilderInContext(k.c);
        unnest(b, k.never);
        LLVMDisposeBuilder(b);
    }
    if (rc == 0)
        rc = inline_wrappers(fence, fn, &known, *chunk, msg);
    if (rc == 0 && name_new_functions(fn, &known, *chunk, "loop.chunk") != 0)
        rc = -1;
    if (rc == 0 && *chunk) {
        char cycles[32];
        snprintf(cycles, sizeof cycles, "%.0f", per_chunk * k.loop.cycles);
        mewe__fn_string_attr_set(*chunk, MEWE__ATTR_TYPICAL_CYCLES, cycles);
    }
    if (rc == 0 && mewe__fence_add_new(fence) != 0)
        rc = -1;
    if (rc == 0 && (LLVMVerifyFunction(fn, LLVMReturnStatusAction) ||
                    (*chunk && LLVMVerifyFunction(*chunk, LLVMReturnStatusAction)))) {
        *msg = LLVMCreateMessage("the function with a loop in chunks fails verification");
        rc = 2;
    }
out_known:
    mewe__ptrmap_fini(&known);
    mewe__ptrmap_fini(&k.in);
    mewe__ptrmap_fini(&k.map);
    mewe__ptrmap_fini(&k.copies);
out_rc:
    free(k.loop.blocks);
    return rc;
out_free:
    free(k.loop.blocks);
    return 0;
}
