/* posix_spawn with a pipe for the child's stdout and stderr. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/process.h"
#include "util/strbuf.h"

extern char **environ;

static int read_all(int fd, char **out)
{
    mewe__strbuf all = {0};
    mewe__strbuf_append(&all, "", 0); /* an empty output is "", not NULL */
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        mewe__strbuf_append(&all, chunk, (size_t)n);
    }
    *out = mewe__strbuf_take(&all, NULL);
    return *out ? MEWE_OK : MEWE_ENOMEM;
}

static int wait_child(pid_t pid, int *exit_status)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

int mewe__spawn(mewe_context *ctx, const char *const *argv, int *exit_status, char **output)
{
    *output = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return mewe__error(ctx, MEWE_ETOOL, "cannot run '%s': %s", argv[0], strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    /* posix_spawn does not write through argv; the cast only drops the const. */
    int err = posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return mewe__error(ctx, MEWE_ETOOL, "cannot run '%s': %s", argv[0], strerror(err));
    }
    int rc = read_all(fds[0], output);
    close(fds[0]);
    if (wait_child(pid, exit_status) != 0 && rc == MEWE_OK)
        rc = mewe__error(ctx, MEWE_ETOOL, "lost track of '%s': %s", argv[0], strerror(errno));
    if (rc == MEWE_ENOMEM)
        rc = mewe__error(ctx, MEWE_ENOMEM, "out of memory reading the output of '%s'", argv[0]);
    return rc;
}
