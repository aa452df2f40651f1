"""Chains change only speed. The CORE-V executor runs back-to-back instructions
natively ("chains", iss/native/corev.c: chain(), straight-line runs charged as
blocks); with chain_limit 0 on every hart it runs one per trap (as the GDB server
and the instruction trace set it). Random valid programs (tests/chain_diff_gen.py:
RV32IMC, CORE-V ALU/SIMD, post-increment memory, hardware loops, branches, loops,
calls, CSR accesses, atomics, MMIO loads, stores to code) run on all 8 harts of
the cluster, each on its own TCDM and L2 area (the areas on the same banks:
contention), with chains and without,
at the default scheduler quantum, at a small one (chains cut at the cycle
budget), and in functional mode (no cycle model). In each pair everything
observable must be identical: the result, every hart's registers (the engine's,
and those dt_body dumps), the whole TCDM and L2, and per hart cycles,
instructions, every stall counter (TCDM, branch, L2, misaligned, load-use,
peripheral), division cycles, taken branches, TCDM/L2 accesses and L2 stores,
sleep by kind, CORE-V instructions executed, the PC and state, and the
per-instruction profile (execution counts, cycles, stall cycles by PC).

Independently, every hart's registers and areas must be what the generator's
model computes (plain Python; CORE-V ALU results from tests/isa_ref.py), the
hardware-loop encodings must reach their end labels, two hand-written programs
are checked against values computed here, and the programs must not depend on
the quantum, stores to code included.

A few seeds by default (about 20 s); `make test-slow` sweeps 120 more."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import chain_diff_gen as gen
from iss import Cluster, Config
from iss.isa import decode

HARNESS = Path(__file__).parent / "chain_diff_harness.c"   # not in firmware_src: it needs a generated dt_body
MAX_CYCLES = 5_000_000
SMALL_QUANTA = (7, 61, 250)
COUNTERS = ("cycles", "instret", "stall_tcdm", "stall_branch", "stall_l2", "stall_misaligned", "div_cycles",
            "branches_taken", "tcdm_accesses", "l2_accesses", "l2_stores")


@dataclass
class Run:
    exit_code: int
    cycles: int
    stdout: list
    harts: list          # per hart: dict of scalars
    arrays: list         # per hart: dict name -> np.ndarray (profile)
    tcdm: bytes
    l2: bytes
    cluster: Cluster
    initial_code: dict   # symbol -> the halfword there before the run, of the symbols asked for


def observe(elf, chains: bool, peek=(), native_slices: bool = True, **config) -> Run:
    c = Cluster(elf, Config.load(**config))
    c.scheduler.native_slices = native_slices
    c.scheduler.verify_masks = native_slices
    initial = {n: c.memory.read(c.program.symbol(n).addr, 2) for n in peek}
    if not chains:
        for h in c.harts:
            h.native.chain_limit = 0
    res = c.run(max_cycles=MAX_CYCLES)
    harts, arrays = [], []
    for h, p in zip(c.harts, c.profile_data()):
        st = h.native
        d = {k: int(getattr(st, k)) for k in COUNTERS}
        d.update(regs=[h.reg(i) for i in range(32)], pc=h.pc, state=h.state.value, sleep_cycles=int(h.sleep_cycles),
                 sleep=dict(h.sleep_by_kind), stall_periph=int(h.stall_periph), stalls=p["stalls"],
                 corev_executed=h.isa.executed)
        harts.append(d)
        arrays.append({"exec_count": p["exec_count"].copy(), "cycles_at": p["cycles_at"].copy(),
                       "stall_at": h.stall_at.copy()})
    m = c.memory
    return Run(res.exit_code, res.cycles, list(res.stdout), harts, arrays, m.read(m.tcdm_base, m.tcdm.size),
               m.read(m.l2_base, m.l2.size), c, initial)


def _first_diff(a: bytes, b: bytes, base: int) -> str:
    x = np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8)
    where = np.flatnonzero(x)
    return f"{len(where)} bytes differ, first at " + ", ".join(f"{base + int(k):#x}" for k in where[:8])


def assert_same(a: Run, b: Run, what: str, program=None):
    """Every observable of two runs of one program, with the first differences named."""
    problems = []
    if (a.exit_code, a.cycles, a.stdout) != (b.exit_code, b.cycles, b.stdout):
        problems.append(f"result: {(a.exit_code, a.cycles, a.stdout)} vs {(b.exit_code, b.cycles, b.stdout)}")
    for k, (x, y) in enumerate(zip(a.harts, b.harts)):
        for key in x:
            if x[key] != y[key]:
                problems.append(f"hart {k} {key}: {x[key]} vs {y[key]}")
        for key in a.arrays[k]:
            u, v = a.arrays[k][key], b.arrays[k][key]
            if not np.array_equal(u, v):
                idx = np.flatnonzero(u != v)[:6]
                pcs = a.cluster.code.pcs
                at = ", ".join(f"{int(pcs[i]):#x}{_where(program, int(pcs[i]))}: {int(u[i])} vs {int(v[i])}"
                               for i in idx)
                problems.append(f"hart {k} {key} differs at {len(np.flatnonzero(u != v))} PCs, first {at}")
    if a.tcdm != b.tcdm:
        problems.append("TCDM: " + _first_diff(a.tcdm, b.tcdm, a.cluster.memory.tcdm_base))
    if a.l2 != b.l2:
        problems.append("L2: " + _first_diff(a.l2, b.l2, a.cluster.memory.l2_base))
    assert not problems, f"{what}:\n  " + "\n  ".join(problems[:40])


def _where(program, pc: int) -> str:
    if program is None:
        return ""
    sym, off = program.function_at(pc)
    return f" ({sym.name}+{off:#x})" if sym else ""


def symbols(c: Cluster, prog: gen.Program) -> dict[str, int]:
    names = ["dt_tcdm", "dt_l2", "dt_dump", *prog.funcs, *prog.pokes,
             *re.findall(r"^(dt_auipc\d+):", prog.asm, re.M)]
    return {n: c.program.symbol(n).addr for n in names}


def check_hwloop_encodings(c: Cluster, prog: gen.Program):
    """The corev.h macros mask out-of-range offsets silently: each loop's setup
    word must encode exactly the distance to its end label (the generator counts
    words by itself, the assembler decides)."""
    def walk(n):
        if isinstance(n, gen.HwLoop):
            yield n
        for child in getattr(n, "items", ()):
            yield from walk(child)
        for attr in ("then", "else_", "body"):
            if isinstance(getattr(n, attr, None), gen.Seq):
                yield from walk(getattr(n, attr))
    loops = list(walk(prog.tree))
    for f in prog.funcs.values():
        loops += list(walk(f.body))
    for h in loops:
        s, b, e = (c.program.symbol(x).addr for x in h.labels)
        assert b % 4 == 0 and e % 4 == 0 and (e - b) // 4 >= 3, (h.labels, h.form)
        if h.form == "setupi":
            w = int.from_bytes(c.memory.read(s, 4), "little")
            assert b == s + 4 and (w >> 15) & 31 == (e - s) >> 2, (h.labels, hex(w))
    return loops


def check_model(run: Run, prog: gen.Program):
    """Registers and areas of every hart against the generator's model."""
    c = run.cluster
    syms = symbols(c, prog)
    # the halfwords of code the pokes rewrite (unchanged: as the ELF has them)
    code = {n: run.initial_code[n] for n in prog.pokes}
    problems = []
    for hart in range(8):
        m = gen.expected(prog, hart, syms, code)
        dump = c.memory.read(syms["dt_dump"] + 128 * hart, 128)
        for i in range(5, 32):
            got = int.from_bytes(dump[4 * i:4 * i + 4], "little")
            if m.x[i] is not None and got != m.x[i]:      # (None: t5 holding a counter)
                problems.append(f"hart {hart} {gen.ABI[i]} = {got:#x}, model {m.x[i]:#x}")
        for base, buf in m.areas[:2] + m.areas[3:]:
            got = c.memory.read(base, len(buf))
            if got != bytes(buf):
                problems.append(f"hart {hart} area {base:#x}: " + _first_diff(got, bytes(buf), base))
    assert not problems, f"seed {prog.seed}: the simulator and the model disagree:\n  " + "\n  ".join(problems[:30])


