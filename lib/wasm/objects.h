/* Per-file builds: a multivariant relocatable object carries a custom section "mewe.object"
 * that says which libmewe made it, with which link settings, and the report of its
 * functions; mewe_emit_link_objects() checks those against each other, links the objects
 * and merges the reports. */
#ifndef MEWE_WASM_OBJECTS_H
#define MEWE_WASM_OBJECTS_H

#include "internal.h"

#define MEWE__OBJECT_SECTION "mewe.object"

/* Appends the "mewe.object" section to an emitted object (*wasm is reallocated); on
 * failure *wasm is freed and NULL. */
int mewe__object_note_add(const mewe_module *m, void **wasm, size_t *size);

/* wasm-ld as mewe_emit_wasm runs it (emit.c), on objects already in files; `dir`, when not
 * NULL, is a temporary directory whose paths are replaced by `name` in wasm-ld's
 * complaints. */
int mewe__wasm_ld(mewe_context *ctx, const char *name, const mewe_emit_options *o, const char *dir,
                  char *const *objs, size_t n_objs, const char *out);

/* Reads a caller's emit options of any version and checks them (emit.c). */
int mewe__emit_options_get(mewe_context *ctx, const mewe_emit_options *opts, mewe_emit_options *o);

/* Finds custom section `name` in a wasm binary: its payload (after the name) and size.
 * Returns 1 when found, 0 when not, -1 when the binary is malformed. */
int mewe__wasm_custom_section(const unsigned char *wasm, size_t size, const char *name,
                              const unsigned char **payload, size_t *payload_size);

#endif /* MEWE_WASM_OBJECTS_H */
