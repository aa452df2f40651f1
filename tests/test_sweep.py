"""`iss sweep`: specs checked before anything runs, real sweeps on a
local Dask cluster of worker processes, resume after an interruption, failing
points, the table and the plots."""
from __future__ import annotations

import os
import textwrap

import numpy as np
import pandas as pd
import pytest

from iss import sweep
from iss.cli import main as cli_main
from iss.nn.mobilenetv2 import BottleneckShape
from iss.study import bottleneck as bn

SMALL = [8, 8, 16, 6, 16, 1]      # all four layers, one crossbar, ~1 s a point

# A user program: sums of squares of `samples` into `result`, one core per
# element group; exit code 0. Inputs go into initialised data (not .bss).
SQUARES_C = textwrap.dedent("""\
    #include "pmsis.h"
    int32_t samples[16] = {1};
    int32_t result[4] = {1};
    static void work(void *arg)
    {
        (void)arg;
        int c = pi_core_id();
        if (c < 4) {
            int32_t acc = 0;
            for (int i = 4 * c; i < 4 * c + 4; i++)
                acc += samples[i] * samples[i];
            result[c] = acc;
        }
    }
    int main(void) { pi_cl_team_fork(0, work, 0); return 0; }
    """)


@pytest.fixture(scope="module")
def client():
    """One local cluster of two single-threaded worker processes for the module."""
    c = sweep.local_client(workers=2, dashboard=None)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


def _worker_settings():
    import dask
    return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OPENBLAS_NUM_THREADS"),
            dask.config.get("distributed.worker.profile.enabled"))


def test_local_workers_run_points_at_full_speed(client):
    """Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 and its workers sample
    their tasks' stacks every 10 ms, which slow points by about a quarter and a
    tenth (iss/sweep.py: local_client); the BLAS thread caps stay."""
    import dask
    assert dask.config.get("distributed.nanny.pre-spawn-environ").get("MALLOC_TRIM_THRESHOLD_") is not None
    assert dask.config.get("distributed.worker.profile.enabled") is True      # Dask's defaults, here
    seen = client.run(_worker_settings)
    assert len(seen) == 2 and set(seen.values()) == {(None, "1", False)}, seen


def _clusters_alive_after(task, elfs):
    """In a worker: run one point, then count the clusters still in memory."""
    import gc

    from iss.cluster import Cluster
    row = sweep.run_point(task, elfs)
    return row["error"], sum(isinstance(o, Cluster) for o in gc.get_objects())


def test_a_worker_frees_each_points_clusters(tmp_path, client):
    """A cluster's parts refer to each other, so only the cycle collector frees
    it: the workers collect after each point (iss/sweep.py: worker_ready)
    rather than hold dead clusters (about 60 MiB each for a bottleneck) until
    Python's next full collection."""
    spec = sweep.load_spec(squares_spec(tmp_path, grid={"cluster.cores": [8]}), base_dir=tmp_path)
    tasks, blobs = sweep.plan(spec)
    elfs = {role: (d, blobs[d]) for role, d in tasks[0].elfs.items()}
    worker = list(client.scheduler_info()["workers"])[0]
    for _ in range(3):
        error, alive = client.submit(_clusters_alive_after, tasks[0].payload, elfs, workers=[worker],
                                     pure=False).result()
        assert error is None and alive == 0


def squares_spec(tmp_path, grid=None, expected=None, **extra):
    (tmp_path / "squares.c").write_text(SQUARES_C)
    x = np.arange(16, dtype=np.int32) - 5
    np.save(tmp_path / "x.npy", x)
    want = (x.reshape(4, 4) ** 2).sum(axis=1).astype(np.int32) if expected is None else expected
    np.save(tmp_path / "want.npy", want)
    return {"workloads": {"squares": {"kind": "elf", "sources": ["squares.c"], "inputs": {"samples": "x.npy"},
                                      "check": {"result": "want.npy"}}},
            "grid": grid or {"memory": {"tcdm_banks": [8, 16, 32]}}, **extra}


# ---------------------------------------------------------------------------
# the spec is checked before anything runs
# ---------------------------------------------------------------------------
BN = {"kind": "bottleneck", "shape": SMALL}


