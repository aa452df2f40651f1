"""The load-use and jalr stalls against the CV32E40P, instruction pair by pair.

The user manual ("Pipeline Details", Hazards) charges 1 cycle when "the
instruction immediately following a load uses the result of that load" and when
"a jalr depends on the result of an immediately preceding instruction". Which
registers an instruction uses is every register operand its decoder marks used
(rtl/cv32e40p_decoder.sv: rega/regb/regc_used_o): a store's data register, a
register post-increment's increment, a register-offset store's offset (rs3, in
the rd field) included. The controller (rtl/cv32e40p_controller.sv, load_stall_o)
also stalls an instruction that writes the loaded register from EX (ALU, CSR,
jump link, a post-increment's base) while the load is in EX: its write would
otherwise come before the load's in WB.

Each expected count below is hand-computed: `lui a1` 1 cycle, each instruction of
the body 1 (all ALU, load and store instructions; the TCDM has no wait state for
one core), the stop word 1, plus the stall when the table says so. None of them
comes from the model under test.
"""
from __future__ import annotations

import pytest

from iss import native
from iss.standalone import TCDM_BASE, StandaloneHart, assemble

STOP_WORD = 0xFFFFFFFF

# (body after `lui a1, TCDM`, stall cycles, why); a0 is the loaded register.
PAIRS = [
    ("lw a0, 0(a1)\n addi a2, a0, 1", 1, "reads the loaded register"),
    ("lw a0, 0(a1)\n addi a2, a3, 1", 0, "independent"),
    ("lw a0, 0(a1)\n sw a0, 4(a1)", 1, "store data register"),
    ("lw a0, 4(a1)\n lw a2, 0(a0)", 1, "address register (the word at 4 is the TCDM base)"),
    ("lw a0, 0(a1)\n lw a0, 4(a1)", 0, "a second load to the same register writes it in WB"),
    # CORE-V post-increment stores: Mem(rs1) = rs2, rs1 += imm | rs3
    ("lw a0, 0(a1)\n cv.sw a0, (a1), 4", 1, "post-increment store's data register rs2"),
    ("lw a0, 0(a1)\n cv.sw a2, (a1), 4", 0, "post-increment store, other registers"),
    ("lw a0, 0(a1)\n cv.sb a0, (a1), a3", 1, "register post-increment store's data register rs2"),
    ("lw a0, 0(a1)\n cv.sw a2, (a1), a0", 1, "register post-increment store's increment rs3"),
    # register-offset store: Mem(rs1 + rs3) = rs2
    ("lw a0, 0(a1)\n cv.sh a2, a0(a1)", 1, "register-offset store's offset rs3"),
    ("lw a0, 0(a1)\n cv.sh a2, a3(a1)", 0, "register-offset store, other registers"),
    # register post-increment load: rD = Mem(rs1), rs1 += rs2
    ("lw a0, 0(a1)\n cv.lw a2, (a1), a0", 1, "register post-increment load's increment rs2"),
    ("lw a0, 0(a1)\n cv.lw a2, a0(a1)", 1, "register-offset load's offset rs2"),
    # a post-increment load's base is written from EX and forwarded: no stall on it
    ("cv.lw a0, (a1), 4\n addi a2, a1, 0", 0, "post-incremented base, forwarded from EX"),
    ("cv.lw a0, (a1), 4\n addi a2, a0, 0", 1, "post-increment load's result"),
    # writing the loaded register from EX while the load is in EX
    ("lw a0, 0(a1)\n c.li a0, 3", 1, "c.li writes the loaded register (reads none)"),
    ("lw a0, 0(a1)\n c.li a2, 3", 0, "c.li, other register"),
    ("lw a0, 0(a1)\n .option norvc\n addi a0, zero, 3", 1, "addi (32-bit) from x0 writes the loaded register"),
    ("lw a0, 0(a1)\n c.mv a2, a0", 1, "c.mv reads the loaded register (rs2)"),
    ("lw a0, 0(a1)\n c.mv a0, a2", 1, "c.mv writes the loaded register"),
    ("lw a0, 0(a1)\n c.mv a3, a2", 0, "c.mv, other registers"),
    ("lw a0, 0(a1)\n cv.pack a0, a2, a3", 1, "cv.pack writes the loaded register (reads rs1, rs2 only)"),
    ("lw a0, 0(a1)\n cv.pack a4, a2, a3", 0, "cv.pack, other registers"),
    ("lw a0, 0(a1)\n cv.pack a4, a0, a3", 1, "cv.pack reads the loaded register"),
    ("lw a0, 0(a1)\n cv.packhi.b a0, a2, a3", 1, "cv.packhi.b reads and writes rD"),
    ("lw a0, 0(a1)\n cv.sdotsp.b a0, a2, a3", 1, "accumulator rD"),
]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return tmp_path_factory.mktemp("load_use")


def _cycles(body: str, build, name: str) -> int:
    src = f".globl _start\n_start:\n lui a1, {TCDM_BASE >> 12:#x}\n {body}\n .word {STOP_WORD:#x}\n"
    code, base = assemble(src, build, name)
    h = StandaloneHart(code, base)
    h.tcdm[4:8].view("<u4")[0] = TCDM_BASE
    assert h.run() == native.STOP_ILLEGAL and h.st.stop_info == STOP_WORD
    return int(h.st.cycles)


@pytest.mark.parametrize("i", range(len(PAIRS)), ids=[p[2] for p in PAIRS])
def test_load_use_stall(i, build):
    body, stall, _ = PAIRS[i]
    n = sum(1 for line in body.split("\n") if not line.strip().startswith("."))
    assert _cycles(body, build, f"pair{i}") == 1 + n + 1 + stall


def _static_cycles(body: str, build, name: str) -> int:
    """The cycles the analysis gives `body` run straight through (no taken branch)."""
    code, base = assemble(f".globl _start\n_start:\n {body}\n", build, name)
    return int(StandaloneHart(code, base, corev=False).cp[-1])


@pytest.mark.parametrize("i, body, cycles", [
    (0, "addi a5, a5, 4\n jalr x0, 0(a5)", 1 + 2 + 1),       # the jalr stall: a5 written just before
    (1, "addi a4, a4, 4\n jalr x0, 0(a5)", 1 + 2),
    (2, "cv.lw a0, (a5), 4\n jalr x0, 0(a5)", 1 + 2 + 1),    # the post-increment writes a5 from EX
    (3, "lw a5, 0(a1)\n jalr x0, 0(a5)", 1 + 1 + 2 + 1),     # the load-use stall, then the jalr stall
])
def test_jalr_stall(i, body, cycles, build):
    assert _static_cycles(body, build, f"jalr{i}") == cycles
