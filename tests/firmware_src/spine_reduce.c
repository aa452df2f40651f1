/* Parallel reduction in two phases separated by barriers. The test writes
 * `input` and `n` before the run and checks `sum`, `partial` and `scaled`. */
#include "pmsis.h"

#define MAX_N 4096
int32_t input[MAX_N] = {1};   /* in .data: the test writes it before start-up, which clears .bss */
int32_t scaled[MAX_N];
int n = MAX_N;
PI_L1 int64_t partial[8];
int64_t sum;

static void reduce(void *arg)
{
    (void)arg;
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    int chunk = (n + cores - 1) / cores;
    int lo = core * chunk, hi = lo + chunk < n ? lo + chunk : n;
    int64_t s = 0;
    for (int i = lo; i < hi; i++)
        s += input[i];
    partial[core] = s;
    pi_cl_team_barrier(0);               /* legacy PULP form with an argument */
    int64_t total = 0;
    for (int c = 0; c < cores; c++)
        total += partial[c];
    if (core == 0)
        sum = total;
    /* Phase 2 needs every partial: each element minus the mean, scaled. */
    int32_t mean = (int32_t)(total / n);
    for (int i = lo; i < hi; i++)
        scaled[i] = (input[i] - mean) * 3;
    pi_cl_team_barrier();
}

int main(void)
{
    pi_cl_team_fork(0, reduce, 0);
    printf("sum %lld\n", sum);
    return 0;
}
