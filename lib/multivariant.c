/* mewe_link_multivariant: each function with variants becomes a dispatcher that chooses one
 * of them by the policy the cost model (cost.c) planned, and either branches to the chosen
 * body inside itself (small functions: their variants are moved in) or calls it (larger
 * ones: their own body becomes variant 0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "ir/clone.h"
#include "ir/cost.h"
#include "ir/eligibility.h"
#include "ir/irutil.h"
#include "ir/labels.h"
#include "plugin.h"
#include "profile.h"
#include "util/array.h"
#include "ir/family.h"

/* The state of one mewe_link_multivariant call. */
typedef struct linking {
    mewe_context *ctx;
    mewe__link_settings s;
    LLVMModuleRef llvm;
    LLVMContextRef c;
    LLVMBuilderRef b;
    mewe__spec rng;
    LLVMTypeRef i32, ptr;
    LLVMValueRef trace_fn;
    mewe__run_estimate run; /* with a profile */
    size_t profile_unmatched;
    /* The epoch clock (epoch_tick), made when a counted dispatcher first needs it. */
    LLVMValueRef tick_fn, forget_fn;
    unsigned epoch_length;
    bool epochs; /* some dispatcher keeps its choice until the next epoch */
} linking;

/* One function with variants, once linked. */
typedef struct dispatch {
    LLVMValueRef f; /* the dispatcher, under the original's name */
    const char *name;
    unsigned id;
    LLVMValueRef *all; /* variants 0..n-1 (variant 0: the original body) */
    size_t n;
    mewe__plan plan;
    LLVMValueRef table;  /* [n x ptr] of the variants (table dispatch), or NULL */
    LLVMValueRef choice; /* i32 global: the kept choice (+ 1 when 0 means "none yet") */
    LLVMValueRef count;  /* i32 global: calls left before the next choice (every N) */
} dispatch;

/* Sizes of each version of mewe_link_options: a caller built against an older header
 * passes a shorter struct, whose missing fields take their defaults. */
static const size_t options_size[] = {
    0, offsetof(mewe_link_options, max_overhead), /* version 1 */
    sizeof(mewe_link_options),                    /* version 2 */
};

int mewe_link_options_init(mewe_link_options *opts, unsigned int version)
{
    mewe_link_options defaults = MEWE_LINK_OPTIONS_INIT;
    return mewe__options_init(opts, &defaults, version, options_size, MEWE_LINK_OPTIONS_VERSION);
}

/* Reads options of any known version into settings with every default filled in. */
static int read_options(mewe_context *ctx, const mewe_link_options *opts, mewe__link_settings *s)
{
    mewe_link_options o = MEWE_LINK_OPTIONS_INIT;
    int rc = mewe__options_read(ctx, &o, opts, options_size, MEWE_LINK_OPTIONS_VERSION, "link");
    if (rc != MEWE_OK)
        return rc;
    if ((int)o.dispatch < MEWE_DISPATCH_SWITCH || o.dispatch > MEWE_DISPATCH_TABLE)
        return mewe__error(ctx, MEWE_EINVAL,
                           "link option dispatch: %d is not a "
                           "mewe_dispatch_kind",
                           (int)o.dispatch);
    if ((int)o.granularity < MEWE_GRANULARITY_CALL || o.granularity > MEWE_GRANULARITY_INVOCATION)
        return mewe__error(ctx, MEWE_EINVAL,
                           "link option granularity: %d is not a "
                           "mewe_granularity",
                           (int)o.granularity);
    if (isnan(o.max_overhead) || (o.max_overhead != 0.0 && o.max_overhead < 1.0))
        return mewe__error(ctx, MEWE_EINVAL,
                           "link option max_overhead: %g is not a factor "
                           ">= 1 (0 means the default, %.2f)",
                           o.max_overhead, MEWE_MAX_OVERHEAD_DEFAULT);
    if (o.period > MEWE__PERIOD_LIMIT)
        return mewe__error(ctx, MEWE_EINVAL, "link option period: %u is more than %u", o.period,
                           MEWE__PERIOD_LIMIT);
    *s = (mewe__link_settings){
        .dispatch = o.dispatch,
        .granularity = o.granularity,
        .rng = o.rng ? o.rng : MEWE__RNG_DEFAULT,
        .trace = o.trace != 0,
        .max_overhead = o.max_overhead != 0.0 ? o.max_overhead : MEWE_MAX_OVERHEAD_DEFAULT,
        .period = o.period ? o.period : MEWE_PERIOD_DEFAULT,
        .inline_limit = o.inline_limit ? o.inline_limit : MEWE_INLINE_LIMIT_DEFAULT,
        .profile = o.profile,
    };
    return MEWE_OK;
}

/* Attributes that promise no memory effects no longer hold once a dispatcher updates a
 * random state: keeping them would make the call's side effects undefined behaviour. */
static const char *const effect_attrs[] = {"memory",       "readnone",   "readonly",
                                           "writeonly",    "argmemonly", "inaccessiblememonly",
                                           "speculatable", "nosync",     NULL};

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

/* A body whose blocks' addresses are taken cannot move to another function: a blockaddress
 * names its function as well as its block, and LLVM can neither re-point it nor make a new
 * one for a moved block. Variant 0 is then a copy of f with label tables of its own, and
 * f's body is deleted, with the tables only it used (generation checked that no address
 * leaves f). The copy, like every variant, carries no debug info. */
