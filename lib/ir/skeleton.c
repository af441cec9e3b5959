/* The reference skeleton of a module (skeleton.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "ir/eligibility.h"
#include "ir/irutil.h"
#include "ir/labels.h"
#include "ir/ptrmap.h"
#include "ir/skeleton.h"
#include "util/array.h"

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

bool mewe__implicit_callee(const char *name, size_t len)
{
    /* Memory copies, the C library's mathematics (an `f` or `l` suffix for float and long
     * double), what the fortified calls become (__strcpy_chk with an unknown size is
     * strcpy), and compiler-rt's and the unwinder's helpers ("__...", "_Unwind_..."). */
    static const char *const names[] = {
        "memcpy",    "memmove",  "memset",       "memcmp",       "bcmp",      "memccpy",
        "sin",       "cos",      "tan",          "asin",         "acos",      "atan",
        "atan2",     "sinh",     "cosh",         "tanh",         "asinh",     "acosh",
        "atanh",     "pow",      "exp",          "exp2",         "exp10",     "expm1",
        "log",       "log2",     "log10",        "log1p",        "fma",       "fmod",
        "remainder", "ldexp",    "frexp",        "lround",       "llround",   "lrint",
        "llrint",    "rint",     "nearbyint",    "round",        "roundeven", "trunc",
        "floor",     "ceil",     "sqrt",         "copysign",     "fmin",      "fmax",
        "fminimum",  "fmaximum", "fminimum_num", "fmaximum_num", "sincos",    "cbrt",
        "hypot",     "modf",     "scalbn",       "ilogb",        "logb",      "strcpy",
        "stpcpy",    "strncpy",  "stpncpy",      "strcat",       "strncat",   "strlcpy",
        "strlcat",   "sprintf",  "snprintf",     "vsprintf",     "vsnprintf",
    };
    if ((len >= 2 && name[0] == '_' && name[1] == '_') ||
        (len >= 8 && strncmp(name, "_Unwind_", 8) == 0))
        return true;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(name, names[i], n) == 0 &&
            (len == n || (len == n + 1 && (name[n] == 'f' || name[n] == 'l'))))
            return true;
    }
    return false;
}

/* The search for what still names a function left out: `out` maps each candidate to 1
 * while it may be left out, to 2 once something compiled names it; `todo` holds the
 * functions kept whose bodies are still to be read. */
typedef struct needless {
    mewe__ptrmap state;
    mewe__ptrmap seen; /* constants already read */
    LLVMValueRef *todo;
    size_t todo_len, todo_cap;
    bool follow_globals; /* a variable or alias met is read then (else all are, up front) */
} needless;

#define MAY_GO ((void *)1)
#define NEEDED ((void *)2)

/* Reads a value for functions it names, into constants. -1 when out of memory. */
static int needless_read(needless *s, LLVMValueRef v)
{
    if (LLVMIsAFunction(v)) {
        if (mewe__ptrmap_get(&s->state, v) != MAY_GO)
            return 0;
        if (mewe__ptrmap_put(&s->state, v, NEEDED) != MEWE_OK)
            return -1;
        return MEWE__ARRAY_PUSH(s->todo, s->todo_len, s->todo_cap, v) ? 0 : -1;
    }
    if (s->follow_globals && (LLVMIsAGlobalVariable(v) || LLVMIsAGlobalAlias(v))) {
        if (mewe__ptrmap_get(&s->seen, v))
            return 0;
        if (mewe__ptrmap_put(&s->seen, v, v) != MEWE_OK)
            return -1;
        LLVMValueRef to = LLVMIsAGlobalAlias(v)  ? LLVMAliasGetAliasee(v)
                          : LLVMIsDeclaration(v) ? NULL
                                                 : LLVMGetInitializer(v);
        return to ? needless_read(s, to) : 0;
    }
    if (!LLVMIsAConstant(v) || LLVMIsAGlobalValue(v) || LLVMIsAConstantInt(v) ||
        LLVMIsAConstantFP(v) || LLVMIsAConstantDataSequential(v) || LLVMIsAUndefValue(v) ||
        LLVMIsAConstantPointerNull(v) || mewe__ptrmap_get(&s->seen, v))
        return 0;
    if (mewe__ptrmap_put(&s->seen, v, v) != MEWE_OK)
        return -1;
    int n = LLVMGetNumOperands(v);
    for (int i = 0; i < n; i++) {
        if (needless_read(s, LLVMGetOperand(v, (unsigned)i)) != 0)
            return -1;
    }
    return 0;
}

static int needless_body(needless *s, LLVMValueRef fn)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
            int n = LLVMGetNumOperands(i);
            for (int k = 0; k < n; k++) {
                LLVMValueRef op = LLVMGetOperand(i, (unsigned)k);
                if (op && LLVMGetValueKind(op) != LLVMMetadataAsValueValueKind &&
                    needless_read(s, op) != 0)
                    return -1;
            }
        }
    }
    /* A personality function is named outside the body. */
    if (LLVMHasPersonalityFn(fn) && needless_read(s, LLVMGetPersonalityFn(fn)) != 0)
        return -1;
    return 0;
}

