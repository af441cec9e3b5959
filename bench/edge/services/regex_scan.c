/* regex endpoint of the local edge (bench/edge): syntax highlighting and search as an HTTP
 * service, over Oniguruma 5.9.6 (the npm package `oniguruma`, deps/onig: a pattern compiler
 * and a backtracking bytecode VM, nobody here wrote it). The tokenizer grammar is the
 * benchmark workload's (bench/workloads/onig_scan.c, included whole), so that the service
 * runs the patterns that the workload checks; only the request handling is new.
 *
 * Usage: regex highlight           the body (UTF-8 source text) as HTML, every token of
 *                                  the C-family grammar in <span class="KIND">
 *        regex search PATTERN [i]  every match of PATTERN (Ruby syntax; i: ignore case)
 *                                  in the body: "LINE:COLUMN: MATCH" and its groups
 *                                  " [GROUP]" on one line each, then "N matches"
 * Exit 2 on a bad argument, pattern or body (not UTF-8), 1 when out of memory or when a
 * search fails (e.g. a pattern whose backtracking outgrows MATCH_STACK_LIMIT).
 *
 * Every request compiles its patterns afresh, as a fresh instance per request must: the
 * highlighter's 13 patterns cost about as much as tokenizing a few KiB. A pattern may take
 * exponential time on some text (a backtracking VM); that is the platform's limit on a
 * request's CPU time to bound, as for any code it runs.
 */
#define main onig_scan_main
#include "onig_scan.c"
#undef main

/* Entries of the backtracking stack, about 20 bytes each: bounds a request's memory. */
#define MATCH_STACK_LIMIT 500000u

/* The CSS class of each of onig_scan.c's TOKENS, in order; NULL: written without a span. */
static const char *const KINDS[] = {
    "comment", "comment",  "string", "string",   "string", "number", "keyword",
    "call",    "property", "ident",  "operator", "punct",  NULL, /* blank */
};
_Static_assert(COUNT(KINDS) == COUNT(TOKENS), "a class for every token pattern");

/* The answer, kept in memory and written only when the request succeeds: a search that
 * fails half-way leaves no partial answer. */
static FILE *out;

static unsigned char *read_stdin(size_t *len)
{
    size_t cap = 1 << 14, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, stdin);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

/* Oniguruma 5.9.6 takes a character's length from its first byte and trusts it, so text
 * that is not UTF-8 could make it read past the end: the request is refused instead. Checks
 * what those lengths rely on, lead and continuation bytes (the rarer ill-formed sequences,
 * 3- and 4-byte overlong forms and surrogates, have the right lengths and pass). Returns the
 * offset of the first bad byte, or len. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], n; /* continuation bytes after c */
        if (c < 0x80)
            n = 0;
        else if (c >= 0xc2 && c < 0xe0)
            n = 1;
        else if (c >= 0xe0 && c < 0xf0)
            n = 2;
        else if (c >= 0xf0 && c < 0xf5)
            n = 3;
        else
            return i; /* a continuation byte, C0, C1 or beyond U+10FFFF */
        if (len - i <= n)
            return i; /* cut short by the end */
        for (unsigned k = 1; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

static void put_html(const unsigned char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *entity;
        if (s[i] == '<')
            entity = "&lt;";
        else if (s[i] == '>')
            entity = "&gt;";
        else if (s[i] == '&')
            entity = "&amp;";
        else
            continue;
        fwrite(s + from, 1, i - from, out);
        fputs(entity, out);
        from = i + 1;
    }
    fwrite(s + from, 1, n - from, out);
}

/* A match or group on one line: control characters and backslashes escaped as in C. */
static void put_escaped(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c == '\\')
            fputs("\\\\", out);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc((int)c, out);
    }
}

/* Tokenizes text as OnigScanner does, like onig_scan.c's tokenize (at each position the
 * earliest match among the patterns wins, the first pattern on a tie; a pattern's match is
 * kept until the position passes its start), but writes the tokens as HTML. Text that no
 * pattern matches is written as it is. Returns the token count, or Oniguruma's (negative)
 * error code if a search failed. */
static long highlight(OnigRegex *re, OnigRegion **regions, const unsigned char *text, size_t len)
{
    enum { N = COUNT(TOKENS) };
    long cached[N], tokens = 0;
    for (int i = 0; i < (int)N; i++)
        cached[i] = -2; /* not searched yet */
    const unsigned char *end = text + len;
    size_t pos = 0;
    fputs("<pre class=\"highlight\">", out);
    while (pos < len) {
        int best = -1;
        for (int i = 0; i < (int)N; i++) {
            if (cached[i] == -2 || (cached[i] >= 0 && (size_t)cached[i] < pos)) {
                cached[i] =
                    onig_search(re[i], text, end, text + pos, end, regions[i], ONIG_OPTION_NONE);
                if (cached[i] < ONIG_MISMATCH)
                    return cached[i];
            }
            if (cached[i] >= 0 && (best < 0 || cached[i] < cached[best]))
                best = i;
        }
        if (best < 0)
            break;
        size_t beg = (size_t)regions[best]->beg[0], stop = (size_t)regions[best]->end[0];
        put_html(text + pos, beg - pos);
        if (KINDS[best])
            fprintf(out, "<span class=\"%s\">", KINDS[best]);
        put_html(text + beg, stop - beg);
        if (KINDS[best])
            fputs("</span>", out);
        tokens++;
        if (stop > beg) {
            pos = stop;
        } else { /* an empty match: its character goes out as it is */
            pos = beg + 1;
            put_html(text + beg, 1);
        }
    }
    if (pos < len)
        put_html(text + pos, len - pos);
    fputs("</pre>\n", out);
    return tokens;
}

