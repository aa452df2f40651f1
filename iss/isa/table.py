"""The one decode table: RV32IMAC + Zicsr (for disassembly and costs; Unicorn executes
them) and every CORE-V v2 instruction (xcvalu, xcvmac, xcvsimd, xcvmem, xcvbi,
xcvbitmanip, xcvelw, xcvhwlp) that the native executor (iss/native/corev.c) runs.

Each row: mnemonic, mask, match, operand format, extension, cost class, and the
operand roles its format declares (`FORMATS`, as GVSoC's OutReg/InReg/
Indirect(postInc)): the register fields it reads and writes, whether and how it
touches memory, and the access size. Decode extracts the fields; the cycle
model's dependencies (iss/timing/core.py) and the trace's registers and
addresses (iss/trace/native.py) derive from the roles. Op ids are
the row positions (starting at 1; 0 means "no instruction"); the C enum in
iss/native/corev_ops.h is generated from this table (`python -m iss.isa.gen`) and a
test regenerates it and compares, so the two cannot drift.

Encodings are those of the toolchain (LLVM RISCVInstrInfoXCV.td as shipped in the
ziglang wheel's clang, checked by assembling every mnemonic, see tests/test_corev.py);
the hardware loops, which that assembler lacks, follow the CV32E40P v2 user manual
(opcode 0x2B, funct3 100, funct4 in bits 11:8, loop index L in bit 7, uimmL in
31:20, rs1 / uimmS in 19:15).
"""
from __future__ import annotations

from dataclasses import dataclass

# Cost classes: base cycles on a CV32E40P (user manual, "Pipeline Details": the
# instruction timing table). Dynamic extras (taken branch +2, misaligned access +1, load-use +1,
# data-dependent division) are applied by the executor or the timing model.
COST_CYCLES = {
    "alu": 1, "mul": 1, "mulh": 5, "div": 3, "load": 1, "store": 1, "branch": 1,
    "jump": 2, "csr": 1, "system": 1, "fence": 1, "amo": 2, "elw": 4, "hwlp": 1,
    "simd": 1, "dot": 1, "mac": 1,
}


@dataclass(frozen=True)
class Operands:
    """What an instruction does with its operand fields."""
    reads: tuple = ()       # register fields read: "rs1", "rs2", "rs3" (register-offset stores), "rd" (accumulators)
    writes: tuple = ()      # register fields written, first the result: "rd", "rs1" (post-increment base), "ra" (x1)
    mem: str = ""           # "load", "store", "amo" (read and write) or ""
    address: str = ""       # how a CORE-V access forms its address: "base" (post-increment: at rs1), "rs2"/"rs3"
                            # (rs1 + that register), "imm" (rs1 + imm); "" for the standard forms


