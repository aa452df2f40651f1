"""Compiles firmware for the simulated cluster with the `ziglang` wheel's clang.

This is the one place that holds the target and flags (platform.md section 5);
`iss cc`, the Makefile and the tests all come through `compile()`.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from ..errors import BuildError
from . import hwloops as hwloops_pass

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
if not (RUNTIME / "link.ld").exists():  # a source checkout: toolchain/ beside firmware/
    RUNTIME = Path(__file__).resolve().parent.parent / "firmware" / "runtime"
INCLUDE = RUNTIME / "include"
LINKER_SCRIPT = RUNTIME / "link.ld"
RUNTIME_SOURCES = [RUNTIME / "crt0.S", RUNTIME / "runtime.c", RUNTIME / "printf.c", RUNTIME / "perf.c", RUNTIME / "call.c"]

# CV32E40P: RV32IMC + Zicsr + the CORE-V v2 extensions the compiler knows. `+a`
# (atomics) is not in the real core; it is on by default so C11 atomics compile,
# and `atomics=False` builds for the real core.
# xcvbitmanip is left out of code generation on purpose: this clang lowers
# __builtin_clz (also inside compiler-rt's 64-bit division) to a bare cv.fl1,
# which the manual defines as the index of the highest set bit, not the count
# of leading zeros, so the code would be wrong on the real core. corev.h enables
# the extension per intrinsic (`.option arch, +xcvbitmanip`), so cv_fl1 & co.
# still work.
EXTENSIONS = ["m", "c", "zicsr", "xcvalu", "xcvmac", "xcvsimd", "xcvmem", "xcvbi", "xcvelw"]


def target_flags(atomics: bool = True, corev: bool = True) -> list[str]:
    ext = EXTENSIONS[:1] + (["a"] if atomics else []) + EXTENSIONS[1:]
    if not corev:
        ext = [e for e in ext if not e.startswith("xcv")]
    # zig reads -march as a CPU name; without -mcpu it silently builds rv32imafdc.
    return ["-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+" + "+".join(ext), "-mabi=ilp32"]


CFLAGS = ["-g", "-ffreestanding", "-ffunction-sections", "-fdata-sections", "-fno-unwind-tables",
          "-fno-asynchronous-unwind-tables", "-fomit-frame-pointer", "-fno-common", "-Wall"]
LDFLAGS = ["-Wl,--gc-sections"]
OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz")


def zig_env(cache_dir: Path) -> dict:
    """zig keeps its caches inside the build directory, never in $HOME."""
    cache_dir = str(cache_dir)
    return dict(os.environ, ZIG_GLOBAL_CACHE_DIR=cache_dir, ZIG_LOCAL_CACHE_DIR=cache_dir)


def command(sources, output, *, opt: str = "-O2", include_dirs=(), defines=(), cores: int = 8,
            stack_size: int = 2048, atomics: bool = True, corev: bool = True, extra_flags=(),
            link: bool = True) -> list[str]:
    if opt not in OPT_LEVELS:
        raise BuildError(f"unknown optimisation level {opt} (use one of {' '.join(OPT_LEVELS)})")
    if not 1 <= cores <= 8:
        raise BuildError(f"--cores must be 1-8, got {cores}")
    if stack_size < 256 or stack_size % 16:
        raise BuildError(f"--stack-size must be a multiple of 16 of at least 256, got {stack_size}")
    cmd = [sys.executable, "-m", "ziglang", "cc", *target_flags(atomics, corev), opt, *CFLAGS,
           f"-I{INCLUDE}", *(f"-I{d}" for d in include_dirs),
           f"-DNUM_CORES={cores}", f"-DISS_STACK_SIZE={stack_size}", *(f"-D{d}" for d in defines),
           *extra_flags]
    if link:
        cmd += [*LDFLAGS, "-T", str(LINKER_SCRIPT), *map(str, RUNTIME_SOURCES)]
    else:
        cmd += ["-c"]
    return cmd + [*map(str, sources), "-o", str(output)]


def compile(sources, output, *, cache_dir=None, verbose: bool = False, hwloops=None,
            explain_hwloops: bool = False, **options) -> Path:
    """Compile and link C/assembly `sources` with the runtime into the ELF `output`.

    hwloops: turn counted loops of the C sources into CV32E40P hardware loops
    (toolchain/hwloops.py); None = on at -O2/-O3 (never with corev=False).
    explain_hwloops: print what the pass did with each loop to stderr."""
    sources = [Path(s) for s in sources]
    if not sources:
        raise BuildError("no source files given")
    for s in sources:
        if not s.is_file():
            raise BuildError(f"{s}: no such source file")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # zig's caches go in the build directory, unless ISS_ZIG_CACHE names one to share.
    cache = Path(cache_dir or os.environ.get("ISS_ZIG_CACHE") or output.parent / ".zig-cache")
    cmd = command(sources, output, **options)
    # hardware loops are a CORE-V extension: never in plain RV32 builds (corev=False)
    # (nor with -flto: -S then writes LLVM IR, not assembly)
    if (not hwloops_pass.enabled(options.get("opt", "-O2"), hwloops) or not options.get("corev", True)
            or any(str(f).startswith("-flto") for f in options.get("extra_flags", ()))
            or not any(s.suffix == ".c" for s in sources)):
        _run(cmd, sources, cache, verbose)
        return output

    def to_asm(src, out):
        asm_cmd = command([src], out, **dict(options, link=False))
        asm_cmd[asm_cmd.index("-c")] = "-S"
        _run(asm_cmd, [src], cache, verbose)

    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".hwloops-") as work:
        lowered, _ = hwloops_pass.lower(sources, Path(work), to_asm, hwloop_macros(cache),
                                        explain=sys.stderr if explain_hwloops else None)
        _run(command(lowered, output, **options), sources, cache, verbose,
             what="assembling the hardware-loop pass's output (iss cc --no-hwloops avoids the pass) of")
    return output


def _run(cmd, sources, cache, verbose, what="compiling"):
    if verbose:
        print(" ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, env=zig_env(cache), capture_output=True, text=True)
    if proc.returncode != 0:
        diagnostics = (proc.stderr or proc.stdout).strip()
        first = next((ln for ln in diagnostics.splitlines() if "error" in ln), diagnostics[:200])
        raise BuildError(f"{what} {' '.join(s.name for s in sources)} failed: {first.strip()}",
                         ) from _Diagnostics(diagnostics)


def hwloop_macros(cache: Path) -> str:
    """The assembler macros cv.setup, cv.count, ... of corev.h (its __ASSEMBLER__
    half), preprocessed: the hardware-loop encodings live only there."""
    return _macros(cache, (INCLUDE / "corev.h").read_bytes())


@lru_cache(maxsize=4)
def _macros(cache: Path, _header: bytes) -> str:
    with tempfile.TemporaryDirectory() as d:
        stub = Path(d) / "hwloop_macros.S"
        stub.write_text('#include "corev.h"\n')
        cmd = [sys.executable, "-m", "ziglang", "cc", *target_flags(), "-E", "-P", f"-I{INCLUDE}", str(stub)]
        proc = subprocess.run(cmd, env=zig_env(cache), capture_output=True, text=True)
    if proc.returncode != 0 or ".macro cv.setup" not in proc.stdout:
        raise BuildError(f"preprocessing corev.h for the hardware-loop macros failed: {proc.stderr.strip()[:200]}")
    return "\n".join(ln for ln in proc.stdout.splitlines() if ln.strip())


class _Diagnostics(Exception):
    """Carries the compiler's full output behind a BuildError (`e.__cause__`)."""


