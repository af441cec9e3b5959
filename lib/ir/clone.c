/* Function cloning through the LLVM-C API.
 *
 * The body is copied in two passes: first every instruction is cloned (its operands still
 * pointing into the source function), then every operand is translated through a map. Doing
 * the translation last is what makes values used before their definition in layout order
 * (loops, phis) come out right. Phis are rebuilt instead of cloned because the C API cannot
 * retarget the incoming blocks of an existing phi.
 *
 * A function that takes its blocks' addresses (computed goto) gets its own: every blockaddress
 * of the source names the clone's block instead, and the globals holding them (label tables,
 * labels.h) are copied for the clone, so that its jumps stay inside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/DebugInfo.h>

#include "ir/clone.h"
#include "ir/fnshape.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"

/* Longest pieces of a function name and of a verifier report quoted in an error message. */
#define NAME_MAX_QUOTED   200
#define DETAIL_MAX_QUOTED 400

typedef struct cloner {
    LLVMValueRef src;
    LLVMValueRef dst;
    LLVMContextRef ctx;
    LLVMBuilderRef builder;
    mewe__ptrmap map; /* source arg/block/instruction -> clone's */
    unsigned loop_kind;
    unsigned assign_kind;
    bool labels;         /* the source takes block addresses: constants are rebuilt */
    mewe__labels tables; /* the source's label tables */
    mewe__labels copies; /* the clone's, in the same order */
    bool failed;         /* out of memory while remapping */
    int why_status;      /* the status of fill's reason: MEWE_ENOMEM unless set */
} cloner;

/* "cannot clone function 'fn': why[: detail]", on the context. */
static int clone_error(mewe_context *ctx, int status, LLVMValueRef fn, const char *why,
                       const char *detail)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(fn, &len);
    /* Keep to the first line of a verifier report: the rest dumps IR. */
    size_t dlen = detail ? strcspn(detail, "\n") : 0;
    return mewe__error(
        ctx, status, "cannot clone function '%.*s': %s%s%.*s",
        (int)(len < NAME_MAX_QUOTED ? len : NAME_MAX_QUOTED), name, why, detail ? ": " : "",
        (int)(dlen < DETAIL_MAX_QUOTED ? dlen : DETAIL_MAX_QUOTED), detail ? detail : "");
}

/* ---- function-level properties ------------------------------------------ */

static int copy_attrs_at(LLVMValueRef src, LLVMValueRef dst, LLVMAttributeIndex idx)
{
    unsigned n = LLVMGetAttributeCountAtIndex(src, idx);
    if (n == 0)
        return MEWE_OK;
    LLVMAttributeRef *attrs = malloc(n * sizeof *attrs);
    if (!attrs)
        return MEWE_ENOMEM;
    LLVMGetAttributesAtIndex(src, idx, attrs);
    /* Attributes are uniqued in the context, so they can be shared as is. */
    for (unsigned i = 0; i < n; i++)
        LLVMAddAttributeAtIndex(dst, idx, attrs[i]);
    free(attrs);
    return MEWE_OK;
}

static int copy_attrs(LLVMValueRef src, LLVMValueRef dst)
{
    if (copy_attrs_at(src, dst, LLVMAttributeFunctionIndex) != MEWE_OK ||
        copy_attrs_at(src, dst, LLVMAttributeReturnIndex) != MEWE_OK)
        return MEWE_ENOMEM;
    /* Parameter i's attributes live at index i + 1. */
    unsigned nparams = LLVMCountParams(src);
    for (unsigned i = 0; i < nparams; i++) {
        if (copy_attrs_at(src, dst, 1 + i) != MEWE_OK)
            return MEWE_ENOMEM;
    }
    return MEWE_OK;
}

/* Function attachments other than the DISubprogram (e.g. !prof, !kcfi_type). */
static void copy_fn_metadata(LLVMValueRef src, LLVMValueRef dst, unsigned dbg_kind)
{
    size_t n = 0;
    LLVMValueMetadataEntry *md = LLVMGlobalCopyAllMetadata(src, &n);
    for (size_t i = 0; i < n; i++) {
        unsigned kind = LLVMValueMetadataEntriesGetKind(md, (unsigned)i);
        if (kind != dbg_kind)
            LLVMGlobalSetMetadata(dst, kind, LLVMValueMetadataEntriesGetMetadata(md, (unsigned)i));
    }
    if (md)
        LLVMDisposeValueMetadataEntries(md);
}

