#include "hart.h"

iss_api ISS_UC;

void iss_set_api(const iss_api *api) { ISS_UC = *api; }

/* Charges a translated block when it starts executing. Checking the budget first
 * means a stopped block is not charged, so resuming at it is exact. */
void iss_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    iss_hart *h = (iss_hart *)user_data;
    if (h->cycles >= h->budget) {
        h->stop_reason = ISS_STOP_BUDGET;
        h->stop_pc = (uint32_t)address;
        ISS_UC.emu_stop(uc);
        return;
    }
    uint32_t start = (uint32_t)address, end = (uint32_t)address + size;
    uint32_t s = (start - h->code_base) >> 1, e = (end - h->code_base) >> 1;
    if (start >= h->code_base && e <= h->code_halfwords) {
        h->instret += h->insn_prefix[e] - h->insn_prefix[s];
        h->cycles += h->cycle_prefix[e] - h->cycle_prefix[s];
    } else {
        /* Code outside the loaded image (not expected from linked firmware): count
         * 32-bit instructions at one cycle each. */
        h->instret += size >> 2;
        h->cycles += size >> 2;
    }
    h->block_start = start;
    h->block_end = end;
}
