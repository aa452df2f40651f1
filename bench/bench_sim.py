"""Simulation speed: aggregate simulated MIPS of a compute-bound parallel program
on 8 harts, in functional mode and with the cycle model, against bare Unicorn
(one engine, no hooks) running the same ELF's kernel. Prints medians of REPEAT
runs measured in this one process, and their ratios.

Targets (issues 2 and 4): the scheduler at >= 25% of bare Unicorn; >= 50 MIPS
aggregate with the cycle model on plain RV32IMC parallel code. Then the SIMD
workload: the cores-only MobileNetV2 bottleneck (int8 matrix multiplies with
cv.sdotsp.b, hardware loops, post-increment loads; TCDM contention modelled),
functional and with the cycle model (issue 3 target: >= 50 MIPS functional;
issue 4: >= 20 MIPS with contention), and its custom-instruction rate.
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

REPEAT = 3
HERE = Path(__file__).resolve().parent


def build(tmp: Path) -> Path:
    # Plain RV32IMC, so bare Unicorn can run the very same kernel.
    return toolchain.compile([HERE / "firmware" / "compute.c"], tmp / "compute.elf", opt="-O2", corev=False)


def sim(elf: Path, **config):
    cluster = Cluster(elf, Config.load(**config))
    res = cluster.run()
    assert res.exit_code == 0
    return res.instructions, res.wall_seconds, cluster.scheduler.slices


def bare(elf: Path, iterations: int):
    """`work(1, iterations)` on one engine with no hooks; returns (instructions, seconds)."""
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
    dt = time.perf_counter() - t0
    # Count the kernel's instructions once with the simulator's own counter: one
    # hart, functional mode, same program (the fork adds a few hundred).
    return dt


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


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        elf = build(Path(d))
        prog = Program(elf)
        iters = int.from_bytes(next(s.data for s in prog.segments if s.writable)[:0] or b"", "little") or 200000
        rows = []
        for label, cfg in (("functional", {"timing": {"enabled": False}}), ("cycle model", {})):
            runs = [sim(elf, **cfg) for _ in range(REPEAT)]
            mips = statistics.median(i / s / 1e6 for i, s, _ in runs)
            rows.append((label, runs[0][0], mips, runs[0][2]))
        # Instructions of one work() call: total / 8 minus the runtime's share.
        per_core = rows[0][1] / 8
        bare_s = statistics.median(bare(elf, iters) for _ in range(REPEAT))
        bare_mips = per_core / bare_s / 1e6
        print(f"compute-bound program, 8 harts x {iters} iterations, {rows[0][1]:,} instructions in all")
        print(f"{'mode':<14}{'MIPS (median)':>15}{'vs bare':>10}{'slices':>9}")
        for label, _, mips, slices in rows:
            print(f"{label:<14}{mips:>15.1f}{mips / bare_mips:>9.0%}{slices:>9}")
        print(f"{'bare Unicorn':<14}{bare_mips:>15.1f}{1:>9.0%}{'-':>9}   (one engine, no hooks, work() only)")
        print()
        rows = simd_rows(build_simd(Path(d)))
        print(f"SIMD workload: cores-only bottleneck, {rows[0][3]:,} instructions, "
              f"{rows[0][4]:,} of them CORE-V ({rows[0][4] / rows[0][3]:.0%})")
        print(f"{'mode':<14}{'MIPS (median)':>15}{'custom M/s':>12}")
        for label, mips, custom, _, _ in rows:
            print(f"{label:<14}{mips:>15.1f}{custom:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
