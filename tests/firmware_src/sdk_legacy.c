/* Older PULP code (pulp-rt, HAL names): rt_core_id, rt_nb_pe, rt_team_fork,
 * rt_team_barrier, hal_core_id, plp_dma_memcpy/plp_dma_wait, rt_alloc_l1,
 * rt_time_get_us. Each core sums its interleaved share of a vector copied to L1
 * and scales it; core 0 combines. Checked against numpy. */
#include "rt/rt_api.h"

#define N 200
int16_t vec[N] = {1};            /* in L2, written by the test */
int32_t partial[8];
int32_t total;
int32_t scaled[N];
static int16_t *l1_vec;

static void sum_share(void *arg)
{
    int scale = (int)(intptr_t)arg;
    int core = rt_core_id(), cores = rt_nb_pe();
    int32_t s = 0;
    for (int i = core; i < N; i += cores) {
        s += l1_vec[i];
        scaled[i] = l1_vec[i] * scale;
    }
    partial[hal_core_id()] = s;
    rt_team_barrier();
    if (core == 0) {
        int32_t t = 0;
        for (int c = 0; c < cores; c++)
            t += partial[c];
        total = t;
    }
}

int main(void)
{
    l1_vec = rt_alloc_l1(N * sizeof(int16_t));
    int tid = plp_dma_memcpy((uint32_t)vec, (uint32_t)l1_vec, N * sizeof(int16_t), PLP_DMA_EXT2LOC);
    plp_dma_wait(tid);
    rt_team_fork(rt_nb_pe(), sum_share, (void *)(intptr_t)3);
    uint32_t t0 = rt_time_get_us();
    rt_time_wait_us(3);
    printf("total %ld on %d cores, cluster %d, waited %u us\n", (long)total, rt_nb_pe(), rt_cluster_id(),
           (unsigned)(rt_time_get_us() - t0));
    rt_free_l1(l1_vec, N * sizeof(int16_t));
    return 0;
}
