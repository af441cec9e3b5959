/* The JSON report: per function what happened and why, totals, link settings and what the
 * emitted wasm preserved. It is computed from the module (and the wasm the caller passes),
 * never kept in it: no call changes what another reports. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/cost.h"
#include "ir/eligibility.h"
#include "util/fileio.h"
#include "util/json.h"
#include "ir/family.h"
#include "wasm/derive.h"
#include "wasm/inspect.h"
#include "wasm/names.h"

typedef struct totals {
    size_t functions, eligible, diversified, dispatchers, variants, wasm_derived;
    size_t inlined, per_policy[4], epoch;
    double log10_paths;
    size_t generated, distinct_in_ir, distinct_in_wasm, wasm_checked;
    double difference_sum, difference_min;
    size_t difference_count;
    /* With the emitted wasm: the dispatchers found in it, and their variants. */
    size_t live_dispatchers, live_variants;
} totals;

/* Whether a function of the module is in the wasm. C's main, which the link always keeps,
 * is named otherwise there ("main" or "__main_argc_argv" in the IR; "__original_main",
 * "__main_void" or "main" in the wasm, after the backend's and wasi-libc's wrappers), and so
 * are C++, Rust and D functions, whose names wasm-ld demangles ("_ZN1n1fEi" is
 * "n::f(int)"), and those whose names are not UTF-8 (renamed at emission, names.h): those
 * count as kept, as does everything when the wasm names nothing (stripped). */
static bool kept_in_output(const mewe__wasm_name_set *w, const char *name)
{
    static const char *const mangled[] = {"_Z", "___Z", "_R", "_D"};
    if (w->count == 0) /* a stripped wasm names nothing: it cannot tell */
        return true;
    if (strcmp(name, "main") == 0 || strcmp(name, "__main_argc_argv") == 0 ||
        !mewe__wasm_name_valid(name, strlen(name)))
        return true;
    for (size_t i = 0; i < sizeof mangled / sizeof *mangled; i++) {
        if (strncmp(name, mangled[i], strlen(mangled[i])) == 0)
            return true;
    }
    return mewe__wasm_name_set_has(w, name);
}

static void plan_entry(mewe__json *j, const mewe__plan *p, totals *t)
{
    mewe__json_string(j, "policy", mewe__plan_policy_name(p));
    if (p->policy == MEWE_GRANULARITY_EVERY)
        mewe__json_uint(j, "period", p->period);
    mewe__json_string(j, "layout", p->inlined ? "inline" : "call");
    /* The plan is read back from an attribute that the IR may have brought in: its numbers
     * may be anything, but the report stays JSON. */
    mewe__json_fixed(j, "estimated_cycles_per_call", p->body, 2);
    mewe__json_fixed(j, "estimated_dispatch_cycles", p->added, 2);
    mewe__json_fixed(j, "estimated_variant_overhead", p->variant_extra, 4);
    mewe__json_fixed(j, "estimated_overhead", p->added / p->body + p->variant_extra, 4);
    mewe__json_string(j, "policy_reason", mewe__plan_reasons[p->why]);
    if (p->calls >= 0)
        mewe__json_fixed(j, "profile_calls", p->calls, 0);
    t->inlined += p->inlined;
    if (p->epoch)
        t->epoch++;
    else
        t->per_policy[p->policy]++;
}

/* How many of a "call"-layout family's variants the wasm lacks while it holds some of them
 * (and so its dispatcher): emission left them out as the same code as another (emit.c).
 * None when the wasm holds none of them: then it names nothing (stripped) or the family
 * was dropped whole. */
static size_t left_out_of(const mewe__family *fam, const mewe__wasm_name_set *live)
{
    size_t present = 0;
    for (size_t k = 0; k < fam->count; k++) {
        size_t len;
        const char *name = LLVMGetValueName2(fam->variants[k], &len);
        present += mewe__wasm_name_set_has(live, name);
    }
    return present ? fam->count - present : 0;
}

