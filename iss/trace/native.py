"""The Python side of iss/native/trace.c: per-hart tracers put on the engines only
when a trace or timeline is requested, the per-halfword tables they read, and the
readers of the binary files they write.

Binary formats (little-endian, one file per hart, records in execution order):
- instruction records, `INSN_DTYPE` (24 bytes): cycle the instruction started,
  pc, value of the register written, memory address, hart, register (0: none),
  flags (MEM 1, STORE 2, VALUE 4, RETRY 8, UNRETIRED 16), access size;
- timeline records, `SAMPLE_DTYPE` (24 bytes), at the start of a block: cycle,
  instret at that cycle, function id (index+1 into `FunctionMap.names`, 0:
  outside any symbol), the block's pc | kind (bit 0 clear: the hart entered that
  function; set: a periodic sample, every `sample_period` cycles at least).
"""
from __future__ import annotations

import ctypes
import os

import numpy as np
from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from .. import native, unicorn_adapter
from ..isa.table import ROWS

INSN_DTYPE = np.dtype([("cycle", "<u8"), ("pc", "<u4"), ("value", "<u4"), ("addr", "<u4"), ("hart", "u1"),
                       ("reg", "u1"), ("flags", "u1"), ("size", "u1")])
SAMPLE_DTYPE = np.dtype([("cycle", "<u8"), ("instret", "<u8"), ("func", "<u4"), ("pc_kind", "<u4")])
META_DTYPE = np.dtype([("reg", "u1"), ("mem", "u1"), ("ra", "u1"), ("rb", "u1"), ("imm", "<i4")])
assert INSN_DTYPE.itemsize == 24 and SAMPLE_DTYPE.itemsize == 24 and META_DTYPE.itemsize == 8

F_MEM, F_STORE, F_VALUE, F_RETRY, F_UNRETIRED = 1, 2, 4, 8, 16
TM_BASE, TM_RR, TM_IMM, TM_ACCESS, TM_STORE = 1, 2, 3, 4, 0x80
BUF_RECORDS = 4096           # ISS_TRACE_BUF
NO_WINDOW_END = (1 << 64) - 1

_MODE = {"base": TM_BASE, "rs2": TM_RR, "rs3": TM_RR, "imm": TM_IMM}


def _row_meta(row) -> tuple[str, int, str]:
    """(register written: 'rd' | 'rs1' | 'ra' | '', mem bits, address form) of a
    row, from its operand roles (iss/isa/table.py)."""
    o = row.operands
    dest = o.writes[0] if o.writes else ""
    mem = _MODE.get(o.address, 0)
    if o.mem:
        mem |= TM_ACCESS | (row.size << 4)
        if o.mem == "store":
            mem |= TM_STORE
    return dest, mem, o.address


