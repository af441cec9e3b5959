/* Shared helpers of the Check suites. */
#include <dirent.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"

mewe_context *tctx;
char tdir[4096];
/* Compiled fixtures, shared by every test of the suite (the tests fork, the files stay). */
static char tcache[4096];

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void test_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tdir, sizeof tdir, "%s/mewe-test-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    ck_assert_int_eq(mewe_context_new(&tctx), MEWE_OK);
}

void test_teardown(void)
{
    mewe_context_free(tctx);
    tctx = NULL;
    if (!getenv("MEWE_TEST_KEEP"))
        remove_tree(tdir);
}

TCase *test_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    tcase_set_timeout(tc, 300);
    return tc;
}

int test_quick(void)
{
    const char *quick = getenv("MEWE_TEST_QUICK");
    return quick && *quick && strcmp(quick, "0") != 0;
}

int test_run(Suite *s)
{
    const char *base = getenv("TMPDIR");
    snprintf(tcache, sizeof tcache, "%s/mewe-cache-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tcache))
        tcache[0] = '\0';
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (tcache[0])
        remove_tree(tcache);
    return test_exit_status(failed);
}

const char *tpath(const char *name)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    ck_assert_int_lt(snprintf(b, 4096, "%s/%s", tdir, name), 4096);
    return b;
}

const char *srcpath(const char *rel)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 4096, "%s/%s", MEWE_TEST_SRCDIR, rel);
    return b;
}

void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static size_t guarded_span(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size + page - 1) / page * page + page;
}

void *guarded_copy(const void *data, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), span = guarded_span(size);
    char *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(base != MAP_FAILED, "mmap of %zu bytes failed", span);
    ck_assert_int_eq(mprotect(base + span - page, page, PROT_NONE), 0);
    char *copy = base + span - page - size;
    memcpy(copy, data, size);
    return copy;
}

void guarded_free(void *copy, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), span = guarded_span(size);
    munmap((char *)copy + size + page - span, span);
}

const char *fixture_bc(const char *name)
{
    static char bufs[4][4096];
    static int next;
    char *out = bufs[next++ % 4];
    char base[256];
    snprintf(base, sizeof base, "%s", name);
    for (char *p = base; *p; p++)
        if (*p == '/')
            *p = '_';
    ck_assert_int_lt(snprintf(out, 4096, "%s/%s.bc", tcache[0] ? tcache : tdir, base), 4096);
    if (file_exists(out))
        return out;
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/%s", MEWE_TEST_SRCDIR, name);
    char *log = NULL;
    size_t len = strlen(name);
    int rc = len > 3 && strcmp(name + len - 3, ".rs") == 0 ? compile_rust_to_bc(src, out, &log)
                                                           : compile_c_to_bc(src, out, &log);
    ck_assert_msg(rc == 0, "cannot compile %s: %s", src, log ? log : "(compiler did not run)");
    free(log);
    return out;
}

mewe_module *load_fixture(const char *name)
{
    mewe_module *m = NULL;
    ck_assert_mewe_ok(mewe_module_load(&m, tctx, fixture_bc(name)));
    return m;
}

char *expected_output(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/%s", MEWE_TEST_SRCDIR, name);
    char *dot = strrchr(path, '.');
    if (dot && strchr(dot, '/') == NULL)
        *dot = '\0';
    strncat(path, ".expected", sizeof path - strlen(path) - 1);
    char *text = read_file(path, NULL);
    ck_assert_msg(text != NULL, "missing %s", path);
    return text;
}
