/* mewe_emit_wasm: LLVM's wasm32 backend to an object, then wasm-ld with wasi-libc. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Comdat.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "util/fileio.h"
#include "internal.h"
#include "util/process.h"
#include "wasm/limits.h"
#include "wasm/names.h"

#define WASM_TRIPLE "wasm32-unknown-wasi"

static pthread_once_t targets_once = PTHREAD_ONCE_INIT;

/* LLVM's target registry is process-global; registering twice is harmless but racy. */
static void init_targets(void)
{
    LLVMInitializeWebAssemblyTargetInfo();
    LLVMInitializeWebAssemblyTarget();
    LLVMInitializeWebAssemblyTargetMC();
    LLVMInitializeWebAssemblyAsmPrinter();
}

/* Sizes of each version of mewe_emit_options: a caller built against an older header passes
 * a shorter struct, whose missing fields take their defaults. */
static const size_t options_size[] = {
    0, sizeof(mewe_emit_options), /* version 1 */
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

static int check_options(mewe_context *ctx, const mewe_emit_options *o)
{
    if ((int)o->kind < MEWE_EMIT_COMMAND || o->kind > MEWE_EMIT_OBJECT)
        return mewe__error(ctx, MEWE_EINVAL, "emit option kind: %d is not a mewe_emit_kind",
                           (int)o->kind);
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

static int check_target(const mewe_module *m, LLVMModuleRef copy)
{
    const char *triple = LLVMGetTarget(copy);
    int rc = target_ok(m, triple, LLVMGetDataLayoutStr(copy));
    if (rc == MEWE_OK && triple[0] == '\0') {
        LLVMSetTarget(copy, WASM_TRIPLE);
        mewe__log(m->ctx, MEWE_LOG_WARN, "'%s' has no target triple; emitting it as %s", m->name,
                  WASM_TRIPLE);
    }
    return rc;
}

static int mark_exports(const mewe_module *m, LLVMModuleRef copy, const mewe_emit_options *o)
{
    for (size_t i = 0; i < o->export_count; i++) {
        LLVMValueRef fn = LLVMGetNamedFunction(copy, o->exports[i]);
        if (!fn || LLVMIsDeclaration(fn))
            return mewe__error(m->ctx, MEWE_ENOTFOUND,
                               "export '%s': no such function defined "
                               "in '%s'",
                               o->exports[i], m->name);
        LLVMSetLinkage(fn, LLVMExternalLinkage);
        LLVMSetVisibility(fn, LLVMDefaultVisibility);
        LLVMAttributeRef a =
            LLVMCreateStringAttribute(LLVMGetModuleContext(copy), "wasm-export-name", 16,
                                      o->exports[i], (unsigned)strlen(o->exports[i]));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
    }
    return MEWE_OK;
}

static LLVMCodeGenOptLevel codegen_level(int level)
{
    static const LLVMCodeGenOptLevel levels[] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                 LLVMCodeGenLevelDefault,
                                                 LLVMCodeGenLevelAggressive};
    return levels[level];
}

static int codegen(const mewe_module *m, LLVMModuleRef copy, int level, void **out, size_t *size)
{
    mewe_context *ctx = m->ctx;
    char *err = NULL;
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(LLVMGetTarget(copy), &target, &err)) {
        int rc = mewe__error(ctx, MEWE_ETARGET, "'%s': no backend for '%s': %s", m->name,
                             LLVMGetTarget(copy), err ? err : "");
        LLVMDisposeMessage(err);
        return rc;
    }
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(target, LLVMGetTarget(copy), "generic", "", codegen_level(level),
                                LLVMRelocStatic, LLVMCodeModelDefault);
    if (!tm)
        return mewe__error(ctx, MEWE_ETARGET, "'%s': cannot create a wasm32 target machine",
                           m->name);
    if (LLVMGetDataLayoutStr(copy)[0] == '\0') {
        LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
        LLVMSetModuleDataLayout(copy, dl);
        LLVMDisposeTargetData(dl);
    }
    LLVMMemoryBufferRef buf = NULL;
    mewe__diag_clear(ctx);
    int rc = MEWE_OK;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, copy, LLVMObjectFile, &err, &buf)) {
        char *diag = mewe__diag_take(ctx);
        rc = mewe__error(ctx, MEWE_ETARGET, "code generation failed for '%s': %s%s%s", m->name,
                         err ? err : "", diag ? "; " : "", diag ? diag : "");
        free(diag);
        LLVMDisposeMessage(err);
    } else {
        *size = LLVMGetBufferSize(buf);
        *out = malloc(*size ? *size : 1);
        if (*out)
            memcpy(*out, LLVMGetBufferStart(buf), *size);
        else
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", m->name);
        LLVMDisposeMemoryBuffer(buf);
    }
    LLVMDisposeTargetMachine(tm);
    return rc;
}

