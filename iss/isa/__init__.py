"""CORE-V instructions: the decode table, the disassembler, and the glue that puts
the native executor (iss/native/corev.c) on a Unicorn engine.

Hart integration (one call at engine creation, after the memories are mapped and
iss_block_hook registered, before any code runs):

    isa = iss.isa.attach(uc, ctypes.addressof(hart_state), code_image)

Keep `isa` alive as long as the engine. After `emu_start` returns with
`hart_state.stop_reason == STOP_SLOW`:

    req = isa.slow(uc)
    if req is not None:                  # cv.elw: a blocking event-unit load
        value = ...load req.address (may sleep)...
        isa.complete(uc, req, value)     # writes rd, charges, sets PC (loop aware)
    # else: handled; resume at the current PC

The executor reports other stops through the hart state: ILLEGAL (stop_info = raw
word; PC left on the instruction), FAULT (stop_info = address), ECALL / EBREAK /
TRAP (stop_pc = the instruction, stop_info = Unicorn's interrupt number).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from .. import unicorn_adapter
from .decode import ABI, PREDECODE_DTYPE, Insn, decode, disasm, linear_starts, predecode  # noqa: F401
from .table import N_COREV, ROWS, COST_CYCLES  # noqa: F401

# enum iss_slow (corev.h)
SLOW_NONE, SLOW_ELW, SLOW_HWLOOP, SLOW_DECODE = range(4)

OPS = {r.name + ("" if r.fmt not in ("LPI", "LPR", "LRR", "SPI", "SPR", "SRR") else "/" + r.fmt): r.op
       for r in ROWS}
_HWLOOP_STATIC_END = {"cv.endi", "cv.setupi", "cv.setup"}


class IsaState(ctypes.Structure):
    """Mirror of `struct iss_isa` in iss/native/corev.h."""

    _fields_ = [
        ("tab", ctypes.c_void_p),
        ("n", ctypes.c_uint32),
        ("lp_start", ctypes.c_uint32 * 2),
        ("lp_end", ctypes.c_uint32 * 2),
        ("lp_count", ctypes.c_uint32 * 2),
        ("slow_kind", ctypes.c_uint32),
        ("pending_hook", ctypes.c_uint32),
        ("executed", ctypes.c_uint64),
        ("n_hooked", ctypes.c_uint32),
        ("cap_hooked", ctypes.c_uint32),
        ("hooked", ctypes.c_void_p),
    ]


class _Insn(ctypes.Structure):
    _fields_ = [("op", ctypes.c_uint16), ("len", ctypes.c_uint8), ("rd", ctypes.c_uint8),
                ("rs1", ctypes.c_uint8), ("rs2", ctypes.c_uint8), ("rs3", ctypes.c_uint8),
                ("cycles", ctypes.c_uint8), ("imm", ctypes.c_int32), ("imm2", ctypes.c_int32)]


@dataclass(frozen=True)
class EventLoad:
    """A cv.elw the hart must perform: rd = Mem32(address), possibly sleeping."""
    pc: int
    rd: int
    address: int
    cycles: int


@lru_cache(maxsize=8)
def _predecode_cached(code: bytes, base: int) -> np.ndarray:
    tab = predecode(code, base)
    tab.setflags(write=False)
    return tab


def predecode_table(code: bytes, base: int) -> np.ndarray:
    """The per-halfword decode table of `code` (cached: every hart shares it)."""
    return _predecode_cached(bytes(code), base)


def hwloop_end_addresses(tab: np.ndarray, pcs: np.ndarray) -> list[int]:
    """Loop end addresses known statically (cv.endi / cv.setupi / cv.setup at 32-bit
    aligned positions: the manual requires setup instructions to be aligned);
    `pcs`: the address of each entry of `tab`."""
    ops = {r.op: r.name for r in ROWS if r.name in _HWLOOP_STATIC_END}
    ends = set()
    idx = np.nonzero(np.isin(tab["op"], list(ops)))[0]
    for i in idx:
        pc = int(pcs[i])
        if pc & 3:
            continue
        e = tab[i]
        uimm = int(e["imm2"]) if ops[int(e["op"])] == "cv.setupi" else int(e["imm"])
        ends.add((pc + (uimm << 2)) & 0xFFFFFFFF)
    return sorted(ends)


class Isa:
    """The executor attached to one engine; holds every buffer C points to."""

    def __init__(self, uc, hart_state_address: int, code, code_base: int | None = None):
        from iss import native
        from iss.native import HartState
        from unicorn import UC_HOOK_CODE, UC_HOOK_INTR

        self._native = native
        self._lib = native.lib()
        if self._lib.iss_corev_state_size() != ctypes.sizeof(IsaState):
            raise RuntimeError("iss.isa.IsaState does not match struct iss_isa")
        self.uc = uc
        self.hart_address = hart_state_address
        self.hart = HartState.from_address(hart_state_address)
        if code_base is None:       # a hart.CodeImage: its table and map (set in the hart state)
            self.table, pcs = code.table, code.pcs
        else:                       # bytes at code_base: one region, the caller sets the hart's map
            self.table = _predecode_cached(bytes(code), code_base)
            pcs = code_base + 2 * np.arange(len(self.table), dtype=np.int64)
        self.state = IsaState()
        self.state.tab = self.table.ctypes.data
        self.state.n = len(self.table)
        self._hooked = np.zeros(64, np.uint32)     # grown as loop ends are hooked (no limit)
        self.state.hooked, self.state.cap_hooked = self._hooked.ctypes.data, len(self._hooked)
        self.hart.isa = ctypes.addressof(self.state)
        self._UC_HOOK_CODE = UC_HOOK_CODE
        self.hooks = [native.add_hook(uc, UC_HOOK_INTR, "iss_intr_hook", hart_state_address)]
        self._ends: set[int] = set()         # what the native sorted buffer holds, for Python's lookups
        for end in hwloop_end_addresses(self.table, pcs):
            self.add_loop_end_hook(end, flush=False)

    def _entry(self, pc: int):
        """The pre-decoded entry of the instruction at `pc` (None outside the code)."""
        from iss import native
        i = native.code_slot(self.hart.code.regions(), pc, ends=False)
        return None if i is None else self.table[i]

    # -- hardware loops
    def add_loop_end_hook(self, address: int, flush: bool = True) -> None:
        if address in self._ends:
            return
        self.hooks.append(self._native.add_hook(self.uc, self._UC_HOOK_CODE, "iss_hwloop_hook",
                                                self.hart_address, address, address))
        self._ends.add(address)
        while not self._lib.iss_corev_mark_hooked(ctypes.c_void_p(self.hart_address), ctypes.c_uint32(address)):
            grown = np.zeros(2 * len(self._hooked), np.uint32)
            grown[:len(self._hooked)] = self._hooked
            self._hooked = grown
            self.state.hooked, self.state.cap_hooked = grown.ctypes.data, len(grown)
        if flush:
            # hooks added after a block was translated only fire once it is retranslated
            self.uc.ctl_flush_tb()

    @property
    def hooked_ends(self) -> list[int]:
        """The loop end addresses with a code hook, as the executor sees them (sorted)."""
        return self._hooked[:self.state.n_hooked].tolist()

    def hwloop_state(self) -> dict:
        s = self.state
        return {"start": list(s.lp_start), "end": list(s.lp_end), "count": list(s.lp_count)}

    @property
    def executed(self) -> int:
        """Custom instructions executed natively on this hart."""
        return int(self.state.executed)

    # -- slow path
    def insn_at(self, pc: int) -> Optional[Insn]:
        if self._entry(pc) is not None:
            w = int.from_bytes(bytes(self.uc.mem_read(pc, 2)), "little")
            if w & 3 == 3:
                w |= int.from_bytes(bytes(self.uc.mem_read(pc + 2, 2)), "little") << 16
            return decode(w)
        return decode(int.from_bytes(bytes(self.uc.mem_read(pc, 4)), "little"))

    def slow(self, uc=None) -> Optional[EventLoad]:
        """Finish an ISS_STOP_SLOW stop. Returns an EventLoad for cv.elw, else None
        (the instruction was handled; resume at the current PC)."""
        from unicorn.riscv_const import UC_RISCV_REG_X0

        uc = uc or self.uc
        kind, pc = self.state.slow_kind, self.hart.stop_pc
        self.state.slow_kind = SLOW_NONE
        if kind == SLOW_ELW:
            e = self._entry(pc)
            rs1 = uc.reg_read(UC_RISCV_REG_X0 + int(e["rs1"])) if e["rs1"] else 0
            return EventLoad(pc, int(e["rd"]), (rs1 + int(e["imm"])) & 0xFFFFFFFF, int(e["cycles"]))
        if kind == SLOW_HWLOOP:
            self.add_loop_end_hook(int(self.state.pending_hook))
            return None     # the instruction re-executes (PC was left on it)
        if kind == SLOW_DECODE:
            i = decode(self.hart.stop_info)
            if i is None or i.op > N_COREV:
                self.hart.stop_reason = self._native.STOP_ILLEGAL
                raise RuntimeError(f"illegal instruction {self.hart.stop_info:#010x} at {pc:#010x}")
            if i.mnemonic == "cv.elw":
                rs1 = uc.reg_read(UC_RISCV_REG_X0 + i.rs1) if i.rs1 else 0
                return EventLoad(pc, i.rd, (rs1 + i.imm) & 0xFFFFFFFF, i.cycles)
            entry = _Insn(i.op, i.length, i.rd, i.rs1, i.rs2, i.rs3, i.cycles, i.imm, i.imm2)
            self.hart.stop_reason = 0
            self.hart.cycles += i.cycles
            self.hart.instret += 1
            if self._lib.iss_corev_exec(unicorn_adapter.handle(uc), ctypes.c_void_p(self.hart_address),
                                        ctypes.byref(entry), ctypes.c_uint32(pc)):
                if self.hart.stop_reason == self._native.STOP_SLOW and self.state.slow_kind == SLOW_HWLOOP:
                    self.hart.cycles -= i.cycles
                    self.hart.instret -= 1
                    return self.slow(uc)
            return None
        raise RuntimeError(f"no pending slow instruction (slow_kind {kind})")

    def complete(self, uc, req: EventLoad, value: int) -> None:
        """Finish a cv.elw: rd = value, charge its cost, PC past it (loop aware)."""
        self.hart.cycles += req.cycles
        self.hart.instret += 1
        self._lib.iss_corev_complete_elw(unicorn_adapter.handle(uc or self.uc), ctypes.c_void_p(self.hart_address),
                                         ctypes.c_uint32(req.pc), ctypes.c_uint32(req.rd),
                                         ctypes.c_uint32(value & 0xFFFFFFFF))


def attach(uc, hart_state_address: int, code, code_base: int | None = None) -> Isa:
    """Allocate the executor state over the code's pre-decoded table, set
    `hart.isa`, register the INTR hook and one code hook per static loop end.
    `code`: the program's hart.CodeImage (whose map the hart state holds), or
    bytes loaded at `code_base` (one region: the caller sets `hart.code`)."""
    return Isa(uc, hart_state_address, code, code_base)


def hwloop_state(obj: Isa) -> dict:
    return obj.hwloop_state()
