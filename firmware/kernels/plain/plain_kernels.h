/* int8 kernels in plain C, written the way PULP-NN users write them: vector
 * types and PULP builtins (pulp_builtins.h) for the SIMD dot products, C loops
 * everywhere, no inline assembly and no hand-written hardware-loop macros. They
 * show what `iss cc`'s hardware-loop pass (toolchain/hwloops.py) does for
 * ordinary C; bench/bench_hwloops.py runs them with and without it.
 *
 * Arithmetic and layouts follow kernels.h (HWC int8 activations, int32 bias,
 * requant clamp((acc * mult + round) >> shift), ReLU6 [0, 127] when relu, else
 * [-128, 127]) so that the numpy golden models of iss/nn check them bit for bit.
 * Weights are in the natural PULP-NN order, one output channel after the other:
 *   conv3x3:   w[cout][3][3][cin]      (K = 9 * cin per output channel)
 *   pointwise: w[cout][cin]
 *   linear:    w[cout][cin]
 *   depthwise: w[c][3][4]              (3 taps per row, the 4th byte 0)
 * Like kernels.h, every core of the team calls a kernel with the same
 * arguments; it splits the work by pi_core_id() and ends with a team barrier.
 * Sizes: cin % 4 == 0 and cout % 4 == 0 (channels % 4 == 0 for depthwise). */
#ifndef ISS_PLAIN_KERNELS_H
#define ISS_PLAIN_KERNELS_H
#include <stdint.h>

/* 3x3 convolution, stride 1, zero padding 1: out[h][w][cout]. `im2col`: 2 * 9 * cin
 * bytes per core of the team, word aligned. */
void plain_conv3x3(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int h, int wd,
                   int cin, int cout, int32_t mult, int32_t shift, int relu, int8_t *im2col);

/* 1x1 convolution over n_pix pixels: out[p][co] = requant(bias[co] + in[p] . w[co]). */
void plain_pointwise(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int n_pix,
                     int cin, int cout, int32_t mult, int32_t shift, int relu);

/* 3x3 depthwise convolution, stride 1, zero padding 1, per-layer requant.
 * `buf`: (h + 2) * (wd + 4) bytes per core of the team, word aligned. */
void plain_depthwise(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int h, int wd,
                     int c, int32_t mult, int32_t shift, int relu, int8_t *buf);

/* Fully connected: out[co] = requant(bias[co] + in . w[co]). */
void plain_linear(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int cin, int cout,
                  int32_t mult, int32_t shift, int relu);

#endif
