/* Loop bodies as functions of their own: see outline.h. */
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
 * the block it no longer enters loses its phis' entries for it. */
static void unnest(LLVMBuilderRef b, LLVMValueRef load)
{
    LLVMBasicBlockRef fake = LLVMGetInstructionParent(load);
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
 * whose variants all compile alike. LLVM's always-inliner does it, on that function alone;
 * it inlines into callers fenced as optnone, as at -O0. */
static int inline_wrappers(LLVMValueRef fn, const mewe__ptrmap *known, LLVMValueRef body,
                           char **msg)
{
    LLVMModuleRef m = LLVMGetGlobalParent(fn);
    mewe__ptrmap stays = {0};
    if (mewe__ptrmap_init(&stays, 4) != 0)
        return -1;
    int rc = 0;
    while (rc == 0) {
        LLVMValueRef f = LLVMGetFirstFunction(m);
        while (f && (f == body || LLVMIsDeclaration(f) || mewe__ptrmap_get(known, f) ||
                     mewe__ptrmap_get(&stays, f)))
            f = LLVMGetNextFunction(f);
        if (!f)
            break;
        size_t len;
        const char *own = LLVMGetValueName2(f, &len);
        char *name = mewe__printf("%.*s", (int)len, own);
        if (!name) {
            rc = -1;
            break;
        }
        mewe__fn_enum_attr_set(f, "noinline", false);
        mewe__fn_enum_attr_set(f, "optnone", false);
        mewe__fn_enum_attr_set(f, "alwaysinline", true);
        rc = mewe__run_passes_on(f, "always-inline", msg);
        /* The inliner may have deleted it: looked up again by name. */
        LLVMValueRef left = LLVMGetNamedFunction(m, name);
        free(name);
        if (!left || rc != 0)
            continue;
        if (!LLVMGetFirstUse(left)) {
            LLVMDeleteFunction(left);
            continue;
        }
        /* Not inlined: it stays, as plumbing. */
        mewe__fn_enum_attr_set(left, "alwaysinline", false);
        if (mewe__ptrmap_put(&stays, left, left) != 0)
            rc = -1;
    }
    mewe__ptrmap_fini(&stays);
    return rc;
}

/* Names and marks the functions the extraction made. */
static int name_new_functions(LLVMValueRef fn, const mewe__ptrmap *known, LLVMValueRef body)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    char *own = mewe__printf("%.*s", (int)len, name);
    char *loop = mewe__printf("%s.loop", own ? own : "");
    char *inner = mewe__printf("%s.loop.body", own ? own : "");
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

int mewe__loop_body_outline(LLVMValueRef fn, double min_cycles, LLVMValueRef *body, char **msg)
{
    *body = NULL;
    *msg = NULL;
    /* Most functions have no such loop: they are not touched at all. Nor are those that
     * take their blocks' addresses (CodeExtractor keeps such blocks where they are). */
    if (mewe__loop_costliest(fn) < min_cycles || takes_labels(fn))
        return 0;
    int rc = mewe__run_passes_on(fn, "function(loop-simplify)", msg);
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
        rc = mewe__run_passes_on(holder, "function(loop-simplify),loop-extract", msg);
    }
    LLVMValueRef holder = LLVMGetBasicBlockParent(LLVMGetInstructionParent(load));
    if (holder != LLVMGetBasicBlockParent(h))
        *body = holder;
    unnest(b, load);
    LLVMDisposeBuilder(b);
    LLVMValueRef flag = LLVMGetNamedGlobal(LLVMGetGlobalParent(fn), NEVER_FLAG);
    if (flag && !LLVMGetFirstUse(flag))
        LLVMDeleteGlobal(flag);
    if (rc == 0)
        rc = inline_wrappers(fn, &known, *body, msg);
    if (rc == 0 && name_new_functions(fn, &known, *body) != 0)
        rc = -1;
    mewe__ptrmap_fini(&known);
    /* The surgery above is ours, not LLVM's: checked before anything builds on it. */
    if (rc == 0 && (LLVMVerifyFunction(fn, LLVMReturnStatusAction) ||
                    (*body && LLVMVerifyFunction(*body, LLVMReturnStatusAction)))) {
        *msg = LLVMCreateMessage("the function with its loop body outlined fails verification");
        rc = 2;
    }
    return rc;
}
