/* Built-in diversifier `layout`: lays out a function's blocks (all but the entry) in a random
 * order, and changes nothing else. Free: not one instruction is added. Code generation
 * re-sorts the blocks (wasm's structured control flow wants loops contiguous and a
 * topological order) but keeps the given order where it has a choice, so the layout often
 * survives in wasm, and it does in small loops where nothing else free does (base64's
 * chunked loops: 8 of 8 variants distinct in wasm, against 7 with operand swaps alone).
 * Engines that compile with optimization (V8's TurboFan) lay blocks out anew. Registered
 * through the public hook API. */
#include "registry.h"
#include "ir/irutil.h"

static int layout(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    return mewe__blocks_shuffle(hook, fn);
}

int mewe__register_diversifier_layout(mewe_context *ctx)
{
    static const char *const params[] = {NULL};
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "layout",
        .description = "block layout shuffling alone: every block but the entry in a random "
                       "order, no instruction added",
        .param_names = params,
        .diversify = layout,
        .cost_class = MEWE_COST_FREE,
    };
    return mewe_diversifier_register(ctx, &d);
}
