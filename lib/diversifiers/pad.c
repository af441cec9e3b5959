/* Built-in diversifier `pad`: stack-frame padding. In a function that already has a stack
 * frame (static allocas in its entry block), adds an unused slot of random size and alignment
 * at a random place among the others and shuffles their order, so that the frame's size and
 * every slot's offset in linear memory differ between variants. Code generation keeps unused
 * static allocas as frame objects, and lays frame objects out in their IR order, so the
 * differences reach the wasm: the frame size and the offsets are immediates of the body.
 * Free at run time: the frame is set up either way, only its numbers change. A function
 * without a frame is left as it is: a frame would cost a stack-pointer update per call.
 * Registered through the public hook API. */
#include <stdlib.h>

#include "registry.h"

static bool static_alloca(LLVMValueRef i)
{
    return LLVMIsAAllocaInst(i) && LLVMIsAConstantInt(LLVMGetOperand(i, 0));
}

static int pad(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    double max, shuffle;
    int rc = mewe_hook_param_double(&max, hook, "max", 64, 1, 4096);
    if (rc == MEWE_OK)
        rc = mewe_hook_param_double(&shuffle, hook, "shuffle", 1, 0, 1);
    if (rc != MEWE_OK)
        return rc;
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(fn);
    unsigned n = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(entry); i; i = LLVMGetNextInstruction(i))
        n += static_alloca(i);
    if (n == 0)
        return MEWE_OK;
    LLVMValueRef *slots = malloc((n + 1) * sizeof *slots);
    if (!slots)
        return MEWE_ENOMEM;
    n = 0;
    for (LLVMValueRef i = LLVMGetFirstInstruction(entry); i; i = LLVMGetNextInstruction(i)) {
        if (static_alloca(i))
            slots[n++] = i;
    }
    LLVMContextRef c = LLVMGetTypeContext(LLVMTypeOf(fn));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderBefore(b, slots[0]);
    unsigned bytes = 1 + mewe_hook_random_below(hook, (uint32_t)max);
    LLVMValueRef padding =
        LLVMBuildAlloca(b, LLVMArrayType2(LLVMInt8TypeInContext(c), bytes), "mewe.pad");
    LLVMSetAlignment(padding, 1u << mewe_hook_random_below(hook, 5)); /* 1 to 16 */
    slots[n++] = padding;
    /* Fisher-Yates, then the slots go to the top of the entry block in that order (moving an
     * alloca of constant size earlier in its block is always valid). A shuffle of 0 keeps
     * their order and only places the padding among them. */
    if (shuffle >= 0.5) {
        for (unsigned i = n - 1; i > 0; i--) {
            unsigned j = mewe_hook_random_below(hook, i + 1);
            LLVMValueRef t = slots[i];
            slots[i] = slots[j];
            slots[j] = t;
        }
    } else {
        unsigned j = mewe_hook_random_below(hook, n);
        LLVMValueRef t = slots[n - 1];
        for (unsigned i = n - 1; i > j; i--)
            slots[i] = slots[i - 1];
        slots[j] = t;
    }
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    for (unsigned i = 0; i < n; i++) {
        if (slots[i] == first) {
            first = LLVMGetNextInstruction(first);
            continue;
        }
        LLVMInstructionRemoveFromParent(slots[i]);
        LLVMPositionBuilderBefore(b, first);
        LLVMInsertIntoBuilder(b, slots[i]);
    }
    LLVMDisposeBuilder(b);
    free(slots);
    return MEWE_OK;
}

int mewe__register_diversifier_pad(mewe_context *ctx)
{
    static const char *const params[] = {"max", "shuffle", NULL};
    static const char *const docs[] = {
        "in [1,4096], default 64: largest padding slot in bytes (its size is drawn in 1..max)",
        "0 or 1, default 1: shuffle the order of the frame's slots too",
    };
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "pad",
        .description = "stack-frame padding: an unused slot of random size and a shuffled "
                       "slot order in functions that have a frame",
        .param_names = params,
        .diversify = pad,
        .cost_class = MEWE_COST_FREE,
        .param_docs = docs,
    };
    return mewe_diversifier_register(ctx, &d);
}
