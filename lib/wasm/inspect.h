/* A read-only look into a linked WebAssembly module: its defined functions,
 * their names from the "name" custom section, their types, locals and body bytes, how many of
 * each kind of entity the module declares (for the engines' implementation limits,
 * limits.c), and how many byte-wise distinct bodies each multivariant family has after
 * wasm-ld.
 *
 * Variants of a diversified function f are the defined functions named exactly
 * "f.mewe.v<N>" (N a non-empty string of decimal digits); f itself is the dispatcher and is
 * not counted. Checking bodies in the final module catches diversifiers whose IR differences
 * the backend folds away.
 *
 * The parser trusts nothing: every read is bounds-checked, it never aborts, prints or keeps
 * global state, so it is safe on arbitrary input and from several threads. It takes no
 * context: it is a function of the bytes alone, and returns libmewe statuses (MEWE_EPARSE for
 * malformed input) that its callers turn into a message naming the module. */
#ifndef MEWE_WASM_INSPECT_H
#define MEWE_WASM_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mewe/common.h>

typedef struct mewe__wasm_func {
    /* From the function-names subsection (id 1) of the "name" section, or in a relocatable
     * object without one, from the symbol table of its "linking" section: a NUL-terminated
     * copy owned by the info, or NULL when unnamed (or the name holds a NUL byte). */
    const char *name;
    /* The function body inside the code section, locals included; points into the buffer
     * given to mewe__wasm_parse, which must outlive the info. */
    const unsigned char *body;
    size_t body_len;
    /* Index into mewe__wasm_info.types (checked to be in range). */
    uint32_t type;
    /* Locals the body declares, parameters not included. */
    uint32_t locals;
} mewe__wasm_func;

/* A function type of the type section. */
typedef struct mewe__wasm_functype {
    uint32_t params;
    uint32_t results;
    /* Their value types, one byte each, in the buffer given to mewe__wasm_parse. */
    const unsigned char *param_types;
    const unsigned char *result_types;
} mewe__wasm_functype;

/* How many of each kind of entity the module has (imported ones included where the engines
 * count them so), and the largest sizes it declares. */
typedef struct mewe__wasm_counts {
    size_t bytes; /* the whole module */
    size_t types;
    size_t imports;
    size_t exports;
    size_t functions; /* imported and defined */
    size_t globals;   /* imported and defined */
    size_t tables;    /* imported and defined */
    size_t memories;  /* imported and defined */
    size_t tags;      /* imported and defined */
    size_t data_segments;
    size_t elem_segments;
    uint64_t table_initial_max; /* the largest initial size of a table */
    uint64_t memory_pages_max;  /* the largest initial or maximum page count of a memory */
    uint64_t elem_entries_max;  /* the most entries of one element segment */
} mewe__wasm_counts;

typedef struct mewe__wasm_info {
    /* Defined functions only, in code-section order: funcs[i] has function index
     * import_func_count + i. */
    mewe__wasm_func *funcs;
    size_t func_count;
    size_t import_func_count;
    /* Bytes of the code section payload (0 without a code section). */
    size_t code_size;
    /* The type section's function types, in order. */
    mewe__wasm_functype *types;
    size_t type_count;
    mewe__wasm_counts counts;
} mewe__wasm_info;

/* One variant family found by mewe__wasm_families. */
typedef struct mewe__wasm_family {
    char *family;    /* "f" for variants "f.mewe.v<N>"; malloc'd, NUL-terminated */
    size_t variants; /* defined functions named f.mewe.v<N> */
    size_t distinct; /* how many byte-wise different bodies they have */
} mewe__wasm_family;

/* Parses a binary module (version 1). Section framing, order and uniqueness are checked for
 * every section; the type, import, function, table, memory, export, start, element,
 * data-count, code and name sections are decoded and checked in full (function and code
 * counts agree, type indices are in range, each body's local declarations are well-formed
 * and it ends with `end`); the global, tag and data sections are counted; the instructions
 * of bodies are left to mewe__wasm_body_scan. Only function types (form 0x60) and
 * one-byte value types are supported, as LLVM emits them.
 * A malformed name section also makes the module malformed, as its names are the point.
 * Returns MEWE_OK; MEWE_EINVAL for a NULL out or data, MEWE_EPARSE when data is not a
 * well-formed module, MEWE_ENOMEM; on failure *out is zeroed and nothing is left allocated. */
int mewe__wasm_parse(mewe__wasm_info *out, const void *data, size_t size);

/* Walks the instructions of a defined function's body (the MVP's and those of the
 * sign-extension, saturating conversion, bulk memory, reference types, SIMD, relaxed SIMD,
 * threads, tail call, multi-value and exception handling proposals) and gives the most
 * targets of one br_table (its default not counted; 0 without br_table). Returns MEWE_OK,
 * MEWE_EINVAL for a NULL argument, or MEWE_EPARSE when the body does not decode: an opcode
 * outside those proposals, a truncated immediate, or an `end` before the body's last byte. */
int mewe__wasm_body_scan(const mewe__wasm_func *f, uint32_t *max_br_table);

/* Whether name is "X.mewe.v<N>" (N decimal digits), with *family_len = strlen(X). */
bool mewe__wasm_variant_family(const char *name, size_t *family_len);

