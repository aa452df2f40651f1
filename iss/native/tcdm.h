/* TCDM bank arbitration as the logarithmic interconnect does it: in each cycle,
 * each bank serves one of the requests addressed to it, chosen round-robin among
 * the requesters (the cores, then the DMA and accelerator ports); the others try
 * again in the next cycle.
 *
 * Harts are simulated one slice at a time, so when a core issues an access the
 * other requesters of that cycle may not have run yet. Requests are therefore
 * queued (per hart, in program order, as the cycle the hart would issue them
 * without any bank wait since its last arbitrated access) and arbitrated later,
 * cycle by cycle, up to a cycle no requester can still reach
 * (iss_tcdm_resolve): the scheduler's slowest running clock, the next pending
 * event, or the issuing cycle of a hart that must know its exact time (an MMIO
 * access, a counter read, wfi). A wait found then is added to the hart's clock,
 * and so to every later access it issued. The outcome depends only on the
 * requests and their cycles, never on the order or length of the slices. */
#ifndef ISS_NATIVE_TCDM_H
#define ISS_NATIVE_TCDM_H
#include <stddef.h>
#include <stdint.h>

#include "code.h"

#define ISS_TCDM_REQUESTERS 64   /* cores + ports: one bit each in a bank's request mask */

struct iss_hart;
typedef struct iss_tcdm iss_tcdm;

iss_tcdm *iss_tcdm_new(uint32_t banks, uint32_t harts, uint32_t capacity);
void iss_tcdm_free(iss_tcdm *a);
/* Hart `id` (requester `id`) is `h`; its accesses go to iss_tcdm_request. */
void iss_tcdm_attach(iss_tcdm *a, uint32_t id, struct iss_hart *h);
/* Hart `h` issues an access to `bank` at cycle `t` (its clock, waits arbitrated so
 * far included) from the instruction at code slot `pc_index` (ISS_NO_SLOT: none). */
void iss_tcdm_request(iss_tcdm *a, struct iss_hart *h, uint64_t t, uint32_t bank, uint32_t pc_index);
/* Port `port` (requester harts + port) moves TCDM word `words[i]` at cycle
 * `cycles[i]`; a word that loses arbitration moves to the next cycle. */
void iss_tcdm_port_words(iss_tcdm *a, uint32_t port, const uint32_t *words, const uint64_t *cycles, uint32_t n);
/* Arbitrate every cycle below `upto` (UINT64_MAX: every queued request). */
void iss_tcdm_resolve(iss_tcdm *a, uint64_t upto);
/* Counters: [0] requests that arrived for a cycle already arbitrated (a bug if
 * not 0), [1] requests dropped because a hart's queue was full, [2] the cycle
 * below which all is arbitrated, [3] port words queued and not arbitrated yet. */
void iss_tcdm_counters(const iss_tcdm *a, uint64_t out[4]);
/* Views (an instruction trace) record a hart's clock without the waits not yet
 * arbitrated (its clock minus stall_tcdm: the same time base as the queue); with
 * logging on, every access that waited is kept, (its queued t, its wait), so
 * such a time converts to the exact cycle afterwards (iss/timing/tcdm.py). */
void iss_tcdm_log_waits(iss_tcdm *a, uint32_t on);
size_t iss_tcdm_wait_log(const iss_tcdm *a, uint32_t hart, const uint64_t **t, const uint32_t **w);
/* Cycles port `port`'s words waited in all. */
uint64_t iss_tcdm_port_wait(const iss_tcdm *a, uint32_t port);

#endif
