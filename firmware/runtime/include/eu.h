/* Event unit access: event masks, clock-gated waits, barriers, dispatch, mutexes.
 * Every wait clock-gates the core until its event arrives (the simulator counts
 * those cycles as sleep). */
#ifndef ISS_EU_H
#define ISS_EU_H
#include <stdint.h>
#include "archi.h"

#define __EU_REG(off) (*(volatile uint32_t *)(EU_DEMUX_BASE + (off)))

static inline void eu_evt_maskset(uint32_t mask) { __EU_REG(EU_MASK_OR) = mask; }
static inline void eu_evt_maskclr(uint32_t mask) { __EU_REG(EU_MASK_AND) = mask; }
static inline uint32_t eu_evt_mask(void) { return __EU_REG(EU_MASK); }
static inline uint32_t eu_evt_buffer(void) { return __EU_REG(EU_BUFFER); }
static inline void eu_evt_clr(uint32_t events) { __EU_REG(EU_BUFFER_CLEAR) = events; }

/* Sleep until one of the events enabled in the mask is pending; return them. */
static inline uint32_t eu_evt_wait(void) { return __EU_REG(EU_EVENT_WAIT); }
/* Same, and clear the events returned. */
static inline uint32_t eu_evt_wait_clr_all(void) { return __EU_REG(EU_EVENT_WAIT_CLEAR); }

/* Sleep until one of `mask` is pending (only those wake the core), clear and
 * return them; the core's mask is restored afterwards. */
static inline uint32_t eu_evt_wait_clr(uint32_t mask)
{
    uint32_t old = eu_evt_mask();
    __EU_REG(EU_MASK) = mask;
    uint32_t got = __EU_REG(EU_EVENT_WAIT_CLEAR);
    __EU_REG(EU_MASK) = old;
    return got;
}

/* Sleep with wfi until an enabled event is pending (it stays pending). */
static inline void eu_evt_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

/* The PULP HAL's names (hal/eu/eu_v3.h). */
static inline void eu_evt_maskSet(uint32_t mask) { eu_evt_maskset(mask); }
static inline void eu_evt_maskClr(uint32_t mask) { eu_evt_maskclr(mask); }
static inline uint32_t eu_evt_waitAndClr(void) { return __EU_REG(EU_EVENT_WAIT_CLEAR); }
/* Add `mask` to the core's mask, sleep until one of its events is pending,
 * clear and return what woke the core, take `mask` out of the mask again. */
static inline uint32_t eu_evt_maskWaitAndClr(uint32_t mask)
{
    eu_evt_maskset(mask);
    uint32_t got = __EU_REG(EU_EVENT_WAIT_CLEAR);
    eu_evt_maskclr(mask);
    return got;
}
#define hal_eu_evt_mask_wait_and_clr eu_evt_maskWaitAndClr
static inline uint32_t eu_evt_status(void) { return __EU_REG(EU_BUFFER); }
static inline void eu_bar_trig_wait(int bar) { (void)__EU_REG(EU_BARRIER(bar) + EU_BARRIER_TRIGGER_WAIT); }
static inline void eu_mutex_lock_from_id(int m) { (void)__EU_REG(EU_MUTEX(m)); }
static inline void eu_mutex_unlock_from_id(int m) { __EU_REG(EU_MUTEX(m)) = 0; }

static inline void eu_sw_event_send(int event, uint32_t core_mask) { __EU_REG(EU_SW_EVENT(event)) = core_mask; }

static inline void eu_bar_setup(int bar, uint32_t cores) {
    __EU_REG(EU_BARRIER(bar) + EU_BARRIER_TRIG_MASK) = cores;
    __EU_REG(EU_BARRIER(bar) + EU_BARRIER_TARGET_MASK) = cores;
}
static inline void eu_bar_trig_wait_clr(int bar) { (void)__EU_REG(EU_BARRIER(bar) + EU_BARRIER_TRIGGER_WAIT_CLEAR); }

static inline void eu_dispatch_team_config(uint32_t cores) { __EU_REG(EU_DISPATCH_TEAM) = cores; }
static inline void eu_dispatch_push(uint32_t value) { __EU_REG(EU_DISPATCH_FIFO) = value; }
static inline uint32_t eu_dispatch_pop(void) { return __EU_REG(EU_DISPATCH_FIFO); }

static inline void eu_mutex_lock(int m) { (void)__EU_REG(EU_MUTEX(m)); }
static inline void eu_mutex_unlock(int m) { __EU_REG(EU_MUTEX(m)) = 0; }

#endif
