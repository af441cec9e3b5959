/* The implementation limits that WebAssembly engines share (the WebAssembly JS API's list,
 * which V8, SpiderMonkey and JavaScriptCore enforce, and wasmparser too; plus V8's largest
 * br_table): valid wasm over one of them is refused when it is compiled, e.g. by node with
 * "local count too large". Emitting checks every module against them. */
#ifndef MEWE_WASM_LIMITS_H
#define MEWE_WASM_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "wasm/inspect.h"

/* One limit that a module goes over. */
typedef struct mewe__wasm_excess {
    const char *what;  /* plural noun, static: "locals", "body bytes", "functions", ... */
    uint64_t value;    /* what the module has */
    uint64_t limit;    /* the most that engines accept */
    bool per_function; /* then func is the index into info->funcs */
    size_t func;
} mewe__wasm_excess;

/* Checks a parsed module against the limits. Stores up to `max` excesses in out, functions
 * in code order before the module-wide limits, and returns how many there are in all (0:
 * within every limit). When a function body does not decode (mewe__wasm_body_scan), its
 * br_table sizes are not checked; *unscanned counts such functions. */
size_t mewe__wasm_limits_check(const mewe__wasm_info *info, mewe__wasm_excess *out, size_t max,
                               size_t *unscanned);

/* Emits a module at a code generation level (0..3) into a malloc'd buffer. */
typedef int (*mewe__wasm_emit_fn)(void *user, int level, void **out, size_t *out_size);

/* Refuses (MEWE_ETARGET, naming the function) a module with a switch that LLVM could turn
 * into a br_table over the limit: more than 65520 values between two of its cases, with
 * cases at least 10 % dense between them (LLVM's least density for a jump table). Past
 * 65535 targets LLVM 19 also encodes a br_table wrongly (the count is cut to 16 bits),
 * which gives valid wasm that jumps to the wrong places. Then emits with `emit` at `level`
 * and checks the result. When only locals or body sizes are
 * over at -O0, where the backend gives every value a local of its own, it emits again at
 * -O1, whose register allocation needs far fewer, says so in a warning and appends it
 * to `note` (a NUL-terminated buffer of note_size bytes, left as it is otherwise). Anything still over fails with MEWE_ETARGET, naming the function (or
 * the module `name`), the limit and, for a dispatcher that carries its variants inside it
 * (found in `llvm`, the module's IR, which may be NULL), the link option that keeps them
 * apart. */
int mewe__wasm_limits_emit(mewe_context *ctx, const char *name, LLVMModuleRef llvm, int level,
                           mewe__wasm_emit_fn emit, void *user, void **out, size_t *out_size,
                           char *note, size_t note_size);

#endif /* MEWE_WASM_LIMITS_H */
