/* Partitioned, parallel code generation (see codegen.h).
 *
 * The caller's module is only read: it is written to bitcode once, and every worker loads
 * that bitcode lazily in its own LLVM context (function bodies are parsed only when asked
 * for), parses the bodies of its partition, turns every other function into a declaration,
 * and compiles. No worker ever holds the whole module's bodies, and a partition is freed as
 * soon as its object is made.
 *
 * What a split must keep:
 * - a static (local) function or variable used from another partition is reached there
 *   under a hidden name of its own, NAME.mewe.p<hash of the module>, that no library symbol
 *   can bind to; a function keeps its local symbol and gets that name as an alias, so that
 *   the linked module's name section is the same as without the split;
 * - functions whose labels are taken (blockaddress, the label tables of computed goto) stay
 *   with every function and variable that holds those labels;
 * - members of one comdat stay together;
 * - llvm.used and llvm.compiler.used are split so that each partition lists what it defines;
 *   the constructor and destructor lists stay whole, in order, in partition 0, as does
 *   module-level asm;
 * - an alias goes with what it stands for (clang makes one for every main(void));
 * Modules with ifuncs, aliases of something else than a definition, or appending globals
 * other than these are not split. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Comdat.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "ir/family.h"
#include "ir/ptrmap.h"
#include "wasm/codegen.h"
#include "util/hash.h"
#include "wasm/names.h"

/* About this many LLVM instructions per partition: large enough that what every partition
 * repeats (parsing the module's declarations and constants, a target machine, an object's
 * headers) stays small next to compiling it, small enough to keep two to eight cores busy
 * on the programs that need it (a 270,000-line program becomes about 30 partitions). */
#define PARTITION_INSTRUCTIONS 30000
#define MAX_PARTITIONS         256
/* Worker threads compile whole functions with deep recursion (SelectionDAG). */
#define WORKER_STACK           (16u << 20)

size_t mewe__codegen_partition_instructions;

enum {
    F_ALIAS = 1,  /* local, used from another partition: reached through an alias */
    F_LABELS = 2, /* a function whose labels are taken: parsed in every partition */
    F_EXPORT = 4, /* exported: external under its own name */
    F_SKIP = 8,   /* not to be compiled (.keep, .unlinked): a declaration everywhere */
};

#define NO_PART UINT32_MAX

/* A worker's message that is the whole message starts with this byte. */
#define RAW "\001"

typedef struct plan {
    size_t nfn, nvar, nal;
    unsigned parts;
    uint32_t *fn_part;  /* partition of each function in module order; NO_PART: declaration */
    uint32_t *var_part; /* the same for global variables */
    unsigned char *fn_flags, *var_flags;
    uint32_t *al_part; /* aliases: their aliasee's partition */
    size_t *part_cost; /* estimated cost of each partition (cost_of) */
    unsigned char *al_flags;
    char suffix[32]; /* ".mewe.p<16 hex digits>" */
} plan;

static void plan_free(plan *pl)
{
    free(pl->fn_part);
    free(pl->var_part);
    free(pl->fn_flags);
    free(pl->var_flags);
    free(pl->al_part);
    free(pl->part_cost);
    free(pl->al_flags);
}

unsigned mewe__cpu_count(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

void mewe__twins_free(mewe__twins *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->pairs[i].dup);
        free(t->pairs[i].twin);
    }
    free(t->pairs);
    memset(t, 0, sizeof *t);
}

void mewe__objects_free(mewe__objects *o)
{
    for (size_t i = 0; o->data && i < o->count; i++)
        free(o->data[i]);
    free(o->data);
    free(o->size);
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------------ planning */

typedef struct planner {
    plan *pl;
    LLVMValueRef *fns, *vars;
    mewe__ptrmap index;   /* global object -> its node + 1: functions first, then variables */
    size_t *uf;           /* union-find over the nodes */
    unsigned char *state; /* variables' homes: 0 unknown, 1 being computed, 2 known */
} planner;

static size_t uf_find(size_t *uf, size_t x)
{
    while (uf[x] != x) {
        uf[x] = uf[uf[x]];
        x = uf[x];
    }
    return x;
}

/* Joins two nodes; the smaller root stays the root, so that groups are ordered by their
 * first member. */
static void uf_join(size_t *uf, size_t a, size_t b)
{
    a = uf_find(uf, a);
    b = uf_find(uf, b);
    if (a < b)
        uf[b] = a;
    else if (b < a)
        uf[a] = b;
}

static size_t node_of(const planner *p, LLVMValueRef v)
{
    return (size_t)(uintptr_t)mewe__ptrmap_get(&p->index, v) - 1; /* SIZE_MAX if absent */
}

static bool is_local(LLVMValueRef g)
{
    LLVMLinkage l = LLVMGetLinkage(g);
    return l == LLVMInternalLinkage || l == LLVMPrivateLinkage;
}

static bool name_is(LLVMValueRef v, const char *want)
{
    size_t len;
    const char *name = LLVMGetValueName2(v, &len);
    return strlen(want) == len && memcmp(want, name, len) == 0;
}

/* llvm.used and llvm.compiler.used, which are split: each partition lists what it defines.
 * The constructor and destructor lists stay whole in partition 0, in their order. */
static bool is_used_list(LLVMValueRef v)
{
    return LLVMIsAGlobalVariable(v) && LLVMGetLinkage(v) == LLVMAppendingLinkage &&
           (name_is(v, "llvm.used") || name_is(v, "llvm.compiler.used"));
}

/* The global object an alias stands for, or NULL when its aliasee is not one (plus offsets
 * and casts) that this module defines. */
static LLVMValueRef alias_base(LLVMValueRef a)
{
    LLVMValueRef v = LLVMAliasGetAliasee(a);
    for (int depth = 0; v && LLVMIsAConstantExpr(v) && depth < 16; depth++)
        v = LLVMGetOperand(v, 0);
    if (!v || !(LLVMIsAFunction(v) || LLVMIsAGlobalVariable(v)) || LLVMIsDeclaration(v))
        return NULL;
    return v;
}

/* Joins function `fn` with whatever holds blockaddress `ba`: the functions whose code uses
 * it and the variables whose initializers do. */
static void join_label_users(planner *p, size_t fn, LLVMValueRef c, int depth)
{
    for (LLVMUseRef u = LLVMGetFirstUse(c); u && depth < 64; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMIsAInstruction(user)) {
            size_t n = node_of(p, LLVMGetBasicBlockParent(LLVMGetInstructionParent(user)));
            if (n != SIZE_MAX)
                uf_join(p->uf, fn, n);
        } else if (LLVMIsAGlobalVariable(user)) {
            size_t n = node_of(p, user);
            if (n != SIZE_MAX && !is_used_list(user))
                uf_join(p->uf, fn, n);
        } else if (LLVMIsAConstant(user) && !LLVMIsAGlobalValue(user)) {
            join_label_users(p, fn, user, depth + 1);
        }
    }
}

static uint32_t var_home(planner *p, size_t j);

/* Partitions that use value v (a bit each, the partitions above 63 sharing the last bit),
 * through code, initializers and constant expressions. Appending globals do not count:
 * they are split per partition. */
