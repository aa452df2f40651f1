"""What `pip install` ships: every package under iss/ and the firmware runtime."""
from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def listed_packages() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


def test_every_package_is_listed():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "iss").rglob("__init__.py")}
    missing = found - listed_packages()
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


@pytest.mark.slow
def test_wheel_contains_runtime_toolchain_and_native_sources(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("iss-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in ("iss/runtime/crt0.S", "iss/runtime/link.ld", "iss/runtime/include/pmsis.h",
                 "iss/runtime/include/corev.h", "iss/toolchain/__init__.py", "iss/native/hart.c",
                 "iss/native/corev.c", "iss/pytest_plugin.py", "iss/firmware.py", "iss/runtime/libc/stdio.c", "iss/runtime/libc/math.zig",
                 "iss/runtime/libc/printf_double/float.h", "iss/runtime/include/hal/pulp.h"):
        assert must in names, must


@pytest.mark.slow
def test_installed_wheel_runs_the_bottleneck_study_outside_the_repository(tmp_path):
    """The studies compile firmware/apps and firmware/kernels: a wheel must ship
    them (as iss.apps, iss.kernels) and build them away from any checkout."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("iss-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    r = subprocess.run([str(venv / "bin" / "iss"), "bench", "bottleneck", "--shape", "8,8,16,6,16,1",
                        "--no-energy"], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "bit-exact" in r.stdout or "hetero" in r.stdout, r.stdout
    # built firmware went to the user's cache, not into site-packages or the cwd
    assert list((tmp_path / "home" / ".cache" / "iss" / "study").glob("bottleneck_*.elf"))
