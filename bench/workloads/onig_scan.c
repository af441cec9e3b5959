/* onig_scan: a benchmark workload over Oniguruma, the regular-expression engine inside the
 * npm package `oniguruma` (deps/onig, Oniguruma 5.9.6, built as the package's binding.gyp
 * builds it). Oniguruma compiles each pattern to bytecode and runs it on a backtracking
 * virtual machine (regexec.c's match_at, a switch over opcodes).
 *
 * Usage: onig_scan N
 * The package exists to tokenize source code for a text editor's grammars (Atom's
 * OnigScanner: at each position, the earliest match among a list of patterns wins). For N
 * rounds: compile a list of tokenizer patterns (Ruby syntax, UTF-8), generate 24 KiB of
 * JavaScript-like source text (a fixed generator, a new seed each round), tokenize it the
 * way OnigScanner does (each pattern's last match is kept until the position passes it),
 * then run three whole-text searches with captures and back-references. Prints the number
 * of tokens and a checksum of every token's pattern, position and groups; exit 1 on any
 * failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oniguruma.h"

#define TEXT_SIZE (24u * 1024u)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const TOKENS[] = {
    "//[^\\n]*",                                                 /* line comment */
    "/\\*.*?\\*/",                                               /* block comment (m) */
    "\"(?:[^\"\\\\\\n]|\\\\.)*\"",                               /* "string" */
    "'(?:[^'\\\\\\n]|\\\\.)*'",                                  /* 'string' */
    "`(?:[^`\\\\]|\\\\.)*`",                                     /* `template` */
    "\\b(?:0[xX]\\h+|\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)\\b",    /* number */
    "\\b(?:function|return|var|let|const|if|else|for|while|new|this|class|extends|"
    "import|export|from|async|await|typeof|null|true|false)\\b", /* keyword */
    "\\b([A-Za-z_$][\\w$]*)\\s*(?=\\()",                         /* call */
    "(?<=\\.)[A-Za-z_$][\\w$]*",                                 /* property */
    "[A-Za-z_$][\\w$]*",                                         /* identifier */
    "===|!==|=>|&&|\\|\\||[-+*/%=<>!&|^~?:]=?",                  /* operator */
    "[{}()\\[\\];,.]",                                           /* punctuation */
    "\\s+",                                                      /* blank */
};

static const char *const SEARCHES[] = {
    "(?<key>[A-Za-z_]\\w*)\\s*:\\s*(?<val>\"[^\"]*\"|\\d+|\\w+)",     /* object fields */
    "(?i)\\b(todo|fixme|note)\\b[: ]+(\\w+)",                          /* case folding */
    "\\b(\\w{3,})\\b[^;\\n]*\\b\\1\\b",                                /* back-reference */
};

