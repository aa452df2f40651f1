"""One hart on a raw Unicorn engine, without a cluster: the native block hook and
the CORE-V executor on a bare code image, L2 and TCDM mapped. What the ISA tests
(tests/test_corev.py) and the native executor's bench (bench/bench_corev.py)
run instruction streams on; a Cluster's harts (iss/hart.py) add the scheduler,
peripherals, CSRs and the cycle model around the same native state.

    code, base = assemble("cv.sdotsp.b a0, a1, a2\\n.word 0xffffffff", workdir)
    h = StandaloneHart(code, base)
    h.set_reg("a1", 0x01020304); h.set_reg("a2", 0x05060708)
    assert h.run() == native.STOP_ILLEGAL    # the stop word
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from unicorn import UC_ARCH_RISCV, UC_HOOK_BLOCK, UC_MODE_RISCV32, UC_PROT_ALL, Uc
from unicorn import riscv_const as rc

from . import isa, native
from .timing import core as timing_core

L2_BASE, L2_SIZE = 0x1C000000, 64 << 20
TCDM_BASE, TCDM_SIZE = 0x10000000, 1 << 20
# Every CORE-V extension the CV32E40P has, for assembling test programs.
MCPU = "generic_rv32+m+a+c+zicsr+xcvalu+xcvmac+xcvsimd+xcvmem+xcvbi+xcvbitmanip+xcvelw"


def assemble(src: str, workdir: Path, name: str = "prog", base: int = L2_BASE) -> tuple[bytes, int]:
    """Assemble `src` (no runtime, no C library) with its .text at `base`:
    returns (the .text bytes, their address). Files go to `workdir`."""
    from elftools.elf.elffile import ELFFile

    workdir = Path(workdir)
    s = workdir / f"{name}.S"
    s.write_text(src)
    ld = workdir / f"{name}.ld"
    ld.write_text(f"SECTIONS {{ . = {base:#x}; .text : {{ *(.text*) }} }}\n")
    elf = workdir / f"{name}.elf"
    env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=str(workdir / "zc"), ZIG_LOCAL_CACHE_DIR=str(workdir / "zc"))
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "riscv32-freestanding-none",
                    f"-mcpu={MCPU}", "-mabi=ilp32", "-nostdlib", "-T", str(ld), str(s), "-o", str(elf)],
                   check=True, env=env, capture_output=True)
    with open(elf, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        return text.data(), text["sh_addr"]


class StandaloneHart:
    """`code` at `base` in an L2 of `l2_size` bytes (and a TCDM), on one engine
    with the native block hook; the CORE-V executor attached unless
    `corev=False` (the caller then hooks the traps itself). `chain_limit`: how
    many consecutive instructions one trap runs (0: one); `chain_standard`:
    whether those include standard ones (else CORE-V only)."""

    def __init__(self, code: bytes, base: int = L2_BASE, l2_size: int = L2_SIZE, *, corev: bool = True,
                 chain_limit: int = 0, chain_standard: bool = False):
        self.code, self.base = code, base
        self.l2 = np.zeros(l2_size, np.uint8)
        self.tcdm = np.zeros(TCDM_SIZE, np.uint8)
        off = base - L2_BASE
        self.l2[off:off + len(code)] = np.frombuffer(code, np.uint8)
        self.uc = uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        uc.mem_map_ptr(L2_BASE, l2_size, UC_PROT_ALL, self.l2.ctypes.data)
        uc.mem_map_ptr(TCDM_BASE, TCDM_SIZE, UC_PROT_ALL, self.tcdm.ctypes.data)
        self.st = st = native.HartState()
        st.budget = 1 << 62
        st.tcdm, st.tcdm_base, st.tcdm_size = self.tcdm.ctypes.data, TCDM_BASE, TCDM_SIZE
        st.l2, st.l2_base, st.l2_size = self.l2.ctypes.data, L2_BASE, l2_size
        # Instruction and cycle prefix sums per halfword, as the block hook charges them.
        self.table = tab = isa.predecode(code, base)
        hw = len(tab)
        starts = np.zeros(hw, np.uint32)
        i = 0
        while i < hw:
            starts[i] = 1
            i += int(tab["len"][i]) // 2
        self.ip = np.zeros(hw + 1, np.uint32)
        self.ip[1:] = np.cumsum(starts)
        timing = timing_core.analyse(tab, starts.astype(bool), base, code)
        self.cp = np.zeros(hw + 1, np.uint32)
        self.cp[1:] = np.cumsum(timing.cost)
        # the per-halfword tables the block hook reads (iss/hart.py: CodeImage)
        self.flags = timing.flags
        self.info, self.cost_at = timing_core.halfword_tables(tab, starts.astype(bool), timing.cost)
        st.code.set([(base, hw, 0)])
        # The block hook's cache, and the dirty-code word it checks (stores to the
        # code are not watched here: it stays 0).
        self.blocks = np.zeros(native.lib().iss_block_cache_bytes(), np.uint8)
        self.code_dirty = np.zeros(1, np.uint32)
        st.blocks, st.code_dirty = self.blocks.ctypes.data, self.code_dirty.ctypes.data
        st.insn_prefix, st.cycle_prefix = self.ip.ctypes.data, self.cp.ctypes.data
        st.flags, st.info, st.cost_at = self.flags.ctypes.data, self.info.ctypes.data, self.cost_at.ctypes.data
        native.add_hook(uc, UC_HOOK_BLOCK, "iss_block_hook", ctypes.addressof(st), 1, 0)
        self.isa = isa.attach(uc, ctypes.addressof(st), code, base) if corev else None
        st.chain_limit = chain_limit
        st.chain_standard = int(chain_standard)

    def reg(self, name: str) -> int:
        return self.uc.reg_read(getattr(rc, "UC_RISCV_REG_" + name.upper()))

    def set_reg(self, name: str, v: int) -> None:
        self.uc.reg_write(getattr(rc, "UC_RISCV_REG_" + name.upper()), v & 0xFFFFFFFF)

    def run(self, pc: int | None = None, max_slow: int = 1000) -> int:
        """Run from `pc` (default: the code's start) until a stop other than a
        slow one (event-unit loads are served from memory here); returns the
        native stop reason (native.STOP_*)."""
        pc = self.base if pc is None else pc
        for _ in range(max_slow):
            self.st.stop_reason = 0
            self.uc.emu_start(pc, 0)
            pc = self.uc.reg_read(rc.UC_RISCV_REG_PC)
            if self.st.stop_reason == native.STOP_SLOW:
                req = self.isa.slow(self.uc)
                if req is not None:
                    value = int.from_bytes(bytes(self.uc.mem_read(req.address, 4)), "little")
                    self.isa.complete(self.uc, req, value)
                pc = self.uc.reg_read(rc.UC_RISCV_REG_PC)
                continue
            return self.st.stop_reason
        raise AssertionError("too many slow stops")

    def words(self, addr: int, n: int) -> np.ndarray:
        """A view of `n` words of L2 at `addr`."""
        off = addr - L2_BASE
        return self.l2[off:off + 4 * n].view("<u4")