def build_meta(code, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Per-halfword `iss_trace_meta` of a hart.CodeImage (of its slots [lo, hi))."""
    tab = code.table[lo:code.halfwords if hi is None else hi]
    meta = np.zeros(len(tab), META_DTYPE)
    ops = tab["op"].astype(np.int64)
    for op in np.unique(ops):
        if op == 0:
            continue
        row = ROWS[op - 1]
        dest, mem, form = _row_meta(row)
        sel = ops == op
        if dest == "rd":
            meta["reg"][sel] = tab["rd"][sel]
        elif dest == "rs1":
            meta["reg"][sel] = tab["rs1"][sel]
        elif dest == "ra":
            meta["reg"][sel] = 1
        meta["mem"][sel] = mem
        if form:
            meta["ra"][sel] = tab["rs1"][sel]
            if form == "rs2":
                meta["rb"][sel] = tab["rs2"][sel]
            elif form == "rs3":
                meta["rb"][sel] = tab["rs3"][sel]
            elif form == "imm":
                meta["imm"][sel] = tab["imm"][sel]
    return meta


class FunctionMap:
    """Function ids per halfword of code (at the addresses `pcs`: a CodeImage's), as
    Program.function_at sees them: id = index + 1 into `funcs`, 0 outside any symbol."""

    def __init__(self, program, pcs: np.ndarray):
        funcs = sorted((s for s in program.symbols.values() if s.kind in ("func", "notype") and s.addr),
                       key=lambda s: s.addr)
        self.funcs = funcs
        self.names = [s.name for s in funcs]
        pcs = np.asarray(pcs, dtype=np.int64)
        starts = np.array([s.addr for s in funcs], dtype=np.int64)
        sizes = np.array([s.size for s in funcs], dtype=np.int64)
        idx = np.searchsorted(starts, pcs, side="right") - 1
        ids = np.where(idx >= 0, idx + 1, 0).astype(np.uint32)
        sel = np.nonzero(idx >= 0)[0]
        outside = (sizes[idx[sel]] != 0) & (pcs[sel] >= starts[idx[sel]] + sizes[idx[sel]])
        ids[sel[outside]] = 0
        self.ids = ids

    def name(self, fid: int) -> str:
        return self.names[fid - 1] if fid else "??"


class Tracer:
    """One hart's tracer: the C struct, its tables and its hooks."""

    def __init__(self, hart, *, insn_path: str | None = None, sample_path: str | None = None,
                 meta: np.ndarray | None = None, func_ids: np.ndarray | None = None,
                 window: tuple[int, int | None] = (0, None), sample_period: int = 1000):
        lib = native.lib()
        lib.iss_trace_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
        lib.iss_trace_finish.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self._lib = lib
        self.hart = hart
        self.insn_path, self.sample_path = insn_path, sample_path
        size = lib.iss_tracer_size()
        self._mem = ctypes.create_string_buffer(size)      # struct iss_tracer, zeroed
        self.addr = ctypes.addressof(self._mem)
        self._meta, self._func_ids = meta, func_ids         # C points into these
        st = _TracerHead.from_address(self.addr)
        st.hart = ctypes.addressof(hart.native)
        st.hart_id = hart.id
        st.meta = meta.ctypes.data if meta is not None else 0
        st.func_id = func_ids.ctypes.data if func_ids is not None else 0
        st.window_start = window[0]
        st.window_end = NO_WINDOW_END if window[1] is None else window[1]
        st.sample_period = max(1, sample_period)
        self.state = st
        err = lib.iss_trace_open(self.addr, insn_path.encode() if insn_path else None,
                                 sample_path.encode() if sample_path else None)
        if err:
            raise OSError(err, os.strerror(err), insn_path or sample_path)
        uc = hart.uc
        code = hart._code
        lo, hi = code.span
        self.hooks = []
        if insn_path:
            hart.native.chain_limit = 0   # every instruction must pass the trace hook
            self.hooks.append(native.add_hook(uc, UC_HOOK_CODE, "iss_trace_code_hook", self.addr, lo, hi))
            self.hooks.append(native.add_hook(uc, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, "iss_trace_mem_hook",
                                              self.addr))
        if sample_path:
            hart.native.chain_standard = 0   # the sampler sees calls and returns at block starts
            self.hooks.append(native.add_hook(uc, UC_HOOK_BLOCK, "iss_timeline_block_hook", self.addr))
        uc.ctl_flush_tb()     # hooks only fire in blocks translated after they were added
        self._finished = False
        hart._iss_tracer = self  # the engine holds pointers into this object: keep it as long

    def forget(self, pc: int) -> None:
        """The hart stopped before the instruction at `pc` after the trace hook saw
        it (Hart.finish): it did not run."""
        self._lib.iss_trace_forget(ctypes.c_void_p(self.addr), ctypes.c_uint32(pc))

    def finish(self) -> None:
        """Flush and close the files; remove the hooks."""
        if self._finished:
            return
        self._finished = True
        self._lib.iss_trace_finish(unicorn_adapter.handle(self.hart.uc), self.addr)
        for h in self.hooks:
            unicorn_adapter.hook_del(self.hart.uc, h)
        self.hooks = []
        if self.state.error:
            raise OSError(self.state.error, os.strerror(self.state.error), self.insn_path or self.sample_path)

    @property
    def records(self) -> int:
        return int(self.state.records) + int(self.state.n_insn)


class _TracerHead(ctypes.Structure):
    """The leading fields of `struct iss_tracer` (trace.h), same order."""

    _fields_ = [
        ("hart", ctypes.c_void_p),
        ("hart_id", ctypes.c_uint32),
        ("error", ctypes.c_uint32),
        ("meta", ctypes.c_void_p),
        ("func_id", ctypes.c_void_p),
        ("window_start", ctypes.c_uint64),
        ("window_end", ctypes.c_uint64),
        ("sample_period", ctypes.c_uint64),
        ("next_sample", ctypes.c_uint64),
        ("cur_func", ctypes.c_uint32),
        ("has_open", ctypes.c_uint32),
        ("records", ctypes.c_uint64),
        ("samples", ctypes.c_uint64),
        ("insn_out", ctypes.c_void_p),
        ("sample_out", ctypes.c_void_p),
        ("open", ctypes.c_uint8 * 24),
        ("n_insn", ctypes.c_uint32),
        ("n_sample", ctypes.c_uint32),
    ]


def read_insn(path) -> np.ndarray:
    return np.fromfile(path, INSN_DTYPE) if os.path.getsize(path) else np.zeros(0, INSN_DTYPE)


def read_samples(path) -> np.ndarray:
    return np.fromfile(path, SAMPLE_DTYPE) if os.path.getsize(path) else np.zeros(0, SAMPLE_DTYPE)
