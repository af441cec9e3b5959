/* Subprocess helpers for the test suite; see wasm-run.h. */
/* posix_spawn, poll and sigtimedwait are POSIX.1-2008, not C11. */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "wasm-run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WASM_RUN_SCRIPT MEWE_TEST_SRCDIR "/wasm-run.mjs"
#define READ_CHUNK      65536
#define MAX_EXTRA_ARGS  1024

extern char **environ;

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} byte_buf;

/* Parent ends are the only ones left open after spawning: in[1], out[0],
 * err[0]; -1 marks a closed descriptor. */
typedef struct {
    int in[2];
    int out[2];
    int err[2];
} child_pipes;

static int buf_reserve(byte_buf *b, size_t extra)
{
    if (b->cap - b->len > extra) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : READ_CHUNK;
    while (cap - b->len <= extra) {
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void close_pipes(child_pipes *p)
{
    for (int i = 0; i < 2; i++) {
        close_fd(&p->in[i]);
        close_fd(&p->out[i]);
        close_fd(&p->err[i]);
    }
}

/* Close-on-exec everywhere keeps the child from inheriting the parent's ends
 * (a leaked write end would hide EOF); dup2 onto 0-2 clears the flag. */
static int open_pipe(int fds[2])
{
    if (pipe(fds) != 0) {
        fds[0] = fds[1] = -1;
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            return -1;
        }
    }
    return 0;
}

static int open_pipes(child_pipes *p)
{
    p->in[0] = p->in[1] = p->out[0] = p->out[1] = p->err[0] = p->err[1] = -1;
    if (open_pipe(p->in) != 0 || open_pipe(p->out) != 0 || open_pipe(p->err) != 0) {
        close_pipes(p);
        return -1;
    }
    return 0;
}

static int setup_file_actions(posix_spawn_file_actions_t *fa, const child_pipes *p)
{
    if (posix_spawn_file_actions_init(fa) != 0) {
        return -1;
    }
    if (posix_spawn_file_actions_adddup2(fa, p->in[0], 0) != 0 ||
        posix_spawn_file_actions_adddup2(fa, p->out[1], 1) != 0 ||
        posix_spawn_file_actions_adddup2(fa, p->err[1], 2) != 0) {
        posix_spawn_file_actions_destroy(fa);
        return -1;
    }
    return 0;
}

/* The caller blocks SIGPIPE while feeding stdin; the child must start with
 * the caller's original mask and a default SIGPIPE, as if run from a shell. */
static int setup_attr(posix_spawnattr_t *attr, const sigset_t *child_mask)
{
    sigset_t defaults;
    if (posix_spawnattr_init(attr) != 0) {
        return -1;
    }
    if (sigemptyset(&defaults) != 0 || sigaddset(&defaults, SIGPIPE) != 0 ||
        posix_spawnattr_setsigmask(attr, child_mask) != 0 ||
        posix_spawnattr_setsigdefault(attr, &defaults) != 0 ||
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0) {
        posix_spawnattr_destroy(attr);
        return -1;
    }
    return 0;
}

static int spawn_child(pid_t *pid, const char *const *argv, child_pipes *p,
                       const sigset_t *child_mask)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (setup_file_actions(&fa, p) != 0) {
        return -1;
    }
    if (setup_attr(&attr, child_mask) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    /* posix_spawnp's argv is char *const[] for historical reasons; it does
     * not modify the strings. */
    int rc = posix_spawnp(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_fd(&p->in[0]);
    close_fd(&p->out[1]);
    close_fd(&p->err[1]);
    return rc == 0 ? 0 : -1;
}

/* Returns 0 to keep going, -1 on an unexpected error. A child that stops
 * reading early (EPIPE) is not an error: it simply ignores the rest. */
static int feed_stdin(int *fd, const char *data, size_t len, size_t *off)
{
    size_t n = len - *off < READ_CHUNK ? len - *off : READ_CHUNK;
    ssize_t w = write(*fd, data + *off, n);
    if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return 0;
        }
        close_fd(fd);
        return errno == EPIPE ? 0 : -1;
    }
    *off += (size_t)w;
    if (*off == len) {
        close_fd(fd);
    }
    return 0;
}

static int drain(int *fd, byte_buf *b)
{
    if (buf_reserve(b, READ_CHUNK) != 0) {
        return -1;
    }
    ssize_t r = read(*fd, b->data + b->len, READ_CHUNK);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return 0;
        }
        close_fd(fd);
        return -1;
    }
    if (r == 0) {
        close_fd(fd);
    }
    b->len += (size_t)r;
    return 0;
}

/* Stdin is written and both outputs are read in one poll loop so that a
 * child blocked on a full stdout pipe never waits for us while we wait to
 * write its stdin (or the reverse). */
