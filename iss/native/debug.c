/* Debugger support (iss/gdb): watchpoints. While at least one watchpoint is set,
 * this UC_HOOK_CODE runs before every instruction of a hart (nothing is installed
 * otherwise). It computes the address of the instruction's data access from the
 * per-halfword access table (iss_trace_meta, built in Python for standard and
 * CORE-V loads/stores alike) and stops the engine before an access that touches a
 * watched range: the access has not happened (no peripheral side effect, memory
 * unchanged), which is where GDB expects a RISC-V watchpoint to stop. */
#include "hart.h"
#include "trace.h"

#define ISS_DEBUG_WATCH_MAX 32
#define ISS_DEBUG_NO_PC 0xFFFFFFFFu

typedef struct iss_debug_watch {
    uint32_t lo, hi;     /* [lo, hi) */
    uint32_t kinds;      /* 1: stores, 2: loads */
} iss_debug_watch;

typedef struct iss_debug {
    uint32_t stopped;    /* set when this hook stopped the engine (Python clears it) */
    uint32_t pc;         /* the instruction it stopped before */
    uint32_t hit_addr;   /* the data address of the access */
    uint32_t hit_index;  /* which watch[] */
    uint32_t skip_pc;    /* the first instruction after a resume runs unchecked */
    iss_code_map code;   /* the hart's (code.h): meta has an entry per halfword of it */
    uint32_t n_watch;
    const iss_trace_meta *meta;
    iss_debug_watch watch[ISS_DEBUG_WATCH_MAX];
} iss_debug;

static uint32_t reg_x(uc_engine *uc, uint32_t n)
{
    uint32_t v = 0;
    if (n)
        ISS_UC.reg_read(uc, UC_RISCV_REG_X0 + (int)n, &v);
    return v;
}

void iss_debug_code_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)size;
    iss_debug *d = (iss_debug *)user_data;
    uint32_t pc = (uint32_t)address, skip = d->skip_pc;
    d->skip_pc = ISS_DEBUG_NO_PC;
    if (pc == skip)
        return;
    uint32_t i;
    if (!iss_code_insn(&d->code, pc, &i))
        return;
    const iss_trace_meta *m = &d->meta[i];
    if (!(m->mem & ISS_TM_ACCESS))
        return;
    uint32_t a = reg_x(uc, m->ra);
    if (ISS_TM_MODE(m->mem) == ISS_TM_RR)
        a += reg_x(uc, m->rb);
    else if (ISS_TM_MODE(m->mem) == ISS_TM_IMM)
        a += (uint32_t)m->imm;
    uint32_t n = ISS_TM_SIZE(m->mem), kind = (m->mem & ISS_TM_STORE) ? 1u : 2u;
    for (uint32_t w = 0; w < d->n_watch; w++) {
        const iss_debug_watch *x = &d->watch[w];
        if ((x->kinds & kind) && a < x->hi && a + n > x->lo) {
            d->stopped = 1;
            d->pc = pc;
            d->hit_addr = a;
            d->hit_index = w;
            ISS_UC.emu_stop(uc);
            return;
        }
    }
}
