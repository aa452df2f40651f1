/* Unit-level calls from Python (`fw.call(...)` of the iss pytest plugin,
 * iss/pytest_plugin.py): run one C function of the firmware on the cluster.
 *
 * The plugin fills the descriptor `__iss_call` (in .data, so the start-up code
 * does not clear it) and makes core 0 enter `__iss_call_main` where `main`
 * would run:
 *   - first call: the plugin sets state ENTER before reset; crt0 sets up
 *     gp/tp/sp, clears .bss, puts cores 1..N-1 in the dispatch loop and calls
 *     __iss_main, which runs __iss_call_main instead of main when asked
 *     (__iss_call_requested).
 *   - later calls: core 0 stopped at the EOC store of exit(); the plugin resumes
 *     it at __iss_call_resume at the top of its stack (exit() never returns, so
 *     nothing below is live; tp and gp are still those crt0 set; the workers
 *     wait in the dispatch loop).
 * __iss_call_main team-forks fn(args) on cores 0..cores-1 with
 * pi_cl_team_fork (every core gets the same arguments; cores == 1 too),
 * stores core 0's return value and the cycle counts, and returns 0, which ends
 * the simulation through exit(0). A firmware without main() links (weak main
 * below).
 *
 * Keep the layout in step with CALL_LAYOUT in iss/pytest_plugin.py. */
#include "pmsis.h"

#define ISS_CALL_MAGIC 0x43535349u /* "ISSC" */
#define ISS_CALL_MAX_ARGS 8

enum { ISS_CALL_IDLE = 0, ISS_CALL_RUNNING = 1, ISS_CALL_DONE = 2, ISS_CALL_ENTER = 3 };

struct iss_call {
    uint32_t magic;                        /*  0: ISS_CALL_MAGIC (layout check) */
    uint32_t fn;                           /*  4: address of the function; 0: none (start-up only) */
    uint32_t cores;                        /*  8: team size (1: no fork) */
    uint32_t state;                        /* 12: ISS_CALL_* */
    uint32_t args[ISS_CALL_MAX_ARGS];      /* 16: a0..a7 */
    uint32_t ret_lo, ret_hi;               /* 48: a0, a1 of core 0 on return */
    uint32_t cycles, instret;              /* 56: core 0, from before the fork to after the join */
    uint32_t core_cycles[8];               /* 64: per core, inside fn */
    uint32_t core_instret[8];              /* 96: per core, inside fn */
};                                         /* 128 bytes */

typedef uint64_t (*iss_fn8)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);

__attribute__((used, retain, section(".data.__iss_call"), aligned(16)))
volatile struct iss_call __iss_call = {.magic = ISS_CALL_MAGIC};

static inline uint32_t rd_mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v) :: "memory"); return v; }
static inline uint32_t rd_minstret(void) { uint32_t v; __asm__ volatile("csrr %0, minstret" : "=r"(v) :: "memory"); return v; }

/* Runs on every core of the team. */
static void iss_call_entry(void *arg)
{
    volatile struct iss_call *d = arg;
    int core = pi_core_id();
    iss_fn8 fn = (iss_fn8)d->fn;
    uint32_t a0 = d->args[0], a1 = d->args[1], a2 = d->args[2], a3 = d->args[3];
    uint32_t a4 = d->args[4], a5 = d->args[5], a6 = d->args[6], a7 = d->args[7];
    uint32_t i0 = rd_minstret(), c0 = rd_mcycle();
    uint64_t r = fn(a0, a1, a2, a3, a4, a5, a6, a7);
    uint32_t c1 = rd_mcycle(), i1 = rd_minstret();
    if (core < 8) {
        d->core_cycles[core] = c1 - c0;
        d->core_instret[core] = i1 - i0;
    }
    if (core == 0) {
        d->ret_lo = (uint32_t)r;
        d->ret_hi = (uint32_t)(r >> 32);
    }
}

/* Asked by the start-up code (runtime.c's __iss_main): the host set ENTER in
 * the descriptor before reset, so core 0 runs __iss_call_main, not main. */
int __iss_call_requested(void) { return __iss_call.state == ISS_CALL_ENTER; }

__attribute__((used, retain, noinline)) int __iss_call_main(void)
{
    volatile struct iss_call *d = &__iss_call;
    if (!d->fn) {
        d->state = ISS_CALL_DONE;
        return 0;
    }
    d->state = ISS_CALL_RUNNING;
    uint32_t i0 = rd_minstret(), c0 = rd_mcycle();
    /* Even one core goes through the fork: team size 1, barrier 0 set up for
     * it, so kernels that use team barriers run on one core too. */
    pi_cl_team_fork((int)d->cores, iss_call_entry, (void *)d);
    uint32_t c1 = rd_mcycle(), i1 = rd_minstret();
    d->cycles = c1 - c0;
    d->instret = i1 - i0;
    d->state = ISS_CALL_DONE;
    return 0;
}

/* Where core 0 resumes for every call after the first. */
__attribute__((used, retain, noreturn)) void __iss_call_resume(void) { exit(__iss_call_main()); }

/* A firmware made only of functions to test links too. The plugin never runs
 * this main (it enters __iss_call_main in its place); `iss run` does. */
__attribute__((weak)) int main(void)
{
    if (__iss_call.fn)
        return __iss_call_main();
    puts("this firmware has no main(): its functions are meant for fw.call (iss pytest plugin)");
    return 1;
}