def coverage(run: Run) -> dict:
    """What the program made the harts do (so that a vacuous program fails)."""
    c = run.cluster
    tot = {k: sum(h[k] for h in run.harts) for k in COUNTERS}
    tot["corev"] = sum(h["corev_executed"] for h in run.harts)
    # CORE-V instructions run right after another CORE-V instruction: what chains
    code = c.code
    pcs = code.pcs
    starts = np.flatnonzero(code.starts)
    ran = run.arrays[0]["exec_count"]
    cv = np.zeros(len(pcs), bool)
    for i in starts:
        if ran[i]:
            w = int.from_bytes(c.memory.read(int(pcs[i]), 4), "little")
            insn = decode(w if w & 3 == 3 else w & 0xFFFF)
            cv[i] = insn is not None and insn.mnemonic.startswith("cv.")
    tot["corev_pairs"] = int(sum(1 for a, b in zip(starts, starts[1:]) if cv[a] and cv[b]))
    return tot


def build(iss_build, tmp_path, name: str, asm: str):
    src = tmp_path / f"{name}.S"
    src.write_text(asm)
    return iss_build([HARNESS, src], name=name)


def differential(iss_build, tmp_path, seed: int, size: int = 45, pokes: int = 3, reg_end: bool = True):
    """The program of `seed`: chains on vs off with the cycle model, at the default
    quantum and at a small one (chains cut at the budget), and without the cycle
    model; the model's registers and memory. Returns (chains on, program, chains
    on at the small quantum)."""
    prog = gen.generate(seed, size, pokes, reg_end)
    elf = build(iss_build, tmp_path, f"chain_diff_{seed}_{size}_{pokes}{'' if reg_end else '_endi'}", prog.asm)
    chained = observe(elf, True, prog.pokes)
    assert chained.exit_code == 0, chained.stdout
    check_hwloop_encodings(chained.cluster, prog)
    check_model(chained, prog)
    where = chained.cluster.program
    single = observe(elf, False)
    assert_same(chained, single, f"seed {seed}: chains on vs chain_limit 0", where)
    q = SMALL_QUANTA[seed % len(SMALL_QUANTA)]
    cut = [observe(elf, chains, scheduler={"quantum": q}) for chains in (True, False)]
    assert_same(*cut, f"seed {seed}: quantum {q}, chains on vs chain_limit 0", where)
    functional = [observe(elf, chains, timing={"enabled": False}) for chains in (True, False)]
    assert_same(*functional, f"seed {seed}: functional mode (no cycle model), chains on vs chain_limit 0", where)
    return chained, prog, cut[0]


