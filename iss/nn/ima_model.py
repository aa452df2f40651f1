"""The IMA's exact digital meaning: an integer formulation of the analog MVM.

Float model (GVSoC's ``ima_v1`` IMA model), for output column i of a
job window with ``rows`` input rows::

    y_i = sum_j (in[j] / 127) * (w[j][i] / 7)
    y_i = clamp(y_i, -ADC_LOW, +ADC_HIGH)
    v_i = y_i * 127 / (ADC_HIGH + ADC_LOW)
    out_i = round_half_away_from_zero(clamp(v_i, -127, 127))         (int8)

Inputs are int8 (``-128..127``; the DAC reads ``in/127``), weights are signed
4-bit in ``[-7, 7]``.

Units of ADC_LOW / ADC_HIGH (a deliberate deviation from GVSoC)
---------------------------------------------------------------
Here the two registers are integers **in units of the integer dot product**
``acc_i = sum_j in[j] * w[j][i]`` (i.e. ``y = acc / 889``, ``889 = 127 * 7``).
GVSoC compares its float ``y`` with the registers directly (units of ``y``),
which gives an ADC range granularity of 889 accumulator LSBs; integer units of
``acc`` are 889x finer and make the whole MVM exact in integers.  A GVSoC
register value ``R`` equals ``889 * R`` here (:func:`adc_from_gvsoc_units`).
Constraints: ``0 <= ADC_LOW``, ``0 <= ADC_HIGH``, ``ADC_LOW + ADC_HIGH >= 1``
(GVSoC's registers reset to 0 and divide by zero; we raise instead).

Exact integer formula (what :func:`mvm` computes)::

    acc  = sum_j in[j] * w[j][i]                    (|acc| <= 256*128*7 < 2^18)
    a    = clamp(acc, -ADC_LOW, ADC_HIGH)
    n    = a * 127 ;  d = ADC_LOW + ADC_HIGH
    q    = sign(n) * ((2*|n| + d) // (2*d))          (round half away from zero)
    out  = clamp(q, -127, 127)                       (int8; -128 never produced)

Equivalence: with ``y = acc/889`` and the float bounds ``L/889, H/889`` the
float model's ``v`` equals the rational ``a*127/d`` exactly, and ``q`` is its
round-half-away-from-zero.  A floating-point evaluation of the float model can
differ only when ``a*127/d`` is exactly a tie ``k + 1/2``: the float sum of
``(in/127)*(w/7)`` carries a relative error ~1e-16 that can push a tie to
either side (float32, as in GVSoC, also near ties within ~1e-6 relative).  The
integer formula takes the mathematically exact tie.  tests/nn/test_ima_model.py
checks this over many random values and hypothesis-generated ties.

Noise model (:func:`mvm_noisy`, off by default in the simulator)
----------------------------------------------------------------
Conductances are expressed in weight units: a cell holding ``w`` has
conductance ``w`` (so ``G_max`` corresponds to ``|w| = 7``); sigmas are
fractions of ``G_max``:

* programming noise, drawn once when the weights are programmed
  (:func:`program_conductances`): ``g = w + 7 * sigma_prog * N(0, 1)`` per cell,
  independent of the level (a simplification of PCM's level-dependent error);
* read noise, drawn fresh for every MVM and every cell:
  ``g_read = g + 7 * sigma_read * N(0, 1)``.

The analog column sum is ``acc_f = sum_j in[j] * g_read[j][i]``.  The read
noise term ``sum_j in[j] * 7*sigma_read*N_ji`` is drawn in one draw per column
as ``7 * sigma_read * ||in||_2 * N(0, 1)``, which has exactly the same
(Gaussian) distribution and costs O(cols) instead of O(rows*cols).  The ADC
then applies the same clamp / scale / round-half-away / clamp to ``acc_f`` in
float64.  With both sigmas 0, ``acc_f`` is an exact integer and the result is
bit-identical to :func:`mvm`.  Everything is seeded (``numpy.random.Generator``).
"""
from __future__ import annotations

import numpy as np

from .layers import int_matmul

XBAR_ROWS = 256
XBAR_COLS = 256
DAC_MAX = 127  #: input scale: the DAC reads in/127
W_MAX = 7  #: weight scale: a 4-bit cell holds w/7 in [-1, 1]
ACC_PER_Y = DAC_MAX * W_MAX  #: 889: acc = 889 * y
OUT_MAX = 127


def adc_from_gvsoc_units(r):
    """Convert an ADC bound in GVSoC units (of ``y``) to this model's (of acc)."""
    return int(r) * ACC_PER_Y