static uint64_t users_mask(planner *p, LLVMValueRef v, int depth)
{
    uint64_t mask = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(v); u && depth < 64; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        uint32_t part = NO_PART;
        if (LLVMIsAInstruction(user)) {
            size_t n = node_of(p, LLVMGetBasicBlockParent(LLVMGetInstructionParent(user)));
            part = n < p->pl->nfn ? p->pl->fn_part[n] : NO_PART;
        } else if (LLVMIsAFunction(user)) { /* personality, prefix or prologue data */
            size_t n = node_of(p, user);
            part = n < p->pl->nfn ? p->pl->fn_part[n] : NO_PART;
        } else if (LLVMIsAGlobalVariable(user)) {
            size_t n = node_of(p, user);
            if (!is_used_list(user) && n != SIZE_MAX && n >= p->pl->nfn)
                part = var_home(p, n - p->pl->nfn);
        } else if (LLVMIsAConstant(user) && !LLVMIsAGlobalValue(user)) {
            mask |= users_mask(p, user, depth + 1);
        } /* an alias lives with what it stands for */
        if (part != NO_PART)
            mask |= 1ull << (part < 63 ? part : 63);
    }
    return mask;
}

/* The least partition among those that use variable v directly, through constants, or
 * through the variables that hold its address (a string's home is its table's). Cycles of
 * variables count as no use. */
static uint32_t least_user(planner *p, LLVMValueRef v, int depth)
{
    uint32_t best = NO_PART;
    for (LLVMUseRef u = LLVMGetFirstUse(v); u && depth < 64; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        uint32_t part = NO_PART;
        if (LLVMIsAInstruction(user) || LLVMIsAFunction(user)) {
            LLVMValueRef fn = LLVMIsAFunction(user)
                                  ? user
                                  : LLVMGetBasicBlockParent(LLVMGetInstructionParent(user));
            size_t n = node_of(p, fn);
            part = n < p->pl->nfn ? p->pl->fn_part[n] : NO_PART;
        } else if (LLVMIsAGlobalVariable(user)) {
            size_t n = node_of(p, user);
            if (!is_used_list(user) && n != SIZE_MAX && n >= p->pl->nfn &&
                p->state[n - p->pl->nfn] != 1)
                part = var_home(p, n - p->pl->nfn);
        } else if (LLVMIsAConstant(user) && !LLVMIsAGlobalValue(user)) {
            part = least_user(p, user, depth + 1);
        }
        if (part < best)
            best = part;
    }
    return best;
}

static uint32_t var_home(planner *p, size_t j)
{
    plan *pl = p->pl;
    if (p->state[j] == 2)
        return pl->var_part[j];
    p->state[j] = 1;
    uint32_t home = least_user(p, p->vars[j], 0);
    pl->var_part[j] = home == NO_PART ? 0 : home;
    p->state[j] = 2;
    return pl->var_part[j];
}

static size_t instruction_count(LLVMValueRef fn)
{
    size_t n = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
            n++;
    return n;
}

/* What compiling a function of n instructions costs, in instructions: code generation
 * grows faster than the size for large functions (a 10,000-instruction interpreter loop
 * takes several times ten 1,000-instruction functions), so that one alone is a partition. */
static size_t cost_of(size_t n)
{
    return n + 1 + n / 64 * n / 256;
}

/* Whether the appending globals are ones this file knows how to split. */
static bool appending_known(LLVMModuleRef m)
{
    for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
        if (LLVMGetLinkage(g) == LLVMAppendingLinkage && !is_used_list(g) &&
            !name_is(g, "llvm.global_ctors") && !name_is(g, "llvm.global_dtors"))
            return false;
    return true;
}

static bool is_export(const mewe__codegen_in *in, LLVMValueRef fn)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    for (size_t i = 0; i < in->export_count; i++)
        if (strlen(in->exports[i]) == len && memcmp(in->exports[i], name, len) == 0)
            return true;
    return false;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether fn is not to be compiled: the link these objects are for drops it. */
static bool unlinked(const mewe__codegen_in *in, LLVMValueRef fn)
{
    if (!in->unlinked_count || LLVMIsDeclaration(fn))
        return false;
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    return strlen(name) == len &&
           bsearch(&name, in->unlinked, in->unlinked_count, sizeof *in->unlinked, by_str) != NULL;
}

/* A check of variants (mewe__codegen_in.keep) and a review of the output compare a family's
 * bodies byte for byte, and the indices a relocation leaves in a body are its object's own: a
 * call compiles to other bytes in another partition. So there, variants ("mewe-variant-of")
 * stay with their original. Returns -1 when out of memory. */
static int join_families(planner *p, LLVMModuleRef m)
{
    for (size_t i = 0; i < p->pl->nfn; i++) {
        unsigned len;
        const char *of = mewe__variant_of(p->fns[i], &len);
        if (!of || LLVMIsDeclaration(p->fns[i]))
            continue;
        char *name = mewe__printf("%.*s", (int)len, of);
        if (!name)
            return -1;
        LLVMValueRef original = LLVMGetNamedFunction(m, name);
        free(name);
        size_t n = original ? node_of(p, original) : SIZE_MAX;
        if (n < p->pl->nfn)
            uf_join(p->uf, n, i);
    }
    return 0;
}

/* Splits the functions into groups that must stay together, then cuts the groups, in
 * module order (which keeps a source file's functions together), into partitions of about
 * the same number of instructions. */
