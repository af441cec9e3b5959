/* Shared between variant generation, external variants, linking and the report: how a
 * variant is marked in the IR and how a function's family is found. */
#ifndef MEWE_IR_FAMILY_H
#define MEWE_IR_FAMILY_H

#include "internal.h"

/* String attributes on a variant function: the original's name and the variant's index. */
#define MEWE_ATTR_VARIANT_OF "mewe-variant-of"
#define MEWE_ATTR_VARIANT    "mewe-variant"
/* On a variant made by mewe_generate_variants: the highest cost class of the diversifiers
 * that made it ("free", "cheap", "costly"), which the cost model reads (cost.c). */
#define MEWE_ATTR_COST_CLASS "mewe-cost-class"
/* On a variant made in wasm (variants.c, wasm/derive.h): a stub whose body calls its source,
 * the original or another variant, until emission fills it in the compiled object. */
#define MEWE_ATTR_DERIVED    "mewe-derived"
/* On a dispatcher: its id, and what the cost model planned for it (cost.h). */
#define MEWE_ATTR_DISPATCHER "mewe-dispatcher"
#define MEWE_ATTR_PLAN       "mewe-plan"

/* A dispatcher's id, or -1 when fn is not a dispatcher (or is NULL). */
long mewe__dispatcher_id(LLVMValueRef fn);
/* The cost model's plan of a dispatcher, read back from its attribute (the report describes
 * the module it is given); false when fn has none. */
struct mewe__plan;
bool mewe__dispatcher_plan(LLVMValueRef fn, struct mewe__plan *out);

/* Functions that libmewe or a plugin adds for its own use (RNG state seeding, ...) are named
 * "mewe.*"; they are neither diversified nor listed in the report. */
bool mewe__is_helper(LLVMValueRef fn);

/* The original's name if fn is a variant, else NULL (borrowed from LLVM). */
const char *mewe__variant_of(LLVMValueRef fn, unsigned *len);
/* Marks fn as variant `index` of `original`: name, internal linkage, noinline, attributes. */
void mewe__variant_mark(LLVMValueRef fn, const char *original, unsigned index);

/* The function a variant made in wasm calls until it is filled (its source), or NULL when fn
 * is not such a stub (or NULL). */
LLVMValueRef mewe__derived_source(LLVMValueRef fn);
/* That stub's call of its source, or NULL. */
LLVMValueRef mewe__derived_call(LLVMValueRef fn);

/* Variants of every function, by original name, in index order. */
typedef struct mewe__family {
    char *name;
    LLVMValueRef original;
    LLVMValueRef *variants;
    size_t count, cap;
} mewe__family;

typedef struct mewe__families {
    mewe__family *items;
    size_t count, cap;
} mewe__families;

int mewe__families_collect(mewe__families *out, LLVMModuleRef llvm);
mewe__family *mewe__families_find(mewe__families *f, const char *name);
/* Adds a variant to the family of `original` (made if needed). */
int mewe__families_add(mewe__families *f, LLVMValueRef original, LLVMValueRef variant);
void mewe__families_free(mewe__families *f);

/* How many of a family's variants are stubs of variants made in wasm (0 for NULL). */
size_t mewe__family_stubs(const mewe__family *fam);

/* True when fn's body is structurally identical to the original's or any variant's. */
bool mewe__family_has_shape(const mewe__family *fam, LLVMValueRef fn);

#endif /* MEWE_IR_FAMILY_H */