static int copy_body(linking *l, LLVMValueRef f, const char *name, LLVMValueRef *out)
{
    LLVMValueRef v0;
    int rc = mewe__function_clone(&v0, l->ctx, f, "mewe.v0.tmp"); /* its message names f */
    if (rc != MEWE_OK)
        return rc;
    mewe__function_delete_body(f);
    if (LLVMGetSubprogram(f))
        LLVMSetSubprogram(f, NULL);
    mewe__variant_mark(v0, name, 0);
    *out = v0;
    return MEWE_OK;
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

/* Asks the RNG strategy for an index in [0, n) at the builder's position in `fn`; `salt`
 * tells apart the places that ask for the same function. */
static int build_choice(linking *l, LLVMValueRef fn, const char *name, uint64_t salt, unsigned n,
                        LLVMValueRef *out)
{
    mewe_hook hook;
    mewe__hook_init(&hook, l->ctx, &l->rng,
                    mewe__seed_for(l->ctx->seed, name, MEWE__SALT_LINK | salt));
    const mewe__plugin *p = l->rng.plugin;
    *out = NULL;
    int rc = p->fn.build(&hook, l->b, fn, LLVMConstInt(l->i32, n, 0), out, p->user_data);
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
static LLVMValueRef internal_global(linking *l, LLVMTypeRef t, const char *name, const char *suffix,
                                    LLVMValueRef init, unsigned space)
{
    char gname[512];
    snprintf(gname, sizeof gname, "%s.mewe.%s", name, suffix);
    LLVMValueRef g = LLVMAddGlobalInAddressSpace(l->llvm, t, gname, space);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, init);
    return g;
}

static LLVMValueRef k32(linking *l, unsigned v)
{
    return LLVMConstInt(l->i32, v, 0);
}

/* The globals a dispatcher keeps its choice in. */
static void make_globals(linking *l, dispatch *d)
{
    if (!d->plan.inlined && l->s.dispatch == MEWE_DISPATCH_TABLE) {
        LLVMTypeRef arr = LLVMArrayType2(l->ptr, d->n);
        d->table =
            internal_global(l, arr, d->name, "table", LLVMConstArray2(l->ptr, d->all, d->n), 0);
        LLVMSetGlobalConstant(d->table, 1);
    }
    if (d->plan.policy != MEWE_GRANULARITY_CALL)
        d->choice = internal_global(l, l->i32, d->name, "choice", k32(l, 0), 1);
    if (d->plan.policy == MEWE_GRANULARITY_EVERY)
        d->count = internal_global(l, l->i32, d->name, "count", k32(l, 0), 1);
}

/* Joins two values coming from two blocks into `ready`, where the builder is left. */
static LLVMValueRef join(linking *l, LLVMBasicBlockRef ready, LLVMValueRef a,
                         LLVMBasicBlockRef from_a, LLVMValueRef b, LLVMBasicBlockRef from_b)
{
    LLVMPositionBuilderAtEnd(l->b, ready);
    LLVMValueRef phi = LLVMBuildPhi(l->b, l->i32, "mewe.index");
    LLVMValueRef vals[] = {a, b};
    LLVMBasicBlockRef from[] = {from_a, from_b};
    LLVMAddIncoming(phi, vals, from, 2);
    return phi;
}

/* The function that draws a dispatcher's new choice, "mewe.redraw.<name>" (no parameters,
 * an i32 result), with the builder at the end of its entry block: a redraw that runs once per
 * N calls or per epoch is called, not inlined, so that the random generator's state (64-bit
 * locals) does not widen the dispatcher's frame at every call (a recursive function's
 * recursion would get shallower by it). The built-in strategies only; a strategy of the
 * caller's builds in the dispatcher, as its hook says. NULL: inline, the builder unmoved. */
static LLVMValueRef redraw_function(linking *l, dispatch *d)
{
    if (!l->rng.plugin->builtin)
        return NULL;
    char name[512];
    snprintf(name, sizeof name, "mewe.redraw.%s", d->name);
    LLVMValueRef fn = LLVMAddFunction(l->llvm, name, LLVMFunctionType(l->i32, NULL, 0, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    mewe__fn_enum_attr_set(fn, "noinline", true);
    LLVMPositionBuilderAtEnd(l->b, LLVMAppendBasicBlockInContext(l->c, fn, "entry"));
    return fn;
}

/* Ends the redraw function `fn` returning `fresh`, and calls it where the builder was
 * (block `at` of the dispatcher): the fresh choice there. Without fn, `fresh` itself. */
static LLVMValueRef redraw_call(linking *l, LLVMValueRef fn, LLVMBasicBlockRef at,
                                LLVMValueRef fresh)
{
    if (!fn)
        return fresh;
    LLVMBuildRet(l->b, fresh);
    LLVMPositionBuilderAtEnd(l->b, at);
    return LLVMBuildCall2(l->b, LLVMGlobalGetValueType(fn), fn, NULL, 0, "mewe.fresh");
}

/* Per instance and per invocation: the choice is kept as index + 1, 0 meaning "none yet"
 * (the global needs no initializer code); the first call chooses. */
static int build_kept_choice(linking *l, dispatch *d, LLVMValueRef *out)
{
    LLVMBasicBlockRef entry = LLVMGetInsertBlock(l->b);
    LLVMBasicBlockRef choose = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.choose");
    LLVMBasicBlockRef ready = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.ready");
    LLVMValueRef cached = LLVMBuildLoad2(l->b, l->i32, d->choice, "");
    LLVMValueRef kept = LLVMBuildSub(l->b, cached, k32(l, 1), "");
    LLVMBuildCondBr(l->b, LLVMBuildICmp(l->b, LLVMIntEQ, cached, k32(l, 0), ""), choose, ready);
    LLVMPositionBuilderAtEnd(l->b, choose);
    LLVMValueRef own = redraw_function(l, d);
    LLVMValueRef fresh;
    int rc = build_choice(l, own ? own : d->f, d->name, 0xD15Bull, (unsigned)d->n, &fresh);
    if (rc != MEWE_OK)
        return rc;
    LLVMBuildStore(l->b, LLVMBuildAdd(l->b, fresh, k32(l, 1), ""), d->choice);
    fresh = redraw_call(l, own, choose, fresh);
    LLVMBasicBlockRef chosen = LLVMGetInsertBlock(l->b);
    LLVMBuildBr(l->b, ready);
    *out = join(l, ready, kept, entry, fresh, chosen);
    return MEWE_OK;
}

static LLVMValueRef epoch_global(linking *l, const char *name)
{
    LLVMValueRef g = LLVMAddGlobalInAddressSpace(l->llvm, l->i32, name, 1);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, k32(l, 0));
    return g;
}

/* Redraws counted before the countdowns reach their full period. */
#define RAMP_MAX (1u << 20)

/* The smaller of two unsigned values. */
static LLVMValueRef build_umin(LLVMBuilderRef b, LLVMValueRef x, LLVMValueRef y)
{
    return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULT, x, y, ""), x, y, "");
}

