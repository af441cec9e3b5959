/* The context: LLVM context, error message, log callback, build seed, toolchain paths. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "internal.h"
#include "plugin.h"

char *mewe__vprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *mewe__printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = mewe__vprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *mewe__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int mewe__error(mewe_context *ctx, int status, const char *fmt, ...)
{
    if (!ctx)
        return status;
    va_list ap;
    va_start(ap, fmt);
    char *msg = mewe__vprintf(fmt, ap);
    va_end(ap);
    /* Out of memory while reporting: keep the status, fall back to its static text. */
    free(ctx->errmsg);
    ctx->errmsg = msg;
    ctx->errstatic = msg ? NULL : mewe_status_str(status);
    if (msg && ctx->log_fn && ctx->log_max >= MEWE_LOG_ERROR)
        ctx->log_fn(MEWE_LOG_ERROR, msg, ctx->log_data);
    return status;
}

int mewe__options_init(void *opts, const void *defaults, unsigned int version, const size_t *sizes,
                       unsigned int current)
{
    if (!opts)
        return MEWE_EINVAL;
    if (version < 1 || version > current)
        return MEWE_EVERSION;
    memcpy(opts, defaults, sizes[version]);
    memcpy(opts, &version, sizeof version);
    return MEWE_OK;
}

int mewe__options_read(mewe_context *ctx, void *dst, const void *opts, const size_t *sizes,
                       unsigned int current, const char *what)
{
    if (!opts)
        return MEWE_OK;
    unsigned int version;
    memcpy(&version, opts, sizeof version);
    if (version < 1 || version > current)
        return mewe__error(ctx, MEWE_EVERSION,
                           "%s options version %u unknown (this libmewe "
                           "knows 1 to %u)",
                           what, version, current);
    memcpy(dst, opts, sizes[version]);
    return MEWE_OK;
}

int mewe__check_strings(mewe_context *ctx, const char *const *list, size_t count, const char *what)
{
    if (count > 0 && !list)
        return mewe__error(ctx, MEWE_EINVAL, "%s: %zu entries but no array", what, count);
    for (size_t i = 0; i < count; i++) {
        if (!list[i] || list[i][0] == '\0')
            return mewe__error(ctx, MEWE_EINVAL, "%s: entry %zu is %s", what, i,
                               list[i] ? "empty" : "NULL");
    }
    return MEWE_OK;
}

void mewe__log(mewe_context *ctx, mewe_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = mewe__vprintf(fmt, ap);
    va_end(ap);
    if (msg)
        ctx->log_fn(level, msg, ctx->log_data);
    free(msg);
}

/* LLVM's default handler prints errors and exits the process; this one only records. */
void mewe__diag_handler(LLVMDiagnosticInfoRef info, void *data)
{
    mewe_context *ctx = data;
    LLVMDiagnosticSeverity sev = LLVMGetDiagInfoSeverity(info);
    if (sev != LLVMDSError && sev != LLVMDSWarning)
        return;
    char *text = LLVMGetDiagInfoDescription(info);
    char *joined = ctx->diag ? mewe__printf("%s; %s", ctx->diag, text) : mewe__strdup(text);
    LLVMDisposeMessage(text);
    if (joined) {
        free(ctx->diag);
        ctx->diag = joined;
    }
}

char *mewe__diag_take(mewe_context *ctx)
{
    char *d = ctx->diag;
    ctx->diag = NULL;
    return d;
}

void mewe__diag_clear(mewe_context *ctx)
{
    free(ctx->diag);
    ctx->diag = NULL;
}

static int set_string(char **slot, const char *value)
{
    char *copy = mewe__strdup(value);
    if (!copy)
        return MEWE_ENOMEM;
    free(*slot);
    *slot = copy;
    return MEWE_OK;
}

static int set_default_tools(mewe_context *ctx)
{
    if (set_string(&ctx->tools[MEWE_TOOL_WASM_LD], MEWE_DEFAULT_WASM_LD) ||
        set_string(&ctx->tools[MEWE_TOOL_WASI_SYSROOT], MEWE_DEFAULT_WASI_SYSROOT) ||
        set_string(&ctx->tools[MEWE_TOOL_BUILTINS], MEWE_DEFAULT_WASM_BUILTINS) ||
        set_string(&ctx->tools[MEWE_TOOL_WASI_SDK], "") ||
        set_string(&ctx->tools[MEWE_TOOL_LOAD_CHECK], ""))
        return MEWE_ENOMEM;
    return MEWE_OK;
}

