/* A region of code the execution fuzz test (tests/test_fuzz_exec.py) fills with
 * random words in a copy of the ELF before each run. Registers point into a
 * TCDM scratch buffer first so that random loads and stores often hit memory. */
#include "archi.h"

    .option norvc
    .option norelax
    .text
    .globl fuzz_entry
    .type fuzz_entry, @function
    .balign 4
fuzz_entry:
    la   t0, fuzz_scratch
    mv   a0, t0
    addi a1, t0, 64
    addi a2, t0, 128
    addi a3, t0, 256
    addi a4, t0, 512
    addi a5, t0, 1024
    mv   s0, t0
    mv   s1, a1
    mv   t1, a2
    mv   t2, a3
    .globl fuzz_region
fuzz_region:
    .rept 128
    nop
    .endr
    .globl fuzz_region_end
fuzz_region_end:
    li   a0, 0
    li   a1, ARCHI_CLUSTER_CTRL + CTRL_EOC
    sw   a0, 0(a1)
1:  j 1b
    .size fuzz_entry, . - fuzz_entry