_RD = ("rd",)
FORMATS = {
    # RV32 and CORE-V 32-bit formats (iss/isa/decode.py extracts their fields)
    "R": Operands(("rs1", "rs2"), _RD), "R1": Operands(("rs1",), _RD), "RI5": Operands(("rs1",), _RD),
    "RRI5": Operands(("rs1", "rs2"), _RD), "BM2": Operands(("rs1",), _RD), "SI6": Operands(("rs1",), _RD),
    "UI6": Operands(("rs1",), _RD), "I": Operands(("rs1",), _RD), "ISH": Operands(("rs1",), _RD),
    "U": Operands((), _RD), "J": Operands((), _RD), "JR": Operands(("rs1",), _RD),
    "B": Operands(("rs1", "rs2")), "BI": Operands(("rs1",)),
    "L": Operands(("rs1",), _RD, "load"), "S": Operands(("rs1", "rs2"), (), "store"),
    "LPI": Operands(("rs1",), ("rd", "rs1"), "load", "base"),
    "LPR": Operands(("rs1", "rs2"), ("rd", "rs1"), "load", "base"),
    "LRR": Operands(("rs1", "rs2"), _RD, "load", "rs2"),
    "SPI": Operands(("rs1", "rs2"), ("rs1",), "store", "base"),
    "SPR": Operands(("rs1", "rs2", "rs3"), ("rs1",), "store", "base"),
    "SRR": Operands(("rs1", "rs2", "rs3"), (), "store", "rs3"),
    "AMO": Operands(("rs1", "rs2"), _RD, "amo"), "LR": Operands(("rs1",), _RD, "load"),
    "CSR": Operands(("rs1",), _RD), "CSRI": Operands((), _RD), "N": Operands(), "FENCE": Operands(),
    "HI": Operands(), "HR": Operands(("rs1",)), "HSI": Operands(), "HS": Operands(("rs1",)),
    # RVC (decode puts rd/rs1 of the two-operand forms in both fields)
    "CIW": Operands(("rs1",), _RD), "CL": Operands(("rs1",), _RD, "load"), "CS": Operands(("rs1", "rs2"), (), "store"),
    "CN": Operands(), "CI": Operands(("rs1",), _RD), "CISH": Operands(("rs1",), _RD), "CJ": Operands(),
    "C16SP": Operands(("rs1",), _RD), "CLUI": Operands((), _RD), "CBSH": Operands(("rs1",), _RD),
    "CBI": Operands(("rs1",), _RD), "CA": Operands(("rs1", "rs2"), _RD), "CB": Operands(("rs1",)),
    "CLWSP": Operands(("rs1",), _RD, "load"), "CSS": Operands(("rs1", "rs2"), (), "store"),
    "CR1": Operands(("rs1",)), "CR": Operands(("rs1", "rs2"), _RD),
}
# Bytes a load or store moves, by mnemonic without the cv./c. prefix and sp suffix
# (AMOs, lr.w, sc.w and cv.elw move a word).
ACCESS_BYTES = {"lb": 1, "lbu": 1, "sb": 1, "lh": 2, "lhu": 2, "sh": 2, "lw": 4, "sw": 4}


@dataclass(frozen=True)
class Row:
    name: str
    mask: int
    match: int
    fmt: str
    ext: str
    cost: str
    op: int = 0
    length: int = 4
    operands: Operands = Operands()
    size: int = 0           # bytes accessed (memory instructions)


_rows: list[Row] = []


def _add(name, mask, match, fmt, ext, cost, length=4):
    _rows.append(Row(name, mask, match, fmt, ext, cost, 0, length))


# --------------------------------------------------------------------------- CORE-V
# custom-0 (0x0B): post-increment loads (reg-imm), cv.elw, immediate branches
OPC_C0, OPC_C1, OPC_C2, OPC_C3 = 0x0B, 0x2B, 0x5B, 0x7B
M_F3 = 0x707F            # funct3 + opcode
M_F7F3 = 0xFE00707F      # funct7 + funct3 + opcode
M_F7F3_RS2 = 0xFFF0707F  # ... and rs2 == 0
M_F2F3 = 0xC000707F      # funct2 (31:30) + funct3 + opcode


def _f3(f3, opc):
    return (f3 << 12) | opc


def _f7(f7, f3, opc):
    return (f7 << 25) | (f3 << 12) | opc


for nm, f3 in (("cv.lb", 0), ("cv.lh", 1), ("cv.lw", 2), ("cv.lbu", 4), ("cv.lhu", 5)):
    _add(nm, M_F3, _f3(f3, OPC_C0), "LPI", "xcvmem", "load")
_add("cv.elw", M_F3, _f3(3, OPC_C0), "L", "xcvelw", "elw")
_add("cv.beqimm", M_F3, _f3(6, OPC_C0), "BI", "xcvbi", "branch")
_add("cv.bneimm", M_F3, _f3(7, OPC_C0), "BI", "xcvbi", "branch")

# custom-1 (0x2B): stores with post-increment (reg-imm), funct3=011 R-type group,
# funct3=100 hardware loops
for nm, f3 in (("cv.sb", 0), ("cv.sh", 1), ("cv.sw", 2)):
    _add(nm, M_F3, _f3(f3, OPC_C1), "SPI", "xcvmem", "store")

