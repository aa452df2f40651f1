"""pytest plugin: unit-test firmware functions on the simulated cluster.

Installed with the package (entry point `pytest11`), so a firmware repository
only needs `pip install iss`. A complete example is `examples/dot_product/`:

    import numpy as np, pytest

    pytestmark = pytest.mark.firmware("dot.c", opt="-O3")     # paths relative to the test file

    def test_dot(firmware):
        a, b = np.arange(64, dtype=np.int8), np.ones(64, dtype=np.int8)
        r = firmware.call("dot_int8_parallel", a, b, 64, cores=8)
        assert r.value == int(a.astype(int) @ b)
        r.assert_cycles(400)                  # on failure: per-core profile + dump file

Fixtures
--------
- `iss_build(sources, name=None, keep_globals=False, **options) -> Path`: compile
  C/assembly sources with the runtime into an ELF (`options` as
  `iss.toolchain.compile`: opt, defines, include_dirs, cores, extra_flags, ...).
  Cached by content (sources, headers, runtime, flags) in `build/iss-cache/` (or
  `--iss-build-dir`); safe under pytest-xdist (each build lands with an atomic
  rename). `keep_globals=True` keeps every global function and variable of the
  sources in the image although nothing references it (the link drops unused
  sections; `-Wl,-u,<symbol>` for each global, read from the compiled objects).
- `iss_config(path=None, **sections) -> Config`.
- `cluster`: a `ClusterFactory` (`.config`, `.cores`, `cluster(elf=None) ->
  Cluster`). Configure it with `@pytest.mark.iss_cluster(cores=4, tcdm_size=65536)`
  or indirect parametrization:
  `@pytest.mark.parametrize("cluster", [dict(cores=2), dict(cores=8)], indirect=True)`.
  Keys are config fields, flat (`cores`, `tcdm_size`, `tcdm_banks`, `l2_size`,
  `ima` = `ima.count`, ... any field whose name is unique) or as sections
  (`memory={"tcdm_banks": 16}`); a `Config` is accepted too.
- `firmware`: a `Firmware` built from `@pytest.mark.firmware(*sources,
  **build_options)` (module-level `pytestmark = ...` works) or indirect
  parametrization (a source path, or a dict with `sources` and build options),
  loaded on the `cluster` fixture's configuration. Sources are built with
  `keep_globals=True`; a `.elf` path is loaded as is.
- `load_firmware(*sources, config=None, **build_options) -> Firmware`: the same by
  hand, any number of times per test.

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
The plugin writes the descriptor `__iss_call` (function, cores, arguments; in
.data, so crt0 does not clear it). The first time, the cluster starts from reset
with the descriptor's state set to ENTER: crt0 sets up every core and calls
`__iss_main`, which then runs `__iss_call_main` instead of `main`. That runs (or
team-forks) the function through the real runtime, stores the return value and
cycle counts in the descriptor and returns 0, which ends the simulation with
exit(0). Later calls resume core 0 at `__iss_call_resume`
(= exit(__iss_call_main())) at the top of its stack; cores 1..N-1 are still
waiting in the dispatch loop, and globals keep their values between calls. The
plugin uses only the public API (`Cluster`, its harts' `pc`/registers, memory).
A firmware without `main` links: call.c has a weak `main` that serves calls.

Failures
--------
A firmware error during a call (memory fault, illegal instruction, deadlock,
cycle limit, exit() called inside the function) re-raises the simulator's
exception (same type, `SimulationError` subclasses; `exit()` raises
`FirmwareExit`), its traceback cut to the test's frames, with a note: the failing hart, PC, symbol, file:line, the
last instructions it executed (from the simulator's record of the last blocks
each hart ran), the code around the PC, every hart's state, the last
stdout lines, and the path of a dump file (stdout, every hart's PC, symbol and
registers, the call and where its arguments were placed). Failed
`assert_cycles` / `assert_matches` write the same dump. Dumps go to
`--iss-artifacts DIR/<test>/` if given, else to the test's own directory under
pytest's basetemp (`tmp_path_factory`, per xdist worker); the path is also
added to the test's `user_properties` (JUnit XML). After a failed call the
firmware is unusable (further calls raise); load a fresh one.

xdist: fixtures are function-scoped and share no mutable state; `iss_build` is
session-scoped and only touches its content-addressed cache atomically.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from . import toolchain
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
DISASM_BEFORE = 12        # instructions shown before a crashing PC
STDOUT_TAIL = 10          # stdout lines shown in a failure note
RECENT_IN_NOTE = 24    # last executed instructions in a failure note
RECENT_IN_DUMP = 200   # ... and in the dump file, per hart


PLUGIN_LIMIT_ADVICE = ("raise it with max_cycles= of fw.call/fw.run, or for every run with "
                       "@pytest.mark.iss_cluster(max_cycles=N)")


class FirmwareExit(SimulationError):
    """The called function (or code it called) ended the simulation with exit()."""


# -- command line and markers --------------------------------------------------------
def pytest_addoption(parser):
    group = parser.getgroup("iss", "cluster simulator")
    group.addoption("--iss-build-dir", default=None,
                    help="where iss_build caches ELFs (default: build/iss-cache under the rootdir)")
    group.addoption("--iss-artifacts", default=None,
                    help="where failing firmware tests write their dumps (default: the test's directory "
                         "under pytest's basetemp)")


def pytest_configure(config):
    config.addinivalue_line("markers", "firmware(*sources, **build_options): sources of the `firmware` fixture "
                                       "(relative to the test file)")
    config.addinivalue_line("markers", "iss_cluster(**fields): configuration of the `cluster` fixture "
                                       "(cores=, tcdm_size=, tcdm_banks=, ima=, ... or sections)")


# -- building --------------------------------------------------------------------------
class Builder:
    def __init__(self, cache_dir: Path):
        self.cache_dir = cache_dir

    def __call__(self, sources, name: str | None = None, keep_globals: bool = False, **options) -> Path:
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        sources = [Path(s) for s in sources]
        key_options = dict(options, keep_globals=True) if keep_globals else options
        key = toolchain.content_key(sources, **key_options)
        name = name or sources[0].stem
        out = self.cache_dir / f"{name}-{key}.elf"
        if out.exists():
            return out
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        zig_cache = self.cache_dir / ".zig-cache"
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=".build-") as tmp:
            if keep_globals:
                keep = _global_symbols(sources, Path(tmp), zig_cache, options)
                options = dict(options, extra_flags=[*options.get("extra_flags", ()),
                                                     *(f"-Wl,-u,{s}" for s in keep)])
            tmp_out = Path(tmp) / out.name
            toolchain.compile(sources, tmp_out, cache_dir=zig_cache, **options)
            os.replace(tmp_out, out)
        return out


def _global_symbols(sources, tmp: Path, zig_cache: Path, options: dict) -> list[str]:
    """Global functions and variables the sources define (compiled one by one)."""
    from elftools.elf.elffile import ELFFile

    names: set[str] = set()
    for i, src in enumerate(sources):
        obj = tmp / f"{i}-{src.stem}.o"
        toolchain.compile([src], obj, cache_dir=zig_cache, link=False, **options)
        with open(obj, "rb") as f:
            tab = ELFFile(f).get_section_by_name(".symtab")
            for s in tab.iter_symbols() if tab is not None else ():
                if (s["st_info"]["bind"] == "STB_GLOBAL" and s["st_shndx"] != "SHN_UNDEF"
                        and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and s.name):
                    names.add(s.name)
    return sorted(names)


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


class ClusterFactory:
    """What the `cluster` fixture gives: a configuration and fresh clusters from it."""

    def __init__(self, config: Config):
        self.config = config

    @property
    def cores(self) -> int:
        return self.config.cluster.cores

    def __call__(self, program=None, echo: bool = False):
        from .cluster import Cluster
        return Cluster(program, self.config, echo=echo)

    def __repr__(self) -> str:
        m = self.config.memory
        return (f"ClusterFactory(cores={self.cores}, tcdm_size={m.tcdm_size}, tcdm_banks={m.tcdm_banks}, "
                f"ima={self.config.ima.count})")


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
        over the call, fork and join included); the per-core table of
        `per_core` if the cluster has no cycle-model counters."""
        if self.profile_data is not None and self.firmware is not None:
            from .trace.profile import build_profile, format_profile
            fw = self.firmware
            # The counters cover the whole call window (the runtime's entry and
            # return included), so its headline is the window's, said as such.
            doc = build_profile(fw.program, self.profile_data, clock_mhz=fw.cluster.config.cluster.clock_mhz)
            return (f"{self._window_text()}\n" + format_profile(doc, top=top)).rstrip("\n")
        rows = [f"{'core':>4} {'cycles':>10} {'instrs':>10} {'IPC':>5} {'sleep':>10}"]
        for c in self.per_core:
            ipc = c.instructions / c.cycles if c.cycles else 0.0
            rows.append(f"{c.core:>4} {c.cycles:>10} {c.instructions:>10} {ipc:>5.2f} {c.sleep_cycles:>10}")
        return "\n".join(rows)

    @property
    def window_cycles(self) -> int | None:
        """Core 0's cycles over the whole call (what the profile covers): the
        function's `cycles` plus the runtime's entry, argument set-up and return."""
        return int(self.profile_data[0]["cycles"]) if self.profile_data else None

    def _window_text(self) -> str:
        what = f"{self.function}'s {self.cycles}" if self.cores == 1 else \
            f"the {self.cycles} from before the fork to after the join"
        return (f"profile of the call window: {self.window_cycles} cycles on core 0 = {what} + "
                f"{self.window_cycles - self.cycles} of the runtime entering and leaving the call")

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
    a, e = np.asarray(actual), np.asarray(expected)
    label = f"{what}: " if what else ""
    if a.shape != e.shape:
        msg = f"{label}shape {a.shape} != expected {e.shape}"
    else:
        if a.dtype.kind in "biu" and e.dtype.kind in "biu":
            ok = a.astype(object) == e.astype(object) if max(a.dtype.itemsize, e.dtype.itemsize) > 8 \
                else a.astype(np.int64) == e.astype(np.int64)
            if a.dtype == np.uint64 or e.dtype == np.uint64:
                ok = a.astype(object) == e.astype(object)
        else:
            ok = np.isclose(a.astype(np.float64), e.astype(np.float64), atol=atol, rtol=rtol, equal_nan=True)
        ok = np.asarray(ok, dtype=bool)
        if ok.all():
            return
        bad = np.argwhere(~ok) if a.ndim else np.zeros((1, 0), dtype=int)
        first = tuple(int(i) for i in bad[0])
        idx = lambda t: t[0] if len(t) == 1 else t  # noqa: E731
        msg = (f"{label}{len(bad)} of {a.size} elements differ; first at index {idx(first)}: "
               f"got {_py(a[first])!r}, expected {_py(e[first])!r}")
        more = [f"  [{idx(tuple(int(i) for i in b))}] got {_py(a[tuple(b)])!r}, expected {_py(e[tuple(b)])!r}"
                for b in bad[1:9]]
        if more:
            msg += "\n" + "\n".join(more) + ("\n  ..." if len(bad) > 9 else "")
    if firmware is not None:
        msg += f"\ndump: {firmware.dump('mismatch: ' + msg.splitlines()[0])}"
    raise AssertionError(msg)


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


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

    def __init__(self, elf, config: Config | None = None, *, artifacts: Callable[[], Path] | None = None,
                 echo: bool = True):
        from .cluster import Cluster

        self.path = Path(elf)
        self.cluster = Cluster(_program(self.path), config or Config(), echo=echo)
        self.program = self.cluster.program
        self.memory = self.cluster.memory
        self._artifacts = artifacts
        self._dumps = 0
        self._state = "reset"            # reset -> ready (start-up done) ; dead after a failure
        self._dead = ""
        self._last_call: tuple[str, list[_Arg], int] | None = None
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
        self._last_call = (name, words, cores)
        harts = self.cluster.harts
        # A core asleep since before the call (in the dispatch loop) is charged its
        # whole nap when it wakes; only the part after the call starts is the call's.
        start = harts[0].cycles
        nap = [max(0, start - h.cycles) if h.state.value == "asleep" else 0 for h in harts]
        nap_kind = [h.waiting_for for h in harts]
        before = [h.sleep_cycles + nap[i] for i, h in enumerate(harts)]
        prof_before = self._profile_data()
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
        window = None
        if prof_before is not None:
            window = _profile_window(prof_before, self._profile_data(), cores, nap, nap_kind)
        return CallResult(name, cores, _convert(raw, restype), raw, cycles, instructions, per_core, buffers,
                          list(stdout), self, window)

    def _profile_data(self):
        """The cycle model's cumulative per-hart counters (issue 4), if this build has them."""
        data = getattr(self.cluster, "profile_data", None)
        return data() if data is not None else None

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
                # knobs are the call's and the cluster fixture's.
                e.message = e.message.replace(LIMIT_ADVICE, PLUGIN_LIMIT_ADVICE)
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
        self._last_call = ("main", [], 1)
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
        lines = [f"while running {self._call_text()}" if self._last_call else f"during the {what}"]
        hart, pc = _parse_where(getattr(e, "where", "") or "")
        if hart is not None:
            h = self.cluster.harts[hart]
            lines.append(f"hart {hart} pc 0x{pc:08x} {self.program.symbolize(pc)}; the last instructions it executed:")
            lines.append(h.format_recent(RECENT_IN_NOTE))
            lines.append("the code around it:")
            lines += self.disassemble(pc)
            lines.append(self._called_from(h.reg(1)))
        lines.append("harts:")
        lines += ["  " + ln for ln in self._hart_lines(registers=False)]
        tail = self.cluster.stdout_lines[-STDOUT_TAIL:]
        if tail:
            lines.append(f"last stdout lines ({len(self.cluster.stdout_lines)} in all):")
            lines += ["  | " + ln for ln in tail]
        try:
            path = self.dump(f"{type(e).__name__}: {e}")
            lines.append(f"dump: {path}")
        except OSError as oe:  # pragma: no cover - a read-only artifacts dir
            lines.append(f"(no dump written: {oe})")
        e.add_note("\n".join(lines))

    def _called_from(self, ra: int) -> str:
        """The call site of a return address: the jal/jalr before `ra` (a call
        that never returns may end its function, so `ra` itself can be the first
        instruction of the next one)."""
        word = int.from_bytes(self.memory.read(ra - 4, 4), "little") if self.memory.region(ra - 4, 4) else 0
        site = ra - 4 if word & 0x7F in (0x6F, 0x67) else ra - 2
        return f"  called from 0x{site:08x} {self.program.symbolize(site)} (ra=0x{ra:08x})"

    def _call_text(self) -> str:
        if self._last_call is None:
            return "the start-up code"
        name, words, cores = self._last_call
        if name == "main":
            return "main()"
        return f"{name}({', '.join(w.text for w in words)}) on {cores} core(s)"

    def disassemble(self, pc: int, before: int = DISASM_BEFORE, after: int = 2) -> list[str]:
        """The instructions before `pc` (decoded from the start of its function)
        and a few after, with source lines; `pc` is marked with `=>`."""
        from .isa import disasm

        sym, _ = self.program.function_at(pc)
        start = sym.addr if sym is not None and pc - sym.addr < 4096 else max(pc - 4 * before, 0)
        mem = self.memory
        insns: list[tuple[int, int, int]] = []
        addr = start
        while addr <= pc + 4 * after and len(insns) < 4096:
            if mem.region(addr, 2) is None:
                break
            half = int.from_bytes(mem.read(addr, 2), "little")
            if half & 3 == 3:
                if mem.region(addr, 4) is None:
                    break
                insns.append((addr, int.from_bytes(mem.read(addr, 4), "little"), 4))
                addr += 4
            else:
                insns.append((addr, half, 2))
                addr += 2
        at = next((i for i, (a, _, _) in enumerate(insns) if a == pc), None)
        if at is None:
            return [f"  (no code at 0x{pc:08x})"] if not insns else \
                [f"  (0x{pc:08x} is not on an instruction boundary from {sym.name if sym else 'here'})"]
        shown = insns[max(0, at - before): at + after + 1]
        out, last_line = [], None
        for a, word, n in shown:
            line = self.program.line_at(a)
            if line != last_line and line is not None:
                out.append(f"      {line[0]}:{line[1]}")
                last_line = line
            mark = "=>" if a == pc else "  "
            enc = f"{word:08x}" if n == 4 else f"    {word:04x}"
            out.append(f"  {mark} {a:08x}: {enc}  {disasm(word, a)}")
        return out

    def _hart_lines(self, registers: bool) -> list[str]:
        from .isa import ABI

        out = []
        for h in self.cluster.harts:
            wait = f" waiting for {h.waiting_for}" if getattr(h, "waiting_for", "") else ""
            out.append(f"hart {h.id}: {h.state.value:8} pc 0x{h.pc:08x} {self.program.symbolize(h.pc)}{wait}; "
                       f"cycles {h.cycles} instructions {h.instret} sleep {h.sleep_cycles}")
            if registers:
                regs = [f"{ABI[r]:>4}={h.reg(r):08x}" for r in range(32)]
                out += ["    " + " ".join(regs[i:i + 8]) for i in range(0, 32, 8)]
        return out

    def dump(self, reason: str, call: CallResult | None = None) -> Path:
        """Write the state of the cluster (and the last call) to a file; returns its path."""
        self._dumps += 1
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._last_call[0] if self._last_call else "startup")
        directory = self._artifacts() if self._artifacts else Path(tempfile.mkdtemp(prefix="iss-dump-"))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"iss-{self._dumps:02d}-{name}.txt"
        c = self.cluster
        cfg = c.config
        lines = [f"iss dump: {reason}",
                 f"firmware: {self.path}",
                 f"cluster: {cfg.cluster.cores} cores, TCDM {cfg.memory.tcdm_size} bytes / {cfg.memory.tcdm_banks} "
                 f"banks, L2 {cfg.memory.l2_size} bytes, ima.count {cfg.ima.count}",
                 f"call: {self._call_text()}",
                 f"exit code: {c.exit_code}", ""]
        if call is not None:
            lines += [f"cycles {call.cycles}, instructions {call.instructions}, value {call.value!r}",
                      call.profile(), ""]
        lines.append("== harts ==")
        lines += self._hart_lines(registers=True)
        for h in c.harts:
            lines += ["", f"== hart {h.id}: the last instructions it executed (trace of the call's tail) =="]
            lines.append(h.format_recent(RECENT_IN_DUMP))
            lines += ["", f"== hart {h.id} around pc 0x{h.pc:08x} =="] + self.disassemble(h.pc, before=8)
        lines += ["", f"== stdout ({len(c.stdout_lines)} lines) =="] + list(c.stdout_lines)
        path.write_text("\n".join(lines) + "\n")
        return path


