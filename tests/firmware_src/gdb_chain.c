/* CORE-V instructions back to back (the executor runs them as one chain without
 * going back to the engine): a breakpoint on the second and a watchpoint on the
 * store must still stop there (tests/test_gdb.py). */
#include "pmsis.h"

volatile int watched;

int main(void)
{
    if (pi_core_id() != 0)
        return 0;
    int a = 3, b = 9, c, d;
    volatile int *p = &watched;
    __asm__ volatile("cv.max %[c], %[a], %[b]\n\t"
                     ".globl chained_second\n"
                     "chained_second:\n\t"
                     "cv.min %[d], %[a], %[b]\n\t"
                     "cv.max %[c], %[c], %[d]\n\t"
                     ".globl chained_store\n"
                     "chained_store:\n\t"
                     "cv.sw %[c], (%[p]), 4\n\t"
                     "cv.max %[d], %[c], %[d]\n\t"
                     : [c] "=&r"(c), [d] "=&r"(d), [p] "+r"(p)
                     : [a] "r"(a), [b] "r"(b)
                     : "memory");
    return watched + d;
}
