#include "text.h"

unsigned text_hash(const char *p)
{
    unsigned h = 2166136261u;
    while (*p)
        h = (h ^ (unsigned char)*p++) * 16777619u;
    return h;
}

int text_words(const char *p)
{
    int words = 0, in = 0;
    for (; *p; p++) {
        int space = *p == ' ' || *p == '\n' || *p == '\t';
        words += !space && !in;
        in = !space;
    }
    return words;
}
