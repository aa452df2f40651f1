/* Instruction trace and function timeline hooks: see trace.h for the design. */
#include <errno.h>
#include <string.h>
#include <unicorn/riscv.h>
#include "trace.h"
#include "corev.h"

size_t iss_tracer_size(void) { return sizeof(iss_tracer); }

int iss_trace_open(iss_tracer *t, const char *insn_path, const char *sample_path)
{
    t->n_insn = t->n_sample = 0;
    t->has_open = 0;
    t->cur_func = 0xFFFFFFFFu;
    t->insn_out = t->sample_out = NULL;
    if (insn_path && !(t->insn_out = fopen(insn_path, "wb")))
        return errno ? errno : EIO;
    if (sample_path && !(t->sample_out = fopen(sample_path, "wb"))) {
        int e = errno ? errno : EIO;
        fclose(t->insn_out);
        t->insn_out = NULL;
        return e;
    }
    return 0;
}

static void flush_insn(iss_tracer *t)
{
    if (t->n_insn && t->insn_out) {
        if (fwrite(t->insn_buf, sizeof(iss_trace_rec), t->n_insn, t->insn_out) != t->n_insn && !t->error)
            t->error = errno ? (uint32_t)errno : EIO;
        t->records += t->n_insn;
    }
    t->n_insn = 0;
}

static void flush_samples(iss_tracer *t)
{
    if (t->n_sample && t->sample_out) {
        if (fwrite(t->sample_buf, sizeof(iss_sample_rec), t->n_sample, t->sample_out) != t->n_sample &&
            !t->error)
            t->error = errno ? (uint32_t)errno : EIO;
        t->samples += t->n_sample;
    }
    t->n_sample = 0;
}

/* The hart's clock when the instruction at pc starts: the cycle-charging block hook
 * charged the whole block [block_start, block_end) when it began, so subtract the
 * cost of the instructions from pc to the block's end. */
static uint64_t cycle_at(const iss_hart *h, uint32_t pc)
{
    uint32_t n;
    if (pc >= h->block_start && pc < h->block_end) {
        uint64_t rest = iss_span(h, pc, h->block_end, &n);
        return h->cycles >= rest ? h->cycles - rest : 0;
    }
    return h->cycles;
}

static uint32_t read_x(uc_engine *uc, unsigned r)
{
    uint64_t v = 0;
    if (r)
        ISS_UC.reg_read(uc, UC_RISCV_REG_X0 + (int)r, &v);
    return (uint32_t)v;
}

/* Complete the open record now that its instruction has executed. */
static void close_open(uc_engine *uc, iss_tracer *t)
{
    iss_trace_rec *r = &t->open;
    if (r->reg) {
        r->value = read_x(uc, r->reg);
        r->flags |= ISS_TF_VALUE;
    }
    t->insn_buf[t->n_insn++] = *r;
    t->has_open = 0;
    if (t->n_insn == ISS_TRACE_BUF)
        flush_insn(t);
}

/* The instruction just after a hardware-loop body passes the code hooks, but when
 * the loop jumps back (iss_hwloop_hook) it does not run: the next instruction is
 * then that loop's start, and the loop is still counting. */
static int hwloop_jumped(const iss_hart *h, uint32_t open_pc, uint32_t pc)
{
    const iss_isa *s = (const iss_isa *)h->isa;
    if (!s)
        return 0;
    for (int l = 0; l < 2; l++)
        if (s->lp_count[l] && s->lp_end[l] == open_pc && s->lp_start[l] == pc)
            return 1;
    return 0;
}

