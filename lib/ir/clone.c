/*
 * clone.c - function cloning through the LLVM-C API.
 *
 * The body is copied in two passes: first every instruction is cloned (its
 * operands still pointing into the source function), then every operand is
 * translated through a map. Doing the translation last is what makes values
 * used before their definition in layout order (loops, phis) come out right.
 * Phis are rebuilt instead of cloned because the C API cannot retarget the
 * incoming blocks of an existing phi.
 *
 * A function that takes its blocks' addresses (computed goto) gets its own: every
 * blockaddress of the source names the clone's block instead, and the globals holding them
 * (label tables, labels.h) are copied for the clone, so that its jumps stay inside it.
 */
#include "ir/clone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/DebugInfo.h>

#include "ir/fnshape.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"

/* Longest piece of a verifier report quoted in an error message. */
#define MEWE__CLONE_DETAIL_MAX 400

typedef struct mewe__clone {
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
} mewe__clone;

static void mewe__clone_error(char **errmsg, LLVMValueRef fn, const char *why, const char *detail)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(fn, &len);
    const char *fmt = "cannot clone function '%.*s': %s%s%.*s";
    /* Keep to the first line of a verifier report: the rest dumps IR. */
    size_t dlen = detail ? strcspn(detail, "\n") : 0;
    const char *sep = detail ? ": " : "";
    int n;

    if (!errmsg)
        return;
    *errmsg = NULL;
    if (len > 200)
        len = 200;
    if (dlen > MEWE__CLONE_DETAIL_MAX)
        dlen = MEWE__CLONE_DETAIL_MAX;
    n = snprintf(NULL, 0, fmt, (int)len, name, why, sep, (int)dlen, detail ? detail : "");
    if (n < 0)
        return;
    *errmsg = malloc((size_t)n + 1);
    if (*errmsg)
        snprintf(*errmsg, (size_t)n + 1, fmt, (int)len, name, why, sep, (int)dlen,
                 detail ? detail : "");
}

/* ---- function-level properties ------------------------------------------ */

static int mewe__clone_attrs_at(LLVMValueRef src, LLVMValueRef dst, LLVMAttributeIndex idx)
{
    unsigned n = LLVMGetAttributeCountAtIndex(src, idx);
    LLVMAttributeRef *attrs;

    if (n == 0)
        return 0;
    attrs = malloc(n * sizeof *attrs);
    if (!attrs)
        return -1;
    LLVMGetAttributesAtIndex(src, idx, attrs);
    /* Attributes are uniqued in the context, so they can be shared as is. */
    for (unsigned i = 0; i < n; i++)
        LLVMAddAttributeAtIndex(dst, idx, attrs[i]);
    free(attrs);
    return 0;
}

static int mewe__clone_attrs(LLVMValueRef src, LLVMValueRef dst)
{
    unsigned nparams = LLVMCountParams(src);

    if (mewe__clone_attrs_at(src, dst, LLVMAttributeFunctionIndex) != 0 ||
        mewe__clone_attrs_at(src, dst, LLVMAttributeReturnIndex) != 0)
        return -1;
    /* Parameter i's attributes live at index i + 1. */
    for (unsigned i = 0; i < nparams; i++) {
        if (mewe__clone_attrs_at(src, dst, 1 + i) != 0)
            return -1;
    }
    return 0;
}

/* Function attachments other than the DISubprogram (e.g. !prof, !kcfi_type). */
static void mewe__clone_fn_metadata(LLVMValueRef src, LLVMValueRef dst, unsigned dbg_kind)
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

static void mewe__clone_globals(LLVMValueRef src, LLVMValueRef dst, LLVMContextRef ctx)
{
    const char *s;

    LLVMSetLinkage(dst, LLVMGetLinkage(src));
    LLVMSetVisibility(dst, LLVMGetVisibility(src));
    LLVMSetUnnamedAddress(dst, LLVMGetUnnamedAddress(src));
    LLVMSetFunctionCallConv(dst, LLVMGetFunctionCallConv(src));
    if (LLVMGetAlignment(src) != 0)
        LLVMSetAlignment(dst, LLVMGetAlignment(src));
    s = LLVMGetSection(src);
    if (s && *s)
        LLVMSetSection(dst, s);
    s = LLVMGetGC(src);
    if (s && *s)
        LLVMSetGC(dst, s);
    if (LLVMHasPersonalityFn(src))
        LLVMSetPersonalityFn(dst, LLVMGetPersonalityFn(src));
    mewe__clone_fn_metadata(src, dst, LLVMGetMDKindIDInContext(ctx, "dbg", 3));
}

