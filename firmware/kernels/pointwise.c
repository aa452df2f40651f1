/* Pointwise (1x1) convolution, fully connected and the first 3x3 stride-2
 * convolution: all are int8 matrix products on PW4-packed weights (kernels.h).
 *
 * Inner loops: hardware loop 0 over the K/4 input words of one group of 4
 * output channels, post-incremented loads, cv.sdotsp.b (4 signed MACs).
 *   4x2 tile (4 channels x 2 pixels): 2 input + 4 weight loads, 8 sdotsp
 *     = 14 instructions per 32 MACs, no load-use stall;
 *   4x1 tile (fully connected): 1 input + 4 weight loads, 4 sdotsp
 *     = 9 instructions per 16 MACs. */
#include "kernels_common.h"

/* The 4x2 inner body (14 instructions per 32 MACs; no sdotsp uses the load
 * just before it), shared by MM4x2_LOOP and PW_PAIR_ASM. */
#define MM4x2_BODY                                                                 \
  "cv.lw %[x0], (%[p0]), 4\n\t"                                                    \
  "cv.lw %[w0], (%[pw]), 4\n\t"                                                    \
  "cv.lw %[x1], (%[p1]), 4\n\t"                                                    \
  "cv.lw %[w1], (%[pw]), 4\n\t"                                                    \
  "cv.sdotsp.b %[a0], %[x0], %[w0]\n\t"                                            \
  "cv.sdotsp.b %[a4], %[x1], %[w0]\n\t"                                            \
  "cv.lw %[w0], (%[pw]), 4\n\t"                                                    \
  "cv.sdotsp.b %[a1], %[x0], %[w1]\n\t"                                            \
  "cv.sdotsp.b %[a5], %[x1], %[w1]\n\t"                                            \
  "cv.lw %[w1], (%[pw]), 4\n\t"                                                    \
  "cv.sdotsp.b %[a2], %[x0], %[w0]\n\t"                                            \
  "cv.sdotsp.b %[a6], %[x1], %[w0]\n\t"                                            \
  "cv.sdotsp.b %[a3], %[x0], %[w1]\n\t"                                            \
  "cv.sdotsp.b %[a7], %[x1], %[w1]\n\t"

/* aj += x0 . w_j, a(4+j) += x1 . w_j over nw words; advances the pointers. */
#define MM4x2_LOOP(nw, p0, p1, pw, a0, a1, a2, a3, a4, a5, a6, a7)                 \
  do {                                                                             \
    int32_t x0_, x1_, w0_, w1_;                                                    \
    __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]", MM4x2_BODY)                              \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), \
                       [a4] "+r"(a4), [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7), \
                       [p0] "+r"(p0), [p1] "+r"(p1), [pw] "+r"(pw), [x0] "=&r"(x0_),       \
                       [x1] "=&r"(x1_), [w0] "=&r"(w0_), [w1] "=&r"(w1_)                  \
                     : [n] "r"(nw)                                                 \
                     : "memory");                                                  \
  } while (0)

