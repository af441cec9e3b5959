/* Modules: load from file or memory (bitcode or textual IR, told apart by content), link,
 * verify, list functions, write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/Linker.h>

#include "ir/bitcode_id.h"
#include "ir/eligibility.h"
#include "config.h"
#include "util/fileio.h"
#include "internal.h"
#include "ir/irutil.h"
#include "ir/load_check.h"
#include "wasm/derive.h"

/* LLVM's messages can run to hundreds of lines (the verifier lists every bad instruction);
 * the first few name the problem. */
static char *first_lines(const char *text, int max_lines)
{
    size_t len = 0;
    int lines = 0;
    while (text[len] && lines < max_lines) {
        if (text[len] == '\n')
            lines++;
        len++;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    return mewe__printf("%.*s%s", (int)len, text, text[len] && lines >= max_lines ? " ..." : "");
}

int mewe__module_wrap(mewe_module **out, mewe_context *ctx, LLVMModuleRef llvm, const char *name)
{
    mewe_module *m = calloc(1, sizeof *m);
    char *copy = mewe__strdup(name);
    if (!m || !copy) {
        free(m);
        free(copy);
        LLVMDisposeModule(llvm);
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory loading '%s'", name);
    }
    m->ctx = ctx;
    m->llvm = llvm;
    m->name = copy;
    m->before_pending = true;
    m->next = ctx->modules;
    if (ctx->modules)
        ctx->modules->prev = m;
    ctx->modules = m;
    *out = m;
    return MEWE_OK;
}

int mewe__verify(mewe_context *ctx, LLVMModuleRef llvm, const char *what)
{
    char *msg = NULL;
    if (!LLVMVerifyModule(llvm, LLVMReturnStatusAction, &msg)) {
        LLVMDisposeMessage(msg);
        return MEWE_OK;
    }
    char *brief = first_lines(msg ? msg : "", 4);
    LLVMDisposeMessage(msg);
    int rc = mewe__error(ctx, MEWE_EVERIFY, "%s fails verification: %s", what,
                         brief ? brief : "(no detail)");
    free(brief);
    return rc;
}

static int verify(mewe_context *ctx, LLVMModuleRef llvm, const char *name)
{
    char *what = mewe__printf("'%s'", name);
    int rc = what ? mewe__verify(ctx, llvm, what)
                  : mewe__error(ctx, MEWE_ENOMEM, "out of memory verifying '%s'", name);
    free(what);
    return rc;
}

/* Gives a recognisable name to common wrong inputs instead of an IR syntax error. */
static const char *foreign_format(const unsigned char *data, size_t size)
{
    if (size >= 4 && memcmp(data, "\0asm", 4) == 0)
        return "a WebAssembly binary";
    if (size >= 4 && memcmp(data, "\177ELF", 4) == 0)
        return "an ELF file";
    if (size >= 8 && memcmp(data, "!<arch>\n", 8) == 0)
        return "an ar archive";
    return NULL;
}

static int bitcode_error(mewe_context *ctx, const unsigned char *data, size_t size,
                         const char *name)
{
    char *diag = mewe__diag_take(ctx);
    char producer[128];
    int rc;
    int major = 0;
    if (mewe__bitcode_producer(data, size, producer, sizeof producer) == 0 &&
        sscanf(producer, "LLVM%d", &major) == 1 && major > atoi(MEWE_LLVM_VERSION)) {
        rc = mewe__error(ctx, MEWE_EPARSE,
                         "'%s': bitcode was produced by %s, newer than this libmewe's LLVM %s; "
                         "rebuild it with LLVM %d or older (%s)",
                         name, producer, MEWE_LLVM_VERSION, atoi(MEWE_LLVM_VERSION),
                         diag ? diag : "unreadable");
    } else {
        rc = mewe__error(ctx, MEWE_EPARSE, "'%s': invalid or truncated bitcode: %s", name,
                         diag ? diag : "unreadable");
    }
    free(diag);
    return rc;
}

/* Parses bitcode into the context's LLVM context, from a copy of data or from data itself:
 * MEWE_OK, MEWE_ENOMEM (with a message), or MEWE_EPARSE for the caller to explain. */
static int parse_bitcode_buffer(LLVMModuleRef *out, mewe_context *ctx, const void *data,
                                size_t size, const char *name, bool copy)
{
    LLVMMemoryBufferRef buf = copy ? LLVMCreateMemoryBufferWithMemoryRangeCopy(data, size, name)
                                   : LLVMCreateMemoryBufferWithMemoryRange(data, size, name, 0);
    if (!buf)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory loading '%s'", name);
    mewe__diag_clear(ctx);
    LLVMBool failed = LLVMParseBitcodeInContext2(ctx->llvm, buf, out);
    LLVMDisposeMemoryBuffer(buf);
    return failed ? MEWE_EPARSE : MEWE_OK;
}

static int parse_bitcode(LLVMModuleRef *out, mewe_context *ctx, const char *data, size_t size,
                         const char *name)
{
    int rc = parse_bitcode_buffer(out, ctx, data, size, name, true);
    if (rc == MEWE_EPARSE)
        return bitcode_error(ctx, (const unsigned char *)data, size, name);
    return rc;
}

/* Reads the bitcode that the helper wrote back. LLVM's writer and reader are not always
 * symmetric for a module read from a corrupt input (an attribute group it writes but cannot
 * read back): that input is refused too, and said so. */
static int parse_checked(LLVMModuleRef *out, mewe_context *ctx, const void *data, size_t size,
                         const char *name)
{
    int rc = parse_bitcode_buffer(out, ctx, data, size, name, false);
    if (rc != MEWE_EPARSE)
        return rc;
    char *diag = mewe__diag_take(ctx);
    rc = mewe__error(ctx, MEWE_EPARSE,
                     "'%s': LLVM cannot read back the module it loaded from this input "
                     "(%s): it is corrupt",
                     name, diag ? diag : "unreadable");
    free(diag);
    return rc;
}

static int parse_text(LLVMModuleRef *out, mewe_context *ctx, const char *data, size_t size,
                      const char *name)
{
    /* The IR parser needs a NUL-terminated buffer; the copy gets one. */
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(data, size, name);
    if (!buf)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory loading '%s'", name);
    char *msg = NULL;
    mewe__diag_clear(ctx);
    if (!LLVMParseIRInContext(ctx->llvm, buf, out, &msg)) /* consumes buf */
        return MEWE_OK;
    char *brief = first_lines(msg ? msg : "", 2);
    int rc = mewe__error(ctx, MEWE_EPARSE, "'%s': not valid LLVM IR: %s", name,
                         brief ? brief : "syntax error");
    free(brief);
    LLVMDisposeMessage(msg);
    return rc;
}

static int load_buffer(mewe_module **out, mewe_context *ctx, const char *data, size_t size,
                       const char *name)
{
    const unsigned char *bytes = (const unsigned char *)data;
    if (size == 0)
        return mewe__error(ctx, MEWE_EPARSE, "'%s' is empty (expected LLVM bitcode or textual IR)",
                           name);
    const char *foreign = foreign_format(bytes, size);
    if (foreign)
        return mewe__error(ctx, MEWE_EPARSE, "'%s' is %s, not LLVM bitcode or textual IR", name,
                           foreign);
    LLVMModuleRef llvm = NULL;
    int rc;
    if (ctx->untrusted_input) {
        /* Only bitcode that the helper's LLVM wrote, from a module that passed the verifier,
         * reaches a reader in this process. Textual IR goes through the helper too: the IR
         * parser ends the process ("Broken module found") when a module that carries debug
         * info fails the verifier. */
        void *checked;
        size_t checked_size;
        rc = mewe__load_check(ctx, data, size, name, &checked, &checked_size);
        if (rc != MEWE_OK)
            return rc;
        rc = parse_checked(&llvm, ctx, checked, checked_size, name);
        free(checked);
    } else if (mewe__is_bitcode(bytes, size)) {
        rc = parse_bitcode(&llvm, ctx, data, size, name);
    } else {
        rc = parse_text(&llvm, ctx, data, size, name);
    }
    if (rc != MEWE_OK)
        return rc;
    rc = verify(ctx, llvm, name);
    if (rc != MEWE_OK) {
        LLVMDisposeModule(llvm);
        return rc;
    }
    return mewe__module_wrap(out, ctx, llvm, name);
}

int mewe_module_load(mewe_module **out, mewe_context *ctx, const char *path)
{
    if (out)
        *out = NULL;
    char *data;
    size_t size;
    int rc = mewe__file_read_input(ctx, out != NULL, path, "mewe_module_load", &data, &size);
    if (rc != MEWE_OK)
        return rc;
    rc = load_buffer(out, ctx, data, size, path);
    free(data);
    return rc;
}

int mewe_module_load_memory(mewe_module **out, mewe_context *ctx, const void *data, size_t size,
                            const char *name)
{
    if (!out || !ctx)
        return ctx ? mewe__error(ctx, MEWE_EINVAL, "mewe_module_load_memory: out is NULL")
                   : MEWE_EINVAL;
    *out = NULL;
    if (!data && size > 0)
        return mewe__error(ctx, MEWE_EINVAL, "mewe_module_load_memory: data is NULL");
    return load_buffer(out, ctx, data ? data : "", size, name ? name : "<memory>");
}

static size_t bitcode_size(LLVMModuleRef llvm)
{
    LLVMMemoryBufferRef buf = LLVMWriteBitcodeToMemoryBuffer(llvm);
    size_t bytes = buf ? LLVMGetBufferSize(buf) : 0;
    if (buf)
        LLVMDisposeMemoryBuffer(buf);
    return bytes;
}

void mewe__module_measure(LLVMModuleRef llvm, size_t *instructions, size_t *bitcode_bytes)
{
    /* The count that the size budget and the report's per-function sizes use too. */
    *instructions = mewe__module_instruction_count(llvm);
    *bitcode_bytes = bitcode_size(llvm);
}

size_t mewe__module_bitcode_now(const mewe_module *module)
{
    /* Never known for a lent module: mewe__module_bitcode_seen does not keep it. */
    return module->bitcode_now_known ? module->bitcode_now : bitcode_size(module->llvm);
}

void mewe__module_bitcode_seen(const mewe_module *module, size_t bytes)
{
    /* A cache: the module itself does not change. */
    mewe_module *m = (mewe_module *)module;
    m->bitcode_now = bytes;
    m->bitcode_now_known = !m->lent;
}

void mewe__module_records_clear(mewe_module *module)
{
    for (size_t i = 0; i < module->record_count; i++) {
        free(module->records[i].name);
        free(module->records[i].own_reason);
        free(module->records[i].part_of);
    }
    free(module->records);
    module->records = NULL;
    module->record_count = 0;
}

void mewe__module_spliced_clear(const mewe_module *module)
{
    mewe_module *m = (mewe_module *)module; /* a cache of the last emission's, as above */
    for (size_t i = 0; i < m->spliced_count; i++)
        free(m->spliced[i].name);
    free(m->spliced);
    m->spliced = NULL;
    m->spliced_count = 0;
}

int mewe__module_spliced_add(const mewe_module *module, mewe__spliced_family *fams, size_t n)
{
    mewe_module *m = (mewe_module *)module;
    mewe__spliced_family *grown =
        n ? realloc(m->spliced, (m->spliced_count + n) * sizeof *grown) : m->spliced;
    if (n && !grown) {
        for (size_t i = 0; i < n; i++)
            free(fams[i].name);
        free(fams);
        return MEWE_ENOMEM;
    }
    if (n)
        memcpy(grown + m->spliced_count, fams, n * sizeof *fams);
    m->spliced = grown;
    m->spliced_count += n;
    free(fams);
    return MEWE_OK;
}

const mewe__spliced_family *mewe__module_spliced(const mewe_module *module, const char *name)
{
    for (size_t i = 0; i < module->spliced_count; i++) {
        if (strcmp(module->spliced[i].name, name) == 0)
            return &module->spliced[i];
    }
    return NULL;
}

void mewe__module_changed(mewe_module *module)
{
    mewe__module_spliced_clear(module);
    module->bitcode_now_known = false;
    for (size_t i = 0; i < module->fn_count; i++)
        free(module->fn_names[i]);
    free(module->fn_names);
    module->fn_names = NULL;
    module->fn_count = 0;
}

int mewe__module_pair_check(mewe_module *dst, mewe_module *src, const char *fn, const char *same)
{
    if (dst && src && dst != src && dst->ctx == src->ctx)
        return MEWE_OK;
    mewe_context *ctx = dst ? dst->ctx : NULL;
    if (src && src != dst)
        mewe_module_free(src);
    return mewe__error(ctx, MEWE_EINVAL, "%s: %s", fn,
                       !dst || !src ? "NULL module"
                       : dst == src ? same
                                    : "modules belong to different contexts");
}

/* Links src into `into`, which is dst's working copy; consumes src. On failure `into` may be
 * half-merged: the caller drops it. */
static int link_into(mewe_module *dst, LLVMModuleRef into, mewe_module *src)
{
    mewe_context *ctx = dst->ctx;
    char *src_name = mewe__strdup(src->name);
    LLVMModuleRef src_llvm = src->llvm;
    src->llvm = NULL;
    mewe_module_free(src);
    if (!src_name) {
        LLVMDisposeModule(src_llvm);
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory linking into '%s'", dst->name);
    }
    mewe__diag_clear(ctx);
    int rc = MEWE_OK;
    if (LLVMLinkModules2(into, src_llvm)) { /* consumes src_llvm */
        char *diag = mewe__diag_take(ctx);
        rc = mewe__error(ctx, MEWE_ELINK, "cannot link '%s' into '%s': %s", src_name, dst->name,
                         diag ? diag : "link error");
        free(diag);
    }
    free(src_name);
    return rc;
}

/* Makes `merged` dst's module. */
static void link_done(mewe_module *dst, LLVMModuleRef merged)
{
    LLVMDisposeModule(dst->llvm);
    dst->llvm = merged;
    mewe__module_changed(dst);
    /* The program is the linked whole: the report's "before" measures all of it. */
    if (!dst->records && !dst->multivariant)
        dst->before_pending = true;
}

int mewe_module_link(mewe_module *dst, mewe_module *src)
{
    int rc = mewe__module_pair_check(dst, src, "mewe_module_link",
                                     "a module cannot be linked into itself");
    if (rc != MEWE_OK)
        return rc;
    /* LLVM's linker may leave its destination half-merged on failure: link into a copy and
     * keep it only on success, so a failed link leaves dst unchanged. */
    LLVMModuleRef merged = mewe__module_clone(dst->llvm);
    if (!merged) {
        mewe_module_free(src);
        return mewe__error(dst->ctx, MEWE_ENOMEM, "out of memory linking into '%s'", dst->name);
    }
    rc = link_into(dst, merged, src);
    if (rc != MEWE_OK) {
        LLVMDisposeModule(merged);
        return rc;
    }
    link_done(dst, merged);
    return MEWE_OK;
}

int mewe_module_link_file(mewe_module *dst, const char *path)
{
    return mewe_module_link_files(dst, &path, 1);
}

int mewe_module_link_files(mewe_module *dst, const char *const *paths, size_t count)
{
    if (!dst || (count && !paths))
        return MEWE_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (!paths[i])
            return mewe__error(dst->ctx, MEWE_EINVAL, "mewe_module_link_files: path %zu is NULL",
                               i);
    }
    if (count == 0)
        return MEWE_OK;
    /* One working copy for all the files: a copy per file would copy the growing module
     * again for each (quadratic in the number of files). */
    LLVMModuleRef merged = mewe__module_clone(dst->llvm);
    if (!merged)
        return mewe__error(dst->ctx, MEWE_ENOMEM, "out of memory linking into '%s'", dst->name);
    int rc = MEWE_OK;
    for (size_t i = 0; rc == MEWE_OK && i < count; i++) {
        mewe_module *src;
        rc = mewe_module_load(&src, dst->ctx, paths[i]);
        if (rc == MEWE_OK)
            rc = link_into(dst, merged, src);
    }
    if (rc != MEWE_OK) {
        LLVMDisposeModule(merged);
        return rc;
    }
    link_done(dst, merged);
    return MEWE_OK;
}

