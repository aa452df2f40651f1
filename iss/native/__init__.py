"""The native hot path: a small C library registered with Unicorn's C hook API.

It is compiled for the host by the `ziglang` wheel's clang (no other compiler is
assumed) when the package is installed (`python -m iss.native`) and, if the sources
are newer than the library (an editable checkout), again on first use. The
library does not link libunicorn; it receives the binding's own API functions.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import unicorn

from .. import unicorn_adapter
from ..errors import BuildError

HERE = Path(__file__).resolve().parent
SOURCES = sorted(HERE.glob("*.c"))
HEADERS = sorted(HERE.glob("*.h"))
UNICORN_INCLUDE = Path(unicorn.__file__).resolve().parent / "include"


class NativeBuildError(BuildError):
    pass


RECENT = 32  # ISS_RECENT in hart.h


CODE_REGIONS = 4     # ISS_CODE_REGIONS (code.h)


class CodeRegion(ctypes.Structure):
    """Mirror of `struct iss_code_region` in code.h."""

    _fields_ = [("base", ctypes.c_uint32), ("halfwords", ctypes.c_uint32), ("offset", ctypes.c_uint32)]


class CodeMap(ctypes.Structure):
    """Mirror of `struct iss_code_map` in code.h: where each region of the code
    image starts in the per-halfword tables."""

    _fields_ = [("n", ctypes.c_uint32), ("r", CodeRegion * CODE_REGIONS)]

    def regions(self) -> list[tuple[int, int, int]]:
        """(base, halfwords, offset) of each region."""
        return [(r.base, r.halfwords, r.offset) for r in self.r[:self.n]]

    def set(self, regions) -> None:
        """`regions`: (base, halfwords, offset) of each region."""
        if len(regions) > CODE_REGIONS:
            raise ValueError(f"{len(regions)} code regions, at most {CODE_REGIONS}")
        self.n = len(regions)
        for k, (base, halfwords, offset) in enumerate(regions):
            self.r[k] = CodeRegion(base, halfwords, offset)


def code_slot(regions, addr: int, ends: bool = True) -> int | None:
    """The table slot of the halfword at `addr` among `regions` ((base, halfwords,
    offset) each), or None: code.h's iss_code_index, or with `ends=False`
    iss_code_insn (an instruction: not a region's end slot)."""
    if addr & 1:
        return None
    for base, n, offset in regions:
        if base <= addr and (addr - base) >> 1 < n + ends:
            return offset + ((addr - base) >> 1)
    return None


class HartState(ctypes.Structure):
    """Mirror of `struct iss_hart` in hart.h (same field order; every field's
    offset and size checked against the C compiler's by tests/test_native_layout.py)."""

    _fields_ = [
        ("cycles", ctypes.c_uint64),
        ("instret", ctypes.c_uint64),
        ("budget", ctypes.c_uint64),
        ("stop_reason", ctypes.c_uint32),
        ("stop_pc", ctypes.c_uint32),
        ("stop_info", ctypes.c_uint32),
        ("hartid", ctypes.c_uint32),
        ("cut_exact", ctypes.c_uint32),
        ("pad_cut", ctypes.c_uint32),
        ("code", CodeMap),
        ("insn_prefix", ctypes.c_void_p),
        ("cycle_prefix", ctypes.c_void_p),
        ("block_start", ctypes.c_uint32),
        ("block_end", ctypes.c_uint32),
        ("tcdm", ctypes.c_void_p),
        ("tcdm_base", ctypes.c_uint32),
        ("tcdm_size", ctypes.c_uint32),
        ("l2", ctypes.c_void_p),
        ("l2_base", ctypes.c_uint32),
        ("l2_size", ctypes.c_uint32),
        ("isa", ctypes.c_void_p),
        ("timing", ctypes.c_uint32),
        ("l2_latency", ctypes.c_uint32),
        ("flags", ctypes.c_void_p),
        ("exec_diff", ctypes.c_void_p),
        ("stall_at", ctypes.c_void_p),
        ("block_start_cycles", ctypes.c_uint64),
        ("block_dyn", ctypes.c_uint64),
        ("prev_end", ctypes.c_uint32),
        ("prev_flags", ctypes.c_uint32),
        ("stall_branch", ctypes.c_uint64),
        ("stall_tcdm", ctypes.c_uint64),
        ("stall_l2", ctypes.c_uint64),
        ("stall_misaligned", ctypes.c_uint64),
        ("div_cycles", ctypes.c_uint64),
        ("tcdm_accesses", ctypes.c_uint64),
        ("l2_accesses", ctypes.c_uint64),
        ("arb", ctypes.c_void_p),
        ("tcdm_pending", ctypes.c_uint64),
        ("banks", ctypes.c_uint32),
        ("arb_id", ctypes.c_uint32),
        ("access_cycle", ctypes.c_uint64),
        ("branches_taken", ctypes.c_uint64),
        ("l2_stores", ctypes.c_uint64),
        ("chain_limit", ctypes.c_uint32),
        ("recent_pos", ctypes.c_uint32),
        ("chain_standard", ctypes.c_uint32),
        ("recent", (ctypes.c_uint32 * 2) * RECENT),
        ("info", ctypes.c_void_p),
        ("cost_at", ctypes.c_void_p),
        ("access_pc", ctypes.c_uint32),
        ("access_left", ctypes.c_uint32),
        ("cursor", ctypes.c_uint32),
        ("cursor_cost", ctypes.c_uint32),
        ("access_cost", ctypes.c_uint32),
        ("access_addr", ctypes.c_uint32),
        ("access_size", ctypes.c_uint32),
        ("io_stop", ctypes.c_uint32),
        ("code_dirty_pages", ctypes.c_void_p),
        ("code_dirty", ctypes.c_void_p),
        ("ready_at", ctypes.c_uint64),
        ("pc", ctypes.c_uint32),
        ("pad_pc", ctypes.c_uint32),
        ("cut_lo", ctypes.c_uint32),
        ("cut_hi", ctypes.c_uint32),
        ("cut_access_max", ctypes.c_uint32),
        ("cut_stopped", ctypes.c_uint32),
        ("div_hook_pc", ctypes.c_uint32),
        ("div_hook_extra", ctypes.c_uint32),
        ("cut_settle", ctypes.c_uint64),
        ("cut_at", ctypes.c_uint64),
        ("prev_slot", ctypes.c_uint32),
        ("pad_prev", ctypes.c_uint32),
        ("blocks", ctypes.c_void_p),
    ]


SCHED_HARTS = 32    # ISS_SCHED_HARTS (sched.h)


class SchedState(ctypes.Structure):
    """Mirror of `struct iss_sched` in sched.h: the scheduler's loop in C."""

    _fields_ = [
        ("quantum", ctypes.c_uint64),
        ("max_cycles", ctypes.c_uint64),
        ("next_event", ctypes.c_uint64),
        ("time", ctypes.c_uint64),
        ("slices", ctypes.c_uint64),
        ("n", ctypes.c_uint32),
        ("max_slices", ctypes.c_uint32),
        ("running", ctypes.c_uint32),
        ("native_ok", ctypes.c_uint32),
        ("touched", ctypes.c_uint32),
        ("last", ctypes.c_uint32),
        ("err", ctypes.c_uint32),
        ("blocks", ctypes.c_uint32),
        ("event", ctypes.c_uint64),
        ("arb", ctypes.c_void_p),
        ("harts", ctypes.c_void_p * SCHED_HARTS),
        ("ucs", ctypes.c_void_p * SCHED_HARTS),
    ]


SCHED_PYTHON, SCHED_FINISH = 0, 1    # enum iss_sched_result


# enum iss_stop
(STOP_NONE, STOP_BUDGET, STOP_ILLEGAL, STOP_ECALL, STOP_EBREAK, STOP_SLOW, STOP_TRAP, STOP_FAULT,
 STOP_CODE, STOP_EXIT, STOP_CUT) = range(11)
CODE_PAGE_SLOTS_SHIFT = 11     # ISS_CODE_PAGE_SLOTS_SHIFT


# Compiler flags (part of the library's name: changing them rebuilds it).
CFLAGS = ["-O2", "-flto", "-shared", "-fPIC", "-fno-sanitize=undefined", "-Wall", "-Werror"]


def _sources_digest() -> str:
    h = hashlib.sha256()
    for p in SOURCES + HEADERS:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(str(UNICORN_INCLUDE).encode())
    h.update(" ".join(CFLAGS).encode())
    return h.hexdigest()[:16]


def _library_path() -> Path:
    suffix = sysconfig.get_config_var("SHLIB_SUFFIX") or ".so"
    name = f"_iss_native_{_sources_digest()}{suffix}"
    if os.access(HERE, os.W_OK):
        return HERE / name
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "iss"
    cache.mkdir(parents=True, exist_ok=True)
    return cache / name


def zig_target() -> str:
    import platform

    arch = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        platform.machine(), platform.machine())
    return f"{arch}-linux-gnu" if sys.platform.startswith("linux") else f"{arch}-macos"


