/* Profiles: instrumenting a module so that its run counts calls, and reading the counts
 * back for the cost model (mewe/profile.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "profile.h"
#include "ir/family.h"
#include "util/array.h"

#define CALLS  "mewe.profile.calls"
#define PREFIX "mewe-profile "

/* ------------------------------------------------------------------ instrumenting */

typedef struct site {
    LLVMValueRef call;
    unsigned caller, callee, index;
} site;

/* A defined function and its index, for looking callees up by address. */
typedef struct fn_slot {
    LLVMValueRef f;
    size_t index;
} fn_slot;

typedef struct instrumenting {
    mewe_module *m;
    LLVMContextRef c;
    LLVMBuilderRef b;
    LLVMTypeRef i32, i64, ptr;
    LLVMValueRef *fns;   /* defined functions, in module order */
    fn_slot *by_address; /* the same, sorted by address */
    size_t n_fns;
    site *sites;
    size_t n_sites, sites_cap;
} instrumenting;

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const fn_slot *)a)->f, y = (uintptr_t)((const fn_slot *)b)->f;
    return x < y ? -1 : x > y;
}

/* The index of a defined function, or -1: every call instruction asks, so a search. */
static long fn_index(const instrumenting *in, LLVMValueRef f)
{
    fn_slot key = {f, 0};
    const fn_slot *hit = bsearch(&key, in->by_address, in->n_fns, sizeof key, by_address);
    return hit ? (long)hit->index : -1;
}

static int collect(instrumenting *in)
{
    LLVMModuleRef llvm = in->m->llvm;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f))
        in->n_fns += !LLVMIsDeclaration(f) && !mewe__is_helper(f);
    in->fns = calloc(in->n_fns ? in->n_fns : 1, sizeof *in->fns);
    in->by_address = calloc(in->n_fns ? in->n_fns : 1, sizeof *in->by_address);
    if (!in->fns || !in->by_address)
        return MEWE_ENOMEM;
    size_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        if (!LLVMIsDeclaration(f) && !mewe__is_helper(f)) {
            in->by_address[n] = (fn_slot){f, n};
            in->fns[n++] = f;
        }
    }
    qsort(in->by_address, n, sizeof *in->by_address, by_address);
    for (size_t i = 0; i < in->n_fns; i++) {
        unsigned *per_callee = calloc(in->n_fns, sizeof *per_callee);
        if (!per_callee)
            return MEWE_ENOMEM;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(in->fns[i]); bb;
             bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMValueRef inst = LLVMGetFirstInstruction(bb); inst;
                 inst = LLVMGetNextInstruction(inst)) {
                long callee = LLVMIsACallInst(inst) ? fn_index(in, LLVMGetCalledValue(inst)) : -1;
                if (callee < 0)
                    continue;
                site s = {inst, (unsigned)i, (unsigned)callee, per_callee[callee]++};
                if (!MEWE__ARRAY_PUSH(in->sites, in->n_sites, in->sites_cap, s)) {
                    free(per_callee);
                    return MEWE_ENOMEM;
                }
            }
        }
        free(per_callee);
    }
    return MEWE_OK;
}

static LLVMValueRef counters(instrumenting *in, const char *name, size_t n)
{
    LLVMTypeRef t = LLVMArrayType2(in->i64, n);
    LLVMValueRef g = LLVMAddGlobal(in->m->llvm, t, name);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetInitializer(g, LLVMConstNull(t));
    return g;
}

/* counts[index] += 1, before `at`. */
static void bump(instrumenting *in, LLVMValueRef counts, size_t index, LLVMValueRef at)
{
    LLVMPositionBuilderBefore(in->b, at);
    LLVMValueRef idx[] = {LLVMConstInt(in->i32, 0, 0), LLVMConstInt(in->i32, index, 0)};
    LLVMValueRef slot =
        LLVMBuildInBoundsGEP2(in->b, LLVMGlobalGetValueType(counts), counts, idx, 2, "");
    LLVMValueRef v = LLVMBuildLoad2(in->b, in->i64, slot, "");
    LLVMBuildStore(in->b, LLVMBuildAdd(in->b, v, LLVMConstInt(in->i64, 1, 0), ""), slot);
}

static LLVMValueRef first_non_alloca(LLVMValueRef f)
{
    LLVMValueRef at = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(f));
    while (LLVMIsAAllocaInst(at))
        at = LLVMGetNextInstruction(at);
    return at;
}

