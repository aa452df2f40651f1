/* CORE-V v2 semantics (CV32E40P user manual, "CORE-V ISA extensions"), one small
 * function per instruction, and the hardware loops. See corev.h. */
#include <string.h>
#include "corev.h"

/* Registers of a chain of instructions executed back to back: all read from the
 * engine when it starts (a chain runs thousands of instructions; a register
 * access is then one load, no check), the changed ones written back once. */
typedef struct regcache {
    uint32_t v[32];
    uint32_t dirty;
} regcache;

typedef struct cx {
    uc_engine *uc;
    iss_hart *h;
    iss_isa *s;
    const iss_insn *in;
    uint32_t pc;
    uint32_t slot;    /* pc's code slot (ISS_NO_SLOT: outside the code map) */
    uint32_t npc;     /* next PC; semantics change it for taken branches */
    int jumped;       /* a taken branch: no end-of-loop check */
    regcache *rc;     /* NULL: registers go straight to the engine */
    /* In a chain, instructions that follow one another in the code form a run,
     * charged as one block when it ends (commit_run), as the block hook charges
     * a translated block: the chain's view of the hart is exact whenever
     * anything else can look at it. run_insns 0: not in a run (the trapping
     * instruction is in Unicorn's block). */
    uint32_t run_pc, run_slot;            /* its first instruction */
    uint32_t run_end_pc;                  /* just after its last one so far (in run_pc's code region) */
    uint32_t run_cycles, run_insns;       /* their static cycles and count, this one's included */
} cx;

typedef int (*sem_fn)(cx *c);   /* 0: done, 1: stopped the engine */
/* An instruction's semantics: inlined into the chain's switch (dispatch), and
 * kept out of line too for the SEM table. */
#define SEM_FN static inline __attribute__((always_inline)) int

/* ------------------------------------------------------------------ helpers */

static inline uint32_t R(cx *c, unsigned r)
{
    uint64_t v = 0;
    if (c->rc)
        return c->rc->v[r];      /* all loaded when the chain started; v[0] stays 0 */
    if (!r)
        return 0;
    ISS_UC.reg_read(c->uc, UC_RISCV_REG_X0 + (int)r, &v);
    return (uint32_t)v;
}

static inline void W(cx *c, unsigned r, uint32_t v)
{
    if (!r)
        return;
    if (c->rc) {
        c->rc->v[r] = v;
        c->rc->dirty |= 1u << r;
        return;
    }
    uint64_t x = v;
    ISS_UC.reg_write(c->uc, UC_RISCV_REG_X0 + (int)r, &x);
}

/* The run so far is charged to the hart as the block [run_pc, run_end_pc) that
 * started at block_start_cycles (what iss_charge_insn does per instruction, once
 * per run), and the next instruction starts a new one. */
static inline void commit_run(cx *c)
{
    iss_hart *h = c->h;
    if (!c->run_insns)
        return;
    h->cycles += c->run_cycles;
    h->instret += c->run_insns;
    iss_count_executed(h, c->run_slot, c->run_slot + ((c->run_end_pc - c->run_pc) >> 1), 1);
    iss_ran_own_block(h, c->run_pc, c->run_end_pc);
    c->run_insns = 0;
    c->run_cycles = 0;
    c->run_end_pc = 1;       /* (odd: no instruction continues it) */
}

/* Charge the chain's run and write its registers back to the engine (before
 * anything outside the executor can look at them). This and the other ways out
 * of an instruction (stop, slow, io_stopped) are cold: the compiler then keeps
 * the chain's loop state in registers and spills around these calls instead (3%
 * fewer host instructions per simulated one). */
__attribute__((cold, noinline)) static void flush(cx *c)
{
    commit_run(c);
    regcache *rc = c->rc;
    if (!rc || !rc->dirty)
        return;
    for (unsigned r = 1; r < 32; r++)
        if (rc->dirty >> r & 1) {
            uint64_t x = rc->v[r];
            ISS_UC.reg_write(c->uc, UC_RISCV_REG_X0 + (int)r, &x);
        }
    rc->dirty = 0;
}

static inline void set_pc(uc_engine *uc, uint32_t pc)
{
    uint64_t v = pc;
    ISS_UC.reg_write(uc, UC_RISCV_REG_PC, &v);
}

static inline int32_t sx16(uint32_t v) { return (int32_t)(int16_t)(v & 0xFFFF); }
static inline int32_t sx8(uint32_t v) { return (int32_t)(int8_t)(v & 0xFF); }
static inline uint32_t mask_bits(unsigned n) { return n >= 32 ? 0xFFFFFFFFu : ((1u << n) - 1); }
static inline uint32_t sxn(uint32_t v, unsigned n)   /* sign-extend the low n bits */
{
    if (n >= 32) return v;
    uint32_t m = 1u << (n - 1);
    v &= mask_bits(n);
    return (v ^ m) - m;
}

__attribute__((cold, noinline)) static void stop(cx *c, uint32_t reason, uint32_t info)
{
    flush(c);
    c->h->stop_reason = reason;
    c->h->stop_pc = c->pc;
    c->h->stop_info = info;
    set_pc(c->uc, c->pc);
    ISS_UC.emu_stop(c->uc);
}

/* Stop so that Python finishes the instruction; it is neither executed nor
 * charged: the block it is in was charged up to its end when it started (the
 * instruction starts the block when chained, or ends Unicorn's), so it is given
 * back from here, whether or not it began the block. */
__attribute__((cold, noinline)) static int slow(cx *c, uint32_t kind, uint32_t word)
{
    c->s->slow_kind = kind;
    commit_run(c);
    iss_cut_block(c->h, c->pc);
    stop(c, ISS_STOP_SLOW, word);
    return 1;
}

/* Memory: direct access to the TCDM/L2 host buffers, else through Unicorn (which
 * reaches mmio_map callbacks); an address nobody maps stops with ISS_STOP_FAULT. */
static inline __attribute__((always_inline)) uint8_t *direct(iss_hart *h, uint32_t a, uint32_t n)
{
    uint32_t o = a - h->tcdm_base;
    if (h->tcdm && o < h->tcdm_size && h->tcdm_size - o >= n)
        return h->tcdm + o;
    o = a - h->l2_base;
    if (h->l2 && o < h->l2_size && h->l2_size - o >= n)
        return h->l2 + o;
    return NULL;
}

/* An MMIO callback stopped the engine during this instruction's access (the hart
 * sleeps on it, or the program ended): the instruction is left undone, PC on it,
 * and the Python hart retries it on wake. */
__attribute__((cold, noinline)) static int io_stopped(cx *c)
{
    if (!c->h->io_stop)
        return 0;
    flush(c);
    set_pc(c->uc, c->pc);
    return 1;
}

/* An access of an instruction in Unicorn's block (the one that trapped, once per
 * chain, or one executed alone): iss_mem_access_slot works out its place there. */
__attribute__((noinline)) static void announce_in_block(cx *c, uint32_t a, uint32_t n, int is_store)
{
    iss_mem_access_slot(c->h, c->pc, c->slot, a, n, is_store);
}

/* An access of the instruction: in a run, its static cycles before it there are
 * known. */
static inline __attribute__((always_inline)) void announce(cx *c, uint32_t a, uint32_t n, int is_store)
{
    if (__builtin_expect(c->run_insns != 0, 1))
        iss_mem_access_at(c->h, c->pc, c->slot, c->run_cycles - c->h->cost_at[c->slot], a, n, is_store);
    else
        announce_in_block(c, a, n, is_store);
}

/* The access is announced (iss_mem_access) before it is made: an MMIO callback
 * reads the access's PC and cycle. Inlined into each instruction, whose constant
 * size makes the copy a single move. */
static inline __attribute__((always_inline)) int ld(cx *c, uint32_t a, unsigned n, uint32_t *v)
{
    uint32_t x = 0;
    uint8_t *p = direct(c->h, a, n);
    announce(c, a, n, 0);
    if (p)
        memcpy(&x, p, n);
    else if ((flush(c), ISS_UC.mem_read(c->uc, a, &x, n) != UC_ERR_OK)) {
        stop(c, ISS_STOP_FAULT, a);
        return 1;
    } else if (io_stopped(c))
        return 1;
    *v = x;
    return 0;
}

static inline __attribute__((always_inline)) int st(cx *c, uint32_t a, unsigned n, uint32_t v)
{
    uint8_t *p = direct(c->h, a, n);
    announce(c, a, n, 1);
    if (p)
        memcpy(p, &v, n);
    else if ((flush(c), ISS_UC.mem_write(c->uc, a, &v, n) != UC_ERR_OK)) {
        stop(c, ISS_STOP_FAULT, a);
        return 1;
    } else if (io_stopped(c))
        return 1;
    return 0;
}

#define IN (c->in)
#define RS1 R(c, IN->rs1)
#define RS2 R(c, IN->rs2)
#define RD R(c, IN->rd)

/* ------------------------------------------------------------------ xcvmem */

static inline uint32_t ext_load(uint32_t v, unsigned n, int sign)
{
    if (n == 4) return v;
    return sign ? sxn(v, 8 * n) : (v & mask_bits(8 * n));
}

/* rd = Mem(rs1); rs1 += imm | rs2. With rd == rs1 the loaded value wins. */
#define LOAD_POST(fname, N, SIGN, INC)                                          \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        uint32_t a = RS1, inc = (INC), v;                                       \
        if (ld(c, a, N, &v)) return 1;                                          \
        W(c, IN->rs1, a + inc);                                                 \
        W(c, IN->rd, ext_load(v, N, SIGN));                                     \
        return 0;                                                               \
    }
