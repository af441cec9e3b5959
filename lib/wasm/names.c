/* Names a WebAssembly module can carry (names.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "wasm/names.h"

/* Length of the UTF-8 sequence at p (at most n > 0 bytes), 0 when invalid. */
static size_t sequence(const unsigned char *p, size_t n)
{
    return p[0] < 0x80 ? 1 : mewe__utf8_sequence(p, n);
}

bool mewe__wasm_name_valid(const char *name, size_t len)
{
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = 0; i < len;) {
        size_t seq = sequence(p + i, len - i);
        if (!seq)
            return false;
        i += seq;
    }
    return true;
}

/* Each invalid byte takes 2 bytes as UTF-8 and 4 as \xNN: 4 * len + 1 is enough for both. */
static char *rewrite(const char *name, size_t len, bool display, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)name;
    char *out = malloc(4 * len + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t seq = sequence(p + i, len - i);
        if (seq) {
            memcpy(o, p + i, seq);
            o += seq;
            i += seq;
        } else if (display) {
            o += sprintf(o, "\\x%02X", p[i++]);
        } else {
            *o++ = (char)(0xC0 | (p[i] >> 6));
            *o++ = (char)(0x80 | (p[i++] & 0x3F));
        }
    }
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

char *mewe__name_display(const char *name, size_t len)
{
    size_t n;
    return rewrite(name, len, true, &n);
}

static bool is_local(LLVMValueRef g)
{
    LLVMLinkage l = LLVMGetLinkage(g);
    return l == LLVMInternalLinkage || l == LLVMPrivateLinkage;
}

static int fix(mewe_context *ctx, const char *module_name, LLVMValueRef g, const char *kind)
{
    size_t len;
    const char *name = LLVMGetValueName2(g, &len);
    if (mewe__wasm_name_valid(name, len))
        return MEWE_OK;
    if (!is_local(g)) {
        char *shown = mewe__name_display(name, len);
        int rc = mewe__error(ctx, shown ? MEWE_ETARGET : MEWE_ENOMEM,
                             "'%s': the name of %s '%s' is not valid UTF-8 (\\xNN marks the "
                             "bytes that are not), which a WebAssembly name must be; other code "
                             "links against it by that name, so it cannot be changed here: make "
                             "it internal (static in C) or rename it",
                             module_name, kind, shown ? shown : "?");
        free(shown);
        return rc;
    }
    size_t n;
    char *utf8 = rewrite(name, len, false, &n);
    if (!utf8)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", module_name);
    LLVMSetValueName2(g, utf8, n);
    free(utf8);
    return MEWE_OK;
}

int mewe__wasm_names_fix(mewe_context *ctx, const char *module_name, LLVMModuleRef m)
{
    int rc = MEWE_OK;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); rc == MEWE_OK && f; f = LLVMGetNextFunction(f))
        rc = fix(ctx, module_name, f, "function");
    for (LLVMValueRef g = LLVMGetFirstGlobal(m); rc == MEWE_OK && g; g = LLVMGetNextGlobal(g))
        rc = fix(ctx, module_name, g, "global variable");
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(m); rc == MEWE_OK && a;
         a = LLVMGetNextGlobalAlias(a))
        rc = fix(ctx, module_name, a, "alias");
    for (LLVMValueRef i = LLVMGetFirstGlobalIFunc(m); rc == MEWE_OK && i;
         i = LLVMGetNextGlobalIFunc(i))
        rc = fix(ctx, module_name, i, "ifunc");
    return rc;
}
