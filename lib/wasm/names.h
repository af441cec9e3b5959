/* Names a WebAssembly module can carry: its name section, and a relocatable object's symbol
 * table, hold UTF-8 only, while LLVM keeps whatever bytes a name has (another front end, a
 * hand-written .ll). wabt and the specification reject such a module; engines skip its
 * names. */
#ifndef MEWE_WASM_NAMES_H
#define MEWE_WASM_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>

#include "internal.h"

/* In `m`, the copy about to be compiled, renames every local global value (function, global
 * variable, alias, ifunc) whose name is not valid UTF-8: each byte outside a valid sequence
 * becomes the character of the same value (U+0080..U+00FF), as the report's JSON shows the
 * name, and LLVM makes the result unique. A global value that is not local keeps its name,
 * since other code links against it, and fails with MEWE_ETARGET naming it and the way out
 * (`module_name` names the module). */
int mewe__wasm_names_fix(mewe_context *ctx, const char *module_name, LLVMModuleRef m);

/* Whether a name of `len` bytes is valid UTF-8: a wasm module carries it unchanged. */
bool mewe__wasm_name_valid(const char *name, size_t len);

/* Name of `len` bytes as text for a message: bytes outside valid UTF-8 become \xNN.
 * malloc'd; NULL when out of memory. */
char *mewe__name_display(const char *name, size_t len);

#endif /* MEWE_WASM_NAMES_H */
