"""Unit-level calls into firmware on the simulated cluster, from plain Python.

`load(*sources, config=None, **build_options) -> Firmware` builds C/assembly
sources with the runtime (cached by content, `iss.build_cache`) and loads the
ELF on a fresh cluster; `Firmware(elf, config=None)` loads an ELF as is. The
pytest plugin (iss/pytest_plugin.py) gives the same objects as fixtures:

    import numpy as np
    from iss import firmware

    fw = firmware.load("dot.c", opt="-O3", config={"cores": 8})
    a, b = np.arange(64, dtype=np.int8), np.ones(64, dtype=np.int8)
    r = fw.call("dot_int8_parallel", a, b, 64, cores=8)
    assert r.value == int(a.astype(int) @ b)
    print(r.cycles, r.profile())

`config` is a `Config`, a TOML path, or a dict of fields, flat (`cores`,
`tcdm_size`, `tcdm_banks`, `l2_size`, `ima` = `ima.count`, ... any field whose
name is unique) or as sections (`memory={"tcdm_banks": 16}`): `cluster_config`.
`load` builds with `keep_globals=True` (every global of the sources stays in the
image) for the cluster's core count, into `cache_dir` (default
`build/iss-cache` in the current directory); a `.elf` path is loaded as is.

Firmware
--------
- `fw.call(function, *args, cores=1, restype="int32", max_cycles=None) -> CallResult`
  runs ONE C function. Arguments: Python/numpy integers (32 bits), `np.float32`
  (soft-float ABI: passed as its bits), `None` (NULL), or arrays (numpy arrays,
  `bytes`). An array is copied into simulated memory and passed as a pointer;
  after the call its contents are copied back into the array you passed (if it
  is writable) and are in `result.buffers[i]` (i = argument position). Where
  arrays go: each call's arrays are placed top-down from the end of the TCDM
  while they fit in the upper half of the free TCDM (above the image, the stacks
  and `__l1_heap_start`), otherwise top-down from the end of L2 (upper half of
  the free L2 above `__l2_heap_start`); the lower halves stay free for the
  firmware's own `pi_l1_malloc`/`pi_l2_malloc`. Force a memory with
  `fw.l1(array)` / `fw.l2(array)`. An array that already lives in simulated
  memory (`fw.symbol`, `fw.alloc`, `fw.buffer` views) is passed by its address,
  not copied. At most 8 argument words (a0..a7). With `cores=N > 1` the function
  is team-forked with `pi_cl_team_fork` onto cores 0..N-1, every core with the
  same arguments (as PULP kernels expect); the value is core 0's.
  `restype`: a numpy scalar type name for a0 (a1:a0 for 64-bit types), or None.
- `CallResult`: `.value`, `.raw` (a1:a0), `.cycles` (cores == 1: the function's
  own cycles, call and return included; cores > 1: core 0 from before the fork to
  after the closing barrier), `.instructions` (the same window), `.per_core`
  (`CoreStats(core, cycles, instructions, sleep_cycles)`: cycles and
  instructions inside the function, from the core's mcycle/minstret; sleep: the
  core's clock-gated cycles during the call, waiting for the fork included),
  `.buffers`, `.stdout` (the lines the call printed), `.profile(top=8)` (the
  cycle model's per-core profile of the call window: cycles, IPC, stalls and
  sleep by kind, top functions and source lines; `iss.trace.profile`; its
  first line says how its window's cycles, `.window_cycles`, split into the
  function's `.cycles` and the runtime's entry and return),
  `.profile_data` (its raw per-hart counters), `.assert_cycles(budget)` (fails
  with the headline and that profile).
- `fw.symbol(name, dtype="uint8", count=None) -> np.ndarray`: a live view of a
  global (its ELF size, or `count` items): reads see the simulated memory,
  writes go into it. The first access runs the start-up code (so .bss is
  cleared before you write, not after).
- `fw.alloc(data_or_count, dtype=None, where="l1") -> np.ndarray`: a live view of
  memory that stays reserved for the firmware's lifetime (pass it to several
  calls). `fw.buffer(addr, dtype, count)`: a live view of any RAM range.
- `fw.run(max_cycles=None) -> iss.cluster.Result`: run main to completion (from
  reset if nothing ran yet, else main is entered again after the start-up), with
  its stdout lines in `result.stdout` (also printed, so pytest captures them).
- `fw.assert_matches(actual, expected, atol=0, rtol=0, what="")`: element-wise
  comparison that names the number of mismatches, the first mismatching index
  and values, and writes a dump. `assert_matches` also exists as a function.
- `fw.cluster`, `fw.program`, `fw.path`, `fw.dump(reason) -> Path`.

How a call runs (firmware/runtime/call.c, linked into every ELF)
----------------------------------------------------------------
`call` writes the descriptor `__iss_call` (function, cores, arguments; in
.data, so crt0 does not clear it). The first time, the cluster starts from reset
with the descriptor's state set to ENTER: crt0 sets up every core and calls
`__iss_main`, which then runs `__iss_call_main` instead of `main`. That runs (or
team-forks) the function through the real runtime, stores the return value and
cycle counts in the descriptor and returns 0, which ends the simulation with
exit(0). Later calls resume core 0 at `__iss_call_resume`
(= exit(__iss_call_main())) at the top of its stack; cores 1..N-1 are still
waiting in the dispatch loop, and globals keep their values between calls. It
uses only the public API (`Cluster`, its harts' `pc`/registers, memory).
A firmware without `main` links: call.c has a weak `main` that serves calls.

Failures
--------
A firmware error during a call (memory fault, illegal instruction, deadlock,
cycle limit, exit() called inside the function) re-raises the simulator's
exception (same type, `SimulationError` subclasses; `exit()` raises
`FirmwareExit`), its traceback cut to the caller's frames, with a note
(iss/firmware_report.py): the failing hart, PC, symbol, file:line, the last
instructions it executed (from the simulator's record of the last blocks each
hart ran), the code around the PC, every hart's state, the last stdout lines,
and the path of a dump file (stdout, every hart's PC, symbol and registers, the
call and where its arguments were placed). Failed `assert_cycles` /
`assert_matches` write the same dump. Dumps go to the `artifacts` directory
given to `Firmware`/`load` (a path, or a callable returning one), else to a
fresh temporary directory. After a failed call the firmware is unusable
(further calls raise); load a fresh one.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import firmware_report as report
from .build_cache import DEFAULT_DIR, BuildCache
from .config import Config
from .errors import ConfigError, CycleLimit, SimulationError
from .scheduler import LIMIT_ADVICE

# -- the descriptor in firmware/runtime/call.c --------------------------------------
CALL_SYMBOL = "__iss_call"
CALL_MAGIC = 0x43535349
CALL_MAX_ARGS = 8
CALL_IDLE, CALL_RUNNING, CALL_DONE, CALL_ENTER = 0, 1, 2, 3
CALL_LAYOUT = np.dtype([("magic", "<u4"), ("fn", "<u4"), ("cores", "<u4"), ("state", "<u4"),
                        ("args", "<u4", CALL_MAX_ARGS), ("ret_lo", "<u4"), ("ret_hi", "<u4"),
                        ("cycles", "<u4"), ("instret", "<u4"),
                        ("core_cycles", "<u4", 8), ("core_instret", "<u4", 8)])
assert CALL_LAYOUT.itemsize == 128

ALIGN = 16
# What a cycle limit advises instead of the command line's --max-cycles.
CALL_LIMIT_ADVICE = "raise it with max_cycles= of fw.call/fw.run"


class FirmwareExit(SimulationError):
    """The called function (or code it called) ended the simulation with exit()."""


# -- configuration -----------------------------------------------------------------------
_ALIASES = {"ima": ("ima", "count"), "imas": ("ima", "count")}


def cluster_config(spec=None, **fields) -> Config:
    """A Config from a spec: None, a Config, a TOML path, or a dict of flat field
    names (`cores`, `tcdm_size`, `ima`, ... any unique field name) and/or
    sections (`memory={...}`). Keyword fields apply on top."""
    if isinstance(spec, Config):
        config = dataclasses.replace(spec, **{f.name: dataclasses.replace(getattr(spec, f.name))
                                              for f in dataclasses.fields(spec)})
        spec = {}
    elif isinstance(spec, (str, os.PathLike)):
        config, spec = Config.load(spec), {}
    else:
        config = Config()
    spec = dict(spec or {}, **fields)
    sections: dict[str, dict] = {}
    known: dict[str, list[str]] = {}
    for sec in dataclasses.fields(Config):
        for f in dataclasses.fields(getattr(config, sec.name)):
            known.setdefault(f.name, []).append(sec.name)
    for key, value in spec.items():
        if isinstance(value, dict) and key in {s.name for s in dataclasses.fields(Config)}:
            sections.setdefault(key, {}).update(value)
        elif key in _ALIASES:
            sec, name = _ALIASES[key]
            sections.setdefault(sec, {})[name] = value
        elif len(known.get(key, ())) == 1:
            sections.setdefault(known[key][0], {})[key] = value
        elif key in known:
            raise ConfigError(f"cluster field '{key}' is ambiguous: say "
                              + " or ".join(f"{s}={{'{key}': ...}}" for s in known[key]))
        else:
            raise ConfigError(f"unknown cluster field '{key}'")
    return config.override(sections, "cluster fixture") if sections else config.validate()


# -- results --------------------------------------------------------------------------------
@dataclass
class CoreStats:
    core: int
    cycles: int               # inside the function (mcycle)
    instructions: int         # inside the function (minstret)
    sleep_cycles: int         # clock-gated during the call (waiting for the fork included)


@dataclass
class CallResult:
    function: str
    cores: int
    value: Any
    raw: int                  # a1:a0 as returned by core 0
    cycles: int
    instructions: int
    per_core: list[CoreStats]
    buffers: list[np.ndarray | None] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    firmware: "Firmware | None" = field(default=None, repr=False, compare=False)
    profile_data: list[dict] | None = field(default=None, repr=False, compare=False)

    def profile(self, top: int = 8) -> str:
        """The call's profile: per-core cycles, instructions, stalls and sleep by
        kind, and the top functions and source lines (the cycle model's counters
        over the call, fork and join included)."""
        return report.profile_text(self, top)

    @property
    def window_cycles(self) -> int:
        """Core 0's cycles over the whole call (what the profile covers): the
        function's `cycles` plus the runtime's entry, argument set-up and return."""
        return int(self.profile_data[0]["cycles"])

    def assert_cycles(self, budget: int) -> "CallResult":
        """Fail (with the per-core profile and a dump) if the call took more than `budget` cycles."""
        __tracebackhide__ = True
        if self.cycles <= budget:
            return self
        over = self.cycles - budget
        msg = (f"{self.function} on {self.cores} core(s) took {self.cycles} cycles, budget {budget} "
               f"(+{over}, +{100.0 * over / budget if budget else float('inf'):.1f}%)\n"
               f"{self.profile(top=5)}")
        if self.firmware is not None:
            path = self.firmware.dump(f"cycle budget exceeded: {msg.splitlines()[0]}", call=self)
            msg += f"\ndump: {path}"
        raise AssertionError(msg)


def assert_matches(actual, expected, *, atol=0, rtol=0, what: str = "", firmware: "Firmware | None" = None):
    """Element-wise comparison of `actual` with `expected` (numpy): exact for
    integers, `atol`/`rtol` otherwise. The message names how many elements
    differ, the first mismatching index and values and up to 8 more."""
    __tracebackhide__ = True
    msg = report.mismatch(actual, expected, atol=atol, rtol=rtol, what=what)
    if msg is None:
        return
    if firmware is not None:
        msg += f"\ndump: {firmware.dump('mismatch: ' + msg.splitlines()[0])}"
    raise AssertionError(msg)


# -- placing arguments ------------------------------------------------------------------------
@dataclass
class _Placed:
    """An array argument with a requested memory (fw.l1 / fw.l2)."""
    array: np.ndarray
    where: str


class _Arena:
    """Top-down allocation in [lo, hi)."""

    def __init__(self, name: str, lo: int, hi: int):
        self.name, self.lo, self.hi, self.top = name, lo, hi, hi

    def alloc(self, n: int) -> int | None:
        addr = (self.top - max(n, 1)) & ~(ALIGN - 1)
        if addr < self.lo:
            return None
        self.top = addr
        return addr

    @property
    def free(self) -> int:
        return self.top - self.lo


@dataclass
class _Arg:
    word: int
    text: str
    array: np.ndarray | None = None     # what the caller passed (written back)
    addr: int = 0
    copied: bool = False


class Firmware:
    """An ELF loaded on a fresh cluster, with unit-level calls (see the module doc)."""

    # What a cycle limit advises (the pytest plugin adds its own knob).
    limit_advice = CALL_LIMIT_ADVICE

    def __init__(self, elf, config=None, *, artifacts: Path | Callable[[], Path] | None = None,
                 echo: bool = True):
        """`elf` on a fresh cluster of `config` (a `Config`, TOML path or dict of
        fields: `cluster_config`); dumps go to `artifacts` (a directory, or a
        callable returning one), else to a fresh temporary directory; `echo`
        prints the firmware's stdout lines as they come."""
        from .cluster import Cluster

        self.path = Path(elf)
        config = config if isinstance(config, Config) else cluster_config(config)
        self.cluster = Cluster(_program(self.path), config, echo=echo)
        self.program = self.cluster.program
        self.memory = self.cluster.memory
        self._artifacts = artifacts if artifacts is None or callable(artifacts) else (lambda: Path(artifacts))
        self._dumps = 0
        self._state = "reset"            # reset -> ready (start-up done) ; dead after a failure
        self._dead = ""
        self.last_call: tuple[str, list[_Arg], int] | None = None   # (name, argument words, cores)
        syms = self.program.symbols
        self._has_call = CALL_SYMBOL in syms and "__iss_call_main" in syms
        mem = self.memory
        l1_lo = syms["__l1_heap_start"].addr if "__l1_heap_start" in syms else mem.tcdm_base
        l2_lo = syms["__l2_heap_start"].addr if "__l2_heap_start" in syms else mem.l2_base
        # Upper halves of the free memories; the lower halves stay for pi_l1/l2_malloc.
        self._persist = {"l1": _Arena("TCDM", _mid(l1_lo, mem.tcdm_end), mem.tcdm_end),
                         "l2": _Arena("L2", _mid(l2_lo, mem.l2_end), mem.l2_end)}

    def _enter(self, symbol: str) -> None:
        """Resume core 0 (stopped at exit()'s EOC store) at `symbol` on its stack."""
        h0 = self.cluster.harts[0]
        h0.pc = self.address(symbol)
        # The top of core 0's stack: exit() never returns, so nothing below is live.
        h0.set_reg(2, self.address("__stacks_end"))

    def __repr__(self) -> str:
        return f"Firmware({self.path.name}, cores={self.cores}, {self._state})"

    @property
    def cores(self) -> int:
        return self.cluster.config.cluster.cores

    # -- memory ---------------------------------------------------------------------------
    def address(self, name: str) -> int:
        return self.program.symbol(name).addr

    def symbol(self, name: str, dtype="uint8", count: int | None = None) -> np.ndarray:
        """Live view of global `name` as `dtype` (its ELF size, or `count` items)."""
        self._ensure_started()
        sym = self.program.symbol(name)
        dt = np.dtype(dtype)
        if count is None:
            if sym.size % dt.itemsize:
                raise ValueError(f"symbol '{name}' is {sym.size} bytes, not a whole number of {dt.name} "
                                 f"({dt.itemsize} bytes); pass count=")
            count = sym.size // dt.itemsize
            if count == 0:
                raise ValueError(f"symbol '{name}' has no size in the ELF; pass count=")
        return self.buffer(sym.addr, dt, count)

    def buffer(self, addr: int, dtype="uint8", count: int = 1) -> np.ndarray:
        """Live view of `count` items of `dtype` at simulated address `addr`."""
        dt = np.dtype(dtype)
        return self.memory.view(addr, count * dt.itemsize, "buffer").view(dt)

    def alloc(self, data, dtype=None, where: str = "l1") -> np.ndarray:
        """Reserve memory for the firmware's lifetime: `data` is an array (copied
        in) or an item count (zeroed). Returns a live view."""
        if where not in self._persist:
            raise ValueError(f"where must be 'l1' or 'l2', got {where!r}")
        src = np.asarray(data, dtype=dtype) if not isinstance(data, (int, np.integer)) else None
        dt = np.dtype(dtype or (src.dtype if src is not None else "uint8"))
        shape = src.shape if src is not None else (int(data),)
        n = int(np.prod(shape)) * dt.itemsize
        arena = self._persist[where]
        addr = arena.alloc(n)
        if addr is None:
            raise MemoryError(f"fw.alloc: {n} bytes do not fit in the {arena.name} arena "
                              f"({arena.free} bytes left)")
        self._ensure_started()
        view = self.buffer(addr, dt, int(np.prod(shape))).reshape(shape)
        view[...] = src if src is not None else 0
        return view

    @staticmethod
    def l1(array) -> _Placed:
        """Pass this array in the TCDM."""
        return _Placed(np.asarray(array), "l1")

    @staticmethod
    def l2(array) -> _Placed:
        """Pass this array in L2."""
        return _Placed(np.asarray(array), "l2")

    def _sim_address(self, a: np.ndarray) -> int | None:
        """The simulated address of an array that lives in the cluster's memory."""
        if not a.flags.c_contiguous:
            return None
        ptr = a.__array_interface__["data"][0]
        for buf, base in ((self.memory.tcdm, self.memory.tcdm_base), (self.memory.l2, self.memory.l2_base)):
            start = buf.ctypes.data
            if start <= ptr and ptr + a.nbytes <= start + buf.nbytes:
                return base + (ptr - start)
        return None

    # -- calls -------------------------------------------------------------------------------
    def call(self, function, *args, cores: int = 1, restype="int32", max_cycles: int | None = None) -> CallResult:
        """Run one C function on `cores` cores (see the module doc)."""
        __tracebackhide__ = True
        if not self._has_call:
            raise RuntimeError(f"{self.path.name} has no {CALL_SYMBOL} descriptor: it was linked without "
                               "firmware/runtime/call.c")
        if isinstance(function, str):
            sym = self.program.symbol(function)
            if sym.kind != "func":
                raise TypeError(f"'{function}' is a {sym.kind} symbol, not a function")
            name, fn = function, sym.addr
        else:
            fn = int(function)
            name = self.program.symbolize(fn)
        if not 1 <= cores <= self.cores:
            raise ValueError(f"cores={cores}: the cluster has {self.cores} cores (cores=1..{self.cores})")
        self._ensure_started()
        arenas = {k: _Arena(a.name, a.lo, a.top) for k, a in self._persist.items()}
        words = self._arguments(args, arenas)
        if len(words) > CALL_MAX_ARGS:
            raise TypeError(f"{name}: {len(words)} argument words; at most {CALL_MAX_ARGS} (a0..a7)")
        d = self._descriptor()
        d["fn"], d["cores"], d["state"] = fn, cores, CALL_IDLE
        d["args"] = [w.word for w in words] + [0] * (CALL_MAX_ARGS - len(words))
        for k in ("ret_lo", "ret_hi", "cycles", "instret", "core_cycles", "core_instret"):
            d[k] = 0
        self.last_call = (name, words, cores)
        harts = self.cluster.harts
        # A core asleep since before the call (in the dispatch loop) is charged its
        # whole nap when it wakes; only the part after the call starts is the call's.
        start = harts[0].cycles
        nap = [max(0, start - h.cycles) if h.state.value == "asleep" else 0 for h in harts]
        nap_kind = [h.sleep_kind for h in harts]
        before = [h.sleep_cycles + nap[i] for i, h in enumerate(harts)]
        prof_before = self.cluster.profile_data()
        first_line = len(self.cluster.stdout_lines)
        self._enter("__iss_call_resume")
        self._resume(max_cycles, what=f"call {name}")
        stdout = self.cluster.stdout_lines[first_line:]
        if d["state"] != CALL_DONE or self.cluster.exit_code != 0:
            self._state = "dead"
            err = FirmwareExit(f"{name} ended the simulation with exit({self.cluster.exit_code}) "
                               f"before returning", self._exit_where())
            self._dead = str(err)
            self._annotate(err, "exit() inside the call")
            raise err
        raw = int(d["ret_lo"]) | (int(d["ret_hi"]) << 32)
        per_core = [CoreStats(i, int(d["core_cycles"][i]), int(d["core_instret"][i]),
                              harts[i].sleep_cycles - before[i]) for i in range(cores)]
        buffers: list[np.ndarray | None] = []
        for w in words:
            if w.array is None:
                buffers.append(None)
                continue
            now = self.buffer(w.addr, w.array.dtype, w.array.size).reshape(w.array.shape).copy()
            buffers.append(now)
            if w.copied and w.array.flags.writeable:
                w.array[...] = now
        cycles = per_core[0].cycles if cores == 1 else int(d["cycles"])
        instructions = per_core[0].instructions if cores == 1 else int(d["instret"])
        window = report.profile_window(prof_before, self.cluster.profile_data(), cores, nap, nap_kind)
        return CallResult(name, cores, _convert(raw, restype), raw, cycles, instructions, per_core, buffers,
                          list(stdout), self, window)

    def _arguments(self, args, arenas) -> list[_Arg]:
        out: list[_Arg] = []
        for i, a in enumerate(args):
            where = "auto"
            if isinstance(a, _Placed):
                a, where = a.array, a.where
            if a is None:
                out.append(_Arg(0, "NULL"))
            elif isinstance(a, (bool, np.bool_)):
                out.append(_Arg(int(a), repr(bool(a))))
            elif isinstance(a, (int, np.integer)):
                v = int(a)
                if not -(1 << 31) <= v < (1 << 32):
                    raise OverflowError(f"argument {i} ({v}) does not fit in 32 bits")
                out.append(_Arg(v & 0xFFFFFFFF, str(v) if -0x10000 < v < 0x10000 else f"0x{v & 0xFFFFFFFF:x}"))
            elif isinstance(a, np.float32):
                out.append(_Arg(int(np.array(a, np.float32).view(np.uint32)), f"{float(a)!r}f"))
            elif isinstance(a, float):
                raise TypeError(f"argument {i} is a Python float: pass np.float32(x) for a float parameter "
                                "(doubles take two registers and are not supported)")
            elif isinstance(a, (bytes, bytearray, memoryview, np.ndarray, list, tuple)):
                arr = a if isinstance(a, np.ndarray) else (
                    np.frombuffer(bytes(a), dtype=np.uint8) if isinstance(a, (bytes, bytearray, memoryview))
                    else np.asarray(a))
                if arr.dtype.hasobject:
                    raise TypeError(f"argument {i}: arrays of Python objects cannot be passed")
                addr = self._sim_address(arr) if where == "auto" else None
                if addr is not None:
                    out.append(_Arg(addr, f"{arr.dtype}[{arr.size}] @0x{addr:08x} (in place)", arr, addr))
                    continue
                addr, mem = self._place(arr, where, arenas, i)
                self.memory.write(addr, np.ascontiguousarray(arr).tobytes())
                out.append(_Arg(addr, f"{arr.dtype}{list(arr.shape)} @0x{addr:08x} {mem}", arr, addr,
                                copied=isinstance(a, np.ndarray)))
            else:
                raise TypeError(f"argument {i}: cannot pass {type(a).__name__} (ints, np.float32, None, "
                                "numpy arrays or bytes)")
        return out

    def _place(self, arr: np.ndarray, where: str, arenas, i: int):
        order = ["l1", "l2"] if where == "auto" else [where]
        for k in order:
            addr = arenas[k].alloc(arr.nbytes)
            if addr is not None:
                return addr, arenas[k].name
        raise MemoryError(f"argument {i} ({arr.nbytes} bytes) does not fit in the free "
                          + " or ".join(f"{arenas[k].name} ({arenas[k].free} bytes left)" for k in order))

    def _descriptor(self) -> np.ndarray:
        sym = self.program.symbol(CALL_SYMBOL)
        if sym.size != CALL_LAYOUT.itemsize:
            raise RuntimeError(f"{CALL_SYMBOL} is {sym.size} bytes, the plugin expects {CALL_LAYOUT.itemsize}: "
                               "firmware/runtime/call.c and iss/pytest_plugin.py disagree")
        d = self.memory.view(sym.addr, sym.size).view(CALL_LAYOUT)[0]
        if d["magic"] != CALL_MAGIC:
            raise RuntimeError(f"{CALL_SYMBOL} has magic 0x{int(d['magic']):08x}, not 0x{CALL_MAGIC:08x}")
        return d

    # -- running -------------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        """Run the start-up code once: crt0 on every core, then core 0 returns from
        an empty call instead of entering main."""
        if self._state == "dead":
            raise RuntimeError(f"this firmware failed earlier ({self._dead}); load a fresh one")
        if self._state != "reset":
            return
        if not self._has_call:
            raise RuntimeError(f"{self.path.name} was linked without firmware/runtime/call.c: "
                               "fw.call/fw.symbol need it (fw.run works)")
        d = self._descriptor()
        d["fn"], d["state"] = 0, CALL_ENTER   # __iss_main runs the (empty) call, not main
        self._resume(None, what="start-up")
        if d["state"] != CALL_DONE:
            self._state = "dead"
            self._dead = f"start-up ended with exit({self.cluster.exit_code}) before main"
            raise FirmwareExit(self._dead, self._exit_where())
        self._state = "ready"

    def _resume(self, max_cycles: int | None, what: str):
        __tracebackhide__ = True
        c = self.cluster
        c.exit_code = None
        c.exit_hart = None
        budget = c.config.scheduler.max_cycles if max_cycles is None else max_cycles
        limit = max(h.cycles for h in c.harts) + budget if budget else 0
        try:
            return c.run(max_cycles=limit)
        except SimulationError as e:
            if isinstance(e, CycleLimit):
                # The scheduler's advice names the command line's option; here the
                # knobs are the call's (and the pytest plugin's).
                e.message = e.message.replace(LIMIT_ADVICE, self.limit_advice)
            self._state = "dead"
            self._dead = f"{what}: {e}"
            self._annotate(e, what)
            # The simulator's own frames (scheduler, hart, Unicorn) say nothing about
            # the firmware: the note and e.where do.
            raise e.with_traceback(None) from None

    def run(self, max_cycles: int | None = None):
        """Run main to completion; returns the Result (stdout: this run's lines)."""
        __tracebackhide__ = True
        if self._state == "dead":
            raise RuntimeError(f"this firmware failed earlier ({self._dead}); load a fresh one")
        first_line = len(self.cluster.stdout_lines)
        if self._state == "ready":
            # After the start-up: enter main as __iss_main does (exit(main())).
            self._enter("__iss_main")
        self.last_call = ("main", [], 1)
        result = self._resume(max_cycles, what="main")
        # Core 0 stopped at exit()'s EOC store, the workers wait in the dispatch
        # loop: calls can follow, with the globals as main left them.
        self._state = "ready"
        result.stdout = result.stdout[first_line:]
        return result

    def assert_matches(self, actual, expected, *, atol=0, rtol=0, what: str = ""):
        __tracebackhide__ = True
        assert_matches(actual, expected, atol=atol, rtol=rtol, what=what, firmware=self)

    # -- failure reports ---------------------------------------------------------------------------
    def _exit_where(self) -> str:
        h = self.cluster.exit_hart
        return self.cluster.harts[h].where() if h is not None else ""

    def _annotate(self, e: Exception, what: str) -> None:
        e.add_note(report.failure_note(self, e, what))

    def disassemble(self, pc: int, before: int = report.DISASM_BEFORE, after: int = 2) -> list[str]:
        """The instructions before `pc` (decoded from the start of its function)
        and a few after, with source lines; `pc` is marked with `=>`."""
        return report.disassemble(self, pc, before, after)

    def dump(self, reason: str, call: CallResult | None = None) -> Path:
        """Write the state of the cluster (and the last call) to a file; returns its path."""
        self._dumps += 1
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.last_call[0] if self.last_call else "startup")
        directory = self._artifacts() if self._artifacts else report.dump_directory()
        directory.mkdir(parents=True, exist_ok=True)
        return report.write_dump(self, directory / f"iss-{self._dumps:02d}-{name}.txt", reason, call)


