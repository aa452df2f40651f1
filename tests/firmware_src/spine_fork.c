/* Team fork with `fork_cores` cores: each member records itself, under the
 * team's critical section, and main checks the team came back together. */
#include "pmsis.h"

int fork_cores = 8;
volatile uint32_t members;
volatile int visits;
int team_seen[8];

static void member(void *arg)
{
    int core = pi_core_id();
    team_seen[core] = pi_cl_team_nb_cores();
    pi_cl_team_critical_enter();
    members |= 1u << core;
    visits += *(int *)arg;
    pi_cl_team_critical_exit();
}

int main(void)
{
    int one = 1;
    for (int round = 0; round < 3; round++)
        pi_cl_team_fork(fork_cores, member, &one);
    printf("members 0x%x visits %d\n", (unsigned)members, visits);
    return 0;
}