int mewe_context_new(mewe_context **out)
{
    if (!out)
        return MEWE_EINVAL;
    *out = NULL;
    mewe_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return MEWE_ENOMEM;
    ctx->llvm = LLVMContextCreate();
    if (!ctx->llvm || set_default_tools(ctx) != MEWE_OK) {
        mewe_context_free(ctx);
        return MEWE_ENOMEM;
    }
    LLVMContextSetDiagnosticHandler(ctx->llvm, mewe__diag_handler, ctx);
    int rc = mewe__register_builtins(ctx);
    if (rc != MEWE_OK) {
        mewe_context_free(ctx);
        return rc;
    }
    *out = ctx;
    return MEWE_OK;
}

void mewe_context_free(mewe_context *ctx)
{
    if (!ctx)
        return;
    while (ctx->modules)
        mewe_module_free(ctx->modules);
    mewe__registry_free(&ctx->diversifiers);
    mewe__registry_free(&ctx->strategies);
    if (ctx->llvm)
        LLVMContextDispose(ctx->llvm);
    for (int i = 0; i < MEWE_TOOL_COUNT_; i++)
        free(ctx->tools[i]);
    free(ctx->errmsg);
    free(ctx->diag);
    free(ctx);
}

const char *mewe_context_errmsg(const mewe_context *ctx)
{
    if (!ctx)
        return "no context (NULL)";
    if (ctx->errmsg)
        return ctx->errmsg;
    return ctx->errstatic ? ctx->errstatic : "";
}

int mewe_context_set_log_callback(mewe_context *ctx, mewe_log_fn fn, mewe_log_level max_level,
                                  void *user_data)
{
    if (!ctx)
        return MEWE_EINVAL;
    if ((int)max_level < MEWE_LOG_ERROR || max_level > MEWE_LOG_DEBUG)
        return mewe__error(ctx, MEWE_EINVAL, "log level %d out of range (0..3)", (int)max_level);
    ctx->log_fn = fn;
    ctx->log_data = user_data;
    ctx->log_max = max_level;
    return MEWE_OK;
}

int mewe_context_set_progress_callback(mewe_context *ctx, mewe_progress_fn fn, void *user_data)
{
    if (!ctx)
        return MEWE_EINVAL;
    ctx->progress_fn = fn;
    ctx->progress_data = user_data;
    return MEWE_OK;
}

void mewe__progress(mewe_context *ctx, const char *stage, size_t done, size_t total)
{
    if (ctx->progress_fn)
        ctx->progress_fn(stage, done, total, ctx->progress_data);
    /* The log gets a start, each tenth and the end: a line per function would drown it. */
    if (done == 0)
        ctx->progress_tenth = -1;
    int tenth = total ? (int)(done * 10 / total) : 10;
    if (tenth == ctx->progress_tenth && done != total)
        return;
    if (done == total && ctx->progress_tenth == 10)
        return;
    ctx->progress_tenth = tenth;
    mewe__log(ctx, MEWE_LOG_INFO, "%s: %zu/%zu", stage, done, total);
}

int mewe_context_set_seed(mewe_context *ctx, uint64_t seed)
{
    if (!ctx)
        return MEWE_EINVAL;
    ctx->seed = seed;
    return MEWE_OK;
}

int mewe_context_get_seed(uint64_t *out, const mewe_context *ctx)
{
    if (!ctx)
        return MEWE_EINVAL;
    if (!out)
        return mewe__error((mewe_context *)ctx, MEWE_EINVAL,
                           "mewe_context_get_seed: out is "
                           "NULL");
    *out = ctx->seed;
    return MEWE_OK;
}

int mewe_context_set_untrusted_input(mewe_context *ctx, int untrusted)
{
    if (!ctx)
        return MEWE_EINVAL;
    ctx->untrusted_input = untrusted != 0;
    return MEWE_OK;
}

