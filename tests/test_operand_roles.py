"""The operand roles of the decode table (iss/isa/table.py) against the
manuals (RISC-V unprivileged ISA, RVC chapter; CV32E40P user manual, CORE-V
chapter): what a sample of instructions reads, writes and how it accesses
memory, written here from the manuals' descriptions."""
from __future__ import annotations

import pytest

from iss.isa.table import ROWS

# (mnemonic, format) -> (reads, writes, mem, address, bytes)
EXPECTED = {
    ("add", "R"): ({"rs1", "rs2"}, ("rd",), "", "", 0),
    ("lhu", "L"): ({"rs1"}, ("rd",), "load", "", 2),
    ("sb", "S"): ({"rs1", "rs2"}, (), "store", "", 1),
    ("amoadd.w", "AMO"): ({"rs1", "rs2"}, ("rd",), "amo", "", 4),
    ("lr.w", "LR"): ({"rs1"}, ("rd",), "load", "", 4),
    ("jal", "J"): (set(), ("rd",), "", "", 0),
    ("beq", "B"): ({"rs1", "rs2"}, (), "", "", 0),
    # cv.lh rD, Imm(rs1!): rD = Mem16(rs1), rs1 += Imm
    ("cv.lh", "LPI"): ({"rs1"}, ("rd", "rs1"), "load", "base", 2),
    # cv.lbu rD, (rs1!), rs2: rD = Mem8(rs1), rs1 += rs2
    ("cv.lbu", "LPR"): ({"rs1", "rs2"}, ("rd", "rs1"), "load", "base", 1),
    # cv.lw rD, rs2(rs1): rD = Mem32(rs1 + rs2)
    ("cv.lw", "LRR"): ({"rs1", "rs2"}, ("rd",), "load", "rs2", 4),
    # cv.sh rs2, Imm(rs1!): Mem16(rs1) = rs2, rs1 += Imm
    ("cv.sh", "SPI"): ({"rs1", "rs2"}, ("rs1",), "store", "base", 2),
    # cv.sw rs2, (rs1!), rs3: Mem32(rs1) = rs2, rs1 += rs3
    ("cv.sw", "SPR"): ({"rs1", "rs2", "rs3"}, ("rs1",), "store", "base", 4),
    # cv.sb rs2, rs3(rs1): Mem8(rs1 + rs3) = rs2
    ("cv.sb", "SRR"): ({"rs1", "rs2", "rs3"}, (), "store", "rs3", 1),
    # cv.elw rD, Imm(rs1): a word load from the event unit
    ("cv.elw", "L"): ({"rs1"}, ("rd",), "load", "imm", 4),
    # cv.mac rD, rs1, rs2: rD += rs1 * rs2; cv.sdotsp.b: rD += dot(rs1, rs2)
    ("cv.mac", "R"): ({"rs1", "rs2", "rd"}, ("rd",), "", "", 0),
    ("cv.sdotsp.b", "R"): ({"rs1", "rs2", "rd"}, ("rd",), "", "", 0),
    ("cv.dotsp.b", "R"): ({"rs1", "rs2"}, ("rd",), "", "", 0),
    # cv.addNr rD, rs1, rs2: rD = (rD + rs1) >>> rs2[4:0]
    ("cv.addnr", "R"): ({"rs1", "rs2", "rd"}, ("rd",), "", "", 0),
    # cv.insert rD, rs1, Is3, Is2: bits of rs1 into rD
    ("cv.insert", "BM2"): ({"rs1", "rd"}, ("rd",), "", "", 0),
    ("cv.extract", "BM2"): ({"rs1"}, ("rd",), "", "", 0),
    # cv.packhi.b rD, rs1, rs2: the two upper bytes of rD, the lower kept
    ("cv.packhi.b", "R"): ({"rs1", "rs2", "rd"}, ("rd",), "", "", 0),
    ("cv.pack", "R"): ({"rs1", "rs2"}, ("rd",), "", "", 0),
    ("cv.setup", "HS"): ({"rs1"}, (), "", "", 0),
    # RVC
    ("c.li", "CI"): (set(), ("rd",), "", "", 0),
    ("c.addi", "CI"): ({"rs1"}, ("rd",), "", "", 0),
    ("c.mv", "CR"): ({"rs2"}, ("rd",), "", "", 0),
    ("c.add", "CR"): ({"rs1", "rs2"}, ("rd",), "", "", 0),
    ("c.jalr", "CR1"): ({"rs1"}, ("ra",), "", "", 0),
    ("c.jr", "CR1"): ({"rs1"}, (), "", "", 0),
    ("c.jal", "CJ"): (set(), ("ra",), "", "", 0),
    ("c.lwsp", "CLWSP"): ({"rs1"}, ("rd",), "load", "", 4),
    ("c.swsp", "CSS"): ({"rs1", "rs2"}, (), "store", "", 4),
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=[f"{n}/{f}" for n, f in EXPECTED])
def test_roles_match_the_manual(key):
    row = next(r for r in ROWS if (r.name, r.fmt) == key)
    reads, writes, mem, address, size = EXPECTED[key]
    o = row.operands
    assert (set(o.reads), o.writes, o.mem, o.address, row.size) == (reads, writes, mem, address, size)


def test_every_memory_instruction_has_a_size_and_only_those():
    for r in ROWS:
        assert (r.size in (1, 2, 4)) == bool(r.operands.mem), r.name
