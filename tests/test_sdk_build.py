"""`iss cc` as a PULP Makefile drives it: every gcc
flag form with a separate argument, objects and archives as inputs, -c,
user flags kept away from the runtime, warnings shown on success, the failing
file named, GCC leniency and --strict, --print-flags driving clang directly,
and the NUM_CORES build note."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iss import Cluster
from iss.cli import main as iss_main
from iss.config import Config
from iss.errors import ElfError
from iss.toolchain import zig_env


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def iss_cc(*args) -> int:
    return iss_main(["cc", *map(str, args)])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A small firmware directory laid out as PULP projects are."""
    d = tmp_path_factory.mktemp("pulpproj")
    write(d / "include" / "app.h", "#define APP_SCALE 3\nint helper(int x);\nint lib_twice(int x);\n")
    write(d / "sys" / "board.h", "#define BOARD_OFFSET 100\n")
    write(d / "pre.h", "#define PRE_INCLUDED 7\n")
    write(d / "helper.c", '#include "app.h"\nint helper(int x) { return x * APP_SCALE; }\n')
    write(d / "twice.c", '#include "app.h"\nint lib_twice(int x) { return 2 * x; }\n')
    write(d / "main.c", """
#include "pmsis.h"
#include "app.h"
#include <board.h>
void kept_by_the_linker_flag(void) { puts("never called"); }
int main(void) {
    printf("cores=%d pre=%d helper=%d twice=%d board=%d\\n", NUM_CORES, PRE_INCLUDED, helper(5),
           lib_twice(21), BOARD_OFFSET);
    return 0;
}
""")
    return d


def test_every_flag_form_objects_and_archives(project, tmp_path, capsys):
    d = project
    # -c with -o, and -c without -o (object named after the source, in the current directory)
    assert iss_cc("-c", d / "helper.c", "-I", d / "include", "-O2", "-o", tmp_path / "helper.o") == 0
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert iss_cc("-c", d / "twice.c", f"-I{d / 'include'}", "-march=rv32imcxpulpv2", "-mPE=8", "-mFC=1") == 0
    finally:
        os.chdir(cwd)
    assert (tmp_path / "twice.o").is_file()
    # a static archive of it, as a PULP library build makes one
    lib = tmp_path / "lib" / "libtwice.a"
    lib.parent.mkdir()
    subprocess.run([sys.executable, "-m", "ziglang", "ar", "rcs", str(lib), str(tmp_path / "twice.o")], check=True,
                   env=zig_env(tmp_path / ".zig-cache"))
    elf = tmp_path / "app.elf"
    deps = tmp_path / "main.d"
    rc = iss_cc(d / "main.c", tmp_path / "helper.o", "-I", d / "include", "-isystem", d / "sys",
                "-include", d / "pre.h", "-MD", "-MF", deps, "-MT", "app", "-L", lib.parent, "-l", "twice",
                "-lm", "-lc", "-Xlinker", "--no-gc-sections", "-DNUM_CORES=4", "-O3", "-std=gnu99",
                "-o", elf)
    assert rc == 0
    err = capsys.readouterr().err
    assert "ignoring -march=rv32imcxpulpv2" in err
    assert deps.read_text().startswith("app:") and "pre.h" in deps.read_text()
    r = Cluster(elf, Config.load(None, cluster={"cores": 4})).run()
    assert r.exit_code == 0
    assert r.stdout == ["cores=4 pre=7 helper=15 twice=42 board=100"]
    # -Xlinker reached the linker: without garbage collection the unused function stays
    assert "kept_by_the_linker_flag" in Cluster(elf, Config.load(None, cluster={"cores": 4})).program.symbols


def test_archive_given_as_a_file(project, tmp_path):
    d = project
    assert iss_cc("-c", d / "twice.c", "-I", d / "include", "-o", tmp_path / "twice.o") == 0
    lib = tmp_path / "libtwice.a"
    subprocess.run([sys.executable, "-m", "ziglang", "ar", "rcs", str(lib), str(tmp_path / "twice.o")], check=True,
                   env=zig_env(tmp_path / ".zig-cache"))
    src = write(tmp_path / "m.c", '#include "pmsis.h"\nint lib_twice(int);\nint main(void) { return lib_twice(4); }\n')
    assert iss_cc(src, lib, "-o", tmp_path / "m.elf") == 0
    assert Cluster(tmp_path / "m.elf").run().exit_code == 8


def test_user_flags_never_reach_the_runtime(tmp_path):
    # A define that would break the start-up code (crt0.S calls __iss_worker) if it were applied to it.
    src = write(tmp_path / "a.c", '#include "pmsis.h"\nint main(void) { puts("ok"); return 0; }\n')
    assert iss_cc(src, "-D__iss_worker=missing_worker", "-Werror", "-Wpedantic", "-o", tmp_path / "a.elf") == 0
    assert Cluster(tmp_path / "a.elf").run().stdout == ["ok"]


GCC_LENIENT = """
#include "pmsis.h"
int main(void) {
    int *p = 0;
    int addr = p;                 /* int-conversion: an error for clang, a warning for PULP GCC */
    char *c = (int *)0;           /* incompatible pointer types */
    return undeclared_fn(addr) + (c != 0);   /* implicit declaration */
}
int undeclared_fn(int x) { return x + 5; }
"""


def test_gcc_leniency_warns_and_strict_refuses(tmp_path, capsys):
    src = write(tmp_path / "lenient.c", GCC_LENIENT)
    assert iss_cc(src, "-o", tmp_path / "l.elf") == 0
    err = capsys.readouterr().err
    assert "-Wint-conversion" in err and "-Wincompatible-pointer-types" in err  # shown on success
    assert Cluster(tmp_path / "l.elf").run().exit_code == 5
    assert iss_cc(src, "--strict", "-o", tmp_path / "s.elf") == 2
    assert "iss: error: compiling" in capsys.readouterr().err


