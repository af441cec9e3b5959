/* Every emitted module is checked against the engines' implementation limits: a module that
 * validates but that node refuses to compile ("local count too large") is no output at all.
 *
 * The limits are the WebAssembly JS API's ("Limits" in its specification), which V8,
 * SpiderMonkey and JavaScriptCore share, and V8's largest br_table. Code generation at -O0
 * gives every SSA value a wasm local of its own, so a huge function (a generated program's
 * main, a dispatcher with many variants inside it) can go over the locals limit there and
 * nowhere else: that case is emitted again at -O1. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/cost.h"
#include "util/strbuf.h"
#include "ir/family.h"
#include "wasm/limits.h"

#define LIMIT_MODULE_BYTES  1073741824ull
#define LIMIT_TYPES         1000000ull
#define LIMIT_FUNCTIONS     1000000ull
#define LIMIT_IMPORTS       100000ull
#define LIMIT_EXPORTS       100000ull
#define LIMIT_GLOBALS       1000000ull
#define LIMIT_TAGS          1000000ull
#define LIMIT_DATA_SEGMENTS 100000ull
#define LIMIT_TABLES        100000ull
#define LIMIT_TABLE_SIZE    10000000ull
#define LIMIT_ELEM_ENTRIES  10000000ull
#define LIMIT_MEMORY_PAGES  65536ull
#define LIMIT_PARAMS        1000ull
#define LIMIT_RESULTS       1000ull
#define LIMIT_BODY_BYTES    7654321ull
#define LIMIT_LOCALS        50000ull /* parameters included */
#define LIMIT_BR_TABLE      65520ull

/* Excesses kept for the message; more are only counted. */
#define KEPT 8

/* Adds one excess when value is over limit. */
static void over(mewe__wasm_excess *out, size_t max, size_t *n, const char *what, uint64_t value,
                 uint64_t limit, bool per_function, size_t func)
{
    if (value <= limit)
        return;
    if (*n < max)
        out[*n] = (mewe__wasm_excess){what, value, limit, per_function, func};
    ++*n;
}

size_t mewe__wasm_limits_check(const mewe__wasm_info *info, mewe__wasm_excess *out, size_t max,
                               size_t *unscanned)
{
    size_t n = 0, params_over = 0, results_over = 0;
    uint64_t params_max = 0, results_max = 0;
    *unscanned = 0;
    for (size_t i = 0; i < info->func_count; i++) {
        const mewe__wasm_func *f = &info->funcs[i];
        const mewe__wasm_functype *t = &info->types[f->type];
        size_t before = n;
        over(out, max, &n, "parameters", t->params, LIMIT_PARAMS, true, i);
        params_over += n != before;
        before = n;
        over(out, max, &n, "results", t->results, LIMIT_RESULTS, true, i);
        results_over += n != before;
        over(out, max, &n, "locals", (uint64_t)t->params + f->locals, LIMIT_LOCALS, true, i);
        over(out, max, &n, "body bytes", f->body_len, LIMIT_BODY_BYTES, true, i);
        uint32_t br_table;
        if (mewe__wasm_body_scan(f, &br_table) == MEWE_OK)
            over(out, max, &n, "br_table targets", br_table, LIMIT_BR_TABLE, true, i);
        else
            ++*unscanned;
    }
    /* Types that no defined function has (imports, call_indirect) count as well. */
    for (size_t i = 0; i < info->type_count; i++) {
        if (info->types[i].params > params_max)
            params_max = info->types[i].params;
        if (info->types[i].results > results_max)
            results_max = info->types[i].results;
    }
    if (!params_over)
        over(out, max, &n, "parameters in one function type", params_max, LIMIT_PARAMS, false, 0);
    if (!results_over)
        over(out, max, &n, "results in one function type", results_max, LIMIT_RESULTS, false, 0);
    const mewe__wasm_counts *c = &info->counts;
    over(out, max, &n, "bytes", c->bytes, LIMIT_MODULE_BYTES, false, 0);
    over(out, max, &n, "types", c->types, LIMIT_TYPES, false, 0);
    over(out, max, &n, "functions", c->functions, LIMIT_FUNCTIONS, false, 0);
    over(out, max, &n, "imports", c->imports, LIMIT_IMPORTS, false, 0);
    over(out, max, &n, "exports", c->exports, LIMIT_EXPORTS, false, 0);
    over(out, max, &n, "globals", c->globals, LIMIT_GLOBALS, false, 0);
    over(out, max, &n, "tags", c->tags, LIMIT_TAGS, false, 0);
    over(out, max, &n, "data segments", c->data_segments, LIMIT_DATA_SEGMENTS, false, 0);
    over(out, max, &n, "tables", c->tables, LIMIT_TABLES, false, 0);
    over(out, max, &n, "elements in a table's initial size", c->table_initial_max, LIMIT_TABLE_SIZE,
         false, 0);
    over(out, max, &n, "entries in one element segment", c->elem_entries_max, LIMIT_ELEM_ENTRIES,
         false, 0);
    over(out, max, &n, "memory pages", c->memory_pages_max, LIMIT_MEMORY_PAGES, false, 0);
    return n;
}