void mewe__module_measure_before(mewe_module *module)
{
    if (!module->before_pending)
        return;
    module->before_pending = false;
    mewe__module_measure(module->llvm, &module->instructions_before, &module->bitcode_before);
}

int mewe_module_verify(mewe_module *module)
{
    if (!module)
        return MEWE_EINVAL;
    return verify(module->ctx, module->llvm, module->name);
}

static int list_functions(mewe_module *m)
{
    size_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m->llvm); f; f = LLVMGetNextFunction(f))
        n += !LLVMIsDeclaration(f);
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return MEWE_ENOMEM;
    size_t i = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m->llvm); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f))
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        names[i] = mewe__printf("%.*s", (int)len, name);
        if (!names[i]) {
            while (i > 0)
                free(names[--i]);
            free(names);
            return MEWE_ENOMEM;
        }
        i++;
    }
    m->fn_names = names;
    m->fn_count = n;
    return MEWE_OK;
}

size_t mewe_module_function_count(const mewe_module *module)
{
    if (!module)
        return 0;
    /* The cache is logically const: it only mirrors the module. */
    mewe_module *m = (mewe_module *)module;
    if (!m->fn_names && list_functions(m) != MEWE_OK)
        return 0;
    return m->fn_count;
}

int mewe_module_function_at(const char **out, const mewe_module *module, size_t index)
{
    if (!module)
        return MEWE_EINVAL;
    if (!out)
        return mewe__error(module->ctx, MEWE_EINVAL, "mewe_module_function_at: out is NULL");
    size_t n = mewe_module_function_count(module);
    if (index >= n)
        return mewe__error(module->ctx, MEWE_EINVAL,
                           "function index %zu out of range (%zu "
                           "functions in '%s')",
                           index, n, module->name);
    *out = module->fn_names[index];
    return MEWE_OK;
}

