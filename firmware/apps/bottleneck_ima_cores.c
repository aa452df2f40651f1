/* MobileNetV2 bottleneck with pointwise on the IMA and depthwise 3x3 on the 8
 * cores (golden mapping "ima_cores": the cluster without the depthwise
 * accelerator). Pointwise layers, buffers and host interface:
 * bottleneck_common.h; depthwise: dw_conv3x3_int8 (firmware/kernels).
 *
 * Depthwise inputs: bn_w_dw in the kernels' DW4 layout (kernels.h), bn_b_dw,
 * bn_m_dw, bn_s_dw.
 *
 * Build: iss cc firmware/apps/bottleneck_ima_cores.c -O3 (kernels compiled in),
 * or with the kernel sources and -DKERNELS_LINKED (make firmware). */
#include "bottleneck_common.h"

#ifndef KERNELS_LINKED
#include "../kernels/pointwise.c"
#include "../kernels/pointwise_l2.c"
#include "../kernels/depthwise.c"
#include "../kernels/elementwise.c"
#endif

PI_L1 USED int8_t bn_w_dw[DW4_SIZE(HID)] = {1};
PI_L1_BSS USED int8_t bn_dw_scratch[NUM_CORES * DW_SCRATCH_SIZE(BN_H, BN_W)];

static const int8_t *bn_dw_in;

static void bn_dw_entry(void *arg)
{
  (void)arg;
  dw_conv3x3_int8(bn_dw_in, bn_w_dw, bn_b_dw, bn_m_dw, bn_s_dw, bn_dw, BN_H, BN_W, HID, BN_STRIDE, 1,
                  bn_dw_scratch);
}

static void bn_depthwise(const int8_t *x)
{
  bn_dw_in = x;
  pi_cl_team_fork(0, bn_dw_entry, 0);
}

int main(void)
{
  return bn_main("ima_cores (IMA + cores)", "cores");
}
