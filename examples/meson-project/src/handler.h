/* A toy edge handler: the kind of code a multivariant binary protects. */
#ifndef HANDLER_H
#define HANDLER_H

#include <stddef.h>

/* Answers a request such as "GET /sum?a=2&b=40" into `out`; returns the status code. */
int handle(const char *request, char *out, size_t size);

#endif
