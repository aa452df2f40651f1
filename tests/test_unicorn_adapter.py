"""Unicorn's internals are used in one module, which checks the version they
were read from: another Unicorn fails at import with one clear line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_only_the_adapter_touches_unicorn_internals():
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "iss").rglob("*.py")
                   if any(s in p.read_text() for s in ("._uch", "uclib", "unicorn_py3", "._callbacks")))
    assert users == ["iss/unicorn_adapter.py"]


def test_another_unicorn_version_is_refused_at_import():
    code = "import unicorn; unicorn.__version__ = '2.0.0'; import iss.cluster"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: iss needs unicorn==2.1.4") and "unicorn 2.0.0 is installed" in last
