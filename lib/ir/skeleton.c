/* The reference skeleton of a module (skeleton.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ir/irutil.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"
#include "ir/skeleton.h"

/* The globals a body names, each once, in the order first met. */
typedef struct refs {
    LLVMValueRef *v;
    size_t len, cap;
    mewe__ptrmap seen; /* globals and constants already visited */
} refs;

static int refs_add(refs *r, LLVMValueRef g)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        LLVMValueRef *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return -1;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->len++] = g;
    return 0;
}

/* Collects the globals that value v names, looking into constants (a pointer inside a
 * constant expression or aggregate names its global as well). */
static int collect(refs *r, LLVMValueRef v)
{
    if (LLVMIsAGlobalValue(v)) {
        if (mewe__ptrmap_get(&r->seen, v))
            return 0;
        if (mewe__ptrmap_put(&r->seen, v, v) != 0)
            return -1;
        if (LLVMIsAFunction(v) && LLVMGetIntrinsicID(v) != 0)
            return 0;
        return refs_add(r, v);
    }
    if (!LLVMIsAConstant(v) || LLVMIsABlockAddress(v) || LLVMIsAConstantInt(v) ||
        LLVMIsAConstantFP(v) || LLVMIsAConstantDataSequential(v) || LLVMIsAUndefValue(v) ||
        LLVMIsAConstantPointerNull(v))
        return 0;
    if (mewe__ptrmap_get(&r->seen, v))
        return 0;
    if (mewe__ptrmap_put(&r->seen, v, v) != 0)
        return -1;
    int n = LLVMGetNumOperands(v);
    for (int i = 0; i < n; i++) {
        if (collect(r, LLVMGetOperand(v, (unsigned)i)) != 0)
            return -1;
    }
    return 0;
}

static int collect_body(refs *r, LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            int n = LLVMGetNumOperands(i);
            for (int k = 0; k < n; k++) {
                LLVMValueRef op = LLVMGetOperand(i, (unsigned)k);
                if (op && LLVMGetValueKind(op) != LLVMMetadataAsValueValueKind &&
                    collect(r, op) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* The new body: a call of each function named, a volatile load from each variable (a byte
 * from memory; a wasm global, in another address space, whole), then `unreachable`. */
static void build_body(LLVMBuilderRef b, LLVMValueRef fn, const refs *r)
{
    LLVMContextRef c = LLVMGetModuleContext(LLVMGetGlobalParent(fn));
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, fn, "refs"));
    LLVMTypeRef i8 = LLVMInt8TypeInContext(c);
    for (size_t k = 0; k < r->len; k++) {
        LLVMValueRef g = r->v[k];
        if (g == fn)
            continue;
        if (LLVMIsAFunction(g)) {
            LLVMTypeRef fty = LLVMGlobalGetValueType(g);
            unsigned n = LLVMCountParamTypes(fty);
            LLVMTypeRef *params = calloc(n ? n : 1, sizeof *params);
            LLVMValueRef *args = calloc(n ? n : 1, sizeof *args);
            if (params && args) {
                LLVMGetParamTypes(fty, params);
                for (unsigned p = 0; p < n; p++)
                    args[p] = LLVMGetPoison(params[p]);
                LLVMValueRef call = LLVMBuildCall2(b, fty, g, args, n, "");
                LLVMSetInstructionCallConv(call, LLVMGetFunctionCallConv(g));
            }
            free(params);
            free(args);
        } else {
            /* A wasm global (another address space) is read whole, if it is a value: a
             * table is left out. */
            LLVMTypeRef type = i8;
            if (LLVMGetPointerAddressSpace(LLVMTypeOf(g)) != 0) {
                type = LLVMGlobalGetValueType(g);
                LLVMTypeKind kind = LLVMGetTypeKind(type);
                if (kind == LLVMArrayTypeKind || kind == LLVMStructTypeKind)
                    continue;
            }
            LLVMSetVolatile(LLVMBuildLoad2(b, type, g, ""), 1);
        }
    }
    LLVMBuildUnreachable(b);
}

static bool is_naked(LLVMValueRef fn)
{
    unsigned kind = LLVMGetEnumAttributeKindForName("naked", 5);
    return kind && LLVMGetEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
}

LLVMModuleRef mewe__module_skeleton(LLVMModuleRef m)
{
    LLVMModuleRef copy = mewe__module_clone(m);
    if (!copy)
        return NULL;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetModuleContext(copy));
    refs r = {NULL, 0, 0, {0}};
    bool ok = b != NULL;
    for (LLVMValueRef fn = LLVMGetFirstFunction(copy); ok && fn; fn = LLVMGetNextFunction(fn)) {
        /* A function whose blocks' addresses are taken (computed goto) keeps its body:
         * deleting it deletes its label tables too, which other bodies may name. */
        if (LLVMIsDeclaration(fn) || is_naked(fn) || mewe__labels_taken(fn))
            continue;
        r.len = 0;
        mewe__ptrmap_fini(&r.seen);
        ok = mewe__ptrmap_init(&r.seen, 64) == 0 && collect_body(&r, fn) == 0;
        if (!ok)
            break;
        mewe__function_delete_body(fn);
        build_body(b, fn, &r);
    }
    mewe__ptrmap_fini(&r.seen);
    free(r.v);
    if (b)
        LLVMDisposeBuilder(b);
    if (!ok) {
        LLVMDisposeModule(copy);
        return NULL;
    }
    return copy;
}
