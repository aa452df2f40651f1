/* Native side of one simulated hart: the state shared with Python (mirrored by
 * iss/native/__init__.py:HartState, keep the two in the same order) and the hooks
 * registered with Unicorn's C API for the hot path.
 *
 * The helper does not link libunicorn: Python hands it the addresses of the few
 * API functions it calls (iss_set_api), so it always uses the binding's own copy. */
#ifndef ISS_NATIVE_HART_H
#define ISS_NATIVE_HART_H
#include <stdint.h>
#include <stddef.h>
#include <unicorn/unicorn.h>

/* Why the native side stopped the engine (iss_hart.stop_reason). */
enum iss_stop {
    ISS_STOP_NONE = 0,
    ISS_STOP_BUDGET = 1,   /* cycle budget reached at a block start (block not charged) */
    ISS_STOP_ILLEGAL = 2,  /* no valid instruction at stop_pc; stop_info = raw word */
    ISS_STOP_ECALL = 3,
    ISS_STOP_EBREAK = 4,
    ISS_STOP_SLOW = 5,     /* a custom instruction that Python must execute (MMIO operand) */
    ISS_STOP_TRAP = 6,     /* other exception; stop_info = Unicorn interrupt number */
    ISS_STOP_FAULT = 7,    /* custom instruction accessed unmapped memory; stop_info = address */
};

typedef struct iss_api {
    uc_err (*reg_read)(uc_engine *, int, void *);
    uc_err (*reg_write)(uc_engine *, int, const void *);
    uc_err (*mem_read)(uc_engine *, uint64_t, void *, size_t);
    uc_err (*mem_write)(uc_engine *, uint64_t, const void *, size_t);
    uc_err (*emu_stop)(uc_engine *);
} iss_api;

extern iss_api ISS_UC;

typedef struct iss_hart {
    uint64_t cycles;        /* simulated cycles of this hart */
    uint64_t instret;       /* instructions retired */
    uint64_t budget;        /* stop at the first block that starts with cycles >= budget */
    uint32_t stop_reason;   /* enum iss_stop */
    uint32_t stop_pc;
    uint32_t stop_info;
    uint32_t hartid;
    /* Code map, per halfword from code_base: prefix sums over the instructions that
     * start before halfword i, so a block [a, b) costs prefix[b] - prefix[a]. */
    uint32_t code_base;
    uint32_t code_halfwords;
    const uint32_t *insn_prefix;
    const uint32_t *cycle_prefix;
    /* The block being executed, so Python can refund its tail when it stops mid-block. */
    uint32_t block_start;
    uint32_t block_end;
    /* Memories custom instructions access directly (host views of TCDM and L2). */
    uint8_t *tcdm;
    uint32_t tcdm_base;
    uint32_t tcdm_size;
    uint8_t *l2;
    uint32_t l2_base;
    uint32_t l2_size;
    /* Owned by the CORE-V executor (corev.c): decoded instructions, hardware loops. */
    void *isa;
} iss_hart;

void iss_set_api(const iss_api *api);
void iss_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);

#endif
