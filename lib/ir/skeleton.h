/* What a linker's garbage collection sees of a module, at a fraction of its code: a copy in
 * which every function body only refers to what the original body refers to. Compiled and
 * linked like the module itself, it tells which functions the link keeps (emit.c,
 * mewe_exclude_unlinked) in a small part of the time the module would take. */
#ifndef MEWE_SKELETON_H
#define MEWE_SKELETON_H

#include <stdbool.h>

#include <llvm-c/Core.h>

/* A copy of m, in m's context and without debug info, whose defined functions call each
 * function their original bodies call, through the type of the first such call (with poison
 * arguments), read each other global they name, directly or in a constant (a byte at a
 * function's or variable's address; a wasm global whole), then end in `unreachable`.
 * Variables, their initialisers, aliases, the constructor lists and llvm.used are copied as
 * they are; a naked function, and one whose blocks' addresses are taken (computed goto),
 * keeps its body. References that only code generation makes (an intrinsic lowered to a
 * call of memcpy or of a math function) are not seen, nor those of inline assembly:
 * *has_asm tells whether m has any (a body's, or the module's). NULL when out of memory. */
LLVMModuleRef mewe__module_skeleton(LLVMModuleRef m, bool *has_asm);

#endif /* MEWE_SKELETON_H */
