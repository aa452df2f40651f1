"""Table-driven decoder, disassembler and pre-decoder over iss.isa.table.ROWS."""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple, Optional

import numpy as np

from .table import COST_CYCLES, ROWS, Row

ABI = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
       "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6")

CSR_NAMES = {0x300: "mstatus", 0x301: "misa", 0x304: "mie", 0x305: "mtvec", 0x340: "mscratch",
             0x341: "mepc", 0x342: "mcause", 0x343: "mtval", 0x344: "mip", 0xF14: "mhartid",
             0xB00: "mcycle", 0xB02: "minstret", 0xB80: "mcycleh", 0xB82: "minstreth",
             0xC00: "cycle", 0xC01: "time", 0xC02: "instret", 0xC80: "cycleh", 0xC82: "instreth",
             0x7B0: "dcsr", 0x7B1: "dpc", 0xCC0: "lpstart0", 0xCC1: "lpend0", 0xCC2: "lpcount0",
             0xCC4: "lpstart1", 0xCC5: "lpend1", 0xCC6: "lpcount1", 0xCD0: "uhartid", 0xCD1: "privlv"}


class Insn(NamedTuple):
    mnemonic: str
    op: int           # row id (iss.isa.table / ISS_OP_* in corev_ops.h)
    fmt: str
    rd: int
    rs1: int
    rs2: int
    rs3: int
    imm: int
    imm2: int
    length: int
    cycles: int       # base cost (COST_CYCLES[cost])
    cost: str         # cost class
    ext: str
    word: int


# The field extraction below works on one word (an int) and on numpy arrays of
# words alike (predecode runs it on all the words of a program at once):
# arithmetic and bitwise operators only, no branches on the word's value.
def _sx(v: int, bits: int) -> int:
    v = v & ((1 << bits) - 1)
    return v - ((v >> (bits - 1)) & 1) * (1 << bits)


def _b(w, hi, lo):
    return (w >> lo) & ((1 << (hi - lo + 1)) - 1)


def _imm_i(w):
    return _sx(w >> 20, 12)


def _imm_s(w):
    return _sx((_b(w, 31, 25) << 5) | _b(w, 11, 7), 12)


def _imm_b(w):
    return _sx((_b(w, 31, 31) << 12) | (_b(w, 7, 7) << 11) | (_b(w, 30, 25) << 5) | (_b(w, 11, 8) << 1), 13)


def _imm_j(w):
    return _sx((_b(w, 31, 31) << 20) | (_b(w, 19, 12) << 12) | (_b(w, 20, 20) << 11) | (_b(w, 30, 21) << 1), 21)


def _imm6(w):
    return (_b(w, 24, 20) << 1) | _b(w, 25, 25)


# --- field extraction per format: (rd, rs1, rs2, rs3, imm, imm2)
def _f32(fmt: str, w: int):
    rd, rs1, rs2 = _b(w, 11, 7), _b(w, 19, 15), _b(w, 24, 20)
    if fmt in ("R", "AMO"):
        return rd, rs1, rs2, 0, 0, 0
    if fmt in ("R1", "LR"):
        return rd, rs1, 0, 0, 0, 0
    if fmt in ("I", "L", "JR", "LPI"):
        return rd, rs1, 0, 0, _imm_i(w), 0
    if fmt in ("ISH", "RI5"):
        return rd, rs1, 0, 0, rs2, 0
    if fmt == "S" or fmt == "SPI":
        return 0, rs1, rs2, 0, _imm_s(w), 0
    if fmt == "B":
        return 0, rs1, rs2, 0, _imm_b(w), 0
    if fmt == "U":
        return rd, 0, 0, 0, _sx(w & 0xFFFFF000, 32), 0
    if fmt == "J":
        return rd, 0, 0, 0, _imm_j(w), 0
    if fmt == "CSR":
        return rd, rs1, 0, 0, w >> 20, 0
    if fmt == "CSRI":
        return rd, 0, 0, 0, w >> 20, rs1
    if fmt in ("N", "FENCE"):
        return 0, 0, 0, 0, _b(w, 27, 24), _b(w, 23, 20)
    if fmt in ("LPR", "LRR"):
        return rd, rs1, rs2, 0, 0, 0
    if fmt in ("SPR", "SRR"):
        return 0, rs1, rs2, rd, 0, 0
    if fmt == "BI":
        return 0, rs1, 0, 0, _sx(rs2, 5), _imm_b(w)
    if fmt == "RRI5":
        return rd, rs1, rs2, 0, _b(w, 29, 25), 0
    if fmt == "BM2":
        return rd, rs1, 0, 0, _b(w, 29, 25), rs2
    if fmt == "SI6":
        return rd, rs1, 0, 0, _sx(_imm6(w), 6), 0
    if fmt == "UI6":
        return rd, rs1, 0, 0, _imm6(w), 0
    # hardware loops: rd = loop index L, imm = uimmL (31:20), imm2 = uimmS (19:15)
    if fmt == "HI":
        return _b(w, 7, 7), 0, 0, 0, w >> 20, 0
    if fmt == "HR":
        return _b(w, 7, 7), rs1, 0, 0, 0, 0
    if fmt == "HSI":
        return _b(w, 7, 7), 0, 0, 0, w >> 20, rs1
    if fmt == "HS":
        return _b(w, 7, 7), rs1, 0, 0, w >> 20, 0
    raise AssertionError(fmt)


