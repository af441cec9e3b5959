/* Shared helpers of the Check suites: a fresh context per test, temporary files, and an
 * assertion that prints the context's message when a call fails. */
#ifndef MEWE_TEST_UTIL_H
#define MEWE_TEST_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mewe/mewe.h>

#include "test-skip.h"
#include "wasm-run.h"

/* The context of the running test, made by the checked fixture. */
extern mewe_context *tctx;
/* A fresh temporary directory per test, removed by the fixture. */
extern char tdir[];

/* Asserts MEWE_OK and shows the context's message when it is not. */
#define ck_assert_mewe_ok(expr)                                                                    \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        ck_assert_msg(rc_ == MEWE_OK, "%s returned %d (%s): %s", #expr, rc_, mewe_status_str(rc_), \
                      mewe_context_errmsg(tctx));                                                  \
    } while (0)

/* Asserts a given status and that the message mentions `needle`. */
#define ck_assert_mewe_fails(expr, status, needle)                                                 \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        ck_assert_msg(rc_ == (status), "%s returned %d (%s), expected %d: %s", #expr, rc_,         \
                      mewe_status_str(rc_), (status), mewe_context_errmsg(tctx));                  \
        ck_assert_msg(strstr(mewe_context_errmsg(tctx), (needle)) != NULL,                         \
                      "message of %s lacks '%s': %s", #expr, (needle), mewe_context_errmsg(tctx)); \
    } while (0)

void test_setup(void);
void test_teardown(void);
/* Adds a test case with the fixture and a generous timeout (wasm runs under node). */
TCase *test_case(const char *name);
/* Runs the suite and returns main's exit status (see test_exit_status). */
int test_run(Suite *s);
/* Whether this is the sanitizer pass (MEWE_TEST_QUICK set and not "0"): it looks for memory
 * errors in the library, which repeating a wasm run or a build on more seeds does not
 * exercise, so the costliest differential tests do less there. */
int test_quick(void);

/* Path in the test's temporary directory; returns a static buffer rotating over 8 slots. */
const char *tpath(const char *name);
/* Path of a source fixture or data file under tests/. */
const char *srcpath(const char *rel);
void write_file(const char *path, const void *data, size_t size);
/* Reads a whole file (malloc'd, NUL-terminated); NULL if absent. */
char *read_file(const char *path, size_t *size);
int file_exists(const char *path);
/* Number of entries in a directory, not counting . and .. */
int dir_entries(const char *path);

/* A copy of `size` bytes placed right before an inaccessible page: a library that reads or
 * writes one byte past it crashes the test, which Check reports. For options structs of an
 * older version, which the caller's program allocated at their older, shorter size. */
void *guarded_copy(const void *data, size_t size);
void guarded_free(void *copy, size_t size);

/* Compiles a C or Rust fixture (tests/fixtures/NAME) to bitcode once per suite run; returns
 * the path of the shared copy, which tests must not modify. */
const char *fixture_bc(const char *name);
/* Loads a compiled fixture into the test context. */
mewe_module *load_fixture(const char *name);
/* Reads tests/fixtures/<name>.expected. */
char *expected_output(const char *name);

#endif /* MEWE_TEST_UTIL_H */
