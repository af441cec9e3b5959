/* mewe_generate_variants: select functions, clone, diversify, verify, dedupe. */
#include <fnmatch.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Analysis.h>

#include "ir/clone.h"
#include "ir/eligibility.h"
#include "ir/fnshape.h"
#include "ir/labels.h"
#include "plugin.h"
#include "ir/family.h"
#include "util/array.h"

/* Every attempt at every variant of a function has its own salt (plugin.h). */
_Static_assert((uint64_t)MEWE__VARIANTS_MAX *MEWE__ATTEMPTS_MAX <= MEWE__SALT_ATTEMPT_LIMIT,
               "attempt numbers fit their salt field");

typedef struct generation {
    mewe_module *m;
    const mewe_generate_options *o; /* read_options' copy, defaults filled in */
    mewe__spec *specs;
    size_t spec_count;
    mewe__families families;
    LLVMValueRef *created; /* kept variants, deleted again if the call fails */
    size_t created_count, created_cap;
    size_t added_instructions, size_limit;
    double deadline;
    bool time_hit;
} generation;

/* Sizes of each version of mewe_generate_options: a caller built against an older header
 * passes a shorter struct, whose missing fields take their defaults. */
static const size_t options_size[] = {
    0, sizeof(mewe_generate_options), /* version 1 */
};
_Static_assert(sizeof options_size / sizeof *options_size == MEWE_GENERATE_OPTIONS_VERSION + 1,
               "one size per version of mewe_generate_options");

int mewe_generate_options_init(mewe_generate_options *opts, unsigned int version)
{
    mewe_generate_options defaults = MEWE_GENERATE_OPTIONS_INIT;
    return mewe__options_init(opts, &defaults, version, options_size,
                              MEWE_GENERATE_OPTIONS_VERSION);
}

/* Reads options of any known version into *o, with every default filled in; the caller's
 * struct is never read past its version's size. */
static int read_options(mewe_context *ctx, const mewe_generate_options *opts,
                        mewe_generate_options *o)
{
    *o = (mewe_generate_options)MEWE_GENERATE_OPTIONS_INIT;
    int rc =
        mewe__options_read(ctx, o, opts, options_size, MEWE_GENERATE_OPTIONS_VERSION, "generate");
    if (rc != MEWE_OK)
        return rc;
    if (o->attempts == 0)
        o->attempts = MEWE_ATTEMPTS_DEFAULT;
    return MEWE_OK;
}

static int check_options(mewe_context *ctx, const mewe_generate_options *o)
{
    if (o->variants > MEWE__VARIANTS_MAX)
        return mewe__error(ctx, MEWE_EINVAL, "generate option variants: %u is more than %d",
                           o->variants, MEWE__VARIANTS_MAX);
    if (o->attempts > MEWE__ATTEMPTS_MAX)
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option attempts: %u out of range "
                           "(1..%d, 0 for the default)",
                           o->attempts, MEWE__ATTEMPTS_MAX);
    if (o->diversifier_count > MEWE__SALT_PASS_LIMIT)
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option diversifiers: %zu specs, at most "
                           "%llu",
                           o->diversifier_count, (unsigned long long)MEWE__SALT_PASS_LIMIT);
    if (!(o->time_budget >= 0) || isinf(o->time_budget))
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option time_budget: %g is not a finite "
                           "number of seconds >= 0",
                           o->time_budget);
    if (!(o->size_budget >= 0) || isinf(o->size_budget))
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option size_budget: %g is not a finite "
                           "factor >= 0",
                           o->size_budget);
    int rc = mewe__check_strings(ctx, o->diversifiers, o->diversifier_count,
                                 "generate option diversifiers");
    if (rc == MEWE_OK)
        rc = mewe__check_strings(ctx, o->allow, o->allow_count, "generate option allow");
    if (rc == MEWE_OK)
        rc = mewe__check_strings(ctx, o->deny, o->deny_count, "generate option deny");
    return rc;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool matches_any(const char *name, const char *const *globs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(globs[i], name) == 0 || fnmatch(globs[i], name, 0) == 0)
            return true;
    }
    return false;
}

