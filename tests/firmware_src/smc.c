/* Self-modifying code (tests/test_smc.py): `mode` picks a case, `word_a` and
 * `word_b` are the encodings to write (the test assembles them); results land
 * in `out`. */
#include "pmsis.h"

int f_corev(int a, int b), f_add(int a, int b), f_one(void), f_l1_corev(int a, int b);
void store_cv_sw(uint32_t *at, uint32_t word);
uint32_t cycles_of(int (*f)(int, int), int a, int b);

int mode = -1;                       /* initialised data: the test writes them before the run */
uint32_t word_a = 1, word_b = 1;     /* the encodings to write (non-zero: in .data, not cleared at start) */
volatile uint32_t out[8];
PI_L1 uint32_t staging[4];

static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

static void patch_by_core1(void *arg)
{
    (void)arg;
    if (pi_core_id() == 1) {
        for (volatile int i = 0; i < 200; i++)      /* core 0 runs f_corev meanwhile */
            ;
        *(volatile uint32_t *)f_corev = word_a;        /* core 1 patches it ... */
    } else {
        int k = 0;
        while (f_corev(3, 9) == 9 && k < 100000) {   /* ... core 0 sees it after fence.i */
            fence_i();
            k++;
        }
        out[1] = f_corev(3, 9);
        out[2] = k > 0 && k < 100000;
    }
}

int main(void)
{
    switch (mode) {
    case 0:   /* CORE-V rewritten into CORE-V */
        out[0] = f_corev(3, 9);
        *(volatile uint32_t *)f_corev = word_a;
        fence_i();
        out[1] = f_corev(3, 9);
        break;
    case 1:   /* standard rewritten into CORE-V */
        out[0] = f_add(3, 9);
        *(volatile uint32_t *)f_add = word_a;
        fence_i();
        out[1] = f_add(3, 9);
        break;
    case 2:   /* a patch by another core, then fence.i */
        out[0] = f_corev(3, 9);
        pi_cl_team_fork(2, patch_by_core1, 0);
        break;
    case 3:   /* a patch written with cv.sw */
        out[0] = f_one();
        store_cv_sw((uint32_t *)f_one, word_a);
        out[1] = f_one();
        break;
    case 4: { /* code loaded by the DMA (TCDM -> L2) */
        staging[0] = word_a;
        int tid = plp_dma_l1ToExt((uint32_t)f_corev, (uint32_t)staging, 4);
        out[0] = f_corev(3, 9);                      /* (translated while the DMA runs) */
        plp_dma_wait(tid);
        fence_i();
        out[1] = f_corev(3, 9);
        break;
    }
    case 5:   /* the cost of the new instruction: add rewritten into div */
        out[0] = cycles_of(f_add, 7, 1);
        *(volatile uint32_t *)f_add = word_a;
        fence_i();
        out[1] = cycles_of(f_add, 7, 1);
        out[2] = f_add(7, 1);
        break;
    case 6:   /* rewritten back and forth: every version runs */
        for (int k = 0; k < 4; k++) {
            *(volatile uint32_t *)f_corev = (k & 1) ? word_b : word_a;
            fence_i();
            out[k] = f_corev(3, 9);
        }
        break;
    case 7:   /* code in the TCDM rewritten: the L2 code beside it is not */
        out[0] = f_l1_corev(3, 9);
        *(volatile uint32_t *)f_l1_corev = word_a;
        fence_i();
        out[1] = f_l1_corev(3, 9);
        out[2] = f_corev(3, 9);
        break;
    }
    return 0;
}