#define LOAD_RR(fname, N, SIGN)                                                 \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        uint32_t v;                                                             \
        if (ld(c, RS1 + RS2, N, &v)) return 1;                                  \
        W(c, IN->rd, ext_load(v, N, SIGN));                                     \
        return 0;                                                               \
    }
/* Mem(rs1) = rs2; rs1 += imm | rs3 */
#define STORE_POST(fname, N, INC)                                               \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        uint32_t a = RS1, v = RS2, inc = (INC);                                 \
        if (st(c, a, N, v)) return 1;                                           \
        W(c, IN->rs1, a + inc);                                                 \
        return 0;                                                               \
    }
#define STORE_RR(fname, N)                                                      \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        return st(c, RS1 + R(c, IN->rs3), N, RS2);                              \
    }

LOAD_POST(cv_lb_ri_inc, 1, 1, (uint32_t)IN->imm)
LOAD_POST(cv_lbu_ri_inc, 1, 0, (uint32_t)IN->imm)
LOAD_POST(cv_lh_ri_inc, 2, 1, (uint32_t)IN->imm)
LOAD_POST(cv_lhu_ri_inc, 2, 0, (uint32_t)IN->imm)
LOAD_POST(cv_lw_ri_inc, 4, 0, (uint32_t)IN->imm)
LOAD_POST(cv_lb_rr_inc, 1, 1, RS2)
LOAD_POST(cv_lbu_rr_inc, 1, 0, RS2)
LOAD_POST(cv_lh_rr_inc, 2, 1, RS2)
LOAD_POST(cv_lhu_rr_inc, 2, 0, RS2)
LOAD_POST(cv_lw_rr_inc, 4, 0, RS2)
LOAD_RR(cv_lb_rr, 1, 1)
LOAD_RR(cv_lbu_rr, 1, 0)
LOAD_RR(cv_lh_rr, 2, 1)
LOAD_RR(cv_lhu_rr, 2, 0)
LOAD_RR(cv_lw_rr, 4, 0)
STORE_POST(cv_sb_ri_inc, 1, (uint32_t)IN->imm)
STORE_POST(cv_sh_ri_inc, 2, (uint32_t)IN->imm)
STORE_POST(cv_sw_ri_inc, 4, (uint32_t)IN->imm)
STORE_POST(cv_sb_rr_inc, 1, R(c, IN->rs3))
STORE_POST(cv_sh_rr_inc, 2, R(c, IN->rs3))
STORE_POST(cv_sw_rr_inc, 4, R(c, IN->rs3))
STORE_RR(cv_sb_rr, 1)
STORE_RR(cv_sh_rr, 2)
STORE_RR(cv_sw_rr, 4)

/* cv.elw: the event unit may put the core to sleep: the Python hart does it. */
SEM_FN cv_elw(cx *c) { return slow(c, ISS_SLOW_ELW, 0); }

/* ------------------------------------------------------------------ xcvbi */

SEM_FN cv_beqimm(cx *c)
{
    if ((int32_t)RS1 == IN->imm) {
        c->npc = c->pc + (uint32_t)IN->imm2;
        c->jumped = 1;
        iss_taken_branch(c->h, c->slot, c->npc);
    }
    return 0;
}

SEM_FN cv_bneimm(cx *c)
{
    if ((int32_t)RS1 != IN->imm) {
        c->npc = c->pc + (uint32_t)IN->imm2;
        c->jumped = 1;
        iss_taken_branch(c->h, c->slot, c->npc);
    }
    return 0;
}

/* ------------------------------------------------------------------ xcvbitmanip */

/* Field [min(is3+is2,31):is2] */
static inline unsigned fwidth(unsigned is3, unsigned is2)
{
    unsigned hi = is3 + is2 > 31 ? 31 : is3 + is2;
    return hi - is2 + 1;
}

static uint32_t bm_extract(uint32_t v, unsigned is3, unsigned is2, int sign)
{
    unsigned w = fwidth(is3, is2);
    uint32_t f = (v >> is2) & mask_bits(w);
    return sign ? sxn(f, w) : f;
}

static uint32_t bm_insert(uint32_t d, uint32_t v, unsigned is3, unsigned is2)
{
    uint32_t m = mask_bits(fwidth(is3, is2));
    return (d & ~(m << is2)) | ((v & m) << is2);
}

static uint32_t bm_clear(uint32_t v, unsigned is3, unsigned is2)
{
    return v & ~(mask_bits(fwidth(is3, is2)) << is2);
}

static uint32_t bm_set(uint32_t v, unsigned is3, unsigned is2)
{
    return v | (mask_bits(fwidth(is3, is2)) << is2);
}

/* Groups of is3+1 bits (is3 = 3 acts as 0) of (v << is2), reversed from the LSB. */
static uint32_t bm_bitrev(uint32_t v, unsigned is3, unsigned is2)
{
    unsigned g = (is3 & 3) == 3 ? 1 : (is3 & 3) + 1, n = 32 / g;
    uint32_t x = v << is2, out = 0;
    for (unsigned k = 0; k < n; k++)
        out |= ((x >> (32 - g * (k + 1))) & mask_bits(g)) << (g * k);
    return out;
}

SEM_FN cv_extract(cx *c) { W(c, IN->rd, bm_extract(RS1, IN->imm, IN->imm2, 1)); return 0; }
SEM_FN cv_extractu(cx *c) { W(c, IN->rd, bm_extract(RS1, IN->imm, IN->imm2, 0)); return 0; }
SEM_FN cv_insert(cx *c) { W(c, IN->rd, bm_insert(RD, RS1, IN->imm, IN->imm2)); return 0; }
SEM_FN cv_bclr(cx *c) { W(c, IN->rd, bm_clear(RS1, IN->imm, IN->imm2)); return 0; }
SEM_FN cv_bset(cx *c) { W(c, IN->rd, bm_set(RS1, IN->imm, IN->imm2)); return 0; }
SEM_FN cv_bitrev(cx *c) { W(c, IN->rd, bm_bitrev(RS1, IN->imm, IN->imm2)); return 0; }
#define B95(b) (((b) >> 5) & 31)
#define B40(b) ((b) & 31)
SEM_FN cv_extractr(cx *c) { uint32_t b = RS2; W(c, IN->rd, bm_extract(RS1, B95(b), B40(b), 1)); return 0; }
SEM_FN cv_extractur(cx *c) { uint32_t b = RS2; W(c, IN->rd, bm_extract(RS1, B95(b), B40(b), 0)); return 0; }
SEM_FN cv_insertr(cx *c) { uint32_t b = RS2; W(c, IN->rd, bm_insert(RD, RS1, B95(b), B40(b))); return 0; }
SEM_FN cv_bclrr(cx *c) { uint32_t b = RS2; W(c, IN->rd, bm_clear(RS1, B95(b), B40(b))); return 0; }
SEM_FN cv_bsetr(cx *c) { uint32_t b = RS2; W(c, IN->rd, bm_set(RS1, B95(b), B40(b))); return 0; }
SEM_FN cv_ror(cx *c)
{
    uint32_t a = RS1, s = RS2 & 31;
    W(c, IN->rd, s ? (a >> s) | (a << (32 - s)) : a);
    return 0;
}
SEM_FN cv_ff1(cx *c) { uint32_t a = RS1; W(c, IN->rd, a ? (uint32_t)__builtin_ctz(a) : 32); return 0; }
SEM_FN cv_fl1(cx *c) { uint32_t a = RS1; W(c, IN->rd, a ? 31 - (uint32_t)__builtin_clz(a) : 32); return 0; }
SEM_FN cv_clb(cx *c)
{
    uint32_t a = RS1, r;
    if (a == 0) r = 0;
    else {
        uint32_t x = (a & 0x80000000u) ? ~a : a;
        r = (x ? (uint32_t)__builtin_clz(x) : 32) - 1;
    }
    W(c, IN->rd, r);
    return 0;
}
SEM_FN cv_cnt(cx *c) { W(c, IN->rd, (uint32_t)__builtin_popcount(RS1)); return 0; }

/* ------------------------------------------------------------------ xcvalu */

SEM_FN cv_abs(cx *c) { int32_t a = (int32_t)RS1; W(c, IN->rd, a < 0 ? 0u - (uint32_t)a : (uint32_t)a); return 0; }
SEM_FN cv_sle(cx *c) { W(c, IN->rd, (int32_t)RS1 <= (int32_t)RS2); return 0; }
SEM_FN cv_sleu(cx *c) { W(c, IN->rd, RS1 <= RS2); return 0; }
SEM_FN cv_min(cx *c) { int32_t a = (int32_t)RS1, b = (int32_t)RS2; W(c, IN->rd, (uint32_t)(a < b ? a : b)); return 0; }
SEM_FN cv_minu(cx *c) { uint32_t a = RS1, b = RS2; W(c, IN->rd, a < b ? a : b); return 0; }
SEM_FN cv_max(cx *c) { int32_t a = (int32_t)RS1, b = (int32_t)RS2; W(c, IN->rd, (uint32_t)(a < b ? b : a)); return 0; }
SEM_FN cv_maxu(cx *c) { uint32_t a = RS1, b = RS2; W(c, IN->rd, a < b ? b : a); return 0; }
SEM_FN cv_exths(cx *c) { W(c, IN->rd, (uint32_t)sx16(RS1)); return 0; }
SEM_FN cv_exthz(cx *c) { W(c, IN->rd, RS1 & 0xFFFF); return 0; }
SEM_FN cv_extbs(cx *c) { W(c, IN->rd, (uint32_t)sx8(RS1)); return 0; }
SEM_FN cv_extbz(cx *c) { W(c, IN->rd, RS1 & 0xFF); return 0; }

