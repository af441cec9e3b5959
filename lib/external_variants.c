/* mewe_module_add_variants: variants made by other tools (MEWE's linker interface). The other
 * module is reduced to the candidate bodies, renamed as variants, and everything they refer to
 * is made to resolve to the original module's own definitions by name; LLVM's module linker
 * then merges the two. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Comdat.h>
#include <llvm-c/Linker.h>

#include "ir/clone.h"
#include "ir/irutil.h"
#include "ir/eligibility.h"
#include "ir/labels.h"
#include "ir/family.h"
#include "util/array.h"

#define EXT_PREFIX "mewe.ext."

typedef struct names {
    char **items;
    size_t count, cap;
} names;

static int names_add(names *n, const char *s, size_t len)
{
    char *copy = mewe__printf("%.*s", (int)len, s);
    if (copy && MEWE__ARRAY_PUSH(n->items, n->count, n->cap, copy))
        return MEWE_OK;
    free(copy);
    return MEWE_ENOMEM;
}

static void names_free(names *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->items[i]);
    free(n->items);
}

static bool is_local(LLVMValueRef g)
{
    LLVMLinkage l = LLVMGetLinkage(g);
    return l == LLVMInternalLinkage || l == LLVMPrivateLinkage;
}

/* Two modules loaded into one context get distinct named struct types for the same C struct
 * (%struct.s and %struct.s.0); the linker maps such isomorphic types onto each other, so
 * they count as the same here. */
static bool same_type(LLVMTypeRef a, LLVMTypeRef b, int depth)
{
    if (a == b)
        return true;
    LLVMTypeKind k = LLVMGetTypeKind(a);
    if (depth > 16 || k != LLVMGetTypeKind(b))
        return false;
    if (k == LLVMArrayTypeKind || k == LLVMVectorTypeKind) {
        bool same_len = k == LLVMArrayTypeKind ? LLVMGetArrayLength2(a) == LLVMGetArrayLength2(b)
                                               : LLVMGetVectorSize(a) == LLVMGetVectorSize(b);
        return same_len && same_type(LLVMGetElementType(a), LLVMGetElementType(b), depth + 1);
    }
    if (k == LLVMStructTypeKind) {
        unsigned n = LLVMCountStructElementTypes(a);
        if (n != LLVMCountStructElementTypes(b) || LLVMIsPackedStruct(a) != LLVMIsPackedStruct(b))
            return false;
        for (unsigned i = 0; i < n; i++) {
            if (!same_type(LLVMStructGetTypeAtIndex(a, i), LLVMStructGetTypeAtIndex(b, i),
                           depth + 1))
                return false;
        }
        return true;
    }
    if (k == LLVMFunctionTypeKind) {
        unsigned n = LLVMCountParamTypes(a);
        if (n != LLVMCountParamTypes(b) || LLVMIsFunctionVarArg(a) != LLVMIsFunctionVarArg(b) ||
            !same_type(LLVMGetReturnType(a), LLVMGetReturnType(b), depth + 1))
            return false;
        LLVMTypeRef pa[64], pb[64];
        if (n > 64)
            return false;
        LLVMGetParamTypes(a, pa);
        LLVMGetParamTypes(b, pb);
        for (unsigned i = 0; i < n; i++) {
            if (!same_type(pa[i], pb[i], depth + 1))
                return false;
        }
        return true;
    }
    return false;
}

/* The name of the function of `orig` that g may become a variant of: its own name, or, for a
 * variant that another libmewe run marked, the name of its original. */
static char *target_name(LLVMValueRef g)
{
    unsigned vlen;
    const char *of = mewe__variant_of(g, &vlen);
    if (of)
        return mewe__printf("%.*s", (int)vlen, of);
    size_t len;
    const char *name = LLVMGetValueName2(g, &len);
    return mewe__printf("%.*s", (int)len, name);
}

/* A function of `ext` that may become a variant of a function of `orig`. */
static bool is_candidate(LLVMModuleRef orig, LLVMValueRef g, const char *name)
{
    LLVMValueRef f = name ? LLVMGetNamedFunction(orig, name) : NULL;
    unsigned vlen;
    return f && !LLVMIsDeclaration(f) && !LLVMIsDeclaration(g) && !mewe__variant_of(f, &vlen) &&
           same_type(LLVMGlobalGetValueType(f), LLVMGlobalGetValueType(g), 0) &&
           !mewe__function_ineligible_reason(f) && !mewe__function_ineligible_reason(g);
}

/* Copies each candidate body into a fresh function marked as a variant; the candidate itself
 * becomes a declaration below, so calls in the copies reach the original's dispatcher. */
