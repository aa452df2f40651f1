/* Loop shapes for the hardware-loop pass (toolchain/hwloops.py): built with and
 * without the pass, the printed results must be identical. Every function is
 * noinline and takes its bounds at run time, so the compiler keeps real loops
 * whose trip count is only known at entry. */
#include "pmsis.h"
#include "pulp_builtins.h"
#include <stdint.h>

#define NI __attribute__((noinline))

static int32_t data[300];
static int8_t bytes[300];
static uint8_t ubytes[300];
static int16_t halves[300];
static int8_t out8[300];
static int32_t out32[300];

NI int32_t sum_words(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++)
    s += a[i];
  return s;
}

NI void scale_bytes(int8_t *o, const int8_t *x, unsigned n, int k)
{
  for (unsigned i = 0; i < n; i++)
    o[i] = (int8_t)(x[i] * k + 3);
}

NI int32_t nested(const int32_t *a, int n, int m)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++)
      s += a[i * m + j] ^ (s >> 3);
  return s;
}

NI int32_t triple(const int8_t *a, int n, int m, int k)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++)
      for (int l = 0; l < k; l++)
        s += a[(i * m + j) * k + l] * (i + 1);
  return s;
}

NI int32_t early_exit(const int32_t *a, int n, int32_t stop)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++) {
    if (a[i] == stop)
      break;
    s += a[i];
  }
  return s;
}

NI int32_t with_continue(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++) {
    if (a[i] & 1)
      continue;
    s += a[i] * 3;
  }
  return s;
}

NI int32_t counter_in_body(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++)
    s += a[i] * i;
  return s;
}

NI int32_t callee(int32_t x) { return x * 7 + 1; }

NI int32_t call_in_body(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++)
    s += callee(a[i]);
  return s;
}

NI int32_t unsigned_bounds(const uint8_t *a, unsigned lo, unsigned hi)
{
  int32_t s = 0;
  for (unsigned i = lo; i < hi; i++)
    s = s * 3 + a[i];
  return s;
}

NI int32_t signed_bounds(const int32_t *a, int lo, int hi)
{
  int32_t s = 0;
  for (int i = lo; i < hi; i++)
    s += a[i + 100] - i;
  return s;
}

/* The counter's value is used after the loop. */
NI int32_t counter_after(const int32_t *a, int n)
{
  int i;
  int32_t s = 0;
  for (i = 0; i < n; i++)
    s += a[i] >> 1;
  return s * 1000 + i;
}

NI int32_t countdown_after(const int16_t *h, int n)
{
  int32_t s = 0;
  while (n-- > 0)
    s += *h++;
  return s * 16 + n;
}

NI int32_t down_loop(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = n; i > 0; i--)
    s = s * 5 + a[i];
  return s;
}

NI int32_t stride3(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i += 3)
    s += a[i];
  return s;
}

NI int32_t stride16(const int32_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i += 16)
    s ^= a[i] + i;
  return s;
}

NI void copy_short(int32_t *o, const int32_t *a, int n)
{
  for (int i = 0; i < n; i++)
    o[i] = a[i] + 1;
}

NI int32_t pointer_walk(const int16_t *p, const int16_t *end)
{
  int32_t s = 0;
  while (p != end)
    s += *p++ * 3;
  return s;
}

NI int32_t simd_dot(const uint8_t *x, const int8_t *w, int nw)
{
  int32_t acc = 0;
  const v4u *px = (const v4u *)x;
  const v4s *pw = (const v4s *)w;
  for (int i = 0; i < nw; i++)
    acc = __builtin_pulp_sdotusp4(*px++, *pw++, acc);
  return acc;
}

NI int32_t rows_of_dots(const uint8_t *x, const int8_t *w, int rows, int nw, int32_t *o)
{
  int32_t t = 0;
  for (int r = 0; r < rows; r++) {
    const v4u *px = (const v4u *)x;
    const v4s *pw = (const v4s *)(w + r * nw * 4);
    int32_t acc = r;
    for (int i = 0; i < nw; i++)
      acc = __builtin_pulp_sdotusp4(*px++, *pw++, acc);
    o[r] = acc;
    t += acc;
  }
  return t;
}

NI int32_t fixed_count(const int32_t *a)
{
  int32_t s = 0;
  for (int i = 0; i < 40; i++)
    s += a[i] * a[i + 1];
  return s;
}

NI int32_t nested_fixed(const int8_t *a, int n)
{
  int32_t s = 0;
  for (int i = 0; i < n; i++) {
    int32_t r = 0;
    for (int j = 0; j < 8; j++)
      r += a[i * 8 + j] * (j + 1);
    s = s * 3 + r;
  }
  return s;
}

