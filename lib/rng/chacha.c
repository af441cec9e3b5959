/* The default generator (`gen=chacha`): ChaCha8 with fast key erasure, all of its state in
 * wasm globals.
 *
 * Why a cipher: an attacker who observes some choices (through timing, or a trace) must not
 * predict the next ones; xorshift64*'s state follows from a few outputs. Why 8 rounds: the
 * best published attacks reach 7 rounds of ChaCha, at a cost far beyond reach, with the whole
 * keystream in hand; here an attacker sees at best a few bits per choice, through noise.
 * Aumasson's "Too Much Crypto" (2019) argues 8 rounds keep a safe margin, and rand_chacha
 * offers ChaCha8 for the same use. The block is computed once per 256 output bits, so more
 * rounds would cost little (see doc/guide.md), but 8 is enough.
 *
 * Why fast key erasure: each block's first 256 bits become the next key and only the other
 * 256 are output, and each output word is cleared from its global when taken. The globals
 * hold the key for what comes next and the output not yet used, never what was used: a
 * state captured later (a debugger, a core dump of the engine) does not reveal past choices,
 * which an attacker who recorded timings could otherwise match against them.
 *
 * Why a 64-bit counter: with a fresh key per block it is not needed for uniqueness, but it
 * keeps the block input changing should two keys ever repeat, for one i64 add.
 *
 * The state stays out of linear memory (the program's own bugs cannot read or write it).
 * LLVM's wasm backend starts every wasm global at zero, so "not seeded yet" is a key of all
 * zeros, checked once per block, not per draw. */
#include <stdio.h>

#include "common.h"

#define OUT_WORDS 4 /* i64 output words per block, after the 256 key bits */

/* "expand 32-byte k" */
static const uint32_t sigma[4] = {0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u};

typedef struct chacha_ir {
    LLVMBuilderRef b;
    LLVMTypeRef i32;
} chacha_ir;

static LLVMValueRef rotl(chacha_ir *ir, LLVMValueRef v, unsigned r)
{
    /* (v << r) | (v >> (32 - r)): the wasm backend makes it one i32.rotl. Not llvm.fshl:
     * its declaration carries memory(none), and a linked module is expected to carry none
     * (dispatchers drop their functions' memory effects; tests look for the text). */
    LLVMValueRef l = LLVMBuildShl(ir->b, v, LLVMConstInt(ir->i32, r, 0), "");
    LLVMValueRef h = LLVMBuildLShr(ir->b, v, LLVMConstInt(ir->i32, 32 - r, 0), "");
    return LLVMBuildOr(ir->b, l, h, "");
}

static void quarter_round(chacha_ir *ir, LLVMValueRef x[16], int a, int b, int c, int d)
{
    static const unsigned rot[4] = {16, 12, 8, 7};
    for (int i = 0; i < 4; i += 2) {
        x[a] = LLVMBuildAdd(ir->b, x[a], x[b], "");
        x[d] = rotl(ir, LLVMBuildXor(ir->b, x[d], x[a], ""), rot[i]);
        x[c] = LLVMBuildAdd(ir->b, x[c], x[d], "");
        x[b] = rotl(ir, LLVMBuildXor(ir->b, x[b], x[c], ""), rot[i + 1]);
    }
}

void mewe__rng_chacha_block(LLVMBuilderRef b, unsigned rounds, LLVMValueRef x[16])
{
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(x[0]));
    chacha_ir ir = {.b = b, .i32 = LLVMInt32TypeInContext(c)};
    LLVMValueRef in[16];
    for (int i = 0; i < 16; i++)
        in[i] = x[i];
    /* Unrolled: straight-line code, every word in a local. */
    for (unsigned r = 0; r < rounds; r += 2) {
        quarter_round(&ir, x, 0, 4, 8, 12);
        quarter_round(&ir, x, 1, 5, 9, 13);
        quarter_round(&ir, x, 2, 6, 10, 14);
        quarter_round(&ir, x, 3, 7, 11, 15);
        quarter_round(&ir, x, 0, 5, 10, 15);
        quarter_round(&ir, x, 1, 6, 11, 12);
        quarter_round(&ir, x, 2, 7, 8, 13);
        quarter_round(&ir, x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i++)
        x[i] = LLVMBuildAdd(b, x[i], in[i], "");
}

typedef struct chacha_globals {
    LLVMValueRef key[8], counter, out[OUT_WORDS], left;
} chacha_globals;

