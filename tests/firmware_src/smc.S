/* Functions whose code the tests rewrite at run time (tests/firmware_src/smc.c,
 * tests/test_smc.py). Each is 32-bit aligned, without compressed instructions,
 * and `patchable` + 4 * k is the k-th word of each. */
#include "archi.h"

    .option norvc
    .option norelax
    .text

#define FUNC(name) .globl name; .type name, @function; .balign 4; name:
#define END(name) .size name, . - name

/* int f_corev(int a, int b): cv.max a0, a0, a1 (rewritten into cv.min). */
FUNC(f_corev)
    cv.max a0, a0, a1
    ret
END(f_corev)

/* int f_add(int a, int b): add a0, a0, a1 (rewritten into cv.max, or into div). */
FUNC(f_add)
    add  a0, a0, a1
    ret
END(f_add)

/* int f_one(void): addi a0, zero, 1 (rewritten into addi a0, zero, 2). */
FUNC(f_one)
    addi a0, zero, 1
    ret
END(f_one)

/* int f_l1_corev(int a, int b): cv.max a0, a0, a1, in the TCDM (rewritten into
 * cv.min: code in its own region of the code map, 192 MiB from the L2 code). */
    .section .l1.text, "ax"
FUNC(f_l1_corev)
    cv.max a0, a0, a1
    ret
END(f_l1_corev)
    .text

/* void store_cv_sw(uint32_t *at, uint32_t word): the word stored with cv.sw
 * (post-increment), then fence.i. */
FUNC(store_cv_sw)
    cv.sw a1, (a0), 4
    fence.i
    ret
END(store_cv_sw)

/* uint32_t cycles_of(int (*f)(int, int), int a, int b): mcycle across a call of f
 * (one of the functions above: they leave t2, t4 alone). */
FUNC(cycles_of)
    mv   t4, ra
    mv   t1, a0
    mv   a0, a1
    mv   a1, a2
    csrr t2, mcycle
    jalr t1
    csrr t3, mcycle
    sub  a0, t3, t2
    jr   t4
END(cycles_of)
