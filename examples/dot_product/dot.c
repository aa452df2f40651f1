/* An int8 dot product for the PULP cluster: a plain C version, a CORE-V SIMD
 * version (cv.sdotsp.b: four 8-bit multiply-accumulates per instruction) and a
 * parallel version for a team of cores, plus an in-place ReLU. Tested from
 * Python by test_dot.py through the iss pytest plugin; no main() needed. */
#include "pmsis.h"
#include "corev.h"

int dot_calls;                      /* how many times dot_int8_parallel ran (core 0 counts) */
PI_L1 static int32_t partial[NUM_CORES];

int dot_int8_scalar(const int8_t *a, const int8_t *b, int n)
{
    int32_t acc = 0;
    for (int i = 0; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

/* a and b 4-byte aligned; any n. */
int dot_int8(const int8_t *a, const int8_t *b, int n)
{
    const v4s *va = (const v4s *)a, *vb = (const v4s *)b;
    int32_t acc = 0;
    int i;
    for (i = 0; i + 4 <= n; i += 4)
        acc = cv_sdotsp_b(acc, *va++, *vb++);
    for (; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

/* The hand-scheduled form: a hardware loop (zero overhead) whose body loads a
 * word of each vector with post-increment and accumulates four products with
 * cv.sdotsp.b. a and b 4-byte aligned; any n. */
int dot_int8_hwloop(const int8_t *a, const int8_t *b, int n)
{
    int32_t acc = 0;
    int words = n >> 2;
    if (words > 0) {   /* a loop count of 0 would still run the body once */
        uint32_t x, y;
        __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                             "cv.lw %[x], (%[pa]), 4\n\t"
                             "cv.lw %[y], (%[pb]), 4\n\t"
                             "cv.sdotsp.b %[acc], %[x], %[y]\n\t")
                         : [acc] "+r"(acc), [pa] "+r"(a), [pb] "+r"(b), [x] "=&r"(x), [y] "=&r"(y)
                         : [n] "r"(words)
                         : "memory");
    }
    for (int i = n & ~3; i < n; i++)
        acc += a[i - (n & ~3)] * b[i - (n & ~3)];
    return acc;
}

/* Every core of the team takes a chunk (a multiple of 4, so chunks stay
 * aligned); after the barrier each core adds the partial sums up. */
int dot_int8_parallel(const int8_t *a, const int8_t *b, int n)
{
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    int chunk = ((n + cores - 1) / cores + 3) & ~3;
    int start = core * chunk, end = start + chunk < n ? start + chunk : n;
    partial[core] = start < end ? dot_int8(a + start, b + start, end - start) : 0;
    pi_cl_team_barrier();
    int32_t total = 0;
    for (int c = 0; c < cores; c++)
        total += partial[c];
    if (core == 0)
        dot_calls++;
    pi_cl_team_barrier();           /* nobody starts a next call while others still read partial */
    return total;
}

/* x[i] = max(x[i], 0), four lanes at a time; x 4-byte aligned. */
void relu_int8(int8_t *x, int n)
{
    v4s *v = (v4s *)x;
    int i;
    for (i = 0; i + 4 <= n; i += 4, v++)
        *v = cv_max_sci_b(*v, 0);
    for (; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
}
