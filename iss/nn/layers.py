"""Golden int8 layers (numpy, bit-exact integer semantics).

Conventions (see :mod:`iss.nn.quant` for the activation format):

* Activations: int8, HWC (``x[h, w, c]``).  Zero padding pads with the int8
  value 0 (symmetric quantization, zero point 0).
* Weights (cores / DWA): int8.  Layouts, chosen so that a 1x1 conv is a plain
  ``x @ w`` and matches the IMA crossbar (rows = input channel, columns =
  output channel):

  - ``conv2d``:     ``w[kh, kw, cin, cout]``
  - ``pointwise``:  ``w[cin, cout]``
  - ``depthwise``:  ``w[kh, kw, c]``
  - ``fully_connected``: ``w[cin, cout]``

* Bias: int32, shape (cout,), the accumulator's initial value.
* Accumulation is exact (int64 in numpy; every layer of MobileNetV2 fits int32).
  Matrix products go through float64 BLAS, which is exact here: every partial
  sum is an integer below 2^53 (checked), so the result equals the integer sum.
* Output: :func:`iss.nn.quant.requantize` (round half up, then clamp) -> int8.

No per-pixel Python loops: convolutions are im2col views + one matmul;
depthwise loops over the 9 taps only.
"""
from __future__ import annotations

import numpy as np

from .quant import INT8_MAX, INT8_MIN, Requant, requantize, round_shift

_EXACT_F64 = 2**53


def _as_int(x, name, lo=None, hi=None):
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got {a.dtype}")
    if lo is not None and a.size and (a.min() < lo or a.max() > hi):
        raise ValueError(f"{name} values outside [{lo}, {hi}]")
    return a


def int_matmul(a, b):
    """Exact integer ``a @ b`` (int64) computed with float64 BLAS.

    Exact because each product and every partial sum is an integer of
    magnitude below 2^53 (asserted from the operands' maxima).
    """
    a = np.asarray(a)
    b = np.asarray(b)
    k = a.shape[-1]
    amax = int(np.abs(a).max()) if a.size else 0
    bmax = int(np.abs(b).max()) if b.size else 0
    if k * amax * bmax >= _EXACT_F64:
        return np.matmul(a.astype(np.int64), b.astype(np.int64))
    return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.int64)


def _pad_hw(x, pad):
    if pad == 0:
        return x
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0)))


def out_size(n, k, stride, pad):
    """Output length of a convolution along one axis."""
    return (n + 2 * pad - k) // stride + 1


def conv2d_acc(x, w, bias=None, stride=1, pad=0):
    """Accumulator (int64, HxWxCout) of a dense conv; ``w[kh, kw, cin, cout]``."""
    x = _as_int(x, "x", INT8_MIN, INT8_MAX)
    w = _as_int(w, "w")
    kh, kw, cin, cout = w.shape
    if x.shape[2] != cin:
        raise ValueError(f"x has {x.shape[2]} channels, w expects {cin}")
    xp = _pad_hw(x, pad)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))
    win = win[::stride, ::stride]  # (Ho, Wo, Cin, kh, kw)
    ho, wo = win.shape[:2]
    cols = win.transpose(0, 1, 3, 4, 2).reshape(ho * wo, kh * kw * cin)
    acc = int_matmul(cols, w.reshape(kh * kw * cin, cout)).reshape(ho, wo, cout)
    if bias is not None:
        acc = acc + _as_int(bias, "bias").astype(np.int64)
    return acc


def conv2d(x, w, bias, rq: Requant, stride=2, pad=1):
    """Dense conv + requant (default: MobileNetV2's first layer, 3x3 s2 p1)."""
    return rq(conv2d_acc(x, w, bias, stride, pad))


def pointwise_acc(x, w, bias=None):
    """Accumulator of a 1x1 conv: ``x[..., cin] @ w[cin, cout] + bias``."""
    x = _as_int(x, "x", INT8_MIN, INT8_MAX)
    w = _as_int(w, "w")
    if x.shape[-1] != w.shape[0]:
        raise ValueError(f"x has {x.shape[-1]} channels, w expects {w.shape[0]}")
    acc = int_matmul(x.reshape(-1, w.shape[0]), w).reshape(x.shape[:-1] + (w.shape[1],))
    if bias is not None:
        acc = acc + _as_int(bias, "bias").astype(np.int64)
    return acc


