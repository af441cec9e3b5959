/* Untrusted bitcode goes through the helper mewe-load-check first (see load_check.h). The
 * helper is started with posix_spawn, never a bare fork: the host may run threads, and a
 * forked copy of a multi-threaded LLVM process may deadlock on a lock another thread held. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ir/bitcode_id.h"
#include "ir/load_check.h"
#include "util/array.h"

extern char **environ;

enum { STDERR_KEEP = 4096, CHUNK = 65536 };

unsigned long mewe__load_check_memory_mb(size_t size)
{
    /* 1 GiB covers LLVM's own mappings and small modules; then 32 bytes per input byte. */
    size_t mb = size / (1024 * 1024);
    return mb > 1000000 ? 1024 + 32ul * 1000000 : 1024 + 32ul * mb;
}

unsigned long mewe__load_check_cpu_seconds(size_t size)
{
    size_t mb = size / (1024 * 1024);
    return mb > 100000 ? 20 + 2ul * 100000 : 20 + 2ul * mb;
}

static bool runnable(const char *path)
{
    return access(path, X_OK) == 0;
}

/* The helper set on the context, else the one next to this library (the build tree, or a
 * layout that keeps them together), else the one in the libexec directory of the installed
 * layout, found from the library's own place first so that a moved (DESTDIR, relocated)
 * install still finds its own helper. */
static char *find_helper(mewe_context *ctx)
{
    const char *set = ctx->tools[MEWE_TOOL_LOAD_CHECK];
    if (set && set[0])
        return mewe__strdup(set);
    Dl_info info;
    /* A library name without a directory says nothing of where it is: never look in the
     * current directory, whatever it holds. */
    const char *slash = NULL;
    if (dladdr((void *)mewe__load_check, &info) && info.dli_fname)
        slash = strrchr(info.dli_fname, '/');
    if (slash) {
        int dir_len = (int)(slash - info.dli_fname);
        static const char *const rel[] = {"mewe-load-check", MEWE_LOAD_CHECK_FROM_LIBDIR};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char *p = mewe__printf("%.*s/%s", dir_len, info.dli_fname, rel[i]);
            if (!p || runnable(p))
                return p;
            free(p);
        }
    }
    return mewe__strdup(MEWE_DEFAULT_LOAD_CHECK);
}

typedef struct sink {
    char *buf;
    size_t len, cap, max; /* bytes past max are read and dropped */
    bool overflow;
} sink;

