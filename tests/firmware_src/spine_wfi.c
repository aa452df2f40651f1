/* Core 1 clock-gates with wfi until software event 3; core 0 sends it after a
 * delay. Both note mcycle: the wake-up follows the event. */
#include "pmsis.h"

volatile uint32_t t_sent, t_woken, buffer_seen;

static inline uint32_t mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

static void pair(void *arg)
{
    (void)arg;
    if (pi_core_id() == 1) {
        eu_evt_maskset(1u << 3);
        while (!(eu_evt_buffer() & (1u << 3)))
            eu_evt_wfi();
        t_woken = mcycle();
        buffer_seen = eu_evt_buffer();
        eu_evt_clr(1u << 3);
    } else {
        for (volatile int i = 0; i < 500; i++)
            ;
        t_sent = mcycle();
        eu_sw_event_send(3, 1u << 1);
    }
}

int main(void)
{
    pi_cl_team_fork(2, pair, 0);
    return 0;
}
