/* mewe-load-check: libmewe's helper for untrusted bitcode (see lib/ir/load_check.h). It limits
 * itself, reads exactly --size bytes from standard input, loads them as libmewe would (the
 * bitcode reader, then the verifier) and answers on standard output with the module written
 * back by LLVM's bitcode writer, or with the load's error. A crash, an abort or a limit
 * ends only this process; libmewe turns that into MEWE_EPARSE. Not meant to be run by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <llvm-c/ErrorHandling.h>

#include <mewe/mewe.h>

#include "ir/load_check.h"

#if defined(__SANITIZE_ADDRESS__)
#define MEWE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEWE_ASAN 1
#endif
#endif

#ifdef MEWE_ASAN
/* AddressSanitizer reserves terabytes of address space, so RLIMIT_AS cannot bound a
 * sanitized build; its allocator bounds the heap instead (the environment may override). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=2048:allocator_may_return_null=0:hard_rss_limit_mb=3072:"
           "detect_leaks=0";
}
#endif

/* The message of a failed round trip, which has no context of its own to live on. */
static char round_trip_message[1024];

static void put(const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(STDOUT_FILENO, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(MEWE__LOAD_CHECK_USAGE + 10);
        p += n;
        size -= (size_t)n;
    }
}

static void put_str(const char *s)
{
    put(s, strlen(s));
}

/* LLVM's report_fatal_error ends the process after its handler returns; answer first, then
 * leave at once (no destructor of a half-read module may run). */
static void on_fatal(const char *reason)
{
    put_str(MEWE__LOAD_CHECK_MAGIC " fatal\n");
    put_str(reason ? reason : "");
    put_str("\n");
    _exit(MEWE__LOAD_CHECK_FATAL);
}

/* A corrupt input can give a module that LLVM writes as textual IR it cannot parse (a
 * string attribute whose name holds a quote is printed unescaped): libmewe would then write
 * .ll files that nothing reads. Such an input is refused here, where a surprise in the IR
 * parser costs nothing. */
static int round_trip_text(mewe_context *ctx, mewe_module *m, const char *name)
{
    void *text;
    size_t size;
    int rc = mewe_module_write_memory(&text, &size, m, MEWE_FORMAT_TEXT);
    if (rc != MEWE_OK)
        return rc;
    mewe_module *again;
    rc = mewe_module_load_memory(&again, ctx, text, size, "<as textual IR>");
    mewe_free(text);
    if (rc == MEWE_OK) {
        mewe_module_free(again);
        return MEWE_OK;
    }
    /* The first line of the failed load's message, inside ours; what it quotes of the
     * module came from the input, so only printable ASCII of it is kept. */
    char why[512];
    snprintf(why, sizeof why, "%s", mewe_context_errmsg(ctx));
    why[strcspn(why, "\n")] = '\0';
    for (unsigned char *c = (unsigned char *)why; *c; c++)
        *c = *c < 0x20 || *c > 0x7e ? '?' : *c;
    snprintf(round_trip_message, sizeof round_trip_message,
             "'%s': LLVM cannot read back the module it loaded from this input (%s): it is "
             "corrupt",
             name, why);
    return MEWE_EPARSE;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "mewe-load-check: %s\n"
            "usage: mewe-load-check --size N [--memory-mb N] [--cpu-seconds N] "
            "[--name NAME] < INPUT\n",
            why);
    return MEWE__LOAD_CHECK_USAGE;
}

static int parse_ulong(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9')
        return -1;
    *out = strtoull(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/* Sets the soft limit to value and the hard one to hard, never above an existing hard
 * limit (lowering is always allowed, raising is not). */
static void limit(int resource, rlim_t value, rlim_t hard)
{
    struct rlimit r = {value, hard};
    struct rlimit old;
    if (getrlimit(resource, &old) == 0 && old.rlim_max != RLIM_INFINITY) {
        if (r.rlim_max > old.rlim_max)
            r.rlim_max = old.rlim_max;
        if (r.rlim_cur > r.rlim_max)
            r.rlim_cur = r.rlim_max;
    }
    setrlimit(resource, &r);
}

int main(int argc, char **argv)
{
    unsigned long long size = 0, memory_mb = 0, cpu_seconds = 0;
    const char *name = "<memory>";
    int have_size = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            return usage("missing value");
        if (strcmp(arg, "--size") == 0 && parse_ulong(value, &size) == 0)
            have_size = 1;
        else if (strcmp(arg, "--memory-mb") == 0 && parse_ulong(value, &memory_mb) == 0)
            ;
        else if (strcmp(arg, "--cpu-seconds") == 0 && parse_ulong(value, &cpu_seconds) == 0)
            ;
        else if (strcmp(arg, "--name") == 0)
            name = value;
        else
            return usage("bad argument");
    }
    if (!have_size || size == 0)
        return usage("--size N (N > 0) is required");
    /* Limits first, before anything of the input is read. No core files: a hostile input's
     * crash is expected here, and a core of a large address space costs time and disk. */
    limit(RLIMIT_CORE, 0, 0);
    /* SIGXCPU at the soft limit names the cause; the kernel's SIGKILL at the hard one is
     * the backstop (at equal limits it would come first). */
    if (cpu_seconds)
        limit(RLIMIT_CPU, (rlim_t)cpu_seconds, (rlim_t)cpu_seconds + 5);
#ifndef MEWE_ASAN
    if (memory_mb)
        limit(RLIMIT_AS, (rlim_t)memory_mb << 20, (rlim_t)memory_mb << 20);
#endif
    LLVMInstallFatalErrorHandler(on_fatal);

    char *data = malloc(size);
    if (!data) {
        fprintf(stderr, "LLVM ERROR: out of memory\nAllocation failed\n");
        return 4;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(STDIN_FILENO, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return usage("input shorter than --size");
        got += (size_t)n;
    }

    mewe_context *ctx;
    mewe_module *m;
    void *bc;
    size_t bc_size;
    char head[96];
    int rc = mewe_context_new(&ctx);
    if (rc != MEWE_OK) {
        snprintf(head, sizeof head, "%s err %d\n", MEWE__LOAD_CHECK_MAGIC, rc);
        put_str(head);
        put_str("cannot create a libmewe context in the helper");
        _exit(MEWE__LOAD_CHECK_ERR);
    }
    rc = mewe_module_load_memory(&m, ctx, data, size, name);
    if (rc == MEWE_OK)
        rc = round_trip_text(ctx, m, name);
    if (rc == MEWE_OK)
        rc = mewe_module_write_memory(&bc, &bc_size, m, MEWE_FORMAT_BITCODE);
    if (rc != MEWE_OK) {
        snprintf(head, sizeof head, "%s err %d\n", MEWE__LOAD_CHECK_MAGIC, rc);
        put_str(head);
        put_str(round_trip_message[0] ? round_trip_message : mewe_context_errmsg(ctx));
        _exit(MEWE__LOAD_CHECK_ERR);
    }
    snprintf(head, sizeof head, "%s ok %zu\n", MEWE__LOAD_CHECK_MAGIC, bc_size);
    put_str(head);
    put(bc, bc_size);
    /* No teardown: the answer is out, and freeing what a hostile input built gains nothing. */
    _exit(MEWE__LOAD_CHECK_OK);
}
