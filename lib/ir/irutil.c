/* IR surgery that LLVM-C lacks: splitting a block (with the successors' phis fixed), copying
 * a module that takes block addresses, running passes on one function. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Error.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <mewe/sys/hook.h>

#include "ir/cost.h"
#include "ir/irutil.h"
#include "ir/ptrmap.h"

void mewe__phi_retarget(LLVMBuilderRef b, LLVMValueRef phi, LLVMBasicBlockRef from,
                        LLVMBasicBlockRef to)
{
    unsigned n = LLVMCountIncoming(phi);
    bool names_from = false;
    for (unsigned i = 0; i < n; i++)
        names_from |= LLVMGetIncomingBlock(phi, i) == from;
    if (!names_from)
        return;
    LLVMPositionBuilderBefore(b, phi);
    LLVMValueRef fresh = LLVMBuildPhi(b, LLVMTypeOf(phi), "");
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef v = LLVMGetIncomingValue(phi, i);
        LLVMBasicBlockRef bb = LLVMGetIncomingBlock(phi, i);
        if (bb == from)
            bb = to;
        if (bb)
            LLVMAddIncoming(fresh, &v, &bb, 1);
    }
    size_t len;
    const char *name = LLVMGetValueName2(phi, &len);
    LLVMReplaceAllUsesWith(phi, fresh);
    LLVMSetValueName2(fresh, name, len);
    LLVMInstructionEraseFromParent(phi);
}

static void retarget_successor_phis(LLVMBuilderRef b, LLVMValueRef term, LLVMBasicBlockRef from,
                                    LLVMBasicBlockRef to)
{
    unsigned n = LLVMGetNumSuccessors(term);
    for (unsigned s = 0; s < n; s++) {
        LLVMBasicBlockRef succ = LLVMGetSuccessor(term, s);
        /* A successor listed twice (switch cases) is handled at its first visit. */
        LLVMValueRef i = LLVMGetFirstInstruction(succ);
        while (i && LLVMIsAPHINode(i)) {
            LLVMValueRef next = LLVMGetNextInstruction(i);
            mewe__phi_retarget(b, i, from, to);
            i = next;
        }
    }
}

LLVMBasicBlockRef mewe__block_split(LLVMBuilderRef b, LLVMBasicBlockRef bb, LLVMValueRef at)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(at));
    LLVMBasicBlockRef tail = LLVMInsertBasicBlockInContext(c, bb, "");
    LLVMMoveBasicBlockAfter(tail, bb);
    LLVMPositionBuilderAtEnd(b, tail);
    for (LLVMValueRef i = at; i;) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        LLVMInstructionRemoveFromParent(i);
        LLVMInsertIntoBuilder(b, i);
        i = next;
    }
    LLVMPositionBuilderAtEnd(b, bb);
    LLVMBuildBr(b, tail);
    retarget_successor_phis(b, LLVMGetBasicBlockTerminator(tail), bb, tail);
    return tail;
}

int mewe__blocks_shuffle(mewe_hook *hook, LLVMValueRef fn, bool loops_too)
{
    unsigned n = LLVMCountBasicBlocks(fn);
    if (n < 3)
        return MEWE_OK;
    LLVMBasicBlockRef *bbs = malloc(n * sizeof *bbs);
    unsigned *slot = malloc(n * sizeof *slot);
    unsigned *depth = loops_too ? calloc(n, sizeof *depth) : mewe__loop_depths(fn);
    if (!bbs || !slot || !depth) {
        free(bbs);
        free(slot);
        free(depth);
        return MEWE_ENOMEM;
    }
    LLVMGetBasicBlocks(fn, bbs);
    /* The positions of the blocks to lay out anew, the entry's excepted. */
    unsigned m = 0;
    for (unsigned i = 1; i < n; i++) {
        if (depth[i] == 0)
            slot[m++] = i;
    }
    for (unsigned i = m; i > 1; i--) {
        unsigned j = mewe_hook_random_below(hook, i);
        LLVMBasicBlockRef t = bbs[slot[i - 1]];
        bbs[slot[i - 1]] = bbs[slot[j]];
        bbs[slot[j]] = t;
    }
    for (unsigned i = 1; i < n; i++)
        LLVMMoveBasicBlockAfter(bbs[i], bbs[i - 1]);
    free(bbs);
    free(slot);
    free(depth);
    return MEWE_OK;
}

