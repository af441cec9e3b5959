/* CLI fixture: needs a stack of about 512 KiB, more than wasm-ld's default 64 KiB; runs
 * only when linked with -z stack-size=1048576 or so. */
#include <stdio.h>
#include <string.h>

static int sum(volatile unsigned char *buf, size_t n)
{
    int s = 0;
    for (size_t i = 0; i < n; i += 4096)
        s += buf[i];
    return s;
}

int main(void)
{
    volatile unsigned char big[512 * 1024];
    for (size_t i = 0; i < sizeof big; i += 4096)
        big[i] = 1;
    printf("stack ok: %d\n", sum(big, sizeof big));
    return 0;
}
