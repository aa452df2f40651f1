"""MobileNetV2 (224x224x3, width 1.0): layer list, random quantized parameters
and the golden forward passes of the three mappings.

Mappings (``MAPPINGS``)
-----------------------
* ``"cores"``: every layer on the 8 cores with int8 weights.
* ``"ima_cores"``: pointwise 1x1 layers (and the classifier when ``fc_on_ima``)
  on the IMA with 4-bit weights in [-7, 7]; everything else on the cores.
* ``"hetero"``: as ``"ima_cores"`` but depthwise on the DWA.  The DWA computes
  exactly the cores' int8 depthwise (same weights, per-channel requant, ReLU6
  clamp), so ``"hetero"`` and ``"ima_cores"`` share parameters and results.

Numeric conventions: :mod:`iss.nn.quant` (int8 HWC, round-half-up requant,
ReLU6 = clamp to [0, 127]), :mod:`iss.nn.layers` (weight layouts),
:mod:`iss.nn.ima_model` (IMA ADC in accumulator units; row-split tiles are
summed in int16 on the cores then requantized, :func:`ima_model.mvm_tiled`).

Layer semantics per kind:

* core conv / pointwise / FC: ``requant(bias + sum x*w)``, per-layer mult/shift;
* depthwise: per-channel mult/shift; ReLU6;
* IMA pointwise / FC: :func:`ima_model.mvm_tiled` (no bias: the crossbar has
  none).  Single row tile: ReLU layers use ``ADC_LOW = 0`` (the ADC clamps at
  0) and linear layers ``ADC_LOW = ADC_HIGH``; row-split layers use
  ``ADC_LOW = ADC_HIGH`` for the signed partial sums and apply ReLU6 in the
  partial-sum requantization;
* residual add: ``(a*mult_a + b*mult_b + round) >> shift``, clamp int8, where
  ``a`` is the block input and ``b`` the projection output;
* global average pool: ``requant(sum_hw x)`` with mult/shift ~ gain/(H*W);
* the classifier's output (int8 logits) is the network output.

Parameters come from a seeded generator (no download) and are calibrated on a
seeded random input image: each layer's multiplier/shift (or ADC range) maps a
high percentile of its accumulator to ~100 so activations use the int8 range
without saturating trivially.  The calibration guarantees
``|acc| * mult + round < 2^31`` for every possible input (worst case from the
weights), so 32-bit firmware arithmetic is exact.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import ima_model
from .layers import (conv2d_acc, depthwise_acc, out_size, pointwise_acc,
                     residual_add)
from .quant import INT8_MAX, INT8_MIN, Q6, Requant, choose_mult_shift, requantize

MAPPINGS = ("cores", "ima_cores", "hetero")

#: (expansion t, output channels c, repeats n, first stride s), MobileNetV2 paper
BOTTLENECK_CONFIG = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                     (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
FIRST_CHANNELS = 32
LAST_CHANNELS = 1280
NUM_CLASSES = 1000

TARGET = 100.0  #: int8 code a layer's calibration percentile is mapped to
PCT_LINEAR = 99.9
PCT_RELU = 99.5


# ----------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BottleneckShape:
    """One inverted-residual block: input ``h x w x c_in``, expansion ``t``,
    output channels ``c_out``, depthwise ``stride``."""

    h: int
    w: int
    c_in: int
    t: int
    c_out: int
    stride: int

    @property
    def hidden(self) -> int:
        return self.c_in * self.t

    @property
    def h_out(self) -> int:
        return out_size(self.h, 3, self.stride, 1)

    @property
    def w_out(self) -> int:
        return out_size(self.w, 3, self.stride, 1)

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.c_in == self.c_out

    @property
    def has_expand(self) -> bool:
        return self.t != 1


def bottleneck_shapes(input_hw=224):
    """All 17 bottleneck shapes of MobileNetV2 for an ``input_hw`` square image."""
    h = out_size(input_hw, 3, 2, 1)
    c = FIRST_CHANNELS
    shapes = []
    for t, c_out, n, s in BOTTLENECK_CONFIG:
        for i in range(n):
            stride = s if i == 0 else 1
            sh = BottleneckShape(h, h, c, t, c_out, stride)
            shapes.append(sh)
            h, c = sh.h_out, c_out
    return shapes


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the network.

    ``kind``: ``conv`` (3x3 s2 first layer), ``pw`` (1x1), ``dw`` (3x3
    depthwise), ``add`` (residual), ``avgpool``, ``fc``.  ``in_shape`` /
    ``out_shape`` are HWC tuples (the avgpool/FC vectors as ``(1, 1, C)``).
    ``relu``: output clamped to [0, Q6]. ``block``: bottleneck index or -1.
    """

    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    stride: int = 1
    relu: bool = False
    block: int = -1

    @property
    def ima_rows_cols(self):
        """(rows = Cin, cols = Cout) of the weight matrix of a pw / fc layer."""
        return self.in_shape[2], self.out_shape[2]

    @property
    def macs(self) -> int:
        ho, wo, co = self.out_shape
        ci = self.in_shape[2]
        if self.kind == "conv":
            return ho * wo * co * 9 * ci
        if self.kind in ("pw", "fc"):
            return ho * wo * co * ci
        if self.kind == "dw":
            return ho * wo * co * 9
        return 0


