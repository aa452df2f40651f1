/* Depthwise 3x3 convolution, stride 1 or 2, padding 1, per-channel requant
 * (kernels.h). Channels are split over the cores. Per channel the core
 * copies the HWC plane into a zero-bordered CHW buffer (2 strided byte loads
 * and 2 stores per 2 pixels, hardware loop), then computes every output with
 * 3 misaligned word loads (the 4th byte meets a 0 weight) and 3 cv.sdotsp.b,
 * requantizes (mul, cv.addrnr, cv.clip[u]) and stores with a post-increment of
 * C: 11 instructions per output (9 MACs) in a hardware loop. */
#include "kernels_common.h"

/* One output row of one channel: wo outputs from the padded rows at p0. */
#define DW_ROW_LOOP(CLIP)                                                          \
  __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",                                        \
                                 "cv.lw %[x0], (%[p0]), %[st]\n\t"                 \
                                 "cv.lw %[x1], (%[p1]), %[st]\n\t"                 \
                                 "cv.lw %[x2], (%[p2]), %[st]\n\t"                 \
                                 "mv %[acc], %[b]\n\t"                             \
                                 "cv.sdotsp.b %[acc], %[x0], %[w0]\n\t"            \
                                 "cv.sdotsp.b %[acc], %[x1], %[w1]\n\t"            \
                                 "cv.sdotsp.b %[acc], %[x2], %[w2]\n\t"            \
                                 "mul %[acc], %[acc], %[m]\n\t"                    \
                                 "cv.addrnr %[acc], zero, %[sh]\n\t"               \
                                 CLIP " %[acc], %[acc], 8\n\t"                     \
                                 "cv.sb %[acc], (%[po]), %[cs]\n\t")               \
                   : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [po] "+r"(po),   \
                     [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [acc] "=&r"(acc) \
                   : [n] "r"(wo), [st] "r"(stride), [cs] "r"(c), [b] "r"(b),       \
                     [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2), [m] "r"(m), [sh] "r"(sh) \
                   : "memory")

void dw_conv3x3_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias,
                     const int32_t *mult, const uint8_t *shift, int8_t *out,
                     int h, int w, int c, int stride, int relu, int8_t *scratch)
{
  const int ho = (h - 1) / stride + 1, wo = (w - 1) / stride + 1;
  const int pitch = DW_SCRATCH_PITCH(w);
  int8_t *buf = scratch + pi_core_id() * DW_SCRATCH_SIZE(h, w);
  const int size = DW_SCRATCH_SIZE(h, w);
  for (int i = 0; i < size; i += 4)
    *(int32_t *)(buf + i) = 0; /* borders (and the over-read column) stay 0 */

  int c0, c1;
  k_split(c, 1, &c0, &c1);
  const int half = w >> 1;
  for (int ch = c0; ch < c1; ch++) {
    /* HWC plane -> CHW interior of buf */
    const int8_t *src = in + ch;
    for (int ih = 0; ih < h; ih++) {
      int8_t *dst = buf + (ih + 1) * pitch + 1;
      if (half > 0) {
        int32_t t0, t1;
        __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                                       "cv.lb %[t0], (%[s]), %[cs]\n\t"
                                       "cv.lb %[t1], (%[s]), %[cs]\n\t"
                                       "cv.sb %[t0], (%[d]), 1\n\t"
                                       "cv.sb %[t1], (%[d]), 1\n\t")
                         : [s] "+r"(src), [d] "+r"(dst), [t0] "=&r"(t0), [t1] "=&r"(t1)
                         : [n] "r"(half), [cs] "r"(c)
                         : "memory");
      }
      if (w & 1) {
        *dst = *src;
        src += c;
      }
    }
    /* outputs */
    const int32_t *wp = (const int32_t *)(w_packed + 12 * ch);
    const int32_t w0 = wp[0], w1 = wp[1], w2 = wp[2];
    const int32_t b = bias[ch], m = mult[ch], sh = shift[ch];
    int8_t *po = out + ch;
    for (int oh = 0; oh < ho; oh++) {
      const int8_t *p0 = buf + oh * stride * pitch, *p1 = p0 + pitch, *p2 = p1 + pitch;
      int32_t x0, x1, x2, acc;
      if (relu)
        DW_ROW_LOOP("cv.clipu");
      else
        DW_ROW_LOOP("cv.clip");
    }
  }
  pi_cl_team_barrier();
}
