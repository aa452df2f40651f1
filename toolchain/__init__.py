"""Compiles firmware for the simulated cluster with the `ziglang` wheel's clang.

This is the one place that holds the target (the CV32E40P's ISA, below) and flags;
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
from . import libc

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
if not (RUNTIME / "link.ld").exists():  # a source checkout: toolchain/ beside firmware/
    RUNTIME = Path(__file__).resolve().parent.parent / "firmware" / "runtime"
INCLUDE = RUNTIME / "include"
LINKER_SCRIPT = RUNTIME / "link.ld"
RUNTIME_SOURCES = [RUNTIME / "crt0.S", RUNTIME / "runtime.c", RUNTIME / "perf.c", RUNTIME / "call.c"]
# Linked only into programs that use them (members of libissrt.a): cluster.c,
# the cluster/task API, whose note gives the program a fabric controller.
RUNTIME_ARCHIVED = [RUNTIME / "cluster.c"]

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
          "-fno-asynchronous-unwind-tables", "-fomit-frame-pointer", "-fno-common", "-Wall",
          "-UNDEBUG"]  # zig cc defines NDEBUG at -O2 and up, which would turn assert() off
LDFLAGS = ["-Wl,--gc-sections"]
OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz", "-Og", "-Ofast")
# What PULP GCC accepts with a warning and clang rejects by default: user code
# gets warnings (the runtime is built without them; `iss cc --strict` keeps
# clang's errors).
LENIENT = ["-Wno-error=int-conversion", "-Wno-error=incompatible-pointer-types",
           "-Wno-error=incompatible-function-pointer-types", "-Wno-error=implicit-function-declaration",
           "-Wno-error=implicit-int", "-Wno-error=int-to-pointer-cast"]


def zig_env(cache_dir: Path) -> dict:
    """zig keeps its caches inside the build directory, never in $HOME."""
    cache_dir = str(cache_dir)
    return dict(os.environ, ZIG_GLOBAL_CACHE_DIR=cache_dir, ZIG_LOCAL_CACHE_DIR=cache_dir)


def command(sources, output, *, opt: str = "-O2", include_dirs=(), defines=(), cores: int = 8,
            stack_size: int = 2048, atomics: bool = True, corev: bool = True, extra_flags=(),
            link: bool = True, runtime_objects=(), link_inputs=(), link_flags=(), lenient: bool = True,
            show_warnings: bool = False) -> list[str]:
    """The zig cc command for the user's `sources`. With `link`, the runtime's
    objects (built apart, with the runtime's own flags: runtime_objects()) and
    the C library archive are linked after them."""
    if opt not in OPT_LEVELS:
        raise BuildError(f"unknown optimisation level {opt} (use one of {' '.join(OPT_LEVELS)})")
    if not 1 <= cores <= 8:
        raise BuildError(f"--cores must be 1-8, got {cores}")
    if stack_size < 256 or stack_size % 16:
        raise BuildError(f"--stack-size must be a multiple of 16 of at least 256, got {stack_size}")
    cmd = [sys.executable, "-m", "ziglang", "cc", *target_flags(atomics, corev), opt, *CFLAGS,
           *(LENIENT if lenient else []),
           f"-I{INCLUDE}", *(f"-I{d}" for d in include_dirs), *libc.user_flags(),
           f"-DNUM_CORES={cores}", f"-DISS_STACK_SIZE={stack_size}", *(f"-D{d}" for d in defines),
           *extra_flags]
    if not link:
        stage = [] if {"-E", "-S"} & set(extra_flags) else ["-c"]   # -E/-S: stop earlier than an object
        return cmd + [*stage, *map(str, sources), "-o", str(output)]
    return cmd + [*map(str, sources), *map(str, link_inputs), *LDFLAGS, *link_flags, "-T", str(LINKER_SCRIPT),
                  *map(str, runtime_objects), "-o", str(output)]


def runtime_objects(cache: Path, *, cores: int = 8, stack_size: int = 2048, atomics: bool = True,
                    corev: bool = True) -> list[Path]:
    """The start-up code, runtime and C library for a build: compiled once per
    content with the runtime's own flags (a user's flags never reach them) and
    cached in `cache` (zig's cache directory of the build)."""
    env = zig_env(cache)
    cpu = target_flags(atomics, corev)
    flags = [*cpu, "-O2", *CFLAGS, f"-I{INCLUDE}", *libc.user_flags(), f"-DNUM_CORES={cores}",
             f"-DISS_STACK_SIZE={stack_size}"]
    h = hashlib.sha256(" ".join(flags).encode())
    sources = RUNTIME_SOURCES + RUNTIME_ARCHIVED
    for f in sources + sorted(INCLUDE.glob("*.h")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    out_dir = Path(cache) / f"iss-runtime-{h.hexdigest()[:16]}"
    objs = [out_dir / (s.stem + ".o") for s in sources]
    archive = out_dir / "libissrt.a"
    if not archive.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        for src, obj in zip(sources, objs):
            tmp = obj.with_suffix(f".{os.getpid()}.tmp.o")
            proc = subprocess.run([sys.executable, "-m", "ziglang", "cc", *flags, "-c", str(src), "-o", str(tmp)],
                                  env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"building the runtime failed at {src.name}: "
                                 f"{(proc.stderr or proc.stdout).strip()[:400]}")
            os.replace(tmp, obj)
        tmp = archive.with_suffix(f".{os.getpid()}.tmp.a")
        proc = subprocess.run([sys.executable, "-m", "ziglang", "ar", "rcs", str(tmp),
                               *map(str, objs[len(RUNTIME_SOURCES):])], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"archiving the runtime failed: {proc.stderr.strip()[:400]}")
        os.replace(tmp, archive)   # last: its presence says the whole runtime is built
    base = target_flags(atomics=False, corev=False)
    zig_cpu = base[base.index("-target") + 2].split("=", 1)[1]
    return objs[:len(RUNTIME_SOURCES)] + [archive, libc.archive(cache, RUNTIME, base, zig_cpu, env)]


def compile(sources, output, *, cache_dir=None, verbose: bool = False, hwloops=None,
            explain_hwloops: bool = False, link_inputs=(), **options) -> Path:
    """Compile and link C/assembly `sources` (and objects/archives `link_inputs`)
    with the runtime into the ELF `output`; with link=False, compile the one
    source into the object `output`.

    hwloops: turn counted loops of the C sources into CV32E40P hardware loops
    (toolchain/hwloops.py); None = on at -O2/-O3 (never with corev=False).
    explain_hwloops: print what the pass did with each loop to stderr.
    show_warnings: print the compiler's warnings (stderr) when the build succeeds too."""
    sources = [Path(s) for s in sources]
    link_inputs = [Path(s) for s in link_inputs]
    if not sources and not link_inputs:
        raise BuildError("no source files given")
    for s in sources + link_inputs:
        if not s.is_file():
            raise BuildError(f"{s}: no such {'source' if s in sources else 'input'} file")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # zig's caches go in the build directory, unless ISS_ZIG_CACHE names one to share.
    cache = Path(cache_dir or os.environ.get("ISS_ZIG_CACHE") or output.parent / ".zig-cache")
    link = options.get("link", True)
    objs = runtime_objects(cache, **{k: options[k] for k in ("cores", "stack_size", "atomics", "corev")
                                     if k in options}) if link else ()
    show = options.get("show_warnings", False)
    cmd = command(sources, output, runtime_objects=objs, link_inputs=link_inputs, **options)
    # hardware loops are a CORE-V extension: never in plain RV32 builds (corev=False)
    # (nor with -flto: -S then writes LLVM IR, not assembly)
    if (not hwloops_pass.enabled(options.get("opt", "-O2"), hwloops) or not options.get("corev", True)
            or any(str(f).startswith("-flto") for f in options.get("extra_flags", ()))
            or not any(s.suffix == ".c" for s in sources) or not link):
        _run(cmd, sources, cache, verbose, output=output, show_warnings=show)
        return output

    # zig cc writes no assembly when asked for dependency files too: those come
    # from a preprocessing pass of their own, the pass's compiles run without them
    deps, rest = _split_dependency_flags(options.get("extra_flags", ()))
    options = dict(options, extra_flags=rest)
    for src in (s for s in sources if deps and s.suffix == ".c"):
        target = [] if {"-MT", "-MQ"} & set(deps) else ["-MT", str(output)]
        if not any(f.startswith("-MF") for f in deps):
            target += ["-MF", src.stem + ".d"]   # as gcc names it: beside, after the source
        with tempfile.TemporaryDirectory(dir=output.parent, prefix=".deps-") as d:
            _run(command([src], Path(d) / "x.i", **dict(options, link=False, extra_flags=rest + deps + target
                                                         + ["-E"])), [src], cache, verbose)

    def to_asm(src, out):
        asm_cmd = command([src], out, **dict(options, link=False))
        # zig cc passes -c on to clang along with -S: not the user's doing (-Werror builds)
        asm_cmd[asm_cmd.index("-c"):asm_cmd.index("-c") + 1] = ["-S", "-Wno-unused-command-line-argument"]
        _run(asm_cmd, [src], cache, verbose, show_warnings=show)

    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".hwloops-") as work:
        lowered, _ = hwloops_pass.lower(sources, Path(work), to_asm, hwloop_macros(cache),
                                        explain=sys.stderr if explain_hwloops else None)
        # the C flags have nothing to do for the pass's assembly: not an error under -Werror
        final = dict(options, extra_flags=[*options.get("extra_flags", ()), "-Wno-unused-command-line-argument"])
        _run(command(lowered, output, runtime_objects=objs, link_inputs=link_inputs, **final), sources, cache,
             verbose, what="assembling the hardware-loop pass's output (iss cc --no-hwloops avoids the pass) of",
             output=output)
    return output


def _split_dependency_flags(flags) -> tuple[list[str], list[str]]:
    """(-MD -MMD -MP -MF F -MT T -MQ T, everything else) of a flag list."""
    deps, rest, it = [], [], iter(flags)
    for f in it:
        if f in ("-MF", "-MT", "-MQ"):
            deps += [f, next(it, "")]
        elif f in ("-MD", "-MMD", "-MP") or f.startswith(("-MF", "-MT", "-MQ")):
            deps.append(f)
        else:
            rest.append(f)
    return deps, rest


def _run(cmd, sources, cache, verbose, what="compiling", output=None, show_warnings=False):
    if verbose:
        print(" ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, env=zig_env(cache), capture_output=True, text=True)
    diagnostics = (proc.stderr or proc.stdout).strip()
    if proc.returncode != 0:
        first = next((ln for ln in diagnostics.splitlines() if "error" in ln), diagnostics[:200])
        if output is not None and ("ld.lld" in first or "undefined symbol" in first or "linker" in first):
            what, names = "linking", Path(output).name
        else:
            # name the source the first error is in, when it is one of them
            where = first.split(":", 1)[0]
            failing = [s for s in sources if where and Path(where).name == s.name]
            names = " ".join(s.name for s in (failing[:1] or sources))
        raise BuildError(f"{what} {names} failed: {first.strip()}") from _Diagnostics(diagnostics)
    if diagnostics and show_warnings:
        print(diagnostics, file=sys.stderr)


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
    files = ([Path(s) for s in sources] + RUNTIME_SOURCES + RUNTIME_ARCHIVED + [LINKER_SCRIPT]
             + sorted(INCLUDE.glob("*.h")))
    files.append(Path(hwloops_pass.__file__))     # the pass rewrites compiled C
    files += sorted(p for p in (RUNTIME / "libc").rglob("*") if p.is_file())
    for d in sorted({Path(s).parent for s in sources}):
        files += sorted(d.glob("*.h"))  # headers beside the sources (#include "x.h")
    for d in options.get("include_dirs", ()):
        # headers, and sources some programs #include from there
        files += sorted(Path(d).glob("*.h")) + sorted(Path(d).glob("*.c"))
    for f in files:
        h.update(str(f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def compile_cached(sources, out_dir, name: str, *, keep_globals: bool = False, **options) -> Path:
    """`compile()` into `out_dir/NAME-KEY.elf`, KEY the `content_key` of the sources
    and options: an existing ELF is reused, and a build lands with an atomic
    rename, so concurrent processes (pytest-xdist workers, parallel scripts)
    never see half an ELF. zig's cache: `cache_dir`, else $ISS_ZIG_CACHE, else
    `out_dir/.zig-cache`, shared by the builds there.

    keep_globals: keep every global function and variable the sources define in
    the image although nothing references it (the link drops unused sections),
    as calls into a firmware from the host need."""
    sources = [Path(s) for s in sources]
    out_dir = Path(out_dir)
    key_options = dict(options, keep_globals=True) if keep_globals else options
    out = out_dir / f"{name}-{content_key(sources, **key_options)}.elf"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    options["cache_dir"] = Path(options.get("cache_dir") or os.environ.get("ISS_ZIG_CACHE") or out_dir / ".zig-cache")
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        if keep_globals:
            keep = _global_symbols(sources, Path(tmp), options)
            options["extra_flags"] = [*options.get("extra_flags", ()), *(f"-Wl,-u,{s}" for s in keep)]
        tmp_out = Path(tmp) / out.name
        compile(sources, tmp_out, **options)
        os.replace(tmp_out, out)
    return out


def _global_symbols(sources, tmp: Path, options: dict) -> list[str]:
    """Global functions and variables the sources define (compiled one by one)."""
    from elftools.elf.elffile import ELFFile

    names: set[str] = set()
    for i, src in enumerate(sources):
        obj = tmp / f"{i}-{src.stem}.o"
        compile([src], obj, link=False, **options)
        with open(obj, "rb") as f:
            tab = ELFFile(f).get_section_by_name(".symtab")
            for s in tab.iter_symbols() if tab is not None else ():
                if (s["st_info"]["bind"] == "STB_GLOBAL" and s["st_shndx"] != "SHN_UNDEF"
                        and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and s.name):
                    names.add(s.name)
    return sorted(names)
