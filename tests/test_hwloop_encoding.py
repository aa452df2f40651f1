"""Hardware-loop (xcvhwlp) encodings emitted by firmware/runtime/include/corev.h.

No disassembler knows xcvhwlp, so these tests assemble loops with the
project's toolchain (zig's clang), read the words back with pyelftools and
decode the fields by hand from the CV32E40P v2 user manual ("CORE-V
Instruction Set Extensions" > "Hardware Loops" > encoding table):

    31      20 19   15 14  12 11    8  7  6     0
    [ uimmL  ][ rs1   ][ 100 ][ funct4 ][L][0101011]

    funct4: 0 starti, 1 start, 2 endi, 3 end, 4 counti, 5 count,
            6 setupi (uimmS in 19:15), 7 setup
    starti/endi/setup: target = PC + (uimmL << 2); setupi: PC + (uimmS << 2)
    setup/setupi: start = PC + 4; the end address is the first instruction
    after the body (v2).

Independent of any simulator code.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = ROOT / "firmware" / "runtime" / "include"

CFLAGS = [
    "-target", "riscv32-freestanding-none",
    "-mcpu=generic_rv32+m+a+c+zicsr+xcvalu+xcvmac+xcvsimd+xcvmem+xcvbi+xcvbitmanip+xcvelw",
    "-mabi=ilp32", "-O2", "-g", "-nostdlib", "-ffreestanding",
    "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
    "-Wall", "-Wextra", "-Werror",
]

OPCODE_HWLP = 0x2B
FUNCT3_HWLP = 0b100
FUNCT4 = {"starti": 0, "start": 1, "endi": 2, "end": 3,
          "counti": 4, "count": 5, "setupi": 6, "setup": 7}
ABI = {"zero": 0, "ra": 1, "sp": 2, "gp": 3, "tp": 4, "t0": 5, "t1": 6, "t2": 7,
       "s0": 8, "fp": 8, "s1": 9, **{f"a{i}": 10 + i for i in range(8)},
       **{f"s{i}": 16 + i for i in range(2, 12)}, **{f"t{i}": 25 + i for i in range(3, 7)},
       **{f"x{i}": i for i in range(32)}}


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """Compile a C or assembler source string; return (words, symbols)."""
    work = tmp_path_factory.mktemp("hwlp")
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(work / "zig-global")
    env["ZIG_LOCAL_CACHE_DIR"] = str(work / "zig-local")
    counter = [0]

    def _build(source, suffix, expect_fail=False):
        counter[0] += 1
        src = work / f"t{counter[0]}{suffix}"
        obj = src.with_suffix(".o")
        src.write_text(source)
        cmd = [sys.executable, "-m", "ziglang", "cc", *CFLAGS, f"-I{INCLUDE}",
               "-c", str(src), "-o", str(obj)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if expect_fail:
            assert res.returncode != 0, "expected the build to fail"
            return res.stderr
        assert res.returncode == 0, res.stderr
        with open(obj, "rb") as f:
            elf = ELFFile(f)
            text = elf.get_section_by_name(".text").data()
            symtab = elf.get_section_by_name(".symtab")
            syms = {s.name: s["st_value"] for s in symtab.iter_symbols()
                    if s.name and s["st_shndx"] != "SHN_UNDEF"}
        return text, syms
    return _build


def word_at(text, addr):
    return int.from_bytes(text[addr:addr + 4], "little")


def decode(word):
    """Fields of a hardware-loop instruction, from the manual's table."""
    assert word & 0x7F == OPCODE_HWLP, hex(word)
    assert (word >> 12) & 0x7 == FUNCT3_HWLP, hex(word)
    return {"funct4": (word >> 8) & 0xF, "L": (word >> 7) & 1,
            "rs1": (word >> 15) & 0x1F, "uimmL": (word >> 20) & 0xFFF}


