/* pi_perf counters around a known loop (lw; dependent add; addi; bnez), run
 * for N and 2N iterations: the test checks the differences. `use_l2` puts the
 * loaded word in L2 instead of the TCDM. */
#include "pmsis.h"

#define N 100
__attribute__((section(".data"))) int use_l2;   /* .data: the test sets it before start-up */
uint32_t counts[2][PI_PERF_NB_EVENTS];
PI_L1 volatile int l1_word = 1;
volatile int l2_word = 1;

__attribute__((noinline)) static void loop(int n, volatile int *p)
{
    __asm__ volatile(".option push\n.option norvc\n.balign 4\n"
                     "1: lw t3, 0(%1)\n add t4, t4, t3\n addi %0, %0, -1\n bnez %0, 1b\n.option pop"
                     : "+r"(n) : "r"(p) : "t3", "t4", "memory");
}

int main(void)
{
    volatile int *p = use_l2 ? &l2_word : &l1_word;
    pi_perf_conf((1u << PI_PERF_NB_EVENTS) - 1);
#pragma nounroll
    for (int k = 0; k < 2; k++) {   /* the same code measures N and 2N */
        pi_perf_reset();
        pi_perf_start();
        loop(N * (k + 1), p);
        pi_perf_stop();
        for (int e = 0; e < PI_PERF_NB_EVENTS; e++)
            counts[k][e] = pi_perf_read(e);
    }
    return 0;
}