def _f16(fmt: str, h: int):
    rdp, rs2p = 8 + _b(h, 4, 2), 8 + _b(h, 9, 7)     # rd'/rs2' (bits 4:2), rs1' (bits 9:7)
    r = _b(h, 11, 7)
    rs2 = _b(h, 6, 2)
    ci = _sx((_b(h, 12, 12) << 5) | _b(h, 6, 2), 6)
    if fmt == "CIW":
        imm = (_b(h, 10, 7) << 6) | (_b(h, 12, 11) << 4) | (_b(h, 5, 5) << 3) | (_b(h, 6, 6) << 2)
        return rdp, 2, 0, 0, imm, 0
    if fmt in ("CL", "CS"):
        imm = (_b(h, 5, 5) << 6) | (_b(h, 12, 10) << 3) | (_b(h, 6, 6) << 2)
        return (rdp if fmt == "CL" else 0), rs2p, (rdp if fmt == "CS" else 0), 0, imm, 0
    if fmt == "CN":
        return 0, 0, 0, 0, 0, 0
    if fmt == "CI":
        return r, r, 0, 0, ci, 0
    if fmt == "CISH":
        return r, r, 0, 0, (_b(h, 12, 12) << 5) | _b(h, 6, 2), 0
    if fmt == "CJ":
        imm = _sx((_b(h, 12, 12) << 11) | (_b(h, 8, 8) << 10) | (_b(h, 10, 9) << 8) | (_b(h, 6, 6) << 7)
                  | (_b(h, 7, 7) << 6) | (_b(h, 2, 2) << 5) | (_b(h, 11, 11) << 4) | (_b(h, 5, 3) << 1), 12)
        return 0, 0, 0, 0, imm, 0
    if fmt == "C16SP":
        imm = _sx((_b(h, 12, 12) << 9) | (_b(h, 4, 3) << 7) | (_b(h, 5, 5) << 6) | (_b(h, 2, 2) << 5)
                  | (_b(h, 6, 6) << 4), 10)
        return 2, 2, 0, 0, imm, 0
    if fmt == "CLUI":
        return r, 0, 0, 0, ci & 0xFFFFF, 0
    if fmt == "CBSH":
        return rs2p, rs2p, 0, 0, (_b(h, 12, 12) << 5) | _b(h, 6, 2), 0
    if fmt == "CBI":
        return rs2p, rs2p, 0, 0, ci, 0
    if fmt == "CA":
        return rs2p, rs2p, rdp, 0, 0, 0
    if fmt == "CB":
        imm = _sx((_b(h, 12, 12) << 8) | (_b(h, 6, 5) << 6) | (_b(h, 2, 2) << 5) | (_b(h, 11, 10) << 3)
                  | (_b(h, 4, 3) << 1), 9)
        return 0, rs2p, 0, 0, imm, 0
    if fmt == "CLWSP":
        imm = (_b(h, 3, 2) << 6) | (_b(h, 12, 12) << 5) | (_b(h, 6, 4) << 2)
        return r, 2, 0, 0, imm, 0
    if fmt == "CSS":
        imm = (_b(h, 8, 7) << 6) | (_b(h, 12, 9) << 2)
        return 0, 2, rs2, 0, imm, 0
    if fmt == "CR1":
        return 0, r, 0, 0, 0, 0
    if fmt == "CR":
        return r, r, rs2, 0, 0, 0
    raise AssertionError(fmt)


def _valid16(row: Row, h: int) -> bool:
    """Reserved / hint encodings that the mask alone does not exclude (elementwise
    for an array of halfwords)."""
    f = row.fmt
    if row.name == "c.addi4spn":
        return (h & 0x1FE0) != 0
    if row.name == "c.lui":
        return (_b(h, 11, 7) != 2) & ((h & 0x107C) != 0)     # rd = x0: a HINT
    if row.name == "c.addi16sp":
        return (h & 0x107C) != 0
    if f == "CLWSP":
        return _b(h, 11, 7) != 0
    if f == "CR1":
        return _b(h, 11, 7) != 0
    if f == "CR":
        return _b(h, 6, 2) != 0
    if f in ("CBSH", "CISH"):
        return _b(h, 12, 12) == 0      # RV32: shamt[5] must be 0
    return h == h


