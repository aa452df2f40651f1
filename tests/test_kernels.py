"""The int8 core kernels (firmware/kernels) bit-exact against the numpy golden
models of iss.nn on random shapes, and the cores-only bottleneck app against
iss.nn.mobilenetv2.bottleneck_forward.

The weight packings below are written from the layouts documented in
firmware/kernels/kernels.h (PW4, DW4), independently of the firmware."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, Config
from iss.nn import layers
from iss.nn.quant import Q6, Requant, choose_mult_shift

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "firmware" / "kernels"
KERNEL_SOURCES = sorted(KERNELS.glob("*.c"))
HARNESS = Path(__file__).parent / "firmware_src" / "kernels_harness.c"

OP_PW, OP_FC, OP_CONV, OP_DW, OP_ADD, OP_POOL, OP_PW_L2, OP_CONV_ROWS = range(8)


# ----------------------------------------------------------------------------
# packings (kernels.h)
# ----------------------------------------------------------------------------
def r4(n):
    return (n + 3) & ~3


def pack_pw4(w):
    """w[K, N] int8 -> PW4 bytes: groups of 4 outputs, K/4 words x 4 channels."""
    k, n = w.shape
    k4, n4 = r4(k), r4(n)
    wp = np.zeros((n4, k4), np.int8)
    wp[:n, :k] = w.T
    return wp.reshape(n4 // 4, 4, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1).copy()


def pack_dw4(w):
    """w[3, 3, C] int8 -> DW4 bytes: per channel 3 words {w[kh,0], w[kh,1], w[kh,2], 0}."""
    c = w.shape[2]
    p = np.zeros((c, 3, 4), np.int8)
    p[:, :, :3] = w.transpose(2, 0, 1)
    return p.reshape(-1)


def test_pack_pw4_layout():
    # packed[((g*(K4/4) + k)*4 + j)*4 + b] = w[4k+b][4g+j]
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, (7, 6)).astype(np.int8)
    p = pack_pw4(w)
    assert p.size == 8 * 8
    for g in range(2):
        for k in range(2):
            for j in range(4):
                for b in range(4):
                    ci, co = 4 * k + b, 4 * g + j
                    want = w[ci, co] if ci < 7 and co < 6 else 0
                    assert p[((g * 2 + k) * 4 + j) * 4 + b] == want


# ----------------------------------------------------------------------------
# harness
# ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def harness(iss_build):
    return iss_build([HARNESS, *KERNEL_SOURCES], name="kernels_harness", opt="-O3",
                     include_dirs=[KERNELS], defines=["KERNELS_LINKED"])


class Run:
    """One kernel call: tensors placed in the TCDM arena (or the L2 arena)."""

    def __init__(self, elf, cores=8):
        self.c = Cluster(elf, Config.load(cluster={"cores": cores}))
        self.arena = self.c.program.symbol("arena")
        self.l2 = self.c.program.symbol("l2_arena")
        self.off = {"l1": 0, "l2": 0}

    def put(self, a, where="l1"):
        a = np.ascontiguousarray(a)
        base = self.arena if where == "l1" else self.l2
        addr = base.addr + self.off[where]
        self.off[where] = r4(self.off[where] + a.nbytes) + 4  # keep a gap: catches overruns
        assert self.off[where] <= base.size, "arena too small for the test"
        self.c.memory.write(addr, a.tobytes())
        return addr

    def alloc(self, nbytes, where="l1", fill=0x5A):
        """nbytes filled with `fill`, plus 4 guard bytes of it after them."""
        return self.put(np.full(nbytes + 4, fill, np.uint8), where)

    def read(self, addr, shape, dtype=np.int8):
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        return np.frombuffer(self.c.memory.read(addr, n), dtype=dtype).reshape(shape)

    def call(self, op, *values):
        words = [op, *values]
        sym = self.c.program.symbol("args")
        self.c.memory.write(sym.addr, np.array(words, dtype=np.int64).astype(np.uint32).tobytes())
        res = self.c.run()
        assert res.exit_code == 0, res.stdout
        n = self.c.config.cluster.cores
        self.instret = np.frombuffer(self.c.memory.read(self.c.program.symbol("instret").addr, 4 * n),
                                     np.uint32)
        return res


def rand_i8(rng, shape, lo=-128, hi=127):
    return rng.integers(lo, hi + 1, shape).astype(np.int8)


def rand_requant(rng, acc_bound, relu, per_channel=None):
    """mult/shift like the calibration: scale ~ 100/typical |acc|, exact in int32."""
    if per_channel is None:
        scale = 100.0 / max(acc_bound / 8, 1)
        m, s = choose_mult_shift(scale * rng.uniform(0.5, 2.0), acc_bound=acc_bound)
    else:
        scale = 100.0 / np.maximum(np.asarray(acc_bound) / 8, 1) * rng.uniform(0.5, 2.0, per_channel)
        m, s = choose_mult_shift(scale, acc_bound=acc_bound)
    return Requant(m, s, *((0, Q6) if relu else (-128, 127)))


def linear_params(rng, k, n, relu):
    w = rand_i8(rng, (k, n), -127, 127)
    bias = rng.integers(-3000, 3000, n).astype(np.int32)
    bound = int((128 * np.abs(w.astype(np.int64)).sum(axis=0) + np.abs(bias)).max())
    return w, bias, rand_requant(rng, bound, relu)


# ----------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------
PW_CASES = [  # (n_pix, cin, cout, relu)
    (16, 32, 64, True), (13, 24, 20, False), (7, 5, 6, True), (9, 3, 3, False),
    (1, 8, 4, True), (31, 17, 11, False), (40, 64, 24, False),
]


@pytest.mark.parametrize("n_pix,cin,cout,relu", PW_CASES)
def test_pointwise(harness, n_pix, cin, cout, relu):
    rng = np.random.default_rng(n_pix * 1000 + cin * 10 + cout)
    x = rand_i8(rng, (n_pix, cin))
    w, bias, rq = linear_params(rng, cin, cout, relu)
    r = Run(harness)
    out = r.alloc(n_pix * cout)
    r.call(OP_PW, r.put(x), r.put(pack_pw4(w)), r.put(bias), out, n_pix, cin, cout,
           int(rq.mult), int(rq.shift), int(relu))
    want = layers.pointwise(x.reshape(1, n_pix, cin), w, bias, rq).reshape(n_pix, cout)
    assert np.array_equal(r.read(out, (n_pix, cout)), want)
    # the guard bytes after the output were not touched
    assert r.read(out + n_pix * cout, (1,), np.uint8)[0] == 0x5A


@pytest.mark.parametrize("cin,cout,relu", [(64, 40, False), (30, 10, True), (7, 3, False), (128, 33, True)])
def test_fully_connected(harness, cin, cout, relu):
    rng = np.random.default_rng(cin + 7 * cout)
    x = rand_i8(rng, (cin,))
    w, bias, rq = linear_params(rng, cin, cout, relu)
    r = Run(harness)
    out = r.alloc(cout)
    r.call(OP_FC, r.put(x), r.put(pack_pw4(w)), r.put(bias), out, cin, cout,
           int(rq.mult), int(rq.shift), int(relu))
    assert np.array_equal(r.read(out, (cout,)), layers.fully_connected(x, w, bias, rq))


def conv3x3_case(rng, h, w, cin, cout, relu):
    """Input, weights, bias and a requantization that fits int32 for a 3x3 conv."""
    x = rand_i8(rng, (h, w, cin))
    wt = rand_i8(rng, (3, 3, cin, cout), -127, 127)
    bias = rng.integers(-3000, 3000, cout).astype(np.int32)
    bound = int((128 * np.abs(wt.astype(np.int64)).sum(axis=(0, 1, 2)) + np.abs(bias)).max())
    return x, wt, bias, rand_requant(rng, bound, relu)


@pytest.mark.parametrize("h,w,cin,cout,relu", [(16, 16, 3, 32, True), (9, 7, 3, 8, False),
                                               (6, 5, 4, 6, True), (1, 1, 2, 5, True)])
def test_conv3x3_s2(harness, h, w, cin, cout, relu):
    x, wt, bias, rq = conv3x3_case(np.random.default_rng(h * 100 + w * 10 + cin), h, w, cin, cout, relu)
    ho, wo = layers.out_size(h, 3, 2, 1), layers.out_size(w, 3, 2, 1)
    r = Run(harness)
    out = r.alloc(ho * wo * cout)
    scratch = r.alloc(8 * r4(9 * cin) * 2)
    r.call(OP_CONV, r.put(x), r.put(pack_pw4(wt.reshape(9 * cin, cout))), r.put(bias), out,
           h, w, cin, cout, int(rq.mult), int(rq.shift), int(relu), scratch)
    want = layers.conv2d(x, wt, bias, rq, stride=2, pad=1)
    assert np.array_equal(r.read(out, (ho, wo, cout)), want)


@pytest.mark.parametrize("h,w,cin,cout,rows", [(16, 12, 3, 8, 2), (13, 9, 3, 12, 3), (11, 6, 4, 4, 1)])
def test_conv3x3_s2_rows(harness, h, w, cin, cout, rows):
    # the first conv band by band (MobileNetV2's overlapped schedule): each band
    # gets only its input rows (2*o0-1 .. 2*o1-1, clipped), no recomputed row;
    # the bands put together equal the whole layer of the golden model
    x, wt, bias, rq = conv3x3_case(np.random.default_rng(h * 31 + w + rows), h, w, cin, cout, True)
    ho, wo = layers.out_size(h, 3, 2, 1), layers.out_size(w, 3, 2, 1)
    want = layers.conv2d(x, wt, bias, rq, stride=2, pad=1)
    wp = pack_pw4(wt.reshape(9 * cin, cout))
    got = np.zeros_like(want)
    for o0 in range(0, ho, rows):
        o1 = min(ho, o0 + rows)
        a, e = (2 * o0 - 1 if o0 else 0), min(h, 2 * (o1 - 1) + 2)
        r = Run(harness)
        out = r.alloc((o1 - o0) * wo * cout)
        scratch = r.alloc(8 * r4(9 * cin) * 2)
        r.call(OP_CONV_ROWS, r.put(x[a:e]), r.put(wp), r.put(bias), out, e - a, w, cin, cout, o1 - o0,
               int(o0 == 0), int(rq.mult), int(rq.shift), 1, scratch)
        got[o0:o1] = r.read(out, (o1 - o0, wo, cout))
    assert np.array_equal(got, want)


DW_CASES = [  # (h, w, c, stride, relu)
    (8, 8, 16, 1, True), (9, 7, 5, 1, True), (9, 7, 5, 2, True), (10, 10, 12, 2, False),
    (1, 1, 3, 1, True), (2, 3, 9, 2, True), (12, 5, 20, 1, False),
]


@pytest.mark.parametrize("h,w,c,stride,relu", DW_CASES)
def test_depthwise(harness, h, w, c, stride, relu):
    rng = np.random.default_rng(h * 1000 + w * 100 + c * 3 + stride)
    x = rand_i8(rng, (h, w, c))
    wt = rand_i8(rng, (3, 3, c), -127, 127)
    bias = rng.integers(-2000, 2000, c).astype(np.int32)
    bound = 128 * np.abs(wt.astype(np.int64)).sum(axis=(0, 1)) + np.abs(bias)
    rq = rand_requant(rng, bound, relu, per_channel=c)
    ho, wo = layers.out_size(h, 3, stride, 1), layers.out_size(w, 3, stride, 1)
    pitch = r4(w + 3)
    r = Run(harness)
    out = r.alloc(ho * wo * c)
    scratch = r.alloc(8 * (h + 2) * pitch)
    r.call(OP_DW, r.put(x), r.put(pack_dw4(wt)), r.put(bias), r.put(rq.mult.astype(np.int32)),
           r.put(rq.shift.astype(np.uint8)), out, h, w, c, stride, int(relu), scratch)
    want = layers.depthwise(x, wt, bias, rq, stride=stride, pad=1)
    assert np.array_equal(r.read(out, (ho, wo, c)), want)


@pytest.mark.parametrize("n", [1, 37, 1000, 4096])
def test_residual_add(harness, n):
    rng = np.random.default_rng(n)
    a, b = rand_i8(rng, (n,)), rand_i8(rng, (n,))
    ma, mb = (int(v) for v in rng.integers(1, 1 << 13, 2))
    shift = int(rng.integers(8, 15))
    r = Run(harness)
    out = r.alloc(n)
    r.call(OP_ADD, r.put(a), r.put(b), out, n, ma, mb, shift)
    assert np.array_equal(r.read(out, (n,)), layers.residual_add(a, b, ma, mb, shift))


def test_residual_add_shift_zero_and_in_place(harness):
    rng = np.random.default_rng(5)
    a, b = rand_i8(rng, (101,), -20, 20), rand_i8(rng, (101,), -20, 20)
    r = Run(harness)
    pa = r.put(a)
    r.call(OP_ADD, pa, r.put(b), pa, 101, 3, 2, 0)  # out aliases a
    assert np.array_equal(r.read(pa, (101,)), layers.residual_add(a, b, 3, 2, 0))


@pytest.mark.parametrize("h,w,c", [(7, 7, 64), (3, 5, 10), (4, 4, 3), (2, 2, 37)])
def test_avgpool(harness, h, w, c):
    rng = np.random.default_rng(h * w * c)
    x = rand_i8(rng, (h, w, c))
    m, s = layers.avgpool_params(h, w)
    r = Run(harness)
    out = r.alloc(c)
    r.call(OP_POOL, r.put(x), out, h * w, c, m, s)
    assert np.array_equal(r.read(out, (c,)), layers.global_avgpool(x, m, s))


@pytest.mark.parametrize("cores", [1, 3])
def test_kernels_on_smaller_teams(iss_build, cores):
    # The kernels built for a cluster with fewer cores: the split follows the team size.
    rng = np.random.default_rng(cores)
    x = rand_i8(rng, (11, 5, 6))
    w, bias, rq = linear_params(rng, 6, 10, True)
    elf = iss_build([HARNESS, *KERNEL_SOURCES], name=f"kernels_harness_c{cores}", opt="-O3", cores=cores,
                    include_dirs=[KERNELS], defines=["KERNELS_LINKED"])
    r = Run(elf, cores=cores)
    out = r.alloc(55 * 10)
    r.call(OP_PW, r.put(x), r.put(pack_pw4(w)), r.put(bias), out, 55, 6, 10,
           int(rq.mult), int(rq.shift), 1)
    assert np.array_equal(r.read(out, (11, 5, 10)), layers.pointwise(x, w, bias, rq))


@pytest.mark.parametrize("n_pix,cin,cout,tile", [(100, 32, 48, 16), (37, 20, 13, 10), (8, 8, 8, 8)])
def test_pointwise_l2_tiled(harness, n_pix, cin, cout, tile):
    rng = np.random.default_rng(n_pix + tile)
    x = rand_i8(rng, (n_pix, cin))
    w, bias, rq = linear_params(rng, cin, cout, False)
    r = Run(harness)
    out = r.alloc(n_pix * cout, "l2")
    bufsize = PW4 = r4(cin) * r4(cout) + 4 * r4(cout) + 2 * r4(tile * cin) + 2 * r4(tile * cout)
    assert PW4 == bufsize
    l1 = r.alloc(bufsize)
    res = r.call(OP_PW_L2, r.put(x, "l2"), r.put(pack_pw4(w), "l2"), r.put(bias, "l2"), out,
                 n_pix, cin, cout, int(rq.mult), int(rq.shift), 0, l1, tile)
    want = layers.pointwise(x.reshape(1, n_pix, cin), w, bias, rq).reshape(n_pix, cout)
    assert np.array_equal(r.read(out, (n_pix, cout)), want)
    assert r.read(out + n_pix * cout, (1,), np.uint8)[0] == 0x5A
    assert res.exit_code == 0


@pytest.mark.parametrize("cin,cout,min_mac_per_instr", [(192, 32, 2.0), (32, 192, 1.55)])
def test_pointwise_instruction_efficiency(harness, cin, cout, min_mac_per_instr):
    # Bottleneck-sized slices (64 pixels, 8 per core) of the projection and the
    # expansion. The 4x2 tile does 32 MACs in 14 instructions; with the bias
    # loads, requantization and packed stores per group of 4 channels, the
    # busiest core stays above these MAC per instruction (measured: 2.1, 1.63).
    rng = np.random.default_rng(1)
    n_pix = 64
    x = rand_i8(rng, (n_pix, cin))
    w, bias, rq = linear_params(rng, cin, cout, False)
    r = Run(harness)
    out = r.alloc(n_pix * cout)
    r.call(OP_PW, r.put(x), r.put(pack_pw4(w)), r.put(bias), out, n_pix, cin, cout,
           int(rq.mult), int(rq.shift), 0)
    assert np.array_equal(r.read(out, (n_pix, cout)),
                          layers.pointwise(x.reshape(1, n_pix, cin), w, bias, rq).reshape(n_pix, cout))
    macs = n_pix * cin * cout
    assert macs / 8 / r.instret.max() > min_mac_per_instr


# ----------------------------------------------------------------------------
# the bottleneck app
# ----------------------------------------------------------------------------
APP = ROOT / "firmware" / "apps" / "bottleneck_cores.c"
PAPER_SHAPE_INDEX = 4  # 28x28x32, t=6, 32 out, stride 1 (see bottleneck_cores.c)


def shape_defines(s):
    return [f"BN_H={s.h}", f"BN_W={s.w}", f"BN_CIN={s.c_in}", f"BN_T={s.t}", f"BN_COUT={s.c_out}",
            f"BN_STRIDE={s.stride}"]


def run_bottleneck(elf, shape, seed):
    from iss.nn import mobilenetv2 as mnv2
    params, _ = mnv2.make_bottleneck(shape, "cores", seed=seed)
    x = mnv2.random_input((shape.h, shape.w, shape.c_in), seed=seed + 7)
    c = Cluster(elf, Config.load())

    def put(name, a):
        a = np.ascontiguousarray(a)
        sym = c.program.symbol(name)
        assert sym.size == a.nbytes, (name, sym.size, a.nbytes)
        c.memory.write(sym.addr, a.tobytes())

    put("bn_input", x)
    scalars = [0, 0]
    if params.expand is not None:
        put("bn_w_expand", pack_pw4(params.expand.w))
        put("bn_b_expand", params.expand.bias.astype(np.int32))
        scalars = [int(params.expand.rq.mult), int(params.expand.rq.shift)]
        assert params.expand.rq.relu
    put("bn_w_dw", pack_dw4(params.dw.w))
    put("bn_b_dw", params.dw.bias.astype(np.int32))
    put("bn_m_dw", params.dw.rq.mult.astype(np.int32))
    put("bn_s_dw", params.dw.rq.shift.astype(np.uint8))
    assert params.dw.rq.relu and not params.project.rq.relu
    put("bn_w_project", pack_pw4(params.project.w))
    put("bn_b_project", params.project.bias.astype(np.int32))
    scalars += [int(params.project.rq.mult), int(params.project.rq.shift)]
    if params.add is not None:
        scalars += [params.add.mult_a, params.add.mult_b, params.add.shift]
    else:
        scalars += [0, 0, 0]
    put("bn_scalars", np.array(scalars, np.int32))
    res = c.run()
    assert res.exit_code == 0
    want = mnv2.bottleneck_forward(params, x)
    got = {}
    for layer, sym in (("expand", "bn_expand"), ("dw", "bn_dw"), ("project", "bn_project"),
                       ("add", "bn_output")):
        if layer in want:
            got[layer] = np.frombuffer(c.memory.read(c.program.symbol(sym).addr, want[layer].nbytes),
                                       np.int8).reshape(want[layer].shape)
    return res, c, want, got


def test_bottleneck_app_paper_shape(iss_build):
    from iss.nn.mobilenetv2 import bottleneck_shapes
    shape = bottleneck_shapes()[PAPER_SHAPE_INDEX]
    assert (shape.h, shape.c_in, shape.t, shape.c_out, shape.stride) == (28, 32, 6, 32, 1)
    elf = iss_build([APP, *KERNEL_SOURCES], name="bottleneck_cores", opt="-O3",
                    include_dirs=[KERNELS], defines=["KERNELS_LINKED"])
    res, c, want, got = run_bottleneck(elf, shape, seed=3)
    assert list(want) == ["expand", "dw", "project", "add"]
    for layer in want:
        assert np.array_equal(got[layer], want[layer]), layer
    # one line per layer, then the total
    assert [line.split(":")[0] for line in res.stdout[:4]] == [
        "layer expand", "layer dw", "layer project", "layer add"]
    assert res.stdout[4].startswith("bottleneck 28x28x32 t6 -> 28x28x32 s1 on 8 cores")
    assert "4816896 MAC" in res.stdout[0] and "1354752 MAC" in res.stdout[1]
    cycles = np.frombuffer(c.memory.read(c.program.symbol("bn_cycles").addr, 16), np.uint32)
    assert all(cycles > 0)


@pytest.mark.parametrize("h,cin,t,cout,stride", [(9, 8, 6, 12, 2), (8, 16, 1, 16, 1), (7, 12, 3, 12, 1)])
def test_bottleneck_app_other_shapes(iss_build, h, cin, t, cout, stride):
    from iss.nn.mobilenetv2 import BottleneckShape
    shape = BottleneckShape(h, h, cin, t, cout, stride)
    elf = iss_build([APP, *KERNEL_SOURCES], name="bottleneck_cores", opt="-O3", include_dirs=[KERNELS],
                    defines=["KERNELS_LINKED", *shape_defines(shape)])
    res, c, want, got = run_bottleneck(elf, shape, seed=h + t)
    assert list(got) == list(want)
    for layer in want:
        assert np.array_equal(got[layer], want[layer]), layer
