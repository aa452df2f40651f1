/* Drives timing_micro.S: single-core patterns on core 0, then the TCDM bank
 * test on 8 cores (`same_bank`: every core loads one word; else each core its
 * own bank). Results land in `results` for the test to read. */
#include "pmsis.h"

uint32_t t_branch_taken(int n), t_branch_not_taken(int n), t_load_use(int n, volatile int *p),
    t_load_nouse(int n, volatile int *p), t_mulh(int n), t_div(int n, int divisor), t_hwloop(int n),
    t_branchloop(int n), t_loads8(int n, volatile int *p);

#define N 100
PI_L1 int words[64];
uint32_t results[16];
uint32_t bank_cycles[8];
int same_bank = 1;
int divisors[4] = {1, 0x80000000, 0x10000, 0};

static void bank_test(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    volatile int *p = same_bank ? &words[0] : &words[core];
    pi_cl_team_barrier();
    bank_cycles[core] = t_loads8(N, p);
}

int main(void)
{
    results[0] = t_branch_taken(N);
    results[1] = t_branch_not_taken(N);
    results[2] = t_load_use(N, words);
    results[3] = t_load_nouse(N, words);
    results[4] = t_mulh(N);
    for (int i = 0; i < 4; i++)
        results[5 + i] = t_div(N, divisors[i]);
    results[9] = t_hwloop(N);
    results[10] = t_branchloop(N);
    results[11] = t_loads8(N, words);
    pi_cl_team_fork(0, bank_test, 0);
    return 0;
}