/* live: the functions of the emitted wasm, or NULL without one. */
static void function_entry(mewe__json *j, const mewe_module *m, const mewe__fnrec *r,
                           mewe__families *fams, const mewe__wasm_name_set *live, totals *t)
{
    LLVMModuleRef llvm = m->llvm;
    mewe__family *fam = mewe__families_find(fams, r->name);
    LLVMValueRef fn = LLVMGetNamedFunction(llvm, r->name);
    long id = mewe__dispatcher_id(fn);
    mewe__plan plan;
    bool planned = mewe__dispatcher_plan(fn, &plan);
    /* Variants made by other tools count too (mewe_module_add_variants); variants inside
     * their dispatcher are counted by its plan. */
    size_t variants = planned ? plan.variants - 1 : fam ? fam->count - (id >= 0) : 0;
    size_t dropped_out = planned && !plan.inlined && fam && live ? left_out_of(fam, live) : 0;
    /* Stubs left forwarders run their sources' code: as one with it, as twins are. */
    const mewe__spliced_family *emitted = live ? mewe__module_spliced(m, r->name) : NULL;
    dropped_out += emitted ? emitted->alike : 0;
    dropped_out = dropped_out < variants ? dropped_out : variants;
    variants -= dropped_out; /* the output counts them as one with their twins */
    mewe__json_object(j, NULL, false);
    mewe__json_string(j, "name", r->name);
    if (r->part_of)
        mewe__json_string(j, "loop_body_of", r->part_of);
    mewe__json_uint(j, "instructions", r->instructions);
    mewe__json_string(j, "status", variants ? "diversified" : "skipped");
    if (!variants)
        mewe__json_string(j, "reason",
                          dropped_out ? "every variant compiled to the same wasm as another"
                          : r->reason ? r->reason
                                      : "no variants");
    mewe__json_bool(j, "eligible", r->eligible);
    mewe__json_uint(j, "variants", variants);
    size_t derived = mewe__family_stubs(fam); /* stubs in the IR, which emission fills */
    if (derived)
        mewe__json_uint(j, "wasm_derived", derived);
    t->wasm_derived += derived;
    mewe__json_uint(j, "dropped_duplicate", r->dropped_duplicate);
    mewe__json_uint(j, "dropped_invalid", r->dropped_invalid);
    if (dropped_out)
        mewe__json_uint(j, "dropped_in_output", dropped_out);
    if (r->costly_declined)
        mewe__json_uint(j, "costly_declined", r->costly_declined);
    if (r->cheap_declined)
        mewe__json_uint(j, "cheap_declined", r->cheap_declined);
    if (r->escalated)
        mewe__json_bool(j, "fallback", true);
    if (r->wasm_checked) {
        /* Generated: every valid variant made; distinct in IR: those unlike the original and
         * each other in IR; distinct in wasm: those whose compiled bodies are also unlike
         * (only these are kept). Variants made in wasm come after the check. */
        unsigned in_ir = r->variants - r->derived + r->dropped_wasm_duplicate;
        unsigned generated = in_ir + r->dropped_duplicate;
        mewe__json_uint(j, "generated", generated);
        mewe__json_uint(j, "distinct_in_ir", in_ir);
        mewe__json_uint(j, "distinct_in_wasm", r->distinct_in_wasm);
        mewe__json_uint(j, "dropped_wasm_duplicate", r->dropped_wasm_duplicate);
        t->generated += generated;
        t->distinct_in_ir += in_ir;
        t->distinct_in_wasm += r->distinct_in_wasm;
        t->wasm_checked++;
        if (r->variants && r->wasm_difference >= 0) {
            mewe__json_fixed(j, "wasm_difference", r->wasm_difference, 4);
            t->difference_sum += r->wasm_difference;
            if (t->difference_count == 0 || r->wasm_difference < t->difference_min)
                t->difference_min = r->wasm_difference;
            t->difference_count++;
        }
    }
    if (id >= 0)
        mewe__json_int(j, "dispatcher_id", id);
    if (planned)
        plan_entry(j, &plan, t);
    /* A dispatcher nothing calls is dropped by wasm-ld with its variants (an unused function
     * of a library linked into a command). */
    bool in_output = id >= 0 && live && kept_in_output(live, r->name);
    if (id >= 0 && live && !in_output)
        mewe__json_bool(j, "in_output", false);
    mewe__json_end(j);
    t->live_dispatchers += in_output;
    t->live_variants += in_output ? variants : 0;
    t->functions++;
    t->eligible += r->eligible;
    t->diversified += variants > 0;
    t->variants += variants;
    t->dispatchers += id >= 0;
    if (variants)
        t->log10_paths += log10((double)(variants + 1));
}

