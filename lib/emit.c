/* mewe_emit_wasm: LLVM's wasm32 backend to an object, then wasm-ld with wasi-libc. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Comdat.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "util/array.h"
#include "util/fileio.h"
#include "util/hash.h"
#include "internal.h"
#include "ir/eligibility.h"
#include "ir/cost.h"
#include "ir/family.h"
#include "ir/ptrmap.h"
#include "ir/skeleton.h"
#include "util/process.h"
#include "wasm/codegen.h"
#include "wasm/derive.h"
#include "wasm/inspect.h"
#include "wasm/limits.h"
#include "wasm/names.h"
#include "wasm/objects.h"

static pthread_once_t targets_once = PTHREAD_ONCE_INIT;

/* LLVM's target registry is process-global; registering twice is harmless but racy. */
static void init_targets(void)
{
    LLVMInitializeWebAssemblyTargetInfo();
    LLVMInitializeWebAssemblyTarget();
    LLVMInitializeWebAssemblyTargetMC();
    LLVMInitializeWebAssemblyAsmPrinter();
    /* Inline assembly, in a body or the module's, is parsed when the object is written. */
    LLVMInitializeWebAssemblyAsmParser();
}

/* Sizes of each version of mewe_emit_options: a caller built against an older header passes
 * a shorter struct, whose missing fields take their defaults. */
static const size_t options_size[] = {
    0, offsetof(mewe_emit_options, threads), /* version 1 */
    sizeof(mewe_emit_options),               /* version 2: threads */
};
_Static_assert(sizeof options_size / sizeof *options_size == MEWE_EMIT_OPTIONS_VERSION + 1,
               "one size per version of mewe_emit_options");

int mewe_emit_options_init(mewe_emit_options *opts, unsigned int version)
{
    mewe_emit_options defaults = MEWE_EMIT_OPTIONS_INIT;
    return mewe__options_init(opts, &defaults, version, options_size, MEWE_EMIT_OPTIONS_VERSION);
}

/* Reads options of any known version into *o, the fields that version lacks at their
 * defaults; the caller's struct is never read past its version's size. */
static int read_options(mewe_context *ctx, const mewe_emit_options *opts, mewe_emit_options *o)
{
    *o = (mewe_emit_options)MEWE_EMIT_OPTIONS_INIT;
    return mewe__options_read(ctx, o, opts, options_size, MEWE_EMIT_OPTIONS_VERSION, "emit");
}

static int check_options(mewe_context *ctx, const mewe_emit_options *o);

/* Reads and checks options for another entry point (objects.c). */
int mewe__emit_options_get(mewe_context *ctx, const mewe_emit_options *opts, mewe_emit_options *o)
{
    int rc = read_options(ctx, opts, o);
    if (rc == MEWE_OK)
        rc = check_options(ctx, o);
    if (rc == MEWE_OK)
        pthread_once(&targets_once, init_targets);
    return rc;
}

static int check_options(mewe_context *ctx, const mewe_emit_options *o)
{
    if ((int)o->kind < MEWE_EMIT_COMMAND || o->kind > MEWE_EMIT_OBJECT)
        return mewe__error(ctx, MEWE_EINVAL, "emit option kind: %d is not a mewe_emit_kind",
                           (int)o->kind);
    if (o->threads > MEWE_EMIT_MAX_THREADS)
        return mewe__error(ctx, MEWE_EINVAL, "emit option threads: %u out of range (0..%u)",
                           o->threads, MEWE_EMIT_MAX_THREADS);
    if (o->opt_level < 0 || o->opt_level > MEWE__OPT_LEVEL_MAX)
        return mewe__error(ctx, MEWE_EINVAL, "emit option opt_level: %d out of range (0..%d)",
                           o->opt_level, MEWE__OPT_LEVEL_MAX);
    int rc = mewe__check_strings(ctx, o->exports, o->export_count, "emit option exports");
    if (rc == MEWE_OK)
        rc = mewe__check_strings(ctx, o->link_args, o->link_arg_count, "emit option link_args");
    return rc;
}

/* Whether a module of this triple and data layout may be compiled for wasm32; see emit.h for
 * why other targets are refused rather than retargeted. */
