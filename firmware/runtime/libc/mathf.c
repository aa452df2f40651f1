/* The float functions of math.h, correctly rounded.
 *
 * The float versions in the wheel (compiler_rt's expf/logf/sinf/cosf, musl's
 * powf/expm1f, Zig's tanhf...) are each fast approximations accurate to about
 * one ULP: their last bit differs from the correctly rounded result for some
 * inputs, and from one library to the next, so firmware results could not be
 * compared bit for bit with a reference. Each function here evaluates the
 * double-precision version (< 1 ULP of double, i.e. 2^-29 of a float ULP) and
 * rounds once to float: the correctly rounded float, except where the exact
 * value lies within 2^-29 ULP of a halfway point between two floats (no such
 * input is known for these functions' usual ranges; exact results, halfway
 * ones included, come out exact). Special values (NaN, infinities, signed
 * zeros, overflow to inf, subnormal results) follow from the double version.
 * The price is soft-float double arithmetic: a few times the cycles of the
 * float approximations. */
#include <math.h>

#define UNARY(name, dbl) \
    float name(float x) { return (float)dbl((double)x); }
#define BINARY(name, dbl) \
    float name(float x, float y) { return (float)dbl((double)x, (double)y); }

UNARY(expf, exp)
UNARY(exp2f, exp2)
UNARY(expm1f, expm1)
UNARY(logf, log)
UNARY(log2f, log2)
UNARY(log10f, log10)
UNARY(log1pf, log1p)
UNARY(sinf, sin)
UNARY(cosf, cos)
UNARY(tanf, tan)
UNARY(sinhf, sinh)
UNARY(coshf, cosh)
UNARY(tanhf, tanh)
UNARY(asinf, asin)
UNARY(acosf, acos)
UNARY(atanf, atan)
UNARY(asinhf, asinh)
UNARY(acoshf, acosh)
UNARY(atanhf, atanh)
UNARY(erff, erf)
UNARY(erfcf, erfc)
UNARY(cbrtf, cbrt)
BINARY(powf, pow)
BINARY(atan2f, atan2)
BINARY(hypotf, hypot)

void sincosf(float x, float *s, float *c)
{
    *s = sinf(x);
    *c = cosf(x);
}
