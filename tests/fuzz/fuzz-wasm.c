/* The wasm reader behind the report (lib/wasm/inspect.c): any bytes parse or fail cleanly,
 * and every family found can be counted. */
#include <stdint.h>
#include <stdlib.h>

#include "wasm/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mewe__wasm_info info;
    int rc = mewe__wasm_parse(&info, data, size);
    if (rc != MEWE_OK) {
        if ((rc != MEWE_EPARSE && rc != MEWE_ENOMEM) || info.funcs || info.func_count)
            abort();
        return 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < info.func_count; i++) {
        const mewe__wasm_func *f = &info.funcs[i];
        if (f->body < (const unsigned char *)data || f->body + f->body_len > data + size)
            abort();
        total += f->body_len;
    }
    if (total > size)
        abort();
    mewe__wasm_family *fams;
    size_t count;
    if (mewe__wasm_families(&info, &fams, &count) == MEWE_OK) {
        for (size_t i = 0; i < count; i++) {
            size_t variants, distinct;
            if (mewe__wasm_family_distinct(&info, fams[i].family, &variants, &distinct) != MEWE_OK)
                continue;
            if (variants != fams[i].variants || distinct != fams[i].distinct ||
                distinct > variants || variants == 0)
                abort();
        }
        mewe__wasm_families_free(fams, count);
    }
    mewe__wasm_info_free(&info);
    return 0;
}