static int target_ok(const mewe_module *m, const char *triple, const char *layout)
{
    /* wasm32's layouts all start so (LLVM 14 to 19); a wasm64 or native one does not. */
    bool wasm_layout = layout[0] == '\0' || strncmp(layout, "e-m:e-p:32:32", 13) == 0;
    if ((strncmp(triple, "wasm32", 6) == 0 || triple[0] == '\0') && wasm_layout)
        return MEWE_OK;
    if (strncmp(triple, "wasm32", 6) == 0 || triple[0] == '\0')
        return mewe__error(m->ctx, MEWE_ETARGET,
                           "'%s' has the target triple '%s' but the data layout '%s', which "
                           "is not wasm32's: recompile it for wasm32-wasi (e.g. clang "
                           "--target=wasm32-wasi -emit-llvm)",
                           m->name, triple[0] ? triple : "(none)", layout);
    return mewe__error(m->ctx, MEWE_ETARGET,
                       "'%s' targets '%s', not wasm32: recompile it for wasm32-wasi (e.g. "
                       "clang --target=wasm32-wasi -emit-llvm); retargeting would change its "
                       "ABI",
                       m->name, triple);
}

int mewe_module_check_target(const mewe_module *module)
{
    if (!module)
        return MEWE_EINVAL;
    return target_ok(module, LLVMGetTarget(module->llvm), LLVMGetDataLayoutStr(module->llvm));
}

/* *retarget: the module has no triple, and is emitted as wasm32. */
static int check_target(const mewe_module *m, bool *retarget)
{
    const char *triple = LLVMGetTarget(m->llvm);
    int rc = target_ok(m, triple, LLVMGetDataLayoutStr(m->llvm));
    *retarget = rc == MEWE_OK && triple[0] == '\0';
    if (*retarget)
        mewe__log(m->ctx, MEWE_LOG_WARN, "'%s' has no target triple; emitting it as %s", m->name,
                  MEWE__WASM_TRIPLE);
    return rc;
}

static int check_exports(const mewe_module *m, const mewe_emit_options *o)
{
    for (size_t i = 0; i < o->export_count; i++) {
        LLVMValueRef fn = LLVMGetNamedFunction(m->llvm, o->exports[i]);
        if (!fn || LLVMIsDeclaration(fn))
            return mewe__error(m->ctx, MEWE_ENOTFOUND,
                               "export '%s': no such function defined "
                               "in '%s'",
                               o->exports[i], m->name);
    }
    return MEWE_OK;
}

/* Builds the wasm-ld command line the way clang's WebAssembly driver does; a relocatable
 * link (-r) only joins the objects of a split module into one. */
static const char **link_argv(mewe_context *ctx, const mewe_emit_options *o,
                              char *const *export_flags, char *const *objs, size_t n_objs,
                              const char *out, char **owned, size_t *n_owned)
{
    size_t max = 16 + n_objs + o->export_count + o->link_arg_count;
    const char **argv = calloc(max, sizeof *argv);
    if (!argv)
        return NULL;
    size_t n = 0;
    *n_owned = 0;
    argv[n++] = ctx->tools[MEWE_TOOL_WASM_LD];
    argv[n++] = "-m";
    argv[n++] = "wasm32";
    if (o->kind == MEWE_EMIT_OBJECT) {
        argv[n++] = "-r";
        for (size_t i = 0; i < n_objs; i++)
            argv[n++] = objs[i];
        argv[n++] = "-o";
        argv[n++] = out;
        argv[n] = NULL;
        return argv;
    }
    const char *sysroot = ctx->tools[MEWE_TOOL_WASI_SYSROOT];
    const char *builtins = ctx->tools[MEWE_TOOL_BUILTINS];
    bool reactor = o->kind == MEWE_EMIT_REACTOR;
    owned[(*n_owned)++] = mewe__printf("-L%s/lib/wasm32-wasi", sysroot);
    owned[(*n_owned)++] = mewe__printf("%s/lib/wasm32-wasi/%s", sysroot,
                                       reactor ? "crt1-reactor.o" : "crt1-command.o");
    for (size_t i = 0; i < *n_owned; i++) {
        if (!owned[i])
            return free(argv), NULL;
    }
    argv[n++] = owned[0];
    argv[n++] = owned[1];
    if (reactor) {
        argv[n++] = "--entry";
        argv[n++] = "_initialize";
    }
    for (size_t i = 0; i < n_objs; i++)
        argv[n++] = objs[i];
    for (size_t i = 0; i < o->export_count; i++)
        argv[n++] = export_flags[i];
    for (size_t i = 0; i < o->link_arg_count; i++)
        argv[n++] = o->link_args[i];
    argv[n++] = "-lc";
    if (builtins && builtins[0])
        argv[n++] = builtins;
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n] = NULL;
    return argv;
}

/* Replaces the temporary objects' paths (DIR/part-N.o) with the module's name in wasm-ld's
 * complaints. */
