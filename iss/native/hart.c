#include "hart.h"
#include "corev.h"

#include <string.h>
#include <unicorn/riscv.h>

iss_api ISS_UC;

void iss_set_api(const iss_api *api) { ISS_UC = *api; }

size_t iss_hart_size(void) { return sizeof(iss_hart); }
size_t iss_block_cache_bytes(void) { return ISS_BLOCK_CACHE * sizeof(iss_block_info); }

static inline int in_code(const iss_hart *h, uint32_t addr, uint32_t *idx)
{
    return iss_code_index(&h->code, addr, idx);
}

#define NONE ISS_NO_SLOT

static inline uint32_t slot_of(const iss_hart *h, uint32_t pc)
{
    uint32_t i;
    return in_code(h, pc, &i) ? i : ISS_NO_SLOT;
}

/* in_code(start) && in_code(end) for a block: its end is in its start's region
 * (looked up once) unless the block runs past that region. */
static inline int block_slots(const iss_hart *h, uint32_t start, uint32_t end, uint32_t *s, uint32_t *e)
{
    const iss_code_map *m = &h->code;
    for (uint32_t k = 0; k < m->n; k++)
        if (iss_code_index_in(&m->r[k], start, s))
            return iss_code_index_in(&m->r[k], end, e) || in_code(h, end, e);
    return 0;
}

/* Static cycles and instructions of the decode path from halfword s to e: walk the
 * per-halfword table while off the linear decode, then the prefix sums. *last is
 * the last instruction walked when the path never rejoined the linear decode. */
static inline uint64_t span_idx(const iss_hart *h, uint32_t s, uint32_t e, uint32_t *n, uint32_t *last)
{
    uint64_t c = 0;
    uint32_t k = 0;
    *last = NONE;
    while (s < e && !(h->info[s] & ISS_I_LINEAR)) {
        c += h->cost_at[s];
        k++;
        *last = s;
        s += (h->info[s] & ISS_I_32) ? 2 : 1;
    }
    if (s < e) {
        c += h->cycle_prefix[e] - h->cycle_prefix[s];
        k += h->insn_prefix[e] - h->insn_prefix[s];
        *last = NONE;
    }
    *n = k;
    return c;
}

uint64_t iss_span(const iss_hart *h, uint32_t from, uint32_t to, uint32_t *insns)
{
    uint32_t s, e, last;
    *insns = 0;
    if (from >= to || !in_code(h, from, &s) || !in_code(h, to, &e))
        return 0;
    return span_idx(h, s, e, insns, &last);
}

/* The end flags of a block whose last instruction starts at halfword i (off the
 * linear decode; on it, flags[end] says the same). */
static inline uint32_t end_flags(const iss_hart *h, uint32_t i)
{
    uint8_t f = h->info[i];
    return ((f & ISS_I_BRANCH) ? ISS_END_BRANCH : 0) | ((f & ISS_I_JUMP) ? ISS_END_JUMP : 0) |
           ((f & ISS_I_32) ? ISS_END_LEN4 : 0);
}

/* A store of `size` bytes at `addr` into the code: marks the slot pages it
 * changes dirty (rare: kept out of line). */
void iss_code_written(iss_hart *h, uint32_t addr, uint32_t size)
{
    for (uint32_t k = 0; k < size; k++) {
        uint32_t i;
        if (iss_code_insn(&h->code, addr + k, &i)) {
            h->code_dirty_pages[i >> ISS_CODE_PAGE_SLOTS_SHIFT] = 1;
            *h->code_dirty = 1;
        }
    }
}

/* Whether the block [start, end) (slots s..e) lies on a page rewritten since it
 * was decoded. */
static inline int block_dirty(const iss_hart *h, uint32_t s, uint32_t e)
{
    return *h->code_dirty &&
           (h->code_dirty_pages[s >> ISS_CODE_PAGE_SLOTS_SHIFT] ||
            h->code_dirty_pages[(e - 1) >> ISS_CODE_PAGE_SLOTS_SHIFT]);
}

/* Whether the instructions from slot s (off the linear decode) up to where they
 * rejoin it, or e, include an invalid encoding (its slot in *bad). */
static int off_linear_bad(const iss_hart *h, uint32_t s, uint32_t e, uint32_t *bad)
{
    while (s < e && !(h->info[s] & ISS_I_LINEAR)) {
        if (h->info[s] & ISS_I_BAD) {
            *bad = s;
            return 1;
        }
        s += (h->info[s] & ISS_I_32) ? 2 : 1;
    }
    return 0;
}

