"""The hardware-loop pass (toolchain/hwloops.py).

Correctness: our own C loop shapes (tests/firmware_src/hwloop_shapes.c) built
with and without the pass print the same results, and some of them are checked
against values computed here from the same inputs. The pass's decisions on small
assembly snippets follow the CV32E40P manual's hardware-loop constraints
("CORE-V Hardware Loop feature"): those snippets are written by hand.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from iss import Cluster
from iss.toolchain import hwloops

SRC = Path(__file__).parent / "firmware_src"


def hwloop_words(elf: Path) -> dict:
    """Counts of hardware-loop instructions in .text, by (funct4, loop) (decoded by
    hand: opcode 0x2B, funct3 100, funct4 in bits 11:8, loop index in bit 7)."""
    with open(elf, "rb") as f:
        elf_file = ELFFile(f)
        text = elf_file.get_section_by_name(".text")
        data, base = text.data(), text["sh_addr"]
        # The runtime's trap entry restores an interrupted loop (cv.start/end/count):
        # not compiled code, not counted.
        runtime = [(s["st_value"], s["st_value"] + s["st_size"]) for s in elf_file.get_section_by_name(".symtab")
                   .iter_symbols() if s.name in ("__iss_irq_entry", "__iss_exception_entry")]
    words = np.frombuffer(data[: len(data) // 4 * 4], "<u4")
    counts: dict = {}
    for i, w in enumerate(words):
        if any(lo <= base + 4 * i < hi for lo, hi in runtime):
            continue
        if w & 0x7F == 0x2B and (w >> 12) & 7 == 4 and (base + 4 * i) % 4 == 0:
            key = ((int(w) >> 8) & 0xF, (int(w) >> 7) & 1)
            counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.fixture(scope="module")
def shapes(iss_build):
    on = iss_build([SRC / "hwloop_shapes.c"], name="hwloop_shapes_on")
    off = iss_build([SRC / "hwloop_shapes.c"], name="hwloop_shapes_off", hwloops=False)
    runs = {}
    for tag, elf in (("on", on), ("off", off)):
        cluster = Cluster(elf)
        res = cluster.run()
        assert res.exit_code == 0
        runs[tag] = (elf, res)
    return runs


def test_shapes_same_results_with_and_without_the_pass(shapes):
    (_, on), (_, off) = shapes["on"], shapes["off"]
    assert on.stdout == off.stdout
    assert len(on.stdout) == 303


def test_shapes_results_match_python(shapes):
    out = shapes["on"][1].stdout
    i = np.arange(300, dtype=np.uint64)
    data = (((i * 2654435761) & 0xFFFFFFFF) >> 7 ^ (i * 37)).astype(np.uint32).astype(np.int32).astype(np.int64)
    halves = (i.astype(np.int64) * 1237 - 9000).astype(np.int16).astype(np.int64)

    def wrap(v):
        return int(np.int32(np.int64(v) & 0xFFFFFFFF if v >= 0 else v)) if -2**31 <= v < 2**31 else \
            int(np.array([v & 0xFFFFFFFF], np.uint32).view(np.int32)[0])

    for n in (0, 1, 7, 100):
        assert f"n={n} sum {wrap(int(data[:n].sum()))}" in out
        assert f"n={n} counter {wrap(int((data[:n] * np.arange(n)).sum()))}" in out
        assert f"n={n} walk {wrap(int(halves[:n].sum() * 3))}" in out
        after = wrap(int((data[:n] >> 1).sum()) * 1000 + n)
        assert any(ln.startswith(f"n={n} after {after} ") for ln in out)
        assert any(ln.startswith(f"n={n} after ") and ln.endswith(f" {wrap(int(halves[:n].sum()) * 16 - 1)}")
                   for ln in out)


def test_shapes_use_hardware_loops_and_run_faster(shapes):
    (elf_on, on), (elf_off, off) = shapes["on"], shapes["off"]
    words = hwloop_words(elf_on)
    assert words.get((7, 0), 0) >= 12           # cv.setup 0: one per innermost loop transformed
    assert words.get((7, 1), 0) >= 1            # cv.setup 1: rows_guarded's outer loop
    assert hwloop_words(elf_off) == {}
    assert on.cycles < off.cycles


def test_explain_lists_transformed_and_skipped_loops(tmp_path):
    elf = tmp_path / "shapes.elf"
    proc = subprocess.run([sys.executable, "-m", "iss", "cc", str(SRC / "hwloop_shapes.c"), "-o", str(elf),
                           "--explain-hwloops"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("[hwloops]")]
    src = open(SRC / "hwloop_shapes.c").read().splitlines()

    def line_of(text):
        return next(k + 1 for k, ln in enumerate(src) if text in ln)
    where = f"hwloop_shapes.c:{line_of('for (int i = 0; i < n; i++)')}:"
    assert any(where in ln and "sum_words: hardware loop 0" in ln for ln in lines), lines
    assert any("call_in_body: skipped: a call in the body" in ln for ln in lines)
    assert any("early_exit: skipped: the body is more than one basic block" in ln for ln in lines)
    proc = subprocess.run([sys.executable, "-m", "iss", "cc", str(SRC / "hwloop_shapes.c"), "-o", str(elf),
                           "--explain-hwloops", "--no-hwloops"], capture_output=True, text=True)
    assert proc.returncode == 0 and "[hwloops]" not in proc.stderr


# -- decisions on hand-written assembly ---------------------------------------------

def fn(body: str, name: str = "f") -> str:
    return (f'\t.file\t1 "." "k.c"\n\t.section\t.text.{name},"ax",@progbits\n\t.type\t{name},@function\n'
            f"{name}:\n{body}\n.Lend:\n\t.size\t{name}, .Lend-{name}\n")


SUM = """\
\t.loc\t1 3 0
\tblez\ta1, .LBB0_3
\tslli\ta1, a1, 2
\tadd\ta1, a1, a0
.LBB0_2:
\t.loc\t1 4 0
\tcv.lw\ta3, (a0), 4
\tadd\ta2, a2, a3
\tbne\ta0, a1, .LBB0_2
.LBB0_3:
\tmv\ta0, a2
\tret"""


def decide(asm):
    text, decisions = hwloops.rewrite(fn(asm))
    assert len(decisions) == 1
    return text, decisions[0]


def test_counted_loop_becomes_hardware_loop_with_padding():
    text, d = decide(SUM)
    assert d.level == 0 and (d.file, d.line, d.function) == ("k.c", 4, "f")
    assert "cv.setup\t0, a1, .Lhwlp_end0_01" in text
    assert "# hwloops: bne\ta0, a1, .LBB0_2" in text
    # body: 2 instructions + 1 nop (the manual's minimum is 3), all 32-bit
    body = text.split(".LBB0_2:")[1].split(".Lhwlp_end0_01:")[0]
    assert [ln.split()[0] for ln in body.splitlines() if ln.strip() and not ln.strip().startswith((".", "#"))] \
        == ["cv.lw", "add", "nop"]
    pre = text.split("cv.setup")[0]
    assert ".option\tnorvc" in pre and ".balign\t4" in pre


@pytest.mark.parametrize("insn, reason", [
    ("\tbeqz\ta3, .LBB0_3", "more than one basic block"),
    ("\tcall\tg", "a call in the body"),
    ("\tfence", "may not be in a hardware-loop body"),
    ("\twfi", "may not be in a hardware-loop body"),
    ("\tc.add\ta2, a2, a3", "may not be in a hardware-loop body"),
    ("\tcsrw\t0xcc2, a3", "CSR write"),
    ("\tfrob\ta2, a2", "not understood"),
])
def test_forbidden_body_contents_leave_the_loop_alone(insn, reason):
    asm = SUM.replace("\tadd\ta2, a2, a3", "\tadd\ta2, a2, a3\n" + insn)
    text, d = decide(asm)
    assert d.level is None and reason in d.reason
    assert text == fn(asm)


def test_loop_entered_other_than_at_the_top_is_left_alone():
    asm = SUM.replace("\tslli\ta1, a1, 2", "\tbeqz\ta4, .LBB0_2\n\tslli\ta1, a1, 2")
    _, d = decide(asm)
    assert d.level is None and "entered through its setup" in d.reason


def test_step_one_count_zero_is_checked_at_run_time_unless_a_guard_proves_it():
    loop = """\
