/* A MobileNetV2 bottleneck (inverted residual) on the 8 cores, every tensor in
 * the TCDM (the study's "cores" mapping):
 *
 *   expand   1x1 CIN -> HID (= CIN*T), ReLU6    (skipped when T == 1)
 *   dw       3x3 depthwise, stride S, pad 1, per-channel requant, ReLU6
 *   project  1x1 HID -> COUT, linear
 *   add      residual (S == 1 and CIN == COUT): (x*ma + y*mb + rnd) >> sh
 *
 * Default shape: blocks 4/5 of MobileNetV2 (iss.nn.mobilenetv2.bottleneck_shapes()[4]):
 * 28x28x32, expansion 6 (192 hidden channels), 32 out, stride 1, with the
 * residual add. It is the largest bottleneck whose activations (368 KiB) fit
 * the 512 KiB TCDM with its weights, it has all four layers, and its
 * pointwise weights (32x192 and 192x32) fit one 256x256 IMA crossbar
 * together, as the paper's single-IMA heterogeneous run needs. Other shapes:
 * -DBN_H=.. -DBN_W=.. -DBN_CIN=.. -DBN_T=.. -DBN_COUT=.. -DBN_STRIDE=.. (they
 * must fit the TCDM).
 *
 * The host fills the parameters and the input before the run (initialised
 * data, so the start-up code does not clear them) and reads the activations
 * afterwards:
 *   bn_input[H][W][CIN]                      int8
 *   bn_w_expand  PW4(CIN, HID), bn_b_expand[HID] int32  (kernels.h layouts)
 *   bn_w_dw      DW4(HID), bn_b_dw[HID], bn_m_dw[HID] int32, bn_s_dw[HID] uint8
 *   bn_w_project PW4(HID, COUT), bn_b_project[COUT] int32
 *   bn_scalars   {expand mult, expand shift, project mult, project shift,
 *                 add mult_a, add mult_b, add shift}      int32
 *   outputs: bn_expand[H][W][HID], bn_dw[HO][WO][HID], bn_project[HO][WO][COUT],
 *            bn_output[HO][WO][COUT] (the add; residual blocks only)
 *   per layer: bn_cycles[4] (mcycle of core 0 from the layer's start to the
 *            closing barrier), bn_instret[4][8] (minstret per core).
 * Each layer prints "layer <name>: <in> -> <out>, <MACs> MAC, <cycles> cycles,
 * <MAC/cycle>".
 *
 * Build: iss cc firmware/apps/bottleneck_cores.c -O3 (the kernels are compiled
 * into this unit), or with the kernel sources and -DKERNELS_LINKED. */
#include "pmsis.h"
#include "../kernels/kernels.h"

#ifndef KERNELS_LINKED
#include "../kernels/pointwise.c"
#include "../kernels/pointwise_l2.c"
#include "../kernels/depthwise.c"
#include "../kernels/elementwise.c"
#endif

#include "bottleneck_shape.h"


PI_L1 USED int8_t bn_input[BN_H * BN_W * BN_CIN] = {1};
#if HAS_EXPAND
PI_L1 USED int8_t bn_w_expand[PW4_SIZE(BN_CIN, HID)] = {1};
PI_L1 USED int32_t bn_b_expand[HID] = {1};
PI_L1_BSS USED int8_t bn_expand[BN_H * BN_W * HID];
#endif
PI_L1 USED int8_t bn_w_dw[DW4_SIZE(HID)] = {1};
PI_L1 USED int32_t bn_b_dw[HID] = {1};
PI_L1 USED int32_t bn_m_dw[HID] = {1};
PI_L1 USED uint8_t bn_s_dw[HID] = {1};
PI_L1 USED int8_t bn_w_project[PW4_SIZE(HID, BN_COUT)] = {1};
PI_L1 USED int32_t bn_b_project[BN_COUT] = {1};
USED int32_t bn_scalars[7] = {1};
PI_L1_BSS USED int8_t bn_dw[HO * WO * HID];
PI_L1_BSS USED int8_t bn_project[HO * WO * BN_COUT];
#if RESIDUAL
PI_L1_BSS USED int8_t bn_output[HO * WO * BN_COUT];
#endif
PI_L1_BSS USED int8_t bn_dw_scratch[NUM_CORES * DW_SCRATCH_SIZE(BN_H, BN_W)];
USED uint32_t bn_cycles[NLAYERS];
USED uint32_t bn_instret[NLAYERS][NUM_CORES];