/* The epoch clock, shared by the module's dispatchers. Every counted redraw (every N calls)
 * calls mewe.epoch.tick, which counts redraws. The count so far (the ramp) bounds the next
 * countdown, so that a run chooses often from its start (a short run still makes many
 * choices) and reaches the full period after about N redraws. Every epoch_length redraws
 * (fewer at the start, by the same ramp) the tick calls mewe.epoch.forget, which clears the
 * kept choice of every epoch dispatcher (finish_epochs), so that each chooses again at its
 * next call: functions too small for a counter of their own re-randomize for the price of a
 * test. Returns the ramp, for the caller's countdown. */
static LLVMValueRef epoch_tick(linking *l)
{
    if (l->tick_fn)
        return l->tick_fn;
    LLVMTypeRef void_t = LLVMVoidTypeInContext(l->c);
    l->forget_fn =
        LLVMAddFunction(l->llvm, "mewe.epoch.forget", LLVMFunctionType(void_t, NULL, 0, 0));
    l->tick_fn = LLVMAddFunction(l->llvm, "mewe.epoch.tick", LLVMFunctionType(l->i32, NULL, 0, 0));
    LLVMValueRef fns[] = {l->forget_fn, l->tick_fn};
    for (size_t i = 0; i < 2; i++) {
        LLVMSetLinkage(fns[i], LLVMInternalLinkage);
        mewe__fn_enum_attr_set(fns[i], "noinline", true);
        mewe__fn_enum_attr_set(fns[i], "cold", true);
    }
    LLVMValueRef ramp = epoch_global(l, "mewe.epoch.ramp");
    LLVMValueRef left = epoch_global(l, "mewe.epoch.left");
    LLVMBuilderRef b = LLVMCreateBuilderInContext(l->c);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(l->c, l->tick_fn, "entry");
    LLVMBasicBlockRef count = LLVMAppendBasicBlockInContext(l->c, l->tick_fn, "count");
    LLVMBasicBlockRef forget = LLVMAppendBasicBlockInContext(l->c, l->tick_fn, "forget");
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef r = LLVMBuildLoad2(b, l->i32, ramp, "");
    LLVMValueRef below = LLVMBuildICmp(b, LLVMIntULT, r, k32(l, RAMP_MAX), "");
    r = LLVMBuildAdd(b, r, LLVMBuildZExt(b, below, l->i32, ""), "ramp");
    LLVMBuildStore(b, r, ramp);
    LLVMValueRef n = LLVMBuildLoad2(b, l->i32, left, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, n, k32(l, 0), ""), forget, count);
    LLVMPositionBuilderAtEnd(b, count);
    LLVMBuildStore(b, LLVMBuildSub(b, n, k32(l, 1), ""), left);
    LLVMBuildRet(b, r);
    LLVMPositionBuilderAtEnd(b, forget);
    LLVMBuildCall2(b, LLVMGlobalGetValueType(l->forget_fn), l->forget_fn, NULL, 0, "");
    LLVMValueRef len = k32(l, l->epoch_length);
    LLVMBuildStore(b, build_umin(b, r, len), left);
    LLVMBuildRet(b, r);
    LLVMDisposeBuilder(b);
    return l->tick_fn;
}

/* The body of mewe.epoch.forget, once every dispatcher exists. */
static void finish_epochs(linking *l, const dispatch *ds, unsigned n)
{
    if (!l->forget_fn)
        return;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(l->c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(l->c, l->forget_fn, "entry"));
    for (unsigned i = 0; i < n; i++) {
        if (ds[i].plan.epoch)
            LLVMBuildStore(b, k32(l, 0), ds[i].choice);
    }
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
}

