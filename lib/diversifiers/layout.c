/* Built-in diversifier `layout`: lays out a function's blocks outside loops (the entry
 * excepted) in a random order, and changes nothing else: not one instruction is added. Code
 * generation re-sorts blocks where wasm's structured control flow requires it and keeps the
 * given order where it has a choice, so the layout often survives in wasm. Loops keep their
 * layout: it is not free there (a shuffled loop of aead's hex decoder ran 20 % slower in
 * V8's optimizing tier in some variants); `blocks`, which is cheap and counted so by the
 * cost model, shuffles them too. Registered through the public hook API. */
#include "registry.h"
#include "ir/irutil.h"

static int layout(mewe_hook *hook, LLVMValueRef fn, void *user_data)
{
    (void)user_data;
    return mewe__blocks_shuffle(hook, fn, false);
}

int mewe__register_diversifier_layout(mewe_context *ctx)
{
    static const char *const params[] = {NULL};
    mewe_diversifier d = {
        .version = MEWE_DIVERSIFIER_VERSION,
        .name = "layout",
        .description = "block layout shuffling alone, outside loops: no instruction added",
        .param_names = params,
        .diversify = layout,
        .cost_class = MEWE_COST_FREE,
    };
    return mewe_diversifier_register(ctx, &d);
}
