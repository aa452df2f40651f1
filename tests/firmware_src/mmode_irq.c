/* Interrupts from the cluster timer, software events and the DMA, one scenario
 * per build (-D): the test checks counts and cycles worked out by hand. */
#include "pmsis.h"
#include "corev.h"
#include "dma.h"

#define PERIOD 2000
volatile uint32_t ticks, seen_ticks[8], nest_log[8], nest_n, handler_cycle, start_cycle, result[8];
volatile uint32_t mip_seen, ticks_masked, ticks_mie_off, dma_done, trap_core_log[8], dma_buf_ok;
PI_L1 uint32_t l1_buf[64];
uint32_t l2_buf[64] = {1};

static inline uint32_t mcycle(void) { return __PI_CSR_READ(mcycle); }

static void on_tick(int line) { (void)line; ticks++; }

/* Work of every core: a multiply-accumulate loop with divisions (multi-cycle)
 * and TCDM loads all cores share (bank conflicts). */
static void compute(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    uint32_t acc = 0;
    for (int i = 0; i < 3000; i++) {
        acc += l1_buf[(i + core) & 63] * (uint32_t)i;
        acc ^= acc / (uint32_t)(i + 3);
    }
    result[core] = acc;
}

#ifdef TICKS
/* A timer tick every PERIOD cycles on core 0 while 8 cores compute. */
int main(void)
{
    for (int i = 0; i < 64; i++) l1_buf[i] = i * 7 + 1;
    pi_irq_handler_set(EVT_TIMER0, on_tick);
    pi_irq_mask_enable(EVT_TIMER0);
    pi_irq_enable();
    start_cycle = mcycle();
    timer_periodic_lo(PERIOD);
    pi_cl_team_fork(8, compute, 0);
    timer_stop_lo();
    pi_irq_disable();
    return (int)ticks;
}
#endif

#ifdef WFI
/* Direct-mode handler in assembly: its first instruction reads mcycle. */
__asm__(".section .text.wfi_vec, \"ax\"\n.balign 256\n.globl wfi_vector\nwfi_vector:\n"
        "  csrr t0, mcycle\n  la t1, handler_cycle\n  sw t0, 0(t1)\n"
        "  li t1, 0x10200400\n  sw zero, 0(t1)\n"        /* stop the timer (CFG_LO = 0) */
        "  mret\n.text\n");
extern char wfi_vector[];
int main(void)
{
    pi_irq_vector_set(wfi_vector, 0);
    pi_irq_mask_enable(EVT_TIMER0);
    timer_cmp_lo(1000);
    pi_irq_enable();
    uint32_t c0;
    /* mcycle (4 cycles), the store starting the timer (1 + 2 periph latency),
     * then sleep: the match is at c0 + 4 + 2 + 1000. */
    __asm__ volatile("csrr %0, mcycle\n sw %1, 0(%2)\n wfi"
                     : "=&r"(c0)
                     : "r"(TIMER_CFG_ENABLE | TIMER_CFG_RESET | TIMER_CFG_IRQEN | TIMER_CFG_ONE_S),
                       "r"(ARCHI_TIMER_BASE + TIMER_CFG_LO)
                     : "memory");
    start_cycle = c0;
    pi_irq_disable();
    pi_irq_vector_default();
    return 0;
}
#endif

#ifdef MASK
/* Masking: a raised line is not taken while mstatus.MIE or its mie bit is off;
 * it is taken once both are on. */
int main(void)
{
    pi_irq_handler_set(EVT_TIMER0, on_tick);
    pi_irq_mask_enable(EVT_TIMER0);     /* mie bit on, MIE off */
    timer_oneshot_lo(300);
    for (volatile int i = 0; i < 200; i++) ;
    ticks_mie_off = ticks;              /* 0: MIE off */
    mip_seen = __PI_CSR_READ(mip);      /* line 10 raised */
    __PI_CSR_CLEAR(mie, 1u << EVT_TIMER0);
    pi_irq_enable();                    /* MIE on, mie bit off */
    for (volatile int i = 0; i < 50; i++) ;
    ticks_masked = ticks;               /* 0: mie bit off */
    __PI_CSR_SET(mie, 1u << EVT_TIMER0); /* taken right after this instruction */
    uint32_t after = ticks;
    pi_irq_disable();
    return (int)after;
}
#endif