_R011 = [
    # loads, register post-increment / register-register
    ("cv.lb", 0b0000000, "LPR", "xcvmem", "load"), ("cv.lbu", 0b0001000, "LPR", "xcvmem", "load"),
    ("cv.lh", 0b0000001, "LPR", "xcvmem", "load"), ("cv.lhu", 0b0001001, "LPR", "xcvmem", "load"),
    ("cv.lw", 0b0000010, "LPR", "xcvmem", "load"),
    ("cv.lb", 0b0000100, "LRR", "xcvmem", "load"), ("cv.lbu", 0b0001100, "LRR", "xcvmem", "load"),
    ("cv.lh", 0b0000101, "LRR", "xcvmem", "load"), ("cv.lhu", 0b0001101, "LRR", "xcvmem", "load"),
    ("cv.lw", 0b0000110, "LRR", "xcvmem", "load"),
    ("cv.sb", 0b0010000, "SPR", "xcvmem", "store"), ("cv.sh", 0b0010001, "SPR", "xcvmem", "store"),
    ("cv.sw", 0b0010010, "SPR", "xcvmem", "store"),
    ("cv.sb", 0b0010100, "SRR", "xcvmem", "store"), ("cv.sh", 0b0010101, "SRR", "xcvmem", "store"),
    ("cv.sw", 0b0010110, "SRR", "xcvmem", "store"),
    # bit manipulation, register forms
    ("cv.extractr", 0b0011000, "R", "xcvbitmanip", "alu"), ("cv.extractur", 0b0011001, "R", "xcvbitmanip", "alu"),
    ("cv.insertr", 0b0011010, "R", "xcvbitmanip", "alu"), ("cv.bclrr", 0b0011100, "R", "xcvbitmanip", "alu"),
    ("cv.bsetr", 0b0011101, "R", "xcvbitmanip", "alu"), ("cv.ror", 0b0100000, "R", "xcvbitmanip", "alu"),
    ("cv.ff1", 0b0100001, "R1", "xcvbitmanip", "alu"), ("cv.fl1", 0b0100010, "R1", "xcvbitmanip", "alu"),
    ("cv.clb", 0b0100011, "R1", "xcvbitmanip", "alu"), ("cv.cnt", 0b0100100, "R1", "xcvbitmanip", "alu"),
    # general ALU
    ("cv.abs", 0b0101000, "R1", "xcvalu", "alu"), ("cv.sle", 0b0101001, "R", "xcvalu", "alu"),
    ("cv.sleu", 0b0101010, "R", "xcvalu", "alu"), ("cv.min", 0b0101011, "R", "xcvalu", "alu"),
    ("cv.minu", 0b0101100, "R", "xcvalu", "alu"), ("cv.max", 0b0101101, "R", "xcvalu", "alu"),
    ("cv.maxu", 0b0101110, "R", "xcvalu", "alu"),
    ("cv.exths", 0b0110000, "R1", "xcvalu", "alu"), ("cv.exthz", 0b0110001, "R1", "xcvalu", "alu"),
    ("cv.extbs", 0b0110010, "R1", "xcvalu", "alu"), ("cv.extbz", 0b0110011, "R1", "xcvalu", "alu"),
    ("cv.clip", 0b0111000, "RI5", "xcvalu", "alu"), ("cv.clipu", 0b0111001, "RI5", "xcvalu", "alu"),
    ("cv.clipr", 0b0111010, "R", "xcvalu", "alu"), ("cv.clipur", 0b0111011, "R", "xcvalu", "alu"),
    ("cv.addnr", 0b1000000, "R", "xcvalu", "alu"), ("cv.addunr", 0b1000001, "R", "xcvalu", "alu"),
    ("cv.addrnr", 0b1000010, "R", "xcvalu", "alu"), ("cv.addurnr", 0b1000011, "R", "xcvalu", "alu"),
    ("cv.subnr", 0b1000100, "R", "xcvalu", "alu"), ("cv.subunr", 0b1000101, "R", "xcvalu", "alu"),
    ("cv.subrnr", 0b1000110, "R", "xcvalu", "alu"), ("cv.suburnr", 0b1000111, "R", "xcvalu", "alu"),
    ("cv.mac", 0b1001000, "R", "xcvmac", "mac"), ("cv.msu", 0b1001001, "R", "xcvmac", "mac"),
]
for nm, f7, fmt, ext, cost in _R011:
    if fmt == "R1":
        _add(nm, M_F7F3_RS2, _f7(f7, 3, OPC_C1), fmt, ext, cost)
    elif fmt == "RI5":
        _add(nm, M_F7F3, _f7(f7, 3, OPC_C1), fmt, ext, cost)
    else:
        _add(nm, M_F7F3, _f7(f7, 3, OPC_C1), fmt, ext, cost)

