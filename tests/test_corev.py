"""CORE-V instructions: real encodings from the toolchain (zig's clang), executed by
the native executor on a raw Unicorn engine, compared with tests/isa_ref.py (an
independent reading of the CV32E40P manual).

One program per session runs every instruction over a table of random operands
(>= 10^4 per instruction; the immediate forms split them over their immediates).
Hardware loops, which the assembler lacks, are emitted as .word from the manual's
field layout (written here, not taken from iss/).
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isa_ref as ref  # noqa: E402

from iss import isa, native  # noqa: E402
from iss.standalone import L2_BASE, TCDM_BASE, TCDM_SIZE, StandaloneHart, assemble  # noqa: E402

DATA_OFF = 8 << 20           # operand records from L2_BASE + DATA_OFF
PER_INSN = int(os.environ.get("ISS_COREV_N", "10000"))
SEED = int(os.environ.get("ISS_COREV_SEED", "1234"))   # of the random operand sets
STOP_WORD = 0xFFFFFFFF       # an invalid encoding ends every program

# ------------------------------------------------------------------ instruction list
# Written from the manual's tables (independently of iss/isa/table.py; a test checks
# both lists name the same instructions).
R3 = ["sle", "sleu", "min", "minu", "max", "maxu", "clipr", "clipur", "addnr", "addunr", "addrnr",
      "addurnr", "subnr", "subunr", "subrnr", "suburnr", "extractr", "extractur", "insertr", "bclrr",
      "bsetr", "ror", "mac", "msu"]
R2 = ["abs", "exths", "exthz", "extbs", "extbz", "ff1", "fl1", "clb", "cnt"]
RI5 = ["clip", "clipu"]
RRI5 = ["addn", "addun", "addrn", "addurn", "subn", "subun", "subrn", "suburn",
        "mulsn", "mulhhsn", "mulsrn", "mulhhsrn", "mulun", "mulhhun", "mulurn", "mulhhurn",
        "macsn", "machhsn", "macsrn", "machhsrn", "macun", "machhun", "macurn", "machhurn"]
BM2 = ["extract", "extractu", "insert", "bclr", "bset"]
SIMD_S = ["add", "sub", "avg", "min", "max", "or", "xor", "and", "dotusp", "dotsp", "sdotusp", "sdotsp",
          "cmpeq", "cmpne", "cmpgt", "cmpge", "cmplt", "cmple"]
SIMD_U = ["avgu", "minu", "maxu", "dotup", "sdotup", "cmpgtu", "cmpgeu", "cmpltu", "cmpleu"]
SIMD_SH = ["srl", "sra", "sll"]
SIMD_RR = ["shuffle.h", "shuffle.b", "shuffle2.h", "shuffle2.b", "pack", "pack.h", "packhi.b", "packlo.b"] + \
    [f"cplxmul.{p}{d}" for p in "ri" for d in ("", ".div2", ".div4", ".div8")] + \
    [f"subrotmj{d}" for d in ("", ".div2", ".div4", ".div8")] + \
    [f"{o}.div{k}" for o in ("add", "sub") for k in (2, 4, 8)]
SIMD_R2 = ["abs.h", "abs.b", "cplxconj"]
SIMD_U6 = ["extract.h", "extract.b", "extractu.h", "extractu.b", "insert.h", "insert.b", "shuffle.sci.h"] + \
    [f"shufflei{k}.sci.b" for k in range(4)]


def variants():
    """(mnemonic, assembly of the instruction with rd=a3 rs1=a1 rs2=a2, imm, imm2)."""
    out = []
    for n in R3:
        out.append((f"cv.{n}", f"cv.{n} a3, a1, a2", 0, 0))
    for n in R2:
        out.append((f"cv.{n}", f"cv.{n} a3, a1", 0, 0))
    for n in RI5:
        out += [(f"cv.{n}", f"cv.{n} a3, a1, {i}", i, 0) for i in range(32)]
    for n in RRI5:
        out += [(f"cv.{n}", f"cv.{n} a3, a1, a2, {i}", i, 0) for i in range(32)]
    for n in BM2:
        out += [(f"cv.{n}", f"cv.{n} a3, a1, {a}, {b}", a, b) for a in range(32) for b in range(32)]
    out += [("cv.bitrev", f"cv.bitrev a3, a1, {a}, {b}", a, b) for a in range(4) for b in range(32)]
    for fam, imms in ((SIMD_S, range(-32, 32)), (SIMD_U, range(64))):
        for n in fam:
            for w in "hb":
                out.append((f"cv.{n}.{w}", f"cv.{n}.{w} a3, a1, a2", 0, 0))
                out.append((f"cv.{n}.sc.{w}", f"cv.{n}.sc.{w} a3, a1, a2", 0, 0))
                out += [(f"cv.{n}.sci.{w}", f"cv.{n}.sci.{w} a3, a1, {i}", i, 0) for i in imms]
    for n in SIMD_SH:
        for w, top in (("h", 16), ("b", 8)):
            out.append((f"cv.{n}.{w}", f"cv.{n}.{w} a3, a1, a2", 0, 0))
            out.append((f"cv.{n}.sc.{w}", f"cv.{n}.sc.{w} a3, a1, a2", 0, 0))
            out += [(f"cv.{n}.sci.{w}", f"cv.{n}.sci.{w} a3, a1, {i}", i, 0) for i in range(top)]
    for n in SIMD_RR:
        out.append((f"cv.{n}", f"cv.{n} a3, a1, a2", 0, 0))
    for n in SIMD_R2:
        out.append((f"cv.{n}", f"cv.{n} a3, a1", 0, 0))
    for n in SIMD_U6:
        out += [(f"cv.{n}", f"cv.{n} a3, a1, {i}", i, 0) for i in range(64)]
    return out


SPECIAL = [0, 1, 2, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
           0x80808080, 0x7F7F7F7F, 0xFFFF0000, 0x0000FFFF, 0x80008000, 0x7FFF7FFF, 0x01010101, 0x1F, 0x20]
SPECIAL_BYTES = [0, 1, 0x7F, 0x80, 0x81, 0xFF, 0xFE, 0x40, 0x3F]


def rand_word(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.15:
        return rng.choice(SPECIAL)
    if r < 0.35:
        return int.from_bytes(bytes(rng.choice(SPECIAL_BYTES) for _ in range(4)), "little")
    if r < 0.45:
        return rng.randrange(-64, 64) & 0xFFFFFFFF
    return rng.getrandbits(32)


# ------------------------------------------------------------------ build & run helpers
# assemble() and StandaloneHart (iss/standalone.py): the harness the native
# executor's bench runs on too.


LOOP = """
  li s2, {k}