/* Every N calls: a countdown; when it reaches 0 the dispatcher chooses again, ticks the
 * epoch clock and draws the next countdown in [N/2, 3N/2) (bounded by the clock's ramp), so
 * that an observer cannot tell when the next choice comes. In between, a call costs a
 * predictable test and branch. */
static int build_periodic_choice(linking *l, dispatch *d, LLVMValueRef *out)
{
    unsigned period = d->plan.period;
    LLVMBasicBlockRef redraw = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.redraw");
    LLVMBasicBlockRef keep = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.keep");
    LLVMBasicBlockRef ready = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.ready");
    LLVMValueRef left = LLVMBuildLoad2(l->b, l->i32, d->count, "");
    LLVMBuildCondBr(l->b, LLVMBuildICmp(l->b, LLVMIntEQ, left, k32(l, 0), ""), redraw, keep);
    LLVMPositionBuilderAtEnd(l->b, keep);
    LLVMBuildStore(l->b, LLVMBuildSub(l->b, left, k32(l, 1), ""), d->count);
    LLVMValueRef kept = LLVMBuildLoad2(l->b, l->i32, d->choice, "");
    LLVMBuildBr(l->b, ready);
    LLVMPositionBuilderAtEnd(l->b, redraw);
    LLVMValueRef own = redraw_function(l, d);
    LLVMValueRef in = own ? own : d->f;
    LLVMValueRef fresh, jitter = k32(l, 0);
    int rc = build_choice(l, in, d->name, 0xD15Bull, (unsigned)d->n, &fresh);
    if (rc == MEWE_OK && period > 1)
        rc = build_choice(l, in, d->name, 0xC0047ull, period, &jitter);
    if (rc != MEWE_OK)
        return rc;
    LLVMBuildStore(l->b, fresh, d->choice);
    LLVMValueRef tick = epoch_tick(l);
    LLVMValueRef ramp = LLVMBuildCall2(l->b, LLVMGlobalGetValueType(tick), tick, NULL, 0, "");
    /* The countdown counts the calls after this one: period/2 - 1 + jitter of them, or the
     * ramp early in the run. */
    LLVMValueRef next =
        period > 1 ? LLVMBuildAdd(l->b, jitter, k32(l, period / 2 - 1), "") : k32(l, 0);
    next = build_umin(l->b, ramp, next);
    LLVMBuildStore(l->b, next, d->count);
    fresh = redraw_call(l, own, redraw, fresh);
    LLVMBasicBlockRef drawn = LLVMGetInsertBlock(l->b);
    LLVMBuildBr(l->b, ready);
    *out = join(l, ready, kept, keep, fresh, drawn);
    return MEWE_OK;
}

/* The index of the variant this call runs, by the dispatcher's policy. */
static int build_index(linking *l, dispatch *d, LLVMValueRef *out)
{
    switch (d->plan.policy) {
    case MEWE_GRANULARITY_CALL: {
        int rc = build_choice(l, d->f, d->name, 0xD15Bull, (unsigned)d->n, out);
        /* A choice at every call is a redraw too: the epoch clock counts it. */
        if (rc == MEWE_OK && l->epochs) {
            LLVMValueRef tick = epoch_tick(l);
            LLVMBuildCall2(l->b, LLVMGlobalGetValueType(tick), tick, NULL, 0, "");
        }
        return rc;
    }
    case MEWE_GRANULARITY_EVERY: return build_periodic_choice(l, d, out);
    case MEWE_GRANULARITY_INSTANCE:
    case MEWE_GRANULARITY_INVOCATION: return build_kept_choice(l, d, out);
    }
    return MEWE_EINVAL;
}

static LLVMValueRef trace_function(linking *l)
{
    if (l->trace_fn)
        return l->trace_fn;
    LLVMTypeRef args[] = {l->i32, l->i32};
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(l->c), args, 2, 0);
    l->trace_fn = LLVMAddFunction(l->llvm, "mewe.trace.record", fty);
    mewe__fn_string_attr_set(l->trace_fn, "wasm-import-module", "mewe_trace");
    mewe__fn_string_attr_set(l->trace_fn, "wasm-import-name", "record");
    return l->trace_fn;
}

/* The index, traced when asked: the dispatch code every layout starts with. */
static int build_traced_index(linking *l, dispatch *d, LLVMValueRef *index)
{
    int rc = build_index(l, d, index);
    if (rc == MEWE_OK && l->s.trace) {
        LLVMValueRef args[] = {k32(l, d->id), *index};
        LLVMBuildCall2(l->b, LLVMGlobalGetValueType(trace_function(l)), trace_function(l), args, 2,
                       "");
    }
    return rc;
}

static LLVMValueRef table_entry(linking *l, dispatch *d, LLVMValueRef index)
{
    LLVMValueRef idx[] = {k32(l, 0), index};
    LLVMValueRef slot =
        LLVMBuildInBoundsGEP2(l->b, LLVMGlobalGetValueType(d->table), d->table, idx, 2, "");
    return LLVMBuildLoad2(l->b, l->ptr, slot, "");
}

/* A variant made in wasm is a stub until emission fills it (variants.c): one that copies the
 * original calls its body, now variant 0, not f, which is the dispatcher from now on. */
