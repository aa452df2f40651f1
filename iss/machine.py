"""Machine mode of the CV32E40P (user manual, "Control and Status Registers" and
"Exceptions and Interrupts"): the CSRs, trap entry, mret, interrupt priority.

Unicorn's own trap machinery is not used (it runs the guest without M-mode
CSRs and never enters the guest's vector): the hart finds every
CSR instruction, mret and ebreak of the program at load time and executes them
through this model; ecall and illegal instructions reach it from the native
executor's stops. One `Machine` per hart.

CSRs (anything else, and a write to a read-only CSR, is an illegal instruction,
as on the core):

=================  =======  =====================================================
CSR                address  behaviour
=================  =======  =====================================================
mstatus            0x300    MIE (3), MPIE (7); MPP (12:11) reads 3 (M-mode only)
misa               0x301    RV32IMC + X (non-standard extensions); writes ignored
mie                0x304    enable per line (the lines of IRQ_LINES)
mtvec              0x305    base 31:8 (256-byte aligned), MODE bit 0 (1: vectored)
mcountinhibit      0x320    reads 0, writes ignored (the counters always count)
mhpmevent3..31     0x323+   event k-3 of iss/timing/perf.py (fixed), writes ignored
mscratch           0x340    read/write
mepc               0x341    read/write (bit 0 reads 0)
mcause             0x342    interrupt bit 31, code 4:0
mtval              0x343    reads 0, writes ignored (hard-wired zero on this core)
mip                0x344    the lines raised now (read-only)
counters           0xB00+   mcycle, minstret, mhpmcounterN (+h), cycle, instret (hart.py)
lpstart/lpend/     0xCC0-   the hardware-loop registers (read-only, CORE-V v2)
lpcount 0/1        0xCC5
uhartid, privlv    0xCD0-1  mhartid; 3 (machine mode)
mvendorid ..       0xF11-4  0x602 (OpenHW), marchid 4 (CV32E40P), mimpid 0, mhartid
=================  =======  =====================================================

Interrupt lines: the CV32E40P has 3 (MSI), 7 (MTI), 11 (MEI) and 16-31. On the
PULP cluster the event unit presents its event number as the interrupt id, so
the DMA (8, 9), timer (10, 11) and accelerator (12-15) events are lines too:
this model implements 8-15 as well (a deviation from the CV32E40P, which ties
them off; GVSoC's PULP cores accept them the same way). Priority: the highest
id first, except the machine timer interrupt (7), which is last: 31..8, 3, 7.
"""
from __future__ import annotations

MSTATUS, MISA, MIE, MTVEC, MCOUNTINHIBIT = 0x300, 0x301, 0x304, 0x305, 0x320
MSCRATCH, MEPC, MCAUSE, MTVAL, MIP = 0x340, 0x341, 0x342, 0x343, 0x344
MVENDORID, MARCHID, MIMPID, MHARTID = 0xF11, 0xF12, 0xF13, 0xF14
UHARTID, PRIVLV = 0xCD0, 0xCD1
HWLOOP_CSRS = {0xCC0: ("start", 0), 0xCC1: ("end", 0), 0xCC2: ("count", 0),
               0xCC3: ("start", 1), 0xCC4: ("end", 1), 0xCC5: ("count", 1)}
MHPMEVENT = range(0x323, 0x340)

MSTATUS_MIE = 1 << 3
MSTATUS_MPIE = 1 << 7
MSTATUS_MPP = 3 << 11          # hard-wired to machine mode
INTERRUPT = 1 << 31

CAUSE_ILLEGAL = 2
CAUSE_BREAKPOINT = 3
CAUSE_ECALL = 11

MISA_VALUE = (1 << 30) | (1 << 23) | (1 << 12) | (1 << 8) | (1 << 2)   # MXL=32, X, M, I, C
MVENDORID_VALUE = 0x602        # OpenHW Group (JEDEC bank 13, id 2)
MARCHID_VALUE = 4              # CV32E40P
MIMPID_VALUE = 0

# Lines the core implements (see the module docstring).
IRQ_LINES = (0xFFFF << 16) | (0xFF << 8) | (1 << 7) | (1 << 3)
PRIORITY = [line for line in range(31, 7, -1)] + [3, 7]

CAUSE_NAMES = {CAUSE_ILLEGAL: "illegal instruction", CAUSE_BREAKPOINT: "breakpoint", CAUSE_ECALL: "ecall"}


def highest_priority(lines: int) -> int | None:
    """The line taken first among `lines` (a mask), or None."""
    for line in PRIORITY:
        if lines >> line & 1:
            return line
    return None


