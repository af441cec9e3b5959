/* Writes the man page mewe.1 on standard output, from the option table that --help uses.
 * The build runs it; it needs libmewe's headers only, not the library. */
#include <stdio.h>

#include <mewe/version.h>

#include "cli_options.h"

int main(void)
{
    cli_print_man(stdout, MEWE_VERSION_STRING);
    return fflush(stdout) == 0 ? 0 : 1;
}
