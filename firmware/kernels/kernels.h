/* int8 MobileNetV2 kernels on the cluster's cores.
 *
 * Arithmetic and layouts are exactly those of the numpy golden models
 * (iss/nn/quant.py, iss/nn/layers.py); the tests compare bit for bit.
 *
 * Conventions
 * -----------
 * - Activations: int8, HWC (channel fastest), C-contiguous; zero padding is
 *   the int8 value 0.
 * - Accumulator: int32, starts at the int32 bias.
 * - Requantization: out = clamp((acc * mult + round) >> shift, lo, hi), with
 *   round = shift ? 1 << (shift - 1) : 0 and ">>" arithmetic (round half up).
 *   The golden calibration guarantees that acc * mult + round fits int32 for
 *   every input, so the kernels use a 32-bit mul and cv.addrnr
 *   ((rD + rs1 + 2^(n-1)) >>> n, no rounding term when n = 0) and are exact.
 *   [lo, hi] is [0, 127] when `relu` (ReLU6: 6.0 is the int8 code 127,
 *   cv.clipu 8) and [-128, 127] otherwise (cv.clip 8).
 *   0 <= mult < 2^31, 0 <= shift <= 31.
 * - Parallelism: every kernel is called by EVERY core of the current team
 *   (from inside a pi_cl_team_fork entry, like PULP-NN), with the same
 *   arguments. Each core computes its share from pi_core_id() and
 *   pi_cl_team_nb_cores(); the kernel returns after a team barrier, so its
 *   output is complete on every core. With a team of one core they also work
 *   called from main.
 * - Memory: any tensor may live in the TCDM or in L2 (the cores reach both);
 *   TCDM is the fast path. pw_conv_int8_l2 tiles a pointwise layer whose
 *   tensors are in L2 through the TCDM with DMA double buffering.
 *
 * Packed weights ("PW4" layout) for pw_conv_int8, fc_int8, conv3x3_s2_int8
 * ----------------------------------------------------------------------
 * A weight matrix w[K][N] (K inputs, N outputs; iss/nn's w[cin, cout], or a
 * conv's w[kh, kw, cin, cout] seen as w[(kh*3 + kw)*cin + ci][cout]) is stored
 * as groups of 4 output channels, each group as K4/4 words per channel
 * interleaved so that one post-incremented pointer walks a group:
 *
 *     K4 = round_up(K, 4), N4 = round_up(N, 4)
 *     packed[((g * (K4/4) + k) * 4 + j) * 4 + b] = w[4k + b][4g + j]
 *         g < N4/4 (output group), k < K4/4 (input word), j < 4 (channel in
 *         the group), b < 4 (byte of the word); 0 where 4k+b >= K or 4g+j >= N.
 *
 * Size PW4_SIZE(K, N) = K4 * N4 bytes; word-aligned (4) base. The numpy
 * equivalent (tests and apps):
 *     wp = zeros((N4, K4)); wp[:N, :K] = w.T
 *     packed = wp.reshape(N4//4, 4, K4//4, 4).transpose(0, 2, 1, 3).ravel()
 *
 * Packed depthwise weights ("DW4" layout) for dw_conv3x3_int8
 * ------------------------------------------------------------
 * w[kh][kw][c] (iss/nn) is stored as 3 words per channel, the 4th byte 0:
 *     packed[(c * 3 + kh) * 4 + kw] = w[kh][kw][c] (kw < 3), packed[... + 3] = 0
 * Size DW4_SIZE(C) = 12 * C bytes, word-aligned base.
 */
#ifndef ISS_KERNELS_H
#define ISS_KERNELS_H
#include <stdint.h>

#define KERNELS_ROUND4(x) (((x) + 3) & ~3)
#define PW4_SIZE(K, N) (KERNELS_ROUND4(K) * KERNELS_ROUND4(N))
#define DW4_SIZE(C) (12 * (C))

/* Pointwise (1x1) convolution: for every pixel p < n_pix and channel co < cout
 *     out[p][co] = requant(bias[co] + sum_ci in[p][ci] * w[ci][co])
 * per-layer mult/shift, ReLU6 clamp if relu. `in` [n_pix][cin], `out`
 * [n_pix][cout] (HWC flattened), `w_packed` PW4(cin, cout). Pixels are split
 * over the cores in pairs; each pair x group of 4 channels is a 4x2 register
 * tile computed with cv.sdotsp.b (4 MACs) in a hardware loop over cin/4
 * words (14 instructions per 32 MACs). When cin % 4 == 0, cout % 4 == 0 and
 * `out` is word aligned (every MobileNetV2 layer) a pixel pair is one asm
 * block: hardware loop 1 over the channel groups around loop 0, about 42
 * instructions per group besides the inner loop (bias, requantization, packed
 * word stores). Otherwise a C path handles any cin/cout (scalar tail; input
 * rows then start misaligned). Measured on the 28x28x32 t6 bottleneck:
 * 1.65 MAC/instruction (32 -> 192) and 2.13 (192 -> 32) per core. */
void pw_conv_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                  int n_pix, int cin, int cout, int32_t mult, int32_t shift, int relu);