static inline int32_t clip3(int32_t x, int32_t lo, int32_t hi)
{
    if (x <= lo) return lo;
    if (x >= hi) return hi;
    return x;
}
/* Is2 = 0: the range is [-1, 0] (clip) and [0, 0] (clipu). */
SEM_FN cv_clip(cx *c)
{
    unsigned n = (unsigned)IN->imm;
    int32_t lo = n ? -(int32_t)(1u << (n - 1)) : -1, hi = n ? (int32_t)((1u << (n - 1)) - 1) : 0;
    W(c, IN->rd, (uint32_t)clip3((int32_t)RS1, lo, hi));
    return 0;
}
SEM_FN cv_clipu(cx *c)
{
    unsigned n = (unsigned)IN->imm;
    int32_t hi = n ? (int32_t)((1u << (n - 1)) - 1) : 0;
    W(c, IN->rd, (uint32_t)clip3((int32_t)RS1, 0, hi));
    return 0;
}
SEM_FN cv_clipr(cx *c)
{
    int32_t x = (int32_t)RS1, b = (int32_t)RS2, lo = ~b;   /* -(rs2+1) */
    W(c, IN->rd, (uint32_t)(x <= lo ? lo : (x >= b ? b : x)));
    return 0;
}
SEM_FN cv_clipur(cx *c)
{
    int32_t x = (int32_t)RS1, b = (int32_t)RS2;
    W(c, IN->rd, (uint32_t)(x <= 0 ? 0 : (x >= b ? b : x)));
    return 0;
}

/* (a +/- b [+ 2^(n-1)]) >> n in 32-bit arithmetic; arithmetic or logical shift. */
static inline uint32_t norm(uint32_t v, unsigned n, int round, int arith)
{
    if (round && n) v += 1u << (n - 1);
    return arith ? (uint32_t)((int32_t)v >> n) : v >> n;
}
#define ADDSUB_N(fname, OP, ROUND, ARITH)                                                   \
    SEM_FN fname(cx *c) { W(c, IN->rd, norm(RS1 OP RS2, (unsigned)IN->imm, ROUND, ARITH)); return 0; }
#define ADDSUB_NR(fname, OP, ROUND, ARITH)                                                  \
    SEM_FN fname(cx *c) { W(c, IN->rd, norm(RD OP RS1, RS2 & 31, ROUND, ARITH)); return 0; }
ADDSUB_N(cv_addn, +, 0, 1)
ADDSUB_N(cv_addun, +, 0, 0)
ADDSUB_N(cv_addrn, +, 1, 1)
ADDSUB_N(cv_addurn, +, 1, 0)
ADDSUB_N(cv_subn, -, 0, 1)
ADDSUB_N(cv_subun, -, 0, 0)
ADDSUB_N(cv_subrn, -, 1, 1)
ADDSUB_N(cv_suburn, -, 1, 0)
ADDSUB_NR(cv_addnr, +, 0, 1)
ADDSUB_NR(cv_addunr, +, 0, 0)
ADDSUB_NR(cv_addrnr, +, 1, 1)
ADDSUB_NR(cv_addurnr, +, 1, 0)
ADDSUB_NR(cv_subnr, -, 0, 1)
ADDSUB_NR(cv_subunr, -, 0, 0)
ADDSUB_NR(cv_subrnr, -, 1, 1)
ADDSUB_NR(cv_suburnr, -, 1, 0)

/* ------------------------------------------------------------------ xcvmac */

SEM_FN cv_mac(cx *c) { W(c, IN->rd, RD + RS1 * RS2); return 0; }
SEM_FN cv_msu(cx *c) { W(c, IN->rd, RD - RS1 * RS2); return 0; }

/* 16x16 multiplies [+ rD] [+ 2^(Is3-1)] >> Is3, computed exactly (the multiplier's
 * intermediate is wider than 32 bits), result bits 31:0. HI selects bits 31:16. */
#define MUL16S(fname, HI, ACC, ROUND)                                                       \
    SEM_FN fname(cx *c)                                                                     \
    {                                                                                       \
        unsigned n = (unsigned)IN->imm;                                                     \
        uint32_t a = RS1, b = RS2;                                                          \
        int64_t p = (int64_t)sx16(HI ? a >> 16 : a) * sx16(HI ? b >> 16 : b);               \
        if (ACC) p += (int32_t)RD;                                                          \
        if (ROUND && n) p += (int64_t)1 << (n - 1);                                         \
        W(c, IN->rd, (uint32_t)(p >> n));                                                   \
        return 0;                                                                           \
    }
#define MUL16U(fname, HI, ACC, ROUND)                                                       \
    SEM_FN fname(cx *c)                                                                     \
    {                                                                                       \
        unsigned n = (unsigned)IN->imm;                                                     \
        uint32_t a = RS1, b = RS2;                                                          \
        uint64_t p = (uint64_t)((HI ? a >> 16 : a) & 0xFFFF) * ((HI ? b >> 16 : b) & 0xFFFF); \
        if (ACC) p += RD;                                                                   \
        if (ROUND && n) p += (uint64_t)1 << (n - 1);                                        \
        W(c, IN->rd, (uint32_t)(p >> n));                                                   \
        return 0;                                                                           \
    }
MUL16S(cv_mulsn, 0, 0, 0)
MUL16S(cv_mulhhsn, 1, 0, 0)
MUL16S(cv_mulsrn, 0, 0, 1)
MUL16S(cv_mulhhsrn, 1, 0, 1)
MUL16U(cv_mulun, 0, 0, 0)
MUL16U(cv_mulhhun, 1, 0, 0)
MUL16U(cv_mulurn, 0, 0, 1)
MUL16U(cv_mulhhurn, 1, 0, 1)
MUL16S(cv_macsn, 0, 1, 0)
MUL16S(cv_machhsn, 1, 1, 0)
MUL16S(cv_macsrn, 0, 1, 1)
MUL16S(cv_machhsrn, 1, 1, 1)
MUL16U(cv_macun, 0, 1, 0)
MUL16U(cv_machhun, 1, 1, 0)
MUL16U(cv_macurn, 0, 1, 1)
MUL16U(cv_machhurn, 1, 1, 1)

/* ------------------------------------------------------------------ xcvsimd */

#define EMASK(EB) ((EB) == 16 ? 0xFFFFu : 0xFFu)
#define SXE(u, EB) ((int32_t)((uint32_t)(u) << (32 - (EB))) >> (32 - (EB)))

/* Second operand: 0 vector (rs2), 1 scalar (rs2's low element replicated),
 * 2 immediate (replicated), 3 none. */
static inline uint32_t op2(cx *c, int mode, int eb)
{
    uint32_t v;
    if (mode == 0) return RS2;
    if (mode == 3) return 0;
    v = mode == 1 ? RS2 : (uint32_t)IN->imm;
    if (eb == 16) { v &= 0xFFFF; return v | (v << 16); }
    return (v & 0xFF) * 0x01010101u;
}

/* Element-wise: EXPR over x, y (signed elements), ux, uy (unsigned), EB (bits). */
#define SIMD_EW(fname, MODE, EB, EXPR)                                                      \
    SEM_FN fname(cx *c)                                                                     \
    {                                                                                       \
        uint32_t A = RS1, B = op2(c, MODE, EB), out = 0;                                    \
        const int EBITS = (EB);                                                             \
        (void)EBITS;                                                                        \
        for (int i = 0; i < 32 / (EB); i++) {                                               \
            uint32_t ux = (A >> (i * (EB))) & EMASK(EB), uy = (B >> (i * (EB))) & EMASK(EB); \
            int32_t x = SXE(ux, EB), y = SXE(uy, EB);                                       \
            (void)x; (void)y; (void)ux; (void)uy;                                           \
            out |= ((uint32_t)(EXPR) & EMASK(EB)) << (i * (EB));                            \
        }                                                                                   \
        W(c, IN->rd, out);                                                                  \
        return 0;                                                                           \
    }