static char *describe_link_failure(const char *output, const char *dir, const char *name)
{
    size_t dlen = dir ? strlen(dir) : 0;
    size_t cap = strlen(output) * 2 + strlen(name) * 8 + 1;
    char *msg = malloc(cap);
    if (!msg)
        return NULL;
    size_t len = 0;
    int lines = 0;
    for (const char *p = output; *p && lines < 6 && len + strlen(name) + 2 < cap;) {
        if (dlen && strncmp(p, dir, dlen) == 0 && p[dlen] == '/') {
            len += (size_t)snprintf(msg + len, cap - len, "%s", name);
            p += dlen;
            while (*p && *p != ':' && *p != ' ' && *p != '\n' && *p != ')')
                p++;
            continue;
        }
        if (*p == '\n') {
            lines++;
            if (p[1] == '\0')
                break;
            msg[len++] = ';';
            msg[len++] = ' ';
            p++;
            continue;
        }
        msg[len++] = *p++;
    }
    msg[len] = '\0';
    return msg;
}

/* What an undefined symbol that has a known cause means, or "". */
static const char *link_hint(const char *output)
{
    if (strstr(output, "undefined symbol: setjmp") || strstr(output, "undefined symbol: longjmp") ||
        strstr(output, "undefined symbol: sigsetjmp") ||
        strstr(output, "undefined symbol: siglongjmp"))
        return " (setjmp and longjmp are not supported: WebAssembly has no such jump, and "
               "libmewe's code generation does not lower them as clang's "
               "-mllvm -wasm-enable-sjlj does; build the program without them)";
    return "";
}

int mewe__wasm_ld(mewe_context *ctx, const char *name, const mewe_emit_options *o, const char *dir,
                  char *const *objs, size_t n_objs, const char *out)
{
    char *owned[4] = {NULL};
    size_t n_owned = 0;
    char **exports = calloc(o->export_count + 1, sizeof *exports);
    int rc = exports ? MEWE_OK : MEWE_ENOMEM;
    for (size_t i = 0; rc == MEWE_OK && i < o->export_count; i++) {
        exports[i] = mewe__printf("--export=%s", o->exports[i]);
        rc = exports[i] ? MEWE_OK : MEWE_ENOMEM;
    }
    const char **argv = NULL;
    if (rc == MEWE_OK) {
        argv = link_argv(ctx, o, exports, objs, n_objs, out, owned, &n_owned);
        rc = argv ? MEWE_OK : MEWE_ENOMEM;
    }
    if (rc == MEWE_ENOMEM)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", name);
    int status = 0;
    char *output = NULL;
    if (rc == MEWE_OK)
        rc = mewe__spawn(ctx, argv, &status, &output);
    if (rc == MEWE_ETOOL) {
        rc = mewe__error(ctx, MEWE_ETOOL,
                         "wasm-ld '%s' cannot run (%s); set its path with "
                         "mewe_context_set_tool_path(MEWE_TOOL_WASM_LD) or the build option "
                         "wasm_ld",
                         ctx->tools[MEWE_TOOL_WASM_LD], mewe_context_errmsg(ctx));
    } else if (rc == MEWE_OK && status != 0) {
        char *why = describe_link_failure(output ? output : "", dir, name);
        rc = mewe__error(ctx, MEWE_ELINK, "wasm-ld failed (status %d) linking '%s': %s%s", status,
                         name, why ? why : "", link_hint(output ? output : ""));
        free(why);
    }
    free(output);
    for (size_t i = 0; exports && i < o->export_count; i++)
        free(exports[i]);
    free(exports);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    free(argv);
    return rc;
}

/* Links the objects (for the linked kinds), or joins those of a split module into one
 * relocatable object; each object's memory is freed once it is written out. */
static int link_objects(const mewe_module *m, const mewe_emit_options *o, mewe__objects *objs,
                        void **out, size_t *out_size)
{
    mewe_context *ctx = m->ctx;
    char *dir = NULL;
    int rc = mewe__tempdir_make(ctx, &dir);
    if (rc != MEWE_OK)
        return rc;
    char **paths = calloc(objs->count + 1, sizeof *paths);
    char *wasm_path = mewe__printf("%s/linked.wasm", dir);
    if (!paths || !wasm_path)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", m->name);
    for (size_t i = 0; rc == MEWE_OK && i < objs->count; i++) {
        paths[i] = mewe__printf("%s/part-%zu.o", dir, i);
        if (!paths[i])
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", m->name);
        if (rc == MEWE_OK)
            rc = mewe__file_write_atomic(ctx, paths[i], objs->data[i], objs->size[i]);
        free(objs->data[i]);
        objs->data[i] = NULL;
    }
    if (rc == MEWE_OK)
        rc = mewe__wasm_ld(ctx, m->name, o, dir, paths, objs->count, wasm_path);
    if (rc == MEWE_OK)
        rc = mewe__file_read(ctx, wasm_path, (char **)out, out_size);
    for (size_t i = 0; paths && i < objs->count; i++)
        free(paths[i]);
    free(paths);
    free(wasm_path);
    mewe__tempdir_remove(dir);
    free(dir);
    return rc;
}

