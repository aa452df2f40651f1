/* Interrupts and exceptions on the cluster cores (CV32E40P machine mode).
 *
 * Line N of a core is raised while event N is pending in its event-unit buffer
 * and set in its event-unit IRQ mask (PULP eu_v3); taking the interrupt clears
 * the event. Lines: software events 3 and 7, DMA 8/9, timer 10/11,
 * accelerators 12-15, barrier 16, mutex 17, dispatch 18, 19-31 (archi.h EVT_*).
 *
 * The start-up code installs a vectored trap table (crt0.S): interrupt N calls
 * the handler set with pi_irq_handler_set(N, f) with interrupts disabled; the
 * entry code saves the caller-saved registers, mepc and mstatus, so a handler
 * may call pi_irq_enable() to let other interrupts nest. A trap with no handler
 * ends the simulation with an error naming the core, PC and source line.
 *
 * Handlers written with __attribute__((interrupt("machine"))) may be installed
 * directly with pi_irq_vector_set (direct mode: one handler for all traps). */
#ifndef ISS_IRQ_H
#define ISS_IRQ_H
#include <stdint.h>
#include "archi.h"

#define PI_MSTATUS_MIE (1u << 3)
#define PI_MCAUSE_IRQ (1u << 31)
#define PI_EXC_ILLEGAL 2
#define PI_EXC_BREAKPOINT 3
#define PI_EXC_ECALL 11

/* The registers the trap entry saved (crt0.S), as an exception handler sees them. */
typedef struct pi_trap_frame {
    uint32_t ra, t0, t1, t2, t3, t4, t5, t6;
    uint32_t a0, a1, a2, a3, a4, a5, a6, a7;
    uint32_t mepc, mstatus;
} pi_trap_frame;

extern void (*__iss_irq_handlers[32])(int line);
extern uint32_t (*__iss_exception_handler)(uint32_t mcause, uint32_t mepc, pi_trap_frame *frame);
extern char __iss_vectors[];

#define __PI_CSR_READ(name) ({ uint32_t __v; __asm__ volatile("csrr %0, " #name : "=r"(__v) :: "memory"); __v; })
#define __PI_CSR_WRITE(name, v) __asm__ volatile("csrw " #name ", %0" :: "r"((uint32_t)(v)) : "memory")
#define __PI_CSR_SET(name, v) __asm__ volatile("csrs " #name ", %0" :: "r"((uint32_t)(v)) : "memory")
#define __PI_CSR_CLEAR(name, v) __asm__ volatile("csrc " #name ", %0" :: "r"((uint32_t)(v)) : "memory")

/* Global enable (mstatus.MIE). pi_irq_disable returns the previous state for
 * pi_irq_restore (critical sections). */
static inline void pi_irq_enable(void) { __PI_CSR_SET(mstatus, PI_MSTATUS_MIE); }
static inline uint32_t pi_irq_disable(void)
{
    uint32_t old;
    __asm__ volatile("csrrc %0, mstatus, %1" : "=r"(old) : "r"(PI_MSTATUS_MIE) : "memory");
    return old & PI_MSTATUS_MIE;
}
static inline void pi_irq_restore(uint32_t state) { if (state) pi_irq_enable(); }

/* One line of this core: the event-unit IRQ mask bit and the mie bit. */
static inline void pi_irq_mask_enable(int line)
{
    *(volatile uint32_t *)(EU_DEMUX_BASE + EU_IRQ_MASK_OR) = 1u << line;
    __PI_CSR_SET(mie, 1u << line);
}
static inline void pi_irq_mask_disable(int line)
{
    __PI_CSR_CLEAR(mie, 1u << line);
    *(volatile uint32_t *)(EU_DEMUX_BASE + EU_IRQ_MASK_AND) = 1u << line;
}

/* The handler of `line` for every core (the table is shared). */
static inline void pi_irq_handler_set(int line, void (*handler)(int line)) { __iss_irq_handlers[line] = handler; }

/* The handler of exceptions (illegal instruction, ebreak, ecall) for every core:
 * it returns the PC to resume at (e.g. mepc + 4 to step over an ecall). */
static inline void pi_exception_handler_set(uint32_t (*handler)(uint32_t, uint32_t, pi_trap_frame *))
{
    __iss_exception_handler = handler;
}

/* This core's trap vector: base 256-byte aligned; vectored: interrupt N at base + 4 N. */
static inline void pi_irq_vector_set(void *base, int vectored) { __PI_CSR_WRITE(mtvec, (uint32_t)base | (vectored ? 1u : 0u)); }
/* Back to the runtime's default table. */
static inline void pi_irq_vector_default(void) { pi_irq_vector_set(__iss_vectors, 1); }

/* Sleep until a line enabled in mie is raised (it is taken first if mstatus.MIE is set). */
static inline void pi_irq_wait(void) { __asm__ volatile("wfi" ::: "memory"); }

/* Older PULP runtime names. */
#define hal_irq_enable() pi_irq_enable()
#define hal_irq_disable() pi_irq_disable()
#define hal_irq_restore(s) pi_irq_restore(s)

#endif
