"""The firmware C library, run on the cluster:
tests/firmware_src/sdk_libc.c prints with printf/snprintf/puts, uses string,
stdlib, ctype, malloc/free out of order, the pi_* heaps, libm and assert. Every
formatted line is checked against Python's % formatting (the C rules), the
libm results bit for bit against numpy."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from iss import Cluster
from iss.toolchain import compile as build

SRC = Path(__file__).parent / "firmware_src" / "sdk_libc.c"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    elf = build([SRC], tmp_path_factory.mktemp("libc") / "libc.elf", opt="-O2")
    cluster = Cluster(elf)
    x = np.random.default_rng(7).uniform(-4, 4, 64).astype(np.float32)
    x[:6] = [0.0, -0.0, 1.0, -1.0, 0.5, 3.75]
    cluster.write_symbol("math_in", x)
    result = cluster.run()
    return result, cluster, x


def test_printf_formats_as_c_does(run):
    result, _, _ = run
    out = result.stdout
    assert out[0] == "%f|%e|%g|%.3f|%10.4f|%-10.2e|%+.0f|%G" % (3.14159265358979, 12345.6789, 0.00012345, 2.0 / 3.0,
                                                                -1.5, 6.02e23, 2.5, 1e-10)
    assert out[1] == "%.10g|%g|%g|%f|%.1f|%.2f" % (1.0 / 3.0, 100000.0, 1000000.0, float(np.float32(1.1)), 0.05,
                                                  1.005)
    assert out[2] == "-9223372036854775808|18446744073709551615|123456789abcdef|-42|4000000000|ab"
    assert out[3] == "[%5d|%-5d|%05d|%+d|% d|%x|%X|%o|%#x|%c|%s|%.3s|%8s|%-8s|%%]" % (
        42, 42, 42, 42, 42, 255, 255, 8, 255, "z", "str", "abcdef", "right", "left")
    assert out[4] == "inf|-inf|nan|0.000000e+00"
    full = "truncated-12345-9.88"  # %.2f of 9.875 rounds half to even in binary: 9.875 is exact -> 9.88
    assert out[5] == f"{full[:15]}|{len(full)}"
    assert out[6:9] == ["puts line", "p", "to stderr 7"]


def test_string_stdlib_ctype(run):
    out = run[0].stdout
    s = "hello, world"
    assert out[9] == f"{len(s)}|1|0|{s[s.index('w'):]}|{s[s.rindex('l'):]}|{s[s.index('lo, '):]}"
    assert out[10] == f"-1234|{0x7fff}|9|{0o777}|1|0|Aq"
    assert out[11] == ",".join(map(str, sorted([5, -3, 9, 0, 2, 2, 8, -7, 1, 4])))


def test_allocators_free_in_any_order(run):
    out = run[0].stdout
    assert out[12] == "malloc: reused=1 zeroed=1"
    assert out[13] == "pi heaps: l2=1 l1=1 in_tcdm=1"


def test_failed_assert_is_one_line_naming_file_and_line(run):
    result = run[0]
    line = next(i for i, ln in enumerate(SRC.read_text().splitlines(), 1) if "the test expects this one" in ln)
    assert result.stdout[-1] == (f"{SRC}:{line}: main: assertion failed: "
                                 f"want == 4 && \"the test expects this one to fail\"")
    assert result.exit_code == 134
    assert len(result.stdout) == 15


def test_libm_against_numpy(run):
    _, cluster, x = run
    out = cluster.read_symbol("math_out", np.float32).reshape(12, 64)
    x64 = x.astype(np.float64)
    # Correctly rounded references: computed in double, rounded once to float
    # (tests/test_sdk_libm.py checks these functions over many more inputs).
    exact = {
        0: np.exp(x64),
        1: np.log((np.abs(x) + np.float32(0.5)).astype(np.float64)),  # the sum is a float sum in C
        2: np.sqrt(np.abs(x64)),
        3: np.power((np.abs(x) + np.float32(0.25)).astype(np.float64), 1.75),
        4: np.tanh(x64),
        5: np.abs(x64),
        6: np.floor((x * np.float32(3.0)).astype(np.float64)),
        7: np.sin(x64),
        8: np.cos(x64),
        9: np.expm1(x64),
        10: np.ceil((x * np.float32(3.0)).astype(np.float64)),
        11: np.maximum(x64, 0.5),
    }
    for row, ref in exact.items():
        np.testing.assert_array_equal(out[row], ref.astype(np.float32), err_msg=f"row {row}")
    assert math.isnan(float("nan"))