/* Same layer with `in`, `w_packed`, `bias` and `out` anywhere (typically L2):
 * the weights and bias are copied once into `l1_buf`, then blocks of `tile_pix`
 * pixels are double-buffered through it with the cluster DMA (core 0 drives
 * the DMA; input tile i+1 and the output of tile i-1 move while tile i is
 * computed). `l1_buf` (TCDM, word aligned) must hold
 * PW_L2_BUF_SIZE(cin, cout, tile_pix) bytes; tile_pix >= 1 (even is best).
 * Needs dma.h's DMA (iss/periph/dma.py) attached to the cluster. */
#define PW_L2_BUF_SIZE(cin, cout, tile_pix) \
  (PW4_SIZE(cin, cout) + 4 * KERNELS_ROUND4(cout) + 2 * KERNELS_ROUND4((tile_pix) * (cin)) + \
   2 * KERNELS_ROUND4((tile_pix) * (cout)))
void pw_conv_int8_l2(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                     int n_pix, int cin, int cout, int32_t mult, int32_t shift, int relu,
                     int8_t *l1_buf, int tile_pix);

/* Fully connected: out[co] = requant(bias[co] + sum_ci in[ci] * w[ci][co]),
 * per-layer mult/shift, ReLU6 if relu; `w_packed` PW4(cin, cout). Output
 * channel groups of 4 are split over the cores. */
void fc_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
             int cin, int cout, int32_t mult, int32_t shift, int relu);

/* Dense 3x3 convolution, stride 2, padding 1 (MobileNetV2's first layer):
 *     out[oh][ow][co] = requant(bias[co] + sum_{kh,kw,ci}
 *                        in[2oh+kh-1][2ow+kw-1][ci] * w[kh][kw][ci][co])
 * in [h][w][cin], out [ho][wo][cout] with ho = (h-1)/2+1, wo = (w-1)/2+1;
 * `w_packed` PW4(9*cin, cout). Output pixels are split over the cores; each
 * core builds the zero-padded im2col rows (K4 = round_up(9*cin, 4) bytes) of
 * two pixels in its slice of `scratch` (CONV3X3_SCRATCH_SIZE(cin) bytes per
 * core of the team, TCDM, word aligned) and runs the pointwise 4x2 tile. */
#define CONV3X3_SCRATCH_SIZE(cin) (2 * KERNELS_ROUND4(9 * (cin)))
void conv3x3_s2_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                     int h, int w, int cin, int cout, int32_t mult, int32_t shift, int relu,
                     int8_t *scratch);

/* The same layer on a band of `ho` output rows of a taller image, for row
 * tiling without recomputation: `in` holds the band's h input rows; `top` = 1
 * when the band starts at the image's first row (zero row above it), 0 when
 * in's row 0 is input row 2*o0-1 of the band's first output row o0. Rows at
 * or past h are zero (the image's bottom edge). conv3x3_s2_int8 is the band
 * of all rows (ho = (h-1)/2+1, top = 1). */
void conv3x3_s2_rows_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                          int h, int w, int cin, int cout, int ho, int top, int32_t mult, int32_t shift,
                          int relu, int8_t *scratch);

/* Depthwise 3x3, stride 1 or 2, padding 1, per-channel requant:
 *     out[oh][ow][c] = requant_c(bias[c] + sum_{kh,kw}
 *                       in[s*oh+kh-1][s*ow+kw-1][c] * w[kh][kw][c])
 * with mult[c], shift[c]; ReLU6 if relu. in [h][w][c], out [ho][wo][c],
 * ho = (h-1)/s+1, wo = (w-1)/s+1; `w_packed` DW4(c). Channels are split over
 * the cores; per channel a core copies the plane into its zero-bordered slice
 * of `scratch` (CHW, DW_SCRATCH_SIZE(h, w) bytes per core of the team, TCDM,
 * word aligned), then each output is 3 (misaligned) word loads and 3
 * cv.sdotsp.b against the channel's 3 weight words, in a hardware loop. */
#define DW_SCRATCH_PITCH(w) KERNELS_ROUND4((w) + 3)
#define DW_SCRATCH_SIZE(h, w) (((h) + 2) * DW_SCRATCH_PITCH(w))
void dw_conv3x3_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias,
                     const int32_t *mult, const uint8_t *shift, int8_t *out,
                     int h, int w, int c, int stride, int relu, int8_t *scratch);

/* Residual add: out[i] = clamp((a[i]*mult_a + b[i]*mult_b + round) >> shift,
 * -128, 127) for i < n (iss.nn.layers.residual_add, per-layer scalars,
 * linear clamp). Elements are split over the cores. out may alias a or b. */
void residual_add_int8(const int8_t *a, const int8_t *b, int8_t *out, int n,
                       int32_t mult_a, int32_t mult_b, int32_t shift);

/* Global average pool: out[c] = requant(sum_{p < n_pix} in[p][c]) with
 * per-layer mult/shift and the linear clamp [-128, 127]
 * (iss.nn.layers.global_avgpool); in [n_pix][c]. Channels are split over the
 * cores. */
void avgpool_int8(const int8_t *in, int8_t *out, int n_pix, int c, int32_t mult, int32_t shift);

#endif