class Machine:
    """The machine-mode state of one hart. `lines()` returns the interrupt lines
    raised for this core now (the event unit's IRQ-masked events); `hwloops()`
    the hardware-loop registers ({"start": [..], "end": [..], "count": [..]})."""

    def __init__(self, mhartid: int, lines, hwloops):
        self.mhartid = mhartid
        self._lines = lines
        self._hwloops = hwloops
        self.mstatus = MSTATUS_MPP
        self.mie = 0
        self.mtvec = 0             # 0: no vector installed (out of reset, before crt0)
        self.mscratch = 0
        self.mepc = 0
        self.mcause = 0

    # -- CSR access -------------------------------------------------------------
    @property
    def mip(self) -> int:
        return self._lines() & IRQ_LINES

    def read(self, csr: int) -> int | None:
        """The CSR's value, or None if the core has no such CSR."""
        if csr == MSTATUS:
            return self.mstatus
        if csr == MIE:
            return self.mie
        if csr == MTVEC:
            return self.mtvec
        if csr == MSCRATCH:
            return self.mscratch
        if csr == MEPC:
            return self.mepc
        if csr == MCAUSE:
            return self.mcause
        if csr == MIP:
            return self.mip
        if csr in (MTVAL, MCOUNTINHIBIT, MIMPID):
            return 0
        if csr in MHPMEVENT:
            return 1 << (csr - MHPMEVENT.start)
        if csr == MISA:
            return MISA_VALUE
        if csr == MVENDORID:
            return MVENDORID_VALUE
        if csr == MARCHID:
            return MARCHID_VALUE
        if csr in (MHARTID, UHARTID):
            return self.mhartid
        if csr == PRIVLV:
            return 3
        if csr in HWLOOP_CSRS:
            field, level = HWLOOP_CSRS[csr]
            return self._hwloops()[field][level] & 0xFFFFFFFF
        return None

    def write(self, csr: int, value: int) -> bool:
        """Write a CSR (WARL fields legalised); False if the write is illegal
        (no such CSR, or a read-only one: addresses 0xC00-0xFFF are read-only)."""
        value &= 0xFFFFFFFF
        if self.read(csr) is None or (csr >> 10) == 3:
            return False
        if csr == MSTATUS:
            self.mstatus = (value & (MSTATUS_MIE | MSTATUS_MPIE)) | MSTATUS_MPP
        elif csr == MIE:
            self.mie = value & IRQ_LINES
        elif csr == MTVEC:
            self.mtvec = (value & ~0xFF) | (value & 1)
        elif csr == MSCRATCH:
            self.mscratch = value
        elif csr == MEPC:
            self.mepc = value & ~1
        elif csr == MCAUSE:
            self.mcause = value & (INTERRUPT | 0x1F)
        # misa, mtval, mip, mcountinhibit, mhpmevent: writes are ignored (WARL/read-only bits)
        return True

    # -- traps --------------------------------------------------------------------
    @property
    def handler_installed(self) -> bool:
        return self.mtvec != 0

    def enter(self, cause: int, epc: int) -> int:
        """Take a trap: save the PC and MIE, disable interrupts; returns the
        handler address (the base for exceptions and in direct mode, base +
        4 x id for an interrupt in vectored mode)."""
        self.mepc = epc & ~1
        self.mcause = cause
        mpie = MSTATUS_MPIE if self.mstatus & MSTATUS_MIE else 0
        self.mstatus = mpie | MSTATUS_MPP
        base = self.mtvec & ~0xFF
        if cause & INTERRUPT and self.mtvec & 1:
            return base + 4 * (cause & 0x1F)
        return base

    def mret(self) -> int:
        """Return from a trap: MIE from MPIE, MPIE set; returns mepc."""
        mie = MSTATUS_MIE if self.mstatus & MSTATUS_MPIE else 0
        self.mstatus = mie | MSTATUS_MPIE | MSTATUS_MPP
        return self.mepc

    @property
    def interrupts_enabled(self) -> bool:
        return bool(self.mstatus & MSTATUS_MIE) and bool(self.mie)

    def pending_interrupt(self) -> int | None:
        """The line to take now (enabled globally and in mie, raised), or None."""
        if not self.mstatus & MSTATUS_MIE or not self.mie:
            return None
        return highest_priority(self.mip & self.mie)

    def wakes_from_wfi(self) -> bool:
        """wfi ends when a line enabled in mie is raised, whatever mstatus.MIE."""
        return bool(self.mie and self.mip & self.mie)


def describe_unhandled(cause: int, word: int | None = None) -> str:
    """The error for a trap that reached no handler (the runtime's default vector)."""
    if cause & INTERRUPT:
        return f"interrupt {cause & 0x1F} with no handler registered (pi_irq_handler_set)"
    if cause == CAUSE_ILLEGAL:
        w = "" if word is None else f" 0x{(word if word & 3 == 3 else word & 0xFFFF):08x}"
        return f"illegal instruction{w}"
    if cause == CAUSE_BREAKPOINT:
        return "breakpoint (ebreak) with no trap handler installed"
    if cause == CAUSE_ECALL:
        return "unexpected ecall (no trap handler installed)"
    return f"trap with mcause 0x{cause:08x} and no handler installed"
