/* Cycle microbenchmarks: each function runs a0 iterations of one pattern and
 * returns mcycle(after) - mcycle(before). All code is 32-bit and word aligned so
 * the counts follow from the CV32E40P table alone (tests/test_timing.py). */
#include "corev.h"

    .option norvc
    .option norelax
    .text

#define BEGIN(name) .globl name; .type name, @function; .balign 4; name: csrr t1, mcycle; mv t0, a0
#define END(name)   csrr t2, mcycle; sub a0, t2, t1; ret; .size name, . - name

/* addi; bnez (taken N-1 times) */
BEGIN(t_branch_taken)
1:  addi t0, t0, -1
    bnez t0, 1b
END(t_branch_taken)

/* addi; beqz (not taken N-1 times); j */
BEGIN(t_branch_not_taken)
1:  addi t0, t0, -1
    beqz t0, 2f
    j 1b
2:
END(t_branch_not_taken)

/* load, then an instruction that uses it */
BEGIN(t_load_use)
1:  lw   t3, 0(a1)
    add  t4, t4, t3
    addi t0, t0, -1
    bnez t0, 1b
END(t_load_use)

/* the same with one independent instruction between */
BEGIN(t_load_nouse)
1:  lw   t3, 0(a1)
    addi t0, t0, -1
    add  t4, t4, t3
    bnez t0, 1b
END(t_load_nouse)

BEGIN(t_mulh)
1:  mulh t3, t3, t4
    addi t0, t0, -1
    bnez t0, 1b
END(t_mulh)

/* a1: the divisor */
BEGIN(t_div)
1:  div  t3, t4, a1
    addi t0, t0, -1
    bnez t0, 1b
END(t_div)

/* hardware loop with a 3-instruction body, a0 iterations */
BEGIN(t_hwloop)
    cv.setup 0, t0, 1f
    addi t4, t4, 1
    addi t5, t5, 1
    addi t6, t6, 1
1:
END(t_hwloop)

/* the same body as a branch loop */
BEGIN(t_branchloop)
1:  addi t4, t4, 1
    addi t5, t5, 1
    addi t6, t6, 1
    addi t0, t0, -1
    bnez t0, 1b
END(t_branchloop)

/* 8 loads per iteration from a1 (all in one bank) */
BEGIN(t_loads8)
1:  lw   t3, 0(a1)
    lw   t4, 0(a1)
    lw   t5, 0(a1)
    lw   t6, 0(a1)
    lw   t3, 0(a1)
    lw   t4, 0(a1)
    lw   t5, 0(a1)
    lw   t6, 0(a1)
    addi t0, t0, -1
    bnez t0, 1b
END(t_loads8)
