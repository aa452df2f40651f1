"""Simulation speed: aggregate simulated MIPS of a compute-bound parallel program
on 8 harts, in functional mode and with the cycle model, against bare Unicorn
(one engine, no hooks) running the same ELF's kernel. Prints medians of REPEAT
runs measured in this one process, and their ratios.

Targets: plain RV32IMC parallel code with the cycle model at >= 40% of bare
Unicorn. Then the SIMD workload: the cores-only MobileNetV2 bottleneck (int8
matrix multiplies with cv.sdotsp.b, hardware loops, post-increment loads; TCDM
contention modelled), functional and with the cycle model (target >= 200 MIPS
with the cycle model), and its custom-instruction rate. Last, loading: the
seconds from ELF to the first instruction per MB of text (target <= 0.3 s/MB).
Every figure also goes to build/bench.json (bench/figures.py).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV32, UC_PROT_ALL, Uc
from unicorn.riscv_const import UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_RA, UC_RISCV_REG_SP

from iss import Cluster, Config, toolchain
from iss.elf import Program
from iss.hart import CodeImage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import figure  # noqa: E402

REPEAT = 3
ITERATIONS = 200_000      # work() iterations per core
HERE = Path(__file__).resolve().parent


def build(tmp: Path) -> Path:
    # Plain RV32IMC, so bare Unicorn can run the very same kernel.
    return toolchain.compile([HERE / "firmware" / "compute.c"], tmp / "compute.elf", opt="-O2", corev=False)


def sim(elf: Path, iterations: int, **config):
    """The program with `iterations` per core; returns (instructions, seconds, slices)."""
    cluster = Cluster(elf, Config.load(**config))
    cluster.write_symbol("iterations", np.array([iterations], np.int32))
    res = cluster.run()
    assert res.exit_code == 0
    return res.instructions, res.wall_seconds, cluster.scheduler.slices


def bare(elf: Path, iterations: int):
    """`work(1, iterations)` on one engine with no hooks; returns its seconds."""
    prog = Program(elf)
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    l2 = np.zeros(4 << 20, np.uint8)
    uc.mem_map_ptr(0x1C000000, l2.size, UC_PROT_ALL, l2.ctypes.data)
    tcdm = np.zeros(512 << 10, np.uint8)
    uc.mem_map_ptr(0x10000000, tcdm.size, UC_PROT_ALL, tcdm.ctypes.data)
    for seg in prog.segments:
        off = seg.vaddr - 0x1C000000
        if 0 <= off < l2.size:
            l2[off:off + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
    work = prog.symbol("work").addr
    stop = 0x1C000000 + l2.size - 16        # never executed: the return address
    uc.reg_write(UC_RISCV_REG_SP, 0x10000000 + tcdm.size)
    uc.reg_write(UC_RISCV_REG_A0, 1)
    uc.reg_write(UC_RISCV_REG_A1, iterations)
    uc.reg_write(UC_RISCV_REG_RA, stop)
    t0 = time.perf_counter()
    uc.emu_start(work, stop)
    return time.perf_counter() - t0


def build_simd(tmp: Path) -> Path:
    root = HERE.parent
    kernels = root / "firmware" / "kernels"
    return toolchain.compile([root / "firmware" / "apps" / "bottleneck_cores.c", *sorted(kernels.glob("*.c"))],
                             tmp / "bottleneck_cores.elf", opt="-O3", include_dirs=[kernels],
                             defines=["KERNELS_LINKED"])


def simd_rows(elf: Path):
    rows = []
    for label, cfg in (("functional", {"timing": {"enabled": False}}), ("cycle model", {})):
        runs = []
        for _ in range(REPEAT):
            cluster = Cluster(elf, Config.load(**cfg))
            res = cluster.run()
            custom = sum(h.isa.executed for h in cluster.harts)
            runs.append((res.instructions / res.wall_seconds / 1e6, custom / res.wall_seconds / 1e6,
                         res.instructions, custom))
        rows.append((label, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                     runs[0][2], runs[0][3]))
    return rows


# A large text segment for the loading figure: a mix of ALU, memory, branch and
# CORE-V instructions repeated to about 1 MB (real firmware is smaller; what is
# measured is the cost per byte).
BIG_TEXT = """
  .section .text.big, "ax"
  .globl big