static int sink_add(sink *s, const char *data, size_t n)
{
    if (s->len + n > s->max) {
        s->overflow = true;
        n = s->max - s->len;
    }
    if (!mewe__array_reserve(&s->buf, &s->cap, s->len + n + 1, 1))
        return MEWE_ENOMEM;
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return MEWE_OK;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Drains fd into s; returns false once the other end is closed. */
static bool drain(int *fd, sink *s, int *rc)
{
    char buf[CHUNK];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n > 0) {
            if (*rc == MEWE_OK)
                *rc = sink_add(s, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        close_fd(fd);
        return false;
    }
}

typedef struct child {
    pid_t pid;
    int in, out, err; /* the parent's ends */
} child;

static int start(mewe_context *ctx, child *c, const char *helper, size_t size, const char *name)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    /* A socket for the input, so that a child that dies before reading it all costs the
     * host an EPIPE from send(MSG_NOSIGNAL), not a SIGPIPE. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
        pipe2(err, O_CLOEXEC) != 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            close_fd(&in[i]);
            close_fd(&out[i]);
            close_fd(&err[i]);
        }
        return mewe__error(ctx, MEWE_ETOOL, "cannot check '%s' in a separate process: %s", name,
                           strerror(e));
    }
    char size_s[32], mem_s[32], cpu_s[32];
    snprintf(size_s, sizeof size_s, "%zu", size);
    snprintf(mem_s, sizeof mem_s, "%lu", mewe__load_check_memory_mb(size));
    snprintf(cpu_s, sizeof cpu_s, "%lu", mewe__load_check_cpu_seconds(size));
    const char *argv[] = {helper,          "--size", size_s,   "--memory-mb", mem_s,
                          "--cpu-seconds", cpu_s,    "--name", name,          NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[1], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    /* The child must not inherit a host's ignored or blocked signals: a blocked SIGXCPU
     * would turn the CPU limit into nothing until the hard kill. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    /* A path without a slash is searched in PATH, as for the other tools. posix_spawnp does
     * not write through argv; the cast only drops the const. */
    int e = posix_spawnp(&c->pid, helper, &actions, &attr, (char *const *)argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    close(in[1]);
    close(out[1]);
    close(err[1]);
    if (e != 0) {
        close(in[0]);
        close(out[0]);
        close(err[0]);
        return mewe__error(ctx, MEWE_ETOOL,
                           "cannot check '%s' in a separate process: the helper '%s' cannot "
                           "run (%s); set its path with MEWE_TOOL_LOAD_CHECK, or load the "
                           "input as trusted",
                           name, helper, strerror(e));
    }
    c->in = in[0];
    c->out = out[0];
    c->err = err[0];
    fcntl(c->in, F_SETFL, O_NONBLOCK);
    fcntl(c->out, F_SETFL, O_NONBLOCK);
    fcntl(c->err, F_SETFL, O_NONBLOCK);
    return MEWE_OK;
}

/* Feeds the input and collects both output streams until the child closes them or the
 * deadline passes (then *timed_out is set and the child is killed). */
static int exchange(child *c, const char *data, size_t size, sink *out, sink *err,
                    long long deadline, bool *timed_out)
{
    size_t sent = 0;
    int rc = MEWE_OK;
    while (c->out >= 0 || c->err >= 0) {
        struct pollfd p[3];
        int n = 0, i_in = -1, i_out = -1, i_err = -1;
        if (c->in >= 0)
            p[i_in = n++] = (struct pollfd){c->in, POLLOUT, 0};
        if (c->out >= 0)
            p[i_out = n++] = (struct pollfd){c->out, POLLIN, 0};
        if (c->err >= 0)
            p[i_err = n++] = (struct pollfd){c->err, POLLIN, 0};
        long long left = deadline - now_ms();
        if (left <= 0) {
            *timed_out = true;
            break;
        }
        int ready = poll(p, (nfds_t)n, left > INT_MAX ? INT_MAX : (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return MEWE_ETOOL;
        if (i_in >= 0 && p[i_in].revents) {
            size_t chunk = size - sent < CHUNK ? size - sent : CHUNK;
            ssize_t k = send(c->in, data + sent, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k > 0)
                sent += (size_t)k;
            else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                close_fd(&c->in); /* the child is gone; its status tells why */
            if (sent == size)
                close_fd(&c->in);
        }
        if (i_out >= 0 && p[i_out].revents)
            drain(&c->out, out, &rc);
        if (i_err >= 0 && p[i_err].revents)
            drain(&c->err, err, &rc);
        if (rc != MEWE_OK || out->overflow)
            break;
    }
    return rc;
}

/* Reaps the child; *cpu_s gets the CPU seconds it used. */
static int wait_for(pid_t pid, bool kill_first, double *cpu_s)
{
    if (kill_first)
        kill(pid, SIGKILL);
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR)
            return -1;
    }
    *cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
             ru.ru_stime.tv_usec / 1e6;
    return status;
}

/* The first line of LLVM's "LLVM ERROR: ..." in the child's standard error, if any. */
static char *llvm_error(const sink *err)
{
    const char *p = err->buf ? strstr(err->buf, "LLVM ERROR: ") : NULL;
    if (!p)
        return NULL;
    p += strlen("LLVM ERROR: ");
    return mewe__printf("%.*s", (int)strcspn(p, "\n"), p);
}

static int died(mewe_context *ctx, const char *name, const char *reader, int status,
                const sink *err, bool timed_out, double cpu_s, size_t size)
{
    const char *tail = "on this input: it is corrupt or hostile";
    bool over_cpu =
        WIFSIGNALED(status) &&
        (WTERMSIG(status) == SIGXCPU ||
         (WTERMSIG(status) == SIGKILL && cpu_s >= (double)mewe__load_check_cpu_seconds(size)));
    if (timed_out || over_cpu)
        return mewe__error(ctx, MEWE_EPARSE,
                           "'%s': %s took more than %lu s %s (or too large to check; load it "
                           "as trusted input if it is yours)",
                           name, reader, mewe__load_check_cpu_seconds(size), tail);
    char *why = llvm_error(err);
    int rc;
    if (why && (strstr(why, "out of memory") || strstr(why, "Allocation failed")))
        rc = mewe__error(ctx, MEWE_EPARSE,
                         "'%s': %s ran out of memory (limit %lu MiB) %s (or too large to "
                         "check; load it as trusted input if it is yours)",
                         name, reader, mewe__load_check_memory_mb(size), tail);
    else if (WIFSIGNALED(status))
        rc = mewe__error(ctx, MEWE_EPARSE, "'%s': %s %s (signal %d, %s%s%s) %s", name, reader,
                         why ? "aborted" : "crashed", WTERMSIG(status), strsignal(WTERMSIG(status)),
                         why ? ": " : "", why ? why : "", tail);
    else
        rc = mewe__error(ctx, MEWE_EPARSE, "'%s': %s failed (exit status %d%s%s) %s", name, reader,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, why ? ": " : "",
                         why ? why : "", tail);
    free(why);
    return rc;
}

/* Reads the helper's answer; on success moves the bitcode into *out. */
static int answer(mewe_context *ctx, const char *name, const char *reader, const char *helper,
                  int status, sink *out, const sink *err, bool timed_out, double cpu_s, size_t size,
                  void **result, size_t *result_size)
{
    const char *magic = MEWE__LOAD_CHECK_MAGIC " ";
    size_t mlen = strlen(magic);
    bool exited = !timed_out && WIFEXITED(status);
    int code = exited ? WEXITSTATUS(status) : -1;
    const char *nl = out->buf ? memchr(out->buf, '\n', out->len) : NULL;
    bool framed = nl && out->len >= mlen && memcmp(out->buf, magic, mlen) == 0;
    if (exited && code == MEWE__LOAD_CHECK_USAGE)
        return mewe__error(ctx, MEWE_ETOOL, "the helper '%s' refused its arguments: %.200s", helper,
                           err->buf ? err->buf : "");
    if (!framed || !exited || code > MEWE__LOAD_CHECK_FATAL)
        return died(ctx, name, reader, status, err, timed_out, cpu_s, size);
    const char *word = out->buf + mlen;
    const char *body = nl + 1;
    size_t body_len = out->len - (size_t)(body - out->buf);
    unsigned long long n = 0;
    if (code == MEWE__LOAD_CHECK_OK && sscanf(word, "ok %llu", &n) == 1 && n == body_len && n > 0) {
        /* The answer is moved, not copied: a module's bitcode can be large. */
        memmove(out->buf, body, body_len);
        *result = out->buf;
        *result_size = body_len;
        out->buf = NULL;
        return MEWE_OK;
    }
    int st = 0;
    if (code == MEWE__LOAD_CHECK_ERR && sscanf(word, "err %d", &st) == 1 && st <= MEWE_EINVAL &&
        st >= MEWE_ESTATE)
        return mewe__error(ctx, st, "%.*s", (int)body_len, body);
    if (code == MEWE__LOAD_CHECK_FATAL && strncmp(word, "fatal\n", 6) == 0) {
        /* LLVM prints what its verifier found before "Broken module found": its first
         * line tells the user more than the fatal error's reason. */
        const char *detail = err->buf && err->buf[0] ? err->buf : NULL;
        return mewe__error(ctx, MEWE_EPARSE,
                           "'%s': %s gave up with a fatal error (%.*s%s%.*s) on this input: it "
                           "is corrupt or hostile",
                           name, reader, (int)strcspn(body, "\n"), body, detail ? ": " : "",
                           detail ? (int)strcspn(detail, "\n") : 0, detail ? detail : "");
    }
    return died(ctx, name, reader, status, err, timed_out, cpu_s, size);
}

int mewe__load_check(mewe_context *ctx, const void *data, size_t size, const char *name, void **out,
                     size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    const char *reader = mewe__is_bitcode(data, size) ? "the bitcode reader" : "LLVM's IR parser";
    char *helper = find_helper(ctx);
    if (!helper)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory loading '%s'", name);
    child c = {.pid = -1, .in = -1, .out = -1, .err = -1};
    int rc = start(ctx, &c, helper, size, name);
    if (rc != MEWE_OK) {
        free(helper);
        return rc;
    }
    /* The child's own CPU limit ends a busy loop; the wall-clock deadline also ends one that
     * sleeps or waits, and leaves room for a loaded machine. */
    long long cpu = (long long)mewe__load_check_cpu_seconds(size);
    long long deadline = now_ms() + 1000LL * (2 * cpu + 10);
    sink sout = {.max = (size_t)mewe__load_check_memory_mb(size) << 20};
    sink serr = {.max = STDERR_KEEP};
    bool timed_out = false;
    rc = exchange(&c, data, size, &sout, &serr, deadline, &timed_out);
    close_fd(&c.in);
    close_fd(&c.out);
    close_fd(&c.err);
    double cpu_s = 0;
    int status = wait_for(c.pid, timed_out || rc != MEWE_OK || sout.overflow, &cpu_s);
    if (rc == MEWE_ENOMEM)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory checking '%s'", name);
    else if (rc != MEWE_OK || status < 0)
        rc = mewe__error(ctx, MEWE_ETOOL, "lost track of the helper '%s' checking '%s': %s", helper,
                         name, strerror(errno));
    else if (sout.overflow)
        rc = mewe__error(ctx, MEWE_EPARSE,
                         "'%s': the answer of %s is larger than its memory limit on this "
                         "input: it is corrupt or hostile",
                         name, reader);
    else
        rc = answer(ctx, name, reader, helper, status, &sout, &serr, timed_out, cpu_s, size, out,
                    out_size);
    free(sout.buf);
    free(serr.buf);
    free(helper);
    return rc;
}