def mobilenetv2_layers(input_hw=224):
    """The ordered layer list (names match the keys of the forward pass)."""
    layers = []
    h0 = out_size(input_hw, 3, 2, 1)
    layers.append(LayerSpec("conv0", "conv", (input_hw, input_hw, 3), (h0, h0, FIRST_CHANNELS), 2, True))
    for b, s in enumerate(bottleneck_shapes(input_hw)):
        p = f"b{b}."
        if s.has_expand:
            layers.append(LayerSpec(p + "expand", "pw", (s.h, s.w, s.c_in), (s.h, s.w, s.hidden), 1, True, b))
        layers.append(LayerSpec(p + "dw", "dw", (s.h, s.w, s.hidden), (s.h_out, s.w_out, s.hidden), s.stride, True, b))
        layers.append(LayerSpec(p + "project", "pw", (s.h_out, s.w_out, s.hidden), (s.h_out, s.w_out, s.c_out), 1, False, b))
        if s.residual:
            layers.append(LayerSpec(p + "add", "add", (s.h_out, s.w_out, s.c_out), (s.h_out, s.w_out, s.c_out), 1, False, b))
    last = layers[-1].out_shape
    layers.append(LayerSpec("conv_last", "pw", last, (last[0], last[1], LAST_CHANNELS), 1, True))
    layers.append(LayerSpec("avgpool", "avgpool", (last[0], last[1], LAST_CHANNELS), (1, 1, LAST_CHANNELS)))
    layers.append(LayerSpec("fc", "fc", (1, 1, LAST_CHANNELS), (1, 1, NUM_CLASSES)))
    return layers


def ima_layers(input_hw=224, fc_on_ima=True):
    """IMA-mapped layers: ``[(name, rows=Cin, cols=Cout), ...]`` (pointwise [+ fc])."""
    return [(l.name, *l.ima_rows_cols) for l in mobilenetv2_layers(input_hw)
            if l.kind == "pw" or (l.kind == "fc" and fc_on_ima)]


# ----------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------
@dataclass
class CoreLinear:
    """Core-executed conv / pointwise / FC: int8 ``w``, int32 ``bias``, ``rq``."""

    w: np.ndarray
    bias: np.ndarray
    rq: Requant


@dataclass
class ImaLinear:
    """IMA-mapped pointwise / FC: 4-bit ``w4[rows, cols]``, ADC range in
    accumulator units, and (row-split layers only) the partial-sum requant."""

    w4: np.ndarray
    adc_low: int
    adc_high: int
    psum_rq: Requant | None = None


@dataclass
class Depthwise:
    w: np.ndarray  #: int8 [3, 3, C]
    bias: np.ndarray  #: int32 [C]
    rq: Requant  #: per-channel, ReLU6
    stride: int = 1


@dataclass
class AddParams:
    mult_a: int
    mult_b: int
    shift: int


@dataclass
class BottleneckParams:
    shape: BottleneckShape
    expand: CoreLinear | ImaLinear | None
    dw: Depthwise
    project: CoreLinear | ImaLinear
    add: AddParams | None


@dataclass
class Network:
    mapping: str
    input_hw: int
    fc_on_ima: bool
    conv0: CoreLinear  #: w int8 [3, 3, 3, 32]
    blocks: list
    last: CoreLinear | ImaLinear
    pool_mult: int
    pool_shift: int
    fc: CoreLinear | ImaLinear
    calib_input: np.ndarray = field(repr=False, default=None)


def _uses_ima(mapping):
    if mapping not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r}; expected one of {MAPPINGS}")
    return mapping != "cores"