#define SIMD6(base, EXPR)                                                                   \
    SIMD_EW(cv_##base##_h, 0, 16, EXPR)                                                     \
    SIMD_EW(cv_##base##_b, 0, 8, EXPR)                                                      \
    SIMD_EW(cv_##base##_sc_h, 1, 16, EXPR)                                                  \
    SIMD_EW(cv_##base##_sc_b, 1, 8, EXPR)                                                   \
    SIMD_EW(cv_##base##_sci_h, 2, 16, EXPR)                                                 \
    SIMD_EW(cv_##base##_sci_b, 2, 8, EXPR)

SIMD6(add, ux + uy)
SIMD6(sub, ux - uy)
SIMD6(avg, SXE((ux + uy) & EMASK(EBITS), EBITS) >> 1)
SIMD6(avgu, ((ux + uy) & EMASK(EBITS)) >> 1)
SIMD6(min, x < y ? x : y)
SIMD6(minu, ux < uy ? ux : uy)
SIMD6(max, x > y ? x : y)
SIMD6(maxu, ux > uy ? ux : uy)
SIMD6(srl, ux >> (uy & (EBITS - 1)))
SIMD6(sra, x >> (uy & (EBITS - 1)))
SIMD6(sll, ux << (uy & (EBITS - 1)))
SIMD6(or, ux | uy)
SIMD6(xor, ux ^ uy)
SIMD6(and, ux & uy)
SIMD6(cmpeq, 0u - (uint32_t)(x == y))
SIMD6(cmpne, 0u - (uint32_t)(x != y))
SIMD6(cmpgt, 0u - (uint32_t)(x > y))
SIMD6(cmpge, 0u - (uint32_t)(x >= y))
SIMD6(cmplt, 0u - (uint32_t)(x < y))
SIMD6(cmple, 0u - (uint32_t)(x <= y))
SIMD6(cmpgtu, 0u - (uint32_t)(ux > uy))
SIMD6(cmpgeu, 0u - (uint32_t)(ux >= uy))
SIMD6(cmpltu, 0u - (uint32_t)(ux < uy))
SIMD6(cmpleu, 0u - (uint32_t)(ux <= uy))
SIMD_EW(cv_abs_h, 3, 16, x < 0 ? -x : x)
SIMD_EW(cv_abs_b, 3, 8, x < 0 ? -x : x)
/* cv.add/sub.div{2,4,8}: ((a +/- b) & 0xFFFF) >>> {1,2,3} per half-word */
SIMD_EW(cv_add_div2, 0, 16, SXE((ux + uy) & 0xFFFF, 16) >> 1)
SIMD_EW(cv_add_div4, 0, 16, SXE((ux + uy) & 0xFFFF, 16) >> 2)
SIMD_EW(cv_add_div8, 0, 16, SXE((ux + uy) & 0xFFFF, 16) >> 3)
SIMD_EW(cv_sub_div2, 0, 16, SXE((ux - uy) & 0xFFFF, 16) >> 1)
SIMD_EW(cv_sub_div4, 0, 16, SXE((ux - uy) & 0xFFFF, 16) >> 2)
SIMD_EW(cv_sub_div8, 0, 16, SXE((ux - uy) & 0xFFFF, 16) >> 3)

/* Dot products: sum over elements of EXPR (32-bit wrap), [+ rD]. */
#define SIMD_DOT(fname, MODE, EB, ACC, EXPR)                                                \
    SEM_FN fname(cx *c)                                                                     \
    {                                                                                       \
        uint32_t A = RS1, B = op2(c, MODE, EB), sum = 0;                                    \
        for (int i = 0; i < 32 / (EB); i++) {                                               \
            uint32_t ux = (A >> (i * (EB))) & EMASK(EB), uy = (B >> (i * (EB))) & EMASK(EB); \
            int32_t x = SXE(ux, EB), y = SXE(uy, EB);                                       \
            (void)x; (void)y;                                                               \
            sum += (uint32_t)(EXPR);                                                        \
        }                                                                                   \
        if (ACC) sum += RD;                                                                 \
        W(c, IN->rd, sum);                                                                  \
        return 0;                                                                           \
    }
#define DOT6(base, ACC, EXPR)                                                               \
    SIMD_DOT(cv_##base##_h, 0, 16, ACC, EXPR)                                               \
    SIMD_DOT(cv_##base##_b, 0, 8, ACC, EXPR)                                                \
    SIMD_DOT(cv_##base##_sc_h, 1, 16, ACC, EXPR)                                            \
    SIMD_DOT(cv_##base##_sc_b, 1, 8, ACC, EXPR)                                             \
    SIMD_DOT(cv_##base##_sci_h, 2, 16, ACC, EXPR)                                           \
    SIMD_DOT(cv_##base##_sci_b, 2, 8, ACC, EXPR)
DOT6(dotup, 0, ux * uy)
DOT6(dotusp, 0, (int32_t)ux * y)
DOT6(dotsp, 0, x * y)
DOT6(sdotup, 1, ux * uy)
DOT6(sdotusp, 1, (int32_t)ux * y)
DOT6(sdotsp, 1, x * y)

static inline uint32_t half(uint32_t v, unsigned i) { return (v >> (16 * (i & 1))) & 0xFFFF; }
static inline uint32_t byte(uint32_t v, unsigned i) { return (v >> (8 * (i & 3))) & 0xFF; }

SEM_FN cv_extract_h(cx *c) { W(c, IN->rd, (uint32_t)sx16(half(RS1, IN->imm))); return 0; }
SEM_FN cv_extract_b(cx *c) { W(c, IN->rd, (uint32_t)sx8(byte(RS1, IN->imm))); return 0; }
SEM_FN cv_extractu_h(cx *c) { W(c, IN->rd, half(RS1, IN->imm)); return 0; }
SEM_FN cv_extractu_b(cx *c) { W(c, IN->rd, byte(RS1, IN->imm)); return 0; }
SEM_FN cv_insert_h(cx *c)
{
    unsigned sh = 16 * (IN->imm & 1);
    W(c, IN->rd, (RD & ~(0xFFFFu << sh)) | ((RS1 & 0xFFFF) << sh));
    return 0;
}
SEM_FN cv_insert_b(cx *c)
{
    unsigned sh = 8 * (IN->imm & 3);
    W(c, IN->rd, (RD & ~(0xFFu << sh)) | ((RS1 & 0xFF) << sh));
    return 0;
}
SEM_FN cv_shuffle_h(cx *c)
{
    uint32_t a = RS1, b = RS2;
    W(c, IN->rd, (half(a, b >> 16) << 16) | half(a, b));
    return 0;
}
SEM_FN cv_shuffle_sci_h(cx *c)
{
    uint32_t a = RS1, i = (uint32_t)IN->imm;
    W(c, IN->rd, (half(a, i >> 1) << 16) | half(a, i));
    return 0;
}
SEM_FN cv_shuffle_b(cx *c)
{
    uint32_t a = RS1, b = RS2, r = 0;
    for (unsigned i = 0; i < 4; i++)
        r |= byte(a, b >> (8 * i)) << (8 * i);
    W(c, IN->rd, r);
    return 0;
}
#define SHUFFLEI(fname, K)                                                                  \
    SEM_FN fname(cx *c)                                                                     \
    {                                                                                       \
        uint32_t a = RS1, i = (uint32_t)IN->imm;                                            \
        W(c, IN->rd, (byte(a, K) << 24) | (byte(a, i >> 4) << 16) | (byte(a, i >> 2) << 8) | byte(a, i)); \
        return 0;                                                                           \
    }
SHUFFLEI(cv_shufflei0_sci_b, 0)
SHUFFLEI(cv_shufflei1_sci_b, 1)
SHUFFLEI(cv_shufflei2_sci_b, 2)
SHUFFLEI(cv_shufflei3_sci_b, 3)
SEM_FN cv_shuffle2_h(cx *c)
{
    uint32_t a = RS1, b = RS2, d = RD;
    uint32_t hi = half((b >> 17) & 1 ? a : d, b >> 16), lo = half((b >> 1) & 1 ? a : d, b);
    W(c, IN->rd, (hi << 16) | lo);
    return 0;
}
SEM_FN cv_shuffle2_b(cx *c)
{
    uint32_t a = RS1, b = RS2, d = RD, r = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint32_t sel = b >> (8 * i);
        r |= byte((sel >> 2) & 1 ? a : d, sel) << (8 * i);
    }
    W(c, IN->rd, r);
    return 0;
}
SEM_FN cv_pack(cx *c) { uint32_t a = RS1, b = RS2; W(c, IN->rd, (a << 16) | (b & 0xFFFF)); return 0; }
SEM_FN cv_pack_h(cx *c) { uint32_t a = RS1, b = RS2; W(c, IN->rd, (a & 0xFFFF0000u) | (b >> 16)); return 0; }
SEM_FN cv_packhi_b(cx *c)
{
    uint32_t a = RS1, b = RS2;
    W(c, IN->rd, (RD & 0xFFFF) | ((a & 0xFF) << 24) | ((b & 0xFF) << 16));
    return 0;
}
SEM_FN cv_packlo_b(cx *c)
{
    uint32_t a = RS1, b = RS2;
    W(c, IN->rd, (RD & 0xFFFF0000u) | ((a & 0xFF) << 8) | (b & 0xFF));
    return 0;
}

/* Complex numbers {Re = [15:0], Im = [31:16]}. */
static int cplxmul(cx *c, int imag, unsigned shift)
{
    uint32_t a = RS1, b = RS2, d = RD;
    int64_t a0 = sx16(a), a1 = sx16(a >> 16), b0 = sx16(b), b1 = sx16(b >> 16);
    if (!imag) {
        uint32_t re = (uint32_t)((a0 * b0 - a1 * b1) >> shift) & 0xFFFF;
        W(c, IN->rd, (d & 0xFFFF0000u) | re);
    } else {
        uint32_t im = (uint32_t)((a0 * b1 + a1 * b0) >> shift) & 0xFFFF;
        W(c, IN->rd, (d & 0xFFFF) | (im << 16));
    }
    return 0;
}
SEM_FN cv_cplxmul_r(cx *c) { return cplxmul(c, 0, 15); }
SEM_FN cv_cplxmul_r_div2(cx *c) { return cplxmul(c, 0, 16); }
SEM_FN cv_cplxmul_r_div4(cx *c) { return cplxmul(c, 0, 17); }
SEM_FN cv_cplxmul_r_div8(cx *c) { return cplxmul(c, 0, 18); }
SEM_FN cv_cplxmul_i(cx *c) { return cplxmul(c, 1, 15); }
SEM_FN cv_cplxmul_i_div2(cx *c) { return cplxmul(c, 1, 16); }
SEM_FN cv_cplxmul_i_div4(cx *c) { return cplxmul(c, 1, 17); }
SEM_FN cv_cplxmul_i_div8(cx *c) { return cplxmul(c, 1, 18); }
SEM_FN cv_cplxconj(cx *c)
{
    uint32_t a = RS1;
    W(c, IN->rd, ((0u - (a >> 16)) << 16) | (a & 0xFFFF));
    return 0;
}
static int subrotmj(cx *c, unsigned k)
{
    uint32_t a = RS1, b = RS2;
    uint32_t hi = (uint32_t)(SXE((half(b, 0) - half(a, 0)) & 0xFFFF, 16) >> k) & 0xFFFF;
    uint32_t lo = (uint32_t)(SXE((half(a, 1) - half(b, 1)) & 0xFFFF, 16) >> k) & 0xFFFF;
    W(c, IN->rd, (hi << 16) | lo);
    return 0;
}
SEM_FN cv_subrotmj(cx *c) { return subrotmj(c, 0); }
SEM_FN cv_subrotmj_div2(cx *c) { return subrotmj(c, 1); }
SEM_FN cv_subrotmj_div4(cx *c) { return subrotmj(c, 2); }
SEM_FN cv_subrotmj_div8(cx *c) { return subrotmj(c, 3); }

/* ------------------------------------------------------------------ xcvhwlp */

/* The index in the sorted `hooked` where `a` is or would be inserted. */
static uint32_t hooked_pos(const iss_isa *s, uint32_t a)
{
    uint32_t lo = 0, hi = s->n_hooked;
    while (lo < hi) {
        uint32_t mid = (lo + hi) >> 1;
        if (s->hooked[mid] < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int is_hooked(const iss_isa *s, uint32_t a)
{
    uint32_t i = hooked_pos(s, a);
    return i < s->n_hooked && s->hooked[i] == a;
}

/* A loop end without a code hook: Python adds the hook and the instruction re-runs. */
static int need_hook(cx *c, uint32_t end)
{
    if (is_hooked(c->s, end))
        return 0;
    c->s->pending_hook = end;
    return slow(c, ISS_SLOW_HWLOOP, 0);
}

#define L (IN->rd & 1)
SEM_FN cv_starti(cx *c) { c->s->lp_start[L] = c->pc + ((uint32_t)IN->imm << 2); return 0; }
SEM_FN cv_start(cx *c) { c->s->lp_start[L] = RS1 & ~3u; return 0; }
SEM_FN cv_endi(cx *c)
{
    uint32_t e = c->pc + ((uint32_t)IN->imm << 2);
    if (need_hook(c, e)) return 1;
    c->s->lp_end[L] = e;
    return 0;
}
SEM_FN cv_end(cx *c)
{
    uint32_t e = RS1 & ~3u;
    if (need_hook(c, e)) return 1;
    c->s->lp_end[L] = e;
    return 0;
}
SEM_FN cv_counti(cx *c) { c->s->lp_count[L] = (uint32_t)IN->imm; return 0; }
SEM_FN cv_count(cx *c) { c->s->lp_count[L] = RS1; return 0; }
SEM_FN cv_setupi(cx *c)
{
    uint32_t e = c->pc + ((uint32_t)IN->imm2 << 2);
    if (need_hook(c, e)) return 1;
    c->s->lp_start[L] = c->pc + 4;
    c->s->lp_end[L] = e;
    c->s->lp_count[L] = (uint32_t)IN->imm;
    return 0;
}
SEM_FN cv_setup(cx *c)
{
    uint32_t e = c->pc + ((uint32_t)IN->imm << 2), n = RS1;
    if (need_hook(c, e)) return 1;
    c->s->lp_start[L] = c->pc + 4;
    c->s->lp_end[L] = e;
    c->s->lp_count[L] = n;
    return 0;
}
#undef L

/* The last instruction of a loop body was executed and the next PC is `a`. Loop 0
 * (inner) first; a counter is decremented each time its body ends and the loop
 * jumps back while it was > 1; a counter of 0 means "not looping" (a body set up
 * with count 0 runs once, like count 1). When both loops end at `a` and loop 0 is
 * done, loop 1 is considered in the same step. */
static int hwloop_end(iss_isa *s, uint32_t a, uint32_t *target)
{
    for (int l = 0; l < 2; l++) {
        if (s->lp_count[l] && s->lp_end[l] == a) {
            if (s->lp_count[l] > 1) {
                s->lp_count[l]--;
                *target = s->lp_start[l];
                return 1;
            }
            s->lp_count[l] = 0;
        }
    }
    return 0;
}

int iss_hwloop_jumps_back(const iss_hart *h, uint32_t a)
{
    const iss_isa *s = (const iss_isa *)h->isa;
    for (int l = 0; s && l < 2; l++)
        if (s->lp_count[l] > 1 && s->lp_end[l] == a)
            return 1;
    return 0;
}

/* UC_HOOK_CODE registered exactly at each loop end address: runs before the
 * instruction there, i.e. just after the body's last instruction. */
void iss_hwloop_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    iss_hart *h = (iss_hart *)user_data;
    iss_isa *s = (iss_isa *)h->isa;
    uint32_t a = (uint32_t)address, target;
    (void)size;
    if (!(s->lp_count[0] | s->lp_count[1]))
        return;
    if (!hwloop_end(s, a, &target))
        return;
    /* The block hook charged the whole translated block; the part from `a` on is
     * not executed on this pass. */
    iss_cut_block(h, a);
    set_pc(uc, target);
}

/* ------------------------------------------------------------------ RV32IMC in a chain */

/* The standard instructions a chain runs natively between CORE-V ones (Unicorn
 * runs them otherwise), timed as Unicorn's path times them: the static cost with
 * the instruction (iss_charge_insn), a taken branch's or a jump's penalty
 * (iss_taken_branch, iss_jumped), a division's operand-dependent cycles, memory
 * through iss_mem_access. System, CSR and atomic instructions, and memory that is
 * not TCDM or L2 (std_chainable), stay Unicorn's. Compressed instructions share
 * the semantics of the base instruction their decoded fields describe. */
SEM_FN rv_lui(cx *c) { W(c, IN->rd, (uint32_t)IN->imm); return 0; }
SEM_FN rv_auipc(cx *c) { W(c, IN->rd, c->pc + (uint32_t)IN->imm); return 0; }
SEM_FN rv_c_lui(cx *c) { W(c, IN->rd, (uint32_t)IN->imm << 12); return 0; }
SEM_FN rv_c_li(cx *c) { W(c, IN->rd, (uint32_t)IN->imm); return 0; }
SEM_FN rv_c_mv(cx *c) { W(c, IN->rd, RS2); return 0; }
SEM_FN rv_nop(cx *c) { (void)c; return 0; }

static inline void jump_to(cx *c, unsigned rd, uint32_t target)
{
    W(c, rd, c->pc + IN->len);
    c->npc = target;
    iss_jumped(c->h, c->slot, target);
}
SEM_FN rv_jal(cx *c) { jump_to(c, IN->rd, c->pc + (uint32_t)IN->imm); return 0; }
SEM_FN rv_c_jal(cx *c) { jump_to(c, 1, c->pc + (uint32_t)IN->imm); return 0; }
SEM_FN rv_jalr(cx *c) { jump_to(c, IN->rd, (RS1 + (uint32_t)IN->imm) & ~1u); return 0; }
SEM_FN rv_c_jalr(cx *c) { jump_to(c, 1, RS1 & ~1u); return 0; }

/* A taken branch to its own fall-through costs nothing extra: Unicorn's path
 * cannot tell it from a branch not taken (iss_block_hook). */
#define BRANCH(fname, COND)                                                     \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        uint32_t a = RS1, b = RS2;                                              \
        (void)b;                                                                \
        if (COND) {                                                             \
            c->npc = c->pc + (uint32_t)IN->imm;                                 \
            if (c->npc != c->pc + IN->len)                                      \
                iss_taken_branch(c->h, c->slot, c->npc);                          \
        }                                                                       \
        return 0;                                                               \
    }
BRANCH(rv_beq, a == b)
BRANCH(rv_bne, a != b)
BRANCH(rv_blt, (int32_t)a < (int32_t)b)
BRANCH(rv_bge, (int32_t)a >= (int32_t)b)
BRANCH(rv_bltu, a < b)
BRANCH(rv_bgeu, a >= b)
BRANCH(rv_c_beqz, a == 0)
BRANCH(rv_c_bnez, a != 0)

#define LOAD(fname, N, SIGN)                                                    \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        uint32_t v;                                                             \
        if (ld(c, RS1 + (uint32_t)IN->imm, N, &v)) return 1;                    \
        W(c, IN->rd, ext_load(v, N, SIGN));                                     \
        return 0;                                                               \
    }
#define STORE(fname, N)                                                         \
    SEM_FN fname(cx *c) { return st(c, RS1 + (uint32_t)IN->imm, N, RS2); }
LOAD(rv_lb, 1, 1)
LOAD(rv_lh, 2, 1)
LOAD(rv_lw, 4, 0)
LOAD(rv_lbu, 1, 0)
LOAD(rv_lhu, 2, 0)
STORE(rv_sb, 1)
STORE(rv_sh, 2)
STORE(rv_sw, 4)

#define ALU_I(fname, EXPR)                                                      \
    SEM_FN fname(cx *c) { uint32_t a = RS1, b = (uint32_t)IN->imm; W(c, IN->rd, (EXPR)); return 0; }
#define ALU_R(fname, EXPR)                                                      \
    SEM_FN fname(cx *c) { uint32_t a = RS1, b = RS2; W(c, IN->rd, (EXPR)); return 0; }
ALU_I(rv_addi, a + b)
ALU_I(rv_slti, (int32_t)a < (int32_t)b)
ALU_I(rv_sltiu, a < b)
ALU_I(rv_xori, a ^ b)
ALU_I(rv_ori, a | b)
ALU_I(rv_andi, a & b)
ALU_I(rv_slli, a << (b & 31))
ALU_I(rv_srli, a >> (b & 31))
ALU_I(rv_srai, (uint32_t)((int32_t)a >> (b & 31)))
ALU_R(rv_add, a + b)
ALU_R(rv_sub, a - b)
ALU_R(rv_sll, a << (b & 31))
ALU_R(rv_slt, (int32_t)a < (int32_t)b)
ALU_R(rv_sltu, a < b)
ALU_R(rv_xor, a ^ b)
ALU_R(rv_srl, a >> (b & 31))
ALU_R(rv_sra, (uint32_t)((int32_t)a >> (b & 31)))
ALU_R(rv_or, a | b)
ALU_R(rv_and, a & b)
ALU_R(rv_mul, a * b)
ALU_R(rv_mulh, (uint32_t)(((int64_t)(int32_t)a * (int32_t)b) >> 32))
ALU_R(rv_mulhsu, (uint32_t)(((int64_t)(int32_t)a * (int64_t)(uint64_t)b) >> 32))
ALU_R(rv_mulhu, (uint32_t)(((uint64_t)a * b) >> 32))

/* Division (the ISA's results for a zero divisor and for INT_MIN / -1), plus the
 * divisor's leading zeros as the cycle model's operand-dependent part. */
#define DIV(fname, EXPR)                                                        \
    SEM_FN fname(cx *c)                                                         \
    {                                                                           \
        uint32_t a = RS1, b = RS2;                                              \
        iss_div_stall(c->h, c->slot, b);                                        \
        W(c, IN->rd, (EXPR));                                                   \
        return 0;                                                               \
    }
#define OVF(a, b) ((a) == 0x80000000u && (b) == 0xFFFFFFFFu)
DIV(rv_div, !b ? 0xFFFFFFFFu : OVF(a, b) ? a : (uint32_t)((int32_t)a / (int32_t)b))
DIV(rv_divu, !b ? 0xFFFFFFFFu : a / b)
DIV(rv_rem, !b ? a : OVF(a, b) ? 0 : (uint32_t)((int32_t)a % (int32_t)b))
DIV(rv_remu, !b ? a : a % b)

/* Whether `target` holds a valid instruction of the code map. */
static int code_target(const cx *c, uint32_t target)
{
    const iss_code_region *r = iss_code_region_of(&c->h->code, target);
    return r && !(target & 1) && c->s->tab[iss_code_region_slot(r, target)].op;
}

/* Standard loads and stores a chain may run: those whose address is TCDM or L2
 * (anything else may be a peripheral: Unicorn's path handles it). Branches and
 * jumps: those whose target is a valid instruction of the code (Unicorn faults
 * at anything else before a block starts there and charges the penalty). */
static int std_chainable(cx *c)
{
    unsigned n;
    switch (IN->op) {
    case ISS_OP_BEQ: case ISS_OP_BNE: case ISS_OP_BLT: case ISS_OP_BGE: case ISS_OP_BLTU: case ISS_OP_BGEU:
    case ISS_OP_C_BEQZ: case ISS_OP_C_BNEZ: case ISS_OP_JAL: case ISS_OP_C_JAL: case ISS_OP_C_J:
        return code_target(c, c->pc + (uint32_t)IN->imm);
    case ISS_OP_JALR: case ISS_OP_C_JR: case ISS_OP_C_JALR:
        return code_target(c, (RS1 + (uint32_t)IN->imm) & ~1u);
    case ISS_OP_LB: case ISS_OP_LBU: case ISS_OP_SB:
        n = 1;
        break;
    case ISS_OP_LH: case ISS_OP_LHU: case ISS_OP_SH:
        n = 2;
        break;
    case ISS_OP_LW: case ISS_OP_C_LW: case ISS_OP_C_LWSP: case ISS_OP_SW: case ISS_OP_C_SW: case ISS_OP_C_SWSP:
        n = 4;
        break;
    default:
        return 1;
    }
    return direct(c->h, RS1 + (uint32_t)IN->imm, n) != NULL;
}

/* ------------------------------------------------------------------ dispatch */

#define T6(X, BASE, base)                                                                   \
    X(ISS_OP_CV_##BASE##_H, cv_##base##_h) X(ISS_OP_CV_##BASE##_B, cv_##base##_b)             \
    X(ISS_OP_CV_##BASE##_SC_H, cv_##base##_sc_h) X(ISS_OP_CV_##BASE##_SC_B, cv_##base##_sc_b) \
    X(ISS_OP_CV_##BASE##_SCI_H, cv_##base##_sci_h) X(ISS_OP_CV_##BASE##_SCI_B, cv_##base##_sci_b)

/* Every instruction with semantics here, as X(op, function): the table below, and
 * the chain's switch (each case a direct, inlinable call). */
#define SEM_LIST(X) \
    X(ISS_OP_CV_LB_RI_INC, cv_lb_ri_inc) X(ISS_OP_CV_LBU_RI_INC, cv_lbu_ri_inc) \
    X(ISS_OP_CV_LH_RI_INC, cv_lh_ri_inc) X(ISS_OP_CV_LHU_RI_INC, cv_lhu_ri_inc) \
    X(ISS_OP_CV_LW_RI_INC, cv_lw_ri_inc) \
    X(ISS_OP_CV_LB_RR_INC, cv_lb_rr_inc) X(ISS_OP_CV_LBU_RR_INC, cv_lbu_rr_inc) \
    X(ISS_OP_CV_LH_RR_INC, cv_lh_rr_inc) X(ISS_OP_CV_LHU_RR_INC, cv_lhu_rr_inc) \
    X(ISS_OP_CV_LW_RR_INC, cv_lw_rr_inc) \
    X(ISS_OP_CV_LB_RR, cv_lb_rr) X(ISS_OP_CV_LBU_RR, cv_lbu_rr) X(ISS_OP_CV_LH_RR, cv_lh_rr) \
    X(ISS_OP_CV_LHU_RR, cv_lhu_rr) X(ISS_OP_CV_LW_RR, cv_lw_rr) \
    X(ISS_OP_CV_SB_RI_INC, cv_sb_ri_inc) X(ISS_OP_CV_SH_RI_INC, cv_sh_ri_inc) \
    X(ISS_OP_CV_SW_RI_INC, cv_sw_ri_inc) \
    X(ISS_OP_CV_SB_RR_INC, cv_sb_rr_inc) X(ISS_OP_CV_SH_RR_INC, cv_sh_rr_inc) \
    X(ISS_OP_CV_SW_RR_INC, cv_sw_rr_inc) \
    X(ISS_OP_CV_SB_RR, cv_sb_rr) X(ISS_OP_CV_SH_RR, cv_sh_rr) X(ISS_OP_CV_SW_RR, cv_sw_rr) \
    X(ISS_OP_CV_ELW, cv_elw) \
    X(ISS_OP_CV_BEQIMM, cv_beqimm) X(ISS_OP_CV_BNEIMM, cv_bneimm) \
    X(ISS_OP_CV_EXTRACT, cv_extract) X(ISS_OP_CV_EXTRACTU, cv_extractu) X(ISS_OP_CV_INSERT, cv_insert) \
    X(ISS_OP_CV_BCLR, cv_bclr) X(ISS_OP_CV_BSET, cv_bset) X(ISS_OP_CV_BITREV, cv_bitrev) \
    X(ISS_OP_CV_EXTRACTR, cv_extractr) X(ISS_OP_CV_EXTRACTUR, cv_extractur) \
    X(ISS_OP_CV_INSERTR, cv_insertr) X(ISS_OP_CV_BCLRR, cv_bclrr) X(ISS_OP_CV_BSETR, cv_bsetr) \
    X(ISS_OP_CV_ROR, cv_ror) X(ISS_OP_CV_FF1, cv_ff1) X(ISS_OP_CV_FL1, cv_fl1) \
    X(ISS_OP_CV_CLB, cv_clb) X(ISS_OP_CV_CNT, cv_cnt) \
    X(ISS_OP_CV_ABS, cv_abs) X(ISS_OP_CV_SLE, cv_sle) X(ISS_OP_CV_SLEU, cv_sleu) \
    X(ISS_OP_CV_MIN, cv_min) X(ISS_OP_CV_MINU, cv_minu) X(ISS_OP_CV_MAX, cv_max) \
    X(ISS_OP_CV_MAXU, cv_maxu) X(ISS_OP_CV_EXTHS, cv_exths) X(ISS_OP_CV_EXTHZ, cv_exthz) \
    X(ISS_OP_CV_EXTBS, cv_extbs) X(ISS_OP_CV_EXTBZ, cv_extbz) \
    X(ISS_OP_CV_CLIP, cv_clip) X(ISS_OP_CV_CLIPU, cv_clipu) X(ISS_OP_CV_CLIPR, cv_clipr) \
    X(ISS_OP_CV_CLIPUR, cv_clipur) \
    X(ISS_OP_CV_ADDN, cv_addn) X(ISS_OP_CV_ADDUN, cv_addun) X(ISS_OP_CV_ADDRN, cv_addrn) \
    X(ISS_OP_CV_ADDURN, cv_addurn) X(ISS_OP_CV_SUBN, cv_subn) X(ISS_OP_CV_SUBUN, cv_subun) \
    X(ISS_OP_CV_SUBRN, cv_subrn) X(ISS_OP_CV_SUBURN, cv_suburn) \
    X(ISS_OP_CV_ADDNR, cv_addnr) X(ISS_OP_CV_ADDUNR, cv_addunr) X(ISS_OP_CV_ADDRNR, cv_addrnr) \
    X(ISS_OP_CV_ADDURNR, cv_addurnr) X(ISS_OP_CV_SUBNR, cv_subnr) X(ISS_OP_CV_SUBUNR, cv_subunr) \
    X(ISS_OP_CV_SUBRNR, cv_subrnr) X(ISS_OP_CV_SUBURNR, cv_suburnr) \
    X(ISS_OP_CV_MAC, cv_mac) X(ISS_OP_CV_MSU, cv_msu) \
    X(ISS_OP_CV_MULSN, cv_mulsn) X(ISS_OP_CV_MULHHSN, cv_mulhhsn) X(ISS_OP_CV_MULSRN, cv_mulsrn) \
    X(ISS_OP_CV_MULHHSRN, cv_mulhhsrn) X(ISS_OP_CV_MULUN, cv_mulun) X(ISS_OP_CV_MULHHUN, cv_mulhhun) \
    X(ISS_OP_CV_MULURN, cv_mulurn) X(ISS_OP_CV_MULHHURN, cv_mulhhurn) \
    X(ISS_OP_CV_MACSN, cv_macsn) X(ISS_OP_CV_MACHHSN, cv_machhsn) X(ISS_OP_CV_MACSRN, cv_macsrn) \
    X(ISS_OP_CV_MACHHSRN, cv_machhsrn) X(ISS_OP_CV_MACUN, cv_macun) X(ISS_OP_CV_MACHHUN, cv_machhun) \
    X(ISS_OP_CV_MACURN, cv_macurn) X(ISS_OP_CV_MACHHURN, cv_machhurn) \
    T6(X, ADD, add) T6(X, SUB, sub) T6(X, AVG, avg) T6(X, AVGU, avgu) T6(X, MIN, min) T6(X, MINU, minu) \
    T6(X, MAX, max) T6(X, MAXU, maxu) T6(X, SRL, srl) T6(X, SRA, sra) T6(X, SLL, sll) T6(X, OR, or) \
    T6(X, XOR, xor) T6(X, AND, and) \
    X(ISS_OP_CV_ABS_H, cv_abs_h) X(ISS_OP_CV_ABS_B, cv_abs_b) \
    T6(X, DOTUP, dotup) T6(X, DOTUSP, dotusp) T6(X, DOTSP, dotsp) T6(X, SDOTUP, sdotup) \
    T6(X, SDOTUSP, sdotusp) T6(X, SDOTSP, sdotsp) \
    X(ISS_OP_CV_EXTRACT_H, cv_extract_h) X(ISS_OP_CV_EXTRACT_B, cv_extract_b) \
    X(ISS_OP_CV_EXTRACTU_H, cv_extractu_h) X(ISS_OP_CV_EXTRACTU_B, cv_extractu_b) \
    X(ISS_OP_CV_INSERT_H, cv_insert_h) X(ISS_OP_CV_INSERT_B, cv_insert_b) \
    X(ISS_OP_CV_SHUFFLE_H, cv_shuffle_h) X(ISS_OP_CV_SHUFFLE_B, cv_shuffle_b) \
    X(ISS_OP_CV_SHUFFLE_SCI_H, cv_shuffle_sci_h) \
    X(ISS_OP_CV_SHUFFLEI0_SCI_B, cv_shufflei0_sci_b) X(ISS_OP_CV_SHUFFLEI1_SCI_B, cv_shufflei1_sci_b) \
    X(ISS_OP_CV_SHUFFLEI2_SCI_B, cv_shufflei2_sci_b) X(ISS_OP_CV_SHUFFLEI3_SCI_B, cv_shufflei3_sci_b) \
    X(ISS_OP_CV_SHUFFLE2_H, cv_shuffle2_h) X(ISS_OP_CV_SHUFFLE2_B, cv_shuffle2_b) \
    X(ISS_OP_CV_PACK, cv_pack) X(ISS_OP_CV_PACK_H, cv_pack_h) \
    X(ISS_OP_CV_PACKHI_B, cv_packhi_b) X(ISS_OP_CV_PACKLO_B, cv_packlo_b) \
    T6(X, CMPEQ, cmpeq) T6(X, CMPNE, cmpne) T6(X, CMPGT, cmpgt) T6(X, CMPGE, cmpge) T6(X, CMPLT, cmplt) \
    T6(X, CMPLE, cmple) T6(X, CMPGTU, cmpgtu) T6(X, CMPGEU, cmpgeu) T6(X, CMPLTU, cmpltu) T6(X, CMPLEU, cmpleu) \
    X(ISS_OP_CV_CPLXMUL_R, cv_cplxmul_r) X(ISS_OP_CV_CPLXMUL_R_DIV2, cv_cplxmul_r_div2) \
    X(ISS_OP_CV_CPLXMUL_R_DIV4, cv_cplxmul_r_div4) X(ISS_OP_CV_CPLXMUL_R_DIV8, cv_cplxmul_r_div8) \
    X(ISS_OP_CV_CPLXMUL_I, cv_cplxmul_i) X(ISS_OP_CV_CPLXMUL_I_DIV2, cv_cplxmul_i_div2) \
    X(ISS_OP_CV_CPLXMUL_I_DIV4, cv_cplxmul_i_div4) X(ISS_OP_CV_CPLXMUL_I_DIV8, cv_cplxmul_i_div8) \
    X(ISS_OP_CV_CPLXCONJ, cv_cplxconj) \
    X(ISS_OP_CV_SUBROTMJ, cv_subrotmj) X(ISS_OP_CV_SUBROTMJ_DIV2, cv_subrotmj_div2) \
    X(ISS_OP_CV_SUBROTMJ_DIV4, cv_subrotmj_div4) X(ISS_OP_CV_SUBROTMJ_DIV8, cv_subrotmj_div8) \
    X(ISS_OP_CV_ADD_DIV2, cv_add_div2) X(ISS_OP_CV_ADD_DIV4, cv_add_div4) \
    X(ISS_OP_CV_ADD_DIV8, cv_add_div8) X(ISS_OP_CV_SUB_DIV2, cv_sub_div2) \
    X(ISS_OP_CV_SUB_DIV4, cv_sub_div4) X(ISS_OP_CV_SUB_DIV8, cv_sub_div8) \
    X(ISS_OP_CV_STARTI, cv_starti) X(ISS_OP_CV_START, cv_start) X(ISS_OP_CV_ENDI, cv_endi) \
    X(ISS_OP_CV_END, cv_end) X(ISS_OP_CV_COUNTI, cv_counti) X(ISS_OP_CV_COUNT, cv_count) \
    X(ISS_OP_CV_SETUPI, cv_setupi) X(ISS_OP_CV_SETUP, cv_setup) \
    /* standard, run only inside a chain */ \
    X(ISS_OP_LUI, rv_lui) X(ISS_OP_AUIPC, rv_auipc) X(ISS_OP_JAL, rv_jal) X(ISS_OP_JALR, rv_jalr) \
    X(ISS_OP_BEQ, rv_beq) X(ISS_OP_BNE, rv_bne) X(ISS_OP_BLT, rv_blt) X(ISS_OP_BGE, rv_bge) \
    X(ISS_OP_BLTU, rv_bltu) X(ISS_OP_BGEU, rv_bgeu) \
    X(ISS_OP_LB, rv_lb) X(ISS_OP_LH, rv_lh) X(ISS_OP_LW, rv_lw) X(ISS_OP_LBU, rv_lbu) X(ISS_OP_LHU, rv_lhu) \
    X(ISS_OP_SB, rv_sb) X(ISS_OP_SH, rv_sh) X(ISS_OP_SW, rv_sw) \
    X(ISS_OP_ADDI, rv_addi) X(ISS_OP_SLTI, rv_slti) X(ISS_OP_SLTIU, rv_sltiu) X(ISS_OP_XORI, rv_xori) \
    X(ISS_OP_ORI, rv_ori) X(ISS_OP_ANDI, rv_andi) X(ISS_OP_SLLI, rv_slli) X(ISS_OP_SRLI, rv_srli) \
    X(ISS_OP_SRAI, rv_srai) \
    X(ISS_OP_ADD, rv_add) X(ISS_OP_SUB, rv_sub) X(ISS_OP_SLL, rv_sll) X(ISS_OP_SLT, rv_slt) \
    X(ISS_OP_SLTU, rv_sltu) X(ISS_OP_XOR, rv_xor) X(ISS_OP_SRL, rv_srl) X(ISS_OP_SRA, rv_sra) \
    X(ISS_OP_OR, rv_or) X(ISS_OP_AND, rv_and) \
    X(ISS_OP_MUL, rv_mul) X(ISS_OP_MULH, rv_mulh) X(ISS_OP_MULHSU, rv_mulhsu) X(ISS_OP_MULHU, rv_mulhu) \
    X(ISS_OP_DIV, rv_div) X(ISS_OP_DIVU, rv_divu) X(ISS_OP_REM, rv_rem) X(ISS_OP_REMU, rv_remu) \
    X(ISS_OP_FENCE, rv_nop) \
    X(ISS_OP_C_ADDI4SPN, rv_addi) X(ISS_OP_C_LW, rv_lw) X(ISS_OP_C_SW, rv_sw) X(ISS_OP_C_NOP, rv_nop) \
    X(ISS_OP_C_ADDI, rv_addi) X(ISS_OP_C_JAL, rv_c_jal) X(ISS_OP_C_LI, rv_c_li) \
    X(ISS_OP_C_ADDI16SP, rv_addi) X(ISS_OP_C_LUI, rv_c_lui) X(ISS_OP_C_SRLI, rv_srli) \
    X(ISS_OP_C_SRAI, rv_srai) X(ISS_OP_C_ANDI, rv_andi) X(ISS_OP_C_SUB, rv_sub) X(ISS_OP_C_XOR, rv_xor) \
    X(ISS_OP_C_OR, rv_or) X(ISS_OP_C_AND, rv_and) X(ISS_OP_C_J, rv_jal) X(ISS_OP_C_BEQZ, rv_c_beqz) \
    X(ISS_OP_C_BNEZ, rv_c_bnez) X(ISS_OP_C_SLLI, rv_slli) X(ISS_OP_C_LWSP, rv_lw) \
    X(ISS_OP_C_JR, rv_jalr) X(ISS_OP_C_JALR, rv_c_jalr) X(ISS_OP_C_MV, rv_c_mv) X(ISS_OP_C_ADD, rv_add) \
    X(ISS_OP_C_SWSP, rv_sw) \
    /* end */

#define SEM_ENTRY(op, fn) [op] = fn,
static const sem_fn SEM[ISS_OP_COUNT] = {SEM_LIST(SEM_ENTRY)};

/* SEM[op](c) as a switch of direct calls: the compiler inlines the semantics
 * into the chain, and each case's jump is predicted on its own. Only for ops
 * with semantics (SEM[op] != NULL). */
static inline __attribute__((always_inline)) int dispatch(cx *c, unsigned op)
{
    switch (op) {
#define SEM_CASE(o, fn) case o: return fn(c);
    SEM_LIST(SEM_CASE)
#undef SEM_CASE
    default:
        return 0;
    }
}

int iss_corev_has_semantics(int op)
{
    return op > 0 && op <= ISS_OP_COREV_LAST && SEM[op] != NULL;
}

size_t iss_corev_state_size(void) { return sizeof(iss_isa); }

int iss_corev_mark_hooked(iss_hart *h, uint32_t address)
{
    iss_isa *s = (iss_isa *)h->isa;
    uint32_t i = hooked_pos(s, address);
    if (i < s->n_hooked && s->hooked[i] == address)
        return 1;
    if (s->n_hooked >= s->cap_hooked)
        return 0;
    memmove(&s->hooked[i + 1], &s->hooked[i], (s->n_hooked - i) * sizeof s->hooked[0]);
    s->hooked[i] = address;
    s->n_hooked++;
    return 1;
}

int iss_corev_exec(uc_engine *uc, iss_hart *h, const iss_insn *in, uint32_t pc)
{
    uint32_t slot;
    if (!iss_code_index(&h->code, pc, &slot))
        slot = ISS_NO_SLOT;
    cx c = {uc, h, (iss_isa *)h->isa, in, pc, slot, pc + in->len, 0, NULL};
    if (SEM[in->op](&c))
        return 1;
    c.s->executed++;
    if (!c.jumped && (c.s->lp_count[0] | c.s->lp_count[1])) {
        uint32_t target;
        if (hwloop_end(c.s, c.npc, &target))
            c.npc = target;
    }
    set_pc(uc, c.npc);
    return 0;
}

void iss_corev_complete_elw(uc_engine *uc, iss_hart *h, uint32_t pc, uint32_t rd, uint32_t value)
{
    iss_isa *s = (iss_isa *)h->isa;
    uint32_t npc = pc + 4, target;
    if (rd) {
        uint64_t v = value;
        ISS_UC.reg_write(uc, UC_RISCV_REG_X0 + (int)rd, &v);
    }
    s->executed++;
    if ((s->lp_count[0] | s->lp_count[1]) && hwloop_end(s, npc, &target))
        npc = target;
    set_pc(uc, npc);
}

/* The address whose arrival ends an iteration of hardware loop l, as the chain
 * compares it: an odd address (never a PC) when the loop is not counting. */
static inline uint32_t loop_end_watch(const iss_isa *s, int l)
{
    return s->lp_count[l] ? s->lp_end[l] : 1u;
}

_Static_assert(ISS_OP_CV_SETUP - ISS_OP_CV_STARTI == 7, "the hardware-loop ops are contiguous");

/* Run the trapping CORE-V instruction and what follows it, CORE-V or standard
 * (see std_chainable), without going back to Unicorn (a trap each costs far more
 * than the instruction). Chained instructions that follow one another are charged
 * as one block (a run: commit_run) when the run ends, so cycle accounting, memory
 * timing and profiles are as if Unicorn had run them; the chain ends at the first
 * instruction boundary at or past the hart's budget, after chain_limit
 * instructions, or at an instruction Unicorn must run. The first one was charged
 * by the block hook.
 * A chained standard instruction checks the end of a hardware loop even after a
 * jump, as Unicorn's code hook at the loop end does. */
static void chain(uc_engine *uc, iss_hart *h, iss_isa *s, uint32_t pc, uint32_t slot)
{
    regcache rc;
    rc.dirty = 0;
    rc.v[0] = 0;
    for (unsigned k = 1; k < 32; k++) {
        uint64_t v = 0;
        ISS_UC.reg_read(uc, UC_RISCV_REG_X0 + (int)k, &v);
        rc.v[k] = (uint32_t)v;
    }
    /* Loop invariants of the checks after each instruction, kept in locals: the
     * code region being run (the next instruction's slot needs no lookup while
     * control stays in it), the loop ends to watch (changed only by the
     * hardware-loop instructions and hwloop_end), the dirty-code flag. */
    const iss_code_region *found = iss_code_region_of(&h->code, pc);
    iss_code_region r = found ? *found : (iss_code_region){0, 0, 0};   /* a copy: kept in registers */
    uint32_t end0 = loop_end_watch(s, 0), end1 = loop_end_watch(s, 1);
    const uint32_t *dirty = h->code_dirty;
    const uint32_t limit = h->chain_limit;
    cx c = {uc, h, s, &s->tab[slot], pc, slot, 0, 0, &rc};
    c.run_end_pc = 1;
    for (uint32_t n = 1;; n++) {
        const iss_insn *in = c.in;
        c.npc = c.pc + in->len;
        c.jumped = 0;
        if (c.rc != &rc)
            __builtin_unreachable();   /* (tells the compiler: the registers are the cache's) */
        if (dispatch(&c, in->op))
            return;                     /* stopped: stop() flushed and left PC on it */
        int standard = in->op > ISS_OP_COREV_LAST;
        s->executed += !standard;
        if (__builtin_expect((uint32_t)in->op - ISS_OP_CV_STARTI <= ISS_OP_CV_SETUP - ISS_OP_CV_STARTI, 0)) {
            end0 = loop_end_watch(s, 0);
            end1 = loop_end_watch(s, 1);
        }
        if (__builtin_expect(c.npc == end0 || c.npc == end1, 0) && (standard || !c.jumped)) {
            uint32_t target;
            if (hwloop_end(s, c.npc, &target))
                c.npc = target;
            end0 = loop_end_watch(s, 0);
            end1 = loop_end_watch(s, 1);
        }
        pc = c.npc;
        if (pc & 1)
            break;
        if (!iss_code_region_has(&r, pc)) {
            found = iss_code_region_of(&h->code, pc);
            if (!found)
                break;
            r = *found;
        }
        slot = iss_code_region_slot(&r, pc);
        /* (code rewritten: the next block start redecodes it first) */
        if (__builtin_expect(h->cut_exact, 0)) {
            commit_run(&c);
            iss_settle(h, h->cycles);      /* the budget is met exactly: the clock must be */
        }
        if (n >= limit || h->cycles + c.run_cycles >= h->budget || *dirty)
            break;
        c.in = &s->tab[slot];
        c.pc = pc;
        c.slot = slot;
        if (!SEM[c.in->op] || (c.in->op > ISS_OP_COREV_LAST && (!h->chain_standard || !std_chainable(&c))))
            break;
        /* Charged with its run: the same run if it follows the run's last
         * instruction (then in the same code region, whose slots follow its
         * PCs: regions never touch, CodeImage merges touching segments). */
        if (pc != c.run_end_pc) {
            commit_run(&c);
            c.run_pc = pc;
            c.run_slot = slot;
            h->block_start_cycles = h->cycles;
            h->block_dyn = 0;
        }
        c.run_cycles += h->cost_at[slot];
        c.run_insns++;
        c.run_end_pc = pc + c.in->len;
    }
    flush(&c);
    set_pc(uc, pc);
}

static uint32_t raw_word(uc_engine *uc, iss_hart *h, uint32_t pc)
{
    uint32_t w = 0;
    uint8_t *p = direct(h, pc, 4);
    if (p)
        memcpy(&w, p, 4);
    else if (ISS_UC.mem_read(uc, pc, &w, 4) != UC_ERR_OK && ISS_UC.mem_read(uc, pc, &w, 2) != UC_ERR_OK)
        w = 0;
    return (w & 3) == 3 ? w : (w & 0xFFFF);
}

/* UC_HOOK_INTR: intno 2 is an instruction Unicorn does not know (PC reads the
 * faulting PC + 4, also for 16-bit instructions). Every cause is handled or stops
 * the engine, else Unicorn would silently skip the instruction. */
void iss_intr_hook(uc_engine *uc, uint32_t intno, void *user_data)
{
    iss_hart *h = (iss_hart *)user_data;
    iss_isa *s = (iss_isa *)h->isa;
    uint64_t pc64 = 0;
    ISS_UC.reg_read(uc, UC_RISCV_REG_PC, &pc64);
    uint32_t pc = (uint32_t)pc64 - 4;
    if (intno != 2) {
        h->stop_reason = intno == 8 ? ISS_STOP_ECALL : intno == 3 ? ISS_STOP_EBREAK : ISS_STOP_TRAP;
        h->stop_pc = pc;
        h->stop_info = intno;
        ISS_UC.emu_stop(uc);
        return;
    }
    uint32_t i;
    if (!(pc & 1) && iss_code_insn(&h->code, pc, &i)) {
        const iss_insn *in = &s->tab[i];
        if (in->op && in->op <= ISS_OP_COREV_LAST && SEM[in->op]) {
            if (h->chain_limit)
                chain(uc, h, s, pc, i);
            else
                iss_corev_exec(uc, h, in, pc);
            return;
        }
    } else {
        uint32_t w = raw_word(uc, h, pc);
        if ((w & 0x7F) == 0x0B || (w & 0x7F) == 0x2B || (w & 0x7F) == 0x5B || (w & 0x7F) == 0x7B) {
            cx c = {uc, h, s, NULL, pc, ISS_NO_SLOT, pc + 4, 0, NULL};
            slow(&c, ISS_SLOW_DECODE, w);   /* Python decodes it and calls iss_corev_exec */
            return;
        }
    }
    h->stop_reason = ISS_STOP_ILLEGAL;
    h->stop_pc = pc;
    h->stop_info = raw_word(uc, h, pc);
    set_pc(uc, pc);
    ISS_UC.emu_stop(uc);
}
