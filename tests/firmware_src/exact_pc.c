/* Drives exact_pc.S: `mode` (set by the test before the run) picks the case;
 * results land in `out`. */
#include "pmsis.h"

int corev_addi_barrier(void);
uint32_t corev_wait_mask(uint32_t mask);
uint32_t corev_same_bank_loads(const int *p, int stride);
void corev_bad_store(void);
void corev_bad_load(void);
void corev_count_exit(uint32_t *instret);

int mode = -1;  /* initialised data: the test writes it before the run */
int stride = 64;
volatile uint32_t out[8];
PI_L1 int words[256];

static void barrier_team(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    for (volatile int i = 0; i < 40 * core; i++)   /* arrive one after the other */
        ;
    out[core] = corev_addi_barrier();
}

static void wait_pair(void *arg)
{
    (void)arg;
    if (pi_core_id() == 0) {
        eu_evt_maskset(0x5);
        out[0] = corev_wait_mask(1u << 3);
    } else {
        for (volatile int i = 0; i < 300; i++)
            ;
        eu_sw_event_send(3, 1u << 0);
    }
}

int main(void)
{
    switch (mode) {
    case 0:
        pi_cl_team_fork(8, barrier_team, 0);
        break;
    case 1:
        pi_cl_team_fork(2, wait_pair, 0);
        break;
    case 2:
        out[0] = corev_same_bank_loads(words, stride);
        break;
    case 3:
        corev_bad_store();
        break;
    case 5:
        corev_bad_load();
        break;
    case 4:
        corev_count_exit((uint32_t *)&out[0]);
        break;
    }
    return 0;
}