def _pct(values, relu):
    v = np.asarray(values, dtype=np.float64).ravel()
    if relu:
        v = np.maximum(v, 0.0)
        p = np.percentile(v, PCT_RELU) if v.size else 1.0
    else:
        p = np.percentile(np.abs(v), PCT_LINEAR) if v.size else 1.0
    return max(float(p), 1.0)


def _pct_columns(a, relu):
    """_pct of each column of `a`, all at once (the same values: one partition per row of a.T)."""
    if not a.shape[0]:
        return np.ones(a.shape[1])
    v = np.ascontiguousarray(a.T, dtype=np.float64)
    p = np.percentile(np.maximum(v, 0.0), PCT_RELU, axis=1) if relu else np.percentile(np.abs(v), PCT_LINEAR, axis=1)
    return np.maximum(p, 1.0)


def _clamp(relu):
    return (0, Q6) if relu else (INT8_MIN, INT8_MAX)


def _w8(rng, shape, std=40.0):
    return np.clip(np.rint(rng.normal(0.0, std, shape)), -127, 127).astype(np.int8)


def _w4(rng, shape):
    return rng.integers(-7, 8, size=shape).astype(np.int8)


def _bias(rng, acc):
    """Random int32 bias, ~N(0, (0.1 * per-channel std of acc)^2)."""
    std = np.std(acc.reshape(-1, acc.shape[-1]), axis=0) if acc.size else np.ones(acc.shape[-1])
    return np.rint(rng.normal(0.0, 1.0, acc.shape[-1]) * 0.1 * std).astype(np.int32)


def _acc_bound(w, bias, w_axes):
    """Worst-case |acc| per output channel: 128 * sum|w| + |bias|."""
    return 128 * np.abs(w.astype(np.int64)).sum(axis=w_axes) + np.abs(bias.astype(np.int64))


def _core_requant(acc, w, bias, w_axes, relu, per_channel=False):
    lo, hi = _clamp(relu)
    bound = _acc_bound(w, bias, w_axes)
    if per_channel:
        a = acc.reshape(-1, acc.shape[-1])
        p = _pct_columns(a, relu)
        mult, shift = choose_mult_shift(TARGET / p, acc_bound=bound)
    else:
        mult, shift = choose_mult_shift(TARGET / _pct(acc, relu), acc_bound=int(bound.max()))
    return Requant(mult, shift, lo, hi)


def _make_core_linear(rng, x, cin, cout, relu, kind):
    """Random int8 conv/pw/fc calibrated on ``x``; returns (params, output)."""
    if kind == "conv":
        w = _w8(rng, (3, 3, cin, cout))
        acc0 = conv2d_acc(x, w, None, 2, 1)
        axes = (0, 1, 2)
    else:
        w = _w8(rng, (cin, cout))
        acc0 = pointwise_acc(x, w)
        axes = (0,)
    bias = _bias(rng, acc0)
    acc = acc0 + bias
    rq = _core_requant(acc, w, bias, axes, relu)
    return CoreLinear(w, bias, rq), rq(acc)


def _make_ima_linear(rng, x, cin, cout, relu):
    """Random 4-bit IMA layer calibrated on ``x``; returns (params, output)."""
    w4 = _w4(rng, (cin, cout))
    if cin <= ima_model.XBAR_ROWS:
        acc = ima_model.mvm_acc(x, w4)
        if relu:
            # ADC_LOW = 0: the ADC is the ReLU; the percentile maps to TARGET
            lo, hi = 0, max(int(round(_pct(acc, True) * 127.0 / TARGET)), 1)
        else:
            # symmetric range: outputs span [-64, 64] (127 / (2 * R) per LSB),
            # the percentile maps to the ADC's clipping point
            lo = hi = max(int(round(_pct(acc, False))), 1)
        p = ImaLinear(w4, lo, hi)
    else:
        parts = [ima_model.mvm_acc(x[..., r0:r1], w4[r0:r1])
                 for r0, r1 in ima_model.tile_ranges(cin)]
        r = max(int(round(max(_pct(a, False) for a in parts))), 1)
        s = ima_model.mvm_tiled_partials(x, w4, r, r).astype(np.int64).sum(axis=0)
        n_tiles = len(parts)
        mult, shift = choose_mult_shift(TARGET / _pct(s, relu), acc_bound=127 * n_tiles)
        p = ImaLinear(w4, r, r, Requant(mult, shift, *_clamp(relu)))
    return p, ima_model.mvm_tiled(x, p.w4, p.adc_low, p.adc_high, p.psum_rq)