/* Without records from mewe_generate_variants (a module loaded with variants made
 * elsewhere), the functions are described from the IR. */
static int records_from_ir(LLVMModuleRef llvm, mewe__fnrec **out, size_t *count)
{
    size_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        unsigned len;
        n += !LLVMIsDeclaration(f) && !mewe__variant_of(f, &len) && !mewe__is_helper(f);
    }
    mewe__fnrec *recs = calloc(n ? n : 1, sizeof *recs);
    if (!recs)
        return MEWE_ENOMEM;
    size_t i = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        unsigned vlen;
        if (LLVMIsDeclaration(f) || mewe__variant_of(f, &vlen) || mewe__is_helper(f))
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        recs[i].name = mewe__printf("%.*s", (int)len, name);
        recs[i].instructions = mewe__function_instruction_count(f);
        recs[i].reason = mewe__dispatcher_id(f) >= 0 ? NULL : mewe__function_ineligible_reason(f);
        recs[i].eligible = recs[i].reason == NULL;
        if (!recs[i].name) {
            *count = i;
            *out = recs;
            return MEWE_ENOMEM;
        }
        i++;
    }
    *out = recs;
    *count = n;
    return MEWE_OK;
}

/* The code of the dispatch machinery: the bodies of dispatchers that call their variants
 * (a family whose variants are functions of their own) and of libmewe's helpers ("mewe.*":
 * RNG refills, the epoch clock). A dispatcher that holds its variants inline is not
 * counted: its few instructions of choice cannot be told apart from the bodies in it. */
static size_t dispatch_bytes(const mewe__wasm_info *info, const mewe__wasm_family *fams, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < info->func_count; i++) {
        const char *name = info->funcs[i].name;
        bool counted = name && strncmp(name, "mewe.", 5) == 0;
        for (size_t k = 0; name && !counted && k < n; k++)
            counted = strcmp(name, fams[k].family) == 0;
        if (counted)
            bytes += info->funcs[i].body_len;
    }
    return bytes;
}

/* The sums over the dispatchers that the wasm section gives. */
typedef struct wasm_sums {
    size_t generated, distinct, compared;
    double difference_sum, difference_min;
} wasm_sums;

static void dispatcher_entry(mewe__json *j, const char *name, size_t variants, size_t distinct,
                             double difference, bool spliced, wasm_sums *s)
{
    mewe__json_object(j, NULL, false);
    mewe__json_string(j, "name", name);
    mewe__json_uint(j, "variants", variants);
    mewe__json_uint(j, "distinct_in_wasm", distinct);
    mewe__json_fixed(j, "difference", difference, 4);
    if (spliced) /* counted in the object, before its calls of its variants were spliced */
        mewe__json_bool(j, "spliced", true);
    mewe__json_end(j);
    s->difference_min =
        s->compared == 0 || difference < s->difference_min ? difference : s->difference_min;
    s->difference_sum += difference;
    s->compared++;
    s->generated += variants;
    s->distinct += distinct;
}

static bool family_listed(const mewe__wasm_family *fams, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fams[i].family, name) == 0)
            return true;
    }
    return false;
}

/* How many variants of each dispatcher stayed distinct in the emitted wasm: two variants
 * that compile to the same body are one variant. A dispatcher into which emission spliced
 * its variants (wasm/splice.h) is counted as its object held them. */
