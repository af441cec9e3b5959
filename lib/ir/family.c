/* Variant families: which functions are variants of which, read from the IR's marks so that
 * a module written out and loaded again still knows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/cost.h"
#include "ir/family.h"
#include "ir/fnshape.h"
#include "ir/irutil.h"
#include "util/array.h"

bool mewe__is_helper(LLVMValueRef fn)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    return len > 5 && memcmp(name, "mewe.", 5) == 0;
}

const char *mewe__variant_of(LLVMValueRef fn, unsigned *len)
{
    return mewe__fn_string_attr_get(fn, MEWE_ATTR_VARIANT_OF, len);
}

/* A small decimal number kept in a string attribute, or -1 when fn lacks it. */
static long attr_number(LLVMValueRef fn, const char *key)
{
    unsigned len;
    const char *v = mewe__fn_string_attr_get(fn, key, &len);
    char buf[16];
    if (!v || len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return strtol(buf, NULL, 10);
}

long mewe__dispatcher_id(LLVMValueRef fn)
{
    return attr_number(fn, MEWE_ATTR_DISPATCHER);
}

bool mewe__dispatcher_plan(LLVMValueRef fn, mewe__plan *out)
{
    unsigned len;
    const char *v = mewe__fn_string_attr_get(fn, MEWE_ATTR_PLAN, &len);
    return v && mewe__plan_parse(out, v, len);
}

void mewe__variant_mark(LLVMValueRef fn, const char *original, unsigned index)
{
    char name[64];
    size_t olen = strlen(original);
    char *full = malloc(olen + sizeof name);
    snprintf(name, sizeof name, "%u", index);
    if (full) {
        snprintf(full, olen + sizeof name, "%s.mewe.v%u", original, index);
        LLVMSetValueName2(fn, full, strlen(full));
        free(full);
    }
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMSetVisibility(fn, LLVMDefaultVisibility);
    LLVMSetDLLStorageClass(fn, LLVMDefaultStorageClass);
    LLVMSetUnnamedAddress(fn, LLVMNoUnnamedAddr);
    /* Variants must stay separate functions: an inlined variant is no longer a choice. */
    mewe__fn_enum_attr_set(fn, "alwaysinline", false);
    mewe__fn_enum_attr_set(fn, "noinline", true);
    mewe__fn_string_attr_set(fn, MEWE_ATTR_VARIANT_OF, original);
    mewe__fn_string_attr_set(fn, MEWE_ATTR_VARIANT, name);
}

LLVMValueRef mewe__derived_call(LLVMValueRef fn)
{
    unsigned len;
    if (!fn || !mewe__fn_string_attr_get(fn, MEWE_ATTR_DERIVED, &len) || LLVMIsDeclaration(fn))
        return NULL;
    for (LLVMValueRef i = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(fn)); i;
         i = LLVMGetNextInstruction(i)) {
        if (LLVMIsACallInst(i))
            return LLVMIsAFunction(LLVMGetCalledValue(i)) ? i : NULL;
    }
    return NULL;
}

LLVMValueRef mewe__derived_source(LLVMValueRef fn)
{
    LLVMValueRef call = mewe__derived_call(fn);
    return call ? LLVMGetCalledValue(call) : NULL;
}

size_t mewe__family_stubs(const mewe__family *fam)
{
    size_t n = 0;
    for (size_t k = 0; fam && k < fam->count; k++)
        n += mewe__derived_source(fam->variants[k]) != NULL;
    return n;
}

static unsigned variant_index(LLVMValueRef fn)
{
    long n = attr_number(fn, MEWE_ATTR_VARIANT);
    return n > 0 ? (unsigned)n : 0;
}

mewe__family *mewe__families_find(mewe__families *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++) {
        if (strcmp(f->items[i].name, name) == 0)
            return &f->items[i];
    }
    return NULL;
}

static mewe__family *family_get(mewe__families *f, const char *name, size_t len)
{
    for (size_t i = 0; i < f->count; i++) {
        if (strlen(f->items[i].name) == len && memcmp(f->items[i].name, name, len) == 0)
            return &f->items[i];
    }
    mewe__family fam = {.name = mewe__printf("%.*s", (int)len, name)};
    if (!fam.name || !MEWE__ARRAY_PUSH(f->items, f->count, f->cap, fam)) {
        free(fam.name);
        return NULL;
    }
    return &f->items[f->count - 1];
}

static int family_push(mewe__family *fam, LLVMValueRef v)
{
    return MEWE__ARRAY_PUSH(fam->variants, fam->count, fam->cap, v) ? MEWE_OK : MEWE_ENOMEM;
}

int mewe__families_add(mewe__families *f, LLVMValueRef original, LLVMValueRef variant)
{
    size_t len;
    const char *name = LLVMGetValueName2(original, &len);
    mewe__family *fam = family_get(f, name, len);
    if (!fam)
        return MEWE_ENOMEM;
    fam->original = original;
    return family_push(fam, variant);
}

static int by_index(const void *a, const void *b)
{
    unsigned ia = variant_index(*(const LLVMValueRef *)a);
    unsigned ib = variant_index(*(const LLVMValueRef *)b);
    return (ia > ib) - (ia < ib);
}

int mewe__families_collect(mewe__families *out, LLVMModuleRef llvm)
{
    memset(out, 0, sizeof *out);
    for (LLVMValueRef fn = LLVMGetFirstFunction(llvm); fn; fn = LLVMGetNextFunction(fn)) {
        unsigned len;
        const char *of = mewe__variant_of(fn, &len);
        if (!of)
            continue;
        mewe__family *fam = family_get(out, of, len);
        if (!fam || family_push(fam, fn) != MEWE_OK) {
            mewe__families_free(out);
            return MEWE_ENOMEM;
        }
    }
    for (size_t i = 0; i < out->count; i++) {
        mewe__family *fam = &out->items[i];
        fam->original = LLVMGetNamedFunction(llvm, fam->name);
        qsort(fam->variants, fam->count, sizeof *fam->variants, by_index);
    }
    return MEWE_OK;
}

void mewe__families_free(mewe__families *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->items[i].name);
        free(f->items[i].variants);
    }
    free(f->items);
    memset(f, 0, sizeof *f);
}

bool mewe__family_has_shape(const mewe__family *fam, LLVMValueRef fn)
{
    if (fam->original && !LLVMIsDeclaration(fam->original) &&
        mewe__function_shape_equal(fam->original, fn))
        return true;
    for (size_t i = 0; i < fam->count; i++) {
        if (fam->variants[i] != fn && mewe__function_shape_equal(fam->variants[i], fn))
            return true;
    }
    return false;
}
