#include "sched.h"

static inline uint64_t next_cycle(const iss_hart *h)
{
    return h->ready_at > h->cycles ? h->ready_at : h->cycles;
}

int iss_sched_run(iss_sched *s)
{
    s->event = UINT64_MAX;
    for (uint32_t done = 0; done < s->max_slices; done++) {
        iss_hart *h = 0;
        uint32_t id = 0;
        uint64_t now = 0;
        for (uint32_t k = 0; k < s->n; k++) {
            if (!(s->running >> k & 1))
                continue;
            uint64_t c = next_cycle(s->harts[k]);
            if (!h || c < now) {
                h = s->harts[k];
                id = k;
                now = c;
            }
        }
        if (!h)
            return ISS_SCHED_PYTHON;
        if (s->next_event <= now) {
            s->event = now;
            return ISS_SCHED_PYTHON;
        }
        if (!(s->native_ok >> id & 1) || (s->max_cycles && now >= s->max_cycles))
            return ISS_SCHED_PYTHON;
        iss_tcdm_resolve(s->arb, now);
        uint64_t budget = now + s->quantum;
        if (s->next_event < budget)
            budget = s->next_event;
        if (s->max_cycles && s->max_cycles < budget)
            budget = s->max_cycles;
        h->budget = budget;
        h->stop_reason = ISS_STOP_NONE;
        h->io_stop = 0;
        h->ready_at = 0;
        s->touched = 0;
        s->last = id;
        s->blocks = h->recent_pos;
        s->err = ISS_UC.emu_start(s->ucs[id], h->pc, 0, 0, 0);
        if (h->cycles > s->time)
            s->time = h->cycles;
        s->slices++;
        if (s->err != UC_ERR_OK || s->touched || h->stop_reason != ISS_STOP_BUDGET)
            return ISS_SCHED_FINISH;
        h->pc = h->stop_pc;
    }
    return ISS_SCHED_PYTHON;
}
