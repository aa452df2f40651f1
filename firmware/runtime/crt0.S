/* Start-up of every core: the trap vector, global pointer, core id in tp, a
 * stack per core in the TCDM (staggered across banks). Core 0 clears .bss and
 * runs main; the others wait in the team-fork dispatch loop (runtime.c). In a
 * program with a fabric controller (cluster.c linked) the FC starts at
 * __iss_fc_start, clears .bss and runs main; the cluster cores start here once
 * it fetch-enables them, and core 0 serves the FC's tasks.
 *
 * The default trap vector (vectored mode, 256-byte aligned as the CV32E40P
 * requires): exceptions go to the handler set with pi_exception_handler_set,
 * interrupt N to the one set with pi_irq_handler_set(N, ..) (irq.h). A trap
 * nobody handles is reported to the simulator (cluster controller TRAP), which
 * ends the run with a one-line error naming the core and the trapping PC. */
#include "archi.h"

#ifndef NUM_CORES
#define NUM_CORES 8
#endif
#ifndef ISS_STACK_SIZE
#define ISS_STACK_SIZE 2048
#endif

/* Every hart: the trap vector, the global pointer, mhartid in tp. */
.macro HART_SETUP
    la      t0, __iss_vectors + 1       /* MODE 1: vectored interrupts */
    csrw    mtvec, t0
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    csrr    tp, mhartid
.endm

    .section .text.start, "ax"
    .globl _start
    .type _start, @function
    /* Frame info for debuggers only (.debug_frame, nothing loaded): _start is
     * the outermost frame, so a backtrace ends here cleanly. */
    .cfi_sections .debug_frame
_start:
    .cfi_startproc
    .cfi_undefined ra
    HART_SETUP
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
    /* With a fabric controller (cluster.c linked: the program uses the cluster
     * API), the FC has set up memory and core 0 serves its tasks; the symbol
     * is weak, 0 otherwise. */
    lui     t0, %hi(__iss_cluster_main)
    addi    t0, t0, %lo(__iss_cluster_main)
    bnez    t0, .Lcluster_master
    call    .Lclear_bss
    call    __iss_main
.Lworker:
    call    __iss_worker
.Lspare_core:
    /* A core beyond NUM_CORES (the ELF was built for fewer): clock-gated for good. */
    wfi
    j       .Lspare_core
.Lcluster_master:
    jalr    t0
    j       .Lspare_core
    .cfi_endproc
    .size _start, . - _start

/* .bss and .l1_bss cleared (t0, t1 only). The loops start word-aligned: a
 * taken branch to an unaligned target costs a cycle more per word. */
.Lclear_bss:
    la      t0, __bss_start
    la      t1, __bss_end
    .balign 4
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  la      t0, __l1_bss_start
    la      t1, __l1_bss_end
    .balign 4
3:  bgeu    t0, t1, 4f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       3b
4:  ret

/* Where the fabric controller starts (the simulator reads this symbol for
 * programs whose cluster.c note asks for an FC): its stack in L2, memory set
 * up, then main (cluster.c). The cluster cores start at _start once the FC
 * fetch-enables them. */
    .globl __iss_fc_start
    .type __iss_fc_start, @function
__iss_fc_start:
    .cfi_startproc
    .cfi_undefined ra
    HART_SETUP
    lui     sp, %hi(__iss_fc_stack + ISS_FC_STACK_SIZE)
    addi    sp, sp, %lo(__iss_fc_stack + ISS_FC_STACK_SIZE)
    call    .Lclear_bss
    lui     t0, %hi(__iss_fc_main)
    addi    t0, t0, %lo(__iss_fc_main)
    jalr    t0
    j       .Lspare_core
    .cfi_endproc
    .size __iss_fc_start, . - __iss_fc_start
    .weak   __iss_cluster_main, __iss_fc_main, __iss_fc_stack

/* The build's facts for the simulator (iss/elf.py reads them): an ELF built
 * for more cores than the cluster has is refused with both numbers. */
    .section .note.iss, "", @note
    .balign 4
    .word   4                   /* name size */
    .word   8                   /* descriptor size */
    .word   1                   /* type: build info */
    .asciz  "ISS"
    .word   NUM_CORES
    .word   ISS_STACK_SIZE

    .section .stacks, "aw", @nobits
    .balign 16
    .space  NUM_CORES * (ISS_STACK_SIZE + 16)

/* ------------------------------------------------------------------ traps */
#include "corev.h"      /* the hardware-loop instructions (cv.start, cv.end, cv.count) */
    .section .text.vectors, "ax"
    .balign 256
    .globl __iss_vectors
    .option push
    .option norvc
__iss_vectors:
    j       __iss_exception_entry       /* exceptions (mcause 2, 3, 11) */
    .rept 31
    j       __iss_irq_entry             /* interrupt line 1..31 (base + 4 * id) */
    .endr
    .option pop

/* The interrupted code's caller-saved registers, mepc, mstatus and hardware-loop
 * registers go on its stack: a handler may re-enable interrupts (pi_irq_enable)
 * to let others nest, and may run hardware loops of its own (the compiler makes
 * them): an interrupted loop is restored (cv.start/cv.end/cv.count) on return. */
