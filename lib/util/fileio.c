/* Whole-file reads, atomic writes and temporary directories. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"

int mewe__file_read(mewe_context *ctx, const char *path, char **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mewe__error(ctx, MEWE_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = errno;
        close(fd);
        return mewe__error(ctx, MEWE_EIO, "cannot read '%s': %s", path,
                           S_ISDIR(st.st_mode) ? "is a directory" : strerror(err));
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory reading '%s'", path);
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return mewe__error(ctx, MEWE_EIO, "cannot read '%s': %s", path, strerror(err));
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *size = got;
    return MEWE_OK;
}

static int write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* The temporary file sits beside the destination so that rename() stays within one file
 * system and is atomic. */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return mewe__printf(".%s.mewe-XXXXXX", path);
    return mewe__printf("%.*s/.%s.mewe-XXXXXX", (int)(slash - path), path, slash + 1);
}

int mewe__file_write_atomic(mewe_context *ctx, const char *path, const void *data, size_t size)
{
    if (path[0] == '\0')
        return mewe__error(ctx, MEWE_EINVAL, "output path is empty");
    char *tmp = temp_template(path);
    if (!tmp)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory writing '%s'", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return mewe__error(ctx, MEWE_EIO, "cannot write '%s': %s", path, strerror(err));
    }
    /* mkstemp creates 0600; an output file is meant to be read by others, as with cc -o. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    int rc = MEWE_OK;
    if (fchmod(fd, mode) != 0 || write_all(fd, data, size) != 0) {
        rc = mewe__error(ctx, MEWE_EIO, "cannot write '%s': %s", path, strerror(errno));
        close(fd);
    } else if (close(fd) != 0) {
        rc = mewe__error(ctx, MEWE_EIO, "cannot write '%s': %s", path, strerror(errno));
    } else if (rename(tmp, path) != 0) {
        rc = mewe__error(ctx, MEWE_EIO, "cannot write '%s': %s", path, strerror(errno));
    }
    if (rc != MEWE_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

int mewe__tempdir_make(mewe_context *ctx, char **out)
{
    const char *base = getenv("TMPDIR");
    if (!base || base[0] == '\0')
        base = "/tmp";
    char *dir = mewe__printf("%s/mewe-XXXXXX", base);
    if (!dir)
        return mewe__error(ctx, MEWE_ENOMEM, "out of memory");
    if (!mkdtemp(dir)) {
        int err = errno;
        free(dir);
        return mewe__error(ctx, MEWE_EIO, "cannot create a temporary directory in '%s': %s", base,
                           strerror(err));
    }
    *out = dir;
    return MEWE_OK;
}

void mewe__tempdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = mewe__printf("%s/%s", dir, e->d_name);
            if (p)
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

int mewe__file_read_input(mewe_context *ctx, bool has_out, const char *path, const char *fn,
                          char **out, size_t *size)
{
    if (!ctx)
        return MEWE_EINVAL;
    if (!has_out)
        return mewe__error(ctx, MEWE_EINVAL, "%s: out is NULL", fn);
    if (!path)
        return mewe__error(ctx, MEWE_EINVAL, "%s: path is NULL", fn);
    return mewe__file_read(ctx, path, out, size);
}
