/* The cluster timer (PULP timer_unit; register map and bits in archi.h).
 *
 * Two 32-bit counters, LO and HI (or one 64-bit counter with TIMER_CFG_CASC),
 * counting cluster cycles (or one per PVAL+1 cycles with the prescaler, or the
 * 32 kHz reference clock). When a counter equals its compare value it raises
 * event line EVT_TIMER0 (LO) / EVT_TIMER1 (HI) on every core if IRQEN is set,
 * and then: with MODE it restarts from 0 (a period of CMP counts), with ONE_S
 * it stops, else it keeps counting (next match after wrapping). */
#ifndef ISS_TIMER_H
#define ISS_TIMER_H
#include <stdint.h>
#include "archi.h"

#define __TIMER_REG(off) (*(volatile uint32_t *)(ARCHI_TIMER_BASE + (off)))

static inline void timer_cfg_lo(uint32_t cfg) { __TIMER_REG(TIMER_CFG_LO) = cfg; }
static inline void timer_cfg_hi(uint32_t cfg) { __TIMER_REG(TIMER_CFG_HI) = cfg; }
static inline uint32_t timer_count_lo(void) { return __TIMER_REG(TIMER_CNT_LO); }
static inline uint32_t timer_count_hi(void) { return __TIMER_REG(TIMER_CNT_HI); }
static inline void timer_set_count_lo(uint32_t v) { __TIMER_REG(TIMER_CNT_LO) = v; }
static inline void timer_cmp_lo(uint32_t v) { __TIMER_REG(TIMER_CMP_LO) = v; }
static inline void timer_cmp_hi(uint32_t v) { __TIMER_REG(TIMER_CMP_HI) = v; }
static inline void timer_start_lo(void) { __TIMER_REG(TIMER_START_LO) = 1; }
static inline void timer_reset_lo(void) { __TIMER_REG(TIMER_RESET_LO) = 1; }
static inline void timer_stop_lo(void) { __TIMER_REG(TIMER_CFG_LO) = __TIMER_REG(TIMER_CFG_LO) & ~TIMER_CFG_ENABLE; }

/* A tick every `cycles` cycles on EVT_TIMER0 from now on (counter reset). */
static inline void timer_periodic_lo(uint32_t cycles)
{
    timer_cmp_lo(cycles);
    timer_cfg_lo(TIMER_CFG_ENABLE | TIMER_CFG_RESET | TIMER_CFG_IRQEN | TIMER_CFG_MODE);
}

/* One event on EVT_TIMER0 `cycles` cycles from now, then the counter stops. */
static inline void timer_oneshot_lo(uint32_t cycles)
{
    timer_cmp_lo(cycles);
    timer_cfg_lo(TIMER_CFG_ENABLE | TIMER_CFG_RESET | TIMER_CFG_IRQEN | TIMER_CFG_ONE_S);
}

/* The 64-bit counter (CASC): read HI, LO, HI again until HI is stable. */
static inline uint64_t timer_count64(void)
{
    uint32_t hi, lo;
    do {
        hi = timer_count_hi();
        lo = timer_count_lo();
    } while (hi != timer_count_hi());
    return ((uint64_t)hi << 32) | lo;
}

#endif
