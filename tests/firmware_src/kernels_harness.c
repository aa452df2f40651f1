/* Test harness of firmware/kernels: the host writes tensors into `arena`
 * (TCDM) or `l2_arena` (L2), the call into `args` (op, then raw addresses and
 * integers, see tests/test_kernels.py), runs, and reads the outputs back.
 * Every core of the team calls the kernel; per-core minstret/mcycle deltas of
 * the call land in `instret` / `cycles`. */
#include "pmsis.h"
#include "../../firmware/kernels/kernels.h"

#ifndef KERNELS_LINKED /* built alone (make firmware): the kernels go into this unit */
#include "../../firmware/kernels/pointwise.c"
#include "../../firmware/kernels/pointwise_l2.c"
#include "../../firmware/kernels/depthwise.c"
#include "../../firmware/kernels/elementwise.c"
#endif

#define ARENA_SIZE (320 * 1024)
#define L2_ARENA_SIZE (256 * 1024)

PI_L1 __attribute__((aligned(16), used, retain)) int8_t arena[ARENA_SIZE] = {1};
__attribute__((aligned(16), used, retain)) int8_t l2_arena[L2_ARENA_SIZE] = {1};
volatile uint32_t args[24] = {0xFFFFFFFFu};
__attribute__((used, retain)) volatile uint32_t instret[8] = {1};
__attribute__((used, retain)) volatile uint32_t cycles[8] = {1};

#define P8(i) ((int8_t *)args[i])
#define P32(i) ((int32_t *)args[i])
#define I(i) ((int)args[i])

static inline uint32_t rd_instret(void) { uint32_t v; __asm__ volatile("csrr %0, minstret" : "=r"(v)); return v; }
static inline uint32_t rd_cycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

static void entry(void *unused)
{
  (void)unused;
  uint32_t i0 = rd_instret(), c0 = rd_cycle();
  switch (args[0]) {
  case 0:
    pw_conv_int8(P8(1), P8(2), P32(3), P8(4), I(5), I(6), I(7), I(8), I(9), I(10));
    break;
  case 1:
    fc_int8(P8(1), P8(2), P32(3), P8(4), I(5), I(6), I(7), I(8), I(9));
    break;
  case 2:
    conv3x3_s2_int8(P8(1), P8(2), P32(3), P8(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), P8(12));
    break;
  case 3:
    dw_conv3x3_int8(P8(1), P8(2), P32(3), P32(4), (const uint8_t *)args[5], P8(6), I(7), I(8), I(9),
                    I(10), I(11), P8(12));
    break;
  case 4:
    residual_add_int8(P8(1), P8(2), P8(3), I(4), I(5), I(6), I(7));
    break;
  case 5:
    avgpool_int8(P8(1), P8(2), I(3), I(4), I(5), I(6));
    break;
  case 6:
    pw_conv_int8_l2(P8(1), P8(2), P32(3), P8(4), I(5), I(6), I(7), I(8), I(9), I(10), P8(11), I(12));
    break;
  case 7:
    conv3x3_s2_rows_int8(P8(1), P8(2), P32(3), P8(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13),
                         P8(14));
    break;
  }
  uint32_t i1 = rd_instret(), c1 = rd_cycle();
  instret[pi_core_id()] = i1 - i0;
  cycles[pi_core_id()] = c1 - c0;
}

int main(void)
{
  pi_cl_team_fork(0, entry, 0);
  return 0;
}