/* *expr_at = where a defined function's expression starts in its body (after the local
 * declarations). Returns MEWE_OK, MEWE_EINVAL for a NULL argument, MEWE_EPARSE. */
int mewe__wasm_body_expr(const mewe__wasm_func *f, size_t *expr_at);

/* *len = the length of the instruction at p (opcode and immediates), which must end by
 * `end`. Returns MEWE_OK, MEWE_EINVAL for a NULL argument, or MEWE_EPARSE as
 * mewe__wasm_body_scan. */
int mewe__wasm_instr_length(const unsigned char *p, const unsigned char *end, size_t *len);

/* A variant made to be filled in wasm (derive.h) is, until then, a forwarder: its body
 * passes its parameters, in order, to a call of another variant of its family of the same
 * type, and returns what it returns. The index into info->funcs of that variant when funcs[i]
 * is such a forwarder, else -1. In a relocatable object the call's index is the one the
 * object's own function index space gives. */
long mewe__wasm_forward_target(const mewe__wasm_info *info, size_t i);

/* Frees what mewe__wasm_parse allocated and zeroes *info; NULL and zeroed infos are fine. */
void mewe__wasm_info_free(mewe__wasm_info *info);

/* For family "f": *variants = number of defined functions named exactly "f.mewe.v<N>",
 * *distinct = number of byte-wise distinct bodies among them (0/0 when there are none); a
 * forwarder (mewe__wasm_forward_target) has its target's body.
 * Returns MEWE_OK, MEWE_EINVAL for a NULL argument, MEWE_ENOMEM. */
int mewe__wasm_family_distinct(const mewe__wasm_info *info, const char *family, size_t *variants,
                               size_t *distinct);

/* The mean over every pair of bodies of family "f" (its variants, v0 the original's body
 * included; a forwarder with its target's body) of mewe__wasm_body_difference; 0 with fewer
 * than two, -1 when out of memory or for a NULL argument. */
double mewe__wasm_family_difference(const mewe__wasm_info *info, const char *family);

/* Groups every "X.mewe.v<N>" function by family X in one O(n log n) pass. *out (NULL when
 * *count is 0) is sorted byte-wise by family name; free it with mewe__wasm_families_free.
 * Returns MEWE_OK, MEWE_EINVAL for a NULL argument, MEWE_ENOMEM (then *out = NULL,
 * *count = 0). */
int mewe__wasm_families(const mewe__wasm_info *info, mewe__wasm_family **out, size_t *count);

void mewe__wasm_families_free(mewe__wasm_family *families, size_t count);

/* The names of a module's defined functions, sorted byte-wise: what a link kept. The
 * names are borrowed from the info, which must outlive the set. */
typedef struct mewe__wasm_name_set {
    const char **names;
    size_t count;
} mewe__wasm_name_set;

/* Returns MEWE_OK, or MEWE_ENOMEM (then the set is empty). */
int mewe__wasm_name_set_make(mewe__wasm_name_set *out, const mewe__wasm_info *info);
bool mewe__wasm_name_set_has(const mewe__wasm_name_set *set, const char *name);
void mewe__wasm_name_set_free(mewe__wasm_name_set *set);

/* A variant whose body is byte for byte another's of its family: the code of one function. */
typedef struct mewe__wasm_twin {
    const char *dup;  /* "f.mewe.v<N>", borrowed from the info */
    const char *twin; /* the lowest-numbered variant of f with the same body (v0: the
                       * original's body) */
} mewe__wasm_twin;

/* Every variant whose body another variant of its family with a lower number has, in one
 * O(n log n) pass, forwarders left out (emission fills them after the review); *out is
 * malloc'd (NULL when *count is 0). Returns MEWE_OK, MEWE_EINVAL for a NULL argument,
 * MEWE_ENOMEM (then *out = NULL, *count = 0). */
int mewe__wasm_twins(const mewe__wasm_info *info, mewe__wasm_twin **out, size_t *count);

/* How different two bodies are, in [0, 1]: the Jaccard distance between the sets of their
 * 4-byte substrings (0 for equal bodies, 1 for bodies that share no 4 bytes in a row). Cheap
 * next to an alignment and, like one, insensitive to where in the body a change sits.
 * Returns -1 when out of memory. */
double mewe__wasm_body_difference(const unsigned char *a, size_t a_len, const unsigned char *b,
                                  size_t b_len);

/* One body with its distinct 4-grams, sorted: what mewe__wasm_body_difference compares, made
 * once for a body compared with many (a family's bodies are compared pairwise). */
typedef struct mewe__wasm_grams {
    const unsigned char *body; /* borrowed */
    size_t len;
    uint32_t *g; /* malloc'd */
    size_t n;
} mewe__wasm_grams;

/* Returns MEWE_OK or MEWE_ENOMEM (then out->g is NULL). */
int mewe__wasm_grams_make(mewe__wasm_grams *out, const unsigned char *body, size_t len);
void mewe__wasm_grams_free(mewe__wasm_grams *g);
/* mewe__wasm_body_difference of the two bodies. */
double mewe__wasm_grams_difference(const mewe__wasm_grams *a, const mewe__wasm_grams *b);

#endif /* MEWE_WASM_INSPECT_H */