big:
  .rept 25000
  addi a0, a0, 1
  lw a1, 4(sp)
  sw a1, 8(sp)
  mul a2, a1, a0
  beq a2, zero, 1f
  cv.lw a3, (a4), 4
  cv.sdotsp.b a5, a3, a1
  c.addi a0, 1
1:
  jal ra, 2f
2:
  .endr
  ret
  .text
  .globl main
main:
  la a0, big          # keeps .text.big through --gc-sections; never called
  li a0, 0
  ret
"""


def build_big(tmp: Path) -> Path:
    (tmp / "big.S").write_text(BIG_TEXT)
    return toolchain.compile([tmp / "big.S"], tmp / "big.elf", opt="-O2")


def load_seconds_per_mb(elf: Path) -> tuple[float, float]:
    """Seconds per MB of text from ELF file to the tables the harts run from
    (reading the ELF, predecode and timing analysis), median of REPEAT; and the MB."""
    prog = Program(elf)
    lo, hi = prog.code_range()
    mb = (hi - lo) / 1e6
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        CodeImage(Program(elf))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / mb, mb


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        elf = build(Path(d))
        rows = []
        for label, cfg in (("functional", {"timing": {"enabled": False}}), ("cycle model", {})):
            runs = [sim(elf, ITERATIONS, **cfg) for _ in range(REPEAT)]
            mips = statistics.median(i / s / 1e6 for i, s, _ in runs)
            rows.append((label, runs[0][0], mips, runs[0][2]))
        # The instructions of one work() call, as the bare engine runs it: the
        # run's instructions minus those of the same run with no iterations
        # (start-up, fork, join), per core.
        per_core = (rows[0][1] - sim(elf, 0, timing={"enabled": False})[0]) / 8
        bare_s = statistics.median(bare(elf, ITERATIONS) for _ in range(REPEAT))
        bare_mips = per_core / bare_s / 1e6
        print(f"compute-bound program, 8 harts x {ITERATIONS} iterations, {rows[0][1]:,} instructions in all")
        print(f"{'mode':<14}{'MIPS (median)':>15}{'vs bare':>10}{'slices':>9}")
        for label, _, mips, slices in rows:
            print(f"{label:<14}{mips:>15.1f}{mips / bare_mips:>9.0%}{slices:>9}")
        print(f"{'bare Unicorn':<14}{bare_mips:>15.1f}{1:>9.0%}{'-':>9}   (one engine, no hooks, work() only)")
        figure("plain.functional_mips", rows[0][2], "MIPS", reference=bare_mips)
        figure("plain.cycle_model_mips", rows[1][2], "MIPS", reference=bare_mips, target=0.40, target_on="ratio")
        figure("plain.bare_unicorn_mips", bare_mips, "MIPS")
        print()
        simd_elf = build_simd(Path(d))
        rows = simd_rows(simd_elf)
        print(f"SIMD workload: cores-only bottleneck, {rows[0][3]:,} instructions, "
              f"{rows[0][4]:,} of them CORE-V ({rows[0][4] / rows[0][3]:.0%})")
        print(f"{'mode':<14}{'MIPS (median)':>15}{'custom M/s':>12}")
        for label, mips, custom, _, _ in rows:
            print(f"{label:<14}{mips:>15.1f}{custom:>12.1f}")
        figure("simd.functional_mips", rows[0][1], "MIPS", reference=bare_mips)
        figure("simd.cycle_model_mips", rows[1][1], "MIPS", reference=bare_mips, target=200)
        figure("simd.cycle_model_custom_mps", rows[1][2], "M custom/s")
        print()
        per_mb, mb = load_seconds_per_mb(build_big(Path(d)))
        print(f"loading an ELF with {mb:.2f} MB of text")
        figure("load.seconds_per_mb", per_mb, "s/MB", better="lower", target=0.3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
