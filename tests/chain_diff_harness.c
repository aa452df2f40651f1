/* Harness of the chains on/off differential test (tests/test_chain_differential.py):
 * every core runs the generated dt_body (tests/chain_diff_gen.py) on its own
 * slices of dt_tcdm and dt_l2 (the harts' slices share the TCDM banks), which
 * ends by storing its registers to its 32-word slot of dt_dump. */
#include "pmsis.h"
#include <stdint.h>

extern uint8_t dt_tcdm[], dt_l2[];
extern uint32_t dt_dump[];
extern const uint32_t dt_tstride, dt_lstride;
void dt_body(uint8_t *tcdm, uint8_t *l2, uint32_t *dump);

static void entry(void *arg)
{
    (void)arg;
    int c = pi_core_id();
    dt_body(dt_tcdm + c * dt_tstride, dt_l2 + c * dt_lstride, dt_dump + 32 * c);
}

int main(void)
{
    pi_cl_team_fork(0, entry, 0);
    return 0;
}
