/* mewe_generate_variants: select functions, clone, diversify, verify, dedupe. */
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>

#include "ir/clone.h"
#include "ir/cost.h"
#include "ir/eligibility.h"
#include "ir/fnshape.h"
#include "ir/labels.h"
#include "ir/outline.h"
#include "ir/irutil.h"
#include "plugin.h"
#include "ir/family.h"
#include "util/array.h"
#include "wasm/codegen.h"
#include "wasm/inspect.h"

/* With the default mix, a function whose variants compiled to the same wasm as others gets
 * its new ones (preserve(), refill) with these added: one blinded constant and one opaque
 * guard, a few instructions per call, which survive code generation where the default mix's
 * rewrites did not. Only such functions pay for them. */
static const char *const fallback_diversifiers[] = {"blind:max=1", "opaque:max=1"};

/* Every attempt at every variant of a function has its own salt (plugin.h). */
_Static_assert((uint64_t)MEWE__VARIANTS_MAX *MEWE__ATTEMPTS_MAX <= MEWE__SALT_ATTEMPT_LIMIT,
               "attempt numbers fit their salt field");

typedef struct generation {
    mewe_module *m;
    const mewe_generate_options *o; /* read_options' copy, defaults filled in */
    mewe__spec *specs;
    size_t spec_count;     /* the mix's; the fallback's follow them in specs */
    size_t fallback_count; /* 0 unless the mix is the default one */
    bool escalate;         /* the function at hand gets the fallback too */
    bool pay_cheap;        /* free diversifiers made a duplicate: cheap ones may cost now */
    bool refilling;        /* making again what compiled alike in wasm: likewise */
    mewe__families families;
    LLVMValueRef *created; /* kept variants, deleted again if the call fails */
    size_t created_count, created_cap;
    size_t added_instructions, size_limit;
    double deadline;
    bool time_hit;
    char *skip_reason;   /* why the function at hand is skipped (DIVERSIFY_SKIP), owned */
    bool wasm_unchecked; /* the module could not be compiled for the preservation check */
} generation;

/* Sizes of each version of mewe_generate_options: a caller built against an older header
 * passes a shorter struct, whose missing fields take their defaults. */
static const size_t options_size[] = {
    0,
    offsetof(mewe_generate_options, wasm_rounds),  /* version 1 */
    offsetof(mewe_generate_options, threads),      /* version 2 */
    offsetof(mewe_generate_options, wasm_derived), /* version 3: threads */
    sizeof(mewe_generate_options),                 /* version 4: wasm_derived */
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
    if (o->wasm_rounds == 0)
        o->wasm_rounds = MEWE_WASM_ROUNDS_DEFAULT;
    if (o->outline_loops == 0)
        o->outline_loops = MEWE_OUTLINE_LOOPS_DEFAULT;
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
    if (o->wasm_rounds > 16 && o->wasm_rounds != MEWE_WASM_ROUNDS_OFF)
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option wasm_rounds: %u out of range (1..16, 0 for the "
                           "default, MEWE_WASM_ROUNDS_OFF for none)",
                           o->wasm_rounds);
    if (o->wasm_derived > MEWE__VARIANTS_MAX && o->wasm_derived != MEWE_WASM_DERIVED_OFF)
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option wasm_derived: %u out of range (0..%d, 0 for the "
                           "default, MEWE_WASM_DERIVED_OFF for none)",
                           o->wasm_derived, MEWE__VARIANTS_MAX);
    if (o->threads > MEWE_EMIT_MAX_THREADS)
        return mewe__error(ctx, MEWE_EINVAL,
                           "generate option threads: %u out of range (0..%u, 0 for every "
                           "processor)",
                           o->threads, MEWE_EMIT_MAX_THREADS);
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
    size_t nf =
        o->diversifier_count ? 0 : sizeof fallback_diversifiers / sizeof *fallback_diversifiers;
    g->specs = calloc(n + nf, sizeof *g->specs);
    if (!g->specs)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n + nf; i++) {
        int rc = mewe__spec_parse(g->m->ctx, &g->specs[i], &g->m->ctx->diversifiers, "diversifier",
                                  i < n ? list[i] : fallback_diversifiers[i - n]);
        if (rc != MEWE_OK)
            return rc;
        if (i < n)
            g->spec_count++;
        else
            g->fallback_count++;
    }
    return MEWE_OK;
}

/* Codes with which a failing diversifier stops generation; any other skips the function. */
static bool fatal(int rc)
{
    return rc == MEWE_EINVAL || rc == MEWE_ENOMEM || rc == MEWE_EVERSION;
}

#define DIVERSIFY_SKIP 1 /* a diversifier failed on this function: skip it (g->skip_reason) */

/* Runs every diversifier on a fresh clone, each pass with a stream of its own, those of a
 * class above `top` left out. `all_loop`: fn is a chunk of a loop (outline.h), nearly all
 * of its code runs at every iteration, so that cheap diversifiers cost as much as costly
 * ones elsewhere and count as such. *cls receives the highest class among those run. */