#ifdef NEST
/* The timer handler re-enables interrupts and raises software event 3 (MSI) on
 * its own core: the MSI handler runs nested inside it. */
static void on_msi(int line) { nest_log[nest_n++] = 100 + line; }
static void on_timer_nesting(int line)
{
    nest_log[nest_n++] = line;
    pi_irq_enable();
    eu_sw_event_send(3, 1u << pi_core_id());
    for (volatile int i = 0; i < 20; i++) ;
    nest_log[nest_n++] = 200 + line;
}
int main(void)
{
    pi_irq_handler_set(EVT_TIMER0, on_timer_nesting);
    pi_irq_handler_set(3, on_msi);
    pi_irq_mask_enable(EVT_TIMER0);
    pi_irq_mask_enable(3);
    pi_irq_enable();
    timer_oneshot_lo(200);
    while (nest_n < 3) ;
    pi_irq_disable();
    return (int)nest_n;
}
#endif

#ifdef HWLOOP
/* Ticks every 397 cycles interrupt a hardware loop of 2000 iterations: the loop
 * resumes where it was and runs each iteration exactly once. */
int main(void)
{
    pi_irq_handler_set(EVT_TIMER0, on_tick);
    pi_irq_mask_enable(EVT_TIMER0);
    pi_irq_enable();
    timer_periodic_lo(397);
    uint32_t a = 0, b = 0, n = 2000;
    __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                         "addi %[a], %[a], 1\n\t"
                         "addi %[b], %[b], 3\n\t"
                         "xor  %[b], %[b], %[a]\n\t")
                     : [a] "+r"(a), [b] "+r"(b) : [n] "r"(n) : "memory");
    timer_stop_lo();
    pi_irq_disable();
    result[0] = a;
    result[1] = b;
    return (int)ticks;
}
#endif

#ifdef DMA
/* DMA completion by interrupt (event line EVT_DMA0) instead of an event wait. */
static void on_dma(int line) { (void)line; dma_done++; }
int main(void)
{
    for (int i = 0; i < 64; i++) l2_buf[i] = 0x1000 + i;
    pi_irq_handler_set(EVT_DMA0, on_dma);
    pi_irq_mask_enable(EVT_DMA0);
    pi_irq_enable();
    int tid = plp_dma_memcpy((uint32_t)l2_buf, (uint32_t)l1_buf, sizeof l1_buf, PLP_DMA_EXT2LOC);
    while (!dma_done)
        pi_irq_wait();
    plp_dma_counter_free(tid);
    pi_irq_disable();
    int ok = 1;
    for (int i = 0; i < 64; i++) ok &= l1_buf[i] == 0x1000u + i;
    dma_buf_ok = ok;
    return (int)dma_done;
}
#endif

#ifdef FORK_TRAP
/* Core 3 takes an exception (ecall) inside a team fork; the others keep going. */
static uint32_t on_exception(uint32_t mcause, uint32_t mepc, pi_trap_frame *f)
{
    (void)f;
    trap_core_log[pi_core_id()] = mcause;
    return mepc + 4;
}
static void work(void *arg)
{
    compute(arg);
    if (pi_core_id() == 3)
        __asm__ volatile("ecall" ::: "memory");
    result[pi_core_id()] += 1;
}
int main(void)
{
    for (int i = 0; i < 64; i++) l1_buf[i] = i * 7 + 1;
    pi_exception_handler_set(on_exception);
    pi_cl_team_fork(8, work, 0);
    return 0;
}
#endif

#ifdef EXACT
/* The timer matches while the core runs a long straight run of one-cycle
 * instructions (1100 uncompressed addi: several of Unicorn's translated blocks,
 * across a page): the interrupt is taken at the first instruction boundary at or
 * after the match, wherever the simulator's blocks happen to start. The handler
 * records mcycle, mepc and how far the run had counted. */