static int copy_candidates(mewe_context *ctx, LLVMModuleRef orig, LLVMModuleRef ext, names *added)
{
    /* The copies are appended to ext: stop at the last function that was there before. */
    LLVMValueRef last = LLVMGetLastFunction(ext), next;
    for (LLVMValueRef g = LLVMGetFirstFunction(ext); g; g = g == last ? NULL : next) {
        next = LLVMGetNextFunction(g);
        char *orig_name = target_name(g);
        if (!is_candidate(orig, g, orig_name)) {
            free(orig_name);
            continue;
        }
        char tmp[64];
        snprintf(tmp, sizeof tmp, EXT_PREFIX "%zu", added->count);
        LLVMValueRef copy;
        int rc = mewe__function_clone(&copy, ctx, g, tmp);
        if (rc != MEWE_OK) {
            free(orig_name);
            return rc;
        }
        if (!orig_name || names_add(added, tmp, strlen(tmp)) != MEWE_OK) {
            free(orig_name);
            return mewe__error(ctx, MEWE_ENOMEM, "out of memory");
        }
        /* External for the merge (the linker drops unreferenced local definitions); the
         * variant is made internal when adopted. */
        LLVMSetLinkage(copy, LLVMExternalLinkage);
        LLVMSetVisibility(copy, LLVMHiddenVisibility);
        mewe__fn_string_attr_set(copy, MEWE_ATTR_VARIANT_OF, orig_name);
        free(orig_name);
    }
    return MEWE_OK;
}

static void make_declaration(LLVMValueRef g, bool function)
{
    if (function) {
        /* Not block by block: a block still branched to, or whose address is taken, must
         * not go first. */
        mewe__function_delete_body(g);
        if (LLVMHasPersonalityFn(g))
            LLVMSetPersonalityFn(g, NULL);
    } else {
        LLVMSetInitializer(g, NULL);
    }
    LLVMSetComdat(g, NULL);
    LLVMGlobalClearMetadata(g);
    LLVMSetLinkage(g, LLVMExternalLinkage);
    LLVMSetVisibility(g, LLVMDefaultVisibility);
}

/* Functions of ext other than the copies: defined in orig → declarations resolving to it;
 * local helpers orig lacks stay as private copies (code has no state to duplicate). */
static void reduce_functions(LLVMModuleRef orig, LLVMModuleRef ext)
{
    LLVMValueRef next;
    for (LLVMValueRef g = LLVMGetFirstFunction(ext); g; g = next) {
        next = LLVMGetNextFunction(g);
        size_t len;
        unsigned vlen;
        const char *name = LLVMGetValueName2(g, &len);
        if (LLVMIsDeclaration(g) || strncmp(name, EXT_PREFIX, strlen(EXT_PREFIX)) == 0)
            continue;
        if (mewe__variant_of(g, &vlen) && !mewe__function_has_users(g)) {
            mewe__function_delete(g); /* copied above when it was a candidate */
            continue;
        }
        if (is_local(g) && !LLVMGetNamedFunction(orig, name))
            continue;
        make_declaration(g, true);
    }
    /* LLVM-C cannot delete an alias; linkonce makes the linker take it only when something
     * refers to it, and then the original's strong definition of the name wins. */
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(ext); a; a = LLVMGetNextGlobalAlias(a)) {
        LLVMSetLinkage(a, LLVMLinkOnceAnyLinkage);
        LLVMSetVisibility(a, LLVMDefaultVisibility);
    }
}

static bool same_constant(LLVMValueRef a, LLVMValueRef b, int depth);

/* Globals of the two modules are the same when their names agree and, for local constant
 * data (whose names are arbitrary), their contents agree too. */
static bool same_global(LLVMValueRef a, LLVMValueRef b, int depth)
{
    size_t la, lb;
    const char *na = LLVMGetValueName2(a, &la), *nb = LLVMGetValueName2(b, &lb);
    if (la != lb || memcmp(na, nb, la) != 0 ||
        !same_type(LLVMGlobalGetValueType(a), LLVMGlobalGetValueType(b), 0))
        return false;
    if (!LLVMIsAGlobalVariable(a) || !LLVMIsAGlobalVariable(b))
        return true;
    /* A declaration in ext resolves by name to orig's global once the modules are linked. */
    if (!is_local(a) || !LLVMIsGlobalConstant(a) || LLVMIsDeclaration(a) || LLVMIsDeclaration(b))
        return true;
    return LLVMIsGlobalConstant(b) &&
           same_constant(LLVMGetInitializer(a), LLVMGetInitializer(b), depth + 1);
}

