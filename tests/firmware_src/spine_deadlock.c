/* Core 1 waits for software event 5, which nobody sends; the others wait for it
 * at the closing barrier: every core sleeps with nothing pending. */
#include "pmsis.h"

static void stuck(void *arg)
{
    (void)arg;
    if (pi_core_id() == 1)
        eu_evt_wait_clr(1u << 5);
}

int main(void)
{
    pi_cl_team_fork(0, stuck, 0);
    return 0;
}