1:
  lw a1, 0(s0)
  lw a2, 4(s0)
  lw a3, 8(s0)
  {insn}
  sw a3, 0(s1)
  addi s0, s0, 12
  addi s1, s1, 4
  addi s2, s2, -1
  bnez s2, 1b
"""


def li_size(v: int) -> int:
    """Instructions of `li` (lui and/or addi)."""
    v &= 0xFFFFFFFF
    sv = v - (1 << 32) if v & 0x80000000 else v
    if -2048 <= sv < 2048 or v & 0xFFF == 0:
        return 1
    return 2


def _split(total: int, parts: int) -> list[int]:
    q, r = divmod(total, parts)
    return [q + (1 if i < r else 0) for i in range(parts)]


@pytest.fixture(scope="session")
def alu_run(tmp_path_factory):
    """Every register-result instruction over its random operands: returns
    (variants, counts per variant, operands array, results array)."""
    build = tmp_path_factory.mktemp("corev")
    vs = variants()
    by_name: dict[str, list[int]] = {}
    for i, v in enumerate(vs):
        by_name.setdefault(v[0], []).append(i)
    counts = [0] * len(vs)
    for name, idxs in by_name.items():
        for i, k in zip(idxs, _split(PER_INSN, len(idxs))):
            counts[i] = k
    total = sum(counts)
    rec_base = L2_BASE + DATA_OFF
    res_base = rec_base + 12 * total
    src = [".option norvc", ".globl _start", "_start:", f"  li s0, {rec_base:#x}", f"  li s1, {res_base:#x}"]
    for (name, asm, _, _), k in zip(vs, counts):
        if k:
            src.append(LOOP.format(k=k, insn=asm))
    src.append(f"  .word {STOP_WORD:#x}")
    code, base = assemble("\n".join(src), build, "alu")
    m = StandaloneHart(code, base)
    rng = random.Random(SEED)
    ops = np.array([rand_word(rng) for _ in range(3 * total)], np.uint32).reshape(total, 3)
    m.l2[DATA_OFF:DATA_OFF + ops.nbytes] = ops.view(np.uint8).ravel()
    reason = m.run()
    assert reason == native.STOP_ILLEGAL and m.st.stop_info == STOP_WORD
    results = m.words(res_base, total).copy()
    return vs, counts, ops, results, m


def _names():
    return sorted({v[0] for v in variants()})


@pytest.mark.parametrize("name", _names())
def test_instruction_matches_reference(alu_run, name):
    vs, counts, ops, results, _ = alu_run
    pos = 0
    checked = 0
    execute = ref.execute
    for (n, asm, imm, imm2), k in zip(vs, counts):
        if n == name:
            for j in range(pos, pos + k):
                a, b, d = int(ops[j, 0]), int(ops[j, 1]), int(ops[j, 2])
                want = execute(n, a, b, d, imm, imm2)
                got = int(results[j])
                if got != want:
                    pytest.fail(f"{asm}: rs1={a:#010x} rs2={b:#010x} rd={d:#010x}: got {got:#010x}, "
                                f"reference {want:#010x}")
            checked += k
        pos += k
    assert checked >= min(PER_INSN, 10000)


def test_program_accounting(alu_run):
    """The block hook counted every instruction once and the executor ran every
    custom instruction natively."""
    vs, counts, ops, results, m = alu_run
    total = sum(counts)
    rec_base = L2_BASE + DATA_OFF
    expected = li_size(rec_base) + li_size(rec_base + 12 * total)
    expected += sum(li_size(k) + 9 * k for k in counts if k)
    assert m.isa.executed == total
    assert m.st.instret == expected + 1           # + the stop word's own block


def test_covers_the_table():
    """The test list and the decoder table name the same CORE-V instructions, and
    every one has a native semantic function."""
    lib = native.lib()
    table = {r.name for r in isa.ROWS[:isa.N_COREV]}
    tested = set(_names()) | {"cv.lb", "cv.lbu", "cv.lh", "cv.lhu", "cv.lw", "cv.sb", "cv.sh", "cv.sw",
                              "cv.elw", "cv.beqimm", "cv.bneimm"} | \
        {f"cv.{n}" for n in ("starti", "start", "endi", "end", "counti", "count", "setupi", "setup")}
    assert table == tested
    for r in isa.ROWS[:isa.N_COREV]:
        assert lib.iss_corev_has_semantics(r.op), r.name


def test_generated_header_is_current():
    from iss.isa import gen
    assert gen.HEADER.read_text() == gen.render(), "run python -m iss.isa.gen"


# ------------------------------------------------------------------ encodings
def test_toolchain_encodings_decode(alu_run, tmp_path_factory):
    """Every mnemonic assembled by zig decodes to itself with the same operands."""
    build = tmp_path_factory.mktemp("enc")
    rng = random.Random(7)
    lines, expect = [".option norvc", ".globl _start", "_start:"], []
    regs = isa.ABI
    for name, asm, imm, imm2 in variants():
        rd, rs1, rs2 = rng.randrange(32), rng.randrange(32), rng.randrange(32)
        sub = {"a3": regs[rd], "a1": regs[rs1], "a2": regs[rs2]}
        a = re.sub(r"\b(a1|a2|a3)\b", lambda mt: sub[mt.group(1)], asm)
        lines.append("  " + a)
        expect.append((name, rd, rs1, rs2 if "a2" in asm else None, imm, imm2, a))
    code, base = assemble("\n".join(lines), build, "enc")
    for i, (name, rd, rs1, rs2, imm, imm2, a) in enumerate(expect):
        w = int.from_bytes(code[4 * i:4 * i + 4], "little")
        d = isa.decode(w)
        assert d is not None and d.mnemonic == name, (a, hex(w), d)
        assert (d.rd, d.rs1) == (rd, rs1), a
        if rs2 is not None:
            assert d.rs2 == rs2, a
        if d.fmt in ("RI5", "RRI5", "SI6", "UI6"):
            assert d.imm == imm, a
        if d.fmt == "BM2":
            assert (d.imm, d.imm2) == (imm, imm2), a


MEM_FORMS = [
    ("cv.lb {rd}, ({rs1}), {imm}", "LPI"), ("cv.lbu {rd}, ({rs1}), {imm}", "LPI"),
    ("cv.lh {rd}, ({rs1}), {imm}", "LPI"), ("cv.lhu {rd}, ({rs1}), {imm}", "LPI"),
    ("cv.lw {rd}, ({rs1}), {imm}", "LPI"),
    ("cv.lb {rd}, ({rs1}), {rs2}", "LPR"), ("cv.lw {rd}, {rs2}({rs1})", "LRR"),
    ("cv.sb {rs2}, ({rs1}), {imm}", "SPI"), ("cv.sw {rs2}, ({rs1}), {rs3}", "SPR"),
    ("cv.sh {rs2}, {rs3}({rs1})", "SRR"), ("cv.elw {rd}, {imm}({rs1})", "L"),
]


def test_memory_and_branch_encodings(tmp_path_factory):
    build = tmp_path_factory.mktemp("enc2")
    rng = random.Random(3)
    lines, expect = [".option norvc", "_start:"], []
    for i in range(400):
        form, fmt = MEM_FORMS[i % len(MEM_FORMS)]
        f = dict(rd=rng.randrange(1, 32), rs1=rng.randrange(1, 32), rs2=rng.randrange(32),
                 rs3=rng.randrange(32), imm=rng.randrange(-2048, 2048))
        lines.append("  " + form.format(**{k: (isa.ABI[v] if k != "imm" else v) for k, v in f.items()}))
        expect.append((form.split()[0], fmt, f))
    for i in range(64):
        v = rng.randrange(-16, 16)
        lines.append(f"  cv.{'beqimm' if i & 1 else 'bneimm'} {isa.ABI[i % 32]}, {v}, _start")
        expect.append(("cv.beqimm" if i & 1 else "cv.bneimm", "BI", dict(rs1=i % 32, imm=v, off=-4 * len(expect))))
    code, _ = assemble("\n".join(lines), build, "mem")
    for i, (name, fmt, f) in enumerate(expect):
        d = isa.decode(int.from_bytes(code[4 * i:4 * i + 4], "little"))
        assert d.mnemonic == name and d.fmt == fmt, (i, name, d)
        if fmt == "BI":
            assert (d.rs1, d.imm, d.imm2) == (f["rs1"], f["imm"], f["off"])
            continue
        assert d.rs1 == f["rs1"]
        if fmt in ("LPI", "L", "LPR", "LRR"):
            assert d.rd == f["rd"]
        if fmt in ("LPI", "L", "SPI"):
            assert d.imm == f["imm"]
        if fmt in ("LPR", "LRR", "SPI", "SPR", "SRR"):
            assert d.rs2 == f["rs2"]
        if fmt in ("SPR", "SRR"):
            assert d.rs3 == f["rs3"]


@pytest.mark.parametrize("word,text", [
    (0xa8c5957b, "cv.sdotsp.b a0,a1,a2"), (0x0015850b, "cv.lb a0,(a1),1"), (0x0045a50b, "cv.lw a0,(a1),4"),
    (0x90c5b52b, "cv.mac a0,a1,a2"), (0x7085b52b, "cv.clip a0,a1,8"), (0x0085b50b, "cv.elw a0,8(a1)"),
    (0x00000513, "addi a0,zero,0"), (0x4501, "c.li a0,0"), (0xc445955b, "cv.bitrev a0,a1,2,4"),
])
def test_disassembly_of_known_words(word, text):
    assert isa.disasm(word, 0) == text


def test_hwloop_encodings_decode():
    # manual: uimmL[31:20] rs1/uimmS[19:15] funct3=100 funct4[11:8] L[7] opcode 0x2B
    def enc(f4, L, uimm=0, rs=0):
        return (uimm << 20) | (rs << 15) | (0b100 << 12) | (f4 << 8) | (L << 7) | 0x2B
    assert isa.disasm(enc(6, 1, 10, 5)) == "cv.setupi 1,10,5"
    assert isa.disasm(enc(7, 0, 12, 11)) == "cv.setup 0,a1,12"
    assert isa.disasm(enc(0, 0, 3)) == "cv.starti 0,3"
    assert isa.disasm(enc(3, 1, 0, 10)) == "cv.end 1,a0"
    assert isa.disasm(enc(4, 1, 100)) == "cv.counti 1,100"
    assert isa.decode(enc(8, 0)) is None            # funct4 1000: no instruction
    assert isa.decode(enc(1, 0, 5, 10)) is None     # cv.start with a non-zero uimmL field


# ------------------------------------------------------------------ illegal, faults
def test_invalid_encoding_stops_illegal(tmp_path_factory):
    build = tmp_path_factory.mktemp("ill")
    for word in (0x0000007B | (0b01111 << 27), 0x0000402B | (0b1111 << 8), 0xFE00302B):
        code, base = assemble(f".option norvc\n_start:\n nop\n .word {word:#x}\n nop\n", build, "ill")
        assert isa.decode(word) is None
        m = StandaloneHart(code, base, l2_size=1 << 20)
        assert m.run() == native.STOP_ILLEGAL
        assert (m.st.stop_pc, m.st.stop_info) == (base + 4, word)
        assert m.reg("pc") == base + 4


def test_unmapped_access_faults(tmp_path_factory):
    build = tmp_path_factory.mktemp("fault")
    code, base = assemble(".option norvc\n_start:\n li a1, 0x30000010\n li a0, 7\n cv.lw a0, (a1), 4\n nop\n",
                          build, "fault")
    m = StandaloneHart(code, base, l2_size=1 << 20)
    assert m.run() == native.STOP_FAULT
    assert m.st.stop_info == 0x30000010 and m.st.stop_pc == base + 12
    assert m.reg("a0") == 7 and m.reg("a1") == 0x30000010     # nothing committed


def test_mmio_operands_reach_callbacks(tmp_path_factory):
    build = tmp_path_factory.mktemp("mmio")
    code, base = assemble(".option norvc\n_start:\n li a1, 0x1a100000\n li a2, 0x55\n"
                          " cv.sw a2, (a1), 4\n cv.lw a3, (a1), 4\n .word 0xffffffff\n", build, "mmio")
    m = StandaloneHart(code, base, l2_size=1 << 20)
    log = []
    m.uc.mmio_map(0x1A100000, 0x1000, lambda uc, off, size, ud: (log.append(("r", off)), 0xABCD)[1], None,
                  lambda uc, off, size, val, ud: log.append(("w", off, val)), None)
    assert m.run() == native.STOP_ILLEGAL
    assert log == [("w", 0, 0x55), ("r", 4)]
    assert m.reg("a3") == 0xABCD and m.reg("a1") == 0x1A100008


# ------------------------------------------------------------------ memory instructions
def _mem_program(rng, n_per):
    """Loads/stores over a random TCDM window; records (base, offset) per access."""
    forms = []
    for nm, size, signed in (("lb", 1, 1), ("lbu", 1, 0), ("lh", 2, 1), ("lhu", 2, 0), ("lw", 4, 0)):
        for imm in (-7, -4, -1, 0, 1, 2, 3, 4, 2047, -2048):
            forms.append(("LPI", nm, size, signed, imm))
        forms.append(("LPR", nm, size, signed, None))
        forms.append(("LRR", nm, size, signed, None))
    for nm, size in (("sb", 1), ("sh", 2), ("sw", 4)):
        for imm in (-3, 0, 1, 4, 2047, -2048):
            forms.append(("SPI", nm, size, 0, imm))
        forms.append(("SPR", nm, size, 0, None))
        forms.append(("SRR", nm, size, 0, None))
    return forms


def test_memory_instructions(tmp_path_factory):
    build = tmp_path_factory.mktemp("mem")
    rng = random.Random(99)
    forms = _mem_program(rng, 0)
    k = 400
    rec_base, res_base = L2_BASE + DATA_OFF, L2_BASE + DATA_OFF + (4 << 20)
    src = [".option norvc", "_start:", f"  li s0, {rec_base:#x}", f"  li s1, {res_base:#x}"]
    for kind, nm, size, signed, imm in forms:
        insn = {"LPI": f"cv.{nm} a3, (a1), {imm}", "LPR": f"cv.{nm} a3, (a1), a2",
                "LRR": f"cv.{nm} a3, a2(a1)", "SPI": f"cv.{nm} a3, (a1), {imm}",
                "SPR": f"cv.{nm} a3, (a1), a2", "SRR": f"cv.{nm} a3, a2(a1)"}[kind]
        src.append(f"""
  li s2, {k}