volatile uint32_t handler_mepc, handler_count, run_start, run_count;
__asm__(".section .text.exact_vec, \"ax\"\n.balign 256\n.globl exact_vector\nexact_vector:\n"
        "  csrr t0, mcycle\n  la t1, handler_cycle\n  sw t0, 0(t1)\n"
        "  csrr t0, mepc\n  la t1, handler_mepc\n  sw t0, 0(t1)\n"
        "  la t1, handler_count\n  sw a1, 0(t1)\n"
        "  li t1, 0x10200400\n  sw zero, 0(t1)\n"        /* stop the timer (CFG_LO = 0) */
        "  mret\n.text\n");
extern char exact_vector[];
int main(void)
{
    pi_irq_vector_set(exact_vector, 0);
    pi_irq_mask_enable(EVT_TIMER0);
    timer_cmp_lo(1000);
    pi_irq_enable();
    uint32_t c0, start, count;
    /* mcycle (4 cycles), the store starting the timer (1 + 2 periph latency), auipc
     * and addi: the match is at c0 + 4 + 2 + 1000, and the run's k-th addi (from 0)
     * starts at c0 + 4 + 3 + 2 + k. */
    __asm__ volatile(".option push\n .option norvc\n"
                     "li a1, 0\n csrr %0, mcycle\n sw %3, 0(%4)\n"
                     "auipc %1, 0\n addi %1, %1, 8\n"         /* the first addi's address */
                     ".rept 1100\n addi a1, a1, 1\n .endr\n .option pop\n"
                     "mv %2, a1\n"
                     : "=&r"(c0), "=&r"(start), "=&r"(count)
                     : "r"(TIMER_CFG_ENABLE | TIMER_CFG_RESET | TIMER_CFG_IRQEN | TIMER_CFG_ONE_S),
                       "r"(ARCHI_TIMER_BASE + TIMER_CFG_LO)
                     : "a1", "memory");
    start_cycle = c0;
    run_start = start;
    run_count = count;
    pi_irq_disable();
    pi_irq_vector_default();
    return 0;
}
#endif

#ifdef SELF
/* The core raises software event 3 (MSI) on itself with a store, in the middle of
 * a straight run of addi: the interrupt is taken right after the store. The
 * handler records mepc and how far the run had counted. */
volatile uint32_t handler_mepc, handler_count, store_next;
__asm__(".section .text.self_vec, \"ax\"\n.balign 256\n.globl self_vector\nself_vector:\n"
        "  csrr t0, mepc\n  la t1, handler_mepc\n  sw t0, 0(t1)\n"
        "  la t1, handler_count\n  sw a1, 0(t1)\n"
        "  mret\n.text\n");
extern char self_vector[];
int main(void)
{
    pi_irq_vector_set(self_vector, 0);
    pi_irq_mask_enable(3);
    pi_irq_enable();
    uint32_t next;
    __asm__ volatile(".option push\n .option norvc\n"
                     "li a1, 0\n .rept 20\n addi a1, a1, 1\n .endr\n"
                     "sw %1, 0(%2)\n"
                     "auipc %0, 0\n"                             /* the instruction after the store */
                     ".rept 200\n addi a1, a1, 1\n .endr\n .option pop\n"
                     : "=&r"(next)
                     : "r"(1u << pi_core_id()), "r"(EU_DEMUX_BASE + EU_SW_EVENT(3))
                     : "a1", "memory");
    store_next = next;
    pi_irq_disable();
    pi_irq_vector_default();
    return 0;
}
#endif

#ifdef IPI
/* Core 0 sends software event 3 (MSI) to core 1 while core 1 runs a straight
 * run of addi with that interrupt enabled: core 1 takes it at the first
 * instruction boundary at or after the cycle the event reaches the event unit,
 * however far the simulator let either core run ahead of the other. */
volatile uint32_t handler_mepc, handler_count, run_start, run_cycle, send_cycle;
__asm__(".section .text.ipi_vec, \"ax\"\n.balign 256\n.globl ipi_vector\nipi_vector:\n"
        "  csrr t0, mcycle\n  la t1, handler_cycle\n  sw t0, 0(t1)\n"
        "  csrr t0, mepc\n  la t1, handler_mepc\n  sw t0, 0(t1)\n"
        "  la t1, handler_count\n  sw a1, 0(t1)\n"
        "  mret\n.text\n");
extern char ipi_vector[];
/* (Each run in a function of its own: the compiler takes an inline asm for one
 * instruction, and a branch over it would be out of range.) */
