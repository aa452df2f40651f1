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

#include "code.h"
#include "tcdm.h"

/* Why the native side stopped the engine (iss_hart.stop_reason). */
enum iss_stop {
    ISS_STOP_NONE = 0,
    ISS_STOP_BUDGET = 1,   /* cycle budget reached at a block start (block not charged), or inside one
                              (iss_cut_hook: the block is cut there) */
    ISS_STOP_ILLEGAL = 2,  /* no valid instruction at stop_pc; stop_info = raw word */
    ISS_STOP_ECALL = 3,
    ISS_STOP_EBREAK = 4,
    ISS_STOP_SLOW = 5,     /* a custom instruction that Python must execute (MMIO operand) */
    ISS_STOP_TRAP = 6,     /* other exception; stop_info = Unicorn interrupt number */
    ISS_STOP_FAULT = 7,    /* custom instruction accessed unmapped memory; stop_info = address */
    ISS_STOP_CODE = 8,     /* the block at stop_pc is in code rewritten since it was decoded (not charged) */
    ISS_STOP_EXIT = 9,     /* the block at stop_pc, off the linear decode, reaches an invalid encoding at
                              stop_info that is no exit address yet (not charged) */
    ISS_STOP_CUT = 10,     /* cut_at may fall inside the block at stop_pc (stop_info bytes), and the
                              slice must stop exactly there (cut_exact): not charged; Python runs it
                              again with iss_cut_hook on it */
};

typedef struct iss_api {
    uc_err (*reg_read)(uc_engine *, int, void *);
    uc_err (*reg_write)(uc_engine *, int, const void *);
    uc_err (*mem_read)(uc_engine *, uint64_t, void *, size_t);
    uc_err (*mem_write)(uc_engine *, uint64_t, const void *, size_t);
    uc_err (*emu_stop)(uc_engine *);
    uc_err (*emu_start)(uc_engine *, uint64_t, uint64_t, uint64_t, size_t);
} iss_api;

extern iss_api ISS_UC;

#define ISS_RECENT 32