def _program(path: Path):
    """The parsed ELF (reading DWARF lines takes most of a load): read-only, so
    tests in one process share it, keyed by the file's identity."""
    st = path.stat()
    return _program_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _program_cached(path: str, mtime_ns: int, size: int):
    from .elf import Program
    return Program(path)


def _profile_window(before: list[dict], after: list[dict], cores: int, nap: list[int],
                    nap_kind: list[str]) -> list[dict]:
    """Per-hart profile data of the harts 0..cores-1 over one call: `after` minus
    `before`, without the part of a nap that began before the call."""
    from .trace.profile import sleep_kind

    out = []
    for i in range(cores):
        b, a = before[i], after[i]
        d = dict(a)
        for k, v in a.items():
            if isinstance(v, (int, np.integer)) and k not in ("hart", "code_base"):
                d[k] = int(v) - int(b.get(k, 0))
            elif isinstance(v, dict):
                d[k] = {kk: int(vv) - int(b[k].get(kk, 0)) for kk, vv in v.items()}
        d["exec_count"] = (a["exec_count"].astype(np.int64) - b["exec_count"]).astype(np.uint32)
        d["cycles_at"] = (a["cycles_at"].astype(np.int64) - b["cycles_at"].astype(np.int64)).astype(np.uint64)
        if nap[i]:
            kind = sleep_kind(nap_kind[i])
            d["cycles"] -= nap[i]
            d["sleep_cycles"] = d.get("sleep_cycles", nap[i]) - nap[i]
            d["sleep"] = dict(d["sleep"])
            d["sleep"][kind] = d["sleep"].get(kind, nap[i]) - nap[i]
        out.append(d)
    return out


