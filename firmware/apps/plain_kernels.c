/* The plain-C kernels (firmware/kernels/plain) on the cluster's cores, one
 * layer each, for bench/bench_hwloops.py (built with and without `iss cc`'s
 * hardware-loop pass):
 *
 *   0 conv3x3    16x16x32 -> 64, stride 1, pad 1 (the standard PULP layer)
 *   1 pointwise  16x16x64 -> 64
 *   2 depthwise  16x16x64, 3x3, stride 1, pad 1
 *   3 linear     1024 -> 64
 *
 * The host writes inputs, weights (plain_kernels.h layouts), biases and
 * pk_requant {mult, shift, relu} per layer before the run and reads the
 * outputs afterwards. Per layer and core: pk_cycles (cycles from the fork to
 * the kernel's closing barrier) and pk_branch_stall (PI_PERF_JR_STALL: jump and
 * taken-branch stall cycles). Each layer prints "<name>: <cycles> cycles".
 *
 * Build: iss cc firmware/apps/plain_kernels.c -O3 (the kernels are compiled into
 * this unit). */
#include "pmsis.h"
#include "../kernels/plain/plain_kernels.h"
#include "../kernels/plain/plain_kernels.c"

#define USED __attribute__((used, retain, aligned(4)))
#define NLAYERS 4

#define CV_H 16
#define CV_W 16
#define CV_CIN 32
#define CV_COUT 64
#define PW_PIX 256
#define PW_CIN 64
#define PW_COUT 64
#define DW_H 16
#define DW_W 16
#define DW_C 64
#define FC_CIN 1024
#define FC_COUT 64

PI_L1 USED int8_t pk_conv_in[CV_H * CV_W * CV_CIN] = {1};
PI_L1 USED int8_t pk_conv_w[CV_COUT * 9 * CV_CIN] = {1};
PI_L1 USED int32_t pk_conv_b[CV_COUT] = {1};
PI_L1_BSS USED int8_t pk_conv_out[CV_H * CV_W * CV_COUT];
PI_L1_BSS USED int8_t pk_im2col[NUM_CORES * 2 * 9 * CV_CIN];

PI_L1 USED int8_t pk_pw_in[PW_PIX * PW_CIN] = {1};
PI_L1 USED int8_t pk_pw_w[PW_COUT * PW_CIN] = {1};
PI_L1 USED int32_t pk_pw_b[PW_COUT] = {1};
PI_L1_BSS USED int8_t pk_pw_out[PW_PIX * PW_COUT];

PI_L1 USED int8_t pk_dw_in[DW_H * DW_W * DW_C] = {1};
PI_L1 USED int8_t pk_dw_w[DW_C * 12] = {1};
PI_L1 USED int32_t pk_dw_b[DW_C] = {1};
PI_L1_BSS USED int8_t pk_dw_out[DW_H * DW_W * DW_C];
PI_L1_BSS USED int8_t pk_dw_buf[NUM_CORES * (DW_H + 2) * (DW_W + 4)];

PI_L1 USED int8_t pk_fc_in[FC_CIN] = {1};
PI_L1 USED int8_t pk_fc_w[FC_COUT * FC_CIN] = {1};
PI_L1 USED int32_t pk_fc_b[FC_COUT] = {1};
PI_L1_BSS USED int8_t pk_fc_out[FC_COUT];

USED int32_t pk_requant[NLAYERS][3] = {{1}};
USED uint32_t pk_cycles[NLAYERS][NUM_CORES];
USED uint32_t pk_branch_stall[NLAYERS][NUM_CORES];

static void layer(void *arg)
{
  int k = (int)(intptr_t)arg, id = pi_core_id();
  int32_t m = pk_requant[k][0], s = pk_requant[k][1], r = pk_requant[k][2];
  pi_perf_conf(1 << PI_PERF_CYCLES | 1 << PI_PERF_JR_STALL);
  pi_perf_reset();
  pi_perf_start();
  switch (k) {
  case 0:
    plain_conv3x3(pk_conv_in, pk_conv_w, pk_conv_b, pk_conv_out, CV_H, CV_W, CV_CIN, CV_COUT, m, s, r,
                  pk_im2col);
    break;
  case 1:
    plain_pointwise(pk_pw_in, pk_pw_w, pk_pw_b, pk_pw_out, PW_PIX, PW_CIN, PW_COUT, m, s, r);
    break;
  case 2:
    plain_depthwise(pk_dw_in, pk_dw_w, pk_dw_b, pk_dw_out, DW_H, DW_W, DW_C, m, s, r, pk_dw_buf);
    break;
  default:
    plain_linear(pk_fc_in, pk_fc_w, pk_fc_b, pk_fc_out, FC_CIN, FC_COUT, m, s, r);
    break;
  }
  pi_perf_stop();
  pk_cycles[k][id] = pi_perf_read(PI_PERF_CYCLES);
  pk_branch_stall[k][id] = pi_perf_read(PI_PERF_JR_STALL);
}

int main(void)
{
  static const char *names[NLAYERS] = {"conv3x3", "pointwise", "depthwise", "linear"};
  for (int k = 0; k < NLAYERS; k++) {
    pi_cl_team_fork(NUM_CORES, layer, (void *)(intptr_t)k);
    printf("%s: %u cycles\n", names[k], (unsigned)pk_cycles[k][0]);
  }
  return 0;
}
