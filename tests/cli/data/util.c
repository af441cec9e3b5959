/* mewe-cc fixture: the second C file of the program. */
#include "greet.h"

const char *greet_target(void)
{
    return "multivariant world";
}

int util_sum(int n)
{
    int s = 0;
    for (int i = 1; i <= n; i++)
        s += i * i - (i ^ 3);
    return s;
}
