/* Calls across translation units reach the callee's dispatcher, by its own name. */
#include <stdio.h>

#include "stats.h"
#include "text.h"

int main(void)
{
    static const char *const lines[] = {"the quick brown fox", "jumps over", "the lazy dog",
                                        "multivariant execution at the edge"};
    stats s = {0};
    for (unsigned i = 0; i < sizeof lines / sizeof *lines; i++) {
        stats_add(&s, text_words(lines[i]));
        printf("%-36s %u\n", lines[i], text_hash(lines[i]) % 100000);
    }
    printf("words: n=%ld min=%ld max=%ld mean=%ld\n", s.n, s.min, s.max, stats_mean(&s));
    return 0;
}
