/* Built-in diversifier `blind`: constant blinding. An integer constant operand c becomes
 * `t OP d`, where t mixes a key word loaded from memory at run time with a random constant
 * and d is computed at build time so that the result is c (rules.h, proven by Z3 in
 * tests/test-rules.c). Code generation cannot fold it back: the key is a load from a global
 * that the module could write, so nothing at -O2 codegen knows its value. Registered through
 * the public hook API.
 *
 * The keys are one table per module, "mewe.keys.<hex>": eight random 64-bit words in a
 * writable, hidden, non-internal global (an optimizer run on the output later cannot prove
 * it constant either). A program that writes out of bounds over it would change its blinded
 * constants, as it would change any other data it overwrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/irutil.h"
#include "registry.h"
#include "rules.h"
#include "util/hash.h"

#define KEY_WORDS 8

static bool proven_width(LLVMTypeRef t)
{
    if (LLVMGetTypeKind(t) != LLVMIntegerTypeKind)
        return false;
    unsigned w = LLVMGetIntTypeWidth(t);
    for (size_t i = 0; i < MEWE__SUBST_WIDTH_COUNT; i++) {
        if (mewe__subst_widths[i] == w)
            return true;
    }
    return false;
}

/* Which operands of an instruction may become a computed value. Division and remainder are
 * left alone (a constant divisor compiles to a multiplication; a variable one to a slow
 * divide), as are operands that must stay constants (GEP indices, switch cases, intrinsic
 * arguments) and phis (their operands belong to the predecessor). */
static bool blindable_operand(LLVMValueRef inst, unsigned i)
{
    LLVMValueRef v = LLVMGetOperand(inst, i);
    if (!LLVMIsAConstantInt(v) || !proven_width(LLVMTypeOf(v)))
        return false;
    switch (LLVMGetInstructionOpcode(inst)) {
    case LLVMAdd:
    case LLVMSub:
    case LLVMMul:
    case LLVMAnd:
    case LLVMOr:
    case LLVMXor:
    case LLVMShl:
    case LLVMLShr:
    case LLVMAShr:
    case LLVMICmp: return true;
    case LLVMSelect: return i > 0;
    case LLVMStore: return i == 0;
    case LLVMRet: return true;
    default: return false;
    }
}

/* The module's key table, made on first use from the call's random stream. */
static LLVMValueRef key_table(mewe_hook *hook, LLVMModuleRef mod, uint64_t *words)
{
    LLVMContextRef c = LLVMGetModuleContext(mod);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(c);
    LLVMTypeRef arr = LLVMArrayType2(i64, KEY_WORDS);
    size_t idlen;
    const char *id = LLVMGetModuleIdentifier(mod, &idlen);
    uint64_t seed = 0;
    mewe_context_get_seed(&seed, mewe_hook_context(hook));
    uint64_t h = mewe__fnv1a_more(MEWE__FNV_OFFSET ^ seed, id, idlen);
    char name[40];
    snprintf(name, sizeof name, "mewe.keys.%016llx", (unsigned long long)h);
    LLVMValueRef g = LLVMGetNamedGlobal(mod, name);
    if (g) {
        LLVMValueRef init = LLVMGetInitializer(g);
        if (!init || LLVMGlobalGetValueType(g) != arr)
            return NULL;
        for (unsigned i = 0; i < KEY_WORDS; i++)
            words[i] = LLVMConstIntGetZExtValue(LLVMGetAggregateElement(init, i));
        return g;
    }
    LLVMValueRef vals[KEY_WORDS];
    for (unsigned i = 0; i < KEY_WORDS; i++) {
        words[i] = mewe_hook_random(hook);
        vals[i] = LLVMConstInt(i64, words[i], 0);
    }
    g = LLVMAddGlobal(mod, arr, name);
    LLVMSetInitializer(g, LLVMConstArray2(i64, vals, KEY_WORDS));
    LLVMSetLinkage(g, LLVMExternalLinkage);
    LLVMSetVisibility(g, LLVMHiddenVisibility);
    LLVMSetAlignment(g, 8);
    return g;
}

static uint64_t random_bits(mewe_hook *hook, unsigned width)
{
    uint64_t r = mewe_hook_random(hook);
    return width == 64 ? r : r & ((UINT64_C(1) << width) - 1);
}

