/* Residual add and global average pool (kernels.h). */
#include "kernels_common.h"

/* 7 instructions per element in a hardware loop:
 * lb, lb, mul, cv.mac, cv.addrnr, cv.clip, sb. */
void residual_add_int8(const int8_t *a, const int8_t *b, int8_t *out, int n,
                       int32_t mult_a, int32_t mult_b, int32_t shift)
{
  int start, end;
  k_split(n, 4, &start, &end);
  int cnt = end - start;
  if (cnt > 0) {
    const int8_t *pa = a + start, *pb = b + start;
    int8_t *po = out + start;
    int32_t xa, xb, t;
    __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                                   "cv.lb %[xa], (%[pa]), 1\n\t"
                                   "cv.lb %[xb], (%[pb]), 1\n\t"
                                   "mul %[t], %[xa], %[ma]\n\t"
                                   "cv.mac %[t], %[xb], %[mb]\n\t"
                                   "cv.addrnr %[t], zero, %[sh]\n\t"
                                   "cv.clip %[t], %[t], 8\n\t"
                                   "cv.sb %[t], (%[po]), 1\n\t")
                     : [pa] "+r"(pa), [pb] "+r"(pb), [po] "+r"(po), [xa] "=&r"(xa),
                       [xb] "=&r"(xb), [t] "=&r"(t)
                     : [n] "r"(cnt), [ma] "r"(mult_a), [mb] "r"(mult_b), [sh] "r"(shift)
                     : "memory");
  }
  pi_cl_team_barrier();
}

/* Groups of 4 channels split over the cores; a full group sums its 4 lanes
 * with one word load and 4 cv.sdotsp.b against one-hot vectors per pixel
 * (hardware loop, 5 instructions per 4 elements); a partial last group is
 * summed byte by byte. */
void avgpool_int8(const int8_t *in, int8_t *out, int n_pix, int c, int32_t mult, int32_t shift)
{
  int g0, g1;
  k_split((c + 3) >> 2, 1, &g0, &g1);
  for (int g = g0; g < g1; g++) {
    const int co = 4 * g;
    if (co + 4 <= c) {
      int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, x;
      const int8_t *p = in + co;
      if (n_pix > 0) {
        __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
                                       "cv.lw %[x], (%[p]), %[cs]\n\t"
                                       "cv.sdotsp.b %[s0], %[x], %[e0]\n\t"
                                       "cv.sdotsp.b %[s1], %[x], %[e1]\n\t"
                                       "cv.sdotsp.b %[s2], %[x], %[e2]\n\t"
                                       "cv.sdotsp.b %[s3], %[x], %[e3]\n\t")
                         : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3),
                           [p] "+r"(p), [x] "=&r"(x)
                         : [n] "r"(n_pix), [cs] "r"(c), [e0] "r"(0x1), [e1] "r"(0x100),
                           [e2] "r"(0x10000), [e3] "r"(0x1000000)
                         : "memory");
      }
      out[co] = k_requant(s0, mult, shift, 0);
      out[co + 1] = k_requant(s1, mult, shift, 0);
      out[co + 2] = k_requant(s2, mult, shift, 0);
      out[co + 3] = k_requant(s3, mult, shift, 0);
    } else {
      for (int ch = co; ch < c; ch++) {
        int32_t s = 0;
        const int8_t *p = in + ch;
        for (int i = 0; i < n_pix; i++, p += c)
          s += *p;
        out[ch] = k_requant(s, mult, shift, 0);
      }
    }
  }
  pi_cl_team_barrier();
}