typedef struct iss_hart {
    uint64_t cycles;        /* simulated cycles of this hart */
    uint64_t instret;       /* instructions retired */
    uint64_t budget;        /* stop at the first block that starts with cycles >= budget */
    uint32_t stop_reason;   /* enum iss_stop */
    uint32_t stop_pc;
    uint32_t stop_info;
    uint32_t hartid;
    uint32_t cut_exact;     /* 1: the slice ends exactly at cut_at (see cut_lo below) */
    uint32_t pad_cut;
    /* Code map (code.h), and per halfword of it: prefix sums over the instructions
     * that start before halfword i, so a block [a, b) costs prefix[b] - prefix[a]. */
    iss_code_map code;
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

    /* ---- cycle model (iss/timing) ---- */
    uint32_t timing;             /* 0: functional mode, no dynamic costs */
    uint32_t l2_latency;         /* extra cycles of an L2 access */
    const uint8_t *flags;        /* per halfword (+1): ISS_END_BRANCH | ISS_END_JUMP | ISS_START_32 | ISS_END_LEN4 */
    int32_t *exec_diff;          /* per halfword (+1): +1 where a block starts, -1 where it ends */
    uint32_t *stall_at;          /* per halfword: run-time cycles charged to the instruction there */
    uint64_t block_start_cycles; /* the clock when the current block started (after its entry penalty) */
    uint64_t block_dyn;          /* run-time cycles added inside the current block so far */
    uint32_t prev_end;           /* where the previously executed code ended (its fall-through) */
    uint32_t prev_flags;         /* flags of the instruction that ended there */
    uint64_t stall_branch;       /* taken branches, jumps to misaligned targets */
    uint64_t stall_tcdm;         /* waiting for a TCDM bank */
    uint64_t stall_l2;           /* L2 latency */
    uint64_t stall_misaligned;   /* second bus transaction of misaligned accesses */
    uint64_t div_cycles;         /* operand-dependent division cycles beyond the base 3 */
    uint64_t tcdm_accesses;
    uint64_t l2_accesses;
    /* TCDM bank arbitration, shared by all harts (tcdm.h): accesses are queued
     * there and their waits added to `cycles` when arbitrated. */
    struct iss_tcdm *arb;
    uint64_t tcdm_pending;       /* this hart's accesses queued, not arbitrated yet */
    uint32_t banks;              /* power of two */
    uint32_t arb_id;             /* this hart's requester index */
    uint64_t access_cycle;       /* the cycle the last data access was issued (MMIO callbacks read it) */
    uint64_t branches_taken;     /* conditional branches taken (standard and cv.beqimm/bneimm) */
    uint64_t l2_stores;          /* of l2_accesses, the stores */
    uint32_t chain_limit;        /* instructions the executor may run back to back per trap (0: one) */
    uint32_t recent_pos;         /* blocks started so far (ring index: recent_pos % ISS_RECENT) */
    uint32_t chain_standard;     /* 1: a chain runs standard instructions too; 0: CORE-V only (a view
                                    that samples at block starts must see every jump) */
    uint32_t recent[ISS_RECENT][2]; /* the last blocks run: [start, end) (crash reports) */
    /* Per halfword (+1): the instruction decoded there whatever the alignment of the
     * linear decode (ISS_I_*), and its static cycles; a block that starts off the
     * linear decode (a jump into the middle of a 32-bit instruction) is costed by
     * walking these until it rejoins the linear decode. */
    const uint8_t *info;
    const uint8_t *cost_at;
    /* The instruction that made the current data access. Unicorn's PC inside a
     * memory callback is only the block's start once a hook has written the PC, so
     * the memory hook counts: the n-th callback since the block started belongs to
     * the n-th memory instruction of the block (see iss_mem_hook). */
    uint32_t access_pc;
    uint32_t access_left;    /* callbacks still expected from the instruction at access_pc */
    uint32_t cursor;         /* halfword index in the block where the next memory instruction is sought */
    uint32_t cursor_cost;    /* static cycles of the block's instructions before `cursor` */
    uint32_t access_cost;    /* static cycles of the block's instructions before access_pc */
    uint32_t access_addr;    /* the address and size of the last access Unicorn reported */
    uint32_t access_size;
    uint32_t io_stop;        /* set by Python when an MMIO callback stopped the engine: the
                                CORE-V executor then leaves its instruction undone */
    /* Self-modifying code (iss/hart.py: CodeImage.refresh). A store to a byte of the
     * code (a region of the code map) marks its page of slots dirty; a block on a
     * dirty page stops the hart before it runs (ISS_STOP_CODE) so that the decode and
     * cost tables, and every hart's translations, are redone first. code_dirty_pages
     * NULL: stores are not watched (code_dirty then stays 0). */
    uint8_t *code_dirty_pages;   /* one byte per 2^ISS_CODE_PAGE_SLOTS_SHIFT slots (shared by the harts) */
    uint32_t *code_dirty;        /* shared: some page is dirty (required by the hooks: never NULL) */
    /* Where the hart runs from and when (iss/native/sched.c; Hart.pc, Hart.ready_at). */
    uint64_t ready_at;           /* the cycle a retried instruction waits to act at (0: none) */
    uint32_t pc;                 /* the next instruction, between slices */
    uint32_t pad_pc;
    /* Exact interrupt entry (Hart.run). Where an interrupt line may rise (cut_at),
     * the slice ends at the first instruction boundary whose clock reaches it, as a
     * chain of the CORE-V executor ends, not at the next block start: a block that
     * may hold that boundary stops before it runs (ISS_STOP_CUT) and runs again
     * with iss_cut_hook on its instructions. */
    uint32_t cut_lo;             /* [cut_lo, cut_hi): the block iss_cut_hook is on (0, 0: none) */
    uint32_t cut_hi;
    uint32_t cut_access_max;     /* the most cycles one memory callback may add (a bound) */
    uint32_t cut_stopped;        /* iss_cut_hook ended the slice inside a block */
    uint32_t div_hook_pc;        /* the division iss_div_hook saw last (code hooks run in the */
    uint32_t div_hook_extra;     /* order added: it runs before iss_cut_hook), and its cycles */
    /* With cut_exact, the clock at a boundary is compared with cut_at once its
     * TCDM waits are known: the hart's queued accesses are arbitrated then, below
     * this cycle (no other requester can still reach it: Hart.run). */
    uint64_t cut_settle;
    uint64_t cut_at;             /* with cut_exact: the first boundary whose clock reaches this
                                    ends the slice (>= budget, which blocks check at their start) */
    uint32_t prev_slot;          /* with a branch or jump in prev_flags (set by the block hook
                                    only): the code slot of that instruction */
    uint32_t pad_prev;
    struct iss_block_info *blocks;   /* ISS_BLOCK_CACHE entries, shared by the harts (required by the
                                        block hook: never NULL) */
} iss_hart;

/* What the block hook works out for a translated block from the code image's
 * static tables, cached per (start, size) in a direct-mapped table indexed by the
 * start's halfword (CodeImage.blocks; CodeImage.refresh clears it when it redoes
 * the tables). Only blocks inside the code image whose instructions are all valid
 * are kept. */
