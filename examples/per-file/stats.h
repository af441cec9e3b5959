/* Running statistics over integers, in a translation unit of its own. */
#ifndef STATS_H
#define STATS_H

typedef struct stats {
    long n, sum, min, max;
} stats;

void stats_add(stats *s, long v);
long stats_mean(const stats *s);

#endif
