/* Writes the man page mewe.1 on standard output, from the option table that --help uses and
 * from the library (defaults, limits, the registered built-ins); with --markdown, the page of
 * the API reference that lists the defaults, limits and built-ins. The build runs it. */
#include <stdio.h>
#include <string.h>

#include <mewe/mewe.h>

#include "cli_options.h"

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--markdown") != 0)) {
        fprintf(stderr, "usage: mewe-mangen [--markdown]\n");
        return 2;
    }
    mewe_context *ctx;
    int rc = mewe_context_new(&ctx);
    if (rc != MEWE_OK) {
        fprintf(stderr, "mewe-mangen: cannot create a libmewe context: %s\n", mewe_status_str(rc));
        return 1;
    }
    if (argc == 2)
        cli_print_markdown(stdout, ctx);
    else
        cli_print_man(stdout, MEWE_VERSION_STRING, ctx);
    mewe_context_free(ctx);
    return fflush(stdout) == 0 ? 0 : 1;
}