static int plan_make(plan *pl, const mewe__codegen_in *in, const void *bc, size_t bc_size)
{
    LLVMModuleRef m = in->llvm;
    memset(pl, 0, sizeof *pl);
    snprintf(pl->suffix, sizeof pl->suffix, ".mewe.p%016llx",
             (unsigned long long)mewe__fnv1a(bc, bc_size));
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        pl->nfn++;
    for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
        pl->nvar++;
    bool aliases_known = true;
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(m); a; a = LLVMGetNextGlobalAlias(a)) {
        pl->nal++;
        aliases_known &= alias_base(a) != NULL;
    }
    size_t nodes = pl->nfn + pl->nvar;
    planner p = {pl, NULL, NULL, {0}, NULL, NULL};
    size_t *weight = NULL;
    int rc = MEWE_ENOMEM;
    pl->fn_part = calloc(pl->nfn + 1, sizeof *pl->fn_part);
    pl->var_part = calloc(pl->nvar + 1, sizeof *pl->var_part);
    pl->fn_flags = calloc(pl->nfn + 1, 1);
    pl->var_flags = calloc(pl->nvar + 1, 1);
    pl->al_part = calloc(pl->nal + 1, sizeof *pl->al_part);
    pl->al_flags = calloc(pl->nal + 1, 1);
    p.fns = calloc(pl->nfn + 1, sizeof *p.fns);
    p.vars = calloc(pl->nvar + 1, sizeof *p.vars);
    p.uf = calloc(nodes + 1, sizeof *p.uf);
    p.state = calloc(pl->nvar + 1, 1);
    weight = calloc(nodes + 1, sizeof *weight);
    if (!pl->fn_part || !pl->var_part || !pl->fn_flags || !pl->var_flags || !pl->al_part ||
        !pl->al_flags || !p.fns || !p.vars || !p.uf || !p.state || !weight ||
        mewe__ptrmap_init(&p.index, nodes) != 0)
        goto out;
    size_t i = 0, total = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f), i++) {
        p.fns[i] = f;
        pl->fn_part[i] = LLVMIsDeclaration(f) ? NO_PART : 0;
        if (pl->fn_part[i] != NO_PART && in->keep &&
            !in->keep(LLVMGetValueName2(f, &(size_t){0}), in->keep_data))
            pl->fn_flags[i] |= F_SKIP;
        if (pl->fn_part[i] != NO_PART && unlinked(in, f))
            pl->fn_flags[i] |= F_SKIP;
        weight[i] =
            LLVMIsDeclaration(f) || (pl->fn_flags[i] & F_SKIP) ? 0 : cost_of(instruction_count(f));
        total += weight[i];
        if (mewe__ptrmap_put(&p.index, f, (void *)(uintptr_t)(i + 1)) != 0)
            goto out;
    }
    /* An alias must name a definition: what one stands for is compiled. */
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(m); (in->keep || in->unlinked_count) && a;
         a = LLVMGetNextGlobalAlias(a)) {
        size_t n = node_of(&p, alias_base(a));
        if (n < pl->nfn && (pl->fn_flags[n] & F_SKIP)) {
            pl->fn_flags[n] &= (unsigned char)~F_SKIP;
            weight[n] = cost_of(instruction_count(p.fns[n]));
            total += weight[n];
        }
    }
    i = 0;
    for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g), i++) {
        p.vars[i] = g;
        pl->var_part[i] = LLVMIsDeclaration(g) ? NO_PART : 0;
        if (mewe__ptrmap_put(&p.index, g, (void *)(uintptr_t)(pl->nfn + i + 1)) != 0)
            goto out;
    }
    for (i = 0; i < pl->nfn; i++)
        pl->fn_flags[i] |= is_export(in, p.fns[i]) && pl->fn_part[i] != NO_PART ? F_EXPORT : 0;
    size_t target = mewe__codegen_partition_instructions ? mewe__codegen_partition_instructions
                                                         : PARTITION_INSTRUCTIONS;
    size_t parts = (total + target - 1) / target;
    if (parts > MAX_PARTITIONS)
        parts = MAX_PARTITIONS;
    if (parts <= 1 || !aliases_known || LLVMGetFirstGlobalIFunc(m) || !appending_known(m)) {
        pl->parts = 1;
        rc = MEWE_OK;
        goto out;
    }
    for (i = 0; i < nodes; i++)
        p.uf[i] = i;
    /* What must stay together. */
    if ((in->keep || in->review) && join_families(&p, m) != 0)
        goto out;
    mewe__ptrmap comdats = {0};
    if (mewe__ptrmap_init(&comdats, 64) != 0)
        goto out;
    for (i = 0; i < nodes; i++) {
        LLVMValueRef g = i < pl->nfn ? p.fns[i] : p.vars[i - pl->nfn];
        if (LLVMIsDeclaration(g))
            continue;
        LLVMComdatRef c = LLVMGetComdat(g);
        if (c) {
            size_t first = (size_t)(uintptr_t)mewe__ptrmap_get(&comdats, c);
            if (first)
                uf_join(p.uf, first - 1, i);
            else if (mewe__ptrmap_put(&comdats, c, (void *)(uintptr_t)(i + 1)) != 0) {
                mewe__ptrmap_fini(&comdats);
                goto out;
            }
        }
        if (i >= pl->nfn)
            continue;
        for (LLVMUseRef u = LLVMGetFirstUse(g); u; u = LLVMGetNextUse(u)) {
            LLVMValueRef user = LLVMGetUser(u);
            if (LLVMGetValueKind(user) == LLVMBlockAddressValueKind) {
                pl->fn_flags[i] |= F_LABELS;
                join_label_users(&p, i, user, 0);
            }
        }
    }
    mewe__ptrmap_fini(&comdats);
    /* Group weights on the roots, then the cut: groups in order of their first member. */
    for (i = 0; i < pl->nfn; i++) {
        size_t r = uf_find(p.uf, i);
        if (r != i)
            weight[r] += weight[i], weight[i] = 0;
    }
    size_t done = 0;
    uint32_t part = 0;
    uint32_t *root_part = calloc(nodes + 1, sizeof *root_part);
    if (!root_part)
        goto out;
    for (i = 0; i < nodes; i++)
        root_part[i] = NO_PART;
    for (i = 0; i < pl->nfn; i++) {
        if (uf_find(p.uf, i) != i || pl->fn_part[i] == NO_PART)
            continue;
        /* A new partition starts once the ones before it hold their share; one at a time,
         * so that none is empty after a group larger than a share. */
        if (part + 1 < parts && done >= (part + 1) * total / parts)
            part++;
        root_part[i] = part;
        done += weight[i];
    }
    pl->parts = part + 1;
    pl->part_cost = calloc(pl->parts, sizeof *pl->part_cost);
    if (!pl->part_cost) {
        free(root_part);
        goto out;
    }
    for (i = 0; i < pl->nfn; i++)
        if (uf_find(p.uf, i) == i && root_part[i] != NO_PART)
            pl->part_cost[root_part[i]] += weight[i];
    for (i = 0; i < pl->nfn; i++)
        if (pl->fn_part[i] != NO_PART)
            pl->fn_part[i] = root_part[uf_find(p.uf, i)];
    /* Variables held with a function (labels, comdats) go with it; the others live where
     * they are first used. */
    for (i = 0; i < pl->nvar; i++) {
        size_t r = uf_find(p.uf, pl->nfn + i);
        if (pl->var_part[i] != NO_PART && r < pl->nfn && root_part[r] != NO_PART) {
            pl->var_part[i] = root_part[r];
            p.state[i] = 2;
        }
    }
    for (i = 0; i < pl->nvar; i++)
        if (pl->var_part[i] != NO_PART)
            var_home(&p, i);
    /* A comdat of variables alone follows its first member. */
    for (i = 0; i < pl->nvar; i++) {
        size_t r = uf_find(p.uf, pl->nfn + i);
        if (pl->var_part[i] != NO_PART && r >= pl->nfn && r != pl->nfn + i)
            pl->var_part[i] = pl->var_part[r - pl->nfn];
    }
    free(root_part);
    i = 0;
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(m); a; a = LLVMGetNextGlobalAlias(a), i++) {
        size_t n = node_of(&p, alias_base(a));
        pl->al_part[i] = n < pl->nfn ? pl->fn_part[n] : pl->var_part[n - pl->nfn];
        uint32_t home = pl->al_part[i];
        if (is_local(a) && (users_mask(&p, a, 0) & ~(1ull << (home < 63 ? home : 63))))
            pl->al_flags[i] |= F_ALIAS;
    }
    /* Locals used across partitions get their alias. */
    for (i = 0; i < nodes; i++) {
        bool fn = i < pl->nfn;
        LLVMValueRef g = fn ? p.fns[i] : p.vars[i - pl->nfn];
        uint32_t home = fn ? pl->fn_part[i] : pl->var_part[i - pl->nfn];
        if (home == NO_PART || !is_local(g) || (fn && (pl->fn_flags[i] & F_EXPORT)))
            continue;
        uint64_t mask = users_mask(&p, g, 0);
        if (mask & ~(1ull << (home < 63 ? home : 63)) || (home >= 63 && mask & (1ull << 63))) {
            if (fn)
                pl->fn_flags[i] |= F_ALIAS;
            else
                pl->var_flags[i - pl->nfn] |= F_ALIAS;
        }
    }
    rc = MEWE_OK;