# hardware loops: funct3 100, funct4 = bits 11:8, L = bit 7; unused fields must be 0
_HW = [("cv.starti", 0, "HI"), ("cv.start", 1, "HR"), ("cv.endi", 2, "HI"), ("cv.end", 3, "HR"),
       ("cv.counti", 4, "HI"), ("cv.count", 5, "HR"), ("cv.setupi", 6, "HSI"), ("cv.setup", 7, "HS")]
for nm, f4, fmt in _HW:
    mask = 0x7000 | 0xF00 | 0x7F
    if fmt == "HI":
        mask |= 0xF8000           # rs1 field 00000
    elif fmt == "HR":
        mask |= 0xFFF00000        # uimmL field 0
    _add(nm, mask, (4 << 12) | (f4 << 8) | OPC_C1, fmt, "xcvhwlp", "hwlp")

# custom-2 (0x5B): bit manipulation with immediates, addN/subN, 16-bit mul/mac
for nm, f2, f3 in (("cv.extract", 0, 0), ("cv.extractu", 1, 0), ("cv.insert", 2, 0),
                   ("cv.bclr", 0, 1), ("cv.bset", 1, 1)):
    _add(nm, M_F2F3, (f2 << 30) | _f3(f3, OPC_C2), "BM2", "xcvbitmanip", "alu")
_add("cv.bitrev", 0xF800707F, (3 << 30) | _f3(1, OPC_C2), "BM2", "xcvbitmanip", "alu")
for f3, names, ext, cost in (
        (2, ("cv.addn", "cv.addun", "cv.addrn", "cv.addurn"), "xcvalu", "alu"),
        (3, ("cv.subn", "cv.subun", "cv.subrn", "cv.suburn"), "xcvalu", "alu"),
        (4, ("cv.mulsn", "cv.mulhhsn", "cv.mulsrn", "cv.mulhhsrn"), "xcvmac", "mul"),
        (5, ("cv.mulun", "cv.mulhhun", "cv.mulurn", "cv.mulhhurn"), "xcvmac", "mul"),
        (6, ("cv.macsn", "cv.machhsn", "cv.macsrn", "cv.machhsrn"), "xcvmac", "mac"),
        (7, ("cv.macun", "cv.machhun", "cv.macurn", "cv.machhurn"), "xcvmac", "mac")):
    for f2, nm in enumerate(names):
        _add(nm, M_F2F3, (f2 << 30) | _f3(f3, OPC_C2), "RRI5", ext, cost)

# custom-3 (0x7B): SIMD. funct5 = 31:27, F = 26, funct1 = 25 (or imm6[0] in .sci forms)


def _simd(f5, F, f1, f3):
    return (f5 << 27) | (F << 26) | (f1 << 25) | (f3 << 12) | OPC_C3


M_SIMD_RR = 0xFE00707F
M_SIMD_R1 = 0xFFF0707F
M_SIMD_RI = 0xFC00707F


def _simd_family(base, f5, F, imm_fmt, cost="simd"):
    for suffix, f3 in ((".h", 0), (".b", 1), (".sc.h", 4), (".sc.b", 5)):
        _add(f"cv.{base}{suffix}", M_SIMD_RR, _simd(f5, F, 0, f3), "R", "xcvsimd", cost)
    for suffix, f3 in ((".sci.h", 6), (".sci.b", 7)):
        _add(f"cv.{base}{suffix}", M_SIMD_RI, _simd(f5, F, 0, f3), imm_fmt, "xcvsimd", cost)


for base, f5, fmt in (("add", 0, "SI6"), ("sub", 1, "SI6"), ("avg", 2, "SI6"), ("avgu", 3, "UI6"),
                      ("min", 4, "SI6"), ("minu", 5, "UI6"), ("max", 6, "SI6"), ("maxu", 7, "UI6"),
                      ("srl", 8, "UI6"), ("sra", 9, "UI6"), ("sll", 10, "UI6"), ("or", 11, "SI6"),
                      ("xor", 12, "SI6"), ("and", 13, "SI6")):
    _simd_family(base, f5, 0, fmt)
