/* Faults whose report must be one clean line, chosen by
 * `mode` (written into the ELF by tests/test_bad_inputs.py). */
#include "pmsis.h"

volatile int mode = -1;   /* in .data, so the test can patch it in the ELF */
volatile uint32_t sink;
volatile uint32_t where = 1; /* an address for the modes that need one (in .data too) */

__attribute__((noinline)) void do_ebreak(void) { __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop"); }
__attribute__((noinline)) void do_c_ebreak(void) { __asm__ volatile(".option push\n.option rvc\nc.ebreak\n.option pop"); }
__attribute__((noinline)) void do_ecall(void) { __asm__ volatile("ecall"); }
__attribute__((noinline)) void do_jump(void) { ((void (*)(void))where)(); }
__attribute__((noinline)) void do_load(void) { sink = *(volatile uint32_t *)where; }
__attribute__((noinline)) void do_store(void) { *(volatile uint32_t *)where = 1; }

int main(void)
{
    if (pi_core_id() != 0)
        return 0;
    switch (mode) {
    case 1: do_ebreak(); break;
    case 2: do_c_ebreak(); break;
    case 3: do_ecall(); break;
    case 4: do_jump(); break;
    case 5: do_load(); break;
    case 6: do_store(); break;
    }
    return 0;
}