def assert_quantum_invariant(chained: Run, cut: Run, seed: int):
    """Cycle counts are exact whatever the quantum (config.py: scheduler.quantum):
    the small quantum's run must equal the default one's in everything."""
    assert_same(chained, cut, f"seed {seed}: quantum {SMALL_QUANTA[seed % len(SMALL_QUANTA)]} vs default",
                chained.cluster.program)


DEFAULT_SEEDS = range(1, 7)


@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_chains_change_nothing_but_speed(iss_build, tmp_path, seed):
    run, _, _ = differential(iss_build, tmp_path, seed, pokes=seed % 2)
    cov = coverage(run)
    for k in ("stall_tcdm", "stall_branch", "stall_l2", "stall_misaligned", "div_cycles", "branches_taken",
              "tcdm_accesses", "l2_accesses", "l2_stores", "corev", "corev_pairs"):
        assert cov[k] > 0, (k, cov)


@pytest.mark.parametrize("seed", range(1, 3))
def test_the_quantum_changes_nothing(iss_build, tmp_path, seed):
    """Programs with up to 3 stores to code (each redecodes the code and flushes
    every hart's translations, at a point of the run that depends on the slices)."""
    run, _, cut = differential(iss_build, tmp_path, seed)
    assert_quantum_invariant(run, cut, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 220))
