/* One program, several ways to fail, chosen by `mode` (written by the test). */
#include "pmsis.h"

volatile int mode = -1;   /* in .data, so the test can patch it in the ELF */
volatile uint32_t sink;

__attribute__((noinline)) void do_illegal(void) { __asm__ volatile(".word 0x00000000"); }
__attribute__((noinline)) void do_bad_load(void) { sink = *(volatile uint32_t *)0x30000000; }
__attribute__((noinline)) void do_bad_store(void) { *(volatile uint32_t *)0x0badf00c = 1; }
__attribute__((noinline)) void do_spin(void) { for (;;) sink++; }
__attribute__((noinline)) void do_ebreak(void) { __asm__ volatile("ebreak"); }
__attribute__((noinline)) void do_ecall(void) { __asm__ volatile("ecall"); }
__attribute__((noinline)) void do_unhandled_irq(void)
{
    pi_irq_mask_enable(3);     /* software event 3 = MSI, no handler registered */
    pi_irq_enable();
    eu_sw_event_send(3, 1);
    for (;;) sink++;
}

int main(void)
{
    switch (mode) {
    case 1: do_illegal(); break;
    case 2: do_bad_load(); break;
    case 3: do_bad_store(); break;
    case 4: do_spin(); break;
    case 5: do_ebreak(); break;
    case 6: do_ecall(); break;
    case 7: do_unhandled_irq(); break;
    }
    return 0;
}
