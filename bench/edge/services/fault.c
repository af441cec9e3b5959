/* fault endpoint of the local edge (bench/edge), for its test and for trying the harness's
 * fault handling: not one of the default services.
 *
 * Usage: fault echo TEXT   print TEXT and a newline
 *        fault trap        execute an unreachable instruction (the host answers 500)
 *        fault exit N      exit with status N (the host answers 400 unless N is 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not inlined, so that the multivariant build has a dispatcher on the path. */
__attribute__((noinline)) static int echo(const char *text)
{
    return printf("%s\n", text) < 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return echo(argv[2]);
    if (argc == 2 && strcmp(argv[1], "trap") == 0)
        __builtin_trap();
    if (argc == 3 && strcmp(argv[1], "exit") == 0)
        return atoi(argv[2]);
    fprintf(stderr, "usage: fault echo TEXT | trap | exit N\n");
    return 2;
}