static int parse_specs(generation *g)
{
    const mewe_generate_options *o = g->o;
    const char *const *list = o->diversifier_count ? o->diversifiers : mewe__default_diversifiers;
    size_t n = o->diversifier_count ? o->diversifier_count : mewe__default_diversifier_count;
    g->specs = calloc(n, sizeof *g->specs);
    if (!g->specs)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int rc = mewe__spec_parse(g->m->ctx, &g->specs[i], &g->m->ctx->diversifiers, "diversifier",
                                  list[i]);
        if (rc != MEWE_OK)
            return rc;
        g->spec_count++;
    }
    return MEWE_OK;
}

/* Runs every diversifier on a fresh clone, each pass with a stream of its own. */
static int diversify(generation *g, LLVMValueRef v, const char *name, unsigned index,
                     unsigned attempt)
{
    for (size_t s = 0; s < g->spec_count; s++) {
        mewe_hook hook;
        mewe__hook_init(
            &hook, g->m->ctx, &g->specs[s],
            mewe__seed_for(g->m->ctx->seed, name, mewe__variant_salt(index, attempt, s)));
        const mewe__plugin *p = g->specs[s].plugin;
        int rc = p->fn.diversify(&hook, v, p->user_data);
        char what[512];
        snprintf(what, sizeof what, "function '%s'", name);
        rc = mewe__hook_finish(&hook, rc, what);
        if (rc != MEWE_OK)
            return rc;
    }
    return MEWE_OK;
}

typedef enum { ATTEMPT_KEPT, ATTEMPT_DUPLICATE, ATTEMPT_INVALID, ATTEMPT_TOO_BIG } attempt_result;

static int try_variant(generation *g, LLVMValueRef fn, const char *name, unsigned index,
                       unsigned attempt, attempt_result *result)
{
    LLVMValueRef v;
    int rc = mewe__function_clone(&v, g->m->ctx, fn, "mewe.tmp");
    if (rc != MEWE_OK)
        return rc;
    rc = diversify(g, v, name, index, attempt);
    if (rc != MEWE_OK) {
        mewe__function_delete(v);
        return rc;
    }
    mewe__family *fam = mewe__families_find(&g->families, name);
    if (LLVMVerifyFunction(v, LLVMReturnStatusAction)) {
        mewe__log(g->m->ctx, MEWE_LOG_WARN, "variant %u of '%s' fails verification: dropped", index,
                  name);
        *result = ATTEMPT_INVALID;
    } else if ((fam && mewe__family_has_shape(fam, v)) ||
               (!fam && mewe__function_shape_equal(fn, v))) {
        *result = ATTEMPT_DUPLICATE;
    } else if (g->size_limit &&
               g->added_instructions + mewe__function_instruction_count(v) > g->size_limit) {
        *result = ATTEMPT_TOO_BIG;
    } else {
        *result = ATTEMPT_KEPT;
    }
    if (*result != ATTEMPT_KEPT) {
        mewe__function_delete(v);
        return MEWE_OK;
    }
    mewe__variant_mark(v, name, index);
    g->added_instructions += mewe__function_instruction_count(v);
    if (!MEWE__ARRAY_PUSH(g->created, g->created_count, g->created_cap, v) ||
        mewe__families_add(&g->families, fn, v) != MEWE_OK) {
        mewe__function_delete(v);
        if (g->created_count && g->created[g->created_count - 1] == v)
            g->created_count--;
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    }
    return MEWE_OK;
}

static const char *budget_reason(generation *g, unsigned instructions)
{
    if (g->o->time_budget > 0 && now() > g->deadline) {
        g->time_hit = true;
        return "time budget";
    }
    /* A variant is at least as large as its original: no need to try. */
    if (g->size_limit && g->added_instructions + instructions > g->size_limit)
        return "size budget";
    return NULL;
}