def _program(path: Path):
    """The parsed ELF (reading DWARF lines takes most of a load): read-only, so
    tests in one process share it, keyed by the file's identity."""
    st = path.stat()
    return _program_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _program_cached(path: str, mtime_ns: int, size: int):
    from .elf import Program
    return Program(path)


def _mid(lo: int, hi: int) -> int:
    return (lo + (hi - lo) // 2 + ALIGN - 1) & ~(ALIGN - 1)


def _convert(raw: int, restype):
    if restype is None:
        return None
    dt = np.dtype(restype)
    if dt.itemsize not in (1, 2, 4, 8):
        raise TypeError(f"restype {dt} is not a scalar of 1, 2, 4 or 8 bytes")
    data = np.array([raw & ((1 << 64) - 1)], dtype=np.uint64).view(np.uint8)[:dt.itemsize]
    return data.view(dt)[0].item()


def load(*sources, config=None, cache_dir=DEFAULT_DIR, artifacts=None, echo: bool = True,
         **build_options) -> Firmware:
    """Build `sources` (C/assembly, with the runtime; cached by content in
    `cache_dir`) and load the ELF on a fresh cluster of `config`; a single
    `.elf` path is loaded as is. `build_options` as `toolchain.compile` (opt,
    defines, include_dirs, extra_flags, ...); `cores` defaults to the cluster's
    (an ELF built for more cores than the cluster has is refused)."""
    if len(sources) == 1 and isinstance(sources[0], (list, tuple)):
        sources = tuple(sources[0])
    if not sources:
        raise ValueError("load needs at least one source (or an .elf)")
    config = config if isinstance(config, Config) else cluster_config(config)
    paths = [Path(s) for s in sources]
    if len(paths) == 1 and paths[0].suffix == ".elf":
        elf = paths[0]
    else:
        build_options.setdefault("cores", config.cluster.cores)
        cache = cache_dir if isinstance(cache_dir, BuildCache) else BuildCache(cache_dir)
        elf = cache(paths, keep_globals=True, **build_options)
    return Firmware(elf, config, artifacts=artifacts, echo=echo)