def build(verbose: bool = False) -> Path:
    """Compile the helper with the wheel's zig; returns the library path."""
    out = _library_path()
    if out.exists():
        return out
    for stale in out.parent.glob("_iss_native_*"):
        # Older builds only: another process may be writing its .tmp right now.
        if stale.suffix != ".tmp" and stale.name != out.name:
            try:
                stale.unlink()
            except OSError:
                pass
    cache = out.parent / ".zig-cache"
    env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=str(cache), ZIG_LOCAL_CACHE_DIR=str(cache))
    tmp = out.with_suffix(out.suffix + f".{os.getpid()}.tmp")
    cmd = [sys.executable, "-m", "ziglang", "cc", "-target", zig_target(), *CFLAGS, f"-I{UNICORN_INCLUDE}",
           f"-I{HERE}", "-o", str(tmp), *map(str, SOURCES)]
    if verbose:
        print(" ".join(cmd), file=sys.stderr)
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise NativeBuildError(f"cannot run the zig compiler ({e}); is the 'ziglang' wheel installed?") from e
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        first = msg[0] if msg else f"exit code {proc.returncode}"
        raise NativeBuildError(
            f"building the native helper with zig failed: {first} (full command: python -m iss.native --verbose)")
    os.replace(tmp, out)  # atomic: concurrent builders (pytest-xdist) never see half a file
    return out


