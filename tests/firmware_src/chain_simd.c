/* 8 cores run hardware loops of CORE-V instructions only (post-increment loads,
 * cv.sdotsp.b) over shared TCDM data, with contention, a barrier and a reduction:
 * the kind of code the executor chains. */
#include "pmsis.h"
#include "corev.h"

#define N 2048
PI_L1 int8_t a[N], b[N];
PI_L1 int32_t partial[8];
int32_t total;

static void dot(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    const int8_t *pa = a + core * (N / 8), *pb = b + core * (N / 8);
    int32_t acc = 0;
    uint32_t x, y;
    __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                         "cv.lw %[x], (%[pa]), 4\n\t"
                         "cv.lw %[y], (%[pb]), 4\n\t"
                         "cv.sdotsp.b %[acc], %[x], %[y]\n\t")
                     : [acc] "+r"(acc), [pa] "+r"(pa), [pb] "+r"(pb), [x] "=&r"(x), [y] "=&r"(y)
                     : [n] "r"(N / 32)
                     : "memory");
    partial[core] = acc;
    pi_cl_team_barrier();
    if (core == 0)
        for (int c = 0; c < 8; c++)
            total += partial[c];
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        a[i] = (int8_t)(i * 37 + 11);
        b[i] = (int8_t)(i * 53 - 7);
    }
    pi_cl_team_fork(0, dot, 0);
    printf("%ld\n", (long)total);
    return 0;
}
