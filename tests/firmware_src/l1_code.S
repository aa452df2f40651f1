/* Code in the TCDM (.l1.text), measured with mcycle like timing_micro.S: all
 * 32-bit and word aligned, so the counts follow from the CV32E40P table alone
 * (tests/test_elf_loading.py). */
#include "corev.h"

    .option norvc
    .option norelax
    .section .l1.text, "ax"

#define BEGIN(name) .globl name; .type name, @function; .balign 4; name: csrr t1, mcycle; mv t0, a0
#define END(name)   csrr t2, mcycle; sub a0, t2, t1; ret; .size name, . - name

/* addi; bnez (taken N-1 times) */
BEGIN(l1_branch_taken)
1:  addi t0, t0, -1
    bnez t0, 1b
END(l1_branch_taken)

/* a TCDM load, then an instruction that uses it (a1: the word's address) */
BEGIN(l1_load_use)
1:  lw   t3, 0(a1)
    add  t4, t4, t3
    addi t0, t0, -1
    bnez t0, 1b
END(l1_load_use)

/* hardware loop with a 3-instruction body, a0 iterations */
BEGIN(l1_hwloop)
    cv.setup 0, t0, 1f
    addi t4, t4, 1
    addi t5, t5, 1
    addi t6, t6, 1
1:
END(l1_hwloop)