static void get_globals(chacha_globals *g, LLVMModuleRef m, const char *prefix)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
    char name[256];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "%s.key%d", prefix, i);
        g->key[i] = mewe__rng_global_of(m, name, i32);
    }
    snprintf(name, sizeof name, "%s.counter", prefix);
    g->counter = mewe__rng_global(m, name);
    for (int i = 0; i < OUT_WORDS; i++) {
        snprintf(name, sizeof name, "%s.out%d", prefix, i);
        g->out[i] = mewe__rng_global(m, name);
    }
    snprintf(name, sizeof name, "%s.left", prefix);
    g->left = mewe__rng_global_of(m, name, i32);
}

/* define internal void @seed(): fills the key, with `key` or from random_get. Cold: it runs
 * once per instance. */
/* Starts the helper `prefix.what`, a void function without arguments: see mewe__rng_helper. */
static LLVMBuilderRef void_helper(LLVMValueRef *f, LLVMModuleRef m, const char *prefix,
                                  const char *what, bool cold)
{
    char name[256];
    snprintf(name, sizeof name, "%s.%s", prefix, what);
    LLVMTypeRef type = LLVMFunctionType(LLVMVoidTypeInContext(LLVMGetModuleContext(m)), NULL, 0, 0);
    return mewe__rng_helper(f, m, name, type, cold);
}

static LLVMValueRef seed_function(LLVMModuleRef m, const char *prefix, const chacha_globals *g,
                                  const uint32_t *key)
{
    LLVMValueRef f;
    LLVMBuilderRef b = void_helper(&f, m, prefix, "seed", true);
    if (!b)
        return f;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
    if (key) {
        for (int i = 0; i < 8; i++)
            LLVMBuildStore(b, LLVMConstInt(i32, key[i], 0), g->key[i]);
    } else {
        /* random_get can only write to linear memory: the key passes through the shadow
         * stack, which is wiped before returning. A failing random_get (no WASI host does)
         * leaves zeros, and the stream is then ChaCha's under the zero key. */
        LLVMTypeRef arr = LLVMArrayType2(i32, 8);
        LLVMValueRef buf = LLVMBuildAlloca(b, arr, "key");
        LLVMValueRef slot[8];
        for (int i = 0; i < 8; i++) {
            LLVMValueRef idx[] = {LLVMConstInt(i32, 0, 0), LLVMConstInt(i32, (unsigned)i, 0)};
            slot[i] = LLVMBuildInBoundsGEP2(b, arr, buf, idx, 2, "");
            LLVMBuildStore(b, LLVMConstInt(i32, 0, 0), slot[i]);
        }
        LLVMValueRef random_get = mewe__rng_random_get(m);
        LLVMValueRef args[] = {buf, LLVMConstInt(i32, 32, 0)};
        LLVMBuildCall2(b, LLVMGlobalGetValueType(random_get), random_get, args, 2, "");
        for (int i = 0; i < 8; i++)
            LLVMBuildStore(b, LLVMBuildLoad2(b, i32, slot[i], ""), g->key[i]);
        for (int i = 0; i < 8; i++)
            LLVMSetVolatile(LLVMBuildStore(b, LLVMConstInt(i32, 0, 0), slot[i]), 1);
    }
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    return f;
}

/* define internal void @block(): seeds the key if it is still zero, computes one block, makes
 * its first half the new key and its second half the output words. */
