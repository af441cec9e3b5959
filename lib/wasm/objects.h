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

/* Walks a wasm binary's sections: calls fn for each, with its id, a custom section's name
 * (else NULL), the section's extent [start, end) in the binary (its id byte included) and its
 * payload (a custom section's after its name); stops at a nonzero return, which it returns.
 * -1: malformed (the magic, the version or a section's framing). */
typedef int (*mewe__section_fn)(unsigned id, const unsigned char *name, size_t name_len,
                                size_t start, size_t end, const unsigned char *payload,
                                size_t payload_size, void *user);
int mewe__wasm_sections(const unsigned char *wasm, size_t size, mewe__section_fn fn, void *user);

/* Whether a section mewe__wasm_sections gave is the custom section named `want`. */
bool mewe__wasm_custom_is(unsigned id, const unsigned char *name, size_t name_len,
                          const char *want);

/* Finds custom section `name` in a wasm binary: its payload (after the name) and size.
 * Returns 1 when found, 0 when not, -1 when the binary is malformed. */
int mewe__wasm_custom_section(const unsigned char *wasm, size_t size, const char *name,
                              const unsigned char **payload, size_t *payload_size);

#endif /* MEWE_WASM_OBJECTS_H */