typedef struct iss_block_info {
    uint32_t start, size;        /* the key (size 0: empty) */
    uint32_t s, e;               /* the slots of its start and end */
    uint32_t cycles, insns;      /* static cycles, instructions */
    uint32_t end_flags;          /* prev_flags after it */
    uint32_t last_slot;          /* prev_slot after it */
} iss_block_info;
#define ISS_BLOCK_CACHE 4096
size_t iss_block_cache_bytes(void);

#define ISS_CODE_PAGE_SLOTS_SHIFT 11   /* 2048 halfwords: 4 KiB of code */

/* iss_hart.info bits */
#define ISS_I_32 1u          /* a 32-bit encoding */
#define ISS_I_LINEAR 2u      /* an instruction start of the linear decode (counted by the prefix sums) */
#define ISS_I_ACC1 4u        /* Unicorn makes one memory callback for it (standard load/store, lr.w) */
#define ISS_I_ACC2 8u        /* two: a read and a write (AMOs; sc.w when it succeeds, none when it fails) */
#define ISS_I_SC 16u         /* sc.w */
#define ISS_I_BRANCH 32u     /* a conditional branch Unicorn executes */
#define ISS_I_JUMP 64u       /* a jump */
#define ISS_I_BAD 128u       /* not a valid instruction */

#define ISS_END_BRANCH 1u
#define ISS_END_JUMP 2u
#define ISS_START_32 4u
#define ISS_END_LEN4 8u

void iss_set_api(const iss_api *api);
size_t iss_hart_size(void);
/* Static cycles of the instructions from `from` up to `to` (addresses on one
 * decode path, from <= to, both in the code image); their count in *insns. */
uint64_t iss_span(const iss_hart *h, uint32_t from, uint32_t to, uint32_t *insns);
/* The PC of the instruction making a data access Unicorn reports now at `addr`
 * (also called for accesses to unmapped memory, which reach no memory hook). */
uint32_t iss_locate_access(uc_engine *uc, iss_hart *h, uint32_t addr);
void iss_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);
/* A data access of `size` bytes at `addr` by the instruction at `pc` (all paths:
 * Unicorn's loads/stores through iss_mem_hook, the CORE-V executor directly). */
void iss_mem_access(iss_hart *h, uint32_t pc, uint32_t addr, uint32_t size, int is_store);
/* A taken branch in code slot `slot` executed outside Unicorn (cv.beqimm/bneimm,
 * a chained branch) to `target`. */
void iss_taken_branch(iss_hart *h, uint32_t slot, uint32_t target);
/* A jump in code slot `slot` executed outside Unicorn to `target`. */
void iss_jumped(iss_hart *h, uint32_t slot, uint32_t target);
/* The operand-dependent cycles of a division by `divisor` in code slot `slot`. */
void iss_div_stall(iss_hart *h, uint32_t slot, uint32_t divisor);
/* Execution leaves the current block at `pc` (before the instruction there): the
 * rest of the block, charged when it started, is given back. */
void iss_cut_block(iss_hart *h, uint32_t pc);
/* An instruction executed outside Unicorn (by Python) is charged as a block of
 * its own; returns its length in bytes. */
uint32_t iss_charge_insn(iss_hart *h, uint32_t pc);

static inline void iss_remember(iss_hart *h, uint32_t start, uint32_t end)
{
    uint32_t *r = h->recent[h->recent_pos++ % ISS_RECENT];
    r[0] = start;
    r[1] = end;
}

/* A block starts executing now: its run-time part and the memory-callback
 * bookkeeping start afresh (the static cost is the caller's to add). */
static inline void iss_block_begins(iss_hart *h)
{
    h->block_start_cycles = h->cycles;
    h->block_dyn = 0;
    h->access_left = 0;
    h->cursor_cost = 0;
}

/* Each instruction from code slot s up to e ran `times` more times (the
 * profile's counts; -1: a charge given back). */
static inline void iss_count_executed(iss_hart *h, uint32_t s, uint32_t e, int32_t times)
{
    if (h->exec_diff) {
        h->exec_diff[s] += times;
        h->exec_diff[e] -= times;
    }
}

/* The code [start, end) ran outside Unicorn, as a block of its own that the
 * next one follows with no arrival penalty: where it ends, the memory-callback
 * bookkeeping cleared, and the crash report's record of it (its clock and
 * counts are the caller's). */
static inline void iss_ran_own_block(iss_hart *h, uint32_t start, uint32_t end)
{
    h->access_left = 0;
    h->cursor_cost = 0;
    h->cursor = ISS_NO_SLOT;
    h->block_start = start;
    h->block_end = end;
    h->prev_end = end;
    h->prev_flags = 0;
    iss_remember(h, start, end);
}