/* a[j] += x . w_j over nw words; advances the pointers. */
#define MM4x1_LOOP(nw, p0, pw, a)                                                  \
  do {                                                                             \
    int32_t x0_, w0_, w1_;                                                         \
    __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",                                      \
                                   "cv.lw %[x0], (%[p0]), 4\n\t"                   \
                                   "cv.lw %[w0], (%[pw]), 4\n\t"                   \
                                   "cv.lw %[w1], (%[pw]), 4\n\t"                   \
                                   "cv.sdotsp.b %[a0], %[x0], %[w0]\n\t"           \
                                   "cv.lw %[w0], (%[pw]), 4\n\t"                   \
                                   "cv.sdotsp.b %[a1], %[x0], %[w1]\n\t"           \
                                   "cv.lw %[w1], (%[pw]), 4\n\t"                   \
                                   "cv.sdotsp.b %[a2], %[x0], %[w0]\n\t"           \
                                   "cv.sdotsp.b %[a3], %[x0], %[w1]\n\t")          \
                     : [a0] "+r"(a[0]), [a1] "+r"(a[1]), [a2] "+r"(a[2]), [a3] "+r"(a[3]), \
                       [p0] "+r"(p0), [pw] "+r"(pw), [x0] "=&r"(x0_), [w0] "=&r"(w0_),   \
                       [w1] "=&r"(w1_)                                              \
                     : [n] "r"(nw)                                                 \
                     : "memory");                                                  \
  } while (0)

/* Four requantized outputs to o[0..3]: one word store when `word` (o word
 * aligned), else four byte stores. */
K_INLINE void store4(int8_t *o, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t mult,
                     int32_t shift, int relu, int word)
{
  int32_t r0 = k_requant(a0, mult, shift, relu), r1 = k_requant(a1, mult, shift, relu);
  int32_t r2 = k_requant(a2, mult, shift, relu), r3 = k_requant(a3, mult, shift, relu);
  if (word) {
    v4s v = cv_packlo_b((v4s)0, r1, r0);
    v = cv_packhi_b(v, r3, r2);
    *(v4s *)o = v;
  } else {
    o[0] = r0;
    o[1] = r1;
    o[2] = r2;
    o[3] = r3;
  }
}

/* Two pixels (x0, x1: K bytes each) times the full output groups (4 channels
 * each, the first N & ~3 channels); results to o0/o1. If !two only pixel 0
 * is stored (x1 may equal x0). Returns the weight pointer after the groups. */
K_INLINE const int8_t *pw_pair_full(const int8_t *x0, const int8_t *x1, const int8_t *pw,
                                    const int32_t *bias, int8_t *o0, int8_t *o1, int K, int N,
                                    int32_t mult, int32_t shift, int relu, int two, int word)
{
  const int nw = K >> 2, tail = K & 3;
  for (int co = 0; co + 4 <= N; co += 4) {
    int32_t a0 = bias[co], a1 = bias[co + 1], a2 = bias[co + 2], a3 = bias[co + 3];
    int32_t a4 = a0, a5 = a1, a6 = a2, a7 = a3;
    const int8_t *p0 = x0, *p1 = x1;
    if (nw > 0)
      MM4x2_LOOP(nw, p0, p1, pw, a0, a1, a2, a3, a4, a5, a6, a7);
    if (tail) {
      for (int b = 0; b < tail; b++) {
        int32_t v0 = p0[b], v1 = p1[b];
        int32_t w0 = pw[b], w1 = pw[4 + b], w2 = pw[8 + b], w3 = pw[12 + b];
        a0 += v0 * w0; a1 += v0 * w1; a2 += v0 * w2; a3 += v0 * w3;
        a4 += v1 * w0; a5 += v1 * w1; a6 += v1 * w2; a7 += v1 * w3;
      }
      pw += 16;
    }
    store4(o0 + co, a0, a1, a2, a3, mult, shift, relu, word);
    if (two)
      store4(o1 + co, a4, a5, a6, a7, mult, shift, relu, word);
  }
  return pw;
}

/* The last, partial group (N % 4 channels) of two pixels: plain C. */
static void __attribute__((noinline)) pw_pair_rest(const int8_t *x0, const int8_t *x1, const int8_t *pw,
                                                   const int32_t *bias, int8_t *o0, int8_t *o1, int K,
                                                   int N, int32_t mult, int32_t shift, int relu, int two)
{
  const int co = N & ~3, nv = N - co;
  for (int j = 0; j < nv; j++) {
    int32_t s0 = bias[co + j], s1 = s0;
    for (int k = 0; k < K; k++) {
      int32_t wv = pw[(k >> 2) * 16 + 4 * j + (k & 3)];
      s0 += x0[k] * wv;
      s1 += x1[k] * wv;
    }
    o0[co + j] = relu ? k_requant(s0, mult, shift, 1) : k_requant(s0, mult, shift, 0);
    if (two)
      o1[co + j] = relu ? k_requant(s1, mult, shift, 1) : k_requant(s1, mult, shift, 0);
  }
}

K_INLINE void pw_pair(const int8_t *x0, const int8_t *x1, const int8_t *w_packed,
                      const int32_t *bias, int8_t *o0, int8_t *o1, int K, int N,
                      int32_t mult, int32_t shift, int relu, int two, int word)
{
  const int8_t *pw = pw_pair_full(x0, x1, w_packed, bias, o0, o1, K, N, mult, shift, relu, two, word);
  if (N & 3)
    pw_pair_rest(x0, x1, pw, bias, o0, o1, K, N, mult, shift, relu, two);
}

/* The hot path of a pixel pair (K % 4 == 0, N % 4 == 0, N >= 4, outputs word
 * aligned):
 * every full group of 4 channels in one asm block, hardware loop 1 over the
 * groups around hardware loop 0 over the K/4 input words. Per group: 4 bias
 * loads, 10 moves, the 14-instruction inner body K/4 times, then 8 x (mul,
 * cv.addrnr, cv.clip[u]) and 2 x (cv.packlo.b, cv.packhi.b, cv.sw). */
#define PW_PAIR_ASM(CLIP)                                                          \
  __asm__ volatile(                                                                \
      ".option push\n\t.option norvc\n\t.option norelax\n\t"                       \
      "cv.setup 1, %[ng], 911f\n\t"                                                \
      "lw %[a0], 0(%[pb])\n\t"                                                     \
      "lw %[a1], 4(%[pb])\n\t"                                                     \
      "lw %[a2], 8(%[pb])\n\t"                                                     \
      "lw %[a3], 12(%[pb])\n\t"                                                    \
      "addi %[pb], %[pb], 16\n\t"                                                  \
      "mv %[a4], %[a0]\n\t"                                                        \
      "mv %[a5], %[a1]\n\t"                                                        \
      "mv %[a6], %[a2]\n\t"                                                        \
      "mv %[a7], %[a3]\n\t"                                                        \
      "mv %[p0], %[x0b]\n\t"                                                       \
      "mv %[p1], %[x1b]\n\t"                                                       \
      "cv.setup 0, %[nw], 901f\n\t"                                                \
      MM4x2_BODY                                                                   \
      "901:\n\t"                                                                   \
      "mul %[a0], %[a0], %[m]\n\t"                                                 \
      "mul %[a1], %[a1], %[m]\n\t"                                                 \
      "mul %[a2], %[a2], %[m]\n\t"                                                 \
      "mul %[a3], %[a3], %[m]\n\t"                                                 \
      "mul %[a4], %[a4], %[m]\n\t"                                                 \
      "mul %[a5], %[a5], %[m]\n\t"                                                 \
      "mul %[a6], %[a6], %[m]\n\t"                                                 \
      "mul %[a7], %[a7], %[m]\n\t"                                                 \
      "cv.addrnr %[a0], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a1], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a2], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a3], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a4], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a5], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a6], zero, %[sh]\n\t"                                           \
      "cv.addrnr %[a7], zero, %[sh]\n\t"                                           \
      CLIP " %[a0], %[a0], 8\n\t"                                                  \
      CLIP " %[a1], %[a1], 8\n\t"                                                  \
      CLIP " %[a2], %[a2], 8\n\t"                                                  \
      CLIP " %[a3], %[a3], 8\n\t"                                                  \
      CLIP " %[a4], %[a4], 8\n\t"                                                  \
      CLIP " %[a5], %[a5], 8\n\t"                                                  \
      CLIP " %[a6], %[a6], 8\n\t"                                                  \
      CLIP " %[a7], %[a7], 8\n\t"                                                  \
      "cv.packlo.b %[x0], %[a1], %[a0]\n\t"                                        \
      "cv.packhi.b %[x0], %[a3], %[a2]\n\t"                                        \
      "cv.packlo.b %[x1], %[a5], %[a4]\n\t"                                        \
      "cv.packhi.b %[x1], %[a7], %[a6]\n\t"                                        \
      "cv.sw %[x0], (%[o0]), 4\n\t"                                                \
      "cv.sw %[x1], (%[o1]), 4\n\t"                                                \
      "911:\n\t"                                                                   \
      ".option pop\n\t"                                                            \
      : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [a4] "=&r"(a4), \
        [a5] "=&r"(a5), [a6] "=&r"(a6), [a7] "=&r"(a7), [p0] "=&r"(p0), [p1] "=&r"(p1), \
        [x0] "=&r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1), [pw] "+r"(pw),  \
        [pb] "+r"(pb), [o0] "+r"(o0), [o1] "+r"(o1)                                \
      : [x0b] "r"(x0b), [x1b] "r"(x1b), [nw] "r"(nw), [ng] "r"(ng), [m] "r"(mult),   \
        [sh] "r"(shift)                                                            \
      : "memory")

static void __attribute__((noinline)) pw_pair_fast(const int8_t *x0b, const int8_t *x1b,
                                                   const int8_t *w_packed, const int32_t *bias,
                                                   int8_t *o0, int8_t *o1, int K, int N,
                                                   int32_t mult, int32_t shift, int relu)
{
  const int nw = K >> 2, ng = N >> 2;
  const int8_t *pw = w_packed;
  const int32_t *pb = bias;
  int32_t a0, a1, a2, a3, a4, a5, a6, a7, x0, x1, w0, w1;
  const int8_t *p0, *p1;
  if (relu)
    PW_PAIR_ASM("cv.clipu");
  else
    PW_PAIR_ASM("cv.clip");
}

/* Pixels [start, end) of a pointwise layer. */
K_INLINE void pw_rows(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                      int start, int end, int cin, int cout, int32_t mult, int32_t shift, int relu,
                      int word)
{
  int p = start;
  if (word && (cin & 3) == 0 && cin >= 4 && cout >= 4) {
    for (; p + 1 < end; p += 2)
      pw_pair_fast(in + p * cin, in + (p + 1) * cin, w_packed, bias, out + p * cout,
                   out + (p + 1) * cout, cin, cout, mult, shift, relu);
  }
  for (; p + 1 < end; p += 2)
    pw_pair(in + p * cin, in + (p + 1) * cin, w_packed, bias, out + p * cout, out + (p + 1) * cout,
            cin, cout, mult, shift, relu, 1, word);
  if (p < end)
    pw_pair(in + p * cin, in + p * cin, w_packed, bias, out + p * cout, out + p * cout, cin, cout,
            mult, shift, relu, 0, word);
}

static void __attribute__((noinline)) pw_rows_relu(const int8_t *in, const int8_t *w, const int32_t *bias,
                                                   int8_t *out, int start, int end, int cin, int cout,
                                                   int32_t mult, int32_t shift)
{
  if ((((uintptr_t)out) | (uint32_t)cout) & 3)
    pw_rows(in, w, bias, out, start, end, cin, cout, mult, shift, 1, 0);
  else
    pw_rows(in, w, bias, out, start, end, cin, cout, mult, shift, 1, 1);
}

static void __attribute__((noinline)) pw_rows_linear(const int8_t *in, const int8_t *w, const int32_t *bias,
                                                     int8_t *out, int start, int end, int cin, int cout,
                                                     int32_t mult, int32_t shift)
{
  if ((((uintptr_t)out) | (uint32_t)cout) & 3)
    pw_rows(in, w, bias, out, start, end, cin, cout, mult, shift, 0, 0);
  else
    pw_rows(in, w, bias, out, start, end, cin, cout, mult, shift, 0, 1);
}

/* Pixels [start, end) on the calling core only (no barrier); also used by
 * pointwise_l2.c. */
void pw_rows_any_(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int start,
                  int end, int cin, int cout, int32_t mult, int32_t shift, int relu)
{
  if (relu)
    pw_rows_relu(in, w, bias, out, start, end, cin, cout, mult, shift);
  else
    pw_rows_linear(in, w, bias, out, start, end, cin, cout, mult, shift);
}

void pw_conv_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                  int n_pix, int cin, int cout, int32_t mult, int32_t shift, int relu)
{
  int start, end;
  k_split(n_pix, 2, &start, &end);
  pw_rows_any_(in, w_packed, bias, out, start, end, cin, cout, mult, shift, relu);
  pi_cl_team_barrier();
}

/* ------------------------------------------------------------------------ */
/* Fully connected: output groups of 4 split over the cores.                 */
/* ------------------------------------------------------------------------ */
K_INLINE void fc_groups(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                        int g0, int g1, int cin, int cout, int32_t mult, int32_t shift, int relu)
{
  const int nw = cin >> 2, tail = cin & 3;
  const int gstride = KERNELS_ROUND4(cin) * 4;
  for (int g = g0; g < g1; g++) {
    const int co = 4 * g, nv = k_min(4, cout - co);
    const int8_t *pw = w_packed + g * gstride, *p0 = in;
    int32_t a[4];
    for (int j = 0; j < 4; j++)
      a[j] = j < nv ? bias[co + j] : 0;
    if (nw > 0)
      MM4x1_LOOP(nw, p0, pw, a);
    for (int b = 0; b < tail; b++) {
      int32_t v = p0[b];
      for (int j = 0; j < 4; j++)
        a[j] += v * pw[4 * j + b];
    }
    for (int j = 0; j < nv; j++)
      out[co + j] = k_requant(a[j], mult, shift, relu);
  }
}

void fc_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
             int cin, int cout, int32_t mult, int32_t shift, int relu)
{
  int g0, g1;
  k_split((cout + 3) >> 2, 1, &g0, &g1);
  if (relu)
    fc_groups(in, w_packed, bias, out, g0, g1, cin, cout, mult, shift, 1);
  else
    fc_groups(in, w_packed, bias, out, g0, g1, cin, cout, mult, shift, 0);
  pi_cl_team_barrier();
}