int mewe__emit_object(const mewe_module *m, int level, unsigned threads,
                      bool (*keep)(const char *name, void *data), void *keep_data,
                      mewe__objects *out)
{
    pthread_once(&targets_once, init_targets);
    bool retarget;
    int rc = check_target(m, &retarget);
    if (rc != MEWE_OK)
        return rc;
    /* The code generation reads the module through bitcode: it is never changed. */
    mewe__codegen_in in = {.llvm = m->llvm,
                           .name = m->name,
                           .level = level,
                           .threads = threads,
                           .retarget = retarget,
                           .keep = keep,
                           .keep_data = keep_data};
    return mewe__codegen(m->ctx, &in, out);
}

/* What decides which functions the link keeps: the output's kind, exports, link arguments
 * and tools, as 16 hex digits. A function the link drops is marked with it, and emission
 * leaves out the code of marked functions only when its own options give the same key. */
static void linking_key(const mewe_context *ctx, const mewe_emit_options *o,
                        char out[MEWE__LINKING_KEY_SIZE])
{
    int kind = (int)o->kind;
    uint64_t h = mewe__fnv1a(&kind, sizeof kind);
    /* The tools: another libc may call other functions of the program (its malloc). */
    static const mewe_tool tools[] = {MEWE_TOOL_WASM_LD, MEWE_TOOL_WASI_SYSROOT,
                                      MEWE_TOOL_BUILTINS};
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++) {
        const char *t = ctx->tools[tools[i]] ? ctx->tools[tools[i]] : "";
        h = mewe__fnv1a_more(h, t, strlen(t) + 1);
    }
    for (size_t i = 0; i < o->export_count; i++)
        h = mewe__fnv1a_more(h, o->exports[i], strlen(o->exports[i]) + 1);
    h = mewe__fnv1a_more(h, "\001", 1); /* between the lists */
    for (size_t i = 0; i < o->link_arg_count; i++)
        h = mewe__fnv1a_more(h, o->link_args[i], strlen(o->link_args[i]) + 1);
    snprintf(out, MEWE__LINKING_KEY_SIZE, "%016llx", (unsigned long long)h);
}

/* Preservation, enforced in the output: a variant that compiled to the same code as
 * another of its family (in the partition that holds both) is left out, and its
 * dispatcher calls the other. The check of mewe_generate_variants compiles the functions
 * whose variants are inlined into their dispatchers; the others, called, are compared here,
 * where they are compiled anyway. Every variant is equivalent to its original, so the
 * dispatcher stays correct whatever the comparison says. */
static int output_review(void *data, const mewe__objects *objs, mewe__twins *out)
{
    const mewe_module *m = data;
    int rc = MEWE_OK;
    for (size_t k = 0; rc == MEWE_OK && k < objs->count; k++) {
        mewe__wasm_info info;
        if (mewe__wasm_parse(&info, objs->data[k], objs->size[k]) != MEWE_OK)
            continue; /* nothing to compare: the object stays as it is */
        mewe__wasm_twin *t = NULL;
        size_t n = 0;
        rc = mewe__wasm_twins(&info, &t, &n);
        for (size_t i = 0; rc == MEWE_OK && i < n; i++) {
            /* A stub is filled after the review: its code is not what the output holds. */
            if (mewe__derived_source(LLVMGetNamedFunction(m->llvm, t[i].dup)) ||
                mewe__derived_source(LLVMGetNamedFunction(m->llvm, t[i].twin)))
                continue;
            mewe__twin_pair pair = {mewe__strdup(t[i].dup), mewe__strdup(t[i].twin), (unsigned)k};
            if (!pair.dup || !pair.twin ||
                !MEWE__ARRAY_PUSH(out->pairs, out->count, out->cap, pair)) {
                free(pair.dup);
                free(pair.twin);
                rc = MEWE_ENOMEM;
            }
        }
        free(t);
        mewe__wasm_info_free(&info);
    }
    return rc == MEWE_OK ? rc : mewe__error(m->ctx, rc, "out of memory emitting '%s'", m->name);
}