static int serialize(void **out, size_t *size, mewe_module *m, mewe_format format)
{
    if (format == MEWE_FORMAT_TEXT) {
        char *text = LLVMPrintModuleToString(m->llvm);
        if (!text)
            return MEWE_ENOMEM;
        *size = strlen(text);
        *out = malloc(*size + 1);
        if (*out)
            memcpy(*out, text, *size + 1);
        LLVMDisposeMessage(text);
        return *out ? MEWE_OK : MEWE_ENOMEM;
    }
    LLVMMemoryBufferRef buf = LLVMWriteBitcodeToMemoryBuffer(m->llvm);
    if (!buf)
        return MEWE_ENOMEM;
    *size = LLVMGetBufferSize(buf);
    *out = malloc(*size ? *size : 1);
    if (*out)
        memcpy(*out, LLVMGetBufferStart(buf), *size);
    LLVMDisposeMemoryBuffer(buf);
    return *out ? MEWE_OK : MEWE_ENOMEM;
}

static int check_format(mewe_context *ctx, mewe_format format)
{
    if (format != MEWE_FORMAT_BITCODE && format != MEWE_FORMAT_TEXT)
        return mewe__error(ctx, MEWE_EINVAL, "unknown module format %d (0 bitcode, 1 text)",
                           (int)format);
    return MEWE_OK;
}

