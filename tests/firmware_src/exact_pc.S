/* Accesses in blocks that start right after a CORE-V instruction (the executor
 * writes the PC, after which Unicorn's PC inside memory callbacks is the block's
 * start): tests/firmware_src/exact_pc.c drives them, tests/test_exact_pc.py checks them. */
#include "archi.h"

    .option norvc
    .option norelax
    .text

#define FUNC(name) .globl name; .type name, @function; .balign 4; name:
#define END(name) .size name, . - name

/* int corev_addi_barrier(void): cv.max; addi cnt,cnt,1; a blocking barrier load.
 * Returns cnt: 1 unless the barrier's retry re-ran the addi. */
FUNC(corev_addi_barrier)
    li   a1, EU_DEMUX_BASE + EU_BARRIER(0) + EU_BARRIER_TRIGGER_WAIT_CLEAR
    li   a0, 0
    cv.max t0, t0, t0
    addi a0, a0, 1
    lw   zero, 0(a1)
    ret
END(corev_addi_barrier)

/* uint32_t corev_wait_mask(uint32_t mask): the sequence of eu_evt_wait_clr after a
 * CORE-V instruction: save the event mask, set `mask`, sleep until one of it,
 * restore the saved mask. Returns the mask after it (the one saved). */
FUNC(corev_wait_mask)
    li   a1, EU_DEMUX_BASE
    cv.max t0, t0, t0
    lw   a2, EU_MASK(a1)
    sw   a0, EU_MASK(a1)
    lw   a3, EU_EVENT_WAIT_CLEAR(a1)
    sw   a2, EU_MASK(a1)
    lw   a0, EU_MASK(a1)
    ret
END(corev_wait_mask)

/* uint32_t corev_same_bank_loads(const int *p, int stride): four loads one bank
 * apart from each other in cycles 1, 2, 3, 4 after cv.max: one hart never waits
 * for itself. Returns mcycle(after) - mcycle(before). */
FUNC(corev_same_bank_loads)
    csrr t1, mcycle
    cv.max t0, t0, t0
    lw   a2, 0(a0)
    add  a0, a0, a1
    lw   a3, 0(a0)
    add  a0, a0, a1
    lw   a4, 0(a0)
    add  a0, a0, a1
    lw   a5, 0(a0)
    csrr t2, mcycle
    sub  a0, t2, t1
    ret
END(corev_same_bank_loads)

/* void corev_bad_store(void): a store to unmapped memory at corev_bad_store+0x10. */
FUNC(corev_bad_store)
    li   a1, 0x40000000
    cv.max t0, t0, t0
    addi a2, a2, 1
    addi a2, a2, 1
    sw   a2, 0(a1)
    ret
END(corev_bad_store)

/* void corev_count_exit(uint32_t *instret): minstret to *instret, then 100
 * instructions and the store to EOC that ends the run (exit code 0). */
FUNC(corev_count_exit)
    li   a1, ARCHI_CLUSTER_CTRL + CTRL_EOC
    csrr t0, minstret
    sw   t0, 0(a0)
    cv.max t0, t0, t0
    .rept 99
    addi a2, a2, 1
    .endr
    sw   zero, 0(a1)
1:  j 1b
END(corev_count_exit)

/* void corev_bad_load(void): a load from unmapped memory at corev_bad_load+0xc. */
FUNC(corev_bad_load)
    li   a1, 0x40000000
    cv.max t0, t0, t0
    addi a2, a2, 1
    lw   a2, 0(a1)
    ret
END(corev_bad_load)