#define ISS_ARRIVAL_MAX 3    /* the largest arrival penalty: a taken branch to a misaligned target */

/* An upper bound of the run-time cycles the instruction at slot i may add before
 * the next one starts (memory callbacks, a division's operand-dependent cycles). */
static inline uint64_t dyn_bound(const iss_hart *h, uint32_t i)
{
    uint8_t f = h->info[i];
    uint64_t d = (f & ISS_I_ACC1) ? h->cut_access_max : (f & ISS_I_ACC2) ? 2u * h->cut_access_max : 0;
    if (h->timing && h->isa) {
        int op = ((const iss_isa *)h->isa)->tab[i].op;
        if (op == ISS_OP_DIV || op == ISS_OP_DIVU || op == ISS_OP_REM || op == ISS_OP_REMU)
            d += 32;
    }
    return d;
}

/* Whether the clock may reach cut_at at a boundary inside the block of slots
 * [s, e) that starts now (its start is below the budget, its arrival penalty
 * charged; its end is the next block's start, checked there). */
static int may_cross(const iss_hart *h, uint32_t s, uint32_t e)
{
    uint64_t t = h->cycles;
    for (uint32_t i = s;;) {
        uint32_t next = i + ((h->info[i] & ISS_I_32) ? 2 : 1);
        if (next >= e)
            return 0;
        t += h->cost_at[i] + dyn_bound(h, i);
        if (t >= h->cut_at)
            return 1;
        i = next;
    }
}

/* The penalty of how control arrived at the block starting at `start` (slot s if
 * known): a taken branch, a jump to a misaligned 32-bit target. It is the branch's
 * or jump's, charged to it. */
static inline void charge_arrival(iss_hart *h, uint32_t start, int known, uint32_t s)
{
    uint32_t flags = h->prev_flags;
    if (!(flags & (ISS_END_BRANCH | ISS_END_JUMP)) || !h->timing)
        return;
    uint32_t pen = (start & 2) && known && (h->info[s] & ISS_I_32);
    if (flags & ISS_END_BRANCH) {
        if (start == h->prev_end)
            return;
        pen += 2;
        h->branches_taken++;
    }
    if (!pen)
        return;
    /* As iss_stall, less what it need not do here (once per taken branch): the
     * block's block_dyn starts afresh when it is charged, and prev_slot is in the
     * code image (a branch or jump is in prev_flags only as a block's end flags,
     * which come with its last slot). */
    h->cycles += pen;
    h->stall_branch += pen;
    if (h->stall_at)
        h->stall_at[h->prev_slot] += pen;
}

static void stop_before(uc_engine *uc, iss_hart *h, uint32_t reason, uint32_t start)
{
    h->stop_reason = reason;
    h->stop_pc = start;
    ISS_UC.emu_stop(uc);
}

void iss_settle(iss_hart *h, uint64_t boundary)
{
    while (h->tcdm_pending && h->arb) {
        uint64_t before = h->cycles;
        iss_tcdm_resolve(h->arb, boundary < h->cut_settle ? boundary : h->cut_settle);
        if (h->cycles == before)
            return;
        boundary += h->cycles - before;     /* a wait delays the boundary too */
    }
}

/* The clock may have reached the budget at the block's start: the boundary is
 * after the arrival penalty (as a chained branch charges it before the chain's
 * next check), so it is charged now, and the block stops if the budget is reached
 * (not charged: resuming at it is exact). Out of line: rare. */
__attribute__((noinline)) static int budget_stop(uc_engine *uc, iss_hart *h, uint32_t start, uint32_t size)
{
    uint32_t s, e;
    int known = block_slots(h, start, start + size, &s, &e);
    charge_arrival(h, start, known, s);
    h->prev_flags = 0;
    if (h->cycles < h->budget)
        return 0;
    stop_before(uc, h, ISS_STOP_BUDGET, start);
    return 1;
}

/* The block hook's checks with cut_exact, out of line (rare): the clock made exact
 * (its TCDM waits arbitrated), the budget as budget_stop, then a stop before the
 * block [start, start + size) if cut_at may fall inside it and no iss_cut_hook is
 * on it (ISS_STOP_CUT, the block not charged; exits and rewritten code are checked
 * when it runs again). */
__attribute__((noinline)) static int cut_stop(uc_engine *uc, iss_hart *h, uint32_t start, uint32_t size)
{
    uint32_t end = start + size, s, e;
    iss_settle(h, h->cycles);
    if (budget_stop(uc, h, start, size))
        return 1;
    if ((start >= h->cut_lo && end <= h->cut_hi) || !block_slots(h, start, end, &s, &e) || !may_cross(h, s, e))
        return 0;
    h->stop_info = size;
    stop_before(uc, h, ISS_STOP_CUT, start);
    return 1;
}

