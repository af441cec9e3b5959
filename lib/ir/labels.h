/*
 * labels.h - functions whose blocks have their address taken ("labels as values", the
 * computed goto of fast interpreters).
 *
 * A copy of such a function must jump to its own blocks: it gets its own block addresses and
 * its own copies of the globals that hold them (label tables). That is sound only when no
 * address of the function's blocks outlives an invocation or leaves the function: with a
 * dispatcher choosing a variant at every call, an address taken in one variant and used by
 * the next invocation would jump into another function.
 */
#ifndef MEWE_IR_LABELS_H
#define MEWE_IR_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>

/* The globals that hold block addresses of a function, directly or through other tables. */
typedef struct mewe__labels {
    LLVMValueRef *tables;
    size_t count, cap;
} mewe__labels;

/* Whether some block of fn has its address taken (a BlockAddress constant names it). */
bool mewe__labels_taken(LLVMValueRef fn);

/*
 * NULL when every value derived from an address of fn's blocks stays inside an invocation of
 * fn: it is only kept in fn's own stack (allocas that do not escape), in label tables (local
 * globals that only fn reads and nobody writes), compared, or jumped to; else a static reason,
 * one of "block address escapes the function", "label table written at run time", "block
 * address in a constant libmewe cannot copy". A function without block addresses passes.
 * When `out` is not NULL (zeroed by the caller), it receives fn's label tables, in the order
 * found; free it with mewe__labels_fini. "out of memory" may also be returned.
 */
const char *mewe__labels_check(LLVMValueRef fn, mewe__labels *out);

void mewe__labels_fini(mewe__labels *l);

/* Whether a constant of this kind can be rebuilt with other operands (mewe__labels_rebuild):
 * aggregates, block addresses and the constant expressions label tables are made of. */
bool mewe__labels_rebuildable(LLVMValueRef c);

/* A copy of constant c (of a kind mewe__labels_rebuildable accepts) with operands ops. NULL
 * for any other kind. Poison-generating flags of add/sub/mul are dropped (the LLVM-C API
 * cannot read them off a constant expression), which only makes the value more defined. */
LLVMValueRef mewe__labels_rebuild(LLVMValueRef c, LLVMValueRef *ops);

/* Whether anything but fn's own block addresses uses fn (a call, a pointer to it). */
bool mewe__function_has_users(LLVMValueRef fn);

/* Deletes the tables of l that nothing uses any more (e.g. once the function they were made
 * for is gone). */
void mewe__labels_delete_dead(mewe__labels *l);

/* Deletes fn (a variant or a discarded copy), then the label tables that were made for it
 * and that nothing uses any more. */
void mewe__function_delete(LLVMValueRef fn);

/* Deletes fn's body, leaving a declaration (the caller gives it a new one), then the label
 * tables that only the body used. Unlike deleting blocks or instructions one at a time, this
 * is safe when blocks use each other's values, have their address taken or carry debug
 * records. */
void mewe__function_delete_body(LLVMValueRef fn);

#endif /* MEWE_IR_LABELS_H */
