"""Random valid programs for the chains on/off differential test
(tests/test_chain_differential.py), and an independent model that runs them.

`generate(seed)` returns a `Program`: the assembly of `dt_body(tcdm, l2, dump)`
(tests/chain_diff_harness.c calls it on every core with that core's slices
of `dt_tcdm` and `dt_l2`) plus the data of those areas, and the program as a
tree the model (`Model`, `expected`) executes in plain Python integers, sharing
no code with iss/ (CORE-V ALU results come from tests/isa_ref.py).

What the programs are made of: RV32IM arithmetic (the assembler compresses what
it can: c.addi/c.li/c.mv/c.add/c.lw/c.sw/c.lwsp/c.swsp/c.beqz/c.jal/...), mul/div
with divisors 0, +-1 and small, loads and stores of every size and alignment to
the TCDM, to L2 and to the stack; forward branches (if and if/else, standard,
compressed and cv.beqimm/bneimm), short backward loops with a counter, calls
(jal, call, jalr through a register, to functions in L2 and in the TCDM, some
entered at a 2-byte aligned 32-bit instruction); CORE-V ALU/SIMD/dot products,
post-increment loads and stores (immediate and register increment),
register-register loads and stores, and hardware loops of every setup form,
nested, with bodies mixing CORE-V and standard instructions; what stops a
chain: CSR accesses (counters, hardware-loop CSRs, mscratch), atomics and
lr/sc, MMIO loads, fence; and a few stores
to code (a halfword of an instruction a little ahead, or of a function's entry,
read and written back unchanged, by sh or cv.sh) that make the simulator
redecode the code mid-run.

Safety by construction, checked by the model on every access:
- s0 / s1 point 64 bytes into the hart's TCDM / L2 area and are never written;
  fixed-offset accesses stay in [-64, AREA - 64) around them;
- a6 / a7 are the TCDM / L2 post-increment pointers: every run of
  post-increment instructions (at most 4, increments within +-8) starts with
  `sub p, p, base; andi p, p, 511; add p, p, base`, so whatever happened before
  (a jump through a7, a loop), the run stays inside the area;
- t4 holds the register increment (-8..8), t5 a hardware-loop count or address
  or a value the model does not know (a counter CSR, an MMIO read: random code
  never reads t5; those values go to the log words of the stack frame, compared
  between runs only), t6 the counter of software loops (which do not nest in each other, and
  functions do not use it); sp, gp, tp, ra are never written by random code;
- random code writes only the 20 data registers a0-a5, t0-t3, s2-s11.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import isa_ref as ref
from test_corev import BM2, R2, R3, RI5, RRI5, SIMD_R2, SIMD_RR, SIMD_S, SIMD_SH, SIMD_U, SIMD_U6

ABI = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
       "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"]
X = {n: i for i, n in enumerate(ABI)}
DATA = ["a0", "a1", "a2", "a3", "a4", "a5", "t0", "t1", "t2", "t3",
        "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"]
CDATA = ["a0", "a1", "a2", "a3", "a4", "a5"]            # x10-x15: the compressed forms' registers
SRC = DATA + ["zero", "s0", "s1", "a6", "a7", "t4", "t6"]   # registers whose value the model knows
BASE = {"tcdm": "s0", "l2": "s1"}
PTR = {"tcdm": "a6", "l2": "a7"}
INC, HWC, LOOPC = "t4", "t5", "t6"

AREA = 768          # bytes of each hart's TCDM area and L2 area (the base register is area + 64)
LO, HI = -64, AREA - 64
PTR_MASK = 511
FRAME = 256         # dt_body's stack frame: saved registers below 56, the log at 56 and 60, scratch above
SCRATCH = 64
LOG = (56, 60)      # where timing-dependent values (counters, MMIO reads) go: compared between runs, not modelled
COUNTER_CSRS = ["mcycle", "minstret", "cycle", "instret", "mcycleh", "0xb03", "0xb04", "0xb06"]
HWLOOP_CSRS = ["0xcc0", "0xcc1", "0xcc2", "0xcc3", "0xcc4", "0xcc5"]   # lpstart0, lpend0, lpcount0, loop 1
MMIO_READS = [0x102003F0, 0x102003F4, 0x102003F8]                      # cluster controller: TCDM/L2 size, clock
AMOS = ["amoadd.w", "amoswap.w", "amoxor.w", "amoand.w", "amoor.w", "amomin.w", "amomax.w", "amominu.w",
        "amomaxu.w"]
STRIDES = (768, 768, 772, 832, 896)   # between harts' areas: 768 = 6 x 128 puts every hart on the same banks

M32 = 0xFFFFFFFF
SPECIAL = [0, 1, 2, 3, 7, 0xFFFFFFFF, 0xFFFFFFFE, 0x80000000, 0x7FFFFFFF, 0x7F, 0x80, 0xFF, 0x7FFF,
           0x8000, 0xFFFF, 0x80808080, 0x7F7F7F7F, 0xFFFF0000, 0x01010101, 0x1F, 0x20]
DIVISORS = [0, 0, 1, 0xFFFFFFFF, 2, 3, 5, 7, 16, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFD, 255]


def u32(v):
    return v & M32


def s32(v):
    v &= M32
    return v - (1 << 32) if v & 0x80000000 else v


def li_words(v: int) -> int:
    """Instructions `li rd, v` assembles to (without compression)."""
    v = s32(v)
    if -2048 <= v < 2048:
        return 1
    return 1 if (v & 0xFFF) == 0 else 2


# ------------------------------------------------------------------ program tree
@dataclass
class I:
    """One instruction (or the pseudo-instructions li / la): `op` selects the
    model's semantics, `asm` is what the assembler gets."""
    op: str
    asm: str
    rd: int = 0
    rs1: int = 0
    rs2: int = 0
    imm: int = 0
    imm2: int = 0
    sym: str | None = None      # auipc / la: the global label
    words: int = 1              # 32-bit words without compression (hardware-loop sizes)
    label: str | None = None    # a global label placed on it (auipc)


@dataclass
class Seq:
    items: list


@dataclass
class If:
    """`b<cond> -> else; then; [j end; else: else_;] end: post`: the branch taken
    skips `then`."""
    pre: list                   # instructions computing the condition
    br: I                       # op 'br', asm without the target: f"{asm}, {label}"
    then: Seq
    else_: Seq | None
    post: I | None              # the target's instruction (at a 2-byte aligned address when `odd`)
    odd: bool = False