static int diversify(generation *g, LLVMValueRef v, const char *name, unsigned index,
                     unsigned attempt, mewe_cost_class top, bool all_loop, mewe_cost_class *cls)
{
    *cls = MEWE_COST_FREE;
    size_t passes = g->spec_count + (g->escalate ? g->fallback_count : 0);
    for (size_t s = 0; s < passes; s++) {
        const mewe__plugin *p = g->specs[s].plugin;
        mewe_cost_class c =
            p->cost_class == MEWE_COST_UNSPECIFIED ? MEWE_COST_CHEAP : p->cost_class;
        /* The fallback runs where the default mix alone made nothing distinct, often small
         * functions: it counts as costly, so the cost model keeps it to variants whose extra
         * code stays within MEWE_COSTLY_SHARE of a call. */
        if (s >= g->spec_count || (all_loop && c == MEWE_COST_CHEAP))
            c = MEWE_COST_COSTLY;
        if (c > top)
            continue;
        mewe_hook hook;
        mewe__hook_init(
            &hook, g->m->ctx, &g->specs[s],
            mewe__seed_for(g->m->ctx->seed, name, mewe__variant_salt(index, attempt, s)));
        int rc = p->fn.diversify(&hook, v, p->user_data);
        if (rc != MEWE_OK && !fatal(rc)) {
            free(g->skip_reason);
            g->skip_reason = mewe__printf("diversifier '%s' failed: %s", p->name,
                                          hook.error ? hook.error : mewe_status_str(rc));
            mewe__log(g->m->ctx, MEWE_LOG_WARN, "function '%s' skipped: %s", name,
                      g->skip_reason ? g->skip_reason : "a diversifier failed");
            free(hook.error);
            return g->skip_reason ? DIVERSIFY_SKIP : MEWE_ENOMEM;
        }
        char what[512];
        snprintf(what, sizeof what, "function '%s'", name);
        rc = mewe__hook_finish(&hook, rc, what);
        if (rc != MEWE_OK)
            return rc;
        if (c > *cls)
            *cls = c;
    }
    return MEWE_OK;
}

/* Whether the cost model affords a variant whose costliest diversifier was of class cls
 * (cost.h): costly ones within MEWE_COSTLY_SHARE of a call; with the default mix, cheap ones
 * (and costly ones too) within MEWE__CHEAP_SHARE of the original's loop-weighted cost, as
 * long as free diversifiers alone still make new variants: once they made a duplicate (in
 * IR, or in wasm: the refill after the wasm check), a variant is worth what cheap ones cost.
 * A mix named in the options is the user's choice of diversity over speed: its cheap
 * diversifiers run as asked. */
static bool affordable(const generation *g, LLVMValueRef fn, LLVMValueRef v, mewe_cost_class cls)
{
    if (cls == MEWE_COST_COSTLY && !mewe__costly_affordable(fn, v))
        return false;
    return cls == MEWE_COST_FREE || g->o->diversifier_count || g->pay_cheap ||
           mewe__cheap_affordable(fn, v);
}

/* A clone of fn diversified, costly and cheap diversifiers included only where the cost
 * model affords them: otherwise the variant is made again without the costliest class,
 * from the same streams. *declined tells which classes were left out. */
static int make_clone(generation *g, LLVMValueRef fn, const char *name, unsigned index,
                      unsigned attempt, unsigned *declined, LLVMValueRef *out)
{
    *out = NULL;
    *declined = 0;
    unsigned len;
    bool all_loop = mewe__fn_string_attr_get(fn, MEWE__ATTR_TYPICAL_CYCLES, &len) != NULL;
    for (mewe_cost_class top = MEWE_COST_COSTLY;; top--) {
        LLVMValueRef v;
        int rc = mewe__function_clone(&v, g->m->ctx, fn, "mewe.tmp");
        if (rc != MEWE_OK)
            return rc;
        mewe_cost_class cls;
        rc = diversify(g, v, name, index, attempt, top, all_loop, &cls);
        if (rc != MEWE_OK) {
            mewe__function_delete(v);
            return rc;
        }
        if (top > MEWE_COST_FREE && !affordable(g, fn, v, cls)) {
            mewe__function_delete(v);
            *declined |= 1u << cls;
            top = cls; /* the loop's decrement leaves out this class */
            continue;
        }
        const char *cname = mewe_cost_class_str(cls);
        LLVMAttributeRef a = LLVMCreateStringAttribute(
            LLVMGetTypeContext(LLVMTypeOf(v)), MEWE_ATTR_COST_CLASS,
            (unsigned)strlen(MEWE_ATTR_COST_CLASS), cname, (unsigned)strlen(cname));
        LLVMAddAttributeAtIndex(v, LLVMAttributeFunctionIndex, a);
        *out = v;
        return MEWE_OK;
    }
}

typedef enum { ATTEMPT_KEPT, ATTEMPT_DUPLICATE, ATTEMPT_INVALID, ATTEMPT_TOO_BIG } attempt_result;

static int try_variant(generation *g, LLVMValueRef fn, mewe__fnrec *rec, unsigned index,
                       unsigned attempt, attempt_result *result)
{
    const char *name = rec->name;
    LLVMValueRef v;
    unsigned declined;
    int rc = make_clone(g, fn, name, index, attempt, &declined, &v);
    if (rc != MEWE_OK)
        return rc;
    rec->costly_declined += (declined >> MEWE_COST_COSTLY) & 1u;
    rec->cheap_declined += (declined >> MEWE_COST_CHEAP) & 1u;
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

/* Deletes the kept variant at `at` of a family: from the module, from the variants this call
 * created, and from the family. */
static void drop_variant(generation *g, mewe__family *fam, size_t at)
{
    LLVMValueRef v = fam->variants[at];
    size_t n = mewe__function_instruction_count(v);
    g->added_instructions -= n < g->added_instructions ? n : g->added_instructions;
    for (size_t i = g->created_count; i-- > 0;) {
        if (g->created[i] == v) {
            memmove(&g->created[i], &g->created[i + 1],
                    (g->created_count - i - 1) * sizeof *g->created);
            g->created_count--;
            break;
        }
    }
    memmove(&fam->variants[at], &fam->variants[at + 1],
            (fam->count - at - 1) * sizeof *fam->variants);
    fam->count--;
    mewe__function_delete(v);
}

/* A diversifier failed on this function: the variants made for it in this call go (they are
 * the last rec->variants of its family), and the report says why; the rest of the module
 * goes on. */
static int skip_function(generation *g, mewe__fnrec *rec)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    for (; fam && rec->variants > 0; rec->variants--)
        drop_variant(g, fam, fam->count - 1);
    rec->variants = 0;
    rec->own_reason = g->skip_reason;
    rec->reason = g->skip_reason;
    g->skip_reason = NULL;
    return MEWE_OK;
}

