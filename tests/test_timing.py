"""The cycle model against the CV32E40P timing table (user manual, "Pipeline
Details"): every expected count below is worked out by hand from the table for
the assembly in tests/firmware_src/timing_micro.S (all 32-bit, word aligned).

Common to every function: csrr mcycle reads the counter before itself and costs
4 cycles (mcycle is one of the manual's slow CSRs), then `mv` 1 cycle; a taken
branch costs 3 (1 + 2), a jump 2, mulh 5, div 3 + the divisor's leading zeros
(35 for 0), a load 1 and 1 more if the next instruction uses its result.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, Config

SRC = Path(__file__).parent / "firmware_src"
N = 100
PROLOGUE = 4 + 1


@pytest.fixture(scope="module")
def micro(iss_build):
    return iss_build([SRC / "timing_micro.c", SRC / "timing_micro.S"], name="timing_micro")


def run(elf, same_bank=True, **config):
    cluster = Cluster(elf, Config.load(**config))
    cluster.memory.write_u32(cluster.program.symbol("same_bank").addr, int(same_bank))
    res = cluster.run()
    assert res.exit_code == 0
    sym = cluster.program.symbol("results")
    results = np.frombuffer(cluster.memory.read(sym.addr, 64), np.uint32)
    sym = cluster.program.symbol("bank_cycles")
    banks = np.frombuffer(cluster.memory.read(sym.addr, 32), np.uint32)
    return results, banks, cluster


@pytest.fixture(scope="module")
def results(micro):
    return run(micro)


def test_taken_branch_loop(results):
    # per iteration: addi 1 + bnez 1, taken N-1 times (+2 each)
    assert results[0][0] == PROLOGUE + N * 2 + (N - 1) * 2


def test_not_taken_branch_loop(results):
    # addi 1 + beqz not taken 1 + j 2, N-1 times; last: addi 1 + beqz taken 3
    assert results[0][1] == PROLOGUE + (N - 1) * 4 + 1 + 3


def test_load_use_stall(results):
    per_iter = 4  # lw, add, addi, bnez
    assert results[0][3] == PROLOGUE + N * per_iter + (N - 1) * 2
    assert results[0][2] == results[0][3] + N  # the dependent add waits one cycle


def test_mulh_takes_five_cycles(results):
    assert results[0][4] == PROLOGUE + N * (5 + 1 + 1) + (N - 1) * 2


@pytest.mark.parametrize("k,divisor", [(0, 1), (1, 0x80000000), (2, 0x10000), (3, 0)])
def test_division_depends_on_divisor_leading_zeros(results, k, divisor):
    lz = 32 if divisor == 0 else 32 - divisor.bit_length()
    div = 3 + lz  # 3..35
    assert results[0][5 + k] == PROLOGUE + N * (div + 1 + 1) + (N - 1) * 2


def test_hardware_loop_has_zero_overhead(results):
    assert results[0][9] == PROLOGUE + 1 + N * 3          # cv.setup 1, then the body only
    assert results[0][10] == PROLOGUE + N * 5 + (N - 1) * 2  # + counter, branch and its penalty


def test_single_core_loads_do_not_conflict(results):
    assert results[0][11] == PROLOGUE + N * 10 + (N - 1) * 2


def test_eight_cores_on_one_bank_vs_eight_banks(micro):
    _, same, c_same = run(micro, same_bank=True)
    _, distinct, c_distinct = run(micro, same_bank=False)
    alone = PROLOGUE + N * 10 + (N - 1) * 2
    # Distinct banks: no core ever waits.
    assert (distinct == alone).all(), distinct
    # One bank serves one load per cycle: 8 cores x 8 loads need >= 64 cycles per
    # iteration, instead of 12 alone, so the phase lasts about N * 64 cycles, and
    # with round-robin arbitration every core takes about that long (they slow
    # down together: see iss/timing/tcdm.py).
    bound = N * 64
    assert bound * 0.9 <= same.max() <= bound * 1.1, same
    assert same.max() / distinct.max() == pytest.approx(64 / 12, rel=0.1)
    assert bound * 0.9 <= same.min(), same
    # The profile charges run-time stalls to t_loads8's instructions: its taken
    # branches (9 runs: core 0 alone, then 8 cores, N-1 times 2 cycles) and,
    # with one bank, the waits of its loads.
    def loop_stalls(cluster):
        sym = cluster.program.symbol("t_loads8")
        lo, hi = cluster.code.index(sym.addr), cluster.code.index(sym.addr + sym.size)
        return sum(int(h.stall_at[lo:hi].sum()) for h in cluster.harts)
    branches = 9 * (N - 1) * 2
    assert loop_stalls(c_distinct) == branches
    assert loop_stalls(c_same) - branches == pytest.approx(int(same.sum()) - 8 * alone, rel=0.02)


def test_functional_mode_counts_static_costs_only(micro):
    res, _, _ = run(micro, timing={"enabled": False})
    # no taken-branch penalties, no division extras, no load-use is static: it stays
    assert res[0] == PROLOGUE + N * 2
    assert res[5] == res[8] == PROLOGUE + N * (3 + 1 + 1)


def test_results_identical_with_timing_off(fw):
    on = Cluster(fw("spine_reduce"))
    off = Cluster(fw("spine_reduce"), Config.load(timing={"enabled": False}))
    r_on, r_off = on.run(), off.run()
    assert r_on.stdout == r_off.stdout
    assert r_on.cycles > r_off.cycles


@pytest.mark.parametrize("quantum", [1000, 5000, 20000])
@pytest.mark.parametrize("delay", [10, 3000])
def test_quantum_bounds_shared_memory_latency(fw, quantum, delay):
    """A store through plain memory is seen by a spinning hart within one
    quantum (early or late) of when it was made, in simulated time."""
    cluster = Cluster(fw("timing_flag"), Config.load(scheduler={"quantum": quantum}))
    cluster.memory.write_u32(cluster.program.symbol("delay").addr, delay)
    assert cluster.run().exit_code == 0
    t_set = cluster.memory.read_u32(cluster.program.symbol("t_set").addr)
    t_seen = cluster.memory.read_u32(cluster.program.symbol("t_seen").addr)
    spin = 20  # one iteration of the spin loop and the mcycle read after it
    assert abs(t_seen - t_set) <= quantum + spin, (t_set, t_seen)


def test_synchronisation_is_exact_whatever_the_quantum(fw):
    """Event-unit synchronisation does not depend on the quantum (peripherals see
    each access at its exact cycle): cycles differ by no more than the TCDM waits
    (whose order is what the quantum changes; one hart's wait can delay a barrier
    and with it the others, so the bound is their sum)."""
    runs = []
    for q in (300, 20000):
        cluster = Cluster(fw("spine_reduce"), Config.load(scheduler={"quantum": q}))
        res = cluster.run()
        runs.append((res.cycles, sum(p["stalls"]["tcdm"] for p in cluster.profile_data())))
    (c1, s1), (c2, s2) = runs
    assert abs(c1 - c2) <= max(s1, s2), runs


def test_dma_traffic_delays_core_loads_on_its_banks(fw):
    """The DMA writes its TCDM words at 8 bytes a cycle: a core reading the same
    banks meanwhile waits for some of them; with the DMA idle it never does."""
    def loop(with_dma):
        cluster = Cluster(fw("timing_dma"))
        cluster.memory.write_u32(cluster.program.symbol("with_dma").addr, with_dma)
        assert cluster.run().exit_code == 0
        tcdm = sum(p["stalls"]["tcdm"] for p in cluster.profile_data())
        port = cluster.tcdm_arbiter.port_wait(cluster.tcdm_arbiter.ports.index("DMA"))
        return cluster.memory.read_u32(cluster.program.symbol("loop_cycles").addr), tcdm, port
    quiet, quiet_stalls, quiet_port = loop(0)
    busy, busy_stalls, busy_port = loop(1)
    assert quiet_stalls == 0 and quiet_port == 0
    # They meet on some banks; round robin lets each win in turn, so the core waits
    # behind the DMA or the DMA's word behind the core.
    assert busy_stalls + busy_port > 0
    assert busy == quiet + busy_stalls


@pytest.mark.parametrize("use_l2", [0, 1])
def test_performance_counters_count_the_loop(fw, use_l2):
    """pi_perf_* around `lw; add (uses the load); addi; bnez` for N and 2N
    iterations: every counter grows by exactly N times one iteration's events."""
    cluster = Cluster(fw("timing_perf"))
    cluster.memory.write_u32(cluster.program.symbol("use_l2").addr, use_l2)
    assert cluster.run().exit_code == 0
    sym = cluster.program.symbol("counts")
    counts = np.frombuffer(cluster.memory.read(sym.addr, sym.size), np.uint32).reshape(2, -1).astype(np.int64)
    d = dict(zip(["CYCLES", "ACTIVE_CYCLES", "INSTR", "LD_STALL", "JR_STALL", "IMISS", "LD", "ST", "JUMP", "BRANCH",
                  "BTAKEN", "RVC", "LD_EXT", "ST_EXT", "LD_EXT_CYC", "ST_EXT_CYC", "TCDM_CONT"], counts[1] - counts[0]))
    l2 = 8 * use_l2   # memory.l2_latency per load from L2
    assert d["INSTR"] == 4 * N
    assert d["LD"] == N and d["ST"] == 0 and d["BRANCH"] == N and d["BTAKEN"] == N and d["JUMP"] == 0
    assert d["LD_STALL"] == N                      # the add waits for the load
    assert d["JR_STALL"] == 2 * N                  # each taken branch: 2 cycles beyond its own
    assert d["CYCLES"] == d["ACTIVE_CYCLES"] == N * (4 + 1 + 2 + l2)
    assert d["LD_EXT"] == N * use_l2 and d["LD_EXT_CYC"] == N * l2 and d["ST_EXT"] == 0
    assert d["TCDM_CONT"] == 0 and d["IMISS"] == 0 and d["RVC"] == 0