out:
    mewe__ptrmap_fini(&p.index);
    free(p.fns);
    free(p.vars);
    free(p.uf);
    free(p.state);
    free(weight);
    if (rc != MEWE_OK)
        plan_free(pl);
    return rc;
}

/* ------------------------------------------------------------------ workers */

typedef struct job {
    const mewe__codegen_in *in;
    const plan *pl;
    const void *bc;
    size_t bc_size;
    LLVMTargetRef target;
    pthread_mutex_t lock;
    unsigned next;   /* next entry of order to take */
    unsigned *order; /* the partitions, costliest first: the longest start first */
    bool failed;     /* a partition failed: take no more */
    void **obj;      /* per partition */
    size_t *obj_size;
    int *rc;                  /* per partition */
    char **msg;               /* per partition: what went wrong */
    double *seconds;          /* per partition: the worker's CPU time, for the debug log */
    unsigned todo;            /* how many entries of order to compile */
    const mewe__twins *twins; /* the review's, for a partition compiled again; or NULL */
} job;

typedef struct diag {
    char *text;
} diag;

static void diag_handler(LLVMDiagnosticInfoRef info, void *data)
{
    diag *d = data;
    LLVMDiagnosticSeverity sev = LLVMGetDiagInfoSeverity(info);
    if (sev != LLVMDSError && sev != LLVMDSWarning)
        return;
    char *text = LLVMGetDiagInfoDescription(info);
    char *joined = d->text ? mewe__printf("%s; %s", d->text, text) : mewe__strdup(text);
    LLVMDisposeMessage(text);
    if (joined) {
        free(d->text);
        d->text = joined;
    }
}

/* The global's name with the plan's suffix; unnamed globals, and those whose names are not
 * plain ASCII (a wasm symbol is UTF-8, see names.h), are numbered. */
static char *alias_name(const plan *pl, LLVMValueRef g, char kind, size_t index)
{
    size_t len;
    const char *name = LLVMGetValueName2(g, &len);
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        ascii &= (unsigned char)name[i] < 0x80 && name[i] != '\0';
    if (len == 0 || !ascii)
        return mewe__printf("mewe.anon.%c%zu%s", kind, index, pl->suffix);
    return mewe__printf("%.*s%s", (int)len, name, pl->suffix);
}

/* A declaration that stands for fn, which another partition defines. */
static LLVMValueRef declaration_for(LLVMModuleRef mod, LLVMValueRef fn)
{
    LLVMValueRef d = LLVMAddFunction(mod, "mewe.partition.decl", LLVMGlobalGetValueType(fn));
    unsigned params = LLVMCountParams(fn);
    for (int idx = -1; idx <= (int)params; idx++) {
        LLVMAttributeIndex at =
            idx < 0 ? (LLVMAttributeIndex)LLVMAttributeFunctionIndex : (LLVMAttributeIndex)idx;
        unsigned n = LLVMGetAttributeCountAtIndex(fn, at);
        if (!n)
            continue;
        LLVMAttributeRef attrs[n];
        LLVMGetAttributesAtIndex(fn, at, attrs);
        for (unsigned k = 0; k < n; k++)
            LLVMAddAttributeAtIndex(d, at, attrs[k]);
    }
    LLVMSetFunctionCallConv(d, LLVMGetFunctionCallConv(fn));
    LLVMSetVisibility(d, LLVMGetVisibility(fn));
    LLVMSetUnnamedAddress(d, LLVMGetUnnamedAddress(fn));
    return d;
}

/* Keeps, of an appending global's entries, those this partition defines; entries that name
 * no definition at all stay in partition 0. */
static void split_appending(LLVMModuleRef mod, LLVMValueRef g, unsigned p,
                            const mewe__ptrmap *part_of)
{
    LLVMValueRef init = LLVMGetInitializer(g);
    if (!init)
        return;
    unsigned n = (unsigned)LLVMGetArrayLength2(LLVMGlobalGetValueType(g));
    LLVMValueRef *keep = calloc(n + 1, sizeof *keep);
    if (!keep)
        return;
    unsigned kept = 0;
    for (unsigned k = 0; k < n; k++) {
        LLVMValueRef e = LLVMGetAggregateElement(init, k);
        LLVMValueRef target = e;
        if (e && LLVMIsAConstantStruct(e) && LLVMGetNumOperands(e) >= 2)
            target = LLVMGetOperand(e, 1);
        while (target && LLVMIsAConstantExpr(target) &&
               (LLVMGetConstOpcode(target) == LLVMBitCast ||
                LLVMGetConstOpcode(target) == LLVMAddrSpaceCast))
            target = LLVMGetOperand(target, 0);
        uintptr_t where = target ? (uintptr_t)mewe__ptrmap_get(part_of, target) : 0;
        /* where: partition + 1 of a definition, 0 for anything else */
        if (where ? where - 1 == p : p == 0)
            keep[kept++] = e;
    }
    if (kept < n) {
        LLVMTypeRef elem = LLVMGetElementType(LLVMGlobalGetValueType(g));
        size_t len;
        const char *gname = LLVMGetValueName2(g, &len);
        char *name = mewe__printf("%.*s", (int)len, gname);
        const char *section = LLVMGetSection(g);
        char *sec = section ? mewe__strdup(section) : NULL;
        LLVMSetValueName2(g, "mewe.partition.old", 18);
        if (kept && name) {
            LLVMValueRef arr = LLVMConstArray2(elem, keep, kept);
            LLVMValueRef ng = LLVMAddGlobal(mod, LLVMTypeOf(arr), name);
            LLVMSetInitializer(ng, arr);
            LLVMSetLinkage(ng, LLVMAppendingLinkage);
            if (sec && sec[0])
                LLVMSetSection(ng, sec);
        }
        LLVMDeleteGlobal(g);
        free(name);
        free(sec);
    }
    free(keep);
}

/* An alias lives with what it stands for. Elsewhere it cannot go (LLVM-C deletes no
 * alias): it is made a local alias of a local stub that the linker drops as unused, and a
 * declaration under its name takes its uses. */
