"""The pytest plugin (iss/pytest_plugin.py): fixtures, fw.call through the
runtime's call trampoline (firmware/runtime/call.c), failure reports."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from iss.config import Config
from iss.errors import ConfigError, CycleLimit, MemoryFault
from iss.pytest_plugin import FirmwareExit, assert_matches, cluster_config

pytest_plugins = ["pytester"]

UNIT_C = r"""
#include "pmsis.h"
#include <stdint.h>

int seen[8];                       /* .bss */
int bias = 5;                      /* .data */
int64_t wide;

int add3(int a, int b, int c) { return a + b + c + bias; }
unsigned big(void) { return 0xFFFFFFF0u; }
int64_t mul64(int a, int b) { return (int64_t)a * b; }
float scalef(float x, int k) { return x * (float)k; }
uintptr_t addr_of(const void *p) { return (uintptr_t)p; }
int sum8(int a, int b, int c, int d, int e, int f, int g, int h) { return a + 2*b + 3*c + 4*d + 5*e + 6*f + 7*g + 8*h; }

int sum_i16(const int16_t *x, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* y = a * x + y on the team, interleaved; also records who ran. */
int axpy(int a, const int32_t *x, int32_t *y, int n)
{
    int core = pi_core_id(), cores = pi_cl_team_nb_cores();
    for (int i = core; i < n; i += cores)
        y[i] += a * x[i];
    seen[core] += 1;
    pi_cl_team_barrier();
    return core * 100 + cores;
}

void stash(int64_t *out) { *out = wide; wide += 1; }
int crash(void) { return *(volatile int *)0x30000000; }
int bye(int code) { exit(code); }
int spin(volatile int *flag) { while (!*flag) {} return 1; }
int say(int x) { printf("say %d\n", x); return -x; }

#ifdef WITH_MAIN
int main(void)
{
    bias = 100;
    printf("main ran, bias %d\n", bias);
    return 3;
}
#endif
"""


@pytest.fixture(scope="session")
def unit_src(tmp_path_factory):
    d = tmp_path_factory.mktemp("unit")
    (d / "unit.c").write_text(UNIT_C)
    return d / "unit.c"


@pytest.fixture
def unit(load_firmware, unit_src):
    return load_firmware(unit_src, opt="-O2")


# -- calls --------------------------------------------------------------------------
def test_scalar_arguments_and_return_types(unit):
    r = unit.call("add3", 1, -20, 7)
    assert r.value == 1 - 20 + 7 + 5
    assert unit.call("big", restype="uint32").value == 0xFFFFFFF0
    assert unit.call("big").value == 0xFFFFFFF0 - (1 << 32)
    assert unit.call("mul64", -70000, 90000, restype="int64").value == -70000 * 90000
    assert unit.call("scalef", np.float32(1.5), 3, restype="float32").value == 4.5
    args = list(range(-3, 5))
    assert unit.call("sum8", *args).value == sum((i + 1) * a for i, a in enumerate(args))
    assert unit.call("add3", 0, 0, 0, restype=None).value is None
    with pytest.raises(TypeError, match="np.float32"):
        unit.call("scalef", 1.5, 3)
    with pytest.raises(TypeError, match="at most 8"):
        unit.call("sum8", *range(9))
    with pytest.raises(OverflowError):
        unit.call("add3", 1 << 32, 0, 0)


def test_cycles_are_the_functions_own(unit):
    # A loop of n iterations: cycles grow linearly with n, and a call costs at
    # least one cycle per instruction retired (CV32E40P: IPC <= 1).
    x = np.ones(400, dtype=np.int16)
    runs = [unit.call("sum_i16", x, n) for n in (100, 200, 300, 400)]
    assert [r.value for r in runs] == [100, 200, 300, 400]
    steps = np.diff([r.cycles for r in runs])
    assert steps.min() == steps.max() > 0
    for r in runs:
        assert r.cycles >= r.instructions > 0
        assert r.per_core[0].cycles == r.cycles


def test_arrays_are_copied_in_and_back(unit):
    rng = np.random.default_rng(1)
    x = rng.integers(-1000, 1000, 257, dtype=np.int32)
    y = rng.integers(-1000, 1000, 257, dtype=np.int32)
    expect = y + 7 * x
    x_before = x.copy()
    r = unit.call("axpy", 7, x, y, y.size)
    assert np.array_equal(y, expect)            # updated in place
    assert np.array_equal(r.buffers[2], expect)
    assert np.array_equal(x, x_before) and r.buffers[0] is None and r.buffers[3] is None
    assert np.array_equal(r.buffers[1], x)
    frozen = x.copy()
    frozen.flags.writeable = False
    r = unit.call("axpy", 1, x, frozen, 1)       # read-only: not written back, result in buffers
    assert frozen[0] == x[0] and r.buffers[2][0] == 2 * x[0]
    data = np.arange(10, dtype=np.int16)
    assert unit.call("sum_i16", data.tobytes(), 10).value == 45


def test_where_arrays_go(unit):
    mem = unit.cluster.memory
    small = np.zeros(64, np.uint8)
    p_small = unit.call("addr_of", small, restype="uint32").value
    p_l2 = unit.call("addr_of", unit.l2(small), restype="uint32").value
    huge = np.zeros(mem.tcdm.size, np.uint8)     # larger than the TCDM: goes to L2
    p_huge = unit.call("addr_of", huge, restype="uint32").value
    heap1 = unit.program.symbol("__l1_heap_start").addr
    heap2 = unit.program.symbol("__l2_heap_start").addr
    assert heap1 <= p_small and p_small + 64 <= mem.tcdm_end and p_small % 16 == 0
    assert heap2 <= p_l2 and p_l2 + 64 <= mem.l2_end
    assert heap2 <= p_huge and p_huge + huge.size <= mem.l2_end
    with pytest.raises(MemoryError, match="TCDM"):
        unit.call("addr_of", unit.l1(huge))
    # A live view of simulated memory is passed by address, not copied.
    buf = unit.alloc(np.arange(4, dtype=np.int64))
    assert unit.call("addr_of", buf, restype="uint32").value == buf.__array_interface__["data"][0] - \
        mem.tcdm.ctypes.data + mem.tcdm_base
    unit.call("stash", buf, restype=None)
    unit.call("stash", buf[1:], restype=None)
    assert buf.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("cores", [1, 3, 8])
def test_team_fork(unit, cores):
    x = np.arange(100, dtype=np.int32)
    y = np.zeros(100, dtype=np.int32)
    r = unit.call("axpy", 2, x, y, 100, cores=cores)
    assert r.value == cores                      # core 0's return value: 0 * 100 + team size
    assert np.array_equal(y, 2 * x)
    assert unit.symbol("seen", np.int32).tolist() == [1] * cores + [0] * (8 - cores)
    assert [c.core for c in r.per_core] == list(range(cores))
    assert all(c.cycles >= c.instructions > 0 for c in r.per_core)
    if cores > 1:
        assert r.cycles >= max(c.cycles for c in r.per_core)   # fork to join on core 0
    with pytest.raises(ValueError, match="cores"):
        unit.call("axpy", 1, x, y, 1, cores=9)


@pytest.mark.iss_cluster(cores=2)
def test_more_cores_than_the_cluster_has(unit):
    assert unit.cores == 2
    with pytest.raises(ValueError, match="the cluster has 2 cores"):
        unit.call("add3", 1, 2, 3, cores=4)
    assert unit.call("axpy", 0, None, None, 0, cores=2).value == 2


def test_globals_and_state_between_calls(unit):
    # .bss written before the first call survives the start-up code.
    unit.symbol("wide", np.int64)[0] = 41
    bias = unit.symbol("bias", np.int32)
    bias[0] = -5
    assert unit.call("add3", 1, 2, 3).value == 1
    out = np.zeros(1, np.int64)
    unit.call("stash", out, restype=None)
    unit.call("stash", out, restype=None)
    assert out[0] == 42 and unit.symbol("wide", np.int64)[0] == 43
    with pytest.raises(ValueError, match="count="):
        unit.symbol("bias", np.int64)
    assert unit.symbol("seen", np.int32, count=2).shape == (2,)


def test_stdout_of_a_call(unit, capsys):
    r = unit.call("say", 12)
    assert r.value == -12 and r.stdout == ["say 12"]
    assert unit.call("say", 13).stdout == ["say 13"]
    assert "say 12" in capsys.readouterr().out    # echoed: pytest shows it with a failure


def test_run_main_then_call(load_firmware, unit_src):
    fw = load_firmware(unit_src, defines=["WITH_MAIN"])
    res = fw.run()
    assert res.exit_code == 3 and res.stdout == ["main ran, bias 100"]
    assert fw.call("add3", 0, 0, 0).value == 100     # globals as main left them


def test_call_then_run_main(load_firmware, unit_src):
    fw = load_firmware(unit_src, defines=["WITH_MAIN"])
    assert fw.call("add3", 0, 0, 0).value == 5
    res = fw.run()
    assert res.exit_code == 3 and res.stdout == ["main ran, bias 100"]


def test_firmware_without_main_says_so_when_run(unit):
    res = unit.run()
    assert res.exit_code == 1 and "no main()" in res.stdout[0]


def test_keep_globals(iss_build, unit_src):
    from iss.elf import Program
    dropped = Program(iss_build([unit_src]))
    kept = Program(iss_build([unit_src], keep_globals=True))
    assert "axpy" not in dropped.symbols and "seen" not in dropped.symbols
    assert {"axpy", "seen", "add3", "crash"} <= set(kept.symbols)


# -- failures -------------------------------------------------------------------------
def test_crash_names_the_place_and_writes_a_dump(unit):
    unit.call("add3", 1, 2, 3)
    with pytest.raises(MemoryFault) as info:
        unit.call("crash")
    e = info.value
    assert e.where.startswith("hart 0 pc 0x") and "crash+0x" in e.where and "unit.c:" in e.where
    note = "\n".join(e.__notes__)
    assert "while running crash() on 1 core(s)" in note
    assert re.search(r"=> [0-9a-f]{8}: .*lw", note)           # the faulting load, disassembled
    called = next(ln for ln in note.splitlines() if "called from" in ln)
    assert "iss_call_entry+0x" in called and "(ra=0x" in called
    # the instructions hart 0 really executed, oldest first, ending with the fault
    executed = note.split("the last instructions it executed:\n")[1].split("\nthe code around it:")[0].splitlines()
    assert "crash+0x" in executed[-1] and re.search(r"\s(c\.)?lw\s", executed[-1])
    assert any("jalr" in ln or "c.jalr" in ln for ln in executed)  # the call into crash()
    dump = Path(re.search(r"dump: (\S+)", note).group(1))
    text = dump.read_text()
    assert "MemoryFault" in text and "sp=" in text and "hart 7:" in text
    assert "hart 0: the last instructions it executed" in text
    with pytest.raises(RuntimeError, match="failed earlier"):
        unit.call("add3", 1, 2, 3)


def test_exit_inside_a_call(unit):
    with pytest.raises(FirmwareExit, match=r"bye ended the simulation with exit\(9\)"):
        unit.call("bye", 9)


def test_cycle_limit_of_a_call(unit):
    flag = unit.alloc(1, np.int32)
    with pytest.raises(CycleLimit) as info:
        unit.call("spin", flag, max_cycles=20_000)
    assert "spin(int32" in "\n".join(info.value.__notes__)


def test_assert_cycles_reports_the_profile(unit):
    r = unit.call("sum_i16", np.ones(50, np.int16), 50)
    assert r.assert_cycles(r.cycles) is r
    with pytest.raises(AssertionError) as info:
        r.assert_cycles(r.cycles - 1)
    msg = str(info.value)
    assert f"sum_i16 on 1 core(s) took {r.cycles} cycles, budget {r.cycles - 1}" in msg
    assert "top functions" in msg and "sum_i16" in msg.split("top functions")[1]
    assert Path(re.search(r"dump: (\S+)", msg).group(1)).is_file()


def test_assert_matches_names_the_first_mismatch():
    assert_matches(np.arange(5, dtype=np.int8), np.arange(5))
    with pytest.raises(AssertionError, match=r"2 of 6 elements differ; first at index \(0, 2\): got 9, expected 2"):
        assert_matches(np.array([[0, 1, 9], [3, 4, 7]]), np.arange(6).reshape(2, 3))
    with pytest.raises(AssertionError, match=r"out: shape \(3,\) != expected \(4,\)"):
        assert_matches(np.zeros(3), np.zeros(4), what="out")
    assert_matches(np.float32([1.0, 2.0]), [1.0, 2.0000001], atol=1e-6)
    with pytest.raises(AssertionError, match="first at index 1"):
        assert_matches(np.float32([1.0, 2.5]), [1.0, 2.0], atol=1e-6)


# -- configuration ----------------------------------------------------------------------
def test_cluster_config_fields():
    c = cluster_config(cores=4, tcdm_size=65536, tcdm_banks=16, ima=3, memory={"l2_size": 1 << 20})
    assert (c.cluster.cores, c.memory.tcdm_size, c.memory.tcdm_banks, c.ima.count, c.memory.l2_size) == \
        (4, 65536, 16, 3, 1 << 20)
    base = Config()
    derived = cluster_config(base, cores=2)
    assert derived.cluster.cores == 2 and base.cluster.cores == 8      # the given Config is not changed
    with pytest.raises(ConfigError, match="ambiguous"):
        cluster_config(event_line=3)
    with pytest.raises(ConfigError, match="unknown cluster field 'corez'"):
        cluster_config(corez=3)


@pytest.mark.iss_cluster(cores=4, tcdm_banks=8)
def test_cluster_marker(cluster):
    assert cluster.cores == 4 and cluster.config.memory.tcdm_banks == 8
    c = cluster()
    assert c.harts == [] and c.config.cluster.cores == 4


@pytest.mark.parametrize("cluster", [dict(cores=1), dict(cores=3, tcdm_size=131072)], indirect=True)
def test_cluster_indirect(cluster, unit):
    assert unit.cores == cluster.cores and unit.cluster.memory.tcdm.size == cluster.config.memory.tcdm_size
    assert unit.call("axpy", 0, None, None, 0, cores=cluster.cores).value == cluster.cores


# -- as users see it (pytester) -------------------------------------------------------------
USER_TEST = """
import numpy as np
import pytest

pytestmark = pytest.mark.firmware("unit.c")

def test_ok(firmware):
    assert firmware.call("add3", 1, 2, 3).value == 11

def test_crash(firmware):
    firmware.call("crash")

def test_budget(firmware):
    firmware.call("sum_i16", np.ones(64, np.int16), 64).assert_cycles(10)

def test_mismatch(firmware):
    x = np.arange(8, dtype=np.int32)
    firmware.call("axpy", 1, x, x, 8)
    firmware.assert_matches(x, np.arange(8) * 2 + (np.arange(8) == 5))

@pytest.mark.parametrize("cluster", [dict(cores=2), dict(cores=4)], indirect=True)
def test_team(firmware, cluster):
    assert firmware.call("axpy", 0, None, None, 0, cores=cluster.cores).value == cluster.cores
"""


@pytest.fixture
def user_project(pytester, unit_src, iss_build):
    pytester.makepyfile(test_user=USER_TEST)
    (pytester.path / "unit.c").write_text(UNIT_C)
    return ["--iss-build-dir", str(iss_build.cache_dir), "--iss-artifacts", str(pytester.path / "artifacts"),
            "-p", "no:cacheprovider"]


def test_failures_as_users_see_them(pytester, user_project):
    res = pytester.runpytest_inprocess(*user_project)
    res.assert_outcomes(passed=3, failed=3)
    out = res.stdout.str()
    # crash: hart, pc, symbol, file:line, disassembly, harts, dump
    assert re.search(r"MemoryFault: hart 0 pc 0x[0-9a-f]+ crash\+0x\w+ \(unit\.c:\d+\): load from unmapped", out)
    assert "while running crash() on 1 core(s)" in out and "=> " in out
    # budget: per-core profile with top functions
    assert "sum_i16 on 1 core(s) took" in out and "top functions by cycles" in out
    # mismatch: first index
    assert "1 of 8 elements differ; first at index 5: got 10, expected 11" in out
    dumps = sorted((pytester.path / "artifacts").rglob("iss-*.txt"))
    assert len(dumps) == 3 and all("test_user.py" in str(d.parent.name) for d in dumps)
    assert "UcError" not in out and "scheduler.py" not in out   # no simulator internals in the traceback


def test_xdist(pytester, user_project):
    res = pytester.runpytest_subprocess(*user_project, "-n", "2", "-k", "ok or team")
    res.assert_outcomes(passed=3)


# -- what failure reports say -------------------------------------------------------------------
NORETURN_C = r"""
#include <stdint.h>
__attribute__((noreturn, noinline)) void crash_now(void)
{
    *(volatile uint32_t *)0x30000000 = 1;
    for (;;) ;
}
/* A call that never returns is the last instruction of its function, so the
 * return address is the first one of the next function. */
__asm__(".globl calls_noreturn\n.type calls_noreturn,@function\ncalls_noreturn:\n"
        "  addi sp, sp, -16\n  sw ra, 12(sp)\n  jal ra, crash_now\n.size calls_noreturn, .-calls_noreturn\n"
        ".globl right_after\n.type right_after,@function\nright_after:\n  ret\n.size right_after, .-right_after\n");
"""


def test_called_from_names_the_caller_of_a_noreturn_call(load_firmware, tmp_path):
    src = tmp_path / "noreturn.c"
    src.write_text(NORETURN_C)
    fw = load_firmware(src, opt="-O2")
    after = fw.program.symbol("right_after").addr
    with pytest.raises(MemoryFault) as info:
        fw.call("calls_noreturn")
    note = "\n".join(info.value.__notes__)
    called = next(ln for ln in note.splitlines() if "called from" in ln)
    site = after - 4                               # the jal, last instruction of calls_noreturn
    offset = site - fw.program.symbol("calls_noreturn").addr
    assert called.strip().startswith(f"called from 0x{site:08x} calls_noreturn+0x{offset:x} ")
    assert called.strip().endswith(f"(ra=0x{after:08x})")
    assert "right_after" not in called


def test_cycle_limit_in_pytest_advises_the_plugins_knobs(unit):
    flag = unit.alloc(1, np.int32)
    with pytest.raises(CycleLimit) as info:
        unit.call("spin", flag, max_cycles=20_000)
    msg = str(info.value)
    assert "--max-cycles" not in msg
    assert "raise it with max_cycles= of fw.call/fw.run, or for every run with @pytest.mark.iss_cluster(max_cycles=N)" \
        in msg


def test_assert_cycles_headline_and_profile_agree(unit):
    """The function's own cycles head the message; the profile says which window
    it covers and its numbers are that window's, core row and headline alike."""
    r = unit.call("sum_i16", np.ones(50, np.int16), 50)
    with pytest.raises(AssertionError) as info:
        r.assert_cycles(r.cycles - 1)
    msg = str(info.value)
    window = r.profile_data[0]["cycles"]
    assert window > r.cycles
    assert f"profile of the call window: {window} cycles on core 0 = sum_i16's {r.cycles} + " \
           f"{window - r.cycles} of the runtime entering and leaving the call" in msg
    headline = re.search(r"profile: 1 cores, (\d+) cycles", msg)
    assert headline and int(headline.group(1)) == window
    core_row = re.search(r"^\s*0\s+(\d+)\s", msg.split("profile: 1 cores")[1], re.M)
    assert core_row and int(core_row.group(1)) == window