@pytest.mark.parametrize("spec, message", [
    ({"workloads": {"b": BN}, "grid": {"ima": {"cont": [1, 2]}}}, "spec: [grid]: unknown field ima.cont"),
    ({"workloads": {"b": BN}, "points": [{"ima.count": 1}, {"ima.cont": 2}]},
     "spec: [[points]] 2: unknown field ima.cont"),
    ({"workloads": {"b": BN}, "grid": {"scheduler.quantum": [1000, 2000], "timing.tcdm_window": [4096, 8192]}},
     "spec: point 3 (scheduler.quantum=2000, timing.tcdm_window=4096): timing.tcdm_window must be a power of two"),
    ({"workloads": {"b": BN}, "grid": {"imma.count": [1]}}, "unknown section [imma]"),
    ({"workloads": {"b": BN}, "grid": {"memory.tcdm_banks": [16, 12]}},
     "memory.tcdm_banks must be a power of two, got 12"),
    ({"workloads": {"b": BN}, "grid": {"ima.count": [1, "two"]}}, "ima.count must be int, got 'two'"),
    ({"workloads": {"b": BN}, "config": {"cluster": {"clock_mhz": -5}}}, "cluster.clock_mhz must be positive"),
    ({"workloads": {"b": BN}, "grid": {"ima.count": 4}}, "[grid] ima.count must be a non-empty list"),
    ({"workloads": {"b": BN}, "grid": {"ima": {"count": {"x": [1]}}}}, "'ima.count.x' is not a configuration"),
    ({"workloads": {"b": {"kind": "bottleneck", "shape": [8, 8, 16]}}}, "[workloads.b]: shape must be"),
    ({"workloads": {"b": {"kind": "bottleneck", "variant": "gpu"}}}, "[workloads.b]: variant must be one of"),
    ({"workloads": {"b": {"kind": "bottleneck", "shapes": SMALL}}}, "[workloads.b]: unknown field 'shapes'"),
    ({"workloads": {"b": {"kind": "fpga"}}}, "[workloads.b]: kind must be one of"),
    ({"workloads": {"m": {"kind": "mobilenetv2", "input_hw": 50}}}, "input_hw must be a multiple of 32"),
    ({"workloads": {"e": {"kind": "elf", "elf": "nope.elf"}}}, "[workloads.e]: elf: no such file"),
    ({"workloads": {}}, "no [workloads.NAME] table"),
    ({"workloads": {"b": BN}, "gird": {}}, "unknown key 'gird'"),
    ({"workloads": {"b": BN}, "grid": {"ima.count": [1]}, "plots": [{"x": "ima.count", "y": "latncy"}]},
     "y = 'latncy' is not a column"),
])
def test_bad_spec_is_one_error_naming_the_field(spec, message):
    with pytest.raises(sweep.SpecError) as e:
        sweep.load_spec(spec)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_spec_from_the_cli_fails_before_anything_runs(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('[workloads.b]\nkind = "bottleneck"\n\n[grid]\nima.count = [1, 2]\nmemory.tcdm_bankz = [8]\n')
    out = tmp_path / "never.parquet"
    assert cli_main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"iss: error: {spec}: [grid]: unknown field memory.tcdm_bankz"]
    assert not out.exists() and not out.with_suffix(".cache").exists()


def test_points_are_the_list_crossed_with_the_grid():
    spec = sweep.load_spec({"workloads": {"b": BN}, "config": {"cluster.clock_mhz": 400},
                            "grid": {"ima": {"count": [1, 2]}, "ima.stream_ports": [4, 8, 16]},
                            "points": [{"memory.tcdm_banks": 16}, {"memory": {"tcdm_banks": 32}}]})
    assert len(spec.points) == 2 * 2 * 3
    assert spec.points[0] == {"memory.tcdm_banks": 16, "ima.count": 1, "ima.stream_ports": 4}
    assert spec.points[-1] == {"memory.tcdm_banks": 32, "ima.count": 2, "ima.stream_ports": 16}
    assert spec.fields == ["cluster.clock_mhz", "memory.tcdm_banks", "ima.count", "ima.stream_ports"]
    cfg = sweep.point_config(spec, spec.points[-1])
    assert (cfg.cluster.clock_mhz, cfg.memory.tcdm_banks, cfg.ima.count, cfg.ima.stream_ports) == (400, 32, 2, 16)


