/* stdlib.h, ctype.h, errno and assert for the firmware. exit() and abort() are
 * the runtime's (runtime.c: they end the simulation with the exit code). */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>

/* errno: one per core (cores run C code at the same time), and one for the
 * fabric controller (cluster id ARCHI_FC_CID, mhartid bits 10:5). */
static int errno_per_hart[33];
int *__errno_location(void)
{
    uint32_t hart;
    __asm__("mv %0, tp" : "=r"(hart));
    return &errno_per_hart[((hart >> 5) & 0x3f) == 31 ? 32 : hart & 0x1f];
}
/* what errno expands to inside musl's sources */
hidden int *___errno_location(void) __attribute__((alias("__errno_location")));

char *strerror(int e)
{
    switch (e) {
    case 0: return "No error information";
    case EDOM: return "Domain error";
    case ERANGE: return "Result not representable";
    case EINVAL: return "Invalid argument";
    case ENOMEM: return "Out of memory";
    case EILSEQ: return "Illegal byte sequence";
    case EOVERFLOW: return "Value too large for data type";
    default: return "Unknown error";
    }
}

/* A failed assert(): one line naming the place, then exit code 134 (abort). */
_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, expr);
    abort();
}

int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }
div_t div(int n, int d) { return (div_t){n / d, n % d}; }
ldiv_t ldiv(long n, long d) { return (ldiv_t){n / d, n % d}; }
lldiv_t lldiv(long long n, long long d) { return (lldiv_t){n / d, n % d}; }

/* Shared by the strto* functions: parse into an unsigned magnitude, clamp at
 * `limit` (for a negative result, limit + 1 is allowed). */
static unsigned long long parse_integer(const char *s, char **end, int base, unsigned long long limit, int is_signed,
                                        int *negative)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    *negative = 0;
    if (*p == '+' || *p == '-')
        *negative = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && isxdigit((unsigned char)p[2])) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = *p == '0' ? 8 : 10;
    }
    if (base < 2 || base > 36) {
        errno = EINVAL;
        if (end)
            *end = (char *)s;
        return 0;
    }
    unsigned long long v = 0, max = limit + (is_signed && *negative ? 1 : 0);
    int any = 0, overflow = 0;
    for (;; p++) {
        int d;
        if (isdigit((unsigned char)*p))
            d = *p - '0';
        else if (isalpha((unsigned char)*p))
            d = (*p | 32) - 'a' + 10;
        else
            break;
        if (d >= base)
            break;
        any = 1;
        if (v > (max - (unsigned)d) / (unsigned)base)
            overflow = 1;
        else
            v = v * (unsigned)base + (unsigned)d;
    }
    if (end)
        *end = (char *)(any ? p : s);
    if (overflow) {
        errno = ERANGE;
        return max;
    }
    return v;
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
    int neg;
    unsigned long long v = parse_integer(s, end, base, LLONG_MAX, 1, &neg);
    return neg ? (long long)(0 - v) : (long long)v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
    int neg;
    unsigned long long v = parse_integer(s, end, base, ULLONG_MAX, 0, &neg);
    return neg ? 0 - v : v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
    int neg;
    unsigned long long v = parse_integer(s, end, base, LONG_MAX, 1, &neg);
    return neg ? (long)(0 - (unsigned long)v) : (long)v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
    int neg;
    unsigned long long v = parse_integer(s, end, base, ULONG_MAX, 0, &neg);
    return neg ? 0 - (unsigned long)v : (unsigned long)v;
}

int atoi(const char *s) { return (int)strtol(s, 0, 10); }
long atol(const char *s) { return strtol(s, 0, 10); }
long long atoll(const char *s) { return strtoll(s, 0, 10); }

/* rand: the C standard's example generator (RAND_MAX 0x7fffffff here). */
static unsigned long long rand_state = 1;
void srand(unsigned seed) { rand_state = seed; }
int rand(void)
{
    rand_state = rand_state * 6364136223846793005ULL + 1;
    return (int)(rand_state >> 33);
}

/* qsort: insertion sort into place for short runs, else a heap sort (no
 * recursion, no allocation: firmware stacks are small). */
static void swap_bytes(char *a, char *b, size_t n)
{
    while (n--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift_down(char *base, size_t root, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

void qsort(void *b, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *base = b;
    if (n < 2 || !size)
        return;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && cmp(base + (j - 1) * size, base + j * size) > 0; j--)
                swap_bytes(base + (j - 1) * size, base + j * size, size);
        return;
    }
    for (size_t i = n / 2; i-- > 0;)
        sift_down(base, i, n, size, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(base, base + end * size, size);
        sift_down(base, 0, end, size, cmp);
    }
}

void *bsearch(const void *key, const void *b, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const char *base = b;
    while (n) {
        const char *mid = base + (n / 2) * size;
        int c = cmp(key, mid);
        if (!c)
            return (void *)mid;
        if (c > 0) {
            base = mid + size;
            n -= n / 2 + 1;
        } else {
            n /= 2;
        }
    }
    return 0;
}

/* ctype: the "C" locale, ASCII (musl's ctype.h also has macros for some). */
#undef isdigit
#undef isupper
#undef islower
#undef isalpha
#undef isalnum
#undef isxdigit
#undef isspace
#undef isblank
#undef iscntrl
#undef isprint
#undef isgraph
#undef ispunct
#undef isascii
#undef toupper
#undef tolower
int isdigit(int c) { return (unsigned)c - '0' < 10; }
int isupper(int c) { return (unsigned)c - 'A' < 26; }
int islower(int c) { return (unsigned)c - 'a' < 26; }
int isalpha(int c) { return isupper(c) || islower(c); }
int isalnum(int c) { return isalpha(c) || isdigit(c); }
int isxdigit(int c) { return isdigit(c) || (unsigned)(c | 32) - 'a' < 6; }
int isspace(int c) { return c == ' ' || (unsigned)c - '\t' < 5; }
int isblank(int c) { return c == ' ' || c == '\t'; }
int iscntrl(int c) { return (unsigned)c < 0x20 || c == 0x7f; }
int isprint(int c) { return (unsigned)c - 0x20 < 0x5f; }
int isgraph(int c) { return (unsigned)c - 0x21 < 0x5e; }
int ispunct(int c) { return isgraph(c) && !isalnum(c); }
int isascii(int c) { return !(c & ~0x7f); }
int toupper(int c) { return islower(c) ? c & 0x5f : c; }
int tolower(int c) { return isupper(c) ? c | 32 : c; }
