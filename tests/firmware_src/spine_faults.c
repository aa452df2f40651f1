/* One program, several ways to fail, chosen by `mode` (written by the test). */
#include "pmsis.h"

volatile int mode = -1;   /* in .data, so the test can patch it in the ELF */
volatile uint32_t sink;

__attribute__((noinline)) void do_illegal(void) { __asm__ volatile(".word 0x00000000"); }
__attribute__((noinline)) void do_bad_load(void) { sink = *(volatile uint32_t *)0x30000000; }
__attribute__((noinline)) void do_bad_store(void) { *(volatile uint32_t *)0x0badf00c = 1; }
__attribute__((noinline)) void do_spin(void) { for (;;) sink++; }

int main(void)
{
    switch (mode) {
    case 1: do_illegal(); break;
    case 2: do_bad_load(); break;
    case 3: do_bad_store(); break;
    case 4: do_spin(); break;
    }
    return 0;
}