# ---------------------------------------------------------------------------
# real sweeps on a local Dask cluster (worker processes)
# ---------------------------------------------------------------------------
def test_local_sweep_bottleneck_and_user_elf(tmp_path):
    spec = squares_spec(tmp_path, grid={"ima.stream_ports": [1, 16], "ima.count": [0, 1]})
    spec["workloads"]["small"] = {"kind": "bottleneck", "shape": SMALL}
    out = tmp_path / "res.parquet"
    # client=None: the sweep starts its own local cluster (two worker processes) and stops it
    table = sweep.run(sweep.load_spec(spec, base_dir=tmp_path), out=out, workers=2)
    assert len(table) == 2 * 4
    assert list(table.columns[:3]) == ["workload", "ima.stream_ports", "ima.count"]
    # every point ran in a worker process, not in this one
    assert table["worker"].notna().all()
    assert {int(w.rsplit(":", 1)[1]) for w in table["worker"]}.isdisjoint({os.getpid()})

    bnt = table[table["workload"] == "small"].set_index(["ima.stream_ports", "ima.count"])
    # a bottleneck on no IMA fails with its one-line reason; the sweep went on
    for ports in (1, 16):
        assert bnt.loc[(ports, 0), "error"] == "the IMA layers need 1 IMA array (Tile&Pack); ima.count is 0"
        assert not bnt.loc[(ports, 0), "verified"]
    # the others: bit-exact against the golden model, and the same as the study run here directly
    for ports in (1, 16):
        row = bnt.loc[(ports, 1)]
        assert pd.isna(row["error"]) and row["verified"] and row["mismatch_frac"] == 0
        assert sum(row[f"energy_{u}_uj"] for u in sweep.UNITS) == pytest.approx(row["energy_uj"])
        assert 0 < row["util_ima"] <= 1 and 0 < row["util_cores"] <= 1 and 0 < row["util_dwa"] <= 1
    row = bnt.loc[(1, 1)]
    ref = bn.run_variant("hetero", BottleneckShape(*SMALL), config={"ima": {"stream_ports": 1}})
    assert row["cycles"] == ref.cycles
    assert row["energy_uj"] == pytest.approx(ref.energy.total_uj)
    assert row["latency_ms"] == pytest.approx(ref.cycles / 500e3)
    # one streamer port moves the IMA's operands slower than sixteen
    assert bnt.loc[(1, 1), "cycles"] > bnt.loc[(16, 1), "cycles"]

    sq = table[table["workload"] == "squares"]
    assert sq["error"].isna().all() and sq["verified"].all() and (sq["mismatch_frac"] == 0).all()
    assert (sq["cycles"] > 0).all()
    # the table on disk, as Parquet and CSV
    for written in (pd.read_parquet(out), pd.read_csv(out.with_suffix(".csv"))):
        assert list(written.columns) == list(table.columns)
        assert list(written["cycles"].fillna(-1)) == list(table["cycles"].fillna(-1))


def test_failed_check_and_crashing_point_are_recorded(tmp_path, client):
    want = np.array([91, 1, 5, 999], np.int32)          # two of four values wrong on purpose
    spec = squares_spec(tmp_path, grid={"cluster.cores": [8]}, expected=want)
    spec["workloads"]["crash"] = {"kind": "elf", "sources": ["squares.c"], "inputs": {"no_such_global": [1]}}
    table = sweep.run(sweep.load_spec(spec, base_dir=tmp_path), client=client, cache=False)
    sq = table[table["workload"] == "squares"].iloc[0]
    x = np.arange(16) - 5
    truth = (x.reshape(4, 4) ** 2).sum(axis=1)
    assert list(truth[:3]) != [91, 1, 5]
    assert not sq["verified"] and sq["mismatch_frac"] == pytest.approx(np.mean(truth != want))
    crash = table[table["workload"] == "crash"].iloc[0]
    assert "no_such_global" in crash["error"] and "\n" not in crash["error"]
    assert pd.isna(crash["cycles"]) and not crash["verified"]


def test_resume_after_an_interrupted_run(tmp_path, client, monkeypatch):
    spec = sweep.load_spec(squares_spec(tmp_path, grid={"memory.tcdm_banks": [4, 8, 16, 32]}), base_dir=tmp_path)
    out = tmp_path / "r.parquet"

    def interrupt_after_two(done, failed, running):
        if done >= 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sweep.run(spec, client=client, out=out, progress=interrupt_after_two)
    assert not out.exists()
    kept = sorted(p.stem for p in out.with_suffix(".cache").glob("*.json"))
    assert 2 <= len(kept) < 4

    table = sweep.run(spec, client=client, out=out)
    assert sorted(table.loc[table["cached"], "key"]) == kept          # finished points were skipped
    assert table["error"].isna().all() and table["verified"].all()
    fresh = sweep.run(spec, client=client, cache=False)
    assert list(fresh["cycles"]) == list(table["cycles"])
    # a third run has everything cached; another iss (version or code) has other keys
    assert sweep.run(spec, client=client, out=out)["cached"].all()
    monkeypatch.setattr(sweep, "__version__", "999.0")
    assert {t.key for t in sweep.plan(spec)[0]}.isdisjoint(kept)
    # ... and the workers must run the same iss as this process
    with pytest.raises(sweep.IssError, match=r"Dask worker tcp://\S+ runs iss \S+, this machine iss 999\.0"):
        sweep.run(spec, client=client, out=out, cache=False)