def test_the_failing_file_is_named(tmp_path, capsys):
    good = write(tmp_path / "good.c", '#include "pmsis.h"\nint main(void) { return 0; }\n')
    bad = write(tmp_path / "bad.c", "int f(void) { return no_such_variable; }\n")
    assert iss_cc(good, bad, "-o", tmp_path / "x.elf") == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.match(r"iss: error: compiling \S*bad\.c failed: \S*bad\.c:1:\d+: error: use of undeclared", last), last
    write(tmp_path / "nomain.c", "int g(void) { return missing_function(); }\nint main(void) { return g(); }\n")
    assert iss_cc(tmp_path / "nomain.c", "--strict", "-Wno-implicit-function-declaration", "-o",
                  tmp_path / "y.elf") == 2
    assert "linking y.elf failed" in capsys.readouterr().err


def test_print_flags_drive_clang_directly(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert iss_cc("--print-flags", "--cores", "2") == 0
    out = capsys.readouterr().out
    vals = {k.strip(): v.strip() for k, v in (ln.split("=", 1) for ln in out.splitlines() if not ln.startswith("#"))}
    assert "-DNUM_CORES=2" in vals["CFLAGS"] and "link.ld" in vals["LDFLAGS"]
    src = write(tmp_path / "p.c", '#include "pmsis.h"\nint main(void) { printf("%.2f\\n", 1.5); return 3; }\n')
    import shlex
    cmd = shlex.split(vals["CC"]) + shlex.split(vals["CFLAGS"]) + [str(src)] + shlex.split(vals["LDFLAGS"]) + \
        ["-o", str(tmp_path / "p.elf")]
    subprocess.run(cmd, check=True, env=zig_env(tmp_path / ".zig-cache"), capture_output=True)
    r = Cluster(tmp_path / "p.elf", Config.load(None, cluster={"cores": 2})).run()
    assert (r.exit_code, r.stdout) == (3, ["1.50"])


def test_num_cores_note_and_too_few_cores(tmp_path, capsys):
    src = write(tmp_path / "n.c", '#include "pmsis.h"\nint main(void) { return 0; }\n')
    assert iss_cc(src, "--cores", "8", "-o", tmp_path / "n.elf") == 0
    assert iss_main(["info", str(tmp_path / "n.elf")]) == 0
    assert "built for NUM_CORES=8" in capsys.readouterr().out
    with pytest.raises(ElfError, match=r"built for NUM_CORES=8 but the cluster has 4 cores"):
        Cluster(tmp_path / "n.elf", Config.load(None, cluster={"cores": 4}))
    assert iss_main(["run", str(tmp_path / "n.elf"), "--cores", "4"]) == 2
    assert "NUM_CORES=8 but the cluster has 4 cores" in capsys.readouterr().err
    # fewer NUM_CORES than the cluster has is fine (the spare cores sleep)
    assert iss_cc(src, "--cores", "2", "-o", tmp_path / "n2.elf") == 0
    assert Cluster(tmp_path / "n2.elf").run().exit_code == 0


@pytest.mark.skipif(not shutil.which("cmake"), reason="cmake is not installed")
def test_cmake_toolchain_file(tmp_path):
    root = Path(__file__).resolve().parents[1]
    write(tmp_path / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(demo C)\n"
          "add_executable(demo demo.c)\n")
    write(tmp_path / "demo.c", '#include "pmsis.h"\nint main(void) { printf("%d %.1f\\n", NUM_CORES, 0.5); '
          "return 0; }\n")
    iss = Path(sys.executable).parent / "iss"
    subprocess.run(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build"),
                    f"-DCMAKE_TOOLCHAIN_FILE={root / 'examples' / 'cmake' / 'iss-toolchain.cmake'}",
                    f"-DISS={iss}", "-DISS_CORES=2"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(tmp_path / "build")], check=True, capture_output=True)
    r = Cluster(tmp_path / "build" / "demo", Config.load(None, cluster={"cores": 2})).run()
    assert r.stdout == ["2 0.5"]


def test_preprocess_and_assembly_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = write(tmp_path / "k.c", '#include "pmsis.h"\n#define TWICE(x) (2 * (x))\n'
                "int k(v4u a, v4s b) { return __builtin_pulp_sdotusp4(a, b, TWICE(3)); }\n")
    assert iss_cc("-E", src) == 0
    assert "(2 * (3))" in (tmp_path / "k.i").read_text()
    assert iss_cc("-S", src, "-O2", "-o", tmp_path / "k.asm") == 0
    assert "cv.sdotusp.b" in (tmp_path / "k.asm").read_text()


def test_plain_rv32imc_build_with_pmsis(tmp_path):
    """`iss cc --no-corev` (plain RV32IMC, e.g. bench_sim's bare-Unicorn kernel)
    still builds the runtime and a pmsis.h program: the PULP builtins, which are
    CORE-V instructions, are left out of such a build instead of failing it."""
    src = write(tmp_path / "p.c", '#include "pmsis.h"\nint main(void) { printf("%d\\n", pi_core_id() + 41); '
                "return 0; }\n")
    assert iss_cc(src, "--no-corev", "-o", tmp_path / "p.elf") == 0
    r = Cluster(tmp_path / "p.elf").run()
    assert (r.exit_code, r.stdout[:1]) == (0, ["41"])