static int wasm_section(mewe__json *j, const mewe_module *m, const mewe__wasm_info *info,
                        const mewe__wasm_name_set *live, const totals *t, size_t wasm_size)
{
    mewe__wasm_family *fams = NULL;
    size_t n = 0;
    if (mewe__wasm_families(info, &fams, &n) != MEWE_OK)
        return MEWE_ENOMEM;
    wasm_sums s = {0};
    mewe__json_object(j, "wasm", false);
    mewe__json_uint(j, "bytes", wasm_size);
    mewe__json_uint(j, "code_bytes", info->code_size);
    mewe__json_array(j, "dispatchers", true);
    for (size_t i = 0; i < n; i++) {
        double d = mewe__wasm_family_difference(info, fams[i].family);
        if (d < 0) {
            mewe__wasm_families_free(fams, n);
            return MEWE_ENOMEM;
        }
        /* A stub left a forwarder has its source's body: no variant of its own. */
        const mewe__spliced_family *e = mewe__module_spliced(m, fams[i].family);
        size_t alike = e && !e->spliced && e->alike < fams[i].variants ? e->alike : 0;
        dispatcher_entry(j, fams[i].family, fams[i].variants - alike, fams[i].distinct, d, false,
                         &s);
    }
    for (size_t i = 0; i < m->spliced_count; i++) {
        const mewe__spliced_family *sf = &m->spliced[i];
        if (sf->spliced && kept_in_output(live, sf->name) && !family_listed(fams, n, sf->name))
            dispatcher_entry(j, sf->name, sf->variants, sf->distinct, sf->difference, true, &s);
    }
    mewe__json_end(j);
    mewe__json_uint(j, "variants", s.generated);
    mewe__json_uint(j, "distinct_in_wasm", s.distinct);
    /* null, not 0, when no variant is a function of its own (all inlined): nothing to
     * compare is not a failed comparison. */
    mewe__json_fixed(j, "preservation",
                     s.generated ? (double)s.distinct / (double)s.generated : NAN, 4);
    /* How different the bodies of a family are, as generation's check measures it: the mean
     * over the dispatchers and the least; null without any. */
    mewe__json_fixed(j, "difference_mean", s.compared ? s.difference_sum / (double)s.compared : NAN,
                     4);
    mewe__json_fixed(j, "difference_min", s.compared ? s.difference_min : NAN, 4);
    size_t dispatch = dispatch_bytes(info, fams, n);
    mewe__json_uint(j, "dispatch_bytes", dispatch);
    mewe__json_fixed(j, "dispatch_share",
                     info->code_size ? (double)dispatch / (double)info->code_size : 0.0, 4);
    /* The totals' dispatchers and variants that the wasm holds: those of dispatchers the
     * link kept. */
    mewe__json_uint(j, "dispatchers_in_output", t->live_dispatchers);
    mewe__json_uint(j, "variants_in_output", t->live_variants);
    mewe__json_end(j);
    mewe__wasm_families_free(fams, n);
    return MEWE_OK;
}

