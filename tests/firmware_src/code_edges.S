/* Code the loader and the executor must get right at the edges of decoding:
 * encodings Unicorn would run but the CV32E40P rejects, HINTs, and a jump into
 * the middle of a 32-bit instruction (tests/test_code_edges.py). */
#include "archi.h"

    .option norvc
    .option norelax
    .text

#define FUNC(name) .globl name; .type name, @function; .balign 4; name:
#define END(name) .size name, . - name
#define ONE(name, enc) FUNC(name) enc; ret; END(name)

/* Each runs its one encoding, then returns: an illegal instruction at name+0. */
ONE(ill_c_fld, .half 0x2000)            /* c.fld  fs0,0(s0): RV32DC only */
ONE(ill_c_fsd, .half 0xa000)            /* c.fsd */
ONE(ill_c_fldsp, .half 0x2502)          /* c.fldsp fa0,0(sp) */
ONE(ill_c_fsdsp, .half 0xa002)          /* c.fsdsp */
ONE(ill_c_q0_f100, .half 0x8000)        /* quadrant 0, funct3 100: reserved */
ONE(ill_c_slli_64, .half 0x1502)        /* c.slli a0,32: shamt[5]=1 is RV64 only */
ONE(ill_c_srli_64, .half 0x9101)        /* c.srli a0,32 */
ONE(ill_c_srai_64, .half 0x9501)        /* c.srai a0,32 */
ONE(ill_c_subw, .half 0x9d0d)           /* c.subw a0,a1: RV64 only */
ONE(ill_c_addw, .half 0x9d2d)           /* c.addw a0,a1 */
ONE(ill_flw, .word 0x0005a507)          /* flw fa0,0(a1): no F extension */
ONE(ill_fadd, .word 0x00b57553)         /* fadd.s fa0,fa0,fa1 */

/* HINTs and reserved fields that must run: fence.i with rs1/rd/imm set (the base
 * ISA ignores them) and c.lui x0. Returns 7. */
FUNC(hints)
    .word 0x0015150f                    /* fence.i, rd=a0 rs1=a0 imm=1 */
    .half 0x6005                        /* c.lui zero,1 */
    .half 0x0001                        /* c.nop (keeps the 32-bit alignment) */
    li a0, 7
    ret
END(hints)

/* A jump into the middle of a 32-bit instruction (a function pointer off by 2)
 * whose upper half is c.j . : it loops there, and must cost cycles so that the
 * cycle limit stops it. */
FUNC(jump_mid)
    la   t0, 1f
    addi t0, t0, 2
    jr   t0
1:  lui  a0, 0xa0010                    /* 0xa0010537: upper halfword 0xa001 = c.j . */
    ret
END(jump_mid)

/* A taken branch onto a 0x0000 halfword (a block Unicorn cannot translate, of
 * size 0): an illegal instruction there, whatever views are on. */
FUNC(branch_zero)
    li   t0, 1
    bnez t0, 1f
    nop
1:  .half 0x0000
    .half 0x0001
    ret
END(branch_zero)

/* The same, where the upper half is c.fld (0x2000: RV32DC only, which Unicorn
 * would run): an illegal instruction there. */
FUNC(jump_mid_bad)
    la   t0, 1f
    addi t0, t0, 2
    jr   t0
1:  lui  a0, 0x20000                    /* 0x20000537: upper halfword 0x2000 = c.fld */
    ret
END(jump_mid_bad)
