"""Decoding at the edges (tests/firmware_src/code_edges.S): encodings Unicorn
would run but the CV32E40P rejects are illegal instructions; HINTs run and
disassemble; a jump into the middle of a 32-bit instruction costs cycles, so the
cycle limit stops a loop there."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iss import Cluster, Config
from iss.errors import IllegalInstruction
from iss.isa import disasm

SRC = Path(__file__).parent / "firmware_src"
ORDER = ["hints", "jump_mid", "ill_c_fld", "ill_c_fsd", "ill_c_fldsp", "ill_c_fsdsp", "ill_c_q0_f100",
         "ill_c_slli_64", "ill_c_srli_64", "ill_c_srai_64", "ill_c_subw", "ill_c_addw", "ill_flw", "ill_fadd",
         "jump_mid_bad", "branch_zero"]
ENCODING = {"ill_c_fld": 0x2000, "ill_c_fsd": 0xA000, "ill_c_fldsp": 0x2502, "ill_c_fsdsp": 0xA002,
            "ill_c_q0_f100": 0x8000, "ill_c_slli_64": 0x1502, "ill_c_srli_64": 0x9101,
            "ill_c_srai_64": 0x9501, "ill_c_subw": 0x9D0D, "ill_c_addw": 0x9D2D, "ill_flw": 0x0005A507,
            "ill_fadd": 0x00B57553}


@pytest.fixture(scope="module")
def elf(iss_build):
    return iss_build([SRC / "code_edges.c", SRC / "code_edges.S"], name="code_edges")


def cluster(elf, name, **config):
    c = Cluster(elf, Config.load(**config))
    c.memory.write_u32(c.program.symbol("mode").addr, ORDER.index(name))
    return c


@pytest.mark.parametrize("name", list(ENCODING))
@pytest.mark.parametrize("timing", [True, False])
def test_encodings_unicorn_accepts_are_illegal(elf, name, timing):
    c = cluster(elf, name, timing={"enabled": timing})
    with pytest.raises(IllegalInstruction) as e:
        c.run(max_cycles=100000)
    msg = str(e.value)
    assert f"{name}+0x0" in msg and f"0x{ENCODING[name]:08x}" in msg, msg
    # through machine mode: the runtime's default vector reported the trap
    m = c.harts[0].machine
    assert (m.mcause, m.mepc) == (2, c.program.symbol(name).addr)


def test_hints_run(elf):
    c = cluster(elf, "hints")
    assert c.run().exit_code == 0
    assert c.memory.read_u32(c.program.symbol("out").addr) == 7


@pytest.mark.parametrize("word,text", [(0x0015150F, "fence.i"), (0x0000100F, "fence.i"),
                                       (0x6005, "c.lui zero,0x1"), (0x707D, "c.lui zero,0xfffff")])
def test_hints_disassemble(word, text):
    assert disasm(word) == text


@pytest.mark.parametrize("word", [0x6001, 0x6101])   # c.lui with imm 0 (reserved), c.addi16sp 0
def test_reserved_rvc_stays_invalid(word):
    assert disasm(word).startswith(".half")


def test_jump_into_the_middle_of_an_instruction_hits_the_cycle_limit(elf):
    """`c.j .` as the upper half of a lui, reached by a jump 2 bytes into it: each
    pass costs the jump's cycles (it cost none), so the limit stops it; run in a
    child process so that the hang it was fails the test instead of blocking it."""
    code = (f"from iss import Cluster, Config\n"
            f"from iss.errors import CycleLimit\n"
            f"c = Cluster({str(elf)!r}, Config.load())\n"
            f"c.memory.write_u32(c.program.symbol('mode').addr, {ORDER.index('jump_mid')})\n"
            f"try:\n    c.run(max_cycles=200000)\nexcept CycleLimit as e:\n    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "cycle limit" in p.stdout and "jump_mid+0x12" in p.stdout, p.stdout


def test_a_branch_onto_a_zero_halfword_costs_the_same_with_views(elf, tmp_path):
    """A taken branch onto 0x0000 (a block Unicorn cannot translate: size 0, its
    block hook called only while no second block hook is registered, as a
    Perfetto view adds): the same illegal instruction and the same cycles with
    and without views."""
    from iss.trace import Session, ViewOptions

    seen = []
    for views in (None, ViewOptions(perfetto=tmp_path / "p.json", vcd=tmp_path / "v.vcd")):
        c = cluster(elf, "branch_zero")
        with pytest.raises(IllegalInstruction):
            Session(c, views).run(max_cycles=100000) if views else c.run(max_cycles=100000)
        h = c.harts[0]
        seen.append((h.machine.mepc, int(h.native.cycles), int(h.native.stall_branch), int(h.native.instret)))
    assert seen[0][0] == c.program.symbol("branch_zero").addr + 12     # li, bnez, nop: then the 0x0000
    assert seen[0] == seen[1]


@pytest.mark.parametrize("timing", [True, False])
def test_jump_into_an_instruction_onto_an_invalid_encoding(elf, timing):
    """A jump 2 bytes into 'lui a0,0x20000' lands on its upper half, 0x2000 (c.fld,
    which Unicorn would run): an illegal instruction there (mcause 2, mepc on it),
    although only the linear decode's invalid encodings are exits from the start."""
    c = cluster(elf, "jump_mid_bad", timing={"enabled": timing})
    with pytest.raises(IllegalInstruction) as e:
        c.run(max_cycles=100000)
    at = c.program.symbol("jump_mid_bad").addr + 16 + 2     # la (8 bytes), addi, jr; then 2 into the lui
    assert "0x00002000" in str(e.value)
    m = c.harts[0].machine
    assert (m.mcause, m.mepc) == (2, at)
