/* The JSON report: per function what happened and why, totals, link settings and what the
 * emitted wasm preserved. It is computed from the module (and the wasm the caller passes),
 * never kept in it: no call changes what another reports. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/cost.h"
#include "ir/eligibility.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "ir/family.h"
#include "wasm/inspect.h"

typedef struct totals {
    size_t functions, eligible, diversified, dispatchers, variants;
    size_t inlined, per_policy[4], epoch;
    double log10_paths;
} totals;

/* The cost model's plan of a dispatcher, read back from its attribute. */
static bool dispatcher_plan(LLVMValueRef fn, mewe__plan *out)
{
    LLVMAttributeRef a =
        fn ? LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, MEWE_ATTR_PLAN,
                                           (unsigned)strlen(MEWE_ATTR_PLAN))
           : NULL;
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    return v && mewe__plan_parse(out, v, len);
}

static void plan_entry(mewe__strbuf *s, const mewe__plan *p, totals *t)
{
    mewe__strbuf_add(s, ", \"policy\": ");
    mewe__strbuf_json_str(s, mewe__plan_policy_name(p));
    if (p->policy == MEWE_GRANULARITY_EVERY)
        mewe__strbuf_add(s, ", \"period\": %u", p->period);
    mewe__strbuf_add(s, ", \"layout\": ");
    mewe__strbuf_json_str(s, p->inlined ? "inline" : "call");
    /* The plan is read back from an attribute that the IR may have brought in: its numbers
     * may be anything, but the report stays JSON. */
    mewe__strbuf_add(s, ", \"estimated_cycles_per_call\": ");
    mewe__strbuf_json_number(s, p->body, 2);
    mewe__strbuf_add(s, ", \"estimated_dispatch_cycles\": ");
    mewe__strbuf_json_number(s, p->added, 2);
    mewe__strbuf_add(s, ", \"estimated_variant_overhead\": ");
    mewe__strbuf_json_number(s, p->variant_extra, 4);
    mewe__strbuf_add(s, ", \"estimated_overhead\": ");
    mewe__strbuf_json_number(s, p->added / p->body + p->variant_extra, 4);
    mewe__strbuf_add(s, ", \"policy_reason\": ");
    mewe__strbuf_json_str(s, mewe__plan_reasons[p->why]);
    if (p->calls >= 0) {
        mewe__strbuf_add(s, ", \"profile_calls\": ");
        mewe__strbuf_json_number(s, p->calls, 0);
    }
    t->inlined += p->inlined;
    if (p->epoch)
        t->epoch++;
    else
        t->per_policy[p->policy]++;
}

static long dispatcher_id(LLVMValueRef fn)
{
    LLVMAttributeRef a =
        fn ? LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, MEWE_ATTR_DISPATCHER,
                                           (unsigned)strlen(MEWE_ATTR_DISPATCHER))
           : NULL;
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    char buf[16];
    if (!v || len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return strtol(buf, NULL, 10);
}

