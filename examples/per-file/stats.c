#include "stats.h"

/* A static helper (clang -O2 inlines it into stats_add, inside stats.o). */
static long clamp(long v, long lo, long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void stats_add(stats *s, long v)
{
    if (s->n == 0 || v < s->min)
        s->min = v;
    if (s->n == 0 || v > s->max)
        s->max = v;
    s->n++;
    s->sum += clamp(v, -1000000, 1000000);
}

long stats_mean(const stats *s)
{
    return s->n ? s->sum / s->n : 0;
}
