"""Integer requantization, exactly as the firmware kernels compute it.

Activation format (the whole network, every unit: cores, IMA, DWA)
------------------------------------------------------------------
* Every activation tensor is **int8, HWC** (channel fastest), C-contiguous.
* Layers followed by ReLU6 clamp their output to ``[0, q6]`` in the int8
  domain; ``q6`` defaults to ``Q6 = 127`` (so the real value 6.0 is mapped to
  127 and ReLU6 is "ReLU plus saturation at the top of int8").
* Linear layers (the bottleneck projection, the residual add, the average pool,
  the classifier) clip to the full int8 range ``[-128, 127]``.

Why int8 and not PULP-NN's uint8: the IMA's DAC takes signed int8 (``in/127``)
and its ADC returns signed int8; the projection layer's output is signed; the
CORE-V SIMD dot product ``cv.sdotsp.b`` is signed x signed. One signed format
for every tensor means no conversion between units and one kernel per layer
kind.

Requantization
--------------
``acc`` is the int32 accumulator (the bias is its starting value).  Then::

    out = clamp((acc * mult + round) >> shift, lo, hi)
    round = (1 << (shift - 1)) if shift > 0 else 0

* ``>>`` is an **arithmetic** (floor) shift; adding half first makes the whole
  operation *round half up* (towards +infinity).
* Why add-half rather than plain floor: floor has a systematic -0.5 LSB bias
  that accumulates over MobileNetV2's 50+ layers; add-half is unbiased to first
  order, costs one add, and is exactly what the CORE-V instructions
  ``cv.addrn`` (``(rs1 + rs2 + 2^(I-1)) >>> I``) and ``cv.mulsrn`` compute.
* ``mult`` is a non-negative integer (``0 <= mult < 2^31``), ``shift`` in
  ``[0, 31]``; both may be scalars (per layer) or arrays of length C (per
  output channel, broadcast over the last axis).
* The golden model computes ``acc * mult + round`` exactly (int64).  The
  calibration in :mod:`iss.nn.mobilenetv2` chooses ``mult`` so that this value
  fits in int32 for *every possible input* (worst-case bound), so a firmware
  kernel using a plain 32-bit ``mul`` is bit-exact; :func:`product_fits_int32`
  checks that bound.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT8_MIN = -128
INT8_MAX = 127
Q6 = 127  #: int8 code of the real value 6.0 (ReLU6 upper clamp)
INT32_MAX = 2**31 - 1


def round_shift(x, shift):
    """Round-half-up arithmetic right shift: ``(x + 2^(shift-1)) >> shift``.

    ``x`` integer array (computed in int64); ``shift`` scalar or array
    broadcastable to ``x`` with values in [0, 62]. ``shift == 0`` is identity.
    """
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if np.any(shift < 0) or np.any(shift > 62):
        raise ValueError("shift must be in [0, 62]")
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    return np.right_shift(x + half, shift)


def requantize(acc, mult, shift, lo=INT8_MIN, hi=INT8_MAX):
    """``clamp(round_shift(acc * mult, shift), lo, hi)`` as int8.

    ``acc``: integer array (..., C) (the int32 accumulator, bias included).
    ``mult``/``shift``: scalar (per layer) or shape (C,) (per channel).
    ``lo``/``hi``: clamp bounds inside [-128, 127]; ReLU6 is ``lo=0, hi=Q6``.
    """
    if not (INT8_MIN <= lo <= hi <= INT8_MAX):
        raise ValueError(f"clamp bounds [{lo}, {hi}] not inside int8")
    mult = np.asarray(mult, dtype=np.int64)
    if np.any(mult < 0) or np.any(mult > INT32_MAX):
        raise ValueError("mult must be in [0, 2^31)")
    prod = np.asarray(acc, dtype=np.int64) * mult
    return np.clip(round_shift(prod, shift), lo, hi).astype(np.int8)


def product_fits_int32(acc_bound, mult, shift) -> bool:
    """True if ``|acc| <= acc_bound`` guarantees ``acc*mult + round`` fits int32."""
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    bound = np.asarray(acc_bound, dtype=np.int64) * mult + half
    return bool(np.all(bound <= INT32_MAX))


@dataclass(frozen=True)
class Requant:
    """Requantization parameters of one layer.

    ``mult``/``shift``: int64 arrays of shape () (per layer) or (C,) (per
    channel). ``lo``/``hi``: output clamp (ReLU6: ``0, Q6``; linear:
    ``-128, 127``).
    """

    mult: np.ndarray
    shift: np.ndarray
    lo: int = INT8_MIN
    hi: int = INT8_MAX

    def __call__(self, acc):
        return requantize(acc, self.mult, self.shift, self.lo, self.hi)

    @property
    def relu(self) -> bool:
        return self.lo == 0


def choose_mult_shift(scale, acc_bound=None, mult_bits=15):
    """Integer ``(mult, shift)`` with ``mult / 2^shift ~= scale`` (> 0).

    ``scale``: scalar or array (per channel) of positive reals.
    ``mult`` gets at most ``mult_bits`` bits; if ``acc_bound`` (scalar or
    per-channel worst-case ``|acc|``) is given, ``mult`` is reduced further so
    that :func:`product_fits_int32` holds.
    Returns int64 arrays shaped like ``scale``.
    """
    scale = np.asarray(scale, dtype=np.float64)
    if np.any(scale <= 0):
        raise ValueError("scale must be positive")
    max_mult = np.full(scale.shape, (1 << mult_bits) - 1, dtype=np.int64)
    if acc_bound is not None:
        ab = np.maximum(np.asarray(acc_bound, dtype=np.int64), 1)
        # leave room for the rounding term (at most 2^30 when shift = 31)
        max_mult = np.minimum(max_mult, np.maximum((INT32_MAX // 2) // ab, 1))
    # the largest shift such that round(scale * 2^shift) <= max_mult
    shift = np.floor(np.log2(max_mult / scale)).astype(np.int64)
    shift = np.clip(shift, 0, 31)
    mult = np.rint(scale * np.exp2(shift)).astype(np.int64)
    over = mult > max_mult
    shift = np.where(over, np.maximum(shift - 1, 0), shift)
    mult = np.rint(scale * np.exp2(shift)).astype(np.int64)
    mult = np.clip(mult, 1, INT32_MAX)
    return mult, shift
