/* amoadd.w from every core: 1000 tickets each, all distinct. */
#include "pmsis.h"

#define PER_CORE 1000
int counter;
uint8_t taken[8 * PER_CORE];

static void tickets(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_CORE; i++) {
        int t = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        taken[t] = 1;
    }
}

int main(void)
{
    pi_cl_team_fork(0, tickets, 0);
    int missing = 0;
    for (int i = 0; i < 8 * PER_CORE; i++)
        missing += !taken[i];
    printf("counter %d missing %d\n", counter, missing);
    return missing;
}
