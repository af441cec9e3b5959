/* mewe_link_multivariant: each function with variants becomes a dispatcher; its own body
 * becomes variant 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "clone.h"
#include "dispatch.h"
#include "irutil.h"
#include "variants.h"

typedef mewe__linking linking;

int mewe_link_options_init(mewe_link_options *opts, unsigned int version)
{
    if (!opts)
        return MEWE_EINVAL;
    if (version != MEWE_LINK_OPTIONS_VERSION)
        return MEWE_EVERSION;
    mewe_link_options defaults = MEWE_LINK_OPTIONS_INIT;
    *opts = defaults;
    return MEWE_OK;
}

static int check_options(mewe_context *ctx, const mewe_link_options *o)
{
    if (o->version != MEWE_LINK_OPTIONS_VERSION)
        return mewe__error(ctx, MEWE_EVERSION, "link options version %u unknown (this libmewe "
                           "knows %d)", o->version, MEWE_LINK_OPTIONS_VERSION);
    if ((int)o->dispatch < MEWE_DISPATCH_SWITCH || o->dispatch > MEWE_DISPATCH_TABLE)
        return mewe__error(ctx, MEWE_EINVAL, "link option dispatch: %d is not a "
                           "mewe_dispatch_kind", (int)o->dispatch);
    if ((int)o->granularity < MEWE_GRANULARITY_CALL ||
        o->granularity > MEWE_GRANULARITY_INSTANCE)
        return mewe__error(ctx, MEWE_EINVAL, "link option granularity: %d is not a "
                           "mewe_granularity", (int)o->granularity);
    return MEWE_OK;
}

/* Attributes that promise no memory effects no longer hold once a dispatcher updates a
 * random state: keeping them would make the call's side effects undefined behaviour. */
static const char *const effect_attrs[] = {"memory", "readnone", "readonly", "writeonly",
                                           "argmemonly", "inaccessiblememonly",
                                           "speculatable", "nosync", NULL};

static void strip_effects_fn(LLVMValueRef fn)
{
    for (const char *const *a = effect_attrs; *a; a++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(*a, strlen(*a));
        if (kind)
            LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
    }
}

static void strip_effects_calls(LLVMValueRef fn)
{
    for (LLVMUseRef u = LLVMGetFirstUse(fn); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsACallInst(user) || LLVMGetCalledValue(user) != fn)
            continue;
        for (const char *const *a = effect_attrs; *a; a++) {
            unsigned kind = LLVMGetEnumAttributeKindForName(*a, strlen(*a));
            if (kind)
                LLVMRemoveCallSiteEnumAttribute(user, LLVMAttributeFunctionIndex, kind);
        }
    }
}

/* Moves f's body into a new function, variant 0, leaving f an empty declaration-to-be. */
static LLVMValueRef move_body(linking *l, LLVMValueRef f, const char *name)
{
    LLVMValueRef v0 = LLVMAddFunction(l->llvm, "mewe.v0.tmp", LLVMGlobalGetValueType(f));
    if (mewe__function_copy_properties(f, v0) != 0) {
        LLVMDeleteFunction(v0);
        return NULL;
    }
    LLVMBasicBlockRef anchor = LLVMAppendBasicBlockInContext(l->c, v0, "");
    LLVMBasicBlockRef pos = anchor;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb;) {
        LLVMBasicBlockRef next = LLVMGetNextBasicBlock(bb);
        LLVMMoveBasicBlockAfter(bb, pos);
        pos = bb;
        bb = next;
    }
    LLVMDeleteBasicBlock(anchor);
    for (unsigned i = 0; i < LLVMCountParams(f); i++) {
        LLVMValueRef from = LLVMGetParam(f, i), to = LLVMGetParam(v0, i);
        size_t len;
        const char *pname = LLVMGetValueName2(from, &len);
        LLVMSetValueName2(to, pname, len);
        LLVMReplaceAllUsesWith(from, to);
    }
    /* The body's debug locations belong to f's subprogram, which moves with it. */
    LLVMMetadataRef sp = LLVMGetSubprogram(f);
    if (sp) {
        LLVMSetSubprogram(v0, sp);
        LLVMSetSubprogram(f, NULL);
    }
    mewe__variant_mark(v0, name, 0);
    return v0;
}

static void copy_call_attrs(LLVMValueRef call, LLVMValueRef f)
{
    unsigned n = LLVMCountParams(f);
    for (unsigned idx = 0; idx <= n; idx++) { /* 0: return value, i + 1: parameter i */
        unsigned count = LLVMGetAttributeCountAtIndex(f, idx);
        if (!count)
            continue;
        LLVMAttributeRef *attrs = malloc(count * sizeof *attrs);
        if (!attrs)
            continue; /* only annotations are lost, never correctness of the call */
        LLVMGetAttributesAtIndex(f, idx, attrs);
        for (unsigned k = 0; k < count; k++)
            LLVMAddCallSiteAttribute(call, idx, attrs[k]);
        free(attrs);
    }
    LLVMSetInstructionCallConv(call, LLVMGetFunctionCallConv(f));
}