/* ------------------------------------------------------------------------ */
/* First layer: 3x3 stride 2 pad 1 through im2col rows of two pixels.        */
/* ------------------------------------------------------------------------ */
/* im2col row of output pixel (oh, ow): (kh, kw, ci) order, zero padded; the
 * bytes from 9*cin to K4 stay zero (cleared once). Inside the image a kernel
 * row is 3*cin contiguous bytes of the HWC input. */
/* `top`: 1 when input row 0 is the image's first (one zero row above it), 0
 * when it is the row just above the band's first output row's window. */
static void im2col_s2(const int8_t *in, int8_t *dst, int h, int w, int cin, int oh, int ow, int top)
{
  const int iw0 = 2 * ow - 1, row = 3 * cin;
  const int cols_inside = iw0 >= 0 && iw0 + 2 < w;
  for (int kh = 0; kh < 3; kh++, dst += row) {
    const int ih = 2 * oh + kh - top;
    if (ih < 0 || ih >= h) {
      for (int c = 0; c < row; c++)
        dst[c] = 0;
    } else if (cols_inside) {
      const int8_t *s = in + (ih * w + iw0) * cin;
      for (int c = 0; c < row; c++)
        dst[c] = s[c];
    } else {
      for (int kw = 0; kw < 3; kw++) {
        const int iw = iw0 + kw;
        const int8_t *s = in + (ih * w + iw) * cin;
        for (int c = 0; c < cin; c++)
          dst[kw * cin + c] = (iw >= 0 && iw < w) ? s[c] : 0;
      }
    }
  }
}

