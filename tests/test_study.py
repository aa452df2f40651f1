"""The bottleneck study: the offloaded firmware variants
bit-exact against the golden model, the energy model's consistency, and the
`iss bench bottleneck` CLI, on small shapes (the paper shape runs in `make demo`)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from iss import Cluster, Config
from iss.cli import main as cli_main
from iss.energy import INSN_CLASSES, count_events, energy
from iss.nn.mobilenetv2 import BottleneckShape
from iss.study import bottleneck as bn
from iss.study.packing import pack_dw4, pack_pw4

SMALL = BottleneckShape(8, 8, 16, 6, 16, 1)          # all four layers, one crossbar
SPLIT = BottleneckShape(4, 4, 48, 6, 48, 1)          # hidden 288: column- and row-split tiles, 2 IMAs


@pytest.fixture(scope="module")
def small():
    return bn.run_shape(SMALL, [])


def test_small_shape_all_variants_bit_exact_and_hetero_fastest(small):
    # run_variant raises StudyError on any mismatch; here: the shape of the results
    v = small.variants
    assert set(v) == set(bn.VARIANTS)
    for name, res in v.items():
        assert [l.name for l in res.layers] == ["expand", "dw", "project", "add"]
        assert all(l.cycles > 0 for l in res.layers), name
        assert res.cycles >= sum(l.cycles for l in res.layers) * 0.95
    assert [l.unit for l in v["hetero"].layers] == ["IMA", "DWA", "IMA", "cores"]
    assert [l.unit for l in v["ima_cores"].layers] == ["IMA", "cores", "IMA", "cores"]
    assert v["hetero"].cycles < v["ima_cores"].cycles < v["cores"].cycles
    assert small.speedup("cores") > 2 and small.speedup("ima_cores") > 1.5
    assert v["hetero"].n_ima == 1


def test_energy_positive_and_consistent(small):
    for name, res in small.variants.items():
        rep = res.energy
        assert rep.total_pj > 0, name
        assert rep.total_pj == pytest.approx(sum(rep.components.values()))
        assert rep.total_pj == pytest.approx(sum(rep.groups().values()))
        assert all(v >= 0 for v in rep.components.values()), (name, rep.components)
    assert small.energy_ratio() > 2
    assert small.variants["cores"].energy.components["IMA: MVMs"] == 0
    assert small.variants["hetero"].energy.components["DWA: MACs"] > 0


def test_energy_of_cores_run_is_sum_of_counts_times_table():
    cfg = Config.load()
    elf = bn.build("cores", SMALL)
    from iss.nn import mobilenetv2 as mnv2
    params, _ = mnv2.make_bottleneck(SMALL, "cores", seed=1)
    c = Cluster(elf, cfg)
    bn.fill_inputs(c, "cores", params, mnv2.random_input((8, 8, 16), seed=2))
    assert c.run().exit_code == 0
    counts = count_events(c)
    prof = c.profile_data()
    assert counts.instructions == sum(d["instructions"] for d in prof)
    assert counts.tcdm_accesses == sum(d["tcdm_accesses"] for d in prof)
    assert counts.ima_mvms == 0 and counts.dwa_macs == 0
    rep = energy(counts, cfg)
    e = cfg.energy
    per = {"alu": e.core_alu_pj, "mul": e.core_mul_pj, "dot": e.core_dot_pj, "load": e.core_load_pj,
           "store": e.core_store_pj, "branch": e.core_branch_pj}
    want = (sum(counts.insn[k] * per[k] for k in INSN_CLASSES) + counts.stall_cycles * e.core_stall_pj
            + counts.sleep_cycles * e.core_sleep_pj + counts.tcdm_accesses * e.tcdm_access_pj
            + counts.l2_accesses * e.l2_access_pj + counts.cycles * e.cluster_cycle_pj)
    assert rep.total_pj == pytest.approx(want)
    assert counts.insn["dot"] > 0          # the SIMD kernels ran
    # every core's cycles are accounted: retiring, stalled or clock-gated
    assert counts.instructions + counts.stall_cycles + counts.sleep_cycles >= counts.cycles * len(prof) * 0.99


def test_energy_config_override_scales_component():
    cfg = Config.load(energy={"dwa_mac_pj": 0.3})
    assert cfg.energy.dwa_mac_pj == 0.3
    from iss.energy import Counts
    c = Counts(dwa_macs=1000)
    assert energy(c, cfg).components["DWA: MACs"] == pytest.approx(300.0)
    assert energy(Counts(ima_ops=6_390_000), Config.load()).components["IMA: MVMs"] == pytest.approx(1e6)


def test_row_and_column_split_shape_on_two_imas():
    r = bn.run_variant("hetero", SPLIT, energy=False)
    assert r.n_ima == 2
    assert [l.unit for l in r.layers] == ["IMA", "DWA", "IMA+cores", "cores"]


def test_packing_matches_kernels_layout():
    w = np.arange(-20, 22, dtype=np.int8).reshape(7, 6)
    p = pack_pw4(w)
    assert p.size == 64 and p[((1 * 2 + 1) * 4 + 1) * 4 + 2] == w[6, 5]
    d = np.arange(27, dtype=np.int8).reshape(3, 3, 3)
    q = pack_dw4(d).reshape(3, 3, 4)
    assert (q[:, :, :3] == d.transpose(2, 0, 1)).all() and (q[:, :, 3] == 0).all()


def test_cli_bench_bottleneck_small_shape(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli_main(["bench", "bottleneck", "--shape", "8,8,16,6,16,1", "--json", str(out),
                     "--perfetto", str(tmp_path / "h.json"), "--plot", str(tmp_path / "h.png")]) == 0
    text = capsys.readouterr().out
    assert "speedup hetero vs cores" in text and "11.5x" in text
    # expand and dw 8x8x96, project and add 8x8x16
    assert "outputs bit-exact against the golden model: 4 layers, 14336 bytes" in text
    assert "energy ratio cores / hetero" in text
    data = json.loads(out.read_text())
    assert data["paper"]["energy_vs_cores"] == 9.5
    assert data["results"][0]["variants"]["hetero"]["cycles"] > 0
    # the cores' MAC/cycle per layer beside PULP-NN's published 15.5 (8 cores, int8)
    assert "PULP-NN publishes up to 15.5 MAC/cycle" in text
    for lay in data["results"][0]["variants"]["cores"]["layers"]:
        if lay["macs"]:
            rate = lay["macs"] / lay["cycles"]
            assert f"{lay['name']:8s} {rate:5.1f} MAC/cycle ({rate / 15.5:.0%} of PULP-NN's best)" in text
    trace = json.loads((tmp_path / "h.json").read_text())
    units = {e.get("args", {}).get("name") for e in trace["traceEvents"] if e.get("ph") == "M"}
    assert any(u and u.startswith("IMA") for u in units) and "DWA" in units
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"   # the timed part's lanes


def test_cli_bench_errors(capsys):
    assert cli_main(["bench", "bottleneck", "--shape", "8,8"]) != 0
    assert "expected H,W,CIN,T,COUT,STRIDE" in capsys.readouterr().err
    assert cli_main(["bench"]) != 0


def test_cli_run_energy(tmp_path, capsys):
    from iss import toolchain
    from pathlib import Path
    elf = tmp_path / "hello.elf"
    toolchain.compile([Path(bn.APPS) / "hello.c"], elf)
    capsys.readouterr()
    cli_main(["run", str(elf), "--energy"])
    err = capsys.readouterr().err
    assert "energy:" in err and "cores: alu instructions" in err and "cluster: shared per cycle" in err
