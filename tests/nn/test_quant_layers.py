"""Golden layers vs independent slow references (explicit loops / float math)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from iss.nn import layers as L
from iss.nn.quant import Q6, Requant, choose_mult_shift, product_fits_int32, requantize, round_shift


def ref_requant_scalar(acc, mult, shift, lo, hi):
    """Exact rational: round half up of acc*mult/2^shift, via Python ints/fractions."""
    num = acc * mult
    # floor(num / 2^shift + 1/2) with Python's exact integers
    q = (2 * num + 2**shift) // 2**(shift + 1)
    return max(lo, min(hi, q))


@settings(max_examples=400, deadline=None)
@given(st.integers(-2**24, 2**24), st.integers(0, 2**15), st.integers(0, 31),
       st.sampled_from([(-128, 127), (0, Q6), (0, 100)]))
def test_requant_matches_exact_rational(acc, mult, shift, clamp):
    lo, hi = clamp
    got = int(requantize(np.array([acc]), mult, shift, lo, hi)[0])
    from fractions import Fraction
    f = Fraction(acc * mult, 2**shift)
    want = math.floor(f + Fraction(1, 2))
    assert got == max(lo, min(hi, want))
    assert got == ref_requant_scalar(acc, mult, shift, lo, hi)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-6, 4.0), st.integers(1, 2**24))
def test_choose_mult_shift_accuracy_and_int32(scale, bound):
    m, s = choose_mult_shift(scale, acc_bound=bound)
    assert product_fits_int32(bound, m, s)
    approx = int(m) / 2**int(s)
    # relative precision limited by the int32 headroom
    if int(m) >= 2**10:
        assert abs(approx - scale) / scale < 2**-9


def test_round_shift_half_up():
    x = np.array([-3, -2, -1, 0, 1, 2, 3, 5, -5])
    assert list(round_shift(x, 1)) == [-1, -1, 0, 0, 1, 1, 2, 3, -2]
    assert list(round_shift(x, 0)) == list(x)


def test_per_channel_requant():
    acc = np.arange(-20, 20).reshape(10, 4) * 1000
    mult = np.array([1, 2, 3, 4])
    shift = np.array([4, 5, 6, 7])
    got = requantize(acc, mult, shift)
    for c in range(4):
        for i in range(10):
            assert got[i, c] == ref_requant_scalar(int(acc[i, c]), int(mult[c]), int(shift[c]), -128, 127)


# ---------------------------------------------------------------- slow refs
def ref_conv(x, w, b, stride, pad):
    h, wd, ci = x.shape
    kh, kw, _, co = w.shape
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((ho, wo, co), dtype=object)
    for oy in range(ho):
        for ox in range(wo):
            for o in range(co):
                s = int(b[o])
                for i in range(kh):
                    for j in range(kw):
                        iy, ix = oy * stride + i - pad, ox * stride + j - pad
                        if 0 <= iy < h and 0 <= ix < wd:
                            for c in range(ci):
                                s += int(x[iy, ix, c]) * int(w[i, j, c, o])
                out[oy, ox, o] = s
    return out


def ref_dw(x, w, b, stride, pad):
    h, wd, c = x.shape
    ho = (h + 2 * pad - 3) // stride + 1
    wo = (wd + 2 * pad - 3) // stride + 1
    out = np.zeros((ho, wo, c), dtype=object)
    for oy in range(ho):
        for ox in range(wo):
            for ch in range(c):
                s = int(b[ch])
                for i in range(3):
                    for j in range(3):
                        iy, ix = oy * stride + i - pad, ox * stride + j - pad
                        if 0 <= iy < h and 0 <= ix < wd:
                            s += int(x[iy, ix, ch]) * int(w[i, j, ch])
                out[oy, ox, ch] = s
    return out


def ref_rq(acc, mult, shift, lo, hi):
    mult = np.broadcast_to(np.asarray(mult), (acc.shape[-1],))
    shift = np.broadcast_to(np.asarray(shift), (acc.shape[-1],))
    out = np.zeros(acc.shape, dtype=np.int64)
    for idx in np.ndindex(acc.shape):
        c = idx[-1]
        out[idx] = ref_requant_scalar(int(acc[idx]), int(mult[c]), int(shift[c]), lo, hi)
    return out


def rnd(rng, shape, lo=-128, hi=128):
    return rng.integers(lo, hi, size=shape).astype(np.int8)


@pytest.mark.parametrize("h,w,stride", [(7, 6, 2), (8, 8, 2), (5, 5, 1)])
def test_conv2d_vs_loops(h, w, stride):
    rng = np.random.default_rng(1)
    x, wt = rnd(rng, (h, w, 3)), rnd(rng, (3, 3, 3, 5))
    b = rng.integers(-1000, 1000, 5).astype(np.int32)
    rq = Requant(np.int64(37), np.int64(12), 0, Q6)
    got = L.conv2d(x, wt, b, rq, stride, 1)
    acc = ref_conv(x, wt, b, stride, 1)
    assert np.array_equal(L.conv2d_acc(x, wt, b, stride, 1), acc.astype(np.int64))
    assert np.array_equal(got, ref_rq(acc, 37, 12, 0, Q6))


def test_pointwise_vs_loops():
    rng = np.random.default_rng(2)
    x, wt = rnd(rng, (4, 3, 20)), rnd(rng, (20, 7))
    b = rng.integers(-500, 500, 7).astype(np.int32)
    mult, shift = rng.integers(1, 300, 7), rng.integers(8, 14, 7)
    got = L.pointwise(x, wt, b, Requant(mult, shift))
    acc = ref_conv(x, wt.reshape(1, 1, 20, 7), b, 1, 0)
    assert np.array_equal(got, ref_rq(acc, mult, shift, -128, 127))


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("h,w", [(6, 6), (7, 5)])
def test_depthwise_vs_loops(stride, h, w):
    rng = np.random.default_rng(3 + stride)
    x, wt = rnd(rng, (h, w, 6)), rnd(rng, (3, 3, 6))
    b = rng.integers(-500, 500, 6).astype(np.int32)
    mult, shift = rng.integers(1, 300, 6), rng.integers(6, 12, 6)
    got = L.depthwise(x, wt, b, Requant(mult, shift, 0, Q6), stride, 1)
    acc = ref_dw(x, wt, b, stride, 1)
    assert got.shape == acc.shape
    assert np.array_equal(got, ref_rq(acc, mult, shift, 0, Q6))


def test_residual_add_vs_float():
    rng = np.random.default_rng(4)
    a, b = rnd(rng, (5, 5, 8)), rnd(rng, (5, 5, 8))
    got = L.residual_add(a, b, 300, 211, 9)
    for idx in np.ndindex(a.shape):
        v = (int(a[idx]) * 300 + int(b[idx]) * 211) / 512.0  # exact in binary float
        assert got[idx] == max(-128, min(127, math.floor(v + 0.5)))


def test_avgpool_and_fc_vs_loops():
    rng = np.random.default_rng(5)
    x = rnd(rng, (7, 7, 16))
    m, s = L.avgpool_params(7, 7)
    got = L.global_avgpool(x, m, s)
    for c in range(16):
        tot = sum(int(v) for v in x[:, :, c].ravel())
        assert got[c] == ref_requant_scalar(tot, m, s, -128, 127)
        assert abs(int(got[c]) - tot / 49) <= 0.5 + 1e-3 * abs(tot / 49) + 1e-9
    v, wt = rnd(rng, (40,)), rnd(rng, (40, 9))
    b = rng.integers(-100, 100, 9).astype(np.int32)
    got = L.fully_connected(v, wt, b, Requant(np.int64(5), np.int64(8)))
    for o in range(9):
        acc = int(b[o]) + sum(int(v[i]) * int(wt[i, o]) for i in range(40))
        assert got[o] == ref_requant_scalar(acc, 5, 8, -128, 127)


def test_big_layer_is_fast():
    import time
    rng = np.random.default_rng(6)
    x = rnd(rng, (112, 112, 32))
    t = time.perf_counter()
    L.depthwise(x, rnd(rng, (3, 3, 32)), np.zeros(32, np.int32), Requant(np.int64(1), np.int64(8)), 1)
    L.pointwise(x, rnd(rng, (32, 96)), np.zeros(96, np.int32), Requant(np.int64(1), np.int64(12)))
    L.conv2d(rnd(rng, (224, 224, 3)), rnd(rng, (3, 3, 3, 32)), np.zeros(32, np.int32),
             Requant(np.int64(1), np.int64(10)))
    assert time.perf_counter() - t < 1.0


def test_rejects_out_of_range():
    with pytest.raises(ValueError):
        L.pointwise(np.array([[[200]]]), np.ones((1, 1), np.int8), None, Requant(np.int64(1), np.int64(0)))
    with pytest.raises(TypeError):
        L.pointwise(np.zeros((1, 1, 1)), np.ones((1, 1), np.int8), None, Requant(np.int64(1), np.int64(0)))