static void function_entry(mewe__strbuf *s, LLVMModuleRef llvm, const mewe__fnrec *r,
                           mewe__families *fams, totals *t)
{
    mewe__family *fam = mewe__families_find(fams, r->name);
    LLVMValueRef fn = LLVMGetNamedFunction(llvm, r->name);
    mewe__plan plan;
    bool planned = dispatcher_plan(fn, &plan);
    /* Variants made by other tools count too (mewe_module_add_variants); variants inside
     * their dispatcher are counted by its plan. */
    size_t variants = planned ? plan.variants - 1
                      : fam   ? fam->count - (fn && dispatcher_id(fn) >= 0)
                              : 0;
    mewe__strbuf_add(s, "    {\"name\": ");
    mewe__strbuf_json_str(s, r->name);
    mewe__strbuf_add(s, ", \"instructions\": %u, \"status\": ", r->instructions);
    mewe__strbuf_json_str(s, variants ? "diversified" : "skipped");
    if (!variants) {
        mewe__strbuf_add(s, ", \"reason\": ");
        mewe__strbuf_json_str(s, r->reason ? r->reason : "no variants");
    }
    mewe__strbuf_add(s,
                     ", \"eligible\": %s, \"variants\": %zu, \"dropped_duplicate\": %u, "
                     "\"dropped_invalid\": %u",
                     r->eligible ? "true" : "false", variants, r->dropped_duplicate,
                     r->dropped_invalid);
    long id = dispatcher_id(LLVMGetNamedFunction(llvm, r->name));
    if (id >= 0)
        mewe__strbuf_add(s, ", \"dispatcher_id\": %ld", id);
    if (planned)
        plan_entry(s, &plan, t);
    mewe__strbuf_add(s, "}");
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
        recs[i].reason = dispatcher_id(f) >= 0 ? NULL : mewe__function_ineligible_reason(f);
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

/* How many variants of each dispatcher stayed distinct in the emitted wasm: two variants
 * that compile to the same body are one variant. */
static int wasm_section(mewe__strbuf *s, const void *wasm, size_t wasm_size)
{
    mewe__wasm_info info;
    int rc = mewe__wasm_parse(&info, wasm, wasm_size);
    if (rc != 0)
        return rc == -2 ? MEWE_ENOMEM : MEWE_EPARSE;
    mewe__wasm_family *fams = NULL;
    size_t n = 0;
    if (mewe__wasm_families(&info, &fams, &n) != 0) {
        mewe__wasm_info_free(&info);
        return MEWE_ENOMEM;
    }
    size_t generated = 0, distinct = 0;
    mewe__strbuf_add(s, ",\n  \"wasm\": {\"bytes\": %zu, \"code_bytes\": %zu, \"dispatchers\": [",
                     wasm_size, info.code_size);
    for (size_t i = 0; i < n; i++) {
        mewe__strbuf_add(s, "%s\n    {\"name\": ", i ? "," : "");
        mewe__strbuf_json_str(s, fams[i].family);
        mewe__strbuf_add(s, ", \"variants\": %zu, \"distinct_in_wasm\": %zu}", fams[i].variants,
                         fams[i].distinct);
        generated += fams[i].variants;
        distinct += fams[i].distinct;
    }
    size_t dispatch = dispatch_bytes(&info, fams, n);
    mewe__strbuf_add(s,
                     "],\n    \"variants\": %zu, \"distinct_in_wasm\": %zu, "
                     "\"preservation\": %.4f, \"dispatch_bytes\": %zu, \"dispatch_share\": %.4f",
                     generated, distinct, generated ? (double)distinct / (double)generated : 0.0,
                     dispatch, info.code_size ? (double)dispatch / (double)info.code_size : 0.0);
    mewe__strbuf_add(s, "}");
    mewe__wasm_families_free(fams, n);
    mewe__wasm_info_free(&info);
    return MEWE_OK;
}

static void totals_section(mewe__strbuf *s, const mewe_module *m, const totals *t)
{
    size_t instr_after, bc_after;
    mewe__module_measure(m->llvm, &instr_after, &bc_after);
    mewe__strbuf_add(s,
                     "  \"totals\": {\"functions\": %zu, \"eligible\": %zu, "
                     "\"diversified\": %zu, \"dispatchers\": %zu, \"variants\": %zu, "
                     "\"coverage\": %.4f, \"log10_static_paths\": %.4f, "
                     "\"instructions_before\": %zu, \"instructions_after\": %zu, "
                     "\"bitcode_bytes_before\": %zu, \"bitcode_bytes_after\": %zu, "
                     "\"time_budget_hit\": %s, \"inlined_dispatchers\": %zu, "
                     "\"policy_call\": %zu, \"policy_instance\": %zu, \"policy_every\": %zu, "
                     "\"policy_invocation\": %zu, \"policy_epoch\": %zu}",
                     t->functions, t->eligible, t->diversified, t->dispatchers, t->variants,
                     t->eligible ? (double)t->diversified / (double)t->eligible : 0.0,
                     t->log10_paths, m->instructions_before, instr_after, m->bitcode_before,
                     bc_after, m->time_budget_hit ? "true" : "false", t->inlined,
                     t->per_policy[MEWE_GRANULARITY_CALL], t->per_policy[MEWE_GRANULARITY_INSTANCE],
                     t->per_policy[MEWE_GRANULARITY_EVERY],
                     t->per_policy[MEWE_GRANULARITY_INVOCATION], t->epoch);
}

static int build(char **out, size_t *len, const mewe_module *m, const void *wasm, size_t wasm_size)
{
    mewe__families fams;
    if (mewe__families_collect(&fams, m->llvm) != MEWE_OK)
        return MEWE_ENOMEM;
    const mewe__fnrec *recs = m->records;
    mewe__fnrec *own = NULL;
    size_t n = m->record_count;
    if (!recs && records_from_ir(m->llvm, &own, &n) != MEWE_OK) {
        for (size_t i = 0; own && i < n; i++)
            free(own[i].name);
        free(own);
        mewe__families_free(&fams);
        return MEWE_ENOMEM;
    }
    if (!recs)
        recs = own;
    mewe__strbuf s = {0};
    totals t = {0};
    mewe__strbuf_add(&s, "{\n  \"module\": ");
    mewe__strbuf_json_str(&s, m->name);
    mewe__strbuf_add(&s, ",\n  \"seed\": %llu,\n  \"functions\": [\n",
                     (unsigned long long)m->ctx->seed);
    for (size_t i = 0; i < n; i++) {
        function_entry(&s, m->llvm, &recs[i], &fams, &t);
        mewe__strbuf_add(&s, i + 1 < n ? ",\n" : "\n");
    }
    mewe__strbuf_add(&s, "  ],\n");
    totals_section(&s, m, &t);
    if (m->link_summary)
        mewe__strbuf_add(&s, ",\n  \"link\": %s", m->link_summary);
    int rc = wasm ? wasm_section(&s, wasm, wasm_size) : MEWE_OK;
    mewe__strbuf_add(&s, "\n}\n");
    for (size_t i = 0; own && i < n; i++)
        free(own[i].name);
    free(own);
    mewe__families_free(&fams);
    *out = mewe__strbuf_take(&s, len);
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