static int mewe__clone_params(mewe__clone *c)
{
    unsigned n = LLVMCountParams(c->src);

    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef from = LLVMGetParam(c->src, i);
        LLVMValueRef to = LLVMGetParam(c->dst, i);
        size_t len = 0;
        const char *name = LLVMGetValueName2(from, &len);

        if (len)
            LLVMSetValueName2(to, name, len);
        if (mewe__ptrmap_put(&c->map, from, to) != 0)
            return -1;
    }
    return 0;
}

static int mewe__clone_blocks(mewe__clone *c)
{
    LLVMBasicBlockRef bb;

    for (bb = LLVMGetFirstBasicBlock(c->src); bb; bb = LLVMGetNextBasicBlock(bb)) {
        LLVMBasicBlockRef nb =
            LLVMAppendBasicBlockInContext(c->ctx, c->dst, LLVMGetBasicBlockName(bb));
        if (mewe__ptrmap_put(&c->map, LLVMBasicBlockAsValue(bb), LLVMBasicBlockAsValue(nb)))
            return -1;
    }
    return 0;
}

/* ---- block addresses and label tables ----------------------------------- */

/* k with the source's block addresses and label tables replaced by the clone's (memoized in
 * the map; k itself when it holds none). NULL when out of memory. */
static LLVMValueRef mewe__clone_constant(mewe__clone *c, LLVMValueRef k)
{
    LLVMValueRef done = mewe__ptrmap_get(&c->map, k);
    if (done)
        return done;
    if (LLVMIsAGlobalValue(k) || !mewe__labels_rebuildable(k))
        return k;
    unsigned n = (unsigned)LLVMGetNumOperands(k);
    LLVMValueRef *ops = malloc((n ? n : 1) * sizeof *ops);
    LLVMValueRef out = NULL;
    bool changed = false;
    for (unsigned i = 0; ops && i < n; i++) {
        LLVMValueRef op = LLVMGetOperand(k, i);
        ops[i] = LLVMValueIsBasicBlock(op) ? op : mewe__clone_constant(c, op);
        if (!ops[i]) {
            free(ops);
            return NULL;
        }
        changed |= ops[i] != op;
    }
    if (ops)
        out = changed ? mewe__labels_rebuild(k, ops) : k;
    free(ops);
    if (out && mewe__ptrmap_put(&c->map, k, out) != 0)
        out = NULL;
    return out;
}

static LLVMValueRef mewe__clone_table(LLVMValueRef g)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(g, &len);
    char buf[256];
    LLVMTypeRef t = LLVMGlobalGetValueType(g);
    LLVMValueRef copy;
    const char *s;

    /* LLVM makes the name unique: one copy per clone. */
    snprintf(buf, sizeof buf, "%.*s.mewe.labels", (int)(len > 200 ? 200 : len), name);
    copy = LLVMAddGlobalInAddressSpace(LLVMGetGlobalParent(g), t, buf,
                                       LLVMGetPointerAddressSpace(LLVMTypeOf(g)));
    LLVMSetLinkage(copy, LLVMGetLinkage(g));
    /* Constant even when the source's is not (-O0 leaves `static void *tab[]` mutable):
     * mewe__labels_check proved that nothing writes it. */
    LLVMSetGlobalConstant(copy, 1);
    LLVMSetThreadLocalMode(copy, LLVMGetThreadLocalMode(g));
    LLVMSetUnnamedAddress(copy, LLVMGetUnnamedAddress(g));
    if (LLVMGetAlignment(g) != 0)
        LLVMSetAlignment(copy, LLVMGetAlignment(g));
    s = LLVMGetSection(g);
    if (s && *s)
        LLVMSetSection(copy, s);
    return copy;
}

/* Maps every block address of the source to the clone's block, and every label table to a
 * copy of its own, once the blocks exist. */
