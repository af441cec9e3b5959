/* Skipping honestly (test-skip.h). Apart from test-util.c, so that suites which do not use
 * libmewe (test-runner) can link it. */
#include <stdarg.h>
#include <stdio.h>

#include "test-skip.h"

static int skipped;

void test_skip(int n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("SKIP: %d test%s: ", n, n == 1 ? "" : "s");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    skipped += n;
}

int test_exit_status(int failed)
{
    if (failed)
        return 1;
    return skipped ? 77 : 0;
}