/* A constant table of i32 or of pointers, internal. */
static LLVMValueRef table(instrumenting *in, const char *name, LLVMTypeRef t, LLVMValueRef *items,
                          size_t n)
{
    LLVMValueRef init = LLVMConstArray2(t, items, n);
    LLVMValueRef g = LLVMAddGlobal(in->m->llvm, LLVMTypeOf(init), name);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetInitializer(g, init);
    return g;
}

static LLVMValueRef load_at(instrumenting *in, LLVMValueRef g, LLVMTypeRef t, LLVMValueRef i)
{
    LLVMValueRef idx[] = {LLVMConstInt(in->i32, 0, 0), i};
    return LLVMBuildLoad2(
        in->b, t, LLVMBuildInBoundsGEP2(in->b, LLVMGlobalGetValueType(g), g, idx, 2, ""), "");
}

/* for (i = 0; i < n; i++) body(i): returns i in the body's block; *done is the exit. */
static LLVMValueRef loop_open(instrumenting *in, LLVMValueRef fn, LLVMBasicBlockRef *head,
                              LLVMBasicBlockRef *done, LLVMValueRef *phi)
{
    LLVMBasicBlockRef from = LLVMGetInsertBlock(in->b);
    *head = LLVMAppendBasicBlockInContext(in->c, fn, "loop");
    *done = LLVMAppendBasicBlockInContext(in->c, fn, "done");
    LLVMBuildBr(in->b, *head);
    LLVMPositionBuilderAtEnd(in->b, *head);
    *phi = LLVMBuildPhi(in->b, in->i32, "i");
    LLVMValueRef zero = LLVMConstInt(in->i32, 0, 0);
    LLVMAddIncoming(*phi, &zero, &from, 1);
    return *phi;
}

static void loop_close(instrumenting *in, LLVMBasicBlockRef head, LLVMBasicBlockRef done,
                       LLVMValueRef phi, size_t n)
{
    LLVMValueRef next = LLVMBuildAdd(in->b, phi, LLVMConstInt(in->i32, 1, 0), "");
    LLVMBasicBlockRef at = LLVMGetInsertBlock(in->b);
    LLVMAddIncoming(phi, &next, &at, 1);
    LLVMBuildCondBr(in->b, LLVMBuildICmp(in->b, LLVMIntULT, next, LLVMConstInt(in->i32, n, 0), ""),
                    head, done);
    LLVMPositionBuilderAtEnd(in->b, done);
}

static LLVMValueRef print(instrumenting *in, LLVMValueRef dprintf, LLVMValueRef *args, unsigned n)
{
    LLVMTypeRef params[] = {in->i32, in->ptr};
    LLVMTypeRef t = LLVMFunctionType(in->i32, params, 2, 1);
    return LLVMBuildCall2(in->b, t, dprintf, args, n, "");
}