def _make_linear(rng, x, cin, cout, relu, on_ima):
    if on_ima:
        return _make_ima_linear(rng, x, cin, cout, relu)
    return _make_core_linear(rng, x, cin, cout, relu, "pw")


def _make_dw(rng, x, c, stride):
    w = _w8(rng, (3, 3, c))
    acc0 = depthwise_acc(x, w, None, stride, 1)
    bias = _bias(rng, acc0)
    acc = acc0 + bias
    rq = _core_requant(acc, w, bias, (0, 1), True, per_channel=True)
    return Depthwise(w, bias, rq, stride), rq(acc)


def _make_add(a, b):
    sa = 1.0 / max(float(np.std(a.astype(np.float64))), 1.0)
    sb = 1.0 / max(float(np.std(b.astype(np.float64))), 1.0)
    raw = a.astype(np.float64) * sa + b.astype(np.float64) * sb
    g = TARGET / _pct(raw, False)
    sa, sb = sa * g, sb * g
    _, shift = choose_mult_shift(max(sa, sb), mult_bits=14)
    shift = int(shift)
    ma = max(int(round(sa * 2.0**shift)), 1)
    mb = max(int(round(sb * 2.0**shift)), 1)
    p = AddParams(ma, mb, shift)
    return p, residual_add(a, b, ma, mb, shift)


def make_bottleneck(shape: BottleneckShape, mapping="hetero", seed=0, x=None):
    """Random calibrated parameters of one bottleneck of any ``shape``.

    ``x``: calibration input (int8 ``h x w x c_in``); a seeded random one if
    None. Returns ``(BottleneckParams, output on x)``.
    """
    on_ima = _uses_ima(mapping)
    rng = np.random.default_rng(seed)
    if x is None:
        x = random_input((shape.h, shape.w, shape.c_in), seed=seed + 1)
    return _make_block(rng, x, shape, on_ima)


def _make_block(rng, x, s: BottleneckShape, on_ima):
    h = x
    expand = None
    if s.has_expand:
        expand, h = _make_linear(rng, h, s.c_in, s.hidden, True, on_ima)
    dw, h = _make_dw(rng, h, s.hidden, s.stride)
    project, h = _make_linear(rng, h, s.hidden, s.c_out, False, on_ima)
    add = None
    if s.residual:
        add, h = _make_add(x, h)
    return BottleneckParams(s, expand, dw, project, add), h


def random_input(shape, seed=0, relu=False):
    """Seeded random int8 tensor (an image-like input: roughly N(0, 40))."""
    rng = np.random.default_rng(seed)
    x = np.clip(np.rint(rng.normal(0.0, 40.0, shape)), INT8_MIN, INT8_MAX)
    if relu:
        x = np.maximum(x, 0)
    return x.astype(np.int8)


def make_network(mapping="hetero", seed=0, input_hw=224, fc_on_ima=True):
    """Seeded random quantized MobileNetV2 for ``mapping``, calibrated on a
    seeded random image.  Core layers get int8 weights, IMA layers 4-bit."""
    on_ima = _uses_ima(mapping)
    rng = np.random.default_rng(seed)
    xin = random_input((input_hw, input_hw, 3), seed=seed + 1000)
    conv0, h = _make_core_linear(rng, xin, 3, FIRST_CHANNELS, True, "conv")
    blocks = []
    for s in bottleneck_shapes(input_hw):
        bp, h = _make_block(rng, h, s, on_ima)
        blocks.append(bp)
    last, h = _make_linear(rng, h, h.shape[-1], LAST_CHANNELS, True, on_ima)
    hw = h.shape[0] * h.shape[1]
    acc = h.astype(np.int64).sum(axis=(0, 1))
    pm, ps = choose_mult_shift(TARGET / _pct(acc, False), acc_bound=128 * hw)
    pooled = requantize(acc, pm, ps)
    if on_ima and fc_on_ima:
        fc, _ = _make_ima_linear(rng, pooled, LAST_CHANNELS, NUM_CLASSES, False)
    else:
        fc, _ = _make_core_linear(rng, pooled, LAST_CHANNELS, NUM_CLASSES, False, "fc")
    return Network(mapping, input_hw, bool(on_ima and fc_on_ima), conv0, blocks, last,
                   int(pm), int(ps), fc, xin)