/* Appends "; text" (or text) to the note unless the note holds it already or it does not
 * fit whole. */
static void note_add(char *note, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note_add(char *note, size_t size, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!size || strstr(note, text))
        return;
    size_t len = strlen(note);
    if (len + (len ? 2 : 0) + strlen(text) < size)
        snprintf(note + len, size - len, "%s%s", len ? "; " : "", text);
}

/* Jump tables are made at 10 % density at least: a table of more than LIMIT_BR_TABLE
 * targets needs cases v[i] < v[j] more than LIMIT_BR_TABLE apart with at least a tenth of
 * the values between them as cases, 10 (j - i + 1) >= v[j] - v[i] + 1. With
 * f(k) = 10 k - v[k] that is f(i) <= f(j) + 9: one pass with the least f over the cases far
 * enough below v[j] finds such a pair. Cases wider than 64 bits are not looked at. */
static int cmp_i64(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static bool switch_too_dense(LLVMValueRef sw, unsigned *cases, long long *lo, long long *hi)
{
    unsigned n = LLVMGetNumSuccessors(sw) - 1;
    *cases = n;
    if (n * 10ull <= LIMIT_BR_TABLE || LLVMGetIntTypeWidth(LLVMTypeOf(LLVMGetOperand(sw, 0))) > 64)
        return false;
    long long *v = malloc(n * sizeof *v);
    if (!v)
        return false;
    for (unsigned i = 0; i < n; i++)
        v[i] = LLVMConstIntGetSExtValue(LLVMGetOperand(sw, 2 + 2 * i));
    qsort(v, n, sizeof *v, cmp_i64);
    bool found = false;
    long double best = 0; /* least f(i) over the cases far enough below v[j] */
    unsigned below = 0;
    for (unsigned j = 0; j < n && !found; j++) {
        while (below < j &&
               (long double)v[j] - (long double)v[below] + 1 > (long double)LIMIT_BR_TABLE) {
            long double f = 10.0L * below - (long double)v[below];
            if (below == 0 || f < best)
                best = f;
            below++;
        }
        found = below > 0 && best <= 10.0L * j - (long double)v[j] + 9;
    }
    *lo = v[0];
    *hi = v[n - 1];
    free(v);
    return found;
}

/* The first switch that could become a br_table over the limit. */
static int check_switches(mewe_context *ctx, const char *name, LLVMModuleRef llvm)
{
    for (LLVMValueRef f = llvm ? LLVMGetFirstFunction(llvm) : NULL; f; f = LLVMGetNextFunction(f)) {
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            LLVMValueRef term = LLVMGetBasicBlockTerminator(bb);
            unsigned cases;
            long long lo, hi;
            if (!term || LLVMGetInstructionOpcode(term) != LLVMSwitch ||
                !switch_too_dense(term, &cases, &lo, &hi))
                continue;
            size_t len;
            const char *fname = LLVMGetValueName2(f, &len);
            return mewe__error(ctx, MEWE_ETARGET,
                               "'%s' would not load in WebAssembly "
                               "engines: function '%.*s': a switch with %u cases from %lld to "
                               "%lld, dense enough for a jump table of more br_table targets "
                               "than the engines' limit of %llu (and LLVM 19 encodes more than "
                               "65535 targets wrongly); split the switch in the source",
                               name, (int)len, fname, cases, lo, hi, LIMIT_BR_TABLE);
        }
    }
    return MEWE_OK;
}

/* Only these shrink with register allocation, which -O0 skips. */
static bool fixed_by_optimizing(const mewe__wasm_excess *e, size_t kept, size_t total)
{
    if (total > kept)
        return false;
    for (size_t i = 0; i < kept; i++) {
        if (!e[i].per_function ||
            (strcmp(e[i].what, "locals") != 0 && strcmp(e[i].what, "body bytes") != 0))
            return false;
    }
    return true;
}

static void function_name(mewe__strbuf *s, const mewe__wasm_info *info, size_t i)
{
    if (info->funcs[i].name)
        mewe__strbuf_add(s, "function '%s'", info->funcs[i].name);
    else
        mewe__strbuf_add(s, "function #%zu", info->import_func_count + i);
}

static void describe(mewe__strbuf *s, const mewe__wasm_info *info, const mewe__wasm_excess *e,
                     const char *module)
{
    if (e->per_function)
        function_name(s, info, e->func);
    else
        mewe__strbuf_add(s, "'%s'", module);
    mewe__strbuf_add(s, ": %llu %s, over the engines' limit of %llu", (unsigned long long)e->value,
                     e->what, (unsigned long long)e->limit);
}