_add("cv.abs.h", M_SIMD_R1, _simd(14, 0, 0, 0), "R1", "xcvsimd", "simd")
_add("cv.abs.b", M_SIMD_R1, _simd(14, 0, 0, 1), "R1", "xcvsimd", "simd")
for base, f5, fmt in (("dotup", 16, "UI6"), ("dotusp", 17, "SI6"), ("dotsp", 18, "SI6"),
                      ("sdotup", 19, "UI6"), ("sdotusp", 20, "SI6"), ("sdotsp", 21, "SI6")):
    _simd_family(base, f5, 0, fmt, "dot")
for nm, f3 in (("cv.extract.h", 0), ("cv.extract.b", 1), ("cv.extractu.h", 2), ("cv.extractu.b", 3),
               ("cv.insert.h", 4), ("cv.insert.b", 5)):
    _add(nm, M_SIMD_RI, _simd(23, 0, 0, f3), "UI6", "xcvsimd", "simd")
_add("cv.shuffle.h", M_SIMD_RR, _simd(24, 0, 0, 0), "R", "xcvsimd", "simd")
_add("cv.shuffle.b", M_SIMD_RR, _simd(24, 0, 0, 1), "R", "xcvsimd", "simd")
_add("cv.shuffle.sci.h", M_SIMD_RI, _simd(24, 0, 0, 6), "UI6", "xcvsimd", "simd")
for k in range(4):
    _add(f"cv.shufflei{k}.sci.b", M_SIMD_RI, _simd(24 + k, 0, 0, 7), "UI6", "xcvsimd", "simd")
_add("cv.shuffle2.h", M_SIMD_RR, _simd(28, 0, 0, 0), "R", "xcvsimd", "simd")
_add("cv.shuffle2.b", M_SIMD_RR, _simd(28, 0, 0, 1), "R", "xcvsimd", "simd")
_add("cv.pack", M_SIMD_RR, _simd(30, 0, 0, 0), "R", "xcvsimd", "simd")
_add("cv.pack.h", M_SIMD_RR, _simd(30, 0, 1, 0), "R", "xcvsimd", "simd")
_add("cv.packhi.b", M_SIMD_RR, _simd(31, 0, 1, 1), "R", "xcvsimd", "simd")
_add("cv.packlo.b", M_SIMD_RR, _simd(31, 0, 0, 1), "R", "xcvsimd", "simd")
for base, f5, fmt in (("cmpeq", 0, "SI6"), ("cmpne", 1, "SI6"), ("cmpgt", 2, "SI6"), ("cmpge", 3, "SI6"),
                      ("cmplt", 4, "SI6"), ("cmple", 5, "SI6"), ("cmpgtu", 6, "UI6"), ("cmpgeu", 7, "UI6"),
                      ("cmpltu", 8, "UI6"), ("cmpleu", 9, "UI6")):
    _simd_family(base, f5, 1, fmt)
for suffix, f3 in (("", 0), (".div2", 2), (".div4", 4), (".div8", 6)):
    _add(f"cv.cplxmul.r{suffix}", M_SIMD_RR, _simd(10, 1, 0, f3), "R", "xcvsimd", "dot")
    _add(f"cv.cplxmul.i{suffix}", M_SIMD_RR, _simd(10, 1, 1, f3), "R", "xcvsimd", "dot")
_add("cv.cplxconj", M_SIMD_R1, _simd(11, 1, 0, 0), "R1", "xcvsimd", "simd")
for suffix, f3 in (("", 0), (".div2", 2), (".div4", 4), (".div8", 6)):
    _add(f"cv.subrotmj{suffix}", M_SIMD_RR, _simd(12, 1, 0, f3), "R", "xcvsimd", "simd")
for suffix, f3 in ((".div2", 2), (".div4", 4), (".div8", 6)):
    _add(f"cv.add{suffix}", M_SIMD_RR, _simd(13, 1, 0, f3), "R", "xcvsimd", "simd")
for suffix, f3 in ((".div2", 2), (".div4", 4), (".div8", 6)):
    _add(f"cv.sub{suffix}", M_SIMD_RR, _simd(14, 1, 0, f3), "R", "xcvsimd", "simd")

N_COREV = len(_rows)

# --------------------------------------------------------------------------- RV32I/M/A/Zicsr
M_OPC = 0x7F
_add("lui", M_OPC, 0x37, "U", "rv32i", "alu")
_add("auipc", M_OPC, 0x17, "U", "rv32i", "alu")
_add("jal", M_OPC, 0x6F, "J", "rv32i", "jump")
_add("jalr", M_F3, 0x67, "JR", "rv32i", "jump")
for nm, f3 in (("beq", 0), ("bne", 1), ("blt", 4), ("bge", 5), ("bltu", 6), ("bgeu", 7)):
    _add(nm, M_F3, _f3(f3, 0x63), "B", "rv32i", "branch")
