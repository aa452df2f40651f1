/* MobileNetV2 bottleneck on the heterogeneous cluster (golden mapping
 * "hetero"): pointwise expand and project on the IMA (4-bit weights programmed
 * once before the timed part; one job sequence over all pixels per crossbar
 * tile), depthwise 3x3 on the depthwise accelerator (DWA), residual add on the
 * 8 cores. Buffers, host interface and IMA code: bottleneck_common.h.
 *
 * Depthwise inputs: bn_w_dw9[3][3][HID] int8 (iss.nn's w[kh][kw][c], the DWA's
 * layout), bn_b_dw, bn_m_dw, bn_s_dw.
 *
 * Build: iss cc firmware/apps/bottleneck_hetero.c -O3 (kernels compiled in), or
 * with the kernel sources and -DKERNELS_LINKED (make firmware). */
#include "bottleneck_common.h"
#include "dwa.h"

#ifndef KERNELS_LINKED
#include "../kernels/pointwise.c"
#include "../kernels/pointwise_l2.c"
#include "../kernels/depthwise.c"
#include "../kernels/elementwise.c"
#endif

PI_L1 USED int8_t bn_w_dw9[9 * HID] = {1};

static void bn_depthwise(const int8_t *x)
{
  dwa_job_t j = {
    .in = x, .out = bn_dw, .weights = bn_w_dw9, .bias = bn_b_dw, .mult = bn_m_dw, .shift = bn_s_dw,
    .h = BN_H, .w = BN_W, .c = HID, .stride = BN_STRIDE, .padding = DWA_PAD_SAME,
    .clamp_lo = 0, .clamp_hi = 127, .in_row_stride = 0, .out_row_stride = 0,
  };
  dwa_start(&j);
  dwa_wait();
}

int main(void)
{
  return bn_main("hetero (IMA + DWA + cores)", "DWA");
}