def network_with_golden(mapping="hetero", seed=0, input_hw=224, fc_on_ima=True, cache_dir=None):
    """``(make_network(...), forward(net))``. With ``cache_dir``, both are kept
    there, keyed by the parameters, numpy's version and this package's source,
    so a later run loads them instead of computing them again (seconds at
    224x224)."""
    if cache_dir is None:
        net = make_network(mapping, seed=seed, input_hw=input_hw, fc_on_ima=fc_on_ima)
        return net, forward(net)
    h = hashlib.sha256(repr((mapping, seed, input_hw, bool(fc_on_ima), np.__version__)).encode())
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.name.encode() + src.read_bytes())
    path = Path(cache_dir) / f"mobilenetv2-golden-{mapping}-{input_hw}-{h.hexdigest()[:20]}.pickle"
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        pass        # not there yet, or unreadable: computed again below
    net = make_network(mapping, seed=seed, input_hw=input_hw, fc_on_ima=fc_on_ima)
    out = (net, forward(net))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".golden-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)   # whole or not at all, for concurrent runs
    except OSError:
        pass        # a read-only cache only costs the time
    return out


# ----------------------------------------------------------------------------
# Golden forward passes
# ----------------------------------------------------------------------------
def linear_forward(p, x):
    """A pointwise / FC layer on cores (:class:`CoreLinear`) or IMA (:class:`ImaLinear`)."""
    if isinstance(p, ImaLinear):
        return ima_model.mvm_tiled(x, p.w4, p.adc_low, p.adc_high, p.psum_rq)
    return p.rq(pointwise_acc(x, p.w, p.bias))


def bottleneck_forward(p: BottleneckParams, x, prefix=""):
    """Golden bottleneck: expand 1x1 -> dw 3x3 -> project 1x1 -> residual add.

    Returns an ordered dict ``{prefix+'expand', prefix+'dw', prefix+'project',
    prefix+'add'}`` of int8 HWC activations (only the layers that exist); the
    block output is the last entry.
    """
    s = p.shape
    if x.shape != (s.h, s.w, s.c_in):
        raise ValueError(f"bottleneck expects input {(s.h, s.w, s.c_in)}, got {x.shape}")
    out = {}
    h = x
    if p.expand is not None:
        h = out[prefix + "expand"] = linear_forward(p.expand, h)
    h = out[prefix + "dw"] = p.dw.rq(depthwise_acc(h, p.dw.w, p.dw.bias, p.dw.stride, 1))
    h = out[prefix + "project"] = linear_forward(p.project, h)
    if p.add is not None:
        out[prefix + "add"] = residual_add(x, h, p.add.mult_a, p.add.mult_b, p.add.shift)
    return out


def forward(net: Network, x=None):
    """Golden forward pass of the whole network.

    ``x``: int8 ``input_hw x input_hw x 3`` (default: the calibration image).
    Returns an ordered dict of every activation, keyed by the names of
    :func:`mobilenetv2_layers` plus ``"input"``; ``out["fc"]`` are the int8
    logits (shape (1000,)), ``out["avgpool"]`` shape (1280,).
    """
    if x is None:
        x = net.calib_input
    x = np.asarray(x)
    if x.shape != (net.input_hw, net.input_hw, 3):
        raise ValueError(f"input must be {(net.input_hw, net.input_hw, 3)}, got {x.shape}")
    acts = {"input": x}
    h = acts["conv0"] = net.conv0.rq(conv2d_acc(x, net.conv0.w, net.conv0.bias, 2, 1))
    for b, bp in enumerate(net.blocks):
        o = bottleneck_forward(bp, h, prefix=f"b{b}.")
        acts.update(o)
        h = list(o.values())[-1]
    h = acts["conv_last"] = linear_forward(net.last, h)
    acts["avgpool"] = requantize(h.astype(np.int64).sum(axis=(0, 1)), net.pool_mult, net.pool_shift)
    acts["fc"] = linear_forward(net.fc, acts["avgpool"])
    return acts


__all__ = [
    "MAPPINGS", "BOTTLENECK_CONFIG", "BottleneckShape", "LayerSpec", "bottleneck_shapes",
    "mobilenetv2_layers", "ima_layers", "CoreLinear", "ImaLinear", "Depthwise", "AddParams",
    "BottleneckParams", "Network", "make_bottleneck", "make_network", "random_input",
    "linear_forward", "bottleneck_forward", "forward",
]
