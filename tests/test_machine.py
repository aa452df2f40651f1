"""Machine mode as on the CV32E40P (iss/machine.py): CSRs, exceptions, mret,
interrupts from the event unit and the cluster timer. Expected values come from
the CV32E40P user manual ("Control and Status Registers", "Exceptions and
Interrupts") and from cycle counts worked out by hand."""
from __future__ import annotations

import pytest

from iss import Cluster
from iss.machine import IRQ_LINES, Machine, highest_priority

MPP_M = 3 << 11
MIE, MPIE = 1 << 3, 1 << 7


def sym(cluster, name, dtype="uint32"):
    return cluster.read_symbol(name, dtype)


# ------------------------------------------------------------------ CSR rules
def test_csr_rules_from_the_manual():
    lines = [0]
    m = Machine(0x25, lambda: lines[0], lambda: {"start": [1, 2], "end": [3, 4], "count": [5, 6]})
    assert m.read(0x300) == MPP_M                      # MPP hard-wired to M, MIE/MPIE 0 out of reset
    assert m.write(0x300, 0xFFFFFFFF) and m.read(0x300) == MPP_M | MIE | MPIE
    assert m.write(0x305, 0x1C000123) and m.read(0x305) == 0x1C000101   # base 256-aligned, MODE bit 0
    assert m.write(0x343, 5) and m.read(0x343) == 0    # mtval: hard-wired zero
    assert m.write(0x341, 0x1C000003) and m.read(0x341) == 0x1C000002
    assert m.write(0x304, 0xFFFFFFFF) and m.read(0x304) == IRQ_LINES
    assert IRQ_LINES & 0x8F == 0x88 and IRQ_LINES >> 16 == 0xFFFF   # 3, 7, 11, 16-31 (and PULP's 8-15)
    lines[0] = 0xFFFFFFFF
    assert m.read(0x344) == IRQ_LINES                  # mip: the lines the core has
    assert m.read(0x301) == 0x40801104                 # RV32 I M C X
    assert (m.read(0xF11), m.read(0xF12), m.read(0xF14)) == (0x602, 4, 0x25)
    assert not m.write(0xF11, 0) and not m.write(0xC00, 0)   # read-only CSRs: illegal
    assert m.read(0x7C0) is None and not m.write(0x7C0, 1)    # no such CSR: illegal
    assert [m.read(0xCC0 + i) for i in range(6)] == [1, 3, 5, 2, 4, 6]


def test_interrupt_priority_is_the_manuals():
    """31..16, then 11, 3, 7 (timer last); PULP's 8-15 by id in between."""
    assert highest_priority((1 << 7) | (1 << 3)) == 3
    assert highest_priority((1 << 7) | (1 << 3) | (1 << 11)) == 11
    assert highest_priority((1 << 16) | (1 << 31) | (1 << 11)) == 31
    assert highest_priority((1 << 10) | (1 << 11) | (1 << 8)) == 11
    assert highest_priority(1 << 7) == 7 and highest_priority(0) is None


def test_trap_entry_and_mret():
    m = Machine(0, lambda: 0, lambda: {})
    m.write(0x305, 0x1C000201)                         # vectored
    m.write(0x300, MIE)
    assert m.enter(2, 0x1C000010) == 0x1C000200       # exceptions: the base
    assert (m.mepc, m.mcause, m.mstatus) == (0x1C000010, 2, MPP_M | MPIE)
    assert m.mret() == 0x1C000010 and m.mstatus == MPP_M | MIE | MPIE
    assert m.enter((1 << 31) | 10, 0x1C000020) == 0x1C000200 + 40   # interrupt 10: base + 4 x 10
    m.write(0x305, 0x1C000200)                         # direct
    assert m.enter((1 << 31) | 10, 0x1C000020) == 0x1C000200


# ------------------------------------------------------------------ exceptions
def test_each_exception_cause_with_its_csr_values(fw):
    """ecall 11, ebreak and c.ebreak 3, illegal 2 (c.unimp, a CSR the core lacks,
    a write to a read-only CSR, an F instruction without FPU, an undefined CORE-V
    encoding): mepc at the instruction, MIE saved in MPIE, MPP = M, mtval 0; the
    undefined CORE-V instruction changed no register."""
    c = Cluster(fw("mmode_exceptions"))
    r = c.run()
    names = ["at_ecall", "at_ebreak", "at_cebreak", "at_illegal", "at_nocsr", "at_rocsr", "at_flw", "at_corev",
             "at_ecall_mie"]
    causes = [11, 3, 3, 2, 2, 2, 2, 2, 11]
    assert r.exit_code == len(names)
    assert list(sym(c, "log_epc")[:len(names)]) == [c.program.symbol(n).addr for n in names]
    assert list(sym(c, "log_cause")[:len(names)]) == causes
    assert list(sym(c, "log_mstatus")[:len(names)]) == [MPP_M] * 8 + [MPP_M | MPIE]
    assert not sym(c, "log_mtval").any()
    assert sym(c, "mstatus_after_enabled")[0] == MPP_M | MPIE | MIE     # mret restored MIE
    assert (sym(c, "corev_a0")[0], sym(c, "corev_a1")[0]) == (0x1234, 0x5678)
    assert c.harts[0].traps == len(names)
