"""Self-modifying code: the predecoded tables (CORE-V decode, costs, sites) follow
what the program, another core or the DMA writes into the code
(tests/firmware_src/smc.c, smc.S). The new encodings come from the assembler."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, Config
from iss.standalone import assemble

SRC = Path(__file__).parent / "firmware_src"


@pytest.fixture(scope="module")
def elf(iss_build):
    return iss_build([SRC / "smc.c", SRC / "smc.S"], name="smc")


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    """Each instruction's encoding, from the assembler."""
    out = {}
    d = tmp_path_factory.mktemp("smc_words")
    for k, text in enumerate(["cv.min a0, a0, a1", "cv.max a0, a0, a1", "addi a0, zero, 2",                               "div a0, a0, a1"]):
        code, _ = assemble(f".option norvc\n{text}\n", d, f"w{k}")
        out[text] = int.from_bytes(code[:4], "little")
    return out


def run(elf, mode, word_a, word_b=0, **config):
    c = Cluster(elf, Config.load(**config))
    for name, v in (("mode", mode), ("word_a", word_a), ("word_b", word_b)):
        c.memory.write_u32(c.program.symbol(name).addr, v)
    assert c.run(max_cycles=2_000_000).exit_code == 0
    return c, np.frombuffer(c.memory.read(c.program.symbol("out").addr, 32), np.int32)


TIMING = pytest.mark.parametrize("timing", [True, False])


@TIMING
def test_corev_rewritten_into_corev(elf, words, timing):
    """cv.max rewritten into cv.min: the new semantics run (the old ones ran before)."""
    _, out = run(elf, 0, words["cv.min a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:2]) == [9, 3]


@TIMING
def test_standard_rewritten_into_corev(elf, words, timing):
    """add rewritten into cv.max: a valid CORE-V word (it was reported illegal)."""
    _, out = run(elf, 1, words["cv.max a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:2]) == [12, 9]


@TIMING
def test_patch_by_another_core_then_fence_i(elf, words, timing):
    """Core 1 rewrites cv.max into cv.min while core 0 calls it in a loop with
    fence.i: core 0 runs cv.min from then on."""
    _, out = run(elf, 2, words["cv.min a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:3]) == [9, 3, 1]


@TIMING
def test_patch_written_with_cv_sw(elf, words, timing):
    _, out = run(elf, 3, words["addi a0, zero, 2"], timing={"enabled": timing})
    assert list(out[:2]) == [1, 2]


@TIMING
def test_code_loaded_by_the_dma(elf, words, timing):
    _, out = run(elf, 4, words["cv.min a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:2]) == [9, 3]


def test_rewritten_instruction_costs_its_own_cycles(elf, words):
    """add (1 cycle) rewritten into div by 1: 3 cycles + 31 leading zeros of the
    divisor (CV32E40P manual, the serial divider): the call takes 33 more."""
    c, out = run(elf, 5, words["div a0, a0, a1"])
    assert out[2] == 7
    assert out[1] - out[0] == 33
    assert c.code.refreshes >= 1


@TIMING
def test_rewritten_back_and_forth(elf, words, timing):
    _, out = run(elf, 6, words["cv.min a0, a0, a1"], words["cv.max a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:4]) == [3, 9, 3, 9]


@TIMING
def test_code_in_the_tcdm_rewritten(elf, words, timing):
    """A function in .l1.text (the TCDM) rewritten from cv.max into cv.min: its
    region of the code image is redecoded, the L2 code keeps cv.max."""
    c, out = run(elf, 7, words["cv.min a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:3]) == [9, 3, 9]
    m = c.memory
    assert m.tcdm_base <= c.program.symbol("f_l1_corev").addr < m.tcdm_base + m.tcdm.size
    assert c.program.symbol("f_corev").addr >= m.l2_base
    assert len(c.code.regions) == 2


def test_views_describe_the_rewritten_instruction(elf, tmp_path):
    """The instruction trace and GDB's watch table follow rewritten code: f_one's
    first instruction (addi a0, zero, 1) rewritten with cv.sw into a load of the
    word at sp is traced as a load at that address (it had no access before),
    and a watchpoint on that word stops the core on it."""
    from iss.gdb import Debugger
    from iss.trace.session import Session, ViewOptions
    code, _ = assemble(".option norvc\nlw a0, 0(sp)\n", tmp_path, "load")
    load = int.from_bytes(code[:4], "little")
    c = Cluster(elf, Config.load())
    for name, v in (("mode", 3), ("word_a", load)):
        c.memory.write_u32(c.program.symbol(name).addr, v)
    f_one = c.program.symbol("f_one").addr
    trace = tmp_path / "t.txt"
    Session(c, ViewOptions(trace=trace, trace_cores={0})).run()
    rows = [ln.split(None, 5) for ln in trace.read_text().splitlines()
            if not ln.startswith("#") and int(ln.split()[2], 16) == f_one]
    # (the text disassembles from the code as it ends, so both show the load's
    # encoding; what each execution did is recorded: a0 = 1 without an access, then
    # the load with its address)
    assert len(rows) == 2 and all(r[4] == f"{load:08x}" for r in rows)
    assert "a0=0x00000001" in rows[0][5] and "load" not in rows[0][5]
    assert re.search(r"load 0x1[0-9a-f]{7}/4", rows[1][5]), rows[1]
    # the debugger's table: a watchpoint on the word the patched instruction loads
    sp_word = int(re.search(r"load 0x([0-9a-f]{8})/4", rows[1][5])[1], 16)
    c = Cluster(elf, Config.load())
    for name, v in (("mode", 3), ("word_a", load)):
        c.memory.write_u32(c.program.symbol(name).addr, v)
    d = Debugger(c)
    d.add_breakpoint(c.program.symbol("store_cv_sw").addr)
    assert d.resume().kind == "breakpoint"
    d.remove_breakpoint(c.program.symbol("store_cv_sw").addr)
    d.add_watchpoint(3, sp_word, 4)          # rwatch
    ev = d.resume()
    assert (ev.kind, ev.hart.pc) == ("rwatch", f_one)


def test_stores_to_data_redecode_nothing(elf, words):
    """Stores outside executable segments (all a program's data) leave the tables
    alone: no refresh."""
    c, out = run(elf, 0, words["cv.min a0, a0, a1"])
    assert c.code.refreshes == 1


@TIMING
def test_div_rewritten_in_and_out(elf, words, timing):
    """cv.max rewritten into div and back, twice: the div's own hook is added,
    then removed again (3 / 9 = 0 with div, 9 with cv.max)."""
    _, out = run(elf, 6, words["div a0, a0, a1"], words["cv.max a0, a0, a1"], timing={"enabled": timing})
    assert list(out[:4]) == [0, 9, 0, 9]