/* The variants made in wasm that the module holds: stubs until emission fills them. */
static size_t count_stubs(LLVMModuleRef llvm)
{
    size_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f))
        n += mewe__derived_source(f) != NULL;
    return n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The dispatchers the link planned to hold their variants inline, sorted: those with
 * variants made in wasm call them (LLVM compiled them so), and their calls are spliced once
 * the stubs are filled (wasm/splice.h); the others have no call of a variant to splice. */
static int splice_targets(const mewe_module *m, const char ***out, size_t *count)
{
    size_t n = 0, cap = 0;
    const char **names = NULL;
    for (LLVMValueRef f = LLVMGetFirstFunction(m->llvm); f; f = LLVMGetNextFunction(f)) {
        mewe__plan plan;
        if (!mewe__dispatcher_plan(f, &plan) || !plan.inlined)
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        if (!MEWE__ARRAY_PUSH(names, n, cap, name)) {
            free(names);
            return mewe__error(m->ctx, MEWE_ENOMEM, "out of memory emitting '%s'", m->name);
        }
    }
    if (n)
        qsort(names, n, sizeof *names, by_name);
    *out = names;
    *count = n;
    return MEWE_OK;
}

/* Fills the variants made in wasm of each object (wasm/derive.h), and splices them into the
 * dispatchers that hold their variants inline. A stub left unfilled still calls the code it
 * was to copy: the program is the same, one call slower there, and the report counts it as
 * that code; a warning says how many and why. */
static int fill_derived(const mewe_module *m, size_t stubs, mewe__objects *objs)
{
    size_t derived = 0, alike = 0, spliced = 0;
    const char *why = NULL;
    mewe__derive_in in = {m->ctx->seed, NULL, 0};
    int rc = splice_targets(m, (const char ***)&in.splice_into, &in.splice_count);
    if (rc != MEWE_OK)
        return rc;
    for (size_t k = 0; rc == MEWE_OK && k < objs->count; k++) {
        unsigned char *filled;
        size_t size;
        mewe__derive_stats st;
        rc = mewe__wasm_derive(objs->data[k], objs->size[k], &in, &filled, &size, &st);
        if (rc == MEWE_ENOMEM) {
            mewe__derive_stats_free(&st);
            break;
        }
        if (!why && (rc != MEWE_OK || st.skipped))
            why = rc != MEWE_OK ? "an object does not parse" : st.skipped;
        if (filled) {
            free(objs->data[k]);
            objs->data[k] = filled;
            objs->size[k] = size;
        }
        derived += st.derived;
        alike += st.alike;
        spliced += st.spliced;
        rc = mewe__module_spliced_add(m, st.families, st.family_count);
        st.family_count = 0; /* the module has them */
        st.families = NULL;
        mewe__derive_stats_free(&st);
    }
    free((void *)in.splice_into);
    if (rc != MEWE_OK)
        return mewe__error(m->ctx, MEWE_ENOMEM, "out of memory emitting '%s'", m->name);
    if (derived < stubs)
        mewe__log(m->ctx, MEWE_LOG_WARN,
                  "'%s': %zu of its %zu variants made in wasm still call the code they copy "
                  "(%s)",
                  m->name, stubs - derived, stubs,
                  why     ? why
                  : alike ? "no rewrite made them unlike the others"
                          : "their code is no plain call");
    mewe__log(m->ctx, MEWE_LOG_DEBUG, "'%s': %zu variants made in wasm, %zu calls spliced", m->name,
              derived, spliced);
    return MEWE_OK;
}

typedef struct emit_job {
    const mewe_module *m;
    const mewe_emit_options *o;
    bool retarget;
    const char *const *stages; /* progress: compiling, then linking */
    char **unlinked;           /* functions not to compile (mewe__unlinked_needless) */
    size_t unlinked_count;
    size_t stubs; /* variants made in wasm, also in a multivariant module loaded again */
} emit_job;

static const char *const output_stages[] = {"compiling to wasm", "linking wasm"};

/* Code generation at `level`, then linking (for the linked kinds, and for an object made
 * of several partitions). */