static void retarget_stubs(dispatch *d)
{
    for (size_t i = 1; i < d->n; i++) {
        LLVMValueRef call = mewe__derived_call(d->all[i]);
        if (call && LLVMGetCalledValue(call) == d->f) /* the callee is the last operand */
            LLVMSetOperand(call, (unsigned)LLVMGetNumOperands(call) - 1, d->all[0]);
    }
}

/* Variants as functions: f calls the chosen one. */
static int build_calling(linking *l, dispatch *d)
{
    if (mewe__labels_taken(d->f)) {
        int rc = copy_body(l, d->f, d->name, &d->all[0]);
        if (rc != MEWE_OK)
            return rc;
    } else {
        d->all[0] = move_body(l, d->f, d->name);
        if (!d->all[0])
            return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    }
    strip_effects_fn(d->all[0]);
    retarget_stubs(d);
    make_globals(l, d);
    LLVMPositionBuilderAtEnd(l->b, LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.dispatch"));
    LLVMValueRef index;
    int rc = build_traced_index(l, d, &index);
    if (rc != MEWE_OK)
        return rc;
    if (d->table) {
        build_forward(l, d->f, table_entry(l, d, index));
        return MEWE_OK;
    }
    LLVMBasicBlockRef *cases = malloc(d->n * sizeof *cases);
    if (!cases)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->n; i++)
        cases[i] = LLVMAppendBasicBlockInContext(l->c, d->f, "mewe.case");
    LLVMValueRef sw = LLVMBuildSwitch(l->b, index, cases[0], (unsigned)(d->n - 1));
    for (size_t i = 1; i < d->n; i++)
        LLVMAddCase(sw, k32(l, (unsigned)i), cases[i]);
    for (size_t i = 0; i < d->n; i++) {
        LLVMPositionBuilderAtEnd(l->b, cases[i]);
        build_forward(l, d->f, d->all[i]);
    }
    free(cases);
    return MEWE_OK;
}

/* Static allocas of a body that is no longer the entry are moved to the entry, where the
 * backend gives them fixed frame slots (elsewhere they would grow the stack at run time). */
static void hoist_allocas(linking *l, LLVMBasicBlockRef from, LLVMBasicBlockRef entry)
{
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    for (LLVMValueRef i = LLVMGetFirstInstruction(from); i;) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        if (LLVMIsAAllocaInst(i) && LLVMIsAConstant(LLVMGetOperand(i, 0))) {
            LLVMInstructionRemoveFromParent(i);
            LLVMPositionBuilderBefore(l->b, first);
            LLVMInsertIntoBuilder(l->b, i);
        }
        i = next;
    }
}

/* Calls in a function with debug info need a location (the verifier insists where the
 * callee has debug info too); variants carry none, so they get line 0 of f. */
static void locate_calls(linking *l, LLVMBasicBlockRef bb, LLVMMetadataRef sp)
{
    LLVMMetadataRef loc = LLVMDIBuilderCreateDebugLocation(l->c, 0, 0, sp, NULL);
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (LLVMIsACallInst(i) && !LLVMInstructionGetDebugLoc(i))
            LLVMInstructionSetDebugLoc(i, loc);
    }
}

/* Moves variant v's body to the end of f (same type); returns the body's entry. */
static LLVMBasicBlockRef move_in(linking *l, LLVMValueRef f, LLVMValueRef v)
{
    LLVMBasicBlockRef first = LLVMGetEntryBasicBlock(v);
    LLVMMetadataRef sp = LLVMGetSubprogram(f);
    for (LLVMBasicBlockRef bb = first; bb;) {
        LLVMBasicBlockRef next = LLVMGetNextBasicBlock(bb);
        LLVMMoveBasicBlockAfter(bb, LLVMGetLastBasicBlock(f));
        if (sp)
            locate_calls(l, bb, sp);
        bb = next;
    }
    for (unsigned i = 0; i < LLVMCountParams(f); i++)
        LLVMReplaceAllUsesWith(LLVMGetParam(v, i), LLVMGetParam(f, i));
    return first;
}

/* Variants inside the dispatcher: a new entry chooses and branches to the chosen body; the
 * original body stays where it is (with its debug info), the others are moved in. A call
 * costs one call, direct or through a pointer. */
static int build_inline(linking *l, dispatch *d)
{
    LLVMBasicBlockRef body0 = LLVMGetEntryBasicBlock(d->f);
    LLVMBasicBlockRef entry = LLVMInsertBasicBlockInContext(l->c, body0, "mewe.dispatch");
    make_globals(l, d);
    LLVMPositionBuilderAtEnd(l->b, entry);
    LLVMValueRef index;
    int rc = build_traced_index(l, d, &index);
    if (rc != MEWE_OK)
        return rc;
    LLVMValueRef sw = LLVMBuildSwitch(l->b, index, body0, (unsigned)(d->n - 1));
    hoist_allocas(l, body0, entry);
    for (size_t i = 1; i < d->n; i++) {
        LLVMBasicBlockRef body = move_in(l, d->f, d->all[i]);
        LLVMAddCase(sw, k32(l, (unsigned)i), body);
        hoist_allocas(l, body, entry);
        LLVMDeleteFunction(d->all[i]);
        d->all[i] = NULL;
    }
    d->all[0] = NULL;
    return MEWE_OK;
}