#define FRAME 96
.macro SAVE
    addi    sp, sp, -FRAME
    sw      ra, 0(sp)
    sw      t0, 4(sp)
    sw      t1, 8(sp)
    sw      t2, 12(sp)
    sw      t3, 16(sp)
    sw      t4, 20(sp)
    sw      t5, 24(sp)
    sw      t6, 28(sp)
    sw      a0, 32(sp)
    sw      a1, 36(sp)
    sw      a2, 40(sp)
    sw      a3, 44(sp)
    sw      a4, 48(sp)
    sw      a5, 52(sp)
    sw      a6, 56(sp)
    sw      a7, 60(sp)
    csrr    t0, mepc
    sw      t0, 64(sp)
    csrr    t0, mstatus
    sw      t0, 68(sp)
    csrr    t0, 0xcc0                   /* lpstart0, lpend0, lpcount0, then loop 1 */
    sw      t0, 72(sp)
    csrr    t0, 0xcc1
    sw      t0, 76(sp)
    csrr    t0, 0xcc2
    sw      t0, 80(sp)
    csrr    t0, 0xcc3
    sw      t0, 84(sp)
    csrr    t0, 0xcc4
    sw      t0, 88(sp)
    csrr    t0, 0xcc5
    sw      t0, 92(sp)
.endm
.macro RESTORE_MRET
    lw      t0, 80(sp)                  /* an interrupted loop 0 (count > 0) */
    beqz    t0, 1f
    lw      t1, 72(sp)
    cv.start 0, t1
    lw      t1, 76(sp)
    cv.end  0, t1
    cv.count 0, t0
1:  lw      t0, 92(sp)                  /* and loop 1 */
    beqz    t0, 2f
    lw      t1, 84(sp)
    cv.start 1, t1
    lw      t1, 88(sp)
    cv.end  1, t1
    cv.count 1, t0
2:  lw      t0, 68(sp)
    csrw    mstatus, t0                 /* MIE off again, MPIE as at entry */
    lw      t0, 64(sp)
    csrw    mepc, t0
    lw      ra, 0(sp)
    lw      t0, 4(sp)
    lw      t1, 8(sp)
    lw      t2, 12(sp)
    lw      t3, 16(sp)
    lw      t4, 20(sp)
    lw      t5, 24(sp)
    lw      t6, 28(sp)
    lw      a0, 32(sp)
    lw      a1, 36(sp)
    lw      a2, 40(sp)
    lw      a3, 44(sp)
    lw      a4, 48(sp)
    lw      a5, 52(sp)
    lw      a6, 56(sp)
    lw      a7, 60(sp)
    addi    sp, sp, FRAME
    mret
.endm

    .section .text.traps, "ax"
    .globl __iss_irq_entry
    .type __iss_irq_entry, @function
__iss_irq_entry:
    SAVE
    csrr    a0, mcause
    andi    a0, a0, 0x1f
    la      t0, __iss_irq_handlers
    slli    t1, a0, 2
    add     t0, t0, t1
    lw      t0, 0(t0)
    beqz    t0, __iss_unhandled_trap
    jalr    t0                          /* handler(line) */
    RESTORE_MRET
    .size __iss_irq_entry, . - __iss_irq_entry

    .globl __iss_exception_entry
    .type __iss_exception_entry, @function
__iss_exception_entry:
    SAVE
    lw      t0, __iss_exception_handler
    beqz    t0, __iss_unhandled_trap
    csrr    a0, mcause
    lw      a1, 64(sp)
    mv      a2, sp                      /* the saved registers (irq.h: pi_trap_frame) */
    jalr    t0                          /* returns where to resume */
    sw      a0, 64(sp)
    RESTORE_MRET
    .size __iss_exception_entry, . - __iss_exception_entry

    .globl __iss_unhandled_trap
    .type __iss_unhandled_trap, @function
__iss_unhandled_trap:
    csrr    t0, mcause
    li      t1, ARCHI_CLUSTER_CTRL
    sw      t0, CTRL_TRAP(t1)           /* the simulator ends the run with the error */
1:  j       1b
    .size __iss_unhandled_trap, . - __iss_unhandled_trap

    .section .bss.iss_traps, "aw", @nobits
    .balign 4
    .globl __iss_irq_handlers, __iss_exception_handler
__iss_irq_handlers:
    .space  32 * 4
__iss_exception_handler:
    .space  4
/* void __iss_call_on_stack(void (*fn)(void *), void *arg, void *stack_top):
 * fn(arg) with sp = stack_top (cluster tasks' own stack sizes, runtime.c). */
    .section .text.__iss_call_on_stack, "ax"
    .globl __iss_call_on_stack
    .type __iss_call_on_stack, @function
__iss_call_on_stack:
    mv      t0, sp
    addi    sp, a2, -16
    sw      ra, 12(sp)
    sw      t0, 8(sp)
    mv      t1, a0
    mv      a0, a1
    jalr    t1
    lw      ra, 12(sp)
    lw      t0, 8(sp)
    mv      sp, t0
    ret
    .size __iss_call_on_stack, . - __iss_call_on_stack