static void copy_globals(LLVMValueRef src, LLVMValueRef dst, LLVMContextRef ctx)
{
    LLVMSetLinkage(dst, LLVMGetLinkage(src));
    LLVMSetVisibility(dst, LLVMGetVisibility(src));
    LLVMSetUnnamedAddress(dst, LLVMGetUnnamedAddress(src));
    LLVMSetFunctionCallConv(dst, LLVMGetFunctionCallConv(src));
    if (LLVMGetAlignment(src) != 0)
        LLVMSetAlignment(dst, LLVMGetAlignment(src));
    const char *s = LLVMGetSection(src);
    if (s && *s)
        LLVMSetSection(dst, s);
    s = LLVMGetGC(src);
    if (s && *s)
        LLVMSetGC(dst, s);
    if (LLVMHasPersonalityFn(src))
        LLVMSetPersonalityFn(dst, LLVMGetPersonalityFn(src));
    copy_fn_metadata(src, dst, LLVMGetMDKindIDInContext(ctx, "dbg", 3));
}

static int map_params(cloner *c)
{
    unsigned n = LLVMCountParams(c->src);
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef from = LLVMGetParam(c->src, i);
        LLVMValueRef to = LLVMGetParam(c->dst, i);
        size_t len = 0;
        const char *name = LLVMGetValueName2(from, &len);
        if (len)
            LLVMSetValueName2(to, name, len);
        if (mewe__ptrmap_put(&c->map, from, to) != MEWE_OK)
            return MEWE_ENOMEM;
    }
    return MEWE_OK;
}

static int map_blocks(cloner *c)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->src); bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        LLVMBasicBlockRef nb =
            LLVMAppendBasicBlockInContext(c->ctx, c->dst, LLVMGetBasicBlockName(bb));
        if (mewe__ptrmap_put(&c->map, LLVMBasicBlockAsValue(bb), LLVMBasicBlockAsValue(nb)) !=
            MEWE_OK)
            return MEWE_ENOMEM;
    }
    return MEWE_OK;
}

/* ---- block addresses and label tables ----------------------------------- */

/* k with the source's block addresses and label tables replaced by the clone's (memoized in
 * the map; k itself when it holds none). NULL when out of memory. */
static LLVMValueRef clone_constant(cloner *c, LLVMValueRef k)
{
    LLVMValueRef done = mewe__ptrmap_get(&c->map, k);
    if (done)
        return done;
    if (LLVMIsAGlobalValue(k) || !mewe__labels_rebuildable(k))
        return k;
    unsigned n = (unsigned)LLVMGetNumOperands(k);
    LLVMValueRef *ops = malloc((n ? n : 1) * sizeof *ops);
    if (!ops)
        return NULL;
    bool changed = false;
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef op = LLVMGetOperand(k, i);
        ops[i] = LLVMValueIsBasicBlock(op) ? op : clone_constant(c, op);
        if (!ops[i]) {
            free(ops);
            return NULL;
        }
        changed |= ops[i] != op;
    }
    LLVMValueRef out = changed ? mewe__labels_rebuild(k, ops) : k;
    free(ops);
    if (out && mewe__ptrmap_put(&c->map, k, out) != MEWE_OK)
        out = NULL;
    return out;
}