static bool marked_with(LLVMValueRef fn, const char *key)
{
    LLVMAttributeRef a = LLVMGetStringAttributeAtIndex(
        fn, LLVMAttributeFunctionIndex, MEWE__ATTR_UNLINKED, sizeof MEWE__ATTR_UNLINKED - 1);
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    return v && len == strlen(key) && memcmp(v, key, len) == 0;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int needless_search(needless *s, LLVMModuleRef m, const char *key,
                           bool (*keep_fn)(const char *name, void *data), void *data,
                           size_t *candidates)
{
    *candidates = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        if (LLVMIsDeclaration(f) || !marked_with(f, key) || mewe__implicit_callee(name, len) ||
            (keep_fn && keep_fn(name, data)))
            continue;
        if (mewe__ptrmap_put(&s->state, f, MAY_GO) != MEWE_OK)
            return -1;
        ++*candidates;
    }
    if (*candidates == 0)
        return 0;
    for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g)) {
        LLVMValueRef init = LLVMIsDeclaration(g) ? NULL : LLVMGetInitializer(g);
        if (init && needless_read(s, init) != 0)
            return -1;
    }
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(m); a; a = LLVMGetNextGlobalAlias(a)) {
        if (needless_read(s, LLVMAliasGetAliasee(a)) != 0)
            return -1;
    }
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (!LLVMIsDeclaration(f) && mewe__ptrmap_get(&s->state, f) != MAY_GO &&
            needless_body(s, f) != 0)
            return -1;
    }
    while (s->todo_len > 0) {
        if (needless_body(s, s->todo[--s->todo_len]) != 0)
            return -1;
    }
    return 0;
}

int mewe__unlinked_needless(LLVMModuleRef m, const char *key,
                            bool (*keep_fn)(const char *name, void *data), void *data,
                            char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    if (!key || !key[0])
        return MEWE_OK;
    needless s = {{0}, {0}, NULL, 0, 0, false};
    size_t candidates = 0;
    int rc = mewe__ptrmap_init(&s.state, 256) == MEWE_OK &&
                     mewe__ptrmap_init(&s.seen, 256) == MEWE_OK &&
                     needless_search(&s, m, key, keep_fn, data, &candidates) == 0
                 ? MEWE_OK
                 : MEWE_ENOMEM;
    char **out = rc == MEWE_OK && candidates ? calloc(candidates, sizeof *out) : NULL;
    size_t n = 0;
    for (LLVMValueRef f = out ? LLVMGetFirstFunction(m) : NULL; f; f = LLVMGetNextFunction(f)) {
        if (mewe__ptrmap_get(&s.state, f) != MAY_GO)
            continue;
        size_t len;
        const char *name = LLVMGetValueName2(f, &len);
        if (!(out[n] = malloc(len + 1))) {
            rc = MEWE_ENOMEM;
            break;
        }
        memcpy(out[n], name, len);
        out[n++][len] = '\0';
    }
    if (rc == MEWE_OK && candidates && !out)
        rc = MEWE_ENOMEM;
    mewe__ptrmap_fini(&s.state);
    mewe__ptrmap_fini(&s.seen);
    free(s.todo);
    if (rc != MEWE_OK) {
        for (size_t i = 0; i < n; i++)
            free(out[i]);
        free(out);
        return rc;
    }
    if (n)
        qsort(out, n, sizeof *out, by_str);
    else {
        free(out);
        out = NULL;
    }
    *names = out;
    *count = n;
    return MEWE_OK;
}

/* Whether the link keeps fn whatever calls it: where a command's (else a reactor's) link
 * starts, or a function it exports. */
static bool is_root(LLVMValueRef fn, bool command, bool (*keep_fn)(const char *name, void *data),
                    void *data)
{
    static const char *const entries[] = {"main", "__main_argc_argv", "__main_void", "_start"};
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    for (size_t i = 0; command && i < sizeof entries / sizeof *entries; i++) {
        if (strcmp(name, entries[i]) == 0)
            return true;
    }
    static const char export_attr[] = "wasm-export-name";
    return (!command && strcmp(name, "_initialize") == 0) || (keep_fn && keep_fn(name, data)) ||
           LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, export_attr,
                                         sizeof export_attr - 1);
}

/* Marks what the link's roots reach (mewe__all_reached). */
static int reach_search(needless *s, LLVMModuleRef m, bool command,
                        bool (*keep_fn)(const char *name, void *data), void *data)
{
    static const char *const lists[] = {"llvm.used", "llvm.compiler.used", "llvm.global_ctors",
                                        "llvm.global_dtors"};
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f) || LLVMGetLinkage(f) == LLVMAvailableExternallyLinkage)
            continue;
        if (mewe__ptrmap_put(&s->state, f, MAY_GO) != MEWE_OK)
            return -1;
    }
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (mewe__ptrmap_get(&s->state, f) == MAY_GO && is_root(f, command, keep_fn, data) &&
            needless_read(s, f) != 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        LLVMValueRef g = LLVMGetNamedGlobal(m, lists[i]);
        if (g && needless_read(s, g) != 0)
            return -1;
    }
    while (s->todo_len > 0) {
        if (needless_body(s, s->todo[--s->todo_len]) != 0)
            return -1;
    }
    return 0;
}

int mewe__all_reached(LLVMModuleRef m, bool command, bool (*keep_fn)(const char *name, void *data),
                      void *data, bool *all)
{
    *all = false;
    needless s = {{0}, {0}, NULL, 0, 0, true};
    int rc = mewe__ptrmap_init(&s.state, 256) == MEWE_OK &&
                     mewe__ptrmap_init(&s.seen, 256) == MEWE_OK &&
                     reach_search(&s, m, command, keep_fn, data) == 0
                 ? MEWE_OK
                 : MEWE_ENOMEM;
    size_t left = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); rc == MEWE_OK && f; f = LLVMGetNextFunction(f))
        left += mewe__ptrmap_get(&s.state, f) == MAY_GO;
    *all = rc == MEWE_OK && left == 0;
    mewe__ptrmap_fini(&s.state);
    mewe__ptrmap_fini(&s.seen);
    free(s.todo);
    return rc;
}