static int make_variants(generation *g, LLVMValueRef fn, mewe__fnrec *rec, unsigned wanted)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    /* Variants from before keep their indices; indices of dropped ones are not reused. */
    if (rec->next_index == 0)
        rec->next_index = fam ? (unsigned)fam->count + 1 : 1;
    for (unsigned k = 0; k < wanted; k++) {
        const char *why = budget_reason(g, rec->instructions);
        if (why) {
            if (rec->variants == 0)
                rec->reason = why;
            break;
        }
        unsigned index = rec->next_index;
        if (index >= MEWE__SALT_INDEX_LIMIT)
            return mewe__error(g->m->ctx, MEWE_EINVAL,
                               "'%s' already has %u variants, the most "
                               "a function may have",
                               rec->name, index - 1);
        attempt_result r = ATTEMPT_DUPLICATE;
        for (unsigned a = 0; a < g->o->attempts && r != ATTEMPT_KEPT && r != ATTEMPT_TOO_BIG; a++) {
            g->pay_cheap = a > 0 || g->refilling;
            int rc = try_variant(g, fn, rec, index, k * g->o->attempts + a, &r);
            g->pay_cheap = false;
            if (rc == DIVERSIFY_SKIP)
                return skip_function(g, rec);
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
        rec->next_index += r == ATTEMPT_KEPT;
    }
    if (rec->variants == 0 && !rec->reason)
        rec->reason = rec->dropped_invalid ? "every variant failed verification"
                                           : "no distinct variant found";
    return MEWE_OK;
}

/* ---- preservation: what the variants are in wasm ---------------------------------------- */

typedef struct named_body {
    const char *name;
    const unsigned char *body;
    size_t len;
} named_body;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named_body *)a)->name, ((const named_body *)b)->name);
}

static const named_body *find_body(const named_body *bodies, size_t n, const char *name)
{
    named_body key = {.name = name};
    return bsearch(&key, bodies, n, sizeof *bodies, by_name);
}

static const named_body *body_of(const named_body *bodies, size_t n, LLVMValueRef fn)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    return find_body(bodies, n, name);
}

/* The original's body as a variant: its copy "f.mewe.v0" that wasm_round compiles with the
 * variants (internal, never inlined, as linking makes it), else the original itself. The
 * original compiles differently when it is exported or named main, which would make a
 * variant look distinct from it that is not once the original becomes variant 0. */
static const named_body *reference_body(const named_body *bodies, size_t n, const char *name,
                                        LLVMValueRef original)
{
    char *ref = mewe__printf("%s.mewe.v0", name);
    const named_body *b = ref ? find_body(bodies, n, ref) : NULL;
    free(ref);
    return b ? b : body_of(bodies, n, original);
}

/* Drops the newest of this call's variants of a function beyond `wanted` (a refill makes
 * more than were lost: REFILL_FACTOR). */
static void trim(generation *g, mewe__fnrec *rec, unsigned wanted)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    for (; fam && rec->variants > wanted; rec->variants--)
        drop_variant(g, fam, fam->count - 1);
}

/* The mean difference over every pair of a family's bodies, the original's included; -1 when
 * none could be measured. Each body's 4-grams are made once. */
static double mean_difference(const mewe__fnrec *rec, const mewe__family *fam,
                              const named_body *bodies, size_t n)
{
    size_t count = fam->count + 1;
    mewe__wasm_grams *gr = calloc(count, sizeof *gr);
    if (!gr)
        return -1.0;
    for (size_t i = 0; i < count; i++) {
        const named_body *x = i == 0 ? reference_body(bodies, n, rec->name, fam->original)
                                     : body_of(bodies, n, fam->variants[i - 1]);
        if (x)
            mewe__wasm_grams_make(&gr[i], x->body, x->len); /* g NULL: not measured */
    }
    double sum = 0.0;
    size_t pairs = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t j = i + 1; gr[i].g && j < count; j++) {
            if (gr[j].g) {
                sum += mewe__wasm_grams_difference(&gr[i], &gr[j]);
                pairs++;
            }
        }
    }
    for (size_t i = 0; i < count; i++)
        mewe__wasm_grams_free(&gr[i]);
    free(gr);
    return pairs ? sum / (double)pairs : -1.0;
}

/* Drops this call's variants of one function whose body equals the original's or an earlier
 * variant's, then those beyond `wanted`, and measures how different the bodies kept are.
 * Returns how many duplicates it dropped. A body the object lacks (never expected) counts as
 * distinct. */
static unsigned check_family(generation *g, mewe__fnrec *rec, const named_body *bodies, size_t n,
                             unsigned wanted)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    if (!fam || rec->variants == 0)
        return 0;
    unsigned dropped = 0;
    size_t first_new = fam->count - rec->variants;
    for (size_t k = first_new; k < fam->count;) {
        const named_body *v = body_of(bodies, n, fam->variants[k]);
        bool dup = false;
        for (size_t j = 0; v && !dup && j <= k; j++) {
            const named_body *o = j == 0 ? reference_body(bodies, n, rec->name, fam->original)
                                         : body_of(bodies, n, fam->variants[j - 1]);
            dup = o && o->len == v->len && memcmp(o->body, v->body, v->len) == 0;
        }
        if (dup) {
            drop_variant(g, fam, k);
            rec->variants--;
            rec->dropped_wasm_duplicate++;
            dropped++;
        } else {
            k++;
        }
    }
    trim(g, rec, wanted);
    rec->wasm_checked = true;
    rec->distinct_in_wasm = rec->variants;
    rec->wasm_difference = mean_difference(rec, fam, bodies, n);
    return dropped;
}

