"""What GDB sees of a hart: its registers, described once (name, GDB group) and
read/written here, and the target description XML built from that list.

Remote register numbers: x0-x31 are 0-31, pc is 32 (the `g` packet carries these
33), then the CSRs and the hardware-loop registers in the order of `REGISTERS`
(GDB fetches those one by one with `p`). GDB's RISC-V support finds the CPU and
CSR registers by name in the features `org.gnu.gdb.riscv.cpu` and
`org.gnu.gdb.riscv.csr`; the hardware-loop registers are in a feature of our own,
so `p $lpcount0` works without GDB knowing the CORE-V extension.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import machine as mm
from ..isa import ABI

GPR_COUNT = 32
PC = 32
G_PACKET_REGS = 33


@dataclass(frozen=True)
class Register:
    name: str
    feature: str          # "cpu", "csr" or "hwloop"
    type: str = "int"     # GDB type: int, code_ptr, data_ptr


# The CSRs GDB shows; their values come from the hart (see read_register).
CSRS = ("mstatus", "mtvec", "mepc", "mcause", "mcycle", "minstret", "mhartid", "mie", "mip", "mscratch")
HWLOOP = tuple(f"{what}{i}" for i in (0, 1) for what in ("lpstart", "lpend", "lpcount"))

REGISTERS: tuple[Register, ...] = (
    tuple(Register(ABI[i], "cpu", "code_ptr" if i == 1 else "data_ptr" if i in (2, 8) else "int")
          for i in range(GPR_COUNT))
    + (Register("pc", "cpu", "code_ptr"),)
    + tuple(Register(n, "csr", "code_ptr" if n in ("mtvec", "mepc") else "int") for n in CSRS)
    + tuple(Register(n, "hwloop", "code_ptr" if not n.startswith("lpcount") else "int") for n in HWLOOP))
BY_NAME = {r.name: n for n, r in enumerate(REGISTERS)}

FEATURES = {"cpu": "org.gnu.gdb.riscv.cpu", "csr": "org.gnu.gdb.riscv.csr", "hwloop": "org.pulp.iss.hwloop"}

# The machine-mode CSRs live in the hart's model of machine mode (iss/machine.py),
# which is what the program's csrr/csrw see; Unicorn's own copies are never used.
_MACHINE_CSR = {"mstatus": mm.MSTATUS, "mtvec": mm.MTVEC, "mepc": mm.MEPC, "mcause": mm.MCAUSE,
                "mie": mm.MIE, "mip": mm.MIP, "mscratch": mm.MSCRATCH}


def target_xml() -> str:
    """The target description GDB asks for with qXfer:features:read:target.xml."""
    out = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', "<target>",
           "<architecture>riscv:rv32</architecture>"]
    for key, feature in FEATURES.items():
        out.append(f'<feature name="{feature}">')
        for n, r in enumerate(REGISTERS):
            if r.feature == key:
                group = ' group="general"' if key == "cpu" else ' group="system"'
                out.append(f'<reg name="{r.name}" bitsize="32" regnum="{n}" type="{r.type}"{group}/>')
        out.append("</feature>")
    out.append("</target>")
    return "\n".join(out) + "\n"


def read_register(hart, n: int) -> int:
    """Register `n` (remote numbering) of `hart`, as the program would read it."""
    if n < GPR_COUNT:
        return hart.reg(n)
    if n == PC:
        return hart.pc
    name = REGISTERS[n].name
    if name == "mcycle":
        return hart.cycles & 0xFFFFFFFF
    if name == "minstret":
        return hart.instret & 0xFFFFFFFF
    if name == "mhartid":
        return hart.mhartid
    if name in _MACHINE_CSR:
        return hart.machine.read(_MACHINE_CSR[name])
    loops = hart.isa.state
    field = {"lpstart": loops.lp_start, "lpend": loops.lp_end, "lpcount": loops.lp_count}[name[:-1]]
    return int(field[int(name[-1])])


def write_register(hart, n: int, value: int) -> None:
    value &= 0xFFFFFFFF
    if n < GPR_COUNT:
        hart.set_reg(n, value)
        return
    if n == PC:
        hart.pc = value
        return
    name = REGISTERS[n].name
    if name == "mcycle":
        # The counter keeps its upper half, as csrw mcycle does.
        hart.native.cycles = (hart.native.cycles & ~0xFFFFFFFF) | value
    elif name == "minstret":
        hart.native.instret = (hart.native.instret & ~0xFFFFFFFF) | value
    elif name == "mhartid":
        raise ValueError("mhartid is read-only")
    elif name in _MACHINE_CSR:
        # mip shows the lines raised now and is read-only; the others are
        # legalised (WARL) as a csrw would do.
        if name == "mip" or not hart.machine.write(_MACHINE_CSR[name], value):
            raise ValueError(f"{name} is read-only")
    else:
        loops = hart.isa.state
        field = {"lpstart": loops.lp_start, "lpend": loops.lp_end, "lpcount": loops.lp_count}[name[:-1]]
        field[int(name[-1])] = value


def register_count() -> int:
    return len(REGISTERS)