@dataclass
class SwLoop:
    """t6-counted loop ending with a backward branch."""
    init: I
    body: Seq
    step: I
    br: I
    top: I | None = None        # first instruction, at a 2-byte aligned address
    n: int = 0


@dataclass
class HwLoop:
    L: int
    n: int
    form: str                   # setupi, setup, starti, start
    pre: list                   # instructions run once before (count into t5, ...)
    body: Seq                   # 32-bit instructions only; may hold a HwLoop(L=0) if L == 1
    words: int = 0
    labels: tuple = ()          # (setup, body start, end): global labels, set when emitted
    reg_end: bool = True        # form `start`: cv.end rs1 (else cv.endi)


@dataclass
class Call:
    fn: str
    kind: str                   # jal, call, jalr, jalr_off
    pre: list = field(default_factory=list)


@dataclass
class Poke:
    """Reads the halfword of code at the global label `target` and writes it
    back unchanged (a store to code: the simulator redecodes that page)."""
    target: str
    pre: I                      # la a7, target
    load: I
    store: I


@dataclass
class Mark:
    """A global label on the next instruction (a poke's target)."""
    name: str


@dataclass
class Func:
    name: str
    body: Seq
    l1: bool                    # in the TCDM (.l1.text)
    odd: bool                   # entry at a 2-byte aligned 32-bit instruction
    first: I | None = None


@dataclass
class Program:
    seed: int
    asm: str                    # the whole .S file
    tree: Seq                   # dt_body after its fixed prologue
    tstride: int
    lstride: int
    tcdm: bytes                 # initial dt_tcdm (8 harts x tstride)
    l2: bytes
    funcs: dict
    pokes: list = field(default_factory=list)     # labels whose halfword of code is read and rewritten


