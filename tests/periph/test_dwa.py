"""Depthwise accelerator: bit-exact against iss.nn.layers.depthwise + requant
(strides 1 and 2, padding, ReLU6 and linear clamps), timing formula, errors."""
import numpy as np
import pytest

from iss.errors import PeripheralError, SimulationError
from iss.nn import layers
from iss.nn.quant import Q6, Requant
from iss.periph import dwa

from accel_cluster import make_cluster


@pytest.fixture
def cl():
    return make_cluster()


def put(c, off, arr):
    b = np.ascontiguousarray(arr).view(np.uint8).reshape(-1)
    c.memory.tcdm[off:off + b.size] = b
    return c.memory.tcdm_base + off


def setup_job(c, x, w, bias, mult, shift, stride, padding, lo, hi, in_pitch=0, out_pitch=0):
    h, wd, ch = x.shape
    if in_pitch:
        rows = np.zeros((h, in_pitch), dtype=np.int8)
        rows[:, :wd * ch] = x.reshape(h, -1)
        src = put(c, 0x0, rows)
    else:
        src = put(c, 0x0, x)
    regs = dict(IN_ADDR=src, OUT_ADDR=c.memory.tcdm_base + 0x40000,
                WEIGHT_ADDR=put(c, 0x30000, w.astype(np.int8)), BIAS_ADDR=put(c, 0x31000, bias.astype(np.int32)),
                MULT_ADDR=put(c, 0x32000, mult.astype(np.int32)), SHIFT_ADDR=put(c, 0x33000, shift.astype(np.uint8)),
                DIM_H=h, DIM_W=wd, DIM_C=ch, STRIDE=stride, PADDING=padding, CLAMP_LO=lo & 0xFFFFFFFF,
                CLAMP_HI=hi & 0xFFFFFFFF, IN_ROW_STRIDE=in_pitch, OUT_ROW_STRIDE=out_pitch)
    for k, v in regs.items():
        c.bus_write(dwa.BASE + getattr(dwa, k), v)


def run(c):
    t0 = c.now
    c.bus_write(dwa.BASE + dwa.TRIGGER, 0)
    while c.bus_read(dwa.BASE + dwa.STATUS):
        c.advance(16)
    return t0


def random_layer(rng, h, w, ch):
    x = rng.integers(-128, 128, (h, w, ch)).astype(np.int8)
    wt = rng.integers(-128, 128, (3, 3, ch)).astype(np.int8)
    bias = rng.integers(-20000, 20000, ch).astype(np.int32)
    mult = rng.integers(1, 1 << 14, ch).astype(np.int64)
    shift = rng.integers(10, 22, ch).astype(np.int64)
    return x, wt, bias, mult, shift


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("relu6", [True, False])
def test_bit_exact_same_padding(cl, stride, relu6):
    c = cl
    rng = np.random.default_rng(stride * 10 + relu6)
    for trial in range(3):
        h, w, ch = (int(v) for v in rng.integers(1, 14, 3))
        h, w = max(h, 2), max(w, 2)
        x, wt, bias, mult, shift = random_layer(rng, h, w, ch)
        lo, hi = (0, Q6) if relu6 else (-128, 127)
        setup_job(c, x, wt, bias, mult, shift, stride, dwa.PAD_TOP | dwa.PAD_BOTTOM | dwa.PAD_LEFT | dwa.PAD_RIGHT,
                  lo, hi)
        run(c)
        want = layers.depthwise(x, wt, bias, Requant(mult, shift, lo, hi), stride=stride, pad=1)
        ho, wo = want.shape[:2]
        got = c.memory.tcdm[0x40000:0x40000 + want.size].view(np.int8).reshape(want.shape)
        assert np.array_equal(got, want), (trial, h, w, ch)
        assert (ho, wo) == dwa.output_size(h, w, stride, 0xF)


