//! The libm functions of the firmware C library that neither compiler_rt nor
//! the musl sources in the ziglang wheel provide, taken from Zig's standard
//! library (std.math) as Zig's own libc does. compiler_rt (linked by zig cc)
//! gives exp, log, log2, log10, exp2, sqrtf/sqrt, sin/cos/tan, fabs, floor,
//! ceilf, round, trunc, fma, fmin/fmax, fmod; the musl sources give pow, expm1,
//! ldexpf/scalbnf, erf, atan2, sinh, asinh/acosh/atanh, nearbyintf
//! (toolchain/libc.py lists them); the transcendental float functions are
//! libc/mathf.c's (correctly rounded through these double ones). Built by
//! toolchain/libc.py with `zig build-obj` for the firmware's target.
const std = @import("std");
const math = std.math;

export fn tanh(x: f64) f64 {
    return math.tanh(x);
}
export fn cosh(x: f64) f64 {
    return math.cosh(x);
}
export fn atan(x: f64) f64 {
    return math.atan(x);
}
export fn acos(x: f64) f64 {
    return math.acos(x);
}
export fn asin(x: f64) f64 {
    return math.asin(x);
}
export fn log1p(x: f64) f64 {
    return math.log1p(x);
}
export fn cbrt(x: f64) f64 {
    return math.cbrt(x);
}
export fn hypot(x: f64, y: f64) f64 {
    return math.hypot(x, y);
}
export fn copysignf(x: f32, y: f32) f32 {
    return math.copysign(x, y);
}
export fn copysign(x: f64, y: f64) f64 {
    return math.copysign(x, y);
}
export fn ceil(x: f64) f64 {
    return @ceil(x);
}
export fn fmax(x: f64, y: f64) f64 {
    return @max(x, y);
}
export fn rintf(x: f32) f32 {
    return roundEven(f32, x);
}
export fn rint(x: f64) f64 {
    return roundEven(f64, x);
}
export fn lrintf(x: f32) c_long {
    return @intFromFloat(roundEven(f32, x));
}
export fn lroundf(x: f32) c_long {
    return @intFromFloat(@round(x));
}
export fn modff(x: f32, ip: *f32) f32 {
    const r = math.modf(x);
    ip.* = r.ipart;
    return r.fpart;
}
export fn modf(x: f64, ip: *f64) f64 {
    const r = math.modf(x);
    ip.* = r.ipart;
    return r.fpart;
}
export fn frexpf(x: f32, e: *c_int) f32 {
    const r = math.frexp(x);
    e.* = r.exponent;
    return r.significand;
}
export fn frexp(x: f64, e: *c_int) f64 {
    const r = math.frexp(x);
    e.* = r.exponent;
    return r.significand;
}
// musl's printf takes long double (binary128 on RV32) apart with frexpl.
export fn frexpl(x: f128, e: *c_int) f128 {
    const r = math.frexp(x);
    e.* = r.exponent;
    return r.significand;
}

// Round to nearest, ties to even (the default rounding mode; there is no FPU).
fn roundEven(comptime T: type, x: T) T {
    const r = @round(x);
    if (@abs(x - @trunc(x)) == 0.5) {
        return 2.0 * @round(x / 2.0);
    }
    return r;
}

// frexpl of musl's vfprintf.c, which is built with a 64-bit long double
// (libc/printf_double/float.h).
export fn __iss_frexp_ld64(x: f64, e: *c_int) f64 {
    const r = math.frexp(x);
    e.* = r.exponent;
    return r.significand;
}
