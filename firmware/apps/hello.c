/* The first program: every core of the cluster says hello. */
#include "pmsis.h"

static void hello(void *arg)
{
    (void)arg;
    printf("[core %d] hello from cluster %d, team of %d\n", pi_core_id(), pi_cluster_id(), pi_cl_team_nb_cores());
}

int main(void)
{
    printf("cluster with %d cores\n", pi_cl_cluster_nb_cores());
    pi_cl_team_fork(0, hello, 0);
    printf("all cores joined\n");
    return 0;
}