def _mid(lo: int, hi: int) -> int:
    return (lo + (hi - lo) // 2 + ALIGN - 1) & ~(ALIGN - 1)


_WHERE = re.compile(r"hart (\d+) pc 0x([0-9a-fA-F]+)")


def _parse_where(where: str):
    m = _WHERE.search(where)
    return (int(m.group(1)), int(m.group(2), 16)) if m else (None, 0)


def _convert(raw: int, restype):
    if restype is None:
        return None
    dt = np.dtype(restype)
    if dt.itemsize not in (1, 2, 4, 8):
        raise TypeError(f"restype {dt} is not a scalar of 1, 2, 4 or 8 bytes")
    data = np.array([raw & ((1 << 64) - 1)], dtype=np.uint64).view(np.uint8)[:dt.itemsize]
    return data.view(dt)[0].item()


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def iss_build(request) -> Builder:
    opt = request.config.getoption("--iss-build-dir")
    cache = Path(opt) if opt else Path(request.config.rootpath) / "build" / "iss-cache"
    return Builder(cache)


@pytest.fixture
def iss_config():
    def make(path=None, **sections) -> Config:
        return Config.load(path, **sections)
    return make


@pytest.fixture
def cluster(request) -> ClusterFactory:
    """A cluster configuration and factory: `@pytest.mark.iss_cluster(cores=4)` or
    indirect parametrization with a dict of fields (or a Config)."""
    spec: dict = {}
    marker = request.node.get_closest_marker("iss_cluster")
    if marker is not None:
        if marker.args:
            return ClusterFactory(cluster_config(marker.args[0], **marker.kwargs))
        spec.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, (Config, str, os.PathLike)):
        return ClusterFactory(cluster_config(param, **spec))
    return ClusterFactory(cluster_config(dict(spec, **(param or {}))))


