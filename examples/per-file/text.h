/* Small text functions, in a translation unit of their own. */
#ifndef TEXT_H
#define TEXT_H

unsigned text_hash(const char *p);
int text_words(const char *p);

#endif
