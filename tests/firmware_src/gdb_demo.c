/* The program of README "Debugging with GDB" and tests/test_gdb.py: every core
 * scales its slice of a TCDM array, core 5 publishes a flag the others read,
 * core 0 checks the result and exits with 3 (so the exit code is seen). */
#include "pmsis.h"

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

int main(void)
{
    pi_cl_team_fork(0, worker, 0);
    int32_t s = 0;
    for (int i = 0; i < N; i++)
        s += samples[i];
    checksum = s;
    printf("checksum %d flag 0x%x\n", (int)s, (int)ready_flag);
    return 3;
}
