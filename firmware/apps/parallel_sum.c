/* A parallel dot product over 8 cores with a barrier and a critical section,
 * timed with mcycle. */
#include "pmsis.h"

#define N 8192
static int16_t a[N], b[N];
static int64_t total;

static inline uint32_t mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

static void dot(void *arg)
{
    (void)arg;
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    int chunk = N / cores;
    int64_t s = 0;
    for (int i = core * chunk; i < (core + 1) * chunk; i++)
        s += a[i] * b[i];
    pi_cl_team_critical_enter();
    total += s;
    pi_cl_team_critical_exit();
    pi_cl_team_barrier();
}

int main(void)
{
    int64_t expect = 0;
    for (int i = 0; i < N; i++) {
        a[i] = (int16_t)(i * 7 - 3000);
        b[i] = (int16_t)(5000 - i * 3);
        expect += a[i] * b[i];
    }
    uint32_t t0 = mcycle();
    pi_cl_team_fork(0, dot, 0);
    uint32_t t1 = mcycle();
    printf("dot product of %d int16 pairs on %d cores: %lld (%s), %u cycles\n", N, pi_cl_cluster_nb_cores(),
           total, total == expect ? "correct" : "WRONG", (unsigned)(t1 - t0));
    return total == expect ? 0 : 1;
}
