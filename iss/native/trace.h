/* Instruction trace and function timeline: C hooks registered only while a trace
 * or a timeline is requested (iss/trace/native.py puts them on the engines), so an
 * untraced run has no hook of theirs and pays nothing.
 *
 * Instruction trace: a UC_HOOK_CODE over the code image. At each instruction it
 * completes the previous instruction's record (reads the register it wrote, now
 * that it has executed) and opens one for this instruction (PC, cycle, the memory
 * address of a CORE-V load/store computed from its registers). A UC_HOOK_MEM_READ/
 * WRITE hook puts the address of a standard load/store into the open record.
 * Records go to a buffer in the tracer; a full buffer is written with fwrite to the
 * tracer's own file (one file per hart), so the engine never stops for tracing and
 * a crash loses nothing flushed; iss_trace_finish flushes the rest (Python calls
 * it in a finally).
 *
 * Timeline: a UC_HOOK_BLOCK (registered after the cycle-charging block hook) that
 * looks up the function of the block's first instruction in a per-halfword id
 * table and appends (cycle, instret, function id) when it differs from the
 * current one, and also every `sample_period` cycles, so busy/stalled time can be
 * plotted without a record per block.
 *
 * Both file formats are little-endian arrays of the records below (mirrored by
 * iss/trace/native.py:INSN_DTYPE and SAMPLE_DTYPE). */
#ifndef ISS_NATIVE_TRACE_H
#define ISS_NATIVE_TRACE_H
#include <stdio.h>
#include "hart.h"

/* One executed instruction (24 bytes). `cycle` is the hart's clock when the
 * instruction started. */
typedef struct iss_trace_rec {
    uint64_t cycle;
    uint32_t pc;
    uint32_t value;   /* the written register's value after the instruction (flags & VALUE) */
    uint32_t addr;    /* memory address accessed (flags & MEM) */
    uint8_t hart;
    uint8_t reg;      /* the register written (0: none) */
    uint8_t flags;    /* enum iss_trace_flag */
    uint8_t size;     /* bytes accessed */
} iss_trace_rec;

enum iss_trace_flag {
    ISS_TF_MEM = 1,      /* addr is valid */
    ISS_TF_STORE = 2,    /* the access is a store */
    ISS_TF_VALUE = 4,    /* value is valid */
    ISS_TF_RETRY = 8,    /* this attempt did not complete: the hart slept on the access
                            and executed the instruction again on wake (next record) */
    ISS_TF_UNRETIRED = 16, /* the run ended at this instruction before it retired (the
                            hart asleep on its access, the store that ended the
                            simulation, a fault) */
};

/* Per halfword of the code image: what the trace hook needs about the instruction
 * starting there (8 bytes; built by iss/trace/native.py from the decode table). */
typedef struct iss_trace_meta {
    uint8_t reg;      /* register the instruction writes (0: none) */
    uint8_t mem;      /* enum iss_trace_mem: how a CORE-V load/store forms its address */
    uint8_t ra;       /* base register */
    uint8_t rb;       /* offset register (ISS_TM_RR) */
    int32_t imm;      /* offset (ISS_TM_IMM) */
} iss_trace_meta;

/* iss_trace_meta.mem: bits 0-1 how the hook computes the address (a standard
 * load/store's comes from the memory hook instead), bit 2 the instruction accesses
 * memory at all, bits 4-6 the access size, bit 7 a store. */
enum iss_trace_mem {
    ISS_TM_NONE = 0,     /* no address to compute */
    ISS_TM_BASE = 1,     /* post-increment forms: the access is at ra */
    ISS_TM_RR = 2,       /* register-register: ra + rb */
    ISS_TM_IMM = 3,      /* ra + imm (cv.elw) */
    ISS_TM_ACCESS = 4,
    ISS_TM_STORE = 0x80,
};
#define ISS_TM_MODE(m) ((m) & 3)
#define ISS_TM_SIZE(m) (((m) >> 4) & 7)

/* One timeline record (24 bytes), at the start of a block at `pc`: the hart
 * entered function `func` there (bit 0 of pc_kind clear), or a periodic sample
 * (bit 0 set; func = the current function). */
typedef struct iss_sample_rec {
    uint64_t cycle;
    uint64_t instret;     /* instructions retired before the block */
    uint32_t func;
    uint32_t pc_kind;     /* block pc | kind (instructions are 2-byte aligned) */
} iss_sample_rec;

#define ISS_TRACE_BUF 4096

typedef struct iss_tracer {
    iss_hart *hart;
    uint32_t hart_id;
    uint32_t error;                  /* nonzero after a failed write (errno) */
    const iss_trace_meta *meta;      /* instruction trace: per-halfword table */
    const uint32_t *func_id;         /* timeline: per-halfword function id (0: unknown) */
    uint64_t window_start;           /* instruction records kept for cycle in [start, end) */
    uint64_t window_end;
    uint64_t sample_period;          /* timeline: a sample at least every this many cycles */
    uint64_t next_sample;
    uint32_t cur_func;               /* timeline: current function id (~0: none yet) */
    uint32_t has_open;               /* `open` holds an instruction not yet completed */
    uint64_t records;                /* instruction records written so far */
    uint64_t samples;                /* timeline records written so far */
    FILE *insn_out;
    FILE *sample_out;
    iss_trace_rec open;
    uint32_t n_insn;
    uint32_t n_sample;
    iss_trace_rec insn_buf[ISS_TRACE_BUF];
    iss_sample_rec sample_buf[ISS_TRACE_BUF];
} iss_tracer;

size_t iss_tracer_size(void);
/* Open the output files (NULL: that stream is off). Returns 0, or errno. */
int iss_trace_open(iss_tracer *t, const char *insn_path, const char *sample_path);
/* Write the open record (marked ISS_TF_UNRETIRED: no instruction followed it) and
 * every buffered record, and close the files. Safe to call twice. */
void iss_trace_finish(uc_engine *uc, iss_tracer *t);

/* The hart stopped before the instruction at `pc` after this hook saw it (an exact
 * interrupt boundary, iss_cut_hook): its open record is dropped, it did not run. */
void iss_trace_forget(iss_tracer *t, uint32_t pc);
void iss_trace_code_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);
void iss_trace_mem_hook(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
                        void *user_data);
void iss_timeline_block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data);

#endif