static int emit_at(void *user, int level, void **out, size_t *out_size)
{
    emit_job *job = user;
    const mewe_module *m = job->m;
    const mewe_emit_options *o = job->o;
    /* Exports are marked for every kind: an exported static function must become visible
     * to wasm-ld. */
    mewe__codegen_in in = {
        .llvm = m->llvm,
        .name = m->name,
        .level = level,
        .threads = o->threads,
        .retarget = job->retarget,
        .exports = o->exports,
        .export_count = o->export_count,
        /* Families are compiled in one partition each for the review, which stubs need too:
         * a stub and its source are then in one object. */
        .review = m->multivariant || job->stubs ? output_review : NULL,
        .review_data = (void *)m,
        .unlinked = job->unlinked,
        .unlinked_count = job->unlinked_count,
    };
    mewe__objects objs;
    mewe__progress(m->ctx, job->stages[0], 0, 1);
    mewe__module_spliced_clear(m); /* this emission's, if any, for the report */
    int rc = mewe__codegen(m->ctx, &in, &objs);
    if (rc != MEWE_OK)
        return rc;
    if (job->stubs)
        rc = fill_derived(m, job->stubs, &objs);
    if (rc != MEWE_OK) {
        mewe__objects_free(&objs);
        return rc;
    }
    mewe__progress(m->ctx, job->stages[0], 1, 1);
    mewe__module_bitcode_seen(m, objs.bitcode_size); /* for the report */
    if (o->kind == MEWE_EMIT_OBJECT && objs.count == 1) {
        *out = objs.data[0];
        *out_size = objs.size[0];
        objs.data[0] = NULL;
    } else {
        mewe__progress(m->ctx, job->stages[1], 0, 1);
        rc = link_objects(m, o, &objs, out, out_size);
        if (rc == MEWE_OK)
            mewe__progress(m->ctx, job->stages[1], 1, 1);
    }
    mewe__objects_free(&objs);
    return rc;
}

static bool exported(const char *name, void *data)
{
    const mewe_emit_options *o = data;
    for (size_t i = 0; i < o->export_count; i++) {
        if (strcmp(o->exports[i], name) == 0)
            return true;
    }
    return false;
}

/* Emits m with options o, already read and checked, reporting progress as `stages`; with
 * `leave_out`, without the code of the functions its link drops (a command or a reactor
 * whose functions mewe_module_exclude_unlinked marked for the same options). */
static int emit_checked(void **out, size_t *out_size, const mewe_module *m,
                        const mewe_emit_options *o, const char *const *stages, bool leave_out)
{
    pthread_once(&targets_once, init_targets);
    emit_job job = {m, o, false, stages, NULL, 0, count_stubs(m->llvm)};
    int rc = check_target(m, &job.retarget);
    if (rc == MEWE_OK)
        rc = check_exports(m, o);
    if (rc == MEWE_OK && leave_out && o->kind != MEWE_EMIT_OBJECT) {
        char key[MEWE__LINKING_KEY_SIZE];
        linking_key(m->ctx, o, key);
        if (mewe__unlinked_needless(m->llvm, key, exported, (void *)o, &job.unlinked,
                                    &job.unlinked_count) != MEWE_OK)
            rc = mewe__error(m->ctx, MEWE_ENOMEM, "out of memory emitting '%s'", m->name);
    }
    if (rc != MEWE_OK)
        return rc;
    if (job.unlinked_count)
        mewe__log(m->ctx, MEWE_LOG_DEBUG, "'%s': %zu function%s the link drops not compiled",
                  m->name, job.unlinked_count, job.unlinked_count == 1 ? "" : "s");
    /* What was done to stay within the engines' limits is logged as a warning. */
    char limits[640] = "";
    rc = mewe__wasm_limits_emit(m->ctx, m->name, m->llvm, o->opt_level, emit_at, &job, out,
                                out_size, limits, sizeof limits);
    for (size_t i = 0; i < job.unlinked_count; i++)
        free(job.unlinked[i]);
    free(job.unlinked);
    /* An object says what made it, for a per-file build's link (objects.h). */
    if (rc == MEWE_OK && o->kind == MEWE_EMIT_OBJECT)
        rc = mewe__object_note_add(m, out, out_size);
    return rc;
}

static int emit(void **out, size_t *out_size, const mewe_module *m, const mewe_emit_options *opts)
{
    mewe_emit_options o;
    int rc = read_options(m->ctx, opts, &o);
    if (rc == MEWE_OK)
        rc = check_options(m->ctx, &o);
    return rc == MEWE_OK ? emit_checked(out, out_size, m, &o, output_stages, true) : rc;
}

int mewe_emit_wasm(const mewe_module *module, const mewe_emit_options *opts, const char *path)
{
    if (!module)
        return MEWE_EINVAL;
    if (!path)
        return mewe__error(module->ctx, MEWE_EINVAL, "mewe_emit_wasm: path is NULL");
    void *data = NULL;
    size_t size = 0;
    int rc = emit(&data, &size, module, opts);
    if (rc == MEWE_OK)
        rc = mewe__file_write_atomic(module->ctx, path, data, size);
    free(data);
    return rc;
}

