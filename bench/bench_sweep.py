"""Scale of `iss sweep`: the 16 points of
examples/sweeps/bottleneck_pareto.toml (the paper's bottleneck on IMA + DWA +
cores, with energy) run one after another in this process, then as a sweep on
a local Dask cluster of 2 worker processes.

Targets: the sweep >= 1.8x faster than the sequential run; the sweep
machinery's overhead per point (scheduling, shipping, collecting: the busiest
worker's elapsed time not spent inside its points nor in planning, per point)
< 5% of a point. Both runs start cold (imports, ELF parsing), skip the cache
and include planning the points (parameters, mappings, reading the ELFs); the
firmware builds (done once before) and the local cluster's start are not in
the times.

The figures need 2 idle cores: on a loaded machine both runs share the same
cores with others, and the script says so beside the figures (the load
average at the start and the end).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from iss import sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import figure  # noqa: E402

SPEC = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "bottleneck_pareto.toml"
WORKERS = 2
TARGET_SPEEDUP = 1.8
TARGET_OVERHEAD = 0.05


def main() -> int:
    spec = sweep.load_spec(SPEC)
    sweep.plan(spec)                           # the builds, once (cached after)
    load0 = os.getloadavg()[0]

    t0 = time.perf_counter()
    tasks, blobs = sweep.plan(spec)            # as sweep.run does: parameters, mapping, ELFs read
    t_plan = time.perf_counter() - t0
    seq = [sweep.run_point(t.payload, {r: (d, blobs[d]) for r, d in t.elfs.items()}) for t in tasks]
    t_seq = time.perf_counter() - t0
    n = len(tasks)
    bad = [r["error"] for r in seq if r["error"]]
    assert not bad, bad

    t0 = time.perf_counter()
    client = sweep.local_client(WORKERS, dashboard=None)
    t_start = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        table = sweep.run(spec, client=client, cache=False)
        t_par = time.perf_counter() - t0
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert table["error"].isna().all(), list(table["error"].dropna())
    assert list(table["cycles"]) == [r["cycles"] for r in seq], "the sweep and the sequential run differ"
    load1 = os.getloadavg()[0]

    point = (t_seq - t_plan) / n
    per_worker = table.groupby("worker")["wall_s"].agg(["sum", "count"])
    busiest = per_worker.loc[per_worker["sum"].idxmax()]
    overhead = max(t_par - t_plan - busiest["sum"], 0.0) / busiest["count"]
    speedup = t_seq / t_par
    cores = os.cpu_count() or 1
    loaded = max(load0, load1) > cores
    print(f"sweep: {n} points of {SPEC.name} ({', '.join(spec.fields)}), bottleneck 28x28x32 hetero with energy")
    print(f"  planning {t_plan:.2f} s; sequential, one process {t_seq:7.1f} s ({point:.2f} s a point); Dask, {WORKERS} local workers "
          f"{t_par:7.1f} s (cluster start {t_start:.1f} s not included; points per worker "
          f"{', '.join(str(int(c)) for c in per_worker['count'])})")
    print(f"  load average {load0:.1f} at the start, {load1:.1f} at the end ({cores} cores)"
          + (": LOADED by other work, both runs shared the cores; figures not representative" if loaded else ""))
    note = "machine loaded: not representative" if loaded else ""
    figure("sweep.speedup_2_workers", speedup, "x", better="higher", target=TARGET_SPEEDUP, note=note)
    figure("sweep.overhead_per_point", 100 * overhead / point, "% of a point", better="lower",
           target=100 * TARGET_OVERHEAD, note=note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