/* Replaces operand `i` of `inst` (the constant c) by `t OP d` computed before `inst`. */
static int blind_operand(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef table,
                         const uint64_t *words, LLVMValueRef inst, unsigned i)
{
    LLVMValueRef c = LLVMGetOperand(inst, i);
    LLVMTypeRef t = LLVMTypeOf(c);
    unsigned width = LLVMGetIntTypeWidth(t);
    const mewe__blind_rule *r =
        &mewe__blind_rules[mewe_hook_random_below(hook, MEWE__BLIND_RULE_COUNT)];
    unsigned w = mewe_hook_random_below(hook, KEY_WORDS);
    uint64_t rb = random_bits(hook, width);
    uint64_t mask = width == 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
    uint64_t cv = LLVMConstIntGetZExtValue(c) & mask, tv;
    if (!mewe__eval_rpn(r->t, width, words[w], rb, &tv)) {
        mewe_hook_set_error(hook, "malformed blinding rule");
        return MEWE_EINVAL;
    }
    uint64_t d = r->op == '^' ? tv ^ cv : r->op == '+' ? cv - tv : cv + tv;
    LLVMPositionBuilderBefore(b, inst);
    LLVMContextRef ctx = LLVMGetTypeContext(t);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(ctx), i32 = LLVMInt32TypeInContext(ctx);
    LLVMValueRef idx[2] = {LLVMConstInt(i32, 0, 0), LLVMConstInt(i32, w, 0)};
    LLVMValueRef at = LLVMBuildInBoundsGEP2(b, LLVMGlobalGetValueType(table), table, idx, 2, "");
    LLVMValueRef key = LLVMBuildLoad2(b, i64, at, "");
    LLVMSetAlignment(key, 8);
    if (width < 64)
        key = LLVMBuildTrunc(b, key, t, "");
    LLVMValueRef tval = mewe__build_rpn(b, r->t, key, LLVMConstInt(t, rb, 0));
    LLVMValueRef dval = LLVMConstInt(t, d & mask, 0);
    if (!tval) {
        mewe_hook_set_error(hook, "malformed blinding rule");
        return MEWE_EINVAL;
    }
    LLVMValueRef v = r->op == '^'   ? LLVMBuildXor(b, tval, dval, "")
                     : r->op == '+' ? LLVMBuildAdd(b, tval, dval, "")
                                    : LLVMBuildSub(b, dval, tval, "");
    LLVMSetOperand(inst, i, v);
    return MEWE_OK;
}

typedef struct site {
    LLVMValueRef inst;
    unsigned operand;
} site;

/* A function that reads memory now: attributes promising it does not would be false. */
static void allow_reads(LLVMValueRef fn)
{
    static const char *const attrs[] = {"memory", "readnone", "readonly", "writeonly"};
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
        if (kind)
            LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
    }
}

static int blind(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double rate, max;
    int rc = mewe_hook_param_double(&rate, hook, "rate", 0.5, 0.0, 1.0);
    if (rc == MEWE_OK)
        rc = mewe_hook_param_double(&max, hook, "max", 2, 0, 1e6);
    if (rc != MEWE_OK)
        return rc;
    size_t n = 0, cap = 32;
    site *todo = malloc(cap * sizeof *todo);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); todo && bb;
         bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); todo && i;
             i = LLVMGetNextInstruction(i)) {
            unsigned ops = (unsigned)LLVMGetNumOperands(i);
            for (unsigned k = 0; todo && k < ops; k++) {
                if (!blindable_operand(i, k) ||
                    (double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 >= rate)
                    continue;
                if (n == cap) {
                    site *bigger = realloc(todo, (cap *= 2) * sizeof *todo);
                    if (!bigger)
                        free(todo);
                    todo = bigger;
                }
                if (todo)
                    todo[n++] = (site){i, k};
            }
        }
    }
    if (!todo)
        return MEWE_ENOMEM;
    /* Keep `max` of them, chosen at random (a partial Fisher-Yates shuffle): each costs a
     * load and two or three operations each time it runs. */
    size_t keep = n < (size_t)max ? n : (size_t)max;
    for (size_t i = 0; i < keep; i++) {
        size_t j = i + mewe_hook_random_below(hook, (uint32_t)(n - i));
        site t = todo[i];
        todo[i] = todo[j];
        todo[j] = t;
    }
    if (keep) {
        uint64_t words[KEY_WORDS];
        LLVMValueRef table = key_table(hook, LLVMGetGlobalParent(fn), words);
        if (!table) {
            free(todo);
            mewe_hook_set_error(hook, "the module has a global named mewe.keys.* that is not "
                                      "libmewe's key table");
            return MEWE_EUSER;
        }
        allow_reads(fn);
        LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
        for (size_t k = 0; rc == MEWE_OK && k < keep; k++)
            rc = blind_operand(hook, b, table, words, todo[k].inst, todo[k].operand);
        LLVMDisposeBuilder(b);
    }
    free(todo);
    return rc;
}

int mewe__register_diversifier_blind(mewe_context *ctx)
{
    static const char *const params[] = {"rate", "max", NULL};
    static const char *const docs[] = {
        "in [0,1], default 0.5: share of integer constant operands considered",
        "in [0,1e6], default 2: constants blinded per variant at most (each costs a load "
        "and 2-4 operations)",
    };
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "blind",
        .description = "constant blinding: a constant becomes an expression of a key loaded "
                       "at run time, which code generation cannot fold back",
        .param_names = params,
        .diversify = blind,
        .cost_class = MEWE_COST_CHEAP,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
