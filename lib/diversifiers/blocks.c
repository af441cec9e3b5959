/* Built-in diversifier `blocks`: splits basic blocks at random points and shuffles the
 * layout of all blocks but the entry (the shuffle alone is `layout`). Registered through the
 * public hook API. */
#include <stdlib.h>

#include "registry.h"
#include "ir/irutil.h"

/* A split point: any instruction after the phis and allocas (allocas stay in the entry block
 * so they remain static stack slots), the terminator excluded. */
static LLVMValueRef pick_split(mewe_hook *hook, LLVMBasicBlockRef bb)
{
    unsigned n = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (!LLVMIsAPHINode(i) && !LLVMIsAAllocaInst(i) && !LLVMIsATerminatorInst(i))
            n++;
    }
    if (n < 2)
        return NULL;
    unsigned k = 1 + mewe_hook_random_below(hook, n - 1); /* never before the first */
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (!LLVMIsAPHINode(i) && !LLVMIsAAllocaInst(i) && !LLVMIsATerminatorInst(i) && k-- == 0)
            return i;
    }
    return NULL;
}

static int collect_blocks(LLVMValueRef fn, LLVMBasicBlockRef **out, unsigned *count)
{
    unsigned n = LLVMCountBasicBlocks(fn);
    LLVMBasicBlockRef *bbs = malloc((n ? n : 1) * sizeof *bbs);
    if (!bbs)
        return MEWE_ENOMEM;
    LLVMGetBasicBlocks(fn, bbs);
    *out = bbs;
    *count = n;
    return MEWE_OK;
}

static int split_blocks(mewe_hook *hook, LLVMValueRef fn, double rate)
{
    LLVMBasicBlockRef *bbs;
    unsigned n;
    if (collect_blocks(fn, &bbs, &n) != MEWE_OK)
        return MEWE_ENOMEM;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(fn)));
    for (unsigned i = 0; i < n; i++) {
        if ((double)(mewe_hook_random(hook) >> 11) * 0x1.0p-53 >= rate)
            continue;
        LLVMValueRef at = pick_split(hook, bbs[i]);
        if (at)
            mewe__block_split(b, bbs[i], at);
    }
    LLVMDisposeBuilder(b);
    free(bbs);
    return MEWE_OK;
}

static int blocks(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double split, shuffle;
    int rc = mewe_hook_param_double(&split, hook, "split", 0.5, 0.0, 1.0);
    if (rc == MEWE_OK)
        rc = mewe_hook_param_double(&shuffle, hook, "shuffle", 1.0, 0.0, 1.0);
    if (rc == MEWE_OK && split > 0)
        rc = split_blocks(hook, fn, split);
    if (rc == MEWE_OK && shuffle >= 0.5 && LLVMCountBasicBlocks(fn) > 2)
        rc = mewe__blocks_shuffle(hook, fn, true);
    return rc;
}

int mewe__register_diversifier_blocks(mewe_context *ctx)
{
    static const char *const params[] = {"split", "shuffle", NULL};
    static const char *const docs[] = {
        "in [0,1], default 0.5: share of blocks split at a random point",
        "0 or 1, default 1: lay the blocks (all but the entry) out in a random order",
    };
    /* Cheap, not free: a shuffled layout can cost a jump where a fall-through was. */
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "blocks",
        .description = "basic-block splitting and layout shuffling",
        .param_names = params,
        .diversify = blocks,
        .cost_class = MEWE_COST_CHEAP,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