static int prepare_alias(const plan *pl, unsigned p, LLVMModuleRef mod, LLVMValueRef a, size_t k)
{
    unsigned char flags = pl->al_flags[k];
    if (pl->al_part[k] == p) {
        if (flags & F_ALIAS) {
            char *name = alias_name(pl, a, 'a', k);
            if (!name)
                return MEWE_ENOMEM;
            LLVMSetValueName2(a, name, strlen(name));
            free(name);
            LLVMSetLinkage(a, LLVMExternalLinkage);
            LLVMSetVisibility(a, LLVMHiddenVisibility);
        }
        return MEWE_OK;
    }
    LLVMTypeRef vt = LLVMGlobalGetValueType(a);
    unsigned space = LLVMGetPointerAddressSpace(LLVMTypeOf(a));
    bool fn = LLVMGetTypeKind(vt) == LLVMFunctionTypeKind;
    size_t len;
    const char *own = LLVMGetValueName2(a, &len);
    char *name = flags & F_ALIAS ? alias_name(pl, a, 'a', k) : mewe__printf("%.*s", (int)len, own);
    if (!name)
        return MEWE_ENOMEM;
    LLVMVisibility vis = flags & F_ALIAS ? LLVMHiddenVisibility : LLVMGetVisibility(a);
    LLVMValueRef decl = fn ? LLVMAddFunction(mod, "mewe.partition.decl", vt)
                           : LLVMAddGlobalInAddressSpace(mod, vt, "mewe.partition.decl", space);
    LLVMReplaceAllUsesWith(a, decl);
    LLVMValueRef stub;
    if (fn) {
        stub = LLVMAddFunction(mod, "mewe.partition.stub", vt);
        LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetModuleContext(mod));
        LLVMPositionBuilderAtEnd(
            b, LLVMAppendBasicBlockInContext(LLVMGetModuleContext(mod), stub, "entry"));
        LLVMBuildUnreachable(b);
        LLVMDisposeBuilder(b);
    } else {
        stub = LLVMAddGlobalInAddressSpace(mod, vt, "mewe.partition.stub", space);
        LLVMSetInitializer(stub, LLVMConstNull(vt));
    }
    LLVMSetLinkage(stub, LLVMInternalLinkage);
    LLVMAliasSetAliasee(a, stub);
    LLVMSetLinkage(a, LLVMInternalLinkage);
    LLVMSetVisibility(a, LLVMDefaultVisibility);
    LLVMSetValueName2(a, "mewe.partition.alias", 20);
    if (!LLVMGetFirstUse(decl)) {
        if (fn)
            LLVMDeleteFunction(decl);
        else
            LLVMDeleteGlobal(decl);
    } else {
        LLVMSetValueName2(decl, name, strlen(name));
        LLVMSetLinkage(decl, LLVMExternalLinkage);
        LLVMSetVisibility(decl, vis);
    }
    free(name);
    return MEWE_OK;
}

/* Whether v is used only by constants that nothing uses (what dropped initializers leave). */
static bool only_dead_uses(LLVMValueRef v)
{
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (!LLVMIsAConstant(user) || LLVMIsAGlobalValue(user) || LLVMGetFirstUse(user))
            return false;
    }
    return true;
}

/* Materializes the partition's functions, declares the rest, adds the aliases. */
/* Whether instruction `user` is in a body that this partition compiles (`compiled`) other
 * than f's. */
static bool compiled_here(const mewe__ptrmap *compiled, LLVMValueRef user, LLVMValueRef f)
{
    LLVMValueRef in = LLVMGetBasicBlockParent(LLVMGetInstructionParent(user));
    return in != f && mewe__ptrmap_get(compiled, in) != NULL;
}

