/* Start-up of every core: global pointer, core id in tp, a stack per core in the
 * TCDM (staggered across banks). Core 0 clears .bss and runs main;
 * the others wait in the team-fork dispatch loop (runtime.c). */
#include "archi.h"

#ifndef NUM_CORES
#define NUM_CORES 8
#endif
#ifndef ISS_STACK_SIZE
#define ISS_STACK_SIZE 2048
#endif

    .section .text.start, "ax"
    .globl _start
    .type _start, @function
    /* Frame info for debuggers only (.debug_frame, nothing loaded): _start is
     * the outermost frame, so a backtrace ends here cleanly. */
    .cfi_sections .debug_frame
_start:
    .cfi_startproc
    .cfi_undefined ra
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    csrr    tp, mhartid
    andi    a0, tp, 0x1f
    li      t0, NUM_CORES
    bgeu    a0, t0, .Lspare_core
    /* Stacks are ISS_STACK_SIZE + 16 bytes apart: cores at the same depth of
     * the same code then use different TCDM banks (with a power-of-two stride
     * every core's frame would sit in one bank and they would all conflict). */
    la      sp, __stacks_end
    li      t0, ISS_STACK_SIZE + 16
    mul     t1, a0, t0
    sub     sp, sp, t1
    bnez    a0, .Lworker
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  la      t0, __l1_bss_start
    la      t1, __l1_bss_end
3:  bgeu    t0, t1, 4f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       3b
4:  call    __iss_main
.Lworker:
    call    __iss_worker
.Lspare_core:
    /* A core beyond NUM_CORES (the ELF was built for fewer): clock-gated for good. */
    wfi
    j       .Lspare_core
    .cfi_endproc
    .size _start, . - _start

    .section .stacks, "aw", @nobits
    .balign 16
    .space  NUM_CORES * (ISS_STACK_SIZE + 16)