/* Whether some block of `m` has its address taken: a BlockAddress constant uses the block. */
static bool takes_block_address(LLVMModuleRef m)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u;
                 u = LLVMGetNextUse(u)) {
                if (LLVMGetValueKind(LLVMGetUser(u)) == LLVMBlockAddressValueKind)
                    return true;
            }
        }
    }
    return false;
}

LLVMMemoryBufferRef mewe__module_backup(LLVMModuleRef m)
{
    return LLVMWriteBitcodeToMemoryBuffer(m);
}

LLVMModuleRef mewe__module_restore(LLVMContextRef c, LLVMMemoryBufferRef backup)
{
    LLVMModuleRef copy = NULL;
    if (LLVMParseBitcodeInContext2(c, backup, &copy))
        copy = NULL;
    return copy;
}

LLVMModuleRef mewe__module_clone(LLVMModuleRef m)
{
    if (!takes_block_address(m))
        return LLVMCloneModule(m);
    LLVMMemoryBufferRef bc = mewe__module_backup(m);
    if (!bc)
        return NULL;
    LLVMModuleRef copy = mewe__module_restore(LLVMGetModuleContext(m), bc);
    LLVMDisposeMemoryBuffer(bc);
    return copy;
}

/* The rules language's tokens; `1` and the operands are leaves. */
typedef enum {
    RPN_A,
    RPN_B,
    RPN_NUM,
    RPN_NOT,
    RPN_ADD,
    RPN_SUB,
    RPN_MUL,
    RPN_XOR,
    RPN_OR,
    RPN_AND,
    RPN_SHL,
    RPN_BAD
} rpn_tok;

#define RPN_STACK 16

/* The next token; a number (decimal digits, below 2^32) sets *num. */
static rpn_tok rpn_next(const char **p, uint64_t *num)
{
    while (**p == ' ')
        (*p)++;
    const char *tok = *p;
    while (**p && **p != ' ')
        (*p)++;
    size_t len = (size_t)(*p - tok);
    if (len == 2 && tok[0] == '<' && tok[1] == '<')
        return RPN_SHL;
    if (len >= 1 && len <= 9 && tok[0] >= '0' && tok[0] <= '9') {
        *num = 0;
        for (size_t i = 0; i < len; i++) {
            if (tok[i] < '0' || tok[i] > '9')
                return RPN_BAD;
            *num = *num * 10 + (uint64_t)(tok[i] - '0');
        }
        return RPN_NUM;
    }
    if (len != 1)
        return RPN_BAD;
    switch (*tok) {
    case 'a': return RPN_A;
    case 'b': return RPN_B;
    case '~': return RPN_NOT;
    case '+': return RPN_ADD;
    case '-': return RPN_SUB;
    case '*': return RPN_MUL;
    case '^': return RPN_XOR;
    case '|': return RPN_OR;
    case '&': return RPN_AND;
    default: return RPN_BAD;
    }
}

LLVMValueRef mewe__build_rpn(LLVMBuilderRef b, const char *rpn, LLVMValueRef a, LLVMValueRef bv)
{
    LLVMValueRef stack[RPN_STACK];
    int sp = 0;
    LLVMTypeRef t = LLVMTypeOf(a);
    for (const char *p = rpn;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        uint64_t num = 0;
        rpn_tok k = rpn_next(&p, &num);
        if (k == RPN_BAD)
            return NULL;
        if (k == RPN_A || k == RPN_B || k == RPN_NUM) {
            if (sp == RPN_STACK)
                return NULL;
            stack[sp++] = k == RPN_A ? a : k == RPN_B ? bv : LLVMConstInt(t, num, 0);
            continue;
        }
        if (k == RPN_NOT) {
            if (sp < 1)
                return NULL;
            stack[sp - 1] = LLVMBuildNot(b, stack[sp - 1], "");
            continue;
        }
        if (sp < 2)
            return NULL;
        LLVMValueRef y = stack[--sp], x = stack[--sp], r = NULL;
        switch (k) {
        case RPN_ADD: r = LLVMBuildAdd(b, x, y, ""); break;
        case RPN_SUB: r = LLVMBuildSub(b, x, y, ""); break;
        case RPN_MUL: r = LLVMBuildMul(b, x, y, ""); break;
        case RPN_XOR: r = LLVMBuildXor(b, x, y, ""); break;
        case RPN_OR: r = LLVMBuildOr(b, x, y, ""); break;
        case RPN_AND: r = LLVMBuildAnd(b, x, y, ""); break;
        case RPN_SHL: r = LLVMBuildShl(b, x, y, ""); break;
        default: return NULL;
        }
        stack[sp++] = r;
    }
    return sp == 1 ? stack[0] : NULL;
}