static inline void conv3x3_s2_body(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                                   int h, int w, int cin, int cout, int ho, int top, int32_t mult, int32_t shift,
                                   int relu, int8_t *scratch)
{
  const int wo = (w - 1) / 2 + 1;
  const int K4 = KERNELS_ROUND4(9 * cin);
  int8_t *buf0 = scratch + pi_core_id() * CONV3X3_SCRATCH_SIZE(cin), *buf1 = buf0 + K4;
  for (int i = 0; i < 2 * K4; i += 4)
    *(int32_t *)(buf0 + i) = 0;
  const int fast = ((((uintptr_t)out) | (uint32_t)cout) & 3) == 0 && cout >= 4;
  int start, end;
  k_split(ho * wo, 2, &start, &end);
  for (int p = start; p < end; p += 2) {
    const int two = p + 1 < end;
    im2col_s2(in, buf0, h, w, cin, p / wo, p % wo, top);
    if (two)
      im2col_s2(in, buf1, h, w, cin, (p + 1) / wo, (p + 1) % wo, top);
    int8_t *o0 = out + p * cout, *o1 = o0 + cout;
    if (two && fast)
      pw_pair_fast(buf0, buf1, w_packed, bias, o0, o1, K4, cout, mult, shift, relu);
    else if (relu)
      pw_pair(buf0, buf1, w_packed, bias, o0, o1, K4, cout, mult, shift, 1, two, 0);
    else
      pw_pair(buf0, buf1, w_packed, bias, o0, o1, K4, cout, mult, shift, 0, two, 0);
  }
  pi_cl_team_barrier();
}

void conv3x3_s2_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                     int h, int w, int cin, int cout, int32_t mult, int32_t shift, int relu,
                     int8_t *scratch)
{
  conv3x3_s2_body(in, w_packed, bias, out, h, w, cin, cout, (h - 1) / 2 + 1, 1, mult, shift, relu, scratch);
}

void conv3x3_s2_rows_int8(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                          int h, int w, int cin, int cout, int ho, int top, int32_t mult, int32_t shift,
                          int relu, int8_t *scratch)
{
  conv3x3_s2_body(in, w_packed, bias, out, h, w, cin, cout, ho, top, mult, shift, relu, scratch);
}