1: lw a1, 0(s0)
  lw a2, 4(s0)
  lw a3, 8(s0)
  {insn}
  sw a3, 0(s1)
  sw a1, 4(s1)
  addi s0, s0, 12
  addi s1, s1, 8
  addi s2, s2, -1
  bnez s2, 1b""")
    # rd == rs1 for a post-increment load: the loaded value wins
    src.append("  li a1, 0x10000100\n  cv.lw a1, (a1), 4\n  mv s3, a1")
    src.append(f"  .word {STOP_WORD:#x}")
    code, base = assemble("\n".join(src), build, "mem")
    m = StandaloneHart(code, base)
    mem0 = rng.randbytes(TCDM_SIZE)
    m.tcdm[:] = np.frombuffer(mem0, np.uint8)
    recs = []
    for kind, nm, size, signed, imm in forms:
        for _ in range(k):
            addr = TCDM_BASE + 4096 + rng.randrange(TCDM_SIZE - 8192)
            off = rng.randrange(-2048, 2048)
            if kind == "LRR" or kind == "SRR":
                addr -= off         # the effective address rs1 + rs2 stays inside the window
            recs.append((addr & 0xFFFFFFFF, off & 0xFFFFFFFF, rng.getrandbits(32)))
    ops = np.array(recs, np.uint32)
    m.l2[DATA_OFF:DATA_OFF + ops.nbytes] = ops.view(np.uint8).ravel()
    assert m.run() == native.STOP_ILLEGAL
    res = m.words(res_base, 2 * len(recs)).reshape(-1, 2)
    mem = bytearray(mem0)
    j = 0
    for kind, nm, size, signed, imm in forms:
        for _ in range(k):
            a, b, d = (int(x) for x in ops[j])
            got_rd, got_rs1 = int(res[j, 0]), int(res[j, 1])
            if kind[0] == "L":
                ea = (a + b) & 0xFFFFFFFF if kind == "LRR" else a
                want_rd = ref.load(mem, ea - TCDM_BASE, size, bool(signed))
                want_rs1 = (a + imm if kind == "LPI" else a + b if kind == "LPR" else a) & 0xFFFFFFFF
                assert (got_rd, got_rs1) == (want_rd, want_rs1), (kind, nm, hex(a), hex(b))
            else:
                ea = (a + b) & 0xFFFFFFFF if kind == "SRR" else a
                mem[ea - TCDM_BASE:ea - TCDM_BASE + size] = (d & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                want_rs1 = (a + imm if kind == "SPI" else a + b if kind == "SPR" else a) & 0xFFFFFFFF
                assert (got_rd, got_rs1) == (d, want_rs1), (kind, nm)
            j += 1
    assert bytes(m.tcdm) == bytes(mem)
    assert m.reg("s3") == int.from_bytes(mem[0x100:0x104], "little")


def test_elw_is_a_slow_event_load(tmp_path_factory):
    build = tmp_path_factory.mktemp("elw")
    code, base = assemble(".option norvc\n_start:\n li a1, 0x10000010\n cv.elw a0, 8(a1)\n addi a0, a0, 1\n"
                          " .word 0xffffffff\n", build, "elw")
    m = StandaloneHart(code, base, l2_size=1 << 20)
    m.tcdm[0x18:0x1C] = [4, 3, 2, 1]
    m.st.stop_reason = 0
    m.uc.emu_start(base, 0)
    assert m.st.stop_reason == native.STOP_SLOW and m.st.stop_pc == base + 8
    cyc = m.st.cycles
    req = m.isa.slow(m.uc)
    assert (req.rd, req.address, req.cycles) == (10, 0x10000018, 4)
    m.isa.complete(m.uc, req, 0x01020304)
    assert m.st.cycles == cyc + 4
    assert m.reg("pc") == base + 12
    assert m.run(base + 12) == native.STOP_ILLEGAL and m.reg("a0") == 0x01020305


# ------------------------------------------------------------------ immediate branches
def test_immediate_branches(tmp_path_factory):
    build = tmp_path_factory.mktemp("bi")
    rng = random.Random(5)
    k = PER_INSN // 32 + 1
    rec_base, res_base = L2_BASE + DATA_OFF, L2_BASE + DATA_OFF + (4 << 20)
    src = [".option norvc", "_start:", f"  li s0, {rec_base:#x}", f"  li s1, {res_base:#x}"]
    cases = [(op, imm) for op in ("beqimm", "bneimm") for imm in range(-16, 16)]
    for op, imm in cases:
        src.append(f"""
  li s2, {k}