/* Builds the wasm-ld command line the way clang's WebAssembly driver does. */
static const char **link_argv(mewe_context *ctx, const mewe_emit_options *o,
                              char *const *export_flags, const char *obj, const char *out,
                              char **owned, size_t *n_owned)
{
    size_t max = 16 + o->export_count + o->link_arg_count;
    const char **argv = calloc(max, sizeof *argv);
    if (!argv)
        return NULL;
    const char *sysroot = ctx->tools[MEWE_TOOL_WASI_SYSROOT];
    const char *builtins = ctx->tools[MEWE_TOOL_BUILTINS];
    bool reactor = o->kind == MEWE_EMIT_REACTOR;
    size_t n = 0;
    *n_owned = 0;
    owned[(*n_owned)++] = mewe__printf("-L%s/lib/wasm32-wasi", sysroot);
    owned[(*n_owned)++] = mewe__printf("%s/lib/wasm32-wasi/%s", sysroot,
                                       reactor ? "crt1-reactor.o" : "crt1-command.o");
    for (size_t i = 0; i < *n_owned; i++) {
        if (!owned[i])
            return free(argv), NULL;
    }
    argv[n++] = ctx->tools[MEWE_TOOL_WASM_LD];
    argv[n++] = "-m";
    argv[n++] = "wasm32";
    argv[n++] = owned[0];
    argv[n++] = owned[1];
    if (reactor) {
        argv[n++] = "--entry";
        argv[n++] = "_initialize";
    }
    argv[n++] = obj;
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

/* Replaces the temporary object's path with the module's name in wasm-ld's complaints. */
static char *describe_link_failure(const char *output, const char *obj, const char *name)
{
    size_t olen = strlen(obj);
    size_t cap = strlen(output) * 2 + strlen(name) * 8 + 1;
    char *msg = malloc(cap);
    if (!msg)
        return NULL;
    size_t len = 0;
    int lines = 0;
    for (const char *p = output; *p && lines < 6 && len + strlen(name) + 2 < cap;) {
        if (strncmp(p, obj, olen) == 0) {
            len += (size_t)snprintf(msg + len, cap - len, "%s", name);
            p += olen;
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

static int run_wasm_ld(const mewe_module *m, const mewe_emit_options *o, const char *obj,
                       const char *out)
{
    mewe_context *ctx = m->ctx;
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
        argv = link_argv(ctx, o, exports, obj, out, owned, &n_owned);
        rc = argv ? MEWE_OK : MEWE_ENOMEM;
    }
    if (rc == MEWE_ENOMEM)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", m->name);
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
        char *why = describe_link_failure(output ? output : "", obj, m->name);
        rc = mewe__error(ctx, MEWE_ELINK, "wasm-ld failed (status %d) linking '%s': %s", status,
                         m->name, why ? why : "");
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

static int link_object(const mewe_module *m, const mewe_emit_options *o, const void *obj,
                       size_t obj_size, void **out, size_t *out_size)
{
    mewe_context *ctx = m->ctx;
    char *dir = NULL;
    int rc = mewe__tempdir_make(ctx, &dir);
    if (rc != MEWE_OK)
        return rc;
    char *obj_path = mewe__printf("%s/module.o", dir);
    char *wasm_path = mewe__printf("%s/linked.wasm", dir);
    if (!obj_path || !wasm_path)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory linking '%s'", m->name);
    if (rc == MEWE_OK)
        rc = mewe__file_write_atomic(ctx, obj_path, obj, obj_size);
    if (rc == MEWE_OK)
        rc = run_wasm_ld(m, o, obj_path, wasm_path);
    if (rc == MEWE_OK)
        rc = mewe__file_read(ctx, wasm_path, (char **)out, out_size);
    free(obj_path);
    free(wasm_path);
    mewe__tempdir_remove(dir);
    free(dir);
    return rc;
}

/* Code generation works on a copy in an LLVM context of its own: it rewrites IR in place
 * (CodeGenPrepare and friends) and registers names in its context (metadata kinds such as
 * "wasm.index", which every later bitcode of that context would carry). Neither the caller's
 * module nor its context may change. */
static int isolated_copy(const mewe_module *m, LLVMContextRef *out_ctx, LLVMModuleRef *out)
{
    LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(m->llvm);
    LLVMContextRef c = bc ? LLVMContextCreate() : NULL;
    if (!c) {
        if (bc)
            LLVMDisposeMemoryBuffer(bc);
        return mewe__error(m->ctx, MEWE_ENOMEM, "out of memory emitting '%s'", m->name);
    }
    LLVMContextSetDiagnosticHandler(c, mewe__diag_handler, m->ctx);
    mewe__diag_clear(m->ctx);
    LLVMModuleRef copy = NULL;
    bool failed = LLVMParseBitcodeInContext2(c, bc, &copy);
    LLVMDisposeMemoryBuffer(bc);
    if (failed) {
        char *diag = mewe__diag_take(m->ctx);
        int rc = mewe__error(m->ctx, MEWE_ENOMEM, "cannot copy '%s' for code generation%s%s",
                             m->name, diag ? ": " : "", diag ? diag : "");
        free(diag);
        LLVMContextDispose(c);
        return rc;
    }
    *out_ctx = c;
    *out = copy;
    return MEWE_OK;
}

/* Turns every defined function that `keep` does not name into a declaration, so that code
 * generation spends nothing on it. Alias targets keep their bodies (an alias must name a
 * definition). A deleted block whose address was taken becomes `inttoptr 1` in LLVM. */
static void keep_only(LLVMModuleRef copy, bool (*keep)(const char *name, void *data), void *data)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(copy); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f))
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        if (keep(name, data))
            continue;
        bool aliased = false;
        for (LLVMValueRef a = LLVMGetFirstGlobalAlias(copy); a && !aliased;
             a = LLVMGetNextGlobalAlias(a))
            aliased = LLVMAliasGetAliasee(a) == f;
        if (aliased)
            continue;
        /* LLVM-C has no Function::deleteBody: drop every use between instructions first
         * (tokens take `none`, the rest poison), then the instructions, then the blocks. */
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
                LLVMTypeRef t = LLVMTypeOf(i);
                LLVMTypeKind k = LLVMGetTypeKind(t);
                if (k != LLVMVoidTypeKind)
                    LLVMReplaceAllUsesWith(i, k == LLVMTokenTypeKind ? LLVMConstNull(t)
                                                                     : LLVMGetPoison(t));
            }
        }
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
            LLVMValueRef i;
            while ((i = LLVMGetLastInstruction(bb)) != NULL)
                LLVMInstructionEraseFromParent(i);
        }
        LLVMBasicBlockRef bb;
        while ((bb = LLVMGetFirstBasicBlock(f)) != NULL)
            LLVMDeleteBasicBlock(bb);
        LLVMSetPersonalityFn(f, NULL);
        LLVMSetComdat(f, NULL);
        LLVMSetLinkage(f, LLVMExternalLinkage);
        LLVMSetVisibility(f, LLVMDefaultVisibility);
    }
}