# Buckets: 32-bit rows by major opcode (bits 6:0), 16-bit rows by quadrant + funct3.
_B32: dict[int, list[Row]] = {}
_B16: dict[int, list[Row]] = {}
for _r in ROWS:
    if _r.length == 4:
        _B32.setdefault(_r.match & 0x7F, []).append(_r)
    else:
        _B16.setdefault(((_r.match >> 13) << 2) | (_r.match & 3), []).append(_r)
for _d in (_B32, _B16):
    for _k in _d:
        _d[_k].sort(key=lambda r: -bin(r.mask).count("1"))


@lru_cache(maxsize=65536)
def decode(word: int) -> Optional[Insn]:
    """Decode one instruction (a 32-bit word; for a 16-bit instruction only the low
    halfword matters). Returns None for an invalid encoding."""
    word &= 0xFFFFFFFF
    if word & 3 == 3:
        if word & 0x1C == 0x1C:     # 48-bit and longer encodings: none exist here
            return None
        for r in _B32.get(word & 0x7F, ()):
            if word & r.mask == r.match:
                f = _f32(r.fmt, word)
                return Insn(r.name, r.op, r.fmt, *f, 4, COST_CYCLES[r.cost], r.cost, r.ext, word)
        return None
    h = word & 0xFFFF
    for r in _B16.get(((h >> 13) << 2) | (h & 3), ()):
        if h & r.mask == r.match and _valid16(r, h):
            f = _f16(r.fmt, h)
            return Insn(r.name, r.op, r.fmt, *f, 2, COST_CYCLES[r.cost], r.cost, r.ext, h)
    return None


def _hex(v: int) -> str:
    return f"-0x{-v:x}" if v < 0 else f"0x{v:x}"


def disasm(word: int, pc: int = 0) -> str:
    """`cv.sdotsp.b a3,a4,a5`; an invalid encoding prints as `.word 0x...`."""
    i = decode(word)
    if i is None:
        return f".word 0x{word & 0xFFFFFFFF:08x}" if word & 3 == 3 else f".half 0x{word & 0xFFFF:04x}"
    n, f = i.mnemonic, i.fmt
    rd, rs1, rs2, rs3 = ABI[i.rd], ABI[i.rs1], ABI[i.rs2], ABI[i.rs3]
    if f in ("R", "CA"):
        return f"{n} {rd},{rs1},{rs2}"
    if f == "CR":
        return f"{n} {rd},{rs2}"
    if f in ("R1",):
        return f"{n} {rd},{rs1}"
    if f in ("I", "ISH", "RI5", "SI6", "UI6", "CBSH", "CBI"):
        return f"{n} {rd},{rs1},{i.imm}"
    if f in ("CI", "CISH"):
        return f"{n} {rd},{i.imm}"
    if f in ("CLUI", "U"):
        return f"{n} {rd},{_hex((i.imm >> 12) & 0xFFFFF if f == 'U' else i.imm)}"
    if f == "CIW":
        return f"{n} {rd},sp,{i.imm}"
    if f == "C16SP":
        return f"{n} sp,{i.imm}"
    if f in ("L", "JR", "CL", "CLWSP"):
        return f"{n} {rd},{i.imm}({rs1})"
    if f in ("S", "CS", "CSS"):
        return f"{n} {rs2},{i.imm}({rs1})"
    if f in ("B",):
        return f"{n} {rs1},{rs2},{_hex((pc + i.imm) & 0xFFFFFFFF)}"
    if f == "CB":
        return f"{n} {rs1},{_hex((pc + i.imm) & 0xFFFFFFFF)}"
    if f == "J":
        return f"{n} {rd},{_hex((pc + i.imm) & 0xFFFFFFFF)}"
    if f == "CJ":
        return f"{n} {_hex((pc + i.imm) & 0xFFFFFFFF)}"
    if f == "CR1":
        return f"{n} {rs1}"
    if f in ("CSR", "CSRI"):
        csr = CSR_NAMES.get(i.imm, _hex(i.imm))
        src = rs1 if f == "CSR" else str(i.imm2)
        return f"{n} {rd},{csr},{src}"
    if f in ("N", "CN"):
        return n
    if f == "FENCE":
        bits = lambda v: "".join(c for c, m in zip("iorw", (8, 4, 2, 1)) if v & m) or "0"  # noqa: E731
        return f"{n} {bits(i.imm)},{bits(i.imm2)}"
    if f == "LR":
        return f"{n} {rd},({rs1})"
    if f == "AMO":
        return f"{n} {rd},{rs2},({rs1})"
    if f == "LPI":
        return f"{n} {rd},({rs1}),{i.imm}"
    if f == "LPR":
        return f"{n} {rd},({rs1}),{rs2}"
    if f == "LRR":
        return f"{n} {rd},{rs2}({rs1})"
    if f == "SPI":
        return f"{n} {rs2},({rs1}),{i.imm}"
    if f == "SPR":
        return f"{n} {rs2},({rs1}),{rs3}"
    if f == "SRR":
        return f"{n} {rs2},{rs3}({rs1})"
    if f == "BI":
        return f"{n} {rs1},{i.imm},{_hex((pc + i.imm2) & 0xFFFFFFFF)}"
    if f == "RRI5":
        return f"{n} {rd},{rs1},{rs2},{i.imm}"
    if f == "BM2":
        return f"{n} {rd},{rs1},{i.imm},{i.imm2}"
    if f == "HI":
        return f"{n} {i.rd},{i.imm}"
    if f == "HR":
        return f"{n} {i.rd},{rs1}"
    if f == "HSI":
        return f"{n} {i.rd},{i.imm},{i.imm2}"
    if f == "HS":
        return f"{n} {i.rd},{rs1},{i.imm}"
    raise AssertionError(f)


