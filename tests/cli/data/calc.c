/* CLI fixture: external functions, so that --export can name them, with another body for
 * each under -DALT, so that the ALT build is a module of variants for --variants-from. */
#include <stdio.h>
#include <stdlib.h>

int calc_mix(int a, int b)
{
#ifndef ALT
    return (a ^ b) + (a & b) * 3 - (b | 5);
#else
    return (a ^ b) + (a & b) + (a & b) + (a & b) - (b | 5);
#endif
}

int calc_poly(int x)
{
#ifndef ALT
    return x * x * 7 + x * 5 - 11;
#else
    return (x * 7 + 5) * x - 11;
#endif
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += calc_mix(i, n - i) + calc_poly(i);
    printf("calc: %d %ld\n", n, sum);
    return 0;
}
