"""Scale of `iss sweep`: the 16 points of
examples/sweeps/bottleneck_pareto.toml (the paper's bottleneck on IMA + DWA +
cores, with energy) run one after another in this process, then as a sweep on
a local Dask cluster of 2 worker processes.

Targets: the sweep >= 1.8x faster than the sequential run; the sweep
machinery's overhead per point (scheduling, shipping, collecting: the busiest
worker's elapsed time not spent inside its points nor in planning, per point)
< 5% of a point.

Both sides are measured warm, on the same 16 points: this process and each
worker first run one point untimed (imports, the native helper, the ELFs
parsed), as a long-lived process running many sweeps would be. Both timed
runs include planning the points (parameters, mappings, reading the ELFs) and
skip the result cache; the firmware builds (done once before) and the local
cluster's start are not in the times.

The figures need 2 idle cores: on a loaded machine both runs share the same
cores with others, and the script says so beside the figures (the load
average before each timed run and at the end).
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


def _elfs(task, blobs) -> dict:
    return {role: (d, blobs[d]) for role, d in task.elfs.items()}


def main() -> int:
    spec = sweep.load_spec(SPEC)
    tasks, blobs = sweep.plan(spec)            # the builds, once (cached after)
    n = len(tasks)

    # Warm: this process runs one point untimed, as each worker does below.
    sweep.run_point(tasks[0].payload, _elfs(tasks[0], blobs))
    load_seq = os.getloadavg()[0]
    t0 = time.perf_counter()
    tasks, blobs = sweep.plan(spec)            # as sweep.run does: parameters, mapping, ELFs read
    t_plan = time.perf_counter() - t0
    seq = [sweep.run_point(t.payload, _elfs(t, blobs)) for t in tasks]
    t_seq = time.perf_counter() - t0
    bad = [r["error"] for r in seq if r["error"]]
    assert not bad, bad

    t0 = time.perf_counter()
    client = sweep.local_client(WORKERS, dashboard=None)
    t_start = time.perf_counter() - t0
    try:
        workers = list(client.scheduler_info()["workers"])
        warm = [client.submit(sweep.run_point, tasks[0].payload, _elfs(tasks[0], blobs), workers=[w],
                              allow_other_workers=False, pure=False) for w in workers]
        assert all(r["error"] is None for r in client.gather(warm))
        load_par = os.getloadavg()[0]
        t0 = time.perf_counter()
        table = sweep.run(spec, client=client, cache=False)
        t_par = time.perf_counter() - t0
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert table["error"].isna().all(), list(table["error"].dropna())
    assert list(table["cycles"]) == [r["cycles"] for r in seq], "the sweep and the sequential run differ"
    load_end = os.getloadavg()[0]

    point = (t_seq - t_plan) / n
    per_worker = table.groupby("worker")["wall_s"].agg(["sum", "count"])
    busiest = per_worker.loc[per_worker["sum"].idxmax()]
    overhead = max(t_par - t_plan - busiest["sum"], 0.0) / busiest["count"]
    speedup = t_seq / t_par
    cores = os.cpu_count() or 1
    loads = (load_seq, load_par, load_end)
    loaded = max(loads) > cores / 2
    print(f"sweep: {n} points of {SPEC.name} ({', '.join(spec.fields)}), bottleneck 28x28x32 hetero with energy")
    print(f"  warm process and workers; planning {t_plan:.2f} s; sequential, one process {t_seq:6.1f} s "
          f"({point:.2f} s a point); Dask, {WORKERS} local workers {t_par:6.1f} s (cluster start {t_start:.1f} s "
          f"not included; points per worker {', '.join(str(int(c)) for c in per_worker['count'])}; "
          f"in points {', '.join(f'{s:.1f}' for s in per_worker['sum'])} s)")
    print(f"  load average {loads[0]:.1f} before the sequential run, {loads[1]:.1f} before the sweep, {loads[2]:.1f} "
          f"at the end ({cores} cores)"
          + (": LOADED by other work, the runs shared the cores; figures not representative" if loaded else ""))
    note = f"load average up to {max(loads):.1f} on {cores} cores: not representative" if loaded else ""
    figure("sweep.speedup_2_workers", speedup, "x", better="higher", target=TARGET_SPEEDUP, note=note)
    figure("sweep.overhead_per_point", 100 * overhead / point, "% of a point", better="lower",
           target=100 * TARGET_OVERHEAD, note=note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