/* Whether something other than a stub of a variant made in wasm refers to v. */
static bool used_beyond_stubs(LLVMValueRef v)
{
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        LLVMBasicBlockRef bb = LLVMIsAInstruction(user) ? LLVMGetInstructionParent(user) : NULL;
        if (!bb || !mewe__derived_source(LLVMGetBasicBlockParent(bb)))
            return true;
    }
    return false;
}

/* Variants can be held inside the dispatcher when nothing else refers to them (the stubs of
 * variants made in wasm aside, which call their sources), and when their blocks' addresses
 * are not taken (a moved block would keep naming its old function). */
static bool inlinable(const mewe__family *fam)
{
    if (mewe__labels_taken(fam->original))
        return false;
    for (size_t i = 0; i < fam->count; i++) {
        if (used_beyond_stubs(fam->variants[i]) || mewe__labels_taken(fam->variants[i]))
            return false;
    }
    return true;
}

/* Whether some of d's variants are stubs of variants made in wasm. */
static bool has_stubs(const dispatch *d)
{
    for (size_t i = 1; i < d->n; i++) {
        if (mewe__derived_source(d->all[i]))
            return true;
    }
    return false;
}

static void mark_dispatcher(dispatch *d)
{
    char text[160];
    snprintf(text, sizeof text, "%u", d->id);
    mewe__fn_string_attr_set(d->f, MEWE_ATTR_DISPATCHER, text);
    mewe__plan_format(&d->plan, text, sizeof text);
    mewe__fn_string_attr_set(d->f, MEWE_ATTR_PLAN, text);
}

/* What the cost model plans for one family, before anything is built. */
static int plan_dispatcher(linking *l, mewe__family *fam, dispatch *d)
{
    d->f = fam->original;
    d->name = fam->name;
    d->n = fam->count + 1;
    d->all = malloc(d->n * sizeof *d->all);
    if (!d->all)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    d->all[0] = d->f;
    memcpy(d->all + 1, fam->variants, fam->count * sizeof *d->all);
    mewe__plan_dispatcher(&d->plan, d->all, d->n, inlinable(fam), &l->s);
    unsigned long long calls;
    if (l->s.profile)
        d->plan.calls =
            mewe_profile_calls(&calls, l->s.profile, d->name) == MEWE_OK ? (double)calls : 0.0;
    return MEWE_OK;
}

/* A profile of another program is no guide: say how much of it does not fit. */
static int check_profile(linking *l, const char *module_name)
{
    size_t total = mewe_profile_function_count(l->s.profile);
    l->profile_unmatched = mewe__profile_unmatched(l->s.profile, l->llvm);
    if (total > 0 && l->profile_unmatched == total)
        return mewe__error(l->ctx, MEWE_EINVAL,
                           "link option profile: none of its %zu "
                           "functions is defined in '%s': a profile of another program?",
                           total, module_name);
    if (l->profile_unmatched)
        mewe__log(l->ctx, MEWE_LOG_WARN,
                  "%zu of the profile's %zu functions are not defined "
                  "in '%s' (a profile of another version?); they are ignored",
                  l->profile_unmatched, total, module_name);
    return MEWE_OK;
}

static int build_dispatcher(linking *l, dispatch *d)
{
    for (size_t i = 0; i < d->n; i++)
        strip_effects_fn(d->all[i]);
    strip_effects_calls(d->f);
    /* The dispatch code has no debug location of its own; one left on the builder from
     * another function would be invalid here. */
    LLVMSetCurrentDebugLocation2(l->b, NULL);
    /* A stub needs a body of its own to be filled: a dispatcher that holds its variants
     * inline calls them all, and emission splices the calls once the stubs are filled
     * (wasm/splice.h); the plan stays what the cost model chose. */
    int rc = d->plan.inlined && !has_stubs(d) ? build_inline(l, d) : build_calling(l, d);
    if (rc == MEWE_OK)
        mark_dispatcher(d);
    return rc;
}

/* Functions that call d's dispatcher directly, each once (the dispatcher itself aside). */
static int direct_callers(dispatch *d, LLVMValueRef **out, size_t *count)
{
    LLVMValueRef *fns = NULL;
    size_t n = 0, cap = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(d->f); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef call = LLVMGetUser(u);
        if (!LLVMIsACallInst(call) || LLVMGetCalledValue(call) != d->f)
            continue;
        LLVMValueRef caller = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call));
        bool seen = caller == d->f;
        for (size_t i = 0; !seen && i < n; i++)
            seen = fns[i] == caller;
        if (!seen && !MEWE__ARRAY_PUSH(fns, n, cap, caller)) {
            free(fns);
            return MEWE_ENOMEM;
        }
    }
    *out = fns;
    *count = n;
    return MEWE_OK;
}

/* Per invocation: each direct caller chooses for d when it starts (after its allocas). */
static int build_caller_choices(linking *l, dispatch *d)
{
    LLVMValueRef *callers;
    size_t n;
    if (direct_callers(d, &callers, &n) != MEWE_OK)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    int rc = MEWE_OK;
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(callers[i]);
        LLVMValueRef at = LLVMGetFirstInstruction(entry);
        while (LLVMIsAAllocaInst(at))
            at = LLVMGetNextInstruction(at);
        LLVMBasicBlockRef rest = mewe__block_split(l->b, entry, at);
        LLVMInstructionEraseFromParent(LLVMGetBasicBlockTerminator(entry));
        LLVMSetCurrentDebugLocation2(l->b, NULL);
        LLVMPositionBuilderAtEnd(l->b, entry);
        LLVMValueRef fresh;
        rc = build_choice(l, callers[i], d->name, (0x1A7Eull << 32) + i, (unsigned)d->n, &fresh);
        if (rc != MEWE_OK)
            break;
        LLVMBuildStore(l->b, LLVMBuildAdd(l->b, fresh, k32(l, 1), ""), d->choice);
        LLVMBuildBr(l->b, rest);
    }
    free(callers);
    return rc;
}

