/* Every core increments a shared counter 1000 times. With USE_LOCK the
 * read-modify-write is inside the team's critical section; the delay between
 * read and write makes an unprotected increment lose updates. */
#include "pmsis.h"

volatile int counter;

static void bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
#ifdef USE_LOCK
        pi_cl_team_critical_enter();
#endif
        int v = counter;
        for (volatile int d = 0; d < 20; d++)
            ;
        counter = v + 1;
#ifdef USE_LOCK
        pi_cl_team_critical_exit();
#endif
    }
}

int main(void)
{
    pi_cl_team_fork(0, bump, 0);
    printf("counter %d\n", counter);
    return counter == 8000 ? 0 : 1;
}