/* Structural equality of constants across two modules of one context: LLVM uniques
 * constants, so only those that refer to globals can differ in identity alone. */
static bool same_constant(LLVMValueRef a, LLVMValueRef b, int depth)
{
    if (a == b)
        return true;
    if (!a || !b || depth > 16 || !same_type(LLVMTypeOf(a), LLVMTypeOf(b), 0))
        return false;
    if (LLVMIsAGlobalValue(a) || LLVMIsAGlobalValue(b))
        return LLVMIsAGlobalValue(a) && LLVMIsAGlobalValue(b) && same_global(a, b, depth);
    if (LLVMGetValueKind(a) != LLVMGetValueKind(b))
        return false;
    if (LLVMIsAConstantExpr(a) && LLVMGetConstOpcode(a) != LLVMGetConstOpcode(b))
        return false;
    if (!LLVMIsAConstantExpr(a) && !LLVMIsAConstantArray(a) && !LLVMIsAConstantStruct(a) &&
        !LLVMIsAConstantVector(a))
        return false; /* other kinds are uniqued by value: a != b means they differ */
    int n = LLVMGetNumOperands(a);
    if (n != LLVMGetNumOperands(b))
        return false;
    for (int i = 0; i < n; i++) {
        if (!same_constant(LLVMGetOperand(a, (unsigned)i), LLVMGetOperand(b, (unsigned)i),
                           depth + 1))
            return false;
    }
    return true;
}

/* Constant data equal to the original's resolves to it, so that a body identical to the
 * original's compares equal; other constant data is copied. Mutable data must resolve to
 * the original's: a copy would split the program's state in two. */
static int reduce_globals(mewe_context *ctx, LLVMModuleRef orig, LLVMModuleRef ext,
                          const char *ext_name)
{
    LLVMValueRef next;
    for (LLVMValueRef g = LLVMGetFirstGlobal(ext); g; g = next) {
        next = LLVMGetNextGlobal(g);
        if (!LLVMGetFirstUse(g)) {
            LLVMDeleteGlobal(g);
            continue;
        }
        if (LLVMIsDeclaration(g))
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(g, &len);
        LLVMValueRef mine = LLVMGetNamedGlobal(orig, name);
        bool same_const = mine && LLVMIsGlobalConstant(g) && same_global(g, mine, 0);
        if (LLVMIsGlobalConstant(g) && is_local(g) && !same_const)
            continue;
        if (!mine)
            return mewe__error(ctx, MEWE_ELINK,
                               "'%s' uses global '%.*s', which the original "
                               "module lacks",
                               ext_name, (int)len, name);
        make_declaration(g, false);
    }
    return MEWE_OK;
}

/* Local definitions of orig that ext now refers to by name are made visible to the linker
 * for the merge, and made local again afterwards. */
/* Makes `mine`, orig's definition of what the declaration g of ext names, visible if it is
 * local, and remembers its name. */
static int promote_one(LLVMValueRef g, LLVMValueRef mine, names *promoted)
{
    if (!LLVMIsDeclaration(g) || !mine || !is_local(mine))
        return MEWE_OK;
    size_t len;
    const char *name = LLVMGetValueName2(g, &len);
    if (names_add(promoted, name, len) != MEWE_OK)
        return MEWE_ENOMEM;
    LLVMSetLinkage(mine, LLVMExternalLinkage);
    LLVMSetVisibility(mine, LLVMHiddenVisibility);
    return MEWE_OK;
}

static const char *name_of(LLVMValueRef g)
{
    size_t len;
    return LLVMGetValueName2(g, &len);
}

static int promote(LLVMModuleRef orig, LLVMModuleRef ext, names *promoted)
{
    int rc = MEWE_OK;
    for (LLVMValueRef g = LLVMGetFirstFunction(ext); rc == MEWE_OK && g; g = LLVMGetNextFunction(g))
        rc = promote_one(g, LLVMGetNamedFunction(orig, name_of(g)), promoted);
    for (LLVMValueRef g = LLVMGetFirstGlobal(ext); rc == MEWE_OK && g; g = LLVMGetNextGlobal(g))
        rc = promote_one(g, LLVMGetNamedGlobal(orig, name_of(g)), promoted);
    return rc;
}

static void demote(LLVMModuleRef m, const names *promoted)
{
    for (size_t i = 0; i < promoted->count; i++) {
        LLVMValueRef g = LLVMGetNamedFunction(m, promoted->items[i]);
        if (!g)
            g = LLVMGetNamedGlobal(m, promoted->items[i]);
        if (g) {
            LLVMSetLinkage(g, LLVMInternalLinkage);
            LLVMSetVisibility(g, LLVMDefaultVisibility);
        }
    }
}