/* Epoch dispatchers need a clock: counted dispatchers tick it, and epoch dispatchers whose
 * typical call affords a counter (large, with a loop, or recursive: cost.c) are made counted
 * for that. Where none can, the largest epoch dispatcher is the clock anyway. */
static void plan_epochs(linking *l, dispatch *ds, unsigned n)
{
    size_t kept = 0;
    bool clock = false;
    dispatch *largest = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (mewe__plan_clock_fits(&ds[i].plan, ds[i].all[0], &l->s))
            mewe__plan_make_clock(&ds[i].plan, false);
        if (ds[i].plan.epoch) {
            kept++;
            if (!largest || ds[i].plan.body > largest->plan.body)
                largest = &ds[i];
        }
        clock |= ds[i].plan.policy == MEWE_GRANULARITY_EVERY;
    }
    if (largest && !clock) {
        mewe__plan_make_clock(&largest->plan, true);
        kept--;
    }
    l->epoch_length = mewe__epoch_length(kept);
    l->epochs = kept > 0;
}

/* Dispatchers in module order, so that ids are stable for a given input. */
static int build_all(linking *l, mewe__families *fams, unsigned *count)
{
    dispatch *ds = calloc(fams->count ? fams->count : 1, sizeof *ds);
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
        rc = plan_dispatcher(l, fam, &ds[n++]);
    }
    if (rc == MEWE_OK && l->s.profile) {
        mewe__plan *plans = malloc((n ? n : 1) * sizeof *plans);
        if (!plans)
            rc = mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
        for (unsigned i = 0; plans && i < n; i++)
            plans[i] = ds[i].plan;
        if (plans)
            mewe__plan_with_profile(plans, n, mewe__run_cycles(l->llvm, l->s.profile), &l->s,
                                    &l->run);
        for (unsigned i = 0; plans && i < n; i++)
            ds[i].plan = plans[i];
        free(plans);
    }
    if (rc == MEWE_OK)
        plan_epochs(l, ds, n);
    mewe__progress(l->ctx, "making dispatchers", 0, n);
    for (unsigned i = 0; rc == MEWE_OK && i < n; i++) {
        rc = build_dispatcher(l, &ds[i]);
        if (rc == MEWE_OK)
            mewe__progress(l->ctx, "making dispatchers", i + 1, n);
    }
    if (rc == MEWE_OK)
        finish_epochs(l, ds, n);
    /* Once every dispatcher exists: callers' choices go before their own dispatch code. */
    for (unsigned i = 0; rc == MEWE_OK && i < n; i++) {
        if (ds[i].plan.policy == MEWE_GRANULARITY_INVOCATION)
            rc = build_caller_choices(l, &ds[i]);
    }
    for (unsigned i = 0; i < fams->count; i++)
        free(ds[i].all);
    free(ds);
    *count = n;
    return rc;
}

/* What the report says of this call (report.c writes it). */
static mewe__link_record *link_record(const linking *l, const char *rng, unsigned dispatchers)
{
    const mewe__link_settings *s = &l->s;
    mewe__link_record *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    *r = (mewe__link_record){
        .dispatch = s->dispatch,
        .granularity = s->granularity,
        .rng = mewe__strdup(rng),
        .trace = s->trace,
        .max_overhead = s->max_overhead,
        .period = s->period,
        .inline_limit = s->inline_limit,
        .dispatchers = dispatchers,
        .profiled = s->profile != NULL,
        .profile_functions = s->profile ? mewe_profile_function_count(s->profile) : 0,
        .profile_unmatched = l->profile_unmatched,
        .run_cycles = l->run.cycles,
        .run_added = l->run.added,
        .run_calls = l->run.calls,
        .run_choices = l->run.choices,
    };
    if (!r->rng) {
        free(r);
        return NULL;
    }
    return r;
}

static int verify_linked(linking *l, const char *module_name)
{
    char *what = mewe__printf("'%s' made multivariant (with RNG strategy '%s')", module_name,
                              l->rng.plugin->name);
    int rc = what ? mewe__verify(l->ctx, l->llvm, what)
                  : mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    free(what);
    return rc;
}

/* The first dispatcher build_all makes: the name a strategy's first error names. */
static const char *first_dispatcher(const linking *l, mewe__families *fams)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(l->llvm); f; f = LLVMGetNextFunction(f)) {
        size_t len;
        unsigned vlen;
        const char *name = LLVMGetValueName2(f, &len);
        if (LLVMIsDeclaration(f) || mewe__variant_of(f, &vlen))
            continue;
        mewe__family *fam = mewe__families_find(fams, name);
        if (fam && fam->count > 0)
            return fam->name;
    }
    return NULL;
}

/* Asks a built-in strategy for one choice in a scratch module, before anything changes:
 * it checks its parameters at its first call, and running out of memory is the only other
 * way it fails. */
