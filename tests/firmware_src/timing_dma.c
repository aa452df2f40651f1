/* Core 0 reads a TCDM buffer in a loop while (with_dma == 1) the DMA writes into
 * the same buffer's banks from L2; `loop_cycles` is the loop's mcycle delta.
 * with_dma == 2: the core waits for the transfer before the loop. */
#include "pmsis.h"
#include "dma.h"

#define BYTES 16384
int with_dma = 1;
uint32_t loop_cycles;
static uint8_t src[BYTES];
PI_L1 uint8_t dst[BYTES];

static inline uint32_t mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

int main(void)
{
    int id = -1;
    if (with_dma)
        id = plp_dma_memcpy((uint32_t)src, (uint32_t)dst, BYTES, 1);
    if (with_dma == 2) {            /* wait for the transfer first: clock-gated on the DMA */
        plp_dma_wait(id);
        id = -1;
    }
    volatile uint32_t *p = (volatile uint32_t *)dst;
    uint32_t t0 = mcycle(), sum = 0;
    for (int i = 0; i < 1024; i++)
        sum += p[i & 255];
    loop_cycles = mcycle() - t0;
    if (id >= 0)
        plp_dma_wait(id);
    return sum == 12345 ? 2 : 0;   /* keep the loads */
}