static const char *mewe__clone_labels(mewe__clone *c)
{
    const char *why = mewe__labels_check(c->src, &c->tables);

    if (why)
        return why;
    c->labels = true;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->src); bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef nb = mewe__ptrmap_get(&c->map, LLVMBasicBlockAsValue(bb));
        for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
            LLVMValueRef ba = LLVMGetUser(u);
            if (LLVMGetValueKind(ba) != LLVMBlockAddressValueKind)
                continue;
            if (mewe__ptrmap_put(&c->map, ba, LLVMBlockAddress(c->dst, LLVMValueAsBasicBlock(nb))))
                return "out of memory";
        }
    }
    c->copies.tables = malloc((c->tables.count ? c->tables.count : 1) * sizeof *c->copies.tables);
    if (!c->copies.tables)
        return "out of memory";
    c->copies.cap = c->tables.count;
    /* All copies first: a table may name another (or itself). */
    for (size_t i = 0; i < c->tables.count; i++) {
        LLVMValueRef copy = mewe__clone_table(c->tables.tables[i]);
        c->copies.tables[c->copies.count++] = copy;
        if (mewe__ptrmap_put(&c->map, c->tables.tables[i], copy) != 0)
            return "out of memory";
    }
    for (size_t i = 0; i < c->tables.count; i++) {
        LLVMValueRef init = mewe__clone_constant(c, LLVMGetInitializer(c->tables.tables[i]));
        if (!init)
            return "out of memory";
        LLVMSetInitializer(c->copies.tables[i], init);
    }
    return NULL;
}

/* ---- pass 1: clone instructions ----------------------------------------- */

/* Loop metadata may hold DILocations of the source's subprogram: meaningless
 * in a clone without debug info, and rejected by the verifier ("!dbg
 * attachment points at wrong subprogram") once the clone gets one. */
static int mewe__loop_md_has_location(LLVMValueRef md)
{
    unsigned n = LLVMGetMDNodeNumOperands(md);
    LLVMValueRef *ops = malloc((n ? n : 1) * sizeof *ops);
    int found = 0;

    if (!ops)
        return 1; /* dropping the hint is always safe */
    LLVMGetMDNodeOperands(md, ops);
    for (unsigned i = 0; i < n && !found; i++) {
        if (ops[i])
            found = LLVMGetMetadataKind(LLVMValueAsMetadata(ops[i])) == LLVMDILocationMetadataKind;
    }
    free(ops);
    return found;
}

static void mewe__clone_strip_debug(const mewe__clone *c, LLVMValueRef inst)
{
    LLVMValueRef loop;

    LLVMInstructionSetDebugLoc(inst, NULL);
    /* DIAssignID links a store to dbg.assign records that the clone lacks. */
    LLVMSetMetadata(inst, c->assign_kind, NULL);
    loop = LLVMGetMetadata(inst, c->loop_kind);
    if (loop && mewe__loop_md_has_location(loop))
        LLVMSetMetadata(inst, c->loop_kind, NULL);
}

static void mewe__clone_name(LLVMValueRef from, LLVMValueRef to)
{
    size_t len = 0;
    const char *name = LLVMGetValueName2(from, &len);

    if (len && LLVMGetTypeKind(LLVMTypeOf(to)) != LLVMVoidTypeKind)
        LLVMSetValueName2(to, name, len);
}

static LLVMValueRef mewe__clone_phi(mewe__clone *c, LLVMValueRef phi)
{
    LLVMValueRef np = LLVMBuildPhi(c->builder, LLVMTypeOf(phi), "");

    if (LLVMCanValueUseFastMathFlags(phi))
        LLVMSetFastMathFlags(np, LLVMGetFastMathFlags(phi));
    return np;
}

static LLVMValueRef mewe__clone_inst(mewe__clone *c, LLVMValueRef inst)
{
    LLVMValueRef ni;

    if (LLVMGetInstructionOpcode(inst) == LLVMPHI) {
        ni = mewe__clone_phi(c, inst);
    } else {
        ni = LLVMInstructionClone(inst);
        if (!ni)
            return NULL;
        LLVMInsertIntoBuilderWithName(c->builder, ni, "");
    }
    mewe__clone_name(inst, ni);
    mewe__clone_strip_debug(c, ni);
    return ni;
}