/* void mewe.profile.write(void): the counts, as mewe/profile.h describes them, on fd 2. */
static LLVMValueRef build_writer(instrumenting *in, LLVMValueRef calls, LLVMValueRef sites,
                                 LLVMValueRef dprintf)
{
    LLVMValueRef fn = LLVMAddFunction(in->m->llvm, "mewe.profile.write",
                                      LLVMFunctionType(LLVMVoidTypeInContext(in->c), NULL, 0, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMPositionBuilderAtEnd(in->b, LLVMAppendBasicBlockInContext(in->c, fn, "entry"));
    size_t n = in->n_fns ? in->n_fns : 1;
    LLVMValueRef *names = calloc(n, sizeof *names);
    LLVMValueRef *ints = calloc(in->n_sites * 3 + 1, sizeof *ints);
    if (!names || !ints) {
        free(names);
        free(ints);
        LLVMDeleteFunction(fn);
        return NULL;
    }
    for (size_t i = 0; i < in->n_fns; i++) {
        size_t len;
        const char *name = LLVMGetValueName2(in->fns[i], &len);
        char *z = mewe__printf("%.*s", (int)len, name);
        names[i] = LLVMBuildGlobalStringPtr(in->b, z ? z : "?", "mewe.profile.name");
        free(z);
    }
    LLVMValueRef fd = LLVMConstInt(in->i32, 2, 0);
    LLVMValueRef head_args[] = {fd, LLVMBuildGlobalStringPtr(in->b, PREFIX "1\n", "")};
    print(in, dprintf, head_args, 2);
    LLVMValueRef name_table = table(in, "mewe.profile.names", in->ptr, names, in->n_fns);
    LLVMBasicBlockRef head, done;
    LLVMValueRef i;
    if (in->n_fns) {
        LLVMValueRef fmt = LLVMBuildGlobalStringPtr(in->b, PREFIX "fn %llu %s\n", "");
        loop_open(in, fn, &head, &done, &i);
        LLVMValueRef args[] = {fd, fmt, load_at(in, calls, in->i64, i),
                               load_at(in, name_table, in->ptr, i)};
        print(in, dprintf, args, 4);
        loop_close(in, head, done, i, in->n_fns);
    }
    if (in->n_sites) {
        for (size_t k = 0; k < in->n_sites; k++) {
            ints[3 * k] = LLVMConstInt(in->i32, in->sites[k].caller, 0);
            ints[3 * k + 1] = LLVMConstInt(in->i32, in->sites[k].index, 0);
            ints[3 * k + 2] = LLVMConstInt(in->i32, in->sites[k].callee, 0);
        }
        LLVMValueRef site_table =
            table(in, "mewe.profile.site_table", in->i32, ints, in->n_sites * 3);
        LLVMValueRef fmt = LLVMBuildGlobalStringPtr(in->b, PREFIX "site %llu %s %u %s\n", "");
        loop_open(in, fn, &head, &done, &i);
        LLVMValueRef at = LLVMBuildMul(in->b, i, LLVMConstInt(in->i32, 3, 0), "");
        LLVMValueRef caller = load_at(in, site_table, in->i32, at);
        LLVMValueRef index = load_at(in, site_table, in->i32,
                                     LLVMBuildAdd(in->b, at, LLVMConstInt(in->i32, 1, 0), ""));
        LLVMValueRef callee = load_at(in, site_table, in->i32,
                                      LLVMBuildAdd(in->b, at, LLVMConstInt(in->i32, 2, 0), ""));
        LLVMValueRef args[] = {fd,
                               fmt,
                               load_at(in, sites, in->i64, i),
                               load_at(in, name_table, in->ptr, caller),
                               index,
                               load_at(in, name_table, in->ptr, callee)};
        print(in, dprintf, args, 6);
        loop_close(in, head, done, i, in->n_sites);
    }
    LLVMValueRef end_args[] = {fd, LLVMBuildGlobalStringPtr(in->b, PREFIX "end %u\n", ""),
                               LLVMConstInt(in->i32, in->n_fns, 0)};
    print(in, dprintf, end_args, 3);
    LLVMBuildRetVoid(in->b);
    free(names);
    free(ints);
    return fn;
}

/* A libc function the instrumentation calls, declared if the module lacks it. */
static int libc_function(instrumenting *in, const char *name, LLVMTypeRef t, LLVMValueRef *out)
{
    LLVMValueRef f = LLVMGetNamedFunction(in->m->llvm, name);
    if (f && LLVMGlobalGetValueType(f) != t)
        return mewe__error(in->m->ctx, MEWE_ELINK,
                           "cannot instrument '%s': it declares '%s' "
                           "with another type than libc's",
                           in->m->name, name);
    *out = f ? f : LLVMAddFunction(in->m->llvm, name, t);
    return MEWE_OK;
}

static LLVMValueRef find_main(LLVMModuleRef llvm)
{
    static const char *const names[] = {"__main_argc_argv", "main", "__main_void",
                                        "__original_main"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        LLVMValueRef f = LLVMGetNamedFunction(llvm, names[i]);
        if (f && !LLVMIsDeclaration(f))
            return f;
    }
    return NULL;
}

static int check_instrumentable(mewe_module *m, LLVMValueRef *main_fn)
{
    if (m->multivariant || LLVMGetNamedGlobal(m->llvm, CALLS))
        return mewe__error(m->ctx, MEWE_ESTATE, "cannot instrument '%s': it is %s", m->name,
                           m->multivariant ? "multivariant" : "already instrumented");
    for (LLVMValueRef f = LLVMGetFirstFunction(m->llvm); f; f = LLVMGetNextFunction(f)) {
        unsigned len;
        if (mewe__variant_of(f, &len))
            return mewe__error(m->ctx, MEWE_ESTATE,
                               "cannot instrument '%s': it has variants "
                               "(instrument the program as loaded)",
                               m->name);
    }
    *main_fn = find_main(m->llvm);
    if (!*main_fn)
        return mewe__error(m->ctx, MEWE_ENOTFOUND,
                           "cannot instrument '%s': it defines no main "
                           "(the counts are written when main returns or exit is called)",
                           m->name);
    return MEWE_OK;
}

int mewe_module_instrument_profile(mewe_module *module)
{
    if (!module)
        return MEWE_EINVAL;
    LLVMValueRef main_fn;
    int rc = check_instrumentable(module, &main_fn);
    if (rc != MEWE_OK)
        return rc;
    mewe__module_measure_before(module);
    instrumenting in = {.m = module, .c = module->ctx->llvm};
    in.i32 = LLVMInt32TypeInContext(in.c);
    in.i64 = LLVMInt64TypeInContext(in.c);
    in.ptr = LLVMPointerTypeInContext(in.c, 0);
    LLVMTypeRef dprintf_params[] = {in.i32, in.ptr};
    LLVMTypeRef atexit_params[] = {in.ptr};
    LLVMValueRef dprintf, atexit_fn;
    rc = libc_function(&in, "dprintf", LLVMFunctionType(in.i32, dprintf_params, 2, 1), &dprintf);
    if (rc == MEWE_OK)
        rc =
            libc_function(&in, "atexit", LLVMFunctionType(in.i32, atexit_params, 1, 0), &atexit_fn);
    if (rc != MEWE_OK)
        return rc;
    if (collect(&in) != MEWE_OK) {
        free(in.fns);
        free(in.by_address);
        free(in.sites);
        return mewe__error(module->ctx, MEWE_ENOMEM, "out of memory instrumenting '%s'",
                           module->name);
    }
    in.b = LLVMCreateBuilderInContext(in.c);
    LLVMValueRef calls = counters(&in, CALLS, in.n_fns ? in.n_fns : 1);
    LLVMValueRef sites = counters(&in, "mewe.profile.sites", in.n_sites ? in.n_sites : 1);
    for (size_t k = 0; k < in.n_sites; k++)
        bump(&in, sites, k, in.sites[k].call);
    for (size_t i = 0; i < in.n_fns; i++)
        bump(&in, calls, i, first_non_alloca(in.fns[i]));
    LLVMValueRef writer = build_writer(&in, calls, sites, dprintf);
    rc = writer ? MEWE_OK : mewe__error(module->ctx, MEWE_ENOMEM, "out of memory");
    if (rc == MEWE_OK) {
        LLVMPositionBuilderBefore(in.b, first_non_alloca(main_fn));
        LLVMBuildCall2(in.b, LLVMGlobalGetValueType(atexit_fn), atexit_fn, &writer, 1, "");
        mewe__module_changed(module);
        rc = mewe__verify(module->ctx, module->llvm, "instrumented module");
    }
    LLVMDisposeBuilder(in.b);
    free(in.fns);
    free(in.by_address);
    free(in.sites);
    return rc;
}

/* ------------------------------------------------------------------ reading */

struct mewe_profile {
    char **names; /* sorted */
    unsigned long long *calls;
    size_t count;
    size_t names_cap, calls_cap; /* two arrays of one length, each with its own room */
};

void mewe_profile_free(mewe_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(p->names[i]);
    free(p->names);
    free(p->calls);
    free(p);
}

static long find(const mewe_profile *p, const char *name)
{
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->names[mid], name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int add(mewe_profile *p, const char *name, unsigned long long calls)
{
    if (!mewe__array_reserve(&p->names, &p->names_cap, p->count + 1, sizeof *p->names) ||
        !mewe__array_reserve(&p->calls, &p->calls_cap, p->count + 1, sizeof *p->calls))
        return MEWE_ENOMEM;
    p->names[p->count] = mewe__strdup(name);
    if (!p->names[p->count])
        return MEWE_ENOMEM;
    p->calls[p->count++] = calls;
    return MEWE_OK;
}

typedef struct entry {
    char *name;
    unsigned long long calls;
} entry;

static int by_entry_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Sorts by name and adds up the counts of a function named by several runs (profiles of
 * several runs concatenated). */
static int finish(mewe_profile *p)
{
    entry *e = malloc((p->count ? p->count : 1) * sizeof *e);
    if (!e)
        return MEWE_ENOMEM;
    for (size_t i = 0; i < p->count; i++)
        e[i] = (entry){p->names[i], p->calls[i]};
    qsort(e, p->count, sizeof *e, by_entry_name);
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++) {
        if (n && strcmp(e[n - 1].name, e[i].name) == 0) {
            e[n - 1].calls += e[i].calls;
            free(e[i].name);
        } else {
            e[n++] = e[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        p->names[i] = e[i].name;
        p->calls[i] = e[i].calls;
    }
    p->count = n;
    free(e);
    return MEWE_OK;
}

/* One "mewe-profile ..." line (prefix removed); *state: 0 outside a run, 1 inside. */
static int parse_line(mewe_profile *p, char *line, int *state, size_t *run_fns)
{
    unsigned long long n;
    int used = 0;
    if (*state == 0) {
        if (sscanf(line, "%llu%n", &n, &used) != 1 || line[used] != '\0')
            return 1;
        if (n != 1)
            return 2;
        *state = 1;
        *run_fns = 0;
        return 0;
    }
    if (strncmp(line, "fn ", 3) == 0) {
        if (sscanf(line + 3, "%llu %n", &n, &used) != 1 || line[3 + used] == '\0' ||
            strchr(line + 3 + used, ' '))
            return 1;
        (*run_fns)++;
        return add(p, line + 3 + used, n) == MEWE_OK ? 0 : 3;
    }
    if (strncmp(line, "site ", 5) == 0) {
        char caller[2], callee[2];
        unsigned index;
        /* Checked for shape only: the cost model plans per function. */
        if (sscanf(line + 5, "%llu %1s%*s %u %1s", &n, caller, &index, callee) != 4)
            return 1;
        return 0;
    }
    if (strncmp(line, "end ", 4) == 0) {
        if (sscanf(line + 4, "%llu%n", &n, &used) != 1 || line[4 + used] != '\0')
            return 1;
        if (n != *run_fns)
            return 4;
        *state = 0;
        return 0;
    }
    return 1;
}

int mewe_profile_load(mewe_profile **out, mewe_context *ctx, const char *path)
{
    if (out)
        *out = NULL;
    char *text;
    size_t size;
    int rc = mewe__file_read_input(ctx, out != NULL, path, "mewe_profile_load", &text, &size);
    if (rc != MEWE_OK)
        return rc;
    mewe_profile *p = calloc(1, sizeof *p);
    if (!p) {
        free(text);
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory reading '%s'", path);
    }
    int state = 0, runs = 0;
    size_t line_no = 0, run_fns = 0;
    size_t plen = strlen(PREFIX);
    for (char *line = text, *next; rc == MEWE_OK && line && line < text + size; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        if (strncmp(line, PREFIX, plen) != 0)
            continue;
        bool opening = state == 0;
        int bad = parse_line(p, line + plen, &state, &run_fns);
        runs += opening && state == 1;
        if (bad == 1)
            rc = mewe__error(ctx, MEWE_EPARSE, "'%s' line %zu: malformed profile line '%.60s'",
                             path, line_no, line);
        else if (bad == 2)
            rc = mewe__error(ctx, MEWE_EPARSE,
                             "'%s' line %zu: profile format version '%.20s' "
                             "unknown (this libmewe reads 1)",
                             path, line_no, line + plen);
        else if (bad == 3)
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory reading '%s'", path);
        else if (bad == 4)
            rc = mewe__error(ctx, MEWE_EPARSE,
                             "'%s' line %zu: the run announces %s functions "
                             "but %zu were read: the profile was cut short or edited",
                             path, line_no, line + plen + 4, run_fns);
    }
    free(text);
    if (rc == MEWE_OK && runs == 0)
        rc = mewe__error(ctx, MEWE_EPARSE,
                         "'%s' holds no profile (no '%s1' line): is it the "
                         "standard error of a run of an instrumented module?",
                         path, PREFIX);
    else if (rc == MEWE_OK && state != 0)
        rc = mewe__error(ctx, MEWE_EPARSE,
                         "'%s' was cut short: its last run has no '%send' "
                         "line (did the program end without exit or a return from main?)",
                         path, PREFIX);
    if (rc == MEWE_OK && finish(p) != MEWE_OK)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory reading '%s'", path);
    if (rc != MEWE_OK) {
        mewe_profile_free(p);
        return rc;
    }
    *out = p;
    return MEWE_OK;
}

size_t mewe_profile_function_count(const mewe_profile *profile)
{
    return profile ? profile->count : 0;
}

int mewe_profile_calls(unsigned long long *out_calls, const mewe_profile *profile, const char *name)
{
    if (!out_calls || !profile || !name)
        return MEWE_EINVAL;
    long i = find(profile, name);
    *out_calls = i >= 0 ? profile->calls[i] : 0;
    return i >= 0 ? MEWE_OK : MEWE_ENOTFOUND;
}

size_t mewe__profile_unmatched(const mewe_profile *p, LLVMModuleRef llvm)
{
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++) {
        LLVMValueRef f = LLVMGetNamedFunction(llvm, p->names[i]);
        n += !f || LLVMIsDeclaration(f);
    }
    return n;
}
