/* Shared by the libFuzzer harnesses: a context per input, and a check that a failure left a
 * message (a failing call without one is a bug). A harness aborts only on a libmewe bug. */
#ifndef MEWE_FUZZ_UTIL_H
#define MEWE_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/mewe.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline mewe_context *fuzz_context(void)
{
    mewe_context *ctx;
    if (mewe_context_new(&ctx) != MEWE_OK)
        abort();
    /* Inputs go through the helper as the mewe command sends them: LLVM's readers must not
     * be able to end this process. MEWE_LOAD_CHECK overrides the build's helper. */
    const char *helper = getenv("MEWE_LOAD_CHECK");
    if (!helper)
        helper = MEWE_FUZZ_LOAD_CHECK;
    if (mewe_context_set_untrusted_input(ctx, 1) != MEWE_OK ||
        mewe_context_set_tool_path(ctx, MEWE_TOOL_LOAD_CHECK, helper) != MEWE_OK)
        abort();
    return ctx;
}

static inline void fuzz_check(mewe_context *ctx, int rc, const char *what)
{
    if (rc == MEWE_OK)
        return;
    const char *msg = mewe_context_errmsg(ctx);
    if (rc > 0 || rc < MEWE_ESTATE || !msg || !msg[0]) {
        fprintf(stderr, "fuzz: %s returned %d with message '%s'\n", what, rc, msg ? msg : "(null)");
        abort();
    }
    /* The helper itself must run: a missing helper is a set-up error, not a finding. */
    if (rc == MEWE_ETOOL && strstr(msg, "mewe-load-check")) {
        fprintf(stderr, "fuzz: %s\n", msg);
        abort();
    }
}

/* A NUL-terminated copy of the input. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif /* MEWE_FUZZ_UTIL_H */
