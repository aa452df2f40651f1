/* int8 kernels in plain C (see plain_kernels.h): what a PULP-NN user writes,
 * with no inline assembly, so that their loops are whatever the compiler (and
 * `iss cc`'s hardware-loop pass) makes of them. */
#include "pmsis.h"
#include "pulp_builtins.h"
#include "plain_kernels.h"

#define INL static inline __attribute__((always_inline))

/* `lo`: 0 with ReLU6, -128 without (a bound rather than a flag keeps the loops
 * free of branches). */
INL int8_t requant(int32_t acc, int32_t mult, int32_t shift, int32_t lo)
{
  int32_t v = (acc * mult + (int32_t)((1u << shift) >> 1)) >> shift;
  v = v < lo ? lo : v;
  return (int8_t)(v > 127 ? 127 : v);
}

/* This core's share [*start, *end) of n items, in chunks that are multiples of `align`. */
INL void split(int n, int align, int *start, int *end)
{
  int nc = pi_cl_team_nb_cores();
  int chunk = (n + nc - 1) / nc;
  chunk = (chunk + align - 1) / align * align;
  int s = pi_core_id() * chunk;
  *start = s < n ? s : n;
  *end = s + chunk < n ? s + chunk : n;
}

/* Two pixels x1, x2 (K bytes each) against every output channel: 4 channels x
 * 2 pixels per step of the inner loop (6 word loads, 8 sdotp). */
static void matmul_4x2(const int8_t *x1, const int8_t *x2, const int8_t *w, const int32_t *bias, int8_t *o1,
                       int8_t *o2, int K, int cout, int32_t mult, int32_t shift, int32_t lo)
{
  for (int co = 0; co < cout; co += 4) {
    const int8_t *pA = w + co * K;
    const int8_t *pA2 = pA + K, *pA3 = pA2 + K, *pA4 = pA3 + K;
    const int8_t *pB = x1, *pB2 = x2;
    int32_t s1 = bias[co], s2 = bias[co + 1], s3 = bias[co + 2], s4 = bias[co + 3];
    int32_t s5 = s1, s6 = s2, s7 = s3, s8 = s4;
    for (int k = 0; k < K >> 2; k++) {
      v4s a = *(v4s *)pB, b = *(v4s *)pB2;
      v4s w1 = *(v4s *)pA, w2 = *(v4s *)pA2, w3 = *(v4s *)pA3, w4 = *(v4s *)pA4;
      s1 = __builtin_pulp_sdotsp4(a, w1, s1);
      s2 = __builtin_pulp_sdotsp4(a, w2, s2);
      s3 = __builtin_pulp_sdotsp4(a, w3, s3);
      s4 = __builtin_pulp_sdotsp4(a, w4, s4);
      s5 = __builtin_pulp_sdotsp4(b, w1, s5);
      s6 = __builtin_pulp_sdotsp4(b, w2, s6);
      s7 = __builtin_pulp_sdotsp4(b, w3, s7);
      s8 = __builtin_pulp_sdotsp4(b, w4, s8);
      pA += 4; pA2 += 4; pA3 += 4; pA4 += 4; pB += 4; pB2 += 4;
    }
    o1[co] = requant(s1, mult, shift, lo);
    o1[co + 1] = requant(s2, mult, shift, lo);
    o1[co + 2] = requant(s3, mult, shift, lo);
    o1[co + 3] = requant(s4, mult, shift, lo);
    if (o2) {
      o2[co] = requant(s5, mult, shift, lo);
      o2[co + 1] = requant(s6, mult, shift, lo);
      o2[co + 2] = requant(s7, mult, shift, lo);
      o2[co + 3] = requant(s8, mult, shift, lo);
    }
  }
}

/* The 9 * cin im2col bytes of output pixel (oh, ow); zeros outside the input. */
static void im2col(const int8_t *in, int8_t *col, int h, int wd, int cin, int oh, int ow)
{
  int32_t *dst = (int32_t *)col;
  for (int kh = -1; kh <= 1; kh++) {
    for (int kw = -1; kw <= 1; kw++) {
      int y = oh + kh, x = ow + kw;
      if (y < 0 || y >= h || x < 0 || x >= wd) {
        for (int i = 0; i < cin >> 2; i++)
          *dst++ = 0;
      } else {
        const int32_t *src = (const int32_t *)(in + (y * wd + x) * cin);
        for (int i = 0; i < cin >> 2; i++)
          *dst++ = *src++;
      }
    }
  }
}