static int make_variants(generation *g, LLVMValueRef fn, mewe__fnrec *rec, unsigned wanted)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    unsigned first = fam ? (unsigned)fam->count + 1 : 1; /* variants from before keep theirs */
    for (unsigned k = 0; k < wanted; k++) {
        const char *why = budget_reason(g, rec->instructions);
        if (why) {
            if (rec->variants == 0)
                rec->reason = why;
            break;
        }
        unsigned index = first + rec->variants;
        if (index >= MEWE__SALT_INDEX_LIMIT)
            return mewe__error(g->m->ctx, MEWE_EINVAL,
                               "'%s' already has %u variants, the most "
                               "a function may have",
                               rec->name, index - 1);
        attempt_result r = ATTEMPT_DUPLICATE;
        for (unsigned a = 0; a < g->o->attempts && r != ATTEMPT_KEPT && r != ATTEMPT_TOO_BIG; a++) {
            int rc = try_variant(g, fn, rec->name, index, k * g->o->attempts + a, &r);
            if (rc != MEWE_OK)
                return rc;
            rec->dropped_duplicate += r == ATTEMPT_DUPLICATE;
            rec->dropped_invalid += r == ATTEMPT_INVALID;
        }
        if (r == ATTEMPT_TOO_BIG) {
            if (rec->variants == 0)
                rec->reason = "size budget";
            break;
        }
        rec->variants += r == ATTEMPT_KEPT;
    }
    if (rec->variants == 0 && !rec->reason)
        rec->reason = rec->dropped_invalid ? "every variant failed verification"
                                           : "no distinct variant found";
    return MEWE_OK;
}

static const char *selection_reason(generation *g, LLVMValueRef fn, mewe__fnrec *rec)
{
    const char *why = mewe__function_ineligible_reason(fn);
    if (why)
        return why;
    rec->eligible = true;
    if (g->o->allow_count && !matches_any(rec->name, g->o->allow, g->o->allow_count))
        return "not in the allow list";
    if (matches_any(rec->name, g->o->deny, g->o->deny_count))
        return "in the deny list";
    if (rec->instructions < g->o->min_instructions)
        return "too small";
    return NULL;
}

static void count_uses(LLVMValueRef fn, size_t *calls, int *address_taken)
{
    *calls = 0;
    *address_taken = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(fn); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMIsACallInst(user) && LLVMGetCalledValue(user) == fn)
            (*calls)++;
        else if (LLVMGetValueKind(user) != LLVMBlockAddressValueKind) /* its own labels */
            *address_taken = 1;
    }
}

static int ask_policy(generation *g, LLVMValueRef fn, mewe__fnrec *rec, unsigned *wanted)
{
    if (!g->o->select)
        return MEWE_OK;
    mewe_function_info info = {.name = rec->name, .instructions = rec->instructions};
    count_uses(fn, &info.call_sites, &info.address_taken);
    unsigned n = *wanted;
    int rc = g->o->select(&info, &n, g->o->select_data);
    if (rc != MEWE_OK)
        return mewe__error(g->m->ctx, rc, "selection policy failed on function '%s': %s", rec->name,
                           mewe_status_str(rc));
    if (n > MEWE__VARIANTS_MAX)
        return mewe__error(g->m->ctx, MEWE_EINVAL,
                           "selection policy asked for %u variants of "
                           "'%s' (at most %d)",
                           n, rec->name, MEWE__VARIANTS_MAX);
    if (n == 0)
        rec->reason = "skipped by the selection policy";
    *wanted = n;
    return MEWE_OK;
}