def test_chaining_core_v_instructions_changes_only_speed(fw, monkeypatch):
    """The executor runs a CORE-V instruction and those after it, standard ones
    included, without returning to Unicorn: results, every cycle count and the
    profile are the same as one trap per CORE-V instruction with Unicorn running
    the rest."""
    from iss import hart as hart_module

    def observe(limit):
        monkeypatch.setattr(hart_module, "CHAIN_LIMIT", limit)
        cluster = Cluster(fw("chain_simd"))
        res = cluster.run()
        prof = cluster.profile_data()
        return (res.stdout, res.cycles, [(p["cycles"], p["instructions"], p["stalls"], p["sleep"]) for p in prof],
                [p["exec_count"].tobytes() + p["cycles_at"].tobytes() for p in prof])

    one_by_one, chained = observe(0), observe(1024)
    a = (np.arange(2048) * 37 + 11).astype(np.int8).astype(np.int64)
    b = (np.arange(2048) * 53 - 7).astype(np.int8).astype(np.int64)
    assert one_by_one[0] == [str(int(a @ b))]
    assert chained == one_by_one
    assert sum(p[2]["tcdm"] for p in chained[2]) > 0   # contention was part of it


def test_waiting_for_the_dma_is_counted_as_dma_sleep(fw):
    cluster = Cluster(fw("timing_dma"))
    cluster.memory.write_u32(cluster.program.symbol("with_dma").addr, 2)
    assert cluster.run().exit_code == 0
    sleep = cluster.profile_data()[0]["sleep"]
    # 16 KiB at 8 bytes a cycle: the core sleeps about 2048 cycles on the DMA event
    assert 1800 <= sleep.get("dma", 0) <= 2400, sleep
    assert sleep.get("event", 0) == 0
