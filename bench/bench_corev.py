"""Custom instructions per second: the native CORE-V executor (C UC_HOOK_INTR) vs a
Python trap handler doing the same work, on the same tight loop.

    python bench/bench_corev.py [--iters N] [--runs R]

Loops (cv.sdotsp.b is the custom instruction):
  branch : cv.sdotsp.b; addi; bnez                      (1 custom in 3 instructions)
  hwloop : cv.setupi + body {cv.sdotsp.b; cv.sdotsp.b; cv.sdotsp.b}  (zero-overhead loop)
Prints the median of several runs and the ratio native / Python.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from unicorn import UC_HOOK_INTR
from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_X0

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from iss import isa, native  # noqa: E402
from iss.hart import CHAIN_LIMIT  # noqa: E402
from iss.standalone import L2_BASE as BASE, StandaloneHart, assemble  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import figure  # noqa: E402



def build(src: str, d: Path) -> bytes:
    return assemble(src, d, "b", BASE)[0]


def programs(iters: int) -> dict[str, tuple[str, int]]:
    branch = f"""
.option norvc
.globl _start
_start:
  li a1, 0x01020304
  li a2, 0x05060708
  li s2, {iters}
1: cv.sdotsp.b a0, a1, a2
  addi s2, s2, -1
  bnez s2, 1b
  .word 0xffffffff
"""
    n = min(iters, 4095)
    outer = max(1, iters // n)
    hw = f"""
.option norvc
.option norelax
.globl _start
_start:
  li a1, 0x01020304
  li a2, 0x05060708
  li s3, {outer}
2:
0: .word (({n}) << 20) | ((((1f - 0b) >> 2)) << 15) | (0b100 << 12) | (6 << 8) | 0x2b
  cv.sdotsp.b a0, a1, a2
  cv.sdotsp.b a0, a1, a2
  cv.sdotsp.b a0, a1, a2
1: addi s3, s3, -1
  bnez s3, 2b
  .word 0xffffffff
"""
    return {"branch": (branch, iters), "hwloop": (hw, 3 * n * outer)}


class Engine(StandaloneHart):
    """The standalone hart (iss/standalone.py) with the native CORE-V executor, or
    with a Python trap handler doing the same work in its place."""

    def __init__(self, code: bytes, python_handler: bool, chain: int = 0):
        super().__init__(code, BASE, 1 << 20, corev=not python_handler, chain_limit=chain,
                         chain_standard=chain > 0)
        if python_handler:
            self.done = False
            self.uc.hook_add(UC_HOOK_INTR, self._py_intr)

    def _py_intr(self, uc, intno, _):
        """The same work as the native hook, in Python: look up the pre-decoded entry,
        run cv.sdotsp.b, write rd, move PC."""
        pc = uc.reg_read(UC_RISCV_REG_PC) - 4
        e = self.table[(pc - BASE) >> 1]
        if intno != 2 or e["op"] != isa.OPS["cv.sdotsp.b"]:
            self.done = True
            uc.emu_stop()
            return
        a = uc.reg_read(UC_RISCV_REG_X0 + int(e["rs1"]))
        b = uc.reg_read(UC_RISCV_REG_X0 + int(e["rs2"]))
        d = uc.reg_read(UC_RISCV_REG_X0 + int(e["rd"]))
        for i in range(4):
            x = (a >> (8 * i)) & 0xFF
            y = (b >> (8 * i)) & 0xFF
            d += (x - 256 if x & 0x80 else x) * (y - 256 if y & 0x80 else y)
        uc.reg_write(UC_RISCV_REG_X0 + int(e["rd"]), d & 0xFFFFFFFF)
        uc.reg_write(UC_RISCV_REG_PC, pc + 4)

    def run(self) -> float:
        t = time.perf_counter()
        self.uc.emu_start(BASE, 0)
        return time.perf_counter() - t


def measure(code: bytes, n_custom: int, python_handler: bool, runs: int, chain: int = 0) -> tuple[float, float]:
    rates, mips = [], []
    for _ in range(runs):
        e = Engine(code, python_handler, chain)
        dt = e.run()
        rates.append(n_custom / dt)
        mips.append(e.st.instret / dt / 1e6)
    return statistics.median(rates), statistics.median(mips)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2_000_000)
    ap.add_argument("--py-iters", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args(argv)
    native.lib()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        progs = {k: (build(src, d / k) if (d / k).mkdir() is None else None, n)
                 for k, (src, n) in programs(a.iters).items()}
        py_code = build(programs(a.py_iters)["branch"][0], d / "branch")
    print(f"{'loop':<8} {'handler':<8} {'custom/s':>12} {'MIPS':>8}")
    c_rate, c_mips = measure(progs["branch"][0], progs["branch"][1], False, a.runs)
    print(f"{'branch':<8} {'C':<8} {c_rate / 1e6:>10.1f} M {c_mips:>8.1f}")
    p_rate, p_mips = measure(py_code, a.py_iters, True, max(3, a.runs // 2))
    print(f"{'branch':<8} {'Python':<8} {p_rate / 1e3:>10.0f} k {p_mips:>8.2f}")
    h_rate, h_mips = measure(progs["hwloop"][0], progs["hwloop"][1], False, a.runs)
    print(f"{'hwloop':<8} {'C':<8} {h_rate / 1e6:>10.1f} M {h_mips:>8.1f}   (one trap per instruction)")
    k_rate, k_mips = measure(progs["hwloop"][0], progs["hwloop"][1], False, a.runs, chain=CHAIN_LIMIT)
    print(f"{'hwloop':<8} {'C chain':<8} {k_rate / 1e6:>10.1f} M {k_mips:>8.1f}   "
          f"(what follows the trapping one, standard or CORE-V, runs in the same trap, as in the simulator)")
    print(f"native / Python: {c_rate / p_rate:.0f}x (median of {a.runs} runs)")
    figure("corev.trap_per_insn_mps", c_rate / 1e6, "M custom/s", target=10)
    figure("corev.chained_hwloop_mps", k_rate / 1e6, "M custom/s")
    figure("corev.python_handler_mps", p_rate / 1e6, "M custom/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