def pointwise(x, w, bias, rq: Requant):
    """1x1 convolution (HWC int8 -> HWC int8)."""
    return rq(pointwise_acc(x, w, bias))


def depthwise_acc(x, w, bias=None, stride=1, pad=1):
    """Accumulator of a depthwise conv; ``w[kh, kw, c]``; zero padding."""
    x = _as_int(x, "x", INT8_MIN, INT8_MAX)
    w = _as_int(w, "w")
    kh, kw, c = w.shape
    if x.shape[2] != c:
        raise ValueError(f"x has {x.shape[2]} channels, w expects {c}")
    h, wd = x.shape[:2]
    ho, wo = out_size(h, kh, stride, pad), out_size(wd, kw, stride, pad)
    xp = _pad_hw(x, pad).astype(np.int64)
    w64 = w.astype(np.int64)
    acc = np.zeros((ho, wo, c), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            acc += xp[i:i + stride * (ho - 1) + 1:stride,
                      j:j + stride * (wo - 1) + 1:stride] * w64[i, j]
    if bias is not None:
        acc += _as_int(bias, "bias").astype(np.int64)
    return acc


def depthwise(x, w, bias, rq: Requant, stride=1, pad=1):
    """Depthwise 3x3 conv (stride 1 or 2, padding 1) + per-channel requant."""
    return rq(depthwise_acc(x, w, bias, stride, pad))


def residual_add(a, b, mult_a, mult_b, shift, lo=INT8_MIN, hi=INT8_MAX):
    """Residual add with requantization of both inputs.

    ``out = clamp(round_shift(a*mult_a + b*mult_b, shift), lo, hi)`` (int8),
    exact integers; ``mult_*``/``shift`` scalars or per-channel arrays.
    MobileNetV2 uses the linear clamp [-128, 127].
    """
    a = _as_int(a, "a", INT8_MIN, INT8_MAX).astype(np.int64)
    b = _as_int(b, "b", INT8_MIN, INT8_MAX).astype(np.int64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    acc = a * np.asarray(mult_a, np.int64) + b * np.asarray(mult_b, np.int64)
    return np.clip(round_shift(acc, shift), lo, hi).astype(np.int8)


def global_avgpool(x, mult, shift, lo=INT8_MIN, hi=INT8_MAX):
    """Global average pool: ``requantize(sum_hw x[h, w, c], mult, shift)``.

    ``mult / 2^shift`` approximates ``1 / (H*W)`` (times any rescale).
    Returns int8 of shape (C,).
    """
    x = _as_int(x, "x", INT8_MIN, INT8_MAX)
    acc = x.astype(np.int64).sum(axis=(0, 1))
    return requantize(acc, mult, shift, lo, hi)


def avgpool_params(h, w, mult_bits=15):
    """(mult, shift) approximating 1/(h*w) for :func:`global_avgpool`."""
    from .quant import choose_mult_shift
    m, s = choose_mult_shift(1.0 / (h * w), acc_bound=128 * h * w, mult_bits=mult_bits)
    return int(m), int(s)


def fully_connected_acc(x, w, bias=None):
    """Accumulator of ``x[cin] @ w[cin, cout] + bias`` (int64, shape (cout,))."""
    return pointwise_acc(np.asarray(x).reshape(1, -1), w, bias).reshape(-1)


def fully_connected(x, w, bias, rq: Requant):
    """Fully connected layer on an int8 vector -> int8 vector."""
    return rq(fully_connected_acc(x, w, bias))


__all__ = [
    "int_matmul", "out_size", "conv2d_acc", "conv2d", "pointwise_acc", "pointwise",
    "depthwise_acc", "depthwise", "residual_add", "global_avgpool", "avgpool_params",
    "fully_connected_acc", "fully_connected", "round_shift",
]
