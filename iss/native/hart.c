#include "hart.h"

#include <string.h>
#include <unicorn/riscv.h>

iss_api ISS_UC;

void iss_set_api(const iss_api *api) { ISS_UC = *api; }

static inline int in_code(const iss_hart *h, uint32_t addr, uint32_t *idx)
{
    uint32_t off = addr - h->code_base;
    if (addr < h->code_base || (off >> 1) > h->code_halfwords)
        return 0;
    *idx = off >> 1;
    return 1;
}

static inline void remember(iss_hart *h, uint32_t start, uint32_t end)
{
    uint32_t *r = h->recent[h->recent_pos++ % ISS_RECENT];
    r[0] = start;
    r[1] = end;
}

/* Charges a translated block when it starts executing. Checking the budget first
 * means a stopped block is not charged, so resuming at it is exact. The penalty of
 * how control arrived here (a taken branch, a jump to a misaligned 32-bit target)
 * is charged with the block, to the branch or jump that caused it. */
void iss_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    iss_hart *h = (iss_hart *)user_data;
    if (h->cycles >= h->budget) {
        h->stop_reason = ISS_STOP_BUDGET;
        h->stop_pc = (uint32_t)address;
        ISS_UC.emu_stop(uc);
        return;
    }
    uint32_t start = (uint32_t)address, end = (uint32_t)address + size, s, e;
    int known = in_code(h, start, &s) && in_code(h, end, &e);
    if (h->timing && h->prev_flags & (ISS_END_BRANCH | ISS_END_JUMP)) {
        uint32_t pen = 0;
        uint32_t mis = (start & 2) && known && h->flags && (h->flags[s] & ISS_START_32);
        if (h->prev_flags & ISS_END_BRANCH) {
            if (start != h->prev_end) {
                pen = 2 + mis;
                h->branches_taken++;
            }
        } else {
            pen = mis;
        }
        if (pen) {
            uint32_t last;
            h->cycles += pen;
            h->stall_branch += pen;
            if (h->stall_at && in_code(h, h->prev_end - ((h->prev_flags & ISS_END_LEN4) ? 4 : 2), &last))
                h->stall_at[last] += pen;
        }
    }
    h->block_start_cycles = h->cycles;
    h->block_dyn = 0;
    if (known) {
        h->instret += h->insn_prefix[e] - h->insn_prefix[s];
        h->cycles += h->cycle_prefix[e] - h->cycle_prefix[s];
        if (h->exec_diff) {
            h->exec_diff[s]++;
            h->exec_diff[e]--;
        }
        h->prev_flags = h->flags ? h->flags[e] : 0;
    } else {
        /* Code outside the loaded image (not expected from linked firmware): count
         * 32-bit instructions at one cycle each. */
        h->instret += size >> 2;
        h->cycles += size >> 2;
        h->prev_flags = 0;
    }
    h->prev_end = end;
    h->block_start = start;
    h->block_end = end;
    h->mem_cursor = known ? s : 0;
    h->mem_left = 0;
    remember(h, start, end);
}