static int try_strategy(linking *l, mewe__families *fams)
{
    const char *name = first_dispatcher(l, fams);
    if (!name)
        return MEWE_OK; /* no dispatcher: the strategy is never asked */
    LLVMModuleRef scratch = LLVMModuleCreateWithNameInContext("mewe.scratch", l->c);
    LLVMValueRef fn =
        LLVMAddFunction(scratch, "mewe.scratch", LLVMFunctionType(l->i32, NULL, 0, 0));
    LLVMPositionBuilderAtEnd(l->b, LLVMAppendBasicBlockInContext(l->c, fn, "entry"));
    LLVMValueRef index;
    int rc = build_choice(l, fn, name, 0, 2, &index);
    LLVMDisposeModule(scratch);
    return rc;
}

/* What undoes a failed call. A user's strategy may fail at any call: the work is done on
 * a clone, swapped in on success. A built-in one is tried first (try_strategy) and then
 * fails only when memory runs out (or the verifier finds a bug of ours): the work is done in
 * place, after a backup in bitcode (for libxml2, 0.6 s to write against 1.5 s to clone)
 * that puts the module back, with the same code and names, its named struct types
 * possibly renamed (the LLVM context keeps the old ones' names). */
typedef struct undo {
    LLVMModuleRef clone;
    LLVMMemoryBufferRef backup;
} undo;

static int undo_prepare(linking *l, mewe_module *module, mewe__families *fams, undo *u)
{
    *u = (undo){NULL, NULL};
    if (!l->rng.plugin->builtin) {
        u->clone = mewe__module_clone(module->llvm);
        l->llvm = u->clone;
        if (!u->clone || mewe__families_collect(fams, l->llvm) != MEWE_OK)
            return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
        return MEWE_OK;
    }
    l->llvm = module->llvm;
    if (mewe__families_collect(fams, l->llvm) != MEWE_OK)
        return mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
    int rc = try_strategy(l, fams);
    if (rc != MEWE_OK)
        return rc;
    u->backup = mewe__module_backup(module->llvm);
    return u->backup ? MEWE_OK : mewe__error(l->ctx, MEWE_ENOMEM, "out of memory");
}

/* With `commit`, the clone, if any, becomes the module; after a failure the module is put
 * back from the backup. Should that fail too (out of memory), the module stays as the
 * failure left it: the log says so, next to the error already returned. */
static void undo_finish(undo *u, mewe_module *module, bool commit, bool failed)
{
    if (u->clone && commit) {
        LLVMDisposeModule(module->llvm);
        module->llvm = u->clone;
    } else if (u->clone) {
        LLVMDisposeModule(u->clone);
    } else if (u->backup && failed) {
        LLVMModuleRef before = mewe__module_restore(module->ctx->llvm, u->backup);
        if (before) {
            size_t len;
            const char *id = LLVMGetModuleIdentifier(module->llvm, &len);
            LLVMSetModuleIdentifier(before, id, len);
            LLVMDisposeModule(module->llvm);
            module->llvm = before;
            mewe__module_changed(module);
        } else {
            mewe__log(module->ctx, MEWE_LOG_ERROR, "'%s' could not be put back as it was",
                      module->name);
        }
    }
    if (u->backup)
        LLVMDisposeMemoryBuffer(u->backup);
    *u = (undo){NULL, NULL};
}

int mewe_link_multivariant(mewe_module *module, const mewe_link_options *opts)
{
    if (!module)
        return MEWE_EINVAL;
    mewe_context *ctx = module->ctx;
    linking l = {.ctx = ctx, .c = ctx->llvm};
    int rc = read_options(ctx, opts, &l.s);
    if (rc != MEWE_OK)
        return rc;
    if (module->multivariant)
        return mewe__error(ctx, MEWE_ESTATE, "'%s' is already multivariant", module->name);
    rc = mewe__spec_parse(ctx, &l.rng, &ctx->strategies, "RNG strategy", l.s.rng);
    if (rc != MEWE_OK)
        return rc;
    mewe__module_measure_before(module);
    l.b = LLVMCreateBuilderInContext(l.c);
    l.i32 = LLVMInt32TypeInContext(l.c);
    l.ptr = LLVMPointerTypeInContext(l.c, 0);
    mewe__families fams = {0};
    unsigned dispatchers = 0;
    undo u;
    rc = undo_prepare(&l, module, &fams, &u);
    if (rc == MEWE_OK && l.s.profile)
        rc = check_profile(&l, module->name);
    if (rc == MEWE_OK)
        rc = build_all(&l, &fams, &dispatchers);
    if (rc == MEWE_OK)
        rc = verify_linked(&l, module->name);
    mewe__link_record *summary = rc == MEWE_OK ? link_record(&l, l.rng.text, dispatchers) : NULL;
    if (rc == MEWE_OK && !summary)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    /* With no dispatcher made, nothing changed: the module stays as it was. */
    bool commit = rc == MEWE_OK && dispatchers > 0;
    undo_finish(&u, module, commit, rc != MEWE_OK);
    if (commit) {
        module->multivariant = true;
        if (module->link)
            free(module->link->rng);
        free(module->link);
        module->link = summary;
        summary = NULL;
        mewe__module_changed(module);
    }
    if (summary)
        free(summary->rng);
    free(summary);
    mewe__families_free(&fams);
    LLVMDisposeBuilder(l.b);
    mewe__spec_fini(&l.rng);
    return rc;
}