static inline uint32_t mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }
static inline uint32_t minstret(void) { uint32_t v; __asm__ volatile("csrr %0, minstret" : "=r"(v)); return v; }

/* Called by every core right after a layer's closing barrier. */
static inline void mark(int layer, uint32_t *c0, uint32_t *i0)
{
  uint32_t c = mcycle(), i = minstret();
  if (pi_core_id() == 0)
    bn_cycles[layer] = c - *c0;
  bn_instret[layer][pi_core_id()] = i - *i0;
  *c0 = mcycle();
  *i0 = minstret();
}

static void bottleneck(void *arg)
{
  (void)arg;
  uint32_t c0 = mcycle(), i0 = minstret();
  const int8_t *x = bn_input;
#if HAS_EXPAND
  pw_conv_int8(bn_input, bn_w_expand, bn_b_expand, bn_expand, BN_H * BN_W, BN_CIN, HID, bn_scalars[0],
               bn_scalars[1], 1);
  x = bn_expand;
#endif
  mark(0, &c0, &i0);
  dw_conv3x3_int8(x, bn_w_dw, bn_b_dw, bn_m_dw, bn_s_dw, bn_dw, BN_H, BN_W, HID, BN_STRIDE, 1,
                  bn_dw_scratch);
  mark(1, &c0, &i0);
  pw_conv_int8(bn_dw, bn_w_project, bn_b_project, bn_project, HO * WO, HID, BN_COUT, bn_scalars[2],
               bn_scalars[3], 0);
  mark(2, &c0, &i0);
#if RESIDUAL
  residual_add_int8(bn_input, bn_project, bn_output, HO * WO * BN_COUT, bn_scalars[4], bn_scalars[5],
                    bn_scalars[6]);
#endif
  mark(3, &c0, &i0);
}

static void report(const char *name, int h, int w, int ci, int ho, int wo, int co, uint32_t macs,
                   uint32_t cycles)
{
  uint32_t x100 = cycles ? (uint32_t)(((uint64_t)macs * 100 + cycles / 2) / cycles) : 0;
  printf("layer %s: %dx%dx%d -> %dx%dx%d, %u MAC, %u cycles, %u.%02u MAC/cycle\n", name, h, w, ci, ho,
         wo, co, (unsigned)macs, (unsigned)cycles, (unsigned)(x100 / 100), (unsigned)(x100 % 100));
}

int main(void)
{
  uint32_t t0 = mcycle();
  pi_cl_team_fork(0, bottleneck, 0);
  uint32_t total = mcycle() - t0;
  if (HAS_EXPAND)
    report("expand", BN_H, BN_W, BN_CIN, BN_H, BN_W, HID, BN_H * BN_W * BN_CIN * HID, bn_cycles[0]);
  report("dw", BN_H, BN_W, HID, HO, WO, HID, HO * WO * HID * 9, bn_cycles[1]);
  report("project", HO, WO, HID, HO, WO, BN_COUT, HO * WO * HID * BN_COUT, bn_cycles[2]);
  if (RESIDUAL)
    report("add", HO, WO, BN_COUT, HO, WO, BN_COUT, 0, bn_cycles[3]);
  printf("bottleneck %dx%dx%d t%d -> %dx%dx%d s%d on %d cores: %u cycles\n", BN_H, BN_W, BN_CIN, BN_T, HO,
         WO, BN_COUT, BN_STRIDE, pi_cl_cluster_nb_cores(), (unsigned)total);
  return 0;
}