void iss_cut_block(iss_hart *h, uint32_t pc)
{
    uint32_t s, e;
    if (!(h->block_start <= pc && pc < h->block_end))
        return;
    if (in_code(h, pc, &s) && in_code(h, h->block_end, &e)) {
        h->instret -= h->insn_prefix[e] - h->insn_prefix[s];
        h->cycles -= h->cycle_prefix[e] - h->cycle_prefix[s];
        if (h->exec_diff) {
            h->exec_diff[s]--;
            h->exec_diff[e]++;
        }
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
    uint32_t i, len = 4;
    h->block_start_cycles = h->cycles;
    h->block_dyn = 0;
    if (h->flags && in_code(h, pc, &i)) {
        len = (h->flags[i] & ISS_START_32) ? 4 : 2;
        uint32_t e = i + (len >> 1);
        h->instret += h->insn_prefix[e] - h->insn_prefix[i];
        h->cycles += h->cycle_prefix[e] - h->cycle_prefix[i];
        if (h->exec_diff) {
            h->exec_diff[i]++;
            h->exec_diff[e]--;
        }
    } else {
        h->instret++;
        h->cycles++;
    }
    h->block_start = pc;
    h->block_end = pc + len;
    h->prev_end = pc + len;
    h->mem_cursor = (h->flags && in_code(h, pc + len, &i)) ? i : 0;
    h->mem_left = 0;
    h->prev_flags = 0;
    remember(h, pc, pc + len);
    return len;
}

void iss_taken_branch(iss_hart *h, uint32_t pc, uint32_t target)
{
    uint32_t t, i;
    if (!h->timing)
        return;
    uint32_t pen = 2 + ((target & 2) && h->flags && in_code(h, target, &t) && (h->flags[t] & ISS_START_32));
    h->branches_taken++;
    h->cycles += pen;
    h->block_dyn += pen;
    h->stall_branch += pen;
    if (h->stall_at && in_code(h, pc, &i))
        h->stall_at[i] += pen;
}

static inline void stall(iss_hart *h, uint32_t pc, uint32_t cycles, uint64_t *counter)
{
    uint32_t i;
    h->cycles += cycles;
    h->block_dyn += cycles;
    *counter += cycles;
    if (h->stall_at && in_code(h, pc, &i))
        h->stall_at[i] += cycles;
}

void iss_mem_access(iss_hart *h, uint32_t pc, uint32_t addr, uint32_t size, int is_store)
{
    uint32_t i;
    if (!h->timing)
        return;
    /* The cycle this instruction issues its access: the block's start, the static
     * cost of the instructions before it in the block, and what was added since. */
    uint64_t t = h->block_start_cycles + h->block_dyn;
    uint32_t s;
    if (h->cycle_prefix && in_code(h, pc, &i) && in_code(h, h->block_start, &s) && i >= s)
        t += h->cycle_prefix[i] - h->cycle_prefix[s];
    h->access_cycle = t;
    h->access_pc = pc;
    /* Misaligned words, and halfwords crossing a word, take two bus transactions. */
    uint32_t misaligned = (size == 4 && (addr & 3)) || (size == 2 && (addr & 3) == 3);
    if (misaligned)
        stall(h, pc, 1, &h->stall_misaligned);
    uint32_t off = addr - h->tcdm_base;
    if (off < h->tcdm_size && h->arb) {
        /* Queued: the arbiter adds the wait, if any, when every requester of
         * that cycle is known (tcdm.h). */
        uint32_t at = in_code(h, pc, &i) ? i : ISS_TCDM_NO_PC;
        h->tcdm_accesses++;
        iss_tcdm_request(h->arb, h, t, (off >> 2) & (h->banks - 1), at);
        if (misaligned && off + 4 < h->tcdm_size)
            iss_tcdm_request(h->arb, h, t + 1, ((off >> 2) + 1) & (h->banks - 1), at);
        return;
    }
    off = addr - h->l2_base;
    if (off < h->l2_size) {
        h->l2_accesses++;
        h->l2_stores += is_store != 0;
        if (h->l2_latency)
            stall(h, pc, h->l2_latency, &h->stall_l2);
    }
}

/* The instruction of the access the memory hook reports: the next standard load
 * or store of the block (0 if the block has none left: not from the code image). */
static inline uint32_t hooked_pc(iss_hart *h)
{
    if (!h->mem_hooked)
        return 0;
    if (h->mem_left) {
        h->mem_left--;
        return h->code_base + 2 * h->mem_last;
    }
    uint32_t i = h->mem_cursor, end;
    if (!in_code(h, h->block_end, &end))
        return 0;
    while (i < end && !h->mem_hooked[i])
        i++;
    if (i >= end)
        return 0;
    h->mem_last = i;
    h->mem_left = h->mem_hooked[i] - 1u;
    h->mem_cursor = i + 1;
    return h->code_base + 2 * i;
}

/* UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, only registered with the cycle model on. */
void iss_mem_hook(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user_data)
{
    (void)value;
    iss_hart *h = (iss_hart *)user_data;
    uint32_t pc = hooked_pc(h);
    if (pc == 0) {
        uint64_t upc = 0;
        ISS_UC.reg_read(uc, UC_RISCV_REG_PC, &upc);
        pc = (uint32_t)upc;
    }
    iss_mem_access(h, pc, (uint32_t)address, (uint32_t)size, type == UC_MEM_WRITE);
}

/* UC_HOOK_CODE at each div/divu/rem/remu: 3 cycles (charged with the block) plus
 * the divisor's leading zeros (35 in all for a zero divisor). */
void iss_div_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)size;
    iss_hart *h = (iss_hart *)user_data;
    uint32_t i;
    if (!h->timing || !in_code(h, (uint32_t)address, &i))
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
    uint32_t extra = b ? (uint32_t)__builtin_clz(b) : 32;
    if (extra)
        stall(h, (uint32_t)address, extra, &h->div_cycles);
}