.LBB0_2:
\t.loc\t1 4 0
\tcv.lbu\ta3, (a0), 1
\tadd\ta2, a2, a3
\tbne\ta0, a1, .LBB0_2
\tret"""
    # d = a1 - a0 could be 0 (the original loop would then run 2^32 times, a hardware
    # loop once): a run-time check sends d = 0 to a copy of the original loop
    text, d = decide("\tadd\ta1, a1, a0\n" + loop)
    assert d.level == 0 and "run-time check" in d.reason
    pre = text.split("cv.setup")[0]
    assert "sub\ta1, a1, a0" in pre and "beqz\ta1, .Lhwlp_zero0_01" in pre
    zero = text.split(".Lhwlp_zero0_01:")[1]
    assert zero.split()[:2] == ["mv", "a1,"]                  # a1 - a0 = 0: restore a1 = a0
    assert "bne\ta0, a1, .Lhwlp_zloop0_01" in zero and "j\t.Lhwlp_resume0_01" in zero
    # a guard on the length before the loop proves d != 0: no check
    text, d = decide("\tcv.beqimm\ta1, 0, .LBB0_9\n\tadd\ta1, a1, a0\n" + loop + "\n.LBB0_9:\n\tret")
    assert d.level == 0 and d.reason.startswith("count a1 - a0") and "beqz" not in text
    # a guard on another register does not
    _, d = decide("\tcv.beqimm\ta4, 0, .LBB0_9\n\tadd\ta1, a1, a0\n" + loop + "\n.LBB0_9:\n\tret")
    assert "run-time check" in d.reason


def test_signed_less_than_on_counter_plus_constant():
    # for (i = 0; i + 4 <= n; i += 4): clang tests n >= i_old + 8 after i += 4
    asm = """\