bool mewe__eval_rpn(const char *rpn, unsigned width, uint64_t a, uint64_t bv, uint64_t *out)
{
    if (width == 0 || width > 64)
        return false;
    uint64_t mask = width == 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
    uint64_t stack[RPN_STACK];
    int sp = 0;
    for (const char *p = rpn;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        uint64_t num = 0;
        rpn_tok k = rpn_next(&p, &num);
        if (k == RPN_BAD)
            return false;
        if (k == RPN_A || k == RPN_B || k == RPN_NUM) {
            if (sp == RPN_STACK)
                return false;
            stack[sp++] = (k == RPN_A ? a : k == RPN_B ? bv : num) & mask;
            continue;
        }
        if (k == RPN_NOT) {
            if (sp < 1)
                return false;
            stack[sp - 1] = ~stack[sp - 1] & mask;
            continue;
        }
        if (sp < 2)
            return false;
        uint64_t y = stack[--sp], x = stack[--sp], r;
        switch (k) {
        case RPN_ADD: r = x + y; break;
        case RPN_SUB: r = x - y; break;
        case RPN_MUL: r = x * y; break;
        case RPN_XOR: r = x ^ y; break;
        case RPN_OR: r = x | y; break;
        case RPN_AND: r = x & y; break;
        case RPN_SHL: r = y >= width ? 0 : x << y; break;
        default: return false;
        }
        stack[sp++] = r & mask;
    }
    if (sp != 1)
        return false;
    *out = stack[0];
    return true;
}

void mewe__fn_string_attr_set(LLVMValueRef fn, const char *key, const char *value)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMAddAttributeAtIndex(
        fn, LLVMAttributeFunctionIndex,
        LLVMCreateStringAttribute(c, key, (unsigned)strlen(key), value, (unsigned)strlen(value)));
}

const char *mewe__fn_string_attr_get(LLVMValueRef fn, const char *key, unsigned *len)
{
    LLVMAttributeRef a = fn ? LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, key,
                                                            (unsigned)strlen(key))
                            : NULL;
    *len = 0;
    return a ? LLVMGetStringAttributeValue(a, len) : NULL;
}

void mewe__fn_enum_attr_set(LLVMValueRef fn, const char *name, bool on)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
    if (on) {
        LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(c, kind, 0));
    }
}

static bool has_enum_attr(LLVMValueRef f, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    return LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind) != NULL;
}

/* A function fenced off from a pass run, and what fencing changed on it. */
typedef struct fenced {
    LLVMValueRef fn;
    unsigned char added; /* 1 optnone, 2 noinline added; 4 alwaysinline removed */
} fenced;

int mewe__run_passes_on(LLVMValueRef fn, const char *pipeline, char **msg)
{
    return mewe__run_passes_on_all(&fn, 1, pipeline, msg);
}

static int run_pipeline(LLVMModuleRef m, const char *pipeline, char **msg)
{
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(m, pipeline, NULL, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (!err)
        return 0;
    *msg = LLVMGetErrorMessage(err);
    return 1;
}

int mewe__run_passes_on_all(LLVMValueRef const *fns, size_t nfns, const char *pipeline, char **msg)
{
    *msg = NULL;
    mewe__fence *f = mewe__fence_new(LLVMGetGlobalParent(fns[0]));
    if (!f)
        return -1;
    int rc = mewe__run_passes_in(f, fns, nfns, pipeline, msg);
    mewe__fence_free(f);
    return rc;
}

struct mewe__fence {
    LLVMModuleRef m;
    fenced *list;
    size_t n, cap;
    mewe__ptrmap index; /* fenced function -> its entry's index + 1 */
    LLVMValueRef tail;  /* the module's last function when fenced: later ones are new */
};

/* Adds fn to list `f->list` (grown as needed) and fences it. */
static int fence_one(mewe__fence *f, LLVMValueRef fn)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        fenced *list = realloc(f->list, cap * sizeof *list);
        if (!list)
            return -1;
        f->list = list;
        f->cap = cap;
    }
    if (mewe__ptrmap_put(&f->index, fn, (void *)(uintptr_t)(f->n + 1)) != 0)
        return -1;
    unsigned char added = (has_enum_attr(fn, "optnone") ? 0 : 1) |
                          (has_enum_attr(fn, "noinline") ? 0 : 2) |
                          (has_enum_attr(fn, "alwaysinline") ? 4 : 0);
    f->list[f->n++] = (fenced){fn, added};
    mewe__fn_enum_attr_set(fn, "optnone", true);
    mewe__fn_enum_attr_set(fn, "noinline", true);
    mewe__fn_enum_attr_set(fn, "alwaysinline", false);
    return 0;
}

