/* Shared part of the offloaded MobileNetV2 bottleneck apps:
 * bottleneck_hetero.c (pointwise on the IMA, depthwise on the DWA, residual on
 * the cores: golden mapping "hetero") and bottleneck_ima_cores.c (pointwise on
 * the IMA, depthwise and residual on the 8 cores: golden mapping "ima_cores").
 * Both compute exactly iss.nn.mobilenetv2.bottleneck_forward of the "hetero"
 * parameters (the two mappings share parameters and results).
 *
 * Shape: the -DBN_* defines of bottleneck_cores.c (default 28x28x32, t=6, 32
 * out, stride 1: MobileNetV2 blocks 4/5, see iss/study/bottleneck.py for why).
 *
 * IMA layers (expand = IMA layer 0 when T != 1, project = the next one). The
 * host maps their 4-bit weight matrices w4[rows = Cin][cols = Cout] onto
 * 256x256 crossbars with iss.nn.mapping.map_layers (Tile&Pack) and fills:
 *   bn_tiles[BN_NTILES][10]  uint16 tile records in iss.nn.mapping.TILE_FIELDS
 *                            order (layer, array, x, y, width, height, row_off,
 *                            col_off, row_tile, n_row_tiles), sorted by layer
 *   bn_plot[BN_PLOT_WORDS]   uint32 SUBMIT_PLOT words, tile after tile
 *                            (iss.nn.ima_model.pack_plot_words of the tile)
 *   bn_ima[2][6]             int32 per IMA layer: ADC_LOW, ADC_HIGH (accumulator
 *                            units), and for row-split layers the partial-sum
 *                            requant mult, shift, clamp lo, clamp hi
 * The weights are programmed once, before the timed part (PCM programming is
 * 20-30x slower than an MVM: paper). In the timed part each tile is ONE job
 * sequence over all pixels: NUM_JOBS = pixels, alpha stepping of the input by
 * Cin and of the output by Cout bytes per job. Tiles of a layer on different
 * IMA instances run concurrently. A layer with several row tiles (Cin > 256)
 * writes each row tile's int8 ADC outputs into bn_psum; the cores then add them
 * in int16 and requantize (iss.nn.ima_model.mvm_tiled).
 *
 * Other inputs (host-filled initialised data): bn_input[H][W][CIN] int8,
 * depthwise bias/mult/shift (bn_b_dw, bn_m_dw, bn_s_dw) and weights (layout
 * per app), bn_scalars = {add mult_a, add mult_b, add shift}.
 * Outputs: bn_expand, bn_dw, bn_project, bn_output as in bottleneck_cores.c;
 * bn_cycles[4]: mcycle of core 0 per layer (expand, dw, project, add);
 * bn_total: the whole timed part; bn_t0: core 0's mcycle when it began (the
 * plot's window).
 *
 * -DBN_SKIP_BOTTLENECK builds the same program without the timed part (set-up
 * and report only): the study subtracts its energy from the full run's to get
 * the bottleneck's own. */
#ifndef BOTTLENECK_COMMON_H
#define BOTTLENECK_COMMON_H
#include "pmsis.h"
#include "ima.h"
#include "../kernels/kernels.h"

#include "bottleneck_shape.h"
/* the default shape's mapping: expand 32x192 and project 192x32 on one crossbar */
#ifndef BN_NTILES
#define BN_NTILES 2
#endif
#ifndef BN_PLOT_WORDS
#define BN_PLOT_WORDS (32 * 24 + 192 * 4)
#endif
#ifndef BN_PSUM_BYTES
#define BN_PSUM_BYTES 0
#endif

#define TILE_FIELDS 10

