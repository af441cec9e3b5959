/* Module loading from bytes, bitcode or textual IR, through the helper as the mewe command
 * loads them. Whatever the bytes, the call returns; a loaded module can be listed, verified,
 * written back and loaded again. */
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mewe_context *ctx = fuzz_context();
    mewe_module *m = NULL;
    int rc = mewe_module_load_memory(&m, ctx, data, size, "fuzz-input");
    fuzz_check(ctx, rc, "mewe_module_load_memory");
    if (rc == MEWE_OK) {
        size_t n = mewe_module_function_count(m);
        for (size_t i = 0; i < n; i++) {
            const char *name;
            if (mewe_module_function_at(&name, m, i) != MEWE_OK || !name)
                abort();
        }
        fuzz_check(ctx, mewe_module_verify(m), "mewe_module_verify");
        void *out;
        size_t out_size;
        for (int f = MEWE_FORMAT_BITCODE; f <= MEWE_FORMAT_TEXT; f++) {
            rc = mewe_module_write_memory(&out, &out_size, m, (mewe_format)f);
            fuzz_check(ctx, rc, "mewe_module_write_memory");
            if (rc == MEWE_OK) {
                /* What libmewe writes, libmewe loads. */
                mewe_module *again;
                rc = mewe_module_load_memory(&again, ctx, out, out_size, "written");
                if (rc != MEWE_OK) {
                    fprintf(stderr, "fuzz: cannot load what was written: %s\n",
                            mewe_context_errmsg(ctx));
                    abort();
                }
                mewe_module_free(again);
                mewe_free(out);
            }
        }
    }
    mewe_context_free(ctx);
    return 0;
}
