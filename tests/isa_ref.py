"""Independent reference for the CORE-V v2 instructions, written from the CV32E40P
user manual's pseudo-code ("CORE-V ISA extensions" chapter) in plain Python
integers. Shares no code with iss/.

Reading of the manual where it is terse (the simulator follows the same reading,
written separately in C):
- "rs1 + rs2" in the ALU instructions (cv.addN family) is the 32-bit RISC-V sum;
  the 16-bit multiplier instructions (cv.mulsN, cv.macuRN, ...) are computed on
  mathematical integers and keep bits 31:0 ("rD[31:0] = ...").
- SIMD element results are masked to the element width ("& 0xFFFF"); dot products
  sum in 32 bits.
- Comparisons of cv.clipr / cv.clipur are signed ("all operands are signed" unless
  stated otherwise).
"""
from __future__ import annotations

M32 = 0xFFFFFFFF


def u32(v):
    return v & M32


def s32(v):
    v &= M32
    return v - (1 << 32) if v & 0x80000000 else v


def sext(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


def elems(v, width):
    """Elements of a 32-bit word, index 0 = least significant."""
    return [(v >> (width * i)) & ((1 << width) - 1) for i in range(32 // width)]


def join(es, width):
    r = 0
    for i, e in enumerate(es):
        r |= (e & ((1 << width) - 1)) << (width * i)
    return r


def asr(v, n):          # arithmetic shift on a Python int (any width)
    return v >> n


# ---------------------------------------------------------------- bit manipulation
def _field(is3, is2):
    hi = min(is3 + is2, 31)
    return hi, is2


def extract(v, is3, is2, signed):
    hi, lo = _field(is3, is2)
    width = hi - lo + 1
    bits = (v >> lo) & ((1 << width) - 1)
    return u32(sext(bits, width)) if signed else bits


def insert(rd, v, is3, is2):
    hi, lo = _field(is3, is2)
    width = hi - lo + 1
    src = v & ((1 << width) - 1)
    out = rd
    for k in range(width):
        bit = (src >> k) & 1
        out = (out & ~(1 << (lo + k))) | (bit << (lo + k))
    return u32(out)


def bclr(v, is3, is2):
    hi, lo = _field(is3, is2)
    for k in range(lo, hi + 1):
        v &= ~(1 << k)
    return u32(v)


def bset(v, is3, is2):
    hi, lo = _field(is3, is2)
    for k in range(lo, hi + 1):
        v |= 1 << k
    return u32(v)


def bitrev(v, is3, is2):
    """Per the manual's examples: shift left by Is2, cut the word into groups of
    Is3+1 bits from the MSB (Is3 = 3 behaves as 0), place group k at bit k*(Is3+1)."""
    radix_bits = 1 if is3 in (0, 3) else is3 + 1
    shifted = format(u32(v << is2), "032b")          # MSB first
    groups = [shifted[i:i + radix_bits] for i in range(0, 32 - 32 % radix_bits, radix_bits)]
    out_str = "".join(reversed(groups))
    return int(out_str, 2) if out_str else 0


def ff1(v):
    for k in range(32):
        if v >> k & 1:
            return k
    return 32


def fl1(v):
    for k in range(31, -1, -1):
        if v >> k & 1:
            return k
    return 32


def clb(v):
    if v == 0:
        return 0
    top = v >> 31 & 1
    n = 0
    for k in range(31, -1, -1):
        if (v >> k & 1) != top:
            break
        n += 1
    return n - 1


def ror(v, s):
    s &= 31
    return u32((v >> s) | (v << (32 - s))) if s else v


# ---------------------------------------------------------------- general ALU
def clip_bounds(is2):
    if is2 == 0:
        return -1, 0
    return -(2 ** (is2 - 1)), 2 ** (is2 - 1) - 1


def clip(x, lo, hi):
    if x <= lo:
        return lo
    if x >= hi:
        return hi
    return x


def addsub_norm(a, b, n, sub, rnd, arith):
    v = u32(a - b if sub else a + b)
    if rnd and n > 0:
        v = u32(v + 2 ** (n - 1))
    return u32(asr(s32(v), n)) if arith else v >> n


def mul16(a, b, d, n, hh, signed, acc, rnd):
    x = (a >> 16) if hh else a
    y = (b >> 16) if hh else b
    if signed:
        p = sext(x, 16) * sext(y, 16) + (s32(d) if acc else 0)
    else:
        p = (x & 0xFFFF) * (y & 0xFFFF) + (d if acc else 0)
    if rnd and n > 0:
        p += 2 ** (n - 1)
    return u32(p >> n)


# ---------------------------------------------------------------- SIMD
def op2_elems(name, rs2, imm, width):
    """Second operand elements for the vector / .sc / .sci forms."""
    n = 32 // width
    if ".sci." in name:
        return [imm & ((1 << width) - 1)] * n
    if ".sc." in name:
        return [rs2 & ((1 << width) - 1)] * n
    return elems(rs2, width)


def _elementwise(base, a, b, width):
    mask = (1 << width) - 1
    sa, sb = sext(a, width), sext(b, width)
    if base == "add":
        return a + b
    if base == "sub":
        return a - b
    if base == "avg":
        return sext((a + b) & mask, width) >> 1
    if base == "avgu":
        return ((a + b) & mask) >> 1
    if base == "min":
        return a if sa < sb else b
    if base == "minu":
        return a if a < b else b
    if base == "max":
        return a if sa > sb else b
    if base == "maxu":
        return a if a > b else b
    sh = b & (width - 1)
    if base == "srl":
        return a >> sh
    if base == "sra":
        return sa >> sh
    if base == "sll":
        return a << sh
    if base == "or":
        return a | b
    if base == "xor":
        return a ^ b
    if base == "and":
        return a & b
    cmp = {"cmpeq": sa == sb, "cmpne": sa != sb, "cmpgt": sa > sb, "cmpge": sa >= sb,
           "cmplt": sa < sb, "cmple": sa <= sb, "cmpgtu": a > b, "cmpgeu": a >= b,
           "cmpltu": a < b, "cmpleu": a <= b}
    if base in cmp:
        return mask if cmp[base] else 0
    raise KeyError(base)


def _dot(base, ea, eb, width, rd):
    total = 0
    for a, b in zip(ea, eb):
        if base.endswith("dotup"):
            total += a * b
        elif base.endswith("dotusp"):
            total += a * sext(b, width)
        else:
            total += sext(a, width) * sext(b, width)
    if base.startswith("s"):
        total += rd
    return u32(total)


def _sel(v, idx, width):
    return elems(v, width)[idx]


def simd(name, rs1, rs2, rd, imm):
    parts = name[3:].split(".")                # "cv.add.sc.h" -> ["add", "sc", "h"]
    base = parts[0]
    if name in ("cv.abs.h", "cv.abs.b"):
        w = 16 if name.endswith("h") else 8
        return join([abs(sext(e, w)) for e in elems(rs1, w)], w)
    if base in ("dotup", "dotusp", "dotsp", "sdotup", "sdotusp", "sdotsp"):
        w = 16 if parts[-1] == "h" else 8
        return _dot(base, elems(rs1, w), op2_elems(name, rs2, imm, w), w, rd)
    if name.startswith("cv.extract") and parts[-1] in "hb" and len(parts) == 2:
        w = 16 if parts[-1] == "h" else 8
        e = _sel(rs1, imm & (1 if w == 16 else 3), w)
        return u32(sext(e, w)) if base == "extract" else e
    if base == "insert":
        w = 16 if parts[-1] == "h" else 8
        es = elems(rd, w)
        es[imm & (1 if w == 16 else 3)] = rs1 & ((1 << w) - 1)
        return join(es, w)
    if name == "cv.shuffle.h":
        return join([_sel(rs1, rs2 & 1, 16), _sel(rs1, (rs2 >> 16) & 1, 16)], 16)
    if name == "cv.shuffle.sci.h":
        return join([_sel(rs1, imm & 1, 16), _sel(rs1, (imm >> 1) & 1, 16)], 16)
    if name == "cv.shuffle.b":
        return join([_sel(rs1, (rs2 >> (8 * i)) & 3, 8) for i in range(4)], 8)
    if base.startswith("shufflei"):
        k = int(base[-1])
        return join([_sel(rs1, imm & 3, 8), _sel(rs1, (imm >> 2) & 3, 8), _sel(rs1, (imm >> 4) & 3, 8),
                     _sel(rs1, k, 8)], 8)
    if name == "cv.shuffle2.h":
        out = []
        for i in range(2):
            ctl = rs2 >> (16 * i)
            src = rs1 if ctl >> 1 & 1 else rd
            out.append(_sel(src, ctl & 1, 16))
        return join(out, 16)
    if name == "cv.shuffle2.b":
        out = []
        for i in range(4):
            ctl = rs2 >> (8 * i)
            src = rs1 if ctl >> 2 & 1 else rd
            out.append(_sel(src, ctl & 3, 8))
        return join(out, 8)
    if name == "cv.pack":
        return join([rs2 & 0xFFFF, rs1 & 0xFFFF], 16)
    if name == "cv.pack.h":
        return join([rs2 >> 16, rs1 >> 16], 16)
    if name == "cv.packhi.b":
        es = elems(rd, 8)
        es[3], es[2] = rs1 & 0xFF, rs2 & 0xFF
        return join(es, 8)
    if name == "cv.packlo.b":
        es = elems(rd, 8)
        es[1], es[0] = rs1 & 0xFF, rs2 & 0xFF
        return join(es, 8)
    if base == "cplxmul":
        div = {"r": 0, "i": 0, "div2": 1, "div4": 2, "div8": 3}[parts[-1]]
        shift = 15 + div
        a0, a1 = sext(rs1, 16), sext(rs1 >> 16, 16)
        b0, b1 = sext(rs2, 16), sext(rs2 >> 16, 16)
        es = elems(rd, 16)
        if parts[1] == "r":
            es[0] = ((a0 * b0 - a1 * b1) >> shift) & 0xFFFF
        else:
            es[1] = ((a0 * b1 + a1 * b0) >> shift) & 0xFFFF
        return join(es, 16)
    if name == "cv.cplxconj":
        return join([rs1 & 0xFFFF, -(rs1 >> 16)], 16)
    if base == "subrotmj":
        k = {"subrotmj": 0, "div2": 1, "div4": 2, "div8": 3}[parts[-1]]
        a, b = elems(rs1, 16), elems(rs2, 16)
        hi = sext((b[0] - a[0]) & 0xFFFF, 16) >> k
        lo = sext((a[1] - b[1]) & 0xFFFF, 16) >> k
        return join([lo, hi], 16)
    if len(parts) == 2 and parts[1].startswith("div"):      # cv.add.div2, cv.sub.div8
        k = {"div2": 1, "div4": 2, "div8": 3}[parts[1]]
        a, b = elems(rs1, 16), elems(rs2, 16)
        return join([sext(((x + y) if base == "add" else (x - y)) & 0xFFFF, 16) >> k for x, y in zip(a, b)], 16)
    # element-wise ALU and comparisons
    w = 16 if parts[-1] == "h" else 8
    ea, eb = elems(rs1, w), op2_elems(name, rs2, imm, w)
    return join([_elementwise(base, x, y, w) for x, y in zip(ea, eb)], w)


# ---------------------------------------------------------------- dispatcher
def execute(name: str, rs1: int, rs2: int, rd: int, imm: int = 0, imm2: int = 0) -> int:
    """Value written to rD by a register-result CORE-V instruction.
    `imm` is Is3 / Is2 / Imm6 / uimm5 as the assembler writes it, `imm2` is Is2 of
    the two-immediate bit-manipulation forms."""
    rs1, rs2, rd = u32(rs1), u32(rs2), u32(rd)
    n = name
    if n == "cv.extract":
        return extract(rs1, imm, imm2, True)
    if n == "cv.extractu":
        return extract(rs1, imm, imm2, False)
    if n == "cv.insert":
        return insert(rd, rs1, imm, imm2)
    if n == "cv.bclr":
        return bclr(rs1, imm, imm2)
    if n == "cv.bset":
        return bset(rs1, imm, imm2)
    if n == "cv.bitrev":
        return bitrev(rs1, imm, imm2)
    r95, r40 = (rs2 >> 5) & 31, rs2 & 31
    if n == "cv.extractr":
        return extract(rs1, r95, r40, True)
    if n == "cv.extractur":
        return extract(rs1, r95, r40, False)
    if n == "cv.insertr":
        return insert(rd, rs1, r95, r40)
    if n == "cv.bclrr":
        return bclr(rs1, r95, r40)
    if n == "cv.bsetr":
        return bset(rs1, r95, r40)
    if n == "cv.ror":
        return ror(rs1, rs2)
    if n == "cv.ff1":
        return ff1(rs1)
    if n == "cv.fl1":
        return fl1(rs1)
    if n == "cv.clb":
        return clb(rs1)
    if n == "cv.cnt":
        return bin(rs1).count("1")
    if n == "cv.abs":
        return u32(abs(s32(rs1)))
    if n == "cv.sle":
        return int(s32(rs1) <= s32(rs2))
    if n == "cv.sleu":
        return int(rs1 <= rs2)
    if n == "cv.min":
        return rs1 if s32(rs1) < s32(rs2) else rs2
    if n == "cv.minu":
        return min(rs1, rs2)
    if n == "cv.max":
        return rs2 if s32(rs1) < s32(rs2) else rs1
    if n == "cv.maxu":
        return max(rs1, rs2)
    if n == "cv.exths":
        return u32(sext(rs1, 16))
    if n == "cv.exthz":
        return rs1 & 0xFFFF
    if n == "cv.extbs":
        return u32(sext(rs1, 8))
    if n == "cv.extbz":
        return rs1 & 0xFF
    if n == "cv.clip":
        return u32(clip(s32(rs1), *clip_bounds(imm)))
    if n == "cv.clipu":
        return u32(clip(s32(rs1), 0, clip_bounds(imm)[1]))
    if n == "cv.clipr":
        return u32(clip(s32(rs1), -(s32(rs2) + 1), s32(rs2)))
    if n == "cv.clipur":
        return u32(clip(s32(rs1), 0, s32(rs2)))
    norm = {"cv.addn": (0, 0, 1), "cv.addun": (0, 0, 0), "cv.addrn": (0, 1, 1), "cv.addurn": (0, 1, 0),
            "cv.subn": (1, 0, 1), "cv.subun": (1, 0, 0), "cv.subrn": (1, 1, 1), "cv.suburn": (1, 1, 0)}
    if n in norm:
        sub, rnd, arith = norm[n]
        return addsub_norm(rs1, rs2, imm, sub, rnd, arith)
    if n.endswith("nr") and n[:-1] in norm:           # cv.addNr: rD = (rD op rs1) >> rs2[4:0]
        sub, rnd, arith = norm[n[:-1]]
        return addsub_norm(rd, rs1, rs2 & 31, sub, rnd, arith)
    if n == "cv.mac":
        return u32(rd + rs1 * rs2)
    if n == "cv.msu":
        return u32(rd - rs1 * rs2)
    if n.startswith(("cv.mul", "cv.mac")) and n.endswith("n"):
        core = n[3:-1]                                  # mul / mulhh / mac / machh + s/u [+ r]
        rnd = core.endswith("r")
        if rnd:
            core = core[:-1]
        signed = core.endswith("s")
        core = core[:-1]
        hh = core.endswith("hh")
        acc = core.startswith("mac")
        return mul16(rs1, rs2, rd, imm, hh, signed, acc, rnd)
    return simd(n, rs1, rs2, rd, imm)


def load(mem: bytes, addr: int, size: int, signed: bool) -> int:
    v = int.from_bytes(mem[addr:addr + size], "little")
    return u32(sext(v, 8 * size)) if signed else v


class HwLoopModel:
    """Reference hardware loops (CV32E40P v2 manual, "CORE-V Hardware Loop feature"):
    lpstart/lpend/lpcount per loop; the counter is decremented each time the last
    instruction of the body is executed and the body restarts while it is not yet
    exhausted; loop 0 is the inner loop and is looked at first."""

    def __init__(self):
        self.start, self.end, self.count = [0, 0], [0, 0], [0, 0]

    def after(self, next_pc: int) -> int:
        for L in (0, 1):
            if self.count[L] > 0 and self.end[L] == next_pc:
                self.count[L] -= 1
                if self.count[L] > 0:
                    return self.start[L]
        return next_pc