_lib = None


def lib() -> ctypes.CDLL:
    """The loaded helper, built if needed, with the Unicorn API handed over."""
    global _lib
    if _lib is None:
        path = build()
        so = ctypes.CDLL(str(path))

        class Api(ctypes.Structure):
            _fields_ = [(n, ctypes.c_void_p) for n in
                        ("reg_read", "reg_write", "mem_read", "mem_write", "emu_stop", "emu_start")]

        api = Api(*(unicorn_adapter.function_address("uc_" + n) for n, _ in Api._fields_))
        so.iss_set_api(ctypes.byref(api))
        _lib = so
    return _lib


def function_address(name: str) -> int:
    return ctypes.cast(getattr(lib(), name), ctypes.c_void_p).value


def add_hook(uc, hook_type: int, function: str, user_data: int, begin: int = 1, end: int = 0) -> int:
    """Register a C function of the helper as a Unicorn hook; returns the hook handle.

    `Uc.hook_add` would wrap a Python thunk; this goes straight to uc_hook_add.
    `user_data` must stay alive as long as the engine (the caller holds it).
    """
    return unicorn_adapter.hook_add(uc, hook_type, function_address(function), user_data, begin, end)


def main(argv=None) -> int:
    verbose = "--verbose" in (argv or sys.argv[1:])
    try:
        path = build(verbose=verbose)
    except NativeBuildError as e:
        print(f"iss: {e}", file=sys.stderr)
        return 1
    print(f"native helper: {path}")
    return 0
