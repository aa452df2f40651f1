/* Seen only by musl's vfprintf.c, which toolchain/libc.py builds with long
 * double = double (-Xclang -mlong-double-64, frexpl -> __iss_frexp_ld64 of libc/math.zig).
 *
 * musl's printf converts every floating-point argument to long double and
 * sizes its decimal buffer (on the stack) for the largest long double: with
 * RV32's 128-bit long double that is over 7 KiB, more than a firmware core's
 * whole stack. Built with a 64-bit long double, and these limits to match,
 * the buffer is sized for doubles (about 0.5 KiB) and every float and double
 * prints exactly (musl's algorithm is exact for its long double). What is
 * given up: %Lf (a 128-bit long double argument) is not supported. */
#include_next <float.h>
#undef LDBL_MANT_DIG
#undef LDBL_MAX_EXP
#undef LDBL_MIN_EXP
#undef LDBL_EPSILON
#undef LDBL_MAX
#undef LDBL_MIN
#undef LDBL_DIG
#define LDBL_MANT_DIG DBL_MANT_DIG
#define LDBL_MAX_EXP DBL_MAX_EXP
#define LDBL_MIN_EXP DBL_MIN_EXP
#define LDBL_EPSILON ((long double)DBL_EPSILON)
#define LDBL_MAX ((long double)DBL_MAX)
#define LDBL_MIN ((long double)DBL_MIN)
#define LDBL_DIG DBL_DIG
