"""The scheduler's C loop (iss/native/sched.c) changes only speed. Every program
runs twice, with the C loop and with the Python loop alone
(`scheduler.native_slices` off), and everything observable must be identical:
result, output, every hart's registers, counters, stalls, sleep by kind, PC and
state, the per-instruction profile, the whole TCDM and L2 (test_chain_differential's
comparison). The programs cover what makes a slice go back to Python: MMIO
accesses that sleep or retry, events, barriers, DMA, the accelerators, CSR and
counter reads, traps and interrupts (with interrupts enabled a hart's slices
are started in Python), stores to code, faults, deadlocks and the cycle limit;
at the default quantum and at a small one (most slices end at their budget)."""
from __future__ import annotations

from pathlib import Path

import pytest

from chain_diff_gen import generate
from iss import Cluster, Config
from iss.errors import CycleLimit, Deadlock, SimulationError
from test_chain_differential import MAX_CYCLES, assert_same, build, observe
from test_errors import faults_elf

PROGRAMS = [("spine_hello", ()), ("spine_reduce", ()), ("spine_fork", ()), ("spine_mutex", ()),
            ("spine_mutex", ("USE_LOCK",)), ("spine_amo", ()),
            ("spine_wfi", ()), ("spine_csr", ()), ("timing_dma", ()), ("timing_perf", ()), ("accel_drivers", ()),
            ("mmode_exceptions", ()), ("mmode_timing", ()),
            *(("mmode_irq", (d,)) for d in ("TICKS", "WFI", "MASK", "NEST", "HWLOOP", "DMA", "FORK_TRAP"))]


SRC = Path(__file__).parent / "firmware_src"


def both(elf, **config):
    return [observe(elf, True, native_slices=n, **config) for n in (True, False)]


@pytest.mark.parametrize("quantum", [None, 37])
@pytest.mark.parametrize("name,defines", PROGRAMS, ids=[n + "".join("-" + d for d in ds) for n, ds in PROGRAMS])
def test_c_loop_and_python_loop_agree(fw, name, defines, quantum):
    elf = fw(name, defines=list(defines)) if defines else fw(name)
    config = {"scheduler": {"quantum": quantum}} if quantum else {}
    c_loop, python_loop = both(elf, **config)
    assert c_loop.exit_code is not None and c_loop.cycles > 500
    assert_same(c_loop, python_loop, f"{name} {defines} quantum {quantum}: C loop vs Python loop", c_loop.cluster.program)


@pytest.mark.parametrize("quantum", [None, 37])
def test_stores_to_code_agree(iss_build, quantum):
    """smc: code rewritten while it runs (each slice that meets it goes back to
    Python to redecode)."""
    elf = iss_build([SRC / "smc.c", SRC / "smc.S"], name="smc")
    c_loop, python_loop = both(elf, **({"scheduler": {"quantum": quantum}} if quantum else {}))
    assert c_loop.exit_code == 0, c_loop.stdout
    assert_same(c_loop, python_loop, f"smc quantum {quantum}: C loop vs Python loop", c_loop.cluster.program)


def random_program_agrees(iss_build, tmp_path, seed: int, size: int = 45, pokes: int = 2, quantum: int = 61):
    prog = generate(seed, size, pokes, True)
    elf = build(iss_build, tmp_path, f"native_sched_{seed}_{size}_{pokes}", prog.asm)
    c_loop, python_loop = both(elf, scheduler={"quantum": quantum})
    assert c_loop.exit_code == 0, c_loop.stdout
    assert_same(c_loop, python_loop, f"seed {seed}: C loop vs Python loop", c_loop.cluster.program)


@pytest.mark.parametrize("seed", [3, 4])
def test_random_programs_agree(iss_build, tmp_path, seed):
    """Random RV32IMC + CORE-V programs on 8 harts (tests/chain_diff_gen.py), with
    MMIO loads, CSR accesses and stores to code, at a small quantum."""
    random_program_agrees(iss_build, tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(300, 340))
def test_random_programs_agree_many(iss_build, tmp_path, seed):
    random_program_agrees(iss_build, tmp_path, seed, size=45 + seed % 40, pokes=seed // 2 % 3,
                          quantum=(7, 61, 250, 20000)[seed % 4])


def most_slices_native(elf) -> tuple[int, int]:
    """(slices run, of which in the C loop)"""
    c = Cluster(elf, Config.load(scheduler={"quantum": 200}))
    c.run(max_cycles=MAX_CYCLES)
    return c.scheduler.slices, int(c.scheduler._native.slices)


def test_the_c_loop_runs_most_slices(fw):
    """Else the loop exists but does not serve (a reason to go back to Python
    taken too often would not change any result)."""
    total, in_c = most_slices_native(fw("spine_reduce"))
    assert total > 100 and in_c > 0.8 * total, (total, in_c)


def error_of(elf, native_slices: bool, **run) -> str:
    c = Cluster(elf)
    c.scheduler.native_slices = native_slices
    with pytest.raises(SimulationError) as e:
        c.run(**run)
    return str(e.value)


@pytest.mark.parametrize("mode", range(1, 8))
def test_faults_say_the_same_either_way(fw, tmp_path, mode):
    """spine_faults' modes: illegal instruction, accesses outside memory, a jump
    to nowhere, ebreak, ecall, an interrupt with no handler: the same one-line error."""
    elf = faults_elf(fw, tmp_path, mode)
    assert error_of(elf, True) == error_of(elf, False)


def test_deadlock_and_cycle_limit_say_the_same_either_way(fw):
    dead = [error_of(fw("spine_deadlock"), n) for n in (True, False)]
    assert dead[0] == dead[1] and "deadlock" in dead[0]
    limit = [error_of(fw("spine_reduce"), n, max_cycles=3000) for n in (True, False)]
    assert limit[0] == limit[1] and "cycle limit reached (3000 cycles" in limit[0]


def test_exceptions_are_the_errors_the_python_loop_raises(fw):
    with pytest.raises(Deadlock):
        Cluster(fw("spine_deadlock")).run()
    with pytest.raises(CycleLimit):
        Cluster(fw("spine_reduce")).run(max_cycles=3000)