static void unfence_one(const fenced *e)
{
    if (e->added & 1)
        mewe__fn_enum_attr_set(e->fn, "optnone", false);
    if (e->added & 2)
        mewe__fn_enum_attr_set(e->fn, "noinline", false);
    if (e->added & 4)
        mewe__fn_enum_attr_set(e->fn, "alwaysinline", true);
}

static void refence_one(const fenced *e)
{
    mewe__fn_enum_attr_set(e->fn, "optnone", true);
    mewe__fn_enum_attr_set(e->fn, "noinline", true);
    mewe__fn_enum_attr_set(e->fn, "alwaysinline", false);
}

mewe__fence *mewe__fence_new(LLVMModuleRef m)
{
    mewe__fence *f = calloc(1, sizeof *f);
    if (!f || mewe__ptrmap_init(&f->index, 64) != 0) {
        free(f);
        return NULL;
    }
    f->m = m;
    if (mewe__fence_add_new(f) != 0) {
        mewe__fence_free(f);
        return NULL;
    }
    return f;
}

/* Functions are appended to a module (LLVM's extractor and LLVMAddFunction both do): the
 * new ones follow the tail, which is never deleted (fenced functions are not). */
static LLVMValueRef first_new(const mewe__fence *f)
{
    return f->tail ? LLVMGetNextFunction(f->tail) : LLVMGetFirstFunction(f->m);
}

int mewe__fence_add_new(mewe__fence *f)
{
    for (LLVMValueRef fn = first_new(f); fn; fn = LLVMGetNextFunction(fn)) {
        if (!LLVMIsDeclaration(fn) && !mewe__ptrmap_get(&f->index, fn) && fence_one(f, fn) != 0)
            return -1;
    }
    f->tail = LLVMGetLastFunction(f->m);
    return 0;
}

void mewe__fence_free(mewe__fence *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        if (f->list[i].fn)
            unfence_one(&f->list[i]);
    }
    free(f->list);
    mewe__ptrmap_fini(&f->index);
    free(f);
}

/* The entry of a fenced function, or NULL. */
static fenced *entry_of(const mewe__fence *f, LLVMValueRef fn)
{
    uintptr_t i = (uintptr_t)mewe__ptrmap_get(&f->index, fn);
    return i ? &f->list[i - 1] : NULL;
}

static bool among(LLVMValueRef fn, LLVMValueRef const *fns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fns[i] == fn)
            return true;
    }
    return false;
}

int mewe__run_passes_in(mewe__fence *f, LLVMValueRef const *fns, size_t nfns, const char *pipeline,
                        char **msg)
{
    *msg = NULL;
    /* Functions made since the last mewe__fence_add_new are fenced for this run only, as
     * mewe__run_passes_on would: there are few. */
    mewe__fence *extra = calloc(1, sizeof *extra);
    if (!extra || mewe__ptrmap_init(&extra->index, 8) != 0) {
        free(extra);
        return -1;
    }
    extra->m = f->m;
    int rc = 0;
    for (LLVMValueRef fn = first_new(f); rc == 0 && fn; fn = LLVMGetNextFunction(fn)) {
        if (!LLVMIsDeclaration(fn) && !among(fn, fns, nfns) && !mewe__ptrmap_get(&f->index, fn))
            rc = fence_one(extra, fn);
    }
    for (size_t i = 0; i < nfns; i++) {
        fenced *e = entry_of(f, fns[i]);
        if (e)
            unfence_one(e);
    }
    if (rc == 0)
        rc = run_pipeline(f->m, pipeline, msg);
    /* A pass never deletes a function that was there before it ran, but those it inlined:
     * here new ones, never fenced for good. */
    for (size_t i = 0; i < nfns; i++) {
        fenced *e = entry_of(f, fns[i]);
        if (e)
            refence_one(e);
    }
    mewe__fence_free(extra);
    return rc;
}