# Every mnemonic, both loop indices, several register spellings; global
# labels name each instruction and each target so the test can check the
# PC-relative offsets against the symbol table.
ASM_ALL = """\
    .text
    .globl hw_all
hw_all:
    .option push
    .option norvc
    .option norelax
i_setup:   cv.setup 1, a3, e_setup
i_setupi:  cv.setupi 0, 100, e_setupi
    addi a0, a0, 1
    addi a0, a0, 2
    addi a0, a0, 3
e_setupi:
    addi a0, a0, 4
e_setup:
i_count:   cv.count 1, x7
i_start:   cv.start 0, s11
i_end:     cv.end 1, zero
i_counti:  cv.counti 0, 4095
i_starti:  cv.starti 1, t_start
i_endi:    cv.endi 0, t_end
i_count2:  cv.count 0, t5
i_setupi2: cv.setupi 1, 7, e_setupi2
t_start:
    addi a1, a1, 1
    addi a1, a1, 2
    addi a1, a1, 3
t_end:
e_setupi2:
    nop
    .option pop
"""

EXPECTED = [  # (label, mnemonic, L, rs1 register or None, uimmL value or target label)
    ("i_setup", "setup", 1, "a3", "e_setup"),
    ("i_setupi", "setupi", 0, None, 100),
    ("i_count", "count", 1, "x7", 0),
    ("i_start", "start", 0, "s11", 0),
    ("i_end", "end", 1, "zero", 0),
    ("i_counti", "counti", 0, None, 4095),
    ("i_starti", "starti", 1, None, "t_start"),
    ("i_endi", "endi", 0, None, "t_end"),
    ("i_count2", "count", 0, "t5", 0),
    ("i_setupi2", "setupi", 1, None, 7),
]


def check_all(text, syms):
    for label, mnem, L, reg, imm in EXPECTED:
        pc = syms[label]
        assert pc % 4 == 0, f"{label} not word aligned"
        f = decode(word_at(text, pc))
        assert f["funct4"] == FUNCT4[mnem], label
        assert f["L"] == L, label
        if isinstance(imm, str):  # PC-relative target, word offset
            assert pc + (f["uimmL"] << 2) == syms[imm], label
        else:
            assert f["uimmL"] == imm, label
        if mnem == "setupi":
            continue
        assert f["rs1"] == (ABI[reg] if reg else 0), label
    # cv.setupi keeps its end offset in uimmS = bits 19:15
    for label, end in (("i_setupi", "e_setupi"), ("i_setupi2", "e_setupi2")):
        pc = syms[label]
        uimm_s = (word_at(text, pc) >> 15) & 0x1F
        assert pc + (uimm_s << 2) == syms[end], label
    # the end of a cv.setupi loop is the first instruction after the body:
    # the word just before it is the body's last addi (addi a0, a0, 3)
    last = word_at(text, syms["e_setupi"] - 4)
    assert last & 0x7F == 0x13 and (last >> 20) == 3


def test_assembler_macros_encode_every_field(build):
    text, syms = build('#include "corev.h"\n' + ASM_ALL, ".S")
    check_all(text, syms)


def test_c_macros_encode_the_same_words(build):
    """The C header defines the macros from a string: same words as .S."""
    text_s, syms_s = build('#include "corev.h"\n' + ASM_ALL, ".S")
    c_src = '#include "corev.h"\n__asm__(\n' + "".join(
        '"' + line.replace("\\", "\\\\").replace('"', '\\"') + '\\n"\n'
        for line in ASM_ALL.splitlines()) + ");\n"
    text_c, syms_c = build(c_src, ".c")
    check_all(text_c, syms_c)
    start, end = syms_s["hw_all"], syms_s["e_setupi2"] + 4
    assert text_c[syms_c["hw_all"]:syms_c["hw_all"] + end - start] == text_s[start:end]


