/* Core 0 stores to a flag after `delay` loop iterations and notes mcycle; core 1
 * spins on the flag (plain memory, no event unit) and notes mcycle when it sees
 * it. The difference measures how shared-memory communication is timed. */
#include "pmsis.h"

int delay = 1000;
volatile int flag;
volatile uint32_t t_set, t_seen;

static inline uint32_t mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

static void pair(void *arg)
{
    (void)arg;
    if (pi_core_id() == 0) {
        for (volatile int i = 0; i < delay; i++)
            ;
        t_set = mcycle();
        flag = 1;
    } else {
        while (!flag)
            ;
        t_seen = mcycle();
    }
}

int main(void)
{
    pi_cl_team_fork(2, pair, 0);
    return 0;
}
