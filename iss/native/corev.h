/* CORE-V executor: the semantics of every CORE-V v2 instruction (one small function
 * each, in corev.c), run from Unicorn's UC_HOOK_INTR on the instructions Unicorn does
 * not know, plus the hardware-loop state and its end-of-loop code hooks. From the
 * trapping instruction on it also runs the standard RV32IMC instructions that follow
 * (a chain, see chain() in corev.c) until one Unicorn must run.
 *
 * Decoding is done in Python (iss/isa/decode.py:predecode) into a table of
 * `struct iss_insn`, one per halfword of the code image; op ids come from
 * corev_ops.h, generated from the same Python table (python -m iss.isa.gen). */
#ifndef ISS_NATIVE_COREV_H
#define ISS_NATIVE_COREV_H
#include "hart.h"
#include "corev_ops.h"

/* Mirrors iss/isa/decode.py:PREDECODE_DTYPE (16 bytes). */
typedef struct iss_insn {
    uint16_t op;      /* enum iss_op; 0 = not a valid instruction */
    uint8_t len;      /* 2 or 4 */
    uint8_t rd;       /* hardware loops: the loop index L */
    uint8_t rs1;
    uint8_t rs2;
    uint8_t rs3;      /* register-offset stores: the offset register (bits 11:7) */
    uint8_t cycles;   /* base cost */
    int32_t imm;      /* sign/zero extended as the format defines */
    int32_t imm2;     /* second immediate (Is2, branch offset, uimmS) */
} iss_insn;

/* Why an ISS_STOP_SLOW stop happened (iss_isa.slow_kind). The instruction was NOT
 * executed and its cost was refunded; Python (iss.isa.Isa.slow) finishes the job. */
enum iss_slow {
    ISS_SLOW_NONE = 0,
    ISS_SLOW_ELW = 1,       /* cv.elw: a blocking event-unit load done by the Python hart */
    ISS_SLOW_HWLOOP = 2,    /* a loop end at pending_hook has no code hook yet: add it,
                               flush translated blocks, resume at stop_pc */
    ISS_SLOW_DECODE = 3,    /* custom instruction outside the pre-decoded image */
};

/* Per-hart state owned by the executor (iss_hart.isa points here). Allocated and
 * kept alive by Python (iss/isa/__init__.py:IsaState mirrors it; tests/test_native_layout.py checks). */
typedef struct iss_isa {
    const iss_insn *tab;      /* pre-decoded entries, one per halfword of the hart's code map */
    uint32_t n;               /* number of entries */
    uint32_t lp_start[2];
    uint32_t lp_end[2];
    uint32_t lp_count[2];
    uint32_t slow_kind;       /* enum iss_slow of the last ISS_STOP_SLOW */
    uint32_t pending_hook;    /* ISS_SLOW_HWLOOP: loop end address that needs a hook */
    uint64_t executed;        /* custom instructions executed by this executor */
    uint32_t n_hooked;
    uint32_t cap_hooked;
    uint32_t *hooked;         /* loop end addresses with a code hook, sorted (n_hooked of
                                 cap_hooked; the buffer is Python's, grown when full) */
} iss_isa;

void iss_intr_hook(uc_engine *uc, uint32_t intno, void *user_data);
void iss_hwloop_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);

/* Execute one pre-decoded CORE-V instruction at pc (outside a hook too: Python uses
 * it for instructions outside the image). Returns 0 when done (PC set to the next
 * instruction, hardware loops applied), 1 when it stopped (hart.stop_reason set). */
int iss_corev_exec(uc_engine *uc, iss_hart *h, const iss_insn *in, uint32_t pc);
/* Writes rd and advances PC past a cv.elw that Python completed. */
void iss_corev_complete_elw(uc_engine *uc, iss_hart *h, uint32_t pc, uint32_t rd, uint32_t value);
int iss_corev_has_semantics(int op);
/* Whether reaching `a` (the instruction there not run yet) jumps back to a
 * hardware loop's start (see hwloop_end in corev.c). */
int iss_hwloop_jumps_back(const iss_hart *h, uint32_t a);
size_t iss_corev_state_size(void);
/* Records a hooked loop end; 0 when the buffer is full (Python grows it and retries). */
int iss_corev_mark_hooked(iss_hart *h, uint32_t address);

#endif
