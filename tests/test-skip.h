/* Skipping honestly: tests that cannot run here (a tool is missing) are not registered, and
 * the suite says so and exits 77, meson's "skipped", instead of passing. */
#ifndef MEWE_TEST_SKIP_H
#define MEWE_TEST_SKIP_H

/* Prints "SKIP: N tests: why", which scripts/count-tests.py counts as N skipped tests. */
void test_skip(int n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* main's exit status: 1 when a test failed, else 77 when test_skip was called, else 0. */
int test_exit_status(int failed);

#endif /* MEWE_TEST_SKIP_H */