def test_known_words(build):
    """A few words computed by hand from the table."""
    text, syms = build('#include "corev.h"\n' + ASM_ALL, ".S")
    # cv.setupi 0, 100, e_setupi (3-instruction body: +4 words):
    # uimmL=100, uimmS=4, funct3=100, funct4=6, L=0
    assert word_at(text, syms["i_setupi"]) == (100 << 20) | (4 << 15) | (4 << 12) | (6 << 8) | 0x2B
    assert word_at(text, syms["i_setupi"]) == 0x0642462B
    # cv.count 1, x7: rs1=7, funct4=5, L=1
    assert word_at(text, syms["i_count"]) == (7 << 15) | (4 << 12) | (5 << 8) | (1 << 7) | 0x2B
    # cv.counti 0, 4095
    assert word_at(text, syms["i_counti"]) == 0xFFF0442B


def test_c_loop_helpers(build):
    """CV_HWLOOP_ASM / CV_HWLOOPI_ASM: nested loops built from C."""
    src = r'''
#include <stdint.h>
#include "corev.h"
int32_t nested(int32_t n, int32_t acc)
{
    __asm__ volatile(
        CV_HWLOOP_ASM(1, "%[n]",
            CV_HWLOOP_ASM(0, "%[n]",
                "addi %[a], %[a], 11\n\t"
                "addi %[a], %[a], 12\n\t"
                "addi %[a], %[a], 13\n\t")
            "addi %[a], %[a], 14\n\t"
            "addi %[a], %[a], 16\n\t")
        "addi %[a], %[a], 15\n\t"
        CV_HWLOOPI_ASM(0, 9,
            "addi %[a], %[a], 21\n\t"
            "addi %[a], %[a], 22\n\t"
            "addi %[a], %[a], 23\n\t")
        : [a] "+r"(acc) : [n] "r"(n));
    return acc;
}
'''
    text, syms = build(src, ".c")
    words = [(pc, word_at(text, pc)) for pc in range(syms["nested"], len(text) - 3, 2)]

    def addi_imm(w):
        """Immediate of addi (32-bit) or c.addi (16-bit), else None."""
        if (w & 0x707F) == 0x13:
            return w >> 20
        h = w & 0xFFFF
        if (h & 0xE003) == 0x0001:
            imm = ((h >> 2) & 0x1F) | ((h >> 7) & 0x20)
            return imm - 64 if imm & 0x20 else imm
        return None

    hw = [(pc, w) for pc, w in words if pc % 4 == 0 and w & 0x707F == 0x402B]
    assert [decode(w)["funct4"] for _, w in hw] == [7, 7, 6]
    (pc1, w1), (pc0, w0), (pci, wi) = hw
    f1, f0, fi = decode(w1), decode(w0), decode(wi)
    assert (f1["L"], f0["L"], fi["L"]) == (1, 0, 0)
    assert f1["rs1"] == f0["rs1"] != 0          # same count register
    assert fi["uimmL"] == 9                      # immediate count

    def imm_at(pc):
        return addi_imm(word_at(text, pc))

    # loop 1 starts at the inner setup, ends after "addi 16"
    assert pc0 == pc1 + 4
    end1 = pc1 + (f1["uimmL"] << 2)
    assert imm_at(end1 - 8) == 14 and imm_at(end1 - 4) == 16 and imm_at(end1) == 15
    # loop 0: body 11, 12, 13; end right after 13
    end0 = pc0 + (f0["uimmL"] << 2)
    assert [imm_at(pc0 + 4 * k) for k in (1, 2, 3)] == [11, 12, 13]
    assert end0 == pc0 + 16 and imm_at(end0) == 14
    assert end1 >= end0 + 8  # manual: outer end at least 8 bytes after inner
    # immediate loop: body 21, 22, 23; uimmS points after 23
    endi = pci + (((wi >> 15) & 0x1F) << 2)
    assert [imm_at(pci + 4 * k) for k in (1, 2, 3)] == [21, 22, 23]
    assert endi == pci + 16
    # bodies are 32-bit instructions (norvc)
    for pc in range(pc0 + 4, end0, 4):
        assert word_at(text, pc) & 3 == 3


def test_unknown_register_is_an_error(build):
    err = build('#include "corev.h"\n.text\ncv.count 0, q9\n', ".S", expect_fail=True)
    assert "unknown register" in err