def _check(inputs, weights4, adc_low, adc_high):
    x = np.asarray(inputs)
    w = np.asarray(weights4)
    if not np.issubdtype(x.dtype, np.integer) or not np.issubdtype(w.dtype, np.integer):
        raise TypeError("IMA inputs and weights must be integer arrays")
    if x.size and (x.min() < -128 or x.max() > 127):
        raise ValueError("IMA inputs must be int8")
    if w.ndim != 2:
        raise ValueError("weights4 must be 2-D [rows, cols]")
    if w.size and (w.min() < -W_MAX or w.max() > W_MAX):
        raise ValueError("IMA weights must be in [-7, 7]")
    if x.shape[-1] != w.shape[0]:
        raise ValueError(f"inputs have {x.shape[-1]} rows, weights {w.shape[0]}")
    _check_adc(adc_low, adc_high)
    return x, w


def _check_adc(adc_low, adc_high):
    lo, hi = int(adc_low), int(adc_high)
    if lo < 0 or hi < 0 or lo + hi < 1 or lo >= 2**31 or hi >= 2**31:
        raise ValueError(
            f"IMA ADC range invalid: ADC_LOW={lo}, ADC_HIGH={hi} "
            "(need 0 <= LOW, 0 <= HIGH < 2^31, LOW + HIGH >= 1)")
    return lo, hi


