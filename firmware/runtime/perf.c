/* pi_perf_*: per-core performance counters. The simulator exposes event e
 * (PI_PERF_*) at CSR mhpmcounter(3 + e); these functions keep, per core, what
 * was counted between pi_perf_start() and pi_perf_stop(). */
#include "pmsis.h"

#define NEV PI_PERF_NB_EVENTS

static uint32_t perf_mask[NUM_CORES];
static uint32_t perf_base[NUM_CORES][NEV];
static uint32_t perf_acc[NUM_CORES][NEV];
static uint8_t perf_running[NUM_CORES];

#define PERF_CASE(e)                                                       \
    case e:                                                                \
        __asm__ volatile("csrr %0, %1" : "=r"(v) : "i"(0xB03 + (e)));      \
        break;

static uint32_t perf_counter(int event)
{
    uint32_t v = 0;
    switch (event) {
        PERF_CASE(0) PERF_CASE(1) PERF_CASE(2) PERF_CASE(3) PERF_CASE(4) PERF_CASE(5)
        PERF_CASE(6) PERF_CASE(7) PERF_CASE(8) PERF_CASE(9) PERF_CASE(10) PERF_CASE(11)
        PERF_CASE(12) PERF_CASE(13) PERF_CASE(14) PERF_CASE(15) PERF_CASE(16)
    }
    return v;
}

void pi_perf_conf(unsigned events) { perf_mask[pi_core_id()] = events; }

void pi_perf_reset(void)
{
    int c = pi_core_id();
    for (int e = 0; e < NEV; e++) {
        perf_acc[c][e] = 0;
        if (perf_running[c] && (perf_mask[c] >> e & 1))
            perf_base[c][e] = perf_counter(e);
    }
}

void pi_perf_start(void)
{
    int c = pi_core_id();
    for (int e = 0; e < NEV; e++)
        if (perf_mask[c] >> e & 1)
            perf_base[c][e] = perf_counter(e);
    perf_running[c] = 1;
}

void pi_perf_stop(void)
{
    int c = pi_core_id();
    if (!perf_running[c])
        return;
    for (int e = 0; e < NEV; e++)
        if (perf_mask[c] >> e & 1)
            perf_acc[c][e] += perf_counter(e) - perf_base[c][e];
    perf_running[c] = 0;
}

unsigned int pi_perf_read(int event)
{
    int c = pi_core_id();
    if (event < 0 || event >= NEV || !(perf_mask[c] >> event & 1))
        return 0;
    uint32_t v = perf_acc[c][event];
    if (perf_running[c])
        v += perf_counter(event) - perf_base[c][event];
    return v;
}