/* The inner count is checked once before the outer loop: the outer body is
 * straight-line code around the inner loop (hardware loop 1 around loop 0). */
NI void rows_guarded(int32_t *o, const int32_t *a, int n, int m)
{
  if (m <= 0)
    return;
  for (int i = 0; i < n; i++) {
    int32_t s = 0;
    for (int j = 0; j < m; j++)
      s += a[i * m + j] * (s | 1);
    o[i] = s;
  }
}

NI int32_t reuse_bound(const int32_t *a, int n)
{
  /* the bound register is used again after the loop */
  int32_t s = 0;
  const int32_t *end = a + n;
  for (const int32_t *p = a; p < end; p++)
    s += *p;
  return s + (int32_t)(end - a) * 100;
}

static const int sizes[] = {0, 1, 2, 3, 4, 5, 7, 16, 33, 100};
#define NSIZES (int)(sizeof(sizes) / sizeof(sizes[0]))

int main(void)
{
  if (pi_core_id() != 0)
    return 0;
  for (int i = 0; i < 300; i++) {
    data[i] = (i * 2654435761u) >> 7 ^ (i * 37);
    bytes[i] = (int8_t)(i * 73 + 11);
    ubytes[i] = (uint8_t)(i * 91 + 5);
    halves[i] = (int16_t)(i * 1237 - 9000);
  }
  for (int k = 0; k < NSIZES; k++) {
    int n = sizes[k];
    printf("n=%d sum %ld\n", n, (long)sum_words(data, n));
    scale_bytes(out8, bytes, (unsigned)n, 5);
    int32_t c = 0;
    for (int i = 0; i < 300; i++)
      c = c * 31 + out8[i];
    printf("n=%d scale %ld\n", n, (long)c);
    printf("n=%d early %ld %ld\n", n, (long)early_exit(data, n, data[3]), (long)early_exit(data, n, -1));
    printf("n=%d continue %ld\n", n, (long)with_continue(data, n));
    printf("n=%d counter %ld\n", n, (long)counter_in_body(data, n));
    printf("n=%d call %ld\n", n, (long)call_in_body(data, n));
    printf("n=%d after %ld %ld\n", n, (long)counter_after(data, n), (long)countdown_after(halves, n));
    printf("n=%d down %ld\n", n, (long)down_loop(data, n));
    printf("n=%d stride %ld %ld\n", n, (long)stride3(data, n), (long)stride16(data, n * 2));
    copy_short(out32, data, n);
    c = 0;
    for (int i = 0; i < 300; i++)
      c = c * 31 + out32[i];
    printf("n=%d copy %ld\n", n, (long)c);
    printf("n=%d walk %ld\n", n, (long)pointer_walk(halves, halves + n));
    printf("n=%d dot %ld\n", n, (long)simd_dot(ubytes, bytes, n / 4 + (n & 1)));
    printf("n=%d bound %ld\n", n, (long)reuse_bound(data, n));
    printf("n=%d nfixed %ld\n", n, (long)nested_fixed(bytes, n > 30 ? 30 : n));
    for (int m = 0; m < 4; m++) {
      printf("n=%d m=%d nested %ld\n", n, m, (long)nested(data, n > 50 ? 50 : n, m));
      printf("n=%d m=%d triple %ld %ld\n", n, m, (long)triple(bytes, n > 5 ? 5 : n, m, 3),
             (long)triple(bytes, 2, n > 20 ? 20 : n, m));
      rows_guarded(out32, data, n > 20 ? 20 : n, m + 1);
      c = 0;
      for (int i = 0; i < 21; i++)
        c = c * 31 + out32[i];
      printf("n=%d m=%d guarded %ld\n", n, m, (long)c);
      printf("n=%d m=%d rows %ld\n", n, m, (long)rows_of_dots(ubytes, bytes, m, n > 16 ? 16 : n, out32));
    }
  }
  printf("unsigned %ld %ld %ld\n", (long)unsigned_bounds(ubytes, 3, 40), (long)unsigned_bounds(ubytes, 40, 3),
         (long)unsigned_bounds(ubytes, 7, 7));
  printf("signed %ld %ld %ld\n", (long)signed_bounds(data, -5, 30), (long)signed_bounds(data, 10, -10),
         (long)signed_bounds(data, -100, -99));
  printf("fixed %ld\n", (long)fixed_count(data));
  return 0;
}