def adc(acc, adc_low, adc_high):
    """Exact integer ADC: clamp, scale by 127/(LOW+HIGH), round half away, clamp."""
    lo, hi = _check_adc(adc_low, adc_high)
    a = np.clip(np.asarray(acc, dtype=np.int64), -lo, hi)
    n = a * OUT_MAX
    d = lo + hi
    q = np.sign(n) * ((2 * np.abs(n) + d) // (2 * d))
    return np.clip(q, -OUT_MAX, OUT_MAX).astype(np.int8)


def adc_float(acc_f, adc_low, adc_high):
    """The same ADC on a real-valued accumulator (noisy path), float64."""
    lo, hi = _check_adc(adc_low, adc_high)
    a = np.clip(np.asarray(acc_f, dtype=np.float64), -lo, hi)
    v = a * OUT_MAX / (lo + hi)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(q, -OUT_MAX, OUT_MAX).astype(np.int8)


def mvm_acc(inputs, weights4):
    """Integer dot products ``acc[..., i] = sum_j in[..., j] * w[j, i]`` (int64)."""
    x, w = _check(inputs, weights4, 0, 1)
    return int_matmul(x.reshape(-1, w.shape[0]), w).reshape(x.shape[:-1] + (w.shape[1],))


def mvm(inputs, weights4, adc_low, adc_high):
    """Exact IMA MVM: int8 ``inputs[..., rows]`` x 4-bit ``weights4[rows, cols]``.

    Returns int8 ``[..., cols]`` per the integer formula in the module
    docstring (ADC bounds in accumulator units).  Pure function.
    """
    _check(inputs, weights4, adc_low, adc_high)
    return adc(mvm_acc(inputs, weights4), adc_low, adc_high)


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def program_conductances(weights4, sigma_prog=0.0, seed=0):
    """Programmed conductances (float64, weight units) with programming noise.

    ``g = w + 7 * sigma_prog * N(0, 1)`` per cell; ``sigma_prog`` is a fraction
    of G_max.  ``seed``: int or ``numpy.random.Generator``.
    """
    w = np.asarray(weights4)
    if w.size and (w.min() < -W_MAX or w.max() > W_MAX):
        raise ValueError("IMA weights must be in [-7, 7]")
    g = w.astype(np.float64)
    if sigma_prog:
        g = g + W_MAX * float(sigma_prog) * _rng(seed).standard_normal(w.shape)
    return g


def analog_acc(inputs, conductances, sigma_read=0.0, seed=0):
    """Analog column sums in accumulator units, with read noise (float64).

    ``acc_f[..., i] = sum_j in[..., j] * g[j, i] + 7*sigma_read*||in||_2 * N(0,1)``
    (the read-noise sum drawn per column and per MVM, see module docstring).
    """
    x = np.asarray(inputs)
    g = np.asarray(conductances, dtype=np.float64)
    if x.shape[-1] != g.shape[0]:
        raise ValueError(f"inputs have {x.shape[-1]} rows, conductances {g.shape[0]}")
    xf = x.astype(np.float64)
    acc = np.matmul(xf.reshape(-1, g.shape[0]), g).reshape(x.shape[:-1] + (g.shape[1],))
    if sigma_read:
        norm = np.sqrt(np.sum(xf * xf, axis=-1, keepdims=True))
        acc = acc + W_MAX * float(sigma_read) * norm * _rng(seed).standard_normal(acc.shape)
    return acc


def mvm_conductances(inputs, conductances, adc_low, adc_high, sigma_read=0.0, seed=0):
    """MVM on already-programmed conductances (for the IMA peripheral): int8."""
    return adc_float(analog_acc(inputs, conductances, sigma_read, seed), adc_low, adc_high)


def mvm_noisy(inputs, weights4, adc_low, adc_high, sigma_prog=0.0, sigma_read=0.0, seed=0):
    """Noisy IMA MVM: programming noise then read noise, then the ADC -> int8.

    One seed drives both draws (programming first, then read), so a call is
    reproducible; with ``sigma_prog == sigma_read == 0`` the result equals
    :func:`mvm` bit for bit.
    """
    _check(inputs, weights4, adc_low, adc_high)
    rng = _rng(seed)
    g = program_conductances(weights4, sigma_prog, rng)
    return mvm_conductances(inputs, g, adc_low, adc_high, sigma_read, rng)


def pack_plot_words(weights4):
    """Pack a weight window into SUBMIT_PLOT words (uint32).

    Eight 4-bit two's-complement weights per word, column ``x+k`` in bits
    ``4k..4k+3`` (low nibble first), rows in order; the width is padded with
    zeros to a multiple of 8 (GVSoC always writes 8 columns per word).
    Returns uint32 ``[rows, ceil(cols/8)]``.
    """
    w = np.asarray(weights4, dtype=np.int64)
    rows, cols = w.shape
    pc = -(-cols // 8) * 8
    wp = np.zeros((rows, pc), dtype=np.int64)
    wp[:, :cols] = w
    nib = (wp & 0xF).astype(np.uint32).reshape(rows, pc // 8, 8)
    return np.bitwise_or.reduce(nib << (4 * np.arange(8, dtype=np.uint32)), axis=-1).astype(np.uint32)


def unpack_plot_words(words, cols):
    """Inverse of :func:`pack_plot_words`: int8 ``[rows, cols]``."""
    words = np.asarray(words, dtype=np.uint32)
    nib = (words[..., None] >> (4 * np.arange(8, dtype=np.uint32))) & 0xF
    v = nib.astype(np.int16)
    v = np.where(v >= 8, v - 16, v).reshape(words.shape[0], -1)
    return v[:, :cols].astype(np.int8)


def tile_ranges(n, size=XBAR_ROWS):
    """Split ``n`` rows (or columns) into crossbar tiles of at most ``size``.

    Greedy: full tiles of ``size`` first, the remainder last, e.g.
    ``960 -> [(0, 256), (256, 512), (512, 768), (768, 960)]``.  Full tiles fill
    whole arrays; only the remainders need packing.  This is THE split used by
    the golden model and by :mod:`iss.nn.mapping` (and so by the firmware).
    """
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def mvm_tiled(inputs, weights4, adc_low, adc_high, psum_rq=None):
    """A whole IMA-mapped layer (any size), as the tiled hardware computes it.

    Tile partial-sum rule:

    * Columns are split into tiles of <= 256 (:func:`tile_ranges`); columns are
      independent, so a column split does not change any value.
    * If ``rows <= 256`` the layer is one row tile: ``out = mvm(...)`` (the ADC
      output *is* the layer output; ``ADC_LOW = 0`` makes the ADC a ReLU).
    * If ``rows > 256`` every row tile ``t`` is an MVM of its own, converted by
      the ADC with the layer's (``adc_low``, ``adc_high``) into int8 ``p_t``;
      the cores add the tiles' int8 outputs in **int16** (exact:
      ``|sum| <= 127 * n_tiles``), then requantize that sum with ``psum_rq``
      (:class:`iss.nn.quant.Requant`: ``(s*mult + round) >> shift``, clamp,
      e.g. ``lo=0`` for ReLU6).  ``psum_rq`` is required in this case.
    """
    x = np.asarray(inputs)
    w = np.asarray(weights4)
    rows = w.shape[0]
    if rows <= XBAR_ROWS:
        return mvm(x, w, adc_low, adc_high)
    if psum_rq is None:
        raise ValueError(f"layer with {rows} > {XBAR_ROWS} rows needs psum_rq")
    s = np.zeros(x.shape[:-1] + (w.shape[1],), dtype=np.int16)
    for r0, r1 in tile_ranges(rows):
        s += mvm(x[..., r0:r1], w[r0:r1], adc_low, adc_high).astype(np.int16)
    return psum_rq(s)


def mvm_tiled_partials(inputs, weights4, adc_low, adc_high):
    """The per-row-tile int8 ADC outputs ``[n_row_tiles, ..., cols]`` (for tests/debug)."""
    x = np.asarray(inputs)
    w = np.asarray(weights4)
    return np.stack([mvm(x[..., r0:r1], w[r0:r1], adc_low, adc_high)
                     for r0, r1 in tile_ranges(w.shape[0])])
