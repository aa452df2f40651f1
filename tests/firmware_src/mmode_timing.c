/* Cycle counts of trap entry and mret (iss/config.py [machine]): an ecall taken
 * by a direct-mode handler in assembly that steps mepc over it and returns. */
#include "pmsis.h"

volatile uint32_t c0, c1, c2;

__asm__(".section .text.timing_vec, \"ax\"\n.balign 256\n.globl timing_vector\ntiming_vector:\n"
        "  csrr a1, mcycle\n"        /* c1: the handler's first instruction */
        "  csrr t0, mepc\n"
        "  addi t0, t0, 4\n"
        "  csrw mepc, t0\n"
        "  mret\n.text\n");
extern char timing_vector[];

int main(void)
{
    uint32_t a, b, c;
    pi_irq_vector_set(timing_vector, 0);
    __asm__ volatile("csrr a0, mcycle\n ecall\n csrr a2, mcycle\n mv %0, a0\n mv %1, a1\n mv %2, a2"
                     : "=r"(a), "=r"(b), "=r"(c) :: "a0", "a1", "a2", "t0", "memory");
    c0 = a;
    c1 = b;
    c2 = c;
    pi_irq_vector_default();
    return 0;
}