static int mewe__clone_pass_clone(mewe__clone *c)
{
    LLVMBasicBlockRef bb;

    for (bb = LLVMGetFirstBasicBlock(c->src); bb; bb = LLVMGetNextBasicBlock(bb)) {
        LLVMValueRef nbv = mewe__ptrmap_get(&c->map, LLVMBasicBlockAsValue(bb));

        LLVMPositionBuilderAtEnd(c->builder, LLVMValueAsBasicBlock(nbv));
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            LLVMValueRef ni;

            if (mewe__instruction_is_debug(i))
                continue;
            ni = mewe__clone_inst(c, i);
            if (!ni || mewe__ptrmap_put(&c->map, i, ni) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- pass 2: remap operands --------------------------------------------- */

static LLVMValueRef mewe__clone_constant(mewe__clone *c, LLVMValueRef k);

static LLVMValueRef mewe__clone_remap(mewe__clone *c, LLVMValueRef v)
{
    LLVMValueRef mapped = v ? mewe__ptrmap_get(&c->map, v) : NULL;
    LLVMValueRef inner = NULL;

    if (mapped || !v)
        return mapped;
    /* Function-local metadata operands (metadata %x) wrap a local value. */
    if (LLVMIsAValueAsMetadata(v)) {
        LLVMGetMDNodeOperands(v, &inner);
        mapped = inner ? mewe__ptrmap_get(&c->map, inner) : NULL;
        if (mapped)
            return LLVMMetadataAsValue(c->ctx, LLVMValueAsMetadata(mapped));
    }
    /* Constants that hold the source's block addresses or label tables are the clone's
     * own; other constants, globals (including fn itself) and inline asm stay shared. */
    if (c->labels && LLVMIsAConstant(v)) {
        mapped = mewe__clone_constant(c, v);
        c->failed |= !mapped;
        return mapped ? mapped : v;
    }
    return v;
}

static void mewe__clone_fill_phi(mewe__clone *c, LLVMValueRef from, LLVMValueRef to)
{
    unsigned n = LLVMCountIncoming(from);

    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef v = mewe__clone_remap(c, LLVMGetIncomingValue(from, i));
        LLVMValueRef bv = LLVMBasicBlockAsValue(LLVMGetIncomingBlock(from, i));
        LLVMBasicBlockRef b = LLVMValueAsBasicBlock(mewe__clone_remap(c, bv));

        LLVMAddIncoming(to, &v, &b, 1);
    }
}

static void mewe__clone_fix_operands(mewe__clone *c, LLVMValueRef inst)
{
    int n = LLVMGetNumOperands(inst);

    /* Successors are block operands, so this also retargets branches. */
    for (int i = 0; i < n; i++) {
        LLVMValueRef op = LLVMGetOperand(inst, (unsigned)i);
        LLVMValueRef nop = mewe__clone_remap(c, op);

        if (nop != op)
            LLVMSetOperand(inst, (unsigned)i, nop);
    }
}

static void mewe__clone_pass_remap(mewe__clone *c)
{
    LLVMBasicBlockRef bb;

    for (bb = LLVMGetFirstBasicBlock(c->src); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            LLVMValueRef ni = mewe__ptrmap_get(&c->map, i);

            if (!ni)
                continue; /* a skipped debug intrinsic */
            if (LLVMGetInstructionOpcode(i) == LLVMPHI)
                mewe__clone_fill_phi(c, i, ni);
            else
                mewe__clone_fix_operands(c, ni);
        }
    }
}

/* ---- driver ------------------------------------------------------------- */

static size_t mewe__clone_size_hint(LLVMValueRef fn)
{
    size_t n = LLVMCountParams(fn);

    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        n++;
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            n++;
    }
    return n;
}