typedef struct check_set {
    const char **names; /* originals of the families to check, sorted */
    size_t count;
    /* Of those, the originals compiled themselves, sorted: those whose reference copy
     * (reference_body) could not be made. The others are left out: a quarter of the
     * check's code with two variants per function. */
    const char **bare;
    size_t bare_count;
} check_set;

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a function is compiled for the check: a variant ("f.mewe.v<N>", the reference
 * copy "f.mewe.v0" included) of a family being checked, or an original in cs->bare. */
static bool in_check(const char *name, void *data)
{
    const check_set *cs = data;
    const char *tag = strstr(name, ".mewe.v");
    while (tag && strstr(tag + 1, ".mewe.v"))
        tag = strstr(tag + 1, ".mewe.v");
    if (!tag || !tag[7] || strspn(tag + 7, "0123456789") != strlen(tag + 7))
        return bsearch(&name, cs->bare, cs->bare_count, sizeof *cs->bare, by_str) != NULL;
    char *family = mewe__printf("%.*s", (int)(tag - name), name);
    const char *key = family;
    bool found = family && bsearch(&key, cs->names, cs->count, sizeof *cs->names, by_str);
    free(family);
    return found;
}

/* Checks the pending families against the bodies code generation made for them, in one or
 * more objects (a large module is compiled in partitions); a family that still has fewer
 * variants than wanted stays pending. */
static int check_objects(generation *g, mewe__fnrec *recs, size_t n, const unsigned *wanted,
                         bool *pending, unsigned *dropped, const mewe__objects *objs)
{
    mewe__wasm_info *infos = calloc(objs->count ? objs->count : 1, sizeof *infos);
    size_t total = 0;
    int prc = infos ? MEWE_OK : MEWE_ENOMEM;
    for (size_t k = 0; prc == MEWE_OK && k < objs->count; k++) {
        prc = mewe__wasm_parse(&infos[k], objs->data[k], objs->size[k]);
        total += infos[k].func_count; /* zeroed on failure */
    }
    named_body *bodies = prc == 0 ? malloc((total ? total : 1) * sizeof *bodies) : NULL;
    size_t nb = 0;
    for (size_t k = 0; bodies && k < objs->count; k++) {
        for (size_t i = 0; i < infos[k].func_count; i++) {
            const mewe__wasm_func *fn = &infos[k].funcs[i];
            if (fn->name)
                bodies[nb++] = (named_body){fn->name, fn->body, fn->body_len};
        }
    }
    if (bodies) {
        qsort(bodies, nb, sizeof *bodies, by_name);
        for (size_t i = 0; i < n; i++) {
            if (!pending[i])
                continue;
            *dropped += check_family(g, &recs[i], bodies, nb, wanted[i]);
            pending[i] = recs[i].variants < wanted[i];
        }
    } else if (prc != MEWE_ENOMEM) {
        mewe__log(g->m->ctx, MEWE_LOG_WARN,
                  "variants of '%s' not checked in wasm: the object "
                  "code generation made does not parse",
                  g->m->name);
        g->wasm_unchecked = true;
    }
    free(bodies);
    for (size_t k = 0; infos && k < objs->count; k++)
        mewe__wasm_info_free(&infos[k]);
    free(infos);
    return prc == MEWE_ENOMEM || (prc == MEWE_OK && !bodies)
               ? mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory")
               : MEWE_OK;
}

/* Compiles the families marked pending (only those: every other function is left out of
 * the compilation) and checks them; *dropped receives how many variants went, and a family
 * that has the variants it wants is no longer pending. A module that cannot be compiled for
 * wasm is left unchecked. */
static int wasm_round(generation *g, mewe__fnrec *recs, size_t n, const unsigned *wanted,
                      bool *pending, unsigned *dropped)
{
    *dropped = 0;
    check_set cs = {malloc((n ? n : 1) * sizeof *cs.names), 0,
                    malloc((n ? n : 1) * sizeof *cs.bare), 0};
    if (!cs.names || !cs.bare) {
        free(cs.names);
        free(cs.bare);
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (pending[i])
            cs.names[cs.count++] = recs[i].name;
    }
    qsort(cs.names, cs.count, sizeof *cs.names, by_str);
    /* Each checked original's reference copy (reference_body), for this compilation only. */
    LLVMValueRef *refs = calloc(n ? n : 1, sizeof *refs);
    for (size_t i = 0; refs && i < n; i++) {
        mewe__family *fam = pending[i] ? mewe__families_find(&g->families, recs[i].name) : NULL;
        if (!fam)
            continue;
        /* Named as variant 0 at once, so that the next copy may take the temporary name. */
        if (mewe__function_clone(&refs[i], g->m->ctx, fam->original, "mewe.ref") == MEWE_OK) {
            mewe__variant_mark(refs[i], recs[i].name, 0);
        } else {
            refs[i] = NULL; /* compared with the original itself (reference_body) */
            cs.bare[cs.bare_count++] = recs[i].name;
        }
    }
    qsort(cs.bare, cs.bare_count, sizeof *cs.bare, by_str);
    mewe__objects objs = {0};
    int rc = refs ? mewe__emit_object(g->m, 2, g->o->threads, in_check, &cs, &objs) : MEWE_ENOMEM;
    for (size_t i = 0; refs && i < n; i++) {
        if (refs[i])
            mewe__function_delete(refs[i]);
    }
    free(refs);
    free(cs.names);
    free(cs.bare);
    if (rc == MEWE_ENOMEM)
        return rc;
    if (rc != MEWE_OK) {
        mewe__log(g->m->ctx, MEWE_LOG_WARN, "variants of '%s' not checked in wasm: %s", g->m->name,
                  mewe_context_errmsg(g->m->ctx));
        g->wasm_unchecked = true;
        return MEWE_OK;
    }
    rc = check_objects(g, recs, n, wanted, pending, dropped, &objs);
    mewe__objects_free(&objs);
    return rc;
}

