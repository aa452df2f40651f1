"""Views never change timing: the same program run with every
view on (instruction trace, profile, Perfetto, VCD) and with none gives the same
cycles, instructions, stalls and per-instruction profile, exactly. (The
instruction trace puts a code hook on every instruction, which makes Unicorn keep
its PC exact; without it, Unicorn's PC inside memory callbacks can be a block's
start, which once timed every access of such a block at its start.)"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, Config
from iss.trace import Session, ViewOptions

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "firmware" / "apps"
KERNELS = ROOT / "firmware" / "kernels"


def _elf(name, iss_build, fw):
    if name.startswith("mmode_irq-"):
        return fw("mmode_irq", defines=[name.split("-")[1]])
    if name in ("hello", "parallel_sum", "rtos_tick"):
        return iss_build([APPS / f"{name}.c"], name=f"app-{name}", opt="-O3")
    if name == "bottleneck_cores":
        return iss_build([APPS / "bottleneck_cores.c", *sorted(KERNELS.glob("*.c"))], name="bottleneck_cores",
                         opt="-O3", include_dirs=[KERNELS], defines=["KERNELS_LINKED"])
    return fw(name)


def _state(cluster, res):
    per_hart = [(h.id, int(h.native.cycles), int(h.native.instret), int(h.native.stall_tcdm),
                 int(h.native.stall_branch), int(h.native.stall_l2), int(h.native.stall_misaligned),
                 int(h.native.div_cycles), int(h.sleep_cycles), bytes(h.stall_at), bytes(h.exec_diff))
                for h in cluster.harts]
    return res.exit_code, res.cycles, res.instructions, res.stdout, per_hart


def _same_profile(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], np.ndarray):
                assert np.array_equal(x[k], y[k]), k
            else:
                assert x[k] == y[k], k


CASES = [(n, True) for n in ("hello", "parallel_sum", "views_hot", "spine_reduce", "chain_simd", "timing_dma",
                             "accel_drivers", "exact_pc_barrier")]
CASES += [(n, False) for n in ("hello", "chain_simd", "accel_drivers", "exact_pc_barrier")]
# Interrupts: taken at the exact instruction boundary whatever the views (the trace
# turns the CORE-V executor's chains off, which once moved interrupt entry from an
# instruction boundary to the start of Unicorn's next block).
CASES += [(n, True) for n in ("rtos_tick", "mmode_irq-TICKS", "mmode_irq-HWLOOP", "mmode_irq-EXACT",
                              "mmode_irq-NEST", "mmode_irq-SELF")]
CASES += [pytest.param("bottleneck_cores", t, marks=pytest.mark.slow) for t in (True, False)]


@pytest.mark.parametrize("name,timing", CASES)
def test_views_change_neither_cycles_nor_profiles(name, timing, iss_build, fw, tmp_path):
    if name == "exact_pc_barrier":
        src = Path(__file__).parent / "firmware_src"
        elf = iss_build([src / "exact_pc.c", src / "exact_pc.S"], name="exact_pc")
    else:
        elf = _elf(name, iss_build, fw)
    config = Config.load(timing={"enabled": timing})

    def cluster():
        c = Cluster(elf, config)
        if name == "exact_pc_barrier":
            c.memory.write_u32(c.program.symbol("mode").addr, 0)
        return c

    plain = cluster()
    res = plain.run()
    viewed = cluster()
    # the trace hook runs on every instruction of every core; a window keeps the file small
    opts = ViewOptions(trace=tmp_path / "t.txt", trace_window=(0, 3000), profile=True,
                       profile_json=tmp_path / "p.json", perfetto=tmp_path / "p.perfetto.json",
                       vcd=tmp_path / "run.vcd")
    vres = Session(viewed, opts).run()
    assert _state(plain, res) == _state(viewed, vres)
    _same_profile(plain.profile_data(), viewed.profile_data())
