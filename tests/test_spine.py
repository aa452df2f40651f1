"""The spine: compiled firmware on 8 harts with the PULP runtime."""
from __future__ import annotations

import numpy as np
import pytest

from iss import Cluster, Config
from iss.errors import Deadlock, ElfError, SimulationError


def run(elf, cores=8, **kw):
    cluster = Cluster(elf, Config.load(cluster={"cores": cores}))
    return cluster, cluster.run(**kw)


def test_hello_from_all_cores(fw):
    _, res = run(fw("spine_hello"))
    assert res.exit_code == 0
    assert sorted(res.stdout) == sorted(f"hello from core {c} of 8" for c in range(8))


@pytest.mark.parametrize("n", [4096, 1001, 7])
def test_parallel_reduction_matches_numpy(fw, n):
    cluster = Cluster(fw("spine_reduce"))
    rng = np.random.default_rng(n)
    data = rng.integers(-2**20, 2**20, size=n, dtype=np.int32)
    cluster.write_symbol("input", data)
    cluster.write_symbol("n", np.int32(n))
    res = cluster.run()
    assert res.exit_code == 0
    total = int(data.astype(np.int64).sum())
    assert cluster.read_symbol("sum", np.int64)[0] == total
    assert res.stdout == [f"sum {total}"]
    chunk = -(-n // 8)
    partial = cluster.read_symbol("partial", np.int64)
    expect_partial = [int(data[c * chunk:(c + 1) * chunk].astype(np.int64).sum()) for c in range(8)]
    assert partial.tolist() == expect_partial
    mean = int(np.trunc(total / n))  # C division truncates toward zero
    scaled = cluster.read_symbol("scaled", np.int32, n)
    assert np.array_equal(scaled, (data - mean) * 3)


@pytest.mark.parametrize("team", [1, 2, 4, 8])
def test_team_fork_sizes(fw, team):
    cluster = Cluster(fw("spine_fork"))
    cluster.write_symbol("fork_cores", np.int32(team))
    res = cluster.run()
    assert res.exit_code == 0
    assert res.stdout == [f"members 0x{(1 << team) - 1:x} visits {3 * team}"]
    seen = cluster.read_symbol("team_seen", np.int32)
    assert seen.tolist() == [team] * team + [0] * (8 - team)
    # Cores outside the team never ran: they stayed clock-gated in the dispatch loop.
    for h in res.harts[team:]:
        assert h.instructions < 40


def test_team_fork_on_a_smaller_cluster(fw):
    # An ELF built for 4 cores runs on a cluster of 4; one built for 8 is refused
    # there, naming both numbers (its NUM_CORES-based split would leave work undone).
    _, res = run(fw("spine_hello", cores=4), cores=4)
    assert sorted(res.stdout) == sorted(f"hello from core {c} of 4" for c in range(4))
    with pytest.raises(ElfError, match="built for NUM_CORES=8 but the cluster has 4 cores"):
        run(fw("spine_hello"), cores=4)


def test_mutex_protected_counter_reaches_8000(fw):
    _, res = run(fw("spine_mutex", defines=["USE_LOCK"]))
    assert res.stdout == ["counter 8000"]
    assert res.exit_code == 0


def test_unprotected_counter_loses_updates(fw):
    # The same program without the lock: harts interleave between the read and
    # the write, so the test above really depends on the mutex.
    _, res = run(fw("spine_mutex"))
    count = int(res.stdout[0].split()[1])
    assert count < 8000
    assert res.exit_code == 1


def test_amoadd_from_all_cores(fw):
    _, res = run(fw("spine_amo"))
    assert res.stdout == ["counter 8000 missing 0"]


def test_csr_mhartid_and_counters_are_simulated(fw):
    cluster, res = run(fw("spine_csr"))
    assert cluster.read_symbol("hartids", np.uint32).tolist() == list(range(8))
    cyc = cluster.read_symbol("cycles_delta", np.uint32)
    ins = cluster.read_symbol("instret_delta", np.uint32)
    # 100 iterations of a 5-instruction volatile loop plus a few around it: not
    # host TSC ticks. (The two windows are two instructions apart, so cycles may
    # be slightly below instructions at one cycle per instruction.)
    assert all(500 <= i <= 520 for i in ins), ins
    # (the cores' stacks share a TCDM bank, so cycles include contention)
    assert all(i - 4 <= c <= 8 * i for c, i in zip(cyc, ins)), (cyc, ins)


def test_cluster_id_in_mhartid(fw):
    cluster = Cluster(fw("spine_csr"), Config.load(cluster={"cluster_id": 3}))
    cluster.run()
    assert cluster.read_symbol("hartids", np.uint32).tolist() == [(3 << 5) | c for c in range(8)]


def test_deadlock_is_reported_with_every_hart(fw):
    cluster = Cluster(fw("spine_deadlock"))
    with pytest.raises(Deadlock) as e:
        cluster.run()
    msg = str(e.value)
    assert "deadlock" in msg and "\n" not in msg
    # hart 1 sleeps inside eu_evt_wait_clr, inlined from eu.h into stuck()
    assert "hart 1 pc 0x" in msg and "stuck+0x" in msg and "waiting for an event (EVENT_WAIT) (mask 0x20)" in msg
    assert "hart 0 pc 0x" in msg and "pi_cl_team_fork+0x" in msg and "waiting for barrier 0" in msg
    assert all(f"hart {h} pc 0x" in msg for h in range(8))


def test_wfi_sleeps_until_the_event(fw):
    cluster = Cluster(fw("spine_wfi"))
    res = cluster.run()
    assert res.exit_code == 0
    read = lambda name: cluster.memory.read_u32(cluster.program.symbol(name).addr)  # noqa: E731
    assert read("buffer_seen") & (1 << 3)
    # core 1 resumes after the event (wake-up latency and a few instructions later)
    assert read("t_sent") < read("t_woken") < read("t_sent") + 60
    # ...having been clock-gated meanwhile, counted as a wfi sleep
    assert cluster.harts[1].sleep_by_kind.get("wfi", 0) > 1000


def test_write_symbol_refuses_bss_which_start_up_clears(fw):
    cluster = Cluster(fw("spine_reduce"))
    data = np.arange(16, dtype=np.int32)
    cluster.write_symbol("input", data)                 # initialised data: kept
    with pytest.raises(SimulationError, match=r"sum is in \.bss, which the start-up code clears"):
        cluster.write_symbol("sum", np.int64(5))
    cluster.write_symbol("n", np.int32(16))
    cluster.run()
    assert cluster.read_symbol("sum", np.int64)[0] == data.sum()
    assert np.array_equal(cluster.read_symbol("input", np.int32, 16), data)


def test_blas_runs_single_threaded_during_a_run_and_gets_its_threads_back(fw, monkeypatch):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    if not before or max(before) < 2:
        pytest.skip("numpy's BLAS runs one thread here anyway")
    cluster = Cluster(fw("spine_hello"), Config.load())
    seen = []
    finish = cluster.harts[0].finish

    def spy(*a, **kw):             # a slice's end, in the middle of the run
        seen.append(blas_threads())
        return finish(*a, **kw)

    monkeypatch.setattr(cluster.harts[0], "finish", spy)
    assert cluster.run().exit_code == 0
    assert seen and all(t == [1] * len(before) for t in seen)
    assert blas_threads() == before