/* A refill makes this many times the variants a function lost: they are mostly small
 * functions, whose new variants often compile alike again, and each round compiles the whole
 * family again (keccak64's KeccakP1600_AddBytesInLane still had 7 of 8 after three rounds
 * when a refill made only what was lost). The check keeps the first distinct ones (trim). */
#define REFILL_FACTOR 2

/* Makes again the variants that a round dropped, for the functions still pending. */
static int refill(generation *g, LLVMValueRef *fns, mewe__fnrec *recs, size_t n,
                  const unsigned *wanted, bool *pending)
{
    for (size_t i = 0; i < n; i++) {
        if (!pending[i])
            continue;
        recs[i].reason = NULL; /* set again by make_variants if it makes none */
        g->escalate = g->fallback_count > 0;
        g->refilling = true;
        recs[i].escalated |= g->escalate;
        int rc = make_variants(g, fns[i], &recs[i], REFILL_FACTOR * (wanted[i] - recs[i].variants));
        g->escalate = false;
        g->refilling = false;
        if (rc != MEWE_OK)
            return rc;
        pending[i] = recs[i].variants > 0;
    }
    return MEWE_OK;
}

/* Dropping leaves gaps in the variants' numbers (f.mewe.v1, f.mewe.v4, ...): this call's
 * variants of a function are numbered again from where the earlier ones end, in the order
 * they were made, as if the dropped ones had never been. Through temporary names, so that
 * no name is ever taken twice. The numbers served as salts already; they name nothing else. */
static void renumber(generation *g, mewe__fnrec *rec)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    if (!fam || rec->variants == 0)
        return;
    size_t first = fam->count - rec->variants;
    for (size_t k = first; k < fam->count; k++) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "mewe.renumber.%zu", k);
        LLVMSetValueName2(fam->variants[k], tmp, strlen(tmp));
    }
    for (size_t k = first; k < fam->count; k++)
        mewe__variant_mark(fam->variants[k], rec->name, (unsigned)k + 1);
    rec->next_index = (unsigned)fam->count + 1;
}

/* Which functions the check compiles. Code generation erases small differences, and only
 * in small functions are they all a variant has: in libxml2 (2,243 functions), 2,244 of the
 * 2,253 variants dropped as duplicates in wasm came from functions under 100 instructions,
 * 7 from 100 to 199, 2 from 200 to 399 and none from the 89 larger ones, which hold half of
 * the code (the default mix; keccak's five functions of 400 to 4,100 instructions: none
 * either). So the functions under CHECK_ALWAYS instructions are always compiled; with the
 * default mix, those of CHECK_NEVER or more never (in a program of large unrolled functions
 * they were two thirds of the pipeline's time, for nothing); and the others, smallest
 * first, while the code compiled (a function and its variants) stays within CHECK_BUDGET
 * instructions or CHECK_SHARE of the diversified code, whichever is more: a small or
 * middle-sized program is checked whole (but for its largest functions, with the default
 * mix), a large one mostly where duplicates are, at a fraction of the cost of compiling it
 * twice. Diversifiers chosen by the caller keep the large functions in the check: alone, a
 * weak one leaves even them alike in wasm (`blocks` on keccak's unrolled rounds, one block:
 * 6 variants, 1 body). Functions left out have no wasm counts in the report. */
#define CHECK_ALWAYS 100
#define CHECK_NEVER  400
#define CHECK_BUDGET 150000
#define CHECK_SHARE  0.3

static size_t check_volume(const mewe__fnrec *r)
{
    return (size_t)r->instructions * (1 + r->variants);
}

static int by_instructions(const void *a, const void *b)
{
    const mewe__fnrec *x = *(const mewe__fnrec *const *)a, *y = *(const mewe__fnrec *const *)b;
    return (x->instructions > y->instructions) - (x->instructions < y->instructions);
}

/* Marks pending the diversified functions that the check compiles; returns how many.
 * skip_large: leave out the functions of CHECK_NEVER instructions or more. */
static size_t choose_checked(mewe__fnrec *recs, size_t n, bool *pending, bool skip_large)
{
    const mewe__fnrec **order = malloc((n ? n : 1) * sizeof *order);
    size_t m = 0, total = 0, todo = 0;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i].reason && recs[i].variants > 0) {
            total += check_volume(&recs[i]);
            if (order)
                order[m++] = &recs[i];
        }
    }
    size_t budget = (size_t)(CHECK_SHARE * (double)total);
    if (budget < CHECK_BUDGET)
        budget = CHECK_BUDGET;
    if (order)
        qsort(order, m, sizeof *order, by_instructions);
    size_t used = 0;
    for (size_t k = 0; k < m; k++) {
        size_t v = check_volume(order[k]);
        if ((skip_large && order[k]->instructions >= CHECK_NEVER) ||
            (order[k]->instructions >= CHECK_ALWAYS && used + v > budget))
            break;
        used += v;
        pending[order[k] - recs] = true;
        todo++;
    }
    free(order);
    return todo;
}

/* Up to wasm_rounds checks; after each but the last, the functions that lost variants get
 * new ones, and only they are checked again. */
