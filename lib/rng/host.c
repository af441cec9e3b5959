/* Built-in RNG strategy `host`: MEWE's interface, an imported discriminate(i32 n) -> i32
 * called at every choice. The result is reduced modulo n so that a misbehaving host cannot
 * send a dispatcher out of range. */
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "common.h"

static int build(mewe_hook *hook, LLVMBuilderRef b, LLVMValueRef dispatcher, LLVMValueRef n,
                 LLVMValueRef *out, void *user_data)
{
    (void)user_data;
    const char *module = mewe_hook_param(hook, "module");
    const char *name = mewe_hook_param(hook, "name");
    module = module ? module : "env";
    name = name ? name : "discriminate";
    if (!*module || !*name) {
        mewe_hook_set_error(hook, "parameters module and name must not be empty");
        return MEWE_EINVAL;
    }
    LLVMModuleRef m = LLVMGetGlobalParent(dispatcher);
    LLVMTypeRef i32 = LLVMTypeOf(n);
    LLVMTypeRef fty = LLVMFunctionType(i32, &i32, 1, 0);
    char symbol[512];
    snprintf(symbol, sizeof symbol, "mewe.rng.host.%s.%s", module, name);
    LLVMValueRef f = mewe__wasm_import(m, symbol, fty, module, name);
    LLVMValueRef r = LLVMBuildCall2(b, fty, f, &n, 1, "");
    *out = LLVMBuildURem(b, r, n, "mewe.index");
    return MEWE_OK;
}

int mewe__register_rng_host(mewe_context *ctx)
{
    return mewe__builtin_rng(ctx, "host", (const char *const[]){"module", "name", NULL}, build,
                             "imported discriminate(i32 n) -> i32 (module=env, name=discriminate)");
}
