/* Variant families: which functions are variants of which, read from the IR's marks so that
 * a module written out and loaded again still knows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/fnshape.h"
#include "ir/irutil.h"
#include "ir/family.h"

bool mewe__is_helper(LLVMValueRef fn)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    return len > 5 && memcmp(name, "mewe.", 5) == 0;
}

const char *mewe__variant_of(LLVMValueRef fn, unsigned *len)
{
    LLVMAttributeRef a =
        LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, MEWE_ATTR_VARIANT_OF,
                                      (unsigned)strlen(MEWE_ATTR_VARIANT_OF));
    if (!a)
        return NULL;
    return LLVMGetStringAttributeValue(a, len);
}

static void add_string_attr(LLVMValueRef fn, const char *key, const char *value)
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMAttributeRef a =
        LLVMCreateStringAttribute(c, key, (unsigned)strlen(key), value, (unsigned)strlen(value));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
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
    add_string_attr(fn, MEWE_ATTR_VARIANT_OF, original);
    add_string_attr(fn, MEWE_ATTR_VARIANT, name);
}

static unsigned variant_index(LLVMValueRef fn)
{
    LLVMAttributeRef a = LLVMGetStringAttributeAtIndex(
        fn, LLVMAttributeFunctionIndex, MEWE_ATTR_VARIANT, (unsigned)strlen(MEWE_ATTR_VARIANT));
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    char buf[16];
    if (!v || len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return (unsigned)strtoul(buf, NULL, 10);
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
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        mewe__family *items = realloc(f->items, cap * sizeof *items);
        if (!items)
            return NULL;
        f->items = items;
        f->cap = cap;
    }
    mewe__family *fam = &f->items[f->count];
    memset(fam, 0, sizeof *fam);
    fam->name = malloc(len + 1);
    if (!fam->name)
        return NULL;
    memcpy(fam->name, name, len);
    fam->name[len] = '\0';
    f->count++;
    return fam;
}

static int family_push(mewe__family *fam, LLVMValueRef v)
{
    if (fam->count == fam->cap) {
        size_t cap = fam->cap ? fam->cap * 2 : 4;
        LLVMValueRef *vs = realloc(fam->variants, cap * sizeof *vs);
        if (!vs)
            return MEWE_ENOMEM;
        fam->variants = vs;
        fam->cap = cap;
    }
    fam->variants[fam->count++] = v;
    return MEWE_OK;
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