static int partition_prepare(const job *j, unsigned p, LLVMModuleRef mod, char **why)
{
    const plan *pl = j->pl;
    const mewe__codegen_in *in = j->in;
    size_t nfn = 0, nvar = 0, nal = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        nfn++;
    for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g))
        nvar++;
    for (LLVMValueRef a = LLVMGetFirstGlobalAlias(mod); a; a = LLVMGetNextGlobalAlias(a))
        nal++;
    if (nfn != pl->nfn || nvar != pl->nvar || nal != pl->nal) {
        *why = mewe__printf("the module read back has %zu functions, %zu variables and %zu "
                            "aliases, not %zu, %zu and %zu",
                            nfn, nvar, nal, pl->nfn, pl->nvar, pl->nal);
        return MEWE_ETARGET;
    }
    LLVMValueRef *fns = calloc(nfn + 1, sizeof *fns), *vars = calloc(nvar + 1, sizeof *vars);
    mewe__ptrmap part_of = {0}, compiled = {0};
    int rc = MEWE_ENOMEM;
    if (!fns || !vars || mewe__ptrmap_init(&part_of, nfn + nvar) != 0 ||
        mewe__ptrmap_init(&compiled, 64) != 0)
        goto out;
    size_t i = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), i++) {
        fns[i] = f;
        if (pl->fn_part[i] != NO_PART &&
            mewe__ptrmap_put(&part_of, f, (void *)(uintptr_t)(pl->fn_part[i] + 1)) != 0)
            goto out;
        if (pl->fn_part[i] == p && !(pl->fn_flags[i] & F_SKIP) &&
            mewe__ptrmap_put(&compiled, f, f) != 0)
            goto out;
    }
    i = 0;
    for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g), i++) {
        vars[i] = g;
        if (pl->var_part[i] != NO_PART &&
            mewe__ptrmap_put(&part_of, g, (void *)(uintptr_t)(pl->var_part[i] + 1)) != 0)
            goto out;
    }
    if (in->retarget)
        LLVMSetTarget(mod, MEWE__WASM_TRIPLE);
    /* Parsing the bodies (an empty function pass manager's run parses its function). Functions
     * whose labels are taken are parsed everywhere: the label tables in the initializers
     * refer to their blocks until the tables are dropped. */
    LLVMPassManagerRef fpm = LLVMCreateFunctionPassManagerForModule(mod);
    if (!fpm)
        goto out;
    LLVMInitializeFunctionPassManager(fpm);
    for (i = 0; i < nfn; i++)
        if ((pl->fn_part[i] == p && !(pl->fn_flags[i] & F_SKIP)) ||
            (pl->fn_part[i] != NO_PART && (pl->fn_flags[i] & F_LABELS)))
            LLVMRunFunctionPassManager(fpm, fns[i]);
    LLVMFinalizeFunctionPassManager(fpm);
    LLVMDisposePassManager(fpm);
    /* Objects for inspection (in->keep) are never linked: no constructor, destructor or
     * used list, which could name functions left out (a constructor list that names one
     * is a fatal error in the wasm backend). */
    for (i = 0; in->keep && i < nvar; i++) {
        if (vars[i] && LLVMGetLinkage(vars[i]) == LLVMAppendingLinkage) {
            LLVMDeleteGlobal(vars[i]);
            vars[i] = NULL;
        }
    }
    if (pl->parts > 1) {
        for (i = 0; i < nvar; i++) {
            if (!vars[i])
                continue;
            if (is_used_list(vars[i])) {
                split_appending(mod, vars[i], p, &part_of);
                vars[i] = NULL;
            } else if (LLVMGetLinkage(vars[i]) == LLVMAppendingLinkage && p != 0) {
                LLVMDeleteGlobal(vars[i]); /* the constructors: partition 0 has them */
                vars[i] = NULL;
            }
        }
        if (p != 0)
            LLVMSetModuleInlineAsm2(mod, "", 0);
        i = 0;
        for (LLVMValueRef a = LLVMGetFirstGlobalAlias(mod), next; a; a = next, i++) {
            next = LLVMGetNextGlobalAlias(a);
            rc = prepare_alias(pl, p, mod, a, i);
            if (rc != MEWE_OK)
                goto out;
        }
        rc = MEWE_ENOMEM;
    }
    /* Other partitions' variables become declarations: first every initializer goes, so
     * that what only they used is unused. */
    for (i = 0; i < nvar; i++) {
        LLVMValueRef g = vars[i];
        if (!g || pl->var_part[i] == NO_PART || pl->var_part[i] == p)
            continue;
        LLVMSetInitializer(g, NULL);
        LLVMSetComdat(g, NULL);
        LLVMGlobalClearMetadata(g);
    }
    for (i = 0; i < nvar; i++) {
        LLVMValueRef g = vars[i];
        if (!g || pl->var_part[i] == NO_PART || pl->var_part[i] == p)
            continue;
        if (is_local(g) && !(pl->var_flags[i] & F_ALIAS)) {
            LLVMReplaceAllUsesWith(g, LLVMGetPoison(LLVMTypeOf(g)));
            LLVMDeleteGlobal(g);
            vars[i] = NULL;
            continue;
        }
        if (only_dead_uses(g)) {
            /* Nothing here uses it: no undefined symbol for the linker (and LLVM 19's wasm
             * backend fails on an unused declaration of a wasm global in a module that
             * defines no function). */
            if (LLVMGetFirstUse(g))
                LLVMReplaceAllUsesWith(g, LLVMGetPoison(LLVMTypeOf(g)));
            LLVMDeleteGlobal(g);
            vars[i] = NULL;
            continue;
        }
        if (pl->var_flags[i] & F_ALIAS) {
            char *name = alias_name(pl, g, 'v', i);
            if (!name)
                goto out;
            LLVMSetValueName2(g, name, strlen(name));
            free(name);
            LLVMSetVisibility(g, LLVMHiddenVisibility);
        }
        LLVMSetLinkage(g, LLVMExternalLinkage);
    }
    /* Other partitions' functions, and those not to be compiled, become declarations. A
     * static function that no one here uses goes: its declaration is made too, so that what
     * still points at it (the label tables dropped above, as dead constants) is redirected
     * before the body goes. A static function left out by `keep` but used here stays as an
     * external declaration (such objects are for inspection, never linked); one left out
     * as unlinked is used by no function compiled (mewe__unlinked_needless), and its
     * declaration, used at most by bodies that go too, names nothing in the object. Only
     * the bodies compiled here count as uses: another partition's function whose labels
     * are taken was read here too, and goes later in this loop when the module defines it
     * after what it calls (as variants are defined after their callees). */
    for (i = 0; i < nfn; i++) {
        LLVMValueRef f = fns[i];
        unsigned char flags = pl->fn_flags[i];
        if (pl->fn_part[i] == NO_PART || (pl->fn_part[i] == p && !(flags & F_SKIP)))
            continue;
        bool drop = is_local(f) && !(flags & (F_ALIAS | F_EXPORT));
        for (LLVMUseRef u = drop ? LLVMGetFirstUse(f) : NULL; u; u = LLVMGetNextUse(u)) {
            LLVMValueRef user = LLVMGetUser(u);
            if (LLVMIsAInstruction(user) && compiled_here(&compiled, user, f)) {
                if (flags & F_SKIP) {
                    drop = false;
                    break;
                }
                *why = mewe__printf("a static function of partition %u is used in "
                                    "partition %u",
                                    pl->fn_part[i] + 1, p + 1);
                rc = MEWE_ETARGET;
                goto out;
            }
        }
        char *name = flags & F_ALIAS ? alias_name(pl, f, 'f', i)
                     : drop          ? mewe__strdup("mewe.partition.dropped")
                                     : mewe__printf("%s", LLVMGetValueName2(f, &(size_t){0}));
        if (!name)
            goto out;
        LLVMValueRef d = declaration_for(mod, f);
        LLVMReplaceAllUsesWith(f, d);
        LLVMDeleteFunction(f);
        fns[i] = NULL;
        if (drop) {
            if (LLVMGetFirstUse(d))
                LLVMReplaceAllUsesWith(d, LLVMGetPoison(LLVMTypeOf(d)));
            LLVMDeleteFunction(d);
            free(name);
            continue;
        }
        fns[i] = d;
        LLVMSetValueName2(d, name, strlen(name));
        free(name);
        LLVMSetLinkage(d, LLVMExternalLinkage);
        if (flags & F_ALIAS)
            LLVMSetVisibility(d, LLVMHiddenVisibility);
        else if (flags & F_EXPORT)
            LLVMSetVisibility(d, LLVMDefaultVisibility);
    }
    /* This partition's locals that others use: a function gets an alias, so that its own
     * name stays that of its body in the name section; a variable is renamed, as data
     * symbols have no names in the linked module (and wasm globals cannot be aliased). */
    for (i = 0; i < nfn + nvar; i++) {
        bool fn = i < nfn;
        size_t k = fn ? i : i - nfn;
        LLVMValueRef g = fn ? fns[k] : vars[k];
        uint32_t home = fn ? pl->fn_part[k] : pl->var_part[k];
        unsigned char flags = fn ? pl->fn_flags[k] : pl->var_flags[k];
        if (!g || home != p || !(flags & F_ALIAS) || (flags & F_SKIP))
            continue;
        char *name = alias_name(pl, g, fn ? 'f' : 'v', k);
        if (!name)
            goto out;
        if (!fn) {
            LLVMSetValueName2(g, name, strlen(name));
            free(name);
            LLVMSetLinkage(g, LLVMExternalLinkage);
            LLVMSetVisibility(g, LLVMHiddenVisibility);
            continue;
        }
        size_t len;
        LLVMGetValueName2(g, &len);
        if (len == 0) {
            char *local = mewe__printf("mewe.anon.f%zu", k);
            if (!local) {
                free(name);
                goto out;
            }
            LLVMSetValueName2(g, local, strlen(local));
            free(local);
        }
        /* A private symbol has no name in the object for the alias to point at. */
        if (LLVMGetLinkage(g) == LLVMPrivateLinkage)
            LLVMSetLinkage(g, LLVMInternalLinkage);
        LLVMValueRef a = LLVMAddAlias2(mod, LLVMGlobalGetValueType(g),
                                       LLVMGetPointerAddressSpace(LLVMTypeOf(g)), g, name);
        free(name);
        LLVMSetLinkage(a, LLVMExternalLinkage);
        LLVMSetVisibility(a, LLVMHiddenVisibility);
    }
    /* Exports: an exported static function must become visible to wasm-ld. */
    for (i = 0; i < nfn; i++) {
        if (!fns[i] || pl->fn_part[i] != p || !(pl->fn_flags[i] & F_EXPORT) ||
            (pl->fn_flags[i] & F_SKIP))
            continue;
        LLVMSetLinkage(fns[i], LLVMExternalLinkage);
        LLVMSetVisibility(fns[i], LLVMDefaultVisibility);
        size_t len;
        const char *name = LLVMGetValueName2(fns[i], &len);
        LLVMAttributeRef a = LLVMCreateStringAttribute(LLVMGetModuleContext(mod),
                                                       "wasm-export-name", 16, name, (unsigned)len);
        LLVMAddAttributeAtIndex(fns[i], LLVMAttributeFunctionIndex, a);
    }
    rc = MEWE_OK;