def content_key(sources, **options) -> str:
    """A digest of everything that determines the ELF: sources, headers, runtime, flags."""
    h = hashlib.sha256()
    h.update(repr(sorted(options.items())).encode())
    h.update(" ".join(target_flags(options.get("atomics", True), options.get("corev", True))
                      + CFLAGS + LDFLAGS).encode())
    files = [Path(s) for s in sources] + RUNTIME_SOURCES + [LINKER_SCRIPT] + sorted(INCLUDE.glob("*.h"))
    files.append(Path(hwloops_pass.__file__))     # the pass rewrites compiled C
    for d in sorted({Path(s).parent for s in sources}):
        files += sorted(d.glob("*.h"))  # headers beside the sources (#include "x.h")
    for d in options.get("include_dirs", ()):
        # headers, and sources some programs #include from there
        files += sorted(Path(d).glob("*.h")) + sorted(Path(d).glob("*.c"))
    for f in files:
        h.update(str(f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def compile_cached(sources, out_dir, name: str, **options) -> Path:
    """`compile()` into `out_dir/NAME-KEY.elf`, KEY the `content_key` of the sources
    and options: an existing ELF is reused, and a build lands with an atomic
    rename, so concurrent processes never see half an ELF."""
    import tempfile
    out_dir = Path(out_dir)
    out = out_dir / f"{name}-{content_key(sources, **options)}.elf"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".build-", suffix=".elf")
    os.close(fd)
    try:
        compile(sources, tmp, **options)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