int mewe_module_write(const mewe_module *module, const char *path, mewe_format format)
{
    if (!module)
        return MEWE_EINVAL;
    mewe_context *ctx = module->ctx;
    if (!path)
        return mewe__error(ctx, MEWE_EINVAL, "mewe_module_write: path is NULL");
    int rc = check_format(ctx, format);
    if (rc != MEWE_OK)
        return rc;
    void *data;
    size_t size;
    rc = serialize(&data, &size, (mewe_module *)module, format);
    if (rc != MEWE_OK)
        return mewe__error(ctx, rc, "out of memory writing '%s'", path);
    rc = mewe__file_write_atomic(ctx, path, data, size);
    free(data);
    return rc;
}

int mewe_module_write_memory(void **out_data, size_t *out_size, const mewe_module *module,
                             mewe_format format)
{
    if (!out_data || !out_size || !module)
        return module
                   ? mewe__error(module->ctx, MEWE_EINVAL, "mewe_module_write_memory: NULL output")
                   : MEWE_EINVAL;
    *out_data = NULL;
    *out_size = 0;
    int rc = check_format(module->ctx, format);
    if (rc != MEWE_OK)
        return rc;
    rc = serialize(out_data, out_size, (mewe_module *)module, format);
    if (rc != MEWE_OK)
        return mewe__error(module->ctx, rc, "out of memory writing '%s'", module->name);
    return MEWE_OK;
}

mewe_context *mewe_module_context(const mewe_module *module)
{
    return module ? module->ctx : NULL;
}

LLVMModuleRef mewe_module_get_llvm(mewe_module *module)
{
    if (!module)
        return NULL;
    /* The caller may change the module through this handle. */
    mewe__module_measure_before(module);
    mewe__module_changed(module);
    module->lent = true;
    return module->llvm;
}

void mewe_module_free(mewe_module *module)
{
    if (!module)
        return;
    mewe_context *ctx = module->ctx;
    if (module->prev)
        module->prev->next = module->next;
    else
        ctx->modules = module->next;
    if (module->next)
        module->next->prev = module->prev;
    mewe__module_changed(module);
    mewe__module_records_clear(module);
    if (module->link)
        free(module->link->rng);
    free(module->link);
    if (module->llvm)
        LLVMDisposeModule(module->llvm);
    free(module->name);
    free(module);
}