/* Copy everything into c->dst; the returned reason is NULL on success. */
static const char *mewe__clone_fill(mewe__clone *c)
{
    if (mewe__clone_attrs(c->src, c->dst) != 0)
        return "out of memory";
    mewe__clone_globals(c->src, c->dst, c->ctx);
    if (mewe__ptrmap_init(&c->map, mewe__clone_size_hint(c->src)) != 0 ||
        mewe__clone_params(c) != 0 || mewe__clone_blocks(c) != 0)
        return "out of memory";
    if (mewe__labels_taken(c->src)) {
        const char *why = mewe__clone_labels(c);
        if (why)
            return why;
    }
    c->builder = LLVMCreateBuilderInContext(c->ctx);
    if (mewe__clone_pass_clone(c) != 0)
        return "out of memory or uncloneable instruction";
    mewe__clone_pass_remap(c);
    return c->failed ? "out of memory" : NULL;
}

static LLVMValueRef mewe__clone_add(LLVMValueRef fn, const char *new_name, char **errmsg)
{
    LLVMModuleRef mod = LLVMGetGlobalParent(fn);
    LLVMValueRef dst = LLVMAddFunction(mod, new_name, LLVMGlobalGetValueType(fn));
    size_t len = 0;
    const char *got = LLVMGetValueName2(dst, &len);

    /* LLVM silently renames on a clash; the caller asked for this name. */
    if (len != strlen(new_name) || memcmp(got, new_name, len) != 0) {
        LLVMDeleteFunction(dst);
        mewe__clone_error(errmsg, fn, "name already in use", new_name);
        return NULL;
    }
    return dst;
}

/* Only the module verifier explains itself; run it just on failure, while
 * the broken clone is still in the module. */
static char *mewe__clone_verify_report(LLVMValueRef fn)
{
    char *report = NULL;

    LLVMVerifyModule(LLVMGetGlobalParent(fn), LLVMReturnStatusAction, &report);
    return report;
}

static void mewe__clone_discard(mewe__clone *c, const char *why, char **errmsg)
{
    char *report = why ? NULL : mewe__clone_verify_report(c->dst);

    LLVMDeleteFunction(c->dst);
    mewe__labels_delete_dead(&c->copies);
    c->dst = NULL;
    mewe__clone_error(errmsg, c->src, why ? why : "clone fails verification", report);
    if (report)
        LLVMDisposeMessage(report);
}

static int mewe__clone_check_args(LLVMValueRef fn, const char *new_name, char **errmsg)
{
    static const char not_fn[] = "cannot clone: not a function";

    if (fn && LLVMIsAFunction(fn)) {
        if (!LLVMIsDeclaration(fn) && new_name && *new_name)
            return 0;
        mewe__clone_error(errmsg, fn, "no body or no new name", NULL);
    } else if (errmsg) {
        *errmsg = malloc(sizeof not_fn);
        if (*errmsg)
            memcpy(*errmsg, not_fn, sizeof not_fn);
    }
    return -1;
}

LLVMValueRef mewe__function_clone(LLVMValueRef fn, const char *new_name, char **errmsg)
{
    mewe__clone c;
    const char *why;

    if (errmsg)
        *errmsg = NULL;
    if (mewe__clone_check_args(fn, new_name, errmsg) != 0)
        return NULL;
    memset(&c, 0, sizeof c);
    c.src = fn;
    c.ctx = LLVMGetTypeContext(LLVMTypeOf(fn));
    c.loop_kind = LLVMGetMDKindIDInContext(c.ctx, "llvm.loop", 9);
    c.assign_kind = LLVMGetMDKindIDInContext(c.ctx, "DIAssignID", 10);
    c.dst = mewe__clone_add(fn, new_name, errmsg);
    if (!c.dst)
        return NULL;
    why = mewe__clone_fill(&c);
    if (c.builder)
        LLVMDisposeBuilder(c.builder);
    mewe__ptrmap_fini(&c.map);
    if (why || LLVMVerifyFunction(c.dst, LLVMReturnStatusAction))
        mewe__clone_discard(&c, why, errmsg);
    mewe__labels_fini(&c.tables);
    mewe__labels_fini(&c.copies);
    return c.dst;
}

int mewe__function_copy_properties(LLVMValueRef src, LLVMValueRef dst)
{
    LLVMContextRef ctx = LLVMGetTypeContext(LLVMTypeOf(src));

    if (mewe__clone_attrs(src, dst) != 0)
        return -1;
    mewe__clone_globals(src, dst, ctx);
    return 0;
}