/* Calls `callee` (a variant, or a pointer to one) with f's arguments and returns its result. */
static void build_forward(linking *l, LLVMValueRef f, LLVMValueRef callee)
{
    LLVMTypeRef fty = LLVMGlobalGetValueType(f);
    unsigned n = LLVMCountParams(f);
    LLVMValueRef *args = malloc((n ? n : 1) * sizeof *args);
    for (unsigned i = 0; args && i < n; i++)
        args[i] = LLVMGetParam(f, i);
    LLVMValueRef call = LLVMBuildCall2(l->b, fty, callee, args, n, "");
    free(args);
    copy_call_attrs(call, f);
    LLVMSetTailCall(call, 1);
    if (LLVMGetTypeKind(LLVMGetReturnType(fty)) == LLVMVoidTypeKind)
        LLVMBuildRetVoid(l->b);
    else
        LLVMBuildRet(l->b, call);
}

int mewe__build_choice(mewe__linking *l, LLVMValueRef fn, const char *name, uint64_t salt,
                       LLVMValueRef n, LLVMValueRef *out)
{
    mewe_hook hook;
    mewe__hook_init(&hook, l->ctx, &l->rng, mewe__seed_for(l->ctx->seed, name, salt));
    const mewe__plugin *p = l->rng.plugin;
    *out = NULL;
    int rc = p->fn.build(&hook, l->b, fn, n, out, p->user_data);
    char what[512];
    snprintf(what, sizeof what, "dispatcher '%s'", name);
    rc = mewe__hook_finish(&hook, rc, what);
    if (rc == MEWE_OK && (!*out || LLVMTypeOf(*out) != l->i32))
        rc = mewe__error(l->ctx, MEWE_EINVAL, "RNG strategy '%s' gave no i32 index for '%s'",
                         p->name, name);
    return rc;
}

/* Address space 1 makes a wasm global (cheaper than linear memory to read at every call),
 * which LLVM's wasm backend can only start at 0. */
static LLVMValueRef internal_global(linking *l, LLVMTypeRef t, const char *name,
                                    const char *suffix, LLVMValueRef init, unsigned space)
{
    char gname[512];
    snprintf(gname, sizeof gname, "%s.mewe.%s", name, suffix);
    LLVMValueRef g = LLVMAddGlobalInAddressSpace(l->llvm, t, gname, space);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, init);
    return g;
}

/* The globals a dispatcher and its call sites share. */
static void make_globals(linking *l, mewe__dispatch *d)
{
    if (l->o->dispatch == MEWE_DISPATCH_TABLE) {
        LLVMTypeRef arr = LLVMArrayType2(l->ptr, d->n);
        d->table = internal_global(l, arr, d->name, "table",
                                   LLVMConstArray2(l->ptr, d->all, d->n), 0);
        LLVMSetGlobalConstant(d->table, 1);
    }
    if (l->o->granularity == MEWE_GRANULARITY_INSTANCE) {
        d->choice = internal_global(l, l->i32, d->name, "choice", LLVMConstInt(l->i32, 0, 0),
                                    1);
        if (d->table)
            d->chosen = internal_global(l, l->ptr, d->name, "chosen", d->f, 0);
    }
}

static LLVMValueRef table_entry(linking *l, mewe__dispatch *d, LLVMValueRef index)
{
    LLVMValueRef idx[] = {LLVMConstInt(l->i32, 0, 0), index};
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(l->b, LLVMGlobalGetValueType(d->table), d->table,
                                              idx, 2, "");
    return LLVMBuildLoad2(l->b, l->ptr, slot, "");
}

/* Per-instance granularity: the choice is made once and kept as index + 1 (0 means "not
 * chosen yet", so the global needs no initializer code); with table dispatch the chosen
 * variant's address is kept too, for the call sites to call it directly. */
