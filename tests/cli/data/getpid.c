/* CLI fixture: links only with -lwasi-emulated-getpid. */
#define _WASI_EMULATED_GETPID
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("pid ok: %d\n", getpid() > 0);
    return 0;
}