# The pre-decoded table the C executor reads: one entry per halfword of the code (iss/native/code.h).
# Keep in the same layout as `struct iss_insn` in iss/native/corev.h.
PREDECODE_DTYPE = np.dtype([("op", "<u2"), ("len", "u1"), ("rd", "u1"), ("rs1", "u1"), ("rs2", "u1"),
                            ("rs3", "u1"), ("cycles", "u1"), ("imm", "<i4"), ("imm2", "<i4")])
assert PREDECODE_DTYPE.itemsize == 16


def linear_starts(half: np.ndarray) -> np.ndarray:
    """Where instructions start when code is decoded from its first halfword on
    (bool per halfword; a 32-bit instruction has low bits 11). The halfword after
    one that is not the start of a 32-bit instruction always starts one (it ends a
    16-bit instruction or is the upper half of a 32-bit one), so from each such
    anchor the starts are every other halfword while 32-bit encodings follow."""
    n = len(half)
    is32 = (np.asarray(half) & 3) == 3
    anchor = np.ones(n, bool)
    anchor[1:] = ~is32[:-1]
    pos = np.arange(n)
    last = np.maximum.accumulate(np.where(anchor, pos, 0)) if n else pos
    return (pos - last) % 2 == 0


def predecode(code: bytes, base: int) -> np.ndarray:
    """Decode at every halfword of `code` (so a jump into any alignment finds its
    entry). Entries with op == 0 are not valid instructions; `len` is still 2 or 4
    from the encoding's low bits so the cost tables stay consistent.

    Vectorised: row by row of the decode table over all the words of the row's
    bucket, by the same field functions decode() uses."""
    n = len(code) // 2
    if n == 0:
        return np.zeros(0, PREDECODE_DTYPE)
    hw = np.frombuffer(code[:2 * n], "<u2").astype(np.int64)
    is32 = (hw & 3) == 3
    words = hw.copy()
    words[:-1] |= np.where(is32[:-1], hw[1:] << 16, 0)
    out = _decode_many(words)
    if is32[-1]:
        out[-1] = 0         # a 32-bit instruction cut off by the end of the image
    out["len"] = np.where(is32, 4, 2)
    return out


def _decode_many(words: np.ndarray) -> np.ndarray:
    """decode() of each word of an int64 array, as predecode entries."""
    out = np.zeros(len(words), PREDECODE_DTYPE)
    is32 = (words & 3) == 3
    key32 = np.where(is32 & ((words & 0x1C) != 0x1C), words & 0x7F, -1)
    h = words & 0xFFFF
    key16 = np.where(is32, -1, ((h >> 13) << 2) | (h & 3))
    for keys, buckets, word_of in ((key32, _B32, words), (key16, _B16, h)):
        for key, rows in buckets.items():
            sel = np.nonzero(keys == key)[0]
            for r in rows:
                if not len(sel):
                    break
                w = word_of[sel]
                m = (w & r.mask) == r.match
                if r.length == 2:
                    m &= _valid16(r, w)
                if not m.any():
                    continue
                w = w[m]
                rd, rs1, rs2, rs3, imm, imm2 = (_f32 if r.length == 4 else _f16)(r.fmt, w)
                dst = sel[m]
                out["op"][dst] = r.op
                out["cycles"][dst] = COST_CYCLES[r.cost]
                for name, v in (("rd", rd), ("rs1", rs1), ("rs2", rs2), ("rs3", rs3), ("imm", imm), ("imm2", imm2)):
                    out[name][dst] = v
                sel = sel[~m]     # the first matching row wins (rows by mask width)
    return out
