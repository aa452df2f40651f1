/* The firmware C library as PULP code uses it: stdio formatting (soft float),
 * libm, string/stdlib/ctype, malloc/free in any order, pi_l2/pi_l1 heaps,
 * assert. tests/test_sdk_libc.py checks every line against Python and numpy. */
#include "pmsis.h"
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_MATH 64
float math_in[N_MATH] = {1};          /* written by the test */
float math_out[12][N_MATH];

void run_math(void)
{
    for (int i = 0; i < N_MATH; i++) {
        float x = math_in[i];
        math_out[0][i] = expf(x);
        math_out[1][i] = logf(fabsf(x) + 0.5f);
        math_out[2][i] = sqrtf(fabsf(x));
        math_out[3][i] = powf(fabsf(x) + 0.25f, 1.75f);
        math_out[4][i] = tanhf(x);
        math_out[5][i] = fabsf(x);
        math_out[6][i] = floorf(x * 3.0f);
        math_out[7][i] = sinf(x);
        math_out[8][i] = cosf(x);
        math_out[9][i] = expm1f(x);
        math_out[10][i] = ceilf(x * 3.0f);
        math_out[11][i] = fmaxf(x, 0.5f);
    }
}

static int by_value(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(void)
{
    /* stdio: each line is compared with Python's % formatting */
    printf("%f|%e|%g|%.3f|%10.4f|%-10.2e|%+.0f|%G\n", 3.14159265358979, 12345.6789, 0.00012345, 2.0 / 3.0,
           -1.5, 6.02e23, 2.5, 1e-10);
    printf("%.10g|%g|%g|%f|%.1f|%.2f\n", 1.0 / 3.0, 100000.0, 1000000.0, (double)1.1f, 0.05, 1.005);
    printf("%lld|%llu|%llx|%" PRId64 "|%" PRIu32 "|%" PRIx8 "\n", -9223372036854775807LL - 1, 18446744073709551615ULL,
           0x123456789abcdefULL, (int64_t)-42, (uint32_t)4000000000u, (uint8_t)0xAB);
    printf("[%5d|%-5d|%05d|%+d|% d|%x|%X|%o|%#x|%c|%s|%.3s|%8s|%-8s|%%]\n", 42, 42, 42, 42, 42, 255, 255, 8, 255,
           'z', "str", "abcdef", "right", "left");
    printf("%f|%f|%f|%e\n", (double)INFINITY, (double)-INFINITY, (double)NAN, 0.0);
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%s-%d-%.2f", "truncated", 12345, 9.875);
    printf("%s|%d\n", buf, n);
    puts("puts line");
    putchar('p'); putchar('\n');
    fprintf(stderr, "to stderr %d\n", 7);

    /* string, stdlib, ctype */
    char s[32] = "hello";
    strcat(s, ", world");
    printf("%zu|%d|%d|%s|%s|%s\n", strlen(s), strcmp("abc", "abd") < 0, strncmp("abcx", "abcy", 3),
           strchr(s, 'w'), strrchr(s, 'l'), strstr(s, "lo, "));
    printf("%d|%ld|%d|%lu|%d|%d|%c%c\n", atoi("  -1234xyz"), strtol("0x7fff", 0, 16), abs(-9),
           strtoul("777", 0, 8), isdigit('7') != 0, isalpha('7') != 0, toupper('a'), tolower('Q'));
    int v[10] = {5, -3, 9, 0, 2, 2, 8, -7, 1, 4};
    qsort(v, 10, sizeof v[0], by_value);
    for (int i = 0; i < 10; i++)
        printf("%d%c", v[i], i == 9 ? '\n' : ',');

    /* malloc/free in any order: the space comes back whole */
    char *a = malloc(1000), *b = malloc(2000), *c = calloc(500, 4), *d = malloc(3000);
    bool zeroed = true;
    for (int i = 0; i < 2000; i++)
        zeroed &= ((char *)c)[i] == 0;
    memset(a, 1, 1000); memset(b, 2, 2000); memset(d, 4, 3000);
    free(b); free(d); free(a); free(c);
    char *big = malloc(1000 + 2000 + 2000 + 3000);
    printf("malloc: reused=%d zeroed=%d\n", big == a, zeroed);
    free(big);
    void *l2a = pi_l2_malloc(256), *l2b = pi_l2_malloc(256), *l2c = pi_l2_malloc(256);
    pi_l2_free(l2a, 256); pi_l2_free(l2c, 256); pi_l2_free(l2b, 256);
    void *l2d = pi_l2_malloc(768);
    void *l1a = pi_l1_malloc(0, 128), *l1b = pmsis_l1_malloc(128);
    pi_l1_free(0, l1a, 128); pmsis_l1_malloc_free(l1b, 128);
    void *l1c = pi_cl_l1_malloc(0, 256);
    printf("pi heaps: l2=%d l1=%d in_tcdm=%d\n", l2d == l2a, l1c == l1a,
           (uintptr_t)l1c >= ARCHI_TCDM_BASE && (uintptr_t)l1c < ARCHI_TCDM_BASE + 0x200000);

    run_math();
    int want = 3;
    assert(want == 3);
    assert(want == 4 && "the test expects this one to fail");
    return 0;
}