/* The block of slots [s, e) starts now: its static cycles and instructions. */
static inline void charge_block(iss_hart *h, uint32_t s, uint32_t e, uint32_t cycles, uint32_t insns)
{
    iss_block_begins(h);
    h->cycles += cycles;
    iss_count_executed(h, s, e, 1);
    /* (apart from the clock: loading both as one vector right after a store to the
     * clock, the arrival penalty's, cannot take the stored value; the load waits) */
    h->instret += insns;
}

/* The block [start, end) runs now (charged): where it ends, and the crash
 * report's record of it. */
static inline void block_runs(iss_hart *h, uint32_t start, uint32_t end)
{
    h->prev_end = end;
    h->block_start = start;
    h->block_end = end;
    iss_remember(h, start, end);
}

/* The cached block b, [start, end), runs now: charged and recorded. */
static inline __attribute__((always_inline)) void run_cached(iss_hart *h, const iss_block_info *entry,
                                                             uint32_t start, uint32_t end)
{
    charge_arrival(h, start, 1, entry->s);
    charge_block(h, entry->s, entry->e, entry->cycles, entry->insns);
    h->prev_flags = entry->end_flags;
    h->prev_slot = entry->last_slot;
    h->cursor = entry->s;
    block_runs(h, start, end);
}

/* The block hook's general case: every check, the block worked out and cached
 * when it is not (iss_block_hook takes the common case itself). */
__attribute__((cold, noinline)) static void block_hook_slow(uc_engine *uc, iss_hart *h, uint64_t address,
                                                            uint32_t size)
{
    /* A block whose first instruction Unicorn cannot translate (a 0x0000 halfword)
     * has size 0 and runs nothing; Unicorn calls block hooks for it only sometimes
     * (not when a second block hook is registered), so it is never charged: what
     * control brought here stays pending for the block that runs next. */
    if (!size)
        return;
    uint32_t start = (uint32_t)address, end = (uint32_t)address + size;
    if (__builtin_expect(h->cut_exact, 0)) {
        if (cut_stop(uc, h, start, size))
            return;
    } else if (h->cycles + ISS_ARRIVAL_MAX >= h->budget && budget_stop(uc, h, start, size)) {
        return;
    }
    /* What the static tables say of the block: from the cache, else worked out
     * here and cached. (An entry cached while its code is dirty goes with all the
     * others when CodeImage.refresh redecodes that code, which is what clears the
     * dirty mark: until then the check below stops the hart before it.) */
    iss_block_info *b = &h->blocks[(start >> 1) & (ISS_BLOCK_CACHE - 1)];
    if (!(b->start == start && b->size == size)) {
        uint32_t s, e, bad, n, last;
        if (!block_slots(h, start, end, &s, &e)) {
            /* Code outside the loaded image (not expected from linked firmware): count
             * 32-bit instructions at one cycle each. */
            charge_arrival(h, start, 0, 0);
            iss_block_begins(h);
            h->instret += size >> 2;
            h->cycles += size >> 2;
            iss_ran_own_block(h, start, end);
            return;
        }
        if (!(h->info[s] & ISS_I_LINEAR) && off_linear_bad(h, s, e, &bad)) {
            /* Only the invalid encodings of the linear decode are exits (each exit costs
             * every emu_start a lookup, and invalidates the translations holding it):
             * this one, off it, becomes one now, before the block runs. */
            h->stop_info = iss_code_pc(&h->code, bad);
            stop_before(uc, h, ISS_STOP_EXIT, start);
            return;
        }
        uint32_t cycles = (uint32_t)span_idx(h, s, e, &n, &last);
        uint32_t flags = last == NONE ? h->flags[e] : end_flags(h, last);
        *b = (iss_block_info){start, size, s, e, cycles, n, flags,
                              last != NONE ? last : e - ((flags & ISS_END_LEN4) ? 2 : 1)};
    }
    if (block_dirty(h, b->s, b->e)) {
        /* Its code was rewritten: Python redecodes it, then it runs (and is charged). */
        stop_before(uc, h, ISS_STOP_CODE, start);
        return;
    }
    run_cached(h, b, start, end);
}

/* Charges a translated block when it starts executing (its arrival penalty, its
 * static cycles), after the checks that stop the engine before it. The common
 * case is taken here, with the fewest instructions (plain code makes a call per
 * block): the block cached, no slice end near, no exact cut, no code rewritten
 * anywhere; anything else goes to block_hook_slow, which decides the same. */
