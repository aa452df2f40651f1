"""MobileNetV2 golden model: layer list, parameters, forward passes."""
import numpy as np
import pytest

from iss.nn import ima_model as I
from iss.nn import mobilenetv2 as M
from iss.nn.quant import product_fits_int32


def test_bottleneck_shapes_match_paper():
    s = M.bottleneck_shapes(224)
    assert len(s) == 17
    assert (s[0].h, s[0].c_in, s[0].t, s[0].c_out, s[0].stride) == (112, 32, 1, 16, 1)
    assert (s[1].h, s[1].c_in, s[1].t, s[1].c_out, s[1].stride) == (112, 16, 6, 24, 2)
    assert (s[-1].h, s[-1].c_in, s[-1].t, s[-1].c_out, s[-1].stride) == (7, 160, 6, 320, 1)
    assert sum(x.residual for x in s) == 10
    assert [x.c_out for x in s] == [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96,
                                   160, 160, 160, 320]


def test_layer_list():
    layers = M.mobilenetv2_layers(224)
    kinds = [l.kind for l in layers]
    assert kinds.count("pw") == 34 and kinds.count("dw") == 17 and kinds.count("add") == 10
    assert layers[0].out_shape == (112, 112, 32) and layers[-1].out_shape == (1, 1, 1000)
    assert 290e6 < sum(l.macs for l in layers) < 310e6  # MobileNetV2: ~300M MACs
    ima = M.ima_layers(224, fc_on_ima=True)
    assert len(ima) == 35 and ima[-1] == ("fc", 1280, 1000)
    assert len(M.ima_layers(224, fc_on_ima=False)) == 34


@pytest.mark.parametrize("mapping", M.MAPPINGS)
def test_forward_small_input(mapping):
    net = M.make_network(mapping, seed=3, input_hw=32)
    acts = M.forward(net)
    specs = M.mobilenetv2_layers(32)
    assert list(acts) == ["input"] + [l.name for l in specs]
    for l in specs:
        a = acts[l.name]
        assert a.dtype == np.int8
        assert a.size == int(np.prod(l.out_shape))
        if l.relu:
            assert a.min() >= 0
    # another input gives other logits, same input the same
    x2 = M.random_input((32, 32, 3), seed=99)
    assert np.array_equal(M.forward(net, x2)["fc"], M.forward(net, x2)["fc"])


def test_ima_and_hetero_identical():
    a = M.forward(M.make_network("ima_cores", seed=1, input_hw=32))
    b = M.forward(M.make_network("hetero", seed=1, input_hw=32))
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_full_network_224_params_and_spread():
    for mapping in ("cores", "hetero"):
        net = M.make_network(mapping, seed=0)
        acts = M.forward(net)
        assert acts["fc"].shape == (1000,)
        for k, v in acts.items():
            if k == "input":
                continue
            f = v.astype(np.float64)
            assert f.std() > 5, k  # not collapsed
            assert np.mean(np.abs(f) >= 127) < 0.02, k  # not trivially saturated
        # weights: int8 on cores, [-7, 7] on the IMA; 32-bit-safe requant
        for bp in net.blocks:
            for p in (bp.expand, bp.project):
                if p is None:
                    continue
                if mapping == "cores":
                    assert isinstance(p, M.CoreLinear)
                    bound = 128 * np.abs(p.w.astype(np.int64)).sum(0) + np.abs(p.bias)
                    assert product_fits_int32(bound.max(), p.rq.mult, p.rq.shift)
                else:
                    assert isinstance(p, M.ImaLinear)
                    assert p.w4.min() >= -7 and p.w4.max() <= 7
                    assert (p.psum_rq is not None) == (p.w4.shape[0] > 256)
            dw = bp.dw
            bound = 128 * np.abs(dw.w.astype(np.int64)).sum((0, 1)) + np.abs(dw.bias)
            assert product_fits_int32(bound, dw.rq.mult, dw.rq.shift)
            assert dw.rq.mult.shape == (bp.shape.hidden,)