/* Keeps each added body that differs from its family's, numbering it after the others. */
static int adopt(mewe_context *ctx, LLVMModuleRef m, const names *added, size_t *kept)
{
    mewe__families fams;
    if (mewe__families_collect(&fams, m) != MEWE_OK)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    *kept = 0;
    for (size_t i = 0; i < added->count; i++) {
        LLVMValueRef v = LLVMGetNamedFunction(m, added->items[i]);
        unsigned len;
        const char *of = v ? mewe__variant_of(v, &len) : NULL;
        char *orig = of ? mewe__printf("%.*s", (int)len, of) : NULL;
        mewe__family *fam = orig ? mewe__families_find(&fams, orig) : NULL;
        if (!fam) {
            free(orig);
            continue;
        }
        unsigned index = 1;
        for (size_t k = 0; k < fam->count; k++) {
            size_t nlen;
            const char *vn = LLVMGetValueName2(fam->variants[k], &nlen);
            bool pending = strncmp(vn, EXT_PREFIX, strlen(EXT_PREFIX)) == 0;
            index += !pending;
        }
        if (mewe__family_has_shape(fam, v)) {
            /* Removed from the family first, so later shape checks skip it. */
            for (size_t k = 0; k < fam->count; k++) {
                if (fam->variants[k] == v)
                    fam->variants[k] = fam->variants[--fam->count];
            }
            LLVMDeleteFunction(v);
        } else {
            mewe__variant_mark(v, orig, index);
            (*kept)++;
        }
        free(orig);
    }
    mewe__families_free(&fams);
    return MEWE_OK;
}

static int merge(mewe_module *module, LLVMModuleRef ext, const char *ext_name, size_t *kept)
{
    mewe_context *ctx = module->ctx;
    LLVMModuleRef merged = mewe__module_clone(module->llvm);
    names added = {0}, promoted = {0};
    int rc = merged ? copy_candidates(ctx, merged, ext, &added)
                    : mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (rc == MEWE_OK) {
        reduce_functions(merged, ext);
        rc = reduce_globals(ctx, merged, ext, ext_name);
    }
    if (rc == MEWE_OK && promote(merged, ext, &promoted) != MEWE_OK)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (rc == MEWE_OK) {
        mewe__diag_clear(ctx);
        LLVMBool failed = LLVMLinkModules2(merged, ext); /* consumes ext */
        ext = NULL;
        if (failed) {
            char *diag = mewe__diag_take(ctx);
            rc = mewe__error(ctx, MEWE_ELINK, "cannot merge variants from '%s': %s", ext_name,
                             diag ? diag : "link error");
            free(diag);
        }
    }
    if (rc == MEWE_OK) {
        demote(merged, &promoted);
        rc = adopt(ctx, merged, &added, kept);
    }
    if (rc == MEWE_OK) {
        char *what = mewe__printf("'%s' with the variants of '%s'", module->name, ext_name);
        rc =
            what ? mewe__verify(ctx, merged, what) : mewe__error(ctx, MEWE_ENOMEM, "out of memory");
        free(what);
    }
    if (rc == MEWE_OK) {
        LLVMDisposeModule(module->llvm);
        module->llvm = merged;
        merged = NULL;
        mewe__module_changed(module);
    }
    if (merged)
        LLVMDisposeModule(merged);
    if (ext)
        LLVMDisposeModule(ext);
    names_free(&added);
    names_free(&promoted);
    return rc;
}

int mewe_module_add_variants(size_t *out_added, mewe_module *module, mewe_module *variants)
{
    if (out_added)
        *out_added = 0;
    int rc = mewe__module_pair_check(module, variants, "mewe_module_add_variants",
                                     "a module cannot add its own variants");
    if (rc != MEWE_OK)
        return rc;
    mewe_context *ctx = module->ctx;
    if (module->multivariant) {
        mewe_module_free(variants);
        return mewe__error(ctx, MEWE_ESTATE,
                           "'%s' is already multivariant: add variants "
                           "before mewe_link_multivariant",
                           module->name);
    }
    mewe__module_measure_before(module);
    char *ext_name = mewe__strdup(variants->name);
    LLVMModuleRef ext = variants->llvm;
    variants->llvm = NULL;
    mewe_module_free(variants);
    if (!ext_name) {
        LLVMDisposeModule(ext);
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    }
    size_t kept = 0;
    rc = merge(module, ext, ext_name, &kept);
    free(ext_name);
    if (rc == MEWE_OK && out_added)
        *out_added = kept;
    return rc;
}
