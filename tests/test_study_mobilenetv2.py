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
    assert res.exclusive_cycles() <= res.total_cycles


def _busy_during(res, unit, op_name):
    """Cycles units named unit* work during op_name's span (the cores' layer)."""
    i = [o.name for o in res.plan.ops].index(op_name)
    s0, e0 = res.op_starts[i], res.op_starts[i] + res.op_cycles[i]
    return sum(max(0, min(e, e0) - max(s, s0)) for u, _, s, e in res.cluster.activity if u.startswith(unit))


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


def test_chain_lags_by_hand():
    # conv0 -> b0.dw -> b0.project -> b1.expand at 224: 112 output rows each,
    # one row per band. b0.dw's band b reads conv0 rows b-1..b+1, so it waits
    # for conv0's band b+1 plus two steps (store, then load): lag 3; the
    # pointwise layers read their own rows: +2 each.
    net = mnv2.make_network("hetero", seed=0, input_hw=224, fc_on_ima=False)
    plan = study.build_plan(net, 0x1C010000, 500_000, n_arrays=34, program="preload", overlap=False)
    first = plan.ops[:4]
    assert [o.name for o in first] == ["conv0", "b0.dw", "b0.project", "b1.expand"]
    rows = [1, 1, 1, 1]
    assert study.chain_lags(first, rows) == [0, 3, 5, 7]
    # two rows per band: b0.dw's band b reads conv0 rows 2b-1..2b+2, in band b+1
    assert study.chain_lags(first, [2, 2, 2, 2]) == [0, 3, 5, 7]
    # stride 2 (b1.dw, 56 rows, one per band) after b1.expand (112 rows, two per
    # band): band b reads rows 2b-1..2b+1, i.e. b1.expand's band b: lag +2
    b1 = plan.ops[3:5]
    assert study.chain_lags(b1, [2, 1]) == [0, 2]
    # without overlap no chain; with it, every chain fits and is well formed
    assert all(o.fields["chain"] == 0 for o in plan.ops)
    chains = study.plan_chains(plan.ops, 500_000)
    assert chains and chains[0][0].name == "conv0"
    for c in chains:
        assert c[0].fields["chain"] == len(c) and c[0].fields["lag"] == 0
        assert all(study.chainable(o) for o in c)


def test_reduced_hetero_overlapped_bit_exact(elfs):
    # chains with bands of at most 2 rows; the same network without overlap gives
    # the same bytes; with overlap the IMAs and the DWA work while the cores
    # compute the first conv (the trace shows it), without it never
    # (64x64: the first layers have the 16 rows a chain needs at least)
    net = mnv2.make_network("hetero", seed=4, input_hw=64, fc_on_ima=False)
    on = study.run(net, elfs["hetero"], program="preload", max_tile=2)
    _check(on, net)
    assert on.chains and all(n >= 2 for _, n, _ in on.chains)
    assert max(o.fields["tile"] for o in on.plan.ops if o.fields["chain"]) <= 2
    off = study.run(net, elfs["hetero"], program="preload", max_tile=2, overlap=False)
    _check(off, net)
    assert not off.chains
    for unit in ("IMA", "DWA"):
        assert _busy_during(on, unit, "conv0") > 0 and _busy_during(off, unit, "conv0") == 0
    for name in on.acts:
        assert np.array_equal(on.acts[name], off.acts[name]), name


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
    trace, chart = tmp_path / "mnv2.json", tmp_path / "layers.png"
    assert cli_main(["bench", "mobilenetv2", "--input-hw", "32", "--perfetto", str(trace), "--plot", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "IMA arrays: 33 used of 34" in out and "b16.project" in out
    assert "cores-only baseline" in out and "energy:" in out and " ms at 500 MHz" in out
    assert "without overlap (every layer alone, one after another):" in out and "chain c1 conv0.." in out
    assert trace.stat().st_size > 0 and chart.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_full_224_hetero_and_cores_bit_exact():
    r = study.run_study(input_hw=224)            # raises on any mismatch
    assert r.hetero.plan.mapping.n_arrays == 33
    assert r.cores.total_cycles > 2 * r.hetero.total_cycles
    # the paper's schedule: overlapped, within 15% of its 10.1 ms, and faster
    # than the same network layer after layer
    assert abs(r.hetero.total_cycles / 500e3 - 10.1) <= 0.15 * 10.1
    assert r.hetero.total_cycles < 0.85 * r.serial.total_cycles
