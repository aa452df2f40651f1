"""bench/figures.py and bench/compare.py: the figure file `make bench` writes and
the comparison of two runs (directions and targets worked out by hand)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import compare  # noqa: E402
import figures  # noqa: E402


@pytest.fixture
def bench_json(tmp_path, monkeypatch):
    p = tmp_path / "bench.json"
    monkeypatch.setenv("ISS_BENCH_JSON", str(p))
    return p


def test_figures_accumulate_with_targets_and_reference_ratio(bench_json, capsys):
    figures.figure("plain.cycle_model_mips", 800, "MIPS", reference=2000, target=0.40, target_on="ratio")
    figures.figure("load.seconds_per_mb", 0.5, "s/MB", better="lower", target=0.3)
    out = capsys.readouterr().out
    assert "800 MIPS (40% of bare Unicorn); target >= 40% of bare Unicorn: met" in out
    assert "0.5 s/MB; target <= 0.3 s/MB: NOT met" in out
    data = json.loads(bench_json.read_text())
    assert set(data["figures"]) == {"plain.cycle_model_mips", "load.seconds_per_mb"}
    assert data["figures"]["load.seconds_per_mb"] == {"value": 0.5, "unit": "s/MB", "better": "lower",
                                                       "target": 0.3, "target_on": "value"}


def test_a_ratio_target_needs_a_reference(bench_json):
    with pytest.raises(ValueError, match="reference"):
        figures.figure("x", 1, "MIPS", target=0.4, target_on="ratio")


def test_compare_says_better_or_worse_in_each_figures_direction(tmp_path, capsys):
    def write(name, mips, secs):
        p = tmp_path / name
        p.write_text(json.dumps({"figures": {
            "mips": {"value": mips, "unit": "MIPS", "better": "higher"},
            "secs": {"value": secs, "unit": "s", "better": "lower", "target": 10.0, "target_on": "value"}}}))
        return str(p)

    compare.main([write("a.json", 100, 20), write("b.json", 150, 25)])
    lines = {l.split()[0]: l for l in capsys.readouterr().out.splitlines()[1:]}
    assert "1.50x" in lines["mips"] and "better" in lines["mips"]
    assert "1.25x" in lines["secs"] and "worse" in lines["secs"] and "NOT met" in lines["secs"]


def test_compare_rejects_a_file_that_is_not_a_figure_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="not a bench figure file"):
        compare.main([str(bad), str(bad)])