out:
    if (rc == MEWE_ENOMEM && !*why)
        *why = mewe__strdup("out of memory");
    mewe__ptrmap_fini(&part_of);
    mewe__ptrmap_fini(&compiled);
    free(fns);
    free(vars);
    return rc;
}

static LLVMCodeGenOptLevel codegen_level(int level)
{
    static const LLVMCodeGenOptLevel levels[] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                 LLVMCodeGenLevelDefault,
                                                 LLVMCodeGenLevelAggressive};
    return levels[level];
}

/* The review's duplicates in partition p give way to their twins: every use, aliases
 * included, goes to the twin, and the duplicate is deleted. A pair whose functions are not
 * both defined here, or whose duplicate is visible outside the object, is left alone. */
static void twins_apply(const mewe__twins *t, unsigned p, LLVMModuleRef mod)
{
    for (size_t i = 0; t && i < t->count; i++) {
        if (t->pairs[i].part != p)
            continue;
        LLVMValueRef dup = LLVMGetNamedFunction(mod, t->pairs[i].dup);
        LLVMValueRef twin = LLVMGetNamedFunction(mod, t->pairs[i].twin);
        if (!dup || !twin || dup == twin || LLVMIsDeclaration(dup) || LLVMIsDeclaration(twin) ||
            LLVMGlobalGetValueType(dup) != LLVMGlobalGetValueType(twin))
            continue;
        LLVMLinkage l = LLVMGetLinkage(dup);
        if (l != LLVMInternalLinkage && l != LLVMPrivateLinkage)
            continue;
        LLVMReplaceAllUsesWith(dup, twin);
        LLVMDeleteFunction(dup);
    }
}

/* One partition, from the bitcode to its object, in a context of its own. */
static int partition_compile(job *j, unsigned p, char **why)
{
    LLVMContextRef c = LLVMContextCreate();
    if (!c)
        return MEWE_ENOMEM;
    diag d = {NULL};
    LLVMContextSetDiagnosticHandler(c, diag_handler, &d);
    LLVMContextSetDiscardValueNames(c, 1);
    int rc = MEWE_OK;
    LLVMModuleRef mod = NULL;
    LLVMMemoryBufferRef buf =
        LLVMCreateMemoryBufferWithMemoryRange(j->bc, j->bc_size, "mewe-partition", 0);
    if (!buf)
        rc = MEWE_ENOMEM;
    else if (LLVMGetBitcodeModuleInContext2(c, buf, &mod)) {
        /* On failure the buffer stays the caller's. */
        LLVMDisposeMemoryBuffer(buf);
        mod = NULL;
        *why = d.text ? mewe__printf("cannot read the module back: %s", d.text)
                      : mewe__strdup("cannot read the module back");
        rc = MEWE_ETARGET;
    }
    if (rc == MEWE_OK)
        rc = partition_prepare(j, p, mod, why);
    if (rc == MEWE_OK) {
        /* Names the wasm can carry (names.h). Its messages go to a context of this worker's
         * own, since the caller's is not to be used from two threads. */
        mewe_context local;
        memset(&local, 0, sizeof local);
        rc = mewe__wasm_names_fix(&local, j->in->name, mod);
        /* RAW: the message is the whole message, as emitting unsplit would give it. */
        if (rc != MEWE_OK)
            *why = mewe__printf(RAW "%s", local.errmsg ? local.errmsg : mewe_status_str(rc));
        free(local.errmsg);
    }
    if (rc == MEWE_OK)
        twins_apply(j->twins, p, mod);
    LLVMTargetMachineRef tm = NULL;
    if (rc == MEWE_OK) {
        tm = LLVMCreateTargetMachine(j->target, LLVMGetTarget(mod), "generic", "",
                                     codegen_level(j->in->level), LLVMRelocStatic,
                                     LLVMCodeModelDefault);
        if (!tm) {
            *why = mewe__strdup("cannot create a wasm32 target machine");
            rc = MEWE_ETARGET;
        }
    }
    if (rc == MEWE_OK && LLVMGetDataLayoutStr(mod)[0] == '\0') {
        LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
        LLVMSetModuleDataLayout(mod, dl);
        LLVMDisposeTargetData(dl);
    }
    LLVMMemoryBufferRef out = NULL;
    char *err = NULL;
    if (rc == MEWE_OK && LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &err, &out)) {
        *why = mewe__printf("%s%s%s", err ? err : "", d.text ? "; " : "", d.text ? d.text : "");
        rc = MEWE_ETARGET;
        out = NULL;
    }
    LLVMDisposeMessage(err);
    if (tm)
        LLVMDisposeTargetMachine(tm);
    /* The partition goes before its object is copied: memory peaks lower. */
    if (mod)
        LLVMDisposeModule(mod);
    LLVMContextDispose(c);
    if (out) {
        size_t size = LLVMGetBufferSize(out);
        j->obj[p] = malloc(size ? size : 1);
        if (j->obj[p]) {
            memcpy(j->obj[p], LLVMGetBufferStart(out), size);
            j->obj_size[p] = size;
        } else
            rc = MEWE_ENOMEM;
        LLVMDisposeMemoryBuffer(out);
    }
    free(d.text);
    if (rc == MEWE_ENOMEM && !*why)
        *why = mewe__strdup("out of memory");
    return rc;
}

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        unsigned p = j->next < j->todo && !j->failed ? j->order[j->next++] : UINT32_MAX;
        pthread_mutex_unlock(&j->lock);
        if (p == UINT32_MAX)
            return NULL;
        char *why = NULL;
        struct timespec t0, t1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        int rc = partition_compile(j, p, &why);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        j->seconds[p] = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        pthread_mutex_lock(&j->lock);
        j->rc[p] = rc;
        free(j->msg[p]);
        j->msg[p] = why;
        if (rc != MEWE_OK)
            j->failed = true;
        pthread_mutex_unlock(&j->lock);
    }
}

/* The first and last function of a partition, to name it in a message. */
static char *partition_name(const mewe__codegen_in *in, const plan *pl, unsigned p)
{
    LLVMValueRef first = NULL, last = NULL;
    size_t i = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(in->llvm); f; f = LLVMGetNextFunction(f), i++)
        if (pl->fn_part[i] == p) {
            first = first ? first : f;
            last = f;
        }
    if (!first)
        return mewe__printf("partition %u", p);
    size_t a, b;
    const char *na = LLVMGetValueName2(first, &a), *nb = LLVMGetValueName2(last, &b);
    return mewe__printf("partition %u of %u (functions '%.*s' to '%.*s')", p + 1, pl->parts, (int)a,
                        na, (int)b, nb);
}

