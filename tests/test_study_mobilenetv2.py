"""End-to-end MobileNetV2 from compiled firmware: every layer's output
bit for bit against iss.nn.mobilenetv2.forward, on the reduced 32x32 network
(all 17 blocks, the same 33-array mapping; the golden model has no
fewer-blocks variant) with the tiling forced small, and the full 224x224
network under `slow`."""
from __future__ import annotations

import numpy as np
import pytest

from iss.cli import main as cli_main
from iss.nn import mobilenetv2 as mnv2
from iss.nn.mapping import MappingError
from iss.study import mobilenetv2 as study


@pytest.fixture(scope="module")
def elfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("mnv2")
    return {"hetero": study.build_firmware(d / "hetero.elf"),
            "cores": study.build_firmware(d / "cores.elf", cores_only=True)}


def _check(res, net):
    golden = mnv2.forward(net)
    assert res.mismatches(golden) == []
    assert np.array_equal(res.acts["fc"], golden["fc"])
    ops = res.plan.ops
    nbytes = sum(int(np.prod(o.out_shape)) for o in ops)
    assert res.verified == (len(ops), nbytes)
    assert res.verified_line() == f"outputs bit-exact against the golden model: {len(ops)} layers, {nbytes} bytes"
    assert res.total_cycles > 0 and all(c > 0 for c in res.op_cycles)
    assert sum(res.op_cycles) <= res.total_cycles


def test_mapping_reports_and_fails_clearly():
    m = study.weight_mapping(34)
    assert m.n_arrays == 33 and m.utilization > 0.95
    with pytest.raises(MappingError, match="needs 33 arrays.*only 20 are configured"):
        study.weight_mapping(20)
    with pytest.raises(MappingError):
        study.weight_mapping(34, fc_on_ima=True)       # 53 with the classifier
    assert study.weight_mapping(53, fc_on_ima=True).n_arrays == 53


def test_reduced_hetero_bit_exact_with_small_tiles(elfs):
    # max_tile=3: every layer runs in several DMA blocks/bands (halo rows, partial
    # blocks, double buffering); the firmware programs the crossbars (SUBMIT_PLOT)
    net = mnv2.make_network("hetero", seed=1, input_hw=32, fc_on_ima=False)
    res = study.run(net, elfs["hetero"], program="plot", max_tile=3)
    _check(res, net)
    assert res.prog_cycles > 0 and res.plan.words_programmed > 0
    units = {o.name: study.UNIT_NAMES[o.unit] for o in res.plan.ops}
    assert units["conv0"] == "cores" and units["b1.expand"] == "IMA" and units["b1.dw"] == "DWA"
    assert units["b2.add"] == "cores" and units["fc"] == "cores"
    labels = {a[0] for a in res.cluster.activity}
    assert "DWA" in labels and sum(1 for u in labels if u.startswith("IMA")) == 33


def test_reduced_cores_only_and_preload(elfs):
    net = mnv2.make_network("cores", seed=2, input_hw=32)
    res = study.run(net, elfs["cores"], n_arrays=0)
    _check(res, net)
    assert all(o.unit == study.UNIT_CORES for o in res.plan.ops)
    hnet = mnv2.make_network("hetero", seed=2, input_hw=32, fc_on_ima=False)
    h = study.run(hnet, elfs["hetero"], program="preload")
    _check(h, hnet)
    assert h.prog_cycles < 1000 and h.total_cycles < res.total_cycles


def test_classifier_on_ima(elfs):
    net = mnv2.make_network("hetero", seed=3, input_hw=32, fc_on_ima=True)
    res = study.run(net, elfs["hetero"], n_arrays=53)
    _check(res, net)
    assert study.UNIT_NAMES[res.plan.ops[-1].unit] == "IMA"


def test_cores_only_build_rejects_accelerator_ops(elfs):
    net = mnv2.make_network("hetero", seed=0, input_hw=32, fc_on_ima=False)
    with pytest.raises(RuntimeError, match="exited with 2"):
        study.run(net, elfs["cores"])


def test_bench_cli_small(capsys, tmp_path):
    trace = tmp_path / "mnv2.json"
    assert cli_main(["bench", "mobilenetv2", "--input-hw", "32", "--perfetto", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "IMA arrays: 33 used of 34" in out and "b16.project" in out
    assert "cores-only baseline" in out and "energy:" in out and " ms at 500 MHz" in out
    assert trace.stat().st_size > 0


@pytest.mark.slow
def test_full_224_hetero_and_cores_bit_exact():
    r = study.run_study(input_hw=224)            # raises on any mismatch
    assert r.hetero.plan.mapping.n_arrays == 33
    assert r.cores.total_cycles > 2 * r.hetero.total_cycles
