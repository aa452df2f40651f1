"""Unit tests of dot.c on the simulated cluster, against numpy.

Run with `pytest examples/dot_product` (the iss pytest plugin comes with the
package; `firmware` builds dot.c, loads it on a fresh cluster per test).
"""
import numpy as np
import pytest

pytestmark = pytest.mark.firmware("dot.c", opt="-O3")


def int8_vectors(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, n, dtype=np.int8), rng.integers(-128, 128, n, dtype=np.int8)


def ref_dot(a, b):
    return int(a.astype(np.int64) @ b.astype(np.int64))


@pytest.mark.parametrize("n", [0, 1, 3, 4, 61, 256, 1000])
@pytest.mark.parametrize("function", ["dot_int8_scalar", "dot_int8", "dot_int8_hwloop"])
def test_dot_matches_numpy(firmware, function, n):
    a, b = int8_vectors(n, seed=n)
    assert firmware.call(function, a, b, n).value == ref_dot(a, b)


def test_dot_extremes(firmware):
    a = np.full(4096, -128, dtype=np.int8)
    assert firmware.call("dot_int8", a, a, a.size).value == 4096 * 128 * 128


def test_hardware_loop_has_no_loop_overhead(firmware):
    # Per 4 elements: two post-increment loads and one cv.sdotsp.b, which waits
    # one cycle for the second load (load-use), and nothing for the loop itself
    # (the C SIMD version also pays its counter and branch).
    a, b = int8_vectors(4096, seed=5)
    hw = firmware.call("dot_int8_hwloop", a, b, a.size)
    c = firmware.call("dot_int8", a, b, a.size)
    assert hw.value == c.value == ref_dot(a, b)
    words = a.size // 4
    assert 4 * words <= hw.cycles <= 4 * words + 100, hw.cycles
    assert 3 * words <= hw.instructions <= 3 * words + 50
    assert hw.cycles < c.cycles


def test_simd_beats_plain_c(firmware):
    a, b = int8_vectors(1024, seed=1)
    plain = firmware.call("dot_int8_scalar", a, b, a.size)
    simd = firmware.call("dot_int8", a, b, a.size)
    assert simd.value == plain.value == ref_dot(a, b)
    assert simd.cycles * 3 < plain.cycles, (simd.cycles, plain.cycles)
    # Two loads, cv.sdotsp.b and the loop per 4 elements: about 2.5 cycles per element.
    simd.assert_cycles(3 * a.size)


@pytest.mark.parametrize("cluster", [dict(cores=1), dict(cores=2), dict(cores=8)], indirect=True,
                         ids=["1core", "2cores", "8cores"])
def test_parallel_dot(firmware, cluster):
    a, b = int8_vectors(4000, seed=7)
    r = firmware.call("dot_int8_parallel", a, b, a.size, cores=cluster.cores)
    assert r.value == ref_dot(a, b)
    assert [c.core for c in r.per_core] == list(range(cluster.cores))
    # Each core does its share of the SIMD loop (about 2.5 cycles per element); the
    # fork and the two barriers cost a few hundred cycles.
    r.assert_cycles(3 * a.size // cluster.cores + 800)
    assert firmware.symbol("dot_calls", np.int32)[0] == 1


def test_parallel_speedup(firmware):
    a, b = int8_vectors(8192, seed=3)
    one = firmware.call("dot_int8_parallel", a, b, a.size, cores=1)
    eight = firmware.call("dot_int8_parallel", a, b, a.size, cores=8)
    assert one.value == eight.value == ref_dot(a, b)
    # Each core's share starts 1 KiB after the previous one: the same TCDM bank, so
    # the cores' loads collide and the banks serve them round-robin (< 8x).
    assert eight.cycles * 3 < one.cycles, (one.cycles, eight.cycles)
    assert firmware.symbol("dot_calls", np.int32)[0] == 2


@pytest.mark.parametrize("n", [5, 64, 333])
def test_relu_in_place(firmware, n):
    x, _ = int8_vectors(n, seed=n)
    expect = np.maximum(x, 0)
    firmware.call("relu_int8", x, n, restype=None)   # x is updated in place
    firmware.assert_matches(x, expect, what="relu")