void iss_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    iss_hart *h = (iss_hart *)user_data;
    uint32_t start = (uint32_t)address;
    const iss_block_info *b = h->blocks + ((start >> 1) & (ISS_BLOCK_CACHE - 1));
    if (__builtin_expect(!size || b->start != start || b->size != size || h->cut_exact ||
                         h->cycles + ISS_ARRIVAL_MAX >= h->budget || *h->code_dirty, 0)) {
        block_hook_slow(uc, h, address, size);
        return;
    }
    run_cached(h, b, start, start + size);
}

void iss_cut_block(iss_hart *h, uint32_t pc)
{
    uint32_t s, e;
    if (!(h->block_start <= pc && pc < h->block_end))
        return;
    if (in_code(h, pc, &s) && in_code(h, h->block_end, &e)) {
        uint32_t n, last;
        h->cycles -= span_idx(h, s, e, &n, &last);
        h->instret -= n;
        iss_count_executed(h, s, e, -1);
    } else {
        h->instret -= (h->block_end - pc) >> 2;
        h->cycles -= (h->block_end - pc) >> 2;
    }
    /* Resuming at pc continues this block: how control reached its start was
     * charged when it started (pc's static predecessor may be a jump elsewhere). */
    h->prev_flags = 0;
    h->prev_end = pc;
    h->block_end = pc;
    if (h->recent_pos) {
        uint32_t *r = h->recent[(h->recent_pos - 1) % ISS_RECENT];
        if (r[0] == h->block_start)
            r[1] = pc;
    }
}

uint32_t iss_charge_insn(iss_hart *h, uint32_t pc)
{
    uint32_t i, len = 4, cost = 1;     /* outside the code image: one cycle */
    int known = in_code(h, pc, &i);
    if (known) {
        len = (h->info[i] & ISS_I_32) ? 4 : 2;
        cost = h->cost_at[i];
    }
    iss_block_begins(h);
    h->cycles += cost;
    h->instret++;
    if (known)
        iss_count_executed(h, i, i + (len >> 1), 1);
    iss_ran_own_block(h, pc, pc + len);
    return len;
}

/* The extra cycle of arriving at a 32-bit instruction that is not word-aligned
 * (the block hook's rule: the instruction decoded at the target, whatever the
 * alignment of the linear decode). */
static inline uint32_t misaligned_target(const iss_hart *h, uint32_t target)
{
    uint32_t t;
    return (target & 2) && h->info && in_code(h, target, &t) && (h->info[t] & ISS_I_32);
}

void iss_taken_branch(iss_hart *h, uint32_t slot, uint32_t target)
{
    if (!h->timing)
        return;
    h->branches_taken++;
    iss_stall(h, slot, 2 + misaligned_target(h, target), &h->stall_branch);
}

void iss_jumped(iss_hart *h, uint32_t slot, uint32_t target)
{
    if (h->timing && misaligned_target(h, target))
        iss_stall(h, slot, 1, &h->stall_branch);
}

void iss_mem_access(iss_hart *h, uint32_t pc, uint32_t addr, uint32_t size, int is_store)
{
    iss_mem_access_slot(h, pc, slot_of(h, pc), addr, size, is_store);
}

/* A failed sc.w makes no memory callback: an access is sc.w's only when it is at
 * the address in sc.w's rs1 (read now: a later instruction of the block that
 * changed rs1 before making this access is the rare case this gets wrong). */
static int sc_accesses(uc_engine *uc, const iss_hart *h, uint32_t i, uint32_t addr)
{
    const iss_isa *s = (const iss_isa *)h->isa;
    uint64_t v = 0;
    if (!s || i >= s->n)
        return 1;
    ISS_UC.reg_read(uc, UC_RISCV_REG_X0 + s->tab[i].rs1, &v);
    return (uint32_t)v == addr;
}

uint32_t iss_locate_access(uc_engine *uc, iss_hart *h, uint32_t addr)
{
    uint32_t i = h->cursor, e;
    if (h->access_left) {
        h->access_left--;
        return h->access_pc;
    }
    if (i != NONE && in_code(h, h->block_end, &e)) {
        uint32_t c = h->cursor_cost;
        while (i < e) {
            uint8_t f = h->info[i];
            uint32_t len = (f & ISS_I_32) ? 2 : 1;
            if ((f & (ISS_I_ACC1 | ISS_I_ACC2)) && (!(f & ISS_I_SC) || sc_accesses(uc, h, i, addr))) {
                h->access_pc = iss_code_pc(&h->code, i);
                h->access_cost = c;
                h->access_left = (f & ISS_I_ACC2) ? 1 : 0;
                h->cursor = i + len;
                h->cursor_cost = c + h->cost_at[i];
                return h->access_pc;
            }
            c += h->cost_at[i];
            i += len;
        }
        h->cursor = e;
        h->cursor_cost = c;
    }
    /* More callbacks than memory instructions (code outside the image): the best
     * that is known is the block. */
    h->access_pc = h->block_start;
    h->access_cost = 0;
    return h->access_pc;
}

/* UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE: always registered (the exact PC of an MMIO
 * access that stops the hart is needed in functional mode too). */
void iss_mem_hook(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user_data)
{
    (void)value;
    iss_hart *h = (iss_hart *)user_data;
    uint32_t pc = iss_locate_access(uc, h, (uint32_t)address);
    h->access_addr = (uint32_t)address;
    h->access_size = (uint32_t)size;
    if (type == UC_MEM_WRITE)
        iss_watch_store(h, (uint32_t)address, (uint32_t)size);
    iss_access_timing(h, h->timing ? slot_of(h, pc) : ISS_NO_SLOT, h->access_cost, (uint32_t)address, (uint32_t)size,
                      type == UC_MEM_WRITE);
}

void iss_div_stall(iss_hart *h, uint32_t slot, uint32_t divisor)
{
    uint32_t extra = divisor ? (uint32_t)__builtin_clz(divisor) : 32;
    if (h->timing && extra)
        iss_stall(h, slot, extra, &h->div_cycles);
}

/* UC_HOOK_CODE at each div/divu/rem/remu: 3 cycles (charged with the block) plus
 * the divisor's leading zeros (35 in all for a zero divisor). Not when the
 * division is the first instruction after a hardware loop's body that goes
 * round again: it does not run (the loop's hook, before or after this one,
 * sends the PC back to the loop start). */
void iss_div_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)size;
    iss_hart *h = (iss_hart *)user_data;
    uint32_t i;
    uint64_t now = 0;
    h->div_hook_pc = NONE;
    if (!h->timing || !in_code(h, (uint32_t)address, &i))
        return;
    ISS_UC.reg_read(uc, UC_RISCV_REG_PC, &now);
    if ((uint32_t)now != (uint32_t)address || iss_hwloop_jumps_back(h, (uint32_t)address))
        return;
    /* The instruction word from the code image the prefix sums describe. */
    uint32_t word;
    uint32_t off = (uint32_t)address - h->l2_base;
    if (off + 4 <= h->l2_size)
        memcpy(&word, h->l2 + off, 4);
    else if ((off = (uint32_t)address - h->tcdm_base) + 4 <= h->tcdm_size)
        memcpy(&word, h->tcdm + off, 4);
    else
        return;
    uint32_t rs2 = (word >> 20) & 31, b = 0;
    if (rs2) {
        uint64_t v = 0;
        ISS_UC.reg_read(uc, UC_RISCV_REG_X0 + (int)rs2, &v);
        b = (uint32_t)v;
    }
    uint64_t before = h->cycles;
    iss_div_stall(h, i, b);
    h->div_hook_pc = (uint32_t)address;
    h->div_hook_extra = (uint32_t)(h->cycles - before);
}

void iss_cut_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)size;
    iss_hart *h = (iss_hart *)user_data;
    uint32_t pc = (uint32_t)address, n;
    /* A division's hook, before this one, already added its cycles: they come after
     * the boundary before it. */
    uint32_t extra = h->div_hook_pc == pc ? h->div_hook_extra : 0;
    h->div_hook_pc = NONE;
    if (!(h->block_start < pc && pc < h->block_end))
        return;     /* a block's start: the block hook checked it */
    uint64_t now = 0;
    ISS_UC.reg_read(uc, UC_RISCV_REG_PC, &now);
    if ((uint32_t)now != pc)
        return;     /* an earlier hook sent control elsewhere: its block hook checks there */
    uint64_t tail = iss_span(h, pc, h->block_end, &n) + extra;
    iss_settle(h, h->cycles - tail);
    if (h->cycles - tail < h->cut_at)
        return;
    if (extra) {
        uint32_t slot = slot_of(h, pc);
        h->cycles -= extra;
        h->block_dyn -= extra;
        h->div_cycles -= extra;
        if (h->stall_at && slot != ISS_NO_SLOT)
            h->stall_at[slot] -= extra;
    }
    iss_cut_block(h, pc);
    h->stop_reason = ISS_STOP_BUDGET;
    h->stop_pc = pc;
    h->cut_stopped = 1;
    ISS_UC.emu_stop(uc);
}
