/* minimal: the whole libmewe pipeline in one function.
 *
 *   minimal PROGRAM.bc OUT.wasm [SEED]
 *
 * Loads bitcode made for wasm32 (clang --target=wasm32-wasi -emit-llvm -c), gives every
 * eligible function 3 variants, turns each one into a dispatcher that picks a variant at
 * random on every call, links a WASI command and prints the report's totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/mewe.h>

/* The report is JSON; its "totals" object holds only numbers and booleans, so printing it
 * needs no JSON parser: everything from its '{' to the first '}'. */
static void print_totals(const char *json)
{
    const char *start = strstr(json, "\"totals\"");
    const char *open = start ? strchr(start, '{') : NULL;
    const char *close = open ? strchr(open, '}') : NULL;
    if (close)
        printf("totals: %.*s\n", (int)(close - open + 1), open);
}

/* Each stage returns MEWE_OK or a negative status and, on failure, leaves the module as it
 * was; stopping at the first failure is all the error handling a pipeline needs. */
static int run(mewe_context *ctx, const char *in, const char *out)
{
    mewe_module *mod = NULL;
    char *json = NULL;
    int rc = mewe_module_load(&mod, ctx, in);
    if (rc == MEWE_OK)
        rc = mewe_generate_variants(mod, NULL); /* NULL: defaults, 3 variants each */
    if (rc == MEWE_OK)
        rc = mewe_link_multivariant(mod, NULL); /* switch dispatch, wasi RNG, per call */
    if (rc == MEWE_OK)
        rc = mewe_emit_wasm(mod, NULL, out); /* a WASI command: _start calls main */
    if (rc == MEWE_OK)
        rc = mewe_report_json(&json, NULL, mod); /* what was diversified, or why not */
    if (rc == MEWE_OK) {
        printf("wrote %s\n", out);
        print_totals(json);
    }
    mewe_free(json); /* library memory goes back through mewe_free(); NULL is fine */
    mewe_module_free(mod);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s PROGRAM.bc OUT.wasm [SEED]\n", argv[0]);
        return 2;
    }
    mewe_context *ctx = NULL;
    int rc = mewe_context_new(&ctx);
    if (rc != MEWE_OK) { /* no context, so no message: only the status text */
        fprintf(stderr, "minimal: %s\n", mewe_status_str(rc));
        return 1;
    }
    /* The seed fixes every build-time choice: same input and seed, same bytes out. */
    rc = mewe_context_set_seed(ctx, argc == 4 ? strtoull(argv[3], NULL, 0) : 0);
    if (rc == MEWE_OK)
        rc = run(ctx, argv[1], argv[2]);
    if (rc != MEWE_OK) /* the message names what failed: file, function, option */
        fprintf(stderr, "minimal: %s: %s\n", mewe_status_str(rc), mewe_context_errmsg(ctx));
    mewe_context_free(ctx);
    return rc == MEWE_OK ? 0 : 1;
}