__attribute__((noinline)) static void ipi_receive(void)
{
    uint32_t c, start;
    pi_irq_vector_set(ipi_vector, 0);
    pi_irq_mask_enable(3);
    pi_irq_enable();
    /* mcycle (4 cycles), auipc, addi: the run's k-th addi starts at c + 6 + k. */
    __asm__ volatile(".option push\n .option norvc\n"
                     "li a1, 0\n csrr %0, mcycle\n"
                     "auipc %1, 0\n addi %1, %1, 8\n"
                     ".rept 2000\n addi a1, a1, 1\n .endr\n .option pop\n"
                     : "=&r"(c), "=&r"(start) : : "a1", "memory");
    pi_irq_disable();
    pi_irq_vector_default();
    run_cycle = c;
    run_start = start;
}
__attribute__((noinline)) static void ipi_send(void)
{
    uint32_t c;
    /* After a while, mcycle (4 cycles) then the store: it reaches the event unit
     * 2 cycles after it issues, at c + 6. */
    __asm__ volatile(".option push\n .option norvc\n .rept 600\n addi a2, a2, 1\n .endr\n .option pop\n"
                     "csrr %0, mcycle\n sw %1, 0(%2)\n"
                     : "=&r"(c) : "r"(1u << 1), "r"(EU_DEMUX_BASE + EU_SW_EVENT(3)) : "a2", "memory");
    send_cycle = c;
}
static void ipi(void *arg)
{
    (void)arg;
    if (pi_core_id() == 1)
        ipi_receive();
    else if (pi_core_id() == 0)
        ipi_send();
}
int main(void)
{
    pi_cl_team_fork(2, ipi, 0);
    return 0;
}
#endif

#ifdef BARRIER_IRQ
/* Core 0 alone arrives at barrier 1 (its own trigger and target mask) with the
 * barrier event enabled as an interrupt: the event is raised barrier_latency
 * cycles after the store reaches the event unit, while the core runs a straight
 * run of addi; the interrupt is taken at the first boundary at or after it. */
volatile uint32_t handler_mepc, handler_count, run_start;
__asm__(".section .text.bar_vec, \"ax\"\n.balign 256\n.globl bar_vector\nbar_vector:\n"
        "  csrr t0, mcycle\n  la t1, handler_cycle\n  sw t0, 0(t1)\n"
        "  csrr t0, mepc\n  la t1, handler_mepc\n  sw t0, 0(t1)\n"
        "  la t1, handler_count\n  sw a1, 0(t1)\n"
        "  li t1, 0x10204028\n  li t0, 1 << 16\n  sw t0, 0(t1)\n"    /* EU_BUFFER_CLEAR: the event */
        "  mret\n.text\n");
extern char bar_vector[];
int main(void)
{
    pi_irq_vector_set(bar_vector, 0);
    eu_bar_setup(1, 1u);
    pi_irq_mask_enable(EVT_BARRIER);
    pi_irq_enable();
    uint32_t c0, start;
    /* mcycle (4 cycles), the arriving store (1 + 2 periph latency; it reaches the
     * event unit at c0 + 6), auipc, addi: the k-th addi starts at c0 + 9 + k. */
    __asm__ volatile(".option push\n .option norvc\n"
                     "li a1, 0\n csrr %0, mcycle\n sw zero, 0(%2)\n"
                     "auipc %1, 0\n addi %1, %1, 8\n"
                     ".rept 300\n addi a1, a1, 1\n .endr\n .option pop\n"
                     : "=&r"(c0), "=&r"(start)
                     : "r"(EU_DEMUX_BASE + EU_BARRIER(1) + EU_BARRIER_TRIGGER_SELF)
                     : "a1", "memory");
    pi_irq_disable();
    pi_irq_vector_default();
    start_cycle = c0;
    run_start = start;
    return 0;
}
#endif

#ifdef ALL_IRQ
/* Every core takes interrupts (software event 3 enabled) while it computes. */
static void all_irq(void *arg)
{
    pi_irq_mask_enable(3);
    pi_irq_enable();
    compute(arg);
    pi_irq_disable();
}
int main(void)
{
    for (int i = 0; i < 64; i++) l1_buf[i] = i * 7 + 1;
    pi_cl_team_fork(8, all_irq, 0);
    return 0;
}
#endif
