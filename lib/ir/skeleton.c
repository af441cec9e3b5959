/* The reference skeleton of a module (skeleton.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "ir/irutil.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"
#include "ir/skeleton.h"

/* The globals a body names, each once, in the order first met, with the type of the first
 * call of each function called (NULL for a global only named): a call through another type
 * than the declaration's (a K&R declaration, `int f();`) is made the same way again, so
 * that the link sees the same signatures. */
typedef struct refs {
    LLVMValueRef *v;
    LLVMTypeRef *call_type;
    size_t len, cap;
    mewe__ptrmap seen; /* globals and constants already visited */
    bool has_asm;      /* a call of inline assembly was met */
} refs;

static int refs_add(refs *r, LLVMValueRef g, LLVMTypeRef call_type)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        LLVMValueRef *v = realloc(r->v, cap * sizeof *v);
        if (v)
            r->v = v;
        LLVMTypeRef *t = v ? realloc(r->call_type, cap * sizeof *t) : NULL;
        if (!t)
            return -1;
        r->call_type = t;
        r->cap = cap;
    }
    r->v[r->len] = g;
    r->call_type[r->len++] = call_type;
    return 0;
}

/* Collects the globals that value v names, looking into constants (a pointer inside a
 * constant expression or aggregate names its global as well); call_type: v is the callee of
 * a call of that type. */
static int collect(refs *r, LLVMValueRef v, LLVMTypeRef call_type)
{
    if (LLVMGetValueKind(v) == LLVMInlineAsmValueKind)
        r->has_asm = true;
    if (LLVMIsAGlobalValue(v)) {
        if (mewe__ptrmap_get(&r->seen, v))
            return 0;
        if (mewe__ptrmap_put(&r->seen, v, v) != 0)
            return -1;
        if (LLVMIsAFunction(v) && LLVMGetIntrinsicID(v) != 0)
            return 0;
        return refs_add(r, v, LLVMIsAFunction(v) ? call_type : NULL);
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
        if (collect(r, LLVMGetOperand(v, (unsigned)i), NULL) != 0)
            return -1;
    }
    return 0;
}

static int collect_body(refs *r, LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            int n = LLVMGetNumOperands(i);
            /* A call's or invoke's callee is its last operand. */
            bool call = LLVMIsACallInst(i) || LLVMIsAInvokeInst(i);
            for (int k = 0; k < n; k++) {
                LLVMValueRef op = LLVMGetOperand(i, (unsigned)k);
                LLVMTypeRef type = call && k == n - 1 ? LLVMGetCalledFunctionType(i) : NULL;
                if (op && LLVMGetValueKind(op) != LLVMMetadataAsValueValueKind &&
                    collect(r, op, type) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* The new body: a call of each function called (as it was called), a volatile load from each
 * other global named (a byte from memory, which for a function is its address; a wasm
 * global, in another address space, whole), then `unreachable`. -1 when out of memory. */
static int build_body(LLVMBuilderRef b, LLVMValueRef fn, const refs *r)
{
    LLVMContextRef c = LLVMGetModuleContext(LLVMGetGlobalParent(fn));
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, fn, "refs"));
    LLVMTypeRef i8 = LLVMInt8TypeInContext(c);
    for (size_t k = 0; k < r->len; k++) {
        LLVMValueRef g = r->v[k];
        if (g == fn)
            continue;
        if (r->call_type[k]) {
            LLVMTypeRef fty = r->call_type[k];
            unsigned n = LLVMCountParamTypes(fty);
            LLVMTypeRef *params = calloc(n ? n : 1, sizeof *params);
            LLVMValueRef *args = calloc(n ? n : 1, sizeof *args);
            bool ok = params && args;
            if (ok) {
                LLVMGetParamTypes(fty, params);
                /* Frozen: a poison argument to a noundef parameter is undefined behaviour,
                 * and at -O0 the backend then drops the call. */
                for (unsigned p = 0; p < n; p++)
                    args[p] = LLVMBuildFreeze(b, LLVMGetPoison(params[p]), "");
                LLVMValueRef call = LLVMBuildCall2(b, fty, g, args, n, "");
                LLVMSetInstructionCallConv(call, LLVMGetFunctionCallConv(g));
            }
            free(params);
            free(args);
            if (!ok)
                return -1;
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
    return 0;
}

/* What lets the backend drop a call whose result is unused (at -O0 it does, as dead code):
 * the callee only reads memory, or none, and returns. The skeleton's bodies are not the
 * originals, so these promises mean nothing there; they go. */
static void forget_purity(LLVMValueRef fn)
{
    static const char *const kinds[] = {"memory", "readnone", "readonly", "willreturn"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(kinds[i], strlen(kinds[i]));
        if (kind)
            LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
    }
}

static bool is_naked(LLVMValueRef fn)
{
    unsigned kind = LLVMGetEnumAttributeKindForName("naked", 5);
    return kind && LLVMGetEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
}

LLVMModuleRef mewe__module_skeleton(LLVMModuleRef m, bool *has_asm)
{
    size_t asm_len = 0;
    LLVMGetModuleInlineAsm(m, &asm_len);
    *has_asm = asm_len > 0;
    LLVMModuleRef copy = mewe__module_clone(m);
    if (!copy)
        return NULL;
    /* Debug info would only slow the skeleton down, and its calls have no locations, which
     * the verifier requires in a function with debug info. */
    LLVMStripModuleDebugInfo(copy);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetModuleContext(copy));
    refs r = {NULL, NULL, 0, 0, {0}, false};
    bool ok = b != NULL;
    for (LLVMValueRef fn = LLVMGetFirstFunction(copy); fn; fn = LLVMGetNextFunction(fn)) {
        if (LLVMGetIntrinsicID(fn) == 0)
            forget_purity(fn);
    }
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
        ok = build_body(b, fn, &r) == 0;
    }
    mewe__ptrmap_fini(&r.seen);
    free(r.v);
    free(r.call_type);
    *has_asm |= r.has_asm;
    if (b)
        LLVMDisposeBuilder(b);
    if (!ok) {
        LLVMDisposeModule(copy);
        return NULL;
    }
    return copy;
}
