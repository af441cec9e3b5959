/* hello-mewe: answers a few requests with the handler of handler.c. Built as a multivariant
 * wasm, each call of handle(), fib() and the query parser runs one of several variants. */
#include <stdio.h>

#include "handler.h"

int main(void)
{
    static const char *const requests[] = {
        "GET /sum?a=2&b=40", "GET /fib?n=50", "GET /fib?n=-1",
        "GET /fib",          "GET /nowhere",  "PUT /sum",
    };
    char body[64];
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        int status = handle(requests[i], body, sizeof body);
        printf("%-18s -> %d %s\n", requests[i], status, body);
    }
    return 0;
}
