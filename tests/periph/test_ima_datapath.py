"""The IMA's noise-free arithmetic, checked two ways: the
peripheral's datapath (iss.periph.ima.crossbar_mvm: bit-serial inputs, integer
division ADC) against the golden model (iss.nn.ima_model.mvm: one integer matrix
product, sign/abs rounding formula), over random windows and ADC ranges, and
both against values worked out by hand. A rounding or accumulation bug in either
makes them differ; the last test shows such a bug is caught. The jobs the IMA
model runs (tests/periph/test_ima.py, the study apps) compute with
crossbar_mvm and are compared with the golden model there."""
from __future__ import annotations

import numpy as np
from iss.nn import ima_model
from iss.periph.ima import crossbar_mvm


def random_cases(seed, n):
    """(inputs, weights, adc_low, adc_high): random window sizes, inputs over the
    whole int8 range, weights over [-7, 7], ADC ranges from tiny to beyond |acc|,
    one side 0 included, and ranges that make exact .5 ties likely."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        rows, cols = int(rng.integers(1, 257)), int(rng.integers(1, 257))
        x = rng.integers(-128, 128, rows).astype(np.int8)
        w = rng.integers(-7, 8, (rows, cols)).astype(np.int8)
        kind = k % 4
        if kind == 0:
            lo, hi = (int(v) for v in rng.integers(0, 300_000, 2))
        elif kind == 1:
            lo, hi = (int(v) for v in rng.integers(0, 2_000, 2))
        elif kind == 2:
            lo, hi = 0, int(rng.integers(1, 50_000))
        else:
            d = 254 * int(rng.integers(1, 200))     # a*127/d = a/(2m): ties at odd a/m
            lo = int(rng.integers(0, d + 1))
            hi = d - lo
        lo, hi = max(lo, 0), max(hi, 1 - lo if lo == 0 else hi)
        yield x, w, lo, hi


def mismatches(peripheral, golden, cases):
    bad = 0
    for x, w, lo, hi in cases:
        bad += int((peripheral(x, w, lo, hi) != golden(x, w, lo, hi)).sum())
    return bad


def test_datapath_matches_golden_model_over_random_windows_and_adc_ranges():
    assert mismatches(crossbar_mvm, ima_model.mvm, random_cases(1, 160)) == 0


def test_ties_round_half_away_from_zero_in_both():
    # acc = 7 (input 1, weight 7), ADC_LOW = ADC_HIGH = 889: 7 * 127 / 1778 = 0.5 -> 1;
    # acc = -7 -> -1; acc = 21: 1.5 -> 2; acc = 14: 1.0 -> 1.
    w = np.array([[7]], np.int8)
    for x, want in ((1, 1), (-1, -1), (3, 2), (2, 1), (-3, -2)):
        for f in (crossbar_mvm, ima_model.mvm):
            assert int(f(np.array([x], np.int8), w, 889, 889)[0]) == want, (f.__name__, x)


def test_hand_computed_window():
    # Two rows, three columns: acc = [1*7 + (-128)*1, 1*(-7) + (-128)*(-1), 127*0 ...]
    x = np.array([1, -128], np.int8)
    w = np.array([[7, -7, 0], [1, -1, 7]], np.int8)
    # acc = [-121, 121, -896]; ADC [-1000, 1000]: a*127/2000 -> -7.68 -> -8, 7.68 -> 8,
    # -896 * 127 / 2000 = -56.896 -> -57. Saturation: ADC [-10, 10] gives -121 -> -10 ->
    # -63.5 -> -64 (half away), 121 -> 64, -896 -> -64.
    for f in (crossbar_mvm, ima_model.mvm):
        assert list(f(x, w, 1000, 1000)) == [-8, 8, -57]
        assert list(f(x, w, 10, 10)) == [-64, 64, -64]
        # all range on one side: ADC_LOW 0 clamps negatives to 0; 121*127/121 = 127
        assert list(f(x, w, 0, 121)) == [0, 127, 0]


def test_a_broken_adc_rounding_is_caught():
    def golden_rounding_half_even(x, w, lo, hi):
        acc = ima_model.mvm_acc(x, w)
        a = np.clip(acc, -lo, hi)
        return np.clip(np.round(a * 127 / (lo + hi)), -127, 127).astype(np.int8)

    def datapath_truncating(x, w, lo, hi):
        acc = ima_model.mvm_acc(x, w)
        a = np.clip(acc, -lo, hi)
        return np.clip(np.trunc(a * 127 / (lo + hi)), -127, 127).astype(np.int8)

    assert mismatches(crossbar_mvm, golden_rounding_half_even, random_cases(2, 200)) > 0
    assert mismatches(datapath_truncating, ima_model.mvm, random_cases(3, 50)) > 0