/* Every match of re, as a global search finds them, one line each. Returns the count, or
 * Oniguruma's (negative) error code if a search failed. */
static long search(OnigRegex re, OnigRegion *rg, const unsigned char *text, size_t len)
{
    const unsigned char *end = text + len;
    size_t pos = 0, line = 1, line_start = 0, counted = 0;
    long matches = 0;
    while (pos <= len) {
        int at = onig_search(re, text, end, text + pos, end, rg, ONIG_OPTION_NONE);
        if (at == ONIG_MISMATCH)
            break;
        if (at < 0)
            return at;
        for (; counted < (size_t)at; counted++)
            if (text[counted] == '\n')
                line++, line_start = counted + 1;
        fprintf(out, "%zu:%zu: ", line, (size_t)at - line_start + 1);
        put_escaped(text + rg->beg[0], (size_t)(rg->end[0] - rg->beg[0]));
        for (int g = 1; g < rg->num_regs; g++) {
            fputs(" [", out);
            if (rg->beg[g] >= 0) /* a group that took no part in the match stays empty */
                put_escaped(text + rg->beg[g], (size_t)(rg->end[g] - rg->beg[g]));
            fputc(']', out);
        }
        fputc('\n', out);
        matches++;
        pos = (size_t)rg->end[0] > (size_t)at ? (size_t)rg->end[0] : (size_t)at + 1;
    }
    fprintf(out, "%ld matches\n", matches);
    return matches;
}

static int usage(void)
{
    fprintf(stderr, "usage: regex highlight < text\n"
                    "       regex search PATTERN [i] < text\n");
    return 2;
}

int main(int argc, char **argv)
{
    int do_search = argc >= 3 && argc <= 4 && strcmp(argv[1], "search") == 0;
    if (!(argc == 2 && strcmp(argv[1], "highlight") == 0) && !do_search)
        return usage();
    OnigOptionType options = ONIG_OPTION_NONE;
    if (argc == 4) {
        if (strcmp(argv[3], "i") != 0) {
            fprintf(stderr, "regex: unknown option '%s' after the pattern (only 'i')\n", argv[3]);
            return 2;
        }
        options = ONIG_OPTION_IGNORECASE;
    }
    size_t len;
    unsigned char *text = read_stdin(&len);
    if (!text) {
        fprintf(stderr, "regex: out of memory\n");
        return 1;
    }
    size_t bad = utf8_valid_prefix(text, len);
    if (bad < len) {
        fprintf(stderr, "regex: the body is not UTF-8 (byte %zu)\n", bad);
        return 2;
    }
    char *answer = NULL;
    size_t answer_len = 0;
    out = open_memstream(&answer, &answer_len);
    if (!out) {
        fprintf(stderr, "regex: out of memory\n");
        return 1;
    }
    onig_init();
    onig_set_match_stack_limit_size(MATCH_STACK_LIMIT);
    long found;
    if (do_search) {
        const unsigned char *p = (const unsigned char *)argv[2];
        size_t plen = strlen(argv[2]);
        if (utf8_valid_prefix(p, plen) < plen) {
            fprintf(stderr, "regex: the pattern is not UTF-8\n");
            return 2;
        }
        OnigRegex re;
        OnigErrorInfo einfo;
        int rc = onig_new(&re, p, p + plen, options, ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &einfo);
        if (rc != ONIG_NORMAL) {
            OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
            onig_error_code_to_str(message, rc, &einfo);
            fprintf(stderr, "regex: bad pattern '%s': %s\n", argv[2], message);
            return 2;
        }
        OnigRegion *rg = onig_region_new();
        found = rg ? search(re, rg, text, len) : ONIGERR_MEMORY;
        onig_region_free(rg, 1);
        onig_free(re);
    } else {
        OnigRegex tok[COUNT(TOKENS)];
        OnigRegion *regions[COUNT(TOKENS)];
        for (size_t i = 0; i < COUNT(TOKENS); i++) {
            /* onig_scan.c's compile, which prints its failure on stdout: a bug, not a
             * request's fault, if it fails here. The block comment's dot crosses lines. */
            if (compile(&tok[i], TOKENS[i], i == 1 ? ONIG_OPTION_MULTILINE : ONIG_OPTION_NONE))
                return 1;
            regions[i] = onig_region_new();
            if (!regions[i]) {
                fprintf(stderr, "regex: out of memory\n");
                return 1;
            }
        }
        found = highlight(tok, regions, text, len);
        for (size_t i = 0; i < COUNT(TOKENS); i++) {
            onig_region_free(regions[i], 1);
            onig_free(tok[i]);
        }
    }
    onig_end();
    free(text);
    if (fclose(out) != 0) {
        fprintf(stderr, "regex: out of memory\n");
        return 1;
    }
    if (found < 0) {
        OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(message, (int)found);
        fprintf(stderr, "regex: search failed: %s\n", message);
        return 1;
    }
    fwrite(answer, 1, answer_len, stdout);
    free(answer);
    return 0;
}
