"""GCC-style command lines for `iss cc`, as PULP Makefiles write them.

Reads a gcc/clang argument list into a `CcRequest`: which inputs to compile
(.c .S .s), which to link as they are (.o .a), the options that only the
simulator knows (--cores, --stack-size...), and the compiler and linker flags
to pass on. Flags with a separate argument (`-include F`, `-isystem D`,
`-MF F`, `-MT T`, `-Xlinker X`, `-L D`, `-l x`, `-o F`, `-I D`, `-D X`, `-x L`)
keep their argument. Target selection of other toolchains (-march=rv32imcxpulpv2,
-mPE=8, -mFC=1...) is dropped with a note: iss cc always builds for the
simulated core. Only parsing here; toolchain.compile() builds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError

SOURCE_SUFFIXES = (".c", ".S", ".s")
LINK_SUFFIXES = (".o", ".a", ".obj")

# Flags whose value is the next argument (when not attached: -Ifoo / -I foo).
WITH_ARG_COMPILE = {"-include", "-imacros", "-isystem", "-idirafter", "-iquote", "-iprefix", "-MF", "-MT", "-MQ",
                    "-x", "-std", "-Xclang", "-Xpreprocessor", "-Xassembler"}
WITH_ARG_LINK = {"-Xlinker", "-L", "-l", "-T", "-u", "-e"}
# Libraries the firmware already has: the C library, libm and libgcc's helpers
# (compiler_rt) are linked by iss cc.
PROVIDED_LIBS = {"c", "m", "gcc", "g", "nosys", "pulprt", "pmsis"}
# Flags that select another toolchain's target, start-up or library set.
DROPPED_PREFIXES = ("-march=", "-mabi=", "-mcpu=", "-mtune=", "-mPE=", "-mFC=", "-mnohwloop", "-mhwloop",
                    "-mno-hwloop", "-mcmodel=", "-mno-relax", "-mrelax", "-msmall-data-limit", "-mfdiv",
                    "-mdiv", "-msoft-float", "-mhard-float", "-mfloat-abi=", "-mnopostmod", "-mnovect",
                    "-mnominmax", "-mnoabs", "-mnomac", "-mnopartmac", "-mnominmax", "-mnobitop", "-mnosext",
                    "-mnoslet", "-mnomulmacnorm", "-mnoaddsubnormround", "-mnovectshufflepack",
                    "-mnofault", "-mdf", "-mint64")
DROPPED = {"-nostdlib", "-nostartfiles", "-nodefaultlibs", "-static", "-ffreestanding", "-fno-builtin",
           "-mno-save-restore", "-msave-restore", "-fno-jump-tables", "-fno-tree-loop-distribute-patterns",
           "-fno-delete-null-pointer-checks", "-fno-common", "-fdata-sections", "-ffunction-sections"}


@dataclass
class CcRequest:
    sources: list[Path] = field(default_factory=list)
    link_inputs: list[Path] = field(default_factory=list)   # objects and archives, in order
    output: Path | None = None
    compile_only: bool = False
    opt: str = "-O2"
    include_dirs: list[Path] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    compile_flags: list[str] = field(default_factory=list)  # to the compiler, user sources only
    link_flags: list[str] = field(default_factory=list)     # to the link step
    cores: int | None = None
    stack_size: int | None = None
    atomics: bool = True
    corev: bool = True
    strict: bool = False
    no_hwloops: bool = False
    explain_hwloops: bool = False
    verbose: bool = False
    print_flags: bool = False
    help: bool = False
    notes: list[str] = field(default_factory=list)          # what was dropped, for the user


def _int_option(name: str, value: str) -> int:
    try:
        return int(value, 0)
    except ValueError:
        raise BuildError(f"{name} needs a number, got {value!r}") from None


def parse(argv: list[str]) -> CcRequest:
    r = CcRequest()
    i = 0

    def value(flag: str) -> str:
        nonlocal i
        if i + 1 >= len(argv):
            raise BuildError(f"{flag} needs an argument")
        i += 1
        return argv[i]

    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            r.help = True
        elif a == "--print-flags":
            r.print_flags = True
        elif a in ("-v", "--verbose"):
            r.verbose = True
        elif a == "--strict":
            r.strict = True
        elif a == "--no-hwloops":
            r.no_hwloops = True
        elif a == "--explain-hwloops":
            r.explain_hwloops = True
        elif a == "--no-atomics":
            r.atomics = False
        elif a == "--no-corev":
            r.corev = False
        elif a == "--cores" or a.startswith("--cores="):
            r.cores = _int_option("--cores", a.split("=", 1)[1] if "=" in a else value(a))
        elif a == "--stack-size" or a.startswith("--stack-size="):
            r.stack_size = _int_option("--stack-size", a.split("=", 1)[1] if "=" in a else value(a))
        elif a == "-o":
            r.output = Path(value(a))
        elif a.startswith("-o") and len(a) > 2:
            r.output = Path(a[2:])
        elif a == "-c":
            r.compile_only = True
        elif a in ("-E", "-S"):
            r.compile_only = True          # preprocessed text / assembly instead of an object
            r.compile_flags.append(a)
        elif a in ("-O",) or (a.startswith("-O") and len(a) <= 6 and a[2:] in ("0", "1", "2", "3", "s", "z", "g",
                                                                                  "fast")):
            r.opt = "-O1" if a == "-O" else a
        elif a == "-I" or (a.startswith("-I") and len(a) > 2):
            r.include_dirs.append(Path(value(a) if a == "-I" else a[2:]))
        elif a == "-D" or (a.startswith("-D") and len(a) > 2):
            d = value(a) if a == "-D" else a[2:]
            name, _, val = d.partition("=")
            if name == "NUM_CORES":
                r.cores = _int_option("-DNUM_CORES", val or "1")
            else:
                r.defines.append(d)
        elif a == "-U" or (a.startswith("-U") and len(a) > 2):
            r.compile_flags += ["-U", value(a) if a == "-U" else a[2:]]
        elif a in WITH_ARG_COMPILE:
            r.compile_flags += [a, value(a)]
        elif a == "-l" or (a.startswith("-l") and len(a) > 2):
            lib = value(a) if a == "-l" else a[2:]
            if lib not in PROVIDED_LIBS:
                r.link_flags.append(f"-l{lib}")
        elif a == "-L" or (a.startswith("-L") and len(a) > 2):
            r.link_flags.append(f"-L{value(a) if a == '-L' else a[2:]}")
        elif a == "-Xlinker":
            r.link_flags += ["-Xlinker", value(a)]
        elif a.startswith("-Wl,"):
            r.link_flags.append(a)
        elif a == "-T" or (a.startswith("-T") and len(a) > 2):
            script = value(a) if a == "-T" else a[2:]
            r.notes.append(f"ignoring the linker script {script}: iss cc links with the simulator's "
                           f"(firmware/runtime/link.ld)")
        elif a in ("-u", "-e"):
            r.link_flags += [a, value(a)]
        elif a in DROPPED or a.startswith(DROPPED_PREFIXES):
            if a.startswith(("-march=", "-mcpu=", "-mabi=", "-mPE=", "-mFC=")):
                r.notes.append(f"ignoring {a}: iss cc builds for the simulated CV32E40P cluster")
        elif a.startswith(("-M", "-W", "-f", "-g", "-std=", "-m", "-pedantic", "-ansi", "-include", "-isystem",
                           "-iquote", "-idirafter", "-x", "-w", "-pipe", "--param", "-save-temps", "-C",
                           "-P", "-H", "-nostdinc", "-Q", "-dM", "-dD")):
            r.compile_flags.append(a)
        elif a.startswith("-"):
            r.compile_flags.append(a)  # clang reports what it does not know, naming the flag
        else:
            p = Path(a)
            if p.suffix in SOURCE_SUFFIXES:
                r.sources.append(p)
            elif p.suffix in LINK_SUFFIXES:
                r.link_inputs.append(p)
            else:
                raise BuildError(f"{a}: not a source (.c .S .s), object (.o) or archive (.a)")
        i += 1
    return r