def _ref_pw_core(x, p):
    """Per-pixel Python-int reference of a core pointwise layer."""
    h, w, ci = x.shape
    co = p.w.shape[1]
    out = np.zeros((h, w, co), np.int64)
    m, s = int(p.rq.mult), int(p.rq.shift)
    for i in range(h):
        for j in range(w):
            for o in range(co):
                acc = int(p.bias[o]) + sum(int(x[i, j, c]) * int(p.w[c, o]) for c in range(ci))
                out[i, j, o] = min(p.rq.hi, max(p.rq.lo, (2 * acc * m + 2**s) // 2**(s + 1)))
    return out


def _ref_pw_ima(x, p):
    """Per-pixel reference of an IMA layer via the float model on exact fractions."""
    from fractions import Fraction
    h, w, ci = x.shape
    co = p.w4.shape[1]
    out = np.zeros((h, w, co), np.int64)
    lo, hi = p.adc_low, p.adc_high
    for i in range(h):
        for j in range(w):
            for o in range(co):
                y = sum(Fraction(int(x[i, j, c]), 127) * Fraction(int(p.w4[c, o]), 7) for c in range(ci))
                y = min(Fraction(hi, 889), max(Fraction(-lo, 889), y))
                v = y * 127 / Fraction(hi + lo, 889)
                q = int(abs(v) + Fraction(1, 2))
                out[i, j, o] = max(-127, min(127, q if v >= 0 else -q))
    return out


def _ref_dw(x, p):
    h, w, c = x.shape
    st = p.stride
    ho, wo = (h - 1) // st + 1, (w - 1) // st + 1
    out = np.zeros((ho, wo, c), np.int64)
    for i in range(ho):
        for j in range(wo):
            for ch in range(c):
                acc = int(p.bias[ch])
                for di in range(3):
                    for dj in range(3):
                        y, xx = i * st + di - 1, j * st + dj - 1
                        if 0 <= y < h and 0 <= xx < w:
                            acc += int(x[y, xx, ch]) * int(p.w[di, dj, ch])
                m, s = int(p.rq.mult[ch]), int(p.rq.shift[ch])
                out[i, j, ch] = min(p.rq.hi, max(p.rq.lo, (2 * acc * m + 2**s) // 2**(s + 1)))
    return out


@pytest.mark.parametrize("mapping", ["cores", "hetero"])
@pytest.mark.parametrize("stride", [1, 2])
def test_bottleneck_vs_slow_reference(mapping, stride):
    shape = M.BottleneckShape(5, 4, 8, 3, 8, stride)
    p, y = M.make_bottleneck(shape, mapping, seed=7)
    x = M.random_input((5, 4, 8), seed=8)
    got = M.bottleneck_forward(p, x)
    ref = _ref_pw_core if mapping == "cores" else _ref_pw_ima
    e = ref(x, p.expand)
    assert np.array_equal(got["expand"], e)
    d = _ref_dw(e.astype(np.int8), p.dw)
    assert np.array_equal(got["dw"], d)
    pr = ref(d.astype(np.int8), p.project)
    assert np.array_equal(got["project"], pr)
    if stride == 1:
        a = p.add
        acc = x.astype(np.int64) * a.mult_a + pr * a.mult_b
        want = np.clip((2 * acc + 2**a.shift) // 2**(a.shift + 1), -128, 127)
        assert np.array_equal(got["add"], want)
    else:
        assert "add" not in got


def test_bottleneck_row_split_on_ima():
    shape = M.BottleneckShape(3, 3, 64, 6, 64, 1)  # hidden 384 > 256 rows
    p, _ = M.make_bottleneck(shape, "hetero", seed=2)
    assert p.project.psum_rq is not None and p.expand.psum_rq is None
    x = M.random_input((3, 3, 64), seed=3)
    got = M.bottleneck_forward(p, x)
    parts = sum(I.mvm(got["dw"][..., a:b], p.project.w4[a:b], p.project.adc_low,
                      p.project.adc_high).astype(np.int64) for a, b in I.tile_ranges(384))
    assert np.array_equal(got["project"], p.project.psum_rq(parts))
    with pytest.raises(ValueError):
        M.bottleneck_forward(p, x[:2])
    with pytest.raises(ValueError):
        M.make_network("gpu")


def test_network_with_golden_from_the_cache_is_the_computed_one(tmp_path):
    import dataclasses
    first = M.network_with_golden("hetero", seed=2, input_hw=32, fc_on_ima=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pickle"))) == 1
    net, golden = M.network_with_golden("hetero", seed=2, input_hw=32, fc_on_ima=False, cache_dir=tmp_path)
    want = M.make_network("hetero", seed=2, input_hw=32, fc_on_ima=False)

    def same(a, b):
        if isinstance(a, np.ndarray):
            return a.dtype == b.dtype and np.array_equal(a, b)
        if dataclasses.is_dataclass(a):
            return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name))
                                              for f in dataclasses.fields(a))
        if isinstance(a, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return a == b
    assert same(net, want) and same(first[0], want)
    ref = M.forward(want)
    assert list(golden) == list(ref) and all(np.array_equal(golden[k], ref[k]) for k in ref)
    # another seed is another entry
    M.network_with_golden("hetero", seed=3, input_hw=32, fc_on_ima=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pickle"))) == 2
