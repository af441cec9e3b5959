/* Code generation to wasm objects, split into partitions compiled in parallel.
 *
 * A large module is split into partitions: groups of functions of about the same size, with
 * the globals they use. Each partition is compiled by a worker thread in an LLVM context of
 * its own (LLVM contexts are not shared between threads) to a relocatable wasm object, and
 * wasm-ld links the objects, as LLVM's own parallel code generation does (SplitModule).
 * How the module is split depends on the module alone, never on the number of threads: the
 * objects, and so the linked output, are the same bytes whatever the thread count. */
#ifndef MEWE_WASM_CODEGEN_H
#define MEWE_WASM_CODEGEN_H

#include "internal.h"

#define MEWE__WASM_TRIPLE "wasm32-unknown-wasi"

/* Functions of one partition whose code duplicates another's there: each duplicate's uses
 * become uses of its twin, and the duplicate goes. */
typedef struct mewe__twin_pair {
    char *dup, *twin; /* names as the objects carry them; malloc'd */
    unsigned part;    /* the partition (object) both are in */
} mewe__twin_pair;

typedef struct mewe__twins {
    mewe__twin_pair *pairs;
    size_t count, cap;
} mewe__twins;

void mewe__twins_free(mewe__twins *t);

struct mewe__objects;

typedef struct mewe__codegen_in {
    LLVMModuleRef llvm;         /* borrowed, never changed */
    const char *name;           /* the module's name, for messages */
    int level;                  /* code generation level 0..3 */
    unsigned threads;           /* worker threads; 0: the cores this process may use */
    bool retarget;              /* the module has no triple: emit it as MEWE__WASM_TRIPLE */
    const char *const *exports; /* functions to export, checked to be defined */
    size_t export_count;
    /* When set, only the defined functions it names (and those an alias stands for) are
     * compiled; the others become declarations. Such objects are for reading bodies (the
     * preservation check), not for linking. */
    bool (*keep)(const char *name, void *data);
    void *keep_data;
    /* When set, called once with the objects made, before they are returned: what it puts
     * in *twins (partitions in range, names of functions defined there) is merged, and each
     * partition that holds a duplicate is compiled again (the plan is the same: the module
     * has not changed) with the duplicate's uses turned into uses of its twin and the
     * duplicate deleted. A failure of the review ends code generation with its status. */
    int (*review)(void *data, const struct mewe__objects *objs, mewe__twins *twins);
    void *review_data;
    /* Functions not to be compiled (sorted byte-wise): the link these objects are for drops
     * them, and nothing compiled names them (mewe__unlinked_needless). */
    char *const *unlinked;
    size_t unlinked_count;
} mewe__codegen_in;

/* Instructions per partition aimed at; 0 for the default. Only the white-box tests set it,
 * low, to split small modules (the one piece of mutable global state: never set it while a
 * module is emitted). */
extern size_t mewe__codegen_partition_instructions;

/* The objects, one per partition, in the order they are to be linked. */
typedef struct mewe__objects {
    void **data; /* each malloc'd */
    size_t *size;
    size_t count;
    size_t bitcode_size; /* the module's size in bitcode, which code generation reads */
} mewe__objects;

/* Compiles the module to count >= 1 objects. Errors are set on ctx, naming the module (and
 * the partition's functions when one fails); on error *out is empty. */
int mewe__codegen(mewe_context *ctx, const mewe__codegen_in *in, mewe__objects *out);
void mewe__objects_free(mewe__objects *o);

/* The number of processors this process may run on (at least 1). */
unsigned mewe__cpu_count(void);

#endif /* MEWE_WASM_CODEGEN_H */
