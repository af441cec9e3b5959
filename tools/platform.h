/* --platform: what each host accepts, checked against the options before any work and
 * against the imports and exports of the wasm written. */
#ifndef MEWE_PLATFORM_H
#define MEWE_PLATFORM_H

#include <stddef.h>

#include "cli.h"

/* In the order of the --platform choices. */
typedef enum cli_platform {
    PLATFORM_ANY,
    PLATFORM_FASTLY,
    PLATFORM_CLOUDFLARE,
    PLATFORM_WASMTIME,
    PLATFORM_NODE
} cli_platform;

/* Options that the platform cannot run (--rng host or --trace on a host that provides only
 * WASI, a reactor on Fastly): an error naming the option, EXIT_USAGE; warnings for what a
 * JavaScript host must provide itself. EXIT_OK otherwise. Before any work. */
int platform_check_options(const cli *c);

/* The imports and exports of the linked wasm (command or reactor) against the platform and
 * the options: an error per import that the platform does not provide, naming the option
 * that added it (EXIT_FAIL), and the warnings that hold on any platform (a reactor that
 * exports nothing). EXIT_OK otherwise; a wasm that cannot be read is a warning. */
int platform_check_wasm(const cli *c, const unsigned char *wasm, size_t size);

#endif /* MEWE_PLATFORM_H */