static int build_cached_choice(linking *l, mewe__dispatch *d, LLVMValueRef n, LLVMValueRef *out)
{
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(l->b);
    LLVMBasicBlockRef choose = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.choose");
    LLVMBasicBlockRef ready = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.ready");
    LLVMValueRef cached = LLVMBuildLoad2(l->b, l->i32, d->choice, "");
    LLVMValueRef kept = LLVMBuildSub(l->b, cached, LLVMConstInt(l->i32, 1, 0), "");
    LLVMValueRef none = LLVMBuildICmp(l->b, LLVMIntEQ, cached, LLVMConstInt(l->i32, 0, 0), "");
    LLVMBuildCondBr(l->b, none, choose, ready);
    LLVMPositionBuilderAtEnd(l->b, choose);
    LLVMValueRef fresh;
    int rc = mewe__build_choice(l, d->f, d->name, 0xD15Bull, n, &fresh);
    if (rc != MEWE_OK)
        return rc;
    LLVMBuildStore(l->b, LLVMBuildAdd(l->b, fresh, LLVMConstInt(l->i32, 1, 0), ""), d->choice);
    if (d->chosen)
        LLVMBuildStore(l->b, table_entry(l, d, fresh), d->chosen);
    LLVMBasicBlockRef chosen = LLVMGetInsertBlock(l->b);
    LLVMBuildBr(l->b, ready);
    LLVMPositionBuilderAtEnd(l->b, ready);
    LLVMValueRef phi = LLVMBuildPhi(l->b, l->i32, "mewe.index");
    LLVMValueRef vals[] = {kept, fresh};
    LLVMBasicBlockRef from[] = {entry, chosen};
    LLVMAddIncoming(phi, vals, from, 2);
    *out = phi;
    return MEWE_OK;
}

static LLVMValueRef trace_function(linking *l)
{
    if (l->trace_fn)
        return l->trace_fn;
    LLVMTypeRef args[] = {l->i32, l->i32};
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(l->c), args, 2, 0);
    l->trace_fn = LLVMAddFunction(l->llvm, "mewe.trace.record", fty);
    const char *k1 = "wasm-import-module", *v1 = "mewe_trace";
    const char *k2 = "wasm-import-name", *v2 = "record";
    LLVMAddAttributeAtIndex(l->trace_fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(l->c, k1, (unsigned)strlen(k1), v1,
                                                      (unsigned)strlen(v1)));
    LLVMAddAttributeAtIndex(l->trace_fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(l->c, k2, (unsigned)strlen(k2), v2,
                                                      (unsigned)strlen(v2)));
    return l->trace_fn;
}

static void build_switch(linking *l, LLVMValueRef f, LLVMValueRef index, LLVMValueRef *all,
                         size_t n)
{
    LLVMBasicBlockRef *cases = malloc(n * sizeof *cases);
    for (size_t i = 0; cases && i < n; i++) {
        char bname[32];
        snprintf(bname, sizeof bname, "mewe.v%zu", i);
        cases[i] = LLVMAppendBasicBlockInContext(l->c, f, bname);
    }
    if (!cases)
        return;
    LLVMValueRef sw = LLVMBuildSwitch(l->b, index, cases[0], (unsigned)(n - 1));
    for (size_t i = 1; i < n; i++)
        LLVMAddCase(sw, LLVMConstInt(l->i32, i, 0), cases[i]);
    for (size_t i = 0; i < n; i++) {
        LLVMPositionBuilderAtEnd(l->b, cases[i]);
        build_forward(l, f, all[i]);
    }
    free(cases);
}

static void build_table(linking *l, mewe__dispatch *d, LLVMValueRef index)
{
    build_forward(l, d->f, table_entry(l, d, index));
}

static void mark_dispatcher(linking *l, LLVMValueRef f, unsigned id)
{
    char idtext[16];
    snprintf(idtext, sizeof idtext, "%u", id);
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(l->c, MEWE_ATTR_DISPATCHER,
                                                      (unsigned)strlen(MEWE_ATTR_DISPATCHER),
                                                      idtext, (unsigned)strlen(idtext)));
}