int mewe_emit_wasm_memory(void **out_data, size_t *out_size, const mewe_module *module,
                          const mewe_emit_options *opts)
{
    if (!module)
        return MEWE_EINVAL;
    if (!out_data || !out_size)
        return mewe__error(module->ctx, MEWE_EINVAL, "mewe_emit_wasm_memory: NULL output");
    *out_data = NULL;
    *out_size = 0;
    return emit(out_data, out_size, module, opts);
}

/* Whether the skeleton's linked wasm has a function of g's name. */
static bool named_in(const mewe__wasm_name_set *names, LLVMValueRef g)
{
    size_t len;
    return mewe__wasm_name_set_has(names, LLVMGetValueName2(g, &len));
}

/* Marks the module's functions that `names` (the skeleton's link) lacks; returns how many, or
 * SIZE_MAX when out of memory. Stay unmarked: C's main, which the link always keeps and
 * which has other names in the wasm (the backend's and wasi-libc's wrappers:
 * "__original_main", "__main_void"); a function whose name a wasm cannot carry (names.h);
 * one that wasm-ld may name after an alias of it (C++ constructors); an available_externally
 * one, never in the wasm. */
static size_t mark_unlinked(LLVMModuleRef llvm, const mewe__wasm_name_set *names, const char *key)
{
    static const char attr[] = MEWE__ATTR_UNLINKED;
    LLVMContextRef c = LLVMGetModuleContext(llvm);
    mewe__ptrmap aliased;
    if (mewe__ptrmap_init(&aliased, 16) != MEWE_OK)
        return SIZE_MAX;
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(llvm); a; a = LLVMGetNextGlobalAlias(a)) {
        LLVMValueRef target = LLVMAliasGetAliasee(a);
        if (LLVMIsAFunction(target) && named_in(names, a) &&
            mewe__ptrmap_put(&aliased, target, target) != MEWE_OK) {
            mewe__ptrmap_fini(&aliased);
            return SIZE_MAX;
        }
    }
    size_t marked = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(llvm); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f) || LLVMGetIntrinsicID(f) != 0 ||
            LLVMGetLinkage(f) == LLVMAvailableExternallyLinkage || mewe__ptrmap_get(&aliased, f))
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        if (strlen(name) != len || !mewe__wasm_name_valid(name, len) || strcmp(name, "main") == 0 ||
            strcmp(name, "__main_argc_argv") == 0 || named_in(names, f))
            continue;
        if (!LLVMGetStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, attr, sizeof attr - 1)) {
            LLVMAddAttributeAtIndex(
                f, LLVMAttributeFunctionIndex,
                LLVMCreateStringAttribute(c, attr, sizeof attr - 1, key, (unsigned)strlen(key)));
            marked++;
        }
    }
    mewe__ptrmap_fini(&aliased);
    return marked;
}

/* The user's link arguments for the skeleton's link, which must keep the name section (no
 * stripping) and the names as the module has them (wasm-ld would demangle C++'s and
 * Rust's); NULL when out of memory. */
static const char **skeleton_link_args(const mewe_emit_options *o, size_t *count)
{
    const char **args = malloc((o->link_arg_count + 1) * sizeof *args);
    if (!args)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < o->link_arg_count; i++) {
        const char *a = o->link_args[i];
        if (strcmp(a, "-s") != 0 && strcmp(a, "--strip-all") != 0 && strcmp(a, "-strip-all") != 0)
            args[n++] = a;
    }
    args[n++] = "--no-demangle";
    *count = n;
    return args;
}

/* Whether the link arguments leave the link's roots as the options say (no other entry, no
 * exports, no objects or libraries): only sizes, stripping and optimisation. */
static bool link_args_plain(const mewe_emit_options *o)
{
    static const char *const flags[] = {"-s", "--strip-all", "-strip-all", "--strip-debug",
                                        "--stack-first"};
    static const char *const prefixes[] = {"--initial-memory=", "--max-memory=", "-O", "--lto-O"};
    for (size_t i = 0; i < o->link_arg_count; i++) {
        const char *a = o->link_args[i];
        bool plain = false;
        if (strcmp(a, "-z") == 0 && i + 1 < o->link_arg_count &&
            strncmp(o->link_args[i + 1], "stack-size=", 11) == 0) {
            i++;
            continue;
        }
        for (size_t k = 0; !plain && k < sizeof flags / sizeof *flags; k++)
            plain = strcmp(a, flags[k]) == 0;
        for (size_t k = 0; !plain && k < sizeof prefixes / sizeof *prefixes; k++)
            plain = strncmp(a, prefixes[k], strlen(prefixes[k])) == 0;
        if (!plain)
            return false;
    }
    return true;
}