PI_L1 USED int8_t bn_input[BN_H * BN_W * BN_CIN] = {1};
#if HAS_EXPAND
PI_L1_BSS USED int8_t bn_expand[BN_H * BN_W * HID];
#endif
PI_L1 USED int32_t bn_b_dw[HID] = {1};
PI_L1 USED int32_t bn_m_dw[HID] = {1};
PI_L1 USED uint8_t bn_s_dw[HID] = {1};
PI_L1_BSS USED int8_t bn_dw[HO * WO * HID];
PI_L1_BSS USED int8_t bn_project[HO * WO * BN_COUT];
#if RESIDUAL
PI_L1_BSS USED int8_t bn_output[HO * WO * BN_COUT];
#endif
PI_L1_BSS USED int8_t bn_psum[BN_PSUM_BYTES > 0 ? BN_PSUM_BYTES : 4];
USED uint16_t bn_tiles[BN_NTILES * TILE_FIELDS] = {1};
USED uint32_t bn_plot[BN_PLOT_WORDS] = {1};
USED int32_t bn_ima[2][6] = {{1}};
USED int32_t bn_scalars[3] = {1};
USED uint32_t bn_cycles[NLAYERS];
USED uint32_t bn_total;
USED uint32_t bn_t0;

static inline uint32_t bn_mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

/* Program every tile's window (before the timed part). */
static void bn_program_weights(void)
{
  const uint32_t *words = bn_plot;
  for (int t = 0; t < BN_NTILES; t++) {
    const uint16_t *r = &bn_tiles[t * TILE_FIELDS];
    int array = r[1], x = r[2], y = r[3], width = r[4], height = r[5];
    ima_program(array, x, y, width, height, words);
    words += height * ((width + 7) / 8);
  }
  for (int t = 0; t < BN_NTILES; t++)
    ima_wait(bn_tiles[t * TILE_FIELDS + 1]);
}

/* Partial sums of a row-split IMA layer: out = requant(sum_t psum[t]) in int16
 * then (s*mult + round) >> shift, clamp; pixels split over the team. */
typedef struct {
  int8_t *out;
  int n_pix, cols, n_tiles;
  int32_t mult, shift, lo, hi;
} bn_psum_arg_t;

static void bn_psum_requant(void *arg)
{
  const bn_psum_arg_t *a = (const bn_psum_arg_t *)arg;
  int n = a->n_pix * a->cols;
  int nc = pi_cl_team_nb_cores(), id = pi_core_id();
  int chunk = (n + nc - 1) / nc;
  int i0 = id * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
  int32_t rnd = a->shift ? 1 << (a->shift - 1) : 0;
  for (int i = i0; i < i1; i++) {
    int16_t s = 0;
    for (int t = 0; t < a->n_tiles; t++)
      s += bn_psum[t * n + i];
    int32_t v = ((int32_t)s * a->mult + rnd) >> a->shift;
    a->out[i] = (int8_t)(v < a->lo ? a->lo : v > a->hi ? a->hi : v);
  }
}

/* One IMA pointwise layer over n_pix pixels: in [n_pix][cin] -> out [n_pix][cout]. */
static void bn_ima_pointwise(int layer, const int8_t *in, int8_t *out, int n_pix, int cin, int cout)
{
  const int32_t *p = bn_ima[layer];
  uint32_t used = 0;
  int n_rt = 1;
  for (int t = 0; t < BN_NTILES; t++) {
    const uint16_t *r = &bn_tiles[t * TILE_FIELDS];
    if (r[0] != layer)
      continue;
    int array = r[1], x = r[2], y = r[3], width = r[4], height = r[5];
    int row_off = r[6], col_off = r[7], row_tile = r[8];
    n_rt = r[9];
    int8_t *dst = n_rt > 1 ? bn_psum + row_tile * n_pix * cout + col_off : out + col_off;
    ima_job(array, x, y, width, height, (uint32_t)(in + row_off), (uint32_t)height, (uint32_t)dst, height, 1,
            n_pix);
    ima_steps(array, n_pix, cin, 1, cin, n_pix, cout, 1, cout);
    ima_adc_range(array, (uint32_t)p[0], (uint32_t)p[1]);
    ima_trigger(array);
    used |= 1u << array;
  }
  for (int a = 0; a < 32; a++)
    if (used & (1u << a))
      ima_wait(a);
  if (n_rt > 1) {
    bn_psum_arg_t arg = {out, n_pix, cout, n_rt, p[2], p[3], p[4], p[5]};
    pi_cl_team_fork(0, bn_psum_requant, &arg);
  }
}