static int preserve(generation *g, LLVMValueRef *fns, mewe__fnrec *recs, size_t n,
                    const unsigned *wanted)
{
    if (g->o->wasm_rounds == MEWE_WASM_ROUNDS_OFF || g->created_count == 0)
        return MEWE_OK;
    const char *triple = LLVMGetTarget(g->m->llvm);
    if (triple[0] && strncmp(triple, "wasm32", 6) != 0)
        return MEWE_OK;
    bool *pending = calloc(n ? n : 1, sizeof *pending);
    if (!pending)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    size_t todo = choose_checked(recs, n, pending, g->o->diversifier_count == 0);
    int rc = MEWE_OK;
    for (unsigned round = 0; rc == MEWE_OK && todo && round < g->o->wasm_rounds; round++) {
        bool last = round + 1 == g->o->wasm_rounds;
        unsigned dropped;
        rc = wasm_round(g, recs, n, wanted, pending, &dropped);
        if (rc != MEWE_OK || g->wasm_unchecked || dropped == 0 || last)
            break;
        rc = refill(g, fns, recs, n, wanted, pending);
        todo = 0;
        for (size_t i = 0; i < n; i++)
            todo += pending[i];
    }
    free(pending);
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        trim(g, &recs[i], wanted[i]); /* a refill that was not checked */
        if (recs[i].variants == 0 && recs[i].dropped_wasm_duplicate)
            recs[i].reason = "every variant compiled to the same wasm as another";
        if (recs[i].wasm_checked)
            renumber(g, &recs[i]);
    }
    return rc;
}

static const char *selection_reason(generation *g, LLVMValueRef fn, mewe__fnrec *rec)
{
    const char *why = mewe__function_ineligible_reason(fn);
    if (why)
        return why;
    rec->eligible = true;
    /* A loop body outlined from f is selected as f is. */
    unsigned len;
    const char *of = mewe__fn_string_attr_get(fn, MEWE__ATTR_PART_OF, &len);
    char *owner = of ? mewe__printf("%.*s", (int)len, of) : NULL;
    const char *name = owner ? owner : rec->name;
    if (g->o->allow_count && !matches_any(name, g->o->allow, g->o->allow_count))
        why = "not in the allow list";
    else if (matches_any(name, g->o->deny, g->o->deny_count))
        why = "in the deny list";
    else if (rec->instructions < g->o->min_instructions)
        why = "too small";
    free(owner);
    return why;
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

/* At most this many light loops of one function are split in chunks, and this many in a
 * module: each makes its loop's code twice as large and costs a few LLVM pass runs over
 * the module, while few loops of a program run long. */
#define CHUNKS_PER_FUNCTION 4
#define CHUNKS_PER_MODULE   16

/* Reports the outcome of one outlining step on `name` (orc as outline.h returns it). */
static int outlined(generation *g, const char *name, int orc, char *msg, LLVMValueRef made,
                    const char *what)
{
    int rc = MEWE_OK;
    size_t len;
    if (orc < 0)
        rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    else if (orc > 0)
        rc = mewe__error(g->m->ctx, MEWE_EVERIFY, "outlining a loop of '%s': %s", name, msg);
    else if (made)
        mewe__log(g->m->ctx, MEWE_LOG_INFO, "'%s': %s '%s'", name, what,
                  LLVMGetValueName2(made, &len));
    if (msg && orc == 2)
        LLVMDisposeMessage(msg);
    else if (msg)
        LLVMDisposeErrorMessage(msg);
    return rc;
}

/* Outlines the loops (outline.h) of one function: the body of a costly one, then chunks of
 * light ones when `chunks` (counted in *chunked). */
static int outline_function(generation *g, mewe__fence *fence, LLVMValueRef fn, const char *name,
                            bool chunks, unsigned *chunked)
{
    LLVMValueRef made = NULL;
    char *msg = NULL;
    int orc = mewe__loop_body_outline(fence, fn, g->o->outline_loops, &made, &msg);
    int rc = outlined(g, name, orc, msg, made, "its costliest loop's body is now");
    for (int n = 0;
         chunks && rc == MEWE_OK && n < CHUNKS_PER_FUNCTION && *chunked < CHUNKS_PER_MODULE; n++) {
        msg = NULL;
        made = NULL;
        orc = mewe__loop_chunk(fence, fn, g->o->outline_loops, &made, &msg);
        rc = outlined(g, name, orc, msg, made, "a light loop now runs in chunks of");
        if (!made)
            break;
        (*chunked)++;
    }
    return rc;
}

static int by_cycles_down(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The iteration cost from which a function's light loops are split in chunks: that of
 * the CHUNKS_PER_MODULE-th costliest candidate over the selected functions (heavier
 * iterations first: the counter costs them least), 0 when there are fewer. cand[i]
 * receives function i's candidate (0: none). */
static double chunk_threshold(generation *g, LLVMValueRef *fns, const bool *selected, size_t n,
                              double *cand)
{
    double *c = malloc((n ? n : 1) * sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cand[i] = selected[i] ? mewe__loop_chunk_candidate(fns[i], g->o->outline_loops) : 0.0;
        if (c && cand[i] > 0.0)
            c[k++] = cand[i];
    }
    double at = 0.0;
    if (c && k > CHUNKS_PER_MODULE) {
        qsort(c, k, sizeof *c, by_cycles_down);
        at = c[CHUNKS_PER_MODULE - 1];
    }
    free(c);
    return at;
}

/* Outlines the loops (outline.h) of the functions that generation would diversify and
 * that have no variants yet. */
static int outline_loops(generation *g)
{
    if (g->o->outline_loops == MEWE_OUTLINE_LOOPS_OFF)
        return MEWE_OK;
    LLVMValueRef *fns;
    size_t n;
    if (originals(g->m->llvm, &fns, &n) != MEWE_OK)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    /* Who is selected, asked once per function (a selection policy may keep state). */
    bool *selected = calloc(n ? n : 1, sizeof *selected);
    char **names = calloc(n ? n : 1, sizeof *names);
    int rc = selected && names ? MEWE_OK : mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        size_t len;
        const char *name = LLVMGetValueName2(fns[i], &len);
        mewe__fnrec rec = {.name = mewe__printf("%.*s", (int)len, name),
                           .instructions = mewe__function_instruction_count(fns[i])};
        if (!rec.name) {
            rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
            break;
        }
        names[i] = rec.name;
        selected[i] =
            !selection_reason(g, fns[i], &rec) && !mewe__families_find(&g->families, rec.name);
    }
    double *cand = calloc(n ? n : 1, sizeof *cand);
    if (rc == MEWE_OK && !cand)
        rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    double threshold = rc == MEWE_OK ? chunk_threshold(g, fns, selected, n, cand) : 0.0;
    unsigned chunked = 0;
    /* Every function is fenced off from the pass runs once for all of them (irutil.h). */
    mewe__fence *fence = rc == MEWE_OK && n ? mewe__fence_new(g->m->llvm) : NULL;
    if (rc == MEWE_OK && n && !fence)
        rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        if (!selected[i])
            continue;
        bool chunks = cand[i] > 0.0 && cand[i] >= threshold;
        rc = outline_function(g, fence, fns[i], names[i], chunks, &chunked);
    }
    mewe__fence_free(fence);
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(selected);
    free(cand);
    free(fns);
    return rc;
}