def _artifacts_for(request, tmp_path_factory) -> Callable[[], Path]:
    made: list[Path] = []

    def directory() -> Path:
        if not made:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:60]
            opt = request.config.getoption("--iss-artifacts")
            if opt:
                node = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
                made.append(Path(opt) / node)
            else:
                made.append(tmp_path_factory.mktemp(f"iss-{name}", numbered=True))
            request.node.user_properties.append(("iss_dumps", str(made[0])))
        return made[0]
    return directory


@pytest.fixture
def load_firmware(request, iss_build, cluster, tmp_path_factory):
    """load_firmware(*sources_or_elf, config=None, **build_options) -> Firmware."""
    base = Path(request.path).parent
    artifacts = _artifacts_for(request, tmp_path_factory)

    def load(*sources, config: Config | None = None, **build_options) -> Firmware:
        if len(sources) == 1 and isinstance(sources[0], (list, tuple)):
            sources = tuple(sources[0])
        if not sources:
            raise ValueError("load_firmware needs at least one source (or an .elf)")
        paths = [p if p.is_absolute() else base / p for p in map(Path, sources)]
        if "include_dirs" in build_options:
            build_options["include_dirs"] = [d if Path(d).is_absolute() else base / d
                                             for d in build_options["include_dirs"]]
        cfg = config or cluster.config
        if len(paths) == 1 and paths[0].suffix == ".elf":
            elf = paths[0]
        else:
            # built for the cluster it runs on (an ELF for more cores than the cluster has is refused)
            build_options.setdefault("cores", cfg.cluster.cores)
            elf = iss_build(paths, keep_globals=True, **build_options)
        return Firmware(elf, cfg, artifacts=artifacts)
    return load


@pytest.fixture
def firmware(request, load_firmware) -> Firmware:
    """The firmware of `@pytest.mark.firmware(*sources, **build_options)` (or an
    indirect parameter: a path, or a dict with `sources` and build options)."""
    param = getattr(request, "param", None)
    if param is not None:
        if isinstance(param, dict):
            opts = dict(param)
            sources = opts.pop("sources")
            sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
            return load_firmware(*sources, **opts)
        return load_firmware(*([param] if isinstance(param, (str, os.PathLike)) else list(param)))
    marker = request.node.get_closest_marker("firmware")
    if marker is None:
        pytest.fail("the `firmware` fixture needs @pytest.mark.firmware('src.c', ...) (or "
                    "pytestmark = pytest.mark.firmware(...)) or indirect parametrization; "
                    "load_firmware(...) loads one by hand", pytrace=False)
    return load_firmware(*marker.args, **marker.kwargs)
