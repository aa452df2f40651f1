/* The program of README "Debugging with GDB" and tests/test_gdb.py: every core
 * scales its slice of a TCDM array, core 5 publishes a flag the others read,
 * core 0 sums the array with a hardware loop, checks it and exits with 3 (so the
 * exit code is seen). */
#include "pmsis.h"
#include "corev.h"

#define N 32
PI_L1 int32_t samples[N];
PI_L1 volatile int32_t ready_flag;
int32_t checksum;

__attribute__((noinline)) int32_t scale(int32_t x, int core)
{
    return x * 3 + core;
}

__attribute__((noinline)) void fill(int core, int cores)
{
    for (int i = core; i < N; i += cores)
        samples[i] = scale(i, core);
}

static void worker(void *arg)
{
    (void)arg;
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    fill(core, cores);
    if (core == 5)
        ready_flag = 0x55;
    pi_cl_team_barrier();
}

/* n (>= 1) words at p summed by hardware loop 0 */
__attribute__((noinline)) int32_t sum_words(const int32_t *p, int n)
{
    int32_t acc = 0, tmp;
    __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                         "lw   %[t], 0(%[p])\n\t"
                         "addi %[p], %[p], 4\n\t"
                         "add  %[acc], %[acc], %[t]\n\t")
                     : [acc] "+r"(acc), [p] "+r"(p), [t] "=&r"(tmp)
                     : [n] "r"(n)
                     : "memory");
    return acc;
}

int main(void)
{
    pi_cl_team_fork(0, worker, 0);
    checksum = sum_words(samples, N);
    printf("checksum %d flag 0x%x\n", (int)checksum, (int)ready_flag);
    return 3;
}