static void totals_section(mewe__json *j, const mewe_module *m, const totals *t)
{
    /* The "before" measures are a cache, filled on first use: the module does not change. */
    mewe__module_measure_before((mewe_module *)m);
    size_t instr_after = mewe__module_instruction_count(m->llvm);
    size_t bc_after = mewe__module_bitcode_now(m);
    mewe__json_object(j, "totals", false);
    mewe__json_uint(j, "functions", t->functions);
    mewe__json_uint(j, "eligible", t->eligible);
    mewe__json_uint(j, "diversified", t->diversified);
    mewe__json_uint(j, "dispatchers", t->dispatchers);
    mewe__json_uint(j, "variants", t->variants);
    mewe__json_uint(j, "wasm_derived", t->wasm_derived);
    mewe__json_fixed(j, "coverage",
                     t->eligible ? (double)t->diversified / (double)t->eligible : 0.0, 4);
    mewe__json_fixed(j, "log10_static_paths", t->log10_paths, 4);
    mewe__json_uint(j, "instructions_before", m->instructions_before);
    mewe__json_uint(j, "instructions_after", instr_after);
    mewe__json_uint(j, "bitcode_bytes_before", m->bitcode_before);
    mewe__json_uint(j, "bitcode_bytes_after", bc_after);
    mewe__json_bool(j, "time_budget_hit", m->time_budget_hit);
    mewe__json_uint(j, "inlined_dispatchers", t->inlined);
    mewe__json_uint(j, "policy_call", t->per_policy[MEWE_GRANULARITY_CALL]);
    mewe__json_uint(j, "policy_instance", t->per_policy[MEWE_GRANULARITY_INSTANCE]);
    mewe__json_uint(j, "policy_every", t->per_policy[MEWE_GRANULARITY_EVERY]);
    mewe__json_uint(j, "policy_invocation", t->per_policy[MEWE_GRANULARITY_INVOCATION]);
    mewe__json_uint(j, "policy_epoch", t->epoch);
    if (t->wasm_checked) {
        /* Preservation as generation checked it: kept variants over those distinct in IR. */
        mewe__json_uint(j, "generated", t->generated);
        mewe__json_uint(j, "distinct_in_ir", t->distinct_in_ir);
        mewe__json_uint(j, "distinct_in_wasm", t->distinct_in_wasm);
        mewe__json_fixed(
            j, "generation_preservation",
            t->distinct_in_ir ? (double)t->distinct_in_wasm / (double)t->distinct_in_ir : NAN, 4);
        if (t->difference_count) {
            mewe__json_fixed(j, "wasm_difference_mean",
                             t->difference_sum / (double)t->difference_count, 4);
            mewe__json_fixed(j, "wasm_difference_min", t->difference_min, 4);
        }
    }
    mewe__json_end(j);
}

/* What mewe_link_multivariant was asked and estimated. */
static void link_section(mewe__json *j, const mewe__link_record *r)
{
    mewe__json_object(j, "link", false);
    mewe__json_string(j, "dispatch", mewe__dispatch_name(r->dispatch));
    mewe__json_string(j, "granularity", mewe__granularity_name(r->granularity));
    mewe__json_string(j, "rng", r->rng);
    mewe__json_bool(j, "trace", r->trace);
    mewe__json_real(j, "max_overhead", r->max_overhead, 4); /* null: unlimited */
    mewe__json_uint(j, "period", r->period);
    mewe__json_uint(j, "inline_limit", r->inline_limit);
    mewe__json_uint(j, "dispatchers", r->dispatchers);
    if (r->profiled) {
        mewe__json_object(j, "profile", false);
        mewe__json_uint(j, "functions", r->profile_functions);
        mewe__json_uint(j, "unmatched", r->profile_unmatched);
        mewe__json_fixed(j, "estimated_cycles_per_run", r->run_cycles, 0);
        mewe__json_fixed(j, "estimated_added_cycles_per_run", r->run_added, 0);
        mewe__json_fixed(j, "estimated_overhead",
                         r->run_cycles > 0 ? r->run_added / r->run_cycles : 0.0, 4);
        mewe__json_fixed(j, "calls_to_diversified_per_run", r->run_calls, 0);
        mewe__json_fixed(j, "choices_per_run", r->run_choices, 0);
        mewe__json_fixed(j, "redraw_share", r->run_calls > 0 ? r->run_choices / r->run_calls : 0.0,
                         4);
        mewe__json_end(j);
    }
    mewe__json_end(j);
}

static void free_records(mewe__fnrec *recs, size_t n)
{
    for (size_t i = 0; recs && i < n; i++)
        free(recs[i].name);
    free(recs);
}