void plain_conv3x3(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int h, int wd,
                   int cin, int cout, int32_t mult, int32_t shift, int relu, int8_t *im2col_buf)
{
  int K = 9 * cin, start, end;
  int8_t *col1 = im2col_buf + pi_core_id() * 2 * K, *col2 = col1 + K;
  split(h * wd, 2, &start, &end);
  for (int p = start; p < end; p += 2) {
    int two = p + 1 < end;
    im2col(in, col1, h, wd, cin, p / wd, p % wd);
    if (two)
      im2col(in, col2, h, wd, cin, (p + 1) / wd, (p + 1) % wd);
    matmul_4x2(col1, two ? col2 : col1, w, bias, out + p * cout, two ? out + (p + 1) * cout : 0, K, cout,
               mult, shift, relu ? 0 : -128);
  }
  pi_cl_team_barrier(0);
}

void plain_pointwise(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int n_pix,
                     int cin, int cout, int32_t mult, int32_t shift, int relu)
{
  int start, end;
  split(n_pix, 2, &start, &end);
  for (int p = start; p < end; p += 2) {
    int two = p + 1 < end;
    matmul_4x2(in + p * cin, in + (two ? p + 1 : p) * cin, w, bias, out + p * cout,
               two ? out + (p + 1) * cout : 0, cin, cout, mult, shift, relu ? 0 : -128);
  }
  pi_cl_team_barrier(0);
}

void plain_linear(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int cin, int cout,
                  int32_t mult, int32_t shift, int relu)
{
  int start, end, lo = relu ? 0 : -128;
  split(cout, 4, &start, &end);
  for (int co = start; co < end; co += 4) {
    const int8_t *pA = w + co * cin;
    const int8_t *pA2 = pA + cin, *pA3 = pA2 + cin, *pA4 = pA3 + cin;
    const int8_t *pB = in;
    int32_t s1 = bias[co], s2 = bias[co + 1], s3 = bias[co + 2], s4 = bias[co + 3];
    for (int k = 0; k < cin >> 2; k++) {
      v4s a = *(v4s *)pB;
      s1 = __builtin_pulp_sdotsp4(a, *(v4s *)pA, s1);
      s2 = __builtin_pulp_sdotsp4(a, *(v4s *)pA2, s2);
      s3 = __builtin_pulp_sdotsp4(a, *(v4s *)pA3, s3);
      s4 = __builtin_pulp_sdotsp4(a, *(v4s *)pA4, s4);
      pA += 4; pA2 += 4; pA3 += 4; pA4 += 4; pB += 4;
    }
    out[co] = requant(s1, mult, shift, lo);
    out[co + 1] = requant(s2, mult, shift, lo);
    out[co + 2] = requant(s3, mult, shift, lo);
    out[co + 3] = requant(s4, mult, shift, lo);
  }
  pi_cl_team_barrier(0);
}

void plain_depthwise(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int h, int wd,
                     int c, int32_t mult, int32_t shift, int relu, int8_t *buf)
{
  int start, end, pitch = wd + 4, lo = relu ? 0 : -128;
  int8_t *plane = buf + pi_core_id() * (h + 2) * pitch;
  split(c, 1, &start, &end);
  for (int ch = start; ch < end; ch++) {
    /* the channel's plane with a zero border: plane[y + 1][x + 1] = in[y][x][ch] */
    for (int i = 0; i < (h + 2) * pitch / 4; i++)
      ((int32_t *)plane)[i] = 0;
    for (int y = 0; y < h; y++) {
      const int8_t *src = in + y * wd * c + ch;
      int8_t *dst = plane + (y + 1) * pitch + 1;
      for (int x = 0; x < wd; x++) {
        *dst++ = *src;
        src += c;
      }
    }
    v4s w0 = *(const v4s *)(w + ch * 12), w1 = *(const v4s *)(w + ch * 12 + 4);
    v4s w2 = *(const v4s *)(w + ch * 12 + 8);
    int32_t b = bias[ch];
    for (int y = 0; y < h; y++) {
      const int8_t *r0 = plane + y * pitch, *r1 = r0 + pitch, *r2 = r1 + pitch;
      int8_t *o = out + y * wd * c + ch;
      for (int x = 0; x < wd; x++) {
        int32_t acc = __builtin_pulp_sdotsp4(*(v4s *)r0, w0, b);
        acc = __builtin_pulp_sdotsp4(*(v4s *)r1, w1, acc);
        acc = __builtin_pulp_sdotsp4(*(v4s *)r2, w2, acc);
        *o = requant(acc, mult, shift, lo);
        o += c; r0++; r1++; r2++;
      }
    }
  }
  pi_cl_team_barrier(0);
}