static int pump(child_pipes *p, const char *data, size_t len, byte_buf *out, byte_buf *err)
{
    size_t off = 0;
    int rc = 0;
    while (p->in[1] >= 0 || p->out[0] >= 0 || p->err[0] >= 0) {
        struct pollfd fds[3] = {
            {.fd = p->in[1], .events = POLLOUT},
            {.fd = p->out[0], .events = POLLIN},
            {.fd = p->err[0], .events = POLLIN},
        };
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (fds[0].revents != 0 && feed_stdin(&p->in[1], data, len, &off) != 0) {
            rc = -1;
        }
        if (fds[1].revents != 0 && drain(&p->out[0], out) != 0) {
            return -1;
        }
        if (fds[2].revents != 0 && drain(&p->err[0], err) != 0) {
            return -1;
        }
    }
    return rc;
}

static int wait_child(pid_t pid, int *exit_code)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    if (WIFEXITED(status)) {
        *exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        *exit_code = 128 + WTERMSIG(status);
    } else {
        *exit_code = -1;
    }
    return 0;
}

static int start_stdin(child_pipes *p, const char *data, size_t len)
{
    if (data == NULL || len == 0) {
        close_fd(&p->in[1]);
        return 0;
    }
    int flags = fcntl(p->in[1], F_GETFL);
    if (flags < 0 || fcntl(p->in[1], F_SETFL, flags | O_NONBLOCK) != 0) {
        return -1;
    }
    return 0;
}

static int finish_result(wasm_run_result *res, byte_buf *out, byte_buf *err)
{
    if (buf_reserve(out, 1) != 0 || buf_reserve(err, 1) != 0) {
        return -1;
    }
    out->data[out->len] = '\0';
    err->data[err->len] = '\0';
    res->out = out->data;
    res->out_len = out->len;
    res->err = err->data;
    res->err_len = err->len;
    return 0;
}

/* A SIGPIPE raised by our own writes stays pending while blocked; discard it
 * so restoring the mask does not kill the caller. */