def test_chains_change_nothing_but_speed_many(iss_build, tmp_path, seed):
    """Every feature, stores to code included, and the quantum checked too."""
    run, _, cut = differential(iss_build, tmp_path, seed, size=45 + seed % 40, pokes=seed // 2 % 3)
    assert_quantum_invariant(run, cut, seed)


# ------------------------------------------------------------------ hand-written programs
def _hand(body: str, tcdm: bytes, l2: bytes, stride: int = 768) -> str:
    """A dt_body of hand-written code between the generator's prologue and epilogue."""
    lines = [gen.HEADER.format(seed="hand-written"), '    .section .text.dt_body, "ax"',
             "    .globl dt_body\n    .type dt_body, @function\n    .balign 4\ndt_body:",
             f"    addi sp, sp, -{gen.FRAME}", "    sw ra, 0(sp)"]
    lines += [f"    sw s{k}, {4 + 4 * k}(sp)" for k in range(12)]
    lines += ["    sw a2, 52(sp)", "    addi s0, a0, 64\n    addi s1, a1, 64", body, "    lw ra, 52(sp)"]
    lines += [f"    sw {gen.ABI[i]}, {4 * i}(ra)" for i in range(2, 32)]
    lines += [f"    lw s{k}, {4 + 4 * k}(sp)" for k in range(12)]
    lines += ["    lw ra, 0(sp)", f"    addi sp, sp, {gen.FRAME}\n    ret"]
    e = gen.Emitter(None)
    e.out = lines
    e.line('    .section .l1.dt_tcdm, "aw"\n    .balign 128\n    .globl dt_tcdm\ndt_tcdm:')
    gen._data(e, tcdm)
    e.line('    .section .data.dt_l2, "aw"\n    .balign 128\n    .globl dt_l2\ndt_l2:')
    gen._data(e, l2)
    e.line('    .section .bss.dt_dump, "aw", @nobits\n    .balign 4\n    .globl dt_dump\ndt_dump:\n    .space 8 * 128')
    e.line(f'    .section .rodata.dt_strides, "a"\n    .balign 4\n    .globl dt_tstride, dt_lstride\n'
           f"dt_tstride: .word {stride}\ndt_lstride: .word {stride}")
    return "\n".join(e.out) + "\n"


DOT = """
    /* a0: the int8 dot product of the first 64 bytes of the TCDM and L2 areas by
     * cv.sdotsp.b in a hardware loop; a1: the same with lb/mul/add in a software
     * loop; a2/a3: quotient and remainder of a0 by 7, a4/a5 by 0; t0: div INT_MIN / -1 */
    li a0, 0
    mv a6, s0
    mv a7, s1
    cv.setupi 0, 16, 2f
    .option push
    .option norvc
    cv.lw t1, (a6), 4
    cv.lw t2, (a7), 4
    cv.sdotsp.b a0, t1, t2
2:
    .option pop
    li a1, 0
    li t6, 64
    mv t1, s0
    mv t2, s1
1:  lb t3, 0(t1)
    lb s2, 0(t2)
    mul s2, s2, t3
    add a1, a1, s2
    c.addi t1, 1
    addi t2, t2, 1
    addi t6, t6, -1
    bnez t6, 1b
    li t3, 7
    div a2, a0, t3
    rem a3, a0, t3
    div a4, a0, zero
    remu a5, a0, zero
    li t3, -1
    lui t1, 0x80000
    div t0, t1, t3
"""

NESTED = """
    /* loop 1 (3 iterations) around loop 0 (4 iterations) adding 1 to a word per
     * inner iteration (with cv.sw post-increment), then calls to a function whose
     * entry is a 32-bit instruction at 2 mod 4: s2 = 12, the TCDM area's words
     * 0..11 incremented by 1 + their index mod 4... (checked in Python) */
    li s2, 0
    li s3, 0
    mv a6, s0
    cv.starti 1, 3f
    cv.endi 1, 4f
    cv.counti 1, 3
3:
    .option push
    .option norvc
    li t0, 4
    cv.setup 0, t0, 5f
    lw t1, 0(a6)
    addi t1, t1, 1
    add t1, t1, s3
    cv.sw t1, (a6), 4
    addi s2, s2, 1
5:
    addi s3, s3, 1
    nop
4:
    .option pop
    jal ra, hand_fn
    jal ra, hand_fn
    mv s4, a0
    j 6f
    .balign 4
    .2byte 0x0001
hand_fn:
    .option push
    .option norvc
    addi a0, s2, 100
    .option pop
    addi s2, s2, 1
    ret
6:
"""


def test_hand_written_dot_product_and_division(iss_build, tmp_path):
    import random
    rng = random.Random(7)
    tcdm = bytes(rng.getrandbits(8) for _ in range(8 * 768))
    l2 = bytes(rng.getrandbits(8) for _ in range(8 * 768))
    elf = build(iss_build, tmp_path, "chain_diff_dot", _hand(DOT, tcdm, l2))
    chained, single = observe(elf, True), observe(elf, False)
    assert_same(chained, single, "hand-written dot product: chains on vs off")
    c = chained.cluster
    dump0 = c.program.symbol("dt_dump").addr
    for hart in range(8):
        a = np.frombuffer(tcdm[hart * 768 + 64:hart * 768 + 128], np.int8).astype(np.int64)
        b = np.frombuffer(l2[hart * 768 + 64:hart * 768 + 128], np.int8).astype(np.int64)
        dot = int(a @ b)
        q = abs(dot) // 7 * (1 if dot >= 0 else -1)     # RISC-V division truncates
        regs = np.frombuffer(c.memory.read(dump0 + 128 * hart, 128), np.uint32)
        r = {n: int(regs[gen.X[n]]) for n in ("a0", "a1", "a2", "a3", "a4", "a5", "t0")}
        assert r == {"a0": dot & gen.M32, "a1": dot & gen.M32, "a2": q & gen.M32, "a3": (dot - 7 * q) & gen.M32,
                     "a4": gen.M32, "a5": dot & gen.M32, "t0": 0x80000000}, (hart, r)
    assert sum(h["stall_tcdm"] for h in chained.harts) > 0      # the harts met on the banks


def test_hand_written_nested_loops_and_odd_call(iss_build, tmp_path):
    import random
    rng = random.Random(8)
    tcdm = bytes(rng.getrandbits(8) for _ in range(8 * 768))
    l2 = bytes(8 * 768)
    elf = build(iss_build, tmp_path, "chain_diff_nested", _hand(NESTED, tcdm, l2))
    chained, single = observe(elf, True), observe(elf, False)
    assert_same(chained, single, "hand-written nested loops: chains on vs off")
    c = chained.cluster
    dump0 = c.program.symbol("dt_dump").addr
    area0 = c.program.symbol("dt_tcdm").addr
    for hart in range(8):
        regs = np.frombuffer(c.memory.read(dump0 + 128 * hart, 128), np.uint32)
        assert int(regs[gen.X["s2"]]) == 14 and int(regs[gen.X["s3"]]) == 3
        assert int(regs[gen.X["s4"]]) == 113 and int(regs[gen.X["a6"]]) == area0 + hart * 768 + 64 + 48
        before = np.frombuffer(tcdm[hart * 768 + 64:hart * 768 + 112], np.uint32).astype(np.int64)
        want = (before + 1 + np.repeat(np.arange(3), 4)) & gen.M32
        got = np.frombuffer(c.memory.read(area0 + hart * 768 + 64, 48), np.uint32)
        assert np.array_equal(got, want), hart
    assert c.program.symbol("hand_fn").addr % 4 == 2       # as the program means it


# ------------------------------------------------------------------ a known bug
TWIN = """
    .option push
    .option norvc
    .globl rp_x
    li a0, 1
    cv.starti 1, 1f
    cv.endi 1, 3f
    cv.counti 1, 3
1:  addi a0, a0, 1
    lui t5, %hi(2f)
    addi t5, t5, %lo(2f)
rp_x:
    {end}
    addi a0, a0, 1
    addi a0, a0, 1
2:  addi a0, a0, 1
3:  nop
    .option pop
"""


def test_a_new_register_loop_end_is_charged_once(iss_build, tmp_path):
    """`cv.end 0, t5` and `cv.endi 0, 2f` (the same end, same size) in a loop of 3:
    the twins must retire the same instructions in the same cycles, and the
    profile must count the loop-end instruction 3 times. Chains do not matter
    (the same with chain_limit 0)."""
    runs = {}
    for name, end in (("reg", "cv.end 0, t5"), ("imm", "cv.endi 0, 2f")):
        elf = build(iss_build, tmp_path, f"chain_diff_twin_{name}", _hand(TWIN.format(end=end), bytes(6144), bytes(6144)))
        runs[name] = [observe(elf, chains) for chains in (True, False)]
    for chains in (0, 1):
        reg, imm = runs["reg"][chains], runs["imm"][chains]
        i = int(np.searchsorted(reg.cluster.code.pcs, reg.cluster.program.symbol("rp_x").addr))
        assert [int(a["exec_count"][i]) for a in reg.arrays] == [3] * 8
        assert [(h["instret"], h["cycles"]) for h in reg.harts] == [(h["instret"], h["cycles"]) for h in imm.harts]


DIV_AFTER_LOOP = """
    li t5, 1
    .option push
    .option norvc
    cv.setupi 0, 3, 2f
    addi t0, t0, 1
2:  divu t1, t0, t5
    .option pop
"""


def test_a_division_right_after_a_loop_body_is_timed_when_it_runs(iss_build, tmp_path):
    """A divu at a hardware loop's end address is reached 3 times but runs once
    (twice the loop goes round instead): its divisor's cycles, 31 for 1 (the
    CV32E40P's leading-zero count), are charged once, chained or not."""
    elf = build(iss_build, tmp_path, "chain_diff_div_after_loop", _hand(DIV_AFTER_LOOP, bytes(6144), bytes(6144)))
    for chains in (True, False):
        run = observe(elf, chains)
        assert [h["div_cycles"] for h in run.harts] == [31] * 8


SMC_QUANTUM = """
    li t6, 20
1:  lw a0, 0(s0)
    lw a1, 4(s0)
    lw a2, 8(s0)
    add a3, a3, a0
    addi t6, t6, -1
    bnez t6, 1b
    lui a7, %hi(sq_target)
    addi a7, a7, %lo(sq_target)
    lhu a4, 0(a7)
    {store}
    addi a5, a5, 1
sq_target:
    addi a5, a5, 2
    li t6, 20
2:  lw a0, 0(s0)
    lw a1, 4(s0)
    sw a2, 8(s0)
    add a3, a3, a0
    addi t6, t6, -1
    bnez t6, 2b
"""


def test_a_store_to_code_leaves_the_quantum_alone(iss_build, tmp_path):
    """8 harts loading from the same TCDM banks around a store that rewrites an
    instruction ahead with its own bytes: the cycles must not depend on the
    quantum (config.py: scheduler.quantum), with chains or without. The hart that
    meets the rewritten code first stops at a loop's head inside the block it
    has just run (the branch back to it); that block ran whole, so every hart
    retires as many instructions as when the store goes to the stack."""
    retired = {}
    for store in ("sh a4, 64(sp)", "sh a4, 0(a7)"):      # to the stack (control), to the code
        elf = build(iss_build, tmp_path, f"chain_diff_smcq_{'code' if 'a7' in store else 'stack'}",
                    _hand(SMC_QUANTUM.format(store=store), bytes(6144), bytes(6144)))
        for chains in (True, False):
            default = observe(elf, chains)
            assert_same(default, observe(elf, chains, scheduler={"quantum": 13}),
                        f"{store}, chains {chains}: quantum 13 vs default")
            retired.setdefault(chains, []).append([h["instret"] for h in default.harts])
    for chains, (stack, code) in retired.items():
        assert code == stack, f"chains {chains}: instructions retired, store to the code {code} vs to the stack {stack}"