int mewe__emit_object(const mewe_module *m, int level, bool (*keep)(const char *name, void *data),
                      void *keep_data, void **out, size_t *out_size)
{
    pthread_once(&targets_once, init_targets);
    LLVMContextRef cg_ctx = NULL;
    LLVMModuleRef copy = NULL;
    int rc = isolated_copy(m, &cg_ctx, &copy);
    if (rc != MEWE_OK)
        return rc;
    if (keep)
        keep_only(copy, keep, keep_data);
    rc = check_target(m, copy);
    if (rc == MEWE_OK)
        rc = codegen(m, copy, level, out, out_size);
    LLVMDisposeModule(copy);
    LLVMContextDispose(cg_ctx);
    return rc;
}

typedef struct emit_job {
    const mewe_module *m;
    const mewe_emit_options *o;
} emit_job;

/* Code generation at `level`, then linking (for the linked kinds). */
static int emit_at(void *user, int level, void **out, size_t *out_size)
{
    emit_job *job = user;
    const mewe_module *m = job->m;
    const mewe_emit_options *o = job->o;
    LLVMContextRef cg_ctx = NULL;
    LLVMModuleRef copy = NULL;
    int rc = isolated_copy(m, &cg_ctx, &copy);
    if (rc != MEWE_OK)
        return rc;
    rc = check_target(m, copy);
    /* Marked for every kind: an exported static function must become visible to wasm-ld. */
    if (rc == MEWE_OK)
        rc = mark_exports(m, copy, o);
    if (rc == MEWE_OK)
        rc = mewe__wasm_names_fix(m->ctx, m->name, copy);
    void *obj = NULL;
    size_t obj_size = 0;
    if (rc == MEWE_OK) {
        mewe__progress(m->ctx, "compiling to wasm", 0, 1);
        rc = codegen(m, copy, level, &obj, &obj_size);
    }
    LLVMDisposeModule(copy);
    LLVMContextDispose(cg_ctx);
    if (rc != MEWE_OK)
        return rc;
    mewe__progress(m->ctx, "compiling to wasm", 1, 1);
    if (o->kind == MEWE_EMIT_OBJECT) {
        *out = obj;
        *out_size = obj_size;
        return MEWE_OK;
    }
    mewe__progress(m->ctx, "linking wasm", 0, 1);
    rc = link_object(m, o, obj, obj_size, out, out_size);
    free(obj);
    if (rc == MEWE_OK)
        mewe__progress(m->ctx, "linking wasm", 1, 1);
    return rc;
}

static int emit(void **out, size_t *out_size, const mewe_module *m, const mewe_emit_options *opts)
{
    mewe_emit_options options;
    const mewe_emit_options *o = &options;
    int rc = read_options(m->ctx, opts, &options);
    if (rc == MEWE_OK)
        rc = check_options(m->ctx, o);
    if (rc != MEWE_OK)
        return rc;
    pthread_once(&targets_once, init_targets);
    emit_job job = {m, o};
    /* What was done to stay within the engines' limits is logged as a warning. */
    char limits[640] = "";
    rc = mewe__wasm_limits_emit(m->ctx, m->name, m->llvm, o->opt_level, emit_at, &job, out,
                                out_size, limits, sizeof limits);
    return rc;
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
