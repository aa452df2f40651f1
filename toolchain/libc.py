"""The firmware's C library, built from the ziglang wheel at the first link.

What PULP code expects of a C library (stdio, stdlib, string, math, ctype,
inttypes, assert) comes from well-kept implementations shipped in the wheel,
built here for the cluster's target, never copied into this repository:

- headers: musl's (`lib/libc/include/generic-musl` and the riscv32 `bits`);
- formatting (printf family, %f %e %g in soft float): musl's vfprintf;
- libm: compiler_rt (linked by zig cc itself), musl's sources for what
  compiler_rt lacks, and Zig's std.math (`libc/math.zig`) for the functions the
  wheel keeps only in Zig's own libc; the float functions (expf, logf, powf,
  tanhf, sinf...) are ours (`libc/mathf.c`): the double version rounded once,
  so they are correctly rounded, where the wheel's float versions are each
  within 1 ULP and differ from a reference in the last bit for some inputs;
- what is ours (firmware/runtime/libc/*.c): where output goes (the stdout
  peripheral, per core), the heaps (L2 malloc/free in any order, L1, the PULP
  SDK allocators), string/ctype/stdlib basics, errno per core, assert.

The archive is cached by the content of its sources and flags, in the zig cache
directory of the build (shared with ISS_ZIG_CACHE).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import BuildError

_ZIGLIB: Path | None = None


def zig_lib() -> Path:
    """The wheel's `lib` directory (zig's library and libc sources)."""
    global _ZIGLIB
    if _ZIGLIB is None:
        import ziglang
        _ZIGLIB = Path(ziglang.__file__).resolve().parent / "lib"
    return _ZIGLIB


def header_dirs() -> list[Path]:
    """musl's headers for riscv32 (after clang's own, which zig cc puts first)."""
    inc = zig_lib() / "libc" / "include"
    return [inc / "riscv32-linux-musl", inc / "generic-musl"]


def user_flags() -> list[str]:
    """Flags that give user code the C library's headers."""
    return [f for d in header_dirs() for f in ("-isystem", str(d))]


# musl sources (relative to lib/libc/musl/src) built into the library.
# vfprintf is renamed: the console version in libc/stdio.c wraps it.
MUSL_SOURCES = [
    "stdio/vfprintf.c", "stdio/vsnprintf.c", "stdio/snprintf.c", "stdio/sprintf.c", "stdio/vsprintf.c",
    "stdio/__towrite.c",
    "math/__fpclassify.c", "math/__fpclassifyf.c", "math/__fpclassifyl.c",
    "math/__signbit.c", "math/__signbitf.c", "math/__signbitl.c",
    "math/pow.c", "math/pow_data.c", "math/exp_data.c",
    "math/__math_oflow.c", "math/__math_uflow.c", "math/__math_xflow.c", "math/__math_invalid.c",
    "math/__math_divzero.c",
    "math/expm1.c", "math/ldexpf.c", "math/ldexp.c", "math/scalbnf.c", "math/scalbn.c",
    "math/erf.c", "math/atan2.c", "math/sinh.c", "math/__expo2.c", "math/asinh.c", "math/acosh.c", "math/atanh.c",
]
MUSL_RENAMES = ["-Dvfprintf=__iss_musl_vfprintf"]
# vfprintf.c with long double = double: its decimal buffer then fits a core's
# stack (libc/printf_double/float.h says why).
PRINTF_DOUBLE = ["-Xclang", "-mlong-double-64", "-Dfrexpl=__iss_frexp_ld64"]


def _sources(runtime: Path) -> tuple[list[Path], list[Path], Path]:
    musl = zig_lib() / "libc" / "musl" / "src"
    ours = sorted((runtime / "libc").glob("*.c"))
    return [musl / s for s in MUSL_SOURCES], ours, runtime / "libc" / "math.zig"


def _musl_flags(cpu_flags: list[str], runtime: Path) -> list[str]:
    musl = zig_lib() / "libc" / "musl"
    inc = zig_lib() / "libc" / "include"
    dirs = [musl / "src" / "include", musl / "src" / "internal", musl / "arch" / "riscv32", musl / "arch" / "generic",
            inc / "riscv32-linux-musl", inc / "generic-musl", runtime / "include"]
    # -I, not -isystem: musl's own headers (limits.h, stdint.h) must win over clang's here.
    return [*cpu_flags, "-O2", "-g", "-std=c99", "-ffreestanding", "-fno-builtin", "-ffunction-sections",
            "-fdata-sections", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-D_XOPEN_SOURCE=700",
            "-w", *(f"-I{d}" for d in dirs)]


def archive(cache_dir: Path, runtime: Path, cpu_flags: list[str], zig_cpu: str, env: dict) -> Path:
    """Build (once per content) and return the path of libissc.a."""
    musl, ours, zig_math = _sources(runtime)
    flags = _musl_flags(cpu_flags, runtime)
    h = hashlib.sha256(" ".join(flags + ["renames:", *MUSL_RENAMES, *PRINTF_DOUBLE, zig_cpu]).encode())
    for f in musl + ours + [zig_math] + sorted((runtime / "include").glob("*.h")) + \
            sorted((runtime / "libc").rglob("*.h")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    out = Path(cache_dir).resolve() / f"iss-libc-{h.hexdigest()[:16]}" / "libissc.a"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    zig = [sys.executable, "-m", "ziglang"]
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        tmp = Path(tmp)
        jobs = []  # (source, command, object)
        for i, src in enumerate(musl + ours):
            obj = tmp / f"{i:02d}_{src.stem}.o"
            extra = MUSL_RENAMES if src in musl else []
            if src.name == "vfprintf.c":
                extra = extra + PRINTF_DOUBLE + [f"-I{runtime / 'libc' / 'printf_double'}"]
            jobs.append((src, [*zig, "cc", *extra, *flags, "-c", str(src), "-o", str(obj)], obj))
        math_obj = tmp / "zig_math.o"
        jobs.append((zig_math, [*zig, "build-obj", str(zig_math), "-target", "riscv32-freestanding-none",
                                "-mcpu", zig_cpu, "-OReleaseFast", "-ffunction-sections", "-fdata-sections",
                                "-fno-stack-check", f"-femit-bin={math_obj}"], math_obj))

        def run(job):
            return subprocess.run(job[1], env=env, capture_output=True, text=True, cwd=tmp)

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            for (src, _, _), proc in zip(jobs, pool.map(run, jobs)):
                if proc.returncode != 0:
                    raise BuildError(f"building the C library failed at {src.name}: "
                                     f"{(proc.stderr or proc.stdout).strip()[:400]}")
        lib = tmp / "libissc.a"
        proc = subprocess.run([*zig, "ar", "rcs", str(lib), *(str(o) for _, _, o in jobs)], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"archiving the C library failed: {proc.stderr.strip()[:400]}")
        os.replace(lib, out)  # atomic: parallel builds may race to the same name
    return out