1: lw a1, 0(s0)
  li a3, 0
  cv.{op} a1, {imm}, 2f
  li a3, 1
2: sw a3, 0(s1)
  addi s0, s0, 4
  addi s1, s1, 4
  addi s2, s2, -1
  bnez s2, 1b""")
    src.append(f"  .word {STOP_WORD:#x}")
    code, base = assemble("\n".join(src), build, "bi")
    m = StandaloneHart(code, base)
    vals = []
    for op, imm in cases:
        for _ in range(k):
            r = rng.random()
            vals.append(imm & 0xFFFFFFFF if r < 0.4 else (imm + rng.choice((-1, 1, 32, -32))) & 0xFFFFFFFF
                        if r < 0.6 else rand_word(rng))
    arr = np.array(vals, np.uint32)
    m.l2[DATA_OFF:DATA_OFF + arr.nbytes] = arr.view(np.uint8)
    assert m.run() == native.STOP_ILLEGAL
    res = m.words(res_base, len(vals))
    j = 0
    for op, imm in cases:
        for _ in range(k):
            eq = ref.s32(vals[j]) == imm
            taken = eq if op == "beqimm" else not eq
            assert int(res[j]) == (0 if taken else 1), (op, imm, hex(vals[j]))
            j += 1
    assert m.isa.executed == len(vals)


# ------------------------------------------------------------------ hardware loops
def hw(f4, L, uimm="0", rs=0):
    """A hardware-loop instruction as .word (manual: uimmL[31:20] rs1/uimmS[19:15]
    funct3=100 funct4[11:8] L[7] opcode 0101011)."""
    return f"  .word ((({uimm}) & 0xfff) << 20) | ({rs} << 15) | (0b100 << 12) | ({f4} << 8) | ({L} << 7) | 0x2b"


STARTI, START, ENDI, END, COUNTI, COUNT, SETUPI, SETUP = range(8)
REGNUM = {n: i for i, n in enumerate(isa.ABI)}


def run_hw(build, name, body_lines, regs=("a0", "a1", "a2", "a3")):
    src = [".option norvc", ".option norelax", "_start:"] + body_lines + [f"  .word {STOP_WORD:#x}"]
    code, base = assemble("\n".join(src), build, name)
    m = StandaloneHart(code, base, l2_size=1 << 20)
    assert m.run() == native.STOP_ILLEGAL, m.st.stop_reason
    return m, {r: m.reg(r) for r in regs}


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 100, 4095])
def test_hwloop_setupi_counts(tmp_path_factory, count):
    prog = [("setupi", 0, count, "e"), ("inc", "a0"), ("inc", "a1"), ("inc", "a2"), ("label", "e"), ("inc", "a3")]
    m = check_program(tmp_path_factory.mktemp("hw"), f"c{count}", prog)
    assert m.isa.hwloop_state()["count"][0] == 0
    assert m.reg("a0") == max(count, 1)


def _simulate(prog, regs0=None):
    """Run an abstract program (list of ops) with the reference loop model."""
    regs = dict(regs0 or {})
    mdl = ref.HwLoopModel()
    labels = {}
    pc = 0
    for op in prog:
        if op[0] == "label":
            labels[op[1]] = pc
        else:
            pc += 4
    code = []
    for op in prog:
        if op[0] != "label":
            code.append(op)
    pc, steps = 0, 0
    while pc < len(code) * 4:
        op = code[pc // 4]
        steps += 1
        nxt = pc + 4
        k = op[0]
        if k in ("inc", "cinc"):
            regs[op[1]] = regs.get(op[1], 0) + 1
        elif k == "setupi":
            mdl.start[op[1]], mdl.end[op[1]], mdl.count[op[1]] = pc + 4, labels[op[3]], op[2]
        elif k == "setup":
            mdl.start[op[1]], mdl.end[op[1]], mdl.count[op[1]] = pc + 4, labels[op[3]], regs[op[2]]
        elif k == "counti":
            mdl.count[op[1]] = op[2]
        elif k == "count":
            mdl.count[op[1]] = regs[op[2]]
        elif k == "starti":
            mdl.start[op[1]] = labels[op[2]]
        elif k == "endi":
            mdl.end[op[1]] = labels[op[2]]
        elif k == "start":
            mdl.start[op[1]] = regs[op[2]]
        elif k == "end":
            mdl.end[op[1]] = regs[op[2]]
        elif k == "la":
            regs[op[1]] = labels[op[2]]
        elif k == "li":
            regs[op[1]] = op[2]
        pc = mdl.after(nxt)
        assert steps < 10 ** 6
    return regs, steps


def _render(prog):
    out = []
    for op in prog:
        k = op[0]
        if k == "label":
            out.append(f"{op[1]}:")
        elif k == "inc":
            out.append(f"  addi {op[1]}, {op[1]}, 1")
        elif k == "cinc":
            out.append(f"  cv.addn {op[1]}, {op[1]}, t6, 0")      # t6 = 1: a custom instruction
        elif k == "setupi":
            out.append(f"0: .word ((({op[2]}) & 0xfff) << 20) | ((({op[3]} - 0b) >> 2) << 15)"
                       f" | (0b100 << 12) | ({SETUPI} << 8) | ({op[1]} << 7) | 0x2b")
        elif k == "setup":
            out.append(f"0: .word ((({op[3]} - 0b) >> 2) << 20) | ({REGNUM[op[2]]} << 15)"
                       f" | (0b100 << 12) | ({SETUP} << 8) | ({op[1]} << 7) | 0x2b")
        elif k == "counti":
            out.append(hw(COUNTI, op[1], op[2]))
        elif k == "count":
            out.append(hw(COUNT, op[1], "0", REGNUM[op[2]]))
        elif k in ("starti", "endi"):
            f4 = STARTI if k == "starti" else ENDI
            out.append(f"0: .word ((({op[2]} - 0b) >> 2) << 20) | (0b100 << 12) | ({f4} << 8) | ({op[1]} << 7) | 0x2b")
        elif k in ("start", "end"):
            out.append(hw(START if k == "start" else END, op[1], "0", REGNUM[op[2]]))
        elif k == "la":
            out.append(f"  lui {op[1]}, %hi({op[2]})")
            out.append(f"  addi {op[1]}, {op[1]}, %lo({op[2]})")
        elif k == "li":
            out.append(f"  lui {op[1]}, %hi({op[2]})")
            out.append(f"  addi {op[1]}, {op[1]}, %lo({op[2]})")
    return out


def check_program(build, name, prog, regs=("a0", "a1", "a2", "a3", "a4")):
    src = ["  li t6, 1"] + _render(prog)
    m, r = run_hw(build, name, src, regs)
    # the model's addresses are relative to the first op; labels map through
    want, steps = _simulate([("li", "t6", 1)] + _expand_for_model(prog))
    for reg in regs:
        assert r[reg] == want.get(reg, 0) & 0xFFFFFFFF, (name, reg, r, want)
    assert m.st.instret == 1 + steps   # + the stop word (li t6 is one addi here)
    return m


def _expand_for_model(prog):
    out = []
    for op in prog:
        if op[0] in ("la", "li"):
            out += [("nop",), op]
        else:
            out.append(op)
    return out


NESTED = [("counti", 1, 5), ("starti", 1, "o_s"), ("endi", 1, "o_e"),
          ("label", "o_s"), ("setupi", 0, 4, "i_e"), ("inc", "a0"), ("inc", "a0"), ("inc", "a1"),
          ("label", "i_e"), ("inc", "a2"), ("inc", "a3"), ("label", "o_e"), ("inc", "a4")]
TOGETHER = [("counti", 1, 3), ("starti", 1, "o_s"), ("endi", 1, "e"),
            ("label", "o_s"), ("inc", "a3"), ("setupi", 0, 4, "e"), ("inc", "a0"), ("inc", "a1"), ("inc", "a2"),
            ("label", "e"), ("inc", "a4")]
CUSTOM_LAST = [("setupi", 0, 9, "e"), ("inc", "a0"), ("inc", "a1"), ("cinc", "a2"), ("label", "e"), ("inc", "a4")]
COUNT_ZERO = [("li", "a5", 0), ("setup", 0, "a5", "e"), ("inc", "a0"), ("inc", "a1"), ("inc", "a2"),
              ("label", "e"), ("inc", "a4")]
REG_FORMS = [("la", "a5", "s"), ("la", "a6", "e"), ("li", "a7", 6), ("start", 0, "a5"), ("end", 0, "a6"),
             ("count", 0, "a7"), ("label", "s"), ("inc", "a0"), ("cinc", "a1"), ("inc", "a2"),
             ("label", "e"), ("inc", "a4")]


@pytest.mark.parametrize("name,prog", [("nested", NESTED), ("together", TOGETHER), ("custom_last", CUSTOM_LAST),
                                       ("count_zero", COUNT_ZERO)])
def test_hwloop_programs(tmp_path_factory, name, prog):
    check_program(tmp_path_factory.mktemp("hwp"), name, prog)


def test_hwloop_register_forms_add_hooks(tmp_path_factory):
    """cv.start/cv.end/cv.count with a runtime end address: the executor asks for a
    code hook (slow stop), the test harness adds it, and the loop then runs."""
    build = tmp_path_factory.mktemp("hwr")
    prog = REG_FORMS
    src = ["  li t6, 1"] + _render(prog)
    m, r = run_hw(build, "reg", src, ("a0", "a1", "a2", "a4", "a5", "a6"))
    assert r["a0"] == r["a1"] == r["a2"] == 6 and r["a4"] == 1
    assert r["a6"] in m.isa.hooked_ends


def test_more_than_1024_hwloop_ends(tmp_path_factory):
    """1100 loops, each with its own end address (each one a code hook): no limit
    on how many a program has (it was a RuntimeError past 1024)."""
    prog = []
    for k in range(1100):
        prog += [("setupi", k & 1, 2 + k % 3, f"e{k}"), ("inc", "a0"), ("label", f"e{k}")]
    prog.append(("inc", "a1"))
    m = check_program(tmp_path_factory.mktemp("hwmany"), "many_ends", prog)
    assert m.reg("a0") == sum(2 + k % 3 for k in range(1100)) and m.reg("a1") == 1
    assert len(m.isa.hooked_ends) == 1100


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outer=st.integers(0, 6), inner=st.integers(0, 6), together=st.booleans(), custom=st.booleans())
def test_hwloop_nested_hypothesis(tmp_path_factory, outer, inner, together, custom):
    inc = "cinc" if custom else "inc"
    if together:
        prog = [("counti", 1, outer), ("starti", 1, "o_s"), ("endi", 1, "e"), ("label", "o_s"), ("inc", "a3"),
                ("setupi", 0, inner, "e"), ("inc", "a0"), ("inc", "a1"), (inc, "a2"), ("label", "e"), ("inc", "a4")]
    else:
        prog = [("li", "a5", outer), ("count", 1, "a5"), ("starti", 1, "o_s"), ("endi", 1, "o_e"),
                ("label", "o_s"), ("setupi", 0, inner, "i_e"), ("inc", "a0"), ("inc", "a1"), (inc, "a2"),
                ("label", "i_e"), ("inc", "a3"), (inc, "a3"), ("label", "o_e"), ("inc", "a4")]
    check_program(tmp_path_factory.mktemp("hwh"), "h", prog)


# ------------------------------------------------------------------ hypothesis edge cases
EDGE = st.one_of(st.sampled_from(SPECIAL), st.integers(0, 0xFFFFFFFF),
                 st.lists(st.sampled_from(SPECIAL_BYTES), min_size=4, max_size=4).map(
                     lambda b: int.from_bytes(bytes(b), "little")))


@pytest.fixture(scope="session")
def edge_machine(tmp_path_factory):
    """One program: for each variant, run the instruction once on operands from a
    per-variant slot (so hypothesis can choose operands without re-assembling)."""
    build = tmp_path_factory.mktemp("edge")
    vs = variants()
    src = [".option norvc", "_start:"]
    slot = L2_BASE + DATA_OFF
    for i, (_, asm, _, _) in enumerate(vs):
        src.append(f"v{i}:\n  lw a1, 0(s0)\n  lw a2, 4(s0)\n  lw a3, 8(s0)\n  {asm}\n  sw a3, 12(s0)\n"
                   f"  .word {STOP_WORD:#x}")
    code, base = assemble("\n".join(src), build, "edge")
    m = StandaloneHart(code, base)
    starts = [base + 24 * i for i in range(len(vs))]
    return m, vs, starts, slot


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_edge_cases_hypothesis(edge_machine, data):
    m, vs, starts, slot = edge_machine
    i = data.draw(st.integers(0, len(vs) - 1))
    a, b, d = data.draw(EDGE), data.draw(EDGE), data.draw(EDGE)
    name, asm, imm, imm2 = vs[i]
    m.l2[DATA_OFF:DATA_OFF + 12] = np.array([a, b, d], np.uint32).view(np.uint8)
    m.set_reg("s0", slot)
    assert m.run(starts[i]) == native.STOP_ILLEGAL
    got = int(m.words(slot + 12, 1)[0])
    assert got == ref.execute(name, a, b, d, imm, imm2), (asm, hex(a), hex(b), hex(d))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 10))
def test_instruction_matches_reference_many(seed):
    """9 more batches of the default size with other operands: 10x in all (one
    batch of 10x would not fit the test machine's memory)."""
    env = dict(os.environ, ISS_COREV_SEED=str(seed))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", __file__, "-k",
                        "test_instruction_matches_reference and not many"], env=env)
    assert r.returncode == 0


@pytest.mark.parametrize("budget", [1, 2, 57, 100, 299])
def test_a_chain_stops_at_the_first_instruction_boundary_at_its_budget(tmp_path, budget):
    # 300 one-cycle CORE-V instructions in a straight line: the chain charges them
    # as one run, yet the hart must stop before the first instruction that would
    # start at or after its cycle budget, as a block start does (CV32E40P: an ALU
    # instruction is one cycle, so that is instruction `budget`).
    src = [".option norvc", ".globl _start", "_start:", *["  cv.add.h a0, a0, a1"] * 300, f"  .word {STOP_WORD:#x}"]
    code, base = assemble("\n".join(src), tmp_path, "straight")
    m = StandaloneHart(code, base, chain_limit=1000, chain_standard=True)
    m.st.budget = budget
    assert m.run() == native.STOP_BUDGET
    assert (m.st.cycles, m.st.instret, m.st.stop_pc) == (budget, budget, base + 4 * budget)