/* What a user can do about an excess that libmewe could not avoid. */
static void hint(mewe__strbuf *s, const mewe__wasm_info *info, const mewe__wasm_excess *e,
                 LLVMModuleRef llvm)
{
    const char *name = e->per_function ? info->funcs[e->func].name : NULL;
    LLVMValueRef fn = name && llvm ? LLVMGetNamedFunction(llvm, name) : NULL;
    mewe__plan plan;
    bool sized = strcmp(e->what, "locals") == 0 || strcmp(e->what, "body bytes") == 0 ||
                 strcmp(e->what, "br_table targets") == 0;
    if (sized && mewe__dispatcher_plan(fn, &plan) && plan.inlined) {
        mewe__strbuf_add(s,
                         "; it is a dispatcher that carries its %zu variants inside it: a "
                         "lower link option inline_limit (mewe --inline-limit) keeps them as "
                         "functions of their own, fewer variants make it smaller",
                         plan.variants);
        return;
    }
    if (strcmp(e->what, "br_table targets") == 0)
        mewe__strbuf_add(s, "; a switch over that many consecutive cases becomes one "
                            "br_table: split it in the source");
    else if (sized)
        mewe__strbuf_add(s, "; split the function in the source");
    else if (e->per_function)
        mewe__strbuf_add(s, "; pass them through memory (a struct) instead");
}

/* A checked module: its parse and what goes over the limits. */
typedef struct checked {
    mewe__wasm_info info;
    mewe__wasm_excess e[KEPT];
    size_t kept, total;
} checked;

static int fail(mewe_context *ctx, const char *name, const checked *c, LLVMModuleRef llvm,
                int level, bool retried)
{
    mewe__strbuf s = {0};
    mewe__strbuf_add(&s, "'%s' would not load in WebAssembly engines: ", name);
    describe(&s, &c->info, &c->e[0], name);
    if (retried)
        mewe__strbuf_add(&s, " (at -O%d too)", level);
    hint(&s, &c->info, &c->e[0], llvm);
    if (c->total > 1)
        mewe__strbuf_add(&s, "; and %zu more excess%s", c->total - 1, c->total > 2 ? "es" : "");
    size_t len;
    char *msg = mewe__strbuf_take(&s, &len);
    int rc = msg ? mewe__error(ctx, MEWE_ETARGET, "%s", msg)
                 : mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", name);
    free(msg);
    return rc;
}

/* Parses and checks. A module that libmewe's reader does not take is let through with a
 * warning (c->total stays 0): the check must never refuse what it cannot read. */
static int check(mewe_context *ctx, const char *name, const void *wasm, size_t size, checked *c)
{
    memset(c, 0, sizeof *c);
    int rc = mewe__wasm_parse(&c->info, wasm, size);
    if (rc == MEWE_ENOMEM)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory checking the wasm of '%s'", name);
    if (rc != MEWE_OK) {
        mewe__log(ctx, MEWE_LOG_WARN,
                  "cannot read the emitted wasm of '%s': its sizes are "
                  "not checked against the engines' limits",
                  name);
        return MEWE_OK;
    }
    size_t unscanned;
    c->total = mewe__wasm_limits_check(&c->info, c->e, KEPT, &unscanned);
    c->kept = c->total < KEPT ? c->total : KEPT;
    if (unscanned)
        mewe__log(ctx, MEWE_LOG_DEBUG,
                  "'%s': %zu function bodies hold instructions that the "
                  "limits check does not decode; their br_table sizes are not checked",
                  name, unscanned);
    return MEWE_OK;
}

int mewe__wasm_limits_emit(mewe_context *ctx, const char *name, LLVMModuleRef llvm, int level,
                           mewe__wasm_emit_fn emit, void *user, void **out, size_t *out_size,
                           char *note, size_t note_size)
{
    int rc = check_switches(ctx, name, llvm);
    if (rc == MEWE_OK)
        rc = emit(user, level, out, out_size);
    if (rc != MEWE_OK)
        return rc;
    checked c;
    bool retried = false;
    rc = check(ctx, name, *out, *out_size, &c);
    if (rc == MEWE_OK && c.total > 0 && level == 0 && fixed_by_optimizing(c.e, c.kept, c.total)) {
        mewe__strbuf first = {0};
        describe(&first, &c.info, &c.e[0], name);
        size_t len;
        char *what = mewe__strbuf_take(&first, &len);
        size_t was = c.total;
        mewe__wasm_info_free(&c.info);
        memset(&c, 0, sizeof c);
        free(*out);
        *out = NULL;
        retried = true;
        level = 1;
        rc = emit(user, level, out, out_size);
        if (rc == MEWE_OK)
            rc = check(ctx, name, *out, *out_size, &c);
        if (rc == MEWE_OK && c.total == 0) {
            mewe__log(ctx, MEWE_LOG_WARN,
                      "'%s' at -O0: %s%s; emitted at -O1 instead, whose "
                      "register allocation needs far fewer locals",
                      name, what ? what : "", was > 1 ? " (and more)" : "");
            note_add(note, note_size, "at -O0, %s%s; emitted at -O1 instead",
                     what ? what : "functions went over the engines' limits",
                     was > 1 ? " (and more)" : "");
        }
        free(what);
    }
    if (rc == MEWE_OK && c.total > 0)
        rc = fail(ctx, name, &c, llvm, level, retried);
    mewe__wasm_info_free(&c.info);
    if (rc != MEWE_OK) {
        free(*out);
        *out = NULL;
        *out_size = 0;
    }
    return rc;
}