static int build_dispatcher(linking *l, mewe__family *fam, mewe__dispatch *d)
{
    d->f = fam->original;
    d->name = fam->name;
    d->n = fam->count + 1;
    d->all = malloc(d->n * sizeof *d->all);
    if (!d->all)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    d->all[0] = move_body(l, d->f, fam->name);
    if (!d->all[0])
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    memcpy(d->all + 1, fam->variants, fam->count * sizeof *d->all);
    for (size_t i = 0; i < d->n; i++)
        strip_effects_fn(d->all[i]);
    strip_effects_fn(d->f);
    strip_effects_calls(d->f);
    make_globals(l, d);
    /* The dispatcher has no debug info; a location left on the builder would be invalid. */
    LLVMSetCurrentDebugLocation2(l->b, NULL);
    LLVMPositionBuilderAtEnd(l->b, LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.dispatch"));
    LLVMValueRef count = LLVMConstInt(l->i32, d->n, 0), index;
    int rc = d->choice ? build_cached_choice(l, d, count, &index)
                       : mewe__build_choice(l, d->f, d->name, 0xD15Bull, count, &index);
    if (rc != MEWE_OK)
        return rc;
    if (l->o->trace) {
        LLVMValueRef args[] = {LLVMConstInt(l->i32, d->id, 0), index};
        LLVMBuildCall2(l->b, LLVMGlobalGetValueType(trace_function(l)), trace_function(l), args,
                       2, "");
    }
    if (d->table)
        build_table(l, d, index);
    else
        build_switch(l, d->f, index, d->all, d->n);
    mark_dispatcher(l, d->f, d->id);
    return MEWE_OK;
}

/* Dispatchers in module order, so that ids are stable for a given input. Call sites are
 * rewritten once every dispatcher exists (variants call each other's functions). With
 * tracing, every call goes through its dispatcher so that every choice is recorded. */
static int build_all(linking *l, mewe__families *fams, unsigned *count)
{
    mewe__dispatch *ds = calloc(fams->count ? fams->count : 1, sizeof *ds);
    if (!ds)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    unsigned n = 0;
    int rc = MEWE_OK;
    for (LLVMValueRef f = LLVMGetFirstFunction(l->llvm); rc == MEWE_OK && f;
         f = LLVMGetNextFunction(f)) {
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        unsigned vlen;
        if (LLVMIsDeclaration(f) || mewe__variant_of(f, &vlen))
            continue;
        mewe__family *fam = mewe__families_find(fams, name);
        if (!fam || fam->count == 0)
            continue;
        fam->original = f;
        ds[n].id = n;
        rc = build_dispatcher(l, fam, &ds[n++]);
    }
    for (unsigned i = 0; rc == MEWE_OK && !l->o->trace && i < n; i++)
        rc = mewe__rewrite_call_sites(l, &ds[i]);
    for (unsigned i = 0; i < n; i++)
        free(ds[i].all);
    free(ds);
    *count = n;
    return rc;
}

static char *link_summary(const mewe_link_options *o, const char *rng, unsigned dispatchers)
{
    return mewe__printf("{\"dispatch\": \"%s\", \"granularity\": \"%s\", \"rng\": \"%s\", "
                        "\"trace\": %s, \"dispatchers\": %u}",
                        o->dispatch == MEWE_DISPATCH_TABLE ? "table" : "switch",
                        o->granularity == MEWE_GRANULARITY_INSTANCE ? "instance" : "call", rng,
                        o->trace ? "true" : "false", dispatchers);
}

static int verify_linked(linking *l, const char *module_name)
{
    char *what = mewe__printf("'%s' made multivariant (with RNG strategy '%s')", module_name,
                              l->rng.plugin->name);
    int rc = what ? mewe__verify(l->ctx, l->llvm, what) : MEWE_ENOMEM;
    free(what);
    return rc;
}

int mewe_link_multivariant(mewe_module *module, const mewe_link_options *opts)
{
    if (!module)
        return MEWE_EINVAL;
    mewe_context *ctx = module->ctx;
    mewe_link_options defaults = MEWE_LINK_OPTIONS_INIT;
    const mewe_link_options *o = opts ? opts : &defaults;
    int rc = check_options(ctx, o);
    if (rc != MEWE_OK)
        return rc;
    if (module->multivariant)
        return mewe__error(ctx, MEWE_ESTATE, "'%s' is already multivariant", module->name);
    linking l = {.ctx = ctx, .o = o, .c = ctx->llvm};
    rc = mewe__spec_parse(ctx, &l.rng, &ctx->strategies, "RNG strategy", o->rng ? o->rng : "wasi");
    if (rc != MEWE_OK)
        return rc;
    /* All the work happens on a copy, swapped in only on success: a failing strategy leaves
     * the module as it was. */
    l.llvm = mewe__module_clone(module->llvm);
    l.b = LLVMCreateBuilderInContext(l.c);
    l.i32 = LLVMInt32TypeInContext(l.c);
    l.ptr = LLVMPointerTypeInContext(l.c, 0);
    mewe__families fams = {0};
    unsigned dispatchers = 0;
    if (!l.llvm || mewe__families_collect(&fams, l.llvm) != MEWE_OK)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (rc == MEWE_OK)
        rc = build_all(&l, &fams, &dispatchers);
    if (rc == MEWE_OK)
        rc = verify_linked(&l, module->name);
    char *summary = rc == MEWE_OK ? link_summary(o, l.rng.text, dispatchers) : NULL;
    if (rc == MEWE_OK && !summary)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (rc == MEWE_OK && dispatchers > 0) {
        LLVMDisposeModule(module->llvm);
        module->llvm = l.llvm;
        l.llvm = NULL;
        module->multivariant = true;
        free(module->link_summary);
        module->link_summary = summary;
        summary = NULL;
        mewe__module_changed(module);
    }
    free(summary);
    if (l.llvm)
        LLVMDisposeModule(l.llvm);
    mewe__families_free(&fams);
    LLVMDisposeBuilder(l.b);
    mewe__spec_fini(&l.rng);
    return rc;
}