/* Run-time cycles charged to the instruction at code slot `slot` (ISS_NO_SLOT:
 * outside the code image, counted but not attributed). */
static inline void iss_stall(iss_hart *h, uint32_t slot, uint32_t cycles, uint64_t *counter)
{
    h->cycles += cycles;
    h->block_dyn += cycles;
    *counter += cycles;
    if (h->stall_at && slot != ISS_NO_SLOT)
        h->stall_at[slot] += cycles;
}

/* A store of `size` bytes at `addr` into the code: marks the slot pages it
 * changes dirty (rare: out of line). */
void iss_code_written(iss_hart *h, uint32_t addr, uint32_t size);

/* Every store goes through here (Unicorn's, the CORE-V executor's): a couple of
 * compares per code region when it is not in the code. */
static inline void iss_watch_store(iss_hart *h, uint32_t addr, uint32_t size)
{
    uint32_t i;
    if (h->code_dirty_pages &&
        (iss_code_insn(&h->code, addr, &i) || iss_code_insn(&h->code, addr + size - 1, &i)))
        iss_code_written(h, addr, size);
}

/* A data access by the instruction at code slot `slot`, whose block's
 * instructions before it cost `before` static cycles: the cycle it is issued
 * (peripherals see it then, in functional mode too: the same however blocks are
 * cut), and the cycle model's part. Inline: the executor makes most accesses. */
static inline __attribute__((always_inline)) void iss_access_timing(iss_hart *h, uint32_t slot, uint64_t before,
                                                                    uint32_t addr, uint32_t size, int is_store)
{
    /* The cycle this instruction issues its access: the block's start, the static
     * cost of the instructions before it in the block, and what was added since. */
    uint64_t t = h->block_start_cycles + h->block_dyn + before;
    h->access_cycle = t;
    if (!h->timing)
        return;
    /* Misaligned words, and halfwords crossing a word, take two bus transactions. */
    uint32_t misaligned = (size == 4 && (addr & 3)) || (size == 2 && (addr & 3) == 3);
    if (misaligned)
        iss_stall(h, slot, 1, &h->stall_misaligned);
    uint32_t off = addr - h->tcdm_base;
    if (off < h->tcdm_size && h->arb) {
        /* Queued: the arbiter adds the wait, if any, when every requester of
         * that cycle is known (tcdm.h). */
        h->tcdm_accesses++;
        iss_tcdm_request(h->arb, h, t, (off >> 2) & (h->banks - 1), slot);
        if (misaligned && off + 4 < h->tcdm_size)
            iss_tcdm_request(h->arb, h, t + 1, ((off >> 2) + 1) & (h->banks - 1), slot);
        return;
    }
    off = addr - h->l2_base;
    if (off < h->l2_size) {
        h->l2_accesses++;
        h->l2_stores += is_store != 0;
        if (h->l2_latency)
            iss_stall(h, slot, h->l2_latency, &h->stall_l2);
    }
}

/* iss_mem_access by the instruction at `pc` in code slot `slot`, the block's
 * instructions before it costing `before` static cycles (known to the CORE-V
 * executor's chain). */
static inline __attribute__((always_inline)) void iss_mem_access_at(iss_hart *h, uint32_t pc, uint32_t slot,
                                                                    uint32_t before, uint32_t addr, uint32_t size,
                                                                    int is_store)
{
    h->access_pc = pc;
    if (is_store)
        iss_watch_store(h, addr, size);
    iss_access_timing(h, slot, before, addr, size, is_store);
}

/* The same, inside the block [block_start, block_end) (Unicorn's). */
static inline __attribute__((always_inline)) void iss_mem_access_slot(iss_hart *h, uint32_t pc, uint32_t slot,
                                                                      uint32_t addr, uint32_t size, int is_store)
{
    uint32_t n;
    iss_mem_access_at(h, pc, slot, pc == h->block_start ? 0 : iss_span(h, h->block_start, pc, &n), addr, size,
                      is_store);
}

void iss_mem_hook(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user_data);
void iss_div_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);
/* With cut_exact: arbitrates the hart's queued TCDM accesses issued before the
 * boundary at clock `boundary` (and below cut_settle), so its clock there is exact. */
void iss_settle(iss_hart *h, uint64_t boundary);
/* UC_HOOK_CODE on the block [cut_lo, cut_hi) while cut_exact: stops before the
 * first instruction whose start reaches cut_at (the block is cut there). */
void iss_cut_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);

#endif
