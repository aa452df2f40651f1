#include "pmsis.h"

static void hello(void *arg)
{
    (void)arg;
    printf("hello from core %d of %d\n", pi_core_id(), pi_cl_team_nb_cores());
}

int main(void)
{
    pi_cl_team_fork(0, hello, 0);
    return 0;
}