void iss_trace_code_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    iss_tracer *t = (iss_tracer *)user_data;
    uint32_t pc = (uint32_t)address;
    uint32_t i;
    const iss_trace_meta *m = iss_code_insn(&t->hart->code, pc, &i) ? &t->meta[i] : NULL;
    if (t->has_open) {
        if (t->open.pc == pc && m && (m->mem & ISS_TM_ACCESS)) {
            /* The same load/store again right after itself: the first attempt put
             * the hart to sleep (MMIO wait, cv.elw) and this is its retry. */
            t->open.flags = (uint8_t)((t->open.flags & ~ISS_TF_VALUE) | ISS_TF_RETRY);
            t->open.reg = 0;
        }
        if (hwloop_jumped(t->hart, t->open.pc, pc))
            t->has_open = 0;   /* hooked, but the loop jumped back before it ran */
        else
            close_open(uc, t);
    }
    /* Without the TCDM waits not arbitrated yet: converted to the exact cycle
     * when the run ends (iss_tcdm_wait_log). */
    uint64_t cycle = cycle_at(t->hart, pc) - t->hart->stall_tcdm;
    if (cycle < t->window_start || cycle >= t->window_end)
        return;
    iss_trace_rec *r = &t->open;
    r->cycle = cycle;
    r->pc = pc;
    r->value = 0;
    r->addr = 0;
    r->hart = (uint8_t)t->hart_id;
    r->reg = m ? m->reg : 0;
    r->flags = 0;
    r->size = 0;
    if (m && ISS_TM_MODE(m->mem)) {
        uint32_t a = read_x(uc, m->ra);
        if (ISS_TM_MODE(m->mem) == ISS_TM_RR)
            a += read_x(uc, m->rb);
        else if (ISS_TM_MODE(m->mem) == ISS_TM_IMM)
            a += (uint32_t)m->imm;
        r->addr = a;
        r->size = (uint8_t)ISS_TM_SIZE(m->mem);
        r->flags = (uint8_t)(ISS_TF_MEM | ((m->mem & ISS_TM_STORE) ? ISS_TF_STORE : 0));
    }
    t->has_open = 1;
}

void iss_trace_forget(iss_tracer *t, uint32_t pc)
{
    if (t->has_open && t->open.pc == pc)
        t->has_open = 0;
}

void iss_trace_mem_hook(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
                        void *user_data)
{
    iss_tracer *t = (iss_tracer *)user_data;
    if (!t->has_open || (t->open.flags & ISS_TF_MEM))
        return;     /* the first access of an instruction is the one it names */
    t->open.addr = (uint32_t)address;
    t->open.size = (uint8_t)size;
    t->open.flags |= (uint8_t)(ISS_TF_MEM | (type == UC_MEM_WRITE ? ISS_TF_STORE : 0));
}

static void add_sample(iss_tracer *t, uint64_t cycle, uint64_t instret, uint32_t func, uint32_t pc_kind)
{
    iss_sample_rec *s = &t->sample_buf[t->n_sample++];
    s->cycle = cycle;
    s->instret = instret;
    s->func = func;
    s->pc_kind = pc_kind;
    if (t->n_sample == ISS_TRACE_BUF)
        flush_samples(t);
}

void iss_timeline_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    iss_tracer *t = (iss_tracer *)user_data;
    const iss_hart *h = t->hart;
    uint32_t pc = (uint32_t)address;
    uint32_t i;
    uint32_t f = iss_code_insn(&h->code, pc, &i) ? t->func_id[i] : 0;
    /* The block was just charged: the state before it is the block's start. */
    uint64_t cycle = cycle_at(h, pc) - h->stall_tcdm;   /* as in iss_trace_code_hook */
    uint64_t instret = h->instret;
    if (pc == h->block_start && h->block_end > pc) {
        uint32_t n;
        iss_span(h, pc, h->block_end, &n);
        instret -= n;
    }
    if (f != t->cur_func) {
        t->cur_func = f;
        add_sample(t, cycle, instret, f, pc & ~1u);
        t->next_sample = cycle + t->sample_period;
    } else if (cycle >= t->next_sample) {
        add_sample(t, cycle, instret, f, pc | 1u);
        t->next_sample = cycle + t->sample_period;
    }
}

void iss_trace_finish(uc_engine *uc, iss_tracer *t)
{
    if (t->has_open) {
        t->open.flags = (uint8_t)((t->open.flags & ~ISS_TF_VALUE) | ISS_TF_UNRETIRED);
        t->open.reg = 0;
        close_open(uc, t);
    }
    flush_insn(t);
    flush_samples(t);
    if (t->insn_out && fclose(t->insn_out) != 0 && !t->error)
        t->error = errno ? (uint32_t)errno : EIO;
    if (t->sample_out && fclose(t->sample_out) != 0 && !t->error)
        t->error = errno ? (uint32_t)errno : EIO;
    t->insn_out = t->sample_out = NULL;
}