\tli\ta4, 0
.LBB0_2:
\t.loc\t1 4 0
\tcv.lw\ta3, (a0), 4
\taddi\ta7, a4, 8
\taddi\ta4, a4, 4
\tadd\ta5, a5, a3
\tbge\ta2, a7, .LBB0_2
\tmv\ta0, a5
\tret"""
    text, d = decide(asm)
    assert d.level == 0 and "a7 <= a2 (step 4)" in d.reason
    pre = [ln.strip() for ln in text.split("cv.setup")[0].split("li\ta4, 0")[1].splitlines() if ln.strip()]
    t = pre[0].split()[1].rstrip(",")
    assert t not in ("a0", "a2", "a3", "a4", "a5", "a7")      # a free register holds the count
    # d = n - X1 + 1 (<=) with X1 = i0 + 8; count = max(1, ((d - 1) >> 2) + 2)
    assert pre[:6] == [f"sub\t{t}, a2, a4", f"addi\t{t}, {t}, -8", f"srai\t{t}, {t}, 2", f"addi\t{t}, {t}, 1",
                       f"cv.max\t{t}, {t}, zero", f"addi\t{t}, {t}, 1"]

    def count(n, i0=0):          # the formula, against the loop it replaces
        dm1 = (n - i0) - 8
        return max(1, (dm1 >> 2) + 2)

    def loop(n, i0=0):
        k, i = 0, i0
        while True:
            k += 1
            x, i = i + 8, i + 4
            if not n >= x:
                return k
    assert all(count(n, i0) == loop(n, i0) for n in range(-5, 40) for i0 in (-3, 0, 5))
    # an unsigned test wraps around by definition: left alone
    _, d = decide(asm.replace("bge\ta2, a7", "bgeu\ta2, a7"))
    assert d.level is None and "exit test 'bgeu'" in d.reason


def test_down_counter_is_dropped_and_restored_when_live():
    asm = """\
\tblez\ta1, .LBB0_3
\tmv\ta3, a1
.LBB0_2:
\t.loc\t1 4 0
\tcv.lw\ta4, (a0), 4
\taddi\ta3, a3, -1
\tadd\ta2, a2, a4
\tcv.bneimm\ta3, 0, .LBB0_2
.LBB0_3:
\tadd\ta0, a2, a3
\tret"""
    text, d = decide(asm)
    assert d.level == 0 and d.reason.startswith("count a3,")
    assert "# hwloops: addi\ta3, a3, -1" in text
    assert "cv.setup\t0, a3," in text
    after = text.split(".Lhwlp_end0_01:")[1]
    assert "li\ta3, 0" in after          # a3 is read after the loop: its final value 0
    text, _ = decide(asm.replace("add\ta0, a2, a3", "add\ta0, a2, a2"))
    assert "li\ta3, 0" not in text.split(".Lhwlp_end0_01:")[1]


def test_functions_with_hand_written_hardware_loops_or_mret_are_left_alone():
    _, d = decide(SUM + "\n\tcv.setup\t0, a5, 1f")
    assert d.level is None and "inline assembly" in d.reason
    # corev.h's CV_HWLOOP_ASM as clang prints it: the macro already expanded
    _, d = decide(SUM + "\n\t#APP\n\t.word\t((((.Ltmp8-.Ltmp9)>>2)&4095)<<20)|43\n\t#NO_APP")
    assert d.level is None and "inline assembly" in d.reason
    _, d = decide(SUM + "\n\tmret")
    assert d.level is None and "interrupt handler" in d.reason


def test_non_power_of_two_step_is_left_alone():
    _, d = decide(SUM.replace("cv.lw\ta3, (a0), 4", "cv.lw\ta3, (a0), 12"))
    assert d.level is None and "power of two" in d.reason


def test_macros_are_prepended_once():
    text, _ = hwloops.rewrite(fn(SUM), ".macro cv.setup L, r, lbl\n.endm")
    assert text.startswith(".macro cv.setup")
    text, _ = hwloops.rewrite(".macro cv.setup L, r, lbl\n.endm\n" + fn(SUM), ".macro cv.setup L, r, lbl\n.endm")
    assert text.count(".macro cv.setup") == 1


def test_plain_c_kernels_bit_exact_and_free_of_branch_stalls(iss_build):
    """The pass's effect: the plain-C kernels built with the pass (the default)
    match the numpy golden models bit for bit, lose their branch stalls, and the
    3x3 convolution reaches 14 MAC/cycle on 8 cores (bench/bench_hwloops.py prints
    the figures without and with the pass)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_hwloops", SRC.parents[1] / "bench" / "bench_hwloops.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lays = bench.layers_of(17)
    elf = iss_build([bench.APP], name="plain_kernels", opt="-O3")
    rows = bench.run(elf, lays)
    assert all(r["exact"] for r in rows)
    assert all(r["stall"] < 0.02 for r in rows), [r["stall"] for r in rows]
    assert lays[0]["macs"] / rows[0]["cycles"] >= 14.0