static LLVMValueRef clone_table(LLVMValueRef g)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(g, &len);
    char buf[NAME_MAX_QUOTED + 16];
    /* LLVM makes the name unique: one copy per clone. */
    snprintf(buf, sizeof buf, "%.*s.mewe.labels",
             (int)(len < NAME_MAX_QUOTED ? len : NAME_MAX_QUOTED), name);
    LLVMValueRef copy =
        LLVMAddGlobalInAddressSpace(LLVMGetGlobalParent(g), LLVMGlobalGetValueType(g), buf,
                                    LLVMGetPointerAddressSpace(LLVMTypeOf(g)));
    LLVMSetLinkage(copy, LLVMGetLinkage(g));
    /* Constant even when the source's is not (-O0 leaves `static void *tab[]` mutable):
     * mewe__labels_check proved that nothing writes it. */
    LLVMSetGlobalConstant(copy, 1);
    LLVMSetThreadLocalMode(copy, LLVMGetThreadLocalMode(g));
    LLVMSetUnnamedAddress(copy, LLVMGetUnnamedAddress(g));
    if (LLVMGetAlignment(g) != 0)
        LLVMSetAlignment(copy, LLVMGetAlignment(g));
    const char *s = LLVMGetSection(g);
    if (s && *s)
        LLVMSetSection(copy, s);
    return copy;
}

/* Maps every block address of the source to the clone's block, and every label table to a
 * copy of its own, once the blocks exist. NULL, or why not. */
static const char *map_labels(cloner *c)
{
    const char *why = mewe__labels_check(c->src, &c->tables);
    if (why) {
        c->why_status = strcmp(why, "out of memory") == 0 ? MEWE_ENOMEM : MEWE_EINVAL;
        return why;
    }
    c->labels = true;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->src); bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef nb = mewe__ptrmap_get(&c->map, LLVMBasicBlockAsValue(bb));
        for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
            LLVMValueRef ba = LLVMGetUser(u);
            if (LLVMGetValueKind(ba) != LLVMBlockAddressValueKind)
                continue;
            LLVMValueRef mine = LLVMBlockAddress(c->dst, LLVMValueAsBasicBlock(nb));
            if (mewe__ptrmap_put(&c->map, ba, mine) != MEWE_OK)
                return "out of memory";
        }
    }
    size_t n = c->tables.count;
    c->copies.tables = malloc((n ? n : 1) * sizeof *c->copies.tables);
    if (!c->copies.tables)
        return "out of memory";
    c->copies.cap = n;
    /* All copies first: a table may name another (or itself). */
    for (size_t i = 0; i < n; i++) {
        LLVMValueRef copy = clone_table(c->tables.tables[i]);
        c->copies.tables[c->copies.count++] = copy;
        if (mewe__ptrmap_put(&c->map, c->tables.tables[i], copy) != MEWE_OK)
            return "out of memory";
    }
    for (size_t i = 0; i < n; i++) {
        LLVMValueRef init = clone_constant(c, LLVMGetInitializer(c->tables.tables[i]));
        if (!init)
            return "out of memory";
        LLVMSetInitializer(c->copies.tables[i], init);
    }
    return NULL;
}

/* ---- pass 1: clone instructions ----------------------------------------- */

/* Loop metadata may hold DILocations of the source's subprogram: meaningless in a clone
 * without debug info, and rejected by the verifier ("!dbg attachment points at wrong
 * subprogram") once the clone gets one. */
static bool loop_md_has_location(LLVMValueRef md)
{
    unsigned n = LLVMGetMDNodeNumOperands(md);
    LLVMValueRef *ops = malloc((n ? n : 1) * sizeof *ops);
    if (!ops)
        return true; /* dropping the hint is always safe */
    LLVMGetMDNodeOperands(md, ops);
    bool found = false;
    for (unsigned i = 0; i < n && !found; i++) {
        if (ops[i])
            found = LLVMGetMetadataKind(LLVMValueAsMetadata(ops[i])) == LLVMDILocationMetadataKind;
    }
    free(ops);
    return found;
}

static void strip_debug(const cloner *c, LLVMValueRef inst)
{
    LLVMInstructionSetDebugLoc(inst, NULL);
    /* DIAssignID links a store to dbg.assign records that the clone lacks. */
    LLVMSetMetadata(inst, c->assign_kind, NULL);
    LLVMValueRef loop = LLVMGetMetadata(inst, c->loop_kind);
    if (loop && loop_md_has_location(loop))
        LLVMSetMetadata(inst, c->loop_kind, NULL);
}

