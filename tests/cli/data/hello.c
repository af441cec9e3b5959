/* mewe-cc fixture: a greeting from -I's header and -D's macro, and the -std= in force. */
#include <stdio.h>

#include "greet.h"

#ifndef GREETING
#error "compile with -DGREETING=..."
#endif

int main(void)
{
    printf("%s, %s! (std %ld)\n", GREETING, greet_target(), (long)__STDC_VERSION__);
    printf("sum: %d\n", util_sum(10));
    return 0;
}
