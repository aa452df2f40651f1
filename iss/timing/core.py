"""CV32E40P instruction costs that follow from the instruction alone (the
"pipeline" chapter of the user manual). Costs that depend on what happens at run
time (taken branches, load-use stalls, memory contention) are added elsewhere.
"""
from __future__ import annotations

OP_JAL, OP_JALR, OP_OP = 0x6F, 0x67, 0x33


def instruction_cost(word: int, length: int) -> int:
    """Base cycles of one instruction, given its encoding."""
    if length == 2:
        op, funct3 = word & 3, word >> 13
        if op == 1 and funct3 in (1, 5):          # c.jal, c.j
            return 2
        if op == 2 and funct3 == 4 and (word >> 2) & 31 == 0 and (word >> 7) & 31:  # c.jr, c.jalr
            return 2
        return 1
    opcode = word & 0x7F
    if opcode in (OP_JAL, OP_JALR):
        return 2
    if opcode == OP_OP and word >> 25 == 1:        # RV32M
        funct3 = (word >> 12) & 7
        if funct3 in (1, 2, 3):                    # mulh, mulhsu, mulhu
            return 5
        if funct3 >= 4:                            # div, divu, rem, remu: the minimum
            return 3
    return 1