/* ---- variants made in wasm (wasm/derive.h) ---------------------------------------------- */

/* Whether a value of this type is one wasm value, passed and returned as it is. */
static bool one_wasm_value(LLVMTypeRef t)
{
    switch (LLVMGetTypeKind(t)) {
    case LLVMIntegerTypeKind: return LLVMGetIntTypeWidth(t) <= 64;
    case LLVMFloatTypeKind:
    case LLVMDoubleTypeKind:
    case LLVMPointerTypeKind: return true;
    default: return false;
    }
}

/* Whether a stub of fn compiles to a plain forward, the shape emission recognizes
 * (inspect.h): one wasm value per parameter and result, none passed by value in memory (a
 * byval struct, which the stub would copy before calling). */
static bool plain_signature(LLVMValueRef fn)
{
    static const char *const in_memory[] = {"byval", "inalloca", "preallocated"};
    LLVMTypeRef ret = LLVMGetReturnType(LLVMGlobalGetValueType(fn));
    if (LLVMGetTypeKind(ret) != LLVMVoidTypeKind && !one_wasm_value(ret))
        return false;
    for (unsigned i = 0; i < LLVMCountParams(fn); i++) {
        if (!one_wasm_value(LLVMTypeOf(LLVMGetParam(fn, i))))
            return false;
        for (size_t k = 0; k < sizeof in_memory / sizeof *in_memory; k++) {
            unsigned kind = LLVMGetEnumAttributeKindForName(in_memory[k], strlen(in_memory[k]));
            if (LLVMGetEnumAttributeAtIndex(fn, i + 1, kind))
                return false;
        }
    }
    return true;
}

/* Functions smaller than this have their variants made by LLVM: with eight variants each
 * (all but one made in wasm, every dispatcher calling its variants), the copies of 9 in
 * 10 functions of 50 to 99 instructions came out unlike each other (onig 39 of 42, brotli
 * 37 of 38), of 100 or more nearly all, of 25 to 49 three in four and of fewer than 25
 * almost none: too few locals and operands to trade. */
#define DERIVED_MIN_INSTRUCTIONS 50

/* How many of fn's `wanted` variants are made in wasm: only for a function of
 * DERIVED_MIN_INSTRUCTIONS or more whose stub is a plain forward, and not in a module with
 * debug info (the copies would move the code its DWARF names). Where the link holds the
 * variants inline, emission splices the filled stubs into the dispatcher. */
static unsigned derived_count(const generation *g, LLVMValueRef fn, const mewe__fnrec *rec,
                              unsigned wanted)
{
    unsigned d = g->o->wasm_derived;
    if (d == MEWE_WASM_DERIVED_OFF || rec->instructions < DERIVED_MIN_INSTRUCTIONS ||
        LLVMGetNamedMetadataNumOperands(LLVMGetGlobalParent(fn), "llvm.dbg.cu") > 0 ||
        !plain_signature(fn))
        return 0;
    if (d == 0) /* the default: LLVM makes one variant, which the others may copy */
        return wanted > 0 ? wanted - 1 : 0;
    return d < wanted ? d : wanted;
}

/* Copies the attributes of fn's return value and parameters (index 0 and 1..n) to `to`, a
 * function or a call. */
static void copy_value_attrs(LLVMValueRef fn, LLVMValueRef to, bool call)
{
    unsigned n = LLVMCountParams(fn);
    for (unsigned idx = 0; idx <= n; idx++) {
        unsigned count = LLVMGetAttributeCountAtIndex(fn, idx);
        LLVMAttributeRef *attrs = count ? malloc(count * sizeof *attrs) : NULL;
        if (!attrs)
            continue; /* only annotations are lost: the wasm signature is the same */
        LLVMGetAttributesAtIndex(fn, idx, attrs);
        for (unsigned k = 0; k < count; k++) {
            if (call)
                LLVMAddCallSiteAttribute(to, idx, attrs[k]);
            else
                LLVMAddAttributeAtIndex(to, idx, attrs[k]);
        }
        free(attrs);
    }
}