static int build(char **out, size_t *len, const mewe_module *m, const void *wasm, size_t wasm_size)
{
    mewe__wasm_info info;
    mewe__wasm_name_set live = {NULL, 0};
    if (wasm) {
        int prc = mewe__wasm_parse(&info, wasm, wasm_size);
        if (prc != MEWE_OK)
            return prc;
        if (mewe__wasm_name_set_make(&live, &info) != MEWE_OK) {
            mewe__wasm_info_free(&info);
            return MEWE_ENOMEM;
        }
    }
    mewe__families fams;
    int rc = mewe__families_collect(&fams, m->llvm) == MEWE_OK ? MEWE_OK : MEWE_ENOMEM;
    const mewe__fnrec *recs = m->records;
    mewe__fnrec *own = NULL;
    size_t n = m->record_count;
    if (rc == MEWE_OK && !recs && records_from_ir(m->llvm, &own, &n) != MEWE_OK) {
        free_records(own, n);
        mewe__families_free(&fams);
        rc = MEWE_ENOMEM;
    }
    if (rc != MEWE_OK) {
        mewe__wasm_name_set_free(&live);
        if (wasm)
            mewe__wasm_info_free(&info);
        return rc;
    }
    if (!recs)
        recs = own;
    mewe__json j = {0};
    totals t = {0};
    mewe__json_object(&j, NULL, true);
    mewe__json_string(&j, "module", m->name);
    mewe__json_uint(&j, "seed", m->ctx->seed);
    mewe__json_array(&j, "functions", true);
    for (size_t i = 0; i < n; i++)
        function_entry(&j, m, &recs[i], &fams, wasm ? &live : NULL, &t);
    mewe__json_end(&j);
    totals_section(&j, m, &t);
    if (m->link)
        link_section(&j, m->link);
    if (wasm) {
        rc = wasm_section(&j, m, &info, &live, &t, wasm_size);
        mewe__wasm_name_set_free(&live);
        mewe__wasm_info_free(&info);
    }
    mewe__json_end(&j);
    free_records(own, n);
    mewe__families_free(&fams);
    *out = mewe__json_take(&j, len);
    if (rc != MEWE_OK) {
        free(*out);
        *out = NULL;
        return rc;
    }
    return *out ? MEWE_OK : MEWE_ENOMEM;
}

int mewe_report_json_wasm(char **out_json, size_t *out_size, const mewe_module *module,
                          const void *wasm, size_t wasm_size)
{
    if (!module)
        return MEWE_EINVAL;
    if (!out_json)
        return mewe__error(module->ctx, MEWE_EINVAL, "mewe_report_json: out_json is NULL");
    *out_json = NULL;
    if (!wasm && wasm_size > 0)
        return mewe__error(module->ctx, MEWE_EINVAL,
                           "report of '%s': wasm is NULL but "
                           "wasm_size is %zu",
                           module->name, wasm_size);
    size_t len;
    int rc = build(out_json, &len, module, wasm, wasm_size);
    if (rc == MEWE_EPARSE)
        return mewe__error(module->ctx, rc,
                           "report of '%s': the wasm given (%zu bytes) is not "
                           "a well-formed WebAssembly module",
                           module->name, wasm_size);
    if (rc != MEWE_OK)
        return mewe__error(module->ctx, rc, "out of memory building the report of '%s'",
                           module->name);
    if (out_size)
        *out_size = len;
    return MEWE_OK;
}

int mewe_report_json(char **out_json, size_t *out_size, const mewe_module *module)
{
    return mewe_report_json_wasm(out_json, out_size, module, NULL, 0);
}

int mewe_report_write_wasm(const mewe_module *module, const void *wasm, size_t wasm_size,
                           const char *path)
{
    if (!module)
        return MEWE_EINVAL;
    if (!path)
        return mewe__error(module->ctx, MEWE_EINVAL, "mewe_report_write: path is NULL");
    char *json;
    size_t len;
    int rc = mewe_report_json_wasm(&json, &len, module, wasm, wasm_size);
    if (rc == MEWE_OK)
        rc = mewe__file_write_atomic(module->ctx, path, json, len);
    free(json);
    return rc;
}

int mewe_report_write(const mewe_module *module, const char *path)
{
    return mewe_report_write_wasm(module, NULL, 0, path);
}