/* The functions to consider: the module's own, not variants or libmewe's helpers. */
static int originals(LLVMModuleRef llvm, LLVMValueRef **out, size_t *count)
{
    LLVMValueRef *fns = NULL;
    size_t n = 0, cap = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        unsigned len;
        if (LLVMIsDeclaration(f) || mewe__variant_of(f, &len) || mewe__is_helper(f))
            continue;
        if (!MEWE__ARRAY_PUSH(fns, n, cap, f)) {
            free(fns);
            return MEWE_ENOMEM;
        }
    }
    *out = fns;
    *count = n;
    return MEWE_OK;
}

static int run(generation *g, mewe__fnrec **out_recs, size_t *out_count)
{
    LLVMValueRef *fns;
    size_t n;
    if (originals(g->m->llvm, &fns, &n) != MEWE_OK)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    mewe__fnrec *recs = calloc(n ? n : 1, sizeof *recs);
    int rc = recs ? MEWE_OK : mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    mewe__progress(g->m->ctx, "generating variants", 0, n);
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        size_t len;
        const char *name = LLVMGetValueName2(fns[i], &len);
        recs[i].name = mewe__printf("%.*s", (int)len, name);
        if (!recs[i].name) {
            rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
            break;
        }
        recs[i].instructions = mewe__function_instruction_count(fns[i]);
        recs[i].reason = selection_reason(g, fns[i], &recs[i]);
        unsigned wanted = g->o->variants;
        if (!recs[i].reason)
            rc = ask_policy(g, fns[i], &recs[i], &wanted);
        if (rc == MEWE_OK && !recs[i].reason)
            rc = make_variants(g, fns[i], &recs[i], wanted);
        if (rc == MEWE_OK)
            mewe__progress(g->m->ctx, "generating variants", i + 1, n);
    }
    free(fns);
    *out_recs = recs;
    *out_count = n;
    return rc;
}

static void rollback(generation *g)
{
    while (g->created_count > 0)
        mewe__function_delete(g->created[--g->created_count]);
}

static void free_records(mewe__fnrec *recs, size_t n)
{
    for (size_t i = 0; recs && i < n; i++)
        free(recs[i].name);
    free(recs);
}

int mewe_generate_variants(mewe_module *module, const mewe_generate_options *opts)
{
    if (!module)
        return MEWE_EINVAL;
    mewe_context *ctx = module->ctx;
    mewe_generate_options options;
    const mewe_generate_options *o = &options;
    int rc = read_options(ctx, opts, &options);
    if (rc == MEWE_OK)
        rc = check_options(ctx, o);
    if (rc != MEWE_OK)
        return rc;
    if (module->multivariant)
        return mewe__error(ctx, MEWE_ESTATE,
                           "'%s' is already multivariant: generate variants "
                           "before mewe_link_multivariant",
                           module->name);
    generation g = {.m = module, .o = o};
    g.deadline = now() + o->time_budget;
    g.size_limit = (size_t)(o->size_budget * (double)module->instructions_before);
    if (o->size_budget > 0 && g.size_limit == 0)
        g.size_limit = 1;
    mewe__fnrec *recs = NULL;
    size_t n = 0;
    rc = parse_specs(&g);
    if (rc == MEWE_OK && mewe__families_collect(&g.families, module->llvm) != MEWE_OK)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (rc == MEWE_OK)
        rc = run(&g, &recs, &n);
    if (rc == MEWE_OK) {
        char *what = mewe__printf("'%s' after diversification (a diversifier changed code "
                                  "outside its variant?)",
                                  module->name);
        rc = what ? mewe__verify(ctx, module->llvm, what)
                  : mewe__error(ctx, MEWE_ENOMEM, "out of memory");
        free(what);
    }
    if (rc != MEWE_OK) {
        rollback(&g);
        free_records(recs, n);
    } else {
        mewe__module_records_clear(module);
        module->records = recs;
        module->record_count = n;
        module->time_budget_hit = g.time_hit;
        mewe__module_changed(module);
    }
    for (size_t i = 0; i < g.spec_count; i++)
        mewe__spec_fini(&g.specs[i]);
    free(g.specs);
    free(g.created);
    mewe__families_free(&g.families);
    return rc;
}