static void copy_name(LLVMValueRef from, LLVMValueRef to)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(from, &len);
    if (len && LLVMGetTypeKind(LLVMTypeOf(to)) != LLVMVoidTypeKind)
        LLVMSetValueName2(to, name, len);
}

static LLVMValueRef clone_inst(cloner *c, LLVMValueRef inst)
{
    LLVMValueRef ni;
    if (LLVMGetInstructionOpcode(inst) == LLVMPHI) {
        ni = LLVMBuildPhi(c->builder, LLVMTypeOf(inst), "");
        if (LLVMCanValueUseFastMathFlags(inst))
            LLVMSetFastMathFlags(ni, LLVMGetFastMathFlags(inst));
    } else {
        ni = LLVMInstructionClone(inst);
        if (!ni)
            return NULL;
        LLVMInsertIntoBuilderWithName(c->builder, ni, "");
    }
    copy_name(inst, ni);
    strip_debug(c, ni);
    return ni;
}

static int pass_clone(cloner *c)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->src); bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef nbv = mewe__ptrmap_get(&c->map, LLVMBasicBlockAsValue(bb));
        LLVMPositionBuilderAtEnd(c->builder, LLVMValueAsBasicBlock(nbv));
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            if (mewe__instruction_is_debug(i))
                continue;
            LLVMValueRef ni = clone_inst(c, i);
            if (!ni || mewe__ptrmap_put(&c->map, i, ni) != MEWE_OK)
                return MEWE_ENOMEM;
        }
    }
    return MEWE_OK;
}

/* ---- pass 2: remap operands --------------------------------------------- */

static LLVMValueRef remap(cloner *c, LLVMValueRef v)
{
    LLVMValueRef mapped = v ? mewe__ptrmap_get(&c->map, v) : NULL;
    if (mapped || !v)
        return mapped;
    /* Function-local metadata operands (metadata %x) wrap a local value. */
    if (LLVMIsAValueAsMetadata(v)) {
        LLVMValueRef inner = NULL;
        LLVMGetMDNodeOperands(v, &inner);
        mapped = inner ? mewe__ptrmap_get(&c->map, inner) : NULL;
        if (mapped)
            return LLVMMetadataAsValue(c->ctx, LLVMValueAsMetadata(mapped));
    }
    /* Constants that hold the source's block addresses or label tables are the clone's
     * own; other constants, globals (including fn itself) and inline asm stay shared. */
    if (c->labels && LLVMIsAConstant(v)) {
        mapped = clone_constant(c, v);
        c->failed |= !mapped;
        return mapped ? mapped : v;
    }
    return v;
}

static void fill_phi(cloner *c, LLVMValueRef from, LLVMValueRef to)
{
    unsigned n = LLVMCountIncoming(from);
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef v = remap(c, LLVMGetIncomingValue(from, i));
        LLVMValueRef bv = LLVMBasicBlockAsValue(LLVMGetIncomingBlock(from, i));
        LLVMBasicBlockRef b = LLVMValueAsBasicBlock(remap(c, bv));
        LLVMAddIncoming(to, &v, &b, 1);
    }
}

static void fix_operands(cloner *c, LLVMValueRef inst)
{
    int n = LLVMGetNumOperands(inst);
    /* Successors are block operands, so this also retargets branches. */
    for (int i = 0; i < n; i++) {
        LLVMValueRef op = LLVMGetOperand(inst, (unsigned)i);
        LLVMValueRef nop = remap(c, op);
        if (nop != op)
            LLVMSetOperand(inst, (unsigned)i, nop);
    }
}

static void pass_remap(cloner *c)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->src); bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            LLVMValueRef ni = mewe__ptrmap_get(&c->map, i);
            if (!ni)
                continue; /* a skipped debug intrinsic */
            if (LLVMGetInstructionOpcode(i) == LLVMPHI)
                fill_phi(c, i, ni);
            else
                fix_operands(c, ni);
        }
    }
}

/* ---- driver ------------------------------------------------------------- */

static size_t size_hint(LLVMValueRef fn)
{
    size_t n = LLVMCountParams(fn);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        n++;
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            n++;
    }
    return n;
}

