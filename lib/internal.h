/* Shared internals of libmewe: the context and module structs, error and log helpers.
 * Never installed. */
#ifndef MEWE_INTERNAL_H
#define MEWE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>

#include <llvm-c/Core.h>

#include <mewe/mewe.h>
#include <mewe/sys/llvm.h>

#define MEWE_TOOL_COUNT_ 4

struct mewe_context {
    LLVMContextRef llvm;
    char *errmsg;
    /* LLVM reports some errors only through the diagnostic handler; it collects them here
     * while a libmewe call runs, so the call can put them into its own message. */
    char *diag;
    mewe_log_fn log_fn;
    void *log_data;
    mewe_log_level log_max;
    uint64_t seed;
    char *tools[MEWE_TOOL_COUNT_];
    mewe_module *modules; /* every live module, freed with the context */
};

struct mewe_module {
    mewe_context *ctx;
    LLVMModuleRef llvm;
    char *name;          /* file or buffer name, for messages */
    char **fn_names;     /* cache of defined function names; NULL when stale */
    size_t fn_count;
    mewe_module *prev, *next; /* in ctx->modules */
};

/* Sets the context's message from a printf format and returns status, so that error paths
 * read `return mewe__error(ctx, MEWE_EIO, "...", ...)`. Logs it at MEWE_LOG_ERROR too. */
int mewe__error(mewe_context *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mewe__log(mewe_context *ctx, mewe_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Diagnostics captured from LLVM since the last take; owned string or NULL. */
char *mewe__diag_take(mewe_context *ctx);
void mewe__diag_clear(mewe_context *ctx);

/* Marks the module's cached function list stale after a change. */
void mewe__module_changed(mewe_module *module);
/* Wraps an LLVM module (consumed) into a new mewe_module. */
int mewe__module_wrap(mewe_module **out, mewe_context *ctx, LLVMModuleRef llvm,
                      const char *name);

char *mewe__strdup(const char *s);
char *mewe__printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mewe__vprintf(const char *fmt, va_list ap);

#endif /* MEWE_INTERNAL_H */