static uint64_t fnv(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        h = (h ^ (v >> (8 * i) & 255)) * 0x100000001b3ull;
    return h;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static const char *const NAMES[] = {"user", "order", "items", "total", "count", "result",
                                    "value", "index", "node", "parent", "cache", "request",
                                    "response", "config", "handler", "buffer"};
static const char *const CALLS[] = {"map", "filter", "push", "get", "set", "toString",
                                    "reduce", "indexOf", "slice", "then"};

/* JavaScript-like text with comments, strings, numbers and nested calls; the last line
 * may be cut short. Returns the length (TEXT_SIZE). */
static size_t make_text(char *buf, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 7;
    size_t n = 0;
    char line[256];
    while (n < TEXT_SIZE) {
        uint64_t r = next_random(&s);
        const char *a = NAMES[r % COUNT(NAMES)], *b = NAMES[(r >> 8) % COUNT(NAMES)];
        const char *c = CALLS[(r >> 16) % COUNT(CALLS)];
        unsigned k = (unsigned)(r >> 24) % 1000;
        int len;
        switch ((r >> 40) % 9) {
        case 0: len = snprintf(line, sizeof line, "function %sOf%s(%s, %s) {\n", a, b, a, b); break;
        case 1: len = snprintf(line, sizeof line, "  const %s = %s.%s(x => x.%s + %u);\n", a, b, c, a, k); break;
        case 2: len = snprintf(line, sizeof line, "  // TODO: %s %s when %s is %s\n", c, a, b, b); break;
        case 3: len = snprintf(line, sizeof line, "  let %s = { %s: \"%s-%u\", size: %u, ok: true };\n", a, b, c, k, k * 7); break;
        case 4: len = snprintf(line, sizeof line, "  if (%s.length >= 0x%x && %s !== null) { return %s; }\n", a, k, b, a); break;
        case 5: len = snprintf(line, sizeof line, "  /* %s: note %s\n     %s */ %s += %u.%ue-%u;\n", a, b, c, a, k, k % 10, k % 5); break;
        case 6: len = snprintf(line, sizeof line, "  await %s.%s('%s\\'s', `${%s}`);\n", b, c, a, b); break;
        case 7: len = snprintf(line, sizeof line, "  %s = %s || %s.%s(%s.%s(%u));\n", a, a, b, c, b, c, k); break;
        default: len = snprintf(line, sizeof line, "}\n"); break;
        }
        size_t take = (size_t)len < TEXT_SIZE - n ? (size_t)len : TEXT_SIZE - n;
        memcpy(buf + n, line, take);
        n += take;
    }
    return n;
}

static int compile(OnigRegex *out, const char *pattern, OnigOptionType options)
{
    OnigErrorInfo einfo;
    const OnigUChar *p = (const OnigUChar *)pattern;
    int rc = onig_new(out, p, p + strlen(pattern), options, ONIG_ENCODING_UTF8,
                      ONIG_SYNTAX_RUBY, &einfo);
    if (rc != ONIG_NORMAL) {
        OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(message, rc, &einfo);
        printf("onig: cannot compile %s: %s\n", pattern, message);
        return 1;
    }
    return 0;
}

/* Tokenizes text as OnigScanner does; adds every token to *h, returns the token count or
 * -1. */
static long tokenize(OnigRegex *re, OnigRegion **regions, const OnigUChar *text, size_t len,
                     uint64_t *h)
{
    enum { N = COUNT(TOKENS) };
    long cached[N], tokens = 0;
    for (int i = 0; i < (int)N; i++)
        cached[i] = -2; /* not searched yet */
    const OnigUChar *end = text + len;
    size_t pos = 0;
    while (pos < len) {
        int best = -1;
        for (int i = 0; i < (int)N; i++) {
            if (cached[i] == -2 || (cached[i] >= 0 && (size_t)cached[i] < pos)) {
                cached[i] = onig_search(re[i], text, end, text + pos, end, regions[i],
                                        ONIG_OPTION_NONE);
                if (cached[i] < ONIG_MISMATCH)
                    return -1;
            }
            if (cached[i] >= 0 && (best < 0 || cached[i] < cached[best]))
                best = i;
        }
        if (best < 0)
            break;
        OnigRegion *rg = regions[best];
        *h = fnv(*h, (uint64_t)best << 48 | (uint64_t)rg->beg[0] << 24 | (uint64_t)rg->end[0]);
        for (int g = 1; g < rg->num_regs; g++)
            *h = fnv(*h, (uint64_t)(uint32_t)rg->beg[g] << 32 | (uint32_t)rg->end[g]);
        tokens++;
        size_t next = (size_t)rg->end[0];
        pos = next > pos ? next : pos + 1;
    }
    return tokens;
}

/* Every match of re in text, as a global search would find them; returns the count or -1. */
static long search_all(OnigRegex re, OnigRegion *rg, const OnigUChar *text, size_t len,
                       uint64_t *h)
{
    const OnigUChar *end = text + len;
    size_t pos = 0;
    long matches = 0;
    while (pos <= len) {
        int at = onig_search(re, text, end, text + pos, end, rg, ONIG_OPTION_NONE);
        if (at == ONIG_MISMATCH)
            break;
        if (at < 0)
            return -1;
        for (int g = 0; g < rg->num_regs; g++)
            *h = fnv(*h, (uint64_t)(uint32_t)rg->beg[g] << 32 | (uint32_t)rg->end[g]);
        matches++;
        pos = (size_t)rg->end[0] > (size_t)at ? (size_t)rg->end[0] : (size_t)at + 1;
    }
    return matches;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 4;
    char *text = malloc(TEXT_SIZE);
    if (!text) {
        printf("onig: out of memory\n");
        return 1;
    }
    onig_init();
    uint64_t h = 0xcbf29ce484222325ull;
    long tokens = 0, found = 0;
    for (long r = 0; r < rounds; r++) {
        OnigRegex tok[COUNT(TOKENS)], srch[COUNT(SEARCHES)];
        OnigRegion *regions[COUNT(TOKENS)];
        for (size_t i = 0; i < COUNT(TOKENS); i++) {
            /* The block comment's dot must cross lines: Ruby's multiline option. */
            if (compile(&tok[i], TOKENS[i], i == 1 ? ONIG_OPTION_MULTILINE : ONIG_OPTION_NONE))
                return 1;
            regions[i] = onig_region_new();
        }
        for (size_t i = 0; i < COUNT(SEARCHES); i++)
            if (compile(&srch[i], SEARCHES[i], ONIG_OPTION_NONE))
                return 1;
        size_t len = make_text(text, (uint64_t)r + 1);
        long t = tokenize(tok, regions, (const OnigUChar *)text, len, &h);
        if (t < 0) {
            printf("onig: round %ld: search failed\n", r);
            return 1;
        }
        tokens += t;
        for (size_t i = 0; i < COUNT(SEARCHES); i++) {
            long m = search_all(srch[i], regions[0], (const OnigUChar *)text, len, &h);
            if (m < 0) {
                printf("onig: round %ld: search %zu failed\n", r, i);
                return 1;
            }
            found += m;
        }
        for (size_t i = 0; i < COUNT(TOKENS); i++) {
            onig_region_free(regions[i], 1);
            onig_free(tok[i]);
        }
        for (size_t i = 0; i < COUNT(SEARCHES); i++)
            onig_free(srch[i]);
    }
    onig_end();
    free(text);
    printf("onig scan %ld x %u KiB: %ld tokens, %ld matches, %016llx\n", rounds,
           TEXT_SIZE / 1024u, tokens, found, (unsigned long long)h);
    return 0;
}
