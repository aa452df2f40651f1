/* The scheduler's loop in C (iss/scheduler.py: Scheduler._native_slices). The
 * slices that need nothing from Python (no event due, no interrupt to take, no
 * MMIO access, CSR or system instruction reaching a Python hook, and a slice
 * that ends at its budget) run back to back here, with the same policy as the
 * Python loop: the running hart whose clock is furthest behind (lowest id on
 * ties) runs until min(its clock + quantum, the next event, the cycle limit),
 * after the TCDM arbiter has settled every request below the cycle it starts
 * at. Anything else goes back to Python, at the same point the Python loop
 * would have handled it. Mirrored by iss/native/__init__.py:SchedState. */
#ifndef ISS_NATIVE_SCHED_H
#define ISS_NATIVE_SCHED_H
#include <stdint.h>

#include "hart.h"

#define ISS_SCHED_HARTS 32

/* What iss_sched_run returns. */
enum iss_sched_result {
    ISS_SCHED_PYTHON = 0,  /* Python takes the next step: see `event` */
    ISS_SCHED_FINISH = 1,  /* hart `last` ran a slice Python must finish (Hart.finish) */
};

typedef struct iss_sched {
    uint64_t quantum;
    uint64_t max_cycles;      /* 0: none */
    uint64_t next_event;      /* UINT64_MAX: none pending */
    uint64_t time;            /* the latest clock seen */
    uint64_t slices;          /* slices run here (added to, never reset) */
    uint32_t n;               /* harts */
    uint32_t max_slices;      /* slices per call before Python gets control back (progress, Ctrl-C) */
    uint32_t running;         /* bit per running hart */
    uint32_t native_ok;       /* bit per hart whose slice may start here (no interrupt enabled) */
    uint32_t touched;         /* set by Python: a Python hook ran in the slice in progress */
    uint32_t last;            /* the hart of the last slice run */
    uint32_t err;             /* its emu_start's uc_err */
    uint32_t blocks;          /* its recent_pos when the slice started */
    uint64_t event;           /* with ISS_SCHED_PYTHON: the clock of the running hart furthest behind
                                 when the next event is due by then (Python fires the events up to
                                 it), else UINT64_MAX (anything else: Python's own loop decides) */
    iss_tcdm *arb;
    iss_hart *harts[ISS_SCHED_HARTS];
    uc_engine *ucs[ISS_SCHED_HARTS];
} iss_sched;

int iss_sched_run(iss_sched *s);

#endif