int mewe_context_get_untrusted_input(int *out, const mewe_context *ctx)
{
    if (!out || !ctx)
        return MEWE_EINVAL;
    *out = ctx->untrusted_input;
    return MEWE_OK;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* wasi-sdk keeps the builtins under lib/clang/<clang major>/lib/wasi/; the version differs
 * between releases, so look for whichever is there. */
static char *find_sdk_builtins(const char *sdk)
{
    char *clang_dir = mewe__printf("%s/lib/clang", sdk);
    if (!clang_dir)
        return NULL;
    DIR *d = opendir(clang_dir);
    char *found = NULL;
    struct dirent *e;
    while (d && !found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p =
            mewe__printf("%s/%s/lib/wasi/libclang_rt.builtins-wasm32.a", clang_dir, e->d_name);
        if (p && is_file(p))
            found = p;
        else
            free(p);
    }
    if (d)
        closedir(d);
    free(clang_dir);
    return found;
}

static int set_wasi_sdk(mewe_context *ctx, const char *sdk)
{
    if (!is_dir(sdk))
        return mewe__error(ctx, MEWE_EINVAL, "wasi-sdk '%s' is not a directory", sdk);
    char *ld = mewe__printf("%s/bin/wasm-ld", sdk);
    char *sysroot = mewe__printf("%s/share/wasi-sysroot", sdk);
    char *builtins = find_sdk_builtins(sdk);
    int rc = MEWE_OK;
    if (!ld || !sysroot)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory setting wasi-sdk '%s'", sdk);
    else if (!is_file(ld))
        rc = mewe__error(ctx, MEWE_ENOTFOUND, "wasi-sdk '%s' has no bin/wasm-ld", sdk);
    else if (!is_dir(sysroot))
        rc = mewe__error(ctx, MEWE_ENOTFOUND, "wasi-sdk '%s' has no share/wasi-sysroot", sdk);
    else if (!builtins)
        rc = mewe__error(ctx, MEWE_ENOTFOUND,
                         "wasi-sdk '%s' has no lib/clang/*/lib/wasi/"
                         "libclang_rt.builtins-wasm32.a",
                         sdk);
    if (rc == MEWE_OK) {
        /* Swap in all four only when every part was found: no half-applied SDK. */
        free(ctx->tools[MEWE_TOOL_WASM_LD]);
        free(ctx->tools[MEWE_TOOL_WASI_SYSROOT]);
        free(ctx->tools[MEWE_TOOL_BUILTINS]);
        ctx->tools[MEWE_TOOL_WASM_LD] = ld;
        ctx->tools[MEWE_TOOL_WASI_SYSROOT] = sysroot;
        ctx->tools[MEWE_TOOL_BUILTINS] = builtins;
        if (set_string(&ctx->tools[MEWE_TOOL_WASI_SDK], sdk) != MEWE_OK)
            return mewe__error(ctx, MEWE_ENOMEM, "out of memory setting wasi-sdk '%s'", sdk);
        return MEWE_OK;
    }
    free(ld);
    free(sysroot);
    free(builtins);
    return rc;
}

int mewe_context_set_tool_path(mewe_context *ctx, mewe_tool tool, const char *path)
{
    if (!ctx)
        return MEWE_EINVAL;
    if (!path)
        return mewe__error(ctx, MEWE_EINVAL, "tool path is NULL");
    if ((int)tool < 0 || tool >= MEWE_TOOL_COUNT_)
        return mewe__error(ctx, MEWE_EINVAL, "unknown tool %d", (int)tool);
    if (tool == MEWE_TOOL_WASI_SDK)
        return set_wasi_sdk(ctx, path);
    if (set_string(&ctx->tools[tool], path) != MEWE_OK)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory setting tool %d to '%s'", (int)tool,
                           path);
    return MEWE_OK;
}

int mewe_context_get_tool_path(const char **out, const mewe_context *ctx, mewe_tool tool)
{
    if (!ctx)
        return MEWE_EINVAL;
    /* The message is the context's one piece of mutable state that a reader may set. */
    mewe_context *c = (mewe_context *)ctx;
    if (!out)
        return mewe__error(c, MEWE_EINVAL, "mewe_context_get_tool_path: out is NULL");
    if ((int)tool < 0 || tool >= MEWE_TOOL_COUNT_)
        return mewe__error(c, MEWE_EINVAL, "unknown tool %d", (int)tool);
    *out = ctx->tools[tool];
    return MEWE_OK;
}

LLVMContextRef mewe_context_get_llvm(mewe_context *ctx)
{
    return ctx ? ctx->llvm : NULL;
}
