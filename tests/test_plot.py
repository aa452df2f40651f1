"""The PNG charts' data (iss/trace/plot.py): busy fractions per time bin of the
accelerator and DMA lanes, computed by hand, over a window of the run."""
from __future__ import annotations

import numpy as np
import pytest

from iss.trace.plot import activity_plot, busy_per_bin, unit_lanes
from iss.trace.timeline import Timeline


def test_busy_per_bin_merges_overlapping_spans():
    # (0,10) and (5,15) overlap: 0-15 busy once, not 20 cycles; (30,35) half a bin
    edges = np.array([0, 10, 20, 30, 40])
    got = busy_per_bin([(0, 10, "a"), (5, 15, "b"), (30, 35, "c")], edges)
    assert got.tolist() == [10, 5, 0, 5]
    # spans outside the window count nothing
    assert busy_per_bin([(50, 60, "x")], edges).tolist() == [0, 0, 0, 0]


def test_unit_lanes_over_a_window(tmp_path):
    tl = Timeline(500.0, 10_000, [], {"IMA3": [(1000, 1500, "job")], "IMA1": [(0, 9000, "job")],
                                       "DWA": [(1200, 1300, "job")]})
    edges = np.linspace(1000, 2000, 3)          # the window 1000-2000 in two bins
    lanes = unit_lanes(tl, edges)
    assert list(lanes) == ["DMA", "DWA", "IMA1", "IMA3"]   # the DMA's lane even when idle
    assert lanes["DMA"].tolist() == [0, 0]
    assert lanes["DWA"].tolist() == [0.2, 0]
    assert lanes["IMA1"].tolist() == [1, 1] and lanes["IMA3"].tolist() == [1, 0]
    pytest.importorskip("matplotlib")
    activity_plot(tl, tmp_path / "a.png", window=(1000, 2000))
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