# ------------------------------------------------------------------ generator
class Gen:
    def __init__(self, seed: int, size: int = 45, pokes: int = 3, reg_end: bool = True):
        self.rng = random.Random(seed)
        self.pokes = pokes              # at most this many stores to code (each costs a redecode per hart)
        self.reg_end = reg_end          # the `start` form sets the end with cv.end rs1 (else cv.endi)
        self.poke_targets: list[str] = []
        self.in_hw = False              # generating a hardware-loop body
        self.seed = seed
        self.size = size
        self.n_label = 0
        self.funcs: dict[str, Func] = {}

    # -- helpers ------------------------------------------------------------------
    def label(self, kind="L") -> str:
        self.n_label += 1
        return f"dt_{kind}{self.n_label}"

    def val(self) -> int:
        r = self.rng.random()
        if r < 0.25:
            return self.rng.choice(SPECIAL)
        if r < 0.55:
            return u32(self.rng.randrange(-64, 64))
        return self.rng.getrandbits(32)

    def dst(self) -> str:
        return self.rng.choice(CDATA if self.rng.random() < 0.5 else DATA)

    def src(self) -> str:
        return self.rng.choice(SRC if self.rng.random() < 0.3 else DATA)

    def li(self, rd: str, v: int) -> I:
        v = u32(v)
        return I("li", f"li {rd}, {s32(v)}", X[rd], imm=v, words=li_words(v))

    # -- straight-line instructions -----------------------------------------------------
    def alu(self) -> list:
        rng = self.rng
        rd = self.dst()
        r = rng.random()
        if r < 0.12:
            return [self.li(rd, u32(rng.randrange(-32, 32)) if rng.random() < 0.6 else self.val())]
        if r < 0.18:
            v = rng.choice([rng.randrange(1, 32), rng.randrange(0xFFFE0, 0x100000), rng.getrandbits(20)])
            return [I("lui", f"lui {rd}, {v}", X[rd], imm=v)]
        if r < 0.22:
            lab = self.label("auipc")
            v = rng.getrandbits(20) if rng.random() < 0.5 else rng.randrange(4)
            return [I("auipc", f"auipc {rd}, {v}", X[rd], imm=v, label=lab)]
        if r < 0.28:
            rs = self.src()
            return [I("add", f"mv {rd}, {rs}", X[rd], X["zero"], X[rs])]
        if r < 0.62:
            op = rng.choice(["addi", "addi", "addi", "slti", "sltiu", "xori", "ori", "andi", "andi",
                             "slli", "srli", "srai"])
            rs = rd if rng.random() < 0.5 else self.src()
            if op in ("slli", "srli", "srai"):
                imm = rng.randrange(32) or 1
            elif rng.random() < 0.6:
                imm = rng.randrange(-32, 32) or 1
            else:
                imm = rng.randrange(-2048, 2048)
            return [I(op, f"{op} {rd}, {rs}, {imm}", X[rd], X[rs], imm=imm)]
        op = rng.choice(["add", "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and"])
        rs1 = rd if rng.random() < 0.5 else self.src()
        rs2 = self.src()
        return [I(op, f"{op} {rd}, {rs1}, {rs2}", X[rd], X[rs1], X[rs2])]

    def muldiv(self) -> list:
        rng = self.rng
        op = rng.choice(["mul", "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"])
        rd, rs1, rs2 = self.dst(), self.src(), self.src()
        out = []
        if op[0] in "dr" and rng.random() < 0.6:
            rs2 = rng.choice(DATA)
            out.append(self.li(rs2, rng.choice(DIVISORS)))
            if rng.random() < 0.2:
                rs1 = rng.choice([r for r in DATA if r != rs2])
                out.append(self.li(rs1, rng.choice([0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 1, 0])))
        out.append(I(op, f"{op} {rd}, {rs1}, {rs2}", X[rd], X[rs1], X[rs2]))
        if rng.random() < 0.3:   # the result used at once
            rd2 = self.dst()
            out.append(I("add", f"add {rd2}, {rd2}, {rd}", X[rd2], X[rd2], X[rd]))
        return out

    def where(self) -> str:
        r = self.rng.random()
        return "tcdm" if r < 0.65 else "l2" if r < 0.88 else "stack"

    def offset(self, where: str, size: int) -> int:
        rng = self.rng
        if where == "stack":
            off = rng.randrange(SCRATCH, FRAME - size + 1)
            return off & ~3 if rng.random() < 0.7 else off
        if rng.random() < 0.35:    # a compressed c.lw / c.sw offset (or near it)
            off = rng.randrange(0, 128)
        else:
            off = rng.randrange(LO, HI - size + 1)
        if rng.random() < 0.55:
            off &= ~(size - 1)
        return off

    def mem(self) -> list:
        rng = self.rng
        where = self.where()
        base = "sp" if where == "stack" else BASE[where]
        if rng.random() < 0.55:
            op = rng.choice(["lw", "lw", "lw", "lh", "lhu", "lb", "lbu"])
            size = {"w": 4, "h": 2, "b": 1}[op[1]]
            off = self.offset(where, size)
            rd = self.dst()
            out = [I(op, f"{op} {rd}, {off}({base})", X[rd], X[base], imm=off)]
            if rng.random() < 0.35:   # a load-use stall
                rd2 = self.dst()
                out.append(I("xor", f"xor {rd2}, {rd2}, {rd}", X[rd2], X[rd2], X[rd]))
            return out
        op = rng.choice(["sw", "sw", "sh", "sb"])
        size = {"w": 4, "h": 2, "b": 1}[op[1]]
        off = self.offset(where, size)
        rs = self.src() if rng.random() < 0.6 else rng.choice(CDATA)
        return [I(op, f"{op} {rs}, {off}({base})", 0, X[base], X[rs], imm=off)]

    def corev(self) -> list:
        rng = self.rng
        rd, a, b = self.dst(), self.src(), self.src()
        r = rng.random()
        if r < 0.35:   # the usual suspects of the kernels
            kind = rng.choice(["sdotsp.b", "sdotsp.h", "add.b", "max", "clip", "sdotup.b", "dotsp.h", "mac",
                               "add.h", "sub.b", "min", "maxu", "clipu", "abs", "addn", "mulsn"])
            name = "cv." + kind
            if kind in ("clip", "clipu"):
                imm = rng.randrange(32)
                return [I("cv", f"{name} {rd}, {a}, {imm}", X[rd], X[a], imm=imm, sym=name)]
            if kind in ("addn", "mulsn"):
                imm = rng.randrange(32)
                return [I("cv", f"{name} {rd}, {a}, {b}, {imm}", X[rd], X[a], X[b], imm=imm, sym=name)]
            if kind == "abs":
                return [I("cv", f"{name} {rd}, {a}", X[rd], X[a], sym=name)]
            return [I("cv", f"{name} {rd}, {a}, {b}", X[rd], X[a], X[b], sym=name)]
        fam = rng.choice(["R3", "R2", "RI5", "RRI5", "BM2", "SIMD", "SIMD", "SIMD_SH", "SIMD_RR", "SIMD_R2",
                          "SIMD_U6"])
        if fam == "R3":
            name = "cv." + rng.choice(R3)
            return [I("cv", f"{name} {rd}, {a}, {b}", X[rd], X[a], X[b], sym=name)]
        if fam == "R2":
            name = "cv." + rng.choice(R2)
            return [I("cv", f"{name} {rd}, {a}", X[rd], X[a], sym=name)]
        if fam == "RI5":
            name, imm = "cv." + rng.choice(RI5), rng.randrange(32)
            return [I("cv", f"{name} {rd}, {a}, {imm}", X[rd], X[a], imm=imm, sym=name)]
        if fam == "RRI5":
            name, imm = "cv." + rng.choice(RRI5), rng.randrange(32)
            return [I("cv", f"{name} {rd}, {a}, {b}, {imm}", X[rd], X[a], X[b], imm=imm, sym=name)]
        if fam == "BM2":
            name = "cv." + rng.choice(BM2 + ["bitrev"])
            i3 = rng.randrange(4 if name == "cv.bitrev" else 32)
            i2 = rng.randrange(32)
            return [I("cv", f"{name} {rd}, {a}, {i3}, {i2}", X[rd], X[a], imm=i3, imm2=i2, sym=name)]
        if fam == "SIMD":
            signed = rng.random() < 0.6
            base = rng.choice(SIMD_S if signed else SIMD_U)
            w = rng.choice("hb")
            form = rng.choice(["", "", "sc.", "sci."])
            name = f"cv.{base}.{form}{w}"
            if form == "sci.":
                imm = rng.randrange(-32, 32) if signed else rng.randrange(64)
                return [I("cv", f"{name} {rd}, {a}, {imm}", X[rd], X[a], imm=imm, sym=name)]
            return [I("cv", f"{name} {rd}, {a}, {b}", X[rd], X[a], X[b], sym=name)]
        if fam == "SIMD_SH":
            base, w = rng.choice(SIMD_SH), rng.choice("hb")
            form = rng.choice(["", "sc.", "sci."])
            name = f"cv.{base}.{form}{w}"
            if form == "sci.":
                imm = rng.randrange(16 if w == "h" else 8)
                return [I("cv", f"{name} {rd}, {a}, {imm}", X[rd], X[a], imm=imm, sym=name)]
            return [I("cv", f"{name} {rd}, {a}, {b}", X[rd], X[a], X[b], sym=name)]
        if fam == "SIMD_RR":
            name = "cv." + rng.choice(SIMD_RR)
            return [I("cv", f"{name} {rd}, {a}, {b}", X[rd], X[a], X[b], sym=name)]
        if fam == "SIMD_R2":
            name = "cv." + rng.choice(SIMD_R2)
            return [I("cv", f"{name} {rd}, {a}", X[rd], X[a], sym=name)]
        name, imm = "cv." + rng.choice(SIMD_U6), rng.randrange(64)
        return [I("cv", f"{name} {rd}, {a}, {imm}", X[rd], X[a], imm=imm, sym=name)]

    def wrap(self, where: str) -> list:
        p, b = PTR[where], BASE[where]
        return [I("sub", f"sub {p}, {p}, {b}", X[p], X[p], X[b]),
                I("andi", f"andi {p}, {p}, {PTR_MASK}", X[p], X[p], imm=PTR_MASK),
                I("add", f"add {p}, {p}, {b}", X[p], X[p], X[b])]

    def postinc(self) -> list:
        """A run of post-increment loads/stores through a6 or a7 (after the wrap),
        other instructions in between."""
        rng = self.rng
        where = "tcdm" if rng.random() < 0.7 else "l2"
        p = PTR[where]
        out = self.wrap(where)
        if rng.random() < 0.25:
            out.append(self.li(INC, rng.randrange(-8, 9)))
        for _ in range(rng.randint(1, 4)):
            load = rng.random() < 0.6
            sz = rng.choice("wwhb")
            name = ("cv.l" + sz + (rng.choice(["", "u"]) if sz != "w" else "")) if load else "cv.s" + sz
            size = {"w": 4, "h": 2, "b": 1}[sz]
            reg_inc = rng.random() < 0.35
            inc = rng.choice([size, size, 4, 1, 2, 8, -4, -size, 0, 3]) if not reg_inc else 0
            incs = INC if reg_inc else str(inc)
            if load:
                rd = self.dst()
                out.append(I("cvl", f"{name} {rd}, ({p}), {incs}", X[rd], X[p], X[INC] if reg_inc else 0,
                             imm=inc, imm2=size, sym=name))
            else:
                rs = self.src() if rng.random() < 0.7 else rng.choice(CDATA)
                if rs in (p,):
                    rs = "a0"
                # (rd: the increment register, for the model)
                out.append(I("cvs", f"{name} {rs}, ({p}), {incs}", X[INC] if reg_inc else 0, X[p], X[rs],
                             imm=inc, imm2=size, sym=name))
            if rng.random() < 0.5:
                out += self.corev() if rng.random() < 0.6 else self.alu()
        return out

    def rr_mem(self) -> list:
        """cv.lX rd, t4(base) / cv.sX rs, t4(base): register-register addressing."""
        rng = self.rng
        where = "tcdm" if rng.random() < 0.7 else "l2"
        b = BASE[where]
        sz = rng.choice("wwhb")
        size = {"w": 4, "h": 2, "b": 1}[sz]
        out = []
        if rng.random() < 0.3:
            out.append(self.li(INC, rng.randrange(-8, 9)))
        if rng.random() < 0.6:
            name = "cv.l" + sz + (rng.choice(["", "u"]) if sz != "w" else "")
            rd = self.dst()
            out.append(I("cvlrr", f"{name} {rd}, {INC}({b})", X[rd], X[b], X[INC], imm2=size, sym=name))
        else:
            name = "cv.s" + sz
            rs = self.src()
            out.append(I("cvsrr", f"{name} {rs}, {INC}({b})", X[INC], X[b], X[rs], imm2=size, sym=name))
        return out

    def simple(self) -> list:
        """Straight-line instructions (valid inside a hardware loop body)."""
        r = self.rng.random()
        if r < 0.28:
            return self.alu()
        if r < 0.38:
            return self.muldiv()
        if r < 0.58:
            return self.mem()
        if r < 0.78:
            return self.corev()
        if r < 0.90:
            return self.postinc()
        if r < 0.95:
            return self.rr_mem()
        return self.system()

    def system(self) -> list:
        """What stops a chain of the executor: CSR accesses (counters into t5 and the
        log; mscratch, modelled), atomics and lr/sc on the hart's own area, an MMIO
        load, fence."""
        rng = self.rng
        r = rng.random()
        log = I("log", f"sw {HWC}, {rng.choice(LOG)}(sp)")
        if r < 0.25:
            csr = rng.choice(COUNTER_CSRS + ([] if self.in_hw else HWLOOP_CSRS))
            return [I("unknown", f"csrr {HWC}, {csr}", X[HWC]), log]
        if r < 0.45:
            kind = rng.choice(["csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci"])
            rd = rng.choice(["zero"] + DATA)
            if kind.endswith("i"):
                imm = rng.randrange(32)
                return [I(kind, f"{kind} {rd}, mscratch, {imm}", X[rd], imm=imm)]
            rs = self.src()
            return [I(kind, f"{kind} {rd}, mscratch, {rs}", X[rd], X[rs])]
        if r < 0.55:
            a = rng.choice(MMIO_READS)
            return [I("unknown", f"li {HWC}, {a:#x}\n\tlw {HWC}, 0({HWC})", X[HWC], words=li_words(a) + 1), log]
        if r < 0.62:
            return [I("nop", "fence")]
        where = "tcdm" if rng.random() < 0.7 else "l2"
        p = PTR[where]
        out = self.wrap(where)
        out[1] = I("andi", f"andi {p}, {p}, {PTR_MASK & ~3}", X[p], X[p], imm=PTR_MASK & ~3)   # word aligned
        rd, rs = self.dst(), self.src()
        if r < 0.85:
            name = rng.choice(AMOS)
            out.append(I("amo", f"{name} {rd}, {rs}, ({p})", X[rd], X[p], X[rs], sym=name))
        else:
            rd2 = rng.choice([d for d in DATA if d != rd])
            out += [I("lr", f"lr.w {rd}, ({p})", X[rd], X[p]),
                    I("sc", f"sc.w {rd2}, {rs}, ({p})", X[rd2], X[p], X[rs])]
        return out

    # -- structure -------------------------------------------------------------------
    def seq(self, n: int, depth: int, ctx: str) -> Seq:
        """ctx: 'top' (anything), 'loop' (software loop body: no software loop, may
        call), 'func' (no call, no software loop)."""
        items = []
        rng = self.rng
        for _ in range(n):
            r = rng.random()
            if depth < 3 and r < 0.12:
                items.append(self.if_(depth, ctx))
            elif depth < 3 and ctx == "top" and r < 0.19:
                items.append(self.swloop(depth))
            elif depth < 3 and r < 0.30:
                items.append(self.hwloop(depth, rng.choice([0, 1, 1]) if ctx != "hw" else 0))
            elif ctx != "func" and r < 0.38:
                items.append(self.call())
            elif ctx == "top" and depth == 0 and len(self.poke_targets) < self.pokes and r < 0.42:
                items += self.poke()      # (few: each makes the simulator redecode the code)
            else:
                items += self.simple()
        return Seq(items)

    def poke(self) -> list:
        """A store to code: to an instruction a few ahead, or to a function's entry."""
        rng = self.rng
        ahead = not self.funcs or rng.random() < 0.6
        target = self.label("poke") if ahead else rng.choice(sorted(self.funcs))
        self.poke_targets.append(target)
        rd = self.dst()
        pre = I("la", f"lui a7, %hi({target})\n\taddi a7, a7, %lo({target})", X["a7"], sym=target, words=2)
        if rng.random() < 0.5:
            load = I("lhu", f"lhu {rd}, 0(a7)", X[rd], X["a7"])
        else:
            load = I("cvl", f"cv.lhu {rd}, (a7), 0", X[rd], X["a7"], imm=0, imm2=2, sym="cv.lhu")
        if rng.random() < 0.5:
            store = I("sh", f"sh {rd}, 0(a7)", 0, X["a7"], X[rd])
        else:
            store = I("cvs", f"cv.sh {rd}, (a7), 0", 0, X["a7"], X[rd], imm=0, imm2=2, sym="cv.sh")
        out = [Poke(target, pre, load, store)]
        if ahead:
            for _ in range(rng.randint(0, 2)):
                out += self.corev() if rng.random() < 0.5 else self.alu()
            out.append(Mark(target))
        return out

    def andi3(self, rd: str) -> I:
        s = self.src()
        return I("andi", f"andi {rd}, {s}, 3", X[rd], X[s], imm=3)

    def cond(self) -> tuple[list, I]:
        """The instructions computing a branch condition, and the branch (its asm
        without the target)."""
        rng = self.rng
        pre = []
        kind = rng.choice(["beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "beqimm", "bneimm"])
        a = self.src() if rng.random() < 0.5 else rng.choice(CDATA)
        if kind in ("beq", "bne", "beqz", "bnez", "beqimm", "bneimm") and rng.random() < 0.75:
            # values in 0..3: equal or not about as often
            a = rng.choice(CDATA if kind in ("beqz", "bnez") else DATA)
            pre.append(self.andi3(a))
        if kind in ("beqz", "bnez"):
            return pre, I("br", f"{kind} {a}", rs1=X[a], rs2=0, sym=kind[:3])
        if kind in ("beqimm", "bneimm"):
            imm = rng.randrange(0, 4) if pre else rng.randrange(-16, 16)
            return pre, I("br", f"cv.{kind} {a}, {imm}", rs1=X[a], imm=imm, sym=kind)
        b = self.src()
        if pre:
            b = rng.choice(DATA)
            pre.append(self.andi3(b))
        return pre, I("br", f"{kind} {a}, {b}", rs1=X[a], rs2=X[b], sym=kind)

    def if_(self, depth: int, ctx: str) -> If:
        rng = self.rng
        pre, br = self.cond()
        then = self.seq(rng.randint(1, 5), depth + 1, ctx)
        else_ = self.seq(rng.randint(1, 4), depth + 1, ctx) if rng.random() < 0.4 else None
        odd = rng.random() < 0.35
        post = None
        if odd or rng.random() < 0.5:
            post = rng.choice(self.alu() + self.muldiv()[-1:])
            if post.op in ("li", "auipc"):
                post = I("mul", f"mul {DATA[0]}, {DATA[1]}, {DATA[2]}", X[DATA[0]], X[DATA[1]], X[DATA[2]])
        return If(pre, br, then, else_, post, odd)

    def swloop(self, depth: int) -> SwLoop:
        rng = self.rng
        n = rng.randint(1, 5)
        body = self.seq(rng.randint(1, 5), depth + 1, "loop")
        kind = rng.choice(["bnez", "bneimm", "bgtz", "up"])
        if kind == "up":
            init = self.li(LOOPC, 0)
            step = I("addi", f"addi {LOOPC}, {LOOPC}, 1", X[LOOPC], X[LOOPC], imm=1)
            br = I("br", f"cv.bneimm {LOOPC}, {n}", rs1=X[LOOPC], imm=n, sym="bneimm")
        else:
            init = self.li(LOOPC, n)
            step = I("addi", f"addi {LOOPC}, {LOOPC}, -1", X[LOOPC], X[LOOPC], imm=-1)
            if kind == "bnez":
                br = I("br", f"bnez {LOOPC}", rs1=X[LOOPC], rs2=0, sym="bne")
            elif kind == "bneimm":
                br = I("br", f"cv.bneimm {LOOPC}, 0", rs1=X[LOOPC], imm=0, sym="bneimm")
            else:
                br = I("br", f"blt zero, {LOOPC}", rs1=0, rs2=X[LOOPC], sym="blt")
        top = None
        if rng.random() < 0.4:
            a = rng.choice(DATA)
            top = I("addi", f"addi {a}, {a}, 1", X[a], X[a], imm=1)
        return SwLoop(init, body, step, br, top, n)

    def hw_body(self, L: int, depth: int, max_words: int) -> tuple[Seq, int]:
        """32-bit straight-line instructions, at least 3; loop 1 may hold a loop 0
        followed by at least 2 words of its own (its end >= loop 0's end + 8)."""
        rng = self.rng
        outer, self.in_hw = self.in_hw, True
        try:
            return self._hw_body(L, depth, max_words)
        finally:
            self.in_hw = outer

    def _hw_body(self, L: int, depth: int, max_words: int) -> tuple[Seq, int]:
        rng = self.rng
        while True:
            items, words, after_inner = [], 0, None
            want = rng.randint(3, 12)
            inner = L == 1 and depth < 3 and rng.random() < 0.6
            for k in range(want):
                if inner and k == want // 2:
                    h = self.hwloop(depth + 1, 0, max_words=max_words - words - 2)
                    if h is not None:
                        items.append(h)
                        words += h.words
                        after_inner = 0
                        continue
                for ins in self.simple():
                    items.append(ins)
                    words += ins.words
                    if after_inner is not None:
                        after_inner += ins.words
            while after_inner is not None and after_inner < 2:
                for ins in self.alu():
                    items.append(ins)
                    words += ins.words
                    after_inner += ins.words
            if words >= 3 and words <= max_words:
                return Seq(items), words

    def hwloop(self, depth: int, L: int, max_words: int = 4000) -> HwLoop | None:
        rng = self.rng
        form = rng.choice(["setupi", "setupi", "setup", "starti", "start"])
        n = rng.choice([1, 2, 3, 4, 5, 7] + ([0] if rng.random() < 0.15 else []))
        if depth > 0:
            n = min(n, 3)
        limit = 30 if form == "setupi" else 4000
        setup_words = {"setupi": 1, "setup": 1 + li_words(n), "starti": 3,
                       "start": 3 + (3 if self.reg_end else 1) + li_words(n) + 1}[form]
        if max_words - setup_words < 3:
            return None
        body, words = self.hw_body(L, depth, min(limit, max_words - setup_words))
        pre = []
        if form in ("setup", "start"):
            pre.append(self.li(HWC, n))       # what t5 holds at the end (the model skips the addresses)
        return HwLoop(L, n, form, pre, body, words + setup_words, reg_end=self.reg_end)

    def call(self) -> Call:
        rng = self.rng
        if not self.funcs or (len(self.funcs) < 6 and rng.random() < 0.4):
            name = f"dt_fn{len(self.funcs)}"
            l1 = rng.random() < 0.3
            odd = rng.random() < 0.5
            first = None
            if odd:
                a, b, c = (rng.choice(DATA) for _ in range(3))
                first = rng.choice([I("mul", f"mul {a}, {b}, {c}", X[a], X[b], X[c]),
                                    I("xori", f"xori {a}, {b}, 1000", X[a], X[b], imm=1000)])
            self.funcs[name] = Func(name, Seq([]), l1, odd, first)   # registered first: no recursion
            self.funcs[name].body = self.seq(rng.randint(2, 6), 1, "func")
        else:
            name = rng.choice(sorted(self.funcs))
        f = self.funcs[name]
        kinds = ["call", "jalr", "jalr_off"] + ([] if f.l1 else ["jal", "jal"])
        kind = rng.choice(kinds)
        pre = []
        if kind == "jalr":
            pre.append(I("la", f"lui a7, %hi({name})\n\taddi a7, a7, %lo({name})", X["a7"], sym=name, words=2))
        elif kind == "jalr_off":
            pre.append(I("la", f"lui a7, %hi({name} - 4)\n\taddi a7, a7, %lo({name} - 4)", X["a7"], sym=name,
                         imm=-4, words=2))
        return Call(name, kind, pre)

    def program(self) -> Program:
        rng = self.rng
        tstride, lstride = rng.choice(STRIDES), rng.choice(STRIDES)
        init = []
        for r in DATA:
            init.append(self.li(r, self.val()))
        init.append(self.li(INC, rng.randrange(-8, 9)))
        init += [self.li(HWC, 0), self.li(LOOPC, 0)]
        init.append(I("csrrw", "csrw mscratch, zero", 0, 0))
        init.append(I("add", "mv a6, s0", X["a6"], 0, X["s0"]))
        init.append(I("add", "mv a7, s1", X["a7"], 0, X["s1"]))
        for k, off in enumerate(range(SCRATCH, FRAME, 4)):
            r = DATA[k % len(DATA)]
            init.append(I("sw", f"sw {r}, {off}(sp)", 0, X["sp"], X[r], imm=off))
        body = self.seq(self.size, 0, "top")
        tree = Seq(init + [body])
        tcdm = bytes(rng.getrandbits(8) for _ in range(8 * tstride))
        l2 = bytes(rng.getrandbits(8) for _ in range(8 * lstride))
        asm = render(self, tree, tstride, lstride, tcdm, l2)
        return Program(self.seed, asm, tree, tstride, lstride, tcdm, l2, self.funcs, pokes=self.poke_targets)


def generate(seed: int, size: int = 45, pokes: int = 3, reg_end: bool = True) -> Program:
    return Gen(seed, size, pokes, reg_end).program()


# ------------------------------------------------------------------ assembly
HEADER = """/* Generated by tests/chain_diff_gen.py (seed {seed}): dt_body(tcdm, l2, dump) for
 * tests/chain_diff_harness.c. */
#include "corev.h"
    .option norelax
    .option arch, +xcvbitmanip
"""


class Emitter:
    def __init__(self, gen: Gen):
        self.out: list[str] = []
        self.gen = gen

    def line(self, s: str):
        self.out.append(s)

    def ins(self, i: I):
        if i.label:
            self.line(f"    .globl {i.label}")
            self.line(f"{i.label}:")
        for part in i.asm.split("\n"):
            self.line(f"    {part.strip()}")

    def forced32(self, i: I):
        self.line("    .option push\n    .option norvc")
        self.ins(i)
        self.line("    .option pop")

    def node(self, n):
        g = self.gen
        if isinstance(n, I):
            self.ins(n)
        elif isinstance(n, Seq):
            for x in n.items:
                self.node(x)
        elif isinstance(n, If):
            for i in n.pre:
                self.ins(i)
            l_else, l_end = g.label(), g.label()
            self.line(f"    {n.br.asm}, {l_else if n.else_ else l_end}")
            self.node(n.then)
            if n.else_:
                self.line(f"    j {l_end}")
                self.line(f"{l_else}:")
                self.node(n.else_)
            if n.odd:
                self.line("    .balign 4\n    .2byte 0x0001")   # c.nop: the target is 2 mod 4
            self.line(f"{l_end}:")
            if n.post:
                (self.forced32 if n.odd else self.ins)(n.post)
        elif isinstance(n, SwLoop):
            self.ins(n.init)
            l_top = g.label()
            if n.top:
                self.line("    .balign 4\n    .2byte 0x0001")
            self.line(f"{l_top}:")
            if n.top:
                self.forced32(n.top)
            self.node(n.body)
            self.ins(n.step)
            self.line(f"    {n.br.asm}, {l_top}")
        elif isinstance(n, HwLoop):
            L = n.L
            l_set, l_b, l_e = n.labels = g.label("hs"), g.label("hb"), g.label("he")
            self.line(f"    .globl {l_set}, {l_b}, {l_e}")
            self.line("    .balign 4")
            self.line(f"{l_set}:")
            if n.form == "setupi":
                self.line(f"    cv.setupi {L}, {n.n}, {l_e}")
            elif n.form == "setup":
                self.ins(n.pre[0])
                self.line(f"    cv.setup {L}, {HWC}, {l_e}")
            elif n.form == "starti":
                self.line(f"    cv.starti {L}, {l_b}\n    cv.endi {L}, {l_e}\n    cv.counti {L}, {n.n}")
            else:
                self.line(f"    .option push\n    .option norvc")
                self.line(f"    lui {HWC}, %hi({l_b})\n    addi {HWC}, {HWC}, %lo({l_b})\n    cv.start {L}, {HWC}")
                if n.reg_end:
                    self.line(f"    lui {HWC}, %hi({l_e})\n    addi {HWC}, {HWC}, %lo({l_e})\n    cv.end {L}, {HWC}")
                else:
                    self.line(f"    cv.endi {L}, {l_e}")
                self.ins(n.pre[0])
                self.line(f"    cv.count {L}, {HWC}")
                self.line("    .option pop")
            self.line("    .option push\n    .option norvc")
            self.line(f"{l_b}:")
            self.node(n.body)
            self.line(f"{l_e}:")
            self.line("    .option pop")
        elif isinstance(n, Poke):
            for i in (n.pre, n.load, n.store):
                self.ins(i)
        elif isinstance(n, Mark):
            self.line(f"    .globl {n.name}\n{n.name}:")
        elif isinstance(n, Call):
            for i in n.pre:
                self.ins(i)
            if n.kind == "jal":
                self.line(f"    jal ra, {n.fn}")
            elif n.kind == "call":
                self.line(f"    call {n.fn}")
            elif n.kind == "jalr":
                self.line("    jalr ra, 0(a7)")
            else:
                self.line("    jalr ra, 4(a7)")
        else:
            raise TypeError(n)


def render(gen: Gen, tree: Seq, tstride: int, lstride: int, tcdm: bytes, l2: bytes) -> str:
    e = Emitter(gen)
    e.line(HEADER.format(seed=gen.seed))
    e.line("    .section .text.dt_body, \"ax\"")
    e.line("    .globl dt_body\n    .type dt_body, @function\n    .balign 4\ndt_body:")
    e.line(f"    addi sp, sp, -{FRAME}")
    e.line("    sw ra, 0(sp)")
    for k in range(12):
        e.line(f"    sw s{k}, {4 + 4 * k}(sp)")
    e.line("    sw a2, 52(sp)")
    e.line("    addi s0, a0, 64\n    addi s1, a1, 64")
    e.node(tree)
    e.line("    lw ra, 52(sp)")
    for i in range(2, 32):
        e.line(f"    sw {ABI[i]}, {4 * i}(ra)")
    for k in range(12):
        e.line(f"    lw s{k}, {4 + 4 * k}(sp)")
    e.line("    lw ra, 0(sp)")
    e.line(f"    addi sp, sp, {FRAME}\n    ret\n    .size dt_body, . - dt_body")
    for f in gen.funcs.values():
        e.line(f"    .section {'.l1.text' if f.l1 else '.text'}.{f.name}, \"ax\"")
        e.line(f"    .globl {f.name}\n    .type {f.name}, @function\n    .balign 4")
        if f.odd:
            e.line("    .2byte 0x0001")     # never run: puts the entry at 2 mod 4
        e.line(f"{f.name}:")
        if f.first:
            e.forced32(f.first)
        e.node(f.body)
        e.line(f"    ret\n    .size {f.name}, . - {f.name}")
    e.line("    .section .l1.dt_tcdm, \"aw\"\n    .balign 128\n    .globl dt_tcdm\ndt_tcdm:")
    _data(e, tcdm)
    e.line("    .section .data.dt_l2, \"aw\"\n    .balign 128\n    .globl dt_l2\ndt_l2:")
    _data(e, l2)
    e.line("    .section .bss.dt_dump, \"aw\", @nobits\n    .balign 4\n    .globl dt_dump\ndt_dump:\n"
           "    .space 8 * 128")
    e.line(f"    .section .rodata.dt_strides, \"a\"\n    .balign 4\n    .globl dt_tstride, dt_lstride\n"
           f"dt_tstride: .word {tstride}\ndt_lstride: .word {lstride}")
    return "\n".join(e.out) + "\n"


def _data(e: Emitter, data: bytes):
    for k in range(0, len(data), 64):
        words = [int.from_bytes(data[j:j + 4], "little") for j in range(k, min(k + 64, len(data)), 4)]
        e.line("    .word " + ", ".join(f"{w:#x}" for w in words))


# ------------------------------------------------------------------ model
class OutOfArea(AssertionError):
    pass


class Model:
    """One hart running a program's tree: registers and its memory areas."""

    SP = 0x7F000000          # a fake stack pointer: only the frame's scratch is modelled

    def __init__(self, prog: Program, hart: int, syms: dict[str, int], code: dict[str, bytes] = None):
        self.syms = syms
        self.x = [0] * 32
        t0 = syms["dt_tcdm"] + hart * prog.tstride
        l0 = syms["dt_l2"] + hart * prog.lstride
        self.areas = [(t0, bytearray(prog.tcdm[hart * prog.tstride:hart * prog.tstride + AREA])),
                      (l0, bytearray(prog.l2[hart * prog.lstride:hart * prog.lstride + AREA])),
                      (self.SP + SCRATCH, bytearray(FRAME - SCRATCH))]
        for name, data in (code or {}).items():    # the halfwords of code the pokes read and rewrite
            self.areas.append((syms[name], bytearray(data)))
        self.x[X["sp"]] = self.SP
        self.x[X["s0"]] = t0 + 64
        self.x[X["s1"]] = l0 + 64
        self.funcs = prog.funcs
        self.steps = 0
        self.mscratch = None

    # -- memory ----------------------------------------------------------------------
    def _at(self, addr, size):
        for base, buf in self.areas:
            if base <= addr and addr + size <= base + len(buf):
                return buf, addr - base
        raise OutOfArea(f"access of {size} bytes at {addr:#x} outside the hart's areas")

    def load(self, addr, size, signed):
        buf, o = self._at(addr, size)
        v = int.from_bytes(buf[o:o + size], "little")
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return u32(v)

    def store(self, addr, size, v):
        buf, o = self._at(addr, size)
        buf[o:o + size] = (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def set(self, r, v):
        if r:
            self.x[r] = None if v is None else u32(v)

    # -- instructions -------------------------------------------------------------------
    def exec(self, i: I):
        self.steps += 1
        x, op = self.x, i.op
        a, b = x[i.rs1], x[i.rs2]
        if op == "li":
            self.set(i.rd, i.imm)
        elif op == "lui":
            self.set(i.rd, i.imm << 12)
        elif op == "auipc":
            self.set(i.rd, self.syms[i.label] + (i.imm << 12))
        elif op == "la":
            self.set(i.rd, self.syms[i.sym] + i.imm)
        elif op in ALU_I:
            self.set(i.rd, ALU_I[op](a, i.imm))
        elif op in ALU_R:
            self.set(i.rd, ALU_R[op](a, b))
        elif op in LOADS:
            size, signed = LOADS[op]
            self.set(i.rd, self.load(u32(a + i.imm), size, signed))
        elif op in STORES:
            self.store(u32(a + i.imm), STORES[op], b)
        elif op == "cv":
            self.set(i.rd, ref.execute(i.sym, a, b, x[i.rd], i.imm, i.imm2))
        elif op == "cvl":            # rd = mem[rs1]; rs1 += inc (register rs2 or imm)
            inc = x[i.rs2] if i.rs2 else i.imm
            v = self.load(a, i.imm2, not i.sym.endswith("u"))
            self.set(i.rs1, a + inc)
            self.set(i.rd, v)
        elif op == "cvs":            # mem[rs1] = rs2; rs1 += inc (register in rd or imm)
            inc = x[i.rd] if i.rd else i.imm
            self.store(a, i.imm2, b)
            self.set(i.rs1, a + inc)
        elif op == "cvlrr":
            self.set(i.rd, self.load(u32(a + b), i.imm2, not i.sym.endswith("u")))
        elif op == "cvsrr":
            self.store(u32(a + x[i.rd]), i.imm2, b)
        elif op == "unknown":        # a counter or an MMIO read: not modelled
            self.set(i.rd, None)
        elif op in ("log", "nop"):
            pass
        elif op in CSR_OPS:
            old = self.mscratch
            v = i.imm if op.endswith("i") else a
            self.mscratch = CSR_OPS[op](old, v)
            self.set(i.rd, old)
        elif op == "amo":
            old = self.load(a, 4, False)
            self.store(a, 4, AMO_OPS[i.sym](old, b))
            self.set(i.rd, old)
        elif op == "lr":
            self.set(i.rd, self.load(a, 4, False))
        elif op == "sc":             # nothing stored in between: it succeeds
            self.store(a, 4, b)
            self.set(i.rd, 0)
        else:
            raise ValueError(op)

    def taken(self, br: I) -> bool:
        a, b = self.x[br.rs1], self.x[br.rs2]
        k = br.sym
        if k == "beqimm":
            return a == u32(br.imm)
        if k == "bneimm":
            return a != u32(br.imm)
        return {"beq": a == b, "bne": a != b, "blt": s32(a) < s32(b), "bge": s32(a) >= s32(b),
                "bltu": a < b, "bgeu": a >= b}[k]

    def run(self, n):
        if self.steps > 2_000_000:
            raise RuntimeError("model ran away")
        if isinstance(n, I):
            self.exec(n)
        elif isinstance(n, Seq):
            for it in n.items:
                self.run(it)
        elif isinstance(n, If):
            for i in n.pre:
                self.exec(i)
            if not self.taken(n.br):
                self.run(n.then)
            elif n.else_:
                self.run(n.else_)
            if n.post:
                self.exec(n.post)
        elif isinstance(n, SwLoop):
            self.exec(n.init)
            while True:
                if n.top:
                    self.exec(n.top)
                self.run(n.body)
                self.exec(n.step)
                if not self.taken(n.br):
                    break
        elif isinstance(n, HwLoop):
            for i in n.pre:
                self.exec(i)
            for _ in range(max(n.n, 1)):
                self.run(n.body)
        elif isinstance(n, Poke):
            for i in (n.pre, n.load, n.store):
                self.exec(i)
        elif isinstance(n, Mark):
            pass
        elif isinstance(n, Call):
            for i in n.pre:
                self.exec(i)
            f = self.funcs[n.fn]
            if f.first:
                self.exec(f.first)
            self.run(f.body)
        else:
            raise TypeError(n)


def _div(a, b):
    if b == 0:
        return M32
    if s32(a) == -(1 << 31) and s32(b) == -1:
        return a
    q = abs(s32(a)) // abs(s32(b))
    return u32(-q if (s32(a) < 0) != (s32(b) < 0) else q)


def _rem(a, b):
    if b == 0:
        return a
    if s32(a) == -(1 << 31) and s32(b) == -1:
        return 0
    r = abs(s32(a)) % abs(s32(b))
    return u32(-r if s32(a) < 0 else r)


ALU_I = {
    "addi": lambda a, i: a + i, "slti": lambda a, i: int(s32(a) < i), "sltiu": lambda a, i: int(a < u32(i)),
    "xori": lambda a, i: a ^ u32(i), "ori": lambda a, i: a | u32(i), "andi": lambda a, i: a & u32(i),
    "slli": lambda a, i: a << i, "srli": lambda a, i: a >> i, "srai": lambda a, i: s32(a) >> i,
}
ALU_R = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "sll": lambda a, b: a << (b & 31),
    "slt": lambda a, b: int(s32(a) < s32(b)), "sltu": lambda a, b: int(a < b), "xor": lambda a, b: a ^ b,
    "srl": lambda a, b: a >> (b & 31), "sra": lambda a, b: s32(a) >> (b & 31), "or": lambda a, b: a | b,
    "and": lambda a, b: a & b,
    "mul": lambda a, b: a * b, "mulh": lambda a, b: (s32(a) * s32(b)) >> 32,
    "mulhsu": lambda a, b: (s32(a) * b) >> 32, "mulhu": lambda a, b: (a * b) >> 32,
    "div": _div, "divu": lambda a, b: a // b if b else M32, "rem": _rem, "remu": lambda a, b: a % b if b else a,
}
CSR_OPS = {"csrrw": lambda o, v: v, "csrrs": lambda o, v: o | v, "csrrc": lambda o, v: o & ~v & M32,
           "csrrwi": lambda o, v: v, "csrrsi": lambda o, v: o | v, "csrrci": lambda o, v: o & ~v & M32}
AMO_OPS = {"amoadd.w": lambda m, r: u32(m + r), "amoswap.w": lambda m, r: r, "amoxor.w": lambda m, r: m ^ r,
           "amoand.w": lambda m, r: m & r, "amoor.w": lambda m, r: m | r,
           "amomin.w": lambda m, r: m if s32(m) < s32(r) else r, "amomax.w": lambda m, r: m if s32(m) > s32(r) else r,
           "amominu.w": min, "amomaxu.w": max}
LOADS = {"lw": (4, True), "lh": (2, True), "lhu": (2, False), "lb": (1, True), "lbu": (1, False)}
STORES = {"sw": 4, "sh": 2, "sb": 1}


def expected(prog: Program, hart: int, syms: dict[str, int], code: dict[str, bytes] = None) -> Model:
    m = Model(prog, hart, syms, code)
    m.run(prog.tree)
    return m