def test_cli_on_a_running_scheduler_and_plots(tmp_path, client, capsys):
    spec = squares_spec(tmp_path, grid={"memory.tcdm_banks": [8, 32], "cluster.clock_mhz": [250, 500]})
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(f"""\
        [workloads.squares]
        kind = "elf"
        sources = ["squares.c"]
        inputs = {{ samples = "x.npy" }}
        check = {{ result = "want.npy" }}

        [grid]
        memory.tcdm_banks = {spec['grid']['memory.tcdm_banks']}
        cluster.clock_mhz = {spec['grid']['cluster.clock_mhz']}

        [[plots]]
        x = "memory.tcdm_banks"
        y = "latency_ms"
        color = "cluster.clock_mhz"
        """))
    out = tmp_path / "t.parquet"
    assert cli_main(["sweep", str(path), "--out", str(out), "--scheduler", client.scheduler.address]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("4 points: 4 ok, 0 failed, 0 from the cache")
    assert "sweep: 4/4 done" in cap.err
    t = pd.read_parquet(out)
    # the same program: cycles do not depend on the clock, latency does (cycles / MHz)
    by = t.set_index(["memory.tcdm_banks", "cluster.clock_mhz"])
    assert by.loc[(8, 250), "cycles"] == by.loc[(8, 500), "cycles"]
    assert by.loc[(8, 250), "latency_ms"] == pytest.approx(2 * by.loc[(8, 500), "latency_ms"])
    png = out.with_suffix(".latency_ms-memory.tcdm_banks.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    plot = tmp_path / "p.png"
    assert cli_main(["sweep", "plot", str(out), "--x", "cluster.clock_mhz", "--y", "cycles", "--out", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli_main(["sweep", "plot", str(out), "--pareto", "--out", str(tmp_path / "q.png")]) == 0
    assert cli_main(["sweep", "plot", str(out), "--x", "ima.count", "--y", "cycles"]) == 2
    assert "--x ima.count: no such column" in capsys.readouterr().err


def test_pareto_front_by_hand():
    t = pd.DataFrame({"latency_ms": [1.0, 2.0, 3.0, 1.5, 2.5, 4.0],
                      "energy_uj": [9.0, 5.0, 1.0, 9.5, 6.0, 0.5]})
    # (1.5, 9.5) is beaten by (1, 9); (2.5, 6) by (2, 5)
    assert sorted(sweep.pareto_front(t).index) == [0, 1, 2, 5]


def test_analog_noise_is_data_not_an_error():
    """Points run in this process (run_point, as a worker runs it): read noise makes
    outputs differ from the noiseless golden model; the point still succeeds."""
    spec = sweep.load_spec({"workloads": {"b": {"kind": "bottleneck", "shape": SMALL, "energy": False}},
                            "grid": {"ima.sigma_read": [0.0, 0.05]}})
    tasks, blobs = sweep.plan(spec)
    rows = [sweep.run_point(t.payload, {r: (d, blobs[d]) for r, d in t.elfs.items()}) for t in tasks]
    clean, noisy = rows
    assert clean["error"] is None and clean["verified"] and clean["mismatch_frac"] == 0
    assert noisy["error"] is None and not noisy["verified"] and 0 < noisy["mismatch_frac"] < 1
    assert noisy["cycles"] == clean["cycles"]             # noise changes values, not time
    assert clean["energy_uj"] is None and clean["util_ima"] is None   # energy = false: no counts


def test_firmware_built_once_per_distinct_build(tmp_path):
    spec = sweep.load_spec(squares_spec(tmp_path, grid={"cluster.cores": [4, 8], "memory.tcdm_banks": [8, 16, 32]}),
                           base_dir=tmp_path)
    tasks, blobs = sweep.plan(spec)
    assert len(tasks) == 6 and len(blobs) == 2           # one ELF per core count, not one per point
    by_cores = {}
    for t in tasks:
        by_cores.setdefault(sweep.point_config(spec, {k: v for k, v in t.fields.items() if k != "workload"})
                            .cluster.cores, set()).add(t.elfs["run"])
    assert all(len(d) == 1 for d in by_cores.values()) and by_cores[4] != by_cores[8]
    assert len({t.key for t in tasks}) == 6
    # the 4-core build (NUM_CORES=4) runs and checks out on the 4-core cluster
    t4 = next(t for t in tasks if t.fields["cluster.cores"] == 4)
    row = sweep.run_point(t4.payload, {r: (d, blobs[d]) for r, d in t4.elfs.items()})
    assert row["error"] is None and row["verified"]
