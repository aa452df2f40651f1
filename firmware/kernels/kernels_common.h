/* Private helpers of the int8 kernels (not part of the API: see kernels.h). */
#ifndef ISS_KERNELS_COMMON_H
#define ISS_KERNELS_COMMON_H
#include <stdint.h>
#include "pmsis.h"
#include "corev.h"
#include "kernels.h"

#define K_INLINE static inline __attribute__((always_inline))

K_INLINE int k_min(int a, int b) { return a < b ? a : b; }

/* clamp((acc * mult + round) >> shift): mul, cv.addrnr, cv.clip(u). `relu`
 * is a constant after inlining. */
K_INLINE int32_t k_requant(int32_t acc, int32_t mult, int32_t shift, int relu)
{
  int32_t v = cv_addrnr(acc * mult, 0, (uint32_t)shift);
  return relu ? (int32_t)cv_clipu(v, 8) : cv_clip(v, 8);
}

/* This core's share [*start, *end) of n items split in chunks that are a
 * multiple of `align` (a power of two). */
K_INLINE void k_split(int n, int align, int *start, int *end)
{
  int nc = pi_cl_team_nb_cores();
  int id = pi_core_id();
  int chunk = (n + nc - 1) / nc;
  chunk = (chunk + align - 1) & ~(align - 1);
  int s = k_min(id * chunk, n);
  *start = s;
  *end = k_min(s + chunk, n);
}

/* Pointwise pixels [start, end) on the calling core only, no barrier
 * (pointwise.c; shared with pointwise_l2.c). */
void pw_rows_any_(const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out, int start,
                  int end, int cin, int cout, int32_t mult, int32_t shift, int relu);

#endif
