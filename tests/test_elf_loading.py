"""Loading firmware: symbols, segments and code placement (iss/elf.py, the code image)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from iss.elf import Program


def _readelf_symbols(path) -> dict:
    """name -> (addr, size, kind) as binutils' readelf lists them, with the rules
    Program documents: functions, objects and untyped labels that are defined,
    named, and neither mapping symbols ($x, $d) nor local labels (.L*); a typed
    definition wins over an untyped one of the same name."""
    text = subprocess.run(["readelf", "-sW", str(path)], capture_output=True, text=True, check=True).stdout
    out: dict = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(":") or not f[0][:-1].isdigit():
            continue
        value, size, typ, ndx, name = f[1], f[2], f[3], f[6], f[7]
        if typ not in ("FUNC", "OBJECT", "NOTYPE") or ndx == "UND" or name.startswith(("$", ".L")):
            continue
        kind = {"FUNC": "func", "OBJECT": "object"}.get(typ, "notype")
        prev = out.get(name)
        if prev is None or (prev[2] == "notype" and kind != "notype"):
            out[name] = (int(value, 16), int(size, 0), kind)
    return out


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils' readelf")
@pytest.mark.parametrize("name", ["spine_hello", "pulp_nn_like"])
def test_symbols_as_readelf_lists_them(fw, name):
    path = fw(name)
    prog = Program(path)
    want = _readelf_symbols(path)
    assert len(want) > 20
    assert {n: (s.addr, s.size, s.kind) for n, s in prog.symbols.items()} == want