for nm, f3 in (("lb", 0), ("lh", 1), ("lw", 2), ("lbu", 4), ("lhu", 5)):
    _add(nm, M_F3, _f3(f3, 0x03), "L", "rv32i", "load")
for nm, f3 in (("sb", 0), ("sh", 1), ("sw", 2)):
    _add(nm, M_F3, _f3(f3, 0x23), "S", "rv32i", "store")
for nm, f3 in (("addi", 0), ("slti", 2), ("sltiu", 3), ("xori", 4), ("ori", 6), ("andi", 7)):
    _add(nm, M_F3, _f3(f3, 0x13), "I", "rv32i", "alu")
_add("slli", M_F7F3, _f7(0, 1, 0x13), "ISH", "rv32i", "alu")
_add("srli", M_F7F3, _f7(0, 5, 0x13), "ISH", "rv32i", "alu")
_add("srai", M_F7F3, _f7(0x20, 5, 0x13), "ISH", "rv32i", "alu")
for nm, f7, f3 in (("add", 0, 0), ("sub", 0x20, 0), ("sll", 0, 1), ("slt", 0, 2), ("sltu", 0, 3),
                   ("xor", 0, 4), ("srl", 0, 5), ("sra", 0x20, 5), ("or", 0, 6), ("and", 0, 7)):
    _add(nm, M_F7F3, _f7(f7, f3, 0x33), "R", "rv32i", "alu")
for nm, f3, cost in (("mul", 0, "mul"), ("mulh", 1, "mulh"), ("mulhsu", 2, "mulh"), ("mulhu", 3, "mulh"),
                     ("div", 4, "div"), ("divu", 5, "div"), ("rem", 6, "div"), ("remu", 7, "div")):
    _add(nm, M_F7F3, _f7(1, f3, 0x33), "R", "rv32m", cost)
# imm, rs1 and rd of fence.i are reserved for finer-grained fences: base
# implementations ignore them (unprivileged spec, Zifencei)
_add("fence.i", M_F3, 0x0000100F, "N", "zifencei", "fence")
_add("fence", M_F3, 0x0F, "FENCE", "rv32i", "fence")
_add("ecall", 0xFFFFFFFF, 0x00000073, "N", "rv32i", "system")
_add("ebreak", 0xFFFFFFFF, 0x00100073, "N", "rv32i", "system")
_add("mret", 0xFFFFFFFF, 0x30200073, "N", "priv", "system")
_add("wfi", 0xFFFFFFFF, 0x10500073, "N", "priv", "system")
for nm, f3, fmt in (("csrrw", 1, "CSR"), ("csrrs", 2, "CSR"), ("csrrc", 3, "CSR"),
                    ("csrrwi", 5, "CSRI"), ("csrrsi", 6, "CSRI"), ("csrrci", 7, "CSRI")):
    _add(nm, M_F3, _f3(f3, 0x73), fmt, "zicsr", "csr")
_add("lr.w", 0xF9F0707F, (0b00010 << 27) | _f3(2, 0x2F), "LR", "rv32a", "amo")
_add("sc.w", 0xF800707F, (0b00011 << 27) | _f3(2, 0x2F), "AMO", "rv32a", "amo")
for nm, f5 in (("amoswap.w", 0b00001), ("amoadd.w", 0), ("amoxor.w", 0b00100), ("amoand.w", 0b01100),
               ("amoor.w", 0b01000), ("amomin.w", 0b10000), ("amomax.w", 0b10100),
               ("amominu.w", 0b11000), ("amomaxu.w", 0b11100)):
    _add(nm, 0xF800707F, (f5 << 27) | _f3(2, 0x2F), "AMO", "rv32a", "amo")

# --------------------------------------------------------------------------- RVC (16-bit)


def _c(name, mask, match, fmt, cost="alu"):
    _add(name, mask, match, fmt, "rv32c", cost, length=2)


