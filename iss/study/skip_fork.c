/* Linked with -Wl,--wrap=pi_cl_team_fork into firmware/apps/bottleneck_cores.c
 * by iss/study/bottleneck.py: the same program with every fork (the whole
 * bottleneck) skipped, so that the energy of its start-up and report can be
 * subtracted from the full run's (the offloaded apps have -DBN_SKIP_BOTTLENECK
 * for this). */
void __wrap_pi_cl_team_fork(int nb_cores, void (*entry)(void *), void *arg)
{
  (void)nb_cores;
  (void)entry;
  (void)arg;
}
