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

/* Whether code generation may call a function of this name by itself, lowering an
 * instruction, an intrinsic or a fortified call: what no skeleton sees. */
bool mewe__implicit_callee(const char *name, size_t len);

/* The functions of m that need no code in an output whose link drops them: those marked
 * (mewe_module_exclude_unlinked) with `key`, less those code generation may call by itself
 * (mewe__implicit_callee), those keep_fn keeps (exports), and those anything else that is
 * compiled still names: a function not left out, a variable's initialiser, an alias, and so
 * on from each function kept that way. What changed the module since it was marked (variants
 * from another build, a profile's instrumentation, modules linked in) is thereby checked.
 * *names (sorted byte-wise, each malloc'd, like the array) gets their names; NULL and 0 when
 * none. Returns MEWE_OK or MEWE_ENOMEM. */
int mewe__unlinked_needless(LLVMModuleRef m, const char *key,
                            bool (*keep_fn)(const char *name, void *data), void *data,
                            char ***names, size_t *count);

/* Whether every function m defines (but available_externally ones) is reached from where
 * its link starts (a command's main or _start, else a reactor's _initialize), from the
 * functions keep_fn keeps (exports) or that export themselves (wasm-export-name), or from the
 * constructor, destructor and used lists, through what each reached function, variable and
 * alias names: then a link keeps them all, and no skeleton needs to be linked to tell.
 * Code generation may drop a reference the IR holds (a call in code it proves dead): *all is
 * then true of a module whose link drops something, which only costs compiling that. Returns
 * MEWE_OK or MEWE_ENOMEM (*all false). */
int mewe__all_reached(LLVMModuleRef m, bool command, bool (*keep_fn)(const char *name, void *data),
                      void *data, bool *all);

#endif /* MEWE_SKELETON_H */