/* Compiles the first j->todo partitions of j->order on the input's threads; returns the
 * first failure in partition order, whatever the thread that met it, as an error on ctx. */
static int compile_all(mewe_context *ctx, job *j)
{
    const mewe__codegen_in *in = j->in;
    const plan *pl = j->pl;
    j->next = 0;
    j->failed = false;
    pthread_mutex_init(&j->lock, NULL);
    unsigned threads = in->threads ? in->threads : mewe__cpu_count();
    if (threads > j->todo)
        threads = j->todo;
    pthread_t *tids = threads > 1 ? calloc(threads - 1, sizeof *tids) : NULL;
    unsigned started = 0;
    if (tids) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, WORKER_STACK);
        for (; started < threads - 1; started++)
            if (pthread_create(&tids[started], &attr, worker, j) != 0)
                break; /* fewer threads: the work is the same */
        pthread_attr_destroy(&attr);
    }
    mewe__log(ctx, MEWE_LOG_DEBUG, "'%s': code generation in %u partition%s on %u thread%s",
              in->name, j->todo, j->todo == 1 ? "" : "s", started + 1, started ? "s" : "");
    worker(j);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(tids);
    pthread_mutex_destroy(&j->lock);
    for (unsigned k = 0; k < j->todo && pl->parts > 1; k++) {
        unsigned p = j->order[k];
        size_t fns = 0;
        for (size_t i = 0; i < pl->nfn; i++)
            fns += pl->fn_part[i] == p;
        mewe__log(ctx, MEWE_LOG_DEBUG, "'%s': partition %u: %zu functions, %.2f s of CPU", in->name,
                  p + 1, fns, j->seconds[p]);
    }
    int rc = MEWE_OK;
    for (unsigned p = 0; p < pl->parts && rc == MEWE_OK; p++) {
        if (j->rc[p] == MEWE_OK)
            continue;
        char *where = pl->parts > 1 ? partition_name(in, pl, p) : NULL;
        if (j->rc[p] == MEWE_ENOMEM)
            rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", in->name);
        else if (j->msg[p] && j->msg[p][0] == RAW[0])
            rc = mewe__error(ctx, j->rc[p], "%s", j->msg[p] + 1);
        else
            rc = mewe__error(ctx, j->rc[p], "code generation failed for '%s'%s%s: %s", in->name,
                             where ? ", " : "", where ? where : "", j->msg[p] ? j->msg[p] : "");
        free(where);
    }
    return rc;
}

/* Compiles again, with their duplicates given way to their twins, the partitions the review
 * found duplicates in; the others keep their objects. */
static int compile_again(mewe_context *ctx, job *j, const mewe__twins *twins)
{
    unsigned parts = j->pl->parts;
    bool *redo = calloc(parts, sizeof *redo);
    if (!redo)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", j->in->name);
    for (size_t i = 0; i < twins->count; i++) {
        if (twins->pairs[i].part < parts)
            redo[twins->pairs[i].part] = true;
    }
    /* The costliest first still: order keeps its order, less the others. */
    unsigned n = 0;
    for (unsigned k = 0; k < parts; k++) {
        if (redo[j->order[k]])
            j->order[n++] = j->order[k];
    }
    for (unsigned k = 0; k < n; k++) {
        free(j->obj[j->order[k]]);
        j->obj[j->order[k]] = NULL;
        j->obj_size[j->order[k]] = 0;
    }
    free(redo);
    mewe__log(ctx, MEWE_LOG_DEBUG,
              "'%s': %zu function%s compiled to the same code as another: compiling again "
              "without them",
              j->in->name, twins->count, twins->count == 1 ? "" : "s");
    j->todo = n;
    j->twins = twins;
    int rc = compile_all(ctx, j);
    j->twins = NULL;
    return rc;
}

int mewe__codegen(mewe_context *ctx, const mewe__codegen_in *in, mewe__objects *out)
{
    memset(out, 0, sizeof *out);
    char *err = NULL;
    LLVMTargetRef target;
    const char *triple = in->retarget ? MEWE__WASM_TRIPLE : LLVMGetTarget(in->llvm);
    if (LLVMGetTargetFromTriple(triple, &target, &err)) {
        int rc = mewe__error(ctx, MEWE_ETARGET, "'%s': no backend for '%s': %s", in->name, triple,
                             err ? err : "");
        LLVMDisposeMessage(err);
        return rc;
    }
    LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(in->llvm);
    if (!bc)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", in->name);
    plan pl;
    int rc = plan_make(&pl, in, LLVMGetBufferStart(bc), LLVMGetBufferSize(bc));
    if (rc != MEWE_OK) {
        LLVMDisposeMemoryBuffer(bc);
        return mewe__error(ctx, rc, "out of memory splitting '%s' for code generation", in->name);
    }
    job j = {.in = in,
             .pl = &pl,
             .bc = LLVMGetBufferStart(bc),
             .bc_size = LLVMGetBufferSize(bc),
             .target = target};
    unsigned parts = pl.parts;
    j.obj = calloc(parts, sizeof *j.obj);
    j.obj_size = calloc(parts, sizeof *j.obj_size);
    j.rc = calloc(parts, sizeof *j.rc);
    j.msg = calloc(parts, sizeof *j.msg);
    j.seconds = calloc(parts, sizeof *j.seconds);
    j.order = calloc(parts, sizeof *j.order);
    if (!j.obj || !j.obj_size || !j.rc || !j.msg || !j.seconds || !j.order) {
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory emitting '%s'", in->name);
        goto done;
    }
    /* Costliest first, so that no long partition starts last and keeps one thread busy
     * alone (the order of the objects, and so the output, does not change). */
    for (unsigned p = 0; p < parts; p++) {
        unsigned k = p;
        size_t cost = pl.part_cost ? pl.part_cost[p] : 0;
        for (; k > 0 && pl.part_cost && pl.part_cost[j.order[k - 1]] < cost; k--)
            j.order[k] = j.order[k - 1];
        j.order[k] = p;
    }
    j.todo = parts;
    rc = compile_all(ctx, &j);
    mewe__twins twins = {0};
    if (rc == MEWE_OK && in->review) {
        mewe__objects made = {j.obj, j.obj_size, parts, j.bc_size};
        rc = in->review(in->review_data, &made, &twins);
        if (rc == MEWE_OK && twins.count)
            rc = compile_again(ctx, &j, &twins);
    }
    mewe__twins_free(&twins);
    if (rc == MEWE_OK) {
        out->data = j.obj;
        out->size = j.obj_size;
        out->count = parts;
        out->bitcode_size = j.bc_size;
        j.obj = NULL;
        j.obj_size = NULL;
    }
done:
    for (unsigned p = 0; j.msg && p < parts; p++)
        free(j.msg[p]);
    for (unsigned p = 0; j.obj && p < parts; p++)
        free(j.obj[p]);
    free(j.obj);
    free(j.obj_size);
    free(j.rc);
    free(j.msg);
    free(j.seconds);
    free(j.order);
    plan_free(&pl);
    LLVMDisposeMemoryBuffer(bc);
    return rc;
}