/* A stub of fn's type that calls `source` with its arguments and returns its result. */
static LLVMValueRef make_stub(LLVMValueRef fn, LLVMValueRef source)
{
    LLVMModuleRef llvm = LLVMGetGlobalParent(fn);
    LLVMContextRef c = LLVMGetModuleContext(llvm);
    LLVMTypeRef fty = LLVMGlobalGetValueType(fn);
    unsigned n = LLVMCountParams(fn);
    LLVMValueRef *args = malloc((n ? n : 1) * sizeof *args);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    if (!args || !b) {
        free(args);
        if (b)
            LLVMDisposeBuilder(b);
        return NULL;
    }
    LLVMValueRef stub = LLVMAddFunction(llvm, "mewe.tmp", fty);
    LLVMSetFunctionCallConv(stub, LLVMGetFunctionCallConv(fn));
    copy_value_attrs(fn, stub, false);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, stub, "entry"));
    for (unsigned i = 0; i < n; i++)
        args[i] = LLVMGetParam(stub, i);
    LLVMValueRef call = LLVMBuildCall2(b, fty, source, args, n, "");
    copy_value_attrs(source, call, true);
    LLVMSetInstructionCallConv(call, LLVMGetFunctionCallConv(source));
    if (LLVMGetTypeKind(LLVMGetReturnType(fty)) == LLVMVoidTypeKind)
        LLVMBuildRetVoid(b);
    else
        LLVMBuildRet(b, call);
    LLVMDisposeBuilder(b);
    free(args);
    return stub;
}

/* Makes `count` stubs of fn, each to be filled by emission with a copy of its source:
 * the original and its variants in turn, the original first (a copy of it runs at its
 * speed). Each counts as large as its source against the size budget. */
static int make_derived(generation *g, LLVMValueRef fn, mewe__fnrec *rec, unsigned count)
{
    mewe__family *fam = mewe__families_find(&g->families, rec->name);
    size_t sources = 1 + (fam ? fam->count : 0);
    LLVMValueRef *from = malloc(sources * sizeof *from);
    if (!from)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    from[0] = fn;
    sources = 1; /* stubs of an earlier call are no sources: they have no code of their own */
    for (size_t k = 0; fam && k < fam->count; k++) {
        if (!mewe__derived_source(fam->variants[k]))
            from[sources++] = fam->variants[k];
    }
    if (rec->next_index == 0)
        rec->next_index = fam ? (unsigned)fam->count + 1 : 1;
    int rc = MEWE_OK;
    for (unsigned k = 0; rc == MEWE_OK && k < count; k++) {
        LLVMValueRef source = from[k % sources];
        if (budget_reason(g, rec->instructions) || rec->next_index >= MEWE__SALT_INDEX_LIMIT)
            break;
        LLVMValueRef stub = make_stub(fn, source);
        if (!stub) {
            rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
            break;
        }
        unsigned len;
        const char *cls = mewe__fn_string_attr_get(source, MEWE_ATTR_COST_CLASS, &len);
        char cname[16] = "free"; /* a copy of the original costs what it costs */
        if (cls && len < sizeof cname)
            snprintf(cname, sizeof cname, "%.*s", (int)len, cls);
        mewe__variant_mark(stub, rec->name, rec->next_index);
        mewe__fn_string_attr_set(stub, MEWE_ATTR_COST_CLASS, cname);
        mewe__fn_string_attr_set(stub, MEWE_ATTR_DERIVED, "1");
        g->added_instructions += rec->instructions;
        if (!MEWE__ARRAY_PUSH(g->created, g->created_count, g->created_cap, stub) ||
            mewe__families_add(&g->families, fn, stub) != MEWE_OK) {
            LLVMDeleteFunction(stub);
            if (g->created_count && g->created[g->created_count - 1] == stub)
                g->created_count--;
            rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
            break;
        }
        rec->next_index++;
        rec->variants++;
        rec->derived++;
    }
    free(from);
    return rc;
}

static int run(generation *g, mewe__fnrec **out_recs, size_t *out_count)
{
    LLVMValueRef *fns;
    size_t n;
    int orc = outline_loops(g);
    if (orc != MEWE_OK)
        return orc;
    if (originals(g->m->llvm, &fns, &n) != MEWE_OK)
        return mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
    mewe__fnrec *recs = calloc(n ? n : 1, sizeof *recs);
    unsigned *wanted = calloc(n ? n : 1, sizeof *wanted);
    unsigned *derived = calloc(n ? n : 1, sizeof *derived);
    int rc =
        recs && wanted && derived ? MEWE_OK : mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
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
        unsigned of_len;
        const char *of = mewe__fn_string_attr_get(fns[i], MEWE__ATTR_PART_OF, &of_len);
        if (of && !(recs[i].part_of = mewe__printf("%.*s", (int)of_len, of))) {
            rc = mewe__error(g->m->ctx, MEWE_ENOMEM, "out of memory");
            break;
        }
        recs[i].reason = selection_reason(g, fns[i], &recs[i]);
        wanted[i] = g->o->variants;
        if (!recs[i].reason)
            rc = ask_policy(g, fns[i], &recs[i], &wanted[i]);
        if (rc == MEWE_OK && !recs[i].reason) {
            derived[i] = derived_count(g, fns[i], &recs[i], wanted[i]);
            wanted[i] -= derived[i];
        }
        if (rc == MEWE_OK && !recs[i].reason && wanted[i] > 0)
            rc = make_variants(g, fns[i], &recs[i], wanted[i]);
        if (rc == MEWE_OK)
            mewe__progress(g->m->ctx, "generating variants", i + 1, n);
    }
    if (rc == MEWE_OK)
        rc = preserve(g, fns, recs, n, wanted);
    /* After the check: it compiles no stub, and leaves the sources as they will be. */
    for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
        if (derived[i] && !recs[i].own_reason)
            rc = make_derived(g, fns[i], &recs[i], derived[i]);
        if (rc == MEWE_OK && recs[i].derived)
            recs[i].reason = NULL;
    }
    free(derived);
    free(wanted);
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
    for (size_t i = 0; recs && i < n; i++) {
        free(recs[i].name);
        free(recs[i].own_reason);
        free(recs[i].part_of);
    }
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
    mewe__module_measure_before(module);
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
    for (size_t i = 0; i < g.spec_count + g.fallback_count; i++)
        mewe__spec_fini(&g.specs[i]);
    free(g.specs);
    free(g.created);
    free(g.skip_reason);
    mewe__families_free(&g.families);
    return rc;
}