int mewe_module_exclude_unlinked(mewe_module *module, const mewe_emit_options *opts,
                                 size_t *out_excluded)
{
    if (!module)
        return MEWE_EINVAL;
    if (out_excluded)
        *out_excluded = 0;
    mewe_context *ctx = module->ctx;
    mewe_emit_options o;
    int rc = read_options(ctx, opts, &o);
    if (rc == MEWE_OK)
        rc = check_options(ctx, &o);
    if (rc != MEWE_OK || o.kind == MEWE_EMIT_OBJECT) /* an object keeps every function */
        return rc;
    /* A program whose every function its entry points reach needs no skeleton's link to
     * tell: the link drops none (most small programs; a library's unused API is not). */
    bool all = false;
    if (link_args_plain(&o) &&
        mewe__all_reached(module->llvm, o.kind == MEWE_EMIT_COMMAND, exported, &o, &all) != MEWE_OK)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (all) {
        mewe__log(ctx, MEWE_LOG_DEBUG,
                  "'%s': its entry points and exports reach every function: the link drops none",
                  module->name);
        return MEWE_OK;
    }
    bool has_asm;
    LLVMModuleRef skeleton = mewe__module_skeleton(module->llvm, &has_asm);
    /* Inline assembly may call what no skeleton sees: then the mark is never a key, and
     * emission compiles every function. */
    char key[MEWE__LINKING_KEY_SIZE] = "";
    if (!has_asm)
        linking_key(ctx, &o, key);
    if (!skeleton)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory reading '%s' for its link",
                           module->name);
    /* A skeleton LLVM refuses (a bug of ours, or IR it was not made for) costs only the
     * time it would have saved: nothing is left out. */
    char *msg = NULL;
    if (LLVMVerifyModule(skeleton, LLVMReturnStatusAction, &msg)) {
        mewe__log(ctx, MEWE_LOG_WARN,
                  "'%s': cannot tell which functions its link drops (%.200s): none is left out",
                  module->name, msg ? msg : "the skeleton does not verify");
        LLVMDisposeMessage(msg);
        LLVMDisposeModule(skeleton);
        return MEWE_OK;
    }
    LLVMDisposeMessage(msg);
    mewe_module *tmp;
    rc = mewe__module_wrap(&tmp, ctx, skeleton, module->name);
    if (rc != MEWE_OK)
        return rc;
    size_t nargs = 0;
    const char **args = skeleton_link_args(&o, &nargs);
    void *wasm = NULL;
    size_t size = 0;
    if (!args) {
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    } else {
        o.link_args = args;
        o.link_arg_count = nargs;
        static const char *const stages[] = {"finding what the link keeps: compiling",
                                             "finding what the link keeps: linking"};
        rc = emit_checked(&wasm, &size, tmp, &o, stages, false);
    }
    free(args);
    mewe_module_free(tmp);
    mewe__wasm_info info;
    int prc = rc == MEWE_OK ? mewe__wasm_parse(&info, wasm, size) : rc;
    if (rc == MEWE_OK && prc != MEWE_OK)
        rc = prc == MEWE_ENOMEM
                 ? mewe__error(ctx, MEWE_ENOMEM, "out of memory")
                 : mewe__error(ctx, MEWE_ETARGET, "'%s': the link of its skeleton does not parse",
                               module->name);
    if (rc != MEWE_OK) {
        free(wasm);
        return rc;
    }
    mewe__wasm_name_set names;
    bool made = mewe__wasm_name_set_make(&names, &info) == MEWE_OK;
    size_t marked = 0;
    if (made && names.count == 0) {
        /* No name section after all: nothing can be told apart. */
        mewe__log(ctx, MEWE_LOG_WARN,
                  "'%s': cannot tell which functions its link drops (the linked wasm names no "
                  "function): none is left out",
                  module->name);
    } else if (made) {
        marked = mark_unlinked(module->llvm, &names, key);
    }
    if (!made || marked == SIZE_MAX) {
        marked = 0;
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    }
    mewe__wasm_name_set_free(&names);
    mewe__wasm_info_free(&info);
    free(wasm);
    if (marked) {
        mewe__module_changed(module);
        mewe__log(ctx, MEWE_LOG_INFO, "'%s': %zu functions the link drops are left out",
                  module->name, marked);
    }
    if (out_excluded)
        *out_excluded = marked;
    return rc;
}
