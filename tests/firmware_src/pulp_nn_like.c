/*
 * A small int8 kernel set written the PULP-NN way (vector types, PULP GCC
 * builtins, per-core chunking), compiled against pulp_builtins.h only:
 * pmsis.h is not part of this test, so the core id and the core count are
 * arguments / macros here.
 */
#include <stdint.h>

#include "pulp_builtins.h"

#ifndef NUM_CORES
#define NUM_CORES 8
#endif

#define log2(x) __builtin_pulp_fl1(x)
#define min(a, b) ((a) < (b) ? (a) : (b))
#define SumDotp(a, b, c) __builtin_pulp_sdotusp4(a, b, c)
#define clip8(x) __builtin_pulp_clipu_r(x, 255)
#define clip8s(x) __builtin_pulp_clip(x, -128, 127)
#define bitext(x, size, off) __builtin_pulp_bextract(x, size, off)
#define bitextu(x, size, off) __builtin_pulp_bextractu(x, size, off)
#define bitins(dst, not_mask_imm, src, mask_imm, off) \
  __builtin_pulp_binsert(dst, not_mask_imm, src, mask_imm, off)
#define pack(x, y, z, t) __builtin_pulp_pack4(x, y, z, t)
#define max4(a, b) __builtin_pulp_maxu4(a, b)
#define avg4(a, b) __builtin_pulp_avgu4(a, b)
#define MemoryFence() __asm__ volatile("" ::: "memory")

/* Pointwise (1x1) convolution on HWC uint8 activations and int8 weights:
 * acc starts at the bias, requantisation clipu_r((m * acc) >> s, 255). */
void __attribute__((noinline)) pw_conv_u8_i8(const uint8_t *pIn, const int8_t *pWeight,
                                             const int8_t *bias, uint8_t *pOut,
                                             uint16_t ch_in, uint16_t ch_out, uint16_t n_pix,
                                             uint16_t out_mult, int8_t out_shift, int core_id)
{
  int chunk = (n_pix >> log2(NUM_CORES)) + ((n_pix & (NUM_CORES - 1)) != 0);
  int start = min(chunk * core_id, n_pix);
  int stop = min(start + chunk, n_pix);

  for (int p = start; p < stop; p++) {
    const uint8_t *in = pIn + p * ch_in;
    for (int co = 0; co < ch_out; co++) {
      const int8_t *w = pWeight + co * ch_in;
      int sum = bias[co];
      for (int ci = 0; ci < (ch_in >> 2); ci++) {
        v4u a = *((v4u *)(in + 4 * ci)); /* may be misaligned: PULP-NN does it */
        v4s b = *((v4s *)(w + 4 * ci));
        sum = SumDotp(a, b, sum);
      }
      for (int ci = ch_in & ~3; ci < ch_in; ci++)
        sum += in[ci] * w[ci];
      pOut[p * ch_out + co] = clip8((int16_t)((out_mult * sum) >> out_shift));
    }
  }
}

/* Same dot products, signed x signed and 16-bit lanes, to reach the other
 * dot-product builtins. */
int __attribute__((noinline)) dot_variants(const int8_t *a, const int8_t *b, const int16_t *h, int n)
{
  int s = 0;
  unsigned u = 0;
  for (int i = 0; i < n; i += 4) {
    v4s va = *(v4s *)(a + i);
    v4s vb = *(v4s *)(b + i);
    v2s ha = *(v2s *)(h + i);
    v2s hb = *(v2s *)(h + i + 2);
    s = __builtin_pulp_sdotsp4(va, vb, s);
    s += __builtin_pulp_dotsp4(va, vb);
    s += __builtin_pulp_dotusp4((v4u)va, vb);
    u = __builtin_pulp_sdotup4((v4u)va, (v4u)vb, u);
    u += __builtin_pulp_dotup4((v4u)va, (v4u)vb);
    s = __builtin_pulp_sdotsp2(ha, hb, s);
    s += __builtin_pulp_dotsp2(ha, hb);
  }
  s = __builtin_pulp_mac(s, 3, (int)u);
  s = __builtin_pulp_msu(s, 2, s);
  return clip8s(s) + __builtin_pulp_clip_r(s, 1000) + (int)__builtin_pulp_clipu(s, 0, 255);
}

/* 2x2 max pool and average pool on 4 channels at a time (PULP-NN style). */
void __attribute__((noinline)) pool_u8(const uint8_t *in, uint8_t *out_max, uint8_t *out_avg,
                                       int dim_out, int ch)
{
  for (int o = 0; o < dim_out; o++) {
    for (int c = 0; c < ch; c += 4) {
      const uint8_t *p0 = in + (2 * o) * ch + c;
      const uint8_t *p1 = p0 + ch;
      v4u a = *(v4u *)p0;
      v4u b = *(v4u *)p1;
      v4u m = max4(a, b);
      v4u s = avg4(a, b);
      m = __builtin_pulp_minu4(m, (v4u){255, 255, 255, 255});
      v4s t = __builtin_pulp_avg4((v4s)s, (v4s){0, 0, 0, 0});
      t = __builtin_pulp_max4(t, __builtin_pulp_min4(t, (v4s){1, 2, 3, 4}));
      *(v4u *)(out_max + o * ch + c) = m;
      *(v4u *)(out_avg + o * ch + c) = (v4u)__builtin_pulp_add4(t, __builtin_pulp_sub4(t, t));
      MemoryFence();
    }
  }
}

/* Nibble (int4) unpack / repack, depthwise-filter shuffles and misc scalar
 * builtins, as in PULP-NN's sub-byte and depthwise kernels. */
int __attribute__((noinline)) misc(int x, v4s v, uint8_t *out)
{
  int lo = bitext(x, 4, 0);
  int hi = bitext(x, 4, 4);
  unsigned uhi = bitextu(x, 4, 28);
  int packed = bitins(lo, 0xfffffff0, hi, 0x000000f0, 4);
  v4s mask_filter = (v4s){3, 0, 1, 2};
  v4s k = __builtin_pulp_shuffleb(v, mask_filter);
  v4s kk = __builtin_pulp_shuffle4b(v, k, (v4s){0, 5, 2, 7});
  v4s q = pack((int8_t)lo, (int8_t)hi, (int8_t)uhi, (int8_t)packed);
  q[2] = (signed char)(q[2] + k[1]);
  q = __builtin_pulp_sra4(q, (v4s){1, 1, 1, 1});
  q = (v4s)__builtin_pulp_srl4((v4u)q, (v4u){1, 0, 1, 0});
  v2s h = __builtin_pulp_pack2(lo, hi);
  *(v4s *)out = __builtin_pulp_abs4(kk);
  int r = __builtin_pulp_minsi(x, 7) + __builtin_pulp_maxsi(x, -7) + __builtin_pulp_abs(x);
  r += (int)__builtin_pulp_cnt((unsigned)x) + (int)__builtin_pulp_ff1((unsigned)x);
  r += (int)__builtin_pulp_bclr((unsigned)x, 0xffff1fffu) + (int)__builtin_pulp_bset((unsigned)x, 0xf0u);
  return r + q[0] + q[3] + h[1];
}