static LLVMValueRef block_function(LLVMModuleRef m, const char *prefix, const chacha_globals *g,
                                   LLVMValueRef seed, unsigned rounds)
{
    LLVMValueRef f;
    LLVMBuilderRef b = void_helper(&f, m, prefix, "block", false);
    if (!b)
        return f;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c), i64 = LLVMInt64TypeInContext(c);
    LLVMValueRef any = LLVMConstInt(i32, 0, 0);
    for (int i = 0; i < 8; i++)
        any = LLVMBuildOr(b, any, LLVMBuildLoad2(b, i32, g->key[i], ""), "");
    LLVMBasicBlockRef seeding = LLVMAppendBasicBlockInContext(c, f, "seed");
    LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(c, f, "run");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, any, LLVMConstInt(i32, 0, 0), ""), seeding, run);
    LLVMPositionBuilderAtEnd(b, seeding);
    LLVMBuildCall2(b, LLVMGlobalGetValueType(seed), seed, NULL, 0, "");
    LLVMBuildBr(b, run);
    LLVMPositionBuilderAtEnd(b, run);
    LLVMValueRef x[16];
    for (int i = 0; i < 4; i++)
        x[i] = LLVMConstInt(i32, sigma[i], 0);
    for (int i = 0; i < 8; i++)
        x[4 + i] = LLVMBuildLoad2(b, i32, g->key[i], "");
    LLVMValueRef ctr = LLVMBuildLoad2(b, i64, g->counter, "");
    x[12] = LLVMBuildTrunc(b, ctr, i32, "");
    x[13] = LLVMBuildTrunc(b, LLVMBuildLShr(b, ctr, LLVMConstInt(i64, 32, 0), ""), i32, "");
    x[14] = x[15] = LLVMConstInt(i32, 0, 0);
    mewe__rng_chacha_block(b, rounds, x);
    for (int i = 0; i < 8; i++)
        LLVMBuildStore(b, x[i], g->key[i]);
    for (int i = 0; i < OUT_WORDS; i++) {
        LLVMValueRef lo = LLVMBuildZExt(b, x[8 + 2 * i], i64, "");
        LLVMValueRef hi = LLVMBuildZExt(b, x[9 + 2 * i], i64, "");
        hi = LLVMBuildShl(b, hi, LLVMConstInt(i64, 32, 0), "");
        LLVMBuildStore(b, LLVMBuildOr(b, lo, hi, ""), g->out[i]);
    }
    LLVMBuildStore(b, LLVMBuildAdd(b, ctr, LLVMConstInt(i64, 1, 0), ""), g->counter);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    return f;
}

LLVMValueRef mewe__rng_chacha_refill(LLVMModuleRef m, const char *prefix, const uint32_t *key,
                                     unsigned rounds)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c), i64 = LLVMInt64TypeInContext(c);
    char name[256];
    snprintf(name, sizeof name, "%s.refill", prefix);
    LLVMValueRef f;
    LLVMBuilderRef b = mewe__rng_helper(&f, m, name, LLVMFunctionType(i64, NULL, 0, 0), false);
    if (!b)
        return f;
    chacha_globals g;
    get_globals(&g, m, prefix);
    LLVMValueRef block = block_function(m, prefix, &g, seed_function(m, prefix, &g, key), rounds);
    /* A small function, called once every 63 / k draws: the block is out of its line too. */
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(f);
    LLVMBasicBlockRef gen = LLVMAppendBasicBlockInContext(c, f, "block");
    LLVMBasicBlockRef take = LLVMAppendBasicBlockInContext(c, f, "take");
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef left = LLVMBuildLoad2(b, i32, g.left, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, left, LLVMConstInt(i32, 0, 0), ""), gen, take);
    LLVMPositionBuilderAtEnd(b, gen);
    LLVMBuildCall2(b, LLVMGlobalGetValueType(block), block, NULL, 0, "");
    LLVMBuildBr(b, take);
    LLVMPositionBuilderAtEnd(b, take);
    LLVMValueRef count = LLVMBuildPhi(b, i32, "");
    LLVMValueRef vals[] = {left, LLVMConstInt(i32, OUT_WORDS, 0)};
    LLVMBasicBlockRef from[] = {entry, gen};
    LLVMAddIncoming(count, vals, from, 2);
    /* Words move down as they are taken: out0 is always next, and a taken word is gone.
     * (Cheaper than a br_table over the words, and the block stays one: in V8, bigger
     * blocks of several ChaCha blocks at once cost more per block, not less.) */
    LLVMValueRef word = LLVMBuildLoad2(b, i64, g.out[0], "");
    for (int i = 0; i + 1 < OUT_WORDS; i++)
        LLVMBuildStore(b, LLVMBuildLoad2(b, i64, g.out[i + 1], ""), g.out[i]);
    LLVMBuildStore(b, LLVMConstInt(i64, 0, 0), g.out[OUT_WORDS - 1]);
    LLVMBuildStore(b, LLVMBuildSub(b, count, LLVMConstInt(i32, 1, 0), ""), g.left);
    /* 63 bits under the marker: bit 63 of the word is dropped. */
    LLVMBuildRet(b, LLVMBuildOr(b, word, LLVMConstInt(i64, 1ull << 63, 0), ""));
    LLVMDisposeBuilder(b);
    return f;
}