@pytest.mark.parametrize("stride", [1, 2])
def test_bit_exact_no_and_asymmetric_padding_with_row_pitches(cl, stride):
    c = cl
    rng = np.random.default_rng(40 + stride)
    for padding in (0, dwa.PAD_BOTTOM | dwa.PAD_RIGHT, dwa.PAD_TOP | dwa.PAD_LEFT | dwa.PAD_RIGHT):
        h, w, ch = 9, 7, 5
        x, wt, bias, mult, shift = random_layer(rng, h, w, ch)
        top, bottom = padding & 1 and 1, padding & 2 and 1
        left, right = padding & 4 and 1, padding & 8 and 1
        xp = np.pad(x, ((top, bottom), (left, right), (0, 0)))
        want = layers.depthwise(xp, wt, bias, Requant(mult, shift, -128, 127), stride=stride, pad=0)
        ho, wo, _ = want.shape
        out_pitch = wo * ch + 13
        setup_job(c, x, wt, bias, mult, shift, stride, padding, -128, 127, in_pitch=w * ch + 9,
                  out_pitch=out_pitch)
        c.memory.tcdm[0x40000:0x40000 + ho * out_pitch] = 0x55
        run(c)
        got = c.memory.tcdm[0x40000:0x40000 + ho * out_pitch].reshape(ho, out_pitch)
        assert np.array_equal(got[:, :wo * ch].view(np.int8).reshape(want.shape), want), padding
        assert (got[:, wo * ch:] == 0x55).all()                 # the row gaps are untouched


def test_timing_formula_and_event(cl):
    c = cl
    rng = np.random.default_rng(7)
    x, wt, bias, mult, shift = random_layer(rng, 16, 16, 32)
    setup_job(c, x, wt, bias, mult, shift, 2, 0xF, 0, Q6)
    # Ho = Wo = 8: MACs = 8*8*32*9 = 18432 -> 128 cycles at 144/cycle;
    # bytes = 8192 + 2048 + 18*32 = 10816 -> 338 cycles at 32 B/cycle; + 10 setup
    t0 = c.now
    c.bus_write(dwa.BASE + dwa.TRIGGER, 0)
    c.advance(10 + 338 - 1)
    assert c.bus_read(dwa.BASE + dwa.STATUS) == 1
    with pytest.raises(SimulationError, match="would block"):
        c.bus_write(dwa.BASE + dwa.TRIGGER, 0)
    c.advance(1)
    assert c.bus_read(dwa.BASE + dwa.STATUS) == 0
    assert c.activity[-1][0] == "DWA" and c.activity[-1][2:] == (t0, t0 + 348)
    assert c.event_unit.buffer[7] & (1 << 13)
    assert c.bus_read(dwa.BASE + dwa.FINISHED_JOBS) == 1
    assert dwa.job_cycles(c.config, 16, 16, 32, 2, 0xF) == 348


def test_misconfiguration_errors(cl):
    c = cl
    rng = np.random.default_rng(8)
    x, wt, bias, mult, shift = random_layer(rng, 4, 4, 3)
    cases = [
        (dict(STRIDE=3), r"DWA STRIDE: stride 3 must be 1 or 2"),
        (dict(DIM_C=0), r"DWA DIM_C: dimension 0"),
        (dict(IN_ADDR=0x1C000000), r"DWA IN_ADDR: 0x1c000000-.* outside TCDM"),
        (dict(OUT_ADDR=0x1007FFF0), r"DWA OUT_ADDR: .* outside TCDM"),
        (dict(PADDING=0x10), r"DWA PADDING"),
        (dict(CLAMP_LO=5, CLAMP_HI=4), r"DWA CLAMP_HI: clamp \[5, 4\]"),
        (dict(BIAS_ADDR=0x10000002), r"DWA BIAS_ADDR: 0x10000002 is not 4-byte aligned"),
        (dict(PADDING=0, DIM_H=2), r"DWA DIM_H: input 2x4 with this padding gives no output"),
    ]
    for regs, match in cases:
        setup_job(c, x, wt, bias, mult, shift, 1, 0xF, 0, Q6)
        for k, v in regs.items():
            c.bus_write(dwa.BASE + getattr(dwa, k), v)
        with pytest.raises(PeripheralError, match=match):
            c.bus_write(dwa.BASE + dwa.TRIGGER, 0)
    setup_job(c, x, wt, bias, mult, np.full(3, 40), 1, 0xF, 0, Q6)
    with pytest.raises(PeripheralError, match="DWA SHIFT_ADDR: channel 0: shift must be 0-31"):
        c.bus_write(dwa.BASE + dwa.TRIGGER, 0)
