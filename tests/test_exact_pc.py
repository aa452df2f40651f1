"""Which instruction made a memory access: Unicorn's PC in a
memory callback is the start of the block once a hook has written the PC (the
CORE-V executor does, for every instruction it runs), so every access must be
placed by the native memory hook instead. Each case below is a block that starts
right after a CORE-V instruction (tests/firmware_src/exact_pc.S)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, Config
from iss.errors import MemoryFault

SRC = Path(__file__).parent / "firmware_src"


@pytest.fixture(scope="module")
def elf(iss_build):
    return iss_build([SRC / "exact_pc.c", SRC / "exact_pc.S"], name="exact_pc")


def run(elf, mode, **config):
    cluster = Cluster(elf, Config.load(**config))
    cluster.memory.write_u32(cluster.program.symbol("mode").addr, mode)
    banks = cluster.config.memory.tcdm_banks
    cluster.memory.write_u32(cluster.program.symbol("stride").addr, 4 * banks)
    return cluster


def out(cluster, n=8):
    return np.frombuffer(cluster.memory.read(cluster.program.symbol("out").addr, 4 * n), np.uint32)


@pytest.mark.parametrize("timing", [True, False])
def test_barrier_retry_does_not_rerun_the_instructions_before_it(elf, timing):
    """cv.max; addi cnt,cnt,1; lw zero,<barrier trigger+wait+clear>: every core
    but the last sleeps on the load and retries it on wake; cnt stays 1."""
    c = run(elf, 0, timing={"enabled": timing})
    assert c.run().exit_code == 0
    assert list(out(c)) == [1] * 8


@pytest.mark.parametrize("timing", [True, False])
def test_event_wait_keeps_the_saved_mask(elf, timing):
    """eu_evt_wait_clr's sequence after a CORE-V instruction: the retried wait
    must not re-read the mask it has just replaced (0x8 instead of 0x5)."""
    c = run(elf, 1, timing={"enabled": timing})
    assert c.run().exit_code == 0
    assert out(c)[0] & 0xF == 0x5


def test_loads_of_one_hart_to_one_bank_do_not_conflict(elf):
    """Four loads in four consecutive cycles to one bank: the first csrr (4, the
    counter reads before itself), cv.max 1, lw/add/lw/add/lw/add/lw 7 -> 12; with
    every access timed at the block's start they waited 1+2+3 more."""
    c = run(elf, 2)
    assert c.run().exit_code == 0
    assert out(c)[0] == 4 + 1 + 7
    assert c.harts[0].native.stall_tcdm == 0


@pytest.mark.parametrize("mode,where", [(3, "corev_bad_store+0x10"), (5, "corev_bad_load+0xc")])
@pytest.mark.parametrize("timing", [True, False])
def test_fault_names_the_access_not_the_block_start(elf, mode, where, timing):
    c = run(elf, mode, timing={"enabled": timing})
    with pytest.raises(MemoryFault) as e:
        c.run()
    assert f"{where} (exact_pc.S:" in str(e.value), str(e.value)
    assert "0x40000000" in str(e.value)


@pytest.mark.parametrize("timing", [True, False])
def test_instructions_before_the_exit_store_are_counted(elf, timing):
    """minstret read, its store, cv.max, 99 addi: 102 instructions after the value
    read; the store to EOC that ends the run does not retire."""
    c = run(elf, 4, timing={"enabled": timing})
    res = c.run()
    assert res.exit_code == 0
    assert c.harts[0].instret == out(c)[0] + 1 + 1 + 1 + 99