static void discard_own_sigpipe(int was_pending)
{
    sigset_t pending;
    sigset_t only_pipe;
    struct timespec zero = {0, 0};
    if (was_pending || sigpending(&pending) != 0 || !sigismember(&pending, SIGPIPE)) {
        return;
    }
    if (sigemptyset(&only_pipe) == 0 && sigaddset(&only_pipe, SIGPIPE) == 0) {
        while (sigtimedwait(&only_pipe, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
}

static int block_sigpipe(sigset_t *old_mask, int *was_pending)
{
    sigset_t block;
    sigset_t pending;
    if (sigemptyset(&block) != 0 || sigaddset(&block, SIGPIPE) != 0 ||
        pthread_sigmask(SIG_BLOCK, &block, old_mask) != 0 || sigpending(&pending) != 0) {
        return -1;
    }
    *was_pending = sigismember(&pending, SIGPIPE) == 1;
    return 0;
}

static int run_spawned(wasm_run_result *res, const char *const *argv, child_pipes *p,
                       const char *data, size_t len, const sigset_t *child_mask)
{
    byte_buf out = {0};
    byte_buf err = {0};
    pid_t pid;
    if (spawn_child(&pid, argv, p, child_mask) != 0) {
        return -1;
    }
    int rc = start_stdin(p, data, len);
    if (rc == 0) {
        rc = pump(p, data, len, &out, &err);
    }
    /* Close before waiting so a child still writing gets EPIPE, not a hang. */
    close_pipes(p);
    if (wait_child(pid, &res->exit_code) != 0) {
        rc = -1;
    }
    if (rc == 0) {
        rc = finish_result(res, &out, &err);
    }
    if (rc != 0) {
        free(out.data);
        free(err.data);
    }
    return rc;
}

int host_run(wasm_run_result *res, const char *const *argv_full, const char *stdin_data,
             size_t stdin_len)
{
    child_pipes p;
    sigset_t old_mask;
    int was_pending;
    memset(res, 0, sizeof *res);
    if (argv_full == NULL || argv_full[0] == NULL || open_pipes(&p) != 0) {
        return -1;
    }
    if (block_sigpipe(&old_mask, &was_pending) != 0) {
        close_pipes(&p);
        return -1;
    }
    int rc = run_spawned(res, argv_full, &p, stdin_data, stdin_len, &old_mask);
    close_pipes(&p);
    discard_own_sigpipe(was_pending);
    if (pthread_sigmask(SIG_SETMASK, &old_mask, NULL) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        wasm_run_result_free(res);
    }
    return rc;
}

void wasm_run_result_free(wasm_run_result *res)
{
    if (res == NULL) {
        return;
    }
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}

static size_t count_args(const char *const *list)
{
    size_t n = 0;
    while (list != NULL && list[n] != NULL) {
        n++;
    }
    return n;
}

int wasm_validate(const char *module, char **log)
{
    const char *const argv[] = {MEWE_WASM_VALIDATE,
                                "--enable-threads",
                                "--enable-tail-call",
                                "--enable-exceptions",
                                "--",
                                module,
                                NULL};
    wasm_run_result res;
    if (log != NULL) {
        *log = NULL;
    }
    if (host_run(&res, argv, NULL, 0) != 0) {
        if (log != NULL) {
            *log = strdup(MEWE_WASM_VALIDATE " cannot run: install wabt "
                                             "(scripts/install-deps.sh)");
        }
        return -1;
    }
    int rc = res.exit_code == 0 ? 0 : -1;
    if (rc != 0 && log != NULL) {
        size_t len = res.out_len + res.err_len;
        *log = malloc(len + 1);
        if (*log != NULL) {
            memcpy(*log, res.out, res.out_len);
            memcpy(*log + res.out_len, res.err, res.err_len);
            (*log)[len] = '\0';
        }
    }
    wasm_run_result_free(&res);
    return rc;
}

int wasm_run(wasm_run_result *res, const char *module, const char *const *opts,
             const char *const *argv, const char *stdin_data, size_t stdin_len)
{
    static const char *const prefix[] = {MEWE_NODE, "--no-warnings", MEWE_NODE_FLAG,
                                         WASM_RUN_SCRIPT};
    const size_t n_prefix = sizeof prefix / sizeof prefix[0];
    size_t n_opts = count_args(opts);
    size_t n_argv = count_args(argv);
    memset(res, 0, sizeof *res);
    if (module == NULL || n_opts + n_argv > MAX_EXTRA_ARGS) {
        return -1;
    }
    /* Every module a test runs must be valid, not only accepted by V8; a missing file is
     * left to the runner, whose message the tests check. */
    char *why = NULL;
    if (access(module, F_OK) == 0 && wasm_validate(module, &why) != 0) {
        fprintf(stderr, "wasm_run: %s is not valid WebAssembly:\n%s\n", module,
                why ? why : "(no message)");
        free(why);
        return -1;
    }
    const char **full = calloc(n_prefix + n_opts + 2 + n_argv + 1, sizeof *full);
    if (full == NULL) {
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_prefix; i++) {
        full[k++] = prefix[i];
    }
    for (size_t i = 0; i < n_opts; i++) {
        full[k++] = opts[i];
    }
    /* "--" keeps a module path starting with "-" from being read as an option. */
    full[k++] = "--";
    full[k++] = module;
    for (size_t i = 0; i < n_argv; i++) {
        full[k++] = argv[i];
    }
    full[k] = NULL;
    int rc = host_run(res, full, stdin_data, stdin_len);
    free(full);
    return rc;
}

int wasm_run_available(void)
{
    /* Probe exactly what the runner relies on rather than parsing versions. */
    static const char probe[] = "import { WASI } from 'node:wasi';"
                                "new WASI({ version: 'preview1', returnOnExit: true });"
                                "if (typeof Object.hasOwn !== 'function') process.exit(1);";
    static const char *const argv[] = {
        MEWE_NODE, "--no-warnings", MEWE_NODE_FLAG, "--input-type=module", "-e", probe, NULL,
    };
    static int cached = -1;
    if (cached < 0) {
        wasm_run_result res;
        cached = host_run(&res, argv, NULL, 0) == 0 && res.exit_code == 0;
        wasm_run_result_free(&res);
    }
    return cached;
}

int run_compiler(const char *const *argv, char **log)
{
    wasm_run_result res;
    if (log != NULL) {
        *log = NULL;
    }
    if (host_run(&res, argv, NULL, 0) != 0) {
        return -1;
    }
    int rc = res.exit_code == 0 ? 0 : -1;
    if (log != NULL) {
        *log = malloc(res.out_len + res.err_len + 1);
        if (*log == NULL) {
            rc = -1;
        } else {
            memcpy(*log, res.out, res.out_len);
            memcpy(*log + res.out_len, res.err, res.err_len);
            (*log)[res.out_len + res.err_len] = '\0';
        }
    }
    wasm_run_result_free(&res);
    return rc;
}

int compile_c_to_wasm(const char *src, const char *out_wasm, char **log)
{
    const char *const argv[] = {
        MEWE_CLANG, "--target=wasm32-wasi", "-O2", src, "-o", out_wasm, NULL,
    };
    return run_compiler(argv, log);
}

int compile_c_to_bc(const char *src, const char *out_bc, char **log)
{
    const char *const argv[] = {
        MEWE_CLANG, "--target=wasm32-wasi", "-O2", "-c", "-emit-llvm", src, "-o", out_bc, NULL,
    };
    return run_compiler(argv, log);
}

int compile_rust_to_bc(const char *src, const char *out_bc, char **log)
{
    /* panic=abort is already the wasm32-wasi default in rustc 1.63 and is
     * accepted with Debian's std; spelling it out keeps invoke/landingpad out
     * of the bitcode should the default change. Edition 2018 is what the
     * fixtures are written for (rustc 1.63 defaults to 2015). */
    const char *const argv[] = {
        MEWE_RUSTC,    "--target",       "wasm32-wasi",    "-O", "-C", "lto=fat", "-C",
        "panic=abort", "--edition=2018", "--emit=llvm-bc", src,  "-o", out_bc,    NULL,
    };
    return run_compiler(argv, log);
}
