/* The example that scripts/quickstart.sh turns into a multivariant WebAssembly program.
 * A few ordinary functions (a checksum, a sieve, a tiny text transform) that libmewe
 * diversifies: every run prints the same thing, while each call runs a randomly chosen
 * variant of its function. The functions are marked noinline only because clang -O2 would
 * otherwise fold this small program into main, leaving one function to diversify. */
#include <stdint.h>

#define KEEP __attribute__((noinline))
#include <stdio.h>
#include <string.h>

KEEP static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

KEEP static int count_primes(int limit)
{
    static unsigned char composite[10001];
    int count = 0;
    memset(composite, 0, sizeof composite);
    for (int i = 2; i <= limit; i++) {
        if (composite[i])
            continue;
        count++;
        for (int j = i * 2; j <= limit; j += i)
            composite[j] = 1;
    }
    return count;
}

KEEP static void rot13(char *s)
{
    for (; *s; s++) {
        if ((*s >= 'a' && *s <= 'z'))
            *s = (char)('a' + (*s - 'a' + 13) % 26);
        else if (*s >= 'A' && *s <= 'Z')
            *s = (char)('A' + (*s - 'A' + 13) % 26);
    }
}

KEEP static uint64_t collatz_steps(uint64_t n)
{
    return n <= 1 ? 0 : 1 + collatz_steps(n % 2 ? 3 * n + 1 : n / 2);
}

int main(void)
{
    char text[] = "Multi-Variant Execution at the Edge";
    printf("fnv1a(\"%s\") = %08x\n", text, fnv1a(text, strlen(text)));
    rot13(text);
    printf("rot13: %s\n", text);
    for (int limit = 10; limit <= 10000; limit *= 10)
        printf("primes up to %d: %d\n", limit, count_primes(limit));
    uint64_t longest = 0, at = 0;
    for (uint64_t n = 1; n < 3000; n++) {
        uint64_t s = collatz_steps(n);
        if (s > longest) {
            longest = s;
            at = n;
        }
    }
    printf("longest Collatz chain below 3000: %llu steps from %llu\n", (unsigned long long)longest,
           (unsigned long long)at);
    return 0;
}