/* Copies everything into c->dst; the returned reason is NULL on success. */
static const char *fill(cloner *c)
{
    if (copy_attrs(c->src, c->dst) != MEWE_OK)
        return "out of memory";
    copy_globals(c->src, c->dst, c->ctx);
    if (mewe__ptrmap_init(&c->map, size_hint(c->src)) != MEWE_OK || map_params(c) != MEWE_OK ||
        map_blocks(c) != MEWE_OK)
        return "out of memory";
    if (mewe__labels_taken(c->src)) {
        const char *why = map_labels(c);
        if (why)
            return why;
    }
    c->builder = LLVMCreateBuilderInContext(c->ctx);
    if (pass_clone(c) != MEWE_OK)
        return "out of memory or uncloneable instruction";
    pass_remap(c);
    return c->failed ? "out of memory" : NULL;
}

static int add_function(LLVMValueRef *out, mewe_context *ctx, LLVMValueRef fn, const char *new_name)
{
    LLVMValueRef dst =
        LLVMAddFunction(LLVMGetGlobalParent(fn), new_name, LLVMGlobalGetValueType(fn));
    size_t len = 0;
    const char *got = LLVMGetValueName2(dst, &len);
    /* LLVM silently renames on a clash; the caller asked for this name. */
    if (len != strlen(new_name) || memcmp(got, new_name, len) != 0) {
        LLVMDeleteFunction(dst);
        return clone_error(ctx, MEWE_EEXIST, fn, "name already in use", new_name);
    }
    *out = dst;
    return MEWE_OK;
}

/* Removes the unfinished or broken copy. Only the module verifier explains itself: it runs
 * only on failure, while the broken clone is still in the module. */
static int discard(mewe_context *ctx, cloner *c, const char *why)
{
    char *report = NULL;
    if (!why)
        LLVMVerifyModule(LLVMGetGlobalParent(c->dst), LLVMReturnStatusAction, &report);
    LLVMDeleteFunction(c->dst);
    mewe__labels_delete_dead(&c->copies);
    c->dst = NULL;
    int rc = why ? clone_error(ctx, c->why_status, c->src, why, NULL)
                 : clone_error(ctx, MEWE_EVERIFY, c->src, "clone fails verification", report);
    if (report)
        LLVMDisposeMessage(report);
    return rc;
}

int mewe__function_clone(LLVMValueRef *out, mewe_context *ctx, LLVMValueRef fn,
                         const char *new_name)
{
    *out = NULL;
    if (!fn || !LLVMIsAFunction(fn))
        return mewe__error(ctx, MEWE_EINVAL, "cannot clone: not a function");
    if (LLVMIsDeclaration(fn) || !new_name || !*new_name)
        return clone_error(ctx, MEWE_EINVAL, fn, "no body or no new name", NULL);
    cloner c = {.src = fn, .ctx = LLVMGetTypeContext(LLVMTypeOf(fn)), .why_status = MEWE_ENOMEM};
    c.loop_kind = LLVMGetMDKindIDInContext(c.ctx, "llvm.loop", 9);
    c.assign_kind = LLVMGetMDKindIDInContext(c.ctx, "DIAssignID", 10);
    int rc = add_function(&c.dst, ctx, fn, new_name);
    if (rc != MEWE_OK)
        return rc;
    const char *why = fill(&c);
    if (c.builder)
        LLVMDisposeBuilder(c.builder);
    mewe__ptrmap_fini(&c.map);
    if (why || LLVMVerifyFunction(c.dst, LLVMReturnStatusAction))
        rc = discard(ctx, &c, why);
    else
        *out = c.dst;
    mewe__labels_fini(&c.tables);
    mewe__labels_fini(&c.copies);
    return rc;
}

int mewe__function_copy_properties(LLVMValueRef src, LLVMValueRef dst)
{
    if (copy_attrs(src, dst) != MEWE_OK)
        return MEWE_ENOMEM;
    copy_globals(src, dst, LLVMGetTypeContext(LLVMTypeOf(src)));
    return MEWE_OK;
}
