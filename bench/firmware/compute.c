/* A compute-bound parallel program for the speed benchmarks: every core runs
 * `work` (an integer mixing loop, no memory traffic) on its own seed. `work` is
 * also run alone on a bare Unicorn engine by bench_sim.py. */
#include "pmsis.h"

/* bench_sim.py writes it before each run (0: the start-up alone); initialised,
 * so in .data, which start-up leaves as loaded (it clears .bss) */
int iterations = 200000;
uint32_t out[8];

__attribute__((noinline)) uint32_t work(uint32_t x, int n)
{
    uint32_t y = 0x9e3779b9u;
    for (int i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        y ^= x >> 7;
        y = (y << 3) | (y >> 29);
        x += y & 0xff;
    }
    return x ^ y;
}

static void entry(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    out[core] = work((uint32_t)core + 1u, iterations);
}

int main(void)
{
    pi_cl_team_fork(0, entry, 0);
    return 0;
}