static void bn_add_entry(void *arg)
{
  (void)arg;
#if RESIDUAL
  residual_add_int8(bn_input, bn_project, bn_output, HO * WO * BN_COUT, bn_scalars[0], bn_scalars[1],
                    bn_scalars[2]);
#endif
}

static void bn_report(const char *name, const char *unit, int h, int w, int ci, int ho, int wo, int co,
                      uint32_t macs, uint32_t cycles)
{
  uint32_t x100 = cycles ? (uint32_t)(((uint64_t)macs * 100 + cycles / 2) / cycles) : 0;
  printf("layer %s on %s: %dx%dx%d -> %dx%dx%d, %u MAC, %u cycles, %u.%02u MAC/cycle\n", name, unit, h, w, ci,
         ho, wo, co, (unsigned)macs, (unsigned)cycles, (unsigned)(x100 / 100), (unsigned)(x100 % 100));
}

/* Each app defines the depthwise layer (called from core 0 in main) and its
 * main calls bn_main(variant name, unit of the depthwise layer). */
static void bn_depthwise(const int8_t *x);

static void bn_run(void)
{
  uint32_t t0 = bn_mcycle(), t = t0, now;
  bn_t0 = t0;
  const int8_t *x = bn_input;
#if HAS_EXPAND
  bn_ima_pointwise(0, bn_input, bn_expand, BN_H * BN_W, BN_CIN, HID);
  x = bn_expand;
#endif
  now = bn_mcycle(); bn_cycles[0] = now - t; t = now;
  bn_depthwise(x);
  now = bn_mcycle(); bn_cycles[1] = now - t; t = now;
  bn_ima_pointwise(HAS_EXPAND ? 1 : 0, bn_dw, bn_project, HO * WO, HID, BN_COUT);
  now = bn_mcycle(); bn_cycles[2] = now - t; t = now;
#if RESIDUAL
  pi_cl_team_fork(0, bn_add_entry, 0);
#endif
  now = bn_mcycle(); bn_cycles[3] = now - t;
  bn_total = now - t0;
}

static int bn_main(const char *variant, const char *dw_unit)
{
  /* The tile table, weights and requantization come from the host; built and
   * run alone (make firmware, iss run), the table is still its placeholder. */
  for (int t = 0; t < BN_NTILES; t++)
    if (!bn_tiles[t * TILE_FIELDS + 4] || !bn_tiles[t * TILE_FIELDS + 5]) {
      printf("%s: the IMA tile table is empty: this program's weights and inputs come from the host; "
             "run it with `iss bench bottleneck` (iss/study/bottleneck.py)\n", variant);
      return 2;
    }
  bn_program_weights();
#ifndef BN_SKIP_BOTTLENECK
  bn_run();
#endif
  if (HAS_EXPAND)
    bn_report("expand", "IMA", BN_H, BN_W, BN_CIN, BN_H, BN_W, HID, BN_H * BN_W * BN_CIN * HID, bn_cycles[0]);
  bn_report("dw", dw_unit, BN_H, BN_W, HID, HO, WO, HID, HO * WO * HID * 9, bn_cycles[1]);
  bn_report("project", "IMA", HO, WO, HID, HO, WO, BN_COUT, HO * WO * HID * BN_COUT, bn_cycles[2]);
  if (RESIDUAL)
    bn_report("add", "cores", HO, WO, BN_COUT, HO, WO, BN_COUT, 0, bn_cycles[3]);
  printf("bottleneck %dx%dx%d t%d -> %dx%dx%d s%d %s: %u cycles\n", BN_H, BN_W, BN_CIN, BN_T, HO, WO, BN_COUT,
         BN_STRIDE, variant, (unsigned)bn_total);
  return 0;
}

#endif