_c("c.addi4spn", 0xE003, 0x0000, "CIW")
_c("c.lw", 0xE003, 0x4000, "CL", "load")
_c("c.sw", 0xE003, 0xC000, "CS", "store")
_c("c.nop", 0xFFFF, 0x0001, "CN")
_c("c.addi", 0xE003, 0x0001, "CI")
_c("c.jal", 0xE003, 0x2001, "CJ", "jump")
_c("c.li", 0xE003, 0x4001, "CI")
_c("c.addi16sp", 0xEF83, 0x6101, "C16SP")
_c("c.lui", 0xE003, 0x6001, "CLUI")
_c("c.srli", 0xEC03, 0x8001, "CBSH")
_c("c.srai", 0xEC03, 0x8401, "CBSH")
_c("c.andi", 0xEC03, 0x8801, "CBI")
_c("c.sub", 0xFC63, 0x8C01, "CA")
_c("c.xor", 0xFC63, 0x8C21, "CA")
_c("c.or", 0xFC63, 0x8C41, "CA")
_c("c.and", 0xFC63, 0x8C61, "CA")
_c("c.j", 0xE003, 0xA001, "CJ", "jump")
_c("c.beqz", 0xE003, 0xC001, "CB", "branch")
_c("c.bnez", 0xE003, 0xE001, "CB", "branch")
_c("c.slli", 0xF003, 0x0002, "CISH")
_c("c.lwsp", 0xE003, 0x4002, "CLWSP", "load")
_c("c.ebreak", 0xFFFF, 0x9002, "CN", "system")
_c("c.jr", 0xF07F, 0x8002, "CR1", "jump")
_c("c.jalr", 0xF07F, 0x9002, "CR1", "jump")
_c("c.mv", 0xF003, 0x8002, "CR")
_c("c.add", 0xF003, 0x9002, "CR")
_c("c.swsp", 0xE003, 0xC002, "CSS", "store")

def _operands(name: str, fmt: str) -> Operands:
    """The format's roles, with what single instructions do beyond them."""
    o = FORMATS[fmt]
    if name in _READ_RD:
        o = Operands(o.reads + ("rd",), o.writes, o.mem, o.address)
    if name in ("c.li",):
        o = Operands((), o.writes)                        # rd = imm: the rs1 field is only rd
    if name == "c.mv":
        o = Operands(("rs2",), o.writes)
    if name in ("c.jal", "c.jalr"):
        o = Operands(o.reads, ("ra",))
    if name == "cv.elw":
        o = Operands(o.reads, o.writes, "load", "imm")
    return o


# Instructions that also read rD: accumulators and inserts into rD.
_READ_RD = {"cv.mac", "cv.msu", "cv.insert", "cv.insertr", "cv.packhi.b", "cv.packlo.b"} | {
    r.name for r in _rows if r.name.startswith(("cv.sdot", "cv.mac", "cv.insert.", "cv.shuffle2", "cv.cplxmul"))
    or (r.name.startswith("cv.") and r.name.endswith("nr"))}


def _size(name: str, mem: str) -> int:
    if not mem:
        return 0
    base = name.removeprefix("cv.").removeprefix("c.").removesuffix("sp")
    return ACCESS_BYTES.get(base, 4)


ROWS: tuple[Row, ...] = tuple(
    Row(r.name, r.mask, r.match, r.fmt, r.ext, r.cost, i + 1, r.length, _operands(r.name, r.fmt),
        _size(r.name, _operands(r.name, r.fmt).mem)) for i, r in enumerate(_rows))
del _rows


def c_ident(row: Row) -> str:
    """The C enum name of a row: ISS_OP_ + mnemonic + a format suffix for the
    memory forms that share a mnemonic (cv.lb has three encodings)."""
    base = row.name.replace(".", "_").upper()
    if row.fmt in ("LPI", "LPR", "LRR", "SPI", "SPR", "SRR"):
        base += "_" + {"LPI": "RI_INC", "LPR": "RR_INC", "LRR": "RR",
                       "SPI": "RI_INC", "SPR": "RR_INC", "SRR": "RR"}[row.fmt]
    return "ISS_OP_" + base


def _check_unique():
    seen = {}
    for r in ROWS:
        key = c_ident(r)
        assert key not in seen, f"duplicate op identifier {key}"
        seen[key] = r
        assert r.match & ~r.mask == 0, r


_check_unique()
