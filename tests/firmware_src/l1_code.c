/* Code in the TCDM, the PULP way: hot functions in .l1.text next to their
 * data, the rest of the program in L2. Every core calls an L1 function that
 * calls back into L2, and the timed loops of l1_code.S. */
#include "pmsis.h"

#define L1_CODE __attribute__((section(".l1.text"), noinline))

#define N 100

uint32_t l1_branch_taken(int n);
uint32_t l1_load_use(int n, const int *word);
uint32_t l1_hwloop(int n);

PI_L1 int tcdm_word[8];
int sums[8];
uint32_t cycles[8][3];

__attribute__((noinline)) int l2_square(int x) { return x * x; }

/* 1^2 + 2^2 + ... + n^2, the squares computed in L2 */
L1_CODE int l1_sum_squares(int n)
{
    int s = 0;
    for (int i = 1; i <= n; i++)
        s += l2_square(i);
    return s;
}

static void member(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    sums[core] = l1_sum_squares(10 + core);
    pi_cl_team_barrier();
    /* one core at a time: the counts are then free of bank conflicts */
    for (int turn = 0; turn < pi_cl_team_nb_cores(); turn++) {
        if (turn == core) {
            cycles[core][0] = l1_branch_taken(N);
            cycles[core][1] = l1_load_use(N, &tcdm_word[core]);
            cycles[core][2] = l1_hwloop(N);
        }
        pi_cl_team_barrier();
    }
}

int main(void)
{
    pi_cl_team_fork(pi_cl_cluster_nb_cores(), member, 0);
    for (int c = 0; c < pi_cl_cluster_nb_cores(); c++)
        printf("core %d: sum %d cycles %u %u %u\n", c, sums[c], (unsigned)cycles[c][0], (unsigned)cycles[c][1],
               (unsigned)cycles[c][2]);
    return 0;
}
